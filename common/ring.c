/*
 * Channel rings: formatting, attaching and the calls common to both kinds.
 *
 * The header is the only part of the region read with plain loads, once, at
 * attach: it is copied, checked, and the geometry kept in the caller's
 * private shmb_ring, so that a peer that rewrites the header later cannot
 * move a slot index or a length bound (security rule 11). The algorithms
 * themselves are in ring_queue.c and ring_bcast.c; docs/channels.md gives
 * the memory-ordering argument.
 */
#include "ring.h"

#include <string.h>

#include "ring_layout.h"

static int geometry_ok(uint32_t slots, uint32_t slot_size) {
  return slots >= SHMB_RING_MIN_SLOTS && slots <= SHMB_RING_MAX_SLOTS &&
         (slots & (slots - 1)) == 0 && slot_size >= 8 &&
         slot_size <= SHMB_RING_MAX_SLOT_SIZE && slot_size % 8 == 0;
}

static size_t stride_of(uint32_t slot_size) {
  size_t n = (size_t)SHMB__RING_SLOT_HDR + slot_size;
  return (n + SHMB__RING_LINE - 1) & ~(size_t)(SHMB__RING_LINE - 1);
}

int shmb_ring_size(uint32_t slots, uint32_t slot_size, size_t *size) {
  size_t stride;
  if (!size || !geometry_ok(slots, slot_size))
    return SHMB_EINVAL;
  stride = stride_of(slot_size);
  if (stride > (SIZE_MAX - SHMB__RING_HDR_SIZE) / slots)
    return SHMB_EINVAL;
  *size = SHMB__RING_HDR_SIZE + stride * slots;
  return 0;
}

int shmb_ring_init(void *base, size_t size, enum shmb_ring_kind kind,
                   uint32_t slots, uint32_t slot_size) {
  shmb__ring_hdr *h = base;
  size_t need;
  shmb_ring r;

  if (!base || ((uintptr_t)base % SHMB_RING_ALIGN) != 0 ||
      (kind != SHMB_RING_BROADCAST && kind != SHMB_RING_QUEUE) ||
      shmb_ring_size(slots, slot_size, &need) != 0 || size < need)
    return SHMB_EINVAL;
  memset(base, 0, need);
  h->magic = SHMB__RING_MAGIC;
  h->version = SHMB__RING_VERSION;
  h->kind = (uint16_t)kind;
  h->slots = slots;
  h->slot_size = slot_size;
  h->ring_size = need;
  r.base = base;
  r.mask = slots - 1;
  r.stride = stride_of(slot_size);
  /* A queue slot starts free for the first position that maps onto it. */
  if (kind == SHMB_RING_QUEUE)
    for (uint32_t i = 0; i < slots; i++)
      atomic_init(&shmb__ring_slot_at(&r, i)->seq, i);
  /* Publish the formatted ring before anyone is told its name. */
  atomic_thread_fence(memory_order_release);
  return 0;
}

int shmb_ring_attach(shmb_ring *r, void *base, size_t view_size,
                     uint32_t expect_kind, uint32_t token) {
  shmb__ring_hdr h;
  size_t need;

  if (!r || !base || ((uintptr_t)base % SHMB_RING_ALIGN) != 0)
    return SHMB_EINVAL;
  if (view_size < SHMB__RING_HDR_SIZE)
    return SHMB_ECORRUPT;
  /* One copy of the fixed fields: what is checked is what is used. */
  memcpy(&h, base, offsetof(shmb__ring_hdr, tail));
  if (h.magic != SHMB__RING_MAGIC || h.version != SHMB__RING_VERSION ||
      (h.kind != SHMB_RING_BROADCAST && h.kind != SHMB_RING_QUEUE) ||
      (expect_kind && h.kind != expect_kind) ||
      shmb_ring_size(h.slots, h.slot_size, &need) != 0 ||
      h.ring_size != need || need > view_size)
    return SHMB_ECORRUPT;
  memset(r, 0, sizeof(*r));
  r->base = base;
  r->size = need;
  r->stride = stride_of(h.slot_size);
  r->slots = h.slots;
  r->mask = h.slots - 1;
  r->slot_size = h.slot_size;
  r->kind = h.kind;
  r->token = token ? token : 1;
  r->rpos = atomic_load_explicit(&shmb__ring_hdr_of(r)->tail,
                                 memory_order_acquire);
  return 0;
}

int shmb_ring_send(shmb_ring *r, const void *msg, size_t len) {
  if (!r || (!msg && len) || r->held != SHMB__HELD_NONE)
    return SHMB_EINVAL;
  if (len > r->slot_size)
    return SHMB_EMSGSIZE;
  return r->kind == SHMB_RING_QUEUE ? shmb__ringq_send(r, msg, len)
                                    : shmb__ringb_send(r, msg, len);
}

