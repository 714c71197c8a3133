/* rgpud_test.c — rgpud end to end: handshake, version refusal, hostile frames
 * (the server and a parallel session survive), generic calls through the
 * codec, bogus handles, sessions isolated, a killed client's session cleaned
 * up, SIGTERM stops everything with exit 0 and no orphan workers. */
#include <cuda.h>
#include <errno.h>
#include <stdlib.h>

#include "rgtest.h"
#include "srvtest.h"

static struct rgpud srv;

static void stop_server(void)
{
    if (srv.pid > 0) rgpud_stop(&srv);
}

static int server(void)
{
    if (srv.pid > 0) return 0;
    if (rgpud_start(&srv, NULL)) return -1;
    atexit(stop_server);
    return 0;
}

#define NEED_SERVER()                                                                              \
    do {                                                                                           \
        if (server()) RG_FAIL("rgpud did not start (RGPUD=%s)", getenv("RGPUD"));                  \
    } while (0)
#define NEED_CODEC()                                                                               \
    do {                                                                                           \
        if (!have_codec()) RG_SKIP("the generic codec (rpc_encode_call) is not in this build");    \
    } while (0)

RG_TEST(handshake_accepted)
{
    struct sess s;
    NEED_SERVER();
    if (sess_open(&srv, &s)) RG_FAIL("session refused");
    CHECK(s.w->n_devices >= 1);
    CHECK_STR(s.w->devices[0]->name, "rgpu simgpu");
    CHECK_EQ_INT(s.w->devices[0]->uuid.len, 16);
    CHECK(s.w->devices[0]->total_mem > 0);
    CHECK_EQ_INT(s.w->protocol_version, RPC_PROTO_VERSION);
    CHECK_STR(s.w->backend, "simgpu");
    CHECK(s.w->credits > 0 && s.w->heartbeat_ms > 0 && s.w->session_id > 0);
    CHECK(s.w->window && s.w->window->start == 0x600000000000ull);
    sess_close(&s);
}

RG_TEST(version_mismatch_refused)
{
    Rgpu__Welcome *w = NULL;
    rpc_error e = {0};
    NEED_SERVER();
    tp_conn *c = sess_dial(&srv);
    CHECK(c);
    CHECK_EQ_INT(sess_hello(c, RPC_PROTO_VERSION + 1, &w, &e), RPC_OK);
    CHECK(!w->accepted);
    char v1[32], v2[32];
    snprintf(v1, sizeof v1, "version %d", RPC_PROTO_VERSION);
    snprintf(v2, sizeof v2, "version %d", RPC_PROTO_VERSION + 1);
    CHECK(strstr(w->message, v1) && strstr(w->message, v2));
    rgpu__welcome__free_unpacked(w, NULL);
    tp_close(c);
}

/* Sends bytes on a fresh connection and waits for the server to hang up. */
static int hostile(const void *bytes, size_t n)
{
    tp_conn *c = sess_dial(&srv);
    tp_error te;
    char buf[4096];
    if (!c) return -1;
    tp_send(c, bytes, n, 2000, &te);
    tp_status st;
    do st = tp_recv(c, buf, 1, 15000, &te); /* ERROR/WELCOME bytes, then EOF */
    while (st == TP_OK);
    tp_close(c);
    return st == TP_TIMEOUT ? -1 : 0;
}

static int still_serving(struct sess *s)
{
    struct sess fresh;
    if (sess_open(&srv, &fresh)) return -1;
    sess_close(&fresh);
    if (!have_codec()) return 0;
    int n = 0, *pn = &n;
    void *a[] = {&pn};
    return sess_call(s, "cuDeviceGetCount", 0, a) == 0 && n >= 1 ? 0 : -1;
}

