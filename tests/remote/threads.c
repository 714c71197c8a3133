/* threads.c — several application threads share one connection: each makes
 * the primary context current and moves its own data; replies reach the right
 * thread, and a thread blocked in a synchronisation does not stall the others,
 * even when the work it waits for is submitted by another thread later. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

#define NTHREADS 4
#define ROUNDS 50

static CUcontext primary;

static void *worker(void *arg)
{
    long id = (long)arg;
    size_t n = 64 * 1024 + (size_t)id * 100;
    unsigned char *a = malloc(n), *b = malloc(n);
    CUdeviceptr d;
    long bad = 0;
    if (!a || !b || cuCtxSetCurrent(primary) != CUDA_SUCCESS || cuMemAlloc(&d, n) != CUDA_SUCCESS)
        return (void *)1;
    for (int r = 0; r < ROUNDS && !bad; r++) {
        memset(a, (int)(id * 16 + r), n);
        bad |= cuMemcpyHtoD(d, a, n) != CUDA_SUCCESS;
        bad |= cuCtxSynchronize() != CUDA_SUCCESS;
        bad |= cuMemcpyDtoH(b, d, n) != CUDA_SUCCESS;
        bad |= memcmp(a, b, n) != 0;
    }
    bad |= cuMemFree(d) != CUDA_SUCCESS;
    free(a);
    free(b);
    return (void *)bad;
}

RG_TEST(threads_share_the_connection)
{
    CHECK_CU(rt_setup(&primary));
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        CHECK(bad == NULL);
    }
}

/* Thread A blocks in cuStreamSynchronize on a stream that waits for a flag in
 * device memory; only thread B, which starts after A is blocked, writes the
 * flag. Meanwhile B's own calls (round trips included) must go through. */
struct blocked {
    CUstream s;
    CUdeviceptr flag, out;
    volatile int a_state; /* 1: about to synchronise, 2: returned */
    CUresult a_result;
    double a_returned;
};

static void *blocked_syncer(void *p)
{
    struct blocked *b = p;
    if (cuCtxSetCurrent(primary) != CUDA_SUCCESS) return (void *)1;
    __atomic_store_n(&b->a_state, 1, __ATOMIC_SEQ_CST);
    b->a_result = cuStreamSynchronize(b->s);
    b->a_returned = rt_now();
    __atomic_store_n(&b->a_state, 2, __ATOMIC_SEQ_CST);
    return NULL;
}

RG_TEST(sync_waits_for_work_another_thread_submits_later)
{
    struct blocked b = {0};
    CUstream other;
    unsigned out = 0;
    CHECK_CU(rt_setup(&primary));
    CHECK_CU(cuStreamCreate(&b.s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamCreate(&other, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&b.flag, 4));
    CHECK_CU(cuMemAlloc(&b.out, 4));
    CHECK_CU(cuMemsetD32(b.flag, 0, 1));
    CHECK_CU(cuMemsetD32(b.out, 0, 1));
    CHECK_CU(cuCtxSynchronize());
    /* the stream waits for the flag, then writes 7 into out */
    CHECK_CU(cuStreamWaitValue32(b.s, b.flag, 1, CU_STREAM_WAIT_VALUE_EQ));
    CHECK_CU(cuMemsetD32Async(b.out, 7, 1, b.s));

    pthread_t a;
    CHECK(pthread_create(&a, NULL, blocked_syncer, &b) == 0);
    while (__atomic_load_n(&b.a_state, __ATOMIC_SEQ_CST) < 1) usleep(1000);
    usleep(200 * 1000); /* A is in its synchronisation (or about to be) */
    CHECK(__atomic_load_n(&b.a_state, __ATOMIC_SEQ_CST) == 1);

    /* this thread's calls still run while A waits: a round trip and a copy */
    unsigned seen = 99;
    CHECK_CU(cuMemcpyDtoH(&seen, b.out, 4));
    CHECK(seen == 0); /* the stream is still held by its wait */
    CHECK(__atomic_load_n(&b.a_state, __ATOMIC_SEQ_CST) == 1);

    double released = rt_now();
    CHECK_CU(cuStreamWriteValue32(other, b.flag, 1, 0));
    CHECK_CU(cuStreamSynchronize(other));
    for (int i = 0; i < 10000 && __atomic_load_n(&b.a_state, __ATOMIC_SEQ_CST) < 2; i++) usleep(1000);
    CHECK(__atomic_load_n(&b.a_state, __ATOMIC_SEQ_CST) == 2);
    pthread_join(a, NULL);
    CHECK_CU(b.a_result);
    CHECK(b.a_returned >= released); /* A returned only after B wrote the flag */
    CHECK_CU(cuMemcpyDtoH(&out, b.out, 4));
    CHECK(out == 7);
    CHECK_CU(cuStreamDestroy(b.s));
    CHECK_CU(cuStreamDestroy(other));
    CHECK_CU(cuMemFree(b.flag));
    CHECK_CU(cuMemFree(b.out));
}

/* A synchronous copy on the legacy stream waits, in the backend, for a blocking
 * stream held by a flag that another thread writes 100 ms later. Through rgpu
 * the application does not wait (the copy is pipelined), so the flag's write
 * reaches the worker after the blocked copy. The worker must not keep the
 * second thread's calls behind the blocked copy (a real driver blocks only the
 * copying thread). */
static CUdeviceptr late_flag;

static void *late_writer(void *p)
{
    CUstream other = p;
    usleep(100 * 1000);
    if (cuCtxSetCurrent(primary) != CUDA_SUCCESS) return (void *)1;
    if (cuStreamWriteValue32(other, late_flag, 1, 0) != CUDA_SUCCESS) return (void *)1;
    return cuStreamSynchronize(other) == CUDA_SUCCESS ? NULL : (void *)1;
}

RG_TEST(blocked_legacy_copy_does_not_stall_other_threads)
{
    CUstream held, other;
    CUdeviceptr dst;
    unsigned char src[4096], back[4096];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 7 + 1);
    CHECK_CU(rt_setup(&primary));
    CHECK_CU(cuStreamCreate(&held, CU_STREAM_DEFAULT));
    CHECK_CU(cuStreamCreate(&other, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&late_flag, 4));
    CHECK_CU(cuMemAlloc(&dst, sizeof src));
    CHECK_CU(cuMemsetD32(late_flag, 0, 1));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuStreamWaitValue32(held, late_flag, 1, CU_STREAM_WAIT_VALUE_EQ));
    pthread_t w; /* writes the flag in 100 ms, after the copy was sent */
    CHECK(pthread_create(&w, NULL, late_writer, other) == 0);
    CHECK_CU(cuMemcpyHtoD(dst, src, sizeof src)); /* legacy stream: behind `held` */
    CHECK_CU(cuCtxSynchronize());
    void *bad = (void *)1;
    pthread_join(w, &bad);
    CHECK(bad == NULL);
    CHECK_CU(cuMemcpyDtoH(back, dst, sizeof back));
    CHECK(memcmp(src, back, sizeof src) == 0);
    CHECK_CU(cuStreamDestroy(held));
    CHECK_CU(cuStreamDestroy(other));
    CHECK_CU(cuMemFree(late_flag));
    CHECK_CU(cuMemFree(dst));
}

