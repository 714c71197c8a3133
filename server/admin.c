/* admin.c — the supervisor's admin plane: a ZeroMQ REP socket speaking
 * AdminRequest/AdminReply (rpc/proto/admin.proto) for rgpuctl (status,
 * sessions, kill, drain), and a Prometheus text endpoint (--metrics) with the
 * same figures. Both read the pool's session table (pool.h); rates come from
 * counters sampled about once a second. */
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <zmq.h>

#include "admin.pb-c.h"
#include "log.h"
#include "tenants.h"

struct rate { /* one slot's counters at the last sample, and its rates */
    uint64_t session, calls, bytes;
    double calls_s, bytes_s;
};

struct admin {
    void *ctx, *rep;
    char url[SRV_STR_MAX];
    int metrics_fd;
    long long sampled_ms;
    struct rate *rates; /* one per slot */
    uint32_t nrates;
    struct tenant cred; /* --admin-credential, when need_cred */
    int need_cred;
};

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Another rgpud answering on a default ipc:// socket keeps it: binding would
 * take its path away (ZeroMQ replaces the file). */
static int ipc_in_use(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) return 0;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int busy = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0) close(fd);
    return busy;
}

static int bind_admin(struct admin *a, const struct srv_config *cfg)
{
    char dir[SRV_STR_MAX];
    if (!strcmp(cfg->admin, "off")) return 0;
    if (!cfg->admin[0]) {
        if (admin_default_url(a->url, sizeof a->url, dir, sizeof dir)) {
            srv_warn("admin: RGPU_RUN_DIR is too long for a socket path; no admin socket "
                     "(use --admin)");
            return 0;
        }
        if (mkdir(dir, 0700) && errno != EEXIST) {
            srv_warn("admin: cannot create %s (%s); no admin socket", dir, strerror(errno));
            return 0;
        }
        if (ipc_in_use(a->url + 6)) {
            srv_warn(
                "admin: %s belongs to another running rgpud; no admin socket here (use --admin)",
                a->url);
            return 0;
        }
    } else {
        snprintf(a->url, sizeof a->url, "%s", cfg->admin);
    }
    if (cfg->admin_credential[0]) {
        if (tenants_verifier(cfg->admin_credential, &a->cred)) {
            srv_err("admin-credential is not a verifier (SCRAM-SHA-256$...: rgpuctl hash-secret)");
            return -1;
        }
        a->need_cred = 1;
    } else if (!strncmp(a->url, "tcp://", 6)) {
        srv_err("admin: %s would let anyone who reaches it end sessions: set --admin-credential "
                "(rgpuctl hash-secret), or use an ipc:// socket",
                a->url);
        return -1;
    }
    int linger = 0;
    if (!(a->ctx = zmq_ctx_new()) || !(a->rep = zmq_socket(a->ctx, ZMQ_REP)) ||
        zmq_setsockopt(a->rep, ZMQ_LINGER, &linger, sizeof linger) || zmq_bind(a->rep, a->url)) {
        srv_err("admin: cannot bind %s: %s", a->url, zmq_strerror(zmq_errno()));
        return -1;
    }
    if (!strncmp(a->url, "ipc://", 6)) chmod(a->url + 6, 0600); /* the operator's alone */
    srv_info("admin socket %s", a->url);
    return 0;
}

/* HOST:PORT, loopback when only :PORT is given. */
static int bind_metrics(struct admin *a, const char *spec)
{
    char host[256] = "127.0.0.1";
    const char *colon = strrchr(spec, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (!colon) return -1;
    if (colon > spec) snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return -1;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 16)) {
        close(fd);
        return -1;
    }
    a->metrics_fd = fd;
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    srv_info("metrics on http://%s:%u/metrics", host, ntohs(sa.sin_port));
    return 0;
}

struct admin *admin_open(const struct srv_config *cfg)
{
    struct admin *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->metrics_fd = -1;
    if (bind_admin(a, cfg)) goto fail;
    if (cfg->metrics[0] && bind_metrics(a, cfg->metrics)) {
        srv_err("metrics: cannot listen on %s (HOST:PORT): %s", cfg->metrics, strerror(errno));
        goto fail;
    }
    if (!a->rep && a->metrics_fd < 0) goto fail;
    return a;
fail:
    admin_close(a);
    return NULL;
}

int admin_pollitems(struct admin *a, void *items)
{
    zmq_pollitem_t *it = items;
    int n = 0;
    if (a && a->rep) it[n++] = (zmq_pollitem_t){.socket = a->rep, .events = ZMQ_POLLIN};
    if (a && a->metrics_fd >= 0)
        it[n++] = (zmq_pollitem_t){.fd = a->metrics_fd, .events = ZMQ_POLLIN};
    return n;
}

