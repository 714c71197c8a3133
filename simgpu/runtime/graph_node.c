/* graph_node.c — the parameters of each node kind (kernel, memcpy, memset,
 * host, child graph, event record/wait, empty): validation when they are
 * given, deep copies for clones, and the cuGraphAdd*Node / *Get/SetParams
 * entry points including the generic cuGraphAddNode / cuGraphNodeSetParams. */
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#define LOCK() pthread_mutex_lock(&sim_graph_lock)
#define UNLOCK() pthread_mutex_unlock(&sim_graph_lock)
#define ANY_MEM (SIM_MEM_DEVICE | SIM_MEM_HOST | SIM_MEM_REGISTERED | SIM_MEM_MANAGED | SIM_MEM_VMM)

CUresult sim_gctx_arg(CUcontext h, CUcontext *out)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_resolve(h, &c);
    if (!r) *out = (CUcontext)c;
    return r;
}

/* ---- kernel ------------------------------------------------------------------ */

void sim_gkernel_free(struct sim_gkernel *k)
{
    free(k->params);
    free(k->kparams);
    k->params = NULL;
    k->kparams = NULL;
}

/* Pointers to each parameter inside the packed buffer, by the kernel's layout. */
static CUresult kparams_build(CUfunction f, unsigned char *buf, void ***out, size_t *n)
{
    size_t off, size, count = 0;
    while (count < 4096 && cuFuncGetParamInfo(f, count, &off, &size) == CUDA_SUCCESS)
        count++;
    void **v = malloc((count ? count : 1) * sizeof *v);
    if (!v) return CUDA_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < count; i++) {
        cuFuncGetParamInfo(f, i, &off, &size);
        v[i] = buf + off;
    }
    *out = v;
    *n = count;
    return CUDA_SUCCESS;
}

static CUresult kernel_func(const CUDA_KERNEL_NODE_PARAMS *p, struct sim_func **f)
{
    CUfunction h = p->func ? p->func : (CUfunction)p->kern;
    if (!h) return CUDA_ERROR_INVALID_VALUE;
    struct sim_ctx *c = NULL;
    if (!p->func && p->ctx) {
        CUresult r = sim_ctx_resolve(p->ctx, &c);
        if (r) return r;
    }
    return sim_func_resolve(h, c, f);
}

CUresult sim_gkernel_set(struct sim_gkernel *k, const CUDA_KERNEL_NODE_PARAMS *p)
{
    if (!p->gridDimX || !p->gridDimY || !p->gridDimZ || !p->blockDimX || !p->blockDimY ||
        !p->blockDimZ)
        return CUDA_ERROR_INVALID_VALUE;
    struct sim_func *f;
    CUresult r = kernel_func(p, &f);
    if (r) return r;
    size_t ps = sim_func_params_size(f), np = 0;
    unsigned char *buf = calloc(1, ps ? ps : 1);
    void **kp = NULL;
    if (!buf) return CUDA_ERROR_OUT_OF_MEMORY;
    r = sim_func_pack_params(f, p->kernelParams, p->extra, buf);
    if (!r) r = kparams_build((CUfunction)f, buf, &kp, &np);
    if (r) {
        free(buf);
        return r;
    }
    sim_gkernel_free(k);
    *k = (struct sim_gkernel){.func = p->func,
                              .kern = p->func ? NULL : p->kern,
                              .ctx = p->func ? NULL : p->ctx,
                              .grid = {p->gridDimX, p->gridDimY, p->gridDimZ},
                              .block = {p->blockDimX, p->blockDimY, p->blockDimZ},
                              .smem = p->sharedMemBytes,
                              .params = buf,
                              .psize = ps,
                              .kparams = kp,
                              .nparams = np};
    return CUDA_SUCCESS;
}