int shmb_ring_reserve(shmb_ring *r, void **payload, size_t *capacity) {
  if (!r || !payload || !capacity || r->held != SHMB__HELD_NONE)
    return SHMB_EINVAL;
  return r->kind == SHMB_RING_QUEUE ? shmb__ringq_reserve(r, payload, capacity)
                                    : shmb__ringb_reserve(r, payload, capacity);
}

int shmb_ring_commit(shmb_ring *r, size_t len) {
  if (!r || r->held != SHMB__HELD_RESERVE)
    return SHMB_EINVAL;
  if (len > r->slot_size)
    return SHMB_EMSGSIZE;
  return r->kind == SHMB_RING_QUEUE ? shmb__ringq_commit(r, len)
                                    : shmb__ringb_commit(r, len);
}

/* The losses to report with a message that rc says was returned: every
 * one since the previous message, from the running total. A call that
 * skips positions and then finds the next one unwritten returns
 * SHMB_EAGAIN; those skips are told with the next message, not dropped. */
static int tell_lost(shmb_ring *r, int rc, uint64_t *lost) {
  if (lost)
    *lost = 0;
  if (rc != 0)
    return rc;
  if (lost)
    *lost = r->lost - r->lost_told;
  r->lost_told = r->lost;
  return 0;
}

int shmb_ring_receive(shmb_ring *r, void *buf, size_t cap, size_t *len,
                      uint64_t *lost) {
  uint64_t in_call = 0; /* the kind's own count; tell_lost reports */
  if (lost)
    *lost = 0;
  if (!r || !buf || !len || r->held != SHMB__HELD_NONE)
    return SHMB_EINVAL;
  if (cap < r->slot_size)
    return SHMB_EINVAL;
  return tell_lost(r,
                   r->kind == SHMB_RING_QUEUE
                       ? shmb__ringq_receive(r, buf, len)
                       : shmb__ringb_receive(r, buf, len, &in_call),
                   lost);
}

int shmb_ring_peek(shmb_ring *r, const void **payload, size_t *len,
                   uint64_t *lost) {
  uint64_t in_call = 0;
  if (lost)
    *lost = 0;
  if (!r || !payload || !len || r->held != SHMB__HELD_NONE)
    return SHMB_EINVAL;
  return tell_lost(r,
                   r->kind == SHMB_RING_QUEUE
                       ? shmb__ringq_peek(r, payload, len)
                       : shmb__ringb_peek(r, payload, len, &in_call),
                   lost);
}

int shmb_ring_release(shmb_ring *r) {
  if (!r || r->held != SHMB__HELD_PEEK)
    return SHMB_EINVAL;
  return r->kind == SHMB_RING_QUEUE ? shmb__ringq_release(r)
                                    : shmb__ringb_release(r);
}

uint64_t shmb_ring_data_seq(const shmb_ring *r) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  /* Broadcast: the tail moves exactly when a position is committed or
   * skipped. Queue: the tail moves at claim, before the bytes are there,
   * so commits has its own counter. */
  return atomic_load_explicit(r->kind == SHMB_RING_QUEUE ? &h->commits
                                                         : &h->tail,
                              memory_order_acquire);
}

uint64_t shmb_ring_space_seq(const shmb_ring *r) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  if (r->kind == SHMB_RING_QUEUE)
    return atomic_load_explicit(&h->releases, memory_order_acquire);
  /* The lock's generation (low half) grows at every release. */
  return (uint32_t)atomic_load_explicit(&h->lock, memory_order_acquire);
}

uint64_t shmb_ring_lost(const shmb_ring *r) { return r->lost; }

int shmb_ring_stalled(shmb_ring *r, shmb_ring_stall *st) {
  if (!r || !st)
    return SHMB_EINVAL;
  memset(st, 0, sizeof(*st));
  return r->kind == SHMB_RING_QUEUE ? shmb__ringq_stalled(r, st)
                                    : shmb__ringb_stalled(r, st);
}

int shmb_ring_abort_stall(shmb_ring *r, const shmb_ring_stall *st) {
  if (!r || !st || r->held != SHMB__HELD_NONE)
    return SHMB_EINVAL;
  return r->kind == SHMB_RING_QUEUE ? shmb__ringq_abort(r, st)
                                    : shmb__ringb_abort(r, st);
}

uint32_t shmb_ring_aborted(const shmb_ring *r) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < r->slots; i++)
    n += (atomic_load_explicit(&shmb__ring_slot_at(r, i)->seq,
                               memory_order_relaxed) &
          SHMB__RING_POISON) != 0;
  return n;
}
