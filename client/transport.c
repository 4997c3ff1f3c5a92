/*
 * Talking to the control pipe.
 *
 * Only a local pipe name is opened (a remote one would get our
 * credentials). The pipe is opened with SECURITY_SQOS_PRESENT |
 * SECURITY_IDENTIFICATION so the service can learn who we are but never act
 * as us. Before a single byte is sent, the pipe's owner must be the
 * expected server account: anyone can create a pipe under a free name, but
 * only that account (or an administrator) can make itself the owner, so an
 * impostor is refused with SHMB_EBADSERVER, with a message that names the
 * expected account, the one found and how to expect another. The process
 * serving the pipe must run as that account too. A reply must answer the
 * request just sent (opcode and id), and its text is escaped before anyone
 * prints it. All I/O is overlapped with a timeout, so a server that stops
 * answering costs the caller at most timeout_ms per call; its late answer
 * is read before the next request (see "late replies" below).
 */
#include "transport.h"

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "errors.h"
#include "protocol.h"
#include "trust.h"
#include "wstr.h"

#define RETRY_SLEEP_MS 50u

static void settle_before_close(shmb_client *c);

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* The token user of the process serving the pipe (*user LocalAlloc'd
 * when SHMB_PROCESS_READ), and its id (0 when Windows will not say). */
static enum shmb_process_lookup server_process(HANDLE pipe, ULONG *pid,
                                               PSID *user) {
  enum shmb_process_lookup r = SHMB_PROCESS_UNKNOWN;
  HANDLE proc, token;
  DWORD e;

  *pid = 0;
  *user = NULL;
  if (!GetNamedPipeServerProcessId(pipe, pid) || *pid == 0)
    return SHMB_PROCESS_UNKNOWN;
  if (!(proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, *pid)))
    return GetLastError() == ERROR_ACCESS_DENIED ? SHMB_PROCESS_DENIED
                                                 : SHMB_PROCESS_UNKNOWN;
  if (OpenProcessToken(proc, TOKEN_QUERY, &token)) {
    if (shmb__token_user(token, user) == 0)
      r = SHMB_PROCESS_READ;
    CloseHandle(token);
  } else if ((e = GetLastError()) == ERROR_ACCESS_DENIED) {
    r = SHMB_PROCESS_DENIED;
  }
  CloseHandle(proc);
  return r;
}

/* The process behind the pipe, for the message that refuses it: ", served
 * by process 1234 (VM\root (S-1-5-21-...))", or less when Windows will
 * not say. */
static void describe_server_process(HANDLE pipe, char *buf, size_t len) {
  char who[SHMB_ACCOUNT_TEXT_MAX] = "";
  ULONG pid;
  PSID sid;

  buf[0] = '\0';
  if (server_process(pipe, &pid, &sid) == SHMB_PROCESS_READ) {
    shmb__sid_describe(sid, who, sizeof(who));
    LocalFree(sid);
  }
  if (pid)
    snprintf(buf, len, ", served by process %lu%s%s%s", (unsigned long)pid,
             *who ? " (" : "", who, *who ? ")" : "");
}

/* The refusal names both accounts and the way to expect the one found. */
static int wrong_server(shmb_client *c, PSID owner, PSID expected) {
  char want[SHMB_ACCOUNT_TEXT_MAX], found[SHMB_ACCOUNT_TEXT_MAX];
  char found_sid[192], process[SHMB_ACCOUNT_TEXT_MAX + 48];

  shmb__sid_describe(expected, want, sizeof(want));
  shmb__sid_describe(owner, found, sizeof(found));
  shmb__sid_text(owner, found_sid, sizeof(found_sid));
  describe_server_process(c->pipe, process, sizeof(process));
  return shmb__fail(
      c->message, sizeof(c->message), SHMB_EBADSERVER,
      "pipe %s belongs to %s%s, not to the expected server account %s (%s). "
      "If that is the service you mean (a service in console mode runs as "
      "whoever started it), expect its account: set %s=%s, or pass "
      "--server-sid %s to shmbctl (shmb_connect_options.server_sid in a "
      "program)",
      c->pipe_name, found, process, want, c->server_from, SHMB_SERVER_SID_ENV,
      found_sid, found_sid);
}

static int check_owner(shmb_client *c, PSID expected) {
  shmb_owner_buf buf;
  PSID owner;
  DWORD e = shmb__object_owner(c->pipe, &buf, &owner);
  int rc = 0;

  if (e != ERROR_SUCCESS)
    rc = shmb__fail(c->message, sizeof(c->message), SHMB_EBADSERVER,
                    "cannot read the owner of pipe %s (Win32 error %lu), so "
                    "its server cannot be proven to be the service",
                    c->pipe_name, (unsigned long)e);
  else if (!EqualSid(owner, expected))
    rc = wrong_server(c, owner, expected);
  return rc;
}

