/*
 * Wire protocol (common/protocol.c): HELLO, OPEN and LIST replies as the SDK
 * decodes them: round trips, and forged replies with bad fields, counts or
 * trailing bytes. Every byte a decoder sees comes from a peer we do not trust,
 * so besides round trips through the real encoders these tests forge frames by
 * hand. Split from check_protocol.c.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "protocol_util.h"

/* ---- replies ------------------------------------------------------------ */

START_TEST(test_reply_hello_reply_round_trip) {
  static const char *const servers[] = {"shmbrokerd 0.1.0", ""};
  for (size_t i = 0; i < 2; i++) {
    uint8_t *f;
    size_t len, plen;
    const uint8_t *p;
    shmb_hello_reply r;
    ck_assert_int_eq(shmb_encode_hello_reply(77, 1, servers[i], &f, &len), 0);
    p = payload_of(f, len, SHMB_OP_HELLO | SHMB_OP_REPLY, 77, &plen);
    ck_assert_uint_eq(plen, 20 + strlen(servers[i]));
    memset(&r, 0xAA, sizeof(r));
    ck_assert_int_eq(shmb_hello_reply_decode(p, plen, &r), 0);
    ck_assert_uint_eq(r.version, 1);
    ck_assert_uint_eq(r.max_frame, SHMB_MAX_FRAME);
    assert_str(r.server, servers[i]);
    free(f);
  }
}
END_TEST

START_TEST(test_reply_hello_reply_rejects_reserved_and_trailing) {
  uint8_t *f, *copy;
  size_t len, plen;
  const uint8_t *p;
  shmb_hello_reply r;
  ck_assert_int_eq(shmb_encode_hello_reply(1, 1, "srv", &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_HELLO | SHMB_OP_REPLY, 1, &plen);
  /* Each reserved byte: payload offsets 5-7, 14-15, 16-19. */
  static const size_t reserved[] = {5, 6, 7, 14, 15, 16, 17, 18, 19};
  for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
    copy = dup_bytes(p, plen);
    copy[reserved[i]] = 1;
    ck_assert_int_eq(shmb_hello_reply_decode(copy, plen, &r), SHMB_EPROTO);
    free(copy);
  }
  /* server_len one more, one less than the bytes present. */
  copy = dup_bytes(p, plen);
  copy[12] = 4;
  ck_assert_int_eq(shmb_hello_reply_decode(copy, plen, &r), SHMB_EPROTO);
  copy[12] = 2;
  ck_assert_int_eq(shmb_hello_reply_decode(copy, plen, &r), SHMB_EPROTO);
  free(copy);
  for (size_t n = 0; n < plen; n++) {
    copy = dup_bytes(p, n);
    ck_assert_int_eq(shmb_hello_reply_decode(copy, n, &r), SHMB_EPROTO);
    free(copy);
  }
  free(f);
}
END_TEST