void admin_close(struct admin *a)
{
    if (!a) return;
    if (a->rep) zmq_close(a->rep);
    if (a->ctx) zmq_ctx_term(a->ctx);
    if (a->metrics_fd >= 0) close(a->metrics_fd);
    if (a->rep && !strncmp(a->url, "ipc://", 6)) unlink(a->url + 6);
    free(a->rates);
    free(a);
}

/* ---- the figures ----------------------------------------------------------------------- */

void admin_tick(struct admin *a, struct admin_view *v)
{
    long long now = mono_ms();
    if (!a || !v->pool) return;
    if (!a->rates) {
        if (!(a->rates = calloc(v->pool->nslots, sizeof *a->rates))) return;
        a->nrates = v->pool->nslots;
    }
    double dt = (now - a->sampled_ms) / 1000.0;
    if (a->sampled_ms && dt < 0.5) return;
    for (uint32_t i = 0; i < a->nrates; i++) {
        struct pool_slot *s = &v->pool->slot[i];
        struct rate *r = &a->rates[i];
        uint64_t c = atomic_load(&s->calls),
                 b = atomic_load(&s->bytes_in) + atomic_load(&s->bytes_out);
        int same = atomic_load(&s->state) != POOL_FREE && s->session == r->session && a->sampled_ms;
        r->calls_s = same && c >= r->calls ? (double)(c - r->calls) / dt : 0;
        r->bytes_s = same && b >= r->bytes ? (double)(b - r->bytes) / dt : 0;
        r->session = atomic_load(&s->state) != POOL_FREE ? s->session : 0;
        r->calls = c;
        r->bytes = b;
    }
    a->sampled_ms = now;
}

struct figures { /* the reply being built, and its storage */
    Rgpu__AdminReply rep;
    Rgpu__AdminDevice dev[POOL_MAX_DEVICES], *pdev[POOL_MAX_DEVICES];
    Rgpu__AdminSession *ses, **pses;
    int32_t *devs;
};

static const char *state_name(int st)
{
    return st == POOL_RUNNING ? "running" : "placed";
}

static void fill_session(struct admin *a, struct admin_view *v, uint32_t i, Rgpu__AdminSession *m,
                         int32_t *devs, Rgpu__AdminDevice *dev)
{
    struct pool_slot *s = &v->pool->slot[i];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    rgpu__admin_session__init(m);
    m->id = s->session;
    m->tenant = s->tenant;
    m->client_host = s->host;
    m->client_pid = s->client_pid;
    m->program = s->program;
    m->user = s->user;
    m->peer = s->peer;
    m->worker_pid = (uint32_t)s->pid;
    m->state = (char *)state_name(atomic_load(&s->state));
    m->calls = atomic_load(&s->calls);
    m->bytes_in = atomic_load(&s->bytes_in);
    m->bytes_out = atomic_load(&s->bytes_out);
    if (a && i < a->nrates && a->rates[i].session == s->session) {
        m->calls_per_s = a->rates[i].calls_s;
        m->bytes_per_s = a->rates[i].bytes_s;
    }
    m->uptime_s = (now - s->start_ms) / 1000.0;
    m->n_devices = (size_t)s->ndev;
    m->devices = devs;
    for (int k = 0; k < s->ndev; k++) {
        uint64_t u = atomic_load(&s->used[k]);
        Rgpu__AdminDevice *d = &dev[s->dev[k]];
        devs[k] = s->dev[k];
        m->memory_used += u;
        if (s->quota[k] > m->memory_quota) m->memory_quota = s->quota[k];
        d->memory_used += u;
        d->memory_quota += s->quota[k];
        d->sessions++;
        if (a && i < a->nrates && a->rates[i].session == s->session) {
            d->calls_per_s += a->rates[i].calls_s / s->ndev;
            d->bytes_per_s += a->rates[i].bytes_s / s->ndev;
        }
    }
}

/* Fills f from the table; 0, or -1 without memory. Free with figures_free. */
static int figures_build(struct admin *a, struct admin_view *v, struct figures *f)
{
    struct pool_table *t = v->pool;
    memset(f, 0, sizeof *f);
    rgpu__admin_reply__init(&f->rep);
    f->rep.ok = 1;
    f->rep.server_version = (char *)RGPU_VERSION;
    f->rep.backend = (char *)v->backend;
    f->rep.placement = (char *)v->cfg->placement;
    f->rep.shutting_down = v->shutting_down;
    for (int d = 0; d < t->ndev; d++) {
        Rgpu__AdminDevice *m = &f->dev[d];
        rgpu__admin_device__init(m);
        m->index = d;
        m->name = t->dev[d].name;
        m->uuid = t->dev[d].uuid;
        m->memory_total = t->dev[d].total;
        m->drained = atomic_load(&t->dev[d].drained) != 0;
        f->pdev[d] = m;
    }
    f->rep.n_devices = (size_t)t->ndev;
    f->rep.devices = f->pdev;
    f->ses = calloc(t->nslots + 1, sizeof *f->ses);
    f->pses = calloc(t->nslots + 1, sizeof *f->pses);
    f->devs = calloc((size_t)(t->nslots + 1) * POOL_MAX_DEVICES, sizeof *f->devs);
    if (!f->ses || !f->pses || !f->devs) return -1;
    size_t n = 0;
    for (uint32_t i = 0; i < t->nslots; i++) {
        if (atomic_load(&t->slot[i].state) == POOL_FREE) continue;
        fill_session(a, v, i, &f->ses[n], f->devs + (size_t)n * POOL_MAX_DEVICES, f->dev);
        f->pses[n] = &f->ses[n];
        n++;
    }
    f->rep.n_sessions = n;
    f->rep.sessions = f->pses;
    return 0;
}

