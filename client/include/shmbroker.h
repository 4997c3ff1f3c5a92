/*
 * shmbroker.h - the client SDK of shmbroker.
 *
 * shmbrokerd owns named shared-memory sections and hands them out over a
 * control pipe after checking the caller's token. This SDK connects to that
 * pipe (verifying that the server is the expected account before sending
 * anything), asks for sections by their logical names and maps them.
 *
 * Errors: every function that can fail returns 0 or a negative SHMB_E* code
 * (shmb_errno.h); shmb_strerror() gives a message. Transport errors (the
 * service could not be reached, is not the expected server, went away or
 * timed out) satisfy shmb_err_is_transport(); the service's own answers
 * (SHMB_EACCES, SHMB_ENOENT, ...) do not.
 *
 * Threads: a shmb_client carries one request at a time; use it from one
 * thread at a time (or one client per thread). A shmb_section is independent
 * of the client that opened it: it stays mapped after shmb_disconnect and
 * even if the service stops, until shmb_close. Different sections may be
 * used and closed from different threads. shmb_strerror, shmb_err_name and
 * shmb_err_is_transport are thread-safe.
 *
 * Plain C89-compatible declarations; compiles as C and C++.
 */
#ifndef SHMBROKER_H
#define SHMBROKER_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_errno.h"
#include "shmb_version.h" /* SHMB_VERSION_MAJOR/_MINOR/_PATCH/_STRING */

