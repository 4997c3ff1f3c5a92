/*
 * The SDK's connection to the control pipe: open it with identification-only
 * impersonation, prove the server's identity, exchange frames with
 * timeouts. Internal to libshmbroker.
 */
#ifndef SHMB_CLIENT_TRANSPORT_H
#define SHMB_CLIENT_TRANSPORT_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

#include "protocol.h" /* SHMB_HEADER_SIZE */
#include "shmbroker.h"

/* Room for the SDK's own explanations (which name pipes, accounts and
 * SIDs), beyond the service's SHMB_ERROR_MESSAGE_MAX. */
#define SHMB_CLIENT_MESSAGE_MAX 1024

struct shmb_client {
  HANDLE pipe;
  HANDLE io_event;
  unsigned timeout_ms;
  uint32_t next_id;
  /* What shmb_connect was given, kept to connect again (is_current). */
  char *pipe_name;
  char *server;        /* as given: a SID string or an account name */
  const char *server_from; /* where server came from, for messages */
  PSID server_sid;     /* server resolved (LocalAlloc'd), while connected:
                          sections must be owned by it too */
  char message[SHMB_CLIENT_MESSAGE_MAX]; /* last refusal's explanation */
  int revision; /* the session's protocol revision, from HELLO */
  /* The reply being read, kept when its read times out: the service owes
   * it still, and it is read before anything else (transport.c). */
  struct {
    int owed;                      /* a request's reply not fully read */
    uint32_t id;                   /* that request's id and opcode */
    uint8_t opcode;
    uint8_t hdr[SHMB_HEADER_SIZE]; /* the reply's header, as read so far */
    size_t got;                    /* bytes of header and payload read */
    uint8_t *body;                 /* the payload once the header is in */
  } rx;
};

/* Keeps what opts says (or the defaults) in c: pipe name, expected server
 * and where it came from, timeout; then opens the pipe as
 * shmb__transport_reopen does. c->io_event must exist. */
int shmb__transport_open(shmb_client *c, const shmb_connect_options *opts);

/* Opens c->pipe_name, waiting up to c->timeout_ms for it to exist or to
 * have a free instance, and checks that its owner and the token user of
 * the process serving it are the expected server (c->server_sid). On
 * failure c->message says what was expected, what was found and what to
 * do. */
int shmb__transport_reopen(shmb_client *c);

/* Frees what shmb__transport_open kept and closes the pipe. */
void shmb__transport_close(shmb_client *c);

/* Sends a request frame and waits for the reply to it. On success *payload
 * (free()) holds the reply payload; a reply with a negative status is
 * returned as that status, with its text (escaped: shmb__sanitise) in
 * c->message. A reply to another request id or opcode is SHMB_EPROTO and
 * drops the connection. */
int shmb__roundtrip(shmb_client *c, const uint8_t *frame, size_t len,
                    uint8_t opcode, uint8_t **payload, size_t *plen);

/* A reply that came after its request timed out, read before the next
 * request or the close (payload: the whole reply, status first). Undoes
 * what it delivered: an OPEN reply by handle's handle, once it passes the
 * checks of a reply by handle (it went into this process, a section handle
 * with the delivery's rights, the server account's object), is closed
 * (client.c). Other replies are only read. */
void shmb__late_reply(shmb_client *c, uint8_t opcode, const uint8_t *payload,
                      size_t len);

/* Raw frame I/O with the client's timeout, exported for the test tools. */
int shmb__write_all(shmb_client *c, const void *buf, size_t len);
int shmb__read_all(shmb_client *c, void *buf, size_t len);

/* The kernel object behind h (READ_CONTROL needed) is owned by expected,
 * else SHMB_EBADSERVER with object, the owner found and the one expected
 * in err (section.c). named: h was opened by name (the message says it is
 * closed), else delivered by the service (left open). Closes nothing. */
int shmb__object_owner_check(HANDLE h, PSID expected, const char *object,
                             int named, char *err, size_t errlen);

/* shmb_lookup, and the OPEN reply's flags (SHMB_OPEN_FLAG_*; flags may be
 * NULL): for shmbctl info, without growing the public shmb_open_info. */
int shmb__lookup_flags(shmb_client *client, const char *name,
                       unsigned int access, shmb_open_info *info,
                       unsigned *flags);

/* shmb__lookup_flags, and for a section delivered by handle the handle
 * the service duplicated into this process (checked: a section handle
 * with exactly the granted rights) in *handle, the caller's to close;
 * NULL for a section delivered by name. */
int shmb__lookup_handle(shmb_client *client, const char *name,
                        unsigned int access, shmb_open_info *info,
                        unsigned *flags, HANDLE *handle);

/* value, from an OPEN reply by handle that says it went into process
 * pid, names a handle of this process (pid is ours), of a section, whose
 * granted rights are exactly those the service gives for wire_access
 * (query, map-read and read-control, plus map-write): then 0 and *h.
 * Otherwise SHMB_EBADSERVER with err, and the handle is left alone: it
 * may be one of ours that the reply did not mean (section.c). The owner
 * is not checked here (shmb__delivered_handle does). */
int shmb__handle_check(uint64_t value, uint32_t pid, unsigned wire_access,
                       HANDLE *h, char *err, size_t errlen);
/* The same for any object: value names a handle of this process to an
 * object of type kind (L"Section", L"Event") whose granted rights are
 * exactly want (the doorbell's handles, notify.c). */
int shmb__handle_check_kind(uint64_t value, const wchar_t *kind,
                            unsigned long want, HANDLE *h, char *err,
                            size_t errlen);

/* The handle an OPEN reply by handle delivered (rep->flags has HANDLE):
 * only in a revision-2 session, shmb__handle_check's checks, and the
 * object owned by the server account (c->server_sid). 0 and *h, the
 * caller's to close; else an error with c->message, and nothing closed
 * (client.c). */
struct shmb_open_reply;
int shmb__delivered_handle(shmb_client *c, const struct shmb_open_reply *rep,
                           HANDLE *h);

/* Drops the connection and makes a new one (open, check, HELLO) with the
 * same options; the client's sections are not touched. */
int shmb__reconnect(shmb_client *c);

#endif /* SHMB_CLIENT_TRANSPORT_H */
