/*
 * Broadcast rings: senders take turns under a lock word, receivers only
 * read.
 *
 * Each slot is a seqlock (Boehm, "Can seqlocks get along with programming
 * language memory models?", 2012): the sender stamps it odd (2p + 1) before
 * it writes position p and even (2p + 2) after; a receiver reads the stamp,
 * copies, and reads the stamp again; equal stamps mean an untorn copy. The
 * payload is moved in 8-byte relaxed atomics, so that the race a seqlock
 * exists to detect is also defined behaviour (and ThreadSanitizer agrees).
 *
 * Why a lock between senders: a seqlock allows one writer per slot. Senders
 * that claimed positions concurrently would, once the ring wraps, write the
 * same slot at once, and a reader cannot detect two writers. The lock costs
 * one uncontended CAS on a line the sender already owns. A holder that
 * stalls is broken by shmb_ring_abort_stall, which poisons the slot it was
 * writing so that the late holder's CAS fails and no one writes that slot
 * again. Receivers write nothing: each keeps its position in its shmb_ring,
 * and a receiver that the senders lapped counts what it missed.
 */
#include <string.h>

#include "ring.h"
#include "ring_layout.h"

#define RLX memory_order_relaxed
#define ACQ memory_order_acquire
#define REL memory_order_release
#define AR memory_order_acq_rel

#define STAMP_BUSY(p) (2 * (p) + 1)
#define STAMP_DONE(p) (2 * (p) + 2)

static void words_out(shmb__ring_slot *s, const unsigned char *src, size_t n) {
  _Atomic uint64_t *d = (_Atomic uint64_t *)(void *)shmb__ring_payload(s);
  uint64_t v;
  size_t i = 0;
  for (; n - i >= 8; i += 8) {
    memcpy(&v, src + i, 8);
    atomic_store_explicit(d++, v, RLX);
  }
  if (i < n) { /* the slot is a multiple of 8: the last word is ours */
    v = 0;
    memcpy(&v, src + i, n - i);
    atomic_store_explicit(d, v, RLX);
  }
}

static void words_in(unsigned char *dst, shmb__ring_slot *s, size_t n) {
  _Atomic uint64_t *p = (_Atomic uint64_t *)(void *)shmb__ring_payload(s);
  uint64_t v;
  size_t i = 0;
  for (; n - i >= 8; i += 8) {
    v = atomic_load_explicit(p++, RLX);
    memcpy(dst + i, &v, 8);
  }
  if (i < n) {
    v = atomic_load_explicit(p, RLX);
    memcpy(dst + i, &v, n - i);
  }
}

/* The lock word: holder's token in the high half (0: free), a generation
 * in the low half that every release bumps (space_seq, and no ABA for
 * shmb_ring_abort_stall). */
static int lock_take(shmb_ring *r) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t w = atomic_load_explicit(&h->lock, RLX), mine;
  if (w >> 32)
    return SHMB_EAGAIN;
  mine = ((uint64_t)r->token << 32) | (uint32_t)w;
  if (!atomic_compare_exchange_strong_explicit(&h->lock, &w, mine, ACQ, RLX))
    return SHMB_EAGAIN;
  r->lock_word = mine;
  return 0;
}

static void lock_give(shmb_ring *r) {
  uint64_t w = r->lock_word;
  /* Fails only when a peer broke the lock: then it is not ours to free. */
  atomic_compare_exchange_strong_explicit(&shmb__ring_hdr_of(r)->lock, &w,
                                          (uint32_t)(w + 1), REL, RLX);
}

/* With the lock held: stamps the slot of the next position busy, skipping
 * aborted slots. SHMB_ESTALE when our lock was broken meanwhile. */
static int claim(shmb_ring *r, uint64_t *posp, shmb__ring_slot **sp) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t pos = atomic_load_explicit(&h->tail, ACQ), st;

  for (uint32_t i = 0; i < r->slots; i++) {
    shmb__ring_slot *s = shmb__ring_slot_at(r, pos);
    st = atomic_load_explicit(&s->seq, ACQ);
    if (st & SHMB__RING_POISON) {
      if (!atomic_compare_exchange_strong_explicit(&h->tail, &pos, pos + 1,
                                                   REL, RLX))
        return SHMB_ESTALE;
      pos++;
      continue;
    }
    /* The stamp is the slot's real claim: a holder whose lock was broken
     * before it got here may still claim this position, and a stamp of
     * this position or later means someone did. One writer per slot, so
     * the second gives up. */
    if (st >= STAMP_BUSY(pos) ||
        !atomic_compare_exchange_strong_explicit(&s->seq, &st,
                                                 STAMP_BUSY(pos), RLX, RLX))
      return SHMB_ESTALE;
    /* Seqlock writer: the odd stamp is ordered before the payload. */
    atomic_thread_fence(memory_order_release);
    *posp = pos;
    *sp = s;
    return 0;
  }
  return SHMB_ECORRUPT; /* every slot was aborted: the service must format */
}

