/*
 * Queue rings: many senders, many receivers, each message to one receiver.
 *
 * Dmitry Vyukov's bounded MPMC queue, as described in his 2010 write-up:
 * every slot carries a sequence number that says which position it is ready
 * for, so a sender or receiver claims a position with one CAS on tail or
 * head and then owns the slot alone until it publishes the next sequence
 * with a release store. Nothing is locked, so a slow party only holds up the
 * positions behind its own slot.
 *
 * Two things are added for shared memory. Every word read from the region
 * is checked against what the algorithm allows (a value no honest peer can
 * produce is SHMB_ECORRUPT), and a slot whose holder stalls can be aborted:
 * its sequence gets the POISON bit, so that the late holder's CAS fails and
 * every later position mapped onto it is skipped. The proof of both is in
 * docs/channels.md.
 */
#include <string.h>

#include "ring.h"
#include "ring_layout.h"

#define RLX memory_order_relaxed
#define ACQ memory_order_acquire
#define REL memory_order_release
#define AR memory_order_acq_rel

/* Claims the next position for a sender. 0 with *posp and *sp set;
 * SHMB_EAGAIN when the queue is full; SHMB_ECORRUPT. */
static int claim_send(shmb_ring *r, uint64_t *posp, shmb__ring_slot **sp) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t pos = atomic_load_explicit(&h->tail, ACQ), t;
  uint32_t skipped = 0;

  for (unsigned i = 0; i < SHMB__RING_TRIES(r); i++) {
    shmb__ring_slot *s = shmb__ring_slot_at(r, pos);
    uint64_t seq = atomic_load_explicit(&s->seq, ACQ);
    int64_t dif = (int64_t)(seq - pos);

    if (seq & SHMB__RING_POISON) {
      /* An aborted slot: this position carries no message. A whole lap of
       * them means no slot is left: the service must format the ring. */
      if (++skipped > r->slots)
        return SHMB_ECORRUPT;
      if (atomic_compare_exchange_strong_explicit(&h->tail, &pos, pos + 1, AR,
                                                  ACQ))
        pos++;
      continue;
    }
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&h->tail, &pos, pos + 1, AR,
                                                ACQ)) {
        *posp = pos;
        *sp = s;
        return 0;
      }
      continue;
    }
    t = atomic_load_explicit(&h->tail, ACQ);
    if (t != pos) { /* another sender got there first */
      pos = t;
      continue;
    }
    /* The slot still holds position pos - slots: claimed (dif == -slots)
     * or committed (dif == 1 - slots) and not yet freed. Anything else
     * under a tail that did not move was written by no honest peer. */
    if (dif < 0 && dif >= -(int64_t)r->slots)
      return SHMB_EAGAIN;
    return SHMB_ECORRUPT;
  }
  return SHMB_EAGAIN;
}

/* Publishes a claimed slot. SHMB_ESTALE when a peer aborted it meanwhile
 * (receivers skip it; the bytes written are never read). */
static int publish(shmb_ring *r, shmb__ring_slot *s, uint64_t pos,
                   size_t len) {
  uint64_t want = pos;
  atomic_store_explicit(&s->len, (uint32_t)len, RLX);
  if (!atomic_compare_exchange_strong_explicit(&s->seq, &want, pos + 1, REL,
                                               RLX))
    return SHMB_ESTALE;
  atomic_fetch_add_explicit(&shmb__ring_hdr_of(r)->commits, 1, REL);
  return 0;
}

int shmb__ringq_send(shmb_ring *r, const void *msg, size_t len) {
  shmb__ring_slot *s;
  uint64_t pos;
  int rc = claim_send(r, &pos, &s);
  if (rc != 0)
    return rc;
  if (len)
    memcpy(shmb__ring_payload(s), msg, len);
  return publish(r, s, pos, len);
}

