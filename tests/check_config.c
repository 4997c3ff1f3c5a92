/*
 * Tests for the config parser (common/config.c). The file grants access to
 * shared memory, so the parser must refuse whatever it does not understand
 * and tell the administrator exactly where: every error path is driven here
 * and its message must start with "FILE:LINE: " for the right line and say
 * what is wrong. The accepted dialect (comments that leave SDDL's ';' alone,
 * CRLF, a UTF-8 BOM, defaults) and the size and duration parsers are pinned
 * down with the decoded values. Inputs are copied into buffers of their exact
 * length, with no terminating NUL, so a sanitizer build catches over-reads.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "log.h"
#include "ring.h"

#define CONF "shmbroker.conf"

static const char example[] =
    "[service]\n"
    "pipe = \\\\.\\pipe\\shmbroker          ; optional, this is the default\n"
    "namespace = Global                 ; Global (default) or Local\n"
    "log_level = info                   ; error, warn, info, debug\n"
    "\n"
    "[section telemetry]                ; name: 1-64 of A-Z a-z 0-9 . _ -\n"
    "size = 64MiB                       ; required\n"
    "sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GR;;;AU)   ; required: who may read "
    "or write\n"
    "description = frames from the camera service ; optional\n";

#define EXAMPLE_SDDL "O:SYG:SYD:P(A;;GA;;;SY)(A;;GR;;;AU)"

/* ---- helpers ------------------------------------------------------------ */

static int parse_exact(const char *text, size_t len, shmb_config **cfg,
                       char *err, size_t errlen) {
  char *copy = malloc(len ? len : 1);
  int rc;
  ck_assert_ptr_nonnull(copy);
  if (len)
    memcpy(copy, text, len);
  rc = shmb_config_parse(copy, len, CONF, cfg, err, errlen);
  free(copy);
  return rc;
}

static shmb_config *parse_ok_n(const char *text, size_t len) {
  shmb_config *cfg = NULL;
  char err[SHMB_CONFIG_ERR_MAX];
  int rc = parse_exact(text, len, &cfg, err, sizeof(err));
  ck_assert_msg(rc == 0, "parse failed (%d): %s", rc, err);
  ck_assert_ptr_nonnull(cfg);
  return cfg;
}

static shmb_config *parse_ok(const char *text) {
  return parse_ok_n(text, strlen(text));
}

/* The parse must fail with "shmbroker.conf:LINE: " followed by a message
 * containing needle. */
static void expect_error_n(const char *text, size_t len, unsigned line,
                           const char *needle) {
  shmb_config dummy, *cfg = &dummy; /* must be reset to NULL */
  char err[SHMB_CONFIG_ERR_MAX], prefix[64];
  int rc = parse_exact(text, len, &cfg, err, sizeof(err));
  ck_assert_msg(rc == SHMB_ECONFIG, "rc %d, message '%s'", rc, err);
  ck_assert_ptr_null(cfg);
  snprintf(prefix, sizeof(prefix), CONF ":%u: ", line);
  ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
                "expected '%s' at the start of '%s'", prefix, err);
  ck_assert_msg(strstr(err + strlen(prefix), needle) != NULL,
                "expected '%s' in '%s'", needle, err);
}

static void expect_error(const char *text, unsigned line, const char *needle) {
  expect_error_n(text, strlen(text), line, needle);
}

/* "[section NAME]" with valid size and sddl, to put errors after. */
#define SECTION(name) "[section " name "]\nsize = 4KiB\nsddl = D:P(A;;GR;;;AU)\n"

/* ---- accepted input ----------------------------------------------------- */

static void check_example(const shmb_config *cfg) {
  const shmb_section_config *sec;
  ck_assert_str_eq(cfg->pipe, "\\\\.\\pipe\\shmbroker");
  ck_assert_int_eq(cfg->ns, SHMB_NS_GLOBAL);
  ck_assert_int_eq(cfg->log_level, SHMB_LOG_INFO);
  ck_assert_uint_eq(cfg->max_clients, 256);
  ck_assert_uint_eq(cfg->client_timeout_ms, 30000);
  ck_assert_uint_eq(cfg->nsections, 1);
  sec = &cfg->sections[0];
  ck_assert_str_eq(sec->name, "telemetry");
  ck_assert_uint_eq(sec->size, 64ull * 1024 * 1024);
  ck_assert_str_eq(sec->sddl, EXAMPLE_SDDL);
  ck_assert_ptr_nonnull(sec->description);
  ck_assert_str_eq(sec->description, "frames from the camera service");
  ck_assert_uint_eq(sec->line, 6);
}

START_TEST(test_config_example_parses) {
  shmb_config *cfg = parse_ok(example);
  check_example(cfg);
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_config_defaults) {
  static const char *const texts[] = {
      "", "\n\n", "; only a comment\n# and another\n", "[service]\n",
      "  ; indented comment\n[service]\n\t# tab\n"};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    shmb_config *cfg = parse_ok(texts[i]);
    ck_assert_str_eq(cfg->pipe, "\\\\.\\pipe\\shmbroker");
    ck_assert_str_eq(cfg->pipe, SHMB_DEFAULT_PIPE);
    ck_assert_int_eq(cfg->ns, SHMB_NS_GLOBAL);
    ck_assert_int_eq(cfg->log_level, SHMB_LOG_INFO);
    ck_assert_uint_eq(cfg->max_clients, 256);
    ck_assert_uint_eq(cfg->client_timeout_ms, 30000);
    ck_assert_uint_eq(cfg->nsections, 0);
    shmb_config_free(cfg);
  }
  shmb_config_free(NULL);
}
END_TEST

START_TEST(test_config_all_service_keys) {
  shmb_config *cfg = parse_ok("[service]\n"
                              "pipe = \\\\.\\pipe\\other-broker\n"
                              "namespace = Local\n"
                              "log_level = debug\n"
                              "max_clients = 65536\n"
                              "client_timeout = 2min\n");
  ck_assert_str_eq(cfg->pipe, "\\\\.\\pipe\\other-broker");
  ck_assert_int_eq(cfg->ns, SHMB_NS_LOCAL);
  ck_assert_int_eq(cfg->log_level, SHMB_LOG_DEBUG);
  ck_assert_uint_eq(cfg->max_clients, 65536);
  ck_assert_uint_eq(cfg->client_timeout_ms, 120000);
  shmb_config_free(cfg);
  cfg = parse_ok("[service]\nlog_level = error\nmax_clients = 1\n"
                 "client_timeout = 500ms\n");
  ck_assert_int_eq(cfg->log_level, SHMB_LOG_ERROR);
  ck_assert_uint_eq(cfg->max_clients, 1);
  ck_assert_uint_eq(cfg->client_timeout_ms, 500);
  shmb_config_free(cfg);
  cfg = parse_ok("[service]\nlog_level = warn\nclient_timeout = 30 s\n");
  ck_assert_int_eq(cfg->log_level, SHMB_LOG_WARN);
  ck_assert_uint_eq(cfg->client_timeout_ms, 30000);
  shmb_config_free(cfg);
}
END_TEST