#ifdef __cplusplus
extern "C" {
#endif

/* Link against the DLL: define SHMB_SHARED (the CMake package does). */
#if defined(_WIN32) && defined(SHMB_SHARED) && !defined(SHMB_BUILDING)
#define SHMB_EXTERN __declspec(dllimport)
#else
#define SHMB_EXTERN
#endif

/* Access to a section, as asked for and as granted. Write implies read. */
#define SHMB_ACCESS_READ 0x1u
#define SHMB_ACCESS_WRITE 0x2u
#define SHMB_ACCESS_READ_WRITE (SHMB_ACCESS_READ | SHMB_ACCESS_WRITE)

/* The server account expected by default: LocalSystem. */
#define SHMB_DEFAULT_SERVER_SID "S-1-5-18"
#define SHMB_SERVER_SID_ENV "SHMBROKER_SERVER_SID"
/* shmb_connect_options.timeout_ms when 0, in milliseconds. */
#define SHMB_DEFAULT_TIMEOUT_MS 5000

typedef struct shmb_client shmb_client;
typedef struct shmb_section shmb_section;

typedef struct shmb_connect_options {
  /* Pipe name, "\\.\pipe\NAME" (local pipes only: anything else is
   * SHMB_EINVAL before any connection); NULL for "\\.\pipe\shmbroker". */
  const char *pipe_name;
  /* The account the server must run as: a SID string ("S-1-5-18") or an
   * account name ("NT AUTHORITY\SYSTEM", "HOST\user"). NULL: the
   * SHMBROKER_SERVER_SID environment variable (either form) if set, else
   * LocalSystem. */
  const char *server_sid;
  /* How long to wait for a busy or not-yet-created pipe, and for each
   * reply, in milliseconds; 0 for SHMB_DEFAULT_TIMEOUT_MS. */
  unsigned int timeout_ms;
} shmb_connect_options;

/* What a section is (shmb_section_info.kind, shmb_open_info.kind): bits. */
#define SHMB_KIND_NOTIFY 0x1u    /* it has a doorbell (notify = yes) */
#define SHMB_KIND_BROADCAST 0x2u /* a broadcast channel's ring */
#define SHMB_KIND_QUEUE 0x4u     /* a queue channel's ring */
#define SHMB_KIND_HANDLE 0x8u    /* delivered by handle: it has no name */

typedef struct shmb_section_info {
  char name[65];     /* logical name */
  uint64_t size;     /* bytes */
  unsigned int access; /* SHMB_ACCESS_* the caller would be granted */
  unsigned int kind;   /* SHMB_KIND_*; 0 from a service older than 0.2 */
} shmb_section_info;

typedef struct shmb_open_info {
  char name[65];
  char object[257]; /* kernel object name, e.g. "Global\shmb-<32 hex>" */
  uint64_t size;
  unsigned int access; /* granted: what was asked for */
  unsigned int kind;   /* SHMB_KIND_* */
} shmb_open_info;

/* Connects and says HELLO. opts may be NULL. Before anything is sent the
 * pipe's owner and the account of the process serving it must be the
 * expected server account, else SHMB_EBADSERVER.
 * A pipe that is busy or does not exist yet is waited for up to the
 * timeout; then SHMB_EUNREACHABLE. An expected server that is neither a
 * SID nor a known account name, or a pipe name that is not local:
 * SHMB_EINVAL. On success *out is yours to
 * shmb_disconnect; on failure shmb_last_message(NULL) says why. */
SHMB_EXTERN int shmb_connect(const shmb_connect_options *opts,
                             shmb_client **out);

/* Closes the connection and frees the client. Sections stay mapped. NULL is
 * ignored. */
SHMB_EXTERN void shmb_disconnect(shmb_client *client);

/* The sections the caller may at least read. On success *list (free it
 * with shmb_free_list) holds *count entries. */
SHMB_EXTERN int shmb_list(shmb_client *client, shmb_section_info **list,
                          size_t *count);
SHMB_EXTERN void shmb_free_list(shmb_section_info *list);

/* Asks for access (SHMB_ACCESS_*) to a section without mapping it: the
 * object name, size and granted access. SHMB_EACCES, SHMB_ENOENT,
 * SHMB_EBADNAME are the service's answers. A reply whose object name is
 * not of the service's form ("Global\" or "Local\", "shmb-", 32 lowercase
 * hex digits) or whose access is not what was asked: SHMB_EBADSERVER.
 * A section delivered by handle (delivery = handle; kind has
 * SHMB_KIND_HANDLE) has no name: object is "", and the handle the service
 * put into this process is closed at once (shmb_open keeps and maps it). */
SHMB_EXTERN int shmb_lookup(shmb_client *client, const char *name,
                            unsigned int access, shmb_open_info *info);

/* Looks the section up, opens it with OpenFileMappingW with the granted
 * rights and maps a view of all of it. On success *out is yours to
 * shmb_close; it does not depend on client staying connected. If the
 * kernel refuses the open after the broker granted it, SHMB_EACCES. An
 * object not owned by the server account, or not of the size the service
 * said: SHMB_EBADSERVER, with nothing left open or mapped. */
SHMB_EXTERN int shmb_open(shmb_client *client, const char *name,
                          unsigned int access, shmb_section **out);

/* The mapped view (writable only with SHMB_ACCESS_WRITE), its size, the
 * granted access, and the names (the object's is "" for a section
 * delivered by handle). Valid until shmb_close. */
SHMB_EXTERN void *shmb_section_data(const shmb_section *section);
SHMB_EXTERN uint64_t shmb_section_size(const shmb_section *section);
SHMB_EXTERN unsigned int shmb_section_access(const shmb_section *section);
SHMB_EXTERN const char *shmb_section_name(const shmb_section *section);
SHMB_EXTERN const char *shmb_section_object(const shmb_section *section);

/* Writes dirty pages of a file-backed section to its file. */
SHMB_EXTERN int shmb_section_flush(shmb_section *section);

/* Whether section is still the object the service hands out under its
 * name: 1 yes, 0 no (the service restarted and made a new one, or the
 * section was removed), or a negative code (the service could not be
 * reached, or refuses the access now). Asks the service again with the
 * section's name and access (one OPEN, nothing mapped) and compares the
 * object names; if client's connection was lost (a restart breaks it), it
 * connects again first with the options client was made with. When 0, open
 * the section anew and switch to the new mapping: writes to the old one no
 * longer reach anyone who opens the section afresh. */
SHMB_EXTERN int shmb_section_is_current(shmb_client *client,
                                        const shmb_section *section);

/* The doorbell of a section whose config says notify = yes
 * (docs/sdk.md, "Doorbells"). Each section keeps what it needs: the first
 * ring, and the first wait, connect to the service again with the options
 * of the client that opened it (the client itself is not used and may be
 * gone). A section without a doorbell: SHMB_ENONOTIFY.
 *
 * Rings: bumps the section's change counter and wakes every waiter asleep
 * on it. Needs SHMB_ACCESS_WRITE (SHMB_EINVAL without it; SHMB_EACCES if
 * the service refuses). With nobody asleep it makes no system call.
 * SHMB_EAGAIN: the waiter list kept changing while read (the service was
 * updating it throughout); the counter moved and every waiter known from
 * before was woken, but one that joined since this section's previous
 * ring may sleep through this one (until the next ring or its timeout):
 * ring again. SHMB_EBELLCLOSED: the service closed this doorbell (the
 * section was removed or rotated, or the service stopped); open the
 * section again. */
SHMB_EXTERN int shmb_section_notify(shmb_section *section);
/* shmb_section_wait's timeout_ms for "no timeout". */
#define SHMB_WAIT_FOREVER 0xFFFFFFFFu
/* Waits until the change counter differs from *seen, then stores the new
 * value in *seen and returns 0; SHMB_ENOTRUNG after timeout_ms with
 * *seen unchanged. Start with the value shmb_section_counter gives (or 0
 * to return at once if the section was ever rung). The first call
 * registers this section as a waiter with the service (needs read access;
 * SHMB_ETOOMANYWAITERS when the section's max_waiters are all taken);
 * the registration lasts until shmb_close. One thread at a time per
 * section; open the section once per waiting thread. SHMB_EBELLCLOSED:
 * the service closed this doorbell and woke its waiters (the section was
 * removed or rotated, or the service stopped); open the section again. */
SHMB_EXTERN int shmb_section_wait(shmb_section *section, uint64_t *seen,
                                  unsigned int timeout_ms);
/* The change counter now (registers as a waiter, as shmb_section_wait). */
SHMB_EXTERN int shmb_section_counter(shmb_section *section, uint64_t *value);
/* A HANDLE (as void *) for the application's own WaitForMultipleObjects or
 * thread-pool wait: an auto-reset event that the next ring signals. It may
 * fire without a change and one firing may stand for many rings: after it
 * fires, read shmb_section_counter and compare; that call also arms the
 * handle for the next ring, so always call it before waiting again. Owned
 * by the section: do not close it; valid until shmb_close. */
SHMB_EXTERN int shmb_section_wait_handle(shmb_section *section,
                                         void **handle);
/* Why the section's last doorbell call failed (the service's refusal or
 * the SDK's explanation); "" if none. */
SHMB_EXTERN const char *shmb_section_message(const shmb_section *section);
/* Unmaps and closes (and ends the section's doorbell registration). NULL
 * is ignored. */
SHMB_EXTERN void shmb_close(shmb_section *section);

/* ---- Channels (docs/sdk.md, "Channels") --------------------------------
 *
 * A channel is a ring of length-delimited messages in a section the
 * service creates, formats and owns ([channel NAME] in its config), with a
 * doorbell for sleeping. kind = queue: each message goes to one receiver,
 * in order (many senders and many receivers). kind = broadcast: every
 * receiver sees every message it keeps up with; senders never wait for
 * receivers, and a receiver that falls behind is told how many it lost.
 *
 * A shmb_channel is one attachment, for one thread at a time: threads that
 * send or receive at once open the channel once each. It does not depend
 * on the client that opened it (the client may be disconnected). Every
 * value the ring holds was written by a peer that may be buggy or hostile:
 * it is checked before use, and corruption is SHMB_ECORRUPT, never a read
 * outside the view or a hang.
 *
 * Timeouts (milliseconds): 0 tries once; SHMB_WAIT_FOREVER never gives up;
 * anything else spins briefly, then sleeps on the channel's doorbell.
 * Nothing within the timeout (queue full, nothing to receive):
 * SHMB_EAGAIN. A peer that died holding a slot is cut out of the ring
 * after it held everyone up for a second (its slot is lost until the
 * service formats the ring again). */
typedef struct shmb_channel shmb_channel;

/* What the caller will do: send, receive, or both. */
#define SHMB_CHANNEL_SEND 0x1u
#define SHMB_CHANNEL_RECEIVE 0x2u

typedef struct shmb_channel_info {
  unsigned int kind;      /* SHMB_KIND_BROADCAST or SHMB_KIND_QUEUE */
  unsigned int slots;     /* messages the ring holds */
  unsigned int slot_size; /* bytes: the largest message */
  unsigned int role;      /* SHMB_CHANNEL_* this attachment may do */
} shmb_channel_info;

/* Opens a channel for role (SHMB_CHANNEL_SEND and/or _RECEIVE), asking the
 * service for the section rights the role needs (sending: write;
 * receiving: read, and write for a queue, whose receivers claim slots).
 * SHMB_EACCES when the service or the kernel refuses; SHMB_ENOTCHANNEL
 * when name is a plain section; SHMB_ECORRUPT when the ring's header is
 * not one the service wrote. A broadcast receiver sees the messages sent
 * after this call. *out is yours to shmb_channel_close. */
SHMB_EXTERN int shmb_channel_open(shmb_client *client, const char *name,
                                  unsigned int role, shmb_channel **out);
SHMB_EXTERN int shmb_channel_get_info(const shmb_channel *channel,
                                      shmb_channel_info *info);

/* Copies len bytes into the ring as one message. SHMB_EMSGSIZE when len is
 * above slot_size (nothing is sent: never a truncation); SHMB_EAGAIN when
 * the queue stayed full (or another broadcast sender kept the ring) for
 * timeout_ms; SHMB_ESTALE when a peer cut this message out because it
 * stalled (it was not delivered); SHMB_EBELLCLOSED when the service closed
 * the channel (reload removed it, or it stopped): open it again. */
SHMB_EXTERN int shmb_channel_send(shmb_channel *channel, const void *msg,
                                  size_t len, unsigned int timeout_ms);
/* Zero-copy send: a slot's payload (capacity slot_size) to write in
 * place, then commit with the message's length (0 sends an empty message:
 * a reserved slot cannot be given back). Errors as shmb_channel_send;
 * commit without a reservation is SHMB_EINVAL, a len above slot_size
 * SHMB_EMSGSIZE with the reservation kept. */
SHMB_EXTERN int shmb_channel_reserve(shmb_channel *channel, void **payload,
                                     size_t *capacity,
                                     unsigned int timeout_ms);
SHMB_EXTERN int shmb_channel_commit(shmb_channel *channel, size_t len);

/* Copies the next message into buf (cap at least slot_size: SHMB_EINVAL
 * otherwise, so nothing is ever truncated) and its length into *len.
 * *lost (may be NULL): messages this broadcast receiver lost just before
 * this one (always 0 for a queue). SHMB_EAGAIN when nothing came within
 * timeout_ms; SHMB_ECORRUPT; SHMB_EBELLCLOSED as for send. */
SHMB_EXTERN int shmb_channel_receive(shmb_channel *channel, void *buf,
                                     size_t cap, size_t *len, uint64_t *lost,
                                     unsigned int timeout_ms);
/* Zero-copy receive: the next message in place, valid until release. The
 * bytes are live shared memory that a hostile sender may change while you
 * read: copy what must stay stable. Broadcast: release returns SHMB_ESTALE
 * when a sender overwrote the slot during the look (what was read may be
 * torn; it counts as lost). */
SHMB_EXTERN int shmb_channel_peek(shmb_channel *channel, const void **payload,
                                  size_t *len, uint64_t *lost,
                                  unsigned int timeout_ms);
SHMB_EXTERN int shmb_channel_release(shmb_channel *channel);

/* Messages this broadcast receiver lost since it opened the channel. */
SHMB_EXTERN uint64_t shmb_channel_lost(const shmb_channel *channel);
/* Why the channel's last call failed; "" if none. */
SHMB_EXTERN const char *shmb_channel_message(const shmb_channel *channel);
/* Ends the attachment (an open reservation or look is abandoned: peers cut
 * it out after their stall bound). NULL is ignored. */
SHMB_EXTERN void shmb_channel_close(shmb_channel *channel);

/* The service's status as key/value text pairs (version, uptime_ms,
 * sections, clients, counters). Free with shmb_free_status. */
typedef struct shmb_status_entry {
  char *key;
  char *value;
} shmb_status_entry;
SHMB_EXTERN int shmb_status(shmb_client *client, shmb_status_entry **entries,
                            size_t *count);
SHMB_EXTERN void shmb_free_status(shmb_status_entry *entries, size_t count);

/* Asks the service to re-read its config file. Allowed to the service's
 * own account and its admins (SHMB_EACCES otherwise). On success
 * shmb_last_message says what changed; SHMB_ECONFIG means the file did not
 * parse or validate and nothing changed, with the reason in
 * shmb_last_message. */
SHMB_EXTERN int shmb_reload(shmb_client *client);

/* The text the service sent with its last refusal, or with a successful
 * reload, or the SDK's own explanation of a transport error (which pipe,
 * how long it waited, which server account was expected and which was
 * found, and how to change the expectation); "" if none. Control bytes
 * from the server are escaped ("\x1b"). Valid until the next call on
 * client. With client NULL: the explanation of the last
 * shmb_connect that failed on the calling thread. */
SHMB_EXTERN const char *shmb_last_message(const shmb_client *client);

SHMB_EXTERN const char *shmb_strerror(int err);
SHMB_EXTERN const char *shmb_err_name(int err);
SHMB_EXTERN int shmb_err_is_transport(int err);
SHMB_EXTERN const char *shmb_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* SHMBROKER_H */
