/*
 * shmbctl: the command-line client, for administrators and scripts. Apart
 * from naming accounts (whoami, --server-sid) and rights, it uses only the
 * public SDK, so everything it can do, an application can too. Commands
 * come from one table (name, handler, usage); the usage text and the
 * argument checks are both made from it.
 *
 * Exit codes (stable, scripts rely on them): 0 success, 1 other error,
 * 2 usage, 3 access denied, 4 no such section, 5 service unreachable or not
 * the expected server (also a server whose answers the SDK refuses), 6 a
 * wait that timed out (wait, send, recv).
 *
 * Text that came from the server is printed escaped (shmb__sanitise): a
 * server cannot put terminal controls on an administrator's screen.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "protocol.h" /* shmb__access_name */
#include "ring.h"     /* info: a channel's geometry from its header */
#include "shmbroker.h"
#include "transport.h" /* shmb__lookup_flags */
#include "trust.h"    /* shmb__sanitise, shmb__pipe_name_check */

enum { EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_DENIED, EXIT_NOENT, EXIT_UNREACH,
       EXIT_TIMEOUT };

typedef struct cli {
  shmb_connect_options opts;
  const struct command *command;
  const char *section;
  uint64_t offset, length, wait_ms, count;
  int have_offset, have_length, have_wait, have_count;
} cli;

/* What a command takes besides its name. */
enum {
  ARG_SECTION = 1u << 0, /* NAME */
  ARG_OFFSET = 1u << 1,  /* --offset N */
  ARG_LENGTH = 1u << 2,  /* --length N */
  NO_SERVICE = 1u << 3,  /* runs without connecting */
  ARG_WAIT = 1u << 4,    /* --timeout MS after NAME: how long to wait */
  ARG_COUNT = 1u << 5    /* --count N: how many messages */
};

typedef struct command {
  const char *name;
  int (*run)(shmb_client *c, const cli *a); /* c is NULL with NO_SERVICE */
  unsigned args;
  const char *usage; /* arguments after the name */
  const char *help;
} command;

static int exit_code(int err) {
  switch (err) {
  case 0:
    return EXIT_OK;
  case SHMB_EACCES:
    return EXIT_DENIED;
  case SHMB_ENOENT:
    return EXIT_NOENT;
  case SHMB_EUNREACHABLE:
  case SHMB_EBADSERVER:
  case SHMB_EDISCONNECTED:
  case SHMB_ETIMEDOUT:
  case SHMB_EBUSY:
    return EXIT_UNREACH;
  default:
    return EXIT_ERROR;
  }
}

/* Prints text that came from the server, its control bytes escaped. */
static void put_text(FILE *to, const char *text) {
  size_t len = strlen(text);
  char *safe = malloc(SHMB_SANITISED_MAX(len));
  if (!safe)
    return;
  shmb__sanitise(text, len, safe, SHMB_SANITISED_MAX(len));
  fputs(safe, to);
  free(safe);
}

/* The SDK's code and, when there is one, its explanation (the service's
 * reason, or which pipe, account and timeout a connection failed on). */
static int fail(const shmb_client *c, int err, const char *what) {
  const char *msg = shmb_last_message(c);
  fprintf(stderr, "shmbctl: ");
  put_text(stderr, what);
  fprintf(stderr, ": %s", shmb_strerror(err));
  if (*msg && strcmp(msg, shmb_strerror(err)) != 0) {
    fputs(" (", stderr);
    put_text(stderr, msg);
    fputc(')', stderr);
  }
  fputc('\n', stderr);
  return exit_code(err);
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v;
  if (!(*s >= '0' && *s <= '9'))
    return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || *end)
    return -1;
  *out = v;
  return 0;
}

/* What a section is, in one word and its extras: "section",
 * "section+notify", "queue", "broadcast" (a channel always has a
 * doorbell), "+handle" when it is delivered by handle. */
static const char *kind_text(unsigned kind, char *buf, size_t len) {
  const char *what = kind & SHMB_KIND_QUEUE       ? "queue"
                     : kind & SHMB_KIND_BROADCAST ? "broadcast"
                     : kind & SHMB_KIND_NOTIFY    ? "section+notify"
                                                  : "section";
  snprintf(buf, len, "%s%s", what, kind & SHMB_KIND_HANDLE ? "+handle" : "");
  return buf;
}

