/*
 * Tests for the doorbell's objects (service/bell_sd.c, service/doorbell.c):
 * the descriptor each object carries, derived from a sample section
 * descriptor and pinned as SDDL (who may read may wait, who may write may
 * ring, deny ACEs keep their force, nobody gets WRITE_DAC, WRITE_OWNER or
 * DELETE); a squatted name fails the doorbell; the waiter bound; and the
 * registry page as a ringer reads it, entry by entry and generation by
 * generation.
 */
#include <windows.h>

#include <aclapi.h>
#include <check.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bell_sd.h"
#include "doorbell.h"
#include "errors.h"
#include "section.h"
#include "winutil.h"
#include "wstr.h"

/* A section that SY may use, BU may read, 1001 may read and write, and 500
 * may not write (a deny ACE): every mapping rule has an ACE to act on.
 * Windows prints the section rights with SDDL's letters for the bits they
 * share: DC = 0x2 (FILE_MAP_WRITE, EVENT_MODIFY_STATE), LC = 0x4
 * (FILE_MAP_READ); 0x100000 is SYNCHRONIZE. */
#define SECTION_SDDL                                                           \
  "O:SYG:SYD:P(D;;GW;;;S-1-5-21-1-2-3-500)(A;;GA;;;SY)(A;;GR;;;BU)"          \
  "(A;;GRGW;;;S-1-5-21-1-2-3-1001)"
#define WAITER "S-1-5-21-1-2-3-1002"

static char *derived(svc_bell_kind kind, const char *waiter) {
  PSECURITY_DESCRIPTOR section = test_sd_ok(SECTION_SDDL), sd;
  char err[256] = "", *sddl = NULL;
  int rc = svc_bell_sd(section, kind, waiter, &sd, &sddl, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_bell_sd: %s (%s)", shmb_err_name(rc), err);
  LocalFree(sd);
  LocalFree(section);
  return sddl;
}

static void expect_sddl(svc_bell_kind kind, const char *waiter,
                        const char *want) {
  char *got = derived(kind, waiter);
  ck_assert_msg(strcmp(got, want) == 0, "kind %d:\n got  %s\n want %s",
                (int)kind, got, want);
  free(got);
}

START_TEST(test_doorbell_sd_counter) {
  /* Readers (BU) map-read, writers (SY, 1001) map-read and map-write; 500
   * is denied the write. */
  expect_sddl(SVC_BELL_COUNTER, NULL,
              "O:SYG:SYD:P(D;;DC;;;S-1-5-21-1-2-3-500)(A;;DCLC;;;SY)"
              "(A;;LC;;;BU)(A;;DCLC;;;S-1-5-21-1-2-3-1001)");
}
END_TEST

START_TEST(test_doorbell_sd_registry) {
  /* Only ringers read it; nobody but the service (its creator) writes. */
  expect_sddl(SVC_BELL_REGISTRY, NULL,
              "O:SYG:SYD:P(D;;LC;;;S-1-5-21-1-2-3-500)(A;;LC;;;SY)"
              "(A;;LC;;;S-1-5-21-1-2-3-1001)");
}
END_TEST

START_TEST(test_doorbell_sd_event) {
  /* The waiter may wait (SYNCHRONIZE), writers may signal
   * (EVENT_MODIFY_STATE), readers get nothing. */
  expect_sddl(SVC_BELL_EVENT, WAITER,
              "O:SYG:SYD:P(D;;DC;;;S-1-5-21-1-2-3-500)"
              "(A;;0x100000;;;" WAITER ")(A;;DC;;;SY)"
              "(A;;DC;;;S-1-5-21-1-2-3-1001)");
}
END_TEST

START_TEST(test_doorbell_sd_armed) {
  /* Only the waiter writes its armed word; writers read it. */
  expect_sddl(SVC_BELL_ARMED, WAITER,
              "O:SYG:SYD:P(A;;DCLC;;;" WAITER ")(A;;LC;;;SY)"
              "(A;;LC;;;S-1-5-21-1-2-3-1001)");
}
END_TEST

START_TEST(test_doorbell_sd_waiter_needed) {
  PSECURITY_DESCRIPTOR section = test_sd_ok(SECTION_SDDL), sd;
  char err[256] = "";
  ck_assert_int_eq(svc_bell_sd(section, SVC_BELL_EVENT, NULL, &sd, NULL, err,
                               sizeof(err)),
                   SHMB_EINVAL);
  LocalFree(section);
}
END_TEST

/* Names for svc_doorbell_new: the next of a fixed list, so a test can
 * squat one before the doorbell asks for it. */
static char fixed_names[4][64];
static int next_fixed;
static int fixed_name(const char *ns, char out[64]) {
  (void)ns;
  snprintf(out, 64, "%s", fixed_names[next_fixed++ % 4]);
  return 0;
}

static void fixed_names_init(const char *tag) {
  for (int i = 0; i < 4; i++)
    snprintf(fixed_names[i], 64, "Local\\shmb-test-%lu-%s-%d",
             (unsigned long)GetCurrentProcessId(), tag, i);
  next_fixed = 0;
}

START_TEST(test_doorbell_squatted_registry) {
  PSECURITY_DESCRIPTOR section = test_sd_for("D:P(A;;GRGW;;;{me})");
  svc_doorbell *d = NULL;
  char err[512] = "";
  wchar_t *w;
  HANDLE squatter;
  int rc;

  fixed_names_init("squat");
  w = shmb__wide_from_utf8(fixed_names[1]); /* the registry's name */
  squatter = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                4096, w);
  free(w);
  ck_assert_ptr_nonnull(squatter);
  rc = svc_doorbell_new(fixed_name, "Local", section, 4, &d, err, sizeof(err));
  ck_assert_msg(rc == SHMB_EEXIST, "rc %s (%s), expected SHMB_EEXIST",
                shmb_err_name(rc), err);
  ck_assert_ptr_null(d);
  ck_assert_msg(strstr(err, fixed_names[1]) && strstr(err, "squatted"),
                "message '%s'", err);
  CloseHandle(squatter);
  LocalFree(section);
}
END_TEST

