/*
 * Mapping a granted section. The broker's answer is only a name and a
 * promise; the kernel has the last word when OpenFileMappingW checks the
 * section's descriptor against our token, so a refusal there is reported as
 * SHMB_EACCES like the broker's own. The name is checked before the open
 * (client.c); after it, the object must be owned by the server account,
 * or someone else made it under that name between the reply and the open;
 * and the size the server promised must be the size the kernel maps.
 *
 * A section delivered by handle has no name: the service duplicated a
 * handle into this process and the reply carries its value and the pid of
 * the process it went into. The value is used only when that pid is ours
 * (a reply read from a pipe that another process connected names a handle
 * of that process, and the same value here may be one of our own), it is a
 * section handle with exactly the rights the service gives, and the
 * object is owned by the server account, as by name.
 */
#include <aclapi.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "errors.h"
#include "section.h"
#include "transport.h"
#include "trust.h"
#include "wstr.h"


/* The object behind h is owned by expected: the service makes every
 * section with its own account as owner, and only that account (or an
 * administrator) can give an object that owner. Needs READ_CONTROL on h.
 * named: h was opened by name here (and is closed on refusal); else the
 * service delivered it (and it is left open: it may be ours). */
int shmb__object_owner_check(HANDLE h, PSID expected, const char *object,
                             int named, char *err, size_t errlen) {
  char want[SHMB_ACCOUNT_TEXT_MAX], found[SHMB_ACCOUNT_TEXT_MAX];
  const char *fate = named ? "closed without mapping"
                           : "not mapped, and left open (it may be one of "
                             "this program's own handles)";
  shmb_owner_buf buf;
  PSID owner;
  DWORD e = shmb__object_owner(h, &buf, &owner);

  if (e == ERROR_SUCCESS && EqualSid(owner, expected))
    return 0;
  /* Accounts are looked up (slow) only to explain a refusal. */
  shmb__sid_describe(expected, want, sizeof(want));
  if (e != ERROR_SUCCESS)
    return shmb__fail(err, errlen, SHMB_EBADSERVER,
                      "cannot read the owner of object %s (Win32 error "
                      "%lu), so it cannot be proven to be the service's "
                      "(owned by %s); %s", object, (unsigned long)e, want,
                      fate);
  shmb__sid_describe(owner, found, sizeof(found));
  return shmb__fail(err, errlen, SHMB_EBADSERVER,
                    "object %s is owned by %s, not by the server account "
                    "%s: %s; %s", object, found, want,
                    named ? "someone else made it under the name the server "
                            "gave"
                          : "the server's reply names a handle to an object "
                            "that is not the service's",
                    fate);
}

/* ntdll's object queries, looked up once (no import library needed). */
typedef LONG(NTAPI *query_object_fn)(HANDLE, int, void *, ULONG, ULONG *);
typedef struct basic_info {
  ULONG attributes;
  ACCESS_MASK granted;
  ULONG handles, pointers, reserved[10];
} basic_info;
typedef struct type_info {
  USHORT len, max;
  WCHAR *name;
} type_info;

