/*
 * Client identity and access checks: ImpersonateNamedPipeClient,
 * OpenThreadToken, RevertToSelf, then AccessCheck against the section's own
 * descriptor, so the broker and the kernel judge with the same rules.
 */
#include "access.h"

#include <stdio.h>
#include <stdlib.h>

#include "descriptor.h"
#include "errors.h"
#include "log.h"
#include "protocol.h"
#include "sid.h"

int svc_caller_identify(HANDLE pipe, unsigned long pid, svc_caller *caller,
                        char *err, size_t errlen) {
  BOOL opened;
  DWORD e;

  caller->token = NULL;
  snprintf(caller->sid, sizeof(caller->sid), "(unknown SID)");
  if (!ImpersonateNamedPipeClient(pipe))
    return shmb__fail(err, errlen, SHMB_EACCES, "cannot impersonate the "
                      "client (Win32 error %lu)",
                      (unsigned long)GetLastError());
  /* OpenAsSelf: open the token with the service's own rights, not the
   * client's, which may be too weak to open its own thread token. */
  opened = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE,
                           &caller->token);
  e = GetLastError();
  if (!RevertToSelf()) {
    shmb_log_error("RevertToSelf failed (Win32 error %lu) while serving pid "
                   "%lu: stopping rather than run as the client",
                   (unsigned long)GetLastError(), pid);
    ExitProcess(3);
  }
  if (!opened) {
    caller->token = NULL;
    return shmb__fail(err, errlen, SHMB_EACCES, "cannot open the client's "
                      "token (Win32 error %lu)", (unsigned long)e);
  }
  svc_token_sid_text(caller->token, caller->sid, sizeof(caller->sid));
  return 0;
}

void svc_caller_release(svc_caller *caller) {
  if (caller->token)
    CloseHandle(caller->token);
  caller->token = NULL;
}

uint32_t svc_access_granted(const svc_caller *caller, PSECURITY_DESCRIPTOR sd) {
  GENERIC_MAPPING mapping = svc_section_mapping;
  PRIVILEGE_SET privs;
  DWORD privlen = sizeof(privs);
  DWORD granted = 0;
  BOOL status = FALSE;
  uint32_t wire = 0;

  if (!caller->token)
    return 0;
  if (!AccessCheck(sd, caller->token, MAXIMUM_ALLOWED, &mapping, &privs,
                   &privlen, &granted, &status)) {
    shmb_log_warn("AccessCheck failed for %s (Win32 error %lu): nothing "
                  "granted", caller->sid, (unsigned long)GetLastError());
    return 0;
  }
  if (!status)
    return 0;
  if (granted & SECTION_MAP_READ) {
    wire |= SHMB_WIRE_ACCESS_READ;
    if (granted & SECTION_MAP_WRITE)
      wire |= SHMB_WIRE_ACCESS_WRITE;
  }
  return wire;
}

int svc_caller_may(const svc_caller *caller, PSECURITY_DESCRIPTOR sd,
                   DWORD right) {
  GENERIC_MAPPING mapping = {right, right, right, right};
  PRIVILEGE_SET privs;
  DWORD privlen = sizeof(privs), granted = 0;
  BOOL status = FALSE;

  if (!caller->token || !sd)
    return 0;
  if (!AccessCheck(sd, caller->token, right, &mapping, &privs, &privlen,
                   &granted, &status)) {
    shmb_log_warn("AccessCheck failed for %s (Win32 error %lu): refused",
                  caller->sid, (unsigned long)GetLastError());
    return 0;
  }
  return status && (granted & right) == right;
}
