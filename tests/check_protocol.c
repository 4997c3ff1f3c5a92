/*
 * Tests for the wire protocol (common/protocol.c). Every byte the decoders
 * see comes from a peer we do not trust, so besides round trips through the
 * real encoders this suite forges frames by hand: bad headers, lengths that
 * do not add up, reserved fields set, names the service must never accept,
 * counts that promise more than the payload holds, and every prefix of a
 * valid frame. Decoded values are compared field by field, and frames under
 * test are copied into buffers of their exact size so that a sanitizer build
 * catches any read past the end.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"

/* ---- helpers ------------------------------------------------------------ */

static void set_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void set_u32(uint8_t *p, uint32_t v) {
  set_u16(p, (uint16_t)v);
  set_u16(p + 2, (uint16_t)(v >> 16));
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  ck_assert_ptr_nonnull(d);
  if (n)
    memcpy(d, p, n);
  return d;
}

/* Decodes a request from a heap copy of exactly len bytes. */
static int decode_exact(const uint8_t *frame, size_t len, shmb_request *req) {
  uint8_t *copy = dup_bytes(frame, len);
  int rc = shmb_request_decode(copy, len, req);
  free(copy);
  return rc;
}

/* Peeks at a whole frame and checks its header; returns the payload. */
static const uint8_t *payload_of(const uint8_t *f, size_t len, unsigned opcode,
                                 uint32_t id, size_t *plen) {
  shmb_frame_header h;
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h), 0);
  ck_assert_uint_eq(h.magic, SHMB_PROTO_MAGIC);
  ck_assert_uint_eq(h.version, SHMB_PROTO_VERSION);
  ck_assert_uint_eq(h.opcode, opcode);
  ck_assert_uint_eq(h.flags, 0);
  ck_assert_uint_eq(h.request_id, id);
  ck_assert_uint_eq(len, SHMB_HEADER_SIZE + (size_t)h.length);
  *plen = h.length;
  return f + SHMB_HEADER_SIZE;
}

static void assert_str(shmb_str s, const char *want) {
  ck_assert_uint_eq(s.len, strlen(want));
  if (s.len)
    ck_assert_mem_eq(s.ptr, want, s.len);
}

/* A hand-made frame: the builder's header and whatever payload the test
 * writes next with shmb_put_*. Finish with forge_end. */
static void forge_begin(shmb_frame_buf *b, uint8_t opcode) {
  shmb_frame_begin(b, opcode, 1);
}

static uint8_t *forge_end(shmb_frame_buf *b, size_t *len) {
  ck_assert_int_eq(shmb_frame_end(b), 0);
  *len = b->len;
  return b->data;
}

/* An OPEN request with every field chosen by the caller: name_len may
 * disagree with the nbytes of name that follow. */
static uint8_t *forge_open(uint32_t access, uint16_t reserved, uint16_t name_len,
                           const char *name, size_t nbytes, size_t *len) {
  shmb_frame_buf b;
  forge_begin(&b, SHMB_OP_OPEN);
  shmb_put_u32(&b, access);
  shmb_put_u16(&b, reserved);
  shmb_put_u16(&b, name_len);
  shmb_put_bytes(&b, name, nbytes);
  return forge_end(&b, len);
}

static int decode_forged_open(uint32_t access, const char *name, size_t n) {
  shmb_request req;
  size_t len;
  uint8_t *f = forge_open(access, 0, (uint16_t)n, name, n, &len);
  int rc = decode_exact(f, len, &req);
  free(f);
  return rc;
}

/* Reply payloads are forged the same way; these give the part after the
 * header of a builder that has not been ended. */
static const uint8_t *pl(const shmb_frame_buf *b) {
  return b->data + SHMB_HEADER_SIZE;
}
static size_t pllen(const shmb_frame_buf *b) {
  return b->len - SHMB_HEADER_SIZE;
}

static int reply_code_exact(const uint8_t *p, size_t n, char *msg,
                            size_t msglen) {
  uint8_t *copy = dup_bytes(p, n);
  int rc = shmb_reply_status_code(copy, n, msg, msglen);
  free(copy);
  return rc;
}

/* ---- headers and framing ------------------------------------------------ */

START_TEST(test_protocol_header_layout_on_wire) {
  static const uint8_t want[] = {'S',  'H',  'M',  'B',  0x01, 0x01, 0x00,
                                 0x00, 0x44, 0x33, 0x22, 0x11, 0x04, 0x00,
                                 0x00, 0x00, 0x01, 0x02, 0x00, 0x00};
  uint8_t *f;
  size_t len;
  ck_assert_int_eq(shmb_encode_hello(0x11223344u, 1, 2, &f, &len), 0);
  ck_assert_uint_eq(len, sizeof(want));
  ck_assert_mem_eq(f, want, sizeof(want));
  free(f);
}
END_TEST

