/*
 * bench_throughput: opens per second with 1, 2, 4, 16 and 64 concurrent
 * clients, each a thread of this process with its own shmb_client, looping
 * shmb_open + shmb_close for a fixed time. Beside it, the same threads doing
 * the raw Win32 open + map + unmap + close on the object name: that is the
 * ceiling the kernel side (here Wine's wineserver) allows, since every broker
 * open also does exactly that work.
 *
 * Every client connects before the clock starts; a manual-reset event
 * releases all threads at once. Each configuration runs several times, the
 * runs going round all client counts in turn, and the table shows the
 * median run, the slowest and fastest runs, and the latency of single opens
 * under that load (p50/p99 over all threads' opens in all runs).
 *
 * Where the CPU went: with --wineserver-pid and --service-pid (Linux pids,
 * given by run.sh) the CPU time of the machine (/proc/stat), of the
 * wineserver and of the service (/proc/PID/stat) is read, through Wine's Z:
 * drive, around every run. Under Wine every handle, wait and pipe operation
 * is a request to the single-threaded wineserver, so its share of one core
 * says whether it, rather than shmbroker, sets the ceiling.
 *
 * Usage: bench_throughput [--pipe NAME] [--quick] [--section NAME]
 *                         [--seconds S] [--runs N]
 *                         [--wineserver-pid N] [--service-pid N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "wstr.h"

#define MAX_THREADS 64
#define MAX_SAMPLES (1u << 18) /* per thread per run; more are not kept */

typedef struct worker {
  const bench_opts *o;
  const char *section;
  const wchar_t *object;
  uint64_t size;
  int raw;
  shmb_client *c;
  HANDLE thread;
  long long ops;
  double *lat;
  size_t nlat;
} worker;

static HANDLE go;
static volatile LONG stop;

/* CPU time in clock ticks (USER_HZ, 100 a second): [0] the machine's busy
 * time summed over cores, [1] the machine's total, [2] the wineserver, [3]
 * the service, [4] this process (the clients). -1 where unknown. */
#define CPU_FIELDS 5
typedef struct cpu_sample {
  long long t[CPU_FIELDS];
} cpu_sample;

static const char *wineserver_pid, *service_pid;

static long long proc_ticks(const char *pid) {
  char path[64], buf[1024], *p;
  unsigned long long ut, st;
  size_t n;
  FILE *f;
  if (!pid)
    return -1;
  snprintf(path, sizeof(path), "Z:\\proc\\%s\\stat", pid);
  if (!(f = fopen(path, "r")))
    return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  /* Fields after the command name, which is in parentheses: state is the
   * 3rd field, utime the 14th and stime the 15th. */
  if (!(p = strrchr(buf, ')')) ||
      sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
             &ut, &st) != 2)
    return -1;
  return (long long)(ut + st);
}

static long long self_ticks(void) {
  FILETIME created, exited, kernel, user;
  ULARGE_INTEGER k, u;
  if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
    return -1;
  k.LowPart = kernel.dwLowDateTime;
  k.HighPart = kernel.dwHighDateTime;
  u.LowPart = user.dwLowDateTime;
  u.HighPart = user.dwHighDateTime;
  return (long long)((k.QuadPart + u.QuadPart) / 100000); /* 100 ns units */
}

static cpu_sample cpu_now(void) {
  cpu_sample c = {{-1, -1, -1, -1, -1}};
  unsigned long long v[8] = {0};
  FILE *f = fopen("Z:\\proc\\stat", "r");
  if (f) {
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
               &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
      long long total = 0;
      for (int i = 0; i < 8; i++)
        total += (long long)v[i];
      c.t[1] = total;
      c.t[0] = total - (long long)(v[3] + v[4]); /* less idle and iowait */
    }
    fclose(f);
  }
  c.t[2] = proc_ticks(wineserver_pid);
  c.t[3] = proc_ticks(service_pid);
  c.t[4] = self_ticks();
  return c;
}

static void cpu_add(cpu_sample *sum, cpu_sample a, cpu_sample b) {
  for (int i = 0; i < CPU_FIELDS; i++)
    sum->t[i] = (sum->t[i] < 0 || a.t[i] < 0 || b.t[i] < 0)
                    ? -1
                    : sum->t[i] + b.t[i] - a.t[i];
}

static void one_raw(worker *w) {
  HANDLE m = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, w->object);
  void *v = m ? MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, (SIZE_T)w->size) : NULL;
  if (!v) {
    fprintf(stderr, "bench: raw open failed (%lu)\n", GetLastError());
    exit(1);
  }
  UnmapViewOfFile(v);
  CloseHandle(m);
}

static void one_broker(worker *w) {
  shmb_section *s;
  bench_check(shmb_open(w->c, w->section, SHMB_ACCESS_READ_WRITE, &s),
              "shmb_open");
  shmb_close(s);
}

