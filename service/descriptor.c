/*
 * Builds the security descriptors of the service's objects.
 *
 * A section's descriptor starts as the administrator's SDDL, which we do not
 * trust to be tight: it might grant GA (and with it WRITE_DAC, WRITE_OWNER
 * and DELETE), omit the owner, or have no DACL at all, which would open the
 * memory to everyone. So it is rebuilt: owner and group are the service's own
 * account, every allow ACE keeps only map-read, map-write and query, deny
 * ACEs stay as written (and must come first, in Windows' canonical order),
 * and any construct we do not understand is refused, as is a descriptor
 * under which no one could read or write.
 */
#include "descriptor.h"

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "wstr.h"

const GENERIC_MAPPING svc_section_mapping = {
    STANDARD_RIGHTS_READ | SECTION_QUERY | SECTION_MAP_READ,
    STANDARD_RIGHTS_WRITE | SECTION_MAP_WRITE,
    STANDARD_RIGHTS_EXECUTE | SECTION_MAP_EXECUTE,
    SECTION_ALL_ACCESS,
};

int svc_self_sid(PSID *sid) {
  HANDLE token;
  BYTE buf[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  DWORD len;
  TOKEN_USER *user = (TOKEN_USER *)buf;
  DWORD sidlen;
  int rc = SHMB_ESYSTEM;

  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
    return SHMB_ESYSTEM;
  if (GetTokenInformation(token, TokenUser, buf, sizeof(buf), &len)) {
    sidlen = GetLengthSid(user->User.Sid);
    *sid = LocalAlloc(LMEM_FIXED, sidlen);
    if (!*sid)
      rc = SHMB_ENOMEM;
    else if (CopySid(sidlen, *sid, user->User.Sid))
      rc = 0;
    else
      LocalFree(*sid);
  }
  CloseHandle(token);
  return rc;
}

char *svc_sid_string(PSID sid) {
  LPWSTR w;
  char *s;
  if (!ConvertSidToStringSidW(sid, &w))
    return NULL;
  s = shmb__utf8_from_wide(w);
  LocalFree(w);
  return s;
}

char *svc_sd_to_sddl(PSECURITY_DESCRIPTOR sd) {
  LPWSTR w;
  char *s;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(
          sd, SDDL_REVISION_1,
          OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
              DACL_SECURITY_INFORMATION,
          &w, NULL))
    return NULL;
  s = shmb__utf8_from_wide(w);
  LocalFree(w);
  return s;
}

/* Parses SDDL text into a self-relative descriptor (LocalFree). */
int svc_sd_parse(const char *sddl, PSECURITY_DESCRIPTOR *sd, char *err,
                      size_t errlen) {
  wchar_t *w = shmb__wide_from_utf8(sddl);
  BOOL ok;
  DWORD e;
  if (!w) {
    snprintf(err, errlen, "sddl is not valid UTF-8");
    return SHMB_ECONFIG;
  }
  ok = ConvertStringSecurityDescriptorToSecurityDescriptorW(w, SDDL_REVISION_1,
                                                             sd, NULL);
  e = GetLastError();
  free(w);
  if (!ok) {
    snprintf(err, errlen, "sddl '%s' is not a valid security descriptor "
             "(Win32 error %lu)", sddl, (unsigned long)e);
    return SHMB_ECONFIG;
  }
  return 0;
}

/* Copies the admin's DACL ACE by ACE into out, narrowed as described at the
 * top of this file. */
