/*
 * The running service: its config, sections, listener and clients, and the
 * counters that STATUS reports. One instance per process, driven by one
 * libuv loop; console mode (main.c) and, later, the service control manager
 * both go through svc_start / svc_stop.
 */
#ifndef SVC_SVC_H
#define SVC_SVC_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "listener.h"
#include "sections.h"

#define SVC_VERSION "0.1.0"

typedef struct svc_counters {
  uint64_t opens_granted;
  uint64_t opens_refused;
  uint64_t protocol_errors;
  uint64_t clients_refused; /* over max_clients */
  uint64_t timeouts;
  uint64_t reloads;
} svc_counters;

struct svc_conn;

typedef struct svc {
  uv_loop_t *loop;
  char *config_path;
  shmb_config *cfg;
  svc_registry *reg;
  svc_listener *listener;
  struct svc_conn *conns; /* doubly linked, for shutdown */
  unsigned nclients;
  int stopping;
  uint64_t started_ms; /* uv_now at start */
  char loaded_at[32];  /* wall clock of the config load */
  svc_counters counters;
} svc;

/* Takes the parsed config (owned from here on, even on failure: it is freed
 * by svc_release, or here when start fails), creates the sections and
 * starts listening. On failure everything is undone and err says why;
 * the return is the failing step's code. */
int svc_start(svc *s, uv_loop_t *loop, const char *config_path,
              shmb_config *cfg, char *err, size_t errlen);

/* Stops accepting, disconnects every client and releases the sections once
 * the loop has drained. Safe to call twice. */
void svc_stop(svc *s);

/* Frees the sections and the config once the loop has stopped. */
void svc_release(svc *s);

/* Reads and parses a config file (UTF-8 path). err gets "FILE:LINE: what". */
int svc_config_load(const char *path, shmb_config **cfg, char *err,
                    size_t errlen);

#endif /* SVC_SVC_H */
