/*
 * The broker's answers. Each opcode's row in the table below names the
 * right it needs: requests that touch a section are judged by AccessCheck
 * against the section's own descriptor, RELOAD against the admin
 * descriptor, with the caller's token that the connection took from the
 * pipe. Refusals are logged at warn with the caller's SID and process id
 * (design.md, security rule 7), grants at debug.
 */
#include "dispatch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doorbell.h"
#include "errors.h"
#include "footprint.h"
#include "log.h"
#include "own_sd.h"
#include "refusal.h"
#include "reload.h"
#include "shmb_version.h"

#define SERVER_NAME "shmbrokerd " SHMB_VERSION_STRING

typedef int (*handler)(const svc_request_ctx *ctx, const shmb_request *req,
                       uint8_t **out, size_t *outlen);

/* The right an opcode needs before its handler runs. */
typedef enum need {
  NEED_NOTHING, /* anyone connected to the pipe (its DACL let them in) */
  NEED_NOTHING_BUT_ASK, /* anyone; an identified admin is told more */
  NEED_CALLER,  /* an identified caller; the handler checks per section */
  NEED_ADMIN,   /* SVC_RIGHT_RELOAD on the admin descriptor */
} need;

static int on_hello(const svc_request_ctx *, const shmb_request *, uint8_t **,
                    size_t *);
static int on_list(const svc_request_ctx *, const shmb_request *, uint8_t **,
                   size_t *);
static int on_open(const svc_request_ctx *, const shmb_request *, uint8_t **,
                   size_t *);
static int on_status(const svc_request_ctx *, const shmb_request *,
                     uint8_t **, size_t *);
static int on_reload(const svc_request_ctx *, const shmb_request *,
                     uint8_t **, size_t *);
static int on_doorbell(const svc_request_ctx *, const shmb_request *,
                       uint8_t **, size_t *);
static int on_peers(const svc_request_ctx *, const shmb_request *, uint8_t **,
                    size_t *);

static const struct op {
  uint8_t opcode;
  need right;
  handler fn;
} ops[] = {
    /* The version: nothing secret, needed before anything else. */
    {SHMB_OP_HELLO, NEED_NOTHING, on_hello},
    /* Only sections the caller may map-read are listed. */
    {SHMB_OP_LIST, NEED_CALLER, on_list},
    /* The asked access, checked against the section's descriptor. */
    {SHMB_OP_OPEN, NEED_CALLER, on_open},
    /* Counters for anyone; the config path, pid and footprint, which
     * describe the host, for the service's admins only. */
    {SHMB_OP_STATUS, NEED_NOTHING_BUT_ASK, on_status},
    /* Waiting needs the section's read right, ringing its write right
     * (checked per section by the handler, as OPEN). */
    {SHMB_OP_DOORBELL, NEED_CALLER, on_doorbell},
    /* A ringer's view of the waiters of a doorbell delivered by handle:
     * the section's write right, checked again at every request. */
    {SHMB_OP_PEERS, NEED_CALLER, on_peers},
    /* Changes what everyone is granted: the service's admins only. */
    {SHMB_OP_RELOAD, NEED_ADMIN, on_reload},
};

static const struct op *op_of(uint8_t opcode) {
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
    if (ops[i].opcode == opcode)
      return &ops[i];
  return NULL;
}

static int error_reply(uint8_t opcode, uint32_t id, int err, const char *msg,
                       uint8_t **out, size_t *outlen) {
  return shmb_encode_error(opcode, id, err, msg ? msg : shmb_strerror(err), out,
                           outlen);
}

