/* rgpud.h — the entry points of rgpud's two roles: the supervisor (listens,
 * reads each HELLO, starts one worker process per session) and the session
 * worker (runs one client's calls on the backend). */
#ifndef RG_SRV_RGPUD_H
#define RG_SRV_RGPUD_H

#include <stddef.h>

#include "config.h"

/* rgpud's own executable (/proc/self/exe), for exec of workers and for
 * finding simgpu at <bin>/../lib/simgpu. */
extern char srv_self_exe[PATH_MAX];

/* Resolves cfg->backend to a library path (probing for NVIDIA's driver in a
 * child process when "auto" or "nvidia"). Returns 0, or -1 with a log line. */
int srv_backend_resolve(const struct srv_config *cfg, char *lib, size_t len, char *kind,
                        size_t kind_len);

int srv_supervisor_main(struct srv_config *cfg);
int srv_worker_main(struct srv_config *cfg, struct srv_worker_args *w);

#endif
