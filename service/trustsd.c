/*
 * The trust decision on a descriptor already read. Deny ACEs are not
 * credited: a layout that relies on them is refused too (fail closed), and
 * the message names the account so the administrator knows what to fix.
 */
#include "trustsd.h"

#include <aclapi.h>

#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "errors.h"
#include "sid.h"
#include "wstr.h"

/* NT SERVICE\TrustedInstaller owns C:\, C:\Windows and C:\Program Files on
 * Windows: a folder chain through them is as trusted as SYSTEM. */
static int trusted_installer(PSID sid) {
  SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
  PSID ti;
  int same;
  if (!AllocateAndInitializeSid(&nt, 6, 80, 956008885u, 3418522649u,
                                1831038044u, 1853292631u, 2271478464u, 0, 0,
                                &ti))
    return 0;
  same = EqualSid(sid, ti);
  FreeSid(ti);
  return same;
}

static int trusted_sid(PSID sid, PSID self) {
  return IsWellKnownSid(sid, WinLocalSystemSid) ||
         IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
         (self && EqualSid(sid, self)) || trusted_installer(sid);
}

/* An allow ACE that gives an untrusted account a dangerous right. Plain
 * deny ACEs are skipped (never credited); every other type (callback,
 * conditional, object ACEs) is one this check does not understand, so it
 * counts as untrusted: failing closed. */
static int ace_untrusted(ACCESS_ALLOWED_ACE *ace, DWORD dangerous, PSID self) {
  if (ace->Header.AceFlags & INHERIT_ONLY_ACE)
    return 0;
  if (ace->Header.AceType == ACCESS_DENIED_ACE_TYPE)
    return 0;
  if (ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE)
    return 1;
  return (ace->Mask & dangerous) && !trusted_sid(&ace->SidStart, self);
}

int svc_trust_check_sd(const char *what, PSECURITY_DESCRIPTOR sd,
                       DWORD dangerous, PSID self, char *err, size_t errlen) {
  BOOL present, defaulted;
  PSID owner = NULL;
  PACL dacl = NULL;
  char who[512];

  if (!GetSecurityDescriptorOwner(sd, &owner, &defaulted) ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted))
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "%s: cannot read its "
                      "security descriptor", what);
  if (owner && !trusted_sid(owner, self)) {
    svc_account_name(owner, who, sizeof(who));
    return shmb__fail(err, errlen, SHMB_EACCES, "%s is owned by %s, who can "
                      "change who may write it", what, who);
  }
  if (!present || !dacl)
    return shmb__fail(err, errlen, SHMB_EACCES, "%s has no DACL: everyone "
                      "can write it", what);
  for (DWORD i = 0; i < dacl->AceCount; i++) {
    ACCESS_ALLOWED_ACE *ace;
    if (!GetAce(dacl, i, (void **)&ace) ||
        !ace_untrusted(ace, dangerous, self))
      continue;
    if (ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE)
      return shmb__fail(err, errlen, SHMB_EACCES, "%s has an ACE of type %u "
                        "that this check does not understand; only plain "
                        "allow and deny ACEs are trusted", what,
                        (unsigned)ace->Header.AceType);
    svc_account_name(&ace->SidStart, who, sizeof(who));
    return shmb__fail(err, errlen, SHMB_EACCES, "%s can be %s by %s (access "
                      "mask 0x%lx); only SYSTEM, Administrators, "
                      "TrustedInstaller and the service's account may", what,
                      ace->Mask & SVC_FILE_DANGEROUS ? "written" : "read",
                      who, (unsigned long)ace->Mask);
  }
  return 0;
}


int svc_trust_check_handle(HANDLE file, const char *what, DWORD dangerous,
                           char *err, size_t errlen) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID self = NULL;
  DWORD e = GetSecurityInfo(file, SE_FILE_OBJECT,
                            OWNER_SECURITY_INFORMATION |
                                DACL_SECURITY_INFORMATION,
                            NULL, NULL, NULL, NULL, &sd);
  int rc;

  if (e != ERROR_SUCCESS)
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "%s: cannot read its "
                      "security descriptor (Win32 error %lu)", what,
                      (unsigned long)e);
  if ((rc = svc_self_sid(&self)) != 0)
    shmb__fail(err, errlen, rc, "cannot read the service's own account");
  else
    rc = svc_trust_check_sd(what, sd, dangerous, self, err, errlen);
  LocalFree(self);
  LocalFree(sd);
  return rc;
}

int svc_file_identity_check(HANDLE file, const char *what, char *err,
                            size_t errlen) {
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(file, &info))
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "%s: cannot read its "
                      "attributes (Win32 error %lu)", what,
                      (unsigned long)GetLastError());
  if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
    return shmb__fail(err, errlen, SHMB_EACCES, "%s is a reparse point (a "
                      "link); refusing to follow it", what);
  if (info.nNumberOfLinks > 1)
    return shmb__fail(err, errlen, SHMB_EACCES, "%s has more than one name "
                      "(hard links); refusing it", what);
  return 0;
}

/* The length of a full path's volume root, backslash included: "C:\" or
 * "\\server\share\" (also in their "\\?\" forms); 0 for anything else
 * (a device path), which the caller refuses rather than guess. */