static DWORD WINAPI work(void *arg) {
  worker *w = arg;
  WaitForSingleObject(go, INFINITE);
  while (!stop) {
    int64_t t0 = bench_ticks();
    if (w->raw)
      one_raw(w);
    else
      one_broker(w);
    if (w->nlat < MAX_SAMPLES)
      w->lat[w->nlat++] = bench_us(bench_ticks() - t0);
    w->ops++;
  }
  return 0;
}

/* Share of the CPU in percent: busy cores x 100 for the machine (i = 0),
 * percent of one core for a process (i = 2, 3, 4); -1 when unknown. */
static double cpu_pct(const cpu_sample *c, int i) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  if (c->t[i] < 0 || c->t[1] <= 0)
    return -1;
  return 100.0 * (double)c->t[i] * si.dwNumberOfProcessors / (double)c->t[1];
}

/* A row of the CPU table (cpu[0] broker runs, cpu[1] raw runs), and its
 * "@ " line. */
static void cpu_row(char *row, size_t len, int n, const cpu_sample cpu[2]) {
  snprintf(row, len,
           "| %d | %.0f %% | %.0f %% | %.0f %% | %.2f | %.0f %% | %.0f %% | "
           "%.2f |",
           n, cpu_pct(&cpu[0], 4), cpu_pct(&cpu[0], 3), cpu_pct(&cpu[0], 2),
           cpu_pct(&cpu[0], 0) / 100.0, cpu_pct(&cpu[1], 4),
           cpu_pct(&cpu[1], 2), cpu_pct(&cpu[1], 0) / 100.0);
  printf("@ cpu.%d.wineserver=%.1f cpu.%d.service=%.1f cpu.%d.clients=%.1f "
         "cpu.%d.busy=%.2f cpu.raw.%d.wineserver=%.1f cpu.raw.%d.clients=%.1f "
         "cpu.raw.%d.busy=%.2f\n",
         n, cpu_pct(&cpu[0], 2), n, cpu_pct(&cpu[0], 3), n,
         cpu_pct(&cpu[0], 4), n, cpu_pct(&cpu[0], 0) / 100.0, n,
         cpu_pct(&cpu[1], 2), n, cpu_pct(&cpu[1], 4), n,
         cpu_pct(&cpu[1], 0) / 100.0);
}

/* One timed run with n threads; returns opens per second and appends every
 * open's latency to *all. */
static double run_once(worker *ws, int n, double seconds, double **all,
                       size_t *nall, cpu_sample *cpu) {
  int64_t t0, t1;
  long long ops = 0;
  cpu_sample c0, c1;
  stop = 0;
  ResetEvent(go);
  for (int i = 0; i < n; i++) {
    ws[i].ops = 0;
    ws[i].nlat = 0;
    ws[i].thread = CreateThread(NULL, 0, work, &ws[i], 0, NULL);
  }
  Sleep(50); /* let every thread reach the gate */
  c0 = cpu_now();
  t0 = bench_ticks();
  SetEvent(go);
  Sleep((DWORD)(seconds * 1000));
  InterlockedExchange(&stop, 1);
  t1 = bench_ticks();
  c1 = cpu_now();
  cpu_add(cpu, c0, c1);
  for (int i = 0; i < n; i++) {
    WaitForSingleObject(ws[i].thread, INFINITE);
    CloseHandle(ws[i].thread);
    ops += ws[i].ops;
    *all = realloc(*all, sizeof(double) * (*nall + ws[i].nlat));
    memcpy(*all + *nall, ws[i].lat, sizeof(double) * ws[i].nlat);
    *nall += ws[i].nlat;
  }
  return (double)ops / bench_seconds(t1 - t0);
}

/* What one row of the table gathers over all runs. */
typedef struct row {
  int n;
  double rate[2][32]; /* opens/s per run: [0] broker, [1] raw */
  double *lat;        /* every broker open's latency, µs */
  size_t nlat;
  cpu_sample cpu[2];
} row;

/* One run of a row: n clients connect, a broker run, a raw run, and they
 * disconnect again. */
static void run_row(const bench_opts *o, const shmb_open_info *info,
                    const wchar_t *object, double seconds, row *rw, int run) {
  static worker ws[MAX_THREADS];
  double *ignore = NULL;
  size_t nignore = 0;

  for (int i = 0; i < rw->n; i++) {
    if (!ws[i].lat)
      ws[i].lat = malloc(sizeof(double) * MAX_SAMPLES);
    ws[i] = (worker){o,    info->name, object, info->size, 0,
                     NULL, NULL,       0,      ws[i].lat,  0};
    ws[i].c = bench_connect_or_die(o);
  }
  rw->rate[0][run] =
      run_once(ws, rw->n, seconds, &rw->lat, &rw->nlat, &rw->cpu[0]);
  for (int i = 0; i < rw->n; i++)
    ws[i].raw = 1;
  rw->rate[1][run] =
      run_once(ws, rw->n, seconds, &ignore, &nignore, &rw->cpu[1]);
  free(ignore);
  for (int i = 0; i < rw->n; i++)
    shmb_disconnect(ws[i].c);
}

/* Prints a row of the throughput table; fills rate with the median runs'
 * opens/s ([0] broker, [1] raw). */
