/*
 * Backing files. The service runs as SYSTEM and opens a path an
 * administrator wrote but others may influence (design.md, security rule
 * 8), so: no reparse point is followed, a file with a second name is
 * refused, the handle must reach the configured path, the size is checked
 * before anything changes (a file is never truncated or grown), an existing
 * file that others own or may read or write is refused rather than
 * re-permissioned, and a failed creation is undone through the handle. The
 * file is kept open share-read only, so nobody can write, delete or rename
 * it under us.
 */
#include "backing.h"

#include <aclapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "errors.h"
#include "log.h"
#include "own_sd.h"
#include "sid.h"
#include "trustsd.h"
#include "wstr.h"

/* Opens or creates the file with our descriptor (on a new file). */
static int open_file(const char *path, HANDLE *file,
                     int *created, char *err, size_t errlen) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  PSECURITY_DESCRIPTOR fsd;
  wchar_t *wpath;
  DWORD e;
  int rc;

  if ((rc = svc_file_sd(&fsd, err, errlen)) != 0)
    return rc;
  if (!(wpath = shmb__wide_from_utf8(path))) {
    LocalFree(fsd);
    return SHMB_ENOMEM;
  }
  sa.lpSecurityDescriptor = fsd;
  /* No reparse point is followed: a link planted in the folder would make
   * SYSTEM open (and size) a file of the planter's choosing. */
  *file = CreateFileW(wpath, GENERIC_READ | GENERIC_WRITE | READ_CONTROL |
                             DELETE,
                      FILE_SHARE_READ, &sa, OPEN_ALWAYS,
                      FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
                      NULL);
  e = GetLastError();
  free(wpath);
  *created = *file != INVALID_HANDLE_VALUE && e != ERROR_ALREADY_EXISTS;
  LocalFree(fsd);
  if (*file == INVALID_HANDLE_VALUE)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "cannot open backing file "
                      "%s (Win32 error %lu%s)", path, (unsigned long)e,
                      e == ERROR_SHARING_VIOLATION
                          ? ": another process has it open"
                          : "");
  return 0;
}

/* The file the handle reaches is the one configured: one name, not a
 * reparse point, and its final path is the configured path. */
static int check_identity(HANDLE f, const char *path, char *err,
                          size_t errlen) {
  wchar_t final[MAX_PATH + 8], full[MAX_PATH + 8], *want;
  const wchar_t *got = final;
  char what[600];
  DWORD n;

  snprintf(what, sizeof(what), "backing file %s", path);
  if (svc_file_identity_check(f, what, err, errlen) != 0)
    return SHMB_ECONFIG;
  n = GetFinalPathNameByHandleW(f, final, MAX_PATH, FILE_NAME_NORMALIZED);
  if (!(want = shmb__wide_from_utf8(path)))
    return SHMB_ENOMEM;
  if (!GetFullPathNameW(want, MAX_PATH, full, NULL))
    full[0] = 0;
  free(want);
  if (wcsncmp(got, L"\\\\?\\", 4) == 0)
    got += 4;
  if (n == 0 || n >= MAX_PATH || _wcsicmp(got, full) != 0)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "backing file %s: the "
                      "opened file is not at that path (a link in the "
                      "way?); refusing it", path);
  return 0;
}

/* A file we did not create: owned by, and open to, trusted accounts only. */
static int check_existing(HANDLE f, const char *path, char *err,
                          size_t errlen) {
  char what[600];
  int rc;
  snprintf(what, sizeof(what), "backing file %s", path);
  rc = svc_trust_check_handle(f, what, SVC_BACKING_DANGEROUS, err, errlen);
  return rc == SHMB_EACCES ? SHMB_ECONFIG : rc;
}

/* A file we just created gets the section's size; undone through the same
 * handle if that fails. */
static int set_size(HANDLE file, const char *path, uint64_t size, char *err,
                    size_t errlen) {
  FILE_DISPOSITION_INFO del = {TRUE};
  LARGE_INTEGER want;
  DWORD e;

  want.QuadPart = (LONGLONG)size;
  if (SetFilePointerEx(file, want, NULL, FILE_BEGIN) && SetEndOfFile(file))
    return 0;
  e = GetLastError();
  SetFileInformationByHandle(file, FileDispositionInfo, &del, sizeof(del));
  return shmb__fail(err, errlen, SHMB_ECONFIG, "cannot make backing file %s "
                    "%llu bytes long (Win32 error %lu)", path,
                    (unsigned long long)size, (unsigned long)e);
}

int svc_backing_open(const char *section, const char *path, uint64_t size,
                     HANDLE *file, int *created, char *err, size_t errlen) {
  LARGE_INTEGER have;
  int rc;

  if ((rc = svc_trust_check_folders(path, err, errlen)) != 0)
    return rc == SHMB_EACCES ? SHMB_ECONFIG : rc;
  if ((rc = open_file(path, file, created, err, errlen)) != 0)
    return rc;
  if ((rc = check_identity(*file, path, err, errlen)) != 0)
    goto out_close_file;
  if (*created) {
    if ((rc = set_size(*file, path, size, err, errlen)) != 0)
      goto out_close_file;
    shmb_log_info("section %s: created backing file %s", section, path);
  }
  if (!GetFileSizeEx(*file, &have) || (uint64_t)have.QuadPart != size) {
    rc = shmb__fail(err, errlen, SHMB_ECONFIG, "backing file %s is %lld "
                    "bytes but the section's size is %llu: refusing it (it "
                    "is never truncated or grown)", path,
                    (long long)have.QuadPart, (unsigned long long)size);
    goto out_close_file;
  }
  /* An existing file is judged, never re-permissioned: whoever could read
   * or write it before could have kept a handle open. */
  if (!*created && (rc = check_existing(*file, path, err, errlen)) != 0)
    goto out_close_file;
  return 0;

out_close_file:
  CloseHandle(*file);
  *file = NULL;
  return rc;
}
