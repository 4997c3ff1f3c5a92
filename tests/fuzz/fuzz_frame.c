/*
 * libFuzzer target for the wire codec (common/protocol.c). The input is read
 * two ways: as the byte stream a client writes to the service (frames back
 * to back, each peeked, decoded and consumed as the connection loop does)
 * and as replies the SDK decodes (every whole frame's payload, and the raw
 * input as one payload, so that mutations need not keep a valid header).
 *
 * The sanitizers catch bad reads; the checks here catch logic bugs. Whatever
 * a decoder accepts is encoded again with the real encoders and must come
 * out byte for byte the same, an accepted payload must stop being accepted
 * with a byte more or a byte less (lengths add up exactly), and a frame
 * that arrives in pieces must be reported incomplete with the exact count
 * of missing bytes until its last byte is in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz_check.h"
#include "protocol.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static uint16_t le16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}

/* A heap copy of exactly n bytes plus one spare: ASan sees any read past n,
 * and callers may append a byte to test that it is refused. */
static uint8_t *copy_plus_one(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n + 1);
  CHECK(d != NULL);
  if (n)
    memcpy(d, p, n);
  d[n] = 0;
  return d;
}

/* A NUL-terminated copy of a decoded string, for the C-string encoders. */
static char *cstr(shmb_str s) {
  char *d = malloc(s.len + 1);
  CHECK(d != NULL);
  if (s.len)
    memcpy(d, s.ptr, s.len);
  d[s.len] = '\0';
  return d;
}

static int has_nul(shmb_str s) {
  return s.len && memchr(s.ptr, '\0', s.len) != NULL;
}

static int str_within(shmb_str s, const uint8_t *p, size_t n) {
  const uint8_t *q = (const uint8_t *)s.ptr;
  return (s.len == 0 || (q >= p && q <= p + n)) && s.len <= n &&
         (s.len == 0 || (size_t)(q - p) <= n - s.len);
}

/* The payload of an encoded frame must equal the decoded one. Takes the
 * frame (malloc'd by the encoder) and frees it. */
static void same_payload(int rc, uint8_t *frame, size_t flen, const uint8_t *p,
                         size_t n) {
  CHECK(rc == 0);
  CHECK(flen == SHMB_HEADER_SIZE + n);
  CHECK(le32(frame + 12) == n);
  CHECK(n == 0 || memcmp(frame + SHMB_HEADER_SIZE, p, n) == 0);
  free(frame);
}

/* ---- framing ------------------------------------------------------------ */

/* shmb_frame_peek with its contract checked. */
static int peek(const uint8_t *buf, size_t len, size_t max,
                shmb_frame_header *hdr) {
  int rc;
  memset(hdr, 0, sizeof(*hdr));
  rc = shmb_frame_peek(buf, len, max, hdr);
  if (len < SHMB_HEADER_SIZE) {
    CHECK(rc == (int)(SHMB_HEADER_SIZE - len));
    return rc;
  }
  if (rc >= 0) {
    CHECK(hdr->magic == SHMB_PROTO_MAGIC && hdr->flags == 0 &&
          hdr->version == SHMB_PROTO_VERSION);
    CHECK(hdr->length <= max && hdr->length <= SHMB_MAX_PAYLOAD);
    CHECK(SHMB_HEADER_SIZE + (size_t)hdr->length == len + (size_t)rc ||
          (rc == 0 && SHMB_HEADER_SIZE + (size_t)hdr->length <= len));
  } else {
    CHECK(rc == SHMB_EPROTO || rc == SHMB_EVERSION || rc == SHMB_ETOOBIG);
    CHECK(rc != SHMB_ETOOBIG || hdr->length > max);
  }
  return rc;
}

/* No limit a caller passes lets a frame past SHMB_MAX_FRAME through. */
static void check_no_limit(const uint8_t *buf, size_t len) {
  shmb_frame_header a, b;
  int rc = peek(buf, len, SHMB_MAX_PAYLOAD, &a);
  CHECK(shmb_frame_peek(buf, len, SIZE_MAX, &b) == rc);
  CHECK(len < SHMB_HEADER_SIZE || memcmp(&a, &b, sizeof(a)) == 0);
}

/* A frame read in pieces is incomplete, by the exact missing count, until
 * its last byte is in. */
