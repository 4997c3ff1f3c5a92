/*
 * Tests for friendly grants (service/grants.c): account lists resolved to
 * SIDs, and a section's read/write lists turned into a descriptor. A wrong
 * answer here grants memory to the wrong party or locks the right one out,
 * so the results are checked the way the kernel sees them: SIDs by EqualSid
 * and IsWellKnownSid, descriptors ACE by ACE after svc_sd_from_sddl, and
 * AccessCheck through svc_access_granted with this process's own token.
 * Only the token's user SID and SY (which never matches it) decide the
 * access tests, as in check_descriptor.c: under Wine the test user also
 * belongs to BA, AU and WD, on Windows it may not. Account names are the
 * English ones, as on Wine and an English Windows.
 */
#include <windows.h>

#include <check.h>
#include <sddl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "config.h"
#include "descriptor.h"
#include "sid.h"
#include "errors.h"
#include "grants.h"
#include "protocol.h"
#include "winutil.h"

#define LINE 7

/* ---- helpers ------------------------------------------------------------ */

/* "DOMAIN\user" of this process's account, as Windows names it (free()). */
static char *self_account_name(void) {
  PSID sid = NULL;
  wchar_t name[256], domain[256], full[520];
  DWORD nlen = 256, dlen = 256;
  SID_NAME_USE use;
  char *s;

  ck_assert_int_eq(svc_self_sid(&sid), 0);
  ck_assert_msg(LookupAccountSidW(NULL, sid, name, &nlen, domain, &dlen, &use),
                "LookupAccountSidW: Win32 error %lu",
                (unsigned long)GetLastError());
  LocalFree(sid);
  swprintf(full, 520, L"%ls\\%ls", domain, name);
  ck_assert_int_gt(WideCharToMultiByte(CP_UTF8, 0, full, -1, NULL, 0, NULL,
                                       NULL), 0);
  s = malloc(1040);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_gt(WideCharToMultiByte(CP_UTF8, 0, full, -1, s, 1040, NULL,
                                       NULL), 0);
  return s;
}

