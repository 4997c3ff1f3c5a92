/*
 * The broker's answers. Every request that touches a section identifies the
 * caller from its pipe first (impersonate, take the token, revert) and asks
 * AccessCheck with the section's own descriptor; refusals are logged at warn
 * with the caller's SID and process id (design.md, security rule 7), grants
 * at debug.
 */
#include "requests.h"

#include <inttypes.h>
#include <psapi.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "errors.h"
#include "log.h"
#include "reload.h"

static int error_reply(uint8_t opcode, uint32_t id, int err, const char *msg,
                       uint8_t **out, size_t *outlen) {
  return shmb_encode_error(opcode, id, err, msg ? msg : shmb_strerror(err), out,
                           outlen);
}

static int on_hello(const shmb_request *req, uint8_t **out, size_t *outlen) {
  uint8_t op = SHMB_OP_HELLO | SHMB_OP_REPLY;
  if (req->min_version > SHMB_PROTO_VERSION ||
      req->max_version < SHMB_PROTO_VERSION)
    return error_reply(op, req->hdr.request_id, SHMB_EVERSION,
                       "this service speaks protocol version 1 only", out,
                       outlen);
  return shmb_encode_hello_reply(req->hdr.request_id, SHMB_PROTO_VERSION,
                                 "shmbrokerd " SVC_VERSION, out, outlen);
}

static int on_list(svc *s, const svc_caller *who, const shmb_request *req,
                   uint8_t **out, size_t *outlen) {
  shmb_frame_buf b;
  int rc;

  shmb_list_reply_start(&b, req->hdr.request_id);
  for (size_t i = 0; i < s->reg->count; i++) {
    svc_section *sec = s->reg->sections[i];
    uint32_t granted = svc_access_granted(who, sec->sd);
    if (granted & SHMB_WIRE_ACCESS_READ)
      shmb_list_reply_add(&b, sec->name, sec->size, granted);
  }
  if ((rc = shmb_frame_end(&b)) != 0)
    return error_reply(SHMB_OP_LIST | SHMB_OP_REPLY, req->hdr.request_id,
                       SHMB_EINTERNAL, "the list does not fit in a frame",
                       out, outlen);
  *out = b.data;
  *outlen = b.len;
  return 0;
}

static int on_open(svc *s, const svc_caller *who, unsigned long pid,
                   const shmb_request *req, uint8_t **out, size_t *outlen) {
  uint8_t op = SHMB_OP_OPEN | SHMB_OP_REPLY;
  svc_section *sec = svc_registry_find(s->reg, req->name);
  uint32_t granted;

  if (!sec) {
    s->counters.opens_refused++;
    shmb_log_warn("refused OPEN of unknown section '%s' for %s (pid %lu)",
                  req->name, who->sid, pid);
    return error_reply(op, req->hdr.request_id, SHMB_ENOENT, NULL, out,
                       outlen);
  }
  granted = svc_access_granted(who, sec->sd);
  if ((req->access & granted) != req->access) {
    s->counters.opens_refused++;
    shmb_log_warn("refused OPEN of section %s for %s (pid %lu): asked %s, "
                  "allowed %s", sec->name, who->sid, pid,
                  svc_access_name(req->access), svc_access_name(granted));
    return error_reply(op, req->hdr.request_id, SHMB_EACCES, NULL, out,
                       outlen);
  }
  s->counters.opens_granted++;
  shmb_log_debug("granted %s on section %s to %s (pid %lu)",
                 svc_access_name(req->access), sec->name, who->sid, pid);
  return shmb_encode_open_reply(req->hdr.request_id, req->access, sec->size,
                                sec->object, out, outlen);
}

/* The service's own footprint, for leak checks and benchmarks. */
static void footprint(uint64_t *handles, uint64_t *private_kib) {
  PROCESS_MEMORY_COUNTERS_EX pmc;
  DWORD n = 0;
  GetProcessHandleCount(GetCurrentProcess(), &n);
  *handles = n;
  *private_kib = 0;
  /* PagefileUsage is the commit charge, which Windows also reports as
   * PrivateUsage; Wine fills only the former (from the resident anonymous
   * memory). */
  if (GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&pmc,
                           sizeof(pmc)))
    *private_kib = pmc.PagefileUsage / 1024;
}

