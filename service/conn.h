/*
 * Client connections: each reads frames with a bounded buffer, enforces the
 * client timeout, identifies its caller once, dispatches whole requests and
 * writes replies. The set of connections owns its list and its count.
 */
#ifndef SVC_CONN_H
#define SVC_CONN_H

#include <windows.h>

#include <uv.h>

#include "broker.h"

struct svc_conn;

typedef struct svc_account_count {
  char sid[192];
  unsigned count;
} svc_account_count;

typedef struct svc_conns {
  uv_loop_t *loop;
  svc_broker *b;
  struct svc_conn *list; /* doubly linked, for shutdown */
  unsigned count;        /* those counted against max_clients */
  svc_account_count *accounts; /* connections per account */
  size_t naccounts, accounts_cap;
  uv_idle_t turns; /* serves connections whose requests wait their turn */
  uv_timer_t stalls; /* looks for stalled replies that have gone out */
  int closed;      /* svc_conns_close_all ran: accept no more */
} svc_conns;

void svc_conns_init(svc_conns *cs, uv_loop_t *loop, svc_broker *b);

/* Takes ownership of a connected pipe instance (the listener's callback;
 * arg is the svc_conns). */
void svc_conn_accept(void *arg, HANDLE pipe, unsigned long pid);

/* Closes every connection and refuses later ones (shutdown). */
void svc_conns_close_all(svc_conns *cs);

#endif /* SVC_CONN_H */