static int on_hello(const svc_request_ctx *ctx, const shmb_request *req,
                    uint8_t **out, size_t *outlen) {
  uint8_t chosen = req->max_version < SHMB_PROTO_REVISION
                       ? req->max_version
                       : SHMB_PROTO_REVISION;
  if (req->min_version > SHMB_PROTO_REVISION || req->max_version < 1)
    return error_reply(SHMB_OP_HELLO | SHMB_OP_REPLY, req->hdr.request_id,
                       SHMB_EVERSION,
                       "this service speaks protocol revisions 1 to 2", out,
                       outlen);
  /* What the client may be sent from now on (protocol.h, "Versions"). */
  if (ctx->revision)
    *ctx->revision = chosen;
  return shmb_encode_hello_reply(req->hdr.request_id, chosen, SERVER_NAME,
                                 out, outlen);
}

static int on_list(const svc_request_ctx *ctx, const shmb_request *req,
                   uint8_t **out, size_t *outlen) {
  svc_registry *reg = ctx->b->reg;
  int revision = ctx->revision ? *ctx->revision : 1;
  shmb_frame_buf b;

  shmb_list_reply_start(&b, req->hdr.request_id);
  for (size_t i = 0; i < reg->count; i++) {
    svc_section *sec = reg->sections[i];
    uint32_t granted = svc_access_granted(ctx->who, sec->sd);
    if (granted & SHMB_WIRE_ACCESS_READ)
      shmb_list_reply_add(&b, sec->name, sec->size, granted,
                          revision >= 2 ? svc_section_flags(sec) : 0);
  }
  if (shmb_frame_finish(&b, out, outlen) != 0)
    return error_reply(SHMB_OP_LIST | SHMB_OP_REPLY, req->hdr.request_id,
                       SHMB_EINTERNAL, "the list does not fit in a frame",
                       out, outlen);
  return 0;
}

/* ENOENT, with the closest name among those the caller may list (never one
 * it may not: that would leak a section's existence). */
static int no_such_section(const svc_request_ctx *ctx, const shmb_request *req,
                           uint8_t **out, size_t *outlen) {
  svc_registry *reg = ctx->b->reg;
  const char **names = malloc((reg->count + 1) * sizeof(*names));
  const char *suggestion = NULL;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  size_t n = 0;

  for (size_t i = 0; names && i < reg->count; i++)
    if (svc_access_granted(ctx->who, reg->sections[i]->sd) &
        SHMB_WIRE_ACCESS_READ)
      names[n++] = reg->sections[i]->name;
  if (names)
    suggestion = shmb__closest_name(req->name, names, n);
  if (suggestion)
    snprintf(msg, sizeof(msg), "no section named '%s' (names are "
             "case-sensitive); did you mean '%s'?", req->name, suggestion);
  else
    snprintf(msg, sizeof(msg), "no section named '%s' that you may open "
             "(names are case-sensitive; shmbctl list shows yours)",
             req->name);
  free(names);
  return error_reply(req->hdr.opcode | SHMB_OP_REPLY, req->hdr.request_id,
                     SHMB_ENOENT, msg, out, outlen);
}

/* A granted OPEN of a section without a name: the handle goes into the
 * caller's process (deliver.h), its value into the reply. Only a session
 * of revision 2 knows that reply; an older client is told why it cannot
 * have the section. */
