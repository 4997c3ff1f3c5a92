/*
 * What the service serves: the config in force, its sections, who may
 * reload, and the counters STATUS reports. Start fills it, reload (reload.h)
 * changes it, request dispatch (dispatch.h) reads it; none of them needs the
 * event loop or the pipe, so each can be tested on its own.
 */
#ifndef SVC_BROKER_H
#define SVC_BROKER_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "registry.h"

typedef struct svc_counters {
  uint64_t opens_granted;
  uint64_t opens_refused;
  uint64_t protocol_errors;
  uint64_t clients_refused; /* over max_clients */
  uint64_t timeouts;
  uint64_t reloads;
  uint64_t reloads_failed;
} svc_counters;

typedef struct svc_broker {
  const char *config_path;
  int insecure_config; /* console development only: no trust check */
  shmb_config *cfg;
  svc_registry *reg;
  PSECURITY_DESCRIPTOR admin_sd; /* who may RELOAD (own_sd.h) */
  uint64_t started_ms;           /* GetTickCount64 at load */
  char loaded_at[32];            /* wall clock of the last config load */
  svc_counters counters;
} svc_broker;

/* Loads the config (trust check unless insecure) into a zeroed b and puts
 * its log level and log_file in force. No objects are created yet. */
int svc_broker_load(svc_broker *b, const char *config_path, int insecure,
                    char *err, size_t errlen);

/* Creates every section and the admin descriptor: all or nothing (release
 * undoes a partial open). loop may be NULL (no periodic flushes). */
int svc_broker_open(svc_broker *b, uv_loop_t *loop, void (*progress)(void *),
                    void *progress_arg, char *err, size_t errlen);

/* Frees everything open or load made; b can be loaded again. */
void svc_broker_release(svc_broker *b);

/* Puts a config's log level and log_file in force (start and reload). */
void svc_broker_apply_logging(const shmb_config *cfg);

#endif /* SVC_BROKER_H */
