/*
 * Pipe instances and the accept thread.
 *
 * The thread keeps one instance waiting in ConnectNamedPipe. When a client
 * arrives it first creates the next instance, then queues the connected one
 * and wakes the loop: at every moment we hold an instance, so the name is
 * never free for someone else to take. Instances are overlapped so that
 * libuv can drive them through its completion port once handed over.
 */
#include "listener.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_of.h"
#include "errors.h"
#include "log.h"
#include "own_sd.h"
#include "wstr.h"

#define PIPE_BUFFER 65536

typedef struct pending {
  HANDLE pipe;
  unsigned long pid;
} pending;

struct svc_listener {
  uv_async_t wake;
  uv_thread_t thread;
  int thread_started;
  wchar_t *name;
  char *name_utf8;
  PSECURITY_DESCRIPTOR sd;
  HANDLE waiting; /* instance in ConnectNamedPipe */
  HANDLE stop_event, connect_event;
  svc_on_client cb;
  void *cb_arg;
  uv_mutex_t lock; /* guards queue */
  pending *queue;
  size_t queued, queue_cap;
};

static HANDLE create_instance(svc_listener *l, int first) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), l->sd, FALSE};
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first)
    open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  return CreateNamedPipeW(l->name, open_mode,
                          PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                              PIPE_REJECT_REMOTE_CLIENTS,
                          PIPE_UNLIMITED_INSTANCES, PIPE_BUFFER, PIPE_BUFFER, 0,
                          &sa);
}

/* FILE_FLAG_FIRST_PIPE_INSTANCE is what guarantees that the pipe is ours,
 * but Wine does not enforce it; asking whether the name exists first makes
 * the refusal visible there too (with a race that only Windows closes). */
static int pipe_name_taken(const wchar_t *name) {
  if (WaitNamedPipeW(name, 1))
    return 1;
  return GetLastError() != ERROR_FILE_NOT_FOUND;
}

static int enqueue(svc_listener *l, HANDLE pipe) {
  pending *grown;
  ULONG pid = 0;
  int rc = 0;

  GetNamedPipeClientProcessId(pipe, &pid);
  uv_mutex_lock(&l->lock);
  if (l->queued == l->queue_cap) {
    size_t cap = l->queue_cap ? l->queue_cap * 2 : 16;
    grown = realloc(l->queue, cap * sizeof(*grown));
    if (grown) {
      l->queue = grown;
      l->queue_cap = cap;
    } else {
      rc = SHMB_ENOMEM;
    }
  }
  if (rc == 0) {
    l->queue[l->queued].pipe = pipe;
    l->queue[l->queued].pid = pid;
    l->queued++;
  }
  uv_mutex_unlock(&l->lock);
  if (rc == 0)
    uv_async_send(&l->wake);
  return rc;
}

/* Waits for a client on l->waiting. Returns 1 connected, 0 retry with the
 * same instance, -1 stop requested. */
static int wait_for_client(svc_listener *l) {
  OVERLAPPED ov;
  HANDLE events[2] = {l->stop_event, l->connect_event};
  DWORD n, e;

  memset(&ov, 0, sizeof(ov));
  ov.hEvent = l->connect_event;
  ResetEvent(l->connect_event);
  if (ConnectNamedPipe(l->waiting, &ov))
    return 1;
  e = GetLastError();
  if (e == ERROR_PIPE_CONNECTED)
    return 1;
  if (e == ERROR_IO_PENDING) {
    if (WaitForMultipleObjects(2, events, FALSE, INFINITE) == WAIT_OBJECT_0) {
      CancelIoEx(l->waiting, &ov);
      GetOverlappedResult(l->waiting, &ov, &n, TRUE);
      return -1;
    }
    if (GetOverlappedResult(l->waiting, &ov, &n, FALSE))
      return 1;
    e = GetLastError();
  }
  /* ERROR_NO_DATA: the client came and went before we saw it. */
  shmb_log_debug("ConnectNamedPipe: Win32 error %lu; waiting again",
                 (unsigned long)e);
  DisconnectNamedPipe(l->waiting);
  if (WaitForSingleObject(l->stop_event, e == ERROR_NO_DATA ? 0 : 100) ==
      WAIT_OBJECT_0)
    return -1;
  return 0;
}

static void accept_thread(void *arg) {
  svc_listener *l = arg;
  int r;

  while ((r = wait_for_client(l)) >= 0) {
    HANDLE next;
    if (r == 0)
      continue;
    /* The next instance exists before this one leaves our hands. */
    while (!(next = create_instance(l, 0))) {
      shmb_log_error("cannot create another instance of %s (Win32 error "
                     "%lu); retrying", l->name_utf8,
                     (unsigned long)GetLastError());
      if (WaitForSingleObject(l->stop_event, 500) == WAIT_OBJECT_0) {
        CloseHandle(l->waiting);
        l->waiting = NULL;
        return;
      }
    }
    if (enqueue(l, l->waiting) != 0) {
      shmb_log_error("out of memory queueing a client; dropping it");
      CloseHandle(l->waiting);
    }
    l->waiting = next;
  }
}

