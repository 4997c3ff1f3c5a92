/*
 * Section descriptors.
 *
 * A section's descriptor starts as the administrator's SDDL, which we do not
 * trust to be tight: it might grant GA (and with it WRITE_DAC, WRITE_OWNER
 * and DELETE), omit the owner, or have no DACL at all, which would open the
 * memory to everyone. So it is rebuilt: owner and group are the service's own
 * account, every allow ACE keeps only map-read, map-write and query, deny
 * ACEs stay as written (and must come first, in Windows' canonical order),
 * and any construct we do not understand is refused, as is a descriptor
 * under which no one could read or write. The SACL may hold exactly one
 * entry: a mandatory label (integrity = low puts S:(ML;;NW;;;LW) there so
 * that low-integrity grantees may write what the DACL grants them); audit
 * entries, a second label or label flags are refused.
 */
#include "descriptor.h"

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "errors.h"
#include "sid.h"
#include "wstr.h"

const GENERIC_MAPPING svc_section_mapping = {
    STANDARD_RIGHTS_READ | SECTION_QUERY | SECTION_MAP_READ,
    STANDARD_RIGHTS_WRITE | SECTION_MAP_WRITE,
    STANDARD_RIGHTS_EXECUTE | SECTION_MAP_EXECUTE,
    SECTION_ALL_ACCESS,
};

char *svc_sd_to_sddl(PSECURITY_DESCRIPTOR sd) {
  char label[128];
  LPWSTR w;
  char *s, *both;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(
          sd, SDDL_REVISION_1,
          OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
              DACL_SECURITY_INFORMATION,
          &w, NULL))
    return NULL;
  s = shmb__utf8_from_wide(w);
  LocalFree(w);
  if (!s || svc_sd_label_sddl(sd, label, sizeof(label)) != 0 || !label[0])
    return s;
  both = malloc(strlen(s) + strlen(label) + 1);
  if (both) {
    strcpy(both, s);
    strcat(both, label);
  }
  free(s);
  return both;
}

/* Through SetKernelObjectSecurity with a descriptor that holds both, not
 * SetSecurityInfo: Wine's SetSecurityInfo(LABEL_SECURITY_INFORMATION)
 * answers success but leaves the object with no label at all, so a
 * reload would silently strip integrity = low. Windows takes either. */
DWORD svc_sd_put(HANDLE h, PSECURITY_DESCRIPTOR sd) {
  BOOL present, defaulted, has_sacl;
  PACL dacl, sacl = NULL;
  BYTE empty[sizeof(ACL)];
  SECURITY_DESCRIPTOR abs;

  if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) ||
      !GetSecurityDescriptorSacl(sd, &has_sacl, &sacl, &defaulted))
    return GetLastError();
  if (!present)
    return ERROR_INVALID_SECURITY_DESCR;
  if (!has_sacl || !sacl) {
    /* No label: an empty label list puts the default back. */
    InitializeAcl((PACL)empty, sizeof(empty), ACL_REVISION);
    sacl = (PACL)empty;
  }
  if (!InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(&abs, TRUE, dacl, FALSE) ||
      !SetSecurityDescriptorSacl(&abs, TRUE, sacl, FALSE) ||
      !SetSecurityDescriptorControl(&abs, SE_DACL_PROTECTED,
                                    SE_DACL_PROTECTED) ||
      !SetKernelObjectSecurity(h,
                               DACL_SECURITY_INFORMATION |
                                   LABEL_SECURITY_INFORMATION,
                               &abs))
    return GetLastError();
  return ERROR_SUCCESS;
}

/* The label's policy and level as Windows' SDDL writes them. Written
 * here, not by ConvertSecurityDescriptorToStringSecurityDescriptor: Wine
 * prints a label ACE as "(;;CC;;;LW)", which does not parse back. */
