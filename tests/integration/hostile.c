/*
 * hostile: plays the clients a broker must survive, for the integration
 * tests (malformed.sh, hostile.sh, impostor.sh, load.sh). Each command
 * prints one line for the script to assert on; exit 0 means the tool itself
 * worked, whatever it observed.
 *
 *   frame PIPE KIND       send KIND's bytes, print each reply's status name
 *                         (or "ok") and then "closed" or "open"
 *   idle PIPE MS          connect, print "connected", send nothing:
 *                         "closed" if the service hangs up within MS, else
 *                         "open"
 *   slow PIPE             connect, print "connected", then send a valid
 *                         frame one byte per second, the first after half
 *                         a second (so that no byte is due when a whole
 *                         number of seconds runs out): "closed after N
 *                         bytes" or "answered"
 *   squat PIPE MS         create PIPE first (an impostor) and report what a
 *                         client sent it: "received N bytes"
 *   load PIPE NAME CLIENTS CYCLES
 *                         CLIENTS threads each doing CYCLES of connect,
 *                         open, map, touch, unmap, close, disconnect:
 *                         "completed=N errors=N seconds=S first_error=NAME
 *                         client_handles_before=N client_handles_after=N"
 *                         where completed counts the cycles that ran to
 *                         the end, summed over the threads, and the
 *                         handles are this process's before the threads
 *                         start and after they all ended; a thread that
 *                         cannot be started is an error of the tool (exit
 *                         1, "thread N did not start: error E")
 *   procinfo PID          "handles=N": the handles a process holds
 *
 * Handle delivery (handle.sh):
 *   rev1 PIPE NAME        HELLO 1..1 (a client of before handles), OPEN
 *                         NAME for read: "STATUS: message" or "ok"
 *   rev1bell PIPE NAME    HELLO 1..1, DOORBELL NAME to wait: "STATUS:
 *                         message" or "ok"
 *   closeafter PIPE NAME [MS]
 *                         HELLO 1..2, OPEN NAME for read, close the pipe at
 *                         once without reading, wait MS (1500): "pid=P
 *                         leaked=N at=T values=V", N the section handles
 *                         with a read delivery's access this process
 *                         gained, T when they were counted (UTC, as the
 *                         log), V the values of all such handles it holds
 *   handoff PIPE NAME alive|dead OUT
 *                         connect and HELLO 1..2, then start a child that
 *                         inherits the pipe and sends OPEN NAME for read on
 *                         it; the parent stays (alive) or exits first
 *                         (dead). The child writes to OUT "child
 *                         status=S check=C gained=N" and "message=M" (S
 *                         the reply's status, C and M what the SDK's
 *                         check of a reply by handle says of it in the
 *                         child, N the section handles with a read
 *                         delivery's access, query|map-read|read-control,
 *                         that the child gained); alive: the parent then
 *                         prints "parent pid=P gained=N", the same count
 *   names PIPE NAME       "names=N same=M": the Section objects named
 *                         shmb-* in this session's Local\ namespace
 *                         (NtQueryDirectoryObject), and how many of them
 *                         are NAME's object as the service hands it out
 *                         (CompareObjectHandles)
 *   allnames PIPE         "objects=N events=E": every object of any type
 *                         named shmb-* in this session's Local\ namespace,
 *                         and how many of them are events (a doorbell's
 *                         objects by name: bell_handle.sh)
 *   pipesd PIPE           "label=0xPOLICY:RID ac=N" (or label=none): the
 *                         live pipe's mandatory label and its allow
 *                         entries for ALL APPLICATION PACKAGES
 *   handlemap PIPE NAME read|write
 *                         the SDK's lookup by handle, then on that handle:
 *                         "map_write=R map_read=R dup_write=R" (R is ok
 *                         or error N; dup_write asks DuplicateHandle for
 *                         FILE_MAP_WRITE on it)
 */
#include <windows.h>

#include <aclapi.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "account.h"
#include "transport.h"
#include "wstr.h"

/* ---- crafted frames --------------------------------------------------- */

typedef struct crafted {
  uint8_t bytes[512];
  size_t len;
  int replies;     /* replies to read before checking for hang-up */
  int one_byte;    /* write one byte per call */
  int stop_after;  /* bytes to send before going quiet (truncated frame) */
} crafted;

static void put_header(uint8_t *f, uint8_t op, uint32_t id, uint32_t len) {
  uint32_t magic = SHMB_PROTO_MAGIC;
  memcpy(f, &magic, 4); /* x86: little-endian, like the wire */
  f[4] = SHMB_PROTO_VERSION;
  f[5] = op;
  f[6] = f[7] = 0;
  memcpy(f + 8, &id, 4);
  memcpy(f + 12, &len, 4);
}

