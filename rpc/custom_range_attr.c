/* custom_range_attr.c — cuMemRangeGetAttributes (managed memory hints, the
 * plural of cuMemRangeGetAttribute): arrays of attributes, value sizes and
 * value pointers. Wire: u64 n, n x (u32 attribute, u64 size, u8 present),
 * u64 devPtr, u64 count; reply: u32 result [+ each present value's bytes].
 * The worker checks [devPtr, devPtr+count) like every device range
 * (server/ranges.c). */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"

#define MAX_ATTRS 64
#define MAX_VALUE 4096 /* bytes of one value (the largest is a list of locations) */

static int ra_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    void *const *data = *(void *const *const *)args[0];
    const size_t *sizes = *(const size_t *const *)args[1];
    const CUmem_range_attribute *attrs = *(const CUmem_range_attribute *const *)args[2];
    size_t n = *(const size_t *)args[3];
    (void)raw;
    *nraw = 0;
    if (!n || n > MAX_ATTRS || !data || !sizes || !attrs) return RPC_CU_INVALID_VALUE;
    rpc_put_u64(w, n);
    for (size_t i = 0; i < n; i++) {
        if (sizes[i] > MAX_VALUE) return RPC_CU_INVALID_VALUE;
        rpc_put_u32(w, (uint32_t)attrs[i]);
        rpc_put_u64(w, sizes[i]);
        rpc_put_u8(w, data[i] != NULL);
    }
    rpc_enc_simple(w, &d->args[4], args[4]);
    rpc_enc_simple(w, &d->args[5], args[5]);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int ra_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    void *const *data = *(void *const *const *)args[0];
    const size_t *sizes = *(const size_t *const *)args[1];
    size_t n = *(const size_t *)args[3];
    (void)d, (void)raw;
    if (raw_len) return -1;
    *result = rpc_get_u32(r);
    for (size_t i = 0; *result == 0 && i < n; i++)
        if (data[i]) rpc_get_bytes(r, data[i], sizes[i]);
    return rpc_rbuf_done(r) ? 0 : -1;
}

struct ra_scratch {
    void *data[MAX_ATTRS];
    size_t sizes[MAX_ATTRS];
    CUmem_range_attribute attrs[MAX_ATTRS];
    size_t n;
    unsigned char values[];
};

static int ra_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    uint64_t n = rpc_get_u64(r), total = 0;
    if (raw_len || !rpc_rbuf_ok(r) || !n || n > MAX_ATTRS) return -1;
    struct ra_scratch *sc = calloc(1, sizeof *sc + (size_t)n * MAX_VALUE);
    if (!sc) return RPC_CU_OUT_OF_MEMORY;
    out->scratch = sc;
    sc->n = (size_t)n;
    for (uint64_t i = 0; i < n; i++) {
        sc->attrs[i] = (CUmem_range_attribute)rpc_get_u32(r);
        uint64_t size = rpc_get_u64(r);
        uint8_t present = rpc_get_u8(r);
        if (size > MAX_VALUE || present > 1) return -1;
        sc->sizes[i] = (size_t)size;
        sc->data[i] = present ? sc->values + total : NULL;
        total += size;
    }
    if (rpc_dec_simple(d, 4, r, h, out, &cu) || rpc_dec_simple(d, 5, r, h, out, &cu) ||
        !rpc_rbuf_done(r))
        return -1;
    out->ptrval[0] = sc->data, out->ptrval[1] = sc->sizes, out->ptrval[2] = sc->attrs;
    for (int i = 0; i < 3; i++) out->avalues[i] = &out->ptrval[i];
    memcpy(out->val[3].bytes, &sc->n, sizeof sc->n);
    out->avalues[3] = out->val[3].bytes;
    return cu;
}

static int ra_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    const struct ra_scratch *sc = dc->scratch;
    (void)raw;
    *nraw = 0;
    rpc_put_u32(w, result);
    for (size_t i = 0; result == 0 && sc && i < sc->n; i++)
        if (sc->data[i]) rpc_put_bytes(w, sc->data[i], sc->sizes[i]);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_range_attr = {
    "range_attr", ra_encode, ra_decode_reply, ra_decode, ra_encode_reply,
};