/* The pipe's owner can be the expected account while another process
 * serves it (an instance made through a descriptor that allowed it, or a
 * handle passed on): the process's token user must be that account too.
 * A process Windows will not show to this account (a LocalSystem service
 * to a standard user) leaves the owner as the evidence. */
static int check_server_process(shmb_client *c, PSID expected) {
  char want[SHMB_ACCOUNT_TEXT_MAX], found[SHMB_ACCOUNT_TEXT_MAX];
  ULONG pid;
  PSID user;
  enum shmb_process_lookup r = server_process(c->pipe, &pid, &user);
  int same = r == SHMB_PROCESS_READ && EqualSid(user, expected);

  if (shmb__process_verdict(r, same) == 0) {
    LocalFree(user);
    return 0;
  }
  shmb__sid_describe(expected, want, sizeof(want));
  if (r != SHMB_PROCESS_READ)
    return shmb__fail(c->message, sizeof(c->message), SHMB_EBADSERVER,
                      "pipe %s belongs to the expected server account %s, "
                      "but the process serving it cannot be found (process "
                      "id %lu), so it cannot be proven to be the service",
                      c->pipe_name, want, (unsigned long)pid);
  shmb__sid_describe(user, found, sizeof(found));
  LocalFree(user);
  return shmb__fail(c->message, sizeof(c->message), SHMB_EBADSERVER,
                    "pipe %s belongs to the expected server account %s "
                    "(%s), but is served by process %lu running as %s: "
                    "another process serves the service's pipe",
                    c->pipe_name, want, c->server_from, (unsigned long)pid,
                    found);
}

/* Why no pipe could be opened, with the pipe, the time waited and where to
 * look next. */
static int unreachable(shmb_client *c, DWORD e, ULONGLONG waited_ms) {
  unsigned long s = (unsigned long)(waited_ms / 1000),
                tenths = (unsigned long)(waited_ms % 1000) / 100;
  if (e == ERROR_ACCESS_DENIED)
    return shmb__fail(c->message, sizeof(c->message), SHMB_EBADSERVER,
                      "pipe %s exists but refused this account (access "
                      "denied): it is not shmbrokerd's control pipe, or not "
                      "one this account may use", c->pipe_name);
  if (e == ERROR_PIPE_BUSY)
    return shmb__fail(c->message, sizeof(c->message), SHMB_EUNREACHABLE,
                      "every instance of pipe %s stayed busy for %lu.%lu s "
                      "(timeout %u ms)", c->pipe_name, s, tenths,
                      c->timeout_ms);
  if (e != ERROR_FILE_NOT_FOUND)
    return shmb__fail(c->message, sizeof(c->message), SHMB_EUNREACHABLE,
                      "cannot open pipe %s (Win32 error %lu)", c->pipe_name,
                      (unsigned long)e);
  return shmb__fail(
      c->message, sizeof(c->message), SHMB_EUNREACHABLE,
      "no pipe %s after waiting %lu.%lu s (timeout %u ms). Is the service "
      "running? Installed as a service: `sc query shmbroker` (start it with "
      "`sc start shmbroker`). In console mode: is `shmbrokerd --console` "
      "running, with this pipe name in its config?",
      c->pipe_name, s, tenths, c->timeout_ms);
}

/* Opens the pipe, waiting up to the timeout for a service that is starting
 * (no pipe yet) or busy (no free instance), never past it. */
static int open_pipe(shmb_client *c) {
  wchar_t *wname = shmb__wide_from_utf8(c->pipe_name);
  ULONGLONG start = GetTickCount64(), deadline = start + c->timeout_ms;
  ULONGLONG now = start;
  DWORD e = ERROR_FILE_NOT_FOUND;

  if (!wname)
    return shmb__fail(c->message, sizeof(c->message), SHMB_EINVAL,
                      "the pipe name is not valid UTF-8");
  for (;;) {
    c->pipe = CreateFileW(wname, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                          OPEN_EXISTING,
                          FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
                              SECURITY_IDENTIFICATION,
                          NULL);
    if (c->pipe != INVALID_HANDLE_VALUE)
      break;
    c->pipe = NULL;
    e = GetLastError();
    now = GetTickCount64();
    if ((e != ERROR_PIPE_BUSY && e != ERROR_FILE_NOT_FOUND) || now >= deadline)
      break;
    /* WaitNamedPipeW's 0 would mean "the default": never pass it. */
    if (e == ERROR_PIPE_BUSY)
      WaitNamedPipeW(wname, (DWORD)(deadline - now));
    else
      Sleep(deadline - now < RETRY_SLEEP_MS ? (DWORD)(deadline - now)
                                            : RETRY_SLEEP_MS);
  }
  free(wname);
  return c->pipe ? 0 : unreachable(c, e, now - start);
}

