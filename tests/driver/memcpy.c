/* memcpy.c — every copy direction and shape against a CPU reference, with
 * bogus pointers and out-of-range copies that must fail without crashing. */
#include <cuda.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 131 + seed);
}

RG_TEST(one_d_round_trip)
{
    setup();
    enum { N = 100000 };
    static unsigned char src[N], dst[N];
    fill(src, N, 7);
    CUdeviceptr a, b;
    CHECK_CU(cuMemAlloc(&a, N));
    CHECK_CU(cuMemAlloc(&b, N));
    CHECK_CU(cuMemcpyHtoD(a, src, N));
    CHECK_CU(cuMemcpyDtoD(b, a, N));
    CHECK_CU(cuMemcpyDtoH(dst, b, N));
    CHECK(memcmp(src, dst, N) == 0);
    memset(dst, 0, N);
    CHECK_CU(cuMemcpy((CUdeviceptr)(uintptr_t)dst, b, N)); /* unified */
    CHECK(memcmp(src, dst, N) == 0);
    /* partial, at an offset */
    memset(dst, 0, N);
    CHECK_CU(cuMemcpyDtoH(dst, a + 1000, 500));
    CHECK(memcmp(src + 1000, dst, 500) == 0);
    CHECK_CU(cuMemFree(a));
    CHECK_CU(cuMemFree(b));
}

