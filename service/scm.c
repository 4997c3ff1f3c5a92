/*
 * The service control manager's side of shmbrokerd.
 *
 * ServiceMain runs the service core on its own thread with a libuv loop.
 * START_PENDING is reported with a checkpoint per section created, so the
 * SCM sees progress on a large config; RUNNING once the pipe listens.
 * STOP, SHUTDOWN and PRESHUTDOWN wake the loop to stop (clients are
 * disconnected, file-backed sections flushed); PARAMCHANGE wakes it to
 * reload. The handler runs on the dispatcher thread, so it only reports
 * STOP_PENDING and posts to the loop through uv_async handles.
 *
 * A start that fails (the config does not load, a section or the pipe cannot
 * be had) ends in STOPPED with ERROR_SERVICE_SPECIFIC_ERROR and our exit
 * code (1 config, 3 start); the reason is in the Event Log and log_file.
 */
#include "scm.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "log.h"
#include "logsink.h"
#include "svc.h"
#include "wstr.h"

#define START_WAIT_HINT_MS 10000
#define STOP_WAIT_HINT_MS 30000

typedef struct scm_ctx {
  SERVICE_STATUS_HANDLE handle;
  SERVICE_STATUS status;
  SRWLOCK lock;         /* status is reported from two threads */
  uv_async_t stop_req;  /* valid while running */
  uv_async_t reload_req;
  int running;
  const char *stop_why; /* "stop" or "shutdown" */
  svc *s;
} scm_ctx;

static scm_ctx ctx = {.lock = SRWLOCK_INIT};
static const char *config_path;

static void report(DWORD state, DWORD exit_code, DWORD wait_hint) {
  AcquireSRWLockExclusive(&ctx.lock);
  ctx.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  ctx.status.dwCurrentState = state;
  ctx.status.dwControlsAccepted =
      state == SERVICE_RUNNING
          ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN |
                SERVICE_ACCEPT_PRESHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE
          : 0;
  ctx.status.dwWin32ExitCode =
      exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
  ctx.status.dwServiceSpecificExitCode = exit_code;
  ctx.status.dwWaitHint = wait_hint;
  if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
    ctx.status.dwCheckPoint++;
  else
    ctx.status.dwCheckPoint = 0;
  SetServiceStatus(ctx.handle, &ctx.status);
  ReleaseSRWLockExclusive(&ctx.lock);
}

static DWORD WINAPI on_control(DWORD control, DWORD type, void *data,
                               void *arg) {
  switch (control) {
  case SERVICE_CONTROL_STOP:
  case SERVICE_CONTROL_SHUTDOWN:
  case SERVICE_CONTROL_PRESHUTDOWN:
    report(SERVICE_STOP_PENDING, 0, STOP_WAIT_HINT_MS);
    AcquireSRWLockExclusive(&ctx.lock);
    if (!ctx.stop_why)
      ctx.stop_why = control == SERVICE_CONTROL_STOP ? "stop" : "shutdown";
    if (ctx.running)
      uv_async_send(&ctx.stop_req);
    ReleaseSRWLockExclusive(&ctx.lock);
    return NO_ERROR;
  case SERVICE_CONTROL_PARAMCHANGE:
    AcquireSRWLockShared(&ctx.lock);
    if (ctx.running)
      uv_async_send(&ctx.reload_req);
    ReleaseSRWLockShared(&ctx.lock);
    return NO_ERROR;
  case SERVICE_CONTROL_INTERROGATE:
    return NO_ERROR;
  default:
    return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

static void on_stop_req(uv_async_t *h) {
  const char *why;
  AcquireSRWLockShared(&ctx.lock);
  why = ctx.stop_why ? ctx.stop_why : "stop";
  ReleaseSRWLockShared(&ctx.lock);
  svc_stop(ctx.s, why);
}

static void on_reload_req(uv_async_t *h) {
  svc_reload_from(ctx.s, "the service control manager (PARAMCHANGE)");
}

static void host_progress(void *arg) {
  report(SERVICE_START_PENDING, 0, START_WAIT_HINT_MS);
}

static void host_running(svc *s, void *arg) {
  ctx.s = s;
  uv_async_init(s->loop, &ctx.stop_req, on_stop_req);
  uv_async_init(s->loop, &ctx.reload_req, on_reload_req);
  AcquireSRWLockExclusive(&ctx.lock);
  ctx.running = 1;
  ReleaseSRWLockExclusive(&ctx.lock);
  report(SERVICE_RUNNING, 0, 0);
}

static void host_stopping(svc *s, void *arg) {
  AcquireSRWLockExclusive(&ctx.lock);
  ctx.running = 0;
  ReleaseSRWLockExclusive(&ctx.lock);
  uv_close((uv_handle_t *)&ctx.stop_req, NULL);
  uv_close((uv_handle_t *)&ctx.reload_req, NULL);
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv) {
  static const svc_host host = {NULL, host_progress, host_running,
                                host_stopping, 0};
  int rc;

  ctx.handle = RegisterServiceCtrlHandlerExW(argc ? argv[0] : L"shmbroker",
                                             on_control, NULL);
  if (!ctx.handle) {
    shmb_log_error("RegisterServiceCtrlHandlerEx failed (Win32 error %lu)",
                   (unsigned long)GetLastError());
    return;
  }
  report(SERVICE_START_PENDING, 0, START_WAIT_HINT_MS);
  rc = svc_run(config_path, &host);
  report(SERVICE_STOPPED, (DWORD)rc, 0);
}

int svc_scm_main(const char *path) {
  SERVICE_TABLE_ENTRYW table[] = {{L"shmbroker", service_main}, {NULL, NULL}};
  config_path = path;
  svc_logsink_use_eventlog();
  if (!StartServiceCtrlDispatcherW(table)) {
    DWORD e = GetLastError();
    svc_logsink_close();
    if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      fprintf(stderr, "shmbrokerd: not started by the service control "
                      "manager; install it with sc.exe, or run it in the "
                      "foreground with --console\n");
      return SVC_EXIT_USAGE;
    }
    fprintf(stderr, "shmbrokerd: StartServiceCtrlDispatcher failed (Win32 "
                    "error %lu)\n", (unsigned long)e);
    return SVC_EXIT_START;
  }
  svc_logsink_close();
  return SVC_EXIT_OK;
}
