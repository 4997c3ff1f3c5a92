/*
 * The section doorbell (notify = yes): ring, wait, and a wait handle.
 *
 * An eventcount with one auto-reset event and one "armed" word per waiter
 * (docs/channels.md, "Doorbell"). A ringer bumps the change counter with a
 * full-barrier RMW, fences, and calls SetEvent only for registered waiters
 * whose armed word is set; a waiter sets its own armed word, fences, and
 * re-reads the counter before it sleeps. Either the waiter sees the new
 * counter or the ringer sees it armed (both store, fence, then load the
 * other's word), so no ring is lost, and a ring with nobody asleep makes no
 * system call. A waiter writes nothing but its own armed word, so a
 * read-only grantee cannot make another waiter or a writer wait longer.
 *
 * The armed word is a ticket, not a flag: each time a waiter arms it
 * writes a new one (a 64-bit count that never repeats), and a ringer
 * signals a ticket once. The event is auto-reset, so a signal stays until
 * the waiter's next wait consumes it, and the waiter arms anew before any
 * later sleep: a ticket already signalled needs nothing more. A waiter
 * that stays armed without sleeping (a hostile one, or an application
 * that holds the wait handle and does not wait) therefore costs each
 * ringer one SetEvent, not one per ring.
 *
 * The registry page is the service's: it is read under its seqlock and
 * every count, flag and name in it is checked before use (design.md,
 * security rule 11). A waiter's registration lives as long as a connection
 * of its own, which the section keeps until shmb_close.
 *
 * A section delivered by handle has a doorbell without names: the
 * DOORBELL reply carries handle values the service duplicated into this
 * process, each checked (object type, exact rights) before use, and a
 * ringer keeps its connection to ask for the waiters (PEERS) whenever the
 * registry's generation moves: the service then duplicates each new
 * waiter's event (signal only) and armed page (read only) into this
 * process, and the ringer closes the handles of waiters that left.
 */
#include <stdlib.h>
#include <string.h>

#include "bell_layout.h"
#include "errors.h"
#include "protocol.h"
#include "section.h"
#include "transport.h"
#include "trust.h"
#include "wstr.h"

/* Spins on the counter before arming: a ring that follows within this
 * many polls costs the waiter no system call. */
#define WAIT_SPINS 2000
/* Reads of a moving registry before giving up on this ring's refresh;
 * after the first few, each waits for the service's thread to run
 * (SwitchToThread), so a service preempted mid-update is waited for. */
#define REGISTRY_TRIES 1000
#define REGISTRY_SPINS 64

typedef struct peer {
  char event[SHMB_BELL_NAME];
  uint32_t id; /* by handle: the waiter's id, 0: none held */
  HANDLE ev, armed_map;
  const volatile uint64_t *armed;
  uint64_t signalled; /* the ticket we last signalled; 0: none */
} peer;

struct shmb__ringer {
  HANDLE counter_map, registry_map;
  uint64_t *counter;
  const uint32_t *closed; /* the service gave the doorbell up */
  const shmb_bell_registry *reg;
  unsigned capacity;
  uint64_t generation; /* of the peers below; odd: never read yet */
  peer *peers;         /* capacity of them, by registry entry */
  unsigned open_peers; /* of them with an armed word mapped: 0 skips the
                          scan, the common case of nobody waiting */
  shmb_bell_entry *copy;
  uint64_t signals;
  shmb_client *conn; /* by handle: PEERS are asked here; else NULL */
  uint64_t since;    /* by handle: the next of the last PEERS reply */
};

struct shmb__waiter {
  shmb_client *conn; /* the registration's lifetime */
  HANDLE counter_map, event, armed_map;
  const volatile uint64_t *counter;
  const volatile uint32_t *closed; /* the service gave the doorbell up */
  volatile uint64_t *armed;
  uint64_t ticket; /* the last one armed; the next is ticket + 1 */
  int by_handle; /* the application waits on event itself: stay armed */
  char counter_name[SHMB_BELL_NAME], event_name[SHMB_BELL_NAME];
};

/* A failure explained in the section's own message (shmb_section_message). */
#define bell_fail(s, rc, ...)                                                  \
  shmb__fail((s)->message, sizeof((s)->message), (rc), __VA_ARGS__)

/* A doorbell object's name from a reply, checked as a name the service
 * makes (shmb__object_name_check) before anything opens it: as text in
 * object and as *w to open (free()). */
