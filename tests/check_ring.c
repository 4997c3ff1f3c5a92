/*
 * Tests for the channel ring (common/ring*.c), single-threaded: the API's
 * contract (round trips, wrap-around, full and empty, oversize messages,
 * zero-copy pairs, change counters), broadcast loss counting to the exact
 * message, every corruption check (each one reached by writing the bytes a
 * hostile peer would write), and recovery from a peer that stalls holding a
 * slot. Concurrency is proven separately by tests/stress_ring.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "ring_layout.h"

#define BIG 4096

static unsigned char *block, *region;
static size_t region_len;

/* 64-aligned memory the portable way (mingw's C runtime has no
 * aligned_alloc): the block is freed, the aligned pointer used. */
static unsigned char *alloc64(size_t n) {
  free(block);
  block = malloc(n + 64);
  ck_assert_ptr_nonnull(block);
  return block + (64 - (uintptr_t)block % 64);
}

/* A fresh region for a ring of this geometry (plus spare bytes), formatted. */
static void *make(enum shmb_ring_kind kind, uint32_t slots,
                  uint32_t slot_size) {
  size_t need;
  ck_assert_int_eq(shmb_ring_size(slots, slot_size, &need), 0);
  region_len = (need + 64 + 63) & ~(size_t)63;
  region = alloc64(region_len);
  memset(region, 0xa5, region_len);
  ck_assert_int_eq(shmb_ring_init(region, need, kind, slots, slot_size), 0);
  return region;
}

static void teardown(void) {
  free(block);
  block = region = NULL;
}

static void attach(shmb_ring *r, uint32_t kind, uint32_t token) {
  ck_assert_int_eq(shmb_ring_attach(r, region, region_len, kind, token), 0);
}

static shmb__ring_hdr *hdr(void) { return (shmb__ring_hdr *)(void *)region; }

/* Sends "m<n>" (n as text) and checks it arrives as such. */
static void send_n(shmb_ring *r, unsigned n) {
  char m[32];
  int len = snprintf(m, sizeof(m), "m%u", n);
  ck_assert_int_eq(shmb_ring_send(r, m, (size_t)len), 0);
}

static void recv_n(shmb_ring *r, unsigned n, uint64_t want_lost) {
  char m[32], buf[BIG];
  size_t len = 0;
  uint64_t lost = 99;
  int mlen = snprintf(m, sizeof(m), "m%u", n);
  ck_assert_int_eq(shmb_ring_receive(r, buf, sizeof(buf), &len, &lost), 0);
  ck_assert_uint_eq(len, (size_t)mlen);
  ck_assert_mem_eq(buf, m, len);
  ck_assert_uint_eq(lost, want_lost);
}

static void recv_none(shmb_ring *r) {
  char buf[BIG];
  size_t len;
  ck_assert_int_eq(shmb_ring_receive(r, buf, sizeof(buf), &len, NULL),
                   SHMB_EAGAIN);
}

static int recv_rc(shmb_ring *r) {
  char buf[BIG];
  size_t len;
  return shmb_ring_receive(r, buf, sizeof(buf), &len, NULL);
}

START_TEST(test_ring_geometry_checked) {
  size_t n;
  unsigned char *p = alloc64(8192);
  ck_assert_int_eq(shmb_ring_size(8, 64, &n), 0);
  ck_assert_uint_eq(n, 192 + 8 * 128);
  ck_assert_int_eq(shmb_ring_size(3, 64, &n), SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_size(1, 64, &n), SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_size(0, 64, &n), SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_size(SHMB_RING_MAX_SLOTS * 2, 64, &n),
                   SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_size(8, 60, &n), SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_size(8, 0, &n), SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_size(8, SHMB_RING_MAX_SLOT_SIZE + 8, &n),
                   SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_init(p + 8, 8000, SHMB_RING_QUEUE, 8, 64),
                   SHMB_EINVAL); /* misaligned */
  ck_assert_int_eq(shmb_ring_init(p, 1000, SHMB_RING_QUEUE, 8, 64),
                   SHMB_EINVAL); /* too small */
  ck_assert_int_eq(shmb_ring_init(p, 8192, 3, 8, 64), SHMB_EINVAL);
}
END_TEST

