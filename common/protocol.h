/*
 * The control pipe's wire protocol: framing, the request and reply layouts,
 * and bounds-checked encoders and decoders over (buffer, length).
 *
 * Every frame, in both directions, is a 16-byte header and a payload. All
 * integers are little-endian; strings are UTF-8 with a u16 length and no NUL.
 *
 *   0       4     5      6        8            12           16
 *   +-------+-----+------+--------+------------+------------+~~~~~~~~~~~+
 *   | magic | ver | op   | flags  | request_id | length     | payload   |
 *   | "SHMB"| u8  | u8   | u16 =0 | u32        | u32        | length B  |
 *   +-------+-----+------+--------+------------+------------+~~~~~~~~~~~+
 *
 * A reply carries the request's opcode with SHMB_OP_REPLY set and the same
 * request_id. Every reply payload starts with an i32 status. When the status
 * is negative the rest is an error body, whatever the opcode:
 *
 *   | status i32 | reserved u16 | message_len u16 | message |
 *
 * Requests and their replies (status 0), with the right each one needs:
 *
 *   HELLO  (none)  req:  | min_version u8 | max_version u8 | reserved u16 |
 *                  rep:  | status i32 | version u8 | reserved u8[3] |
 *                        | max_frame u32 | server_len u16 | reserved u16 |
 *                        | reserved u32 | server version string |
 *   LIST   (none; the reply holds only sections the caller may read)
 *                  req:  empty
 *                  rep:  | status i32 | count u32 | count entries of:
 *                        | size u64 | access u32 | flags u16 |
 *                        | name_len u16 | name |
 *                        (flags: SHMB_OPEN_FLAG_* at revision 2, else 0)
 *   OPEN   (the desired access on that section)
 *                  req:  | access u32 | reserved u16 | name_len u16 | name |
 *                  rep:  | status i32 | access u32 | size u64 |
 *                        | flags u32 | reserved u16 | object_len u16 | object |
 *                        (flags: SHMB_OPEN_FLAG_*: the doorbell, the
 *                        channel's kind)
 *                  rep, flags has HANDLE (revision 2 only):
 *                        | status i32 | access u32 | size u64 |
 *                        | flags u32 | reserved u16 | object_len u16 = 0 |
 *                        | handle u64 | pid u32 | reserved u32 |
 *                        (handle: a value, not 0, valid in process pid,
 *                        not 0, into which the service duplicated it with
 *                        the granted rights; the section has no name. A
 *                        reader of a shared pipe that is not pid must
 *                        not use the value: it is not its handle)
 *   DOORBELL (access READ: register as a waiter, needs the section's read
 *          right; access WRITE: ring, needs its write right; exactly one)
 *                  req:  as OPEN
 *                  rep:  | status i32 | access u32 | reserved u32 |
 *                        | counter_len u16 | counter | registry_len u16 |
 *                        | registry | event_len u16 | event | armed_len u16 |
 *                        | armed |  (ring: event and armed empty; wait:
 *                        registry empty). The waiter's event and armed page
 *                        live as long as this connection.
 *                  rep, section delivered by handle (revision 2 only;
 *                        the u32 after access is then flags, with
 *                        SHMB_BELL_FLAG_HANDLE): the four names empty, then
 *                        | counter u64 | registry u64 | event u64 |
 *                        | armed u64 | pid u32 | reserved u32 |  handle
 *                        values valid in process pid (the one that
 *                        connected, as OPEN's), 0 for what is not part of
 *                        the reply (as the names above). A ringer keeps
 *                        this connection for PEERS.
 *   PEERS  (the section's write right, checked at each request; a section
 *          delivered by handle, revision 2): the live waiters' objects,
 *          for a ringer, which cannot open them by name
 *                  req:  | access u32 = WRITE | reserved u16 |
 *                        | name_len u16 | name | since u64 |
 *                  rep:  | status i32 | count u32 | generation u64 |
 *                        | next u64 | pid u32 | reserved u32 |
 *                        count entries of: | index u32 |
 *                        | id u32 | event u64 | armed u64 |
 *                        (generation: the registry page's when the reply
 *                        was made; every live waiter is listed by its
 *                        registry index and id; its event
 *                        (EVENT_MODIFY_STATE) and armed page
 *                        (FILE_MAP_READ) are duplicated into the caller
 *                        only when id >= since, else both are 0: the
 *                        ringer holds them from an earlier reply. next:
 *                        the id the next waiter will get, the since of
 *                        the ringer's next request)
 *   RELOAD (the config's admins; by default the service's own account and
 *          BUILTIN\Administrators)
 *                  req:  empty
 *                  rep:  | status i32 | reserved u16 | message_len u16 |
 *                        | message | (what the reload changed)
 *   STATUS (none; counters only, no section names)
 *                  req:  empty
 *                  rep:  | status i32 | reserved u16 | count u16 |
 *                        count pairs of | key_len u16 | value_len u16 |
 *                        | key | value |
 *
 * Versions: the header's ver is the framing's (1, unchanged). HELLO's
 * min/max_version negotiate the session's revision: the service answers
 * the highest it shares with the client, and only then uses what that
 * revision adds, so clients of revision 1 (which ask 1..1 and check
 * reserved fields are zero) keep working, and a new client told 1 by an
 * old service does without. Revision 2 adds the LIST flags and the
 * OPEN reply by handle, the DOORBELL reply by handle and PEERS; a
 * revision-1 session asking for a section that is
 * delivered by handle gets SHMB_EVERSION with a message (a code that
 * revision-1 SDKs know: they read codes past their own last as a
 * protocol error and drop the message).
 *
 * A frame the service cannot decode gets an SHMB_OP_ERROR reply (request_id 0
 * when the header itself was bad) and the connection is closed.
 */
