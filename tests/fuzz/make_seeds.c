/*
 * Writes the frame seed corpus (tests/fuzz/corpus/frame) with the real
 * encoders: one valid frame of every request and reply type, a stream of
 * requests back to back, bare reply payloads (fuzz_frame also decodes its
 * whole input as one payload), and a few frames broken in the ways the
 * decoders must refuse. Generated rather than hand-written so that the seeds
 * follow the encoders; the output is deterministic, and tools/fuzz.sh adds a
 * fresh set to the corpus it runs on.
 *
 * With "ring" after DIR it writes the ring corpus (tests/fuzz/corpus/ring)
 * instead: real rings of both kinds made with the ring's own calls, in the
 * states a receiver meets (empty, pending, wrapped, full, lapped, held by a
 * stalled peer), each behind fuzz_ring's 12 control bytes.
 *
 * Usage: make_seeds DIR [ring]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "ring.h"

static const char *dir;
static int failed;

static void write_file(const char *name, const uint8_t *p, size_t len) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  if (!(f = fopen(path, "wb")) || fwrite(p, 1, len, f) != len) {
    perror(path);
    failed = 1;
  }
  if (f && fclose(f) != 0) {
    perror(path);
    failed = 1;
  }
}

/* Writes a frame from an encoder (rc, frame) and frees it. */
static void frame(const char *name, int rc, uint8_t *p, size_t len) {
  if (rc != 0) {
    fprintf(stderr, "%s: encoder failed: %s\n", name, shmb_err_name(rc));
    failed = 1;
    return;
  }
  write_file(name, p, len);
  free(p);
}

/* The same, and its payload alone under "payload-" + name. */
static void frame_and_payload(const char *name, int rc, uint8_t *p,
                              size_t len) {
  char pname[256];
  if (rc == 0) {
    snprintf(pname, sizeof(pname), "payload-%s", name);
    write_file(pname, p + SHMB_HEADER_SIZE, len - SHMB_HEADER_SIZE);
  }
  frame(name, rc, p, len);
}

static void built(const char *name, shmb_frame_buf *b) {
  int rc = shmb_frame_end(b);
  frame_and_payload(name, rc, rc == 0 ? b->data : NULL, b->len);
}

/* A valid frame with one byte changed (at, to) or its length cut. */
static void mutated(const char *name, int rc, uint8_t *p, size_t len, size_t at,
                    uint8_t to, size_t cut) {
  if (rc == 0 && at < len)
    p[at] = to;
  frame(name, rc, p, rc == 0 ? len - cut : 0);
}

static void requests(void) {
  uint8_t *p, *q, *r;
  size_t n, m, k;

  frame("req-hello", shmb_encode_hello(1, 1, 1, &p, &n), p, n);
  frame("req-list", shmb_encode_list(2, &p, &n), p, n);
  frame("req-status", shmb_encode_status(3, &p, &n), p, n);
  frame("req-reload", shmb_encode_reload(4, &p, &n), p, n);
  frame("req-open-read",
        shmb_encode_open(5, "telemetry", SHMB_WIRE_ACCESS_READ, &p, &n), p, n);
  frame("req-open-rw",
        shmb_encode_open(6, "scratch.v2_a-b", SHMB_WIRE_ACCESS_MASK, &p, &n), p,
        n);
  frame("req-doorbell-wait",
        shmb_encode_doorbell(8, "telemetry", SHMB_WIRE_ACCESS_READ, &p, &n), p,
        n);
  frame("req-doorbell-ring",
        shmb_encode_doorbell(9, "telemetry", SHMB_WIRE_ACCESS_WRITE, &p, &n),
        p, n);
  frame("req-peers", shmb_encode_peers(10, "telemetry", 3, &p, &n), p, n);
  frame("req-open-longest",
        shmb_encode_open(7,
                         "A234567890123456789012345678901234567890123456789"
                         "012345678901234",
                         SHMB_WIRE_ACCESS_WRITE, &p, &n),
        p, n);

  /* HELLO, OPEN, LIST back to back, as one read might deliver them. */
  if (shmb_encode_hello(1, 1, 1, &p, &n) == 0 &&
      shmb_encode_open(2, "scratch", SHMB_WIRE_ACCESS_READ, &q, &m) == 0 &&
      shmb_encode_list(3, &r, &k) == 0) {
    uint8_t all[256];
    memcpy(all, p, n);
    memcpy(all + n, q, m);
    memcpy(all + n + m, r, k);
    write_file("stream-hello-open-list", all, n + m + k);
    free(p);
    free(q);
    free(r);
  }

  /* Broken: each must be refused. */
  mutated("bad-magic", shmb_encode_list(1, &p, &n), p, n, 0, 'X', 0);
  mutated("bad-version", shmb_encode_list(1, &p, &n), p, n, 4, 2, 0);
  mutated("bad-flags", shmb_encode_list(1, &p, &n), p, n, 6, 1, 0);
  mutated("bad-opcode", shmb_encode_list(1, &p, &n), p, n, 5, 0x42, 0);
  mutated("bad-too-big", shmb_encode_list(1, &p, &n), p, n, 13, 0x10, 0);
  mutated("bad-hello-min-max", shmb_encode_hello(1, 1, 1, &p, &n), p, n, 16, 2,
          0);
  mutated("bad-open-reserved",
          shmb_encode_open(1, "scratch", SHMB_WIRE_ACCESS_READ, &p, &n), p, n,
          20, 1, 0);
  mutated("bad-open-name",
          shmb_encode_open(1, "scratch", SHMB_WIRE_ACCESS_READ, &p, &n), p, n,
          24, ' ', 0);
  mutated("bad-open-access",
          shmb_encode_open(1, "scratch", SHMB_WIRE_ACCESS_READ, &p, &n), p, n,
          16, 4, 0);
  mutated("bad-open-truncated",
          shmb_encode_open(1, "scratch", SHMB_WIRE_ACCESS_READ, &p, &n), p, n,
          0, 'S', 3);
}

