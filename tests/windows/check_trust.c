/*
 * Tests for the config file's trust check (service/trust.c). A config that
 * an ordinary user can write lets that user grant themself any section, so
 * the decision is tested on its own first: svc_trust_check_sd on
 * descriptors written in SDDL, one dangerous right and one account at a
 * time, including the two traps of reading a DACL by hand (an inherit-only
 * ACE does not apply to the object; a deny ACE must not be credited, since
 * the check refuses layouts that depend on ACE order). Then
 * svc_config_trusted on real files and folders in a temp folder, whose
 * descriptors are set with SetNamedSecurityInfoW, as an administrator would.
 * Messages are checked for what the administrator needs (the path and the
 * account's SID), not for their wording.
 */
#include <windows.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "errors.h"
#include "sid.h"
#include "trust.h"
#include "winutil.h"

#define WHAT "C:\\shmb-trust-test\\shmb.conf"

/* svc_trust_check_sd of an SDDL template ("{me}": this process's SID, the
 * service's own account here), with self or without it. */
static int check_sd(const char *tmpl, DWORD dangerous, int with_self,
                    char *err, size_t errlen) {
  char *me = test_self_sid_text();
  char sddl[1024], perr[512] = "";
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID self = NULL;
  int rc;

  test_with_sid(tmpl, me, sddl, sizeof(sddl));
  free(me);
  rc = svc_sd_parse(sddl, &sd, perr, sizeof(perr));
  ck_assert_msg(rc == 0, "svc_sd_parse(\"%s\"): %s", sddl, perr);
  if (with_self)
    ck_assert_int_eq(svc_self_sid(&self), 0);
  err[0] = '\0';
  rc = svc_trust_check_sd(WHAT, sd, dangerous, self, err, errlen);
  LocalFree(self);
  LocalFree(sd);
  return rc;
}

static void expect_trusted(const char *tmpl, DWORD dangerous) {
  char err[512];
  int rc = check_sd(tmpl, dangerous, 1, err, sizeof(err));
  ck_assert_msg(rc == 0, "\"%s\" (dangerous 0x%lx) = %s, expected trusted: "
                "%s", tmpl, (unsigned long)dangerous, shmb_err_name(rc), err);
}

/* Refused with SHMB_EACCES, a message naming the path and `who`. */
static void expect_refused(const char *tmpl, DWORD dangerous, const char *who) {
  char err[512];
  int rc = check_sd(tmpl, dangerous, 1, err, sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "\"%s\" (dangerous 0x%lx) = %s, expected "
                "SHMB_EACCES (err '%s')", tmpl, (unsigned long)dangerous,
                shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, WHAT) != NULL, "message for \"%s\" does not "
                "name the path: '%s'", tmpl, err);
  ck_assert_msg(strstr(err, who) != NULL, "message for \"%s\" does not name "
                "%s: '%s'", tmpl, who, err);
}

/* ----- svc_trust_check_sd ----- */

START_TEST(test_trust_untrusted_owner_refused) {
  /* An owner can always rewrite the DACL, whatever the DACL says. */
  expect_refused("O:WDG:SYD:P(A;;FA;;;SY)", SVC_FILE_DANGEROUS, "S-1-1-0");
  expect_refused("O:AUG:SYD:P(A;;FA;;;SY)", SVC_FILE_DANGEROUS, "S-1-5-11");
  expect_refused("O:BUD:P(A;;FA;;;SY)", SVC_FOLDER_DANGEROUS, "S-1-5-32-545");
}
END_TEST

