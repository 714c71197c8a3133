/* context.c — primary contexts, created contexts, the per-thread context
 * stack, limits and configurations, bogus and destroyed handles. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* they are tested too */
#include <cuda.h>
#include <pthread.h>

#include "rgtest.h"

static void init(void)
{
    if (cuInit(0) != CUDA_SUCCESS) abort();
}

RG_TEST(no_context)
{
    init();
    CUcontext c = (CUcontext)0x1;
    CHECK_CU(cuCtxGetCurrent(&c));
    CHECK(c == NULL);
    CUdevice d;
    CHECK_CU_IS(cuCtxGetDevice(&d), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
    CUdeviceptr p;
    CHECK_CU_IS(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxPopCurrent(&c), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxGetCurrent(NULL), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(create_push_pop)
{
    init();
    CUcontext a, b, cur;
    CHECK_CU(cuCtxCreate(&a, NULL, 0, 0));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == a);
    CHECK_CU(cuCtxCreate(&b, NULL, CU_CTX_SCHED_YIELD, 0));
    CHECK(a != b);
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == b);
    unsigned flags = 0;
    CHECK_CU(cuCtxGetFlags(&flags));
    CHECK_EQ_INT(flags & CU_CTX_SCHED_MASK, CU_CTX_SCHED_YIELD);
    CHECK_CU(cuCtxPopCurrent(&cur));
    CHECK(cur == b);
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == a);
    CHECK_CU(cuCtxPushCurrent(b));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == b);
    CUdevice d = -1;
    CHECK_CU(cuCtxGetDevice(&d));
    CHECK_EQ_INT(d, 0);
    CHECK_CU(cuCtxGetDevice_v2(&d, a));
    CHECK_EQ_INT(d, 0);
    unsigned long long ida = 0, idb = 0;
    CHECK_CU(cuCtxGetId(a, &ida));
    CHECK_CU(cuCtxGetId(b, &idb));
    CHECK(ida != idb);
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuCtxSynchronize_v2(a));
    CHECK_CU(cuCtxDestroy(b));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == a); /* destroying the current context pops it */
    CHECK_CU(cuCtxDestroy(a));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == NULL);
}

