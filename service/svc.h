/*
 * The running service: its config, sections, listener and clients, and the
 * counters that STATUS reports. One instance per process, driven by one
 * libuv loop. Console mode (main.c) and the service control manager (scm.c)
 * both run it through svc_run, each as a host that says how to report
 * progress and what stops or reloads it.
 */
#ifndef SVC_SVC_H
#define SVC_SVC_H

#include <windows.h>

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "listener.h"
#include "sections.h"

#define SVC_VERSION "0.1.0"

/* Exit codes of svc_run, also the service-specific exit codes the SCM
 * reports (ERROR_SERVICE_SPECIFIC_ERROR). */
enum { SVC_EXIT_OK = 0, SVC_EXIT_CONFIG = 1, SVC_EXIT_USAGE = 2,
       SVC_EXIT_START = 3 };

typedef struct svc_counters {
  uint64_t opens_granted;
  uint64_t opens_refused;
  uint64_t protocol_errors;
  uint64_t clients_refused; /* over max_clients */
  uint64_t timeouts;
  uint64_t reloads;
  uint64_t reloads_failed;
} svc_counters;

struct svc_conn;
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
  char *config_path;
  shmb_config *cfg;
  svc_registry *reg;
  svc_listener *listener;
  PSECURITY_DESCRIPTOR admin_sd; /* who may RELOAD */
  struct svc_conn *conns;        /* doubly linked, for shutdown */
  unsigned nclients;
  int stopping;
  uint64_t started_ms; /* uv_now at start */
  char loaded_at[32];  /* wall clock of the last config load */
  svc_counters counters;
};

/* Loads the config, creates the sections, listens, runs the loop until
 * svc_stop and releases everything. Returns an SVC_EXIT_* code; the reason
 * for a failure has been logged. */
int svc_run(const char *config_path, const svc_host *host);

/* Stops accepting, disconnects every client, flushes file-backed sections;
 * the loop then ends. Safe to call twice. */
void svc_stop(svc *s);

/* Reads and parses a config file (UTF-8 path). err gets "FILE:LINE: what". */
int svc_config_load(const char *path, shmb_config **cfg, char *err,
                    size_t errlen);

/* The service's config, checked first for who may write it (trust.h)
 * unless the host said insecure_config. */
int svc_config_load_trusted(svc *s, shmb_config **cfg, char *err,
                            size_t errlen);

/* Starts or stops the periodic flush of a file-backed section. */
void svc_flusher_start(svc *s, svc_section *sec);
void svc_flusher_stop(svc_section *sec);

#endif /* SVC_SVC_H */
