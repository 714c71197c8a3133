/* vmm.c — virtual memory management: granularity, reserve (with a fixed
 * address), create, map, set access, copy through the mapping, alias the
 * same physical memory twice, unmap, release; and the error cases. */
#include <cuda.h>
#include <stdint.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

static CUmemAllocationProp prop(void)
{
    CUmemAllocationProp p;
    memset(&p, 0, sizeof p);
    p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    p.location.id = 0;
    return p;
}

RG_TEST(map_and_alias)
{
    setup();
    int supported = 0;
    CHECK_CU(cuDeviceGetAttribute(&supported,
                                  CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, 0));
    if (!supported) RG_SKIP("no VMM");
    CUmemAllocationProp p = prop();
    size_t g = 0;
    CHECK_CU(cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
    CHECK(g > 0);
    CUmemGenericAllocationHandle h;
    CHECK_CU(cuMemCreate(&h, g, &p, 0));
    CUdeviceptr va;
    CHECK_CU(cuMemAddressReserve(&va, 2 * g, 0, 0, 0));
    CHECK_CU(cuMemMap(va, g, 0, h, 0));
    CHECK_CU(cuMemMap(va + g, g, 0, h, 0)); /* the same memory, twice */
    CUmemAccessDesc acc;
    memset(&acc, 0, sizeof acc);
    acc.location = p.location;
    acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    CHECK_CU(cuMemSetAccess(va, 2 * g, &acc, 1));
    unsigned long long fl = 0;
    CHECK_CU(cuMemGetAccess(&fl, &p.location, va + 5));
    CHECK_EQ_INT(fl, CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
    int v = 1234, w = 0;
    CHECK_CU(cuMemcpyHtoD(va + 100, &v, sizeof v));
    CHECK_CU(cuMemcpyDtoH(&w, va + g + 100, sizeof w));
    CHECK_EQ_INT(w, 1234);
    CUmemGenericAllocationHandle h2;
    CHECK_CU(cuMemRetainAllocationHandle(&h2, (void *)(uintptr_t)(va + 7)));
    CHECK(h2 == h);
    CHECK_CU(cuMemRelease(h2));
    CUmemAllocationProp q;
    CHECK_CU(cuMemGetAllocationPropertiesFromHandle(&q, h));
    CHECK_EQ_INT(q.location.id, 0);
    CHECK_CU(cuMemRelease(h)); /* mappings keep the memory alive */
    CHECK_CU(cuMemcpyDtoH(&w, va + 100, sizeof w));
    CHECK_EQ_INT(w, 1234);
    CHECK_CU(cuMemUnmap(va, 2 * g));
    CHECK_CU_IS(cuMemcpyDtoH(&w, va + 100, sizeof w), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemAddressFree(va, 2 * g));
}

RG_TEST(fixed_address_and_errors)
{
    setup();
    CUmemAllocationProp p = prop();
    size_t g;
    CHECK_CU(cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED));
    CUdeviceptr va, va2;
    CHECK_CU(cuMemAddressReserve(&va, 4 * g, 0, 0, 0));
    CHECK_CU(cuMemAddressFree(va, 4 * g));
    CHECK_CU(cuMemAddressReserve(&va2, 4 * g, 0, va, 0)); /* the freed range, asked for */
    CHECK_EQ_U64(va2, va);
    CUmemGenericAllocationHandle h;
    CHECK_CU_IS(cuMemCreate(&h, g + 1, &p, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemCreate(&h, g, NULL, 0), CUDA_ERROR_INVALID_VALUE);
    p.location.id = 99;
    CHECK_CU_IS(cuMemCreate(&h, g, &p, 0), CUDA_ERROR_INVALID_DEVICE);
    p.location.id = 0;
    CHECK_CU(cuMemCreate(&h, 2 * g, &p, 0));
    CHECK_CU_IS(cuMemMap(va2, 4 * g, 0, h, 0), CUDA_ERROR_INVALID_VALUE); /* too big */
    CHECK_CU_IS(cuMemMap(va2, g, 2 * g, h, 0), CUDA_ERROR_INVALID_VALUE); /* offset */
    CHECK_CU_IS(cuMemMap(va2, g, 0, (CUmemGenericAllocationHandle)0x1234, 0),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemMap(va2, 2 * g, 0, h, 0));
    CHECK_CU_IS(cuMemMap(va2 + g, g, 0, h, 0), CUDA_ERROR_INVALID_VALUE); /* overlap */
    int x = 0;
    CHECK_CU_IS(cuMemcpyDtoH(&x, va2, 4), CUDA_ERROR_INVALID_VALUE); /* no access yet */
    CHECK_CU_IS(cuMemUnmap(va2, g), CUDA_ERROR_INVALID_VALUE);       /* part of a mapping */
    CHECK_CU(cuMemUnmap(va2, 2 * g));
    CHECK_CU(cuMemRelease(h));
    CHECK_CU_IS(cuMemRelease(h), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAddressFree(va2, g), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemAddressFree(va2, 4 * g));
    CHECK_CU_IS(cuMemAddressReserve(&va, g + 3, 0, 0, 0), CUDA_ERROR_INVALID_VALUE);
}

/* Frameworks reserve far more address space than they back. */
RG_TEST(large_reservation)
{
    setup();
    CUmemAllocationProp p = prop();
    size_t g;
    CHECK_CU(cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
    size_t big = (size_t)64 << 30;
    CUdeviceptr va;
    CHECK_CU(cuMemAddressReserve(&va, big, 0, 0, 0));
    CUmemGenericAllocationHandle h;
    CHECK_CU(cuMemCreate(&h, g, &p, 0));
    CHECK_CU(cuMemMap(va + big - g, g, 0, h, 0));
    CUmemAccessDesc acc;
    memset(&acc, 0, sizeof acc);
    acc.location = p.location;
    acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    CHECK_CU(cuMemSetAccess(va + big - g, g, &acc, 1));
    CHECK_CU(cuMemsetD32(va + big - g, 0x12345678, g / 4));
    unsigned v = 0;
    CHECK_CU(cuMemcpyDtoH(&v, va + big - 4, 4));
    CHECK_EQ_U64(v, 0x12345678);
    CHECK_CU(cuMemUnmap(va + big - g, g));
    CHECK_CU(cuMemRelease(h));
    CHECK_CU(cuMemAddressFree(va, big));
}

RG_TEST_MAIN()
