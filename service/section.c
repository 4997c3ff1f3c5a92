/*
 * One section's life: descriptor, backing file, kernel object, flushes.
 *
 * Object names are fresh at every start (128 bits from BCryptGenRandom) so
 * nobody can create a section under the name before us, and nobody can open
 * one without asking the broker. If the name exists all the same, someone
 * squatted it: the section is not created, loudly (design.md, security
 * rule 2). A section delivered by handle (delivery = handle) has no name
 * at all: nothing to squat, guess or leak; it still carries its
 * descriptor, which the kernel checks when a holder of a handle asks to
 * duplicate it with more rights than the handle has.
 */
#include "section.h"

#include <aclapi.h>
#include <bcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backing.h"
#include "descriptor.h"
#include "doorbell.h"
#include "errors.h"
#include "grants.h"
#include "log.h"
#include "ring.h"
#include "wstr.h"

int svc_object_name(const char *ns, char out[SVC_OBJECT_NAME_MAX]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char rnd[16];
  char digits[sizeof(rnd) * 2 + 1];

  if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, rnd, sizeof(rnd),
                                      BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
    return SHMB_ESYSTEM;
  for (size_t i = 0; i < sizeof(rnd); i++) {
    digits[2 * i] = hex[rnd[i] >> 4];
    digits[2 * i + 1] = hex[rnd[i] & 15];
  }
  digits[sizeof(digits) - 1] = '\0';
  snprintf(out, SVC_OBJECT_NAME_MAX, "%s\\shmb-%s", ns, digits);
  return 0;
}

int svc_object_squatted(HANDLE h, DWORD e, const char *object, char *err,
                        size_t errlen) {
  if (h && e == ERROR_ALREADY_EXISTS) {
    CloseHandle(h);
    return shmb__fail(err, errlen, SHMB_EEXIST, "object %s already exists: "
                      "another process squatted the name; refusing it",
                      object);
  }
  if (h || (e != ERROR_ACCESS_DENIED && e != ERROR_INVALID_HANDLE))
    return 0;
  /* The name exists but is not ours to open (a squatter's descriptor
   * locks us out) or is another kind of object: squatted all the same. */
  return shmb__fail(err, errlen, SHMB_EEXIST, "object %s already exists and "
                    "is not ours (Win32 error %lu): another process "
                    "squatted the name; refusing it", object,
                    (unsigned long)e);
}

int svc_section_create(svc_section *sec, const char *object, uint64_t size,
                       PSECURITY_DESCRIPTOR sd, char *err, size_t errlen) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), sd, FALSE};
  wchar_t *wname = object ? shmb__wide_from_utf8(object) : NULL;
  HANDLE h;
  DWORD e;
  int rc;

  if (object && !wname)
    return SHMB_ENOMEM;
  /* A file-backed section takes its size from the file (checked by then). */
  h = CreateFileMappingW(sec->file ? sec->file : INVALID_HANDLE_VALUE, &sa,
                         PAGE_READWRITE | (sec->file ? 0 : SEC_COMMIT),
                         (DWORD)(size >> 32), (DWORD)size, wname);
  e = GetLastError();
  free(wname);
  if (object && (rc = svc_object_squatted(h, e, object, err, errlen)) != 0)
    return rc;
  if (!h)
    return shmb__fail(err, errlen, shmb__from_win32(e), "cannot create "
                      "object %s of %llu bytes (Win32 error %lu)",
                      object ? object : "(unnamed)", (unsigned long long)size,
                      (unsigned long)e);
  sec->mapping = h;
  sec->size = size;
  snprintf(sec->object, sizeof(sec->object), "%s", object ? object : "");
  return 0;
}

uint32_t svc_section_flags(const svc_section *sec) {
  return (sec->by_handle ? SHMB_OPEN_FLAG_HANDLE : 0) |
         (sec->bell ? SHMB_OPEN_FLAG_NOTIFY : 0) |
         (sec->channel == SHMB_RING_BROADCAST ? SHMB_OPEN_FLAG_BROADCAST : 0) |
         (sec->channel == SHMB_RING_QUEUE ? SHMB_OPEN_FLAG_QUEUE : 0);
}

/* A channel's ring, formatted before anyone can have the object's name:
 * clients attach to what the service wrote (common/ring.h). */
static int format_ring(svc_section *sec, char *err, size_t errlen) {
  void *view = MapViewOfFile(sec->mapping, FILE_MAP_WRITE, 0, 0, 0);
  int rc;
  if (!view)
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "[channel %s]: cannot map "
                      "the ring to format it (Win32 error %lu)", sec->name,
                      (unsigned long)GetLastError());
  rc = shmb_ring_init(view, (size_t)sec->size,
                      (enum shmb_ring_kind)sec->channel, sec->slots,
                      sec->slot_size);
  UnmapViewOfFile(view);
  if (rc != 0)
    return shmb__fail(err, errlen, rc, "[channel %s]: cannot format a ring "
                      "of %u slots of %u bytes in %llu bytes", sec->name,
                      sec->slots, sec->slot_size,
                      (unsigned long long)sec->size);
  return 0;
}

