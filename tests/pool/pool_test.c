/* pool_test.c — rgpud as a GPU pool, end to end on loopback with 4 simgpu
 * devices: placement (least-loaded spreads, pack fills), sessions asking for
 * several or all GPUs, the queue, memory quotas (OOM past the quota while a
 * session on the same GPU is unaffected; cuMemGetInfo and the device total
 * report the quota), and the admin plane through rgpuctl: status --json while
 * sessions run, kill, drain, and the memory of a SIGKILLed client or worker
 * back in the pool. 16 tiny programs under rgpu-run share 4 GPUs. */
#include <cuda.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "rgtest.h"
#include "server/srvtest.h"
#include "tenants.h"
#include "verifier.h"

#define MiB (1ull << 20)

struct pool {
    struct rgpud d;
    char admin[128];
};

/* rgpud with 4 simgpu devices of 1 GiB, a private admin socket and the given
 * settings (NULL-terminated "--name", "value" pairs). */
static int pool_start(struct pool *p, ...)
{
    char pf[96];
    const char *bin = getenv("RGPUD");
    snprintf(pf, sizeof pf, "/tmp/rgpu-pool-test-%d-%ld.port", (int)getpid(), (long)random());
    snprintf(p->admin, sizeof p->admin, "ipc:///tmp/rgpu-pool-test-%d-%ld.sock", (int)getpid(),
             (long)random());
    unlink(pf);
    if (!bin) return -1;
    char *argv[64] = {(char *)bin,
                      "--listen",
                      "tcp://127.0.0.1:0",
                      "--backend",
                      "simgpu",
                      "--port-file",
                      pf,
                      "--admin",
                      p->admin,
                      "--heartbeat-ms",
                      "200",
                      "--queue-timeout-ms",
                      "0"};
    int n = 13;
    va_list ap;
    va_start(ap, p);
    for (char *a; n < 62 && (a = va_arg(ap, char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    p->d.pid = fork();
    if (p->d.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setenv("SIMGPU_DEVICES", "4", 1);
        setenv("SIMGPU_MEMORY", "1G", 1);
        execv(bin, argv);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        if (waitpid(p->d.pid, NULL, WNOHANG) == p->d.pid) { /* it gave up: a bad setting */
            p->d.pid = 0;
            return -1;
        }
        FILE *f = fopen(pf, "r");
        if (f) {
            int ok = fscanf(f, "%d", &p->d.port) == 1;
            fclose(f);
            if (ok) {
                unlink(pf);
                snprintf(p->d.url, sizeof p->d.url, "tcp://127.0.0.1:%d", p->d.port);
                return 0;
            }
        }
        usleep(10000);
    }
    rgpud_stop(&p->d);
    return -1;
}

static const char *token; /* NAME:SECRET of the sessions open_n opens (SCRAM-SHA-256) */
static int open_as(struct pool *p, struct sess *s, int ndev, const char *user, const char *secret,
                   const char *plain, int *sig_ok);

/* A session asking for ndev GPUs (0: the default, -1: all). */
static int open_n(struct pool *p, struct sess *s, int ndev)
{
    char user[64];
    int sig_ok;
    const char *colon = token ? strchr(token, ':') : NULL;
    if (!colon) return open_as(p, s, ndev, NULL, NULL, NULL, &sig_ok);
    snprintf(user, sizeof user, "%.*s", (int)(colon - token), token);
    int r = open_as(p, s, ndev, user, colon + 1, NULL, &sig_ok);
    return r == 0 && !sig_ok ? -1 : r;
}

/* ---- rgpuctl ---------------------------------------------------------------------- */

/* Runs rgpuctl with args; its stdout in out (NUL-terminated), its exit status. */
static int ctl(struct pool *p, char *out, size_t len, const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --admin %s %s", getenv("RGPUCTL"), p->admin, args);
    FILE *f = popen(cmd, "r");
    size_t n = 0;
    if (!f) return -1;
    while (n + 1 < len) {
        size_t k = fread(out + n, 1, len - 1 - n, f);
        if (!k) break;
        n += k;
    }
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The JSON object that starts with `"key":value,` in status --json. */
static const char *object(const char *json, const char *key, unsigned long long value)
{
    char pat[64];
    snprintf(pat, sizeof pat, "{\"%s\":%llu,", key, value);
    return strstr(json, pat);
}

/* A number field inside the object at o (before the object's end). */
static long long field(const char *o, const char *name)
{
    char pat[64];
    if (!o) return -1;
    snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *f = strstr(o, pat), *end = strchr(o + 1, '}');
    if (!f || (end && f > end)) return -1;
    return strtoll(f + strlen(pat), NULL, 10);
}

static long long session_field(const char *json, uint64_t id, const char *name)
{
    return field(object(json, "id", id), name);
}

static long long device_field(const char *json, int dev, const char *name)
{
    return field(object(json, "index", (unsigned long long)dev), name);
}

/* The first physical device of session id, -1 if it is not listed. */
static int session_device(const char *json, uint64_t id)
{
    const char *o = object(json, "id", id), *d = o ? strstr(o, "\"devices\":[") : NULL;
    return d ? atoi(d + 11) : -1;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (; (s = strstr(s, what)); s++)
        n++;
    return n;
}

static char js[1 << 16];

static int status(struct pool *p)
{
    return ctl(p, js, sizeof js, "status --json");
}

/* Waits until status shows the pool with `sessions` sessions (bounded). */
static int until_sessions(struct pool *p, int sessions)
{
    for (int i = 0; i < 1500; i++) {
        if (status(p) == 0 && count(js, "\"worker_pid\":") == sessions) return 0;
        usleep(20000);
    }
    return -1;
}

static int exit_status(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- calls ---------------------------------------------------------------------------- */

static int make_ctx(struct sess *s, uint64_t *id, int dev_ordinal)
{
    const struct rpc_call_desc *cd = rpc_call_by_name("cuCtxCreate_v2");
    CUcontext ctx = (CUcontext)(uintptr_t)(cd && cd->args[0].mint == RPC_MINT_CLIENT
                                               ? h_id(RPC_H_CONTEXT, 5)
                                               : 0),
              *pctx = &ctx;
    unsigned flags = 0;
    CUdevice dev = dev_ordinal;
    void *a[] = {&pctx, &flags, &dev};
    int r = sess_call(s, "cuCtxCreate_v2", 0, a);
    *id = (uintptr_t)ctx;
    return r;
}

static int mem_alloc(struct sess *s, uint64_t ctx, size_t size, CUdeviceptr *p)
{
    CUdeviceptr *pp = p;
    void *a[] = {&pp, &size};
    return sess_call(s, "cuMemAlloc_v2", ctx, a);
}

static int mem_free(struct sess *s, uint64_t ctx, CUdeviceptr p)
{
    void *a[] = {&p};
    return sess_call(s, "cuMemFree_v2", ctx, a);
}

static int mem_info(struct sess *s, uint64_t ctx, size_t *fr, size_t *tot)
{
    void *a[] = {&fr, &tot};
    return sess_call(s, "cuMemGetInfo_v2", ctx, a);
}

#define START(p, ...)                                                                              \
    do {                                                                                           \
        if (!have_codec()) RG_SKIP("the generic codec is not in this build");                      \
        if (pool_start(p, __VA_ARGS__))                                                            \
            RG_FAIL("rgpud did not start (RGPUD=%s)", getenv("RGPUD"));                            \
    } while (0)

/* ---- placement ---------------------------------------------------------------------- */

RG_TEST(least_loaded_spreads)
{
    struct pool p;
    struct sess s[4];
    START(&p, NULL);
    for (int i = 0; i < 4; i++)
        if (open_n(&p, &s[i], 0)) RG_FAIL("session %d refused", i);
    CHECK_EQ_INT(status(&p), 0);
    int seen = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(s[i].w->n_devices, 1);
        int d = session_device(js, s[i].w->session_id);
        CHECK(d >= 0 && d < 4);
        seen |= 1 << d;
    }
    CHECK_EQ_INT(seen, 0xf); /* one session on each GPU */
    for (int d = 0; d < 4; d++)
        CHECK_EQ_INT(device_field(js, d, "sessions"), 1);
    /* distinct GPUs are distinct devices to the sessions too */
    CHECK(memcmp(s[0].w->devices[0]->uuid.data, s[1].w->devices[0]->uuid.data, 16));
    for (int i = 0; i < 4; i++)
        sess_close(&s[i]);
    rgpud_stop(&p.d);
}

RG_TEST(pack_fills_one_gpu_first)
{
    struct pool p;
    struct sess s[3];
    START(&p, "--placement", "pack", "--device-sessions", "2", NULL);
    for (int i = 0; i < 3; i++)
        if (open_n(&p, &s[i], 0)) RG_FAIL("session %d refused", i);
    CHECK_EQ_INT(status(&p), 0);
    int d0 = session_device(js, s[0].w->session_id);
    CHECK_EQ_INT(session_device(js, s[1].w->session_id), d0); /* packed on the same GPU */
    CHECK(session_device(js, s[2].w->session_id) != d0);      /* that GPU holds 2: the next one */
    CHECK_EQ_INT(device_field(js, d0, "sessions"), 2);
    CHECK(!memcmp(s[0].w->devices[0]->uuid.data, s[1].w->devices[0]->uuid.data, 16));
    for (int i = 0; i < 3; i++)
        sess_close(&s[i]);
    rgpud_stop(&p.d);
}

RG_TEST(several_and_all_gpus)
{
    struct pool p;
    struct sess a, b, c;
    START(&p, NULL);
    CHECK_EQ_INT(open_n(&p, &a, 3), 0);
    CHECK_EQ_INT(a.w->n_devices, 3);
    CHECK(memcmp(a.w->devices[0]->uuid.data, a.w->devices[1]->uuid.data, 16) &&
          memcmp(a.w->devices[1]->uuid.data, a.w->devices[2]->uuid.data, 16));
    CHECK_EQ_INT(open_n(&p, &b, -1), 0); /* RGPU_DEVICES=all */
    CHECK_EQ_INT(b.w->n_devices, 4);
    CHECK_EQ_INT(open_n(&p, &c, 5), 1); /* more than the pool has: refused, saying so */
    CHECK(strstr(c.w->message, "asks for 5 GPUs") && strstr(c.w->message, "has 4"));
    sess_close(&a);
    sess_close(&b);
    sess_close(&c);
    rgpud_stop(&p.d);
}

RG_TEST(queue_waits_for_a_gpu)
{
    struct pool p;
    struct sess a, b, c;
    rpc_error e = {0};
    START(&p, "--device-sessions", "1", "--queue-timeout-ms", "60000", NULL);
    CHECK_EQ_INT(open_n(&p, &a, -1), 0); /* holds all 4 GPUs */
    /* b asks while the pool is full: it waits (its HELLO is read, no WELCOME yet) */
    memset(&b, 0, sizeof b);
    b.thread = 1;
    CHECK((b.c = sess_dial(&p.d)) != NULL);
    Rgpu__Hello m = RGPU__HELLO__INIT;
    m.protocol_version = RPC_PROTO_VERSION;
    m.client_version = "test";
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    CHECK_EQ_INT(rpc_send_msg(b.c, RPC_FROM_CLIENT, &h, &m.base, 5000, &e), RPC_OK);
    CHECK_EQ_INT(until_sessions(&p, 2), 0); /* a, and b queued ("placed" without GPUs) */
    CHECK(strstr(js, "\"devices\":[],"));
    sess_close(&a); /* its GPUs come back: b gets one */
    CHECK_EQ_INT(rpc_recv_msg(b.c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0,
                              30000, &h, (ProtobufCMessage **)&b.w, &e),
                 RPC_OK);
    CHECK(b.w->accepted);
    sess_close(&b);
    rgpud_stop(&p.d);
    /* with no wait configured, a busy pool refuses at once, with the reason */
    START(&p, "--device-sessions", "1", NULL);
    CHECK_EQ_INT(open_n(&p, &a, -1), 0);
    CHECK_EQ_INT(open_n(&p, &c, 0), 1);
    CHECK(strstr(c.w->message, "no free GPU"));
    sess_close(&a);
    sess_close(&c);
    rgpud_stop(&p.d);
}

/* HELLO sent, WELCOME not read yet: a session that may wait in the queue. */
static int hello_only(struct pool *p, struct sess *s, int ndev)
{
    rpc_error e = {0};
    memset(s, 0, sizeof *s);
    s->thread = 1;
    if (!(s->c = sess_dial(&p->d))) return -1;
    Rgpu__Hello m = RGPU__HELLO__INIT;
    m.protocol_version = RPC_PROTO_VERSION;
    m.client_version = "test";
    m.devices_wanted = (uint32_t)ndev;
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    return rpc_send_msg(s->c, RPC_FROM_CLIENT, &h, &m.base, 5000, &e) == RPC_OK ? 0 : -1;
}

static int welcome_of(struct sess *s)
{
    rpc_error e = {0};
    rpc_hdr h;
    if (rpc_recv_msg(s->c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0, 30000, &h,
                     (ProtobufCMessage **)&s->w, &e) != RPC_OK)
        return -1;
    return s->w->accepted ? 0 : 1;
}

/* First come, first placed: a session asking for 1 GPU while one is free
 * still waits behind an earlier one asking for 2. */
RG_TEST(queue_is_first_come_first_placed)
{
    struct pool p;
    struct sess a, b, c;
    START(&p, "--device-sessions", "1", "--queue-timeout-ms", "60000", NULL);
    CHECK_EQ_INT(open_n(&p, &a, 3), 0); /* 1 GPU left */
    CHECK_EQ_INT(hello_only(&p, &b, 2), 0);
    CHECK_EQ_INT(until_sessions(&p, 2), 0); /* b waits */
    CHECK_EQ_INT(hello_only(&p, &c, 1), 0);
    CHECK_EQ_INT(until_sessions(&p, 3), 0);
    CHECK_EQ_INT(count(js, "\"devices\":[],"), 2); /* c waits too, behind b */
    sess_close(&a);
    CHECK_EQ_INT(welcome_of(&b), 0);
    CHECK_EQ_INT(b.w->n_devices, 2);
    CHECK_EQ_INT(welcome_of(&c), 0);
    CHECK_EQ_INT(c.w->n_devices, 1);
    sess_close(&b);
    sess_close(&c);
    rgpud_stop(&p.d);
}

/* ---- memory quota ---------------------------------------------------------------------- */

RG_TEST(quota_enforced_and_reported)
{
    struct pool p;
    struct sess a, b;
    uint64_t actx, bctx;
    CUdeviceptr pa, pa2, pb;
    size_t fr = 0, tot = 0;
    START(&p, "--placement", "pack", "--memory-quota", "64M", "--memory-headroom", "16M", NULL);
    CHECK_EQ_INT(open_n(&p, &a, 0), 0);
    CHECK_EQ_INT(open_n(&p, &b, 0), 0);
    CHECK(
        !memcmp(a.w->devices[0]->uuid.data, b.w->devices[0]->uuid.data, 16)); /* one GPU, shared */
    CHECK_EQ_U64(a.w->devices[0]->total_mem, 64 * MiB); /* cuDeviceTotalMem: the quota */
    CHECK_EQ_INT(make_ctx(&a, &actx, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(make_ctx(&b, &bctx, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_info(&a, actx, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(tot, 64 * MiB);
    CHECK_EQ_U64(fr, 64 * MiB);
    CHECK_EQ_INT(mem_alloc(&a, actx, 48 * MiB, &pa), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&a, actx, 32 * MiB, &pa2),
                 CUDA_ERROR_OUT_OF_MEMORY); /* past the quota */
    CHECK_EQ_INT(mem_info(&a, actx, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(fr, 16 * MiB);
    /* b, on the same GPU, has its own quota and its own view */
    CHECK_EQ_INT(mem_info(&b, bctx, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(fr, 64 * MiB);
    CHECK_EQ_INT(mem_alloc(&b, bctx, 48 * MiB, &pb), CUDA_SUCCESS);
    /* the other allocation APIs count against the same quota */
    CUdeviceptr *pp = &pa2;
    size_t big = 32 * MiB;
    unsigned glob = CU_MEM_ATTACH_GLOBAL;
    void *man[] = {&pp, &big, &glob};
    CHECK_EQ_INT(sess_call(&a, "cuMemAllocManaged", actx, man), CUDA_ERROR_OUT_OF_MEMORY);
    CUstream st = NULL;
    void *as[] = {&pp, &big, &st};
    CHECK_EQ_INT(sess_call(&a, "cuMemAllocAsync", actx, as), CUDA_ERROR_OUT_OF_MEMORY);
    size_t pitch = 0, *ppitch = &pitch, w = 8192, hgt = 4096;
    unsigned el = 4;
    void *pt[] = {&pp, &ppitch, &w, &hgt, &el};
    CHECK_EQ_INT(sess_call(&a, "cuMemAllocPitch_v2", actx, pt), CUDA_ERROR_OUT_OF_MEMORY);
    CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                                .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};
    CUmemGenericAllocationHandle mh = 0, *pmh = &mh;
    const CUmemAllocationProp *pprop = &prop;
    unsigned long long fl = 0;
    void *vmm[] = {&pmh, &big, &pprop, &fl};
    CHECK_EQ_INT(sess_call(&a, "cuMemCreate", actx, vmm), CUDA_ERROR_OUT_OF_MEMORY);
    /* rgpuctl shows each session's use and quota */
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(session_field(js, a.w->session_id, "memory_used"), 48 * MiB);
    CHECK_EQ_INT(session_field(js, a.w->session_id, "memory_quota"), 64 * MiB);
    CHECK_EQ_INT(device_field(js, session_device(js, a.w->session_id), "memory_used"), 96 * MiB);
    /* freeing gives the quota back */
    CHECK_EQ_INT(mem_free(&a, actx, pa), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&a, actx, 32 * MiB, &pa2), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_info(&a, actx, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(fr, 32 * MiB);
    sess_close(&a);
    sess_close(&b);
    rgpud_stop(&p.d);
}

/* Allocations from a memory pool count on the pool's GPU, whatever the
 * current context's: each GPU of a session has its own quota. */
RG_TEST(quota_per_gpu_follows_memory_pools)
{
    struct pool p;
    struct sess a;
    uint64_t ctx;
    CUdeviceptr p1, p2, p3;
    START(&p, "--memory-quota", "64M", NULL);
    CHECK_EQ_INT(open_n(&p, &a, 2), 0);
    CHECK_EQ_INT(make_ctx(&a, &ctx, 0), CUDA_SUCCESS); /* current: session GPU 0 */
    CUmemoryPool pool = NULL, *ppool = &pool;
    CUdevice one = 1;
    void *gp[] = {&ppool, &one};
    CHECK_EQ_INT(sess_call(&a, "cuDeviceGetDefaultMemPool", ctx, gp), CUDA_SUCCESS);
    size_t big = 48 * MiB, more = 32 * MiB;
    CUstream st = NULL;
    CUdeviceptr *pp = &p1;
    void *al[] = {&pp, &big, &pool, &st};
    CHECK_EQ_INT(sess_call(&a, "cuMemAllocFromPoolAsync", ctx, al), CUDA_SUCCESS);
    pp = &p2;
    void *al2[] = {&pp, &more, &pool, &st};
    CHECK_EQ_INT(sess_call(&a, "cuMemAllocFromPoolAsync", ctx, al2), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_EQ_INT(mem_alloc(&a, ctx, 48 * MiB, &p3), CUDA_SUCCESS); /* GPU 0 has its own 64 MiB */
    CHECK_EQ_INT(status(&p), 0);
    const char *o = object(js, "id", a.w->session_id), *d = o ? strstr(o, "\"devices\":[") : NULL;
    int g0 = -1, g1 = -1;
    CHECK(d && sscanf(d + 11, "%d,%d", &g0, &g1) == 2);
    CHECK_EQ_INT(device_field(js, g0, "memory_used"), 48 * MiB);
    CHECK_EQ_INT(device_field(js, g1, "memory_used"), 48 * MiB);
    sess_close(&a);
    rgpud_stop(&p.d);
}

RG_TEST(quota_reserves_gpu_memory)
{
    struct pool p;
    struct sess s[9];
    /* 1 GiB per GPU, 400 MiB + 100 MiB headroom per session: two sessions per GPU */
    START(&p, "--memory-quota", "400M", "--memory-headroom", "100M", NULL);
    for (int i = 0; i < 8; i++)
        if (open_n(&p, &s[i], 0)) RG_FAIL("session %d refused", i);
    CHECK_EQ_INT(open_n(&p, &s[8], 0), 1);
    CHECK(strstr(s[8].w->message, "no free GPU") && strstr(s[8].w->message, "memory quotas"));
    for (int i = 0; i < 9; i++)
        sess_close(&s[i]);
    rgpud_stop(&p.d);
}

/* ---- administration -------------------------------------------------------------------- */

RG_TEST(kill_and_drain)
{
    struct pool p;
    struct sess a, b, c;
    char out[4096];
    uint64_t actx;
    START(&p, NULL);
    CHECK_EQ_INT(open_n(&p, &a, 0), 0);
    CHECK_EQ_INT(open_n(&p, &b, 0), 0);
    CHECK_EQ_INT(make_ctx(&a, &actx, 0), CUDA_SUCCESS);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "kill %llu", (unsigned long long)a.w->session_id);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, cmd), 0);
    CHECK(strstr(out, "ended"));
    CHECK_EQ_INT(make_ctx(&a, &actx, 0), -1); /* its connection is gone */
    CHECK_EQ_INT(until_sessions(&p, 1), 0);
    CHECK(session_device(js, b.w->session_id) >= 0);       /* b goes on */
    CHECK_EQ_INT(ctl(&p, out, sizeof out, "kill 999"), 1); /* no such session */
    /* drain every GPU but 2: new sessions land on 2 only, b keeps its own */
    int bdev = session_device(js, b.w->session_id);
    for (int d = 0; d < 4; d++) {
        if (d == 2) continue;
        snprintf(cmd, sizeof cmd, "drain %d", d);
        CHECK_EQ_INT(ctl(&p, out, sizeof out, cmd), 0);
    }
    CHECK_EQ_INT(open_n(&p, &c, 0), 0);
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(session_device(js, c.w->session_id), 2);
    CHECK_EQ_INT(session_device(js, b.w->session_id), bdev);
    CHECK(strstr(js, "\"drained\":true"));
    sess_close(&c);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, "drain 2"), 0);
    CHECK_EQ_INT(open_n(&p, &c, 0), 1); /* everything drained: refused */
    CHECK(strstr(c.w->message, "4 drained"));
    sess_close(&c);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, "undrain 1"), 0);
    CHECK_EQ_INT(open_n(&p, &c, 0), 0);
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(session_device(js, c.w->session_id), 1);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, "drain 9"), 1);
    sess_close(&a);
    sess_close(&b);
    sess_close(&c);
    rgpud_stop(&p.d);
}

/* A client killed with SIGKILL, then a worker killed with SIGKILL: each one's
 * GPU memory is back in the pool (rgpuctl status) while b runs on. */
RG_TEST(killed_client_and_worker_give_back)
{
    struct pool p;
    struct sess b, w;
    uint64_t bctx, wctx;
    CUdeviceptr pb, pw;
    int ready[2];
    START(&p, "--placement", "pack", "--memory-quota", "256M", NULL);
    CHECK_EQ_INT(open_n(&p, &b, 0), 0);
    CHECK_EQ_INT(make_ctx(&b, &bctx, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&b, bctx, 16 * MiB, &pb), CUDA_SUCCESS);
    CHECK(pipe(ready) == 0);
    pid_t kid = fork();
    if (kid == 0) { /* the client: a session holding 128 MiB, then killed */
        struct sess k;
        uint64_t kctx;
        CUdeviceptr pk;
        char ok = open_n(&p, &k, 0) == 0 && make_ctx(&k, &kctx, 0) == CUDA_SUCCESS &&
                  mem_alloc(&k, kctx, 128 * MiB, &pk) == CUDA_SUCCESS;
        if (write(ready[1], &ok, 1) != 1) _exit(1);
        for (;;)
            pause();
    }
    char ok = 0;
    CHECK(read(ready[0], &ok, 1) == 1 && ok);
    CHECK_EQ_INT(until_sessions(&p, 2), 0);
    int dev = session_device(js, b.w->session_id);
    CHECK_EQ_INT(device_field(js, dev, "memory_used"), 144 * MiB);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    CHECK_EQ_INT(until_sessions(&p, 1), 0);
    CHECK_EQ_INT(device_field(js, dev, "memory_used"), 16 * MiB);
    /* a worker that dies (a crash) */
    CHECK_EQ_INT(open_n(&p, &w, 0), 0);
    CHECK_EQ_INT(make_ctx(&w, &wctx, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&w, wctx, 64 * MiB, &pw), CUDA_SUCCESS);
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(device_field(js, dev, "memory_used"), 80 * MiB);
    long long wpid = session_field(js, w.w->session_id, "worker_pid");
    CHECK(wpid > 0 && kill((pid_t)wpid, SIGKILL) == 0);
    CHECK_EQ_INT(until_sessions(&p, 1), 0);
    CHECK_EQ_INT(device_field(js, dev, "memory_used"), 16 * MiB);
    /* b is unaffected: its memory and calls still work */
    size_t fr = 0, tot = 0;
    CHECK_EQ_INT(mem_info(&b, bctx, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(fr, 240 * MiB);
    CHECK_EQ_INT(mem_free(&b, bctx, pb), CUDA_SUCCESS);
    sess_close(&w);
    sess_close(&b);
    rgpud_stop(&p.d);
}

/* A worker that crashes (the debug-only fault hook, RGPUD_DEBUG_CRASH) ends
 * only its session: its memory is back, the other session goes on. */
RG_TEST(worker_crash_ends_only_its_session)
{
    struct pool p;
    struct sess b, w;
    uint64_t bctx, wctx;
    CUdeviceptr pb, pw;
    setenv("RGPUD_DEBUG_CRASH", "cuCtxSynchronize@2", 1); /* w: the second session */
    int started = pool_start(&p, "--placement", "pack", NULL);
    unsetenv("RGPUD_DEBUG_CRASH");
    if (!have_codec()) RG_SKIP("the generic codec is not in this build");
    if (started) RG_FAIL("rgpud did not start");
    CHECK_EQ_INT(open_n(&p, &b, 0), 0);
    CHECK_EQ_INT(open_n(&p, &w, 0), 0);
    CHECK_EQ_U64(w.w->session_id, 2);
    CHECK_EQ_INT(make_ctx(&b, &bctx, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(make_ctx(&w, &wctx, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&b, bctx, 8 * MiB, &pb), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&w, wctx, 64 * MiB, &pw), CUDA_SUCCESS);
    CHECK_EQ_INT(status(&p), 0);
    int dev = session_device(js, b.w->session_id);
    CHECK_EQ_INT(session_device(js, w.w->session_id), dev);
    CHECK_EQ_INT(device_field(js, dev, "memory_used"), 72 * MiB);
    void *none[] = {NULL};
    int r = sess_call(&w, "cuCtxSynchronize", wctx, none);
    if (r == CUDA_SUCCESS) {
        rgpud_stop(&p.d);
        RG_SKIP("rgpud is built without the debug fault hook (NDEBUG)");
    }
    CHECK_EQ_INT(r, -1); /* the session is gone with its worker */
    CHECK_EQ_INT(until_sessions(&p, 1), 0);
    CHECK_EQ_INT(device_field(js, dev, "memory_used"), 8 * MiB);
    CHECK_EQ_INT(sess_call(&b, "cuCtxSynchronize", bctx, none), CUDA_SUCCESS); /* b goes on */
    CHECK_EQ_INT(mem_free(&b, bctx, pb), CUDA_SUCCESS);
    sess_close(&w);
    sess_close(&b);
    rgpud_stop(&p.d);
}

/* Unauthenticated clients are served on loopback only unless the operator
 * says so: rgpud refuses to listen on another address (it never binds it). */
RG_TEST(non_loopback_needs_allow_anonymous)
{
    const char *bin = getenv("RGPUD");
    if (!bin) RG_FAIL("RGPUD is not set");
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(bin, bin, "--listen", "tcp://0.0.0.0:0", "--backend", "simgpu", "--admin", "off",
              (char *)NULL);
        _exit(127);
    }
    CHECK_EQ_INT(exit_status(pid), 1);
}

/* An RGPU_RUN_DIR too long for the default admin socket's path: rgpud says
 * so and serves without the admin plane, instead of binding a cut path. */
RG_TEST(admin_run_dir_too_long)
{
    const char *bin = getenv("RGPUD");
    char dir[700], log[64], pf[64], text[4096] = "";
    if (!bin) RG_FAIL("RGPUD is not set");
    snprintf(log, sizeof log, "/tmp/rgpu-pool-test-%d.log", (int)getpid());
    snprintf(pf, sizeof pf, "/tmp/rgpu-pool-test-%d.port", (int)getpid());
    unlink(pf);
    memset(dir, 'r', sizeof dir - 1);
    memcpy(dir, "/tmp/", 5);
    dir[sizeof dir - 1] = 0;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        setenv("RGPU_RUN_DIR", dir, 1);
        execl(bin, bin, "--listen", "tcp://127.0.0.1:0", "--backend", "simgpu", "--port-file", pf,
              (char *)NULL);
        _exit(127);
    }
    int up = 0;
    for (int i = 0; i < 500 && !up; i++, usleep(10000))
        up = access(pf, R_OK) == 0;
    kill(pid, SIGTERM);
    CHECK_EQ_INT(exit_status(pid), 0);
    FILE *f = fopen(log, "r");
    if (f) text[fread(text, 1, sizeof text - 1, f)] = 0, fclose(f);
    unlink(log);
    unlink(pf);
    CHECK(up); /* it serves */
    CHECK(strstr(text, "RGPU_RUN_DIR is too long") != NULL);
}

/* A loopback port free a moment ago. */
static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) &&
        !getsockname(fd, (struct sockaddr *)&sa, &sl))
        port = ntohs(sa.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* One HTTP GET of /metrics; the response in out. */
static int scrape(int port, char *out, size_t len)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t n = 0;
    const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) ||
        write(fd, req, strlen(req)) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    for (ssize_t k; n + 1 < len && (k = read(fd, out + n, len - 1 - n)) > 0;)
        n += (size_t)k;
    out[n] = 0;
    close(fd);
    return 0;
}

RG_TEST(prometheus_metrics)
{
    struct pool p;
    struct sess a;
    uint64_t ctx;
    CUdeviceptr pa;
    char spec[64], pat[128];
    static char body[1 << 16];
    int port = free_port();
    CHECK(port > 0);
    snprintf(spec, sizeof spec, "127.0.0.1:%d", port);
    START(&p, "--metrics", spec, "--memory-quota", "100M", NULL);
    CHECK_EQ_INT(open_n(&p, &a, 0), 0);
    CHECK_EQ_INT(make_ctx(&a, &ctx, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&a, ctx, 3 * MiB, &pa), CUDA_SUCCESS);
    CHECK_EQ_INT(status(&p), 0);
    int dev = session_device(js, a.w->session_id);
    CHECK_EQ_INT(scrape(port, body, sizeof body), 0);
    CHECK(!strncmp(body, "HTTP/1.0 200 OK", 15));
    CHECK(strstr(body, "# TYPE rgpu_device_sessions gauge"));
    snprintf(pat, sizeof pat, "rgpu_device_sessions{device=\"%d\",", dev);
    CHECK(strstr(body, pat) && strstr(strstr(body, pat), "} 1\n"));
    snprintf(pat, sizeof pat, "rgpu_device_memory_used_bytes{device=\"%d\",", dev);
    CHECK(strstr(body, pat) && strstr(strstr(body, pat), "} 3145728\n"));
    CHECK(strstr(body, "\nrgpu_sessions 1\n"));
    snprintf(pat, sizeof pat,
             "rgpu_session_memory_used_bytes{session=\"%llu\",tenant=\"anonymous\"} 3145728",
             (unsigned long long)a.w->session_id);
    CHECK(strstr(body, pat));
    sess_close(&a);
    rgpud_stop(&p.d);
}

/* ---- tenants ------------------------------------------------------------------------------ */

RG_TEST(tenants_tokens_and_limits)
{
    struct pool p;
    struct sess a[3], b, x;
    char va[256], vb[256], path[96];
    if (verifier("alice-secret-1", va, sizeof va) || verifier("bob-secret-22", vb, sizeof vb))
        RG_FAIL("rgpuctl hash-secret failed");
    snprintf(path, sizeof path, "/tmp/rgpu-pool-test-%d.tenants", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "# test tenants\nalice %s max-sessions=2 max-gpus=2 memory-quota=128M\nbob %s\n", va,
            vb);
    fclose(f);
    START(&p, "--tenants", path, NULL);
    token = NULL; /* none */
    CHECK_EQ_INT(open_n(&p, &x, 0), 1);
    CHECK(strstr(x.w->message, "needs a token") && strstr(x.w->message, "RGPU_TOKEN"));
    sess_close(&x);
    token = "alice:not-her-secret"; /* wrong */
    CHECK_EQ_INT(open_n(&p, &x, 0), 1);
    CHECK(strstr(x.w->message, "authentication failed"));
    sess_close(&x);
    token = "mallory:alice-secret-1"; /* no such tenant: the same answer */
    CHECK_EQ_INT(open_n(&p, &x, 0), 1);
    CHECK(strstr(x.w->message, "authentication failed"));
    sess_close(&x);
    int sig_ok; /* the right secret in the clear: refused, the secret is not even looked at */
    CHECK_EQ_INT(open_as(&p, &x, 0, NULL, NULL, "alice:alice-secret-1", &sig_ok), 1);
    CHECK(strstr(x.w->message, "SCRAM-SHA-256") && strstr(x.w->message, "clear"));
    sess_close(&x);
    token = "alice:alice-secret-1"; /* right */
    CHECK_EQ_INT(open_n(&p, &a[0], 0), 0);
    CHECK_EQ_U64(a[0].w->devices[0]->total_mem, 128 * MiB); /* alice's own quota */
    CHECK_EQ_INT(open_n(&p, &x, 3), 1);                     /* more GPUs than alice may have */
    CHECK(strstr(x.w->message, "tenant alice may use 2 GPU(s)"));
    sess_close(&x);
    CHECK_EQ_INT(open_n(&p, &a[1], 2), 0);
    CHECK_EQ_INT(open_n(&p, &a[2], 0), 1); /* a third: over her session limit */
    CHECK(strstr(a[2].w->message, "tenant alice already has 2 session(s), its limit"));
    token = "bob:bob-secret-22";
    CHECK_EQ_INT(open_n(&p, &b, 0), 0); /* others are not held back */
    CHECK(b.w->devices[0]->total_mem > 128 * MiB);
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(count(js, "\"tenant\":\"alice\""), 2);
    CHECK_EQ_INT(count(js, "\"tenant\":\"bob\""), 1);
    CHECK(!strstr(js, "secret"));
    token = NULL;
    for (int i = 0; i < 3; i++)
        sess_close(&a[i]);
    sess_close(&b);
    /* SIGHUP reloads the file: a new tenant is served from then on */
    f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "bob %s\ncarol %s\n", vb, va);
    fclose(f);
    CHECK(kill(p.d.pid, SIGHUP) == 0);
    token = "carol:alice-secret-1";
    int carol = 1;
    for (int i = 0; i < 500 && carol == 1; i++) { /* until the reload is done */
        carol = open_n(&p, &x, 0);
        sess_close(&x);
        if (carol == 1) usleep(20000);
    }
    CHECK_EQ_INT(carol, 0);
    token = "alice:alice-secret-1"; /* gone from the file */
    CHECK_EQ_INT(open_n(&p, &x, 0), 1);
    sess_close(&x);
    token = NULL;
    rgpud_stop(&p.d);
    /* a tenants file that does not parse stops rgpud at start */
    f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "alice plain-text-secret\n");
    fclose(f);
    CHECK(pool_start(&p, "--tenants", path, NULL) != 0);
    unlink(path);
}