static int open_by_handle(const svc_request_ctx *ctx, const shmb_request *req,
                          svc_section *sec, uint8_t **out, size_t *outlen) {
  const uint8_t op = SHMB_OP_OPEN | SHMB_OP_REPLY;
  svc_counters *k = &ctx->b->counters;
  int revision = ctx->revision ? *ctx->revision : 1;
  char why[SHMB_ERROR_MESSAGE_MAX], msg[SHMB_ERROR_MESSAGE_MAX];
  int rc;

  if (revision < 2) {
    k->opens_refused++;
    shmb_log_info("section %s: pid %lu (%s) speaks protocol revision %d, "
                  "which cannot receive a handle (delivery = handle)",
                  sec->name, ctx->pid, ctx->who->sid, revision);
    snprintf(msg, sizeof(msg), "section '%s' is delivered by handle only "
             "(delivery = handle) and has no name to open; this client "
             "speaks protocol revision %d, which receives only names: use "
             "an SDK of 0.2 or later", sec->name, revision);
    /* A code the 0.1 SDK knows: it reads any code past its own last as a
     * protocol error and drops the message. */
    return error_reply(op, req->hdr.request_id, SHMB_EVERSION, msg, out,
                       outlen);
  }
  if (!ctx->delivery || !ctx->target)
    return error_reply(op, req->hdr.request_id, SHMB_EINTERNAL,
                       "this connection cannot receive handles", out, outlen);
  rc = svc_deliver_handle(ctx->pipe, ctx->pid, ctx->connected_at, ctx->who,
                          ctx->target, sec->sd, sec->mapping,
                          svc_delivery_rights(req->access), ctx->delivery,
                          why, sizeof(why));
  if (rc != 0) {
    k->opens_refused++;
    svc_refusal(ctx->who->sid, "section %s: no handle delivered to %s (pid "
                "%lu): %s", sec->name, ctx->who->sid, ctx->pid, why);
    snprintf(msg, sizeof(msg), "section '%s': the service did not deliver "
             "the handle: %s", sec->name, why);
    /* On the wire a refusal, whatever the cause: the connection itself
     * is fine for all the client can tell. */
    return error_reply(op, req->hdr.request_id,
                       rc == SHMB_ESYSTEM ? SHMB_ESYSTEM : SHMB_EACCES, msg,
                       out, outlen);
  }
  k->opens_granted++;
  shmb_log_debug("granted %s on section %s to %s (pid %lu): handle 0x%llx",
                 shmb__access_name(req->access), sec->name, ctx->who->sid,
                 ctx->pid, (unsigned long long)ctx->delivery->remote);
  /* With the process it went into: a reader of a shared pipe that is
   * another process then knows the value is not its own. That process
   * was opened by ctx->pid and is held, so ctx->pid is its id
   * (GetProcessId would be a kernel call on every open). */
  rc = shmb_encode_open_reply_handle(
      req->hdr.request_id, req->access, sec->size, svc_section_flags(sec),
      ctx->delivery->remote, ctx->pid, out, outlen);
  if (rc != 0) /* no reply: nothing may stay in the client */
    svc_delivery_end(ctx->delivery, 0);
  return rc;
}

static int on_open(const svc_request_ctx *ctx, const shmb_request *req,
                   uint8_t **out, size_t *outlen) {
  svc_counters *k = &ctx->b->counters;
  svc_section *sec = svc_registry_find(ctx->b->reg, req->name);
  char msg[SHMB_ERROR_MESSAGE_MAX];
  uint32_t granted;

  if (!sec) {
    k->opens_refused++;
    svc_refusal(ctx->who->sid, "refused OPEN of unknown section '%s' for %s "
                "(pid %lu)", req->name, ctx->who->sid, ctx->pid);
    return no_such_section(ctx, req, out, outlen);
  }
  granted = svc_access_granted(ctx->who, sec->sd);
  if ((req->access & granted) != req->access) {
    k->opens_refused++;
    svc_refusal(ctx->who->sid, "refused OPEN of section %s for %s (pid %lu): "
                "asked %s, allowed %s", sec->name, ctx->who->sid, ctx->pid,
                shmb__access_name(req->access), shmb__access_name(granted));
    /* The caller named the section; what it may do there is its own. */
    snprintf(msg, sizeof(msg), "section '%s': asked %s, your account %s is "
             "allowed %s (the section's read/write lists or sddl in the "
             "service's config)", sec->name, shmb__access_name(req->access),
             ctx->who->sid, shmb__access_name(granted));
    return error_reply(SHMB_OP_OPEN | SHMB_OP_REPLY, req->hdr.request_id,
                       SHMB_EACCES, msg, out, outlen);
  }
  if (sec->by_handle)
    return open_by_handle(ctx, req, sec, out, outlen);
  k->opens_granted++;
  shmb_log_debug("granted %s on section %s to %s (pid %lu)",
                 shmb__access_name(req->access), sec->name, ctx->who->sid,
                 ctx->pid);
  return shmb_encode_open_reply_flags(req->hdr.request_id, req->access,
                                      sec->size, svc_section_flags(sec),
                                      sec->object, out, outlen);
}

