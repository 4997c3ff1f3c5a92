/*
 * What the SDK believes of a server's answers, as pure decisions: the
 * shape of an object name, a local pipe name, the granted access, a size
 * against the mapped view, a reply's request id, and text made safe to
 * print. No Win32 types, so the decisions can be tested on their own
 * (tests/sdk/check_sdk_trust.c). Each check returns 0 or a negative
 * SHMB_E* code with the reason in err (err may be NULL). Internal to
 * libshmbroker; shmbctl uses shmb__sanitise and shmb__pipe_name_check.
 */
#ifndef SHMB_CLIENT_TRUST_H
#define SHMB_CLIENT_TRUST_H

#include <stddef.h>
#include <stdint.h>

/* The service's object names (service/section.c, svc_object_name):
 * "Global\shmb-" or "Local\shmb-", then exactly 32 lowercase hex digits. */
#define SHMB_OBJECT_DIGITS 32
#define SHMB_OBJECT_NAME_LONGEST                                               \
  (sizeof("Global\\shmb-") - 1 + SHMB_OBJECT_DIGITS)

/* obj[0..len) is a name the service makes, else SHMB_EBADSERVER naming the
 * object (escaped) and the first thing that is wrong with it. */
int shmb__object_name_check(const char *obj, size_t len, char *err,
                            size_t errlen);

/* name is a local pipe, "\\.\pipe\NAME" ("pipe" in any case; NAME
 * printable ASCII without blanks, '/', empty, "." or ".." components), else
 * SHMB_EINVAL: a remote pipe would get this account's credentials, and
 * Windows resolves "..", "/" and "\\?\" forms before it opens anything. */
int shmb__pipe_name_check(const char *name, char *err, size_t errlen);

/* The service grants exactly what was asked (asked is already normalised:
 * write implies read). Unknown bits, more or less than asked:
 * SHMB_EBADSERVER. */
int shmb__access_check(uint32_t asked, uint32_t granted, char *err,
                       size_t errlen);

/* said: the size in the OPEN reply; view: the bytes the kernel mapped for
 * the whole section (the view's region, whole pages); page: the page size.
 * A size of 0, larger than the view, or smaller than the view by a page or
 * more: SHMB_EBADSERVER. */
int shmb__size_check(uint64_t said, uint64_t view, uint64_t page, char *err,
                     size_t errlen);

/* A reply header (opcode, request id) answers the request sent (opcode,
 * id): the request's opcode with SHMB_OP_REPLY and the same id, or an
 * SHMB_OP_ERROR with the same id or 0 (the service's answer before it has
 * read a request, e.g. too many clients). Else SHMB_EPROTO. */
int shmb__reply_check(uint8_t sent_opcode, uint32_t sent_id,
                      uint8_t reply_opcode, uint32_t reply_id, char *err,
                      size_t errlen);

/* What the SDK learnt of the process serving the pipe. */
enum shmb_process_lookup {
  SHMB_PROCESS_READ,   /* its token's user was read */
  SHMB_PROCESS_DENIED, /* Windows refused to show it to this account */
  SHMB_PROCESS_UNKNOWN /* no process id, or the process is gone */
};

/* Whether a server process may be trusted: its token user is the expected
 * account (same_account), or Windows will not show it to this account (a
 * LocalSystem service to a standard user: the pipe's owner, checked
 * before, is then the evidence). A process of another account, or none:
 * SHMB_EBADSERVER. err gets only the verdict; the caller adds names. */
int shmb__process_verdict(enum shmb_process_lookup lookup, int same_account);

/* Copies in[0..len) to out as text that is safe on a terminal: printable
 * ASCII and well-formed UTF-8 stay, except C1 controls; every other byte
 * (controls such as ESC, BEL, CR, LF, DEL, C1, invalid UTF-8) becomes
 * "\xNN". out is always NUL-terminated (outlen > 0) and never ends inside
 * an escape or a UTF-8 sequence. Returns the bytes written (without the
 * NUL). Idempotent on its own output. */
size_t shmb__sanitise(const char *in, size_t len, char *out, size_t outlen);

/* The room shmb__sanitise needs for len bytes, NUL included. */
#define SHMB_SANITISED_MAX(len) (4 * (size_t)(len) + 1)

#endif /* SHMB_CLIENT_TRUST_H */
