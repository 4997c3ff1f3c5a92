/*
 * Channels: the ring of common/ring.h bound to a section the service
 * formatted, and to that section's doorbell for sleeping.
 *
 * Every ring call is non-blocking; waiting is done here, the way
 * docs/channels.md ("Waiting") lays out: read the ring's own counter
 * (data_seq for a receiver, space_seq for a sender), try, retry a while in
 * a spin, then sleep on the doorbell until that counter moves. Whoever
 * changes what a peer waits for wakes the doorbell's armed waiters after
 * the change (a sender after a commit, a queue receiver after it frees a
 * slot), and the counter is read before the attempt, so a change between
 * the attempt and the sleep cannot be missed (the waiter arms, fences and
 * reads the counter; the waker moved it, fences and reads the armed
 * words). The doorbell's own counter is not bumped: it would be one more
 * cache line that every send and every receive writes, which made a
 * spinning queue's one-way latency 1.9x its floor (docs/performance.md).
 * A broadcast receiver changes nothing anyone waits for, so it never
 * wakes anyone, and it needs only read access.
 *
 * A peer that dies holding a slot holds everyone behind it up. A waiter
 * that has made no progress for STALL_CHECK_MS asks the ring whether a
 * party is stalled, and when the same stall is still there STALL_MS later
 * it cuts that slot out (shmb_ring_abort_stall) and rings, so the others go
 * on. It cannot tell dead from slow: one second is far beyond any honest
 * copy of a slot.
 */
#define _CRT_RAND_S /* rand_s: the broadcast sender token */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "ring.h"
#include "section.h"
#include "transport.h"

/* Attempts in the spin before sleeping on the doorbell: a message that
 * comes within a few microseconds costs no system call. */
#define SPIN_TRIES 1000
/* How often a waiter that is not getting anywhere looks for a stall, and
 * how long the same stall must last before it is cut out. */
#define STALL_CHECK_MS 250u
#define STALL_MS 1000u

struct shmb_channel {
  shmb_section *sec; /* the ring's view, and the doorbell */
  shmb_ring ring;    /* one attachment: this thread's */
  unsigned role;     /* SHMB_CHANNEL_* */
  unsigned kind;     /* SHMB_KIND_BROADCAST or SHMB_KIND_QUEUE */
  int closed;        /* a ring after our own change found the doorbell
                        closed (ring_bell) */
};

/* A stall seen by this wait, to be cut out once it lasted STALL_MS. */
typedef struct stall_watch {
  int seen;
  shmb_ring_stall st;
  ULONGLONG since, next_check;
} stall_watch;

#define channel_fail(ch, rc, ...)                                              \
  shmb__fail((ch)->sec->message, sizeof((ch)->sec->message), (rc), __VA_ARGS__)

static enum shmb_ring_kind ring_kind(unsigned kind) {
  return kind & SHMB_KIND_QUEUE ? SHMB_RING_QUEUE : SHMB_RING_BROADCAST;
}

/* The rights role needs on a ring of kind: senders write; a queue's
 * receivers claim and free slots, so they write too. */
static unsigned role_access(unsigned role, unsigned kind) {
  if ((role & SHMB_CHANNEL_SEND) ||
      ((role & SHMB_CHANNEL_RECEIVE) && (kind & SHMB_KIND_QUEUE)))
    return SHMB_ACCESS_READ_WRITE;
  return SHMB_ACCESS_READ;
}

/* Different attachments that may send at once need different tokens in
 * the broadcast sender lock: 32 random bits, never 0. */
static uint32_t fresh_token(void) {
  unsigned int v = 0;
  if (rand_s(&v) != 0 || v == 0)
    v = (unsigned)GetCurrentProcessId() * 2654435761u ^ GetTickCount();
  return v ? v : 1;
}

