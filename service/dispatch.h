/*
 * Request dispatch: from a decoded request to its reply frame, through one
 * table that says for each opcode the right it needs and its handler.
 * Refusals (access denied, no such section, version mismatch) are replies
 * too; the connection stays open for the next request.
 */
#ifndef SVC_DISPATCH_H
#define SVC_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "broker.h"
#include "deliver.h"
#include "protocol.h"

/* One request's circumstances, filled by the connection. */
typedef struct svc_request_ctx {
  svc_broker *b;
  const svc_caller *who; /* NULL: the caller could not be identified */
  unsigned long pid;     /* from the pipe, a hint (it can be stale): for
                            logs, and the process handle delivery opens,
                            checks and holds */
  const char *account;   /* the pid's account SID, for logs before `who`;
                            NULL: unknown */
  unsigned clients;      /* connected now, for STATUS */
  const void *owner;     /* the connection: a doorbell waiter's lifetime */
  int *keep_open;        /* set to 1 when the connection now holds a waiter
                            (no idle timeout); may be NULL */
  int *revision;         /* the session's protocol revision (protocol.h):
                            HELLO sets it; 1 until then; may be NULL */
  /* Handle delivery (deliver.h): the service's end of the pipe, when the
   * connection was accepted (FILETIME units), and where OPEN leaves a
   * handle duplicated into the client until its reply is written (the
   * connection then ends it). delivery or target NULL: this context
   * cannot deliver handles, and such an OPEN is SHMB_EINTERNAL. */
  HANDLE pipe;
  uint64_t connected_at;
  svc_delivery *delivery;
  svc_target *target; /* the connection's target process (deliver.h) */
} svc_request_ctx;

/* Whether req's opcode needs to know who the caller is (the connection then
 * identifies it before dispatching). */
int svc_request_needs_caller(const shmb_request *req);

/* Builds the reply to req. Always yields a frame in *out (malloc'd) unless
 * memory runs out (SHMB_ENOMEM). */
int svc_dispatch(const svc_request_ctx *ctx, const shmb_request *req,
                 uint8_t **out, size_t *outlen);

/* The reply to a frame that could not be decoded (the connection closes
 * after it); counted and logged with the caller if known. */
int svc_protocol_error_reply(const svc_request_ctx *ctx, int err,
                             uint32_t request_id, uint8_t **out,
                             size_t *outlen);

#endif /* SVC_DISPATCH_H */
