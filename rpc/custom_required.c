/* custom_required.c — calls whose every output is required by the driver
 * (cuModuleGetFunctionCount, cuLibraryGetKernelCount): the generic wire form,
 * but a NULL output is CUDA_ERROR_INVALID_VALUE at once, in the shim, as the
 * driver answers it before it looks at the handle. The worker would otherwise
 * judge the handle first (a stale module id is refused before the backend
 * sees the call) and answer INVALID_HANDLE. */
#include "custom.h"

static int required_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    for (unsigned i = 0; i < d->nargs; i++)
        if ((d->args[i].kind == RPC_ARG_OUT || d->args[i].kind == RPC_ARG_OUT_HANDLE) &&
            !*(void *const *)args[i])
            return RPC_CU_INVALID_VALUE;
    return rpc_encode_call_generic(d, args, w, raw, nraw);
}

const struct rpc_custom rpc_custom_required = {
    "required", required_encode, rpc_decode_reply_generic, rpc_decode_call_generic,
    rpc_encode_reply_generic,
};
