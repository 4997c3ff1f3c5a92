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
static int read_whole(HANDLE f, const char *path, char **text, DWORD *len,
                      char *err, size_t errlen) {
  LARGE_INTEGER size;

  if (!GetFileSizeEx(f, &size) || size.QuadPart > SHMB_CONFIG_MAX_BYTES)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "%s: unreadable or larger "
                      "than %u bytes", path, SHMB_CONFIG_MAX_BYTES);
  if (!(*text = malloc((size_t)size.QuadPart + 1)))
    return SHMB_ENOMEM;
  if (!ReadFile(f, *text, (DWORD)size.QuadPart, len, NULL) ||
      *len != (DWORD)size.QuadPart) {
    free(*text);
    *text = NULL;
    return shmb__fail(err, errlen, SHMB_ECONFIG, "%s: read failed (Win32 "
                      "error %lu)", path, (unsigned long)GetLastError());
  }
  return 0;
}

int svc_config_load(const char *path, int insecure, shmb_config **cfg,
                    char *err, size_t errlen) {
  char *text = NULL;
  DWORD len = 0;
  HANDLE f;
  int rc;

  /* One handle for the check and the read: nobody can swap the file in
   * between. */
  if ((rc = svc_config_open(path, &f, err, errlen)) != 0)
    return rc;
  if (insecure)
    shmb_log_warn("--insecure-config: NOT checking who may write %s; never "
                  "run like this in production", path);
  else if ((rc = svc_config_trusted_handle(f, path, err, errlen)) != 0)
    goto out_close_file;
  if ((rc = read_whole(f, path, &text, &len, err, errlen)) != 0)
    goto out_close_file;
  rc = shmb_config_parse(text, len, path, cfg, err, errlen);
  free(text);

out_close_file:
  CloseHandle(f);
  return rc == SHMB_EACCES ? SHMB_ECONFIG : rc;
}