static query_object_fn query_object(void) {
  static query_object_fn fn;
  if (!fn)
    fn = (query_object_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
  return fn;
}

int shmb__handle_check(uint64_t value, uint32_t pid, unsigned wire_access,
                       HANDLE *h, char *err, size_t errlen) {
  const ACCESS_MASK want = SECTION_QUERY | FILE_MAP_READ | READ_CONTROL |
                           (wire_access & SHMB_ACCESS_WRITE ? FILE_MAP_WRITE
                                                            : 0);
  *h = NULL;
  /* The value is a handle of the process the service put it in: any other
   * process that reads the reply (from a pipe passed to it or shared) may
   * hold a handle of its own at that value, which is not the service's. */
  if (pid != GetCurrentProcessId())
    return shmb__fail(err, errlen, SHMB_EBADSERVER, "the server delivered "
                      "handle 0x%llx into process %lu, not into this one "
                      "(%lu): this process reads a pipe that another "
                      "process connected (passed on or inherited); the "
                      "value is not ours and was left alone. Connect from "
                      "this process with shmb_connect",
                      (unsigned long long)value, (unsigned long)pid,
                      (unsigned long)GetCurrentProcessId());
  return shmb__handle_check_kind(value, L"Section", want, h, err, errlen);
}

int shmb__handle_check_kind(uint64_t value, const wchar_t *kind,
                            unsigned long want, HANDLE *h, char *err,
                            size_t errlen) {
  const size_t kind_bytes = wcslen(kind) * sizeof(wchar_t);
  query_object_fn q = query_object();
  HANDLE cand = (HANDLE)(uintptr_t)value;
  union {
    type_info t;
    BYTE bytes[1024];
  } type;
  basic_info basic;
  ULONG got;

  *h = NULL;
  if ((uint64_t)(uintptr_t)cand != value || !q)
    return shmb__fail(err, errlen, SHMB_EBADSERVER, "the server's handle "
                      "value 0x%llx cannot be a handle here",
                      (unsigned long long)value);
  if (q(cand, 2 /* ObjectTypeInformation */, &type, sizeof(type), &got) != 0 ||
      type.t.len != kind_bytes || memcmp(type.t.name, kind, kind_bytes) != 0)
    return shmb__fail(err, errlen, SHMB_EBADSERVER, "the server's handle "
                      "0x%llx is not %s handle of this process: the "
                      "service delivers only into the process that "
                      "connected (was the pipe passed on?)",
                      (unsigned long long)value,
                      kind[0] == L'E' ? "an event" : "a section");
  if (q(cand, 0 /* ObjectBasicInformation */, &basic, sizeof(basic),
        &got) != 0 ||
      basic.granted != want)
    return shmb__fail(err, errlen, SHMB_EBADSERVER, "the server's handle "
                      "0x%llx has rights 0x%lx, not the 0x%lx of the grant; "
                      "left alone", (unsigned long long)value,
                      (unsigned long)basic.granted, (unsigned long)want);
  *h = cand;
  return 0;
}

/* OpenFileMappingW with the granted rights and READ_CONTROL (to read the
 * owner). When only READ_CONTROL is refused, say so: the owner cannot be
 * checked, and that is a refusal too. */
static int open_mapping(shmb_client *c, const wchar_t *wobject,
                        const char *object, int writable, HANDLE *out) {
  DWORD rights = writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ;
  HANDLE probe;
  DWORD e;

  if ((*out = OpenFileMappingW(rights | READ_CONTROL, FALSE, wobject)))
    return 0;
  if ((e = GetLastError()) != ERROR_ACCESS_DENIED ||
      !(probe = OpenFileMappingW(rights, FALSE, wobject)))
    return shmb__from_win32(e);
  CloseHandle(probe);
  return shmb__fail(c->message, sizeof(c->message), SHMB_EBADSERVER,
                    "object %s does not let this account read its owner "
                    "(READ_CONTROL), so it cannot be proven to be the "
                    "service's; the service grants READ_CONTROL with every "
                    "grant. Nothing was mapped", object);
}

/* A section delivered by name: opened, and proven the server's. */
static int open_named(shmb_client *client, const shmb_open_info *info,
                      int writable, HANDLE *mapping) {
  wchar_t *wobject = shmb__wide_from_utf8(info->object);
  int rc;
  if (!wobject)
    return SHMB_EPROTO;
  rc = open_mapping(client, wobject, info->object, writable, mapping);
  free(wobject);
  if (rc != 0)
    return rc;
  if ((rc = shmb__object_owner_check(*mapping, client->server_sid,
                                     info->object, 1, client->message,
                                     sizeof(client->message))) != 0) {
    CloseHandle(*mapping);
    *mapping = NULL;
  }
  return rc;
}

/* The bytes mapped at view: its region, whole pages of one allocation. */
static uint64_t view_bytes(void *view) {
  MEMORY_BASIC_INFORMATION mb;
  uint64_t total = 0;
  char *p = view;
  while (VirtualQuery(p, &mb, sizeof(mb)) == sizeof(mb) &&
         mb.AllocationBase == view && mb.RegionSize > 0) {
    total += mb.RegionSize;
    p += mb.RegionSize;
  }
  return total;
}

/* What the doorbell needs to connect again (notify.c). */
static int keep_options(shmb_section *s, const shmb_client *c) {
  if ((c->pipe_name && !(s->pipe_name = _strdup(c->pipe_name))) ||
      (c->server && !(s->server = _strdup(c->server)))) {
    free(s->pipe_name);
    return SHMB_ENOMEM;
  }
  s->opts.pipe_name = s->pipe_name;
  s->opts.server_sid = s->server;
  s->opts.timeout_ms = c->timeout_ms;
  return 0;
}

int shmb_open(shmb_client *client, const char *name, unsigned int access,
              shmb_section **out) {
  return shmb__open_kind(client, name, access, out, NULL);
}

int shmb__open_kind(shmb_client *client, const char *name, unsigned int access,
                    shmb_section **out, unsigned *kind) {
  shmb_open_info info;
  shmb_section *s;
  SYSTEM_INFO si;
  HANDLE delivered;
  int writable, rc;

  if (!out)
    return SHMB_EINVAL;
  *out = NULL;
  rc = shmb__lookup_handle(client, name, access, &info, NULL, &delivered);
  if (rc != 0)
    return rc;
  rc = info.size > (uint64_t)SIZE_MAX ? SHMB_ERANGE
       : !client->server_sid          ? SHMB_EDISCONNECTED
                                      : 0;
  if (rc != 0 || !(s = calloc(1, sizeof(*s)))) {
    if (delivered)
      CloseHandle(delivered);
    return rc != 0 ? rc : SHMB_ENOMEM;
  }
  writable = (info.access & SHMB_ACCESS_WRITE) != 0;
  /* By handle: it came from the service itself, with the grant's rights
   * and no name anyone could have made first. */
  if (delivered)
    s->mapping = delivered;
  else if ((rc = open_named(client, &info, writable, &s->mapping)) != 0)
    goto out_free_section;
  /* All of it, whatever the reply said: the kernel's size is checked
   * against the promise below, never trusted from the reply. */
  s->view = MapViewOfFile(s->mapping, writable ? FILE_MAP_WRITE : FILE_MAP_READ,
                          0, 0, 0);
  if (!s->view) {
    rc = shmb__from_win32(GetLastError());
    goto out_close_mapping;
  }
  GetSystemInfo(&si);
  if ((rc = shmb__size_check(info.size, view_bytes(s->view), si.dwPageSize,
                             client->message, sizeof(client->message))) != 0)
    goto out_unmap;
  if ((rc = keep_options(s, client)) != 0)
    goto out_unmap;
  s->size = info.size;
  s->access = info.access;
  if (kind)
    *kind = info.kind;
  strcpy(s->name, info.name);
  strcpy(s->object, info.object);
  *out = s;
  return 0;

out_unmap:
  UnmapViewOfFile(s->view);
out_close_mapping:
  CloseHandle(s->mapping);
out_free_section:
  free(s);
  return rc;
}

void *shmb_section_data(const shmb_section *section) { return section->view; }
uint64_t shmb_section_size(const shmb_section *section) {
  return section->size;
}
unsigned int shmb_section_access(const shmb_section *section) {
  return section->access;
}
const char *shmb_section_name(const shmb_section *section) {
  return section->name;
}
const char *shmb_section_object(const shmb_section *section) {
  return section->object;
}

int shmb_section_flush(shmb_section *section) {
  if (!section)
    return SHMB_EINVAL;
  if (!FlushViewOfFile(section->view, 0))
    return shmb__from_win32(GetLastError());
  return 0;
}

/* By handle there is no name to compare: whether the handle the service
 * gives now is to the object mapped (1) or another (0); fresh is closed.
 * Without CompareObjectHandles (before Windows 10) it cannot be told. */
int shmb__same_object(HANDLE fresh, HANDLE mapped) {
  typedef BOOL(WINAPI * compare_fn)(HANDLE, HANDLE);
  compare_fn compare = (compare_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"kernelbase.dll"), "CompareObjectHandles");
  int same;
  if (!fresh)
    return 0; /* now delivered by name: not the object we hold */
  same = compare ? compare(fresh, mapped) != 0 : SHMB_ESYSTEM;
  CloseHandle(fresh);
  return same;
}