static void check_pieces(const uint8_t *frame, size_t flen, size_t max) {
  const size_t h = SHMB_HEADER_SIZE;
  const size_t cuts[] = {0, 1, h - 1, h, h + 1, flen / 2, flen - 1};
  shmb_frame_header hdr;
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    size_t k = cuts[i];
    size_t want = k < h ? h - k : flen - k;
    if (k >= flen)
      continue;
    CHECK(peek(frame, k, max, &hdr) == (int)want);
  }
}

/* ---- requests, as the service reads them --------------------------------- */

/* A decoded request encodes back to the same frame. */
static void reencode_request(const uint8_t *frame, size_t flen,
                             const shmb_request *req) {
  uint8_t *out = NULL;
  size_t outlen = 0;
  int rc;
  uint32_t id = req->hdr.request_id;

  switch (req->hdr.opcode) {
  case SHMB_OP_HELLO:
    CHECK(req->min_version <= req->max_version);
    rc = shmb_encode_hello(id, req->min_version, req->max_version, &out,
                           &outlen);
    break;
  case SHMB_OP_LIST:
    rc = shmb_encode_list(id, &out, &outlen);
    break;
  case SHMB_OP_STATUS:
    rc = shmb_encode_status(id, &out, &outlen);
    break;
  case SHMB_OP_RELOAD:
    rc = shmb_encode_reload(id, &out, &outlen);
    break;
  case SHMB_OP_OPEN:
    CHECK(shmb_name_valid(req->name, strlen(req->name)));
    CHECK(req->access >= 1 && req->access <= SHMB_WIRE_ACCESS_MASK);
    rc = shmb_encode_open(id, req->name, req->access, &out, &outlen);
    break;
  case SHMB_OP_DOORBELL:
    CHECK(shmb_name_valid(req->name, strlen(req->name)));
    CHECK(req->access == SHMB_WIRE_ACCESS_READ ||
          req->access == SHMB_WIRE_ACCESS_WRITE);
    rc = shmb_encode_doorbell(id, req->name, req->access, &out, &outlen);
    break;
  case SHMB_OP_PEERS:
    CHECK(shmb_name_valid(req->name, strlen(req->name)));
    CHECK(req->access == SHMB_WIRE_ACCESS_WRITE);
    rc = shmb_encode_peers(id, req->name, req->since, &out, &outlen);
    break;
  default:
    CHECK(!"a request with an unknown opcode was accepted");
    return;
  }
  CHECK(rc == 0);
  CHECK(outlen == flen && memcmp(out, frame, flen) == 0);
  free(out);
}

/* The client's encoder refuses a name the service refused (one with a NUL
 * cannot even be passed to it). */
static void check_bad_name(const uint8_t *frame, size_t flen) {
  /* PEERS has its since (u64) after the name. */
  const size_t tail = frame[5] == SHMB_OP_PEERS ? 8 : 0;
  shmb_str name = {(const char *)frame + 24, flen - 24 - tail};
  uint8_t *out = NULL;
  size_t outlen;
  char *z;
  CHECK(flen >= 24 + tail && le16(frame + 22) == flen - 24 - tail);
  CHECK(!shmb_name_valid(name.ptr, name.len));
  if (has_nul(name))
    return;
  z = cstr(name);
  CHECK(shmb_encode_open(1, z, SHMB_WIRE_ACCESS_READ, &out, &outlen) ==
        SHMB_EBADNAME);
  CHECK(out == NULL);
  free(z);
}

/* The service's loop: peek, decode a whole frame, consume it, repeat; an
 * incomplete frame waits for more bytes, anything refused ends the
 * connection. */
