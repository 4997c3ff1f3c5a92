/*
 * Compiled, never run, by the sdk.header_* tests: shmbroker.h must build
 * as strict C89 and C++98 (no compiler extensions), for the DLL
 * (SHMB_SHARED) and the static library alike. Using every declaration
 * proves that the types are complete and the prototypes are callable.
 */
#include <shmbroker.h>

int header_use(void);

int header_use(void) {
  shmb_connect_options opts = {0, 0, 0};
  shmb_client *client = 0;
  shmb_section *section = 0;
  shmb_section_info *list = 0;
  shmb_open_info info;
  shmb_status_entry *status = 0;
  size_t count = 0;
  uint64_t size = 0;
  int rc = shmb_connect(&opts, &client);
  shmb_errno e = SHMB_EACCES;

  if (rc == SHMB_OK && shmb_list(client, &list, &count) == 0)
    shmb_free_list(list);
  rc = shmb_lookup(client, "name", SHMB_ACCESS_READ, &info);
  rc = shmb_open(client, "name", SHMB_ACCESS_READ_WRITE, &section);
  if (rc == 0) {
    size = shmb_section_size(section);
    rc = shmb_section_flush(section) + (int)shmb_section_access(section) +
         (shmb_section_data(section) != 0) +
         (shmb_section_name(section)[0] != 0) +
         (shmb_section_object(section)[0] != 0);
    shmb_close(section);
  }
  if (shmb_status(client, &status, &count) == 0)
    shmb_free_status(status, count);
  rc += shmb_reload(client) + (shmb_last_message(client)[0] != 0);
  shmb_disconnect(client);
  rc += shmb_err_is_transport(e) + (shmb_strerror(rc)[0] != 0) +
        (shmb_err_name(rc)[0] != 0) + (shmb_version_string()[0] != 0);
  return rc + (int)(size & 1u) + SHMB_VERSION_MAJOR;
}
