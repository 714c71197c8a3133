/* handles.c — hostile handles: made-up, NULL where not allowed, and
 * destroyed ones, passed to every entry point that takes a context, stream,
 * event, memory pool or VMM handle. Each must fail with the driver's code for
 * that handle type and never crash. */
#include <cuda.h>
#include <stdint.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

/* Values no API handed out: small, odd, high, and inside the heap. */
static void *bogus[4];

static void make_bogus(void)
{
    static long on_heap[4];
    bogus[0] = (void *)0x10;
    bogus[1] = (void *)0x12345679;
    bogus[2] = (void *)(uintptr_t)0x7ffffffff000ull;
    bogus[3] = on_heap;
}

static void CUDA_CB noop(void *p)
{
    (void)p;
}

RG_TEST(bogus_streams)
{
    setup();
    make_bogus();
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 64));
    for (int i = 0; i < 4; i++) {
        CUstream s = (CUstream)bogus[i];
        int prio;
        unsigned flags;
        CUcontext c;
        unsigned long long id;
        CHECK_CU_IS(cuStreamSynchronize(s), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamQuery(s), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamDestroy(s), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamGetPriority(s, &prio), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamGetFlags(s, &flags), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamGetCtx(s, &c), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamGetId(s, &id), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuLaunchHostFunc(s, noop, NULL), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuMemsetD8Async(d, 0, 64, s), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuMemcpyDtoDAsync(d, d, 8, s), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamWriteValue32(s, d, 1, 0), CUDA_ERROR_INVALID_HANDLE);
        CUdeviceptr p;
        CHECK_CU_IS(cuMemAllocAsync(&p, 64, s), CUDA_ERROR_INVALID_HANDLE);
    }
    CHECK_CU(cuMemFree(d));
}

RG_TEST(bogus_events)
{
    setup();
    make_bogus();
    CUevent good;
    CHECK_CU(cuEventCreate(&good, 0));
    CHECK_CU(cuEventRecord(good, NULL));
    for (int i = 0; i < 4; i++) {
        CUevent e = (CUevent)bogus[i];
        float ms;
        CHECK_CU_IS(cuEventQuery(e), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuEventSynchronize(e), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuEventRecord(e, NULL), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuEventDestroy(e), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuEventElapsedTime(&ms, e, good), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuEventElapsedTime(&ms, good, e), CUDA_ERROR_INVALID_HANDLE);
        CHECK_CU_IS(cuStreamWaitEvent(NULL, e, 0), CUDA_ERROR_INVALID_HANDLE);
    }
    CHECK_CU_IS(cuEventQuery(NULL), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuEventSynchronize(good));
    CHECK_CU(cuEventDestroy(good));
}

RG_TEST(bogus_contexts)
{
    setup();
    make_bogus();
    for (int i = 0; i < 4; i++) {
        CUcontext c = (CUcontext)bogus[i];
        CUdevice d;
        unsigned v;
        unsigned long long id;
        CHECK_CU_IS(cuCtxDestroy(c), CUDA_ERROR_INVALID_CONTEXT);
        CHECK_CU_IS(cuCtxPushCurrent(c), CUDA_ERROR_INVALID_CONTEXT);
        CHECK_CU_IS(cuCtxSetCurrent(c), CUDA_ERROR_INVALID_CONTEXT);
        CHECK_CU_IS(cuCtxGetApiVersion(c, &v), CUDA_ERROR_INVALID_CONTEXT);
        CHECK_CU_IS(cuCtxGetId(c, &id), CUDA_ERROR_INVALID_CONTEXT);
        CHECK_CU_IS(cuCtxGetDevice_v2(&d, c), CUDA_ERROR_INVALID_CONTEXT);
        CHECK_CU_IS(cuCtxSynchronize_v2(c), CUDA_ERROR_INVALID_CONTEXT);
        CHECK_CU_IS(cuCtxEnablePeerAccess(c, 0), CUDA_ERROR_INVALID_CONTEXT);
    }
    CUcontext cur;
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == ctx); /* nothing above changed the stack */
}

RG_TEST(bogus_pools_and_vmm)
{
    setup();
    make_bogus();
    for (int i = 0; i < 4; i++) {
        CUmemoryPool p = (CUmemoryPool)bogus[i];
        cuuint64_t v;
        CUdeviceptr d;
        CHECK_CU_IS(cuMemPoolGetAttribute(p, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &v),
                    CUDA_ERROR_INVALID_VALUE);
        CHECK_CU_IS(cuMemPoolDestroy(p), CUDA_ERROR_INVALID_VALUE);
        CHECK_CU_IS(cuMemPoolTrimTo(p, 0), CUDA_ERROR_INVALID_VALUE);
        CHECK_CU_IS(cuMemAllocFromPoolAsync(&d, 64, p, NULL), CUDA_ERROR_INVALID_VALUE);
        CHECK_CU_IS(cuDeviceSetMemPool(0, p), CUDA_ERROR_INVALID_VALUE);
        CUmemGenericAllocationHandle h = (CUmemGenericAllocationHandle)(uintptr_t)bogus[i];
        CUmemAllocationProp prop;
        CHECK_CU_IS(cuMemRelease(h), CUDA_ERROR_INVALID_VALUE);
        CHECK_CU_IS(cuMemGetAllocationPropertiesFromHandle(&prop, h), CUDA_ERROR_INVALID_VALUE);
    }
}

RG_TEST(destroyed_handles)
{
    setup();
    CUstream s;
    CUevent e;
    CUmemoryPool p;
    CUmemPoolProps props;
    memset(&props, 0, sizeof props);
    props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
    props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuEventCreate(&e, 0));
    CHECK_CU(cuMemPoolCreate(&p, &props));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuEventDestroy(e));
    CHECK_CU(cuMemPoolDestroy(p));
    CHECK_CU_IS(cuStreamQuery(s), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventRecord(e, NULL), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuMemPoolTrimTo(p, 0), CUDA_ERROR_INVALID_VALUE);
    /* a new object may not be mistaken for the old one's handle */
    CUstream s2;
    CHECK_CU(cuStreamCreate(&s2, 0));
    if (s2 != s) CHECK_CU_IS(cuStreamQuery(s), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuStreamDestroy(s2));
}

RG_TEST_MAIN()
