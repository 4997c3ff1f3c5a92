/*
 * bench_data: sequential read and write bandwidth through a mapped section
 * against the same memcpy on private memory (VirtualAlloc) of the same size,
 * from 4 KiB to 256 MiB in powers of 4.
 *
 * Write = memcpy from a private source into the region; read = memcpy from
 * the region into a private destination. The source and destination are the
 * same buffers for both regions, so the only difference between a row's two
 * figures is the region itself: a view of the service's section (mapped
 * through shmb_open) or private memory.
 *
 * Warm: every page of every buffer has been touched; each sample copies at
 * least 8 MiB (small sizes are repeated) after one untimed copy, samples of
 * the section and of private memory alternate, and which goes first
 * alternates too (near the cache sizes, whichever ran just before decides
 * what is still cached). The target is judged on ratios within blocks of
 * samples taken back to back (see warm_stats): a slow spell of the machine
 * hits both sides of a block alike, so the median of those ratios stays put
 * when the bandwidths themselves swing. First touch is reported
 * apart: the first pass over a view that was just mapped (shmb_open; the
 * section's pages exist, only this process's page tables are new) and over
 * memory that was just VirtualAlloc'ed (demand-zero pages). It excludes the
 * open or allocation itself, which bench_open measures.
 *
 * The sections are declared by bench/run.sh as data-4KiB ... data-256MiB.
 *
 * Usage: bench_data [--pipe NAME] [--quick] [--max-mib N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define KIB 1024ull
#define MIB (1024ull * 1024ull)
#define GIB (1024.0 * 1024.0 * 1024.0)
#define WARM_BYTES (8ull * MIB) /* at least this much copied per sample */

static volatile uint8_t sink;

static void *alloc_private(uint64_t size) {
  void *p = VirtualAlloc(NULL, (SIZE_T)size, MEM_COMMIT | MEM_RESERVE,
                         PAGE_READWRITE);
  if (!p) {
    fprintf(stderr, "bench: VirtualAlloc(%llu) failed (%lu)\n",
            (unsigned long long)size, GetLastError());
    exit(1);
  }
  return p;
}

static void free_private(void *p) { VirtualFree(p, 0, MEM_RELEASE); }

static void size_label(uint64_t size, char *buf, size_t len) {
  if (size >= MIB)
    snprintf(buf, len, "%lluMiB", (unsigned long long)(size / MIB));
  else
    snprintf(buf, len, "%lluKiB", (unsigned long long)(size / KIB));
}

/* Seconds for reps copies of size bytes. warm_first: one untimed copy
 * first, so that every variant starts from the cache state its own access
 * leaves (whatever ran before it). */
static double timed_copy(void *dst, const void *src, uint64_t size,
                         uint64_t reps, int warm_first) {
  int64_t t0;
  if (warm_first)
    memcpy(dst, src, (size_t)size);
  t0 = bench_ticks();
  for (uint64_t r = 0; r < reps; r++)
    memcpy(dst, src, (size_t)size);
  sink = ((volatile uint8_t *)dst)[size - 1];
  return bench_seconds(bench_ticks() - t0);
}

typedef struct region_pair {
  void *view, *priv, *src, *dst;
  uint64_t size;
} region_pair;

/* Warm figures for one direction (write or read): bandwidth in GiB/s of
 * the section [0] and of private memory [1], and the ratio section/private
 * per block of two samples. A block is one sample with the section first
 * and one with private memory first; the geometric mean of their two
 * ratios cancels the order, which matters near the cache sizes, where
 * whichever copy runs second finds its destination already cached. */
typedef struct warm_stats {
  double best[2], med[2], p10[2], p90[2];
  double ratio_med, ratio_p10, ratio_p90;
} warm_stats;

