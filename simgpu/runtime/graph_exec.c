/* graph_exec.c — executable graphs: instantiation (a private clone plus a
 * topological order), launch (each node becomes ordinary stream ops in that
 * order, so ordering with other work on the stream holds), per-node updates,
 * cuGraphExecUpdate and enabling/disabling nodes. */
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#define LOCK() pthread_mutex_lock(&sim_graph_lock)
#define UNLOCK() pthread_mutex_unlock(&sim_graph_lock)

struct sim_gexec {
    struct sim_obj obj;
    struct sim_graph *g; /* private clone; every (child) graph has its order */
    cuuint64_t flags;
    pthread_mutex_t lock; /* launches and updates; taken before sim_graph_lock */
    CUevent done;         /* recorded after each launch: launches are ordered */
};

/* ---- topological order --------------------------------------------------------- */

CUresult sim_graph_topo(struct sim_graph *g, struct sim_gnode ***out)
{
    size_t n = g->nodes.n, head = 0, tail = 0;
    struct sim_gnode **q = malloc((n ? n : 1) * sizeof *q);
    if (!q) return CUDA_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++) {
        struct sim_gnode *nd = g->nodes.v[i];
        nd->idx = nd->in.n; /* remaining dependencies */
        if (!nd->idx) q[tail++] = nd;
    }
    while (head < tail) {
        struct sim_gnode *nd = q[head++];
        for (size_t j = 0; j < nd->out.n; j++)
            if (--nd->out.v[j]->idx == 0) q[tail++] = nd->out.v[j];
    }
    if (tail != n) {
        free(q);
        return CUDA_ERROR_INVALID_VALUE; /* a cycle */
    }
    *out = q;
    return CUDA_SUCCESS;
}

static CUresult prepare(struct sim_graph *g)
{
    free(g->order);
    g->order = NULL;
    CUresult r = sim_graph_topo(g, &g->order);
    for (size_t i = 0; !r && i < g->nodes.n; i++) {
        struct sim_gnode *nd = g->nodes.v[i];
        if (!nd->captured && nd->type == CU_GRAPH_NODE_TYPE_GRAPH) r = prepare(nd->u.child);
    }
    return r;
}

/* ---- handles ----------------------------------------------------------------------- */

static CUresult exec_arg(CUgraphExec h, struct sim_gexec **out)
{
    SIM_INIT_OR_RETURN();
    if (!h) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(h, SIM_KIND_GRAPH_EXEC)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_gexec *)h;
    return CUDA_SUCCESS;
}

#define KNOWN_FLAGS                                                                                \
    (CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH | CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD |        \
     CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH | CUDA_GRAPH_INSTANTIATE_FLAG_USE_NODE_PRIORITY)

