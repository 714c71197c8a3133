/* memory.c — memory through the shim that the driver suite does not reach:
 * managed and mapped pinned memory kept coherent in both directions (a kernel's writes seen after
 * a synchronisation, the host's before a launch, bytes of one page changed by
 * both sides kept, an allocation bigger than one mirror batch), and device
 * ranges inside structs and arrays checked by the worker (2D / 3D copies,
 * memset and memcpy graph nodes, batch copies and prefetches): a range that leaves its
 * allocation gets CUDA_ERROR_INVALID_VALUE, never bytes of its neighbour
 * (simgpu itself does not check the rows of a 2D copy: this runs through the
 * shim only). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "remote.h"

static CUcontext ctx;

static const char ptx[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry incr(.param .u64 p)\n{\n"
    " .reg .b64 %rd<3>;\n .reg .b32 %r<3>;\n"
    " ld.param.u64 %rd1, [p];\n cvta.to.global.u64 %rd2, %rd1;\n"
    " ld.global.u32 %r1, [%rd2];\n add.u32 %r2, %r1, 1;\n st.global.u32 [%rd2], %r2;\n"
    " ret;\n}\n"
    ".visible .entry setb(.param .u64 p, .param .u32 v)\n{\n"
    " .reg .b64 %rd<3>;\n .reg .b32 %r<2>;\n"
    " ld.param.u64 %rd1, [p];\n ld.param.u32 %r1, [v];\n cvta.to.global.u64 %rd2, %rd1;\n"
    " st.global.u8 [%rd2], %r1;\n ret;\n}\n";

static CUfunction fn_incr, fn_setb;

/* The context made current, and the module loaded by the first test that
 * gets here (it stays loaded: nothing here resets the primary context). */
static int setup(void)
{
    static CUmodule m;
    if (rt_setup(&ctx) != CUDA_SUCCESS) return -1;
    if (fn_incr && fn_setb) return 0;
    if (!m && cuModuleLoadData(&m, ptx) != CUDA_SUCCESS) return -1;
    if (cuModuleGetFunction(&fn_incr, m, "incr") || cuModuleGetFunction(&fn_setb, m, "setb"))
        return -1;
    return 0;
}

RG_TEST(managed_both_ways)
{
    CHECK(setup() == 0);
    CUdeviceptr p;
    CHECK_CU(cuMemAllocManaged(&p, 8192, CU_MEM_ATTACH_GLOBAL));
    volatile unsigned *h = (unsigned *)(uintptr_t)p;
    CHECK_EQ_INT(h[0], 0);
    h[0] = 41; /* the host writes, the device reads it */
    void *a1[] = {&p};
    CHECK_CU(cuLaunchKernel(fn_incr, 1, 1, 1, 1, 1, 1, 0, NULL, a1, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_EQ_INT(h[0], 42);
    /* one page, two writers: the host byte 5, the device byte 4; both stay */
    unsigned char *b = (unsigned char *)(uintptr_t)p;
    b[5] = 0x55;
    CUdeviceptr q = p + 4;
    unsigned v = 0x44;
    void *a2[] = {&q, &v};
    CHECK_CU(cuLaunchKernel(fn_setb, 1, 1, 1, 1, 1, 1, 0, NULL, a2, NULL));
    b[6] = 0x66; /* after the launch, before the synchronisation */
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(b[4], 0x44);
    CHECK_EQ_INT(b[5], 0x55);
    CHECK_EQ_INT(b[6], 0x66);
    /* the device sees the host's byte 6 too */
    unsigned char got[8];
    CHECK_CU(cuMemcpyDtoH(got, p, sizeof got));
    CHECK_EQ_INT(got[6], 0x66);
    CHECK_CU(cuMemFree(p));
}

/* One thread allocates, writes and frees managed memory while another writes
 * its own and launches: a PUSH never names memory the worker is freeing. */
static void *churn(void *arg)
{
    CUcontext c = arg;
    cuCtxSetCurrent(c);
    for (int i = 0; i < 200; i++) {
        CUdeviceptr q;
        if (cuMemAllocManaged(&q, 1 << 16, CU_MEM_ATTACH_GLOBAL) != CUDA_SUCCESS) return (void *)1;
        memset((void *)(uintptr_t)q, i, 1 << 16);
        if (cuMemFree(q) != CUDA_SUCCESS) return (void *)1;
    }
    return NULL;
}

RG_TEST(managed_freed_while_another_thread_launches)
{
    CHECK(setup() == 0);
    CUdeviceptr p;
    CHECK_CU(cuMemAllocManaged(&p, 4096, CU_MEM_ATTACH_GLOBAL));
    volatile unsigned *h = (unsigned *)(uintptr_t)p;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, churn, ctx) == 0);
    void *a1[] = {&p};
    for (int i = 0; i < 200; i++) {
        h[1] = (unsigned)i; /* something to push each time */
        CHECK_CU(cuLaunchKernel(fn_incr, 1, 1, 1, 1, 1, 1, 0, NULL, a1, NULL));
    }
    CHECK_CU(cuCtxSynchronize());
    void *rc;
    pthread_join(t, &rc);
    CHECK(rc == NULL);
    CHECK_EQ_INT(h[0], 200);
    CHECK_CU(cuMemFree(p));
}

