/*
 * Log sinks. Lines come from the loop thread and the accept thread, and the
 * file can change on reload, so the sink state sits behind a lock. The file
 * is opened for appending with share-read, so administrators can tail it;
 * it is created with the service's own file descriptor, an existing one
 * is used only if nobody else can write it, and no folder on its path may
 * be writable by others (design.md, security rule 8).
 */
#include "logsink.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aclapi.h>

#include "errors.h"
#include "log.h"
#include "own_sd.h"
#include "sid.h"
#include "trustsd.h"
#include "wstr.h"

/* The message of messages.mc whose text is just the insertion string. */
#define SVC_EVENT_LINE 1

static SRWLOCK lock = SRWLOCK_INIT;
static HANDLE event_source;
static HANDLE log_file;
static char *log_path;
static int installed;

static WORD event_type(int level) {
  switch (level) {
  case SHMB_LOG_ERROR:
    return EVENTLOG_ERROR_TYPE;
  case SHMB_LOG_WARN:
    return EVENTLOG_WARNING_TYPE;
  default:
    return EVENTLOG_INFORMATION_TYPE;
  }
}

static void sink(int level, const char *line, void *arg) {
  DWORD n;
  AcquireSRWLockShared(&lock);
  if (event_source) {
    const char *strings[1] = {line};
    ReportEventA(event_source, event_type(level), 0, SVC_EVENT_LINE, NULL, 1,
                 0, strings, NULL);
  } else {
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
  }
  if (log_file) {
    WriteFile(log_file, line, (DWORD)strlen(line), &n, NULL);
    WriteFile(log_file, "\r\n", 2, &n, NULL);
  }
  ReleaseSRWLockShared(&lock);
}

static void install(void) {
  if (!installed) {
    shmb_log_set_sink(sink, NULL);
    installed = 1;
  }
}

void svc_logsink_use_eventlog(void) {
  install();
  AcquireSRWLockExclusive(&lock);
  if (!event_source)
    event_source = RegisterEventSourceW(NULL, L"shmbroker");
  ReleaseSRWLockExclusive(&lock);
}

/* An existing log file is written only when it is ours to trust: one name,
 * no reparse point, and nobody but SYSTEM, Administrators and the service
 * can write it (it will hold SIDs, pids and object names at debug). */
static int existing_trusted(HANDLE h, const char *path, char *why,
                            size_t whylen) {
  int rc = svc_file_identity_check(h, path, why, whylen);
  return rc ? rc
            : svc_trust_check_handle(h, path, SVC_FILE_DANGEROUS, why, whylen);
}

/* Opens (or creates, with the service's file descriptor: SYSTEM,
 * Administrators and the service only) the log file for appending. */
static HANDLE open_log(const char *path, char *why, size_t whylen) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  wchar_t *wpath = shmb__wide_from_utf8(path);
  HANDLE h;
  DWORD e;

  /* Whoever may replace a folder on the way could plant the file. */
  if (wpath && svc_trust_check_folders(path, why, whylen) != 0) {
    free(wpath);
    return NULL;
  }
  if (!wpath || svc_file_sd(&sa.lpSecurityDescriptor, why, whylen) != 0) {
    free(wpath);
    shmb__fail(why, whylen, SHMB_ENOMEM, "out of memory");
    return NULL;
  }
  h = CreateFileW(wpath,
                  FILE_APPEND_DATA | SYNCHRONIZE | READ_CONTROL,
                  FILE_SHARE_READ, &sa, OPEN_ALWAYS,
                  FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  e = GetLastError();
  free(wpath);
  if (h == INVALID_HANDLE_VALUE) {
    LocalFree(sa.lpSecurityDescriptor);
    shmb__fail(why, whylen, SHMB_EIO, "Win32 error %lu", (unsigned long)e);
    return NULL;
  }
  if (e == ERROR_ALREADY_EXISTS && existing_trusted(h, path, why, whylen)) {
    CloseHandle(h);
    h = NULL;
  }
  LocalFree(sa.lpSecurityDescriptor);
  return h;
}

void svc_logsink_set_file(const char *path) {
  HANDLE h = NULL, old;
  char why[600] = "";

  install();
  if (path && log_path && strcmp(path, log_path) == 0)
    return;
  if (path)
    h = open_log(path, why, sizeof(why));
  AcquireSRWLockExclusive(&lock);
  old = log_file;
  log_file = h;
  free(log_path);
  log_path = h ? _strdup(path) : NULL;
  ReleaseSRWLockExclusive(&lock);
  if (old)
    CloseHandle(old);
  if (path && !h)
    shmb_log_error("not logging to log_file %s: %s", path, why);
}

void svc_logsink_close(void) {
  AcquireSRWLockExclusive(&lock);
  if (log_file)
    CloseHandle(log_file);
  if (event_source)
    DeregisterEventSource(event_source);
  log_file = event_source = NULL;
  free(log_path);
  log_path = NULL;
  ReleaseSRWLockExclusive(&lock);
}
