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

/* Rights that let their holder change what a file says or who may. */
#define SVC_FILE_DANGEROUS                                                     \
  (FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC | WRITE_OWNER | DELETE |    \
   GENERIC_WRITE | GENERIC_ALL)
/* ...and, on a folder, that let them put another file in its place. */
#define SVC_FOLDER_DANGEROUS                                                   \
  (FILE_ADD_FILE | FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER | DELETE |     \
   GENERIC_WRITE | GENERIC_ALL)

/* The decision itself, on a descriptor already read: 0 when only trusted
 * accounts (SYSTEM, Administrators, self) own sd or hold any of the
 * `dangerous` rights in an allow ACE; SHMB_EACCES with err naming what (for
 * `what`, a path) and the account otherwise. */
int svc_trust_check_sd(const char *what, PSECURITY_DESCRIPTOR sd,
                       DWORD dangerous, PSID self, char *err, size_t errlen);

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
