/*
 * Wire protocol (common/protocol.c): error bodies and reply status codes: round
 * trips, truncation of long messages, and statuses outside the fixed list.
 * Every byte a decoder sees comes from a peer we do not trust, so besides round
 * trips through the real encoders these tests forge frames by hand. Split from
 * check_protocol.c.
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

/* ---- errors ------------------------------------------------------------- */

START_TEST(test_error_reply_round_trip) {
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

START_TEST(test_error_reply_frame_for_bad_header) {
  static const uint8_t want[] = {
      'S', 'H', 'M',  'B',  0x01, 0x7f, 0, 0, 0, 0, 0,   0,   12,  0,
      0,   0,   0xfd, 0xff, 0xff, 0xff, 0, 0, 4, 0, 'b', 'a', 'd', '!'};
  uint8_t *f;
  size_t len;
  ck_assert_int_eq(
      shmb_encode_error(SHMB_OP_ERROR, 0, SHMB_EPROTO, "bad!", &f, &len), 0);
  ck_assert_uint_eq(len, sizeof(want));
  ck_assert_mem_eq(f, want, sizeof(want));
  free(f);
}
END_TEST

START_TEST(test_error_reply_message_truncated_to_max) {
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
  ck_assert_int_eq(reply_code_exact(p, plen, msg, sizeof(msg)), SHMB_EINTERNAL);
  ck_assert_uint_eq(strlen(msg), SHMB_ERROR_MESSAGE_MAX);
  free(f);
}
END_TEST

START_TEST(test_error_reply_encode_error_rejects_bad_status) {
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

START_TEST(test_error_reply_status_out_of_range) {
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
  ck_assert_int_eq(
      reply_code_exact((const uint8_t *)"\xf9\xff\xff", 3, NULL, 0),
      SHMB_EPROTO);
  ck_assert_int_eq(reply_code_exact((const uint8_t *)"", 0, NULL, 0),
                   SHMB_EPROTO);
}
END_TEST

Suite *error_reply_suite(void) {
  Suite *s = suite_create("error_reply");
  TCase *tc = tcase_create("error_reply");

  tcase_add_test(tc, test_error_reply_round_trip);
  tcase_add_test(tc, test_error_reply_frame_for_bad_header);
  tcase_add_test(tc, test_error_reply_message_truncated_to_max);
  tcase_add_test(tc, test_error_reply_encode_error_rejects_bad_status);
  tcase_add_test(tc, test_error_reply_status_out_of_range);
  suite_add_tcase(s, tc);
  return s;
}