RG_TEST(hostile_frames)
{
    struct sess keep;
    uint8_t hdr[RPC_HDR_SIZE], junk[3000];
    NEED_SERVER();
    if (sess_open(&srv, &keep)) RG_FAIL("session refused");
    srandom(42);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)random();
    CHECK_EQ_INT(hostile(junk, 20), 0);            /* truncated */
    CHECK_EQ_INT(hostile(junk, sizeof junk), 0);   /* random */
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO, .enc_len = RPC_MAX_HANDSHAKE_LEN + 1};
    rpc_hdr_encode(&h, hdr);
    CHECK_EQ_INT(hostile(hdr, sizeof hdr), 0);     /* oversized HELLO */
    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_CALL, .op = 1, .thread = 1, .seq = 1};
    rpc_hdr_encode(&h, hdr);
    CHECK_EQ_INT(hostile(hdr, sizeof hdr), 0);     /* CALL before HELLO */
    CHECK_EQ_INT(still_serving(&keep), 0);
    sess_close(&keep);
}

RG_TEST(hostile_frames_in_session)
{
    struct sess keep, bad;
    uint8_t hdr[RPC_HDR_SIZE], junk[512];
    NEED_SERVER();
    if (sess_open(&srv, &keep) || sess_open(&srv, &bad)) RG_FAIL("session refused");
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 37 + 11);
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_CALL, .op = 1, .thread = 1, .seq = 1,
                 .enc_len = RPC_MAX_ENC_LEN + 1};
    rpc_hdr_encode(&h, hdr);
    tp_error te;
    CHECK_EQ_INT(tp_send(bad.c, hdr, sizeof hdr, 2000, &te), TP_OK); /* oversized CALL */
    rpc_hdr rh;
    void *enc = NULL;
    rpc_error e;
    CHECK_EQ_INT(rpc_frame_recv(bad.c, RPC_FROM_SERVER, 0, 10000, &rh, &enc, &e), RPC_OK);
    free(enc);
    CHECK_EQ_INT(rh.type, RPC_T_ERROR);
    sess_close(&bad);
    if (sess_open(&srv, &bad)) RG_FAIL("session refused");
    CHECK_EQ_INT(tp_send(bad.c, junk, sizeof junk, 2000, &te), TP_OK); /* garbage */
    sess_close(&bad);
    CHECK_EQ_INT(still_serving(&keep), 0);
    sess_close(&keep);
}

RG_TEST(generic_calls)
{
    struct sess s;
    NEED_SERVER();
    NEED_CODEC();
    if (sess_open(&srv, &s)) RG_FAIL("session refused");
    int n = 0, *pn = &n;
    void *a1[] = {&pn};
    CHECK_EQ_INT(sess_call(&s, "cuDeviceGetCount", 0, a1), CUDA_SUCCESS);
    CHECK_EQ_INT(n, (int)s.w->n_devices);
    char name[128] = {0};
    int len = sizeof name;
    CUdevice dev = 0;
    void *a2[] = {&name, &len, &dev};
    char *pname = name;
    a2[0] = &pname;
    CHECK_EQ_INT(sess_call(&s, "cuDeviceGetName", 0, a2), CUDA_SUCCESS);
    CHECK_STR(name, "rgpu simgpu");

    const struct rpc_call_desc *cd = rpc_call_by_name("cuCtxCreate_v2");
    CHECK(cd);
    uint64_t ctxid = cd->args[0].mint == RPC_MINT_CLIENT ? h_id(RPC_H_CONTEXT, 1) : 0;
    CUcontext ctx = (CUcontext)(uintptr_t)ctxid, *pctx = &ctx;
    unsigned flags = 0;
    void *a3[] = {&pctx, &flags, &dev};
    CHECK_EQ_INT(sess_call(&s, "cuCtxCreate_v2", 0, a3), CUDA_SUCCESS);
    CHECK(ctx != NULL);
    if (ctxid) CHECK_EQ_U64((uintptr_t)ctx, ctxid);
    uint64_t cid = (uintptr_t)ctx;

    size_t fr0 = 0, tot = 0, fr1 = 0, *pf0 = &fr0, *pf1 = &fr1, *pt = &tot;
    void *a4[] = {&pf0, &pt};
    CHECK_EQ_INT(sess_call(&s, "cuMemGetInfo_v2", cid, a4), CUDA_SUCCESS);
    CUdeviceptr p = 0, *pp = &p;
    size_t sz = 64 << 20;
    void *a5[] = {&pp, &sz};
    CHECK_EQ_INT(sess_call(&s, "cuMemAlloc_v2", cid, a5), CUDA_SUCCESS);
    CHECK(p >= 0x600000000000ull && p < 0x600000000000ull + (16ull << 30)); /* in the window */
    void *a6[] = {&pf1, &pt};
    CHECK_EQ_INT(sess_call(&s, "cuMemGetInfo_v2", cid, a6), CUDA_SUCCESS);
    CHECK(fr1 + sz <= fr0);
    void *a7[] = {&p};
    CHECK_EQ_INT(sess_call(&s, "cuMemFree_v2", cid, a7), CUDA_SUCCESS);
    CHECK_EQ_INT(sess_call(&s, "cuMemFree_v2", cid, a7), CUDA_ERROR_INVALID_VALUE);
    sess_close(&s);
}