START_TEST(test_trust_dangerous_allow_refused) {
  /* Each dangerous right alone, for Everyone and Authenticated Users. */
  static const struct {
    const char *sddl;
    DWORD dangerous;
    const char *who;
  } cases[] = {
      {"O:SYD:P(A;;FA;;;SY)(A;;0x2;;;WD)", SVC_FILE_DANGEROUS, "S-1-1-0"},
      {"O:SYD:P(A;;FA;;;SY)(A;;0x2;;;AU)", SVC_FILE_DANGEROUS, "S-1-5-11"},
      {"O:SYD:P(A;;0x4;;;WD)", SVC_FILE_DANGEROUS, "S-1-1-0"},
      {"O:SYD:P(A;;WD;;;AU)", SVC_FILE_DANGEROUS, "S-1-5-11"},
      {"O:SYD:P(A;;WD;;;WD)", SVC_FOLDER_DANGEROUS, "S-1-1-0"},
      {"O:SYD:P(A;;WO;;;AU)", SVC_FILE_DANGEROUS, "S-1-5-11"},
      {"O:SYD:P(A;;SD;;;WD)", SVC_FILE_DANGEROUS, "S-1-1-0"},
      {"O:SYD:P(A;;GW;;;AU)", SVC_FILE_DANGEROUS, "S-1-5-11"},
      {"O:SYD:P(A;;GA;;;WD)", SVC_FILE_DANGEROUS, "S-1-1-0"},
      {"O:SYD:P(A;;FA;;;AU)", SVC_FILE_DANGEROUS, "S-1-5-11"},
      /* FILE_ADD_FILE (0x2) and FILE_DELETE_CHILD (0x40) on a folder. */
      {"O:SYD:P(A;;FA;;;SY)(A;;0x2;;;WD)", SVC_FOLDER_DANGEROUS, "S-1-1-0"},
      {"O:SYD:P(A;;0x2;;;AU)", SVC_FOLDER_DANGEROUS, "S-1-5-11"},
      {"O:SYD:P(A;;0x40;;;WD)", SVC_FOLDER_DANGEROUS, "S-1-1-0"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    expect_refused(cases[i].sddl, cases[i].dangerous, cases[i].who);
}
END_TEST

START_TEST(test_trust_read_only_for_others_trusted) {
  /* Reading is not a danger: Everyone may read a config. */
  expect_trusted("O:SYD:P(A;;FA;;;SY)(A;;FR;;;WD)(A;;FRFX;;;AU)",
                 SVC_FILE_DANGEROUS);
  expect_trusted("O:SYD:P(A;;FA;;;SY)(A;;FRFX;;;WD)", SVC_FOLDER_DANGEROUS);
  /* FILE_DELETE_CHILD means nothing on a file, everything on a folder. */
  expect_trusted("O:SYD:P(A;;FA;;;SY)(A;;0x40;;;WD)", SVC_FILE_DANGEROUS);
}
END_TEST

START_TEST(test_trust_system_admins_self_trusted) {
  expect_trusted("O:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;{me})",
                 SVC_FILE_DANGEROUS);
  expect_trusted("O:BAD:P(A;;GA;;;SY)(A;;GA;;;BA)", SVC_FOLDER_DANGEROUS);
  expect_trusted("O:{me}D:P(A;;FA;;;{me})", SVC_FILE_DANGEROUS);
}
END_TEST

START_TEST(test_trust_self_only_when_given) {
  /* The service's own account is trusted because it is self, not because
   * of who it is: without self, the same descriptor is refused. */
  char *me = test_self_sid_text();
  char err[512];
  int rc = check_sd("O:SYD:P(A;;FA;;;{me})", SVC_FILE_DANGEROUS, 0, err,
                    sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "without self: %s (err '%s')",
                shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, me) != NULL, "message does not name %s: '%s'",
                me, err);
  rc = check_sd("O:{me}D:P(A;;FA;;;SY)", SVC_FILE_DANGEROUS, 0, err,
                sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "owner without self: %s (err '%s')",
                shmb_err_name(rc), err);
  free(me);
}
END_TEST

START_TEST(test_trust_inherit_only_ignored) {
  /* Applies to the folder's children only, not to the object itself. */
  expect_trusted("O:SYD:P(A;;FA;;;SY)(A;OICIIO;FA;;;WD)", SVC_FILE_DANGEROUS);
  expect_trusted("O:SYD:P(A;;FA;;;SY)(A;OICIIO;GA;;;AU)",
                 SVC_FOLDER_DANGEROUS);
  /* Inherited to children and applying here too: refused. */
  expect_refused("O:SYD:P(A;;FA;;;SY)(A;OICI;FA;;;WD)", SVC_FOLDER_DANGEROUS,
                 "S-1-1-0");
}
END_TEST

START_TEST(test_trust_deny_not_credited) {
  /* A deny in front of the grant protects on Windows, but the check does
   * not rely on ACE order: the grant alone is refused. */
  expect_refused("O:SYD:P(D;;FA;;;WD)(A;;FA;;;WD)", SVC_FILE_DANGEROUS,
                 "S-1-1-0");
  expect_refused("O:SYD:P(D;;0x2;;;AU)(A;;0x2;;;AU)(A;;FA;;;SY)",
                 SVC_FOLDER_DANGEROUS, "S-1-5-11");
  /* And a deny ACE of a dangerous right is not itself a grant. */
  expect_trusted("O:SYD:P(D;;FA;;;WD)(A;;FA;;;SY)", SVC_FILE_DANGEROUS);
}
END_TEST

START_TEST(test_trust_unknown_ace_type_refused) {
  /* A callback allow ACE (type 9) for SY: the check cannot tell what its
   * condition grants, so it must not skip it (that failed open). Built from
   * a plain allow ACE whose type byte is changed: the layouts match. */
  BYTE buf[256];
  PACL acl = (PACL)buf;
  BYTE sy[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof(sy);
  SECURITY_DESCRIPTOR abs;
  ACE_HEADER *ace;
  char err[512] = "";
  int rc;

  ck_assert(CreateWellKnownSid(WinLocalSystemSid, NULL, sy, &n));
  ck_assert(InitializeAcl(acl, sizeof(buf), ACL_REVISION));
  ck_assert(AddAccessAllowedAce(acl, ACL_REVISION, FILE_GENERIC_READ, sy));
  ck_assert(AddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, sy));
  ck_assert(GetAce(acl, 0, (void **)&ace));
  ace->AceType = ACCESS_ALLOWED_CALLBACK_ACE_TYPE;
  ck_assert(InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION));
  ck_assert(SetSecurityDescriptorOwner(&abs, sy, FALSE));
  ck_assert(SetSecurityDescriptorDacl(&abs, TRUE, acl, FALSE));
  rc = svc_trust_check_sd(WHAT, &abs, SVC_FILE_DANGEROUS, NULL, err,
                          sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "a callback ACE = %s (%s), expected "
                "SHMB_EACCES", shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, "does not understand") != NULL, "'%s'", err);
}
END_TEST

