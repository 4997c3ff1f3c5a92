/*
 * Encoders and decoders for the control pipe's frames (layout drawn in
 * protocol.h). Every byte a decoder reads comes from a client or a server we
 * do not trust, so each read goes through a cursor that checks the bound
 * first and every length must add up exactly: no trailing bytes, no reserved
 * field set, no string longer than its limit.
 */
#include "protocol.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* ---- little-endian cursor --------------------------------------------- */

static int get_u8(shmb_cursor *c, uint8_t *v) {
  if (c->left < 1)
    return SHMB_EPROTO;
  *v = c->p[0];
  c->p += 1;
  c->left -= 1;
  return 0;
}

static int get_u16(shmb_cursor *c, uint16_t *v) {
  if (c->left < 2)
    return SHMB_EPROTO;
  *v = (uint16_t)(c->p[0] | (c->p[1] << 8));
  c->p += 2;
  c->left -= 2;
  return 0;
}

static int get_u32(shmb_cursor *c, uint32_t *v) {
  if (c->left < 4)
    return SHMB_EPROTO;
  *v = (uint32_t)c->p[0] | ((uint32_t)c->p[1] << 8) |
       ((uint32_t)c->p[2] << 16) | ((uint32_t)c->p[3] << 24);
  c->p += 4;
  c->left -= 4;
  return 0;
}

static int get_u64(shmb_cursor *c, uint64_t *v) {
  uint32_t lo, hi;
  if (c->left < 8)
    return SHMB_EPROTO;
  get_u32(c, &lo);
  get_u32(c, &hi);
  *v = ((uint64_t)hi << 32) | lo;
  return 0;
}

static int get_bytes(shmb_cursor *c, size_t n, shmb_str *s) {
  if (c->left < n)
    return SHMB_EPROTO;
  s->ptr = (const char *)c->p;
  s->len = n;
  c->p += n;
  c->left -= n;
  return 0;
}

static int get_zero_u16(shmb_cursor *c) {
  uint16_t v;
  if (get_u16(c, &v) < 0 || v != 0)
    return SHMB_EPROTO;
  return 0;
}

static int get_zero_u32(shmb_cursor *c) {
  uint32_t v;
  if (get_u32(c, &v) < 0 || v != 0)
    return SHMB_EPROTO;
  return 0;
}

static void cursor_init(shmb_cursor *c, const uint8_t *p, size_t len) {
  c->p = p;
  c->left = len;
  c->remaining = 0;
}

/* ---- framing ---------------------------------------------------------- */

int shmb_frame_peek(const uint8_t *buf, size_t len, size_t max_payload,
                    shmb_frame_header *hdr) {
  shmb_cursor c;
  if (len < SHMB_HEADER_SIZE)
    return (int)(SHMB_HEADER_SIZE - len);
  /* No frame is ever larger than SHMB_MAX_FRAME; the clamp also keeps the
   * missing count below INT_MAX whatever the caller passes. */
  if (max_payload > SHMB_MAX_PAYLOAD)
    max_payload = SHMB_MAX_PAYLOAD;
  cursor_init(&c, buf, SHMB_HEADER_SIZE);
  get_u32(&c, &hdr->magic);
  get_u8(&c, &hdr->version);
  get_u8(&c, &hdr->opcode);
  get_u16(&c, &hdr->flags);
  get_u32(&c, &hdr->request_id);
  get_u32(&c, &hdr->length);
  if (hdr->magic != SHMB_PROTO_MAGIC || hdr->flags != 0)
    return SHMB_EPROTO;
  if (hdr->version != SHMB_PROTO_VERSION)
    return SHMB_EVERSION;
  if (hdr->length > max_payload)
    return SHMB_ETOOBIG;
  if (len - SHMB_HEADER_SIZE < hdr->length) {
    size_t missing = hdr->length - (len - SHMB_HEADER_SIZE);
    return (int)missing; /* fits: length <= max_payload <= SHMB_MAX_PAYLOAD */
  }
  return 0;
}

const char *shmb__access_name(uint32_t wire_access) {
  switch (wire_access & SHMB_WIRE_ACCESS_MASK) {
  case SHMB_WIRE_ACCESS_READ:
    return "read";
  case SHMB_WIRE_ACCESS_WRITE:
    return "write";
  case SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE:
    return "read,write";
  default:
    return "none";
  }
}

int shmb_name_valid(const char *name, size_t len) {
  if (len == 0 || len > SHMB_NAME_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char ch = name[i];
    int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
             (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok)
      return 0;
  }
  return 1;
}

/* Whether s can be quoted in a message as it is. */
static int printable(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
      return 0;
  return 1;
}

