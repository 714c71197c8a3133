/* launchcheck.c — launch arguments are checked in the shim before anything is
 * sent (DESIGN rule 3): a bad shape fails from the launch call itself, as from
 * the driver, leaves no late error behind, and valid launches after it work. */
#include <stdint.h>
#include <string.h>

#include "remote.h"

static const char ptx[] = RT_FILL_PTX;

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

/* bounded: at most 128 threads; smem: 4 KiB of static shared memory, so
 * 48 KiB of dynamic needs the opt-in attribute; add: (u64, u32) parameters. */
static const char ptx2[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry bounded(.param .u64 out) .maxntid 128, 1, 1\n{\n ret;\n}\n"
    ".visible .entry smem(.param .u64 out)\n{\n"
    " .shared .align 4 .b8 sbuf[4096];\n .reg .b32 %r<2>;\n"
    " mov.u32 %r1, 0;\n st.shared.u32 [sbuf], %r1;\n ret;\n}\n"
    ".visible .entry add(.param .u64 p, .param .u32 n)\n{\n ret;\n}\n";

/* The function's own limits, its parameters, cuLaunchKernelEx attributes and
 * the handles a pipelined call names are judged before the call leaves. */
RG_TEST(function_limits_and_handles_fail_at_once)
{
    CUcontext ctx, other;
    CUmodule m, om;
    CUfunction bounded, smem, add, foreign;
    CUdeviceptr d;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx2));
    CHECK_CU(cuModuleGetFunction(&bounded, m, "bounded"));
    CHECK_CU(cuModuleGetFunction(&smem, m, "smem"));
    CHECK_CU(cuModuleGetFunction(&add, m, "add"));
    CHECK_CU(cuMemAlloc(&d, 256));
    void *args[] = {&d};
    CHECK_CU_IS(cuLaunchKernel(bounded, 1, 1, 1, 256, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuLaunchKernel(bounded, 1, 1, 1, 128, 1, 1, 0, NULL, args, NULL));
    CHECK_CU_IS(cuLaunchKernel(smem, 1, 1, 1, 32, 1, 1, 48 * 1024, NULL, args, NULL),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuFuncSetAttribute(smem, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 48 * 1024));
    CHECK_CU(cuLaunchKernel(smem, 1, 1, 1, 32, 1, 1, 48 * 1024, NULL, args, NULL));
    /* parameters: none given, an extra buffer too small */
    CHECK_CU_IS(cuLaunchKernel(add, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_VALUE);
    struct {
        uint64_t p;
        uint32_t n;
    } buf = {d, 1};
    size_t size = 8;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &buf, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
                     CU_LAUNCH_PARAM_END};
    CHECK_CU_IS(cuLaunchKernel(add, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra),
                CUDA_ERROR_INVALID_VALUE);
    size = sizeof buf;
    CHECK_CU(cuLaunchKernel(add, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra));
    /* cuLaunchKernelEx: an unknown attribute, cluster shapes */
    CUlaunchAttribute at;
    memset(&at, 0, sizeof at);
    at.id = (CUlaunchAttributeID)0x7fff;
    CUlaunchConfig cfg = {4, 1, 1, 32, 1, 1, 0, NULL, &at, 1};
    CHECK_CU_IS(cuLaunchKernelEx(&cfg, bounded, args, NULL), CUDA_ERROR_INVALID_VALUE);
    at.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    at.value.clusterDim.x = 2, at.value.clusterDim.y = 0, at.value.clusterDim.z = 1;
    CHECK_CU_IS(cuLaunchKernelEx(&cfg, bounded, args, NULL), CUDA_ERROR_INVALID_CLUSTER_SIZE);
    at.value.clusterDim.y = 1, cfg.gridDimX = 3;
    CHECK_CU_IS(cuLaunchKernelEx(&cfg, bounded, args, NULL), CUDA_ERROR_INVALID_CLUSTER_SIZE);
    cfg.gridDimX = 4;
    CHECK_CU(cuLaunchKernelEx(&cfg, bounded, args, NULL));
    /* handles: another context's function, NULL objects, an unloaded module */
    CHECK_CU(cuCtxCreate(&other, NULL, 0, 0));
    CHECK_CU(cuModuleLoadData(&om, ptx2));
    CHECK_CU(cuModuleGetFunction(&foreign, om, "bounded"));
    CHECK_CU(cuCtxSetCurrent(ctx));
    CHECK_CU_IS(cuLaunchKernel(foreign, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuCtxDestroy(other));
    CHECK_CU_IS(cuGraphLaunch(NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuEventRecord(NULL, NULL), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuStreamWaitEvent(NULL, NULL, 0), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU_IS(cuLaunchKernel(bounded, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    /* nothing of the refused calls arrives later */
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemFree(d));
}

/* A primary context reset destroys what lived in it, though the context's id
 * stays: its streams, events and functions are refused at once afterwards. */
RG_TEST(a_reset_takes_the_contexts_objects_along)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction f;
    CUstream s;
    CUevent e;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx2));
    CHECK_CU(cuModuleGetFunction(&f, m, "bounded"));
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuEventCreate(&e, 0));
    CHECK_CU(cuDevicePrimaryCtxReset(0));
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU_IS(cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventRecord(e, NULL), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuStreamWaitEvent(s, NULL, 0), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuCtxSynchronize());
}

RG_TEST_MAIN()