#ifndef SHMB_COMMON_PROTOCOL_H
#define SHMB_COMMON_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define SHMB_PROTO_MAGIC 0x424D4853u /* "SHMB" as a little-endian u32 */
#define SHMB_PROTO_VERSION 1  /* the frame header's: framing */
#define SHMB_PROTO_REVISION 2 /* the highest session revision (HELLO) */
#define SHMB_HEADER_SIZE 16
#define SHMB_MAX_FRAME (256u * 1024u) /* header included, both directions */
#define SHMB_MAX_PAYLOAD (SHMB_MAX_FRAME - SHMB_HEADER_SIZE)
/* No request needs more; the service refuses larger ones early. */
#define SHMB_MAX_REQUEST_PAYLOAD 1024u
#define SHMB_NAME_MAX 64
#define SHMB_OBJECT_NAME_MAX 256
#define SHMB_ERROR_MESSAGE_MAX 512
/* The control pipe when the config names none; the SDK's default too. */
#define SHMB_DEFAULT_PIPE "\\\\.\\pipe\\shmbroker"

#define SHMB_WIRE_ACCESS_READ 0x1u
#define SHMB_WIRE_ACCESS_WRITE 0x2u
#define SHMB_WIRE_ACCESS_MASK 0x3u

/* OPEN reply flags (and LIST's, at revision 2). Clients that predate a
 * flag ignore it in OPEN. A channel has a doorbell too. */
#define SHMB_OPEN_FLAG_NOTIFY 0x1u    /* the section has a doorbell */
#define SHMB_OPEN_FLAG_BROADCAST 0x2u /* a broadcast channel's ring */
#define SHMB_OPEN_FLAG_QUEUE 0x4u     /* a queue channel's ring */
#define SHMB_OPEN_FLAG_HANDLE 0x8u    /* delivered by handle, no name */
#define SHMB_OPEN_FLAGS_KNOWN 0xfu

enum shmb_opcode {
  SHMB_OP_HELLO = 0x01,
  SHMB_OP_LIST = 0x02,
  SHMB_OP_OPEN = 0x03,
  SHMB_OP_STATUS = 0x04,
  SHMB_OP_RELOAD = 0x05,
  SHMB_OP_DOORBELL = 0x06,
  SHMB_OP_PEERS = 0x07,
  SHMB_OP_ERROR = 0x7f,
  SHMB_OP_REPLY = 0x80
};

typedef struct shmb_frame_header {
  uint32_t magic;
  uint8_t version;
  uint8_t opcode;
  uint16_t flags;
  uint32_t request_id;
  uint32_t length;
} shmb_frame_header;
_Static_assert(sizeof(shmb_frame_header) == SHMB_HEADER_SIZE, "frame header");
/* The codec patches and reads these fields by their offsets: pin them to the
 * drawing above. */