RG_TEST(bogus_handles)
{
    struct sess s;
    NEED_SERVER();
    NEED_CODEC();
    if (sess_open(&srv, &s)) RG_FAIL("session refused");
    CUcontext bogus = (CUcontext)(uintptr_t)h_id(RPC_H_CONTEXT, 777);
    unsigned ver = 0, *pv = &ver;
    void *a1[] = {&bogus, &pv};
    CHECK_EQ_INT(sess_call(&s, "cuCtxGetApiVersion", 0, a1), CUDA_ERROR_INVALID_CONTEXT);
    CUstream st = (CUstream)(uintptr_t)h_id(RPC_H_STREAM, 999);
    void *a2[] = {&st};
    CHECK_EQ_INT(sess_call(&s, "cuStreamQuery", 0, a2), CUDA_ERROR_INVALID_HANDLE);
    st = (CUstream)(uintptr_t)0xdeadbeefcafeull; /* not even an id */
    CHECK_EQ_INT(sess_call(&s, "cuStreamQuery", 0, a2), CUDA_ERROR_INVALID_HANDLE);
    CUdeviceptr p = 0x600000001000ull;
    void *a3[] = {&p};
    CHECK_EQ_INT(sess_call(&s, "cuMemFree_v2", 0, a3), CUDA_ERROR_INVALID_CONTEXT);
    sess_close(&s);
}

/* The id a call's client-minted first (OUT_HANDLE) argument gets, or 0 when
 * the server mints it. */
static uint64_t minted(const char *call, unsigned type, uint64_t serial)
{
    const struct rpc_call_desc *d = rpc_call_by_name(call);
    return d && d->args[0].mint == RPC_MINT_CLIENT ? h_id(type, serial) : 0;
}

static int make_ctx(struct sess *s, uint64_t *id)
{
    CUcontext ctx = (CUcontext)(uintptr_t)minted("cuCtxCreate_v2", RPC_H_CONTEXT, 5), *pctx = &ctx;
    unsigned flags = 0;
    CUdevice dev = 0;
    void *a[] = {&pctx, &flags, &dev};
    int r = sess_call(s, "cuCtxCreate_v2", 0, a);
    *id = (uintptr_t)ctx;
    return r;
}

RG_TEST(sessions_isolated)
{
    struct sess a, b;
    uint64_t ida = 0;
    NEED_SERVER();
    NEED_CODEC();
    if (sess_open(&srv, &a) || sess_open(&srv, &b)) RG_FAIL("session refused");
    CHECK_EQ_INT(make_ctx(&a, &ida), CUDA_SUCCESS);
    CUcontext c = (CUcontext)(uintptr_t)ida;
    unsigned ver = 0, *pv = &ver;
    void *args[] = {&c, &pv};
    CHECK_EQ_INT(sess_call(&a, "cuCtxGetApiVersion", 0, args), CUDA_SUCCESS);
    CHECK_EQ_INT(sess_call(&b, "cuCtxGetApiVersion", 0, args), CUDA_ERROR_INVALID_CONTEXT);
    sess_close(&a);
    sess_close(&b);
}

