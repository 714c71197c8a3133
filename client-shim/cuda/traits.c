/* traits.c — what the shim's checks need to know of a call that depends only
 * on its descriptor (is it cuInit, a memset, a launch, a free, ...), worked
 * out once per call from the names (rpc_traits in rpc/calls.h): every
 * forwarded call asks a few dozen such questions, and answering them by
 * comparing names each time was a fifth of the client's time in a launch
 * loop. */
#include <string.h>

#include "shim.h"

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

static uint32_t work_out(const struct rpc_call_desc *d)
{
    const char *n = d->name, *b = d->base;
    uint32_t t = 0;
    if (is(n, "cuInit") && d->nargs == 1) t |= RG_TR_INIT;
    if (starts(b, "cuMemsetD") && d->nargs >= 3) t |= RG_TR_MEMSET_D;
    if ((is(n, "cuEventCreate") || is(n, "cuStreamCreate")) && d->nargs == 2)
        t |= RG_TR_CREATE_FLAGS;
    if (is(b, "cuStreamWaitEvent") && d->nargs == 3) t |= RG_TR_CREATE_FLAGS;
    if (starts(n, "cuCtx") || starts(n, "cuDevice")) t |= RG_TR_CTX_LEVEL;
    if (is(b, "cuCtxSynchronize")) t |= RG_TR_CTX_SYNC;
    if ((is(b, "cuMemcpy") || is(b, "cuMemcpyAsync")) && d->nargs >= 3) t |= RG_TR_UNIFIED_COPY;
    if (is(b, "cuEventRecord") || is(b, "cuEventRecordWithFlags")) t |= RG_TR_RECORD;
    if ((starts(b, "cuMemcpy") || starts(b, "cuMemset")) && !strstr(b, "Async"))
        t |= RG_TR_SYNC_COPY;
    if (is(n, "cuMemFree_v2") || is(b, "cuMemFreeAsync")) t |= RG_TR_FREE;
    if ((is(b, "cuMemcpyHtoD") || is(b, "cuMemcpyHtoDAsync") || is(b, "cuMemcpyDtoH") ||
         is(b, "cuMemcpyDtoHAsync")) &&
        d->nargs >= 3 && d->args[2].kind == RPC_ARG_VALUE && d->args[2].size == sizeof(size_t))
        t |= RG_TR_SPLIT_COPY;
    if (starts(b, "cuStreamBeginCapture") || is(b, "cuStreamEndCapture")) t |= RG_TR_CAPTURE;
    if (ends(b, "Destroy") || ends(b, "Unload")) t |= RG_TR_DESTROY;
    if (is(b, "cuFuncSetAttribute") || is(b, "cuKernelSetAttribute") || is(b, "cuCtxCreate") ||
        is(b, "cuCtxDestroy") || is(b, "cuDevicePrimaryCtxReset") || is(n, "cuMemAlloc_v2") ||
        is(b, "cuMemAllocAsync") || is(b, "cuMemAllocFromPoolAsync") ||
        is(n, "cuMemAllocPitch_v2") || is(n, "cuMemAllocManaged") || is(b, "cuIpcOpenMemHandle") ||
        is(b, "cuLibraryGetManaged") || is(b, "cuMemFreeAsync"))
        t |= RG_TR_AFTER;
    if ((is(b, "cuLaunchKernel") || is(b, "cuLaunchCooperativeKernel")) && d->nargs >= 10)
        t |= RG_TR_LAUNCH;
    if (is(b, "cuLaunchKernelEx") && d->nargs >= 4) t |= RG_TR_LAUNCH_EX;
    if ((is(b, "cuPointerGetAttribute") && d->nargs == 3) ||
        (is(b, "cuPointerGetAttributes") && d->nargs == 4))
        t |= RG_TR_PTR_ATTR;
    return t;
}

uint32_t rg_call_traits(const struct rpc_call_desc *d)
{
    static struct rpc_traits t = {work_out};
    return rpc_traits_of(&t, d);
}
