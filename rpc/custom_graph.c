/* custom_graph.c — graph and capture calls whose structs carry what must not
 * cross the wire as it is (annotation custom=graph; see custom_graph.h):
 *
 * - host functions (CUDA_HOST_NODE_PARAMS, cuUserObjectCreate's destructor, a
 *   HOST CUgraphNodeParams): the client's (fn, data) travel as numbers; the
 *   worker puts its trampoline in their place and maps them back in replies;
 * - copies with host sides (CUDA_MEMCPY3D of memcpy nodes, cuMemcpyHtoDAsync /
 *   cuMemcpyDtoHAsync that a capture may record): the client addresses are
 *   taken out of the struct into the decoded call's stash, the worker stages
 *   them (server/notify.c); a staged DtoH reply carries no bytes;
 * - CUgraphNodeParams (cuGraphAddNode, cuGraphNodeSetParams,
 *   cuGraphExecNodeSetParams): the union travels as its bytes, the worker
 *   translates the ids of its type's handles; a kernel's parameters follow;
 * - cuStreamGetCaptureInfo_v2/_v3: the driver-owned node array comes back as
 *   ids the worker mints, kept by the shim per thread until the next call;
 * - cuGraphExecUpdate_v2: the error nodes come back as ids;
 * - cuGraphInstantiateWithParams: the upload stream translated, the error node
 *   back as an id, the result also when the call fails;
 * - cuGraphDebugDotPrint: the worker prints into its own file, the shim writes
 *   the text to the client's path.
 * Everything else has the generic wire form. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"
#include "custom_graph.h"

static const struct rpc_graph_ops *gops;

void rpc_set_graph_ops(const struct rpc_graph_ops *ops)
{
    __atomic_store_n(&gops, ops, __ATOMIC_RELEASE);
}

const struct rpc_graph_ops *rpc_graph_ops_now(void)
{
    return __atomic_load_n(&gops, __ATOMIC_ACQUIRE);
}

static int type_is(const struct rpc_arg_desc *a, const char *t)
{
    return a->ctype && strstr(a->ctype, t) != NULL;
}

static int base_is(const struct rpc_call_desc *d, const char *b)
{
    return !strcmp(d->base, b);
}

static int is_capture_info(const struct rpc_call_desc *d)
{
    return base_is(d, "cuStreamGetCaptureInfo") && (d->nargs == 6 || d->nargs == 7);
}

static int is_node_params(const struct rpc_call_desc *d)
{
    return base_is(d, "cuGraphAddNode") || base_is(d, "cuGraphNodeSetParams") ||
           base_is(d, "cuGraphExecNodeSetParams");
}

static int is_host_copy(const struct rpc_call_desc *d)
{
    return base_is(d, "cuMemcpyHtoDAsync") || base_is(d, "cuMemcpyDtoHAsync");
}

/* ---- host functions ------------------------------------------------------------ */

static void allow(const void *fn, const void *data)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    if (fn && o && o->allow_host_fn)
        o->allow_host_fn(o->self, (uint64_t)(uintptr_t)fn, (uint64_t)(uintptr_t)data);
}

/* The client's (fn, data) become the worker's trampoline; a NULL function is
 * left for the driver to refuse. */
static int host_in(void **fn, void **data)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    if (!*fn) return 0;
    if (!o || !o->host_fn_in) return RPC_CU_NOT_SUPPORTED;
    return o->host_fn_in(o->self, (uint64_t)(uintptr_t)*fn, (uint64_t)(uintptr_t)*data, fn, data);
}

static void host_out(void **fn, void **data)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    uint64_t f = 0, p = 0;
    if (*fn && o && o->host_fn_out && o->host_fn_out(o->self, *fn, *data, &f, &p) == 0) {
        *fn = (void *)(uintptr_t)f;
        *data = (void *)(uintptr_t)p;
    } else {
        *fn = NULL, *data = NULL; /* not a client function: nothing of the server's goes out */
    }
}

static uint64_t to_id(unsigned type, void *real, uint64_t parent)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    return real && o && o->to_id ? o->to_id(o->self, type, real, parent) : 0;
}

/* ---- copies with host sides ------------------------------------------------------ */

/* The id in *v becomes the real handle in place. */
static int handle_in(const struct rpc_handle_ops *h, unsigned type, void **v)
{
    return rpc_handle_in_ptr(h, type, (uint64_t)(uintptr_t)*v, v);
}

/* Host sides leave the struct for the stash (client addresses, never used as
 * pointers here); array sides are translated; unified sides are taken as
 * device addresses, which the driver checks as such. */