static void print_row(row *rw, int runs, double rate[2]) {
  bench_sort(rw->rate[0], (size_t)runs);
  bench_sort(rw->rate[1], (size_t)runs);
  bench_sort(rw->lat, rw->nlat);
  rate[0] = bench_pct(rw->rate[0], (size_t)runs, 50);
  rate[1] = bench_pct(rw->rate[1], (size_t)runs, 50);
  printf("| %d | %.0f | %.0f - %.0f | %.0f | %.1f | %.1f | %.0f | %.2f |\n",
         rw->n, rate[0], rw->rate[0][0], rw->rate[0][runs - 1], rate[0] / rw->n,
         bench_pct(rw->lat, rw->nlat, 50), bench_pct(rw->lat, rw->nlat, 99),
         rate[1], rate[0] / rate[1]);
  printf("@ tput.%d=%.0f tput.raw.%d=%.0f tput.%d.p99=%.1f\n", rw->n, rate[0],
         rw->n, rate[1], rw->n, bench_pct(rw->lat, rw->nlat, 99));
}

int main(int argc, char **argv) {
  static const int counts[] = {1, 2, 4, 16, 64};
  enum { NCOUNTS = sizeof(counts) / sizeof(counts[0]) };
  static row rows[NCOUNTS];
  bench_opts o;
  shmb_open_info info;
  shmb_client *c;
  wchar_t *object;
  double seconds, rate[NCOUNTS][2], best = 0;
  char cpu_rows[NCOUNTS][256];
  int runs, code;

  if (bench_parse_common(&argc, argv, &o, &code))
    return code;
  seconds = atof(bench_arg(argc, argv, "--seconds", o.quick ? "0.5" : "3"));
  runs = atoi(bench_arg(argc, argv, "--runs", o.quick ? "1" : "5"));
  wineserver_pid = bench_arg(argc, argv, "--wineserver-pid", NULL);
  service_pid = bench_arg(argc, argv, "--service-pid", NULL);
  if (runs < 1 || runs > 32 || seconds <= 0) {
    fprintf(stderr, "bench_throughput: bad --runs or --seconds\n");
    return 2;
  }
  c = bench_connect_or_die(&o);
  bench_check(shmb_lookup(c, bench_arg(argc, argv, "--section", "bench"),
                          SHMB_ACCESS_READ_WRITE, &info),
              "shmb_lookup");
  object = shmb__wide_from_utf8(info.object);
  go = CreateEventW(NULL, TRUE, FALSE, NULL);

  /* Runs go round all client counts in turn, so that a busy spell on the
   * machine lands on every row rather than on one. */
  for (int k = 0; k < NCOUNTS; k++)
    rows[k].n = counts[k];
  for (int run = 0; run < runs; run++)
    for (int k = 0; k < NCOUNTS; k++) {
      bench_note("throughput: run %d of %d, %d clients", run + 1, runs,
                 counts[k]);
      run_row(&o, &info, object, seconds, &rows[k], run);
    }

  printf("### Throughput (%d runs of %.1f s per row; opens of a %llu-byte "
         "section, read-write)\n\n",
         runs, seconds, (unsigned long long)info.size);
  printf("| clients | broker opens/s (median run) | min - max run | per "
         "client | open p50 µs | open p99 µs | raw Win32 opens/s | broker / "
         "raw |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int k = 0; k < NCOUNTS; k++) {
    print_row(&rows[k], runs, rate[k]);
    cpu_row(cpu_rows[k], sizeof(cpu_rows[k]), counts[k], rows[k].cpu);
    if (rate[k][0] > best)
      best = rate[k][0];
    free(rows[k].lat);
  }
  /* counts[2] is 4 clients, counts[4] is 64. */
  printf("\nFrom 1 to 4 clients: **%.2fx** (target: grows, > 1x: %s). 64 "
         "clients against the best row: **%.2f** (target: no collapse, "
         "taken as at least 0.5: %s).\n\n",
         rate[2][0] / rate[0][0],
         rate[2][0] > rate[0][0] ? "met" : "**missed**", rate[4][0] / best,
         rate[4][0] >= 0.5 * best ? "met" : "**missed**");
  printf("@ tput.scale4=%.3f tput.keep64=%.3f\n", rate[2][0] / rate[0][0],
         rate[4][0] / best);
  printf("Where the CPU went during those runs (all runs of a row together; "
         "-1 where a figure could not be read). Each process's share is of "
         "one core: the client threads (this process), the service, and the "
         "wineserver, which is single-threaded, so 100 %% is its ceiling. "
         "\"Machine\" counts busy cores of the whole machine, other "
         "tenants included.\n\n");
  printf("| clients | broker: client threads | broker: service | broker: "
         "wineserver | broker: machine, cores of %lu | raw: client threads "
         "| raw: wineserver | raw: machine |\n",
         (unsigned long)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS));
  printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int k = 0; k < NCOUNTS; k++)
    printf("%s\n", cpu_rows[k]);
  printf("\n");
  shmb_disconnect(c);
  free(object);
  return 0;
}
