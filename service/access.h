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

typedef struct svc_caller {
  HANDLE token; /* impersonation token at identification level */
  char sid[192];
} svc_caller;

/* Impersonates the client of pipe just long enough to take its token. Only
 * call after a message was read from the pipe (Windows refuses earlier).
 * A failed RevertToSelf ends the process: continuing would run the service
 * as its client. Returns 0 or SHMB_EACCES with the reason in err (the
 * caller logs it, with the account it knows from the process). */
int svc_caller_identify(HANDLE pipe, unsigned long pid, svc_caller *caller,
                        char *err, size_t errlen);
void svc_caller_release(svc_caller *caller);

/* The protocol's access bits (SHMB_WIRE_ACCESS_*) that the caller's token
 * is granted by sd: read needs map-read, write needs map-read and map-write.
 * An AccessCheck failure grants nothing (logged). */
uint32_t svc_access_granted(const svc_caller *caller, PSECURITY_DESCRIPTOR sd);

/* Whether sd grants the caller `right` (for service-level rights such as
 * RELOAD, whose descriptor the service composes). */
int svc_caller_may(const svc_caller *caller, PSECURITY_DESCRIPTOR sd,
                   DWORD right);

#endif /* SVC_ACCESS_H */
