/*
 * Tests for request dispatch (service/dispatch.c): from a request, as a
 * client's encoder writes it and the service's decoder reads it, to the
 * reply, as a client's reply decoders read it. No pipe and no loop: the
 * broker is loaded from a config file in a temp folder, and the caller is
 * either made from this process's token (as the connection would make it
 * from the pipe) or NULL (the connection could not identify it). Sections
 * that must be out of the caller's reach grant only SYSTEM, which never
 * matches the test user. The refusal messages are being reworded, so only
 * status codes, counters and what a message must never contain (an object
 * name, a section the caller may not see) are asserted, never the wording.
 */
#include <windows.h>

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "dispatch.h"
#include "errors.h"
#include "protocol.h"
#include "registry.h"
#include "winutil.h"
#include "wstr.h"

#define SERVICE "[service]\nnamespace = Local\nlog_level = error\n"
#define SECTIONS                                                               \
  "\n[section shared]\nsize = 8192\nsddl = D:P(A;;GRGW;;;{me})\n"              \
  "\n[section readonly]\nsize = 4096\nread = {me}\n"                          \
  "\n[section secret-sy]\nsize = 4096\nsddl = D:P(A;;GA;;;SY)\n"              \
  "\n[section data]\nsize = 4096\nwrite = {me}\n"                             \
  "backing = file:{dir}\\data.bin\n"

typedef struct fixture {
  char *dir, *path;
  svc_broker b;
  svc_caller me;
  svc_request_ctx ctx; /* who = &me */
  svc_request_ctx anon; /* who = NULL */
} fixture;

static void fx_open(fixture *f, const char *tmpl) {
  memset(f, 0, sizeof(*f));
  f->dir = test_temp_dir("dispatch");
  f->path = test_path_in(f->dir, "shmb.conf");
  test_write_config(f->path, f->dir, tmpl);
  test_broker_open(&f->b, f->path, 1);
  test_caller_from_self(&f->me);
  f->ctx.b = &f->b;
  f->ctx.who = &f->me;
  f->ctx.pid = GetCurrentProcessId();
  f->ctx.clients = 3;
  /* The connection reads the process's account before identifying it. */
  f->ctx.account = f->me.sid;
  f->anon = f->ctx;
  f->anon.who = NULL;
}

static void fx_close(fixture *f) {
  svc_caller_release(&f->me);
  svc_broker_release(&f->b);
  test_remove_dir(f->dir);
  free(f->path);
  free(f->dir);
}

/* One reply: the frame (free()) and its payload inside it. */
typedef struct reply {
  uint8_t *frame;
  size_t len;
  const uint8_t *payload;
  size_t plen;
} reply;

/* Decodes an encoded request as the connection does, dispatches it, and
 * checks the reply's framing: whole, the request's opcode with
 * SHMB_OP_REPLY and the same request id. Frees the request frame. */
static reply run(const svc_request_ctx *ctx, uint8_t *req_frame,
                 size_t req_len, int enc_rc) {
  shmb_frame_header hdr;
  shmb_request req;
  reply r = {0};
  int rc;

  ck_assert_msg(enc_rc == 0, "encoding the request: %s",
                shmb_err_name(enc_rc));
  rc = shmb_request_decode(req_frame, req_len, &req);
  ck_assert_msg(rc == 0, "shmb_request_decode: %s", shmb_err_name(rc));
  free(req_frame);
  rc = svc_dispatch(ctx, &req, &r.frame, &r.len);
  ck_assert_msg(rc == 0, "svc_dispatch(opcode 0x%x) = %s",
                (unsigned)req.hdr.opcode, shmb_err_name(rc));
  ck_assert_ptr_nonnull(r.frame);
  rc = shmb_frame_peek(r.frame, r.len, SHMB_MAX_PAYLOAD, &hdr);
  ck_assert_msg(rc == 0, "the reply is not one whole frame: %d", rc);
  ck_assert_uint_eq(SHMB_HEADER_SIZE + hdr.length, r.len);
  ck_assert_msg(hdr.opcode == (req.hdr.opcode | SHMB_OP_REPLY),
                "reply opcode 0x%x to request 0x%x", (unsigned)hdr.opcode,
                (unsigned)req.hdr.opcode);
  ck_assert_uint_eq(hdr.request_id, req.hdr.request_id);
  r.payload = r.frame + SHMB_HEADER_SIZE;
  r.plen = hdr.length;
  return r;
}

