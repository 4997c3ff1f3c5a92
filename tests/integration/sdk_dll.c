/*
 * Drives the public SDK through the DLL (libshmbroker.dll), as an
 * application would: connect, list, map a section read-write and fill it,
 * map it again read-only in a second client and check the bytes, and get
 * the service's refusals as the documented codes; a mapping stays readable
 * after its client disconnected. Prints one line per check
 * and "sdk ok" at the end; any mismatch exits 1 with what was seen.
 *
 *   sdk_dll PIPE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmbroker.h"

static int failures;

static void expect(int cond, const char *what, int rc) {
  printf("%s: %s (rc %s)\n", cond ? "ok" : "FAIL", what, shmb_err_name(rc));
  if (!cond)
    failures++;
}

int main(int argc, char **argv) {
  shmb_connect_options opts = {NULL, NULL, 5000};
  shmb_client *writer, *reader;
  shmb_section *w, *r, *denied = NULL;
  shmb_section_info *list;
  size_t n;
  int rc, found = 0;

  if (argc != 2) {
    fprintf(stderr, "usage: sdk_dll PIPE\n");
    return 2;
  }
  opts.pipe_name = argv[1];
  rc = shmb_connect(&opts, &writer);
  expect(rc == 0, "connect", rc);
  if (rc != 0)
    return 1;
  rc = shmb_list(writer, &list, &n);
  expect(rc == 0, "list", rc);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (strcmp(list[i].name, "readwrite") == 0 &&
        list[i].access == SHMB_ACCESS_READ_WRITE && list[i].size == 1048576)
      found = 1;
  if (rc == 0)
    shmb_free_list(list);
  expect(found, "list has readwrite, 1 MiB, read,write", rc);

  rc = shmb_open(writer, "readwrite", SHMB_ACCESS_READ_WRITE, &w);
  expect(rc == 0 && shmb_section_size(w) == 1048576 &&
             shmb_section_access(w) == SHMB_ACCESS_READ_WRITE,
         "open readwrite for writing", rc);
  if (rc != 0)
    return 1;
  for (size_t i = 0; i < 1048576; i++)
    ((unsigned char *)shmb_section_data(w))[i] = (unsigned char)(i * 7 + 3);
  /* The mapping outlives the connection that made it: still readable and
   * writable after shmb_disconnect. */
  shmb_disconnect(writer);
  {
    unsigned char *p = shmb_section_data(w);
    size_t bad = 0;
    for (size_t i = 0; i < 1048576; i++)
      bad += p[i] != (unsigned char)(i * 7 + 3);
    ((volatile unsigned char *)p)[0] = 3; /* faults if the view went */
    expect(bad == 0 && shmb_section_size(w) == 1048576,
           "the view reads every byte after shmb_disconnect", 0);
  }

  rc = shmb_connect(&opts, &reader);
  expect(rc == 0, "second client connects", rc);
  if (rc != 0)
    return 1;
  rc = shmb_open(reader, "readwrite", SHMB_ACCESS_READ, &r);
  expect(rc == 0, "open readwrite for reading", rc);
  if (rc == 0) {
    const unsigned char *p = shmb_section_data(r);
    size_t bad = 0;
    for (size_t i = 0; i < 1048576; i++)
      bad += p[i] != (unsigned char)(i * 7 + 3);
    expect(bad == 0, "the second mapping sees every byte of the first", rc);
    shmb_close(r);
  }
  shmb_close(w);

  rc = shmb_open(reader, "readonly", SHMB_ACCESS_WRITE, &denied);
  expect(rc == SHMB_EACCES && denied == NULL && !shmb_err_is_transport(rc),
         "write on a read-only grant is SHMB_EACCES", rc);
  rc = shmb_open(reader, "sysonly", SHMB_ACCESS_READ, &denied);
  expect(rc == SHMB_EACCES, "a SYSTEM-only section is SHMB_EACCES", rc);
  rc = shmb_open(reader, "no-such", SHMB_ACCESS_READ, &denied);
  expect(rc == SHMB_ENOENT, "an unknown section is SHMB_ENOENT", rc);
  rc = shmb_open(reader, "bad/name", SHMB_ACCESS_READ, &denied);
  expect(rc == SHMB_EBADNAME, "an invalid name is SHMB_EBADNAME", rc);
  rc = shmb_open(reader, "readonly", 0, &denied);
  expect(rc == SHMB_EINVAL, "no access bits is SHMB_EINVAL", rc);
  shmb_disconnect(reader);

  opts.server_sid = "S-1-5-18";
  rc = shmb_connect(&opts, &reader);
  expect(rc == SHMB_EBADSERVER && shmb_err_is_transport(rc),
         "a server that is not LocalSystem is SHMB_EBADSERVER", rc);

  if (failures)
    return 1;
  printf("sdk ok\n");
  return 0;
}
