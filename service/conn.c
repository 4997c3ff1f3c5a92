/*
 * Client connections on the loop thread.
 *
 * Each connection has a fixed buffer the size of the largest request, so a
 * client cannot make us allocate by announcing a large frame: the header is
 * checked as soon as it is in and anything past the limit is refused. A
 * timer closes connections that do not complete a request within
 * client_timeout (idle or trickling one byte at a time), and a client that
 * stops reading its replies stops being read (at most one reply waits). A
 * frame that cannot be decoded gets its error reply and the connection is
 * closed; every other connection is unaffected.
 *
 * Replies are written at once, not through uv_write: a reply fits in the
 * pipe's buffer unless the client has left 64 KiB of replies unread, so the
 * write completes in the call, and an OVERLAPPED whose event has the low
 * bit set queues no completion packet for the loop to collect (under Wine
 * each packet is two wineserver requests and a turn of the loop, on every
 * request; docs/performance.md, "Server calls per open"). A write that
 * cannot complete at once (the client is not reading) stalls its
 * connection: no more of its requests are read until the write completes,
 * which a timer looks for while any connection is stalled.
 *
 * The caller is identified once, at the first request that needs it (after
 * a read, as Windows requires), and its token is kept for the connection's
 * life: the SDK connects at identification level with static tracking, so
 * the token cannot change under us, and AccessCheck then costs no
 * impersonation round trip per request.
 *
 * Fairness (design.md, security rule 10): one account may hold at most
 * max_clients_per_account connections (its account is read from the
 * process behind the pipe when it connects, since an idle connection never
 * sends anything to identify it by), and one connection is served at most
 * REQUESTS_PER_TURN requests from what it sent before the others get their
 * turn, so a client pipelining expensive LISTs cannot monopolise the loop.
 */
#include "conn.h"

#include <io.h>
#include <stdlib.h>
#include <string.h>

#include "container_of.h"
#include "errors.h"
#include "log.h"
#include "protocol.h"
#include "dispatch.h"
#include "refusal.h"
#include "sid.h"

#define REQUESTS_PER_TURN 8

/* How often a stalled reply is looked at (ms): only while a client leaves
 * its pipe's buffer full. */
#define STALL_POLL_MS 10

typedef struct svc_conn {
  uv_pipe_t pipe;
  uv_timer_t timer;
  svc_conns *cs;
  unsigned long pid;
  svc_caller who;
  int identified; /* 1 who is valid, -1 identification failed */
  int backlog;    /* requests wait for the next turn (reading stopped) */
  char account[192]; /* the process's account SID: per-account limits */
  int open_handles; /* freed when both handles have closed */
  int closed;       /* uv_close called */
  int closing;      /* last reply queued; close once written */
  int counted;      /* counts against max_clients */
  int reading;
  int waiting; /* holds a doorbell waiter: idle is normal, no timeout */
  int revision; /* the session's, from HELLO; 1 until then */
  uint64_t connected_at; /* FILETIME at accept: handle delivery's check */
  svc_delivery delivery; /* a handle dispatch just put into the client */
  svc_target target;     /* where handles go; released with the conn */
  HANDLE write_event; /* the replies' OVERLAPPED event */
  struct {
    OVERLAPPED ov;
    uint8_t *frame; /* non-NULL: a reply is being written */
    int close_after;
    svc_delivery delivery;
  } stall; /* the reply that could not be written at once */
  struct svc_conn *prev, *next;
  size_t len;
  uint8_t buf[SHMB_HEADER_SIZE + SHMB_MAX_REQUEST_PAYLOAD];
} svc_conn;

static void on_handle_closed(uv_handle_t *h) {
  svc_conn *c = h->data;
  if (--c->open_handles == 0) {
    /* Every write's callback has run by now (libuv completes a closed
     * stream's writes before its close callback): no delivery is left
     * that needs the target process. */
    svc_target_release(&c->target);
    svc_caller_release(&c->who);
    if (c->write_event)
      CloseHandle(c->write_event);
    free(c);
  }
}

