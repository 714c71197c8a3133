/* custom_kernel_node.c — kernel nodes: cuGraphAddKernelNode_v2,
 * cuGraphKernelNodeSetParams_v2, cuGraphExecKernelNodeSetParams_v2 and
 * cuGraphKernelNodeGetParams_v2. The node's CUDA_KERNEL_NODE_PARAMS carries
 * handles (func or kern, ctx) and the kernelParams / extra pointers, which
 * travel as a launch does (the parameter blob by the kernel's layout,
 * custom_launch.c). The worker rebuilds the struct and the arrays in one block.
 *
 * Wire, add: u8 node present, u64 graph id, u8 deps present, numDependencies,
 * [numDependencies × u64 ids], params. Set: u64 ids of the leading handles
 * (exec, node), params. Params: u8 present [+ u64 func id, u64 kern id, u64
 * ctx id, 7 × u32 grid/block/shared, launch parameters].
 * Get: u64 node id, u8 present; reply: u32 result [+ u64 func, kern, ctx ids,
 * 7 × u32, u32 count, count × (u32 size + bytes)]: the parameter values by
 * the kernel's layout; the shim keeps them per thread (custom_graph.h) as the
 * driver keeps its copy, and kernelParams points at them. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"
#include "custom_graph.h"

enum shape { ADD = 1, SET, GET };

static enum shape shape_of(const struct rpc_call_desc *d)
{
    const struct rpc_arg_desc *last = &d->args[d->nargs ? d->nargs - 1 : 0];
    if (!d->nargs || last->size != sizeof(CUDA_KERNEL_NODE_PARAMS *)) return 0;
    if (!strcmp(d->base, "cuGraphAddKernelNode"))
        return d->nargs == 5 && d->args[0].kind == RPC_ARG_OUT_HANDLE &&
                       d->args[1].kind == RPC_ARG_HANDLE &&
                       d->args[2].kind == RPC_ARG_HANDLE_ARRAY_IN &&
                       d->args[3].kind == RPC_ARG_VALUE
                   ? ADD
                   : 0;
    for (unsigned i = 0; i + 1 < d->nargs; i++)
        if (d->args[i].kind != RPC_ARG_HANDLE) return 0;
    if (!strcmp(d->base, "cuGraphKernelNodeGetParams")) return d->nargs == 2 ? GET : 0;
    if (!strcmp(d->base, "cuGraphKernelNodeSetParams")) return d->nargs == 2 ? SET : 0;
    if (!strcmp(d->base, "cuGraphExecKernelNodeSetParams")) return d->nargs == 3 ? SET : 0;
    return 0;
}

/* The _v1 struct (older headers' cuGraphAddKernelNode & co.) is the _v2 one
 * without kern and ctx at its end: never read or written past it. */
static int is_v1(const struct rpc_call_desc *d)
{
    const char *t = d->nargs ? d->args[d->nargs - 1].ctype : NULL;
    return t && strstr(t, "_v1") != NULL;
}

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static int enc_params(struct rpc_wbuf *w, const CUDA_KERNEL_NODE_PARAMS *p, int v1)
{
    rpc_put_u8(w, p != NULL);
    if (!p) return rpc_wbuf_ok(w) ? 0 : -1;
    uint64_t func = (uint64_t)(uintptr_t)p->func, kern = v1 ? 0 : (uint64_t)(uintptr_t)p->kern;
    rpc_put_u64(w, func);
    rpc_put_u64(w, kern);
    rpc_put_u64(w, v1 ? 0 : (uint64_t)(uintptr_t)p->ctx);
    const unsigned dims[7] = {p->gridDimX,  p->gridDimY,  p->gridDimZ,      p->blockDimX,
                              p->blockDimY, p->blockDimZ, p->sharedMemBytes};
    for (int k = 0; k < 7; k++)
        rpc_put_u32(w, dims[k]);
    int rc = rpc_launch_enc_params(w, func ? func : kern, p->kernelParams, p->extra);
    if (rc) return rc;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int kn_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    enum shape sh = shape_of(d);
    if (!sh) return RPC_CU_NOT_SUPPORTED;
    const CUDA_KERNEL_NODE_PARAMS *p = *(void *const *)args[d->nargs - 1];
    if (sh != ADD) {
        for (unsigned i = 0; i + 1 < d->nargs; i++)
            rpc_enc_simple(w, &d->args[i], args[i]);
        if (sh == GET) {
            rpc_put_u8(w, p != NULL);
            return rpc_wbuf_ok(w) ? 0 : -1;
        }
        return enc_params(w, p, is_v1(d));
    }
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_enc_simple(w, &d->args[1], args[1]);
    const CUgraphNode *deps = *(void *const *)args[2];
    size_t n = *(const size_t *)args[3];
    if (deps && n > RPC_MAX_HANDLE_ARRAY) return RPC_CU_INVALID_VALUE;
    rpc_put_u8(w, deps != NULL);
    rpc_put_u64(w, n);
    for (size_t j = 0; deps && j < n; j++)
        rpc_put_u64(w, (uint64_t)(uintptr_t)deps[j]);
    return enc_params(w, p, is_v1(d));
}