START_TEST(test_ring_attach_checks_kind_and_view) {
  shmb_ring r;
  size_t need;
  make(SHMB_RING_QUEUE, 8, 64);
  shmb_ring_size(8, 64, &need);
  attach(&r, SHMB_RING_QUEUE, 1);
  attach(&r, 0, 1);
  ck_assert_int_eq(shmb_ring_attach(&r, region, region_len,
                                    SHMB_RING_BROADCAST, 1),
                   SHMB_ECORRUPT);
  ck_assert_int_eq(shmb_ring_attach(&r, region, need - 1, 0, 1),
                   SHMB_ECORRUPT);
  ck_assert_int_eq(shmb_ring_attach(&r, region, 100, 0, 1), SHMB_ECORRUPT);
  ck_assert_int_eq(shmb_ring_attach(&r, region + 64, region_len - 64, 0, 1),
                   SHMB_ECORRUPT);
  ck_assert_int_eq(shmb_ring_attach(&r, region + 1, region_len - 1, 0, 1),
                   SHMB_EINVAL);
}
END_TEST


START_TEST(test_ring_queue_round_trip) {
  shmb_ring tx, rx;
  char buf[BIG], big[64];
  size_t len = 7;
  make(SHMB_RING_QUEUE, 8, 64);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  recv_none(&rx);
  memset(big, 'x', sizeof(big));
  ck_assert_int_eq(shmb_ring_send(&tx, "hello", 5), 0);
  ck_assert_int_eq(shmb_ring_send(&tx, NULL, 0), 0); /* an empty message */
  ck_assert_int_eq(shmb_ring_send(&tx, big, 64), 0); /* exactly slot_size */
  ck_assert_int_eq(shmb_ring_receive(&rx, buf, sizeof(buf), &len, NULL), 0);
  ck_assert_uint_eq(len, 5);
  ck_assert_mem_eq(buf, "hello", 5);
  ck_assert_int_eq(shmb_ring_receive(&rx, buf, sizeof(buf), &len, NULL), 0);
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(shmb_ring_receive(&rx, buf, sizeof(buf), &len, NULL), 0);
  ck_assert_uint_eq(len, 64);
  ck_assert_mem_eq(buf, big, 64);
  recv_none(&rx);
}
END_TEST

START_TEST(test_ring_queue_wrap_around) {
  shmb_ring tx, rx;
  unsigned sent = 0, got = 0;
  make(SHMB_RING_QUEUE, 4, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  /* Batches of 1, 2 and 3 so that the positions cross every slot boundary
   * many times over. */
  for (unsigned round = 0; round < 300; round++) {
    unsigned batch = 1 + round % 3;
    for (unsigned i = 0; i < batch; i++)
      send_n(&tx, sent++);
    for (unsigned i = 0; i < batch; i++)
      recv_n(&rx, got++, 0);
    recv_none(&rx);
  }
  ck_assert_uint_eq(atomic_load(&hdr()->tail), 600);
  ck_assert_uint_eq(atomic_load(&hdr()->head), 600);
}
END_TEST

START_TEST(test_ring_queue_full) {
  shmb_ring tx, rx;
  uint64_t space;
  make(SHMB_RING_QUEUE, 4, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  for (unsigned i = 0; i < 4; i++)
    send_n(&tx, i);
  space = shmb_ring_space_seq(&tx);
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_EAGAIN);
  ck_assert_uint_eq(shmb_ring_space_seq(&tx), space); /* a waiter sleeps */
  recv_n(&rx, 0, 0);
  ck_assert_uint_ne(shmb_ring_space_seq(&tx), space); /* and is woken */
  send_n(&tx, 4);
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_EAGAIN);
  for (unsigned i = 1; i < 5; i++)
    recv_n(&rx, i, 0);
  recv_none(&rx);
}
END_TEST