RG_TEST(bad_contexts)
{
    init();
    CUcontext c;
    CHECK_CU_IS(cuCtxCreate(NULL, NULL, 0, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuCtxCreate(&c, NULL, 0, 99), CUDA_ERROR_INVALID_DEVICE);
    CHECK_CU_IS(cuCtxCreate(&c, NULL, 0x12345, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuCtxDestroy((CUcontext)0x1234), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxDestroy(NULL), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxPushCurrent((CUcontext)0x1234), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxSetCurrent((CUcontext)0x1234), CUDA_ERROR_INVALID_CONTEXT);
    unsigned long long id;
    CHECK_CU_IS(cuCtxGetId((CUcontext)0x1234, &id), CUDA_ERROR_INVALID_CONTEXT);
    /* use after destroy */
    CHECK_CU(cuCtxCreate(&c, NULL, 0, 0));
    CHECK_CU(cuCtxPopCurrent(NULL));
    CHECK_CU(cuCtxDestroy(c));
    CHECK_CU_IS(cuCtxDestroy(c), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxPushCurrent(c), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU_IS(cuCtxSynchronize_v2(c), CUDA_ERROR_INVALID_CONTEXT);
}

RG_TEST(destroyed_while_current_elsewhere)
{
    init();
    CUcontext c, cur;
    CHECK_CU(cuCtxCreate(&c, NULL, 0, 0));
    CHECK_CU(cuCtxPushCurrent(c)); /* twice on the stack */
    CHECK_CU(cuCtxDestroy(c));     /* pops one */
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == c);
    CUdeviceptr p;
    CHECK_CU_IS(cuMemAlloc(&p, 16), CUDA_ERROR_CONTEXT_IS_DESTROYED);
    CHECK_CU(cuCtxPopCurrent(NULL));
}

RG_TEST(primary)
{
    init();
    CUcontext p1, p2, cur;
    unsigned flags;
    int active = -1;
    CHECK_CU(cuDevicePrimaryCtxGetState(0, &flags, &active));
    CHECK_EQ_INT(active, 0);
    CHECK_CU(cuDevicePrimaryCtxRetain(&p1, 0));
    CHECK_CU(cuDevicePrimaryCtxRetain(&p2, 0));
    CHECK(p1 == p2);
    CHECK_CU(cuDevicePrimaryCtxGetState(0, &flags, &active));
    CHECK_EQ_INT(active, 1);
    CHECK_CU(cuCtxSetCurrent(p1));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == p1);
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 1024));
    CHECK_CU_IS(cuCtxDestroy(p1), CUDA_ERROR_INVALID_CONTEXT); /* not by cuCtxDestroy */
    CHECK_CU(cuDevicePrimaryCtxRelease(0));
    CHECK_CU(cuDevicePrimaryCtxGetState(0, &flags, &active));
    CHECK_EQ_INT(active, 1);
    CHECK_CU(cuDevicePrimaryCtxRelease(0));
    CHECK_CU(cuDevicePrimaryCtxGetState(0, &flags, &active));
    CHECK_EQ_INT(active, 0);
    CHECK_CU_IS(cuDevicePrimaryCtxRelease(0), CUDA_ERROR_INVALID_CONTEXT);
    /* same handle after release; memory of the old incarnation is gone */
    CHECK_CU(cuDevicePrimaryCtxRetain(&p2, 0));
    CHECK(p1 == p2);
    size_t sz;
    CHECK_CU_IS(cuMemGetAddressRange(NULL, &sz, d), CUDA_ERROR_NOT_FOUND);
    CHECK_CU(cuDevicePrimaryCtxSetFlags(0, CU_CTX_SCHED_BLOCKING_SYNC));
    CHECK_CU(cuDevicePrimaryCtxGetState(0, &flags, &active));
    CHECK_EQ_INT(flags, CU_CTX_SCHED_BLOCKING_SYNC);
    CHECK_CU_IS(cuDevicePrimaryCtxSetFlags(0, 0xfff0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuDevicePrimaryCtxReset(0));
    CHECK_CU(cuDevicePrimaryCtxGetState(0, &flags, &active));
    CHECK_EQ_INT(active, 0);
    CHECK_CU_IS(cuDevicePrimaryCtxRetain(&p1, 42), CUDA_ERROR_INVALID_DEVICE);
    CHECK_CU_IS(cuDevicePrimaryCtxRetain(NULL, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuCtxSetCurrent(NULL));
}

/* cudart sets the primary context current before it retains it. */
RG_TEST(primary_current_before_retain)
{
    init();
    CUcontext p, cur;
    CHECK_CU(cuDevicePrimaryCtxRetain(&p, 0));
    CHECK_CU(cuDevicePrimaryCtxRelease(0));
    CHECK_CU(cuCtxSetCurrent(p));
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == p);
    CHECK_CU(cuDevicePrimaryCtxReset(0));
    CHECK_CU(cuCtxSetCurrent(NULL));
}

RG_TEST(limits_and_configs)
{
    init();
    CUcontext c;
    CHECK_CU(cuCtxCreate(&c, NULL, 0, 0));
    size_t v = 0;
    CHECK_CU(cuCtxGetLimit(&v, CU_LIMIT_STACK_SIZE));
    CHECK(v > 0);
    CHECK_CU(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 4096));
    CHECK_CU(cuCtxGetLimit(&v, CU_LIMIT_STACK_SIZE));
    CHECK_EQ_INT(v, 4096);
    CHECK_CU(cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE, 1 << 24));
    CHECK_CU(cuCtxGetLimit(&v, CU_LIMIT_MALLOC_HEAP_SIZE));
    CHECK_EQ_INT(v, 1 << 24);
    CHECK_CU_IS(cuCtxSetLimit((CUlimit)0x55, 1), CUDA_ERROR_UNSUPPORTED_LIMIT);
    CHECK_CU_IS(cuCtxGetLimit(NULL, CU_LIMIT_STACK_SIZE), CUDA_ERROR_INVALID_VALUE);
    CUfunc_cache cc;
    CHECK_CU(cuCtxSetCacheConfig(CU_FUNC_CACHE_PREFER_SHARED));
    CHECK_CU(cuCtxGetCacheConfig(&cc));
    CHECK_EQ_INT(cc, CU_FUNC_CACHE_PREFER_SHARED);
    CHECK_CU_IS(cuCtxSetCacheConfig((CUfunc_cache)9), CUDA_ERROR_INVALID_VALUE);
    CUsharedconfig sc;
    CHECK_CU(cuCtxGetSharedMemConfig(&sc));
    int least = 1, greatest = 1;
    CHECK_CU(cuCtxGetStreamPriorityRange(&least, &greatest));
    CHECK(greatest <= least);
    unsigned ver = 0;
    CHECK_CU(cuCtxGetApiVersion(c, &ver));
    CHECK(ver > 0);
    CHECK_CU(cuCtxResetPersistingL2Cache());
    CUexecAffinityParam aff;
    CHECK_CU(cuCtxGetExecAffinity(&aff, CU_EXEC_AFFINITY_TYPE_SM_COUNT));
    int sms;
    CHECK_CU(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0));
    CHECK_EQ_INT(aff.param.smCount.val, sms);
    CHECK_CU(cuCtxSetFlags(CU_CTX_SCHED_SPIN));
    unsigned fl;
    CHECK_CU(cuCtxGetFlags(&fl));
    CHECK_EQ_INT(fl, CU_CTX_SCHED_SPIN);
    CHECK_CU(cuCtxDestroy(c));
}

