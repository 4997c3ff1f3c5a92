/*
 * Tests for the service's security descriptors (service/descriptor.c and
 * the pipe's in service/own_sd.c). These are the code that decides who may
 * touch shared memory, so the tests look at the descriptors the way the
 * kernel does: ACE by ACE, through GetSecurityDescriptorDacl and GetAce,
 * never by comparing SDDL strings (which would pass a wrong mask that prints
 * the same, and fail on harmless re-ordering of the text). Every kind of
 * descriptor the service must refuse is tried, and the refusal must be
 * SHMB_ECONFIG with a message an administrator can act on. What SDDL cannot
 * express under Wine (a NULL DACL: Wine parses NO_ACCESS_CONTROL as an empty
 * DACL) is built in memory and given to svc_sd_normalise directly. The
 * access check on these descriptors is check_access.c's.
 */
#include <windows.h>

#include <check.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "own_sd.h"
#include "sid.h"
#include "errors.h"
#include "winutil.h"

/* READ_CONTROL rides along with every map grant (the SDK's owner check). */
#define CLIENT_RIGHTS                                                          \
  (READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE)
#define DANGEROUS_RIGHTS (WRITE_DAC | WRITE_OWNER | DELETE)

/* svc_sd_from_sddl that must refuse with SHMB_ECONFIG, a message holding
 * `expect`, and no descriptor. */
static void sd_refused(const char *sddl, const char *expect) {
  PSECURITY_DESCRIPTOR sd = NULL;
  char *normalised = NULL;
  char err[512] = "";
  int rc = svc_sd_from_sddl(sddl, &sd, &normalised, err, sizeof(err));
  ck_assert_msg(rc == SHMB_ECONFIG, "svc_sd_from_sddl(\"%s\") = %s, expected "
                "SHMB_ECONFIG (err '%s')", sddl, shmb_err_name(rc), err);
  ck_assert_ptr_null(sd);
  ck_assert_ptr_null(normalised);
  ck_assert_msg(strstr(err, expect) != NULL,
                "message for \"%s\" is '%s', expected it to mention '%s'",
                sddl, err, expect);
}

static PACL dacl_of(PSECURITY_DESCRIPTOR sd) {
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  ck_assert(GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted));
  ck_assert_msg(present, "descriptor has no DACL");
  ck_assert_msg(dacl != NULL, "descriptor has a NULL DACL");
  return dacl;
}

static DWORD ace_count(PACL acl) {
  ACL_SIZE_INFORMATION info;
  ck_assert(GetAclInformation(acl, &info, sizeof(info), AclSizeInformation));
  return info.AceCount;
}

/* One allow or deny ACE, by index; any other type fails the test. */
typedef struct ace_view {
  BYTE type;
  ACCESS_MASK mask;
  PSID sid;
} ace_view;

static ace_view ace_at(PACL acl, DWORD i) {
  ACE_HEADER *h = NULL;
  ace_view v;
  ck_assert(GetAce(acl, i, (void **)&h));
  v.type = h->AceType;
  if (h->AceType == ACCESS_ALLOWED_ACE_TYPE) {
    v.mask = ((ACCESS_ALLOWED_ACE *)h)->Mask;
    v.sid = &((ACCESS_ALLOWED_ACE *)h)->SidStart;
  } else {
    ck_assert_msg(h->AceType == ACCESS_DENIED_ACE_TYPE,
                  "ACE %lu has type %u", (unsigned long)i, h->AceType);
    v.mask = ((ACCESS_DENIED_ACE *)h)->Mask;
    v.sid = &((ACCESS_DENIED_ACE *)h)->SidStart;
  }
  ck_assert(IsValidSid(v.sid));
  return v;
}

/* The one ACE of a type for a well-known SID: its mask; fails the test if
 * there is none or more than one. */
static ACCESS_MASK only_ace_for(PACL acl, BYTE type, WELL_KNOWN_SID_TYPE who) {
  ACCESS_MASK mask = 0;
  int found = 0;
  for (DWORD i = 0; i < ace_count(acl); i++) {
    ace_view v = ace_at(acl, i);
    if (v.type == type && IsWellKnownSid(v.sid, who)) {
      mask = v.mask;
      found++;
    }
  }
  ck_assert_msg(found == 1, "%d ACEs of type %u for well-known SID %d, "
                "expected 1", found, type, (int)who);
  return mask;
}

