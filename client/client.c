/*
 * The SDK's requests: connect (with HELLO), LIST, OPEN without mapping
 * (shmb_lookup), STATUS. Every reply is decoded with common/'s bounds-checked
 * decoders, and nothing in it is believed beyond what can be checked
 * (trust.h): an OPEN reply's object name must have the form the service
 * makes and its access must be exactly what was asked; STATUS and RELOAD
 * text is escaped, so no control byte from the server reaches a terminal.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "transport.h"
#include "trust.h"

/* The SDK's kind bits are the wire's flags. */
_Static_assert(SHMB_KIND_NOTIFY == SHMB_OPEN_FLAG_NOTIFY &&
                   SHMB_KIND_BROADCAST == SHMB_OPEN_FLAG_BROADCAST &&
                   SHMB_KIND_QUEUE == SHMB_OPEN_FLAG_QUEUE &&
                   SHMB_KIND_HANDLE == SHMB_OPEN_FLAG_HANDLE,
               "SHMB_KIND_* are SHMB_OPEN_FLAG_*");

_Static_assert(SHMB_ACCESS_READ == SHMB_WIRE_ACCESS_READ &&
                   SHMB_ACCESS_WRITE == SHMB_WIRE_ACCESS_WRITE,
               "public access bits are the wire's");
_Static_assert(sizeof(((shmb_open_info *)0)->object) ==
                   SHMB_OBJECT_NAME_MAX + 1,
               "object name buffer");

/* The library's own version, from the generated header: with the DLL, the
 * version actually loaded, which may differ from the header's. */
const char *shmb_version_string(void) { return SHMB_VERSION_STRING; }

/* A failed shmb_connect has no client to carry its explanation: it stays
 * here, one per thread, until the next shmb_connect on that thread. */
static _Thread_local char connect_message[SHMB_CLIENT_MESSAGE_MAX];

const char *shmb_last_message(const shmb_client *client) {
  return client ? client->message : connect_message;
}

static uint32_t next_id(shmb_client *c) {
  if (++c->next_id == 0)
    c->next_id = 1;
  return c->next_id;
}

static int hello(shmb_client *c) {
  shmb_hello_reply rep;
  uint8_t *frame, *payload;
  size_t len, plen;
  int rc;

  /* Revisions 1 to ours: an older service answers 1 and we do without
   * what 2 adds (protocol.h, "Versions"). */
  if ((rc = shmb_encode_hello(next_id(c), 1, SHMB_PROTO_REVISION, &frame,
                              &len)) != 0)
    return rc;
  rc = shmb__roundtrip(c, frame, len, SHMB_OP_HELLO, &payload, &plen);
  free(frame);
  if (rc != 0)
    return rc;
  rc = shmb_hello_reply_decode(payload, plen, &rep);
  if (rc == 0 && (rep.version < 1 || rep.version > SHMB_PROTO_REVISION))
    rc = shmb__fail(c->message, sizeof(c->message), SHMB_EVERSION,
                    "the service chose protocol revision %u; this SDK "
                    "speaks 1 to %u: use an SDK and a service of the same "
                    "release", (unsigned)rep.version, SHMB_PROTO_REVISION);
  if (rc == 0)
    c->revision = rep.version;
  free(payload);
  return rc;
}

int shmb_connect(const shmb_connect_options *opts, shmb_client **out) {
  shmb_client *c;
  int rc;

  connect_message[0] = '\0';
  if (!out)
    return SHMB_EINVAL;
  *out = NULL;
  if (!(c = calloc(1, sizeof(*c))))
    return SHMB_ENOMEM;
  if (!(c->io_event = CreateEventW(NULL, TRUE, FALSE, NULL))) {
    free(c);
    return SHMB_ENOMEM;
  }
  if ((rc = shmb__transport_open(c, opts)) != 0 || (rc = hello(c)) != 0) {
    memcpy(connect_message, c->message, sizeof(connect_message));
    shmb_disconnect(c);
    return rc;
  }
  *out = c;
  return 0;
}

int shmb__reconnect(shmb_client *c) {
  int rc = shmb__transport_reopen(c);
  return rc != 0 ? rc : hello(c);
}

void shmb_disconnect(shmb_client *client) {
  if (!client)
    return;
  shmb__transport_close(client);
  if (client->io_event)
    CloseHandle(client->io_event);
  free(client);
}

