/*
 * Tests for the section registry (service/sections.c). What matters is what
 * the kernel does with the objects, so the tests open the sections the way a
 * client would, with OpenFileMappingW, and check the Win32 error: a section
 * created with a read-only descriptor must refuse FILE_MAP_WRITE, one with
 * an SY-only descriptor must refuse the (non-SYSTEM) test user, a squatted
 * name must be refused rather than adopted, and a registry that fails half
 * way must leave no object behind. Object names chosen here carry the
 * process id and live in Local\ so that parallel test runs never meet; the
 * names the registry chooses itself are random and are learnt from its
 * debug log.
 */
#include <windows.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "descriptor.h"
#include "errors.h"
#include "log.h"
#include "registry.h"
#include "winutil.h"
#include "wstr.h"

#define HEX_DIGITS 32

/* A Local\ name unique to this process and tag. */
static void test_object_name(const char *tag, char out[SVC_OBJECT_NAME_MAX]) {
  snprintf(out, SVC_OBJECT_NAME_MAX, "Local\\shmb-test-%lu-%s",
           (unsigned long)GetCurrentProcessId(), tag);
}


/* ----- svc_object_name ----- */

static void check_name_shape(const char *ns, const char *name) {
  size_t plen = strlen(ns) + strlen("\\shmb-");
  ck_assert_msg(strncmp(name, ns, strlen(ns)) == 0 &&
                    strncmp(name + strlen(ns), "\\shmb-", 6) == 0,
                "'%s' does not start with %s\\shmb-", name, ns);
  ck_assert_uint_eq(strlen(name), plen + HEX_DIGITS);
  for (size_t i = plen; name[i]; i++)
    ck_assert_msg((name[i] >= '0' && name[i] <= '9') ||
                      (name[i] >= 'a' && name[i] <= 'f'),
                  "'%s' has '%c' at %zu", name, name[i], i);
}

START_TEST(test_sections_object_name_shape) {
  char name[SVC_OBJECT_NAME_MAX];
  ck_assert_int_eq(svc_object_name("Global", name), 0);
  check_name_shape("Global", name);
  ck_assert_int_eq(svc_object_name("Local", name), 0);
  check_name_shape("Local", name);
}
END_TEST

static int cmp_names(const void *a, const void *b) {
  return strcmp((const char *)a, (const char *)b);
}

START_TEST(test_sections_object_name_fresh) {
  enum { N = 1000 };
  char(*names)[SVC_OBJECT_NAME_MAX] = calloc(N, SVC_OBJECT_NAME_MAX);
  unsigned ones = 0;

  ck_assert_ptr_nonnull(names);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(svc_object_name("Local", names[i]), 0);
    check_name_shape("Local", names[i]);
  }
  qsort(names, N, SVC_OBJECT_NAME_MAX, cmp_names);
  for (int i = 1; i < N; i++)
    ck_assert_msg(strcmp(names[i - 1], names[i]) != 0,
                  "name %s came out twice", names[i]);
  /* A crude check that the bits are random, not a counter: about half of
   * the 128 * N bits are ones (expected 64000, sd ~253). */
  for (int i = 0; i < N; i++)
    for (const char *p = names[i] + strlen("Local\\shmb-"); *p; p++) {
      unsigned v = (unsigned)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
      ones += (v & 1) + (v >> 1 & 1) + (v >> 2 & 1) + (v >> 3 & 1);
    }
  ck_assert_msg(ones > 62000 && ones < 66000, "%u one bits of 128000", ones);
  free(names);
}
END_TEST

/* ----- svc_section_create ----- */

START_TEST(test_sections_create_squatted_name) {
  char object[SVC_OBJECT_NAME_MAX], err[512] = "";
  wchar_t *w;
  HANDLE squatter;
  PSECURITY_DESCRIPTOR sd = test_sd_for("D:P(A;;GRGW;;;{me})");
  svc_section sec;
  int rc;

  test_object_name("squat", object);
  w = shmb__wide_from_utf8(object);
  squatter = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                4096, w);
  free(w);
  ck_assert_ptr_nonnull(squatter);
  ck_assert_uint_ne(GetLastError(), ERROR_ALREADY_EXISTS);

  memset(&sec, 0, sizeof(sec));
  rc = svc_section_create(&sec, object, 65536, sd, err, sizeof(err));
  ck_assert_msg(rc == SHMB_EEXIST, "rc %s (%s), expected SHMB_EEXIST",
                shmb_err_name(rc), err);
  ck_assert_ptr_null(sec.mapping);
  ck_assert_msg(strstr(err, object) && strstr(err, "already exists"),
                "message '%s'", err);
  /* The squatter's object is untouched and still the only one. */
  CloseHandle(squatter);
  test_expect_open_error(object, FILE_MAP_READ, ERROR_FILE_NOT_FOUND);
  LocalFree(sd);
}
END_TEST

