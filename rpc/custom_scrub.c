/* custom_scrub.c — calls whose wire form is the generic one, but whose struct
 * arguments carry fields the worker must not pass on as the client sent them
 * (annotation custom=scrub): host pointers (win32 attributes) are cleared
 * after decoding, and pointers inside an output struct (an allocation's win32
 * metadata) before the reply, so no server pointer reaches the client.
 * Structs are recognised by the parameter's C type in the descriptor. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stddef.h>
#include <string.h>

#include "custom.h"

static int type_is(const struct rpc_arg_desc *a, const char *t)
{
    return a->ctype && strstr(a->ctype, t) != NULL;
}

static int scrub_in(const struct rpc_arg_desc *a, void *p, size_t len)
{
    if (type_is(a, "CUmemAllocationProp") && len == sizeof(CUmemAllocationProp)) {
        ((CUmemAllocationProp *)p)->win32HandleMetaData = NULL;
    } else if (type_is(a, "CUmemPoolProps") && len == sizeof(CUmemPoolProps)) {
        ((CUmemPoolProps *)p)->win32SecurityAttributes = NULL;
    } else {
        return RPC_CU_NOT_SUPPORTED; /* a struct this marshaller does not know */
    }
    return 0;
}

static int scrub_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                        size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int rc = rpc_decode_call_generic(d, r, raw, raw_len, h, out);
    if (rc) return rc;
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_IN_BUF || !out->ptrval[i]) continue;
        /* typed inputs live in the decoded call's scratch (writable, aligned) */
        if (a->align <= 1 || (rc = scrub_in(a, out->ptrval[i], out->lens[i]))) {
            rpc_decoded_free(out);
            return rc ? rc : RPC_CU_NOT_SUPPORTED;
        }
    }
    return 0;
}

static int scrub_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                              struct iovec *raw, int *nraw)
{
    const struct rpc_call_desc *d = dc->desc;
    for (unsigned i = 0; result == 0 && i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_OUT_BUF || !dc->ptrval[i]) continue;
        if (type_is(a, "CUmemAllocationProp") && dc->lens[i] == sizeof(CUmemAllocationProp))
            ((CUmemAllocationProp *)dc->ptrval[i])->win32HandleMetaData = NULL; /* a server pointer */
    }
    return rpc_encode_reply_generic(dc, result, w, raw, nraw);
}

const struct rpc_custom rpc_custom_scrub = {
    "scrub", rpc_encode_call_generic, rpc_decode_reply_generic, scrub_decode, scrub_encode_reply,
};