static int object_name(shmb_section *s, const shmb_str *name,
                       char object[SHMB_BELL_NAME], wchar_t **w) {
  int rc;

  if ((rc = shmb__object_name_check(name->ptr, name->len, s->message,
                                    sizeof(s->message))) != 0)
    return rc;
  memcpy(object, name->ptr, name->len);
  object[name->len] = '\0';
  return (*w = shmb__wide_from_utf8(object)) ? 0 : SHMB_ENOMEM;
}

/* Maps a named page of the service's with the given rights. */
static int map_page(shmb_section *s, const shmb_str *name, DWORD rights,
                    HANDLE *map, void **view) {
  char object[SHMB_BELL_NAME];
  wchar_t *w;
  int rc;

  if ((rc = object_name(s, name, object, &w)) != 0)
    return rc;
  *map = OpenFileMappingW(rights, FALSE, w);
  free(w);
  if (!*map)
    return bell_fail(s, shmb__from_win32(GetLastError()),
                     "cannot open the doorbell page %s", object);
  if (!(*view = MapViewOfFile(*map, rights, 0, 0, 0))) {
    CloseHandle(*map);
    *map = NULL;
    return shmb__from_win32(GetLastError());
  }
  return 0;
}

/* The values of a reply by handle are valid in process pid: only there
 * (another process reading a pipe it did not connect may hold handles of
 * its own at those values, which are not the service's). */
static int handles_ours(shmb_section *s, uint32_t pid) {
  if (pid == GetCurrentProcessId())
    return 0;
  return bell_fail(s, SHMB_EBADSERVER, "section %s: the server delivered "
                   "the doorbell's handles into process %lu, not into this "
                   "one (%lu): this process reads a pipe that another "
                   "process connected; the values were left alone",
                   s->name, (unsigned long)pid,
                   (unsigned long)GetCurrentProcessId());
}

/* Adopts a page handle from a DOORBELL reply by handle: a section handle
 * of this process with exactly rights, mapped with them. A value that
 * fails the check is left alone (shmb__handle_check_kind). */
static int take_page(shmb_section *s, uint64_t value, DWORD rights,
                     HANDLE *map, void **view) {
  int rc = shmb__handle_check_kind(value, L"Section", rights, map,
                                   s->message, sizeof(s->message));
  if (rc != 0)
    return rc;
  if (!(*view = MapViewOfFile(*map, rights, 0, 0, 0))) {
    rc = bell_fail(s, shmb__from_win32(GetLastError()), "cannot map the "
                   "doorbell page the service delivered (Win32 error %lu)",
                   (unsigned long)GetLastError());
    CloseHandle(*map);
    *map = NULL;
  }
  return rc;
}

/* The bytes mapped at view (whole pages). */
static size_t mapped_bytes(const void *view) {
  MEMORY_BASIC_INFORMATION mb;
  if (VirtualQuery(view, &mb, sizeof(mb)) != sizeof(mb))
    return 0;
  return mb.RegionSize;
}

/* The counter page is the service's layout, else ECORRUPT. */
static int counter_check(shmb_section *s, const void *view) {
  const shmb_bell_counter_page *p = view;
  if (mapped_bytes(view) < sizeof(*p) || p->magic != SHMB_BELL_MAGIC ||
      p->version != SHMB_BELL_VERSION)
    return bell_fail(s, SHMB_ECORRUPT, "the doorbell's counter page of "
                     "section %s has a bad header", s->name);
  return 0;
}

/* Whether the doorbell a DOORBELL reply named on conn is the one of the
 * object s mapped: the request names the section, and a rotation or a
 * restart of the service may have made a new object, with a new doorbell,
 * since s was opened (a waiter registered there would never be woken by
 * the writers of s's object). Object names are never used twice, so an
 * OPEN after the DOORBELL that still hands out s's object proves the
 * DOORBELL was answered for it too. */
static int same_object(shmb_section *s, shmb_client *conn) {
  shmb_open_info info;
  HANDLE fresh = NULL;
  int rc;

  if (!s->object[0]) {
    /* By handle: the OPEN delivers a handle, compared with the one s
     * mapped (and closed). A Windows that cannot compare (before 10)
     * is given the benefit of the doubt, as shmb_section_is_current
     * cannot tell there either. */
    rc = shmb__lookup_handle(conn, s->name, s->access, &info, NULL, &fresh);
    if (rc == 0 && shmb__same_object(fresh, s->mapping) != 0)
      return 0;
  } else {
    rc = shmb__lookup_flags(conn, s->name, s->access, &info, NULL);
    if (rc == 0 && strcmp(info.object, s->object) == 0)
      return 0;
  }
  if (rc == 0 || rc == SHMB_ENOENT)
    return bell_fail(s, SHMB_EBELLCLOSED, "section %s is no longer the "
                     "object this handle mapped (%s): the service %s it; "
                     "open the section again", s->name,
                     s->object[0] ? s->object : "unnamed, by handle",
                     rc == 0 ? "made a new one (a rotation or a restart) "
                               "and a new doorbell with"
                             : "removed");
  return bell_fail(s, rc, "%s", conn->message);
}