RG_TEST(managed_bigger_than_a_batch)
{
    CHECK(setup() == 0);
    size_t n = 40u << 20; /* more than one mirror batch (32 MiB) each way */
    CUdeviceptr p;
    CHECK_CU(cuMemAllocManaged(&p, n, CU_MEM_ATTACH_GLOBAL));
    unsigned char *h = (unsigned char *)(uintptr_t)p;
    for (size_t i = 0; i < n; i++) h[i] = (unsigned char)(i * 7);
    unsigned char tail[16];
    CHECK_CU(cuMemcpyDtoH(tail, p + n - sizeof tail, sizeof tail));
    for (size_t i = 0; i < sizeof tail; i++)
        CHECK_EQ_INT(tail[i], (unsigned char)((n - sizeof tail + i) * 7));
    CHECK_CU(cuMemsetD8(p, 0xa5, n));
    CHECK_CU(cuCtxSynchronize());
    for (size_t i = 0; i < n; i += 4093) CHECK_EQ_INT(h[i], 0xa5);
    CHECK_EQ_INT(h[n - 1], 0xa5);
    CHECK_CU(cuMemFree(p));
}

RG_TEST(mapped_pinned_memory)
{
    CHECK(setup() == 0);
    void *h;
    CHECK_CU(cuMemHostAlloc(&h, 8192, CU_MEMHOSTALLOC_DEVICEMAP));
    volatile unsigned *u = h;
    CHECK_EQ_INT(u[0], 0);
    u[0] = 41;
    CUdeviceptr d;
    CHECK_CU(cuMemHostGetDevicePointer(&d, h, 0));
    CHECK_EQ_U64(d, (uintptr_t)h);
    void *a1[] = {&d};
    CHECK_CU(cuLaunchKernel(fn_incr, 1, 1, 1, 1, 1, 1, 0, NULL, a1, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_EQ_INT(u[0], 42);
    unsigned type = 0, mapped = 0, flags = 0;
    CHECK_CU(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, d));
    CHECK_EQ_INT(type, CU_MEMORYTYPE_HOST);
    CHECK_CU(cuPointerGetAttribute(&mapped, CU_POINTER_ATTRIBUTE_MAPPED, d));
    CHECK_EQ_INT(mapped, 1);
    CHECK_CU(cuMemHostGetFlags(&flags, h));
    CHECK(flags & CU_MEMHOSTALLOC_DEVICEMAP);
    /* a copy from and to it as host memory */
    CUdeviceptr dev;
    CHECK_CU(cuMemAlloc(&dev, 64));
    CHECK_CU(cuMemcpyHtoD(dev, h, 4));
    CHECK_CU(cuMemcpyDtoH((char *)h + 4, dev, 4));
    CHECK_EQ_INT(u[1], 42);
    CHECK_CU(cuMemFree(dev));
    CHECK_CU(cuMemFreeHost(h));
    CHECK_CU_IS(cuMemFreeHost(h), CUDA_ERROR_INVALID_VALUE);
    /* without DEVICEMAP the memory stays the client's: no device pointer through rgpu */
    CHECK_CU(cuMemAllocHost(&h, 100));
    CHECK_CU_IS(cuMemHostGetDevicePointer(&d, h, 0), CUDA_ERROR_NOT_SUPPORTED);
    CHECK_CU(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)h));
    CHECK_EQ_INT(type, CU_MEMORYTYPE_HOST);
    CHECK_CU(cuMemFreeHost(h));
}

