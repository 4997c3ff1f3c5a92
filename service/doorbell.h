/*
 * A section's doorbell (notify = yes): the counter page ringers bump, the
 * registry page that lists live waiters, and per waiter an auto-reset
 * event and an armed page (common/bell_layout.h; docs/channels.md). The
 * service creates every object under a fresh name with a descriptor
 * derived from the section's (bell_sd.h), writes the registry alone, and
 * drops a waiter when the connection that registered it closes.
 */
#ifndef SVC_DOORBELL_H
#define SVC_DOORBELL_H

#include <windows.h>

#include <stddef.h>

#include "bell_layout.h"

/* Makes a fresh object name in namespace ns (section.h's svc_object_name:
 * passed in, as the section layer sits above this one). A doorbell made
 * without one (NULL) has no named object at all: a section delivered by
 * handle, whose clients get every object as a handle. */
typedef int (*svc_name_fn)(const char *ns, char out[64]);

typedef struct svc_waiter {
  const void *owner; /* the connection that registered it; NULL: free */
  HANDLE event, armed;
  uint32_t id;   /* its registry entry's id (bell_layout.h) */
  char sid[192]; /* its account: its objects' descriptors name it */
} svc_waiter;

typedef struct svc_doorbell {
  svc_name_fn name; /* NULL: unnamed objects */
  char ns[8];
  HANDLE counter, registry;
  shmb_bell_registry *reg; /* our writable view */
  char counter_name[SHMB_BELL_NAME], registry_name[SHMB_BELL_NAME];
  unsigned capacity, live;
  unsigned added;   /* the entry svc_doorbell_add_waiter filled last */
  uint32_t next_id; /* the id the next waiter gets; starts at 1 */
  svc_waiter *waiters; /* capacity of them, index = registry entry */
} svc_doorbell;

/* Creates the counter and registry pages for capacity waiters with
 * descriptors derived from section_sd. A name that exists is SHMB_EEXIST
 * (a squat). err says which object failed. */
int svc_doorbell_new(svc_name_fn name, const char *ns,
                     PSECURITY_DESCRIPTOR section_sd, unsigned capacity,
                     svc_doorbell **out, char *err, size_t errlen);
/* Marks the doorbell closed in its counter page, wakes every waiter (they
 * return SHMB_EBELLCLOSED), then closes every object (clients keep their
 * own handles). NULL is ignored. */
void svc_doorbell_free(svc_doorbell *d);

/* Registers a waiter of account sid (SID text) for owner: its event and
 * armed page, named in event and armed ("" when the doorbell is unnamed;
 * d->added is then the entry, to hand its objects over). SHMB_ETOOMANYWAITERS when all
 * capacity entries are live, or when sid already holds half of them (at
 * least one): no account can lock the others out. */
int svc_doorbell_add_waiter(svc_doorbell *d, PSECURITY_DESCRIPTOR section_sd,
                            const char *sid, const void *owner,
                            char event[SHMB_BELL_NAME],
                            char armed[SHMB_BELL_NAME], char *err,
                            size_t errlen);
/* Re-derives every object's descriptor from a section's new one (reload)
 * and puts it on the live objects; handles already open keep their
 * rights, as with the section itself. */
int svc_doorbell_set_descriptor(svc_doorbell *d,
                                PSECURITY_DESCRIPTOR section_sd, char *err,
                                size_t errlen);
/* Drops the waiter of entry i (one whose objects could not be handed
 * over). */
void svc_doorbell_drop(svc_doorbell *d, unsigned i);
/* Drops every waiter that owner registered; returns how many. */
unsigned svc_doorbell_drop_owner(svc_doorbell *d, const void *owner);

#endif /* SVC_DOORBELL_H */
