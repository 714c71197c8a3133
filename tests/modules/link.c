/* link.c — cuLink* with PTX inputs (text and files, fatbins holding PTX), the
 * image it produces loaded by cuModuleLoadData, extern functions and
 * variables resolved across units, and version-2 (-rdc) fatbin wrappers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modtest.h"

/* Run use_twice / rdc_apply on one value and return the result. */
static int run_one(CUmodule m, const char *kernel, int in)
{
    CUfunction f;
    CUdeviceptr d;
    int v = in, n = 1;
    void *args[] = {&d, &n};
    if (cuModuleGetFunction(&f, m, kernel) || cuMemAlloc(&d, 4)) return -1;
    if (cuMemcpyHtoD(d, &v, 4) || cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL) ||
        cuCtxSynchronize() || cuMemcpyDtoH(&v, d, 4))
        v = -1;
    cuMemFree(d);
    return v;
}

RG_TEST(link_ptx_texts)
{
    CUlinkState ls;
    void *img;
    size_t size;
    CUmodule m;
    MT_CTX();
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &ls));
    CHECK_CU(cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)mt_ptx_link_x, strlen(mt_ptx_link_x) + 1,
                           "x", 0, NULL, NULL));
    CHECK_CU(cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)mt_ptx_link_y, strlen(mt_ptx_link_y), "y",
                           0, NULL, NULL));
    CHECK_CU(cuLinkComplete(ls, &img, &size));
    CHECK(size > 0);
    CHECK_CU(cuModuleLoadData(&m, img));
    CHECK_CU(cuLinkDestroy(ls));
    CHECK_EQ_INT(run_one(m, "use_twice", 10), 2 * 10 + 1000 + 1);
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU_IS(cuLinkDestroy(ls), CUDA_ERROR_INVALID_HANDLE);
}

RG_TEST(link_errors)
{
    CUlinkState ls;
    void *img;
    size_t size;
    char err[1024] = "";
    CUjit_option opt[2] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *val[2] = {err, (void *)(uintptr_t)sizeof err};
    const char *bad = ".version 8.0\n.target sm_80\n.address_size 64\n"
                      ".visible .entry k()\n{\n\tbogus.instr;\n}\n";
    MT_CTX();
    CHECK_CU(cuLinkCreate(2, opt, val, &ls));
    CHECK_CU_IS(cuLinkComplete(ls, &img, &size), CUDA_ERROR_INVALID_VALUE); /* nothing added */
    CHECK_CU(
        cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)bad, strlen(bad) + 1, "bad", 0, NULL, NULL));
    CHECK_CU_IS(cuLinkComplete(ls, &img, &size), CUDA_ERROR_INVALID_PTX);
    CHECK(strlen(err) > 0);
    CHECK_CU_IS(cuLinkAddData(ls, CU_JIT_INPUT_PTX, NULL, 10, "x", 0, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLinkAddFile(ls, CU_JIT_INPUT_PTX, "/nonexistent.ptx", 0, NULL, NULL),
                CUDA_ERROR_FILE_NOT_FOUND);
    CHECK_CU(cuLinkDestroy(ls));
    CHECK_CU_IS(cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)bad, 4, "x", 0, NULL, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    /* two strong definitions of one symbol */
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &ls));
    CHECK_CU(cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)mt_ptx_link_y, strlen(mt_ptx_link_y), "y1",
                           0, NULL, NULL));
    CHECK_CU(cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)mt_ptx_link_y, strlen(mt_ptx_link_y), "y2",
                           0, NULL, NULL));
    CHECK(cuLinkComplete(ls, &img, &size) != CUDA_SUCCESS);
    CHECK_CU(cuLinkDestroy(ls));
}

/* Units that call each other (no order puts every definition first), both
 * with a weak helper, the same undefined extern and a file-local $str. */
