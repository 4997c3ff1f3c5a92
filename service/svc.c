/*
 * Start and stop of the service core, shared by console mode and (later) the
 * service control manager. Start is all or nothing: if any section or the
 * pipe cannot be had, whatever was made is released and the caller gets the
 * reason to log and exit with.
 */
#include "svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "errors.h"
#include "log.h"
#include "wstr.h"

int svc_config_load(const char *path, shmb_config **cfg, char *err,
                    size_t errlen) {
  wchar_t *wpath = shmb__wide_from_utf8(path);
  HANDLE f;
  LARGE_INTEGER size;
  char *text;
  DWORD got = 0;
  int rc;

  if (!wpath)
    return SHMB_ENOMEM;
  f = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                  FILE_ATTRIBUTE_NORMAL, NULL);
  free(wpath);
  if (f == INVALID_HANDLE_VALUE) {
    snprintf(err, errlen, "%s: cannot open (Win32 error %lu)", path,
             (unsigned long)GetLastError());
    return SHMB_ECONFIG;
  }
  if (!GetFileSizeEx(f, &size) || size.QuadPart > SHMB_CONFIG_MAX_BYTES) {
    CloseHandle(f);
    snprintf(err, errlen, "%s: unreadable or larger than %u bytes", path,
             SHMB_CONFIG_MAX_BYTES);
    return SHMB_ECONFIG;
  }
  if (!(text = malloc((size_t)size.QuadPart + 1))) {
    CloseHandle(f);
    return SHMB_ENOMEM;
  }
  if (!ReadFile(f, text, (DWORD)size.QuadPart, &got, NULL) ||
      got != (DWORD)size.QuadPart) {
    snprintf(err, errlen, "%s: read failed (Win32 error %lu)", path,
             (unsigned long)GetLastError());
    rc = SHMB_ECONFIG;
  } else {
    rc = shmb_config_parse(text, got, path, cfg, err, errlen);
  }
  free(text);
  CloseHandle(f);
  return rc;
}

int svc_start(svc *s, uv_loop_t *loop, const char *config_path,
              shmb_config *cfg, char *err, size_t errlen) {
  int rc;

  memset(s, 0, sizeof(*s));
  s->loop = loop;
  s->cfg = cfg;
  if (!(s->config_path = malloc(strlen(config_path) + 1))) {
    shmb_config_free(cfg);
    return SHMB_ENOMEM;
  }
  strcpy(s->config_path, config_path);
  shmb__wallclock(s->loaded_at);
  s->started_ms = uv_now(loop);
  shmb_log_set_level(cfg->log_level);

  if ((rc = svc_registry_create(cfg, &s->reg, err, errlen)) != 0)
    goto out_free_path;
  rc = svc_listener_start(loop, cfg->pipe, svc_conn_accept, s, &s->listener,
                          err, errlen);
  if (rc != 0)
    goto out_free_registry;
  shmb_log_info("shmbrokerd %s listening on %s with %zu section(s) from %s",
                SVC_VERSION, cfg->pipe, s->reg->count, config_path);
  return 0;

out_free_registry:
  svc_registry_free(s->reg);
  s->reg = NULL;
out_free_path:
  free(s->config_path);
  s->config_path = NULL;
  shmb_config_free(cfg);
  s->cfg = NULL;
  return rc;
}

void svc_stop(svc *s) {
  if (s->stopping)
    return;
  s->stopping = 1;
  shmb_log_info("stopping: %u client(s) connected", s->nclients);
  svc_listener_stop(s->listener);
  s->listener = NULL;
  svc_conn_close_all(s);
}

void svc_release(svc *s) {
  svc_registry_free(s->reg);
  shmb_config_free(s->cfg);
  free(s->config_path);
  s->reg = NULL;
  s->cfg = NULL;
  s->config_path = NULL;
}
