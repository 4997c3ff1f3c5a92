/*
 * Native micro-benchmark of the channel ring (common/ring*.c) between two
 * threads of one process, each pinned to its own CPU, so that the figures
 * show the algorithm's cost against the hardware's floor rather than a
 * kernel's:
 *
 *   one-way latency  a message bounced between two rings by two spinning
 *                    threads (round trip / 2), beside the same bounce of a
 *                    bare counter on its own cache line (the floor: one
 *                    cache-line transfer each way);
 *   throughput       64-byte messages from one sender to one receiver, and
 *                    1 MiB messages (copying, and zero-copy with the bytes
 *                    written in place) beside memcpy of the same size.
 *
 * Prints Markdown rows for docs/channels.md ("Measured"). Usage:
 *   bench_ring [round trips per run]   (default 20000)
 */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"

static long iters = 20000;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set); /* best effort */
}

static void *make_ring(enum shmb_ring_kind kind, uint32_t slots,
                       uint32_t slot_size, size_t *size) {
  void *p;
  shmb_ring_size(slots, slot_size, size);
  p = aligned_alloc(64, (*size + 63) & ~(size_t)63);
  if (!p || shmb_ring_init(p, *size, kind, slots, slot_size) != 0) {
    fprintf(stderr, "bench_ring: cannot make a ring\n");
    exit(1);
  }
  return p;
}

/* --- the floor: a counter bounced between two cache lines */

static struct {
  _Alignas(64) _Atomic long ping;
  _Alignas(64) _Atomic long pong;
} line;

static void *pong_line(void *arg) {
  (void)arg;
  pin(1);
  for (long i = 1; i <= iters; i++) {
    while (atomic_load_explicit(&line.ping, memory_order_acquire) != i)
      ;
    atomic_store_explicit(&line.pong, i, memory_order_release);
  }
  return NULL;
}

static double bench_line(void) {
  pthread_t t;
  double t0;
  atomic_store(&line.ping, 0);
  atomic_store(&line.pong, 0);
  pthread_create(&t, NULL, pong_line, NULL);
  t0 = now();
  for (long i = 1; i <= iters; i++) {
    atomic_store_explicit(&line.ping, i, memory_order_release);
    while (atomic_load_explicit(&line.pong, memory_order_acquire) != i)
      ;
  }
  t0 = now() - t0;
  pthread_join(t, NULL);
  return t0 / (double)iters / 2 * 1e9;
}

/* --- a small message bounced between two rings */

struct bounce {
  void *ab, *ba;
  size_t size;
  shmb_ring in, out; /* the bouncing thread's, attached before it starts */
};

static void recv_spin(shmb_ring *r, void *buf, size_t cap) {
  size_t n;
  while (shmb_ring_receive(r, buf, cap, &n, NULL) != 0)
    ;
}

static void *pong_ring(void *arg) {
  struct bounce *b = arg;
  unsigned char buf[64];
  pin(1);
  for (long i = 0; i < iters; i++) {
    recv_spin(&b->in, buf, sizeof(buf));
    while (shmb_ring_send(&b->out, buf, 16) != 0)
      ;
  }
  return NULL;
}

static double bench_bounce(enum shmb_ring_kind kind) {
  struct bounce b;
  shmb_ring out, in;
  unsigned char buf[64] = {0};
  pthread_t t;
  double t0;
  b.ab = make_ring(kind, 64, 64, &b.size);
  b.ba = make_ring(kind, 64, 64, &b.size);
  /* Attach before the other side can send (a broadcast receiver sees only
   * what is sent after it attached). */
  shmb_ring_attach(&out, b.ab, b.size, 0, 1);
  shmb_ring_attach(&in, b.ba, b.size, 0, 1);
  shmb_ring_attach(&b.in, b.ab, b.size, 0, 2);
  shmb_ring_attach(&b.out, b.ba, b.size, 0, 2);
  pthread_create(&t, NULL, pong_ring, &b);
  t0 = now();
  for (long i = 0; i < iters; i++) {
    memcpy(buf, &i, sizeof(i));
    while (shmb_ring_send(&out, buf, 16) != 0)
      ;
    recv_spin(&in, buf, sizeof(buf));
  }
  t0 = now() - t0;
  pthread_join(t, NULL);
  free(b.ab);
  free(b.ba);
  return t0 / (double)iters / 2 * 1e9;
}

/* --- throughput: one sender, one receiver */

struct stream {
  void *ring;
  size_t size, msg;
  long count;
  int zero_copy;
  unsigned char *src;
};

