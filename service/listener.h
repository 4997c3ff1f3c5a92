/*
 * The control pipe's listener: creates pipe instances with our own
 * descriptor and flags, waits for clients on a thread of its own, and hands
 * each connected instance to the event loop.
 *
 * libuv's uv_pipe_bind would create instances with a NULL descriptor, and
 * uv_pipe_chmod grants Everyone write, which includes creating instances of
 * our pipe (design.md, security rule 4): so instances are made here and only
 * connected ones enter libuv.
 */
#ifndef SVC_LISTENER_H
#define SVC_LISTENER_H

#include <windows.h>

#include <stddef.h>
#include <uv.h>

typedef struct svc_listener svc_listener;

/* Called on the loop thread with a connected instance (owned by the callee)
 * and the client's process id. */
typedef void (*svc_on_client)(void *arg, HANDLE pipe, unsigned long pid);

/* Creates the first instance (FILE_FLAG_FIRST_PIPE_INSTANCE: if the name is
 * taken, someone else owns it and we refuse, SHMB_EEXIST with err naming the
 * pipe) and starts accepting. sandboxed: every instance carries the
 * descriptor that lets AppContainer and low-integrity clients connect
 * (own_sd.h, svc_pipe_sd). */
int svc_listener_start(uv_loop_t *loop, const char *pipe_name, int sandboxed,
                       svc_on_client cb, void *arg, svc_listener **out,
                       char *err, size_t errlen);

/* Stops accepting, joins the thread, closes instances not yet handed over.
 * The listener frees itself once its libuv handle is closed. */
void svc_listener_stop(svc_listener *l);

#endif /* SVC_LISTENER_H */
