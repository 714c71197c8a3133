/* traits.c — what the worker's checks need to know of a call that follows
 * from its descriptor alone (a VMM call, a free, a graph marshaller, ...),
 * worked out once per call (rpc_traits in rpc/calls.h) instead of comparing
 * names on every call's path. */
#include <string.h>

#include "session.h"

/* A copy or memset whose host bytes travel with the call (inside the
 * marshaller's encoding for the 2D/3D ones); structs in buffers of other
 * calls (capture dependencies' edge data) are no copies. */
static int host_bytes(const struct rpc_call_desc *d)
{
    const char *c = d->custom;
    if (c && (rpc_name_is(c, "memcpy2d") || rpc_name_is(c, "memcpy3d"))) return 1;
    if (!rpc_name_starts(d->base, "cuMemcpy") && !rpc_name_starts(d->base, "cuMemset")) return 0;
    for (int i = 0; i < d->nargs; i++) {
        uint8_t k = d->args[i].kind;
        if (k == RPC_ARG_IN_BUF || k == RPC_ARG_OUT_BUF || k == RPC_ARG_INOUT_BUF) return 1;
    }
    return 0;
}

static uint32_t work_out(const struct rpc_call_desc *d)
{
    const char *b = d->base, *c = d->custom ? d->custom : "";
    uint32_t t = 0;
    if (rpc_name_starts(b, "cuMemMap") || rpc_name_starts(b, "cuMemUnmap") ||
        rpc_name_starts(b, "cuMemAddress") || rpc_name_starts(b, "cuMemSetAccess") ||
        rpc_name_starts(b, "cuMemGetAccess") || rpc_name_starts(b, "cuMemRetainAllocationHandle"))
        t |= SV_VMM;
    if (rpc_name_is(b, "cuMemAddressReserve")) t |= SV_ADDR_RESERVE;
    if (host_bytes(d)) t |= SV_HOST_BYTES;
    if (rpc_name_starts(b, "cuStreamBeginCapture")) t |= SV_BEGIN_CAPTURE;
    if (rpc_name_ends(b, "Destroy") || rpc_name_ends(b, "Unload") ||
        rpc_name_is(b, "cuGraphDestroyNode") || rpc_name_is(b, "cuMemRelease"))
        t |= SV_DESTROYS;
    if ((rpc_name_is(b, "cuMemFree") && d->nargs == 1) || rpc_name_is(b, "cuCtxDestroy") ||
        rpc_name_is(b, "cuDevicePrimaryCtxReset"))
        t |= SV_MIRROR_BEFORE;
    if (rpc_name_is(b, "cuMemPrefetchBatchAsync") || rpc_name_is(b, "cuMemDiscardBatchAsync") ||
        rpc_name_is(b, "cuMemDiscardAndPrefetchBatchAsync") || rpc_name_is(c, "batch") ||
        rpc_name_is(c, "batch3d") || rpc_name_is(c, "range_attr") || rpc_name_is(c, "memcpy2d") ||
        rpc_name_is(c, "memcpy3d"))
        t |= SV_RANGES_OWN;
    if (rpc_name_starts(b, "cuIpc")) t |= SV_IPC;
    if (rpc_name_is(b, "cuIpcCloseMemHandle") || rpc_name_is(b, "cuMemFree") ||
        rpc_name_is(b, "cuMemFreeAsync"))
        t |= SV_IPC_POST;
    if (rpc_name_is(c, "graph")) t |= SV_GRAPH;
    if (rpc_name_is(b, "cuLaunchKernel") && d->nargs >= 10) t |= SV_REPEATS;
    return t;
}

uint32_t srv_traits(const struct rpc_call_desc *d)
{
    static struct rpc_traits t = {work_out};
    return rpc_traits_of(&t, d);
}