/* A doorbell's objects by handle (a section delivered by handle): each is
 * duplicated into the caller's process with the rights the SDK needs and
 * no more, once the process's own token is granted wire on the section. */
static int bell_give(const svc_request_ctx *ctx, const svc_section *sec,
                     uint32_t wire, HANDLE object, DWORD rights,
                     uint64_t *value, char *why, size_t whylen) {
  return svc_deliver_more(ctx->pipe, ctx->pid, ctx->connected_at, ctx->who,
                          ctx->target, sec->sd, wire, object, rights,
                          ctx->delivery, value, why, whylen);
}

/* Why an older client or a context without delivery gets no handles; 0
 * when this one can have them. */
static int handles_refused(const svc_request_ctx *ctx, const svc_section *sec,
                           const shmb_request *req, uint8_t **out,
                           size_t *outlen) {
  const uint8_t op = req->hdr.opcode | SHMB_OP_REPLY;
  int revision = ctx->revision ? *ctx->revision : 1;
  char msg[SHMB_ERROR_MESSAGE_MAX];

  if (revision < 2) {
    shmb_log_info("section %s: pid %lu (%s) speaks protocol revision %d, "
                  "which cannot receive the doorbell's handles (delivery = "
                  "handle)", sec->name, ctx->pid, ctx->who->sid, revision);
    snprintf(msg, sizeof(msg), "section '%s' is delivered by handle only "
             "(delivery = handle), and so is its doorbell: no object has a "
             "name to open; this client speaks protocol revision %d, which "
             "receives only names: use an SDK of 0.2 or later", sec->name,
             revision);
    return error_reply(op, req->hdr.request_id, SHMB_EVERSION, msg, out,
                       outlen) == 0 ? 1 : -1;
  }
  if (!ctx->delivery || !ctx->target)
    return error_reply(op, req->hdr.request_id, SHMB_EINTERNAL,
                       "this connection cannot receive handles", out,
                       outlen) == 0 ? 1 : -1;
  return 0;
}

/* A doorbell object not handed over: nothing of this reply stays in the
 * client, the refusal is logged, the client told why. */
static int bell_not_given(const svc_request_ctx *ctx, const svc_section *sec,
                          const shmb_request *req, int rc, const char *why,
                          uint8_t **out, size_t *outlen) {
  char msg[SHMB_ERROR_MESSAGE_MAX];
  svc_delivery_end(ctx->delivery, 0);
  svc_refusal(ctx->who->sid, "section %s: no doorbell handle delivered to %s "
              "(pid %lu): %s", sec->name, ctx->who->sid, ctx->pid, why);
  snprintf(msg, sizeof(msg), "section '%s': the service did not deliver the "
           "doorbell's handles: %s", sec->name, why);
  return error_reply(req->hdr.opcode | SHMB_OP_REPLY, req->hdr.request_id,
                     rc == SHMB_ESYSTEM || rc == SHMB_ETOOMANYWAITERS
                         ? rc
                         : SHMB_EACCES,
                     msg, out, outlen);
}

/* DOORBELL on a section delivered by handle. A ringer gets the counter
 * (read, write) and the registry (read) and keeps this connection to ask
 * PEERS; a waiter gets the counter (read), its event (SYNCHRONIZE) and its
 * armed page (read, write), made for it and living as long as this
 * connection. */
