/* event.c — event record/query/synchronize, NOT_READY while pending,
 * elapsed time (monotonic, timing disabled, never recorded), cross-stream
 * waits and bad handles. */
#include <cuda.h>
#include <stdatomic.h>
#include <unistd.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

static _Atomic int gate, ran;

static void CUDA_CB gate_fn(void *arg)
{
    for (int i = 0; i < 3000 && !atomic_load(&gate); i++)
        usleep(1000);
}

static void CUDA_CB sleep_fn(void *arg)
{
    usleep((useconds_t)(intptr_t)arg);
}

static void CUDA_CB mark_fn(void *arg)
{
    atomic_store(&ran, (int)(intptr_t)arg);
}

RG_TEST(record_query_sync)
{
    setup();
    CUevent e;
    CUstream s;
    CHECK_CU(cuEventCreate(&e, CU_EVENT_DEFAULT));
    CHECK_CU(cuEventQuery(e)); /* never recorded: complete */
    CHECK_CU(cuEventSynchronize(e));
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    atomic_store(&gate, 0);
    CHECK_CU(cuLaunchHostFunc(s, gate_fn, NULL));
    CHECK_CU(cuEventRecord(e, s));
    CHECK_CU_IS(cuEventQuery(e), CUDA_ERROR_NOT_READY);
    atomic_store(&gate, 1);
    CHECK_CU(cuEventSynchronize(e));
    CHECK_CU(cuEventQuery(e));
    CHECK_CU(cuEventRecordWithFlags(e, s, 0));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuEventQuery(e));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuEventDestroy(e));
}

RG_TEST(elapsed_time)
{
    setup();
    CUevent a, b, c;
    CHECK_CU(cuEventCreate(&a, 0));
    CHECK_CU(cuEventCreate(&b, CU_EVENT_BLOCKING_SYNC));
    CHECK_CU(cuEventCreate(&c, CU_EVENT_DISABLE_TIMING));
    float ms = -1;
    CHECK_CU_IS(cuEventElapsedTime(&ms, a, b), CUDA_ERROR_INVALID_HANDLE); /* not recorded */
    CHECK_CU(cuEventRecord(a, NULL));
    CHECK_CU(cuLaunchHostFunc(NULL, sleep_fn, (void *)(intptr_t)30000));
    CHECK_CU(cuEventRecord(b, NULL));
    CHECK_CU(cuEventRecord(c, NULL));
    CHECK_CU(cuEventSynchronize(b));
    CHECK_CU(cuEventElapsedTime(&ms, a, b));
    CHECK(ms >= 25.0f && ms < 5000.0f);
    float back = 0;
    CHECK_CU(cuEventElapsedTime(&back, b, a));
    CHECK(back <= 0.0f);
    CHECK_CU_IS(cuEventElapsedTime(&ms, a, c), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventElapsedTime(NULL, a, b), CUDA_ERROR_INVALID_VALUE);
    /* monotonic over a sequence of records */
    CUevent ev[8];
    for (int i = 0; i < 8; i++) {
        CHECK_CU(cuEventCreate(&ev[i], 0));
        CHECK_CU(cuEventRecord(ev[i], NULL));
        CHECK_CU(cuLaunchHostFunc(NULL, sleep_fn, (void *)(intptr_t)1000));
    }
    CHECK_CU(cuCtxSynchronize());
    for (int i = 1; i < 8; i++) {
        CHECK_CU(cuEventElapsedTime(&ms, ev[i - 1], ev[i]));
        CHECK(ms > 0.0f);
        CHECK_CU(cuEventDestroy(ev[i - 1]));
    }
    CHECK_CU(cuEventDestroy(ev[7]));
    /* pending end event */
    atomic_store(&gate, 0);
    CHECK_CU(cuLaunchHostFunc(NULL, gate_fn, NULL));
    CHECK_CU(cuEventRecord(b, NULL));
    CHECK_CU_IS(cuEventElapsedTime(&ms, a, b), CUDA_ERROR_NOT_READY);
    atomic_store(&gate, 1);
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuEventDestroy(a));
    CHECK_CU(cuEventDestroy(b));
    CHECK_CU(cuEventDestroy(c));
}

