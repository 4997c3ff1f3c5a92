/*
 * Talking to the control pipe.
 *
 * The pipe is opened with SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION so
 * the service can learn who we are but never act as us. Before a single byte
 * is sent, the pipe's owner must be the expected server account: anyone can
 * create a pipe under a free name, but only that account (or an
 * administrator) can make itself the owner, so an impostor is refused with
 * SHMB_EBADSERVER. All I/O is overlapped with a timeout, so a server that
 * stops answering costs the caller at most timeout_ms per call.
 */
#include "transport.h"

#include <aclapi.h>
#include <sddl.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "wstr.h"

#define DEFAULT_TIMEOUT_MS 5000u
#define RETRY_SLEEP_MS 50u

static int check_owner(HANDLE pipe, const char *expected_sid) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL, expected = NULL;
  wchar_t *wsid = shmb__wide_from_utf8(expected_sid);
  int rc = SHMB_EBADSERVER;

  if (!wsid)
    return SHMB_EINVAL;
  if (!ConvertStringSidToSidW(wsid, &expected)) {
    free(wsid);
    return SHMB_EINVAL;
  }
  free(wsid);
  if (GetSecurityInfo(pipe, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION,
                      &owner, NULL, NULL, NULL, &sd) == ERROR_SUCCESS &&
      owner && EqualSid(owner, expected))
    rc = 0;
  LocalFree(sd);
  LocalFree(expected);
  return rc;
}

static const char *expected_server(const shmb_connect_options *opts) {
  const char *env;
  if (opts && opts->server_sid && *opts->server_sid)
    return opts->server_sid;
  env = getenv(SHMB_SERVER_SID_ENV);
  return env && *env ? env : SHMB_DEFAULT_SERVER_SID;
}

int shmb__transport_open(shmb_client *c, const shmb_connect_options *opts) {
  const char *name = opts && opts->pipe_name ? opts->pipe_name
                                             : "\\\\.\\pipe\\shmbroker";
  wchar_t *wname = shmb__wide_from_utf8(name);
  ULONGLONG deadline;
  int rc;

  c->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms
                                           : DEFAULT_TIMEOUT_MS;
  if (!wname)
    return SHMB_EINVAL;
  deadline = GetTickCount64() + c->timeout_ms;
  for (;;) {
    ULONGLONG now;
    DWORD e;
    c->pipe = CreateFileW(wname, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                          OPEN_EXISTING,
                          FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
                              SECURITY_IDENTIFICATION,
                          NULL);
    if (c->pipe != INVALID_HANDLE_VALUE)
      break;
    e = GetLastError();
    now = GetTickCount64();
    if (now >= deadline ||
        (e != ERROR_PIPE_BUSY && e != ERROR_FILE_NOT_FOUND)) {
      free(wname);
      c->pipe = NULL;
      return e == ERROR_ACCESS_DENIED ? SHMB_EBADSERVER : SHMB_EUNREACHABLE;
    }
    /* Busy: wait for an instance. Not there yet: the service may be
     * starting; poll until the deadline. */
    if (e == ERROR_PIPE_BUSY)
      WaitNamedPipeW(wname, (DWORD)(deadline - now));
    else
      Sleep(RETRY_SLEEP_MS);
  }
  free(wname);
  if ((rc = check_owner(c->pipe, expected_server(opts))) != 0) {
    CloseHandle(c->pipe);
    c->pipe = NULL;
    return rc;
  }
  return 0;
}

/* One overlapped read or write, waited for with the client's timeout. */
static int io_once(shmb_client *c, void *buf, DWORD len, int writing,
                   DWORD *done) {
  OVERLAPPED ov;
  BOOL ok;
  DWORD e;

  memset(&ov, 0, sizeof(ov));
  ov.hEvent = c->io_event;
  ok = writing ? WriteFile(c->pipe, buf, len, NULL, &ov)
               : ReadFile(c->pipe, buf, len, NULL, &ov);
  if (!ok && (e = GetLastError()) != ERROR_IO_PENDING)
    return shmb__from_win32(e) == SHMB_EDISCONNECTED ? SHMB_EDISCONNECTED
                                                     : SHMB_EIO;
  if (WaitForSingleObject(c->io_event, c->timeout_ms) != WAIT_OBJECT_0) {
    CancelIoEx(c->pipe, &ov);
    GetOverlappedResult(c->pipe, &ov, done, TRUE);
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

static int io_all(shmb_client *c, void *buf, size_t len, int writing) {
  uint8_t *p = buf;
  while (len > 0) {
    DWORD chunk = len > 65536 ? 65536 : (DWORD)len, done = 0;
    int rc = io_once(c, p, chunk, writing, &done);
    if (rc != 0)
      return rc;
    p += done;
    len -= done;
  }
  return 0;
}

int shmb__write_all(shmb_client *c, const void *buf, size_t len) {
  return io_all(c, (void *)buf, len, 1);
}

int shmb__read_all(shmb_client *c, void *buf, size_t len) {
  return io_all(c, buf, len, 0);
}

int shmb__roundtrip(shmb_client *c, const uint8_t *frame, size_t len,
                    uint8_t opcode, uint8_t **payload, size_t *plen) {
  uint8_t hdrbuf[SHMB_HEADER_SIZE];
  shmb_frame_header hdr;
  uint8_t *body;
  uint32_t id;
  int rc;

  c->message[0] = '\0';
  if (!c->pipe)
    return SHMB_EDISCONNECTED;
  /* A service that refuses us (too many clients) replies and hangs up at
   * once, maybe before our request is written: its reply is still there to
   * read, and says more than "disconnected". */
  if ((rc = shmb__write_all(c, frame, len)) != 0 && rc != SHMB_EDISCONNECTED)
    return rc;
  /* The request's id sits at offset 8 of the frame we just sent. */
  id = (uint32_t)frame[8] | ((uint32_t)frame[9] << 8) |
       ((uint32_t)frame[10] << 16) | ((uint32_t)frame[11] << 24);
  if ((rc = shmb__read_all(c, hdrbuf, sizeof(hdrbuf))) != 0)
    return rc;
  rc = shmb_frame_peek(hdrbuf, sizeof(hdrbuf), SHMB_MAX_PAYLOAD, &hdr);
  if (rc < 0)
    return SHMB_EPROTO;
  if (hdr.length < 4 ||
      (hdr.opcode != (opcode | SHMB_OP_REPLY) && hdr.opcode != SHMB_OP_ERROR))
    return SHMB_EPROTO;
  if (!(body = malloc(hdr.length)))
    return SHMB_ENOMEM;
  if ((rc = shmb__read_all(c, body, hdr.length)) != 0) {
    free(body);
    return rc;
  }
  rc = shmb_reply_status_code(body, hdr.length, c->message, sizeof(c->message));
  if (rc == 0 && (hdr.opcode == SHMB_OP_ERROR || hdr.request_id != id))
    rc = SHMB_EPROTO;
  if (rc != 0) {
    free(body);
    return rc;
  }
  *payload = body;
  *plen = hdr.length;
  return 0;
}
