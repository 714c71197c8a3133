/* launchcheck.c — launch arguments are checked in the shim before anything is
 * sent (DESIGN rule 3): a bad shape fails from the launch call itself, as from
 * the driver, leaves no late error behind, and valid launches after it work. */
#include <string.h>

#include "remote.h"

static const char ptx[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry fill(.param .u64 out)\n{\n"
    " .reg .b64 %rd<4>;\n .reg .b32 %r<3>;\n"
    " ld.param.u64 %rd1, [out];\n cvta.to.global.u64 %rd1, %rd1;\n"
    " mov.u32 %r1, %tid.x;\n mov.u32 %r2, %ctaid.x;\n"
    " mad.lo.u32 %r2, %r2, 64, %r1;\n"
    " mul.wide.u32 %rd2, %r2, 4;\n add.u64 %rd3, %rd1, %rd2;\n"
    " st.global.u32 [%rd3], %r2;\n ret;\n}\n";

RG_TEST(bad_shapes_fail_at_once_and_valid_launches_still_run)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction f;
    CUdeviceptr d;
    int out[128];
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx));
    CHECK_CU(cuModuleGetFunction(&f, m, "fill"));
    CHECK_CU(cuMemAlloc(&d, sizeof out));
    CHECK_CU(cuMemsetD8(d, 0xff, sizeof out));
    void *args[] = {&d};
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 4096, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 64, 32, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 1, 1, 65, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 0, 1, 1, 64, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 65536, 1, 64, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 1u << 20, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 48 * 1024 + 1, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchCooperativeKernel(f, 1, 1, 1, 4096, 1, 1, 0, NULL, args),
                CUDA_ERROR_INVALID_VALUE);
    CUlaunchConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.gridDimX = cfg.gridDimY = cfg.gridDimZ = 1;
    cfg.blockDimX = 4096, cfg.blockDimY = cfg.blockDimZ = 1;
    CHECK_CU_IS(cuLaunchKernelEx(&cfg, f, args, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchKernelEx(NULL, f, args, NULL), CUDA_ERROR_INVALID_VALUE);
    /* nothing of the refused launches arrives later */
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuLaunchKernel(f, 2, 1, 1, 64, 1, 1, 0, NULL, args, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemcpyDtoH(out, d, sizeof out));
    for (int i = 0; i < 128; i++)
        if (out[i] != i) RG_FAIL("out[%d] = %d", i, out[i]);
    cfg.gridDimX = 2, cfg.blockDimX = 64;
    CHECK_CU(cuMemsetD8(d, 0, sizeof out));
    CHECK_CU(cuLaunchKernelEx(&cfg, f, args, NULL));
    CHECK_CU(cuMemcpyDtoH(out, d, sizeof out));
    for (int i = 0; i < 128; i++)
        if (out[i] != i) RG_FAIL("after cuLaunchKernelEx out[%d] = %d", i, out[i]);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST_MAIN()