START_TEST(test_ring_change_counters) {
  shmb_ring tx, rx;
  uint64_t d;
  make(SHMB_RING_QUEUE, 4, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  d = shmb_ring_data_seq(&rx);
  recv_none(&rx);
  ck_assert_uint_eq(shmb_ring_data_seq(&rx), d);
  send_n(&tx, 0);
  ck_assert_uint_gt(shmb_ring_data_seq(&rx), d);

  make(SHMB_RING_BROADCAST, 4, 16);
  attach(&tx, SHMB_RING_BROADCAST, 1);
  attach(&rx, SHMB_RING_BROADCAST, 2);
  d = shmb_ring_data_seq(&rx);
  send_n(&tx, 0);
  ck_assert_uint_gt(shmb_ring_data_seq(&rx), d);
}
END_TEST

static void oversize(enum shmb_ring_kind kind) {
  shmb_ring tx, rx;
  char buf[BIG] = {0}, small[16];
  void *p;
  size_t cap, len;
  make(kind, 4, 64);
  attach(&tx, kind, 1);
  attach(&rx, kind, 2);
  ck_assert_int_eq(shmb_ring_send(&tx, buf, 65), SHMB_EMSGSIZE);
  ck_assert_int_eq(shmb_ring_send(&tx, buf, SIZE_MAX), SHMB_EMSGSIZE);
  ck_assert_int_eq(shmb_ring_reserve(&tx, &p, &cap), 0);
  ck_assert_uint_eq(cap, 64);
  ck_assert_int_eq(shmb_ring_commit(&tx, 65), SHMB_EMSGSIZE);
  memcpy(p, "ok", 2);
  ck_assert_int_eq(shmb_ring_commit(&tx, 2), 0); /* still open after that */
  /* A buffer that could not hold every message is refused up front. */
  ck_assert_int_eq(shmb_ring_receive(&rx, small, sizeof(small), &len, NULL),
                   SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_receive(&rx, buf, sizeof(buf), &len, NULL), 0);
  ck_assert_uint_eq(len, 2);
  ck_assert_int_eq(shmb_ring_commit(&tx, 1), SHMB_EINVAL);
  ck_assert_int_eq(shmb_ring_release(&rx), SHMB_EINVAL);
}

START_TEST(test_ring_oversize_message) {
  oversize(SHMB_RING_QUEUE);
  oversize(SHMB_RING_BROADCAST);
}
END_TEST

static void zero_copy(enum shmb_ring_kind kind) {
  shmb_ring tx, rx;
  void *p;
  const void *q;
  size_t cap, len;
  make(kind, 4, 64);
  attach(&tx, kind, 1);
  attach(&rx, kind, 2);
  for (unsigned i = 0; i < 10; i++) {
    ck_assert_int_eq(shmb_ring_reserve(&tx, &p, &cap), 0);
    ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_EINVAL); /* one open */
    ck_assert((unsigned char *)p >= region);
    ck_assert((unsigned char *)p + cap <= region + region_len);
    memset(p, 'a' + (int)i, 40);
    ck_assert_int_eq(shmb_ring_commit(&tx, 40), 0);
    ck_assert_int_eq(shmb_ring_peek(&rx, &q, &len, NULL), 0);
    ck_assert_uint_eq(len, 40);
    ck_assert_int_eq(((const char *)q)[39], 'a' + (int)i);
    ck_assert_int_eq(shmb_ring_release(&rx), 0);
  }
  ck_assert_int_eq(shmb_ring_peek(&rx, &q, &len, NULL), SHMB_EAGAIN);
}

START_TEST(test_ring_zero_copy) {
  zero_copy(SHMB_RING_QUEUE);
  zero_copy(SHMB_RING_BROADCAST);
}
END_TEST

START_TEST(test_ring_queue_one_receiver_per_message) {
  shmb_ring tx1, tx2, rx1, rx2;
  make(SHMB_RING_QUEUE, 8, 16);
  attach(&tx1, SHMB_RING_QUEUE, 1);
  attach(&tx2, SHMB_RING_QUEUE, 2);
  attach(&rx1, SHMB_RING_QUEUE, 3);
  attach(&rx2, SHMB_RING_QUEUE, 4);
  send_n(&tx1, 0);
  send_n(&tx2, 1);
  send_n(&tx1, 2);
  recv_n(&rx2, 0, 0);
  recv_n(&rx1, 1, 0);
  recv_n(&rx2, 2, 0);
  recv_none(&rx1);
  recv_none(&rx2);
}
END_TEST

START_TEST(test_ring_broadcast_round_trip) {
  shmb_ring tx, rx[3];
  make(SHMB_RING_BROADCAST, 8, 32);
  attach(&tx, SHMB_RING_BROADCAST, 1);
  for (unsigned k = 0; k < 3; k++)
    attach(&rx[k], SHMB_RING_BROADCAST, 10 + k);
  for (unsigned i = 0; i < 100; i++) {
    send_n(&tx, i);
    for (unsigned k = 0; k < 3; k++) {
      recv_n(&rx[k], i, 0);
      recv_none(&rx[k]);
    }
  }
}
END_TEST

