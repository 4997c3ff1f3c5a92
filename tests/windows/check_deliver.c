/*
 * Tests for handle delivery (service/deliver.c) and the OPEN of a section
 * by handle (service/dispatch.c): the rights a delivered handle carries,
 * the checks on the target process, and taking a handle back. The target
 * is this process, at the far end of a pipe pair made here; a handle's
 * rights are read back from the kernel (NtQueryObject), not assumed.
 */
#include <windows.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "deliver.h"
#include "descriptor.h"
#include "dispatch.h"
#include "doorbell.h"
#include "errors.h"
#include "protocol.h"
#include "registry.h"
#include "winutil.h"

typedef struct pipe_pair {
  HANDLE server, client;
} pipe_pair;

static void pair_open(pipe_pair *p) {
  static unsigned n;
  wchar_t name[128];
  swprintf(name, 128, L"\\\\.\\pipe\\shmb-deliver-%lu-%u",
           (unsigned long)GetCurrentProcessId(), n++);
  p->server = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX,
                               PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0,
                               NULL);
  ck_assert_msg(p->server != INVALID_HANDLE_VALUE, "CreateNamedPipeW: %lu",
                (unsigned long)GetLastError());
  p->client = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                          OPEN_EXISTING, 0, NULL);
  ck_assert_msg(p->client != INVALID_HANDLE_VALUE, "CreateFileW: %lu",
                (unsigned long)GetLastError());
  ck_assert(ConnectNamedPipe(p->server, NULL) ||
            GetLastError() == ERROR_PIPE_CONNECTED);
}

static void pair_close(pipe_pair *p) {
  if (p->client)
    CloseHandle(p->client);
  CloseHandle(p->server);
}

static uint64_t now(void) {
  FILETIME t;
  GetSystemTimeAsFileTime(&t);
  return (uint64_t)t.dwHighDateTime << 32 | t.dwLowDateTime;
}

/* An unnamed section with the normalised descriptor of sddl. */
static HANDLE unnamed_section(const char *sddl, PSECURITY_DESCRIPTOR *sd) {
  char err[512], text[1024], *me = test_self_sid_text();
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  HANDLE h;
  test_with_sid(sddl, me, text, sizeof(text));
  free(me);
  ck_assert_msg(svc_sd_from_sddl(text, sd, NULL, err, sizeof(err)) == 0, "%s",
                err);
  sa.lpSecurityDescriptor = *sd;
  h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, 65536,
                         NULL);
  ck_assert_ptr_nonnull(h);
  return h;
}

