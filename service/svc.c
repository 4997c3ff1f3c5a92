/*
 * The service's life: load the config, create the sections, listen, serve
 * until stopped, then flush and release. Start is all or nothing: if any
 * section or the pipe cannot be had, whatever was made is released and the
 * reason is logged. Console mode and the SCM differ only in their host
 * callbacks.
 */
#include "svc.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "reload.h"
#include "shmb_version.h"
#include "sid.h"

/* Clients check who serves the pipe before they talk (LocalSystem unless
 * told otherwise): say exactly what a client needs when we are someone
 * else, as in console mode. */
static void log_identity(void) {
  char who[300], *sid = NULL;
  PSID self;

  if (svc_self_sid(&self) != 0)
    return;
  svc_account_name(self, who, sizeof(who));
  if (IsWellKnownSid(self, WinLocalSystemSid))
    shmb_log_info("running as %s, the account clients expect by default",
                  who);
  else if ((sid = svc_sid_string(self)) != NULL)
    shmb_log_info("running as %s, not LocalSystem: clients must be told to "
                  "expect this account: set SHMBROKER_SERVER_SID=%s or pass "
                  "--server-sid %s to shmbctl (SDK: "
                  "shmb_connect_options.server_sid)", who, sid, sid);
  free(sid);
  LocalFree(self);
}

/* Everything up to serving; undone by svc_broker_release on failure. */
static int start(svc *s, char *err, size_t errlen) {
  svc_broker *b = &s->broker;
  int rc = svc_broker_open(b, s->loop, s->host->progress, s->host->arg, err,
                           errlen);
  if (rc != 0)
    return rc;
  svc_conns_init(&s->conns, s->loop, b);
  rc = svc_listener_start(s->loop, b->cfg->pipe, b->cfg->allow_sandboxed,
                          svc_conn_accept, &s->conns, &s->listener, err,
                          errlen);
  if (rc != 0)
    return rc;
  shmb_log_info("shmbrokerd %s listening on %s with %zu section(s) from %s",
                SHMB_VERSION_STRING, b->cfg->pipe, b->reg->count,
                b->config_path);
  log_identity();
  return 0;
}

int svc_run(const char *config_path, const svc_host *host) {
  static svc s; /* one per process; its address is handed to callbacks */
  uv_loop_t loop;
  char err[SHMB_CONFIG_ERR_MAX];
  int rc;

  memset(&s, 0, sizeof(s));
  s.host = host;
  if (svc_broker_load(&s.broker, config_path, host->insecure_config, err,
                      sizeof(err)) != 0) {
    shmb_log_error("cannot load the configuration: %s", err);
    return SVC_EXIT_CONFIG;
  }
  uv_loop_init(&loop);
  s.loop = &loop;
  if ((rc = start(&s, err, sizeof(err))) != 0) {
    shmb_log_error("cannot start: %s (%s)", err, shmb_err_name(rc));
    svc_conns_close_all(&s.conns);
    svc_registry_stop_timers(s.broker.reg);
    svc_broker_release(&s.broker);
    uv_run(&loop, UV_RUN_NOWAIT); /* let closed handles finish */
    uv_loop_close(&loop);
    return SVC_EXIT_START;
  }
  if (host->running)
    host->running(&s, host->arg);
  uv_run(&loop, UV_RUN_DEFAULT);
  svc_broker_release(&s.broker);
  uv_loop_close(&loop);
  shmb_log_info("stopped");
  return SVC_EXIT_OK;
}

void svc_stop(svc *s, const char *why) {
  if (s->stopping)
    return;
  s->stopping = 1;
  shmb_log_info("stopping: %u client(s) connected (%s)", s->conns.count,
                why);
  svc_listener_stop(s->listener);
  s->listener = NULL;
  svc_conns_close_all(&s->conns);
  svc_registry_stop_timers(s->broker.reg);
  svc_registry_flush_all(s->broker.reg, why);
  if (s->host->stopping)
    s->host->stopping(s, s->host->arg);
}

void svc_reload_from(svc *s, const char *who) {
  char msg[SHMB_CONFIG_ERR_MAX];
  svc_reload(&s->broker, who, NULL, msg, sizeof(msg));
}
