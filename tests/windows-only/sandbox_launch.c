/*
 * sandbox_launch: runs a program the way the clients of issue 12 run, so
 * that a test can show what a sandboxed process gets from the broker.
 *
 *   sandbox_launch low [--allow-unenforced] -- PROGRAM ARGS...
 *   sandbox_launch appcontainer NAME [--cap SID|NAME]... [--allow-unenforced]
 *                  -- PROGRAM ARGS...
 *
 * low: a copy of this process's primary token, lowered to the low
 * mandatory level (S-1-16-4096), starts PROGRAM (CreateProcessAsUserW).
 * appcontainer: the AppContainer profile NAME (created, or its SID derived
 * when it exists) and the capabilities given start PROGRAM through
 * PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES; a profile this run created
 * is deleted afterwards. A capability is a SID (S-1-15-3-...) or a name
 * that DeriveCapabilitySidsFromName knows (internetClient...).
 *
 * The child starts suspended. Its own token is read back and printed on
 * stderr (integrity level, AppContainer SID) so that a log proves where it
 * ran; a child whose token is not what was asked for is ended before it
 * runs one instruction (exit 126), since a test that believes it runs
 * sandboxed when it does not proves nothing. --allow-unenforced runs it all
 * the same and says so: Wine 8 answers success to
 * SetTokenInformation(TokenIntegrityLevel) and changes nothing, and has no
 * CreateAppContainerProfile; the CI test uses the flag to exercise the
 * rest (tests/integration/sandbox_launch.sh).
 *
 * An AppContainer process can read only files and folders that grant ALL
 * APPLICATION PACKAGES (S-1-15-2-1) or its package SID: PROGRAM's folder
 * (and the working directory) need, for instance,
 *   icacls DIR /grant *S-1-15-2-1:(OI)(CI)RX
 * or the child dies at start with STATUS_ACCESS_DENIED (0xC0000022).
 *
 * Exit status: the child's, or 125 when a step of the launcher failed (the
 * message names the step and the Win32 error), 126 when the child's token
 * was not sandboxed as asked, 2 for a usage error. Standard handles are
 * inherited, so the child reads and writes the launcher's.
 */
#include <windows.h>

#include <sddl.h>
#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define EXIT_LAUNCH 125
#define EXIT_NOT_SANDBOXED 126

typedef HRESULT(WINAPI *create_profile_fn)(PCWSTR, PCWSTR, PCWSTR,
                                           PSID_AND_ATTRIBUTES, DWORD, PSID *);
typedef HRESULT(WINAPI *derive_sid_fn)(PCWSTR, PSID *);
typedef HRESULT(WINAPI *delete_profile_fn)(PCWSTR);
typedef BOOL(WINAPI *derive_caps_fn)(LPCWSTR, PSID **, DWORD *, PSID **,
                                     DWORD *);

/* The options. */
typedef struct launch {
  int appcontainer, allow_unenforced;
  const wchar_t *name; /* the AppContainer profile */
  SID_AND_ATTRIBUTES caps[16];
  DWORD ncaps;
  wchar_t *cmdline; /* PROGRAM ARGS..., quoted again (malloc) */
} launch;

/* The one place a failed step is said: which step, the Win32 code and
 * the system's text for it. Returns EXIT_LAUNCH for `return fail(...)`. */
static int fail(const char *step, DWORD e) {
  char text[512] = "";
  FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                 NULL, e, 0, text, sizeof(text), NULL);
  text[strcspn(text, "\r\n")] = '\0';
  fprintf(stderr, "sandbox_launch: %s failed: Win32 error %lu%s%s\n", step,
          (unsigned long)e, text[0] ? ": " : "", text);
  return EXIT_LAUNCH;
}

static int fail_hr(const char *step, HRESULT hr) {
  if (HRESULT_FACILITY(hr) == FACILITY_WIN32)
    return fail(step, HRESULT_CODE(hr));
  fprintf(stderr, "sandbox_launch: %s failed: HRESULT 0x%08lx\n", step,
          (unsigned long)hr);
  return EXIT_LAUNCH;
}