static int wait_children(int want, int ms)
{
    int pids[64];
    for (int t = 0; t < ms; t += 20) {
        if (rgpud_children(&srv, pids, 64) <= want) return 0;
        usleep(20000);
    }
    return -1;
}

/* Session b watches the device's free memory (simgpu workers share their
 * devices' accounting through rgpud, as processes on one GPU do) while session
 * a allocates 256 MiB and then ends badly: its memory must come back. */
struct watched {
    struct sess a, b;
    uint64_t bctx;
    size_t free0;
    int a_worker;
};

static size_t free_mem(struct sess *s, uint64_t ctx)
{
    size_t fr = 0, tot = 0, *pf = &fr, *pt = &tot;
    void *g[] = {&pf, &pt};
    return sess_call(s, "cuMemGetInfo_v2", ctx, g) == CUDA_SUCCESS ? fr : 0;
}

static int watched_open(struct watched *w)
{
    int before[64], after[64];
    uint64_t actx;
    CUdeviceptr p, *pp = &p;
    size_t sz = 256 << 20;
    void *al[] = {&pp, &sz};
    if (wait_children(0, 5000) || sess_open(&srv, &w->b) || make_ctx(&w->b, &w->bctx)) return -1;
    w->free0 = free_mem(&w->b, w->bctx);
    int nb = rgpud_children(&srv, before, 64);
    if (sess_open(&srv, &w->a) || make_ctx(&w->a, &actx) ||
        sess_call(&w->a, "cuMemAlloc_v2", actx, al) != CUDA_SUCCESS)
        return -1;
    int na = rgpud_children(&srv, after, 64);
    w->a_worker = 0;
    for (int i = 0; i < na; i++) {
        int seen = 0;
        for (int j = 0; j < nb; j++) seen |= after[i] == before[j];
        if (!seen) w->a_worker = after[i];
    }
    return w->free0 && w->a_worker ? 0 : -1;
}

RG_TEST(killed_client_cleaned_up)
{
    struct watched w;
    NEED_SERVER();
    NEED_CODEC();
    if (watched_open(&w)) RG_FAIL("sessions not set up");
    CHECK(free_mem(&w.b, w.bctx) <= w.free0 - (256u << 20)); /* b sees a's allocation */
    sess_close(&w.a); /* the client vanishes without CLOSE */
    CHECK_EQ_INT(wait_children(1, 10000), 0);
    CHECK_EQ_U64(free_mem(&w.b, w.bctx), w.free0);
    sess_close(&w.b);
}

RG_TEST(killed_worker_memory_reclaimed)
{
    struct watched w;
    NEED_SERVER();
    NEED_CODEC();
    if (watched_open(&w)) RG_FAIL("sessions not set up");
    CHECK(free_mem(&w.b, w.bctx) <= w.free0 - (256u << 20));
    CHECK(kill(w.a_worker, SIGKILL) == 0); /* no cleanup runs in the worker */
    CHECK_EQ_INT(wait_children(1, 10000), 0);
    for (int i = 0; i < 100 && free_mem(&w.b, w.bctx) != w.free0; i++) usleep(20000);
    CHECK_EQ_U64(free_mem(&w.b, w.bctx), w.free0); /* rgpud gave it back when it reaped a's worker */
    sess_close(&w.a);
    sess_close(&w.b);
}

/* Pipelined (NOREPLY) calls against a credit window: a client that spends
 * every credit gets them back with no reply to wait for (CREDIT frames), all
 * of them, even fewer than the server batches; a waiting call's REPLY then
 * leaves the client holding exactly its window: none lost, none given twice. */
