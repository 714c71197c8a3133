/* stream.c — stream ordering with host functions, legacy NULL-stream
 * semantics (blocking vs non-blocking streams), per-thread default streams,
 * queries, callbacks, stream memory operations, attributes and bad handles. */
#include <cuda.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "rgtest.h"

static CUcontext ctx;

static void setup(void)
{
    if (ctx) return;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx)) abort();
}

/* ---- helpers: a log of host-function runs and a gate ----------------------- */

static _Atomic int seq;
static int order[4096];

static void CUDA_CB record_fn(void *arg)
{
    int i = atomic_fetch_add(&seq, 1);
    if (i < 4096) order[i] = (int)(intptr_t)arg;
}

static _Atomic int gate;
static _Atomic int gate_timed_out;

/* Blocks its stream until the gate opens (or 3 s pass: a deadlock in the test). */
static void CUDA_CB gate_fn(void *arg)
{
    for (int i = 0; i < 3000 && !atomic_load(&gate); i++)
        usleep(1000);
    if (!atomic_load(&gate)) atomic_store(&gate_timed_out, 1);
}

static void CUDA_CB open_gate_fn(void *arg)
{
    atomic_store(&gate, 1);
}

static void reset_log(void)
{
    atomic_store(&seq, 0);
    atomic_store(&gate, 0);
    atomic_store(&gate_timed_out, 0);
}

RG_TEST(in_order)
{
    setup();
    reset_log();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, 0));
    for (intptr_t i = 0; i < 2000; i++)
        CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)i));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(atomic_load(&seq), 2000);
    for (int i = 0; i < 2000; i++)
        if (order[i] != i) RG_FAIL("op %d ran at position %d", order[i], i);
    CHECK_CU(cuStreamQuery(s));
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(asynchronous_and_query)
{
    setup();
    reset_log();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuLaunchHostFunc(s, gate_fn, NULL));
    CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)1));
    /* the caller goes on while the stream is blocked */
    CHECK_CU_IS(cuStreamQuery(s), CUDA_ERROR_NOT_READY);
    CHECK_EQ_INT(atomic_load(&seq), 0);
    atomic_store(&gate, 1);
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(atomic_load(&seq), 1);
    CHECK_CU(cuStreamQuery(s));
    CHECK_CU(cuStreamDestroy(s));
    CHECK(!atomic_load(&gate_timed_out));
}

/* The legacy stream waits for earlier work of blocking streams. */
RG_TEST(legacy_waits_for_blocking)
{
    setup();
    reset_log();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuLaunchHostFunc(s, gate_fn, NULL));
    CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)1));
    CHECK_CU(cuLaunchHostFunc(NULL, record_fn, (void *)2));
    usleep(20000);
    CHECK_EQ_INT(atomic_load(&seq), 0); /* NULL-stream op is held back */
    atomic_store(&gate, 1);
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(atomic_load(&seq), 2);
    CHECK_EQ_INT(order[0], 1);
    CHECK_EQ_INT(order[1], 2);
    CHECK_CU(cuStreamDestroy(s));
}

/* Blocking streams wait for earlier work of the legacy stream. */
RG_TEST(blocking_waits_for_legacy)
{
    setup();
    reset_log();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuLaunchHostFunc(NULL, gate_fn, NULL));
    CHECK_CU(cuLaunchHostFunc(NULL, record_fn, (void *)1));
    CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)2));
    usleep(20000);
    CHECK_EQ_INT(atomic_load(&seq), 0);
    atomic_store(&gate, 1);
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(atomic_load(&seq), 2);
    CHECK_EQ_INT(order[0], 1);
    CHECK_EQ_INT(order[1], 2);
    CHECK_CU(cuStreamDestroy(s));
}

/* Non-blocking streams neither wait for nor hold back the legacy stream. */
RG_TEST(non_blocking_is_independent)
{
    setup();
    reset_log();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuLaunchHostFunc(s, gate_fn, NULL));         /* s waits for the gate... */
    CHECK_CU(cuLaunchHostFunc(NULL, open_gate_fn, NULL)); /* ...which NULL opens */
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK(!atomic_load(&gate_timed_out));
    reset_log();
    CHECK_CU(cuLaunchHostFunc(NULL, gate_fn, NULL));
    CHECK_CU(cuLaunchHostFunc(s, open_gate_fn, NULL));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuCtxSynchronize());
    CHECK(!atomic_load(&gate_timed_out));
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(legacy_handle_and_per_thread)
{
    setup();
    reset_log();
    CHECK_CU(cuLaunchHostFunc(CU_STREAM_LEGACY, record_fn, (void *)1));
    CHECK_CU(cuStreamSynchronize(CU_STREAM_LEGACY));
    CHECK_EQ_INT(atomic_load(&seq), 1);
    CHECK_CU(cuLaunchHostFunc(CU_STREAM_PER_THREAD, record_fn, (void *)2));
    CHECK_CU(cuStreamSynchronize(CU_STREAM_PER_THREAD));
    CHECK_EQ_INT(atomic_load(&seq), 2);
    unsigned long long id_legacy, id_pt, id_pt2;
    CHECK_CU(cuStreamGetId(CU_STREAM_LEGACY, &id_legacy));
    CHECK_CU(cuStreamGetId(CU_STREAM_PER_THREAD, &id_pt));
    CHECK_CU(cuStreamGetId(CU_STREAM_PER_THREAD, &id_pt2));
    CHECK(id_legacy != id_pt);
    CHECK_EQ_U64(id_pt, id_pt2);
    CUcontext c;
    CHECK_CU(cuStreamGetCtx(CU_STREAM_PER_THREAD, &c));
    CHECK(c == ctx);
    CHECK_CU_IS(cuStreamDestroy(CU_STREAM_LEGACY), CUDA_ERROR_INVALID_HANDLE);
}

