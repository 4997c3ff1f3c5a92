/*
 * A section's doorbell objects, made and kept by the service.
 *
 * Every object is created under a fresh unguessable name in the section's
 * namespace; a name that already exists is a squat and fails the object
 * (design.md, security rule 2). For a section delivered by handle no
 * object gets a name: clients receive handles (dispatch.c), and the
 * registry lists live waiters by id only. The registry page is the one place ringers
 * learn whom to wake: only the service writes it, under a seqlock
 * (generation odd while an entry changes), and a waiter is dropped from it
 * as soon as the connection that registered it closes, so a dead waiter
 * costs the ringers one generation change and nothing after.
 */
#include "doorbell.h"

#include <aclapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bell_sd.h"
#include "descriptor.h"
#include "errors.h"
#include "log.h"
#include "section.h"
#include "wstr.h"

/* The end of creating object ("" when unnamed): a squat (section.h) or a
 * failure refuses it; otherwise *out is the new handle. */
static int created(HANDLE h, DWORD e, const char *object, HANDLE *out,
                   char *err, size_t errlen) {
  int rc;

  if (object[0] && (rc = svc_object_squatted(h, e, object, err, errlen)) != 0)
    return rc;
  if (!object[0])
    object = "an unnamed doorbell object";
  if (!h)
    return shmb__fail(err, errlen, shmb__from_win32(e), "cannot create %s "
                      "(Win32 error %lu)", object, (unsigned long)e);
  *out = h;
  return 0;
}

/* A page-file mapping of size bytes under object; EEXIST when the name was
 * there before us (whoever made it owns it). */
static int create_page(const char *object, size_t size,
                       PSECURITY_DESCRIPTOR sd, HANDLE *out, char *err,
                       size_t errlen) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), sd, FALSE};
  wchar_t *w = object[0] ? shmb__wide_from_utf8(object) : NULL;
  HANDLE h;
  DWORD e;

  if (object[0] && !w)
    return SHMB_ENOMEM;
  h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE | SEC_COMMIT,
                         0, (DWORD)size, w);
  e = GetLastError();
  free(w);
  return created(h, e, object, out, err, errlen);
}

/* An auto-reset event under object: one SetEvent wakes its one waiter, and
 * a signal that comes before the wait is kept for it. */
static int create_event(const char *object, PSECURITY_DESCRIPTOR sd,
                        HANDLE *out, char *err, size_t errlen) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), sd, FALSE};
  wchar_t *w = object[0] ? shmb__wide_from_utf8(object) : NULL;
  HANDLE h;
  DWORD e;

  if (object[0] && !w)
    return SHMB_ENOMEM;
  h = CreateEventW(&sa, FALSE, FALSE, w);
  e = GetLastError();
  free(w);
  return created(h, e, object, out, err, errlen);
}

/* A fresh name ("" for an unnamed doorbell), then the page with kind's
 * descriptor. */
static int make_page(svc_doorbell *d, PSECURITY_DESCRIPTOR section_sd,
                     svc_bell_kind kind, const char *sid, size_t size,
                     char name[SHMB_BELL_NAME], HANDLE *out, char *err,
                     size_t errlen) {
  PSECURITY_DESCRIPTOR sd;
  int rc;

  name[0] = '\0';
  if (d->name && d->name(d->ns, name) != 0)
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "no random name from the "
                      "system (BCryptGenRandom failed)");
  if ((rc = svc_bell_sd(section_sd, kind, sid, &sd, NULL, err, errlen)))
    return rc;
  rc = create_page(name, size, sd, out, err, errlen);
  LocalFree(sd);
  return rc;
}

static int init_pages(svc_doorbell *d, PSECURITY_DESCRIPTOR section_sd,
                      char *err, size_t errlen) {
  shmb_bell_counter_page *cp;
  int rc;

  if ((rc = make_page(d, section_sd, SVC_BELL_COUNTER, NULL, SHMB_BELL_PAGE,
                      d->counter_name, &d->counter, err, errlen)) ||
      (rc = make_page(d, section_sd, SVC_BELL_REGISTRY, NULL,
                      SHMB_BELL_REGISTRY_SIZE(d->capacity), d->registry_name,
                      &d->registry, err, errlen)))
    return rc;
  cp = MapViewOfFile(d->counter, FILE_MAP_WRITE, 0, 0, SHMB_BELL_PAGE);
  d->reg = MapViewOfFile(d->registry, FILE_MAP_WRITE, 0, 0, 0);
  if (!cp || !d->reg) {
    if (cp)
      UnmapViewOfFile(cp);
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot map the doorbell's "
                      "pages (Win32 error %lu)", (unsigned long)GetLastError());
  }
  cp->magic = SHMB_BELL_MAGIC;
  cp->version = SHMB_BELL_VERSION;
  UnmapViewOfFile(cp);
  d->reg->version = SHMB_BELL_VERSION;
  d->reg->capacity = d->capacity;
  __atomic_store_n(&d->reg->magic, SHMB_BELL_REG_MAGIC, __ATOMIC_RELEASE);
  return 0;
}

