/*
 * Accounts for the SDK and shmbctl: a SID string or an account name
 * ("VM\root", "NT AUTHORITY\SYSTEM") to a SID, and a SID back to words a
 * person can check ("VM\root (S-1-5-21-...)"). The server account the SDK
 * expects may be given either way; every message names both. Internal to
 * libshmbroker (shmbctl links the static library).
 */
#ifndef SHMB_CLIENT_ACCOUNT_H
#define SHMB_CLIENT_ACCOUNT_H

#include <windows.h>

#include <stddef.h>

/* Longest "DOMAIN\name (S-1-...)" we print; longer names are cut. */
#define SHMB_ACCOUNT_TEXT_MAX 320

/* A SID string ("S-1-5-18") or an account name to a SID. On success *out
 * is LocalAlloc'd (LocalFree it). Returns 0, or SHMB_EINVAL with the Win32
 * error in *win32_error (0 when the text is not valid UTF-8), or
 * SHMB_ENOMEM. */
int shmb__account_sid(const char *account, PSID *out,
                      unsigned long *win32_error);

/* "S-1-5-21-..." into buf; "?" when the SID cannot be written out. */
void shmb__sid_text(PSID sid, char *buf, size_t len);

/* "DOMAIN\name", or "" when Windows knows no name for sid. */
void shmb__sid_account(PSID sid, char *buf, size_t len);

/* "DOMAIN\name (S-1-...)", or only the SID string when no name is known. */
void shmb__sid_describe(PSID sid, char *buf, size_t len);

/* The user SID of a token (NULL: this process's token). On success *out is
 * LocalAlloc'd (LocalFree it). Returns 0 or a negative SHMB_E* code. */
int shmb__token_user(HANDLE token, PSID *out);

/* Room for a self-relative descriptor that holds only an owner. */
typedef union shmb_owner_buf {
  SECURITY_DESCRIPTOR_RELATIVE sd;
  BYTE bytes[sizeof(SECURITY_DESCRIPTOR_RELATIVE) + SECURITY_MAX_SID_SIZE];
} shmb_owner_buf;

/* The owner of the kernel object behind h (needs READ_CONTROL), in *buf:
 * one query, where GetSecurityInfo makes two (the first for the size),
 * each a kernel call (a wineserver round trip under Wine) on every open.
 * Returns ERROR_SUCCESS with *owner pointing into buf, or a Win32 error. */
DWORD shmb__object_owner(HANDLE h, shmb_owner_buf *buf, PSID *owner);

#endif /* SHMB_CLIENT_ACCOUNT_H */