/* The rights the kernel says a handle of ours has; 0 for no handle. */
static ACCESS_MASK granted_of(uint64_t value) {
  typedef LONG(NTAPI * query_fn)(HANDLE, int, void *, ULONG, ULONG *);
  query_fn q = (query_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
  struct {
    ULONG attributes;
    ACCESS_MASK granted;
    ULONG rest[12];
  } info;
  ULONG got;
  ck_assert_ptr_nonnull(q);
  if (q((HANDLE)(uintptr_t)value, 0, &info, sizeof(info), &got) != 0)
    return 0;
  return info.granted;
}

static int handle_open(uint64_t value) {
  DWORD flags;
  return GetHandleInformation((HANDLE)(uintptr_t)value, &flags) != 0;
}

#define GRANT_RW "D:P(A;;GRGW;;;{me})"

START_TEST(test_deliver_rights_exactly_the_grant) {
  DWORD r = svc_delivery_rights(SHMB_WIRE_ACCESS_READ);
  DWORD rw = svc_delivery_rights(SHMB_WIRE_ACCESS_READ |
                                 SHMB_WIRE_ACCESS_WRITE);
  /* READ_CONTROL: the SDK reads the owner, as it does by name. */
  ck_assert_uint_eq(r, SECTION_QUERY | FILE_MAP_READ | READ_CONTROL);
  ck_assert_uint_eq(rw, SECTION_QUERY | FILE_MAP_READ | FILE_MAP_WRITE |
                            READ_CONTROL);
  ck_assert_uint_eq(rw & (WRITE_DAC | WRITE_OWNER | DELETE |
                          SECTION_MAP_EXECUTE | SECTION_EXTEND_SIZE), 0);
}
END_TEST

/* Delivered read-only: the kernel holds exactly query and map-read, the
 * handle maps for read and not for write; delivered stays open. */
START_TEST(test_deliver_read_only_into_caller) {
  PSECURITY_DESCRIPTOR sd;
  HANDLE section = unnamed_section(GRANT_RW, &sd);
  svc_caller me;
  svc_target t = {0};
  svc_delivery d;
  pipe_pair p;
  char err[512];
  void *v;
  DWORD e;
  int rc;

  pair_open(&p);
  test_caller_from_self(&me);
  rc = svc_deliver_handle(p.server, GetCurrentProcessId(), now(), &me, &t, sd,
                          section,
                          svc_delivery_rights(SHMB_WIRE_ACCESS_READ), &d, err,
                          sizeof(err));
  ck_assert_msg(rc == 0, "svc_deliver_handle: %s: %s", shmb_err_name(rc),
                err);
  ck_assert_uint_ne(d.remote, 0);
  ck_assert_uint_eq(granted_of(d.remote),
                      SECTION_QUERY | FILE_MAP_READ | READ_CONTROL);
  v = MapViewOfFile((HANDLE)(uintptr_t)d.remote, FILE_MAP_WRITE, 0, 0, 0);
  e = GetLastError();
  ck_assert_msg(v == NULL, "a read-only handle mapped for write");
  ck_assert_uint_eq(e, ERROR_ACCESS_DENIED);
  v = MapViewOfFile((HANDLE)(uintptr_t)d.remote, FILE_MAP_READ, 0, 0, 0);
  ck_assert_ptr_nonnull(v);
  UnmapViewOfFile(v);
  {
    uint64_t remote = d.remote;
    svc_delivery_end(&d, 1);
    ck_assert_ptr_null(d.process);
    ck_assert_msg(handle_open(remote), "a delivered handle was closed");
    CloseHandle((HANDLE)(uintptr_t)remote);
  }
  /* A second OPEN on the connection: the target checked once is used
   * again (the same process handle), the answer the same. */
  {
    HANDLE held = t.process;
    ck_assert_ptr_nonnull(held);
    ck_assert_int_eq(svc_deliver_handle(p.server, GetCurrentProcessId(),
                                        now(), &me, &t, sd, section,
                                        svc_delivery_rights(1), &d, err,
                                        sizeof(err)), 0);
    ck_assert_ptr_eq(t.process, held);
    ck_assert_uint_eq(granted_of(d.remote),
                      SECTION_QUERY | FILE_MAP_READ | READ_CONTROL);
    svc_delivery_end(&d, 0);
  }
  svc_target_release(&t);
  ck_assert_ptr_null(t.process);
  svc_caller_release(&me);
  pair_close(&p);
  CloseHandle(section);
  LocalFree(sd);
}
END_TEST

/* A reply that could not be written: the handle is closed in the target. */
START_TEST(test_deliver_taken_back_when_not_delivered) {
  PSECURITY_DESCRIPTOR sd;
  HANDLE section = unnamed_section(GRANT_RW, &sd);
  uint64_t delivered, back0, back1, remote;
  svc_caller me;
  svc_target t = {0};
  svc_delivery d;
  pipe_pair p;
  char err[512];

  pair_open(&p);
  test_caller_from_self(&me);
  svc_delivery_counts(&delivered, &back0);
  ck_assert_int_eq(svc_deliver_handle(p.server, GetCurrentProcessId(), now(),
                                      &me, &t, sd, section,
                                      svc_delivery_rights(3), &d, err,
                                      sizeof(err)), 0);
  remote = d.remote;
  ck_assert_uint_eq(granted_of(remote),
                    SECTION_QUERY | FILE_MAP_READ | FILE_MAP_WRITE |
                        READ_CONTROL);
  svc_delivery_end(&d, 0);
  ck_assert_msg(!handle_open(remote), "the handle stayed in the target");
  svc_delivery_counts(&delivered, &back1);
  ck_assert_uint_eq(back1, back0 + 1);
  svc_target_release(&t);
  svc_caller_release(&me);
  pair_close(&p);
  CloseHandle(section);
  LocalFree(sd);
}
END_TEST

/* Taking back from another process: a child (ping, waiting a few
 * seconds, with no standard handles of ours: ctest waits for whoever holds
 * the test's output) is the target; after svc_delivery_end(0) the handle
 * value no longer names anything in the child. */
START_TEST(test_deliver_taken_back_from_another_process) {
  PSECURITY_DESCRIPTOR sd;
  HANDLE section = unnamed_section(GRANT_RW, &sd), probe = NULL;
  wchar_t cmd[] = L"ping.exe -n 6 127.0.0.1";
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  svc_target t = {0};
  svc_caller me;
  svc_delivery d;
  pipe_pair p;
  char err[512];
  uint64_t remote;
  int rc;

  memset(&si, 0, sizeof(si));
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES; /* all three NULL */
  ck_assert_msg(CreateProcessW(NULL, cmd, NULL, NULL, FALSE, DETACHED_PROCESS,
                               NULL, NULL, &si, &pi),
                "cannot start the child: %lu", (unsigned long)GetLastError());
  Sleep(200);
  pair_open(&p);
  test_caller_from_self(&me);
  rc = svc_deliver_handle(p.server, pi.dwProcessId, now(), &me, &t, sd,
                          section, svc_delivery_rights(1), &d, err,
                          sizeof(err));
  ck_assert_msg(rc == 0, "into the child: %s (%s)", shmb_err_name(rc), err);
  remote = d.remote;
  /* There now: a copy of it can be taken out (and closed again). */
  ck_assert(DuplicateHandle(pi.hProcess, (HANDLE)(uintptr_t)remote,
                            GetCurrentProcess(), &probe, 0, FALSE,
                            DUPLICATE_SAME_ACCESS));
  CloseHandle(probe);
  probe = NULL;
  svc_delivery_end(&d, 0);
  ck_assert_msg(!DuplicateHandle(pi.hProcess, (HANDLE)(uintptr_t)remote,
                                 GetCurrentProcess(), &probe, 0, FALSE,
                                 DUPLICATE_SAME_ACCESS),
                "the handle 0x%llx is still in the child after the take-back",
                (unsigned long long)remote);
  svc_target_release(&t);
  svc_caller_release(&me);
  pair_close(&p);
  TerminateProcess(pi.hProcess, 0);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(section);
  LocalFree(sd);
}
END_TEST

/* Refusals: a process younger than the connection (its pid reused), a
 * target whose own token the section does not grant, and the client's end
 * closed (the handle is then taken back at once). None leaves a handle
 * behind. */
START_TEST(test_deliver_refusals) {
  PSECURITY_DESCRIPTOR sd, sd_sy;
  HANDLE section = unnamed_section(GRANT_RW, &sd);
  HANDLE sy = unnamed_section("D:P(A;;GA;;;SY)", &sd_sy);
  uint64_t delivered0, delivered1, back0, back1;
  svc_target t = {0};
  svc_caller me;
  svc_delivery d;
  pipe_pair p;
  char err[512];
  int rc;

  test_caller_from_self(&me);
  pair_open(&p);

  rc = svc_deliver_handle(p.server, GetCurrentProcessId(), 0, &me, &t, sd,
                          section, svc_delivery_rights(1), &d, err,
                          sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "younger process: %s (%s)",
                shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, "reused") != NULL, "message: %s", err);
  ck_assert_ptr_null(d.process);
  ck_assert_ptr_null(t.process); /* nothing held for a refused target */

  err[0] = '\0';
  rc = svc_deliver_handle(p.server, GetCurrentProcessId(), now(), &me, &t,
                          sd_sy, sy, svc_delivery_rights(1), &d, err,
                          sizeof(err));
  ck_assert_msg(rc == SHMB_EACCES, "target not granted: %s (%s)",
                shmb_err_name(rc), err);
  ck_assert_msg(strstr(err, "own token") != NULL, "message: %s", err);

  /* A client that closed its end: nothing looks at the pipe before the
   * reply (a kernel call per open); the reply's write fails, as conn.c
   * writes it, and the handle is taken back. */
  svc_delivery_counts(&delivered0, &back0);
  CloseHandle(p.client);
  p.client = NULL;
  rc = svc_deliver_handle(p.server, GetCurrentProcessId(), now(), &me, &t, sd,
                          section, svc_delivery_rights(1), &d, err,
                          sizeof(err));
  ck_assert_msg(rc == 0, "closed pipe: %s (%s)", shmb_err_name(rc), err);
  {
    DWORD put = 0;
    BOOL wrote = WriteFile(p.server, "reply", 5, &put, NULL);
    ck_assert_msg(!wrote, "a reply was written to a pipe whose client "
                  "closed its end (%lu bytes)", (unsigned long)put);
    svc_delivery_end(&d, wrote);
  }
  ck_assert_ptr_null(d.process);
  svc_delivery_counts(&delivered1, &back1);
  ck_assert_msg(delivered1 - delivered0 == 1 && back1 - back0 == 1,
                "%llu delivered to a closed pipe, %llu taken back",
                (unsigned long long)(delivered1 - delivered0),
                (unsigned long long)(back1 - back0));

  svc_target_release(&t);
  svc_caller_release(&me);
  pair_close(&p);
  CloseHandle(section);
  CloseHandle(sy);
  LocalFree(sd);
  LocalFree(sd_sy);
}
END_TEST

