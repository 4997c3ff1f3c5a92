/*
 * Friendly grants: "read = BUILTIN\Users" instead of hand-written SDDL.
 *
 * Administrators name accounts the way Windows shows them, or by SID; the
 * service resolves each name once, at start or reload, and writes the SDDL
 * itself, so the section's descriptor still goes through svc_sd_from_sddl
 * and its checks like any other. A name that does not resolve is an error,
 * never skipped: a grant silently dropped is a client locked out for no
 * visible reason, and one resolved loosely (a domain for an account, a SID
 * string parsed generously) grants the wrong party. Hence SID strings are
 * checked here before Windows parses them: Wine's parser accepts
 * "S-1-5--18" and wraps numbers that are out of range.
 *
 * Sandboxed clients are granted through AppContainer SIDs: ALL
 * APPLICATION PACKAGES (S-1-15-2-1), a package (S-1-15-2-..., or
 * "package:FAMILY-NAME"), a capability (S-1-15-3-..., or
 * "capability:NAME"). An AppContainer process is granted only what both
 * its account and one of these SIDs are granted, so a grant to a package
 * goes with a grant to its user (docs/admin.md, "Serving sandboxed
 * clients"). The friendly names are resolved here, not by
 * LookupAccountName, which does not know them all on every Windows.
 */
#include "grants.h"

#include <sddl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sid.h"
#include "errors.h"
#include "ring.h"
#include "wstr.h"

/* Parses digits (hex or decimal) no larger than max; the end, or NULL. */
static const char *number(const char *p, int hex, uint64_t max) {
  const char *start = p;
  uint64_t v = 0;
  for (;; p++) {
    unsigned d;
    if (*p >= '0' && *p <= '9')
      d = (unsigned)(*p - '0');
    else if (hex && *p >= 'a' && *p <= 'f')
      d = (unsigned)(*p - 'a' + 10);
    else if (hex && *p >= 'A' && *p <= 'F')
      d = (unsigned)(*p - 'A' + 10);
    else
      break;
    v = v * (hex ? 16 : 10) + d; /* max < 2^48: cannot overflow first */
    if (v > max)
      return NULL;
  }
  return p > start ? p : NULL;
}

/* "S-1-", an authority (decimal, or 0x and hex, below 2^48), then at most
 * 15 decimal sub-authorities below 2^32: what ConvertSidToStringSid prints.
 * The prefix was matched by the caller, in either case. */
static int sid_syntax_ok(const char *s) {
  const char *p = s + 4;
  int subs = 0;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
    p = number(p + 2, 1, 0xFFFFFFFFFFFFull);
  else
    p = number(p, 0, 0xFFFFFFFFFFFFull);
  while (p && *p == '-' && subs++ < SID_MAX_SUB_AUTHORITIES)
    p = number(p + 1, 0, 0xFFFFFFFFull);
  return p && *p == '\0';
}

static int sid_from_string(const char *entry, unsigned line, PSID *out,
                           char *err, size_t errlen) {
  wchar_t *w;
  PSID sid = NULL;
  BOOL ok = FALSE;
  DWORD e = ERROR_INVALID_SID;

  if (sid_syntax_ok(entry)) {
    if (!(w = shmb__wide_from_utf8(entry)))
      return SHMB_ENOMEM; /* ASCII by now: only memory can be missing */
    w[0] = L'S';
    ok = ConvertStringSidToSidW(w, &sid);
    e = GetLastError();
    free(w);
  }
  if (ok && !IsValidSid(sid)) {
    LocalFree(sid);
    ok = FALSE;
  }
  if (!ok) {
    return shmb__fail(err, errlen,
                      e == ERROR_NOT_ENOUGH_MEMORY ? SHMB_ENOMEM : SHMB_ECONFIG,
                      "line %u: '%s' is not a valid SID such as S-1-5-32-545 "
                      "(Win32 error %lu)", line, entry, (unsigned long)e);
  }
  *out = sid;
  return 0;
}

/* What a name resolved to, when it is not something that can be granted. */
static const char *not_grantable(SID_NAME_USE use) {
  switch (use) {
  case SidTypeUser:
  case SidTypeGroup:
  case SidTypeAlias:
  case SidTypeWellKnownGroup:
  case SidTypeComputer:
    return NULL;
  case SidTypeDomain:
    return "a domain";
  case SidTypeDeletedAccount:
    return "a deleted account";
  case SidTypeLabel:
    return "an integrity label";
  default:
    return "not a user, group or computer";
  }
}

/* LookupAccountNameW into buffers of the size it asks for. Returns 0 or a
 * Win32 error; *sid is LocalAlloc'd. */
