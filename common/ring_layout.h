/*
 * The bytes of a channel ring (internal to common/ring*.c; drawn in
 * docs/channels.md). Offsets are fixed and asserted: a ring formatted by
 * the service is read by SDKs of other builds, so the layout is a wire
 * format like the pipe protocol's.
 *
 *   0    header: magic "SHMR", version, kind, slots, slot_size, ring_size
 *   64   line A (senders):   tail, lock (broadcast), commits (queue)
 *   128  line B (receivers): head, releases (queue only)
 *   192  slot 0, then slot 1 ... at 192 + i * stride
 *
 * Each slot: seq (u64), len (u32), reserved (u32), then slot_size bytes of
 * payload; stride = round_up(16 + slot_size, 64), so that two slots never
 * share a cache line.
 */
#ifndef SHMB_COMMON_RING_LAYOUT_H
#define SHMB_COMMON_RING_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

#define SHMB__RING_MAGIC 0x524d4853u /* "SHMR" in memory order */
#define SHMB__RING_VERSION 1u
#define SHMB__RING_LINE 64u

typedef struct shmb__ring_hdr {
  uint32_t magic;       /* 0 */
  uint16_t version;     /* 4 */
  uint16_t kind;        /* 6: enum shmb_ring_kind */
  uint32_t slots;       /* 8: power of two */
  uint32_t slot_size;   /* 12: largest message, multiple of 8 */
  uint64_t ring_size;   /* 16: bytes from the header to the last slot's end */
  uint8_t reserved[40]; /* 24: zero */
  /* Line A: written by senders. */
  _Atomic uint64_t tail;    /* 64: next position to send */
  _Atomic uint64_t lock;    /* 72: broadcast sender lock: token<<32 | gen */
  _Atomic uint64_t commits; /* 80: queue: messages committed or aborted */
  uint8_t pad_a[40];
  /* Line B: written by queue receivers. */
  _Atomic uint64_t head;     /* 128: queue: next position to receive */
  _Atomic uint64_t releases; /* 136: queue: slots freed or aborted */
  uint8_t pad_b[48];
} shmb__ring_hdr;

typedef struct shmb__ring_slot {
  _Atomic uint64_t seq; /* 0: queue sequence or broadcast stamp */
  _Atomic uint32_t len; /* 8: message length */
  uint32_t reserved;    /* 12 */
  /* 16: payload */
} shmb__ring_slot;

#define SHMB__RING_HDR_SIZE 192u
#define SHMB__RING_SLOT_HDR 16u

_Static_assert(sizeof(shmb__ring_hdr) == SHMB__RING_HDR_SIZE, "ring header");
_Static_assert(offsetof(shmb__ring_hdr, ring_size) == 16, "ring_size");
_Static_assert(offsetof(shmb__ring_hdr, tail) == 64, "tail line");
_Static_assert(offsetof(shmb__ring_hdr, lock) == 72, "lock");
_Static_assert(offsetof(shmb__ring_hdr, commits) == 80, "commits");
_Static_assert(offsetof(shmb__ring_hdr, head) == 128, "head line");
_Static_assert(offsetof(shmb__ring_hdr, releases) == 136, "releases");
_Static_assert(sizeof(shmb__ring_slot) == SHMB__RING_SLOT_HDR, "slot header");
/* Processes share these words, so they must be real lock-free atomics
 * (address-free), never a hidden mutex in private memory. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

/*
 * Slot words. Positions count from 0 and stay below 2^62 (centuries at any
 * rate), so the top bit is free to mark an aborted slot: POISON | the word
 * it replaced. Such a slot is never written again until the service formats
 * the ring, and every position that maps onto it is skipped.
 *
 * Queue (Vyukov's per-slot sequence): seq == p: free for the sender of
 * position p (or claimed by it, when tail > p); p + 1: message p committed
 * (or taken by its receiver, when head > p); p + slots: freed for p + slots.
 * Broadcast (a seqlock per slot): 0: never written; 2p + 1: position p
 * being written; 2p + 2: position p committed.
 */
#define SHMB__RING_POISON (UINT64_C(1) << 63)

/* Operations give up after this many attempts, so that a hostile peer that
 * keeps the words moving (or a storm of contention) yields SHMB_EAGAIN
 * instead of a loop without end. */
#define SHMB__RING_TRIES(r) (64u + 2u * (r)->slots)

/* What shmb_ring.held records. */
enum { SHMB__HELD_NONE, SHMB__HELD_RESERVE, SHMB__HELD_PEEK };

/* What shmb_ring_stall.what records. */
enum { SHMB__STALL_SENDER = 1, SHMB__STALL_RECEIVER, SHMB__STALL_LOCK };

static inline shmb__ring_hdr *shmb__ring_hdr_of(const shmb_ring *r) {
  return (shmb__ring_hdr *)(void *)r->base;
}

static inline shmb__ring_slot *shmb__ring_slot_at(const shmb_ring *r,
                                                  uint64_t pos) {
  return (shmb__ring_slot *)(void *)(r->base + SHMB__RING_HDR_SIZE +
                                     (size_t)(pos & r->mask) * r->stride);
}

static inline unsigned char *shmb__ring_payload(shmb__ring_slot *s) {
  return (unsigned char *)s + SHMB__RING_SLOT_HDR;
}

/* Per kind (ring_queue.c, ring_bcast.c). */
int shmb__ringq_send(shmb_ring *r, const void *msg, size_t len);
int shmb__ringq_reserve(shmb_ring *r, void **payload, size_t *capacity);
int shmb__ringq_commit(shmb_ring *r, size_t len);
int shmb__ringq_receive(shmb_ring *r, void *buf, size_t *len);
int shmb__ringq_peek(shmb_ring *r, const void **payload, size_t *len);
int shmb__ringq_release(shmb_ring *r);
int shmb__ringq_stalled(shmb_ring *r, shmb_ring_stall *st);
int shmb__ringq_abort(shmb_ring *r, const shmb_ring_stall *st);

int shmb__ringb_send(shmb_ring *r, const void *msg, size_t len);
int shmb__ringb_reserve(shmb_ring *r, void **payload, size_t *capacity);
int shmb__ringb_commit(shmb_ring *r, size_t len);
int shmb__ringb_receive(shmb_ring *r, void *buf, size_t *len, uint64_t *lost);
int shmb__ringb_peek(shmb_ring *r, const void **payload, size_t *len,
                     uint64_t *lost);
int shmb__ringb_release(shmb_ring *r);
int shmb__ringb_stalled(shmb_ring *r, shmb_ring_stall *st);
int shmb__ringb_abort(shmb_ring *r, const shmb_ring_stall *st);

#endif /* SHMB_COMMON_RING_LAYOUT_H */