RG_TEST(stream_wait_event)
{
    setup();
    CUstream s1, s2;
    CUevent e;
    CHECK_CU(cuStreamCreate(&s1, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamCreate(&s2, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
    atomic_store(&gate, 0);
    atomic_store(&ran, 0);
    CHECK_CU(cuLaunchHostFunc(s1, gate_fn, NULL));
    CHECK_CU(cuEventRecord(e, s1));
    CHECK_CU(cuStreamWaitEvent(s2, e, 0));
    CHECK_CU(cuLaunchHostFunc(s2, mark_fn, (void *)1));
    usleep(20000);
    CHECK_EQ_INT(atomic_load(&ran), 0); /* s2 held back by the event */
    CHECK_CU_IS(cuStreamQuery(s2), CUDA_ERROR_NOT_READY);
    atomic_store(&gate, 1);
    CHECK_CU(cuStreamSynchronize(s2));
    CHECK_EQ_INT(atomic_load(&ran), 1);
    /* re-recording after the wait does not affect the earlier wait */
    CHECK_CU(cuEventRecord(e, s1));
    CHECK_CU(cuStreamWaitEvent(s2, e, 0));
    CHECK_CU(cuStreamSynchronize(s2));
    CHECK_CU_IS(cuStreamWaitEvent(s2, e, 0x10), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuStreamDestroy(s1));
    CHECK_CU(cuStreamDestroy(s2));
    CHECK_CU(cuEventDestroy(e));
}

RG_TEST(bad_events)
{
    setup();
    CUevent e;
    CHECK_CU_IS(cuEventCreate(&e, 0x100), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuEventCreate(NULL, 0), CUDA_ERROR_INVALID_VALUE);
    /* an interprocess event must disable timing (cuEventCreate's documentation) */
    CHECK_CU_IS(cuEventCreate(&e, CU_EVENT_INTERPROCESS), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuEventCreate(&e, 0));
    CHECK_CU(cuEventDestroy(e));
    CHECK_CU_IS(cuEventQuery(e), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventRecord(e, NULL), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventSynchronize(e), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventDestroy(e), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuEventQuery((CUevent)0x1234), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuStreamWaitEvent(NULL, (CUevent)0x1234, 0), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuEventCreate(&e, 0));
    CHECK_CU_IS(cuEventRecord(e, (CUstream)0x999), CUDA_ERROR_INVALID_HANDLE);
    /* record in another context's stream */
    CUcontext other;
    CUstream os;
    CHECK_CU(cuCtxCreate(&other, NULL, 0, 0));
    CHECK_CU(cuStreamCreate(&os, 0));
    CHECK_CU_IS(cuEventRecord(e, os), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuCtxDestroy(other));
    CHECK_CU(cuEventDestroy(e));
}

RG_TEST(destroy_while_pending)
{
    setup();
    CUevent e;
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuEventCreate(&e, 0));
    atomic_store(&gate, 0);
    CHECK_CU(cuLaunchHostFunc(s, gate_fn, NULL));
    CHECK_CU(cuEventRecord(e, s));
    CHECK_CU(cuEventDestroy(e)); /* allowed: resources go once the record ran */
    atomic_store(&gate, 1);
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuStreamDestroy(s));
}

/* cuCtxRecordEvent captures the work of every stream of the context;
 * cuCtxWaitEvent makes all later work of the context wait for an event. */
RG_TEST(context_wide_events)
{
    setup();
    CUstream s1, s2;
    CUevent e;
    CHECK_CU(cuStreamCreate(&s1, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
    atomic_store(&gate, 0);
    atomic_store(&ran, 0);
    CHECK_CU(cuLaunchHostFunc(s1, gate_fn, NULL));
    CHECK_CU(cuCtxRecordEvent(ctx, e));
    CHECK_CU_IS(cuEventQuery(e), CUDA_ERROR_NOT_READY);
    CHECK_CU(cuCtxWaitEvent(ctx, e));
    CHECK_CU(cuStreamCreate(&s2, CU_STREAM_NON_BLOCKING)); /* created afterwards: waits too */
    CHECK_CU(cuLaunchHostFunc(s2, mark_fn, (void *)1));
    usleep(20000);
    CHECK_EQ_INT(atomic_load(&ran), 0);
    atomic_store(&gate, 1);
    CHECK_CU(cuStreamSynchronize(s2));
    CHECK_EQ_INT(atomic_load(&ran), 1);
    CHECK_CU(cuEventQuery(e));
    CHECK_CU_IS(cuCtxRecordEvent(ctx, (CUevent)0x99), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuCtxWaitEvent((CUcontext)0x99, e), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU(cuStreamDestroy(s1));
    CHECK_CU(cuStreamDestroy(s2));
    CHECK_CU(cuEventDestroy(e));
}

RG_TEST_MAIN()