static int sd_is_protected(PSECURITY_DESCRIPTOR sd) {
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision;
  ck_assert(GetSecurityDescriptorControl(sd, &control, &revision));
  return (control & SE_DACL_PROTECTED) != 0;
}

/* ----- svc_sd_from_sddl: what a valid SDDL becomes ----- */

START_TEST(test_descriptor_owner_group_are_self) {
  /* The administrator's O: and G: are replaced, not trusted. */
  PSECURITY_DESCRIPTOR sd = test_sd_ok("O:BAG:BAD:(A;;GR;;;AU)");
  PSID owner = NULL, group = NULL;
  BOOL defaulted;

  ck_assert(GetSecurityDescriptorOwner(sd, &owner, &defaulted));
  ck_assert(GetSecurityDescriptorGroup(sd, &group, &defaulted));
  ck_assert_ptr_nonnull(owner);
  ck_assert_ptr_nonnull(group);
  ck_assert_msg(test_sid_is_self(owner), "owner is not the process's own SID");
  ck_assert_msg(test_sid_is_self(group), "group is not the process's own SID");
  ck_assert_msg(!IsWellKnownSid(owner, WinBuiltinAdministratorsSid),
                "the SDDL's O:BA survived");
  ck_assert_msg(sd_is_protected(sd), "DACL is not protected");
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_owner_added_when_absent) {
  /* Without O: and G:, AccessCheck would fail (1338): they must be set. */
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:(A;;GR;;;AU)");
  PSID owner = NULL, group = NULL;
  BOOL defaulted;

  ck_assert(GetSecurityDescriptorOwner(sd, &owner, &defaulted));
  ck_assert(GetSecurityDescriptorGroup(sd, &group, &defaulted));
  ck_assert_msg(owner && test_sid_is_self(owner), "owner missing or not self");
  ck_assert_msg(group && test_sid_is_self(group), "group missing or not self");
  ck_assert(sd_is_protected(sd));
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_normalised_text) {
  /* The normalised SDDL (for the log) describes the same descriptor. */
  PSECURITY_DESCRIPTOR sd = NULL;
  char *normalised = NULL, *me = test_self_sid_text();
  char err[512] = "", owner[512];
  int rc = svc_sd_from_sddl("D:(A;;GA;;;AU)", &sd, &normalised, err,
                            sizeof(err));

  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);
  ck_assert_ptr_nonnull(normalised);
  /* SDDL prints LocalSystem by its alias; other accounts as S-1-... */
  if (strcmp(me, "S-1-5-18") == 0)
    snprintf(owner, sizeof(owner), "O:SYG:SYD:P");
  else
    snprintf(owner, sizeof(owner), "O:%sG:%sD:P", me, me);
  ck_assert_msg(strncmp(normalised, owner, strlen(owner)) == 0,
                "normalised '%s' does not start with '%s'", normalised, owner);
  ck_assert_msg(strstr(normalised, "GA") == NULL,
                "normalised '%s' still grants GA", normalised);
  free(normalised);
  free(me);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_generic_all_narrowed) {
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:(A;;GA;;;AU)");
  PACL dacl = dacl_of(sd);
  ace_view v;

  ck_assert_uint_eq(ace_count(dacl), 1);
  v = ace_at(dacl, 0);
  ck_assert_uint_eq(v.type, ACCESS_ALLOWED_ACE_TYPE);
  ck_assert(IsWellKnownSid(v.sid, WinAuthenticatedUserSid));
  ck_assert_uint_eq(v.mask, CLIENT_RIGHTS);
  ck_assert_uint_eq(v.mask, 0x20007); /* RC | QUERY 1 | MAP_WRITE 2 | MAP_READ 4 */
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_specific_all_access_narrowed) {
  /* The same rights spelled as specific bits (SECTION_ALL_ACCESS) and as
   * file rights (FA) must be narrowed just like GA. */
  static const char *const sddls[] = {
      "D:(A;;0xF001F;;;AU)",
      "D:(A;;FA;;;AU)",
      "D:(A;;0x1FFFFFFF;;;AU)",
  };
  for (size_t i = 0; i < sizeof(sddls) / sizeof(sddls[0]); i++) {
    PSECURITY_DESCRIPTOR sd = test_sd_ok(sddls[i]);
    ACCESS_MASK m = only_ace_for(dacl_of(sd), ACCESS_ALLOWED_ACE_TYPE,
                                 WinAuthenticatedUserSid);
    ck_assert_msg(m == CLIENT_RIGHTS, "%s: mask 0x%lx, expected 0x%lx",
                  sddls[i], (unsigned long)m, (unsigned long)CLIENT_RIGHTS);
    LocalFree(sd);
  }
}
END_TEST