START_TEST(test_reply_open_reply_round_trip) {
  const char *object = "Global\\shmb-3f2a9c0e5b7d41a8b6c2d9e0f1a2b3c4";
  const uint64_t size = 0x123456789ABull;
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  shmb_open_reply r;
  ck_assert_int_eq(shmb_encode_open_reply(5, 3, size, object, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 5, &plen);
  ck_assert_uint_eq(plen, 24 + strlen(object));
  memset(&r, 0xAA, sizeof(r));
  ck_assert_int_eq(shmb_open_reply_decode(p, plen, &r), 0);
  ck_assert_uint_eq(r.access, 3);
  ck_assert_uint_eq(r.size, size);
  ck_assert_uint_eq(r.flags, 0);
  assert_str(r.object, object);
  free(f);
}
END_TEST

/* Revision 1's reply is exactly what it was before the handle: every
 * byte pinned, so a change that moves or adds a field fails here. */
START_TEST(test_reply_open_reply_named_bytes_pinned) {
  static const uint8_t want[] = {
      0, 0, 0, 0,                         /* status */
      3, 0, 0, 0,                         /* access read,write */
      0x00, 0x10, 0, 0, 0, 0, 0, 0,       /* size 4096 */
      1, 0, 0, 0,                         /* flags NOTIFY */
      0, 0,                               /* reserved */
      3, 0, 'o', 'b', 'j'};               /* object_len, object */
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  ck_assert_int_eq(shmb_encode_open_reply_flags(9, 3, 4096,
                                                SHMB_OPEN_FLAG_NOTIFY, "obj",
                                                &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 9, &plen);
  ck_assert_uint_eq(plen, sizeof(want));
  ck_assert_mem_eq(p, want, sizeof(want));
  free(f);
  /* The named encoder never says HANDLE: a name and a handle at once
   * would be two answers. */
  ck_assert_int_eq(shmb_encode_open_reply_flags(9, 3, 4096,
                                                SHMB_OPEN_FLAG_HANDLE, "obj",
                                                &f, &len), SHMB_EINVAL);
}
END_TEST

/* Revision 2's reply by handle: flags HANDLE, object_len 0, the handle as
 * a u64 after it, then the pid it is valid in and a reserved u32; every
 * byte pinned, and the round trip. */
START_TEST(test_reply_open_reply_handle_round_trip) {
  static const uint8_t want[] = {
      0, 0, 0, 0,                         /* status */
      1, 0, 0, 0,                         /* access read */
      0x00, 0x10, 0, 0, 0, 0, 0, 0,       /* size 4096 */
      9, 0, 0, 0,                         /* flags NOTIFY|HANDLE */
      0, 0,                               /* reserved */
      0, 0,                               /* object_len: no name */
      0x34, 0x12, 0, 0, 0x78, 0x56, 0, 0, /* handle */
      0xbc, 0x9a, 0, 0,                   /* pid */
      0, 0, 0, 0};                        /* reserved */
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  shmb_open_reply r;
  ck_assert_int_eq(shmb_encode_open_reply_handle(4, 1, 4096,
                                                 SHMB_OPEN_FLAG_NOTIFY,
                                                 0x0000567800001234ull,
                                                 0x9abc, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 4, &plen);
  ck_assert_uint_eq(plen, sizeof(want));
  ck_assert_uint_eq(plen, sizeof(shmb_wire_open_rep) +
                              sizeof(shmb_wire_open_handle));
  ck_assert_mem_eq(p, want, sizeof(want));
  memset(&r, 0xAA, sizeof(r));
  ck_assert_int_eq(shmb_open_reply_decode(p, plen, &r), 0);
  ck_assert_uint_eq(r.access, 1);
  ck_assert_uint_eq(r.size, 4096);
  ck_assert_uint_eq(r.flags, SHMB_OPEN_FLAG_NOTIFY | SHMB_OPEN_FLAG_HANDLE);
  ck_assert_uint_eq(r.object.len, 0);
  ck_assert_uint_eq(r.handle, 0x0000567800001234ull);
  ck_assert_uint_eq(r.pid, 0x9abc);
  free(f);
  /* A named reply decodes with handle 0. */
  ck_assert_int_eq(shmb_encode_open_reply(4, 1, 4096, "obj", &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 4, &plen);
  memset(&r, 0xAA, sizeof(r));
  ck_assert_int_eq(shmb_open_reply_decode(p, plen, &r), 0);
  ck_assert_uint_eq(r.handle, 0);
  ck_assert_uint_eq(r.pid, 0);
  free(f);
  ck_assert_int_eq(shmb_encode_open_reply_handle(4, 1, 4096, 0, 0, 7, &f,
                                                 &len), SHMB_EINVAL);
  /* No pid: a reply that cannot say whose the handle is. */
  ck_assert_int_eq(shmb_encode_open_reply_handle(4, 1, 4096, 0, 0x44, 0, &f,
                                                 &len), SHMB_EINVAL);
}
END_TEST

/* A reply by handle with chosen fields: object bytes, then the handle, the
 * pid and the reserved u32 (hbytes of those 16: 16 is whole), then extra
 * trailing bytes. */
static int decode_forged_handle_reply(uint32_t flags, uint16_t olen,
                                      const char *object, uint64_t handle,
                                      uint32_t pid, uint32_t reserved,
                                      size_t hbytes, size_t extra) {
  shmb_frame_buf b;
  shmb_open_reply r;
  uint8_t h[16], *copy;
  int rc;
  for (int i = 0; i < 8; i++)
    h[i] = (uint8_t)(handle >> (8 * i));
  for (int i = 0; i < 4; i++) {
    h[8 + i] = (uint8_t)(pid >> (8 * i));
    h[12 + i] = (uint8_t)(reserved >> (8 * i));
  }
  forge_begin(&b, SHMB_OP_OPEN | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, 1);
  shmb_put_u64(&b, 4096);
  shmb_put_u32(&b, flags);
  shmb_put_u16(&b, 0);
  shmb_put_u16(&b, olen);
  shmb_put_bytes(&b, object, olen);
  shmb_put_bytes(&b, h, hbytes);
  for (size_t i = 0; i < extra; i++)
    shmb_put_u8(&b, 0);
  ck_assert_int_eq(b.err, 0);
  copy = dup_bytes(pl(&b), pllen(&b));
  rc = shmb_open_reply_decode(copy, pllen(&b), &r);
  free(copy);
  shmb_frame_discard(&b);
  return rc;
}

START_TEST(test_reply_open_reply_handle_rejects_bad_fields) {
  const uint32_t H = SHMB_OPEN_FLAG_HANDLE;
  ck_assert_int_eq(decode_forged_handle_reply(H, 0, "", 0x44, 7, 0, 16, 0),
                   0);
  /* A name and a handle at once. */
  ck_assert_int_eq(decode_forged_handle_reply(H, 3, "obj", 0x44, 7, 0, 16, 0),
                   SHMB_EPROTO);
  /* Handle 0 (NULL) is no handle. */
  ck_assert_int_eq(decode_forged_handle_reply(H, 0, "", 0, 7, 0, 16, 0),
                   SHMB_EPROTO);
  /* Pid 0 is no process: whose the handle is cannot be told. */
  ck_assert_int_eq(decode_forged_handle_reply(H, 0, "", 0x44, 0, 0, 16, 0),
                   SHMB_EPROTO);
  /* The reserved field after the pid is zero. */
  ck_assert_int_eq(decode_forged_handle_reply(H, 0, "", 0x44, 7, 1, 16, 0),
                   SHMB_EPROTO);
  /* Cut short (in the handle, the pid or the reserved field), or with
   * bytes after them. */
  for (size_t n = 0; n < 16; n++)
    ck_assert_int_eq(decode_forged_handle_reply(H, 0, "", 0x44, 7, 0, n, 0),
                     SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_handle_reply(H, 0, "", 0x44, 7, 0, 16, 1),
                   SHMB_EPROTO);
  /* Without HANDLE, a handle after the name is a trailing byte. */
  ck_assert_int_eq(decode_forged_handle_reply(0, 3, "obj", 0x44, 7, 0, 16, 0),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_handle_reply(0, 0, "", 0x44, 7, 0, 16, 0),
                   SHMB_EPROTO);
}
END_TEST

#define BELL_A "Local\\shmb-0123456789abcdef0123456789abcdef"
#define BELL_B "Local\\shmb-fedcba9876543210fedcba9876543210"

START_TEST(test_reply_doorbell_reply_round_trip) {
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  shmb_doorbell_reply r;
  ck_assert_int_eq(shmb_encode_doorbell_reply(3, SHMB_WIRE_ACCESS_READ, BELL_A,
                                              "", BELL_B, BELL_A, &f, &len),
                   0);
  p = payload_of(f, len, SHMB_OP_DOORBELL | SHMB_OP_REPLY, 3, &plen);
  ck_assert_uint_eq(plen, 20 + 3 * strlen(BELL_A));
  ck_assert_int_eq(shmb_doorbell_reply_decode(p, plen, &r), 0);
  ck_assert_uint_eq(r.access, SHMB_WIRE_ACCESS_READ);
  assert_str(r.counter, BELL_A);
  ck_assert_uint_eq(r.registry.len, 0);
  assert_str(r.event, BELL_B);
  assert_str(r.armed, BELL_A);
  free(f);
}
END_TEST

/* A reply the SDK must refuse: each field out of bounds in turn. */
START_TEST(test_reply_doorbell_reply_refusals) {
  char long_name[SHMB_BELL_OBJECT_MAX + 2];
  uint8_t *f = NULL, *copy;
  size_t len, plen;
  const uint8_t *p;
  shmb_doorbell_reply r;

  memset(long_name, 'x', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  ck_assert_int_eq(shmb_encode_doorbell_reply(1, 1, long_name, "", "", "", &f,
                                              &len), SHMB_EINVAL);
  ck_assert_ptr_null(f);
  /* No counter name, both access bits, a NUL in a name, a short payload. */
  ck_assert_int_eq(shmb_encode_doorbell_reply(1, 1, "", "", "", "", &f, &len),
                   0);
  p = payload_of(f, len, SHMB_OP_DOORBELL | SHMB_OP_REPLY, 1, &plen);
  ck_assert_int_eq(shmb_doorbell_reply_decode(p, plen, &r), SHMB_EPROTO);
  free(f);
  ck_assert_int_eq(shmb_encode_doorbell_reply(1, 3, BELL_A, BELL_B, "", "",
                                              &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_DOORBELL | SHMB_OP_REPLY, 1, &plen);
  ck_assert_int_eq(shmb_doorbell_reply_decode(p, plen, &r), SHMB_EPROTO);
  copy = dup_bytes(p, plen);
  copy[4] = SHMB_WIRE_ACCESS_WRITE;
  ck_assert_int_eq(shmb_doorbell_reply_decode(copy, plen, &r), 0);
  copy[14 + 3] = '\0'; /* inside the counter name */
  ck_assert_int_eq(shmb_doorbell_reply_decode(copy, plen, &r), SHMB_EPROTO);
  free(copy);
  for (size_t n = 0; n < plen; n++) {
    copy = dup_bytes(p, n);
    ck_assert_int_eq(shmb_doorbell_reply_decode(copy, n, &r), SHMB_EPROTO);
    free(copy);
  }
  free(f);
}
END_TEST

/* The DOORBELL reply by handle: flags, four empty names, four values. */
static int decode_bell_handles_pid(uint32_t access, uint32_t flags,
                                   uint64_t counter, uint64_t registry,
                                   uint64_t event, uint64_t armed,
                                   uint32_t pid, shmb_doorbell_reply *r) {
  shmb_wire_doorbell_handles h = {counter, registry, event, armed, pid, 0};
  uint8_t *f, *copy;
  size_t len, plen;
  const uint8_t *p;
  int rc;
  ck_assert_int_eq(shmb_encode_doorbell_reply_handles(5, access, &h, &f,
                                                      &len), 0);
  p = payload_of(f, len, SHMB_OP_DOORBELL | SHMB_OP_REPLY, 5, &plen);
  ck_assert_uint_eq(plen, 12 + 4 * 2 + 40);
  copy = dup_bytes(p, plen);
  set_u32(copy + 8, flags);
  rc = shmb_doorbell_reply_decode(copy, plen, r);
  free(copy);
  free(f);
  return rc;
}

static int decode_bell_handles(uint32_t access, uint32_t flags,
                               uint64_t counter, uint64_t registry,
                               uint64_t event, uint64_t armed,
                               shmb_doorbell_reply *r) {
  return decode_bell_handles_pid(access, flags, counter, registry, event,
                                 armed, 4321, r);
}

START_TEST(test_reply_doorbell_reply_handles) {
  const uint32_t R = SHMB_WIRE_ACCESS_READ, W = SHMB_WIRE_ACCESS_WRITE;
  const uint32_t H = SHMB_BELL_FLAG_HANDLE;
  shmb_doorbell_reply r;
  uint8_t *f, *copy;
  size_t len, plen;
  const uint8_t *p;
  ck_assert_int_eq(decode_bell_handles(R, H, 0x10, 0, 0x20, 0x30, &r), 0);
  ck_assert_uint_eq(r.flags, H);
  ck_assert_uint_eq(r.counter_h, 0x10);
  ck_assert_uint_eq(r.registry_h, 0);
  ck_assert_uint_eq(r.event_h, 0x20);
  ck_assert_uint_eq(r.armed_h, 0x30);
  ck_assert_uint_eq(r.pid, 4321);
  /* The process the values are valid in is never 0. */
  ck_assert_int_eq(decode_bell_handles_pid(R, H, 0x10, 0, 0x20, 0x30, 0, &r),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(W, H, 0x10, 0x14, 0, 0, &r), 0);
  ck_assert_uint_eq(r.registry_h, 0x14);
  /* No counter; a wait without its event or armed page, or with the
   * registry; a ring with a waiter's objects; an unknown flag; the
   * handles without the flag (trailing bytes to an old reader). */
  ck_assert_int_eq(decode_bell_handles(R, H, 0, 0, 0x20, 0x30, &r),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(R, H, 0x10, 0, 0, 0x30, &r),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(R, H, 0x10, 0, 0x20, 0, &r),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(R, H, 0x10, 0x14, 0x20, 0x30, &r),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(W, H, 0x10, 0x14, 0x20, 0, &r),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(W, H, 0x10, 0, 0, 0, &r), SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(R, H | 2, 0x10, 0, 0x20, 0x30, &r),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_bell_handles(R, 0, 0x10, 0, 0x20, 0x30, &r),
                   SHMB_EPROTO);
  /* A name next to the handles, and every short payload. */
  ck_assert_int_eq(shmb_encode_doorbell_reply(1, R, BELL_A, "", BELL_B,
                                              BELL_A, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_DOORBELL | SHMB_OP_REPLY, 1, &plen);
  copy = malloc(plen + 32);
  memcpy(copy, p, plen);
  memset(copy + plen, 1, 32);
  set_u32(copy + 8, H);
  ck_assert_int_eq(shmb_doorbell_reply_decode(copy, plen + 32, &r),
                   SHMB_EPROTO);
  free(copy);
  free(f);
  {
    shmb_wire_doorbell_handles h = {1, 0, 2, 3, 4321, 0};
    ck_assert_int_eq(shmb_encode_doorbell_reply_handles(2, R, &h, &f, &len),
                     0);
    p = payload_of(f, len, SHMB_OP_DOORBELL | SHMB_OP_REPLY, 2, &plen);
    for (size_t n = 0; n < plen; n++) {
      copy = dup_bytes(p, n);
      ck_assert_int_eq(shmb_doorbell_reply_decode(copy, n, &r), SHMB_EPROTO);
      free(copy);
    }
    free(f);
  }
}
END_TEST

/* A PEERS reply of the given entries through the real encoder, decoded
 * entry by entry: 0, or the first error. */
static int decode_peers_pid(const shmb_wire_peer *e, size_t n, size_t cut,
                            uint32_t pid, shmb_peers_head *head,
                            shmb_peer_item *last) {
  shmb_frame_buf b;
  shmb_cursor c;
  uint8_t *f;
  size_t len, plen;
  const uint8_t *p;
  int rc;
  shmb_peers_reply_start(&b, 4, 0x44, 7, pid);
  for (size_t i = 0; i < n; i++)
    shmb_peers_reply_add(&b, &e[i]);
  ck_assert_int_eq(shmb_frame_finish(&b, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_PEERS | SHMB_OP_REPLY, 4, &plen);
  rc = shmb_peers_reply_begin(p, plen - cut, &c, head);
  while (rc == 0 && c.remaining)
    rc = shmb_peers_reply_next(&c, last);
  free(f);
  return rc;
}

static int decode_peers(const shmb_wire_peer *e, size_t n, size_t cut,
                        shmb_peers_head *head, shmb_peer_item *last) {
  return decode_peers_pid(e, n, cut, 4321, head, last);
}

START_TEST(test_reply_peers_reply) {
  shmb_wire_peer ok[] = {{0, 3, 0x100, 0x104}, {255, 6, 0, 0}};
  shmb_wire_peer bad_index[] = {{256, 3, 0x100, 0x104}};
  shmb_wire_peer bad_id[] = {{1, 0, 0x100, 0x104}};
  shmb_wire_peer half[] = {{1, 2, 0x100, 0}};
  shmb_peers_head head;
  shmb_peer_item it;
  ck_assert_int_eq(decode_peers(ok, 2, 0, &head, &it), 0);
  ck_assert_uint_eq(head.generation, 0x44);
  ck_assert_uint_eq(head.next, 7);
  ck_assert_uint_eq(head.pid, 4321);
  ck_assert_int_eq(decode_peers_pid(ok, 2, 0, 0, &head, &it), SHMB_EPROTO);
  ck_assert_uint_eq(it.index, 255);
  ck_assert_uint_eq(it.id, 6);
  ck_assert_uint_eq(it.event, 0);
  ck_assert_int_eq(decode_peers(ok, 0, 0, &head, &it), 0);
  /* An index past any registry, id 0, one handle of the two, a count
   * the bytes do not hold. */
  ck_assert_int_eq(decode_peers(bad_index, 1, 0, &head, &it), SHMB_EPROTO);
  ck_assert_int_eq(decode_peers(bad_id, 1, 0, &head, &it), SHMB_EPROTO);
  ck_assert_int_eq(decode_peers(half, 1, 0, &head, &it), SHMB_EPROTO);
  ck_assert_int_eq(decode_peers(ok, 2, 1, &head, &it), SHMB_EPROTO);
}
END_TEST

START_TEST(test_reply_open_reply_object_limits) {
  char object[SHMB_OBJECT_NAME_MAX + 2];
  uint8_t *f = NULL;
  size_t len, plen;
  const uint8_t *p;
  shmb_open_reply r;
  ck_assert_int_eq(shmb_encode_open_reply(1, 1, 1, "", &f, &len), SHMB_EINVAL);
  memset(object, 'o', sizeof(object) - 1);
  object[sizeof(object) - 1] = '\0';
  ck_assert_int_eq(shmb_encode_open_reply(1, 1, 1, object, &f, &len),
                   SHMB_EINVAL);
  ck_assert_ptr_null(f);
  object[SHMB_OBJECT_NAME_MAX] = '\0';
  ck_assert_int_eq(shmb_encode_open_reply(1, 1, 1, object, &f, &len), 0);
  p = payload_of(f, len, SHMB_OP_OPEN | SHMB_OP_REPLY, 1, &plen);
  ck_assert_int_eq(shmb_open_reply_decode(p, plen, &r), 0);
  assert_str(r.object, object);
  free(f);
}
END_TEST

/* An OPEN reply payload with chosen fields. */
static void forge_open_reply(shmb_frame_buf *b, uint32_t access,
                             uint16_t reserved, uint16_t olen,
                             const char *object, size_t nbytes) {
  forge_begin(b, SHMB_OP_OPEN | SHMB_OP_REPLY);
  shmb_put_u32(b, 0);
  shmb_put_u32(b, access);
  shmb_put_u64(b, 4096);
  shmb_put_u32(b, 0);
  shmb_put_u16(b, reserved);
  shmb_put_u16(b, olen);
  shmb_put_bytes(b, object, nbytes);
}

static int decode_forged_open_reply(uint32_t access, uint16_t reserved,
                                    uint16_t olen, const char *object,
                                    size_t nbytes) {
  shmb_frame_buf b;
  shmb_open_reply r;
  uint8_t *copy;
  int rc;
  forge_open_reply(&b, access, reserved, olen, object, nbytes);
  ck_assert_int_eq(b.err, 0);
  copy = dup_bytes(pl(&b), pllen(&b));
  rc = shmb_open_reply_decode(copy, pllen(&b), &r);
  free(copy);
  shmb_frame_discard(&b);
  return rc;
}

START_TEST(test_reply_open_reply_rejects_bad_fields) {
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 3, "obj", 3), 0);
  ck_assert_int_eq(decode_forged_open_reply(0, 0, 3, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(4, 0, 3, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 2, 3, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 0, "", 0), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 3, "o\0j", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 4, "obj", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_open_reply(1, 0, 2, "obj", 3), SHMB_EPROTO);
}
END_TEST

static void list_payload(shmb_frame_buf *b, const uint8_t **p, size_t *plen) {
  ck_assert_int_eq(shmb_frame_end(b), 0);
  *p = payload_of(b->data, b->len, SHMB_OP_LIST | SHMB_OP_REPLY, 12, plen);
}

START_TEST(test_reply_list_reply_empty) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  const uint8_t *p;
  size_t plen;
  shmb_list_reply_start(&b, 12);
  list_payload(&b, &p, &plen);
  ck_assert_uint_eq(plen, 8);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_uint_eq(c.remaining, 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_reply_list_reply_one_entry) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  const uint8_t *p;
  size_t plen;
  shmb_list_reply_start(&b, 12);
  shmb_list_reply_add(&b, "telemetry", 64ull << 20, SHMB_WIRE_ACCESS_READ,
                      0);
  list_payload(&b, &p, &plen);
  ck_assert_uint_eq(plen, 8 + 16 + 9);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_uint_eq(c.remaining, 1);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  ck_assert_uint_eq(it.size, 64ull << 20);
  ck_assert_uint_eq(it.access, SHMB_WIRE_ACCESS_READ);
  assert_str(it.name, "telemetry");
  ck_assert_uint_eq(c.remaining, 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_reply_list_entry_without_read_refused) {
  /* A LIST entry the caller could not even read cannot come from a correct
   * service: access 0 and write-only are malformed. */
  const uint32_t bad[] = {0, SHMB_WIRE_ACCESS_WRITE};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    shmb_frame_buf b;
    shmb_cursor c;
    shmb_list_item it;
    const uint8_t *p;
    size_t plen;
    shmb_list_reply_start(&b, 12);
    shmb_list_reply_add(&b, "sec", 4096, bad[i], 0);
    list_payload(&b, &p, &plen);
    ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
    ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
    shmb_frame_discard(&b);
  }
}
END_TEST

START_TEST(test_reply_list_reply_many_entries) {
  enum { N = 300 };
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  const uint8_t *p;
  size_t plen;
  char name[32];
  shmb_list_reply_start(&b, 12);
  for (unsigned i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "sec-%03u", i);
    shmb_list_reply_add(&b, name, ((uint64_t)i << 33) + i + 1,
                        i % 2 ? SHMB_WIRE_ACCESS_READ
                              : SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE,
                        (uint32_t)i & SHMB_OPEN_FLAGS_KNOWN);
  }
  list_payload(&b, &p, &plen);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_uint_eq(c.remaining, N);
  for (unsigned i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "sec-%03u", i);
    ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
    ck_assert_uint_eq(it.size, ((uint64_t)i << 33) + i + 1);
    ck_assert_uint_eq(it.access,
                      i % 2 ? SHMB_WIRE_ACCESS_READ
                            : SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
    ck_assert_uint_eq(it.flags, i & SHMB_OPEN_FLAGS_KNOWN);
    assert_str(it.name, name);
  }
  ck_assert_uint_eq(c.left, 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_reply_list_reply_count_exceeds_entries) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  uint8_t *p;
  size_t plen;
  shmb_list_reply_start(&b, 12);
  shmb_list_reply_add(&b, "a", 1, 1, 0);
  shmb_list_reply_add(&b, "b", 2, 3, 0);
  ck_assert_int_eq(shmb_frame_end(&b), 0);
  plen = pllen(&b);
  p = dup_bytes(pl(&b), plen);
  set_u32(p + 4, 3);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  assert_str(it.name, "a");
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  assert_str(it.name, "b");
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  /* A count far past what the payload could hold. */
  set_u32(p + 4, 0xFFFFFFFFu);
  ck_assert_int_eq(shmb_list_reply_begin(p, plen, &c), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
}
END_TEST

START_TEST(test_reply_list_reply_rejects_trailing_bytes) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  uint8_t *p;
  /* count 0, then stray bytes */
  forge_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, 0);
  shmb_put_u8(&b, 0);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
  /* count 1, one entry, then stray bytes */
  shmb_list_reply_start(&b, 12);
  shmb_list_reply_add(&b, "a", 1, 1, 0);
  shmb_put_u16(&b, 0);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), 0);
  ck_assert_int_eq(shmb_list_reply_next(&c, &it), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
  /* count missing altogether */
  forge_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u16(&b, 0);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), SHMB_EPROTO);
  free(p);
  shmb_frame_discard(&b);
}
END_TEST

static int decode_forged_list_entry(uint32_t access, uint16_t flags,
                                    const char *name, size_t nlen) {
  shmb_frame_buf b;
  shmb_cursor c;
  shmb_list_item it;
  uint8_t *p;
  int rc;
  forge_begin(&b, SHMB_OP_LIST | SHMB_OP_REPLY);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, 1);
  shmb_put_u64(&b, 1);
  shmb_put_u32(&b, access);
  shmb_put_u16(&b, flags);
  shmb_put_u16(&b, (uint16_t)nlen);
  shmb_put_bytes(&b, name, nlen);
  p = dup_bytes(pl(&b), pllen(&b));
  ck_assert_int_eq(shmb_list_reply_begin(p, pllen(&b), &c), 0);
  rc = shmb_list_reply_next(&c, &it);
  free(p);
  shmb_frame_discard(&b);
  return rc;
}