int shmb_channel_open(shmb_client *client, const char *name, unsigned int role,
                      shmb_channel **out) {
  shmb_channel *ch;
  shmb_section *sec;
  unsigned kind = 0, access;
  int rc;

  if (!out)
    return SHMB_EINVAL;
  *out = NULL;
  if (!client || !name || role == 0 ||
      (role & ~(SHMB_CHANNEL_SEND | SHMB_CHANNEL_RECEIVE)) != 0)
    return SHMB_EINVAL;
  /* Guess the rights from the role (a queue receiver learns that it needs
   * write from the first answer, and asks again). */
  access = role_access(role, 0);
  if ((rc = shmb__open_kind(client, name, access, &sec, &kind)) != 0)
    return rc;
  if (role_access(role, kind) != access) {
    shmb_close(sec);
    access = role_access(role, kind);
    if ((rc = shmb__open_kind(client, name, access, &sec, &kind)) != 0)
      return rc;
  }
  if (!(kind & (SHMB_KIND_BROADCAST | SHMB_KIND_QUEUE))) {
    shmb_close(sec);
    return shmb__fail(client->message, sizeof(client->message),
                      SHMB_ENOTCHANNEL, "'%s' is a section, not a channel: "
                      "map it with shmb_open, or declare it as [channel %s] "
                      "in the service's config", name, name);
  }
  if (!(ch = calloc(1, sizeof(*ch)))) {
    shmb_close(sec);
    return SHMB_ENOMEM;
  }
  ch->sec = sec;
  ch->role = role;
  ch->kind = kind & (SHMB_KIND_BROADCAST | SHMB_KIND_QUEUE);
  /* The header is checked against the view before anything in it is used;
   * the geometry is kept privately from here on (ring.h). */
  rc = shmb_ring_attach(&ch->ring, sec->view, (size_t)sec->size,
                        ring_kind(ch->kind), fresh_token());
  if (rc != 0) {
    shmb__fail(client->message, sizeof(client->message), rc, "channel %s: "
               "its ring header is not one the service wrote (bad magic, "
               "version, kind or geometry for a view of %llu bytes): a "
               "peer with write access overwrote it", name,
               (unsigned long long)sec->size);
    shmb_channel_close(ch);
    return rc;
  }
  /* A party that wakes others (a sender, a queue receiver) attaches the
   * doorbell now: its first wake would otherwise connect to the service
   * on the path of a message, and wait for it there if it had gone. */
  if ((access & SHMB_ACCESS_WRITE) && (rc = shmb__section_wake(sec)) != 0) {
    shmb__fail(client->message, sizeof(client->message), rc, "channel %s: "
               "cannot attach its doorbell: %s", name, sec->message);
    shmb_channel_close(ch);
    return rc;
  }
  *out = ch;
  return 0;
}

int shmb_channel_get_info(const shmb_channel *ch, shmb_channel_info *info) {
  if (!ch || !info)
    return SHMB_EINVAL;
  info->kind = ch->kind;
  info->slots = ch->ring.slots;
  info->slot_size = ch->ring.slot_size;
  info->role = ch->role;
  return 0;
}

/* The closed doorbell, as the caller hears of it. */
static int closed_fail(shmb_channel *ch) {
  return channel_fail(ch, SHMB_EBELLCLOSED, "channel %s: the service closed "
                      "it (a reload removed or rotated it, or the service "
                      "stopped): open it again", ch->sec->name);
}

/* Wakes whoever waits for what we just changed. Called only after the
 * change was made (a message committed, or taken out of the queue), so it
 * never fails the call: a receive that returned SHMB_EBELLCLOSED here used
 * to drop the message it had already taken from the ring (the caller
 * treats an error as "no message", and the slot was freed), and a send
 * that returned it had in fact committed its message, so a caller that
 * sent it again on the reopened channel made a duplicate for anyone still
 * draining the old ring. A closed doorbell is remembered instead: the
 * next send refuses before it writes anything, and a receive returns
 * SHMB_EBELLCLOSED once the old ring has nothing left for it.
 * SHMB_ENOENT counts as closed too: a doorbell attached after a reload
 * removed the channel (the DOORBELL request names the channel) means the
 * ring this attachment maps is gone all the same. Without it a sender that
 * had not rung before the removal sent into the dead ring for as long as
 * it had room, and a broadcast sender, which always has room, for ever;
 * since senders attach at open, the case is now an open racing the
 * removal. */
static void ring_bell(shmb_channel *ch) {
  int rc = shmb__section_wake(ch->sec);
  if (rc == SHMB_EBELLCLOSED || rc == SHMB_ENOENT)
    ch->closed = 1;
}

/* Cuts a stalled party out once the same stall lasted STALL_MS (only
 * parties that may write the ring can: a broadcast receiver is never held
 * up by one anyway). */