static int send_sync(struct sess *s, uint64_t ctx, uint16_t flags)
{
    return sess_send(s, rpc_call_by_name("cuCtxSynchronize"), ctx, NULL, flags, 0, NULL, 0);
}

/* Reads one frame, adding its credits to *have; its type, or -1. */
static int recv_credits(struct sess *s, long *have)
{
    rpc_hdr h;
    void *enc = NULL;
    rpc_error e = {0};
    if (rpc_frame_recv(s->c, RPC_FROM_SERVER, 0, 5000, &h, &enc, &e) != RPC_OK) {
        fprintf(stderr, "  no frame from the server: %s\n", e.msg);
        return -1;
    }
    char sink[256];
    for (size_t left = h.raw_len; left;) { /* a REPLY's raw part (none expected here) */
        size_t k = left < sizeof sink ? left : sizeof sink;
        if (rpc_frame_recv_raw(s->c, sink, k, 5000, &e) != RPC_OK) return -1;
        left -= k;
    }
    free(enc);
    *have += h.credit;
    return h.type;
}

static int credits_round(int window, int calls)
{
    struct rgpud d;
    struct sess s;
    char arg[32];
    uint64_t ctx = 0;
    int bad = 0, credit_frames = 0, t;
    snprintf(arg, sizeof arg, "--credits=%d", window);
    if (rgpud_start(&d, arg)) return -1;
    if (sess_open(&d, &s) || (int)s.w->credits != window || make_ctx(&s, &ctx) != CUDA_SUCCESS) {
        rgpud_stop(&d);
        return -1; /* make_ctx waits for its REPLY, which returns its own credit */
    }
    long have = window;
    for (int i = 0; i < calls && !bad; i++) {
        while (have <= 0 && !bad) { /* spent: only the server can unblock us */
            t = recv_credits(&s, &have);
            if (t == RPC_T_CREDIT) credit_frames++;
            else if (t != RPC_T_HEARTBEAT) bad = 1;
        }
        if (!bad && send_sync(&s, ctx, RPC_F_NOREPLY)) bad = 1;
        have--;
    }
    while (!bad && have < window) { /* the last ones, below a batch, come back too */
        t = recv_credits(&s, &have);
        if (t == RPC_T_CREDIT) credit_frames++;
        else if (t != RPC_T_HEARTBEAT) bad = 1;
    }
    if (!bad && send_sync(&s, ctx, 0)) bad = 1;
    have--;
    while (!bad && (t = recv_credits(&s, &have)) != RPC_T_REPLY)
        if (t == RPC_T_CREDIT) credit_frames++;
        else if (t != RPC_T_HEARTBEAT) bad = 1;
    if (!bad && have != window) {
        fprintf(stderr, "  window %d: %ld credits after the reply\n", window, have);
        bad = 1;
    }
    if (!bad && credit_frames == 0) {
        fprintf(stderr, "  window %d: %d calls went with no CREDIT frame\n", window, calls);
        bad = 1;
    }
    sess_close(&s);
    rgpud_stop(&d);
    return bad ? -1 : 0;
}

RG_TEST(credits_come_back)
{
    NEED_CODEC();
    CHECK_EQ_INT(credits_round(16, 2000), 0);
    CHECK_EQ_INT(credits_round(16, 3), 0); /* a batch is 4 */
    CHECK_EQ_INT(credits_round(1, 200), 0);
}

/* A CALL counted to run again (rpc/frame.h `repeat`) must be a launch: any
 * other ends its session before it runs, and the server serves on. */
