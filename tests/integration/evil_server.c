/*
 * evil_server: a server that lies, to prove that the SDK and shmbctl
 * believe nothing they cannot check (design.md, security rule 9; issue 11,
 * "The SDK trusts nothing it is told"). It makes its pipe the way the real
 * service does, with an explicit owner (the current user unless told
 * otherwise: under Wine a pipe made with NULL attributes is not owned by
 * the user), answers HELLO like the service, and then answers OPEN, LIST,
 * STATUS and RELOAD with one chosen lie. Where the lie names an object, the
 * object is made first when it can be, so that an SDK that opened it
 * would succeed: a refusal then proves the check, not a missing object.
 *
 *   serve PIPE LIE [OWNER]  serve clients on PIPE, owned by OWNER (an SDDL
 *                           SID such as SY; default: this user), one after
 *                           another until killed; prints "listening", then
 *                           per client what it received and answered:
 *                           "connection 1: received HELLO OPEN",
 *                           "connection 1: replied LIE"
 *   open PIPE NAME read|write
 *                           an SDK caller: shmb_open (twice: the second is
 *                           measured), then prints "rc=", "message=", and
 *                           "handles_delta=" and "mapped_delta=" (handles
 *                           and mapped views that a refused open left
 *                           behind, which must be 0)
 *
 * LIE is one of:
 *   good            no lie: a real 4096-byte section owned by this user
 *   ns-session ns-other dotdot backslash overlong uppercase short prefix
 *                   OPEN names an object of that bad form
 *   owner           a valid-looking name, but the section is owned by SY
 *   owner-hidden    owned by SY and no READ_CONTROL for anyone (the real
 *                   LocalSystem service as a standard user sees it, if it
 *                   did not grant READ_CONTROL)
 *   size-large      says 1 MiB for a 4096-byte section
 *   size-small      says 4096 bytes for a 64 KiB section
 *   access-extra    grants read,write when read was asked for
 *   access-unknown  grants the asked bits plus 0x4
 *   stale-id        every reply after HELLO carries the previous id
 *   stale-error     the same, OPEN refused (SHMB_EACCES): a stale refusal
 *                   must not be taken for the answer either
 *   text            ESC, BEL and CR in OPEN's refusal, STATUS and RELOAD
 *   list-access     LIST has an entry with access 0x5
 *   late-handle     no lie, but late: HELLO chooses revision 2; OPEN waits
 *                   LATE_MS (1500), then duplicates a real, unnamed
 *                   4096-byte section (owned by this user) into the
 *                   process behind the pipe with the rights the service
 *                   gives, and answers by handle with that pid, as the
 *                   service does ("(delivered 0xH into pid P)")
 *   late-bell       the same section, but OPEN answers at once (by handle,
 *                   with the notify flag), and DOORBELL waits LATE_MS, then
 *                   duplicates a waiter's three objects (counter page,
 *                   event, armed page) with the service's rights and
 *                   answers by handle ("(bell 0xC 0xE 0xA into pid P)")
 *
 *   late PIPE NAME          an SDK caller against late-handle, with a
 *                           1000 ms timeout: shmb_open times out, then the
 *                           late answer is read (a) by the next request on
 *                           the connection (shmb_status, after 1 s) and (b)
 *                           by shmb_disconnect (at once). Prints per case
 *                           "next: open=RC status=RC handles_delta=N" and
 *                           "disconnect: open=RC handles_delta=N", N this
 *                           process's handles after less before (0: the
 *                           delivered handle was closed), then the open's
 *                           "message=" of case (a)
 *   latebell PIPE NAME      an SDK caller against late-bell, with a 1000 ms
 *                           timeout: shmb_open, then shmb_section_wait,
 *                           whose DOORBELL times out; the SDK reads the late
 *                           answer as it drops that connection. Prints
 *                           "wait=RC handles_delta=N" after shmb_close
 *                           (0: the three delivered handles were closed)
 */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "shmbroker.h"