static CUresult instantiate(CUgraphExec *ph, CUgraph hg, cuuint64_t flags, CUgraphNode *err_node)
{
    struct sim_graph *g;
    CUresult r = sim_graph_arg(hg, &g);
    if (r) return r;
    if (!ph || (flags & ~(cuuint64_t)KNOWN_FLAGS)) return CUDA_ERROR_INVALID_VALUE;
    if (flags & CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH) {
        sim_warn("device-launchable graphs are not supported by simgpu");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    struct sim_gexec *ex = calloc(1, sizeof *ex);
    if (!ex) return CUDA_ERROR_OUT_OF_MEMORY;
    LOCK();
    r = sim_graph_clone(g, false, &ex->g);
    if (!r) r = prepare(ex->g);
    UNLOCK();
    if (r) {
        if (err_node) *err_node = NULL;
        sim_graph_free(ex->g);
        free(ex);
        return r;
    }
    ex->flags = flags;
    pthread_mutex_init(&ex->lock, NULL);
    sim_handle_add(&ex->obj, SIM_KIND_GRAPH_EXEC);
    *ph = (CUgraphExec)ex;
    return CUDA_SUCCESS;
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph,
                                     unsigned long long flags)
{
    if (flags & CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD) return CUDA_ERROR_INVALID_VALUE;
    return instantiate(phGraphExec, hGraph, flags, NULL);
}

static CUresult instantiate_log(CUgraphExec *ph, CUgraph hg, CUgraphNode *err, char *log,
                                size_t size)
{
    if (log && size) log[0] = 0;
    if (err) *err = NULL;
    return instantiate(ph, hg, 0, err);
}

CUresult cuGraphInstantiate(CUgraphExec *phGraphExec, CUgraph hGraph, CUgraphNode *phErrorNode,
                            char *logBuffer, size_t bufferSize)
{
    return instantiate_log(phGraphExec, hGraph, phErrorNode, logBuffer, bufferSize);
}

CUresult cuGraphInstantiate_v2(CUgraphExec *phGraphExec, CUgraph hGraph, CUgraphNode *phErrorNode,
                               char *logBuffer, size_t bufferSize)
{
    return instantiate_log(phGraphExec, hGraph, phErrorNode, logBuffer, bufferSize);
}

static CUresult instantiate_params(CUgraphExec *ph, CUgraph hg, CUDA_GRAPH_INSTANTIATE_PARAMS *p,
                                   bool pt)
{
    SIM_INIT_OR_RETURN();
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    struct sim_stream *s;
    CUresult r = CUDA_SUCCESS;
    if (p->flags & CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD)
        r = sim_stream_resolve(p->hUploadStream, pt, &s, NULL);
    p->hErrNode_out = NULL;
    if (!r) r = instantiate(ph, hg, p->flags, &p->hErrNode_out);
    p->result_out = r == CUDA_SUCCESS               ? CUDA_GRAPH_INSTANTIATE_SUCCESS
                    : r == CUDA_ERROR_INVALID_VALUE ? CUDA_GRAPH_INSTANTIATE_INVALID_STRUCTURE
                                                    : CUDA_GRAPH_INSTANTIATE_ERROR;
    return r;
}

CUresult cuGraphInstantiateWithParams(CUgraphExec *phGraphExec, CUgraph hGraph,
                                      CUDA_GRAPH_INSTANTIATE_PARAMS *instantiateParams)
{
    return instantiate_params(phGraphExec, hGraph, instantiateParams, false);
}

CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec *phGraphExec, CUgraph hGraph,
                                           CUDA_GRAPH_INSTANTIATE_PARAMS *instantiateParams)
{
    return instantiate_params(phGraphExec, hGraph, instantiateParams, true);
}

CUresult cuGraphExecGetFlags(CUgraphExec hGraphExec, cuuint64_t *flags)
{
    struct sim_gexec *ex;
    CUresult r = exec_arg(hGraphExec, &ex);
    if (!r && !flags) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) *flags = ex->flags;
    return r;
}

CUresult cuGraphExecDestroy(CUgraphExec hGraphExec)
{
    struct sim_gexec *ex;
    CUresult r = exec_arg(hGraphExec, &ex);
    if (r) return r;
    sim_handle_remove(&ex->obj);
    pthread_mutex_lock(&ex->lock); /* a launch in progress finishes queueing first */
    pthread_mutex_unlock(&ex->lock);
    if (ex->done) cuEventDestroy_v2(ex->done);
    LOCK();
    sim_graph_free(ex->g);
    UNLOCK();
    pthread_mutex_destroy(&ex->lock);
    free(ex);
    return CUDA_SUCCESS;
}

/* ---- launch: stream ops ------------------------------------------------------------- */

static CUresult op_copy(void *p)
{
    const struct sim_gcopy *o = p;
    unsigned char *dst = (unsigned char *)o->dst;
    const unsigned char *src = (const unsigned char *)o->src;
    for (size_t z = 0; z < o->d; z++)
        for (size_t y = 0; y < o->h; y++)
            memmove(dst + z * o->dslice + y * o->dpitch, src + z * o->sslice + y * o->spitch, o->w);
    return CUDA_SUCCESS;
}