/* The text with every "\n" turned into "\r\n"; the caller frees it. */
static char *to_crlf(const char *text, size_t *outlen) {
  size_t len = strlen(text), n = 0;
  char *out = malloc(2 * len + 1);
  ck_assert_ptr_nonnull(out);
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\n')
      out[n++] = '\r';
    out[n++] = text[i];
  }
  out[n] = '\0';
  *outlen = n;
  return out;
}

START_TEST(test_config_crlf_line_endings) {
  size_t len;
  char *crlf = to_crlf(example, &len);
  shmb_config *cfg = parse_ok_n(crlf, len);
  check_example(cfg); /* no '\r' left at the end of any value */
  shmb_config_free(cfg);
  free(crlf);
  crlf = to_crlf("[service]\n\n; comment\nnamespace = global\n", &len);
  expect_error_n(crlf, len, 4, "namespace must be Global or Local");
  free(crlf);
  /* CRLF and the last line without any line ending. */
  cfg = parse_ok("[service]\r\nnamespace = Local");
  ck_assert_int_eq(cfg->ns, SHMB_NS_LOCAL);
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_config_utf8_bom) {
  static const char bom[] = "\xEF\xBB\xBF";
  char text[sizeof(example) + 3];
  shmb_config *cfg;
  memcpy(text, bom, 3);
  memcpy(text + 3, example, sizeof(example));
  cfg = parse_ok(text);
  check_example(cfg);
  shmb_config_free(cfg);
  /* Line numbers are not shifted by the mark. */
  expect_error("\xEF\xBB\xBF[services]\n", 1, "unknown header [services]");
  expect_error("\xEF\xBB\xBF\n[service]\nnamespace = x\n", 3,
               "namespace must be");
  /* A mark anywhere but the start is not skipped. */
  expect_error("[service]\n\xEF\xBB\xBF[section a]\n", 2, "expected");
}
END_TEST

START_TEST(test_config_inline_comments) {
  shmb_config *cfg = parse_ok("[service]   ; trailing comment on a header\n"
                              "namespace = Local ;comment\n");
  ck_assert_int_eq(cfg->ns, SHMB_NS_LOCAL);
  shmb_config_free(cfg);
  /* No white space before the '#': part of the value. */
  expect_error("[service]\nnamespace = Local#x\n", 2, "not 'Local#x'");
  expect_error("[service]\nnamespace = Local;x ;y\n", 2, "not 'Local;x'");
  cfg = parse_ok("[section a]\t# tab before the comment\n"
                 "size = 1MiB\t;tab\n"
                 "sddl = D:(A;;GR;;;WD)(A;;GW;;;SY) # hash comment\n"
                 "description = C#; or so; semicolons stay ;cut here\n");
  ck_assert_uint_eq(cfg->nsections, 1);
  ck_assert_str_eq(cfg->sections[0].name, "a");
  ck_assert_uint_eq(cfg->sections[0].size, 1u << 20);
  ck_assert_str_eq(cfg->sections[0].sddl, "D:(A;;GR;;;WD)(A;;GW;;;SY)");
  ck_assert_str_eq(cfg->sections[0].description, "C#; or so; semicolons stay");
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_config_whitespace_and_missing_final_newline) {
  shmb_config *cfg = parse_ok("\t[ section   cam-1.A_b ]  \n"
                              "  size\t=\t3 KiB  \n"
                              "\tsddl=D:P(A;;GA;;;SY)\n"
                              "description = a = b");
  ck_assert_str_eq(cfg->sections[0].name, "cam-1.A_b");
  ck_assert_uint_eq(cfg->sections[0].size, 3 * 1024);
  ck_assert_str_eq(cfg->sections[0].sddl, "D:P(A;;GA;;;SY)");
  ck_assert_str_eq(cfg->sections[0].description, "a = b");
  ck_assert_uint_eq(cfg->sections[0].line, 1);
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_config_sections_in_order_and_find) {
  shmb_config *cfg = parse_ok("[section one]\nsize = 1\nsddl = D:(A;;GR;;;AU)\n"
                              "[service]\nnamespace = Local\n"
                              "[section Two]\nsddl = D:(A;;GW;;;AU)\n"
                              "size = 2GiB\n"
                              "\n[section three]\nsize = 3B\nsddl = D:\n");
  const shmb_section_config *sec;
  ck_assert_int_eq(cfg->ns, SHMB_NS_LOCAL);
  ck_assert_uint_eq(cfg->nsections, 3);
  ck_assert_str_eq(cfg->sections[0].name, "one");
  ck_assert_str_eq(cfg->sections[1].name, "Two");
  ck_assert_str_eq(cfg->sections[2].name, "three");
  ck_assert_uint_eq(cfg->sections[0].line, 1);
  ck_assert_uint_eq(cfg->sections[1].line, 6);
  ck_assert_uint_eq(cfg->sections[2].line, 10);
  ck_assert_ptr_null(cfg->sections[0].description);
  sec = shmb_config_find(cfg, "Two");
  ck_assert_ptr_eq(sec, &cfg->sections[1]);
  ck_assert_uint_eq(sec->size, 2ull << 30);
  ck_assert_str_eq(sec->sddl, "D:(A;;GW;;;AU)");
  sec = shmb_config_find(cfg, "three");
  ck_assert_ptr_eq(sec, &cfg->sections[2]);
  ck_assert_uint_eq(sec->size, 3);
  ck_assert_ptr_eq(shmb_config_find(cfg, "one"), &cfg->sections[0]);
  /* Exact names only. */
  ck_assert_ptr_null(shmb_config_find(cfg, "two"));
  ck_assert_ptr_null(shmb_config_find(cfg, "THREE"));
  ck_assert_ptr_null(shmb_config_find(cfg, "on"));
  ck_assert_ptr_null(shmb_config_find(cfg, ""));
  shmb_config_free(cfg);
  cfg = parse_ok("");
  ck_assert_ptr_null(shmb_config_find(cfg, "one"));
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_config_read_write_lists) {
  shmb_config *cfg = parse_ok(
      "[section cam]\n"
      "size = 4KiB\n"
      "read = BUILTIN\\Users,  NT AUTHORITY\\Authenticated Users ; comment\n"
      "\n"
      "write = S-1-5-18\n"
      "[section r]\nsize = 1\nread = Everyone\n"
      "[section w]\nsize = 1\nwrite = CONTOSO\\camera-svc\n");
  const shmb_section_config *sec = &cfg->sections[0];
  ck_assert_uint_eq(cfg->nsections, 3);
  /* Kept as written (trimmed at the ends only): the service resolves them. */
  ck_assert_str_eq(sec->read,
                   "BUILTIN\\Users,  NT AUTHORITY\\Authenticated Users");
  ck_assert_uint_eq(sec->read_line, 3);
  ck_assert_str_eq(sec->write, "S-1-5-18");
  ck_assert_uint_eq(sec->write_line, 5);
  ck_assert_ptr_null(sec->sddl);
  ck_assert_uint_eq(sec->sddl_line, 0);
  ck_assert_ptr_null(sec->backing_file);
  ck_assert_uint_eq(sec->flush_interval_ms, 0);
  sec = &cfg->sections[1];
  ck_assert_str_eq(sec->read, "Everyone");
  ck_assert_uint_eq(sec->read_line, 8);
  ck_assert_ptr_null(sec->write);
  ck_assert_uint_eq(sec->write_line, 0);
  sec = &cfg->sections[2];
  ck_assert_ptr_null(sec->read);
  ck_assert_str_eq(sec->write, "CONTOSO\\camera-svc");
  ck_assert_uint_eq(sec->write_line, 11);
  shmb_config_free(cfg);
  /* An sddl section keeps its line and has no lists. */
  cfg = parse_ok("\n" SECTION("s"));
  ck_assert_uint_eq(cfg->sections[0].sddl_line, 4);
  ck_assert_ptr_null(cfg->sections[0].read);
  ck_assert_ptr_null(cfg->sections[0].write);
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_config_backing) {
  shmb_config *cfg = parse_ok(
      "[section a]\nsize = 64MiB\nwrite = SYSTEM\n"
      "backing = file:D:\\data\\a.bin\n"
      "flush_interval = 5s\n"
      "[section b]\nsize = 1\nread = Users\nbacking = pagefile\n"
      "[section c]\nsize = 1\nread = Users\n"
      "flush_interval = 250ms\n" /* before backing: order does not matter */
      "backing = file:\\\\server\\share\\c.bin\n"
      "[section d]\nsize = 1\nread = Users\nbacking = file:c:\\d.bin\n");
  const shmb_section_config *sec = &cfg->sections[0];
  ck_assert_str_eq(sec->backing_file, "D:\\data\\a.bin"); /* no "file:" */
  ck_assert_uint_eq(sec->flush_interval_ms, 5000);
  ck_assert_uint_eq(sec->flush_line, 5);
  sec = &cfg->sections[1];
  ck_assert_ptr_null(sec->backing_file); /* pagefile */
  ck_assert_uint_eq(sec->flush_interval_ms, 0);
  sec = &cfg->sections[2];
  ck_assert_str_eq(sec->backing_file, "\\\\server\\share\\c.bin");
  ck_assert_uint_eq(sec->flush_interval_ms, 250);
  ck_assert_uint_eq(sec->flush_line, 13);
  sec = &cfg->sections[3];
  ck_assert_str_eq(sec->backing_file, "c:\\d.bin");
  ck_assert_uint_eq(sec->flush_interval_ms, 0); /* flush at stop only */
  shmb_config_free(cfg);
}
END_TEST