static reply do_hello(const svc_request_ctx *ctx, uint8_t lo, uint8_t hi) {
  uint8_t *f = NULL;
  size_t n = 0;
  int rc = shmb_encode_hello(11, lo, hi, &f, &n);
  return run(ctx, f, n, rc);
}

static reply do_list(const svc_request_ctx *ctx) {
  uint8_t *f = NULL;
  size_t n = 0;
  int rc = shmb_encode_list(12, &f, &n);
  return run(ctx, f, n, rc);
}

static reply do_open(const svc_request_ctx *ctx, const char *name,
                     uint32_t access) {
  uint8_t *f = NULL;
  size_t n = 0;
  int rc = shmb_encode_open(13, name, access, &f, &n);
  return run(ctx, f, n, rc);
}

static reply do_status(const svc_request_ctx *ctx) {
  uint8_t *f = NULL;
  size_t n = 0;
  int rc = shmb_encode_status(14, &f, &n);
  return run(ctx, f, n, rc);
}

static reply do_reload(const svc_request_ctx *ctx) {
  uint8_t *f = NULL;
  size_t n = 0;
  int rc = shmb_encode_reload(15, &f, &n);
  return run(ctx, f, n, rc);
}

/* The reply's status, which must be `want`; its message into msg. */
static void expect_status(reply r, int want, const char *what, char *msg,
                          size_t msglen) {
  int rc = shmb_reply_status_code(r.payload, r.plen, msg, msglen);
  ck_assert_msg(rc == want, "%s: reply status %s, expected %s (message "
                "'%s')", what, shmb_err_name(rc), shmb_err_name(want),
                msg ? msg : "");
}

/* A refusal: status want, and a message that is not empty. */
static void expect_refusal(reply r, int want, const char *what, char *msg,
                           size_t msglen) {
  expect_status(r, want, what, msg, msglen);
  ck_assert_msg(msg[0] != '\0', "%s: refused without a message", what);
}

/* ----- HELLO ----- */

START_TEST(test_dispatch_hello) {
  fixture f;
  shmb_hello_reply h;
  reply r;
  int rc;

  fx_open(&f, SERVICE SECTIONS);
  r = do_hello(&f.ctx, 1, 3);
  rc = shmb_hello_reply_decode(r.payload, r.plen, &h);
  ck_assert_msg(rc == 0, "HELLO 1..3: %s", shmb_err_name(rc));
  /* The highest revision both sides know. */
  ck_assert_uint_eq(h.version, SHMB_PROTO_REVISION);
  ck_assert_uint_eq(h.max_frame, SHMB_MAX_FRAME);
  ck_assert_msg(h.server.len > 0 && memcmp(h.server.ptr, "shmbrokerd",
                                           10) == 0,
                "server '%.*s'", (int)h.server.len, h.server.ptr);
  free(r.frame);
  fx_close(&f);
}
END_TEST

START_TEST(test_dispatch_hello_version_mismatch) {
  fixture f;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  reply r;

  fx_open(&f, SERVICE SECTIONS);
  r = do_hello(&f.ctx, 3, 5);
  expect_refusal(r, SHMB_EVERSION, "HELLO 3..5", msg, sizeof(msg));
  free(r.frame);
  r = do_hello(&f.anon, 3, 3);
  expect_refusal(r, SHMB_EVERSION, "HELLO 3..3, unidentified", msg,
                 sizeof(msg));
  free(r.frame);
  fx_close(&f);
}
END_TEST

/* A client of revision 1 (it asks 1..1) is answered 1 and gets LIST
 * entries without flags, which its decoder requires to be zero; one that
 * asks 1..2 gets 2 and the flags: a channel's kind and doorbell. OPEN
 * says the kind at any revision (clients ignore flags they do not know). */
#define CHANNELS                                                               \
  "\n[channel jobs]\nkind = queue\nslots = 4\nslot_size = 64\n"             \
  "send = {me}\nreceive = {me}\n"                                             \
  "\n[channel news]\nkind = broadcast\nslots = 8\nslot_size = 64\n"         \
  "send = {me}\nreceive = {me}\n"

static uint32_t listed_flags(const svc_request_ctx *ctx, const char *want) {
  shmb_cursor c;
  shmb_list_item it;
  uint32_t flags = 0xffffffffu;
  reply r = do_list(ctx);
  ck_assert_int_eq(shmb_list_reply_begin(r.payload, r.plen, &c), 0);
  while (c.remaining > 0) {
    ck_assert_int_eq(shmb_list_reply_next(&c, &it), 0);
    if (it.name.len == strlen(want) && memcmp(it.name.ptr, want,
                                              it.name.len) == 0)
      flags = it.flags;
  }
  free(r.frame);
  ck_assert_msg(flags != 0xffffffffu, "LIST lacks %s", want);
  return flags;
}