static void label_text(const SYSTEM_MANDATORY_LABEL_ACE *ace, char *out,
                       size_t outlen) {
  static const struct {
    DWORD rid;
    const char *alias;
  } levels[] = {{SECURITY_MANDATORY_LOW_RID, "LW"},
                {SECURITY_MANDATORY_MEDIUM_RID, "ME"},
                {SECURITY_MANDATORY_MEDIUM_RID + 0x100, "MP"},
                {SECURITY_MANDATORY_HIGH_RID, "HI"},
                {SECURITY_MANDATORY_SYSTEM_RID, "SI"}};
  PSID sid = (PSID)&ace->SidStart;
  DWORD rid = *GetSidSubAuthority(sid, 0);
  const char *alias = NULL;
  char policy[16] = "", *sidtext = NULL;

  for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
    if (levels[i].rid == rid)
      alias = levels[i].alias;
  if (ace->Mask & SYSTEM_MANDATORY_LABEL_NO_WRITE_UP)
    strcat(policy, "NW");
  if (ace->Mask & SYSTEM_MANDATORY_LABEL_NO_READ_UP)
    strcat(policy, "NR");
  if (ace->Mask & SYSTEM_MANDATORY_LABEL_NO_EXECUTE_UP)
    strcat(policy, "NX");
  if (!alias)
    sidtext = svc_sid_string(sid);
  snprintf(out, outlen, "S:(ML;;%s;;;%s)", policy,
           alias ? alias : sidtext ? sidtext : "?");
  free(sidtext);
}

int svc_sd_label_sddl(PSECURITY_DESCRIPTOR sd, char *out, size_t outlen) {
  BOOL present, defaulted;
  ACE_HEADER *ace;
  PACL sacl;

  out[0] = '\0';
  if (!GetSecurityDescriptorSacl(sd, &present, &sacl, &defaulted))
    return SHMB_ESYSTEM;
  if (!present || !sacl)
    return 0;
  for (DWORD i = 0; i < sacl->AceCount; i++)
    if (GetAce(sacl, i, (void **)&ace) &&
        ace->AceType == SYSTEM_MANDATORY_LABEL_ACE_TYPE) {
      label_text((SYSTEM_MANDATORY_LABEL_ACE *)ace, out, outlen);
      return 0;
    }
  return 0;
}

int svc_sd_parse(const char *sddl, PSECURITY_DESCRIPTOR *sd, char *err,
                 size_t errlen) {
  wchar_t *w = shmb__wide_from_utf8(sddl);
  BOOL ok;
  DWORD e;
  if (!w)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl is not valid UTF-8");
  ok = ConvertStringSecurityDescriptorToSecurityDescriptorW(w, SDDL_REVISION_1,
                                                             sd, NULL);
  e = GetLastError();
  free(w);
  if (!ok)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl '%s' is not a valid "
                      "security descriptor (Win32 error %lu)", sddl,
                      (unsigned long)e);
  return 0;
}

/* What narrowing has seen so far. */
typedef struct narrowing {
  int seen_allow; /* a deny after this may never be reached */
  int grants;     /* allow ACEs that still give read or write */
} narrowing;

/* Appends the narrowed copy of one allow ACE to acl. */
static int narrow_allow(PACL acl, ACCESS_ALLOWED_ACE *a, narrowing *n) {
  ACCESS_MASK mask = a->Mask;
  MapGenericMask(&mask, (PGENERIC_MAPPING)&svc_section_mapping);
  mask &= SVC_SECTION_CLIENT_RIGHTS;
  n->seen_allow = 1;
  if (!(mask & (SECTION_QUERY | SECTION_MAP_READ | SECTION_MAP_WRITE)))
    return 0; /* e.g. execute only: nothing a client may have */
  if (mask & (SECTION_MAP_READ | SECTION_MAP_WRITE)) {
    /* Whoever may map the section may see who owns it (the SDK's check). */
    mask |= READ_CONTROL;
    n->grants++;
  } else {
    mask &= ~(ACCESS_MASK)READ_CONTROL;
  }
  return AddAccessAllowedAce(acl, ACL_REVISION, mask, &a->SidStart)
             ? 0
             : SHMB_ESYSTEM;
}

