/*
 * The doorbell's shared pages, as the service writes them and the SDK reads
 * them (docs/channels.md, "Doorbell"). Three kinds of page, each its own
 * section object with its own descriptor (service/bell_sd.c):
 *
 *   counter page   the change counter: ringers (the section's writers)
 *                  bump it, waiters (its readers) only read it
 *     0      4         8        12        64               72
 *     +------+---------+--------+~~~~~~~~~+----------------+
 *     | magic| version | closed | (zero)  | counter u64    |  own line
 *     +------+---------+--------+~~~~~~~~~+----------------+
 *                  closed: 1 once the service gave the doorbell up
 *                  (section removed or rotated, service stopping); it
 *                  then wakes every waiter, who return SHMB_EBELLCLOSED
 *
 *   registry page  written only by the service, read by ringers: the live
 *                  waiters, each with the names of its event and its armed
 *                  page. generation is odd while the service writes
 *                  (a seqlock: a reader copies, then checks it is unchanged)
 *     | magic | version | generation u64 | capacity u32 | (zero) u32 |
 *     | capacity entries of: | live u32 | id u32 | event name[64] |
 *     | armed page name[64] |
 *                  id: the waiter's, never 0 and not used twice by one
 *                  doorbell. For a section delivered by handle the names
 *                  are empty (no object has one): ringers watch the
 *                  generation and ask the service for the waiters' handles
 *                  (PEERS, docs/protocol.md)
 *
 *   armed page     one per waiter: only that waiter's account writes it,
 *                  ringers read it
 *     | armed u64 |  0, or the ticket the waiter armed with: a new one
 *                  each time it arms; a ringer signals each ticket once
 *
 * Everything read from these pages is hostile until validated: a capacity
 * past the view, a name without its NUL or not of the service's form, a
 * generation that moved during the copy.
 */
#ifndef SHMB_COMMON_BELL_LAYOUT_H
#define SHMB_COMMON_BELL_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define SHMB_BELL_MAGIC 0x4C424D53u    /* "SMBL" */
#define SHMB_BELL_REG_MAGIC 0x52424D53u /* "SMBR" */
#define SHMB_BELL_VERSION 1u
#define SHMB_BELL_PAGE 4096u
#define SHMB_BELL_NAME 64 /* "Global\shmb-" + 32 hex digits, NUL */
/* The most waiters a registry lists (config: max_waiters). */
#define SHMB_BELL_MAX_WAITERS 256u

typedef struct shmb_bell_counter_page {
  uint32_t magic, version;
  uint32_t closed;
  uint8_t pad[52];
  uint64_t counter; /* on its own cache line */
} shmb_bell_counter_page;
_Static_assert(offsetof(shmb_bell_counter_page, counter) == 64, "counter");

typedef struct shmb_bell_entry {
  uint32_t live, id;
  char event[SHMB_BELL_NAME];
  char armed[SHMB_BELL_NAME];
} shmb_bell_entry;
_Static_assert(sizeof(shmb_bell_entry) == 136, "registry entry");

typedef struct shmb_bell_registry {
  uint32_t magic, version;
  uint64_t generation;
  uint32_t capacity, reserved;
  shmb_bell_entry entries[]; /* capacity of them */
} shmb_bell_registry;
_Static_assert(sizeof(shmb_bell_registry) == 24, "registry header");

/* Bytes of a registry page for cap waiters. */
#define SHMB_BELL_REGISTRY_SIZE(cap)                                           \
  (sizeof(shmb_bell_registry) + (size_t)(cap) * sizeof(shmb_bell_entry))

#endif /* SHMB_COMMON_BELL_LAYOUT_H */