RG_TEST(range_attributes)
{
    CHECK(setup() == 0);
    CUdeviceptr p;
    CHECK_CU(cuMemAllocManaged(&p, 1 << 16, CU_MEM_ATTACH_GLOBAL));
    CUmemLocation dev0 = {CU_MEM_LOCATION_TYPE_DEVICE, 0};
    CHECK_CU(cuMemAdvise(p, 4096, CU_MEM_ADVISE_SET_READ_MOSTLY, dev0));
    CHECK_CU(cuMemPrefetchAsync(p, 4096, dev0, 0, NULL));
    int rm = 0, loc = -5;
    void *data[2] = {&rm, &loc};
    size_t sizes[2] = {sizeof rm, sizeof loc};
    CUmem_range_attribute attrs[2] = {CU_MEM_RANGE_ATTRIBUTE_READ_MOSTLY,
                                      CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION};
    CHECK_CU(cuMemRangeGetAttributes(data, sizes, attrs, 2, p, 4096));
    CHECK_EQ_INT(rm, 1);
    CHECK_EQ_INT(loc, 0);
    CHECK_CU_IS(cuMemRangeGetAttributes(data, sizes, attrs, 2, p + (1 << 16) - 16, 4096),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(p));
}

RG_TEST(copy_structs_stay_inside)
{
    CHECK(setup() == 0);
    CUdeviceptr a, b;
    CHECK_CU(cuMemAlloc(&a, 4096));
    CHECK_CU(cuMemAlloc(&b, 4096));
    CHECK_CU(cuMemsetD8(b, 0x77, 4096));
    unsigned char host[64 * 128];
    memset(host, 0, sizeof host);
    CUDA_MEMCPY2D m;
    memset(&m, 0, sizeof m);
    m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    m.srcDevice = a;
    m.srcPitch = 64;
    m.dstMemoryType = CU_MEMORYTYPE_HOST;
    m.dstHost = host;
    m.dstPitch = 64;
    m.WidthInBytes = 64;
    m.Height = 64; /* exactly a */
    CHECK_CU(cuMemcpy2D(&m));
    m.Height = 128; /* past the end of a */
    CHECK_CU_IS(cuMemcpy2D(&m), CUDA_ERROR_INVALID_VALUE);
    for (size_t i = 4096; i < sizeof host; i++) CHECK_EQ_INT(host[i], 0);
    m.Height = 1;
    m.srcDevice = b + 4096 - 32; /* one row, leaving b */
    CHECK_CU_IS(cuMemcpy2D(&m), CUDA_ERROR_INVALID_VALUE);
    CUDA_MEMCPY3D m3;
    memset(&m3, 0, sizeof m3);
    m3.srcMemoryType = CU_MEMORYTYPE_HOST;
    m3.srcHost = host;
    m3.srcPitch = 64;
    m3.srcHeight = 8;
    m3.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    m3.dstDevice = a;
    m3.dstPitch = 64;
    m3.dstHeight = 8;
    m3.WidthInBytes = 64;
    m3.Height = 8;
    m3.Depth = 8; /* exactly a */
    CHECK_CU(cuMemcpy3D(&m3));
    m3.dstZ = 1; /* one slab past the end */
    CHECK_CU_IS(cuMemcpy3D(&m3), CUDA_ERROR_INVALID_VALUE);
    /* unified sides: a host address is the application's memory */
    unsigned char src[64], dst[64];
    for (int i = 0; i < 64; i++) src[i] = (unsigned char)(i + 1);
    memset(&m, 0, sizeof m);
    m.srcMemoryType = CU_MEMORYTYPE_UNIFIED;
    m.srcDevice = (CUdeviceptr)(uintptr_t)src;
    m.dstMemoryType = CU_MEMORYTYPE_UNIFIED;
    m.dstDevice = a;
    m.WidthInBytes = 64;
    m.Height = 1;
    CHECK_CU(cuMemcpy2D(&m));
    CHECK_CU(cuMemcpyDtoH(dst, a, sizeof dst));
    CHECK(memcmp(src, dst, sizeof src) == 0);
    m.dstDevice = a + 4090; /* a unified device side past the end */
    CHECK_CU_IS(cuMemcpy2D(&m), CUDA_ERROR_INVALID_VALUE);
    m.dstDevice = a;
    m.srcMemoryType = CU_MEMORYTYPE_HOST; /* host memory that is not the application's */
    m.srcHost = (void *)0x1000;
    CHECK_CU_IS(cuMemcpy2D(&m), CUDA_ERROR_INVALID_VALUE);
    unsigned char check[16];
    CHECK_CU(cuMemcpyDtoH(check, b, sizeof check));
    CHECK_EQ_INT(check[0], 0x77);
    CHECK_CU(cuMemFree(a));
    CHECK_CU(cuMemFree(b));
}