static int copy_deny(PACL acl, ACCESS_DENIED_ACE *d, const narrowing *n,
                     char *err, size_t errlen) {
  ACCESS_MASK mask = d->Mask;
  /* AccessCheck stops at the first ACE that grants everything asked for,
   * so a deny after an allow may never be reached. */
  if (n->seen_allow)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl has a deny (D) ACE "
                      "after an allow (A) ACE; put deny ACEs first (Windows' "
                      "canonical order)");
  MapGenericMask(&mask, (PGENERIC_MAPPING)&svc_section_mapping);
  return AddAccessDeniedAce(acl, ACL_REVISION, mask, &d->SidStart)
             ? 0
             : SHMB_ESYSTEM;
}

static int narrow_ace(PACL acl, ACE_HEADER *ace, narrowing *n, char *err,
                      size_t errlen) {
  if (ace->AceFlags & INHERIT_ONLY_ACE)
    return 0; /* applies to children only; sections have none */
  if (ace->AceType == ACCESS_ALLOWED_ACE_TYPE)
    return narrow_allow(acl, (ACCESS_ALLOWED_ACE *)ace, n);
  if (ace->AceType == ACCESS_DENIED_ACE_TYPE)
    return copy_deny(acl, (ACCESS_DENIED_ACE *)ace, n, err, errlen);
  return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl has an ACE of type %u; "
                    "only allow (A) and deny (D) ACEs are supported",
                    (unsigned)ace->AceType);
}

/* Copies the admin's DACL ACE by ACE into *out, narrowed as described at the
 * top of this file. */
static int narrow_dacl(PACL in, PACL *out, char *err, size_t errlen) {
  ACL_SIZE_INFORMATION info;
  narrowing n = {0, 0};
  DWORD size;
  PACL acl;
  int rc = SHMB_ESYSTEM;

  if (!GetAclInformation(in, &info, sizeof(info), AclSizeInformation))
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot read the DACL");
  size = sizeof(ACL) + info.AclBytesInUse; /* narrowing never grows an ACL */
  if (!(acl = LocalAlloc(LMEM_FIXED, size)))
    return SHMB_ENOMEM;
  if (!InitializeAcl(acl, size, ACL_REVISION))
    goto out_free_acl;
  for (DWORD i = 0; i < info.AceCount; i++) {
    ACE_HEADER *ace;
    if (!GetAce(in, i, (void **)&ace))
      goto out_free_acl;
    if ((rc = narrow_ace(acl, ace, &n, err, errlen)) != 0)
      goto out_free_acl;
  }
  /* Nobody could open it: a mistake, not a policy (Wine also turns
   * D:NO_ACCESS_CONTROL into an empty DACL rather than a NULL one). */
  if (n.grants == 0) {
    rc = shmb__fail(err, errlen, SHMB_ECONFIG,
                    "sddl grants no one read or write access");
    goto out_free_acl;
  }
  *out = acl;
  return 0;

out_free_acl:
  if (rc == SHMB_ESYSTEM)
    shmb__fail(err, errlen, rc, "cannot rebuild the DACL (Win32 error %lu)",
               (unsigned long)GetLastError());
  LocalFree(acl);
  return rc;
}

/* Absolute descriptor from owner/group SID, DACL and SACL (NULL: none),
 * made self-relative. */