static size_t root_len(const wchar_t *p) {
  size_t off = 0, i;
  if (wcsncmp(p, L"\\\\?\\UNC\\", 8) == 0)
    off = 8;
  else if (wcsncmp(p, L"\\\\?\\", 4) == 0)
    off = 4;
  else if (wcsncmp(p, L"\\\\", 2) == 0 && p[2] != L'.' && p[2] != L'?')
    off = 2;
  if (off != 8 && off != 2)
    return iswalpha(p[off]) && p[off + 1] == L':' && p[off + 2] == L'\\'
               ? off + 3
               : 0;
  for (i = off; p[i] && p[i] != L'\\'; i++) /* server */
    ;
  if (i == off || p[i] != L'\\')
    return 0;
  for (off = ++i; p[i] && p[i] != L'\\'; i++) /* share */
    ;
  return i > off && p[i] == L'\\' ? i + 1 : 0;
}

/* Opens one folder of the chain by handle, without following a reparse
 * point (each prefix is opened as a last component, so a junction or link
 * anywhere on the path is seen), and judges its owner and DACL. */
static int check_folder(const wchar_t *dir, DWORD dangerous, PSID self,
                        char *err, size_t errlen) {
  BY_HANDLE_FILE_INFORMATION info;
  PSECURITY_DESCRIPTOR sd = NULL;
  char *name = shmb__utf8_from_wide(dir);
  HANDLE h;
  DWORD e;
  int rc;

  if (!name)
    return SHMB_ENOMEM;
  h = CreateFileW(dir, READ_CONTROL | FILE_READ_ATTRIBUTES,
                  FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                  NULL, OPEN_EXISTING,
                  FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                  NULL);
  if (h == INVALID_HANDLE_VALUE) {
    rc = shmb__fail(err, errlen, SHMB_ESYSTEM, "folder %s: cannot open it "
                    "(Win32 error %lu)", name, (unsigned long)GetLastError());
    goto out_free_name;
  }
  if (!GetFileInformationByHandle(h, &info))
    rc = shmb__fail(err, errlen, SHMB_ESYSTEM, "folder %s: cannot read its "
                    "attributes (Win32 error %lu)", name,
                    (unsigned long)GetLastError());
  else if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
    rc = shmb__fail(err, errlen, SHMB_EACCES, "folder %s is a reparse point "
                    "(a junction or link); refusing a path through it", name);
  else if ((e = GetSecurityInfo(h, SE_FILE_OBJECT,
                                OWNER_SECURITY_INFORMATION |
                                    DACL_SECURITY_INFORMATION,
                                NULL, NULL, NULL, NULL, &sd)) != ERROR_SUCCESS)
    rc = shmb__fail(err, errlen, SHMB_ESYSTEM, "folder %s: cannot read its "
                    "security descriptor (Win32 error %lu)", name,
                    (unsigned long)e);
  else
    rc = svc_trust_check_sd(name, sd, dangerous, self, err, errlen);
  LocalFree(sd);
  CloseHandle(h);
out_free_name:
  free(name);
  return rc;
}

/* Walks full (modified in place) from the folder holding the file up to
 * the volume root: the first folder against SVC_FOLDER_DANGEROUS, the rest
 * against SVC_ANCESTOR_DANGEROUS. */
static int walk_up(wchar_t *full, size_t root, PSID self, char *err,
                   size_t errlen) {
  DWORD dangerous = SVC_FOLDER_DANGEROUS;
  int rc;

  for (;;) {
    wchar_t *slash = wcsrchr(full, L'\\');
    size_t n = slash ? (size_t)(slash - full) : 0;
    if (n < root)
      n = root; /* the root keeps its backslash: "C:\" */
    full[n] = L'\0';
    if ((rc = check_folder(full, dangerous, self, err, errlen)) != 0)
      return rc;
    if (n == root)
      return 0;
    dangerous = SVC_ANCESTOR_DANGEROUS;
  }
}

int svc_trust_check_folders(const char *path, char *err, size_t errlen) {
  wchar_t *w = shmb__wide_from_utf8(path), *full = NULL;
  PSID self = NULL;
  DWORD n;
  size_t root;
  int rc = SHMB_ENOMEM;

  if (!w)
    return SHMB_ENOMEM;
  n = GetFullPathNameW(w, 0, NULL, NULL);
  if (n == 0 || !(full = malloc(n * sizeof(*full))))
    goto out_free;
  if (GetFullPathNameW(w, n, full, NULL) >= n) {
    rc = shmb__fail(err, errlen, SHMB_ESYSTEM, "%s: cannot make it a full "
                    "path", path);
    goto out_free;
  }
  if ((root = root_len(full)) == 0 || wcslen(full) <= root) {
    rc = shmb__fail(err, errlen, SHMB_EACCES, "%s: cannot tell the volume "
                    "root of this path, so its folders cannot be checked",
                    path);
    goto out_free;
  }
  if ((rc = svc_self_sid(&self)) == 0)
    rc = walk_up(full, root, self, err, errlen);
  LocalFree(self);
out_free:
  free(full);
  free(w);
  return rc;
}
