/*
 * One rate limiter for the whole service (common/ratelimit.h), keyed by
 * the account's SID, on GetTickCount64's clock.
 */
#include "refusal.h"

#include <windows.h>

#include <stdarg.h>
#include <stdio.h>

#include "ratelimit.h"

static shmb_ratelimit limit;
static int limit_ready;

void svc_refusal(const char *sid, const char *fmt, ...) {
  char line[1024];
  uint64_t held = 0;
  va_list ap;

  if (!sid || !sid[0])
    sid = "(unknown SID)";
  if (!limit_ready) {
    shmb_ratelimit_init(&limit, SVC_REFUSAL_BURST, SVC_REFUSAL_WINDOW_MS);
    limit_ready = 1;
  }
  if (!shmb_ratelimit_allow(&limit, sid, GetTickCount64(), &held))
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (held)
    shmb_log_warn("%s [%llu more refusal line(s) for %s held back in the "
                  "last %u s]", line, (unsigned long long)held, sid,
                  SVC_REFUSAL_WINDOW_MS / 1000);
  else
    shmb_log_warn("%s", line);
}
