/*
 * Live reconfiguration (SERVICE_CONTROL_PARAMCHANGE or a RELOAD request):
 * nothing in use is lost, and a bad file changes nothing.
 */
#ifndef SVC_RELOAD_H
#define SVC_RELOAD_H

#include <stddef.h>

#include "broker.h"

/* What a reload did, section by section. */
typedef struct svc_reload_tally {
  unsigned added, removed, repermissioned, refused, failed;
  unsigned rotated; /* of the re-permissioned, by on_revoke = rotate */
} svc_reload_tally;

/* Re-reads b's config file and applies it. Returns 0 with a summary of what
 * changed in msg ("2 added, 1 removed, ...") and, if t is not NULL, the
 * counts in *t; or SHMB_ECONFIG (the file did not parse or validate:
 * nothing changed) with the reason in msg. Logged either way; `why` says
 * who asked. Counts itself in b->counters. */
int svc_reload(svc_broker *b, const char *why, svc_reload_tally *t, char *msg,
               size_t msglen);

#endif /* SVC_RELOAD_H */