/* A session asking for ndev GPUs (0: the default, -1: all), with the
 * SCRAM-SHA-256 exchange as a client does it when user is set, or a plain
 * token in the HELLO (what clients before SCRAM sent). 0 accepted, 1 refused
 * (s->w holds the refusal), -1 broken. *sig_ok: the server's signature matched. */
static int open_as(struct pool *p, struct sess *s, int ndev, const char *user, const char *secret,
                   const char *plain, int *sig_ok)
{
    rpc_error e = {0};
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    uint8_t cnonce[24], proof[32], want_sig[32];
    Rgpu__Welcome *w = NULL;
    memset(s, 0, sizeof *s);
    s->thread = 1;
    *sig_ok = 0;
    for (size_t i = 0; i < sizeof cnonce; i++)
        cnonce[i] = (uint8_t)random();
    if (!(s->c = sess_dial(&p->d))) return -1;
    Rgpu__Hello m = RGPU__HELLO__INIT;
    Rgpu__AddressWindow win = RGPU__ADDRESS_WINDOW__INIT;
    Rgpu__Credentials cred = RGPU__CREDENTIALS__INIT;
    win.start = 0x600000000000ull;
    win.size = 16ull << 30;
    m.protocol_version = RPC_PROTO_VERSION;
    m.client_version = "test";
    m.window = &win;
    m.devices_wanted = ndev > 0 ? (uint32_t)ndev : 0;
    m.all_devices = ndev < 0;
    if (user) {
        m.auth_user = (char *)user;
        m.auth_nonce = (ProtobufCBinaryData){sizeof cnonce, cnonce};
    }
    if (plain) {
        cred.token = (char *)plain;
        m.credentials = &cred;
    }
    if (rpc_send_msg(s->c, RPC_FROM_CLIENT, &h, &m.base, 5000, &e) != RPC_OK ||
        rpc_recv_msg(s->c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0, 30000, &h,
                     (ProtobufCMessage **)&w, &e) != RPC_OK)
        return -1;
    if (!user || !w->auth_nonce.len) { /* no exchange, or no challenge: refused */
        s->w = w;
        return w->accepted ? 0 : 1;
    }
    if (w->auth_nonce.len <= sizeof cnonce || memcmp(w->auth_nonce.data, cnonce, sizeof cnonce) ||
        scram_client_final(user, secret, cnonce, sizeof cnonce, w->auth_nonce.data,
                           w->auth_nonce.len, w->auth_salt.data, w->auth_salt.len,
                           w->auth_iterations, proof, want_sig))
        return -1;
    Rgpu__Hello f = RGPU__HELLO__INIT;
    f.protocol_version = RPC_PROTO_VERSION;
    f.auth_nonce = w->auth_nonce;
    f.auth_proof = (ProtobufCBinaryData){sizeof proof, proof};
    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    int st = rpc_send_msg(s->c, RPC_FROM_CLIENT, &h, &f.base, 5000, &e);
    rgpu__welcome__free_unpacked(w, NULL);
    w = NULL;
    if (st != RPC_OK ||
        rpc_recv_msg(s->c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0, 30000, &h,
                     (ProtobufCMessage **)&w, &e) != RPC_OK)
        return -1;
    if (!w->auth_signature.len) { /* the proof was refused */
        s->w = w;
        return 1;
    }
    *sig_ok = w->auth_signature.len == 32 && !memcmp(w->auth_signature.data, want_sig, 32);
    rgpu__welcome__free_unpacked(w, NULL);
    if (rpc_recv_msg(s->c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0, 30000, &h,
                     (ProtobufCMessage **)&s->w, &e) != RPC_OK)
        return -1;
    return s->w->accepted ? 0 : 1;
}

