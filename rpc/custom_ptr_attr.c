/* custom_ptr_attr.c — cuPointerGetAttribute and cuPointerGetAttributes: the
 * attribute decides the size of each value (a handle, pointer or 64-bit value,
 * the P2P tokens struct, or a 32-bit value).
 * Singular: u8 present, u32 attribute, u64 ptr; reply: u32 result [+ the value].
 * Plural: u32 n, n x u32 attribute, n x u8 present, u64 ptr; reply: u32 result
 * [+ each present value in order]. The worker replaces CONTEXT / MEMPOOL_HANDLE
 * values (real handles) by the session's ids before the reply (server/post.c).
 * Pointers outside the device window never get here: the shim answers them. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"

static unsigned value_size(uint32_t attr)
{
    switch (attr) {
    case CU_POINTER_ATTRIBUTE_P2P_TOKENS: return sizeof(CUDA_POINTER_ATTRIBUTE_P2P_TOKENS);
    case CU_POINTER_ATTRIBUTE_CONTEXT:
    case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
    case CU_POINTER_ATTRIBUTE_HOST_POINTER:
    case CU_POINTER_ATTRIBUTE_BUFFER_ID:
    case CU_POINTER_ATTRIBUTE_MEMORY_BLOCK_ID:
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
    case CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR:
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
    case CU_POINTER_ATTRIBUTE_MAPPING_SIZE:
    case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE: return 8;
    default: return 4; /* the driver refuses unknown attributes; nothing is written */
    }
}

static int pt_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (d->nargs != 3) return RPC_CU_NOT_SUPPORTED;
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_enc_simple(w, &d->args[1], args[1]);
    rpc_enc_simple(w, &d->args[2], args[2]);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int pt_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    if (raw_len || d->nargs != 3) return -1;
    (void)raw;
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    void *v = *(void *const *)args[0];
    if (*result == 0 && v) rpc_get_bytes(r, v, value_size((uint32_t)rpc_uint_at(args[1], 4)));
    return rpc_rbuf_done(r) ? 0 : -1;
}

static int pt_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    (void)raw;
    if (raw_len || d->nargs != 3) return -1;
    uint8_t present = rpc_get_u8(r);
    if (present > 1) return -1;
    if (rpc_dec_simple(d, 1, r, h, out, &cu) || rpc_dec_simple(d, 2, r, h, out, &cu)) return -1;
    if (!rpc_rbuf_done(r)) return -1;
    /* the value lives in val[0] (64 bytes, aligned); ptrval[0] points at it */
    memset(out->val[0].bytes, 0, sizeof out->val[0].bytes);
    out->ptrval[0] = present ? out->val[0].bytes : NULL;
    out->avalues[0] = &out->ptrval[0];
    out->lens[0] = value_size((uint32_t)rpc_uint_at(out->val[1].bytes, 4));
    return cu;
}

static int pt_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    rpc_put_u32(w, result);
    if (result == 0 && dc->ptrval[0]) rpc_put_bytes(w, dc->ptrval[0], dc->lens[0]);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* ---- the plural form ---------------------------------------------------------- */

#define MAX_ATTRS 256 /* far more than there are attributes; repeats are allowed */

struct pts_scratch { /* the worker's arrays for the backend */
    CUpointer_attribute attrs[MAX_ATTRS];
    void *data[MAX_ATTRS];
    unsigned char vals[MAX_ATTRS][64];
};

static int pts_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w)
{
    uint32_t n = (uint32_t)rpc_uint_at(args[0], 4);
    const CUpointer_attribute *attrs = *(void *const *)args[1];
    void *const *data = *(void *const *)args[2];
    if (!n || n > MAX_ATTRS || !attrs || !data) return RPC_CU_INVALID_VALUE;
    rpc_put_u32(w, n);
    for (uint32_t i = 0; i < n; i++) rpc_put_u32(w, (uint32_t)attrs[i]);
    for (uint32_t i = 0; i < n; i++) rpc_put_u8(w, data[i] != NULL);
    rpc_enc_simple(w, &d->args[3], args[3]);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int pts_decode_reply(void *const *args, struct rpc_rbuf *r, uint32_t *result)
{
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    uint32_t n = (uint32_t)rpc_uint_at(args[0], 4);
    const CUpointer_attribute *attrs = *(void *const *)args[1];
    void *const *data = *(void *const *)args[2];
    for (uint32_t i = 0; *result == 0 && i < n && i < MAX_ATTRS; i++)
        if (data[i]) rpc_get_bytes(r, data[i], value_size((uint32_t)attrs[i]));
    return rpc_rbuf_done(r) ? 0 : -1;
}

static int pts_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r,
                      const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    uint32_t n = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || !n || n > MAX_ATTRS) return -1;
    struct pts_scratch *sc = calloc(1, sizeof *sc);
    if (!sc) return RPC_CU_OUT_OF_MEMORY;
    out->scratch = sc;
    for (uint32_t i = 0; i < n; i++) sc->attrs[i] = (CUpointer_attribute)rpc_get_u32(r);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t present = rpc_get_u8(r);
        if (present > 1) return -1;
        sc->data[i] = present ? sc->vals[i] : NULL;
    }
    if (rpc_dec_simple(d, 3, r, h, out, &cu) || !rpc_rbuf_done(r)) return -1;
    memcpy(out->val[0].bytes, &n, sizeof n);
    out->avalues[0] = out->val[0].bytes;
    out->ptrval[1] = sc->attrs;
    out->avalues[1] = &out->ptrval[1];
    out->ptrval[2] = sc->data;
    out->avalues[2] = &out->ptrval[2];
    out->lens[1] = out->lens[2] = n;
    return cu;
}

static int pts_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w)
{
    const struct pts_scratch *sc = dc->scratch;
    rpc_put_u32(w, result);
    for (size_t i = 0; result == 0 && sc && i < dc->lens[2]; i++)
        if (sc->data[i]) rpc_put_bytes(w, sc->data[i], value_size((uint32_t)sc->attrs[i]));
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* ---- one marshaller for both forms, by their number of parameters ---------------- */

static int pa_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    if (d->nargs != 4) return pt_encode(d, args, w, raw, nraw);
    *nraw = 0;
    return pts_encode(d, args, w);
}

static int pa_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    if (d->nargs != 4) return pt_decode_reply(d, args, r, raw, raw_len, result);
    return raw_len ? -1 : pts_decode_reply(args, r, result);
}

static int pa_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    if (d->nargs != 4) return pt_decode(d, r, raw, raw_len, h, out);
    return raw_len ? -1 : pts_decode(d, r, h, out);
}

static int pa_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    if (dc->desc->nargs != 4) return pt_encode_reply(dc, result, w, raw, nraw);
    *nraw = 0;
    return pts_encode_reply(dc, result, w);
}

const struct rpc_custom rpc_custom_ptr_attr = {
    "ptr_attr", pa_encode, pa_decode_reply, pa_decode, pa_encode_reply,
};
