/* config.h — every rgpud setting in one struct, filled from the declarative
 * table in config.c: defaults, then --config FILE, then the command line.
 * The worker receives the supervisor's resolved settings on its command line. */
#ifndef RG_SRV_CONFIG_H
#define RG_SRV_CONFIG_H

#include <limits.h>
#include <stdio.h>

#define SRV_STR_MAX 512

struct srv_config {
    char listen[SRV_STR_MAX];
    char backend[SRV_STR_MAX];   /* "auto", "simgpu", "nvidia" or a path */
    char log_level[16];
    char port_file[SRV_STR_MAX];
    char user[64];               /* drop privileges to this user when started as root */
    int heartbeat_ms;
    int lane_idle_ms;
    int credits;
    int max_sessions;
    int handshake_timeout_ms;
    int shutdown_grace_ms;
    /* the GPU pool (pool.c, docs/pool.md) */
    char placement[16];          /* "least-loaded" or "pack" */
    char bulk_staging[16];       /* "auto" or "pinned" (bulk.c) */
    int devices_default;         /* devices of a session that asks for none */
    int device_sessions;         /* sessions per device (0: no limit) */
    char memory_quota[32];       /* per session and device: "0" none, bytes ("4G") or "25%" */
    char memory_headroom[32];    /* held on the device beside each quota for the driver's own use */
    int queue_timeout_ms;        /* how long a session waits for free GPUs (0: refused at once) */
    char admin[SRV_STR_MAX];     /* admin socket URL; "" the default ipc:// one, "off" none */
    char admin_credential[256];  /* SCRAM verifier every admin request must match ("": none) */
    char metrics[SRV_STR_MAX];   /* Prometheus text endpoint host:port ("" none) */
    int keepalive_s;             /* TCP keepalive idle time of session connections (0: off) */
    int allow_anonymous;         /* serve unauthenticated clients on a non-loopback address */
    char tenants[SRV_STR_MAX];   /* the tenants file (tenants.h); "": anonymous clients */
    char tls_cert[SRV_STR_MAX];  /* tls:// listen: certificate chain (PEM) */
    char tls_key[SRV_STR_MAX];   /* and its private key */
    char image_cache[SRV_STR_MAX]; /* code image cache root (imagecache.h); "": $RGPU_RUN_DIR/images */
    int image_cache_mb;          /* its size bound across tenants (0: no disk cache) */
};

/* Internal flags of a worker (not settings; set by the supervisor only). */
struct srv_worker_args {
    int worker;
    int fd, hello_fd;
    unsigned long long session;
    char backend_lib[PATH_MAX]; /* the resolved library to dlopen */
    int pool_fd, pool_slot;     /* the pool's table and this session's slot (pool.h) */
};

/* Fills defaults. */
void srv_config_defaults(struct srv_config *c);
/* Parses argv (with --config FILE applied first). Returns 0, 1 if --help was
 * printed, or -1 after printing a message naming the bad option. */
int srv_config_parse(struct srv_config *c, struct srv_worker_args *w, int argc, char **argv);
/* Appends "--name value" for every setting to argv (for the worker's exec);
 * the strings point into c. Returns the new argc. */
int srv_config_to_argv(const struct srv_config *c, char **argv, int argc, int max);
void srv_config_usage(FILE *f);

/* "4G", "512M", "1048576" (K, M, G, T: binary): bytes, 0 if not a size. */
unsigned long long srv_size_bytes(const char *v);
/* A quota setting on a device of `total` bytes: "0" (none: 0), a size, or "N%". */
unsigned long long srv_quota_bytes(const char *v, unsigned long long total);

#endif
