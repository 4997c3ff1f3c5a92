/*
 * Reading the service's config file: the trust check (trust.h) and then the
 * strict parser of common/config.h.
 */
#ifndef SVC_CONFIGFILE_H
#define SVC_CONFIGFILE_H

#include <stddef.h>

#include "config.h"

/* Reads and parses a config file (UTF-8 path). err gets "FILE:LINE: what".
 * The file is opened once (no reparse point, one name), and unless insecure
 * it and its folder are checked through that handle for who may write them
 * before it is read from it; an untrusted or missing file is SHMB_ECONFIG
 * with the reason. */
int svc_config_load(const char *path, int insecure, shmb_config **cfg,
                    char *err, size_t errlen);

#endif /* SVC_CONFIGFILE_H */