static void serve_requests(const uint8_t *data, size_t size) {
  size_t off = 0;
  while (off < size) {
    shmb_frame_header hdr, wide;
    shmb_request req;
    size_t flen;
    uint8_t *copy;
    int rc = peek(data + off, size - off, SHMB_MAX_REQUEST_PAYLOAD, &hdr);
    int rc_wide = peek(data + off, size - off, SHMB_MAX_PAYLOAD, &wide);

    /* The request limit only ever refuses more than the general one. */
    CHECK(rc == SHMB_ETOOBIG ? rc_wide >= 0 || rc_wide == SHMB_ETOOBIG
                             : rc_wide == rc);
    if (rc != 0)
      return;
    flen = SHMB_HEADER_SIZE + (size_t)hdr.length;
    check_pieces(data + off, flen, SHMB_MAX_REQUEST_PAYLOAD);

    copy = copy_plus_one(data + off, flen);
    rc = shmb_request_decode(copy, flen, &req);
    CHECK(rc <= 0);
    if (rc == 0) {
      CHECK(memcmp(&req.hdr, &hdr, sizeof(hdr)) == 0);
      reencode_request(copy, flen, &req);
      /* A byte too many or too few is not the same frame. */
      CHECK(shmb_request_decode(copy, flen + 1, &req) == SHMB_EPROTO);
      CHECK(shmb_request_decode(copy, flen - 1, &req) == SHMB_EPROTO);
    } else {
      CHECK(rc == SHMB_EOPCODE || rc == SHMB_EPROTO || rc == SHMB_EBADNAME ||
            rc == SHMB_EINVAL);
      if (rc == SHMB_EBADNAME)
        check_bad_name(copy, flen);
    }
    free(copy);
    if (rc != 0)
      return;
    off += flen;
  }
}

/* ---- replies, as the SDK reads them ------------------------------------- */

/* The error body: status, reserved, message. Returns the status. */
static int check_status_code(const uint8_t *p, size_t n) {
  static char msg[UINT16_MAX + 1];
  char small[8];
  int st = shmb_reply_status_code(p, n, msg, sizeof(msg));
  int well_formed = st < 0 && st != SHMB_EPROTO;

  CHECK(st <= 0 && st > SHMB__ERRNO_LAST);
  CHECK(shmb_reply_status_code(p, n, NULL, 0) == st);
  CHECK(shmb_reply_status_code(p, n, small, sizeof(small)) == st);
  CHECK(strlen(small) < sizeof(small) &&
        strncmp(small, msg, strlen(small)) == 0);
  CHECK(strlen(small) == strlen(msg) || strlen(small) == sizeof(small) - 1);
  if (st == 0) {
    CHECK(msg[0] == '\0');
    return st;
  }

  /* EPROTO is both "malformed" and a status a body may carry: tell them
   * apart by decoding the body again under another status. */
  if (st == SHMB_EPROTO && n >= 4 && (int32_t)le32(p) == SHMB_EPROTO) {
    uint8_t *alt = copy_plus_one(p, n);
    alt[0] = (uint8_t)SHMB_EINVAL;
    alt[1] = alt[2] = alt[3] = 0xff;
    well_formed = shmb_reply_status_code(alt, n, NULL, 0) == SHMB_EINVAL;
    free(alt);
  }
  if (well_formed) {
    shmb_str text;
    uint8_t *copy;
    CHECK(n >= 8 && (int32_t)le32(p) == st && le16(p + 6) == n - 8);
    text.ptr = (const char *)p + 8;
    text.len = n - 8;
    if (!has_nul(text))
      CHECK(strlen(msg) == text.len && memcmp(msg, text.ptr, text.len) == 0);
    if (!has_nul(text) && text.len <= SHMB_ERROR_MESSAGE_MAX) {
      uint8_t *out;
      size_t outlen;
      int rc = shmb_encode_error(SHMB_OP_ERROR, 0, st, msg, &out, &outlen);
      same_payload(rc, out, outlen, p, n);
    }
    copy = copy_plus_one(p, n);
    CHECK(shmb_reply_status_code(copy, n + 1, NULL, 0) == SHMB_EPROTO);
    CHECK(shmb_reply_status_code(copy, n - 1, NULL, 0) == SHMB_EPROTO);
    free(copy);
  }
  return st;
}

static void check_hello_reply(const uint8_t *p, size_t n, int st) {
  shmb_hello_reply rep;
  uint8_t *copy;
  int rc = shmb_hello_reply_decode(p, n, &rep);
  CHECK(st != 0 ? rc == st : (rc == 0 || rc == SHMB_EPROTO));
  if (rc != 0 || st != 0)
    return;
  CHECK(str_within(rep.server, p, n) && n == 20 + rep.server.len);
  if (rep.max_frame == SHMB_MAX_FRAME && !has_nul(rep.server)) {
    char *server = cstr(rep.server);
    uint8_t *out;
    size_t outlen;
    rc = shmb_encode_hello_reply(0, rep.version, server, &out, &outlen);
    same_payload(rc, out, outlen, p, n);
    free(server);
  }
  copy = copy_plus_one(p, n);
  CHECK(shmb_hello_reply_decode(copy, n + 1, &rep) == SHMB_EPROTO);
  CHECK(shmb_hello_reply_decode(copy, n - 1, &rep) == SHMB_EPROTO);
  free(copy);
}

