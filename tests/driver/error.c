/* error.c — execution errors are sticky: after a kernel faults, the
 * context answers with the fault until it is destroyed or reset, and other
 * contexts are unaffected. Uses a one-line PTX kernel. */
#include <cuda.h>

#include "rgtest.h"

static const char ptx[] = ".version 8.0\n.target sm_80\n.address_size 64\n"
                          ".visible .entry poke(.param .u64 p)\n{\n"
                          "  .reg .b64 %rd<2>;\n  .reg .b32 %r<2>;\n"
                          "  ld.param.u64 %rd1, [p];\n  mov.u32 %r1, 7;\n"
                          "  st.global.u32 [%rd1], %r1;\n  ret;\n}\n";

static CUresult poke(CUfunction f, CUdeviceptr where)
{
    void *args[] = {&where};
    return cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL);
}

RG_TEST(sticky_after_fault)
{
    CUcontext ctx, other;
    CUmodule m;
    CUfunction f;
    CHECK_CU(cuInit(0));
    CHECK_CU(cuCtxCreate(&other, NULL, 0, 0));
    CHECK_CU(cuDevicePrimaryCtxRetain(&ctx, 0));
    CHECK_CU(cuCtxSetCurrent(ctx));
    if (cuModuleLoadData(&m, ptx) != CUDA_SUCCESS) RG_SKIP("backend cannot load PTX");
    CHECK_CU(cuModuleGetFunction(&f, m, "poke"));
    CUdeviceptr good;
    CHECK_CU(cuMemAlloc(&good, 64));
    CHECK_CU(poke(f, good));
    CHECK_CU(cuCtxSynchronize());
    unsigned v = 0;
    CHECK_CU(cuMemcpyDtoH(&v, good, 4));
    CHECK_EQ_INT(v, 7);
    CHECK_CU(poke(f, (CUdeviceptr)0x10)); /* the launch itself is accepted */
    CHECK_CU_IS(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
    CHECK_CU_IS(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
    CUdeviceptr p;
    CHECK_CU_IS(cuMemAlloc(&p, 64), CUDA_ERROR_ILLEGAL_ADDRESS);
    CHECK_CU_IS(cuMemcpyDtoH(&v, good, 4), CUDA_ERROR_ILLEGAL_ADDRESS);
    CUstream s;
    CHECK_CU_IS(cuStreamCreate(&s, 0), CUDA_ERROR_ILLEGAL_ADDRESS);
    /* other contexts go on */
    CHECK_CU(cuCtxPushCurrent(other));
    CHECK_CU(cuMemAlloc(&p, 64));
    CHECK_CU(cuMemFree(p));
    CHECK_CU(cuCtxPopCurrent(NULL));
    /* a reset clears it */
    CHECK_CU(cuDevicePrimaryCtxReset(0));
    CHECK_CU(cuDevicePrimaryCtxRetain(&ctx, 0));
    CHECK_CU(cuCtxSetCurrent(ctx));
    CHECK_CU(cuMemAlloc(&p, 64));
    CHECK_CU(cuMemFree(p));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuCtxDestroy(other));
}

RG_TEST_MAIN()
