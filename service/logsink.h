/*
 * Where the service's log lines go: stderr in console mode, the Windows
 * Event Log (source "shmbroker") in service mode, and in both modes the
 * log_file of the config when one is set.
 */
#ifndef SVC_LOGSINK_H
#define SVC_LOGSINK_H

/* Service mode: send lines to the Event Log instead of stderr. */
void svc_logsink_use_eventlog(void);
/* Also append lines to path (UTF-8), or stop doing so (NULL). A file that
 * cannot be opened is reported and otherwise ignored. */
void svc_logsink_set_file(const char *path);
void svc_logsink_close(void);

#endif /* SVC_LOGSINK_H */
