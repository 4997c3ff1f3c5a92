/*
 * SID helpers. A token's user is read in one place (svc_token_user) so that
 * the service's own identity, a caller's identity and the names in messages
 * all come from the same code.
 */
#include "sid.h"

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"
#include "wstr.h"

int svc_token_user(HANDLE token, PSID *sid) {
  BYTE buf[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  TOKEN_USER *user = (TOKEN_USER *)buf;
  DWORD len, sidlen;

  if (!GetTokenInformation(token, TokenUser, buf, sizeof(buf), &len))
    return SHMB_ESYSTEM;
  sidlen = GetLengthSid(user->User.Sid);
  if (!(*sid = LocalAlloc(LMEM_FIXED, sidlen)))
    return SHMB_ENOMEM;
  if (!CopySid(sidlen, *sid, user->User.Sid)) {
    LocalFree(*sid);
    *sid = NULL;
    return SHMB_ESYSTEM;
  }
  return 0;
}

int svc_self_sid(PSID *sid) {
  HANDLE token;
  int rc;

  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
    return SHMB_ESYSTEM;
  rc = svc_token_user(token, sid);
  CloseHandle(token);
  return rc;
}

char *svc_sid_string(PSID sid) {
  LPWSTR w;
  char *s;
  if (!ConvertSidToStringSidW(sid, &w))
    return NULL;
  s = shmb__utf8_from_wide(w);
  LocalFree(w);
  return s;
}

void svc_token_sid_text(HANDLE token, char *out, size_t outlen) {
  PSID sid = NULL;
  char *s = NULL;
  if (svc_token_user(token, &sid) == 0) {
    s = svc_sid_string(sid);
    LocalFree(sid);
  }
  snprintf(out, outlen, "%s", s ? s : "(unknown SID)");
  free(s);
}

int svc_process_sid_text(unsigned long pid, char *out, size_t outlen) {
  HANDLE process, token;
  int ok = 0;

  snprintf(out, outlen, "(unknown SID)");
  process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (!process)
    return SHMB_ESYSTEM;
  if (OpenProcessToken(process, TOKEN_QUERY, &token)) {
    svc_token_sid_text(token, out, outlen);
    ok = out[0] == 'S';
    CloseHandle(token);
  }
  CloseHandle(process);
  return ok ? 0 : SHMB_ESYSTEM;
}

void svc_account_name(PSID sid, char *out, size_t outlen) {
  wchar_t name[256], domain[256];
  DWORD nlen = 256, dlen = 256;
  SID_NAME_USE use;
  char *n = NULL, *d = NULL, *s = NULL;

  if (LookupAccountSidW(NULL, sid, name, &nlen, domain, &dlen, &use)) {
    n = shmb__utf8_from_wide(name);
    d = shmb__utf8_from_wide(domain);
  }
  s = svc_sid_string(sid);
  if (n && d && *d)
    snprintf(out, outlen, "%s\\%s (%s)", d, n, s ? s : "?");
  else if (n)
    snprintf(out, outlen, "%s (%s)", n, s ? s : "?");
  else
    snprintf(out, outlen, "%s", s ? s : "an unknown account");
  free(n);
  free(d);
  free(s);
}