static int stash_copy(CUDA_MEMCPY3D *m, struct rpc_graph_stash *st, const struct rpc_handle_ops *h)
{
    int rc = 0;
    memset(st, 0, sizeof *st);
    st->magic = RPC_GRAPH_STASH_MAGIC;
    if (m->srcMemoryType == CU_MEMORYTYPE_UNIFIED) m->srcMemoryType = CU_MEMORYTYPE_DEVICE;
    if (m->dstMemoryType == CU_MEMORYTYPE_UNIFIED) m->dstMemoryType = CU_MEMORYTYPE_DEVICE;
    if (m->srcMemoryType == CU_MEMORYTYPE_HOST)
        st->sides |= 1, st->src = (uint64_t)(uintptr_t)m->srcHost;
    if (m->dstMemoryType == CU_MEMORYTYPE_HOST)
        st->sides |= 2, st->dst = (uint64_t)(uintptr_t)m->dstHost;
    m->srcHost = NULL, m->dstHost = NULL, m->reserved0 = NULL, m->reserved1 = NULL;
    if (m->srcMemoryType == CU_MEMORYTYPE_ARRAY)
        rc = handle_in(h, RPC_H_ARRAY, (void **)&m->srcArray);
    else
        m->srcArray = NULL;
    if (!rc && m->dstMemoryType == CU_MEMORYTYPE_ARRAY)
        rc = handle_in(h, RPC_H_ARRAY, (void **)&m->dstArray);
    else if (m->dstMemoryType != CU_MEMORYTYPE_ARRAY)
        m->dstArray = NULL;
    return rc;
}

/* The client's host sides the server may later read or write (custom_graph.h). */
static void grant(uint64_t addr, uint64_t len)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    if (addr && len && o && o->grant) o->grant(o->self, addr, len);
}

/* From the first to the last byte a host side of m touches (0 on overflow). */
static uint64_t host_span(const CUDA_MEMCPY3D *m, int dst, uint64_t *start)
{
    uint64_t x = dst ? m->dstXInBytes : m->srcXInBytes, y = dst ? m->dstY : m->srcY;
    uint64_t z = dst ? m->dstZ : m->srcZ, pitch = dst ? m->dstPitch : m->srcPitch;
    uint64_t height = dst ? m->dstHeight : m->srcHeight, first, rows, last;
    uint64_t base = (uint64_t)(uintptr_t)(dst ? m->dstHost : m->srcHost);
    if (!m->WidthInBytes || !m->Height || !m->Depth) return 0;
    if (m->Height <= 1 && m->Depth <= 1 && !pitch) pitch = m->WidthInBytes;
    if (!height) height = m->Height;
    if (__builtin_mul_overflow(z, height, &first) || __builtin_add_overflow(first, y, &first) ||
        __builtin_mul_overflow(first, pitch, &first) || __builtin_add_overflow(first, x, &first) ||
        __builtin_add_overflow(first, base, start))
        return 0;
    if (__builtin_mul_overflow((uint64_t)m->Depth - 1, height, &rows) ||
        __builtin_add_overflow(rows, (uint64_t)m->Height - 1, &rows) ||
        __builtin_mul_overflow(rows, pitch, &last) ||
        __builtin_add_overflow(last, m->WidthInBytes, &last))
        return 0;
    return last;
}

/* A unified side outside the client's device window is its host memory (a
 * cudaMemcpyDefault node): retyped here, where the window is known. */
static int unified(const CUDA_MEMCPY3D *m)
{
    return m->srcMemoryType == CU_MEMORYTYPE_UNIFIED || m->dstMemoryType == CU_MEMORYTYPE_UNIFIED;
}

static void retype_unified(CUDA_MEMCPY3D *m)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    if (!o || !o->in_window) return;
    if (m->srcMemoryType == CU_MEMORYTYPE_UNIFIED) {
        int dev = o->in_window(o->self, m->srcDevice);
        m->srcMemoryType = dev ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
        if (!dev) m->srcHost = (const void *)(uintptr_t)m->srcDevice;
    }
    if (m->dstMemoryType == CU_MEMORYTYPE_UNIFIED) {
        int dev = o->in_window(o->self, m->dstDevice);
        m->dstMemoryType = dev ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
        if (!dev) m->dstHost = (void *)(uintptr_t)m->dstDevice;
    }
}

static void grant_copy(const CUDA_MEMCPY3D *m)
{
    uint64_t start, n;
    if (m->srcMemoryType == CU_MEMORYTYPE_HOST && (n = host_span(m, 0, &start))) grant(start, n);
    if (m->dstMemoryType == CU_MEMORYTYPE_HOST && (n = host_span(m, 1, &start))) grant(start, n);
}

/* ---- the generic wire form with struct fix-ups ----------------------------------- */

static int fix_in(const struct rpc_arg_desc *a, void *p, size_t len, struct rpc_decoded *out,
                  unsigned i, const struct rpc_handle_ops *h)
{
    if (type_is(a, "CUDA_HOST_NODE_PARAMS") && len == sizeof(CUDA_HOST_NODE_PARAMS)) {
        CUDA_HOST_NODE_PARAMS *hp = p;
        return host_in((void **)&hp->fn, &hp->userData);
    }
    if (type_is(a, "CUDA_MEMCPY3D") && len == sizeof(CUDA_MEMCPY3D))
        return stash_copy(p, (struct rpc_graph_stash *)out->val[i].bytes, h);
    return RPC_CU_NOT_SUPPORTED; /* a struct this marshaller does not know */
}

