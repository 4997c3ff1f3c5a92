/*
 * Tests for the service's access check (service/access.c): what
 * svc_access_granted and svc_caller_may answer for a caller. They run
 * AccessCheck with a token made from this process's own (the pipe is not
 * needed for that), against descriptors normalised as the service would
 * normalise them, and rely only on the token's user SID and on SY never
 * matching it: under Wine the test user belongs to groups such as AU and
 * BA, on Windows it may not. Moved here from check_descriptor.c, which
 * tests the descriptors themselves.
 */
#include <windows.h>

#include <check.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "descriptor.h"
#include "errors.h"
#include "own_sd.h"
#include "protocol.h"
#include "winutil.h"

/* ----- svc_access_granted ----- */

/* svc_access_granted for this process's token against an SDDL template
 * ("{me}" is the token's user SID), normalised as the service would. */
static uint32_t granted_for(const char *tmpl) {
  PSECURITY_DESCRIPTOR sd = test_sd_for(tmpl);
  svc_caller c;
  uint32_t wire;

  test_caller_from_self(&c);
  wire = svc_access_granted(&c, sd);
  svc_caller_release(&c);
  ck_assert_ptr_null(c.token);
  LocalFree(sd);
  return wire;
}

START_TEST(test_access_read_grant_gives_read_only) {
  ck_assert_uint_eq(granted_for("O:SYG:SYD:P(A;;GR;;;{me})"),
                    SHMB_WIRE_ACCESS_READ);
}
END_TEST

