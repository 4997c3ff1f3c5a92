/*
 * The broker's state from config to objects. Loading and opening are two
 * steps so that the host can report a config error (exit 1) apart from a
 * failure to create what the config asks for (exit 3).
 */
#include "broker.h"

#include <string.h>

#include "configfile.h"
#include "errors.h"
#include "log.h"
#include "logsink.h"
#include "own_sd.h"

void svc_broker_apply_logging(const shmb_config *cfg) {
  shmb_log_set_level(cfg->log_level);
  svc_logsink_set_file(cfg->log_file);
}

int svc_broker_load(svc_broker *b, const char *config_path, int insecure,
                    char *err, size_t errlen) {
  int rc;

  memset(b, 0, sizeof(*b));
  b->config_path = config_path;
  b->insecure_config = insecure;
  if ((rc = svc_config_load(config_path, insecure, &b->cfg, err, errlen)))
    return rc;
  svc_broker_apply_logging(b->cfg);
  shmb__wallclock(b->loaded_at);
  b->started_ms = GetTickCount64();
  return 0;
}

int svc_broker_open(svc_broker *b, uv_loop_t *loop, void (*progress)(void *),
                    void *progress_arg, char *err, size_t errlen) {
  int rc = svc_registry_create(loop, b->cfg, progress, progress_arg, &b->reg,
                               err, errlen);
  if (rc != 0)
    return rc;
  return svc_admin_sd(b->cfg, &b->admin_sd, err, errlen);
}

void svc_broker_release(svc_broker *b) {
  svc_registry_free(b->reg);
  shmb_config_free(b->cfg);
  if (b->admin_sd)
    LocalFree(b->admin_sd);
  b->reg = NULL;
  b->cfg = NULL;
  b->admin_sd = NULL;
}
