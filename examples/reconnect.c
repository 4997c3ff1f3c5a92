/*
 * reconnect.c - keeping a section across service restarts.
 *
 * A program that maps a section once and keeps it mapped goes on working
 * when the service restarts, but silently stops sharing data: the new
 * service made a new object, and everyone who opens the section afresh
 * gets that one. This consumer asks shmb_section_is_current() now and then
 * (one small request; the client reconnects by itself if the old
 * connection died with the service) and, when the answer is 0, opens the
 * section again and switches to the new mapping.
 *
 *   reconnect SECTION [ROUNDS [INTERVAL_MS [PIPE]]]
 *                             (default 20 rounds, 1000 ms, the default pipe)
 *
 * It prints the section's text (its first bytes up to a NUL) whenever it
 * changes, and one line for each event: "mapped OBJECT", "stale",
 * "unreachable". Exit codes: 0 done; 1 the section could not be opened;
 * 2 the service could not be reached at the start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h> /* Sleep */

#include <shmbroker.h>

#define TEXT_MAX 64

/* The section's first bytes up to a NUL, as text. */
static void section_text(const shmb_section *s, char *out) {
  const char *p = shmb_section_data(s);
  size_t n = shmb_section_size(s) < TEXT_MAX - 1 ? (size_t)shmb_section_size(s)
                                                 : TEXT_MAX - 1;
  size_t i;
  for (i = 0; i < n && p[i]; i++)
    out[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.';
  out[i] = '\0';
}

/* Opens name into *s, closing the old mapping only once the new one is
 * there: a failed reopen keeps the stale view rather than none. */
static int reopen(shmb_client *c, const char *name, shmb_section **s) {
  shmb_section *fresh;
  int rc = shmb_open(c, name, SHMB_ACCESS_READ, &fresh);
  if (rc != 0) {
    fprintf(stderr, "reconnect: %s: %s (%s)\n", name, shmb_strerror(rc),
            shmb_last_message(c));
    return rc;
  }
  shmb_close(*s);
  *s = fresh;
  printf("mapped %s\n", shmb_section_object(fresh));
  return 0;
}

/* One round: is our mapping still the one handed out? */
static void check(shmb_client *c, const char *name, shmb_section **s) {
  int rc = shmb_section_is_current(c, *s);
  if (rc == 0) {
    printf("stale: the service hands out a new object; opening it\n");
    reopen(c, name, s);
  } else if (rc < 0) {
    /* Not reachable right now (restarting?): keep the old view, retry. */
    printf("unreachable: %s\n", shmb_strerror(rc));
  }
}

int main(int argc, char **argv) {
  shmb_connect_options opts;
  shmb_client *client;
  shmb_section *section = NULL;
  char text[TEXT_MAX], shown[TEXT_MAX] = "";
  int rounds = argc > 2 ? atoi(argv[2]) : 20, i, rc;
  unsigned interval = argc > 3 ? (unsigned)atoi(argv[3]) : 1000u;

  if (argc < 2) {
    fprintf(stderr, "usage: reconnect SECTION [ROUNDS [INTERVAL_MS [PIPE]]]\n");
    return 1;
  }
  memset(&opts, 0, sizeof(opts));
  opts.pipe_name = argc > 4 ? argv[4] : NULL;
  opts.timeout_ms = 1000; /* a round should not wait long for a restart */
  if ((rc = shmb_connect(&opts, &client)) != 0) {
    fprintf(stderr, "reconnect: %s (%s)\n", shmb_strerror(rc),
            shmb_last_message(NULL));
    return 2;
  }
  if (reopen(client, argv[1], &section) != 0) {
    shmb_disconnect(client);
    return 1;
  }
  for (i = 0; i < rounds; i++) {
    section_text(section, text);
    if (strcmp(text, shown) != 0)
      printf("text: %s\n", strcpy(shown, text));
    fflush(stdout);
    Sleep(interval);
    check(client, argv[1], &section);
  }
  shmb_close(section);
  shmb_disconnect(client);
  return 0;
}
