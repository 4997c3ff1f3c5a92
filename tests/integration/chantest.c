/*
 * chantest: the channels' probe (channel.sh). Real processes on both ends
 * of a channel, each message checked: it carries its sender's id, a
 * sequence number, a body whose length varies from message to message and
 * a checksum over all of it, so a receiver can tell a lost, duplicated,
 * reordered or torn message from a good one. Each command prints one-line
 * results the script asserts on; a failed check is named on stderr with a
 * non-zero exit.
 *
 *   send PIPE NAME COUNT SIZE [ID]
 *                  sends COUNT messages (sequence 0..COUNT-1) of at most
 *                  SIZE bytes as sender ID (default 0); on a broadcast
 *                  channel an end marker (sequence COUNT) follows.
 *                  Prints "sent=N ms=T longest_ms=W" (W: the longest
 *                  single send)
 *   recv PIPE NAME COUNT [SENDERS]
 *                  queue: receives COUNT messages from SENDERS senders
 *                  (default 1); every message must be whole (length,
 *                  checksum) and the next of its sender (no loss, no
 *                  duplicate, in order). Prints "received=N ms=T
 *                  longest_ms=W" (W: the longest single receive, the
 *                  first included)
 *   brecv PIPE NAME [ORIGIN]
 *                  broadcast: prints "ready" once open, then receives until
 *                  the end marker; each message's sequence must be the
 *                  previous one + 1 + the losses reported with it, and the
 *                  losses must add up to shmb_channel_lost. ORIGIN
 *                  (default 0): positions before the sender's sequence 0
 *                  (a dead sender's aborted one). Prints "delivered=D
 *                  lost=L sent=S" (D + L == S + ORIGIN is checked)
 *   hold-reserve PIPE NAME / hold-peek PIPE NAME
 *                  takes a slot (a reservation / a look at a message),
 *                  prints "ready", and sleeps until killed
 *   scribble PIPE NAME MS
 *                  maps the channel's section read-write with plain
 *                  shmb_open and writes garbage over the ring header,
 *                  counters and slots for MS milliseconds: "rounds=N"
 *   grecv PIPE NAME MS
 *                  a receiver facing a hostile writer: prints "ready" once
 *                  open (or the open's error), receives until a call
 *                  fails or MS passed. Exit 3: SHMB_ECORRUPT; 6: nothing
 *                  came within 1 s (SHMB_EAGAIN); 7: still receiving at
 *                  MS; 8: another error (named). Prints what it got
 *   closing PIPE NAME FLAGFILE
 *                  a queue receiver and a sender on NAME (which holds at
 *                  least two messages): receives one ("before ok TEXT"),
 *                  prints "ready", waits (30 s at most) until FLAGFILE
 *                  exists (the script has removed the channel by then),
 *                  then tries each once, without waiting: "recv1 ok TEXT"
 *                  or "recv1 ERROR", recv2, recv3, then send1, send2
 *   kernel OBJECT  asks the kernel for the ring's section object directly:
 *                  "map-write ok|error N", "map-read ok|error N"
 *
 * CHANTEST_SPIN=1 makes recv and brecv poll with timeout 0 (a receiver
 * that spins) instead of the SDK's own waiting, for comparing the two.
 */
#include <windows.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmbroker.h"
#include "wstr.h"

#define MAGIC_DATA 0x4d544843u /* "CHTM" */
#define MAGIC_END 0x45544843u  /* "CHTE" */
/* How long one receive or send may wait before the probe calls it a hang:
 * far beyond a stall cut (1 s) and any honest scheduling delay. */
#define STEP_MS 20000u
#define SENDERS_MAX 64

typedef struct msg_hdr {
  uint32_t magic;
  uint32_t sender;
  uint64_t seq;
  uint32_t body_len;
  uint32_t sum; /* FNV-1a over sender, seq, body_len and the body */
} msg_hdr;
_Static_assert(sizeof(msg_hdr) == 24, "message header");

