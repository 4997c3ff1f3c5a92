/*
 * Mapping a granted section. The broker's answer is only a name and a
 * promise; the kernel has the last word when OpenFileMappingW checks the
 * section's descriptor against our token, so a refusal there is reported as
 * SHMB_EACCES like the broker's own.
 */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "transport.h"
#include "wstr.h"

struct shmb_section {
  HANDLE mapping;
  void *view;
  uint64_t size;
  unsigned access;
  char name[65];
  char object[257];
};

int shmb_open(shmb_client *client, const char *name, unsigned int access,
              shmb_section **out) {
  shmb_open_info info;
  shmb_section *s;
  wchar_t *wobject;
  DWORD rights, e;
  int rc;

  if (!out)
    return SHMB_EINVAL;
  *out = NULL;
  if ((rc = shmb_lookup(client, name, access, &info)) != 0)
    return rc;
  if (info.size > (uint64_t)SIZE_MAX)
    return SHMB_ERANGE;
  if (!(s = calloc(1, sizeof(*s))))
    return SHMB_ENOMEM;
  if (!(wobject = shmb__wide_from_utf8(info.object))) {
    free(s);
    return SHMB_EPROTO;
  }
  rights = (info.access & SHMB_ACCESS_WRITE) ? FILE_MAP_READ | FILE_MAP_WRITE
                                             : FILE_MAP_READ;
  s->mapping = OpenFileMappingW(rights, FALSE, wobject);
  e = GetLastError();
  free(wobject);
  if (!s->mapping) {
    free(s);
    return shmb__from_win32(e);
  }
  s->view = MapViewOfFile(s->mapping,
                          (info.access & SHMB_ACCESS_WRITE) ? FILE_MAP_WRITE
                                                            : FILE_MAP_READ,
                          0, 0, (SIZE_T)info.size);
  if (!s->view) {
    e = GetLastError();
    CloseHandle(s->mapping);
    free(s);
    return shmb__from_win32(e);
  }
  s->size = info.size;
  s->access = info.access;
  strcpy(s->name, info.name);
  strcpy(s->object, info.object);
  *out = s;
  return 0;
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

void shmb_close(shmb_section *section) {
  if (!section)
    return;
  UnmapViewOfFile(section->view);
  CloseHandle(section->mapping);
  free(section);
}