/* OPEN of a section by handle through dispatch: revision 1 is told
 * SHMB_EVERSION; a context that cannot deliver is SHMB_EINTERNAL; a
 * revision-2 OPEN replies with the handle and no name. */
#define HANDLE_CONFIG                                                          \
  "[service]\nnamespace = Local\nlog_level = error\n"                          \
  "\n[section byhandle]\nsize = 8192\ndelivery = handle\n"                    \
  "sddl = D:P(A;;GRGW;;;{me})\n"

static int open_status(svc_request_ctx *ctx, shmb_open_reply *rep,
                       uint8_t **frame) {
  shmb_frame_header hdr;
  shmb_request req;
  uint8_t *f;
  size_t n, rlen;
  ck_assert_int_eq(shmb_encode_open(3, "byhandle", SHMB_WIRE_ACCESS_READ, &f,
                                    &n), 0);
  ck_assert_int_eq(shmb_request_decode(f, n, &req), 0);
  free(f);
  ck_assert_int_eq(svc_dispatch(ctx, &req, frame, &rlen), 0);
  ck_assert_int_eq(shmb_frame_peek(*frame, rlen, SHMB_MAX_PAYLOAD, &hdr), 0);
  return shmb_open_reply_decode(*frame + SHMB_HEADER_SIZE, hdr.length, rep);
}