START_TEST(test_doorbell_squatted_event) {
  PSECURITY_DESCRIPTOR section = test_sd_for("D:P(A;;GRGW;;;{me})");
  char err[512] = "", event[64], armed[64], *me = test_self_sid_text();
  svc_doorbell *d;
  wchar_t *w;
  HANDLE squatter;
  int rc;

  fixed_names_init("squatev");
  ck_assert_int_eq(svc_doorbell_new(fixed_name, "Local", section, 4, &d, err,
                                    sizeof(err)), 0);
  w = shmb__wide_from_utf8(fixed_names[3]); /* armed is [2], event [3] */
  squatter = CreateEventW(NULL, FALSE, FALSE, w);
  free(w);
  rc = svc_doorbell_add_waiter(d, section, me, (void *)1, event, armed, err,
                               sizeof(err));
  ck_assert_msg(rc == SHMB_EEXIST, "rc %s (%s)", shmb_err_name(rc), err);
  ck_assert_uint_eq(d->live, 0);
  ck_assert_uint_eq(d->reg->entries[0].live, 0);
  CloseHandle(squatter);
  svc_doorbell_free(d);
  free(me);
  LocalFree(section);
}
END_TEST

START_TEST(test_doorbell_waiters_bounded_and_dropped) {
  PSECURITY_DESCRIPTOR section = test_sd_for("D:P(A;;GRGW;;;{me})");
  char err[512] = "", event[64], armed[64], *me = test_self_sid_text();
  svc_doorbell *d;
  int a, b, c;

  ck_assert_int_eq(svc_doorbell_new(svc_object_name, "Local", section, 2, &d,
                                    err, sizeof(err)), 0);
  ck_assert_uint_eq(d->reg->capacity, 2);
  ck_assert_uint_eq(d->reg->generation, 0);
  ck_assert_int_eq(svc_doorbell_add_waiter(d, section, me, &a, event, armed,
                                           err, sizeof(err)), 0);
  ck_assert_str_eq(d->reg->entries[0].event, event);
  ck_assert_str_eq(d->reg->entries[0].armed, armed);
  /* One account holds at most half the places: a second place for me is
   * refused, another account still gets one. */
  ck_assert_int_eq(svc_doorbell_add_waiter(d, section, me, &b, event, armed,
                                           err, sizeof(err)),
                   SHMB_ETOOMANYWAITERS);
  ck_assert_msg(strstr(err, "already holds 1 of the 2"), "message '%s'", err);
  ck_assert_int_eq(svc_doorbell_add_waiter(d, section, WAITER, &b, event,
                                           armed, err, sizeof(err)), 0);
  ck_assert_int_eq(svc_doorbell_add_waiter(d, section, WAITER, &c, event,
                                           armed, err, sizeof(err)),
                   SHMB_ETOOMANYWAITERS);
  ck_assert_msg(strstr(err, "all 2 waiter places"), "message '%s'", err);
  /* Each change is one even step of two: a ringer never copies a half. */
  ck_assert_uint_eq(d->reg->generation, 4);
  ck_assert_uint_eq(svc_doorbell_drop_owner(d, &b), 1);
  ck_assert_uint_eq(d->reg->generation, 6);
  ck_assert_uint_eq(d->reg->entries[1].live, 0);
  ck_assert_uint_eq(d->reg->entries[0].live, 1);
  ck_assert_uint_eq(d->live, 1);
  ck_assert_uint_eq(svc_doorbell_drop_owner(d, NULL), 0);
  svc_doorbell_free(d);
  free(me);
  LocalFree(section);
}
END_TEST