static CUresult op_memset(void *p)
{
    const CUDA_MEMSET_NODE_PARAMS *o = p;
    for (size_t y = 0; y < o->height; y++) {
        unsigned char *row = (unsigned char *)(uintptr_t)(o->dst + y * o->pitch);
        if (o->elementSize == 1) {
            memset(row, (int)(o->value & 0xff), o->width);
        } else if (o->elementSize == 2) {
            uint16_t v = (uint16_t)o->value;
            for (size_t i = 0; i < o->width; i++)
                memcpy(row + 2 * i, &v, 2);
        } else {
            uint32_t v = o->value;
            for (size_t i = 0; i < o->width; i++)
                memcpy(row + 4 * i, &v, 4);
        }
    }
    return CUDA_SUCCESS;
}

static CUresult op_host(void *p)
{
    const CUDA_HOST_NODE_PARAMS *h = p;
    h->fn(h->userData);
    return CUDA_SUCCESS;
}

static CUresult run_kernel(const struct sim_gkernel *k, struct sim_stream *s)
{
    struct sim_ctx *c = sim_stream_ctx(s);
    if (!k->func && k->ctx && sim_handle_ok(k->ctx, SIM_KIND_CTX)) c = (struct sim_ctx *)k->ctx;
    struct sim_func *f;
    CUfunction h = k->func ? k->func : (CUfunction)k->kern;
    CUresult r = sim_func_resolve(h, c, &f);
    if (r) return r;
    size_t size = k->psize;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, k->params, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
                     CU_LAUNCH_PARAM_END};
    return sim_launch(f, s, k->grid, k->block, k->smem, NULL, extra);
}

static CUresult run_graph(struct sim_graph *g, struct sim_stream *s);

static CUresult run_event(const struct sim_gnode *nd, struct sim_stream *s)
{
    struct sim_event *e;
    CUresult r = sim_event_resolve(nd->u.ev, &e);
    if (r) return r;
    if (nd->type == CU_GRAPH_NODE_TYPE_EVENT_RECORD) return sim_event_record(e, s);
    return sim_stream_wait_event(s, e);
}

static CUresult run_node(struct sim_gnode *nd, struct sim_stream *s)
{
    if (nd->captured) return sim_stream_enqueue(s, nd->u.op.fn, nd->u.op.payload, nd->u.op.len);
    if (nd->disabled) return CUDA_SUCCESS;
    CUresult r;
    switch (nd->type) {
    case CU_GRAPH_NODE_TYPE_KERNEL:
        return run_kernel(&nd->u.k, s);
    case CU_GRAPH_NODE_TYPE_MEMCPY: {
        struct sim_gcopy o;
        if ((r = sim_gcopy_plan(&nd->u.cp.p, &o))) return r;
        return sim_stream_enqueue(s, op_copy, &o, sizeof o);
    }
    case CU_GRAPH_NODE_TYPE_MEMSET:
        if ((r = sim_gmemset_check(&nd->u.ms.p))) return r;
        return sim_stream_enqueue(s, op_memset, &nd->u.ms.p, sizeof nd->u.ms.p);
    case CU_GRAPH_NODE_TYPE_HOST:
        return sim_stream_enqueue(s, op_host, &nd->u.host, sizeof nd->u.host);
    case CU_GRAPH_NODE_TYPE_GRAPH:
        return run_graph(nd->u.child, s);
    case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
    case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
        return run_event(nd, s);
    default:
        return CUDA_SUCCESS;
    }
}

static CUresult run_graph(struct sim_graph *g, struct sim_stream *s)
{
    for (size_t i = 0; i < g->nodes.n; i++) {
        CUresult r = run_node(g->order[i], s);
        if (r) return r;
    }
    return CUDA_SUCCESS;
}

/* Launches of one executable graph are ordered even across streams. */
static void order_after_previous(struct sim_gexec *ex, struct sim_stream *s)
{
    struct sim_event *e;
    if (!ex->done && cuEventCreate(&ex->done, CU_EVENT_DISABLE_TIMING)) ex->done = NULL;
    if (ex->done && !sim_event_resolve(ex->done, &e)) sim_stream_wait_event(s, e);
}