int svc_doorbell_new(svc_name_fn name, const char *ns,
                     PSECURITY_DESCRIPTOR section_sd, unsigned capacity,
                     svc_doorbell **out, char *err, size_t errlen) {
  svc_doorbell *d = calloc(1, sizeof(*d));
  int rc;

  if (!d || !(d->waiters = calloc(capacity, sizeof(*d->waiters)))) {
    free(d);
    return SHMB_ENOMEM;
  }
  d->name = name;
  d->capacity = capacity;
  d->next_id = 1;
  snprintf(d->ns, sizeof(d->ns), "%s", ns);
  if ((rc = init_pages(d, section_sd, err, errlen)) != 0) {
    svc_doorbell_free(d);
    return rc;
  }
  *out = d;
  return 0;
}

static void waiter_close(svc_waiter *w) {
  if (w->event)
    CloseHandle(w->event);
  if (w->armed)
    CloseHandle(w->armed);
  memset(w, 0, sizeof(*w));
}

/* Tells the waiters that this doorbell is over (the counter page's closed
 * word) and wakes each, so that none sleeps on a doorbell nobody rings any
 * more: after a rotation or removal ringers attach to the new one. */
static void close_and_wake(svc_doorbell *d) {
  shmb_bell_counter_page *cp;

  if (!d->counter ||
      !(cp = MapViewOfFile(d->counter, FILE_MAP_WRITE, 0, 0, SHMB_BELL_PAGE)))
    return;
  __atomic_store_n(&cp->closed, 1, __ATOMIC_SEQ_CST);
  UnmapViewOfFile(cp);
  for (unsigned i = 0; i < d->capacity; i++)
    if (d->waiters[i].event)
      SetEvent(d->waiters[i].event);
}

void svc_doorbell_free(svc_doorbell *d) {
  if (!d)
    return;
  close_and_wake(d);
  for (unsigned i = 0; i < d->capacity; i++)
    waiter_close(&d->waiters[i]);
  if (d->reg)
    UnmapViewOfFile(d->reg);
  if (d->registry)
    CloseHandle(d->registry);
  if (d->counter)
    CloseHandle(d->counter);
  free(d->waiters);
  free(d);
}

/* One entry changes under the readers' seqlock: generation odd while it is
 * written, a fresh even one after. */
static void registry_write(svc_doorbell *d, unsigned i, int live,
                           uint32_t id, const char *event,
                           const char *armed) {
  shmb_bell_entry *e = &d->reg->entries[i];
  __atomic_fetch_add(&d->reg->generation, 1, __ATOMIC_SEQ_CST); /* odd */
  memset(e, 0, sizeof(*e));
  if (live) {
    e->id = id;
    snprintf(e->event, sizeof(e->event), "%s", event);
    snprintf(e->armed, sizeof(e->armed), "%s", armed);
  }
  __atomic_store_n(&e->live, (uint32_t)live, __ATOMIC_RELAXED);
  __atomic_fetch_add(&d->reg->generation, 1, __ATOMIC_SEQ_CST); /* even */
}

/* One account may hold at most half the places (at least one), so that a
 * read-only grantee cannot take every place and lock the others out of
 * waiting. */
static unsigned account_cap(const svc_doorbell *d) {
  return d->capacity / 2 ? d->capacity / 2 : 1;
}

static unsigned account_waiters(const svc_doorbell *d, const char *sid) {
  unsigned n = 0;
  for (unsigned i = 0; i < d->capacity; i++)
    if (d->waiters[i].owner && strcmp(d->waiters[i].sid, sid) == 0)
      n++;
  return n;
}

static int free_entry(const svc_doorbell *d) {
  for (unsigned i = 0; i < d->capacity; i++)
    if (!d->waiters[i].owner)
      return (int)i;
  return -1;
}

