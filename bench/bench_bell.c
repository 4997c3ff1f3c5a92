/*
 * bench_bell: the section doorbell (notify = yes), process to process.
 *
 * Wake-up latency: this process and a child of it bounce rings between two
 * doorbell sections (ring A, wait for B; the child waits for A, rings B);
 * a round trip halved is one wake-up. The floor is the same ping-pong over
 * two bare named auto-reset events (SetEvent / WaitForSingleObject), which
 * is what any event-based doorbell costs at least. Under Wine both are
 * wineserver round trips (docs/channels.md): only the ratio carries.
 *
 * Ring cost with nobody waiting: shmb_section_notify in a loop, against an
 * atomic increment (the floor: the bump every ring makes) and an
 * unconditional SetEvent (what a doorbell that always signals would pay).
 *
 *   bench_bell --pipe PIPE [--quick] [--a NAME] [--b NAME]
 *   (the sections default to bell-a and bell-b: notify = yes, read-write)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define CHILD_TIMEOUT_MS 10000

static shmb_section *open_bell(const bench_opts *o, const char *name) {
  shmb_client *c = bench_connect_or_die(o);
  shmb_section *s;
  bench_check(shmb_open(c, name, SHMB_ACCESS_READ_WRITE, &s), name);
  shmb_disconnect(c);
  return s;
}

/* One side of the doorbell ping-pong: n rounds; first rings first. */
/* seen: the waited counter's value before either side started (taken by
 * the parent, so that a ring that comes before the child reads its
 * counter is not lost). */
static void bell_side(shmb_section *ring, shmb_section *wait, int n,
                      int first, double *rt_us, uint64_t seen) {
  for (int i = 0; i < n; i++) {
    int64_t t0 = bench_ticks();
    if (first)
      bench_check(shmb_section_notify(ring), "notify");
    bench_check(shmb_section_wait(wait, &seen, CHILD_TIMEOUT_MS), "wait");
    if (!first)
      bench_check(shmb_section_notify(ring), "notify");
    if (rt_us)
      rt_us[i] = bench_us(bench_ticks() - t0);
  }
}

/* The floor: the same bounce over two named auto-reset events. */
static void event_side(HANDLE ring, HANDLE wait, int n, int first,
                       double *rt_us) {
  for (int i = 0; i < n; i++) {
    int64_t t0 = bench_ticks();
    if (first)
      SetEvent(ring);
    if (WaitForSingleObject(wait, CHILD_TIMEOUT_MS) != WAIT_OBJECT_0) {
      fprintf(stderr, "bench: event ping-pong timed out\n");
      exit(1);
    }
    if (!first)
      SetEvent(ring);
    if (rt_us)
      rt_us[i] = bench_us(bench_ticks() - t0);
  }
}

static HANDLE named_event(const char *tag, int create) {
  char name[96];
  snprintf(name, sizeof(name), "Local\\shmb-bench-bell-%s", tag);
  return create ? CreateEventA(NULL, FALSE, FALSE, name)
                : OpenEventA(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, name);
}

/* Starts this program again as the other side of a ping-pong. */
static HANDLE spawn(const char *mode, const bench_opts *o, const char *a,
                    const char *b, int n, const char *tag, uint64_t seen) {
  char exe[MAX_PATH], cmd[1024];
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof(si));
  si.cb = sizeof(si);
  GetModuleFileNameA(NULL, exe, sizeof(exe));
  snprintf(cmd, sizeof(cmd), "\"%s\" --child %s --pipe %s --a %s --b %s "
           "--n %d --tag %s --seen %" PRIu64, exe, mode,
           o->pipe ? o->pipe : "\\\\.\\pipe\\shmbroker", a, b, n, tag, seen);
  if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
    fprintf(stderr, "bench: cannot start the child (%lu)\n",
            (unsigned long)GetLastError());
    exit(1);
  }
  CloseHandle(pi.hThread);
  return pi.hProcess;
}

static int child(const bench_opts *o, const char *mode, const char *a,
                 const char *b, int n, const char *tag, uint64_t seen) {
  if (strcmp(mode, "bell") == 0) {
    shmb_section *sa = open_bell(o, a), *sb = open_bell(o, b);
    bell_side(sb, sa, n, 0, NULL, seen);
    shmb_close(sa);
    shmb_close(sb);
  } else {
    char ta[64], tb[64];
    snprintf(ta, sizeof(ta), "%s-a", tag);
    snprintf(tb, sizeof(tb), "%s-b", tag);
    HANDLE ea = named_event(ta, 0), eb = named_event(tb, 0);
    if (!ea || !eb)
      return 1;
    event_side(eb, ea, n, 0, NULL);
  }
  return 0;
}