START_TEST(test_dispatch_revision_flags) {
  fixture f;
  shmb_hello_reply h;
  shmb_open_reply o;
  int revision = 1;
  reply r;

  fx_open(&f, SERVICE SECTIONS CHANNELS);
  f.ctx.revision = &revision;
  r = do_hello(&f.ctx, 1, 1);
  ck_assert_int_eq(shmb_hello_reply_decode(r.payload, r.plen, &h), 0);
  ck_assert_uint_eq(h.version, 1);
  ck_assert_int_eq(revision, 1);
  free(r.frame);
  ck_assert_uint_eq(listed_flags(&f.ctx, "jobs"), 0);
  ck_assert_uint_eq(listed_flags(&f.ctx, "shared"), 0);
  r = do_hello(&f.ctx, 1, 2);
  ck_assert_int_eq(shmb_hello_reply_decode(r.payload, r.plen, &h), 0);
  ck_assert_uint_eq(h.version, 2);
  ck_assert_int_eq(revision, 2);
  free(r.frame);
  ck_assert_uint_eq(listed_flags(&f.ctx, "jobs"),
                    SHMB_OPEN_FLAG_QUEUE | SHMB_OPEN_FLAG_NOTIFY);
  ck_assert_uint_eq(listed_flags(&f.ctx, "news"),
                    SHMB_OPEN_FLAG_BROADCAST | SHMB_OPEN_FLAG_NOTIFY);
  ck_assert_uint_eq(listed_flags(&f.ctx, "shared"), 0);
  r = do_open(&f.ctx, "news", SHMB_WIRE_ACCESS_READ);
  ck_assert_int_eq(shmb_open_reply_decode(r.payload, r.plen, &o), 0);
  ck_assert_uint_eq(o.flags, SHMB_OPEN_FLAG_BROADCAST | SHMB_OPEN_FLAG_NOTIFY);
  ck_assert_uint_eq(o.size, 192 + 8 * 128);
  free(r.frame);
  fx_close(&f);
}
END_TEST

/* ----- STATUS ----- */

/* The STATUS reply as key=value pairs, each key once. */
typedef struct status_map {
  char keys[40][32];
  char values[40][300];
  int n;
} status_map;

static status_map status_of(reply r) {
  status_map m;
  shmb_cursor c;
  shmb_kv kv;
  int rc = shmb_status_reply_begin(r.payload, r.plen, &c);

  memset(&m, 0, sizeof(m));
  ck_assert_msg(rc == 0, "STATUS: %s", shmb_err_name(rc));
  while (c.remaining > 0) {
    ck_assert_int_eq(shmb_status_reply_next(&c, &kv), 0);
    ck_assert_int_lt(m.n, 40);
    ck_assert_uint_lt(kv.key.len, sizeof(m.keys[0]));
    ck_assert_uint_lt(kv.value.len, sizeof(m.values[0]));
    memcpy(m.keys[m.n], kv.key.ptr, kv.key.len);
    memcpy(m.values[m.n], kv.value.ptr, kv.value.len);
    for (int i = 0; i < m.n; i++)
      ck_assert_msg(strcmp(m.keys[i], m.keys[m.n]) != 0, "STATUS has key "
                    "'%s' twice", m.keys[i]);
    m.n++;
  }
  return m;
}

static const char *status_get(const status_map *m, const char *key) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->keys[i], key) == 0)
      return m->values[i];
  ck_assert_msg(0, "STATUS has no key '%s'", key);
  return NULL;
}

static int status_has(const status_map *m, const char *key) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->keys[i], key) == 0)
      return 1;
  return 0;
}

/* A key whose value must be a decimal number. */
static unsigned long long status_num(const status_map *m, const char *key) {
  const char *v = status_get(m, key);
  ck_assert_msg(v[0] != '\0', "STATUS %s is empty", key);
  for (const char *p = v; *p; p++)
    ck_assert_msg(isdigit((unsigned char)*p), "STATUS %s = '%s' is not a "
                  "decimal number", key, v);
  return strtoull(v, NULL, 10);
}

