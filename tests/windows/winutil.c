/*
 * Helpers shared by the Windows Check suites. The security tests all need
 * the same few things about the process that runs them: its SID (as text,
 * to write into SDDL, and as a SID, to compare with owners and ACEs), a
 * descriptor made from an SDDL template that names it, and a caller made
 * from its own token, so that AccessCheck can be tried without a pipe. They
 * live here once so that the suites cannot drift apart in how they do it.
 */
#include "winutil.h"

#include <aclapi.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "sid.h"
#include "errors.h"
#include "wstr.h"

char *test_self_sid_text(void) {
  PSID sid = NULL;
  char *s;
  ck_assert_int_eq(svc_self_sid(&sid), 0);
  s = svc_sid_string(sid);
  LocalFree(sid);
  ck_assert_ptr_nonnull(s);
  ck_assert_msg(strncmp(s, "S-1-", 4) == 0, "odd SID string '%s'", s);
  return s;
}

int test_sid_is_self(PSID sid) {
  PSID self = NULL;
  int eq;
  ck_assert_int_eq(svc_self_sid(&self), 0);
  eq = EqualSid(sid, self) != 0;
  LocalFree(self);
  return eq;
}

void test_with_sid(const char *tmpl, const char *me, char *out, size_t n) {
  size_t len = 0, mlen = strlen(me);
  while (*tmpl) {
    if (strncmp(tmpl, "{me}", 4) == 0) {
      ck_assert_msg(len + mlen < n, "template too long");
      memcpy(out + len, me, mlen);
      len += mlen;
      tmpl += 4;
    } else {
      ck_assert_msg(len + 1 < n, "template too long");
      out[len++] = *tmpl++;
    }
  }
  out[len] = '\0';
}

PSECURITY_DESCRIPTOR test_sd_ok(const char *sddl) {
  PSECURITY_DESCRIPTOR sd = NULL;
  char err[512] = "";
  int rc = svc_sd_from_sddl(sddl, &sd, NULL, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_sd_from_sddl(\"%s\") = %s: %s", sddl,
                shmb_err_name(rc), err);
  ck_assert_ptr_nonnull(sd);
  ck_assert(IsValidSecurityDescriptor(sd));
  return sd;
}

PSECURITY_DESCRIPTOR test_sd_for(const char *tmpl) {
  char *me = test_self_sid_text();
  char sddl[1024];
  test_with_sid(tmpl, me, sddl, sizeof(sddl));
  free(me);
  return test_sd_ok(sddl);
}

void test_caller_from_self(svc_caller *c) {
  HANDLE primary = NULL;
  char *me = test_self_sid_text();

  memset(c, 0, sizeof(*c));
  ck_assert(OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY,
                             &primary));
  ck_assert_msg(DuplicateToken(primary, SecurityIdentification, &c->token),
                "DuplicateToken: Win32 error %lu",
                (unsigned long)GetLastError());
  CloseHandle(primary);
  snprintf(c->sid, sizeof(c->sid), "%s", me);
  free(me);
}

static char crash_note[512];

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *e) {
  DWORD code = e->ExceptionRecord->ExceptionCode;
  if (crash_note[0] &&
      (code == EXCEPTION_ACCESS_VIOLATION ||
       code == EXCEPTION_ILLEGAL_INSTRUCTION ||
       code == EXCEPTION_INT_DIVIDE_BY_ZERO ||
       code == EXCEPTION_STACK_OVERFLOW)) {
    fprintf(stderr, "\n*** exception 0x%lx (fatal unless handled) while: "
            "%s\n", (unsigned long)code, crash_note);
    fflush(stderr);
  }
  return EXCEPTION_CONTINUE_SEARCH;
}

void test_crash_note(const char *what) {
  static int installed;
  if (!installed) {
    AddVectoredExceptionHandler(1, on_exception);
    installed = 1;
  }
  snprintf(crash_note, sizeof(crash_note), "%s", what ? what : "");
}

char *test_temp_dir(const char *tag) {
  static unsigned counter;
  wchar_t tmp[MAX_PATH + 1], *wdir;
  char *base, dir[MAX_PATH * 3];
  DWORD n = GetTempPathW(MAX_PATH + 1, tmp);

  ck_assert_msg(n > 0 && n <= MAX_PATH, "GetTempPathW: Win32 error %lu",
                (unsigned long)GetLastError());
  base = shmb__utf8_from_wide(tmp);
  ck_assert_ptr_nonnull(base);
  snprintf(dir, sizeof(dir), "%sshmb-%s-%lu-%u", base, tag,
           (unsigned long)GetCurrentProcessId(), counter++);
  free(base);
  wdir = shmb__wide_from_utf8(dir);
  ck_assert_ptr_nonnull(wdir);
  test_remove_dir(dir); /* left over by an earlier run of this pid */
  ck_assert_msg(CreateDirectoryW(wdir, NULL), "CreateDirectoryW(%s): Win32 "
                "error %lu", dir, (unsigned long)GetLastError());
  free(wdir);
  return strdup(dir);
}

char *test_path_in(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  ck_assert_ptr_nonnull(p);
  snprintf(p, n, "%s\\%s", dir, name);
  return p;
}

