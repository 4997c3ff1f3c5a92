/*
 * Helpers shared by the wire-protocol suites (check_frame.c, check_request.c,
 * check_reply.c, check_status.c, check_error_reply.c): byte setters, exact-size
 * copies (so a sanitizer build catches any read past the end), and frames
 * forged field by field.
 */
#include "protocol_util.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

void set_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

void set_u32(uint8_t *p, uint32_t v) {
  set_u16(p, (uint16_t)v);
  set_u16(p + 2, (uint16_t)(v >> 16));
}

uint8_t *dup_bytes(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  ck_assert_ptr_nonnull(d);
  if (n)
    memcpy(d, p, n);
  return d;
}

/* Decodes a request from a heap copy of exactly len bytes. */
int decode_exact(const uint8_t *frame, size_t len, shmb_request *req) {
  uint8_t *copy = dup_bytes(frame, len);
  int rc = shmb_request_decode(copy, len, req);
  free(copy);
  return rc;
}

/* Peeks at a whole frame and checks its header; returns the payload. */
const uint8_t *payload_of(const uint8_t *f, size_t len, unsigned opcode,
                          uint32_t id, size_t *plen) {
  shmb_frame_header h;
  ck_assert_int_eq(shmb_frame_peek(f, len, SHMB_MAX_PAYLOAD, &h), 0);
  ck_assert_uint_eq(h.magic, SHMB_PROTO_MAGIC);
  ck_assert_uint_eq(h.version, SHMB_PROTO_VERSION);
  ck_assert_uint_eq(h.opcode, opcode);
  ck_assert_uint_eq(h.flags, 0);
  ck_assert_uint_eq(h.request_id, id);
  ck_assert_uint_eq(len, SHMB_HEADER_SIZE + (size_t)h.length);
  *plen = h.length;
  return f + SHMB_HEADER_SIZE;
}

void assert_str(shmb_str s, const char *want) {
  ck_assert_uint_eq(s.len, strlen(want));
  if (s.len)
    ck_assert_mem_eq(s.ptr, want, s.len);
}

/* A hand-made frame: the builder's header and whatever payload the test
 * writes next with shmb_put_*. Finish with forge_end. */
void forge_begin(shmb_frame_buf *b, uint8_t opcode) {
  shmb_frame_begin(b, opcode, 1);
}

uint8_t *forge_end(shmb_frame_buf *b, size_t *len) {
  ck_assert_int_eq(shmb_frame_end(b), 0);
  *len = b->len;
  return b->data;
}

/* An OPEN request with every field chosen by the caller: name_len may
 * disagree with the nbytes of name that follow. */
uint8_t *forge_open(uint32_t access, uint16_t reserved, uint16_t name_len,
                    const char *name, size_t nbytes, size_t *len) {
  shmb_frame_buf b;
  forge_begin(&b, SHMB_OP_OPEN);
  shmb_put_u32(&b, access);
  shmb_put_u16(&b, reserved);
  shmb_put_u16(&b, name_len);
  shmb_put_bytes(&b, name, nbytes);
  return forge_end(&b, len);
}

int decode_forged_open(uint32_t access, const char *name, size_t n) {
  shmb_request req;
  size_t len;
  uint8_t *f = forge_open(access, 0, (uint16_t)n, name, n, &len);
  int rc = decode_exact(f, len, &req);
  free(f);
  return rc;
}

/* Reply payloads are forged the same way; these give the part after the
 * header of a builder that has not been ended. */
const uint8_t *pl(const shmb_frame_buf *b) {
  return b->data + SHMB_HEADER_SIZE;
}
size_t pllen(const shmb_frame_buf *b) { return b->len - SHMB_HEADER_SIZE; }

int reply_code_exact(const uint8_t *p, size_t n, char *msg, size_t msglen) {
  uint8_t *copy = dup_bytes(p, n);
  int rc = shmb_reply_status_code(copy, n, msg, msglen);
  free(copy);
  return rc;
}
