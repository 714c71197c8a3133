/* custom_ptr_attr.c — cuPointerGetAttribute: the attribute decides the size of
 * `data` (a handle, pointer or 64-bit value, the P2P tokens struct, or a 32-bit
 * value). Wire: u8 present, u32 attribute, u64 ptr; reply: u32 result [+ the
 * value's bytes]. The worker replaces CONTEXT / MEMPOOL_HANDLE values (real
 * handles) by the session's ids before the reply (server/post.c). */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
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

const struct rpc_custom rpc_custom_ptr_attr = {
    "ptr_attr", pt_encode, pt_decode_reply, pt_decode, pt_encode_reply,
};