START_TEST(test_protocol_peek_partial_header_counts_missing) {
  uint8_t *f;
  size_t len;
  shmb_frame_header h;
  ck_assert_int_eq(shmb_encode_open(3, "telemetry", 1, &f, &len), 0);
  for (size_t n = 0; n < SHMB_HEADER_SIZE; n++)
    ck_assert_int_eq(shmb_frame_peek(f, n, SHMB_MAX_PAYLOAD, &h),
                     (int)(SHMB_HEADER_SIZE - n));
  free(f);
}
END_TEST

START_TEST(test_protocol_peek_partial_payload_counts_missing) {
  uint8_t *f, *two;
  size_t len;
  shmb_frame_header h;
  ck_assert_int_eq(shmb_encode_open(3, "telemetry", 1, &f, &len), 0);
  ck_assert_uint_eq(len, SHMB_HEADER_SIZE + 8 + 9);
  for (size_t n = SHMB_HEADER_SIZE; n < len; n++) {
    memset(&h, 0xAA, sizeof(h));
    ck_assert_int_eq(shmb_frame_peek(f, n, SHMB_MAX_REQUEST_PAYLOAD, &h),
                     (int)(len - n));
    ck_assert_uint_eq(h.length, 17);
    ck_assert_uint_eq(h.request_id, 3);
  }
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_REQUEST_PAYLOAD, &h), 0);
  /* A second frame behind the first does not disturb the first. */
  two = malloc(2 * len);
  ck_assert_ptr_nonnull(two);
  memcpy(two, f, len);
  memcpy(two + len, f, len);
  ck_assert_int_eq(shmb_frame_peek(two, 2 * len, SHMB_MAX_PAYLOAD, &h), 0);
  ck_assert_uint_eq(h.length, 17);
  free(two);
  free(f);
}
END_TEST

START_TEST(test_protocol_peek_rejects_bad_magic) {
  uint8_t *f;
  size_t len;
  shmb_frame_header h;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_list(1, &f, &len), 0);
  f[0] = 's';
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h), SHMB_EPROTO);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  f[0] = 'S';
  f[3] = 'b';
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h), SHMB_EPROTO);
  free(f);
}
END_TEST

START_TEST(test_protocol_peek_rejects_nonzero_flags) {
  uint8_t *f;
  size_t len;
  shmb_frame_header h;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_status(1, &f, &len), 0);
  for (int bit = 0; bit < 16; bit++) {
    set_u16(f + 6, (uint16_t)(1u << bit));
    ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h),
                     SHMB_EPROTO);
    ck_assert_uint_eq(h.flags, 1u << bit);
    ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EPROTO);
  }
  free(f);
}
END_TEST

START_TEST(test_protocol_peek_rejects_wrong_version) {
  static const uint8_t bad[] = {0, 2, 3, 0x80, 0xff};
  uint8_t *f;
  size_t len;
  shmb_frame_header h;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_hello(1, 1, 1, &f, &len), 0);
  for (size_t i = 0; i < sizeof(bad); i++) {
    f[4] = bad[i];
    ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h),
                     SHMB_EVERSION);
    ck_assert_uint_eq(h.version, bad[i]);
    ck_assert_int_eq(decode_exact(f, len, &req), SHMB_EVERSION);
  }
  free(f);
}
END_TEST

START_TEST(test_protocol_peek_rejects_oversized_length) {
  uint8_t *f;
  size_t len;
  shmb_frame_header h;
  shmb_request req;
  ck_assert_int_eq(shmb_encode_list(1, &f, &len), 0);
  ck_assert_uint_eq(len, SHMB_HEADER_SIZE);
  /* Refused from the header alone, before any payload arrives. */
  set_u32(f + 12, SHMB_MAX_REQUEST_PAYLOAD + 1);
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_REQUEST_PAYLOAD, &h),
                   SHMB_ETOOBIG);
  ck_assert_uint_eq(h.length, SHMB_MAX_REQUEST_PAYLOAD + 1);
  set_u32(f + 12, SHMB_MAX_REQUEST_PAYLOAD);
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_REQUEST_PAYLOAD, &h),
                   (int)SHMB_MAX_REQUEST_PAYLOAD);
  set_u32(f + 12, SHMB_MAX_PAYLOAD + 1);
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h),
                   SHMB_ETOOBIG);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_ETOOBIG);
  /* Whatever the caller allows, no frame exceeds SHMB_MAX_FRAME, and the
   * missing count can never turn negative. */
  set_u32(f + 12, 0xFFFFFFFFu);
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h),
                   SHMB_ETOOBIG);
  ck_assert_int_eq(shmb_frame_peek(f, len, SIZE_MAX, &h), SHMB_ETOOBIG);
  set_u32(f + 12, 0x80000000u);
  ck_assert_int_eq(shmb_frame_peek(f, len, SIZE_MAX, &h), SHMB_ETOOBIG);
  free(f);
}
END_TEST

/* ---- requests ----------------------------------------------------------- */

