/* modules.c — what the module calls carry over the wire beyond the driver
 * suite: driver-owned strings and images kept by the shim (cuFuncGetName,
 * cuLinkComplete), JIT logs copied back into small client buffers, JIT options
 * that cannot travel, and the occupancy callback answered on the client. */
#include <stdint.h>
#include <string.h>

#include "remote.h"

static const char ptx[] = ".version 8.0\n.target sm_80\n.address_size 64\n"
                          ".visible .global .align 4 .u32 g = 3;\n"
                          ".visible .entry first_kernel()\n{\n\tret;\n}\n"
                          ".visible .entry second_kernel()\n{\n\tret;\n}\n";

static const char bad_ptx[] = ".version 8.0\n.target sm_80\n.address_size 64\n"
                              ".visible .entry k()\n{\n\tfrobnicate.u32 %r1;\n\tret;\n}\n";

RG_TEST(function_names_stay_valid)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction f1, f2;
    const char *n1, *n1b, *n2;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx));
    CHECK_CU(cuModuleGetFunction(&f1, m, "first_kernel"));
    CHECK_CU(cuModuleGetFunction(&f2, m, "second_kernel"));
    CHECK_CU(cuFuncGetName(&n1, f1));
    CHECK_CU(cuFuncGetName(&n2, f2));
    CHECK_CU(cuFuncGetName(&n1b, f1));
    CHECK(n1 == n1b); /* one copy per function */
    CHECK_STR(n1, "first_kernel");
    CHECK_STR(n2, "second_kernel");
    CHECK_CU_IS(cuFuncGetName(NULL, f1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU_IS(cuFuncGetName(&n1b, f1), CUDA_ERROR_INVALID_HANDLE);
}

RG_TEST(jit_logs_into_small_buffers)
{
    CUcontext ctx;
    CUmodule m;
    char err[16], info[64];
    memset(err, 'x', sizeof err);
    memset(info, 'y', sizeof info);
    CUjit_option opt[4] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                           CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
    void *val[4] = {err, (void *)(uintptr_t)sizeof err, info, (void *)(uintptr_t)sizeof info};
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU_IS(cuModuleLoadDataEx(&m, bad_ptx, 4, opt, val), CUDA_ERROR_INVALID_PTX);
    CHECK_EQ_INT(strlen(err), sizeof err - 1); /* truncated, terminated */
    CHECK((uintptr_t)val[1] > 0 && (uintptr_t)val[1] <= sizeof err);
    CHECK(val[0] == (void *)err && val[2] == (void *)info); /* the buffers stay the client's */
    CHECK(memchr(info, 0, sizeof info) != NULL);
    /* options whose values are client pointer arrays cannot travel */
    const char *names[1] = {"g"};
    void *addrs[1] = {NULL};
    CUjit_option sym[3] = {CU_JIT_GLOBAL_SYMBOL_NAMES, CU_JIT_GLOBAL_SYMBOL_ADDRESSES,
                           CU_JIT_GLOBAL_SYMBOL_COUNT};
    void *symval[3] = {names, addrs, (void *)(uintptr_t)1};
    CHECK_CU_IS(cuModuleLoadDataEx(&m, ptx, 3, sym, symval), CUDA_ERROR_NOT_SUPPORTED);
    CUjit_option unknown = (CUjit_option)12345;
    CHECK_CU_IS(cuModuleLoadDataEx(&m, ptx, 1, &unknown, symval), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(linked_image_lives_with_its_state)
{
    CUcontext ctx;
    CUlinkState a, b;
    void *img_a, *img_b;
    size_t size_a, size_b;
    CUmodule m;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &a));
    CHECK_CU(cuLinkAddData(a, CU_JIT_INPUT_PTX, (void *)ptx, sizeof ptx, "a", 0, NULL, NULL));
    CHECK_CU(cuLinkComplete(a, &img_a, &size_a));
    CHECK(img_a && size_a > 0);
    /* another state's image does not replace it */
    CHECK_CU(cuLinkCreate(0, NULL, NULL, &b));
    CHECK_CU(cuLinkAddData(b, CU_JIT_INPUT_PTX, (void *)ptx, sizeof ptx, "b", 0, NULL, NULL));
    CHECK_CU(cuLinkComplete(b, &img_b, &size_b));
    CHECK(img_b != img_a);
    CHECK_CU(cuLinkDestroy(b));
    CHECK_CU(cuModuleLoadData(&m, img_a));
    CHECK_CU(cuModuleUnload(m));
    CHECK_CU(cuLinkDestroy(a));
    CHECK_CU_IS(cuLinkComplete(a, &img_a, &size_a), CUDA_ERROR_INVALID_HANDLE);
    /* the state is judged before the file, which the shim reads */
    CHECK_CU_IS(cuLinkAddFile(a, CU_JIT_INPUT_PTX, "/nonexistent.ptx", 0, NULL, NULL),
                CUDA_ERROR_INVALID_HANDLE);
}

static int calls;

/* 1 KiB per thread: a block of 1024 threads would need 1 MiB of shared memory */
static size_t smem_per_block(int block)
{
    calls++;
    return (size_t)block * 1024;
}

RG_TEST(occupancy_callback_runs_in_the_client)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction f;
    int grid = 0, block = 0, blocks = 0;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx));
    CHECK_CU(cuModuleGetFunction(&f, m, "first_kernel"));
    CHECK_CU(cuOccupancyMaxPotentialBlockSize(&grid, &block, f, smem_per_block, 0, 0));
    CHECK(calls > 0);
    CHECK(block > 0 && block < 1024);
    /* the chosen size is one that fits with the callback's shared memory */
    CHECK_CU(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, block,
                                                         smem_per_block(block)));
    CHECK(blocks > 0);
    CHECK_CU(cuOccupancyMaxPotentialBlockSizeWithFlags(&grid, &block, f, NULL, 0, 100, 0));
    CHECK(block > 0 && block <= 100);
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST(cluster_occupancy_with_a_config)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction f;
    CUstream st;
    int size = 0, clusters = 0, blocks = 0;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx));
    CHECK_CU(cuModuleGetFunction(&f, m, "first_kernel"));
    CHECK_CU(cuStreamCreate(&st, CU_STREAM_NON_BLOCKING));
    CUlaunchAttribute at = {0};
    at.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    at.value.clusterDim.x = 2, at.value.clusterDim.y = 1, at.value.clusterDim.z = 1;
    CUlaunchConfig c = {8, 1, 1, 128, 1, 1, 0, st, &at, 1};
    CHECK_CU(cuOccupancyMaxPotentialClusterSize(&size, f, &c));
    CHECK(size >= 1);
    CHECK_CU(cuOccupancyMaxActiveClusters(&clusters, f, &c));
    CHECK_CU(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 128, 0));
    CHECK(clusters > 0 && blocks > 0);
    CHECK_CU_IS(cuOccupancyMaxActiveClusters(&clusters, f, NULL), CUDA_ERROR_INVALID_VALUE);
    at.value.clusterDim.x = 0;
    CHECK_CU_IS(cuOccupancyMaxActiveClusters(&clusters, f, &c), CUDA_ERROR_INVALID_CLUSTER_SIZE);
    /* an event inside an attribute travels as its id */
    CUevent ev;
    CHECK_CU(cuEventCreate(&ev, CU_EVENT_DISABLE_TIMING));
    at.id = CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT;
    at.value.launchCompletionEvent.event = ev;
    at.value.launchCompletionEvent.flags = 0;
    CHECK_CU(cuOccupancyMaxActiveClusters(&clusters, f, &c));
    CHECK(clusters > 0);
    CHECK_CU(cuEventDestroy(ev));
    /* the driver writes a device pointer through this one: it cannot travel */
    memset(&at.value, 0, sizeof at.value);
    at.id = CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE;
    CHECK_CU_IS(cuOccupancyMaxActiveClusters(&clusters, f, &c), CUDA_ERROR_NOT_SUPPORTED);
    CHECK_CU(cuStreamDestroy(st));
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST_MAIN()
