/*
 * The list of sections, and the timers that flush file-backed ones every
 * flush_interval. A timer is heap-allocated apart from its section, so a
 * section can be freed as soon as its timer is closed, without waiting for
 * libuv's close callback.
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include <aclapi.h>

#include "doorbell.h"
#include "errors.h"
#include "log.h"

static void on_flush_due(uv_timer_t *t) {
  svc_section_flush(t->data, "timer");
}

static void on_timer_closed(uv_handle_t *h) { free(h); }

static void timer_stop(svc_section *sec) {
  if (!sec->flush_timer)
    return;
  uv_close((uv_handle_t *)sec->flush_timer, on_timer_closed);
  sec->flush_timer = NULL;
}

static void timer_start(svc_registry *reg, svc_section *sec) {
  uv_timer_t *t;
  if (!reg->loop || sec->flush_timer || !sec->view || !sec->flush_interval_ms)
    return;
  if (!(t = malloc(sizeof(*t)))) {
    shmb_log_error("section %s: no memory for its periodic flush; it is "
                   "flushed at stop and reload only", sec->name);
    return;
  }
  uv_timer_init(reg->loop, t);
  t->data = sec;
  uv_timer_start(t, on_flush_due, sec->flush_interval_ms,
                 sec->flush_interval_ms);
  sec->flush_timer = t;
}

static int registry_append(svc_registry *reg, svc_section *sec) {
  if (reg->count == reg->cap) {
    size_t cap = reg->cap ? reg->cap * 2 : 8;
    svc_section **grown = realloc(reg->sections, cap * sizeof(*grown));
    if (!grown)
      return SHMB_ENOMEM;
    reg->sections = grown;
    reg->cap = cap;
  }
  reg->sections[reg->count++] = sec;
  return 0;
}

int svc_registry_add(svc_registry *reg, const shmb_config *cfg,
                     const shmb_section_config *sc, char *err, size_t errlen) {
  svc_section *sec;
  int rc = svc_section_new(cfg, sc, &sec, err, errlen);
  if (rc != 0)
    return rc;
  if ((rc = registry_append(reg, sec)) != 0) {
    svc_section_free(sec);
    return shmb__fail(err, errlen, rc, "[section %s]: out of memory",
                      sc->name);
  }
  timer_start(reg, sec);
  return 0;
}

int svc_registry_create(uv_loop_t *loop, const shmb_config *cfg,
                        void (*progress)(void *), void *progress_arg,
                        svc_registry **out, char *err, size_t errlen) {
  svc_registry *reg = calloc(1, sizeof(*reg));
  int rc = 0;

  if (!reg)
    return SHMB_ENOMEM;
  reg->loop = loop;
  for (size_t i = 0; i < cfg->nsections && rc == 0; i++) {
    rc = svc_registry_add(reg, cfg, &cfg->sections[i], err, errlen);
    if (rc == 0 && progress)
      progress(progress_arg);
  }
  if (rc != 0) {
    svc_registry_free(reg);
    return rc;
  }
  *out = reg;
  return 0;
}

void svc_registry_remove(svc_registry *reg, size_t i) {
  svc_section *sec = reg->sections[i];
  timer_stop(sec);
  svc_section_flush(sec, "removed");
  reg->gone_flushes += sec->flushes;
  reg->gone_failures += sec->flush_failures;
  svc_section_free(sec);
  memmove(&reg->sections[i], &reg->sections[i + 1],
          (reg->count - i - 1) * sizeof(reg->sections[0]));
  reg->count--;
}

/* Copies the bytes of one section object into another of the same size. */
static int copy_bytes(svc_section *from, svc_section *to, char *err,
                      size_t errlen) {
  const void *src = MapViewOfFile(from->mapping, FILE_MAP_READ, 0, 0, 0);
  void *dst = MapViewOfFile(to->mapping, FILE_MAP_WRITE, 0, 0, 0);
  int rc = 0;

  if (!src || !dst)
    rc = shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot map section %s to "
                    "copy it (Win32 error %lu)", from->name,
                    (unsigned long)GetLastError());
  else
    memcpy(dst, src, (size_t)from->size);
  if (src)
    UnmapViewOfFile(src);
  if (dst)
    UnmapViewOfFile(dst);
  return rc;
}