START_TEST(test_protocol_hello_request_round_trip) {
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

START_TEST(test_protocol_list_and_status_requests_round_trip) {
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

START_TEST(test_protocol_open_request_round_trip) {
  static const uint32_t access[] = {SHMB_WIRE_ACCESS_READ,
                                    SHMB_WIRE_ACCESS_WRITE,
                                    SHMB_WIRE_ACCESS_READ |
                                        SHMB_WIRE_ACCESS_WRITE};
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

START_TEST(test_protocol_open_name_length_limit) {
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

START_TEST(test_protocol_encode_open_rejects_bad_names) {
  static const char *const bad[] = {"", "a b", "a/b", "a\\b", "caf\xc3\xa9",
                                    "tab\there", "x:y", "semi;colon"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t *f = NULL;
    size_t len;
    ck_assert_int_eq(shmb_encode_open(1, bad[i], 1, &f, &len), SHMB_EBADNAME);
    ck_assert_ptr_null(f);
  }
}
END_TEST

START_TEST(test_protocol_decode_open_rejects_bad_names) {
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

START_TEST(test_protocol_decode_open_rejects_bad_access) {
  static const uint32_t bad[] = {0, 4, 5, 8, 0x7, 0x80000001u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_int_eq(decode_forged_open(bad[i], "telemetry", 9), SHMB_EINVAL);
  ck_assert_int_eq(decode_forged_open(3, "telemetry", 9), 0);
}
END_TEST

START_TEST(test_protocol_decode_rejects_reserved_fields) {
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

START_TEST(test_protocol_hello_min_above_max) {
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

START_TEST(test_protocol_decode_rejects_unknown_opcode) {
  static const uint8_t bad[] = {0x00, 0x06, 0x10, SHMB_OP_ERROR,
                                SHMB_OP_REPLY,
                                SHMB_OP_OPEN | SHMB_OP_REPLY, 0xff};
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

START_TEST(test_protocol_decode_rejects_trailing_bytes) {
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

START_TEST(test_protocol_decode_rejects_truncated_payload) {
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
    int want = n < SHMB_HEADER_SIZE ? (int)(SHMB_HEADER_SIZE - n)
                                    : (int)(len - n);
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

START_TEST(test_protocol_open_every_prefix_refused) {
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

/* ---- replies ------------------------------------------------------------ */

START_TEST(test_protocol_hello_reply_round_trip) {
  static const char *const servers[] = {"shmbrokerd 0.1.0", ""};
  for (size_t i = 0; i < 2; i++) {
    uint8_t *f;
    size_t len, plen;
    const uint8_t *p;
    shmb_hello_reply r;
    ck_assert_int_eq(shmb_encode_hello_reply(77, 1, servers[i], &f, &len), 0);
    p = payload_of(f, len, SHMB_OP_HELLO | SHMB_OP_REPLY, 77, &plen);
    ck_assert_uint_eq(plen, 20 + strlen(servers[i]));
    memset(&r, 0xAA, sizeof(r));
    ck_assert_int_eq(shmb_hello_reply_decode(p, plen, &r), 0);
    ck_assert_uint_eq(r.version, 1);
    ck_assert_uint_eq(r.max_frame, SHMB_MAX_FRAME);
    assert_str(r.server, servers[i]);
    free(f);
  }
}
END_TEST

START_TEST(test_protocol_hello_reply_rejects_reserved_and_trailing) {
  uint8_t *f, *copy;
  size_t len, plen;
  const uint8_t *p;
  shmb_hello_reply r;
  ck_assert_int_eq(shmb_encode_hello_reply(1, 1, "srv", &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_HELLO | SHMB_OP_REPLY, 1, &plen);
  /* Each reserved byte: payload offsets 5-7, 14-15, 16-19. */
  static const size_t reserved[] = {5, 6, 7, 14, 15, 16, 17, 18, 19};
  for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
    copy = dup_bytes(p, plen);
    copy[reserved[i]] = 1;
    ck_assert_int_eq(shmb_hello_reply_decode(copy, plen, &r), SHMB_EPROTO);
    free(copy);
  }
  /* server_len one more, one less than the bytes present. */
  copy = dup_bytes(p, plen);
  copy[12] = 4;
  ck_assert_int_eq(shmb_hello_reply_decode(copy, plen, &r), SHMB_EPROTO);
  copy[12] = 2;
  ck_assert_int_eq(shmb_hello_reply_decode(copy, plen, &r), SHMB_EPROTO);
  free(copy);
  for (size_t n = 0; n < plen; n++) {
    copy = dup_bytes(p, n);
    ck_assert_int_eq(shmb_hello_reply_decode(copy, n, &r), SHMB_EPROTO);
    free(copy);
  }
  free(f);
}
END_TEST

START_TEST(test_protocol_open_reply_round_trip) {
  const char *object = "Global\\shmb-3f2a9c0e5b7d41a8b6c2d9e0f1a2b3c4";
  const uint64_t size = 0x123456789ABull;
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  shmb_open_reply r;
  ck_assert_int_eq(shmb_encode_open_reply(5, 3, size, object, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 5, &plen);
  ck_assert_uint_eq(plen, 24 + strlen(object));
  memset(&r, 0xAA, sizeof(r));
  ck_assert_int_eq(shmb_open_reply_decode(p, plen, &r), 0);
  ck_assert_uint_eq(r.access, 3);
  ck_assert_uint_eq(r.size, size);
  ck_assert_uint_eq(r.flags, 0);
  assert_str(r.object, object);
  free(f);
}
END_TEST

START_TEST(test_protocol_open_reply_object_limits) {
  char object[SHMB_OBJECT_NAME_MAX + 2];
  uint8_t *f = NULL;
  size_t len, plen;
  const uint8_t *p;
  shmb_open_reply r;
  ck_assert_int_eq(shmb_encode_open_reply(1, 1, 1, "", &f, &len), SHMB_EINVAL);
  memset(object, 'o', sizeof(object) - 1);
  object[sizeof(object) - 1] = '\0';
  ck_assert_int_eq(shmb_encode_open_reply(1, 1, 1, object, &f, &len),
                   SHMB_EINVAL);
  ck_assert_ptr_null(f);
  object[SHMB_OBJECT_NAME_MAX] = '\0';
  ck_assert_int_eq(shmb_encode_open_reply(1, 1, 1, object, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 1, &plen);
  ck_assert_int_eq(shmb_open_reply_decode(p, plen, &r), 0);
  assert_str(r.object, object);
  free(f);
}
END_TEST

/* An OPEN reply payload with chosen fields. */
static void forge_open_reply(shmb_frame_buf *b, uint32_t access,
                             uint16_t reserved, uint16_t olen,
                             const char *object, size_t nbytes) {
  forge_begin(b, SHMB_OP_OPEN | SHMB_OP_REPLY);
  shmb_put_u32(b, 0);
  shmb_put_u32(b, access);
  shmb_put_u64(b, 4096);
  shmb_put_u32(b, 0);
  shmb_put_u16(b, reserved);
  shmb_put_u16(b, olen);
  shmb_put_bytes(b, object, nbytes);
}

static int decode_forged_open_reply(uint32_t access, uint16_t reserved,
                                    uint16_t olen, const char *object,
                                    size_t nbytes) {
  shmb_frame_buf b;
  shmb_open_reply r;
  uint8_t *copy;
  int rc;
  forge_open_reply(&b, access, reserved, olen, object, nbytes);
  ck_assert_int_eq(b.err, 0);
  copy = dup_bytes(pl(&b), pllen(&b));
  rc = shmb_open_reply_decode(copy, pllen(&b), &r);
  free(copy);
  shmb_frame_discard(&b);
  return rc;
}

START_TEST(test_protocol_open_reply_rejects_bad_fields) {
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 3, "obj", 3), 0);
  ck_assert_int_eq(decode_forged_open_reply(0, 0, 3, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(4, 0, 3, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 2, 3, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 0, "", 0), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 3, "o\0j", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 4, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 2, "obj", 3), SHMB_EPROTO);
}
END_TEST

static void list_payload(shmb_frame_buf *b, const uint8_t **p, size_t *plen) {
  ck_assert_int_eq(shmb_frame_end(b), 0);
  *p = payload_of(b->data, b->len, SHMB_OP_LIST | SHMB_OP_REPLY, 12, plen);
}

START_TEST(test_protocol_list_reply_empty) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  const uint8_t *p;
  size_t plen;
  shmb_list_reply_start(&b, 12);
  list_payload(&b, &p, &plen);
  ck_assert_uint_eq(plen, 8);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_uint_eq(c.remaining, 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_protocol_list_reply_one_entry) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  const uint8_t *p;
  size_t plen;
  shmb_list_reply_start(&b, 12);
  shmb_list_reply_add(&b, "telemetry", 64ull << 20, SHMB_WIRE_ACCESS_READ);
  list_payload(&b, &p, &plen);
  ck_assert_uint_eq(plen, 8 + 16 + 9);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_uint_eq(c.remaining, 1);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  ck_assert_uint_eq(it.size, 64ull << 20);
  ck_assert_uint_eq(it.access, SHMB_WIRE_ACCESS_READ);
  assert_str(it.name, "telemetry");
  ck_assert_uint_eq(c.remaining, 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_protocol_list_entry_without_read_refused) {
  /* A LIST entry the caller could not even read cannot come from a correct
   * service: access 0 and write-only are malformed. */
  const uint32_t bad[] = {0, SHMB_WIRE_ACCESS_WRITE};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    shmb_frame_buf b;
    shmb_cursor c;
    shmb_list_item it;
    const uint8_t *p;
    size_t plen;
    shmb_list_reply_start(&b, 12);
    shmb_list_reply_add(&b, "sec", 4096, bad[i]);
    list_payload(&b, &p, &plen);
    ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
    ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
    shmb_frame_discard(&b);
  }
}
END_TEST

START_TEST(test_protocol_list_reply_many_entries) {
  enum { N = 300 };
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  const uint8_t *p;
  size_t plen;
  char name[32];
  shmb_list_reply_start(&b, 12);
  for (unsigned i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "sec-%03u", i);
    shmb_list_reply_add(&b, name, ((uint64_t)i << 33) + i + 1,
                        i % 2 ? SHMB_WIRE_ACCESS_READ
                              : SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
  }
  list_payload(&b, &p, &plen);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_uint_eq(c.remaining, N);
  for (unsigned i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "sec-%03u", i);
    ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
    ck_assert_uint_eq(it.size, ((uint64_t)i << 33) + i + 1);
    ck_assert_uint_eq(it.access, i % 2 ? SHMB_WIRE_ACCESS_READ
                                       : SHMB_WIRE_ACCESS_READ |
                                             SHMB_WIRE_ACCESS_WRITE);
    assert_str(it.name, name);
  }
  ck_assert_uint_eq(c.left, 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_protocol_list_reply_count_exceeds_entries) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  uint8_t *p;
  size_t plen;
  shmb_list_reply_start(&b, 12);
  shmb_list_reply_add(&b, "a", 1, 1);
  shmb_list_reply_add(&b, "b", 2, 3);
  ck_assert_int_eq(shmb_frame_end(&b), 0);
  plen = pllen(&b);
  p = dup_bytes(pl(&b), plen);
  set_u32(p + 4, 3);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  assert_str(it.name, "a");
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  assert_str(it.name, "b");
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  /* A count far past what the payload could hold. */
  set_u32(p + 4, 0xFFFFFFFFu);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_protocol_list_reply_rejects_trailing_bytes) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  uint8_t *p;
  /* count 0, then stray bytes */
  forge_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, 0);
  shmb_put_u8(&b, 0);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
  /* count 1, one entry, then stray bytes */
  shmb_list_reply_start(&b, 12);
  shmb_list_reply_add(&b, "a", 1, 1);
  shmb_put_u16(&b, 0);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
  /* count missing altogether */
  forge_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u16(&b, 0);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
}
END_TEST

static int decode_forged_list_entry(uint32_t access, uint16_t reserved,
                                    const char *name, size_t nlen) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  uint8_t *p;
  int rc;
  forge_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, 1);
  shmb_put_u64(&b, 1);
  shmb_put_u32(&b, access);
  shmb_put_u16(&b, reserved);
  shmb_put_u16(&b, (uint16_t)nlen);
  shmb_put_bytes(&b, name, nlen);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), 0);
  rc = shmb_list_reply_next(&c, &it);
  free(p);
  shmb_frame_discard(&b);
  return rc;
}

START_TEST(test_protocol_list_reply_rejects_bad_entry) {
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "ok", 2), 0);
  ck_assert_int_eq(decode_forged_list_entry(4, 0, "ok", 2), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 1, "ok", 2), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "", 0), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "o k", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "o\0k", 3), SHMB_EPROTO);
}
END_TEST