_Static_assert(offsetof(shmb_frame_header, request_id) == 8, "request_id");
_Static_assert(offsetof(shmb_frame_header, length) == 12, "length");

/* Fixed parts of the payloads drawn above; they document the layout and pin
 * its size. The codec reads and writes fields one by one, never via memcpy of
 * these structs, so host padding and byte order cannot leak onto the wire. */
typedef struct shmb_wire_hello_req {
  uint8_t min_version, max_version;
  uint16_t reserved;
} shmb_wire_hello_req;
_Static_assert(sizeof(shmb_wire_hello_req) == 4, "HELLO request");

typedef struct shmb_wire_hello_rep {
  int32_t status;
  uint8_t version, reserved[3];
  uint32_t max_frame;
  uint16_t server_len, reserved2;
  uint32_t reserved3;
} shmb_wire_hello_rep;
_Static_assert(sizeof(shmb_wire_hello_rep) == 20, "HELLO reply");

typedef struct shmb_wire_list_rep {
  int32_t status;
  uint32_t count;
} shmb_wire_list_rep;
_Static_assert(sizeof(shmb_wire_list_rep) == 8, "LIST reply");
_Static_assert(offsetof(shmb_wire_list_rep, count) == 4, "LIST count");

typedef struct shmb_wire_list_entry {
  uint64_t size;
  uint32_t access;
  uint16_t flags, name_len;
} shmb_wire_list_entry;
_Static_assert(sizeof(shmb_wire_list_entry) == 16, "LIST entry");

typedef struct shmb_wire_open_req {
  uint32_t access;
  uint16_t reserved, name_len;
} shmb_wire_open_req;
_Static_assert(sizeof(shmb_wire_open_req) == 8, "OPEN request");

typedef struct shmb_wire_open_rep {
  int32_t status;
  uint32_t access;
  uint64_t size;
  uint32_t flags;
  uint16_t reserved, object_len;
} shmb_wire_open_rep;
_Static_assert(sizeof(shmb_wire_open_rep) == 24, "OPEN reply");
/* What follows the fixed part when flags has SHMB_OPEN_FLAG_HANDLE. */
typedef struct shmb_wire_open_handle {
  uint64_t handle;
  uint32_t pid, reserved;
} shmb_wire_open_handle;
_Static_assert(sizeof(shmb_wire_open_handle) == 16, "OPEN reply's handle");

typedef struct shmb_wire_doorbell_rep {
  int32_t status;
  uint32_t access, flags; /* flags: 0 at revision 1 */
} shmb_wire_doorbell_rep;
_Static_assert(sizeof(shmb_wire_doorbell_rep) == 12, "DOORBELL reply");
/* The DOORBELL reply's handles follow its (empty) names. */
#define SHMB_BELL_FLAG_HANDLE 0x1u
typedef struct shmb_wire_doorbell_handles {
  uint64_t counter, registry, event, armed;
  uint32_t pid, reserved; /* the process the values are valid in */
} shmb_wire_doorbell_handles;
_Static_assert(sizeof(shmb_wire_doorbell_handles) == 40, "DOORBELL handles");

typedef struct shmb_wire_peers_rep {
  int32_t status;
  uint32_t count;
  uint64_t generation, next;
  uint32_t pid, reserved; /* the process the values are valid in */
} shmb_wire_peers_rep;
_Static_assert(sizeof(shmb_wire_peers_rep) == 32, "PEERS reply");

typedef struct shmb_wire_peer {
  uint32_t index, id;
  uint64_t event, armed;
} shmb_wire_peer;
_Static_assert(sizeof(shmb_wire_peer) == 24, "PEERS entry");
/* The most entries a PEERS reply has: a registry's (bell_layout.h). */
#define SHMB_PEERS_MAX 256u

typedef struct shmb_wire_status_rep {
  int32_t status;
  uint16_t reserved, count;
} shmb_wire_status_rep;
_Static_assert(sizeof(shmb_wire_status_rep) == 8, "STATUS reply");
_Static_assert(offsetof(shmb_wire_status_rep, count) == 6, "STATUS count");