START_TEST(test_descriptor_generic_read_maps_to_query_read) {
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:(A;;GR;;;AU)");
  ACCESS_MASK m = only_ace_for(dacl_of(sd), ACCESS_ALLOWED_ACE_TYPE,
                               WinAuthenticatedUserSid);
  ck_assert_uint_eq(m, READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_generic_write_maps_to_map_write) {
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:(A;;GW;;;AU)(A;;GRGW;;;BA)");
  PACL dacl = dacl_of(sd);
  ck_assert_uint_eq(only_ace_for(dacl, ACCESS_ALLOWED_ACE_TYPE,
                                 WinAuthenticatedUserSid),
                    READ_CONTROL | SECTION_MAP_WRITE);
  ck_assert_uint_eq(only_ace_for(dacl, ACCESS_ALLOWED_ACE_TYPE,
                                 WinBuiltinAdministratorsSid),
                    CLIENT_RIGHTS);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_dangerous_rights_never_allowed) {
  /* SD = DELETE, WD = WRITE_DAC, WO = WRITE_OWNER, RC = READ_CONTROL. An
   * ACE with nothing but those grants a client nothing and disappears; RC
   * stays only beside a map right. */
  PSECURITY_DESCRIPTOR sd =
      test_sd_ok("D:(A;;GA;;;BA)(A;;WDWOSD;;;AU)(A;;GRWDWOSDRC;;;WD)"
                 "(A;;0xF0000;;;IU)");
  PACL dacl = dacl_of(sd);
  DWORD n = ace_count(dacl);

  ck_assert_uint_eq(n, 2);
  for (DWORD i = 0; i < n; i++) {
    ace_view v = ace_at(dacl, i);
    ck_assert_uint_eq(v.type, ACCESS_ALLOWED_ACE_TYPE);
    ck_assert_msg((v.mask & DANGEROUS_RIGHTS) == 0,
                  "allow ACE %lu keeps 0x%lx", (unsigned long)i,
                  (unsigned long)(v.mask & DANGEROUS_RIGHTS));
    ck_assert_msg((v.mask & ~(ACCESS_MASK)CLIENT_RIGHTS) == 0,
                  "allow ACE %lu grants 0x%lx beyond the client rights",
                  (unsigned long)i, (unsigned long)v.mask);
    ck_assert(!IsWellKnownSid(v.sid, WinAuthenticatedUserSid));
    ck_assert(!IsWellKnownSid(v.sid, WinInteractiveSid));
  }
  ck_assert_uint_eq(only_ace_for(dacl, ACCESS_ALLOWED_ACE_TYPE, WinWorldSid),
                    READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_deny_aces_kept) {
  /* Deny ACEs keep everything they deny (generic bits mapped), including
   * rights a client could never be granted, and keep their place. */
  PSECURITY_DESCRIPTOR sd =
      test_sd_ok("D:(D;;GW;;;NU)(D;;WDWOSD;;;WD)(A;;GA;;;AU)");
  PACL dacl = dacl_of(sd);
  ace_view v;

  ck_assert_uint_eq(ace_count(dacl), 3);
  v = ace_at(dacl, 0);
  ck_assert_uint_eq(v.type, ACCESS_DENIED_ACE_TYPE);
  ck_assert(IsWellKnownSid(v.sid, WinNetworkSid));
  ck_assert_uint_eq(v.mask, STANDARD_RIGHTS_WRITE | SECTION_MAP_WRITE);
  v = ace_at(dacl, 1);
  ck_assert_uint_eq(v.type, ACCESS_DENIED_ACE_TYPE);
  ck_assert(IsWellKnownSid(v.sid, WinWorldSid));
  ck_assert_uint_eq(v.mask, DANGEROUS_RIGHTS);
  v = ace_at(dacl, 2);
  ck_assert_uint_eq(v.type, ACCESS_ALLOWED_ACE_TYPE);
  ck_assert_uint_eq(v.mask, CLIENT_RIGHTS);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_deny_generic_all_is_total) {
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:(D;;GA;;;NU)(A;;GR;;;AU)");
  ACCESS_MASK m =
      only_ace_for(dacl_of(sd), ACCESS_DENIED_ACE_TYPE, WinNetworkSid);
  ck_assert_msg((m & SECTION_ALL_ACCESS) == SECTION_ALL_ACCESS,
                "deny GA became 0x%lx", (unsigned long)m);
  ck_assert_msg((m & GENERIC_ALL) == 0, "generic bit left unmapped: 0x%lx",
                (unsigned long)m);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_execute_only_allow_dropped) {
  PSECURITY_DESCRIPTOR sd =
      test_sd_ok("D:(A;;GX;;;AU)(A;;0x8;;;IU)(A;;GR;;;BA)");
  PACL dacl = dacl_of(sd);
  ace_view v;

  ck_assert_uint_eq(ace_count(dacl), 1);
  v = ace_at(dacl, 0);
  ck_assert(IsWellKnownSid(v.sid, WinBuiltinAdministratorsSid));
  ck_assert_uint_eq(v.mask, READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_execute_stripped_from_allow) {
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:(A;;GRGX;;;AU)");
  ACCESS_MASK m = only_ace_for(dacl_of(sd), ACCESS_ALLOWED_ACE_TYPE,
                               WinAuthenticatedUserSid);
  ck_assert_uint_eq(m & SECTION_MAP_EXECUTE, 0);
  ck_assert_uint_eq(m, READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ);
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_inherit_only_dropped) {
  /* An inherit-only ACE does not apply to the section itself. */
  PSECURITY_DESCRIPTOR sd = test_sd_ok("D:(A;OICIIO;GA;;;AU)(A;;GR;;;BA)");
  PACL dacl = dacl_of(sd);
  ck_assert_uint_eq(ace_count(dacl), 1);
  ck_assert(IsWellKnownSid(ace_at(dacl, 0).sid, WinBuiltinAdministratorsSid));
  LocalFree(sd);
}
END_TEST



/* ----- svc_sd_from_sddl: refusals ----- */

START_TEST(test_descriptor_invalid_text_refused) {
  sd_refused("this is not SDDL", "not a valid security descriptor");
  sd_refused("D:(A;;GR;;;AU", "not a valid security descriptor");
  sd_refused("D:(A;;GR;;;NOT-A-SID)", "not a valid security descriptor");
  sd_refused("D:(Z;;GR;;;AU)", "not a valid security descriptor");
}
END_TEST

START_TEST(test_descriptor_invalid_text_quoted) {
  /* The message repeats the text so the administrator sees which one. */
  sd_refused("D:(A;;GR;;;AU", "D:(A;;GR;;;AU");
}
END_TEST

START_TEST(test_descriptor_no_dacl_refused) {
  sd_refused("O:SYG:SY", "no DACL");
}
END_TEST

/* What the platform's own SDDL parser makes of text (LocalFree), or NULL. */
static PSECURITY_DESCRIPTOR platform_parse(const char *sddl) {
  wchar_t w[512];
  PSECURITY_DESCRIPTOR sd = NULL;
  ck_assert(MultiByteToWideChar(CP_UTF8, 0, sddl, -1, w, 512) > 0);
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          w, SDDL_REVISION_1, &sd, NULL))
    return NULL;
  return sd;
}

static void check_null_dacl_text(const char *sddl) {
  PSECURITY_DESCRIPTOR raw = platform_parse(sddl);
  BOOL present = FALSE, defaulted;
  PACL dacl = NULL;

  ck_assert_ptr_nonnull(raw);
  ck_assert(GetSecurityDescriptorDacl(raw, &present, &dacl, &defaulted));
  LocalFree(raw);
  if (present && dacl == NULL) {
    /* Windows: a NULL DACL, which would let everyone in. */
    sd_refused(sddl, "NULL DACL");
  } else {
    /* Wine 8 parses NO_ACCESS_CONTROL as an empty DACL, so the NULL-DACL
     * branch cannot be reached there; the empty DACL is refused instead. */
    sd_refused(sddl, "grants no one");
  }
}

START_TEST(test_descriptor_null_dacl_refused) {
  check_null_dacl_text("D:NO_ACCESS_CONTROL");
  check_null_dacl_text("O:SYG:SYD:NO_ACCESS_CONTROL");
}
END_TEST

START_TEST(test_descriptor_grants_no_one_refused) {
  /* A DACL that lets nobody map the section is a mistake, whether it is
   * empty, only denies, or only allows what gets stripped. */
  sd_refused("D:", "grants no one");
  sd_refused("D:P", "grants no one");
  sd_refused("D:(D;;GA;;;NU)", "grants no one");
  sd_refused("D:(A;;GX;;;AU)(A;;WDWOSD;;;BA)", "grants no one");
  sd_refused("D:(A;IO;GA;;;AU)", "grants no one");
  /* Query alone opens nothing that could be mapped. */
  sd_refused("D:(A;;0x1;;;AU)", "grants no one");
}
END_TEST

START_TEST(test_descriptor_sacl_refused) {
  sd_refused("D:(A;;GR;;;AU)S:(AU;SA;GA;;;WD)", "SACL");
  sd_refused("S:(AU;SA;GA;;;WD)", "SACL");
}
END_TEST

START_TEST(test_descriptor_object_ace_refused) {
  static const char *const sddls[] = {
      "D:(A;;GR;;;BA)(OA;;GR;bf967aba-0de6-11d0-a285-00aa003049e2;;AU)",
      "D:(A;;GR;;;BA)(OA;;GR;;;AU)",
      "D:(OD;;GW;;;AU)(A;;GR;;;BA)",
  };
  for (size_t i = 0; i < sizeof(sddls) / sizeof(sddls[0]); i++) {
    PSECURITY_DESCRIPTOR raw = platform_parse(sddls[i]);
    if (raw) {
      /* Windows: parsed, then refused by the ACE type check. */
      LocalFree(raw);
      sd_refused(sddls[i], "only allow (A) and deny (D)");
    } else {
      /* Wine 8 cannot parse object ACEs at all (error 1705). */
      sd_refused(sddls[i], "not a valid security descriptor");
    }
  }
}
END_TEST

START_TEST(test_descriptor_foreign_ace_types_refused) {
  /* Parsed by Windows and Wine alike, so the ACE type check is reached
   * everywhere: an audit ACE and a mandatory label put in the DACL. */
  sd_refused("D:(A;;GR;;;BA)(AU;SA;GA;;;WD)", "only allow (A) and deny (D)");
  sd_refused("D:(ML;;NW;;;LW)(A;;GR;;;BA)", "only allow (A) and deny (D)");
}
END_TEST

/* ----- svc_sd_normalise: descriptors built in memory ----- */

/* svc_sd_normalise that must refuse `in` (described by `what`) with
 * SHMB_ECONFIG, a message holding `expect`, and no descriptor or text. */
static void normalise_refused(PSECURITY_DESCRIPTOR in, const char *what,
                              const char *expect) {
  PSECURITY_DESCRIPTOR sd = NULL;
  char *normalised = NULL;
  char err[512] = "", note[256];
  int rc;

  snprintf(note, sizeof(note), "svc_sd_normalise(%s), which must refuse it "
           "before reading the DACL", what);
  test_crash_note(note);
  rc = svc_sd_normalise(in, &sd, &normalised, err, sizeof(err));
  test_crash_note(NULL);
  ck_assert_msg(rc == SHMB_ECONFIG, "svc_sd_normalise(%s) = %s, expected "
                "SHMB_ECONFIG (err '%s')", what, shmb_err_name(rc), err);
  ck_assert_msg(sd == NULL, "svc_sd_normalise(%s) refused but returned a "
                "descriptor", what);
  ck_assert_msg(normalised == NULL, "svc_sd_normalise(%s) refused but "
                "returned text '%s'", what, normalised);
  ck_assert_msg(strstr(err, expect) != NULL, "message for %s is '%s', "
                "expected it to mention '%s'", what, err, expect);
}

/* A self-relative copy of an absolute descriptor (LocalFree). */
static PSECURITY_DESCRIPTOR self_relative(PSECURITY_DESCRIPTOR abs) {
  DWORD len = 0;
  PSECURITY_DESCRIPTOR rel;
  MakeSelfRelativeSD(abs, NULL, &len);
  ck_assert_uint_gt(len, 0);
  rel = LocalAlloc(LMEM_FIXED, len);
  ck_assert_ptr_nonnull(rel);
  ck_assert_msg(MakeSelfRelativeSD(abs, rel, &len),
                "MakeSelfRelativeSD: Win32 error %lu",
                (unsigned long)GetLastError());
  return rel;
}

/* A well-known SID in caller-provided storage. */
static PSID well_known(WELL_KNOWN_SID_TYPE type,
                       BYTE buf[SECURITY_MAX_SID_SIZE]) {
  DWORD len = SECURITY_MAX_SID_SIZE;
  ck_assert_msg(CreateWellKnownSid(type, NULL, buf, &len),
                "CreateWellKnownSid(%d): Win32 error %lu", (int)type,
                (unsigned long)GetLastError());
  return (PSID)buf;
}

/* An ACL holding one allow ACE of mask for sid, in caller-provided storage. */
static PACL allow_acl(BYTE *buf, DWORD size, ACCESS_MASK mask, PSID sid) {
  PACL acl = (PACL)buf;
  ck_assert(InitializeAcl(acl, size, ACL_REVISION));
  ck_assert(AddAccessAllowedAce(acl, ACL_REVISION, mask, sid));
  return acl;
}

START_TEST(test_descriptor_normalise_null_dacl_refused) {
  /* Windows parses D:NO_ACCESS_CONTROL into exactly this; Wine does not,
   * so the descriptor is made by hand: a DACL present and NULL, which would
   * give everyone full access to the section. */
  SECURITY_DESCRIPTOR abs;
  PSECURITY_DESCRIPTOR rel;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = (PACL)&abs; /* must come back NULL */
  BYTE owner[SECURITY_MAX_SID_SIZE];

  ck_assert(InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION));
  ck_assert(SetSecurityDescriptorDacl(&abs, TRUE, NULL, FALSE));
  /* The premise: this really is the NULL-DACL case, not an empty DACL. */
  ck_assert(GetSecurityDescriptorDacl(&abs, &present, &dacl, &defaulted));
  ck_assert_msg(present && dacl == NULL, "the hand-made descriptor is not "
                "a NULL DACL (present %d, dacl %p)", (int)present,
                (void *)dacl);
  normalise_refused(&abs, "an absolute NULL DACL", "NULL DACL");

  /* With an owner, and self-relative as a parser would hand it over. */
  ck_assert(SetSecurityDescriptorOwner(
      &abs, well_known(WinLocalSystemSid, owner), FALSE));
  rel = self_relative(&abs);
  ck_assert(GetSecurityDescriptorDacl(rel, &present, &dacl, &defaulted));
  ck_assert_msg(present && dacl == NULL, "the self-relative copy lost the "
                "NULL DACL");
  normalise_refused(rel, "a self-relative NULL DACL", "NULL DACL");
  LocalFree(rel);
}
END_TEST

