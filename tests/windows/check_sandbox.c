/*
 * Tests for serving sandboxed clients (issue 12): the descriptor
 * normaliser keeps exactly one mandatory label and refuses anything else
 * in a SACL (service/descriptor.c); integrity = low puts S:(ML;;NW;;;LW)
 * on a section and on its doorbell objects, read back from the kernel
 * objects themselves (service/section.c, bell_sd.c); allow_sandboxed
 * gives the control pipe ALL APPLICATION PACKAGES and the low label, and
 * no more (service/own_sd.c); grants name AppContainer SIDs by SID and by
 * friendly name (service/grants.c). Wine enforces neither integrity levels
 * nor AppContainers: these tests pin what the objects carry;
 * tests/windows-only/sandboxed.sh shows on Windows what it lets through.
 */
#include <windows.h>

#include <aclapi.h>
#include <check.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bell_sd.h"
#include "broker.h"
#include "descriptor.h"
#include "doorbell.h"
#include "errors.h"
#include "grants.h"
#include "log.h"
#include "own_sd.h"
#include "registry.h"
#include "reload.h"
#include "section.h"
#include "winutil.h"

#define LOW "S:(ML;;NW;;;LW)"

static char *normalised_ok(const char *tmpl) {
  char sddl[1024], err[512] = "", *me = test_self_sid_text(), *out = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  int rc;
  test_with_sid(tmpl, me, sddl, sizeof(sddl));
  free(me);
  rc = svc_sd_from_sddl(sddl, &sd, &out, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_sd_from_sddl(\"%s\") = %s: %s", sddl,
                shmb_err_name(rc), err);
  LocalFree(sd);
  return out;
}

static void refused(const char *sddl, const char *expect) {
  PSECURITY_DESCRIPTOR sd = NULL;
  char *normalised = NULL, err[512] = "";
  int rc = svc_sd_from_sddl(sddl, &sd, &normalised, err, sizeof(err));
  ck_assert_msg(rc == SHMB_ECONFIG, "svc_sd_from_sddl(\"%s\") = %s (%s)",
                sddl, shmb_err_name(rc), err);
  ck_assert_ptr_null(sd);
  ck_assert_msg(strstr(err, expect) != NULL, "\"%s\": '%s' lacks '%s'", sddl,
                err, expect);
}

/* The label the kernel object h carries, as SDDL ("" for none), read
 * back with GetSecurityInfo(LABEL_SECURITY_INFORMATION). The SACL must
 * hold nothing but that one label. */
static char *label_of(HANDLE h) {
  PSECURITY_DESCRIPTOR sd = NULL;
  BOOL present = FALSE, defaulted;
  PACL sacl = NULL;
  char out[128];
  DWORD e = GetSecurityInfo(h, SE_KERNEL_OBJECT, LABEL_SECURITY_INFORMATION,
                            NULL, NULL, NULL, NULL, &sd);
  ck_assert_msg(e == ERROR_SUCCESS, "GetSecurityInfo(label): %lu",
                (unsigned long)e);
  ck_assert(GetSecurityDescriptorSacl(sd, &present, &sacl, &defaulted));
  ck_assert_msg(!present || !sacl || sacl->AceCount <= 1,
                "%u entries in the SACL", sacl ? sacl->AceCount : 0);
  ck_assert_int_eq(svc_sd_label_sddl(sd, out, sizeof(out)), 0);
  LocalFree(sd);
  return _strdup(out);
}

/* ---- the normaliser ------------------------------------------------ */

START_TEST(test_sandbox_label_kept_exactly) {
  char *plain = normalised_ok("D:P(A;;GR;;;{me})");
  char *labelled = normalised_ok("D:P(A;;GR;;;{me})" LOW);
  char want[1024];
  /* The same descriptor, with the label after it and nothing else. */
  ck_assert_ptr_null(strstr(plain, "S:"));
  snprintf(want, sizeof(want), "%s%s", plain, LOW);
  ck_assert_str_eq(labelled, want);
  free(plain);
  free(labelled);
  /* Other levels and policies pass as written. */
  labelled = normalised_ok("D:P(A;;GR;;;{me})S:(ML;;NWNR;;;ME)");
  ck_assert_ptr_nonnull(strstr(labelled, "S:(ML;;NWNR;;;ME)"));
  free(labelled);
}
END_TEST

START_TEST(test_sandbox_sacl_refusals) {
  refused("D:P(A;;GR;;;AU)S:(AU;SA;GA;;;WD)", "exactly one mandatory label");
  refused("D:P(A;;GR;;;AU)S:(ML;;NW;;;LW)(ML;;NW;;;ME)",
          "exactly one mandatory label");
  refused("D:P(A;;GR;;;AU)S:(ML;;NW;;;LW)(AU;SA;GA;;;WD)",
          "exactly one mandatory label");
  refused("D:P(A;;GR;;;AU)S:(ML;OI;NW;;;LW)", "no flags");
  refused("D:P(A;;GR;;;AU)S:(ML;;0x10;;;LW)", "no flags");
}
END_TEST

/* ---- integrity = low on the objects ---------------------------------- */

#define LOW_CONFIG                                                             \
  "[service]\nnamespace = Local\nlog_level = error\n"                          \
  "\n[section low]\nsize = 4096\nintegrity = low\nnotify = yes\n"             \
  "read = {me}\n"                                                              \
  "\n[section plain]\nsize = 4096\nnotify = yes\nread = {me}\n"                \
  "\n[section lowhandle]\nsize = 4096\nintegrity = low\n"                      \
  "delivery = handle\nread = {me}\n"

START_TEST(test_sandbox_integrity_low_objects) {
  char *dir = test_temp_dir("sandbox");
  char *path = test_path_in(dir, "shmb.conf");
  svc_section *low, *plain, *lowhandle;
  char *l;
  svc_broker b;

  test_write_config(path, dir, LOW_CONFIG);
  test_broker_open(&b, path, 1);
  low = svc_registry_find(b.reg, "low");
  plain = svc_registry_find(b.reg, "plain");
  lowhandle = svc_registry_find(b.reg, "lowhandle");
  ck_assert_ptr_nonnull(low);
  ck_assert_msg(strstr(low->sddl, LOW) != NULL, "sddl %s", low->sddl);
  ck_assert_ptr_null(strstr(plain->sddl, "S:"));
  /* What the kernel objects carry: the section, both doorbell pages. */
  ck_assert_str_eq(l = label_of(low->mapping), LOW);
  free(l);
  ck_assert_str_eq(l = label_of(low->bell->counter), LOW);
  free(l);
  ck_assert_str_eq(l = label_of(low->bell->registry), LOW);
  free(l);
  ck_assert_str_eq(l = label_of(lowhandle->mapping), LOW);
  free(l);
  /* The default stays as Windows gives it: no low label. */
  l = label_of(plain->mapping);
  ck_assert_msg(strstr(l, "LW") == NULL, "plain section label %s", l);
  free(l);
  l = label_of(plain->bell->counter);
  ck_assert_msg(strstr(l, "LW") == NULL, "plain doorbell label %s", l);
  free(l);
  svc_broker_release(&b);
  test_remove_dir(dir);
  free(path);
  free(dir);
}
END_TEST

/* A waiter's event and armed page follow the section's label too. */
START_TEST(test_sandbox_doorbell_kinds_labelled) {
  char *me = test_self_sid_text(), sddl[512], err[512];
  static const svc_bell_kind kinds[] = {SVC_BELL_COUNTER, SVC_BELL_REGISTRY,
                                        SVC_BELL_EVENT, SVC_BELL_ARMED};
  PSECURITY_DESCRIPTOR section, sd;
  char *text;
  test_with_sid("D:P(A;;GRGW;;;{me})" LOW, me, sddl, sizeof(sddl));
  ck_assert_int_eq(svc_sd_from_sddl(sddl, &section, NULL, err, sizeof(err)),
                   0);
  for (size_t i = 0; i < 4; i++) {
    ck_assert_int_eq(svc_bell_sd(section, kinds[i],
                                 kinds[i] >= SVC_BELL_EVENT ? me : NULL, &sd,
                                 &text, err, sizeof(err)), 0);
    ck_assert_msg(strlen(text) > strlen(LOW) &&
                      strcmp(text + strlen(text) - strlen(LOW), LOW) == 0,
                  "kind %u: %s", (unsigned)kinds[i], text);
    free(text);
    LocalFree(sd);
  }
  LocalFree(section);
  free(me);
}
END_TEST

START_TEST(test_sandbox_integrity_low_conflicts_with_sacl) {
  shmb_section_config sc;
  PSECURITY_DESCRIPTOR sd = NULL;
  char *sddl = NULL, err[512] = "";
  memset(&sc, 0, sizeof(sc));
  snprintf(sc.name, sizeof(sc.name), "both");
  sc.sddl = "D:P(A;;GR;;;AU)S:(ML;;NW;;;ME)";
  sc.integrity_low = 1;
  ck_assert_int_eq(svc_section_descriptor(&sc, &sd, &sddl, err, sizeof(err)),
                   SHMB_ECONFIG);
  ck_assert_msg(strstr(err, "say the label once"), "%s", err);
  ck_assert_ptr_null(sd);
}
END_TEST

/* ---- a reload that adds or removes integrity = low ------------------ */

/* kept: a notify section, its label set in place; turned: delivered by
 * handle, rotated to a fresh object (on_revoke = rotate); handbell: a
 * notify section delivered by handle (unnamed doorbell objects). */
#define RELABEL_CONFIG(grant, label)                                           \
  "[service]\nnamespace = Local\nlog_level = info\n"                           \
  "\n[section kept]\nsize = 4096\nnotify = yes\n" grant " = {me}\n" label    \
  "\n[section turned]\nsize = 4096\ndelivery = handle\non_revoke = rotate\n"   \
  grant " = {me}\n" label                                                      \
  "\n[section handbell]\nsize = 4096\nnotify = yes\ndelivery = handle\n"       \
  grant " = {me}\n" label

/* The service's log lines that speak of a label, during one reload. */
static char said_labels[2048];

static void keep_label_lines(int level, const char *line, void *arg) {
  size_t n = strlen(said_labels);
  (void)level;
  (void)arg;
  if (strstr(line, ": label ") && n + strlen(line) + 2 < sizeof(said_labels))
    snprintf(said_labels + n, sizeof(said_labels) - n, "%s\n", line);
}

/* Reloads path with tmpl; every section must be re-permissioned. What the
 * log said of labels is in said_labels. */
static void relabel(svc_broker *b, const char *path, const char *dir,
                    const char *tmpl) {
  svc_reload_tally t;
  char msg[1024] = "";
  int rc;
  test_write_config(path, dir, tmpl);
  said_labels[0] = '\0';
  shmb_log_set_sink(keep_label_lines, NULL);
  rc = svc_reload(b, "check_sandbox", &t, msg, sizeof(msg));
  shmb_log_set_sink(NULL, NULL);
  ck_assert_msg(rc == 0, "svc_reload = %s: %s", shmb_err_name(rc), msg);
  ck_assert_msg(t.repermissioned == 3 && t.rotated == 1 && t.failed == 0 &&
                    t.refused == 0,
                "a changed integrity was not applied to all three sections: %s",
                msg);
}

/* Every live object of kept (section, doorbell pages, the waiter's event
 * and armed page), turned's section and handbell's section and doorbell
 * counter carry want ("" for no label), read back from the kernel. */
static void labels_are(svc_broker *b, const char *want, const char *when) {
  svc_section *kept = svc_registry_find(b->reg, "kept");
  svc_section *turned = svc_registry_find(b->reg, "turned");
  svc_section *handbell = svc_registry_find(b->reg, "handbell");
  const svc_waiter *w = NULL;
  struct {
    const char *what;
    HANDLE h;
  } objs[8];
  char *l;

  ck_assert_ptr_nonnull(kept);
  ck_assert_ptr_nonnull(turned);
  ck_assert_ptr_nonnull(kept->bell);
  for (unsigned i = 0; i < kept->bell->capacity; i++)
    if (kept->bell->waiters[i].owner)
      w = &kept->bell->waiters[i];
  ck_assert_msg(w != NULL, "%s: the waiter is gone", when);
  objs[0].what = "kept's section", objs[0].h = kept->mapping;
  objs[1].what = "kept's doorbell counter", objs[1].h = kept->bell->counter;
  objs[2].what = "kept's doorbell registry", objs[2].h = kept->bell->registry;
  objs[3].what = "kept's waiter event", objs[3].h = w->event;
  objs[4].what = "kept's waiter armed page", objs[4].h = w->armed;
  objs[5].what = "turned's section", objs[5].h = turned->mapping;
  ck_assert_ptr_nonnull(handbell);
  ck_assert_ptr_nonnull(handbell->bell);
  objs[6].what = "handbell's section", objs[6].h = handbell->mapping;
  objs[7].what = "handbell's doorbell counter",
  objs[7].h = handbell->bell->counter;
  for (size_t i = 0; i < 8; i++) {
    l = label_of(objs[i].h);
    ck_assert_msg(strcmp(l, want) == 0, "%s: %s carries label '%s', not "
                  "'%s'", when, objs[i].what, l, want);
    free(l);
  }
}

START_TEST(test_sandbox_reload_changes_integrity) {
  char *dir = test_temp_dir("sandbox");
  char *path = test_path_in(dir, "shmb.conf");
  char *me = test_self_sid_text(), event[SHMB_BELL_NAME], armed[SHMB_BELL_NAME];
  char err[512] = "";
  svc_section *kept, *turned;
  HANDLE first;
  svc_broker b;
  int owner;

  test_write_config(path, dir, RELABEL_CONFIG("write", ""));
  test_broker_open(&b, path, 1);
  kept = svc_registry_find(b.reg, "kept");
  ck_assert_ptr_nonnull(kept);
  ck_assert_msg(svc_doorbell_add_waiter(kept->bell, kept->sd, me, &owner,
                                        event, armed, err, sizeof(err)) == 0,
                "add_waiter: %s", err);
  labels_are(&b, "", "before");
  first = svc_registry_find(b.reg, "turned")->mapping;

  /* integrity = low added: kept is labelled in place, turned rotates to a
   * fresh object that is created labelled. */
  relabel(&b, path, dir, RELABEL_CONFIG("write", "integrity = low\n"));
  ck_assert_ptr_eq(svc_registry_find(b.reg, "kept"), kept);
  turned = svc_registry_find(b.reg, "turned");
  ck_assert_msg(turned->mapping != first, "turned did not rotate");
  ck_assert_msg(strstr(kept->sddl, LOW) != NULL, "kept's sddl %s",
                kept->sddl);
  labels_are(&b, LOW, "after adding integrity = low");
  /* The log says so, for each section (rotated or not). */
  for (size_t i = 0; i < 3; i++) {
    static const char *names[] = {"kept", "turned", "handbell"};
    char want[128];
    snprintf(want, sizeof(want), "reload: section %s: label none (the "
             "default, medium) -> " LOW, names[i]);
    ck_assert_msg(strstr(said_labels, want), "the log lacks '%s': '%s'",
                  want, said_labels);
  }

  /* A new DACL alone keeps the label on every object. */
  relabel(&b, path, dir, RELABEL_CONFIG("read", "integrity = low\n"));
  labels_are(&b, LOW, "after a DACL change that keeps integrity = low");
  ck_assert_msg(said_labels[0] == '\0', "a kept label was logged as a "
                "change: '%s'", said_labels);

  /* And taken away again: no label is left on any live object. */
  relabel(&b, path, dir, RELABEL_CONFIG("write", ""));
  ck_assert_ptr_null(strstr(kept->sddl, "S:"));
  labels_are(&b, "", "after removing integrity = low");
  ck_assert_msg(strstr(said_labels, "reload: section kept: label " LOW
                       " -> none (the default, medium)"),
                "the log does not say kept's label went: '%s'", said_labels);

  svc_broker_release(&b);
  test_remove_dir(dir);
  free(path);
  free(dir);
  free(me);
}
END_TEST

/* ---- the control pipe ------------------------------------------------- */

START_TEST(test_sandbox_pipe_descriptor_pinned) {
  char *me = test_self_sid_text(), want[1024], err[512], *text, *l;
  PSECURITY_DESCRIPTOR sd;
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  wchar_t name[96];
  HANDLE pipe;

  ck_assert_int_eq(svc_pipe_sd(1, &sd, err, sizeof(err)), 0);
  text = svc_sd_to_sddl(sd);
  snprintf(want, sizeof(want), "O:%sG:%sD:P(D;;GA;;;NU)(A;;GA;;;%s)"
           "(A;;GA;;;SY)(A;;0x12019b;;;AU)(A;;0x12019b;;;AC)" LOW, me, me,
           me);
  ck_assert_str_eq(text, want);
  free(text);
  /* The kernel keeps the label on the pipe. */
  swprintf(name, 96, L"\\\\.\\pipe\\shmb-sandbox-%lu",
           (unsigned long)GetCurrentProcessId());
  sa.lpSecurityDescriptor = sd;
  pipe = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 512,
                          512, 0, &sa);
  ck_assert(pipe != INVALID_HANDLE_VALUE);
  ck_assert_str_eq(l = label_of(pipe), LOW);
  free(l);
  CloseHandle(pipe);
  LocalFree(sd);

  /* Without allow_sandboxed: no package entry, no label. */
  ck_assert_int_eq(svc_pipe_sd(0, &sd, err, sizeof(err)), 0);
  text = svc_sd_to_sddl(sd);
  snprintf(want, sizeof(want), "O:%sG:%sD:P(D;;GA;;;NU)(A;;GA;;;%s)"
           "(A;;GA;;;SY)(A;;0x12019b;;;AU)", me, me, me);
  ck_assert_str_eq(text, want);
  free(text);
  LocalFree(sd);
  free(me);
}
END_TEST

