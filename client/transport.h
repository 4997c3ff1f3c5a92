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

#include "shmbroker.h"

struct shmb_client {
  HANDLE pipe;
  HANDLE io_event;
  unsigned timeout_ms;
  uint32_t next_id;
  char message[512]; /* the service's text with its last refusal */
};

/* Opens the pipe and checks its owner; fills c->pipe. */
int shmb__transport_open(shmb_client *c, const shmb_connect_options *opts);

/* Sends a request frame and waits for the reply to it. On success *payload
 * (free()) holds the reply payload; a reply with a negative status is
 * returned as that status, with its text in c->message. */
int shmb__roundtrip(shmb_client *c, const uint8_t *frame, size_t len,
                    uint8_t opcode, uint8_t **payload, size_t *plen);

/* Raw frame I/O with the client's timeout, exported for the test tools. */
int shmb__write_all(shmb_client *c, const void *buf, size_t len);
int shmb__read_all(shmb_client *c, void *buf, size_t len);

#endif /* SHMB_CLIENT_TRANSPORT_H */
