/* config.c — the table of rgpud's settings (name, type, default, range, help),
 * in the manner of Redis' static_configs: parsing of the command line and of
 * config files, --help and the worker's argv are all driven by it. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum cfg_type { CFG_STRING, CFG_INT, CFG_LEVEL };

struct cfg_entry {
    const char *name;
    enum cfg_type type;
    size_t off, size;
    const char *dflt;
    long min, max;
    const char *help;
};

#define STR(f) CFG_STRING, offsetof(struct srv_config, f), sizeof(((struct srv_config *)0)->f)
#define INT(f) CFG_INT, offsetof(struct srv_config, f), sizeof(int)

static const struct cfg_entry cfg_table[] = {
    {"listen", STR(listen), "tcp://127.0.0.1:7070", 0, 0,
     "address to accept sessions on (loopback by default; port 0: any free port)"},
    {"backend", STR(backend), "auto", 0, 0,
     "auto | simgpu | nvidia | PATH of a libcuda.so.1 (auto: NVIDIA if it has a device, else simgpu)"},
    {"log-level", CFG_LEVEL, offsetof(struct srv_config, log_level), 16, "info", 0, 0,
     "error | warn | info | debug"},
    {"port-file", STR(port_file), "", 0, 0, "write the bound port to this file once listening"},
    {"user", STR(user), "", 0, 0, "when started as root, workers drop privileges to this user"},
    {"heartbeat-ms", INT(heartbeat_ms), "2000", 100, 600000,
     "interval of heartbeats sent while a call runs longer"},
    {"lane-idle-ms", INT(lane_idle_ms), "30000", 10, 86400000,
     "a client thread's worker thread idle this long ends (the next call starts another)"},
    {"bulk-staging", STR(bulk_staging), "auto", 0, 0,
     "auto | pinned: how copies of 1 MiB or more cross the worker. auto: straight between the "
     "connection and device memory where the backend's device memory is host memory (simgpu), "
     "else through page-locked staging pieces, received and copied in turn; pinned: the staging "
     "path with any backend (to test it without a GPU)"},
    {"credits", INT(credits), "256", 1, 65536, "calls a client may have in flight unacknowledged"},
    {"max-sessions", INT(max_sessions), "256", 1, 65536, "concurrent sessions (workers)"},
    {"handshake-timeout-ms", INT(handshake_timeout_ms), "10000", 100, 600000,
     "how long a new connection may take to send its HELLO"},
    {"shutdown-grace-ms", INT(shutdown_grace_ms), "5000", 0, 600000,
     "on SIGTERM, how long running sessions get to end by themselves (no new ones are accepted) "
     "before they are ended; a second SIGTERM ends them at once"},
    {"placement", STR(placement), "least-loaded", 0, 0,
     "least-loaded (fewest sessions, then least memory) | pack (fill a device before the next)"},
    {"devices-default", INT(devices_default), "1", 0, 64,
     "GPUs of a session that does not ask (RGPU_DEVICES unset); 0: all (not drained)"},
    {"device-sessions", INT(device_sessions), "0", 0, 65536,
     "sessions one GPU may hold at once, time-sliced (0: no limit)"},
    {"memory-quota", STR(memory_quota), "0", 0, 0,
     "device memory of a session on each of its GPUs: 0 (none), bytes (e.g. 2G) or N% of the GPU"},
    {"memory-headroom", STR(memory_headroom), "64M", 0, 0,
     "held on a GPU beside each quota for what the driver allocates itself (contexts, local memory)"},
    {"queue-timeout-ms", INT(queue_timeout_ms), "10000", 0, 3600000,
     "how long a session waits for free GPUs before it is refused (0: refused at once)"},
    {"admin", STR(admin), "", 0, 0,
     "admin socket (ZeroMQ URL) for rgpuctl; empty: ipc://$RGPU_RUN_DIR/rgpud.sock, off: none"},
    {"admin-credential", STR(admin_credential), "", 0, 0,
     "verifier (rgpuctl hash-secret) of the secret every admin request must carry; required for a "
     "tcp:// admin socket (rgpuctl: RGPU_ADMIN_SECRET or --secret-file)"},
    {"metrics", STR(metrics), "", 0, 0,
     "Prometheus text endpoint, HOST:PORT (empty: none)"},
    {"tenants", STR(tenants), "", 0, 0,
     "tenants file: NAME SCRAM-SHA-256$... [max-gpus=N] [max-sessions=N] [memory-quota=Q] per line "
     "(rgpuctl hash-secret); clients then need RGPU_TOKEN=NAME:SECRET. Empty: anonymous clients"},
    {"tls-cert", STR(tls_cert), "", 0, 0,
     "with a tls:// listen address: the server's certificate chain (PEM), which clients check "
     "against their CAs (RGPU_TLS_CA) and the name or address they dial"},
    {"tls-key", STR(tls_key), "", 0, 0,
     "the certificate's private key (PEM); read by the supervisor at start, never by workers"},
    {"allow-anonymous", INT(allow_anonymous), "0", 0, 1,
     "1: listen on an address other than loopback without authentication (logged loudly); "
     "0: refuse to start there"},
    {"keepalive-s", INT(keepalive_s), "20", 0, 7200,
     "a silent client connection is probed after this many seconds and its session ended "
     "when 3 probes (a third of it apart) go unanswered (0: no keepalive)"},
    {"image-cache", STR(image_cache), "", 0, 0,
     "directory of the code image cache (by SHA-256, one subdirectory per tenant); empty: "
     "$RGPU_RUN_DIR/images (RGPU_RUN_DIR defaults to /tmp/rgpu-$UID), off: none"},
    {"image-cache-mb", INT(image_cache_mb), "1024", 0, 1048576,
     "size bound of the image cache, all tenants together; the least recently used images go "
     "first (0: no cache on disk, images are still sent once per session)"},
};
#define CFG_N (sizeof cfg_table / sizeof cfg_table[0])

static const struct cfg_entry *cfg_find(const char *name)
{
    for (size_t i = 0; i < CFG_N; i++)
        if (!strcmp(cfg_table[i].name, name)) return &cfg_table[i];
    return NULL;
}

static int cfg_set(struct srv_config *c, const struct cfg_entry *e, const char *v, const char *where)
{
    char *dst = (char *)c + e->off;
    if (e->type == CFG_INT) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < e->min || n > e->max) {
            fprintf(stderr, "rgpud: %s: %s wants an integer in [%ld, %ld], not \"%s\"\n", where,
                    e->name, e->min, e->max, v);
            return -1;
        }
        *(int *)(void *)dst = (int)n;
        return 0;
    }
    if (e->type == CFG_LEVEL && srv_level_parse(v) < 0) {
        fprintf(stderr, "rgpud: %s: log-level is error, warn, info or debug, not \"%s\"\n", where, v);
        return -1;
    }
    if (strlen(v) >= e->size) {
        fprintf(stderr, "rgpud: %s: value of %s is too long\n", where, e->name);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

unsigned long long srv_size_bytes(const char *v)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    int shift = 0;
    if (errno || end == v || *v == '-') return 0;
    switch (*end) {
    case 'T': case 't': shift += 10; /* fall through */
    case 'G': case 'g': shift += 10; /* fall through */
    case 'M': case 'm': shift += 10; /* fall through */
    case 'K': case 'k': shift += 10; end++; break;
    default: break;
    }
    if ((*end == 'B' || *end == 'b') && shift) end++;
    if (*end || (shift && n > (~0ull >> shift))) return 0;
    return n << shift;
}

