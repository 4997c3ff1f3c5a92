/*
 * example.c - the shmbroker SDK in one program: connect to the service, list
 * the sections this account may open, map one read-only and print its size
 * and first bytes.
 *
 *   example [SECTION]      (default: the first section listed)
 *
 * Exit codes: 0 done; 1 the service said no, or there is nothing to open;
 * 2 the service could not be reached (not running, not the expected
 * account, went away or timed out).
 *
 * Build it against the installed SDK with examples/consumer (CMake's
 * find_package or pkg-config).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <shmbroker.h>

/* Prints what failed and returns the exit code for it. Transport errors
 * mean "could not talk to the service"; anything else is the service's
 * answer, sometimes with a message of its own. */
static int report(const char *what, int err, const shmb_client *client) {
  /* With a NULL client: why the last shmb_connect on this thread failed
   * (which pipe, how long, which account was expected and found). */
  const char *msg = shmb_last_message(client);
  fprintf(stderr, "example: %s: %s (%s)%s%s\n", what, shmb_strerror(err),
          shmb_err_name(err), *msg ? ": " : "", msg);
  if (shmb_err_is_transport(err)) {
    /* A client whose service went away stays broken: disconnect it and
     * connect again (after the service is back). Mapped sections stay
     * valid meanwhile. */
    fprintf(stderr, "example: is the service running? Installed: `sc query "
                    "shmbroker`. In console mode: is `shmbrokerd --console` "
                    "running, and SHMBROKER_SERVER_SID set to its account "
                    "(`shmbctl whoami` prints it)?\n");
    return 2;
  }
  return 1;
}

/* Prints the list and picks the section to open: the one named on the
 * command line, else the first listed ("" when there is none). */
static void pick(const shmb_section_info *list, size_t count, int argc,
                 char **argv, char *name, size_t namelen) {
  size_t i;
  for (i = 0; i < count; i++)
    printf("  %-24s %12" PRIu64 " bytes  %s\n", list[i].name, list[i].size,
           (list[i].access & SHMB_ACCESS_WRITE) ? "read-write" : "read");
  if (argc > 1)
    snprintf(name, namelen, "%s", argv[1]);
  else if (count > 0)
    snprintf(name, namelen, "%s", list[0].name);
  else
    name[0] = '\0';
}

/* The section's size, object name and first bytes. */
static void show(const shmb_section *section) {
  const unsigned char *bytes = shmb_section_data(section);
  size_t i, shown = shmb_section_size(section) < 16
                        ? (size_t)shmb_section_size(section)
                        : 16;
  printf("section %s: %" PRIu64 " bytes, object %s\n",
         shmb_section_name(section), shmb_section_size(section),
         shmb_section_object(section));
  printf("first %u bytes:", (unsigned)shown);
  for (i = 0; i < shown; i++)
    printf(" %02x", bytes[i]);
  printf("  \"");
  for (i = 0; i < shown; i++)
    putchar(bytes[i] >= 0x20 && bytes[i] < 0x7f ? bytes[i] : '.');
  printf("\"\n");
}

int main(int argc, char **argv) {
  shmb_client *client;
  shmb_section_info *list;
  shmb_section *section;
  char name[sizeof(list->name)];
  size_t count;
  int rc;

  printf("shmbroker SDK %s\n", shmb_version_string());

  /* NULL options: the default pipe; the server must run as LocalSystem, or
   * as the SID in the SHMBROKER_SERVER_SID environment variable. */
  if ((rc = shmb_connect(NULL, &client)) != 0)
    return report("connect", rc, NULL);

  /* The list is ours to free. */
  if ((rc = shmb_list(client, &list, &count)) != 0) {
    rc = report("list", rc, client);
    shmb_disconnect(client);
    return rc;
  }
  pick(list, count, argc, argv, name, sizeof(name));
  shmb_free_list(list);
  if (name[0] == '\0') {
    fprintf(stderr, "example: no section to open\n");
    shmb_disconnect(client);
    return 1;
  }

  /* The broker checks our token, the kernel checks the section's
   * descriptor; either may refuse (SHMB_EACCES), or the name may be
   * unknown (SHMB_ENOENT). */
  if ((rc = shmb_open(client, name, SHMB_ACCESS_READ, &section)) != 0) {
    rc = report(name, rc, client);
    shmb_disconnect(client);
    return rc;
  }
  /* The mapping does not need the connection. */
  shmb_disconnect(client);

  show(section);
  shmb_close(section);
  return 0;
}