/* An OPEN for read with a name of n bytes (may hold any byte). */
static size_t put_open(uint8_t *f, const char *name, size_t n) {
  put_header(f, SHMB_OP_OPEN, 7, (uint32_t)(8 + n));
  memset(f + 16, 0, 8);
  f[16] = SHMB_WIRE_ACCESS_READ;
  f[22] = (uint8_t)n;
  f[23] = (uint8_t)(n >> 8);
  memcpy(f + 24, name, n);
  return 24 + n;
}

static int craft(const char *kind, crafted *c) {
  char name[80];
  memset(c, 0, sizeof(*c));
  c->replies = 1;
  if (strcmp(kind, "garbage") == 0) {
    for (size_t i = 0; i < 64; i++)
      c->bytes[i] = (uint8_t)(i * 37 + 11);
    c->len = 64;
  } else if (strcmp(kind, "badmagic") == 0) {
    put_header(c->bytes, SHMB_OP_LIST, 7, 0);
    c->bytes[0] ^= 0xff;
    c->len = SHMB_HEADER_SIZE;
  } else if (strcmp(kind, "badversion") == 0) {
    put_header(c->bytes, SHMB_OP_LIST, 7, 0);
    c->bytes[4] = 99;
    c->len = SHMB_HEADER_SIZE;
  } else if (strcmp(kind, "oversize") == 0) {
    put_header(c->bytes, SHMB_OP_LIST, 7, 0x7fffffff);
    c->len = SHMB_HEADER_SIZE;
  } else if (strcmp(kind, "unknownop") == 0) {
    put_header(c->bytes, 0x42, 7, 0);
    c->len = SHMB_HEADER_SIZE;
  } else if (strcmp(kind, "badlength") == 0) { /* LIST with a payload */
    put_header(c->bytes, SHMB_OP_LIST, 7, 4);
    c->len = SHMB_HEADER_SIZE + 4;
  } else if (strcmp(kind, "badname") == 0) {
    c->len = put_open(c->bytes, "a/b", 3);
  } else if (strcmp(kind, "split") == 0) { /* valid LIST, byte by byte */
    put_header(c->bytes, SHMB_OP_LIST, 7, 0);
    c->len = SHMB_HEADER_SIZE;
    c->one_byte = 1;
  } else if (strcmp(kind, "reuseid") == 0) { /* two LISTs, same id */
    put_header(c->bytes, SHMB_OP_LIST, 7, 0);
    put_header(c->bytes + SHMB_HEADER_SIZE, SHMB_OP_LIST, 7, 0);
    c->len = 2 * SHMB_HEADER_SIZE;
    c->replies = 2;
  } else if (strcmp(kind, "truncated") == 0) { /* says 8, sends 4 */
    c->len = put_open(c->bytes, "abcd", 4);
    c->stop_after = (int)c->len - 4;
    c->replies = 0;
  } else if (strcmp(kind, "name64") == 0 || strcmp(kind, "name65") == 0) {
    size_t n = kind[5] == '4' ? 64 : 65;
    memset(name, 'n', n);
    c->len = put_open(c->bytes, name, n);
  } else if (strcmp(kind, "nonascii") == 0) {
    c->len = put_open(c->bytes, "caf\xc3\xa9", 5);
  } else if (strcmp(kind, "nul") == 0) {
    c->len = put_open(c->bytes, "read\0only", 9);
  } else {
    return -1;
  }
  return 0;
}

static int raw_connect(const char *pipe, shmb_client *c) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  int rc;
  memset(c, 0, sizeof(*c));
  c->io_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  if ((rc = shmb__transport_open(c, &opts)) != 0)
    printf("connect %s\n", shmb_err_name(rc));
  return rc;
}

static const char *hangs_up_within(shmb_client *c, unsigned ms) {
  uint8_t extra;
  c->timeout_ms = ms;
  return shmb__read_all(c, &extra, 1) == SHMB_EDISCONNECTED ? "closed"
                                                            : "open";
}

/* Reads one reply; prints its status name or "ok". */
static int print_reply(shmb_client *c) {
  uint8_t hdrbuf[SHMB_HEADER_SIZE], body[SHMB_MAX_PAYLOAD];
  shmb_frame_header hdr;
  int rc = shmb__read_all(c, hdrbuf, sizeof(hdrbuf));
  if (rc == 0 &&
      shmb_frame_peek(hdrbuf, sizeof(hdrbuf), sizeof(body), &hdr) < 0)
    rc = SHMB_EPROTO;
  if (rc == 0)
    rc = shmb__read_all(c, body, hdr.length);
  if (rc != 0) {
    printf("io-%s ", shmb_err_name(rc));
    return rc;
  }
  rc = shmb_reply_status_code(body, hdr.length, NULL, 0);
  printf("%s(id %u) ", rc == 0 ? "ok" : shmb_err_name(rc),
         (unsigned)hdr.request_id);
  return 0;
}

