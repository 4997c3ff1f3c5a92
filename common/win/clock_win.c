/* Wall-clock time for log lines, Windows flavour (UTC, millisecond). */
#include <windows.h>

#include <stdio.h>

#include "../log.h"

void shmb__wallclock(char buf[32]) {
  SYSTEMTIME st;
  GetSystemTime(&st);
  snprintf(buf, 32, "%04u-%02u-%02u %02u:%02u:%02u.%03u", st.wYear, st.wMonth,
           st.wDay, st.wHour, st.wMinute, st.wSecond, st.wMilliseconds);
}
