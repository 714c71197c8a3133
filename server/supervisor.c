/* supervisor.c — rgpud's listening process: accepts connections, and for each
 * forks a child that reads the HELLO (pre-auth size limit, timeout), refuses a
 * version mismatch, authenticates the tenant (SCRAM-SHA-256, tenants.c), places the session
 * on GPUs of the pool (pool.c: it may wait in the queue) and execs `rgpud
 * --worker` with the connection and its devices (tls://: it stays as the
 * session's TLS end and relays to the worker). Signals arrive through a
 * self-pipe: SIGTERM/SIGINT drain then stop (a second one at once), SIGHUP
 * reloads the tenants file, SIGCHLD reaps. The admin socket (admin.c) is
 * served in the same poll loop. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "admin.h"
#include "log.h"
#include "tenants.h"
#include "msg.h"
#include "rgpud.h"
#include "share.h"
#include "tls.h"

struct supervisor {
    struct srv_config *cfg;
    tp_listener *l;
    char backend_lib[PATH_MAX];
    char backend_kind[SRV_STR_MAX];
    pid_t *kids;
    int nkids;
    unsigned long long next_session;
    struct simgpu_share *share; /* simgpu workers' device memory (simgpu/share.h) */
    struct pool_table *pool;    /* devices and sessions (pool.h), inherited as pool_fd */
    int pool_fd;
    struct admin *admin;
    struct tenants tenants; /* --tenants: who may connect, and their limits */
};

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

static int signals_install(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) return -1;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    return 0;
}

static void signals_default(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
}

static void kids_remove(struct supervisor *s, pid_t pid)
{
    for (int i = 0; i < s->nkids; i++)
        if (s->kids[i] == pid) {
            s->kids[i] = s->kids[--s->nkids];
            return;
        }
}

static void devices_text(const struct pool_slot *ps, char *out, size_t len)
{
    size_t n = 0;
    out[0] = 0;
    for (int k = 0; k < ps->ndev && n < len; k++)
        n += (size_t)snprintf(out + n, len - n, "%s%d", k ? "," : "", ps->dev[k]);
}

/* A reaped process's session slot: its GPUs and memory go back to the pool. */
static void ended(struct supervisor *s, pid_t pid, int status)
{
    struct pool_slot was;
    char devs[POOL_MAX_DEVICES * 4];
    struct timespec ts;
    if (!pool_release_pid(s->pool, (int)pid, &was) || !was.ndev) return; /* not placed */
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - was.start_ms;
    devices_text(&was, devs, sizeof devs);
    srv_info(
        "session %llu ended%s (tenant %s, client %s pid %u %s, GPU(s) %s, %llu calls, %.1f s): "
        "its GPUs and memory are back in the pool",
        (unsigned long long)was.session,
        atomic_load(&was.killed) ? " by the admin"
        : WIFSIGNALED(status)    ? " with its worker's crash"
                                 : "",
        was.tenant, was.host[0] ? was.host : was.peer, was.client_pid,
        was.program[0] ? was.program : "?", devs, (unsigned long long)atomic_load(&was.calls),
        ms / 1000.0);
}

static void reap(struct supervisor *s)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        kids_remove(s, pid);
        if (s->share) simgpu_share_release_pid(s->share, (int)pid); /* memory it left behind */
        ended(s, pid, status);
        if (WIFSIGNALED(status))
            srv_warn("worker %d ended by signal %d", (int)pid, WTERMSIG(status));
        else
            srv_debug("worker %d exited with status %d", (int)pid, WEXITSTATUS(status));
    }
}

/* ---- the handshake child --------------------------------------------------- */

static void refuse(tp_conn *c, const char *why)
{
    Rgpu__Welcome w = RGPU__WELCOME__INIT;
    w.accepted = 0;
    w.message = (char *)why;
    w.protocol_version = RPC_PROTO_VERSION;
    w.server_version = (char *)RGPU_VERSION;
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_WELCOME};
    rpc_send_msg(c, RPC_FROM_SERVER, &h, &w.base, 2000, NULL);
}