START_TEST(test_descriptor_normalise_no_dacl_refused) {
  SECURITY_DESCRIPTOR abs;
  PSECURITY_DESCRIPTOR rel;
  BYTE owner[SECURITY_MAX_SID_SIZE];

  ck_assert(InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION));
  normalise_refused(&abs, "a descriptor without a DACL", "no DACL");
  ck_assert(SetSecurityDescriptorOwner(
      &abs, well_known(WinLocalSystemSid, owner), FALSE));
  rel = self_relative(&abs);
  normalise_refused(rel, "a self-relative descriptor without a DACL",
                    "no DACL");
  LocalFree(rel);
}
END_TEST

START_TEST(test_descriptor_normalise_sacl_refused) {
  /* A DACL the service would accept on its own, plus a SACL: the SACL
   * alone must be the reason. */
  SECURITY_DESCRIPTOR abs;
  PSECURITY_DESCRIPTOR rel;
  BYTE au[SECURITY_MAX_SID_SIZE], wd[SECURITY_MAX_SID_SIZE];
  BYTE dbuf[256], sbuf[256];
  PACL sacl = (PACL)sbuf;

  ck_assert(InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION));
  ck_assert(SetSecurityDescriptorDacl(
      &abs, TRUE,
      allow_acl(dbuf, sizeof(dbuf), GENERIC_READ,
                well_known(WinAuthenticatedUserSid, au)),
      FALSE));
  ck_assert(InitializeAcl(sacl, sizeof(sbuf), ACL_REVISION));
  ck_assert(AddAuditAccessAce(sacl, ACL_REVISION, GENERIC_ALL,
                              well_known(WinWorldSid, wd), TRUE, TRUE));
  ck_assert(SetSecurityDescriptorSacl(&abs, TRUE, sacl, FALSE));
  normalise_refused(&abs, "a descriptor with an audit SACL", "SACL");
  rel = self_relative(&abs);
  normalise_refused(rel, "a self-relative descriptor with an audit SACL",
                    "SACL");
  LocalFree(rel);

  /* Present but NULL is still a SACL the service does not handle. */
  ck_assert(SetSecurityDescriptorSacl(&abs, TRUE, NULL, FALSE));
  normalise_refused(&abs, "a descriptor with a NULL SACL", "SACL");
}
END_TEST

