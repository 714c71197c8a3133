/* srvtest.h — helpers of the rgpud tests: start rgpud on 127.0.0.1 port 0
 * (dies with the test: PDEATHSIG, and killed at exit), raw-socket sessions
 * built on rpc/frame.h + msg.h, and calls through the generic codec. */
#ifndef RG_TEST_SRVTEST_H
#define RG_TEST_SRVTEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "calls.h"
#include "msg.h"

#pragma weak rpc_encode_call
#pragma weak rpc_decode_reply

struct rgpud {
    pid_t pid;
    int port;
    char url[64];
};

static inline int rgpud_start(struct rgpud *d, const char *extra)
{
    char pf[64], cmd[512];
    snprintf(pf, sizeof pf, "/tmp/rgpud-test-%d-%ld.port", (int)getpid(), (long)random());
    unlink(pf);
    const char *bin = getenv("RGPUD");
    if (!bin) return -1;
    d->pid = fork();
    if (d->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        snprintf(cmd, sizeof cmd, "%s", bin);
        execl(bin, bin, "--listen", "tcp://127.0.0.1:0", "--backend", "simgpu", "--port-file", pf,
              "--log-level", "info", "--heartbeat-ms", "200", "--handshake-timeout-ms", "2000", extra, (char *)NULL,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            int ok = fscanf(f, "%d", &d->port) == 1;
            fclose(f);
            if (ok) {
                unlink(pf);
                snprintf(d->url, sizeof d->url, "tcp://127.0.0.1:%d", d->port);
                return 0;
            }
        }
        usleep(10000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    return -1;
}

/* SIGTERM, then the exit status (or -1 if it had to be killed). */
static inline int rgpud_stop(struct rgpud *d)
{
    int st = 0;
    if (d->pid <= 0) return -1;
    kill(d->pid, SIGTERM);
    for (int i = 0; i < 1000; i++) {
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(10000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
    return -1;
}

/* The worker pids below rgpud. */
static inline int rgpud_children(const struct rgpud *d, int *pids, int max)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)d->pid, (int)d->pid);
    FILE *f = fopen(path, "r");
    int n = 0;
    if (!f) return -1;
    while (n < max && fscanf(f, "%d", &pids[n]) == 1) n++;
    (void)buf;
    fclose(f);
    return n;
}

/* ---- sessions ------------------------------------------------------------ */

struct sess {
    tp_conn *c;
    Rgpu__Welcome *w;
    uint64_t seq;
    uint32_t thread;
};

static inline tp_conn *sess_dial(const struct rgpud *d)
{
    tp_conn *c = NULL;
    tp_error e;
    return tp_dial(d->url, 5000, &c, &e) == TP_OK ? c : NULL;
}

/* HELLO at `version` with a device window; *out is the WELCOME (caller frees). */
static inline rpc_status sess_hello(tp_conn *c, uint32_t version, Rgpu__Welcome **out, rpc_error *e)
{
    Rgpu__Hello m = RGPU__HELLO__INIT;
    Rgpu__AddressWindow win = RGPU__ADDRESS_WINDOW__INIT;
    win.start = 0x600000000000ull;
    win.size = 16ull << 30;
    m.protocol_version = version;
    m.client_version = "test";
    m.window = &win;
    rpc_hdr h = {.version = (uint16_t)version, .type = RPC_T_HELLO};
    rpc_status st = rpc_send_msg(c, RPC_FROM_CLIENT, &h, &m.base, 5000, e);
    if (st != RPC_OK) return st;
    return rpc_recv_msg(c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0, 20000, &h,
                        (ProtobufCMessage **)out, e);
}

static inline int sess_open(const struct rgpud *d, struct sess *s)
{
    rpc_error e = {0};
    memset(s, 0, sizeof *s);
    s->thread = 1;
    if (!(s->c = sess_dial(d))) return -1;
    if (sess_hello(s->c, RPC_PROTO_VERSION, &s->w, &e) != RPC_OK || !s->w->accepted) {
        fprintf(stderr, "  handshake: %s\n", s->w ? s->w->message : e.msg);
        return -1;
    }
    return 0;
}

static inline void sess_close(struct sess *s)
{
    if (s->w) rgpu__welcome__free_unpacked(s->w, NULL);
    tp_close(s->c);
    memset(s, 0, sizeof *s);
}

static inline uint64_t h_id(unsigned type, uint64_t serial)
{
    return ((uint64_t)type << 40) | serial;
}

static inline int have_codec(void)
{
    return rpc_encode_call && rpc_decode_reply;
}

/* One CALL through the codec, not waiting: 0, or -1 if it does not encode or
 * send. `more` (more_len bytes) follows the call's own raw part: a repeated
 * launch's further runs' parameters (`repeat`, rpc/frame.h). */
static inline int sess_send(struct sess *s, const struct rpc_call_desc *d, uint64_t ctx,
                            void **args, uint16_t flags, uint32_t repeat, const void *more,
                            size_t more_len)
{
    rpc_wbuf w;
    struct iovec raw[RPC_MAX_RAW_IOV + 1];
    int nraw = RPC_MAX_RAW_IOV, rc = -1;
    rpc_error e = {0};
    if (!d) return -1;
    rpc_wbuf_init_dyn(&w, RPC_MAX_ENC_LEN);
    if (!rpc_encode_call(d, args, &w, raw, &nraw)) {
        if (more_len) raw[nraw++] = (struct iovec){(void *)more, more_len};
        rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_CALL, .flags = flags,
                     .op = d->op, .thread = s->thread, .seq = ++s->seq, .ctx = ctx,
                     .repeat = repeat};
        if (rpc_frame_send(s->c, RPC_FROM_CLIENT, &h, w.data, w.len, raw, nraw, 5000, &e) ==
            RPC_OK)
            rc = 0;
    }
    rpc_wbuf_free(&w);
    return rc;
}

/* One waiting call through the codec: returns the CUresult, or -1 on a
 * protocol failure. args as the application would pass them (ids for handles). */
static inline int sess_call(struct sess *s, const char *name, uint64_t ctx, void **args)
{
    const struct rpc_call_desc *d = rpc_call_by_name(name);
    rpc_error e = {0};
    rpc_hdr h;
    uint32_t result = 0;
    if (sess_send(s, d, ctx, args, 0, 0, NULL, 0)) return -1;
    void *enc = NULL;
    do { /* skip credits and heartbeats */
        free(enc);
        enc = NULL;
        if (rpc_frame_recv(s->c, RPC_FROM_SERVER, 0, 20000, &h, &enc, &e) != RPC_OK) return -1;
    } while (h.type == RPC_T_CREDIT || h.type == RPC_T_HEARTBEAT);
    if (h.type != RPC_T_REPLY) {
        free(enc);
        return -1;
    }
    void *rawb = malloc(h.raw_len + 1);
    rpc_rbuf r;
    rpc_rbuf_init(&r, enc, h.enc_len);
    int rc = (rawb && rpc_frame_recv_raw(s->c, rawb, h.raw_len, 5000, &e) == RPC_OK &&
              rpc_decode_reply(d, args, &r, rawb, h.raw_len, &result) == 0)
                 ? (int)result : -1;
    free(rawb);
    free(enc);
    return rc;
}

#endif