static CUresult kernel_dup(struct sim_gkernel *d, const struct sim_gkernel *s)
{
    *d = *s;
    d->params = malloc(s->psize ? s->psize : 1);
    d->kparams = malloc((s->nparams ? s->nparams : 1) * sizeof(void *));
    if (!d->params || !d->kparams) {
        sim_gkernel_free(d);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    memcpy(d->params, s->params, s->psize);
    for (size_t i = 0; i < s->nparams; i++)
        d->kparams[i] = d->params + ((unsigned char *)s->kparams[i] - s->params);
    return CUDA_SUCCESS;
}

static void kernel_get(const struct sim_gkernel *k, CUDA_KERNEL_NODE_PARAMS *p)
{
    *p = (CUDA_KERNEL_NODE_PARAMS){.func = k->func,
                                   .gridDimX = k->grid[0],
                                   .gridDimY = k->grid[1],
                                   .gridDimZ = k->grid[2],
                                   .blockDimX = k->block[0],
                                   .blockDimY = k->block[1],
                                   .blockDimZ = k->block[2],
                                   .sharedMemBytes = k->smem,
                                   .kernelParams = k->kparams,
                                   .extra = NULL,
                                   .kern = k->kern,
                                   .ctx = k->ctx};
}

/* ---- memcpy ------------------------------------------------------------------- */

struct side {
    CUmemorytype type;
    uintptr_t base;
    size_t x, y, z, pitch, height;
};

/* Start address of one side, its row pitch and slice, validated. */
static CUresult side_plan(const struct side *sd, size_t w, size_t h, size_t d, uintptr_t *start,
                          size_t *pitch_out, size_t *slice_out)
{
    if (sd->type == CU_MEMORYTYPE_ARRAY) {
        sim_warn("graph memcpy nodes with CUDA arrays are not supported by simgpu");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (sd->type != CU_MEMORYTYPE_HOST && sd->type != CU_MEMORYTYPE_DEVICE &&
        sd->type != CU_MEMORYTYPE_UNIFIED)
        return CUDA_ERROR_INVALID_VALUE;
    struct sim_copy_layout lay;
    size_t at[3] = {sd->x, sd->y, sd->z}, dims[3] = {w, h, d};
    if (!sd->base || !sim_copy_layout(sd->base, at, sd->pitch, sd->height, dims, &lay))
        return CUDA_ERROR_INVALID_VALUE;
    *start = sd->base + lay.off;
    *pitch_out = lay.pitch;
    *slice_out = lay.slice;
    if (sd->type == CU_MEMORYTYPE_DEVICE) return sim_mem_check(*start, lay.ext, ANY_MEM);
    return sim_copy_check(*start, *start, lay.ext);
}

CUresult sim_gcopy_plan(const CUDA_MEMCPY3D *p, struct sim_gcopy *o)
{
    if (p->srcLOD || p->dstLOD || p->reserved0 || p->reserved1) return CUDA_ERROR_INVALID_VALUE;
    size_t w = p->WidthInBytes, h = p->Height, d = p->Depth;
    if (!w || !h || !d) return CUDA_ERROR_INVALID_VALUE;
    struct side s = {p->srcMemoryType,
                     p->srcMemoryType == CU_MEMORYTYPE_HOST ? (uintptr_t)p->srcHost
                                                            : (uintptr_t)p->srcDevice,
                     p->srcXInBytes,
                     p->srcY,
                     p->srcZ,
                     p->srcPitch,
                     p->srcHeight};
    struct side t = {p->dstMemoryType,
                     p->dstMemoryType == CU_MEMORYTYPE_HOST ? (uintptr_t)p->dstHost
                                                            : (uintptr_t)p->dstDevice,
                     p->dstXInBytes,
                     p->dstY,
                     p->dstZ,
                     p->dstPitch,
                     p->dstHeight};
    *o = (struct sim_gcopy){.w = w, .h = h, .d = d};
    CUresult r = side_plan(&s, w, h, d, &o->src, &o->spitch, &o->sslice);
    if (!r) r = side_plan(&t, w, h, d, &o->dst, &o->dpitch, &o->dslice);
    return r;
}

/* ---- memset ------------------------------------------------------------------- */

CUresult sim_gmemset_check(const CUDA_MEMSET_NODE_PARAMS *p)
{
    unsigned e = p->elementSize;
    if (e != 1 && e != 2 && e != 4) return CUDA_ERROR_INVALID_VALUE;
    if (!p->dst || p->dst % e || !p->width || !p->height) return CUDA_ERROR_INVALID_VALUE;
    size_t row, ext;
    if (__builtin_mul_overflow(p->width, (size_t)e, &row)) return CUDA_ERROR_INVALID_VALUE;
    if (p->height > 1 && (p->pitch < row || p->pitch % e)) return CUDA_ERROR_INVALID_VALUE;
    if (__builtin_mul_overflow(p->height - 1, p->pitch, &ext) ||
        __builtin_add_overflow(ext, row, &ext))
        return CUDA_ERROR_INVALID_VALUE;
    return sim_mem_check((uintptr_t)p->dst, ext, ANY_MEM);
}

/* ---- any kind ----------------------------------------------------------------- */

static CUresult event_arg(CUevent e)
{
    if (!e) return CUDA_ERROR_INVALID_VALUE;
    return sim_handle_ok(e, SIM_KIND_EVENT) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

static CUresult set_child(struct sim_gnode *nd, const struct sim_gparams *p)
{
    struct sim_graph *c, *src;
    CUresult r = sim_graph_arg(p->child, &src);
    if (r) return r == CUDA_ERROR_INVALID_HANDLE ? CUDA_ERROR_INVALID_VALUE : r;
    if (src == nd->g || src->parent) return CUDA_ERROR_INVALID_VALUE;
    if (p->move) {
        if (src->capturing || !src->registered) return CUDA_ERROR_INVALID_VALUE;
        c = src;
    } else if ((r = sim_graph_clone(src, nd->g->registered, &c))) {
        return r;
    }
    if (nd->u.child) sim_graph_free(nd->u.child);
    c->parent = nd;
    nd->u.child = c;
    return CUDA_SUCCESS;
}

static CUresult set_copy(struct sim_gnode *nd, const struct sim_gparams *p)
{
    struct sim_gcopy plan;
    CUcontext c;
    if (!p->copy) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_gctx_arg(p->ctx, &c);
    if (!r) r = sim_gcopy_plan(p->copy, &plan);
    if (r) return r;
    nd->u.cp.p = *p->copy;
    nd->u.cp.ctx = c;
    return CUDA_SUCCESS;
}

static CUresult set_memset(struct sim_gnode *nd, const struct sim_gparams *p)
{
    CUcontext c;
    if (!p->memset) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_gctx_arg(p->ctx, &c);
    if (!r) r = sim_gmemset_check(p->memset);
    if (r) return r;
    nd->u.ms.p = *p->memset;
    nd->u.ms.ctx = c;
    return CUDA_SUCCESS;
}

CUresult sim_gnode_set(struct sim_gnode *nd, const struct sim_gparams *p)
{
    CUresult r;
    if (nd->captured || p->type != nd->type) return CUDA_ERROR_INVALID_VALUE;
    switch (p->type) {
    case CU_GRAPH_NODE_TYPE_KERNEL:
        return p->kernel ? sim_gkernel_set(&nd->u.k, p->kernel) : CUDA_ERROR_INVALID_VALUE;
    case CU_GRAPH_NODE_TYPE_MEMCPY:
        return set_copy(nd, p);
    case CU_GRAPH_NODE_TYPE_MEMSET:
        return set_memset(nd, p);
    case CU_GRAPH_NODE_TYPE_HOST:
        if (!p->host || !p->host->fn) return CUDA_ERROR_INVALID_VALUE;
        nd->u.host = *p->host;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_GRAPH:
        return set_child(nd, p);
    case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
    case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
        if ((r = event_arg(p->event))) return r;
        nd->u.ev = p->event;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_EMPTY:
        return CUDA_SUCCESS;
    default:
        sim_warn("graph node type %d is not supported by simgpu", (int)p->type);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
}

CUresult sim_gnode_copy_params(struct sim_gnode *dst, const struct sim_gnode *src)
{
    dst->type = src->type;
    dst->captured = src->captured;
    if (src->captured) {
        dst->u.op = src->u.op;
        dst->u.op.payload = malloc(src->u.op.len ? src->u.op.len : 1);
        if (!dst->u.op.payload) return CUDA_ERROR_OUT_OF_MEMORY;
        memcpy(dst->u.op.payload, src->u.op.payload, src->u.op.len);
        return CUDA_SUCCESS;
    }
    if (src->type == CU_GRAPH_NODE_TYPE_KERNEL) return kernel_dup(&dst->u.k, &src->u.k);
    if (src->type != CU_GRAPH_NODE_TYPE_GRAPH) {
        dst->u = src->u;
        return CUDA_SUCCESS;
    }
    struct sim_graph *c;
    CUresult r = sim_graph_clone(src->u.child, dst->g->registered, &c);
    if (r) return r;
    c->parent = dst;
    dst->u.child = c;
    return CUDA_SUCCESS;
}

/* ---- adding nodes ---------------------------------------------------------------- */

static CUresult add_node(CUgraphNode *ph, CUgraph hg, const CUgraphNode *deps, size_t n,
                         const struct sim_gparams *p)
{
    struct sim_graph *g;
    struct sim_gnode *nd;
    LOCK();
    CUresult r = sim_graph_arg(hg, &g);
    if (!r && !ph) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) r = sim_graph_add_node(g, deps, n, p->type, &nd);
    if (!r && (r = sim_gnode_set(nd, p))) sim_gnode_discard(nd);
    if (!r) *ph = (CUgraphNode)nd;
    UNLOCK();
    return r;
}

CUresult cuGraphAddKernelNode_v2(CUgraphNode *phGraphNode, CUgraph hGraph,
                                 const CUgraphNode *dependencies, size_t numDependencies,
                                 const CUDA_KERNEL_NODE_PARAMS *nodeParams)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_KERNEL, .kernel = nodeParams};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

static CUDA_KERNEL_NODE_PARAMS kernel_from_v1(const CUDA_KERNEL_NODE_PARAMS_v1 *v)
{
    return (CUDA_KERNEL_NODE_PARAMS){v->func,         v->gridDimX,  v->gridDimY,  v->gridDimZ,
                                     v->blockDimX,    v->blockDimY, v->blockDimZ, v->sharedMemBytes,
                                     v->kernelParams, v->extra,     NULL,         NULL};
}

CUresult cuGraphAddKernelNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                              const CUgraphNode *dependencies, size_t numDependencies,
                              const CUDA_KERNEL_NODE_PARAMS_v1 *nodeParams)
{
    if (!nodeParams)
        return cuGraphAddKernelNode_v2(phGraphNode, hGraph, dependencies, numDependencies, NULL);
    CUDA_KERNEL_NODE_PARAMS k = kernel_from_v1(nodeParams);
    return cuGraphAddKernelNode_v2(phGraphNode, hGraph, dependencies, numDependencies, &k);
}

CUresult cuGraphAddMemcpyNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                              const CUgraphNode *dependencies, size_t numDependencies,
                              const CUDA_MEMCPY3D *copyParams, CUcontext ctx)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_MEMCPY, .copy = copyParams, .ctx = ctx};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult cuGraphAddMemsetNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                              const CUgraphNode *dependencies, size_t numDependencies,
                              const CUDA_MEMSET_NODE_PARAMS *memsetParams, CUcontext ctx)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_MEMSET, .memset = memsetParams, .ctx = ctx};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult cuGraphAddHostNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                            const CUgraphNode *dependencies, size_t numDependencies,
                            const CUDA_HOST_NODE_PARAMS *nodeParams)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_HOST, .host = nodeParams};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult cuGraphAddChildGraphNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                  const CUgraphNode *dependencies, size_t numDependencies,
                                  CUgraph childGraph)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_GRAPH, .child = childGraph};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult cuGraphAddEmptyNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                             const CUgraphNode *dependencies, size_t numDependencies)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_EMPTY};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult cuGraphAddEventRecordNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                   const CUgraphNode *dependencies, size_t numDependencies,
                                   CUevent event)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_EVENT_RECORD, .event = event};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult cuGraphAddEventWaitNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                 const CUgraphNode *dependencies, size_t numDependencies,
                                 CUevent event)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_WAIT_EVENT, .event = event};
    return add_node(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult cuGraphAddMemAllocNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                const CUgraphNode *dependencies, size_t numDependencies,
                                CUDA_MEM_ALLOC_NODE_PARAMS *nodeParams)
{
    SIM_INIT_OR_RETURN();
    (void)phGraphNode, (void)hGraph, (void)dependencies, (void)numDependencies, (void)nodeParams;
    sim_warn("cuGraphAddMemAllocNode: memory allocation nodes are not supported by simgpu");
    return CUDA_ERROR_NOT_SUPPORTED;
}

CUresult cuGraphAddMemFreeNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                               const CUgraphNode *dependencies, size_t numDependencies,
                               CUdeviceptr dptr)
{
    SIM_INIT_OR_RETURN();
    (void)phGraphNode, (void)hGraph, (void)dependencies, (void)numDependencies, (void)dptr;
    sim_warn("cuGraphAddMemFreeNode: memory free nodes are not supported by simgpu");
    return CUDA_ERROR_NOT_SUPPORTED;
}

/* ---- the generic form ------------------------------------------------------------ */

static bool zero_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

CUresult sim_gparams_for_set(const CUgraphNodeParams *np, struct sim_gparams *p,
                             CUDA_MEMSET_NODE_PARAMS *ms)
{
    CUresult r = sim_gparams_from(np, p, ms);
    if (r == CUDA_SUCCESS && p->type == CU_GRAPH_NODE_TYPE_GRAPH) return CUDA_ERROR_NOT_SUPPORTED;
    return r;
}

CUresult sim_gparams_from(const CUgraphNodeParams *np, struct sim_gparams *p,
                          CUDA_MEMSET_NODE_PARAMS *ms)
{
    if (!np || !zero_bytes(np->reserved0, sizeof np->reserved0) || np->reserved2)
        return CUDA_ERROR_INVALID_VALUE;
    *p = (struct sim_gparams){.type = np->type};
    switch (np->type) {
    case CU_GRAPH_NODE_TYPE_KERNEL:
        p->kernel = (const CUDA_KERNEL_NODE_PARAMS *)&np->kernel;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_MEMCPY:
        if (np->memcpy.flags || np->memcpy.reserved) return CUDA_ERROR_INVALID_VALUE;
        p->copy = &np->memcpy.copyParams;
        p->ctx = np->memcpy.copyCtx;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_MEMSET:
        *ms =
            (CUDA_MEMSET_NODE_PARAMS){np->memset.dst,         np->memset.pitch, np->memset.value,
                                      np->memset.elementSize, np->memset.width, np->memset.height};
        p->memset = ms;
        p->ctx = np->memset.ctx;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_HOST:
        p->host = (const CUDA_HOST_NODE_PARAMS *)&np->host;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_GRAPH:
        p->child = np->graph.graph;
        p->move = np->graph.ownership == CU_GRAPH_CHILD_GRAPH_OWNERSHIP_MOVE;
        if ((unsigned)np->graph.ownership > CU_GRAPH_CHILD_GRAPH_OWNERSHIP_MOVE)
            return CUDA_ERROR_INVALID_VALUE;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
        p->event = np->eventRecord.event;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
        p->event = np->eventWait.event;
        return CUDA_SUCCESS;
    case CU_GRAPH_NODE_TYPE_EMPTY:
        return CUDA_SUCCESS;
    default:
        sim_warn("graph node type %d is not supported by simgpu", (int)np->type);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
}

static CUresult add_generic(CUgraphNode *ph, CUgraph hg, const CUgraphNode *deps,
                            const CUgraphEdgeData *ed, size_t n, CUgraphNodeParams *np)
{
    SIM_INIT_OR_RETURN();
    struct sim_gparams p;
    CUDA_MEMSET_NODE_PARAMS ms;
    static const CUgraphEdgeData zero;
    for (size_t i = 0; ed && i < n; i++)
        if (memcmp(&ed[i], &zero, sizeof zero)) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_gparams_from(np, &p, &ms);
    if (r) return r;
    return add_node(ph, hg, deps, n, &p);
}

CUresult cuGraphAddNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                        size_t numDependencies, CUgraphNodeParams *nodeParams)
{
    return add_generic(phGraphNode, hGraph, dependencies, NULL, numDependencies, nodeParams);
}

