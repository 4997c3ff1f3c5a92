/*
 * Helpers shared by the Windows Check suites. The security tests all need
 * the same few things about the process that runs them: its SID (as text,
 * to write into SDDL, and as a SID, to compare with owners and ACEs), a
 * descriptor made from an SDDL template that names it, and a caller made
 * from its own token, so that AccessCheck can be tried without a pipe. They
 * live here once so that the suites cannot drift apart in how they do it.
 */
#include "winutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "sid.h"
#include "errors.h"

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