/* svc_accounts_resolve that must succeed with `expect` SIDs. */
static PSID *resolve_ok(const char *list, size_t expect) {
  PSID *sids = NULL;
  size_t n = 12345;
  char err[512] = "";
  int rc = svc_accounts_resolve(list, LINE, &sids, &n, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_accounts_resolve(\"%s\") = %s: %s", list,
                shmb_err_name(rc), err);
  ck_assert_ptr_nonnull(sids);
  ck_assert_msg(n == expect, "\"%s\": %lu SIDs, expected %lu", list,
                (unsigned long)n, (unsigned long)expect);
  for (size_t i = 0; i < n; i++)
    ck_assert(IsValidSid(sids[i]));
  return sids;
}

/* svc_accounts_resolve that must refuse with SHMB_ECONFIG, no SIDs, and a
 * message "line 7: " that mentions each of the NULL-terminated needles. */
static void resolve_refused(const char *list, ...) {
  PSID *sids = (PSID *)&sids; /* must be reset to NULL */
  size_t n = 12345;
  char err[512] = "";
  const char *needle;
  va_list ap;
  int rc = svc_accounts_resolve(list, LINE, &sids, &n, err, sizeof(err));

  ck_assert_msg(rc == SHMB_ECONFIG, "svc_accounts_resolve(\"%s\") = %s, "
                "expected SHMB_ECONFIG (err '%s')", list ? list : "(null)",
                shmb_err_name(rc), err);
  ck_assert_ptr_null(sids);
  ck_assert_uint_eq(n, 0);
  ck_assert_msg(strncmp(err, "line 7: ", 8) == 0, "'%s' does not start with "
                "'line 7: '", err);
  va_start(ap, list);
  while ((needle = va_arg(ap, const char *)) != NULL)
    ck_assert_msg(strstr(err, needle) != NULL, "message for \"%s\" is '%s', "
                  "expected it to mention '%s'", list ? list : "(null)", err,
                  needle);
  va_end(ap);
}

/* A section config with the given lists (either may be NULL). */
static shmb_section_config section(const char *read, const char *write) {
  shmb_section_config sc;
  memset(&sc, 0, sizeof(sc));
  strcpy(sc.name, "grants");
  sc.size = 4096;
  sc.line = 3;
  sc.read = (char *)read;
  sc.write = (char *)write;
  sc.read_line = read ? 5 : 0;
  sc.write_line = write ? 6 : 0;
  return sc;
}

/* svc_grants_sddl then svc_sd_from_sddl, both of which must succeed. */
static PSECURITY_DESCRIPTOR grants_sd(const char *read, const char *write) {
  shmb_section_config sc = section(read, write);
  PSECURITY_DESCRIPTOR sd;
  char *sddl = NULL, err[512] = "";
  int rc = svc_grants_sddl(&sc, &sddl, err, sizeof(err));

  ck_assert_msg(rc == 0, "svc_grants_sddl(read \"%s\", write \"%s\") = %s: %s",
                read ? read : "(null)", write ? write : "(null)",
                shmb_err_name(rc), err);
  ck_assert_ptr_nonnull(sddl);
  ck_assert_msg(strncmp(sddl, "D:P(", 4) == 0, "sddl '%s'", sddl);
  ck_assert_msg(!strstr(sddl, "O:") && !strstr(sddl, "G:"), "sddl '%s'", sddl);
  sd = test_sd_ok(sddl);
  free(sddl);
  return sd;
}

/* The DACL's allow ACEs: count, and the i-th one's mask and SID. */
static DWORD allow_count(PSECURITY_DESCRIPTOR sd, PACL *dacl) {
  BOOL present = FALSE, defaulted;
  ACL_SIZE_INFORMATION info;
  ck_assert(GetSecurityDescriptorDacl(sd, &present, dacl, &defaulted));
  ck_assert(present && *dacl);
  ck_assert(GetAclInformation(*dacl, &info, sizeof(info), AclSizeInformation));
  for (DWORD i = 0; i < info.AceCount; i++) {
    ACE_HEADER *h;
    ck_assert(GetAce(*dacl, i, (void **)&h));
    ck_assert_uint_eq(h->AceType, ACCESS_ALLOWED_ACE_TYPE);
    ck_assert_uint_eq(h->AceFlags, 0);
  }
  return info.AceCount;
}

static ACCESS_ALLOWED_ACE *allow_at(PACL dacl, DWORD i) {
  ACE_HEADER *h = NULL;
  ck_assert(GetAce(dacl, i, (void **)&h));
  return (ACCESS_ALLOWED_ACE *)h;
}

/* The mask of the one ACE for a well-known SID; fails if not exactly one. */
static ACCESS_MASK mask_for(PSECURITY_DESCRIPTOR sd, WELL_KNOWN_SID_TYPE who) {
  PACL dacl;
  DWORD n = allow_count(sd, &dacl);
  ACCESS_MASK mask = 0;
  int found = 0;
  for (DWORD i = 0; i < n; i++) {
    ACCESS_ALLOWED_ACE *a = allow_at(dacl, i);
    if (IsWellKnownSid(&a->SidStart, who)) {
      mask = a->Mask;
      found++;
    }
  }
  ck_assert_msg(found == 1, "%d ACEs for well-known SID %d", found, (int)who);
  return mask;
}

/* svc_grants_sddl that must refuse with SHMB_ECONFIG and no text, with a
 * message holding both needles. */
static void grants_refused(const char *read, const char *write,
                           const char *needle1, const char *needle2) {
  shmb_section_config sc = section(read, write);
  char *sddl = (char *)&sddl, err[512] = "";
  int rc = svc_grants_sddl(&sc, &sddl, err, sizeof(err));
  ck_assert_msg(rc == SHMB_ECONFIG, "rc %s, err '%s'", shmb_err_name(rc), err);
  ck_assert_ptr_null(sddl);
  ck_assert_msg(strstr(err, needle1) && strstr(err, needle2),
                "'%s' lacks '%s' or '%s'", err, needle1, needle2);
}

static uint32_t granted(const char *read, const char *write) {
  PSECURITY_DESCRIPTOR sd = grants_sd(read, write);
  svc_caller c;
  uint32_t wire;
  test_caller_from_self(&c);
  wire = svc_access_granted(&c, sd);
  svc_caller_release(&c);
  LocalFree(sd);
  return wire;
}

/* ---- svc_accounts_resolve: what resolves ----------------------------------- */

START_TEST(test_grants_sid_strings) {
  char *me = test_self_sid_text();
  PSID *sids = resolve_ok("S-1-5-18", 1);
  ck_assert(IsWellKnownSid(sids[0], WinLocalSystemSid));
  svc_accounts_free(sids, 1);
  sids = resolve_ok("S-1-5-32-544,S-1-5-11,S-1-1-0", 3);
  ck_assert(IsWellKnownSid(sids[0], WinBuiltinAdministratorsSid));
  ck_assert(IsWellKnownSid(sids[1], WinAuthenticatedUserSid));
  ck_assert(IsWellKnownSid(sids[2], WinWorldSid));
  svc_accounts_free(sids, 3);
  sids = resolve_ok(me, 1);
  ck_assert(test_sid_is_self(sids[0]));
  svc_accounts_free(sids, 1);
  free(me);
}
END_TEST

START_TEST(test_grants_sid_string_limits) {
  /* The largest sub-authority, the most sub-authorities (15), and a
   * lower-case 's' are all still SIDs. */
  PSID *sids = resolve_ok("S-1-5-21-1-2-3-4294967295", 1);
  char *text = svc_sid_string(sids[0]);
  ck_assert_str_eq(text, "S-1-5-21-1-2-3-4294967295");
  free(text);
  svc_accounts_free(sids, 1);
  sids = resolve_ok("S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14", 1);
  ck_assert_uint_eq(*GetSidSubAuthorityCount(sids[0]), 15);
  svc_accounts_free(sids, 1);
  sids = resolve_ok("s-1-5-18", 1);
  ck_assert(IsWellKnownSid(sids[0], WinLocalSystemSid));
  svc_accounts_free(sids, 1);
}
END_TEST

START_TEST(test_grants_well_known_names) {
  /* Every one of these resolves under Wine 8 and on an English Windows. */
  static const struct {
    const char *name;
    WELL_KNOWN_SID_TYPE sid;
  } names[] = {
      {"BUILTIN\\Administrators", WinBuiltinAdministratorsSid},
      {"Administrators", WinBuiltinAdministratorsSid},
      {"builtin\\administrators", WinBuiltinAdministratorsSid},
      {"NT AUTHORITY\\SYSTEM", WinLocalSystemSid},
      {"SYSTEM", WinLocalSystemSid},
      {"BUILTIN\\Users", WinBuiltinUsersSid},
      {"NT AUTHORITY\\Authenticated Users", WinAuthenticatedUserSid},
      {"Everyone", WinWorldSid},
      {"NT AUTHORITY\\LOCAL SERVICE", WinLocalServiceSid},
      {"NT AUTHORITY\\NETWORK SERVICE", WinNetworkServiceSid},
      {"NT AUTHORITY\\INTERACTIVE", WinInteractiveSid},
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    PSID *sids = resolve_ok(names[i].name, 1);
    ck_assert_msg(IsWellKnownSid(sids[0], names[i].sid),
                  "'%s' resolved to the wrong SID", names[i].name);
    svc_accounts_free(sids, 1);
  }
}
END_TEST

START_TEST(test_grants_own_account_by_name) {
  char *name = self_account_name();
  PSID *sids = resolve_ok(name, 1);
  ck_assert_msg(test_sid_is_self(sids[0]), "'%s' is not this process's account",
                name);
  svc_accounts_free(sids, 1);
  free(name);
}
END_TEST

START_TEST(test_grants_trimmed_in_order) {
  PSID *sids = resolve_ok(" \tBUILTIN\\Users ,NT AUTHORITY\\SYSTEM\t, "
                          "Everyone", 3);
  ck_assert(IsWellKnownSid(sids[0], WinBuiltinUsersSid));
  ck_assert(IsWellKnownSid(sids[1], WinLocalSystemSid));
  ck_assert(IsWellKnownSid(sids[2], WinWorldSid));
  svc_accounts_free(sids, 3);
}
END_TEST

START_TEST(test_grants_duplicates_collapse) {
  /* The same account by name, by qualified name and by SID is one SID. */
  PSID *sids = resolve_ok("SYSTEM, S-1-5-18, NT AUTHORITY\\SYSTEM, "
                          "BUILTIN\\Users, Users, S-1-5-32-545, SYSTEM", 2);
  ck_assert(IsWellKnownSid(sids[0], WinLocalSystemSid));
  ck_assert(IsWellKnownSid(sids[1], WinBuiltinUsersSid));
  svc_accounts_free(sids, 2);
  svc_accounts_free(NULL, 0);
}
END_TEST

START_TEST(test_grants_contain_compares_sids) {
  /* Membership is by SID value: a SID built here, not one of the array's
   * own pointers, is found; one that differs only in its last
   * sub-authority, or in the number of them, is not. */
  PSID *sids = resolve_ok("SYSTEM, BUILTIN\\Users", 2);
  BYTE users[SECURITY_MAX_SID_SIZE], admins[SECURITY_MAX_SID_SIZE];
  BYTE system[SECURITY_MAX_SID_SIZE], builtin[SECURITY_MAX_SID_SIZE];
  DWORD n;

  n = sizeof(users);
  ck_assert(CreateWellKnownSid(WinBuiltinUsersSid, NULL, users, &n));
  n = sizeof(admins);
  ck_assert(CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins, &n));
  n = sizeof(system);
  ck_assert(CreateWellKnownSid(WinLocalSystemSid, NULL, system, &n));
  n = sizeof(builtin);
  ck_assert(CreateWellKnownSid(WinBuiltinDomainSid, NULL, builtin, &n));
  ck_assert_msg(svc_accounts_contain(sids, 2, users),
                "BUILTIN\\Users (S-1-5-32-545) not found");
  ck_assert_msg(svc_accounts_contain(sids, 2, system),
                "SYSTEM (S-1-5-18) not found");
  ck_assert_msg(!svc_accounts_contain(sids, 2, admins),
                "Administrators (S-1-5-32-544) found in [SYSTEM, Users]");
  ck_assert_msg(!svc_accounts_contain(sids, 2, builtin),
                "BUILTIN (S-1-5-32) found in [SYSTEM, Users]");
  ck_assert_msg(!svc_accounts_contain(sids, 1, users),
                "Users found among the first SID only");
  ck_assert_msg(!svc_accounts_contain(sids, 0, system),
                "found in an empty list");
  svc_accounts_free(sids, 2);
}
END_TEST

