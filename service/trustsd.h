/*
 * Whether a file's descriptor lets only trusted accounts in: SYSTEM,
 * Administrators and the service's own account may own it or hold the
 * rights that matter; anyone else, or an ACE this check does not
 * understand, makes it untrusted. The config file (trust.c), the log file
 * (logsink.c) and backing files (backing.c) are judged with it.
 */
#ifndef SVC_TRUSTSD_H
#define SVC_TRUSTSD_H

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

/* svc_trust_check_sd on the owner and DACL read through an open handle
 * (READ_CONTROL), against the service's own account. */
int svc_trust_check_handle(HANDLE file, const char *what, DWORD dangerous,
                           char *err, size_t errlen);

/* The handle reaches a plain file with one name: not a reparse point (a
 * link SYSTEM would have followed) and no hard link (whose other name may
 * sit in a folder others can write). SHMB_EACCES with err naming `what`. */
int svc_file_identity_check(HANDLE file, const char *what, char *err,
                            size_t errlen);

/* The folder path sits in (its parent, "." for a bare name), judged by
 * path against SVC_FOLDER_DANGEROUS: whoever may add or delete its entries
 * can replace the file while the service is stopped. Ancestors further up
 * are not checked (docs/reliability.md says why). */
int svc_trust_check_folder_of(const char *path, char *err, size_t errlen);

/* A backing file holds the section's bytes: nobody else may even read it. */
#define SVC_BACKING_DANGEROUS                                                  \
  (SVC_FILE_DANGEROUS | FILE_READ_DATA | GENERIC_READ)

#endif /* SVC_TRUSTSD_H */