RG_TEST(graph_nodes_stay_inside)
{
    CHECK(setup() == 0);
    CUdeviceptr a;
    CHECK_CU(cuMemAlloc(&a, 4096));
    CUgraph g;
    CUgraphNode node;
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS ms;
    memset(&ms, 0, sizeof ms);
    ms.dst = a;
    ms.elementSize = 1;
    ms.width = 4096;
    ms.height = 1;
    ms.value = 3;
    CHECK_CU(cuGraphAddMemsetNode(&node, g, NULL, 0, &ms, ctx));
    ms.width = 4097;
    CHECK_CU_IS(cuGraphAddMemsetNode(&node, g, NULL, 0, &ms, ctx), CUDA_ERROR_INVALID_VALUE);
    ms.width = 64;
    ms.pitch = 4096;
    ms.height = 2; /* the second row is past the end */
    CHECK_CU_IS(cuGraphAddMemsetNode(&node, g, NULL, 0, &ms, ctx), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(a));
}

RG_TEST(batch_copy_entries)
{
    CHECK(setup() == 0);
    CUdeviceptr a, b;
    CHECK_CU(cuMemAlloc(&a, 4096));
    CHECK_CU(cuMemAlloc(&b, 4096));
    CHECK_CU(cuMemsetD8(a, 1, 4096));
    CHECK_CU(cuMemsetD8(b, 2, 4096));
    unsigned char host[256];
    memset(host, 0, sizeof host);
    CUdeviceptr dsts[2] = {(CUdeviceptr)(uintptr_t)host, (CUdeviceptr)(uintptr_t)(host + 128)};
    CUdeviceptr srcs[2] = {a, a + 4096 - 64}; /* the second leaves a */
    size_t sizes[2] = {128, 128};
    CUmemcpyAttributes at;
    memset(&at, 0, sizeof at);
    at.srcAccessOrder = CU_MEMCPY_SRC_ACCESS_ORDER_STREAM;
    size_t idx = 0;
    CHECK_CU_IS(cuMemcpyBatchAsync(dsts, srcs, sizes, 2, &at, &idx, 1, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuStreamSynchronize(NULL));
    for (size_t i = 0; i < sizeof host; i++) CHECK_EQ_INT(host[i], 0);
    /* a host side that is not the application's memory: refused, never touched */
    dsts[1] = (CUdeviceptr)0x1000;
    srcs[1] = b;
    CHECK_CU_IS(cuMemcpyBatchAsync(dsts, srcs, sizes, 2, &at, &idx, 1, NULL),
                CUDA_ERROR_INVALID_VALUE);
    dsts[1] = (CUdeviceptr)(uintptr_t)(host + 128);
    CHECK_CU(cuMemcpyBatchAsync(dsts, srcs, sizes, 2, &at, &idx, 1, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(host[0], 1);
    CHECK_EQ_INT(host[255], 2);
    CHECK_CU(cuMemFree(a));
    CHECK_CU(cuMemFree(b));
}

RG_TEST(batch_prefetch_entries)
{
    CHECK(setup() == 0);
    CUdeviceptr p, d;
    CHECK_CU(cuMemAllocManaged(&p, 1 << 16, CU_MEM_ATTACH_GLOBAL));
    CHECK_CU(cuMemAlloc(&d, 4096));
    CUdeviceptr ptrs[2] = {p, p + 4096};
    size_t sizes[2] = {4096, 1 << 16}; /* the second entry leaves the allocation */
    CUmemLocation host = {CU_MEM_LOCATION_TYPE_HOST, 0};
    size_t idx = 0;
    CHECK_CU(cuMemPrefetchBatchAsync(ptrs, sizes, 1, &host, &idx, 1, 0, NULL));
    CHECK_CU_IS(cuMemPrefetchBatchAsync(ptrs, sizes, 2, &host, &idx, 1, 0, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuMemFree(p));
}

RG_TEST_MAIN()