/* The Hello goes to the worker in an anonymous file it inherits. */
static int hello_file(const Rgpu__Hello *m)
{
    size_t n = rgpu__hello__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    int fd = memfd_create("rgpud-hello", 0);
    if (!buf || fd < 0) goto fail;
    rgpu__hello__pack(m, buf);
    if (write(fd, buf, n) != (ssize_t)n) goto fail;
    free(buf);
    return fd;
fail:
    free(buf);
    if (fd >= 0) close(fd);
    return -1;
}

static int drop_privileges(const char *user)
{
    if (!user[0] || geteuid() != 0) return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        srv_err("user %s does not exist", user);
        return -1;
    }
    if (initgroups(user, pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
        srv_err("cannot become user %s: %s", user, strerror(errno));
        return -1;
    }
    return 0;
}

/* A client that vanishes without a word (network cut, host down) is noticed
 * within about 2 x keepalive-s: probes while the connection is idle, and a
 * bound on unacknowledged data while the worker sends. The options stay
 * with the socket through the worker's exec. */
static void keepalive(int fd, int idle_s)
{
    int on = 1, intvl = idle_s / 3 > 0 ? idle_s / 3 : 1, cnt = 3;
    unsigned user_ms = (unsigned)(idle_s + intvl * cnt) * 1000u;
    if (idle_s <= 0) return;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) ||
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, sizeof user_ms))
        srv_debug("keepalive not set on the session's connection: %s", strerror(errno));
}

static void exec_worker(struct supervisor *s, tp_conn *c, const Rgpu__Hello *m,
                        unsigned long long id, int slot)
{
    int fd = -1, hfd = hello_file(m);
    tp_error te;
    if (hfd < 0 || tp_detach(c, &fd, &te) != TP_OK || tp_fd_inherit(fd, 1, &te) != TP_OK) {
        srv_err("session %llu: cannot hand the connection to a worker", id);
        _exit(1);
    }
    keepalive(fd, s->cfg->keepalive_s);
    if (drop_privileges(s->cfg->user)) _exit(1);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); /* untrusted kernels: no setuid way back up */
    char fds[16], hfds[16], ids[32], pfds[16], slots[16], visible[POOL_MAX_DEVICES * 48];
    snprintf(fds, sizeof fds, "%d", fd);
    snprintf(hfds, sizeof hfds, "%d", hfd);
    snprintf(ids, sizeof ids, "%llu", id);
    snprintf(pfds, sizeof pfds, "%d", s->pool_fd);
    snprintf(slots, sizeof slots, "%d", slot);
    pool_visible(s->pool, slot, visible, sizeof visible);
    setenv("CUDA_VISIBLE_DEVICES", visible, 1); /* the backend shows the session's GPUs as 0..N-1 */
    char *argv[80] = {
        srv_self_exe,    "--worker",     "--fd",      fds,  "--hello-fd",  hfds, "--session", ids,
        "--backend-lib", s->backend_lib, "--pool-fd", pfds, "--pool-slot", slots};
    srv_config_to_argv(s->cfg, argv, 14, 79);
    execv(srv_self_exe, argv);
    srv_err("session %llu: cannot start the worker %s: %s", id, srv_self_exe, strerror(errno));
    _exit(1);
}

/* ---- tls:// sessions --------------------------------------------------------------
 * A TLS session lives in this process's memory and cannot cross exec (no
 * kernel TLS here, docs/pool.md). So the handshake child stays: it forks the
 * worker, hands it one end of a loopback TCP connection of its own (adopted
 * like a client's), and relays between the client's TLS and that connection.
 * The child keeps the session's slot (its pid), forwards SIGTERM/SIGINT
 * (rgpuctl kill, shutdown) to the worker and ends with its status. The
 * worker, which runs clients' kernels, never holds the server's key. */

