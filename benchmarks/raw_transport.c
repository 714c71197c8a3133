/* raw_transport.c — the physical limits rgpu is compared against: the same
 * transport (tp_*), between two processes on this machine, with nothing of rgpu
 * on top. A ping-pong of one frame header (48 bytes each way), a push series
 * (reps x size bytes, one 48-byte acknowledgement at the end: the shape of
 * pipelined host-to-device copies) and a pull series (a 48-byte request, size
 * bytes back, per rep: the shape of synchronous device-to-host copies). */
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
enum { K_PING = 1, K_PUSH = 2, K_PULL = 3, K_END = 4 };

struct msg {
    uint32_t kind, reps;
    uint64_t size;
    uint8_t pad[MSG - 16];
};
_Static_assert(sizeof(struct msg) == MSG, "one frame header");

static int recv_bytes(tp_conn *c, char *buf, uint64_t n)
{
    while (n) {
        size_t k = n < PIECE ? (size_t)n : PIECE;
        if (tp_recv(c, buf, k, 30000, NULL) != TP_OK) return -1;
        n -= k;
    }
    return 0;
}

static int send_bytes(tp_conn *c, const char *buf, uint64_t n)
{
    while (n) {
        size_t k = n < PIECE ? (size_t)n : PIECE;
        if (tp_send(c, buf, k, 30000, NULL) != TP_OK) return -1;
        n -= k;
    }
    return 0;
}

/* The peer process: answers one connection until K_END or EOF. */
static void peer_serve(tp_listener *l)
{
    tp_conn *c;
    char *buf = malloc(PIECE);
    if (!buf || tp_accept(l, 30000, &c, NULL) != TP_OK) _exit(1);
    memset(buf, 7, PIECE);
    struct msg m;
    while (tp_recv(c, &m, sizeof m, TP_FOREVER, NULL) == TP_OK && m.kind != K_END) {
        int bad = 0;
        if (m.kind == K_PUSH) bad = recv_bytes(c, buf, m.size * m.reps);
        if (m.kind == K_PULL) bad = send_bytes(c, buf, m.size);
        if (!bad && m.kind != K_PULL) bad = tp_send(c, &m, sizeof m, 30000, NULL) != TP_OK;
        if (bad) break;
    }
    tp_close(c);
    _exit(0);
}

static double ping_pong(tp_conn *c, int n)
{
    struct msg m = {.kind = K_PING};
    for (int i = 0; i < n / 10 + 1; i++) /* warm-up */
        if (tp_send(c, &m, sizeof m, 30000, NULL) || tp_recv(c, &m, sizeof m, 30000, NULL))
            return -1;
    double t0 = bench_now();
    for (int i = 0; i < n; i++)
        if (tp_send(c, &m, sizeof m, 30000, NULL) || tp_recv(c, &m, sizeof m, 30000, NULL))
            return -1;
    return (bench_now() - t0) / n * 1e6;
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

/* Measures the raw limits of the transport at url (e.g. "tcp://127.0.0.1:0")
 * and adds them as rows of backend `name`. 0, or -1 with *why set. */
int bench_raw_transport(const char *name, const char *url, bool quick, char *why, size_t len)
{
    tp_listener *l = NULL;
    tp_conn *c = NULL;
    tp_error e = {0};
    char addr[128], *buf = NULL;
    int rc = -1;
    if (tp_listen(url, &l, &e) != TP_OK || tp_listener_url(l, addr, sizeof addr, &e) != TP_OK) {
        snprintf(why, len, "cannot listen on %s: %s", url, e.msg);
        tp_listener_close(l);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        peer_serve(l);
    }
    tp_listener_close(l);
    if (pid < 0 || tp_dial(addr, 10000, &c, &e) != TP_OK) {
        snprintf(why, len, "cannot reach the peer at %s: %s", addr, e.msg);
        goto out;
    }
    size_t max = quick ? (16u << 20) : (256u << 20);
    if (!(buf = malloc(max))) goto out;
    memset(buf, 3, max);
    double us = ping_pong(c, quick ? 2000 : 20000);
    if (us < 0) goto broken;
    bench_add_row(name, "raw_pingpong", "48B", us, "us/rt", NULL);
    for (size_t sz = 4096; sz <= max; sz *= 4) {
        char param[32];
        snprintf(param, sizeof param, "%zu", sz);
        double gb = push(c, buf, sz, bench_copy_reps(sz));
        if (gb < 0) goto broken;
        bench_add_row(name, "raw_push", param, gb, "GB/s", NULL);
    }
    for (size_t sz = 4096; sz <= max; sz *= 4) {
        char param[32];
        snprintf(param, sizeof param, "%zu", sz);
        double gb = pull(c, buf, sz, bench_copy_reps(sz));
        if (gb < 0) goto broken;
        bench_add_row(name, "raw_pull", param, gb, "GB/s", NULL);
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
