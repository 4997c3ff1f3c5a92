/*
 * Wire protocol (common/protocol.c): the 16-byte frame header: layout, partial
 * input, bad magic, flags, version and length; and the frame builder's limits.
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

/* ---- headers and framing ------------------------------------------------ */

START_TEST(test_frame_header_layout_on_wire) {
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

START_TEST(test_frame_peek_partial_header_counts_missing) {
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

START_TEST(test_frame_peek_partial_payload_counts_missing) {
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

START_TEST(test_frame_peek_rejects_bad_magic) {
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

START_TEST(test_frame_peek_rejects_nonzero_flags) {
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

START_TEST(test_frame_peek_rejects_wrong_version) {
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

START_TEST(test_frame_peek_rejects_oversized_length) {
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
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h), SHMB_ETOOBIG);
  ck_assert_int_eq(decode_exact(f, len, &req), SHMB_ETOOBIG);
  /* Whatever the caller allows, no frame exceeds SHMB_MAX_FRAME, and the
   * missing count can never turn negative. */
  set_u32(f + 12, 0xFFFFFFFFu);
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h), SHMB_ETOOBIG);
  ck_assert_int_eq(shmb_frame_peek(f, len, SIZE_MAX, &h), SHMB_ETOOBIG);
  set_u32(f + 12, 0x80000000u);
  ck_assert_int_eq(shmb_frame_peek(f, len, SIZE_MAX, &h), SHMB_ETOOBIG);
  free(f);
}
END_TEST

/* ---- the frame builder -------------------------------------------------- */

START_TEST(test_frame_builder_refuses_oversized_frames) {
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
    shmb_list_reply_add(&b, "a-rather-long-section-name-to-fill-frames-fast", 1,
                        1, 0);
    added++;
  }
  ck_assert_int_eq(b.err, SHMB_ETOOBIG);
  ck_assert_uint_le(b.len, SHMB_MAX_FRAME);
  ck_assert_uint_gt(added, 1000);
  ck_assert_int_eq(shmb_frame_end(&b), SHMB_ETOOBIG);
  ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_frame_builder_refuses_long_strings) {
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

/* shmb_frame_finish hands the whole frame over, with its length patched at
 * the header's length field, and leaves a failed builder with nothing. */
START_TEST(test_frame_finish_hands_over_the_frame) {
  shmb_frame_buf b;
  shmb_frame_header h;
  uint8_t *f = NULL;
  size_t len = 0;
  shmb_frame_begin(&b, SHMB_OP_LIST, 77);
  shmb_put_u32(&b, 0xdeadbeefu);
  ck_assert_int_eq(shmb_frame_finish(&b, &f, &len), 0);
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(len, SHMB_HEADER_SIZE + 4);
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h), 0);
  ck_assert_uint_eq(h.length, 4);
  ck_assert_uint_eq(h.request_id, 77);
  free(f);

  shmb_frame_begin(&b, SHMB_OP_LIST, 78);
  shmb_put_str(&b, "x", (size_t)UINT16_MAX + 1); /* sticks ETOOBIG */
  f = NULL;
  ck_assert_int_eq(shmb_frame_finish(&b, &f, &len), SHMB_ETOOBIG);
  ck_assert_ptr_null(f);
  ck_assert_ptr_null(b.data);
}
END_TEST

Suite *frame_suite(void) {
  Suite *s = suite_create("frame");
  TCase *tc = tcase_create("frame");

  tcase_add_test(tc, test_frame_header_layout_on_wire);
  tcase_add_test(tc, test_frame_peek_partial_header_counts_missing);
  tcase_add_test(tc, test_frame_peek_partial_payload_counts_missing);
  tcase_add_test(tc, test_frame_peek_rejects_bad_magic);
  tcase_add_test(tc, test_frame_peek_rejects_nonzero_flags);
  tcase_add_test(tc, test_frame_peek_rejects_wrong_version);
  tcase_add_test(tc, test_frame_peek_rejects_oversized_length);
  tcase_add_test(tc, test_frame_builder_refuses_oversized_frames);
  tcase_add_test(tc, test_frame_builder_refuses_long_strings);
  tcase_add_test(tc, test_frame_finish_hands_over_the_frame);
  suite_add_tcase(s, tc);
  return s;
}