static pid_t relay_worker;

static void relay_forward(int sig)
{
    if (relay_worker > 0) kill(relay_worker, sig);
}

/* Two ends of a loopback connection; the accepted end must be our own dial's
 * (another local process could connect first). 0, or -1. */
static int loopback_pair(tp_conn **near, tp_conn **far)
{
    tp_listener *l = NULL;
    tp_error te = {0};
    char url[128], mine[64];
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    *near = *far = NULL;
    int ok = tp_listen("tcp://127.0.0.1:0", &l, &te) == TP_OK &&
             tp_listener_url(l, url, sizeof url, &te) == TP_OK &&
             tp_dial(url, 2000, near, &te) == TP_OK && tp_accept(l, 2000, far, &te) == TP_OK &&
             getsockname(tp_conn_fd(*near), (struct sockaddr *)&a, &al) == 0;
    if (ok) {
        snprintf(mine, sizeof mine, "127.0.0.1:%d", ntohs(a.sin_port));
        ok = !strcmp(tp_conn_peer(*far), mine);
    }
    tp_listener_close(l);
    if (ok) return 0;
    srv_err("cannot connect a tls session's worker: %s", te.msg[0] ? te.msg : "a stranger came first");
    tp_close(*near);
    tp_close(*far);
    return -1;
}

static void relay_to_worker(struct supervisor *s, tp_conn *c, const Rgpu__Hello *m,
                            unsigned long long id, int slot)
{
    tp_conn *near, *far;
    tp_error te = {0};
    int st = 0;
    keepalive(tp_conn_fd(c), s->cfg->keepalive_s);
    if (loopback_pair(&near, &far)) _exit(1);
    relay_worker = fork();
    if (relay_worker < 0) _exit(1);
    if (relay_worker == 0) { /* the worker's connection is plain tcp: so says its listen */
        memcpy(s->cfg->listen, "tcp", 3);
        tp_close(near);
        exec_worker(s, far, m, id, slot); /* the client's socket is close-on-exec */
    }
    tp_close(far);
    struct sigaction sa = {.sa_handler = relay_forward};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (drop_privileges(s->cfg->user)) kill(relay_worker, SIGTERM);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (tp_tls_relay(c, tp_conn_fd(near), &te) != TP_OK)
        srv_debug("session %llu: the TLS relay stopped: %s", id, te.msg);
    while (waitpid(relay_worker, &st, 0) < 0 && errno == EINTR) {
    }
    if (s->share) simgpu_share_release_pid(s->share, (int)relay_worker);
    if (WIFSIGNALED(st)) { /* the supervisor learns of a crash as if it were ours */
        signal(WTERMSIG(st), SIG_DFL);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core of this process: it holds the key */
        raise(WTERMSIG(st));
    }
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

static int send_welcome(tp_conn *c, Rgpu__Welcome *w)
{
    w->protocol_version = RPC_PROTO_VERSION;
    w->server_version = (char *)RGPU_VERSION;
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_WELCOME};
    return rpc_send_msg(c, RPC_FROM_SERVER, &h, &w->base, 2000, NULL) == RPC_OK ? 0 : -1;
}

/* SCRAM-SHA-256 over the handshake (docs/pool.md): the first HELLO named the
 * tenant and a nonce; a WELCOME with the challenge (accepted = false, auth
 * fields set), a second HELLO with the proof, a WELCOME with the server's
 * signature; the worker's WELCOME follows. The secret never crosses the wire. */
