/* traits.c — what the worker's checks need to know of a call that follows
 * from its descriptor alone (a VMM call, a free, a graph marshaller, ...),
 * worked out once per call (rpc_traits in rpc/calls.h) instead of comparing
 * names on every call's path. */
#include <string.h>

#include "session.h"

static int is(const char *s, const char *want)
{
    return !strcmp(s, want);
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static int ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcmp(s + n - k, suffix);
}

/* A copy or memset whose host bytes travel with the call (inside the
 * marshaller's encoding for the 2D/3D ones); structs in buffers of other
 * calls (capture dependencies' edge data) are no copies. */
static int host_bytes(const struct rpc_call_desc *d)
{
    const char *c = d->custom;
    if (c && (is(c, "memcpy2d") || is(c, "memcpy3d"))) return 1;
    if (!starts(d->base, "cuMemcpy") && !starts(d->base, "cuMemset")) return 0;
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
    if (starts(b, "cuMemMap") || starts(b, "cuMemUnmap") || starts(b, "cuMemAddress") ||
        starts(b, "cuMemSetAccess") || starts(b, "cuMemGetAccess") ||
        starts(b, "cuMemRetainAllocationHandle"))
        t |= SV_VMM;
    if (is(b, "cuMemAddressReserve")) t |= SV_ADDR_RESERVE;
    if (host_bytes(d)) t |= SV_HOST_BYTES;
    if (starts(b, "cuStreamBeginCapture")) t |= SV_BEGIN_CAPTURE;
    if (ends(b, "Destroy") || ends(b, "Unload") || is(b, "cuGraphDestroyNode") ||
        is(b, "cuMemRelease"))
        t |= SV_DESTROYS;
    if ((is(b, "cuMemFree") && d->nargs == 1) || is(b, "cuCtxDestroy") ||
        is(b, "cuDevicePrimaryCtxReset"))
        t |= SV_MIRROR_BEFORE;
    if (is(b, "cuMemPrefetchBatchAsync") || is(b, "cuMemDiscardBatchAsync") ||
        is(b, "cuMemDiscardAndPrefetchBatchAsync") || is(c, "batch") || is(c, "batch3d") ||
        is(c, "range_attr") || is(c, "memcpy2d") || is(c, "memcpy3d"))
        t |= SV_RANGES_OWN;
    if (starts(b, "cuIpc")) t |= SV_IPC;
    if (is(b, "cuIpcCloseMemHandle") || is(b, "cuMemFree") || is(b, "cuMemFreeAsync"))
        t |= SV_IPC_POST;
    if (is(c, "graph")) t |= SV_GRAPH;
    return t;
}

uint32_t srv_traits(const struct rpc_call_desc *d)
{
    static struct rpc_traits t = {work_out};
    return rpc_traits_of(&t, d);
}
