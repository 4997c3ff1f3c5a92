/*
 * Whether the config file can be trusted: it grants access to shared
 * memory, so only SYSTEM, Administrators and the service's own account may
 * be able to change it or the folder it sits in (design.md, security
 * rule 6).
 */
#ifndef SVC_TRUST_H
#define SVC_TRUST_H

#include <stddef.h>

/* 0 when neither the file nor its folder can be written (or re-permissioned,
 * or replaced) by anyone else; SHMB_EACCES with err naming the path and the
 * account otherwise (SHMB_ESYSTEM when the descriptor cannot be read). */
int svc_config_trusted(const char *path, char *err, size_t errlen);

#endif /* SVC_TRUST_H */
