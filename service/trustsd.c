/*
 * The trust decision on a descriptor already read. Deny ACEs are not
 * credited: a layout that relies on them is refused too (fail closed), and
 * the message names the account so the administrator knows what to fix.
 */
#include "trustsd.h"

#include <aclapi.h>

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "sid.h"
#include "wstr.h"

static int trusted_sid(PSID sid, PSID self) {
  return IsWellKnownSid(sid, WinLocalSystemSid) ||
         IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
         (self && EqualSid(sid, self));
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
                      "mask 0x%lx); only SYSTEM, Administrators and the "
                      "service's account may", what,
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

/* Reads a folder's owner and DACL by path and judges them. */
static int check_object(const char *path, DWORD dangerous, PSID self,
                        char *err, size_t errlen) {
  wchar_t *w = shmb__wide_from_utf8(path);
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD e;
  int rc;

  if (!w)
    return SHMB_ENOMEM;
  e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
                            OWNER_SECURITY_INFORMATION |
                                DACL_SECURITY_INFORMATION,
                            NULL, NULL, NULL, NULL, &sd);
  free(w);
  if (e != ERROR_SUCCESS)
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "%s: cannot read its "
                      "security descriptor (Win32 error %lu)", path,
                      (unsigned long)e);
  rc = svc_trust_check_sd(path, sd, dangerous, self, err, errlen);
  LocalFree(sd);
  return rc;
}

/* The folder of path ("." for a bare file name). */
static char *folder_of(const char *path) {
  const char *slash = strrchr(path, '\\'), *fwd = strrchr(path, '/');
  size_t n;
  char *dir;
  if (fwd && (!slash || fwd > slash))
    slash = fwd;
  n = slash ? (size_t)(slash - path) : 1;
  if (slash && n == 2 && path[1] == ':')
    n = 3; /* "C:\" itself */
  if (!(dir = malloc(n + 1)))
    return NULL;
  memcpy(dir, slash ? path : ".", n);
  dir[n] = '\0';
  return dir;
}

int svc_trust_check_folder_of(const char *path, char *err, size_t errlen) {
  PSID self = NULL;
  char *dir = folder_of(path);
  int rc;

  if (!dir)
    return SHMB_ENOMEM;
  if ((rc = svc_self_sid(&self)) == 0)
    rc = check_object(dir, SVC_FOLDER_DANGEROUS, self, err, errlen);
  LocalFree(self);
  free(dir);
  return rc;
}