static int gen_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                      struct iovec *raw, int *nraw)
{
    static __thread CUDA_MEMCPY3D retyped; /* sent from here: the frame goes out before return */
    static __thread const CUDA_MEMCPY3D *retyped_p;
    void *sent[RPC_MAX_ARGS];
    if (d->nargs > RPC_MAX_ARGS) return RPC_CU_NOT_SUPPORTED;
    memcpy(sent, args, d->nargs * sizeof *sent);
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind == RPC_ARG_IN_BUF && type_is(a, "CUDA_HOST_NODE_PARAMS")) {
            const CUDA_HOST_NODE_PARAMS *hp = *(void *const *)args[i];
            if (hp) allow((const void *)hp->fn, hp->userData);
        } else if (a->kind == RPC_ARG_IN_BUF && type_is(a, "CUDA_MEMCPY3D")) {
            const CUDA_MEMCPY3D *m = *(void *const *)args[i];
            if (m && unified(m)) {
                retyped = *m;
                retype_unified(&retyped);
                retyped_p = &retyped;
                sent[i] = (void *)&retyped_p;
                m = &retyped;
            }
            if (m) grant_copy(m);
        }
    }
    if (base_is(d, "cuUserObjectCreate") && d->nargs == 5)
        allow(*(void *const *)args[2], *(void *const *)args[1]);
    return rpc_encode_call_generic(d, sent, w, raw, nraw);
}

static int gen_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                      size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int rc = rpc_decode_call_generic(d, r, raw, raw_len, h, out);
    if (rc) return rc;
    for (unsigned i = 0; i < d->nargs && !rc; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_IN_BUF || !out->ptrval[i]) continue;
        rc = a->align > 1 ? fix_in(a, out->ptrval[i], out->lens[i], out, i, h)
                          : RPC_CU_NOT_SUPPORTED;
    }
    if (!rc && base_is(d, "cuUserObjectCreate") && d->nargs == 5) {
        void *fn, *data;
        memcpy(&fn, out->val[2].bytes, sizeof fn);
        memcpy(&data, out->val[1].bytes, sizeof data);
        rc = fn ? host_in(&fn, &data) : 0;
        memcpy(out->val[2].bytes, &fn, sizeof fn);
        memcpy(out->val[1].bytes, &data, sizeof data);
    }
    if (rc) rpc_decoded_free(out);
    return rc;
}

static int gen_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    const struct rpc_call_desc *d = dc->desc;
    for (unsigned i = 0; result == 0 && i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_OUT_BUF || !dc->ptrval[i]) continue;
        if (type_is(a, "CUDA_HOST_NODE_PARAMS") && dc->lens[i] == sizeof(CUDA_HOST_NODE_PARAMS)) {
            CUDA_HOST_NODE_PARAMS *hp = dc->ptrval[i];
            host_out((void **)&hp->fn, &hp->userData);
        }
    }
    return rpc_encode_reply_generic(dc, result, w, raw, nraw);
}

/* ---- cuMemcpyHtoDAsync / cuMemcpyDtoHAsync: the client address goes first --------- */

static int host_arg(const struct rpc_call_desc *d)
{
    for (unsigned i = 0; i < d->nargs; i++)
        if (d->args[i].kind == RPC_ARG_IN_BUF || d->args[i].kind == RPC_ARG_OUT_BUF) return (int)i;
    return -1;
}

static int hc_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    int b = host_arg(d);
    if (b < 0) return RPC_CU_NOT_SUPPORTED;
    rpc_put_u64(w, (uint64_t)(uintptr_t) * (void *const *)args[b]);
    return rpc_encode_call_generic(d, args, w, raw, nraw);
}

static int hc_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int b = host_arg(d);
    uint64_t addr = rpc_get_u64(r);
    if (b < 0 || !rpc_rbuf_ok(r)) return -1;
    int rc = rpc_decode_call_generic(d, r, raw, raw_len, h, out);
    if (rc) return rc;
    struct rpc_graph_stash st = {RPC_GRAPH_STASH_MAGIC, d->args[b].kind == RPC_ARG_IN_BUF ? 1u : 2u,
                                 0, 0};
    if (st.sides & 1)
        st.src = addr;
    else
        st.dst = addr;
    memcpy(out->val[b].bytes, &st, sizeof st);
    return 0;
}

/* u8 staged (the copy went into a capture: no bytes, and the client grants its
 * host range to the replays), then the generic reply. */
static int hc_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    int b = host_arg(dc->desc);
    struct rpc_graph_stash st;
    memcpy(&st, b >= 0 ? dc->val[b].bytes : dc->val[0].bytes, sizeof st);
    int staged = b >= 0 && st.magic == RPC_GRAPH_STASH_MAGIC && (st.sides & RPC_GRAPH_STAGED);
    rpc_put_u8(w, (uint8_t)staged);
    if (!staged) return rpc_encode_reply_generic(dc, result, w, raw, nraw);
    *nraw = 0;
    rpc_put_u32(w, result);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int hc_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    uint8_t staged = rpc_get_u8(r);
    if (!rpc_rbuf_ok(r) || staged > 1) return -1;
    if (!staged) return rpc_decode_reply_generic(d, args, r, raw, raw_len, result);
    *result = rpc_get_u32(r);
    int b = host_arg(d);
    if (*result == 0 && b >= 0 && d->nargs == 4) /* a capture recorded it: replays use the range */
        grant((uint64_t)(uintptr_t) * (void *const *)args[b],
              rpc_uint_at(args[2], d->args[2].size));
    return rpc_rbuf_done(r) && raw_len == 0 ? 0 : -1;
}

