/* launch.c — the checks the driver makes before a launch returns (DESIGN rule
 * 3), made here before anything is sent: grid and block dimensions against
 * the device's limits (cached device attributes), zero dimensions, dynamic
 * shared memory against the device's opt-in limit and, above the default
 * per-block size, against the function's CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
 * (one round trip, only for such launches). Whatever passes here and still
 * fails on the worker (reqntid, registers, cooperative and cluster limits) is
 * reported by the next call that waits. */
#include <string.h>

#include "shim.h"

/* A device attribute from the cache, or asked once (the answer is cached by
 * devices.c); 0 if it cannot be had, which disables the check using it. */
/* The shim's own queries must not swallow an earlier pipelined failure that
 * the application's next waiting call is to report: it is set aside around
 * them, and a failure that is not the query's own goes back too. */
static int own_query_failed(CUresult pending, CUresult r)
{
    rg_conn_restore_async_error(pending);
    if (r != CUDA_SUCCESS && r != CUDA_ERROR_INVALID_VALUE && r != CUDA_ERROR_INVALID_DEVICE &&
        r != CUDA_ERROR_INVALID_HANDLE && r != CUDA_ERROR_NOT_SUPPORTED)
        rg_conn_restore_async_error(r);
    return r != CUDA_SUCCESS;
}

static int dev_attr(CUdevice dev, CUdevice_attribute a)
{
    int v = 0;
    CUresult pending = rg_conn_take_async_error();
    if (own_query_failed(pending, cuDeviceGetAttribute(&v, a, dev))) return 0;
    return v;
}

static CUresult check_dims(CUdevice dev, uint64_t func, const unsigned g[3], const unsigned b[3],
                           unsigned shmem)
{
    static const CUdevice_attribute gmax[3] = {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X,
                                               CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y,
                                               CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z};
    static const CUdevice_attribute bmax[3] = {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X,
                                               CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y,
                                               CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z};
    for (int i = 0; i < 3; i++)
        if (!g[i] || !b[i]) return CUDA_ERROR_INVALID_VALUE;
    for (int i = 0; i < 3; i++) {
        int gm = dev_attr(dev, gmax[i]), bm = dev_attr(dev, bmax[i]);
        if (gm > 0 && g[i] > (unsigned)gm) return CUDA_ERROR_INVALID_VALUE;
        if (bm > 0 && b[i] > (unsigned)bm) return CUDA_ERROR_INVALID_VALUE;
    }
    unsigned long long threads = (unsigned long long)b[0] * b[1] * b[2];
    int tmax = dev_attr(dev, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    if (tmax > 0 && threads > (unsigned long long)tmax) return CUDA_ERROR_INVALID_VALUE;
    if (!shmem) return CUDA_SUCCESS;
    int optin = dev_attr(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    if (optin > 0 && shmem > (unsigned)optin) return CUDA_ERROR_INVALID_VALUE;
    int dflt = dev_attr(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
    if (dflt > 0 && shmem > (unsigned)dflt && rg_id_type(func) == RPC_H_FUNCTION) {
        /* Only an opted-in function may use this much. */
        int fmax = 0;
        CUresult pending = rg_conn_take_async_error();
        CUresult r = cuFuncGetAttribute(&fmax, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                        (CUfunction)(uintptr_t)func);
        if (!own_query_failed(pending, r) && shmem > (unsigned)fmax) return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

static int is_launch(const char *base, const char *want)
{
    return !strcmp(base, want);
}

CUresult rg_launch_check(const struct rpc_call_desc *d, void **args)
{
    unsigned g[3], b[3], shmem;
    uint64_t func;
    if ((is_launch(d->base, "cuLaunchKernel") || is_launch(d->base, "cuLaunchCooperativeKernel")) &&
        d->nargs >= 8) {
        func = (uint64_t)(uintptr_t) * (CUfunction *)args[0];
        for (int i = 0; i < 3; i++) {
            g[i] = *(unsigned *)args[1 + i];
            b[i] = *(unsigned *)args[4 + i];
        }
        shmem = *(unsigned *)args[7];
    } else if (is_launch(d->base, "cuLaunchKernelEx") && d->nargs >= 2) {
        const CUlaunchConfig *c = *(const CUlaunchConfig **)args[0];
        if (!c) return CUDA_ERROR_INVALID_VALUE;
        if (c->numAttrs && !c->attrs) return CUDA_ERROR_INVALID_VALUE;
        func = (uint64_t)(uintptr_t) * (CUfunction *)args[1];
        g[0] = c->gridDimX, g[1] = c->gridDimY, g[2] = c->gridDimZ;
        b[0] = c->blockDimX, b[1] = c->blockDimY, b[2] = c->blockDimZ;
        shmem = c->sharedMemBytes;
    } else {
        return CUDA_SUCCESS;
    }
    if (!func) return CUDA_ERROR_INVALID_HANDLE;
    CUdevice dev;
    if (rg_ctx_device(rg_ctx_current_id(), &dev) != 0) return CUDA_SUCCESS;
    return check_dims(dev, func, g, b, shmem);
}
