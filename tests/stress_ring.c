/*
 * Multi-threaded stress test of the channel ring (common/ring*.c), meant to
 * run under ThreadSanitizer (tools/build.sh native-tsan) as well as plain.
 *
 * Every message carries (sender id, sequence, checksum over both and a body
 * whose length and bytes follow from them), so a receiver can tell a whole
 * message from a torn one, and the test can account for every message:
 *
 *   queue      4 senders and 3 receivers on an 8-slot MPMC queue, some
 *              of them using the zero-copy calls. Every message sent is
 *              received exactly once (a per-message counter must end at 1),
 *              none is torn, and each receiver sees each sender's messages
 *              in increasing order.
 *   broadcast  2 senders (taking turns on the lock) and 3 receivers on a
 *              4-slot ring, one receiver slowed down so that it is lapped.
 *              For each receiver, delivered + lost == positions sent,
 *              exactly; nothing delivered is torn or out of order.
 *   dead peers the same two with one more party that takes a slot and
 *              never gives it back (a sender and, for the queue, a
 *              receiver), then one that gives it back too late. Everyone
 *              else watches for stalls (shmb_ring_stalled) and aborts one
 *              that lasts 100 ms, as the SDK will: the channel goes on, a
 *              late sender's message is reported SHMB_ESTALE and never
 *              delivered, every other message is accounted for exactly.
 *
 * Senders run for a fixed time (argv[1] seconds per scenario, default 1),
 * then everything drains; a watchdog fails the run if draining hangs.
 * Exit 0 when every check holds.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "ring.h"

#define SLOT_SIZE 64
#define HDR 16 /* sender, seq, checksum */
#define MAX_SENDERS 4
#define MAX_PER_SENDER (1u << 22)

struct msg {
  uint32_t sender;
  uint32_t seq;
  uint64_t sum;
  unsigned char body[SLOT_SIZE - HDR];
};

static unsigned char *region;
static size_t region_len;
static double seconds = 1.0;
static atomic_int failures;
static atomic_int stop_sending;
static atomic_int senders_done;
static atomic_uint_fast64_t sent_total;
static atomic_uint_fast64_t received_total;
/* Queue: how many times each (sender, seq) was received, and whether its
 * sender was told SHMB_ESTALE (then it must never be received). */
static _Atomic unsigned char *seen;
static _Atomic unsigned char *stale;
/* Dead-peer scenarios: stalls longer than `bound` seconds are aborted. */
static int stalls;
static const double bound = 0.1;
static atomic_int aborts;

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf(stderr, "stress_ring: " __VA_ARGS__);                              \
    fputc('\n', stderr);                                                       \
    atomic_fetch_add(&failures, 1);                                            \
  } while (0)

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  return x;
}

static size_t body_len(uint32_t sender, uint32_t seq) {
  return (mix(((uint64_t)sender << 32) | seq) % (SLOT_SIZE - HDR + 1));
}

static unsigned char body_byte(uint32_t sender, uint32_t seq, size_t i) {
  return (unsigned char)(sender * 31u + seq * 7u + (unsigned)i);
}

static uint64_t checksum(const struct msg *m, size_t blen) {
  uint64_t h = mix(((uint64_t)m->sender << 32) | m->seq) ^ blen;
  for (size_t i = 0; i < blen; i++)
    h = mix(h ^ m->body[i]);
  return h;
}

/* Fills m for (sender, seq); returns its length. */
static size_t make_msg(struct msg *m, uint32_t sender, uint32_t seq) {
  size_t blen = body_len(sender, seq);
  m->sender = sender;
  m->seq = seq;
  for (size_t i = 0; i < blen; i++)
    m->body[i] = body_byte(sender, seq, i);
  m->sum = checksum(m, blen);
  return HDR + blen;
}

/* 0 when m (len bytes) is a whole message of a sender below nsenders. */
static int check_msg(const void *p, size_t len, unsigned nsenders) {
  struct msg m;
  if (len < HDR || len > sizeof(m))
    return -1;
  memcpy(&m, p, len);
  if (m.sender >= nsenders || m.seq >= MAX_PER_SENDER ||
      len != HDR + body_len(m.sender, m.seq) ||
      m.sum != checksum(&m, len - HDR))
    return -1;
  for (size_t i = 0; i < len - HDR; i++)
    if (m.body[i] != body_byte(m.sender, m.seq, i))
      return -1;
  return 0;
}