static int watch_stall(shmb_channel *ch, stall_watch *w, ULONGLONG now) {
  shmb_ring_stall st;
  int rc;

  if (now < w->next_check)
    return 0;
  w->next_check = now + STALL_CHECK_MS;
  if ((rc = shmb_ring_stalled(&ch->ring, &st)) < 0)
    return channel_fail(ch, rc, "channel %s: the ring's counters contradict "
                        "each other: a peer with write access corrupted it",
                        ch->sec->name);
  if (rc == 0) {
    w->seen = 0;
    return 0;
  }
  if (!w->seen || st.pos != w->st.pos || st.word != w->st.word ||
      st.what != w->st.what) {
    w->seen = 1;
    w->st = st;
    w->since = now;
    return 0;
  }
  if (now - w->since < STALL_MS || !(ch->sec->access & SHMB_ACCESS_WRITE))
    return 0;
  w->seen = 0;
  rc = shmb_ring_abort_stall(&ch->ring, &st);
  if (rc == SHMB_EAGAIN) /* it finished meanwhile */
    return 0;
  if (rc != 0)
    return channel_fail(ch, rc, "channel %s: cannot cut out a stalled peer: "
                        "the ring is corrupt", ch->sec->name);
  /* Those asleep behind the stall go on now. */
  ring_bell(ch);
  return 0;
}

typedef int (*attempt_fn)(shmb_channel *ch, void *arg);

/* The ring's counters, as the doorbell's wait reads them (ctx: the ring). */
static uint64_t data_seq(const void *ring) { return shmb_ring_data_seq(ring); }
static uint64_t space_seq(const void *ring) {
  return shmb_ring_space_seq(ring);
}

/* Tries attempt until it is not SHMB_EAGAIN or timeout_ms passed (module
 * comment), sleeping until counter (data_seq for a receiver, space_seq for
 * a sender) moves. The doorbell's first use registers this section as a
 * waiter, so calls with timeout 0 never do. */
static int channel_wait(shmb_channel *ch, attempt_fn attempt, void *arg,
                        uint64_t (*counter)(const void *), const char *what,
                        unsigned timeout_ms) {
  stall_watch watch = {0};
  ULONGLONG start = 0;
  int rc = attempt(ch, arg);

  if (rc != SHMB_EAGAIN)
    return rc;
  if (ch->closed) /* nothing left in a ring nobody will fill again */
    return closed_fail(ch);
  if (timeout_ms == 0)
    return rc;
  for (;;) {
    ULONGLONG now;
    uint64_t seen;
    unsigned left;

    for (int i = 0; i < SPIN_TRIES; i++) {
      YieldProcessor();
      if ((rc = attempt(ch, arg)) != SHMB_EAGAIN)
        return rc;
    }
    seen = counter(&ch->ring);
    /* After the counter, before the sleep: the Dekker order. */
    if ((rc = attempt(ch, arg)) != SHMB_EAGAIN)
      return rc;
    now = GetTickCount64();
    if (!start) {
      start = now;
      watch.next_check = now + STALL_CHECK_MS;
    }
    if (timeout_ms != SHMB_WAIT_FOREVER && now - start >= timeout_ms)
      return channel_fail(ch, SHMB_EAGAIN, "channel %s: %s within %u ms",
                          ch->sec->name, what, timeout_ms);
    if ((rc = watch_stall(ch, &watch, now)) != 0)
      return rc;
    left = STALL_CHECK_MS;
    if (timeout_ms != SHMB_WAIT_FOREVER &&
        timeout_ms - (now - start) < left)
      left = (unsigned)(timeout_ms - (now - start));
    rc = shmb__section_wait_for(ch->sec, counter, &ch->ring, &seen, left);
    if (rc != 0 && rc != SHMB_ENOTRUNG)
      return rc;
    if ((rc = attempt(ch, arg)) != SHMB_EAGAIN)
      return rc;
  }
}

/* ---- sending ------------------------------------------------------------ */

typedef struct send_args {
  const void *msg;
  size_t len;
} send_args;

static int try_send(shmb_channel *ch, void *arg) {
  send_args *a = arg;
  return shmb_ring_send(&ch->ring, a->msg, a->len);
}

static int can_send(shmb_channel *ch) {
  if (!ch)
    return SHMB_EINVAL;
  if (!(ch->role & SHMB_CHANNEL_SEND))
    return channel_fail(ch, SHMB_EINVAL, "channel %s was opened without "
                        "SHMB_CHANNEL_SEND", ch->sec->name);
  if (ch->closed)
    return closed_fail(ch);
  return 0;
}

int shmb_channel_send(shmb_channel *ch, const void *msg, size_t len,
                      unsigned int timeout_ms) {
  send_args a = {msg, len};
  int rc;
  if ((rc = can_send(ch)) != 0)
    return rc;
  if (!msg && len)
    return SHMB_EINVAL;
  if (len > ch->ring.slot_size)
    return channel_fail(ch, SHMB_EMSGSIZE, "channel %s: a message of %zu "
                        "bytes is larger than its slot_size of %u",
                        ch->sec->name, len, ch->ring.slot_size);
  if ((rc = channel_wait(ch, try_send, &a, space_seq,
                         "no room for a message", timeout_ms)) != 0)
    return rc;
  ring_bell(ch);
  return 0;
}

