/*
 * libFuzzer target for the config parser (common/config.c). The input is
 * the file's text with its exact length and no NUL after it, as the service
 * reads it. A config that parses must hold every promise docs/config.md
 * makes (valid names, sizes in range, one way of saying who may access a
 * section, ...) and must read back the same from its canonical text; a
 * refusal must name the file and a line of the input. Everything is freed,
 * so a leak fails the run. The value parsers are fuzzed on the same bytes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "fuzz_check.h"
#include "log.h"


#define FILENAME "fuzz.conf"
#define MAX_DURATION_MS 86400000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- invariants of a parsed config --------------------------------------- */

static int ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
    char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
    if (x != y)
      return 0;
  }
  return *a == *b;
}

static int absolute_path(const char *v) {
  int drive = ((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')) &&
              v[1] == ':' && v[2] == '\\' && v[3] != '\0';
  return drive || (v[0] == '\\' && v[1] == '\\' && v[2] != '\0');
}

static void check_section(const shmb_config *cfg, size_t i) {
  const shmb_section_config *s = &cfg->sections[i];
  CHECK(shmb_name_valid(s->name, strlen(s->name)));
  CHECK(s->size >= 1 && s->size <= SHMB_MAX_SECTION_SIZE);
  CHECK((s->sddl != NULL) != (s->read != NULL || s->write != NULL));
  CHECK(s->sddl == NULL || s->sddl[0] != '\0');
  CHECK(s->read == NULL || s->read[0] != '\0');
  CHECK(s->write == NULL || s->write[0] != '\0');
  CHECK(s->flush_interval_ms == 0 || s->backing_file != NULL);
  CHECK(s->flush_interval_ms <= MAX_DURATION_MS);
  CHECK(s->backing_file == NULL || absolute_path(s->backing_file));
  CHECK(s->notify == 0 || s->notify == 1);
  CHECK(s->max_waiters == 0 ||
        (s->notify && s->max_waiters <= SHMB_MAX_WAITERS_LIMIT));
  CHECK(s->line >= 1);
  CHECK(shmb_config_find(cfg, s->name) == s);
  for (size_t j = 0; j < i; j++)
    CHECK(!ieq(cfg->sections[j].name, s->name));
}

static void check_config(const shmb_config *cfg) {
  static const char prefix[] = "\\\\.\\pipe\\";
  size_t plen = sizeof(prefix) - 1;
  CHECK(cfg->pipe != NULL);
  CHECK(strlen(cfg->pipe) > plen && strlen(cfg->pipe) <= SHMB_PIPE_NAME_MAX);
  CHECK(strncmp(cfg->pipe, prefix, plen) == 0);
  CHECK(strchr(cfg->pipe + plen, ' ') == NULL);
  /* NAME is one component of at most SHMB_PIPE_NAME_PART_MAX, never . or .. */
  CHECK(strlen(cfg->pipe + plen) <= SHMB_PIPE_NAME_PART_MAX);
  CHECK(strpbrk(cfg->pipe + plen, "\\/") == NULL);
  CHECK(strcmp(cfg->pipe + plen, ".") != 0 && strcmp(cfg->pipe + plen, "..") != 0);
  CHECK(cfg->ns == SHMB_NS_GLOBAL || cfg->ns == SHMB_NS_LOCAL);
  CHECK(cfg->log_level >= SHMB_LOG_ERROR && cfg->log_level <= SHMB_LOG_DEBUG);
  CHECK(cfg->max_clients >= 1 && cfg->max_clients <= 65536);
  CHECK(cfg->client_timeout_ms >= 1 &&
        cfg->client_timeout_ms <= MAX_DURATION_MS);
  CHECK(cfg->log_file == NULL || absolute_path(cfg->log_file));
  CHECK(cfg->admins == NULL || cfg->admins[0] != '\0');
  CHECK(cfg->nsections <= SHMB_CONFIG_MAX_SECTIONS);
  CHECK(cfg->nsections == 0 || cfg->sections != NULL);
  for (size_t i = 0; i < cfg->nsections; i++)
    check_section(cfg, i);
}

/* ---- canonical text ------------------------------------------------------ */

/* A growable string; out of memory aborts (it is a test). */
typedef struct text {
  char *p;
  size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) SHMB__PRINTF(2, 3);

static void put(text *t, const char *fmt, ...) {
  va_list ap;
  int n;
  for (;;) {
    va_start(ap, fmt);
    n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt,
                  ap);
    va_end(ap);
    CHECK(n >= 0);
    if (t->p && (size_t)n < t->cap - t->len)
      break;
    t->cap = (t->cap + (size_t)n + 1) * 2;
    t->p = realloc(t->p, t->cap);
    CHECK(t->p != NULL);
  }
  t->len += (size_t)n;
}

/* "key=value" with no space before the value: a value may begin with ';'
 * or '#', which only a white space in front would turn into a comment. */
static void put_opt(text *t, const char *key, const char *value) {
  if (value)
    put(t, "%s=%s\n", key, value);
}

static char *canonical(const shmb_config *cfg, size_t *len) {
  text t = {0};
  put(&t, "[service]\npipe=%s\nnamespace=%s\nlog_level=%s\n", cfg->pipe,
      cfg->ns == SHMB_NS_LOCAL ? "Local" : "Global",
      shmb_log_level_name(cfg->log_level));
  put(&t, "max_clients=%u\nclient_timeout=%ums\n", cfg->max_clients,
      cfg->client_timeout_ms);
  put_opt(&t, "log_file", cfg->log_file);
  put_opt(&t, "admins", cfg->admins);
  for (size_t i = 0; i < cfg->nsections; i++) {
    const shmb_section_config *s = &cfg->sections[i];
    put(&t, "[section %s]\nsize=%llu\n", s->name, (unsigned long long)s->size);
    put_opt(&t, "sddl", s->sddl);
    put_opt(&t, "read", s->read);
    put_opt(&t, "write", s->write);
    if (s->backing_file)
      put(&t, "backing=file:%s\n", s->backing_file);
    if (s->flush_interval_ms)
      put(&t, "flush_interval=%ums\n", s->flush_interval_ms);
    if (s->notify)
      put(&t, "notify=yes\n");
    if (s->max_waiters)
      put(&t, "max_waiters=%u\n", s->max_waiters);
    put_opt(&t, "description", s->description);
  }
  *len = t.len;
  return t.p;
}

static int same_str(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const shmb_config *a, const shmb_config *b) {
  CHECK(same_str(a->pipe, b->pipe) && a->ns == b->ns);
  CHECK(a->log_level == b->log_level && a->max_clients == b->max_clients);
  CHECK(a->client_timeout_ms == b->client_timeout_ms);
  CHECK(same_str(a->log_file, b->log_file) && same_str(a->admins, b->admins));
  CHECK(a->nsections == b->nsections);
  for (size_t i = 0; i < a->nsections; i++) {
    const shmb_section_config *x = &a->sections[i], *y = &b->sections[i];
    CHECK(strcmp(x->name, y->name) == 0 && x->size == y->size);
    CHECK(same_str(x->sddl, y->sddl) && same_str(x->read, y->read) &&
          same_str(x->write, y->write));
    CHECK(same_str(x->backing_file, y->backing_file) &&
          x->flush_interval_ms == y->flush_interval_ms);
    CHECK(same_str(x->description, y->description));
    CHECK(x->notify == y->notify && x->max_waiters == y->max_waiters);
  }
}

/* The canonical text of a config parses to the same config. */
static void check_round_trip(const shmb_config *cfg) {
  char err[SHMB_CONFIG_ERR_MAX];
  shmb_config *again;
  size_t len;
  char *t = canonical(cfg, &len);
  int rc = shmb_config_parse(t, len, FILENAME, &again, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "canonical text refused: %s\n---\n%s---\n", err, t);
    abort();
  }
  check_same(cfg, again);
  shmb_config_free(again);
  free(t);
}