static int narrow_dacl(PACL in, PACL *out, char *err, size_t errlen) {
  ACL_SIZE_INFORMATION info;
  DWORD size;
  PACL acl;

  if (!GetAclInformation(in, &info, sizeof(info), AclSizeInformation))
    return SHMB_ESYSTEM;
  int allows = 0, seen_allow = 0;

  size = sizeof(ACL) + info.AclBytesInUse; /* narrowing never grows an ACL */
  if (!(acl = LocalAlloc(LMEM_FIXED, size)))
    return SHMB_ENOMEM;
  if (!InitializeAcl(acl, size, ACL_REVISION))
    goto out_free_acl;

  for (DWORD i = 0; i < info.AceCount; i++) {
    ACE_HEADER *ace;
    ACCESS_MASK mask;
    PSID sid;
    BOOL added;

    if (!GetAce(in, i, (void **)&ace))
      goto out_free_acl;
    if (ace->AceFlags & INHERIT_ONLY_ACE)
      continue; /* applies to children only; sections have none */
    if (ace->AceType == ACCESS_ALLOWED_ACE_TYPE) {
      ACCESS_ALLOWED_ACE *a = (ACCESS_ALLOWED_ACE *)ace;
      mask = a->Mask;
      sid = &a->SidStart;
      MapGenericMask(&mask, (PGENERIC_MAPPING)&svc_section_mapping);
      mask &= SVC_SECTION_CLIENT_RIGHTS;
      seen_allow = 1;
      if (mask == 0)
        continue; /* e.g. execute only: nothing a client may have */
      added = AddAccessAllowedAce(acl, ACL_REVISION, mask, sid);
      if (mask & (SECTION_MAP_READ | SECTION_MAP_WRITE))
        allows++;
    } else if (ace->AceType == ACCESS_DENIED_ACE_TYPE) {
      ACCESS_DENIED_ACE *d = (ACCESS_DENIED_ACE *)ace;
      if (seen_allow) {
        /* AccessCheck stops at the first ACE that grants everything asked
         * for, so a deny after an allow may never be reached. */
        snprintf(err, errlen, "sddl has a deny (D) ACE after an allow (A) "
                 "ACE; put deny ACEs first (Windows' canonical order)");
        LocalFree(acl);
        return SHMB_ECONFIG;
      }
      mask = d->Mask;
      sid = &d->SidStart;
      MapGenericMask(&mask, (PGENERIC_MAPPING)&svc_section_mapping);
      added = AddAccessDeniedAce(acl, ACL_REVISION, mask, sid);
    } else {
      snprintf(err, errlen, "sddl has an ACE of type %u; only allow (A) and "
               "deny (D) ACEs are supported", (unsigned)ace->AceType);
      LocalFree(acl);
      return SHMB_ECONFIG;
    }
    if (!added)
      goto out_free_acl;
  }
  if (allows == 0) {
    /* Nobody could open it: a mistake, not a policy (Wine also turns
     * D:NO_ACCESS_CONTROL into an empty DACL rather than a NULL one). */
    snprintf(err, errlen, "sddl grants no one read or write access");
    LocalFree(acl);
    return SHMB_ECONFIG;
  }
  *out = acl;
  return 0;

out_free_acl:
  snprintf(err, errlen, "cannot rebuild the DACL (Win32 error %lu)",
           (unsigned long)GetLastError());
  LocalFree(acl);
  return SHMB_ESYSTEM;
}