START_TEST(test_protocol_status_reply_round_trip) {
  static const char *const kv[][2] = {{"clients", "3"},
                                      {"sections", "12"},
                                      {"refused", ""},
                                      {"uptime_s", "86400"}};
  for (size_t n = 0; n <= 4; n++) {
    shmb_frame_buf b;
    shmb_cursor c;
    shmb_kv got;
    const uint8_t *p;
    size_t plen;
    shmb_status_reply_start(&b, 8);
    for (size_t i = 0; i < n; i++)
      shmb_status_reply_add(&b, kv[i][0], kv[i][1]);
    ck_assert_int_eq(shmb_frame_end(&b), 0);
    p = payload_of(b.data, b.len, SHMB_OP_STATUS | SHMB_OP_REPLY, 8, &plen);
    ck_assert_int_eq(shmb_status_reply_begin(p, plen, &c), 0);
    ck_assert_uint_eq(c.remaining, n);
    for (size_t i = 0; i < n; i++) {
      ck_assert_int_eq(shmb_status_reply_next(&c, &got), 0);
      assert_str(got.key, kv[i][0]);
      assert_str(got.value, kv[i][1]);
    }
    ck_assert_int_eq(shmb_status_reply_next(&c, &got), SHMB_EPROTO);
    shmb_frame_discard(&b);
  }
}
END_TEST

