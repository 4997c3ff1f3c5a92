/*
 * The section registry: every section of the config, created with its
 * normalised descriptor under a fresh unguessable kernel object name, backed
 * by the paging file or by a file the service holds open. The registry owns
 * the periodic flush of file-backed sections and counts every flush, so
 * that STATUS (and the tests) can see that data reaches the disk.
 */
#ifndef SVC_REGISTRY_H
#define SVC_REGISTRY_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "section.h"

typedef struct svc_registry {
  uv_loop_t *loop; /* NULL: no periodic flushes (unit tests) */
  svc_section **sections;
  size_t count, cap;
  uint64_t gone_flushes, gone_failures; /* of sections since removed */
} svc_registry;

/* Creates every section of cfg. All or nothing: on failure nothing is left
 * behind, the error (naming the section) is in err, and the return is the
 * failing step's code (SHMB_ECONFIG for a bad descriptor or backing file,
 * SHMB_EEXIST for a squatted name, SHMB_ENOMEM / SHMB_ESYSTEM otherwise).
 * progress (may be NULL) is called after each section: the SCM's
 * checkpoints. loop may be NULL: then flush_interval is not honoured. */
int svc_registry_create(uv_loop_t *loop, const shmb_config *cfg,
                        void (*progress)(void *), void *progress_arg,
                        svc_registry **out, char *err, size_t errlen);
/* Creates one more section (reload). */
int svc_registry_add(svc_registry *reg, const shmb_config *cfg,
                     const shmb_section_config *sc, char *err, size_t errlen);
/* Flushes, closes and forgets section i (reload). Clients' own handles and
 * views stay valid: the kernel keeps the object while any is open. */
void svc_registry_remove(svc_registry *reg, size_t i);
/* Stops the periodic flushes (the loop can then end); sections stay. */
void svc_registry_stop_timers(svc_registry *reg);
void svc_registry_free(svc_registry *reg);
svc_section *svc_registry_find(svc_registry *reg, const char *name);

/* on_revoke = rotate (reload): replaces section i by a fresh object under
 * a new name with sc's descriptor, carrying the bytes over, and closes the
 * old object to new opens (its DACL then grants no one) before dropping our
 * handle: holders of old views keep a private copy nobody else sees again.
 * On failure section i is unchanged. */
int svc_registry_rotate(svc_registry *reg, size_t i, const shmb_config *cfg,
                        const shmb_section_config *sc, char *err,
                        size_t errlen);

/* Changes a section's flush period (reload); 0 stops it. */
void svc_registry_set_flush_interval(svc_registry *reg, svc_section *sec,
                                     unsigned ms);

/* Writes every file-backed section's dirty pages and the files' metadata
 * to disk, counting and logging each flush with why ("reload", "stop",
 * "shutdown"). Returns the number of sections that failed. */
unsigned svc_registry_flush_all(svc_registry *reg, const char *why);

/* Total flushes and failed flushes since start. */
void svc_registry_flush_counts(const svc_registry *reg, uint64_t *flushes,
                               uint64_t *failures);

/* Drops every doorbell waiter that owner (a connection) registered, when
 * it closes; returns how many. */
unsigned svc_registry_drop_waiters(svc_registry *reg, const void *owner);
/* Live doorbell waiters over every section, for STATUS. */
unsigned svc_registry_waiters(const svc_registry *reg);

#endif /* SVC_REGISTRY_H */
