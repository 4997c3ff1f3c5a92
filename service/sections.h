/*
 * The section registry: every section of the config, created at start with
 * its normalised descriptor under a fresh unguessable kernel object name.
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
  char object[SVC_OBJECT_NAME_MAX];
} svc_section;

typedef struct svc_registry {
  svc_section *sections;
  size_t count;
} svc_registry;

/* Creates every section of cfg. All or nothing: on failure nothing is left
 * behind, the error (naming the section) is in err, and the return is the
 * failing step's code (SHMB_ECONFIG for a bad descriptor, SHMB_EEXIST for a
 * squatted name, SHMB_ENOMEM / SHMB_ESYSTEM otherwise). */
int svc_registry_create(const shmb_config *cfg, svc_registry **out, char *err,
                        size_t errlen);
void svc_registry_free(svc_registry *reg);
svc_section *svc_registry_find(svc_registry *reg, const char *name);

/* A fresh object name in the given namespace ("Global" or "Local"). */
int svc_object_name(const char *ns, char out[SVC_OBJECT_NAME_MAX]);

/* Creates one pagefile-backed section under the given object name. An
 * existing object of that name is SHMB_EEXIST: someone squatted it. */
int svc_section_create(svc_section *sec, const char *object, uint64_t size,
                       PSECURITY_DESCRIPTOR sd, char *err, size_t errlen);

#endif /* SVC_SECTIONS_H */