int shmb__name_check(const char *name, size_t len, char *err,
                     size_t errlen) {
  static const char rule[] = "names are 1 to 64 characters of A-Z a-z 0-9 "
                             ". _ -, and case matters";
  size_t i = 0;
  if (len == 0)
    return shmb__fail(err, errlen, SHMB_EBADNAME,
                      "the section name is empty; %s", rule);
  if (len > SHMB_NAME_MAX)
    return shmb__fail(err, errlen, SHMB_EBADNAME,
                      "the section name is %lu characters long; %s",
                      (unsigned long)len, rule);
  while (i < len && shmb_name_valid(name + i, 1))
    i++;
  if (i == len)
    return 0;
  if (printable(name, len))
    return shmb__fail(err, errlen, SHMB_EBADNAME,
                      "'%.*s' has '%c' (0x%02x) at position %lu, which is "
                      "not allowed; %s", (int)len, name, name[i],
                      (unsigned char)name[i], (unsigned long)(i + 1), rule);
  return shmb__fail(err, errlen, SHMB_EBADNAME,
                    "the section name has the byte 0x%02x at position %lu, "
                    "which is not allowed; %s", (unsigned char)name[i],
                    (unsigned long)(i + 1), rule);
}

/* Edit distance (insert, delete, replace one character), with a cut-off:
 * anything above max comes back as max + 1. Both strings are short
 * (section names), so one row of SHMB_NAME_MAX + 1 cells is enough. */
static size_t edit_distance(const char *a, const char *b, size_t max) {
  size_t la = strlen(a), lb = strlen(b), row[SHMB_NAME_MAX + 1];
  if (la > SHMB_NAME_MAX || lb > SHMB_NAME_MAX ||
      (la > lb ? la - lb : lb - la) > max)
    return max + 1;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0], best;
    row[0] = best = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j], v = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < v)
        v = up + 1;
      if (row[j - 1] + 1 < v)
        v = row[j - 1] + 1;
      diag = up;
      row[j] = v;
      if (v < best)
        best = v;
    }
    if (best > max)
      return max + 1;
  }
  return row[lb];
}

static int same_but_case(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
    char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
    if (x != y)
      return 0;
  }
  return *a == *b;
}

const char *shmb__closest_name(const char *name, const char *const *names,
                               size_t n) {
  size_t len = strlen(name), limit = len / 2 < 2 ? len / 2 : 2;
  const char *best = NULL;
  size_t best_d = limit + 1;
  if (len == 0)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (same_but_case(name, names[i]))
      return names[i];
  /* Strictly below half the length: "ab" is not a typo of "cd". */
  if (len % 2 == 0 && limit == len / 2 && limit > 0)
    limit--;
  best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    size_t d = edit_distance(name, names[i], limit);
    if (d < best_d) {
      best_d = d;
      best = names[i];
    }
  }
  return best;
}

int shmb_request_decode(const uint8_t *frame, size_t len, shmb_request *req) {
  shmb_cursor c;
  shmb_str name;
  uint16_t name_len;
  int rc;

  memset(req, 0, sizeof(*req));
  rc = shmb_frame_peek(frame, len, SHMB_MAX_PAYLOAD, &req->hdr);
  if (rc != 0)
    return rc > 0 ? SHMB_EPROTO : rc;
  if (len != SHMB_HEADER_SIZE + (size_t)req->hdr.length)
    return SHMB_EPROTO;
  cursor_init(&c, frame + SHMB_HEADER_SIZE, req->hdr.length);

  switch (req->hdr.opcode) {
  case SHMB_OP_HELLO:
    if (get_u8(&c, &req->min_version) < 0 ||
        get_u8(&c, &req->max_version) < 0 || get_zero_u16(&c) < 0)
      return SHMB_EPROTO;
    if (req->min_version > req->max_version)
      return SHMB_EPROTO;
    break;
  case SHMB_OP_LIST:
  case SHMB_OP_STATUS:
  case SHMB_OP_RELOAD:
    break;
  case SHMB_OP_OPEN:
  case SHMB_OP_DOORBELL:
  case SHMB_OP_PEERS:
    if (get_u32(&c, &req->access) < 0 || get_zero_u16(&c) < 0 ||
        get_u16(&c, &name_len) < 0 || get_bytes(&c, name_len, &name) < 0)
      return SHMB_EPROTO;
    if (req->hdr.opcode == SHMB_OP_PEERS && get_u64(&c, &req->since) < 0)
      return SHMB_EPROTO;
    if (c.left != 0)
      return SHMB_EPROTO;
    if (!shmb_name_valid(name.ptr, name.len))
      return SHMB_EBADNAME;
    if (req->access == 0 || (req->access & ~SHMB_WIRE_ACCESS_MASK) != 0)
      return SHMB_EINVAL;
    /* A doorbell request either waits or rings. */
    if (req->hdr.opcode == SHMB_OP_DOORBELL &&
        req->access == SHMB_WIRE_ACCESS_MASK)
      return SHMB_EINVAL;
    /* Only a ringer asks for the waiters. */
    if (req->hdr.opcode == SHMB_OP_PEERS &&
        req->access != SHMB_WIRE_ACCESS_WRITE)
      return SHMB_EINVAL;
    memcpy(req->name, name.ptr, name.len);
    req->name[name.len] = '\0';
    break;
  default:
    return SHMB_EOPCODE;
  }
  return c.left == 0 ? 0 : SHMB_EPROTO;
}