int svc_doorbell_add_waiter(svc_doorbell *d, PSECURITY_DESCRIPTOR section_sd,
                            const char *sid, const void *owner,
                            char event[SHMB_BELL_NAME],
                            char armed[SHMB_BELL_NAME], char *err,
                            size_t errlen) {
  int i = free_entry(d);
  svc_waiter w = {owner, NULL, NULL, 0, ""};
  PSECURITY_DESCRIPTOR sd;
  int rc;

  if (i < 0)
    return shmb__fail(err, errlen, SHMB_ETOOMANYWAITERS, "all %u waiter "
                      "places of this doorbell are taken (the section's "
                      "max_waiters)", d->capacity);
  if (account_waiters(d, sid) >= account_cap(d))
    return shmb__fail(err, errlen, SHMB_ETOOMANYWAITERS, "account %s already "
                      "holds %u of the %u waiter places, the most one "
                      "account may (half of the section's max_waiters)",
                      sid, account_cap(d), d->capacity);
  if ((rc = make_page(d, section_sd, SVC_BELL_ARMED, sid, SHMB_BELL_PAGE,
                      armed, &w.armed, err, errlen)) != 0)
    return rc;
  event[0] = '\0';
  if (d->name && d->name(d->ns, event) != 0) {
    rc = shmb__fail(err, errlen, SHMB_ESYSTEM, "no random name");
    goto out_close;
  }
  if ((rc = svc_bell_sd(section_sd, SVC_BELL_EVENT, sid, &sd, NULL, err,
                        errlen)) != 0)
    goto out_close;
  rc = create_event(event, sd, &w.event, err, errlen);
  LocalFree(sd);
  if (rc != 0)
    goto out_close;
  snprintf(w.sid, sizeof(w.sid), "%s", sid);
  /* Ids only grow: a ringer's PEERS since (protocol.h) relies on it. Past
   * 2^32 - 1 waiters in one doorbell's life the ids would wrap; refuse
   * rather than hand out one twice. */
  if (d->next_id == UINT32_MAX) {
    rc = shmb__fail(err, errlen, SHMB_ETOOMANYWAITERS, "this doorbell has "
                    "registered 2^32 waiters; a reload with a rotation "
                    "makes a new one");
    goto out_close;
  }
  w.id = d->next_id++;
  d->waiters[i] = w;
  d->live++;
  d->added = (unsigned)i;
  registry_write(d, (unsigned)i, 1, w.id, event, armed);
  return 0;

out_close:
  waiter_close(&w);
  return rc;
}

void svc_doorbell_drop(svc_doorbell *d, unsigned i) {
  if (i >= d->capacity || !d->waiters[i].owner)
    return;
  registry_write(d, i, 0, 0, NULL, NULL);
  waiter_close(&d->waiters[i]);
  d->live--;
}

unsigned svc_doorbell_drop_owner(svc_doorbell *d, const void *owner) {
  unsigned n = 0;
  if (!owner)
    return 0;
  for (unsigned i = 0; d && i < d->capacity; i++) {
    if (d->waiters[i].owner != owner)
      continue;
    svc_doorbell_drop(d, i);
    n++;
  }
  return n;
}

/* kind's descriptor, derived from section_sd, on the live object h: its
 * DACL, and the section's label if any. */
static int put_descriptor(HANDLE h, PSECURITY_DESCRIPTOR section_sd,
                    svc_bell_kind kind, const char *sid, char *err,
                    size_t errlen) {
  PSECURITY_DESCRIPTOR sd;
  DWORD e;
  int rc = svc_bell_sd(section_sd, kind, sid, &sd, NULL, err, errlen);

  if (rc != 0)
    return rc;
  e = svc_sd_put(h, sd); /* the DACL, and the section's label if any */
  LocalFree(sd);
  if (e != ERROR_SUCCESS)
    return shmb__fail(err, errlen, shmb__from_win32(e), "cannot change a "
                      "doorbell object's descriptor (Win32 error %lu)",
                      (unsigned long)e);
  return 0;
}

int svc_doorbell_set_descriptor(svc_doorbell *d,
                                PSECURITY_DESCRIPTOR section_sd, char *err,
                                size_t errlen) {
  int rc;
  if ((rc = put_descriptor(d->counter, section_sd, SVC_BELL_COUNTER, NULL,
                           err, errlen)) != 0 ||
      (rc = put_descriptor(d->registry, section_sd, SVC_BELL_REGISTRY, NULL,
                           err, errlen)) != 0)
    return rc;
  for (unsigned i = 0; i < d->capacity; i++) {
    svc_waiter *w = &d->waiters[i];
    if (!w->owner)
      continue;
    if ((rc = put_descriptor(w->event, section_sd, SVC_BELL_EVENT, w->sid,
                             err, errlen)) != 0 ||
        (rc = put_descriptor(w->armed, section_sd, SVC_BELL_ARMED, w->sid,
                             err, errlen)) != 0)
      return rc;
  }
  return 0;
}
