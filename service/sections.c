/*
 * Creates and holds the configured sections.
 *
 * A file-backed section's file is opened share-read only and kept open, so
 * nobody can write, delete or rename it under us, and the service keeps a
 * read-only view of it to flush dirty pages periodically and at stop.
 *
 * Object names are fresh at every start (128 bits from BCryptGenRandom) so
 * nobody can create a section under the name before us, and nobody can open
 * one without asking the broker. If the name exists all the same, someone
 * squatted it: the section is not created, and since start is all or nothing
 * the service refuses to start, loudly (design.md, security rule 2).
 */
#include "sections.h"

#include <aclapi.h>
#include <bcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "errors.h"
#include "grants.h"
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
  /* A file-backed section takes its size from the file (checked by then). */
  h = CreateFileMappingW(sec->file ? sec->file : INVALID_HANDLE_VALUE, &sa,
                         PAGE_READWRITE | (sec->file ? 0 : SEC_COMMIT),
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

/* A file that existed before us keeps whatever descriptor it had unless we
 * put ours on it: only SYSTEM, Administrators and the service may change
 * it, whoever made it. Failing that is logged, not fatal: the share mode
 * still keeps others from writing while we run. */
static void restrict_existing_file(svc_section *sec, PSECURITY_DESCRIPTOR fsd) {
  BOOL present, defaulted;
  PACL dacl;
  DWORD e = ERROR_INVALID_PARAMETER;
  if (GetSecurityDescriptorDacl(fsd, &present, &dacl, &defaulted))
    e = SetSecurityInfo(sec->file, SE_FILE_OBJECT,
                        DACL_SECURITY_INFORMATION |
                            PROTECTED_DACL_SECURITY_INFORMATION,
                        NULL, NULL, dacl, NULL);
  if (e != ERROR_SUCCESS)
    shmb_log_warn("section %s: cannot restrict the descriptor of %s (Win32 "
                  "error %lu)", sec->name, sec->backing_file,
                  (unsigned long)e);
}

/* Opens (or creates at the configured size) the backing file, exclusively
 * for writing: others may read it but not write, delete or rename it while
 * we run. A file of another size is refused, never truncated or grown. */
static int open_backing_file(svc_section *sec, char *err, size_t errlen) {
  PSECURITY_DESCRIPTOR fsd;
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  wchar_t *wpath;
  LARGE_INTEGER have, want;
  DWORD e;
  int created, rc;

  if ((rc = svc_file_sd(&fsd, err, errlen)) != 0)
    return rc;
  sa.lpSecurityDescriptor = fsd;
  if (!(wpath = shmb__wide_from_utf8(sec->backing_file))) {
    LocalFree(fsd);
    return SHMB_ENOMEM;
  }
  sec->file = CreateFileW(wpath, GENERIC_READ | GENERIC_WRITE | WRITE_DAC,
                          FILE_SHARE_READ, &sa, OPEN_ALWAYS,
                          FILE_ATTRIBUTE_NORMAL, NULL);
  e = GetLastError();
  created = sec->file != INVALID_HANDLE_VALUE && e != ERROR_ALREADY_EXISTS;
  if (sec->file != INVALID_HANDLE_VALUE && !created)
    restrict_existing_file(sec, fsd);
  LocalFree(fsd);
  if (sec->file == INVALID_HANDLE_VALUE) {
    sec->file = NULL;
    free(wpath);
    snprintf(err, errlen, "cannot open backing file %s (Win32 error %lu%s)",
             sec->backing_file, (unsigned long)e,
             e == ERROR_SHARING_VIOLATION ? ": another process has it open"
                                          : "");
    return SHMB_ECONFIG;
  }
  want.QuadPart = (LONGLONG)sec->size;
  if (created) {
    if (!SetFilePointerEx(sec->file, want, NULL, FILE_BEGIN) ||
        !SetEndOfFile(sec->file)) {
      e = GetLastError();
      CloseHandle(sec->file);
      sec->file = NULL;
      DeleteFileW(wpath);
      free(wpath);
      snprintf(err, errlen, "cannot make backing file %s %llu bytes long "
               "(Win32 error %lu)", sec->backing_file,
               (unsigned long long)sec->size, (unsigned long)e);
      return SHMB_ECONFIG;
    }
    shmb_log_info("section %s: created backing file %s", sec->name,
                  sec->backing_file);
  }
  free(wpath);
  if (!GetFileSizeEx(sec->file, &have) || have.QuadPart != want.QuadPart) {
    snprintf(err, errlen, "backing file %s is %lld bytes but the section's "
             "size is %llu: refusing it (it is never truncated or grown)",
             sec->backing_file, (long long)have.QuadPart,
             (unsigned long long)sec->size);
    CloseHandle(sec->file);
    sec->file = NULL;
    return SHMB_ECONFIG;
  }
  return 0;
}

int svc_section_flush(svc_section *sec) {
  if (!sec->view)
    return 0;
  if (!FlushViewOfFile(sec->view, 0) || !FlushFileBuffers(sec->file)) {
    shmb_log_error("section %s: flushing %s failed (Win32 error %lu)",
                   sec->name, sec->backing_file, (unsigned long)GetLastError());
    return SHMB_EIO;
  }
  return 0;
}

static void section_free(svc_section *sec) {
  if (sec->view) {
    svc_section_flush(sec);
    UnmapViewOfFile(sec->view);
  }
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

int svc_section_descriptor(const shmb_section_config *sc,
                           PSECURITY_DESCRIPTOR *sd, char **sddl, char *err,
                           size_t errlen) {
  char why[SHMB_CONFIG_ERR_MAX];
  char *text = NULL;
  int rc;

  if (!sc->sddl && (rc = svc_grants_sddl(sc, &text, why, sizeof(why))) != 0) {
    snprintf(err, errlen, "[section %s] %s", sc->name, why);
    return rc;
  }
  rc = svc_sd_from_sddl(sc->sddl ? sc->sddl : text, sd, sddl, why,
                        sizeof(why));
  if (rc != 0)
    snprintf(err, errlen, "[section %s] (line %u): %s", sc->name,
             sc->sddl ? sc->sddl_line : sc->line, why);
  free(text);
  return rc;
}

/* Builds one section from its config: descriptor, backing file, object. */
static int section_new(const shmb_config *cfg, const shmb_section_config *sc,
                       svc_section **out, char *err, size_t errlen) {
  const char *ns = cfg->ns == SHMB_NS_LOCAL ? "Local" : "Global";
  char why[SHMB_CONFIG_ERR_MAX];
  char object[SVC_OBJECT_NAME_MAX];
  svc_section *sec = calloc(1, sizeof(*sec));
  int rc;

  if (!sec)
    return SHMB_ENOMEM;
  snprintf(sec->name, sizeof(sec->name), "%s", sc->name);
  sec->size = sc->size;
  sec->flush_interval_ms = sc->flush_interval_ms;
  if ((rc = svc_section_descriptor(sc, &sec->sd, &sec->sddl, err, errlen)))
    goto out_free_section;
  if (sc->backing_file) {
    if (!(sec->backing_file = malloc(strlen(sc->backing_file) + 1))) {
      rc = SHMB_ENOMEM;
      goto out_free_section;
    }
    strcpy(sec->backing_file, sc->backing_file);
    if ((rc = open_backing_file(sec, why, sizeof(why))) != 0) {
      snprintf(err, errlen, "[section %s] (line %u): %s", sc->name, sc->line,
               why);
      goto out_free_section;
    }
  }
  if ((rc = svc_object_name(ns, object)) != 0) {
    snprintf(err, errlen, "[section %s]: no random name from the system "
             "(BCryptGenRandom failed)", sc->name);
    goto out_free_section;
  }
  rc = svc_section_create(sec, object, sc->size, sec->sd, why, sizeof(why));
  if (rc != 0) {
    snprintf(err, errlen, "[section %s]: %s", sc->name, why);
    goto out_free_section;
  }
  if (sec->file &&
      !(sec->view = MapViewOfFile(sec->mapping, FILE_MAP_READ, 0, 0, 0))) {
    snprintf(err, errlen, "[section %s]: cannot map a view to flush (Win32 "
             "error %lu)", sc->name, (unsigned long)GetLastError());
    rc = SHMB_ESYSTEM;
    goto out_free_section;
  }
  shmb_log_info("section %s: %llu bytes, %s%s, descriptor %s", sec->name,
                (unsigned long long)sec->size,
                sec->file ? "backed by " : "paging file",
                sec->file ? sec->backing_file : "", sec->sddl);
  shmb_log_debug("section %s: object %s", sec->name, sec->object);
  *out = sec;
  return 0;

out_free_section:
  section_free(sec);
  return rc;
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
  int rc = section_new(cfg, sc, &sec, err, errlen);
  if (rc != 0)
    return rc;
  if ((rc = registry_append(reg, sec)) != 0) {
    snprintf(err, errlen, "[section %s]: out of memory", sc->name);
    section_free(sec);
  }
  return rc;
}

int svc_registry_create(const shmb_config *cfg, svc_registry **out, char *err,
                        size_t errlen) {
  svc_registry *reg = calloc(1, sizeof(*reg));
  int rc = 0;

  if (!reg)
    return SHMB_ENOMEM;
  for (size_t i = 0; i < cfg->nsections && rc == 0; i++)
    rc = svc_registry_add(reg, cfg, &cfg->sections[i], err, errlen);
  if (rc != 0) {
    svc_registry_free(reg);
    return rc;
  }
  *out = reg;
  return 0;
}

void svc_registry_remove(svc_registry *reg, size_t i) {
  section_free(reg->sections[i]);
  memmove(&reg->sections[i], &reg->sections[i + 1],
          (reg->count - i - 1) * sizeof(reg->sections[0]));
  reg->count--;
}

void svc_registry_free(svc_registry *reg) {
  if (!reg)
    return;
  for (size_t i = 0; i < reg->count; i++)
    section_free(reg->sections[i]);
  free(reg->sections);
  free(reg);
}

svc_section *svc_registry_find(svc_registry *reg, const char *name) {
  for (size_t i = 0; i < reg->count; i++)
    if (strcmp(reg->sections[i]->name, name) == 0)
      return reg->sections[i];
  return NULL;
}

int svc_section_set_descriptor(svc_section *sec, PSECURITY_DESCRIPTOR sd,
                               char *sddl, char *err, size_t errlen) {
  BOOL present, defaulted;
  PACL dacl;
  DWORD e;

  if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) ||
      !present)
    return SHMB_EINVAL;
  /* Clients that already mapped keep their views; new opens, by the broker
   * and by the kernel, see the new DACL. */
  e = SetSecurityInfo(sec->mapping, SE_KERNEL_OBJECT,
                      DACL_SECURITY_INFORMATION |
                          PROTECTED_DACL_SECURITY_INFORMATION,
                      NULL, NULL, dacl, NULL);
  if (e != ERROR_SUCCESS) {
    snprintf(err, errlen, "cannot change the descriptor of %s (Win32 error "
             "%lu)", sec->name, (unsigned long)e);
    return shmb__from_win32(e);
  }
  LocalFree(sec->sd);
  free(sec->sddl);
  sec->sd = sd;
  sec->sddl = sddl;
  return 0;
}
