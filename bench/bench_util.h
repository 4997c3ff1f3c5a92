/*
 * Shared pieces of the benchmarks: the clock (QueryPerformanceCounter),
 * sample statistics (median and nearest-rank percentiles), the options every
 * bench takes, and the two output channels. Every bench prints Markdown for
 * docs/performance.md on stdout, and machine-readable results on lines that
 * start with "@ " (key=value pairs) which bench/run.sh picks out for the
 * summary and strips from the document.
 */
#ifndef SHMB_BENCH_UTIL_H
#define SHMB_BENCH_UTIL_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

#include "shmbroker.h"

/* Options shared by all benches:
 *   --pipe NAME     the service's control pipe (default \\.\pipe\shmbroker)
 *   --quick         far fewer iterations: a smoke run, not a measurement
 *   --whoami        print the SID of this process's user and exit (run.sh
 *                   writes it into the generated configs and expects it as
 *                   the server account, since under Wine the service runs as
 *                   that user) */
typedef struct bench_opts {
  const char *pipe;
  int quick;
  shmb_connect_options connect;
} bench_opts;

/* Parses the shared options, leaving the others in place (argc/argv are
 * compacted). Returns 1 when the caller should exit with *exit_code. */
int bench_parse_common(int *argc, char **argv, bench_opts *o, int *exit_code);

/* Value of "--name VALUE" among argv, or def. */
const char *bench_arg(int argc, char **argv, const char *name, const char *def);

/* The clock. */
int64_t bench_ticks(void);
double bench_us(int64_t ticks); /* ticks to microseconds */
double bench_seconds(int64_t ticks);

/* Statistics over a sample (sorted in place). p is 0..100; nearest rank. */
void bench_sort(double *v, size_t n);
double bench_pct(const double *sorted, size_t n, double p);

/* Prints "| label | p50 | p90 | p99 | p99.9 | max |" (µs) for a latency
 * sample and returns its median; sorts v. */
double bench_latency_row(const char *label, double *v, size_t n);
void bench_latency_header(void);

/* Connects with the bench's options, or prints the reason and exits 1. */
shmb_client *bench_connect_or_die(const bench_opts *o);

/* One value from the service's STATUS ("pid", "clients", ...) as an
 * integer; -1 if missing. */
long long bench_status_value(shmb_client *c, const char *key);

/* The SID string of this process's user (malloc'd), or NULL. */
char *bench_user_sid(void);

/* Aborts the bench with a message when rc is not 0. */
void bench_check(int rc, const char *what);

/* A progress note on stderr ("[bench] ..."), so that a long run shows it
 * is alive without mixing into the Markdown on stdout. */
void bench_note(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));

#endif /* SHMB_BENCH_UTIL_H */