/* Loop thread: hand every queued instance to the callback. */
static void on_wake(uv_async_t *h) {
  svc_listener *l = container_of(h, svc_listener, wake);
  pending *batch;
  size_t n;

  uv_mutex_lock(&l->lock);
  batch = l->queue;
  n = l->queued;
  l->queue = NULL;
  l->queued = l->queue_cap = 0;
  uv_mutex_unlock(&l->lock);
  for (size_t i = 0; i < n; i++)
    l->cb(l->cb_arg, batch[i].pipe, batch[i].pid);
  free(batch);
}

static void listener_free(svc_listener *l) {
  for (size_t i = 0; i < l->queued; i++)
    CloseHandle(l->queue[i].pipe);
  free(l->queue);
  if (l->waiting)
    CloseHandle(l->waiting);
  if (l->stop_event)
    CloseHandle(l->stop_event);
  if (l->connect_event)
    CloseHandle(l->connect_event);
  if (l->sd)
    LocalFree(l->sd);
  uv_mutex_destroy(&l->lock);
  free(l->name);
  free(l->name_utf8);
  free(l);
}

static void on_closed(uv_handle_t *h) {
  listener_free(container_of((uv_async_t *)h, svc_listener, wake));
}

static int pipe_taken(const char *pipe_name, char *err, size_t errlen) {
  return shmb__fail(err, errlen, SHMB_EEXIST, "pipe %s already exists: "
                    "another process owns it (a second shmbrokerd, or a "
                    "squatter); refusing to start", pipe_name);
}

/* Names, events and descriptor: everything but the pipe and the thread. */
static int listener_new(const char *pipe_name, int sandboxed,
                        svc_on_client cb, void *arg, svc_listener **out,
                        char *err, size_t errlen) {
  svc_listener *l = calloc(1, sizeof(*l));
  int rc;

  if (!l || uv_mutex_init(&l->lock) != 0) {
    free(l);
    return SHMB_ENOMEM;
  }
  l->cb = cb;
  l->cb_arg = arg;
  l->name = shmb__wide_from_utf8(pipe_name);
  l->name_utf8 = _strdup(pipe_name);
  l->stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  l->connect_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  rc = !l->name || !l->name_utf8 || !l->stop_event || !l->connect_event
           ? SHMB_ENOMEM
           : svc_pipe_sd(sandboxed, &l->sd, err, errlen);
  if (rc != 0) {
    listener_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

/* The first instance: if the name is taken, someone else owns the pipe. */
static int first_instance(svc_listener *l, char *err, size_t errlen) {
  DWORD e;
  if (pipe_name_taken(l->name))
    return pipe_taken(l->name_utf8, err, errlen);
  if ((l->waiting = create_instance(l, 1)) != NULL)
    return 0;
  e = GetLastError();
  if (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY)
    return pipe_taken(l->name_utf8, err, errlen);
  return shmb__fail(err, errlen, shmb__from_win32(e), "cannot create pipe "
                    "%s (Win32 error %lu)", l->name_utf8, (unsigned long)e);
}

int svc_listener_start(uv_loop_t *loop, const char *pipe_name, int sandboxed,
                       svc_on_client cb, void *arg, svc_listener **out,
                       char *err, size_t errlen) {
  svc_listener *l;
  int rc;

  if ((rc = listener_new(pipe_name, sandboxed, cb, arg, &l, err, errlen)) !=
      0)
    return rc;
  if ((rc = first_instance(l, err, errlen)) != 0)
    goto out_free_listener;
  if (uv_async_init(loop, &l->wake, on_wake) != 0) {
    rc = SHMB_ESYSTEM;
    goto out_free_listener;
  }
  if (uv_thread_create(&l->thread, accept_thread, l) != 0) {
    uv_close((uv_handle_t *)&l->wake, on_closed);
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot start the accept "
                      "thread");
  }
  l->thread_started = 1;
  *out = l;
  return 0;

out_free_listener:
  listener_free(l);
  return rc;
}

void svc_listener_stop(svc_listener *l) {
  if (!l)
    return;
  SetEvent(l->stop_event);
  if (l->thread_started)
    uv_thread_join(&l->thread);
  l->thread_started = 0;
  uv_close((uv_handle_t *)&l->wake, on_closed);
}
