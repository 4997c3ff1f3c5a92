/*
 * Whether the config file can be trusted: it grants access to shared
 * memory, so only SYSTEM, Administrators and the service's own account may
 * be able to change it or the folder it sits in (design.md, security
 * rule 6).
 */
#ifndef SVC_TRUST_H
#define SVC_TRUST_H

#include <windows.h>

#include <stddef.h>

#include "trustsd.h"

/* Opens the config file for reading, refusing a reparse point (a link the
 * service would follow as SYSTEM) or a file with more than one name (a hard
 * link whose other name may sit in a folder others can write). A missing
 * file is SHMB_ECONFIG. On success *file is the handle to check and read. */
int svc_config_open(const char *path, HANDLE *file, char *err, size_t errlen);

/* The trust check through the handle the file will be read from (no window
 * between check and read), and on its folder: 0 when neither can be written
 * (or re-permissioned, or replaced) by anyone else; SHMB_EACCES with err
 * naming the path and the account otherwise (SHMB_ESYSTEM when a descriptor
 * cannot be read). */
int svc_config_trusted_handle(HANDLE file, const char *path, char *err,
                              size_t errlen);

/* svc_config_open, then svc_config_trusted_handle (tests and tools). */
int svc_config_trusted(const char *path, char *err, size_t errlen);

#endif /* SVC_TRUST_H */
