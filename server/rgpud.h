/* rgpud.h — the entry points of rgpud's two roles: the supervisor (listens,
 * reads each HELLO, starts one worker process per session) and the session
 * worker (runs one client's calls on the backend). */
#ifndef RG_SRV_RGPUD_H
#define RG_SRV_RGPUD_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* rgpud's own executable (/proc/self/exe), for exec of workers and for
 * finding simgpu at <bin>/../lib/simgpu. */
extern char srv_self_exe[PATH_MAX];

/* Resolves cfg->backend to a library path (probing for NVIDIA's driver in a
 * child process when "auto" or "nvidia"). Returns 0, or -1 with a log line. */
int srv_backend_resolve(const struct srv_config *cfg, char *lib, size_t len, char *kind,
                        size_t kind_len);
/* Runs child(arg, out) in a forked process, so a broken driver cannot take the
 * caller down; out is the write end of a pipe, the return the exit status.
 * Returns the pipe's read end (*pid the child), or -1. */
int srv_child_start(int (*child)(const void *arg, int out), const void *arg, pid_t *pid);
/* Closes fd and ends the child: a driver that hangs on exit cannot hold us. */
void srv_child_end(int fd, pid_t pid);

int srv_supervisor_main(struct srv_config *cfg);
int srv_worker_main(struct srv_config *cfg, struct srv_worker_args *w);

#endif