CUresult cuGraphAddNode_v2(CUgraphNode *phGraphNode, CUgraph hGraph,
                           const CUgraphNode *dependencies, const CUgraphEdgeData *dependencyData,
                           size_t numDependencies, CUgraphNodeParams *nodeParams)
{
    return add_generic(phGraphNode, hGraph, dependencies, dependencyData, numDependencies,
                       nodeParams);
}

/* ---- params of existing nodes ------------------------------------------------------ */

/* Run fn on a live node of the expected type (any type if type < 0). */
static CUresult with_node(CUgraphNode h, int type, CUresult (*fn)(struct sim_gnode *, void *),
                          void *arg)
{
    struct sim_gnode *nd;
    LOCK();
    CUresult r = sim_gnode_arg(h, &nd);
    if (!r && !arg) r = CUDA_ERROR_INVALID_VALUE;
    if (!r && type >= 0 && (nd->captured || nd->type != (CUgraphNodeType)type))
        r = CUDA_ERROR_INVALID_VALUE;
    if (!r) r = fn(nd, arg);
    UNLOCK();
    return r;
}

static CUresult set_fn(struct sim_gnode *nd, void *arg)
{
    return sim_gnode_set(nd, arg);
}

static CUresult set_params(CUgraphNode h, struct sim_gparams *p)
{
    return with_node(h, (int)p->type, set_fn, p);
}