/* The same, with a large copy (streamed in pieces) behind a blocked small copy
 * of the copying thread: that thread's lane is in the memset when the copy's bytes
 * arrive, and the flag's write travels behind them, so the worker must take
 * the bytes in without waiting for the lane for ever. */
RG_TEST(large_copy_behind_a_blocked_call_of_its_thread)
{
    CUstream held, other;
    CUdeviceptr dst;
    size_t n = 64u << 20;
    unsigned char *src = malloc(n), *back = malloc(n);
    if (!src || !back) RG_SKIP("no memory for two %zu-byte buffers", n);
    for (size_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 13 + (i >> 12));
    CHECK_CU(rt_setup(&primary));
    CHECK_CU(cuStreamCreate(&held, CU_STREAM_DEFAULT));
    CHECK_CU(cuStreamCreate(&other, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&late_flag, 4));
    CHECK_CU(cuMemAlloc(&dst, n));
    CHECK_CU(cuMemsetD32(late_flag, 0, 1));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuStreamWaitValue32(held, late_flag, 1, CU_STREAM_WAIT_VALUE_EQ));
    pthread_t w;
    CHECK(pthread_create(&w, NULL, late_writer, other) == 0);
    CHECK_CU(cuMemcpyHtoD(dst, src + 1, 4096)); /* legacy stream: blocks behind `held` */
    CHECK_CU(cuMemcpyHtoD(dst, src, n));
    CHECK_CU(cuCtxSynchronize());
    void *bad = (void *)1;
    pthread_join(w, &bad);
    CHECK(bad == NULL);
    CHECK_CU(cuMemcpyDtoH(back, dst, n));
    CHECK(memcmp(src, back, n) == 0);
    CHECK_CU(cuStreamDestroy(held));
    CHECK_CU(cuStreamDestroy(other));
    CHECK_CU(cuMemFree(late_flag));
    CHECK_CU(cuMemFree(dst));
    free(src);
    free(back);
}

/* Threads that come and go (thread pools, callback runners): far more of them
 * over a session's life than the worker runs at once (1024 lanes). rgpud runs
 * this test with --lane-idle-ms 20, so idle lanes end and their threads' later
 * calls would start new ones. Each thread makes a call that waits. */
static void *short_lived(void *arg)
{
    CUdeviceptr d = (CUdeviceptr)(uintptr_t)arg;
    unsigned v = 0;
    if (cuCtxSetCurrent(primary) != CUDA_SUCCESS) return (void *)1;
    if (cuMemcpyDtoH(&v, d, sizeof v) != CUDA_SUCCESS) return (void *)1;
    return v == 0x2a2a2a2a ? NULL : (void *)1;
}

RG_TEST(many_threads_over_the_session)
{
    CUdeviceptr d;
    CHECK_CU(rt_setup(&primary));
    CHECK_CU(cuMemAlloc(&d, 4));
    CHECK_CU(cuMemsetD8(d, 0x2a, 4));
    int bad = 0;
    for (int i = 0; i < 1100 && !bad; i++) {
        pthread_t t;
        void *r = (void *)1;
        if (pthread_create(&t, NULL, short_lived, (void *)(uintptr_t)d)) RG_FAIL("pthread_create");
        pthread_join(t, &r);
        if (r) bad = i + 1;
        if (i % 100 == 99) usleep(50 * 1000); /* let idle lanes end now and then */
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_CU(cuMemFree(d));
}

RG_TEST_MAIN()