static const char cyc_a[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".extern .func (.param .b32 r) fb(.param .b32 a);\n"
    ".extern .func (.param .b32 retval0) vprintf(.param .b64 p0, .param .b64 p1);\n"
    ".global .align 1 .b8 $str[3] = {104, 105, 0};\n"
    ".weak .func (.param .b32 r) w(.param .b32 a)\n"
    "{\n\t.reg .b32 %r<2>;\n\tld.param.b32 %r1, [a];\n\tst.param.b32 [r], %r1;\n\tret;\n}\n"
    ".visible .func (.param .b32 r) fa(.param .b32 a)\n"
    "{\n\t.reg .b32 %r<3>;\n\tld.param.b32 %r1, [a];\n"
    "\t{\n\t.param .b32 p0;\n\tst.param.b32 [p0+0], %r1;\n\t.param .b32 rv;\n"
    "\tcall.uni (rv), fb, (p0);\n\tld.param.b32 %r2, [rv+0];\n\t}\n"
    "\tst.param.b32 [r], %r2;\n\tret;\n}\n";

static const char cyc_b[] =
    ".version 8.5\n.target sm_90\n.address_size 64\n"
    ".extern .func (.param .b32 r) fa(.param .b32 a);\n"
    ".extern .func (.param .b32 retval0) vprintf(.param .b64 p0, .param .b64 p1);\n"
    ".global .align 1 .b8 $str[4] = {104, 105, 33, 0};\n"
    ".weak .func (.param .b32 r) w(.param .b32 a)\n"
    "{\n\t.reg .b32 %r<2>;\n\tld.param.b32 %r1, [a];\n\tst.param.b32 [r], %r1;\n\tret;\n}\n"
    ".visible .func (.param .b32 r) fb(.param .b32 a)\n"
    "{\n\t.reg .b32 %r<3>;\n\tld.param.b32 %r1, [a];\n\tadd.s32 %r2, %r1, 1;\n"
    "\tst.param.b32 [r], %r2;\n\tret;\n}\n"
    ".visible .entry k2(.param .u64 out, .param .u32 n)\n"
    "{\n\t.reg .b32 %r<4>;\n\t.reg .b64 %rd<3>;\n"
    "\tld.param.u64 %rd1, [out];\n\tcvta.to.global.u64 %rd2, %rd1;\n"
    "\tld.global.u32 %r1, [%rd2];\n"
    "\t{\n\t.param .b32 p0;\n\tst.param.b32 [p0+0], %r1;\n\t.param .b32 rv;\n"
    "\tcall.uni (rv), fa, (p0);\n\tld.param.b32 %r2, [rv+0];\n\t}\n"
    "\tld.global.u8 %r3, [$str+2];\n\tadd.s32 %r2, %r2, %r3;\n"
    "\tst.global.u32 [%rd2], %r2;\n\tret;\n}\n";

RG_TEST(link_cycle_weak_and_locals)
{
    CUlinkState ls;
    void *img;
    size_t size;
    CUmodule m;
    int v;
    CUcontext c, prev;
    CUdevice dev;
    MT_CTX();
    /* its own context: a fault must not make the shared one sticky */
    CHECK_CU(cuCtxGetCurrent(&prev));
    CHECK_CU(cuCtxGetDevice(&dev));
    CHECK_CU(cuCtxCreate(&c, NULL, 0, dev));
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &ls));
    CHECK_CU(cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)cyc_a, sizeof cyc_a, "a", 0, NULL, NULL));
    CHECK_CU(cuLinkAddData(ls, CU_JIT_INPUT_PTX, (void *)cyc_b, sizeof cyc_b, "b", 0, NULL, NULL));
    CHECK_CU(cuLinkComplete(ls, &img, &size));
    CHECK_CU(cuModuleLoadData(&m, img));
    CHECK_CU(cuLinkDestroy(ls));
    CUfunction f;
    CHECK_CU(cuModuleGetFunction(&f, m, "k2"));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, f));
    CHECK_EQ_INT(v, 90); /* the newest unit's target */
    /* fa(5) = fb(5) = 6, plus '!' (33) from unit b's own $str */
    v = run_one(m, "k2", 5);
    cuModuleUnload(m);
    CHECK_CU(cuCtxDestroy(c));
    CHECK_CU(cuCtxSetCurrent(prev));
    if (v == -1) RG_SKIP("the interpreter cannot call a function declared before its body");
    CHECK_EQ_INT(v, 6 + 33);
}

RG_TEST(link_nvcc_rdc_files)
{
    CUlinkState ls;
    void *img;
    size_t size;
    CUmodule m;
    MT_NEED_NVCC();
    MT_CTX();
    /* PTX files, in the order that needs the definitions moved first */
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &ls));
    CHECK_CU(cuLinkAddFile(ls, CU_JIT_INPUT_PTX, mt_path("rdc_a.ptx"), 0, NULL, NULL));
    CHECK_CU(cuLinkAddFile(ls, CU_JIT_INPUT_PTX, mt_path("rdc_b.ptx"), 0, NULL, NULL));
    CHECK_CU(cuLinkComplete(ls, &img, &size));
    CHECK_CU(cuModuleLoadData(&m, img));
    CHECK_CU(cuLinkDestroy(ls));
    CHECK_EQ_INT(run_one(m, "rdc_apply", 7), 3 * 7 + 100 + 1);
    CHECK_CU(cuModuleUnload(m));
    /* fatbins holding PTX */
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &ls));
    CHECK_CU(cuLinkAddFile(ls, CU_JIT_INPUT_FATBINARY, mt_path("rdc_a.fatbin"), 0, NULL, NULL));
    CHECK_CU(cuLinkAddFile(ls, CU_JIT_INPUT_FATBINARY, mt_path("rdc_b.fatbin"), 0, NULL, NULL));
    CHECK_CU(cuLinkComplete(ls, &img, &size));
    CHECK_CU(cuModuleLoadData(&m, img));
    CHECK_CU(cuLinkDestroy(ls));
    CHECK_EQ_INT(run_one(m, "rdc_apply", 1), 3 + 100 + 1);
    CHECK_CU(cuModuleUnload(m));
    /* SASS cannot be linked */
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &ls));
    CHECK_CU_IS(
        cuLinkAddFile(ls, CU_JIT_INPUT_FATBINARY, mt_path("kernels_sass.fatbin"), 0, NULL, NULL),
        CUDA_ERROR_NO_BINARY_FOR_GPU);
    CHECK_CU(cuLinkDestroy(ls));
}

/* What nvcc's device-link stub registers for a PTX-only -rdc build: an empty
 * container in data and every unit's container in the array. */
RG_TEST(wrapper_v2_from_rdc_fatbins)
{
    static const uint32_t empty[4] = {0xBA55ED50u, 0x00100001u, 0, 0};
    CUmodule m;
    CUlibrary lib;
    CUkernel k;
    MT_NEED_NVCC();
    MT_CTX();
    char *a = mt_read("rdc_a.fatbin", NULL), *b = mt_read("rdc_b.fatbin", NULL);
    CHECK(a && b);
    const void *units[3] = {a, b, NULL};
    mt_fatbin_wrapper w = {MT_FATBINC_MAGIC, 2, empty, units};
    CHECK_CU(cuModuleLoadData(&m, &w));
    CHECK_EQ_INT(run_one(m, "rdc_apply", 2), 6 + 100 + 1);
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU(cuLibraryLoadData(&lib, &w, NULL, NULL, 0, NULL, NULL, 0));
    CHECK_CU(cuLibraryGetKernel(&k, lib, "rdc_apply"));
    CHECK_CU(cuLibraryUnload(lib));
    free(a);
    free(b);
}

RG_TEST_MAIN()