START_TEST(test_deliver_dispatch_by_revision) {
  char *dir = test_temp_dir("deliver");
  char *path = test_path_in(dir, "shmb.conf");
  svc_request_ctx ctx = {0};
  svc_delivery d = {0};
  svc_target target = {0};
  shmb_open_reply rep;
  svc_broker b;
  svc_caller me;
  pipe_pair p;
  uint8_t *frame;
  int revision = 1, rc;

  test_write_config(path, dir, HANDLE_CONFIG);
  test_broker_open(&b, path, 1);
  test_caller_from_self(&me);
  pair_open(&p);
  ck_assert_int_eq(svc_registry_find(b.reg, "byhandle")->object[0], '\0');
  ctx.b = &b;
  ctx.who = &me;
  ctx.pid = GetCurrentProcessId();
  ctx.account = me.sid;
  ctx.revision = &revision;
  ctx.pipe = p.server;
  ctx.connected_at = now();

  rc = open_status(&ctx, &rep, &frame);
  ck_assert_msg(rc == SHMB_EVERSION, "revision 1: %s", shmb_err_name(rc));
  free(frame);

  revision = 2; /* no delivery slot: cannot deliver */
  rc = open_status(&ctx, &rep, &frame);
  ck_assert_msg(rc == SHMB_EINTERNAL, "no delivery: %s", shmb_err_name(rc));
  free(frame);

  ctx.delivery = &d;
  ctx.target = &target;
  rc = open_status(&ctx, &rep, &frame);
  ck_assert_msg(rc == 0, "revision 2: %s", shmb_err_name(rc));
  ck_assert_uint_eq(rep.flags & SHMB_OPEN_FLAG_HANDLE, SHMB_OPEN_FLAG_HANDLE);
  ck_assert_uint_eq(rep.object.len, 0);
  ck_assert_uint_eq(rep.handle, d.remote);
  ck_assert_uint_eq(granted_of(rep.handle),
                    SECTION_QUERY | FILE_MAP_READ | READ_CONTROL);
  /* The reply names the process the handle went into. */
  ck_assert_uint_eq(rep.pid, GetCurrentProcessId());
  free(frame);
  svc_delivery_end(&d, 0);
  ck_assert(!handle_open(rep.handle));

  pair_close(&p);
  svc_target_release(&target);
  svc_caller_release(&me);
  svc_broker_release(&b);
  test_remove_dir(dir);
  free(path);
  free(dir);
}
END_TEST