int shmb__transport_reopen(shmb_client *c) {
  PSID expected;
  unsigned long werr;
  int rc;

  settle_before_close(c);
  if (c->pipe)
    CloseHandle(c->pipe);
  c->pipe = NULL;
  LocalFree(c->server_sid);
  c->server_sid = NULL;
  c->message[0] = '\0';
  /* Resolved before any wait: a typo fails at once. */
  if ((rc = shmb__account_sid(c->server, &expected, &werr)) != 0)
    return rc == SHMB_ENOMEM
               ? rc
               : shmb__fail(c->message, sizeof(c->message), SHMB_EINVAL,
                            "the expected server account '%s' (%s) is "
                            "neither a SID (S-1-...) nor an account name "
                            "known here (Win32 error %lu); `shmbctl whoami`, "
                            "run as that account, prints its SID",
                            c->server, c->server_from, werr);
  if ((rc = open_pipe(c)) == 0 && ((rc = check_owner(c, expected)) != 0 ||
                                    (rc = check_server_process(c, expected))
                                        != 0)) {
    CloseHandle(c->pipe);
    c->pipe = NULL;
  }
  if (rc == 0)
    c->server_sid = expected;
  else
    LocalFree(expected);
  return rc;
}

int shmb__transport_open(shmb_client *c, const shmb_connect_options *opts) {
  const char *env = getenv(SHMB_SERVER_SID_ENV), *server;

  if (opts && opts->server_sid && *opts->server_sid) {
    server = opts->server_sid;
    c->server_from = "from shmb_connect_options.server_sid, or shmbctl's "
                     "--server-sid";
  } else if (env && *env) {
    server = env;
    c->server_from = "from the " SHMB_SERVER_SID_ENV " environment variable";
  } else {
    server = SHMB_DEFAULT_SERVER_SID;
    c->server_from = "the default: LocalSystem";
  }
  /* Before anything else: a remote pipe would get our credentials. */
  if (shmb__pipe_name_check(opts && opts->pipe_name ? opts->pipe_name
                                                    : SHMB_DEFAULT_PIPE,
                            c->message, sizeof(c->message)) != 0)
    return SHMB_EINVAL;
  c->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms
                                           : SHMB_DEFAULT_TIMEOUT_MS;
  free(c->pipe_name);
  free(c->server);
  c->pipe_name = dup_str(opts && opts->pipe_name ? opts->pipe_name
                                                 : SHMB_DEFAULT_PIPE);
  c->server = dup_str(server);
  if (!c->pipe_name || !c->server)
    return SHMB_ENOMEM;
  return shmb__transport_reopen(c);
}

void shmb__transport_close(shmb_client *c) {
  settle_before_close(c);
  if (c->pipe)
    CloseHandle(c->pipe);
  c->pipe = NULL;
  free(c->pipe_name);
  free(c->server);
  c->pipe_name = c->server = NULL;
  LocalFree(c->server_sid);
  c->server_sid = NULL;
}

/* One overlapped read or write, waited for with the client's timeout.
 * An I/O that completed as the wait ran out counts as done: its bytes
 * were moved, and a reader must not lose them. */
static int io_once(shmb_client *c, void *buf, DWORD len, int writing,
                   DWORD *done) {
  OVERLAPPED ov;
  BOOL ok;
  DWORD e;

  *done = 0;
  memset(&ov, 0, sizeof(ov));
  ov.hEvent = c->io_event;
  ok = writing ? WriteFile(c->pipe, buf, len, NULL, &ov)
               : ReadFile(c->pipe, buf, len, NULL, &ov);
  if (!ok && (e = GetLastError()) != ERROR_IO_PENDING)
    return shmb__from_win32(e) == SHMB_EDISCONNECTED ? SHMB_EDISCONNECTED
                                                     : SHMB_EIO;
  if (WaitForSingleObject(c->io_event, c->timeout_ms) != WAIT_OBJECT_0) {
    CancelIoEx(c->pipe, &ov);
    if (GetOverlappedResult(c->pipe, &ov, done, TRUE) && *done > 0)
      return 0;
    *done = 0;
    return SHMB_ETIMEDOUT;
  }
  if (!GetOverlappedResult(c->pipe, &ov, done, FALSE)) {
    e = GetLastError();
    return shmb__from_win32(e) == SHMB_EDISCONNECTED ? SHMB_EDISCONNECTED
                                                     : SHMB_EIO;
  }
  if (*done == 0 && !writing)
    return SHMB_EDISCONNECTED;
  return 0;
}