static void summarize(double *sec, double *priv, int n, warm_stats *w) {
  int blocks = n / 2;
  double *ratio = malloc(sizeof(double) * (size_t)blocks), *v[2] = {sec, priv};
  for (int i = 0; i < blocks; i++)
    ratio[i] =
        sqrt(sec[2 * i] / priv[2 * i] * sec[2 * i + 1] / priv[2 * i + 1]);
  bench_sort(ratio, (size_t)blocks);
  w->ratio_med = bench_pct(ratio, (size_t)blocks, 50);
  w->ratio_p10 = bench_pct(ratio, (size_t)blocks, 10);
  w->ratio_p90 = bench_pct(ratio, (size_t)blocks, 90);
  free(ratio);
  for (int k = 0; k < 2; k++) {
    bench_sort(v[k], (size_t)n);
    w->best[k] = v[k][n - 1];
    w->med[k] = bench_pct(v[k], (size_t)n, 50);
    w->p10[k] = bench_pct(v[k], (size_t)n, 10);
    w->p90[k] = bench_pct(v[k], (size_t)n, 90);
  }
}

/* Warm bandwidth: out[0] writes, out[1] reads. */
static void warm(const region_pair *r, int samples, warm_stats out[2]) {
  uint64_t reps = r->size >= WARM_BYTES ? 1 : WARM_BYTES / r->size;
  double *bw[4];
  for (int v = 0; v < 4; v++)
    bw[v] = malloc(sizeof(double) * (size_t)samples);
  for (int s = 0; s < samples; s++) {
    void *to[4] = {r->view, r->priv, r->dst, r->dst};
    const void *from[4] = {r->src, r->src, r->view, r->priv};
    /* Section first in even samples, private first in odd ones. */
    static const int order[2][4] = {{0, 1, 2, 3}, {1, 0, 3, 2}};
    for (int i = 0; i < 4; i++) {
      int v = order[s & 1][i];
      bw[v][s] = (double)(r->size * reps) / GIB /
                 timed_copy(to[v], from[v], r->size, reps, 1);
    }
  }
  summarize(bw[0], bw[1], samples, &out[0]);
  summarize(bw[2], bw[3], samples, &out[1]);
  for (int v = 0; v < 4; v++)
    free(bw[v]);
}

static void warm_row(char *row, size_t len, const char *label,
                     const warm_stats *w) {
  snprintf(row, len,
           "| %s | %.2f [%.2f - %.2f] | %.2f [%.2f - %.2f] | %.2f / %.2f | "
           "**%.2f** [%.2f - %.2f] |",
           label, w->med[0], w->p10[0], w->p90[0], w->med[1], w->p10[1],
           w->p90[1], w->best[0], w->best[1], w->ratio_med, w->ratio_p10,
           w->ratio_p90);
}

static void print_table(const char *title, const char *header,
                        const char *align, char rows[][256], int n) {
  printf("%s\n\n%s\n%s\n", title, header, align);
  for (int i = 0; i < n; i++)
    printf("%s\n", rows[i]);
  printf("\n");
}

/* First-touch bandwidth, GiB/s (median of reps fresh regions), for the same
 * four variants as warm(). */
static void first_touch(shmb_client *c, const char *name, const region_pair *r,
                        int reps, double out[4]) {
  double *bw[4];
  for (int v = 0; v < 4; v++)
    bw[v] = malloc(sizeof(double) * (size_t)reps);
  for (int i = 0; i < reps; i++) {
    for (int v = 0; v < 4; v++) {
      int section = v == 0 || v == 2, write = v < 2;
      shmb_section *s = NULL;
      void *fresh;
      if (section) {
        bench_check(shmb_open(c, name, SHMB_ACCESS_READ_WRITE, &s),
                    "shmb_open");
        fresh = shmb_section_data(s);
      } else {
        fresh = alloc_private(r->size);
      }
      bw[v][i] = (double)r->size / GIB /
                 (write ? timed_copy(fresh, r->src, r->size, 1, 0)
                        : timed_copy(r->dst, fresh, r->size, 1, 0));
      if (section)
        shmb_close(s);
      else
        free_private(fresh);
    }
  }
  for (int v = 0; v < 4; v++) {
    bench_sort(bw[v], (size_t)reps);
    out[v] = bench_pct(bw[v], (size_t)reps, 50);
    free(bw[v]);
  }
}