static int assemble(PSID owner, PACL dacl, PACL sacl,
                    PSECURITY_DESCRIPTOR *out) {
  SECURITY_DESCRIPTOR abs;
  DWORD len = 0;
  PSECURITY_DESCRIPTOR rel;

  if (!InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorOwner(&abs, owner, FALSE) ||
      !SetSecurityDescriptorGroup(&abs, owner, FALSE) ||
      !SetSecurityDescriptorDacl(&abs, TRUE, dacl, FALSE) ||
      (sacl && !SetSecurityDescriptorSacl(&abs, TRUE, sacl, FALSE)) ||
      !SetSecurityDescriptorControl(&abs, SE_DACL_PROTECTED,
                                    SE_DACL_PROTECTED))
    return SHMB_ESYSTEM;
  MakeSelfRelativeSD(&abs, NULL, &len);
  if (!(rel = LocalAlloc(LMEM_FIXED, len)))
    return SHMB_ENOMEM;
  if (!MakeSelfRelativeSD(&abs, rel, &len)) {
    LocalFree(rel);
    return SHMB_ESYSTEM;
  }
  *out = rel;
  return 0;
}

/* The policy bits a label may carry: no-write-up, no-read-up,
 * no-execute-up. */
#define LABEL_POLICIES                                                         \
  (SYSTEM_MANDATORY_LABEL_NO_WRITE_UP | SYSTEM_MANDATORY_LABEL_NO_READ_UP |    \
   SYSTEM_MANDATORY_LABEL_NO_EXECUTE_UP)

/* The one label ACE of a SACL, copied into *label (LocalFree), or NULL
 * when in has no SACL. Anything else in it is refused. */
static int usable_label(PSECURITY_DESCRIPTOR in, PACL *label, char *err,
                        size_t errlen) {
  static SID_IDENTIFIER_AUTHORITY mandatory = {SECURITY_MANDATORY_LABEL_AUTHORITY};
  BOOL present, defaulted;
  SYSTEM_MANDATORY_LABEL_ACE *ace;
  PACL sacl;
  PSID sid;
  DWORD size;

  *label = NULL;
  if (!GetSecurityDescriptorSacl(in, &present, &sacl, &defaulted))
    return shmb__fail(err, errlen, SHMB_ECONFIG, "cannot read the SACL");
  if (!present)
    return 0;
  if (!sacl)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl has a NULL SACL; "
                      "a SACL may hold exactly one mandatory label (ML) "
                      "entry and nothing else");
  if (sacl->AceCount != 1 || !GetAce(sacl, 0, (void **)&ace) ||
      ace->Header.AceType != SYSTEM_MANDATORY_LABEL_ACE_TYPE)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl's SACL (S:) may hold "
                      "exactly one mandatory label (ML) entry and nothing "
                      "else; audit entries are not supported");
  sid = (PSID)&ace->SidStart;
  if (ace->Header.AceFlags != 0 || (ace->Mask & ~LABEL_POLICIES) != 0 ||
      ace->Mask == 0 ||
      memcmp(GetSidIdentifierAuthority(sid), &mandatory,
             sizeof(mandatory)) != 0 ||
      *GetSidSubAuthorityCount(sid) != 1)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl's label must be "
                      "(ML;;POLICY;;;LEVEL): no flags, a policy of NW, NR "
                      "or NX, and an integrity level (LW, ME, HI...)");
  size = sizeof(ACL) + sizeof(SYSTEM_MANDATORY_LABEL_ACE) + GetLengthSid(sid);
  if (!(*label = LocalAlloc(LMEM_FIXED, size)))
    return SHMB_ENOMEM;
  if (!InitializeAcl(*label, size, ACL_REVISION) ||
      !AddMandatoryAce(*label, ACL_REVISION, 0, ace->Mask, sid)) {
    LocalFree(*label);
    *label = NULL;
    return shmb__fail(err, errlen, SHMB_ESYSTEM, "cannot copy the label "
                      "(Win32 error %lu)", (unsigned long)GetLastError());
  }
  return 0;
}

/* The DACL of in, if it is one we accept at all. */
static int usable_dacl(PSECURITY_DESCRIPTOR in, PACL *dacl, char *err,
                       size_t errlen) {
  BOOL present, defaulted;

  if (!GetSecurityDescriptorDacl(in, &present, dacl, &defaulted) || !present)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl has no DACL "
                      "(D:...): say who may read or write the section");
  if (*dacl == NULL)
    return shmb__fail(err, errlen, SHMB_ECONFIG, "sddl has a NULL DACL, "
                      "which would give everyone full access; refused");
  return 0;
}

