/*
 * Tests for live reconfiguration (service/reload.c). Each test loads a
 * broker from a config file in its own temp folder, opens it without an
 * event loop (so periodic flushes are off and nothing else touches the
 * registry), rewrites the file and calls svc_reload, as PARAMCHANGE or a
 * RELOAD request would. What is checked is what clients would meet: the
 * tally and counters, the registry, and the kernel objects themselves
 * (OpenFileMappingW, the live object's DACL read back with GetSecurityInfo,
 * and AccessCheck for a caller made from this process's token). Sections
 * live in Local\ so that parallel runs never meet.
 */
#include <windows.h>

#include <aclapi.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "errors.h"
#include "own_sd.h"
#include "protocol.h"
#include "registry.h"
#include "reload.h"
#include "winutil.h"
#include "wstr.h"

#define SERVICE "[service]\nnamespace = Local\nlog_level = error\n\n"
#define ALPHA "[section alpha]\nsize = 4096\nsddl = D:P(A;;GRGW;;;{me})\n\n"
#define BETA "[section beta]\nsize = 8192\nsddl = D:P(A;;GR;;;{me})\n\n"

/* One test's folder, config file and broker. */
typedef struct fixture {
  char *dir, *path;
  svc_broker b;
} fixture;

static void fx_open(fixture *f, const char *tmpl) {
  memset(f, 0, sizeof(*f));
  f->dir = test_temp_dir("reload");
  f->path = test_path_in(f->dir, "shmb.conf");
  test_write_config(f->path, f->dir, tmpl);
  test_broker_open(&f->b, f->path, 1);
}

static void fx_close(fixture *f) {
  svc_broker_release(&f->b);
  test_remove_dir(f->dir);
  free(f->path);
  free(f->dir);
}

/* Rewrites the config and reloads; returns svc_reload's code. */
static int fx_reload(fixture *f, const char *tmpl, svc_reload_tally *t,
                     char *msg, size_t msglen) {
  test_write_config(f->path, f->dir, tmpl);
  memset(t, 0xff, sizeof(*t)); /* a reload that fails must not fill it */
  msg[0] = '\0';
  return svc_reload(&f->b, "check_reload", t, msg, msglen);
}

/* A reload that must succeed with exactly this tally. */
static void reload_ok(fixture *f, const char *tmpl, unsigned added,
                      unsigned removed, unsigned repermissioned,
                      unsigned refused) {
  svc_reload_tally t;
  char msg[1024];
  int rc = fx_reload(f, tmpl, &t, msg, sizeof(msg));
  ck_assert_msg(rc == 0, "svc_reload = %s: %s", shmb_err_name(rc), msg);
  ck_assert_msg(t.added == added && t.removed == removed &&
                    t.repermissioned == repermissioned &&
                    t.refused == refused && t.failed == 0,
                "tally %u added, %u removed, %u re-permissioned, %u refused, "
                "%u failed; expected %u, %u, %u, %u, 0 (msg '%s')", t.added,
                t.removed, t.repermissioned, t.refused, t.failed, added,
                removed, repermissioned, refused, msg);
}

static svc_section *must_find(fixture *f, const char *name) {
  svc_section *sec = svc_registry_find(f->b.reg, name);
  ck_assert_msg(sec != NULL, "section %s is not in the registry", name);
  return sec;
}


/* What svc_access_granted says for this process's token. */
static uint32_t granted_to_me(const svc_section *sec) {
  svc_caller c;
  uint32_t wire;
  test_caller_from_self(&c);
  wire = svc_access_granted(&c, sec->sd);
  svc_caller_release(&c);
  return wire;
}

/* The allow ACEs on the live kernel object: whether one names this
 * process's account, and whether one names LocalSystem. */