static int frame(const char *pipe, const char *kind) {
  shmb_client c;
  crafted f;
  size_t end;
  int rc = 0;

  if (craft(kind, &f) != 0) {
    fprintf(stderr, "hostile: unknown frame kind '%s'\n", kind);
    return 2;
  }
  if (raw_connect(pipe, &c) != 0)
    return 1;
  end = f.stop_after ? (size_t)f.stop_after : f.len;
  for (size_t i = 0; i < end && rc == 0; i += f.one_byte ? 1 : end - i)
    rc = shmb__write_all(&c, f.bytes + i, f.one_byte ? 1 : end - i);
  for (int i = 0; i < f.replies && rc == 0; i++)
    rc = print_reply(&c);
  /* After an error the service hangs up; after a truncated frame it waits
   * until client_timeout (the scripts set it short). */
  printf("%s\n", hangs_up_within(&c, f.replies ? 2000 : 5000));
  CloseHandle(c.pipe);
  return 0;
}

/* The scripts wait for this line before they count on the connection. */
static void say_connected(void) {
  printf("connected\n");
  fflush(stdout);
}

static int idle(const char *pipe, const char *ms) {
  shmb_client c;
  if (raw_connect(pipe, &c) != 0)
    return 1;
  say_connected();
  printf("%s\n", hangs_up_within(&c, (unsigned)strtoul(ms, NULL, 10)));
  CloseHandle(c.pipe);
  return 0;
}

static int slow(const char *pipe) {
  shmb_client c;
  crafted f;
  size_t i;
  craft("name64", &f);
  if (raw_connect(pipe, &c) != 0)
    return 1;
  say_connected();
  Sleep(500);
  for (i = 0; i < f.len; i++) {
    if (shmb__write_all(&c, f.bytes + i, 1) != 0)
      break;
    Sleep(1000);
  }
  if (i < f.len)
    printf("closed after %zu bytes\n", i);
  else
    printf("answered\n");
  CloseHandle(c.pipe);
  return 0;
}

static int squat(const char *pipe, const char *ms) {
  wchar_t *w = shmb__wide_from_utf8(pipe);
  HANDLE h = CreateNamedPipeW(w, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                              PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, NULL);
  char buf[4096];
  DWORD got, total = 0;
  free(w);
  if (h == INVALID_HANDLE_VALUE) {
    printf("error %lu\n", (unsigned long)GetLastError());
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  /* Blocks until a client comes; the script always sends one (or kills us
   * after MS via its own timeout). */
  (void)ms;
  if (ConnectNamedPipe(h, NULL) || GetLastError() == ERROR_PIPE_CONNECTED)
    while (ReadFile(h, buf, sizeof(buf), &got, NULL) && got > 0)
      total += got;
  printf("received %lu bytes\n", (unsigned long)total);
  CloseHandle(h);
  return 0;
}

/* N requests in one write (LIST, or OPEN of NAME for read): the service
 * serves a few per turn, and must still answer every one, in order. Prints
 * how many replies came back ok and how many with each refusal. With
 * wait_ms, nothing is read for that long first ("waiting" is printed when
 * the wait starts): replies past the pipe's buffer stall the connection
 * until they are read. */
static int pipeline(const char *pipe, unsigned n, const char *what,
                    unsigned wait_ms) {
  uint8_t *all = malloc((size_t)n * 160);
  unsigned ok = 0, refused = 0, first_bad = 0;
  size_t len = 0;
  shmb_client c;

  if (!all || n == 0)
    return 2;
  for (unsigned i = 0; i < n; i++) {
    if (strcmp(what, "list") == 0) {
      put_header(all + len, SHMB_OP_LIST, i + 1, 0);
      len += SHMB_HEADER_SIZE;
    } else {
      uint8_t *f = all + len;
      uint32_t id = i + 1;
      len += put_open(f, what, strlen(what));
      memcpy(f + offsetof(shmb_frame_header, request_id), &id, sizeof(id));
    }
  }
  if (raw_connect(pipe, &c) != 0 || shmb__write_all(&c, all, len) != 0)
    return 1;
  if (wait_ms) {
    printf("waiting\n");
    fflush(stdout);
    Sleep(wait_ms);
  }
  for (unsigned i = 0; i < n; i++) {
    uint8_t h[SHMB_HEADER_SIZE], body[SHMB_MAX_PAYLOAD];
    shmb_frame_header hdr;
    if (shmb__read_all(&c, h, sizeof(h)) != 0 ||
        shmb_frame_peek(h, sizeof(h), sizeof(body), &hdr) < 0 ||
        shmb__read_all(&c, body, hdr.length) != 0)
      break;
    if (hdr.request_id != i + 1 && !first_bad)
      first_bad = i + 1;
    if (shmb_reply_status_code(body, hdr.length, NULL, 0) == 0)
      ok++;
    else
      refused++;
  }
  printf("replies=%u ok=%u refused=%u out_of_order_at=%u\n", ok + refused,
         ok, refused, first_bad);
  CloseHandle(c.pipe);
  free(all);
  return 0;
}

/* ---- load ------------------------------------------------------------- */

typedef struct load_job {
  const char *pipe, *name;
  unsigned cycles;
  unsigned completed; /* cycles that ran to the end without an error */
  unsigned errors;
  int first_error;
  HANDLE thread;
} load_job;

static DWORD WINAPI load_thread(void *arg) {
  load_job *j = arg;
  shmb_connect_options opts = {j->pipe, NULL, 20000};
  for (unsigned i = 0; i < j->cycles; i++) {
    shmb_client *c;
    shmb_section *s;
    int rc = shmb_connect(&opts, &c);
    if (rc == 0) {
      if ((rc = shmb_open(c, j->name, SHMB_ACCESS_READ, &s)) == 0) {
        volatile const char *p = shmb_section_data(s);
        (void)p[0];
        shmb_close(s);
      }
      shmb_disconnect(c);
    }
    if (rc == 0)
      j->completed++;
    else if (j->errors++ == 0)
      j->first_error = rc;
  }
  return 0;
}

static long count_handles(DWORD pid);

static int load(const char *pipe, const char *name, unsigned clients,
                unsigned cycles) {
  load_job *jobs = calloc(clients, sizeof(*jobs));
  LARGE_INTEGER f, t0, t1;
  unsigned errors = 0, completed = 0, started = 0;
  int first = 0;

  long handles_before;

  if (!jobs)
    return 1;
  handles_before = count_handles(GetCurrentProcessId());
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&t0);
  for (; started < clients; started++) {
    jobs[started] = (load_job){pipe, name, cycles, 0, 0, 0, NULL};
    jobs[started].thread =
        CreateThread(NULL, 0, load_thread, &jobs[started], 0, NULL);
    if (!jobs[started].thread) {
      printf("thread %u did not start: error %lu\n", started,
             (unsigned long)GetLastError());
      break;
    }
  }
  for (unsigned i = 0; i < started; i++) {
    WaitForSingleObject(jobs[i].thread, INFINITE);
    CloseHandle(jobs[i].thread);
    completed += jobs[i].completed;
    errors += jobs[i].errors;
    if (!first && jobs[i].errors)
      first = jobs[i].first_error;
  }
  QueryPerformanceCounter(&t1);
  /* The clients' own handles: a delivered handle that shmb_close does not
   * close, or one the SDK drops, would grow this with the cycles. */
  printf("completed=%u errors=%u seconds=%.2f first_error=%s "
         "client_handles_before=%ld client_handles_after=%ld\n", completed,
         errors, (double)(t1.QuadPart - t0.QuadPart) / (double)f.QuadPart,
         first ? shmb_err_name(first) : "none", handles_before,
         count_handles(GetCurrentProcessId()));
  free(jobs);
  return started == clients ? 0 : 1;
}