static int usage(const char *why) {
  fprintf(stderr,
          "sandbox_launch: %s\n"
          "usage: sandbox_launch low [--allow-unenforced] -- PROGRAM ARGS...\n"
          "       sandbox_launch appcontainer NAME [--cap SID|NAME]... "
          "[--allow-unenforced] -- PROGRAM ARGS...\n",
          why);
  return 2;
}

/* Appends arg to out (of room n) as CommandLineToArgvW reads it back:
 * quoted when needed, backslashes doubled only before a quote. */
static void append_arg(wchar_t *out, size_t n, const wchar_t *arg) {
  size_t len = wcslen(out);
  int quote = arg[0] == L'\0' || wcspbrk(arg, L" \t\"") != NULL;
  if (len && len + 1 < n)
    out[len++] = L' ';
  if (quote && len + 1 < n)
    out[len++] = L'"';
  for (const wchar_t *p = arg;; p++) {
    size_t slashes = 0;
    while (*p == L'\\')
      p++, slashes++;
    /* Before a quote or the closing quote, each backslash doubles. */
    if (*p == L'\0' || *p == L'"')
      slashes *= (*p == L'"' || quote) ? 2 : 1;
    while (slashes-- && len + 1 < n)
      out[len++] = L'\\';
    if (*p == L'\0')
      break;
    if (*p == L'"' && len + 1 < n)
      out[len++] = L'\\';
    if (len + 1 < n)
      out[len++] = *p;
  }
  if (quote && len + 1 < n)
    out[len++] = L'"';
  out[len] = L'\0';
}

/* A capability by SID or by name, into l->caps. */
static int add_cap(launch *l, const wchar_t *cap) {
  PSID sid = NULL;
  if (l->ncaps == sizeof(l->caps) / sizeof(l->caps[0]))
    return usage("too many --cap");
  if (wcsncmp(cap, L"S-1-", 4) == 0) {
    if (!ConvertStringSidToSidW(cap, &sid))
      return fail("ConvertStringSidToSidW(--cap)", GetLastError());
  } else {
    HMODULE kb = GetModuleHandleW(L"kernelbase.dll");
    derive_caps_fn derive =
        kb ? (derive_caps_fn)(void *)GetProcAddress(
                 kb, "DeriveCapabilitySidsFromName")
           : NULL;
    PSID *groups = NULL, *caps = NULL;
    DWORD ngroups = 0, ncaps = 0;
    if (!derive) {
      fprintf(stderr, "sandbox_launch: this system has no "
              "DeriveCapabilitySidsFromName (Windows 10 and later): give "
              "--cap as a SID (S-1-15-3-...)\n");
      return EXIT_LAUNCH;
    }
    if (!derive(cap, &groups, &ngroups, &caps, &ncaps))
      return fail("DeriveCapabilitySidsFromName", GetLastError());
    if (ncaps == 0) {
      fprintf(stderr, "sandbox_launch: no capability SID for '%ls'\n", cap);
      return EXIT_LAUNCH;
    }
    sid = caps[0]; /* kept for the child's life; the rest is let go */
    for (DWORD i = 0; i < ngroups; i++)
      LocalFree(groups[i]);
    LocalFree(groups);
  }
  l->caps[l->ncaps].Sid = sid;
  l->caps[l->ncaps].Attributes = SE_GROUP_ENABLED;
  l->ncaps++;
  return 0;
}

