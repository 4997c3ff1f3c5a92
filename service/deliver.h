/*
 * Handle delivery (delivery = handle): a section the service created
 * without a name reaches a client as a handle that the service duplicates
 * into the client's process, with exactly the granted rights. The process
 * is the one behind the pipe, checked so that a handle never lands in a
 * process that is not the caller's (docs/reliability.md, "Handle
 * delivery", says which races remain).
 */
#ifndef SVC_DELIVER_H
#define SVC_DELIVER_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

#include "access.h"

/* The process a connection's handles go into, checked once, at the
 * connection's first delivery, and then held: while the service holds
 * the process open its pid cannot go to another process. Owned by the
 * connection (zeroed at first; svc_target_release when it ends). */
typedef struct svc_target {
  HANDLE process;       /* PROCESS_DUP_HANDLE; NULL until checked */
  svc_caller as_itself; /* the process's own token (identification level)
                           with its AccessCheck cache */
} svc_target;

void svc_target_release(svc_target *t);

/* A handle duplicated into a client's process whose reply is not yet
 * written: the connection keeps it until the write completes, and closes
 * the handle in the target when the reply cannot be delivered. process is
 * the target's (borrowed: the connection's svc_target owns it, and
 * outlives every write of the connection). */
typedef struct svc_delivery {
  HANDLE process;  /* the target; NULL: nothing delivered */
  uint64_t remote; /* the handle's value in the target */
  uint64_t *more;  /* further handles of the same reply (a doorbell's
                      objects), malloc'd; n_more of them */
  size_t n_more;
} svc_delivery;

/* What the client gets for its wire access bits: FILE_MAP_READ,
 * SECTION_QUERY and READ_CONTROL (to check the owner), plus FILE_MAP_WRITE
 * with write; never WRITE_DAC, WRITE_OWNER or DELETE. */
DWORD svc_delivery_rights(uint32_t wire_access);

/* Duplicates object into the process behind pipe with rights, after
 * checking that the process is the caller's. The first time for t: pid
 * (the pipe's client, a hint) names a live process that existed when the
 * connection was accepted (connected_at, a FILETIME as 100 ns units),
 * whose token's user is who's; it is then held in t. Every time: the
 * process's own token is granted rights by sd. pipe is not looked at:
 * the reply's write is the proof that the client is still there. On
 * success *out holds the target and the handle (end it with
 * svc_delivery_end once the reply's write succeeded or failed). Returns 0,
 * or SHMB_EACCES (not the caller's process), SHMB_EDISCONNECTED (the
 * client went away) or SHMB_ESYSTEM with the reason in err. */
int svc_deliver_handle(HANDLE pipe, unsigned long pid, uint64_t connected_at,
                       const svc_caller *who, svc_target *t,
                       PSECURITY_DESCRIPTOR sd, HANDLE object, DWORD rights,
                       svc_delivery *out, char *err, size_t errlen);

/* One more object for the same reply (a doorbell's several): as
 * svc_deliver_handle, but the target's own token must be granted need
 * (wire access bits) on sd, whatever rights the object gets (an event's
 * are not a section's), and the handle joins those d already holds, so
 * that svc_delivery_end takes back all of them or none. *value is the
 * handle's value in the target. On failure nothing of this call stays in
 * the target; what d held stays for the caller to end. */
int svc_deliver_more(HANDLE pipe, unsigned long pid, uint64_t connected_at,
                     const svc_caller *who, svc_target *t,
                     PSECURITY_DESCRIPTOR sd, uint32_t need, HANDLE object,
                     DWORD rights, svc_delivery *d, uint64_t *value,
                     char *err, size_t errlen);

/* The reply went out (delivered = 1): the handles are the client's. Else
 * every handle of d is closed in the target (DUPLICATE_CLOSE_SOURCE), so
 * nothing stays behind in the client. Either way d is empty after. */
void svc_delivery_end(svc_delivery *d, int delivered);

/* Handles duplicated into clients, and those taken back, since start (for
 * STATUS and the tests). */
void svc_delivery_counts(uint64_t *delivered, uint64_t *taken_back);

#endif /* SVC_DELIVER_H */