static int on_status(svc *s, const shmb_request *req, uint8_t **out,
                     size_t *outlen) {
  shmb_frame_buf b;
  char v[64];
  const svc_counters *k = &s->counters;
  uint64_t handles, private_kib;

  footprint(&handles, &private_kib);
  const struct {
    const char *key;
    uint64_t value;
  } numbers[] = {
      {"uptime_ms", uv_now(s->loop) - s->started_ms},
      {"pid", GetCurrentProcessId()},
      {"sections", s->reg->count},
      {"clients", s->nclients},
      {"max_clients", s->cfg->max_clients},
      {"opens_granted", k->opens_granted},
      {"opens_refused", k->opens_refused},
      {"protocol_errors", k->protocol_errors},
      {"clients_refused", k->clients_refused},
      {"timeouts", k->timeouts},
      {"reloads", k->reloads},
      {"reloads_failed", k->reloads_failed},
      {"handles", handles},
      {"private_kib", private_kib},
  };

  shmb_status_reply_start(&b, req->hdr.request_id);
  shmb_status_reply_add(&b, "version", SVC_VERSION);
  shmb_status_reply_add(&b, "config", s->config_path);
  shmb_status_reply_add(&b, "config_loaded", s->loaded_at);
  for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
    snprintf(v, sizeof(v), "%" PRIu64, numbers[i].value);
    shmb_status_reply_add(&b, numbers[i].key, v);
  }
  if (shmb_frame_end(&b) != 0)
    return error_reply(SHMB_OP_STATUS | SHMB_OP_REPLY, req->hdr.request_id,
                       SHMB_EINTERNAL, NULL, out, outlen);
  *out = b.data;
  *outlen = b.len;
  return 0;
}

static int on_reload(svc *s, const svc_caller *who, unsigned long pid,
                     const shmb_request *req, uint8_t **out, size_t *outlen) {
  uint8_t op = SHMB_OP_RELOAD | SHMB_OP_REPLY;
  char why[256], msg[SHMB_ERROR_MESSAGE_MAX];

  if (!svc_caller_may(who, s->admin_sd, 0x1)) {
    shmb_log_warn("refused RELOAD for %s (pid %lu): not one of the "
                  "service's admins", who->sid, pid);
    return error_reply(op, req->hdr.request_id, SHMB_EACCES,
                       "only the service's admins may reload (the admins "
                       "key; by default the service's account and "
                       "Administrators)", out, outlen);
  }
  snprintf(why, sizeof(why), "%s (pid %lu)", who->sid, pid);
  if (svc_reload(s, why, msg, sizeof(msg)) != 0)
    return error_reply(op, req->hdr.request_id, SHMB_ECONFIG, msg, out,
                       outlen);
  return shmb_encode_message_reply(op, req->hdr.request_id, msg, out, outlen);
}

int svc_request_reply(svc *s, HANDLE pipe, unsigned long pid,
                      const shmb_request *req, uint8_t **out, size_t *outlen) {
  uint8_t op = req->hdr.opcode | SHMB_OP_REPLY;
  svc_caller who;
  int rc;

  switch (req->hdr.opcode) {
  case SHMB_OP_HELLO:
    return on_hello(req, out, outlen);
  case SHMB_OP_STATUS:
    return on_status(s, req, out, outlen);
  case SHMB_OP_LIST:
  case SHMB_OP_OPEN:
  case SHMB_OP_RELOAD:
    break;
  default: /* the decoder lets only known opcodes through */
    return error_reply(SHMB_OP_ERROR, req->hdr.request_id, SHMB_EOPCODE, NULL,
                       out, outlen);
  }
  if (svc_caller_identify(pipe, pid, &who) != 0) {
    if (req->hdr.opcode == SHMB_OP_OPEN)
      s->counters.opens_refused++;
    return error_reply(op, req->hdr.request_id, SHMB_EACCES,
                       "the service could not identify the caller", out,
                       outlen);
  }
  if (req->hdr.opcode == SHMB_OP_LIST)
    rc = on_list(s, &who, req, out, outlen);
  else if (req->hdr.opcode == SHMB_OP_OPEN)
    rc = on_open(s, &who, pid, req, out, outlen);
  else
    rc = on_reload(s, &who, pid, req, out, outlen);
  svc_caller_release(&who);
  return rc;
}

int svc_protocol_error_reply(svc *s, HANDLE pipe, unsigned long pid, int err,
                             uint32_t request_id, uint8_t **out,
                             size_t *outlen) {
  svc_caller who;
  s->counters.protocol_errors++;
  /* Identification is for the log line only; it may fail (nothing read). */
  svc_caller_identify(pipe, pid, &who);
  shmb_log_warn("protocol error from %s (pid %lu): %s (%s); closing the "
                "connection", who.sid, pid, shmb_strerror(err),
                shmb_err_name(err));
  svc_caller_release(&who);
  return error_reply(SHMB_OP_ERROR, request_id, err, NULL, out, outlen);
}