static int doorbell_by_handle(const svc_request_ctx *ctx,
                              const shmb_request *req, svc_section *sec,
                              uint8_t **out, size_t *outlen) {
  svc_doorbell *d = sec->bell;
  shmb_wire_doorbell_handles h = {0};
  char why[SHMB_ERROR_MESSAGE_MAX];
  char event[SHMB_BELL_NAME], armed[SHMB_BELL_NAME];
  const uint32_t R = SHMB_WIRE_ACCESS_READ, W = SHMB_WIRE_ACCESS_WRITE;
  svc_waiter *w;
  int rc = handles_refused(ctx, sec, req, out, outlen);

  if (rc != 0)
    return rc > 0 ? 0 : SHMB_ENOMEM;
  if (req->access == W) {
    if ((rc = bell_give(ctx, sec, W, d->counter, FILE_MAP_READ |
                        FILE_MAP_WRITE, &h.counter, why, sizeof(why))) ||
        (rc = bell_give(ctx, sec, W, d->registry, FILE_MAP_READ,
                        &h.registry, why, sizeof(why))))
      return bell_not_given(ctx, sec, req, rc, why, out, outlen);
  } else {
    if ((rc = svc_doorbell_add_waiter(d, sec->sd, ctx->who->sid, ctx->owner,
                                      event, armed, why, sizeof(why))))
      return bell_not_given(ctx, sec, req, rc, why, out, outlen);
    w = &d->waiters[d->added];
    if ((rc = bell_give(ctx, sec, R, d->counter, FILE_MAP_READ, &h.counter,
                        why, sizeof(why))) ||
        (rc = bell_give(ctx, sec, R, w->event, SYNCHRONIZE, &h.event, why,
                        sizeof(why))) ||
        (rc = bell_give(ctx, sec, R, w->armed, FILE_MAP_READ |
                        FILE_MAP_WRITE, &h.armed, why, sizeof(why)))) {
      svc_doorbell_drop(d, d->added);
      return bell_not_given(ctx, sec, req, rc, why, out, outlen);
    }
    shmb_log_debug("section %s: waiter %u for %s (pid %lu) by handle, %u "
                   "waiting", sec->name, (unsigned)w->id, ctx->who->sid,
                   ctx->pid, d->live);
  }
  /* A waiter's registration, or a ringer's PEERS: idle by design. */
  if (ctx->keep_open)
    *ctx->keep_open = 1;
  h.pid = (uint32_t)ctx->pid; /* the held target's, as OPEN's */
  rc = shmb_encode_doorbell_reply_handles(req->hdr.request_id, req->access,
                                          &h, out, outlen);
  if (rc != 0) /* no reply: nothing may stay in the client */
    svc_delivery_end(ctx->delivery, 0);
  return rc;
}

/* The objects a waiter or a ringer opens. A waiter's event and armed page
 * are made for its account and live as long as this connection. */
static int doorbell_reply(const svc_request_ctx *ctx, const shmb_request *req,
                          svc_section *sec, uint8_t **out, size_t *outlen) {
  const uint8_t op = SHMB_OP_DOORBELL | SHMB_OP_REPLY;
  svc_doorbell *d = sec->bell;
  char event[SHMB_BELL_NAME] = "", armed[SHMB_BELL_NAME] = "";
  char why[SHMB_ERROR_MESSAGE_MAX], msg[SHMB_ERROR_MESSAGE_MAX];
  int rc;

  if (req->access == SHMB_WIRE_ACCESS_WRITE)
    return shmb_encode_doorbell_reply(req->hdr.request_id, req->access,
                                      d->counter_name, d->registry_name, "",
                                      "", out, outlen);
  rc = svc_doorbell_add_waiter(d, sec->sd, ctx->who->sid, ctx->owner, event,
                               armed, why, sizeof(why));
  if (rc != 0) {
    /* Rate-limited per account, as every refusal: a read-only grantee
     * asking again and again must not fill the Event Log. */
    svc_refusal(ctx->who->sid, "section %s: waiter for %s (pid %lu) "
                "refused: %s", sec->name, ctx->who->sid, ctx->pid, why);
    snprintf(msg, sizeof(msg), "section '%s': %s", sec->name, why);
    return error_reply(op, req->hdr.request_id, rc, msg, out, outlen);
  }
  if (ctx->keep_open)
    *ctx->keep_open = 1;
  shmb_log_debug("section %s: waiter %s for %s (pid %lu), %u waiting",
                 sec->name, event, ctx->who->sid, ctx->pid, d->live);
  return shmb_encode_doorbell_reply(req->hdr.request_id, req->access,
                                    d->counter_name, "", event, armed, out,
                                    outlen);
}

