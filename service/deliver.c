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
 * After the duplication the reply must be written: the write, made at
 * once (conn.c), is what shows the pipe still connected; if it fails, the
 * handle is closed in the target again with DUPLICATE_CLOSE_SOURCE, so a
 * client that went away leaves nothing behind in whatever process holds
 * that pid.
 *
 * The process is checked once per connection and then held open (its pid
 * cannot be reused while we hold it), with its token: a later OPEN costs
 * the AccessCheck (cached per section, as the caller's) and the
 * duplication.
 */
#include "deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "protocol.h"
#include "sid.h"

static uint64_t delivered_count, taken_back_count;

DWORD svc_delivery_rights(uint32_t wire_access) {
  /* Query lets the SDK read the size; map-read and map-write are the grant
   * itself; READ_CONTROL lets the SDK read the owner, as it does on a
   * section it opened by name (the service's account or it refuses).
   * Nothing that changes or deletes the object. */
  DWORD rights = SECTION_QUERY | FILE_MAP_READ | READ_CONTROL;
  if (wire_access & SHMB_WIRE_ACCESS_WRITE)
    rights |= FILE_MAP_WRITE;
  return rights;
}

void svc_delivery_counts(uint64_t *delivered, uint64_t *taken_back) {
  *delivered = delivered_count;
  *taken_back = taken_back_count;
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

/* The target's token is the caller's account; *ident its identification
 * token for AccessCheck. */
static int check_target_token(HANDLE process, unsigned long pid,
                              const svc_caller *who, HANDLE *ident,
                              char *err, size_t errlen) {
  HANDLE token = NULL;
  PSID theirs = NULL, caller = NULL;
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
  if (!DuplicateToken(token, SecurityIdentification, ident)) {
    *ident = NULL;
    shmb__fail(err, errlen, rc, "cannot duplicate the token of pid %lu "
               "(Win32 error %lu)", pid, (unsigned long)GetLastError());
    goto out_free;
  }
  rc = 0;

out_free:
  LocalFree(theirs);
  LocalFree(caller);
  CloseHandle(token);
  return rc;
}

static void take_back(HANDLE process, uint64_t remote) {
  /* A process that has exited closed it already. */
  if (!process_alive(process))
    return;
  HANDLE here = NULL;
  /* Moves the handle out of the target into this process, then closes
   * it: the target no longer has it. */
  if (DuplicateHandle(process, (HANDLE)(uintptr_t)remote, GetCurrentProcess(),
                      &here, 0, FALSE,
                      DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS) &&
      here) {
    CloseHandle(here);
    taken_back_count++;
    /* Debug, not a refusal: never held back by the refusal limit, so a
     * test can tell every take-back (handle.sh). */
    shmb_log_debug("took handle 0x%llx back from pid %lu",
                   (unsigned long long)remote,
                   (unsigned long)GetProcessId(process));
    return;
  }
  shmb_log_warn("could not take handle 0x%llx back from pid %lu (Win32 "
                "error %lu): it stays in that process until it exits",
                (unsigned long long)remote, (unsigned long)GetProcessId(process),
                (unsigned long)GetLastError());
}

void svc_target_release(svc_target *t) {
  if (t->process)
    CloseHandle(t->process);
  t->process = NULL;
  svc_caller_release(&t->as_itself);
}

/* The first delivery of a connection: the process checked and held. */
static int target_once(svc_target *t, unsigned long pid,
                       uint64_t connected_at, const svc_caller *who,
                       char *err, size_t errlen) {
  HANDLE process = NULL, ident = NULL;
  int rc;

  if (t->process)
    return 0;
  if ((rc = open_target(pid, connected_at, &process, err, errlen)) != 0 ||
      (rc = check_target_token(process, pid, who, &ident, err, errlen)) !=
          0) {
    if (process)
      CloseHandle(process);
    return rc;
  }
  memset(&t->as_itself, 0, sizeof(t->as_itself));
  t->as_itself.token = ident;
  snprintf(t->as_itself.sid, sizeof(t->as_itself.sid), "%s (pid %lu)",
           who->sid, pid);
  svc_caller_cache_init(&t->as_itself); /* without one, every OPEN asks */
  t->process = process;
  return 0;
}

int svc_deliver_handle(HANDLE pipe, unsigned long pid, uint64_t connected_at,
                       const svc_caller *who, svc_target *t,
                       PSECURITY_DESCRIPTOR sd, HANDLE object, DWORD rights,
                       svc_delivery *out, char *err, size_t errlen) {
  uint32_t wire = SHMB_WIRE_ACCESS_READ |
                  (rights & FILE_MAP_WRITE ? SHMB_WIRE_ACCESS_WRITE : 0);
  uint64_t value;

  memset(out, 0, sizeof(*out));
  return svc_deliver_more(pipe, pid, connected_at, who, t, sd, wire, object,
                          rights, out, &value, err, errlen);
}

/* Remembers a handle put into d's target, for svc_delivery_end. */
static int delivery_add(svc_delivery *d, HANDLE process, uint64_t remote) {
  uint64_t *more;
  if (!d->process) {
    d->process = process;
    d->remote = remote;
    return 0;
  }
  if (!(more = realloc(d->more, (d->n_more + 1) * sizeof(*more))))
    return SHMB_ENOMEM;
  d->more = more;
  d->more[d->n_more++] = remote;
  return 0;
}

int svc_deliver_more(HANDLE pipe, unsigned long pid, uint64_t connected_at,
                     const svc_caller *who, svc_target *t,
                     PSECURITY_DESCRIPTOR sd, uint32_t need, HANDLE object,
                     DWORD rights, svc_delivery *d, uint64_t *value,
                     char *err, size_t errlen) {
  HANDLE remote = NULL;
  int rc;

  *value = 0;
  /* No look at the pipe here: the reply's write, made right after
   * dispatch, is the look after the duplication (conn.c); a client that
   * closed its end fails it and the handle is taken back. A look here
   * would cost a kernel call on every delivery for a rare case. */
  (void)pipe;
  if ((rc = target_once(t, pid, connected_at, who, err, errlen)) != 0)
    return rc;
  if ((svc_access_granted(&t->as_itself, sd) & need) != need)
    return shmb__fail(err, errlen, SHMB_EACCES, "pid %lu's own token is "
                      "not granted %s on the section (a sandboxed or "
                      "low-integrity process of the caller's account?)",
                      pid, shmb__access_name(need));
  if (!DuplicateHandle(GetCurrentProcess(), object, t->process, &remote,
                       rights, FALSE, 0)) {
    DWORD e = GetLastError();
    return shmb__fail(err, errlen, process_alive(t->process)
                                       ? SHMB_ESYSTEM
                                       : SHMB_EDISCONNECTED,
                      "cannot duplicate the object into pid %lu (Win32 "
                      "error %lu)", pid, (unsigned long)e);
  }
  delivered_count++;
  if (delivery_add(d, t->process, (uint64_t)(uintptr_t)remote) != 0) {
    take_back(t->process, (uint64_t)(uintptr_t)remote);
    return shmb__fail(err, errlen, SHMB_ENOMEM, "out of memory");
  }
  *value = (uint64_t)(uintptr_t)remote;
  return 0;
}

void svc_delivery_end(svc_delivery *d, int delivered) {
  if (d->process && !delivered) {
    take_back(d->process, d->remote);
    for (size_t i = 0; i < d->n_more; i++)
      take_back(d->process, d->more[i]);
  }
  free(d->more);
  memset(d, 0, sizeof(*d));
}
