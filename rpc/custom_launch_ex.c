/* custom_launch_ex.c — cuLaunchKernelEx[_ptsz]: the CUlaunchConfig travels field by
 * field (its stream as an id) with its attributes as (id, value bytes); event
 * handles inside attributes are translated like any handle; attributes that
 * carry host pointers are not supported. Kernel parameters as in custom_launch.c. */
#include <stdlib.h>
#include <string.h>

#include "launch_config.h"

/* 0: a plain value; 1: value starts with a CUevent; else the CUresult to answer. */
static int attr_class(uint32_t id)
{
    if (id == CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT || id == CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT)
        return 1;
    if (id == CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE) return RPC_CU_NOT_SUPPORTED;
    if (id <= CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT ||
        id == CU_LAUNCH_ATTRIBUTE_NVLINK_UTIL_CENTRIC_SCHEDULING)
        return 0;
    return RPC_CU_NOT_SUPPORTED;
}

static int launch_ex_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    const CUlaunchConfig *c = *(const CUlaunchConfig *const *)args[0];
    (void)raw;
    *nraw = 0;
    if (d->nargs != 4) return RPC_CU_NOT_SUPPORTED;
    if (!c || (c->numAttrs && !c->attrs)) return RPC_CU_INVALID_VALUE;
    if (c->numAttrs > RPC_LAUNCH_MAX_ATTRS) return RPC_CU_INVALID_VALUE;
    int rc = rpc_launch_config_put(w, c, attr_class);
    if (rc) return rc;
    rpc_enc_simple(w, &d->args[1], args[1]);
    rc = rpc_launch_enc_params(w, rpc_uint_at(args[1], d->args[1].size),
                               *(void **const *)args[2], *(void **const *)args[3]);
    if (rc) return rc;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

int rpc_launch_config_put(struct rpc_wbuf *w, const CUlaunchConfig *c, rpc_launch_attr_fn kind)
{
    const unsigned dims[7] = {c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX,
                              c->blockDimY, c->blockDimZ, c->sharedMemBytes};
    for (int i = 0; i < 7; i++) rpc_put_u32(w, dims[i]);
    rpc_put_u64(w, (uint64_t)(uintptr_t)c->hStream);
    rpc_put_u32(w, c->numAttrs);
    for (unsigned i = 0; i < c->numAttrs; i++) {
        int k = kind(c->attrs[i].id);
        if (k > 1) return k;
        rpc_put_u32(w, c->attrs[i].id);
        rpc_put_bytes(w, &c->attrs[i].value, sizeof c->attrs[i].value);
    }
    return 0;
}

int rpc_launch_config_get(struct rpc_rbuf *r, const struct rpc_handle_ops *h,
                          struct rpc_launch_config *x, rpc_launch_attr_fn kind, int strict,
                          int *cu)
{
    static const struct rpc_arg_desc stream = {"hStream", "CUstream", RPC_ARG_HANDLE, RPC_S_PTR,
                                               sizeof(void *), sizeof(void *), RPC_H_STREAM};
    static const struct rpc_arg_desc event = {"event", "CUevent", RPC_ARG_HANDLE, RPC_S_PTR,
                                              sizeof(void *), sizeof(void *), RPC_H_EVENT};
    unsigned *dims[7] = {&x->config.gridDimX, &x->config.gridDimY, &x->config.gridDimZ,
                         &x->config.blockDimX, &x->config.blockDimY, &x->config.blockDimZ,
                         &x->config.sharedMemBytes};
    for (int i = 0; i < 7; i++) *dims[i] = rpc_get_u32(r);
    uint64_t sid = rpc_get_u64(r);
    x->config.numAttrs = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || x->config.numAttrs > RPC_LAUNCH_MAX_ATTRS) return -1;
    int rc = rpc_handle_in(h, &stream, sid, &x->config.hStream);
    if (rc && !*cu) *cu = rc;
    x->config.attrs = x->config.numAttrs ? x->attrs : NULL;
    for (unsigned i = 0; i < x->config.numAttrs; i++) {
        uint32_t id = rpc_get_u32(r);
        if (rpc_get_bytes(r, &x->attrs[i].value, sizeof x->attrs[i].value)) return -1;
        x->attrs[i].id = (CUlaunchAttributeID)id;
        int k = kind(id);
        if (k > 1 && strict) return -1; /* the shim refuses these */
        if (k > 1 && !*cu) *cu = k;
        if (k != 1) continue;
        uint64_t ev;
        memcpy(&ev, &x->attrs[i].value, sizeof ev);
        if ((rc = rpc_handle_in(h, &event, ev, &x->attrs[i].value)) && !*cu) *cu = rc;
    }
    return 0;
}

static int launch_ex_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                            size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct rpc_launch_config x;
    struct rpc_launch_params lp;
    int cu = 0;
    (void)raw;
    if (d->nargs != 4 || raw_len) return -1;
    memset(&x, 0, sizeof x);
    if (rpc_launch_config_get(r, h, &x, attr_class, 0, &cu) ||
        rpc_dec_simple(d, 1, r, h, out, &cu))
        return -1;
    void *f;
    memcpy(&f, out->val[1].bytes, sizeof f);
    int rc = rpc_launch_dec_params(r, f, out->ids[1], cu, sizeof x, &lp);
    if (rc) return rc;
    struct rpc_launch_config *sx = lp.block;
    memcpy(sx, &x, sizeof x);
    if (sx->config.numAttrs) sx->config.attrs = sx->attrs;
    out->scratch = lp.block;
    out->ptrval[0] = &sx->config;
    out->ptrval[2] = lp.kp;
    out->ptrval[3] = lp.extra;
    out->avalues[0] = &out->ptrval[0];
    out->avalues[2] = &out->ptrval[2];
    out->avalues[3] = &out->ptrval[3];
    return 0;
}

const struct rpc_custom rpc_custom_launch_ex = {
    "launch_ex", launch_ex_encode, rpc_decode_reply_generic, launch_ex_decode,
    rpc_encode_reply_generic,
};