/* ---- svc_accounts_resolve: refusals --------------------------------------- */

START_TEST(test_grants_unknown_account_refused) {
  resolve_refused("CONTOSO\\nobody", "unknown account 'CONTOSO\\nobody'",
                  "(Win32 error 1332)", NULL);
  /* Named even when it comes after good entries. */
  resolve_refused("BUILTIN\\Users, shmb-no-such-user-4711 ,SYSTEM",
                  "unknown account 'shmb-no-such-user-4711'", NULL);
  resolve_refused("Caf\xc3\xa9-nobody", "'Caf\xc3\xa9-nobody'", NULL);
}
END_TEST

START_TEST(test_grants_malformed_sid_refused) {
  /* Shapes Wine's own parser accepts or wraps, and plain garbage. */
  static const char *const bad[] = {
      "S-1-", "S-1-5-", "S-1-5-x", "S-1-5-18-", "S-1-5--18", "S-1-5-18abc",
      "S-1-5-4294967296", "S-1-5-99999999999999999999", "S-1-281474976710656-1",
      "S-1-5- 18", "S-1-+5-18", "S-1--5-18", "S-1-0x-18", "S-1-5-0x12",
      "S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char needle[128];
    snprintf(needle, sizeof(needle), "'%s' is not a valid SID", bad[i]);
    resolve_refused(bad[i], needle, NULL);
  }
  resolve_refused("SYSTEM, S-1-5-x", "'S-1-5-x' is not a valid SID", NULL);
}
END_TEST

