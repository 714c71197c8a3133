/* roundtrip.c — device memory through the shim and rgpud: allocate, copy to the
 * device and back (small, and large enough to be split into several calls),
 * memset, free; contexts created by the client; round-trip latency printed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

RG_TEST(alloc_copy_roundtrip)
{
    CUcontext ctx;
    CHECK_CU(rt_setup(&ctx));
    size_t n = 1 << 20;
    unsigned char *a = malloc(n), *b = malloc(n);
    CHECK(a && b);
    for (size_t i = 0; i < n; i++) a[i] = (unsigned char)(i * 7 + 3);
    CUdeviceptr d = 0;
    CHECK_CU(cuMemAlloc(&d, n));
    CHECK(d != 0);
    CHECK_CU(cuMemcpyHtoD(d, a, n));
    memset(b, 0, n);
    CHECK_CU(cuMemcpyDtoH(b, d, n));
    CHECK(memcmp(a, b, n) == 0);
    CHECK_CU(cuMemsetD8(d, 0x5a, n));
    CHECK_CU(cuMemcpyDtoH(b, d + 100, 16));
    for (int i = 0; i < 16; i++) CHECK_EQ_INT(b[i], 0x5a);
    CHECK_CU(cuMemFree(d));
    free(a);
    free(b);
}

RG_TEST(large_copy_is_split)
{
    size_t n = (64u << 20) + 4096 + 17;
    unsigned char *a = malloc(n), *b = malloc(n);
    CHECK(a && b);
    for (size_t i = 0; i < n; i += 4093) a[i] = (unsigned char)(i >> 12);
    CUdeviceptr d = 0;
    CHECK_CU(cuMemAlloc(&d, n));
    CHECK_CU(cuMemcpyHtoD(d, a, n));
    memset(b, 0, n);
    CHECK_CU(cuMemcpyDtoH(b, d, n));
    CHECK(memcmp(a, b, n) == 0);
    CHECK_CU(cuMemFree(d));
    free(a);
    free(b);
}

RG_TEST(client_context_and_pinned_memory)
{
    CUcontext c = NULL, cur = NULL;
    CHECK_CU(cuCtxCreate(&c, NULL, 0, 0));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == c);
    CUdevice dev = -1;
    CHECK_CU(cuCtxGetDevice(&dev));
    CHECK_EQ_INT(dev, 0);
    void *h = NULL;
    CHECK_CU(cuMemAllocHost(&h, 4096));
    unsigned flags = 99;
    CHECK_CU(cuMemHostGetFlags(&flags, h));
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 4096));
    memset(h, 0x42, 4096);
    CHECK_CU(cuMemcpyHtoD(d, h, 4096));
    memset(h, 0, 4096);
    CHECK_CU(cuMemcpyDtoH(h, d, 4096));
    CHECK_EQ_INT(((unsigned char *)h)[4095], 0x42);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuMemFreeHost(h));
    CHECK_CU(cuCtxDestroy(c));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur != c);
}

RG_TEST(bogus_handles)
{
    CUcontext ctx;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU_IS(cuStreamSynchronize((CUstream)(uintptr_t)0xdeadbeef), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuCtxPushCurrent((CUcontext)(uintptr_t)0x1234), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuMemcpyHtoD(0x10, "x", 1), CUDA_ERROR_INVALID_VALUE);
}

/* Not a check: the cost of one synchronous call, for the record. */
RG_TEST(latency)
{
    CUcontext ctx;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuCtxSynchronize());
    int n = 2000;
    double t0 = rt_now();
    for (int i = 0; i < n; i++) CHECK_CU(cuCtxSynchronize());
    double t1 = rt_now();
    int v;
    for (int i = 0; i < n; i++) CHECK_CU(cuCtxGetApiVersion(ctx, (unsigned *)&v));
    double t2 = rt_now();
    printf("  cuCtxSynchronize round trip: %.1f us; cuCtxGetApiVersion: %.1f us\n",
           (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6);
}

RG_TEST_MAIN()