START_TEST(test_sections_create_squatted_locked_name) {
  /* A squatter that locks the service out of its object makes
   * CreateFileMappingW fail outright instead of reporting
   * ERROR_ALREADY_EXISTS: the section must still be refused. */
  char object[SVC_OBJECT_NAME_MAX], err[512] = "";
  wchar_t *w;
  HANDLE squatter;
  PSECURITY_DESCRIPTOR locked = test_sd_for("O:SYG:SYD:P(A;;GA;;;SY)");
  PSECURITY_DESCRIPTOR sd = test_sd_for("D:P(A;;GRGW;;;{me})");
  SECURITY_ATTRIBUTES sa = {sizeof(sa), locked, FALSE};
  svc_section sec;
  int rc;

  test_object_name("squat-locked", object);
  w = shmb__wide_from_utf8(object);
  squatter = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0,
                                4096, w);
  free(w);
  ck_assert_ptr_nonnull(squatter);

  memset(&sec, 0, sizeof(sec));
  rc = svc_section_create(&sec, object, 4096, sd, err, sizeof(err));
  ck_assert_msg(rc == SHMB_EEXIST, "rc %s, expected SHMB_EEXIST",
                shmb_err_name(rc));
  ck_assert_ptr_null(sec.mapping);
  ck_assert_msg(strstr(err, object) != NULL && strstr(err, "squatted"),
                "message '%s'", err);
  CloseHandle(squatter);
  LocalFree(sd);
  LocalFree(locked);
}
END_TEST

START_TEST(test_sections_create_name_of_other_type) {
  /* An event squatting the name (a different object type) also fails it. */
  char object[SVC_OBJECT_NAME_MAX], err[512] = "";
  wchar_t *w;
  HANDLE event;
  PSECURITY_DESCRIPTOR sd = test_sd_for("D:P(A;;GRGW;;;{me})");
  svc_section sec;
  int rc;

  test_object_name("squat-event", object);
  w = shmb__wide_from_utf8(object);
  event = CreateEventW(NULL, TRUE, FALSE, w);
  free(w);
  ck_assert_ptr_nonnull(event);

  memset(&sec, 0, sizeof(sec));
  rc = svc_section_create(&sec, object, 4096, sd, err, sizeof(err));
  ck_assert_msg(rc == SHMB_EEXIST, "rc %s, expected SHMB_EEXIST",
                shmb_err_name(rc));
  ck_assert_ptr_null(sec.mapping);
  ck_assert_msg(strstr(err, "squatted") != NULL, "message '%s'", err);
  CloseHandle(event);
  LocalFree(sd);
}
END_TEST

START_TEST(test_sections_create_fills_section) {
  char object[SVC_OBJECT_NAME_MAX], err[512] = "";
  PSECURITY_DESCRIPTOR sd = test_sd_for("D:P(A;;GRGW;;;{me})");
  svc_section sec;
  int rc;

  test_object_name("fill", object);
  memset(&sec, 0, sizeof(sec));
  rc = svc_section_create(&sec, object, 3 * 4096 + 1, sd, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);
  ck_assert_ptr_nonnull(sec.mapping);
  ck_assert_str_eq(sec.object, object);
  ck_assert_uint_eq(sec.size, 3 * 4096 + 1);
  CloseHandle(sec.mapping);
  /* The service held the only handle: the object is gone with it. */
  test_expect_open_error(object, FILE_MAP_READ, ERROR_FILE_NOT_FOUND);
  LocalFree(sd);
}
END_TEST