typedef struct reserve_args {
  void **payload;
  size_t *capacity;
} reserve_args;

static int try_reserve(shmb_channel *ch, void *arg) {
  reserve_args *a = arg;
  return shmb_ring_reserve(&ch->ring, a->payload, a->capacity);
}

int shmb_channel_reserve(shmb_channel *ch, void **payload, size_t *capacity,
                         unsigned int timeout_ms) {
  reserve_args a = {payload, capacity};
  int rc;
  if ((rc = can_send(ch)) != 0)
    return rc;
  if (!payload || !capacity)
    return SHMB_EINVAL;
  return channel_wait(ch, try_reserve, &a, space_seq,
                      "no room for a message", timeout_ms);
}

int shmb_channel_commit(shmb_channel *ch, size_t len) {
  int rc;
  if ((rc = can_send(ch)) != 0)
    return rc;
  if ((rc = shmb_ring_commit(&ch->ring, len)) != 0)
    return rc;
  ring_bell(ch);
  return 0;
}

/* ---- receiving ---------------------------------------------------------- */

typedef struct receive_args {
  void *buf;
  size_t cap;
  size_t *len;
  uint64_t *lost;
  const void **payload; /* peek */
} receive_args;

static int try_receive(shmb_channel *ch, void *arg) {
  receive_args *a = arg;
  return shmb_ring_receive(&ch->ring, a->buf, a->cap, a->len, a->lost);
}

static int try_peek(shmb_channel *ch, void *arg) {
  receive_args *a = arg;
  return shmb_ring_peek(&ch->ring, a->payload, a->len, a->lost);
}

static int can_receive(shmb_channel *ch) {
  if (!ch)
    return SHMB_EINVAL;
  if (!(ch->role & SHMB_CHANNEL_RECEIVE))
    return channel_fail(ch, SHMB_EINVAL, "channel %s was opened without "
                        "SHMB_CHANNEL_RECEIVE", ch->sec->name);
  return 0;
}

/* After a queue receiver freed a slot, a sender waiting for room may go. */
static int received(shmb_channel *ch, int rc) {
  if (rc == SHMB_ECORRUPT)
    return channel_fail(ch, rc, "channel %s: a header, index or length in "
                        "the ring is one no honest peer writes: a peer with "
                        "write access corrupted it", ch->sec->name);
  if (rc != 0 || !(ch->kind & SHMB_KIND_QUEUE))
    return rc;
  ring_bell(ch);
  return 0;
}

int shmb_channel_receive(shmb_channel *ch, void *buf, size_t cap, size_t *len,
                         uint64_t *lost, unsigned int timeout_ms) {
  /* The ring tells every loss since the previous message with the next
   * one, skips made by attempts that found nothing included (ring.h). */
  receive_args a = {buf, cap, len, lost, NULL};
  int rc;
  if ((rc = can_receive(ch)) != 0)
    return rc;
  if (!buf || !len)
    return SHMB_EINVAL;
  if (cap < ch->ring.slot_size)
    return channel_fail(ch, SHMB_EINVAL, "channel %s: a receive buffer of "
                        "%zu bytes is smaller than its slot_size of %u (a "
                        "message is never truncated)", ch->sec->name, cap,
                        ch->ring.slot_size);
  return received(ch, channel_wait(ch, try_receive, &a, data_seq,
                                   "no message came", timeout_ms));
}

int shmb_channel_peek(shmb_channel *ch, const void **payload, size_t *len,
                      uint64_t *lost, unsigned int timeout_ms) {
  receive_args a = {NULL, 0, len, lost, payload};
  int rc;
  if ((rc = can_receive(ch)) != 0)
    return rc;
  if (!payload || !len)
    return SHMB_EINVAL;
  rc = channel_wait(ch, try_peek, &a, data_seq, "no message came", timeout_ms);
  return rc == SHMB_ECORRUPT ? received(ch, rc) : rc;
}

int shmb_channel_release(shmb_channel *ch) {
  int rc;
  if ((rc = can_receive(ch)) != 0)
    return rc;
  return received(ch, shmb_ring_release(&ch->ring));
}

uint64_t shmb_channel_lost(const shmb_channel *ch) {
  return ch ? shmb_ring_lost(&ch->ring) : 0;
}

const char *shmb_channel_message(const shmb_channel *ch) {
  return ch ? ch->sec->message : "";
}

void shmb_channel_close(shmb_channel *ch) {
  if (!ch)
    return;
  shmb_close(ch->sec);
  free(ch);
}