/* ---- AppContainer SIDs in grants --------------------------------------- */

#define PKG "S-1-15-2-1111-2222-3333-4444-5555-6666-7777"

START_TEST(test_sandbox_grants_name_appcontainers) {
  shmb_section_config sc;
  char *sddl = NULL, err[512] = "", *me = test_self_sid_text(), read[256];
  PSECURITY_DESCRIPTOR sd;
  char *normalised;

  memset(&sc, 0, sizeof(sc));
  snprintf(sc.name, sizeof(sc.name), "sandboxed");
  snprintf(read, sizeof(read), "%s, ALL APPLICATION PACKAGES", me);
  sc.read = read;
  sc.write = "capability:internetClient, " PKG
             ", application package authority\\all restricted application "
             "packages";
  sc.read_line = 5;
  sc.write_line = 6;
  ck_assert_msg(svc_grants_sddl(&sc, &sddl, err, sizeof(err)) == 0, "%s",
                err);
  ck_assert_msg(strstr(sddl, ";;;S-1-15-2-1)"), "%s", sddl);
  ck_assert_msg(strstr(sddl, ";;;S-1-15-3-1)"), "%s", sddl);
  ck_assert_msg(strstr(sddl, ";;;S-1-15-2-2)"), "%s", sddl);
  ck_assert_msg(strstr(sddl, ";;;" PKG ")"), "%s", sddl);
  /* Through the normaliser as any grant. */
  ck_assert_int_eq(svc_sd_from_sddl(sddl, &sd, &normalised, err, sizeof(err)),
                   0);
  ck_assert_msg(strstr(normalised, "AC)") || strstr(normalised, "S-1-15-2-1)"),
                "%s", normalised);
  free(normalised);
  LocalFree(sd);
  free(sddl);

  /* A package by name: derived where the system can, else a clear no. */
  sc.read = "package:Contoso.Viewer_8wekyb3d8bbwe";
  sc.write = NULL;
  sddl = NULL;
  if (svc_grants_sddl(&sc, &sddl, err, sizeof(err)) == 0)
    ck_assert_msg(strstr(sddl, ";;;S-1-15-2-"), "%s", sddl);
  else
    ck_assert_msg(strstr(err, "write the SID (S-1-15-2-...)"), "%s", err);
  free(sddl);
  free(me);
}
END_TEST

Suite *sandbox_suite(void) {
  Suite *s = suite_create("sandbox");
  TCase *tc = tcase_create("sandbox");
  tcase_add_test(tc, test_sandbox_label_kept_exactly);
  tcase_add_test(tc, test_sandbox_sacl_refusals);
  tcase_add_test(tc, test_sandbox_integrity_low_objects);
  tcase_add_test(tc, test_sandbox_doorbell_kinds_labelled);
  tcase_add_test(tc, test_sandbox_integrity_low_conflicts_with_sacl);
  tcase_add_test(tc, test_sandbox_reload_changes_integrity);
  tcase_add_test(tc, test_sandbox_pipe_descriptor_pinned);
  tcase_add_test(tc, test_sandbox_grants_name_appcontainers);
  suite_add_tcase(s, tc);
  return s;
}