static void mark_launch_done(struct sim_gexec *ex, struct sim_stream *s)
{
    struct sim_event *e;
    if (ex->done && !sim_event_resolve(ex->done, &e)) sim_event_record(e, s);
}

static CUresult launch(CUgraphExec h, CUstream hs, bool pt)
{
    struct sim_gexec *ex;
    struct sim_stream *s;
    CUresult r = exec_arg(h, &ex);
    if (!r) r = sim_stream_resolve(hs, pt, &s, NULL);
    if (r) return r;
    pthread_mutex_lock(&ex->lock);
    bool capturing = sim_stream_get_capture(s) != NULL;
    if (!capturing) order_after_previous(ex, s);
    r = run_graph(ex->g, s);
    if (!capturing) mark_launch_done(ex, s);
    pthread_mutex_unlock(&ex->lock);
    return r;
}

CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream)
{
    return launch(hGraphExec, hStream, false);
}

CUresult cuGraphLaunch_ptsz(CUgraphExec hGraphExec, CUstream hStream)
{
    return launch(hGraphExec, hStream, true);
}

static CUresult upload(CUgraphExec h, CUstream hs, bool pt)
{
    struct sim_gexec *ex;
    struct sim_stream *s;
    CUresult r = exec_arg(h, &ex);
    if (!r) r = sim_stream_resolve(hs, pt, &s, NULL);
    return r; /* nothing to upload: device memory is host memory */
}

CUresult cuGraphUpload(CUgraphExec hGraphExec, CUstream hStream)
{
    return upload(hGraphExec, hStream, false);
}

CUresult cuGraphUpload_ptsz(CUgraphExec hGraphExec, CUstream hStream)
{
    return upload(hGraphExec, hStream, true);
}

/* ---- per-node updates of an executable graph ---------------------------------------- */

typedef CUresult (*exec_node_fn)(struct sim_gnode *nd, const void *arg);

/* Run fn on the executable graph's copy of hNode (type checked unless < 0). */
static CUresult with_exec_node(CUgraphExec h, CUgraphNode hNode, int type, exec_node_fn fn,
                               const void *arg)
{
    struct sim_gexec *ex;
    struct sim_gnode *orig;
    CUresult r = exec_arg(h, &ex);
    if (r) return r;
    pthread_mutex_lock(&ex->lock);
    LOCK();
    r = sim_gnode_arg(hNode, &orig);
    struct sim_gnode *nd = r ? NULL : sim_graph_find_orig(ex->g, orig);
    if (!r && !nd) r = CUDA_ERROR_INVALID_VALUE;
    if (!r && type >= 0 && (nd->captured || nd->type != (CUgraphNodeType)type))
        r = CUDA_ERROR_INVALID_VALUE;
    if (!r) r = fn(nd, arg);
    UNLOCK();
    pthread_mutex_unlock(&ex->lock);
    return r;
}

static CUresult set_fn(struct sim_gnode *nd, const void *arg)
{
    return sim_gnode_set(nd, arg);
}

static CUresult exec_set(CUgraphExec h, CUgraphNode n, const struct sim_gparams *p)
{
    return with_exec_node(h, n, (int)p->type, set_fn, p);
}

CUresult cuGraphExecKernelNodeSetParams_v2(CUgraphExec hGraphExec, CUgraphNode hNode,
                                           const CUDA_KERNEL_NODE_PARAMS *nodeParams)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_KERNEL, .kernel = nodeParams};
    return exec_set(hGraphExec, hNode, &p);
}

CUresult cuGraphExecKernelNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                        const CUDA_KERNEL_NODE_PARAMS_v1 *v)
{
    if (!v) return cuGraphExecKernelNodeSetParams_v2(hGraphExec, hNode, NULL);
    CUDA_KERNEL_NODE_PARAMS k = {v->func,         v->gridDimX,  v->gridDimY,  v->gridDimZ,
                                 v->blockDimX,    v->blockDimY, v->blockDimZ, v->sharedMemBytes,
                                 v->kernelParams, v->extra,     NULL,         NULL};
    return cuGraphExecKernelNodeSetParams_v2(hGraphExec, hNode, &k);
}

CUresult cuGraphExecMemcpyNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                        const CUDA_MEMCPY3D *copyParams, CUcontext ctx)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_MEMCPY, .copy = copyParams, .ctx = ctx};
    return exec_set(hGraphExec, hNode, &p);
}

CUresult cuGraphExecMemsetNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                        const CUDA_MEMSET_NODE_PARAMS *memsetParams, CUcontext ctx)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_MEMSET, .memset = memsetParams, .ctx = ctx};
    return exec_set(hGraphExec, hNode, &p);
}

CUresult cuGraphExecHostNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                      const CUDA_HOST_NODE_PARAMS *nodeParams)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_HOST, .host = nodeParams};
    return exec_set(hGraphExec, hNode, &p);
}

CUresult cuGraphExecEventRecordNodeSetEvent(CUgraphExec hGraphExec, CUgraphNode hNode,
                                            CUevent event)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_EVENT_RECORD, .event = event};
    return exec_set(hGraphExec, hNode, &p);
}

CUresult cuGraphExecEventWaitNodeSetEvent(CUgraphExec hGraphExec, CUgraphNode hNode, CUevent event)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_WAIT_EVENT, .event = event};
    return exec_set(hGraphExec, hNode, &p);
}

CUresult cuGraphExecNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                  CUgraphNodeParams *nodeParams)
{
    SIM_INIT_OR_RETURN();
    struct sim_gparams p;
    CUDA_MEMSET_NODE_PARAMS ms;
    CUresult r = sim_gparams_for_set(nodeParams, &p, &ms);
    if (r) return r;
    return exec_set(hGraphExec, hNode, &p);
}

static bool can_disable(const struct sim_gnode *nd)
{
    return !nd->captured &&
           (nd->type == CU_GRAPH_NODE_TYPE_KERNEL || nd->type == CU_GRAPH_NODE_TYPE_MEMCPY ||
            nd->type == CU_GRAPH_NODE_TYPE_MEMSET);
}

static CUresult enable_fn(struct sim_gnode *nd, const void *arg)
{
    if (!can_disable(nd)) return CUDA_ERROR_INVALID_VALUE;
    nd->disabled = !*(const unsigned *)arg;
    return CUDA_SUCCESS;
}

static CUresult enabled_fn(struct sim_gnode *nd, const void *arg)
{
    if (!arg || !can_disable(nd)) return CUDA_ERROR_INVALID_VALUE;
    *(unsigned *)arg = !nd->disabled;
    return CUDA_SUCCESS;
}

CUresult cuGraphNodeSetEnabled(CUgraphExec hGraphExec, CUgraphNode hNode, unsigned int isEnabled)
{
    return with_exec_node(hGraphExec, hNode, -1, enable_fn, &isEnabled);
}

CUresult cuGraphNodeGetEnabled(CUgraphExec hGraphExec, CUgraphNode hNode, unsigned int *isEnabled)
{
    return with_exec_node(hGraphExec, hNode, -1, enabled_fn, isEnabled);
}

/* ---- whole-graph update ------------------------------------------------------------------ */

static void update_fail(CUgraphExecUpdateResultInfo *info, CUgraphExecUpdateResult why,
                        struct sim_gnode *node, struct sim_gnode *from)
{
    info->result = why;
    info->errorNode = (CUgraphNode)node;
    info->errorFromNode = (CUgraphNode)from;
}