unsigned long long srv_quota_bytes(const char *v, unsigned long long total)
{
    size_t n = strlen(v);
    if (n > 1 && v[n - 1] == '%') {
        char num[32];
        snprintf(num, sizeof num, "%.*s", (int)(n - 1), v);
        unsigned long long pct = srv_size_bytes(num);
        return pct > 100 ? total : total / 100 * pct + total % 100 * pct / 100;
    }
    return srv_size_bytes(v);
}

/* Settings whose values the table's types cannot check. */
static int cfg_validate(const struct srv_config *c)
{
    if (strcmp(c->bulk_staging, "auto") && strcmp(c->bulk_staging, "pinned")) {
        fprintf(stderr, "rgpud: bulk-staging is auto or pinned, not \"%s\"\n", c->bulk_staging);
        return -1;
    }
    if (strcmp(c->placement, "least-loaded") && strcmp(c->placement, "pack")) {
        fprintf(stderr, "rgpud: placement is least-loaded or pack, not \"%s\"\n", c->placement);
        return -1;
    }
    size_t n = strlen(c->memory_quota);
    if (strcmp(c->memory_quota, "0") && !srv_quota_bytes(c->memory_quota, 1ull << 40)) {
        fprintf(stderr, "rgpud: memory-quota is 0, a size (4G, 512M, bytes) or a percentage "
                        "(25%%), not \"%s\"\n", c->memory_quota);
        return -1;
    }
    if (n > 1 && c->memory_quota[n - 1] == '%' && atoi(c->memory_quota) > 100) {
        fprintf(stderr, "rgpud: memory-quota %s is more than the whole device\n", c->memory_quota);
        return -1;
    }
    if (strcmp(c->memory_headroom, "0") && !srv_size_bytes(c->memory_headroom)) {
        fprintf(stderr, "rgpud: memory-headroom is a size (64M, bytes), not \"%s\"\n",
                c->memory_headroom);
        return -1;
    }
    return 0;
}

void srv_config_defaults(struct srv_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < CFG_N; i++) cfg_set(c, &cfg_table[i], cfg_table[i].dflt, "default");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

/* One "name value" line; '#' starts a comment. */
static int cfg_line(struct srv_config *c, char *line, const char *where)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *s = trim(line);
    if (!*s) return 0;
    char *v = s;
    while (*v && !isspace((unsigned char)*v)) v++;
    if (*v) *v++ = 0;
    v = trim(v);
    const struct cfg_entry *e = cfg_find(s);
    if (!e) {
        fprintf(stderr, "rgpud: %s: unknown setting \"%s\"\n", where, s);
        return -1;
    }
    if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
        v[strlen(v) - 1] = 0;
        v++;
    }
    return cfg_set(c, e, v, where);
}

