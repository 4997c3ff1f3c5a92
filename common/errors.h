/*
 * Internal view of the error codes: the enum comes from the public list in
 * shmb_errno.h; this header adds the lookups that the SDK re-exports and the
 * one place that turns Win32 error numbers into our codes.
 */
#ifndef SHMB_COMMON_ERRORS_H
#define SHMB_COMMON_ERRORS_H

#include <stddef.h>

#include "log.h" /* SHMB__PRINTF */
#include "shmb_errno.h"

/* Message for a code; never NULL ("unknown error" for values not in the list). */
const char *shmb_strerror(int err);
/* Symbolic name ("SHMB_EACCES"); never NULL. */
const char *shmb_err_name(int err);
/* Non-zero when err means the service could not be talked to (as opposed to
 * the service answering no). */
int shmb_err_is_transport(int err);

/* Win32 error number (GetLastError) to our code. Takes unsigned long so that
 * this header stays free of Win32 types; defined in win/errors_win.c. */
int shmb__from_win32(unsigned long win32_error);

/* Formats a failure's message into the caller's buffer and returns code, so
 * that every failure path reads `return shmb__fail(err, errlen, SHMB_EX,
 * "what happened", ...)` (one helper, as Redis' anet.c has anetSetError).
 * err may be NULL or errlen 0: then only code is returned. */
int shmb__fail(char *err, size_t errlen, int code, const char *fmt, ...)
    SHMB__PRINTF(4, 5);

#endif /* SHMB_COMMON_ERRORS_H */
