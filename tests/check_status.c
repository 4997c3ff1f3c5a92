/*
 * Wire protocol (common/protocol.c): STATUS replies: key/value pairs round
 * trip, and malformed pairs are refused. Every byte a decoder sees comes from a
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

/* ---- STATUS replies ------------------------------------------------------ */

START_TEST(test_status_reply_round_trip) {
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

START_TEST(test_status_reply_rejects_malformed) {
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

/* The count is a u16 at its offset in shmb_wire_status_rep: past 255 pairs
 * its high byte must carry. */
START_TEST(test_status_reply_count_is_u16) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_kv got;
  const uint8_t *p;
  size_t plen;
  shmb_status_reply_start(&b, 9);
  for (unsigned i = 0; i < 300; i++)
    shmb_status_reply_add(&b, "k", "v");
  ck_assert_int_eq(shmb_frame_end(&b), 0);
  p = payload_of(b.data, b.len, SHMB_OP_STATUS | SHMB_OP_REPLY, 9, &plen);
  ck_assert_int_eq(shmb_status_reply_begin(p, plen, &c), 0);
  ck_assert_uint_eq(c.remaining, 300);
  for (unsigned i = 0; i < 300; i++)
    ck_assert_int_eq(shmb_status_reply_next(&c, &got), 0);
  shmb_frame_discard(&b);

}
END_TEST

Suite *status_suite(void) {
  Suite *s = suite_create("status");
  TCase *tc = tcase_create("status");

  tcase_add_test(tc, test_status_reply_round_trip);
  tcase_add_test(tc, test_status_reply_rejects_malformed);
  tcase_add_test(tc, test_status_reply_count_is_u16);
  suite_add_tcase(s, tc);
  return s;
}