/* Sends an argument-less request (LIST, STATUS) and returns its payload. */
static int simple_request(shmb_client *c, uint8_t opcode,
                          int (*encode)(uint32_t, uint8_t **, size_t *),
                          uint8_t **payload, size_t *plen) {
  uint8_t *frame;
  size_t len;
  int rc;
  if (!c)
    return SHMB_EINVAL;
  if ((rc = encode(next_id(c), &frame, &len)) != 0)
    return rc;
  rc = shmb__roundtrip(c, frame, len, opcode, payload, plen);
  free(frame);
  return rc;
}

int shmb_list(shmb_client *client, shmb_section_info **list, size_t *count) {
  shmb_cursor cur;
  shmb_list_item item;
  shmb_section_info *v = NULL;
  uint8_t *payload;
  size_t plen, n = 0;
  int rc;

  if (!list || !count)
    return SHMB_EINVAL;
  rc = simple_request(client, SHMB_OP_LIST, shmb_encode_list, &payload, &plen);
  if (rc != 0)
    return rc;
  if ((rc = shmb_list_reply_begin(payload, plen, &cur)) != 0)
    goto out_malformed;
  /* calloc(0) may give NULL: always allocate at least one entry. */
  if (cur.remaining > SHMB_MAX_PAYLOAD / sizeof(shmb_wire_list_entry)) {
    rc = SHMB_EPROTO; /* more entries than a frame can hold */
    goto out_free_payload;
  }
  if (!(v = calloc(cur.remaining ? cur.remaining : 1, sizeof(*v)))) {
    rc = SHMB_ENOMEM;
    goto out_free_payload;
  }
  while (cur.remaining > 0) {
    if ((rc = shmb_list_reply_next(&cur, &item)) != 0) {
      shmb__fail(client->message, sizeof(client->message), rc,
                 "the server's LIST reply is malformed at entry %lu: a name "
                 "that is not a section name, access bits that are unknown "
                 "or without read, or lengths that do not add up",
                 (unsigned long)n + 1);
      goto out_free_list;
    }
    memcpy(v[n].name, item.name.ptr, item.name.len);
    v[n].name[item.name.len] = '\0';
    v[n].size = item.size;
    v[n].access = item.access;
    v[n].kind = item.flags;
    n++;
  }
  *list = v;
  *count = n;
  free(payload);
  return 0;

out_malformed:
  shmb__fail(client->message, sizeof(client->message), rc,
             "the server's LIST reply is malformed (its count or lengths do "
             "not add up)");
  goto out_free_payload;
out_free_list:
  free(v);
out_free_payload:
  free(payload);
  return rc;
}

void shmb_free_list(shmb_section_info *list) { free(list); }

/* Why an OPEN reply did not decode. The decoder refuses unknown access
 * bits without saying so; those are a server granting what nobody asked
 * for, so they are named (the field is at its wire offset). */
static int open_reply_malformed(shmb_client *c, const uint8_t *payload,
                                size_t plen, int rc) {
  const size_t at = offsetof(shmb_wire_open_rep, access);
  uint32_t granted;
  if (rc != SHMB_EPROTO)
    return rc;
  if (plen >= sizeof(shmb_wire_open_rep)) {
    granted = (uint32_t)payload[at] | (uint32_t)payload[at + 1] << 8 |
              (uint32_t)payload[at + 2] << 16 |
              (uint32_t)payload[at + 3] << 24;
    if (granted & ~SHMB_WIRE_ACCESS_MASK)
      return shmb__access_check(0, granted, c->message, sizeof(c->message));
  }
  return shmb__fail(c->message, sizeof(c->message), SHMB_EPROTO,
                    "the server's OPEN reply is malformed (lengths, reserved "
                    "fields, no access, or an empty, over-long or "
                    "NUL-holding object name)");
}

int shmb_lookup(shmb_client *client, const char *name, unsigned int access,
                shmb_open_info *info) {
  return shmb__lookup_flags(client, name, access, info, NULL);
}

int shmb__lookup_flags(shmb_client *client, const char *name,
                       unsigned int access, shmb_open_info *info,
                       unsigned *flags) {
  HANDLE h = NULL;
  int rc = shmb__lookup_handle(client, name, access, info, flags, &h);
  /* Only the answer was wanted: a handle the service put here goes. */
  if (h)
    CloseHandle(h);
  return rc;
}