/* ---- CUgraphNodeParams: the union as bytes, with the ids of its type's handles -----
 * Wire: u32 length + the generic form (the union travels as its bytes), u8 kernel
 * [+ the kernel's parameters by its layout, as a launch's]. */

static int np_index(const struct rpc_call_desc *d)
{
    for (unsigned i = 0; i < d->nargs; i++)
        if (d->args[i].kind == RPC_ARG_CUSTOM) return (int)i;
    return -1;
}

/* The same call with the union as a plain input struct. */
static int np_desc(const struct rpc_call_desc *d, struct rpc_call_desc *d2, struct rpc_arg_desc *a2)
{
    int k = np_index(d);
    if (k < 0 || d->nargs > RPC_MAX_ARGS) return -1;
    memcpy(a2, d->args, d->nargs * sizeof *a2);
    *d2 = *d;
    a2[k].kind = RPC_ARG_IN_BUF;
    a2[k].scalar = RPC_S_STRUCT;
    a2[k].size = sizeof(CUgraphNodeParams);
    a2[k].align = _Alignof(CUgraphNodeParams);
    a2[k].len = (struct rpc_len){RPC_LEN_CONST, 0, 0xff, sizeof(CUgraphNodeParams)};
    d2->args = a2;
    d2->cls = RPC_CLASS_FORWARD;
    d2->custom = NULL;
    return k;
}

static int np_type_ok(CUgraphNodeType t)
{
    switch (t) {
    case CU_GRAPH_NODE_TYPE_EMPTY:
    case CU_GRAPH_NODE_TYPE_KERNEL:
    case CU_GRAPH_NODE_TYPE_MEMSET:
    case CU_GRAPH_NODE_TYPE_MEMCPY:
    case CU_GRAPH_NODE_TYPE_HOST:
    case CU_GRAPH_NODE_TYPE_GRAPH:
    case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
    case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
        return 1;
    default:
        return 0; /* allocations, semaphores, memory operations, conditionals: not yet */
    }
}

