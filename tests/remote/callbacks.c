/* callbacks.c — host callbacks through the wire (NOTIFY + DONE): they run in
 * the application, in stream order, with the stream's status; a slow callback
 * holds its own stream only, never another thread's calls; a callback may call
 * the driver (calls that do not wait for its own stream) without deadlock; and
 * the round trip is measured. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

static CUcontext primary;

/* ---- a slow callback does not block another thread --------------------------- */

static _Atomic int slow_started, slow_done;

static void CUDA_CB slow_fn(void *arg)
{
    (void)arg;
    atomic_store(&slow_started, 1);
    usleep(800000);
    atomic_store(&slow_done, 1);
}

struct other_result {
    CUdeviceptr d; /* allocated beforehand: cuMemFree may wait for the device */
    CUresult r;
    int done_seen; /* slow_done already set when the thread finished */
    double secs;
};

static void *other_thread(void *arg)
{
    struct other_result *o = arg;
    unsigned char a[4096], b[4096];
    CUdeviceptr d = o->d;
    double t0 = rt_now();
    o->r = cuCtxSetCurrent(primary);
    for (int i = 0; i < 20 && o->r == CUDA_SUCCESS; i++) {
        size_t free_b, total_b;
        memset(a, i, sizeof a);
        if ((o->r = cuMemcpyHtoD(d, a, sizeof a)) || (o->r = cuMemcpyDtoH(b, d, sizeof b)) ||
            (o->r = cuMemGetInfo(&free_b, &total_b)))
            break;
        if (memcmp(a, b, sizeof a)) o->r = CUDA_ERROR_UNKNOWN;
    }
    o->secs = rt_now() - t0;
    o->done_seen = atomic_load(&slow_done);
    return NULL;
}

RG_TEST(slow_callback_does_not_block_other_threads)
{
    CHECK_CU(rt_setup(&primary));
    CUstream s;
    struct other_result o = {0};
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&o.d, 4096));
    atomic_store(&slow_started, 0);
    atomic_store(&slow_done, 0);
    CHECK_CU(cuLaunchHostFunc(s, slow_fn, NULL));
    for (int i = 0; i < 500 && !atomic_load(&slow_started); i++) usleep(10000);
    CHECK(atomic_load(&slow_started));
    CHECK_CU_IS(cuStreamQuery(s), CUDA_ERROR_NOT_READY);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, other_thread, &o) == 0);
    pthread_join(t, NULL);
    CHECK_CU(o.r);
    if (o.done_seen) RG_FAIL("another thread's calls waited for a slow callback (%.3f s)", o.secs);
    CHECK_CU(cuStreamSynchronize(s));
    CHECK(atomic_load(&slow_done));
    CHECK_CU(cuMemFree(o.d));
    CHECK_CU(cuStreamDestroy(s));
}

/* ---- order, status, stream handle ------------------------------------------------ */

#define NORDER 2000
static int order[NORDER];
static _Atomic int next_slot;

static void CUDA_CB record_fn(void *arg)
{
    int slot = atomic_fetch_add(&next_slot, 1);
    if (slot < NORDER) order[slot] = (int)(intptr_t)arg;
}

RG_TEST(callbacks_run_in_stream_order)
{
    CHECK_CU(rt_setup(&primary));
    CUstream s;
    CUdeviceptr d;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuMemAlloc(&d, 1 << 20));
    atomic_store(&next_slot, 0);
    for (int i = 0; i < NORDER; i++) {
        if (i % 100 == 0) CHECK_CU(cuMemsetD8Async(d, (unsigned char)i, 1 << 20, s));
        CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)(intptr_t)i));
    }
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(atomic_load(&next_slot), NORDER);
    for (int i = 0; i < NORDER; i++)
        if (order[i] != i) RG_FAIL("callback %d ran in place %d", order[i], i);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

static CUstream seen_stream;
static CUresult seen_status = (CUresult)-1;

static void CUDA_CB stream_cb(CUstream s, CUresult status, void *data)
{
    seen_stream = s;
    seen_status = status;
    *(int *)data = 7;
}

RG_TEST(stream_callback_gets_stream_and_status)
{
    CHECK_CU(rt_setup(&primary));
    CUstream s;
    int v = 0;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamAddCallback(s, stream_cb, &v, 0));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(v, 7);
    CHECK(seen_stream == s);
    CHECK_EQ_INT(seen_status, CUDA_SUCCESS);
    v = 0;
    CHECK_CU(cuStreamAddCallback(NULL, stream_cb, &v, 0));
    CHECK_CU(cuCtxSynchronize());
    CHECK_EQ_INT(v, 7);
    CHECK(seen_stream == NULL);
    CHECK_CU_IS(cuStreamAddCallback(s, stream_cb, &v, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuLaunchHostFunc(s, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU_IS(cuLaunchHostFunc(s, record_fn, NULL), CUDA_ERROR_INVALID_HANDLE);
}

/* ---- a callback that calls the driver ---------------------------------------------- */

static CUresult inner_result = (CUresult)-1;
static size_t inner_total;

static void CUDA_CB calling_fn(void *arg)
{
    size_t f;
    CUresult r = cuCtxSetCurrent(primary);
    if (r == CUDA_SUCCESS) r = cuMemGetInfo(&f, &inner_total);
    if (r == CUDA_SUCCESS) r = cuMemsetD8Async(*(CUdeviceptr *)arg, 9, 16, NULL);
    inner_result = r;
}

RG_TEST(callback_may_call_the_driver)
{
    CHECK_CU(rt_setup(&primary));
    CUstream s;
    CUdeviceptr d;
    unsigned char out[16];
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, 16));
    CHECK_CU(cuLaunchHostFunc(s, calling_fn, &d));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(inner_result);
    CHECK(inner_total > 0);
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemcpyDtoH(out, d, 16));
    CHECK_EQ_INT(out[0], 9);
    CHECK_EQ_INT(out[15], 9);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

/* ---- the round trip ------------------------------------------------------------------ */

static _Atomic int nop_runs;

static void CUDA_CB nop_fn(void *arg)
{
    (void)arg;
    atomic_fetch_add(&nop_runs, 1);
}

RG_TEST(callback_round_trip)
{
    CHECK_CU(rt_setup(&primary));
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamSynchronize(s));
    atomic_store(&nop_runs, 0);
    double t0 = rt_now();
    for (int i = 0; i < 200; i++) {
        CHECK_CU(cuLaunchHostFunc(s, nop_fn, NULL));
        CHECK_CU(cuStreamSynchronize(s));
        /* it ran before the synchronisation returned */
        CHECK_EQ_INT(atomic_load(&nop_runs), i + 1);
    }
    double one = (rt_now() - t0) / 200;
    t0 = rt_now();
    for (int i = 0; i < 200; i++) CHECK_CU(cuStreamSynchronize(s));
    double sync_only = (rt_now() - t0) / 200;
    t0 = rt_now();
    for (int i = 0; i < 5000; i++) CHECK_CU(cuLaunchHostFunc(s, nop_fn, NULL));
    CHECK_CU(cuStreamSynchronize(s));
    double piped = (rt_now() - t0) / 5000;
    CHECK_EQ_INT(atomic_load(&nop_runs), 200 + 5000);
    printf("host callback: launch+sync %.1f us (sync alone %.1f us), pipelined %.1f us each\n",
           one * 1e6, sync_only * 1e6, piped * 1e6);
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST_MAIN()
