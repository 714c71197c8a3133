/* mempool.c — stream-ordered allocation: default and user pools, async
 * alloc/free in stream order, pool attributes and access, bad input. */
#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

RG_TEST(default_pool)
{
    setup();
    int supported = 0;
    CHECK_CU(cuDeviceGetAttribute(&supported, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, 0));
    CHECK_EQ_INT(supported, 1);
    CUmemoryPool def, cur;
    CHECK_CU(cuDeviceGetDefaultMemPool(&def, 0));
    CHECK_CU(cuDeviceGetMemPool(&cur, 0));
    CHECK(def == cur && def != NULL);
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CUdeviceptr p;
    CHECK_CU(cuMemAllocAsync(&p, 1 << 20, s));
    CHECK_CU(cuMemsetD32Async(p, 0x01010101, 1 << 18, s));
    unsigned v[4];
    CHECK_CU(cuMemcpyDtoHAsync(v, p + 4096, sizeof v, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_U64(v[3], 0x01010101);
    CUmemoryPool owner = NULL;
    CHECK_CU(cuPointerGetAttribute(&owner, CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE, p));
    CHECK(owner == def);
    cuuint64_t used = 0;
    CHECK_CU(cuMemPoolGetAttribute(def, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &used));
    CHECK(used >= (1u << 20));
    CHECK_CU(cuMemFreeAsync(p, s));
    CHECK_CU_IS(cuMemFreeAsync(p, s), CUDA_ERROR_INVALID_VALUE); /* double free */
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuMemPoolGetAttribute(def, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &used));
    CHECK_EQ_U64(used, 0);
    cuuint64_t high = 0;
    CHECK_CU(cuMemPoolGetAttribute(def, CU_MEMPOOL_ATTR_USED_MEM_HIGH, &high));
    CHECK(high >= (1u << 20));
    cuuint64_t zero = 0;
    CHECK_CU(cuMemPoolSetAttribute(def, CU_MEMPOOL_ATTR_USED_MEM_HIGH, &zero));
    CHECK_CU(cuMemPoolTrimTo(def, 0));
    CHECK_CU_IS(cuMemPoolDestroy(def), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(user_pool)
{
    setup();
    CUmemPoolProps props;
    memset(&props, 0, sizeof props);
    props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
    props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    props.location.id = 0;
    CUmemoryPool pool;
    CHECK_CU(cuMemPoolCreate(&pool, &props));
    cuuint64_t thr = 1 << 20, got = 0;
    CHECK_CU(cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &thr));
    CHECK_CU(cuMemPoolGetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &got));
    CHECK_EQ_U64(got, thr);
    CUdeviceptr p;
    CHECK_CU(cuMemAllocFromPoolAsync(&p, 4096, pool, NULL));
    CUmemoryPool owner;
    CHECK_CU(cuPointerGetAttribute(&owner, CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE, p));
    CHECK(owner == pool);
    CHECK_CU(cuMemFreeAsync(p, NULL));
    CHECK_CU(cuDeviceSetMemPool(0, pool));
    CUmemoryPool cur;
    CHECK_CU(cuDeviceGetMemPool(&cur, 0));
    CHECK(cur == pool);
    CHECK_CU(cuMemAllocAsync(&p, 100, NULL));
    CHECK_CU(cuPointerGetAttribute(&owner, CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE, p));
    CHECK(owner == pool);
    CHECK_CU(cuMemFreeAsync(p, NULL));
    CUmemAccess_flags f;
    CUmemLocation loc = props.location;
    CHECK_CU(cuMemPoolGetAccess(&f, pool, &loc));
    CHECK_EQ_INT(f, CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemPoolDestroy(pool));
    CHECK_CU(cuDeviceGetMemPool(&cur, 0));
    CUmemoryPool def;
    CHECK_CU(cuDeviceGetDefaultMemPool(&def, 0));
    CHECK(cur == def);
    CHECK_CU_IS(cuMemAllocFromPoolAsync(&p, 16, pool, NULL), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(bad_input)
{
    setup();
    CUdeviceptr p;
    CHECK_CU_IS(cuMemAllocAsync(&p, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAllocAsync(NULL, 16, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAllocAsync(&p, 16, (CUstream)0x77), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuMemAllocAsync(&p, (size_t)1 << 52, NULL), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_CU_IS(cuMemFreeAsync((CUdeviceptr)0x1000, NULL), CUDA_ERROR_INVALID_VALUE);
    CUdeviceptr plain;
    CHECK_CU(cuMemAlloc(&plain, 64));
    CHECK_CU_IS(cuMemFreeAsync(plain, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(plain));
    CUmemPoolProps props;
    memset(&props, 0, sizeof props);
    CUmemoryPool pool;
    CHECK_CU_IS(cuMemPoolCreate(&pool, &props), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemPoolGetAttribute((CUmemoryPool)0x55, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &p),
                CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(pools_by_location)
{
    setup();
    CUmemLocation loc = {CU_MEM_LOCATION_TYPE_DEVICE, 0};
    CUmemoryPool a, b;
    CHECK_CU(cuMemGetDefaultMemPool(&a, &loc, CU_MEM_ALLOCATION_TYPE_PINNED));
    CHECK_CU(cuDeviceGetDefaultMemPool(&b, 0));
    CHECK(a == b);
    CHECK_CU(cuMemGetMemPool(&a, &loc, CU_MEM_ALLOCATION_TYPE_PINNED));
    CHECK_CU(cuDeviceGetMemPool(&b, 0));
    CHECK(a == b);
    CHECK_CU(cuMemSetMemPool(&loc, CU_MEM_ALLOCATION_TYPE_PINNED, b));
    CHECK_CU_IS(cuMemGetDefaultMemPool(&a, &loc, CU_MEM_ALLOCATION_TYPE_INVALID),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemGetDefaultMemPool(&a, NULL, CU_MEM_ALLOCATION_TYPE_PINNED),
                CUDA_ERROR_INVALID_VALUE);
    loc.id = 77;
    CHECK_CU_IS(cuMemGetDefaultMemPool(&a, &loc, CU_MEM_ALLOCATION_TYPE_PINNED),
                CUDA_ERROR_INVALID_DEVICE);
}

/* Resident set of this process in bytes (0 if unknown). */
static size_t rss_bytes(void)
{
    unsigned long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* A destroyed pool keeps its outstanding allocations usable; its handle is
 * refused at once; destroyed pools do not pile up in memory. */
RG_TEST(destroyed_pools_are_freed)
{
    setup();
    CUmemPoolProps props = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
                            .location = {CU_MEM_LOCATION_TYPE_DEVICE, 0}};
    CUmemoryPool pool, cur;
    CUstream s;
    CUdeviceptr p;
    cuuint64_t used;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemPoolCreate(&pool, &props));
    CHECK_CU(cuDeviceSetMemPool(0, pool));
    CHECK_CU(cuMemAllocFromPoolAsync(&p, 4096, pool, s));
    CHECK_CU(cuMemPoolDestroy(pool));
    CHECK_CU(cuDeviceGetMemPool(&cur, 0)); /* back to the default pool */
    CHECK(cur != pool);
    CHECK_CU_IS(cuMemPoolGetAttribute(pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &used),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemsetD32Async(p, 0x5a5a5a5a, 1024, s));
    CHECK_CU(cuMemFreeAsync(p, s));
    CHECK_CU(cuStreamSynchronize(s)); /* the pool's last allocation: the pool goes */
    CHECK_CU_IS(cuMemPoolGetAttribute(pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &used),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemPoolDestroy(pool), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuDeviceSetMemPool(0, pool), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAllocFromPoolAsync(&p, 64, pool, s), CUDA_ERROR_INVALID_VALUE);
    size_t before = rss_bytes();
    for (int i = 0; i < 30000; i++) {
        CHECK_CU(cuMemPoolCreate(&pool, &props));
        CHECK_CU(cuMemPoolDestroy(pool));
    }
    size_t after = rss_bytes();
#if defined(__SANITIZE_ADDRESS__)
    before = 0; /* AddressSanitizer keeps freed memory in quarantine */
#endif
    if (before && after > before + (6u << 20))
        RG_FAIL("30000 created and destroyed pools grew the process by %zu KiB",
                (after - before) >> 10);
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST_MAIN()
