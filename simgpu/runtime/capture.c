/* capture.c — stream capture. While a stream captures, every op it would run
 * becomes a graph node (the op itself, replayed at launch) placed after the
 * stream's current dependency set. An event recorded in capture carries that
 * set to another stream that waits on it (fork/join across streams). */
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#define LOCK() pthread_mutex_lock(&sim_graph_lock)
#define UNLOCK() pthread_mutex_unlock(&sim_graph_lock)

struct cap_stream;

struct cap_event { /* an event recorded in capture: the dependency set it stands for */
    CUevent e;
    struct sim_nodevec deps;
    struct cap_event *next;
};

struct capture {
    struct sim_graph *g;
    bool own; /* graph made by cuStreamBeginCapture (not ...ToGraph) */
    bool invalid;
    CUstreamCaptureMode mode;
    cuuint64_t id;
    struct sim_stream *origin;
    struct sim_ctx *ctx;
    pthread_t thread;
    struct cap_stream *streams; /* origin and every stream joined into it */
    struct cap_event *events;
    struct capture *next;
};

struct cap_stream { /* what sim_stream_set_capture holds for a capturing stream */
    struct capture *cap;
    struct sim_stream *s;
    bool blocking; /* synchronises with the legacy stream */
    struct sim_nodevec deps;
    CUgraphEdgeData *edata; /* zeros, as long as deps, for cuStreamGetCaptureInfo_v3 */
    size_t edata_n;
    struct cap_stream *next;
};

static struct capture *g_caps; /* active captures */
static _Atomic int g_ncaps;    /* fast path for the checks others call */
static _Atomic cuuint64_t g_next_id = 1;
static __thread CUstreamCaptureMode t_mode = CU_STREAM_CAPTURE_MODE_GLOBAL;

/* ---- helpers --------------------------------------------------------------------- */

static bool deps_add(struct sim_nodevec *v, struct sim_gnode *const *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!sim_nodevec_has(v, src[i]) && !sim_nodevec_push(v, src[i])) return false;
    return true;
}

static bool deps_set(struct sim_nodevec *v, struct sim_gnode *const *src, size_t n)
{
    v->n = 0;
    return deps_add(v, src, n);
}

static struct cap_stream *cstream_new(struct capture *cap, struct sim_stream *s)
{
    struct cap_stream *cs = calloc(1, sizeof *cs);
    if (!cs) return NULL;
    unsigned flags = 0;
    cuStreamGetFlags(sim_stream_handle(s), &flags);
    cs->cap = cap;
    cs->s = s;
    cs->blocking = !(flags & CU_STREAM_NON_BLOCKING);
    cs->next = cap->streams;
    cap->streams = cs;
    sim_stream_set_capture(s, cs);
    return cs;
}

static struct cap_stream *cstream_of(struct sim_stream *s)
{
    return sim_stream_get_capture(s);
}

static void cap_invalidate(struct capture *cap)
{
    if (!cap->invalid) sim_info("stream capture %llu invalidated", (unsigned long long)cap->id);
    cap->invalid = true;
}

static struct cap_event *event_find(CUevent e, struct capture **cap_out)
{
    for (struct capture *c = g_caps; c; c = c->next)
        for (struct cap_event *ce = c->events; ce; ce = ce->next)
            if (ce->e == e) {
                if (cap_out) *cap_out = c;
                return ce;
            }
    return NULL;
}

/* Detach every stream, drop the capture from the active list, free it. The
 * graph is returned to the caller (or freed by it). */
static struct sim_graph *cap_finish(struct capture *cap)
{
    for (struct cap_stream *cs = cap->streams, *n; cs; cs = n) {
        n = cs->next;
        if (sim_handle_ok(cs->s, SIM_KIND_STREAM) && sim_stream_get_capture(cs->s) == cs)
            sim_stream_set_capture(cs->s, NULL);
        free(cs->deps.v);
        free(cs->edata);
        free(cs);
    }
    for (struct cap_event *ce = cap->events, *n; ce; ce = n) {
        n = ce->next;
        free(ce->deps.v);
        free(ce);
    }
    for (struct capture **pp = &g_caps; *pp; pp = &(*pp)->next)
        if (*pp == cap) {
            *pp = cap->next;
            break;
        }
    atomic_fetch_sub(&g_ncaps, 1);
    struct sim_graph *g = cap->g;
    g->capturing--;
    free(cap);
    return g;
}