static int scram_open(struct pool *p, struct sess *s, const char *user, const char *secret,
                      int *sig_ok)
{
    return open_as(p, s, 0, user, secret, NULL, sig_ok);
}

/* SCRAM-SHA-256: the right secret is accepted (and the server proves it knows
 * the verifier), a wrong one and an unknown name are refused the same way. */
RG_TEST(scram_exchange)
{
    struct pool p;
    struct sess a, x;
    char va[256], path[96];
    int sig_ok = 0;
    if (verifier("alice-secret-1", va, sizeof va)) RG_FAIL("rgpuctl hash-secret failed");
    snprintf(path, sizeof path, "/tmp/rgpu-pool-test-%d.tenants", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "alice %s max-sessions=1\n", va);
    fclose(f);
    START(&p, "--tenants", path, NULL);
    CHECK_EQ_INT(scram_open(&p, &x, "alice", "wrong-secret", &sig_ok), 1);
    CHECK(strstr(x.w->message, "authentication failed"));
    sess_close(&x);
    CHECK_EQ_INT(scram_open(&p, &x, "mallory", "alice-secret-1", &sig_ok), 1);
    CHECK(strstr(x.w->message, "authentication failed"));
    sess_close(&x);
    CHECK_EQ_INT(scram_open(&p, &x, "bad,name", "alice-secret-1", &sig_ok), 1);
    sess_close(&x);
    CHECK_EQ_INT(scram_open(&p, &a, "alice", "alice-secret-1", &sig_ok), 0);
    CHECK(sig_ok); /* the server knew alice's verifier */
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(count(js, "\"tenant\":\"alice\""), 1);
    CHECK_EQ_INT(scram_open(&p, &x, "alice", "alice-secret-1", &sig_ok), 1); /* her limit is 1 */
    CHECK(strstr(x.w->message, "already has 1 session(s)"));
    sess_close(&x);
    sess_close(&a);
    rgpud_stop(&p.d);
    unlink(path);
}

