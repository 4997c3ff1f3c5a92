/*
 * Running under the service control manager.
 */
#ifndef SVC_SCM_H
#define SVC_SCM_H

/* Connects to the SCM and runs the service until it is stopped. Returns the
 * process exit code; SVC_EXIT_USAGE when the process was not started by the
 * SCM (run it with --console instead). */
int svc_scm_main(const char *config_path);

#endif /* SVC_SCM_H */