START_TEST(test_access_read_write_grant_gives_both) {
  ck_assert_uint_eq(granted_for("O:SYG:SYD:P(A;;GRGW;;;{me})"),
                    SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
}
END_TEST

START_TEST(test_access_generic_all_gives_both) {
  ck_assert_uint_eq(granted_for("D:P(A;;GA;;;{me})"),
                    SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
}
END_TEST

START_TEST(test_access_system_only_gives_nothing) {
  ck_assert_uint_eq(granted_for("O:SYG:SYD:P(A;;GA;;;SY)"), 0);
}
END_TEST

START_TEST(test_access_write_without_read_gives_nothing) {
  /* Write is only useful with a mapped view, which needs map-read. */
  ck_assert_uint_eq(granted_for("D:P(A;;GW;;;{me})"), 0);
}
END_TEST

START_TEST(test_access_deny_write_wins) {
  ck_assert_uint_eq(granted_for("D:P(D;;GW;;;{me})(A;;GRGW;;;{me})"),
                    SHMB_WIRE_ACCESS_READ);
}
END_TEST


START_TEST(test_access_no_token_gives_nothing) {
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:P(A;;GA;;;WD)");
  svc_caller c;
  memset(&c, 0, sizeof(c));
  ck_assert_uint_eq(svc_access_granted(&c, sd), 0);
  LocalFree(sd);
}
END_TEST

START_TEST(test_access_check_failure_gives_nothing) {
  /* A descriptor without owner and group makes AccessCheck fail (1338);
   * the answer must be "nothing", although the DACL grants everything. */
  char *me = test_self_sid_text();
  char sddl[512];
  wchar_t wsddl[512];
  PSECURITY_DESCRIPTOR raw = NULL;
  svc_caller c;

  snprintf(sddl, sizeof(sddl), "D:(A;;GA;;;%s)", me);
  free(me);
  ck_assert(MultiByteToWideChar(CP_UTF8, 0, sddl, -1, wsddl, 512) > 0);
  ck_assert(ConvertStringSecurityDescriptorToSecurityDescriptorW(
      wsddl, SDDL_REVISION_1, &raw, NULL));
  test_caller_from_self(&c);
  ck_assert_uint_eq(svc_access_granted(&c, raw), 0);
  svc_caller_release(&c);
  LocalFree(raw);
}
END_TEST

/* ----- svc_caller_may (service-level rights such as RELOAD) ----- */

/* An SDDL template as a descriptor, as written (svc_sd_parse: the service
 * composes such descriptors itself, so they are not normalised). */
static PSECURITY_DESCRIPTOR parsed(const char *tmpl) {
  char *me = test_self_sid_text();
  char sddl[512], err[512] = "";
  PSECURITY_DESCRIPTOR sd = NULL;
  int rc;

  test_with_sid(tmpl, me, sddl, sizeof(sddl));
  free(me);
  rc = svc_sd_parse(sddl, &sd, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_sd_parse(\"%s\") = %s: %s", sddl,
                shmb_err_name(rc), err);
  return sd;
}

static int may_for(const char *tmpl, DWORD right) {
  PSECURITY_DESCRIPTOR sd = parsed(tmpl);
  svc_caller c;
  int may;

  test_caller_from_self(&c);
  may = svc_caller_may(&c, sd, right);
  svc_caller_release(&c);
  LocalFree(sd);
  return may;
}

START_TEST(test_access_may_reload_when_granted) {
  ck_assert_msg(may_for("O:SYG:SYD:P(A;;0x1;;;{me})", SVC_RIGHT_RELOAD),
                "a descriptor granting the caller SVC_RIGHT_RELOAD refused it");
}
END_TEST

START_TEST(test_access_may_not_reload_when_system_only) {
  ck_assert_msg(!may_for("O:SYG:SYD:P(A;;0x1;;;SY)", SVC_RIGHT_RELOAD),
                "an SY-only descriptor granted the caller SVC_RIGHT_RELOAD");
}
END_TEST

START_TEST(test_access_may_needs_the_right_asked) {
  /* Granted some other bit only: not the right asked for. */
  ck_assert(!may_for("O:SYG:SYD:P(A;;0x2;;;{me})", SVC_RIGHT_RELOAD));
  ck_assert(!may_for("O:SYG:SYD:P(D;;0x1;;;{me})(A;;0x3;;;{me})",
                     SVC_RIGHT_RELOAD));
}
END_TEST

START_TEST(test_access_may_without_token_or_descriptor) {
  PSECURITY_DESCRIPTOR sd = parsed("O:SYG:SYD:P(A;;0x1;;;WD)");
  svc_caller c;

  memset(&c, 0, sizeof(c));
  ck_assert_msg(!svc_caller_may(&c, sd, SVC_RIGHT_RELOAD),
                "a caller without a token may reload");
  test_caller_from_self(&c);
  ck_assert_msg(!svc_caller_may(&c, NULL, SVC_RIGHT_RELOAD),
                "no admin descriptor lets everyone reload");
  ck_assert_msg(svc_caller_may(&c, sd, SVC_RIGHT_RELOAD),
                "Everyone granted 0x1, yet the caller may not reload");
  svc_caller_release(&c);
  LocalFree(sd);
}
END_TEST

/* ----- the per-connection cache ----- */

/* An absolute descriptor in memory the test owns, so that its DACL can be
 * changed in place: the same address with new contents, as when a reload
 * frees a descriptor and the next one is allocated where it was. */
typedef struct fixed_sd {
  SECURITY_DESCRIPTOR sd;
  BYTE acl[256];
  BYTE sy[SECURITY_MAX_SID_SIZE];
  PSID me;
} fixed_sd;

static void fixed_sd_init(fixed_sd *f, DWORD mask) {
  DWORD n = sizeof(f->sy);
  char *me = test_self_sid_text();
  ck_assert(ConvertStringSidToSidA(me, &f->me));
  free(me);
  ck_assert(CreateWellKnownSid(WinLocalSystemSid, NULL, f->sy, &n));
  ck_assert(InitializeAcl((PACL)f->acl, sizeof(f->acl), ACL_REVISION));
  ck_assert(AddAccessAllowedAce((PACL)f->acl, ACL_REVISION, mask, f->me));
  ck_assert(InitializeSecurityDescriptor(&f->sd, SECURITY_DESCRIPTOR_REVISION));
  ck_assert(SetSecurityDescriptorOwner(&f->sd, f->sy, FALSE));
  ck_assert(SetSecurityDescriptorGroup(&f->sd, f->sy, FALSE));
  ck_assert(SetSecurityDescriptorDacl(&f->sd, TRUE, (PACL)f->acl, FALSE));
}

static void fixed_sd_set_mask(fixed_sd *f, DWORD mask) {
  ACCESS_ALLOWED_ACE *ace;
  ck_assert(GetAce((PACL)f->acl, 0, (void **)&ace));
  ace->Mask = mask;
}

START_TEST(test_access_cache_forgotten_after_reload) {
  /* Read-write, then the descriptor at the same address says read-only.
   * Until svc_access_forget_all the cached answer stands (that is the
   * cache); after it, the new descriptor decides. Reload calls it. */
  const DWORD rw = SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE;
  const uint32_t both = SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE;
  fixed_sd f;
  svc_caller c;

  fixed_sd_init(&f, rw);
  test_caller_from_self(&c);
  ck_assert_int_eq(svc_caller_cache_init(&c), 0);
  ck_assert_uint_eq(svc_access_granted(&c, &f.sd), both);
  fixed_sd_set_mask(&f, SECTION_QUERY | SECTION_MAP_READ);
  ck_assert_msg(svc_access_granted(&c, &f.sd) == both, "the second answer "
                "for the same descriptor did not come from the cache");
  svc_access_forget_all();
  ck_assert_msg(svc_access_granted(&c, &f.sd) == SHMB_WIRE_ACCESS_READ,
                "after svc_access_forget_all the cached read-write answer "
                "still stands for a descriptor that now grants read only");
  svc_caller_release(&c);
  ck_assert_ptr_null(c.cache);
  LocalFree(f.me);
}
END_TEST

START_TEST(test_access_cache_bounded) {
  /* More descriptors than entries: every answer stays right. */
  enum { N = 80 };
  static fixed_sd f[N];
  svc_caller c;

  test_caller_from_self(&c);
  ck_assert_int_eq(svc_caller_cache_init(&c), 0);
  for (int i = 0; i < N; i++)
    fixed_sd_init(&f[i], i % 2 ? SECTION_QUERY | SECTION_MAP_READ : 0);
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < N; i++)
      ck_assert_msg(svc_access_granted(&c, &f[i].sd) ==
                        (i % 2 ? SHMB_WIRE_ACCESS_READ : 0u),
                    "descriptor %d, round %d: wrong answer", i, round);
  svc_caller_release(&c);
  for (int i = 0; i < N; i++)
    LocalFree(f[i].me);
}
END_TEST

Suite *access_suite(void) {
  Suite *s = suite_create("access");
  TCase *tc = tcase_create("granted");
  tcase_add_test(tc, test_access_read_grant_gives_read_only);
  tcase_add_test(tc, test_access_read_write_grant_gives_both);
  tcase_add_test(tc, test_access_generic_all_gives_both);
  tcase_add_test(tc, test_access_system_only_gives_nothing);
  tcase_add_test(tc, test_access_write_without_read_gives_nothing);
  tcase_add_test(tc, test_access_deny_write_wins);
  tcase_add_test(tc, test_access_no_token_gives_nothing);
  tcase_add_test(tc, test_access_check_failure_gives_nothing);
  tcase_add_test(tc, test_access_cache_forgotten_after_reload);
  tcase_add_test(tc, test_access_cache_bounded);
  suite_add_tcase(s, tc);

  tc = tcase_create("may");
  tcase_add_test(tc, test_access_may_reload_when_granted);
  tcase_add_test(tc, test_access_may_not_reload_when_system_only);
  tcase_add_test(tc, test_access_may_needs_the_right_asked);
  tcase_add_test(tc, test_access_may_without_token_or_descriptor);
  suite_add_tcase(s, tc);
  return s;
}
