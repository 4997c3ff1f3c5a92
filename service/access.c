/*
 * Client identity and access checks: ImpersonateNamedPipeClient,
 * OpenThreadToken, RevertToSelf, then AccessCheck against the section's own
 * descriptor, so the broker and the kernel judge with the same rules.
 */
#include "access.h"

#include <stdio.h>
#include <stdlib.h>

#include "descriptor.h"
#include "errors.h"
#include "log.h"
#include "protocol.h"
#include "sid.h"

/* Enough for a client that opens a few dozen sections; past that the
 * oldest entry is replaced (a LIST over thousands of sections stays
 * correct, it only stops hitting). */
#define CACHE_ENTRIES 32

/* Bumped by svc_access_forget_all: an entry from an older epoch is gone.
 * The service's loop thread is the only one that reads or bumps it. */
static unsigned long access_epoch;

typedef struct svc_access_cache {
  unsigned long epoch;
  unsigned used, next;
  struct {
    PSECURITY_DESCRIPTOR sd;
    uint32_t wire;
  } e[CACHE_ENTRIES];
} svc_access_cache;

int svc_caller_cache_init(svc_caller *caller) {
  caller->cache = calloc(1, sizeof(*caller->cache));
  if (caller->cache)
    caller->cache->epoch = access_epoch;
  return caller->cache ? 0 : SHMB_ENOMEM;
}

void svc_access_forget_all(void) { access_epoch++; }

static int cache_find(svc_access_cache *c, PSECURITY_DESCRIPTOR sd,
                      uint32_t *wire) {
  if (!c)
    return 0;
  if (c->epoch != access_epoch) {
    c->epoch = access_epoch;
    c->used = c->next = 0;
    return 0;
  }
  for (unsigned i = 0; i < c->used; i++)
    if (c->e[i].sd == sd) {
      *wire = c->e[i].wire;
      return 1;
    }
  return 0;
}

static void cache_put(svc_access_cache *c, PSECURITY_DESCRIPTOR sd,
                      uint32_t wire) {
  unsigned i;
  if (!c)
    return;
  if (c->used < CACHE_ENTRIES)
    i = c->used++;
  else
    i = c->next++ % CACHE_ENTRIES;
  c->e[i].sd = sd;
  c->e[i].wire = wire;
}

int svc_caller_identify(HANDLE pipe, unsigned long pid, svc_caller *caller,
                        char *err, size_t errlen) {
  BOOL opened;
  DWORD e;

  caller->token = NULL;
  caller->cache = NULL;
  snprintf(caller->sid, sizeof(caller->sid), "(unknown SID)");
  if (!ImpersonateNamedPipeClient(pipe))
    return shmb__fail(err, errlen, SHMB_EACCES, "cannot impersonate the "
                      "client (Win32 error %lu)",
                      (unsigned long)GetLastError());
  /* OpenAsSelf: open the token with the service's own rights, not the
   * client's, which may be too weak to open its own thread token. */
  opened = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE,
                           &caller->token);
  e = GetLastError();
  if (!RevertToSelf()) {
    shmb_log_error("RevertToSelf failed (Win32 error %lu) while serving pid "
                   "%lu: stopping rather than run as the client",
                   (unsigned long)GetLastError(), pid);
    ExitProcess(3);
  }
  if (!opened) {
    caller->token = NULL;
    return shmb__fail(err, errlen, SHMB_EACCES, "cannot open the client's "
                      "token (Win32 error %lu)", (unsigned long)e);
  }
  svc_token_sid_text(caller->token, caller->sid, sizeof(caller->sid));
  svc_caller_cache_init(caller); /* without one, every request asks */
  return 0;
}

void svc_caller_release(svc_caller *caller) {
  if (caller->token)
    CloseHandle(caller->token);
  caller->token = NULL;
  free(caller->cache);
  caller->cache = NULL;
}

uint32_t svc_access_granted(const svc_caller *caller, PSECURITY_DESCRIPTOR sd) {
  GENERIC_MAPPING mapping = svc_section_mapping;
  PRIVILEGE_SET privs;
  DWORD privlen = sizeof(privs);
  DWORD granted = 0;
  BOOL status = FALSE;
  uint32_t wire = 0;

  if (!caller->token)
    return 0;
  if (cache_find(caller->cache, sd, &wire))
    return wire;
  if (!AccessCheck(sd, caller->token, MAXIMUM_ALLOWED, &mapping, &privs,
                   &privlen, &granted, &status)) {
    shmb_log_warn("AccessCheck failed for %s (Win32 error %lu): nothing "
                  "granted", caller->sid, (unsigned long)GetLastError());
    return 0;
  }
  if (status && (granted & SECTION_MAP_READ)) {
    wire |= SHMB_WIRE_ACCESS_READ;
    if (granted & SECTION_MAP_WRITE)
      wire |= SHMB_WIRE_ACCESS_WRITE;
  }
  cache_put(caller->cache, sd, wire);
  return wire;
}

int svc_caller_may(const svc_caller *caller, PSECURITY_DESCRIPTOR sd,
                   DWORD right) {
  GENERIC_MAPPING mapping = {right, right, right, right};
  PRIVILEGE_SET privs;
  DWORD privlen = sizeof(privs), granted = 0;
  BOOL status = FALSE;

  if (!caller->token || !sd)
    return 0;
  if (!AccessCheck(sd, caller->token, right, &mapping, &privs, &privlen,
                   &granted, &status)) {
    shmb_log_warn("AccessCheck failed for %s (Win32 error %lu): refused",
                  caller->sid, (unsigned long)GetLastError());
    return 0;
  }
  return status && (granted & right) == right;
}
