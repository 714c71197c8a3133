/* custom_kernel_node.c — cuGraphAddKernelNode_v2: the node's
 * CUDA_KERNEL_NODE_PARAMS carries handles (func or kern, ctx) and the
 * kernelParams / extra pointers, which travel as a launch does (the parameter
 * blob by the kernel's layout, custom_launch.c). The dependencies are a handle
 * array. The worker rebuilds the struct and the arrays in one block.
 *
 * Wire: u8 node present, u64 graph id, u8 deps present, numDependencies,
 * [numDependencies × u64 ids], u8 params present [+ u64 func id, u64 kern id,
 * u64 ctx id, 7 × u32 grid/block/shared, launch parameters]. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"

static int shape_ok(const struct rpc_call_desc *d)
{
    return d->nargs == 5 && d->args[0].kind == RPC_ARG_OUT_HANDLE &&
           d->args[1].kind == RPC_ARG_HANDLE && d->args[2].kind == RPC_ARG_HANDLE_ARRAY_IN &&
           d->args[3].kind == RPC_ARG_VALUE && d->args[4].size == sizeof(CUDA_KERNEL_NODE_PARAMS *);
}

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static int kn_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (!shape_ok(d)) return RPC_CU_NOT_SUPPORTED;
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_enc_simple(w, &d->args[1], args[1]);
    const CUgraphNode *deps = *(void *const *)args[2];
    size_t n = *(const size_t *)args[3];
    if (deps && n > RPC_MAX_HANDLE_ARRAY) return RPC_CU_INVALID_VALUE;
    rpc_put_u8(w, deps != NULL);
    rpc_put_u64(w, n);
    for (size_t j = 0; deps && j < n; j++) rpc_put_u64(w, (uint64_t)(uintptr_t)deps[j]);
    const CUDA_KERNEL_NODE_PARAMS *p = *(void *const *)args[4];
    rpc_put_u8(w, p != NULL);
    if (!p) return rpc_wbuf_ok(w) ? 0 : -1;
    uint64_t func = (uint64_t)(uintptr_t)p->func, kern = (uint64_t)(uintptr_t)p->kern;
    rpc_put_u64(w, func);
    rpc_put_u64(w, kern);
    rpc_put_u64(w, (uint64_t)(uintptr_t)p->ctx);
    const unsigned dims[7] = {p->gridDimX, p->gridDimY, p->gridDimZ, p->blockDimX,
                              p->blockDimY, p->blockDimZ, p->sharedMemBytes};
    for (int k = 0; k < 7; k++) rpc_put_u32(w, dims[k]);
    int rc = rpc_launch_enc_params(w, func ? func : kern, p->kernelParams, p->extra);
    if (rc) return rc;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int get_handle(const struct rpc_handle_ops *h, unsigned type, uint64_t id, void **real,
                      int *cu)
{
    struct rpc_arg_desc a = {.kind = RPC_ARG_HANDLE, .size = sizeof(void *), .handle = (uint8_t)type};
    *real = NULL;
    int rc = rpc_handle_in(h, &a, id, real);
    if (rc && !*cu) *cu = rc;
    return 0;
}

static int kn_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    if (raw_len || !shape_ok(d)) return -1;
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

    size_t head = align16(sizeof(CUDA_KERNEL_NODE_PARAMS)), prefix = head + align16((size_t)ndeps * 8);
    struct rpc_launch_params lp = {0};
    CUDA_KERNEL_NODE_PARAMS kp;
    memset(&kp, 0, sizeof kp);
    if (params_present) {
        uint64_t func = rpc_get_u64(r), kern = rpc_get_u64(r), ctx = rpc_get_u64(r);
        uint32_t dims[7];
        for (int k = 0; k < 7; k++) dims[k] = rpc_get_u32(r);
        if (!rpc_rbuf_ok(r)) return -1;
        void *f, *kr, *c;
        get_handle(h, RPC_H_FUNCTION, func, &f, &cu);
        get_handle(h, RPC_H_KERNEL, kern, &kr, &cu);
        get_handle(h, RPC_H_CONTEXT, ctx, &c, &cu);
        kp.func = f, kp.kern = kr, kp.ctx = c;
        kp.gridDimX = dims[0], kp.gridDimY = dims[1], kp.gridDimZ = dims[2];
        kp.blockDimX = dims[3], kp.blockDimY = dims[4], kp.blockDimZ = dims[5];
        kp.sharedMemBytes = dims[6];
        for (uint64_t j = 0; j < ndeps; j++) { /* translate before the parameters */
            void *real;
            get_handle(h, RPC_H_GRAPH_NODE, rpc_uint_at(ids + j * 8, 8), &real, &cu);
        }
        int rc = rpc_launch_dec_params(r, func ? f : kr, func ? func : kern, cu, prefix, &lp);
        if (rc) {
            free(lp.block);
            return rc;
        }
        kp.kernelParams = lp.kp;
        kp.extra = lp.extra;
    } else {
        if (!rpc_rbuf_done(r)) return -1;
        if (cu) return cu;
        if (!(lp.block = calloc(1, prefix + 16))) return RPC_CU_OUT_OF_MEMORY;
    }
    uint8_t *b = lp.block;
    out->scratch = b;
    void **deps = (void **)(b + head);
    for (uint64_t j = 0; j < ndeps; j++) {
        int rc = get_handle(h, RPC_H_GRAPH_NODE, rpc_uint_at(ids + j * 8, 8), &deps[j], &cu);
        (void)rc;
    }
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

const struct rpc_custom rpc_custom_kernel_node = {
    "kernel_node", kn_encode, rpc_decode_reply_generic, kn_decode, rpc_encode_reply_generic,
};
