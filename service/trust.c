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

#include <aclapi.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "sid.h"
#include "wstr.h"

int svc_config_open(const char *path, HANDLE *file, char *err,
                    size_t errlen) {
  wchar_t *w = shmb__wide_from_utf8(path);
  DWORD e;
  int rc;

  if (!w)
    return SHMB_ENOMEM;
  *file = CreateFileW(w, GENERIC_READ | READ_CONTROL, FILE_SHARE_READ, NULL,
                      OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  e = GetLastError();
  free(w);
  if (*file == INVALID_HANDLE_VALUE)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "%s: cannot open (Win32 "
                      "error %lu%s)", path, (unsigned long)e,
                      e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND
                          ? ": no such file"
                          : "");
  if ((rc = svc_file_identity_check(*file, path, err, errlen)) != 0) {
    CloseHandle(*file);
    *file = INVALID_HANDLE_VALUE;
    return SHMB_ECONFIG;
  }
  return 0;
}

int svc_config_trusted_handle(HANDLE file, const char *path, char *err,
                              size_t errlen) {
  int rc = svc_trust_check_handle(file, path, SVC_FILE_DANGEROUS, err, errlen);
  return rc ? rc : svc_trust_check_folders(path, err, errlen);
}

int svc_config_trusted(const char *path, char *err, size_t errlen) {
  HANDLE f;
  int rc = svc_config_open(path, &f, err, errlen);
  if (rc != 0)
    return rc;
  rc = svc_config_trusted_handle(f, path, err, errlen);
  CloseHandle(f);
  return rc;
}