static void check_open_reply(const uint8_t *p, size_t n, int st) {
  shmb_open_reply rep;
  uint8_t *copy;
  int rc = shmb_open_reply_decode(p, n, &rep);
  CHECK(st != 0 ? rc == st : (rc == 0 || rc == SHMB_EPROTO));
  if (rc != 0 || st != 0)
    return;
  if (rep.flags & SHMB_OPEN_FLAG_HANDLE) {
    uint8_t *out;
    size_t outlen;
    CHECK(rep.object.len == 0 && rep.handle != 0 && rep.pid != 0 &&
          n == 24 + 16);
    rc = shmb_encode_open_reply_handle(0, rep.access, rep.size, rep.flags,
                                       rep.handle, rep.pid, &out, &outlen);
    same_payload(rc, out, outlen, p, n);
    copy = copy_plus_one(p, n);
    CHECK(shmb_open_reply_decode(copy, n + 1, &rep) == SHMB_EPROTO);
    CHECK(shmb_open_reply_decode(copy, n - 1, &rep) == SHMB_EPROTO);
    free(copy);
    return;
  }
  CHECK(str_within(rep.object, p, n) && n == 24 + rep.object.len);
  CHECK(rep.object.len >= 1 && rep.object.len <= SHMB_OBJECT_NAME_MAX);
  CHECK(!has_nul(rep.object));
  CHECK(rep.access >= 1 && rep.access <= SHMB_WIRE_ACCESS_MASK);
  {
    char *object = cstr(rep.object);
    uint8_t *out;
    size_t outlen;
    rc = shmb_encode_open_reply_flags(0, rep.access, rep.size, rep.flags,
                                      object, &out, &outlen);
    same_payload(rc, out, outlen, p, n);
    free(object);
  }
  copy = copy_plus_one(p, n);
  CHECK(shmb_open_reply_decode(copy, n + 1, &rep) == SHMB_EPROTO);
  CHECK(shmb_open_reply_decode(copy, n - 1, &rep) == SHMB_EPROTO);
  free(copy);
}

static void check_doorbell_reply(const uint8_t *p, size_t n, int st) {
  shmb_doorbell_reply rep;
  uint8_t *copy, *out;
  size_t outlen;
  int rc = shmb_doorbell_reply_decode(p, n, &rep);
  CHECK(st != 0 ? rc == st : (rc == 0 || rc == SHMB_EPROTO));
  if (rc != 0 || st != 0)
    return;
  const shmb_str names[] = {rep.counter, rep.registry, rep.event, rep.armed};
  size_t total = 20;
  char *z[4];
  for (int i = 0; i < 4; i++) {
    CHECK(str_within(names[i], p, n) && !has_nul(names[i]));
    CHECK(names[i].len <= SHMB_BELL_OBJECT_MAX);
    total += names[i].len;
    z[i] = cstr(names[i]);
  }
  CHECK(rep.access == SHMB_WIRE_ACCESS_READ ||
        rep.access == SHMB_WIRE_ACCESS_WRITE);
  if (rep.flags & SHMB_BELL_FLAG_HANDLE) {
    /* By handle: no names, the values the side needs and a pid. */
    const int wait = rep.access == SHMB_WIRE_ACCESS_READ;
    shmb_wire_doorbell_handles h = {rep.counter_h, rep.registry_h,
                                    rep.event_h, rep.armed_h, rep.pid, 0};
    CHECK(rep.flags == SHMB_BELL_FLAG_HANDLE && total == 20 &&
          n == total + sizeof(h));
    CHECK(rep.counter_h != 0 && rep.pid != 0);
    CHECK(wait ? !rep.registry_h && rep.event_h && rep.armed_h
               : rep.registry_h && !rep.event_h && !rep.armed_h);
    rc = shmb_encode_doorbell_reply_handles(0, rep.access, &h, &out, &outlen);
  } else {
    CHECK(rep.flags == 0 && n == total && rep.counter.len >= 1);
    CHECK(!rep.counter_h && !rep.registry_h && !rep.event_h &&
          !rep.armed_h && !rep.pid);
    rc = shmb_encode_doorbell_reply(0, rep.access, z[0], z[1], z[2], z[3],
                                    &out, &outlen);
  }
  same_payload(rc, out, outlen, p, n);
  for (int i = 0; i < 4; i++)
    free(z[i]);
  copy = copy_plus_one(p, n);
  CHECK(shmb_doorbell_reply_decode(copy, n + 1, &rep) == SHMB_EPROTO);
  CHECK(shmb_doorbell_reply_decode(copy, n - 1, &rep) == SHMB_EPROTO);
  free(copy);
}