/* ---- replies, client side --------------------------------------------- */

int shmb_reply_status_code(const uint8_t *payload, size_t len, char *msg,
                           size_t msglen) {
  shmb_cursor c;
  uint32_t raw;
  uint16_t mlen;
  shmb_str text;
  int32_t status;

  if (msg && msglen)
    msg[0] = '\0';
  cursor_init(&c, payload, len);
  if (get_u32(&c, &raw) < 0)
    return SHMB_EPROTO;
  status = (int32_t)raw;
  if (status == 0)
    return 0;
  if (status > 0 || status <= SHMB__ERRNO_LAST)
    return SHMB_EPROTO;
  if (get_zero_u16(&c) < 0 || get_u16(&c, &mlen) < 0 ||
      get_bytes(&c, mlen, &text) < 0 || c.left != 0)
    return SHMB_EPROTO;
  if (msg && msglen) {
    size_t n = text.len < msglen - 1 ? text.len : msglen - 1;
    memcpy(msg, text.ptr, n);
    msg[n] = '\0';
  }
  return status;
}

/* Skips the status of a reply already known to be 0. */
static int begin_ok(const uint8_t *payload, size_t len, shmb_cursor *c) {
  const size_t status_size = offsetof(shmb_wire_error_rep, reserved);
  int rc = shmb_reply_status_code(payload, len, NULL, 0);
  if (rc != 0)
    return rc;
  cursor_init(c, payload + status_size, len - status_size);
  return 0;
}

int shmb_hello_reply_decode(const uint8_t *payload, size_t len,
                            shmb_hello_reply *out) {
  shmb_cursor c;
  uint8_t reserved;
  uint16_t slen;
  uint32_t reserved32;
  int rc = begin_ok(payload, len, &c);
  if (rc != 0)
    return rc;
  if (get_u8(&c, &out->version) < 0)
    return SHMB_EPROTO;
  for (int i = 0; i < 3; i++)
    if (get_u8(&c, &reserved) < 0 || reserved != 0)
      return SHMB_EPROTO;
  if (get_u32(&c, &out->max_frame) < 0 || get_u16(&c, &slen) < 0 ||
      get_zero_u16(&c) < 0 || get_u32(&c, &reserved32) < 0 ||
      reserved32 != 0 || get_bytes(&c, slen, &out->server) < 0 || c.left)
    return SHMB_EPROTO;
  return 0;
}

int shmb_message_reply_decode(const uint8_t *payload, size_t len,
                              shmb_str *message) {
  shmb_cursor c;
  uint16_t mlen;
  int rc = begin_ok(payload, len, &c);
  if (rc != 0)
    return rc;
  if (get_zero_u16(&c) < 0 || get_u16(&c, &mlen) < 0 ||
      get_bytes(&c, mlen, message) < 0 || c.left != 0 ||
      memchr(message->ptr, '\0', mlen) != NULL)
    return SHMB_EPROTO;
  return 0;
}

int shmb_open_reply_decode(const uint8_t *payload, size_t len,
                           shmb_open_reply *out) {
  shmb_cursor c;
  uint16_t olen;
  int rc = begin_ok(payload, len, &c);
  if (rc != 0)
    return rc;
  out->handle = 0;
  out->pid = 0;
  if (get_u32(&c, &out->access) < 0 || get_u64(&c, &out->size) < 0 ||
      get_u32(&c, &out->flags) < 0 || get_zero_u16(&c) < 0 ||
      get_u16(&c, &olen) < 0 || get_bytes(&c, olen, &out->object) < 0)
    return SHMB_EPROTO;
  /* By handle: no name at all, and the handle value and the process it
   * is valid in after it. */
  if (out->flags & SHMB_OPEN_FLAG_HANDLE) {
    if (olen != 0 || get_u64(&c, &out->handle) < 0 || out->handle == 0 ||
        get_u32(&c, &out->pid) < 0 || out->pid == 0 ||
        get_zero_u32(&c) < 0 || c.left != 0)
      return SHMB_EPROTO;
  } else if (c.left != 0 || olen == 0 || olen > SHMB_OBJECT_NAME_MAX ||
             memchr(out->object.ptr, '\0', olen) != NULL) {
    return SHMB_EPROTO;
  }
  if (out->access == 0 || (out->access & ~SHMB_WIRE_ACCESS_MASK) != 0)
    return SHMB_EPROTO;
  return 0;
}

