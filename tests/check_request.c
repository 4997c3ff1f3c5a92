/*
 * Wire protocol (common/protocol.c): request frames (HELLO, LIST, STATUS,
 * RELOAD, OPEN): round trips through the encoders, and hand-forged frames the
 * service must refuse; section names. Every byte a decoder sees comes from a
 * peer we do not trust, so besides round trips through the real encoders these
 * tests forge frames by hand. Split from check_protocol.c.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "protocol_util.h"

/* ---- requests ----------------------------------------------------------- */

START_TEST(test_request_hello_request_round_trip) {
  uint8_t *f;
  size_t len;
  shmb_frame_header h;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_hello(0xDEADBEEFu, 1, 7, &f, &len), 0);
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_REQUEST_PAYLOAD, &h), 0);
  ck_assert_uint_eq(h.length, 4);
  ck_assert_int_eq(decode_exact(f, len, &req), 0);
  ck_assert_uint_eq(req.hdr.opcode, SHMB_OP_HELLO);
  ck_assert_uint_eq(req.hdr.request_id, 0xDEADBEEFu);
  ck_assert_uint_eq(req.min_version, 1);
  ck_assert_uint_eq(req.max_version, 7);
  free(f);
  ck_assert_int_eq(shmb_encode_hello(2, 3, 3, &f, &len), 0);
  ck_assert_int_eq(decode_exact(f, len, &req), 0);
  ck_assert_uint_eq(req.min_version, 3);
  ck_assert_uint_eq(req.max_version, 3);
  free(f);
}
END_TEST

START_TEST(test_request_list_and_status_requests_round_trip) {
  uint8_t *f;
  size_t len;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_list(41, &f, &len), 0);
  ck_assert_uint_eq(len, SHMB_HEADER_SIZE);
  ck_assert_int_eq(decode_exact(f, len, &req), 0);
  ck_assert_uint_eq(req.hdr.opcode, SHMB_OP_LIST);
  ck_assert_uint_eq(req.hdr.request_id, 41);
  ck_assert_uint_eq(req.hdr.length, 0);
  free(f);
  ck_assert_int_eq(shmb_encode_status(42, &f, &len), 0);
  ck_assert_uint_eq(len, SHMB_HEADER_SIZE);
  ck_assert_int_eq(decode_exact(f, len, &req), 0);
  ck_assert_uint_eq(req.hdr.opcode, SHMB_OP_STATUS);
  ck_assert_uint_eq(req.hdr.request_id, 42);
  free(f);
}
END_TEST

START_TEST(test_request_open_request_round_trip) {
  static const uint32_t access[] = {
      SHMB_WIRE_ACCESS_READ, SHMB_WIRE_ACCESS_WRITE,
      SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE};
  for (size_t i = 0; i < 3; i++) {
    uint8_t *f;
    size_t len;
    shmb_request req;
    ck_assert_int_eq(shmb_encode_open(100 + (uint32_t)i, "cam-0.frames_A",
                                      access[i], &f, &len),
                     0);
    ck_assert_uint_eq(len, SHMB_HEADER_SIZE + 8 + 14);
    /* access u32, reserved u16, name_len u16, name */
    ck_assert_uint_eq(f[16], access[i]);
    ck_assert_uint_eq(f[17] | f[18] | f[19] | f[20] | f[21], 0);
    ck_assert_uint_eq(f[22], 14);
    ck_assert_uint_eq(f[23], 0);
    ck_assert_mem_eq(f + 24, "cam-0.frames_A", 14);
    ck_assert_int_eq(decode_exact(f, len, &req), 0);
    ck_assert_uint_eq(req.hdr.opcode, SHMB_OP_OPEN);
    ck_assert_uint_eq(req.hdr.request_id, 100 + i);
    ck_assert_uint_eq(req.access, access[i]);
    ck_assert_str_eq(req.name, "cam-0.frames_A");
    free(f);
  }
}
END_TEST