static CUresult kget(struct sim_gnode *nd, void *a)
{
    return kernel_get(&nd->u.k, a), 0;
}
static CUresult cget(struct sim_gnode *nd, void *a)
{
    return *(CUDA_MEMCPY3D *)a = nd->u.cp.p, 0;
}
static CUresult mget(struct sim_gnode *nd, void *a)
{
    return *(CUDA_MEMSET_NODE_PARAMS *)a = nd->u.ms.p, 0;
}
static CUresult hget(struct sim_gnode *nd, void *a)
{
    return *(CUDA_HOST_NODE_PARAMS *)a = nd->u.host, 0;
}
static CUresult gget(struct sim_gnode *nd, void *a)
{
    return *(CUgraph *)a = (CUgraph)nd->u.child, 0;
}
static CUresult eget(struct sim_gnode *nd, void *a)
{
    return *(CUevent *)a = nd->u.ev, 0;
}

CUresult cuGraphKernelNodeGetParams_v2(CUgraphNode hNode, CUDA_KERNEL_NODE_PARAMS *nodeParams)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_KERNEL, kget, nodeParams);
}

CUresult cuGraphKernelNodeGetParams(CUgraphNode hNode, CUDA_KERNEL_NODE_PARAMS_v1 *nodeParams)
{
    CUDA_KERNEL_NODE_PARAMS k;
    CUresult r = cuGraphKernelNodeGetParams_v2(hNode, nodeParams ? &k : NULL);
    if (!r) memcpy(nodeParams, &k, sizeof *nodeParams); /* v1 is a prefix of v2 */
    return r;
}