static unsigned char *block; /* region, 64-aligned inside it */

static void make_ring(enum shmb_ring_kind kind, uint32_t slots) {
  shmb_ring_size(slots, SLOT_SIZE, &region_len);
  block = malloc(region_len + 64); /* portable: mingw has no aligned_alloc */
  region = block ? block + (64 - (uintptr_t)block % 64) : NULL;
  if (!region || shmb_ring_init(region, region_len, kind, slots, SLOT_SIZE)) {
    fprintf(stderr, "stress_ring: cannot make a ring\n");
    exit(2);
  }
}

static void attach(shmb_ring *r, uint32_t kind, uint32_t token) {
  if (shmb_ring_attach(r, region, region_len, kind, token) != 0) {
    fprintf(stderr, "stress_ring: attach failed\n");
    exit(2);
  }
}

/* What a waiting party does about a stall, as the SDK will: the same
 * stall seen for longer than the bound is aborted. */
struct watch {
  int on;
  shmb_ring_stall st;
  double since;
};

static void watch(shmb_ring *r, struct watch *wd) {
  shmb_ring_stall st;
  if (!stalls || shmb_ring_stalled(r, &st) != 1) {
    wd->on = 0;
    return;
  }
  if (!wd->on || st.pos != wd->st.pos || st.word != wd->st.word ||
      st.what != wd->st.what) {
    *wd = (struct watch){1, st, now()};
    return;
  }
  if (now() - wd->since < bound)
    return;
  if (shmb_ring_abort_stall(r, &st) == 0)
    atomic_fetch_add(&aborts, 1);
  wd->on = 0;
}

