/*
 * Writes the frame seed corpus (tests/fuzz/corpus/frame) with the real
 * encoders: one valid frame of every request and reply type, a stream of
 * requests back to back, bare reply payloads (fuzz_frame also decodes its
 * whole input as one payload), and a few frames broken in the ways the
 * decoders must refuse. Generated rather than hand-written so that the seeds
 * follow the encoders; the output is deterministic, and tools/fuzz.sh adds a
 * fresh set to the corpus it runs on.
 *
 * Usage: make_seeds DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"

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
  shmb_list_reply_add(&b, "telemetry", 64u << 20, SHMB_WIRE_ACCESS_READ);
  shmb_list_reply_add(&b, "scratch", 1u << 20, SHMB_WIRE_ACCESS_MASK);
  shmb_list_reply_add(&b, "system-only", 4096, SHMB_WIRE_ACCESS_READ);
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
  shmb_list_reply_add(&b, "scratch", 1u << 20, SHMB_WIRE_ACCESS_READ);
  if (shmb_frame_end(&b) == 0) {
    b.data[SHMB_HEADER_SIZE + 4] = 2;
    write_file("bad-list-count", b.data, b.len);
    shmb_frame_discard(&b);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  requests();
  replies();
  return failed;
}
