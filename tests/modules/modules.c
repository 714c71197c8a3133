/* modules.c — cuModuleLoad* with every image kind (PTX text, fatbin containers
 * from nvcc, files), bad images and their error codes and logs, module
 * variables with initialisers, function lookup and attributes, parameter info. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modtest.h"

RG_TEST(load_ptx_and_lookup)
{
    CUmodule m;
    CUfunction f, f2, fs[4] = {0};
    unsigned n = 0;
    MT_CTX();
    CHECK_CU(cuModuleLoadData(&m, mt_ptx_basic));
    CHECK_CU(cuModuleGetFunction(&f, m, "add_k"));
    CHECK_CU(cuModuleGetFunction(&f2, m, "nop"));
    CHECK(f != f2);
    CHECK_CU_IS(cuModuleGetFunction(&f, m, "missing"), CUDA_ERROR_NOT_FOUND);
    CHECK_CU_IS(cuModuleGetFunction(NULL, m, "add_k"), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuModuleGetFunctionCount(&n, m));
    CHECK_EQ_INT(n, 2);
    CHECK_CU(cuModuleEnumerateFunctions(fs, 4, m));
    CHECK(fs[0] && fs[1] && fs[0] != fs[1] && !fs[2]);
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU_IS(cuModuleUnload(m), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuModuleGetFunction(&f, m, "add_k"), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuModuleGetFunctionCount(&n, (CUmodule)&n), CUDA_ERROR_INVALID_HANDLE);
}

RG_TEST(load_needs_context)
{
    CUmodule m;
    MT_CTX();
    CHECK_CU(cuCtxSetCurrent(NULL));
    CUresult r = cuModuleLoadData(&m, mt_ptx_basic);
    mt_ctx();
    CHECK_CU_IS(r, CUDA_ERROR_INVALID_CONTEXT);
}

RG_TEST(garbage_images)
{
    CUmodule m;
    static const unsigned char junk[32] = {0x01, 0x02, 0x03, 0x04, 0xff, 0xfe, 0x10, 0x11};
    /* a container header whose only entry claims more bytes than the container */
    static const uint32_t trunc[24] = {0xBA55ED50u, 0x00100001u, 64 + 16, 0,
                                       0x01010001u, 64,          100000,  0};
    MT_CTX();
    CHECK_CU_IS(cuModuleLoadData(&m, junk), CUDA_ERROR_INVALID_IMAGE);
    CHECK_CU_IS(cuModuleLoadData(&m, trunc), CUDA_ERROR_INVALID_IMAGE);
    CHECK_CU_IS(cuModuleLoadData(&m, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuModuleLoad(&m, "/nonexistent/dir/x.ptx"), CUDA_ERROR_FILE_NOT_FOUND);
}

RG_TEST(invalid_ptx_log)
{
    CUmodule m;
    char err[1024], info[1024];
    CUjit_option opt[5] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                           CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                           CU_JIT_OPTIMIZATION_LEVEL};
    void *val[5] = {err, (void *)(uintptr_t)sizeof err, info, (void *)(uintptr_t)sizeof info,
                    (void *)(uintptr_t)3};
    const char *bad = ".version 8.0\n.target sm_80\n.address_size 64\n"
                      ".visible .entry k()\n{\n\tfrobnicate.u32 %r1;\n\tret;\n}\n";
    MT_CTX();
    CHECK_CU_IS(cuModuleLoadDataEx(&m, bad, 5, opt, val), CUDA_ERROR_INVALID_PTX);
    size_t used = (uintptr_t)val[1];
    CHECK(strlen(err) > 0);
    CHECK(used > 0 && used <= sizeof err);
    CHECK_CU_IS(cuModuleLoadData(&m, "this is not PTX at all"), CUDA_ERROR_INVALID_PTX);
    /* options are checked */
    CUjit_option badopt = (CUjit_option)9999;
    CHECK_CU_IS(cuModuleLoadDataEx(&m, mt_ptx_basic, 1, &badopt, val), CUDA_ERROR_INVALID_VALUE);
    /* a good load with logs asked for succeeds and leaves an empty error log */
    val[1] = (void *)(uintptr_t)sizeof err;
    CHECK_CU(cuModuleLoadDataEx(&m, mt_ptx_basic, 5, opt, val));
    CHECK_EQ_INT(err[0], 0);
    CHECK_CU(cuModuleUnload(m));
}

