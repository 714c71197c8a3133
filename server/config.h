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
    int credits;
    int max_sessions;
    int handshake_timeout_ms;
    int shutdown_grace_ms;
};

/* Internal flags of a worker (not settings; set by the supervisor only). */
struct srv_worker_args {
    int worker;
    int fd, hello_fd;
    unsigned long long session;
    char backend_lib[PATH_MAX]; /* the resolved library to dlopen */
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

#endif
