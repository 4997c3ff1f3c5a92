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
/* Queue: how many times each (sender, seq) was received. */
static _Atomic unsigned char *seen;

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

static void make_ring(enum shmb_ring_kind kind, uint32_t slots) {
  shmb_ring_size(slots, SLOT_SIZE, &region_len);
  region = aligned_alloc(64, region_len);
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
  uint32_t last[MAX_SENDERS]; /* next expected-at-least seq per sender */
};

/* Sends one message, retrying while the ring says to wait. */
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
    if (rc != SHMB_EAGAIN) {
      FAIL("sender %u: %s", w->id, shmb_err_name(rc));
      return -1;
    }
    if (atomic_load(&failures))
      return -1;
    sched_yield();
  }
}

static void *sender(void *arg) {
  struct worker *w = arg;
  shmb_ring r;
  attach(&r, 0, 100 + w->id);
  while (!atomic_load_explicit(&stop_sending, memory_order_relaxed) &&
         w->count < MAX_PER_SENDER) {
    if (send_one(&r, w, (uint32_t)w->count) != 0)
      break;
    w->count++;
    atomic_fetch_add(&sent_total, 1);
    if (w->pace && w->count % 8 == 0)
      sched_yield();
  }
  atomic_fetch_add(&senders_done, 1);
  return NULL;
}

/* One delivered message: whole, of a known sender, in order per sender. */
static void account(struct worker *w, const void *p, size_t len, int queue) {
  struct msg m;
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
      atomic_fetch_add(&seen[(size_t)m.sender * MAX_PER_SENDER + m.seq], 1))
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
    sched_yield();
  }
  w->lost = shmb_ring_lost(r);
  return NULL;
}

static void run(struct worker *tx, unsigned ntx, struct worker *rx,
                unsigned nrx) {
  atomic_store(&stop_sending, 0);
  atomic_store(&senders_done, 0);
  atomic_store(&sent_total, 0);
  atomic_store(&received_total, 0);
  for (unsigned i = 0; i < nrx; i++) {
    attach(&rx[i].ring, 0, 200 + i);
    pthread_create(&rx[i].thread, NULL, receiver, &rx[i]);
  }
  for (unsigned i = 0; i < ntx; i++)
    pthread_create(&tx[i].thread, NULL, sender, &tx[i]);
  for (double end = now() + seconds; now() < end;) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  atomic_store(&stop_sending, 1);
  for (unsigned i = 0; i < ntx; i++)
    pthread_join(tx[i].thread, NULL);
  for (unsigned i = 0; i < nrx; i++)
    pthread_join(rx[i].thread, NULL);
}

static void queue_scenario(void) {
  struct worker tx[4] = {{0}}, rx[3] = {{0}};
  uint64_t sent = 0, got = 0, missing = 0;
  seen = calloc((size_t)4 * MAX_PER_SENDER, 1);
  make_ring(SHMB_RING_QUEUE, 8);
  for (unsigned i = 0; i < 4; i++)
    tx[i] = (struct worker){
        .id = i, .nsenders = 4, .queue = 1, .zero_copy = i & 1};
  for (unsigned i = 0; i < 3; i++)
    rx[i] = (struct worker){
        .id = i, .nsenders = 4, .queue = 1, .zero_copy = i == 1};
  run(tx, 4, rx, 3);
  for (unsigned i = 0; i < 4; i++) {
    sent += tx[i].count;
    for (uint64_t s = 0; s < tx[i].count; s++)
      missing += seen[(size_t)i * MAX_PER_SENDER + s] != 1;
  }
  for (unsigned i = 0; i < 3; i++)
    got += rx[i].count;
  if (got != sent || missing)
    FAIL("queue: %llu sent, %llu received, %llu not received exactly once",
         (unsigned long long)sent, (unsigned long long)got,
         (unsigned long long)missing);
  printf("queue 4x3: %llu messages, each received once, none torn "
         "(receivers got %llu/%llu/%llu)\n",
         (unsigned long long)sent, (unsigned long long)rx[0].count,
         (unsigned long long)rx[1].count, (unsigned long long)rx[2].count);
  free(seen);
  free(region);
}

static void broadcast_scenario(void) {
  struct worker tx[2] = {{0}}, rx[3] = {{0}};
  uint64_t positions;
  make_ring(SHMB_RING_BROADCAST, 4);
  /* Copying calls only: a broadcast slot read in place while a sender
   * rewrites it is a race by design (release reports it), which
   * ThreadSanitizer would rightly flag. */
  for (unsigned i = 0; i < 2; i++)
    tx[i] = (struct worker){.id = i, .nsenders = 2, .pace = 1};
  for (unsigned i = 0; i < 3; i++)
    rx[i] = (struct worker){.id = i, .nsenders = 2, .slow = i == 2};
  run(tx, 2, rx, 3);
  positions = tx[0].count + tx[1].count;
  for (unsigned i = 0; i < 3; i++) {
    if (rx[i].count + rx[i].lost != positions)
      FAIL("broadcast receiver %u: %llu delivered + %llu lost != %llu sent",
           i, (unsigned long long)rx[i].count, (unsigned long long)rx[i].lost,
           (unsigned long long)positions);
    printf("broadcast 2x3 receiver %u: %llu delivered + %llu lost == %llu "
           "sent\n",
           i, (unsigned long long)rx[i].count, (unsigned long long)rx[i].lost,
           (unsigned long long)positions);
  }
  free(region);
}

int main(int argc, char **argv) {
  if (argc > 1)
    seconds = atof(argv[1]);
  if (seconds <= 0 || seconds > 600) {
    fprintf(stderr, "usage: %s [seconds per scenario]\n", argv[0]);
    return 2;
  }
  queue_scenario();
  broadcast_scenario();
  if (atomic_load(&failures)) {
    fprintf(stderr, "stress_ring: %d failures\n", atomic_load(&failures));
    return 1;
  }
  printf("stress_ring: ok\n");
  return 0;
}
