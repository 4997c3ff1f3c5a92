/*
 * libFuzzer target for the channel ring (common/ring*.c): the input is what
 * a hostile peer could leave in a shared section, followed by what an
 * honest client then does with it.
 *
 * Input: 12 bytes of control, then the region.
 *   [0]     bit 0: 0 = the region is the rest of the input as it is (the
 *           seeds are real rings); 1 = a ring is formatted (kind bit 1,
 *           geometry from [1]) and the rest is laid over it from byte 64
 *           on, keeping a valid fixed header so that every mutation lands
 *           in the counters and slots.
 *   [1]     geometry for mode 1: slots 2 << (b & 3), slot_size 8 * (1 +
 *           (b >> 2 & 7)).
 *   [2]     how far back a broadcast receiver starts (as if it had
 *           attached earlier).
 *   [3..11] operations, one byte each: receive, peek and release, send,
 *           reserve and commit, stall check and abort, counters, re-attach,
 *           drain.
 *
 * The region is a heap block of exactly its size, so AddressSanitizer
 * reports any read or write past it; libFuzzer's -timeout catches a loop
 * that does not end. The checks here: every call returns a known code, a
 * received length is within slot_size, a peeked view lies inside the ring.
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz_check.h"
#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CTRL 12
#define NOPS 9

static unsigned char *base;
static size_t len;

static int known(int rc) {
  return rc == 0 || rc == SHMB_EAGAIN || rc == SHMB_ECORRUPT ||
         rc == SHMB_ESTALE || rc == SHMB_EINVAL || rc == SHMB_EMSGSIZE;
}

static void check_view(const shmb_ring *r, const void *p, size_t n) {
  const unsigned char *q = p;
  CHECK(n <= r->slot_size);
  CHECK(q >= base && q <= base + len && n <= (size_t)(base + len - q));
}

static void op_receive(shmb_ring *r) {
  static unsigned char buf[1 << 16]; /* more than any input's ring */
  size_t n = 0;
  uint64_t lost;
  int rc;
  if (r->slot_size > sizeof(buf))
    return;
  rc = shmb_ring_receive(r, buf, sizeof(buf), &n, &lost);
  CHECK(known(rc));
  if (rc == 0)
    CHECK(n <= r->slot_size);
}

static void op_peek(shmb_ring *r) {
  const void *p;
  size_t n;
  int rc = shmb_ring_peek(r, &p, &n, NULL);
  CHECK(known(rc));
  if (rc != 0)
    return;
  check_view(r, p, n);
  /* Read it all, as an application would. */
  volatile unsigned char sink = 0;
  for (size_t i = 0; i < n; i++)
    sink ^= ((const unsigned char *)p)[i];
  (void)sink;
  rc = shmb_ring_release(r);
  CHECK(rc == 0 || rc == SHMB_ESTALE);
}

static void op_send(shmb_ring *r, uint8_t b) {
  static const unsigned char msg[64] = "fuzz";
  size_t n = b >> 3;
  int rc = shmb_ring_send(r, msg, n);
  CHECK(known(rc));
  if (n > r->slot_size)
    CHECK(rc == SHMB_EMSGSIZE);
}

static void op_reserve(shmb_ring *r, uint8_t b) {
  void *p;
  size_t cap;
  int rc = shmb_ring_reserve(r, &p, &cap);
  CHECK(known(rc));
  if (rc != 0)
    return;
  CHECK(cap == r->slot_size);
  check_view(r, p, cap);
  memset(p, b, cap);
  rc = shmb_ring_commit(r, (b >> 3) % (cap + 1));
  CHECK(rc == 0 || rc == SHMB_ESTALE);
}

static void op_stall(shmb_ring *r) {
  shmb_ring_stall st;
  int rc = shmb_ring_stalled(r, &st);
  CHECK(rc == 0 || rc == 1 || rc == SHMB_ECORRUPT);
  if (rc == 1) {
    rc = shmb_ring_abort_stall(r, &st);
    CHECK(rc == 0 || rc == SHMB_EAGAIN || rc == SHMB_ECORRUPT);
  }
}

static void run_ops(shmb_ring *r, const uint8_t *ops, uint8_t rewind) {
  for (int i = 0; i < NOPS; i++) {
    uint8_t b = ops[i];
    switch (b & 7) {
    case 0: op_receive(r); break;
    case 1: op_peek(r); break;
    case 2: op_send(r, b); break;
    case 3: op_reserve(r, b); break;
    case 4: op_stall(r); break;
    case 5:
      (void)shmb_ring_data_seq(r);
      (void)shmb_ring_space_seq(r);
      break;
    case 6:
      if (shmb_ring_attach(r, base, len, 0, b) != 0)
        return;
      r->rpos -= rewind < r->rpos ? rewind : r->rpos;
      break;
    default:
      for (int k = 0; k < 64; k++)
        op_receive(r);
      break;
    }
  }
}

/* Mode 1: a formatted ring with the input laid over it from byte 64. */
static int formatted(const uint8_t *d, size_t n) {
  uint32_t slots = 2u << (d[1] & 3), slot_size = 8u * (1u + (d[1] >> 2 & 7));
  enum shmb_ring_kind kind = d[0] & 2 ? SHMB_RING_QUEUE : SHMB_RING_BROADCAST;
  size_t need;
  CHECK(shmb_ring_size(slots, slot_size, &need) == 0);
  len = need;
  if (posix_memalign((void **)&base, SHMB_RING_ALIGN, len) != 0)
    return -1;
  CHECK(shmb_ring_init(base, len, kind, slots, slot_size) == 0);
  n -= CTRL;
  if (n > len - 64)
    n = len - 64;
  memcpy(base + 64, d + CTRL, n);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  shmb_ring r;
  int rc;

  if (size < CTRL)
    return 0;
  if (data[0] & 1) {
    if (formatted(data, size) != 0)
      return 0;
  } else {
    len = size - CTRL;
    if (len == 0 || posix_memalign((void **)&base, SHMB_RING_ALIGN, len) != 0)
      return 0;
    memcpy(base, data + CTRL, len);
  }
  rc = shmb_ring_attach(&r, base, len, 0, 7);
  CHECK(rc == 0 || rc == SHMB_ECORRUPT);
  if (rc == 0) {
    CHECK(r.size <= len);
    r.rpos -= data[2] < r.rpos ? data[2] : r.rpos;
    run_ops(&r, data + 3, data[2]);
  }
  free(base);
  base = NULL;
  return 0;
}