START_TEST(test_descriptor_normalise_in_memory_dacl) {
  /* The same path accepts a good DACL built in memory and narrows it, so
   * the refusals above come from what each descriptor lacks or adds. */
  SECURITY_DESCRIPTOR abs;
  PSECURITY_DESCRIPTOR sd = NULL;
  BYTE wd[SECURITY_MAX_SID_SIZE], dbuf[256];
  char *normalised = NULL, err[512] = "";
  PSID owner = NULL;
  BOOL defaulted;
  int rc;

  ck_assert(InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION));
  ck_assert(SetSecurityDescriptorDacl(
      &abs, TRUE,
      allow_acl(dbuf, sizeof(dbuf), GENERIC_ALL, well_known(WinWorldSid, wd)),
      FALSE));
  rc = svc_sd_normalise(&abs, &sd, &normalised, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_sd_normalise(allow GA to Everyone) = %s: %s",
                shmb_err_name(rc), err);
  ck_assert_ptr_nonnull(normalised);
  ck_assert_uint_eq(only_ace_for(dacl_of(sd), ACCESS_ALLOWED_ACE_TYPE,
                                 WinWorldSid),
                    CLIENT_RIGHTS);
  ck_assert(GetSecurityDescriptorOwner(sd, &owner, &defaulted));
  ck_assert_msg(owner && test_sid_is_self(owner), "owner is not self");
  ck_assert(sd_is_protected(sd));
  free(normalised);
  LocalFree(sd);
}
END_TEST

