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
 * Service options that need a restart (pipe, namespace) are kept and said,
 * before any section is added, so that new sections use the namespace
 * actually in force.
 */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "configfile.h"
#include "descriptor.h"
#include "errors.h"
#include "log.h"
#include "own_sd.h"

/* Everything built from the new file before anything changes. */
typedef struct plan {
  shmb_config *cfg;
  size_t n;                  /* sections in cfg, and entries below */
  PSECURITY_DESCRIPTOR *sds; /* per new config section */
  char **sddls;
  PSECURITY_DESCRIPTOR admin_sd;
} plan;

static void plan_free(plan *p) {
  for (size_t i = 0; p->sds && p->sddls && i < p->n; i++) {
    if (p->sds[i])
      LocalFree(p->sds[i]);
    free(p->sddls[i]);
  }
  free(p->sds);
  free(p->sddls);
  if (p->admin_sd)
    LocalFree(p->admin_sd);
  shmb_config_free(p->cfg);
  memset(p, 0, sizeof(*p));
}

/* Loads the file and builds every descriptor: validation before change. */
static int plan_build(const svc_broker *b, plan *p, char *err, size_t errlen) {
  int rc = svc_config_load(b->config_path, b->insecure_config, &p->cfg, err,
                           errlen);
  if (rc != 0)
    return rc;
  p->n = p->cfg->nsections;
  p->sds = calloc(p->n + 1, sizeof(*p->sds));
  p->sddls = calloc(p->n + 1, sizeof(*p->sddls));
  if (!p->sds || !p->sddls)
    return SHMB_ENOMEM;
  for (size_t i = 0; i < p->n; i++) {
    rc = svc_section_descriptor(&p->cfg->sections[i], &p->sds[i],
                                &p->sddls[i], err, errlen);
    if (rc != 0)
      return rc;
  }
  return svc_admin_sd(p->cfg, &p->admin_sd, err, errlen);
}

static int same_backing(const svc_section *sec, const shmb_section_config *sc) {
  if (!sec->backing_file || !sc->backing_file)
    return !sec->backing_file && !sc->backing_file;
  return _stricmp(sec->backing_file, sc->backing_file) == 0;
}

static void change_descriptor(svc_section *sec, plan *p, size_t i,
                              svc_reload_tally *t) {
  char err[SHMB_CONFIG_ERR_MAX];
  if (svc_section_set_descriptor(sec, p->sds[i], p->sddls[i], err,
                                 sizeof(err)) != 0) {
    shmb_log_error("reload: section %s: %s; it keeps its old descriptor",
                   sec->name, err);
    t->failed++;
    return;
  }
  char who[1024];
  svc_sd_describe(sec->sd, who, sizeof(who));
  shmb_log_info("reload: section %s now: %s", sec->name, who);
  shmb_log_debug("reload: section %s: descriptor %s", sec->name, sec->sddl);
  p->sds[i] = NULL; /* owned by the section now */
  p->sddls[i] = NULL;
  t->repermissioned++;
}

/* on_revoke = rotate: a fresh object, so that handles opened under the old
 * grants reach nothing anyone sees again. */
static void rotate(svc_registry *reg, svc_section *sec,
                   const shmb_section_config *sc, plan *p,
                   svc_reload_tally *t) {
  char err[SHMB_CONFIG_ERR_MAX];
  size_t i = 0;

  while (reg->sections[i] != sec)
    i++;
  if (svc_registry_rotate(reg, i, p->cfg, sc, err, sizeof(err)) != 0) {
    shmb_log_error("reload: section %s: cannot rotate (%s); it keeps its "
                   "old object and descriptor", sec->name, err);
    t->failed++;
    return;
  }
  t->repermissioned++;
  t->rotated++;
}

/* integrity = low added or taken away, said once it is on the object in
 * force: the line with the grants does not show the label. */
static void say_label(svc_registry *reg, const char *name, const char *was) {
  const svc_section *sec = svc_registry_find(reg, name);
  char now[128];
  if (!sec || svc_sd_label_sddl(sec->sd, now, sizeof(now)) != 0 ||
      strcmp(was, now) == 0)
    return;
  shmb_log_info("reload: section %s: label %s -> %s", name,
                was[0] ? was : "none (the default, medium)",
                now[0] ? now : "none (the default, medium)");
}