int shmb__ringq_reserve(shmb_ring *r, void **payload, size_t *capacity) {
  shmb__ring_slot *s;
  uint64_t pos;
  int rc = claim_send(r, &pos, &s);
  if (rc != 0)
    return rc;
  r->held = SHMB__HELD_RESERVE;
  r->held_pos = pos;
  *payload = shmb__ring_payload(s);
  *capacity = r->slot_size;
  return 0;
}

int shmb__ringq_commit(shmb_ring *r, size_t len) {
  r->held = SHMB__HELD_NONE;
  return publish(r, shmb__ring_slot_at(r, r->held_pos), r->held_pos, len);
}

/* Claims the next committed message for a receiver, skipping aborted
 * positions. 0 with *posp and *sp; SHMB_EAGAIN when there is none yet (the
 * queue is empty, or its oldest position is claimed and not committed);
 * SHMB_ECORRUPT. */
static int claim_recv(shmb_ring *r, uint64_t *posp, shmb__ring_slot **sp) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t pos = atomic_load_explicit(&h->head, ACQ), t, seq, h2;

  for (unsigned i = 0; i < SHMB__RING_TRIES(r); i++) {
    shmb__ring_slot *s = shmb__ring_slot_at(r, pos);
    /* The slot first: a committed message needs nothing else, and the
     * senders' line is not pulled over on the fast path. */
    seq = atomic_load_explicit(&s->seq, ACQ);
    if (seq == pos + 1) {
      if (atomic_compare_exchange_weak_explicit(&h->head, &pos, pos + 1, AR,
                                                ACQ)) {
        *posp = pos;
        *sp = s;
        return 0;
      }
      continue;
    }
    /* Free for pos, or claimed and not committed: either way nothing to
     * read, and a receiver spinning here leaves the senders' line alone. */
    if (seq == pos)
      return SHMB_EAGAIN;
    t = atomic_load_explicit(&h->tail, ACQ);
    /* Claimed positions need a freed slot each, and skipped ones an aborted
     * slot between them, so no honest tail is more than two laps ahead
     * (and none behind: pos > t wraps to a huge difference). */
    if (t - pos > 2 * (uint64_t)r->slots)
      goto recheck;
    /* Re-read after the tail: what the tail says was claimed is visible. */
    seq = atomic_load_explicit(&s->seq, ACQ);
    if (seq == pos + 1)
      continue;
    if (t == pos || seq == pos)
      return SHMB_EAGAIN; /* empty, or the sender is still writing */
    if (seq & SHMB__RING_POISON) {
      if (atomic_compare_exchange_strong_explicit(&h->head, &pos, pos + 1, AR,
                                                  ACQ))
        pos++;
      continue;
    }
  recheck:
    /* Our head may be stale (another receiver took pos); if it is not, the
     * words contradict each other. */
    h2 = atomic_load_explicit(&h->head, ACQ);
    if (h2 == pos)
      return SHMB_ECORRUPT;
    pos = h2;
  }
  return SHMB_EAGAIN;
}

/* Gives a received slot back to the senders of the next lap. When a sender
 * aborted it meanwhile (we stalled), the slot stays out of use; the bytes
 * we read were still ours, as an aborted slot is never written again. */
static void free_slot(shmb_ring *r, shmb__ring_slot *s, uint64_t pos) {
  uint64_t want = pos + 1;
  if (atomic_compare_exchange_strong_explicit(&s->seq, &want, pos + r->slots,
                                              REL, RLX))
    atomic_fetch_add_explicit(&shmb__ring_hdr_of(r)->releases, 1, REL);
}

int shmb__ringq_receive(shmb_ring *r, void *buf, size_t *len) {
  shmb__ring_slot *s;
  uint64_t pos;
  uint32_t n;
  int rc = claim_recv(r, &pos, &s);
  if (rc != 0)
    return rc;
  n = atomic_load_explicit(&s->len, RLX);
  if (n > r->slot_size) {
    free_slot(r, s, pos); /* the queue goes on past the bad message */
    return SHMB_ECORRUPT;
  }
  memcpy(buf, shmb__ring_payload(s), n);
  free_slot(r, s, pos);
  *len = n;
  return 0;
}