/* ----- svc_pipe_sd ----- */

START_TEST(test_descriptor_pipe_owner_self) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL;
  BOOL defaulted;
  char err[512] = "";
  int rc = svc_pipe_sd(0, &sd, err, sizeof(err));

  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);
  ck_assert(IsValidSecurityDescriptor(sd));
  ck_assert(GetSecurityDescriptorOwner(sd, &owner, &defaulted));
  ck_assert_msg(owner && test_sid_is_self(owner), "pipe owner is not self");
  ck_assert(sd_is_protected(sd));
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_pipe_clients_cannot_create_instances) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PACL dacl;
  ACCESS_MASK m;
  char err[512] = "";

  ck_assert_int_eq(svc_pipe_sd(0, &sd, err, sizeof(err)), 0);
  dacl = dacl_of(sd);
  m = only_ace_for(dacl, ACCESS_ALLOWED_ACE_TYPE, WinAuthenticatedUserSid);
  ck_assert_msg((m & FILE_CREATE_PIPE_INSTANCE) == 0,
                "AU may create pipe instances (mask 0x%lx)", (unsigned long)m);
  ck_assert_msg((m & (GENERIC_ALL | GENERIC_WRITE)) == 0,
                "AU mask 0x%lx has a generic right that includes 0x4",
                (unsigned long)m);
  ck_assert_uint_eq(m & (FILE_READ_DATA | FILE_WRITE_DATA),
                    FILE_READ_DATA | FILE_WRITE_DATA);
  ck_assert_uint_eq(m & (WRITE_DAC | WRITE_OWNER | DELETE), 0);
  /* Nobody else broad (Everyone, Users, Interactive) is granted anything. */
  for (DWORD i = 0; i < ace_count(dacl); i++) {
    ace_view v = ace_at(dacl, i);
    if (v.type != ACCESS_ALLOWED_ACE_TYPE)
      continue;
    ck_assert(!IsWellKnownSid(v.sid, WinWorldSid));
    ck_assert(!IsWellKnownSid(v.sid, WinBuiltinUsersSid));
    ck_assert(!IsWellKnownSid(v.sid, WinInteractiveSid));
    ck_assert(!IsWellKnownSid(v.sid, WinAnonymousSid));
  }
  LocalFree(sd);
}
END_TEST

