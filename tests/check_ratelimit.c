/*
 * The refusal-log rate limiter: a burst per key and window, an exact count
 * of what was held back, independent keys, and eviction that never takes
 * another key's burst.
 */
#include <check.h>
#include <stdio.h>

#include "ratelimit.h"

START_TEST(test_ratelimit_burst_then_suppress) {
  shmb_ratelimit rl;
  uint64_t s = 99;
  shmb_ratelimit_init(&rl, 3, 1000);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(shmb_ratelimit_allow(&rl, "S-1-5-21-1", 10, &s), 1);
    ck_assert_uint_eq(s, 0);
  }
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(shmb_ratelimit_allow(&rl, "S-1-5-21-1", 500, &s), 0);
  /* A new window: the first line says how many were held back. */
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "S-1-5-21-1", 1010, &s), 1);
  ck_assert_uint_eq(s, 5);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "S-1-5-21-1", 1011, &s), 1);
  ck_assert_uint_eq(s, 0);
}
END_TEST

START_TEST(test_ratelimit_keys_are_independent) {
  shmb_ratelimit rl;
  uint64_t s;
  shmb_ratelimit_init(&rl, 1, 1000);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "S-1-5-21-1", 0, &s), 1);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "S-1-5-21-1", 1, &s), 0);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "S-1-5-21-2", 2, &s), 1);
  ck_assert_uint_eq(s, 0);
}
END_TEST

START_TEST(test_ratelimit_flood_of_keys_evicts_oldest) {
  shmb_ratelimit rl;
  char key[32];
  uint64_t s;
  shmb_ratelimit_init(&rl, 1, 1000000);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "victim", 0, &s), 1);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "victim", 1, &s), 0);
  /* SHMB_RATELIMIT_KEYS - 1 other keys fit beside the victim... */
  for (int i = 0; i < SHMB_RATELIMIT_KEYS - 1; i++) {
    snprintf(key, sizeof(key), "flood-%d", i);
    ck_assert_int_eq(shmb_ratelimit_allow(&rl, key, 2 + i, &s), 1);
  }
  /* ...so the victim is still limited: nobody reset its window. */
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "victim", 100, &s), 0);
  /* One more key evicts the least recently seen (flood-0), not the victim. */
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "flood-new", 101, &s), 1);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "victim", 102, &s), 0);
  ck_assert_int_eq(shmb_ratelimit_allow(&rl, "flood-0", 103, &s), 1);
}
END_TEST

Suite *ratelimit_suite(void) {
  Suite *s = suite_create("ratelimit");
  TCase *tc = tcase_create("ratelimit");
  tcase_add_test(tc, test_ratelimit_burst_then_suppress);
  tcase_add_test(tc, test_ratelimit_keys_are_independent);
  tcase_add_test(tc, test_ratelimit_flood_of_keys_evicts_oldest);
  suite_add_tcase(s, tc);
  return s;
}