static unsigned long long other_thread_id;

static void *pt_thread(void *arg)
{
    cuCtxSetCurrent(ctx);
    cuStreamGetId(CU_STREAM_PER_THREAD, &other_thread_id);
    cuLaunchHostFunc(CU_STREAM_PER_THREAD, record_fn, (void *)9);
    cuStreamSynchronize(CU_STREAM_PER_THREAD);
    return NULL;
}

RG_TEST(per_thread_streams_differ)
{
    setup();
    reset_log();
    unsigned long long mine;
    CHECK_CU(cuStreamGetId(CU_STREAM_PER_THREAD, &mine));
    pthread_t t;
    pthread_create(&t, NULL, pt_thread, NULL);
    pthread_join(t, NULL);
    CHECK(other_thread_id != 0 && other_thread_id != mine);
    CHECK_EQ_INT(atomic_load(&seq), 1);
}

static CUstream cb_stream;
static CUresult cb_status = (CUresult)-1;

static void CUDA_CB callback(CUstream s, CUresult status, void *data)
{
    cb_stream = s;
    cb_status = status;
    *(int *)data = 42;
}

RG_TEST(callbacks_and_properties)
{
    setup();
    CUstream s;
    int v = 0;
    CHECK_CU(cuStreamCreateWithPriority(&s, CU_STREAM_NON_BLOCKING, -1));
    CHECK_CU(cuStreamAddCallback(s, callback, &v, 0));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(v, 42);
    CHECK(cb_stream == s);
    CHECK_EQ_INT(cb_status, CUDA_SUCCESS);
    CHECK_CU_IS(cuStreamAddCallback(s, callback, &v, 1), CUDA_ERROR_INVALID_VALUE);
    int prio = 5;
    unsigned flags = 7;
    CHECK_CU(cuStreamGetPriority(s, &prio));
    CHECK_EQ_INT(prio, -1);
    CHECK_CU(cuStreamGetFlags(s, &flags));
    CHECK_EQ_INT(flags, CU_STREAM_NON_BLOCKING);
    CUcontext c;
    CHECK_CU(cuStreamGetCtx(s, &c));
    CHECK(c == ctx);
    CUdevice d = -1;
    CHECK_CU(cuStreamGetDevice(s, &d));
    CHECK_EQ_INT(d, 0);
    CUstreamAttrValue val;
    memset(&val, 0, sizeof val);
    val.priority = -2;
    CHECK_CU(cuStreamSetAttribute(s, CU_LAUNCH_ATTRIBUTE_PRIORITY, &val));
    memset(&val, 0, sizeof val);
    CHECK_CU(cuStreamGetAttribute(s, CU_LAUNCH_ATTRIBUTE_PRIORITY, &val));
    CHECK_EQ_INT(val.priority, -2);
    CUstream t;
    CHECK_CU(cuStreamCreate(&t, 0));
    CHECK_CU(cuStreamCopyAttributes(t, s));
    CHECK_CU(cuStreamGetPriority(t, &prio));
    CHECK_EQ_INT(prio, -2);
    CHECK_CU(cuStreamDestroy(t));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU_IS(cuStreamCreate(&s, 0x80), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuStreamCreate(NULL, 0), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(bad_handles)
{
    setup();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU_IS(cuStreamSynchronize(s), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuStreamQuery(s), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuStreamDestroy(s), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuLaunchHostFunc(s, record_fn, NULL), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuStreamSynchronize((CUstream)0xdeadbeef), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuLaunchHostFunc(NULL, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    int prio;
    CHECK_CU_IS(cuStreamGetPriority((CUstream)0x77, &prio), CUDA_ERROR_INVALID_HANDLE);
}

RG_TEST(destroy_with_pending_work)
{
    setup();
    reset_log();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuLaunchHostFunc(s, gate_fn, NULL));
    for (intptr_t i = 0; i < 100; i++)
        CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)i));
    CHECK_CU(cuStreamDestroy(s)); /* returns at once; the work still completes */
    atomic_store(&gate, 1);
    for (int i = 0; i < 2000 && atomic_load(&seq) < 100; i++)
        usleep(1000);
    CHECK_EQ_INT(atomic_load(&seq), 100);
}