CUresult cuGraphKernelNodeSetParams_v2(CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS *nodeParams)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_KERNEL, .kernel = nodeParams};
    return set_params(hNode, &p);
}

CUresult cuGraphKernelNodeSetParams(CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS_v1 *nodeParams)
{
    if (!nodeParams) return cuGraphKernelNodeSetParams_v2(hNode, NULL);
    CUDA_KERNEL_NODE_PARAMS k = kernel_from_v1(nodeParams);
    return cuGraphKernelNodeSetParams_v2(hNode, &k);
}

CUresult cuGraphMemcpyNodeGetParams(CUgraphNode hNode, CUDA_MEMCPY3D *nodeParams)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_MEMCPY, cget, nodeParams);
}

/* The context stays the node's own. */
static CUresult cset(struct sim_gnode *nd, void *a)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_MEMCPY, .copy = a, .ctx = nd->u.cp.ctx};
    return sim_gnode_set(nd, &p);
}

CUresult cuGraphMemcpyNodeSetParams(CUgraphNode hNode, const CUDA_MEMCPY3D *nodeParams)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_MEMCPY, cset, (void *)nodeParams);
}

CUresult cuGraphMemsetNodeGetParams(CUgraphNode hNode, CUDA_MEMSET_NODE_PARAMS *nodeParams)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_MEMSET, mget, nodeParams);
}

