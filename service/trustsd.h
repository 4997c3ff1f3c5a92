/*
 * Whether a file's descriptor lets only trusted accounts in: SYSTEM,
 * Administrators, TrustedInstaller and the service's own account may own it or hold the
 * rights that matter; anyone else, or an ACE this check does not
 * understand, makes it untrusted; the same for every folder above the file
 * up to the volume root. The config file (trust.c), the log file
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
/* ...on the folder holding the file, that let them put another file (or a
 * folder, or a link) in its place or change who may. */
#define SVC_FOLDER_DANGEROUS                                                   \
  (FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | WRITE_DAC |    \
   WRITE_OWNER | DELETE | GENERIC_WRITE | GENERIC_ALL)
/* ...and on every folder further up, to the volume root, that let them
 * remove or rename the next folder of the path (delete-child here, delete
 * on the folder itself) or give themselves those rights. Adding entries is
 * not among them: the path's next folder exists, and a new name beside it
 * cannot take its place. Windows grants exactly that to ordinary users on
 * C:\ (Authenticated Users: add-subdirectory) and on C:\ProgramData (Users:
 * add-file, add-subdirectory, write-attributes), so counting it would
 * refuse the default install. Write-attributes could set a reparse point,
 * but NTFS sets one only on an empty folder, and ours holds the path. */
#define SVC_ANCESTOR_DANGEROUS                                                 \
  (FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER | DELETE | GENERIC_ALL)

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

/* Every folder of path, from the one holding it up to the volume root,
 * opened by handle without following a reparse point (one met is refused)
 * and judged by its owner and DACL: the folder holding the file against
 * SVC_FOLDER_DANGEROUS, the others against SVC_ANCESTOR_DANGEROUS. A
 * relative path is made full first (console mode). 0, or SHMB_EACCES with
 * err naming the folder and the account (SHMB_ESYSTEM when a folder cannot
 * be opened or read). */
int svc_trust_check_folders(const char *path, char *err, size_t errlen);

/* A backing file holds the section's bytes: nobody else may even read it. */
#define SVC_BACKING_DANGEROUS                                                  \
  (SVC_FILE_DANGEROUS | FILE_READ_DATA | GENERIC_READ)

#endif /* SVC_TRUSTSD_H */