START_TEST(test_protocol_status_reply_rejects_malformed) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_kv kv;
  uint8_t *p;
  size_t plen;
  /* count says 2, one pair present */
  shmb_status_reply_start(&b, 8);
  shmb_status_reply_add(&b, "k", "v");
  plen = pllen(&b);
  p = dup_bytes(pl(&b), plen);
  set_u16(p + 6, 2);
  ck_assert_int_eq(shmb_status_reply_begin(p, plen, &c), 0);
  ck_assert_int_eq(shmb_status_reply_next(&c, &kv), 0);
  ck_assert_int_eq(shmb_status_reply_next(&c, &kv), SHMB_EPROTO);
  /* reserved field set */
  set_u16(p + 6, 1);
  set_u16(p + 4, 1);
  ck_assert_int_eq(shmb_status_reply_begin(p, plen, &c), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
  /* count 0 with stray bytes */
  shmb_status_reply_start(&b, 8);
  shmb_put_u8(&b, 'x');
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_status_reply_begin(p, pllen(&b), &c), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
  /* empty key, and a NUL inside a value */
  forge_begin(&b, SHMB_OP_STATUS | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u16(&b, 0);
  shmb_put_u16(&b, 1);
  shmb_put_u16(&b, 0);
  shmb_put_u16(&b, 1);
  shmb_put_u8(&b, 'v');
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_status_reply_begin(p, pllen(&b), &c), 0);
  ck_assert_int_eq(shmb_status_reply_next(&c, &kv), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
  forge_begin(&b, SHMB_OP_STATUS | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u16(&b, 0);
  shmb_put_u16(&b, 1);
  shmb_put_u16(&b, 1);
  shmb_put_u16(&b, 2);
  shmb_put_bytes(&b, "kv\0", 3);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_status_reply_begin(p, pllen(&b), &c), 0);
  ck_assert_int_eq(shmb_status_reply_next(&c, &kv), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(test_protocol_error_reply_round_trip) {
  const char *text = "access denied to section 'telemetry'";
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  char msg[128], small[8];
  shmb_hello_reply hr;
  shmb_open_reply orp;
  shmb_cursor c;
  ck_assert_int_eq(shmb_encode_error(SHMB_OP_OPEN | SHMB_OP_REPLY, 5,
                                     SHMB_EACCES, text, &f, &len),
                   0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 5, &plen);
  ck_assert_uint_eq(plen, 8 + strlen(text));
  ck_assert_int_eq(reply_code_exact(p, plen, msg, sizeof(msg)), SHMB_EACCES);
  ck_assert_str_eq(msg, text);
  ck_assert_int_eq(reply_code_exact(p, plen, small, sizeof(small)),
                   SHMB_EACCES);
  ck_assert_str_eq(small, "access ");
  ck_assert_int_eq(reply_code_exact(p, plen, NULL, 0), SHMB_EACCES);
  /* Whatever the opcode, a negative status comes back as is. */
  ck_assert_int_eq(shmb_open_reply_decode(p, plen, &orp), SHMB_EACCES);
  ck_assert_int_eq(shmb_hello_reply_decode(p, plen, &hr), SHMB_EACCES);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), SHMB_EACCES);
  ck_assert_int_eq(shmb_status_reply_begin(p, plen, &c), SHMB_EACCES);
  free(f);
  /* No message at all. */
  ck_assert_int_eq(shmb_encode_error(SHMB_OP_LIST | SHMB_OP_REPLY, 6,
                                     SHMB_ENOENT, NULL, &f, &len),
                   0);
  p = payload_of(f, len, SHMB_OP_LIST | SHMB_OP_REPLY, 6, &plen);
  ck_assert_uint_eq(plen, 8);
  strcpy(msg, "stale");
  ck_assert_int_eq(reply_code_exact(p, plen, msg, sizeof(msg)), SHMB_ENOENT);
  ck_assert_str_eq(msg, "");
  free(f);
}
END_TEST

START_TEST(test_protocol_error_frame_for_bad_header) {
  static const uint8_t want[] = {'S', 'H', 'M', 'B', 0x01, 0x7f, 0, 0,
                                 0,   0,   0,   0,   12,   0,    0, 0,
                                 0xfd, 0xff, 0xff, 0xff, 0, 0, 4, 0,
                                 'b', 'a', 'd', '!'};
  uint8_t *f;
  size_t len;
  ck_assert_int_eq(
      shmb_encode_error(SHMB_OP_ERROR, 0, SHMB_EPROTO, "bad!", &f, &len), 0);
  ck_assert_uint_eq(len, sizeof(want));
  ck_assert_mem_eq(f, want, sizeof(want));
  free(f);
}
END_TEST

START_TEST(test_protocol_error_message_truncated_to_max) {
  char text[SHMB_ERROR_MESSAGE_MAX + 100], msg[SHMB_ERROR_MESSAGE_MAX + 100];
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  memset(text, 'm', sizeof(text) - 1);
  text[sizeof(text) - 1] = '\0';
  ck_assert_int_eq(
      shmb_encode_error(SHMB_OP_ERROR, 0, SHMB_EINTERNAL, text, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_ERROR, 0, &plen);
  ck_assert_uint_eq(plen, 8 + SHMB_ERROR_MESSAGE_MAX);
  ck_assert_int_eq(reply_code_exact(p, plen, msg, sizeof(msg)),
                   SHMB_EINTERNAL);
  ck_assert_uint_eq(strlen(msg), SHMB_ERROR_MESSAGE_MAX);
  free(f);
}
END_TEST

START_TEST(test_protocol_encode_error_rejects_bad_status) {
  static const int bad[] = {0, 1, SHMB__ERRNO_LAST, -1000, INT_MIN, INT_MAX};
  static const int good[] = {SHMB_EINVAL, SHMB_EACCES, SHMB_ESHUTDOWN};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t *f = NULL;
    size_t len;
    ck_assert_int_eq(shmb_encode_error(SHMB_OP_ERROR, 0, bad[i], "x", &f, &len),
                     SHMB_EINVAL);
    ck_assert_ptr_null(f);
  }
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    uint8_t *f;
    size_t len, plen;
    const uint8_t *p;
    ck_assert_int_eq(
        shmb_encode_error(SHMB_OP_ERROR, 0, good[i], "x", &f, &len), 0);
    p = payload_of(f, len, SHMB_OP_ERROR, 0, &plen);
    ck_assert_int_eq(reply_code_exact(p, plen, NULL, 0), good[i]);
    free(f);
  }
}
END_TEST

