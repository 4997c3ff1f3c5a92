/*
 * Who is on the other end of a pipe connection, and what may they do with
 * a section. The kernel checks again when the client opens the object; this
 * check is the early, logged answer (design.md, security rule 1).
 */
#ifndef SVC_ACCESS_H
#define SVC_ACCESS_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

struct svc_access_cache;

typedef struct svc_caller {
  HANDLE token; /* impersonation token at identification level */
  char sid[192];
  /* AccessCheck results for this token (NULL: none kept). The token cannot
   * change while the connection lives (the SDK connects with static
   * tracking), so a section's answer holds until its descriptor does. */
  struct svc_access_cache *cache;
} svc_caller;

/* Impersonates the client of pipe just long enough to take its token. Only
 * call after a message was read from the pipe (Windows refuses earlier).
 * A failed RevertToSelf ends the process: continuing would run the service
 * as its client. Returns 0 or SHMB_EACCES with the reason in err (the
 * caller logs it, with the account it knows from the process). */
int svc_caller_identify(HANDLE pipe, unsigned long pid, svc_caller *caller,
                        char *err, size_t errlen);
void svc_caller_release(svc_caller *caller);

/* Gives caller a cache of AccessCheck results (svc_caller_identify does;
 * tests call it on a caller they built). 0 or SHMB_ENOMEM. */
int svc_caller_cache_init(svc_caller *caller);

/* Forgets every cached AccessCheck result of every caller. Whoever
 * changes, replaces or frees a section's descriptor calls it before the
 * next request is served (reload does, once per reload), since a new
 * descriptor may sit at the address of a freed one. */
void svc_access_forget_all(void);

/* The protocol's access bits (SHMB_WIRE_ACCESS_*) that the caller's token
 * is granted by sd: read needs map-read, write needs map-read and map-write.
 * An AccessCheck failure grants nothing (logged, and not cached). Answered
 * from the caller's cache when it holds sd from the current epoch. */
uint32_t svc_access_granted(const svc_caller *caller, PSECURITY_DESCRIPTOR sd);

/* Whether sd grants the caller `right` (for service-level rights such as
 * RELOAD, whose descriptor the service composes). */
int svc_caller_may(const svc_caller *caller, PSECURITY_DESCRIPTOR sd,
                   DWORD right);

#endif /* SVC_ACCESS_H */
