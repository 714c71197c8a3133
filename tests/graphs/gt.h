/* gt.h — helpers shared by the graph tests: a current context, a module of
 * hand-written PTX kernels, device buffers. Public cuda.h only, so the tests
 * run unchanged against any libcuda.so.1. */
#ifndef GT_H
#define GT_H

#include <cuda.h>
#include <stdint.h>

#include "rgtest.h"

/* cuInit, then the primary context of device 0 made current; NULL on failure. */
CUcontext gt_ctx(void);
/* The PTX module (loaded once); NULL if it cannot be loaded. Kernels:
 *   axpb(u32 *p, u32 n, u32 a, u32 b):   p[i] = p[i] * a + b   for i < n
 *   addv(u32 *dst, const u32 *src, u32 n): dst[i] += src[i]     for i < n */
CUmodule gt_module(void);
CUfunction gt_func(const char *name);

#define GT_CTX()                                                                                   \
    do {                                                                                           \
        if (!gt_ctx()) RG_FAIL("no context on device 0");                                          \
    } while (0)

#define GT_KERNELS()                                                                               \
    do {                                                                                           \
        if (!gt_module()) RG_SKIP("PTX kernels cannot be loaded on this backend");                 \
    } while (0)

/* The stream's capture status, (CUstreamCaptureStatus)-1 if the query fails. */
CUstreamCaptureStatus gt_capture_status(CUstream s);

/* Host-side increments: a host node / host function counting calls. */
void gt_count(void *counter);

#endif