START_TEST(test_config_on_revoke) {
  shmb_config *cfg = parse_ok(SECTION("a") "on_revoke = rotate\n"
                              SECTION("b") "on_revoke = keep\n"
                              SECTION("c"));
  ck_assert_int_eq(cfg->sections[0].on_revoke_rotate, 1);
  ck_assert_uint_eq(cfg->sections[0].revoke_line, 4);
  ck_assert_int_eq(cfg->sections[1].on_revoke_rotate, 0);
  ck_assert_int_eq(cfg->sections[2].on_revoke_rotate, 0); /* the default */
  shmb_config_free(cfg);
  expect_error(SECTION("a") "on_revoke = Rotate\n", 4,
               "on_revoke must be keep or rotate, not 'Rotate'");
  expect_error(SECTION("a") "on_revoke = rotate\nbacking = file:C:\\a.bin\n",
               4, "on_revoke = rotate needs a pagefile section");
}
END_TEST

START_TEST(test_config_notify) {
  shmb_config *cfg = parse_ok(SECTION("a") "notify = yes\nmax_waiters = 256\n"
                              SECTION("b") "notify = no\n" SECTION("c")
                              "notify = yes\n");
  ck_assert_int_eq(cfg->sections[0].notify, 1);
  ck_assert_uint_eq(cfg->sections[0].max_waiters, 256);
  ck_assert_int_eq(cfg->sections[1].notify, 0);
  ck_assert_int_eq(cfg->sections[2].notify, 1);
  ck_assert_uint_eq(cfg->sections[2].max_waiters, 0); /* the default */
  shmb_config_free(cfg);
  expect_error(SECTION("a") "notify = true\n", 4,
               "notify must be yes or no, not 'true'");
  expect_error(SECTION("a") "notify = yes\nmax_waiters = 257\n", 5,
               "max_waiters must be a number from 1 to 256");
  expect_error(SECTION("a") "notify = yes\nmax_waiters = 0\n", 5,
               "max_waiters must be a number from 1 to 256");
  expect_error(SECTION("a") "notify = yes\nmax_waiters = 8x\n", 5,
               "max_waiters must be a number from 1 to 256");
  expect_error(SECTION("a") "max_waiters = 8\n", 1,
               "max_waiters needs notify = yes");
}
END_TEST

START_TEST(test_config_log_file_and_admins) {
  shmb_config *cfg = parse_ok(
      "[service]\n"
      "log_file = C:\\ProgramData\\shmbroker\\shmbroker.log\n"
      "\n"
      "admins = BUILTIN\\Administrators, CONTOSO\\ops ; may reload\n");
  ck_assert_str_eq(cfg->log_file, "C:\\ProgramData\\shmbroker\\shmbroker.log");
  ck_assert_str_eq(cfg->admins, "BUILTIN\\Administrators, CONTOSO\\ops");
  ck_assert_uint_eq(cfg->admins_line, 4);
  shmb_config_free(cfg);
  cfg = parse_ok("[service]\nlog_file = \\\\logs\\shmb\\x.log\n"
                 "admins = S-1-5-32-544\n");
  ck_assert_str_eq(cfg->log_file, "\\\\logs\\shmb\\x.log");
  ck_assert_str_eq(cfg->admins, "S-1-5-32-544");
  ck_assert_uint_eq(cfg->admins_line, 3);
  shmb_config_free(cfg);
  /* Absent: no log file; admins NULL means the service's default. */
  cfg = parse_ok("[service]\n");
  ck_assert_ptr_null(cfg->log_file);
  ck_assert_ptr_null(cfg->admins);
  ck_assert_uint_eq(cfg->admins_line, 0);
  shmb_config_free(cfg);
}
END_TEST