#include "wstr.h"

#define EVIL_TEXT "denied\x1b[2J\x1b]0;pwned\x07\rFAKE: access granted"

typedef struct lie {
  const char *name;
  char object[512];   /* named in OPEN replies */
  uint64_t real_size; /* of the section made, 0: none */
  uint64_t said_size; /* in OPEN and LIST replies */
  const char *owner;  /* of the section made: SDDL SID, NULL: this user */
  uint32_t rights;    /* granted to WD on it */
  HANDLE late;        /* late-handle: the section delivered by handle */
  HANDLE bell[3];     /* late-bell: a waiter's counter, event, armed page */
} lie;

#define LATE_MS 1500

static char me[192]; /* this user's SID string */

static void hex(char *out, size_t n, unsigned seed, int upper) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  unsigned x = seed * 2654435761u + GetCurrentProcessId();
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    out[i] = digits[(x >> 16) & 15];
  }
  out[n] = '\0';
}

static int choose(const char *name, lie *l) {
  char h[201], h2[33];
  memset(l, 0, sizeof(*l));
  l->name = name;
  l->real_size = l->said_size = 4096;
  l->rights = GENERIC_ALL;
  hex(h, 32, 1, 0);
  snprintf(l->object, sizeof(l->object), "Local\\shmb-%s", h);
  if (strcmp(name, "ns-session") == 0)
    snprintf(l->object, sizeof(l->object), "Session\\1\\shmb-%s", h);
  else if (strcmp(name, "ns-other") == 0)
    snprintf(l->object, sizeof(l->object), "BaseNamedObjects\\shmb-%s", h);
  else if (strcmp(name, "dotdot") == 0)
    snprintf(l->object, sizeof(l->object), "Global\\..\\Local\\shmb-%s", h);
  else if (strcmp(name, "backslash") == 0)
    snprintf(l->object, sizeof(l->object), "Local\\shmb-%.16s\\%.15s", h,
             h + 16);
  else if (strcmp(name, "overlong") == 0) {
    hex(h, 200, 2, 0);
    snprintf(l->object, sizeof(l->object), "Local\\shmb-%s", h);
  } else if (strcmp(name, "uppercase") == 0) {
    hex(h2, 32, 1, 1);
    snprintf(l->object, sizeof(l->object), "Local\\shmb-%s", h2);
  } else if (strcmp(name, "short") == 0)
    snprintf(l->object, sizeof(l->object), "Local\\shmb-%.31s", h);
  else if (strcmp(name, "prefix") == 0)
    snprintf(l->object, sizeof(l->object), "Local\\evil-%s", h);
  else if (strcmp(name, "owner") == 0)
    l->owner = "SY";
  else if (strcmp(name, "owner-hidden") == 0) {
    l->owner = "SY";
    l->rights = SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE;
  } else if (strcmp(name, "size-large") == 0)
    l->said_size = 1u << 20;
  else if (strcmp(name, "size-small") == 0)
    l->real_size = 65536;
  else if (strcmp(name, "good") != 0 && strcmp(name, "access-extra") != 0 &&
           strcmp(name, "access-unknown") != 0 &&
           strcmp(name, "stale-id") != 0 &&
           strcmp(name, "stale-error") != 0 && strcmp(name, "text") != 0 &&
           strcmp(name, "list-access") != 0 &&
           strcmp(name, "late-handle") != 0 &&
           strcmp(name, "late-bell") != 0)
    return -1;
  return 0;
}

/* A security descriptor owned by owner (SDDL SID) that grants rights to
 * everyone. */
static PSECURITY_DESCRIPTOR make_sd(const char *owner, uint32_t rights) {
  char sddl[512];
  wchar_t *w;
  PSECURITY_DESCRIPTOR sd = NULL;
  snprintf(sddl, sizeof(sddl), "O:%sG:%sD:P(A;;0x%lx;;;WD)", owner, owner,
           (unsigned long)rights);
  if ((w = shmb__wide_from_utf8(sddl))) {
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(w, 1, &sd,
                                                              NULL))
      sd = NULL;
    free(w);
  }
  return sd;
}

