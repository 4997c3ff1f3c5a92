/*
 * The config file's trust check. A file that an ordinary user can write is
 * a way to grant oneself any section, so before the service believes a
 * config (at start and at every reload) it reads the owner and DACL of the
 * file and of its folder and refuses both when anyone but SYSTEM,
 * Administrators or the service's own account could write, re-permission,
 * take ownership of, or replace them. Deny ACEs are not credited: a layout
 * that relies on them is refused too (fail closed), and the message names
 * the account so the administrator knows what to fix.
 */
#include "trust.h"

#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "errors.h"
#include "wstr.h"

/* Rights that let their holder change what the file says or who may. */
#define FILE_DANGEROUS                                                         \
  (FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC | WRITE_OWNER | DELETE |    \
   GENERIC_WRITE | GENERIC_ALL)
/* ...and, on the folder, that let them put another file in its place. */
#define FOLDER_DANGEROUS                                                       \
  (FILE_ADD_FILE | FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER | DELETE |     \
   GENERIC_WRITE | GENERIC_ALL)

static int trusted_sid(PSID sid, PSID self) {
  return IsWellKnownSid(sid, WinLocalSystemSid) ||
         IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
         (self && EqualSid(sid, self));
}

static void account_name(PSID sid, char *out, size_t outlen) {
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

/* Checks one object's owner and DACL against the rights in `dangerous`. */
static int check_object(const char *path, DWORD dangerous, PSID self,
                        char *err, size_t errlen) {
  wchar_t *w = shmb__wide_from_utf8(path);
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL;
  PACL dacl = NULL;
  char who[512];
  DWORD e;
  int rc = 0;

  if (!w)
    return SHMB_ENOMEM;
  e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
                            OWNER_SECURITY_INFORMATION |
                                DACL_SECURITY_INFORMATION,
                            &owner, NULL, &dacl, NULL, &sd);
  free(w);
  if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
    return 0; /* nothing to trust or distrust: the load says it is missing */
  if (e != ERROR_SUCCESS) {
    snprintf(err, errlen, "%s: cannot read its security descriptor (Win32 "
             "error %lu)", path, (unsigned long)e);
    return SHMB_ESYSTEM;
  }
  if (owner && !trusted_sid(owner, self)) {
    account_name(owner, who, sizeof(who));
    snprintf(err, errlen, "%s is owned by %s, who can change who may write "
             "it", path, who);
    rc = SHMB_EACCES;
  } else if (!dacl) {
    snprintf(err, errlen, "%s has no DACL: everyone can write it", path);
    rc = SHMB_EACCES;
  }
  for (DWORD i = 0; rc == 0 && i < (dacl ? dacl->AceCount : 0); i++) {
    ACCESS_ALLOWED_ACE *ace;
    if (!GetAce(dacl, i, (void **)&ace) ||
        ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
        (ace->Header.AceFlags & INHERIT_ONLY_ACE) ||
        !(ace->Mask & dangerous) || trusted_sid(&ace->SidStart, self))
      continue;
    account_name(&ace->SidStart, who, sizeof(who));
    snprintf(err, errlen, "%s can be written by %s (access mask 0x%lx); only "
             "SYSTEM, Administrators and the service's account may",
             path, who, (unsigned long)ace->Mask);
    rc = SHMB_EACCES;
  }
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

int svc_config_trusted(const char *path, char *err, size_t errlen) {
  PSID self = NULL;
  char *dir;
  int rc;

  if (svc_self_sid(&self) != 0)
    return SHMB_ESYSTEM;
  rc = check_object(path, FILE_DANGEROUS, self, err, errlen);
  if (rc == 0) {
    if ((dir = folder_of(path)) == NULL)
      rc = SHMB_ENOMEM;
    else
      rc = check_object(dir, FOLDER_DANGEROUS, self, err, errlen);
    free(dir);
  }
  LocalFree(self);
  return rc;
}