/* ---- errors, each with its line ----------------------------------------- */

START_TEST(test_config_error_unknown_key) {
  expect_error("[service]\nszie = 5\n", 2, "unknown key 'szie' in [service]");
  expect_error("[service]\nPipe = \\\\.\\pipe\\x\n", 2, "unknown key 'Pipe'");
  expect_error("\n" SECTION("telemetry") "szie = 64MiB\n", 5,
               "unknown key 'szie' in [section telemetry]");
  expect_error("[section a]\nnamespace = Global\n", 2,
               "unknown key 'namespace' in [section a]");
  expect_error("[service]\nsize = 1\n", 2, "unknown key 'size' in [service]");
}
END_TEST

START_TEST(test_config_error_unknown_header) {
  expect_error("\n[services]\n", 2, "unknown header [services]");
  expect_error("[Service]\n", 1, "unknown header [Service]");
  expect_error("[service]\n[section]\n", 2, "unknown header [section]");
  expect_error("[sectionfoo]\n", 1, "unknown header [sectionfoo]");
  expect_error("[]\n", 1, "unknown header []");
}
END_TEST

START_TEST(test_config_error_key_outside_header) {
  expect_error("; comment\n\nnamespace = Global\n[service]\n", 3,
               "key 'namespace' outside any [service] or [section NAME]");
}
END_TEST

START_TEST(test_config_error_duplicate_key) {
  static const char *const service_keys[] = {
      "pipe = \\\\.\\pipe\\a", "namespace = Local", "log_level = warn",
      "max_clients = 5", "client_timeout = 5s", "log_file = C:\\x.log",
      "admins = BUILTIN\\Administrators"};
  char text[256];
  for (size_t i = 0; i < sizeof(service_keys) / sizeof(service_keys[0]); i++) {
    snprintf(text, sizeof(text), "[service]\n%s\n\n%s\n", service_keys[i],
             service_keys[i]);
    expect_error(text, 4, "given twice");
  }
  expect_error("[service]\nnamespace = Local\nnamespace = Local\n", 3,
               "key 'namespace' given twice");
  expect_error(SECTION("a") "size = 1\n", 4, "key 'size' given twice");
  expect_error(SECTION("a") "sddl = D:\n", 4, "key 'sddl' given twice");
  expect_error(SECTION("a") "description = x\ndescription = y\n", 5,
               "key 'description' given twice");
  expect_error("[section a]\nsize = 1\nread = Users\nread = Users\n", 4,
               "key 'read' given twice");
  expect_error("[section a]\nsize = 1\nwrite = SYSTEM\nread = Users\n"
               "write = SYSTEM\n", 5, "key 'write' given twice");
  expect_error(SECTION("a") "backing = pagefile\nbacking = pagefile\n", 5,
               "key 'backing' given twice");
  expect_error(SECTION("a") "backing = file:C:\\a.bin\n"
               "backing = file:C:\\a.bin\n", 5, "key 'backing' given twice");
  expect_error(SECTION("a") "backing = pagefile\nbacking = file:C:\\a.bin\n",
               5, "key 'backing' given twice");
  expect_error(SECTION("a") "backing = file:C:\\a.bin\nflush_interval = 1s\n"
               "flush_interval = 2s\n", 6, "key 'flush_interval' given twice");
  /* The same key under two different sections is fine. */
  shmb_config_free(parse_ok(SECTION("a") SECTION("b")));
}
END_TEST

START_TEST(test_config_error_duplicate_service_header) {
  expect_error("[service]\nnamespace = Local\n[service]\n", 3,
               "[service] given twice");
}
END_TEST

START_TEST(test_config_error_duplicate_section) {
  expect_error(SECTION("telemetry") "\n" SECTION("telemetry"), 5,
               "[section telemetry] given twice (first on line 1");
  expect_error("\n" SECTION("telemetry") SECTION("Telemetry"), 5,
               "[section Telemetry] given twice (first on line 2");
  expect_error(SECTION("a") SECTION("b") SECTION("B"), 7,
               "(first on line 4");
}
END_TEST

START_TEST(test_config_error_missing_size) {
  /* Reported at the section's header, whether the section ends at the next
   * header or at the end of the file. */
  expect_error("[service]\n\n[section a]\nsddl = D:\n\n[section b]\n", 3,
               "[section a] has no size");
  expect_error(SECTION("a") "\n[section b]\nsddl = D:\n\n", 5,
               "[section b] has no size");
  expect_error(SECTION("a") "[section b]", 4, "[section b] has no size");
}
END_TEST

START_TEST(test_config_error_missing_sddl) {
  expect_error("[section a]\nsize = 1MiB\n[service]\n", 1,
               "[section a] says neither sddl nor read/write");
  expect_error(SECTION("a") "\n\n[section b]\nsize = 1\ndescription = d\n", 6,
               "[section b] says neither sddl nor read/write");
}
END_TEST

START_TEST(test_config_error_bad_size) {
  static const char *const bad[] = {
      "0", "0B", "0MiB", "-1", "+1", "1.5MiB", "12XB", "1KB", "1kib", "1 mib",
      "1TiB", "MiB", "0x10", "1 2", "1025GiB", "1048577MiB", "1099511627777",
      "99999999999999999999999", "18446744073709551616"};
  char text[256], needle[128];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(text, sizeof(text), "[section a]\nsddl = D:\n\nsize = %s\n",
             bad[i]);
    snprintf(needle, sizeof(needle), "1 TiB, not '%s'", bad[i]);
    expect_error(text, 4, "size must be a number with an optional unit");
    expect_error(text, 4, needle);
  }
  expect_error("[section a]\nsize = 1 PiB\nsddl = D:\n", 2, "not '1 PiB'");
  /* The largest size allowed, written three ways. */
  shmb_config_free(parse_ok("[section a]\nsize = 1024GiB\nsddl = D:\n"
                            "[section b]\nsize = 1048576 MiB\nsddl = D:\n"
                            "[section c]\nsize = 1099511627776\nsddl = D:\n"));
}
END_TEST

START_TEST(test_config_error_bad_namespace) {
  expect_error("[service]\nnamespace = global\n", 2,
               "namespace must be Global or Local, not 'global'");
  expect_error("[service]\nnamespace = Session\n", 2, "not 'Session'");
}
END_TEST