RG_TEST(wait_and_write_value)
{
    setup();
    CUdeviceptr flag;
    CHECK_CU(cuMemAlloc(&flag, 64));
    CHECK_CU(cuMemsetD32(flag, 0, 16));
    CHECK_CU(cuCtxSynchronize()); /* the non-blocking streams below do not wait for it */
    CUstream waiter, writer;
    CHECK_CU(cuStreamCreate(&waiter, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamCreate(&writer, CU_STREAM_NON_BLOCKING));
    reset_log();
    CHECK_CU(cuStreamWaitValue32(waiter, flag, 5, CU_STREAM_WAIT_VALUE_GEQ));
    CHECK_CU(cuLaunchHostFunc(waiter, record_fn, (void *)1));
    usleep(10000);
    CHECK_CU_IS(cuStreamQuery(waiter), CUDA_ERROR_NOT_READY);
    CHECK_CU(cuStreamWriteValue32(writer, flag, 7, 0));
    CHECK_CU(cuStreamSynchronize(waiter));
    CHECK_EQ_INT(atomic_load(&seq), 1);
    CHECK_CU(cuStreamWriteValue64(writer, flag + 8, 0x123456789abcull, 0));
    CHECK_CU(cuStreamWaitValue64(waiter, flag + 8, 0x123456789abcull, CU_STREAM_WAIT_VALUE_EQ));
    CHECK_CU(cuStreamSynchronize(waiter));
    unsigned long long v;
    CHECK_CU(cuMemcpyDtoH(&v, flag + 8, 8));
    CHECK_EQ_U64(v, 0x123456789abcull);
    CHECK_CU_IS(cuStreamWriteValue32(writer, flag + 2, 1, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuStreamWriteValue32(writer, (CUdeviceptr)0x1000, 1, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuStreamDestroy(waiter));
    CHECK_CU(cuStreamDestroy(writer));
    CHECK_CU(cuMemFree(flag));
}

RG_TEST(many_streams_many_threads)
{
    setup();
    enum { NS = 16 };
    CUstream s[NS];
    reset_log();
    for (int i = 0; i < NS; i++)
        CHECK_CU(cuStreamCreate(&s[i], i % 2 ? CU_STREAM_NON_BLOCKING : 0));
    for (int r = 0; r < 50; r++)
        for (int i = 0; i < NS; i++)
            CHECK_CU(cuLaunchHostFunc(s[i], record_fn, (void *)0));
    CHECK_CU(cuCtxSynchronize());
    CHECK_EQ_INT(atomic_load(&seq), 50 * NS);
    for (int i = 0; i < NS; i++)
        CHECK_CU(cuStreamDestroy(s[i]));
}

static CUstream shared_stream;
static _Atomic int counter;

static void CUDA_CB count_fn(void *arg)
{
    atomic_fetch_add(&counter, 1);
}

static void *enqueue_thread(void *arg)
{
    cuCtxSetCurrent(ctx);
    for (int i = 0; i < 5000; i++)
        cuLaunchHostFunc(shared_stream, count_fn, NULL);
    return NULL;
}

/* Several threads feeding one stream (more than the ring holds). */
RG_TEST(many_threads_one_stream)
{
    setup();
    atomic_store(&counter, 0);
    CHECK_CU(cuStreamCreate(&shared_stream, CU_STREAM_NON_BLOCKING));
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, enqueue_thread, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_CU(cuStreamSynchronize(shared_stream));
    CHECK_EQ_INT(atomic_load(&counter), 20000);
    CHECK_CU(cuStreamDestroy(shared_stream));
}

/* A stream idle long enough to retire its worker still runs later work. */
RG_TEST(idle_stream_wakes_again)
{
    setup();
    reset_log();
    CUstream s;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)1));
    CHECK_CU(cuStreamSynchronize(s));
    usleep(2600000);
    CHECK_CU(cuLaunchHostFunc(s, record_fn, (void *)2));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(atomic_load(&seq), 2);
    CHECK_EQ_INT(order[1], 2);
    CHECK_CU(cuStreamDestroy(s));
}

static void *pt_exit_thread(void *arg)
{
    cuCtxSetCurrent(ctx);
    cuLaunchHostFunc(CU_STREAM_PER_THREAD, gate_fn, NULL);
    cuLaunchHostFunc(CU_STREAM_PER_THREAD, record_fn, (void *)5);
    return NULL; /* exits with work pending */
}

RG_TEST(per_thread_stream_outlives_thread)
{
    setup();
    reset_log();
    pthread_t t;
    pthread_create(&t, NULL, pt_exit_thread, NULL);
    pthread_join(t, NULL);
    atomic_store(&gate, 1);
    CHECK_CU(cuCtxSynchronize());
    CHECK_EQ_INT(atomic_load(&seq), 1);
    CHECK_EQ_INT(order[0], 5);
}

RG_TEST_MAIN()