START_TEST(test_ring_broadcast_loss_exact) {
  shmb_ring tx, slow, late;
  uint64_t delivered = 0;
  make(SHMB_RING_BROADCAST, 8, 32);
  attach(&tx, SHMB_RING_BROADCAST, 1);
  attach(&slow, SHMB_RING_BROADCAST, 2);
  for (unsigned i = 0; i < 3; i++)
    send_n(&tx, i);
  recv_n(&slow, 0, 0);
  delivered++;
  /* Messages 1..22 sent while slow reads nothing: only the last 8 (15..22)
   * are still in the ring, so 14 are lost, reported with the next read. */
  for (unsigned i = 3; i < 23; i++)
    send_n(&tx, i);
  recv_n(&slow, 15, 14);
  delivered++;
  for (unsigned i = 16; i < 23; i++, delivered++)
    recv_n(&slow, i, 0);
  recv_none(&slow);
  ck_assert_uint_eq(shmb_ring_lost(&slow), 14);
  ck_assert_uint_eq(delivered + shmb_ring_lost(&slow), 23);

  /* A receiver that attaches now sees only what is sent from now on. */
  attach(&late, SHMB_RING_BROADCAST, 3);
  recv_none(&late);
  send_n(&tx, 23);
  recv_n(&late, 23, 0);
}
END_TEST

START_TEST(test_ring_broadcast_peek_overwritten) {
  shmb_ring tx, rx;
  const void *q;
  size_t len;
  make(SHMB_RING_BROADCAST, 4, 32);
  attach(&tx, SHMB_RING_BROADCAST, 1);
  attach(&rx, SHMB_RING_BROADCAST, 2);
  send_n(&tx, 0);
  ck_assert_int_eq(shmb_ring_peek(&rx, &q, &len, NULL), 0);
  for (unsigned i = 1; i < 5; i++) /* the fourth overwrites our slot */
    send_n(&tx, i);
  ck_assert_int_eq(shmb_ring_release(&rx), SHMB_ESTALE);
  ck_assert_uint_eq(shmb_ring_lost(&rx), 1);
  /* The torn look is told with the next message, so the counts of the
   * messages add up to shmb_ring_lost. */
  recv_n(&rx, 1, 1);
}
END_TEST

/* A call that skips an aborted position and then finds the next one not
 * yet written returns SHMB_EAGAIN; the skip must be told with the next
 * message, not dropped (channel.sh caught it through the SDK: the next
 * message came with lost 0 while shmb_ring_lost said 1). */
START_TEST(test_ring_broadcast_skip_told_later) {
  shmb_ring dead, tx, rx;
  shmb_ring_stall st;
  void *p;
  size_t cap;
  char buf[BIG];
  size_t len;
  uint64_t lost = 99;
  make(SHMB_RING_BROADCAST, 4, 16);
  attach(&dead, SHMB_RING_BROADCAST, 1);
  attach(&tx, SHMB_RING_BROADCAST, 2);
  attach(&rx, SHMB_RING_BROADCAST, 3);
  send_n(&tx, 0);
  recv_n(&rx, 0, 0);
  ck_assert_int_eq(shmb_ring_reserve(&dead, &p, &cap), 0); /* then "dies" */
  ck_assert_int_eq(shmb_ring_stalled(&tx, &st), 1);
  ck_assert_int_eq(shmb_ring_abort_stall(&tx, &st), 0);
  ck_assert_int_eq(shmb_ring_receive(&rx, buf, sizeof(buf), &len, &lost),
                   SHMB_EAGAIN);
  ck_assert_uint_eq(lost, 0);
  ck_assert_uint_eq(shmb_ring_lost(&rx), 1); /* skipped in that call */
  send_n(&tx, 2);
  recv_n(&rx, 2, 1);
  send_n(&tx, 3);
  recv_n(&rx, 3, 0);
}
END_TEST

START_TEST(test_ring_broadcast_sender_lock) {
  shmb_ring a, b, rx;
  void *p;
  size_t cap;
  uint64_t space;
  make(SHMB_RING_BROADCAST, 4, 32);
  attach(&a, SHMB_RING_BROADCAST, 1);
  attach(&b, SHMB_RING_BROADCAST, 2);
  attach(&rx, SHMB_RING_BROADCAST, 3);
  ck_assert_int_eq(shmb_ring_reserve(&a, &p, &cap), 0);
  space = shmb_ring_space_seq(&b);
  ck_assert_int_eq(shmb_ring_send(&b, "b", 1), SHMB_EAGAIN);
  memcpy(p, "m0", 2);
  ck_assert_int_eq(shmb_ring_commit(&a, 2), 0);
  ck_assert_uint_ne(shmb_ring_space_seq(&b), space);
  send_n(&b, 1);
  recv_n(&rx, 0, 0);
  recv_n(&rx, 1, 0);
}
END_TEST