/* ---- refusals ------------------------------------------------------------ */

/* "fuzz.conf:LINE: what", LINE a line of the input. */
static void check_error(const char *err, const uint8_t *data, size_t size) {
  size_t flen = strlen(FILENAME), lines = 1;
  unsigned long line;
  char *end;
  for (size_t i = 0; i < size; i++)
    lines += data[i] == '\n';
  CHECK(strncmp(err, FILENAME ":", flen + 1) == 0);
  CHECK(err[flen + 1] >= '1' && err[flen + 1] <= '9');
  line = strtoul(err + flen + 1, &end, 10);
  CHECK(line >= 1 && line <= lines);
  CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
}

static void parse_config(const uint8_t *data, size_t size) {
  char err[SHMB_CONFIG_ERR_MAX], small[32];
  size_t smalllen = 1 + size % sizeof(small);
  shmb_config *cfg = (shmb_config *)1; /* must be set, even on failure */
  int rc = shmb_config_parse((const char *)data, size, FILENAME, &cfg, err,
                             sizeof(err));
  CHECK(strlen(err) < sizeof(err));
  if (rc == 0) {
    CHECK(cfg != NULL);
    check_config(cfg);
    check_round_trip(cfg);
    shmb_config_free(cfg);
    return;
  }
  CHECK(cfg == NULL);
  CHECK(rc == SHMB_ECONFIG || rc == SHMB_ENOMEM);
  if (rc == SHMB_ENOMEM)
    CHECK(strcmp(err, FILENAME ": out of memory") == 0);
  else
    check_error(err, data, size);

  /* A short buffer gets the same refusal, cut. */
  CHECK(shmb_config_parse((const char *)data, size, FILENAME, &cfg, small,
                          smalllen) == rc);
  CHECK(cfg == NULL && strlen(small) < smalllen);
  CHECK(strncmp(small, err, strlen(small)) == 0);
  CHECK(strlen(small) == strlen(err) || strlen(small) == smalllen - 1);
}

/* ---- value parsers ------------------------------------------------------- */

static void parse_values(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1), again[32];
  uint64_t bytes = 0, bytes2 = 0;
  unsigned ms = 0, ms2 = 0;
  int rc;
  CHECK(s != NULL);
  if (size)
    memcpy(s, data, size);
  s[size] = '\0';

  rc = shmb_parse_size(s, &bytes);
  CHECK(rc == 0 || rc == SHMB_EINVAL);
  if (rc == 0) {
    CHECK(bytes >= 1 && bytes <= SHMB_MAX_SECTION_SIZE);
    snprintf(again, sizeof(again), "%llu", (unsigned long long)bytes);
    CHECK(shmb_parse_size(again, &bytes2) == 0 && bytes2 == bytes);
  }
  rc = shmb_parse_duration_ms(s, &ms);
  CHECK(rc == 0 || rc == SHMB_EINVAL);
  if (rc == 0) {
    CHECK(ms >= 1 && ms <= MAX_DURATION_MS);
    snprintf(again, sizeof(again), "%ums", ms);
    CHECK(shmb_parse_duration_ms(again, &ms2) == 0 && ms2 == ms);
  }
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse_config(data, size);
  parse_values(data, size);
  return 0;
}