START_TEST(test_dispatch_status_keys) {
  /* docs/protocol.md's keys, plus the flush counters (issue 14). */
  static const char *const numbers[] = {
      "uptime_ms",       "pid",           "sections",     "clients",
      "max_clients",     "opens_granted", "opens_refused", "protocol_errors",
      "clients_refused", "timeouts",      "reloads",      "reloads_failed",
      "flushes",         "flush_failures", "handles",     "private_kib"};
  fixture f;
  status_map m;
  reply r;

  fx_open(&f, SERVICE "max_clients = 9\n" SECTIONS);
  r = do_status(&f.ctx);
  m = status_of(r);
  free(r.frame);
  for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
    status_num(&m, numbers[i]);
  ck_assert_msg(status_get(&m, "version")[0] != '\0', "empty version");
  ck_assert_str_eq(status_get(&m, "config"), f.path);
  ck_assert_msg(status_get(&m, "config_loaded")[0] != '\0',
                "empty config_loaded");
  ck_assert_uint_eq(status_num(&m, "pid"), GetCurrentProcessId());
  ck_assert_uint_eq(status_num(&m, "sections"), 4);
  ck_assert_uint_eq(status_num(&m, "clients"), 3);
  ck_assert_uint_eq(status_num(&m, "max_clients"), 9);
  ck_assert_uint_eq(status_num(&m, "flushes"), 0);
  ck_assert_uint_eq(status_num(&m, "flush_failures"), 0);
  fx_close(&f);
}
END_TEST

START_TEST(test_dispatch_status_counts) {
  /* The values are the broker's counters, not constants: flush the one
   * file-backed section twice and refuse two opens, then ask again. */
  fixture f;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  status_map m;
  reply r;

  fx_open(&f, SERVICE SECTIONS);
  ck_assert_uint_eq(svc_registry_flush_all(f.b.reg, "check_dispatch"), 0);
  ck_assert_uint_eq(svc_registry_flush_all(f.b.reg, "check_dispatch"), 0);
  r = do_open(&f.ctx, "secret-sy", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_EACCES, "OPEN secret-sy", msg, sizeof(msg));
  free(r.frame);
  r = do_open(&f.ctx, "nonesuch", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_ENOENT, "OPEN nonesuch", msg, sizeof(msg));
  free(r.frame);
  r = do_open(&f.ctx, "shared", SHMB_WIRE_ACCESS_READ);
  expect_status(r, 0, "OPEN shared", msg, sizeof(msg));
  free(r.frame);

  r = do_status(&f.anon);
  m = status_of(r);
  free(r.frame);
  ck_assert_uint_eq(status_num(&m, "flushes"), 2);
  ck_assert_uint_eq(status_num(&m, "flush_failures"), 0);
  ck_assert_uint_eq(status_num(&m, "opens_refused"), 2);
  ck_assert_uint_eq(status_num(&m, "opens_granted"), 1);
  fx_close(&f);
}
END_TEST

START_TEST(test_dispatch_status_host_facts_for_admins_only) {
  /* Counters for anyone; what describes the host (the config's path, the
   * pid, the footprint) only for the service's admins. */
  static const char *const host[] = {"config", "config_loaded", "pid",
                                     "handles", "private_kib"};
  fixture f;
  status_map m;
  reply r;

  fx_open(&f, SERVICE "admins = S-1-5-18\n" SECTIONS);
  for (int who = 0; who < 2; who++) {
    r = do_status(who ? &f.anon : &f.ctx);
    m = status_of(r);
    free(r.frame);
    for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
      ck_assert_msg(!status_has(&m, host[i]), "STATUS tells a %s caller who "
                    "is not an admin '%s'", who ? "unidentified" : "known",
                    host[i]);
    ck_assert_uint_eq(status_num(&m, "sections"), 4);
    status_num(&m, "flushes");
    status_num(&m, "flush_failures");
  }
  fx_close(&f);
}
END_TEST

/* ----- LIST ----- */