static CUresult mset(struct sim_gnode *nd, void *a)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_MEMSET, .memset = a, .ctx = nd->u.ms.ctx};
    return sim_gnode_set(nd, &p);
}

CUresult cuGraphMemsetNodeSetParams(CUgraphNode hNode, const CUDA_MEMSET_NODE_PARAMS *nodeParams)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_MEMSET, mset, (void *)nodeParams);
}

CUresult cuGraphHostNodeGetParams(CUgraphNode hNode, CUDA_HOST_NODE_PARAMS *nodeParams)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_HOST, hget, nodeParams);
}

CUresult cuGraphHostNodeSetParams(CUgraphNode hNode, const CUDA_HOST_NODE_PARAMS *nodeParams)
{
    struct sim_gparams p = {.type = CU_GRAPH_NODE_TYPE_HOST, .host = nodeParams};
    if (!nodeParams) return with_node(hNode, CU_GRAPH_NODE_TYPE_HOST, set_fn, NULL);
    return set_params(hNode, &p);
}

CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode hNode, CUgraph *phGraph)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_GRAPH, gget, phGraph);
}

CUresult cuGraphEventRecordNodeGetEvent(CUgraphNode hNode, CUevent *event_out)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_EVENT_RECORD, eget, event_out);
}

CUresult cuGraphEventWaitNodeGetEvent(CUgraphNode hNode, CUevent *event_out)
{
    return with_node(hNode, CU_GRAPH_NODE_TYPE_WAIT_EVENT, eget, event_out);
}

static CUresult event_set(CUgraphNode h, CUgraphNodeType t, CUevent e)
{
    struct sim_gparams p = {.type = t, .event = e};
    return set_params(h, &p);
}

CUresult cuGraphEventRecordNodeSetEvent(CUgraphNode hNode, CUevent event)
{
    return event_set(hNode, CU_GRAPH_NODE_TYPE_EVENT_RECORD, event);
}

CUresult cuGraphEventWaitNodeSetEvent(CUgraphNode hNode, CUevent event)
{
    return event_set(hNode, CU_GRAPH_NODE_TYPE_WAIT_EVENT, event);
}

CUresult cuGraphNodeSetParams(CUgraphNode hNode, CUgraphNodeParams *nodeParams)
{
    SIM_INIT_OR_RETURN();
    struct sim_gparams p;
    CUDA_MEMSET_NODE_PARAMS ms;
    CUresult r = sim_gparams_for_set(nodeParams, &p, &ms);
    if (r) return r;
    return set_params(hNode, &p);
}