typedef struct shmb_wire_error_rep {
  int32_t status;
  uint16_t reserved, message_len;
} shmb_wire_error_rep;
_Static_assert(sizeof(shmb_wire_error_rep) == 8, "error reply");
/* Every reply payload starts with its status, and only the status. */
_Static_assert(offsetof(shmb_wire_error_rep, reserved) == sizeof(int32_t),
               "status first");

/* ---- Reading ---------------------------------------------------------- */

/* Looks at the start of a byte stream. Returns 0 when a whole valid frame is
 * there (its size is SHMB_HEADER_SIZE + hdr->length), a positive count of
 * bytes still missing, or a negative code: SHMB_EPROTO (bad magic or flags),
 * SHMB_EVERSION, SHMB_ETOOBIG (length above max_payload). The header is
 * checked as soon as its 16 bytes are in, so an oversized length is refused
 * before its payload arrives. hdr is filled whenever 16 bytes are present. */
int shmb_frame_peek(const uint8_t *buf, size_t len, size_t max_payload,
                    shmb_frame_header *hdr);

typedef struct shmb_request {
  shmb_frame_header hdr;
  uint8_t min_version, max_version; /* HELLO */
  uint32_t access;                  /* OPEN, DOORBELL, PEERS */
  char name[SHMB_NAME_MAX + 1];     /* OPEN, DOORBELL, PEERS, with NUL */
  uint64_t since;                   /* PEERS */
} shmb_request;

/* Decodes one whole request frame (as found by shmb_frame_peek). Returns 0,
 * SHMB_EOPCODE, SHMB_EPROTO (lengths that do not add up, reserved fields not
 * zero), SHMB_EBADNAME or SHMB_EINVAL (access bits). */
int shmb_request_decode(const uint8_t *frame, size_t len, shmb_request *req);

/* Reply decoding, for the client. Each takes the payload (after the header);
 * a negative status in the payload is returned as is, with its message copied
 * into msg (may be NULL). Strings in the results point into the payload. */
typedef struct shmb_str {
  const char *ptr;
  size_t len;
} shmb_str;

int shmb_reply_status_code(const uint8_t *payload, size_t len, char *msg,
                           size_t msglen);

typedef struct shmb_hello_reply {
  uint8_t version;
  uint32_t max_frame;
  shmb_str server;
} shmb_hello_reply;
int shmb_hello_reply_decode(const uint8_t *payload, size_t len,
                            shmb_hello_reply *out);

/* The text of a successful message reply (RELOAD). */
int shmb_message_reply_decode(const uint8_t *payload, size_t len,
                              shmb_str *message);

typedef struct shmb_open_reply {
  uint32_t access;
  uint64_t size;
  uint32_t flags;
  shmb_str object;  /* empty when flags has SHMB_OPEN_FLAG_HANDLE */
  uint64_t handle;  /* with SHMB_OPEN_FLAG_HANDLE (never 0), else 0 */
  uint32_t pid;     /* the process handle is valid in (never 0), else 0 */
} shmb_open_reply;
/* A reply with SHMB_OPEN_FLAG_HANDLE must have no object, a handle and a
 * pid that are not 0 and a zero reserved field; one without it an object
 * of 1 to SHMB_OBJECT_NAME_MAX bytes and nothing after: else SHMB_EPROTO. */
int shmb_open_reply_decode(const uint8_t *payload, size_t len,
                           shmb_open_reply *out);

/* DOORBELL: names of the doorbell's objects, each empty or of at most
 * SHMB_BELL_OBJECT_MAX bytes without NUL (the SDK checks their form). */
#define SHMB_BELL_OBJECT_MAX 63
typedef struct shmb_doorbell_reply {
  uint32_t access;
  uint32_t flags; /* SHMB_BELL_FLAG_HANDLE: handles below, no names */
  shmb_str counter, registry, event, armed;
  /* With SHMB_BELL_FLAG_HANDLE: the objects' handle values in this
   * process (0: not part of the reply), else all 0. */
  uint64_t counter_h, registry_h, event_h, armed_h;
  uint32_t pid; /* with SHMB_BELL_FLAG_HANDLE: where they are valid */
} shmb_doorbell_reply;
/* By handle: every name empty, the counter's handle not 0, the ring's
 * reply without event and armed, the wait's without registry, a pid not 0
 * and a zero reserved word; else SHMB_EPROTO, as an unknown flag is. */