static void figures_free(struct figures *f)
{
    free(f->ses);
    free(f->pses);
    free(f->devs);
}

/* ---- commands ---------------------------------------------------------------------------- */

static void kill_session(struct admin_view *v, uint64_t id, Rgpu__AdminReply *r, char *msg,
                         size_t len)
{
    for (uint32_t i = 0; i < v->pool->nslots; i++) {
        struct pool_slot *s = &v->pool->slot[i];
        if (atomic_load(&s->state) == POOL_FREE || s->session != id || s->pid <= 0) continue;
        atomic_store(&s->killed, 1);
        kill(s->pid, SIGTERM); /* the worker ends at once; reaping gives its GPUs back */
        srv_info("admin: session %llu (worker %d, %s pid %u) killed", (unsigned long long)id,
                 s->pid, s->host, s->client_pid);
        snprintf(msg, len, "session %llu ended", (unsigned long long)id);
        r->ok = 1;
        return;
    }
    snprintf(msg, len, "no session %llu", (unsigned long long)id);
}

static void drain(struct admin_view *v, int d, int on, Rgpu__AdminReply *r, char *msg, size_t len)
{
    if (d < 0 || d >= v->pool->ndev) {
        snprintf(msg, len, "no device %d (the pool has %d: 0..%d)", d, v->pool->ndev,
                 v->pool->ndev - 1);
        return;
    }
    atomic_store(&v->pool->dev[d].drained, on);
    int n = pool_device_sessions(v->pool, d);
    srv_info("admin: device %d %s (%d session(s) on it)", d, on ? "drained" : "back in the pool",
             n);
    snprintf(msg, len,
             on ? "device %d drained: no new sessions; %d running session(s) go on"
                : "device %d takes new sessions again (%d running)",
             d, n);
    r->ok = 1;
}

static void answer(struct admin *a, struct admin_view *v, const Rgpu__AdminRequest *q)
{
    struct figures f;
    char msg[256] = "";
    int rc = figures_build(a, v, &f);
    Rgpu__AdminReply *r = &f.rep;
    if (!q) {
        r->ok = 0;
        snprintf(msg, sizeof msg, "request does not parse as an AdminRequest");
    } else if (a->need_cred && !tenants_secret_ok(&a->cred, q->credential)) {
        figures_free(&f);
        memset(&f, 0, sizeof f); /* nothing but the refusal */
        rgpu__admin_reply__init(&f.rep);
        r = &f.rep;
        srv_warn("admin: a request without the right credential refused");
        snprintf(msg, sizeof msg,
                 "the admin credential is missing or wrong "
                 "(rgpuctl: RGPU_ADMIN_SECRET or --secret-file)");
    } else if (q->command == RGPU__ADMIN_COMMAND__ADMIN_KILL ||
               q->command == RGPU__ADMIN_COMMAND__ADMIN_DRAIN ||
               q->command == RGPU__ADMIN_COMMAND__ADMIN_UNDRAIN) {
        r->ok = 0;
        if (q->command == RGPU__ADMIN_COMMAND__ADMIN_KILL)
            kill_session(v, q->session, r, msg, sizeof msg);
        else
            drain(v, q->device, q->command == RGPU__ADMIN_COMMAND__ADMIN_DRAIN, r, msg, sizeof msg);
        if (r->ok) { /* the figures after the change */
            figures_free(&f);
            rc = figures_build(a, v, &f);
            r = &f.rep;
        }
        r->ok = msg[0] && strncmp(msg, "no ", 3);
    } else if (q->command == RGPU__ADMIN_COMMAND__ADMIN_SESSIONS) {
        r->n_devices = 0;
    } else if (q->command != RGPU__ADMIN_COMMAND__ADMIN_STATUS) {
        r->ok = 0;
        snprintf(msg, sizeof msg, "unknown command %d", (int)q->command);
    }
    if (rc) {
        r->ok = 0;
        r->n_sessions = 0;
        snprintf(msg, sizeof msg, "rgpud is out of memory");
    }
    r->message = msg;
    size_t n = rgpu__admin_reply__get_packed_size(r);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) rgpu__admin_reply__pack(r, buf);
    if (zmq_send(a->rep, buf, buf ? n : 0, ZMQ_DONTWAIT) < 0)
        srv_warn("admin: reply not sent: %s", zmq_strerror(zmq_errno()));
    free(buf);
    figures_free(&f);
}