static int scram(struct supervisor *s, tp_conn *c, const Rgpu__Hello *m, const struct tenant **who)
{
    struct scram st;
    rpc_hdr h;
    rpc_error e = {0};
    ProtobufCMessage *msg = NULL;
    uint8_t sig[32];
    Rgpu__Welcome w = RGPU__WELCOME__INIT;
    if (scram_server_first(&s->tenants, m->auth_user, m->auth_nonce.data, m->auth_nonce.len, &st)) {
        refuse(
            c,
            "rgpud: malformed SCRAM-SHA-256 first message (a tenant name and a 16-64 byte nonce)");
        return -1;
    }
    w.message = "SCRAM-SHA-256 challenge";
    w.auth_nonce = (ProtobufCBinaryData){st.nonce_len, st.nonce};
    w.auth_salt = (ProtobufCBinaryData){st.salt_len, st.salt};
    w.auth_iterations = st.iterations;
    if (send_welcome(c, &w) ||
        rpc_recv_msg(c, RPC_FROM_CLIENT, RPC_T_HELLO, &rgpu__hello__descriptor,
                     RPC_MAX_HANDSHAKE_LEN, s->cfg->handshake_timeout_ms, &h, &msg, &e) != RPC_OK) {
        srv_warn("%s: SCRAM exchange broken off: %s", tp_conn_peer(c), e.msg);
        return -1;
    }
    Rgpu__Hello *f = (Rgpu__Hello *)msg;
    *who = scram_server_final(&st, f->auth_nonce.data, f->auth_nonce.len, f->auth_proof.data,
                              f->auth_proof.len, sig);
    rgpu__hello__free_unpacked(f, NULL);
    if (!*who) {
        srv_warn("refused %s (pid %u): SCRAM proof for tenant %s not accepted", tp_conn_peer(c),
                 m->client ? m->client->pid : 0, st.user);
        refuse(c, "rgpud: authentication failed (RGPU_TOKEN=NAME:SECRET, as in the server's "
                  "tenants file)");
        return -1;
    }
    Rgpu__Welcome fin = RGPU__WELCOME__INIT;
    fin.message = "SCRAM-SHA-256 server signature";
    fin.auth_signature = (ProtobufCBinaryData){sizeof sig, sig};
    return send_welcome(c, &fin);
}

/* With a tenants file, the client must prove it knows a tenant's secret
 * through SCRAM; a token in the HELLO (the secret itself, as clients before
 * SCRAM sent it) is refused without being looked at. 0 and *who, or -1 after
 * refusing the client. */
static int authenticate(struct supervisor *s, tp_conn *c, const Rgpu__Hello *m,
                        const struct tenant **who)
{
    const char *token = m->credentials ? m->credentials->token : NULL;
    const char *why;
    *who = NULL;
    if (!s->cfg->tenants[0]) return 0;
    if (m->auth_user && m->auth_user[0]) return scram(s, c, m, who);
    if (token && *token)
        why = "rgpud: this client sent its secret in the clear; rgpud accepts only SCRAM-SHA-256 "
              "(the secret never on the wire): update the client";
    else
        why = "rgpud: this server needs a token: set RGPU_TOKEN=NAME:SECRET (or RGPU_TOKEN_FILE)";
    srv_warn("refused %s (pid %u): %s", tp_conn_peer(c), m->client ? m->client->pid : 0,
             token && *token ? "a plain token instead of SCRAM-SHA-256" : "no token");
    refuse(c, why);
    return -1;
}

/* Chooses the session's GPUs (waiting in the queue while the pool is busy);
 * the slot, or -1 after refusing the client. */
