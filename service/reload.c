/*
 * Reload. The new file is parsed and every descriptor in it is built before
 * anything changes, so a file that does not parse or validate leaves the
 * running configuration exactly as it was. Then, section by section:
 *   - new sections are created (a failure, such as a squatted name, fails
 *     that section only, loudly);
 *   - removed sections are flushed and closed: no longer handed out, while
 *     clients' existing handles and views stay valid;
 *   - a changed descriptor is put on the live object and used for later
 *     opens; mappings already made keep the rights they were made with;
 *   - a changed size or backing is refused for that section (the old one
 *     keeps serving), since the object cannot change under its users.
 * Service options that need a restart (pipe, namespace) are kept and said.
 */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "errors.h"
#include "grants.h"
#include "log.h"
#include "logsink.h"

typedef struct plan {
  PSECURITY_DESCRIPTOR *sds; /* per new config section */
  char **sddls;
} plan;

static void plan_free(plan *p, size_t n) {
  for (size_t i = 0; p->sds && i < n; i++) {
    if (p->sds[i])
      LocalFree(p->sds[i]);
    free(p->sddls[i]);
  }
  free(p->sds);
  free(p->sddls);
}

/* Builds every descriptor of the new config: validation before change. */
static int plan_build(const shmb_config *cfg, plan *p, char *err,
                      size_t errlen) {
  p->sds = calloc(cfg->nsections + 1, sizeof(*p->sds));
  p->sddls = calloc(cfg->nsections + 1, sizeof(*p->sddls));
  if (!p->sds || !p->sddls)
    return SHMB_ENOMEM;
  for (size_t i = 0; i < cfg->nsections; i++) {
    int rc = svc_section_descriptor(&cfg->sections[i], &p->sds[i],
                                    &p->sddls[i], err, errlen);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int same_backing(const svc_section *sec, const shmb_section_config *sc) {
  if (!sec->backing_file || !sc->backing_file)
    return !sec->backing_file && !sc->backing_file;
  return _stricmp(sec->backing_file, sc->backing_file) == 0;
}

typedef struct tally {
  unsigned added, removed, repermissioned, refused, failed;
} tally;

/* One section present before and after. */
static void update_section(svc *s, svc_section *sec,
                           const shmb_section_config *sc, plan *p, size_t i,
                           tally *t) {
  char err[SHMB_CONFIG_ERR_MAX];

  if (sec->size != sc->size || !same_backing(sec, sc)) {
    shmb_log_warn("reload: section %s keeps its size %llu and backing %s: "
                  "changing them needs the section removed first (asked: "
                  "%llu, %s)", sec->name, (unsigned long long)sec->size,
                  sec->backing_file ? sec->backing_file : "pagefile",
                  (unsigned long long)sc->size,
                  sc->backing_file ? sc->backing_file : "pagefile");
    t->refused++;
    return;
  }
  if (strcmp(sec->sddl, p->sddls[i]) != 0) {
    if (svc_section_set_descriptor(sec, p->sds[i], p->sddls[i], err,
                                   sizeof(err)) != 0) {
      shmb_log_error("reload: section %s: %s; it keeps its old descriptor",
                     sec->name, err);
      t->failed++;
    } else {
      shmb_log_info("reload: section %s: descriptor now %s", sec->name,
                    sec->sddl);
      p->sds[i] = NULL; /* owned by the section now */
      p->sddls[i] = NULL;
      t->repermissioned++;
    }
  }
  if (sec->flush_interval_ms != sc->flush_interval_ms) {
    svc_flusher_stop(sec);
    sec->flush_interval_ms = sc->flush_interval_ms;
    svc_flusher_start(s, sec);
  }
}

static void apply_sections(svc *s, const shmb_config *cfg, plan *p, tally *t) {
  char err[SHMB_CONFIG_ERR_MAX];

  for (size_t i = s->reg->count; i-- > 0;) {
    svc_section *sec = s->reg->sections[i];
    if (!shmb_config_find(cfg, sec->name)) {
      shmb_log_info("reload: section %s removed; existing mappings stay "
                    "valid", sec->name);
      svc_flusher_stop(sec);
      svc_registry_remove(s->reg, i);
      t->removed++;
    }
  }
  for (size_t i = 0; i < cfg->nsections; i++) {
    const shmb_section_config *sc = &cfg->sections[i];
    svc_section *sec = svc_registry_find(s->reg, sc->name);
    if (sec) {
      update_section(s, sec, sc, p, i, t);
    } else if (svc_registry_add(s->reg, cfg, sc, err, sizeof(err)) != 0) {
      shmb_log_error("reload: cannot create %s; the other sections are "
                     "applied", err);
      t->failed++;
    } else {
      svc_flusher_start(s, s->reg->sections[s->reg->count - 1]);
      t->added++;
    }
  }
}

/* Service options: those that can change live do; the others are kept. */
static void apply_service(svc *s, shmb_config *cfg) {
  if (strcmp(cfg->pipe, s->cfg->pipe) != 0 || cfg->ns != s->cfg->ns) {
    shmb_log_warn("reload: pipe and namespace changes need a restart; "
                  "keeping %s and %s", s->cfg->pipe,
                  s->cfg->ns == SHMB_NS_LOCAL ? "Local" : "Global");
    free(cfg->pipe);
    cfg->pipe = s->cfg->pipe;
    s->cfg->pipe = NULL;
    cfg->ns = s->cfg->ns;
  }
  shmb_log_set_level(cfg->log_level);
  svc_logsink_set_file(cfg->log_file);
}

int svc_reload(svc *s, const char *why, char *msg, size_t msglen) {
  shmb_config *cfg;
  plan p = {0};
  void *admin_sd = NULL;
  tally t = {0};
  int rc;

  shmb_log_info("reload requested by %s", why);
  rc = svc_config_load_trusted(s, &cfg, msg, msglen);
  if (rc == 0) {
    if ((rc = plan_build(cfg, &p, msg, msglen)) == 0)
      rc = svc_admin_sd(cfg, &admin_sd, msg, msglen);
    if (rc != 0) {
      plan_free(&p, cfg->nsections);
      shmb_config_free(cfg);
    }
  }
  if (rc != 0) {
    s->counters.reloads_failed++;
    shmb_log_error("reload refused, the running configuration is "
                   "unchanged: %s", msg);
    return SHMB_ECONFIG;
  }
  apply_sections(s, cfg, &p, &t);
  apply_service(s, cfg);
  /* A reload is a checkpoint too: file-backed data is on disk after it. */
  for (size_t i = 0; i < s->reg->count; i++)
    svc_section_flush(s->reg->sections[i]);
  plan_free(&p, cfg->nsections);
  LocalFree(s->admin_sd);
  s->admin_sd = admin_sd;
  shmb_config_free(s->cfg);
  s->cfg = cfg;
  shmb__wallclock(s->loaded_at);
  s->counters.reloads++;
  snprintf(msg, msglen, "reloaded %s: %u added, %u removed, %u "
           "re-permissioned, %u refused (size or backing changed), %u "
           "failed", s->config_path, t.added, t.removed, t.repermissioned,
           t.refused, t.failed);
  shmb_log_info("%s", msg);
  return 0;
}

int svc_admin_sd(const shmb_config *cfg, void **sd, char *err,
                 size_t errlen) {
  PSID *sids = NULL, self = NULL;
  size_t n = 0, len;
  char *sddl = NULL, *me = NULL;
  int rc;

  if (cfg->admins && (rc = svc_accounts_resolve(cfg->admins, cfg->admins_line,
                                                &sids, &n, err, errlen)) != 0)
    return rc;
  rc = SHMB_ENOMEM;
  if (svc_self_sid(&self) != 0 || !(me = svc_sid_string(self)))
    goto out_free_sids;
  len = 64 + 3 * strlen(me) + n * (SECURITY_MAX_SID_SIZE * 4 + 16);
  if (!(sddl = malloc(len)))
    goto out_free_sids;
  /* The right is only a token for AccessCheck: 0x1 means "may reload". */
  if (cfg->admins)
    snprintf(sddl, len, "O:%sG:%sD:P", me, me);
  else
    snprintf(sddl, len, "O:%sG:%sD:P(A;;0x1;;;%s)(A;;0x1;;;BA)", me, me, me);
  for (size_t i = 0; i < n; i++) {
    char *sid = svc_sid_string(sids[i]);
    if (!sid)
      goto out_free_sids;
    snprintf(sddl + strlen(sddl), len - strlen(sddl), "(A;;0x1;;;%s)", sid);
    free(sid);
  }
  rc = svc_sd_parse(sddl, (PSECURITY_DESCRIPTOR *)sd, err, errlen);

out_free_sids:
  free(sddl);
  free(me);
  if (self)
    LocalFree(self);
  svc_accounts_free(sids, n);
  return rc;
}