static void wait_child(HANDLE p) {
  DWORD code = 1;
  WaitForSingleObject(p, INFINITE);
  GetExitCodeProcess(p, &code);
  CloseHandle(p);
  if (code != 0) {
    fprintf(stderr, "bench: the child exited %lu\n", (unsigned long)code);
    exit(1);
  }
}

/* Halves round trips into one-way wake-ups and prints the row. */
static double wake_row(const char *label, double *rt, int n) {
  for (int i = 0; i < n; i++)
    rt[i] /= 2;
  return bench_latency_row(label, rt, (size_t)n);
}

static void wakeups(const bench_opts *o, const char *a, const char *b, int n) {
  double *rt = calloc((size_t)n, sizeof(*rt));
  char tag[32], ta[64], tb[64];
  double bell, floor;
  HANDLE child_p, ea, eb;
  shmb_section *sa = open_bell(o, a), *sb = open_bell(o, b);
  uint64_t seen_a, seen_b;

  bench_check(shmb_section_counter(sa, &seen_a), "counter");
  bench_check(shmb_section_counter(sb, &seen_b), "counter");
  snprintf(tag, sizeof(tag), "%lu", (unsigned long)GetCurrentProcessId());
  child_p = spawn("bell", o, a, b, n, tag, seen_a);
  bell_side(sa, sb, n, 1, rt, seen_b);
  wait_child(child_p);
  printf("### Wake-up latency, process to process (%d round trips, halved), "
         "us\n\n", n);
  bench_latency_header();
  bell = wake_row("doorbell (shmb_section_notify / shmb_section_wait)", rt,
                  n);
  snprintf(ta, sizeof(ta), "%s-a", tag);
  snprintf(tb, sizeof(tb), "%s-b", tag);
  ea = named_event(ta, 1);
  eb = named_event(tb, 1);
  child_p = spawn("event", o, a, b, n, tag, 0);
  event_side(ea, eb, n, 1, rt);
  wait_child(child_p);
  floor = wake_row("floor: bare SetEvent / WaitForSingleObject", rt, n);
  printf("\nDoorbell median %.1f us, floor %.1f us: %.2fx the floor.\n\n",
         bell, floor, bell / floor);
  printf("@ bell_wake_us=%.1f bell_wake_floor_us=%.1f bell_wake_ratio=%.3f\n",
         bell, floor, bell / floor);
  CloseHandle(ea);
  CloseHandle(eb);
  shmb_close(sa);
  shmb_close(sb);
  free(rt);
}

static double ns_per(int64_t ticks, long n) {
  return bench_us(ticks) * 1000.0 / (double)n;
}

static void quiet_rings(const bench_opts *o, const char *a, long n) {
  shmb_section *s = open_bell(o, a);
  volatile int64_t counter = 0;
  HANDLE ev = CreateEventA(NULL, FALSE, FALSE, NULL);
  int64_t t0;
  double ring, inc, set;

  bench_check(shmb_section_notify(s), "notify"); /* attach outside timing */
  t0 = bench_ticks();
  for (long i = 0; i < n; i++)
    bench_check(shmb_section_notify(s), "notify");
  ring = ns_per(bench_ticks() - t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n; i++)
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
  inc = ns_per(bench_ticks() - t0, n);
  t0 = bench_ticks();
  for (long i = 0; i < n / 100; i++)
    SetEvent(ev);
  set = ns_per(bench_ticks() - t0, n / 100);
  printf("### A ring with nobody waiting (%ld rings), ns per ring\n\n", n);
  printf("| what | ns |\n|---|---:|\n");
  printf("| shmb_section_notify, no waiter registered | %.1f |\n", ring);
  printf("| floor: atomic increment (the bump itself) | %.1f |\n", inc);
  printf("| an unconditional SetEvent (%ld calls) | %.1f |\n\n", n / 100,
         set);
  printf("@ bell_quiet_ns=%.1f bell_quiet_inc_ns=%.1f bell_setevent_ns=%.1f\n",
         ring, inc, set);
  CloseHandle(ev);
  shmb_close(s);
}

int main(int argc, char **argv) {
  bench_opts o;
  int code;
  const char *a, *b, *mode;

  if (bench_parse_common(&argc, argv, &o, &code))
    return code;
  a = bench_arg(argc, argv, "--a", "bell-a");
  b = bench_arg(argc, argv, "--b", "bell-b");
  if ((mode = bench_arg(argc, argv, "--child", NULL)))
    return child(&o, mode, a, b, atoi(bench_arg(argc, argv, "--n", "1")),
                 bench_arg(argc, argv, "--tag", "x"),
                 strtoull(bench_arg(argc, argv, "--seen", "0"), NULL, 10));
  wakeups(&o, a, b, o.quick ? 200 : 5000);
  quiet_rings(&o, a, o.quick ? 100000 : 2000000);
  return 0;
}
