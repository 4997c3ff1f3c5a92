/*
 * Channel rings: length-delimited messages in a shared byte region.
 *
 * The service formats a region (shmb_ring_init) inside a section it owns;
 * every client attaches to its own mapping (shmb_ring_attach), which checks
 * the header against the size of the view before trusting any of it. All
 * operations are non-blocking: SHMB_EAGAIN means "nothing can happen now":
 * the caller reads the change counter, retries once, and sleeps on the
 * doorbell until the counter moves (docs/channels.md). Waiting, timeouts and
 * the doorbell itself live above common/.
 *
 * Two kinds:
 *   SHMB_RING_BROADCAST  any number of senders, serialised by a lock word in
 *                        the ring (one message at a time), and any number of
 *                        receivers that only read the region; each receiver
 *                        keeps its position in its shmb_ring. A slow receiver
 *                        never holds a sender up: it is told how many
 *                        messages it lost and goes on with the oldest left.
 *   SHMB_RING_QUEUE      many senders and many receivers (MPMC, per-slot
 *                        sequence numbers); each message goes to exactly one
 *                        receiver, in order of claim. Receivers write the
 *                        region (they claim and free slots).
 *
 * Every value read from the region is validated: a corrupted or hostile
 * ring gives SHMB_ECORRUPT, never a read or write outside [base, base+size)
 * or an unbounded loop. A peer that dies while it holds a slot is dealt with
 * by shmb_ring_stalled / shmb_ring_abort_stall (docs/channels.md).
 *
 * A shmb_ring is private to one thread: two threads of a process that use
 * the same channel attach twice.
 */
#ifndef SHMB_COMMON_RING_H
#define SHMB_COMMON_RING_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_errno.h"

enum shmb_ring_kind { SHMB_RING_BROADCAST = 1, SHMB_RING_QUEUE = 2 };

/* Limits of the layout, checked by init and attach. */
#define SHMB_RING_MIN_SLOTS 2u
#define SHMB_RING_MAX_SLOTS (1u << 20)
#define SHMB_RING_MAX_SLOT_SIZE (1u << 30)
/* The region's base must be aligned to this (a mapped view always is). */
#define SHMB_RING_ALIGN 64u

/* One attachment to a ring. The fields are private: everything that was
 * validated at attach is cached here and never read from the region again,
 * so that a peer cannot change the geometry under us. */
typedef struct shmb_ring {
  unsigned char *base;
  size_t size;      /* bytes the ring occupies (<= the view) */
  size_t stride;    /* bytes per slot, header included */
  uint32_t slots;   /* power of two */
  uint32_t mask;    /* slots - 1 */
  uint32_t slot_size; /* largest message */
  uint32_t kind;
  uint32_t token;   /* non-zero id of this attachment, for the sender lock */
  unsigned held;    /* 0, or what reserve/peek left open (ring.c) */
  uint64_t held_pos;   /* position of that slot */
  uint64_t held_word;  /* the slot's sequence or stamp when it was taken */
  uint64_t lock_word;  /* broadcast: our value of the sender lock */
  uint64_t rpos;       /* broadcast receiver: next position to read */
  uint64_t lost;       /* broadcast receiver: messages lost since attach */
  uint64_t lost_told;  /* lost when the caller last got a message */
} shmb_ring;

/* What shmb_ring_stalled saw; handed back to shmb_ring_abort_stall. */
typedef struct shmb_ring_stall {
  uint64_t pos;   /* ring position the stall is at */
  uint64_t word;  /* slot sequence (queue) or lock word (broadcast) */
  uint32_t what;  /* internal: which party holds the ring up */
} shmb_ring_stall;

/* Bytes a ring of this geometry needs. SHMB_EINVAL for slots not a power of
 * two in [SHMB_RING_MIN_SLOTS, SHMB_RING_MAX_SLOTS] or slot_size not a
 * multiple of 8 in [8, SHMB_RING_MAX_SLOT_SIZE]. */
int shmb_ring_size(uint32_t slots, uint32_t slot_size, size_t *size);

/* Service side: formats [base, base+size) as an empty ring. base must be
 * SHMB_RING_ALIGN-aligned and size at least shmb_ring_size(); nobody may be
 * attached while it runs. SHMB_EINVAL on a bad argument or geometry. */
int shmb_ring_init(void *base, size_t size, enum shmb_ring_kind kind,
                   uint32_t slots, uint32_t slot_size);

/* Client side: checks the ring header in a view of view_size bytes (magic,
 * version, kind == expect_kind unless 0, geometry, the ring fits the view)
 * and fills r. token identifies this attachment in the broadcast sender
 * lock (0 is replaced by 1): attachments that may send at the same time
 * must use different tokens (the SDK uses its connection id). A broadcast
 * receiver starts at the newest position: it sees messages sent from now
 * on. SHMB_EINVAL for bad arguments, SHMB_ECORRUPT for a header that
 * fails a check. Nothing is allocated; r needs no cleanup. */