/* ---- the real shim's SCRAM (client-shim/cuda/auth.c) -------------------------------------- */

/* tiny under rgpu-run against url with the settings in env ("NAME=VALUE", NULL
 * ended; RGPU_TOKEN* unset otherwise). Its stdin (close to let it end) and
 * stderr come back; its pid. */
static pid_t tiny_start(const char *url, const char *const *env, int *in, int *out, int *err)
{
    const char *run = getenv("RGPU_RUN"), *tiny = getenv("POOL_TINY");
    int a[2], b[2], c[2];
    if (!run || !tiny || pipe(a) || pipe(b) || pipe(c)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(a[0], 0);
        dup2(b[1], 1);
        dup2(c[1], 2);
        close(a[1]);
        close(b[0]);
        close(c[0]);
        unsetenv("RGPU_TOKEN");
        unsetenv("RGPU_TOKEN_FILE");
        unsetenv("RGPU_LOG");
        setenv("RGPU_SERVER", url, 1);
        for (; env && *env; env++)
            putenv((char *)*env);
        execl(run, run, tiny, (char *)NULL);
        _exit(127);
    }
    close(a[0]);
    close(b[1]);
    close(c[1]);
    *in = a[1];
    *out = b[0];
    *err = c[0];
    return pid;
}

/* Runs tiny to its end; its exit status (-1: did not run) and stderr in text. */
static int tiny_run(const char *url, const char *const *env, char *text, size_t len)
{
    int in, out, err, st;
    size_t n = 0;
    ssize_t k;
    pid_t pid = tiny_start(url, env, &in, &out, &err);
    if (pid < 0) return -1;
    close(in);
    while (n + 1 < len && (k = read(err, text + n, len - 1 - n)) > 0)
        n += (size_t)k;
    text[n] = 0;
    close(out);
    close(err);
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Refused at cuInit with CUDA_ERROR_NO_DEVICE (100) and one log line saying why. */
static int refused_saying(const char *text, const char *why)
{
    return strstr(text, "cuInit failed: 100") && strstr(text, why) &&
           count(text, "rgpu") >= 1 && count(text, "\n") == 2;
}

/* A tenants file with alice (one session at most) and bob; its path in path. */
static int two_tenants(char *path, size_t len, const char *alice_limits)
{
    char va[256], vb[256];
    if (verifier("alice-secret-1", va, sizeof va) || verifier("bob-secret-22", vb, sizeof vb))
        return -1;
    snprintf(path, len, "/tmp/rgpu-pool-test-%d.tenants", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "alice %s %s\nbob %s\n", va, alice_limits, vb);
    return fclose(f);
}

/* Through the real shim: the right token works (RGPU_TOKEN and
 * RGPU_TOKEN_FILE), none, a wrong secret, an unknown tenant and a malformed
 * token are refused at cuInit saying why, a tenant over its session limit too. */
RG_TEST(shim_tokens)
{
    struct pool p;
    char path[96], url[64], tf[96], text[4096];
    if (!getenv("RGPU_RUN") || access(getenv("RGPU_RUN"), X_OK)) RG_SKIP("rgpu-run is not built");
    if (two_tenants(path, sizeof path, "max-sessions=1")) RG_FAIL("no tenants file");
    START(&p, "--tenants", path, NULL);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", p.d.port);
    CHECK_EQ_INT(tiny_run(url, NULL, text, sizeof text), 1);
    CHECK(refused_saying(text, "needs a token: set RGPU_TOKEN=NAME:SECRET"));
    const char *wrong[] = {"RGPU_TOKEN=alice:bob-secret-22", NULL};
    CHECK_EQ_INT(tiny_run(url, wrong, text, sizeof text), 1);
    CHECK(refused_saying(text, "authentication failed"));
    const char *unknown[] = {"RGPU_TOKEN=mallory:alice-secret-1", NULL};
    CHECK_EQ_INT(tiny_run(url, unknown, text, sizeof text), 1);
    CHECK(refused_saying(text, "authentication failed"));
    const char *malformed[] = {"RGPU_TOKEN=alice-secret-1", NULL};
    CHECK_EQ_INT(tiny_run(url, malformed, text, sizeof text), 1);
    CHECK(refused_saying(text, "not NAME:SECRET"));
    /* the right one from a file: alice's one session runs... */
    snprintf(tf, sizeof tf, "/tmp/rgpu-pool-test-%d.token", (int)getpid());
    FILE *f = fopen(tf, "w");
    CHECK(f != NULL);
    fprintf(f, "alice:alice-secret-1\n");
    fclose(f);
    char tfenv[128];
    snprintf(tfenv, sizeof tfenv, "RGPU_TOKEN_FILE=%s", tf);
    const char *fromfile[] = {tfenv, NULL};
    int in, out, err, st;
    pid_t pid = tiny_start(url, fromfile, &in, &out, &err);
    CHECK(pid > 0);
    char line[16] = {0};
    CHECK(read(out, line, sizeof line - 1) > 0 && !strncmp(line, "ready", 5));
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(count(js, "\"tenant\":\"alice\""), 1);
    /* ...and a second one is over her limit, while bob is served */
    const char *right[] = {"RGPU_TOKEN=alice:alice-secret-1", NULL};
    CHECK_EQ_INT(tiny_run(url, right, text, sizeof text), 1);
    CHECK(refused_saying(text, "tenant alice already has 1 session(s), its limit"));
    const char *bob[] = {"RGPU_TOKEN=bob:bob-secret-22", NULL};
    CHECK_EQ_INT(tiny_run(url, bob, text, sizeof text), 0);
    close(in);
    waitpid(pid, &st, 0);
    close(out);
    close(err);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(until_sessions(&p, 0), 0);
    CHECK_EQ_INT(tiny_run(url, right, text, sizeof text), 0); /* her session ended: again */
    rgpud_stop(&p.d);
    unlink(path);
    unlink(tf);
    /* a server that does not authenticate is not trusted with a token */
    START(&p, NULL);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", p.d.port);
    CHECK_EQ_INT(tiny_run(url, right, text, sizeof text), 1);
    CHECK(refused_saying(text, "did not authenticate"));
    CHECK_EQ_INT(tiny_run(url, NULL, text, sizeof text), 0); /* without a token it serves */
    CHECK_EQ_INT(until_sessions(&p, 0), 0); /* those sessions' workers have ended */
    /* RGPU_DEVICES=all: every GPU of the pool; the login name reaches the server */
    const char *all[] = {"RGPU_DEVICES=all", "USER=", "LOGNAME=tiny-tester", NULL};
    pid = tiny_start(url, all, &in, &out, &err);
    CHECK(pid > 0);
    memset(line, 0, sizeof line);
    CHECK(read(out, line, sizeof line - 1) > 0 && !strncmp(line, "ready", 5));
    CHECK_EQ_INT(status(&p), 0);
    for (int d = 0; d < 4; d++)
        CHECK_EQ_INT(device_field(js, d, "sessions"), 1);
    CHECK(strstr(js, "\"user\":\"tiny-tester\""));
    close(in);
    waitpid(pid, &st, 0);
    close(out);
    close(err);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    rgpud_stop(&p.d);
}

/* A server pretending to know alice: its challenge is well formed, but its
 * signature cannot be right. It serves one connection and says whether the
 * client sent a proof. */
struct impostor {
    tp_listener *l;
    int got_proof;
};

static void *impostor_main(void *arg)
{
    struct impostor *im = arg;
    tp_conn *c = NULL;
    rpc_hdr h;
    rpc_error e = {0};
    Rgpu__Hello *m = NULL, *f = NULL;
    uint8_t nonce[64], salt[16], sig[32];
    if (tp_accept(im->l, 30000, &c, NULL) != TP_OK) return NULL;
    if (rpc_recv_msg(c, RPC_FROM_CLIENT, RPC_T_HELLO, &rgpu__hello__descriptor, 0, 30000, &h,
                     (ProtobufCMessage **)&m, &e) != RPC_OK ||
        m->auth_nonce.len > 40)
        goto out;
    memcpy(nonce, m->auth_nonce.data, m->auth_nonce.len);
    for (size_t i = 0; i < 24; i++)
        nonce[m->auth_nonce.len + i] = (uint8_t)random();
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)random();
    for (size_t i = 0; i < sizeof sig; i++)
        sig[i] = (uint8_t)random();
    Rgpu__Welcome w = RGPU__WELCOME__INIT;
    w.protocol_version = RPC_PROTO_VERSION;
    w.auth_nonce = (ProtobufCBinaryData){m->auth_nonce.len + 24, nonce};
    w.auth_salt = (ProtobufCBinaryData){sizeof salt, salt};
    w.auth_iterations = 4096;
    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_WELCOME};
    if (rpc_send_msg(c, RPC_FROM_SERVER, &h, &w.base, 5000, &e) != RPC_OK ||
        rpc_recv_msg(c, RPC_FROM_CLIENT, RPC_T_HELLO, &rgpu__hello__descriptor, 0, 30000, &h,
                     (ProtobufCMessage **)&f, &e) != RPC_OK)
        goto out;
    im->got_proof = f->auth_proof.len == 32;
    Rgpu__Welcome fin = RGPU__WELCOME__INIT;
    fin.protocol_version = RPC_PROTO_VERSION;
    fin.auth_signature = (ProtobufCBinaryData){sizeof sig, sig};
    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_WELCOME};
    rpc_send_msg(c, RPC_FROM_SERVER, &h, &fin.base, 5000, &e);
    char b;
    tp_recv(c, &b, 1, 30000, NULL); /* until the client hangs up */