/* An error body with every field chosen by the test. */
static int decode_forged_error(uint32_t status, uint16_t reserved,
                               uint16_t mlen, const char *text, size_t n) {
  shmb_frame_buf b;
  char msg[64];
  int rc;
  forge_begin(&b, SHMB_OP_ERROR);
  shmb_put_u32(&b, status);
  shmb_put_u16(&b, reserved);
  shmb_put_u16(&b, mlen);
  shmb_put_bytes(&b, text, n);
  rc = reply_code_exact(pl(&b), pllen(&b), msg, sizeof(msg));
  shmb_frame_discard(&b);
  return rc;
}

START_TEST(test_protocol_error_status_out_of_range) {
  ck_assert_int_eq(decode_forged_error((uint32_t)SHMB_EBUSY, 0, 2, "no", 2),
                   SHMB_EBUSY);
  ck_assert_int_eq(
      decode_forged_error((uint32_t)SHMB__ERRNO_LAST, 0, 2, "no", 2),
      SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_error((uint32_t)-1000, 0, 2, "no", 2),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_error(0x80000000u, 0, 2, "no", 2),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_error(3, 0, 2, "no", 2), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_error(0x7fffffffu, 0, 2, "no", 2),
                   SHMB_EPROTO);
  /* A valid status in a malformed body is still a protocol error. */
  ck_assert_int_eq(decode_forged_error((uint32_t)SHMB_EBUSY, 1, 2, "no", 2),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_error((uint32_t)SHMB_EBUSY, 0, 3, "no", 2),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_error((uint32_t)SHMB_EBUSY, 0, 1, "no", 2),
                   SHMB_EPROTO);
  ck_assert_int_eq(reply_code_exact((const uint8_t *)"\xf9\xff\xff", 3, NULL,
                                    0),
                   SHMB_EPROTO);
  ck_assert_int_eq(reply_code_exact((const uint8_t *)"", 0, NULL, 0),
                   SHMB_EPROTO);
}
END_TEST