START_TEST(test_sections_read_only_descriptor_enforced) {
  char object[SVC_OBJECT_NAME_MAX], err[512] = "";
  PSECURITY_DESCRIPTOR sd = test_sd_for("O:SYG:SYD:P(A;;GR;;;{me})");
  svc_section sec;
  DWORD e;
  HANDLE h;
  void *view;
  int rc;

  test_object_name("ro", object);
  memset(&sec, 0, sizeof(sec));
  rc = svc_section_create(&sec, object, 4096, sd, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);

  h = test_open_mapping(object, FILE_MAP_READ, &e);
  ck_assert_msg(h != NULL, "FILE_MAP_READ refused: Win32 %lu",
                (unsigned long)e);
  view = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
  ck_assert_msg(view != NULL, "MapViewOfFile(read): Win32 %lu",
                (unsigned long)GetLastError());
  ck_assert_uint_eq(((volatile unsigned char *)view)[0], 0);
  UnmapViewOfFile(view);
  /* The read handle cannot be used to map for writing either. */
  ck_assert_ptr_null(MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0));
  CloseHandle(h);

  test_expect_open_error(object, FILE_MAP_WRITE, ERROR_ACCESS_DENIED);
  test_expect_open_error(object, FILE_MAP_ALL_ACCESS, ERROR_ACCESS_DENIED);
  test_expect_open_error(object, SECTION_MAP_EXECUTE, ERROR_ACCESS_DENIED);
  /* Standard rights (WRITE_DAC, DELETE, ...) are not tried: the test runs
   * as the owner (the service's account), which Windows always lets read
   * and write the DACL, and to which Wine 8 also grants DELETE and
   * WRITE_OWNER whatever the DACL says. */
  CloseHandle(sec.mapping);
  LocalFree(sd);
}
END_TEST

START_TEST(test_sections_read_write_descriptor_enforced) {
  char object[SVC_OBJECT_NAME_MAX], err[512] = "";
  PSECURITY_DESCRIPTOR sd = test_sd_for("O:SYG:SYD:P(A;;GRGW;;;{me})");
  svc_section sec;
  DWORD e;
  HANDLE w, r;
  unsigned char *wv, *rv;
  int rc;

  test_object_name("rw", object);
  memset(&sec, 0, sizeof(sec));
  rc = svc_section_create(&sec, object, 4096, sd, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);

  w = test_open_mapping(object, FILE_MAP_WRITE | FILE_MAP_READ, &e);
  ck_assert_msg(w != NULL, "FILE_MAP_WRITE refused: Win32 %lu",
                (unsigned long)e);
  r = test_open_mapping(object, FILE_MAP_READ, &e);
  ck_assert_ptr_nonnull(r);
  wv = MapViewOfFile(w, FILE_MAP_WRITE, 0, 0, 0);
  rv = MapViewOfFile(r, FILE_MAP_READ, 0, 0, 0);
  ck_assert_ptr_nonnull(wv);
  ck_assert_ptr_nonnull(rv);
  memcpy(wv, "shmb", 4);
  ck_assert_int_eq(memcmp(rv, "shmb", 4), 0);
  UnmapViewOfFile(wv);
  UnmapViewOfFile(rv);
  CloseHandle(w);
  CloseHandle(r);
  /* Execute, stripped from the grant, stays refused (standard rights are
   * not tried: the test user is the owner, see above). */
  test_expect_open_error(object, SECTION_MAP_EXECUTE, ERROR_ACCESS_DENIED);
  test_expect_open_error(object, SECTION_EXTEND_SIZE, ERROR_ACCESS_DENIED);
  CloseHandle(sec.mapping);
  LocalFree(sd);
}
END_TEST

START_TEST(test_sections_system_only_descriptor_enforced) {
  char object[SVC_OBJECT_NAME_MAX], err[512] = "";
  PSECURITY_DESCRIPTOR sd = test_sd_for("O:SYG:SYD:P(A;;GA;;;SY)");
  svc_section sec;
  int rc;

  test_object_name("sy", object);
  memset(&sec, 0, sizeof(sec));
  rc = svc_section_create(&sec, object, 4096, sd, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);
  test_expect_open_error(object, FILE_MAP_READ, ERROR_ACCESS_DENIED);
  test_expect_open_error(object, FILE_MAP_WRITE, ERROR_ACCESS_DENIED);
  CloseHandle(sec.mapping);
  LocalFree(sd);
}
END_TEST