int shmb_ring_attach(shmb_ring *r, void *base, size_t view_size,
                     uint32_t expect_kind, uint32_t token);

/* Copies one message of len bytes into the ring. 0 when it is committed;
 * SHMB_EAGAIN when the queue is full or another broadcast sender holds the
 * lock; SHMB_EMSGSIZE when len > slot_size; SHMB_ESTALE when a peer aborted
 * this message because we stalled (it was not delivered); SHMB_ECORRUPT. */
int shmb_ring_send(shmb_ring *r, const void *msg, size_t len);

/* Zero-copy send: reserve a slot and get its payload (capacity slot_size),
 * write the message in place, then commit it with its length (or commit
 * len 0 to send an empty message: a reservation cannot be withdrawn, since
 * positions are handed out in order). Errors as shmb_ring_send; commit gives
 * SHMB_EINVAL without an open reservation and SHMB_EMSGSIZE for len >
 * slot_size (the reservation stays open). */
int shmb_ring_reserve(shmb_ring *r, void **payload, size_t *capacity);
int shmb_ring_commit(shmb_ring *r, size_t len);

/* Copies the next message into buf (cap must be at least slot_size, so that
 * no message is ever truncated: SHMB_EINVAL otherwise) and stores its length
 * in *len. *lost (may be NULL) is set to the messages this receiver lost
 * since the previous message it got (broadcast only: always 0 for a
 * queue), including positions skipped by earlier calls that then returned
 * SHMB_EAGAIN and a look whose release said SHMB_ESTALE; 0 when the call
 * returns no message. So the counts of all messages add up to
 * shmb_ring_lost once the next message is in. 0 on
 * success; SHMB_EAGAIN when there is nothing to read (or the next message is
 * still being written); SHMB_ECORRUPT. */
int shmb_ring_receive(shmb_ring *r, void *buf, size_t cap, size_t *len,
                      uint64_t *lost);

/* Zero-copy receive: peek gives the next message in place (errors as
 * receive), release ends the look. The bytes are live shared memory: a
 * hostile sender may change them while you read, so copy what must stay
 * stable. Broadcast: release returns SHMB_ESTALE when the sender
 * overwrote the slot during the look (what was read may be torn; it is
 * counted as lost). Queue: the slot is this receiver's until release; release
 * returns 0 (SHMB_ESTALE is never needed: an aborted slot is not rewritten).
 * release without a peek: SHMB_EINVAL. */
int shmb_ring_peek(shmb_ring *r, const void **payload, size_t *len,
                   uint64_t *lost);
int shmb_ring_release(shmb_ring *r);

/* Change counters for a waiter (docs/channels.md, "Doorbell"): read the
 * counter, try the operation, and on SHMB_EAGAIN sleep until the counter
 * differs from what was read. data_seq moves whenever a message may have
 * become readable (commits, aborts); space_seq whenever a sender that got
 * SHMB_EAGAIN may succeed (queue: a slot freed; broadcast: the sender lock
 * was released). Both only ever grow. */
uint64_t shmb_ring_data_seq(const shmb_ring *r);
uint64_t shmb_ring_space_seq(const shmb_ring *r);

/* Total messages this broadcast receiver has lost since attach. */
uint64_t shmb_ring_lost(const shmb_ring *r);

/* Dead or frozen peers. shmb_ring_stalled returns 1 and fills *st when the
 * ring is held up by another party that has taken a slot and not finished
 * (queue: a sender claimed the next position to read but did not commit, or
 * a receiver took the slot the next send needs and did not release it;
 * broadcast: the sender lock is held), else 0. It cannot tell dead from
 * slow: the caller decides. When a second call after the caller's bound
 * (say one second) reports the same stall, shmb_ring_abort_stall takes the
 * slot away: it is skipped by everyone from then on (one slot of capacity
 * until the service formats the ring again), the late party gets
 * SHMB_ESTALE when it finishes a send, and a late queue receiver still has
 * its message. Returns 0 when aborted, SHMB_EAGAIN when the state moved on
 * (nothing was stuck), SHMB_ECORRUPT. shmb_ring_stalled also checks the
 * ring's counters, which the receive path skips while the next slot looks
 * idle: SHMB_ECORRUPT when they contradict each other. */
int shmb_ring_stalled(shmb_ring *r, shmb_ring_stall *st);
int shmb_ring_abort_stall(shmb_ring *r, const shmb_ring_stall *st);

/* Slots taken out of use by aborts (a scan of the slot words): what the
 * service logs, and its cue to format the ring again once it is idle. */
uint32_t shmb_ring_aborted(const shmb_ring *r);

#endif /* SHMB_COMMON_RING_H */