/* All of len, or an error; *moved says how much went, either way. */
static int io_all(shmb_client *c, void *buf, size_t len, int writing,
                  size_t *moved) {
  uint8_t *p = buf;
  *moved = 0;
  while (len > 0) {
    DWORD chunk = len > 65536 ? 65536 : (DWORD)len, done = 0;
    int rc = io_once(c, p, chunk, writing, &done);
    if (rc != 0)
      return rc;
    p += done;
    len -= done;
    *moved += done;
  }
  return 0;
}

int shmb__write_all(shmb_client *c, const void *buf, size_t len) {
  size_t moved;
  return io_all(c, (void *)buf, len, 1, &moved);
}

int shmb__read_all(shmb_client *c, void *buf, size_t len) {
  size_t moved;
  return io_all(c, buf, len, 0, &moved);
}

/* A reply that does not answer the request leaves the stream out of
 * step: nothing read after it could be trusted either. */
static int drop(shmb_client *c, int rc) {
  CloseHandle(c->pipe);
  c->pipe = NULL;
  return rc;
}

/* ---- the reply, and late replies -------------------------------------
 *
 * A reply is read into c->rx, which keeps what arrived when the read
 * times out: the service still owes the rest (and an OPEN of a section
 * delivered by handle has already put a handle into this process, which
 * only the reply names). Before the next request on the connection, and
 * before the connection is closed (shmb_disconnect, a reconnect), that
 * reply is read to its end within the timeout and shmb__late_reply undoes
 * what it delivered; so the stream stays in step (the next reply answers
 * the next request) and nothing the service sent stays behind. */

static void rx_reset(shmb_client *c) {
  free(c->rx.body);
  memset(&c->rx, 0, sizeof(c->rx));
}

/* The connection is unusable after a malformed or foreign reply. */
static int rx_drop(shmb_client *c, int rc) {
  rx_reset(c);
  return drop(c, rc);
}

/* Reads (the rest of) the reply to c->rx's request. 0: *hdr and *payload
 * (free()), c->rx reset. SHMB_ETIMEDOUT: still owed, c->rx keeps what came.
 * Else the error, c->rx reset (and the connection dropped when the
 * stream is out of step). */
static int read_reply(shmb_client *c, shmb_frame_header *hdr,
                      uint8_t **payload) {
  size_t moved, at;
  int rc;

  if (c->rx.got < SHMB_HEADER_SIZE) {
    rc = io_all(c, c->rx.hdr + c->rx.got, SHMB_HEADER_SIZE - c->rx.got, 0,
                &moved);
    c->rx.got += moved;
    if (rc != 0) {
      if (rc != SHMB_ETIMEDOUT)
        rx_reset(c);
      return rc;
    }
  }
  rc = shmb_frame_peek(c->rx.hdr, SHMB_HEADER_SIZE, SHMB_MAX_PAYLOAD, hdr);
  if (rc < 0)
    return rx_drop(c, shmb__fail(c->message, sizeof(c->message), SHMB_EPROTO,
                                 "the reply's header is not a valid frame "
                                 "header (%s)", shmb_err_name(rc)));
  /* Checked before the status is believed: a stale error is no answer. */
  if ((rc = shmb__reply_check(c->rx.opcode, c->rx.id, hdr->opcode,
                              hdr->request_id, c->message,
                              sizeof(c->message))) != 0)
    return rx_drop(c, rc);
  if (hdr->length < 4)
    return rx_drop(c, shmb__fail(c->message, sizeof(c->message), SHMB_EPROTO,
                                 "the reply has %lu payload bytes, too few "
                                 "for a status", (unsigned long)hdr->length));
  if (!c->rx.body && !(c->rx.body = malloc(hdr->length)))
    return rx_drop(c, SHMB_ENOMEM); /* the rest would be out of step */
  at = c->rx.got - SHMB_HEADER_SIZE;
  rc = io_all(c, c->rx.body + at, hdr->length - at, 0, &moved);
  c->rx.got += moved;
  if (rc != 0) {
    if (rc != SHMB_ETIMEDOUT)
      rx_reset(c);
    return rc;
  }
  *payload = c->rx.body;
  c->rx.body = NULL;
  rx_reset(c);
  return 0;
}