START_TEST(test_request_doorbell_wait_or_ring) {
  /* DOORBELL has OPEN's layout; its access is exactly wait or ring. */
  static const uint32_t ok[] = {SHMB_WIRE_ACCESS_READ, SHMB_WIRE_ACCESS_WRITE};
  uint8_t *f;
  size_t len;
  shmb_request req;
  for (size_t i = 0; i < 2; i++) {
    ck_assert_int_eq(shmb_encode_doorbell(7, "bell", ok[i], &f, &len), 0);
    ck_assert_uint_eq(f[5], SHMB_OP_DOORBELL);
    ck_assert_int_eq(decode_exact(f, len, &req), 0);
    ck_assert_uint_eq(req.hdr.opcode, SHMB_OP_DOORBELL);
    ck_assert_uint_eq(req.access, ok[i]);
    ck_assert_str_eq(req.name, "bell");
    free(f);
  }
  ck_assert_int_eq(shmb_encode_doorbell(7, "bell", SHMB_WIRE_ACCESS_MASK, &f,
                                        &len), 0);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EINVAL);
  free(f);
  ck_assert_int_eq(shmb_encode_doorbell(7, "bell", 0, &f, &len), 0);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EINVAL);
  free(f);
  ck_assert_int_eq(shmb_encode_doorbell(7, "be ll", 1, &f, &len),
                   SHMB_EBADNAME);
}
END_TEST

START_TEST(test_request_peers_ring_only) {
  /* PEERS: OPEN's layout, then since; a ringer's request only. */
  uint8_t *f;
  size_t len;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_peers(9, "bell", 0x1122334455667788ull, &f,
                                     &len), 0);
  ck_assert_uint_eq(f[5], SHMB_OP_PEERS);
  ck_assert_int_eq(decode_exact(f, len, &req), 0);
  ck_assert_uint_eq(req.access, SHMB_WIRE_ACCESS_WRITE);
  ck_assert_str_eq(req.name, "bell");
  ck_assert_uint_eq(req.since, 0x1122334455667788ull);
  /* Without since, or as a waiter's request: refused. */
  ck_assert_int_eq(decode_exact(f, len - 8, &req), SHMB_EPROTO);
  f[SHMB_HEADER_SIZE] = SHMB_WIRE_ACCESS_READ;
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EINVAL);
  free(f);
}
END_TEST

START_TEST(test_request_open_name_length_limit) {
  char name[SHMB_NAME_MAX + 2];
  uint8_t *f;
  size_t len;
  shmb_request req;
  memset(name, 'n', sizeof(name) - 1);
  name[SHMB_NAME_MAX] = '\0';
  ck_assert_int_eq(shmb_encode_open(1, name, 1, &f, &len), 0);
  ck_assert_int_eq(decode_exact(f, len, &req), 0);
  ck_assert_str_eq(req.name, name);
  free(f);
  name[SHMB_NAME_MAX] = 'n';
  name[SHMB_NAME_MAX + 1] = '\0';
  f = NULL;
  ck_assert_int_eq(shmb_encode_open(1, name, 1, &f, &len), SHMB_EBADNAME);
  ck_assert_ptr_null(f);
  ck_assert_int_eq(decode_forged_open(1, name, SHMB_NAME_MAX + 1),
                   SHMB_EBADNAME);
}
END_TEST

START_TEST(test_request_encode_open_rejects_bad_names) {
  static const char *const bad[] = {"",     "a b",         "a/b",
                                    "a\\b", "caf\xc3\xa9", "tab\there",
                                    "x:y",  "semi;colon"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t *f = NULL;
    size_t len;
    ck_assert_int_eq(shmb_encode_open(1, bad[i], 1, &f, &len), SHMB_EBADNAME);
    ck_assert_ptr_null(f);
  }
}
END_TEST