static int publish(shmb_ring *r, shmb__ring_slot *s, uint64_t pos,
                   size_t len) {
  uint64_t want = STAMP_BUSY(pos);
  atomic_store_explicit(&s->len, (uint32_t)len, RLX);
  if (!atomic_compare_exchange_strong_explicit(&s->seq, &want, STAMP_DONE(pos),
                                               REL, RLX)) {
    lock_give(r); /* a no-op when the lock was broken */
    return SHMB_ESTALE; /* aborted: the slot is skipped */
  }
  want = pos;
  /* Fails only when a peer that broke the lock completed it for us. */
  atomic_compare_exchange_strong_explicit(&shmb__ring_hdr_of(r)->tail, &want,
                                          pos + 1, REL, RLX);
  lock_give(r);
  return 0;
}

static int take(shmb_ring *r, uint64_t *pos, shmb__ring_slot **s) {
  int rc = lock_take(r);
  if (rc != 0)
    return rc;
  rc = claim(r, pos, s);
  if (rc != 0)
    lock_give(r); /* a no-op when the lock was broken */
  return rc;
}

int shmb__ringb_send(shmb_ring *r, const void *msg, size_t len) {
  shmb__ring_slot *s;
  uint64_t pos;
  int rc = take(r, &pos, &s);
  if (rc != 0)
    return rc;
  words_out(s, msg, len);
  return publish(r, s, pos, len);
}

int shmb__ringb_reserve(shmb_ring *r, void **payload, size_t *capacity) {
  shmb__ring_slot *s;
  uint64_t pos;
  int rc = take(r, &pos, &s);
  if (rc != 0)
    return rc;
  r->held = SHMB__HELD_RESERVE;
  r->held_pos = pos;
  *payload = shmb__ring_payload(s);
  *capacity = r->slot_size;
  return 0;
}

int shmb__ringb_commit(shmb_ring *r, size_t len) {
  r->held = SHMB__HELD_NONE;
  return publish(r, shmb__ring_slot_at(r, r->held_pos), r->held_pos, len);
}

static void lose(shmb_ring *r, uint64_t n, uint64_t *lost) {
  r->rpos += n;
  r->lost += n;
  *lost += n;
}

/* Moves this receiver to the next committed position, counting the ones it
 * can no longer have. 0 with *sp and *stamp; SHMB_EAGAIN when it is up to
 * date; SHMB_ECORRUPT. *budget bounds the work across calls of one read. */
static int next(shmb_ring *r, shmb__ring_slot **sp, uint64_t *stamp,
                uint64_t *lost, unsigned *budget) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t t, st, q;

  while (*budget > 0) {
    --*budget;
    /* Fast path: the slot already holds our position, committed; the
     * stamp check after the copy is all the proof a message needs. */
    *sp = shmb__ring_slot_at(r, r->rpos);
    st = atomic_load_explicit(&(*sp)->seq, ACQ);
    if (st == STAMP_DONE(r->rpos)) {
      *stamp = st;
      return 0;
    }
    /* Not written yet (the previous lap's stamp) or being written: nothing
     * to read, without pulling the senders' line over. A position can only
     * be passed once it was stamped, or its slot aborted. */
    if (st == STAMP_BUSY(r->rpos) ||
        st == (r->rpos >= r->slots ? STAMP_DONE(r->rpos - r->slots) : 0))
      return SHMB_EAGAIN;
    t = atomic_load_explicit(&h->tail, ACQ);
    /* The fast path may have read a position whose sender has stamped it
     * but not yet moved the tail: we can be one ahead, never more. */
    if (t + 1 < r->rpos)
      return SHMB_ECORRUPT; /* the tail went back */
    if (t <= r->rpos)
      return SHMB_EAGAIN;
    if (t - r->rpos > r->slots) /* lapped: the oldest left is t - slots */
      lose(r, t - r->slots - r->rpos, lost);
    *sp = shmb__ring_slot_at(r, r->rpos);
    st = atomic_load_explicit(&(*sp)->seq, ACQ);
    if (st == STAMP_DONE(r->rpos)) {
      *stamp = st;
      return 0;
    }
    if (st & SHMB__RING_POISON) { /* aborted: never held a message */
      lose(r, 1, lost);
      continue;
    }
    /* Below our position: a slot the tail passed without stamping. */
    if (st < STAMP_DONE(r->rpos))
      return SHMB_ECORRUPT;
    /* A later lap overwrote it; that lap must map onto this slot and be
     * one the tail has reached. */
    q = (st - 1) / 2;
    if (((q - r->rpos) & r->mask) != 0 ||
        q > atomic_load_explicit(&h->tail, ACQ))
      return SHMB_ECORRUPT;
    lose(r, 1, lost);
  }
  return SHMB_EAGAIN;
}