static void replies(void) {
  shmb_frame_buf b;
  uint8_t *p;
  size_t n;

  frame_and_payload("rep-hello",
                    shmb_encode_hello_reply(1, 1, "shmbrokerd 0.1.0", &p, &n),
                    p, n);
  frame_and_payload("rep-open",
                    shmb_encode_open_reply(5, SHMB_WIRE_ACCESS_READ, 64u << 20,
                                           "Global\\shmb-0123456789abcdef0123"
                                           "456789abcdef",
                                           &p, &n),
                    p, n);
  frame_and_payload("rep-open-handle",
                    shmb_encode_open_reply_handle(5, SHMB_WIRE_ACCESS_READ,
                                                  64u << 20,
                                                  SHMB_OPEN_FLAG_HANDLE,
                                                  0x1a4, 0x2f8, &p, &n),
                    p, n);
  frame_and_payload("rep-doorbell-ring",
                    shmb_encode_doorbell_reply(
                        6, SHMB_WIRE_ACCESS_WRITE,
                        "Local\\shmb-0123456789abcdef0123456789abcdef",
                        "Local\\shmb-fedcba9876543210fedcba9876543210", "", "",
                        &p, &n),
                    p, n);
  frame_and_payload("rep-doorbell-wait",
                    shmb_encode_doorbell_reply(
                        7, SHMB_WIRE_ACCESS_READ,
                        "Local\\shmb-0123456789abcdef0123456789abcdef", "",
                        "Local\\shmb-00112233445566778899aabbccddeeff",
                        "Local\\shmb-ffeeddccbbaa99887766554433221100", &p,
                        &n),
                    p, n);
  {
    shmb_wire_doorbell_handles ring = {0x1c4, 0x1c8, 0, 0, 0x2f8, 0};
    shmb_wire_doorbell_handles wait = {0x1d0, 0, 0x1d4, 0x1d8, 0x2f8, 0};
    shmb_wire_peer peers[2] = {{0, 1, 0x1e0, 0x1e4}, {3, 7, 0x1e8, 0x1ec}};
    frame_and_payload("rep-doorbell-ring-handle",
                      shmb_encode_doorbell_reply_handles(
                          8, SHMB_WIRE_ACCESS_WRITE, &ring, &p, &n),
                      p, n);
    frame_and_payload("rep-doorbell-wait-handle",
                      shmb_encode_doorbell_reply_handles(
                          9, SHMB_WIRE_ACCESS_READ, &wait, &p, &n),
                      p, n);
    shmb_peers_reply_start(&b, 10, 4, 8, 0x2f8);
    for (int i = 0; i < 2; i++)
      shmb_peers_reply_add(&b, &peers[i]);
    frame_and_payload("rep-peers", shmb_frame_finish(&b, &p, &n), p, n);
  }
  frame_and_payload("rep-reload",
                    shmb_encode_message_reply(SHMB_OP_RELOAD | SHMB_OP_REPLY, 4,
                                              "added 1, removed 0, kept 2", &p,
                                              &n),
                    p, n);
  frame_and_payload("rep-error",
                    shmb_encode_error(SHMB_OP_OPEN | SHMB_OP_REPLY, 5,
                                      SHMB_EACCES, "access denied", &p, &n),
                    p, n);
  frame("rep-error-bad-header",
        shmb_encode_error(SHMB_OP_ERROR, 0, SHMB_EPROTO, "bad!", &p, &n), p, n);

  shmb_list_reply_start(&b, 2);
  built("rep-list-empty", &b);
  shmb_list_reply_start(&b, 2);
  shmb_list_reply_add(&b, "telemetry", 64u << 20, SHMB_WIRE_ACCESS_READ, 0);
  shmb_list_reply_add(&b, "scratch", 1u << 20, SHMB_WIRE_ACCESS_MASK,
                      SHMB_OPEN_FLAG_QUEUE | SHMB_OPEN_FLAG_NOTIFY);
  shmb_list_reply_add(&b, "system-only", 4096, SHMB_WIRE_ACCESS_READ, 0);
  built("rep-list", &b);

  shmb_status_reply_start(&b, 3);
  built("rep-status-empty", &b);
  shmb_status_reply_start(&b, 3);
  shmb_status_reply_add(&b, "version", "0.1.0");
  shmb_status_reply_add(&b, "uptime_ms", "12345");
  shmb_status_reply_add(&b, "sections", "3");
  shmb_status_reply_add(&b, "config", "");
  built("rep-status", &b);

  /* A LIST reply whose count promises more than it holds. */
  shmb_list_reply_start(&b, 2);
  shmb_list_reply_add(&b, "scratch", 1u << 20, SHMB_WIRE_ACCESS_READ, 0);
  if (shmb_frame_end(&b) == 0) {
    b.data[SHMB_HEADER_SIZE + 4] = 2;
    write_file("bad-list-count", b.data, b.len);
    shmb_frame_discard(&b);
  }
}