static int np_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    struct rpc_call_desc d2;
    struct rpc_arg_desc a2[RPC_MAX_ARGS];
    int k = np_desc(d, &d2, a2);
    if (k < 0) return RPC_CU_NOT_SUPPORTED;
    static __thread CUgraphNodeParams
        retyped; /* sent from here: the frame goes out before return */
    static __thread const CUgraphNodeParams *retyped_p;
    void *sent[RPC_MAX_ARGS];
    memcpy(sent, args, d->nargs * sizeof *sent);
    const CUgraphNodeParams *p = *(void *const *)args[k];
    if (p && !np_type_ok(p->type)) return RPC_CU_NOT_SUPPORTED;
    if (p && p->type == CU_GRAPH_NODE_TYPE_HOST) allow((const void *)p->host.fn, p->host.userData);
    if (p && p->type == CU_GRAPH_NODE_TYPE_MEMCPY && unified(&p->memcpy.copyParams)) {
        retyped = *p;
        retype_unified(&retyped.memcpy.copyParams);
        retyped_p = &retyped;
        sent[k] = (void *)&retyped_p;
        p = &retyped;
    }
    if (p && p->type == CU_GRAPH_NODE_TYPE_MEMCPY) grant_copy(&p->memcpy.copyParams);
    /* u32 length + the generic part, then u8 kernel [+ its parameters by the layout] */
    rpc_wbuf g;
    rpc_wbuf_init_dyn(&g, 1u << 20); /* an encoded part is at most RPC_MAX_ENC_LEN */
    int rc = rpc_encode_call_generic(&d2, sent, &g, raw, nraw);
    if (!rc) {
        rpc_put_u32(w, (uint32_t)g.len);
        rpc_put_bytes(w, g.data, g.len);
    }
    rpc_wbuf_free(&g);
    if (rc) return rc < 0 ? (w->err = 1, -1) : rc;
    int kernel = p && p->type == CU_GRAPH_NODE_TYPE_KERNEL;
    rpc_put_u8(w, (uint8_t)kernel);
    if (kernel) {
        const CUDA_KERNEL_NODE_PARAMS_v3 *kp = &p->kernel;
        uint64_t func = (uint64_t)(uintptr_t)kp->func, kern = (uint64_t)(uintptr_t)kp->kern;
        if ((rc = rpc_launch_enc_params(w, func ? func : kern, kp->kernelParams, kp->extra)))
            return rc;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int np_fix(CUgraphNodeParams *p, struct rpc_decoded *out, int k,
                  const struct rpc_handle_ops *h)
{
    switch (p->type) {
    case CU_GRAPH_NODE_TYPE_EMPTY:
        return 0;
    case CU_GRAPH_NODE_TYPE_MEMSET:
        return handle_in(h, RPC_H_CONTEXT, (void **)&p->memset.ctx);
    case CU_GRAPH_NODE_TYPE_MEMCPY: {
        int rc = handle_in(h, RPC_H_CONTEXT, (void **)&p->memcpy.copyCtx);
        return rc ? rc
                  : stash_copy(&p->memcpy.copyParams, (struct rpc_graph_stash *)out->val[k].bytes,
                               h);
    }
    case CU_GRAPH_NODE_TYPE_HOST:
        return host_in((void **)&p->host.fn, &p->host.userData);
    case CU_GRAPH_NODE_TYPE_GRAPH:
        return handle_in(h, RPC_H_GRAPH, (void **)&p->graph.graph);
    case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
        return handle_in(h, RPC_H_EVENT, (void **)&p->eventRecord.event);
    case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
        return handle_in(h, RPC_H_EVENT, (void **)&p->eventWait.event);
    default:
        return RPC_CU_NOT_SUPPORTED;
    }
}

static int np_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct rpc_call_desc d2;
    struct rpc_arg_desc a2[RPC_MAX_ARGS];
    int k = np_desc(d, &d2, a2);
    if (k < 0) return RPC_CU_NOT_SUPPORTED;
    /* A kernel's parameter block outlives the decoded call's scratch (one slot):
     * it is freed at this thread's next node-params call, after this one ran. */
    static __thread void *kblock;
    free(kblock);
    kblock = NULL;
    uint32_t glen = rpc_get_u32(r);
    const void *gv = rpc_get_view(r, glen);
    uint8_t kernel = rpc_get_u8(r);
    if (!gv || kernel > 1 || !rpc_rbuf_ok(r)) return -1;
    rpc_rbuf gr;
    rpc_rbuf_init(&gr, gv, glen);
    int rc = rpc_decode_call_generic(&d2, &gr, raw, raw_len, h, out);
    out->desc = d;
    if (rc) return rc; /* -1 malformed, or a CUresult (nothing kept) */
    CUgraphNodeParams *p = out->ptrval[k];
    if ((p && p->type == CU_GRAPH_NODE_TYPE_KERNEL) != kernel || (!kernel && !rpc_rbuf_done(r))) {
        rpc_decoded_free(out);
        return -1; /* the kernel flag must say what the union says */
    }
    if (kernel) {
        struct rpc_launch_params lp = {0};
        uint64_t func = (uint64_t)(uintptr_t)p->kernel.func;
        uint64_t kern = (uint64_t)(uintptr_t)p->kernel.kern;
        int cu = handle_in(h, RPC_H_FUNCTION, (void **)&p->kernel.func);
        if (!cu) cu = handle_in(h, RPC_H_KERNEL, (void **)&p->kernel.kern);
        if (!cu) cu = handle_in(h, RPC_H_CONTEXT, (void **)&p->kernel.ctx);
        void *f = p->kernel.func, *kr = p->kernel.kern;
        rc = rpc_launch_dec_params(r, func ? f : kr, func ? func : kern, cu, 0, &lp);
        if (rc) {
            free(lp.block);
            rpc_decoded_free(out);
            return rc;
        }
        kblock = lp.block;
        p->kernel.kernelParams = lp.kp;
        p->kernel.extra = lp.extra;
        return 0;
    }
    if (p && (rc = np_fix(p, out, k, h))) rpc_decoded_free(out);
    return rc;
}

/* ---- cuStreamGetCaptureInfo_v2 / _v3 ------------------------------------------------
 * Wire: u64 stream id, u8 mask of the outputs asked for (bit i-1 for argument i).
 * Reply: u32 result; then, as asked: u32 status, u64 capture id, u64 graph id,
 * u64 count, u8 + count ids (dependencies), u8 + count edge structs (edges). */

static int ci_edges(const struct rpc_call_desc *d)
{
    return d->nargs == 7 ? 5 : -1;
}

static int ci_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    uint8_t mask = 0;
    *nraw = 0;
    rpc_enc_simple(w, &d->args[0], args[0]);
    for (unsigned i = 1; i < d->nargs; i++)
        if (*(void *const *)args[i]) mask |= (uint8_t)(1u << (i - 1));
    rpc_put_u8(w, mask);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int ci_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    if (raw_len || rpc_dec_simple(d, 0, r, h, out, &cu)) return -1;
    uint8_t mask = rpc_get_u8(r);
    if (!rpc_rbuf_done(r) || (mask >> (d->nargs - 1))) return -1;
    if (cu) return cu;
    for (unsigned i = 1; i < d->nargs; i++) {
        out->ptrval[i] = mask & (1u << (i - 1)) ? (void *)&out->val[i] : NULL;
        out->avalues[i] = &out->ptrval[i];
    }
    return 0;
}

