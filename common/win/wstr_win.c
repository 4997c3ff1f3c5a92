/* UTF-8 <-> UTF-16 conversions; invalid sequences are refused, not replaced,
 * so a name can never silently turn into another one. */
#include <windows.h>

#include <stdlib.h>

#include "../wstr.h"

wchar_t *shmb__wide_from_utf8(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  wchar_t *w;
  if (n <= 0 || !(w = malloc((size_t)n * sizeof(*w))))
    return NULL;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
    free(w);
    return NULL;
  }
  return w;
}

char *shmb__utf8_from_wide(const wchar_t *w) {
  int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0,
                              NULL, NULL);
  char *s;
  if (n <= 0 || !(s = malloc((size_t)n)))
    return NULL;
  if (WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n, NULL,
                          NULL) != n) {
    free(s);
    return NULL;
  }
  return s;
}
