/* ptsz.c — the per-thread default stream entry points (cuLaunchKernel_ptsz &
 * co., what --default-stream per-thread programs call), and launches of one
 * CUkernel from several threads at once (one instance per context). */
#define CUDA_API_PER_THREAD_DEFAULT_STREAM 1
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modtest.h"

RG_TEST(per_thread_stream_launches)
{
    CUmodule m;
    CUfunction f;
    CUdeviceptr d;
    uint32_t h[64] = {0}, n = 64;
    MT_CTX();
    CHECK_CU(cuModuleLoadData(&m, mt_ptx_basic));
    CHECK_CU(cuModuleGetFunction(&f, m, "add_k"));
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuMemcpyHtoD(d, h, sizeof h));
    void *args[] = {&d, &n};
    CHECK_CU(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, NULL, args, NULL));
    CUlaunchConfig cfg = {1, 1, 1, 64, 1, 1, 0, NULL, NULL, 0};
    CHECK_CU(cuLaunchKernelEx(&cfg, f, args, NULL));
    CHECK_CU(cuLaunchCooperativeKernel(f, 1, 1, 1, 64, 1, 1, 0, CU_STREAM_PER_THREAD, args));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_CU(cuMemcpyDtoH(h, d, sizeof h));
    CHECK_EQ_INT(h[0], 15);
    CHECK_EQ_INT(h[63], 15);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuModuleUnload(m));
}

struct worker {
    CUcontext ctx;
    CUkernel k;
    CUdeviceptr d;
    CUresult r;
};

static void *launcher(void *arg)
{
    struct worker *w = arg;
    uint32_t n = 32;
    void *args[] = {&w->d, &n};
    w->r = cuCtxSetCurrent(w->ctx);
    for (int i = 0; i < 50 && w->r == CUDA_SUCCESS; i++)
        w->r = cuLaunchKernel((CUfunction)w->k, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL);
    if (w->r == CUDA_SUCCESS) w->r = cuStreamSynchronize(NULL);
    return NULL;
}

RG_TEST(kernel_from_many_threads)
{
    enum { T = 4 };
    CUlibrary lib;
    struct worker w[T];
    pthread_t th[T];
    uint32_t h[32];
    MT_CTX();
    CHECK_CU(cuLibraryLoadData(&lib, mt_ptx_basic, NULL, NULL, 0, NULL, NULL, 0));
    for (int i = 0; i < T; i++) {
        memset(&w[i], 0, sizeof w[i]);
        CHECK_CU(cuCtxGetCurrent(&w[i].ctx));
        CHECK_CU(cuLibraryGetKernel(&w[i].k, lib, "add_k"));
        CHECK_CU(cuMemAlloc(&w[i].d, sizeof h));
        CHECK_CU(cuMemsetD32(w[i].d, 0, 32));
    }
    /* The memsets went to this thread's per-thread stream, which the others'
     * streams do not wait for: finish them before the kernels start. */
    CHECK_CU(cuStreamSynchronize(NULL));
    for (int i = 0; i < T; i++)
        pthread_create(&th[i], NULL, launcher, &w[i]);
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < T; i++) {
        CHECK_CU(w[i].r);
        CHECK_CU(cuMemcpyDtoH(h, w[i].d, sizeof h));
        CHECK_EQ_INT(h[31], 250);
        cuMemFree(w[i].d);
    }
    CUmodule m1, m2;
    CHECK_CU(cuLibraryGetModule(&m1, lib));
    CHECK_CU(cuLibraryGetModule(&m2, lib));
    CHECK(m1 == m2);
    CHECK_CU(cuLibraryUnload(lib));
}

RG_TEST_MAIN()
