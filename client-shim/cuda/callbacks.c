/* callbacks.c — host callbacks (cuLaunchHostFunc, cuStreamAddCallback and
 * their _ptsz forms) run here, in the application, in stream order.
 *
 * The shim keeps (id -> function, data, stream) and sends a CALL (op of the
 * call itself, sub-command ENQUEUE: stream id, callback id) that is pipelined
 * like a launch; the worker enqueues a host function of its own on the real
 * stream. When the stream reaches it, the worker sends NOTIFY(id) and holds the
 * stream until this side answers DONE(id). The receiver thread only hands the
 * callback over: callback threads run it and acknowledge. The worker holds
 * each stream at one callback, so callbacks of one stream arrive one after the
 * other and run in order; callbacks of different streams may run at the same
 * time, as on the real driver (a callback gating one stream on another's). */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "custom_graph.h"
#include "cuinfo.h"
#include "shim.h"

#define NBUCKETS 4096
#define MAX_RUNNERS 64
#define IDLE_MS 2000

struct cb {
    uint64_t id;
    int kind;
    CUhostFn fn;
    CUstreamCallback scb;
    void *data;
    CUstream stream;
    CUresult status;
    struct cb *next; /* bucket chain, then run queue */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cb *bucket[NBUCKETS];
    struct cb *head, *tail; /* notified, waiting for a runner */
    int runners, idle;
    int queued; /* notified callbacks no runner has taken yet */
    uint64_t serial;
    _Atomic int pending; /* registered, not yet run to the end */
} B = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static struct cb *take_locked(uint64_t id)
{
    for (struct cb **p = &B.bucket[id % NBUCKETS]; *p; p = &(*p)->next)
        if ((*p)->id == id) {
            struct cb *c = *p;
            *p = c->next;
            c->next = NULL;
            return c;
        }
    return NULL;
}

static void acknowledge(const struct cb *c)
{
    uint8_t b[12];
    rpc_wbuf w;
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u32(&w, RG_CB_DONE);
    rpc_put_u64(&w, c->id);
    const struct rpc_call_desc *d =
        rpc_call_by_name(c->kind == RG_NOTIFY_CALLBACK ? "cuStreamAddCallback" : "cuLaunchHostFunc");
    if (d) rg_conn_post(d->op, b, w.len);
}

static void *runner_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&B.mu);
    for (;;) {
        while (!B.head) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += IDLE_MS / 1000;
            B.idle++;
            int rc = pthread_cond_timedwait(&B.cv, &B.mu, &dl);
            B.idle--;
            if (rc == ETIMEDOUT && !B.head) {
                B.runners--;
                pthread_mutex_unlock(&B.mu);
                return NULL;
            }
        }
        struct cb *c = B.head;
        B.head = c->next;
        if (!B.head) B.tail = NULL;
        B.queued--;
        pthread_mutex_unlock(&B.mu);
        rg_managed_callback_before(); /* managed.c: what the device wrote is seen */
        if (c->kind == RG_NOTIFY_CALLBACK) c->scb(c->stream, c->status, c->data);
        else c->fn(c->data);
        rg_managed_callback_after(); /* what the callback wrote, before the stream goes on */
        acknowledge(c);
        atomic_fetch_sub(&B.pending, 1);
        free(c);
        pthread_mutex_lock(&B.mu);
    }
}

static void run_locked(struct cb *c);

void rg_cb_notified(uint64_t id, CUresult status)
{
    pthread_mutex_lock(&B.mu);
    struct cb *c = take_locked(id);
    if (!c) { /* not ours: answer so the server's stream goes on */
        pthread_mutex_unlock(&B.mu);
        rg_log(RG_LOG_WARN, "notification for unknown host callback %llu", (unsigned long long)id);
        struct cb tmp = {.id = id, .kind = RG_NOTIFY_HOSTFN};
        acknowledge(&tmp);
        return;
    }
    c->status = status;
    run_locked(c);
}