static void serve_admin(struct admin *a, struct admin_view *v)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, a->rep, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        Rgpu__AdminRequest *q =
            zmq_msg_size(&m) <= 4096
                ? rgpu__admin_request__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m))
                : NULL;
        zmq_msg_close(&m);
        answer(a, v, q);
        if (q) rgpu__admin_request__free_unpacked(q, NULL);
    }
}

/* ---- Prometheus ------------------------------------------------------------------------- */

static void metrics_text(struct admin *a, struct admin_view *v, FILE *o)
{
    struct figures f;
    if (figures_build(a, v, &f)) {
        figures_free(&f);
        return;
    }
    Rgpu__AdminReply *r = &f.rep;
    static const struct {
        const char *name, *help;
    } g[] = {
        {"rgpu_device_memory_total_bytes", "device memory"},
        {"rgpu_device_memory_used_bytes", "memory allocated by its sessions"},
        {"rgpu_device_memory_quota_bytes", "sum of its sessions' quotas"},
        {"rgpu_device_sessions", "sessions placed on it"},
        {"rgpu_device_drained", "1 when no new sessions are placed on it"},
        {"rgpu_device_calls_per_second", "calls of its sessions"},
        {"rgpu_device_bytes_per_second", "bytes of its sessions' calls, both ways"},
    };
    for (size_t k = 0; k < sizeof g / sizeof *g; k++) {
        fprintf(o, "# HELP %s %s\n# TYPE %s gauge\n", g[k].name, g[k].help, g[k].name);
        for (size_t d = 0; d < r->n_devices; d++) {
            Rgpu__AdminDevice *m = r->devices[d];
            double val[] = {(double)m->memory_total,
                            (double)m->memory_used,
                            (double)m->memory_quota,
                            m->sessions,
                            m->drained,
                            m->calls_per_s,
                            m->bytes_per_s};
            fprintf(o, "%s{device=\"%d\",uuid=\"%s\"} %.17g\n", g[k].name, m->index, m->uuid,
                    val[k]);
        }
    }
    fprintf(o, "# HELP rgpu_sessions sessions\n# TYPE rgpu_sessions gauge\nrgpu_sessions %zu\n",
            r->n_sessions);
    fprintf(o, "# HELP rgpu_session_memory_used_bytes memory a session allocated\n"
               "# TYPE rgpu_session_memory_used_bytes gauge\n");
    for (size_t i = 0; i < r->n_sessions; i++)
        fprintf(o, "rgpu_session_memory_used_bytes{session=\"%llu\",tenant=\"%s\"} %llu\n",
                (unsigned long long)r->sessions[i]->id, r->sessions[i]->tenant,
                (unsigned long long)r->sessions[i]->memory_used);
    fprintf(o, "# HELP rgpu_session_calls_total calls a session ran\n"
               "# TYPE rgpu_session_calls_total counter\n");
    for (size_t i = 0; i < r->n_sessions; i++)
        fprintf(o, "rgpu_session_calls_total{session=\"%llu\",tenant=\"%s\"} %llu\n",
                (unsigned long long)r->sessions[i]->id, r->sessions[i]->tenant,
                (unsigned long long)r->sessions[i]->calls);
    figures_free(&f);
}

/* One scrape: the request is read briefly and ignored (every path is /metrics). */
static void serve_metrics(struct admin *a, struct admin_view *v)
{
    int c = accept4(a->metrics_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return;
    char req[2048], *body = NULL;
    size_t blen = 0;
    struct pollfd pf = {.fd = c, .events = POLLIN};
    if (poll(&pf, 1, 100) > 0 && read(c, req, sizeof req) < 0) { /* nothing to do */
    }
    FILE *o = open_memstream(&body, &blen);
    if (o) {
        metrics_text(a, v, o);
        fclose(o);
    }
    char head[160];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      blen);
    if (write(c, head, (size_t)hn) == hn && body && blen) {
        ssize_t w = write(c, body, blen);
        (void)w;
    }
    free(body);
    close(c);
}

void admin_serve(struct admin *a, struct admin_view *v)
{
    if (!a) return;
    if (a->rep) serve_admin(a, v);
    if (a->metrics_fd >= 0) {
        struct pollfd pf = {.fd = a->metrics_fd, .events = POLLIN};
        while (poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN))
            serve_metrics(a, v);
    }
}