RG_TEST(repeat_only_for_launches)
{
    struct sess keep, bad;
    NEED_SERVER();
    NEED_CODEC();
    if (sess_open(&srv, &keep) || sess_open(&srv, &bad)) RG_FAIL("session refused");
    const struct rpc_call_desc *d = rpc_call_by_name("cuCtxSynchronize");
    CHECK(d);
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_CALL, .flags = RPC_F_NOREPLY,
                 .op = d->op, .thread = bad.thread, .seq = ++bad.seq, .repeat = 2};
    rpc_error e = {0};
    CHECK_EQ_INT(rpc_frame_send(bad.c, RPC_FROM_CLIENT, &h, NULL, 0, NULL, 0, 5000, &e), RPC_OK);
    /* a call after it that waits gets no reply: the session is over */
    int n = 0, *pn = &n;
    void *a[] = {&pn};
    CHECK_EQ_INT(sess_call(&bad, "cuDeviceGetCount", 0, a), -1);
    sess_close(&bad);
    CHECK_EQ_INT(still_serving(&keep), 0);
    sess_close(&keep);
}

/* ---- a repeated launch's own parameters ------------------------------------ */

/* add(p, v): *p += v, so every run of a launch shows in one counter. */
static const char add_ptx[] = ".version 8.0\n.target sm_80\n.address_size 64\n"
                              ".visible .entry add(.param .u64 p, .param .u32 v)\n{\n"
                              "  .reg .u64 %rd<2>;\n  .reg .u32 %r<3>;\n"
                              "  ld.param.u64 %rd1, [p];\n  ld.param.u32 %r1, [v];\n"
                              "  atom.add.u32 %r2, [%rd1], %r1;\n  ret;\n}\n";

/* What the shim's cache would say of add(): 8 bytes at 0, 4 at 8. */
static uint32_t add_offs[] = {0, 8}, add_sizes[] = {8, 4};
static int add_layout(void *self, uint64_t func_id, struct rpc_param_layout *out)
{
    (void)self, (void)func_id;
    *out = (struct rpc_param_layout){2, add_offs, add_sizes};
    return 0;
}
static const struct rpc_client_ops add_ops = {add_layout, NULL, NULL};

struct add_sess {
    struct sess s;
    uint64_t ctx;
    CUfunction f;
    CUdeviceptr counter;
};

/* A session with a context, add() loaded and a zeroed 4-byte counter. */
static int add_open(struct add_sess *a)
{
    if (sess_open(&srv, &a->s) || make_ctx(&a->s, &a->ctx)) return -1;
    CUmodule m = (CUmodule)(uintptr_t)minted("cuModuleLoadData", RPC_H_MODULE, 1), *pm = &m;
    const void *img = add_ptx;
    void *a1[] = {&pm, &img};
    if (sess_call(&a->s, "cuModuleLoadData", a->ctx, a1)) return -1;
    a->f = (CUfunction)(uintptr_t)minted("cuModuleGetFunction", RPC_H_FUNCTION, 1);
    CUfunction *pf = &a->f;
    const char *name = "add";
    void *a2[] = {&pf, &m, &name};
    if (sess_call(&a->s, "cuModuleGetFunction", a->ctx, a2)) return -1;
    CUdeviceptr *pp = &a->counter;
    size_t four = 4;
    void *a3[] = {&pp, &four};
    if (sess_call(&a->s, "cuMemAlloc_v2", a->ctx, a3)) return -1;
    unsigned zero = 0;
    size_t one = 1;
    void *a4[] = {&a->counter, &zero, &one};
    return sess_call(&a->s, "cuMemsetD32_v2", a->ctx, a4) ? -1 : 0;
}

/* add(counter, v) sent once, counted to run `repeat` more times, with
 * `reruns` (bytes) as the raw part: the further runs' parameters. */
static int add_repeated(struct add_sess *a, unsigned v, uint16_t repeat, const void *reruns,
                        size_t len)
{
    unsigned one = 1, smem = 0;
    CUstream st = NULL;
    void *kp[] = {&a->counter, &v}, **pkp = kp, **extra = NULL;
    void *args[] = {&a->f, &one, &one, &one, &one, &one, &one, &smem, &st, &pkp, &extra};
    return sess_send(&a->s, rpc_call_by_name("cuLaunchKernel"), a->ctx, args, RPC_F_NOREPLY,
                     repeat, reruns, len);
}