RG_TEST(async_copies)
{
    setup();
    enum { N = 1 << 20 };
    unsigned char *src = malloc(N), *dst = malloc(N);
    fill(src, N, 3);
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CUdeviceptr a, b;
    CHECK_CU(cuMemAlloc(&a, N));
    CHECK_CU(cuMemAlloc(&b, N));
    CHECK_CU(cuMemcpyHtoDAsync(a, src, N, s));
    memset(src, 0, N); /* pageable source is staged: reuse at once is fine */
    CHECK_CU(cuMemcpyDtoDAsync(b, a, N, s));
    CHECK_CU(cuMemcpyDtoHAsync(dst, b, N, s));
    CHECK_CU(cuStreamSynchronize(s));
    fill(src, N, 3);
    CHECK(memcmp(src, dst, N) == 0);
    void *pinned;
    CHECK_CU(cuMemAllocHost(&pinned, N));
    CHECK_CU(cuMemcpyAsync((CUdeviceptr)(uintptr_t)pinned, a, N, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK(memcmp(src, pinned, N) == 0);
    CHECK_CU(cuMemFreeHost(pinned));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuMemFree(a));
    CHECK_CU(cuMemFree(b));
    free(src);
    free(dst);
}

RG_TEST(bad_ranges)
{
    setup();
    CUdeviceptr a;
    unsigned char buf[8192];
    CHECK_CU(cuMemAlloc(&a, 4096));
    CUdeviceptr base;
    size_t size;
    CHECK_CU(cuMemGetAddressRange(&base, &size, a));
    CHECK_CU_IS(cuMemcpyHtoD(a, buf, size + 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyDtoH(buf, a + size - 10, 11), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyHtoD((CUdeviceptr)0x10, buf, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyDtoH(buf, (CUdeviceptr)0xdead0000, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyDtoD(a, (CUdeviceptr)(uintptr_t)buf, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyHtoD(a, NULL, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyDtoH((void *)0x8, a, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpy((CUdeviceptr)0x10, a, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyHtoDAsync(a, buf, size + 1, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpyHtoDAsync(a, buf, 4, (CUstream)0x4321), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuMemcpyHtoD(a, buf, 0)); /* zero bytes is fine */
    CHECK_CU(cuMemFree(a));
    CHECK_CU_IS(cuMemcpyHtoD(a, buf, 4), CUDA_ERROR_INVALID_VALUE); /* freed */
}

RG_TEST(two_d)
{
    setup();
    enum { W = 37, H = 19, SP = 64 };
    unsigned char host[SP * H], out[W * H], ref[W * H];
    fill(host, sizeof host, 11);
    CUdeviceptr d;
    size_t dp;
    CHECK_CU(cuMemAllocPitch(&d, &dp, W, H, 4));
    CUDA_MEMCPY2D c = {0};
    c.srcMemoryType = CU_MEMORYTYPE_HOST;
    c.srcHost = host;
    c.srcPitch = SP;
    c.srcXInBytes = 3;
    c.srcY = 0;
    c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    c.dstDevice = d;
    c.dstPitch = dp;
    c.WidthInBytes = W;
    c.Height = H;
    CHECK_CU(cuMemcpy2D(&c));
    CUDA_MEMCPY2D back = {0};
    back.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    back.srcDevice = d;
    back.srcPitch = dp;
    back.dstMemoryType = CU_MEMORYTYPE_HOST;
    back.dstHost = out;
    back.dstPitch = W;
    back.WidthInBytes = W;
    back.Height = H;
    CHECK_CU(cuMemcpy2DAsync(&back, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    for (int y = 0; y < H; y++)
        memcpy(ref + y * W, host + y * SP + 3, W);
    CHECK(memcmp(out, ref, sizeof ref) == 0);
    CHECK_CU(cuMemcpy2DUnaligned(&back));
    /* rows past the allocation */
    back.Height = H * 100;
    CHECK_CU_IS(cuMemcpy2D(&back), CUDA_ERROR_INVALID_VALUE);
    back.Height = H;
    back.dstPitch = W - 1; /* pitch smaller than width */
    CHECK_CU_IS(cuMemcpy2D(&back), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemcpy2D(NULL), CUDA_ERROR_INVALID_VALUE);
    back.dstPitch = W;
    back.srcMemoryType = CU_MEMORYTYPE_ARRAY;
    CHECK_CU_IS(cuMemcpy2D(&back), CUDA_ERROR_NOT_SUPPORTED);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(three_d)
{
    setup();
    enum { W = 16, H = 5, D = 4, P = 32, PH = 6 };
    unsigned char host[P * PH * D], out[W * H * D], ref[W * H * D];
    fill(host, sizeof host, 5);
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, P * PH * D));
    CUDA_MEMCPY3D c = {0};
    c.srcMemoryType = CU_MEMORYTYPE_HOST;
    c.srcHost = host;
    c.srcPitch = P;
    c.srcHeight = PH;
    c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    c.dstDevice = d;
    c.dstPitch = P;
    c.dstHeight = PH;
    c.WidthInBytes = P;
    c.Height = PH;
    c.Depth = D;
    CHECK_CU(cuMemcpy3D(&c));
    CUDA_MEMCPY3D b = {0};
    b.srcMemoryType = CU_MEMORYTYPE_UNIFIED;
    b.srcDevice = d;
    b.srcPitch = P;
    b.srcHeight = PH;
    b.srcXInBytes = 2;
    b.srcY = 1;
    b.dstMemoryType = CU_MEMORYTYPE_HOST;
    b.dstHost = out;
    b.dstPitch = W;
    b.dstHeight = H;
    b.WidthInBytes = W;
    b.Height = H;
    b.Depth = D;
    CHECK_CU(cuMemcpy3DAsync(&b, NULL));
    CHECK_CU(cuCtxSynchronize());
    for (int z = 0; z < D; z++)
        for (int y = 0; y < H; y++)
            memcpy(ref + (z * H + y) * W, host + z * P * PH + (y + 1) * P + 2, W);
    CHECK(memcmp(out, ref, sizeof ref) == 0);
    b.Depth = D + 1;
    CHECK_CU_IS(cuMemcpy3D(&b), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(peer)
{
    setup();
    CUcontext other;
    CUdeviceptr a, b;
    int v[64], w[64];
    for (int i = 0; i < 64; i++)
        v[i] = i * i;
    CHECK_CU(cuMemAlloc(&a, sizeof v));
    CHECK_CU(cuCtxCreate(&other, NULL, 0, 0));
    CHECK_CU(cuMemAlloc(&b, sizeof v));
    CHECK_CU(cuMemcpyHtoD(b, v, sizeof v));
    CHECK_CU(cuMemcpyPeer(a, ctx, b, other, sizeof v));
    CHECK_CU(cuMemcpyPeerAsync(a, ctx, b, other, sizeof v, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU_IS(cuMemcpyPeer(a, (CUcontext)0x99, b, other, 4), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU(cuCtxPopCurrent(NULL));
    CHECK_CU(cuMemcpyDtoH(w, a, sizeof w));
    CHECK(memcmp(v, w, sizeof v) == 0);
    CHECK_CU(cuCtxDestroy(other));
    CHECK_CU(cuMemFree(a));
}

RG_TEST(batch)
{
    setup();
    int a[16], b[16], c[16];
    for (int i = 0; i < 16; i++)
        a[i] = i * 3;
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 4096));
    CUdeviceptr dsts[2] = {d, (CUdeviceptr)(uintptr_t)b};
    CUdeviceptr srcs[2] = {(CUdeviceptr)(uintptr_t)a, d};
    size_t sizes[2] = {sizeof a, sizeof b};
    CUmemcpyAttributes at;
    memset(&at, 0, sizeof at);
    at.srcAccessOrder = CU_MEMCPY_SRC_ACCESS_ORDER_STREAM;
    size_t idx = 0;
    CHECK_CU(cuMemcpyBatchAsync(dsts, srcs, sizes, 2, &at, &idx, 1, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* a bad entry fails the whole batch, nothing is copied */
    memset(c, 0, sizeof c);
    CUdeviceptr dsts2[2] = {(CUdeviceptr)(uintptr_t)c, d + 4090};
    CUdeviceptr srcs2[2] = {d, (CUdeviceptr)(uintptr_t)a};
    CHECK_CU_IS(cuMemcpyBatchAsync(dsts2, srcs2, sizes, 2, &at, &idx, 1, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(c[5], 0);
    at.srcAccessOrder = CU_MEMCPY_SRC_ACCESS_ORDER_INVALID;
    CHECK_CU_IS(cuMemcpyBatchAsync(dsts, srcs, sizes, 2, &at, &idx, 1, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(batch_3d)
{
    setup();
    enum { W = 8, H = 4, D = 3, P = 16 };
    unsigned char host[P * H * D], out[W * H * D], ref[W * H * D];
    fill(host, sizeof host, 9);
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, sizeof host));
    CUDA_MEMCPY3D_BATCH_OP op;
    memset(&op, 0, sizeof op);
    op.src.type = CU_MEMCPY_OPERAND_TYPE_POINTER;
    op.src.op.ptr.ptr = (CUdeviceptr)(uintptr_t)host;
    op.src.op.ptr.rowLength = P;
    op.src.op.ptr.layerHeight = H;
    op.dst.type = CU_MEMCPY_OPERAND_TYPE_POINTER;
    op.dst.op.ptr.ptr = d;
    op.dst.op.ptr.rowLength = P;
    op.dst.op.ptr.layerHeight = H;
    op.extent = (CUextent3D){P, H, D};
    op.srcAccessOrder = CU_MEMCPY_SRC_ACCESS_ORDER_STREAM;
    CHECK_CU(cuMemcpy3DBatchAsync(1, &op, 0, NULL));
    CUDA_MEMCPY3D_BATCH_OP back = op;
    back.src = op.dst;
    back.dst.op.ptr.ptr = (CUdeviceptr)(uintptr_t)out;
    back.dst.op.ptr.rowLength = W;
    back.extent = (CUextent3D){W, H, D};
    CHECK_CU(cuMemcpy3DBatchAsync(1, &back, 0, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    for (int z = 0; z < D; z++)
        for (int y = 0; y < H; y++)
            memcpy(ref + (z * H + y) * W, host + (z * H + y) * P, W);
    CHECK(memcmp(out, ref, sizeof ref) == 0);
    back.extent.depth = D + 1;
    CHECK_CU_IS(cuMemcpy3DBatchAsync(1, &back, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    back.extent.depth = 0;
    CHECK_CU_IS(cuMemcpy3DBatchAsync(1, &back, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(d));
}

static _Atomic int gate, opened;

static void CUDA_CB gate_fn(void *arg)
{
    for (int i = 0; i < 3000 && !atomic_load(&gate); i++)
        usleep(1000);
}

static void *opener(void *arg)
{
    usleep(50000);
    atomic_store(&opened, 1);
    atomic_store(&gate, 1);
    return NULL;
}

/* A synchronous copy is ordered after earlier work of blocking streams
 * (it runs on the legacy stream) but not after non-blocking streams. */
static void sync_copy_order(unsigned flags, int expect_waited)
{
    CUstream s;
    CUdeviceptr d;
    int v = 3;
    pthread_t t;
    if (cuStreamCreate(&s, flags) || cuMemAlloc(&d, 64)) RG_FAIL("setup");
    atomic_store(&gate, 0);
    atomic_store(&opened, 0);
    CHECK_CU(cuLaunchHostFunc(s, gate_fn, NULL));
    pthread_create(&t, NULL, opener, NULL);
    CHECK_CU(cuMemcpyHtoD(d, &v, sizeof v));
    int waited = atomic_load(&opened);
    pthread_join(t, NULL);
    CHECK_EQ_INT(waited, expect_waited);
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuMemFree(d));
}

RG_TEST(sync_copy_after_blocking_stream)
{
    setup();
    sync_copy_order(0, 1);
}

RG_TEST(sync_copy_ignores_non_blocking_stream)
{
    setup();
    sync_copy_order(CU_STREAM_NON_BLOCKING, 0);
}

RG_TEST_MAIN()