static void check_message_reply(const uint8_t *p, size_t n, int st) {
  shmb_str text;
  uint8_t *copy;
  int rc = shmb_message_reply_decode(p, n, &text);
  CHECK(st != 0 ? rc == st : (rc == 0 || rc == SHMB_EPROTO));
  if (rc != 0 || st != 0)
    return;
  CHECK(str_within(text, p, n) && n == 8 + text.len && !has_nul(text));
  if (text.len <= SHMB_ERROR_MESSAGE_MAX) { /* the encoder stops there */
    char *message = cstr(text);
    uint8_t *out;
    size_t outlen;
    rc = shmb_encode_message_reply(SHMB_OP_RELOAD | SHMB_OP_REPLY, 0, message,
                                   &out, &outlen);
    same_payload(rc, out, outlen, p, n);
    free(message);
  }
  copy = copy_plus_one(p, n);
  CHECK(shmb_message_reply_decode(copy, n + 1, &text) == SHMB_EPROTO);
  CHECK(shmb_message_reply_decode(copy, n - 1, &text) == SHMB_EPROTO);
  free(copy);
}

/* Walks a LIST reply as the SDK does and rebuilds it with the service's
 * builder. Returns 1 when the whole reply was accepted. */
static int walk_list(const uint8_t *p, size_t n, int st, int rebuild) {
  shmb_cursor c;
  shmb_frame_buf b;
  int rc = shmb_list_reply_begin(p, n, &c);
  CHECK(st != 0 ? rc == st : (rc == 0 || rc == SHMB_EPROTO));
  if (rc != 0 || st != 0)
    return 0;
  if (rebuild)
    shmb_list_reply_start(&b, 0);
  while (c.remaining > 0) {
    shmb_list_item item;
    size_t left = c.left;
    char name[SHMB_NAME_MAX + 1];
    if ((rc = shmb_list_reply_next(&c, &item)) != 0) {
      CHECK(rc == SHMB_EPROTO);
      break;
    }
    CHECK(c.left + 16 + item.name.len == left);
    CHECK(str_within(item.name, p, n));
    CHECK(shmb_name_valid(item.name.ptr, item.name.len));
    CHECK((item.access & ~SHMB_WIRE_ACCESS_MASK) == 0);
    if (rebuild) {
      memcpy(name, item.name.ptr, item.name.len);
      name[item.name.len] = '\0';
      shmb_list_reply_add(&b, name, item.size, item.access, item.flags);
    }
  }
  if (rc != 0) {
    if (rebuild)
      shmb_frame_discard(&b);
    return 0;
  }
  CHECK(c.left == 0);
  { /* past the end: refused, nothing read */
    shmb_list_item item;
    CHECK(shmb_list_reply_next(&c, &item) == SHMB_EPROTO && c.left == 0);
  }
  if (rebuild) {
    CHECK(shmb_frame_end(&b) == 0);
    same_payload(0, b.data, b.len, p, n);
  }
  return 1;
}

