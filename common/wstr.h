/*
 * UTF-8 <-> UTF-16 for the Windows side: the service and the SDK keep UTF-8
 * everywhere and convert at the Win32 call. Uses only standard C types so it
 * can sit in common/ (defined in win/wstr_win.c, Windows builds only).
 */
#ifndef SHMB_COMMON_WSTR_H
#define SHMB_COMMON_WSTR_H

#include <wchar.h>

/* Each returns a malloc'd string (free()), or NULL on bad input or no memory. */
wchar_t *shmb__wide_from_utf8(const char *s);
char *shmb__utf8_from_wide(const wchar_t *w);

#endif /* SHMB_COMMON_WSTR_H */