START_TEST(test_dispatch_list_only_readable) {
  fixture f;
  shmb_cursor c;
  shmb_list_item it;
  int seen_shared = 0, seen_readonly = 0, seen_data = 0;
  uint32_t count;
  reply r;
  int rc;

  fx_open(&f, SERVICE SECTIONS);
  r = do_list(&f.ctx);
  rc = shmb_list_reply_begin(r.payload, r.plen, &c);
  ck_assert_msg(rc == 0, "LIST: %s", shmb_err_name(rc));
  count = c.remaining;
  while (c.remaining > 0) {
    char name[SHMB_NAME_MAX + 1] = "";
    rc = shmb_list_reply_next(&c, &it);
    ck_assert_msg(rc == 0, "LIST entry %u of %u does not decode: %s (an "
                  "entry without read access, which LIST must not send, "
                  "is refused by the decoder)",
                  (unsigned)(count - c.remaining + 1), (unsigned)count,
                  shmb_err_name(rc));
    ck_assert_uint_le(it.name.len, SHMB_NAME_MAX);
    memcpy(name, it.name.ptr, it.name.len);
    ck_assert_msg(strcmp(name, "secret-sy") != 0,
                  "LIST shows the SYSTEM-only section to the test user");
    if (strcmp(name, "shared") == 0) {
      seen_shared++;
      ck_assert_uint_eq(it.size, 8192);
      ck_assert_uint_eq(it.access,
                        SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
    } else if (strcmp(name, "readonly") == 0) {
      seen_readonly++;
      ck_assert_uint_eq(it.size, 4096);
      ck_assert_uint_eq(it.access, SHMB_WIRE_ACCESS_READ);
    } else if (strcmp(name, "data") == 0) {
      seen_data++;
      ck_assert_uint_eq(it.access,
                        SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
    } else {
      ck_assert_msg(0, "LIST shows unknown section '%s'", name);
    }
  }
  ck_assert_msg(seen_shared == 1 && seen_readonly == 1 && seen_data == 1,
                "LIST: shared %d, readonly %d, data %d times", seen_shared,
                seen_readonly, seen_data);
  ck_assert_msg(count == 3, "LIST has %u entries, expected 3 (shared, "
                "readonly, data)", (unsigned)count);
  free(r.frame);
  fx_close(&f);
}
END_TEST

/* ----- OPEN ----- */

START_TEST(test_dispatch_open_granted) {
  fixture f;
  shmb_open_reply o;
  svc_section *sec;
  char object[SHMB_OBJECT_NAME_MAX + 1] = "";
  wchar_t *w;
  HANDLE h;
  reply r;
  int rc;

  fx_open(&f, SERVICE SECTIONS);
  sec = svc_registry_find(f.b.reg, "shared");
  ck_assert_ptr_nonnull(sec);
  r = do_open(&f.ctx, "shared", SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
  rc = shmb_open_reply_decode(r.payload, r.plen, &o);
  ck_assert_msg(rc == 0, "OPEN shared read,write: %s", shmb_err_name(rc));
  ck_assert_uint_eq(o.access, SHMB_WIRE_ACCESS_READ | SHMB_WIRE_ACCESS_WRITE);
  ck_assert_uint_eq(o.size, 8192);
  ck_assert_uint_le(o.object.len, SHMB_OBJECT_NAME_MAX);
  memcpy(object, o.object.ptr, o.object.len);
  ck_assert_str_eq(object, sec->object);
  free(r.frame);
  /* What the client does next works. */
  w = shmb__wide_from_utf8(object);
  h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, w);
  free(w);
  ck_assert_msg(h != NULL, "OpenFileMappingW(%s): Win32 error %lu", object,
                (unsigned long)GetLastError());
  CloseHandle(h);

  /* Read only, on a read-only section: granted as asked. */
  r = do_open(&f.ctx, "readonly", SHMB_WIRE_ACCESS_READ);
  rc = shmb_open_reply_decode(r.payload, r.plen, &o);
  ck_assert_msg(rc == 0, "OPEN readonly read: %s", shmb_err_name(rc));
  ck_assert_uint_eq(o.access, SHMB_WIRE_ACCESS_READ);
  ck_assert_uint_eq(o.size, 4096);
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.opens_granted, 2);
  ck_assert_uint_eq(f.b.counters.opens_refused, 0);
  fx_close(&f);
}
END_TEST

START_TEST(test_dispatch_open_refused) {
  fixture f;
  svc_section *secret, *ro;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  reply r;

  fx_open(&f, SERVICE SECTIONS);
  secret = svc_registry_find(f.b.reg, "secret-sy");
  ro = svc_registry_find(f.b.reg, "readonly");
  ck_assert_ptr_nonnull(secret);
  ck_assert_ptr_nonnull(ro);

  r = do_open(&f.ctx, "secret-sy", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_EACCES, "OPEN of a SYSTEM-only section", msg,
                 sizeof(msg));
  ck_assert_msg(strstr(msg, secret->object) == NULL, "the refusal gives "
                "away the object name: '%s'", msg);
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.opens_refused, 1);

  /* More than granted: write on a read-only section. */
  r = do_open(&f.ctx, "readonly", SHMB_WIRE_ACCESS_WRITE);
  expect_refusal(r, SHMB_EACCES, "OPEN readonly for write", msg, sizeof(msg));
  ck_assert_msg(strstr(msg, ro->object) == NULL, "the refusal gives away "
                "the object name: '%s'", msg);
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.opens_refused, 2);
  ck_assert_uint_eq(f.b.counters.opens_granted, 0);
  fx_close(&f);
}
END_TEST

