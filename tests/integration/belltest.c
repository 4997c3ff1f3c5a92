/*
 * belltest: the doorbell tests' probe (doorbell.sh). Each command prints
 * lines the script asserts on; exit 0 means every step worked, 1 a failed
 * step (named on stderr).
 *
 *   pingpong PIPE A B ROUNDS first|second
 *                       two processes bounce rings: first rings A and waits
 *                       for B, second waits for A and rings B; after round
 *                       i each counter must be exactly i. A wait that
 *                       times out (10 s) is a lost wake-up: "round N:
 *                       timed out". Prints "rounds=N"
 *   quiet PIPE NAME N   rings N times: "signals=S" (SetEvent calls made)
 *   twice PIPE NAME FILE rings, waits (20 s at most) until FILE holds
 *                       "fired", rings again: "signals=S"
 *   stale PIPE NAME FILE opens NAME (read), prints "opened", waits until
 *                       FILE holds "go", then asks for the doorbell's
 *                       counter: "counter ok" or "counter SHMB_E..."
 *   kernel PIPE NAME    as a waiter of NAME, asks the kernel for the ring
 *                       rights directly: "counter-write ok|error N",
 *                       "event-signal ok|error N", "event-wait ok|error N"
 *   forever PIPE NAME   registers as a waiter, prints "waiting", sleeps on
 *                       the doorbell until killed
 *   idle PIPE NAME      registers as a waiter but never waits (armed
 *                       word 0): prints "registered", sleeps 60 s
 *   handle PIPE NAME MS [TIMES]
 *                       waits on shmb_section_wait_handle's HANDLE TIMES
 *                       times (default 1), reading the counter after each
 *                       firing as the SDK asks (which arms it again):
 *                       "fired counter=N" each time, or "timed out"
 *   armed PIPE NAME     takes the wait handle (armed) but never waits on
 *                       it, as a careless or hostile waiter: prints
 *                       "armed", sleeps 60 s
 *   ringloop PIPE NAME FILE MS
 *                       rings once (attaching the ringer), prints
 *                       "pid=P" (its Windows pid, for a handle count from
 *                       outside), then rings every MS ms until FILE holds
 *                       "stop" (120 s at most): "rings=N signals=S
 *                       errors=E first_error=NAME|none"
 */
#include <windows.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "section.h"
#include "shmbroker.h"
#include "wstr.h"

#define ROUND_TIMEOUT_MS 10000

static int step(int rc, const char *what, shmb_section *s) {
  if (rc != 0)
    fprintf(stderr, "belltest: %s: %s (%s)\n", what, shmb_strerror(rc),
            s ? shmb_section_message(s) : "");
  return rc;
}

static int open_section(const char *pipe, const char *name, unsigned access,
                        shmb_section **s) {
  shmb_connect_options o = {pipe, NULL, 0};
  shmb_client *c;
  int rc = shmb_connect(&o, &c);
  if (rc != 0)
    return step(rc, shmb_last_message(NULL), NULL);
  rc = shmb_open(c, name, access, s);
  if (rc != 0)
    step(rc, shmb_last_message(c), NULL);
  shmb_disconnect(c);
  return rc;
}

/* One side of the ping-pong; a counter that is not the round's is a ring
 * counted twice or lost. */
