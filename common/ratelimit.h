/*
 * Per-key rate limiting of log lines, so that one account spamming refusals
 * cannot flood the Event Log and push out the lines an administrator needs
 * (design.md, security rule 7). Each key (an account's SID) may log `burst`
 * lines per `window_ms`; the rest are counted, and the next line that is
 * let through says how many were suppressed. Portable: the caller passes
 * the time, so tests need no clock.
 */
#ifndef SHMB_COMMON_RATELIMIT_H
#define SHMB_COMMON_RATELIMIT_H

#include <stdint.h>

#define SHMB_RATELIMIT_KEYS 64 /* accounts tracked at once */
#define SHMB_RATELIMIT_KEY_MAX 192

typedef struct shmb_ratelimit_entry {
  char key[SHMB_RATELIMIT_KEY_MAX];
  uint64_t window_start;
  unsigned used;       /* lines let through in this window */
  uint64_t suppressed; /* since the last line let through */
  uint64_t last_seen;
} shmb_ratelimit_entry;

typedef struct shmb_ratelimit {
  unsigned burst;
  uint64_t window_ms;
  shmb_ratelimit_entry entries[SHMB_RATELIMIT_KEYS];
} shmb_ratelimit;

void shmb_ratelimit_init(shmb_ratelimit *rl, unsigned burst,
                         uint64_t window_ms);

/* Whether a line for key may be logged at now_ms. When it may, *suppressed
 * is the number of lines for key held back since the last one logged (add
 * it to the line). When the table is full, the key seen least recently is
 * forgotten: a flood of distinct accounts costs each its own burst, never
 * another account's lines. */
int shmb_ratelimit_allow(shmb_ratelimit *rl, const char *key, uint64_t now_ms,
                         uint64_t *suppressed);

#endif /* SHMB_COMMON_RATELIMIT_H */