/* Handles a process holds, from the system's handle table: Wine does not
 * implement GetProcessHandleCount, but it does keep this table. */
typedef struct sys_handle_entry {
  void *object;
  ULONG_PTR pid, handle;
  ULONG access;
  USHORT backtrace, type;
  ULONG attributes, reserved;
} sys_handle_entry;
typedef struct sys_handles {
  ULONG_PTR count, reserved;
  sys_handle_entry entries[1];
} sys_handles;
typedef LONG(NTAPI *query_fn)(ULONG, void *, ULONG, ULONG *);

/* Handles of pid; with access not 0, only those with exactly that
 * access (a delivered read handle has query, map-read and read-control:
 * 0x20005). With values, the first max of their values go there too. */
static long handles_with(DWORD pid, ULONG access, ULONG_PTR *values,
                         size_t max);
static long count_handles_with(DWORD pid, ULONG access) {
  return handles_with(pid, access, NULL, 0);
}
static long count_handles(DWORD pid) { return count_handles_with(pid, 0); }

static long handles_with(DWORD pid, ULONG access, ULONG_PTR *values,
                         size_t max) {
  query_fn query = (query_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation");
  ULONG size = 1 << 20, need = 0;
  sys_handles *h = NULL;
  long n = -1;
  LONG st;
  for (int tries = 0; query && tries < 8; tries++, size *= 2) {
    free(h);
    if (!(h = malloc(size)))
      return -1;
    st = query(64 /* SystemExtendedHandleInformation */, h, size, &need);
    if (st == 0) {
      n = 0;
      for (ULONG_PTR i = 0; i < h->count; i++)
        if (h->entries[i].pid == pid &&
            (!access || h->entries[i].access == access)) {
          if ((size_t)n < max)
            values[n] = h->entries[i].handle;
          n++;
        }
      break;
    }
    if (st != (LONG)0xC0000004) /* STATUS_INFO_LENGTH_MISMATCH */
      break;
  }
  free(h);
  return n;
}

/* ---- handle delivery ------------------------------------------------- */

/* Reads one reply frame into body; its payload length in *plen. */
static int read_reply(shmb_client *c, uint8_t *body, size_t cap,
                      size_t *plen) {
  uint8_t h[SHMB_HEADER_SIZE];
  shmb_frame_header hdr;
  int rc = shmb__read_all(c, h, sizeof(h));
  if (rc == 0 && shmb_frame_peek(h, sizeof(h), cap, &hdr) < 0)
    rc = SHMB_EPROTO;
  if (rc == 0)
    rc = shmb__read_all(c, body, hdr.length);
  *plen = rc == 0 ? hdr.length : 0;
  return rc;
}

static int send_encoded(shmb_client *c, int rc, uint8_t **f, size_t *n) {
  if (rc == 0)
    rc = shmb__write_all(c, *f, *n);
  if (rc == 0 || *f)
    free(*f);
  return rc;
}

static int say_hello(shmb_client *c, uint8_t hi) {
  static uint8_t body[SHMB_MAX_PAYLOAD];
  uint8_t *f = NULL;
  size_t n = 0, plen;
  int rc = send_encoded(c, shmb_encode_hello(1, 1, hi, &f, &n), &f, &n);
  if (rc == 0)
    rc = read_reply(c, body, sizeof(body), &plen);
  if (rc == 0)
    rc = shmb_reply_status_code(body, plen, NULL, 0);
  return rc;
}

static int send_open(shmb_client *c, const char *name) {
  uint8_t *f = NULL;
  size_t n = 0;
  return send_encoded(c, shmb_encode_open(2, name, SHMB_WIRE_ACCESS_READ, &f,
                                          &n), &f, &n);
}

static int send_doorbell(shmb_client *c, const char *name) {
  uint8_t *f = NULL;
  size_t n = 0;
  return send_encoded(c, shmb_encode_doorbell(2, name, SHMB_WIRE_ACCESS_READ,
                                              &f, &n), &f, &n);
}

/* HELLO 1..1, then OPEN (or DOORBELL, bell) NAME for read. */
static int rev1(const char *pipe, const char *name, int bell) {
  static uint8_t body[SHMB_MAX_PAYLOAD];
  char msg[SHMB_ERROR_MESSAGE_MAX + 1] = "";
  shmb_client c;
  size_t plen;
  int rc;
  if (raw_connect(pipe, &c) != 0)
    return 1;
  if ((rc = say_hello(&c, 1)) != 0 ||
      (rc = bell ? send_doorbell(&c, name) : send_open(&c, name)) != 0 ||
      (rc = read_reply(&c, body, sizeof(body), &plen)) != 0) {
    printf("io-%s\n", shmb_err_name(rc));
    return 1;
  }
  rc = shmb_reply_status_code(body, plen, msg, sizeof(msg));
  printf("%s%s%s\n", rc == 0 ? "ok" : shmb_err_name(rc), rc ? ": " : "", msg);
  CloseHandle(c.pipe);
  return 0;
}

/* Section handles as delivery makes them for read (query, map-read,
 * read-control). */
static long own_read_handles(void) {
  return count_handles_with(GetCurrentProcessId(),
                            SECTION_QUERY | FILE_MAP_READ | READ_CONTROL);
}

static int closeafter(const char *pipe, const char *name, const char *ms) {
  const ULONG read_access = SECTION_QUERY | FILE_MAP_READ | READ_CONTROL;
  ULONG_PTR now[16];
  SYSTEMTIME at;
  shmb_client c;
  long before, after;
  if (raw_connect(pipe, &c) != 0 || say_hello(&c, 2) != 0)
    return 1;
  before = own_read_handles();
  if (send_open(&c, name) != 0)
    return 1;
  CloseHandle(c.pipe);
  Sleep(ms ? (DWORD)strtoul(ms, NULL, 10) : 1500);
  after = handles_with(GetCurrentProcessId(), read_access, now, 16);
  GetSystemTime(&at); /* as the service's log lines (UTC) */
  printf("pid=%lu leaked=%ld at=%02u:%02u:%02u.%03u values=",
         (unsigned long)GetCurrentProcessId(), after - before, at.wHour,
         at.wMinute, at.wSecond, at.wMilliseconds);
  for (long i = 0; i < after && i < 16; i++)
    printf("%s0x%llx", i ? "," : "", (unsigned long long)now[i]);
  printf("\n");
  return 0;
}

/* The child: waits for the parent to exit (dead: parent_value is its
 * inherited process handle, else 0), sends OPEN on the inherited pipe and
 * writes what arrived here to OUT: the reply's status, and what the SDK's
 * check of a reply by handle (shmb__delivered_handle, as shmb_open runs
 * it in a revision-2 session with the server account this user) says,
 * with its message. */
static int handoff_child(const char *pipe_value, const char *name,
                         const char *parent_value, const char *outpath) {
  static uint8_t body[SHMB_MAX_PAYLOAD];
  HANDLE parent = (HANDLE)(uintptr_t)strtoull(parent_value, NULL, 10);
  const char *status = "none", *check = "none";
  shmb_open_reply rep;
  shmb_client c;
  size_t plen;
  long before;
  HANDLE h;
  FILE *out;
  int rc;

  memset(&c, 0, sizeof(c));
  c.pipe = (HANDLE)(uintptr_t)strtoull(pipe_value, NULL, 10);
  c.io_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  c.timeout_ms = 5000;
  c.revision = 2; /* the parent's HELLO */
  if (shmb__token_user(NULL, &c.server_sid) != 0)
    return 1;
  if (parent)
    WaitForSingleObject(parent, 10000);
  before = own_read_handles();
  if ((rc = send_open(&c, name)) == 0)
    rc = read_reply(&c, body, sizeof(body), &plen);
  if (rc != 0) {
    status = shmb_err_name(rc);
  } else if ((rc = shmb_open_reply_decode(body, plen, &rep)) != 0) {
    status = shmb_err_name(rc);
  } else {
    status = "ok";
    if (rep.flags & SHMB_OPEN_FLAG_HANDLE) {
      rc = shmb__delivered_handle(&c, &rep, &h);
      check = rc == 0 ? "ok" : shmb_err_name(rc);
    }
  }
  Sleep(300);
  if (!(out = fopen(outpath, "w")))
    return 1;
  fprintf(out, "child status=%s check=%s gained=%ld\nmessage=%s\n", status,
          check, own_read_handles() - before, c.message);
  fclose(out);
  return 0;
}

static int handoff(const char *self, const char *pipe, const char *name,
                   const char *mode, const char *outpath) {
  int dead = strcmp(mode, "dead") == 0;
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  HANDLE inh, me = NULL;
  char cmd[1024];
  shmb_client c;
  long before;

  if (raw_connect(pipe, &c) != 0 || say_hello(&c, 2) != 0)
    return 1;
  if (!DuplicateHandle(GetCurrentProcess(), c.pipe, GetCurrentProcess(), &inh,
                       0, TRUE, DUPLICATE_SAME_ACCESS) ||
      (dead && !DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(),
                                GetCurrentProcess(), &me, SYNCHRONIZE, TRUE,
                                0)))
    return 1;
  snprintf(cmd, sizeof(cmd), "\"%s\" handoff-child %llu %s %llu \"%s\"",
           self, (unsigned long long)(uintptr_t)inh, name,
           (unsigned long long)(uintptr_t)me, outpath);
  memset(&si, 0, sizeof(si));
  si.cb = sizeof(si);
  before = own_read_handles();
  if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
    printf("cannot start the child: error %lu\n",
           (unsigned long)GetLastError());
    return 1;
  }
  if (dead) /* gone before the child asks: ExitProcess, not a return */
    ExitProcess(0);
  WaitForSingleObject(pi.hProcess, 15000);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  printf("parent pid=%lu gained=%ld\n", (unsigned long)GetCurrentProcessId(),
         own_read_handles() - before);
  return 0;
}

