/*
 * Backing files. The file is opened share-read only and kept open by the
 * section, so nobody can write, delete or rename it under us; its size must
 * be the section's (a file is never truncated or grown, which could lose
 * data or hand out a mapping past its end).
 */
#include "backing.h"

#include <aclapi.h>
#include <stdlib.h>

#include "errors.h"
#include "log.h"
#include "own_sd.h"
#include "wstr.h"

/* A file that existed before us keeps whatever descriptor it had unless we
 * put ours on it: only SYSTEM, Administrators and the service may change
 * it, whoever made it. Failing that is logged, not fatal: the share mode
 * still keeps others from writing while we run. */
static void restrict_existing(const char *section, const char *path,
                              HANDLE file, PSECURITY_DESCRIPTOR fsd) {
  BOOL present, defaulted;
  PACL dacl;
  DWORD e = ERROR_INVALID_PARAMETER;
  if (GetSecurityDescriptorDacl(fsd, &present, &dacl, &defaulted))
    e = SetSecurityInfo(file, SE_FILE_OBJECT,
                        DACL_SECURITY_INFORMATION |
                            PROTECTED_DACL_SECURITY_INFORMATION,
                        NULL, NULL, dacl, NULL);
  if (e != ERROR_SUCCESS)
    shmb_log_warn("section %s: cannot restrict the descriptor of %s (Win32 "
                  "error %lu)", section, path, (unsigned long)e);
}

/* Opens or creates the file with our descriptor (on a new file). */
static int open_file(const char *section, const char *path, HANDLE *file,
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
  *file = CreateFileW(wpath, GENERIC_READ | GENERIC_WRITE | WRITE_DAC | DELETE,
                      FILE_SHARE_READ, &sa, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL,
                      NULL);
  e = GetLastError();
  free(wpath);
  *created = *file != INVALID_HANDLE_VALUE && e != ERROR_ALREADY_EXISTS;
  if (*file != INVALID_HANDLE_VALUE && !*created)
    restrict_existing(section, path, *file, fsd);
  LocalFree(fsd);
  if (*file == INVALID_HANDLE_VALUE)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "cannot open backing file "
                      "%s (Win32 error %lu%s)", path, (unsigned long)e,
                      e == ERROR_SHARING_VIOLATION
                          ? ": another process has it open"
                          : "");
  return 0;
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

  if ((rc = open_file(section, path, file, created, err, errlen)) != 0)
    return rc;
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
  return 0;

out_close_file:
  CloseHandle(*file);
  *file = NULL;
  return rc;
}
