/* admin.h — rgpud's admin plane (supervisor side): a ZeroMQ REP socket that
 * answers rgpuctl's AdminRequests (rpc/proto/admin.proto) from the pool's
 * session table, and a Prometheus text endpoint with the same figures.
 * The default socket path is shared with rgpuctl (admin_default_url). */
#ifndef RG_SRV_ADMIN_H
#define RG_SRV_ADMIN_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

/* ipc://$RGPU_RUN_DIR/rgpud.sock, $RGPU_RUN_DIR defaulting to /tmp/rgpu-$UID.
 * -1 (out empty) when the directory's name does not fit: a cut path would
 * name another socket. */
static inline int admin_default_url(char *out, size_t len, char *dir, size_t dlen)
{
    const char *d = getenv("RGPU_RUN_DIR");
    int n = d && *d ? snprintf(dir, dlen, "%s", d)
                    : snprintf(dir, dlen, "/tmp/rgpu-%u", (unsigned)getuid());
    if (n >= 0 && (size_t)n < dlen) n = snprintf(out, len, "ipc://%s/rgpud.sock", dir);
    if (n < 0 || (size_t)n >= dlen || (size_t)n >= len) {
        if (len) out[0] = 0;
        return -1;
    }
    return 0;
}

/* What the admin plane reads and acts on (the supervisor's). */
struct admin_view {
    struct pool_table *pool;
    const struct srv_config *cfg;
    const char *backend;
    int shutting_down;
};

struct admin;

/* Binds the admin socket named by the setting ("" the default, "off" none) and
 * the metrics endpoint (cfg->metrics, "" none). NULL when both are off or
 * cannot be had (logged); the server runs without them. */
struct admin *admin_open(const struct srv_config *cfg);
/* zmq_pollitem_t entries to add to the supervisor's poll (at most 2); count. */
int admin_pollitems(struct admin *a, void *items);
/* Answers what is pending on its sockets (never blocks). */
void admin_serve(struct admin *a, struct admin_view *v);
/* Samples the session counters for the per-second rates (about once a second). */
void admin_tick(struct admin *a, struct admin_view *v);
void admin_close(struct admin *a);

#endif
