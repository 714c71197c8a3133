/* repeat.c — a loop of pipelined launches of one function, grid, block and
 * stream travels as one frame with a count (rpc/frame.h `repeat`,
 * client-shim/cuda/conn.c) and, where they change, each launch's parameter
 * bytes: every launch still runs, with its own parameters, in order with the
 * calls around it, once per launch; a run ends where anything else changes
 * (grid, stream, context, another call in between, another thread's call); a
 * failing launch repeated is reported once, as the driver reports an
 * asynchronous failure. Counted by the kernels themselves
 * (an atomic add per block), checked against the counts the CPU expects. */
#include <pthread.h>
#include <string.h>

#include "remote.h"

/* count(p, v): every block adds v to *p. exact: .reqntid 64, so a block of 32
 * passes the shim's checks and fails on the server. */
static const char ptx[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry count(.param .u64 p, .param .u32 v)\n{\n"
    " .reg .b64 %rd<3>;\n .reg .b32 %r<3>;\n"
    " ld.param.u64 %rd1, [p];\n cvta.to.global.u64 %rd2, %rd1;\n"
    " ld.param.u32 %r1, [v];\n atom.global.add.u32 %r2, [%rd2], %r1;\n ret;\n}\n"
    ".visible .entry exact(.param .u64 p) .reqntid 64\n{\n ret;\n}\n";

static CUcontext primary;
static CUfunction count, exact;
static CUdeviceptr counters; /* 8 u32 counters */

static CUresult setup(void)
{
    static CUresult done = CUDA_ERROR_NOT_INITIALIZED;
    CUmodule m;
    if (done == CUDA_SUCCESS) return done;
    CUresult r = rt_setup(&primary);
    if (!r) r = cuModuleLoadData(&m, ptx);
    if (!r) r = cuModuleGetFunction(&count, m, "count");
    if (!r) r = cuModuleGetFunction(&exact, m, "exact");
    if (!r) r = cuMemAlloc(&counters, 8 * sizeof(uint32_t));
    return done = r;
}

static CUdeviceptr counter(int i)
{
    return counters + (CUdeviceptr)i * sizeof(uint32_t);
}

/* The module and counters (made once), all counters 0. */
static CUresult zero_all(void)
{
    CUresult r = setup();
    return r ? r : cuMemsetD32(counters, 0, 8);
}

static uint32_t read_counter(int i)
{
    uint32_t v = 0xdeadbeef;
    if (cuMemcpyDtoH(&v, counter(i), sizeof v) != CUDA_SUCCESS) return 0xdeadbeef;
    return v;
}

/* n launches of count(counter(i), v) with `blocks` blocks on stream s. */
static CUresult launches(int n, int i, uint32_t v, unsigned blocks, CUstream s)
{
    CUdeviceptr p = counter(i);
    void *args[] = {&p, &v};
    for (int k = 0; k < n; k++) {
        CUresult r = cuLaunchKernel(count, blocks, 1, 1, 1, 1, 1, 0, s, args, NULL);
        if (r != CUDA_SUCCESS) return r;
    }
    return CUDA_SUCCESS;
}

RG_TEST(identical_launches_all_run)
{
    CHECK_EQ_INT(zero_all(), CUDA_SUCCESS);
    CHECK_EQ_INT(launches(200000, 0, 1, 1, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    CHECK_EQ_U64(read_counter(0), 200000);
    /* a second loop, three blocks each: counted frames one after another */
    CHECK_EQ_INT(launches(150000, 1, 2, 3, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    CHECK_EQ_U64(read_counter(1), 150000u * 2 * 3);
}

/* A run ends where an argument, the grid or the stream changes; every
 * launch lands on its own counter with its own value. */
RG_TEST(a_run_ends_where_anything_changes)
{
    CUstream s;
    CHECK_EQ_INT(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CHECK_EQ_INT(zero_all(), CUDA_SUCCESS);
    uint64_t want[3] = {0};
    for (int round = 0; round < 50; round++) {
        int n = 1 + round * 7 % 23;
        uint32_t v = 1 + (uint32_t)round % 4;
        unsigned blocks = 1 + (unsigned)round % 3;
        int i = round % 3;
        CHECK_EQ_INT(launches(n, i, v, blocks, round % 2 ? s : NULL), CUDA_SUCCESS);
        want[i] += (uint64_t)n * v * blocks;
    }
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    for (int i = 0; i < 3; i++) CHECK_EQ_U64(read_counter(i), want[i]);
    CHECK_EQ_INT(cuStreamDestroy(s), CUDA_SUCCESS);
}

/* The same launch with parameters that change: every run with its own. A
 * value per launch (a different sum for any run lost, doubled or given
 * another's value), a pointer that alternates, and stretches of identical
 * launches between changing ones. */
RG_TEST(launches_whose_parameters_change_all_run)
{
    CHECK_EQ_INT(zero_all(), CUDA_SUCCESS);
    uint64_t want[8] = {0};
    for (uint32_t k = 0; k < 60000; k++) {
        int i = k % 3 == 2 ? 1 : 0;
        uint32_t v = k % 1000 < 500 ? 1 + k % 13 : 3; /* 500 changing, 500 alike, ... */
        CHECK_EQ_INT(launches(1, i, v, 2, NULL), CUDA_SUCCESS);
        want[i] += 2ull * v;
    }
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    CHECK_EQ_U64(read_counter(0), want[0]);
    CHECK_EQ_U64(read_counter(1), want[1]);
    for (uint32_t k = 0; k < 5000; k++) { /* identical first, then one that differs */
        CHECK_EQ_INT(launches(1, 2, k % 10 < 9 ? 1 : 100, 1, NULL), CUDA_SUCCESS);
        want[2] += k % 10 < 9 ? 1 : 100;
    }
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    CHECK_EQ_U64(read_counter(2), want[2]);
}

/* Calls between launches keep their place: a run before a memset is all
 * wiped by it, the run after it all counts. */
RG_TEST(calls_between_runs_keep_their_order)
{
    uint32_t thousand = 1000;
    CHECK_EQ_INT(zero_all(), CUDA_SUCCESS);
    CHECK_EQ_INT(launches(500, 2, 1, 1, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(cuMemsetD32Async(counter(2), 0, 1, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(launches(300, 2, 1, 1, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(cuMemcpyHtoDAsync(counter(3), &thousand, sizeof thousand, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(launches(700, 3, 1, 1, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    CHECK_EQ_U64(read_counter(2), 300);
    CHECK_EQ_U64(read_counter(3), 1700);
}

struct worker {
    pthread_barrier_t *go;
    int counter, n;
    CUresult r;
};

static void *launcher(void *arg)
{
    struct worker *w = arg;
    w->r = cuCtxSetCurrent(primary);
    pthread_barrier_wait(w->go);
    if (!w->r) w->r = launches(w->n, w->counter, 1, 1, NULL);
    if (!w->r) w->r = cuCtxSynchronize();
    return NULL;
}

/* Threads launching the same kernel with the same arguments at once: each
 * thread's launches are its own (the worker runs them on that thread's lane). */
RG_TEST(threads_at_once_lose_no_launch)
{
    enum { THREADS = 4, N = 40000 };
    pthread_barrier_t go;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    CHECK_EQ_INT(zero_all(), CUDA_SUCCESS);
    pthread_barrier_init(&go, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){&go, i < 2 ? 4 : 5, N, CUDA_SUCCESS}; /* two share counter 4 */
        pthread_create(&t[i], NULL, launcher, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(w[i].r, CUDA_SUCCESS);
    }
    pthread_barrier_destroy(&go);
    CHECK_EQ_U64(read_counter(4), 2u * N);
    CHECK_EQ_U64(read_counter(5), 2u * N);
}

/* A launch that fails on the server, repeated: one failure at the next call
 * that waits, the same one a single such launch gives, and none after. */
RG_TEST(a_failing_launch_repeated_fails_once)
{
    CHECK_EQ_INT(zero_all(), CUDA_SUCCESS);
    CUdeviceptr p = counter(6);
    void *args[] = {&p};
    CHECK_EQ_INT(cuLaunchKernel(exact, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL), CUDA_SUCCESS);
    CUresult once = cuCtxSynchronize();
    CHECK(once != CUDA_SUCCESS);
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    for (int k = 0; k < 1000; k++)
        CHECK_EQ_INT(cuLaunchKernel(exact, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(cuCtxSynchronize(), once);
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    /* and the launches after it run */
    CHECK_EQ_INT(launches(1000, 6, 1, 1, NULL), CUDA_SUCCESS);
    CHECK_EQ_INT(cuCtxSynchronize(), CUDA_SUCCESS);
    CHECK_EQ_U64(read_counter(6), 1000);
}

RG_TEST_MAIN()