int shmb_doorbell_reply_decode(const uint8_t *payload, size_t len,
                               shmb_doorbell_reply *out);

/* LIST and STATUS replies are walked with a cursor: *_begin checks the
 * status and count, *_next yields one item (0), or SHMB_EPROTO. */
typedef struct shmb_cursor {
  const uint8_t *p;
  size_t left;
  uint32_t remaining;
} shmb_cursor;

typedef struct shmb_list_item {
  uint64_t size;
  uint32_t access;
  uint32_t flags; /* SHMB_OPEN_FLAG_*; unknown bits are SHMB_EPROTO */
  shmb_str name;
} shmb_list_item;
int shmb_list_reply_begin(const uint8_t *payload, size_t len, shmb_cursor *c);
int shmb_list_reply_next(shmb_cursor *c, shmb_list_item *item);

typedef struct shmb_kv {
  shmb_str key, value;
} shmb_kv;
int shmb_status_reply_begin(const uint8_t *payload, size_t len, shmb_cursor *c);
int shmb_status_reply_next(shmb_cursor *c, shmb_kv *kv);

/* PEERS: the header, then each entry (index below SHMB_PEERS_MAX; event
 * and armed both 0, or both not 0). */
typedef struct shmb_peers_head {
  uint64_t generation, next;
  uint32_t pid; /* the process the entries' values are valid in, not 0 */
} shmb_peers_head;
typedef struct shmb_peer_item {
  uint32_t index, id;
  uint64_t event, armed;
} shmb_peer_item;
int shmb_peers_reply_begin(const uint8_t *payload, size_t len,
                           shmb_cursor *c, shmb_peers_head *head);
int shmb_peers_reply_next(shmb_cursor *c, shmb_peer_item *item);

/* ---- Writing ---------------------------------------------------------- */

/* A growable frame under construction. Any failure (memory, a field too
 * long, the frame past SHMB_MAX_FRAME) sticks in err and the frame is never
 * produced, so callers check once at the end. */
typedef struct shmb_frame_buf {
  uint8_t *data;
  size_t len, cap;
  int err;
} shmb_frame_buf;

void shmb_frame_begin(shmb_frame_buf *b, uint8_t opcode, uint32_t request_id);
void shmb_put_u8(shmb_frame_buf *b, uint8_t v);
void shmb_put_u16(shmb_frame_buf *b, uint16_t v);
void shmb_put_u32(shmb_frame_buf *b, uint32_t v);
void shmb_put_u64(shmb_frame_buf *b, uint64_t v);
/* A u16 length then the bytes. */
void shmb_put_str(shmb_frame_buf *b, const char *s, size_t len);
void shmb_put_bytes(shmb_frame_buf *b, const void *p, size_t len);
/* Patches the length field. Returns 0 with the frame in b->data/b->len (the
 * caller owns b->data and frees it with free()), or the sticky error. */
int shmb_frame_end(shmb_frame_buf *b);
void shmb_frame_discard(shmb_frame_buf *b);
/* shmb_frame_end, then hands the frame over: on success *out (free() it) and
 * *outlen hold the whole frame and b no longer owns it; on failure the frame
 * is discarded and the sticky error returned. The one way every encoder,
 * here and in the service, ends a frame. */
int shmb_frame_finish(shmb_frame_buf *b, uint8_t **out, size_t *outlen);

/* Whole frames. Each returns 0 and a malloc'd frame, or a negative code. */
int shmb_encode_hello(uint32_t id, uint8_t min_version, uint8_t max_version,
                      uint8_t **out, size_t *outlen);
int shmb_encode_list(uint32_t id, uint8_t **out, size_t *outlen);
int shmb_encode_status(uint32_t id, uint8_t **out, size_t *outlen);
int shmb_encode_reload(uint32_t id, uint8_t **out, size_t *outlen);
int shmb_encode_open(uint32_t id, const char *name, uint32_t access,
                     uint8_t **out, size_t *outlen);
/* access: SHMB_WIRE_ACCESS_READ (wait) or _WRITE (ring). */
int shmb_encode_doorbell(uint32_t id, const char *name, uint32_t access,
                         uint8_t **out, size_t *outlen);