static void read_u32s(CUdeviceptr p, uint32_t *out, size_t n, int *ok)
{
    *ok = cuMemcpyDtoH(out, p, n * 4) == CUDA_SUCCESS;
}

RG_TEST(globals_with_initialisers)
{
    CUmodule m;
    CUdeviceptr p;
    size_t size = 0;
    uint32_t v[8];
    int ok;
    MT_CTX();
    CHECK_CU(cuModuleLoadData(&m, mt_ptx_basic));
    CHECK_CU(cuModuleGetGlobal(&p, &size, m, "g_val"));
    CHECK_EQ_INT(size, 4);
    read_u32s(p, v, 1, &ok);
    CHECK(ok);
    CHECK_EQ_INT(v[0], 7);
    CHECK_CU(cuModuleGetGlobal(&p, &size, m, "g_arr")); /* not .visible: still found */
    CHECK_EQ_INT(size, 8);
    unsigned char b[8];
    CHECK_CU(cuMemcpyDtoH(b, p, 8));
    CHECK(b[0] == 1 && b[7] == 8);
    CHECK_CU(cuModuleGetGlobal(&p, NULL, m, "c_k"));
    read_u32s(p, v, 1, &ok);
    CHECK(ok && v[0] == 5);
    CHECK_CU(cuModuleGetGlobal(NULL, &size, m, "g_val"));
    CHECK_CU_IS(cuModuleGetGlobal(&p, &size, m, "nope"), CUDA_ERROR_NOT_FOUND);
    /* writable like any device memory */
    uint32_t nine = 9;
    CHECK_CU(cuModuleGetGlobal(&p, NULL, m, "g_val"));
    CHECK_CU(cuMemcpyHtoD(p, &nine, 4));
    read_u32s(p, v, 1, &ok);
    CHECK(ok && v[0] == 9);
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST(nvcc_ptx_file_and_fatbins)
{
    CUmodule m;
    CUdeviceptr p, q;
    CUfunction f;
    size_t size;
    MT_NEED_NVCC();
    MT_CTX();
    CHECK_CU(cuModuleLoad(&m, mt_path("kernels.ptx")));
    CHECK_CU(cuModuleGetFunction(&f, m, "vadd"));
    CHECK_CU(cuModuleUnload(m));
    const char *names[] = {"kernels_ptx.fatbin", "kernels_mixed.fatbin", "kernels_120.fatbin"};
    for (int i = 0; i < 3; i++) {
        char *img = mt_read(names[i], NULL);
        CHECK(img != NULL);
        CUresult r = cuModuleLoadData(&m, img);
        free(img);
        if (r != CUDA_SUCCESS) RG_FAIL("%s: cuModuleLoadData returned %d", names[i], r);
        int dev_counter = 0;
        uint64_t ptr = 0;
        CHECK_CU(cuModuleGetGlobal(&p, &size, m, "dev_counter"));
        CHECK_EQ_INT(size, 4);
        CHECK_CU(cuMemcpyDtoH(&dev_counter, p, 4));
        CHECK_EQ_INT(dev_counter, 42);
        CHECK_CU(cuModuleGetGlobal(&q, &size, m, "dev_ptr")); /* = &dev_counter, relocated */
        CHECK_CU(cuMemcpyDtoH(&ptr, q, 8));
        CHECK_EQ_U64(ptr, p);
        float cs[4];
        CHECK_CU(cuModuleGetGlobal(&p, &size, m, "cscale"));
        CHECK_EQ_INT(size, 16);
        CHECK_CU(cuMemcpyDtoH(cs, p, 16));
        CHECK(cs[0] == 1.f && cs[3] == 4.f);
        CHECK_CU(cuModuleUnload(m));
    }
    CHECK_CU(cuModuleLoad(&m, mt_path("kernels_ptx.fatbin")));
    CHECK_CU(cuModuleUnload(m));
    char *fb = mt_read("kernels_ptx.fatbin", NULL);
    CUresult r = cuModuleLoadFatBinary(&m, fb);
    free(fb);
    CHECK_CU(r);
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST(sass_only_and_truncated_fatbin)
{
    CUmodule m;
    size_t size;
    char err[512] = "x";
    CUjit_option opt[2] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *val[2] = {err, (void *)(uintptr_t)sizeof err};
    MT_NEED_NVCC();
    MT_CTX();
    char *img = mt_read("kernels_sass.fatbin", &size);
    CHECK(img != NULL);
    CHECK_CU_IS(cuModuleLoadDataEx(&m, img, 2, opt, val), CUDA_ERROR_NO_BINARY_FOR_GPU);
    CHECK(strlen(err) > 0);
    CHECK_CU_IS(cuModuleLoad(&m, mt_path("kernels_sass.fatbin")), CUDA_ERROR_NO_BINARY_FOR_GPU);
    free(img);
    /* the first half of a real container, as a file */
    img = mt_read("kernels_ptx.fatbin", &size);
    CHECK(img != NULL);
    char path[] = "/tmp/rgpu-trunc-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, img, size / 2) == (ssize_t)(size / 2));
    close(fd);
    CUresult r = cuModuleLoad(&m, path);
    unlink(path);
    free(img);
    CHECK_CU_IS(r, CUDA_ERROR_INVALID_IMAGE);
}

/* An image whose only PTX is newer than the device (cuRAND 10.4 ships
 * compute_121 PTX only): simgpu runs it rather than refusing the image; bare
 * PTX text for sm_121 is still refused, as the driver refuses it. */
RG_TEST(fatbin_with_only_newer_ptx)
{
    enum { N = 300 };
    float a[N], b[N], c[N];
    CUmodule m;
    CUfunction f;
    CUdeviceptr d[3];
    int v, n = N;
    MT_NEED_NVCC();
    MT_CTX();
    CHECK_CU(cuModuleLoad(&m, mt_path("kernels_121.fatbin")));
    CHECK_CU(cuModuleGetFunction(&f, m, "vadd"));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, f));
    CHECK_EQ_INT(v, 121);
    for (int i = 0; i < N; i++)
        a[i] = (float)i, b[i] = 2.f;
    for (int i = 0; i < 3; i++)
        CHECK_CU(cuMemAlloc(&d[i], sizeof a));
    CHECK_CU(cuMemcpyHtoD(d[0], a, sizeof a));
    CHECK_CU(cuMemcpyHtoD(d[1], b, sizeof b));
    void *args[] = {&d[0], &d[1], &d[2], &n};
    CHECK_CU(cuLaunchKernel(f, 3, 1, 1, 128, 1, 1, 0, NULL, args, NULL));
    CHECK_CU(cuMemcpyDtoH(c, d[2], sizeof c));
    for (int i = 0; i < N; i++)
        if (c[i] != (float)i + 2.f) RG_FAIL("c[%d] = %g", i, c[i]);
    for (int i = 0; i < 3; i++)
        CHECK_CU(cuMemFree(d[i]));
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU_IS(cuModuleLoad(&m, mt_path("kernels_121.ptx")), CUDA_ERROR_NO_BINARY_FOR_GPU);
}