static int get_bell_name(shmb_cursor *c, shmb_str *s) {
  uint16_t n;
  if (get_u16(c, &n) < 0 || n > SHMB_BELL_OBJECT_MAX ||
      get_bytes(c, n, s) < 0 || memchr(s->ptr, '\0', n) != NULL)
    return SHMB_EPROTO;
  return 0;
}

/* The handles of a DOORBELL reply by handle: names all empty, and the
 * objects each side needs, nothing else. */
static int get_bell_handles(shmb_cursor *c, shmb_doorbell_reply *out) {
  const int wait = out->access == SHMB_WIRE_ACCESS_READ;
  if (out->counter.len || out->registry.len || out->event.len ||
      out->armed.len || get_u64(c, &out->counter_h) < 0 ||
      get_u64(c, &out->registry_h) < 0 || get_u64(c, &out->event_h) < 0 ||
      get_u64(c, &out->armed_h) < 0 || out->counter_h == 0 ||
      get_u32(c, &out->pid) < 0 || out->pid == 0 || get_zero_u32(c) < 0)
    return SHMB_EPROTO;
  if (wait ? out->registry_h || !out->event_h || !out->armed_h
           : !out->registry_h || out->event_h || out->armed_h)
    return SHMB_EPROTO;
  return 0;
}

int shmb_doorbell_reply_decode(const uint8_t *payload, size_t len,
                               shmb_doorbell_reply *out) {
  shmb_cursor c;
  int rc = begin_ok(payload, len, &c);
  if (rc != 0)
    return rc;
  out->counter_h = out->registry_h = out->event_h = out->armed_h = 0;
  out->pid = 0;
  if (get_u32(&c, &out->access) < 0 || get_u32(&c, &out->flags) < 0 ||
      (out->flags & ~SHMB_BELL_FLAG_HANDLE) != 0 ||
      get_bell_name(&c, &out->counter) < 0 ||
      get_bell_name(&c, &out->registry) < 0 ||
      get_bell_name(&c, &out->event) < 0 ||
      get_bell_name(&c, &out->armed) < 0)
    return SHMB_EPROTO;
  if (out->access != SHMB_WIRE_ACCESS_READ &&
      out->access != SHMB_WIRE_ACCESS_WRITE)
    return SHMB_EPROTO;
  if (out->flags & SHMB_BELL_FLAG_HANDLE)
    return get_bell_handles(&c, out) == 0 && c.left == 0 ? 0 : SHMB_EPROTO;
  if (out->counter.len == 0 || c.left != 0)
    return SHMB_EPROTO;
  return 0;
}

int shmb_peers_reply_begin(const uint8_t *payload, size_t len,
                           shmb_cursor *c, shmb_peers_head *head) {
  int rc = begin_ok(payload, len, c);
  if (rc != 0)
    return rc;
  if (get_u32(c, &c->remaining) < 0 || c->remaining > SHMB_PEERS_MAX ||
      get_u64(c, &head->generation) < 0 || get_u64(c, &head->next) < 0 ||
      get_u32(c, &head->pid) < 0 || head->pid == 0 || get_zero_u32(c) < 0)
    return SHMB_EPROTO;
  /* Exactly the entries the count says, nothing after. */
  if (c->left != (size_t)c->remaining * sizeof(shmb_wire_peer))
    return SHMB_EPROTO;
  return 0;
}

int shmb_peers_reply_next(shmb_cursor *c, shmb_peer_item *item) {
  if (c->remaining == 0 || get_u32(c, &item->index) < 0 ||
      get_u32(c, &item->id) < 0 || get_u64(c, &item->event) < 0 ||
      get_u64(c, &item->armed) < 0)
    return SHMB_EPROTO;
  if (item->index >= SHMB_PEERS_MAX || item->id == 0 ||
      (item->event == 0) != (item->armed == 0))
    return SHMB_EPROTO;
  c->remaining--;
  return 0;
}