/* Connects on the section's options and sends DOORBELL; on success *conn
 * holds the connection and *payload the reply (free()). */
static int doorbell_request(shmb_section *s, uint32_t access,
                            shmb_client **conn, uint8_t **payload,
                            size_t *plen, shmb_doorbell_reply *rep) {
  uint8_t *frame;
  size_t len;
  int rc;

  if ((rc = shmb_connect(&s->opts, conn)) != 0)
    return bell_fail(s, rc, "%s", shmb_last_message(NULL));
  rc = shmb_encode_doorbell(++(*conn)->next_id, s->name, access, &frame,
                            &len);
  if (rc == 0) {
    rc = shmb__roundtrip(*conn, frame, len, SHMB_OP_DOORBELL, payload, plen);
    free(frame);
  }
  if (rc == 0 && (rc = shmb_doorbell_reply_decode(*payload, *plen, rep)))
    free(*payload);
  if (rc == 0 && rep->access != access) {
    free(*payload);
    rc = SHMB_EBADSERVER;
  }
  if (rc == 0 && (rc = same_object(s, *conn)) != 0) {
    free(*payload);
    shmb_disconnect(*conn);
    *conn = NULL;
    return rc;
  }
  if (rc != 0) {
    if ((*conn)->message[0])
      bell_fail(s, rc, "%s", (*conn)->message);
    shmb_disconnect(*conn);
    *conn = NULL;
  }
  return rc;
}

/* ---- ringing ---------------------------------------------------------- */

static void peer_close(peer *p) {
  if (p->armed)
    UnmapViewOfFile((void *)p->armed);
  if (p->armed_map)
    CloseHandle(p->armed_map);
  if (p->ev)
    CloseHandle(p->ev);
  memset(p, 0, sizeof(*p));
}

static void ringer_free(struct shmb__ringer *r) {
  if (!r)
    return;
  shmb_disconnect(r->conn);
  for (unsigned i = 0; r->peers && i < r->capacity; i++)
    peer_close(&r->peers[i]);
  if (r->counter)
    UnmapViewOfFile((char *)r->counter - offsetof(shmb_bell_counter_page,
                                                  counter));
  if (r->reg)
    UnmapViewOfFile((void *)r->reg);
  if (r->counter_map)
    CloseHandle(r->counter_map);
  if (r->registry_map)
    CloseHandle(r->registry_map);
  free(r->peers);
  free(r->copy);
  free(r);
}

/* The registry's fixed header: capacity within the view and the limit. */
static int registry_check(shmb_section *s, struct shmb__ringer *r) {
  size_t bytes = mapped_bytes(r->reg);
  uint32_t cap = r->reg->capacity;
  if (r->reg->magic != SHMB_BELL_REG_MAGIC ||
      r->reg->version != SHMB_BELL_VERSION || cap == 0 ||
      cap > SHMB_BELL_MAX_WAITERS || SHMB_BELL_REGISTRY_SIZE(cap) > bytes)
    return bell_fail(s, SHMB_ECORRUPT, "the doorbell registry of section %s "
                     "has a bad header or capacity", s->name);
  r->capacity = cap;
  if (!(r->peers = calloc(cap, sizeof(*r->peers))) ||
      !(r->copy = calloc(cap, sizeof(*r->copy))))
    return SHMB_ENOMEM;
  r->generation = 1; /* odd: no registry read yet */
  return 0;
}