static int ci_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    const struct rpc_call_desc *d = dc->desc;
    unsigned num = d->nargs - 1, deps = 4;
    int edges = ci_edges(d);
    *nraw = 0;
    rpc_put_u32(w, result);
    if (result) return rpc_wbuf_ok(w) ? 0 : -1;
    uint64_t n = dc->ptrval[num] ? rpc_uint_at(dc->val[num].bytes, 8) : 0;
    void *graph = NULL;
    memcpy(&graph, dc->val[3].bytes, sizeof graph);
    if (dc->ptrval[1]) rpc_put_u32(w, (uint32_t)rpc_uint_at(dc->val[1].bytes, 4));
    if (dc->ptrval[2]) rpc_put_u64(w, rpc_uint_at(dc->val[2].bytes, 8));
    if (dc->ptrval[3]) rpc_put_u64(w, graph ? dc->ids[3] : 0);
    if (dc->ptrval[num]) rpc_put_u64(w, n);
    if (n > RPC_MAX_HANDLE_ARRAY) return w->err = 1, -1;
    if (dc->ptrval[deps]) {
        const CUgraphNode *v;
        memcpy(&v, dc->val[deps].bytes, sizeof v);
        rpc_put_u8(w, v != NULL);
        for (uint64_t j = 0; v && j < n; j++)
            rpc_put_u64(w, to_id(RPC_H_GRAPH_NODE, v[j], graph ? dc->ids[3] : 0));
    }
    if (edges > 0 && dc->ptrval[edges]) {
        const CUgraphEdgeData *e;
        memcpy(&e, dc->val[edges].bytes, sizeof e);
        rpc_put_u8(w, e != NULL);
        if (e && n) rpc_put_bytes(w, e, (size_t)n * sizeof *e);
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

void *rpc_graph_keep(int slot, const void *bytes, size_t len)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    return o && o->keep ? o->keep(o->self, slot, bytes, len) : NULL;
}

static int ci_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    unsigned num = d->nargs - 1, deps = 4;
    int edges = ci_edges(d);
    uint32_t res = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || raw_len) return -1;
    *result = res;
    if (res) return rpc_rbuf_done(r) ? 0 : -1;
    void *p;
    (void)raw;
    if ((p = *(void *const *)args[1]))
        *(CUstreamCaptureStatus *)p = (CUstreamCaptureStatus)rpc_get_u32(r);
    if ((p = *(void *const *)args[2])) *(cuuint64_t *)p = rpc_get_u64(r);
    if ((p = *(void *const *)args[3])) *(CUgraph *)p = (CUgraph)(uintptr_t)rpc_get_u64(r);
    uint64_t n = 0;
    if ((p = *(void *const *)args[num])) *(size_t *)p = (size_t)(n = rpc_get_u64(r));
    if (n > RPC_MAX_HANDLE_ARRAY || !rpc_rbuf_ok(r)) return -1;
    if ((p = *(void *const *)args[deps])) {
        const CUgraphNode *v = NULL;
        if (rpc_get_u8(r)) {
            uint64_t ids[64], *all = n <= 64 ? ids : malloc((size_t)n * 8);
            if (!all) return -1;
            for (uint64_t j = 0; j < n; j++)
                all[j] = rpc_get_u64(r);
            v = rpc_graph_keep(RPC_GRAPH_KEEP_DEPS, all, (size_t)n * 8);
            if (all != ids) free(all);
            if (!v && n) return -1;
        }
        *(const CUgraphNode **)p = v;
    }
    if (edges > 0 && (p = *(void *const *)args[edges])) {
        const CUgraphEdgeData *e = NULL;
        if (rpc_get_u8(r) && n) {
            const void *view = rpc_get_view(r, (size_t)n * sizeof *e);
            if (!view || !(e = rpc_graph_keep(RPC_GRAPH_KEEP_EDGES, view, (size_t)n * sizeof *e)))
                return -1;
        }
        *(const CUgraphEdgeData **)p = e;
    }
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* ---- cuGraphExecUpdate_v2: the result info comes back whatever the result ------------
 * Reply: u32 result, u8 present [+ the struct, its error nodes as ids]. */

static int is_exec_update(const struct rpc_call_desc *d)
{
    return base_is(d, "cuGraphExecUpdate") && d->nargs == 3 && d->args[2].kind == RPC_ARG_OUT_BUF;
}

/* The older cuGraphExecUpdate(exec, graph, CUgraphNode *errorNode, CUgraphExecUpdateResult *):
 * reply u32 result, u8 mask of the outputs present, u64 node id, u32 result code. */
static int is_exec_update_v1(const struct rpc_call_desc *d)
{
    return base_is(d, "cuGraphExecUpdate") && d->nargs == 4 &&
           d->args[2].kind == RPC_ARG_OUT_HANDLE && d->args[3].kind == RPC_ARG_OUT;
}

