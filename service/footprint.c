/*
 * Process footprint. PagefileUsage is the commit charge, which Windows also
 * reports as PrivateUsage; Wine fills only the former (from the resident
 * anonymous memory), so that is the one read.
 */
#include "footprint.h"

#include <windows.h>

#include <psapi.h>

void svc_footprint(uint64_t *handles, uint64_t *private_kib) {
  PROCESS_MEMORY_COUNTERS_EX pmc;
  DWORD n = 0;
  GetProcessHandleCount(GetCurrentProcess(), &n);
  *handles = n;
  *private_kib = 0;
  if (GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&pmc,
                           sizeof(pmc)))
    *private_kib = pmc.PagefileUsage / 1024;
}
