/*
 * The administrator's config file: a strict INI dialect (docs/config.md).
 *
 * Parsing is pure: text in, a shmb_config or one error out. The error names
 * the file, the line and what is wrong ("shmbroker.conf:7: unknown key
 * 'szie' in [section telemetry]"). Descriptors are only carried as strings
 * here; the service validates them with the Windows API.
 */
#ifndef SHMB_COMMON_CONFIG_H
#define SHMB_COMMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "bell_layout.h"
#include "protocol.h"

#define SHMB_DEFAULT_MAX_CLIENTS 256u
/* One account may hold a quarter of the default slots: enough for a busy
 * program, not enough to lock everyone else out with idle connections. */
#define SHMB_DEFAULT_MAX_CLIENTS_PER_ACCOUNT 64u
#define SHMB_DEFAULT_CLIENT_TIMEOUT_MS 30000u
#define SHMB_MAX_SECTION_SIZE (1ull << 40) /* 1 TiB */
#define SHMB_PIPE_NAME_MAX 256
/* NAME in a configured \\.\pipe\NAME: one component, and the whole name
 * stays within SHMB_PIPE_NAME_MAX. */
#define SHMB_PIPE_NAME_PART_MAX 200
#define SHMB_CONFIG_MAX_SECTIONS 2048 /* a LIST reply of them fits a frame */
#define SHMB_CONFIG_MAX_BYTES (4u * 1024u * 1024u)
#define SHMB_CONFIG_ERR_MAX 512
/* Waiters on one section's doorbell: every ring scans them all. */
#define SHMB_DEFAULT_MAX_WAITERS 32u
#define SHMB_MAX_WAITERS_LIMIT SHMB_BELL_MAX_WAITERS

enum shmb_namespace { SHMB_NS_GLOBAL, SHMB_NS_LOCAL };

/* How a granted OPEN hands a section over: its object name (the default),
 * or a handle the service duplicates into the caller (no name exists). */
enum shmb_delivery { SHMB_DELIVERY_NAME = 1, SHMB_DELIVERY_HANDLE = 2 };

/* Who may use a section is said either with sddl or with read/write lists
 * of accounts (comma-separated, as written; the service resolves them). */
typedef struct shmb_section_config {
  char name[SHMB_NAME_MAX + 1];
  uint64_t size;
  char *sddl;         /* as written by the administrator, or NULL */
  char *read, *write; /* account lists, or NULL */
  char *backing_file; /* file:PATH's PATH; NULL for the paging file */
  unsigned flush_interval_ms; /* 0: flush only at stop and reload */
  char *description;  /* NULL when absent */
  int on_revoke_rotate; /* reload rotates the object when grants change */
  int notify;           /* a doorbell: notify = yes (service/doorbell.c) */
  unsigned max_waiters; /* 0: SHMB_DEFAULT_MAX_WAITERS */
  /* A [channel NAME] block: a section that holds a ring (common/ring.h),
   * formatted by the service, with a doorbell. send= is kept in write;
   * receive= in receive (the grants turn it into read for a broadcast
   * channel, read and write for a queue, whose receivers claim slots). */
  uint32_t channel;   /* 0: a plain section; else enum shmb_ring_kind */
  uint32_t slots, slot_size;
  char *receive;
  unsigned receive_line;
  int delivery;       /* SHMB_DELIVERY_*; 0: the [service] default */
  int integrity_low;  /* integrity = low: low-IL grantees may use it */
  unsigned line;      /* of the [section NAME] header, for later messages */
  unsigned sddl_line, read_line, write_line, flush_line, revoke_line;
} shmb_section_config;

typedef struct shmb_config {
  char *pipe;
  enum shmb_namespace ns;
  int log_level; /* SHMB_LOG_* from log.h */
  unsigned max_clients;
  unsigned max_clients_per_account; /* in force: at most max_clients */
  unsigned client_timeout_ms;
  char *log_file; /* service mode: also log here; NULL when absent */
  char *admins;   /* who may reload over the pipe; NULL: the default */
  unsigned admins_line;
  int delivery;        /* default for sections: SHMB_DELIVERY_* */
  int allow_sandboxed; /* the pipe admits AppContainer and low-IL callers */
  shmb_section_config *sections;
  size_t nsections;
} shmb_config;

/* Parses len bytes of text; filename is used in messages only. On success
 * returns 0 and *out (free with shmb_config_free). On failure returns
 * SHMB_ECONFIG (or SHMB_ENOMEM) and writes a message into err. */
int shmb_config_parse(const char *text, size_t len, const char *filename,
                      shmb_config **out, char *err, size_t errlen);
void shmb_config_free(shmb_config *cfg);

/* A section's delivery after the [service] default. */
int shmb_config_delivery(const shmb_config *cfg,
                         const shmb_section_config *sc);

/* Looks a section (or channel) up by its exact name; NULL when absent. */
const shmb_section_config *shmb_config_find(const shmb_config *cfg,
                                            const char *name);

/* Value parsers, exposed for tests and for the service's own options.
 * Each returns 0 or SHMB_EINVAL. */
int shmb_parse_size(const char *s, uint64_t *out);
int shmb_parse_duration_ms(const char *s, unsigned *out);

/* Strips leading and trailing spaces and tabs in place: cuts s's tail and
 * returns a pointer into s past its head. Internal (config and grants). */
char *shmb__trim_blanks(char *s);

#endif /* SHMB_COMMON_CONFIG_H */