int main(int argc, char **argv) {
  static char wr[16][256], rd[16][256], ft[16][256];
  static const char warm_header[] =
      "| size | section median [p10 - p90] | private median [p10 - p90] | "
      "best: section / private | section / private, by block [p10 - p90] |";
  bench_opts o;
  shmb_client *c;
  uint64_t max;
  double worst = 1e9;
  char worst_at[48] = "";
  int n = 0, code;

  if (bench_parse_common(&argc, argv, &o, &code))
    return code;
  max = strtoull(bench_arg(argc, argv, "--max-mib", o.quick ? "16" : "256"),
                 NULL, 10) *
        MIB;
  c = bench_connect_or_die(&o);

  for (uint64_t size = 4 * KIB; size <= max && n < 16; size *= 4, n++) {
    char label[32], name[64];
    region_pair r;
    shmb_section *s;
    warm_stats w[2];
    double f[4];
    size_label(size, label, sizeof(label));
    snprintf(name, sizeof(name), "data-%s", label);
    bench_note("data path: %s", label);
    bench_check(shmb_open(c, name, SHMB_ACCESS_READ_WRITE, &s), name);
    if (shmb_section_size(s) != size) {
      fprintf(stderr, "bench: section %s is not %llu bytes\n", name,
              (unsigned long long)size);
      return 1;
    }
    r = (region_pair){shmb_section_data(s), alloc_private(size),
                      alloc_private(size), alloc_private(size), size};
    memset(r.src, 0x5a, (size_t)size);
    memset(r.dst, 0, (size_t)size);
    memset(r.priv, 0, (size_t)size);
    memset(r.view, 0, (size_t)size);

    warm(&r, size >= 64 * MIB ? 16 : 40, w); /* even: whole blocks */
    warm_row(wr[n], sizeof(wr[n]), label, &w[0]);
    warm_row(rd[n], sizeof(rd[n]), label, &w[1]);
    printf("@ data.%s.write=%.3f data.%s.read=%.3f\n", label, w[0].ratio_med,
           label, w[1].ratio_med);
    for (int v = 0; v < 2; v++)
      if (w[v].ratio_med < worst) {
        worst = w[v].ratio_med;
        snprintf(worst_at, sizeof(worst_at), "%s-%s", label,
                 v == 0 ? "write" : "read");
      }

    first_touch(c, name, &r, size <= MIB ? 31 : size <= 16 * MIB ? 11 : 5, f);
    snprintf(ft[n], sizeof(ft[n]),
             "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |", label, f[0],
             f[1], f[0] / f[1], f[2], f[3], f[2] / f[3]);
    printf("@ first.%s.write=%.3f first.%s.read=%.3f\n", label, f[0] / f[1],
           label, f[2] / f[3]);

    shmb_close(s);
    free_private(r.priv);
    free_private(r.src);
    free_private(r.dst);
  }
  print_table("### Warm sequential write (memcpy into the region), GiB/s",
              warm_header, "|---:|---:|---:|---:|---:|", wr, n);
  print_table("### Warm sequential read (memcpy out of the region), GiB/s",
              warm_header, "|---:|---:|---:|---:|---:|", rd, n);
  printf("Lowest ratio (median over blocks) over all sizes, read or write: "
         "**%.2fx** (%s; target at least 0.9x: %s).\n\n",
         worst, worst_at, worst >= 0.9 ? "met" : "**missed**");
  printf("@ data.worst=%.3f data.worst_at=%s\n", worst, worst_at);
  print_table("### First touch, GiB/s (median of fresh mappings)",
              "| size | fresh view write | fresh private write | write ratio "
              "| fresh view read | fresh private read | read ratio |",
              "|---:|---:|---:|---:|---:|---:|---:|", ft, n);
  shmb_disconnect(c);
  return 0;
}
