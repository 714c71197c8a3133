/* notify.c — what the worker tells the client without being asked (NOTIFY
 * frames, docs/protocol.md):
 *
 * Host callbacks (cuLaunchHostFunc, cuStreamAddCallback). The shim keeps the
 * function and its data and sends a CALL naming the stream and a callback id;
 * the worker enqueues a backend host function of its own on the real stream.
 * When the stream reaches it, that function sends NOTIFY(op = kind, callback
 * id[, stream status]) and blocks the stream until the client's DONE CALL for
 * that id arrives (or the session ends), so the callback runs on the client in
 * stream order. The main loop handles DONE as soon as it reads it; calls run
 * on the client threads' lanes (lane.c), so a call blocked in the backend
 * behind a callback never keeps it from reading the acknowledgement.
 *
 * Graphs (custom=graph, rpc/custom_graph.c). Host functions of graph nodes,
 * captured host functions and user-object destructors: a trampoline stands
 * for each client (fn, data) pair and asks the client at every run
 * (NOTIFY HOSTNODE). Copies with client host sides: a child graph node of the
 * worker's, FETCH host node -> copy through a staging buffer -> PUSH host node,
 * so replays read and write the client's memory in graph order.
 *
 * Device printf (DESIGN rule 10). The backend writes kernel output to fd 1,
 * which the worker turns into a pipe at start (its own log lines go to fd 2).
 * A reader thread forwards what arrives as NOTIFY(STDOUT) frames, and every
 * REPLY or NOTIFY is preceded by what the pipe holds, so text flushed during a
 * synchronisation reaches the client before that synchronisation's reply.
 * Device assert text: fd 2 is a pipe too (rgpud's log keeps a copy of the
 * original stderr, srv_log_fd); the device runtime's
 * "... thread: [x,y,z] Assertion `expr` failed." lines go to the client as NOTIFY(STDERR), the backend's other
 * lines to rgpud's log. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "custom_graph.h"
#include "log.h"
#include "session.h"

struct hostcb {
    struct session *s;
    uint64_t id;
    uint32_t kind;
    int done;
    struct hostcb *next;
    void *fetch; /* a FETCH request's destination (fetch_len bytes), or NULL */
    size_t fetch_len;
    int fetched;
};

static int capturing(struct session *s, CUstream st);
static CUresult capture_hostfn(struct session *s, CUstream st, uint64_t id);
static void graph_install(struct session *s);

int hostcb_op(const struct rpc_call_desc *d)
{
    return d && d->cls == RPC_CLASS_CLIENT &&
           (!strcmp(d->base, "cuLaunchHostFunc") || !strcmp(d->base, "cuStreamAddCallback"));
}

/* Sends cb's NOTIFY and waits, with heartbeats going out, until the client's
 * DONE marks cb done or the session ends; then takes cb off the session's
 * list (nobody else touches it after). 1 if the NOTIFY went out. */
