/*
 * Request handlers: from a decoded request to its reply frame. Refusals
 * (access denied, no such section, version mismatch) are replies too; the
 * connection stays open for the next request.
 */
#ifndef SVC_REQUESTS_H
#define SVC_REQUESTS_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "svc.h"

/* Builds the reply to req from the client on pipe (pid for logs). Always
 * yields a frame in *out (malloc'd) unless memory runs out (SHMB_ENOMEM). */
int svc_request_reply(svc *s, HANDLE pipe, unsigned long pid,
                      const shmb_request *req, uint8_t **out, size_t *outlen);

/* The reply to a frame that could not be decoded (conn.c closes after it). */
int svc_protocol_error_reply(svc *s, HANDLE pipe, unsigned long pid, int err,
                             uint32_t request_id, uint8_t **out,
                             size_t *outlen);

#endif /* SVC_REQUESTS_H */