out:
    if (m) rgpu__hello__free_unpacked(m, NULL);
    if (f) rgpu__hello__free_unpacked(f, NULL);
    tp_close(c);
    return NULL;
}

RG_TEST(shim_refuses_a_server_without_the_verifier)
{
    struct impostor im = {0};
    pthread_t t;
    char url[128], text[4096];
    if (!getenv("RGPU_RUN") || access(getenv("RGPU_RUN"), X_OK)) RG_SKIP("rgpu-run is not built");
    CHECK(tp_listen("tcp://127.0.0.1:0", &im.l, NULL) == TP_OK);
    CHECK(tp_listener_url(im.l, url, sizeof url, NULL) == TP_OK);
    CHECK(pthread_create(&t, NULL, impostor_main, &im) == 0);
    const char *right[] = {"RGPU_TOKEN=alice:alice-secret-1", NULL};
    CHECK_EQ_INT(tiny_run(url, right, text, sizeof text), 1);
    pthread_join(t, NULL);
    tp_listener_close(im.l);
    CHECK(im.got_proof);
    CHECK(refused_saying(text, "signature is wrong"));
}

/* ---- tls:// (transport/tls, the relay in server/supervisor.c) ------------------------------ */

/* A CA and a server certificate it signed for DNS:localhost only, plus a CA
 * that signed nothing, in dir (openssl's command line). 0, or -1. */
