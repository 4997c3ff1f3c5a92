/*
 * bench_channel: channels (issue 10) process to process through the SDK,
 * each figure beside its floor, measured in the same rounds.
 *
 * This process and a child of it (the same program, --child) open the
 * channels that bench/channel.sh declares and a plain section, chan-ctl,
 * through which the parent tells the child what to do next and which
 * carries the floors. Every round runs every variant once, floors and
 * channels interleaved, so that a slow spell of this shared machine hits
 * both sides of a ratio alike; the first round is a warm-up and is not
 * counted. The figures:
 *
 *   spinning latency  a 16-byte message bounced over two channels (send
 *                     and receive with timeout 0 in a loop), round trip
 *                     halved; the floor is a bare counter bounced between
 *                     two cache lines of chan-ctl by the same two
 *                     processes. The bare ring (common/ring.h on the
 *                     channel's own view, no doorbell), the bare ring plus
 *                     the rings the SDK makes, plus rings whose counter
 *                     lines have one writer each (split), and plus rings
 *                     without a bump (fence and waiter places only) show
 *                     where the time goes.
 *   wake-up latency   the same bounce with receivers that sleep on the
 *                     doorbell (receive with a timeout), against a
 *                     SetEvent / WaitForSingleObject bounce over two named
 *                     events; and one way, with a sender that pauses 1 ms
 *                     first so that the receiver is surely asleep (the
 *                     sender's clock travels in the message: both
 *                     processes read the same QueryPerformanceCounter).
 *   throughput        64-byte messages through a queue, copying send and
 *                     receive; 1 MiB messages copying, and zero-copy
 *                     (reserve, copy in, commit; peek, copy out, release),
 *                     against the same two copies through a plain shared
 *                     section: a four-buffer pipeline, one sequence word
 *                     per buffer, which moves the bytes between the two
 *                     processes' CPUs exactly as the channel must.
 *   quiet rings       shmb_section_notify on a channel's doorbell with no
 *                     waiter (and with one registered, not asleep) against
 *                     an atomic increment; a send plus receive in one
 *                     process through the SDK against the bare ring.
 *
 *   bench_channel --pipe PIPE [--quick] [--rounds N] [--parts lwtq]
 *   (--parts: l spinning latency, w wake-up, t throughput, q quiet rings;
 *   default all)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "ring.h"

#define BIG (1u << 20) /* the large message */
#define BUFS 4         /* slots of the 1 MiB channels, buffers of the floor */
#define CTL_BUFS_AT (64u * 1024u)
#define WAIT_MS 10000u
#define SMALL 16 /* the latency message */

/* chan-ctl: one line per word that one side writes and the other polls. */
typedef struct ctl {
  _Alignas(64) int64_t cmd; /* parent: phase << 32 | sequence */
  int64_t n;
  _Alignas(64) int64_t started; /* child: sequence, ready to go */
  _Alignas(64) int64_t ack;     /* child: sequence, done */
  _Alignas(64) int64_t ping;
  _Alignas(64) int64_t pong;
  _Alignas(64) int64_t t_send; /* paced events: the sender's clock */
  _Alignas(64) struct {
    int64_t seq;
    int64_t pad[7];
  } buf[BUFS];
} ctl;

enum phase {
  PH_QUIT = 1,
  PH_LINE,        /* cache-line ping-pong */
  PH_SDK_Q,       /* SDK queue ping-pong, spinning */
  PH_SDK_B,       /* SDK broadcast ping-pong, spinning */
  PH_RING_Q,      /* bare ring, queue */
  PH_RING_B,      /* bare ring, broadcast */
  PH_RINGBELL_Q,  /* bare ring, queue, plus the SDK's rings */
  PH_RINGSPLIT_Q, /* the same, the receiver ringing another doorbell */
  PH_RINGEMU_Q,   /* bare ring, rings without a bump (EMU_BELL) */
  PH_WAKE_SDK,    /* SDK queue ping-pong, sleeping receivers */
  PH_WAKE_EV,     /* SetEvent / WaitForSingleObject ping-pong */
  PH_PACED_SDK,   /* one way, receiver asleep: child sends */
  PH_PACED_EV,
  PH_T64_SDK, /* throughput: parent sends, child receives */
  PH_T64_RING,
  PH_T64_RINGBELL,  /* bare ring, both sides ring as the SDK does */
  PH_T64_RINGSPLIT, /* both ring, the receiver another doorbell */
  PH_T64_RINGEMU,   /* rings without a bump */
  PH_T1M_COPY,
  PH_T1M_ZC,
  PH_T1M_PIPE,
};

typedef struct bare {
  shmb_section *sec;
  shmb_ring ring;
  /* Another channel's doorbell, rung by the receiving side in the "split"
   * variants: each counter line then has one writer, as it would if a
   * channel's senders and receivers had counters of their own. */
  shmb_section *alt;
} bare;

/* EMU_BELL: what a ring would be if a channel's waiters slept on the
 * ring's own counters (data_seq, space_seq), which the commit and the
 * release already move: no bump, only notify.c's fence and its look at
 * the waiter places (empty here, as in every variant). */
enum bell { NO_BELL, BELL, ALT_BELL, EMU_BELL };

/* The shape of the ringer's table of waiter places in client/notify.c (an
 * event name, two handles, a pointer to the armed word): a ring with nobody
 * registered still looks at every place. */
typedef struct fake_peer {
  char event[64];
  HANDLE ev, armed_map;
  const volatile uint32_t *armed;
} fake_peer;
#define FAKE_PLACES 32 /* max_waiters' default */

static fake_peer *emu_places;

static void emu_ring(void) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  for (int k = 0; k < FAKE_PLACES; k++)
    if (emu_places[k].armed && *emu_places[k].armed)
      SetEvent(emu_places[k].ev);
}