static int place(struct supervisor *s, tp_conn *c, const Rgpu__Hello *m, unsigned long long id)
{
    const struct tenant *tn;
    if (authenticate(s, c, m, &tn)) return -1;
    char why[512], devs[POOL_MAX_DEVICES * 4];
    const Rgpu__ClientIdentity *ci = m->client;
    struct pool_request rq = {.ndev = m->all_devices ? -1
                                                     : (m->devices_wanted > POOL_MAX_DEVICES
                                                            ? POOL_MAX_DEVICES + 1
                                                            : (int)m->devices_wanted),
                              .session = id,
                              .client_pid = ci ? ci->pid : 0,
                              .host = ci ? ci->host : NULL,
                              .program = ci ? ci->process : NULL,
                              .user = ci ? ci->user : NULL,
                              .peer = tp_conn_peer(c),
                              .tenant = tn ? tn->name : NULL,
                              .max_sessions = tn ? tn->max_sessions : 0,
                              .max_gpus = tn ? tn->max_gpus : 0,
                              .memory_quota = tn && tn->memory_quota[0] ? tn->memory_quota : NULL};
    int slot = pool_place(s->pool, s->cfg, &rq, why, sizeof why);
    if (slot < 0) {
        srv_warn("refused %s (pid %u, %s): %s", tp_conn_peer(c), rq.client_pid,
                 rq.program ? rq.program : "?", why);
        refuse(c, why);
        return -1;
    }
    const struct pool_slot *ps = &s->pool->slot[slot];
    devices_text(ps, devs, sizeof devs);
    srv_info("session from %s (pid %u, %s, user %s): tenant %s, GPU(s) %s, quota %s",
             tp_conn_peer(c), rq.client_pid, rq.program ? rq.program : "?",
             rq.user && *rq.user ? rq.user : "?", ps->tenant, devs,
             rq.memory_quota                     ? rq.memory_quota
             : strcmp(s->cfg->memory_quota, "0") ? s->cfg->memory_quota
                                                 : "none");
    return slot;
}

/* In the forked child: never returns. */
static void handshake_child(struct supervisor *s, tp_conn *c, unsigned long long id, int full)
{
    rpc_hdr h;
    rpc_error e = {0};
    ProtobufCMessage *msg = NULL;
    srv_log_session(id);
    rpc_status st = rpc_recv_msg(c, RPC_FROM_CLIENT, RPC_T_HELLO, &rgpu__hello__descriptor,
                                 RPC_MAX_HANDSHAKE_LEN, s->cfg->handshake_timeout_ms, &h, &msg, &e);
    if (st != RPC_OK) {
        srv_warn("no valid HELLO from %s: %s", tp_conn_peer(c), e.msg);
        if (st != RPC_E_CLOSED && st != RPC_E_TRANSPORT && st != RPC_E_TIMEOUT)
            rpc_send_error(c, RPC_FROM_SERVER, RGPU__ERROR_KIND__ERROR_PROTOCOL, 1, 2000, NULL,
                           "bad HELLO: %s", e.msg);
        _exit(0);
    }
    Rgpu__Hello *m = (Rgpu__Hello *)msg;
    if ((st = rpc_hello_check(&h, m, &e)) != RPC_OK) {
        srv_warn("refused %s: %s", tp_conn_peer(c), e.msg);
        refuse(c, e.msg);
        _exit(0);
    }
    if (full) {
        srv_warn("refused %s: %d sessions already", tp_conn_peer(c), s->cfg->max_sessions);
        refuse(c, "rgpud: too many sessions, try again later");
        _exit(0);
    }
    int slot = place(s, c, m, id);
    if (slot < 0) _exit(0);
    if (!strcmp(c->tp->ops.scheme, "tls")) relay_to_worker(s, c, m, id, slot);
    exec_worker(s, c, m, id, slot);
}

static void start_session(struct supervisor *s, tp_conn *c)
{
    unsigned long long id = ++s->next_session;
    int full = s->nkids >= s->cfg->max_sessions;
    pid_t pid = fork();
    if (pid < 0) {
        srv_err("fork: %s", strerror(errno));
        tp_close(c);
        return;
    }
    if (pid == 0) {
        signals_default();
        tp_listener_close(s->l);
        handshake_child(s, c, id, full);
    }
    s->kids[s->nkids++] = pid;
    tp_close(c);
}

/* ---- the loop ------------------------------------------------------------------ */

static int write_port_file(struct supervisor *s)
{
    if (!s->cfg->port_file[0]) return 0;
    char tmp[SRV_STR_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->cfg->port_file);
    FILE *f = fopen(tmp, "w");
    if (!f) goto fail;
    fprintf(f, "%d\n", tp_listener_port(s->l));
    if (fclose(f) || rename(tmp, s->cfg->port_file)) goto fail;
    return 0;
fail:
    srv_err("cannot write the port file %s: %s", s->cfg->port_file, strerror(errno));
    return -1;
}