int svc_section_flush(svc_section *sec, const char *why) {
  if (!sec->view)
    return 0;
  if (!FlushViewOfFile(sec->view, 0) || !FlushFileBuffers(sec->file)) {
    sec->flush_failures++;
    shmb_log_error("section %s: flushing %s (%s) failed (Win32 error %lu)",
                   sec->name, sec->backing_file, why,
                   (unsigned long)GetLastError());
    return SHMB_EIO;
  }
  sec->flushes++;
  shmb_log(strcmp(why, "timer") == 0 ? SHMB_LOG_DEBUG : SHMB_LOG_INFO,
           "section %s: flushed (%s) to %s", sec->name, why,
           sec->backing_file);
  return 0;
}

void svc_section_free(svc_section *sec) {
  svc_doorbell_free(sec->bell);
  if (sec->view)
    UnmapViewOfFile(sec->view);
  if (sec->mapping)
    CloseHandle(sec->mapping);
  if (sec->file)
    CloseHandle(sec->file);
  if (sec->sd)
    LocalFree(sec->sd);
  free(sec->sddl);
  free(sec->backing_file);
  free(sec);
}

/* integrity = low: the label that lets low-integrity processes write up
 * to the section (no-write-up at low, so only processes below low, which
 * do not exist in practice, are held back); the DACL still decides who. */
#define LOW_LABEL "S:(ML;;NW;;;LW)"

/* The section's SDDL with the label integrity = low asks for (malloc'd). */
static int with_label(const shmb_section_config *sc, const char *sddl,
                      char **out, char *err, size_t errlen) {
  size_t n = strlen(sddl);
  if (!sc->integrity_low)
    return (*out = _strdup(sddl)) ? 0 : SHMB_ENOMEM;
  if (strstr(sddl, "S:"))
    return shmb__fail(err, errlen, SHMB_ECONFIG, "[section %s] (line %u): "
                      "integrity = low and an sddl with its own SACL (S:): "
                      "say the label once", sc->name, sc->sddl_line);
  if (!(*out = malloc(n + sizeof(LOW_LABEL))))
    return SHMB_ENOMEM;
  memcpy(*out, sddl, n);
  memcpy(*out + n, LOW_LABEL, sizeof(LOW_LABEL));
  return 0;
}

int svc_section_descriptor(const shmb_section_config *sc,
                           PSECURITY_DESCRIPTOR *sd, char **sddl, char *err,
                           size_t errlen) {
  char why[SHMB_CONFIG_ERR_MAX];
  char *text = NULL, *labelled = NULL;
  int rc;

  if (!sc->sddl && (rc = svc_grants_sddl(sc, &text, why, sizeof(why))) != 0)
    return shmb__fail(err, errlen, rc, "[section %s] %s", sc->name, why);
  if ((rc = with_label(sc, sc->sddl ? sc->sddl : text, &labelled, err,
                       errlen)) != 0) {
    free(text);
    return rc;
  }
  rc = svc_sd_from_sddl(labelled, sd, sddl, why, sizeof(why));
  free(labelled);
  if (rc != 0)
    shmb__fail(err, errlen, rc, "[section %s] (line %u): %s", sc->name,
               sc->sddl ? sc->sddl_line : sc->line, why);
  free(text);
  return rc;
}

/* The backing file of a file-backed section, held open while we run. */
static int attach_backing(svc_section *sec, const shmb_section_config *sc,
                          char *err, size_t errlen) {
  char why[SHMB_CONFIG_ERR_MAX];
  int created, rc;

  if (!(sec->backing_file = _strdup(sc->backing_file)))
    return SHMB_ENOMEM;
  rc = svc_backing_open(sc->name, sc->backing_file, sc->size, &sec->file,
                        &created, why, sizeof(why));
  if (rc != 0)
    return shmb__fail(err, errlen, rc, "[section %s] (line %u): %s",
                      sc->name, sc->line, why);
  return 0;
}

/* The kernel object under a fresh name, and our view to flush. */
static int make_object(svc_section *sec, const shmb_config *cfg, char *err,
                       size_t errlen) {
  const char *ns = cfg->ns == SHMB_NS_LOCAL ? "Local" : "Global";
  char why[SHMB_CONFIG_ERR_MAX];
  char object[SVC_OBJECT_NAME_MAX];
  int rc;

  if (!sec->by_handle && svc_object_name(ns, object) != 0)
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "[section %s]: no random "
                      "name from the system (BCryptGenRandom failed)",
                      sec->name);
  rc = svc_section_create(sec, sec->by_handle ? NULL : object, sec->size,
                          sec->sd, why, sizeof(why));
  if (rc != 0)
    return shmb__fail(err, errlen, rc, "[section %s]: %s", sec->name, why);
  if (sec->file &&
      !(sec->view = MapViewOfFile(sec->mapping, FILE_MAP_READ, 0, 0, 0)))
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "[section %s]: cannot map "
                      "a view to flush (Win32 error %lu)", sec->name,
                      (unsigned long)GetLastError());
  return sec->channel ? format_ring(sec, err, errlen) : 0;
}