/* ---- the namespace ----------------------------------------------------- */

typedef struct ustr {
  USHORT len, max;
  WCHAR *buf;
} ustr;
typedef struct obj_attrs {
  ULONG len;
  HANDLE root;
  ustr *name;
  ULONG attributes;
  void *sd, *qos;
} obj_attrs;
typedef struct dir_entry {
  ustr name, type;
} dir_entry;
typedef LONG(NTAPI *open_dir_fn)(HANDLE *, ACCESS_MASK, obj_attrs *);
typedef LONG(NTAPI *query_dir_fn)(HANDLE, void *, ULONG, BOOLEAN, BOOLEAN,
                                  ULONG *, ULONG *);

/* Every Section named shmb-* in this session's Local\ namespace
 * (\Sessions\N\BaseNamedObjects): how many there are, and how many are
 * the object behind h (CompareObjectHandles; h NULL: none). any and
 * events (may be NULL): the objects of every type named shmb-*, and the
 * events among them. */
static int scan_names(HANDLE h, long *named, long *same, long *any,
                      long *events) {
  HMODULE nt = GetModuleHandleW(L"ntdll.dll");
  open_dir_fn open_dir =
      (open_dir_fn)(void (*)(void))GetProcAddress(nt, "NtOpenDirectoryObject");
  query_dir_fn query_dir = (query_dir_fn)(void (*)(void))GetProcAddress(
      nt, "NtQueryDirectoryObject");
  typedef BOOL(WINAPI * compare_fn)(HANDLE, HANDLE);
  compare_fn compare = (compare_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"kernelbase.dll"), "CompareObjectHandles");
  union {
    dir_entry e;
    BYTE bytes[4096];
  } buf;
  WCHAR path[64], full[512];
  DWORD session = 0;
  ULONG ctx = 0, got;
  HANDLE dir;
  ustr u;
  obj_attrs a = {sizeof(a), NULL, &u, 0x40 /* OBJ_CASE_INSENSITIVE */, NULL,
                 NULL};

  if (!open_dir || !query_dir || !compare)
    return -1;
  ProcessIdToSessionId(GetCurrentProcessId(), &session);
  swprintf(path, 64, L"\\Sessions\\%lu\\BaseNamedObjects",
           (unsigned long)session);
  u.buf = path;
  u.len = (USHORT)(wcslen(path) * sizeof(WCHAR));
  u.max = u.len;
  if (open_dir(&dir, 0x1 /* DIRECTORY_QUERY */, &a) != 0)
    return -2;
  *named = *same = 0;
  for (BOOLEAN first = TRUE;; first = FALSE) {
    HANDLE m;
    if (query_dir(dir, &buf, sizeof(buf), TRUE, first, &ctx, &got) != 0)
      break;
    if (any && buf.e.name.len >= 10 &&
        memcmp(buf.e.name.buf, L"shmb-", 10) == 0) {
      (*any)++;
      *events += buf.e.type.len == 10 && memcmp(buf.e.type.buf, L"Event",
                                                10) == 0;
    }
    if (buf.e.type.len != 14 || memcmp(buf.e.type.buf, L"Section", 14) != 0 ||
        buf.e.name.len < 10 || memcmp(buf.e.name.buf, L"shmb-", 10) != 0)
      continue;
    (*named)++;
    swprintf(full, 512, L"Local\\%.*ls", (int)(buf.e.name.len / 2),
             buf.e.name.buf);
    if (h && (m = OpenFileMappingW(FILE_MAP_READ, FALSE, full))) {
      *same += compare(m, h) != 0;
      CloseHandle(m);
    }
  }
  CloseHandle(dir);
  return 0;
}