void test_write_file(const char *path, const char *text) {
  wchar_t *w = shmb__wide_from_utf8(path);
  DWORD len = (DWORD)strlen(text), done = 0;
  HANDLE f;

  ck_assert_ptr_nonnull(w);
  f = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
                  FILE_ATTRIBUTE_NORMAL, NULL);
  free(w);
  ck_assert_msg(f != INVALID_HANDLE_VALUE, "CreateFileW(%s): Win32 error %lu",
                path, (unsigned long)GetLastError());
  ck_assert_msg(WriteFile(f, text, len, &done, NULL) && done == len,
                "WriteFile(%s): Win32 error %lu", path,
                (unsigned long)GetLastError());
  CloseHandle(f);
}

void test_set_sddl(const char *path, const char *tmpl) {
  char *me = test_self_sid_text();
  char sddl[1024], err[512] = "";
  PSECURITY_DESCRIPTOR sd = NULL;
  SECURITY_INFORMATION what = DACL_SECURITY_INFORMATION |
                              PROTECTED_DACL_SECURITY_INFORMATION;
  BOOL present = FALSE, defaulted;
  PSID owner = NULL;
  PACL dacl = NULL;
  wchar_t *w;
  DWORD e;
  int rc;

  test_with_sid(tmpl, me, sddl, sizeof(sddl));
  free(me);
  rc = svc_sd_parse(sddl, &sd, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_sd_parse(\"%s\"): %s", sddl, err);
  ck_assert(GetSecurityDescriptorOwner(sd, &owner, &defaulted));
  ck_assert(GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted));
  ck_assert_msg(present, "\"%s\" has no DACL", sddl);
  if (owner)
    what |= OWNER_SECURITY_INFORMATION;
  w = shmb__wide_from_utf8(path);
  ck_assert_ptr_nonnull(w);
  e = SetNamedSecurityInfoW(w, SE_FILE_OBJECT, what, owner, NULL, dacl, NULL);
  free(w);
  LocalFree(sd);
  ck_assert_msg(e == ERROR_SUCCESS, "SetNamedSecurityInfoW(%s, \"%s\"): "
                "Win32 error %lu", path, sddl, (unsigned long)e);
}

void test_remove_dir(const char *dir) {
  char *pattern = test_path_in(dir, "*");
  wchar_t *wpat = shmb__wide_from_utf8(pattern), *wdir;
  WIN32_FIND_DATAW fd;
  HANDLE h;

  free(pattern);
  h = wpat ? FindFirstFileW(wpat, &fd) : INVALID_HANDLE_VALUE;
  free(wpat);
  while (h != INVALID_HANDLE_VALUE) {
    char *name = shmb__utf8_from_wide(fd.cFileName), *path;
    if (name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
      wchar_t *wpath;
      path = test_path_in(dir, name);
      wpath = shmb__wide_from_utf8(path);
      if (wpath) {
        SetFileAttributesW(wpath, FILE_ATTRIBUTE_NORMAL);
        DeleteFileW(wpath);
      }
      free(wpath);
      free(path);
    }
    free(name);
    if (!FindNextFileW(h, &fd)) {
      FindClose(h);
      break;
    }
  }
  if ((wdir = shmb__wide_from_utf8(dir)) != NULL)
    RemoveDirectoryW(wdir);
  free(wdir);
}

void test_write_config(const char *path, const char *dir, const char *tmpl) {
  char *me = test_self_sid_text();
  char with_me[8192], text[8192];
  size_t len = 0, dlen = strlen(dir);
  const char *p;

  test_with_sid(tmpl, me, with_me, sizeof(with_me));
  free(me);
  for (p = with_me; *p;) {
    if (strncmp(p, "{dir}", 5) == 0) {
      ck_assert_msg(len + dlen < sizeof(text), "config too long");
      memcpy(text + len, dir, dlen);
      len += dlen;
      p += 5;
    } else {
      ck_assert_msg(len + 1 < sizeof(text), "config too long");
      text[len++] = *p++;
    }
  }
  text[len] = '\0';
  test_write_file(path, text);
}

void test_broker_open(svc_broker *b, const char *path, int insecure) {
  char err[SHMB_CONFIG_ERR_MAX] = "";
  int rc = svc_broker_load(b, path, insecure, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_broker_load(%s) = %s: %s", path,
                shmb_err_name(rc), err);
  rc = svc_broker_open(b, NULL, NULL, NULL, err, sizeof(err));
  ck_assert_msg(rc == 0, "svc_broker_open(%s) = %s: %s", path,
                shmb_err_name(rc), err);
}

HANDLE test_open_mapping(const char *object, DWORD access, DWORD *error) {
  wchar_t *w = shmb__wide_from_utf8(object);
  HANDLE h;
  ck_assert_ptr_nonnull(w);
  SetLastError(0);
  h = OpenFileMappingW(access, FALSE, w);
  *error = h ? 0 : GetLastError();
  free(w);
  return h;
}

void test_expect_opens(const char *object, DWORD access) {
  DWORD e;
  HANDLE h = test_open_mapping(object, access, &e);
  ck_assert_msg(h != NULL, "OpenFileMappingW(0x%lx, %s): Win32 error %lu",
                (unsigned long)access, object, (unsigned long)e);
  CloseHandle(h);
}

void test_expect_open_error(const char *object, DWORD access, DWORD want) {
  DWORD e;
  HANDLE h = test_open_mapping(object, access, &e);
  if (h)
    CloseHandle(h);
  ck_assert_msg(h == NULL && e == want, "OpenFileMappingW(0x%lx, %s): %s "
                "(Win32 error %lu), expected Win32 error %lu",
                (unsigned long)access, object, h ? "opened" : "failed",
                (unsigned long)e, (unsigned long)want);
}