static int cmd_list(shmb_client *c, const cli *a) {
  shmb_section_info *v;
  size_t n;
  char kind[32];
  int rc = shmb_list(c, &v, &n);
  (void)a;
  if (rc != 0)
    return fail(c, rc, "list");
  for (size_t i = 0; i < n; i++) /* names: A-Z a-z 0-9 . _ - (decoder) */
    printf("%-32s %14" PRIu64 " %-10s %s\n", v[i].name, v[i].size,
           shmb__access_name(v[i].access),
           kind_text(v[i].kind, kind, sizeof(kind)));
  shmb_free_list(v);
  return EXIT_OK;
}

/* The most the caller may have, as LIST reports it, so that asking does
 * not leave a refusal in the service's log; a section missing from the list
 * is asked for read, which gets the service's own answer. */
static int best_lookup(shmb_client *c, const char *name, shmb_open_info *info,
                       unsigned *flags) {
  shmb_section_info *v;
  size_t n;
  unsigned access = SHMB_ACCESS_READ;
  int rc = shmb_list(c, &v, &n);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].name, name) == 0)
      access = v[i].access;
  shmb_free_list(v);
  return shmb__lookup_flags(c, name, access, info, flags);
}

/* A channel's geometry, from its ring header as any receiver checks it
 * (read access is all this needs). */
static int print_ring(shmb_client *c, const char *name, unsigned kind) {
  shmb_section *s;
  shmb_ring r;
  int rc = shmb_open(c, name, SHMB_ACCESS_READ, &s);
  if (rc != 0)
    return fail(c, rc, name);
  rc = shmb_ring_attach(&r, shmb_section_data(s),
                        (size_t)shmb_section_size(s),
                        kind & SHMB_KIND_QUEUE ? SHMB_RING_QUEUE
                                               : SHMB_RING_BROADCAST, 1);
  shmb_close(s);
  if (rc != 0) {
    fprintf(stderr, "shmbctl: %s: its ring header is not one the service "
            "wrote: %s\n", name, shmb_strerror(rc));
    return exit_code(rc);
  }
  printf("slots=%u\nslot_size=%u\n", (unsigned)r.slots,
         (unsigned)r.slot_size);
  return EXIT_OK;
}

static int cmd_info(shmb_client *c, const cli *a) {
  shmb_open_info info;
  unsigned flags = 0;
  char kind[32];
  int rc = best_lookup(c, a->section, &info, &flags);
  if (rc != 0)
    return fail(c, rc, a->section);
  /* The object name has the service's form (the SDK checked it); a
   * section delivered by handle has none, so no object= line. */
  printf("name=%s\n", info.name);
  if (flags & SHMB_OPEN_FLAG_HANDLE)
    printf("delivery=handle\n");
  else
    printf("object=%s\ndelivery=name\n", info.object);
  printf("size=%" PRIu64 "\naccess=%s\nnotify=%s\nkind=%s\n", info.size,
         shmb__access_name(info.access),
         flags & SHMB_OPEN_FLAG_NOTIFY ? "yes" : "no",
         kind_text(info.kind, kind, sizeof(kind)));
  if (info.kind & (SHMB_KIND_QUEUE | SHMB_KIND_BROADCAST))
    return print_ring(c, a->section, info.kind);
  return EXIT_OK;
}

static int cmd_read(shmb_client *c, const cli *a) {
  shmb_section *s;
  uint64_t size, len;
  const char *data;
  int rc = shmb_open(c, a->section, SHMB_ACCESS_READ, &s);
  if (rc != 0)
    return fail(c, rc, a->section);
  size = shmb_section_size(s);
  len = a->have_length ? a->length : (a->offset <= size ? size - a->offset : 0);
  if (a->offset > size || len > size - a->offset) {
    fprintf(stderr, "shmbctl: %s: offset %" PRIu64 " and length %" PRIu64
            " go past the section's %" PRIu64 " bytes\n", a->section,
            a->offset, len, size);
    shmb_close(s);
    return EXIT_ERROR;
  }
  _setmode(_fileno(stdout), _O_BINARY);
  data = (const char *)shmb_section_data(s) + a->offset;
  rc = EXIT_OK;
  if (len && fwrite(data, 1, (size_t)len, stdout) != len) {
    fprintf(stderr, "shmbctl: writing to stdout failed\n");
    rc = EXIT_ERROR;
  }
  if (fflush(stdout) != 0)
    rc = EXIT_ERROR;
  shmb_close(s);
  return rc;
}