/* The object the lie names, made when Windows lets us, owned as told. */
static HANDLE make_section(const lie *l) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  wchar_t *w = shmb__wide_from_utf8(l->object);
  HANDLE h = NULL;
  char *view;
  sa.lpSecurityDescriptor = make_sd(l->owner ? l->owner : me, l->rights);
  if (w && sa.lpSecurityDescriptor)
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0,
                           (DWORD)l->real_size, w);
  printf("section %s: %s\n", l->object, h ? "made" : "could not be made");
  if (h && (view = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0))) {
    strcpy(view, "evil bytes\n");
    UnmapViewOfFile(view);
  }
  LocalFree(sa.lpSecurityDescriptor);
  free(w);
  return h;
}

static int put(HANDLE pipe, uint8_t *frame, size_t len) {
  DWORD done;
  BOOL ok = WriteFile(pipe, frame, (DWORD)len, &done, NULL) && done == len;
  free(frame);
  return ok ? 0 : -1;
}

static int get(HANDLE pipe, void *buf, DWORD len) {
  DWORD done, total = 0;
  while (total < len) {
    if (!ReadFile(pipe, (char *)buf + total, len - total, &done, NULL) ||
        done == 0)
      return -1;
    total += done;
  }
  return 0;
}

/* Duplicates n objects into the process behind the pipe with their
 * rights, as the service would put them there: values[i], *pid. */
static int put_into_client(HANDLE pipe, const HANDLE *objects,
                           const DWORD *rights, int n, uint64_t *values,
                           ULONG *pid) {
  HANDLE client, remote;
  int ok = 1;
  if (!GetNamedPipeClientProcessId(pipe, pid) ||
      !(client = OpenProcess(PROCESS_DUP_HANDLE, FALSE, *pid)))
    return -1;
  for (int i = 0; i < n; i++) {
    remote = NULL;
    ok = ok && DuplicateHandle(GetCurrentProcess(), objects[i], client,
                               &remote, rights[i], FALSE, 0);
    values[i] = (uint64_t)(uintptr_t)remote;
  }
  CloseHandle(client);
  return ok ? 0 : -1;
}

/* late-handle's OPEN: after LATE_MS, the section goes into the process
 * behind the pipe as the service would put it, and the reply says so;
 * late-bell's at once, with the notify flag. */
static int late_open(HANDLE pipe, const lie *l, const shmb_request *req,
                     uint8_t **frame, size_t *len) {
  DWORD rights = SECTION_QUERY | FILE_MAP_READ | READ_CONTROL |
                 (req->access & SHMB_WIRE_ACCESS_WRITE ? FILE_MAP_WRITE : 0);
  ULONG pid = 0;
  uint64_t remote;
  if (!l->bell[0])
    Sleep(LATE_MS);
  if (put_into_client(pipe, &l->late, &rights, 1, &remote, &pid) != 0)
    return -1;
  printf(" (delivered 0x%llx into pid %lu)", (unsigned long long)remote,
         (unsigned long)pid);
  return shmb_encode_open_reply_handle(
      req->hdr.request_id, req->access, 4096,
      l->bell[0] ? SHMB_OPEN_FLAG_NOTIFY : 0, remote, pid, frame, len);
}

/* late-bell's DOORBELL (wait): after LATE_MS, a waiter's objects with the
 * rights the service gives a waiter, answered by handle. */
