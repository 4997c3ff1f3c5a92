/*
 * Helpers shared by the Windows Check suites (tests/windows/check_*.c):
 * this process's own identity, SDDL templates that name it, descriptors
 * that must parse, and temporary folders and files with the descriptors a
 * test chooses. Each fails the running test through ck_assert instead of
 * returning an error.
 */
#ifndef SHMB_TESTS_WINUTIL_H
#define SHMB_TESTS_WINUTIL_H

#include <windows.h>

#include <stddef.h>

#include "access.h"
#include "broker.h"

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

/* Says what is running, for the one line printed to stderr if it crashes:
 * Check runs without fork on Windows, so a crash ends the whole runner with
 * nothing but a Wine backtrace otherwise. NULL when it is over. A
 * vectored exception handler (installed at the first call) prints it on an
 * access violation or another fatal exception, then lets the crash go on. */
void test_crash_note(const char *what);

/* A new empty folder under the temp folder, unique to this process and
 * call ("...\\shmb-TAG-PID-N"); its UTF-8 path (free()). */
char *test_temp_dir(const char *tag);

/* dir + "\\" + name (free()). */
char *test_path_in(const char *dir, const char *name);

/* Writes text to path, replacing what was there. */
void test_write_file(const char *path, const char *text);

/* Puts the SDDL template's owner (if it has O:) and its DACL, protected, on
 * a file or folder with SetNamedSecurityInfoW; "{me}" is this process's
 * SID. */
void test_set_sddl(const char *path, const char *tmpl);

/* The DACL that only SYSTEM, Administrators and this process's account may
 * write through, owned by this process's account: a trusted config file or
 * folder. */
#define TEST_TRUSTED_SDDL "O:{me}D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;{me})"

/* OpenFileMappingW of an object name (UTF-8): the handle, or NULL and the
 * Win32 error in *error. */
HANDLE test_open_mapping(const char *object, DWORD access, DWORD *error);

/* The object opens with access (the handle is closed again). */
void test_expect_opens(const char *object, DWORD access);

/* The object refuses access with exactly Win32 error want. */
void test_expect_open_error(const char *object, DWORD access, DWORD want);

/* Deletes the files in dir (not recursively) and dir itself; best effort,
 * so that a failed test still cleans up what it can. */
void test_remove_dir(const char *dir);

/* Writes a config from a template: "{me}" is this process's SID, "{dir}"
 * the given folder (for backing files). */
void test_write_config(const char *path, const char *dir, const char *tmpl);

/* svc_broker_load and svc_broker_open (no loop) of the config at path,
 * which must succeed; path must outlive the broker. Release with
 * svc_broker_release. */
void test_broker_open(svc_broker *b, const char *path, int insecure);

#endif /* SHMB_TESTS_WINUTIL_H */