/* Queues c for a runner (B.mu held; released here), starting one if none is idle. */
static void run_locked(struct cb *c)
{
    if (B.tail) B.tail->next = c;
    else B.head = c;
    B.tail = c;
    /* A runner signalled a moment ago may not have woken yet, so idle runners
     * are compared with the callbacks waiting, not with zero: a callback
     * that blocks (one stream gated on another's callback) must never sit
     * behind it unrun. */
    int start = ++B.queued > B.idle && B.runners < MAX_RUNNERS;
    if (start) B.runners++;
    pthread_cond_signal(&B.cv);
    pthread_mutex_unlock(&B.mu);
    if (!start) return;
    if (rg_thread_start(runner_main)) {
        pthread_mutex_lock(&B.mu);
        B.runners--;
        pthread_mutex_unlock(&B.mu);
        rg_log(RG_LOG_ERROR, "cannot start a host callback thread");
    }
}

int rg_cb_pending(void)
{
    return atomic_load(&B.pending) > 0;
}

static CUresult check_stream(uint64_t sid)
{
    if (sid == 0 || sid == (uint64_t)(uintptr_t)CU_STREAM_LEGACY ||
        sid == (uint64_t)(uintptr_t)CU_STREAM_PER_THREAD)
        return CUDA_SUCCESS;
    return rg_id_plausible(RPC_H_STREAM, sid) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

static CUresult enqueue(const char *name, CUstream stream, struct cb *proto)
{
    int saved = errno;
    CUresult r = rg_ready();
    uint64_t sid = (uint64_t)(uintptr_t)stream, cur = rg_ctx_current_id();
    const struct rpc_call_desc *d = rpc_call_by_name(name);
    if (r != CUDA_SUCCESS) goto out;
    if (!d) {
        r = CUDA_ERROR_NOT_SUPPORTED;
        goto out;
    }
    if ((r = check_stream(sid)) != CUDA_SUCCESS) goto out;
    if (!cur) {
        r = CUDA_ERROR_INVALID_CONTEXT;
        goto out;
    }
    if (rg_ctx_dead(cur)) {
        r = CUDA_ERROR_CONTEXT_IS_DESTROYED;
        goto out;
    }
    if ((r = rg_ctx_sticky(cur)) != CUDA_SUCCESS) goto out;
    struct cb *c = malloc(sizeof *c);
    if (!c) {
        r = CUDA_ERROR_OUT_OF_MEMORY;
        goto out;
    }
    *c = *proto;
    c->stream = stream;
    pthread_mutex_lock(&B.mu);
    c->id = ++B.serial;
    atomic_fetch_add(&B.pending, 1);
    c->next = B.bucket[c->id % NBUCKETS];
    B.bucket[c->id % NBUCKETS] = c;
    pthread_mutex_unlock(&B.mu);
    uint64_t id = c->id; /* c belongs to the callback threads once sent */

    uint8_t b[24];
    rpc_wbuf w;
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u32(&w, RG_CB_ENQUEUE);
    rpc_put_u64(&w, sid);
    rpc_put_u64(&w, id);
    rpc_put_u32(&w, 0);
    /* during a capture the driver's answer (IMPLICIT, INVALIDATED, ...) is the call's own */
    int wait = rg_sess.cfg.launch_blocking != 0 || rg_capture_active();
    rpc_hdr h = {.op = d->op, .ctx = cur, .flags = wait ? 0 : RPC_F_NOREPLY};
    struct rg_reply rep = {0};
    r = rg_conn_call(&h, b, w.len, NULL, 0, wait, &rep);
    if (r == CUDA_SUCCESS && wait) {
        rpc_rbuf rb;
        rpc_rbuf_init(&rb, rep.enc, rep.hdr.enc_len);
        uint32_t res = rpc_get_u32(&rb);
        r = rpc_rbuf_ok(&rb) ? (CUresult)res : CUDA_ERROR_UNKNOWN;
        rg_reply_free(&rep);
        CUresult late = rg_conn_take_async_error();
        if (r == CUDA_SUCCESS && late != CUDA_SUCCESS) r = late;
    }
    if (r != CUDA_SUCCESS) { /* never enqueued (or the session is gone) */
        pthread_mutex_lock(&B.mu);
        struct cb *gone = take_locked(id);
        if (gone) atomic_fetch_sub(&B.pending, 1);
        free(gone);
        pthread_mutex_unlock(&B.mu);
    }
    if (rpc_error_is_sticky(r)) rg_ctx_set_sticky(cur, r);
out:
    errno = saved;
    return r;
}

static CUresult host_func(const char *name, CUstream s, CUhostFn fn, void *data)
{
    if (rg_ready() == CUDA_SUCCESS && !fn) return CUDA_ERROR_INVALID_VALUE;
    struct cb proto = {.kind = RG_NOTIFY_HOSTFN, .fn = fn, .data = data};
    return enqueue(name, s, &proto);
}

static CUresult stream_callback(const char *name, CUstream s, CUstreamCallback fn, void *data,
                                unsigned flags)
{
    if (rg_ready() == CUDA_SUCCESS && (!fn || flags)) return CUDA_ERROR_INVALID_VALUE;
    struct cb proto = {.kind = RG_NOTIFY_CALLBACK, .scb = fn, .data = data};
    return enqueue(name, s, &proto);
}

CUresult cuLaunchHostFunc(CUstream hStream, CUhostFn fn, void *userData)
{
    return host_func("cuLaunchHostFunc", hStream, fn, userData);
}

CUresult cuLaunchHostFunc_ptsz(CUstream hStream, CUhostFn fn, void *userData)
{
    return host_func("cuLaunchHostFunc_ptsz", hStream, fn, userData);
}

CUresult cuStreamAddCallback(CUstream hStream, CUstreamCallback callback, void *userData,
                             unsigned int flags)
{
    return stream_callback("cuStreamAddCallback", hStream, callback, userData, flags);
}

CUresult cuStreamAddCallback_ptsz(CUstream hStream, CUstreamCallback callback, void *userData,
                                  unsigned int flags)
{
    return stream_callback("cuStreamAddCallback_ptsz", hStream, callback, userData, flags);
}

/* ---- graphs (docs/protocol.md, NOTIFY kinds 5-8) --------------------------------------
 * A graph's host function runs every time the graph runs, so the server names
 * the client's (fn, data) in each HOSTNODE request: only pairs the application
 * gave a graph call here (allow) are ever called. A host function captured from
 * a stream keeps its callback entry (CAPTURED) for the replays. FETCH and PUSH
 * read and write the application's host memory for copies in graphs: only
 * within host ranges the application gave a graph call or a captured copy
 * (grant), outside the device window, and through process_vm_readv/writev, so
 * a bad address from the server is an error, never a crash. */

#define NPAIRS 1024

struct pair {
    uint64_t fn, data;
    struct pair *next;
};

static struct {
    pthread_mutex_t mu;
    struct pair *pairs[NPAIRS];
    struct cb *kept[NBUCKETS]; /* captured host functions, by callback id */
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

static unsigned pair_hash(uint64_t fn, uint64_t data)
{
    return (unsigned)((fn * 0x9e3779b97f4a7c15ull ^ data) >> 7) % NPAIRS;
}

static void allow_host_fn(void *self, uint64_t fn, uint64_t data)
{
    (void)self;
    unsigned k = pair_hash(fn, data);
    pthread_mutex_lock(&G.mu);
    struct pair *p = G.pairs[k];
    while (p && (p->fn != fn || p->data != data))
        p = p->next;
    if (!p && (p = malloc(sizeof *p))) { /* one per pair the application named: kept */
        *p = (struct pair){fn, data, G.pairs[k]};
        G.pairs[k] = p;
    }
    pthread_mutex_unlock(&G.mu);
}

static int allowed(uint64_t fn, uint64_t data)
{
    pthread_mutex_lock(&G.mu);
    struct pair *p = G.pairs[pair_hash(fn, data)];
    while (p && (p->fn != fn || p->data != data))
        p = p->next;
    pthread_mutex_unlock(&G.mu);
    return p != NULL;
}

/* Driver-owned arrays of the last call on this thread, one per slot. */
static void *keep(void *self, int slot, const void *bytes, size_t len)
{
    static __thread void *kept[3];
    static __thread size_t cap[3];
    (void)self;
    if (slot < 0 || slot >= 3) return NULL;
    if (len > cap[slot]) {
        void *p = realloc(kept[slot], len);
        if (!p) return NULL;
        kept[slot] = p;
        cap[slot] = len;
    }
    if (len && bytes) memcpy(kept[slot], bytes, len);
    return len ? kept[slot] : NULL;
}

/* Host ranges of copies in graphs (grant): the only memory FETCH and PUSH may
 * touch. Kept for the process, once per range. */
struct grant {
    uint64_t lo, hi;
    struct grant *next;
};
static struct grant *grants;

static void grant_range(void *self, uint64_t addr, uint64_t len)
{
    (void)self;
    uint64_t hi;
    if (__builtin_add_overflow(addr, len, &hi)) return;
    pthread_mutex_lock(&G.mu);
    struct grant *g = grants;
    while (g && (g->lo > addr || g->hi < hi))
        g = g->next;
    if (!g && (g = malloc(sizeof *g))) {
        *g = (struct grant){addr, hi, grants};
        grants = g;
    }
    pthread_mutex_unlock(&G.mu);
}

static int granted(uint64_t lo, uint64_t hi)
{
    pthread_mutex_lock(&G.mu);
    struct grant *g = grants;
    while (g && (g->lo > lo || g->hi < hi))
        g = g->next;
    pthread_mutex_unlock(&G.mu);
    return g != NULL;
}

static int in_window(void *self, uint64_t addr)
{
    (void)self;
    return rg_in_window(addr);
}

static const struct rpc_graph_ops graph_ops = {
    .allow_host_fn = allow_host_fn, .grant = grant_range, .in_window = in_window, .keep = keep};

__attribute__((constructor)) static void graph_ops_install(void)
{
    rpc_set_graph_ops(&graph_ops);
}

static void done_raw(uint64_t id, const struct iovec *raw, int nraw)
{
    uint8_t b[12];
    rpc_wbuf w;
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u32(&w, RG_CB_DONE);
    rpc_put_u64(&w, id);
    const struct rpc_call_desc *d = rpc_call_by_name("cuLaunchHostFunc");
    if (d) rg_conn_post_raw(d->op, b, w.len, raw, nraw);
}

/* A host function the graph reached: run by a runner, acknowledged as a callback. */
static void host_node(uint64_t req, uint64_t fn, uint64_t data)
{
    struct cb *c = calloc(1, sizeof *c);
    if (!c) {
        done_raw(req, NULL, 0);
        return;
    }
    c->id = req;
    c->kind = RG_NOTIFY_HOSTNODE;
    if (fn) {
        c->fn = allowed(fn, data) ? (CUhostFn)(uintptr_t)fn : NULL;
        c->data = (void *)(uintptr_t)data;
    } else { /* a captured cuLaunchHostFunc */
        pthread_mutex_lock(&B.mu);
        struct cb *k = G.kept[data % NBUCKETS];
        while (k && k->id != data)
            k = k->next;
        if (k) c->fn = k->fn, c->data = k->data;
        pthread_mutex_unlock(&B.mu);
    }
    if (!c->fn) {
        rg_log(RG_LOG_WARN,
               "the server named a host function the application did not give; ignored");
        free(c);
        done_raw(req, NULL, 0);
        return;
    }
    atomic_fetch_add(&B.pending, 1);
    pthread_mutex_lock(&B.mu);
    run_locked(c);
}

static void captured(uint64_t id)
{
    pthread_mutex_lock(&B.mu);
    struct cb *c = take_locked(id);
    if (c) {
        c->next = G.kept[id % NBUCKETS];
        G.kept[id % NBUCKETS] = c;
        atomic_fetch_sub(&B.pending, 1); /* it runs with the graph, not on its own */
    }
    pthread_mutex_unlock(&B.mu);
}

struct geo {
    uint64_t addr, width, height, depth, pitch, slice;
};

/* Each row [p, p + width) of the host side lies outside the device window and
 * does not wrap; the total is width * height * depth. */
static int geo_ok(const struct geo *g, uint64_t *total)
{
    uint64_t last, t;
    if (!g->width || !g->height || !g->depth || (g->pitch < g->width && g->height > 1)) return 0;
    if (__builtin_mul_overflow(g->width, g->height, &t) || __builtin_mul_overflow(t, g->depth, &t))
        return 0;
    if (__builtin_mul_overflow(g->depth - 1, g->slice, &last) ||
        __builtin_add_overflow(last, (g->height - 1) * g->pitch, &last) ||
        __builtin_add_overflow(last, g->width, &last) ||
        __builtin_add_overflow(last, g->addr, &last))
        return 0;
    if (!g->addr || rg_in_window(g->addr) || rg_in_window(last - 1)) return 0;
    if (!granted(g->addr, last)) return 0; /* not a host side the application gave a graph */
    if (g->addr < (uint64_t)(uintptr_t)rg_sess.window &&
        last > (uint64_t)(uintptr_t)rg_sess.window) /* spans the window */
        return 0;
    *total = t;
    return 1;
}

/* Moves the rows between buf (dense) and the application's memory. 0 or -1. */
static int move_rows(const struct geo *g, void *buf, int to_app)
{
    static _Atomic int no_vm; /* process_vm_* refused here (seccomp, old kernel) */
    pid_t self = getpid();
    for (uint64_t z = 0; z < g->depth; z++)
        for (uint64_t y = 0; y < g->height; y++) {
            struct iovec local = {(char *)buf + (z * g->height + y) * g->width, g->width};
            struct iovec app = {(void *)(uintptr_t)(g->addr + z * g->slice + y * g->pitch),
                                g->width};
            ssize_t n = -1;
            if (!atomic_load(&no_vm)) {
                n = to_app ? process_vm_writev(self, &local, 1, &app, 1, 0)
                           : process_vm_readv(self, &local, 1, &app, 1, 0);
                if (n < 0 && (errno == ENOSYS || errno == EPERM)) atomic_store(&no_vm, 1);
            }
            if (atomic_load(&no_vm)) { /* the range was granted by the application: trusted */
                memcpy(to_app ? app.iov_base : local.iov_base,
                       to_app ? local.iov_base : app.iov_base, g->width);
                n = (ssize_t)g->width;
            }
            if (n != (ssize_t)g->width) return -1;
        }
    return 0;
}

void rg_graph_notify(uint32_t kind, const void *enc, size_t enc_len, const void *raw,
                     size_t raw_len)
{
    rpc_rbuf r;
    rpc_rbuf_init(&r, enc, enc_len);
    if (kind == RG_NOTIFY_CAPTURED) {
        uint64_t id = rpc_get_u64(&r);
        if (rpc_rbuf_done(&r)) captured(id);
        return;
    }
    uint64_t req = rpc_get_u64(&r);
    if (kind == RG_NOTIFY_HOSTNODE) {
        uint64_t fn = rpc_get_u64(&r), data = rpc_get_u64(&r);
        if (rpc_rbuf_done(&r))
            host_node(req, fn, data);
        else
            rg_log(RG_LOG_WARN, "malformed graph host function notification ignored");
        return;
    }
    struct geo g;
    uint64_t total = 0;
    g.addr = rpc_get_u64(&r), g.width = rpc_get_u64(&r), g.height = rpc_get_u64(&r);
    g.depth = rpc_get_u64(&r), g.pitch = rpc_get_u64(&r), g.slice = rpc_get_u64(&r);
    if (!rpc_rbuf_done(&r)) {
        rg_log(RG_LOG_WARN, "malformed graph copy notification ignored");
        return;
    }
    int ok = geo_ok(&g, &total);
    if (kind == RG_NOTIFY_PUSH) {
        ok = ok && raw_len == total && move_rows(&g, (void *)raw, 1) == 0;
        if (!ok)
            rg_log(RG_LOG_ERROR, "graph copy: cannot write %llu bytes at %#llx",
                   (unsigned long long)raw_len, (unsigned long long)g.addr);
        done_raw(req, NULL, 0);
        return;
    }
    void *buf = ok && total <= RPC_MAX_CALL_BYTES ? malloc(total) : NULL;
    ok = buf && move_rows(&g, buf, 0) == 0;
    if (!ok)
        rg_log(RG_LOG_ERROR, "graph copy: cannot read %llu bytes at %#llx",
               (unsigned long long)total, (unsigned long long)g.addr);
    struct iovec v = {buf, ok ? total : 0};
    done_raw(req, ok ? &v : NULL, ok ? 1 : 0);
    free(buf);
}
