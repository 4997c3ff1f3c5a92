/*
 * Rate limiting by key: a fixed window per key, a fixed table of keys with
 * least-recently-seen eviction. Keys longer than the table's slot are cut:
 * SIDs fit (SECURITY_MAX_SID_SIZE as text is under 192 bytes).
 */
#include "ratelimit.h"

#include <stdio.h>
#include <string.h>

void shmb_ratelimit_init(shmb_ratelimit *rl, unsigned burst,
                         uint64_t window_ms) {
  memset(rl, 0, sizeof(*rl));
  rl->burst = burst;
  rl->window_ms = window_ms;
}

/* The entry for key, or the least recently seen one, reset for key. */
static shmb_ratelimit_entry *entry_for(shmb_ratelimit *rl, const char *key,
                                       uint64_t now_ms) {
  shmb_ratelimit_entry *oldest = &rl->entries[0];
  for (size_t i = 0; i < SHMB_RATELIMIT_KEYS; i++) {
    shmb_ratelimit_entry *e = &rl->entries[i];
    if (e->key[0] && strncmp(e->key, key, sizeof(e->key) - 1) == 0)
      return e;
    if (!e->key[0] || (oldest->key[0] && e->last_seen < oldest->last_seen))
      oldest = e;
  }
  memset(oldest, 0, sizeof(*oldest));
  snprintf(oldest->key, sizeof(oldest->key), "%s", key);
  oldest->window_start = now_ms;
  return oldest;
}

int shmb_ratelimit_allow(shmb_ratelimit *rl, const char *key, uint64_t now_ms,
                         uint64_t *suppressed) {
  shmb_ratelimit_entry *e = entry_for(rl, key[0] ? key : "?", now_ms);

  e->last_seen = now_ms;
  if (now_ms - e->window_start >= rl->window_ms) {
    e->window_start = now_ms;
    e->used = 0;
  }
  if (e->used >= rl->burst) {
    e->suppressed++;
    return 0;
  }
  e->used++;
  *suppressed = e->suppressed;
  e->suppressed = 0;
  return 1;
}