/* A reply by handle: only in a revision-2 session; the handle must be
 * one the reply says went into this process, a section handle here with
 * exactly the granted rights, of an object the server account owns (as a
 * section opened by name must be). Whatever fails, the value is not
 * closed: it may be a handle of ours that the reply did not mean. */
int shmb__delivered_handle(shmb_client *c, const shmb_open_reply *rep,
                           HANDLE *h) {
  char what[48];
  int rc;

  *h = NULL;
  if (c->revision < 2)
    return shmb__fail(c->message, sizeof(c->message), SHMB_EPROTO,
                      "the server sent a handle in a protocol revision %d "
                      "session, which only carries names", c->revision);
  if (!c->server_sid)
    return SHMB_EDISCONNECTED;
  if ((rc = shmb__handle_check(rep->handle, rep->pid, rep->access, h,
                               c->message, sizeof(c->message))) != 0)
    return rc;
  snprintf(what, sizeof(what), "delivered as handle 0x%llx",
           (unsigned long long)rep->handle);
  if ((rc = shmb__object_owner_check(*h, c->server_sid, what, 0,
                                     c->message, sizeof(c->message))) != 0)
    *h = NULL;
  return rc;
}

/* One handle of a late doorbell answer, closed when it is what that
 * answer hands out (kind, exact rights); else not ours to close. */
static void late_close(uint64_t value, const wchar_t *kind, DWORD rights) {
  char why[SHMB_ERROR_MESSAGE_MAX];
  HANDLE h;
  if (value &&
      shmb__handle_check_kind(value, kind, rights, &h, why, sizeof(why)) == 0)
    CloseHandle(h);
}

/* A late DOORBELL by handle: a waiter's counter, event and armed page, or
 * a ringer's counter and registry (the rights notify.c takes them with). */
static void late_doorbell(const uint8_t *payload, size_t len) {
  shmb_doorbell_reply rep;
  if (shmb_doorbell_reply_decode(payload, len, &rep) != 0 ||
      !(rep.flags & SHMB_BELL_FLAG_HANDLE) ||
      rep.pid != GetCurrentProcessId())
    return;
  if (rep.access == SHMB_WIRE_ACCESS_READ) {
    late_close(rep.counter_h, L"Section", FILE_MAP_READ);
    late_close(rep.event_h, L"Event", SYNCHRONIZE);
    late_close(rep.armed_h, L"Section", FILE_MAP_READ | FILE_MAP_WRITE);
  } else {
    late_close(rep.counter_h, L"Section", FILE_MAP_READ | FILE_MAP_WRITE);
    late_close(rep.registry_h, L"Section", FILE_MAP_READ);
  }
}

/* A late PEERS: each waiter's event (signal) and armed page (read). */
static void late_peers(const uint8_t *payload, size_t len) {
  shmb_peers_head head;
  shmb_peer_item it;
  shmb_cursor cur;
  if (shmb_peers_reply_begin(payload, len, &cur, &head) != 0 ||
      head.pid != GetCurrentProcessId())
    return;
  while (cur.remaining && shmb_peers_reply_next(&cur, &it) == 0) {
    late_close(it.event, L"Event", EVENT_MODIFY_STATE);
    late_close(it.armed, L"Section", FILE_MAP_READ);
  }
}

void shmb__late_reply(shmb_client *c, uint8_t opcode, const uint8_t *payload,
                      size_t len) {
  shmb_open_reply rep;
  HANDLE h;
  /* Nobody waits for this answer any more: what it delivered goes. A
   * value that fails the checks is not ours to close. */
  if (shmb_reply_status_code(payload, len, NULL, 0) != 0 || c->revision < 2)
    return;
  if (opcode == SHMB_OP_OPEN) {
    if (shmb_open_reply_decode(payload, len, &rep) == 0 &&
        (rep.flags & SHMB_OPEN_FLAG_HANDLE) &&
        shmb__delivered_handle(c, &rep, &h) == 0)
      CloseHandle(h);
  } else if (opcode == SHMB_OP_DOORBELL)
    late_doorbell(payload, len);
  else if (opcode == SHMB_OP_PEERS)
    late_peers(payload, len);
}