/* Reads all of stdin, refusing more than limit bytes. */
static int slurp_stdin(uint64_t limit, char **out, size_t *outlen) {
  size_t cap = 65536, len = 0, n;
  char *buf = malloc(cap), *grown;
  _setmode(_fileno(stdin), _O_BINARY);
  while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len > limit)
      break;
    if (len == cap) {
      cap *= 2;
      if (!(grown = realloc(buf, cap)))
        free(buf);
      buf = grown;
    }
  }
  if (!buf)
    return SHMB_ENOMEM;
  if (ferror(stdin)) {
    free(buf);
    return SHMB_EIO;
  }
  if (len > limit) {
    free(buf);
    return SHMB_ERANGE;
  }
  *out = buf;
  *outlen = len;
  return 0;
}

static int cmd_write(shmb_client *c, const cli *a) {
  shmb_section *s;
  uint64_t size, room;
  char *input;
  size_t len;
  int rc = shmb_open(c, a->section, SHMB_ACCESS_READ_WRITE, &s);
  if (rc != 0)
    return fail(c, rc, a->section);
  size = shmb_section_size(s);
  if (a->offset > size) {
    fprintf(stderr, "shmbctl: %s: offset %" PRIu64 " is past the section's %"
            PRIu64 " bytes\n", a->section, a->offset, size);
    shmb_close(s);
    return EXIT_ERROR;
  }
  room = size - a->offset;
  /* Whole input first: a too-long input writes nothing at all. */
  if ((rc = slurp_stdin(room, &input, &len)) != 0) {
    if (rc == SHMB_ERANGE)
      fprintf(stderr, "shmbctl: %s: input is larger than the %" PRIu64
              " bytes from offset %" PRIu64 " to the end; nothing written\n",
              a->section, room, a->offset);
    else
      fprintf(stderr, "shmbctl: reading stdin: %s\n", shmb_strerror(rc));
    shmb_close(s);
    return EXIT_ERROR;
  }
  memcpy((char *)shmb_section_data(s) + a->offset, input, len);
  free(input);
  rc = shmb_section_flush(s);
  shmb_close(s);
  if (rc != 0)
    return fail(c, rc, "flush");
  return EXIT_OK;
}

/* "shmbctl: WHAT: the code's text (why)" on stderr. */
static void say_failure(int err, const char *what, const char *why) {
  fprintf(stderr, "shmbctl: %s: %s", what, shmb_strerror(err));
  if (*why) {
    fputs(" (", stderr);
    put_text(stderr, why);
    fputc(')', stderr);
  }
  fputc('\n', stderr);
}

/* A doorbell call's failure: the SDK's code and the section's reason. */
static int bell_fail(const shmb_section *s, int err, const char *what) {
  say_failure(err, what, shmb_section_message(s));
  return exit_code(err);
}

static int cmd_notify(shmb_client *c, const cli *a) {
  shmb_section *s;
  int rc = shmb_open(c, a->section, SHMB_ACCESS_WRITE, &s);
  if (rc != 0)
    return fail(c, rc, a->section);
  rc = shmb_section_notify(s);
  rc = rc ? bell_fail(s, rc, a->section) : EXIT_OK;
  shmb_close(s);
  return rc;
}

/* --timeout MS of wait, send and recv; none: for ever. */
static unsigned wait_of(const cli *a) {
  return a->have_wait ? (unsigned)a->wait_ms : SHMB_WAIT_FOREVER;
}