START_TEST(test_trust_no_dacl_refused) {
  /* No DACL at all, and a NULL DACL made in memory (Wine's SDDL parser
   * cannot make one): everyone may write. */
  SECURITY_DESCRIPTOR abs;
  BYTE sy[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof(sy);
  char err[512] = "";
  int rc;

  ck_assert(CreateWellKnownSid(WinLocalSystemSid, NULL, sy, &n));
  ck_assert(InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION));
  ck_assert(SetSecurityDescriptorOwner(&abs, sy, FALSE));
  rc = svc_trust_check_sd(WHAT, &abs, SVC_FILE_DANGEROUS, NULL, err,
                          sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "no DACL: %s (err '%s')",
                shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, WHAT) != NULL, "'%s'", err);
  ck_assert(SetSecurityDescriptorDacl(&abs, TRUE, NULL, FALSE));
  err[0] = '\0';
  test_crash_note("svc_trust_check_sd on a NULL DACL, which must refuse it "
                  "before reading the DACL");
  rc = svc_trust_check_sd(WHAT, &abs, SVC_FILE_DANGEROUS, NULL, err,
                          sizeof(err));
  test_crash_note(NULL);
  ck_assert_msg(rc == SHMB_EACCES, "NULL DACL: %s (err '%s')",
                shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, WHAT) != NULL, "'%s'", err);
}
END_TEST

/* ----- the folders above the file ----- */

/* NT SERVICE\TrustedInstaller, owner of C:\ on Windows. */
#define TI "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

START_TEST(test_trust_windows_root_and_programdata_trusted) {
  /* Real Windows 10/11 descriptors (icacls, written as SDDL). C:\ lets
   * Authenticated Users add folders (0x4) and C:\ProgramData lets Users add
   * files and folders and write attributes (0x116): a new name beside the
   * path cannot replace the folder on it, so as ancestors both pass. */
  expect_trusted("O:" TI "D:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)"
                 "(A;OICI;0x1200a9;;;BU)(A;OICIIO;SDGXGWGR;;;AU)"
                 "(A;;0x4;;;AU)", SVC_ANCESTOR_DANGEROUS);
  expect_trusted("O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICIIO;GA;;;CO)"
                 "(A;OICI;0x1200a9;;;BU)(A;CI;0x116;;;BU)",
                 SVC_ANCESTOR_DANGEROUS);
  /* TrustedInstaller's own full control (C:\Windows, C:\Program Files). */
  expect_trusted("O:" TI "D:P(A;CI;FA;;;" TI ")(A;OICI;FA;;;SY)",
                 SVC_ANCESTOR_DANGEROUS);
  /* As the folder holding the file, the same grants are refused: there a
   * new name is the file (a backing or log file not created yet). */
  expect_refused("O:SYD:P(A;OICI;FA;;;SY)(A;CI;0x116;;;BU)",
                 SVC_FOLDER_DANGEROUS, "S-1-5-32-545");
  expect_refused("O:SYD:P(A;OICI;FA;;;SY)(A;;0x4;;;AU)", SVC_FOLDER_DANGEROUS,
                 "S-1-5-11");
}
END_TEST