START_TEST(test_grants_domain_refused) {
  /* BUILTIN alone is a domain: granting it would match no token. */
  resolve_refused("BUILTIN", "'BUILTIN' is a domain", NULL);
}
END_TEST

START_TEST(test_grants_empty_entries_refused) {
  /* The parser refuses these already; here they must not slip through as
   * LookupAccountNameW(""), which Wine resolves to the BUILTIN domain. */
  static const char *const lists[] = {"", " ", "\t", ",", "SYSTEM,",
                                      ",SYSTEM", "SYSTEM,,Users",
                                      "SYSTEM, \t ,Users"};
  for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
    resolve_refused(lists[i], "empty entry", NULL);
  resolve_refused(NULL, "empty entry", NULL);
}
END_TEST

START_TEST(test_grants_invalid_utf8_refused) {
  resolve_refused("SYSTEM,Caf\xc3", "not valid UTF-8", NULL);
}
END_TEST

/* ---- svc_grants_sddl ------------------------------------------------------ */

START_TEST(test_grants_sddl_read_only) {
  PSECURITY_DESCRIPTOR sd = grants_sd("BUILTIN\\Users", NULL);
  PACL dacl;
  ck_assert_uint_eq(allow_count(sd, &dacl), 1);
  /* READ_CONTROL | QUERY | MAP_READ: READ_CONTROL lets the SDK check the
   * section's owner. */
  ck_assert_uint_eq(mask_for(sd, WinBuiltinUsersSid), 0x20005);
  LocalFree(sd);
}
END_TEST