/* allnames: every shmb- object, whatever its type. */
static int allnames(void) {
  long named, same, any = 0, events = 0;
  int rc = scan_names(NULL, &named, &same, &any, &events);
  if (rc != 0) {
    printf("error scan %d\n", rc);
    return 0;
  }
  printf("objects=%ld events=%ld\n", any, events);
  return 0;
}

/* names PIPE NAME: NAME's handle from the service (by handle, or opened by
 * its name), then "names=N same=M": the shmb- sections in the namespace
 * and how many of them are NAME's object. */
static int names(const char *pipe, const char *name) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  shmb_open_info info;
  shmb_client *c;
  HANDLE h;
  long named = 0, same = 0;
  int rc;

  if ((rc = shmb_connect(&opts, &c)) != 0 ||
      (rc = shmb__lookup_handle(c, name, SHMB_ACCESS_READ, &info, NULL,
                                &h)) != 0) {
    printf("error %s\n", shmb_err_name(rc));
    return 0;
  }
  if (!h) {
    wchar_t *w = shmb__wide_from_utf8(info.object);
    h = OpenFileMappingW(FILE_MAP_READ, FALSE, w);
    free(w);
  }
  if (!h || (rc = scan_names(h, &named, &same, NULL, NULL)) != 0) {
    printf("error scan %d\n", rc);
    return 0;
  }
  printf("names=%ld same=%ld\n", named, same);
  CloseHandle(h);
  shmb_disconnect(c);
  return 0;
}