/* Same nodes (in creation order), same types, same edges; recursively. */
static bool same_topology(struct sim_graph *ex, struct sim_graph *g,
                          CUgraphExecUpdateResultInfo *info)
{
    size_t n = g->nodes.n;
    if (ex->nodes.n != n)
        return update_fail(info, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, NULL, NULL), false;
    for (size_t i = 0; i < n; i++)
        g->nodes.v[i]->idx = ex->nodes.v[i]->idx = i;
    for (size_t i = 0; i < n; i++) {
        struct sim_gnode *a = ex->nodes.v[i], *b = g->nodes.v[i];
        if (a->type != b->type || a->captured != b->captured)
            return update_fail(info, CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED, b, NULL), false;
        if (a->out.n != b->out.n || a->in.n != b->in.n)
            return update_fail(info, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, b, NULL), false;
        for (size_t j = 0; j < b->out.n; j++)
            if (!sim_nodevec_has(&a->out, ex->nodes.v[b->out.v[j]->idx]))
                return update_fail(info, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, b->out.v[j],
                                   b),
                       false;
    }
    for (size_t i = 0; i < n; i++) {
        struct sim_gnode *a = ex->nodes.v[i], *b = g->nodes.v[i];
        if (!b->captured && b->type == CU_GRAPH_NODE_TYPE_GRAPH &&
            !same_topology(a->u.child, b->u.child, info))
            return false;
    }
    return true;
}

static CUresult apply_params(struct sim_graph *ex, struct sim_graph *g)
{
    for (size_t i = 0; i < g->nodes.n; i++) {
        struct sim_gnode *a = ex->nodes.v[i], *b = g->nodes.v[i];
        CUresult r;
        if (!b->captured && b->type == CU_GRAPH_NODE_TYPE_GRAPH) {
            if ((r = apply_params(a->u.child, b->u.child))) return r;
            continue;
        }
        struct sim_gnode tmp = {.g = ex};
        if ((r = sim_gnode_copy_params(&tmp, b))) return r;
        sim_gnode_free_params(a);
        a->u = tmp.u;
    }
    return CUDA_SUCCESS;
}

static CUresult exec_update(CUgraphExec h, CUgraph hg, CUgraphExecUpdateResultInfo *info)
{
    struct sim_gexec *ex;
    struct sim_graph *g;
    CUresult r = exec_arg(h, &ex);
    if (!r) r = sim_graph_arg(hg, &g);
    if (r) return r;
    if (!info) return CUDA_ERROR_INVALID_VALUE;
    update_fail(info, CU_GRAPH_EXEC_UPDATE_SUCCESS, NULL, NULL);
    pthread_mutex_lock(&ex->lock);
    LOCK();
    if (!same_topology(ex->g, g, info))
        r = CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE;
    else if ((r = apply_params(ex->g, g)))
        update_fail(info, CU_GRAPH_EXEC_UPDATE_ERROR, NULL, NULL);
    UNLOCK();
    pthread_mutex_unlock(&ex->lock);
    return r;
}

CUresult cuGraphExecUpdate_v2(CUgraphExec hGraphExec, CUgraph hGraph,
                              CUgraphExecUpdateResultInfo *resultInfo)
{
    return exec_update(hGraphExec, hGraph, resultInfo);
}

CUresult cuGraphExecUpdate(CUgraphExec hGraphExec, CUgraph hGraph, CUgraphNode *hErrorNode_out,
                           CUgraphExecUpdateResult *updateResult_out)
{
    CUgraphExecUpdateResultInfo info = {0};
    if (!hErrorNode_out || !updateResult_out) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = exec_update(hGraphExec, hGraph, &info);
    *hErrorNode_out = info.errorNode;
    *updateResult_out = info.result;
    return r;
}

static CUresult child_update(struct sim_gnode *nd, const void *arg)
{
    struct sim_graph *g;
    CUgraphExecUpdateResultInfo info;
    CUresult r = sim_graph_arg((CUgraph)arg, &g);
    if (r) return r;
    if (!same_topology(nd->u.child, g, &info)) return CUDA_ERROR_INVALID_VALUE;
    return apply_params(nd->u.child, g);
}

CUresult cuGraphExecChildGraphNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                            CUgraph childGraph)
{
    return with_exec_node(hGraphExec, hNode, CU_GRAPH_NODE_TYPE_GRAPH, child_update, childGraph);
}
