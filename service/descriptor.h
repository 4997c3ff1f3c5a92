/*
 * Section descriptors: an administrator's SDDL, validated and normalised
 * into the descriptor the service puts on a section object, plus the SDDL
 * conversions that every other descriptor (own_sd.h) is built with.
 */
#ifndef SVC_DESCRIPTOR_H
#define SVC_DESCRIPTOR_H

#include <windows.h>

#include <stddef.h>

/* Rights a client can be granted on a section; everything else is stripped
 * from allow ACEs (design.md, security rule 3): query, so that the SDK can
 * check the size; map-read and map-write, the grants themselves; and
 * READ_CONTROL, so that the SDK can check who owns the object it opened
 * (a name recreated by someone else is refused). Never WRITE_DAC,
 * WRITE_OWNER or DELETE. */
#define SVC_SECTION_CLIENT_RIGHTS                                              \
  (READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE)

/* The kernel's generic mapping for section objects. */
extern const GENERIC_MAPPING svc_section_mapping;

/* Validates and normalises an administrator's SDDL for a section: owner and
 * group become the service's own account, generic rights are mapped, allow
 * ACEs are narrowed to SVC_SECTION_CLIENT_RIGHTS, deny ACEs are kept (and
 * must come first), and anything else (no DACL, a NULL DACL, a SACL with
 * more or other than one mandatory label ACE, object or callback ACEs, a
 * DACL that grants no one) is refused; one label ACE (no flags, policy
 * bits NW/NR/NX only) is kept as the SACL. On success *sd is
 * a self-relative descriptor (LocalFree) and, if normalised is not NULL,
 * *normalised its SDDL (free()). Returns 0 or SHMB_ECONFIG / SHMB_ENOMEM /
 * SHMB_ESYSTEM with a message in err. */
int svc_sd_from_sddl(const char *sddl, PSECURITY_DESCRIPTOR *sd,
                     char **normalised, char *err, size_t errlen);

/* The same from a descriptor already in memory (absolute or self-relative):
 * tests build what SDDL cannot express, such as a NULL DACL under Wine. */
int svc_sd_normalise(PSECURITY_DESCRIPTOR in, PSECURITY_DESCRIPTOR *sd,
                     char **normalised, char *err, size_t errlen);

/* SDDL text to a self-relative descriptor (LocalFree), as written: no
 * normalisation. For descriptors the service composes itself. */
int svc_sd_parse(const char *sddl, PSECURITY_DESCRIPTOR *sd, char *err,
                 size_t errlen);

/* SDDL of a descriptor's owner, group, DACL and mandatory label (free()),
 * for logs and tests; NULL on failure. */
char *svc_sd_to_sddl(PSECURITY_DESCRIPTOR sd);

/* Puts sd's DACL (protected) and mandatory label (none: the default) on
 * the live kernel object h (reload). A Win32 error, 0 on success. */
DWORD svc_sd_put(HANDLE h, PSECURITY_DESCRIPTOR sd);

/* The mandatory label of sd as SDDL ("S:(ML;;NW;;;LW)"), or "" when sd
 * has none: what a section passes on to its doorbell objects. 0, or
 * SHMB_ESYSTEM / SHMB_ENOMEM (out too small). */
int svc_sd_label_sddl(PSECURITY_DESCRIPTOR sd, char *out, size_t outlen);

/* A section descriptor's DACL in words, for administrators' logs: "allow
 * BUILTIN\Users (S-1-5-32-545) map-read; deny ..." (SDDL letters such as
 * CCLC mean nothing to most readers). Writes "(unreadable)" on failure. */
void svc_sd_describe(PSECURITY_DESCRIPTOR sd, char *out, size_t outlen);

#endif /* SVC_DESCRIPTOR_H */
