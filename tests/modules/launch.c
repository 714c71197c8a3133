/* launch.c — cuLaunchKernel with kernelParams and with the extra buffer,
 * cuLaunchKernelEx attributes, cooperative limits, every configuration error
 * the driver reports, occupancy, device printf, and the sticky errors of a
 * failing assert and an out-of-bounds access. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modtest.h"

static CUmodule g_mod, g_nv;

static CUfunction fn(const char *name)
{
    CUfunction f = NULL;
    if (!g_mod && cuModuleLoadData(&g_mod, mt_ptx_basic)) return NULL;
    cuModuleGetFunction(&f, g_mod, name);
    return f;
}

static CUfunction nvfn(const char *name)
{
    CUfunction f = NULL;
    if (!g_nv && cuModuleLoad(&g_nv, mt_path("kernels_ptx.fatbin"))) return NULL;
    cuModuleGetFunction(&f, g_nv, name);
    return f;
}

RG_TEST(add_with_kernel_params)
{
    enum { N = 1000 };
    uint32_t h[N];
    CUdeviceptr d;
    MT_CTX();
    CUfunction f = fn("add_k");
    CHECK(f);
    for (int i = 0; i < N; i++)
        h[i] = (uint32_t)i;
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuMemcpyHtoD(d, h, sizeof h));
    uint32_t n = N;
    void *args[] = {&d, &n};
    CHECK_CU(cuLaunchKernel(f, (N + 127) / 128, 1, 1, 128, 1, 1, 0, NULL, args, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemcpyDtoH(h, d, sizeof h));
    for (int i = 0; i < N; i++)
        if (h[i] != (uint32_t)i + 5) RG_FAIL("h[%d] = %u", i, h[i]);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(add_with_extra_buffer)
{
    uint32_t h[64];
    CUdeviceptr d;
    MT_CTX();
    CUfunction f = fn("add_k");
    CHECK(f);
    memset(h, 0, sizeof h);
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuMemcpyHtoD(d, h, sizeof h));
    struct {
        uint64_t p;
        uint32_t n;
    } buf = {d, 64};
    size_t size = sizeof buf;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &buf, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
                     CU_LAUNCH_PARAM_END};
    CHECK_CU(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, NULL, NULL, extra));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_CU(cuMemcpyDtoH(h, d, sizeof h));
    CHECK_EQ_INT(h[0], 5);
    CHECK_EQ_INT(h[63], 5);
    size = 8; /* too small for (u64, u32) */
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, NULL, NULL, extra),
                CUDA_ERROR_INVALID_VALUE);
    size = sizeof buf;
    void *args[] = {&d, &buf.n};
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, NULL, args, extra),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(nvcc_vadd_on_a_stream)
{
    enum { N = 4096 };
    static float a[N], b[N], c[N];
    CUdeviceptr da, db, dc;
    CUstream s;
    MT_NEED_NVCC();
    MT_CTX();
    CUfunction f = nvfn("vadd");
    CHECK(f);
    for (int i = 0; i < N; i++)
        a[i] = (float)i, b[i] = 0.5f * (float)i;
    CHECK_CU(cuMemAlloc(&da, sizeof a));
    CHECK_CU(cuMemAlloc(&db, sizeof b));
    CHECK_CU(cuMemAlloc(&dc, sizeof c));
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemcpyHtoDAsync(da, a, sizeof a, s));
    CHECK_CU(cuMemcpyHtoDAsync(db, b, sizeof b, s));
    int n = N;
    void *args[] = {&da, &db, &dc, &n};
    CHECK_CU(cuLaunchKernel(f, N / 256, 1, 1, 256, 1, 1, 0, s, args, NULL));
    CHECK_CU(cuMemcpyDtoHAsync(c, dc, sizeof c, s));
    CHECK_CU(cuStreamSynchronize(s));
    for (int i = 0; i < N; i++)
        if (c[i] != 1.5f * (float)i) RG_FAIL("c[%d] = %f", i, c[i]);
    /* a by-value struct and mixed scalars go through the PTX layout */
    CUdeviceptr out, in;
    float one = 1.0f, res = 0;
    struct {
        double d[6];
    } big = {{0, 0, 0, 0, 0, 1000.0}};
    double dd = 0.25;
    char ch = 3;
    CHECK_CU(cuMemAlloc(&out, 4));
    CHECK_CU(cuMemAlloc(&in, 4));
    CHECK_CU(cuMemcpyHtoD(in, &one, 4));
    void *pargs[] = {&out, &in, &n, &dd, &big, &ch};
    CHECK_CU(cuLaunchKernel(nvfn("params"), 1, 1, 1, 32, 1, 1, 0, s, pargs, NULL));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuMemcpyDtoH(&res, out, 4));
    CHECK(res == (float)(1.0 + N + 0.25 + 1000.0 + 3));
    CHECK_CU(cuStreamDestroy(s));
    cuMemFree(da), cuMemFree(db), cuMemFree(dc), cuMemFree(out), cuMemFree(in);
}