static int on_doorbell(const svc_request_ctx *ctx, const shmb_request *req,
                       uint8_t **out, size_t *outlen) {
  const uint8_t op = SHMB_OP_DOORBELL | SHMB_OP_REPLY;
  svc_section *sec = svc_registry_find(ctx->b->reg, req->name);
  const char *what = req->access == SHMB_WIRE_ACCESS_READ ? "wait" : "ring";
  char msg[SHMB_ERROR_MESSAGE_MAX];
  uint32_t granted;

  if (!sec)
    return no_such_section(ctx, req, out, outlen);
  granted = svc_access_granted(ctx->who, sec->sd);
  if ((req->access & granted) != req->access) {
    svc_refusal(ctx->who->sid, "refused DOORBELL (%s) on section %s for %s "
                "(pid %lu): allowed %s", what, sec->name, ctx->who->sid,
                ctx->pid, shmb__access_name(granted));
    snprintf(msg, sizeof(msg), "section '%s': to %s you need %s access; "
             "your account %s is allowed %s", sec->name, what,
             shmb__access_name(req->access), ctx->who->sid,
             shmb__access_name(granted));
    return error_reply(op, req->hdr.request_id, SHMB_EACCES, msg, out,
                       outlen);
  }
  if (!sec->bell) {
    snprintf(msg, sizeof(msg), "section '%s' has no doorbell: its config "
             "does not say notify = yes", sec->name);
    return error_reply(op, req->hdr.request_id, SHMB_ENONOTIFY, msg, out,
                       outlen);
  }
  if (sec->by_handle)
    return doorbell_by_handle(ctx, req, sec, out, outlen);
  return doorbell_reply(ctx, req, sec, out, outlen);
}

/* The live waiters of a doorbell delivered by handle, for a ringer: each
 * one's event (EVENT_MODIFY_STATE: signal only) and armed page (read) are
 * duplicated into the caller, unless its id is below since (the ringer has
 * them already). The write right is checked at every request, so a
 * ringer whose grant a reload took away learns of no new waiter. */