/* The first failure goes to *cu. */
static void get_handle(const struct rpc_handle_ops *h, unsigned type, uint64_t id, void **real,
                       int *cu)
{
    int rc = rpc_handle_in_ptr(h, type, id, real);
    if (rc && !*cu) *cu = rc;
}

/* The params part (after its u8 present): kp filled, lp's block holds prefix
 * bytes for the caller then the parameters. 0, a CUresult, or -1. */
static int dec_params(struct rpc_rbuf *r, const struct rpc_handle_ops *h, const uint8_t *ids,
                      uint64_t ndeps, size_t prefix, CUDA_KERNEL_NODE_PARAMS *kp,
                      struct rpc_launch_params *lp, int *cu)
{
    uint64_t func = rpc_get_u64(r), kern = rpc_get_u64(r), ctx = rpc_get_u64(r);
    uint32_t dims[7];
    for (int k = 0; k < 7; k++)
        dims[k] = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    void *f, *kr, *c;
    get_handle(h, RPC_H_FUNCTION, func, &f, cu);
    get_handle(h, RPC_H_KERNEL, kern, &kr, cu);
    get_handle(h, RPC_H_CONTEXT, ctx, &c, cu);
    kp->func = f, kp->kern = kr, kp->ctx = c;
    kp->gridDimX = dims[0], kp->gridDimY = dims[1], kp->gridDimZ = dims[2];
    kp->blockDimX = dims[3], kp->blockDimY = dims[4], kp->blockDimZ = dims[5];
    kp->sharedMemBytes = dims[6];
    for (uint64_t j = 0; j < ndeps; j++) { /* translate before the parameters */
        void *real;
        get_handle(h, RPC_H_GRAPH_NODE, rpc_uint_at(ids + j * 8, 8), &real, cu);
    }
    int rc = rpc_launch_dec_params(r, func ? f : kr, func ? func : kern, *cu, prefix, lp);
    if (rc) {
        free(lp->block);
        lp->block = NULL;
        return rc;
    }
    kp->kernelParams = lp->kp;
    kp->extra = lp->extra;
    return 0;
}

/* Set: the leading handles, then the params (in one block with the struct). */
static int set_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r,
                      const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    unsigned k = d->nargs - 1;
    for (unsigned i = 0; i < k; i++)
        if (rpc_dec_simple(d, i, r, h, out, &cu)) return -1;
    uint8_t present = rpc_get_u8(r);
    if (present > 1 || !rpc_rbuf_ok(r)) return -1;
    size_t head = align16(sizeof(CUDA_KERNEL_NODE_PARAMS));
    struct rpc_launch_params lp = {0};
    CUDA_KERNEL_NODE_PARAMS kp;
    memset(&kp, 0, sizeof kp);
    if (present) {
        int rc = dec_params(r, h, NULL, 0, head, &kp, &lp, &cu);
        if (rc) return rc;
    } else {
        if (!rpc_rbuf_done(r)) return -1;
        if (cu) return cu;
        if (!(lp.block = calloc(1, head + 16))) return RPC_CU_OUT_OF_MEMORY;
    }
    out->scratch = lp.block;
    memcpy(lp.block, &kp, sizeof kp);
    out->ptrval[k] = present ? lp.block : NULL;
    out->avalues[k] = &out->ptrval[k];
    return 0;
}

