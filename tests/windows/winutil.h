/*
 * Helpers shared by the Windows Check suites (check_descriptor.c,
 * check_sections.c, check_grants.c): this process's own identity, SDDL
 * templates that name it, and descriptors that must parse. Each fails the
 * running test through ck_assert instead of returning an error.
 */
#ifndef SHMB_TESTS_WINUTIL_H
#define SHMB_TESTS_WINUTIL_H

#include <windows.h>

#include <stddef.h>

#include "access.h"

/* The SID this process runs as, as a string (free()). */
char *test_self_sid_text(void);

/* Whether sid is the SID this process runs as. */
int test_sid_is_self(PSID sid);

/* Copies tmpl to out with every "{me}" replaced by me (SDDL templates name
 * the test user that way; its SID is only known at run time). */
void test_with_sid(const char *tmpl, const char *me, char *out, size_t n);

/* svc_sd_from_sddl that must succeed (LocalFree the result). */
PSECURITY_DESCRIPTOR test_sd_ok(const char *sddl);

/* test_sd_ok of an SDDL template, "{me}" replaced by this process's SID. */
PSECURITY_DESCRIPTOR test_sd_for(const char *tmpl);

/* A caller built from this process's token, as svc_caller_identify would
 * build it from a pipe client: an identification-level impersonation token
 * (svc_caller_release it). */
void test_caller_from_self(svc_caller *c);

#endif /* SHMB_TESTS_WINUTIL_H */
