/* custom_global.c — module and library variables (cuModuleGetGlobal,
 * cuLibraryGetGlobal, cuLibraryGetManaged): the generic wire form, but the
 * worker always asks the backend for the variable's size, even when the
 * application passed bytes = NULL. The worker records every variable it hands
 * out as session memory (server/post.c), and a later copy of it passes the
 * range check only if that record has the variable's real size. The size goes
 * back only when the application asked for it. */
#include <string.h>

#include "custom.h"

/* ids[] is unused for OUT scalars: ids[1] = 1 marks a size the client did not ask for. */
#define SIZE_ARG 1

static int global_ok(const struct rpc_call_desc *d)
{
    return d->nargs == 4 && d->args[SIZE_ARG].kind == RPC_ARG_OUT;
}

static int global_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                         struct iovec *raw, int *nraw)
{
    if (!global_ok(d)) return RPC_CU_NOT_SUPPORTED;
    return rpc_encode_call_generic(d, args, w, raw, nraw);
}

static int global_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                         size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    if (!global_ok(d)) return -1;
    int rc = rpc_decode_call_generic(d, r, raw, raw_len, h, out);
    if (rc == 0 && !out->ptrval[SIZE_ARG]) {
        out->ptrval[SIZE_ARG] = &out->val[SIZE_ARG];
        out->ids[SIZE_ARG] = 1;
    }
    return rc;
}

static int global_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                               struct iovec *raw, int *nraw)
{
    struct rpc_decoded as_asked = *dc;
    if (dc->ids[SIZE_ARG]) as_asked.ptrval[SIZE_ARG] = NULL;
    return rpc_encode_reply_generic(&as_asked, result, w, raw, nraw);
}

const struct rpc_custom rpc_custom_global = {
    "global", global_encode, rpc_decode_reply_generic, global_decode, global_encode_reply,
};
