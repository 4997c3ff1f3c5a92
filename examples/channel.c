/*
 * channel.c - a producer and a consumer on one shmbroker channel.
 *
 * The service declares the channel ([channel jobs] in its config); this
 * program is either side of it:
 *
 *   channel produce CHANNEL COUNT [PIPE]   sends COUNT numbered messages
 *   channel consume CHANNEL COUNT [PIPE]   receives COUNT and checks them
 *
 * Each message is a little record: a sequence number and a text. The
 * consumer checks what it got before it uses it (a peer may be buggy), and
 * on a broadcast channel reports the messages it lost by falling behind.
 * Start the consumer first: a broadcast receiver sees only what is sent
 * after it opened the channel (a queue keeps messages for whoever comes).
 *
 * Exit codes: 0 done; 1 the service said no, or the channel failed;
 * 2 the service could not be reached.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmbroker.h>

typedef struct job {
  uint64_t seq;
  char text[56];
} job;

static int report(shmb_client *c, int rc, const char *what) {
  fprintf(stderr, "%s: %s (%s)\n", what, shmb_strerror(rc),
          shmb_last_message(c));
  return shmb_err_is_transport(rc) ? 2 : 1;
}

static int produce(shmb_channel *ch, uint64_t count) {
  uint64_t i;
  for (i = 0; i < count; i++) {
    job j;
    int rc;
    memset(&j, 0, sizeof(j));
    j.seq = i;
    snprintf(j.text, sizeof(j.text), "job %" PRIu64, i);
    /* A full queue waits up to 5 s for a consumer to make room. */
    rc = shmb_channel_send(ch, &j, sizeof(j), 5000);
    if (rc != 0) {
      fprintf(stderr, "send %" PRIu64 ": %s (%s)\n", i, shmb_strerror(rc),
              shmb_channel_message(ch));
      return 1;
    }
  }
  printf("sent %" PRIu64 " messages\n", count);
  return 0;
}

static int consume(shmb_channel *ch, uint64_t count) {
  shmb_channel_info info;
  uint64_t got = 0, next = 0, lost;
  char *buf;
  size_t len;
  int rc = 0;

  shmb_channel_get_info(ch, &info);
  /* A receive buffer holds the largest message: none is ever cut short. */
  if (!(buf = malloc(info.slot_size)))
    return 1;
  while (got < count) {
    job j;
    rc = shmb_channel_receive(ch, buf, info.slot_size, &len, &lost, 10000);
    if (rc != 0) {
      fprintf(stderr, "receive: %s (%s)\n", shmb_strerror(rc),
              shmb_channel_message(ch));
      break;
    }
    if (len != sizeof(j)) {
      fprintf(stderr, "a message of %lu bytes is not a job\n",
              (unsigned long)len);
      rc = 1;
      break;
    }
    memcpy(&j, buf, sizeof(j));
    j.text[sizeof(j.text) - 1] = '\0';
    if (lost)
      printf("lost %" PRIu64 " messages (fell behind)\n", lost);
    if (j.seq != next + lost) {
      fprintf(stderr, "job %" PRIu64 " came where %" PRIu64 " was due\n",
              j.seq, next + lost);
      rc = 1;
      break;
    }
    next = j.seq + 1;
    got += 1 + lost;
  }
  if (rc == 0)
    printf("received up to job %" PRIu64 ", %" PRIu64 " lost\n",
           next ? next - 1 : 0, shmb_channel_lost(ch));
  free(buf);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  shmb_connect_options opts;
  shmb_client *client;
  shmb_channel *ch;
  int producer, rc;
  uint64_t count;

  if (argc < 4 || (strcmp(argv[1], "produce") != 0 &&
                   strcmp(argv[1], "consume") != 0)) {
    fprintf(stderr, "usage: channel produce|consume CHANNEL COUNT [PIPE]\n");
    return 1;
  }
  producer = argv[1][0] == 'p';
  count = strtoull(argv[3], NULL, 10);
  memset(&opts, 0, sizeof(opts));
  opts.pipe_name = argc > 4 ? argv[4] : NULL;
  if ((rc = shmb_connect(&opts, &client)) != 0) {
    fprintf(stderr, "connect: %s (%s)\n", shmb_strerror(rc),
            shmb_last_message(NULL));
    return shmb_err_is_transport(rc) ? 2 : 1;
  }
  rc = shmb_channel_open(client, argv[2],
                         producer ? SHMB_CHANNEL_SEND : SHMB_CHANNEL_RECEIVE,
                         &ch);
  if (rc != 0) {
    rc = report(client, rc, argv[2]);
    shmb_disconnect(client);
    return rc;
  }
  /* The channel does not need the connection any more. */
  shmb_disconnect(client);
  if (!producer)
    printf("ready\n");
  fflush(stdout);
  rc = producer ? produce(ch, count) : consume(ch, count);
  shmb_channel_close(ch);
  return rc;
}