/* The doorbell's pages, in the section's namespace, with descriptors
 * derived from the section's. */
static int make_bell(svc_section *sec, const shmb_config *cfg,
                     const shmb_section_config *sc, char *err, size_t errlen) {
  const char *ns = cfg->ns == SHMB_NS_LOCAL ? "Local" : "Global";
  unsigned cap = sc->max_waiters ? sc->max_waiters : SHMB_DEFAULT_MAX_WAITERS;
  char why[SHMB_CONFIG_ERR_MAX];
  /* By handle: no doorbell object gets a name either. */
  int rc = svc_doorbell_new(sec->by_handle ? NULL : svc_object_name, ns,
                            sec->sd, cap, &sec->bell, why, sizeof(why));
  if (rc != 0)
    return shmb__fail(err, errlen, rc, "[section %s] doorbell: %s", sec->name,
                      why);
  if (sec->by_handle)
    shmb_log_debug("section %s: unnamed doorbell, %u waiters at most",
                   sec->name, cap);
  else
    shmb_log_debug("section %s: doorbell counter %s, registry %s, %u waiters "
                 "at most", sec->name, sec->bell->counter_name,
                 sec->bell->registry_name, cap);
  return 0;
}

static void log_created(const svc_section *sec) {
  char who[1024];
  svc_sd_describe(sec->sd, who, sizeof(who));
  if (sec->channel)
    shmb_log_info("channel %s: %s of %u slots of %u bytes (%llu bytes, "
                  "paging file); %s", sec->name,
                  sec->channel == SHMB_RING_QUEUE ? "queue" : "broadcast",
                  sec->slots, sec->slot_size, (unsigned long long)sec->size,
                  who);
  else
    shmb_log_info("section %s: %llu bytes, %s%s; %s", sec->name,
                (unsigned long long)sec->size,
                sec->file ? "backed by " : "paging file",
                sec->file ? sec->backing_file : "", who);
  shmb_log_debug("section %s: descriptor %s", sec->name, sec->sddl);
  if (sec->by_handle)
    shmb_log_debug("section %s: no name, delivered by handle", sec->name);
  else
    shmb_log_debug("section %s: object %s", sec->name, sec->object);
}

int svc_section_new(const shmb_config *cfg, const shmb_section_config *sc,
                    svc_section **out, char *err, size_t errlen) {
  svc_section *sec = calloc(1, sizeof(*sec));
  int rc;

  if (!sec)
    return SHMB_ENOMEM;
  snprintf(sec->name, sizeof(sec->name), "%s", sc->name);
  sec->size = sc->size;
  sec->flush_interval_ms = sc->flush_interval_ms;
  sec->channel = sc->channel;
  sec->slots = sc->slots;
  sec->slot_size = sc->slot_size;
  sec->by_handle = shmb_config_delivery(cfg, sc) == SHMB_DELIVERY_HANDLE;
  if ((rc = svc_section_descriptor(sc, &sec->sd, &sec->sddl, err, errlen)))
    goto out_free_section;
  if (sc->backing_file && (rc = attach_backing(sec, sc, err, errlen)) != 0)
    goto out_free_section;
  if ((rc = make_object(sec, cfg, err, errlen)) != 0)
    goto out_free_section;
  if (sc->notify && (rc = make_bell(sec, cfg, sc, err, errlen)) != 0)
    goto out_free_section;
  log_created(sec);
  *out = sec;
  return 0;

out_free_section:
  svc_section_free(sec);
  return rc;
}

int svc_section_set_descriptor(svc_section *sec, PSECURITY_DESCRIPTOR sd,
                               char *sddl, char *err, size_t errlen) {
  /* Clients that already mapped keep their views; new opens, by the broker
   * and by the kernel, see the new DACL and label. */
  DWORD e = svc_sd_put(sec->mapping, sd);
  if (e != ERROR_SUCCESS)
    return shmb__fail(err, errlen, shmb__from_win32(e), "cannot change the "
                      "descriptor of %s (Win32 error %lu)", sec->name,
                      (unsigned long)e);
  /* The doorbell follows: who may now read may wait, write may ring. */
  if (sec->bell &&
      svc_doorbell_set_descriptor(sec->bell, sd, err, errlen) != 0)
    shmb_log_error("section %s: its doorbell keeps (part of) its old "
                   "descriptors: %s", sec->name, err);
  LocalFree(sec->sd);
  free(sec->sddl);
  sec->sd = sd;
  sec->sddl = sddl;
  return 0;
}
