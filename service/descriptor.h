/*
 * Security descriptors the service puts on its objects: a section's, built
 * from the administrator's SDDL, and the control pipe's.
 */
#ifndef SVC_DESCRIPTOR_H
#define SVC_DESCRIPTOR_H

#include <windows.h>

#include <stddef.h>

/* Rights a client can be granted on a section; everything else is stripped
 * from allow ACEs (design.md, security rule 3). */
#define SVC_SECTION_CLIENT_RIGHTS                                              \
  (SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE)

/* The kernel's generic mapping for section objects. */
extern const GENERIC_MAPPING svc_section_mapping;

/* Validates and normalises an administrator's SDDL for a section: owner and
 * group become the service's own account, generic rights are mapped, allow
 * ACEs are narrowed to SVC_SECTION_CLIENT_RIGHTS, deny ACEs are kept, and
 * anything else (no DACL, a NULL DACL, a SACL, object or callback ACEs) is
 * refused. On success *sd is a self-relative descriptor (LocalFree) and, if
 * normalised is not NULL, *normalised its SDDL (free()). Returns 0 or
 * SHMB_ECONFIG / SHMB_ENOMEM / SHMB_ESYSTEM with a message in err. */
int svc_sd_from_sddl(const char *sddl, PSECURITY_DESCRIPTOR *sd,
                     char **normalised, char *err, size_t errlen);

/* The control pipe's descriptor: owned by the service's account, which has
 * full control; LocalSystem too; Authenticated Users may read and write but
 * not create instances; network logons are denied. LocalFree the result. */
int svc_pipe_sd(PSECURITY_DESCRIPTOR *sd, char *err, size_t errlen);

/* A backing file's descriptor: only the service's account, SYSTEM and
 * Administrators have any access, so only they can change it. */
int svc_file_sd(PSECURITY_DESCRIPTOR *sd, char *err, size_t errlen);

/* The SID of the account this process runs as (LocalFree), and as a string
 * (free()). */
int svc_self_sid(PSID *sid);
char *svc_sid_string(PSID sid);

/* SDDL text to a self-relative descriptor (LocalFree), as written: no
 * normalisation. For descriptors the service composes itself. */
int svc_sd_parse(const char *sddl, PSECURITY_DESCRIPTOR *sd, char *err,
                 size_t errlen);

/* SDDL of a descriptor (free()), for logs and tests; NULL on failure. */
char *svc_sd_to_sddl(PSECURITY_DESCRIPTOR sd);

#endif /* SVC_DESCRIPTOR_H */