/* ---- the hook: ops enqueued on a capturing stream --------------------------------- */

/* A captured launch becomes a real kernel node, so its parameters can be
 * read and updated; NOT_SUPPORTED when the op is not a launch. */
static CUresult add_launch(struct cap_stream *cs, sim_op_fn fn, const void *payload, size_t len,
                           struct sim_gnode **out)
{
    struct sim_launch_info v;
    if (!sim_launch_op_info(fn, payload, len, &v)) return CUDA_ERROR_NOT_SUPPORTED;
    size_t size = v.params_size;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, (void *)v.params, CU_LAUNCH_PARAM_BUFFER_SIZE,
                     &size, CU_LAUNCH_PARAM_END};
    CUDA_KERNEL_NODE_PARAMS kp = {.func = (CUfunction)v.f,
                                  .gridDimX = v.grid[0],
                                  .gridDimY = v.grid[1],
                                  .gridDimZ = v.grid[2],
                                  .blockDimX = v.block[0],
                                  .blockDimY = v.block[1],
                                  .blockDimZ = v.block[2],
                                  .sharedMemBytes = v.dyn_smem,
                                  .extra = extra};
    struct sim_gnode *nd;
    CUresult r = sim_graph_add_node(cs->cap->g, (const CUgraphNode *)cs->deps.v, cs->deps.n,
                                    CU_GRAPH_NODE_TYPE_KERNEL, &nd);
    if (r) return r;
    if ((r = sim_gkernel_set(&nd->u.k, &kp))) {
        sim_gnode_discard(nd);
        return r;
    }
    *out = nd;
    return CUDA_SUCCESS;
}

