/*
 * shmbtest: the integration tests' probe. It does what shmbctl will not:
 * speaks to the kernel directly (to prove that the kernel, not only the
 * broker, refuses a right), holds mappings across reloads and restarts,
 * drives the SCM and file permissions, and prints the identity of the test
 * account. (Hostile clients are hostile.c's.) Each command prints one line that the scripts assert
 * on; exit 0 means the probe itself worked, whatever it observed.
 *
 *   whoami                    the SID of this process's user
 *   map OBJECT read|write     OpenFileMappingW + MapViewOfFile: "ok" or
 *                             "error <Win32 error>"
 *   hold PIPE NAME FILE       map section NAME read-only through the SDK,
 *                             print "mapped", wait until FILE exists, then
 *                             print the view's text (up to a NUL, 64 bytes)
 *   paramchange SERVICE       ControlService(SERVICE_CONTROL_PARAMCHANGE),
 *                             as `sc control SERVICE paramchange` would:
 *                             "ok" or "error <Win32 error>"
 *   shutdown SERVICE          ControlService(SERVICE_CONTROL_SHUTDOWN), the
 *                             control the SCM sends when Windows shuts
 *                             down. Wine lets a program send it; Windows
 *                             refuses (error 87 or 1052): "ok" or "error N"
 *   writefile PATH            open PATH for writing: "ok" or "error N"
 *   rename PATH NEW           MoveFileW(PATH, NEW): "ok" or "error N"
 *   reconnect PIPE NAME FILE  map NAME, wait until FILE exists (the test
 *                             has killed and restarted the service), then
 *                             print what the old client gets, the view's
 *                             text, and the object a new connection gets
 *   setsddl PATH SDDL         put SDDL's DACL on a file or folder (protected)
 *   getsddl PATH              print a file's owner and DACL as SDDL
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmbroker.h"
#include "wstr.h"

static int whoami(void) {
  HANDLE token;
  BYTE buf[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  DWORD len;
  LPSTR s;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token) ||
      !GetTokenInformation(token, TokenUser, buf, sizeof(buf), &len) ||
      !ConvertSidToStringSidA(((TOKEN_USER *)buf)->User.Sid, &s))
    return 1;
  printf("%s\n", s);
  return 0;
}

static int map(const char *object, const char *mode) {
  int write = strcmp(mode, "write") == 0;
  wchar_t *w = shmb__wide_from_utf8(object);
  HANDLE h;
  void *view;
  h = OpenFileMappingW(write ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ,
                       FALSE, w);
  free(w);
  if (!h) {
    printf("error %lu\n", (unsigned long)GetLastError());
    return 0;
  }
  view = MapViewOfFile(h, write ? FILE_MAP_WRITE : FILE_MAP_READ, 0, 0, 0);
  if (!view) {
    printf("error %lu\n", (unsigned long)GetLastError());
    CloseHandle(h);
    return 0;
  }
  printf("ok\n");
  UnmapViewOfFile(view);
  CloseHandle(h);
  return 0;
}

/* Connects and maps NAME read-only; prints "error NAME" on failure. The
 * client stays connected (*c) for callers that go on using it. */
static int map_section(const char *pipe, const char *name, shmb_client **c,
                       shmb_section **sec) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  int rc = shmb_connect(&opts, c);
  if (rc == 0 && (rc = shmb_open(*c, name, SHMB_ACCESS_READ, sec)) != 0)
    shmb_disconnect(*c);
  if (rc != 0)
    printf("error %s\n", shmb_err_name(rc));
  return rc;
}

/* The test's signal to go on: a file it creates. */
static void wait_for_file(const char *file) {
  while (GetFileAttributesA(file) == INVALID_FILE_ATTRIBUTES)
    Sleep(50);
}

/* Maps NAME for writing, then once FILE exists writes TEXT into the view
 * and prints what the view holds: after a rotation, the holder's copy. */
static int holdwrite(const char *pipe, const char *name, const char *file,
                     const char *text) {
  shmb_client *c;
  shmb_section *sec;
  shmb_connect_options opts = {pipe, NULL, 5000};

  if (shmb_connect(&opts, &c) != 0 ||
      shmb_open(c, name, SHMB_ACCESS_READ_WRITE, &sec) != 0) {
    printf("open failed: %s\n", shmb_last_message(NULL));
    return 1;
  }
  shmb_disconnect(c);
  printf("mapped\n");
  fflush(stdout);
  wait_for_file(file);
  memcpy(shmb_section_data(sec), text, strlen(text) + 1);
  printf("%.64s\n", (const char *)shmb_section_data(sec));
  shmb_close(sec);
  return 0;
}

static int hold(const char *pipe, const char *name, const char *file) {
  shmb_client *c;
  shmb_section *sec;

  if (map_section(pipe, name, &c, &sec) != 0)
    return 1;
  shmb_disconnect(c);
  printf("mapped\n");
  fflush(stdout);
  wait_for_file(file);
  printf("%.64s\n", (const char *)shmb_section_data(sec));
  shmb_close(sec);
  return 0;
}

