/*
 * The descriptors of a doorbell's objects, derived from its section's
 * normalised descriptor: who may read the section may wait, who may write
 * it may ring (docs/channels.md, "Doorbell"). Each object kind maps the
 * section's map-read and map-write bits to the rights that kind needs, in
 * allow and deny ACEs alike; owner and group are the service's account and
 * nobody is granted WRITE_DAC, WRITE_OWNER or DELETE.
 */
#ifndef SVC_BELL_SD_H
#define SVC_BELL_SD_H

#include <windows.h>

#include <stddef.h>

typedef enum svc_bell_kind {
  SVC_BELL_COUNTER,  /* readers map-read, writers map-read and map-write */
  SVC_BELL_REGISTRY, /* writers (ringers) map-read; only the service writes */
  SVC_BELL_EVENT,    /* the waiter SYNCHRONIZE, writers EVENT_MODIFY_STATE */
  SVC_BELL_ARMED     /* the waiter map-read/write, writers map-read */
} svc_bell_kind;

/* The descriptor for one object of kind derived from section_sd (a
 * normalised section descriptor: allow and deny ACEs only). waiter_sid is
 * the waiter's SID text for SVC_BELL_EVENT and SVC_BELL_ARMED, else NULL.
 * On success *sd (LocalFree) and, if sddl is not NULL, *sddl (free()).
 * Returns 0 or SHMB_EINVAL / SHMB_ENOMEM / SHMB_ESYSTEM with err. */
int svc_bell_sd(PSECURITY_DESCRIPTOR section_sd, svc_bell_kind kind,
                const char *waiter_sid, PSECURITY_DESCRIPTOR *sd, char **sddl,
                char *err, size_t errlen);

#endif /* SVC_BELL_SD_H */
