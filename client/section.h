/*
 * A mapped section as the SDK keeps it (section.c maps it, notify.c rings
 * and waits on its doorbell). Internal to libshmbroker.
 */
#ifndef SHMB_CLIENT_SECTION_H
#define SHMB_CLIENT_SECTION_H

#include <windows.h>

#include <stdint.h>

#include "shmbroker.h"

struct shmb__ringer;
struct shmb__waiter;

struct shmb_section {
  HANDLE mapping;
  void *view;
  uint64_t size;
  unsigned access;
  char name[65];
  char object[257];
  /* How the section's client connected: the doorbell connects again with
   * them (a waiter's registration lives as long as its own connection). */
  shmb_connect_options opts;
  char *pipe_name, *server;
  struct shmb__ringer *ringer; /* NULL until the first ring */
  struct shmb__waiter *waiter; /* NULL until the first wait */
  char message[1024];          /* the doorbell's last explanation */
};

/* shmb_open, also saying what the service said the section is
 * (SHMB_KIND_*; kind may be NULL). */
int shmb__open_kind(shmb_client *client, const char *name, unsigned int access,
                    shmb_section **out, unsigned *kind);

/* Whether fresh (a handle the service delivered now; closed here) is to
 * the object mapped: 1 yes, 0 no (also for fresh NULL), SHMB_ESYSTEM
 * when this Windows cannot tell (no CompareObjectHandles). */
int shmb__same_object(HANDLE fresh, HANDLE mapped);

/* Closes what notify.c attached (ringer, waiter and its connection). */
void shmb__section_bell_close(shmb_section *s);

/* For channels, whose waiters watch the ring's own counters (channel.c):
 * wake every armed waiter without moving the doorbell's counter (the
 * caller moved its own counter first; write access needed, as a ring),
 * and wait, as shmb_section_wait, for read(ctx) to differ from *seen. */
int shmb__section_wake(shmb_section *s);
int shmb__section_wait_for(shmb_section *s, uint64_t (*read)(const void *ctx),
                           const void *ctx, uint64_t *seen,
                           unsigned timeout_ms);

/* SetEvent calls this section's rings have made: a test hook (the unit
 * test of "nobody waiting costs no system call"); not exported. */
uint64_t shmb__section_signals(const shmb_section *s);

/* The waiter's counter page and event names (registers as a waiter):
 * for the tests that ask the kernel directly what a grantee may do. */
int shmb__section_bell_names(shmb_section *s, const char **counter,
                             const char **event);

#endif /* SHMB_CLIENT_SECTION_H */