/* Everything one side opens; "out" is what it sends on, "in" what it
 * receives from (the parent sends on *-ab, the child on *-ba). */
typedef struct side {
  int parent;
  ctl *c;
  unsigned char *bufs; /* BUFS * BIG in chan-ctl */
  shmb_channel *q_out, *q_in, *b_out, *b_in, *w_out, *w_in, *p_q, *t64, *t1m,
      *t1mz;
  bare rq_out, rq_in, rb_out, rb_in, t64r;
  HANDLE ev_out, ev_in;
  unsigned char *src, *dst; /* private 1 MiB */
} side;

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
  memset(p, 1, n); /* touched */
  return p;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench: %s: %s (%s)\n", what, shmb_strerror(rc),
          shmb_err_name(rc));
  exit(1);
}

static shmb_channel *chan(shmb_client *cl, const char *name, unsigned role) {
  shmb_channel *ch;
  int rc = shmb_channel_open(cl, name, role, &ch);
  if (rc != 0) {
    fprintf(stderr, "bench: channel %s: %s\n", name, shmb_last_message(cl));
    die("shmb_channel_open", rc);
  }
  return ch;
}

/* A channel's section mapped as a plain section, with the ring attached
 * directly: the same memory without the SDK's channel layer. */
static void bare_open(shmb_client *cl, const char *name, uint32_t token,
                      bare *b) {
  bench_check(shmb_open(cl, name, SHMB_ACCESS_READ_WRITE, &b->sec), name);
  bench_check(shmb_ring_attach(&b->ring, shmb_section_data(b->sec),
                               (size_t)shmb_section_size(b->sec), 0, token),
              "shmb_ring_attach");
}

static HANDLE named_event(const char *tag, const char *which, int create) {
  char name[96];
  snprintf(name, sizeof(name), "Local\\shmb-bench-chan-%s-%s", tag, which);
  HANDLE h = create ? CreateEventA(NULL, FALSE, FALSE, name)
                    : OpenEventA(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, name);
  if (!h) {
    fprintf(stderr, "bench: event %s: %lu\n", name,
            (unsigned long)GetLastError());
    exit(1);
  }
  return h;
}

/* Opens everything. Broadcast receivers see only what is sent after they
 * attach: both sides open before the parent sends anything. */
static void side_open(const bench_opts *o, side *s, int parent,
                      const char *tag) {
  shmb_client *cl = bench_connect_or_die(o);
  shmb_section *ctl_sec;
  const unsigned S = SHMB_CHANNEL_SEND, R = SHMB_CHANNEL_RECEIVE;
  const char *ab = parent ? "ab" : "ba", *ba = parent ? "ba" : "ab";
  char n1[32], n2[32];
  uint32_t tok = parent ? 1 : 2;

  memset(s, 0, sizeof(*s));
  s->parent = parent;
  if (!emu_places)
    emu_places = calloc(FAKE_PLACES, sizeof(fake_peer));
  bench_check(shmb_open(cl, "chan-ctl", SHMB_ACCESS_READ_WRITE, &ctl_sec),
              "chan-ctl");
  if (shmb_section_size(ctl_sec) < CTL_BUFS_AT + (uint64_t)BUFS * BIG) {
    fprintf(stderr, "bench: chan-ctl is too small\n");
    exit(1);
  }
  s->c = shmb_section_data(ctl_sec);
  s->bufs = (unsigned char *)s->c + CTL_BUFS_AT;
#define PAIR(field, prefix)                                                    \
  do {                                                                         \
    snprintf(n1, sizeof(n1), "%s-%s", prefix, ab);                             \
    snprintf(n2, sizeof(n2), "%s-%s", prefix, ba);                             \
    s->field##_out = chan(cl, n1, S);                                          \
    s->field##_in = chan(cl, n2, R);                                           \
  } while (0)
  PAIR(q, "q");
  PAIR(b, "b");
  PAIR(w, "w");
#undef PAIR
  snprintf(n1, sizeof(n1), "rq-%s", ab);
  snprintf(n2, sizeof(n2), "rq-%s", ba);
  bare_open(cl, n1, tok, &s->rq_out);
  bare_open(cl, n2, tok, &s->rq_in);
  snprintf(n2, sizeof(n2), "rqx-%s", ba);
  bench_check(shmb_open(cl, n2, SHMB_ACCESS_READ_WRITE, &s->rq_in.alt), n2);
  snprintf(n1, sizeof(n1), "rb-%s", ab);
  snprintf(n2, sizeof(n2), "rb-%s", ba);
  bare_open(cl, n1, tok, &s->rb_out);
  bare_open(cl, n2, tok, &s->rb_in);
  /* One way and throughput: the parent receives the paced messages, the
   * child the streams. */
  s->p_q = chan(cl, "p-q", parent ? R : S);
  s->t64 = chan(cl, "t64", parent ? S : R);
  s->t1m = chan(cl, "t1m", parent ? S : R);
  s->t1mz = chan(cl, "t1mz", parent ? S : R);
  bare_open(cl, "t64r", tok, &s->t64r);
  bench_check(shmb_open(cl, "t64x", SHMB_ACCESS_READ_WRITE, &s->t64r.alt),
              "t64x");
  s->ev_out = named_event(tag, ab, parent);
  s->ev_in = named_event(tag, ba, parent);
  s->src = xmalloc(BIG);
  s->dst = xmalloc(BIG);
  shmb_disconnect(cl);
}

/* ---- the pieces both sides run -------------------------------------- */

static void sdk_send(shmb_channel *ch, const void *m, size_t len,
                     unsigned timeout) {
  int rc;
  while ((rc = shmb_channel_send(ch, m, len, timeout)) == SHMB_EAGAIN)
    ;
  if (rc != 0)
    die(shmb_channel_message(ch), rc);
}