/* pipesd PIPE: what the live control pipe carries, read through a client
 * handle: "label=POLICY:RID" (or "label=none") and "ac=N", the allow
 * entries for ALL APPLICATION PACKAGES (S-1-15-2-1). */
static int pipesd(const char *pipe) {
  SID_IDENTIFIER_AUTHORITY pkg = {SECURITY_APP_PACKAGE_AUTHORITY};
  PSECURITY_DESCRIPTOR sd = NULL;
  PACL dacl = NULL, sacl = NULL;
  PSID all = NULL;
  shmb_client c;
  unsigned ac = 0;
  char label[32] = "none";
  DWORD e;

  if (raw_connect(pipe, &c) != 0)
    return 1;
  e = GetSecurityInfo(c.pipe, SE_KERNEL_OBJECT,
                      DACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION,
                      NULL, NULL, &dacl, &sacl, &sd);
  if (e != ERROR_SUCCESS ||
      !AllocateAndInitializeSid(&pkg, 2, SECURITY_APP_PACKAGE_BASE_RID,
                                SECURITY_BUILTIN_PACKAGE_ANY_PACKAGE, 0, 0, 0,
                                0, 0, 0, &all)) {
    printf("error %lu\n", (unsigned long)e);
    return 1;
  }
  for (DWORD i = 0; dacl && i < dacl->AceCount; i++) {
    ACCESS_ALLOWED_ACE *a;
    if (GetAce(dacl, i, (void **)&a) &&
        a->Header.AceType == ACCESS_ALLOWED_ACE_TYPE &&
        EqualSid((PSID)&a->SidStart, all))
      ac++;
  }
  for (DWORD i = 0; sacl && i < sacl->AceCount; i++) {
    SYSTEM_MANDATORY_LABEL_ACE *l;
    if (GetAce(sacl, i, (void **)&l) &&
        l->Header.AceType == SYSTEM_MANDATORY_LABEL_ACE_TYPE)
      snprintf(label, sizeof(label), "0x%lx:%lu", (unsigned long)l->Mask,
               (unsigned long)*GetSidSubAuthority((PSID)&l->SidStart, 0));
  }
  printf("label=%s ac=%u\n", label, ac);
  FreeSid(all);
  LocalFree(sd);
  CloseHandle(c.pipe);
  return 0;
}