static int ringer_attach(shmb_section *s) {
  struct shmb__ringer *r = calloc(1, sizeof(*r));
  shmb_doorbell_reply rep;
  shmb_client *conn;
  uint8_t *payload;
  size_t plen;
  void *view;
  int rc, by_handle;

  if (!r)
    return SHMB_ENOMEM;
  if ((rc = doorbell_request(s, SHMB_WIRE_ACCESS_WRITE, &conn, &payload,
                             &plen, &rep)) != 0) {
    free(r);
    return rc;
  }
  by_handle = (rep.flags & SHMB_BELL_FLAG_HANDLE) != 0;
  if (by_handle && (rc = handles_ours(s, rep.pid)) != 0) {
    free(payload);
    shmb_disconnect(conn);
    free(r);
    return rc;
  }
  if (by_handle) {
    void *reg = NULL;
    int rc2;
    rc = take_page(s, rep.counter_h, FILE_MAP_READ | FILE_MAP_WRITE,
                   &r->counter_map, &view);
    /* The registry's handle is adopted (or left alone) whatever became of
     * the counter's, so that none is forgotten: ringer_free closes it. */
    rc2 = take_page(s, rep.registry_h, FILE_MAP_READ, &r->registry_map, &reg);
    r->reg = reg;
    if (rc == 0)
      rc = rc2;
  } else {
    rc = map_page(s, &rep.counter, FILE_MAP_READ | FILE_MAP_WRITE,
                  &r->counter_map, &view);
  }
  if (rc == 0 && (rc = counter_check(s, view)) != 0)
    UnmapViewOfFile(view);
  if (rc == 0) {
    r->counter = &((shmb_bell_counter_page *)view)->counter;
    r->closed = &((shmb_bell_counter_page *)view)->closed;
    if (!by_handle &&
        (rc = map_page(s, &rep.registry, FILE_MAP_READ, &r->registry_map,
                       &view)) == 0)
      r->reg = view;
  }
  if (rc == 0)
    rc = registry_check(s, r);
  free(payload);
  if (by_handle)
    r->conn = conn; /* for PEERS; ringer_free closes it */
  else
    shmb_disconnect(conn); /* ringing needs no registration */
  if (rc != 0) {
    ringer_free(r);
    return rc;
  }
  s->ringer = r;
  return 0;
}

/* Copies the registry's entries while its generation stays the same and
 * even (the service's seqlock). Returns the generation, or 1 (odd) when it
 * kept moving. */
static uint64_t registry_copy(struct shmb__ringer *r) {
  for (int i = 0; i < REGISTRY_TRIES; i++) {
    uint64_t g = __atomic_load_n(&r->reg->generation, __ATOMIC_ACQUIRE);
    if (g & 1) {
      if (i < REGISTRY_SPINS)
        YieldProcessor();
      else
        SwitchToThread();
      continue;
    }
    memcpy(r->copy, (const void *)r->reg->entries,
           r->capacity * sizeof(*r->copy));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&r->reg->generation, __ATOMIC_RELAXED) == g)
      return g;
  }
  return 1;
}

/* One copied entry: a live flag, NUL-terminated names of the service's
 * form. Anything else is corruption. */
static int entry_valid(const shmb_bell_entry *e) {
  const char *end1 = memchr(e->event, '\0', sizeof(e->event));
  const char *end2 = memchr(e->armed, '\0', sizeof(e->armed));
  if (e->live > 1)
    return 0;
  if (!e->live)
    return 1;
  return end1 && end2 &&
         shmb__object_name_check(e->event, (size_t)(end1 - e->event), NULL,
                                 0) == 0 &&
         shmb__object_name_check(e->armed, (size_t)(end2 - e->armed), NULL,
                                 0) == 0;
}

/* Opens waiter e's event (to signal) and armed page (to read). A waiter
 * that went away since leaves the place empty; 0 when that happened. */
static int peer_open(peer *p, const shmb_bell_entry *e) {
  wchar_t *we = shmb__wide_from_utf8(e->event);
  wchar_t *wa = shmb__wide_from_utf8(e->armed);
  memcpy(p->event, e->event, sizeof(p->event));
  if (we && wa && (p->ev = OpenEventW(EVENT_MODIFY_STATE, FALSE, we)) &&
      (p->armed_map = OpenFileMappingW(FILE_MAP_READ, FALSE, wa)))
    p->armed = MapViewOfFile(p->armed_map, FILE_MAP_READ, 0, 0,
                             sizeof(uint64_t));
  if (!p->armed)
    peer_close(p);
  free(we);
  free(wa);
  return p->armed != NULL;
}

static int peers_refresh(shmb_section *s, struct shmb__ringer *r);

static int registry_refresh(shmb_section *s, struct shmb__ringer *r) {
  uint64_t g;
  if (r->conn)
    return peers_refresh(s, r);
  g = registry_copy(r);
  int missed = 0;
  if (g & 1)
    return bell_fail(s, SHMB_EAGAIN, "the doorbell registry of section %s "
                     "kept changing while read; ring again", s->name);
  for (unsigned i = 0; i < r->capacity; i++)
    if (!entry_valid(&r->copy[i]))
      return bell_fail(s, SHMB_ECORRUPT, "the doorbell registry of section "
                       "%s has a malformed entry", s->name);
  for (unsigned i = 0; i < r->capacity; i++) {
    peer *p = &r->peers[i];
    const shmb_bell_entry *e = &r->copy[i];
    if (p->event[0] && (!e->live || strcmp(p->event, e->event) != 0))
      peer_close(p);
    if (e->live && !p->event[0] && !peer_open(p, e))
      missed = 1;
  }
  /* A live waiter we could not open (gone meanwhile, or short of memory):
   * an odd generation, which the registry never settles on, makes the
   * next ring read it again rather than skip that waiter until the
   * registry next changes. */
  r->generation = missed ? 1 : g;
  r->open_peers = 0;
  for (unsigned i = 0; i < r->capacity; i++)
    r->open_peers += r->peers[i].armed != NULL;
  return 0;
}