static void nap(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static size_t msg_index(uint32_t sender, uint32_t seq) {
  return (size_t)sender * MAX_PER_SENDER + seq;
}

struct worker {
  pthread_t thread;
  unsigned id;
  unsigned nsenders;
  int queue;
  int zero_copy;
  int slow;
  int pace; /* senders: yield every 8 messages, so receivers keep up more */
  shmb_ring ring; /* receivers: attached before any sender starts */
  uint64_t count;     /* sent, or delivered */
  uint64_t lost;      /* broadcast receivers */
  uint64_t empty;     /* broadcast receivers: the late sender's messages */
  uint32_t last[MAX_SENDERS]; /* next expected-at-least seq per sender */
  struct watch wd;
  int late_rc; /* the late sender's commit */
};

/* Sends one message, retrying while the ring says to wait: 0 when sent,
 * 1 when a peer aborted it (SHMB_ESTALE), -1 on failure. */
static int send_one(shmb_ring *r, struct worker *w, uint32_t seq) {
  struct msg m;
  size_t len = make_msg(&m, w->id, seq);
  for (;;) {
    int rc;
    if (w->zero_copy) {
      void *p;
      size_t cap;
      rc = shmb_ring_reserve(r, &p, &cap);
      if (rc == 0) {
        memcpy(p, &m, len);
        rc = shmb_ring_commit(r, len);
      }
    } else {
      rc = shmb_ring_send(r, &m, len);
    }
    if (rc == 0)
      return 0;
    if (rc == SHMB_ESTALE && stalls)
      return 1;
    if (rc != SHMB_EAGAIN) {
      FAIL("sender %u: %s", w->id, shmb_err_name(rc));
      return -1;
    }
    if (atomic_load(&failures))
      return -1;
    watch(r, &w->wd);
    sched_yield();
  }
}

static void *sender(void *arg) {
  struct worker *w = arg;
  shmb_ring r;
  attach(&r, 0, 100 + w->id);
  while (!atomic_load_explicit(&stop_sending, memory_order_relaxed) &&
         w->count < MAX_PER_SENDER) {
    int rc = send_one(&r, w, (uint32_t)w->count);
    if (rc < 0)
      break;
    if (rc == 1 && w->queue)
      stale[msg_index(w->id, (uint32_t)w->count)] = 1;
    else if (rc == 0)
      atomic_fetch_add(&sent_total, 1);
    w->count++;
    if (w->pace && w->count % 8 == 0)
      sched_yield();
  }
  atomic_fetch_add(&senders_done, 1);
  return NULL;
}

/* One delivered message: whole, of a known sender, in order per sender. */
static void account(struct worker *w, const void *p, size_t len, int queue) {
  struct msg m;
  if (len == 0 && stalls && !queue) { /* the late broadcast sender's */
    w->empty++;
    w->count++;
    return;
  }
  if (check_msg(p, len, w->nsenders) != 0) {
    FAIL("receiver %u: torn or foreign message (len %zu)", w->id, len);
    return;
  }
  memcpy(&m, p, HDR);
  if (m.seq < w->last[m.sender])
    FAIL("receiver %u: sender %u's %u after %u", w->id, m.sender, m.seq,
         w->last[m.sender] - 1);
  w->last[m.sender] = m.seq + 1;
  if (queue &&
      atomic_fetch_add(&seen[msg_index(m.sender, m.seq)], 1))
    FAIL("receiver %u: sender %u's %u received twice", w->id, m.sender, m.seq);
  w->count++;
}

static int receive_one(shmb_ring *r, struct worker *w, int queue) {
  unsigned char buf[SLOT_SIZE];
  uint64_t lost = 0;
  size_t len;
  int rc;
  if (w->zero_copy) {
    const void *p;
    rc = shmb_ring_peek(r, &p, &len, &lost);
    if (rc == 0) {
      memcpy(buf, p, len <= sizeof(buf) ? len : sizeof(buf));
      rc = shmb_ring_release(r);
      if (rc == SHMB_ESTALE) /* overwritten while we looked: lost */
        return 0;
    }
  } else {
    rc = shmb_ring_receive(r, buf, sizeof(buf), &len, &lost);
  }
  if (rc == 0)
    account(w, buf, len, queue);
  return rc;
}

static void *receiver(void *arg) {
  struct worker *w = arg;
  int queue = w->queue;
  double watchdog = now() + seconds + 60;
  shmb_ring *r = &w->ring;
  for (;;) {
    int done = atomic_load(&senders_done) == (int)w->nsenders;
    int rc = receive_one(r, w, queue);
    if (rc == 0) {
      if (queue)
        atomic_fetch_add(&received_total, 1);
      if (w->slow && w->count % 64 == 0)
        for (int i = 0; i < 20; i++)
          sched_yield();
      continue;
    }
    if (rc != SHMB_EAGAIN) {
      FAIL("receiver %u: %s", w->id, shmb_err_name(rc));
      break;
    }
    /* Queue: done when every message sent has been received by someone.
     * Broadcast: done when this receiver has caught up with the end. */
    if (done && (!queue || atomic_load(&received_total) ==
                               atomic_load(&sent_total)))
      break;
    if (now() > watchdog || atomic_load(&failures)) {
      FAIL("receiver %u: gave up draining", w->id);
      break;
    }
    watch(r, &w->wd);
    sched_yield();
  }
  w->lost = shmb_ring_lost(r);
  return NULL;
}

/* Waits for a reservation (or a peek) on a ring that will free up. */
static int retry(int rc, shmb_ring *r, struct watch *wd, double deadline) {
  if (rc != SHMB_EAGAIN && rc != 0)
    FAIL("staller: %s", shmb_err_name(rc));
  if (rc != SHMB_EAGAIN || now() > deadline || atomic_load(&failures))
    return 0;
  watch(r, wd);
  sched_yield();
  return 1;
}

/* A sender that dies holding a slot, then one that comes back too late. */
static void *stall_sender(void *arg) {
  struct worker *w = arg;
  double deadline = now() + seconds + 30;
  shmb_ring dead, late;
  struct msg m;
  void *p;
  size_t cap, len;
  int rc;

  attach(&dead, 0, 300);
  attach(&late, 0, 301);
  nap(bound);
  while (retry(rc = shmb_ring_reserve(&dead, &p, &cap), &dead, &w->wd,
               deadline))
    ;
  /* A broadcast slot is written in place only by copying calls here: a
   * zero-copy write races with readers by design. */
  len = make_msg(&m, w->id, 0);
  if (rc == 0 && w->queue)
    memcpy(p, &m, len);
  stale[msg_index(w->id, 0)] = 1; /* never committed: never received */
  while (retry(rc = shmb_ring_reserve(&late, &p, &cap), &late, &w->wd,
               deadline))
    ;
  len = make_msg(&m, w->id, 1);
  if (rc == 0 && w->queue)
    memcpy(p, &m, len);
  nap(4 * bound);
  rc = rc == 0 ? shmb_ring_commit(&late, w->queue ? len : 0) : rc;
  if (rc == SHMB_ESTALE)
    stale[msg_index(w->id, 1)] = 1;
  else if (rc == 0)
    atomic_fetch_add(&sent_total, 1);
  else
    FAIL("late sender: %s", shmb_err_name(rc));
  w->late_rc = rc;
  w->count = 2;
  atomic_fetch_add(&senders_done, 1);
  return NULL;
}

/* A queue receiver that dies holding a message, then a late one. */
static void *stall_receiver(void *arg) {
  struct worker *w = arg;
  double deadline = now() + seconds + 30;
  shmb_ring dead, late;
  const void *p;
  size_t len;
  int rc;

  attach(&dead, 0, 400);
  attach(&late, 0, 401);
  nap(bound);
  while (retry(rc = shmb_ring_peek(&dead, &p, &len, NULL), &dead, &w->wd,
               deadline))
    ;
  if (rc == 0) {
    account(w, p, len, 1);
    atomic_fetch_add(&received_total, 1);
  }
  while (retry(rc = shmb_ring_peek(&late, &p, &len, NULL), &late, &w->wd,
               deadline))
    ;
  if (rc == 0) {
    account(w, p, len, 1);
    atomic_fetch_add(&received_total, 1);
    nap(4 * bound);
    if ((rc = shmb_ring_release(&late)) != 0) /* its message was whole */
      FAIL("late receiver: %s", shmb_err_name(rc));
  }
  return NULL;
}

static void run(struct worker *tx, unsigned ntx, struct worker *rx,
                unsigned nrx, struct worker *late_tx, struct worker *late_rx) {
  atomic_store(&stop_sending, 0);
  atomic_store(&senders_done, 0);
  atomic_store(&sent_total, 0);
  atomic_store(&received_total, 0);
  atomic_store(&aborts, 0);
  for (unsigned i = 0; i < nrx; i++) {
    attach(&rx[i].ring, 0, 200 + i);
    pthread_create(&rx[i].thread, NULL, receiver, &rx[i]);
  }
  for (unsigned i = 0; i < ntx; i++)
    pthread_create(&tx[i].thread, NULL, sender, &tx[i]);
  if (late_tx)
    pthread_create(&late_tx->thread, NULL, stall_sender, late_tx);
  if (late_rx)
    pthread_create(&late_rx->thread, NULL, stall_receiver, late_rx);
  nap(seconds);
  atomic_store(&stop_sending, 1);
  for (unsigned i = 0; i < ntx; i++)
    pthread_join(tx[i].thread, NULL);
  if (late_tx)
    pthread_join(late_tx->thread, NULL);
  if (late_rx)
    pthread_join(late_rx->thread, NULL);
  for (unsigned i = 0; i < nrx; i++)
    pthread_join(rx[i].thread, NULL);
}

/* 4 senders (with stalls: 3 and a staller) and 3 receivers (with stalls:
 * 2 and a staller). */
static void queue_scenario(int with_stalls) {
  struct worker tx[4] = {{0}}, rx[3] = {{0}};
  unsigned ntx = with_stalls ? 3 : 4, nrx = with_stalls ? 2 : 3;
  uint64_t sent = 0, got = 0, wrong = 0, dropped = 0;
  stalls = with_stalls;
  seen = calloc((size_t)4 * MAX_PER_SENDER, 1);
  stale = calloc((size_t)4 * MAX_PER_SENDER, 1);
  make_ring(SHMB_RING_QUEUE, with_stalls ? 16 : 8);
  for (unsigned i = 0; i < 4; i++)
    tx[i] = (struct worker){
        .id = i, .nsenders = 4, .queue = 1, .zero_copy = i & 1};
  for (unsigned i = 0; i < 3; i++)
    rx[i] = (struct worker){
        .id = i, .nsenders = 4, .queue = 1, .zero_copy = i == 1};
  run(tx, ntx, rx, nrx, with_stalls ? &tx[3] : NULL,
      with_stalls ? &rx[2] : NULL);
  for (unsigned i = 0; i < 4; i++)
    for (uint64_t q = 0; q < tx[i].count; q++) {
      size_t k = msg_index(i, (uint32_t)q);
      dropped += stale[k];
      sent += !stale[k];
      wrong += seen[k] != !stale[k];
    }
  for (unsigned i = 0; i < 3; i++)
    got += rx[i].count;
  if (got != sent || wrong)
    FAIL("queue: %llu sent, %llu received, %llu not received exactly once",
         (unsigned long long)sent, (unsigned long long)got,
         (unsigned long long)wrong);
  if (with_stalls && atomic_load(&aborts) < 2)
    FAIL("queue: %d stalls aborted, expected the dead sender's and the dead "
         "receiver's", atomic_load(&aborts));
  if (with_stalls)
    printf("queue with dead peers: %llu messages each received once, %llu "
           "abandoned (SHMB_ESTALE) and never received, %d stalls "
           "aborted\n",
           (unsigned long long)sent, (unsigned long long)dropped,
           atomic_load(&aborts));
  else
    printf("queue 4x3: %llu messages, each received once, none torn "
           "(receivers got %llu/%llu/%llu)\n",
           (unsigned long long)sent, (unsigned long long)rx[0].count,
           (unsigned long long)rx[1].count, (unsigned long long)rx[2].count);
  free(seen);
  free(stale);
  free(block);
}

/* 2 senders (with stalls: and a staller) and 3 receivers, one slowed. */
static void broadcast_scenario(int with_stalls) {
  struct worker tx[3] = {{0}}, rx[3] = {{0}};
  uint64_t positions;
  shmb_ring view;
  stalls = with_stalls;
  stale = calloc((size_t)4 * MAX_PER_SENDER, 1);
  make_ring(SHMB_RING_BROADCAST, with_stalls ? 8 : 4);
  /* Copying calls only: a broadcast slot read in place while a sender
   * rewrites it is a race by design (release reports it), which
   * ThreadSanitizer would rightly flag. */
  for (unsigned i = 0; i < 3; i++)
    tx[i] = (struct worker){.id = i, .nsenders = 3, .pace = 1};
  for (unsigned i = 0; i < 3; i++)
    rx[i] = (struct worker){.id = i, .nsenders = with_stalls ? 3 : 2,
                            .slow = i == 2};
  run(tx, 2, rx, 3, with_stalls ? &tx[2] : NULL, NULL);
  attach(&view, 0, 999);
  positions = shmb_ring_data_seq(&view); /* the broadcast tail */
  for (unsigned i = 0; i < 3; i++) {
    if (rx[i].count + rx[i].lost != positions)
      FAIL("broadcast receiver %u: %llu delivered + %llu lost != %llu sent",
           i, (unsigned long long)rx[i].count, (unsigned long long)rx[i].lost,
           (unsigned long long)positions);
    if (with_stalls && tx[2].late_rc == SHMB_ESTALE && rx[i].empty)
      FAIL("broadcast receiver %u: got the abandoned message", i);
    printf("broadcast%s receiver %u: %llu delivered + %llu lost == %llu "
           "positions\n",
           with_stalls ? " with dead peers," : " 2x3", i,
           (unsigned long long)rx[i].count, (unsigned long long)rx[i].lost,
           (unsigned long long)positions);
  }
  if (!with_stalls && positions != tx[0].count + tx[1].count)
    FAIL("broadcast: %llu positions for %llu messages",
         (unsigned long long)positions,
         (unsigned long long)(tx[0].count + tx[1].count));
  if (with_stalls && atomic_load(&aborts) < 1)
    FAIL("broadcast: the dead sender's lock was not broken");
  if (with_stalls)
    printf("broadcast with dead peers: %d stalls aborted, late sender got "
           "%s\n",
           atomic_load(&aborts), shmb_err_name(tx[2].late_rc));
  free(stale);
  free(block);
}

int main(int argc, char **argv) {
  if (argc > 1)
    seconds = atof(argv[1]);
  if (seconds <= 0 || seconds > 600) {
    fprintf(stderr, "usage: %s [seconds per scenario]\n", argv[0]);
    return 2;
  }
  queue_scenario(0);
  broadcast_scenario(0);
  queue_scenario(1);
  broadcast_scenario(1);
  if (atomic_load(&failures)) {
    fprintf(stderr, "stress_ring: %d failures\n", atomic_load(&failures));
    return 1;
  }
  printf("stress_ring: ok\n");
  return 0;
}