START_TEST(test_grants_sddl_write_implies_read) {
  PSECURITY_DESCRIPTOR sd = grants_sd(NULL, "S-1-5-18");
  PACL dacl;
  ck_assert_uint_eq(allow_count(sd, &dacl), 1);
  ck_assert_uint_eq(mask_for(sd, WinLocalSystemSid), 0x20007);
  LocalFree(sd);
}
END_TEST

START_TEST(test_grants_sddl_both_lists) {
  /* Readers first, then writers, each in the order written. */
  PSECURITY_DESCRIPTOR sd =
      grants_sd("BUILTIN\\Users, Everyone", "NT AUTHORITY\\SYSTEM, "
                "BUILTIN\\Administrators");
  PACL dacl;
  ck_assert_uint_eq(allow_count(sd, &dacl), 4);
  ck_assert(IsWellKnownSid(&allow_at(dacl, 0)->SidStart, WinBuiltinUsersSid));
  ck_assert_uint_eq(allow_at(dacl, 0)->Mask, 0x20005);
  ck_assert(IsWellKnownSid(&allow_at(dacl, 1)->SidStart, WinWorldSid));
  ck_assert_uint_eq(allow_at(dacl, 1)->Mask, 0x20005);
  ck_assert(IsWellKnownSid(&allow_at(dacl, 2)->SidStart, WinLocalSystemSid));
  ck_assert_uint_eq(allow_at(dacl, 2)->Mask, 0x20007);
  ck_assert(IsWellKnownSid(&allow_at(dacl, 3)->SidStart,
                           WinBuiltinAdministratorsSid));
  ck_assert_uint_eq(allow_at(dacl, 3)->Mask, 0x20007);
  LocalFree(sd);
}
END_TEST

START_TEST(test_grants_sddl_read_and_write_same_account) {
  /* Named in both lists (spelled differently): one write ACE, no read one. */
  PSECURITY_DESCRIPTOR sd = grants_sd("SYSTEM, BUILTIN\\Users", "S-1-5-18");
  PACL dacl;
  ck_assert_uint_eq(allow_count(sd, &dacl), 2);
  ck_assert_uint_eq(mask_for(sd, WinLocalSystemSid), 0x20007);
  ck_assert_uint_eq(mask_for(sd, WinBuiltinUsersSid), 0x20005);
  LocalFree(sd);
  sd = grants_sd("Everyone", "Everyone");
  ck_assert_uint_eq(allow_count(sd, &dacl), 1);
  ck_assert_uint_eq(mask_for(sd, WinWorldSid), 0x20007);
  LocalFree(sd);
}
END_TEST