static int notify_and_wait(struct session *s, struct hostcb *cb, rpc_hdr *h, const void *enc,
                           size_t len, const struct iovec *raw, int nraw)
{
    atomic_fetch_add(&s->busy, 1); /* heartbeats while the client works */
    int sent = !atomic_load(&s->closing) && session_send(s, h, enc, len, raw, nraw) == 0;
    pthread_mutex_lock(&s->lock);
    while (sent && !cb->done && !atomic_load(&s->closing) && !atomic_load(&s->fatal)) {
        struct timespec dl;
        srv_deadline(&dl, 200);
        pthread_cond_timedwait(&s->cb_cond, &s->lock, &dl);
    }
    for (struct hostcb **p = &s->cbs; *p; p = &(*p)->next)
        if (*p == cb) {
            *p = cb->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_sub(&s->busy, 1);
    return sent;
}

static void hostcb_run(struct hostcb *cb, CUresult status)
{
    struct session *s = cb->s;
    uint8_t b[12];
    rpc_wbuf w;
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u64(&w, cb->id);
    if (cb->kind == SRV_NOTIFY_CALLBACK) rpc_put_u32(&w, (uint32_t)status);
    rpc_hdr h = {.type = RPC_T_NOTIFY, .op = cb->kind};
    notify_and_wait(s, cb, &h, b, w.len, NULL, 0);
    atomic_fetch_sub(&s->live_cbs, 1);
    free(cb);
}

static void CUDA_CB on_hostfn(void *p)
{
    hostcb_run(p, CUDA_SUCCESS);
}

static void CUDA_CB on_stream_callback(CUstream st, CUresult status, void *p)
{
    (void)st;
    hostcb_run(p, status);
}

CUresult hostcb_enqueue(struct session *s, const struct rpc_call_desc *d, CUstream st, uint64_t id)
{
    static CUresult (*launch_host_func)(CUstream, CUhostFn, void *);
    static CUresult (*add_callback)(CUstream, CUstreamCallback, void *, unsigned);
    int is_cb = !strcmp(d->base, "cuStreamAddCallback");
    if (!launch_host_func) launch_host_func = (CUresult(*)(CUstream, CUhostFn, void *))dlsym(s->be.dl, "cuLaunchHostFunc");
    if (!add_callback)
        add_callback = (CUresult(*)(CUstream, CUstreamCallback, void *, unsigned))dlsym(s->be.dl, "cuStreamAddCallback");
    if (is_cb ? !add_callback : !launch_host_func) return CUDA_ERROR_NOT_SUPPORTED;
    if (!is_cb && capturing(s, st)) return capture_hostfn(s, st, id);
    struct hostcb *cb = calloc(1, sizeof *cb);
    if (!cb) return CUDA_ERROR_OUT_OF_MEMORY;
    *cb = (struct hostcb){s, id, is_cb ? SRV_NOTIFY_CALLBACK : SRV_NOTIFY_HOSTFN, 0, NULL, NULL, 0, 0};
    pthread_mutex_lock(&s->lock);
    cb->next = s->cbs;
    s->cbs = cb;
    pthread_mutex_unlock(&s->lock);
    CUresult r = is_cb ? add_callback(st, on_stream_callback, cb, 0) : launch_host_func(st, on_hostfn, cb);
    if (r != CUDA_SUCCESS) {
        pthread_mutex_lock(&s->lock);
        for (struct hostcb **p = &s->cbs; *p; p = &(*p)->next)
            if (*p == cb) {
                *p = cb->next;
                break;
            }
        pthread_mutex_unlock(&s->lock);
        free(cb);
    }
    return r;
}

void hostcb_done(struct session *s, uint64_t id)
{
    hostcb_done_data(s, id, NULL, 0);
}

void hostcb_done_data(struct session *s, uint64_t id, const void *raw, size_t raw_len)
{
    pthread_mutex_lock(&s->lock);
    for (struct hostcb *cb = s->cbs; cb; cb = cb->next) {
        if (cb->id != id) continue;
        cb->done = 1;
        if (cb->fetch && raw_len && raw_len == cb->fetch_len) {
            memcpy(cb->fetch, raw, raw_len);
            cb->fetched = 1;
        }
    }
    pthread_cond_broadcast(&s->cb_cond);
    atomic_fetch_add(&s->credit_owed, 1);
    pthread_mutex_unlock(&s->lock);
}

/* ---- graphs: client host functions and host-side copies (custom=graph) -----------
 * A graph's host function is the client's: the worker's trampoline stands in
 * for each (fn, data) pair and, when the backend runs it, sends
 * NOTIFY(HOSTNODE: request id, fn, data) and waits for the client's DONE, like
 * a stream callback, but every time the graph runs. A copy with client host
 * sides becomes a child graph node of the worker's: [FETCH host node ->] copy
 * through a staging buffer [-> PUSH host node], so each replay reads and
 * writes the client's memory when the graph reaches the copy (docs/remoting.md). */

#define SRV_NOTIFY_HOSTNODE 5 /* enc: u64 request, u64 fn, u64 data (fn 0: a captured callback) */
#define SRV_NOTIFY_FETCH 6    /* enc: u64 request, 6 x u64 host geometry; DONE carries the bytes */
#define SRV_NOTIFY_PUSH 7     /* enc: same; raw: the bytes to write */
#define SRV_NOTIFY_CAPTURED 8 /* enc: u64 callback id, kept by the client for replays */
#define SRV_WAIT_BIT (1ull << 63) /* request ids the worker mints (client callback ids lack it) */
#define SRV_STAGE_MAX (64ull << 20)

struct hostfn {
    struct session *s;
    uint64_t fn, data; /* the client's values: never called or dereferenced here */
    struct hostfn *next;
};

struct stage { /* one host side of a staged copy */
    struct session *s;
    uint64_t geo[6]; /* client address, width, height, depth, pitch, slice pitch */
    void *buf;       /* width * height * depth bytes, dense */
    size_t len;
    struct stage *next;
};

struct staged_node { /* a child graph node standing for a memcpy node */
    CUgraph graph;   /* the graph it is in: it goes with it (cuGraphDestroy, cuGraphDestroyNode) */
    CUgraphNode node;
    CUDA_MEMCPY3D params; /* as the client gave them (its host addresses) */
    struct staged_node *next;
};

/* Sends a request to the client and waits for its DONE (or the session's end).
 * fetch: where the bytes of a FETCH go. 0 when the client answered (and, for a
 * fetch, sent the bytes asked for), -1 otherwise. */
static int client_request(struct session *s, uint32_t kind, const void *body, size_t len,
                          const struct iovec *raw, int nraw, void *fetch, size_t fetch_len)
{
    uint8_t b[64];
    rpc_wbuf w;
    struct hostcb *cb = calloc(1, sizeof *cb);
    if (!cb || len > sizeof b - 8) {
        free(cb);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    *cb = (struct hostcb){s, SRV_WAIT_BIT | ++s->wait_serial, kind, 0, s->cbs, fetch, fetch_len, 0};
    s->cbs = cb;
    pthread_mutex_unlock(&s->lock);
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u64(&w, cb->id);
    rpc_put_bytes(&w, body, len);
    rpc_hdr h = {.type = RPC_T_NOTIFY, .op = kind};
    int sent = notify_and_wait(s, cb, &h, b, w.len, raw, nraw);
    int ok = sent && cb->done && (!fetch || cb->fetched); /* off the list: ours alone */
    free(cb);
    return ok ? 0 : -1;
}

static void CUDA_CB on_hostnode(void *p)
{
    struct hostfn *hf = p;
    uint64_t body[2] = {hf->fn, hf->data};
    if (client_request(hf->s, SRV_NOTIFY_HOSTNODE, body, sizeof body, NULL, 0, NULL, 0))
        srv_warn("a graph host function did not run on the client");
}

static void CUDA_CB on_fetch(void *p)
{
    struct stage *st = p;
    if (client_request(st->s, SRV_NOTIFY_FETCH, st->geo, sizeof st->geo, NULL, 0, st->buf, st->len))
        srv_warn("graph copy: the client did not send %zu bytes at %#llx", st->len,
                 (unsigned long long)st->geo[0]);
}

static void CUDA_CB on_push(void *p)
{
    struct stage *st = p;
    struct iovec v = {st->buf, st->len};
    if (client_request(st->s, SRV_NOTIFY_PUSH, st->geo, sizeof st->geo, &v, 1, NULL, 0))
        srv_warn("graph copy: the client did not take %zu bytes at %#llx", st->len,
                 (unsigned long long)st->geo[0]);
}

/* The trampoline's data for the client's (fn, data): one per pair, for the
 * session (s->lock held). */
static struct hostfn *hostfn_get_locked(struct session *s, uint64_t fn, uint64_t data)
{
    struct hostfn *hf = s->hostfns;
    while (hf && (hf->fn != fn || hf->data != data))
        hf = hf->next;
    if (!hf && (hf = calloc(1, sizeof *hf))) {
        *hf = (struct hostfn){s, fn, data, s->hostfns};
        s->hostfns = hf;
    }
    return hf;
}

static struct hostfn *hostfn_get(struct session *s, uint64_t fn, uint64_t data)
{
    pthread_mutex_lock(&s->lock);
    struct hostfn *hf = hostfn_get_locked(s, fn, data);
    pthread_mutex_unlock(&s->lock);
    return hf;
}

/* Called while the call decodes (s->lock held). */
static int g_host_fn_in(void *self, uint64_t fn, uint64_t data, void **real_fn, void **real_data)
{
    struct hostfn *hf = hostfn_get_locked(self, fn, data);
    if (!hf) return CUDA_ERROR_OUT_OF_MEMORY;
    *real_fn = (void *)on_hostnode;
    *real_data = hf;
    return 0;
}

static int g_host_fn_out(void *self, void *real_fn, void *real_data, uint64_t *fn, uint64_t *data)
{
    struct session *s = self;
    if (real_fn != (void *)on_hostnode) return -1;
    pthread_mutex_lock(&s->lock);
    struct hostfn *hf = s->hostfns;
    while (hf && hf != real_data)
        hf = hf->next;
    if (hf) *fn = hf->fn, *data = hf->data;
    pthread_mutex_unlock(&s->lock);
    return hf ? 0 : -1;
}

static uint64_t g_to_id(void *self, unsigned type, void *real, uint64_t parent)
{
    struct session *s = self;
    pthread_mutex_lock(&s->lock);
    uint64_t id = handles_mint(s->h, type, real, parent);
    pthread_mutex_unlock(&s->lock);
    return id;
}

static struct rpc_graph_ops graph_ops = {
    .host_fn_in = g_host_fn_in, .host_fn_out = g_host_fn_out, .to_id = g_to_id};

static void graph_install(struct session *s)
{
    graph_ops.self = s;
    rpc_set_graph_ops(&graph_ops);
}

/* ---- backend entry points the staging uses ---------------------------------------- */

static struct {
    CUresult (*graph_create)(CUgraph *, unsigned);
    CUresult (*graph_destroy)(CUgraph);
    CUresult (*add_host)(CUgraphNode *, CUgraph, const CUgraphNode *, size_t,
                         const CUDA_HOST_NODE_PARAMS *);
    CUresult (*add_memcpy)(CUgraphNode *, CUgraph, const CUgraphNode *, size_t,
                           const CUDA_MEMCPY3D *, CUcontext);
    CUresult (*add_child)(CUgraphNode *, CUgraph, const CUgraphNode *, size_t, CUgraph);
    CUresult (*capture_info)(CUstream, CUstreamCaptureStatus *, cuuint64_t *, CUgraph *,
                             const CUgraphNode **, const CUgraphEdgeData **, size_t *);
    CUresult (*update_deps)(CUstream, CUgraphNode *, size_t, unsigned);
    CUresult (*memcpy_get)(CUgraphNode, CUDA_MEMCPY3D *);
    CUresult (*launch_host_func)(CUstream, CUhostFn, void *);
    /* changing staged nodes */
    CUresult (*child_get)(CUgraphNode, CUgraph *);
    CUresult (*get_nodes)(CUgraph, CUgraphNode *, size_t *);
    CUresult (*node_type)(CUgraphNode, CUgraphNodeType *);
    CUresult (*host_get)(CUgraphNode, CUDA_HOST_NODE_PARAMS *);
    CUresult (*host_set)(CUgraphNode, const CUDA_HOST_NODE_PARAMS *);
    CUresult (*memcpy_set)(CUgraphNode, const CUDA_MEMCPY3D *);
    CUresult (*exec_child_set)(CUgraphExec, CUgraphNode, CUgraph);
    CUresult (*clone)(CUgraph *, CUgraph);
    CUresult (*find_in_clone)(CUgraphNode *, CUgraphNode, CUgraph);
    CUresult (*destroy_node)(CUgraphNode);
    int loaded;
} G;

static void *graph_dl;

static void graph_fns_load(void)
{
    {
        void *dl = graph_dl;
        *(void **)&G.graph_create = dlsym(dl, "cuGraphCreate");
        *(void **)&G.graph_destroy = dlsym(dl, "cuGraphDestroy");
        *(void **)&G.add_host = dlsym(dl, "cuGraphAddHostNode");
        *(void **)&G.add_memcpy = dlsym(dl, "cuGraphAddMemcpyNode");
        *(void **)&G.add_child = dlsym(dl, "cuGraphAddChildGraphNode");
        *(void **)&G.capture_info = dlsym(dl, "cuStreamGetCaptureInfo_v3");
        *(void **)&G.update_deps = dlsym(dl, "cuStreamUpdateCaptureDependencies");
        *(void **)&G.memcpy_get = dlsym(dl, "cuGraphMemcpyNodeGetParams");
        *(void **)&G.launch_host_func = dlsym(dl, "cuLaunchHostFunc");
        *(void **)&G.child_get = dlsym(dl, "cuGraphChildGraphNodeGetGraph");
        *(void **)&G.get_nodes = dlsym(dl, "cuGraphGetNodes");
        *(void **)&G.node_type = dlsym(dl, "cuGraphNodeGetType");
        *(void **)&G.host_get = dlsym(dl, "cuGraphHostNodeGetParams");
        *(void **)&G.host_set = dlsym(dl, "cuGraphHostNodeSetParams");
        *(void **)&G.memcpy_set = dlsym(dl, "cuGraphMemcpyNodeSetParams");
        *(void **)&G.exec_child_set = dlsym(dl, "cuGraphExecChildGraphNodeSetParams");
        *(void **)&G.clone = dlsym(dl, "cuGraphClone");
        *(void **)&G.find_in_clone = dlsym(dl, "cuGraphNodeFindInClone");
        *(void **)&G.destroy_node = dlsym(dl, "cuGraphDestroyNode");
        G.loaded = G.graph_create && G.graph_destroy && G.add_host && G.add_memcpy && G.add_child &&
                           G.capture_info && G.update_deps && G.memcpy_get && G.launch_host_func &&
                           G.child_get && G.get_nodes && G.node_type && G.host_get && G.host_set &&
                           G.memcpy_set && G.exec_child_set && G.clone && G.find_in_clone &&
                           G.destroy_node
                       ? 1
                       : -1;
    }
}

static int graph_fns(struct session *s)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    graph_dl = s->be.dl;
    pthread_once(&once, graph_fns_load);
    return G.loaded == 1;
}

/* ---- staging ------------------------------------------------------------------------- */

/* The bytes a copy side spans from its first byte, or 0 on overflow. */
static uint64_t side_span(size_t x, size_t y, size_t z, size_t pitch, size_t height,
                          const CUDA_MEMCPY3D *m, uint64_t *start)
{
    uint64_t rows, first, last;
    if (m->Depth > 1 && height < m->Height) return 0;
    if (__builtin_mul_overflow((uint64_t)z, height, &first) ||
        __builtin_add_overflow(first, y, &first) || __builtin_mul_overflow(first, pitch, &first) ||
        __builtin_add_overflow(first, x, start))
        return 0;
    if (__builtin_mul_overflow((uint64_t)(m->Depth - 1), height, &rows) ||
        __builtin_add_overflow(rows, m->Height - 1, &rows) ||
        __builtin_mul_overflow(rows, pitch, &last) ||
        __builtin_add_overflow(last, m->WidthInBytes, &last))
        return 0;
    return last;
}

/* A device side must lie in the session's memory (DESIGN rule 2). */
static int device_side_ok(struct session *s, CUmemorytype t, CUdeviceptr d, size_t x, size_t y,
                          size_t z, size_t pitch, size_t height, const CUDA_MEMCPY3D *m)
{
    uint64_t off, n;
    if (t != CU_MEMORYTYPE_DEVICE) return 1; /* arrays: the driver checks the translated handle */
    if (m->Height > 1 || m->Depth > 1) {
        if (pitch < m->WidthInBytes) return 0;
    } else {
        pitch = pitch ? pitch : m->WidthInBytes;
    }
    if (!(n = side_span(x, y, z, pitch, height ? height : m->Height, m, &off))) return 0;
    pthread_mutex_lock(&s->lock);
    int ok = allocs_contains(&s->mem, (uint64_t)d + off, n);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* A staging buffer for the client host side at addr (+ x, y, z in its layout). */
static struct stage *stage_new(struct session *s, uint64_t addr, size_t x, size_t y, size_t z,
                               size_t pitch, size_t height, const CUDA_MEMCPY3D *m)
{
    uint64_t off, len;
    if (m->Height <= 1 && m->Depth <= 1) pitch = pitch ? pitch : m->WidthInBytes;
    height = height ? height : m->Height;
    if ((m->Height > 1 || m->Depth > 1) && pitch < m->WidthInBytes) return NULL;
    if (!side_span(x, y, z, pitch, height, m, &off) || __builtin_add_overflow(addr, off, &addr) ||
        __builtin_mul_overflow((uint64_t)m->WidthInBytes, m->Height, &len) ||
        __builtin_mul_overflow(len, m->Depth, &len) || !len || len > SRV_STAGE_MAX)
        return NULL;
    struct stage *st = calloc(1, sizeof *st);
    if (!st || !(st->buf = calloc(1, len))) {
        free(st);
        return NULL;
    }
    st->s = s;
    st->len = len;
    uint64_t geo[6] = {addr, m->WidthInBytes, m->Height, m->Depth, pitch, (uint64_t)pitch * height};
    memcpy(st->geo, geo, sizeof geo);
    pthread_mutex_lock(&s->lock);
    st->next = s->stages;
    s->stages = st;
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* The child graph standing for copy m whose host sides are the client's
 * (stash): [fetch ->] copy through staging [-> push]. */
static CUresult staged_graph(struct session *s, const CUDA_MEMCPY3D *m,
                             const struct rpc_graph_stash *sh, CUcontext ctx, CUgraph *out)
{
    CUDA_MEMCPY3D c = *m;
    struct stage *in = NULL, *outs = NULL;
    if (!graph_fns(s)) return CUDA_ERROR_NOT_SUPPORTED;
    if (!device_side_ok(s, m->srcMemoryType, m->srcDevice, m->srcXInBytes, m->srcY, m->srcZ,
                        m->srcPitch, m->srcHeight, m) ||
        !device_side_ok(s, m->dstMemoryType, m->dstDevice, m->dstXInBytes, m->dstY, m->dstZ,
                        m->dstPitch, m->dstHeight, m))
        return CUDA_ERROR_INVALID_VALUE;
    if (!m->WidthInBytes || !m->Height || !m->Depth) return CUDA_ERROR_INVALID_VALUE;
    uint64_t bytes;
    if (__builtin_mul_overflow((uint64_t)m->WidthInBytes, (uint64_t)m->Height, &bytes) ||
        __builtin_mul_overflow(bytes, (uint64_t)m->Depth, &bytes) || bytes > SRV_STAGE_MAX) {
        srv_warn("graph copy: a host side of more than %llu bytes cannot be staged through rgpu",
                 (unsigned long long)SRV_STAGE_MAX);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (sh->sides & 1) {
        if (!(in = stage_new(s, sh->src, m->srcXInBytes, m->srcY, m->srcZ, m->srcPitch,
                             m->srcHeight, m)))
            return CUDA_ERROR_INVALID_VALUE;
        c.srcHost = in->buf, c.srcXInBytes = c.srcY = c.srcZ = 0;
        c.srcPitch = m->WidthInBytes, c.srcHeight = m->Height;
    }
    if (sh->sides & 2) {
        if (!(outs = stage_new(s, sh->dst, m->dstXInBytes, m->dstY, m->dstZ, m->dstPitch,
                               m->dstHeight, m)))
            return CUDA_ERROR_INVALID_VALUE;
        c.dstHost = outs->buf, c.dstXInBytes = c.dstY = c.dstZ = 0;
        c.dstPitch = m->WidthInBytes, c.dstHeight = m->Height;
    }
    CUgraph g;
    CUgraphNode prev = NULL, node;
    CUresult r = G.graph_create(&g, 0);
    if (r != CUDA_SUCCESS) return r;
    if (in) {
        CUDA_HOST_NODE_PARAMS hp = {on_fetch, in};
        r = G.add_host(&prev, g, NULL, 0, &hp);
    }
    if (r == CUDA_SUCCESS) r = G.add_memcpy(&node, g, prev ? &prev : NULL, prev ? 1 : 0, &c, ctx);
    if (r == CUDA_SUCCESS && outs) {
        CUDA_HOST_NODE_PARAMS hp = {on_push, outs};
        r = G.add_host(&prev, g, &node, 1, &hp);
    }
    if (r != CUDA_SUCCESS) {
        G.graph_destroy(g);
        return r;
    }
    *out = g;
    return CUDA_SUCCESS;
}

static void staged_node_add(struct session *s, CUgraph graph, CUgraphNode node,
                            const CUDA_MEMCPY3D *m, const struct rpc_graph_stash *sh)
{
    struct staged_node *n = calloc(1, sizeof *n);
    if (!n) return;
    n->graph = graph;
    n->node = node;
    n->params = *m;
    if (sh->sides & 1) n->params.srcHost = (const void *)(uintptr_t)sh->src;
    if (sh->sides & 2) n->params.dstHost = (void *)(uintptr_t)sh->dst;
    pthread_mutex_lock(&s->lock);
    n->next = s->staged_nodes;
    s->staged_nodes = n;
    pthread_mutex_unlock(&s->lock);
}

static int stashed(const struct rpc_decoded *dc, int i, struct rpc_graph_stash *sh)
{
    memcpy(sh, dc->val[i].bytes, sizeof *sh);
    return sh->magic == RPC_GRAPH_STASH_MAGIC && (sh->sides & 3);
}

static void *arg_ptr(const struct rpc_decoded *dc, int i)
{
    void *p;
    memcpy(&p, dc->val[i].bytes, sizeof p);
    return p;
}

/* cuGraphAddMemcpyNode(node, graph, deps, n, params, ctx) with host sides. */
static CUresult add_memcpy_node(struct session *s, struct rpc_decoded *dc,
                                const struct rpc_graph_stash *sh)
{
    const CUDA_MEMCPY3D *m = dc->ptrval[4];
    CUgraph child;
    if (!m || !dc->ptrval[0]) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = staged_graph(s, m, sh, arg_ptr(dc, 5), &child);
    if (r != CUDA_SUCCESS) return r;
    r = G.add_child(dc->ptrval[0], arg_ptr(dc, 1), dc->ptrval[2], (size_t)arg_u64(dc, 3), child);
    G.graph_destroy(child); /* the node holds a clone */
    if (r == CUDA_SUCCESS) staged_node_add(s, arg_ptr(dc, 1), *(CUgraphNode *)dc->ptrval[0], m, sh);
    return r;
}

static struct staged_node *staged_find_locked(struct session *s, CUgraphNode node)
{
    struct staged_node *n = s->staged_nodes;
    while (n && n->node != node)
        n = n->next;
    return n;
}

/* The parts of a staged child graph: fetch host node, copy, push host node. */
struct roles {
    CUgraphNode fetch, copy, push;
    CUDA_HOST_NODE_PARAMS fetch_p, push_p;
    CUDA_MEMCPY3D copy_p;
};

static CUresult roles_of(CUgraph g, struct roles *ro)
{
    CUgraphNode v[4];
    size_t n = 4;
    memset(ro, 0, sizeof *ro);
    CUresult r = G.get_nodes(g, v, &n);
    if (r == CUDA_SUCCESS && n > 3) r = CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; r == CUDA_SUCCESS && i < n; i++) {
        CUgraphNodeType t;
        CUDA_HOST_NODE_PARAMS hp;
        if ((r = G.node_type(v[i], &t)) != CUDA_SUCCESS) break;
        if (t == CU_GRAPH_NODE_TYPE_MEMCPY) {
            ro->copy = v[i];
            r = G.memcpy_get(v[i], &ro->copy_p);
        } else if (t == CU_GRAPH_NODE_TYPE_HOST && (r = G.host_get(v[i], &hp)) == CUDA_SUCCESS) {
            if (hp.fn == on_fetch)
                ro->fetch = v[i], ro->fetch_p = hp;
            else if (hp.fn == on_push)
                ro->push = v[i], ro->push_p = hp;
        }
    }
    return r == CUDA_SUCCESS && !ro->copy ? CUDA_ERROR_INVALID_VALUE : r;
}

/* cuGraphMemcpyNodeSetParams / cuGraphExecMemcpyNodeSetParams with host sides:
 * only a node that stands for a staged copy takes them, and its sides stay the
 * kind they were (the child graph keeps its shape). */
static CUresult memcpy_set(struct session *s, struct rpc_decoded *dc,
                           const struct rpc_graph_stash *sh)
{
    int exec = dc->desc->nargs == 4;
    CUgraphNode node = arg_ptr(dc, exec ? 1 : 0);
    const CUDA_MEMCPY3D *m = dc->ptrval[exec ? 2 : 1];
    if (!m) return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&s->lock);
    struct staged_node *n = staged_find_locked(s, node);
    pthread_mutex_unlock(&s->lock);
    if (!n) {
        srv_warn("%s: host sides can only replace those of a memcpy node added with host sides "
                 "through rgpu",
                 dc->desc->name);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    CUgraph fresh, inner;
    struct roles nr, orl;
    CUresult r = staged_graph(s, m, sh, exec ? arg_ptr(dc, 3) : NULL, &fresh);
    if (r != CUDA_SUCCESS) return r;
    if (exec) {
        r = G.exec_child_set(arg_ptr(dc, 0), node, fresh);
    } else if ((r = roles_of(fresh, &nr)) == CUDA_SUCCESS &&
               (r = G.child_get(node, &inner)) == CUDA_SUCCESS &&
               (r = roles_of(inner, &orl)) == CUDA_SUCCESS) {
        if (!nr.fetch != !orl.fetch || !nr.push != !orl.push) {
            srv_warn("%s: a staged copy keeps the kind of its sides through rgpu", dc->desc->name);
            r = CUDA_ERROR_NOT_SUPPORTED;
        }
        if (r == CUDA_SUCCESS) r = G.memcpy_set(orl.copy, &nr.copy_p);
        if (r == CUDA_SUCCESS && nr.fetch) r = G.host_set(orl.fetch, &nr.fetch_p);
        if (r == CUDA_SUCCESS && nr.push) r = G.host_set(orl.push, &nr.push_p);
        if (r == CUDA_SUCCESS) {
            pthread_mutex_lock(&s->lock);
            n->params = *m;
            if (sh->sides & 1) n->params.srcHost = (const void *)(uintptr_t)sh->src;
            if (sh->sides & 2) n->params.dstHost = (void *)(uintptr_t)sh->dst;
            pthread_mutex_unlock(&s->lock);
        }
    }
    G.graph_destroy(fresh);
    return r;
}

/* cuGraphClone: the clone's nodes standing for staged copies are known too. */
static CUresult graph_clone(struct session *s, struct rpc_decoded *dc)
{
    CUgraph *out = dc->ptrval[0], orig = arg_ptr(dc, 1);
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = G.clone(out, orig);
    if (r != CUDA_SUCCESS) return r;
    pthread_mutex_lock(&s->lock);
    struct staged_node *n = s->staged_nodes, *found = NULL;
    for (; n; n = n->next) {
        CUgraphNode cn;
        struct staged_node *c;
        if (n->graph != orig || G.find_in_clone(&cn, n->node, *out) != CUDA_SUCCESS) continue;
        if (!(c = calloc(1, sizeof *c))) break;
        *c = (struct staged_node){*out, cn, n->params, found};
        found = c;
    }
    while (found) { /* after the walk: the list is not changed under it */
        struct staged_node *next = found->next;
        found->next = s->staged_nodes;
        s->staged_nodes = found;
        found = next;
    }
    pthread_mutex_unlock(&s->lock);
    return CUDA_SUCCESS;
}

/* cuGraphDestroy / cuGraphDestroyNode: what stood for staged copies there goes
 * (the backend may give a later node the same handle). */
static CUresult graph_destroy(struct session *s, struct rpc_decoded *dc, int node)
{
    void *h = arg_ptr(dc, 0);
    CUresult r = node ? G.destroy_node(h) : G.graph_destroy(h);
    if (r != CUDA_SUCCESS) return r;
    pthread_mutex_lock(&s->lock);
    for (struct staged_node **p = &s->staged_nodes; *p;) {
        struct staged_node *n = *p;
        if (node ? (void *)n->node == h : (void *)n->graph == h) {
            *p = n->next;
            free(n);
        } else {
            p = &n->next;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return CUDA_SUCCESS;
}

/* cuGraphNodeGetType: a node standing for a staged copy is a memcpy node. */
static CUresult node_type(struct session *s, struct rpc_decoded *dc)
{
    CUgraphNodeType *t = dc->ptrval[1];
    CUresult r = G.node_type(arg_ptr(dc, 0), t);
    pthread_mutex_lock(&s->lock);
    if (r == CUDA_SUCCESS && t && staged_find_locked(s, arg_ptr(dc, 0)))
        *t = CU_GRAPH_NODE_TYPE_MEMCPY;
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* cuGraphMemcpyNodeGetParams: a staged node answers what the client gave. */
static CUresult memcpy_get(struct session *s, struct rpc_decoded *dc)
{
    CUgraphNode node = arg_ptr(dc, 0);
    CUDA_MEMCPY3D *out = dc->ptrval[1];
    if (!graph_fns(s)) return CUDA_ERROR_NOT_SUPPORTED;
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&s->lock);
    struct staged_node *n = s->staged_nodes;
    while (n && n->node != node)
        n = n->next;
    if (n) *out = n->params;
    pthread_mutex_unlock(&s->lock);
    if (n) return CUDA_SUCCESS;
    CUresult r = G.memcpy_get(node, out);
    out->srcHost = NULL, out->dstHost = NULL; /* the worker's staging: not the client's to see */
    out->srcArray = NULL, out->dstArray = NULL, out->reserved0 = NULL, out->reserved1 = NULL;
    return r;
}

/* A stream that is capturing now (NONE on any error). */
static int capturing(struct session *s, CUstream st)
{
    CUstreamCaptureStatus cs = CU_STREAM_CAPTURE_STATUS_NONE;
    if (!atomic_load(&s->captured)) return 0;
    return s->be.cuStreamIsCapturing(st, &cs) == CUDA_SUCCESS &&
           cs == CU_STREAM_CAPTURE_STATUS_ACTIVE;
}

/* Puts a child graph node for g into st's capture, after the capture's current
 * dependencies, and makes it the only one. */
static CUresult capture_child(CUstream st, CUgraph g, CUgraph *cg, CUgraphNode *node)
{
    CUstreamCaptureStatus cs;
    const CUgraphNode *deps = NULL;
    const CUgraphEdgeData *ed = NULL;
    size_t n = 0;
    CUresult r = G.capture_info(st, &cs, NULL, cg, &deps, &ed, &n);
    if (r == CUDA_SUCCESS) r = G.add_child(node, *cg, deps, n, g);
    if (r == CUDA_SUCCESS) r = G.update_deps(st, node, 1, CU_STREAM_SET_CAPTURE_DEPENDENCIES);
    return r;
}

/* cuMemcpyHtoDAsync(dst, host, n, stream) / cuMemcpyDtoHAsync(host, src, n, stream)
 * on a capturing stream: recorded as a staged copy; nothing is copied now. */
static int capture_copy(struct session *s, struct rpc_decoded *dc, CUresult *r)
{
    int htod = is_base(dc, "cuMemcpyHtoDAsync");
    int host = htod ? 1 : 0, dev = htod ? 0 : 1;
    struct rpc_graph_stash sh;
    if (dc->desc->nargs != 4 || !stashed(dc, host, &sh)) return 0;
    CUstream st = arg_ptr(dc, 3);
    if (!capturing(s, st)) return 0;
    if (!graph_fns(s)) {
        *r = CUDA_ERROR_NOT_SUPPORTED;
        return 1;
    }
    CUDA_MEMCPY3D m;
    memset(&m, 0, sizeof m);
    m.WidthInBytes = (size_t)arg_u64(dc, 2);
    m.Height = m.Depth = 1;
    m.srcMemoryType = htod ? CU_MEMORYTYPE_HOST : CU_MEMORYTYPE_DEVICE;
    m.dstMemoryType = htod ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
    if (htod)
        m.dstDevice = (CUdeviceptr)arg_u64(dc, dev);
    else
        m.srcDevice = (CUdeviceptr)arg_u64(dc, dev);
    CUgraph g;
    CUcontext ctx = NULL;
    s->be.cuCtxGetCurrent(&ctx);
    *r = staged_graph(s, &m, &sh, ctx, &g);
    CUgraph cg;
    CUgraphNode node;
    if (*r == CUDA_SUCCESS) {
        *r = capture_child(st, g, &cg, &node);
        G.graph_destroy(g);
    }
    if (*r == CUDA_SUCCESS) staged_node_add(s, cg, node, &m, &sh);
    if (*r == CUDA_SUCCESS) { /* the reply carries no bytes; the client grants the range */
        sh.sides |= RPC_GRAPH_STAGED;
        memcpy(dc->val[host].bytes, &sh, sizeof sh);
    }
    return 1;
}

/* cuGraphAddNode[_v2] with a memcpy whose host sides are the client's: a child
 * graph node stands for it, as for cuGraphAddMemcpyNode. */
static int add_node_memcpy(struct session *s, struct rpc_decoded *dc, CUresult *r)
{
    int k = dc->desc->nargs - 1;
    CUgraphNodeParams *p = dc->ptrval[k];
    struct rpc_graph_stash sh;
    if (!p || p->type != CU_GRAPH_NODE_TYPE_MEMCPY || !stashed(dc, k, &sh)) return 0;
    if (!is_base(dc, "cuGraphAddNode")) {
        srv_warn("%s: memcpy nodes with host sides can only be added, not set, through rgpu yet",
                 dc->desc->name);
        *r = CUDA_ERROR_NOT_SUPPORTED;
        return 1;
    }
    CUgraph child;
    if ((*r = staged_graph(s, &p->memcpy.copyParams, &sh, p->memcpy.copyCtx, &child)) !=
        CUDA_SUCCESS)
        return 1;
    memset(p, 0,
           sizeof *p); /* the backend clones the child into the node; it stays with the session */
    p->type = CU_GRAPH_NODE_TYPE_GRAPH;
    p->graph.graph = child;
    return 0;
}

/* cuGraphDebugDotPrint: into a file of the worker's, whose text goes back to the
 * client (custom_graph.c writes the client's file). */
static CUresult dot_print(struct session *s, struct rpc_decoded *dc)
{
    static CUresult (*print)(CUgraph, const char *, unsigned);
    const char *dir = getenv("TMPDIR");
    char path[512];
    if (!print) *(void **)&print = dlsym(s->be.dl, "cuGraphDebugDotPrint");
    if (!print) return CUDA_ERROR_NOT_SUPPORTED;
    snprintf(path, sizeof path, "%s/rgpu-dot-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return CUDA_ERROR_OPERATING_SYSTEM;
    CUresult r = print(arg_ptr(dc, 0), path, (unsigned)arg_u64(dc, 2));
    char *text = NULL;
    size_t n = 0;
    if (r == CUDA_SUCCESS) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0 || end > (off_t)(16 << 20) || !(text = malloc((size_t)end + 1)) ||
            pread(fd, text, (size_t)end, 0) != (ssize_t)end)
            r = CUDA_ERROR_OPERATING_SYSTEM;
        else
            n = (size_t)end;
    }
    close(fd);
    unlink(path);
    if (r != CUDA_SUCCESS) {
        free(text);
        return r;
    }
    dc->scratch = text; /* freed with the decoded call, after the reply */
    dc->ptrval[1] = text;
    dc->lens[1] = n;
    return CUDA_SUCCESS;
}

int graph_call(struct session *s, struct call *cl, struct rpc_decoded *dc, CUresult *r)
{
    struct rpc_graph_stash sh;
    (void)cl;
    if (!(srv_traits(dc->desc) & SV_GRAPH)) return 0;
    if (is_base(dc, "cuMemcpyHtoDAsync") || is_base(dc, "cuMemcpyDtoHAsync"))
        return capture_copy(s, dc, r);
    if (is_base(dc, "cuGraphAddNode")) return add_node_memcpy(s, dc, r);
    if (is_base(dc, "cuGraphNodeSetParams") || is_base(dc, "cuGraphExecNodeSetParams"))
        return add_node_memcpy(s, dc, r);
    if (is_base(dc, "cuGraphDebugDotPrint") && dc->desc->nargs == 3) {
        *r = dot_print(s, dc);
        return 1;
    }
    if (is_base(dc, "cuGraphMemcpyNodeGetParams") && dc->desc->nargs == 2) {
        *r = memcpy_get(s, dc);
        return 1;
    }
    if (is_base(dc, "cuGraphAddMemcpyNode") && dc->desc->nargs == 6) {
        if (!stashed(dc, 4, &sh)) return 0;
        *r = graph_fns(s) ? add_memcpy_node(s, dc, &sh) : CUDA_ERROR_NOT_SUPPORTED;
        return 1;
    }
    if ((is_base(dc, "cuGraphMemcpyNodeSetParams") && dc->desc->nargs == 2) ||
        (is_base(dc, "cuGraphExecMemcpyNodeSetParams") && dc->desc->nargs == 4)) {
        if (!stashed(dc, dc->desc->nargs == 2 ? 1 : 2, &sh)) return 0;
        *r = graph_fns(s) ? memcpy_set(s, dc, &sh) : CUDA_ERROR_NOT_SUPPORTED;
        return 1;
    }
    /* the rest only keep the staged nodes' records: as usual on a backend without staging */
    if (!graph_fns(s)) return 0;
    if (is_base(dc, "cuGraphClone") && dc->desc->nargs == 2) {
        *r = graph_clone(s, dc);
        return 1;
    }
    if ((is_base(dc, "cuGraphDestroy") || is_base(dc, "cuGraphDestroyNode")) &&
        dc->desc->nargs == 1) {
        *r = graph_destroy(s, dc, is_base(dc, "cuGraphDestroyNode"));
        return 1;
    }
    if (is_base(dc, "cuGraphNodeGetType") && dc->desc->nargs == 2) {
        *r = node_type(s, dc);
        return 1;
    }
    return 0;
}

/* cuLaunchHostFunc on a capturing stream: the backend records a host node whose
 * every run asks the client; the client keeps the callback for the replays. */
static CUresult capture_hostfn(struct session *s, CUstream st, uint64_t id)
{
    struct hostfn *hf = hostfn_get(s, 0, id);
    if (!hf || !graph_fns(s)) return hf ? CUDA_ERROR_NOT_SUPPORTED : CUDA_ERROR_OUT_OF_MEMORY;
    uint8_t b[8];
    rpc_wbuf w;
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u64(&w, id);
    rpc_hdr h = {.type = RPC_T_NOTIFY, .op = SRV_NOTIFY_CAPTURED};
    if (session_send(s, &h, b, w.len, NULL, 0)) return CUDA_ERROR_UNKNOWN;
    CUresult r = G.launch_host_func(st, on_hostnode, hf);
    if (r == CUDA_SUCCESS) atomic_fetch_sub(&s->live_cbs, 1); /* runs with the graph, not now */
    return r;
}

/* ---- device printf ---------------------------------------------------------------- */

/* fd 2 becomes a pipe read by the worker; its log keeps the original stderr. */
static void err_capture(struct session *s)
{
    int p[2], orig;
    s->err_fd = -1;
    s->err_len = 0;
    if ((orig = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) < 0) return;
    if (pipe2(p, O_CLOEXEC)) {
        close(orig);
        return;
    }
    srv_log_fd = orig;
    if (dup2(p[1], STDERR_FILENO) < 0) {
        srv_log_fd = STDERR_FILENO;
        close(orig), close(p[0]), close(p[1]);
        return;
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    s->err_fd = p[0];
}

int out_capture(struct session *s)
{
    int p[2];
    graph_install(s); /* once per worker, before any call: host functions and staging of graphs */
    s->out_fd = -1;
    err_capture(s);
    if (s->err_fd < 0) srv_warn("cannot capture the backend's stderr; device assert text stays on the server");
    if (pipe2(p, O_CLOEXEC)) return -1;
    if (dup2(p[1], STDOUT_FILENO) < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    s->out_fd = p[0];
    return 0;
}

/* One line of the backend's stderr: device assert text (the device runtime's
 * "file:line: function: block: [x,y,z], thread: [x,y,z] Assertion `expr`
 * failed." line) goes to the client's stderr, anything
 * else (the backend's own log) to rgpud's log. */
static void err_line(struct session *s, const char *line, size_t n)
{
    int assert_text = memmem(line, n, "], thread: [", 12) && memmem(line, n, "] Assertion `", 13);
    if (assert_text && !s->out_lost) {
        struct iovec v = {(void *)line, n};
        rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_NOTIFY, .op = SRV_NOTIFY_STDERR};
        if (send_frames(s, &h, NULL, 0, &v, 1)) s->out_lost = 1;
        return;
    }
    ssize_t w = write(srv_log_fd, line, n);
    (void)w;
}

/* final: the backend is done, a partial last line goes out as it is. */
static void err_drain_locked(struct session *s, int final)
{
    if (s->err_fd < 0) return;
    for (;;) {
        ssize_t n = read(s->err_fd, s->err_buf + s->err_len, sizeof s->err_buf - s->err_len);
        if (n <= 0) break;
        s->err_len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < s->err_len; i++)
            if (s->err_buf[i] == '\n') {
                err_line(s, s->err_buf + start, i + 1 - start);
                start = i + 1;
            }
        if (start == 0 && s->err_len == sizeof s->err_buf) start = s->err_len, err_line(s, s->err_buf, s->err_len);
        memmove(s->err_buf, s->err_buf + start, s->err_len - start);
        s->err_len -= start;
    }
    if (final && s->err_len) err_line(s, s->err_buf, s->err_len), s->err_len = 0;
}

static void out_read_locked(struct session *s)
{
    char buf[1 << 16];
    for (; s->out_fd >= 0;) {
        ssize_t n = read(s->out_fd, buf, sizeof buf);
        if (n <= 0) break;
        struct iovec v = {buf, (size_t)n};
        rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_NOTIFY, .op = SRV_NOTIFY_STDOUT};
        if (!s->out_lost && send_frames(s, &h, NULL, 0, &v, 1)) s->out_lost = 1; /* read on: writers never block */
    }
    err_drain_locked(s, 0); /* after printf text, as the device runtime orders them */
}

/* Before a reply: the backend's output so far goes out first. One poll()
 * asks both pipes, which are nearly always empty (two reads cost twice). */
void out_drain_locked(struct session *s)
{
    struct pollfd pf[2] = {{.fd = s->out_fd, .events = POLLIN}, {.fd = s->err_fd, .events = POLLIN}};
    if ((s->out_fd >= 0 || s->err_fd >= 0) && poll(pf, 2, 0) == 0) return;
    out_read_locked(s);
}

static void *out_main(void *p)
{
    struct session *s = p;
    struct pollfd pf[2] = {{.fd = s->out_fd, .events = POLLIN}, {.fd = s->err_fd, .events = POLLIN}};
    while (!atomic_load(&s->out_quit)) {
        int n = poll(pf, 2, 100);
        if (n < 0 && errno != EINTR) break;
        if (n > 0 && ((pf[0].revents | pf[1].revents) & POLLIN)) {
            pthread_mutex_lock(&s->send_lock);
            out_read_locked(s);
            pthread_mutex_unlock(&s->send_lock);
        } else if (n > 0) {
            break; /* POLLHUP / POLLERR */
        }
    }
    return NULL;
}

void out_start(struct session *s)
{
    if (s->out_fd >= 0 || s->err_fd >= 0)
        s->has_out_thread = pthread_create(&s->out_thread, NULL, out_main, s) == 0;
}

/* After cleanup: later backend output (its exit-time flush) goes nowhere
 * instead of filling a pipe nobody reads. */
void out_stop(struct session *s)
{
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    fflush(stdout);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    if (s->has_out_thread) {
        atomic_store(&s->out_quit, 1);
        pthread_join(s->out_thread, NULL);
        s->has_out_thread = 0;
    }
    pthread_mutex_lock(&s->send_lock);
    out_read_locked(s);
    pthread_mutex_unlock(&s->send_lock);
    if (s->out_fd >= 0) close(s->out_fd);
    s->out_fd = -1;
    if (s->err_fd >= 0) {
        /* stderr is rgpud's again (exit-time messages land in its log) */
        dup2(srv_log_fd, STDERR_FILENO);
        pthread_mutex_lock(&s->send_lock);
        err_drain_locked(s, 1);
        pthread_mutex_unlock(&s->send_lock);
        close(s->err_fd);
        s->err_fd = -1;
    }
}