/* Connections per account: a short list (at most max_clients entries).
 * The index of sid's entry, or -1. */
static long account_index(const svc_conns *cs, const char *sid) {
  for (size_t i = 0; i < cs->naccounts; i++)
    if (strcmp(cs->accounts[i].sid, sid) == 0)
      return (long)i;
  return -1;
}

/* sid's count, created at 0 if absent; NULL when out of memory. */
static unsigned *account_slot(svc_conns *cs, const char *sid) {
  long i = account_index(cs, sid);
  if (i >= 0)
    return &cs->accounts[i].count;
  if (cs->naccounts == cs->accounts_cap) {
    size_t cap = cs->accounts_cap ? cs->accounts_cap * 2 : 16;
    svc_account_count *grown =
        realloc(cs->accounts, cap * sizeof(*cs->accounts));
    if (!grown)
      return NULL;
    cs->accounts = grown;
    cs->accounts_cap = cap;
  }
  snprintf(cs->accounts[cs->naccounts].sid, sizeof(cs->accounts[0].sid), "%s",
           sid);
  cs->accounts[cs->naccounts].count = 0;
  return &cs->accounts[cs->naccounts++].count;
}

static void account_release(svc_conns *cs, const char *sid) {
  long i = account_index(cs, sid);
  if (i >= 0 && --cs->accounts[i].count == 0)
    cs->accounts[i] = cs->accounts[--cs->naccounts];
}

static HANDLE conn_os_handle(svc_conn *c);
static void stall_end(svc_conn *c, int cancel);

static void conn_close(svc_conn *c) {
  svc_conns *cs = c->cs;
  if (c->closed)
    return;
  c->closed = 1;
  if (c->stall.frame)
    stall_end(c, 1);
  if (c->waiting)
    shmb_log_debug("client pid %lu: %u doorbell waiters dropped", c->pid,
                   svc_registry_drop_waiters(cs->b->reg, c));
  if (c->counted) {
    cs->count--;
    account_release(cs, c->account);
    shmb_log_debug("client pid %lu disconnected (%u clients)", c->pid,
                   cs->count);
  }
  if (c->prev)
    c->prev->next = c->next;
  else
    cs->list = c->next;
  if (c->next)
    c->next->prev = c->prev;
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->pipe, on_handle_closed);
}

static HANDLE conn_os_handle(svc_conn *c) {
  uv_os_fd_t fd = INVALID_HANDLE_VALUE;
  uv_fileno((uv_handle_t *)&c->pipe, &fd);
  return fd;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  svc_conn *c = h->data;
  b->base = (char *)c->buf + c->len;
  b->len = sizeof(c->buf) - c->len;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);
static void process(svc_conn *c);
static void on_turn(uv_idle_t *h);

static void set_reading(svc_conn *c, int on) {
  /* A stalled connection resumes when its reply is out (stall_end). */
  if (c->closed || c->reading == on || (on && c->stall.frame))
    return;
  c->reading = on;
  if (on)
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
  else
    uv_read_stop((uv_stream_t *)&c->pipe);
}

/* A reply is out (ok) or failed: a handle it carries becomes the
 * client's, or is taken back out of the client. */
static void written(svc_conn *c, uint8_t *frame, svc_delivery *d, int ok,
                    int close_after) {
  svc_delivery_end(d, ok);
  free(frame);
  if (!ok || close_after)
    conn_close(c);
}

/* The stalled reply has completed (or, cancel, is cancelled and waited
 * for: the connection is closing and the OVERLAPPED must outlive the
 * write). */