static int cfg_file(struct srv_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "rgpud: cannot read config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024], where[SRV_STR_MAX + 32];
    int n = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        snprintf(where, sizeof where, "%s:%d", path, ++n);
        rc = cfg_line(c, line, where);
    }
    fclose(f);
    return rc;
}

/* Help text in lines of at most 80 columns, continued under its first column. */
static void help_wrapped(FILE *f, const char *h)
{
    const int col = 27, width = 80 - col;
    while (*h) {
        int n = (int)strlen(h);
        if (n > width) {
            n = width;
            while (n > 0 && h[n] != ' ') n--;
            if (n == 0) n = width;
        }
        fprintf(f, "%.*s\n", n, h);
        h += n;
        while (*h == ' ') h++;
        if (*h) fprintf(f, "%*s", col, "");
    }
}

void srv_config_usage(FILE *f)
{
    fprintf(f, "usage: rgpud [--config FILE] [--SETTING VALUE ...] [--help]\n\n"
               "rgpu's GPU server: accepts sessions of rgpu's libcuda.so.1 and runs their\n"
               "CUDA driver calls on a backend, one worker process per session.\n\n"
               "settings (command line overrides the config file; see docs/rgpud.conf.example):\n");
    for (size_t i = 0; i < CFG_N; i++) {
        fprintf(f, "  --%-22s ", cfg_table[i].name);
        help_wrapped(f, cfg_table[i].help);
        fprintf(f, "  %-24s (default: \"%s\")\n", "", cfg_table[i].dflt);
    }
}

/* The worker's own flags, which are not settings. */
static int worker_flag(struct srv_worker_args *w, const char *name, const char *v)
{
    if (!strcmp(name, "fd")) w->fd = atoi(v);
    else if (!strcmp(name, "hello-fd")) w->hello_fd = atoi(v);
    else if (!strcmp(name, "session")) w->session = strtoull(v, NULL, 10);
    else if (!strcmp(name, "backend-lib")) snprintf(w->backend_lib, sizeof w->backend_lib, "%s", v);
    else if (!strcmp(name, "pool-fd")) w->pool_fd = atoi(v);
    else if (!strcmp(name, "pool-slot")) w->pool_slot = atoi(v);
    else return -1;
    return 0;
}

/* Splits "--name=value" / "--name value"; returns the name or NULL. */
static const char *opt_split(char **argv, int argc, int *i, const char **val, char *buf, size_t len)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2)) return NULL;
    snprintf(buf, len, "%s", a + 2);
    char *eq = strchr(buf, '=');
    if (eq) {
        *eq = 0;
        *val = eq + 1;
    } else {
        *val = *i + 1 < argc ? argv[++*i] : NULL;
    }
    return buf;
}

static const char *find_config_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) return argv[i + 1];
        if (!strncmp(argv[i], "--config=", 9)) return argv[i] + 9;
    }
    return NULL;
}

int srv_config_parse(struct srv_config *c, struct srv_worker_args *w, int argc, char **argv)
{
    memset(w, 0, sizeof *w);
    w->fd = w->hello_fd = w->pool_fd = w->pool_slot = -1;
    const char *cf = find_config_arg(argc, argv);
    if (cf && cfg_file(c, cf) < 0) return -1;
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *v = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            srv_config_usage(stdout);
            return 1;
        }
        if (!strcmp(argv[i], "--worker")) {
            w->worker = 1;
            continue;
        }
        if (!opt_split(argv, argc, &i, &v, name, sizeof name)) {
            fprintf(stderr, "rgpud: unexpected argument \"%s\" (try --help)\n", argv[i]);
            return -1;
        }
        if (!v) {
            fprintf(stderr, "rgpud: --%s needs a value\n", name);
            return -1;
        }
        if (!strcmp(name, "config")) continue;
        const struct cfg_entry *e = cfg_find(name);
        if (e ? cfg_set(c, e, v, "command line") < 0 : worker_flag(w, name, v) < 0) {
            if (!e) fprintf(stderr, "rgpud: unknown option --%s (try --help)\n", name);
            return -1;
        }
    }
    srv_log_level = srv_level_parse(c->log_level);
    return cfg_validate(c);
}

int srv_config_to_argv(const struct srv_config *c, char **argv, int argc, int max)
{
    static char ints[CFG_N][16];
    for (size_t i = 0; i < CFG_N && argc + 2 < max; i++) {
        const struct cfg_entry *e = &cfg_table[i];
        const char *p = (const char *)c + e->off;
        if (e->type == CFG_INT) {
            snprintf(ints[i], sizeof ints[i], "%d", *(const int *)(const void *)p);
            p = ints[i];
        }
        static char names[CFG_N][64];
        snprintf(names[i], sizeof names[i], "--%s", e->name);
        argv[argc++] = names[i];
        argv[argc++] = (char *)p;
    }
    argv[argc] = NULL;
    return argc;
}