static int walk_status(const uint8_t *p, size_t n, int st, int rebuild) {
  shmb_cursor c;
  shmb_frame_buf b;
  int rc = shmb_status_reply_begin(p, n, &c);
  CHECK(st != 0 ? rc == st : (rc == 0 || rc == SHMB_EPROTO));
  if (rc != 0 || st != 0)
    return 0;
  if (rebuild)
    shmb_status_reply_start(&b, 0);
  while (c.remaining > 0) {
    shmb_kv kv;
    size_t left = c.left;
    if ((rc = shmb_status_reply_next(&c, &kv)) != 0) {
      CHECK(rc == SHMB_EPROTO);
      break;
    }
    CHECK(c.left + 4 + kv.key.len + kv.value.len == left);
    CHECK(str_within(kv.key, p, n) && str_within(kv.value, p, n));
    CHECK(kv.key.len >= 1 && !has_nul(kv.key) && !has_nul(kv.value));
    if (rebuild) {
      char *key = cstr(kv.key), *value = cstr(kv.value);
      shmb_status_reply_add(&b, key, value);
      free(key);
      free(value);
    }
  }
  if (rc != 0) {
    if (rebuild)
      shmb_frame_discard(&b);
    return 0;
  }
  CHECK(c.left == 0);
  {
    shmb_kv kv;
    CHECK(shmb_status_reply_next(&c, &kv) == SHMB_EPROTO && c.left == 0);
  }
  if (rebuild) {
    CHECK(shmb_frame_end(&b) == 0);
    same_payload(0, b.data, b.len, p, n);
  }
  return 1;
}

/* A PEERS reply (a ringer's waiters, by handle): the head, exactly count
 * entries, each with an index within a registry, an id and both values or
 * neither; encoded again it gives the same bytes. */
static void walk_peers(const uint8_t *p, size_t n, int st) {
  shmb_peers_head head;
  shmb_peer_item it;
  shmb_frame_buf b;
  shmb_cursor c;
  int rc = shmb_peers_reply_begin(p, n, &c, &head);
  CHECK(st != 0 ? rc == st : (rc == 0 || rc == SHMB_EPROTO));
  if (rc != 0 || st != 0)
    return;
  CHECK(head.pid != 0 && c.remaining <= SHMB_PEERS_MAX);
  CHECK(n == 32 + (size_t)c.remaining * sizeof(shmb_wire_peer));
  shmb_peers_reply_start(&b, 0, head.generation, head.next, head.pid);
  while (c.remaining > 0) {
    if ((rc = shmb_peers_reply_next(&c, &it)) != 0) {
      CHECK(rc == SHMB_EPROTO);
      shmb_frame_discard(&b);
      return;
    }
    CHECK(it.index < SHMB_PEERS_MAX && it.id != 0);
    CHECK((it.event == 0) == (it.armed == 0));
    shmb_wire_peer w = {it.index, it.id, it.event, it.armed};
    shmb_peers_reply_add(&b, &w);
  }
  CHECK(c.left == 0 && shmb_peers_reply_next(&c, &it) == SHMB_EPROTO);
  CHECK(shmb_frame_end(&b) == 0);
  same_payload(0, b.data, b.len, p, n);
}

/* Every client-side decoder on one payload, as if it answered each kind of
 * request. */
static void decode_replies(const uint8_t *payload, size_t n) {
  uint8_t *p = copy_plus_one(payload, n);
  int st = check_status_code(p, n);
  check_hello_reply(p, n, st);
  check_open_reply(p, n, st);
  check_doorbell_reply(p, n, st);
  walk_peers(p, n, st);
  check_message_reply(p, n, st);
  if (walk_list(p, n, st, 1)) {
    CHECK(!walk_list(p, n + 1, st, 0));
    CHECK(!walk_list(p, n - 1, st, 0));
  }
  if (walk_status(p, n, st, 1)) {
    CHECK(!walk_status(p, n + 1, st, 0));
    CHECK(!walk_status(p, n - 1, st, 0));
  }
  free(p);
}

/* The client reads replies with the general limit, one whole frame at a
 * time. */
static void read_replies(const uint8_t *data, size_t size) {
  size_t off = 0;
  while (off < size) {
    shmb_frame_header hdr;
    size_t flen;
    if (peek(data + off, size - off, SHMB_MAX_PAYLOAD, &hdr) != 0)
      return;
    flen = SHMB_HEADER_SIZE + (size_t)hdr.length;
    check_pieces(data + off, flen, SHMB_MAX_PAYLOAD);
    decode_replies(data + off + SHMB_HEADER_SIZE, hdr.length);
    off += flen;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_no_limit(data, size);
  serve_requests(data, size);
  read_replies(data, size);
  decode_replies(data, size);
  return 0;
}