#define BELL_CONFIG                                                            \
  "[service]\nnamespace = Local\nlog_level = error\n"                          \
  "\n[section hbell]\nsize = 4096\nnotify = yes\ndelivery = handle\n"        \
  "sddl = D:P(A;;GRGW;;;{me})\n"

/* A request for hbell through dispatch: the reply's payload in *frame
 * (free()), its status returned. */
static int bell_request(svc_request_ctx *ctx, uint8_t opcode, uint32_t access,
                        uint64_t since, uint8_t **frame, const uint8_t **p,
                        size_t *plen) {
  shmb_frame_header hdr;
  shmb_request req;
  uint8_t *f;
  size_t n, rlen;
  if (opcode == SHMB_OP_PEERS)
    ck_assert_int_eq(shmb_encode_peers(4, "hbell", since, &f, &n), 0);
  else
    ck_assert_int_eq(shmb_encode_doorbell(4, "hbell", access, &f, &n), 0);
  ck_assert_int_eq(shmb_request_decode(f, n, &req), 0);
  free(f);
  ck_assert_int_eq(svc_dispatch(ctx, &req, frame, &rlen), 0);
  ck_assert_int_eq(shmb_frame_peek(*frame, rlen, SHMB_MAX_PAYLOAD, &hdr), 0);
  *p = *frame + SHMB_HEADER_SIZE;
  *plen = hdr.length;
  return shmb_reply_status_code(*p, *plen, NULL, 0);
}

/* The doorbell of a section by handle: no names anywhere; revision 1 is
 * refused; a ringer and a waiter get exactly the rights the SDK needs,
 * PEERS the waiter's event (signal only) and armed page (read only), and
 * nothing stays in the process when the reply is not delivered. */