static int late_doorbell(HANDLE pipe, const lie *l, const shmb_request *req,
                         uint8_t **frame, size_t *len) {
  const DWORD rights[3] = {FILE_MAP_READ, SYNCHRONIZE,
                           FILE_MAP_READ | FILE_MAP_WRITE};
  shmb_wire_doorbell_handles h = {0};
  uint64_t v[3];
  ULONG pid = 0;
  Sleep(LATE_MS);
  if (req->access != SHMB_WIRE_ACCESS_READ ||
      put_into_client(pipe, l->bell, rights, 3, v, &pid) != 0)
    return -1;
  printf(" (bell 0x%llx 0x%llx 0x%llx into pid %lu)",
         (unsigned long long)v[0], (unsigned long long)v[1],
         (unsigned long long)v[2], (unsigned long)pid);
  h.counter = v[0];
  h.event = v[1];
  h.armed = v[2];
  h.pid = pid;
  return shmb_encode_doorbell_reply_handles(req->hdr.request_id, req->access,
                                            &h, frame, len);
}

/* The lie's answer to one request. */
static int answer(HANDLE pipe, const lie *l, const shmb_request *req) {
  uint32_t id = req->hdr.request_id, access = req->access;
  uint8_t op = req->hdr.opcode, *frame;
  shmb_frame_buf b;
  size_t len;
  int rc;

  if (op == SHMB_OP_HELLO)
    rc = shmb_encode_hello_reply(id, l->late ? 2 : SHMB_PROTO_VERSION,
                                 "evil 6.6.6", &frame, &len);
  else if (op == SHMB_OP_OPEN && l->late)
    rc = late_open(pipe, l, req, &frame, &len);
  else if (op == SHMB_OP_DOORBELL && l->bell[0])
    rc = late_doorbell(pipe, l, req, &frame, &len);
  else {
    if (strcmp(l->name, "stale-id") == 0 ||
        strcmp(l->name, "stale-error") == 0)
      id -= 1;
    if (strcmp(l->name, "access-extra") == 0)
      access = SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE;
    else if (strcmp(l->name, "access-unknown") == 0)
      access |= 0x4;
    if (op == SHMB_OP_OPEN && strcmp(l->name, "text") == 0)
      rc = shmb_encode_error(SHMB_OP_OPEN | SHMB_OP_REPLY, id, SHMB_EACCES,
                             EVIL_TEXT, &frame, &len);
    else if (op == SHMB_OP_OPEN && strcmp(l->name, "stale-error") == 0)
      rc = shmb_encode_error(SHMB_OP_OPEN | SHMB_OP_REPLY, id, SHMB_EACCES,
                             "an answer to another request", &frame, &len);
    else if (op == SHMB_OP_OPEN)
      rc = shmb_encode_open_reply(id, access, l->said_size, l->object, &frame,
                                  &len);
    else if (op == SHMB_OP_LIST) {
      shmb_list_reply_start(&b, id);
      shmb_list_reply_add(&b, "evil", l->said_size,
                          strcmp(l->name, "list-access") == 0 ? 0x5 : 0x1,
                          0);
      rc = shmb_frame_finish(&b, &frame, &len);
    } else if (op == SHMB_OP_STATUS) {
      shmb_status_reply_start(&b, id);
      shmb_status_reply_add(&b, "version", "6.6.6");
      shmb_status_reply_add(&b, "uptime_ms",
                            strcmp(l->name, "text") == 0 ? EVIL_TEXT : "1");
      rc = shmb_frame_finish(&b, &frame, &len);
    } else {
      rc = shmb_encode_message_reply(op | SHMB_OP_REPLY, id,
                                     strcmp(l->name, "text") == 0 ? EVIL_TEXT
                                                                  : "nothing",
                                     &frame, &len);
    }
  }
  return rc == 0 ? put(pipe, frame, len) : -1;
}

static const char *op_name(uint8_t op) {
  switch (op) {
  case SHMB_OP_HELLO: return "HELLO";
  case SHMB_OP_LIST: return "LIST";
  case SHMB_OP_OPEN: return "OPEN";
  case SHMB_OP_STATUS: return "STATUS";
  case SHMB_OP_RELOAD: return "RELOAD";
  case SHMB_OP_DOORBELL: return "DOORBELL";
  default: return "OTHER";
  }
}

