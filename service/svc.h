/*
 * The running service: one per process, driven by one libuv loop. Console
 * mode (main.c) and the service control manager (scm.c) both run it through
 * svc_run, each as a host that says how to report progress and what stops
 * or reloads it.
 *
 * The layers of service/, bottom-up; every include points down
 * (docs/architecture.md has the same picture with each module's job):
 *
 *   hosts        main.c (console)   scm.c (service control manager)
 *   lifecycle    svc.c
 *   listener     listener.c         pipe instances, the accept thread
 *   connections  conn.c             frames, timeouts, the caller's token
 *   dispatch     dispatch.c         opcode -> right -> handler; footprint.c
 *   reload       reload.c           plan, then apply
 *   broker       broker.c           config + registry + admin descriptor
 *   access       access.c           identify the caller, AccessCheck;
 *                refusal.c          rate-limited refusal lines
 *   config file  configfile.c       trust.c (who may write it);
 *                logsink.c          stderr, Event Log, log_file
 *   sections     registry.c         section.c, doorbell.c, backing.c
 *   grants       own_sd.c           bell_sd.c, grants.c
 *   descriptors  descriptor.c       trustsd.c (who a file lets in)
 *   SIDs         sid.c
 *   (beside all: container_of.h; below all: common/)
 */
#ifndef SVC_SVC_H
#define SVC_SVC_H

#include <windows.h>

#include <uv.h>

#include "broker.h"
#include "conn.h"
#include "listener.h"

/* Exit codes of svc_run, also the service-specific exit codes the SCM
 * reports (ERROR_SERVICE_SPECIFIC_ERROR). */
enum { SVC_EXIT_OK = 0, SVC_EXIT_CONFIG = 1, SVC_EXIT_USAGE = 2,
       SVC_EXIT_START = 3 };

typedef struct svc svc;

/* What runs the service. Callbacks are optional (NULL). */
typedef struct svc_host {
  void *arg;
  /* After each section is created: the SCM's start checkpoints. */
  void (*progress)(void *arg);
  /* Serving: install what stops or reloads the service (signals, SCM). */
  void (*running)(svc *s, void *arg);
  /* svc_stop was called: close the handles installed by running. */
  void (*stopping)(svc *s, void *arg);
  /* Development only (console mode): skip the config file's trust check. */
  int insecure_config;
} svc_host;

struct svc {
  uv_loop_t *loop;
  const svc_host *host;
  svc_broker broker;
  svc_conns conns;
  svc_listener *listener;
  int stopping;
};

/* Loads the config, creates the sections, listens, runs the loop until
 * svc_stop and releases everything. Returns an SVC_EXIT_* code; the reason
 * for a failure has been logged. */
int svc_run(const char *config_path, const svc_host *host);

/* Stops accepting, disconnects every client, flushes file-backed sections
 * (why: "stop" or "shutdown", for the log); the loop then ends. Safe to
 * call twice. */
void svc_stop(svc *s, const char *why);

/* Re-reads the config (PARAMCHANGE); see reload.h. */
void svc_reload_from(svc *s, const char *who);

#endif /* SVC_SVC_H */