/* After the copy: 1 when the stamp did not move (the copy is whole). */
static int still(shmb__ring_slot *s, uint64_t stamp) {
  atomic_thread_fence(memory_order_acquire);
  return atomic_load_explicit(&s->seq, RLX) == stamp;
}

/* Finds the next message and checks its length. */
static int find(shmb_ring *r, shmb__ring_slot **sp, uint64_t *stamp,
                uint32_t *n, uint64_t *lost, unsigned *budget) {
  int rc;
  for (;;) {
    rc = next(r, sp, stamp, lost, budget);
    if (rc != 0)
      return rc;
    *n = atomic_load_explicit(&(*sp)->len, RLX);
    if (*n <= r->slot_size)
      return 0;
    if (still(*sp, *stamp))
      return SHMB_ECORRUPT; /* a committed length past the slot */
    lose(r, 1, lost);       /* overwritten while we looked */
  }
}

int shmb__ringb_receive(shmb_ring *r, void *buf, size_t *len,
                        uint64_t *lost) {
  unsigned budget = SHMB__RING_TRIES(r);
  shmb__ring_slot *s;
  uint64_t stamp;
  uint32_t n;
  int rc;

  for (;;) {
    rc = find(r, &s, &stamp, &n, lost, &budget);
    if (rc != 0)
      return rc;
    words_in(buf, s, n);
    if (still(s, stamp)) {
      r->rpos++;
      *len = n;
      return 0;
    }
    lose(r, 1, lost); /* overwritten during the copy: torn, dropped */
  }
}

int shmb__ringb_peek(shmb_ring *r, const void **payload, size_t *len,
                     uint64_t *lost) {
  unsigned budget = SHMB__RING_TRIES(r);
  shmb__ring_slot *s;
  uint64_t stamp;
  uint32_t n;
  int rc = find(r, &s, &stamp, &n, lost, &budget);
  if (rc != 0)
    return rc;
  r->held = SHMB__HELD_PEEK;
  r->held_pos = r->rpos;
  r->held_word = stamp;
  *payload = shmb__ring_payload(s);
  *len = n;
  return 0;
}

int shmb__ringb_release(shmb_ring *r) {
  uint64_t ignored = 0;
  r->held = SHMB__HELD_NONE;
  if (still(shmb__ring_slot_at(r, r->held_pos), r->held_word)) {
    r->rpos++;
    return 0;
  }
  lose(r, 1, &ignored);
  return SHMB_ESTALE;
}

int shmb__ringb_stalled(shmb_ring *r, shmb_ring_stall *st) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t w = atomic_load_explicit(&h->lock, ACQ);
  /* The receive path's idle test does not read the tail; a waiter that
   * calls this does (one ahead is the fast path's legitimate lead). */
  if (atomic_load_explicit(&h->tail, ACQ) + 1 < r->rpos)
    return SHMB_ECORRUPT;
  if (!(w >> 32) || (r->held == SHMB__HELD_RESERVE && w == r->lock_word))
    return 0;
  st->what = SHMB__STALL_LOCK;
  st->word = w;
  st->pos = atomic_load_explicit(&h->tail, ACQ);
  return 1;
}

/* Breaks a stalled holder's lock and settles the position it held: a
 * committed stamp only lacks the tail; anything else is poisoned, so that
 * the holder's next CAS fails and its slot is never written again. */
int shmb__ringb_abort(shmb_ring *r, const shmb_ring_stall *st) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t w = st->word, pos, cur;
  shmb__ring_slot *s;
  unsigned i;

  if (st->what != SHMB__STALL_LOCK || !(w >> 32))
    return SHMB_EINVAL;
  if (atomic_load_explicit(&h->tail, ACQ) != st->pos)
    return SHMB_EAGAIN;
  r->lock_word = ((uint64_t)r->token << 32) | (uint32_t)w;
  if (!atomic_compare_exchange_strong_explicit(&h->lock, &w, r->lock_word, AR,
                                               RLX))
    return SHMB_EAGAIN;
  pos = atomic_load_explicit(&h->tail, ACQ);
  s = shmb__ring_slot_at(r, pos);
  cur = atomic_load_explicit(&s->seq, ACQ);
  /* The late holder moves the stamp at most twice (busy, then done). */
  for (i = 0; i < 3; i++) {
    if (cur == STAMP_DONE(pos) || (cur & SHMB__RING_POISON))
      break;
    if (atomic_compare_exchange_strong_explicit(
            &s->seq, &cur, cur | SHMB__RING_POISON, AR, ACQ))
      break;
  }
  if (i < 3)
    atomic_compare_exchange_strong_explicit(&h->tail, &pos, pos + 1, REL, RLX);
  lock_give(r);
  return i < 3 ? 0 : SHMB_ECORRUPT;
}
