/* Wall-clock time for log lines, POSIX flavour. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "../log.h"

void shmb__wallclock(char buf[32]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  /* strftime bounds the date part (gcc cannot prove that "%04d" of a year
   * fits and fails the build under -Werror=format-truncation). */
  size_t n = strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(buf + n, 32 - n, ".%03u",
           (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}
