/*
 * SID helpers, the bottom layer of the service: who this process runs as,
 * who a token belongs to, and how to print a SID for a log line or an
 * administrator's message. Everything above asks here instead of calling
 * GetTokenInformation itself.
 */
#ifndef SVC_SID_H
#define SVC_SID_H

#include <windows.h>

#include <stddef.h>

/* The user SID of token (LocalFree). 0, SHMB_ENOMEM or SHMB_ESYSTEM. */
int svc_token_user(HANDLE token, PSID *sid);

/* The SID of the account this process runs as (LocalFree). */
int svc_self_sid(PSID *sid);

/* A SID as "S-1-..." text (free()); NULL when out of memory. */
char *svc_sid_string(PSID sid);

/* The user SID of token as text into out, or "(unknown SID)". */
void svc_token_sid_text(HANDLE token, char *out, size_t outlen);

/* The user SID, as text, of the process pid (the pipe's client: a hint, as
 * the pid can be stale, good enough to count connections per account).
 * 0, or SHMB_ESYSTEM with "(unknown SID)" in out. */
int svc_process_sid_text(unsigned long pid, char *out, size_t outlen);

/* "DOMAIN\name (S-1-...)" for messages to administrators; falls back to the
 * SID alone when the account cannot be looked up. */
void svc_account_name(PSID sid, char *out, size_t outlen);

#endif /* SVC_SID_H */