START_TEST(test_grants_sddl_duplicates_collapse) {
  PSECURITY_DESCRIPTOR sd =
      grants_sd("Users, BUILTIN\\Users, S-1-5-32-545", "SYSTEM, S-1-5-18");
  PACL dacl;
  ck_assert_uint_eq(allow_count(sd, &dacl), 2);
  ck_assert_uint_eq(mask_for(sd, WinBuiltinUsersSid), 0x20005);
  ck_assert_uint_eq(mask_for(sd, WinLocalSystemSid), 0x20007);
  LocalFree(sd);
}
END_TEST

START_TEST(test_grants_sddl_errors_name_line_and_account) {
  grants_refused("BUILTIN\\Users, CONTOSO\\nobody", NULL, "line 5: ",
                 "'CONTOSO\\nobody'");
  grants_refused("BUILTIN\\Users", "SYSTEM, S-1-5-x", "line 6: ",
                 "'S-1-5-x' is not a valid SID");
  grants_refused("CONTOSO\\reader", "CONTOSO\\writer", "line 5: ",
                 "'CONTOSO\\reader'");
  grants_refused(NULL, NULL, "line 3: ", "neither read nor write");
}
END_TEST

/* ---- AccessCheck through the built descriptor ----------------------------- */

START_TEST(test_grants_access_read) {
  char *me = test_self_sid_text();
  ck_assert_uint_eq(granted(me, NULL), SHMB_WIRE_ACCESS_READ);
  free(me);
}
END_TEST

START_TEST(test_grants_access_write) {
  char *me = test_self_sid_text();
  ck_assert_uint_eq(granted(NULL, me),
                    SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
  ck_assert_uint_eq(granted(me, me),
                    SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
  free(me);
}
END_TEST

START_TEST(test_grants_access_by_name) {
  char *name = self_account_name();
  ck_assert_uint_eq(granted(name, "S-1-5-18"), SHMB_WIRE_ACCESS_READ);
  free(name);
}
END_TEST

START_TEST(test_grants_access_system_only) {
  ck_assert_uint_eq(granted("S-1-5-18", NULL), 0);
  ck_assert_uint_eq(granted(NULL, "NT AUTHORITY\\SYSTEM"), 0);
}
END_TEST

Suite *grants_suite(void) {
  Suite *s = suite_create("grants");
  TCase *tc = tcase_create("resolve");
  tcase_add_test(tc, test_grants_sid_strings);
  tcase_add_test(tc, test_grants_sid_string_limits);
  tcase_add_test(tc, test_grants_well_known_names);
  tcase_add_test(tc, test_grants_own_account_by_name);
  tcase_add_test(tc, test_grants_trimmed_in_order);
  tcase_add_test(tc, test_grants_duplicates_collapse);
  tcase_add_test(tc, test_grants_contain_compares_sids);
  suite_add_tcase(s, tc);

  tc = tcase_create("refusals");
  tcase_add_test(tc, test_grants_unknown_account_refused);
  tcase_add_test(tc, test_grants_malformed_sid_refused);
  tcase_add_test(tc, test_grants_domain_refused);
  tcase_add_test(tc, test_grants_empty_entries_refused);
  tcase_add_test(tc, test_grants_invalid_utf8_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("sddl");
  tcase_add_test(tc, test_grants_sddl_read_only);
  tcase_add_test(tc, test_grants_sddl_write_implies_read);
  tcase_add_test(tc, test_grants_sddl_both_lists);
  tcase_add_test(tc, test_grants_sddl_read_and_write_same_account);
  tcase_add_test(tc, test_grants_sddl_duplicates_collapse);
  tcase_add_test(tc, test_grants_sddl_errors_name_line_and_account);
  suite_add_tcase(s, tc);

  tc = tcase_create("access");
  tcase_add_test(tc, test_grants_access_read);
  tcase_add_test(tc, test_grants_access_write);
  tcase_add_test(tc, test_grants_access_by_name);
  tcase_add_test(tc, test_grants_access_system_only);
  suite_add_tcase(s, tc);
  return s;
}
