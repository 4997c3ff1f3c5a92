/*
 * One client connection: reads frames with a bounded buffer, enforces the
 * client timeout, dispatches whole requests and writes replies.
 */
#ifndef SVC_CONN_H
#define SVC_CONN_H

#include <windows.h>

#include "svc.h"

/* Takes ownership of a connected pipe instance (listener callback). */
void svc_conn_accept(void *svc_arg, HANDLE pipe, unsigned long pid);

/* Closes every connection (shutdown). */
void svc_conn_close_all(svc *s);

#endif /* SVC_CONN_H */