/* ---- ringing by handle ------------------------------------------------ */

/* One waiter as a PEERS reply lists it, its handles checked (or 0). */
typedef struct listed {
  uint32_t id;
  HANDLE ev, armed_map; /* ours once checked; NULL: not sent or refused */
  int bad;              /* sent but not what the service hands out */
} listed;

/* Checks and adopts an entry's handles: an event we may only signal and
 * an armed page we may only read. A value that fails its check is left
 * alone (it may be a handle of ours the reply did not mean). */
static void listed_take(shmb_section *s, const shmb_peer_item *it,
                        listed *l) {
  l->id = it->id;
  if (!it->event)
    return;
  if (shmb__handle_check_kind(it->event, L"Event", EVENT_MODIFY_STATE,
                              &l->ev, s->message, sizeof(s->message)) != 0)
    l->bad = 1;
  if (shmb__handle_check_kind(it->armed, L"Section", FILE_MAP_READ,
                              &l->armed_map, s->message,
                              sizeof(s->message)) != 0)
    l->bad = 1;
}

static void listed_close(listed *l) {
  if (l->ev)
    CloseHandle(l->ev);
  if (l->armed_map)
    CloseHandle(l->armed_map);
  l->ev = l->armed_map = NULL;
}

/* Asks the service for the waiters and reads its reply into l (capacity
 * entries, by registry index; id 0: not listed). Every handle in the
 * reply is ours afterwards or was left alone as not ours. */
static int peers_ask(shmb_section *s, struct shmb__ringer *r, listed *l,
                     shmb_peers_head *head) {
  shmb_client *c = r->conn;
  shmb_cursor cur;
  shmb_peer_item it;
  uint8_t *frame, *payload = NULL;
  size_t len, plen;
  int rc = shmb_encode_peers(++c->next_id, s->name, r->since, &frame, &len);

  if (rc != 0)
    return rc;
  rc = shmb__roundtrip(c, frame, len, SHMB_OP_PEERS, &payload, &plen);
  free(frame);
  if (rc != 0)
    return bell_fail(s, rc, "section %s: the service did not list the "
                     "doorbell's waiters: %s", s->name, c->message);
  rc = shmb_peers_reply_begin(payload, plen, &cur, head);
  if (rc == 0 && (rc = handles_ours(s, head->pid)) != 0) {
    free(payload);
    return rc;
  }
  while (rc == 0 && cur.remaining) {
    if ((rc = shmb_peers_reply_next(&cur, &it)) != 0)
      break;
    if (it.index >= r->capacity || l[it.index].id) {
      rc = SHMB_EPROTO;
      break;
    }
    listed_take(s, &it, &l[it.index]);
  }
  free(payload);
  if (rc != 0) {
    for (unsigned i = 0; i < r->capacity; i++)
      listed_close(&l[i]);
    return bell_fail(s, SHMB_EBADSERVER, "section %s: the service's list of "
                     "the doorbell's waiters is malformed", s->name);
  }
  return 0;
}

/* The peer of entry i becomes waiter l: its handles and armed word. */
static int peer_adopt(peer *p, listed *l) {
  p->armed = MapViewOfFile(l->armed_map, FILE_MAP_READ, 0, 0,
                           sizeof(uint64_t));
  if (!p->armed) {
    listed_close(l);
    return 0;
  }
  p->ev = l->ev;
  p->armed_map = l->armed_map;
  p->id = l->id;
  l->ev = l->armed_map = NULL;
  return 1;
}

/* The registry moved: the waiters as the service lists them now. Peers
 * that left (not listed, or another id at their place) are closed, new
 * ones adopted; handles sent for a waiter we already hold are closed. */