static int add_read(struct add_sess *a, unsigned *out)
{
    *out = 0;
    void *dst = out;
    size_t four = 4;
    void *args[] = {&dst, &a->counter, &four};
    return sess_call(&a->s, "cuMemcpyDtoH_v2", a->ctx, args);
}

/* Each further run of a repeated launch takes its parameters from the raw
 * part: whole sets run (checked by the sum they add); a raw part that is not
 * one whole set per further run ends its session, and the server serves the
 * others on. */
RG_TEST(repeat_reruns_whole_sets)
{
    struct add_sess good, part, extra;
    NEED_SERVER();
    NEED_CODEC();
    rpc_set_client_ops(&add_ops);
    if (add_open(&good)) RG_FAIL("session with add() not set up");
    unsigned char sets[4][12];
    unsigned want = 1;
    for (unsigned k = 0; k < 4; k++) { /* runs 2..5 add 2, 3, 4, 5 */
        unsigned v = k + 2;
        memcpy(sets[k], &good.counter, 8);
        memcpy(sets[k] + 8, &v, 4);
        want += v;
    }
    CHECK_EQ_INT(add_repeated(&good, 1, 4, sets, sizeof sets), 0);
    unsigned got;
    CHECK_EQ_INT(add_read(&good, &got), CUDA_SUCCESS);
    CHECK_EQ_INT(got, want); /* 1 + 2 + 3 + 4 + 5 */
    /* two further runs but two and a half sets; three runs but two sets */
    if (add_open(&part) || add_open(&extra)) RG_FAIL("sessions with add() not set up");
    CHECK_EQ_INT(add_repeated(&part, 1, 2, sets, 30), 0);
    CHECK_EQ_INT(add_read(&part, &got), -1); /* the session is over */
    CHECK_EQ_INT(add_repeated(&extra, 1, 3, sets, 24), 0);
    CHECK_EQ_INT(add_read(&extra, &got), -1);
    /* the good session is untouched and its counter has not moved */
    CHECK_EQ_INT(add_read(&good, &got), CUDA_SUCCESS);
    CHECK_EQ_INT(got, want);
    CHECK_EQ_INT(still_serving(&good.s), 0);
    sess_close(&part.s);
    sess_close(&extra.s);
    sess_close(&good.s);
}

/* The largest count a header carries (RPC_MAX_REPEAT further runs) runs the
 * launch that many times more, each with the first run's parameters: the sum
 * shows every run (one more is refused by the frame rules: rpc frame_test). */
RG_TEST(repeat_at_its_largest_runs_every_time)
{
    struct add_sess a;
    NEED_SERVER();
    NEED_CODEC();
    rpc_set_client_ops(&add_ops);
    if (add_open(&a)) RG_FAIL("session with add() not set up");
    CHECK_EQ_INT(add_repeated(&a, 3, (uint16_t)RPC_MAX_REPEAT, NULL, 0), 0);
    unsigned got;
    CHECK_EQ_INT(add_read(&a, &got), CUDA_SUCCESS);
    CHECK_EQ_INT(got, 3u * (RPC_MAX_REPEAT + 1));
    sess_close(&a.s);
}

RG_TEST(sigterm_clean_shutdown)
{
    struct rgpud d;
    struct sess s;
    int pids[64];
    if (rgpud_start(&d, NULL)) RG_FAIL("rgpud did not start");
    if (sess_open(&d, &s)) {
        rgpud_stop(&d);
        RG_FAIL("session refused");
    }
    int n = rgpud_children(&d, pids, 64);
    int rc = rgpud_stop(&d);
    sess_close(&s);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rc, 0);
    CHECK(kill(pids[0], 0) < 0 && errno == ESRCH); /* no orphan worker */
}

RG_TEST_MAIN()