/* Waits for a ring after the call started: the counter is read first. */
static int cmd_wait(shmb_client *c, const cli *a) {
  unsigned ms = wait_of(a);
  shmb_section *s;
  uint64_t seen;
  int rc = shmb_open(c, a->section, SHMB_ACCESS_READ, &s);
  if (rc != 0)
    return fail(c, rc, a->section);
  if ((rc = shmb_section_counter(s, &seen)) == 0)
    rc = shmb_section_wait(s, &seen, ms);
  if (rc == 0)
    printf("counter=%" PRIu64 "\n", seen);
  else if (rc == SHMB_ENOTRUNG)
    fprintf(stderr, "shmbctl: %s: not rung within %u ms\n", a->section, ms);
  else
    bell_fail(s, rc, a->section);
  shmb_close(s);
  return rc == 0 ? EXIT_OK
                 : rc == SHMB_ENOTRUNG ? EXIT_TIMEOUT : exit_code(rc);
}

/* A channel call's failure: the SDK's code and the channel's reason;
 * nothing within the timeout is exit 6. */
static int channel_fail(const shmb_channel *ch, int err, const char *what) {
  say_failure(err, what, shmb_channel_message(ch));
  return err == SHMB_EAGAIN ? EXIT_TIMEOUT : exit_code(err);
}

/* All of stdin as one message (a queue waits for room). */
static int cmd_send(shmb_client *c, const cli *a) {
  shmb_channel *ch;
  shmb_channel_info ci;
  char *input;
  size_t len;
  int rc = shmb_channel_open(c, a->section, SHMB_CHANNEL_SEND, &ch);
  if (rc != 0)
    return fail(c, rc, a->section);
  shmb_channel_get_info(ch, &ci);
  if ((rc = slurp_stdin(ci.slot_size, &input, &len)) != 0) {
    if (rc == SHMB_ERANGE)
      fprintf(stderr, "shmbctl: %s: input is larger than the channel's "
              "slot_size of %u bytes; nothing sent\n", a->section,
              ci.slot_size);
    else
      fprintf(stderr, "shmbctl: reading stdin: %s\n", shmb_strerror(rc));
    shmb_channel_close(ch);
    return EXIT_ERROR;
  }
  rc = shmb_channel_send(ch, input, len, wait_of(a));
  free(input);
  rc = rc ? channel_fail(ch, rc, a->section) : EXIT_OK;
  shmb_channel_close(ch);
  return rc;
}

/* --count messages (1 by default) to stdout, each as it came; losses of a
 * broadcast receiver to stderr. */
static int cmd_recv(shmb_client *c, const cli *a) {
  uint64_t want = a->have_count ? a->count : 1, lost;
  shmb_channel *ch;
  shmb_channel_info ci;
  char *buf;
  size_t len;
  int rc = shmb_channel_open(c, a->section, SHMB_CHANNEL_RECEIVE, &ch);
  if (rc != 0)
    return fail(c, rc, a->section);
  shmb_channel_get_info(ch, &ci);
  if (!(buf = malloc(ci.slot_size ? ci.slot_size : 1))) {
    shmb_channel_close(ch);
    return EXIT_ERROR;
  }
  _setmode(_fileno(stdout), _O_BINARY);
  for (uint64_t i = 0; i < want; i++) {
    rc = shmb_channel_receive(ch, buf, ci.slot_size, &len, &lost,
                              wait_of(a));
    if (rc != 0) {
      rc = channel_fail(ch, rc, a->section);
      break;
    }
    if (lost)
      fprintf(stderr, "shmbctl: %s: lost %" PRIu64 " messages before "
              "message %" PRIu64 " (a broadcast receiver that fell behind)"
              "\n", a->section, lost, i + 1);
    if ((len && fwrite(buf, 1, len, stdout) != len) || fflush(stdout)) {
      fprintf(stderr, "shmbctl: writing to stdout failed\n");
      rc = EXIT_ERROR;
      break;
    }
  }
  free(buf);
  shmb_channel_close(ch);
  return rc;
}

static int cmd_status(shmb_client *c, const cli *a) {
  shmb_status_entry *v;
  size_t n;
  int rc = shmb_status(c, &v, &n);
  (void)a;
  if (rc != 0)
    return fail(c, rc, "status");
  for (size_t i = 0; i < n; i++) {
    put_text(stdout, v[i].key);
    putchar('=');
    put_text(stdout, v[i].value);
    putchar('\n');
  }
  shmb_free_status(v, n);
  return EXIT_OK;
}