int shmb__ringq_peek(shmb_ring *r, const void **payload, size_t *len) {
  shmb__ring_slot *s;
  uint64_t pos;
  uint32_t n;
  int rc = claim_recv(r, &pos, &s);
  if (rc != 0)
    return rc;
  n = atomic_load_explicit(&s->len, RLX);
  if (n > r->slot_size) {
    free_slot(r, s, pos);
    return SHMB_ECORRUPT;
  }
  r->held = SHMB__HELD_PEEK;
  r->held_pos = pos;
  *payload = shmb__ring_payload(s);
  *len = n;
  return 0;
}

int shmb__ringq_release(shmb_ring *r) {
  r->held = SHMB__HELD_NONE;
  free_slot(r, shmb__ring_slot_at(r, r->held_pos), r->held_pos);
  return 0;
}

int shmb__ringq_stalled(shmb_ring *r, shmb_ring_stall *st) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  uint64_t head = atomic_load_explicit(&h->head, ACQ);
  uint64_t tail = atomic_load_explicit(&h->tail, ACQ);
  uint64_t seq;

  /* The receive path returns SHMB_EAGAIN on an idle slot without looking
   * at the counters; a waiter that calls this checks them. Unchanged head,
   * so no honest tail can be this far off (see claim_recv). */
  if (tail - head > 2 * (uint64_t)r->slots)
    return atomic_load_explicit(&h->head, ACQ) == head ? SHMB_ECORRUPT : 0;
  /* Receivers wait on the oldest position: claimed, not committed. */
  seq = atomic_load_explicit(&shmb__ring_slot_at(r, head)->seq, ACQ);
  if (tail != head && seq == head) {
    st->what = SHMB__STALL_SENDER;
    st->pos = head;
    st->word = seq;
    return 1;
  }
  /* Senders wait on the slot of position tail - slots: its receiver took
   * it (head moved past) and has not freed it. A slot that is merely not
   * received yet is a full queue, not a stall. */
  seq = atomic_load_explicit(&shmb__ring_slot_at(r, tail)->seq, ACQ);
  if (tail >= r->slots && seq == tail - r->slots + 1 &&
      head > tail - r->slots) {
    st->what = SHMB__STALL_RECEIVER;
    st->pos = tail - r->slots;
    st->word = seq;
    return 1;
  }
  return 0;
}

int shmb__ringq_abort(shmb_ring *r, const shmb_ring_stall *st) {
  shmb__ring_hdr *h = shmb__ring_hdr_of(r);
  shmb__ring_slot *s = shmb__ring_slot_at(r, st->pos);
  uint64_t want = st->word;

  if (st->what == SHMB__STALL_SENDER) {
    if (st->word != st->pos)
      return SHMB_EINVAL;
    /* Only a claimed slot: with tail == pos it is merely free. */
    if (atomic_load_explicit(&h->tail, ACQ) <= st->pos)
      return SHMB_EAGAIN;
  } else if (st->what == SHMB__STALL_RECEIVER) {
    if (st->word != st->pos + 1)
      return SHMB_EINVAL;
    if (atomic_load_explicit(&h->head, ACQ) <= st->pos)
      return SHMB_EAGAIN; /* not taken yet: the queue is just full */
  } else {
    return SHMB_EINVAL;
  }
  if (!atomic_compare_exchange_strong_explicit(
          &s->seq, &want, want | SHMB__RING_POISON, AR, RLX))
    return SHMB_EAGAIN; /* it finished after all */
  /* Waiters on both sides re-check: receivers skip the position, senders
   * skip the slot. */
  atomic_fetch_add_explicit(&h->commits, 1, REL);
  atomic_fetch_add_explicit(&h->releases, 1, REL);
  return 0;
}
