/*
 * Descriptors the service composes for its own objects: the control pipe,
 * a backing file, and the token descriptor that RELOAD is checked against.
 * Each constant below names the right it grants and why.
 */
#ifndef SVC_OWN_SD_H
#define SVC_OWN_SD_H

#include <windows.h>

#include <stddef.h>

#include "config.h"

/* The one right of the admin descriptor: a token for AccessCheck meaning
 * "may RELOAD" (no object carries it; the descriptor exists only to ask
 * AccessCheck whether a caller's groups include an admin). */
#define SVC_RIGHT_RELOAD 0x1u

/* The control pipe's descriptor: owned by the service's account, which has
 * full control; LocalSystem too; Authenticated Users may read and write but
 * not create instances; network logons are denied. sandboxed ([service]
 * allow_sandboxed = yes): also ALL APPLICATION PACKAGES with the same
 * rights as Authenticated Users, and a low mandatory label (no-write-up)
 * so that low-integrity clients may write requests. LocalFree the result. */
int svc_pipe_sd(int sandboxed, PSECURITY_DESCRIPTOR *sd, char *err,
                size_t errlen);

/* A backing file's descriptor: only the service's account, SYSTEM and
 * Administrators have any access, so only they can change it. */
int svc_file_sd(PSECURITY_DESCRIPTOR *sd, char *err, size_t errlen);

/* Who may RELOAD: the config's admins, or by default the service's own
 * account and BUILTIN\Administrators (SVC_RIGHT_RELOAD). LocalFree. */
int svc_admin_sd(const shmb_config *cfg, PSECURITY_DESCRIPTOR *sd, char *err,
                 size_t errlen);

#endif /* SVC_OWN_SD_H */