/* The SDK's lookup by handle, then what that handle allows. */
static const char *result(BOOL ok, char *buf, size_t len) {
  if (ok)
    return "ok";
  snprintf(buf, len, "error %lu", (unsigned long)GetLastError());
  return buf;
}

static int handlemap(const char *pipe, const char *name, const char *mode) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  unsigned access = strcmp(mode, "write") == 0 ? SHMB_ACCESS_READ_WRITE
                                               : SHMB_ACCESS_READ;
  char w[32], r[32], d[32];
  shmb_open_info info;
  shmb_client *c;
  HANDLE h, dup = NULL;
  void *v;
  BOOL okw, okr, okd;
  int rc;

  if ((rc = shmb_connect(&opts, &c)) != 0 ||
      (rc = shmb__lookup_handle(c, name, access, &info, NULL,
                                &h)) != 0) {
    printf("error %s\n", shmb_err_name(rc));
    return 0;
  }
  if (!h) {
    printf("error no-handle (object %s)\n", info.object);
    return 0;
  }
  v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
  okw = v != NULL;
  result(okw, w, sizeof(w));
  if (v)
    UnmapViewOfFile(v);
  v = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
  okr = v != NULL;
  result(okr, r, sizeof(r));
  if (v)
    UnmapViewOfFile(v);
  okd = DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup,
                        FILE_MAP_WRITE | FILE_MAP_READ, FALSE, 0);
  result(okd, d, sizeof(d));
  if (dup)
    CloseHandle(dup);
  printf("map_write=%s map_read=%s dup_write=%s\n", okw ? "ok" : w,
         okr ? "ok" : r, okd ? "ok" : d);
  CloseHandle(h);
  shmb_disconnect(c);
  return 0;
}

static int procinfo(const char *pid) {
  printf("handles=%ld\n", count_handles((DWORD)strtoul(pid, NULL, 10)));
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "frame") == 0)
    return frame(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "idle") == 0)
    return idle(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "slow") == 0)
    return slow(argv[2]);
  if (argc == 4 && strcmp(argv[1], "squat") == 0)
    return squat(argv[2], argv[3]);
  if (argc == 6 && strcmp(argv[1], "load") == 0)
    return load(argv[2], argv[3], (unsigned)strtoul(argv[4], NULL, 10),
                (unsigned)strtoul(argv[5], NULL, 10));
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "pipeline") == 0)
    return pipeline(argv[2], (unsigned)strtoul(argv[3], NULL, 10), argv[4],
                    argc == 6 ? (unsigned)strtoul(argv[5], NULL, 10) : 0);
  if (argc == 3 && strcmp(argv[1], "procinfo") == 0)
    return procinfo(argv[2]);
  if (argc == 4 && strcmp(argv[1], "rev1") == 0)
    return rev1(argv[2], argv[3], 0);
  if (argc == 3 && strcmp(argv[1], "allnames") == 0)
    return allnames();
  if (argc == 4 && strcmp(argv[1], "rev1bell") == 0)
    return rev1(argv[2], argv[3], 1);
  if ((argc == 4 || argc == 5) && strcmp(argv[1], "closeafter") == 0)
    return closeafter(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
  if (argc == 6 && strcmp(argv[1], "handoff") == 0)
    return handoff(argv[0], argv[2], argv[3], argv[4], argv[5]);
  if (argc == 6 && strcmp(argv[1], "handoff-child") == 0)
    return handoff_child(argv[2], argv[3], argv[4], argv[5]);
  if (argc == 3 && strcmp(argv[1], "pipesd") == 0)
    return pipesd(argv[2]);
  if (argc == 4 && strcmp(argv[1], "names") == 0)
    return names(argv[2], argv[3]);
  if (argc == 5 && strcmp(argv[1], "handlemap") == 0)
    return handlemap(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: hostile pipeline PIPE N list|NAME [WAIT_MS] | "
                  "frame PIPE KIND | idle PIPE MS | slow PIPE "
                  "| squat PIPE MS | load PIPE NAME CLIENTS CYCLES | "
                  "procinfo PID | rev1 PIPE NAME | closeafter PIPE NAME [MS] | "
                  "handoff PIPE NAME alive|dead OUT | "
                  "handlemap PIPE NAME read|write | names PIPE NAME | "
                  "pipesd PIPE\n");
  return 2;
}