static size_t sdk_recv(shmb_channel *ch, void *buf, size_t cap,
                       unsigned timeout) {
  size_t len = 0;
  int rc;
  while ((rc = shmb_channel_receive(ch, buf, cap, &len, NULL, timeout)) ==
         SHMB_EAGAIN)
    if (timeout)
      die("a sleeping receive timed out", rc);
  if (rc != 0)
    die(shmb_channel_message(ch), rc);
  return len;
}

static void ring_send(bare *b, const void *m, size_t len, enum bell bell) {
  int rc;
  while ((rc = shmb_ring_send(&b->ring, m, len)) == SHMB_EAGAIN)
    ;
  if (rc != 0)
    die("shmb_ring_send", rc);
  if (bell == EMU_BELL)
    emu_ring();
  else if (bell) /* what shmb_channel_send does after the ring's send */
    bench_check(shmb_section_notify(b->sec), "notify");
}

static void ring_recv(bare *b, void *buf, size_t cap, enum bell bell) {
  size_t len;
  int rc;
  while ((rc = shmb_ring_receive(&b->ring, buf, cap, &len, NULL)) ==
         SHMB_EAGAIN)
    ;
  if (rc != 0)
    die("shmb_ring_receive", rc);
  if (bell == EMU_BELL)
    emu_ring();
  else if (bell) /* a queue receiver rings after it freed a slot */
    bench_check(shmb_section_notify(bell == ALT_BELL ? b->alt : b->sec),
                "notify");
}

static void wait_word(int64_t *w, int64_t v) {
  while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != v)
    YieldProcessor();
}

/* One round trip of each ping-pong; first: this side speaks first. */
static void bounce(side *s, int phase, int first) {
  unsigned char m[64] = {0}, buf[64];
  ctl *c = s->c;
  int64_t i = __atomic_load_n(&c->n, __ATOMIC_RELAXED), k;
  for (k = 1; k <= i; k++) {
    switch (phase) {
    case PH_LINE:
      if (first) {
        __atomic_store_n(&c->ping, k, __ATOMIC_RELEASE);
        wait_word(&c->pong, k);
      } else {
        wait_word(&c->ping, k);
        __atomic_store_n(&c->pong, k, __ATOMIC_RELEASE);
      }
      break;
    case PH_SDK_Q:
    case PH_SDK_B:
    case PH_WAKE_SDK: {
      shmb_channel *out = phase == PH_SDK_Q   ? s->q_out
                          : phase == PH_SDK_B ? s->b_out
                                              : s->w_out;
      shmb_channel *in = phase == PH_SDK_Q   ? s->q_in
                         : phase == PH_SDK_B ? s->b_in
                                             : s->w_in;
      unsigned t = phase == PH_WAKE_SDK ? WAIT_MS : 0;
      memcpy(m, &k, sizeof(k));
      if (first)
        sdk_send(out, m, SMALL, 0);
      sdk_recv(in, buf, sizeof(buf), t);
      if (!first)
        sdk_send(out, buf, SMALL, 0);
      break;
    }
    case PH_RING_Q:
    case PH_RING_B:
    case PH_RINGBELL_Q:
    case PH_RINGSPLIT_Q:
    case PH_RINGEMU_Q: {
      bare *out = phase == PH_RING_B ? &s->rb_out : &s->rq_out;
      bare *in = phase == PH_RING_B ? &s->rb_in : &s->rq_in;
      enum bell sb = phase == PH_RINGEMU_Q    ? EMU_BELL
                     : phase >= PH_RINGBELL_Q ? BELL
                                              : NO_BELL;
      enum bell rb = phase == PH_RINGSPLIT_Q ? ALT_BELL : sb;
      memcpy(m, &k, sizeof(k));
      if (first)
        ring_send(out, m, SMALL, sb);
      ring_recv(in, buf, sizeof(buf), rb);
      if (!first)
        ring_send(out, buf, SMALL, sb);
      break;
    }
    case PH_WAKE_EV:
      if (first)
        SetEvent(s->ev_out);
      if (WaitForSingleObject(s->ev_in, WAIT_MS) != WAIT_OBJECT_0)
        die("an event wait timed out", SHMB_EAGAIN);
      if (!first)
        SetEvent(s->ev_out);
      break;
    }
  }
}

/* The child's side of the one-way and throughput phases. */
static void child_run(side *s, int phase) {
  ctl *c = s->c;
  int64_t n = __atomic_load_n(&c->n, __ATOMIC_RELAXED);
  unsigned char m[64] = {0};
  for (int64_t k = 0; k < n; k++) {
    switch (phase) {
    case PH_PACED_SDK: {
      int64_t t;
      Sleep(1);
      t = bench_ticks();
      memcpy(m, &t, sizeof(t));
      sdk_send(s->p_q, m, SMALL, 0);
      /* As below, so that both variants differ in the wake-up only. */
      if (WaitForSingleObject(s->ev_in, WAIT_MS) != WAIT_OBJECT_0)
        die("an event wait timed out", SHMB_EAGAIN);
      break;
    }
    case PH_PACED_EV:
      Sleep(1);
      __atomic_store_n(&c->t_send, bench_ticks(), __ATOMIC_RELEASE);
      SetEvent(s->ev_out);
      /* The next pause begins once the parent took this one. */
      if (WaitForSingleObject(s->ev_in, WAIT_MS) != WAIT_OBJECT_0)
        die("an event wait timed out", SHMB_EAGAIN);
      break;
    case PH_T64_SDK:
      sdk_recv(s->t64, m, sizeof(m), 0);
      break;
    case PH_T64_RING:
      ring_recv(&s->t64r, m, sizeof(m), NO_BELL);
      break;
    case PH_T64_RINGBELL:
      ring_recv(&s->t64r, m, sizeof(m), BELL);
      break;
    case PH_T64_RINGSPLIT:
      ring_recv(&s->t64r, m, sizeof(m), ALT_BELL);
      break;
    case PH_T64_RINGEMU:
      ring_recv(&s->t64r, m, sizeof(m), EMU_BELL);
      break;
    case PH_T1M_COPY:
      sdk_recv(s->t1m, s->dst, BIG, 0);
      break;
    case PH_T1M_ZC: {
      const void *p;
      size_t len;
      int rc;
      while ((rc = shmb_channel_peek(s->t1mz, &p, &len, NULL, 0)) ==
             SHMB_EAGAIN)
        ;
      if (rc != 0)
        die("peek", rc);
      memcpy(s->dst, p, len);
      bench_check(shmb_channel_release(s->t1mz), "release");
      break;
    }
    case PH_T1M_PIPE: {
      int64_t lap = k / BUFS;
      int b = (int)(k % BUFS);
      wait_word(&c->buf[b].seq, 2 * lap + 1);
      memcpy(s->dst, s->bufs + (size_t)b * BIG, BIG);
      __atomic_store_n(&c->buf[b].seq, 2 * lap + 2, __ATOMIC_RELEASE);
      break;
    }
    }
  }
}

