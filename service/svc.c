/*
 * The service core's life: load the config, create the sections, listen,
 * serve until stopped, then flush and release. Start is all or nothing: if
 * any section or the pipe cannot be had, whatever was made is released and
 * the reason is logged. Console mode and the SCM differ only in their host
 * callbacks.
 */
#include "svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "errors.h"
#include "log.h"
#include "logsink.h"
#include "reload.h"
#include "trust.h"
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

int svc_config_load_trusted(svc *s, shmb_config **cfg, char *err,
                            size_t errlen) {
  int rc;
  if (s->host->insecure_config)
    shmb_log_warn("--insecure-config: NOT checking who may write %s; never "
                  "run like this in production", s->config_path);
  else if ((rc = svc_config_trusted(s->config_path, err, errlen)) != 0)
    return rc == SHMB_EACCES ? SHMB_ECONFIG : rc;
  return svc_config_load(s->config_path, cfg, err, errlen);
}

typedef struct flusher {
  uv_timer_t timer;
  svc_section *sec;
} flusher;

static void on_flush_due(uv_timer_t *t) {
  svc_section_flush(((flusher *)t)->sec);
}

static void on_flusher_closed(uv_handle_t *h) { free(h); }

void svc_flusher_start(svc *s, svc_section *sec) {
  flusher *f;
  if (sec->flusher || !sec->view || !sec->flush_interval_ms)
    return;
  if (!(f = malloc(sizeof(*f)))) {
    shmb_log_error("section %s: no memory for its periodic flush; it is "
                   "flushed at stop and reload only", sec->name);
    return;
  }
  f->sec = sec;
  uv_timer_init(s->loop, &f->timer);
  uv_timer_start(&f->timer, on_flush_due, sec->flush_interval_ms,
                 sec->flush_interval_ms);
  sec->flusher = f;
}

void svc_flusher_stop(svc_section *sec) {
  flusher *f = sec->flusher;
  if (!f)
    return;
  uv_close((uv_handle_t *)&f->timer, on_flusher_closed);
  sec->flusher = NULL;
}

/* Everything up to serving; undone by release() on failure or at the end. */
static int start(svc *s, char *err, size_t errlen) {
  int rc;

  if ((rc = svc_registry_create(s->cfg, &s->reg, err, errlen)) != 0)
    return rc;
  for (size_t i = 0; i < s->reg->count; i++) {
    svc_flusher_start(s, s->reg->sections[i]);
    if (s->host->progress)
      s->host->progress(s->host->arg);
  }
  if ((rc = svc_admin_sd(s->cfg, &s->admin_sd, err, errlen)) != 0)
    return rc;
  rc = svc_listener_start(s->loop, s->cfg->pipe, svc_conn_accept, s,
                          &s->listener, err, errlen);
  if (rc != 0)
    return rc;
  shmb_log_info("shmbrokerd %s listening on %s with %zu section(s) from %s",
                SVC_VERSION, s->cfg->pipe, s->reg->count, s->config_path);
  return 0;
}

static void release(svc *s) {
  for (size_t i = 0; s->reg && i < s->reg->count; i++)
    svc_flusher_stop(s->reg->sections[i]);
  svc_registry_free(s->reg); /* flushes file-backed sections */
  shmb_config_free(s->cfg);
  if (s->admin_sd)
    LocalFree(s->admin_sd);
  s->reg = NULL;
  s->cfg = NULL;
  s->admin_sd = NULL;
}

int svc_run(const char *config_path, const svc_host *host) {
  static svc s; /* one per process; its address is handed to callbacks */
  uv_loop_t loop;
  char err[SHMB_CONFIG_ERR_MAX];
  int rc;

  memset(&s, 0, sizeof(s));
  s.host = host;
  s.config_path = (char *)config_path;
  if ((rc = svc_config_load_trusted(&s, &s.cfg, err, sizeof(err))) != 0) {
    shmb_log_error("cannot load the configuration: %s", err);
    return SVC_EXIT_CONFIG;
  }
  shmb_log_set_level(s.cfg->log_level);
  svc_logsink_set_file(s.cfg->log_file);
  shmb__wallclock(s.loaded_at);
  uv_loop_init(&loop);
  s.loop = &loop;
  s.started_ms = uv_now(&loop);
  if ((rc = start(&s, err, sizeof(err))) != 0) {
    shmb_log_error("cannot start: %s (%s)", err, shmb_err_name(rc));
    release(&s);
    uv_run(&loop, UV_RUN_NOWAIT); /* let closed handles finish */
    uv_loop_close(&loop);
    return SVC_EXIT_START;
  }
  if (host->running)
    host->running(&s, host->arg);
  uv_run(&loop, UV_RUN_DEFAULT);
  release(&s);
  uv_loop_close(&loop);
  shmb_log_info("stopped");
  return SVC_EXIT_OK;
}

void svc_stop(svc *s) {
  if (s->stopping)
    return;
  s->stopping = 1;
  shmb_log_info("stopping: %u client(s) connected", s->nclients);
  svc_listener_stop(s->listener);
  s->listener = NULL;
  svc_conn_close_all(s);
  for (size_t i = 0; i < s->reg->count; i++) {
    svc_flusher_stop(s->reg->sections[i]);
    svc_section_flush(s->reg->sections[i]);
  }
  if (s->host->stopping)
    s->host->stopping(s, s->host->arg);
}
