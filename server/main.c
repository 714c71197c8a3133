/* main.c — rgpud's entry: reads the settings, then runs as the supervisor or,
 * with the internal --worker flag, as the worker of one session. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "pool.h"
#include "quota.h"
#include "rgpud.h"

char srv_self_exe[PATH_MAX];

int main(int argc, char **argv)
{
    struct srv_config cfg;
    struct srv_worker_args w;

    srv_config_defaults(&cfg);
    int rc = srv_config_parse(&cfg, &w, argc, argv);
    if (rc) return rc > 0 ? 0 : 2;
    ssize_t n = readlink("/proc/self/exe", srv_self_exe, sizeof srv_self_exe - 1);
    if (n <= 0) {
        srv_err("cannot find my own executable (/proc/self/exe)");
        return 1;
    }
    srv_self_exe[n] = 0;
    signal(SIGPIPE, SIG_IGN);
    if (!w.worker) return srv_supervisor_main(&cfg);
    struct pool_table *pool;
    struct pool_slot *slot = w.pool_fd >= 0 ? pool_attach(w.pool_fd, w.pool_slot, &pool) : NULL;
    if (w.pool_fd >= 0 && !slot) srv_warn("session %llu: not in the pool's table; no quota, no figures",
                                          w.session);
    quota_attach(slot ? pool : NULL, slot); /* quota.c: the session's share of its GPUs */
    ipc_attach(slot ? pool : NULL, slot);   /* ipc.c: the export table */
    return srv_worker_main(&cfg, &w);
}