static int pingpong(shmb_section *ring, shmb_section *wait, unsigned rounds,
                    int first) {
  uint64_t seen = 0;
  for (unsigned i = 1; i <= rounds; i++) {
    ULONGLONG t0;
    int rc;
    if (first && step(shmb_section_notify(ring), "notify", ring))
      return 1;
    t0 = GetTickCount64();
    rc = shmb_section_wait(wait, &seen, ROUND_TIMEOUT_MS);
    /* A wait that ends at its timeout re-reads the counter and succeeds if
     * it moved: the ring did not wake it, and that is the failure too. */
    if (rc == 0 && GetTickCount64() - t0 >= ROUND_TIMEOUT_MS) {
      fprintf(stderr, "belltest: round %u: woken only by the %u ms timeout "
              "(a lost wake-up)\n", i, ROUND_TIMEOUT_MS);
      return 1;
    }
    if (rc == SHMB_ENOTRUNG) {
      fprintf(stderr, "belltest: round %u: timed out after %u ms (a lost "
              "wake-up)\n", i, ROUND_TIMEOUT_MS);
      return 1;
    }
    if (step(rc, "wait", wait))
      return 1;
    if (seen != i) {
      fprintf(stderr, "belltest: round %u: counter %" PRIu64 "\n", i, seen);
      return 1;
    }
    if (!first && step(shmb_section_notify(ring), "notify", ring))
      return 1;
  }
  printf("rounds=%u\n", rounds);
  return 0;
}

static void open_result(const char *what, HANDLE h) {
  if (h) {
    printf("%s ok\n", what);
    CloseHandle(h);
  } else {
    printf("%s error %lu\n", what, (unsigned long)GetLastError());
  }
}

static int kernel(shmb_section *s) {
  const char *counter, *event;
  wchar_t *wc, *we;
  if (step(shmb__section_bell_names(s, &counter, &event), "register", s))
    return 1;
  wc = shmb__wide_from_utf8(counter);
  we = shmb__wide_from_utf8(event);
  open_result("counter-write", OpenFileMappingW(FILE_MAP_WRITE, FALSE, wc));
  open_result("event-signal", OpenEventW(EVENT_MODIFY_STATE, FALSE, we));
  open_result("event-wait", OpenEventW(SYNCHRONIZE, FALSE, we));
  free(wc);
  free(we);
  return 0;
}

static int on_handle(shmb_section *s, unsigned ms, int times) {
  void *h;
  uint64_t v;
  if (step(shmb_section_wait_handle(s, &h), "wait handle", s))
    return 1;
  printf("armed\n");
  fflush(stdout);
  for (int i = 0; i < times; i++) {
    if (WaitForSingleObject(h, ms) != WAIT_OBJECT_0) {
      printf("timed out\n");
      return 0;
    }
    if (step(shmb_section_counter(s, &v), "counter", s))
      return 1;
    printf("fired counter=%" PRIu64 "\n", v);
    fflush(stdout);
  }
  return 0;
}

/* Waits (20 s at most) until the file holds needle: 0, or 1 with a
 * message. */
static int wait_for_text(const char *path, const char *needle) {
  for (int i = 0; i < 200; i++) {
    char line[256];
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof(line), f))
      found = strstr(line, needle) != NULL;
    if (f)
      fclose(f);
    if (found)
      return 0;
    Sleep(100);
  }
  fprintf(stderr, "belltest: %s never said %s\n", path, needle);
  return 1;
}

/* Whether the file holds needle now. */
static int file_says(const char *path, const char *needle) {
  char line[256];
  FILE *f = fopen(path, "r");
  int found = 0;
  while (f && !found && fgets(line, sizeof(line), f))
    found = strstr(line, needle) != NULL;
  if (f)
    fclose(f);
  return found;
}

/* Rings every ms until told to stop; a failed ring is counted, and the
 * first one named (a ringer must keep ringing what it knows). */
static int ringloop(shmb_section *s, const char *stop, unsigned ms) {
  ULONGLONG start = GetTickCount64();
  uint64_t rings = 1, errors = 0;
  int first = 0;
  printf("pid=%lu\n", (unsigned long)GetCurrentProcessId());
  fflush(stdout);
  while (!file_says(stop, "stop") && GetTickCount64() - start < 120000) {
    int rc = shmb_section_notify(s);
    rings++;
    if (rc != 0) {
      errors++;
      if (!first) {
        first = rc;
        step(rc, "notify", s);
      }
    }
    Sleep(ms);
  }
  printf("rings=%" PRIu64 " signals=%" PRIu64 " errors=%" PRIu64
         " first_error=%s\n", rings, shmb__section_signals(s), errors,
         first ? shmb_err_name(first) : "none");
  return 0;
}