START_TEST(test_request_decode_open_rejects_bad_names) {
  ck_assert_int_eq(decode_forged_open(1, "", 0), SHMB_EBADNAME);
  ck_assert_int_eq(decode_forged_open(1, "ab\0cd", 5), SHMB_EBADNAME);
  ck_assert_int_eq(decode_forged_open(1, "\0", 1), SHMB_EBADNAME);
  ck_assert_int_eq(decode_forged_open(1, "caf\xc3\xa9", 5), SHMB_EBADNAME);
  ck_assert_int_eq(decode_forged_open(1, "\xff", 1), SHMB_EBADNAME);
  ck_assert_int_eq(decode_forged_open(1, "two words", 9), SHMB_EBADNAME);
  ck_assert_int_eq(decode_forged_open(1, "..\\x", 4), SHMB_EBADNAME);
  /* The same forging path accepts a good name, so the above are real. */
  ck_assert_int_eq(decode_forged_open(1, "good", 4), 0);
}
END_TEST

START_TEST(test_request_decode_open_rejects_bad_access) {
  static const uint32_t bad[] = {0, 4, 5, 8, 0x7, 0x80000001u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_int_eq(decode_forged_open(bad[i], "telemetry", 9), SHMB_EINVAL);
  ck_assert_int_eq(decode_forged_open(3, "telemetry", 9), 0);
}
END_TEST

START_TEST(test_request_decode_rejects_reserved_fields) {
  shmb_frame_buf b;
  shmb_request req;
  uint8_t *f;
  size_t len;
  f = forge_open(1, 1, 9, "telemetry", 9, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  f = forge_open(1, 0x8000, 9, "telemetry", 9, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  forge_begin(&b, SHMB_OP_HELLO);
  shmb_put_u8(&b, 1);
  shmb_put_u8(&b, 1);
  shmb_put_u16(&b, 0x0100);
  f = forge_end(&b, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
}
END_TEST

START_TEST(test_request_hello_min_above_max) {
  uint8_t *f;
  size_t len;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_hello(1, 2, 1, &f, &len), 0);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  ck_assert_int_eq(shmb_encode_hello(1, 255, 0, &f, &len), 0);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
}
END_TEST

START_TEST(test_request_decode_rejects_unknown_opcode) {
  static const uint8_t bad[] = {0x00,          0x08,
                                0x10,          SHMB_OP_ERROR,
                                SHMB_OP_REPLY, SHMB_OP_OPEN | SHMB_OP_REPLY,
                                0xff};
  for (size_t i = 0; i < sizeof(bad); i++) {
    shmb_frame_buf b;
    shmb_request req;
    uint8_t *f;
    size_t len;
    forge_begin(&b, bad[i]);
    f = forge_end(&b, &len);
    ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EOPCODE);
    free(f);
  }
}
END_TEST

START_TEST(test_request_decode_rejects_trailing_bytes) {
  shmb_frame_buf b;
  shmb_request req;
  uint8_t *f, *longer;
  size_t len;
  /* HELLO with five payload bytes. */
  forge_begin(&b, SHMB_OP_HELLO);
  shmb_put_u32(&b, 0x00000101u);
  shmb_put_u8(&b, 0);
  f = forge_end(&b, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  /* LIST and STATUS take no payload at all. */
  forge_begin(&b, SHMB_OP_LIST);
  shmb_put_u8(&b, 0);
  f = forge_end(&b, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  forge_begin(&b, SHMB_OP_STATUS);
  shmb_put_u32(&b, 0);
  f = forge_end(&b, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  /* OPEN with a byte after the name. */
  f = forge_open(1, 0, 9, "telemetryX", 10, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  /* A buffer longer than the frame it holds is not one frame. */
  ck_assert_int_eq(shmb_encode_list(1, &f, &len), 0);
  longer = calloc(1, len + 1);
  ck_assert_ptr_nonnull(longer);
  memcpy(longer, f, len);
  ck_assert_int_eq(decode_exact(longer, len + 1, &req), SHMB_EPROTO);
  free(longer);
  free(f);
}
END_TEST

START_TEST(test_request_decode_rejects_truncated_payload) {
  shmb_frame_buf b;
  shmb_request req;
  uint8_t *f;
  size_t len;
  forge_begin(&b, SHMB_OP_HELLO);
  shmb_put_u8(&b, 1);
  shmb_put_u8(&b, 1);
  shmb_put_u8(&b, 0);
  f = forge_end(&b, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  /* name_len says 10, nine bytes follow. */
  f = forge_open(1, 0, 10, "telemetry", 9, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
  /* The fixed part itself cut short. */
  forge_begin(&b, SHMB_OP_OPEN);
  shmb_put_u32(&b, 1);
  shmb_put_u16(&b, 0);
  shmb_put_u8(&b, 0);
  f = forge_end(&b, &len);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  free(f);
}
END_TEST

/* Every prefix of a valid frame: peek must ask for exactly the missing
 * bytes, decode must refuse, and a header patched to claim the prefix's
 * payload length must be refused as well (decoded, never read past). */
static void check_every_prefix(const uint8_t *f, size_t len) {
  for (size_t n = 0; n < len; n++) {
    shmb_frame_header h;
    shmb_request req;
    uint8_t *copy = dup_bytes(f, n);
    int want =
        n < SHMB_HEADER_SIZE ? (int)(SHMB_HEADER_SIZE - n) : (int)(len - n);
    ck_assert_int_eq(shmb_frame_peek(copy, n, SHMB_MAX_REQUEST_PAYLOAD, &h),
                     want);
    ck_assert_int_lt(shmb_request_decode(copy, n, &req), 0);
    if (n >= SHMB_HEADER_SIZE) {
      set_u32(copy + 12, (uint32_t)(n - SHMB_HEADER_SIZE));
      ck_assert_int_eq(shmb_frame_peek(copy, n, SHMB_MAX_REQUEST_PAYLOAD, &h),
                       0);
      ck_assert_int_lt(shmb_request_decode(copy, n, &req), 0);
    }
    free(copy);
  }
}

START_TEST(test_request_open_every_prefix_refused) {
  uint8_t *f;
  size_t len;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_open(9, "telemetry", 3, &f, &len), 0);
  ck_assert_int_eq(decode_exact(f, len, &req), 0);
  check_every_prefix(f, len);
  free(f);
  ck_assert_int_eq(shmb_encode_hello(9, 1, 1, &f, &len), 0);
  check_every_prefix(f, len);
  free(f);
}
END_TEST

/* ---- section names ------------------------------------------------------ */

START_TEST(test_request_name_valid) {
  char name[SHMB_NAME_MAX + 1];
  ck_assert(shmb_name_valid("a", 1));
  ck_assert(shmb_name_valid("AZaz09._-", 9));
  ck_assert(!shmb_name_valid("", 0));
  ck_assert(!shmb_name_valid("a b", 3));
  ck_assert(!shmb_name_valid("a\0", 2));
  ck_assert(!shmb_name_valid("a+b", 3));
  ck_assert(!shmb_name_valid("\x80", 1));
  /* Only len bytes are looked at. */
  ck_assert(shmb_name_valid("ab cd", 2));
  memset(name, 'x', sizeof(name));
  ck_assert(shmb_name_valid(name, SHMB_NAME_MAX));
  ck_assert(!shmb_name_valid(name, SHMB_NAME_MAX + 1));
}
END_TEST

/* One name for each access, shared by the service's log and shmbctl. */
START_TEST(test_request_access_names) {
  ck_assert_str_eq(shmb__access_name(SHMB_WIRE_ACCESS_READ), "read");
  ck_assert_str_eq(shmb__access_name(SHMB_WIRE_ACCESS_WRITE), "write");
  ck_assert_str_eq(shmb__access_name(SHMB_WIRE_ACCESS_READ |
                                     SHMB_WIRE_ACCESS_WRITE),
                   "read,write");
  ck_assert_str_eq(shmb__access_name(0), "none");
  ck_assert_str_eq(shmb__access_name(0x4), "none");
  ck_assert_str_eq(shmb__access_name(0x5), "read");
}
END_TEST

/* A refused name says what is wrong with it, for the one who typed it. */
START_TEST(test_request_name_check_says_why) {
  char err[256];
  char longname[SHMB_NAME_MAX + 2];
  ck_assert_int_eq(shmb__name_check("counter", 7, err, sizeof(err)), 0);
  ck_assert_int_eq(shmb__name_check("counter ", 8, err, sizeof(err)),
                   SHMB_EBADNAME);
  ck_assert_str_eq(err, "'counter ' has ' ' (0x20) at position 8, which is "
                        "not allowed; names are 1 to 64 characters of A-Z "
                        "a-z 0-9 . _ -, and case matters");
  ck_assert_int_eq(shmb__name_check("a/b", 3, err, sizeof(err)),
                   SHMB_EBADNAME);
  ck_assert_ptr_nonnull(strstr(err, "'/' (0x2f) at position 2"));
  ck_assert_int_eq(shmb__name_check("caf\xc3\xa9", 5, err, sizeof(err)),
                   SHMB_EBADNAME);
  ck_assert_ptr_nonnull(strstr(err, "the byte 0xc3 at position 4"));
  ck_assert_int_eq(shmb__name_check("", 0, err, sizeof(err)), SHMB_EBADNAME);
  ck_assert_ptr_nonnull(strstr(err, "empty"));
  memset(longname, 'x', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  ck_assert_int_eq(shmb__name_check(longname, SHMB_NAME_MAX + 1, err,
                                    sizeof(err)),
                   SHMB_EBADNAME);
  ck_assert_ptr_nonnull(strstr(err, "65 characters long"));
  /* No buffer: only the code. */
  ck_assert_int_eq(shmb__name_check(" ", 1, NULL, 0), SHMB_EBADNAME);
}
END_TEST

/* Near misses find the name meant; far ones find nothing. */
START_TEST(test_request_closest_name) {
  static const char *const names[] = {"counter", "telemetry", "scratch",
                                      "ab"};
  ck_assert_str_eq(shmb__closest_name("Counter", names, 4), "counter");
  ck_assert_str_eq(shmb__closest_name("COUNTER", names, 4), "counter");
  ck_assert_str_eq(shmb__closest_name("countr", names, 4), "counter");
  ck_assert_str_eq(shmb__closest_name("cuonter", names, 4), "counter");
  ck_assert_str_eq(shmb__closest_name("telemtry", names, 4), "telemetry");
  ck_assert_str_eq(shmb__closest_name("AB", names, 4), "ab");
  ck_assert_ptr_null(shmb__closest_name("cd", names, 4));
  ck_assert_ptr_null(shmb__closest_name("xyzzy", names, 4));
  ck_assert_str_eq(shmb__closest_name("count", names, 4), "counter");
  ck_assert_ptr_null(shmb__closest_name("cnt", names, 4));
  ck_assert_ptr_null(shmb__closest_name("", names, 4));
  ck_assert_ptr_null(shmb__closest_name("counter", names, 0));
}
END_TEST

Suite *request_suite(void) {
  Suite *s = suite_create("request");
  TCase *tc = tcase_create("request");

  tcase_add_test(tc, test_request_hello_request_round_trip);
  tcase_add_test(tc, test_request_list_and_status_requests_round_trip);
  tcase_add_test(tc, test_request_open_request_round_trip);
  tcase_add_test(tc, test_request_open_name_length_limit);
  tcase_add_test(tc, test_request_encode_open_rejects_bad_names);
  tcase_add_test(tc, test_request_decode_open_rejects_bad_names);
  tcase_add_test(tc, test_request_decode_open_rejects_bad_access);
  tcase_add_test(tc, test_request_decode_rejects_reserved_fields);
  tcase_add_test(tc, test_request_hello_min_above_max);
  tcase_add_test(tc, test_request_decode_rejects_unknown_opcode);
  tcase_add_test(tc, test_request_doorbell_wait_or_ring);
  tcase_add_test(tc, test_request_peers_ring_only);
  tcase_add_test(tc, test_request_decode_rejects_trailing_bytes);
  tcase_add_test(tc, test_request_decode_rejects_truncated_payload);
  tcase_add_test(tc, test_request_open_every_prefix_refused);
  tcase_add_test(tc, test_request_name_valid);
  tcase_add_test(tc, test_request_access_names);
  tcase_add_test(tc, test_request_name_check_says_why);
  tcase_add_test(tc, test_request_closest_name);
  suite_add_tcase(s, tc);
  return s;
}