static DWORD lookup(const wchar_t *name, PSID *sid, SID_NAME_USE *use) {
  DWORD sidlen = 0, domlen = 0, e;
  wchar_t *domain;

  LookupAccountNameW(NULL, name, NULL, &sidlen, NULL, &domlen, use);
  e = GetLastError();
  if (e != ERROR_INSUFFICIENT_BUFFER || sidlen == 0)
    return e == ERROR_SUCCESS ? ERROR_NONE_MAPPED : e;
  if (!(*sid = LocalAlloc(LMEM_FIXED, sidlen)))
    return ERROR_NOT_ENOUGH_MEMORY;
  if (!(domain = malloc((domlen + 1) * sizeof(*domain)))) {
    e = ERROR_NOT_ENOUGH_MEMORY;
    goto out_free_sid;
  }
  e = LookupAccountNameW(NULL, name, *sid, &sidlen, domain, &domlen, use)
          ? ERROR_SUCCESS
          : GetLastError();
  if (e == ERROR_SUCCESS && !IsValidSid(*sid))
    e = ERROR_INVALID_SID;
  free(domain);
  if (e == ERROR_SUCCESS)
    return 0;
out_free_sid:
  LocalFree(*sid);
  *sid = NULL;
  return e;
}

static int sid_from_name(const char *entry, unsigned line, PSID *out,
                         char *err, size_t errlen) {
  wchar_t *w = shmb__wide_from_utf8(entry);
  SID_NAME_USE use = SidTypeUnknown;
  const char *what;
  DWORD e;

  if (!w)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "line %u: account '%s' is "
                      "not valid UTF-8", line, entry);
  e = lookup(w, out, &use);
  free(w);
  if (e == ERROR_NOT_ENOUGH_MEMORY)
    return SHMB_ENOMEM;
  if (e != 0)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "line %u: %s account '%s' "
                      "(Win32 error %lu)", line,
                      e == ERROR_NONE_MAPPED ? "unknown" : "cannot resolve",
                      entry, (unsigned long)e);
  if ((what = not_grantable(use)) != NULL) {
    LocalFree(*out);
    *out = NULL;
    return shmb__fail(err, errlen, SHMB_ECONFIG, "line %u: '%s' is %s, not "
                      "an account or group that can be granted access", line,
                      entry, what);
  }
  return 0;
}

/* AppContainer names with fixed SIDs (winnt.h's SECURITY_APP_PACKAGE_*
 * and SECURITY_CAPABILITY_* values). */
static const struct {
  const char *name, *sid;
} sandbox_names[] = {
    {"ALL APPLICATION PACKAGES", "S-1-15-2-1"},
    {"APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES", "S-1-15-2-1"},
    {"ALL RESTRICTED APPLICATION PACKAGES", "S-1-15-2-2"},
    {"APPLICATION PACKAGE AUTHORITY\\ALL RESTRICTED APPLICATION PACKAGES",
     "S-1-15-2-2"},
    {"capability:internetClient", "S-1-15-3-1"},
    {"capability:internetClientServer", "S-1-15-3-2"},
    {"capability:privateNetworkClientServer", "S-1-15-3-3"},
    {"capability:picturesLibrary", "S-1-15-3-4"},
    {"capability:videosLibrary", "S-1-15-3-5"},
    {"capability:musicLibrary", "S-1-15-3-6"},
    {"capability:documentsLibrary", "S-1-15-3-7"},
    {"capability:enterpriseAuthentication", "S-1-15-3-8"},
    {"capability:sharedUserCertificates", "S-1-15-3-9"},
    {"capability:removableStorage", "S-1-15-3-10"},
    {"capability:appointments", "S-1-15-3-11"},
    {"capability:contacts", "S-1-15-3-12"},
};

/* "package:NAME" and "capability:NAME" beyond the table: the system
 * derives them (Windows 8 and 10 on); where it cannot, say what to write
 * instead rather than guess the hash. */