static int child_main(const bench_opts *o, const char *tag) {
  side s;
  int64_t last = 0;
  side_open(o, &s, 0, tag);
  __atomic_store_n(&s.c->ack, -1, __ATOMIC_RELEASE); /* opened */
  for (;;) {
    int64_t cmd;
    int phase;
    /* Idle: spin a little, then sleep between polls (the parent waits
     * for `started` before it starts a clock). */
    for (long spins = 0;
         (cmd = __atomic_load_n(&s.c->cmd, __ATOMIC_ACQUIRE)) == last;
         spins++) {
      if (spins < 100000)
        YieldProcessor();
      else
        Sleep(1);
    }
    last = cmd;
    phase = (int)(cmd >> 32);
    if (phase == PH_QUIT)
      break;
    __atomic_store_n(&s.c->started, cmd, __ATOMIC_RELEASE);
    if (phase <= PH_WAKE_EV)
      bounce(&s, phase, 0);
    else
      child_run(&s, phase);
    __atomic_store_n(&s.c->ack, cmd, __ATOMIC_RELEASE);
  }
  return 0;
}

/* ---- the parent ----------------------------------------------------- */

static int64_t seqno;

/* Tells the child to run phase over n items and waits until it is at the
 * start line; returns the command to wait for with finish(). */
static int64_t issue(side *s, int phase, int64_t n) {
  ctl *c = s->c;
  int64_t cmd = ((int64_t)phase << 32) | ++seqno;
  __atomic_store_n(&c->n, n, __ATOMIC_RELAXED);
  __atomic_store_n(&c->ping, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&c->pong, 0, __ATOMIC_RELAXED);
  for (int b = 0; b < BUFS; b++)
    __atomic_store_n(&c->buf[b].seq, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&c->cmd, cmd, __ATOMIC_RELEASE);
  wait_word(&c->started, cmd);
  return cmd;
}

static void finish(side *s, int64_t cmd) { wait_word(&s->c->ack, cmd); }

/* Spinning latency: ns one way (round trip / 2). */
static double run_bounce(side *s, int phase, int64_t n) {
  int64_t cmd = issue(s, phase, n), t0 = bench_ticks();
  bounce(s, phase, 1);
  t0 = bench_ticks() - t0;
  finish(s, cmd);
  return bench_us(t0) * 1000.0 / (double)n / 2;
}

/* Sleeping ping-pong: each one-way wake-up in us into v[0..n). */
static void run_wake(side *s, int phase, int64_t n, double *v) {
  /* The child runs bounce(); this side times each round trip. */
  int64_t cmd = issue(s, phase, n);
  {
    unsigned char m[64] = {0}, buf[64];
    for (int64_t k = 1; k <= n; k++) {
      int64_t t0 = bench_ticks();
      if (phase == PH_WAKE_SDK) {
        memcpy(m, &k, sizeof(k));
        sdk_send(s->w_out, m, SMALL, 0);
        sdk_recv(s->w_in, buf, sizeof(buf), WAIT_MS);
      } else {
        SetEvent(s->ev_out);
        if (WaitForSingleObject(s->ev_in, WAIT_MS) != WAIT_OBJECT_0)
          die("an event wait timed out", SHMB_EAGAIN);
      }
      v[k - 1] = bench_us(bench_ticks() - t0) / 2;
    }
  }
  finish(s, cmd);
}

/* One way with the receiver surely asleep: us per message into v. */
static void run_paced(side *s, int phase, int64_t n, double *v) {
  int64_t cmd = issue(s, phase, n);
  unsigned char buf[64];
  for (int64_t k = 0; k < n; k++) {
    int64_t sent, now;
    if (phase == PH_PACED_SDK) {
      sdk_recv(s->p_q, buf, sizeof(buf), WAIT_MS);
      now = bench_ticks();
      memcpy(&sent, buf, sizeof(sent));
      SetEvent(s->ev_out);
    } else {
      if (WaitForSingleObject(s->ev_in, WAIT_MS) != WAIT_OBJECT_0)
        die("an event wait timed out", SHMB_EAGAIN);
      now = bench_ticks();
      sent = __atomic_load_n(&s->c->t_send, __ATOMIC_ACQUIRE);
      SetEvent(s->ev_out); /* take it: the child pauses again */
    }
    v[k] = bench_us(now - sent);
  }
  finish(s, cmd);
}

/* Throughput: messages per second, from the first send to the child's
 * last receive. */
