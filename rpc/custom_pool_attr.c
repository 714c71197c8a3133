/* custom_pool_attr.c — cuMemPoolGetAttribute / cuMemPoolSetAttribute: `value`
 * is an int for the reuse policies and a cuuint64_t for the thresholds and
 * counters, so its size comes from `attr`. Wire: u64 pool id, u32 attr, u8
 * present [+ the value's bytes for Set]; reply: u32 result [+ the bytes for Get]. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <string.h>

#include "custom.h"

static unsigned value_size(uint32_t attr)
{
    switch (attr) {
    case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES: return sizeof(int);
    default: return sizeof(cuuint64_t); /* the driver judges unknown attributes */
    }
}

static int is_set(const struct rpc_call_desc *d)
{
    return strstr(d->name, "SetAttribute") != NULL;
}

static int pa_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (d->nargs != 3) return RPC_CU_NOT_SUPPORTED;
    rpc_enc_simple(w, &d->args[0], args[0]);
    rpc_enc_simple(w, &d->args[1], args[1]);
    const void *v = *(void *const *)args[2];
    rpc_put_u8(w, v != NULL);
    if (v && is_set(d)) rpc_put_bytes(w, v, value_size((uint32_t)rpc_uint_at(args[1], 4)));
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int pa_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    if (raw_len || d->nargs != 3) return -1;
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    void *v = *(void *const *)args[2];
    if (*result == 0 && v && !is_set(d))
        rpc_get_bytes(r, v, value_size((uint32_t)rpc_uint_at(args[1], 4)));
    return rpc_rbuf_done(r) ? 0 : -1;
}

static int pa_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    if (raw_len || d->nargs != 3) return -1;
    if (rpc_dec_simple(d, 0, r, h, out, &cu) || rpc_dec_simple(d, 1, r, h, out, &cu)) return -1;
    uint8_t present = rpc_get_u8(r);
    if (present > 1) return -1;
    unsigned n = value_size((uint32_t)rpc_uint_at(out->val[1].bytes, 4));
    /* the value lives in val[2] (8 bytes, aligned); ptrval[2] points at it */
    if (present && is_set(d) && rpc_get_bytes(r, out->val[2].bytes, n)) return -1;
    if (!rpc_rbuf_done(r)) return -1;
    out->ptrval[2] = present ? out->val[2].bytes : NULL;
    out->avalues[2] = &out->ptrval[2];
    out->lens[2] = n;
    return cu;
}

static int pa_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    rpc_put_u32(w, result);
    if (result == 0 && dc->ptrval[2] && !is_set(dc->desc))
        rpc_put_bytes(w, dc->ptrval[2], dc->lens[2]);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_pool_attr = {
    "pool_attr", pa_encode, pa_decode_reply, pa_decode, pa_encode_reply,
};