static int sid_from_sandbox_name(const char *entry, unsigned line, PSID *out,
                                 char *err, size_t errlen) {
  typedef HRESULT(WINAPI * derive_pkg)(PCWSTR, PSID *);
  typedef BOOL(WINAPI * derive_cap)(LPCWSTR, PSID **, DWORD *, PSID **,
                                    DWORD *);
  int package = _strnicmp(entry, "package:", 8) == 0;
  const char *name = entry + (package ? 8 : 11);
  wchar_t *w = shmb__wide_from_utf8(name);
  PSID derived = NULL, *groups = NULL, *caps = NULL;
  DWORD ngroups = 0, ncaps = 0, len;
  FARPROC fn;
  int ok = 0;

  if (!w)
    return SHMB_ENOMEM;
  HMODULE dll = package ? LoadLibraryW(L"userenv.dll")
                        : GetModuleHandleW(L"kernelbase.dll");
  fn = !dll ? NULL
       : package
           ? GetProcAddress(dll, "DeriveAppContainerSidFromAppContainerName")
           : GetProcAddress(dll, "DeriveCapabilitySidsFromName");
  if (fn && package)
    ok = SUCCEEDED(((derive_pkg)(void (*)(void))fn)(w, &derived));
  else if (fn && ((derive_cap)(void (*)(void))fn)(w, &groups, &ngroups, &caps,
                                                  &ncaps) && ncaps > 0) {
    derived = caps[0];
    ok = 1;
  }
  free(w);
  if (ok && derived && IsValidSid(derived) &&
      (*out = LocalAlloc(LMEM_FIXED, len = GetLengthSid(derived))))
    ok = CopySid(len, *out, derived);
  else
    ok = 0;
  if (package && derived)
    FreeSid(derived);
  for (DWORD i = 0; i < ngroups; i++)
    LocalFree(groups[i]);
  for (DWORD i = 0; i < ncaps; i++)
    LocalFree(caps[i]);
  LocalFree(groups);
  LocalFree(caps);
  if (ok)
    return 0;
  return shmb__fail(err, errlen, SHMB_ECONFIG, "line %u: '%s': this system "
                    "cannot derive the %s SID from a name; write the SID "
                    "(S-1-15-%d-...) instead", line, entry,
                    package ? "package" : "capability", package ? 2 : 3);
}

static int sandbox_sid(const char *entry, unsigned line, PSID *out,
                       char *err, size_t errlen) {
  for (size_t i = 0; i < sizeof(sandbox_names) / sizeof(sandbox_names[0]);
       i++)
    if (_stricmp(entry, sandbox_names[i].name) == 0)
      return sid_from_string(sandbox_names[i].sid, line, out, err, errlen);
  if (_strnicmp(entry, "package:", 8) == 0 ||
      _strnicmp(entry, "capability:", 11) == 0)
    return sid_from_sandbox_name(entry, line, out, err, errlen);
  return 1; /* not a sandbox name */
}

int svc_accounts_contain(PSID *sids, size_t count, PSID sid) {
  for (size_t i = 0; i < count; i++)
    if (EqualSid(sids[i], sid))
      return 1;
  return 0;
}

/* Resolves one trimmed entry and appends it to sids unless already there. */
static int add_entry(const char *entry, unsigned line, PSID *sids,
                     size_t *count, char *err, size_t errlen) {
  PSID sid = NULL;
  int rc;

  if (*entry == '\0')
    return shmb__fail(err, errlen, SHMB_ECONFIG, "line %u: empty entry in a "
                      "list of accounts", line);
  if ((entry[0] == 'S' || entry[0] == 's') && strncmp(entry + 1, "-1-", 3) == 0)
    rc = sid_from_string(entry, line, &sid, err, errlen);
  else if ((rc = sandbox_sid(entry, line, &sid, err, errlen)) == 1)
    rc = sid_from_name(entry, line, &sid, err, errlen);
  if (rc != 0)
    return rc;
  if (svc_accounts_contain(sids, *count, sid))
    LocalFree(sid);
  else
    sids[(*count)++] = sid;
  return 0;
}

int svc_accounts_resolve(const char *list, unsigned line, PSID **sids,
                         size_t *count, char *err, size_t errlen) {
  size_t cap = 1, n = 0, len;
  char *copy, *entry, *next;
  PSID *out;
  int rc = 0;

  *sids = NULL;
  *count = 0;
  if (!list)
    list = "";
  len = strlen(list);
  for (const char *q = list; *q; q++)
    cap += *q == ',';
  if (!(copy = malloc(len + 1)))
    return SHMB_ENOMEM;
  memcpy(copy, list, len + 1);
  if (!(out = calloc(cap, sizeof(*out)))) {
    rc = SHMB_ENOMEM;
    goto out_free_copy;
  }
  for (entry = copy; entry && rc == 0; entry = next) {
    char *comma = strchr(entry, ',');
    next = comma ? comma + 1 : NULL;
    if (comma)
      *comma = '\0';
    rc = add_entry(shmb__trim_blanks(entry), line, out, &n, err, errlen);
  }
  if (rc != 0) {
    svc_accounts_free(out, n);
    goto out_free_copy;
  }
  *sids = out;
  *count = n;
out_free_copy:
  free(copy);
  if (rc == SHMB_ENOMEM)
    shmb__fail(err, errlen, rc, "line %u: out of memory", line);
  return rc;
}