START_TEST(test_config_error_bad_log_level) {
  expect_error("[service]\nlog_level = verbose\n", 2,
               "log_level must be error, warn, info or debug, not 'verbose'");
  expect_error("[service]\nlog_level = INFO\n", 2, "not 'INFO'");
  expect_error("[service]\nlog_level = 2\n", 2, "log_level must be");
}
END_TEST

START_TEST(test_config_error_bad_pipe_name) {
  static const char *const bad[] = {
      "shmbroker", "\\\\.\\pipe\\", "\\\\.\\pipe\\a b", "\\\\server\\pipe\\x",
      "\\\\.\\PIPE\\x", "//./pipe/x", "\\\\.\\pipe\\caf\xc3\xa9",
      "\\\\.\\pipe\\a\tb",
      /* NAME is one component: Windows resolves "." and ".." before the
       * pipe is made (\\.\pipe\..\x is \\.\x), and '/' is read as '\\'. */
      "\\\\.\\pipe\\..\\x", "\\\\.\\pipe\\..", "\\\\.\\pipe\\.",
      "\\\\.\\pipe\\a\\b", "\\\\.\\pipe\\x\\", "\\\\.\\pipe\\a/b",
      "\\\\.\\pipe\\..\\UNC\\host\\pipe\\x"};
  char text[512], name[SHMB_PIPE_NAME_MAX + 2];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    shmb_config *cfg = NULL;
    char err[SHMB_CONFIG_ERR_MAX] = "";
    snprintf(text, sizeof(text), "[service]\n\npipe = %s\n", bad[i]);
    ck_assert_msg(parse_exact(text, strlen(text), &cfg, err, sizeof(err)) ==
                      SHMB_ECONFIG, "pipe = %s was accepted", bad[i]);
    expect_error(text, 3, "pipe must look like");
  }
  /* NAME at most SHMB_PIPE_NAME_PART_MAX characters; "..x" is a name. */
  memset(name, 'p', sizeof(name));
  memcpy(name, "\\\\.\\pipe\\", 9);
  name[9 + SHMB_PIPE_NAME_PART_MAX + 1] = '\0';
  snprintf(text, sizeof(text), "[service]\npipe = %s\n", name);
  expect_error(text, 2, "pipe must look like");
  memcpy(name + 9, "..", 2);
  name[9 + SHMB_PIPE_NAME_PART_MAX] = '\0';
  snprintf(text, sizeof(text), "[service]\npipe = %s\n", name);
  {
    shmb_config *cfg = parse_ok(text);
    ck_assert_str_eq(cfg->pipe, name);
    shmb_config_free(cfg);
  }
}
END_TEST

START_TEST(test_config_error_bad_max_clients_and_timeout) {
  static const char *const clients[] = {"0", "65537", "-1", "abc", "12x",
                                        "99999999999999999999999", "+5"};
  static const char *const timeouts[] = {"30", "0s", "0ms", "1h", "25h",
                                         "1441min", "86401s", "86400001ms",
                                         "5 sec", "1.5s", "-1s"};
  char text[128];
  for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
    snprintf(text, sizeof(text), "[service]\nmax_clients = %s\n", clients[i]);
    expect_error(text, 2, "max_clients must be a number from 1 to 65536");
  }
  for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
    snprintf(text, sizeof(text), "[service]\n\nclient_timeout = %s\n",
             timeouts[i]);
    expect_error(text, 3, "client_timeout must be a duration");
  }
}
END_TEST

START_TEST(test_config_error_nul_byte) {
  static const char text[] = "[service]\nnamespace = Glo\0bal\n";
  expect_error_n(text, sizeof(text) - 1, 2, "control character 0x00");
  /* Refused before any line is read: an earlier bad line does not win. */
  static const char text2[] = "[bogus]\n\n\n\0\n";
  expect_error_n(text2, sizeof(text2) - 1, 4, "control character 0x00");
}
END_TEST

START_TEST(test_config_error_control_char) {
  expect_error("[service]\n\nnamespace = \x01Global\n", 3,
               "control character 0x01");
  expect_error("[section a]\nsize = 1\nsddl = D:\ndescription = \x1b[31m\n", 4,
               "control character 0x1b");
  expect_error("[service]\x7f\n", 1, "control character 0x7f");
  expect_error("[service]\rnamespace = Local\n", 1, "control character 0x0d");
  expect_error("[service]\n\r", 2, "control character 0x0d");
  expect_error("[service]\n\x0c\n", 2, "control character 0x0c");
}
END_TEST

START_TEST(test_config_error_missing_equals) {
  expect_error("[service]\nnamespace Global\n", 2,
               "expected 'key = value', a [header] or a comment");
  expect_error(SECTION("a") "description: x\n", 4, "expected 'key = value'");
}
END_TEST

START_TEST(test_config_error_empty_value) {
  expect_error("[service]\nnamespace =\n", 2, "key 'namespace' has no value");
  expect_error("[service]\nnamespace =   \t\n", 2, "has no value");
  expect_error("[service]\nnamespace = ; just a comment\n", 2, "has no value");
  expect_error(SECTION("a") "description = # nothing\n", 4, "has no value");
  /* Last line, no line ending: nothing may be read past the text. */
  expect_error("[service]\nnamespace =", 2, "key 'namespace' has no value");
  expect_error("[service]\r\nnamespace =\r\n", 2, "has no value");
}
END_TEST

START_TEST(test_config_error_missing_key) {
  expect_error("[service]\n= Global\n", 2, "missing key before '='");
  expect_error("[service]\n  \t= Global\n", 2, "missing key before '='");
}
END_TEST

START_TEST(test_config_error_header_without_bracket) {
  expect_error("[service\nnamespace = Local\n", 1, "header must end with ']'");
  expect_error("\n\n[section a\n", 3, "header must end with ']'");
  expect_error("[\n", 1, "header must end with ']'");
  expect_error("[section a];comment\n", 1, "header must end with ']'");
}
END_TEST

START_TEST(test_config_error_bad_section_name) {
  char text[128], name[SHMB_NAME_MAX + 2];
  expect_error("[section a b]\n", 1, "invalid section name 'a b'");
  expect_error("[service]\n[section caf\xc3\xa9]\n", 2, "invalid section name");
  expect_error("[section a/b]\n", 1, "invalid section name 'a/b'");
  memset(name, 'n', sizeof(name));
  name[SHMB_NAME_MAX + 1] = '\0';
  snprintf(text, sizeof(text), "[section %s]\nsize = 1\nsddl = D:\n", name);
  expect_error(text, 1, "invalid section name");
  name[SHMB_NAME_MAX] = '\0';
  snprintf(text, sizeof(text), "[section %s]\nsize = 1\nsddl = D:\n", name);
  {
    shmb_config *cfg = parse_ok(text);
    ck_assert_str_eq(cfg->sections[0].name, name);
    shmb_config_free(cfg);
  }
}
END_TEST