static int peers_refresh(shmb_section *s, struct shmb__ringer *r) {
  listed *l = calloc(r->capacity, sizeof(*l));
  shmb_peers_head head;
  int missed = 0, bad = 0, rc;

  if (!l)
    return SHMB_ENOMEM;
  if ((rc = peers_ask(s, r, l, &head)) != 0) {
    free(l);
    return rc;
  }
  for (unsigned i = 0; i < r->capacity; i++) {
    peer *p = &r->peers[i];
    if (p->id && p->id != l[i].id)
      peer_close(p);
    if (!l[i].id)
      continue;
    if (p->id == l[i].id)
      listed_close(&l[i]); /* held already */
    else if (l[i].bad)
      bad = missed = 1; /* s->message says which check failed */
    else if (!l[i].ev || !peer_adopt(p, &l[i]))
      missed = 1;
    listed_close(&l[i]);
  }
  free(l);
  /* A waiter we could not take: ask for every one again at the next
   * ring (since 0, and an odd generation the registry never has). */
  r->since = missed ? 0 : head.next;
  r->generation = missed ? 1 : head.generation;
  r->open_peers = 0;
  for (unsigned i = 0; i < r->capacity; i++)
    r->open_peers += r->peers[i].armed != NULL;
  return bad ? SHMB_EBADSERVER : 0;
}

/* The ringer, attached at the first ring; SHMB_EBELLCLOSED once the
 * service gave the doorbell up. */
static int ringer_get(shmb_section *section, struct shmb__ringer **out) {
  int rc;
  if (!section || !(section->access & SHMB_ACCESS_WRITE))
    return SHMB_EINVAL;
  if (!section->ringer && (rc = ringer_attach(section)) != 0)
    return rc;
  *out = section->ringer;
  if (__atomic_load_n((*out)->closed, __ATOMIC_ACQUIRE))
    return bell_fail(section, SHMB_EBELLCLOSED, "section %s: the service "
                     "closed this doorbell (the section was removed or "
                     "rotated, or the service stopped): open the section "
                     "again", section->name);
  return 0;
}

static int wake_armed(shmb_section *section, struct shmb__ringer *r);

int shmb_section_notify(shmb_section *section) {
  struct shmb__ringer *r;
  int rc = ringer_get(section, &r);
  if (rc != 0)
    return rc;
  /* The bump, then the fence, then the armed words: the ringer's half of
   * the Dekker pair in the file comment. */
  __atomic_fetch_add(r->counter, 1, __ATOMIC_SEQ_CST);
  return wake_armed(section, r);
}

int shmb__section_wake(shmb_section *section) {
  struct shmb__ringer *r;
  int rc = ringer_get(section, &r);
  if (rc != 0)
    return rc;
  /* The caller moved its own counter (the ring's) before this call. */
  return wake_armed(section, r);
}

/* The fence, then the armed words of every known waiter. */
static int wake_armed(shmb_section *section, struct shmb__ringer *r) {
  int rc = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (__atomic_load_n(&r->reg->generation, __ATOMIC_ACQUIRE) != r->generation)
    rc = registry_refresh(section, r);
  /* Even when the registry could not be read now, the waiters already
   * known are woken: the counter has moved, and a ring must not be lost
   * for them because someone else joined or left. */
  for (unsigned i = 0; r->open_peers && i < r->capacity; i++) {
    peer *p = &r->peers[i];
    uint64_t t = p->armed ? __atomic_load_n(p->armed, __ATOMIC_RELAXED) : 0;
    if (t != 0 && t != p->signalled) {
      SetEvent(p->ev);
      p->signalled = t;
      r->signals++;
    }
  }
  return rc;
}

uint64_t shmb__section_signals(const shmb_section *s) {
  return s->ringer ? s->ringer->signals : 0;
}

/* ---- waiting ---------------------------------------------------------- */

static void waiter_free(struct shmb__waiter *w) {
  if (!w)
    return;
  if (w->armed)
    UnmapViewOfFile((void *)w->armed);
  if (w->counter)
    UnmapViewOfFile((char *)w->counter - offsetof(shmb_bell_counter_page,
                                                  counter));
  if (w->armed_map)
    CloseHandle(w->armed_map);
  if (w->counter_map)
    CloseHandle(w->counter_map);
  if (w->event)
    CloseHandle(w->event);
  shmb_disconnect(w->conn); /* the service drops the registration */
  free(w);
}

static int open_event(shmb_section *s, const shmb_str *name, HANDLE *out) {
  char object[SHMB_BELL_NAME];
  wchar_t *w;
  int rc;

  if ((rc = object_name(s, name, object, &w)) != 0)
    return rc;
  *out = OpenEventW(SYNCHRONIZE, FALSE, w);
  free(w);
  if (!*out)
    return bell_fail(s, shmb__from_win32(GetLastError()),
                     "cannot open the doorbell event %s", object);
  return 0;
}