static int run(int argc, char **argv) {
  const char *cmd = argv[1], *pipe = argv[2];
  shmb_section *a = NULL, *b = NULL;
  int rc = 1;
  uint64_t seen;

  if (strcmp(cmd, "pingpong") == 0 && argc == 7) {
    int first = strcmp(argv[6], "first") == 0;
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ_WRITE, &a) &&
        !open_section(pipe, argv[4], SHMB_ACCESS_READ_WRITE, &b))
      rc = first ? pingpong(a, b, (unsigned)atoi(argv[5]), 1)
                 : pingpong(b, a, (unsigned)atoi(argv[5]), 0);
  } else if (strcmp(cmd, "quiet") == 0 && argc == 5) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ_WRITE, &a)) {
      rc = 0;
      for (int i = 0; i < atoi(argv[4]) && !rc; i++)
        rc = step(shmb_section_notify(a), "notify", a) ? 1 : 0;
      printf("signals=%" PRIu64 "\n", shmb__section_signals(a));
    }
  } else if (strcmp(cmd, "twice") == 0 && argc == 5) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ_WRITE, &a) &&
        !step(shmb_section_notify(a), "notify", a)) {
      rc = wait_for_text(argv[4], "fired");
      if (rc == 0)
        rc = step(shmb_section_notify(a), "notify", a) ? 1 : 0;
      printf("signals=%" PRIu64 "\n", shmb__section_signals(a));
    }
  } else if (strcmp(cmd, "stale") == 0 && argc == 5) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ, &a)) {
      printf("opened\n");
      fflush(stdout);
      if ((rc = wait_for_text(argv[4], "go")) == 0) {
        int got = shmb_section_counter(a, &seen);
        printf("counter %s\n", got ? shmb_err_name(got) : "ok");
      }
    }
  } else if (strcmp(cmd, "kernel") == 0 && argc == 4) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ, &a))
      rc = kernel(a);
  } else if (strcmp(cmd, "forever") == 0 && argc == 4) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ, &a) &&
        !step(shmb_section_counter(a, &seen), "register", a)) {
      printf("waiting\n");
      fflush(stdout);
      rc = step(shmb_section_wait(a, &seen, SHMB_WAIT_FOREVER), "wait", a);
    }
  } else if (strcmp(cmd, "idle") == 0 && argc == 4) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ, &a) &&
        !step(shmb_section_counter(a, &seen), "register", a)) {
      printf("registered\n");
      fflush(stdout);
      Sleep(60000);
      rc = 0;
    }
  } else if (strcmp(cmd, "handle") == 0 && (argc == 5 || argc == 6)) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ, &a))
      rc = on_handle(a, (unsigned)atoi(argv[4]), argc == 6 ? atoi(argv[5]) : 1);
  } else if (strcmp(cmd, "armed") == 0 && argc == 4) {
    void *h;
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ, &a) &&
        !step(shmb_section_wait_handle(a, &h), "wait handle", a)) {
      printf("armed\n");
      fflush(stdout);
      Sleep(60000);
      rc = 0;
    }
  } else if (strcmp(cmd, "ringloop") == 0 && argc == 6) {
    if (!open_section(pipe, argv[3], SHMB_ACCESS_READ_WRITE, &a) &&
        !step(shmb_section_notify(a), "notify", a))
      rc = ringloop(a, argv[4], (unsigned)atoi(argv[5]));
  } else {
    fprintf(stderr, "belltest: bad arguments (see belltest.c)\n");
    return 2;
  }
  shmb_close(a);
  shmb_close(b);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "belltest: bad arguments (see belltest.c)\n");
    return 2;
  }
  return run(argc, argv);
}