/* An empty DACL: no one may open the object by name any more (the owner
 * keeps only READ_CONTROL and WRITE_DAC, which map nothing). */
static int close_to_new_opens(svc_section *sec, char *err, size_t errlen) {
  ACL empty;
  DWORD e;
  if (!InitializeAcl(&empty, sizeof(empty), ACL_REVISION))
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot build an empty "
                      "DACL");
  e = SetSecurityInfo(sec->mapping, SE_KERNEL_OBJECT,
                      DACL_SECURITY_INFORMATION |
                          PROTECTED_DACL_SECURITY_INFORMATION,
                      NULL, NULL, &empty, NULL);
  if (e != ERROR_SUCCESS)
    return shmb__fail(err, errlen, shmb__from_win32(e), "cannot close the "
                      "old object of %s to new opens (Win32 error %lu)",
                      sec->name, (unsigned long)e);
  return 0;
}

int svc_registry_rotate(svc_registry *reg, size_t i, const shmb_config *cfg,
                        const shmb_section_config *sc, char *err,
                        size_t errlen) {
  svc_section *old = reg->sections[i], *fresh;
  int rc = svc_section_new(cfg, sc, &fresh, err, errlen);

  if (rc != 0)
    return rc;
  /* A channel starts empty: a copy of a ring that clients are using is
   * no consistent state (a message half written, positions mid-move), and
   * its old clients are told by the old doorbell's closed word to open
   * the channel again. */
  if ((!fresh->channel && (rc = copy_bytes(old, fresh, err, errlen)) != 0) ||
      (rc = close_to_new_opens(old, err, errlen)) != 0) {
    svc_section_free(fresh);
    return rc;
  }
  timer_stop(old);
  reg->gone_flushes += old->flushes;
  reg->gone_failures += old->flush_failures;
  shmb_log_info("section %s rotated: %s is closed to new opens, %s is "
                "handed out from now on", old->name,
                old->by_handle ? "the old unnamed object" : old->object,
                fresh->by_handle ? "a new unnamed object" : fresh->object);
  svc_section_free(old);
  reg->sections[i] = fresh;
  timer_start(reg, fresh);
  return 0;
}

void svc_registry_stop_timers(svc_registry *reg) {
  for (size_t i = 0; reg && i < reg->count; i++)
    timer_stop(reg->sections[i]);
}

void svc_registry_free(svc_registry *reg) {
  if (!reg)
    return;
  for (size_t i = 0; i < reg->count; i++) {
    timer_stop(reg->sections[i]);
    svc_section_free(reg->sections[i]);
  }
  free(reg->sections);
  free(reg);
}

svc_section *svc_registry_find(svc_registry *reg, const char *name) {
  for (size_t i = 0; i < reg->count; i++)
    if (strcmp(reg->sections[i]->name, name) == 0)
      return reg->sections[i];
  return NULL;
}

void svc_registry_set_flush_interval(svc_registry *reg, svc_section *sec,
                                     unsigned ms) {
  if (sec->flush_interval_ms == ms)
    return;
  timer_stop(sec);
  sec->flush_interval_ms = ms;
  timer_start(reg, sec);
}

unsigned svc_registry_flush_all(svc_registry *reg, const char *why) {
  unsigned failed = 0;
  for (size_t i = 0; reg && i < reg->count; i++)
    failed += svc_section_flush(reg->sections[i], why) != 0;
  return failed;
}

void svc_registry_flush_counts(const svc_registry *reg, uint64_t *flushes,
                               uint64_t *failures) {
  *flushes = reg->gone_flushes;
  *failures = reg->gone_failures;
  for (size_t i = 0; i < reg->count; i++) {
    *flushes += reg->sections[i]->flushes;
    *failures += reg->sections[i]->flush_failures;
  }
}

unsigned svc_registry_drop_waiters(svc_registry *reg, const void *owner) {
  unsigned n = 0;
  for (size_t i = 0; reg && i < reg->count; i++)
    n += svc_doorbell_drop_owner(reg->sections[i]->bell, owner);
  return n;
}

unsigned svc_registry_waiters(const svc_registry *reg) {
  unsigned n = 0;
  for (size_t i = 0; i < reg->count; i++)
    if (reg->sections[i]->bell)
      n += reg->sections[i]->bell->live;
  return n;
}