/* --- corruption: each check reached with the bytes a hostile peer writes */

static int attach_rc(void) {
  shmb_ring r;
  return shmb_ring_attach(&r, region, region_len, 0, 1);
}

START_TEST(test_ring_corrupt_header) {
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->magic ^= 1;
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->version = 2;
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->kind = 7;
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->slots = 6; /* not a power of two */
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->slots = 0;
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->slots = 16; /* ring_size no longer matches */
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->slot_size = 60;
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  hdr()->slot_size = 0x80000000u;
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
  make(SHMB_RING_QUEUE, 8, 64);
  /* Consistent, but bigger than the view. */
  hdr()->slots = 1u << 16;
  hdr()->ring_size = 192 + (1u << 16) * 128ull;
  ck_assert_int_eq(attach_rc(), SHMB_ECORRUPT);
}
END_TEST

START_TEST(test_ring_corrupt_header_after_attach) {
  /* The geometry is cached at attach: a later rewrite changes nothing. */
  shmb_ring tx, rx;
  make(SHMB_RING_QUEUE, 4, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  hdr()->slots = 1u << 20;
  hdr()->slot_size = 1u << 30;
  for (unsigned i = 0; i < 10; i++) {
    send_n(&tx, i);
    recv_n(&rx, i, 0);
  }
}
END_TEST

START_TEST(test_ring_corrupt_length) {
  shmb_ring tx, rx;
  shmb__ring_slot *s;
  char buf[BIG];
  size_t len;
  const void *q;
  make(SHMB_RING_QUEUE, 4, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  send_n(&tx, 0);
  send_n(&tx, 1);
  send_n(&tx, 2);
  s = shmb__ring_slot_at(&rx, 0);
  atomic_store(&s->len, 17); /* past slot_size */
  ck_assert_int_eq(shmb_ring_receive(&rx, buf, sizeof(buf), &len, NULL),
                   SHMB_ECORRUPT);
  atomic_store(&shmb__ring_slot_at(&rx, 1)->len, 0xffffffffu);
  ck_assert_int_eq(shmb_ring_peek(&rx, &q, &len, NULL), SHMB_ECORRUPT);
  recv_n(&rx, 2, 0); /* the queue goes on past the bad messages */

  make(SHMB_RING_BROADCAST, 4, 16);
  attach(&tx, SHMB_RING_BROADCAST, 1);
  attach(&rx, SHMB_RING_BROADCAST, 2);
  send_n(&tx, 0);
  atomic_store(&shmb__ring_slot_at(&rx, 0)->len, 24);
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
  ck_assert_int_eq(shmb_ring_peek(&rx, &q, &len, NULL), SHMB_ECORRUPT);
}
END_TEST

START_TEST(test_ring_corrupt_queue_indices) {
  shmb_ring tx, rx;
  shmb_ring_stall st;
  make(SHMB_RING_QUEUE, 4, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  send_n(&tx, 0);
  recv_n(&rx, 0, 0);
  /* While the next slot looks idle the receive path says "nothing yet";
   * the counters are checked on the slow path and by the stall check a
   * waiter makes. */
  atomic_store(&hdr()->head, 5); /* head past tail */
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT); /* slot 1 is at lap 1 */
  ck_assert_int_eq(shmb_ring_stalled(&rx, &st), SHMB_ECORRUPT);
  atomic_store(&hdr()->head, 1);
  atomic_store(&hdr()->tail, 1000); /* more in flight than slots */
  ck_assert_int_eq(recv_rc(&rx), SHMB_EAGAIN);
  ck_assert_int_eq(shmb_ring_stalled(&rx, &st), SHMB_ECORRUPT);
  atomic_store(&shmb__ring_slot_at(&rx, 1)->seq, 7);
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
  atomic_store(&shmb__ring_slot_at(&rx, 1)->seq, 1);
  atomic_store(&hdr()->tail, 2);
  atomic_store(&shmb__ring_slot_at(&rx, 1)->seq, 77); /* not of this lap */
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
  /* A sender checks its slot too. */
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, 9);
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_ECORRUPT);
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, UINT64_C(1) << 40);
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_ECORRUPT);
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, 2);
  send_n(&tx, 2); /* and carries on once the words make sense again */
}
END_TEST