static void accept_one(struct supervisor *s)
{
    tp_conn *c = NULL;
    tp_error te = {0};
    tp_status st = tp_accept(s->l, 0, &c, &te);
    if (st == TP_OK)
        start_session(s, c);
    else if (st != TP_TIMEOUT)
        srv_warn("accept: %s", te.msg);
}

/* SIGHUP: the tenants file again, for sessions from now on (running ones keep
 * what they were given); a file that does not parse leaves the old one. */
static void reload_tenants(struct supervisor *s)
{
    struct tenants t;
    char why[1024];
    if (!s->cfg->tenants[0]) return;
    if (tenants_load(s->cfg->tenants, &t, why, sizeof why)) {
        srv_err("SIGHUP: %s; keeping the %d tenant(s) loaded before", why, s->tenants.n);
        return;
    }
    tenants_free(&s->tenants);
    s->tenants = t;
    srv_info("SIGHUP: tenants file %s reloaded: %d tenant(s)", s->cfg->tenants, t.n);
}

/* Drains the self-pipe; returns 1 when asked to stop. */
static int handle_signals(struct supervisor *s)
{
    unsigned char b[64];
    ssize_t n;
    int stop = 0;
    while ((n = read(sig_pipe[0], b, sizeof b)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (b[i] == SIGCHLD)
                reap(s);
            else if (b[i] == SIGHUP)
                reload_tenants(s);
            else
                stop = b[i];
        }
    if (stop) srv_info("signal %d (%s)", stop, strsignal(stop));
    return stop != 0;
}

/* What is left ends now: SIGTERM (workers exit at once), SIGKILL after 2 s. */
static void shutdown_workers(struct supervisor *s)
{
    for (int i = 0; i < s->nkids; i++)
        kill(s->kids[i], SIGTERM);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (s->nkids > 0) {
        reap(s);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > 2000) break;
        if (s->nkids > 0) usleep(10000);
    }
    for (int i = 0; i < s->nkids; i++)
        kill(s->kids[i], SIGKILL);
    while (s->nkids > 0) {
        pid_t pid = waitpid(-1, NULL, 0);
        if (pid < 0 && errno != EINTR) break;
        if (pid > 0) kids_remove(s, pid);
    }
}

/* simgpu workers are processes using the same simulated devices, like processes
 * on one GPU: their device memory is counted in one anonymous file they inherit
 * (SIMGPU_SHARED), so one session's allocations show in another's cuMemGetInfo
 * and SIMGPU_MEMORY bounds them all. A SIMGPU_SHARED set by the operator is kept. */