/* ----- svc_registry_create / find / free ----- */

/* Collects the object names that create_one logs at debug level. */
typedef struct seen_objects {
  char names[4][SVC_OBJECT_NAME_MAX];
  int count;
} seen_objects;

static void capture_objects(int level, const char *line, void *arg) {
  seen_objects *seen = arg;
  const char *p = strstr(line, ": object ");
  size_t n;
  if (!p || seen->count == 4)
    return;
  p += strlen(": object ");
  n = strcspn(p, ", \r\n"); /* "object NAME, descriptor ..." or at the end */
  if (n >= SVC_OBJECT_NAME_MAX)
    return;
  memcpy(seen->names[seen->count], p, n);
  seen->names[seen->count][n] = '\0';
  seen->count++;
}

/* A config in the Local namespace; each section's sddl is a template. */
static shmb_config *parse_config(const char *alpha_sddl,
                                 const char *beta_sddl) {
  char *me = test_self_sid_text();
  char a[256], b[256], text[2048], err[SHMB_CONFIG_ERR_MAX] = "";
  shmb_config *cfg = NULL;
  int rc;

  test_with_sid(alpha_sddl, me, a, sizeof(a));
  test_with_sid(beta_sddl, me, b, sizeof(b));
  free(me);
  snprintf(text, sizeof(text),
           "[service]\n"
           "namespace = Local\n"
           "\n"
           "[section alpha]\n"
           "size = 64 KiB\n"
           "sddl = %s\n"
           "\n"
           "[section beta]\n"
           "size = 4096\n"
           "sddl = %s\n",
           a, b);
  rc = shmb_config_parse(text, strlen(text), "test.conf", &cfg, err,
                         sizeof(err));
  ck_assert_msg(rc == 0, "config: %s", err);
  ck_assert_int_eq(cfg->ns, SHMB_NS_LOCAL);
  ck_assert_uint_eq(cfg->nsections, 2);
  return cfg;
}