static CUcontext shared_ctx;
static int thread_ok;

static void *thread_main(void *arg)
{
    CUcontext cur = (CUcontext)0x1, mine;
    thread_ok = 0;
    if (cuCtxGetCurrent(&cur) || cur != NULL) return NULL; /* stacks are per thread */
    if (cuCtxCreate(&mine, NULL, 0, 0)) return NULL;
    if (cuCtxPushCurrent(shared_ctx)) return NULL;
    if (cuCtxGetCurrent(&cur) || cur != shared_ctx) return NULL;
    if (cuCtxPopCurrent(&cur) || cur != shared_ctx) return NULL;
    if (cuCtxGetCurrent(&cur) || cur != mine) return NULL;
    if (cuCtxDestroy(mine)) return NULL;
    thread_ok = 1;
    return NULL;
}

RG_TEST(per_thread_stacks)
{
    init();
    CUcontext cur;
    CHECK_CU(cuCtxCreate(&shared_ctx, NULL, 0, 0));
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, thread_main, NULL);
        pthread_join(t[i], NULL);
        CHECK(thread_ok);
    }
    CHECK_CU(cuCtxGetCurrent(&cur));
    CHECK(cur == shared_ctx);
    CHECK_CU(cuCtxDestroy(shared_ctx));
}

RG_TEST(destroy_invalidates_children)
{
    init();
    CUcontext c;
    CUstream s;
    CUevent e;
    CUdeviceptr p;
    CHECK_CU(cuCtxCreate(&c, NULL, 0, 0));
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuEventCreate(&e, 0));
    CHECK_CU(cuMemAlloc(&p, 4096));
    CHECK_CU(cuCtxDestroy(c));
    CHECK_CU(cuCtxCreate(&c, NULL, 0, 0));
    CHECK_CU_IS(cuStreamSynchronize(s), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventQuery(e), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuMemFree(p), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuCtxDestroy(c));
}

RG_TEST(peer_access)
{
    init();
    int n = 0;
    CHECK_CU(cuDeviceGetCount(&n));
    if (n < 2) RG_SKIP("needs two devices (SIMGPU_DEVICES=2)");
    int can = 0;
    CHECK_CU(cuDeviceCanAccessPeer(&can, 0, 1));
    CHECK_EQ_INT(can, 1);
    CUcontext a, b, a2;
    CHECK_CU(cuCtxCreate(&b, NULL, 0, 1));
    CHECK_CU(cuCtxCreate(&a2, NULL, 0, 0));
    CHECK_CU(cuCtxCreate(&a, NULL, 0, 0));
    CHECK_CU(cuCtxEnablePeerAccess(b, 0));
    CHECK_CU_IS(cuCtxEnablePeerAccess(b, 0), CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED);
    CHECK_CU_IS(cuCtxEnablePeerAccess(a2, 0), CUDA_ERROR_INVALID_DEVICE);
    CHECK_CU_IS(cuCtxEnablePeerAccess(b, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuCtxEnablePeerAccess((CUcontext)0x42, 0), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU(cuCtxDisablePeerAccess(b));
    CHECK_CU_IS(cuCtxDisablePeerAccess(b), CUDA_ERROR_PEER_ACCESS_NOT_ENABLED);
    int v;
    CHECK_CU(cuDeviceGetP2PAttribute(&v, CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED, 0, 1));
    CHECK_EQ_INT(v, 1);
    CUdevice d;
    CHECK_CU(cuCtxGetDevice_v2(&d, b));
    CHECK_EQ_INT(d, 1);
    CHECK_CU(cuCtxDestroy(a));
    CHECK_CU(cuCtxDestroy(a2));
    CHECK_CU(cuCtxDestroy(b));
}

RG_TEST_MAIN()