static void stall_end(svc_conn *c, int cancel) {
  DWORD put = 0;
  uint8_t *frame = c->stall.frame;
  svc_delivery d = c->stall.delivery;
  BOOL ok;

  if (cancel)
    CancelIoEx(conn_os_handle(c), &c->stall.ov);
  ok = GetOverlappedResult(conn_os_handle(c), &c->stall.ov, &put, cancel);
  c->stall.frame = NULL;
  memset(&c->stall.delivery, 0, sizeof(c->stall.delivery));
  if (cancel) { /* conn_close's: the connection is going anyway */
    svc_delivery_end(&d, ok);
    free(frame);
    return;
  }
  written(c, frame, &d, ok, c->stall.close_after);
  if (!c->closed && !c->closing) {
    set_reading(c, 1);
    process(c); /* requests that arrived while we waited */
  }
}

/* The stalled connections whose reply has gone out resume. */
static void on_stall_poll(uv_timer_t *t) {
  svc_conns *cs = container_of(t, svc_conns, stalls);
  int more = 0;
  for (svc_conn *c = cs->list, *next; c; c = next) {
    next = c->next;
    if (c->stall.frame && HasOverlappedIoCompleted(&c->stall.ov))
      stall_end(c, 0); /* which can stall it again */
    more |= c->stall.frame != NULL;
  }
  if (!more)
    uv_timer_stop(t);
}

/* Writes a reply frame (ownership passes here, and of a handle that
 * dispatch delivered for it: c->delivery). */
static void send_frame(svc_conn *c, uint8_t *frame, size_t len,
                       int close_after) {
  svc_delivery d = c->delivery;
  OVERLAPPED *ov = &c->stall.ov;

  memset(&c->delivery, 0, sizeof(c->delivery));
  /* Cannot happen: a stalled connection is not read. */
  if (c->stall.frame || !c->write_event) {
    written(c, frame, &d, 0, 1);
    return;
  }
  if (close_after) {
    c->closing = 1;
    set_reading(c, 0);
  }
  memset(ov, 0, sizeof(*ov));
  /* The low bit: no completion packet for libuv's port. */
  ov->hEvent = (HANDLE)((uintptr_t)c->write_event | 1);
  if (WriteFile(conn_os_handle(c), frame, (DWORD)len, NULL, ov)) {
    written(c, frame, &d, 1, close_after);
    return;
  }
  if (GetLastError() != ERROR_IO_PENDING) {
    written(c, frame, &d, 0, close_after);
    return;
  }
  shmb_log_debug("client pid %lu is not reading its replies: its requests "
                 "wait until it does", c->pid);
  c->stall.frame = frame;
  c->stall.close_after = close_after;
  c->stall.delivery = d;
  set_reading(c, 0);
  if (!uv_is_active((uv_handle_t *)&c->cs->stalls))
    uv_timer_start(&c->cs->stalls, on_stall_poll, STALL_POLL_MS,
                   STALL_POLL_MS);
}

/* The caller, identified at most once per connection (NULL: failed). */
static const svc_caller *conn_caller(svc_conn *c) {
  char why[256];
  if (c->identified != 0)
    return c->identified > 0 ? &c->who : NULL;
  c->identified = 1;
  if (svc_caller_identify(conn_os_handle(c), c->pid, &c->who, why,
                          sizeof(why)) != 0) {
    c->identified = -1;
    svc_refusal(c->account, "cannot identify client pid %lu (process "
                "account %s): %s; refusing its requests", c->pid, c->account,
                why);
  }
  return c->identified > 0 ? &c->who : NULL;
}

static svc_request_ctx conn_ctx(svc_conn *c, int identify) {
  svc_request_ctx ctx = {c->cs->b,     NULL,        c->pid,
                         c->account,   c->cs->count, c,
                         &c->waiting,  &c->revision, conn_os_handle(c),
                         c->connected_at, &c->delivery, &c->target};
  if (identify)
    ctx.who = conn_caller(c);
  return ctx;
}

static void protocol_error(svc_conn *c, int err, uint32_t id) {
  /* Something was read, so identification can work: for the log line. */
  svc_request_ctx ctx = conn_ctx(c, 1);
  uint8_t *frame;
  size_t len;
  if (svc_protocol_error_reply(&ctx, err, id, &frame, &len) != 0) {
    conn_close(c);
    return;
  }
  send_frame(c, frame, len, 1);
}