/* argv (wide, from the real command line) into *l. */
static int parse(int argc, wchar_t **argv, launch *l) {
  int i = 2, rc;
  size_t room = 1;
  if (argc < 2)
    return usage("say low or appcontainer");
  if (wcscmp(argv[1], L"appcontainer") == 0) {
    l->appcontainer = 1;
    if (argc < 3 || wcscmp(argv[2], L"--") == 0)
      return usage("appcontainer needs a profile NAME");
    l->name = argv[i++];
  } else if (wcscmp(argv[1], L"low") != 0) {
    return usage("the mode is low or appcontainer");
  }
  for (; i < argc && wcscmp(argv[i], L"--") != 0; i++) {
    if (wcscmp(argv[i], L"--allow-unenforced") == 0)
      l->allow_unenforced = 1;
    else if (wcscmp(argv[i], L"--cap") == 0 && l->appcontainer &&
             i + 1 < argc) {
      if ((rc = add_cap(l, argv[++i])) != 0)
        return rc;
    } else {
      return usage("unknown option before --");
    }
  }
  if (++i >= argc)
    return usage("no PROGRAM after --");
  for (int j = i; j < argc; j++)
    room += 3 + 2 * wcslen(argv[j]);
  if (!(l->cmdline = calloc(room, sizeof(wchar_t))))
    return fail("calloc", ERROR_NOT_ENOUGH_MEMORY);
  for (; i < argc; i++)
    append_arg(l->cmdline, room, argv[i]);
  return 0;
}

static const char *level_name(DWORD rid) {
  if (rid < SECURITY_MANDATORY_LOW_RID)
    return "untrusted";
  if (rid < SECURITY_MANDATORY_MEDIUM_RID)
    return "low";
  if (rid < SECURITY_MANDATORY_HIGH_RID)
    return "medium";
  if (rid < SECURITY_MANDATORY_SYSTEM_RID)
    return "high";
  return "system";
}

/* Reads the suspended child's token back, says it on stderr, and whether
 * it is what l asked for. want_sid: the AppContainer's SID, or NULL. */
static int child_is_sandboxed(const launch *l, HANDLE process, DWORD pid,
                              PSID want_sid, int *sandboxed) {
  BYTE buf[512];
  DWORD n, rid, is_ac = 0;
  HANDLE token;
  PSID level, ac = NULL;
  char *level_text = NULL, *ac_text = NULL;

  if (!OpenProcessToken(process, TOKEN_QUERY, &token))
    return fail("OpenProcessToken(child)", GetLastError());
  if (!GetTokenInformation(token, TokenIntegrityLevel, buf, sizeof(buf), &n)) {
    CloseHandle(token);
    return fail("GetTokenInformation(child, TokenIntegrityLevel)",
                GetLastError());
  }
  level = ((TOKEN_MANDATORY_LABEL *)buf)->Label.Sid;
  rid = *GetSidSubAuthority(level, *GetSidSubAuthorityCount(level) - 1);
  ConvertSidToStringSidA(level, &level_text);
  fprintf(stderr, "sandbox_launch: child %lu: integrity %s (%s)\n",
          (unsigned long)pid, level_text ? level_text : "?",
          level_name(rid));
  LocalFree(level_text);
  /* Before Windows 8 there is no such class: no AppContainer either. */
  if (!GetTokenInformation(token, TokenIsAppContainer, &is_ac, sizeof(is_ac),
                           &n))
    is_ac = 0;
  if (is_ac &&
      GetTokenInformation(token, TokenAppContainerSid, buf, sizeof(buf), &n))
    ac = ((TOKEN_APPCONTAINER_INFORMATION *)buf)->TokenAppContainer;
  if (ac)
    ConvertSidToStringSidA(ac, &ac_text);
  fprintf(stderr, "sandbox_launch: child %lu: appcontainer %s\n",
          (unsigned long)pid, ac_text ? ac_text : "none");
  LocalFree(ac_text);
  *sandboxed = l->appcontainer
                   ? is_ac && ac && want_sid && EqualSid(ac, want_sid)
                   : rid <= SECURITY_MANDATORY_LOW_RID && !is_ac;
  CloseHandle(token);
  return 0;
}