/* ---- the frame builder -------------------------------------------------- */

START_TEST(test_protocol_frame_builder_refuses_oversized_frames) {
  shmb_frame_buf b;
  uint8_t *big = calloc(1, SHMB_MAX_FRAME);
  shmb_frame_header h;
  size_t before;
  unsigned added = 0;
  ck_assert_ptr_nonnull(big);
  /* Exactly SHMB_MAX_FRAME is allowed and peeks as a whole frame. */
  shmb_frame_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY, 1);
  shmb_put_bytes(&b, big, SHMB_MAX_PAYLOAD);
  ck_assert_int_eq(shmb_frame_end(&b), 0);
  ck_assert_uint_eq(b.len, SHMB_MAX_FRAME);
  ck_assert_int_eq(shmb_frame_peek(b.data, b.len, SHMB_MAX_PAYLOAD, &h), 0);
  ck_assert_uint_eq(h.length, SHMB_MAX_PAYLOAD);
  shmb_frame_discard(&b);
  /* One byte more sticks as ETOOBIG; later writes change nothing. */
  shmb_frame_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY, 1);
  shmb_put_bytes(&b, big, SHMB_MAX_PAYLOAD);
  shmb_put_u8(&b, 0);
  ck_assert_int_eq(b.err, SHMB_ETOOBIG);
  before = b.len;
  shmb_put_u32(&b, 0);
  ck_assert_uint_eq(b.len, before);
  ck_assert_int_eq(shmb_frame_end(&b), SHMB_ETOOBIG);
  ck_assert_ptr_null(b.data);
  free(big);
  /* A LIST reply grown entry by entry until it no longer fits. */
  shmb_list_reply_start(&b, 1);
  while (b.err == 0 && added < 100000) {
    shmb_list_reply_add(&b, "a-rather-long-section-name-to-fill-frames-fast",
                        1, 1);
    added++;
  }
  ck_assert_int_eq(b.err, SHMB_ETOOBIG);
  ck_assert_uint_le(b.len, SHMB_MAX_FRAME);
  ck_assert_uint_gt(added, 1000);
  ck_assert_int_eq(shmb_frame_end(&b), SHMB_ETOOBIG);
  ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_protocol_frame_builder_refuses_long_strings) {
  size_t n = (size_t)UINT16_MAX + 1;
  char *s = malloc(n + 1);
  shmb_frame_buf b;
  uint8_t *f = NULL;
  size_t len;
  ck_assert_ptr_nonnull(s);
  memset(s, 's', n);
  s[n] = '\0';
  shmb_frame_begin(&b, SHMB_OP_HELLO, 1);
  shmb_put_str(&b, s, n);
  ck_assert_int_eq(b.err, SHMB_ETOOBIG);
  ck_assert_int_eq(shmb_frame_end(&b), SHMB_ETOOBIG);
  ck_assert_ptr_null(b.data);
  ck_assert_int_eq(shmb_encode_hello_reply(1, 1, s, &f, &len), SHMB_ETOOBIG);
  ck_assert_ptr_null(f);
  shmb_status_reply_start(&b, 1);
  shmb_status_reply_add(&b, "k", s);
  ck_assert_int_eq(shmb_frame_end(&b), SHMB_ETOOBIG);
  ck_assert_ptr_null(b.data);
  free(s);
}
END_TEST