START_TEST(test_trust_ancestor_replace_rights_refused) {
  /* What lets a user remove or rename the next folder of the path, or give
   * themself that right, refuses an ancestor. */
  static const struct {
    const char *sddl;
    const char *who;
  } cases[] = {
      {"O:SYD:P(A;;FA;;;SY)(A;;0x40;;;AU)", "S-1-5-11"},   /* delete-child */
      {"O:SYD:P(A;;FA;;;SY)(A;;SD;;;WD)", "S-1-1-0"},      /* delete */
      {"O:SYD:P(A;;FA;;;SY)(A;;WD;;;BU)", "S-1-5-32-545"}, /* write-DAC */
      {"O:SYD:P(A;;FA;;;SY)(A;;WO;;;AU)", "S-1-5-11"},     /* write-owner */
      {"O:SYD:P(A;;FA;;;SY)(A;;GA;;;WD)", "S-1-1-0"},
      {"O:SYD:P(A;;FA;;;SY)(A;OICI;FA;;;WD)", "S-1-1-0"},
      {"O:BUD:P(A;;FA;;;SY)", "S-1-5-32-545"}, /* an untrusted owner */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    expect_refused(cases[i].sddl, SVC_ANCESTOR_DANGEROUS, cases[i].who);
}
END_TEST

/* ----- svc_config_trusted on files ----- */

typedef struct trust_files {
  char *dir, *file;
} trust_files;

/* A trusted folder holding a trusted config file. */
static trust_files make_files(void) {
  trust_files t;
  t.dir = test_temp_dir("trust");
  t.file = test_path_in(t.dir, "shmb.conf");
  test_write_file(t.file, "[service]\n");
  test_set_sddl(t.dir, TEST_TRUSTED_SDDL);
  test_set_sddl(t.file, TEST_TRUSTED_SDDL);
  return t;
}

static void free_files(trust_files *t) {
  test_set_sddl(t->file, TEST_TRUSTED_SDDL);
  test_set_sddl(t->dir, TEST_TRUSTED_SDDL);
  test_remove_dir(t->dir);
  free(t->file);
  free(t->dir);
}

START_TEST(test_trust_file_trusted) {
  trust_files t = make_files();
  char err[512] = "";
  int rc = svc_config_trusted(t.file, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_config_trusted(%s) = %s: %s", t.file,
                shmb_err_name(rc), err);
  free_files(&t);
}
END_TEST

START_TEST(test_trust_file_writable_by_everyone_refused) {
  trust_files t = make_files();
  char err[512] = "";
  int rc;

  test_set_sddl(t.file, "O:{me}D:P(A;;FA;;;{me})(A;;FA;;;WD)");
  rc = svc_config_trusted(t.file, err, sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "svc_config_trusted(%s) = %s, expected "
                "SHMB_EACCES (err '%s')", t.file, shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, t.file) != NULL, "message does not name the "
                "file %s: '%s'", t.file, err);
  ck_assert_msg(strstr(err, "S-1-1-0") != NULL, "message does not name "
                "Everyone (S-1-1-0): '%s'", err);
  free_files(&t);
}
END_TEST

START_TEST(test_trust_folder_writable_by_everyone_refused) {
  /* The file itself is fine; whoever may add files to its folder can put
   * another file in its place. The message must be the folder's: the
   * folder's path is a prefix of the file's, so "names the folder" alone
   * would also pass on the file's own message. */
  trust_files t = make_files();
  char err[512] = "";
  int rc;

  test_set_sddl(t.dir, "O:{me}D:P(A;;FA;;;{me})(A;;0x2;;;WD)");
  rc = svc_config_trusted(t.file, err, sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "svc_config_trusted(%s) with its folder "
                "writable by Everyone = %s, expected SHMB_EACCES (err '%s')",
                t.file, shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, t.dir) != NULL, "message does not name the "
                "folder %s: '%s'", t.dir, err);
  ck_assert_msg(strstr(err, t.file) == NULL, "message names the file, not "
                "the folder: '%s'", err);
  ck_assert_msg(strstr(err, "S-1-1-0") != NULL, "message does not name "
                "Everyone (S-1-1-0): '%s'", err);
  free_files(&t);
}
END_TEST