/* Our standard handles, inheritable, for the child. */
static void pass_std_handles(STARTUPINFOW *si) {
  si->dwFlags |= STARTF_USESTDHANDLES;
  si->hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si->hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si->hStdError = GetStdHandle(STD_ERROR_HANDLE);
  SetHandleInformation(si->hStdInput, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  SetHandleInformation(si->hStdOutput, HANDLE_FLAG_INHERIT,
                       HANDLE_FLAG_INHERIT);
  SetHandleInformation(si->hStdError, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
}

/* Checks the suspended child, then lets it run to its end. */
static int run_child(const launch *l, PROCESS_INFORMATION *pi,
                     PSID want_sid) {
  int sandboxed = 0, rc;
  DWORD code = EXIT_LAUNCH;

  if ((rc = child_is_sandboxed(l, pi->hProcess, pi->dwProcessId, want_sid,
                               &sandboxed)) != 0) {
    TerminateProcess(pi->hProcess, EXIT_LAUNCH);
    goto out_close;
  }
  if (!sandboxed && !l->allow_unenforced) {
    fprintf(stderr, "sandbox_launch: the child's token is not %s as asked: "
            "this system did not apply it; the child was ended before it "
            "ran (--allow-unenforced runs it anyway)\n",
            l->appcontainer ? "in the AppContainer" : "at low integrity");
    TerminateProcess(pi->hProcess, EXIT_NOT_SANDBOXED);
    rc = EXIT_NOT_SANDBOXED;
    goto out_close;
  }
  if (!sandboxed)
    fprintf(stderr, "sandbox_launch: NOT ENFORCED: the child runs %s "
            "(--allow-unenforced)\n", l->appcontainer ? "outside any "
            "AppContainer" : "above low integrity");
  if (ResumeThread(pi->hThread) == (DWORD)-1) {
    rc = fail("ResumeThread(child)", GetLastError());
    TerminateProcess(pi->hProcess, EXIT_LAUNCH);
    goto out_close;
  }
  if (WaitForSingleObject(pi->hProcess, INFINITE) != WAIT_OBJECT_0 ||
      !GetExitCodeProcess(pi->hProcess, &code)) {
    rc = fail("waiting for the child", GetLastError());
    goto out_close;
  }
  fprintf(stderr, "sandbox_launch: child %lu exited %lu\n",
          (unsigned long)pi->dwProcessId, (unsigned long)code);
  if (code == 0xC0000022 && l->appcontainer)
    fprintf(stderr, "sandbox_launch: STATUS_ACCESS_DENIED at start: the "
            "program's folder must grant ALL APPLICATION PACKAGES read and "
            "execute (icacls DIR /grant *S-1-15-2-1:(OI)(CI)RX)\n");
  rc = (int)code;
out_close:
  CloseHandle(pi->hThread);
  CloseHandle(pi->hProcess);
  return rc;
}

static int run_low(const launch *l) {
  HANDLE self, low;
  PSID sid = NULL;
  TOKEN_MANDATORY_LABEL tml;
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  int rc;

  memset(&si, 0, sizeof(si));
  si.cb = sizeof(si);

  if (!OpenProcessToken(GetCurrentProcess(),
                        TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ADJUST_DEFAULT |
                            TOKEN_ASSIGN_PRIMARY,
                        &self))
    return fail("OpenProcessToken(self)", GetLastError());
  if (!DuplicateTokenEx(self, 0, NULL, SecurityImpersonation, TokenPrimary,
                        &low)) {
    rc = fail("DuplicateTokenEx", GetLastError());
    goto out_self;
  }
  if (!ConvertStringSidToSidW(L"S-1-16-4096", &sid)) {
    rc = fail("ConvertStringSidToSidW(S-1-16-4096)", GetLastError());
    goto out_low;
  }
  tml.Label.Sid = sid;
  tml.Label.Attributes = SE_GROUP_INTEGRITY;
  if (!SetTokenInformation(low, TokenIntegrityLevel, &tml,
                           sizeof(tml) + GetLengthSid(sid))) {
    rc = fail("SetTokenInformation(TokenIntegrityLevel, low)",
              GetLastError());
    goto out_sid;
  }
  pass_std_handles(&si);
  if (!CreateProcessAsUserW(low, NULL, l->cmdline, NULL, NULL, TRUE,
                            CREATE_SUSPENDED, NULL, NULL, &si, &pi)) {
    rc = fail("CreateProcessAsUserW", GetLastError());
    goto out_sid;
  }
  rc = run_child(l, &pi, NULL);
out_sid:
  LocalFree(sid);
out_low:
  CloseHandle(low);
out_self:
  CloseHandle(self);
  return rc;
}

/* The profile's SID: created (*created = 1) or, if it exists, derived. */
static int profile_sid(const launch *l, HMODULE ue, PSID *sid, int *created) {
  create_profile_fn create = (create_profile_fn)(void *)GetProcAddress(
      ue, "CreateAppContainerProfile");
  derive_sid_fn derive = (derive_sid_fn)(void *)GetProcAddress(
      ue, "DeriveAppContainerSidFromAppContainerName");
  HRESULT hr;

  if (!create || !derive) {
    fprintf(stderr, "sandbox_launch: userenv.dll has no "
            "CreateAppContainerProfile or "
            "DeriveAppContainerSidFromAppContainerName: this system cannot "
            "start AppContainer processes (Windows 8 and later can; Wine "
            "8 cannot)\n");
    return EXIT_LAUNCH;
  }
  hr = create(l->name, l->name, L"shmbroker sandbox_launch", l->ncaps
              ? (PSID_AND_ATTRIBUTES)l->caps : NULL, l->ncaps, sid);
  *created = SUCCEEDED(hr);
  if (hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS))
    hr = derive(l->name, sid);
  return SUCCEEDED(hr) ? 0 : fail_hr("CreateAppContainerProfile", hr);
}

static int run_appcontainer(const launch *l) {
  HMODULE ue = LoadLibraryW(L"userenv.dll");
  PSID sid = NULL;
  int created = 0, rc;
  SECURITY_CAPABILITIES caps = {0};
  STARTUPINFOEXW si;
  PROCESS_INFORMATION pi;
  SIZE_T size = 0;

  memset(&si, 0, sizeof(si));
  si.StartupInfo.cb = sizeof(si);

  if (!ue)
    return fail("LoadLibrary(userenv.dll)", GetLastError());
  if ((rc = profile_sid(l, ue, &sid, &created)) != 0)
    goto out_lib;
  caps.AppContainerSid = sid;
  caps.Capabilities = l->ncaps ? (PSID_AND_ATTRIBUTES)l->caps : NULL;
  caps.CapabilityCount = l->ncaps;
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  if (!(si.lpAttributeList = HeapAlloc(GetProcessHeap(), 0, size)) ||
      !InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size)) {
    rc = fail("InitializeProcThreadAttributeList", GetLastError());
    goto out_profile;
  }
  if (!UpdateProcThreadAttribute(si.lpAttributeList, 0,
                                 PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES,
                                 &caps, sizeof(caps), NULL, NULL)) {
    rc = fail("UpdateProcThreadAttribute(SECURITY_CAPABILITIES)",
              GetLastError());
    goto out_list;
  }
  pass_std_handles(&si.StartupInfo);
  if (!CreateProcessW(NULL, l->cmdline, NULL, NULL, TRUE,
                      EXTENDED_STARTUPINFO_PRESENT | CREATE_SUSPENDED, NULL,
                      NULL, &si.StartupInfo, &pi)) {
    rc = fail("CreateProcessW(AppContainer)", GetLastError());
    goto out_list;
  }
  rc = run_child(l, &pi, sid);
out_list:
  DeleteProcThreadAttributeList(si.lpAttributeList);
out_profile:
  HeapFree(GetProcessHeap(), 0, si.lpAttributeList);
  if (created) {
    delete_profile_fn del = (delete_profile_fn)(void *)GetProcAddress(
        ue, "DeleteAppContainerProfile");
    HRESULT hr = del ? del(l->name) : E_NOTIMPL;
    if (FAILED(hr))
      fail_hr("DeleteAppContainerProfile", hr);
  }
  if (sid)
    FreeSid(sid);
out_lib:
  FreeLibrary(ue);
  return rc;
}

int main(void) {
  int argc, rc;
  wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  launch l;

  memset(&l, 0, sizeof(l));
  if (!argv)
    return fail("CommandLineToArgvW", GetLastError());
  if ((rc = parse(argc, argv, &l)) != 0)
    return rc;
  rc = l.appcontainer ? run_appcontainer(&l) : run_low(&l);
  free(l.cmdline);
  LocalFree(argv);
  return rc;
}