/* One section present before and after. */
static void update_section(svc_registry *reg, svc_section *sec,
                           const shmb_section_config *sc, plan *p, size_t i,
                           svc_reload_tally *t) {
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
  if (sec->channel != sc->channel || sec->slots != sc->slots ||
      sec->slot_size != sc->slot_size) {
    /* Live clients attached to the ring with its geometry cached. */
    shmb_log_warn("reload: %s %s keeps its kind and ring: turning a section "
                  "into a channel or back, or changing kind, slots or "
                  "slot_size, needs it removed first", sec->channel ?
                  "channel" : "section", sec->name);
    t->refused++;
    return;
  }
  if (sec->by_handle !=
      (shmb_config_delivery(p->cfg, sc) == SHMB_DELIVERY_HANDLE)) {
    /* Clients hold a name or a handle: neither can become the other. */
    shmb_log_warn("reload: section %s keeps delivery = %s: changing how a "
                  "section is delivered needs it removed first", sec->name,
                  sec->by_handle ? "handle" : "name");
    t->refused++;
    return;
  }
  if ((sec->bell != NULL) != (sc->notify != 0))
    shmb_log_warn("reload: section %s keeps notify = %s: adding or taking "
                  "away a doorbell needs the section removed first",
                  sec->name, sec->bell ? "yes" : "no");
  if (strcmp(sec->sddl, p->sddls[i]) != 0) {
    char was[128];
    svc_sd_label_sddl(sec->sd, was, sizeof(was));
    if (sc->on_revoke_rotate) {
      rotate(reg, sec, sc, p, t); /* sec is gone if it rotated */
      say_label(reg, sc->name, was);
      return;
    }
    change_descriptor(sec, p, i, t);
    say_label(reg, sc->name, was);
  }
  svc_registry_set_flush_interval(reg, sec, sc->flush_interval_ms);
}

static void remove_gone(svc_registry *reg, const shmb_config *cfg,
                        svc_reload_tally *t) {
  for (size_t i = reg->count; i-- > 0;) {
    svc_section *sec = reg->sections[i];
    if (shmb_config_find(cfg, sec->name))
      continue;
    shmb_log_info("reload: section %s removed; existing mappings stay "
                  "valid", sec->name);
    svc_registry_remove(reg, i);
    t->removed++;
  }
}

static void apply_sections(svc_registry *reg, plan *p, svc_reload_tally *t) {
  char err[SHMB_CONFIG_ERR_MAX];

  remove_gone(reg, p->cfg, t);
  for (size_t i = 0; i < p->cfg->nsections; i++) {
    const shmb_section_config *sc = &p->cfg->sections[i];
    svc_section *sec = svc_registry_find(reg, sc->name);
    if (sec) {
      update_section(reg, sec, sc, p, i, t);
    } else if (svc_registry_add(reg, p->cfg, sc, err, sizeof(err)) != 0) {
      shmb_log_error("reload: cannot create %s; the other sections are "
                     "applied", err);
      t->failed++;
    } else {
      t->added++;
    }
  }
}

/* Service options: those that can change live do; the others are kept. */
static void apply_service(shmb_config *old, shmb_config *cfg) {
  if (strcmp(cfg->pipe, old->pipe) != 0 || cfg->ns != old->ns) {
    shmb_log_warn("reload: pipe and namespace changes need a restart; "
                  "keeping %s and %s", old->pipe,
                  old->ns == SHMB_NS_LOCAL ? "Local" : "Global");
    free(cfg->pipe);
    cfg->pipe = old->pipe;
    old->pipe = NULL;
    cfg->ns = old->ns;
  }
  if (cfg->allow_sandboxed != old->allow_sandboxed) {
    /* The pipe's descriptor is set when the pipe is made. */
    shmb_log_warn("reload: allow_sandboxed changes need a restart; keeping "
                  "%s", old->allow_sandboxed ? "yes" : "no");
    cfg->allow_sandboxed = old->allow_sandboxed;
  }
  svc_broker_apply_logging(cfg);
}

/* The plan becomes the running configuration. */
static void commit(svc_broker *b, plan *p, svc_reload_tally *t) {
  apply_service(b->cfg, p->cfg);
  apply_sections(b->reg, p, t);
  /* A reload is a checkpoint too: file-backed data is on disk after it. */
  svc_registry_flush_all(b->reg, "reload");
  LocalFree(b->admin_sd);
  b->admin_sd = p->admin_sd;
  p->admin_sd = NULL;
  shmb_config_free(b->cfg);
  b->cfg = p->cfg;
  p->cfg = NULL;
  shmb__wallclock(b->loaded_at);
  b->counters.reloads++;
}

int svc_reload(svc_broker *b, const char *why, svc_reload_tally *out,
               char *msg, size_t msglen) {
  svc_reload_tally t = {0};
  plan p = {0};

  shmb_log_info("reload requested by %s", why);
  if (plan_build(b, &p, msg, msglen) != 0) {
    plan_free(&p);
    b->counters.reloads_failed++;
    shmb_log_error("reload refused, the running configuration is "
                   "unchanged: %s", msg);
    return SHMB_ECONFIG;
  }
  commit(b, &p, &t);
  /* Descriptors were replaced or freed: no cached AccessCheck survives. */
  svc_access_forget_all();
  plan_free(&p);
  snprintf(msg, msglen, "reloaded %s: %u added, %u removed, %u "
           "re-permissioned, %u refused (size or backing changed), %u failed; "
           "%u rotated (on_revoke)", b->config_path, t.added, t.removed,
           t.repermissioned, t.refused, t.failed, t.rotated);
  shmb_log_info("%s", msg);
  if (out)
    *out = t;
  return 0;
}