static const char *op_name(uint8_t opcode) {
  switch (opcode) {
  case SHMB_OP_HELLO: return "HELLO";
  case SHMB_OP_LIST: return "LIST";
  case SHMB_OP_OPEN: return "OPEN";
  case SHMB_OP_STATUS: return "STATUS";
  case SHMB_OP_RELOAD: return "RELOAD";
  case SHMB_OP_DOORBELL: return "DOORBELL";
  case SHMB_OP_PEERS: return "PEERS";
  default: return "a request";
  }
}

/* The reply a timed-out request still owes: read it (within the timeout)
 * and undo what it delivered. 0 when nothing is owed any more. */
static int settle_late(shmb_client *c) {
  uint32_t id = c->rx.id;
  uint8_t opcode = c->rx.opcode, *body;
  shmb_frame_header hdr;
  int rc;

  if (!c->rx.owed)
    return 0;
  if ((rc = read_reply(c, &hdr, &body)) == SHMB_ETIMEDOUT)
    return shmb__fail(c->message, sizeof(c->message), SHMB_ETIMEDOUT,
                      "the service has still not answered request %lu "
                      "(%s), which timed out before; this connection reads "
                      "that answer before it sends anything else (or "
                      "shmb_disconnect and connect again)",
                      (unsigned long)id, op_name(opcode));
  if (rc != 0)
    return rc;
  if (hdr.opcode == (opcode | SHMB_OP_REPLY))
    shmb__late_reply(c, opcode, body, hdr.length);
  free(body);
  c->message[0] = '\0';
  return 0;
}

/* Before the pipe is closed: a late reply that may carry handles (OPEN,
 * DOORBELL, PEERS) is read first (the service counts a written reply as
 * delivered); others are only forgotten. */
static void settle_before_close(shmb_client *c) {
  const uint8_t op = c->rx.opcode;
  if (c->pipe && c->rx.owed &&
      (op == SHMB_OP_OPEN || op == SHMB_OP_DOORBELL || op == SHMB_OP_PEERS))
    settle_late(c);
  rx_reset(c);
}

int shmb__roundtrip(shmb_client *c, const uint8_t *frame, size_t len,
                    uint8_t opcode, uint8_t **payload, size_t *plen) {
  char text[SHMB_ERROR_MESSAGE_MAX];
  shmb_frame_header hdr;
  uint8_t *body;
  uint32_t id;
  int rc;

  c->message[0] = '\0';
  if (!c->pipe)
    return SHMB_EDISCONNECTED;
  /* The reply must carry the id of the frame we send. */
  if (shmb_frame_peek(frame, len, SHMB_MAX_PAYLOAD, &hdr) != 0)
    return SHMB_EINVAL;
  id = hdr.request_id;
  if ((rc = settle_late(c)) != 0)
    return rc;
  if (!c->pipe)
    return SHMB_EDISCONNECTED;
  /* A service that refuses us (too many clients) replies and hangs up at
   * once, maybe before our request is written: its reply is still there to
   * read, and says more than "disconnected". */
  rc = shmb__write_all(c, frame, len);
  if (rc == SHMB_ETIMEDOUT) /* maybe half written: the stream is lost */
    return drop(c, shmb__fail(c->message, sizeof(c->message), SHMB_ETIMEDOUT,
                              "the service did not take the request within "
                              "%u ms (it is not reading); the connection "
                              "is closed", c->timeout_ms));
  if (rc != 0 && rc != SHMB_EDISCONNECTED)
    return rc;
  c->rx.owed = 1;
  c->rx.id = id;
  c->rx.opcode = opcode;
  if ((rc = read_reply(c, &hdr, &body)) == SHMB_ETIMEDOUT)
    return shmb__fail(c->message, sizeof(c->message), SHMB_ETIMEDOUT,
                      "no answer from the service within %u ms; the answer "
                      "is still read, before the next request on this "
                      "connection or at shmb_disconnect, and a handle it "
                      "delivers closed", c->timeout_ms);
  if (rc != 0)
    return rc;
  rc = shmb_reply_status_code(body, hdr.length, text, sizeof(text));
  /* The server's words reach terminals and logs: no control bytes. */
  shmb__sanitise(text, strlen(text), c->message, sizeof(c->message));
  if (rc == 0 && hdr.opcode == SHMB_OP_ERROR)
    rc = SHMB_EPROTO;
  if (rc != 0) {
    free(body);
    return rc;
  }
  *payload = body;
  *plen = hdr.length;
  return 0;
}
