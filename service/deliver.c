/*
 * Handle delivery. The pid that GetNamedPipeClientProcessId gives is only
 * a hint: the process may have died and its pid gone to another, or it may
 * have passed its end of the pipe to another process. So before a handle
 * is duplicated into the process of that pid, the process must be alive,
 * older than the connection (a pid reused after the connection was
 * accepted belongs to a younger process), run as the account the service
 * identified on the pipe, and be granted by the section's descriptor,
 * with its own token, what it is about to receive (a low-integrity or
 * AppContainer process of the same account is not the caller's equal).
 * After the duplication the pipe must still be connected; if not, or if
 * the reply cannot be written later, the handle is closed in the target
 * again with DUPLICATE_CLOSE_SOURCE, so a client that went away leaves
 * nothing behind in whatever process holds that pid.
 */
#include "deliver.h"

#include <stdio.h>

#include "errors.h"
#include "protocol.h"
#include "sid.h"

static uint64_t delivered_count, taken_back_count;

DWORD svc_delivery_rights(uint32_t wire_access) {
  /* Query lets the SDK read the size; map-read and map-write are the grant
   * itself. Nothing that changes or deletes the object. */
  DWORD rights = SECTION_QUERY | FILE_MAP_READ;
  if (wire_access & SHMB_WIRE_ACCESS_WRITE)
    rights |= FILE_MAP_WRITE;
  return rights;
}

void svc_delivery_counts(uint64_t *delivered, uint64_t *taken_back) {
  *delivered = delivered_count;
  *taken_back = taken_back_count;
}

/* Whether the client's end of the pipe is still open. Any failure counts
 * as gone: a handle is never left where nobody will be told of it. */
static int pipe_connected(HANDLE pipe) {
  DWORD avail = 0;
  return PeekNamedPipe(pipe, NULL, 0, NULL, &avail, NULL) != 0;
}

static int process_alive(HANDLE process) {
  return WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
}

/* The process behind the pipe, opened for duplication, alive and older
 * than the connection. */
static int open_target(unsigned long pid, uint64_t connected_at,
                       HANDLE *process, char *err, size_t errlen) {
  FILETIME created, exited, kernel, user;
  uint64_t born;
  DWORD e;

  *process = OpenProcess(PROCESS_DUP_HANDLE |
                             PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE,
                         FALSE, pid);
  if (!*process) {
    e = GetLastError();
    return shmb__fail(err, errlen, e == ERROR_INVALID_PARAMETER
                                       ? SHMB_EDISCONNECTED
                                       : SHMB_EACCES,
                      "cannot open the process that connected (pid %lu, "
                      "Win32 error %lu): it is gone or not the caller's",
                      pid, (unsigned long)e);
  }
  if (!process_alive(*process))
    return shmb__fail(err, errlen, SHMB_EDISCONNECTED, "the process that "
                      "connected (pid %lu) has exited", pid);
  if (!GetProcessTimes(*process, &created, &exited, &kernel, &user))
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot read when pid %lu "
                      "started (Win32 error %lu)", pid,
                      (unsigned long)GetLastError());
  born = (uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime;
  if (born > connected_at)
    return shmb__fail(err, errlen, SHMB_EACCES, "pid %lu started after the "
                      "connection was made: the process that connected is "
                      "gone and its pid was reused", pid);
  return 0;
}