int shmb_list_reply_begin(const uint8_t *payload, size_t len, shmb_cursor *c) {
  int rc = begin_ok(payload, len, c);
  if (rc != 0)
    return rc;
  if (get_u32(c, &c->remaining) < 0)
    return SHMB_EPROTO;
  /* With no entries, _next never runs to check for stray bytes. */
  return c->remaining == 0 && c->left != 0 ? SHMB_EPROTO : 0;
}

int shmb_list_reply_next(shmb_cursor *c, shmb_list_item *item) {
  uint16_t nlen;
  if (c->remaining == 0)
    return SHMB_EPROTO;
  uint16_t flags;
  if (get_u64(c, &item->size) < 0 || get_u32(c, &item->access) < 0 ||
      get_u16(c, &flags) < 0 || get_u16(c, &nlen) < 0 ||
      get_bytes(c, nlen, &item->name) < 0 ||
      (flags & ~SHMB_OPEN_FLAGS_KNOWN) != 0)
    return SHMB_EPROTO;
  item->flags = flags;
  /* The service lists only what the caller may at least read. */
  if (!shmb_name_valid(item->name.ptr, item->name.len) ||
      (item->access & ~SHMB_WIRE_ACCESS_MASK) != 0 ||
      !(item->access & SHMB_WIRE_ACCESS_READ))
    return SHMB_EPROTO;
  c->remaining--;
  if (c->remaining == 0 && c->left != 0)
    return SHMB_EPROTO;
  return 0;
}

int shmb_status_reply_begin(const uint8_t *payload, size_t len,
                            shmb_cursor *c) {
  uint16_t count;
  int rc = begin_ok(payload, len, c);
  if (rc != 0)
    return rc;
  if (get_zero_u16(c) < 0 || get_u16(c, &count) < 0)
    return SHMB_EPROTO;
  c->remaining = count;
  return count == 0 && c->left != 0 ? SHMB_EPROTO : 0;
}

int shmb_status_reply_next(shmb_cursor *c, shmb_kv *kv) {
  uint16_t klen, vlen;
  if (c->remaining == 0)
    return SHMB_EPROTO;
  if (get_u16(c, &klen) < 0 || get_u16(c, &vlen) < 0 ||
      get_bytes(c, klen, &kv->key) < 0 || get_bytes(c, vlen, &kv->value) < 0)
    return SHMB_EPROTO;
  if (klen == 0 || memchr(kv->key.ptr, '\0', klen) ||
      memchr(kv->value.ptr, '\0', vlen))
    return SHMB_EPROTO;
  c->remaining--;
  if (c->remaining == 0 && c->left != 0)
    return SHMB_EPROTO;
  return 0;
}

/* ---- writing ------------------------------------------------------------ */

static void reserve(shmb_frame_buf *b, size_t extra) {
  size_t need, cap;
  uint8_t *p;
  if (b->err)
    return;
  if (extra > SHMB_MAX_FRAME - b->len) {
    b->err = SHMB_ETOOBIG;
    return;
  }
  need = b->len + extra;
  if (need <= b->cap)
    return;
  cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  p = realloc(b->data, cap);
  if (!p) {
    b->err = SHMB_ENOMEM;
    return;
  }
  b->data = p;
  b->cap = cap;
}

void shmb_put_bytes(shmb_frame_buf *b, const void *p, size_t len) {
  reserve(b, len);
  if (b->err || len == 0)
    return;
  memcpy(b->data + b->len, p, len);
  b->len += len;
}

void shmb_put_u8(shmb_frame_buf *b, uint8_t v) { shmb_put_bytes(b, &v, 1); }

void shmb_put_u16(shmb_frame_buf *b, uint16_t v) {
  uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  shmb_put_bytes(b, le, 2);
}

void shmb_put_u32(shmb_frame_buf *b, uint32_t v) {
  uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                   (uint8_t)(v >> 24)};
  shmb_put_bytes(b, le, 4);
}

void shmb_put_u64(shmb_frame_buf *b, uint64_t v) {
  shmb_put_u32(b, (uint32_t)v);
  shmb_put_u32(b, (uint32_t)(v >> 32));
}

void shmb_put_str(shmb_frame_buf *b, const char *s, size_t len) {
  if (len > UINT16_MAX) {
    if (!b->err)
      b->err = SHMB_ETOOBIG;
    return;
  }
  shmb_put_u16(b, (uint16_t)len);
  shmb_put_bytes(b, s, len);
}

static void patch_u16(shmb_frame_buf *b, size_t at, uint16_t v) {
  if (b->err || at + 2 > b->len)
    return;
  b->data[at] = (uint8_t)v;
  b->data[at + 1] = (uint8_t)(v >> 8);
}