START_TEST(test_dispatch_open_unknown) {
  fixture f;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  reply r;

  fx_open(&f, SERVICE SECTIONS);
  r = do_open(&f.ctx, "nonesuch", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_ENOENT, "OPEN nonesuch", msg, sizeof(msg));
  free(r.frame);
  /* Names are case-sensitive. */
  r = do_open(&f.ctx, "Shared", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_ENOENT, "OPEN Shared", msg, sizeof(msg));
  free(r.frame);
  /* A near miss of a section the caller may not see must not name it. */
  r = do_open(&f.ctx, "secret-sx", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_ENOENT, "OPEN secret-sx", msg, sizeof(msg));
  ck_assert_msg(strstr(msg, "secret-sy") == NULL, "the refusal names a "
                "section the caller may not list: '%s'", msg);
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.opens_refused, 3);
  fx_close(&f);
}
END_TEST

/* ----- an unidentified caller ----- */

START_TEST(test_dispatch_unidentified_caller) {
  fixture f;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  shmb_hello_reply h;
  status_map m;
  reply r;

  fx_open(&f, SERVICE SECTIONS);
  r = do_list(&f.anon);
  expect_refusal(r, SHMB_EACCES, "LIST, unidentified", msg, sizeof(msg));
  free(r.frame);
  r = do_open(&f.anon, "shared", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_EACCES, "OPEN, unidentified", msg, sizeof(msg));
  ck_assert_msg(strstr(msg, svc_registry_find(f.b.reg, "shared")->object) ==
                    NULL, "the refusal gives away the object name");
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.opens_refused, 1);
  r = do_reload(&f.anon);
  expect_refusal(r, SHMB_EACCES, "RELOAD, unidentified", msg, sizeof(msg));
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.reloads, 0);
  ck_assert_uint_eq(f.b.counters.reloads_failed, 0);

  /* Nothing of these needs to know who asks. */
  r = do_hello(&f.anon, 1, 1);
  ck_assert_int_eq(shmb_hello_reply_decode(r.payload, r.plen, &h), 0);
  ck_assert_uint_eq(h.version, SHMB_PROTO_VERSION);
  free(r.frame);
  r = do_status(&f.anon);
  m = status_of(r);
  ck_assert_uint_eq(status_num(&m, "sections"), 4);
  ck_assert_uint_eq(status_num(&m, "opens_refused"), 1);
  free(r.frame);
  fx_close(&f);
}
END_TEST

START_TEST(test_dispatch_needs_caller) {
  /* The connection identifies the caller before these opcodes, and not
   * before HELLO. (STATUS may ask, to tell admins more; either way it
   * answers an unidentified caller: test_dispatch_unidentified_caller.) */
  static const struct {
    uint8_t opcode;
    int needs;
  } ops[] = {{SHMB_OP_HELLO, 0}, {SHMB_OP_LIST, 1}, {SHMB_OP_OPEN, 1},
             {SHMB_OP_RELOAD, 1}};
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    shmb_request req;
    memset(&req, 0, sizeof(req));
    req.hdr.opcode = ops[i].opcode;
    ck_assert_msg(!!svc_request_needs_caller(&req) == ops[i].needs,
                  "opcode 0x%x: needs caller %d, expected %d",
                  (unsigned)ops[i].opcode, svc_request_needs_caller(&req),
                  ops[i].needs);
  }
}
END_TEST

/* ----- RELOAD ----- */

START_TEST(test_dispatch_reload_refused_to_non_admin) {
  fixture f;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  reply r;

  fx_open(&f, SERVICE "admins = S-1-5-18\n" SECTIONS);
  /* Worth reloading: a new section is in the file. */
  test_write_config(f.path, f.dir, SERVICE "admins = S-1-5-18\n" SECTIONS
                    "\n[section extra]\nsize = 4096\nread = {me}\n");
  r = do_reload(&f.ctx);
  expect_refusal(r, SHMB_EACCES, "RELOAD with admins = S-1-5-18", msg,
                 sizeof(msg));
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.reloads, 0);
  ck_assert_uint_eq(f.b.counters.reloads_failed, 0);
  ck_assert_ptr_null(svc_registry_find(f.b.reg, "extra"));
  fx_close(&f);
}
END_TEST

