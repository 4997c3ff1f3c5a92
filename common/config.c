/*
 * Strict INI parser for the administrator's config file. It grants access to
 * shared memory, so it refuses anything it does not understand instead of
 * guessing: unknown headers and keys, repeated keys or sections, missing
 * required keys, sizes with unknown units or out of range, bytes that are not
 * printable text. Each error names the file and line.
 *
 * Dialect: "[service]", "[section NAME]" and "[channel NAME]" headers;
 * "key = value" lines; whole-line comments start with ';' or '#'; an inline
 * comment starts at a ';' or '#' that follows white space (so SDDL's ';'
 * stays in the value).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "ring.h"

/* shmb_section_config.channel between [channel NAME] and its kind. */
#define SHMB__CHANNEL_PENDING 0xffffffffu

typedef struct parser {
  const char *file;
  unsigned line;
  char *err;
  size_t errlen;
  shmb_config *cfg;
  int in_service;            /* current header is [service] */
  shmb_section_config *sec;  /* current [section NAME], or NULL */
  unsigned service_seen;     /* bit per [service] key already set */
  unsigned section_seen;     /* bit per section key already set */
  int service_header_seen;
} parser;

static int fail(parser *p, const char *fmt, ...) SHMB__PRINTF(2, 3);

/* Every parse error, as "FILE:LINE: what is wrong", through shmb__fail. */
static int fail(parser *p, const char *fmt, ...) {
  char what[SHMB_CONFIG_ERR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  return shmb__fail(p->err, p->errlen, SHMB_ECONFIG, "%s:%u: %s", p->file,
                    p->line, what);
}

char *shmb__trim_blanks(char *s) {
  char *end;
  while (*s == ' ' || *s == '\t')
    s++;
  end = s + strlen(s);
  while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
    *--end = '\0';
  return s;
}

/* Cuts an inline comment: ';' or '#' preceded by white space. */
static void cut_comment(char *s) {
  if (*s == '\0')
    return; /* s + 1 would be past the end of the line, or of the text */
  for (char *q = s + 1; *q; q++)
    if ((*q == ';' || *q == '#') && (q[-1] == ' ' || q[-1] == '\t')) {
      *q = '\0';
      return;
    }
}

static int ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

int shmb_parse_size(const char *s, uint64_t *out) {
  static const struct {
    const char *unit;
    unsigned shift;
  } units[] = {{"", 0}, {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}};
  uint64_t v = 0;
  const char *p = s;

  if (!(*p >= '0' && *p <= '9'))
    return SHMB_EINVAL;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (UINT64_MAX - 9) / 10)
      return SHMB_EINVAL;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  while (*p == ' ')
    p++;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcmp(p, units[i].unit) != 0)
      continue;
    if (v == 0 || v > (SHMB_MAX_SECTION_SIZE >> units[i].shift))
      return SHMB_EINVAL;
    *out = v << units[i].shift;
    return 0;
  }
  return SHMB_EINVAL;
}

int shmb_parse_duration_ms(const char *s, unsigned *out) {
  static const struct {
    const char *unit;
    unsigned ms;
  } units[] = {{"ms", 1}, {"s", 1000}, {"min", 60000}};
  unsigned long long v = 0;
  const char *p = s;

  if (!(*p >= '0' && *p <= '9'))
    return SHMB_EINVAL;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (unsigned)(*p - '0');
    if (v > 86400000ull) /* a day, in any unit, is plenty */
      return SHMB_EINVAL;
  }
  while (*p == ' ')
    p++;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcmp(p, units[i].unit) != 0)
      continue;
    v *= units[i].ms;
    if (v == 0 || v > 86400000ull)
      return SHMB_EINVAL;
    *out = (unsigned)v;
    return 0;
  }
  return SHMB_EINVAL;
}

/* What is wrong with a [service] pipe name, or NULL. NAME after the prefix
 * is one component: a '\\' or '/' would make it a path, and "." or ".."
 * would be resolved by Windows before the pipe is created or opened
 * (\\.\pipe\..\x is \\.\x, another device). The SDK accepts any local pipe
 * name (client/trust.c); this is the stricter rule for the one we create. */
