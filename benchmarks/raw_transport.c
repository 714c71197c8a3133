/* raw_transport.c — the physical limits rgpu is compared against: the same
 * transport (tp_*), between two processes on this machine, with nothing of rgpu
 * on top. A ping-pong of one frame header (48 bytes each way), a push series
 * (reps x size bytes, one 48-byte acknowledgement at the end: the shape of
 * pipelined host-to-device copies) and a pull series (a 48-byte request, size
 * bytes back, per rep: the shape of synchronous device-to-host copies). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "transport.h"

#define MSG 48           /* one rgpu frame header */
#define PIECE (4u << 20) /* receive and send granularity of the peer */
enum { K_PING = 1, K_PUSH = 2, K_PULL = 3, K_END = 4, K_BUSY = 5 /* size: busy-poll us */ };

struct msg {
    uint32_t kind, reps;
    uint64_t size;
    uint8_t pad[MSG - 16];
};
_Static_assert(sizeof(struct msg) == MSG, "one frame header");

/* Both ends walk through n bytes of their buffer, as a copy of n bytes does
 * (the same 4 MiB over and over would stay in the cache and flatter the
 * limit). */
static int recv_bytes(tp_conn *c, char *buf, uint64_t n)
{
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < PIECE ? (size_t)(n - off) : PIECE;
        if (tp_recv(c, buf + off, k, 30000, NULL) != TP_OK) return -1;
        off += k;
    }
    return 0;
}

static int send_bytes(tp_conn *c, const char *buf, uint64_t n)
{
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < PIECE ? (size_t)(n - off) : PIECE;
        if (tp_send(c, buf + off, k, 30000, NULL) != TP_OK) return -1;
        off += k;
    }
    return 0;
}

/* The peer process: answers one connection until K_END or EOF. */
/* The peer process: listens (all of a transport's state is made after the
 * fork: a UCP context must not cross one), says where on `to`, then answers one
 * connection until K_END or EOF. Its connection is adopted as rgpud's worker
 * adopts its own (for ucx:// that upgrades the TCP connection to UCP). */
static void peer_serve(const char *url, int to)
{
    tp_listener *l = NULL;
    tp_conn *c = NULL;
    tp_url u;
    char addr[128] = "";
    int fd;
    char *buf = malloc(PIECE);
    if (tp_url_parse(url, &u, NULL) != TP_OK || tp_listen(url, &l, NULL) != TP_OK)
        addr[0] = 0;
    else if (tp_listener_url(l, addr, sizeof addr, NULL) != TP_OK)
        addr[0] = 0;
    if (write(to, addr, sizeof addr) != (ssize_t)sizeof addr || !addr[0] || !buf) _exit(1);
    close(to);
    if (tp_accept(l, 30000, &c, NULL) != TP_OK || tp_detach(c, &fd, NULL) != TP_OK ||
        tp_adopt(u.scheme, fd, &c, NULL) != TP_OK)
        _exit(1);
    memset(buf, 7, PIECE);
    size_t have = PIECE;
    struct msg m;
    while (tp_recv(c, &m, sizeof m, TP_FOREVER, NULL) == TP_OK && m.kind != K_END) {
        int bad = 0;
        if ((m.kind == K_PUSH || m.kind == K_PULL) && m.size > have) {
            char *nb = realloc(buf, m.size); /* touched now, as the bench's device memory is */
            if (!nb) break;
            memset(nb + have, 7, m.size - have);
            buf = nb, have = m.size;
        }
        for (uint32_t i = 0; m.kind == K_PUSH && !bad && i < m.reps; i++)
            bad = recv_bytes(c, buf, m.size);
        if (m.kind == K_PULL) bad = send_bytes(c, buf, m.size);
        if (m.kind == K_BUSY) tp_set_busy_poll(c, (unsigned)m.size);
        if (!bad && m.kind != K_PULL) bad = tp_send(c, &m, sizeof m, 30000, NULL) != TP_OK;
        if (bad) break;
    }
    free(buf);
    tp_close(c);
    tp_listener_close(l);
    _exit(0);
}

