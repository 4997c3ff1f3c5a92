/*
 * Error code lookups. Everything is generated from SHMB_ERRNO_MAP so that the
 * enum, the messages and the names cannot drift apart.
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

const char *shmb_strerror(int err) {
  switch (err) {
  case SHMB_OK:
    return "success";
#define XX(name, value, msg)                                                   \
  case SHMB_##name:                                                            \
    return msg;
    SHMB_ERRNO_MAP(XX)
#undef XX
  default:
    return "unknown error";
  }
}

const char *shmb_err_name(int err) {
  switch (err) {
  case SHMB_OK:
    return "SHMB_OK";
#define XX(name, value, msg)                                                   \
  case SHMB_##name:                                                            \
    return "SHMB_" #name;
    SHMB_ERRNO_MAP(XX)
#undef XX
  default:
    return "SHMB_UNKNOWN";
  }
}

int shmb_err_is_transport(int err) {
  return err == SHMB_EUNREACHABLE || err == SHMB_EBADSERVER ||
         err == SHMB_EDISCONNECTED || err == SHMB_ETIMEDOUT;
}

/* Decoders treat codes at or below SHMB__ERRNO_LAST as out of range. */
#define XX(name, value, msg)                                                   \
  _Static_assert((value) > SHMB__ERRNO_LAST && (value) < 0,                    \
                 "SHMB_" #name ": move SHMB__ERRNO_LAST below it");
SHMB_ERRNO_MAP(XX)
#undef XX

int shmb__fail(char *err, size_t errlen, int code, const char *fmt, ...) {
  va_list ap;
  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}