static double run_stream(side *s, int phase, int64_t n) {
  int64_t cmd = issue(s, phase, n), t0 = bench_ticks();
  unsigned char m[64] = {0};
  ctl *c = s->c;
  for (int64_t k = 0; k < n; k++) {
    switch (phase) {
    case PH_T64_SDK:
      sdk_send(s->t64, m, 64, 0);
      break;
    case PH_T64_RING:
      ring_send(&s->t64r, m, 64, NO_BELL);
      break;
    case PH_T64_RINGBELL:
    case PH_T64_RINGSPLIT:
      ring_send(&s->t64r, m, 64, BELL);
      break;
    case PH_T64_RINGEMU:
      ring_send(&s->t64r, m, 64, EMU_BELL);
      break;
    case PH_T1M_COPY:
      s->src[0] = (unsigned char)k;
      sdk_send(s->t1m, s->src, BIG, 0);
      break;
    case PH_T1M_ZC: {
      void *p;
      size_t cap;
      int rc;
      while ((rc = shmb_channel_reserve(s->t1mz, &p, &cap, 0)) == SHMB_EAGAIN)
        ;
      if (rc != 0)
        die("reserve", rc);
      s->src[0] = (unsigned char)k;
      memcpy(p, s->src, BIG);
      bench_check(shmb_channel_commit(s->t1mz, BIG), "commit");
      break;
    }
    case PH_T1M_PIPE: {
      int64_t lap = k / BUFS;
      int b = (int)(k % BUFS);
      wait_word(&c->buf[b].seq, 2 * lap);
      s->src[0] = (unsigned char)k;
      memcpy(s->bufs + (size_t)b * BIG, s->src, BIG);
      __atomic_store_n(&c->buf[b].seq, 2 * lap + 1, __ATOMIC_RELEASE);
      break;
    }
    }
  }
  finish(s, cmd);
  return (double)n / bench_seconds(bench_ticks() - t0);
}

/* ---- statistics ------------------------------------------------------ */

typedef struct series {
  double *v; /* one value per counted round */
  int n;
} series;

static void put(series *s, int rounds, double x) {
  if (!s->v)
    s->v = calloc((size_t)rounds, sizeof(double));
  s->v[s->n++] = x;
}

static double pct(const series *s, double p) {
  double *t = malloc(sizeof(double) * (size_t)s->n), m;
  memcpy(t, s->v, sizeof(double) * (size_t)s->n);
  bench_sort(t, (size_t)s->n);
  m = bench_pct(t, (size_t)s->n, p);
  free(t);
  return m;
}

static double med(const series *s) { return pct(s, 50); }

/* The best decile of the rounds: on a shared machine most short rounds
 * run undisturbed, and this is one of them, not the one outlier that a
 * minimum picks (a round where the hypervisor happened to place both
 * virtual CPUs on one core's hyperthreads, say). */
static double lo(const series *s) { return pct(s, 10); }
static double hi(const series *s) { return pct(s, 90); }

/* Median over rounds of x[r] / floor[r]. */
static double ratio_med(const series *x, const series *f) {
  series r = {calloc((size_t)x->n, sizeof(double)), 0};
  double m;
  for (int i = 0; i < x->n; i++)
    r.v[r.n++] = x->v[i] / f->v[i];
  m = med(&r);
  free(r.v);
  return m;
}

static double sample_pct(double *v, int n, double p) {
  bench_sort(v, (size_t)n);
  return bench_pct(v, (size_t)n, p);
}

/* ---- quiet rings (parent only) --------------------------------------- */

static double ns_since(int64_t t0, long n) {
  return bench_us(bench_ticks() - t0) * 1000.0 / (double)n;
}

typedef struct quiet {
  shmb_section *solo, *solo_w; /* channels' sections: no waiter, one */
  shmb_channel *pair;          /* send + receive in one attachment */
  bare pair_r;
} quiet;

#define QUIET_ROWS 7
static void quiet_round(quiet *q, long n, fake_peer *places,
                        double out[QUIET_ROWS]) {
  volatile int64_t counter = 0;
  unsigned char m[64] = {0}, buf[64];
  int64_t t0;

  t0 = bench_ticks();
  for (long i = 0; i < n; i++)
    bench_check(shmb_section_notify(q->solo), "notify");
  out[0] = ns_since(t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n; i++)
    bench_check(shmb_section_notify(q->solo_w), "notify");
  out[1] = ns_since(t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n; i++)
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
  out[2] = ns_since(t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n; i++) {
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
  }
  out[5] = ns_since(t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n; i++) {
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (int k = 0; k < FAKE_PLACES; k++)
      if (places[k].armed && *places[k].armed)
        SetEvent(places[k].ev);
    __asm__ volatile("" ::: "memory");
  }
  out[6] = ns_since(t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n; i++) {
    sdk_send(q->pair, m, SMALL, 0);
    sdk_recv(q->pair, buf, sizeof(buf), 0);
  }
  out[3] = ns_since(t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n; i++) {
    ring_send(&q->pair_r, m, SMALL, NO_BELL);
    ring_recv(&q->pair_r, buf, sizeof(buf), NO_BELL);
  }
  out[4] = ns_since(t0, n);
}

/* ---- main ------------------------------------------------------------ */

static HANDLE spawn(const bench_opts *o, const char *tag) {
  char exe[MAX_PATH], cmd[1024];
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof(si));
  si.cb = sizeof(si);
  GetModuleFileNameA(NULL, exe, sizeof(exe));
  snprintf(cmd, sizeof(cmd), "\"%s\" --child 1 --pipe %s --tag %s", exe,
           o->pipe ? o->pipe : "\\\\.\\pipe\\shmbroker", tag);
  if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
    fprintf(stderr, "bench: cannot start the child (%lu)\n",
            (unsigned long)GetLastError());
    exit(1);
  }
  CloseHandle(pi.hThread);
  return pi.hProcess;
}

#define LAT_VARIANTS 8
static const int lat_phase[LAT_VARIANTS] = {
    PH_LINE,   PH_SDK_Q,      PH_SDK_B,       PH_RING_Q,
    PH_RING_B, PH_RINGBELL_Q, PH_RINGSPLIT_Q, PH_RINGEMU_Q};