/* One round of n ping-pongs, in microseconds per round trip. */
static double ping_round(tp_conn *c, int n)
{
    struct msg m = {.kind = K_PING};
    double t0 = bench_now();
    for (int i = 0; i < n; i++)
        if (tp_send(c, &m, sizeof m, 30000, NULL) || tp_recv(c, &m, sizeof m, 30000, NULL))
            return -1;
    return (bench_now() - t0) / n * 1e6;
}

static int peer_busy_poll(tp_conn *c, unsigned us)
{
    struct msg m = {.kind = K_BUSY, .size = us};
    tp_set_busy_poll(c, us);
    return tp_send(c, &m, sizeof m, 30000, NULL) || tp_recv(c, &m, sizeof m, 30000, NULL) ? -1 : 0;
}

/* The limit: the best of BENCH_ROUNDS rounds (as sync_roundtrip: on a shared
 * machine the quietest round is the closest to it), each round once with the
 * transport's busy-poll on both sides and once with it off (two processes
 * spinning on two busy cores can be slower than sleeping). */
static double ping_pong(tp_conn *c, int n)
{
    double best = -1;
    if (ping_round(c, n / 10 + 1) < 0) return -1; /* warm-up */
    for (int round = 0; round < 2 * BENCH_ROUNDS; round++) {
        if (peer_busy_poll(c, round % 2 ? 0 : TP_BUSY_POLL_DEFAULT_US)) return -1;
        double us = ping_round(c, n / BENCH_ROUNDS / 2);
        if (us < 0) return -1;
        if (best < 0 || us < best) best = us;
    }
    return peer_busy_poll(c, TP_BUSY_POLL_DEFAULT_US) ? -1 : best;
}

static double push(tp_conn *c, char *buf, uint64_t size, int reps)
{
    struct msg m = {.kind = K_PUSH, .reps = (uint32_t)reps, .size = size};
    double t0 = bench_now();
    if (tp_send(c, &m, sizeof m, 30000, NULL)) return -1;
    for (int i = 0; i < reps; i++)
        if (send_bytes(c, buf, size)) return -1;
    if (tp_recv(c, &m, sizeof m, 30000, NULL)) return -1;
    return (double)size * reps / (bench_now() - t0) / 1e9;
}

static double pull(tp_conn *c, char *buf, uint64_t size, int reps)
{
    struct msg m = {.kind = K_PULL, .reps = 1, .size = size};
    double t0 = bench_now();
    for (int i = 0; i < reps; i++)
        if (tp_send(c, &m, sizeof m, 30000, NULL) || recv_bytes(c, buf, size)) return -1;
    return (double)size * reps / (bench_now() - t0) / 1e9;
}

/* The same reps per size as driver_bench.c's bandwidth series. */
int bench_copy_reps(size_t size)
{
    int reps = (int)((64u << 20) / size);
    return reps < 3 ? 3 : reps > 2000 ? 2000 : reps;
}

/* A child with a pipe to its parent: 0 in the child (its end is p[1], it dies
 * with the parent), the child's pid in the parent (its end is p[0]), or -1
 * with *why set. */
static pid_t fork_with_pipe(int p[2], char *why, size_t len)
{
    if (pipe(p) != 0) {
        snprintf(why, len, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[0]);
        return 0;
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        snprintf(why, len, "fork: %s", strerror(errno));
    }
    return pid;
}

/* One figure, from the measuring process to rgpu-bench. */
struct row {
    char bench[32], param[32], unit[16];
    double value;
    char why[320]; /* with an empty bench: why the measurement failed */
};

