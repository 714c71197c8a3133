/* remote.h — helpers shared by the remoting tests: a context on device 0 and
 * a monotonic clock. The tests run under with-rgpud.sh (RGPU_SERVER set). */
#ifndef RG_TEST_REMOTE_H
#define RG_TEST_REMOTE_H

#include <cuda.h>
#include <time.h>

#include "rgtest.h"

static inline double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cuInit + the primary context of device 0 made current; 0 on success. */
static inline CUresult rt_setup(CUcontext *ctx)
{
    CUresult r = cuInit(0);
    if (r == CUDA_SUCCESS) r = cuDevicePrimaryCtxRetain(ctx, 0);
    if (r == CUDA_SUCCESS) r = cuCtxSetCurrent(*ctx);
    return r;
}

#endif