START_TEST(test_trust_hard_link_refused) {
  /* A second name for the config may sit in a folder others can write. */
  trust_files t = make_files();
  char *other = test_path_in(t.dir, "other-name.conf");
  wchar_t wfile[MAX_PATH], wother[MAX_PATH];
  char err[512] = "";
  int rc;

  MultiByteToWideChar(CP_UTF8, 0, t.file, -1, wfile, MAX_PATH);
  MultiByteToWideChar(CP_UTF8, 0, other, -1, wother, MAX_PATH);
  ck_assert_msg(CreateHardLinkW(wother, wfile, NULL), "CreateHardLinkW: %lu",
                (unsigned long)GetLastError());
  rc = svc_config_trusted(t.file, err, sizeof(err));
  DeleteFileW(wother);
  ck_assert_msg(rc == SHMB_ECONFIG, "a config with two names = %s: %s",
                shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, "more than one name") != NULL, "'%s'", err);
  free(other);
  free_files(&t);
}
END_TEST

START_TEST(test_trust_missing_file_refused) {
  /* A missing config is an error, never "nothing to distrust". */
  trust_files t = make_files();
  char *missing = test_path_in(t.dir, "absent.conf");
  char err[512] = "";
  int rc = svc_config_trusted(missing, err, sizeof(err));
  ck_assert_msg(rc == SHMB_ECONFIG, "svc_config_trusted(%s) = %s: %s",
                missing, shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, "no such file") != NULL, "'%s'", err);
  free(missing);
  free_files(&t);
}
END_TEST

START_TEST(test_trust_grandparent_writable_refused) {
  /* outer\inner\shmb.conf: the file and its folder are trusted, the folder
   * above is writable by Everyone (who could rename inner away and put
   * their own in its place). The message names outer, not inner. */
  trust_files t = make_files();
  char *inner = test_path_in(t.dir, "inner");
  char *file = test_path_in(inner, "shmb.conf");
  wchar_t winner[MAX_PATH];
  char err[512] = "";
  int rc;

  MultiByteToWideChar(CP_UTF8, 0, inner, -1, winner, MAX_PATH);
  ck_assert(CreateDirectoryW(winner, NULL));
  test_write_file(file, "[service]\n");
  test_set_sddl(inner, TEST_TRUSTED_SDDL);
  test_set_sddl(file, TEST_TRUSTED_SDDL);
  rc = svc_config_trusted(file, err, sizeof(err));
  ck_assert_msg(rc == 0, "a trusted chain = %s: %s", shmb_err_name(rc), err);
  test_set_sddl(t.dir, "O:{me}D:P(A;;FA;;;{me})(A;;FA;;;WD)");
  rc = svc_config_trusted(file, err, sizeof(err));
  test_set_sddl(t.dir, TEST_TRUSTED_SDDL);
  test_remove_dir(inner); /* before asserting: Wine reuses pids */
  ck_assert_msg(rc == SHMB_EACCES, "svc_config_trusted(%s) with the folder "
                "two up writable by Everyone = %s, expected SHMB_EACCES (err "
                "'%s')", file, shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, t.dir) != NULL && strstr(err, inner) == NULL,
                "message does not name the grand-parent %s (alone): '%s'",
                t.dir, err);
  ck_assert_msg(strstr(err, "S-1-1-0") != NULL, "message does not name "
                "Everyone (S-1-1-0): '%s'", err);
  free(file);
  free(inner);
  free_files(&t);
}
END_TEST

Suite *trust_suite(void) {
  Suite *s = suite_create("trust");
  TCase *tc = tcase_create("decision");
  tcase_add_test(tc, test_trust_untrusted_owner_refused);
  tcase_add_test(tc, test_trust_dangerous_allow_refused);
  tcase_add_test(tc, test_trust_read_only_for_others_trusted);
  tcase_add_test(tc, test_trust_system_admins_self_trusted);
  tcase_add_test(tc, test_trust_self_only_when_given);
  tcase_add_test(tc, test_trust_inherit_only_ignored);
  tcase_add_test(tc, test_trust_deny_not_credited);
  tcase_add_test(tc, test_trust_unknown_ace_type_refused);
  tcase_add_test(tc, test_trust_no_dacl_refused);
  tcase_add_test(tc, test_trust_windows_root_and_programdata_trusted);
  tcase_add_test(tc, test_trust_ancestor_replace_rights_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("files");
  tcase_add_test(tc, test_trust_file_trusted);
  tcase_add_test(tc, test_trust_file_writable_by_everyone_refused);
  tcase_add_test(tc, test_trust_folder_writable_by_everyone_refused);
  tcase_add_test(tc, test_trust_missing_file_refused);
  tcase_add_test(tc, test_trust_hard_link_refused);
  tcase_add_test(tc, test_trust_grandparent_writable_refused);
  suite_add_tcase(s, tc);
  return s;
}
