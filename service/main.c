/*
 * shmbrokerd's entry point. Without --console it runs under the service
 * control manager (scm.c); with it, in the foreground, logging to stderr,
 * until Ctrl+C. Both run the same core through svc_run.
 *
 * Exit codes: 0 clean stop, 1 the config could not be loaded, 2 usage,
 * 3 the sections or the pipe could not be set up.
 */
#include <windows.h>

#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "errors.h"
#include "log.h"
#include "scm.h"
#include "shmb_version.h"
#include "svc.h"
#include "wstr.h"

typedef struct options {
  int console;
  int insecure_config;
  const char *config;
} options;

static void usage(FILE *to) {
  fprintf(to,
          "usage: shmbrokerd [--console] --config FILE\n"
          "  --console      run in the foreground, log to stderr; Ctrl+C "
          "stops\n"
          "                 (without it, shmbrokerd expects to be started by "
          "the\n"
          "                 service control manager: see sc.exe)\n"
          "  --config FILE  the configuration file (docs/config.md); only "
          "SYSTEM,\n"
          "                 Administrators and the service's account may be "
          "able to\n"
          "                 write it or its folder\n"
          "  --insecure-config  with --console: skip that check "
          "(development only)\n"
          "  --version      print the version\n");
}

/* argv as UTF-8, from the wide command line (paths may be non-ASCII). */
static char **utf8_argv(int *argc) {
  LPWSTR *wargv = CommandLineToArgvW(GetCommandLineW(), argc);
  char **argv;
  if (!wargv || !(argv = calloc((size_t)*argc + 1, sizeof(*argv))))
    return NULL;
  for (int i = 0; i < *argc; i++)
    if (!(argv[i] = shmb__utf8_from_wide(wargv[i])))
      return NULL;
  LocalFree(wargv);
  return argv;
}

static int parse_args(int argc, char **argv, options *o) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--console") == 0) {
      o->console = 1;
    } else if (strcmp(argv[i], "--insecure-config") == 0) {
      o->insecure_config = 1;
    } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      o->config = argv[++i];
    } else if (strcmp(argv[i], "--version") == 0) {
      printf("shmbrokerd %s\n", SHMB_VERSION_STRING);
      exit(0);
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "shmbrokerd: unknown or incomplete option '%s'\n",
              argv[i]);
      return -1;
    }
  }
  if (!o->config) {
    fprintf(stderr, "shmbrokerd: --config FILE is required\n");
    return -1;
  }
  if (o->insecure_config && !o->console) {
    fprintf(stderr, "shmbrokerd: --insecure-config is for --console "
                    "(development) only\n");
    return -1;
  }
  return 0;
}

typedef struct console {
  uv_signal_t sigint, sigbreak;
} console;

static void close_once(uv_signal_t *h) {
  if (!uv_is_closing((uv_handle_t *)h))
    uv_close((uv_handle_t *)h, NULL);
}

/* Ctrl+C or Ctrl+Break: stop serving; the loop ends when all is closed. */
static void on_signal(uv_signal_t *h, int signum) {
  shmb_log_info("signal %d: stopping", signum);
  svc_stop(h->data, "stop");
}

static void console_running(svc *s, void *arg) {
  console *con = arg;
  uv_signal_init(s->loop, &con->sigint);
  uv_signal_init(s->loop, &con->sigbreak);
  con->sigint.data = con->sigbreak.data = s;
  uv_signal_start(&con->sigint, on_signal, SIGINT);
  uv_signal_start(&con->sigbreak, on_signal, SIGBREAK);
}

static void console_stopping(svc *s, void *arg) {
  console *con = arg;
  close_once(&con->sigint);
  close_once(&con->sigbreak);
}

int main(void) {
  static console con;
  static svc_host host = {&con, NULL, console_running, console_stopping, 0};
  options o = {0};
  char **argv;
  int argc;

  if (!(argv = utf8_argv(&argc))) {
    fprintf(stderr, "shmbrokerd: cannot read the command line\n");
    return SVC_EXIT_USAGE;
  }
  if (parse_args(argc, argv, &o) != 0) {
    usage(stderr);
    return SVC_EXIT_USAGE;
  }
  if (!o.console)
    return svc_scm_main(o.config);
  host.insecure_config = o.insecure_config;
  return svc_run(o.config, &host);
}