static CUresult note_record(struct cap_stream *cs, CUevent e)
{
    struct capture *owner;
    struct cap_event *ce = event_find(e, &owner);
    if (ce && owner != cs->cap) { /* re-recorded in another capture: moves there */
        for (struct cap_event **pp = &owner->events; *pp; pp = &(*pp)->next)
            if (*pp == ce) {
                *pp = ce->next;
                break;
            }
        free(ce->deps.v);
        free(ce);
        ce = NULL;
    }
    if (!ce) {
        if (!(ce = calloc(1, sizeof *ce))) return CUDA_ERROR_OUT_OF_MEMORY;
        ce->e = e;
        ce->next = cs->cap->events;
        cs->cap->events = ce;
    }
    return deps_set(&ce->deps, cs->deps.v, cs->deps.n) ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult add_op(struct cap_stream *cs, sim_op_fn fn, const void *payload, size_t len)
{
    struct sim_gnode *nd;
    CUresult r = add_launch(cs, fn, payload, len, &nd);
    if (r == CUDA_ERROR_NOT_SUPPORTED) {
        /* Other ops' kinds are private to their files: they replay as they
         * are and show as empty nodes. */
        r = sim_graph_add_op(cs->cap->g, cs->deps.v, cs->deps.n, fn, payload, len, &nd);
    }
    if (r) return r;
    cs->deps.n = 0;
    sim_nodevec_push(&cs->deps, nd); /* cannot fail: capacity >= 1 after a push */
    return CUDA_SUCCESS;
}

static CUresult capture_enqueue(struct sim_stream *s, void *capture, sim_op_fn fn,
                                const void *payload, size_t len)
{
    struct cap_stream *cs = capture;
    (void)s;
    LOCK();
    CUresult r =
        cs->cap->invalid ? CUDA_ERROR_STREAM_CAPTURE_INVALIDATED : add_op(cs, fn, payload, len);
    UNLOCK();
    return r;
}

/* cuEventRecord on a capturing stream: no node, the event now stands for the
 * stream's current dependency set. */
static CUresult capture_record(struct sim_stream *s, void *capture, struct sim_event *e)
{
    struct cap_stream *cs = capture;
    (void)s;
    LOCK();
    CUresult r =
        cs->cap->invalid ? CUDA_ERROR_STREAM_CAPTURE_INVALIDATED : note_record(cs, (CUevent)e);
    UNLOCK();
    return r;
}

/* cuStreamWaitEvent: capture is s's capture, or NULL when s does not capture
 * (then an event recorded in a capture forks s into it). */
static CUresult capture_wait(struct sim_stream *s, void *capture, struct sim_event *e)
{
    bool handled;
    (void)capture;
    CUresult r = sim_capture_wait_event(s, (CUevent)e, &handled);
    return r;
}

/* Synchronising or querying a capturing stream is illegal and ends its use. */
static CUresult capture_sync(struct sim_stream *s, void *capture)
{
    struct cap_stream *cs = capture;
    (void)s;
    LOCK();
    cap_invalidate(cs->cap);
    UNLOCK();
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

static const struct sim_capture_ops capture_ops = {
    .enqueue = capture_enqueue,
    .record_event = capture_record,
    .wait_event = capture_wait,
    .sync_check = capture_sync,
};

/* A context died: its captures end, and graphs nobody was handed are freed. */
static void ctx_gone(struct sim_ctx *c)
{
    LOCK();
    for (struct capture *cap = g_caps, *n; cap; cap = n) {
        n = cap->next;
        if (cap->ctx != c) continue;
        bool own = cap->own;
        struct sim_graph *g = cap_finish(cap);
        if (own) sim_graph_free(g);
    }
    UNLOCK();
}

__attribute__((constructor)) static void capture_init(void)
{
    sim_stream_set_capture_ops(&capture_ops);
    sim_ctx_add_destroy_hook(ctx_gone);
}

/* ---- hooks for the runtime core ---------------------------------------------------- */

CUresult sim_capture_wait_event(struct sim_stream *s, CUevent e, bool *handled)
{
    *handled = false;
    if (!atomic_load(&g_ncaps)) return CUDA_SUCCESS;
    struct capture *cap;
    CUresult r = CUDA_SUCCESS;
    LOCK();
    struct cap_event *ce = event_find(e, &cap);
    struct cap_stream *cs = cstream_of(s);
    if (ce) {
        *handled = true;
        if (cap->invalid)
            r = CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        else if (cs && cs->cap != cap)
            r = CUDA_ERROR_STREAM_CAPTURE_ISOLATION;
        else if (!cs && !(cs = cstream_new(cap, s)))
            r = CUDA_ERROR_OUT_OF_MEMORY;
        if (!r && !deps_add(&cs->deps, ce->deps.v, ce->deps.n)) r = CUDA_ERROR_OUT_OF_MEMORY;
    }
    UNLOCK();
    return r;
}

static bool legacy(struct sim_stream *s)
{
    return sim_stream_handle(s) == NULL;
}

/* Invalidate the captures a synchronisation would break; the error to return. */
static CUresult sync_violations(struct sim_stream *s, struct sim_ctx *c)
{
    CUresult r = CUDA_SUCCESS;
    struct cap_stream *own = s ? cstream_of(s) : NULL;
    if (own) {
        cap_invalidate(own->cap);
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    for (struct capture *cap = g_caps; cap; cap = cap->next) {
        if (cap->ctx != c) continue;
        bool hit = !s;
        for (struct cap_stream *cs = cap->streams; s && cs; cs = cs->next)
            if (cs->blocking) hit = true;
        if (!hit) continue;
        cap_invalidate(cap);
        r = s ? CUDA_ERROR_STREAM_CAPTURE_IMPLICIT : CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return r;
}

CUresult sim_capture_check_sync(struct sim_stream *s)
{
    if (!atomic_load(&g_ncaps)) return CUDA_SUCCESS;
    struct sim_ctx *c = NULL;
    if (!s) return sim_ctx_get(&c) ? CUDA_SUCCESS : sim_capture_check_ctx_sync(c);
    LOCK();
    CUresult r = (!legacy(s) && !cstream_of(s)) ? CUDA_SUCCESS : sync_violations(s, sim_stream_ctx(s));
    UNLOCK();
    return r;
}

CUresult sim_capture_check_ctx_sync(struct sim_ctx *c)
{
    if (!atomic_load(&g_ncaps)) return CUDA_SUCCESS;
    LOCK();
    CUresult r = sync_violations(NULL, c);
    UNLOCK();
    return r;
}

CUresult sim_capture_check_unsafe(void)
{
    if (!atomic_load(&g_ncaps) || t_mode == CU_STREAM_CAPTURE_MODE_RELAXED) return CUDA_SUCCESS;
    CUresult r = CUDA_SUCCESS;
    pthread_t self = pthread_self();
    LOCK();
    for (struct capture *cap = g_caps; cap; cap = cap->next) {
        bool mine = pthread_equal(cap->thread, self);
        bool hit = (mine && cap->mode != CU_STREAM_CAPTURE_MODE_RELAXED) ||
                   (!mine && t_mode == CU_STREAM_CAPTURE_MODE_GLOBAL &&
                    cap->mode == CU_STREAM_CAPTURE_MODE_GLOBAL);
        if (!hit) continue;
        cap_invalidate(cap);
        r = CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    UNLOCK();
    return r;
}

/* ---- begin / end ------------------------------------------------------------------- */

static CUresult deps_of_graph(struct sim_graph *g, const CUgraphNode *deps,
                              const CUgraphEdgeData *ed, size_t n)
{
    static const CUgraphEdgeData zero;
    if (n && !deps) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < n; i++) {
        if (!sim_handle_ok(deps[i], SIM_KIND_GRAPH_NODE)) return CUDA_ERROR_INVALID_VALUE;
        if (((struct sim_gnode *)deps[i])->g != g) return CUDA_ERROR_INVALID_VALUE;
        if (ed && memcmp(&ed[i], &zero, sizeof zero)) return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

static CUresult begin_locked(struct sim_stream *s, struct sim_ctx *c, CUstreamCaptureMode mode,
                             struct sim_graph *into, const CUgraphNode *deps, size_t n)
{
    if (cstream_of(s)) return CUDA_ERROR_ILLEGAL_STATE;
    struct capture *cap = calloc(1, sizeof *cap);
    struct sim_graph *g = into ? into : sim_graph_new(true);
    if (!cap || !g) {
        free(cap);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *cap = (struct capture){.g = g,
                            .own = !into,
                            .mode = mode,
                            .origin = s,
                            .ctx = c,
                            .thread = pthread_self(),
                            .next = g_caps,
                            .id = atomic_fetch_add(&g_next_id, 1)};
    struct cap_stream *cs = cstream_new(cap, s);
    if (!cs || !deps_set(&cs->deps, (struct sim_gnode *const *)deps, n)) {
        if (cs) {
            sim_stream_set_capture(s, NULL);
            free(cs->deps.v);
            free(cs);
        }
        if (!into) sim_graph_free(g);
        free(cap);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    g->capturing++;
    g_caps = cap;
    atomic_fetch_add(&g_ncaps, 1);
    return CUDA_SUCCESS;
}

static CUresult begin(CUstream h, CUstreamCaptureMode mode, bool pt, CUgraph into,
                      const CUgraphNode *deps, const CUgraphEdgeData *ed, size_t n)
{
    struct sim_stream *s;
    struct sim_ctx *c;
    struct sim_graph *g = NULL;
    CUresult r = sim_stream_resolve(h, pt, &s, &c);
    if (r) return r;
    if ((unsigned)mode > CU_STREAM_CAPTURE_MODE_RELAXED) return CUDA_ERROR_INVALID_VALUE;
    if (legacy(s)) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    LOCK();
    if (into && (r = sim_graph_arg(into, &g)) == CUDA_ERROR_INVALID_HANDLE)
        r = CUDA_ERROR_INVALID_VALUE;
    if (!r && g && g->parent) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) r = g ? deps_of_graph(g, deps, ed, n) : CUDA_SUCCESS;
    if (!r) r = begin_locked(s, c, mode, g, g ? deps : NULL, g ? n : 0);
    UNLOCK();
    return r;
}

CUresult cuStreamBeginCapture(CUstream hStream)
{
    return begin(hStream, CU_STREAM_CAPTURE_MODE_GLOBAL, false, NULL, NULL, NULL, 0);
}
CUresult cuStreamBeginCapture_ptsz(CUstream hStream)
{
    return begin(hStream, CU_STREAM_CAPTURE_MODE_GLOBAL, true, NULL, NULL, NULL, 0);
}
CUresult cuStreamBeginCapture_v2(CUstream hStream, CUstreamCaptureMode mode)
{
    return begin(hStream, mode, false, NULL, NULL, NULL, 0);
}
CUresult cuStreamBeginCapture_v2_ptsz(CUstream hStream, CUstreamCaptureMode mode)
{
    return begin(hStream, mode, true, NULL, NULL, NULL, 0);
}

static CUresult begin_to_graph(CUstream h, CUgraph g, const CUgraphNode *deps,
                               const CUgraphEdgeData *ed, size_t n, CUstreamCaptureMode mode,
                               bool pt)
{
    if (!g) return CUDA_ERROR_INVALID_VALUE;
    return begin(h, mode, pt, g, deps, ed, n);
}

CUresult cuStreamBeginCaptureToGraph(CUstream hStream, CUgraph hGraph,
                                     const CUgraphNode *dependencies,
                                     const CUgraphEdgeData *dependencyData, size_t numDependencies,
                                     CUstreamCaptureMode mode)
{
    return begin_to_graph(hStream, hGraph, dependencies, dependencyData, numDependencies, mode,
                          false);
}

CUresult cuStreamBeginCaptureToGraph_ptsz(CUstream hStream, CUgraph hGraph,
                                          const CUgraphNode *dependencies,
                                          const CUgraphEdgeData *dependencyData,
                                          size_t numDependencies, CUstreamCaptureMode mode)
{
    return begin_to_graph(hStream, hGraph, dependencies, dependencyData, numDependencies, mode,
                          true);
}

/* Every node a side stream ended on must be an ancestor of (or in) the
 * origin's dependency set, i.e. the side stream was joined back. */
static bool all_joined(struct capture *cap, struct cap_stream *origin)
{
    struct sim_graph *g = cap->g;
    struct sim_nodevec stack = {0};
    bool ok = true;
    for (size_t i = 0; i < g->nodes.n; i++)
        g->nodes.v[i]->idx = 0;
    for (size_t i = 0; i < origin->deps.n; i++)
        sim_nodevec_push(&stack, origin->deps.v[i]);
    while (stack.n) {
        struct sim_gnode *nd = stack.v[--stack.n];
        if (nd->idx) continue;
        nd->idx = 1;
        for (size_t i = 0; i < nd->in.n; i++)
            sim_nodevec_push(&stack, nd->in.v[i]);
    }
    free(stack.v);
    for (struct cap_stream *cs = cap->streams; cs && ok; cs = cs->next)
        for (size_t i = 0; cs != origin && i < cs->deps.n; i++)
            if (!cs->deps.v[i]->idx) ok = false;
    return ok;
}

static CUresult end_locked(struct sim_stream *s, CUgraph *ph)
{
    struct cap_stream *cs = cstream_of(s);
    if (!cs) return CUDA_ERROR_ILLEGAL_STATE;
    struct capture *cap = cs->cap;
    if (cap->origin != s) return CUDA_ERROR_STREAM_CAPTURE_UNMATCHED;
    if (cap->mode != CU_STREAM_CAPTURE_MODE_RELAXED && !pthread_equal(cap->thread, pthread_self()))
        return CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD;
    CUresult r = cap->invalid           ? CUDA_ERROR_STREAM_CAPTURE_INVALIDATED
                 : !all_joined(cap, cs) ? CUDA_ERROR_STREAM_CAPTURE_UNJOINED
                                        : CUDA_SUCCESS;
    bool own = cap->own;
    struct sim_graph *g = cap_finish(cap);
    if (r && own) sim_graph_free(g);
    *ph = r ? NULL : (CUgraph)g;
    return r;
}

static CUresult end(CUstream h, CUgraph *ph, bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r) return r;
    if (!ph) return CUDA_ERROR_INVALID_VALUE;
    LOCK();
    r = end_locked(s, ph);
    UNLOCK();
    return r;
}

CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph)
{
    return end(hStream, phGraph, false);
}
CUresult cuStreamEndCapture_ptsz(CUstream hStream, CUgraph *phGraph)
{
    return end(hStream, phGraph, true);
}

/* ---- queries ----------------------------------------------------------------------- */

struct cap_info {
    CUstreamCaptureStatus *status;
    cuuint64_t *id;
    CUgraph *graph;
    const CUgraphNode **deps;
    const CUgraphEdgeData **edata;
    size_t *n;
};

static bool edata_fit(struct cap_stream *cs)
{
    if (cs->edata_n >= cs->deps.n && cs->edata) return true;
    size_t n = cs->deps.n ? cs->deps.n : 1;
    CUgraphEdgeData *e = calloc(n, sizeof *e);
    if (!e) return false;
    free(cs->edata);
    cs->edata = e;
    cs->edata_n = n;
    return true;
}

static CUresult info_locked(struct sim_stream *s, struct sim_ctx *c, const struct cap_info *o)
{
    struct cap_stream *cs = cstream_of(s);
    if (!cs && legacy(s)) {
        for (struct capture *cap = g_caps; cap; cap = cap->next)
            for (struct cap_stream *x = cap->streams; cap->ctx == c && x; x = x->next)
                if (x->blocking) return CUDA_ERROR_STREAM_CAPTURE_IMPLICIT;
    }
    if (!cs) {
        *o->status = CU_STREAM_CAPTURE_STATUS_NONE;
        return CUDA_SUCCESS;
    }
    *o->status =
        cs->cap->invalid ? CU_STREAM_CAPTURE_STATUS_INVALIDATED : CU_STREAM_CAPTURE_STATUS_ACTIVE;
    if (o->id) *o->id = cs->cap->id;
    if (o->graph) *o->graph = (CUgraph)cs->cap->g;
    if (o->deps) *o->deps = (const CUgraphNode *)cs->deps.v;
    if (o->n) *o->n = cs->deps.n;
    if (o->edata) {
        if (!edata_fit(cs)) return CUDA_ERROR_OUT_OF_MEMORY;
        *o->edata = cs->edata;
    }
    return CUDA_SUCCESS;
}

static CUresult capture_info(CUstream h, bool pt, const struct cap_info *o)
{
    struct sim_stream *s;
    struct sim_ctx *c;
    CUresult r = sim_stream_resolve(h, pt, &s, &c);
    if (r) return r;
    if (!o->status) return CUDA_ERROR_INVALID_VALUE;
    if (!atomic_load(&g_ncaps)) { /* the common path: cuBLAS asks on every call */
        *o->status = CU_STREAM_CAPTURE_STATUS_NONE;
        return CUDA_SUCCESS;
    }
    LOCK();
    r = info_locked(s, c, o);
    UNLOCK();
    return r;
}

CUresult cuStreamIsCapturing(CUstream hStream, CUstreamCaptureStatus *captureStatus)
{
    return capture_info(hStream, false, &(struct cap_info){.status = captureStatus});
}
CUresult cuStreamIsCapturing_ptsz(CUstream hStream, CUstreamCaptureStatus *captureStatus)
{
    return capture_info(hStream, true, &(struct cap_info){.status = captureStatus});
}

CUresult cuStreamGetCaptureInfo(CUstream hStream, CUstreamCaptureStatus *st, cuuint64_t *id)
{
    return capture_info(hStream, false, &(struct cap_info){.status = st, .id = id});
}
CUresult cuStreamGetCaptureInfo_ptsz(CUstream hStream, CUstreamCaptureStatus *st, cuuint64_t *id)
{
    return capture_info(hStream, true, &(struct cap_info){.status = st, .id = id});
}

CUresult cuStreamGetCaptureInfo_v2(CUstream hStream, CUstreamCaptureStatus *st, cuuint64_t *id,
                                   CUgraph *graph, const CUgraphNode **deps, size_t *n)
{
    struct cap_info o = {st, id, graph, deps, NULL, n};
    return capture_info(hStream, false, &o);
}
CUresult cuStreamGetCaptureInfo_v2_ptsz(CUstream hStream, CUstreamCaptureStatus *st, cuuint64_t *id,
                                        CUgraph *graph, const CUgraphNode **deps, size_t *n)
{
    struct cap_info o = {st, id, graph, deps, NULL, n};
    return capture_info(hStream, true, &o);
}

CUresult cuStreamGetCaptureInfo_v3(CUstream hStream, CUstreamCaptureStatus *st, cuuint64_t *id,
                                   CUgraph *graph, const CUgraphNode **deps,
                                   const CUgraphEdgeData **edgeData, size_t *n)
{
    struct cap_info o = {st, id, graph, deps, edgeData, n};
    return capture_info(hStream, false, &o);
}
CUresult cuStreamGetCaptureInfo_v3_ptsz(CUstream hStream, CUstreamCaptureStatus *st, cuuint64_t *id,
                                        CUgraph *graph, const CUgraphNode **deps,
                                        const CUgraphEdgeData **edgeData, size_t *n)
{
    struct cap_info o = {st, id, graph, deps, edgeData, n};
    return capture_info(hStream, true, &o);
}

/* ---- editing the dependency set ------------------------------------------------------ */

static CUresult update_deps(CUstream h, CUgraphNode *deps, const CUgraphEdgeData *ed, size_t n,
                            unsigned flags, bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r) return r;
    if (flags != CU_STREAM_ADD_CAPTURE_DEPENDENCIES && flags != CU_STREAM_SET_CAPTURE_DEPENDENCIES)
        return CUDA_ERROR_INVALID_VALUE;
    LOCK();
    struct cap_stream *cs = cstream_of(s);
    if (!cs)
        r = CUDA_ERROR_ILLEGAL_STATE;
    else if (cs->cap->invalid)
        r = CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    else
        r = deps_of_graph(cs->cap->g, deps, ed, n);
    struct sim_gnode *const *v = (struct sim_gnode *const *)deps;
    if (!r && !(flags == CU_STREAM_SET_CAPTURE_DEPENDENCIES ? deps_set(&cs->deps, v, n)
                                                            : deps_add(&cs->deps, v, n)))
        r = CUDA_ERROR_OUT_OF_MEMORY;
    UNLOCK();
    return r;
}

CUresult cuStreamUpdateCaptureDependencies(CUstream hStream, CUgraphNode *dependencies,
                                           size_t numDependencies, unsigned int flags)
{
    return update_deps(hStream, dependencies, NULL, numDependencies, flags, false);
}
CUresult cuStreamUpdateCaptureDependencies_ptsz(CUstream hStream, CUgraphNode *dependencies,
                                                size_t numDependencies, unsigned int flags)
{
    return update_deps(hStream, dependencies, NULL, numDependencies, flags, true);
}
CUresult cuStreamUpdateCaptureDependencies_v2(CUstream hStream, CUgraphNode *dependencies,
                                              const CUgraphEdgeData *dependencyData,
                                              size_t numDependencies, unsigned int flags)
{
    return update_deps(hStream, dependencies, dependencyData, numDependencies, flags, false);
}
CUresult cuStreamUpdateCaptureDependencies_v2_ptsz(CUstream hStream, CUgraphNode *dependencies,
                                                   const CUgraphEdgeData *dependencyData,
                                                   size_t numDependencies, unsigned int flags)
{
    return update_deps(hStream, dependencies, dependencyData, numDependencies, flags, true);
}

CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode *mode)
{
    SIM_INIT_OR_RETURN();
    if (!mode || (unsigned)*mode > CU_STREAM_CAPTURE_MODE_RELAXED) return CUDA_ERROR_INVALID_VALUE;
    CUstreamCaptureMode old = t_mode;
    t_mode = *mode;
    *mode = old;
    return CUDA_SUCCESS;
}