void svc_accounts_free(PSID *sids, size_t count) {
  if (!sids)
    return;
  for (size_t i = 0; i < count; i++)
    LocalFree(sids[i]);
  free(sids);
}

/* Appends "(A;;MASK;;;SID)" to the malloc'd text of length *len. */
static int append_ace(char **text, size_t *len, ACCESS_MASK mask, PSID sid) {
  char *sidtext = svc_sid_string(sid), *grown;
  size_t room;
  int n;

  if (!sidtext)
    return SHMB_ENOMEM;
  room = strlen(sidtext) + sizeof("(A;;0x00000000;;;)");
  if (!(grown = realloc(*text, *len + room))) {
    free(sidtext);
    return SHMB_ENOMEM;
  }
  *text = grown;
  n = snprintf(grown + *len, room, "(A;;0x%lx;;;%s)", (unsigned long)mask,
               sidtext);
  free(sidtext);
  *len += (size_t)n;
  return 0;
}

/* Resolves list and adds its accounts to *sids (an array of *count from
 * svc_accounts_resolve, or NULL), skipping those already there. On failure
 * *sids is left as it was, for the caller to free. */
static int svc_accounts_append(const char *list, unsigned line, PSID **sids,
                               size_t *count, char *err, size_t errlen) {
  PSID *more, *grown;
  size_t nmore, n = *count;
  int rc = svc_accounts_resolve(list, line, &more, &nmore, err, errlen);
  if (rc != 0)
    return rc;
  if (!(grown = realloc(*sids, (n + nmore + 1) * sizeof(*grown)))) {
    svc_accounts_free(more, nmore);
    return shmb__fail(err, errlen, SHMB_ENOMEM, "line %u: out of memory",
                      line);
  }
  for (size_t i = 0; i < nmore; i++) {
    if (svc_accounts_contain(grown, n, more[i]))
      LocalFree(more[i]);
    else
      grown[n++] = more[i];
  }
  free(more);
  *sids = grown;
  *count = n;
  return 0;
}

/* The ACEs for resolved lists: read ACEs for readers who are not also
 * writers, then write ACEs. *text starts as "D:P". */
static int build_sddl(PSID *readers, size_t nr, PSID *writers, size_t nw,
                      char **text) {
  size_t len = 3;
  int rc = 0;

  if (!(*text = malloc(len + 1)))
    return SHMB_ENOMEM;
  memcpy(*text, "D:P", len + 1);
  for (size_t i = 0; i < nr && rc == 0; i++)
    if (!svc_accounts_contain(writers, nw, readers[i]))
      rc = append_ace(text, &len, SVC_GRANT_READ, readers[i]);
  for (size_t i = 0; i < nw && rc == 0; i++)
    rc = append_ace(text, &len, SVC_GRANT_WRITE, writers[i]);
  if (rc != 0) {
    free(*text);
    *text = NULL;
  }
  return rc;
}

int svc_grants_sddl(const shmb_section_config *sc, char **sddl, char *err,
                    size_t errlen) {
  PSID *readers = NULL, *writers = NULL;
  size_t nr = 0, nw = 0;
  int rc;

  *sddl = NULL;
  if (!sc->read && !sc->write)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "line %u: neither read nor "
                      "write names an account", sc->line);
  if (sc->read && (rc = svc_accounts_resolve(sc->read, sc->read_line, &readers,
                                             &nr, err, errlen)) != 0)
    return rc;
  if (sc->write && (rc = svc_accounts_resolve(sc->write, sc->write_line,
                                              &writers, &nw, err, errlen)) != 0)
    goto out_free_readers;
  /* A channel's receivers: a broadcast receiver only reads the ring; a
   * queue receiver claims and frees slots, so it writes. */
  if (sc->receive &&
      (rc = sc->channel == SHMB_RING_QUEUE
                ? svc_accounts_append(sc->receive, sc->receive_line, &writers,
                                      &nw, err, errlen)
                : svc_accounts_append(sc->receive, sc->receive_line, &readers,
                                      &nr, err, errlen)) != 0)
    goto out_free_writers;
  if ((rc = build_sddl(readers, nr, writers, nw, sddl)) != 0)
    shmb__fail(err, errlen, rc, "out of memory");
out_free_writers:
  svc_accounts_free(writers, nw);
out_free_readers:
  svc_accounts_free(readers, nr);
  return rc;
}