static int serve(const char *pipe_name, const char *lie_name,
                 const char *owner) {
  uint8_t frame[SHMB_HEADER_SIZE + SHMB_MAX_REQUEST_PAYLOAD];
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  shmb_frame_header hdr;
  shmb_request req;
  wchar_t *w;
  HANDLE pipe, section = NULL;
  lie l;

  if (choose(lie_name, &l) != 0) {
    fprintf(stderr, "evil_server: unknown lie '%s'\n", lie_name);
    return 2;
  }
  if (strncmp(lie_name, "late-", 5) == 0) {
    SECURITY_ATTRIBUTES ssa = {sizeof(ssa), make_sd(me, GENERIC_ALL), FALSE};
    l.late = CreateFileMappingW(INVALID_HANDLE_VALUE, &ssa, PAGE_READWRITE, 0,
                                4096, NULL);
    if (strcmp(lie_name, "late-bell") == 0) {
      l.bell[0] = CreateFileMappingW(INVALID_HANDLE_VALUE, &ssa,
                                     PAGE_READWRITE, 0, 4096, NULL);
      l.bell[1] = CreateEventW(&ssa, FALSE, FALSE, NULL);
      l.bell[2] = CreateFileMappingW(INVALID_HANDLE_VALUE, &ssa,
                                     PAGE_READWRITE, 0, 4096, NULL);
      if (!l.bell[0] || !l.bell[1] || !l.bell[2])
        l.late = NULL;
    }
    LocalFree(ssa.lpSecurityDescriptor);
    if (!l.late) {
      printf("cannot make the section: error %lu\n",
             (unsigned long)GetLastError());
      return 1;
    }
  } else {
    section = make_section(&l);
  }
  sa.lpSecurityDescriptor = make_sd(owner ? owner : me, GENERIC_ALL);
  w = shmb__wide_from_utf8(pipe_name);
  pipe = CreateNamedPipeW(w, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                          1, 65536, 65536, 0, &sa);
  free(w);
  LocalFree(sa.lpSecurityDescriptor);
  if (pipe == INVALID_HANDLE_VALUE) {
    printf("cannot create the pipe: error %lu\n",
           (unsigned long)GetLastError());
    return 1;
  }
  printf("listening\n");
  /* One client after another, until the script ends us. */
  for (unsigned n = 1;; n++) {
    if (!ConnectNamedPipe(pipe, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
      break;
    printf("connection %u: received", n);
    while (get(pipe, frame, SHMB_HEADER_SIZE) == 0 &&
           shmb_frame_peek(frame, SHMB_HEADER_SIZE, SHMB_MAX_REQUEST_PAYLOAD,
                           &hdr) >= 0 &&
           get(pipe, frame + SHMB_HEADER_SIZE, hdr.length) == 0 &&
           shmb_request_decode(frame, SHMB_HEADER_SIZE + hdr.length, &req) ==
               0) {
      printf(" %s", op_name(req.hdr.opcode));
      if (answer(pipe, &l, &req) != 0)
        break;
    }
    printf("\nconnection %u: replied %s\n", n, lie_name);
    FlushFileBuffers(pipe);
    DisconnectNamedPipe(pipe);
  }
  CloseHandle(pipe);
  if (section)
    CloseHandle(section);
  return 0;
}

/* ---- the SDK caller ---------------------------------------------------- */

typedef struct handle_entry {
  void *object;
  ULONG_PTR pid, handle;
  ULONG access;
  USHORT creator_back_trace_index, object_type_index;
  ULONG attributes, reserved;
} handle_entry;

typedef struct handle_table {
  ULONG_PTR count, reserved;
  handle_entry entries[1];
} handle_table;

typedef LONG(NTAPI *query_fn)(ULONG, void *, ULONG, ULONG *);

/* This process's handles, from the system's handle table (Wine has no
 * GetProcessHandleCount). */
static long own_handles(void) {
  query_fn query = (query_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation");
  ULONG size = 1 << 20, need = 0;
  handle_table *t = NULL;
  long n = -1;
  for (int tries = 0; query && tries < 8; tries++, size *= 2) {
    LONG st;
    free(t);
    if (!(t = malloc(size)))
      return -1;
    st = query(64 /* SystemExtendedHandleInformation */, t, size, &need);
    if (st == 0) {
      n = 0;
      for (ULONG_PTR i = 0; i < t->count; i++)
        n += t->entries[i].pid == GetCurrentProcessId();
      break;
    }
    if (st != (LONG)0xC0000004) /* STATUS_INFO_LENGTH_MISMATCH */
      break;
  }
  free(t);
  return n;
}

/* Views of sections mapped into this process. */
static long mapped_views(void) {
  MEMORY_BASIC_INFORMATION mb;
  char *p = NULL;
  void *last = NULL;
  long n = 0;
  while (VirtualQuery(p, &mb, sizeof(mb)) == sizeof(mb)) {
    if (mb.Type == MEM_MAPPED && mb.AllocationBase != last) {
      n++;
      last = mb.AllocationBase;
    }
    if ((char *)mb.BaseAddress + mb.RegionSize <= p)
      break;
    p = (char *)mb.BaseAddress + mb.RegionSize;
  }
  return n;
}

/* One shmb_open on a connection of its own; *handles and *views are the
 * process's handles and views left after it, less those before it. */
static int open_once(const shmb_connect_options *opts, const char *name,
                     unsigned access, int report, long *handles,
                     long *views) {
  shmb_client *c;
  shmb_section *s = NULL;
  int rc = shmb_connect(opts, &c);

  if (rc != 0) {
    printf("rc=%s\nmessage=%s\n", shmb_err_name(rc), shmb_last_message(NULL));
    return rc;
  }
  *handles = own_handles();
  *views = mapped_views();
  rc = shmb_open(c, name, access, &s);
  if (report) {
    printf("rc=%s\nmessage=%s\n", shmb_err_name(rc), shmb_last_message(c));
    if (rc == 0)
      printf("size=%llu\ndata=%.10s\n",
             (unsigned long long)shmb_section_size(s),
             (const char *)shmb_section_data(s));
  }
  if (rc == 0)
    shmb_close(s);
  *handles = own_handles() - *handles;
  *views = mapped_views() - *views;
  shmb_disconnect(c);
  return 0;
}

static int open_as_client(const char *pipe, const char *name,
                          const char *how) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  unsigned access = strcmp(how, "write") == 0 ? SHMB_ACCESS_READ_WRITE
                                              : SHMB_ACCESS_READ;
  long handles, views;

  /* Once first: Windows' account lookups (named in the SDK's messages)
   * keep handles of their own open after their first use. The second
   * open is the one measured; the server answers both the same. */
  if (open_once(&opts, name, access, 0, &handles, &views) != 0 ||
      open_once(&opts, name, access, 1, &handles, &views) != 0)
    return 1;
  printf("handles_delta=%ld\nmapped_delta=%ld\n", handles, views);
  return 0;
}

/* late PIPE NAME: shmb_open times out against late-handle; the answer
 * that comes later must not leave its handle here, whether the next
 * request or shmb_disconnect reads it. */
static int late_client(const char *pipe, const char *name) {
  shmb_connect_options opts = {pipe, NULL, 1000};
  shmb_status_entry *st = NULL;
  shmb_section *s = NULL;
  shmb_client *c;
  char message[1024];
  size_t n = 0;
  long before;
  int rc, rc2;

  /* Once first: account lookups keep handles of their own open after
   * their first use. */
  if (shmb_connect(&opts, &c) != 0)
    return 1;
  shmb_disconnect(c);

  before = own_handles();
  if ((rc = shmb_connect(&opts, &c)) != 0) {
    printf("connect: %s\n", shmb_err_name(rc));
    return 1;
  }
  rc = shmb_open(c, name, SHMB_ACCESS_READ, &s);
  snprintf(message, sizeof(message), "%s", shmb_last_message(c));
  if (rc == 0)
    shmb_close(s);
  Sleep(1000); /* the answer is in the pipe by now */
  rc2 = shmb_status(c, &st, &n);
  if (rc2 == 0)
    shmb_free_status(st, n);
  shmb_disconnect(c);
  printf("next: open=%s status=%s handles_delta=%ld\n", shmb_err_name(rc),
         shmb_err_name(rc2), own_handles() - before);

  before = own_handles();
  if ((rc = shmb_connect(&opts, &c)) != 0) {
    printf("connect: %s\n", shmb_err_name(rc));
    return 1;
  }
  rc = shmb_open(c, name, SHMB_ACCESS_READ, &s);
  if (rc == 0)
    shmb_close(s);
  shmb_disconnect(c); /* the answer comes while this waits */
  Sleep(1000);        /* had it not waited, the handle would be here now */
  printf("disconnect: open=%s handles_delta=%ld\n", shmb_err_name(rc),
         own_handles() - before);
  printf("message=%s\n", message);
  return 0;
}

/* latebell PIPE NAME: a section opened at once, then a wait whose
 * DOORBELL times out; its late answer's three handles must not stay. */
static int latebell_client(const char *pipe, const char *name) {
  shmb_connect_options opts = {pipe, NULL, 1000};
  shmb_section *s = NULL;
  shmb_client *c;
  uint64_t seen = 0;
  long before;
  int rc;

  /* Once first: account lookups keep handles of their own open after
   * their first use. */
  if (shmb_connect(&opts, &c) != 0)
    return 1;
  shmb_disconnect(c);

  before = own_handles();
  if ((rc = shmb_connect(&opts, &c)) != 0 ||
      (rc = shmb_open(c, name, SHMB_ACCESS_READ, &s)) != 0) {
    printf("open: %s\n", shmb_err_name(rc));
    return 1;
  }
  /* The server takes one connection at a time; the doorbell's is next. */
  shmb_disconnect(c);
  rc = shmb_section_wait(s, &seen, 0);
  shmb_close(s);
  Sleep(1000); /* had the SDK not read the answer, its handles would be here */
  printf("wait=%s handles_delta=%ld\n", shmb_err_name(rc),
         own_handles() - before);
  return 0;
}

/* This user's SID as a string, the default owner of what we make. */
static int who_am_i(void) {
  BYTE buf[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  HANDLE token;
  DWORD len;
  LPSTR s;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
    return -1;
  if (!GetTokenInformation(token, TokenUser, buf, sizeof(buf), &len) ||
      !ConvertSidToStringSidA(((TOKEN_USER *)buf)->User.Sid, &s)) {
    CloseHandle(token);
    return -1;
  }
  snprintf(me, sizeof(me), "%s", s);
  LocalFree(s);
  CloseHandle(token);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (who_am_i() != 0) {
    fprintf(stderr, "evil_server: cannot read this process's user\n");
    return 1;
  }
  if ((argc == 4 || argc == 5) && strcmp(argv[1], "serve") == 0)
    return serve(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
  if (argc == 5 && strcmp(argv[1], "open") == 0)
    return open_as_client(argv[2], argv[3], argv[4]);
  if (argc == 4 && strcmp(argv[1], "late") == 0)
    return late_client(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "latebell") == 0)
    return latebell_client(argv[2], argv[3]);
  fprintf(stderr, "usage: evil_server serve PIPE LIE [OWNER] | "
                  "open PIPE NAME read|write | late PIPE NAME | "
                  "latebell PIPE NAME\n");
  return 2;
}
