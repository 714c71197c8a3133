/* pointer.c — cuPointerGetAttribute(s) for device, managed, pinned,
 * registered and unknown pointers. */
#include <cuda.h>
#include <stdint.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

RG_TEST(device_pointer)
{
    setup();
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 1000));
    unsigned type = 0;
    CHECK_CU(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, d + 10));
    CHECK_EQ_INT(type, CU_MEMORYTYPE_DEVICE);
    CUcontext c = NULL;
    CHECK_CU(cuPointerGetAttribute(&c, CU_POINTER_ATTRIBUTE_CONTEXT, d));
    CHECK(c == ctx);
    CUdeviceptr dp = 0;
    CHECK_CU(cuPointerGetAttribute(&dp, CU_POINTER_ATTRIBUTE_DEVICE_POINTER, d + 5));
    CHECK_EQ_U64(dp, d + 5);
    void *hp;
    CHECK_CU_IS(cuPointerGetAttribute(&hp, CU_POINTER_ATTRIBUTE_HOST_POINTER, d),
                CUDA_ERROR_INVALID_VALUE);
    CUdeviceptr start = 0;
    size_t size = 0;
    CHECK_CU(cuPointerGetAttribute(&start, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, d + 999));
    CHECK_CU(cuPointerGetAttribute(&size, CU_POINTER_ATTRIBUTE_RANGE_SIZE, d + 999));
    CHECK_EQ_U64(start, d);
    CHECK(size >= 1000);
    unsigned long long id1 = 0, id2 = 0;
    CHECK_CU(cuPointerGetAttribute(&id1, CU_POINTER_ATTRIBUTE_BUFFER_ID, d));
    int ord = -1;
    CHECK_CU(cuPointerGetAttribute(&ord, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, d));
    CHECK_EQ_INT(ord, 0);
    unsigned managed = 1, mapped = 0;
    CHECK_CU(cuPointerGetAttribute(&managed, CU_POINTER_ATTRIBUTE_IS_MANAGED, d));
    CHECK_EQ_INT(managed, 0);
    CHECK_CU(cuPointerGetAttribute(&mapped, CU_POINTER_ATTRIBUTE_MAPPED, d));
    CHECK_EQ_INT(mapped, 1);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuMemAlloc(&d, 1000));
    CHECK_CU(cuPointerGetAttribute(&id2, CU_POINTER_ATTRIBUTE_BUFFER_ID, d));
    CHECK(id1 != id2); /* ids are never reused */
    CHECK_CU_IS(cuPointerGetAttribute(NULL, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, d),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuPointerGetAttribute(&type, (CUpointer_attribute)999, d),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(host_and_managed)
{
    setup();
    void *h;
    CHECK_CU(cuMemAllocHost(&h, 100));
    unsigned type = 0;
    CHECK_CU(
        cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)h));
    CHECK_EQ_INT(type, CU_MEMORYTYPE_HOST);
    void *hp = NULL;
    CHECK_CU(
        cuPointerGetAttribute(&hp, CU_POINTER_ATTRIBUTE_HOST_POINTER, (CUdeviceptr)(uintptr_t)h));
    CHECK(hp == h);
    CHECK_CU(cuMemFreeHost(h));
    CUdeviceptr m;
    CHECK_CU(cuMemAllocManaged(&m, 100, CU_MEM_ATTACH_GLOBAL));
    unsigned managed = 0;
    CHECK_CU(cuPointerGetAttribute(&managed, CU_POINTER_ATTRIBUTE_IS_MANAGED, m));
    CHECK_EQ_INT(managed, 1);
    CHECK_CU(cuPointerGetAttribute(&hp, CU_POINTER_ATTRIBUTE_HOST_POINTER, m));
    CHECK_EQ_U64((uintptr_t)hp, m);
    CHECK_CU(cuMemFree(m));
}

RG_TEST(unknown_pointers)
{
    setup();
    int local;
    unsigned type;
    CHECK_CU_IS(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                      (CUdeviceptr)(uintptr_t)&local),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, 0),
                CUDA_ERROR_INVALID_VALUE);
    /* the plural form answers defaults instead */
    CUpointer_attribute attrs[] = {CU_POINTER_ATTRIBUTE_MEMORY_TYPE, CU_POINTER_ATTRIBUTE_CONTEXT,
                                   CU_POINTER_ATTRIBUTE_IS_MANAGED};
    CUcontext c = (CUcontext)0x1;
    unsigned managed = 1;
    type = 77;
    void *data[] = {&type, &c, &managed};
    CHECK_CU(cuPointerGetAttributes(3, attrs, data, (CUdeviceptr)(uintptr_t)&local));
    CHECK_EQ_INT(type, 0);
    CHECK(c == NULL);
    CHECK_EQ_INT(managed, 0);
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuPointerGetAttributes(3, attrs, data, d));
    CHECK_EQ_INT(type, CU_MEMORYTYPE_DEVICE);
    CHECK(c == ctx);
    CHECK_CU_IS(cuPointerGetAttributes(0, attrs, data, d), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(d));
}

RG_TEST_MAIN()
