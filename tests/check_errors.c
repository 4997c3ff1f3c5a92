/*
 * Tests for the error codes (common/errors.c, include/shmb_errno.h). The
 * values travel on the wire, so they are checked against a table written out
 * here by hand rather than generated from SHMB_ERRNO_MAP: renumbering a code
 * or reusing a value must break this suite. The lookups must give every code
 * its own name and a real message, and the transport/answer split that
 * callers rely on must not drift.
 */
#include <check.h>
#include <limits.h>
#include <string.h>

#include "errors.h"

#ifdef _WIN32
#include <windows.h>
#endif

/* The fixed values, independent of the X-macro. */
static const struct {
  int code;
  int value;
  const char *name;
} fixed[] = {
    {SHMB_EINVAL, -1, "SHMB_EINVAL"},
    {SHMB_ENOMEM, -2, "SHMB_ENOMEM"},
    {SHMB_EPROTO, -3, "SHMB_EPROTO"},
    {SHMB_EVERSION, -4, "SHMB_EVERSION"},
    {SHMB_EOPCODE, -5, "SHMB_EOPCODE"},
    {SHMB_ETOOBIG, -6, "SHMB_ETOOBIG"},
    {SHMB_EACCES, -7, "SHMB_EACCES"},
    {SHMB_ENOENT, -8, "SHMB_ENOENT"},
    {SHMB_EUNREACHABLE, -9, "SHMB_EUNREACHABLE"},
    {SHMB_EBADSERVER, -10, "SHMB_EBADSERVER"},
    {SHMB_EDISCONNECTED, -11, "SHMB_EDISCONNECTED"},
    {SHMB_ETIMEDOUT, -12, "SHMB_ETIMEDOUT"},
    {SHMB_EBUSY, -13, "SHMB_EBUSY"},
    {SHMB_ECONFIG, -14, "SHMB_ECONFIG"},
    {SHMB_EBADNAME, -15, "SHMB_EBADNAME"},
    {SHMB_EEXIST, -16, "SHMB_EEXIST"},
    {SHMB_ESYSTEM, -17, "SHMB_ESYSTEM"},
    {SHMB_EIO, -18, "SHMB_EIO"},
    {SHMB_EINTERNAL, -19, "SHMB_EINTERNAL"},
    {SHMB_ERANGE, -20, "SHMB_ERANGE"},
    {SHMB_ESHUTDOWN, -21, "SHMB_ESHUTDOWN"},
    {SHMB_ECORRUPT, -22, "SHMB_ECORRUPT"},
    {SHMB_EAGAIN, -23, "SHMB_EAGAIN"},
    {SHMB_EMSGSIZE, -24, "SHMB_EMSGSIZE"},
    {SHMB_ESTALE, -25, "SHMB_ESTALE"},
    {SHMB_ENONOTIFY, -26, "SHMB_ENONOTIFY"},
    {SHMB_ETOOMANYWAITERS, -27, "SHMB_ETOOMANYWAITERS"},
    {SHMB_ENOTRUNG, -28, "SHMB_ENOTRUNG"},
    {SHMB_EBELLCLOSED, -29, "SHMB_EBELLCLOSED"},
    {SHMB_ENOTCHANNEL, -30, "SHMB_ENOTCHANNEL"},
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

/* What the X-macro itself yields, to check it against the table. */
static const struct {
  int value;
  const char *name;
  const char *msg;
} listed[] = {
#define XX(name, value, msg) {value, "SHMB_" #name, msg},
    SHMB_ERRNO_MAP(XX)
#undef XX
};
#define NLISTED (sizeof(listed) / sizeof(listed[0]))

START_TEST(test_errors_values_are_fixed) {
  ck_assert_int_eq(SHMB_OK, 0);
  ck_assert_int_eq(SHMB_EACCES, -7);
  ck_assert_int_eq(SHMB_ENOENT, -8);
  for (size_t i = 0; i < NFIXED; i++) {
    ck_assert_int_eq(fixed[i].code, fixed[i].value);
    ck_assert_str_eq(shmb_err_name(fixed[i].value), fixed[i].name);
  }
}
END_TEST

START_TEST(test_errors_map_matches_fixed_table) {
  /* A code added to the map must be added to the table above, at the end. */
  ck_assert_uint_eq(NLISTED, NFIXED);
  for (size_t i = 0; i < NLISTED; i++) {
    ck_assert_int_eq(listed[i].value, fixed[i].value);
    ck_assert_str_eq(listed[i].name, fixed[i].name);
  }
  ck_assert_int_eq(SHMB__ERRNO_LAST, listed[NLISTED - 1].value - 1);
}
END_TEST

START_TEST(test_errors_names_and_values_distinct) {
  for (size_t i = 0; i < NLISTED; i++)
    for (size_t j = i + 1; j < NLISTED; j++) {
      ck_assert_int_ne(listed[i].value, listed[j].value);
      ck_assert_str_ne(shmb_err_name(listed[i].value),
                       shmb_err_name(listed[j].value));
      ck_assert_str_ne(shmb_strerror(listed[i].value),
                       shmb_strerror(listed[j].value));
    }
}
END_TEST

START_TEST(test_errors_every_code_has_name_and_message) {
  for (size_t i = 0; i < NLISTED; i++) {
    int v = listed[i].value;
    const char *msg = shmb_strerror(v);
    ck_assert_ptr_nonnull(msg);
    ck_assert_str_eq(msg, listed[i].msg);
    ck_assert_str_ne(msg, "unknown error");
    ck_assert_str_ne(msg, "success");
    ck_assert_uint_gt(strlen(msg), 3);
    ck_assert_str_eq(shmb_err_name(v), listed[i].name);
    ck_assert_str_ne(shmb_err_name(v), "SHMB_UNKNOWN");
  }
}
END_TEST

START_TEST(test_errors_ok_is_success) {
  ck_assert_str_eq(shmb_strerror(SHMB_OK), "success");
  ck_assert_str_eq(shmb_err_name(SHMB_OK), "SHMB_OK");
  ck_assert_int_eq(shmb_err_is_transport(SHMB_OK), 0);
}
END_TEST

START_TEST(test_errors_unknown_values) {
  static const int unknown[] = {1,    7,       SHMB__ERRNO_LAST,
                                SHMB__ERRNO_LAST - 1,  -100,
                                4096, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
    ck_assert_str_eq(shmb_strerror(unknown[i]), "unknown error");
    ck_assert_str_eq(shmb_err_name(unknown[i]), "SHMB_UNKNOWN");
    ck_assert_int_eq(shmb_err_is_transport(unknown[i]), 0);
  }
}
END_TEST

START_TEST(test_errors_is_transport) {
  /* "Could not talk to the service" versus "the service said no". */
  for (size_t i = 0; i < NLISTED; i++) {
    int v = listed[i].value;
    int want = v == SHMB_EUNREACHABLE || v == SHMB_EBADSERVER ||
               v == SHMB_EDISCONNECTED || v == SHMB_ETIMEDOUT;
    ck_assert_msg(!!shmb_err_is_transport(v) == want, "%s: transport=%d",
                  listed[i].name, shmb_err_is_transport(v));
  }
  ck_assert(shmb_err_is_transport(SHMB_EUNREACHABLE));
  ck_assert(!shmb_err_is_transport(SHMB_EACCES));
  ck_assert(!shmb_err_is_transport(SHMB_ENOENT));
  ck_assert(!shmb_err_is_transport(SHMB_EBUSY));
}
END_TEST

#ifdef _WIN32
START_TEST(test_errors_from_win32) {
  ck_assert_int_eq(shmb__from_win32(ERROR_SUCCESS), SHMB_OK);
  ck_assert_int_eq(shmb__from_win32(ERROR_ACCESS_DENIED), SHMB_EACCES);
  ck_assert_int_eq(shmb__from_win32(ERROR_FILE_NOT_FOUND), SHMB_ENOENT);
  ck_assert_int_eq(shmb__from_win32(ERROR_OUTOFMEMORY), SHMB_ENOMEM);
  ck_assert_int_eq(shmb__from_win32(ERROR_ALREADY_EXISTS), SHMB_EEXIST);
  ck_assert_int_eq(shmb__from_win32(ERROR_PIPE_BUSY), SHMB_EBUSY);
  ck_assert_int_eq(shmb__from_win32(ERROR_BROKEN_PIPE), SHMB_EDISCONNECTED);
  ck_assert_int_eq(shmb__from_win32(WAIT_TIMEOUT), SHMB_ETIMEDOUT);
  ck_assert_int_eq(shmb__from_win32(ERROR_GEN_FAILURE), SHMB_ESYSTEM);
}
END_TEST
#endif

Suite *errors_suite(void) {
  Suite *s = suite_create("errors");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, test_errors_values_are_fixed);
  tcase_add_test(tc, test_errors_map_matches_fixed_table);
  tcase_add_test(tc, test_errors_names_and_values_distinct);
  tcase_add_test(tc, test_errors_every_code_has_name_and_message);
  tcase_add_test(tc, test_errors_ok_is_success);
  tcase_add_test(tc, test_errors_unknown_values);
  tcase_add_test(tc, test_errors_is_transport);
#ifdef _WIN32
  tcase_add_test(tc, test_errors_from_win32);
#endif
  suite_add_tcase(s, tc);
  return s;
}