/* PEERS; since: the next of the last PEERS reply (0: every waiter). */
int shmb_encode_peers(uint32_t id, const char *name, uint64_t since,
                      uint8_t **out, size_t *outlen);
int shmb_encode_error(uint8_t opcode, uint32_t id, int status,
                      const char *message, uint8_t **out, size_t *outlen);

/* Replies, for the service. LIST and STATUS replies grow item by item: the
 * count in the frame is kept up to date by each _add. */
int shmb_encode_hello_reply(uint32_t id, uint8_t version, const char *server,
                            uint8_t **out, size_t *outlen);
int shmb_encode_open_reply(uint32_t id, uint32_t access, uint64_t size,
                           const char *object, uint8_t **out, size_t *outlen);
/* The same with flags (SHMB_OPEN_FLAG_*). */
int shmb_encode_open_reply_flags(uint32_t id, uint32_t access, uint64_t size,
                                 uint32_t flags, const char *object,
                                 uint8_t **out, size_t *outlen);
/* The reply by handle (revision 2): flags gets SHMB_OPEN_FLAG_HANDLE, the
 * object is empty, handle (not 0) and the pid of the process it was
 * duplicated into (not 0) follow. */
int shmb_encode_open_reply_handle(uint32_t id, uint32_t access, uint64_t size,
                                  uint32_t flags, uint64_t handle,
                                  uint32_t pid, uint8_t **out,
                                  size_t *outlen);
/* Names may be "" (not part of this reply). */
int shmb_encode_doorbell_reply(uint32_t id, uint32_t access,
                               const char *counter, const char *registry,
                               const char *event, const char *armed,
                               uint8_t **out, size_t *outlen);
/* The same by handle (flags SHMB_BELL_FLAG_HANDLE, names empty); values
 * 0 for what is not part of the reply. */
int shmb_encode_doorbell_reply_handles(uint32_t id, uint32_t access,
                                       const shmb_wire_doorbell_handles *h,
                                       uint8_t **out, size_t *outlen);
/* PEERS grows entry by entry; the count is kept up to date. */
void shmb_peers_reply_start(shmb_frame_buf *b, uint32_t id,
                            uint64_t generation, uint64_t next,
                            uint32_t pid);
void shmb_peers_reply_add(shmb_frame_buf *b, const shmb_wire_peer *p);
/* A successful reply that carries text (RELOAD), laid out like an error. */
int shmb_encode_message_reply(uint8_t opcode, uint32_t id, const char *message,
                              uint8_t **out, size_t *outlen);
void shmb_list_reply_start(shmb_frame_buf *b, uint32_t id);
/* flags must be 0 for a revision-1 session. */
void shmb_list_reply_add(shmb_frame_buf *b, const char *name, uint64_t size,
                         uint32_t access, uint32_t flags);
void shmb_status_reply_start(shmb_frame_buf *b, uint32_t id);
void shmb_status_reply_add(shmb_frame_buf *b, const char *key,
                           const char *value);

/* Section names: 1 to SHMB_NAME_MAX characters of A-Z a-z 0-9 . _ - */
int shmb_name_valid(const char *name, size_t len);

/* Why name is not a valid section name, for the one who typed it: returns
 * 0 when it is valid, else SHMB_EBADNAME with a message in err (err may be
 * NULL) that names the first character not allowed and its position
 * ("'counter ' has ' ' (0x20) at position 8; ..."), or says that it is
 * empty or too long. Printable characters are shown as themselves, others
 * only as their hex value. */
int shmb__name_check(const char *name, size_t len, char *err, size_t errlen);

/* The name among names[0..n) that name most likely meant: the same but for
 * case, or else the one fewest single-character edits away (at most 2, and
 * fewer than half of name's length). NULL when none is that close. Give it
 * only names the caller may know (the ones it may list). */
const char *shmb__closest_name(const char *name, const char *const *names,
                               size_t n);

/* Wire access bits as the words the docs and logs use: "read", "write",
 * "read,write", or "none" (no known bit). A static string. */
const char *shmb__access_name(uint32_t wire_access);

#endif /* SHMB_COMMON_PROTOCOL_H */