START_TEST(test_dispatch_reload_allowed) {
  fixture f;
  shmb_str text;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  reply r;
  int rc;

  /* By default the service's own account (this process's) may reload. */
  fx_open(&f, SERVICE SECTIONS);
  test_write_config(f.path, f.dir, SERVICE SECTIONS
                    "\n[section extra]\nsize = 4096\nread = {me}\n");
  r = do_reload(&f.ctx);
  rc = shmb_message_reply_decode(r.payload, r.plen, &text);
  ck_assert_msg(rc == 0, "RELOAD: %s", shmb_err_name(rc));
  ck_assert_msg(text.len > 0, "RELOAD said nothing about what it did");
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.reloads, 1);
  ck_assert_ptr_nonnull(svc_registry_find(f.b.reg, "extra"));

  /* Named in admins explicitly, too; a file that does not parse is
   * SHMB_ECONFIG over the wire and counts as a failed reload. */
  test_write_config(f.path, f.dir, SERVICE "admins = {me}\n" SECTIONS);
  r = do_reload(&f.ctx);
  expect_status(r, 0, "RELOAD with admins = {me}", msg, sizeof(msg));
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.reloads, 2);
  test_write_config(f.path, f.dir, SERVICE "[section broken\n");
  r = do_reload(&f.ctx);
  expect_refusal(r, SHMB_ECONFIG, "RELOAD of a broken file", msg,
                 sizeof(msg));
  free(r.frame);
  ck_assert_uint_eq(f.b.counters.reloads, 2);
  ck_assert_uint_eq(f.b.counters.reloads_failed, 1);
  fx_close(&f);
}
END_TEST

/* ----- protocol errors ----- */

START_TEST(test_dispatch_protocol_error_reply) {
  fixture f;
  shmb_frame_header hdr;
  uint8_t *out = NULL;
  size_t len = 0;
  char msg[SHMB_ERROR_MESSAGE_MAX];
  int rc;

  /* From an identified caller: the connection always has an account for
   * the log line by the time a frame fails to decode. */
  fx_open(&f, SERVICE SECTIONS);
  rc = svc_protocol_error_reply(&f.ctx, SHMB_EPROTO, 0, &out, &len);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(shmb_frame_peek(out, len, SHMB_MAX_PAYLOAD, &hdr), 0);
  ck_assert_uint_eq(hdr.opcode, SHMB_OP_ERROR);
  ck_assert_int_eq(shmb_reply_status_code(out + SHMB_HEADER_SIZE, hdr.length,
                                          msg, sizeof(msg)),
                   SHMB_EPROTO);
  free(out);
  ck_assert_uint_eq(f.b.counters.protocol_errors, 1);
  /* Before the caller was identified: the process's account is logged. */
  rc = svc_protocol_error_reply(&f.anon, SHMB_ETOOBIG, 0, &out, &len);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(shmb_frame_peek(out, len, SHMB_MAX_PAYLOAD, &hdr), 0);
  ck_assert_int_eq(shmb_reply_status_code(out + SHMB_HEADER_SIZE, hdr.length,
                                          msg, sizeof(msg)),
                   SHMB_ETOOBIG);
  free(out);
  ck_assert_uint_eq(f.b.counters.protocol_errors, 2);
  fx_close(&f);
}
END_TEST

static reply do_doorbell(const svc_request_ctx *ctx, const char *name,
                         uint32_t access) {
  uint8_t *f = NULL;
  size_t n = 0;
  int rc = shmb_encode_doorbell(16, name, access, &f, &n);
  return run(ctx, f, n, rc);
}

#define BELLS                                                                  \
  "\n[section bell]\nsize = 4096\nnotify = yes\nwrite = {me}\n"               \
  "\n[section bell-ro]\nsize = 4096\nnotify = yes\nread = {me}\n"             \
  "\n[section bell-sy]\nsize = 4096\nnotify = yes\nsddl = D:P(A;;GA;;;SY)\n"  \
  "\n[section quiet]\nsize = 4096\nwrite = {me}\n"

/* Waiting needs the read right, ringing the write right; a waiter belongs
 * to its connection (keep_open set, dropped with it). */