static int make_certs(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
             "openssl req -x509 $K -keyout ca.key -out ca.pem -days 2 -subj '/CN=rgpu test CA' && "
             "openssl req -x509 $K -keyout other.key -out other.pem -days 2 -subj '/CN=other CA' && "
             "openssl req $K -keyout srv.key -out srv.csr -subj '/CN=rgpud test' && "
             "echo subjectAltName=DNS:localhost > ext && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile ext -out srv.pem",
             dir);
    char quiet[2100];
    snprintf(quiet, sizeof quiet, "(%s) >/dev/null 2>&1", cmd);
    return system(quiet) == 0 ? 0 : -1;
}

/* The id of the first session of tenant in rgpuctl's JSON, 0 if none. */
static unsigned long long session_of_tenant(const char *json, const char *tenant)
{
    char pat[64];
    const char *best = NULL;
    snprintf(pat, sizeof pat, "\"tenant\":\"%s\"", tenant);
    const char *t = strstr(json, pat);
    for (const char *o = json; t && (o = strstr(o, "{\"id\":")) && o < t; o++)
        best = o;
    return best ? strtoull(best + 6, NULL, 10) : 0;
}

/* Sessions over tls:// through the real shim: the server's certificate is
 * checked (CA and name), SCRAM runs inside TLS, a plain tcp:// client gets
 * nowhere, the admin can end a tls session, and rgpud refuses to start
 * without its certificate or with one and no tls:// address. */