START_TEST(test_config_error_file_too_large) {
  size_t len = SHMB_CONFIG_MAX_BYTES + 1;
  char *big = malloc(len);
  ck_assert_ptr_nonnull(big);
  memset(big, '\n', len);
  expect_error_n(big, len, 1, "file is larger than");
  free(big);
}
END_TEST

START_TEST(test_config_error_message_buffers) {
  shmb_config *cfg = NULL;
  char err[16];
  /* No file name: a placeholder stands in. */
  ck_assert_int_eq(shmb_config_parse("[x]\n", 4, NULL, &cfg, err, sizeof(err)),
                   SHMB_ECONFIG);
  ck_assert_str_eq(err, "<config>:1: unk");
  /* A short buffer is cut, never overrun; no buffer at all is allowed. */
  memset(err, 'Z', sizeof(err));
  ck_assert_int_eq(
      shmb_config_parse("\n\n[x]\n", 6, "c.conf", &cfg, err, 6), SHMB_ECONFIG);
  ck_assert_str_eq(err, "c.con");
  ck_assert_int_eq(err[6], 'Z');
  ck_assert_int_eq(shmb_config_parse("[x]\n", 4, "c.conf", &cfg, NULL, 0),
                   SHMB_ECONFIG);
  ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_config_error_sddl_and_lists) {
  /* Reported on the read (or else write) line, naming the sddl line,
   * whichever comes first in the file. */
  expect_error("[section a]\nsize = 1\nsddl = D:P(A;;GR;;;AU)\nread = Users\n",
               4, "[section a] has both sddl (line 3) and read/write");
  expect_error("[section a]\nsize = 1\nwrite = SYSTEM\n\nsddl = D:\n", 3,
               "has both sddl (line 5) and read/write; use one or the other");
  expect_error("[section a]\nread = Users\nsize = 1\nwrite = SYSTEM\n"
               "sddl = D:\n[section b]\n", 2, "has both sddl (line 5)");
}
END_TEST

START_TEST(test_config_error_no_grants) {
  expect_error("\n[section a]\nsize = 1\nbacking = file:C:\\a.bin\n", 2,
               "[section a] says neither sddl nor read/write: who may read "
               "or write it?");
}
END_TEST

START_TEST(test_config_error_flush_without_file) {
  expect_error("[section a]\nsize = 1\nread = Users\n\nflush_interval = 5s\n",
               5, "[section a]: flush_interval needs backing = file:PATH");
  expect_error("[section a]\nsize = 1\nflush_interval = 1min\nread = Users\n"
               "backing = pagefile\n[section b]\n", 3,
               "flush_interval needs backing = file:PATH");
}
END_TEST

START_TEST(test_config_error_bad_flush_interval) {
  static const char *const bad[] = {"5", "0s", "1h", "1.5s", "86401s"};
  char text[256];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(text, sizeof(text), "[section a]\nsize = 1\nread = Users\n"
             "backing = file:C:\\a.bin\nflush_interval = %s\n", bad[i]);
    expect_error(text, 5, "flush_interval must be a duration");
  }
}
END_TEST

START_TEST(test_config_error_bad_backing) {
  static const char *const bad[] = {
      "file:", "file:a.bin", "file:data\\a.bin", "file:C:a.bin", "file:C:\\",
      "file:C:/a.bin", "file:/tmp/a.bin", "file:\\a.bin", "file:\\\\",
      "file: C:\\a.bin", "File:C:\\a.bin", "file :C:\\a.bin", "C:\\a.bin",
      "paging", "Pagefile", "pagefile:", "file", "memory"};
  char text[256], needle[128];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(text, sizeof(text), "[section cam]\nsize = 1\nread = Users\n"
             "backing = %s\n", bad[i]);
    snprintf(needle, sizeof(needle), "not '%s'", bad[i]);
    expect_error(text, 4, "backing must be pagefile or file:PATH with an "
                 "absolute PATH such as file:D:\\data\\cam.bin");
    expect_error(text, 4, needle);
  }
}
END_TEST

START_TEST(test_config_error_bad_log_file) {
  static const char *const bad[] = {"shmbroker.log", "logs\\shmbroker.log",
                                    "C:shmbroker.log", "C:\\", "/var/log/x",
                                    "\\x.log", "\\\\", "file:C:\\x.log"};
  char text[256], needle[128];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(text, sizeof(text), "[service]\n\nlog_file = %s\n", bad[i]);
    snprintf(needle, sizeof(needle), "not '%s'", bad[i]);
    expect_error(text, 3, "log_file must be an absolute path such as "
                 "C:\\ProgramData\\shmbroker\\shmbroker.log");
    expect_error(text, 3, needle);
  }
}
END_TEST

START_TEST(test_config_error_empty_list_entry) {
  static const char *const bad[] = {"a,,b", "a,", ",", ",a", "a, ,b",
                                    "a,\t,b", ", ,"};
  char text[256], needle[128];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(needle, sizeof(needle), "with no empty entry, not '%s'", bad[i]);
    snprintf(text, sizeof(text), "[section a]\nsize = 1\nread = %s\n", bad[i]);
    expect_error(text, 3, "read must be a comma-separated list of accounts");
    expect_error(text, 3, needle);
    snprintf(text, sizeof(text), "[section a]\nsize = 1\nread = x\n\n"
             "write = %s\n", bad[i]);
    expect_error(text, 5, "write must be a comma-separated list of accounts");
    expect_error(text, 5, needle);
    snprintf(text, sizeof(text), "[service]\nadmins = %s\n", bad[i]);
    expect_error(text, 2, "admins must be a comma-separated list of accounts");
    expect_error(text, 2, needle);
  }
  /* Nothing at all is an empty value, as for any key. */
  expect_error("[section a]\nsize = 1\nread =\n", 3, "key 'read' has no value");
  expect_error("[service]\nadmins = ; nobody\n", 2,
               "key 'admins' has no value");
}
END_TEST

/* ---- value parsers ------------------------------------------------------ */

