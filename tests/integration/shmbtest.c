/*
 * shmbtest: the integration tests' probe. It does what shmbctl will not:
 * speaks to the kernel directly (to prove that the kernel, not only the
 * broker, refuses a right), sends malformed frames, and prints the identity
 * of the test account. Each command prints one line that the scripts assert
 * on; exit 0 means the probe itself worked, whatever it observed.
 *
 *   whoami                    the SID of this process's user
 *   map OBJECT read|write     OpenFileMappingW + MapViewOfFile: "ok" or
 *                             "error <Win32 error>"
 *   frame PIPE KIND           send one crafted frame, print the reply's
 *                             status name and "closed" or "open"
 *   idle PIPE MS              connect, send nothing, and print "closed" if
 *                             the service hangs up within MS, else "open"
 *   hold PIPE NAME FILE       map section NAME read-only through the SDK,
 *                             print "mapped", wait until FILE exists, then
 *                             print the view's text (up to a NUL, 64 bytes)
 *   paramchange SERVICE       ControlService(SERVICE_CONTROL_PARAMCHANGE),
 *                             as `sc control SERVICE paramchange` would
 *   writefile PATH            open PATH for writing: "ok" or "error N"
 *   rename PATH NEW           MoveFileW(PATH, NEW): "ok" or "error N"
 *   setsddl PATH SDDL         put SDDL's DACL on a file or folder (protected)
 *   getsddl PATH              print a file's owner and DACL as SDDL
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "protocol.h"
#include "transport.h"
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

/* A valid header for the given opcode and payload length. */
static void header(uint8_t *f, uint8_t op, uint32_t id, uint32_t len) {
  uint32_t magic = SHMB_PROTO_MAGIC;
  memcpy(f, &magic, 4); /* x86: little-endian like the wire */
  f[4] = SHMB_PROTO_VERSION;
  f[5] = op;
  f[6] = f[7] = 0;
  memcpy(f + 8, &id, 4);
  memcpy(f + 12, &len, 4);
}

/* Builds the frame for KIND; returns its length, 0 for an unknown kind.
 * Sets *one_byte_writes for kinds that trickle. */
static size_t craft(const char *kind, uint8_t *f, size_t cap,
                    int *one_byte_writes) {
  *one_byte_writes = 0;
  memset(f, 0, cap);
  if (strcmp(kind, "garbage") == 0) {
    for (size_t i = 0; i < 64; i++)
      f[i] = (uint8_t)(i * 37 + 11);
    return 64;
  }
  if (strcmp(kind, "badversion") == 0) {
    header(f, SHMB_OP_LIST, 7, 0);
    f[4] = 99;
    return SHMB_HEADER_SIZE;
  }
  if (strcmp(kind, "oversize") == 0) {
    header(f, SHMB_OP_LIST, 7, 0x7fffffff);
    return SHMB_HEADER_SIZE;
  }
  if (strcmp(kind, "unknownop") == 0) {
    header(f, 0x42, 7, 0);
    return SHMB_HEADER_SIZE;
  }
  if (strcmp(kind, "badlength") == 0) { /* LIST with a payload */
    header(f, SHMB_OP_LIST, 7, 4);
    return SHMB_HEADER_SIZE + 4;
  }
  if (strcmp(kind, "badname") == 0) { /* OPEN "a/b" */
    header(f, SHMB_OP_OPEN, 7, 11);
    f[16] = SHMB_WIRE_ACCESS_READ;
    f[22] = 3;
    memcpy(f + 24, "a/b", 3);
    return SHMB_HEADER_SIZE + 11;
  }
  if (strcmp(kind, "split") == 0) { /* a valid LIST, one byte per write */
    header(f, SHMB_OP_LIST, 7, 0);
    *one_byte_writes = 1;
    return SHMB_HEADER_SIZE;
  }
  return 0;
}

/* Connects without saying anything (no HELLO). */
static int raw_connect(const char *pipe, shmb_client *c) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  int rc;
  memset(c, 0, sizeof(*c));
  c->io_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  if ((rc = shmb__transport_open(c, &opts)) != 0)
    printf("connect %s\n", shmb_err_name(rc));
  return rc;
}