START_TEST(test_protocol_name_valid) {
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

Suite *protocol_suite(void) {
  Suite *s = suite_create("protocol");
  TCase *frame = tcase_create("framing");
  TCase *req = tcase_create("requests");
  TCase *rep = tcase_create("replies");
  TCase *build = tcase_create("builder");

  tcase_add_test(frame, test_protocol_header_layout_on_wire);
  tcase_add_test(frame, test_protocol_peek_partial_header_counts_missing);
  tcase_add_test(frame, test_protocol_peek_partial_payload_counts_missing);
  tcase_add_test(frame, test_protocol_peek_rejects_bad_magic);
  tcase_add_test(frame, test_protocol_peek_rejects_nonzero_flags);
  tcase_add_test(frame, test_protocol_peek_rejects_wrong_version);
  tcase_add_test(frame, test_protocol_peek_rejects_oversized_length);
  suite_add_tcase(s, frame);

  tcase_add_test(req, test_protocol_hello_request_round_trip);
  tcase_add_test(req, test_protocol_list_and_status_requests_round_trip);
  tcase_add_test(req, test_protocol_open_request_round_trip);
  tcase_add_test(req, test_protocol_open_name_length_limit);
  tcase_add_test(req, test_protocol_encode_open_rejects_bad_names);
  tcase_add_test(req, test_protocol_decode_open_rejects_bad_names);
  tcase_add_test(req, test_protocol_decode_open_rejects_bad_access);
  tcase_add_test(req, test_protocol_decode_rejects_reserved_fields);
  tcase_add_test(req, test_protocol_hello_min_above_max);
  tcase_add_test(req, test_protocol_decode_rejects_unknown_opcode);
  tcase_add_test(req, test_protocol_decode_rejects_trailing_bytes);
  tcase_add_test(req, test_protocol_decode_rejects_truncated_payload);
  tcase_add_test(req, test_protocol_open_every_prefix_refused);
  tcase_add_test(req, test_protocol_name_valid);
  suite_add_tcase(s, req);

  tcase_add_test(rep, test_protocol_hello_reply_round_trip);
  tcase_add_test(rep, test_protocol_hello_reply_rejects_reserved_and_trailing);
  tcase_add_test(rep, test_protocol_open_reply_round_trip);
  tcase_add_test(rep, test_protocol_open_reply_object_limits);
  tcase_add_test(rep, test_protocol_open_reply_rejects_bad_fields);
  tcase_add_test(rep, test_protocol_list_reply_empty);
  tcase_add_test(rep, test_protocol_list_reply_one_entry);
  tcase_add_test(rep, test_protocol_list_reply_many_entries);
  tcase_add_test(rep, test_protocol_list_entry_without_read_refused);
  tcase_add_test(rep, test_protocol_list_reply_count_exceeds_entries);
  tcase_add_test(rep, test_protocol_list_reply_rejects_trailing_bytes);
  tcase_add_test(rep, test_protocol_list_reply_rejects_bad_entry);
  tcase_add_test(rep, test_protocol_status_reply_round_trip);
  tcase_add_test(rep, test_protocol_status_reply_rejects_malformed);
  tcase_add_test(rep, test_protocol_error_reply_round_trip);
  tcase_add_test(rep, test_protocol_error_frame_for_bad_header);
  tcase_add_test(rep, test_protocol_error_message_truncated_to_max);
  tcase_add_test(rep, test_protocol_encode_error_rejects_bad_status);
  tcase_add_test(rep, test_protocol_error_status_out_of_range);
  suite_add_tcase(s, rep);

  tcase_add_test(build, test_protocol_frame_builder_refuses_oversized_frames);
  tcase_add_test(build, test_protocol_frame_builder_refuses_long_strings);
  suite_add_tcase(s, build);
  return s;
}