START_TEST(test_deliver_doorbell_by_handle) {
  char *dir = test_temp_dir("deliver");
  char *path = test_path_in(dir, "shmb.conf");
  svc_request_ctx ctx = {0};
  svc_delivery d = {0};
  svc_target target = {0};
  shmb_doorbell_reply rep;
  shmb_peers_head head;
  shmb_peer_item it;
  shmb_cursor cur;
  svc_broker b;
  svc_caller me;
  svc_doorbell *bell;
  pipe_pair p;
  uint8_t *frame;
  const uint8_t *pl;
  size_t plen;
  int revision = 1, keep = 0, rc;

  test_write_config(path, dir, BELL_CONFIG);
  test_broker_open(&b, path, 1);
  test_caller_from_self(&me);
  pair_open(&p);
  bell = svc_registry_find(b.reg, "hbell")->bell;
  ck_assert_ptr_nonnull(bell);
  ck_assert_msg(!bell->counter_name[0] && !bell->registry_name[0],
                "an unnamed doorbell has names: '%s', '%s'",
                bell->counter_name, bell->registry_name);
  ctx.b = &b;
  ctx.who = &me;
  ctx.pid = GetCurrentProcessId();
  ctx.account = me.sid;
  ctx.revision = &revision;
  ctx.keep_open = &keep;
  ctx.pipe = p.server;
  ctx.connected_at = now();
  ctx.owner = &ctx;
  ctx.delivery = &d;
  ctx.target = &target;

  rc = bell_request(&ctx, SHMB_OP_DOORBELL, SHMB_WIRE_ACCESS_READ, 0, &frame,
                    &pl, &plen);
  ck_assert_msg(rc == SHMB_EVERSION, "revision 1: %s", shmb_err_name(rc));
  ck_assert_uint_eq(bell->live, 0);
  free(frame);
  revision = 2;

  /* The ringer: counter read-write, registry read. */
  rc = bell_request(&ctx, SHMB_OP_DOORBELL, SHMB_WIRE_ACCESS_WRITE, 0, &frame,
                    &pl, &plen);
  ck_assert_msg(rc == 0, "ring: %s", shmb_err_name(rc));
  ck_assert_int_eq(shmb_doorbell_reply_decode(pl, plen, &rep), 0);
  ck_assert_uint_eq(rep.flags, SHMB_BELL_FLAG_HANDLE);
  ck_assert_uint_eq(rep.pid, GetCurrentProcessId());
  ck_assert_uint_eq(granted_of(rep.counter_h), FILE_MAP_READ | FILE_MAP_WRITE);
  ck_assert_uint_eq(granted_of(rep.registry_h), FILE_MAP_READ);
  ck_assert_int_eq(keep, 1);
  free(frame);
  svc_delivery_end(&d, 0);
  ck_assert(!handle_open(rep.counter_h) && !handle_open(rep.registry_h));

  /* The waiter: counter read, event wait only, armed page read-write. */
  rc = bell_request(&ctx, SHMB_OP_DOORBELL, SHMB_WIRE_ACCESS_READ, 0, &frame,
                    &pl, &plen);
  ck_assert_msg(rc == 0, "wait: %s", shmb_err_name(rc));
  ck_assert_int_eq(shmb_doorbell_reply_decode(pl, plen, &rep), 0);
  ck_assert_uint_eq(granted_of(rep.counter_h), FILE_MAP_READ);
  ck_assert_uint_eq(granted_of(rep.event_h), SYNCHRONIZE);
  ck_assert_uint_eq(granted_of(rep.armed_h), FILE_MAP_READ | FILE_MAP_WRITE);
  ck_assert_uint_eq(bell->live, 1);
  ck_assert_uint_eq(bell->reg->entries[bell->added].id, 1);
  ck_assert_msg(!bell->reg->entries[bell->added].event[0],
                "the registry names the waiter's event: %s",
                bell->reg->entries[bell->added].event);
  free(frame);
  svc_delivery_end(&d, 0);
  ck_assert(!handle_open(rep.counter_h) && !handle_open(rep.event_h) &&
            !handle_open(rep.armed_h));

  /* PEERS: the waiter's event to signal and armed page to read; since
   * past its id: listed without handles. */
  rc = bell_request(&ctx, SHMB_OP_PEERS, 0, 0, &frame, &pl, &plen);
  ck_assert_msg(rc == 0, "peers: %s", shmb_err_name(rc));
  ck_assert_int_eq(shmb_peers_reply_begin(pl, plen, &cur, &head), 0);
  ck_assert_uint_eq(cur.remaining, 1);
  ck_assert_uint_eq(head.next, 2);
  ck_assert_uint_eq(head.pid, GetCurrentProcessId());
  ck_assert_uint_eq(head.generation, bell->reg->generation);
  ck_assert_int_eq(shmb_peers_reply_next(&cur, &it), 0);
  ck_assert_uint_eq(it.id, 1);
  ck_assert_uint_eq(granted_of(it.event), EVENT_MODIFY_STATE);
  ck_assert_uint_eq(granted_of(it.armed), FILE_MAP_READ);
  free(frame);
  svc_delivery_end(&d, 0);
  ck_assert(!handle_open(it.event) && !handle_open(it.armed));
  rc = bell_request(&ctx, SHMB_OP_PEERS, 0, head.next, &frame, &pl, &plen);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(shmb_peers_reply_begin(pl, plen, &cur, &head), 0);
  ck_assert_int_eq(shmb_peers_reply_next(&cur, &it), 0);
  ck_assert_msg(it.event == 0 && it.armed == 0 && d.process == NULL,
                "since past the waiter: handles 0x%llx, 0x%llx delivered",
                (unsigned long long)it.event, (unsigned long long)it.armed);
  free(frame);

  ck_assert_uint_eq(svc_doorbell_drop_owner(bell, &ctx), 1);
  pair_close(&p);
  svc_target_release(&target);
  svc_caller_release(&me);
  svc_broker_release(&b);
  test_remove_dir(dir);
  free(path);
  free(dir);
}
END_TEST

Suite *deliver_suite(void) {
  Suite *s = suite_create("deliver");
  TCase *tc = tcase_create("deliver");
  tcase_add_test(tc, test_deliver_rights_exactly_the_grant);
  tcase_add_test(tc, test_deliver_read_only_into_caller);
  tcase_add_test(tc, test_deliver_taken_back_when_not_delivered);
  tcase_add_test(tc, test_deliver_taken_back_from_another_process);
  tcase_add_test(tc, test_deliver_refusals);
  tcase_add_test(tc, test_deliver_dispatch_by_revision);
  tcase_add_test(tc, test_deliver_doorbell_by_handle);
  suite_add_tcase(s, tc);
  return s;
}