static void patch_u32(shmb_frame_buf *b, size_t at, uint32_t v) {
  patch_u16(b, at, (uint16_t)v);
  patch_u16(b, at + 2, (uint16_t)(v >> 16));
}

static uint32_t read_u32_at(const shmb_frame_buf *b, size_t at) {
  shmb_cursor c;
  uint32_t v = 0;
  cursor_init(&c, b->data + at, b->len - at);
  get_u32(&c, &v);
  return v;
}

static uint16_t read_u16_at(const shmb_frame_buf *b, size_t at) {
  shmb_cursor c;
  uint16_t v = 0;
  cursor_init(&c, b->data + at, b->len - at);
  get_u16(&c, &v);
  return v;
}

void shmb_frame_begin(shmb_frame_buf *b, uint8_t opcode, uint32_t request_id) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->err = 0;
  shmb_put_u32(b, SHMB_PROTO_MAGIC);
  shmb_put_u8(b, SHMB_PROTO_VERSION);
  shmb_put_u8(b, opcode);
  shmb_put_u16(b, 0);
  shmb_put_u32(b, request_id);
  shmb_put_u32(b, 0); /* length, patched by shmb_frame_end */
}

int shmb_frame_end(shmb_frame_buf *b) {
  if (b->err) {
    shmb_frame_discard(b);
    return b->err;
  }
  patch_u32(b, offsetof(shmb_frame_header, length),
            (uint32_t)(b->len - SHMB_HEADER_SIZE));
  return 0;
}

void shmb_frame_discard(shmb_frame_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int shmb_frame_finish(shmb_frame_buf *b, uint8_t **out, size_t *outlen) {
  int rc = shmb_frame_end(b);
  if (rc != 0)
    return rc;
  *out = b->data;
  *outlen = b->len;
  return 0;
}

int shmb_encode_hello(uint32_t id, uint8_t min_version, uint8_t max_version,
                      uint8_t **out, size_t *outlen) {
  shmb_frame_buf b;
  shmb_frame_begin(&b, SHMB_OP_HELLO, id);
  shmb_put_u8(&b, min_version);
  shmb_put_u8(&b, max_version);
  shmb_put_u16(&b, 0);
  return shmb_frame_finish(&b, out, outlen);
}

/* LIST, STATUS and RELOAD requests carry no payload. */
static int encode_empty(uint8_t opcode, uint32_t id, uint8_t **out,
                        size_t *outlen) {
  shmb_frame_buf b;
  shmb_frame_begin(&b, opcode, id);
  return shmb_frame_finish(&b, out, outlen);
}

int shmb_encode_list(uint32_t id, uint8_t **out, size_t *outlen) {
  return encode_empty(SHMB_OP_LIST, id, out, outlen);
}

int shmb_encode_status(uint32_t id, uint8_t **out, size_t *outlen) {
  return encode_empty(SHMB_OP_STATUS, id, out, outlen);
}

int shmb_encode_reload(uint32_t id, uint8_t **out, size_t *outlen) {
  return encode_empty(SHMB_OP_RELOAD, id, out, outlen);
}

/* OPEN and DOORBELL requests share their layout. */
static int encode_named(uint8_t opcode, uint32_t id, const char *name,
                        uint32_t access, uint8_t **out, size_t *outlen) {
  shmb_frame_buf b;
  size_t len = strlen(name);
  if (!shmb_name_valid(name, len))
    return SHMB_EBADNAME;
  shmb_frame_begin(&b, opcode, id);
  shmb_put_u32(&b, access);
  shmb_put_u16(&b, 0);
  shmb_put_str(&b, name, len);
  return shmb_frame_finish(&b, out, outlen);
}

int shmb_encode_open(uint32_t id, const char *name, uint32_t access,
                     uint8_t **out, size_t *outlen) {
  return encode_named(SHMB_OP_OPEN, id, name, access, out, outlen);
}

int shmb_encode_doorbell(uint32_t id, const char *name, uint32_t access,
                         uint8_t **out, size_t *outlen) {
  return encode_named(SHMB_OP_DOORBELL, id, name, access, out, outlen);
}

int shmb_encode_peers(uint32_t id, const char *name, uint64_t since,
                      uint8_t **out, size_t *outlen) {
  shmb_frame_buf b;
  size_t len = strlen(name);
  if (!shmb_name_valid(name, len))
    return SHMB_EBADNAME;
  shmb_frame_begin(&b, SHMB_OP_PEERS, id);
  shmb_put_u32(&b, SHMB_WIRE_ACCESS_WRITE);
  shmb_put_u16(&b, 0);
  shmb_put_str(&b, name, len);
  shmb_put_u64(&b, since);
  return shmb_frame_finish(&b, out, outlen);
}

int shmb_encode_doorbell_reply_handles(uint32_t id, uint32_t access,
                                       const shmb_wire_doorbell_handles *h,
                                       uint8_t **out, size_t *outlen) {
  shmb_frame_buf b;
  shmb_frame_begin(&b, SHMB_OP_DOORBELL | SHMB_OP_REPLY, id);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, access);
  shmb_put_u32(&b, SHMB_BELL_FLAG_HANDLE);
  for (int i = 0; i < 4; i++)
    shmb_put_str(&b, "", 0); /* no names */
  shmb_put_u64(&b, h->counter);
  shmb_put_u64(&b, h->registry);
  shmb_put_u64(&b, h->event);
  shmb_put_u64(&b, h->armed);
  shmb_put_u32(&b, h->pid);
  shmb_put_u32(&b, 0);
  return shmb_frame_finish(&b, out, outlen);
}