/* The target's token: the caller's account, and granted wire by sd. */
static int check_target_token(HANDLE process, unsigned long pid,
                              const svc_caller *who, PSECURITY_DESCRIPTOR sd,
                              uint32_t wire, char *err, size_t errlen) {
  HANDLE token = NULL, ident = NULL;
  PSID theirs = NULL, caller = NULL;
  svc_caller as_process = {0};
  char sid[192];
  int rc = SHMB_ESYSTEM;

  if (!OpenProcessToken(process, TOKEN_QUERY | TOKEN_DUPLICATE, &token)) {
    shmb__fail(err, errlen, SHMB_EACCES, "cannot read the token of pid %lu "
               "(Win32 error %lu)", pid, (unsigned long)GetLastError());
    return SHMB_EACCES;
  }
  if (svc_token_user(token, &theirs) != 0 ||
      svc_token_user(who->token, &caller) != 0) {
    shmb__fail(err, errlen, rc, "cannot read the account of pid %lu or of "
               "the caller", pid);
    goto out_free;
  }
  if (!EqualSid(theirs, caller)) {
    svc_token_sid_text(token, sid, sizeof(sid));
    rc = shmb__fail(err, errlen, SHMB_EACCES, "pid %lu runs as %s, not as "
                    "the caller %s: the pipe is not that process's",
                    pid, sid, who->sid);
    goto out_free;
  }
  /* AccessCheck wants an impersonation token. */
  if (!DuplicateToken(token, SecurityIdentification, &ident)) {
    shmb__fail(err, errlen, rc, "cannot duplicate the token of pid %lu "
               "(Win32 error %lu)", pid, (unsigned long)GetLastError());
    goto out_free;
  }
  as_process.token = ident;
  if ((svc_access_granted(&as_process, sd) & wire) != wire) {
    rc = shmb__fail(err, errlen, SHMB_EACCES, "pid %lu's own token is not "
                    "granted %s on the section (a sandboxed or "
                    "low-integrity process of the caller's account?)",
                    pid, shmb__access_name(wire));
    goto out_free;
  }
  rc = 0;

out_free:
  if (ident)
    CloseHandle(ident);
  LocalFree(theirs);
  LocalFree(caller);
  CloseHandle(token);
  return rc;
}

static void take_back(HANDLE process, uint64_t remote) {
  /* A process that has exited closed it already. */
  if (!process_alive(process))
    return;
  /* Closes the handle in the target without taking a copy (with no target
   * process the call may report failure even though it closed it). */
  DuplicateHandle(process, (HANDLE)(uintptr_t)remote, NULL, NULL, 0, FALSE,
                  DUPLICATE_CLOSE_SOURCE);
  taken_back_count++;
}

int svc_deliver_handle(HANDLE pipe, unsigned long pid, uint64_t connected_at,
                       const svc_caller *who, PSECURITY_DESCRIPTOR sd,
                       HANDLE object, DWORD rights, svc_delivery *out,
                       char *err, size_t errlen) {
  uint32_t wire = SHMB_WIRE_ACCESS_READ |
                  (rights & FILE_MAP_WRITE ? SHMB_WIRE_ACCESS_WRITE : 0);
  HANDLE process = NULL, remote = NULL;
  int rc;

  out->process = NULL;
  out->remote = 0;
  if (!pipe_connected(pipe))
    return shmb__fail(err, errlen, SHMB_EDISCONNECTED, "the client closed "
                      "its end of the pipe before the handle was sent");
  if ((rc = open_target(pid, connected_at, &process, err, errlen)) != 0 ||
      (rc = check_target_token(process, pid, who, sd, wire, err,
                               errlen)) != 0)
    goto out_close_process;
  if (!DuplicateHandle(GetCurrentProcess(), object, process, &remote, rights,
                       FALSE, 0)) {
    rc = shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot duplicate the "
                    "section into pid %lu (Win32 error %lu)", pid,
                    (unsigned long)GetLastError());
    goto out_close_process;
  }
  delivered_count++;
  /* Still the same connection? A client that closed its end, or died, in
   * the meantime will never read the value: take the handle back. */
  if (!pipe_connected(pipe) || !process_alive(process)) {
    take_back(process, (uint64_t)(uintptr_t)remote);
    rc = shmb__fail(err, errlen, SHMB_EDISCONNECTED, "the client (pid %lu) "
                    "went away while its handle was made; taken back", pid);
    goto out_close_process;
  }
  out->process = process;
  out->remote = (uint64_t)(uintptr_t)remote;
  return 0;

out_close_process:
  if (process)
    CloseHandle(process);
  return rc;
}

void svc_delivery_end(svc_delivery *d, int delivered) {
  if (!d->process)
    return;
  if (!delivered)
    take_back(d->process, d->remote);
  CloseHandle(d->process);
  d->process = NULL;
  d->remote = 0;
}