static int eu1_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    void *node = NULL;
    *nraw = 0;
    (void)raw;
    memcpy(&node, dc->val[2].bytes, sizeof node);
    rpc_put_u32(w, result);
    rpc_put_u8(w, (uint8_t)((dc->ptrval[2] ? 1 : 0) | (dc->ptrval[3] ? 2 : 0)));
    rpc_put_u64(w, dc->ptrval[2] ? to_id(RPC_H_GRAPH_NODE, node, 0) : 0);
    rpc_put_u32(w, dc->ptrval[3] ? (uint32_t)rpc_uint_at(dc->val[3].bytes, 4) : 0);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int eu1_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                            const void *raw, size_t raw_len, uint32_t *result)
{
    (void)d, (void)raw;
    uint32_t res = rpc_get_u32(r);
    uint8_t mask = rpc_get_u8(r);
    uint64_t node = rpc_get_u64(r);
    uint32_t code = rpc_get_u32(r);
    if (!rpc_rbuf_done(r) || raw_len || mask > 3) return -1;
    *result = res;
    CUgraphNode *pn = *(void *const *)args[2];
    CUgraphExecUpdateResult *pr = *(void *const *)args[3];
    if (pn && (mask & 1)) *pn = (CUgraphNode)(uintptr_t)node;
    if (pr && (mask & 2)) *pr = (CUgraphExecUpdateResult)code;
    return 0;
}

static int eu_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    CUgraphExecUpdateResultInfo ri;
    *nraw = 0;
    (void)raw;
    rpc_put_u32(w, result);
    int present = dc->ptrval[2] && dc->lens[2] == sizeof ri;
    rpc_put_u8(w, (uint8_t)present);
    if (present) {
        memcpy(&ri, dc->ptrval[2], sizeof ri);
        ri.errorNode = (CUgraphNode)(uintptr_t)to_id(RPC_H_GRAPH_NODE, ri.errorNode, 0);
        ri.errorFromNode = (CUgraphNode)(uintptr_t)to_id(RPC_H_GRAPH_NODE, ri.errorFromNode, 0);
        rpc_put_bytes(w, &ri, sizeof ri);
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int eu_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    (void)d, (void)raw;
    uint32_t res = rpc_get_u32(r);
    uint8_t present = rpc_get_u8(r);
    if (!rpc_rbuf_ok(r) || present > 1 || raw_len) return -1;
    *result = res;
    void *p = *(void *const *)args[2];
    if (present) {
        CUgraphExecUpdateResultInfo ri;
        if (rpc_get_bytes(r, &ri, sizeof ri)) return -1;
        if (p) memcpy(p, &ri, sizeof ri);
    }
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* ---- cuGraphDebugDotPrint: the server never opens a client-named path -----------------
 * Wire: u64 graph id, u32 flags (the path stays in the client). The worker prints into
 * a file of its own and sends the text back (server/notify.c); the shim writes the file.
 * Reply: u32 result [+ u64 length; raw: the text]. */

static int is_dot(const struct rpc_call_desc *d)
{
    return base_is(d, "cuGraphDebugDotPrint") && d->nargs == 3 && d->args[1].kind == RPC_ARG_STRING;
}

static int dot_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                      struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (!*(const char *const *)args[1]) return RPC_CU_INVALID_VALUE;
    rpc_enc_simple(w, &d->args[0], args[0]);
    rpc_put_scalar(w, args[2], d->args[2].size);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int dot_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                      size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    if (raw_len || rpc_dec_simple(d, 0, r, h, out, &cu) || rpc_dec_simple(d, 2, r, h, out, &cu) ||
        !rpc_rbuf_done(r))
        return -1;
    out->ptrval[1] = NULL; /* the worker's own file (notify.c), then the text it holds */
    out->avalues[1] = &out->ptrval[1];
    return cu;
}

static int dot_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    *nraw = 0;
    rpc_put_u32(w, result);
    if (result) return rpc_wbuf_ok(w) ? 0 : -1;
    size_t n = dc->ptrval[1] ? dc->lens[1] : 0;
    rpc_put_u64(w, n);
    if (n) raw[0] = (struct iovec){dc->ptrval[1], n}, *nraw = 1;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int dot_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                            const void *raw, size_t raw_len, uint32_t *result)
{
    (void)d;
    uint32_t res = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    *result = res;
    if (res) return rpc_rbuf_done(r) && !raw_len ? 0 : -1;
    uint64_t n = rpc_get_u64(r);
    if (!rpc_rbuf_done(r) || n != raw_len) return -1;
    FILE *f = fopen(*(const char *const *)args[1], "w");
    if (!f || fwrite(raw, 1, raw_len, f) != raw_len) *result = CUDA_ERROR_OPERATING_SYSTEM;
    if (f && fclose(f)) *result = CUDA_ERROR_OPERATING_SYSTEM;
    return 0;
}

/* ---- cuGraphInstantiateWithParams: handles inside, the result also on failure ---------
 * The struct travels generically (INOUT); the worker translates the upload stream and
 * answers with the error node as an id. Reply: u8 failed; 0: the generic reply; 1: u32
 * result, u8 present [+ the struct]. */

static int is_inst(const struct rpc_call_desc *d)
{
    return base_is(d, "cuGraphInstantiateWithParams") && d->nargs == 3 &&
           d->args[2].kind == RPC_ARG_INOUT_BUF;
}