static int on_peers(const svc_request_ctx *ctx, const shmb_request *req,
                    uint8_t **out, size_t *outlen) {
  const uint8_t op = SHMB_OP_PEERS | SHMB_OP_REPLY;
  const uint32_t W = SHMB_WIRE_ACCESS_WRITE;
  svc_section *sec = svc_registry_find(ctx->b->reg, req->name);
  char why[SHMB_ERROR_MESSAGE_MAX], msg[SHMB_ERROR_MESSAGE_MAX];
  shmb_wire_peer list[SHMB_PEERS_MAX];
  unsigned n = 0;
  shmb_frame_buf b;
  svc_doorbell *d;
  int rc;

  if (!sec)
    return no_such_section(ctx, req, out, outlen);
  if (!(svc_access_granted(ctx->who, sec->sd) & W)) {
    svc_refusal(ctx->who->sid, "refused PEERS on section %s for %s (pid "
                "%lu): no write access", sec->name, ctx->who->sid, ctx->pid);
    snprintf(msg, sizeof(msg), "section '%s': to ring you need write "
             "access; your account %s has none", sec->name, ctx->who->sid);
    return error_reply(op, req->hdr.request_id, SHMB_EACCES, msg, out,
                       outlen);
  }
  if (!(d = sec->bell) || !sec->by_handle) {
    snprintf(msg, sizeof(msg), "section '%s' has %s", sec->name,
             d ? "a doorbell of names: ringers read its registry page"
               : "no doorbell: its config does not say notify = yes");
    return error_reply(op, req->hdr.request_id,
                       d ? SHMB_EINVAL : SHMB_ENONOTIFY, msg, out, outlen);
  }
  if ((rc = handles_refused(ctx, sec, req, out, outlen)) != 0)
    return rc > 0 ? 0 : SHMB_ENOMEM;
  for (unsigned i = 0; i < d->capacity && n < SHMB_PEERS_MAX; i++) {
    const svc_waiter *w = &d->waiters[i];
    shmb_wire_peer p = {i, w->id, 0, 0};
    if (!w->owner)
      continue;
    if (w->id >= req->since &&
        ((rc = bell_give(ctx, sec, W, w->event, EVENT_MODIFY_STATE,
                         &p.event, why, sizeof(why))) ||
         (rc = bell_give(ctx, sec, W, w->armed, FILE_MAP_READ, &p.armed, why,
                         sizeof(why)))))
      return bell_not_given(ctx, sec, req, rc, why, out, outlen);
    list[n++] = p;
  }
  /* The process the values are valid in, for the SDK to compare with its
   * own: the pid the held target was opened by, as OPEN's. */
  shmb_peers_reply_start(&b, req->hdr.request_id,
                         __atomic_load_n(&d->reg->generation,
                                         __ATOMIC_RELAXED),
                         d->next_id, (uint32_t)ctx->pid);
  for (unsigned i = 0; i < n; i++)
    shmb_peers_reply_add(&b, &list[i]);
  if ((rc = shmb_frame_finish(&b, out, outlen)) != 0)
    svc_delivery_end(ctx->delivery, 0);
  return rc;
}

static int is_admin(const svc_request_ctx *ctx) {
  return ctx->who &&
         svc_caller_may(ctx->who, ctx->b->admin_sd, SVC_RIGHT_RELOAD);
}

typedef struct number {
  const char *key;
  uint64_t value;
} number;

static void add_numbers(shmb_frame_buf *f, const number *n, size_t count) {
  char v[32];
  for (size_t i = 0; i < count; i++) {
    snprintf(v, sizeof(v), "%" PRIu64, n[i].value);
    shmb_status_reply_add(f, n[i].key, v);
  }
}

/* What only the service's admins learn: where the config is, which process
 * serves, what it holds. */
static void add_host_facts(shmb_frame_buf *f, const svc_broker *b) {
  uint64_t handles, private_kib;
  svc_footprint(&handles, &private_kib);
  const number host[] = {
      {"pid", GetCurrentProcessId()},
      {"handles", handles},
      {"private_kib", private_kib},
  };
  shmb_status_reply_add(f, "config", b->config_path);
  shmb_status_reply_add(f, "config_loaded", b->loaded_at);
  add_numbers(f, host, sizeof(host) / sizeof(host[0]));
}

static int on_status(const svc_request_ctx *ctx, const shmb_request *req,
                     uint8_t **out, size_t *outlen) {
  const svc_broker *b = ctx->b;
  const svc_counters *k = &b->counters;
  uint64_t flushes, flush_failures, delivered, taken_back;
  shmb_frame_buf f;

  svc_registry_flush_counts(b->reg, &flushes, &flush_failures);
  svc_delivery_counts(&delivered, &taken_back);
  const number counters[] = {
      {"uptime_ms", GetTickCount64() - b->started_ms},
      {"sections", b->reg->count},
      {"clients", ctx->clients},
      {"max_clients", b->cfg->max_clients},
      {"opens_granted", k->opens_granted},
      {"opens_refused", k->opens_refused},
      {"protocol_errors", k->protocol_errors},
      {"clients_refused", k->clients_refused},
      {"timeouts", k->timeouts},
      {"reloads", k->reloads},
      {"reloads_failed", k->reloads_failed},
      {"flushes", flushes},
      {"flush_failures", flush_failures},
      {"doorbell_waiters", svc_registry_waiters(b->reg)},
      {"handles_delivered", delivered},
      {"handles_taken_back", taken_back},
  };

  shmb_status_reply_start(&f, req->hdr.request_id);
  shmb_status_reply_add(&f, "version", SHMB_VERSION_STRING);
  add_numbers(&f, counters, sizeof(counters) / sizeof(counters[0]));
  if (is_admin(ctx))
    add_host_facts(&f, b);
  if (shmb_frame_finish(&f, out, outlen) != 0)
    return error_reply(SHMB_OP_STATUS | SHMB_OP_REPLY, req->hdr.request_id,
                       SHMB_EINTERNAL, NULL, out, outlen);
  return 0;
}

