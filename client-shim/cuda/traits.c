/* traits.c — what the shim's checks need to know of a call that depends only
 * on its descriptor (is it cuInit, a memset, a launch, a free, ...), worked
 * out once per call from the names (rpc_traits in rpc/calls.h): every
 * forwarded call asks a few dozen such questions, and answering them by
 * comparing names each time was a fifth of the client's time in a launch
 * loop. */
#include <string.h>

#include "shim.h"

static uint32_t work_out(const struct rpc_call_desc *d)
{
    const char *n = d->name, *b = d->base;
    uint32_t t = 0;
    if (rpc_name_is(n, "cuInit") && d->nargs == 1) t |= RG_TR_INIT;
    if (rpc_name_starts(b, "cuMemsetD") && d->nargs >= 3) t |= RG_TR_MEMSET_D;
    if ((rpc_name_is(n, "cuEventCreate") || rpc_name_is(n, "cuStreamCreate")) && d->nargs == 2)
        t |= RG_TR_CREATE_FLAGS;
    if (rpc_name_is(b, "cuStreamWaitEvent") && d->nargs == 3) t |= RG_TR_CREATE_FLAGS;
    if (rpc_name_starts(n, "cuCtx") || rpc_name_starts(n, "cuDevice")) t |= RG_TR_CTX_LEVEL;
    if (rpc_name_is(b, "cuCtxSynchronize")) t |= RG_TR_CTX_SYNC;
    if ((rpc_name_is(b, "cuMemcpy") || rpc_name_is(b, "cuMemcpyAsync")) && d->nargs >= 3)
        t |= RG_TR_UNIFIED_COPY;
    if (rpc_name_is(b, "cuEventRecord") || rpc_name_is(b, "cuEventRecordWithFlags"))
        t |= RG_TR_RECORD;
    if ((rpc_name_starts(b, "cuMemcpy") || rpc_name_starts(b, "cuMemset")) && !strstr(b, "Async"))
        t |= RG_TR_SYNC_COPY;
    if (rpc_name_is(n, "cuMemFree_v2") || rpc_name_is(b, "cuMemFreeAsync")) t |= RG_TR_FREE;
    if ((rpc_name_is(b, "cuMemcpyHtoD") || rpc_name_is(b, "cuMemcpyHtoDAsync") ||
         rpc_name_is(b, "cuMemcpyDtoH") || rpc_name_is(b, "cuMemcpyDtoHAsync")) &&
        d->nargs >= 3 && d->args[2].kind == RPC_ARG_VALUE && d->args[2].size == sizeof(size_t))
        t |= RG_TR_SPLIT_COPY;
    if (rpc_name_starts(b, "cuStreamBeginCapture") || rpc_name_is(b, "cuStreamEndCapture"))
        t |= RG_TR_CAPTURE;
    if (rpc_name_ends(b, "Destroy") || rpc_name_ends(b, "Unload")) t |= RG_TR_DESTROY;
    if (rpc_name_is(b, "cuFuncSetAttribute") || rpc_name_is(b, "cuKernelSetAttribute") ||
        rpc_name_is(b, "cuCtxCreate") || rpc_name_is(b, "cuCtxDestroy") ||
        rpc_name_is(b, "cuDevicePrimaryCtxReset") || rpc_name_is(n, "cuMemAlloc_v2") ||
        rpc_name_is(b, "cuMemAllocAsync") || rpc_name_is(b, "cuMemAllocFromPoolAsync") ||
        rpc_name_is(n, "cuMemAllocPitch_v2") || rpc_name_is(n, "cuMemAllocManaged") ||
        rpc_name_is(b, "cuIpcOpenMemHandle") || rpc_name_is(b, "cuLibraryGetManaged") ||
        rpc_name_is(b, "cuMemFreeAsync"))
        t |= RG_TR_AFTER;
    if ((rpc_name_is(b, "cuLaunchKernel") || rpc_name_is(b, "cuLaunchCooperativeKernel")) &&
        d->nargs >= 10)
        t |= RG_TR_LAUNCH;
    if (rpc_name_is(b, "cuLaunchKernel") && d->nargs >= 10) t |= RG_TR_REPEATS;
    if (rpc_name_is(b, "cuLaunchKernelEx") && d->nargs >= 4) t |= RG_TR_LAUNCH_EX;
    if ((rpc_name_is(b, "cuPointerGetAttribute") && d->nargs == 3) ||
        (rpc_name_is(b, "cuPointerGetAttributes") && d->nargs == 4))
        t |= RG_TR_PTR_ATTR;
    return t;
}

uint32_t rg_call_traits(const struct rpc_call_desc *d)
{
    static struct rpc_traits t = {work_out};
    return rpc_traits_of(&t, d);
}