static void live_dacl(const svc_section *sec, int *me, int *system) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PACL dacl = NULL;
  DWORD e = GetSecurityInfo(sec->mapping, SE_KERNEL_OBJECT,
                            DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
                            NULL, &sd);
  ck_assert_msg(e == ERROR_SUCCESS, "GetSecurityInfo(%s): Win32 error %lu",
                sec->object, (unsigned long)e);
  ck_assert_msg(dacl != NULL, "the live object %s has a NULL DACL",
                sec->object);
  *me = *system = 0;
  for (DWORD i = 0; i < dacl->AceCount; i++) {
    ACCESS_ALLOWED_ACE *ace;
    ck_assert(GetAce(dacl, i, (void **)&ace));
    if (ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE)
      continue;
    if (test_sid_is_self(&ace->SidStart))
      *me = 1;
    if (IsWellKnownSid(&ace->SidStart, WinLocalSystemSid))
      *system = 1;
  }
  LocalFree(sd);
}

/* ----- sections ----- */

START_TEST(test_reload_adds_section) {
  fixture f;
  svc_section *alpha, *beta;
  char alpha_object[SVC_OBJECT_NAME_MAX];

  fx_open(&f, SERVICE ALPHA);
  alpha = must_find(&f, "alpha");
  snprintf(alpha_object, sizeof(alpha_object), "%s", alpha->object);
  ck_assert_ptr_null(svc_registry_find(f.b.reg, "beta"));

  reload_ok(&f, SERVICE ALPHA BETA, 1, 0, 0, 0);
  ck_assert_uint_eq(f.b.reg->count, 2);
  beta = must_find(&f, "beta");
  ck_assert_uint_eq(beta->size, 8192);
  ck_assert_msg(strncmp(beta->object, "Local\\shmb-", 11) == 0,
                "beta's object '%s'", beta->object);
  test_expect_opens(beta->object, FILE_MAP_READ);
  test_expect_open_error(beta->object, FILE_MAP_WRITE, ERROR_ACCESS_DENIED);
  /* alpha is untouched: the same object under the same name. */
  ck_assert_ptr_eq(must_find(&f, "alpha"), alpha);
  ck_assert_str_eq(alpha->object, alpha_object);
  test_expect_opens(alpha_object, FILE_MAP_WRITE);
  ck_assert_uint_eq(f.b.counters.reloads, 1);
  ck_assert_uint_eq(f.b.counters.reloads_failed, 0);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_removes_section) {
  fixture f;
  svc_section *beta;
  char object[SVC_OBJECT_NAME_MAX];
  HANDLE client;
  char *view;
  DWORD e;

  fx_open(&f, SERVICE ALPHA BETA);
  beta = must_find(&f, "beta");
  snprintf(object, sizeof(object), "%s", beta->object);
  /* A client that mapped beta before the reload. */
  client = test_open_mapping(object, FILE_MAP_READ, &e);
  ck_assert_msg(client != NULL, "OpenFileMappingW(%s): %lu", object,
                (unsigned long)e);
  view = MapViewOfFile(client, FILE_MAP_READ, 0, 0, 0);
  ck_assert_ptr_nonnull(view);

  reload_ok(&f, SERVICE ALPHA, 0, 1, 0, 0);
  ck_assert_ptr_null(svc_registry_find(f.b.reg, "beta"));
  ck_assert_uint_eq(f.b.reg->count, 1);
  must_find(&f, "alpha");
  /* The client's view stays valid; only the client keeps the object. */
  ck_assert_int_eq(view[0], 0);
  ck_assert_int_eq(view[8191], 0);
  UnmapViewOfFile(view);
  CloseHandle(client);
  test_expect_open_error(object, FILE_MAP_READ, ERROR_FILE_NOT_FOUND);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_repermissions_live_object) {
  fixture f;
  svc_section *alpha;
  char object[SVC_OBJECT_NAME_MAX];
  int me, system;

  fx_open(&f, SERVICE ALPHA);
  alpha = must_find(&f, "alpha");
  snprintf(object, sizeof(object), "%s", alpha->object);
  live_dacl(alpha, &me, &system);
  ck_assert_msg(me && !system, "before: the live DACL does not grant only "
                "this account (me %d, SYSTEM %d)", me, system);
  ck_assert_uint_eq(granted_to_me(alpha),
                    SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
  test_expect_opens(object, FILE_MAP_READ);

  reload_ok(&f, SERVICE "[section alpha]\nsize = 4096\n"
                        "sddl = D:P(A;;GA;;;SY)\n", 0, 0, 1, 0);
  /* The same object, with the new descriptor on it. */
  ck_assert_ptr_eq(must_find(&f, "alpha"), alpha);
  ck_assert_str_eq(alpha->object, object);
  live_dacl(alpha, &me, &system);
  ck_assert_msg(system && !me, "after: the live DACL still grants this "
                "account or not SYSTEM (me %d, SYSTEM %d)", me, system);
  ck_assert_msg(granted_to_me(alpha) == 0, "after: the broker still grants "
                "this account 0x%x", (unsigned)granted_to_me(alpha));
  test_expect_open_error(object, FILE_MAP_READ, ERROR_ACCESS_DENIED);

  /* And back, read only this time. */
  reload_ok(&f, SERVICE "[section alpha]\nsize = 4096\n"
                        "sddl = D:P(A;;GR;;;{me})\n", 0, 0, 1, 0);
  ck_assert_uint_eq(granted_to_me(alpha), SHMB_WIRE_ACCESS_READ);
  test_expect_opens(object, FILE_MAP_READ);
  test_expect_open_error(object, FILE_MAP_WRITE, ERROR_ACCESS_DENIED);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_same_descriptor_untouched) {
  /* Spelled differently, normalised the same: nothing to re-permission. */
  fixture f;
  fx_open(&f, SERVICE ALPHA);
  reload_ok(&f, SERVICE "[section alpha]\nsize = 4 KiB\n"
                        "sddl = O:BAG:BAD:P(A;;GRGW;;;{me})\n", 0, 0, 0, 0);
  reload_ok(&f, SERVICE ALPHA, 0, 0, 0, 0);
  ck_assert_uint_eq(f.b.counters.reloads, 2);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_size_change_refused) {
  fixture f;
  svc_section *alpha;
  char object[SVC_OBJECT_NAME_MAX];
  HANDLE h;
  MEMORY_BASIC_INFORMATION mbi;
  void *view;
  DWORD e;

  fx_open(&f, SERVICE ALPHA);
  alpha = must_find(&f, "alpha");
  snprintf(object, sizeof(object), "%s", alpha->object);
  reload_ok(&f, SERVICE "[section alpha]\nsize = 8192\n"
                        "sddl = D:P(A;;GRGW;;;{me})\n", 0, 0, 0, 1);
  ck_assert_ptr_eq(must_find(&f, "alpha"), alpha);
  ck_assert_uint_eq(alpha->size, 4096);
  ck_assert_str_eq(alpha->object, object);
  /* The object itself is still the 4096-byte one. */
  h = test_open_mapping(object, FILE_MAP_READ, &e);
  ck_assert_msg(h != NULL, "OpenFileMappingW(%s): %lu", object,
                (unsigned long)e);
  view = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
  ck_assert_ptr_nonnull(view);
  ck_assert_uint_eq(VirtualQuery(view, &mbi, sizeof(mbi)), sizeof(mbi));
  ck_assert_uint_eq(mbi.RegionSize, 4096);
  UnmapViewOfFile(view);
  CloseHandle(h);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_add_failure_is_per_section) {
  /* A new section that cannot be created (its backing file exists with
   * another size, which is never truncated or grown) fails alone: the
   * reload succeeds, says so in the tally, and applies the rest. */
  fixture f;
  svc_reload_tally t;
  char msg[1024], *bad;
  int rc;

  fx_open(&f, SERVICE ALPHA);
  bad = test_path_in(f.dir, "bad.bin");
  test_write_file(bad, "ten bytes!");
  free(bad);
  rc = fx_reload(&f, SERVICE ALPHA BETA
                 "[section bad]\nsize = 4096\nsddl = D:P(A;;GR;;;{me})\n"
                 "backing = file:{dir}\\bad.bin\n", &t, msg, sizeof(msg));
  ck_assert_msg(rc == 0, "svc_reload = %s: %s", shmb_err_name(rc), msg);
  ck_assert_msg(t.added == 1 && t.failed == 1 && t.removed == 0,
                "tally %u added, %u failed, %u removed; expected 1, 1, 0 "
                "(msg '%s')", t.added, t.failed, t.removed, msg);
  ck_assert_ptr_null(svc_registry_find(f.b.reg, "bad"));
  test_expect_opens(must_find(&f, "beta")->object, FILE_MAP_READ);
  must_find(&f, "alpha");
  ck_assert_uint_eq(f.b.counters.reloads, 1);
  ck_assert_uint_eq(f.b.counters.reloads_failed, 0);
  fx_close(&f);
}
END_TEST

/* A reload that must fail with SHMB_ECONFIG and change nothing. */
static void reload_refused(fixture *f, const char *tmpl, const char *why) {
  svc_section *before[8];
  char *sddl[8], *pipe = f->b.cfg->pipe;
  size_t count = f->b.reg->count;
  shmb_config *cfg = f->b.cfg;
  PSECURITY_DESCRIPTOR admin_sd = f->b.admin_sd;
  svc_counters k = f->b.counters;
  svc_reload_tally t, untouched;
  char msg[1024];
  int rc;

  ck_assert_uint_le(count, 8);
  for (size_t i = 0; i < count; i++) {
    before[i] = f->b.reg->sections[i];
    sddl[i] = strdup(before[i]->sddl);
  }
  rc = fx_reload(f, tmpl, &t, msg, sizeof(msg));
  memset(&untouched, 0xff, sizeof(untouched));
  ck_assert_msg(rc == SHMB_ECONFIG, "%s: svc_reload = %s, expected "
                "SHMB_ECONFIG (msg '%s')", why, shmb_err_name(rc), msg);
  ck_assert_msg(msg[0] != '\0', "%s: no reason given", why);
  ck_assert_msg(memcmp(&t, &untouched, sizeof(t)) == 0, "%s: a failed "
                "reload filled the tally", why);
  ck_assert_uint_eq(f->b.counters.reloads_failed, k.reloads_failed + 1);
  ck_assert_uint_eq(f->b.counters.reloads, k.reloads);
  ck_assert_msg(f->b.cfg == cfg && f->b.cfg->pipe == pipe, "%s: the config "
                "in force was replaced", why);
  ck_assert_msg(f->b.admin_sd == admin_sd, "%s: the admin descriptor was "
                "replaced", why);
  ck_assert_uint_eq(f->b.reg->count, count);
  for (size_t i = 0; i < count; i++) {
    ck_assert_msg(f->b.reg->sections[i] == before[i], "%s: section %zu was "
                  "replaced", why, i);
    ck_assert_msg(strcmp(before[i]->sddl, sddl[i]) == 0, "%s: section %s "
                  "now has descriptor %s, was %s", why, before[i]->name,
                  before[i]->sddl, sddl[i]);
    test_expect_opens(before[i]->object, FILE_MAP_READ);
    free(sddl[i]);
  }
}

START_TEST(test_reload_bad_file_changes_nothing) {
  fixture f;
  fx_open(&f, SERVICE ALPHA BETA);
  /* Does not parse. */
  reload_refused(&f, SERVICE "[section alpha\nsize = 4096\n", "syntax");
  /* Parses, but a descriptor does not validate: beta's removal, alpha's
   * new descriptor and gamma's creation must not happen either. */
  reload_refused(&f, SERVICE "[section alpha]\nsize = 4096\n"
                             "sddl = D:P(A;;GA;;;SY)\n\n"
                             "[section gamma]\nsize = 4096\n"
                             "sddl = O:SYG:SY\n", "bad sddl");
  /* An unknown account in the admins list. */
  reload_refused(&f, "[service]\nnamespace = Local\nlog_level = error\n"
                     "admins = CONTOSO\\nobody\n\n" ALPHA, "bad admins");
  ck_assert_ptr_null(svc_registry_find(f.b.reg, "gamma"));
  ck_assert_uint_eq(f.b.counters.reloads_failed, 3);
  /* Fixed again: the next reload applies. */
  reload_ok(&f, SERVICE ALPHA, 0, 1, 0, 0);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_missing_file_changes_nothing) {
  fixture f;
  wchar_t *w;
  fx_open(&f, SERVICE ALPHA);
  w = shmb__wide_from_utf8(f.path);
  ck_assert(DeleteFileW(w));
  free(w);
  {
    svc_reload_tally t;
    char msg[1024] = "";
    int rc = svc_reload(&f.b, "check_reload", &t, msg, sizeof(msg));
    ck_assert_msg(rc == SHMB_ECONFIG, "svc_reload of a deleted file = %s "
                  "(%s)", shmb_err_name(rc), msg);
  }
  ck_assert_uint_eq(f.b.counters.reloads_failed, 1);
  must_find(&f, "alpha");
  fx_close(&f);
}
END_TEST

/* ----- service options ----- */

START_TEST(test_reload_pipe_namespace_kept) {
  fixture f;
  svc_section *gamma;
  char pipe[128];

  fx_open(&f, "[service]\npipe = \\\\.\\pipe\\shmb-reload-a\n"
              "namespace = Local\nlog_level = error\n\n" ALPHA);
  snprintf(pipe, sizeof(pipe), "%s", f.b.cfg->pipe);
  ck_assert_str_eq(pipe, "\\\\.\\pipe\\shmb-reload-a");
  /* Both need a restart; the new section in the same file is applied, in
   * the namespace actually in force. */
  reload_ok(&f, "[service]\npipe = \\\\.\\pipe\\shmb-reload-b\n"
                "namespace = Global\nlog_level = error\n\n" ALPHA
                "[section gamma]\nsize = 4096\nsddl = D:P(A;;GR;;;{me})\n",
            1, 0, 0, 0);
  ck_assert_str_eq(f.b.cfg->pipe, pipe);
  ck_assert_int_eq(f.b.cfg->ns, SHMB_NS_LOCAL);
  gamma = must_find(&f, "gamma");
  ck_assert_msg(strncmp(gamma->object, "Local\\", 6) == 0,
                "gamma was created as '%s' in another namespace than the "
                "one in force", gamma->object);
  test_expect_opens(gamma->object, FILE_MAP_READ);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_live_options_applied) {
  /* What can change live does: here max_clients and the admins. */
  fixture f;
  svc_caller c;

  fx_open(&f, SERVICE ALPHA);
  test_caller_from_self(&c);
  ck_assert_msg(svc_caller_may(&c, f.b.admin_sd, SVC_RIGHT_RELOAD),
                "by default this process's account may reload");
  reload_ok(&f, "[service]\nnamespace = Local\nlog_level = error\n"
                "max_clients = 7\nadmins = S-1-5-18\n\n" ALPHA, 0, 0, 0, 0);
  ck_assert_uint_eq(f.b.cfg->max_clients, 7);
  ck_assert_msg(!svc_caller_may(&c, f.b.admin_sd, SVC_RIGHT_RELOAD),
                "admins = S-1-5-18, yet this process's account may reload");
  svc_caller_release(&c);
  fx_close(&f);
}
END_TEST

/* ----- file-backed sections ----- */

START_TEST(test_reload_flushes_file_backed) {
  /* A reload is a checkpoint: each file-backed section is flushed once per
   * reload, and counted; paging-file sections have nothing to flush. */
  static const char *const cfg =
      SERVICE ALPHA
      "[section data]\nsize = 4096\nsddl = D:P(A;;GRGW;;;{me})\n"
      "backing = file:{dir}\\data.bin\n";
  fixture f;
  svc_section *data;
  uint64_t flushes = 99, failures = 99;

  fx_open(&f, cfg);
  data = must_find(&f, "data");
  ck_assert_ptr_nonnull(data->backing_file);
  svc_registry_flush_counts(f.b.reg, &flushes, &failures);
  ck_assert_uint_eq(flushes, 0);
  ck_assert_uint_eq(failures, 0);

  reload_ok(&f, cfg, 0, 0, 0, 0);
  svc_registry_flush_counts(f.b.reg, &flushes, &failures);
  ck_assert_msg(flushes == 1, "after one reload: %llu flushes, expected 1",
                (unsigned long long)flushes);
  ck_assert_uint_eq(failures, 0);
  ck_assert_uint_eq(data->flushes, 1);
  ck_assert_uint_eq(must_find(&f, "alpha")->flushes, 0);

  reload_ok(&f, cfg, 0, 0, 0, 0);
  svc_registry_flush_counts(f.b.reg, &flushes, &failures);
  ck_assert_msg(flushes == 2, "after two reloads: %llu flushes, expected 2",
                (unsigned long long)flushes);
  ck_assert_uint_eq(data->flushes, 2);
  fx_close(&f);
}
END_TEST

START_TEST(test_reload_removed_file_backed_flushes_counted) {
  /* A removed section is flushed on its way out, and its flushes still
   * count in the totals STATUS reports. */
  fixture f;
  uint64_t flushes = 0, failures = 0;

  fx_open(&f, SERVICE ALPHA
              "[section data]\nsize = 4096\nsddl = D:P(A;;GRGW;;;{me})\n"
              "backing = file:{dir}\\data.bin\n");
  reload_ok(&f, SERVICE ALPHA, 0, 1, 0, 0);
  ck_assert_ptr_null(svc_registry_find(f.b.reg, "data"));
  svc_registry_flush_counts(f.b.reg, &flushes, &failures);
  ck_assert_msg(flushes == 1, "removed file-backed section: %llu flushes "
                "counted, expected 1", (unsigned long long)flushes);
  ck_assert_uint_eq(failures, 0);
  fx_close(&f);
}
END_TEST

/* ----- the trust check at reload ----- */

START_TEST(test_reload_trusted_file) {
  /* Without --insecure-config: the file and its folder are checked at
   * load and again at every reload. */
  fixture f;
  svc_reload_tally t;
  char msg[1024];
  int rc;

  memset(&f, 0, sizeof(f));
  f.dir = test_temp_dir("reload");
  f.path = test_path_in(f.dir, "shmb.conf");
  test_write_config(f.path, f.dir, SERVICE ALPHA);
  test_set_sddl(f.dir, TEST_TRUSTED_SDDL);
  test_set_sddl(f.path, TEST_TRUSTED_SDDL);
  test_broker_open(&f.b, f.path, 0);
  ck_assert_int_eq(f.b.insecure_config, 0);

  reload_ok(&f, SERVICE ALPHA BETA, 1, 0, 0, 0);

  /* Now Everyone may write it: the reload is refused, nothing changes. */
  test_set_sddl(f.path, "O:{me}D:P(A;;FA;;;{me})(A;;FA;;;WD)");
  msg[0] = '\0';
  rc = svc_reload(&f.b, "check_reload", &t, msg, sizeof(msg));
  ck_assert_msg(rc == SHMB_ECONFIG, "reload of a file Everyone may write = "
                "%s (%s)", shmb_err_name(rc), msg);
  ck_assert_msg(strstr(msg, "S-1-1-0") != NULL, "the refusal does not name "
                "Everyone (S-1-1-0): '%s'", msg);
  ck_assert_uint_eq(f.b.counters.reloads_failed, 1);
  ck_assert_uint_eq(f.b.reg->count, 2);
  test_set_sddl(f.path, TEST_TRUSTED_SDDL);
  fx_close(&f);
}
END_TEST

Suite *reload_suite(void) {
  Suite *s = suite_create("reload");
  TCase *tc = tcase_create("sections");
  tcase_add_test(tc, test_reload_adds_section);
  tcase_add_test(tc, test_reload_removes_section);
  tcase_add_test(tc, test_reload_repermissions_live_object);
  tcase_add_test(tc, test_reload_same_descriptor_untouched);
  tcase_add_test(tc, test_reload_size_change_refused);
  tcase_add_test(tc, test_reload_add_failure_is_per_section);
  suite_add_tcase(s, tc);

  tc = tcase_create("refused");
  tcase_add_test(tc, test_reload_bad_file_changes_nothing);
  tcase_add_test(tc, test_reload_missing_file_changes_nothing);
  tcase_add_test(tc, test_reload_trusted_file);
  suite_add_tcase(s, tc);

  tc = tcase_create("service");
  tcase_add_test(tc, test_reload_pipe_namespace_kept);
  tcase_add_test(tc, test_reload_live_options_applied);
  suite_add_tcase(s, tc);

  tc = tcase_create("flush");
  tcase_add_test(tc, test_reload_flushes_file_backed);
  tcase_add_test(tc, test_reload_removed_file_backed_flushes_counted);
  suite_add_tcase(s, tc);
  return s;
}
