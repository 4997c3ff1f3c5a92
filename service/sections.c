/*
 * Creates and holds the configured sections.
 *
 * Object names are fresh at every start (128 bits from BCryptGenRandom) so
 * nobody can create a section under the name before us, and nobody can open
 * one without asking the broker. If the name exists all the same, someone
 * squatted it: the section is not created, and since start is all or nothing
 * the service refuses to start, loudly (design.md, security rule 2).
 */
#include "sections.h"

#include <bcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "errors.h"
#include "log.h"
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

int svc_section_create(svc_section *sec, const char *object, uint64_t size,
                       PSECURITY_DESCRIPTOR sd, char *err, size_t errlen) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), sd, FALSE};
  wchar_t *wname = shmb__wide_from_utf8(object);
  HANDLE h;
  DWORD e;

  if (!wname)
    return SHMB_ENOMEM;
  h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE | SEC_COMMIT,
                         (DWORD)(size >> 32), (DWORD)size, wname);
  e = GetLastError();
  free(wname);
  if (h && e == ERROR_ALREADY_EXISTS) {
    CloseHandle(h);
    snprintf(err, errlen, "object %s already exists: another process "
             "squatted the name; refusing it", object);
    return SHMB_EEXIST;
  }
  if (!h && (e == ERROR_ACCESS_DENIED || e == ERROR_INVALID_HANDLE)) {
    /* The name exists but is not ours to open (a squatter's descriptor
     * locks us out) or is another kind of object: squatted all the same. */
    snprintf(err, errlen, "object %s already exists and is not ours (Win32 "
             "error %lu): another process squatted the name; refusing it",
             object, (unsigned long)e);
    return SHMB_EEXIST;
  }
  if (!h) {
    snprintf(err, errlen, "cannot create object %s of %llu bytes (Win32 "
             "error %lu)", object, (unsigned long long)size, (unsigned long)e);
    return shmb__from_win32(e);
  }
  sec->mapping = h;
  sec->size = size;
  snprintf(sec->object, sizeof(sec->object), "%s", object);
  return 0;
}

static void section_release(svc_section *sec) {
  if (sec->mapping)
    CloseHandle(sec->mapping);
  if (sec->sd)
    LocalFree(sec->sd);
  sec->mapping = NULL;
  sec->sd = NULL;
}

static int create_one(const shmb_config *cfg, const shmb_section_config *sc,
                      svc_section *sec, char *err, size_t errlen) {
  const char *ns = cfg->ns == SHMB_NS_LOCAL ? "Local" : "Global";
  char why[SHMB_CONFIG_ERR_MAX];
  char object[SVC_OBJECT_NAME_MAX];
  char *normalised = NULL;
  int rc;

  snprintf(sec->name, sizeof(sec->name), "%s", sc->name);
  rc = svc_sd_from_sddl(sc->sddl, &sec->sd, &normalised, why, sizeof(why));
  if (rc != 0) {
    snprintf(err, errlen, "[section %s] (line %u): %s", sc->name, sc->line,
             why);
    return rc;
  }
  if ((rc = svc_object_name(ns, object)) != 0) {
    snprintf(err, errlen, "[section %s]: no random name from the system "
             "(BCryptGenRandom failed)", sc->name);
    goto out_free_normalised;
  }
  rc = svc_section_create(sec, object, sc->size, sec->sd, why, sizeof(why));
  if (rc != 0) {
    snprintf(err, errlen, "[section %s]: %s", sc->name, why);
    goto out_free_normalised;
  }
  shmb_log_info("section %s: %llu bytes, descriptor %s", sec->name,
                (unsigned long long)sec->size, normalised);
  shmb_log_debug("section %s: object %s", sec->name, sec->object);

out_free_normalised:
  free(normalised);
  return rc;
}

int svc_registry_create(const shmb_config *cfg, svc_registry **out, char *err,
                        size_t errlen) {
  svc_registry *reg = calloc(1, sizeof(*reg));
  int rc = 0;

  if (!reg)
    return SHMB_ENOMEM;
  if (cfg->nsections &&
      !(reg->sections = calloc(cfg->nsections, sizeof(*reg->sections)))) {
    free(reg);
    return SHMB_ENOMEM;
  }
  for (size_t i = 0; i < cfg->nsections && rc == 0; i++) {
    rc = create_one(cfg, &cfg->sections[i], &reg->sections[i], err, errlen);
    reg->count = i + 1; /* the failed one is released below too */
  }
  if (rc != 0) {
    svc_registry_free(reg);
    return rc;
  }
  *out = reg;
  return 0;
}

void svc_registry_free(svc_registry *reg) {
  if (!reg)
    return;
  for (size_t i = 0; i < reg->count; i++)
    section_release(&reg->sections[i]);
  free(reg->sections);
  free(reg);
}

svc_section *svc_registry_find(svc_registry *reg, const char *name) {
  for (size_t i = 0; i < reg->count; i++)
    if (strcmp(reg->sections[i].name, name) == 0)
      return &reg->sections[i];
  return NULL;
}