static int cmd_reload(shmb_client *c, const cli *a) {
  int rc = shmb_reload(c);
  (void)a;
  if (rc != 0)
    return fail(c, rc, "reload");
  put_text(stdout, shmb_last_message(c));
  putchar('\n');
  return EXIT_OK;
}

/* Who am I, in the two forms the SDK accepts for the server account: a
 * service in console mode runs as whoever started it, and its clients
 * must be told to expect that account. */
static int cmd_whoami(shmb_client *c, const cli *a) {
  char account[SHMB_ACCOUNT_TEXT_MAX], sid_text[192];
  PSID sid;
  int rc = shmb__token_user(NULL, &sid);
  (void)c;
  (void)a;
  if (rc != 0)
    return fail(NULL, rc, "reading this process's token");
  shmb__sid_text(sid, sid_text, sizeof(sid_text));
  shmb__sid_account(sid, account, sizeof(account));
  LocalFree(sid);
  printf("account=%s\nsid=%s\n", account, sid_text);
  printf("# A service run in console mode by this account is expected by "
         "clients that\n# set %s=%s\n# or pass --server-sid %s (SDK: "
         "shmb_connect_options.server_sid).\n",
         SHMB_SERVER_SID_ENV, sid_text, sid_text);
  return EXIT_OK;
}

static const command commands[] = {
    {"list", cmd_list, 0, "",
     "sections and channels you may open: name, size, access, kind"},
    {"info", cmd_info, ARG_SECTION, "NAME",
     "name=, object= (not by handle), delivery=, size=, access=, notify=, "
     "kind= (channels: slots=, "
     "slot_size=) lines"},
    {"read", cmd_read, ARG_SECTION | ARG_OFFSET | ARG_LENGTH,
     "NAME [--offset N] [--length N]", "raw bytes to stdout"},
    {"write", cmd_write, ARG_SECTION | ARG_OFFSET, "NAME [--offset N]",
     "stdin into the section"},
    {"notify", cmd_notify, ARG_SECTION, "NAME",
     "ring the section's doorbell (notify = yes; needs write)"},
    {"wait", cmd_wait, ARG_SECTION | ARG_WAIT, "NAME [--timeout MS]",
     "wait for a ring; prints counter=N (exit 6: timed out)"},
    {"send", cmd_send, ARG_SECTION | ARG_WAIT, "CHANNEL [--timeout MS]",
     "stdin as one message (exit 6: no room within MS)"},
    {"recv", cmd_recv, ARG_SECTION | ARG_WAIT | ARG_COUNT,
     "CHANNEL [--timeout MS] [--count N]",
     "N messages (default 1) to stdout; exit 6: none within MS"},
    {"status", cmd_status, 0, "", "the service's status and counters"},
    {"reload", cmd_reload, 0, "", "re-read the service's config "
                                  "(administrators)"},
    {"whoami", cmd_whoami, NO_SERVICE, "",
     "your account and SID, as --server-sid takes them"},
};
static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

static void usage(FILE *to) {
  fputs("usage: shmbctl [--pipe NAME] [--server-sid SID|ACCOUNT] "
        "[--timeout MS] COMMAND\ncommands:\n", to);
  for (size_t i = 0; i < ncommands; i++) {
    char left[64];
    snprintf(left, sizeof(left), "%s%s%s", commands[i].name,
             *commands[i].usage ? " " : "", commands[i].usage);
    fprintf(to, "  %-36s %s\n", left, commands[i].help);
  }
  fputs("exit codes: 0 ok, 1 error, 2 usage, 3 access denied, 4 no such "
        "section,\n"
        "            5 service unreachable or not the expected server,\n"
        "            6 wait, send or recv timed out\n"
        "The server must run as LocalSystem unless --server-sid or "
        "SHMBROKER_SERVER_SID names another account\n(a SID or an account "
        "name; `shmbctl whoami` prints yours).\n",
        to);
}

