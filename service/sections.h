/*
 * The section registry: every section of the config, created with its
 * normalised descriptor under a fresh unguessable kernel object name, backed
 * by the paging file or by a file the service holds open.
 */
#ifndef SVC_SECTIONS_H
#define SVC_SECTIONS_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* "Global\shmb-" + 32 hex digits (128 bits from the system CSPRNG). */
#define SVC_OBJECT_NAME_MAX 64

typedef struct svc_section {
  char name[SHMB_NAME_MAX + 1];
  uint64_t size;
  HANDLE mapping;
  PSECURITY_DESCRIPTOR sd; /* self-relative, LocalFree */
  char *sddl;              /* sd as text: logs, and reload's comparison */
  char object[SVC_OBJECT_NAME_MAX];
  char *backing_file; /* NULL: the paging file */
  HANDLE file;        /* held open, share-read only, while we run */
  const void *view;   /* our own view of a file-backed section, to flush */
  unsigned flush_interval_ms;
  void *flusher; /* the periodic flush (svc.c's), opaque here */
} svc_section;

typedef struct svc_registry {
  svc_section **sections;
  size_t count, cap;
} svc_registry;

/* The descriptor a section's config asks for (sddl, or read/write
 * accounts), validated and normalised; *sddl its text (free()). */
int svc_section_descriptor(const shmb_section_config *sc,
                           PSECURITY_DESCRIPTOR *sd, char **sddl, char *err,
                           size_t errlen);

/* Creates every section of cfg. All or nothing: on failure nothing is left
 * behind, the error (naming the section) is in err, and the return is the
 * failing step's code (SHMB_ECONFIG for a bad descriptor or backing file,
 * SHMB_EEXIST for a squatted name, SHMB_ENOMEM / SHMB_ESYSTEM otherwise). */
int svc_registry_create(const shmb_config *cfg, svc_registry **out, char *err,
                        size_t errlen);
/* Creates one more section (reload). */
int svc_registry_add(svc_registry *reg, const shmb_config *cfg,
                     const shmb_section_config *sc, char *err, size_t errlen);
/* Flushes, closes and forgets section i (reload). Clients' own handles and
 * views stay valid: the kernel keeps the object while any is open. */
void svc_registry_remove(svc_registry *reg, size_t i);
void svc_registry_free(svc_registry *reg);
svc_section *svc_registry_find(svc_registry *reg, const char *name);

/* Writes a file-backed section's dirty pages and the file's metadata to
 * disk; nothing to do for the paging file. */
int svc_section_flush(svc_section *sec);

/* Puts a new descriptor on the live object and on later checks (reload);
 * takes ownership of sd and sddl on success. */
int svc_section_set_descriptor(svc_section *sec, PSECURITY_DESCRIPTOR sd,
                               char *sddl, char *err, size_t errlen);

/* A fresh object name in the given namespace ("Global" or "Local"). */
int svc_object_name(const char *ns, char out[SVC_OBJECT_NAME_MAX]);

/* Creates one section under the given object name, backed by file (or the
 * paging file when file is NULL or INVALID_HANDLE_VALUE). An existing object
 * of that name is SHMB_EEXIST: someone squatted it. */
int svc_section_create(svc_section *sec, const char *object, uint64_t size,
                       PSECURITY_DESCRIPTOR sd, char *err, size_t errlen);

#endif /* SVC_SECTIONS_H */