RG_TEST(launch_configuration_errors)
{
    int junk = 0;
    MT_CTX();
    CUfunction f = fn("nop");
    CHECK(f);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 1025, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 1, 1, 65, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 32, 32, 2, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 0, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 32, 0, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 65536, 1, 32, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 65536, 32, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 0x80000000u, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 48 * 1024 + 1, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel((CUfunction)&junk, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, (CUstream)&junk, NULL, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    /* the largest legal shapes are fine */
    CHECK_CU(cuLaunchKernel(f, 1, 1, 1, 1024, 1, 1, 0, NULL, NULL, NULL));
    CHECK_CU(cuLaunchKernel(f, 1, 1, 1, 1, 1, 64, 48 * 1024, NULL, NULL, NULL));
    CHECK_CU(cuCtxSynchronize());
}

RG_TEST(nvcc_bounds_and_shared_memory)
{
    CUdeviceptr d;
    int out[256];
    MT_NEED_NVCC();
    MT_CTX();
    CUfunction b = nvfn("bounded"), s = nvfn("smem_user");
    CHECK(b && s);
    CHECK_CU(cuMemAlloc(&d, sizeof out));
    void *args[] = {&d};
    CHECK_CU_IS(cuLaunchKernel(b, 1, 1, 1, 256, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuLaunchKernel(b, 1, 1, 1, 128, 1, 1, 0, NULL, args, NULL));
    /* 4 KiB static + 48 KiB dynamic needs the opt-in attribute */
    CHECK_CU_IS(cuLaunchKernel(s, 1, 1, 1, 256, 1, 1, 48 * 1024, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuFuncSetAttribute(s, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 48 * 1024));
    CHECK_CU(cuLaunchKernel(s, 1, 1, 1, 256, 1, 1, 48 * 1024, NULL, args, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemcpyDtoH(out, d, sizeof out));
    for (int i = 0; i < 256; i++)
        if (out[i] != 255 - i + 2 * i) RG_FAIL("out[%d] = %d", i, out[i]);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(launch_ex_and_cooperative)
{
    MT_CTX();
    CUfunction f = fn("nop");
    CHECK(f);
    CUlaunchAttribute at[3];
    memset(at, 0, sizeof at);
    at[0].id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    at[0].value.cooperative = 1;
    at[1].id = CU_LAUNCH_ATTRIBUTE_PRIORITY;
    at[1].value.priority = 0;
    at[2].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    at[2].value.clusterDim.x = 2;
    at[2].value.clusterDim.y = 1;
    at[2].value.clusterDim.z = 1;
    CUlaunchConfig cfg = {4, 1, 1, 64, 1, 1, 0, NULL, at, 3};
    CHECK_CU(cuLaunchKernelEx(&cfg, f, NULL, NULL));
    cfg.gridDimX = 3; /* not a multiple of the cluster */
    CHECK_CU_IS(cuLaunchKernelEx(&cfg, f, NULL, NULL), CUDA_ERROR_INVALID_CLUSTER_SIZE);
    cfg.numAttrs = 1;
    cfg.gridDimX = 1u << 20; /* cannot be co-resident */
    CHECK_CU_IS(cuLaunchKernelEx(&cfg, f, NULL, NULL), CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE);
    CHECK_CU_IS(cuLaunchCooperativeKernel(f, 1u << 20, 1, 1, 1024, 1, 1, 0, NULL, NULL),
                CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE);
    CHECK_CU(cuLaunchCooperativeKernel(f, 2, 1, 1, 1024, 1, 1, 0, NULL, NULL));
    CHECK_CU_IS(cuLaunchKernelEx(NULL, f, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuCtxSynchronize());
}

static size_t smem_for(int block)
{
    return (size_t)block * 8;
}

RG_TEST(occupancy)
{
    int blocks, min_grid, bs, sms;
    size_t avail;
    CUdevice dev;
    MT_CTX();
    CUfunction f = fn("nop");
    CHECK(f);
    CHECK_CU(cuCtxGetDevice(&dev));
    CHECK_CU(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
    CHECK_CU(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 256, 0));
    CHECK(blocks >= 1 && blocks * 256 <= 2048);
    CHECK_CU(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 1024, 0));
    CHECK(blocks >= 1 && blocks <= 2);
    CHECK_CU(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 32, 0));
    CHECK(blocks >= 1 && blocks <= 32);
    CHECK_CU(cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(
        &blocks, f, 128, 0, CU_OCCUPANCY_DISABLE_CACHING_OVERRIDE));
    CHECK_CU(cuOccupancyMaxPotentialBlockSize(&min_grid, &bs, f, NULL, 0, 0));
    CHECK(bs >= 32 && bs <= 1024 && bs % 32 == 0);
    CHECK(min_grid >= sms);
    CHECK_CU(cuOccupancyMaxPotentialBlockSize(&min_grid, &bs, f, smem_for, 0, 96));
    CHECK(bs > 0 && bs <= 96);
    CHECK_CU(cuOccupancyAvailableDynamicSMemPerBlock(&avail, f, 2, 256));
    CHECK(avail > 0 && avail <= 228 * 1024);
    CHECK_CU_IS(cuOccupancyMaxActiveBlocksPerMultiprocessor(NULL, f, 32, 0),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, (CUfunction)&bs, 32, 0),
                CUDA_ERROR_INVALID_HANDLE);
}

static void run_hello(void *arg)
{
    int v = 5;
    void *args[] = {&v};
    *(CUresult *)arg = cuLaunchKernel(nvfn("hello"), 1, 1, 1, 4, 1, 1, 0, NULL, args, NULL);
    if (*(CUresult *)arg == CUDA_SUCCESS) *(CUresult *)arg = cuCtxSynchronize();
}

RG_TEST(device_printf)
{
    CUresult r = CUDA_ERROR_UNKNOWN;
    MT_NEED_NVCC();
    MT_CTX();
    CHECK(nvfn("hello"));
    char *out = mt_capture_stdout(run_hello, &r);
    CHECK(out);
    CHECK_CU(r);
    if (!strstr(out, "hello 5 from thread 0\n") || !strstr(out, "hello 5 from thread 3\n"))
        RG_FAIL("stdout was \"%s\"", out);
    free(out);
}

/* Each sticky error gets its own context, destroyed afterwards. */
static CUresult sticky_case(const char *kernel, void **args, CUresult *after)
{
    CUcontext c, prev;
    CUdevice dev;
    CUmodule m;
    CUfunction f;
    CUresult r;
    cuCtxGetDevice(&dev);
    cuCtxGetCurrent(&prev);
    if ((r = cuCtxCreate(&c, NULL, 0, dev))) return r;
    if (!(r = cuModuleLoad(&m, mt_path("kernels_ptx.fatbin"))) &&
        !(r = cuModuleGetFunction(&f, m, kernel)) &&
        !(r = cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL)))
        r = cuCtxSynchronize();
    CUdeviceptr p;
    *after = cuMemAlloc(&p, 16); /* sticky: every later call fails the same way */
    cuCtxDestroy(c);
    cuCtxSetCurrent(prev);
    return r;
}

struct sticky_run {
    const char *kernel;
    void **args;
    CUresult r, after;
};

static void run_sticky(void *arg)
{
    struct sticky_run *s = arg;
    s->r = sticky_case(s->kernel, s->args, &s->after);
}

RG_TEST(assert_is_sticky)
{
    int zero = 0;
    void *args[] = {&zero};
    struct sticky_run s = {"check_nonzero", args, 0, 0};
    MT_NEED_NVCC();
    MT_CTX();
    char *err = mt_capture(2, run_sticky, &s);
    CHECK_CU_IS(s.r, CUDA_ERROR_ASSERT);
    CHECK_CU_IS(s.after, CUDA_ERROR_ASSERT);
    if (!err || !strstr(err, "block: [0,0,0], thread: [") ||
        !strstr(err, "Assertion `v != 0` failed."))
        RG_FAIL("stderr was \"%s\"", err ? err : "");
    free(err);
    /* the primary context is untouched */
    CHECK_CU(cuCtxSynchronize());
}

RG_TEST(out_of_bounds_is_sticky)
{
    CUresult after;
    CUdeviceptr p;
    long long off = 1ll << 40;
    MT_NEED_NVCC();
    MT_CTX();
    CHECK_CU(cuMemAlloc(&p, 64));
    void *args[] = {&p, &off};
    CHECK_CU_IS(sticky_case("poke", args, &after), CUDA_ERROR_ILLEGAL_ADDRESS);
    CHECK_CU_IS(after, CUDA_ERROR_ILLEGAL_ADDRESS);
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemFree(p));
}

RG_TEST(unload_with_launches_in_flight)
{
    CUmodule m;
    CUfunction f;
    CUdeviceptr d;
    uint32_t h[256] = {0}, n = 256;
    MT_CTX();
    CHECK_CU(cuModuleLoadData(&m, mt_ptx_basic));
    CHECK_CU(cuModuleGetFunction(&f, m, "add_k"));
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuMemcpyHtoD(d, h, sizeof h));
    void *args[] = {&d, &n};
    for (int i = 0; i < 100; i++)
        CHECK_CU(cuLaunchKernel(f, 2, 1, 1, 128, 1, 1, 0, NULL, args, NULL));
    CHECK_CU(cuModuleUnload(m)); /* the queued launches still see the module */
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemcpyDtoH(h, d, sizeof h));
    CHECK_EQ_INT(h[0], 500);
    CHECK_EQ_INT(h[255], 500);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuMemFree(d));
}

RG_TEST(extra_with_unknown_key)
{
    uint64_t buf[2] = {0, 0};
    size_t size = 12;
    MT_CTX();
    CUfunction f = fn("add_k");
    CHECK(f);
    void *extra[] = {(void *)(uintptr_t)0x77,
                     NULL,
                     CU_LAUNCH_PARAM_BUFFER_POINTER,
                     buf,
                     CU_LAUNCH_PARAM_BUFFER_SIZE,
                     &size,
                     CU_LAUNCH_PARAM_END};
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra),
                CUDA_ERROR_INVALID_VALUE);
    void *noptr[] = {CU_LAUNCH_PARAM_BUFFER_SIZE, &size, CU_LAUNCH_PARAM_END};
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, noptr),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuLaunchKernelEx(&(CUlaunchConfig){1, 1, 1, 1, 1, 1, 0, NULL, NULL, 0}, fn("nop"),
                              NULL, NULL));
    CHECK_CU(cuCtxSynchronize());
}

RG_TEST_MAIN()