START_TEST(test_ring_corrupt_broadcast_indices) {
  shmb_ring tx, rx;
  shmb_ring_stall st;
  make(SHMB_RING_BROADCAST, 4, 16);
  attach(&tx, SHMB_RING_BROADCAST, 1);
  attach(&rx, SHMB_RING_BROADCAST, 2);
  send_n(&tx, 0);
  send_n(&tx, 1);
  recv_n(&rx, 0, 0);
  recv_n(&rx, 1, 0);
  atomic_store(&hdr()->tail, 0); /* the tail went back */
  ck_assert_int_eq(recv_rc(&rx), SHMB_EAGAIN); /* slot 2 looks idle */
  ck_assert_int_eq(shmb_ring_stalled(&rx, &st), SHMB_ECORRUPT);
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, SHMB__RING_POISON);
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, 0);
  /* A sender does not rewrite a position already stamped. */
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_ESTALE);
  atomic_store(&hdr()->tail, 2);
  send_n(&tx, 2);
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, 1); /* older than pos 2 */
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
  /* A stamp of a later lap that does not map onto this slot... */
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, 2 * 7 + 2);
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
  /* ...or that the tail has not reached. */
  atomic_store(&shmb__ring_slot_at(&rx, 2)->seq, 2 * 6 + 2);
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
  /* A tail far ahead: counted as loss, bounded, never a wild index. */
  atomic_store(&hdr()->tail, UINT64_C(1) << 61);
  ck_assert_int_eq(recv_rc(&rx), SHMB_ECORRUPT);
}
END_TEST

START_TEST(test_ring_corrupt_every_slot_poisoned) {
  /* A hostile peer poisons every slot: senders and receivers stop with an
   * error after a bounded walk instead of skipping forever. */
  shmb_ring tx, rx;
  for (int kind = SHMB_RING_BROADCAST; kind <= SHMB_RING_QUEUE; kind++) {
    make((enum shmb_ring_kind)kind, 4, 16);
    attach(&tx, 0, 1);
    attach(&rx, 0, 2);
    for (uint64_t i = 0; i < 4; i++)
      atomic_store(&shmb__ring_slot_at(&rx, i)->seq, SHMB__RING_POISON | i);
    ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_ECORRUPT);
    ck_assert_int_lt(recv_rc(&rx), 0);
  }
}
END_TEST

/* --- peers that stall holding a slot */

START_TEST(test_ring_queue_dead_sender) {
  shmb_ring dead, tx, rx;
  shmb_ring_stall st, again;
  void *p;
  size_t cap;
  uint64_t d;
  make(SHMB_RING_QUEUE, 4, 16);
  attach(&dead, SHMB_RING_QUEUE, 1);
  attach(&tx, SHMB_RING_QUEUE, 2);
  attach(&rx, SHMB_RING_QUEUE, 3);
  ck_assert_int_eq(shmb_ring_reserve(&dead, &p, &cap), 0); /* then "dies" */
  send_n(&tx, 1);
  recv_none(&rx); /* in order: position 0 first */
  ck_assert_int_eq(shmb_ring_stalled(&rx, &st), 1);
  ck_assert_int_eq(shmb_ring_stalled(&rx, &again), 1);
  ck_assert_mem_eq(&st, &again, sizeof(st)); /* same stall after the bound */
  d = shmb_ring_data_seq(&rx);
  ck_assert_uint_eq(shmb_ring_aborted(&rx), 0);
  ck_assert_int_eq(shmb_ring_abort_stall(&rx, &st), 0);
  ck_assert_uint_eq(shmb_ring_aborted(&rx), 1);
  ck_assert_uint_ne(shmb_ring_data_seq(&rx), d); /* waiters re-check */
  ck_assert_int_eq(shmb_ring_abort_stall(&rx, &st), SHMB_EAGAIN);
  recv_n(&rx, 1, 0);
  ck_assert_int_eq(shmb_ring_stalled(&rx, &st), 0);
  /* The late sender learns its message was dropped. */
  ck_assert_int_eq(shmb_ring_commit(&dead, 1), SHMB_ESTALE);
  /* The ring keeps going on its three other slots, lap after lap. */
  for (unsigned i = 0; i < 40; i++) {
    send_n(&tx, 100 + i);
    send_n(&tx, 200 + i);
    send_n(&tx, 300 + i);
    ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_EAGAIN);
    recv_n(&rx, 100 + i, 0);
    recv_n(&rx, 200 + i, 0);
    recv_n(&rx, 300 + i, 0);
    recv_none(&rx);
  }
}
END_TEST

