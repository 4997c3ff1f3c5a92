/*
 * The benchmarks' shared helpers (see bench_util.h). Percentiles use the
 * nearest-rank definition so that every figure printed is a latency that was
 * actually measured, never an interpolation between two.
 */
#include "bench_util.h"

#include <sddl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static LARGE_INTEGER freq;

int64_t bench_ticks(void) {
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  return t.QuadPart;
}

static double ticks_per_second(void) {
  if (freq.QuadPart == 0)
    QueryPerformanceFrequency(&freq);
  return (double)freq.QuadPart;
}

double bench_us(int64_t ticks) {
  return (double)ticks * 1e6 / ticks_per_second();
}
double bench_seconds(int64_t ticks) {
  return (double)ticks / ticks_per_second();
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void bench_sort(double *v, size_t n) { qsort(v, n, sizeof(*v), cmp_double); }

double bench_pct(const double *sorted, size_t n, double p) {
  size_t rank;
  if (n == 0)
    return 0;
  rank = (size_t)(p / 100.0 * (double)n + 0.999999); /* ceil, 1-based */
  if (rank < 1)
    rank = 1;
  if (rank > n)
    rank = n;
  return sorted[rank - 1];
}

void bench_latency_header(void) {
  printf("| operation | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs |\n");
  printf("|---|---:|---:|---:|---:|---:|\n");
}

double bench_latency_row(const char *label, double *v, size_t n) {
  bench_sort(v, n);
  printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", label,
         bench_pct(v, n, 50), bench_pct(v, n, 90), bench_pct(v, n, 99),
         bench_pct(v, n, 99.9), v[n - 1]);
  return bench_pct(v, n, 50);
}

const char *bench_arg(int argc, char **argv, const char *name,
                      const char *def) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return argv[i + 1];
  return def;
}

char *bench_user_sid(void) {
  HANDLE token;
  BYTE buf[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  DWORD len;
  LPSTR s = NULL;
  char *copy;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
    return NULL;
  if (!GetTokenInformation(token, TokenUser, buf, sizeof(buf), &len) ||
      !ConvertSidToStringSidA(((TOKEN_USER *)buf)->User.Sid, &s))
    s = NULL;
  CloseHandle(token);
  copy = s ? _strdup(s) : NULL;
  LocalFree(s);
  return copy;
}

static int whoami(void) {
  char *sid = bench_user_sid();
  if (!sid)
    return 1;
  printf("%s\n", sid);
  free(sid);
  return 0;
}

int bench_parse_common(int *argc, char **argv, bench_opts *o, int *exit_code) {
  int out = 1;
  memset(o, 0, sizeof(*o));
  for (int i = 1; i < *argc; i++) {
    if (strcmp(argv[i], "--whoami") == 0) {
      *exit_code = whoami();
      return 1;
    } else if (strcmp(argv[i], "--quick") == 0) {
      o->quick = 1;
    } else if (strcmp(argv[i], "--pipe") == 0 && i + 1 < *argc) {
      o->pipe = argv[++i];
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = NULL;
  o->connect.pipe_name = o->pipe;
  /* Generous: 64 clients connecting at once queue behind one another. */
  o->connect.timeout_ms = 30000;
  return 0;
}

void bench_check(int rc, const char *what) {
  if (rc == 0)
    return;
  fprintf(stderr, "bench: %s: %s (%s)\n", what, shmb_strerror(rc),
          shmb_err_name(rc));
  exit(1);
}

shmb_client *bench_connect_or_die(const bench_opts *o) {
  shmb_client *c = NULL;
  bench_check(shmb_connect(&o->connect, &c), "shmb_connect");
  return c;
}

long long bench_status_value(shmb_client *c, const char *key) {
  shmb_status_entry *e;
  size_t n;
  long long v = -1;
  bench_check(shmb_status(c, &e, &n), "shmb_status");
  for (size_t i = 0; i < n; i++)
    if (strcmp(e[i].key, key) == 0)
      v = strtoll(e[i].value, NULL, 10);
  shmb_free_status(e, n);
  return v;
}

void bench_note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("[bench] ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  fflush(stderr);
  va_end(ap);
}