static const char *const lat_label[LAT_VARIANTS] = {
    "floor: cache-line ping-pong through a plain section",
    "**queue, SDK** (shmb_channel_send / _receive, timeout 0)",
    "**broadcast, SDK**",
    "queue, bare ring (common/ring.h on the channel's view, no doorbell)",
    "broadcast, bare ring",
    "queue, bare ring + shmb_section_notify after send and after receive "
    "(the SDK's rings)",
    "queue, bare ring + the same rings, the receiver ringing another "
    "channel's doorbell (one writer per counter line)",
    "queue, bare ring + a ring without a bump (notify.c's fence and look at "
    "32 empty places: what sleeping on the ring's own counters would "
    "leave)"};

int main(int argc, char **argv) {
  bench_opts o;
  int code, rounds;
  char tag[32];
  side s;
  HANDLE child;
  int64_t lat_n, wake_n, paced_n, t64_n, t1m_n;
  series lat[LAT_VARIANTS] = {{0}}, t64[5] = {{0}}, t1m[3] = {{0}},
         wake_p50[2] = {{0}}, paced_p50[2] = {{0}};
  double *wake_all[2], *paced_all[2], *tmp;
  int wake_cnt = 0, paced_cnt = 0;
  const char *parts;
#define PART(ch) (strchr(parts, ch) != NULL)

  if (bench_parse_common(&argc, argv, &o, &code))
    return code;
  if (bench_arg(argc, argv, "--child", NULL))
    return child_main(&o, bench_arg(argc, argv, "--tag", "x"));
  rounds = atoi(bench_arg(argc, argv, "--rounds", o.quick ? "10" : "200"));
  parts = bench_arg(argc, argv, "--parts", "lwtq");
  if (rounds < 1)
    return 2;
  /* Many short rounds: each round's variants run within a few tens of
   * milliseconds of each other, so that the per-round ratios pair
   * measurements taken in the same state of the machine. */
  lat_n = 500;
  wake_n = 20;
  paced_n = 6;
  t64_n = 10000;
  t1m_n = 32;

  snprintf(tag, sizeof(tag), "%lu", (unsigned long)GetCurrentProcessId());
  /* The events first (the child opens them), then the child, then our
   * side; the child says -1 in ack once it opened everything. */
  {
    shmb_client *cl = bench_connect_or_die(&o);
    shmb_section *ctl_sec;
    bench_check(shmb_open(cl, "chan-ctl", SHMB_ACCESS_READ_WRITE, &ctl_sec),
                "chan-ctl");
    memset(shmb_section_data(ctl_sec), 0, sizeof(ctl));
    shmb_disconnect(cl);
    named_event(tag, "ab", 1);
    named_event(tag, "ba", 1);
  }
  child = spawn(&o, tag);
  side_open(&o, &s, 1, tag);
  bench_note("waiting for the child to open its side");
  wait_word(&s.c->ack, -1);

  wake_all[0] = calloc((size_t)(wake_n * rounds), sizeof(double));
  wake_all[1] = calloc((size_t)(wake_n * rounds), sizeof(double));
  paced_all[0] = calloc((size_t)(paced_n * rounds), sizeof(double));
  paced_all[1] = calloc((size_t)(paced_n * rounds), sizeof(double));
  tmp = calloc((size_t)(wake_n > paced_n ? wake_n : paced_n), sizeof(double));

  for (int r = 0; r <= rounds; r++) { /* round 0: warm-up */
    int count = r > 0;
    bench_note("round %d of %d", r, rounds);
    for (int v = 0; PART('l') && v < LAT_VARIANTS; v++) {
      /* Alternate the order, so that no variant always follows another. */
      int w = r & 1 ? LAT_VARIANTS - 1 - v : v;
      double x = run_bounce(&s, lat_phase[w], lat_n);
      if (count)
        put(&lat[w], rounds, x);
    }
    for (int v = 0; PART('w') && v < 2; v++) {
      int w = (r & 1) ^ v;
      run_wake(&s, w ? PH_WAKE_EV : PH_WAKE_SDK, wake_n, tmp);
      if (count) {
        memcpy(wake_all[w] + wake_cnt, tmp, sizeof(double) * (size_t)wake_n);
        put(&wake_p50[w], rounds, sample_pct(tmp, (int)wake_n, 50));
      }
    }
    if (count && PART('w'))
      wake_cnt += (int)wake_n;
    for (int v = 0; PART('w') && v < 2; v++) {
      int w = (r & 1) ^ v;
      run_paced(&s, w ? PH_PACED_EV : PH_PACED_SDK, paced_n, tmp);
      if (count) {
        memcpy(paced_all[w] + paced_cnt, tmp, sizeof(double) * (size_t)paced_n);
        put(&paced_p50[w], rounds, sample_pct(tmp, (int)paced_n, 50));
      }
    }
    if (count && PART('w'))
      paced_cnt += (int)paced_n;
    for (int v = 0; PART('t') && v < 5; v++) {
      int w = (v + r) % 5;
      static const int ph[5] = {PH_T64_SDK, PH_T64_RING, PH_T64_RINGBELL,
                                PH_T64_RINGSPLIT, PH_T64_RINGEMU};
      double x = run_stream(&s, ph[w], t64_n);
      if (count)
        put(&t64[w], rounds, x);
    }
    for (int v = 0; PART('t') && v < 3; v++) {
      int w = (v + r) % 3;
      static const int ph[3] = {PH_T1M_PIPE, PH_T1M_COPY, PH_T1M_ZC};
      double x = run_stream(&s, ph[w], t1m_n);
      if (count)
        put(&t1m[w], rounds, x * BIG / (1024.0 * 1024.0 * 1024.0));
    }
  }
  __atomic_store_n(&s.c->cmd, (int64_t)PH_QUIT << 32 | ++seqno,
                   __ATOMIC_RELEASE);
  {
    DWORD ec = 1;
    WaitForSingleObject(child, INFINITE);
    GetExitCodeProcess(child, &ec);
    if (ec != 0) {
      fprintf(stderr, "bench: the child exited %lu\n", (unsigned long)ec);
      return 1;
    }
  }

  /* Quiet rings, in this process alone. */
  quiet q;
  series qs[QUIET_ROWS] = {{0}};
  fake_peer *places = calloc(FAKE_PLACES, sizeof(fake_peer));
  long qn = 100000;
  {
    shmb_client *cl = bench_connect_or_die(&o);
    uint64_t v;
    shmb_section *waiter;
    bench_check(shmb_open(cl, "solo", SHMB_ACCESS_READ_WRITE, &q.solo), "solo");
    bench_check(shmb_open(cl, "solo-w", SHMB_ACCESS_READ_WRITE, &q.solo_w),
                "solo-w");
    /* A registered waiter, not asleep: the ring reads its armed word. */
    bench_check(shmb_open(cl, "solo-w", SHMB_ACCESS_READ, &waiter), "solo-w");
    bench_check(shmb_section_counter(waiter, &v), "counter");
    q.pair = chan(cl, "pair", SHMB_CHANNEL_SEND | SHMB_CHANNEL_RECEIVE);
    bare_open(cl, "pair-r", 7, &q.pair_r);
    shmb_disconnect(cl);
    bench_check(shmb_section_notify(q.solo), "notify"); /* attach */
    if (!PART('q'))
      rounds = 0;
    bench_check(shmb_section_notify(q.solo_w), "notify");
    for (int r = 0; r <= rounds; r++) {
      double out[QUIET_ROWS];
      quiet_round(&q, qn, places, out);
      if (r > 0)
        for (int k = 0; k < QUIET_ROWS; k++)
          put(&qs[k], rounds, out[k]);
    }
  }

  /* ---- the report ---- */
  if (PART('l')) {
    printf("### Spinning latency, one way (%d rounds of %" PRId64
           " round trips, halved), ns\n\n",
           rounds, lat_n);
    printf("| variant | median of rounds | best decile (p10 of rounds) | "
           "ratio to the floor, median of per-round ratios | ratio of best "
           "deciles |\n|---|---:|---:|---:|---:|\n");
    for (int v = 0; v < LAT_VARIANTS; v++)
      printf("| %s | %.0f | %.0f | %.2fx | %.2fx |\n", lat_label[v],
             med(&lat[v]), lo(&lat[v]), ratio_med(&lat[v], &lat[0]),
             lo(&lat[v]) / lo(&lat[0]));
    printf("\n@ chan.line_ns=%.1f chan.q_ns=%.1f chan.b_ns=%.1f "
           "chan.q_ratio=%.3f chan.b_ratio=%.3f chan.rq_ratio=%.3f "
           "chan.rb_ratio=%.3f chan.rqbell_ratio=%.3f chan.rqsplit_ratio=%.3f "
           "chan.rqemu_ratio=%.3f"
           "\n\n",
           med(&lat[0]), med(&lat[1]), med(&lat[2]),
           ratio_med(&lat[1], &lat[0]), ratio_med(&lat[2], &lat[0]),
           ratio_med(&lat[3], &lat[0]), ratio_med(&lat[4], &lat[0]),
           ratio_med(&lat[5], &lat[0]), ratio_med(&lat[6], &lat[0]),
           ratio_med(&lat[7], &lat[0]));
  }
  if (PART('w')) {

    printf("### Wake-up latency, receiver asleep, us\n\n");
    printf("Ping-pong (%d rounds of %" PRId64 " round trips, halved; both "
           "sides receive with a timeout of %u ms). The answer comes within "
           "the SDK's spin before it sleeps, so its row is the spinning path, "
           "not a wake-up:\n\n",
           rounds, wake_n, WAIT_MS);
    bench_latency_header();
    double w_sdk = bench_latency_row(
        "queue, SDK (shmb_channel_receive with a timeout), prompt answers",
        wake_all[0], (size_t)wake_cnt);
    double w_ev = bench_latency_row(
        "floor: SetEvent / WaitForSingleObject, two named events", wake_all[1],
        (size_t)wake_cnt);
    printf("\nAll samples: p50 %.1f us against %.1f us, %.2fx. Median over "
           "rounds of the rounds' p50 ratio: %.2fx (rounds' p50s: SDK %.1f - "
           "%.1f, floor %.1f - %.1f us).\n\n",
           w_sdk, w_ev, w_sdk / w_ev, ratio_med(&wake_p50[0], &wake_p50[1]),
           lo(&wake_p50[0]), hi(&wake_p50[0]), lo(&wake_p50[1]),
           hi(&wake_p50[1]));
    printf("One way, the sender pausing 1 ms before each message so that the "
           "receiver is asleep (%d rounds of %" PRId64 "; the sender's clock "
           "in the message):\n\n",
           rounds, paced_n);
    bench_latency_header();
    double p_sdk = bench_latency_row("**queue, SDK**, receiver asleep",
                                     paced_all[0], (size_t)paced_cnt);
    double p_ev = bench_latency_row("floor: SetEvent -> WaitForSingleObject",
                                    paced_all[1], (size_t)paced_cnt);
    printf("\nAll samples: p50 %.1f us against %.1f us, %.2fx; median over "
           "rounds of the p50 ratio %.2fx.\n\n",
           p_sdk, p_ev, p_sdk / p_ev, ratio_med(&paced_p50[0], &paced_p50[1]));
    printf("@ chan.wake_us=%.1f chan.wake_floor_us=%.1f chan.wake_ratio=%.3f "
           "chan.wake_round_ratio=%.3f chan.paced_us=%.1f "
           "chan.paced_floor_us=%.1f chan.paced_ratio=%.3f\n\n",
           w_sdk, w_ev, w_sdk / w_ev, ratio_med(&wake_p50[0], &wake_p50[1]),
           p_sdk, p_ev, p_sdk / p_ev);
  }
  if (PART('t')) {
    printf("### Throughput, one sender process, one receiver process (%d "
           "rounds)\n\n",
           rounds);
    printf("| variant | median of rounds | best decile (p90 of rounds) | "
           "ratio, median of per-round ratios | ratio of best deciles "
           "|\n|---|---:|---:|---:|---:|\n");
    printf("| **64 B queue, SDK** (send / receive, copying; %" PRId64
           " messages) | %.2f M msg/s | %.2f M msg/s | %.2fx of the bare ring "
           "| %.2fx |\n",
           t64_n, med(&t64[0]) / 1e6, hi(&t64[0]) / 1e6,
           ratio_med(&t64[0], &t64[1]), hi(&t64[0]) / hi(&t64[1]));
    printf("| 64 B queue, bare ring on the channel's view (no doorbell) | "
           "%.2f M msg/s | %.2f M msg/s | | |\n",
           med(&t64[1]) / 1e6, hi(&t64[1]) / 1e6);
    printf("| 64 B queue, bare ring + shmb_section_notify after each send and "
           "each receive (the SDK's rings) | %.2f M msg/s | %.2f M msg/s | "
           "%.2fx | %.2fx |\n",
           med(&t64[2]) / 1e6, hi(&t64[2]) / 1e6, ratio_med(&t64[2], &t64[1]),
           hi(&t64[2]) / hi(&t64[1]));
    printf("| 64 B queue, bare ring + the same rings, the receiver ringing "
           "another channel's doorbell | %.2f M msg/s | %.2f M msg/s | %.2fx | "
           "%.2fx |\n",
           med(&t64[3]) / 1e6, hi(&t64[3]) / 1e6, ratio_med(&t64[3], &t64[1]),
           hi(&t64[3]) / hi(&t64[1]));
    printf("| 64 B queue, bare ring + a ring without a bump after each send "
           "and each receive | %.2f M msg/s | %.2f M msg/s | %.2fx | %.2fx "
           "|\n",
           med(&t64[4]) / 1e6, hi(&t64[4]) / 1e6, ratio_med(&t64[4], &t64[1]),
           hi(&t64[4]) / hi(&t64[1]));
    printf("| floor: 1 MiB, two-process memcpy pipeline through a plain "
           "section (%d buffers; %" PRId64 " messages) | %.2f GiB/s | %.2f "
           "GiB/s | | |\n",
           BUFS, t1m_n, med(&t1m[0]), hi(&t1m[0]));
    printf("| **1 MiB queue, copying** (send / receive) | %.2f GiB/s | %.2f "
           "GiB/s | %.2fx | %.2fx |\n",
           med(&t1m[1]), hi(&t1m[1]), ratio_med(&t1m[1], &t1m[0]),
           hi(&t1m[1]) / hi(&t1m[0]));
    printf("| **1 MiB queue, zero-copy** (reserve, memcpy in, commit; peek, "
           "memcpy out, release) | %.2f GiB/s | %.2f GiB/s | %.2fx | %.2fx |\n",
           med(&t1m[2]), hi(&t1m[2]), ratio_med(&t1m[2], &t1m[0]),
           hi(&t1m[2]) / hi(&t1m[0]));
    printf("\n@ chan.t64_mps=%.0f chan.t64_ring_mps=%.0f "
           "chan.t64_ringbell_mps=%.0f chan.t64_ringsplit_mps=%.0f "
           "chan.t64_ringemu_mps=%.0f "
           "chan.pipe_gibs=%.3f "
           "chan.copy_gibs=%.3f chan.zc_gibs=%.3f chan.copy_ratio=%.3f "
           "chan.zc_ratio=%.3f\n\n",
           med(&t64[0]), med(&t64[1]), med(&t64[2]), med(&t64[3]), med(&t64[4]),
           med(&t1m[0]), med(&t1m[1]), med(&t1m[2]),
           ratio_med(&t1m[1], &t1m[0]), ratio_med(&t1m[2], &t1m[0]));
  }
  if (!PART('q'))
    return 0;

  printf("### Ringing with nobody asleep, one process (%d rounds of %ld), "
         "ns\n\n",
         rounds, qn);
  printf("| what | median of rounds | best decile (p10) |\n|---|---:|---:|\n");
  static const char *const ql[QUIET_ROWS] = {
      "shmb_section_notify on a channel's doorbell, no waiter registered",
      "shmb_section_notify, one waiter registered and not asleep",
      "floor: an atomic increment (the bump itself)",
      "shmb_channel_send + shmb_channel_receive, 16 B, one queue, one "
      "attachment (two rings)",
      "shmb_ring_send + shmb_ring_receive on a bare ring (no doorbell)",
      "the bump + a seq_cst fence (notify.c makes both)",
      "the bump + the fence + a look at 32 empty waiter places shaped as "
      "notify.c's (max_waiters' default)"};
  static const int order[QUIET_ROWS] = {0, 1, 2, 5, 6, 3, 4};
  for (int j = 0; j < QUIET_ROWS; j++) {
    int k = order[j];
    printf("| %s | %.1f | %.1f |\n", ql[k], med(&qs[k]), lo(&qs[k]));
  }
  printf("\n@ chan.quiet_ns=%.1f chan.quiet_reg_ns=%.1f chan.inc_ns=%.1f "
         "chan.fence_ns=%.1f chan.scan_ns=%.1f chan.pair_ns=%.1f "
         "chan.pair_ring_ns=%.1f\n",
         med(&qs[0]), med(&qs[1]), med(&qs[2]), med(&qs[5]), med(&qs[6]),
         med(&qs[3]), med(&qs[4]));
  return 0;
}