int shmb_encode_doorbell_reply(uint32_t id, uint32_t access,
                               const char *counter, const char *registry,
                               const char *event, const char *armed,
                               uint8_t **out, size_t *outlen) {
  const char *names[] = {counter, registry, event, armed};
  shmb_frame_buf b;
  shmb_frame_begin(&b, SHMB_OP_DOORBELL | SHMB_OP_REPLY, id);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, access);
  shmb_put_u32(&b, 0);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    size_t n = strlen(names[i]);
    if (n > SHMB_BELL_OBJECT_MAX && !b.err)
      b.err = SHMB_EINVAL;
    shmb_put_str(&b, names[i], n);
  }
  return shmb_frame_finish(&b, out, outlen);
}

/* Status, reserved, then a text: the error body, and RELOAD's reply. */
static int encode_text_reply(uint8_t opcode, uint32_t id, int status,
                             const char *message, uint8_t **out,
                             size_t *outlen) {
  shmb_frame_buf b;
  size_t mlen = message ? strlen(message) : 0;
  if (mlen > SHMB_ERROR_MESSAGE_MAX)
    mlen = SHMB_ERROR_MESSAGE_MAX;
  shmb_frame_begin(&b, opcode, id);
  shmb_put_u32(&b, (uint32_t)status);
  shmb_put_u16(&b, 0);
  shmb_put_str(&b, message, mlen);
  return shmb_frame_finish(&b, out, outlen);
}

int shmb_encode_error(uint8_t opcode, uint32_t id, int status,
                      const char *message, uint8_t **out, size_t *outlen) {
  if (status >= 0 || status <= SHMB__ERRNO_LAST)
    return SHMB_EINVAL;
  return encode_text_reply(opcode, id, status, message, out, outlen);
}

int shmb_encode_message_reply(uint8_t opcode, uint32_t id, const char *message,
                              uint8_t **out, size_t *outlen) {
  return encode_text_reply(opcode, id, 0, message, out, outlen);
}

int shmb_encode_hello_reply(uint32_t id, uint8_t version, const char *server,
                            uint8_t **out, size_t *outlen) {
  shmb_frame_buf b;
  size_t slen = strlen(server);
  shmb_frame_begin(&b, SHMB_OP_HELLO | SHMB_OP_REPLY, id);
  shmb_put_u32(&b, 0);
  shmb_put_u8(&b, version);
  shmb_put_bytes(&b, "\0\0\0", 3);
  shmb_put_u32(&b, SHMB_MAX_FRAME);
  shmb_put_u16(&b, (uint16_t)slen);
  shmb_put_u16(&b, 0);
  shmb_put_u32(&b, 0);
  shmb_put_bytes(&b, server, slen);
  if (slen > UINT16_MAX && !b.err)
    b.err = SHMB_ETOOBIG;
  return shmb_frame_finish(&b, out, outlen);
}

int shmb_encode_open_reply(uint32_t id, uint32_t access, uint64_t size,
                           const char *object, uint8_t **out, size_t *outlen) {
  return shmb_encode_open_reply_flags(id, access, size, 0, object, out,
                                      outlen);
}

int shmb_encode_open_reply_flags(uint32_t id, uint32_t access, uint64_t size,
                                 uint32_t flags, const char *object,
                                 uint8_t **out, size_t *outlen) {
  shmb_frame_buf b;
  size_t olen = strlen(object);
  /* A named reply never says HANDLE: that one has its own encoder. */
  if (olen == 0 || olen > SHMB_OBJECT_NAME_MAX ||
      (flags & SHMB_OPEN_FLAG_HANDLE))
    return SHMB_EINVAL;
  shmb_frame_begin(&b, SHMB_OP_OPEN | SHMB_OP_REPLY, id);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, access);
  shmb_put_u64(&b, size);
  shmb_put_u32(&b, flags);
  shmb_put_u16(&b, 0);
  shmb_put_str(&b, object, olen);
  return shmb_frame_finish(&b, out, outlen);
}