/* The DACL on a live object, as SDDL (free()). */
static char *object_dacl(HANDLE h) {
  PSECURITY_DESCRIPTOR sd = NULL;
  LPSTR text;
  char *out;
  ck_assert_uint_eq(GetSecurityInfo(h, SE_KERNEL_OBJECT,
                                    DACL_SECURITY_INFORMATION, NULL, NULL,
                                    NULL, NULL, &sd),
                    ERROR_SUCCESS);
  ck_assert(ConvertSecurityDescriptorToStringSecurityDescriptorA(
      sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, NULL));
  out = _strdup(text);
  LocalFree(text);
  LocalFree(sd);
  return out;
}

/* The DACL kind derives from section (with waiter), as SDDL (free()). */
static char *derived_dacl(PSECURITY_DESCRIPTOR section, svc_bell_kind kind,
                          const char *waiter) {
  PSECURITY_DESCRIPTOR sd;
  LPSTR text;
  char err[256], *out;
  ck_assert_int_eq(svc_bell_sd(section, kind, waiter, &sd, NULL, err,
                               sizeof(err)), 0);
  ck_assert(ConvertSecurityDescriptorToStringSecurityDescriptorA(
      sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, NULL));
  out = _strdup(text);
  LocalFree(text);
  LocalFree(sd);
  return out;
}

/* "D:P(...)" to "D:(...)": Wine drops the protected flag that
 * SetSecurityInfo was given (PROTECTED_DACL_SECURITY_INFORMATION; nothing
 * is inherited by these objects either way), so compare the ACEs. */
static void unprotect(char *dacl) {
  if (strncmp(dacl, "D:P", 3) == 0)
    memmove(dacl + 2, dacl + 3, strlen(dacl + 3) + 1);
}

static void expect_dacl(HANDLE h, PSECURITY_DESCRIPTOR section,
                        svc_bell_kind kind, const char *waiter) {
  char *got = object_dacl(h), *want = derived_dacl(section, kind, waiter);
  unprotect(got);
  unprotect(want);
  ck_assert_msg(strcmp(got, want) == 0, "kind %d on the live object:\n got  "
                "%s\n want %s", (int)kind, got, want);
  free(got);
  free(want);
}

START_TEST(test_doorbell_reload_rederives) {
  /* A reload that makes the section read-only for its writer puts the
   * derived descriptors on every live object, a waiter's too. */
  PSECURITY_DESCRIPTOR rw = test_sd_for("D:P(A;;GRGW;;;{me})");
  PSECURITY_DESCRIPTOR ro = test_sd_for("D:P(A;;GR;;;{me})");
  char err[512] = "", event[64], armed[64], *me = test_self_sid_text();
  svc_doorbell *d;
  int owner;

  ck_assert_int_eq(svc_doorbell_new(svc_object_name, "Local", rw, 2, &d, err,
                                    sizeof(err)), 0);
  ck_assert_int_eq(svc_doorbell_add_waiter(d, rw, me, &owner, event, armed,
                                           err, sizeof(err)), 0);
  expect_dacl(d->counter, rw, SVC_BELL_COUNTER, NULL);
  ck_assert_int_eq(svc_doorbell_set_descriptor(d, ro, err, sizeof(err)), 0);
  expect_dacl(d->counter, ro, SVC_BELL_COUNTER, NULL);
  expect_dacl(d->registry, ro, SVC_BELL_REGISTRY, NULL);
  expect_dacl(d->waiters[0].event, ro, SVC_BELL_EVENT, me);
  expect_dacl(d->waiters[0].armed, ro, SVC_BELL_ARMED, me);
  svc_doorbell_free(d);
  free(me);
  LocalFree(rw);
  LocalFree(ro);
}
END_TEST

Suite *doorbell_suite(void) {
  Suite *s = suite_create("doorbell");
  TCase *tc = tcase_create("descriptors");
  tcase_add_test(tc, test_doorbell_sd_counter);
  tcase_add_test(tc, test_doorbell_sd_registry);
  tcase_add_test(tc, test_doorbell_sd_event);
  tcase_add_test(tc, test_doorbell_sd_armed);
  tcase_add_test(tc, test_doorbell_sd_waiter_needed);
  suite_add_tcase(s, tc);
  tc = tcase_create("objects");
  tcase_add_test(tc, test_doorbell_squatted_registry);
  tcase_add_test(tc, test_doorbell_squatted_event);
  tcase_add_test(tc, test_doorbell_waiters_bounded_and_dropped);
  tcase_add_test(tc, test_doorbell_reload_rederives);
  suite_add_tcase(s, tc);
  return s;
}