/* fuzz_ring's control bytes: mode, geometry, rewind, then nine operations
 * (receive, peek, send, reserve, stall, counters, drain...). */
static const uint8_t ring_ctrl[12] = {0, 0, 16, 0, 1, 7, 0x12, 3, 4, 0, 5, 7};

/* A ring of this shape after `sent` sends and `received` receives (and a
 * reservation left open when `held`), written as a seed. */
static void ring(const char *name, enum shmb_ring_kind kind, uint32_t slots,
                 uint32_t slot_size, unsigned sent, unsigned received,
                 int held) {
  static _Alignas(64) uint8_t buf[12 + 64 + 8192];
  uint8_t *region = buf + 64; /* aligned; the control bytes go before it */
  uint8_t msg[64];
  shmb_ring tx, rx;
  size_t size, n, cap;
  void *p;

  if (shmb_ring_size(slots, slot_size, &size) != 0 || size > 8192 ||
      shmb_ring_init(region, size, kind, slots, slot_size) != 0 ||
      shmb_ring_attach(&tx, region, size, kind, 1) != 0 ||
      shmb_ring_attach(&rx, region, size, kind, 2) != 0) {
    fprintf(stderr, "%s: cannot make the ring\n", name);
    failed = 1;
    return;
  }
  for (unsigned i = 0; i < sent; i++) {
    n = (size_t)snprintf((char *)msg, sizeof(msg), "message %u", i);
    shmb_ring_send(&tx, msg, n < slot_size ? n : slot_size);
  }
  for (unsigned i = 0; i < received; i++)
    shmb_ring_receive(&rx, msg, sizeof(msg), &n, NULL);
  if (held)
    shmb_ring_reserve(&tx, &p, &cap);
  memcpy(region - sizeof(ring_ctrl), ring_ctrl, sizeof(ring_ctrl));
  write_file(name, region - sizeof(ring_ctrl), sizeof(ring_ctrl) + size);
}

static void rings(void) {
  static const uint8_t overlay_q[12 + 8] = {3, 0x1d, 0, 0, 1, 2, 3, 4, 7};
  static const uint8_t overlay_b[12 + 8] = {1, 0x0e, 4, 7, 0, 1, 3, 4, 7};
  ring("queue-empty", SHMB_RING_QUEUE, 8, 64, 0, 0, 0);
  ring("queue-pending", SHMB_RING_QUEUE, 8, 64, 5, 2, 0);
  ring("queue-wrapped", SHMB_RING_QUEUE, 4, 16, 13, 10, 0);
  ring("queue-full", SHMB_RING_QUEUE, 4, 16, 4, 0, 0);
  ring("queue-held", SHMB_RING_QUEUE, 4, 16, 2, 1, 1);
  ring("broadcast-empty", SHMB_RING_BROADCAST, 8, 32, 0, 0, 0);
  ring("broadcast-pending", SHMB_RING_BROADCAST, 8, 32, 5, 0, 0);
  ring("broadcast-lapped", SHMB_RING_BROADCAST, 4, 16, 11, 0, 0);
  ring("broadcast-held", SHMB_RING_BROADCAST, 4, 16, 3, 0, 1);
  write_file("overlay-queue", overlay_q, sizeof(overlay_q));
  write_file("overlay-broadcast", overlay_b, sizeof(overlay_b));
}

int main(int argc, char **argv) {
  if (argc != 2 && !(argc == 3 && strcmp(argv[2], "ring") == 0)) {
    fprintf(stderr, "usage: %s DIR [ring]\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  if (argc == 3) {
    rings();
    return failed;
  }
  requests();
  replies();
  return failed;
}
