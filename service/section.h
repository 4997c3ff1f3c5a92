/*
 * One section: the kernel object under a fresh unguessable name, its
 * normalised descriptor, and the file behind it if it is file-backed. The
 * registry (registry.h) keeps the list and the flush timers.
 */
#ifndef SVC_SECTION_H
#define SVC_SECTION_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

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
  uv_timer_t *flush_timer; /* the registry's; NULL when not periodic */
  uint64_t flushes, flush_failures;
  struct svc_doorbell *bell; /* notify = yes (doorbell.h); else NULL */
  uint32_t channel;          /* 0, or the ring's enum shmb_ring_kind */
  uint32_t slots, slot_size; /* a channel's ring */
  int by_handle; /* delivery = handle: no name (object is ""); OPEN
                    duplicates a handle into the caller (deliver.h) */
} svc_section;

/* What OPEN and LIST say of the section: SHMB_OPEN_FLAG_* (protocol.h). */
uint32_t svc_section_flags(const svc_section *sec);

/* Builds one section from its config: descriptor, backing file, object,
 * and the service's own view of a file-backed one. err names the section. */
int svc_section_new(const shmb_config *cfg, const shmb_section_config *sc,
                    svc_section **out, char *err, size_t errlen);
/* Unmaps and closes everything; flushing is the caller's (the registry
 * flushes at stop, reload and removal). The flush timer must have been
 * stopped (registry.h). */
void svc_section_free(svc_section *sec);

/* Writes a file-backed section's dirty pages and the file's metadata to
 * disk and counts it; nothing to do for the paging file. why names the
 * occasion in the log line ("timer" is logged at debug, others at info). */
int svc_section_flush(svc_section *sec, const char *why);

/* The descriptor a section's config asks for (sddl, or read/write
 * accounts), validated and normalised; *sddl its text (free()). */
int svc_section_descriptor(const shmb_section_config *sc,
                           PSECURITY_DESCRIPTOR *sd, char **sddl, char *err,
                           size_t errlen);

/* Puts a new descriptor on the live object and on later checks (reload);
 * takes ownership of sd and sddl on success. */
int svc_section_set_descriptor(svc_section *sec, PSECURITY_DESCRIPTOR sd,
                               char *sddl, char *err, size_t errlen);

/* A fresh object name in the given namespace ("Global" or "Local"). */
int svc_object_name(const char *ns, char out[SVC_OBJECT_NAME_MAX]);

/* Whether a CreateFileMappingW or CreateEventW answer for object (h and
 * GetLastError() e) says the name was there before us: then SHMB_EEXIST,
 * with h closed, since whoever made it first owns it (design.md, security
 * rule 2); 0 otherwise. */
int svc_object_squatted(HANDLE h, DWORD e, const char *object, char *err,
                        size_t errlen);

/* Creates one section under the given object name, backed by sec->file (or
 * the paging file when it is NULL). An existing object of that name is
 * SHMB_EEXIST: someone squatted it. object NULL: no name at all (delivery
 * by handle); sec->object is then "". */
int svc_section_create(svc_section *sec, const char *object, uint64_t size,
                       PSECURITY_DESCRIPTOR sd, char *err, size_t errlen);

#endif /* SVC_SECTION_H */