RG_TEST(tls_sessions)
{
    struct pool p;
    char dir[] = "/tmp/rgpu-tls-test-XXXXXX", path[96], url[128], text[4096], ca[128], other[128];
    char cert[128], key[128], caenv[160], otherenv[160];
    if (!getenv("RGPU_RUN") || access(getenv("RGPU_RUN"), X_OK)) RG_SKIP("rgpu-run is not built");
    if (system("openssl version >/dev/null 2>&1")) RG_SKIP("no openssl command to make certificates");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(make_certs(dir), 0);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(other, sizeof other, "%s/other.pem", dir);
    snprintf(cert, sizeof cert, "%s/srv.pem", dir);
    snprintf(key, sizeof key, "%s/srv.key", dir);
    snprintf(caenv, sizeof caenv, "RGPU_TLS_CA=%s", ca);
    snprintf(otherenv, sizeof otherenv, "RGPU_TLS_CA=%s", other);
    if (two_tenants(path, sizeof path, "max-sessions=1")) RG_FAIL("no tenants file");
    START(&p, "--listen", "tls://127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, "--tenants",
          path, NULL);
    snprintf(url, sizeof url, "tls://localhost:%d", p.d.port);
    const char *right[] = {caenv, "RGPU_TOKEN=alice:alice-secret-1", NULL};
    CHECK_EQ_INT(tiny_run(url, right, text, sizeof text), 0);
    const char *wrong_secret[] = {caenv, "RGPU_TOKEN=alice:bob-secret-22", NULL};
    CHECK_EQ_INT(tiny_run(url, wrong_secret, text, sizeof text), 1);
    CHECK(refused_saying(text, "authentication failed"));
    const char *wrong_ca[] = {otherenv, "RGPU_TOKEN=alice:alice-secret-1", NULL};
    CHECK_EQ_INT(tiny_run(url, wrong_ca, text, sizeof text), 1);
    CHECK(refused_saying(text, "certificate of localhost (") && strstr(text, "not accepted"));
    const char *system_cas[] = {"RGPU_TOKEN=alice:alice-secret-1", NULL}; /* not one of them */
    CHECK_EQ_INT(tiny_run(url, system_cas, text, sizeof text), 1);
    CHECK(refused_saying(text, "not accepted"));
    char byaddr[128]; /* the certificate names localhost, not 127.0.0.1 */
    snprintf(byaddr, sizeof byaddr, "tls://127.0.0.1:%d", p.d.port);
    CHECK_EQ_INT(tiny_run(byaddr, right, text, sizeof text), 1);
    CHECK(refused_saying(text, "not accepted") && strstr(text, "mismatch"));
    char plain[128];
    snprintf(plain, sizeof plain, "tcp://127.0.0.1:%d", p.d.port);
    CHECK_EQ_INT(tiny_run(plain, right, text, sizeof text), 1);
    CHECK(strstr(text, "cuInit failed: 100"));
    /* a running tls session: in status, one session for alice, ended by the admin */
    int in, out, err, st;
    pid_t pid = tiny_start(url, right, &in, &out, &err);
    CHECK(pid > 0);
    char line[16] = {0};
    CHECK(read(out, line, sizeof line - 1) > 0 && !strncmp(line, "ready", 5));
    CHECK_EQ_INT(status(&p), 0);
    CHECK_EQ_INT(count(js, "\"tenant\":\"alice\""), 1);
    unsigned long long id = session_of_tenant(js, "alice");
    CHECK(session_field(js, id, "calls") > 0); /* the worker found its slot behind the relay */
    CHECK_EQ_INT(tiny_run(url, right, text, sizeof text), 1); /* her limit holds over tls too */
    CHECK(refused_saying(text, "already has 1 session(s)"));
    char args[64];
    snprintf(args, sizeof args, "kill %llu", id);
    CHECK_EQ_INT(ctl(&p, text, sizeof text, args), 0);
    close(in); /* tiny's next call finds the session gone */
    waitpid(pid, &st, 0);
    close(out);
    close(err);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    CHECK_EQ_INT(until_sessions(&p, 0), 0);
    rgpud_stop(&p.d);
    /* no certificate, or a certificate and no tls:// address: rgpud does not start */
    CHECK(pool_start(&p, "--listen", "tls://127.0.0.1:0", NULL) != 0);
    CHECK(pool_start(&p, "--tls-cert", cert, "--tls-key", key, NULL) != 0);
    CHECK(pool_start(&p, "--listen", "tls://127.0.0.1:0", "--tls-cert", cert, "--tls-key", ca,
                     NULL) != 0); /* a key that is not the certificate's */
    unlink(path);
    snprintf(text, sizeof text, "rm -rf %s", dir);
    CHECK(system(text) == 0);
}

/* A tls session's worker that crashes ends only its session: the relay
 * reports the crash as its own, the slot is freed, the next session runs. */
RG_TEST(tls_worker_crash)
{
    struct pool p;
    char dir[] = "/tmp/rgpu-tls-test-XXXXXX", url[128], text[4096], cert[128], key[128];
    char caenv[160];
    if (!getenv("RGPU_RUN") || access(getenv("RGPU_RUN"), X_OK)) RG_SKIP("rgpu-run is not built");
    if (system("openssl version >/dev/null 2>&1")) RG_SKIP("no openssl command to make certificates");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(make_certs(dir), 0);
    snprintf(cert, sizeof cert, "%s/srv.pem", dir);
    snprintf(key, sizeof key, "%s/srv.key", dir);
    snprintf(caenv, sizeof caenv, "RGPU_TLS_CA=%s/ca.pem", dir);
    setenv("RGPUD_DEBUG_CRASH", "cuMemAlloc_v2@1", 1); /* the first session's worker */
    int started = pool_start(&p, "--listen", "tls://127.0.0.1:0", "--tls-cert", cert,
                             "--tls-key", key, NULL);
    unsetenv("RGPUD_DEBUG_CRASH");
    if (started) RG_FAIL("rgpud did not start");
    snprintf(url, sizeof url, "tls://localhost:%d", p.d.port);
    const char *env[] = {caenv, NULL};
    int rc = tiny_run(url, env, text, sizeof text);
    if (rc == 0) {
        rgpud_stop(&p.d);
        RG_SKIP("rgpud is built without the debug fault hook (NDEBUG)");
    }
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(text, "tiny: cuMemAlloc failed: 46")); /* DEVICE_UNAVAILABLE: the server is gone */
    CHECK_EQ_INT(until_sessions(&p, 0), 0);
    for (int d = 0; d < 4; d++)
        CHECK_EQ_INT(device_field(js, d, "memory_used"), 0);
    CHECK_EQ_INT(tiny_run(url, env, text, sizeof text), 0); /* session 2 runs */
    rgpud_stop(&p.d);
    snprintf(text, sizeof text, "rm -rf %s", dir);
    CHECK(system(text) == 0);
}

/* Without quotas, a session's cuMemGetInfo shows its own tenant's use of the
 * GPU (as processes on one GPU see each other) but never another tenant's. */
RG_TEST(other_tenants_usage_invisible)
{
    struct pool p;
    struct sess a1, a2, b;
    uint64_t c1, c2, cb;
    CUdeviceptr pa, pb;
    size_t free0 = 0, fr = 0, tot = 0;
    char va[256], vb[256], path[96];
    if (verifier("alice-secret-1", va, sizeof va) || verifier("bob-secret-22", vb, sizeof vb))
        RG_FAIL("rgpuctl hash-secret failed");
    snprintf(path, sizeof path, "/tmp/rgpu-pool-test-%d.tenants", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "alice %s\nbob %s\n", va, vb);
    fclose(f);
    START(&p, "--tenants", path, "--placement", "pack", NULL); /* all on one GPU */
    token = "alice:alice-secret-1";
    CHECK_EQ_INT(open_n(&p, &a1, 0), 0);
    CHECK_EQ_INT(open_n(&p, &a2, 0), 0);
    token = "bob:bob-secret-22";
    CHECK_EQ_INT(open_n(&p, &b, 0), 0);
    token = NULL;
    CHECK_EQ_INT(make_ctx(&a1, &c1, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(make_ctx(&a2, &c2, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(make_ctx(&b, &cb, 0), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_info(&a1, c1, &free0, &tot), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_alloc(&b, cb, 256 * MiB, &pb), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_info(&a1, c1, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(fr, free0); /* bob's 256 MiB do not show */
    CHECK_EQ_INT(mem_alloc(&a2, c2, 128 * MiB, &pa), CUDA_SUCCESS);
    CHECK_EQ_INT(mem_info(&a1, c1, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(fr, free0 - 128 * MiB); /* alice's own other session does */
    CHECK_EQ_INT(mem_info(&b, cb, &fr, &tot), CUDA_SUCCESS);
    CHECK_EQ_U64(fr, free0 - 256 * MiB); /* and bob sees his own, not alice's */
    sess_close(&a1);
    sess_close(&a2);
    sess_close(&b);
    rgpud_stop(&p.d);
    unlink(path);
}

/* A tcp:// admin socket needs a credential; every request must carry it. */
RG_TEST(admin_credential)
{
    struct pool p;
    char v[256], url[64], cmd[512], out[4096], path[96];
    int port = free_port();
    if (verifier("admin-secret-9", v, sizeof v)) RG_FAIL("rgpuctl hash-secret failed");
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    /* tcp:// without a credential: rgpud refuses to start */
    char *argv0[] = {getenv("RGPUD"),
                     "--listen",
                     "tcp://127.0.0.1:0",
                     "--backend",
                     "simgpu",
                     "--admin",
                     url,
                     NULL};
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execv(argv0[0], argv0);
        _exit(127);
    }
    CHECK_EQ_INT(exit_status(pid), 1);
    START(&p, "--admin-credential", v, NULL);
    snprintf(path, sizeof path, "/tmp/rgpu-pool-test-%d.secret", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "admin-secret-9\n");
    fclose(f);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, "status"), 1); /* none */
    snprintf(cmd, sizeof cmd, "--secret-file %s status --json", path);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, cmd), 0);
    CHECK(strstr(out, "\"ok\":true"));
    setenv("RGPU_ADMIN_SECRET", "not-it", 1);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, "drain 0"), 1); /* wrong */
    setenv("RGPU_ADMIN_SECRET", "admin-secret-9", 1);
    CHECK_EQ_INT(ctl(&p, out, sizeof out, "drain 0"), 0);
    unsetenv("RGPU_ADMIN_SECRET");
    unlink(path);
    rgpud_stop(&p.d);
}

/* rgpuctl says what went wrong, with distinct exit statuses. */
RG_TEST(rgpuctl_errors)
{
    char cmd[512];
    const char *ctl_bin = getenv("RGPUCTL");
    if (!ctl_bin) RG_SKIP("RGPUCTL not set");
    snprintf(cmd, sizeof cmd,
             "%s --admin ipc:///tmp/rgpu-pool-test-none-%d.sock --timeout 300 status 2>/dev/null",
             ctl_bin, (int)getpid());
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3); /* nobody answers */
    snprintf(cmd, sizeof cmd, "%s frobnicate 2>/dev/null", ctl_bin);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof cmd, "%s kill 2>/dev/null", ctl_bin); /* no SESSION */
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof cmd, "%s --help | grep -q 'drain DEVICE'", ctl_bin);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Every setting rgpud --help lists is a line of docs/rgpud.conf.example,
 * and the example as a whole is a config file rgpud accepts. */