START_TEST(test_dispatch_doorbell) {
  char msg[SHMB_ERROR_MESSAGE_MAX];
  shmb_doorbell_reply d;
  shmb_open_reply o;
  int keep = 0, owner;
  fixture f;
  reply r;

  fx_open(&f, SERVICE BELLS);
  f.ctx.owner = &owner;
  f.ctx.keep_open = &keep;
  r = do_doorbell(&f.ctx, "bell-ro", SHMB_WIRE_ACCESS_WRITE);
  expect_refusal(r, SHMB_EACCES, "ring a read-only bell", msg, sizeof(msg));
  free(r.frame);
  r = do_doorbell(&f.ctx, "bell-sy", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_EACCES, "wait without read", msg, sizeof(msg));
  free(r.frame);
  r = do_doorbell(&f.ctx, "quiet", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_ENONOTIFY, "no notify", msg, sizeof(msg));
  ck_assert_msg(strstr(msg, "notify = yes"), "message '%s'", msg);
  free(r.frame);
  r = do_doorbell(&f.ctx, "nosuch", SHMB_WIRE_ACCESS_READ);
  expect_refusal(r, SHMB_ENOENT, "unknown", msg, sizeof(msg));
  free(r.frame);
  ck_assert_int_eq(keep, 0);
  ck_assert_uint_eq(svc_registry_waiters(f.b.reg), 0);

  r = do_doorbell(&f.ctx, "bell-ro", SHMB_WIRE_ACCESS_READ);
  ck_assert_int_eq(shmb_doorbell_reply_decode(r.payload, r.plen, &d), 0);
  ck_assert_msg(d.counter.len && !d.registry.len && d.event.len &&
                d.armed.len, "a waiter's reply names counter, event, armed");
  free(r.frame);
  ck_assert_int_eq(keep, 1);
  ck_assert_uint_eq(svc_registry_waiters(f.b.reg), 1);
  r = do_open(&f.ctx, "bell", SHMB_WIRE_ACCESS_READ);
  ck_assert_int_eq(shmb_open_reply_decode(r.payload, r.plen, &o), 0);
  ck_assert_uint_eq(o.flags, SHMB_OPEN_FLAG_NOTIFY);
  free(r.frame);
  r = do_open(&f.ctx, "quiet", SHMB_WIRE_ACCESS_READ);
  ck_assert_int_eq(shmb_open_reply_decode(r.payload, r.plen, &o), 0);
  ck_assert_uint_eq(o.flags, 0);
  free(r.frame);
  r = do_doorbell(&f.ctx, "bell", SHMB_WIRE_ACCESS_WRITE);
  ck_assert_int_eq(shmb_doorbell_reply_decode(r.payload, r.plen, &d), 0);
  ck_assert_msg(d.counter.len && d.registry.len && !d.event.len &&
                !d.armed.len, "a ringer's reply names counter, registry");
  free(r.frame);
  ck_assert_uint_eq(svc_registry_drop_waiters(f.b.reg, &owner), 1);
  ck_assert_uint_eq(svc_registry_waiters(f.b.reg), 0);
  fx_close(&f);
}
END_TEST

Suite *dispatch_suite(void) {
  Suite *s = suite_create("dispatch");
  TCase *tc = tcase_create("anyone");
  tcase_add_test(tc, test_dispatch_hello);
  tcase_add_test(tc, test_dispatch_hello_version_mismatch);
  tcase_add_test(tc, test_dispatch_revision_flags);
  tcase_add_test(tc, test_dispatch_status_keys);
  tcase_add_test(tc, test_dispatch_status_counts);
  tcase_add_test(tc, test_dispatch_status_host_facts_for_admins_only);
  suite_add_tcase(s, tc);

  tc = tcase_create("sections");
  tcase_add_test(tc, test_dispatch_list_only_readable);
  tcase_add_test(tc, test_dispatch_open_granted);
  tcase_add_test(tc, test_dispatch_open_refused);
  tcase_add_test(tc, test_dispatch_open_unknown);
  tcase_add_test(tc, test_dispatch_doorbell);
  suite_add_tcase(s, tc);

  tc = tcase_create("callers");
  tcase_add_test(tc, test_dispatch_unidentified_caller);
  tcase_add_test(tc, test_dispatch_needs_caller);
  tcase_add_test(tc, test_dispatch_reload_refused_to_non_admin);
  tcase_add_test(tc, test_dispatch_reload_allowed);
  tcase_add_test(tc, test_dispatch_protocol_error_reply);
  suite_add_tcase(s, tc);
  return s;
}