START_TEST(test_config_parse_size) {
  static const struct {
    const char *s;
    uint64_t v;
  } good[] = {{"1", 1},
              {"1B", 1},
              {"1 B", 1},
              {"7 ", 7},
              {"1KiB", 1024},
              {"1 KiB", 1024},
              {"64MiB", 64ull << 20},
              {"3GiB", 3ull << 30},
              {"1024GiB", 1ull << 40},
              {"1048576MiB", 1ull << 40},
              {"1073741824KiB", 1ull << 40},
              {"1099511627776", 1ull << 40},
              {"1099511627776B", 1ull << 40},
              {"007", 7}};
  static const char *const bad[] = {
      "", " 1", "0", "0B", "0GiB", "B", "KiB", "1b", "1KB", "1kib", "1MB",
      "1TiB", "1 TiB", "1.0", "-1", "+1", "1\t", "1KiB ", "1 2",
      "1025GiB", "1048577MiB", "1073741825KiB", "1099511627777",
      "18446744073709551615", "18446744073709551616",
      "999999999999999999999999999999"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    uint64_t v = 0;
    ck_assert_msg(shmb_parse_size(good[i].s, &v) == 0, "'%s'", good[i].s);
    ck_assert_uint_eq(v, good[i].v);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint64_t v = 12345;
    ck_assert_msg(shmb_parse_size(bad[i], &v) == SHMB_EINVAL, "'%s'", bad[i]);
    ck_assert_uint_eq(v, 12345); /* untouched on failure */
  }
}
END_TEST

START_TEST(test_config_parse_duration) {
  static const struct {
    const char *s;
    unsigned v;
  } good[] = {{"1ms", 1},          {"500ms", 500},
              {"30s", 30000},      {"30 s", 30000},
              {"2min", 120000},    {"1440min", 86400000},
              {"86400s", 86400000}, {"86400000ms", 86400000},
              {"0030s", 30000}};
  static const char *const bad[] = {
      "", "30", "s", "ms", "0ms", "0s", "0min", "1h", "1d", "1MS", "1S",
      "1 sec", "1.5s", "-1s", "+1s", " 1s", "1s ", "1441min", "86401s",
      "86400001ms", "4294967296ms", "99999999999999999999999999ms"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    unsigned v = 0;
    ck_assert_msg(shmb_parse_duration_ms(good[i].s, &v) == 0, "'%s'",
                  good[i].s);
    ck_assert_uint_eq(v, good[i].v);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    unsigned v = 777;
    ck_assert_msg(shmb_parse_duration_ms(bad[i], &v) == SHMB_EINVAL, "'%s'",
                  bad[i]);
    ck_assert_uint_eq(v, 777);
  }
}
END_TEST


/* ---- channels and delivery ---------------------------------------------- */

START_TEST(test_config_channels) {
  /* A channel is a section whose size is the ring's and whose grants are
   * send (write) and receive; it always has a doorbell. */
  shmb_config *cfg = parse_ok(
      "[service]\ndelivery = handle\nallow_sandboxed = yes\n"
      "[channel frames]\nkind = broadcast\nslots = 64\n"
      "slot_size = 256KiB\nsend = CONTOSO\\camera-svc\n"
      "receive = BUILTIN\\Users\nmax_waiters = 8\ndelivery = name\n"
      "[channel jobs]\nkind = queue\nslots = 4\nslot_size = 64\n"
      "sddl = D:P(A;;GA;;;SY)\ndelivery = name\nintegrity = low\n"
      "[section plain]\nsize = 4KiB\nread = Users\n");
  const shmb_section_config *f = shmb_config_find(cfg, "frames");
  const shmb_section_config *j = shmb_config_find(cfg, "jobs");
  const shmb_section_config *pl = shmb_config_find(cfg, "plain");
  const shmb_section_config *s;
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(f->channel, SHMB_RING_BROADCAST);
  ck_assert_uint_eq(f->slots, 64);
  ck_assert_uint_eq(f->slot_size, 256 * 1024);
  ck_assert_uint_eq(f->size, 192 + 64ull * 262208);
  ck_assert_int_eq(f->notify, 1);
  ck_assert_uint_eq(f->max_waiters, 8);
  ck_assert_str_eq(f->write, "CONTOSO\\camera-svc");
  ck_assert_str_eq(f->receive, "BUILTIN\\Users");
  ck_assert_ptr_null(f->read);
  ck_assert_uint_eq(f->write_line, 8);
  ck_assert_uint_eq(f->receive_line, 9);
  ck_assert_int_eq(shmb_config_delivery(cfg, f), SHMB_DELIVERY_NAME);
  ck_assert_uint_eq(j->channel, SHMB_RING_QUEUE);
  ck_assert_uint_eq(j->size, 192 + 4 * 128);
  ck_assert_int_eq(shmb_config_delivery(cfg, j), SHMB_DELIVERY_NAME);
  ck_assert_int_eq(j->integrity_low, 1);
  ck_assert_uint_eq(pl->channel, 0);
  ck_assert_int_eq(pl->notify, 0);
  ck_assert_int_eq(pl->integrity_low, 0);
  ck_assert_int_eq(shmb_config_delivery(cfg, pl), SHMB_DELIVERY_HANDLE);
  ck_assert_int_eq(cfg->allow_sandboxed, 1);
  shmb_config_free(cfg);
  /* The defaults: names, no sandboxed callers. */
  cfg = parse_ok(SECTION("s"));
  ck_assert_int_eq(cfg->allow_sandboxed, 0);
  ck_assert_int_eq(shmb_config_delivery(cfg, &cfg->sections[0]),
                   SHMB_DELIVERY_NAME);
  shmb_config_free(cfg);
  /* A doorbell, and so a channel, by handle: its objects are handles too
   * (issue 12), whether the section says so or the [service] default
   * does, even when [service] comes last. */
  cfg = parse_ok("[section s]\nsize = 4KiB\nread = Users\nnotify = yes\n"
                 "delivery = handle\n"
                 "[channel c]\nkind = queue\nslots = 8\nslot_size = 64\n"
                 "send = Users\nreceive = Users\n"
                 "[service]\ndelivery = handle\n");
  s = shmb_config_find(cfg, "s");
  f = shmb_config_find(cfg, "c");
  ck_assert_int_eq(s->notify, 1);
  ck_assert_int_eq(shmb_config_delivery(cfg, s), SHMB_DELIVERY_HANDLE);
  ck_assert_int_eq(f->notify, 1);
  ck_assert_int_eq(shmb_config_delivery(cfg, f), SHMB_DELIVERY_HANDLE);
  shmb_config_free(cfg);
}
END_TEST

#define CHANNEL_HEAD(name) "[channel " name "]\nkind = queue\n"
#define CHANNEL(name) CHANNEL_HEAD(name) "slots = 8\nslot_size = 64\n" \
  "send = Users\nreceive = Users\n"