/* Serves every whole request in the buffer. */
/* Leaves the rest of what c sent for its next turn (the idle handle). */
static void defer(svc_conn *c) {
  shmb_log_debug("client pid %lu: %u requests served from one read; the "
                 "rest waits its turn", c->pid, REQUESTS_PER_TURN);
  c->backlog = 1;
  set_reading(c, 0);
  if (!uv_is_active((uv_handle_t *)&c->cs->turns))
    uv_idle_start(&c->cs->turns, on_turn);
}

static void process(svc_conn *c) {
  for (unsigned served = 0; !c->closing && !c->closed && c->reading;
       served++) {
    shmb_frame_header hdr;
    shmb_request req;
    uint8_t *reply;
    size_t flen, rlen;
    int rc = shmb_frame_peek(c->buf, c->len, SHMB_MAX_REQUEST_PAYLOAD, &hdr);

    if (rc > 0)
      return;
    if (served == REQUESTS_PER_TURN) {
      defer(c);
      return;
    }
    if (rc < 0) {
      /* The id is echoed only from a header that is ours at all. */
      protocol_error(c, rc, hdr.magic == SHMB_PROTO_MAGIC ? hdr.request_id : 0);
      return;
    }
    flen = SHMB_HEADER_SIZE + (size_t)hdr.length;
    if ((rc = shmb_request_decode(c->buf, flen, &req)) != 0) {
      protocol_error(c, rc, hdr.request_id);
      return;
    }
    svc_request_ctx ctx = conn_ctx(c, svc_request_needs_caller(&req));
    if (svc_dispatch(&ctx, &req, &reply, &rlen) != 0) {
      svc_delivery_end(&c->delivery, 0);
      conn_close(c);
      return;
    }
    memmove(c->buf, c->buf + flen, c->len - flen);
    c->len -= flen;
    /* A whole request restarts the clock; a trickled one does not. A
     * waiter's connection is idle by design: its clock stops. */
    if (c->waiting)
      uv_timer_stop(&c->timer);
    else
      uv_timer_again(&c->timer);
    send_frame(c, reply, rlen, 0);
  }
}

/* Each connection with requests left gets its next turn. */
static void on_turn(uv_idle_t *h) {
  svc_conns *cs = container_of(h, svc_conns, turns);
  int more = 0;
  for (svc_conn *c = cs->list, *next; c; c = next) {
    next = c->next;
    if (!c->backlog)
      continue;
    c->backlog = 0;
    set_reading(c, 1);
    process(c);
    more |= c->backlog;
  }
  if (!more)
    uv_idle_stop(h);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  svc_conn *c = container_of(st, svc_conn, pipe);
  if (n < 0) {
    if (n != UV_EOF)
      shmb_log_debug("client pid %lu: read error %s", c->pid, uv_strerror((int)n));
    conn_close(c);
    return;
  }
  c->len += (size_t)n;
  process(c);
}

static void on_timeout(uv_timer_t *t) {
  svc_conn *c = container_of(t, svc_conn, timer);
  c->cs->b->counters.timeouts++;
  shmb_log_info("closing client pid %lu: no complete request within %u ms",
                c->pid, c->cs->b->cfg->client_timeout_ms);
  conn_close(c);
}

/* Wraps a connected instance in a libuv pipe; NULL (pipe closed) if not. */
static svc_conn *conn_new(svc_conns *cs, HANDLE pipe, unsigned long pid) {
  svc_conn *c = calloc(1, sizeof(*c));
  int fd;

  /* libuv opens pipes from C runtime descriptors on Windows. */
  if (!c || (fd = _open_osfhandle((intptr_t)pipe, 0)) < 0) {
    CloseHandle(pipe);
    free(c);
    return NULL;
  }
  c->cs = cs;
  c->pid = pid;
  {
    FILETIME now;
    GetSystemTimeAsFileTime(&now);
    c->connected_at = (uint64_t)now.dwHighDateTime << 32 | now.dwLowDateTime;
  }
  c->pipe.data = c->timer.data = c;
  /* Manual reset, as an OVERLAPPED's event must be. */
  c->write_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  uv_pipe_init(cs->loop, &c->pipe, 0);
  uv_timer_init(cs->loop, &c->timer);
  c->open_handles = 2;
  if (uv_pipe_open(&c->pipe, fd) != 0) {
    _close(fd);
    c->closed = 1;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->pipe, on_handle_closed);
    return NULL;
  }
  if (fd <= 2)
    _close(fd); /* libuv duplicated the handle and forgot this descriptor */
  c->next = cs->list;
  if (cs->list)
    cs->list->prev = c;
  cs->list = c;
  return c;
}