static void *sink(void *arg) {
  struct stream *s = arg;
  shmb_ring r;
  unsigned char *buf = malloc(s->msg);
  pin(1);
  shmb_ring_attach(&r, s->ring, s->size, 0, 2);
  for (long i = 0; i < s->count; i++) {
    if (s->zero_copy) {
      const void *p;
      size_t n;
      uint64_t x = 0;
      while (shmb_ring_peek(&r, &p, &n, NULL) != 0)
        ;
      for (size_t k = 0; k + 8 <= n; k += 8) { /* the consumer reads it all */
        uint64_t v;
        memcpy(&v, (const unsigned char *)p + k, 8);
        x += v;
      }
      __asm__ volatile("" ::"r"(x));
      shmb_ring_release(&r);
    } else {
      recv_spin(&r, buf, s->msg);
    }
  }
  free(buf);
  return NULL;
}

/* Messages per second over a queue of `slots` slots of `msg` bytes. */
static double bench_stream(size_t msg, uint32_t slots, long count,
                           int zero_copy) {
  struct stream s = {0};
  shmb_ring r;
  pthread_t t;
  double t0;
  s.ring = make_ring(SHMB_RING_QUEUE, slots, (uint32_t)msg, &s.size);
  s.msg = msg;
  s.count = count;
  s.zero_copy = zero_copy;
  s.src = calloc(1, msg);
  shmb_ring_attach(&r, s.ring, s.size, 0, 1);
  pthread_create(&t, NULL, sink, &s);
  t0 = now();
  for (long i = 0; i < count; i++) {
    if (zero_copy) {
      void *p;
      size_t cap;
      while (shmb_ring_reserve(&r, &p, &cap) != 0)
        ;
      memset(p, (int)i, msg); /* the producer writes in place */
      shmb_ring_commit(&r, msg);
    } else {
      while (shmb_ring_send(&r, s.src, msg) != 0)
        ;
    }
  }
  pthread_join(t, NULL);
  t0 = now() - t0;
  free(s.src);
  free(s.ring);
  return (double)count / t0;
}

/* memcpy of n bytes into 4 rotating buffers: the working set of a 4-slot
 * ring, so that neither side is measured against a cache-resident copy. */
static double bench_memcpy(size_t n, long count) {
  unsigned char *a = calloc(1, n), *b = calloc(4, n);
  double t0 = now();
  for (long i = 0; i < count; i++) {
    a[0] = (unsigned char)i;
    memcpy(b + (size_t)(i & 3) * n, a, n);
    __asm__ volatile("" ::"r"(b) : "memory");
  }
  t0 = now() - t0;
  free(a);
  free(b);
  return (double)count / t0;
}

#define BEST(v, expr)                                                          \
  do {                                                                         \
    double x_ = (expr);                                                        \
    if (x_ < v)                                                                \
      v = x_;                                                                  \
  } while (0)
#define MOST(v, expr)                                                          \
  do {                                                                         \
    double x_ = (expr);                                                        \
    if (x_ > v)                                                                \
      v = x_;                                                                  \
  } while (0)

/* The best of many short runs of each, interleaved: on a shared machine
 * the best run is the one least disturbed by others, and interleaving
 * gives the floor and the ring the same chances. */
int main(int argc, char **argv) {
  double floor_ns = 1e9, q_ns = 1e9, b_ns = 1e9, q64 = 0, b1 = 0, z1 = 0,
         m1 = 0;
  if (argc > 1)
    iters = atol(argv[1]);
  if (iters <= 0)
    return 2;
  pin(0);
  for (int run = 0; run < 20; run++) {
    BEST(floor_ns, bench_line());
    BEST(q_ns, bench_bounce(SHMB_RING_QUEUE));
    BEST(b_ns, bench_bounce(SHMB_RING_BROADCAST));
  }
  for (int run = 0; run < 5; run++) {
    MOST(q64, bench_stream(64, 1024, iters * 10, 0));
    MOST(b1, bench_stream(1 << 20, 4, 500, 0));
    MOST(z1, bench_stream(1 << 20, 4, 500, 1));
    MOST(m1, bench_memcpy(1 << 20, 500));
  }

  printf("| measure | figure | floor | ratio |\n|---|---|---|---|\n");
  printf("| one-way latency, queue, 16 B, spinning | %.0f ns | %.0f ns "
         "(cache-line ping-pong) | %.2fx |\n",
         q_ns, floor_ns, q_ns / floor_ns);
  printf("| one-way latency, broadcast, 16 B, spinning | %.0f ns | %.0f ns | "
         "%.2fx |\n",
         b_ns, floor_ns, b_ns / floor_ns);
  printf("| throughput, queue, 64 B | %.1f M msg/s | | |\n", q64 / 1e6);
  printf("| throughput, queue, 1 MiB copying | %.2f GiB/s | %.2f GiB/s "
         "(memcpy) | %.2fx |\n",
         b1 / 1024, m1 / 1024, b1 / m1);
  printf("| throughput, queue, 1 MiB zero-copy (written and read in place) | "
         "%.2f GiB/s "
         "| %.2f GiB/s (memcpy) | %.2fx |\n",
         z1 / 1024, m1 / 1024, z1 / m1);
  return 0;
}