static void share_setup(struct supervisor *s)
{
    char path[64];
    const char *given = getenv("SIMGPU_SHARED");
    if (strcmp(s->backend_kind, "simgpu")) return;
    if (given && *given) {
        if (!(s->share = simgpu_share_open(given)))
            srv_warn("SIMGPU_SHARED=%s cannot be mapped: %s", given, strerror(errno));
        return;
    }
    int fd = memfd_create("rgpud-simgpu-devices", 0); /* inherited by the workers */
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (fd < 0 || !(s->share = simgpu_share_open(path))) {
        srv_warn("simgpu sessions will not share device memory accounting: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return;
    }
    setenv("SIMGPU_SHARED", path, 1);
}

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The first SIGTERM/SIGINT: no new sessions (the listener closes, queued ones
 * are refused), running ones get shutdown-grace-ms to end by themselves. */
static long long drain_begin(struct supervisor *s, struct admin_view *v)
{
    tp_listener_close(s->l);
    s->l = NULL;
    atomic_store(&s->pool->closing, 1);
    v->shutting_down = 1;
    srv_info("shutting down: no new sessions; %d running session(s) have %d ms to end", s->nkids,
             s->cfg->shutdown_grace_ms);
    return mono_ms() + s->cfg->shutdown_grace_ms;
}

/* The signal pipe, the admin sockets and the listener (last: it goes first at
 * shutdown); rates sampled each second. Returns when the sessions have ended
 * or their time is up after a stop signal (a second one: at once). */
static void serve(struct supervisor *s)
{
    zmq_pollitem_t pf[4] = {{.fd = sig_pipe[0], .events = ZMQ_POLLIN}};
    int k = admin_pollitems(s->admin, &pf[1]), n = 2 + k;
    pf[1 + k] = (zmq_pollitem_t){.fd = tp_listener_fd(s->l), .events = ZMQ_POLLIN};
    struct admin_view v = {s->pool, s->cfg, s->backend_kind, 0};
    long long until = 0; /* draining until then */
    for (;;) {
        long long left = until ? until - mono_ms() : 0;
        long wait = until      ? (left < 1000 ? (left > 0 ? (long)left : 0) : 1000)
                    : s->admin ? 1000
                               : -1;
        int r = zmq_poll(pf, n, wait);
        if (r < 0 && zmq_errno() != EINTR) {
            srv_err("poll: %s", zmq_strerror(zmq_errno()));
            return;
        }
        admin_tick(s->admin, &v);
        if (r > 0 && pf[0].revents && handle_signals(s)) {
            if (until || !s->nkids || s->cfg->shutdown_grace_ms == 0) return;
            until = drain_begin(s, &v);
            n = 1 + k; /* the listener is gone */
        }
        if (until && (!s->nkids || mono_ms() >= until)) return;
        if (r > 0 && n == 2 + k && (pf[1 + k].revents & ZMQ_POLLIN)) accept_one(s);
        if (r > 0 && k) admin_serve(s->admin, &v);
    }
}

/* Is the listen URL's host a loopback address (or a name that is)? */
static int loopback_only(const char *url)
{
    const char *h = strstr(url, "://");
    char host[256];
    h = h ? h + 3 : url;
    size_t n = strlen(h);
    const char *colon = strrchr(h, ':');
    if (*h == '[') { /* [v6]:port */
        const char *e = strchr(h, ']');
        n = e ? (size_t)(e - h - 1) : 0;
        h++;
    } else if (colon) {
        n = (size_t)(colon - h);
    }
    snprintf(host, sizeof host, "%.*s", (int)n, h);
    return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

/* Without authentication (tenants, later) only loopback clients are served,
 * unless the operator says otherwise, which the log states loudly. */
static int anonymous_check(const struct srv_config *cfg)
{
    if (loopback_only(cfg->listen)) return 0;
    if (cfg->tenants[0]) {
        if (strncmp(cfg->listen, "tls://", 6))
            srv_warn("sessions on %s are authenticated but not encrypted (tls:// is): use a "
                     "trusted network",
                     cfg->listen);
        return 0;
    }
    if (!cfg->allow_anonymous) {
        srv_err("refusing to listen on %s: clients there would not be authenticated (no tenants "
                "file support yet); listen on loopback, or start with --allow-anonymous 1",
                cfg->listen);
        return -1;
    }
    srv_warn("*** ANONYMOUS ACCESS: anyone who reaches %s can use this server's GPUs, with no "
             "authentication (--allow-anonymous 1) ***",
             cfg->listen);
    return 0;
}

/* tls:// listening: the certificate and key are read now (a bad one stops
 * rgpud at start); either setting without tls:// is a mistake worth stopping for. */
static int tls_setup(const struct srv_config *cfg)
{
    int tls = !strncmp(cfg->listen, "tls://", 6);
    struct tp_tls_config t = {.cert_file = cfg->tls_cert, .key_file = cfg->tls_key};
    tp_error te = {0};
    if (!tls && !cfg->tls_cert[0] && !cfg->tls_key[0]) return 0;
    if (!tls) {
        srv_err("tls-cert / tls-key are set but listen %s is not tls://", cfg->listen);
        return -1;
    }
    if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
        srv_err("listen %s needs tls-cert and tls-key (PEM files)", cfg->listen);
        return -1;
    }
    if (tp_tls_register(&t, &te) != TP_OK) {
        srv_err("%s", te.msg);
        return -1;
    }
    return 0;
}

/* The pool: every device of the backend, asked in a child before any session. */
static int pool_setup(struct supervisor *s)
{
    if (!(s->pool = pool_create(s->cfg->max_sessions + 16, &s->pool_fd))) {
        srv_err("cannot create the session table: %s", strerror(errno));
        return -1;
    }
    if (pool_inventory(s->pool, s->backend_lib)) {
        srv_err("backend %s (%s) shows no device", s->backend_kind, s->backend_lib);
        return -1;
    }
    for (int d = 0; d < s->pool->ndev; d++)
        srv_info("pool device %d: %s %s, %llu MiB", d, s->pool->dev[d].name, s->pool->dev[d].uuid,
                 (unsigned long long)(s->pool->dev[d].total >> 20));
    srv_info("placement %s, %d GPU(s) per session by default, memory quota %s%s", s->cfg->placement,
             s->cfg->devices_default, s->cfg->memory_quota,
             strcmp(s->cfg->memory_quota, "0") ? "" : " (none)");
    return 0;
}

int srv_supervisor_main(struct srv_config *cfg)
{
    struct supervisor s = {.cfg = cfg};
    tp_error te = {0};
    char url[SRV_STR_MAX];
    int rc = 1;

    if (anonymous_check(cfg) || tls_setup(cfg) || srv_backend_resolve(cfg, s.backend_lib, sizeof s.backend_lib,
                                                    s.backend_kind, sizeof s.backend_kind))
        return 1;
    snprintf(cfg->backend, sizeof cfg->backend, "%s", s.backend_kind); /* the worker's view */
    if (geteuid() == 0 && !cfg->user[0])
        srv_warn("running as root without --user: session workers, which run clients' kernels, "
                 "keep root's privileges");
    if (pool_setup(&s)) return 1;
    if (cfg->tenants[0]) {
        char why[1024];
        if (tenants_load(cfg->tenants, &s.tenants, why, sizeof why)) {
            srv_err("%s", why);
            return 1;
        }
        srv_info("tenants file %s: %d tenant(s); clients need RGPU_TOKEN=NAME:SECRET", cfg->tenants,
                 s.tenants.n);
    }
    share_setup(&s);
    if (!(s.kids = calloc(cfg->max_sessions + 1, sizeof *s.kids)) || signals_install()) {
        srv_err("cannot set up: %s", strerror(errno));
        return 1;
    }
    if (tp_listen(cfg->listen, &s.l, &te) != TP_OK) {
        srv_err("cannot listen on %s: %s", cfg->listen, te.msg);
        goto out;
    }
    tp_listener_url(s.l, url, sizeof url, &te);
    s.admin = admin_open(cfg);
    if (!s.admin && ((cfg->admin[0] && strcmp(cfg->admin, "off")) || cfg->metrics[0]))
        goto out; /* what the operator asked for explicitly cannot be had (logged) */
    if (write_port_file(&s)) goto out;
    srv_info("listening on %s, backend %s (%s)", url, s.backend_kind, s.backend_lib);
    serve(&s);
    admin_close(s.admin);
    s.admin = NULL;
    if (s.l) tp_listener_close(s.l);
    s.l = NULL;
    if (s.nkids) srv_info("ending %d session(s)", s.nkids);
    shutdown_workers(&s);
    srv_info("stopped");
    rc = 0;
out:
    admin_close(s.admin);
    if (s.l) tp_listener_close(s.l);
    free(s.kids);
    tenants_free(&s.tenants);
    return rc;
}