static int get_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r,
                      const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    if (rpc_dec_simple(d, 0, r, h, out, &cu)) return -1;
    uint8_t present = rpc_get_u8(r);
    if (present > 1 || !rpc_rbuf_done(r)) return -1;
    if (cu) return cu;
    if (present && !(out->scratch = calloc(1, sizeof(CUDA_KERNEL_NODE_PARAMS))))
        return RPC_CU_OUT_OF_MEMORY;
    out->ptrval[1] = out->scratch;
    out->avalues[1] = &out->ptrval[1];
    return 0;
}

static int kn_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    enum shape sh = shape_of(d);
    if (raw_len || !sh) return -1;
    if (sh == SET) return set_decode(d, r, h, out);
    if (sh == GET) return get_decode(d, r, h, out);
    uint8_t node_present = rpc_get_u8(r);
    if (node_present > 1 || rpc_dec_simple(d, 1, r, h, out, &cu)) return -1;
    uint8_t deps_present = rpc_get_u8(r);
    if (deps_present > 1 || rpc_dec_simple(d, 3, r, h, out, &cu)) return -1;
    uint64_t n = rpc_uint_at(out->val[3].bytes, d->args[3].size);
    if (deps_present && n > RPC_MAX_HANDLE_ARRAY) return -1;
    uint64_t ndeps = deps_present ? n : 0;
    const uint8_t *ids = rpc_get_view(r, (size_t)ndeps * 8);
    if (ndeps && !ids) return -1;
    uint8_t params_present = rpc_get_u8(r);
    if (params_present > 1 || !rpc_rbuf_ok(r)) return -1;

    size_t head = align16(sizeof(CUDA_KERNEL_NODE_PARAMS)),
           prefix = head + align16((size_t)ndeps * 8);
    struct rpc_launch_params lp = {0};
    CUDA_KERNEL_NODE_PARAMS kp;
    memset(&kp, 0, sizeof kp);
    if (params_present) {
        int rc = dec_params(r, h, ids, ndeps, prefix, &kp, &lp, &cu);
        if (rc) return rc;
    } else {
        if (!rpc_rbuf_done(r)) return -1;
        if (cu) return cu;
        if (!(lp.block = calloc(1, prefix + 16))) return RPC_CU_OUT_OF_MEMORY;
    }
    uint8_t *b = lp.block;
    out->scratch = b;
    void **deps = (void **)(b + head);
    for (uint64_t j = 0; j < ndeps; j++)
        get_handle(h, RPC_H_GRAPH_NODE, rpc_uint_at(ids + j * 8, 8), &deps[j], &cu);
    if (cu) {
        rpc_decoded_free(out);
        return cu;
    }
    memcpy(b, &kp, sizeof kp);
    out->ptrval[0] = node_present ? &out->val[0] : NULL;
    out->ptrval[2] = deps_present ? (void *)deps : NULL;
    out->ptrval[4] = params_present ? (void *)b : NULL;
    out->lens[2] = (size_t)ndeps;
    for (unsigned i = 0; i < 5; i++)
        if (i != 1 && i != 3) out->avalues[i] = &out->ptrval[i];
    return 0;
}

/* ---- cuGraphKernelNodeGetParams_v2: the reply --------------------------------------- */

static uint64_t id_of(unsigned type, void *real)
{
    const struct rpc_graph_ops *o = rpc_graph_ops_now();
    return real && o && o->to_id ? o->to_id(o->self, type, real, 0) : 0;
}