START_TEST(test_config_error_channels) {
  expect_error("[channel c]\nslots = 8\nslot_size = 64\nsend = a\n"
               "receive = b\n", 1, "[channel c] has no kind");
  expect_error("[channel c]\nkind = fanout\n", 2,
               "kind must be broadcast or queue, not 'fanout'");
  expect_error(CHANNEL_HEAD("c") "slots = 6\n", 3,
               "slots must be a power of two from 2 to 1048576, not '6'");
  expect_error(CHANNEL_HEAD("c") "slots = 1\n", 3, "not '1'");
  expect_error(CHANNEL_HEAD("c") "slots = 2097152\n", 3, "not '2097152'");
  expect_error(CHANNEL_HEAD("c") "slots = 8x\n", 3, "not '8x'");
  expect_error(CHANNEL_HEAD("c") "slot_size = 100\n", 3,
               "slot_size must be a size that is a multiple of 8");
  expect_error(CHANNEL_HEAD("c") "slot_size = 2GiB\n", 3, "not '2GiB'");
  expect_error(CHANNEL_HEAD("c") "send = a\nreceive = b\n", 1,
               "[channel c] needs slots and slot_size");
  expect_error(CHANNEL_HEAD("c") "slots = 8\nslot_size = 64\nsend = a\n",
               1, "needs send and receive (or an sddl)");
  expect_error(CHANNEL_HEAD("c") "slots = 8\nslot_size = 64\n"
               "sddl = D:P(A;;GA;;;SY)\nreceive = b\n", 6,
               "has both sddl (line 5) and send/receive");
  expect_error(CHANNEL_HEAD("c") "size = 4KiB\n", 3,
               "[channel c] takes no 'size'");
  expect_error(CHANNEL_HEAD("c") "read = Users\n", 3, "takes no 'read'");
  expect_error(CHANNEL_HEAD("c") "notify = no\n", 3, "takes no 'notify'");
  expect_error(CHANNEL_HEAD("c") "backing = pagefile\n", 3,
               "takes no 'backing'");
  expect_error(CHANNEL_HEAD("c") "colour = red\n", 3,
               "unknown key 'colour' in [channel c]");
  expect_error(CHANNEL_HEAD("c") "send = a,,b\n", 3,
               "send must be a comma-separated list");
  expect_error(CHANNEL("c") "send = a\n", 7, "key 'send' given twice");
  /* Send and receive are a channel's: a section says read and write. */
  expect_error(SECTION("s") "send = a\n", 4,
               "unknown key 'send' in [section s]");
  /* One name space for both. */
  expect_error(SECTION("x") CHANNEL("X"), 4,
               "[channel X]: the name is taken by the section on line 1");
  expect_error(CHANNEL("x") SECTION("y") CHANNEL("x"), 10,
               "[channel x] given twice (first on line 1");
  expect_error("[channel bad name]\n", 1, "invalid channel name 'bad name'");
  /* 2^20 slots of 1 GiB would be a petabyte. */
  expect_error(CHANNEL_HEAD("c") "slots = 1048576\nslot_size = 1GiB\n"
               "send = a\nreceive = b\n", 1, "need more than the 1 TiB");
  expect_error("[service]\ndelivery = pipe\n", 2,
               "delivery must be name or handle, not 'pipe'");
  expect_error(SECTION("s") "delivery = Handle\n", 4,
               "delivery must be name or handle");
  expect_error(SECTION("s") "integrity = medium\n", 4,
               "integrity must be low or default, not 'medium'");
  expect_error("[service]\nallow_sandboxed = 1\n", 2,
               "allow_sandboxed must be yes or no, not '1'");
}
END_TEST

Suite *config_suite(void) {
  Suite *s = suite_create("config");
  TCase *ok = tcase_create("accepted");
  TCase *bad = tcase_create("refused");
  TCase *val = tcase_create("values");

  tcase_add_test(ok, test_config_example_parses);
  tcase_add_test(ok, test_config_defaults);
  tcase_add_test(ok, test_config_all_service_keys);
  tcase_add_test(ok, test_config_crlf_line_endings);
  tcase_add_test(ok, test_config_utf8_bom);
  tcase_add_test(ok, test_config_inline_comments);
  tcase_add_test(ok, test_config_whitespace_and_missing_final_newline);
  tcase_add_test(ok, test_config_sections_in_order_and_find);
  tcase_add_test(ok, test_config_read_write_lists);
  tcase_add_test(ok, test_config_backing);
  tcase_add_test(ok, test_config_on_revoke);
  tcase_add_test(ok, test_config_notify);
  tcase_add_test(ok, test_config_log_file_and_admins);
  tcase_add_test(ok, test_config_channels);
  suite_add_tcase(s, ok);

  tcase_add_test(bad, test_config_error_unknown_key);
  tcase_add_test(bad, test_config_error_unknown_header);
  tcase_add_test(bad, test_config_error_key_outside_header);
  tcase_add_test(bad, test_config_error_duplicate_key);
  tcase_add_test(bad, test_config_error_duplicate_service_header);
  tcase_add_test(bad, test_config_error_duplicate_section);
  tcase_add_test(bad, test_config_error_missing_size);
  tcase_add_test(bad, test_config_error_missing_sddl);
  tcase_add_test(bad, test_config_error_bad_size);
  tcase_add_test(bad, test_config_error_bad_namespace);
  tcase_add_test(bad, test_config_error_bad_log_level);
  tcase_add_test(bad, test_config_error_bad_pipe_name);
  tcase_add_test(bad, test_config_error_bad_max_clients_and_timeout);
  tcase_add_test(bad, test_config_error_nul_byte);
  tcase_add_test(bad, test_config_error_control_char);
  tcase_add_test(bad, test_config_error_missing_equals);
  tcase_add_test(bad, test_config_error_empty_value);
  tcase_add_test(bad, test_config_error_missing_key);
  tcase_add_test(bad, test_config_error_header_without_bracket);
  tcase_add_test(bad, test_config_error_bad_section_name);
  tcase_add_test(bad, test_config_error_file_too_large);
  tcase_add_test(bad, test_config_error_message_buffers);
  tcase_add_test(bad, test_config_error_sddl_and_lists);
  tcase_add_test(bad, test_config_error_no_grants);
  tcase_add_test(bad, test_config_error_flush_without_file);
  tcase_add_test(bad, test_config_error_bad_flush_interval);
  tcase_add_test(bad, test_config_error_bad_backing);
  tcase_add_test(bad, test_config_error_bad_log_file);
  tcase_add_test(bad, test_config_error_empty_list_entry);
  tcase_add_test(bad, test_config_error_channels);
  suite_add_tcase(s, bad);

  tcase_add_test(val, test_config_parse_size);
  tcase_add_test(val, test_config_parse_duration);
  suite_add_tcase(s, val);
  return s;
}