static int inst_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                       size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int rc = rpc_decode_call_generic(d, r, raw, raw_len, h, out);
    CUDA_GRAPH_INSTANTIATE_PARAMS *p = out->ptrval[2];
    if (rc || !p || out->lens[2] != sizeof *p) return rc;
    uint64_t id = (uint64_t)(uintptr_t)p->hUploadStream;
    memcpy(out->val[2].bytes, &id, sizeof id); /* the client's id, for the reply */
    p->hErrNode_out = NULL;
    if ((rc = handle_in(h, RPC_H_STREAM, (void **)&p->hUploadStream))) rpc_decoded_free(out);
    return rc;
}

static int inst_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                             struct iovec *raw, int *nraw)
{
    CUDA_GRAPH_INSTANTIATE_PARAMS *p = dc->ptrval[2];
    if (p && dc->lens[2] == sizeof *p) {
        uint64_t id;
        memcpy(&id, dc->val[2].bytes, sizeof id);
        p->hUploadStream = (CUstream)(uintptr_t)id;
        p->hErrNode_out = (CUgraphNode)(uintptr_t)to_id(RPC_H_GRAPH_NODE, p->hErrNode_out, 0);
    } else {
        p = NULL;
    }
    rpc_put_u8(w, result != 0);
    if (!result) return rpc_encode_reply_generic(dc, result, w, raw, nraw);
    *nraw = 0;
    rpc_put_u32(w, result);
    rpc_put_u8(w, p != NULL);
    if (p) rpc_put_bytes(w, p, sizeof *p);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int inst_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                             const void *raw, size_t raw_len, uint32_t *result)
{
    uint8_t failed = rpc_get_u8(r);
    if (!rpc_rbuf_ok(r) || failed > 1) return -1;
    if (!failed) return rpc_decode_reply_generic(d, args, r, raw, raw_len, result);
    *result = rpc_get_u32(r);
    uint8_t present = rpc_get_u8(r);
    CUDA_GRAPH_INSTANTIATE_PARAMS p, *app = *(void *const *)args[2];
    if (!rpc_rbuf_ok(r) || present > 1 || raw_len) return -1;
    if (present) {
        if (rpc_get_bytes(r, &p, sizeof p)) return -1;
        if (app) app->hErrNode_out = p.hErrNode_out, app->result_out = p.result_out;
    }
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* ---- the marshaller ------------------------------------------------------------------ */

static int g_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                    struct iovec *raw, int *nraw)
{
    if (is_capture_info(d)) return ci_encode(d, args, w, raw, nraw);
    if (is_dot(d)) return dot_encode(d, args, w, raw, nraw);
    if (is_node_params(d)) return np_encode(d, args, w, raw, nraw);
    if (is_host_copy(d)) return hc_encode(d, args, w, raw, nraw);
    return gen_encode(d, args, w, raw, nraw);
}

static int g_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                    size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    if (is_capture_info(d)) return ci_decode(d, r, raw, raw_len, h, out);
    if (is_dot(d)) return dot_decode(d, r, raw, raw_len, h, out);
    if (is_inst(d)) return inst_decode(d, r, raw, raw_len, h, out);
    if (is_node_params(d)) return np_decode(d, r, raw, raw_len, h, out);
    if (is_host_copy(d)) return hc_decode(d, r, raw, raw_len, h, out);
    return gen_decode(d, r, raw, raw_len, h, out);
}

static int g_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                          struct iovec *raw, int *nraw)
{
    if (is_capture_info(dc->desc)) return ci_encode_reply(dc, result, w, raw, nraw);
    if (is_dot(dc->desc)) return dot_encode_reply(dc, result, w, raw, nraw);
    if (is_inst(dc->desc)) return inst_encode_reply(dc, result, w, raw, nraw);
    if (is_host_copy(dc->desc)) return hc_encode_reply(dc, result, w, raw, nraw);
    if (is_exec_update(dc->desc)) return eu_encode_reply(dc, result, w, raw, nraw);
    if (is_exec_update_v1(dc->desc)) return eu1_encode_reply(dc, result, w, raw, nraw);
    return gen_encode_reply(dc, result, w, raw, nraw);
}

static int g_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                          const void *raw, size_t raw_len, uint32_t *result)
{
    if (is_capture_info(d)) return ci_decode_reply(d, args, r, raw, raw_len, result);
    if (is_dot(d)) return dot_decode_reply(d, args, r, raw, raw_len, result);
    if (is_inst(d)) return inst_decode_reply(d, args, r, raw, raw_len, result);
    if (is_host_copy(d)) return hc_decode_reply(d, args, r, raw, raw_len, result);
    if (is_exec_update(d)) return eu_decode_reply(d, args, r, raw, raw_len, result);
    if (is_exec_update_v1(d)) return eu1_decode_reply(d, args, r, raw, raw_len, result);
    int rc = rpc_decode_reply_generic(d, args, r, raw, raw_len, result);
    /* a capture that ends in failure leaves no graph: the driver sets *phGraph = NULL */
    if (!rc && *result && base_is(d, "cuStreamEndCapture") && d->nargs == 2 &&
        *(void *const *)args[1])
        **(CUgraph *const *)args[1] = NULL;
    return rc;
}

const struct rpc_custom rpc_custom_graph = {
    "graph", g_encode, g_decode_reply, g_decode, g_encode_reply,
};