RG_TEST(function_attributes)
{
    CUmodule m, owner;
    CUfunction f;
    int v;
    const char *name;
    MT_CTX();
    CHECK_CU(cuModuleLoadData(&m, mt_ptx_basic));
    CHECK_CU(cuModuleGetFunction(&f, m, "add_k"));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, f));
    CHECK_EQ_INT(v, 80);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_BINARY_VERSION, f));
    CHECK_EQ_INT(v, 80);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f));
    CHECK_EQ_INT(v, 1024);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 0);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 4);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, f));
    CHECK(v > 0 && v <= 255);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 48 * 1024);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, f));
    CHECK_EQ_INT(v, -1);
    CHECK_CU_IS(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX, f), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, (CUfunction)&v),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 64 * 1024);
    CHECK_CU_IS(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 1 << 20),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_NUM_REGS, 8), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 50));
    CHECK_CU(cuFuncSetCacheConfig(f, CU_FUNC_CACHE_PREFER_SHARED));
    CHECK_CU(cuFuncGetName(&name, f));
    CHECK_STR(name, "add_k");
    CHECK_CU(cuFuncGetModule(&owner, f));
    CHECK(owner == m);
    CUfunctionLoadingState st;
    CHECK_CU(cuFuncIsLoaded(&st, f));
    CHECK_EQ_INT(st, CU_FUNCTION_LOADING_STATE_LOADED);
    CHECK_CU(cuFuncLoad(f));
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU_IS(cuFuncGetName(&name, f), CUDA_ERROR_INVALID_HANDLE);
    /* PTX_VERSION follows the module's .target */
    CHECK_CU(cuModuleLoadData(&m, mt_ptx_sm120));
    CHECK_CU(cuModuleGetFunction(&f, m, "e120"));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, f));
    CHECK_EQ_INT(v, 120);
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST(nvcc_function_attributes)
{
    CUmodule m;
    CUfunction f;
    int v;
    MT_NEED_NVCC();
    MT_CTX();
    CHECK_CU(cuModuleLoad(&m, mt_path("kernels_ptx.fatbin")));
    CHECK_CU(cuModuleGetFunction(&f, m, "bounded"));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f));
    CHECK_EQ_INT(v, 128);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, f));
    CHECK_EQ_INT(v, 90);
    CHECK_CU(cuModuleGetFunction(&f, m, "smem_user"));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 4096);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 48 * 1024 - 4096);
    CHECK_CU_IS(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 99 * 1024),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(
        cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 99 * 1024 - 4096));
    CHECK_CU(cuModuleGetFunction(&f, m, "scale"));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 16);
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST(param_info)
{
    CUmodule m;
    CUfunction f;
    size_t off, size;
    MT_CTX();
    CHECK_CU(cuModuleLoadData(&m, mt_ptx_basic));
    CHECK_CU(cuModuleGetFunction(&f, m, "add_k"));
    CHECK_CU(cuFuncGetParamInfo(f, 0, &off, &size));
    CHECK(off == 0 && size == 8);
    CHECK_CU(cuFuncGetParamInfo(f, 1, &off, &size));
    CHECK(off == 8 && size == 4);
    CHECK_CU_IS(cuFuncGetParamInfo(f, 2, &off, &size), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuModuleGetFunction(&f, m, "nop"));
    CHECK_CU_IS(cuFuncGetParamInfo(f, 0, &off, &size), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuModuleUnload(m));
    if (!MOD_HAVE_NVCC) return;
    /* params(float*, const float*, int, double, Big (48 bytes), char) */
    static const size_t want[6][2] = {{0, 8}, {8, 8}, {16, 4}, {24, 8}, {32, 48}, {80, 1}};
    CHECK_CU(cuModuleLoad(&m, mt_path("kernels_ptx.fatbin")));
    CHECK_CU(cuModuleGetFunction(&f, m, "params"));
    for (size_t i = 0; i < 6; i++) {
        CHECK_CU(cuFuncGetParamInfo(f, i, &off, &size));
        if (off != want[i][0] || size != want[i][1])
            RG_FAIL("param %zu: (%zu, %zu), expected (%zu, %zu)", i, off, size, want[i][0],
                    want[i][1]);
    }
    CHECK_CU_IS(cuFuncGetParamInfo(f, 6, &off, &size), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST(loading_mode)
{
    CUmoduleLoadingMode mode;
    MT_CTX();
    CHECK_CU(cuModuleGetLoadingMode(&mode));
    const char *e = getenv("CUDA_MODULE_LOADING");
    CHECK_EQ_INT(mode, e && !strcmp(e, "EAGER") ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING);
    CHECK_CU_IS(cuModuleGetLoadingMode(NULL), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST_MAIN()
