/*
 * Live reconfiguration (SERVICE_CONTROL_PARAMCHANGE or a RELOAD request):
 * nothing in use is lost, and a bad file changes nothing.
 */
#ifndef SVC_RELOAD_H
#define SVC_RELOAD_H

#include <stddef.h>

#include "svc.h"

/* Re-reads the config file and applies it. Returns 0 with a summary of what
 * changed in msg ("2 added, 1 removed, ..."), or SHMB_ECONFIG (the file did
 * not parse or validate: nothing changed) with the reason in msg. Logged
 * either way; `why` says who asked. */
int svc_reload(svc *s, const char *why, char *msg, size_t msglen);

/* The descriptor that RELOAD is checked against: the config's admins, or
 * by default the service's own account and BUILTIN\Administrators. */
int svc_admin_sd(const shmb_config *cfg, void **sd, char *err, size_t errlen);

#endif /* SVC_RELOAD_H */
