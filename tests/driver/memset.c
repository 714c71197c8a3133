/* memset.c — cuMemsetD8/16/32 in 1D and 2D, sync and async, checked
 * against a CPU reference; misaligned and out-of-range targets fail. */
#include <cuda.h>
#include <stdint.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

RG_TEST(one_d)
{
    setup();
    enum { N = 4096 };
    CUdeviceptr d;
    unsigned char out[N];
    CHECK_CU(cuMemAlloc(&d, N));
    CHECK_CU(cuMemsetD8(d, 0xa5, N));
    CHECK_CU(cuMemsetD8(d + 10, 0x11, 5));
    CHECK_CU(cuMemcpyDtoH(out, d, N));
    for (int i = 0; i < N; i++) {
        int want = (i >= 10 && i < 15) ? 0x11 : 0xa5;
        if (out[i] != want) RG_FAIL("byte %d = %#x, want %#x", i, out[i], want);
    }
    CHECK_CU(cuMemsetD16(d, 0xbeef, N / 2));
    uint16_t o16[N / 2];
    CHECK_CU(cuMemcpyDtoH(o16, d, N));
    for (int i = 0; i < N / 2; i++)
        if (o16[i] != 0xbeef) RG_FAIL("u16 %d = %#x", i, o16[i]);
    CHECK_CU(cuMemsetD32Async(d + 4, 0xdeadbeef, 10, NULL));
    uint32_t o32[16];
    CHECK_CU(cuMemcpyDtoH(o32, d, sizeof o32));
    CHECK_EQ_U64(o32[0], 0xbeefbeef);
    for (int i = 1; i <= 10; i++)
        CHECK_EQ_U64(o32[i], 0xdeadbeef);
    CHECK_EQ_U64(o32[11], 0xbeefbeef);
    CHECK_CU_IS(cuMemsetD16(d + 1, 0, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemsetD32(d + 2, 0, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemsetD8(d, 0, N + 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemsetD32(d, 0, N / 4 + 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemsetD8((CUdeviceptr)0x1000, 0, 4), CUDA_ERROR_INVALID_VALUE);
    int host;
    CHECK_CU_IS(cuMemsetD8((CUdeviceptr)(uintptr_t)&host, 0, 4), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemsetD8Async(d, 0, 4, (CUstream)0x5), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuMemsetD8(d, 0, 0));
    CHECK_CU(cuMemFree(d));
}

RG_TEST(two_d)
{
    setup();
    enum { W = 10, H = 7 };
    CUdeviceptr d;
    size_t pitch;
    CHECK_CU(cuMemAllocPitch(&d, &pitch, W * 4, H, 4));
    CHECK_CU(cuMemsetD8(d, 0, pitch * H));
    CHECK_CU(cuMemsetD2D32(d, pitch, 0x01020304, W - 2, H));
    uint32_t *out = malloc(pitch * H);
    CHECK_CU(cuMemcpyDtoH(out, d, pitch * H));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < (int)(pitch / 4); x++) {
            uint32_t want = x < W - 2 ? 0x01020304 : 0;
            if (out[y * pitch / 4 + x] != want)
                RG_FAIL("(%d,%d) = %#x", x, y, out[y * pitch / 4 + x]);
        }
    CHECK_CU(cuMemsetD2D8Async(d, pitch, 0xff, 3, H, NULL));
    CHECK_CU(cuMemsetD2D16(d + 4, pitch, 0x7777, 2, H));
    CHECK_CU(cuMemcpyDtoH(out, d, pitch * H));
    unsigned char *b = (unsigned char *)out;
    CHECK_EQ_INT(b[pitch * 3 + 2], 0xff);
    CHECK_EQ_INT(b[pitch * 3 + 3], 0x01);
    CHECK_EQ_INT(b[pitch * 6 + 4], 0x77);
    CHECK_CU_IS(cuMemsetD2D8(d, pitch, 0, pitch + 1, H), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuMemsetD2D8(d, pitch, 0, W, H + 1), CUDA_ERROR_INVALID_VALUE);
    free(out);
    CHECK_CU(cuMemFree(d));
}

RG_TEST_MAIN()
