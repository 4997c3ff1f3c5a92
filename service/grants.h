/*
 * Friendly grants: lists of accounts, as an administrator writes them in
 * the config ("BUILTIN\Users, S-1-5-18"), resolved to SIDs, and a section's
 * read/write lists turned into SDDL for svc_sd_from_sddl.
 */
#ifndef SVC_GRANTS_H
#define SVC_GRANTS_H

#include <windows.h>

#include <stddef.h>

#include "config.h"

/* Rights of the ACEs svc_grants_sddl writes. Write implies read: a view
 * that can be written must also be mapped, which needs map-read. */
#define SVC_GRANT_READ                                                         \
  (READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ) /* 0x20005 */
#define SVC_GRANT_WRITE (SVC_GRANT_READ | SECTION_MAP_WRITE) /* 0x20007 */

/* Resolves a comma-separated list of accounts (UTF-8; spaces and tabs
 * around each entry are ignored). An entry starting with "S-1-" is a SID
 * string; anything else is an account name for LookupAccountNameW
 * ("BUILTIN\Users", "NT AUTHORITY\Authenticated Users", "DOMAIN\user",
 * "Administrators"). Names that resolve to a domain rather than to a user,
 * group or computer are refused; repeated accounts (by SID) collapse into
 * one. line is the config line, for messages.
 *
 * On success returns 0, *sids an array of *count (at least 1) SIDs, each
 * LocalAlloc'd; free them all with svc_accounts_free. On failure returns
 * SHMB_ECONFIG (empty entry, malformed SID, unknown account, not an
 * account) or SHMB_ENOMEM / SHMB_ESYSTEM, with a message that names the
 * line and the entry in err ("line 7: unknown account 'CONTOSO\nobody'
 * (Win32 error 1332)"), and sets *sids to NULL and *count to 0. */
int svc_accounts_resolve(const char *list, unsigned line, PSID **sids,
                         size_t *count, char *err, size_t errlen);
void svc_accounts_free(PSID *sids, size_t count);

/* Non-zero when sid is one of the count SIDs (EqualSid). */
int svc_accounts_contain(PSID *sids, size_t count, PSID sid);

/* SDDL for a section configured with read and/or write lists (either may
 * be NULL, not both): "D:P" then one allow ACE of SVC_GRANT_READ per read
 * account and one of SVC_GRANT_WRITE per write account, by SID string. An
 * account in both lists gets only the write ACE. There is no O: or G:;
 * svc_sd_from_sddl sets them. Returns 0 and *sddl (free()), or the error
 * of svc_accounts_resolve with its message in err; SHMB_ECONFIG when both
 * lists are NULL. */
int svc_grants_sddl(const shmb_section_config *sc, char **sddl, char *err,
                    size_t errlen);

#endif /* SVC_GRANTS_H */