START_TEST(test_descriptor_pipe_network_denied) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PACL dacl;
  ACCESS_MASK m;
  ace_view first;
  char err[512] = "";

  ck_assert_int_eq(svc_pipe_sd(0, &sd, err, sizeof(err)), 0);
  dacl = dacl_of(sd);
  m = only_ace_for(dacl, ACCESS_DENIED_ACE_TYPE, WinNetworkSid);
  ck_assert_msg((m & GENERIC_ALL) ||
                    (m & FILE_ALL_ACCESS) == FILE_ALL_ACCESS,
                "network deny mask 0x%lx is not total", (unsigned long)m);
  /* First, so no allow ACE is seen before it. */
  first = ace_at(dacl, 0);
  ck_assert_uint_eq(first.type, ACCESS_DENIED_ACE_TYPE);
  ck_assert(IsWellKnownSid(first.sid, WinNetworkSid));
  LocalFree(sd);
}
END_TEST

/* ----- svc_sd_from_sddl: order ----- */

START_TEST(test_descriptor_deny_after_allow_refused) {
  /* AccessCheck may never reach a deny placed after an allow that already
   * grants what was asked, so non-canonical order is refused. */
  sd_refused("D:(A;;GA;;;AU)(D;;GW;;;NU)", "deny (D) ACE after an allow");
  sd_refused("D:(A;;GX;;;AU)(D;;GW;;;NU)(A;;GR;;;BA)",
             "deny (D) ACE after an allow");
}
END_TEST