START_TEST(test_sections_registry_creates_all) {
  shmb_config *cfg =
      parse_config("O:SYG:SYD:P(A;;GRGW;;;{me})", "O:SYG:SYD:P(A;;GR;;;{me})");
  svc_registry *reg = NULL;
  char err[512] = "", objects[2][SVC_OBJECT_NAME_MAX];
  int rc;

  rc = svc_registry_create(NULL, cfg, NULL, NULL, &reg, err, sizeof(err));
  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);
  ck_assert_ptr_nonnull(reg);
  ck_assert_uint_eq(reg->count, 2);
  ck_assert_str_eq(reg->sections[0]->name, "alpha");
  ck_assert_str_eq(reg->sections[1]->name, "beta");
  ck_assert_uint_eq(reg->sections[0]->size, 64 * 1024);
  ck_assert_uint_eq(reg->sections[1]->size, 4096);
  for (size_t i = 0; i < reg->count; i++) {
    ck_assert_ptr_nonnull(reg->sections[i]->mapping);
    ck_assert_ptr_nonnull(reg->sections[i]->sd);
    check_name_shape("Local", reg->sections[i]->object);
    snprintf(objects[i], sizeof(objects[i]), "%s", reg->sections[i]->object);
  }
  ck_assert_str_ne(objects[0], objects[1]);

  /* Each object carries its own section's descriptor. */
  test_expect_opens(objects[0], FILE_MAP_WRITE);
  test_expect_opens(objects[1], FILE_MAP_READ);
  test_expect_open_error(objects[1], FILE_MAP_WRITE, ERROR_ACCESS_DENIED);

  svc_registry_free(reg);
  test_expect_open_error(objects[0], FILE_MAP_READ, ERROR_FILE_NOT_FOUND);
  test_expect_open_error(objects[1], FILE_MAP_READ, ERROR_FILE_NOT_FOUND);
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_sections_registry_bad_sddl_leaves_nothing) {
  shmb_config *cfg =
      parse_config("D:P(A;;GRGW;;;{me})", "O:SYG:SY");
  svc_registry *reg = (svc_registry *)(uintptr_t)1; /* must stay untouched */
  seen_objects seen = {0};
  int old_level = shmb_log_get_level();
  char err[512] = "";
  int rc;

  shmb_log_set_level(SHMB_LOG_DEBUG);
  shmb_log_set_sink(capture_objects, &seen);
  rc = svc_registry_create(NULL, cfg, NULL, NULL, &reg, err, sizeof(err));
  shmb_log_set_sink(NULL, NULL);
  shmb_log_set_level(old_level);

  ck_assert_msg(rc == SHMB_ECONFIG, "%s: %s", shmb_err_name(rc), err);
  ck_assert_ptr_eq(reg, (svc_registry *)(uintptr_t)1);
  ck_assert_msg(strstr(err, "beta") != NULL, "err '%s' does not name beta",
                err);
  ck_assert_msg(strstr(err, "alpha") == NULL, "err '%s' names alpha", err);
  ck_assert_msg(strstr(err, "no DACL") != NULL, "err '%s'", err);
  /* alpha was created before beta failed, and must be gone again. */
  ck_assert_int_eq(seen.count, 1);
  check_name_shape("Local", seen.names[0]);
  test_expect_open_error(seen.names[0], FILE_MAP_READ, ERROR_FILE_NOT_FOUND);
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_sections_registry_bad_first_sddl) {
  shmb_config *cfg = parse_config("not sddl at all", "D:P(A;;GR;;;{me})");
  svc_registry *reg = NULL;
  char err[512] = "";
  int rc = svc_registry_create(NULL, cfg, NULL, NULL, &reg, err, sizeof(err));

  ck_assert_msg(rc == SHMB_ECONFIG, "%s: %s", shmb_err_name(rc), err);
  ck_assert_ptr_null(reg);
  ck_assert_msg(strstr(err, "[section alpha]") != NULL, "err '%s'", err);
  /* The line of the sddl key itself, where the administrator must look. */
  ck_assert_msg(strstr(err, "line 6") != NULL, "err '%s' lacks the line",
                err);
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_sections_registry_find) {
  shmb_config *cfg = parse_config("D:P(A;;GR;;;{me})", "D:P(A;;GR;;;{me})");
  svc_registry *reg = NULL;
  char err[512] = "";
  int rc = svc_registry_create(NULL, cfg, NULL, NULL, &reg, err, sizeof(err));

  ck_assert_msg(rc == 0, "%s: %s", shmb_err_name(rc), err);
  ck_assert_ptr_eq(svc_registry_find(reg, "alpha"), reg->sections[0]);
  ck_assert_ptr_eq(svc_registry_find(reg, "beta"), reg->sections[1]);
  ck_assert_ptr_null(svc_registry_find(reg, "gamma"));
  ck_assert_ptr_null(svc_registry_find(reg, "ALPHA"));
  ck_assert_ptr_null(svc_registry_find(reg, "alph"));
  ck_assert_ptr_null(svc_registry_find(reg, ""));
  svc_registry_free(reg);
  shmb_config_free(cfg);
}
END_TEST

Suite *sections_suite(void) {
  Suite *s = suite_create("sections");
  TCase *tc = tcase_create("object_name");
  tcase_add_test(tc, test_sections_object_name_shape);
  tcase_add_test(tc, test_sections_object_name_fresh);
  suite_add_tcase(s, tc);

  tc = tcase_create("create");
  tcase_add_test(tc, test_sections_create_squatted_name);
  tcase_add_test(tc, test_sections_create_squatted_locked_name);
  tcase_add_test(tc, test_sections_create_name_of_other_type);
  tcase_add_test(tc, test_sections_create_fills_section);
  tcase_add_test(tc, test_sections_read_only_descriptor_enforced);
  tcase_add_test(tc, test_sections_read_write_descriptor_enforced);
  tcase_add_test(tc, test_sections_system_only_descriptor_enforced);
  suite_add_tcase(s, tc);

  tc = tcase_create("registry");
  tcase_add_test(tc, test_sections_registry_creates_all);
  tcase_add_test(tc, test_sections_registry_bad_sddl_leaves_nothing);
  tcase_add_test(tc, test_sections_registry_bad_first_sddl);
  tcase_add_test(tc, test_sections_registry_find);
  suite_add_tcase(s, tc);
  return s;
}
