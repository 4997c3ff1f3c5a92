/*
 * The config file, read whole (it is small: SHMB_CONFIG_MAX_BYTES) and
 * handed to the parser. Whether to believe it is trust.c's decision, asked
 * first; --insecure-config (console development only) skips it, loudly.
 */
#include "configfile.h"

#include <windows.h>

#include <stdlib.h>

#include "errors.h"
#include "log.h"
#include "trust.h"
#include "wstr.h"

/* The whole file into *text (malloc'd, NUL-terminated), *len bytes. */
static int read_whole(const char *path, char **text, DWORD *len, char *err,
                      size_t errlen) {
  wchar_t *wpath = shmb__wide_from_utf8(path);
  LARGE_INTEGER size;
  HANDLE f;
  int rc = 0;

  if (!wpath)
    return SHMB_ENOMEM;
  f = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                  FILE_ATTRIBUTE_NORMAL, NULL);
  free(wpath);
  if (f == INVALID_HANDLE_VALUE)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "%s: cannot open (Win32 "
                      "error %lu)", path, (unsigned long)GetLastError());
  if (!GetFileSizeEx(f, &size) || size.QuadPart > SHMB_CONFIG_MAX_BYTES) {
    rc = shmb__fail(err, errlen, SHMB_ECONFIG, "%s: unreadable or larger "
                    "than %u bytes", path, SHMB_CONFIG_MAX_BYTES);
    goto out_close_file;
  }
  if (!(*text = malloc((size_t)size.QuadPart + 1))) {
    rc = SHMB_ENOMEM;
    goto out_close_file;
  }
  if (!ReadFile(f, *text, (DWORD)size.QuadPart, len, NULL) ||
      *len != (DWORD)size.QuadPart) {
    rc = shmb__fail(err, errlen, SHMB_ECONFIG, "%s: read failed (Win32 "
                    "error %lu)", path, (unsigned long)GetLastError());
    free(*text);
    *text = NULL;
  }

out_close_file:
  CloseHandle(f);
  return rc;
}

int svc_config_load(const char *path, int insecure, shmb_config **cfg,
                    char *err, size_t errlen) {
  char *text = NULL;
  DWORD len = 0;
  int rc;

  if (insecure)
    shmb_log_warn("--insecure-config: NOT checking who may write %s; never "
                  "run like this in production", path);
  else if ((rc = svc_config_trusted(path, err, errlen)) != 0)
    return rc == SHMB_EACCES ? SHMB_ECONFIG : rc;
  if ((rc = read_whole(path, &text, &len, err, errlen)) != 0)
    return rc;
  rc = shmb_config_parse(text, len, path, cfg, err, errlen);
  free(text);
  return rc;
}