static uint32_t fnv(uint32_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

static uint32_t msg_sum(const msg_hdr *h, const unsigned char *body) {
  uint32_t s = 2166136261u;
  s = fnv(s, &h->sender, sizeof(h->sender));
  s = fnv(s, &h->seq, sizeof(h->seq));
  s = fnv(s, &h->body_len, sizeof(h->body_len));
  return fnv(s, body, h->body_len);
}

/* A body length that varies from message to message, 0..max. */
static uint32_t body_len_of(uint64_t seq, uint32_t max) {
  return (uint32_t)((seq * 2654435761u >> 7) % ((uint64_t)max + 1));
}

/* Builds message seq of sender into buf; returns its length. */
static size_t build(unsigned char *buf, uint32_t magic, uint32_t sender,
                    uint64_t seq, uint32_t max_body) {
  msg_hdr h = {magic, sender, seq, body_len_of(seq, max_body), 0};
  unsigned char *body = buf + sizeof(h);
  for (uint32_t i = 0; i < h.body_len; i++)
    body[i] = (unsigned char)(seq * 131u + i * 7u + sender);
  h.sum = msg_sum(&h, body);
  memcpy(buf, &h, sizeof(h));
  return sizeof(h) + h.body_len;
}

/* Checks one received message; NULL if whole, else what is wrong. */
static const char *check(const unsigned char *buf, size_t len, msg_hdr *h) {
  if (len < sizeof(*h))
    return "shorter than its header (torn or not ours)";
  memcpy(h, buf, sizeof(*h));
  if (h->magic != MAGIC_DATA && h->magic != MAGIC_END)
    return "bad magic (torn or not ours)";
  if (len != sizeof(*h) + h->body_len)
    return "length differs from the header's (torn)";
  if (msg_sum(h, buf + sizeof(*h)) != h->sum)
    return "checksum mismatch (torn)";
  return NULL;
}

static int failf(const char *fmt, ...) {
  va_list ap;
  fputs("chantest: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

static int open_channel(const char *pipe, const char *name, unsigned role,
                        shmb_channel **ch) {
  shmb_connect_options o = {pipe, NULL, 0};
  shmb_client *c;
  int rc = shmb_connect(&o, &c);
  if (rc != 0) {
    failf("connect: %s (%s)", shmb_err_name(rc), shmb_last_message(NULL));
    return rc;
  }
  rc = shmb_channel_open(c, name, role, ch);
  if (rc != 0)
    failf("open %s: %s (%s)", name, shmb_err_name(rc), shmb_last_message(c));
  shmb_disconnect(c);
  return rc;
}

/* A receiver's start: the channel opened to receive, of the kind wanted,
 * a buffer of its slot_size, and "ready" on stdout. 0, or 1 with a
 * message. */
static int open_receiver(const char *pipe, const char *name, unsigned kind,
                         shmb_channel **ch, shmb_channel_info *ci,
                         unsigned char **buf) {
  if (open_channel(pipe, name, SHMB_CHANNEL_RECEIVE, ch))
    return 1;
  shmb_channel_get_info(*ch, ci);
  if (!(ci->kind & kind))
    return failf("%s is not a %s", name,
                 kind == SHMB_KIND_QUEUE ? "queue (brecv is for broadcast)"
                                         : "broadcast channel");
  if (!(*buf = malloc(ci->slot_size)))
    return failf("out of memory");
  printf("ready\n");
  fflush(stdout);
  return 0;
}

static int spin_mode(void) {
  const char *v = getenv("CHANTEST_SPIN");
  return v && *v == '1';
}

/* One receive: the SDK's waiting, or (spin mode) polls with timeout 0,
 * falling back to the SDK's wait after a few seconds of nothing. */
static int receive(shmb_channel *ch, void *buf, size_t cap, size_t *len,
                   uint64_t *lost) {
  if (spin_mode()) {
    for (unsigned i = 0; i < 1u << 22; i++) {
      int rc = shmb_channel_receive(ch, buf, cap, len, lost, 0);
      if (rc != SHMB_EAGAIN)
        return rc;
      YieldProcessor();
    }
  }
  return shmb_channel_receive(ch, buf, cap, len, lost, STEP_MS);
}

static int do_send(const char *pipe, const char *name, uint64_t count,
                   uint32_t size, uint32_t id) {
  shmb_channel *ch;
  shmb_channel_info ci;
  unsigned char *buf;
  ULONGLONG t0, longest = 0;
  int rc;

  if (size < sizeof(msg_hdr))
    return failf("SIZE must be at least %zu", sizeof(msg_hdr));
  if (open_channel(pipe, name, SHMB_CHANNEL_SEND, &ch))
    return 1;
  shmb_channel_get_info(ch, &ci);
  if (size > ci.slot_size)
    return failf("SIZE %u is above the channel's slot_size %u", size,
                 ci.slot_size);
  if (!(buf = malloc(size)))
    return failf("out of memory");
  t0 = GetTickCount64();
  for (uint64_t i = 0; i <= count; i++) {
    size_t len;
    if (i == count) { /* the end marker: broadcast receivers stop at it */
      if (!(ci.kind & SHMB_KIND_BROADCAST))
        break;
      len = build(buf, MAGIC_END, id, i, 0);
    } else {
      len = build(buf, MAGIC_DATA, id, i, size - (uint32_t)sizeof(msg_hdr));
    }
    ULONGLONG t1 = GetTickCount64();
    if ((rc = shmb_channel_send(ch, buf, len, STEP_MS)) != 0)
      return failf("send of message %" PRIu64 ": %s (%s)", i,
                   shmb_err_name(rc), shmb_channel_message(ch));
    if (GetTickCount64() - t1 > longest)
      longest = GetTickCount64() - t1;
  }
  printf("sent=%" PRIu64 " ms=%llu longest_ms=%llu\n", count,
         (unsigned long long)(GetTickCount64() - t0),
         (unsigned long long)longest);
  free(buf);
  shmb_channel_close(ch);
  return 0;
}

static int do_recv(const char *pipe, const char *name, uint64_t count,
                   unsigned senders) {
  static uint64_t next[SENDERS_MAX];
  shmb_channel *ch;
  shmb_channel_info ci;
  unsigned char *buf;
  ULONGLONG t0 = 0, longest = 0;
  int rc;

  if (senders == 0 || senders > SENDERS_MAX)
    return failf("SENDERS must be 1..%d", SENDERS_MAX);
  if (open_receiver(pipe, name, SHMB_KIND_QUEUE, &ch, &ci, &buf))
    return 1;
  for (uint64_t i = 0; i < count; i++) {
    size_t len;
    msg_hdr h;
    const char *bad;
    ULONGLONG t1 = GetTickCount64();
    if ((rc = receive(ch, buf, ci.slot_size, &len, NULL)) != 0)
      return failf("message %" PRIu64 " of %" PRIu64 ": %s (%s)", i + 1,
                   count, shmb_err_name(rc), shmb_channel_message(ch));
    if (GetTickCount64() - t1 > longest)
      longest = GetTickCount64() - t1;
    if (i == 0)
      t0 = GetTickCount64();
    if ((bad = check(buf, len, &h)) != NULL)
      return failf("message %" PRIu64 " (%zu bytes): %s", i + 1, len, bad);
    if (h.magic != MAGIC_DATA || h.sender >= senders)
      return failf("message %" PRIu64 ": from sender %u, expected 0..%u",
                   i + 1, h.sender, senders - 1);
    if (h.seq != next[h.sender])
      return failf("message %" PRIu64 ": sender %u's sequence %" PRIu64
                   ", expected %" PRIu64 " (%s)", i + 1, h.sender, h.seq,
                   next[h.sender],
                   h.seq > next[h.sender] ? "messages lost" :
                   "a duplicate or out of order");
    next[h.sender]++;
  }
  printf("received=%" PRIu64 " ms=%llu longest_ms=%llu\n", count,
         (unsigned long long)(count ? GetTickCount64() - t0 : 0),
         (unsigned long long)longest);
  free(buf);
  shmb_channel_close(ch);
  return 0;
}

static int do_brecv(const char *pipe, const char *name, uint64_t origin) {
  shmb_channel *ch;
  shmb_channel_info ci;
  unsigned char *buf;
  /* The sequence the next position carries (unsigned: may start below 0). */
  uint64_t expect = 0 - origin, delivered = 0, lost_sum = 0;
  int rc;

  if (open_receiver(pipe, name, SHMB_KIND_BROADCAST, &ch, &ci, &buf))
    return 1;
  for (;;) {
    size_t len;
    uint64_t lost = 0;
    msg_hdr h;
    const char *bad;
    if ((rc = receive(ch, buf, ci.slot_size, &len, &lost)) != 0)
      return failf("after %" PRIu64 " delivered, %" PRIu64 " lost: %s (%s)",
                   delivered, lost_sum, shmb_err_name(rc),
                   shmb_channel_message(ch));
    if ((bad = check(buf, len, &h)) != NULL)
      return failf("message %" PRIu64 " (%zu bytes): %s", delivered + 1,
                   len, bad);
    /* Every position from the start is delivered once or counted lost
     * once: the sequence must be exactly where the losses put it. */
    /* Signed: with an ORIGIN the first expected sequences are below 0. */
    if (h.seq != expect + lost)
      return failf("sequence %" PRIu64 " after %" PRId64 " with %" PRIu64
                   " reported lost, expected %" PRId64 " (%s)", h.seq,
                   (int64_t)(expect - 1), lost, (int64_t)(expect + lost),
                   h.seq > expect + lost ? "losses not reported" :
                   "a duplicate, or losses over-reported");
    lost_sum += lost;
    expect = h.seq + 1;
    if (h.magic == MAGIC_END)
      break;
    delivered++;
  }
  if (lost_sum != shmb_channel_lost(ch))
    return failf("losses reported message by message add up to %" PRIu64
                 ", shmb_channel_lost says %" PRIu64, lost_sum,
                 shmb_channel_lost(ch));
  if (delivered + lost_sum != expect - 1 + origin)
    return failf("delivered %" PRIu64 " + lost %" PRIu64 " != sent %" PRIu64
                 " + origin %" PRIu64, delivered, lost_sum, expect - 1,
                 origin);
  printf("delivered=%" PRIu64 " lost=%" PRIu64 " sent=%" PRIu64 "\n",
         delivered, lost_sum, expect - 1);
  free(buf);
  shmb_channel_close(ch);
  return 0;
}

static int hold(const char *pipe, const char *name, int reserve) {
  shmb_channel *ch;
  int rc;
  if (open_channel(pipe, name,
                   reserve ? SHMB_CHANNEL_SEND : SHMB_CHANNEL_RECEIVE, &ch))
    return 1;
  if (reserve) {
    void *p;
    size_t cap;
    if ((rc = shmb_channel_reserve(ch, &p, &cap, STEP_MS)) != 0)
      return failf("reserve: %s (%s)", shmb_err_name(rc),
                   shmb_channel_message(ch));
    memset(p, 0xAB, cap < 16 ? cap : 16); /* half-written */
  } else {
    const void *p;
    size_t len;
    if ((rc = shmb_channel_peek(ch, &p, &len, NULL, STEP_MS)) != 0)
      return failf("peek: %s (%s)", shmb_err_name(rc),
                   shmb_channel_message(ch));
  }
  printf("ready\n");
  fflush(stdout);
  Sleep(INFINITE);
  return 0;
}

/* xorshift64: garbage that differs from round to round. */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static int scribble(const char *pipe, const char *name, unsigned ms) {
  shmb_connect_options o = {pipe, NULL, 0};
  shmb_client *c;
  shmb_section *s;
  uint64_t seed = GetTickCount64() * 2654435761u | 1, rounds = 0;
  ULONGLONG end;
  int rc = shmb_connect(&o, &c);
  if (rc != 0)
    return failf("connect: %s", shmb_err_name(rc));
  if ((rc = shmb_open(c, name, SHMB_ACCESS_READ_WRITE, &s)) != 0)
    return failf("open %s read-write: %s (%s)", name, shmb_err_name(rc),
                 shmb_last_message(c));
  volatile uint64_t *w = shmb_section_data(s);
  size_t words = (size_t)(shmb_section_size(s) / 8);
  end = GetTickCount64() + ms;
  printf("scribbling words=%zu\n", words);
  fflush(stdout);
  while (GetTickCount64() < end) {
    switch (rounds++ % 4) {
    case 0: /* the header and both counter lines */
      for (size_t i = 0; i < 24 && i < words; i++)
        w[i] = rnd(&seed);
      break;
    case 1: /* plausible values: small counts, near positions */
      for (size_t i = 8; i < words; i += 1 + rnd(&seed) % 64)
        w[i] = rnd(&seed) % 4096;
      break;
    case 2: /* every word of the slots */
      for (size_t i = 24; i < words; i++)
        w[i] = rnd(&seed);
      break;
    default: /* anything, anywhere */
      for (int k = 0; k < 256; k++)
        w[rnd(&seed) % words] = rnd(&seed);
    }
  }
  printf("rounds=%" PRIu64 "\n", rounds);
  shmb_close(s);
  shmb_disconnect(c);
  return 0;
}

static int grecv(const char *pipe, const char *name, unsigned ms) {
  shmb_channel *ch;
  shmb_channel_info ci;
  unsigned char *buf;
  uint64_t got = 0, garbage = 0;
  ULONGLONG end;
  int rc;
  if ((rc = open_channel(pipe, name, SHMB_CHANNEL_RECEIVE, &ch)) != 0) {
    printf("open %s\n", shmb_err_name(rc));
    return rc == SHMB_ECORRUPT ? 3 : 8;
  }
  shmb_channel_get_info(ch, &ci);
  if (!(buf = malloc(ci.slot_size)))
    return failf("out of memory");
  printf("ready\n");
  fflush(stdout);
  end = GetTickCount64() + ms;
  for (;;) {
    size_t len;
    msg_hdr h;
    if (GetTickCount64() >= end) {
      printf("still receiving after %u ms: got=%" PRIu64 " garbage=%" PRIu64
             "\n", ms, got, garbage);
      return 7;
    }
    rc = shmb_channel_receive(ch, buf, ci.slot_size, &len, NULL, 1000);
    if (rc != 0)
      break;
    got++;
    garbage += check(buf, len, &h) != NULL;
  }
  printf("%s got=%" PRIu64 " garbage=%" PRIu64 "\n", shmb_err_name(rc), got,
         garbage);
  return rc == SHMB_ECORRUPT ? 3 : rc == SHMB_EAGAIN ? 6 : 8;
}

/* One receive without waiting, printed as "WHAT ok TEXT" or "WHAT ERROR". */
static void closing_recv(shmb_channel *ch, const char *what) {
  char buf[256];
  size_t len;
  int rc = shmb_channel_receive(ch, buf, sizeof(buf) - 1, &len, NULL, 0);
  if (rc == 0) {
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    printf("%s ok %s\n", what, buf);
  } else {
    printf("%s %s\n", what, shmb_err_name(rc));
  }
}

static int closing(const char *pipe, const char *name, const char *flag) {
  shmb_channel *rx, *tx;
  shmb_channel_info ci;
  int rc;
  if (open_channel(pipe, name, SHMB_CHANNEL_RECEIVE, &rx) ||
      open_channel(pipe, name, SHMB_CHANNEL_SEND, &tx))
    return 1;
  shmb_channel_get_info(rx, &ci);
  if (ci.slot_size > 255)
    return failf("closing wants a slot_size below 256");
  closing_recv(rx, "before");
  printf("ready\n");
  for (int i = 0; GetFileAttributesA(flag) == INVALID_FILE_ATTRIBUTES; i++) {
    if (i == 600)
      return failf("%s did not appear within 30 s", flag);
    Sleep(50);
  }
  closing_recv(rx, "recv1");
  closing_recv(rx, "recv2");
  closing_recv(rx, "recv3");
  rc = shmb_channel_send(tx, "late", 4, 0);
  printf("send1 %s\n", rc ? shmb_err_name(rc) : "ok");
  rc = shmb_channel_send(tx, "later", 5, 0);
  printf("send2 %s\n", rc ? shmb_err_name(rc) : "ok");
  shmb_channel_close(rx);
  shmb_channel_close(tx);
  return 0;
}

static void try_map(const char *what, const wchar_t *object, DWORD access) {
  HANDLE h = OpenFileMappingW(access, FALSE, object);
  if (h) {
    printf("%s ok\n", what);
    CloseHandle(h);
  } else {
    printf("%s error %lu\n", what, (unsigned long)GetLastError());
  }
}

static int kernel(const char *object) {
  wchar_t *w = shmb__wide_from_utf8(object);
  if (!w)
    return failf("bad object name");
  try_map("map-write", w, FILE_MAP_WRITE);
  try_map("map-read", w, FILE_MAP_READ);
  free(w);
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  setvbuf(stdout, NULL, _IONBF, 0); /* lines reach the script at once */
  if (strcmp(cmd, "send") == 0 && (argc == 6 || argc == 7))
    return do_send(argv[2], argv[3], strtoull(argv[4], NULL, 10),
                   (uint32_t)atoi(argv[5]),
                   argc == 7 ? (uint32_t)atoi(argv[6]) : 0);
  if (strcmp(cmd, "recv") == 0 && (argc == 5 || argc == 6))
    return do_recv(argv[2], argv[3], strtoull(argv[4], NULL, 10),
                   argc == 6 ? (unsigned)atoi(argv[5]) : 1);
  if (strcmp(cmd, "brecv") == 0 && (argc == 4 || argc == 5))
    return do_brecv(argv[2], argv[3],
                    argc == 5 ? strtoull(argv[4], NULL, 10) : 0);
  if (strcmp(cmd, "hold-reserve") == 0 && argc == 4)
    return hold(argv[2], argv[3], 1);
  if (strcmp(cmd, "hold-peek") == 0 && argc == 4)
    return hold(argv[2], argv[3], 0);
  if (strcmp(cmd, "scribble") == 0 && argc == 5)
    return scribble(argv[2], argv[3], (unsigned)atoi(argv[4]));
  if (strcmp(cmd, "grecv") == 0 && argc == 5)
    return grecv(argv[2], argv[3], (unsigned)atoi(argv[4]));
  if (strcmp(cmd, "closing") == 0 && argc == 5)
    return closing(argv[2], argv[3], argv[4]);
  if (strcmp(cmd, "kernel") == 0 && argc == 3)
    return kernel(argv[2]);
  fprintf(stderr, "chantest: bad arguments (see chantest.c)\n");
  return 2;
}
