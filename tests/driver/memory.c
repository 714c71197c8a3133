/* memory.c — device, pitched, managed, pinned and registered memory:
 * allocation, accounting (run with SIMGPU_MEMORY=64M), address ranges,
 * double frees, bogus pointers and out-of-memory. */
#include <cuda.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

RG_TEST(alloc_free)
{
    setup();
    CUdeviceptr a, b;
    CHECK_CU(cuMemAlloc(&a, 1000));
    CHECK_CU(cuMemAlloc(&b, 1));
    CHECK(a != 0 && b != 0 && a != b);
    CHECK_EQ_INT(a % 256, 0);
    CHECK_EQ_INT(b % 256, 0);
    CUdeviceptr base;
    size_t size;
    CHECK_CU(cuMemGetAddressRange(&base, &size, a + 500));
    CHECK_EQ_U64(base, a);
    CHECK(size >= 1000);
    CHECK_CU(cuMemFree(a));
    CHECK_CU_IS(cuMemFree(a), CUDA_ERROR_INVALID_VALUE); /* double free */
    CHECK_CU_IS(cuMemFree(b + 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemGetAddressRange(&base, &size, a), CUDA_ERROR_NOT_FOUND);
    CHECK_CU(cuMemFree(b));
    CHECK_CU_IS(cuMemAlloc(&a, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAlloc(NULL, 16), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemFree((CUdeviceptr)0x1234), CUDA_ERROR_INVALID_VALUE);
    int host;
    CHECK_CU_IS(cuMemFree((CUdeviceptr)(uintptr_t)&host), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(info_and_oom)
{
    setup();
    size_t free0, total, free1;
    CHECK_CU(cuMemGetInfo(&free0, &total));
    CHECK_EQ_U64(total, 64ull << 20); /* SIMGPU_MEMORY=64M */
    CHECK(free0 <= total);
    CUdeviceptr p;
    CHECK_CU(cuMemAlloc(&p, 16 << 20));
    CHECK_CU(cuMemGetInfo(&free1, &total));
    CHECK(free0 - free1 >= (16u << 20));
    CUdeviceptr q;
    CHECK_CU_IS(cuMemAlloc(&q, 60 << 20), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_CU_IS(cuMemAlloc(&q, (size_t)1 << 50), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_CU_IS(cuMemAlloc(&q, SIZE_MAX), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_CU(cuMemFree(p));
    CHECK_CU(cuMemGetInfo(&free1, &total));
    CHECK_EQ_U64(free1, free0);
    /* fill the device in pieces, then everything is usable again after freeing */
    CUdeviceptr v[64];
    int n = 0;
    while (n < 64 && cuMemAlloc(&v[n], 4 << 20) == CUDA_SUCCESS)
        n++;
    CHECK(n >= 14 && n <= 16);
    while (n > 0)
        CHECK_CU(cuMemFree(v[--n]));
    CHECK_CU(cuMemAlloc(&p, 32 << 20));
    CHECK_CU(cuMemFree(p));
}

RG_TEST(memory_is_zero_and_reusable)
{
    setup();
    CUdeviceptr p;
    unsigned char buf[4096];
    for (int round = 0; round < 3; round++) {
        CHECK_CU(cuMemAlloc(&p, sizeof buf));
        memset(buf, 0xab, sizeof buf);
        CHECK_CU(cuMemcpyDtoH(buf, p, sizeof buf));
        for (size_t i = 0; i < sizeof buf; i++)
            if (buf[i] != 0) RG_FAIL("byte %zu = %d", i, buf[i]);
        CHECK_CU(cuMemsetD8(p, 0x5a, sizeof buf));
        CHECK_CU(cuMemFree(p));
    }
}

RG_TEST(pitch)
{
    setup();
    CUdeviceptr p;
    size_t pitch = 0;
    CHECK_CU(cuMemAllocPitch(&p, &pitch, 100, 10, 4));
    CHECK(pitch >= 100);
    CHECK_EQ_INT(pitch % 256, 0);
    CUdeviceptr base;
    size_t size;
    CHECK_CU(cuMemGetAddressRange(&base, &size, p));
    CHECK(size >= pitch * 10);
    CHECK_CU(cuMemFree(p));
    CHECK_CU_IS(cuMemAllocPitch(&p, &pitch, 100, 10, 3), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAllocPitch(&p, &pitch, 0, 10, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAllocPitch(&p, NULL, 100, 10, 4), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(managed)
{
    setup();
    CUdeviceptr p;
    CHECK_CU(cuMemAllocManaged(&p, 1 << 16, CU_MEM_ATTACH_GLOBAL));
    int *h = (int *)(uintptr_t)p;
    for (int i = 0; i < 1 << 14; i++)
        h[i] = i; /* host accessible */
    int out[4];
    CHECK_CU(cuMemcpyDtoH(out, p + 4 * 100, sizeof out));
    CHECK_EQ_INT(out[0], 100);
    CHECK_EQ_INT(out[3], 103);
    CHECK_CU(cuMemsetD32(p, 7, 1 << 14));
    CHECK_CU(cuCtxSynchronize());
    CHECK_EQ_INT(h[1000], 7);
    CHECK_CU(cuMemFree(p));
    CHECK_CU_IS(cuMemAllocManaged(&p, 16, 0x77), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAllocManaged(&p, 0, CU_MEM_ATTACH_GLOBAL), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(managed_hints)
{
    setup();
    CUdeviceptr p, d;
    CHECK_CU(cuMemAllocManaged(&p, 1 << 16, CU_MEM_ATTACH_GLOBAL));
    CUmemLocation dev0 = {CU_MEM_LOCATION_TYPE_DEVICE, 0};
    CUmemLocation host = {CU_MEM_LOCATION_TYPE_HOST, 0};
    CHECK_CU(cuMemPrefetchAsync(p, 1 << 16, dev0, 0, NULL));
    int loc = -5;
    CHECK_CU(
        cuMemRangeGetAttribute(&loc, 4, CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION, p, 1 << 16));
    CHECK_EQ_INT(loc, 0);
    CHECK_CU(cuMemAdvise(p, 4096, CU_MEM_ADVISE_SET_READ_MOSTLY, dev0));
    int rm = 0;
    CHECK_CU(cuMemRangeGetAttribute(&rm, 4, CU_MEM_RANGE_ATTRIBUTE_READ_MOSTLY, p, 4096));
    CHECK_EQ_INT(rm, 1);
    CHECK_CU(cuMemAdvise(p, 4096, CU_MEM_ADVISE_SET_PREFERRED_LOCATION, host));
    CHECK_CU(cuMemRangeGetAttribute(&loc, 4, CU_MEM_RANGE_ATTRIBUTE_PREFERRED_LOCATION, p, 4096));
    CHECK_EQ_INT(loc, CU_DEVICE_CPU);
    CHECK_CU_IS(cuMemPrefetchAsync(p, (1 << 16) + 1, dev0, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    size_t sz = 4096, idx = 0;
    CHECK_CU(cuMemPrefetchBatchAsync(&p, &sz, 1, &host, &idx, 1, 0, NULL));
    CHECK_CU(
        cuMemRangeGetAttribute(&loc, 4, CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION, p, 4096));
    CHECK_EQ_INT(loc, CU_DEVICE_CPU);
    CHECK_CU(cuMemDiscardBatchAsync(&p, &sz, 1, 0, NULL));
    CHECK_CU(cuMemAlloc(&d, 4096));
    CHECK_CU_IS(cuMemPrefetchAsync(d, 4096, dev0, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemDiscardBatchAsync(&d, &sz, 1, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemAdvise(d, 4096, CU_MEM_ADVISE_SET_READ_MOSTLY, dev0),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuMemFree(p));
}

RG_TEST(pinned_host)
{
    setup();
    void *h;
    CHECK_CU(cuMemAllocHost(&h, 10000));
    memset(h, 1, 10000);
    CUdeviceptr d;
    CHECK_CU(cuMemHostGetDevicePointer(&d, h, 0));
    CHECK_EQ_U64(d, (uintptr_t)h);
    CHECK_CU_IS(cuMemHostGetDevicePointer(&d, h, 1), CUDA_ERROR_INVALID_VALUE);
    unsigned flags = 99;
    CHECK_CU(cuMemHostGetFlags(&flags, h));
    CHECK_CU(cuMemFreeHost(h));
    CHECK_CU_IS(cuMemFreeHost(h), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemHostAlloc(&h, 4096, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
    CHECK_CU(cuMemHostGetFlags(&flags, h));
    CHECK(flags & CU_MEMHOSTALLOC_DEVICEMAP);
    CHECK_CU(cuMemFreeHost(h));
    CHECK_CU_IS(cuMemHostAlloc(&h, 4096, 0x100), CUDA_ERROR_INVALID_VALUE);
    int local;
    CHECK_CU_IS(cuMemFreeHost(&local), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFreeHost(NULL)); /* like free(NULL) */
    CHECK_CU(cuMemFree(0));
    CHECK_CU_IS(cuMemHostUnregister(NULL), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(registered_host)
{
    setup();
    size_t n = 1 << 16;
    char *buf = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buf != MAP_FAILED);
    CHECK_CU(cuMemHostRegister(buf, n, CU_MEMHOSTREGISTER_DEVICEMAP));
    CHECK_CU_IS(cuMemHostRegister(buf + 4096, 4096, 0), CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
    CUdeviceptr d;
    CHECK_CU(cuMemHostGetDevicePointer(&d, buf + 10, 0));
    CHECK_EQ_U64(d, (uintptr_t)(buf + 10));
    CHECK_CU_IS(cuMemHostUnregister(buf + 1), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
    CHECK_CU(cuMemHostUnregister(buf));
    CHECK_CU_IS(cuMemHostUnregister(buf), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
    CHECK_CU_IS(cuMemHostRegister(NULL, 16, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemHostRegister(buf, 0, 0), CUDA_ERROR_INVALID_VALUE);
    munmap(buf, n);
    CHECK_CU_IS(cuMemHostRegister(buf, n, 0), CUDA_ERROR_INVALID_VALUE); /* unmapped */
}

RG_TEST(freed_with_context)
{
    setup();
    CUcontext c;
    CUdeviceptr p;
    size_t free0, free1, total;
    CHECK_CU(cuMemGetInfo(&free0, &total));
    CHECK_CU(cuCtxCreate(&c, NULL, 0, 0));
    CHECK_CU(cuMemAlloc(&p, 8 << 20));
    CHECK_CU(cuCtxDestroy(c));
    CHECK_CU(cuMemGetInfo(&free1, &total));
    CHECK_EQ_U64(free1, free0);
}

/* Many tiny allocations fit in a small device, stay aligned, start zeroed
 * and give everything back. */
RG_TEST(many_small_allocations)
{
    setup();
    enum { N = 60000 };
    static CUdeviceptr v[N];
    size_t free0, free1, total;
    CHECK_CU(cuMemGetInfo(&free0, &total));
    for (int i = 0; i < N; i++) {
        size_t n = 1 + (size_t)(i % 300);
        CHECK_CU(cuMemAlloc(&v[i], n));
        CHECK_EQ_INT(v[i] % 256, 0);
    }
    unsigned char b[300];
    CHECK_CU(cuMemcpyDtoH(b, v[N - 1], 1 + (N - 1) % 300));
    CHECK_EQ_INT(b[0], 0);
    CUdeviceptr base;
    size_t size;
    CHECK_CU(cuMemGetAddressRange(&base, &size, v[777]));
    CHECK_EQ_U64(base, v[777]);
    CHECK_EQ_INT(size, 1 + 777 % 300);
    CHECK_CU_IS(cuMemcpyHtoD(v[777], b, size + 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemsetD8(v[5], 0xff, 6));
    for (int i = 0; i < N; i += 2)
        CHECK_CU(cuMemFree(v[i]));
    for (int i = 0; i < N; i += 2)
        CHECK_CU(cuMemAlloc(&v[i], 16)); /* reused, zeroed */
    CHECK_CU(cuMemcpyDtoH(b, v[4], 16));
    CHECK_EQ_INT(b[15], 0);
    for (int i = 0; i < N; i++)
        CHECK_CU(cuMemFree(v[i]));
    CHECK_CU(cuMemGetInfo(&free1, &total));
    CHECK_EQ_U64(free1, free0);
}

static int thread_errors;

static void thread_error(const char *what, CUresult r, int i)
{
    const char *name = NULL;
    cuGetErrorName(r, &name);
    fprintf(stderr, "  iteration %d: %s: %s\n", i, what, r ? (name ? name : "?") : "wrong value");
    __atomic_add_fetch(&thread_errors, 1, __ATOMIC_RELAXED);
}

static void *alloc_thread(void *arg)
{
    cuCtxSetCurrent(ctx);
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 300; i++) {
        CUdeviceptr p;
        size_t n = 1 + (rand_r(&seed) % 100000);
        CUresult r = cuMemAlloc(&p, n);
        if (r) {
            thread_error("cuMemAlloc", r, i);
            continue;
        }
        unsigned char v = (unsigned char)i, back = 0;
        if ((r = cuMemsetD8(p + n - 1, v, 1))) thread_error("cuMemsetD8", r, i);
        if ((r = cuMemcpyDtoH(&back, p + n - 1, 1))) thread_error("cuMemcpyDtoH", r, i);
        if (back != v) thread_error("the byte read back", CUDA_SUCCESS, i);
        if ((r = cuMemFree(p))) thread_error("cuMemFree", r, i);
    }
    return NULL;
}

RG_TEST(threads_alloc_free)
{
    setup();
    size_t free0, free1, total;
    CHECK_CU(cuMemGetInfo(&free0, &total));
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, alloc_thread, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(thread_errors, 0);
    CHECK_CU(cuMemGetInfo(&free1, &total));
    CHECK_EQ_U64(free1, free0);
}

RG_TEST_MAIN()