/* "closed" when the service hangs up within ms, "open" otherwise. */
static const char *hangs_up_within(shmb_client *c, unsigned ms) {
  uint8_t extra;
  c->timeout_ms = ms;
  return shmb__read_all(c, &extra, 1) == SHMB_EDISCONNECTED ? "closed"
                                                            : "open";
}

static int idle(const char *pipe, const char *ms) {
  shmb_client c;
  if (raw_connect(pipe, &c) != 0)
    return 1;
  printf("%s\n", hangs_up_within(&c, (unsigned)strtoul(ms, NULL, 10)));
  CloseHandle(c.pipe);
  return 0;
}

static int frame(const char *pipe, const char *kind) {
  shmb_client c;
  uint8_t f[128], hdrbuf[SHMB_HEADER_SIZE], body[1024];
  shmb_frame_header hdr;
  int one, rc = 0;
  size_t len = craft(kind, f, sizeof(f), &one);

  if (len == 0) {
    fprintf(stderr, "shmbtest: unknown frame kind '%s'\n", kind);
    return 2;
  }
  if (raw_connect(pipe, &c) != 0)
    return 1;
  for (size_t i = 0; i < len && rc == 0; i += one ? 1 : len)
    rc = shmb__write_all(&c, f + i, one ? 1 : len);
  if (rc == 0)
    rc = shmb__read_all(&c, hdrbuf, sizeof(hdrbuf));
  if (rc == 0 && shmb_frame_peek(hdrbuf, sizeof(hdrbuf), sizeof(body), &hdr) < 0)
    rc = SHMB_EPROTO;
  if (rc == 0)
    rc = shmb__read_all(&c, body, hdr.length);
  if (rc != 0) {
    printf("io %s\n", shmb_err_name(rc));
    return 1;
  }
  rc = shmb_reply_status_code(body, hdr.length, NULL, 0);
  /* After an error the service must hang up: a further read sees the end. */
  printf("%s %s\n", rc == 0 ? "ok" : shmb_err_name(rc),
         hangs_up_within(&c, 2000));
  CloseHandle(c.pipe);
  return 0;
}

static int hold(const char *pipe, const char *name, const char *file) {
  shmb_connect_options opts = {pipe, NULL, 5000};
  shmb_client *c;
  shmb_section *sec;
  char text[65];
  int rc;

  if ((rc = shmb_connect(&opts, &c)) != 0 ||
      (rc = shmb_open(c, name, SHMB_ACCESS_READ, &sec)) != 0) {
    printf("error %s\n", shmb_err_name(rc));
    return 1;
  }
  shmb_disconnect(c);
  printf("mapped\n");
  fflush(stdout);
  while (GetFileAttributesA(file) == INVALID_FILE_ATTRIBUTES)
    Sleep(50);
  snprintf(text, sizeof(text), "%.*s", (int)sizeof(text) - 1,
           (const char *)shmb_section_data(sec));
  printf("%s\n", text);
  shmb_close(sec);
  return 0;
}

static int paramchange(const char *service) {
  wchar_t *w = shmb__wide_from_utf8(service);
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc = NULL;
  SERVICE_STATUS st;
  if (scm)
    svc = OpenServiceW(scm, w, SERVICE_PAUSE_CONTINUE);
  free(w);
  if (!svc || !ControlService(svc, SERVICE_CONTROL_PARAMCHANGE, &st))
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
  if (argc == 4 && strcmp(argv[1], "frame") == 0)
    return frame(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "idle") == 0)
    return idle(argv[2], argv[3]);
  if (argc == 5 && strcmp(argv[1], "hold") == 0)
    return hold(argv[2], argv[3], argv[4]);
  if (argc == 3 && strcmp(argv[1], "paramchange") == 0)
    return paramchange(argv[2]);
  if (argc == 3 && strcmp(argv[1], "writefile") == 0)
    return writefile(argv[2]);
  if (argc == 4 && strcmp(argv[1], "rename") == 0)
    return rename_file(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "setsddl") == 0)
    return setsddl(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "getsddl") == 0)
    return getsddl(argv[2]);
  fprintf(stderr, "usage: shmbtest whoami | map OBJECT read|write | frame "
                  "PIPE KIND | idle PIPE MS | hold PIPE NAME FILE | "
                  "paramchange SERVICE | writefile PATH | rename PATH NEW | "
                  "setsddl PATH SDDL | getsddl PATH\n");
  return 2;
}
