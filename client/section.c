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
  int writable, rc;

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
    rc = SHMB_EPROTO;
    goto out_free_section;
  }
  writable = (info.access & SHMB_ACCESS_WRITE) != 0;
  s->mapping = OpenFileMappingW(writable ? FILE_MAP_READ | FILE_MAP_WRITE
                                         : FILE_MAP_READ,
                                FALSE, wobject);
  rc = s->mapping ? 0 : shmb__from_win32(GetLastError());
  free(wobject);
  if (rc != 0)
    goto out_free_section;
  s->view = MapViewOfFile(s->mapping, writable ? FILE_MAP_WRITE : FILE_MAP_READ,
                          0, 0, (SIZE_T)info.size);
  if (!s->view) {
    rc = shmb__from_win32(GetLastError());
    goto out_close_mapping;
  }
  s->size = info.size;
  s->access = info.access;
  strcpy(s->name, info.name);
  strcpy(s->object, info.object);
  *out = s;
  return 0;

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

/* Whether asking again is worth a new connection: the old one is gone, or
 * unusable after a malformed frame. */
static int connection_lost(int rc) {
  return shmb_err_is_transport(rc) || rc == SHMB_EPROTO ||
         rc == SHMB_ESHUTDOWN;
}

int shmb_section_is_current(shmb_client *client, const shmb_section *section) {
  shmb_open_info info;
  int rc;

  if (!client || !section)
    return SHMB_EINVAL;
  /* The same OPEN the section came from, so the same answer while the
   * service runs; a restart makes a new object under a new name. */
  rc = shmb_lookup(client, section->name, section->access, &info);
  if (connection_lost(rc) && (rc = shmb__reconnect(client)) == 0)
    rc = shmb_lookup(client, section->name, section->access, &info);
  if (rc == SHMB_ENOENT)
    return 0; /* removed by a reload or a restart: nobody new gets it */
  if (rc != 0)
    return rc;
  return strcmp(info.object, section->object) == 0;
}

void shmb_close(shmb_section *section) {
  if (!section)
    return;
  UnmapViewOfFile(section->view);
  CloseHandle(section->mapping);
  free(section);
}