/* Over a limit: one error frame saying which, then the connection closes. */
static void refuse_busy(svc_conn *c, const char *why) {
  svc_conns *cs = c->cs;
  uint8_t *frame;
  size_t len;
  cs->b->counters.clients_refused++;
  svc_refusal(c->account, "refusing client pid %lu (%s): %s", c->pid,
              c->account, why);
  if (shmb_encode_error(SHMB_OP_ERROR, 0, SHMB_EBUSY, why, &frame, &len) == 0)
    send_frame(c, frame, len, 1);
  else
    conn_close(c);
}

/* Whether c may take a slot; if not, it has been refused. */
static int admit(svc_conn *c) {
  svc_conns *cs = c->cs;
  const shmb_config *cfg = cs->b->cfg;
  unsigned per_account = cfg->max_clients_per_account < cfg->max_clients
                             ? cfg->max_clients_per_account
                             : cfg->max_clients;
  char why[256];
  unsigned *mine;

  if (cs->count >= cfg->max_clients) {
    snprintf(why, sizeof(why), "the service is busy: %u clients connected "
             "(max_clients)", cs->count);
  } else if (!(mine = account_slot(cs, c->account))) {
    snprintf(why, sizeof(why), "the service is out of memory");
  } else if (*mine >= per_account) {
    snprintf(why, sizeof(why), "your account already has %u connections "
             "(max_clients_per_account)", *mine);
  } else {
    ++*mine;
    return 1;
  }
  refuse_busy(c, why);
  return 0;
}

void svc_conns_init(svc_conns *cs, uv_loop_t *loop, svc_broker *b) {
  memset(cs, 0, sizeof(*cs));
  cs->loop = loop;
  cs->b = b;
  uv_idle_init(loop, &cs->turns);
  uv_timer_init(loop, &cs->stalls);
}

void svc_conn_accept(void *arg, HANDLE pipe, unsigned long pid) {
  svc_conns *cs = arg;
  svc_conn *c;

  if (cs->closed) {
    CloseHandle(pipe);
    return;
  }
  if (!(c = conn_new(cs, pipe, pid)))
    return;
  uv_timer_start(&c->timer, on_timeout, cs->b->cfg->client_timeout_ms,
                 cs->b->cfg->client_timeout_ms);
  /* The pid is the kernel's, but a hint all the same (it can be stale):
   * an account we cannot read is refused rather than counted as no one. */
  if (svc_process_sid_text(pid, c->account, sizeof(c->account)) != 0) {
    refuse_busy(c, "the service cannot tell which account this process "
                   "runs as");
    return;
  }
  if (!admit(c))
    return;
  c->counted = 1;
  cs->count++;
  shmb_log_debug("client pid %lu connected (%u clients)", pid, cs->count);
  set_reading(c, 1);
}

void svc_conns_close_all(svc_conns *cs) {
  if (cs->closed || !cs->loop) /* done, or never initialised */
    return;
  cs->closed = 1;
  while (cs->list)
    conn_close(cs->list);
  uv_close((uv_handle_t *)&cs->turns, NULL);
  uv_close((uv_handle_t *)&cs->stalls, NULL);
  free(cs->accounts);
  cs->accounts = NULL;
  cs->naccounts = cs->accounts_cap = 0;
}