START_TEST(test_reply_list_reply_rejects_bad_entry) {
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "ok", 2), 0);
  ck_assert_int_eq(decode_forged_list_entry(4, 0, "ok", 2), SHMB_EPROTO);
  /* Known flags (revision 2) pass; a bit nobody defined does not. */
  ck_assert_int_eq(decode_forged_list_entry(1, SHMB_OPEN_FLAGS_KNOWN, "ok", 2),
                   0);
  ck_assert_int_eq(decode_forged_list_entry(1, 0x10, "ok", 2), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 0x8000, "ok", 2),
                   SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "", 0), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "o k", 3), SHMB_EPROTO);
  ck_assert_int_eq(decode_forged_list_entry(1, 0, "o\0k", 3), SHMB_EPROTO);
}
END_TEST

Suite *reply_suite(void) {
  Suite *s = suite_create("reply");
  TCase *tc = tcase_create("reply");

  tcase_add_test(tc, test_reply_hello_reply_round_trip);
  tcase_add_test(tc, test_reply_hello_reply_rejects_reserved_and_trailing);
  tcase_add_test(tc, test_reply_open_reply_round_trip);
  tcase_add_test(tc, test_reply_open_reply_object_limits);
  tcase_add_test(tc, test_reply_open_reply_rejects_bad_fields);
  tcase_add_test(tc, test_reply_open_reply_named_bytes_pinned);
  tcase_add_test(tc, test_reply_open_reply_handle_round_trip);
  tcase_add_test(tc, test_reply_open_reply_handle_rejects_bad_fields);
  tcase_add_test(tc, test_reply_list_reply_empty);
  tcase_add_test(tc, test_reply_list_reply_one_entry);
  tcase_add_test(tc, test_reply_list_entry_without_read_refused);
  tcase_add_test(tc, test_reply_list_reply_many_entries);
  tcase_add_test(tc, test_reply_list_reply_count_exceeds_entries);
  tcase_add_test(tc, test_reply_list_reply_rejects_trailing_bytes);
  tcase_add_test(tc, test_reply_list_reply_rejects_bad_entry);
  tcase_add_test(tc, test_reply_doorbell_reply_round_trip);
  tcase_add_test(tc, test_reply_doorbell_reply_refusals);
  tcase_add_test(tc, test_reply_doorbell_reply_handles);
  tcase_add_test(tc, test_reply_peers_reply);
  suite_add_tcase(s, tc);
  return s;
}