/* A waiter's objects from a DOORBELL reply by handle: the counter (read),
 * the event (wait only) and the armed page (read, write), each checked;
 * each one adopted is closed by waiter_free, whatever became of the
 * others. */
static int waiter_take(shmb_section *s, struct shmb__waiter *w,
                       const shmb_doorbell_reply *rep) {
  void *counter = NULL, *armed = NULL;
  int rc, rc2, rc3;
  if ((rc = handles_ours(s, rep->pid)) != 0)
    return rc;
  rc = take_page(s, rep->counter_h, FILE_MAP_READ, &w->counter_map,
                 &counter);
  rc2 = shmb__handle_check_kind(rep->event_h, L"Event", SYNCHRONIZE,
                                &w->event, s->message, sizeof(s->message));
  rc3 = take_page(s, rep->armed_h, FILE_MAP_READ | FILE_MAP_WRITE,
                  &w->armed_map, &armed);

  w->armed = armed;
  if (rc == 0 && (rc = counter_check(s, counter)) != 0)
    UnmapViewOfFile(counter);
  else if (rc == 0) {
    w->counter = &((const shmb_bell_counter_page *)counter)->counter;
    w->closed = &((const shmb_bell_counter_page *)counter)->closed;
  }
  return rc ? rc : rc2 ? rc2 : rc3;
}

/* A waiter's objects from a DOORBELL reply of names: the counter (read),
 * the event (wait) and the armed page (read, write), each opened by the
 * name the reply gives; what was opened is closed by waiter_free. */
static int waiter_open_named(shmb_section *s, struct shmb__waiter *w,
                             const shmb_doorbell_reply *rep) {
  void *view;
  int rc = map_page(s, &rep->counter, FILE_MAP_READ, &w->counter_map, &view);
  if (rc == 0 && (rc = counter_check(s, view)) != 0)
    UnmapViewOfFile(view);
  if (rc == 0) {
    w->counter = &((const shmb_bell_counter_page *)view)->counter;
    w->closed = &((const shmb_bell_counter_page *)view)->closed;
    rc = open_event(s, &rep->event, &w->event);
  }
  if (rc == 0 && (rc = map_page(s, &rep->armed, FILE_MAP_READ | FILE_MAP_WRITE,
                                &w->armed_map, &view)) == 0)
    w->armed = view;
  if (rc == 0) { /* checked by map_page and open_event: short, no NUL */
    memcpy(w->counter_name, rep->counter.ptr, rep->counter.len);
    memcpy(w->event_name, rep->event.ptr, rep->event.len);
  }
  return rc;
}

/* Registers as a waiter over a connection of the section's own and takes
 * its objects, by handle or by name as the reply gives them. */
static int waiter_attach(shmb_section *s) {
  struct shmb__waiter *w = calloc(1, sizeof(*w));
  shmb_doorbell_reply rep;
  uint8_t *payload;
  size_t plen;
  int rc;

  if (!w)
    return SHMB_ENOMEM;
  if ((rc = doorbell_request(s, SHMB_WIRE_ACCESS_READ, &w->conn, &payload,
                             &plen, &rep)) != 0) {
    free(w);
    return rc;
  }
  rc = rep.flags & SHMB_BELL_FLAG_HANDLE ? waiter_take(s, w, &rep)
                                         : waiter_open_named(s, w, &rep);
  free(payload);
  if (rc != 0) {
    waiter_free(w);
    return rc;
  }
  s->waiter = w;
  return 0;
}

static int waiter_get(shmb_section *s, struct shmb__waiter **out) {
  int rc;
  if (!s)
    return SHMB_EINVAL;
  if (!s->waiter && (rc = waiter_attach(s)) != 0)
    return rc;
  *out = s->waiter;
  return 0;
}

static void arm(struct shmb__waiter *w);

int shmb_section_counter(shmb_section *section, uint64_t *value) {
  struct shmb__waiter *w;
  int rc;
  if (!value)
    return SHMB_EINVAL;
  if ((rc = waiter_get(section, &w)) != 0)
    return rc;
  /* A wait handle's owner reads the counter after each firing: a new
   * ticket first, so that the next ring signals the handle again. */
  if (w->by_handle)
    arm(w);
  *value = __atomic_load_n(w->counter, __ATOMIC_ACQUIRE);
  return 0;
}

/* The counter a wait watches: the doorbell's own, or one the caller
 * names (a channel's ring counters). */
typedef struct watched {
  const volatile uint64_t *word; /* or NULL: read(ctx) */
  uint64_t (*read)(const void *ctx);
  const void *ctx;
} watched;