static void emit(int out, const char *bench, const char *param, double value, const char *unit,
                 const char *why)
{
    struct row r = {.value = value};
    snprintf(r.why, sizeof r.why, "%s", why ? why : "");
    snprintf(r.bench, sizeof r.bench, "%s", bench);
    snprintf(r.param, sizeof r.param, "%s", param);
    snprintf(r.unit, sizeof r.unit, "%s", unit);
    if (write(out, &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
}

/* The measuring process: starts the peer, measures, writes rows to out. 0, or
 * -1 with *why set. */
static int measure(const char *url, bool quick, int out, char *why, size_t len)
{
    tp_conn *c = NULL;
    tp_error e = {0};
    char addr[128] = "", *buf = NULL;
    int rc = -1, p[2];
    pid_t pid = fork_with_pipe(p, why, len);
    if (pid < 0) return -1;
    if (pid == 0) peer_serve(url, p[1]);
    if (read(p[0], addr, sizeof addr) != (ssize_t)sizeof addr || !addr[0]) {
        snprintf(why, len, "the peer cannot listen on %s", url);
        close(p[0]);
        goto out;
    }
    close(p[0]);
    addr[sizeof addr - 1] = 0;
    if (tp_dial(addr, 10000, &c, &e) != TP_OK) {
        snprintf(why, len, "cannot reach the peer at %s: %s", addr, e.msg);
        goto out;
    }
    size_t max = quick ? (16u << 20) : (256u << 20);
    if (!(buf = malloc(max))) goto out;
    memset(buf, 3, max);
    double us = ping_pong(c, quick ? 2000 : 20000);
    if (us < 0) goto broken;
    emit(out, "raw_pingpong", "48B", us, "us/rt", NULL);
    /* streaming: the best round, the receiver sleeping in poll() or spinning
     * (a spinning receiver can take the sender's core on a busy machine, or
     * save it a wake-up per piece) */
    for (int dir = 0; dir < 2; dir++)
        for (size_t sz = 4096; sz <= max; sz *= 4) {
            char param[32];
            double best = -1;
            snprintf(param, sizeof param, "%zu", sz);
            for (int round = 0; round < 2 * BENCH_COPY_ROUNDS; round++) {
                if (peer_busy_poll(c, round % 2 ? TP_BUSY_POLL_DEFAULT_US : 0)) goto broken;
                double gb = dir ? pull(c, buf, sz, bench_copy_reps(sz))
                                : push(c, buf, sz, bench_copy_reps(sz));
                if (gb < 0) goto broken;
                if (gb > best) best = gb;
            }
            emit(out, dir ? "raw_pull" : "raw_push", param, best, "GB/s", NULL);
        }
    struct msg end = {.kind = K_END};
    tp_send(c, &end, sizeof end, 1000, NULL);
    rc = 0;
    goto out;
broken:
    snprintf(why, len, "the connection to the peer failed mid-way");
out:
    free(buf);
    tp_close(c);
    if (pid > 0) {
        if (rc) kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return rc;
}

/* Measures the raw limits of the transport at url (e.g. "tcp://127.0.0.1:0")
 * and adds them as rows of backend `name`. 0, or -1 with *why set. Both ends
 * are fresh processes: measured from rgpu-bench itself, the limit depended on
 * what had run in it before (one run in two, ucx-shm's push series came out at
 * a quarter of its speed after the other backends). */
int bench_raw_transport(const char *name, const char *url, bool quick, char *why, size_t len)
{
    int p[2];
    pid_t pid = fork_with_pipe(p, why, len);
    if (pid < 0) return -1;
    if (pid == 0) {
        char w[320] = "";
        int rc = measure(url, quick, p[1], w, sizeof w);
        if (rc) emit(p[1], "", "", 0, "", w);
        _exit(rc ? 1 : 0);
    }
    struct row r;
    int failed = 0;
    snprintf(why, len, "the measuring process died");
    while (read(p[0], &r, sizeof r) == (ssize_t)sizeof r) {
        r.bench[sizeof r.bench - 1] = r.param[sizeof r.param - 1] = r.unit[sizeof r.unit - 1] = 0;
        r.why[sizeof r.why - 1] = 0;
        if (!r.bench[0]) {
            snprintf(why, len, "%s", r.why);
            failed = 1;
        } else {
            bench_add_row(name, r.bench, r.param, r.value, r.unit, NULL);
        }
    }
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return !failed && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
