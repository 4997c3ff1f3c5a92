/*
 * Logging for the service and the tools: one line per event, with time and
 * level, written whole so lines from two threads never interleave. Output
 * goes to stderr by default; the service adds sinks (Event Log, file) later
 * through shmb_log_set_sink.
 */
#ifndef SHMB_COMMON_LOG_H
#define SHMB_COMMON_LOG_H

#include <stdarg.h>

enum { SHMB_LOG_ERROR = 0, SHMB_LOG_WARN, SHMB_LOG_INFO, SHMB_LOG_DEBUG };

typedef void (*shmb_log_sink)(int level, const char *line, void *arg);

void shmb_log_set_level(int level);
int shmb_log_get_level(void);
/* Replaces the stderr sink; NULL restores it. Not thread-safe: call before
 * other threads log. */
void shmb_log_set_sink(shmb_log_sink sink, void *arg);
/* Parses "error", "warn", "info", "debug"; returns the level or -1. */
int shmb_log_level_parse(const char *name);
const char *shmb_log_level_name(int level);

#if defined(__MINGW32__)
/* Built with __USE_MINGW_ANSI_STDIO: C99 formats such as %zu and %llu. */
#define SHMB__PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__)
#define SHMB__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SHMB__PRINTF(a, b)
#endif

void shmb_log(int level, const char *fmt, ...) SHMB__PRINTF(2, 3);
void shmb_vlog(int level, const char *fmt, va_list ap) SHMB__PRINTF(2, 0);

/* Wall-clock time as "YYYY-MM-DD HH:MM:SS.mmm" (UTC); platform files. */
void shmb__wallclock(char buf[32]);

#define shmb_log_error(...) shmb_log(SHMB_LOG_ERROR, __VA_ARGS__)
#define shmb_log_warn(...) shmb_log(SHMB_LOG_WARN, __VA_ARGS__)
#define shmb_log_info(...) shmb_log(SHMB_LOG_INFO, __VA_ARGS__)
#define shmb_log_debug(...) shmb_log(SHMB_LOG_DEBUG, __VA_ARGS__)

#endif /* SHMB_COMMON_LOG_H */
