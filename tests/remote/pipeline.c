/* pipeline.c — failures of pipelined calls (DESIGN rule 3) that only the server
 * can see come back to the thread that made the call, at its next call that
 * waits, exactly once, never to another thread; the shim's own first queries
 * about a function do not swallow them; launches the shim cannot judge (a
 * padded extra buffer) wait for the driver's answer. */
#include <pthread.h>
#include <string.h>

#include "remote.h"

/* exact: .reqntid 64 (a block of 32 passes every check the shim can make);
 * other: a second function; aligned: one 16-byte-aligned 4-byte parameter. */
static const char ptx[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry exact(.param .u64 out) .reqntid 64\n{\n ret;\n}\n"
    ".visible .entry other(.param .u64 out)\n{\n ret;\n}\n"
    ".visible .entry aligned(.param .align 16 .b8 v[4])\n{\n ret;\n}\n";

static CUcontext primary;
static CUfunction exact, other, aligned;
static CUdeviceptr buf;

static CUresult setup(void)
{
    CUmodule m;
    CUresult r = rt_setup(&primary);
    if (!r) r = cuModuleLoadData(&m, ptx);
    if (!r) r = cuModuleGetFunction(&exact, m, "exact");
    if (!r) r = cuModuleGetFunction(&other, m, "other");
    if (!r) r = cuModuleGetFunction(&aligned, m, "aligned");
    if (!r) r = cuMemAlloc(&buf, 256);
    return r;
}

/* Pipelined: succeeds here, fails on the server (block 32 for .reqntid 64). */
static CUresult bad_launch(void)
{
    void *args[] = {&buf};
    return cuLaunchKernel(exact, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL);
}

struct other_thread {
    pthread_barrier_t *go;
    CUresult sync, again;
};

static void *other_thread(void *arg)
{
    struct other_thread *o = arg;
    cuCtxSetCurrent(primary);
    pthread_barrier_wait(o->go); /* after the main thread's bad launch was sent */
    o->sync = cuCtxSynchronize();
    o->again = cuCtxSynchronize();
    return NULL;
}

RG_TEST(a_failure_goes_to_the_thread_that_made_the_call)
{
    pthread_barrier_t go;
    pthread_t t;
    struct other_thread o = {&go, CUDA_ERROR_UNKNOWN, CUDA_ERROR_UNKNOWN};
    CHECK_CU(setup());
    CHECK_CU(cuCtxSynchronize());
    pthread_barrier_init(&go, NULL, 2);
    CHECK(pthread_create(&t, NULL, other_thread, &o) == 0);
    CHECK_CU(bad_launch());
    pthread_barrier_wait(&go);
    pthread_join(t, NULL);
    pthread_barrier_destroy(&go);
    CHECK_CU(o.sync); /* not the other thread's launch error */
    CHECK_CU(o.again);
    CHECK_CU_IS(cuCtxSynchronize(), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuCtxSynchronize()); /* reported once */
}

/* The first launch of a function makes the shim ask for its limits: a
 * pending failure is reported by that launch or by the next waiting call,
 * exactly once. */
RG_TEST(first_launch_queries_do_not_swallow_a_failure)
{
    void *args[] = {&buf};
    CHECK_CU(setup());
    CHECK_CU(bad_launch());
    CUresult first = cuLaunchKernel(other, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL);
    CUresult sync = cuCtxSynchronize();
    if (!((first == CUDA_ERROR_INVALID_VALUE && sync == CUDA_SUCCESS) ||
          (first == CUDA_SUCCESS && sync == CUDA_ERROR_INVALID_VALUE)))
        RG_FAIL("launch %d, synchronize %d: the failure must come back once", first, sync);
    CHECK_CU(cuLaunchKernel(other, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL));
    CHECK_CU(cuCtxSynchronize());
}

/* A 4-byte parameter aligned to 16: the driver takes an extra buffer of 4 to
 * 16 bytes; the shim cannot see the alignment, so above 8 it waits. */
RG_TEST(padded_extra_buffers_get_the_drivers_answer)
{
    unsigned char v[32] = {0};
    size_t size = 4;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, v, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
                     CU_LAUNCH_PARAM_END};
    CHECK_CU(setup());
    CHECK_CU(cuLaunchKernel(aligned, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra));
    size = 16;
    CHECK_CU(cuLaunchKernel(aligned, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra));
    size = 24;
    CHECK_CU_IS(cuLaunchKernel(aligned, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra),
                CUDA_ERROR_INVALID_VALUE);
    size = 3;
    CHECK_CU_IS(cuLaunchKernel(aligned, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuCtxSynchronize()); /* nothing left behind */
}

RG_TEST_MAIN()
