/*
 * The error codes of shmbroker, as one X-macro list.
 *
 * Every function of the SDK and the service returns 0 for success or one of
 * these negative codes. The values travel on the wire in replies, so they are
 * fixed forever: add new codes at the end, never renumber or reuse one.
 *
 * Two families matter to callers: transport errors (the service could not be
 * reached, was not the expected server, or went away) and answers (the
 * service said no). shmb_err_is_transport() tells them apart.
 */
#ifndef SHMB_ERRNO_H
#define SHMB_ERRNO_H

/* XX(name, value, message) */
#define SHMB_ERRNO_MAP(XX)                                                     \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(EPROTO, -3, "protocol error: malformed frame")                            \
  XX(EVERSION, -4, "unsupported protocol version")                             \
  XX(EOPCODE, -5, "unknown request")                                           \
  XX(ETOOBIG, -6, "frame larger than the maximum frame size")                  \
  XX(EACCES, -7, "access denied")                                              \
  XX(ENOENT, -8, "no such section")                                            \
  XX(EUNREACHABLE, -9, "could not reach the service")                          \
  XX(EBADSERVER, -10,                                                          \
     "the pipe's server is not the expected account, or it sent an "           \
     "object the SDK refuses")                                                 \
  XX(EDISCONNECTED, -11, "the service closed the connection")                  \
  XX(ETIMEDOUT, -12, "timed out")                                              \
  XX(EBUSY, -13, "the service is busy: too many clients")                      \
  XX(ECONFIG, -14, "invalid configuration")                                    \
  XX(EBADNAME, -15, "invalid section name")                                    \
  XX(EEXIST, -16, "object name already exists (squatted)")                     \
  XX(ESYSTEM, -17, "a system call failed")                                     \
  XX(EIO, -18, "input/output error")                                           \
  XX(EINTERNAL, -19, "internal error in the service")                          \
  XX(ERANGE, -20, "offset or length out of range")                             \
  XX(ESHUTDOWN, -21, "the service is shutting down")                           \
  XX(ECORRUPT, -22, "shared ring corrupted: bad header, index or length")      \
  XX(EAGAIN, -23, "would block: ring full, empty or busy; wait and retry")     \
  XX(EMSGSIZE, -24, "message larger than the channel's slot size")             \
  XX(ESTALE, -25, "message abandoned after a stall or overwritten while read") \
  XX(ENONOTIFY, -26, "the section has no doorbell (its config lacks "          \
                     "notify = yes)")                                          \
  XX(ETOOMANYWAITERS, -27, "too many waiters on the section's doorbell (its "  \
                           "max_waiters)")                                     \
  XX(ENOTRUNG, -28, "the doorbell was not rung before the wait's timeout")   \
  XX(EBELLCLOSED, -29, "the section's doorbell was closed by the service "    \
                       "(section removed or rotated, or the service "         \
                       "stopped): open the section again")               \
  XX(ENOTCHANNEL, -30, "the name is a section, not a channel (its config "    \
                       "block is [section], not [channel])")

typedef enum shmb_errno {
  SHMB_OK = 0,
#define SHMB__ERRNO_ENUM(name, value, msg) SHMB_##name = value,
  SHMB_ERRNO_MAP(SHMB__ERRNO_ENUM)
#undef SHMB__ERRNO_ENUM
  SHMB__ERRNO_LAST = -31 /* one below the last code; never returned */
} shmb_errno;

#endif /* SHMB_ERRNO_H */
