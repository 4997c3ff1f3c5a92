/*
 * Refusal log lines, rate-limited per account (design.md, security rule 7):
 * a client spamming refused requests cannot flood the Event Log and push
 * out the lines an administrator needs. Every line names the account's SID
 * (or says it is unknown) and, after a held-back run, how many lines were
 * held back. Loop thread only.
 */
#ifndef SVC_REFUSAL_H
#define SVC_REFUSAL_H

#include "log.h" /* SHMB__PRINTF */

/* Lines per account per window before the rest are only counted. */
#define SVC_REFUSAL_BURST 20u
#define SVC_REFUSAL_WINDOW_MS 60000u

/* Logs a refusal at warn for the account sid (a SID string). */
void svc_refusal(const char *sid, const char *fmt, ...) SHMB__PRINTF(2, 3);

#endif /* SVC_REFUSAL_H */