int shmb_encode_open_reply_handle(uint32_t id, uint32_t access, uint64_t size,
                                  uint32_t flags, uint64_t handle,
                                  uint32_t pid, uint8_t **out,
                                  size_t *outlen) {
  shmb_frame_buf b;
  if (handle == 0 || pid == 0)
    return SHMB_EINVAL;
  shmb_frame_begin(&b, SHMB_OP_OPEN | SHMB_OP_REPLY, id);
  shmb_put_u32(&b, 0);
  shmb_put_u32(&b, access);
  shmb_put_u64(&b, size);
  shmb_put_u32(&b, flags | SHMB_OPEN_FLAG_HANDLE);
  shmb_put_u16(&b, 0);
  shmb_put_u16(&b, 0); /* object_len: there is no name */
  shmb_put_u64(&b, handle);
  shmb_put_u32(&b, pid);
  shmb_put_u32(&b, 0);
  return shmb_frame_finish(&b, out, outlen);
}

/* Where the item counts sit in the frame, from the wire structs. */
#define LIST_COUNT_AT (SHMB_HEADER_SIZE + offsetof(shmb_wire_list_rep, count))
#define STATUS_COUNT_AT                                                        \
  (SHMB_HEADER_SIZE + offsetof(shmb_wire_status_rep, count))

void shmb_list_reply_start(shmb_frame_buf *b, uint32_t id) {
  shmb_frame_begin(b, SHMB_OP_LIST | SHMB_OP_REPLY, id);
  shmb_put_u32(b, 0);
  shmb_put_u32(b, 0);
}

void shmb_list_reply_add(shmb_frame_buf *b, const char *name, uint64_t size,
                         uint32_t access, uint32_t flags) {
  if (b->err)
    return;
  shmb_put_u64(b, size);
  shmb_put_u32(b, access);
  shmb_put_u16(b, (uint16_t)flags);
  shmb_put_str(b, name, strlen(name));
  if (!b->err)
    patch_u32(b, LIST_COUNT_AT, read_u32_at(b, LIST_COUNT_AT) + 1);
}

#define PEERS_COUNT_AT                                                         \
  (SHMB_HEADER_SIZE + offsetof(shmb_wire_peers_rep, count))

void shmb_peers_reply_start(shmb_frame_buf *b, uint32_t id,
                            uint64_t generation, uint64_t next,
                            uint32_t pid) {
  shmb_frame_begin(b, SHMB_OP_PEERS | SHMB_OP_REPLY, id);
  shmb_put_u32(b, 0);
  shmb_put_u32(b, 0);
  shmb_put_u64(b, generation);
  shmb_put_u64(b, next);
  shmb_put_u32(b, pid);
  shmb_put_u32(b, 0);
}

void shmb_peers_reply_add(shmb_frame_buf *b, const shmb_wire_peer *p) {
  if (b->err)
    return;
  shmb_put_u32(b, p->index);
  shmb_put_u32(b, p->id);
  shmb_put_u64(b, p->event);
  shmb_put_u64(b, p->armed);
  if (!b->err)
    patch_u32(b, PEERS_COUNT_AT, read_u32_at(b, PEERS_COUNT_AT) + 1);
}

void shmb_status_reply_start(shmb_frame_buf *b, uint32_t id) {
  shmb_frame_begin(b, SHMB_OP_STATUS | SHMB_OP_REPLY, id);
  shmb_put_u32(b, 0);
  shmb_put_u16(b, 0);
  shmb_put_u16(b, 0);
}

void shmb_status_reply_add(shmb_frame_buf *b, const char *key,
                           const char *value) {
  size_t klen = strlen(key), vlen = strlen(value);
  uint32_t count;
  if (b->err)
    return;
  count = read_u16_at(b, STATUS_COUNT_AT);
  if (count == UINT16_MAX || klen > UINT16_MAX || vlen > UINT16_MAX) {
    b->err = SHMB_ETOOBIG;
    return;
  }
  shmb_put_u16(b, (uint16_t)klen);
  shmb_put_u16(b, (uint16_t)vlen);
  shmb_put_bytes(b, key, klen);
  shmb_put_bytes(b, value, vlen);
  if (!b->err)
    patch_u16(b, STATUS_COUNT_AT, (uint16_t)(count + 1));
}
