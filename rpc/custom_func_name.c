/* custom_func_name.c — cuFuncGetName / cuKernelGetName: the driver answers a
 * pointer to a string it owns. Wire: u8 present, u64 function or kernel id;
 * reply: u32 result [+ the name as a blob]. The shim keeps one copy of the name
 * per id (rpc_client_ops.keep_name) and hands the application that copy, so the
 * pointer stays valid after the call, as the driver's does. The handle is
 * checked by the worker on every call: a name cached for an unloaded module's
 * function is never answered. */
#include <string.h>

#include "custom.h"

/* C++ names of template instances can be long; the reply's encoded part allows 1 MiB. */
#define MAX_NAME (64u << 10)

static int fn_ok(const struct rpc_call_desc *d)
{
    return d->nargs == 2 && d->args[1].kind == RPC_ARG_HANDLE;
}

static int fn_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (!fn_ok(d)) return RPC_CU_NOT_SUPPORTED;
    const struct rpc_client_ops *ops = __atomic_load_n(&rpc_client_ops_now, __ATOMIC_ACQUIRE);
    if (!ops || !ops->keep_name) return RPC_CU_NOT_SUPPORTED;
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_enc_simple(w, &d->args[1], args[1]);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int fn_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    const char **out = *(const char **const *)args[0];
    (void)raw;
    if (raw_len || !fn_ok(d)) return -1;
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    if (*result != 0 || !out) return rpc_rbuf_done(r) ? 0 : -1;
    size_t len;
    const char *text = rpc_get_blob(r, &len);
    if (!rpc_rbuf_done(r) || len > MAX_NAME || (len && memchr(text, 0, len))) return -1;
    const struct rpc_client_ops *ops = __atomic_load_n(&rpc_client_ops_now, __ATOMIC_ACQUIRE);
    uint64_t id = rpc_uint_at(args[1], d->args[1].size);
    const char *kept = ops && ops->keep_name ? ops->keep_name(ops->self, id, text, len) : NULL;
    if (!kept) *result = RPC_CU_OUT_OF_MEMORY;
    else *out = kept;
    return 0;
}

static int fn_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    (void)raw;
    if (raw_len || !fn_ok(d)) return -1;
    uint8_t present = rpc_get_u8(r);
    if (present > 1 || rpc_dec_simple(d, 1, r, h, out, &cu) || !rpc_rbuf_done(r)) return -1;
    /* the driver's pointer lands in val[0] */
    out->val[0].ptr = NULL;
    out->ptrval[0] = present ? &out->val[0].ptr : NULL;
    out->avalues[0] = &out->ptrval[0];
    return cu;
}

static int fn_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    rpc_put_u32(w, result);
    if (result == 0 && dc->ptrval[0]) {
        const char *name = dc->val[0].ptr; /* the backend's string, not the client's */
        size_t len = name ? strnlen(name, MAX_NAME) : 0;
        rpc_put_blob(w, name ? name : "", len);
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_func_name = {
    "func_name", fn_encode, fn_decode_reply, fn_decode, fn_encode_reply,
};
