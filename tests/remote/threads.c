/* threads.c — several application threads share one connection: each makes
 * the primary context current and moves its own data; replies reach the right
 * thread, and a thread blocked in a synchronisation does not stall the others. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

RG_TEST_MAIN()