static int reconnect(const char *pipe, const char *name, const char *file) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  shmb_client *c;
  shmb_section *sec;
  shmb_section_info *list;
  shmb_open_info info;
  size_t n;
  int rc;

  if (map_section(pipe, name, &c, &sec) != 0)
    return 1;
  printf("mapped %s\n", shmb_section_object(sec));
  fflush(stdout);
  wait_for_file(file);
  rc = shmb_list(c, &list, &n);
  printf("old client: %s transport=%d\n", shmb_err_name(rc),
         shmb_err_is_transport(rc));
  if (rc == 0)
    shmb_free_list(list);
  shmb_disconnect(c);
  printf("view: %.32s\n", (const char *)shmb_section_data(sec));
  shmb_close(sec);
  if ((rc = shmb_connect(&opts, &c)) == 0) {
    rc = shmb_lookup(c, name, SHMB_ACCESS_READ, &info);
    shmb_disconnect(c);
  }
  printf("new object %s\n", rc == 0 ? info.object : shmb_err_name(rc));
  return 0;
}

static int control(const char *service, DWORD code) {
  wchar_t *w = shmb__wide_from_utf8(service);
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc = NULL;
  SERVICE_STATUS st;
  if (scm)
    svc = OpenServiceW(scm, w,
                       code == SERVICE_CONTROL_PARAMCHANGE
                           ? SERVICE_PAUSE_CONTINUE
                           : SERVICE_STOP | SERVICE_PAUSE_CONTINUE |
                                 SERVICE_INTERROGATE |
                                 SERVICE_USER_DEFINED_CONTROL);
  free(w);
  if (!svc || !ControlService(svc, code, &st))
    printf("error %lu\n", (unsigned long)GetLastError());
  else
    printf("ok\n");
  if (svc)
    CloseServiceHandle(svc);
  if (scm)
    CloseServiceHandle(scm);
  return 0;
}

static int print_result(BOOL ok) {
  if (ok)
    printf("ok\n");
  else
    printf("error %lu\n", (unsigned long)GetLastError());
  return 0;
}

static int writefile(const char *path) {
  wchar_t *w = shmb__wide_from_utf8(path);
  HANDLE h = CreateFileW(w, GENERIC_WRITE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_EXISTING, 0, NULL);
  free(w);
  print_result(h != INVALID_HANDLE_VALUE);
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  return 0;
}

static int rename_file(const char *from, const char *to) {
  wchar_t *wf = shmb__wide_from_utf8(from), *wt = shmb__wide_from_utf8(to);
  print_result(MoveFileW(wf, wt));
  free(wf);
  free(wt);
  return 0;
}

static int setsddl(const char *path, const char *sddl) {
  wchar_t *wp = shmb__wide_from_utf8(path), *ws = shmb__wide_from_utf8(sddl);
  PSECURITY_DESCRIPTOR sd = NULL;
  BOOL present, defaulted;
  PACL dacl = NULL;
  DWORD e = ERROR_INVALID_PARAMETER;
  if (ConvertStringSecurityDescriptorToSecurityDescriptorW(ws, SDDL_REVISION_1,
                                                           &sd, NULL) &&
      GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted))
    e = SetNamedSecurityInfoW(wp, SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION |
                                  PROTECTED_DACL_SECURITY_INFORMATION,
                              NULL, NULL, dacl, NULL);
  if (e == ERROR_SUCCESS)
    printf("ok\n");
  else
    printf("error %lu\n", (unsigned long)e);
  LocalFree(sd);
  free(wp);
  free(ws);
  return 0;
}

static int getsddl(const char *path) {
  wchar_t *wp = shmb__wide_from_utf8(path);
  PSECURITY_DESCRIPTOR sd = NULL;
  LPSTR text;
  DWORD e = GetNamedSecurityInfoW(wp, SE_FILE_OBJECT,
                                  OWNER_SECURITY_INFORMATION |
                                      DACL_SECURITY_INFORMATION,
                                  NULL, NULL, NULL, NULL, &sd);
  free(wp);
  if (e != ERROR_SUCCESS ||
      !ConvertSecurityDescriptorToStringSecurityDescriptorA(
          sd, SDDL_REVISION_1,
          OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &text,
          NULL)) {
    printf("error %lu\n", (unsigned long)(e ? e : GetLastError()));
    return 0;
  }
  printf("%s\n", text);
  LocalFree(text);
  LocalFree(sd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "whoami") == 0)
    return whoami();
  if (argc == 4 && strcmp(argv[1], "map") == 0)
    return map(argv[2], argv[3]);
  if (argc == 6 && strcmp(argv[1], "holdwrite") == 0)
    return holdwrite(argv[2], argv[3], argv[4], argv[5]);
  if (argc == 5 && strcmp(argv[1], "hold") == 0)
    return hold(argv[2], argv[3], argv[4]);
  if (argc == 5 && strcmp(argv[1], "reconnect") == 0)
    return reconnect(argv[2], argv[3], argv[4]);
  if (argc == 3 && strcmp(argv[1], "paramchange") == 0)
    return control(argv[2], SERVICE_CONTROL_PARAMCHANGE);
  if (argc == 3 && strcmp(argv[1], "shutdown") == 0)
    return control(argv[2], SERVICE_CONTROL_SHUTDOWN);
  if (argc == 3 && strcmp(argv[1], "writefile") == 0)
    return writefile(argv[2]);
  if (argc == 4 && strcmp(argv[1], "rename") == 0)
    return rename_file(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "setsddl") == 0)
    return setsddl(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "getsddl") == 0)
    return getsddl(argv[2]);
  fprintf(stderr, "usage: shmbtest whoami | map OBJECT read|write | "
                  "holdwrite PIPE NAME FILE TEXT | "
                  "hold PIPE NAME FILE | reconnect PIPE NAME FILE | "
                  "paramchange SERVICE | shutdown SERVICE | writefile PATH | rename PATH NEW | "
                  "setsddl PATH SDDL | getsddl PATH\n");
  return 2;
}
