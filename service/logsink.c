/*
 * Log sinks. Lines come from the loop thread and the accept thread, and the
 * file can change on reload, so the sink state sits behind a lock. The file
 * is opened for appending with share-read, so administrators can tail it.
 */
#include "logsink.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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

void svc_logsink_set_file(const char *path) {
  HANDLE h = NULL, old;
  wchar_t *wpath;
  DWORD e = 0;

  install();
  if (path && log_path && strcmp(path, log_path) == 0)
    return;
  if (path && (wpath = shmb__wide_from_utf8(path))) {
    h = CreateFileW(wpath, FILE_APPEND_DATA | SYNCHRONIZE, FILE_SHARE_READ,
                    NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    e = GetLastError();
    free(wpath);
    if (h == INVALID_HANDLE_VALUE)
      h = NULL;
  }
  AcquireSRWLockExclusive(&lock);
  old = log_file;
  log_file = h;
  free(log_path);
  log_path = h ? _strdup(path) : NULL;
  ReleaseSRWLockExclusive(&lock);
  if (old)
    CloseHandle(old);
  if (path && !h)
    shmb_log_error("cannot open log_file %s (Win32 error %lu); logging "
                   "without it", path, (unsigned long)e);
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