Suite *descriptor_suite(void) {
  Suite *s = suite_create("descriptor");
  TCase *tc = tcase_create("section_sd");
  tcase_add_test(tc, test_descriptor_owner_group_are_self);
  tcase_add_test(tc, test_descriptor_owner_added_when_absent);
  tcase_add_test(tc, test_descriptor_normalised_text);
  tcase_add_test(tc, test_descriptor_generic_all_narrowed);
  tcase_add_test(tc, test_descriptor_specific_all_access_narrowed);
  tcase_add_test(tc, test_descriptor_generic_read_maps_to_query_read);
  tcase_add_test(tc, test_descriptor_generic_write_maps_to_map_write);
  tcase_add_test(tc, test_descriptor_dangerous_rights_never_allowed);
  tcase_add_test(tc, test_descriptor_deny_aces_kept);
  tcase_add_test(tc, test_descriptor_deny_generic_all_is_total);
  tcase_add_test(tc, test_descriptor_execute_only_allow_dropped);
  tcase_add_test(tc, test_descriptor_execute_stripped_from_allow);
  tcase_add_test(tc, test_descriptor_inherit_only_dropped);
  suite_add_tcase(s, tc);

  tc = tcase_create("refusals");
  tcase_add_test(tc, test_descriptor_invalid_text_refused);
  tcase_add_test(tc, test_descriptor_invalid_text_quoted);
  tcase_add_test(tc, test_descriptor_no_dacl_refused);
  tcase_add_test(tc, test_descriptor_null_dacl_refused);
  tcase_add_test(tc, test_descriptor_grants_no_one_refused);
  tcase_add_test(tc, test_descriptor_sacl_refused);
  tcase_add_test(tc, test_descriptor_object_ace_refused);
  tcase_add_test(tc, test_descriptor_foreign_ace_types_refused);
  tcase_add_test(tc, test_descriptor_deny_after_allow_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("normalise");
  tcase_add_test(tc, test_descriptor_normalise_null_dacl_refused);
  tcase_add_test(tc, test_descriptor_normalise_no_dacl_refused);
  tcase_add_test(tc, test_descriptor_normalise_sacl_refused);
  tcase_add_test(tc, test_descriptor_normalise_in_memory_dacl);
  suite_add_tcase(s, tc);

  tc = tcase_create("pipe_sd");
  tcase_add_test(tc, test_descriptor_pipe_owner_self);
  tcase_add_test(tc, test_descriptor_pipe_clients_cannot_create_instances);
  tcase_add_test(tc, test_descriptor_pipe_network_denied);
  suite_add_tcase(s, tc);

  return s;
}