RG_TEST(every_setting_in_the_example_config)
{
    const char *ex = getenv("RGPUD_CONF_EXAMPLE"), *bin = getenv("RGPUD");
    static char text[1 << 16], help[1 << 16];
    char cmd[1024], name[64];
    if (!ex || !bin) RG_SKIP("RGPUD_CONF_EXAMPLE or RGPUD not set");
    FILE *f = fopen(ex, "r");
    CHECK(f != NULL);
    size_t n = fread(text + 1, 1, sizeof text - 2, f);
    fclose(f);
    text[0] = '\n';
    text[n + 1] = 0;
    snprintf(cmd, sizeof cmd, "%s --config %s --help", bin, ex);
    f = popen(cmd, "r");
    CHECK(f != NULL);
    n = fread(help, 1, sizeof help - 1, f);
    help[n] = 0;
    CHECK_EQ_INT(pclose(f), 0); /* the example parses */
    int settings = 0;
    for (const char *l = help; (l = strstr(l, "\n  --")); l++) {
        if (sscanf(l + 5, "%63[a-z-]", name) != 1) continue;
        char pat[80];
        snprintf(pat, sizeof pat, "\n%s ", name);
        if (!strstr(text, pat)) RG_FAIL("setting %s is not in %s", name, ex);
        settings++;
    }
    CHECK(settings >= 20);
}

/* ---- real programs ----------------------------------------------------------------------- */

/* 16 tiny programs under rgpu-run at once on 4 GPUs, placed as `placement`
 * says: all correct, all seen running in rgpuctl status --json. */
static void sixteen(const char *placement)
{
    struct pool p;
    enum { N = 16 };
    pid_t pid[N];
    int in[N], out[N];
    const char *run = getenv("RGPU_RUN"), *tiny = getenv("POOL_TINY");
    if (!run || !tiny || access(run, X_OK) || access(tiny, X_OK))
        RG_SKIP("rgpu-run or the tiny program is not built");
    START(&p, "--placement", placement, NULL);
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", p.d.port);
    for (int i = 0; i < N; i++) {
        int a[2], b[2];
        if (pipe(a) || pipe(b)) RG_FAIL("pipe: %s", strerror(errno));
        pid[i] = fork();
        if (pid[i] == 0) {
            dup2(a[0], 0);
            dup2(b[1], 1);
            close(a[1]);
            close(b[0]);
            setenv("RGPU_SERVER", url, 1);
            execl(run, run, tiny, (char *)NULL);
            _exit(127);
        }
        close(a[0]);
        close(b[1]);
        in[i] = a[1];
        out[i] = b[0];
    }
    for (int i = 0; i < N; i++) { /* every program has done its work and waits */
        char line[16] = {0};
        CHECK(read(out[i], line, sizeof line - 1) > 0 && !strncmp(line, "ready", 5));
    }
    CHECK_EQ_INT(until_sessions(&p, N), 0);
    CHECK_EQ_INT(count(js, "\"state\":\"running\""), N);
    int pack = !strcmp(placement, "pack");
    for (int d = 0; d < 4; d++) /* spread evenly, or all on the first GPU */
        CHECK_EQ_INT(device_field(js, d, "sessions"), pack ? (d == 0 ? N : 0) : N / 4);
    CHECK(strstr(js, "\"program\":\"tiny\""));
    int big = 0; /* each read back its 1 MiB: bytes out counted */
    for (const char *o = js; (o = strstr(o, "\"bytes_out\":")); o++)
        big += strtoll(o + 12, NULL, 10) >= 1048576;
    CHECK_EQ_INT(big, N);
    static char text[1 << 16];
    CHECK_EQ_INT(ctl(&p, text, sizeof text, "status"), 0); /* for a person */
    CHECK(strstr(text, "SESSION") && strstr(text, "(tiny)") && strstr(text, "in pool"));
    for (int i = 0; i < N; i++)
        close(in[i]);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int st;
        waitpid(pid[i], &st, 0);
        bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        close(out[i]);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(until_sessions(&p, 0), 0);
    rgpud_stop(&p.d);
}

RG_TEST(sixteen_programs_spread_on_four_gpus)
{
    sixteen("least-loaded");
}

RG_TEST(sixteen_programs_packed_on_one_gpu)
{
    sixteen("pack");
}

/* Waits (bounded) until rgpuctl reports the server shutting down. */
static int until_shutting_down(struct pool *p)
{
    for (int i = 0; i < 1500; i++) {
        if (status(p) == 0 && strstr(js, "\"shutting_down\":true")) return 0;
        usleep(20000);
    }
    return -1;
}

/* SIGTERM: no new sessions, running ones go on and rgpud exits once they end. */
RG_TEST(sigterm_lets_sessions_finish)
{
    struct pool p;
    struct sess a, b;
    uint64_t actx;
    CUdeviceptr pa;
    int pids[64];
    START(&p, "--shutdown-grace-ms", "600000", NULL);
    CHECK_EQ_INT(open_n(&p, &a, 0), 0);
    CHECK_EQ_INT(open_n(&p, &b, 0), 0);
    CHECK_EQ_INT(make_ctx(&a, &actx, 0), CUDA_SUCCESS);
    int n = rgpud_children(&p.d, pids, 64);
    CHECK_EQ_INT(n, 2);
    CHECK(kill(p.d.pid, SIGTERM) == 0);
    CHECK_EQ_INT(until_shutting_down(&p), 0);
    CHECK_EQ_INT(mem_alloc(&a, actx, MiB, &pa), CUDA_SUCCESS); /* a goes on */
    tp_conn *late = sess_dial(&p.d);
    CHECK(late == NULL); /* nobody listens any more */
    sess_close(&a);
    sess_close(&b);
    CHECK_EQ_INT(exit_status(p.d.pid), 0); /* by itself, once both ended */
    p.d.pid = 0;
    for (int i = 0; i < n; i++)
        CHECK(kill(pids[i], 0) < 0 && errno == ESRCH);
    CHECK(access(p.admin + 6, F_OK) < 0); /* the admin socket is gone too */
}

/* A second SIGTERM ends the running sessions at once; no worker is left. */
RG_TEST(second_sigterm_ends_sessions)
{
    struct pool p;
    struct sess s[3];
    uint64_t ctx;
    int pids[64];
    START(&p, "--shutdown-grace-ms", "600000", NULL);
    for (int i = 0; i < 3; i++)
        if (open_n(&p, &s[i], 0)) RG_FAIL("session %d refused", i);
    int n = rgpud_children(&p.d, pids, 64);
    CHECK_EQ_INT(n, 3);
    CHECK(kill(p.d.pid, SIGTERM) == 0);
    CHECK_EQ_INT(until_shutting_down(&p), 0);
    CHECK(kill(p.d.pid, SIGTERM) == 0);
    CHECK_EQ_INT(exit_status(p.d.pid), 0);
    p.d.pid = 0;
    for (int i = 0; i < n; i++)
        CHECK(kill(pids[i], 0) < 0 && errno == ESRCH);
    CHECK_EQ_INT(make_ctx(&s[0], &ctx, 0), -1); /* its session is over */
    for (int i = 0; i < 3; i++)
        sess_close(&s[i]);
}

RG_TEST_MAIN()