/* The counter moved past *seen: take the new value. */
static int moved(const watched *c, uint64_t *seen) {
  uint64_t v = c->word ? __atomic_load_n(c->word, __ATOMIC_ACQUIRE)
                       : c->read(c->ctx);
  if (v == *seen)
    return 0;
  *seen = v;
  return 1;
}

/* A new ticket in the armed word (file comment), then the fence of the
 * waiter's half of the Dekker pair. */
static void arm(struct shmb__waiter *w) {
  __atomic_store_n(w->armed, ++w->ticket, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void disarm(struct shmb__waiter *w) {
  if (!w->by_handle)
    __atomic_store_n(w->armed, 0, __ATOMIC_RELAXED);
}

/* Spin, arm, re-check, sleep; until the counter moves, time runs out or
 * the service closes the doorbell (it wakes us after setting closed). */
static int wait_loop(struct shmb__waiter *w, const watched *c, uint64_t *seen,
                     unsigned timeout_ms) {
  ULONGLONG start = GetTickCount64();
  for (;;) {
    ULONGLONG spent = GetTickCount64() - start;
    DWORD left, r;
    if (__atomic_load_n(w->closed, __ATOMIC_ACQUIRE))
      return SHMB_EBELLCLOSED;
    for (int i = 0; i < WAIT_SPINS; i++) {
      if (moved(c, seen))
        return 0;
      YieldProcessor();
    }
    /* The waiter's half of the Dekker pair: armed, fence, counter. */
    arm(w);
    if (moved(c, seen)) {
      disarm(w);
      return 0;
    }
    if (timeout_ms != SHMB_WAIT_FOREVER && spent >= timeout_ms) {
      disarm(w);
      return SHMB_ENOTRUNG;
    }
    left = timeout_ms == SHMB_WAIT_FOREVER ? INFINITE
                                           : (DWORD)(timeout_ms - spent);
    r = WaitForSingleObject(w->event, left);
    disarm(w);
    if (r == WAIT_FAILED)
      return shmb__from_win32(GetLastError());
  }
}

/* Waits for c to move past *seen, as shmb_section_wait. */
static int wait_for(shmb_section *section, struct shmb__waiter *w,
                    const watched *c, uint64_t *seen, unsigned timeout_ms) {
  int rc = wait_loop(w, c, seen, timeout_ms);
  if (rc == SHMB_EBELLCLOSED)
    bell_fail(section, rc, "section %s: the service closed this doorbell "
              "(the section was removed or rotated, or the service "
              "stopped) and woke its waiters: open the section again",
              section->name);
  return rc;
}

int shmb_section_wait(shmb_section *section, uint64_t *seen,
                      unsigned int timeout_ms) {
  struct shmb__waiter *w;
  watched c = {0};
  int rc;
  if (!seen)
    return SHMB_EINVAL;
  if ((rc = waiter_get(section, &w)) != 0)
    return rc;
  c.word = w->counter;
  return wait_for(section, w, &c, seen, timeout_ms);
}

int shmb__section_wait_for(shmb_section *section,
                           uint64_t (*read)(const void *ctx), const void *ctx,
                           uint64_t *seen, unsigned timeout_ms) {
  struct shmb__waiter *w;
  watched c = {NULL, read, ctx};
  int rc;
  if (!seen || !read)
    return SHMB_EINVAL;
  if ((rc = waiter_get(section, &w)) != 0)
    return rc;
  return wait_for(section, w, &c, seen, timeout_ms);
}

int shmb_section_wait_handle(shmb_section *section, void **handle) {
  struct shmb__waiter *w;
  int rc;
  if (!handle)
    return SHMB_EINVAL;
  *handle = NULL;
  if ((rc = waiter_get(section, &w)) != 0)
    return rc;
  /* The application sleeps on the event without telling us: stay armed,
   * so every ring signals it (one SetEvent per ring from then on). */
  w->by_handle = 1;
  arm(w);
  *handle = w->event;
  return 0;
}

const char *shmb_section_message(const shmb_section *section) {
  return section ? section->message : "";
}

int shmb__section_bell_names(shmb_section *s, const char **counter,
                             const char **event) {
  struct shmb__waiter *w;
  int rc = waiter_get(s, &w);
  if (rc != 0)
    return rc;
  *counter = w->counter_name;
  *event = w->event_name;
  return 0;
}

void shmb__section_bell_close(shmb_section *s) {
  ringer_free(s->ringer);
  waiter_free(s->waiter);
  s->ringer = NULL;
  s->waiter = NULL;
}