static const command *find_command(const char *name) {
  for (size_t i = 0; i < ncommands; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

/* --pipe, --server-sid, --timeout before the command; argv[*i] is the
 * first word that is not one of them. */
static int parse_global(int argc, char **argv, int *i, cli *a) {
  uint64_t ms;
  for (; *i < argc && argv[*i][0] == '-'; (*i)++) {
    const char *opt = argv[*i];
    if (*i + 1 >= argc)
      return -1;
    if (strcmp(opt, "--pipe") == 0)
      a->opts.pipe_name = argv[++*i];
    else if (strcmp(opt, "--server-sid") == 0)
      a->opts.server_sid = argv[++*i];
    else if (strcmp(opt, "--timeout") == 0 &&
             parse_u64(argv[++*i], &ms) == 0 && ms > 0 && ms < 86400000u)
      a->opts.timeout_ms = (unsigned)ms;
    else
      return -1;
  }
  return 0;
}

static int parse_args(int argc, char **argv, cli *a) {
  int i = 1;
  if (parse_global(argc, argv, &i, a) != 0 || i >= argc ||
      !(a->command = find_command(argv[i++])))
    return -1;
  if (a->command->args & ARG_SECTION) {
    if (i >= argc)
      return -1;
    a->section = argv[i++];
  }
  for (; i < argc; i += 2) {
    unsigned args = a->command->args;
    if (i + 1 >= argc)
      return -1;
    if ((args & ARG_OFFSET) && strcmp(argv[i], "--offset") == 0 &&
        parse_u64(argv[i + 1], &a->offset) == 0)
      a->have_offset = 1;
    else if ((args & ARG_LENGTH) && strcmp(argv[i], "--length") == 0 &&
             parse_u64(argv[i + 1], &a->length) == 0)
      a->have_length = 1;
    else if ((args & ARG_WAIT) && strcmp(argv[i], "--timeout") == 0 &&
             parse_u64(argv[i + 1], &a->wait_ms) == 0 &&
             a->wait_ms < SHMB_WAIT_FOREVER)
      a->have_wait = 1;
    else if ((args & ARG_COUNT) && strcmp(argv[i], "--count") == 0 &&
             parse_u64(argv[i + 1], &a->count) == 0 && a->count > 0)
      a->have_count = 1;
    else
      return -1;
  }
  return 0;
}

/* Only a local pipe: the SDK would refuse another one too, but a bad
 * --pipe is a usage error and is named as the option. */
static int check_pipe_option(const cli *a) {
  char why[512];
  if (!a->opts.pipe_name ||
      shmb__pipe_name_check(a->opts.pipe_name, why, sizeof(why)) == 0)
    return 0;
  fprintf(stderr, "shmbctl: --pipe: ");
  put_text(stderr, why);
  fputc('\n', stderr);
  return -1;
}

/* An account name given with --server-sid is checked here, so that a typo
 * names the option rather than the SDK's field. */
static int check_server_option(const cli *a) {
  PSID sid;
  unsigned long werr;
  int rc;
  if (!a->opts.server_sid)
    return 0;
  if ((rc = shmb__account_sid(a->opts.server_sid, &sid, &werr)) != 0) {
    fprintf(stderr, "shmbctl: --server-sid '%s' is neither a SID (S-1-...) "
            "nor an account name known here (Win32 error %lu); `shmbctl "
            "whoami`, run as that account, prints its SID\n",
            a->opts.server_sid, werr);
    return -1;
  }
  LocalFree(sid);
  return 0;
}

int main(int argc, char **argv) {
  cli a;
  shmb_client *c = NULL;
  int rc;

  memset(&a, 0, sizeof(a));
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
                    strcmp(argv[1], "-h") == 0)) {
    usage(stdout);
    return EXIT_OK;
  }
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("shmbctl %s\n", shmb_version_string());
    return EXIT_OK;
  }
  if (parse_args(argc, argv, &a) != 0) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (a.command->args & NO_SERVICE)
    return a.command->run(NULL, &a);
  if (check_pipe_option(&a) != 0 || check_server_option(&a) != 0)
    return EXIT_USAGE;
  if ((rc = shmb_connect(&a.opts, &c)) != 0)
    return fail(NULL, rc, "cannot connect to the service");
  rc = a.command->run(c, &a);
  shmb_disconnect(c);
  return rc;
}