int svc_sd_normalise(PSECURITY_DESCRIPTOR in, PSECURITY_DESCRIPTOR *sd,
                     char **normalised, char *err, size_t errlen) {
  PACL dacl, narrowed = NULL, label = NULL;
  PSID self = NULL;
  int rc;

  if ((rc = usable_label(in, &label, err, errlen)) != 0)
    return rc;
  if ((rc = usable_dacl(in, &dacl, err, errlen)) != 0 ||
      (rc = narrow_dacl(dacl, &narrowed, err, errlen)) != 0) {
    LocalFree(label);
    return rc;
  }
  if ((rc = svc_self_sid(&self)) != 0) {
    shmb__fail(err, errlen, rc, "cannot read the service's own account");
    goto out_free_narrowed;
  }
  if ((rc = assemble(self, narrowed, label, sd)) != 0) {
    shmb__fail(err, errlen, rc, "cannot build the descriptor (Win32 error "
               "%lu)", (unsigned long)GetLastError());
    goto out_free_self;
  }
  if (normalised && !(*normalised = svc_sd_to_sddl(*sd))) {
    LocalFree(*sd);
    *sd = NULL;
    rc = shmb__fail(err, errlen, SHMB_ENOMEM,
                    "cannot print the normalised descriptor");
  }

out_free_self:
  LocalFree(self);
out_free_narrowed:
  LocalFree(narrowed);
  LocalFree(label);
  return rc;
}

int svc_sd_from_sddl(const char *sddl, PSECURITY_DESCRIPTOR *sd,
                     char **normalised, char *err, size_t errlen) {
  PSECURITY_DESCRIPTOR parsed;
  int rc;

  if ((rc = svc_sd_parse(sddl, &parsed, err, errlen)) != 0)
    return rc;
  rc = svc_sd_normalise(parsed, sd, normalised, err, errlen);
  LocalFree(parsed);
  return rc;
}

/* Section rights as the words docs/config.md uses. */
static void rights_words(ACCESS_MASK m, char *out, size_t outlen) {
  static const struct {
    ACCESS_MASK bit;
    const char *word;
  } words[] = {{SECTION_MAP_READ, "map-read"},
               {SECTION_MAP_WRITE, "map-write"},
               {SECTION_QUERY, "query"},
               {READ_CONTROL, "read-owner"},
               {SECTION_MAP_EXECUTE, "map-execute"}};
  size_t used = 0;

  out[0] = '\0';
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
    if (!(m & words[i].bit))
      continue;
    used += snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s",
                     used ? "," : "", words[i].word);
    m &= ~words[i].bit;
  }
  if (m)
    snprintf(out + used, used < outlen ? outlen - used : 0, "%s0x%lx",
             used ? "," : "", (unsigned long)m);
}

void svc_sd_describe(PSECURITY_DESCRIPTOR sd, char *out, size_t outlen) {
  BOOL present, defaulted;
  PACL dacl = NULL;
  size_t used = 0;

  snprintf(out, outlen, "(unreadable)");
  if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !dacl)
    return;
  out[0] = '\0';
  for (DWORD i = 0; i < dacl->AceCount && used < outlen; i++) {
    ACCESS_ALLOWED_ACE *ace; /* same layout as ACCESS_DENIED_ACE */
    char who[300], rights[80];
    if (!GetAce(dacl, i, (void **)&ace))
      continue;
    svc_account_name(&ace->SidStart, who, sizeof(who));
    rights_words(ace->Mask, rights, sizeof(rights));
    used += snprintf(out + used, outlen - used, "%s%s %s %s", i ? "; " : "",
                     ace->Header.AceType == ACCESS_DENIED_ACE_TYPE ? "deny"
                                                                   : "allow",
                     who, rights);
  }
}