/* Whether asking again is worth a new connection: the old one is gone, or
 * unusable after a malformed frame. */
static int connection_lost(int rc) {
  return shmb_err_is_transport(rc) || rc == SHMB_EPROTO ||
         rc == SHMB_ESHUTDOWN;
}

int shmb_section_is_current(shmb_client *client, const shmb_section *section) {
  shmb_open_info info;
  HANDLE fresh;
  int rc;

  if (!client || !section)
    return SHMB_EINVAL;
  /* The same OPEN the section came from, so the same answer while the
   * service runs; a restart makes a new object under a new name. */
  rc = shmb__lookup_handle(client, section->name, section->access, &info,
                           NULL, &fresh);
  if (connection_lost(rc) && (rc = shmb__reconnect(client)) == 0)
    rc = shmb__lookup_handle(client, section->name, section->access, &info,
                             NULL, &fresh);
  if (rc == SHMB_ENOENT)
    return 0; /* removed by a reload or a restart: nobody new gets it */
  if (rc != 0)
    return rc;
  if (fresh || section->object[0] == '\0')
    return shmb__same_object(fresh, section->mapping);
  return strcmp(info.object, section->object) == 0;
}

void shmb_close(shmb_section *section) {
  if (!section)
    return;
  shmb__section_bell_close(section);
  free(section->pipe_name);
  free(section->server);
  UnmapViewOfFile(section->view);
  CloseHandle(section->mapping);
  free(section);
}
