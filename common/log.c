/*
 * Line-oriented logging. Each line is formatted into one buffer and handed
 * to the sink in one call, so concurrent threads never interleave halves of
 * lines; the level filter is a plain int because it is set once at start
 * (and on reload, from the loop thread).
 */
#include "log.h"

#include <stdio.h>
#include <string.h>

static int log_level = SHMB_LOG_INFO;
static shmb_log_sink log_sink;
static void *log_sink_arg;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void shmb_log_set_level(int level) {
  if (level >= SHMB_LOG_ERROR && level <= SHMB_LOG_DEBUG)
    log_level = level;
}

int shmb_log_get_level(void) { return log_level; }

void shmb_log_set_sink(shmb_log_sink sink, void *arg) {
  log_sink = sink;
  log_sink_arg = arg;
}

int shmb_log_level_parse(const char *name) {
  for (int i = 0; i <= SHMB_LOG_DEBUG; i++)
    if (strcmp(name, level_names[i]) == 0)
      return i;
  return -1;
}

const char *shmb_log_level_name(int level) {
  if (level < SHMB_LOG_ERROR || level > SHMB_LOG_DEBUG)
    return "?";
  return level_names[level];
}

void shmb_vlog(int level, const char *fmt, va_list ap) {
  char line[1024];
  char when[32];
  size_t n;
  int rc;

  if (level < SHMB_LOG_ERROR || level > log_level)
    return; /* the first test also keeps level_names[] in bounds */
  shmb__wallclock(when);
  rc = snprintf(line, sizeof(line), "%s %-5s ", when, level_names[level]);
  if (rc < 0)
    return;
  /* Leave room for the newline that the stderr sink appends. */
  vsnprintf(line + rc, sizeof(line) - 1 - (size_t)rc, fmt, ap);
  if (log_sink) {
    log_sink(level, line, log_sink_arg);
    return;
  }
  n = strlen(line);
  line[n++] = '\n';
  fwrite(line, 1, n, stderr);
  fflush(stderr);
}

void shmb_log(int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  shmb_vlog(level, fmt, ap);
  va_end(ap);
}