static int on_reload(const svc_request_ctx *ctx, const shmb_request *req,
                     uint8_t **out, size_t *outlen) {
  const uint8_t op = SHMB_OP_RELOAD | SHMB_OP_REPLY;
  char why[256], msg[SHMB_ERROR_MESSAGE_MAX];

  snprintf(why, sizeof(why), "%s (pid %lu)", ctx->who->sid, ctx->pid);
  if (svc_reload(ctx->b, why, NULL, msg, sizeof(msg)) != 0)
    return error_reply(op, req->hdr.request_id, SHMB_ECONFIG, msg, out,
                       outlen);
  return shmb_encode_message_reply(op, req->hdr.request_id, msg, out, outlen);
}

/* The refusal for a caller who lacks the opcode's right. */
static int refuse(const svc_request_ctx *ctx, const shmb_request *req,
                  uint8_t **out, size_t *outlen) {
  const uint8_t op = req->hdr.opcode | SHMB_OP_REPLY;
  if (!ctx->who) {
    if (req->hdr.opcode == SHMB_OP_OPEN)
      ctx->b->counters.opens_refused++;
    return error_reply(op, req->hdr.request_id, SHMB_EACCES,
                       "the service could not identify the caller", out,
                       outlen);
  }
  svc_refusal(ctx->who->sid, "refused RELOAD for %s (pid %lu): not one of "
              "the service's admins", ctx->who->sid, ctx->pid);
  return error_reply(op, req->hdr.request_id, SHMB_EACCES,
                     "only the service's admins may reload (the admins "
                     "key; by default the service's account and "
                     "Administrators)", out, outlen);
}

int svc_request_needs_caller(const shmb_request *req) {
  const struct op *o = op_of(req->hdr.opcode);
  return o && o->right != NEED_NOTHING;
}

int svc_dispatch(const svc_request_ctx *ctx, const shmb_request *req,
                 uint8_t **out, size_t *outlen) {
  const struct op *o = op_of(req->hdr.opcode);

  if (!o) /* the decoder lets only known opcodes through */
    return error_reply(SHMB_OP_ERROR, req->hdr.request_id, SHMB_EOPCODE, NULL,
                       out, outlen);
  if ((o->right == NEED_CALLER || o->right == NEED_ADMIN) && !ctx->who)
    return refuse(ctx, req, out, outlen);
  if (o->right == NEED_ADMIN && !is_admin(ctx))
    return refuse(ctx, req, out, outlen);
  return o->fn(ctx, req, out, outlen);
}

int svc_protocol_error_reply(const svc_request_ctx *ctx, int err,
                             uint32_t request_id, uint8_t **out,
                             size_t *outlen) {
  const char *sid = ctx->who ? ctx->who->sid : ctx->account;
  ctx->b->counters.protocol_errors++;
  svc_refusal(sid, "protocol error from %s (pid %lu): %s (%s); closing the "
              "connection", sid, ctx->pid, shmb_strerror(err),
              shmb_err_name(err));
  return error_reply(SHMB_OP_ERROR, request_id, err, NULL, out, outlen);
}
