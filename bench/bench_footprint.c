/*
 * bench_footprint: the service's own memory and handles while it holds a
 * given set of sections (whatever its config declares; bench/run.sh restarts
 * it with 0, 100 and 1,000) and 0, 64 and 256 idle clients, whose
 * connections this process opens (HELLO done) and holds.
 *
 * Figures come from the service process as Windows reports it:
 * PROCESS_MEMORY_COUNTERS_EX.PrivateUsage and WorkingSetSize from
 * GetProcessMemoryInfo, and GetProcessHandleCount, on the pid that STATUS
 * reports. Wine 8 leaves two of them empty for another process, so each has
 * a fallback that Windows would agree with:
 *   - PrivateUsage is 0; PagefileUsage, which Windows defines as the same
 *     commit charge, is filled (Wine takes it from Linux's RssAnon +
 *     VmSwap for that process).
 *   - GetProcessHandleCount says 0; the handles owned by the pid are counted
 *     in NtQuerySystemInformation(SystemExtendedHandleInformation), which
 *     Wine answers from the wineserver's handle tables.
 * Each "@ fp" line says which source it used. With --unix-pid the Linux view
 * of the same process is read at the same moment from /proc (through Wine's
 * Z: drive): RssAnon, RssFile and RssShmem.
 *
 * Prints one "@ fp ..." line per client count; run.sh makes the table. The
 * line also records what the service says of itself in STATUS (handles,
 * private_kib; -1 from a service that does not report them).
 *
 * Usage: bench_footprint [--pipe NAME] [--clients 0,64,256] [--unix-pid N]
 *                        [--settle-ms MS]
 */
#include "bench_util.h" /* windows.h first: psapi.h needs its types */

#include <psapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winternl.h>

#define MAX_IDLE 4096
#define SYSTEM_EXTENDED_HANDLE_INFORMATION 64 /* not in mingw's enum */
#define STATUS_INFO_LENGTH_MISMATCH_ ((NTSTATUS)0xC0000004L)

typedef struct handle_entry {
  PVOID object;
  ULONG_PTR pid;
  ULONG_PTR handle;
  ULONG access;
  USHORT backtrace, type;
  ULONG attributes, reserved;
} handle_entry;

typedef struct handle_info {
  ULONG_PTR count, reserved;
  handle_entry h[1];
} handle_info;

/* Handles owned by pid in the system's handle list, or -1. */
static long long count_handles(DWORD pid) {
  ULONG len = 1u << 20;
  handle_info *hi = NULL;
  NTSTATUS st;
  long long n = 0;
  for (;;) {
    free(hi);
    if (!(hi = malloc(len)))
      return -1;
    st = NtQuerySystemInformation(
        (SYSTEM_INFORMATION_CLASS)SYSTEM_EXTENDED_HANDLE_INFORMATION, hi, len,
        &len);
    if (st != STATUS_INFO_LENGTH_MISMATCH_)
      break;
    len *= 2;
  }
  if (st < 0) {
    free(hi);
    return -1;
  }
  for (ULONG_PTR i = 0; i < hi->count; i++)
    n += hi->h[i].pid == pid;
  free(hi);
  return n;
}

/* kB value of "Key:" in a /proc status file, or -1. */
static long long proc_status_kb(const char *unix_pid, const char *key) {
  char path[64], line[256];
  long long v = -1;
  size_t klen = strlen(key);
  FILE *f;
  if (!unix_pid)
    return -1;
  snprintf(path, sizeof(path), "Z:\\proc\\%s\\status", unix_pid);
  if (!(f = fopen(path, "r")))
    return -1;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, key, klen) == 0 && line[klen] == ':')
      v = strtoll(line + klen + 1, NULL, 10);
  fclose(f);
  return v;
}

int main(int argc, char **argv) {
  static shmb_client *idle[MAX_IDLE];
  bench_opts o;
  shmb_client *c;
  const char *list, *unix_pid;
  HANDLE proc;
  long long pid, sections;
  int held = 0, settle, code;

  if (bench_parse_common(&argc, argv, &o, &code))
    return code;
  list = bench_arg(argc, argv, "--clients", "0,64,256");
  unix_pid = bench_arg(argc, argv, "--unix-pid", NULL);
  settle = atoi(bench_arg(argc, argv, "--settle-ms", "1000"));
  c = bench_connect_or_die(&o);
  pid = bench_status_value(c, "pid");
  sections = bench_status_value(c, "sections");
  proc = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE,
                     (DWORD)pid);
  if (!proc) {
    fprintf(stderr, "bench: OpenProcess(%lld) failed (%lu)\n", pid,
            GetLastError());
    return 1;
  }

  for (const char *p = list; *p;) {
    PROCESS_MEMORY_COUNTERS_EX m;
    DWORD handles = 0;
    long long clients;
    int want = atoi(p);
    if (want < 0 || want > MAX_IDLE) {
      fprintf(stderr, "bench_footprint: bad client count %d\n", want);
      return 2;
    }
    while (held < want)
      idle[held++] = bench_connect_or_die(&o);
    memset(&m, 0, sizeof(m));
    m.cb = sizeof(m);
    Sleep((DWORD)settle); /* let the service finish accepting */
    clients = bench_status_value(c, "clients");
    if (!GetProcessMemoryInfo(proc, (PROCESS_MEMORY_COUNTERS *)&m, sizeof(m)) ||
        !GetProcessHandleCount(proc, &handles)) {
      fprintf(stderr, "bench: process counters failed (%lu)\n", GetLastError());
      return 1;
    }
    /* clients counts this process's own control connection too. */
    printf(
        "@ fp sections=%lld clients=%d seen=%lld private=%llu "
        "private_src=%s ws=%llu handles=%lld handles_src=%s "
        "rssanon_kb=%lld rssfile_kb=%lld rssshmem_kb=%lld "
        "status_handles=%lld status_private_kib=%lld\n",
        sections, want, clients - 1,
        (unsigned long long)(m.PrivateUsage ? m.PrivateUsage : m.PagefileUsage),
        m.PrivateUsage ? "PrivateUsage" : "PagefileUsage",
        (unsigned long long)m.WorkingSetSize,
        handles ? (long long)handles : count_handles((DWORD)pid),
        handles ? "GetProcessHandleCount" : "SystemExtendedHandleInformation",
        proc_status_kb(unix_pid, "RssAnon"),
        proc_status_kb(unix_pid, "RssFile"),
        proc_status_kb(unix_pid, "RssShmem"), bench_status_value(c, "handles"),
        bench_status_value(c, "private_kib"));
    bench_note("footprint: %lld sections, %d idle clients", sections, want);
    p = strchr(p, ',');
    p = p ? p + 1 : "";
  }
  for (int i = 0; i < held; i++)
    shmb_disconnect(idle[i]);
  shmb_disconnect(c);
  CloseHandle(proc);
  return 0;
}
