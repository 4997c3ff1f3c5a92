/*
 * Backing files: the file on disk behind a file-backed section, opened so
 * that nobody else can write, delete or rename it while the service runs.
 */
#ifndef SVC_BACKING_H
#define SVC_BACKING_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

/* Opens path (UTF-8), or creates it at size bytes, for reading and writing
 * with share-read only, and puts the service's file descriptor on it. A file
 * of another size is refused, never truncated or grown. *created says which.
 * Returns 0 with *file, or SHMB_ECONFIG / SHMB_ENOMEM with err naming the
 * file; section names the section for log lines. */
int svc_backing_open(const char *section, const char *path, uint64_t size,
                     HANDLE *file, int *created, char *err, size_t errlen);

#endif /* SVC_BACKING_H */