START_TEST(test_ring_queue_dead_receiver) {
  shmb_ring tx, dead, rx;
  shmb_ring_stall st;
  const void *q;
  size_t len;
  uint64_t space;
  make(SHMB_RING_QUEUE, 2, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&dead, SHMB_RING_QUEUE, 2);
  attach(&rx, SHMB_RING_QUEUE, 3);
  send_n(&tx, 0);
  send_n(&tx, 1);
  ck_assert_int_eq(shmb_ring_peek(&dead, &q, &len, NULL), 0); /* "dies" */
  recv_n(&rx, 1, 0);
  /* Position 2 maps onto the dead receiver's slot: the sender waits. */
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_EAGAIN);
  ck_assert_int_eq(shmb_ring_stalled(&tx, &st), 1);
  space = shmb_ring_space_seq(&tx);
  ck_assert_int_eq(shmb_ring_abort_stall(&tx, &st), 0);
  ck_assert_uint_ne(shmb_ring_space_seq(&tx), space);
  for (unsigned i = 2; i < 20; i++) { /* one slot left, every lap skips 0 */
    send_n(&tx, i);
    ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_EAGAIN);
    recv_n(&rx, i, 0);
    recv_none(&rx);
  }
  /* The late receiver still had its whole message. */
  ck_assert_uint_eq(len, 2);
  ck_assert_mem_eq(q, "m0", 2);
  ck_assert_int_eq(shmb_ring_release(&dead), 0);
  send_n(&tx, 20);
  recv_n(&rx, 20, 0);
}
END_TEST

START_TEST(test_ring_queue_full_is_not_a_stall) {
  shmb_ring tx, rx;
  shmb_ring_stall st;
  make(SHMB_RING_QUEUE, 2, 16);
  attach(&tx, SHMB_RING_QUEUE, 1);
  attach(&rx, SHMB_RING_QUEUE, 2);
  send_n(&tx, 0);
  send_n(&tx, 1);
  ck_assert_int_eq(shmb_ring_stalled(&tx, &st), 0);
  recv_n(&rx, 0, 0);
  ck_assert_int_eq(shmb_ring_stalled(&tx, &st), 0);
}
END_TEST

START_TEST(test_ring_broadcast_dead_sender) {
  shmb_ring dead, tx, rx;
  shmb_ring_stall st;
  void *p;
  size_t cap;
  make(SHMB_RING_BROADCAST, 4, 16);
  attach(&dead, SHMB_RING_BROADCAST, 1);
  attach(&tx, SHMB_RING_BROADCAST, 2);
  attach(&rx, SHMB_RING_BROADCAST, 3);
  send_n(&tx, 0);
  ck_assert_int_eq(shmb_ring_reserve(&dead, &p, &cap), 0); /* then "dies" */
  ck_assert_int_eq(shmb_ring_stalled(&dead, &st), 0);      /* its own */
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_EAGAIN);
  ck_assert_int_eq(shmb_ring_stalled(&tx, &st), 1);
  ck_assert_int_eq(shmb_ring_abort_stall(&tx, &st), 0);
  send_n(&tx, 2);
  /* Position 1 was the dead sender's: lost to every receiver. */
  recv_n(&rx, 0, 0);
  recv_n(&rx, 2, 1);
  memcpy(p, "late", 4);
  ck_assert_int_eq(shmb_ring_commit(&dead, 4), SHMB_ESTALE);
  recv_none(&rx);
  /* Three slots left, lap after lap: every position on the aborted slot
   * is skipped and reported lost, and the counts still add up. */
  for (unsigned i = 3; i < 40; i++) {
    char buf[BIG], m[32];
    size_t len;
    uint64_t lost;
    int mlen = snprintf(m, sizeof(m), "m%u", i);
    send_n(&tx, i);
    ck_assert_int_eq(shmb_ring_receive(&rx, buf, sizeof(buf), &len, &lost), 0);
    ck_assert_mem_eq(buf, m, (size_t)mlen);
    ck_assert_uint_le(lost, 1);
  }
  recv_none(&rx);
  /* 39 messages delivered (0, 2..39), positions 0..tail-1 all accounted. */
  ck_assert_uint_eq(39 + shmb_ring_lost(&rx), atomic_load(&hdr()->tail));
  ck_assert_uint_gt(shmb_ring_lost(&rx), 9);
}
END_TEST