int shmb__lookup_handle(shmb_client *client, const char *name,
                        unsigned int access, shmb_open_info *info,
                        unsigned *flags, HANDLE *handle) {
  shmb_open_reply rep;
  uint8_t *frame, *payload;
  size_t len, plen;
  int rc;

  *handle = NULL;
  if (!client || !name || !info || access == 0 ||
      (access & ~SHMB_ACCESS_READ_WRITE) != 0)
    return SHMB_EINVAL;
  if (access & SHMB_ACCESS_WRITE)
    access |= SHMB_ACCESS_READ; /* a writable view is also readable */
  /* Refused here, before a request: say which character is wrong. */
  if ((rc = shmb__name_check(name, strlen(name), client->message,
                             sizeof(client->message))) != 0)
    return rc;
  if ((rc = shmb_encode_open(next_id(client), name, access, &frame, &len)) !=
      0)
    return rc;
  rc = shmb__roundtrip(client, frame, len, SHMB_OP_OPEN, &payload, &plen);
  free(frame);
  if (rc != 0)
    return rc;
  if ((rc = shmb_open_reply_decode(payload, plen, &rep)) != 0)
    rc = open_reply_malformed(client, payload, plen, rc);
  /* Never more, or less, than asked; only a name the service makes, or
   * a handle it duplicated here. */
  else if ((rc = shmb__access_check(access, rep.access, client->message,
                                    sizeof(client->message))) == 0)
    rc = rep.flags & SHMB_OPEN_FLAG_HANDLE
             ? shmb__delivered_handle(client, &rep, handle)
             : shmb__object_name_check(rep.object.ptr, rep.object.len,
                                       client->message,
                                       sizeof(client->message));
  if (rc == 0) {
    memset(info, 0, sizeof(*info));
    strcpy(info->name, name); /* valid, so at most SHMB_NAME_MAX bytes */
    memcpy(info->object, rep.object.ptr, rep.object.len);
    info->size = rep.size;
    info->access = rep.access;
    info->kind = rep.flags & SHMB_OPEN_FLAGS_KNOWN;
    if (flags)
      *flags = rep.flags;
  }
  free(payload);
  return rc;
}

int shmb_status(shmb_client *client, shmb_status_entry **entries,
                size_t *count) {
  shmb_cursor cur;
  shmb_kv kv;
  shmb_status_entry *v;
  uint8_t *payload;
  size_t plen, n = 0;
  int rc;

  if (!entries || !count)
    return SHMB_EINVAL;
  rc = simple_request(client, SHMB_OP_STATUS, shmb_encode_status, &payload,
                      &plen);
  if (rc != 0)
    return rc;
  if ((rc = shmb_status_reply_begin(payload, plen, &cur)) != 0)
    goto out_free_payload;
  if (!(v = calloc(cur.remaining ? cur.remaining : 1, sizeof(*v)))) {
    rc = SHMB_ENOMEM;
    goto out_free_payload;
  }
  while (cur.remaining > 0 && rc == 0) {
    if ((rc = shmb_status_reply_next(&cur, &kv)) != 0)
      break;
    /* Escaped: STATUS text is printed, and the server is not trusted. */
    v[n].key = malloc(SHMB_SANITISED_MAX(kv.key.len));
    v[n].value = malloc(SHMB_SANITISED_MAX(kv.value.len));
    n++;
    if (!v[n - 1].key || !v[n - 1].value) {
      rc = SHMB_ENOMEM;
      break;
    }
    shmb__sanitise(kv.key.ptr, kv.key.len, v[n - 1].key,
                   SHMB_SANITISED_MAX(kv.key.len));
    shmb__sanitise(kv.value.ptr, kv.value.len, v[n - 1].value,
                   SHMB_SANITISED_MAX(kv.value.len));
  }
  if (rc != 0)
    goto out_free_entries;
  *entries = v;
  *count = n;
  free(payload);
  return 0;

out_free_entries:
  shmb_free_status(v, n);
out_free_payload:
  free(payload);
  return rc;
}

void shmb_free_status(shmb_status_entry *entries, size_t count) {
  if (!entries)
    return;
  for (size_t i = 0; i < count; i++) {
    free(entries[i].key);
    free(entries[i].value);
  }
  free(entries);
}

int shmb_reload(shmb_client *client) {
  shmb_str text;
  uint8_t *payload;
  size_t plen;
  int rc = simple_request(client, SHMB_OP_RELOAD, shmb_encode_reload,
                          &payload, &plen);
  if (rc != 0)
    return rc;
  if ((rc = shmb_message_reply_decode(payload, plen, &text)) == 0)
    shmb__sanitise(text.ptr, text.len, client->message,
                   sizeof(client->message));
  free(payload);
  return rc;
}