static int get_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    *nraw = 0;
    (void)raw;
    const CUDA_KERNEL_NODE_PARAMS *p = dc->ptrval[1];
    rpc_put_u32(w, result);
    if (result || !p) return rpc_wbuf_ok(w) ? 0 : -1;
    rpc_put_u64(w, id_of(RPC_H_FUNCTION, p->func));
    rpc_put_u64(w, id_of(RPC_H_KERNEL, p->kern));
    rpc_put_u64(w, id_of(RPC_H_CONTEXT, p->ctx));
    const unsigned dims[7] = {p->gridDimX,  p->gridDimY,  p->gridDimZ,      p->blockDimX,
                              p->blockDimY, p->blockDimZ, p->sharedMemBytes};
    for (int k = 0; k < 7; k++)
        rpc_put_u32(w, dims[k]);
    struct rpc_param_layout l = {0};
    const struct rpc_worker_ops *ops = __atomic_load_n(&rpc_worker_ops_now, __ATOMIC_ACQUIRE);
    void *f = p->func ? (void *)p->func : (void *)p->kern;
    if (!p->kernelParams || !f || !ops || !ops->param_layout ||
        ops->param_layout(ops->self, f, !p->func, &l) || l.count > RPC_MAX_KERNEL_PARAMS) {
        rpc_put_u32(w, 0); /* the extra form, or a layout the worker cannot learn */
        return rpc_wbuf_ok(w) ? 0 : -1;
    }
    rpc_put_u32(w, l.count);
    for (uint32_t i = 0; i < l.count; i++) {
        uint32_t n = l.size[i] > RPC_MAX_KERNEL_PARAM_BYTES ? 0 : l.size[i];
        rpc_put_u32(w, n);
        if (n) rpc_put_bytes(w, p->kernelParams[i], n);
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int get_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                            const void *raw, size_t raw_len, uint32_t *result)
{
    (void)raw;
    uint32_t res = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || raw_len) return -1;
    *result = res;
    CUDA_KERNEL_NODE_PARAMS *p = *(void *const *)args[1];
    if (res || !p) return rpc_rbuf_done(r) ? 0 : -1;
    CUDA_KERNEL_NODE_PARAMS kp;
    memset(&kp, 0, sizeof kp);
    kp.func = (CUfunction)(uintptr_t)rpc_get_u64(r);
    kp.kern = (CUkernel)(uintptr_t)rpc_get_u64(r);
    kp.ctx = (CUcontext)(uintptr_t)rpc_get_u64(r);
    unsigned dims[7];
    for (int k = 0; k < 7; k++)
        dims[k] = rpc_get_u32(r);
    kp.gridDimX = dims[0], kp.gridDimY = dims[1], kp.gridDimZ = dims[2];
    kp.blockDimX = dims[3], kp.blockDimY = dims[4], kp.blockDimZ = dims[5];
    kp.sharedMemBytes = dims[6];
    uint32_t count = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || count > RPC_MAX_KERNEL_PARAMS) return -1;
    /* first pass: the sizes, to size the kept block (pointers, then 16-aligned values) */
    size_t save = r->pos, total = align16((size_t)count * sizeof(void *));
    for (uint32_t i = 0; i < count; i++) {
        uint32_t n = rpc_get_u32(r);
        if (n > RPC_MAX_KERNEL_PARAM_BYTES || !rpc_get_view(r, n)) return -1;
        total += align16(n);
    }
    if (!rpc_rbuf_done(r)) return -1;
    r->pos = save;
    uint8_t *block = count ? rpc_graph_keep(RPC_GRAPH_KEEP_KPARAMS, NULL, total) : NULL;
    if (count && !block) return -1;
    void **ptrs = (void **)block;
    size_t off = align16((size_t)count * sizeof(void *));
    for (uint32_t i = 0; i < count; i++) {
        uint32_t n = rpc_get_u32(r);
        rpc_get_bytes(r, block + off, n);
        ptrs[i] = block + off;
        off += align16(n);
    }
    kp.kernelParams = count ? ptrs : NULL;
    memcpy(p, &kp, is_v1(d) ? sizeof(CUDA_KERNEL_NODE_PARAMS_v1) : sizeof kp);
    return rpc_rbuf_done(r) ? 0 : -1;
}

static int kn_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    if (shape_of(dc->desc) == GET) return get_encode_reply(dc, result, w, raw, nraw);
    return rpc_encode_reply_generic(dc, result, w, raw, nraw);
}

static int kn_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    if (shape_of(d) == GET) return get_decode_reply(d, args, r, raw, raw_len, result);
    return rpc_decode_reply_generic(d, args, r, raw, raw_len, result);
}

const struct rpc_custom rpc_custom_kernel_node = {
    "kernel_node", kn_encode, kn_decode_reply, kn_decode, kn_encode_reply,
};