START_TEST(test_ring_broadcast_one_writer_per_slot) {
  /* A holder whose lock was broken before it stamped its slot can still
   * stamp the next position; a sender that finds that position claimed
   * gives up instead of writing the same slot. */
  shmb_ring tx, rx;
  make(SHMB_RING_BROADCAST, 4, 16);
  attach(&tx, SHMB_RING_BROADCAST, 1);
  attach(&rx, SHMB_RING_BROADCAST, 2);
  send_n(&tx, 0);
  atomic_store(&shmb__ring_slot_at(&rx, 1)->seq, 2 * 1 + 1);
  ck_assert_int_eq(shmb_ring_send(&tx, "x", 1), SHMB_ESTALE);
  ck_assert_uint_eq(atomic_load(&hdr()->lock) >> 32, 0); /* lock freed */
  atomic_store(&shmb__ring_slot_at(&rx, 1)->seq, 2 * 1 + 2); /* it commits */
  atomic_store(&hdr()->tail, 2);
  send_n(&tx, 2);
  recv_n(&rx, 0, 0);
  ck_assert_int_eq(recv_rc(&rx), 0); /* the other writer's position 1 */
  recv_n(&rx, 2, 0);
}
END_TEST

START_TEST(test_ring_abort_after_progress_is_refused) {
  shmb_ring a, b;
  shmb_ring_stall st;
  void *p;
  size_t cap;
  make(SHMB_RING_BROADCAST, 4, 16);
  attach(&a, SHMB_RING_BROADCAST, 1);
  attach(&b, SHMB_RING_BROADCAST, 2);
  ck_assert_int_eq(shmb_ring_reserve(&a, &p, &cap), 0);
  ck_assert_int_eq(shmb_ring_stalled(&b, &st), 1);
  ck_assert_int_eq(shmb_ring_commit(&a, 0), 0); /* it was only slow */
  ck_assert_int_eq(shmb_ring_abort_stall(&b, &st), SHMB_EAGAIN);
  ck_assert_int_eq(shmb_ring_reserve(&a, &p, &cap), 0); /* the next one */
  ck_assert_int_eq(shmb_ring_abort_stall(&b, &st), SHMB_EAGAIN);
  ck_assert_int_eq(shmb_ring_commit(&a, 0), 0);
}
END_TEST

Suite *ring_suite(void) {
  Suite *s = suite_create("ring");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_ring_geometry_checked);
  tcase_add_test(tc, test_ring_attach_checks_kind_and_view);
  tcase_add_test(tc, test_ring_queue_round_trip);
  tcase_add_test(tc, test_ring_queue_wrap_around);
  tcase_add_test(tc, test_ring_queue_full);
  tcase_add_test(tc, test_ring_change_counters);
  tcase_add_test(tc, test_ring_oversize_message);
  tcase_add_test(tc, test_ring_zero_copy);
  tcase_add_test(tc, test_ring_queue_one_receiver_per_message);
  tcase_add_test(tc, test_ring_broadcast_round_trip);
  tcase_add_test(tc, test_ring_broadcast_loss_exact);
  tcase_add_test(tc, test_ring_broadcast_peek_overwritten);
  tcase_add_test(tc, test_ring_broadcast_sender_lock);
  tcase_add_test(tc, test_ring_corrupt_header);
  tcase_add_test(tc, test_ring_corrupt_header_after_attach);
  tcase_add_test(tc, test_ring_corrupt_length);
  tcase_add_test(tc, test_ring_corrupt_queue_indices);
  tcase_add_test(tc, test_ring_corrupt_broadcast_indices);
  tcase_add_test(tc, test_ring_corrupt_every_slot_poisoned);
  tcase_add_test(tc, test_ring_queue_dead_sender);
  tcase_add_test(tc, test_ring_queue_dead_receiver);
  tcase_add_test(tc, test_ring_queue_full_is_not_a_stall);
  tcase_add_test(tc, test_ring_broadcast_dead_sender);
  tcase_add_test(tc, test_ring_broadcast_skip_told_later);
  tcase_add_test(tc, test_ring_broadcast_one_writer_per_slot);
  tcase_add_test(tc, test_ring_abort_after_progress_is_refused);
  suite_add_tcase(s, tc);
  return s;
}
