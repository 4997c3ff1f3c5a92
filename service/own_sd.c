/*
 * The service's own descriptors. Each is an SDDL template in which "{me}"
 * stands for the service's SID, so that the owner, the group and the
 * service's own full-access entry name whatever account the service runs as
 * (LocalSystem in production, the desktop user under Wine or in console
 * mode).
 */
#include "own_sd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "errors.h"
#include "grants.h"
#include "sid.h"

/* Expands tmpl with every "{me}" replaced by me (malloc'd). */
static char *expand(const char *tmpl, const char *me) {
  static const char mark[] = "{me}";
  char *text = malloc(strlen(tmpl) * (strlen(me) + 1) + 1), *out = text;
  const char *q = tmpl;

  if (!text)
    return NULL;
  while (*q) {
    if (strncmp(q, mark, sizeof(mark) - 1) == 0) {
      out += sprintf(out, "%s", me);
      q += sizeof(mark) - 1;
    } else {
      *out++ = *q++;
    }
  }
  *out = '\0';
  return text;
}

/* The service's SID as text (free()). */
static int self_text(char **me, char *err, size_t errlen) {
  PSID self;
  int rc = svc_self_sid(&self);
  if (rc != 0)
    return shmb__fail(err, errlen, rc, "cannot read the service's own "
                      "account");
  *me = svc_sid_string(self);
  LocalFree(self);
  return *me ? 0 : SHMB_ENOMEM;
}

static int sd_for_self(const char *tmpl, PSECURITY_DESCRIPTOR *sd, char *err,
                       size_t errlen) {
  char *me = NULL, *text;
  int rc;

  if ((rc = self_text(&me, err, errlen)) != 0)
    return rc;
  text = expand(tmpl, me);
  free(me);
  if (!text)
    return SHMB_ENOMEM;
  rc = svc_sd_parse(text, sd, err, errlen);
  free(text);
  return rc;
}

int svc_pipe_sd(int sandboxed, PSECURITY_DESCRIPTOR *sd, char *err,
                size_t errlen) {
  /* NU denied: network logons never talk to the broker (with
   * PIPE_REJECT_REMOTE_CLIENTS, twice). 0x12019b = FILE_GENERIC_READ |
   * FILE_GENERIC_WRITE without FILE_CREATE_PIPE_INSTANCE: clients talk,
   * only we create instances (design.md, security rule 4). */
  static const char base[] = "O:{me}G:{me}D:P(D;;GA;;;NU)(A;;GA;;;{me})"
                             "(A;;GA;;;SY)(A;;0x12019b;;;AU)";
  /* allow_sandboxed: AppContainer processes pass the second, package
   * check of AccessCheck through ALL APPLICATION PACKAGES (AC), with the
   * same talk-only rights; the low label lets low-integrity processes
   * write requests (no-write-up at low holds back nothing above
   * untrusted). Nothing else changes: who is served is still decided per
   * section. */
  static const char sandbox[] = "O:{me}G:{me}D:P(D;;GA;;;NU)(A;;GA;;;{me})"
                                "(A;;GA;;;SY)(A;;0x12019b;;;AU)"
                                "(A;;0x12019b;;;AC)S:(ML;;NW;;;LW)";
  return sd_for_self(sandboxed ? sandbox : base, sd, err, errlen);
}

int svc_file_sd(PSECURITY_DESCRIPTOR *sd, char *err, size_t errlen) {
  /* Full access for the service, SYSTEM and Administrators only: clients
   * reach the data through the section, never the file. */
  return sd_for_self("O:{me}G:{me}D:P(A;;FA;;;{me})(A;;FA;;;SY)(A;;FA;;;BA)",
                     sd, err, errlen);
}

/* Appends "(A;;0x1;;;SID)" for each admin to the template. */
static char *admin_template(PSID *sids, size_t n, int defaults) {
  size_t len = 64 + n * (SECURITY_MAX_SID_SIZE * 4 + 16);
  char *t = malloc(len);

  if (!t)
    return NULL;
  snprintf(t, len, "O:{me}G:{me}D:P");
  if (defaults)
    snprintf(t + strlen(t), len - strlen(t), "(A;;0x%x;;;{me})(A;;0x%x;;;BA)",
             SVC_RIGHT_RELOAD, SVC_RIGHT_RELOAD);
  for (size_t i = 0; i < n; i++) {
    char *sid = svc_sid_string(sids[i]);
    if (!sid) {
      free(t);
      return NULL;
    }
    snprintf(t + strlen(t), len - strlen(t), "(A;;0x%x;;;%s)",
             SVC_RIGHT_RELOAD, sid);
    free(sid);
  }
  return t;
}

int svc_admin_sd(const shmb_config *cfg, PSECURITY_DESCRIPTOR *sd, char *err,
                 size_t errlen) {
  PSID *sids = NULL;
  size_t n = 0;
  char *tmpl;
  int rc;

  if (cfg->admins && (rc = svc_accounts_resolve(cfg->admins, cfg->admins_line,
                                                &sids, &n, err, errlen)) != 0)
    return rc;
  if (!(tmpl = admin_template(sids, n, cfg->admins == NULL)))
    rc = SHMB_ENOMEM;
  else
    rc = sd_for_self(tmpl, sd, err, errlen);
  free(tmpl);
  svc_accounts_free(sids, n);
  return rc;
}