static const char *pipe_name_wrong(const char *v) {
  static const char prefix[] = "\\\\.\\pipe\\";
  size_t plen = sizeof(prefix) - 1, n;
  const char *name = v + plen;
  if (strncmp(v, prefix, plen) != 0)
    return "it does not start with \\\\.\\pipe\\";
  if ((n = strlen(name)) == 0)
    return "no NAME after the prefix";
  if (n > SHMB_PIPE_NAME_PART_MAX)
    return "NAME is too long";
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return "NAME is a '.' or '..' segment";
  for (const char *q = name; *q; q++) {
    if (*q == '\\' || *q == '/')
      return "NAME has a '\\' or '/'";
    if ((unsigned char)*q <= ' ' || (unsigned char)*q > 0x7e)
      return "NAME has a blank, a control or a non-ASCII byte";
  }
  return NULL;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* A key may appear once per header; seen is a bit set indexed by key. */
static int once(parser *p, unsigned *seen, unsigned bit, const char *key) {
  if (*seen & (1u << bit))
    return fail(p, "key '%s' given twice", key);
  *seen |= 1u << bit;
  return 0;
}

/* A string key: once per header, copied, its line remembered (line may be
 * NULL). */
static int set_str(parser *p, unsigned *seen, unsigned bit, const char *key,
                   const char *val, char **dst, unsigned *line) {
  int rc = once(p, seen, bit, key);
  if (rc != 0)
    return rc;
  if (!(*dst = dup_str(val)))
    return SHMB_ENOMEM;
  if (line)
    *line = p->line;
  return 0;
}

/* Windows absolute paths only: "C:\..." or "\\server\share\...". A
 * relative path would depend on the service's working directory. */
static int absolute_windows_path(const char *v) {
  if (((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')) &&
      v[1] == ':' && v[2] == '\\' && v[3] != '\0')
    return 1;
  return v[0] == '\\' && v[1] == '\\' && v[2] != '\0';
}

/* Comma-separated accounts: no empty entries ("a,,b", "a,"). */
static int valid_account_list(const char *v) {
  const char *q = v;
  for (;;) {
    const char *comma = strchr(q, ',');
    const char *end = comma ? comma : q + strlen(q);
    const char *a = q;
    while (a < end && (*a == ' ' || *a == '\t'))
      a++;
    if (a == end)
      return 0;
    if (!comma)
      return 1;
    q = comma + 1;
  }
}

/* [service] keys: one parser per key, found through the table below. Each
 * runs after its key was seen once (bit = the key's index in the table). */
static int svc_pipe(parser *p, const char *val) {
  const char *why = pipe_name_wrong(val);
  if (why)
    return fail(p, "pipe must look like \\\\.\\pipe\\NAME, NAME 1 to %d "
                   "printable ASCII characters without blanks, '\\' or '/', "
                   "and not '.' or '..'; not '%s' (%s)",
                SHMB_PIPE_NAME_PART_MAX, val, why);
  free(p->cfg->pipe);
  return (p->cfg->pipe = dup_str(val)) ? 0 : SHMB_ENOMEM;
}

static int svc_namespace(parser *p, const char *val) {
  if (strcmp(val, "Global") == 0)
    p->cfg->ns = SHMB_NS_GLOBAL;
  else if (strcmp(val, "Local") == 0)
    p->cfg->ns = SHMB_NS_LOCAL;
  else
    return fail(p, "namespace must be Global or Local, not '%s'", val);
  return 0;
}

static int svc_log_level(parser *p, const char *val) {
  int level = shmb_log_level_parse(val);
  if (level < 0)
    return fail(p, "log_level must be error, warn, info or debug, not '%s'",
                val);
  p->cfg->log_level = level;
  return 0;
}

/* A client count from 1 to 65536 (decimal digits only). */
static int client_count(parser *p, const char *key, const char *val,
                        unsigned *out) {
  char *end;
  unsigned long n;
  errno = 0;
  n = strtoul(val, &end, 10);
  if (!(*val >= '0' && *val <= '9') || *end || errno || n < 1 || n > 65536)
    return fail(p, "%s must be a number from 1 to 65536, not '%s'", key, val);
  *out = (unsigned)n;
  return 0;
}

static int svc_max_clients(parser *p, const char *val) {
  return client_count(p, "max_clients", val, &p->cfg->max_clients);
}

static int svc_max_clients_per_account(parser *p, const char *val) {
  return client_count(p, "max_clients_per_account", val,
                      &p->cfg->max_clients_per_account);
}

static int svc_client_timeout(parser *p, const char *val) {
  if (shmb_parse_duration_ms(val, &p->cfg->client_timeout_ms) != 0)
    return fail(p, "client_timeout must be a duration such as 500ms, 30s "
                   "or 2min (at most a day), not '%s'", val);
  return 0;
}

static int svc_log_file(parser *p, const char *val) {
  if (!absolute_windows_path(val))
    return fail(p, "log_file must be an absolute path such as "
                   "C:\\ProgramData\\shmbroker\\shmbroker.log, not '%s'",
                val);
  return (p->cfg->log_file = dup_str(val)) ? 0 : SHMB_ENOMEM;
}

static int svc_admins(parser *p, const char *val) {
  if (!valid_account_list(val))
    return fail(p, "admins must be a comma-separated list of accounts "
                   "with no empty entry, not '%s'", val);
  p->cfg->admins_line = p->line;
  return (p->cfg->admins = dup_str(val)) ? 0 : SHMB_ENOMEM;
}

/* yes or no, as 1 or 0; -1 for anything else. */
static int yes_no(const char *val) {
  return strcmp(val, "yes") == 0 ? 1 : strcmp(val, "no") == 0 ? 0 : -1;
}

static int parse_delivery(parser *p, const char *val, int *out) {
  if (strcmp(val, "name") == 0)
    *out = SHMB_DELIVERY_NAME;
  else if (strcmp(val, "handle") == 0)
    *out = SHMB_DELIVERY_HANDLE;
  else
    return fail(p, "delivery must be name or handle, not '%s'", val);
  return 0;
}

static int svc_delivery(parser *p, const char *val) {
  return parse_delivery(p, val, &p->cfg->delivery);
}

static int svc_allow_sandboxed(parser *p, const char *val) {
  if ((p->cfg->allow_sandboxed = yes_no(val)) < 0)
    return fail(p, "allow_sandboxed must be yes or no, not '%s'", val);
  return 0;
}

static const struct {
  const char *key;
  int (*parse)(parser *p, const char *val);
} service_keys[] = {
    {"pipe", svc_pipe},
    {"namespace", svc_namespace},
    {"log_level", svc_log_level},
    {"max_clients", svc_max_clients},
    {"max_clients_per_account", svc_max_clients_per_account},
    {"client_timeout", svc_client_timeout},
    {"log_file", svc_log_file},
    {"admins", svc_admins},
    {"delivery", svc_delivery},
    {"allow_sandboxed", svc_allow_sandboxed},
};
_Static_assert(sizeof(service_keys) / sizeof(service_keys[0]) <= 32,
               "service_seen has a bit per key");

static int service_key(parser *p, const char *key, const char *val) {
  for (unsigned i = 0; i < sizeof(service_keys) / sizeof(service_keys[0]);
       i++) {
    int rc;
    if (strcmp(key, service_keys[i].key) != 0)
      continue;
    if ((rc = once(p, &p->service_seen, i, key)) != 0)
      return rc;
    return service_keys[i].parse(p, val);
  }
  return fail(p, "unknown key '%s' in [service]", key);
}

/* A [channel]'s own keys; 1 when key is none of them. */
static int channel_key(parser *p, const char *key, const char *val) {
  shmb_section_config *sec = p->sec;
  unsigned *seen = &p->section_seen;
  uint64_t n;
  char *end;
  int rc;

  if (strcmp(key, "kind") == 0) {
    if ((rc = once(p, seen, 13, key)) != 0)
      return rc;
    if (strcmp(val, "broadcast") == 0)
      sec->channel = SHMB_RING_BROADCAST;
    else if (strcmp(val, "queue") == 0)
      sec->channel = SHMB_RING_QUEUE;
    else
      return fail(p, "kind must be broadcast or queue, not '%s'", val);
  } else if (strcmp(key, "slots") == 0) {
    if ((rc = once(p, seen, 14, key)) != 0)
      return rc;
    errno = 0;
    n = strtoull(val, &end, 10);
    if (!isdigit((unsigned char)val[0]) || *end || errno ||
        n < SHMB_RING_MIN_SLOTS || n > SHMB_RING_MAX_SLOTS || (n & (n - 1)))
      return fail(p, "slots must be a power of two from %u to %u, not '%s'",
                  SHMB_RING_MIN_SLOTS, SHMB_RING_MAX_SLOTS, val);
    sec->slots = (uint32_t)n;
  } else if (strcmp(key, "slot_size") == 0) {
    if ((rc = once(p, seen, 15, key)) != 0)
      return rc;
    if (shmb_parse_size(val, &n) != 0 || n % 8 ||
        n > SHMB_RING_MAX_SLOT_SIZE)
      return fail(p, "slot_size must be a size that is a multiple of 8 "
                     "bytes, from 8 bytes to 1 GiB (such as 256, 4KiB or "
                     "256KiB), not '%s'", val);
    sec->slot_size = (uint32_t)n;
  } else if (strcmp(key, "send") == 0 || strcmp(key, "receive") == 0) {
    int s = key[0] == 's';
    if (!valid_account_list(val))
      return fail(p, "%s must be a comma-separated list of accounts with no "
                     "empty entry, not '%s'", key, val);
    return set_str(p, seen, s ? 4 : 16, key, val,
                   s ? &sec->write : &sec->receive,
                   s ? &sec->write_line : &sec->receive_line);
  } else if (strcmp(key, "size") == 0 || strcmp(key, "read") == 0 ||
             strcmp(key, "write") == 0 || strcmp(key, "backing") == 0 ||
             strcmp(key, "flush_interval") == 0 ||
             strcmp(key, "notify") == 0) {
    return fail(p, "[channel %s] takes no '%s': a channel's size comes from "
                   "slots and slot_size, its grants from send and receive, "
                   "and it always lives in the paging file with a doorbell",
                sec->name, key);
  } else {
    return 1;
  }
  return 0;
}

static int section_key(parser *p, const char *key, const char *val) {
  shmb_section_config *sec = p->sec;
  unsigned *seen = &p->section_seen;
  int rc;

  if (sec->channel && (rc = channel_key(p, key, val)) <= 0)
    return rc;
  if (strcmp(key, "delivery") == 0) {
    if ((rc = once(p, seen, 11, key)) != 0)
      return rc;
    return parse_delivery(p, val, &sec->delivery);
  } else if (strcmp(key, "integrity") == 0) {
    if ((rc = once(p, seen, 12, key)) != 0)
      return rc;
    if (strcmp(val, "low") != 0 && strcmp(val, "default") != 0)
      return fail(p, "integrity must be low or default, not '%s'", val);
    sec->integrity_low = val[0] == 'l';
  } else if (strcmp(key, "size") == 0) {
    if ((rc = once(p, seen, 0, key)) != 0)
      return rc;
    if (shmb_parse_size(val, &sec->size) != 0)
      return fail(p, "size must be a number with an optional unit B, KiB, "
                     "MiB or GiB, from 1 byte to 1 TiB, not '%s'", val);
  } else if (strcmp(key, "sddl") == 0) {
    return set_str(p, seen, 1, key, val, &sec->sddl, &sec->sddl_line);
  } else if (strcmp(key, "description") == 0) {
    return set_str(p, seen, 2, key, val, &sec->description, NULL);
  } else if (strcmp(key, "read") == 0 || strcmp(key, "write") == 0) {
    int w = key[0] == 'w';
    if (!valid_account_list(val))
      return fail(p, "%s must be a comma-separated list of accounts with no "
                     "empty entry, not '%s'", key, val);
    return set_str(p, seen, w ? 4 : 3, key, val, w ? &sec->write : &sec->read,
                   w ? &sec->write_line : &sec->read_line);
  } else if (strcmp(key, "backing") == 0) {
    if ((rc = once(p, seen, 5, key)) != 0)
      return rc;
    if (strcmp(val, "pagefile") == 0)
      return 0;
    if (strncmp(val, "file:", 5) != 0 || !absolute_windows_path(val + 5))
      return fail(p, "backing must be pagefile or file:PATH with an "
                     "absolute PATH such as file:D:\\data\\%s.bin, not "
                     "'%s'", sec->name, val);
    return set_str(p, seen, 6, key, val + 5, &sec->backing_file, NULL);
  } else if (strcmp(key, "flush_interval") == 0) {
    if ((rc = once(p, seen, 7, key)) != 0)
      return rc;
    if (shmb_parse_duration_ms(val, &sec->flush_interval_ms) != 0)
      return fail(p, "flush_interval must be a duration such as 500ms, 5s "
                     "or 1min (at most a day), not '%s'", val);
    sec->flush_line = p->line;
  } else if (strcmp(key, "on_revoke") == 0) {
    if ((rc = once(p, seen, 8, key)) != 0)
      return rc;
    if (strcmp(val, "keep") != 0 && strcmp(val, "rotate") != 0)
      return fail(p, "on_revoke must be keep or rotate, not '%s'", val);
    sec->on_revoke_rotate = val[0] == 'r';
    sec->revoke_line = p->line;
  } else if (strcmp(key, "notify") == 0) {
    if ((rc = once(p, seen, 9, key)) != 0)
      return rc;
    if ((sec->notify = yes_no(val)) < 0)
      return fail(p, "notify must be yes or no, not '%s'", val);
  } else if (strcmp(key, "max_waiters") == 0) {
    unsigned long n;
    char *end;
    if ((rc = once(p, seen, 10, key)) != 0)
      return rc;
    n = strtoul(val, &end, 10);
    if (!isdigit((unsigned char)val[0]) || *end || n < 1 ||
        n > SHMB_MAX_WAITERS_LIMIT)
      return fail(p, "max_waiters must be a number from 1 to %u (each "
                     "ring scans them all), not '%s'", SHMB_MAX_WAITERS_LIMIT,
                  val);
    sec->max_waiters = (unsigned)n;
  } else {
    return fail(p, "unknown key '%s' in [%s %s]", key,
                sec->channel ? "channel" : "section", sec->name);
  }
  return 0;
}

/* A channel's checks once its block ends; its size comes from the ring. */
static int channel_done(parser *p, shmb_section_config *sec) {
  size_t size;
  if (sec->channel == SHMB__CHANNEL_PENDING)
    return fail(p, "[channel %s] has no kind: broadcast or queue", sec->name);
  if (!sec->slots || !sec->slot_size)
    return fail(p, "[channel %s] needs slots and slot_size", sec->name);
  if (!sec->sddl && (!sec->write || !sec->receive))
    return fail(p, "[channel %s] needs send and receive (or an sddl): who "
                   "may send, who may receive?", sec->name);
  if (sec->sddl && (sec->write || sec->receive)) {
    p->line = sec->write ? sec->write_line : sec->receive_line;
    return fail(p, "[channel %s] has both sddl (line %u) and send/receive; "
                   "use one or the other", sec->name, sec->sddl_line);
  }
  if (shmb_ring_size(sec->slots, sec->slot_size, &size) != 0 ||
      (uint64_t)size > SHMB_MAX_SECTION_SIZE)
    return fail(p, "[channel %s]: %u slots of %u bytes need more than the "
                   "1 TiB a section may have", sec->name, sec->slots,
                sec->slot_size);
  sec->size = size;
  sec->notify = 1;
  return 0;
}

/* Called when a section ends (next header or end of file). */
static int section_done(parser *p) {
  shmb_section_config *sec = p->sec;
  unsigned line = p->line;
  int rc = 0;
  if (!sec)
    return 0;
  p->line = sec->line;
  if (sec->channel) {
    rc = channel_done(p, sec);
  } else if (sec->size == 0) {
    rc = fail(p, "[section %s] has no size", sec->name);
  } else if (!sec->sddl && !sec->read && !sec->write) {
    rc = fail(p, "[section %s] says neither sddl nor read/write: who may "
                 "read or write it?", sec->name);
  } else if (sec->sddl && (sec->read || sec->write)) {
    p->line = sec->read ? sec->read_line : sec->write_line;
    rc = fail(p, "[section %s] has both sddl (line %u) and read/write; use "
                 "one or the other", sec->name, sec->sddl_line);
  } else if (sec->max_waiters && !sec->notify) {
    rc = fail(p, "[section %s]: max_waiters needs notify = yes", sec->name);
  } else if (sec->flush_interval_ms && !sec->backing_file) {
    p->line = sec->flush_line;
    rc = fail(p, "[section %s]: flush_interval needs backing = file:PATH",
              sec->name);
  } else if (sec->on_revoke_rotate && sec->backing_file) {
    /* The file is the data: a fresh object over the same file would share
     * every byte with the old views, so rotating would revoke nothing. */
    p->line = sec->revoke_line;
    rc = fail(p, "[section %s]: on_revoke = rotate needs a pagefile section "
                 "(holders of a file-backed section's old views would still "
                 "write the file); remove the section and add it under a "
                 "new file instead", sec->name);
  }
  p->line = line;
  p->sec = NULL;
  return rc;
}

static int header(parser *p, char *h) {
  size_t len = strlen(h);
  char *name;
  const char *kind;
  shmb_config *cfg = p->cfg;
  shmb_section_config *grown;
  int rc;

  if ((rc = section_done(p)) != 0)
    return rc;
  p->in_service = 0;
  if (len < 2 || h[len - 1] != ']')
    return fail(p, "header must end with ']'");
  h[len - 1] = '\0';
  h = shmb__trim_blanks(h + 1);
  if (strcmp(h, "service") == 0) {
    if (p->service_header_seen)
      return fail(p, "[service] given twice");
    p->service_header_seen = 1;
    p->in_service = 1;
    return 0;
  }
  if (strncmp(h, "section", 7) == 0 && (h[7] == ' ' || h[7] == '\t'))
    kind = "section";
  else if (strncmp(h, "channel", 7) == 0 && (h[7] == ' ' || h[7] == '\t'))
    kind = "channel";
  else
    return fail(p, "unknown header [%s]: expected [service], [section NAME] "
                   "or [channel NAME]", h);
  name = shmb__trim_blanks(h + 7);
  if (!shmb_name_valid(name, strlen(name)))
    return fail(p, "invalid %s name '%s': use 1 to %d of A-Z a-z 0-9 . "
                   "_ -", kind, name, SHMB_NAME_MAX);
  /* Sections and channels share one name space: clients open both by
   * name. */
  for (size_t i = 0; i < cfg->nsections; i++) {
    const char *was = cfg->sections[i].channel ? "channel" : "section";
    if (!ieq(cfg->sections[i].name, name))
      continue;
    if (strcmp(was, kind) == 0)
      return fail(p, "[%s %s] given twice (first on line %u; names differ "
                     "by more than case)", kind, name, cfg->sections[i].line);
    return fail(p, "[%s %s]: the name is taken by the %s on line %u "
                   "(sections and channels share names; they differ by "
                   "more than case)", kind, name, was, cfg->sections[i].line);
  }
  if (cfg->nsections == SHMB_CONFIG_MAX_SECTIONS)
    return fail(p, "more than %d sections", SHMB_CONFIG_MAX_SECTIONS);
  grown = realloc(cfg->sections, (cfg->nsections + 1) * sizeof(*grown));
  if (!grown)
    return SHMB_ENOMEM;
  cfg->sections = grown;
  p->sec = &cfg->sections[cfg->nsections++];
  memset(p->sec, 0, sizeof(*p->sec));
  strcpy(p->sec->name, name);
  p->sec->line = p->line;
  if (kind[0] == 'c')
    p->sec->channel = SHMB__CHANNEL_PENDING; /* until kind = says which */
  p->section_seen = 0;
  return 0;
}

static int line_(parser *p, char *s) {
  char *eq, *key, *val;

  s = shmb__trim_blanks(s);
  if (*s == '\0' || *s == ';' || *s == '#')
    return 0;
  if (*s == '[') {
    cut_comment(s);
    return header(p, shmb__trim_blanks(s));
  }
  eq = strchr(s, '=');
  if (!eq)
    return fail(p, "expected 'key = value', a [header] or a comment");
  *eq = '\0';
  key = shmb__trim_blanks(s);
  val = eq + 1;
  cut_comment(val);
  val = shmb__trim_blanks(val);
  if (*key == '\0')
    return fail(p, "missing key before '='");
  if (*val == '\0')
    return fail(p, "key '%s' has no value", key);
  if (p->in_service)
    return service_key(p, key, val);
  if (p->sec)
    return section_key(p, key, val);
  return fail(p, "key '%s' outside any [service] or [section NAME]", key);
}

/* Text only: a NUL or a control character (other than tab, and CR before
 * LF) is refused with its line, before any line is interpreted. */
static int check_bytes(parser *p, const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)buf[i];
    if (ch == '\n') {
      p->line++;
      continue;
    }
    if (ch == '\r' && i + 1 < len && buf[i + 1] == '\n')
      continue;
    if (ch == 0 || (ch < 0x20 && ch != '\t') || ch == 0x7f) {
      fail(p, "control character 0x%02x (a text file was expected)", ch);
      p->line = 1;
      return SHMB_ECONFIG;
    }
  }
  p->line = 1;
  return 0;
}

static void config_defaults(shmb_config *cfg) {
  cfg->ns = SHMB_NS_GLOBAL;
  cfg->log_level = SHMB_LOG_INFO;
  cfg->max_clients = SHMB_DEFAULT_MAX_CLIENTS;
  cfg->max_clients_per_account = SHMB_DEFAULT_MAX_CLIENTS_PER_ACCOUNT;
  cfg->client_timeout_ms = SHMB_DEFAULT_CLIENT_TIMEOUT_MS;
  cfg->delivery = SHMB_DELIVERY_NAME;
}

/* Interprets the text (a NUL-terminated copy) line by line, then closes
 * the last section. */
static int parse_lines(parser *p, char *buf, size_t len) {
  char *line = buf, *next;
  int rc;

  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
    line += 3; /* a UTF-8 byte order mark, as Notepad writes */
  rc = check_bytes(p, buf, len);
  for (; rc == 0 && line < buf + len; line = next, p->line++) {
    char *nl = memchr(line, '\n', (size_t)(buf + len - line));
    next = nl ? nl + 1 : buf + len;
    if (nl) {
      *nl = '\0';
      if (nl > line && nl[-1] == '\r')
        nl[-1] = '\0';
    }
    rc = line_(p, line);
  }
  if (rc == 0) {
    p->line = p->line > 1 ? p->line - 1 : 1;
    rc = section_done(p);
  }
  return rc;
}

int shmb_config_parse(const char *text, size_t len, const char *filename,
                      shmb_config **out, char *err, size_t errlen) {
  parser p = {0};
  char *buf;
  int rc;

  *out = NULL;
  if (errlen)
    err[0] = '\0';
  p.file = filename ? filename : "<config>";
  p.err = err;
  p.errlen = errlen;
  p.line = 1;
  if (len > SHMB_CONFIG_MAX_BYTES)
    return fail(&p, "file is larger than %u bytes", SHMB_CONFIG_MAX_BYTES);
  if (!(p.cfg = calloc(1, sizeof(*p.cfg))))
    return shmb__fail(err, errlen, SHMB_ENOMEM, "%s: out of memory", p.file);
  config_defaults(p.cfg);
  if (!(buf = malloc(len + 1))) {
    rc = SHMB_ENOMEM;
    goto out_free_config;
  }
  memcpy(buf, text, len);
  buf[len] = '\0';
  rc = parse_lines(&p, buf, len);
  free(buf);
  if (rc == 0 && !p.cfg->pipe && !(p.cfg->pipe = dup_str(SHMB_DEFAULT_PIPE)))
    rc = SHMB_ENOMEM;
  if (rc != 0)
    goto out_free_config;
  *out = p.cfg;
  return 0;

out_free_config:
  if (rc == SHMB_ENOMEM)
    shmb__fail(err, errlen, rc, "%s: out of memory", p.file);
  shmb_config_free(p.cfg);
  return rc;
}

void shmb_config_free(shmb_config *cfg) {
  if (!cfg)
    return;
  for (size_t i = 0; i < cfg->nsections; i++) {
    free(cfg->sections[i].sddl);
    free(cfg->sections[i].description);
    free(cfg->sections[i].read);
    free(cfg->sections[i].write);
    free(cfg->sections[i].backing_file);
    free(cfg->sections[i].receive);
  }
  free(cfg->sections);
  free(cfg->pipe);
  free(cfg->log_file);
  free(cfg->admins);
  free(cfg);
}

int shmb_config_delivery(const shmb_config *cfg,
                         const shmb_section_config *sc) {
  return sc->delivery ? sc->delivery : cfg->delivery;
}

const shmb_section_config *shmb_config_find(const shmb_config *cfg,
                                            const char *name) {
  for (size_t i = 0; i < cfg->nsections; i++)
    if (strcmp(cfg->sections[i].name, name) == 0)
      return &cfg->sections[i];
  return NULL;
}
