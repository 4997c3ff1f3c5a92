/*
 * SIDs and account names, both ways. People know their accounts by name
 * ("VM\root"), Windows checks SIDs: the SDK accepts either for the server it
 * expects and says both whenever it refuses a server, so that nobody has to
 * dig a SID out of a log line.
 */
#include "account.h"

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "wstr.h"

/* A copy of sid in LocalAlloc'd memory, so that every SID this module
 * hands out is freed the same way. */
static int copy_sid(PSID sid, PSID *out) {
  DWORD len = GetLengthSid(sid);
  if (!(*out = LocalAlloc(LMEM_FIXED, len)))
    return SHMB_ENOMEM;
  if (!CopySid(len, *out, sid)) {
    LocalFree(*out);
    *out = NULL;
    return SHMB_ESYSTEM;
  }
  return 0;
}

/* LookupAccountNameW, which wants its buffers sized by a first call. */
static int sid_from_name(const wchar_t *name, PSID *out, DWORD *err) {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  wchar_t domain[256];
  DWORD sidlen = sizeof(sid), domlen = sizeof(domain) / sizeof(domain[0]);
  SID_NAME_USE use;
  if (!LookupAccountNameW(NULL, name, sid, &sidlen, domain, &domlen, &use)) {
    *err = GetLastError();
    return SHMB_EINVAL;
  }
  return copy_sid(sid, out);
}

int shmb__account_sid(const char *account, PSID *out,
                      unsigned long *win32_error) {
  wchar_t *w;
  DWORD err = 0;
  int rc = 0;

  *out = NULL;
  *win32_error = 0;
  if (!account || !*account || !(w = shmb__wide_from_utf8(account)))
    return SHMB_EINVAL;
  /* A SID string first: "S-1-5-18" is never looked up as a name. */
  if ((w[0] == L'S' || w[0] == L's') && w[1] == L'-') {
    if (!ConvertStringSidToSidW(w, out)) {
      err = GetLastError();
      rc = SHMB_EINVAL;
    }
  } else {
    rc = sid_from_name(w, out, &err);
  }
  free(w);
  *win32_error = err;
  return rc;
}

void shmb__sid_text(PSID sid, char *buf, size_t len) {
  LPWSTR w = NULL;
  char *s = NULL;
  if (sid && ConvertSidToStringSidW(sid, &w))
    s = shmb__utf8_from_wide(w);
  snprintf(buf, len, "%s", s ? s : "?");
  free(s);
  LocalFree(w);
}

void shmb__sid_account(PSID sid, char *buf, size_t len) {
  wchar_t name[256], domain[256];
  DWORD nlen = 256, dlen = 256;
  SID_NAME_USE use;
  char *n = NULL, *d = NULL;

  buf[0] = '\0';
  if (sid && LookupAccountSidW(NULL, sid, name, &nlen, domain, &dlen, &use)) {
    n = shmb__utf8_from_wide(name);
    d = shmb__utf8_from_wide(domain);
  }
  if (n)
    snprintf(buf, len, "%s%s%s", d ? d : "", d && *d ? "\\" : "", n);
  free(n);
  free(d);
}

void shmb__sid_describe(PSID sid, char *buf, size_t len) {
  char account[SHMB_ACCOUNT_TEXT_MAX], text[192];
  shmb__sid_account(sid, account, sizeof(account));
  shmb__sid_text(sid, text, sizeof(text));
  if (*account)
    snprintf(buf, len, "%s (%s)", account, text);
  else
    snprintf(buf, len, "%s", text);
}

int shmb__token_user(HANDLE token, PSID *out) {
  BYTE buf[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  DWORD len;
  HANDLE own = NULL;
  int rc;

  *out = NULL;
  if (!token) {
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &own))
      return shmb__from_win32(GetLastError());
    token = own;
  }
  if (GetTokenInformation(token, TokenUser, buf, sizeof(buf), &len))
    rc = copy_sid(((TOKEN_USER *)buf)->User.Sid, out);
  else
    rc = shmb__from_win32(GetLastError());
  if (own)
    CloseHandle(own);
  return rc;
}

DWORD shmb__object_owner(HANDLE h, shmb_owner_buf *buf, PSID *owner) {
  DWORD needed = 0;
  BOOL defaulted;
  *owner = NULL;
  if (!GetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION, buf,
                               sizeof(*buf), &needed) ||
      !GetSecurityDescriptorOwner(buf, owner, &defaulted))
    return GetLastError();
  return *owner ? ERROR_SUCCESS : ERROR_INVALID_SECURITY_DESCR;
}
