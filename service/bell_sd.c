/*
 * Doorbell descriptors from a section's descriptor. The derivation works on
 * the section's DACL ACE by ACE, so deny ACEs keep their force: an account
 * denied map-write on the section is denied the ring right on every
 * doorbell object, one denied map-read is denied waiting and ringing. The
 * result is written as SDDL and parsed back, so what the unit tests pin is
 * exactly what the objects carry. A section's mandatory label (integrity =
 * low) is copied as it is: a low-integrity grantee that may use the
 * section may use its doorbell, and the DACL still says who.
 */
#include "bell_sd.h"

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor.h"
#include "errors.h"

/* Per kind: the rights an allow or deny ACE carries for the section's
 * read bit (r) and write bit (w), and the waiter's own right. */
typedef struct bell_map {
  DWORD allow_r, allow_w, deny_r, deny_w, waiter;
} bell_map;

static const bell_map maps[] = {
    /* Waiters read the counter; ringers bump it. */
    [SVC_BELL_COUNTER] = {FILE_MAP_READ, FILE_MAP_READ | FILE_MAP_WRITE,
                          FILE_MAP_READ | FILE_MAP_WRITE, FILE_MAP_WRITE, 0},
    /* Ringers look up whom to wake; readers need nothing from it. */
    [SVC_BELL_REGISTRY] = {0, FILE_MAP_READ, FILE_MAP_READ, FILE_MAP_READ, 0},
    /* Only its waiter waits on an event; ringers signal it. */
    [SVC_BELL_EVENT] = {0, EVENT_MODIFY_STATE,
                        SYNCHRONIZE | EVENT_MODIFY_STATE, EVENT_MODIFY_STATE,
                        SYNCHRONIZE},
    /* Only its waiter arms; ringers read whether it sleeps. A write-deny
     * takes nothing here: reading an armed word tells only whether
     * someone sleeps, and the waiter itself must keep its own word. */
    [SVC_BELL_ARMED] = {0, FILE_MAP_READ, FILE_MAP_READ | FILE_MAP_WRITE, 0,
                        FILE_MAP_READ | FILE_MAP_WRITE},
};

/* One ACE of the section as SDDL text for kind, or "" when it grants or
 * denies nothing there. */
static int derive_ace(const ACE_HEADER *h, const bell_map *m, char *out,
                      size_t outlen) {
  const ACCESS_ALLOWED_ACE *a = (const ACCESS_ALLOWED_ACE *)h;
  int deny = h->AceType == ACCESS_DENIED_ACE_TYPE;
  ACCESS_MASK mask = a->Mask;
  DWORD rights = 0;
  char *sid;

  MapGenericMask(&mask, (PGENERIC_MAPPING)&svc_section_mapping);
  if (mask & FILE_MAP_READ)
    rights |= deny ? m->deny_r : m->allow_r;
  if (mask & FILE_MAP_WRITE)
    rights |= deny ? m->deny_w : m->allow_w;
  out[0] = '\0';
  if (!rights)
    return 0;
  if (!ConvertSidToStringSidA((PSID)&a->SidStart, &sid))
    return SHMB_ESYSTEM;
  snprintf(out, outlen, "(%c;;0x%lx;;;%s)", deny ? 'D' : 'A',
           (unsigned long)rights, sid);
  LocalFree(sid);
  return 0;
}

/* The DACL's ACEs of one type (deny first, then allow) appended to text. */
static int append_aces(PACL dacl, BYTE type, const bell_map *m, char *text,
                       size_t textlen) {
  char ace[256];
  for (DWORD i = 0; i < dacl->AceCount; i++) {
    ACE_HEADER *h;
    int rc;
    if (!GetAce(dacl, i, (void **)&h))
      return SHMB_ESYSTEM;
    if (h->AceType != ACCESS_ALLOWED_ACE_TYPE &&
        h->AceType != ACCESS_DENIED_ACE_TYPE)
      return SHMB_EINVAL; /* the normaliser lets no other kind through */
    if (h->AceType != type)
      continue;
    if ((rc = derive_ace(h, m, ace, sizeof(ace))) != 0)
      return rc;
    if (strlen(text) + strlen(ace) + 1 > textlen)
      return SHMB_ENOMEM;
    strcat(text, ace);
  }
  return 0;
}

static int derive_sddl(PACL dacl, svc_bell_kind kind, const char *waiter,
                       char *text, size_t textlen) {
  const bell_map *m = &maps[kind];
  int rc;

  snprintf(text, textlen, "O:SYG:SYD:P");
  if ((rc = append_aces(dacl, ACCESS_DENIED_ACE_TYPE, m, text, textlen)))
    return rc;
  if (m->waiter) {
    size_t n = strlen(text);
    if (!waiter)
      return SHMB_EINVAL;
    snprintf(text + n, textlen - n, "(A;;0x%lx;;;%s)",
             (unsigned long)m->waiter, waiter);
  }
  return append_aces(dacl, ACCESS_ALLOWED_ACE_TYPE, m, text, textlen);
}

int svc_bell_sd(PSECURITY_DESCRIPTOR section_sd, svc_bell_kind kind,
                const char *waiter_sid, PSECURITY_DESCRIPTOR *sd, char **sddl,
                char *err, size_t errlen) {
  BOOL present, defaulted;
  PACL dacl;
  char *text;
  int rc;

  if (!GetSecurityDescriptorDacl(section_sd, &present, &dacl, &defaulted) ||
      !present || !dacl)
    return shmb__fail(err, errlen, SHMB_EINVAL, "the section's descriptor "
                      "has no DACL to derive the doorbell's from");
  if (!(text = malloc(8192)))
    return SHMB_ENOMEM;
  rc = derive_sddl(dacl, kind, waiter_sid, text, 8192);
  if (rc == 0) {
    char label[256];
    size_t n = strlen(text);
    rc = svc_sd_label_sddl(section_sd, label, sizeof(label));
    if (rc == 0 && n + strlen(label) + 1 > 8192)
      rc = SHMB_ENOMEM;
    if (rc == 0)
      strcpy(text + n, label);
  }
  if (rc != 0) {
    shmb__fail(err, errlen, rc, "cannot derive the doorbell's descriptor "
               "from the section's (%s)", shmb_strerror(rc));
    goto out_free_text;
  }
  if ((rc = svc_sd_parse(text, sd, err, errlen)) != 0)
    goto out_free_text;
  if (sddl && !(*sddl = svc_sd_to_sddl(*sd))) {
    LocalFree(*sd);
    *sd = NULL;
    rc = SHMB_ENOMEM;
  }
out_free_text:
  free(text);
  return rc;
}