/* Absolute descriptor from owner/group SID and DACL, made self-relative. */
static int assemble(PSID owner, PACL dacl, PSECURITY_DESCRIPTOR *out) {
  SECURITY_DESCRIPTOR abs;
  DWORD len = 0;
  PSECURITY_DESCRIPTOR rel;

  if (!InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorOwner(&abs, owner, FALSE) ||
      !SetSecurityDescriptorGroup(&abs, owner, FALSE) ||
      !SetSecurityDescriptorDacl(&abs, TRUE, dacl, FALSE) ||
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

int svc_sd_from_sddl(const char *sddl, PSECURITY_DESCRIPTOR *sd,
                     char **normalised, char *err, size_t errlen) {
  PSECURITY_DESCRIPTOR parsed;
  BOOL present, defaulted;
  PACL dacl = NULL, narrowed = NULL;
  PSID self = NULL;
  int rc;

  if ((rc = svc_sd_parse(sddl, &parsed, err, errlen)) != 0)
    return rc;
  rc = SHMB_ECONFIG;
  if (!GetSecurityDescriptorSacl(parsed, &present, &dacl, &defaulted) ||
      present) {
    snprintf(err, errlen, "sddl has a SACL (S:); audit and label entries "
             "are not supported");
    goto out_free_parsed;
  }
  if (!GetSecurityDescriptorDacl(parsed, &present, &dacl, &defaulted) ||
      !present) {
    snprintf(err, errlen, "sddl has no DACL (D:...): say who may read or "
             "write the section");
    goto out_free_parsed;
  }
  if (dacl == NULL) {
    snprintf(err, errlen, "sddl has a NULL DACL, which would give everyone "
             "full access; refused");
    goto out_free_parsed;
  }
  if ((rc = narrow_dacl(dacl, &narrowed, err, errlen)) != 0)
    goto out_free_parsed;
  if ((rc = svc_self_sid(&self)) != 0) {
    snprintf(err, errlen, "cannot read the service's own account");
    goto out_free_narrowed;
  }
  if ((rc = assemble(self, narrowed, sd)) != 0) {
    snprintf(err, errlen, "cannot build the descriptor (Win32 error %lu)",
             (unsigned long)GetLastError());
    goto out_free_self;
  }
  if (normalised && !(*normalised = svc_sd_to_sddl(*sd))) {
    LocalFree(*sd);
    *sd = NULL;
    rc = SHMB_ENOMEM;
    snprintf(err, errlen, "cannot print the normalised descriptor");
  }

out_free_self:
  LocalFree(self);
out_free_narrowed:
  LocalFree(narrowed);
out_free_parsed:
  LocalFree(parsed);
  return rc;
}

/* A descriptor from an SDDL template in which every "{me}" stands for the
 * service's own SID (owner, group, and its own full-access ACE). */
static int sd_for_self(const char *tmpl, PSECURITY_DESCRIPTOR *sd, char *err,
                       size_t errlen) {
  static const char mark[] = "{me}";
  PSID self;
  char *me, *text, *out;
  const char *q;
  int rc;

  if ((rc = svc_self_sid(&self)) != 0) {
    snprintf(err, errlen, "cannot read the service's own account");
    return rc;
  }
  me = svc_sid_string(self);
  LocalFree(self);
  if (!me)
    return SHMB_ENOMEM;
  if (!(text = malloc(strlen(tmpl) * (strlen(me) + 1) + 1))) {
    free(me);
    return SHMB_ENOMEM;
  }
  for (q = tmpl, out = text; *q;) {
    if (strncmp(q, mark, sizeof(mark) - 1) == 0) {
      out += sprintf(out, "%s", me);
      q += sizeof(mark) - 1;
    } else {
      *out++ = *q++;
    }
  }
  *out = '\0';
  free(me);
  rc = svc_sd_parse(text, sd, err, errlen);
  free(text);
  return rc;
}

int svc_pipe_sd(PSECURITY_DESCRIPTOR *sd, char *err, size_t errlen) {
  /* 0x12019b = FILE_GENERIC_READ | FILE_GENERIC_WRITE without
   * FILE_CREATE_PIPE_INSTANCE: clients talk, only we create instances. */
  return sd_for_self(
      "O:{me}G:{me}D:P(D;;GA;;;NU)(A;;GA;;;{me})(A;;GA;;;SY)"
      "(A;;0x12019b;;;AU)",
      sd, err, errlen);
}

int svc_file_sd(PSECURITY_DESCRIPTOR *sd, char *err, size_t errlen) {
  /* Clients reach the data through the section, never the file. */
  return sd_for_self("O:{me}G:{me}D:P(A;;FA;;;{me})(A;;FA;;;SY)(A;;FA;;;BA)",
                     sd, err, errlen);
}
