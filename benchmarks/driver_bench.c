/* driver_bench.c — driver-API microbenchmarks and a training-step-shaped
 * workload. Each measures a loop and reports a rate; no assertion on speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "kernels.h"

static int sync_roundtrip(struct bench_env *env)
{
    const char *name = "sync_roundtrip";
    int n = env->quick ? 2000 : 20000;
    BENCH_CK(name, cuCtxSynchronize());
    double best = -1;
    for (int round = 0; round < BENCH_ROUNDS; round++) { /* the quietest round, as raw_pingpong */
        double t0 = bench_now();
        for (int i = 0; i < n / BENCH_ROUNDS; i++)
            BENCH_CK(name, cuCtxSynchronize());
        double us = (bench_now() - t0) / (n / BENCH_ROUNDS) * 1e6;
        if (best < 0 || us < best) best = us;
    }
    bench_report(name, "", best, "us/call");
    return 0;
}

/* n launches of a one-thread kernel, then a synchronise: the rate end to end
 * (every kernel ran) as `name`, and how fast the application's loop returned
 * as `issue_name`. With v, the kernel's one parameter changes at every launch. */
static int launch_loop(struct bench_env *env, const char *name, const char *issue_name,
                       const char *ptx, const char *kernel, unsigned *v)
{
    CUmodule mod;
    CUfunction fn;
    BENCH_CK(name, cuModuleLoadData(&mod, ptx));
    BENCH_CK(name, cuModuleGetFunction(&fn, mod, kernel));
    void *args[] = {v}, **kp = v ? args : NULL;
    int n = env->quick ? 20000 : 200000;
    BENCH_CK(name, cuLaunchKernel(fn, 1, 1, 1, 1, 1, 1, 0, NULL, kp, NULL));
    BENCH_CK(name, cuCtxSynchronize());
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        if (v) *v = (unsigned)i;
        BENCH_CK(name, cuLaunchKernel(fn, 1, 1, 1, 1, 1, 1, 0, NULL, kp, NULL));
    }
    double issued = bench_now();
    BENCH_CK(name, cuCtxSynchronize());
    bench_report(name, "", n / (bench_now() - t0), "launches/s");
    bench_report(issue_name, "", n / (issued - t0), "launches/s");
    cuModuleUnload(mod);
    return 0;
}

static int launch_rate(struct bench_env *env)
{
    return launch_loop(env, "launch_rate", "launch_issue", BENCH_PTX_HEADER BENCH_PTX_EMPTY,
                       "empty", NULL);
}

/* No two launches in a row alike: each goes as a call of its own, or, since
 * f95cd13, as a further run with its own parameter bytes (docs/performance.md,
 * "The same launch again"). */
static int launch_varied(struct bench_env *env)
{
    unsigned v = 0;
    return launch_loop(env, "launch_varied", "launch_varied_issue",
                       BENCH_PTX_HEADER BENCH_PTX_EMPTY_ARG, "empty_arg", &v);
}

static int alloc_free(struct bench_env *env)
{
    const char *name = "alloc_free";
    int n = env->quick ? 2000 : 20000;
    CUdeviceptr p;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        BENCH_CK(name, cuMemAlloc(&p, 1 << 20));
        BENCH_CK(name, cuMemFree(p));
    }
    bench_report(name, "1MiB", n / (bench_now() - t0), "pairs/s");
    return 0;
}

/* H2D/D2H bandwidth over a range of sizes, from pageable or pinned host memory. */
static int bandwidth(struct bench_env *env, const char *name, int to_device, int pinned)
{
    size_t max = env->quick ? (16u << 20) : (256u << 20);
    void *host = NULL;
    CUdeviceptr dev;
    if (pinned)
        BENCH_CK(name, cuMemAllocHost(&host, max));
    else if (!(host = malloc(max)))
        return 1;
    memset(host, 1, max);
    BENCH_CK(name, cuMemAlloc(&dev, max));
    /* simgpu's device memory is host memory the kernel maps in at first touch,
     * where a GPU's is there from cuMemAlloc: touched once before timing, so
     * that each column measures copies, not page faults of the allocation (the
     * raw transport's receiver, too, walks a warm buffer of the copy's size). */
    BENCH_CK(name, cuMemsetD8(dev, 0, max));
    BENCH_CK(name, cuCtxSynchronize());
    for (size_t sz = 4096; sz <= max; sz *= 4) {
        int reps = bench_copy_reps(sz);
        double best = -1;
        for (int round = 0; round < BENCH_COPY_ROUNDS; round++) {
            double t0 = bench_now();
            for (int i = 0; i < reps; i++) {
                if (to_device)
                    BENCH_CK(name, cuMemcpyHtoD(dev, host, sz));
                else
                    BENCH_CK(name, cuMemcpyDtoH(host, dev, sz));
            }
            BENCH_CK(name, cuCtxSynchronize()); /* pipelined copies have landed */
            double gb = (double)sz * reps / (bench_now() - t0) / 1e9;
            if (gb > best) best = gb;
        }
        char param[32];
        snprintf(param, sizeof param, "%zu", sz);
        bench_report(name, param, best, "GB/s");
    }
    cuMemFree(dev);
    if (pinned)
        cuMemFreeHost(host);
    else
        free(host);
    return 0;
}

static int h2d_pageable(struct bench_env *e)
{
    return bandwidth(e, "h2d_pageable", 1, 0);
}
static int h2d_pinned(struct bench_env *e)
{
    return bandwidth(e, "h2d_pinned", 1, 1);
}
static int d2h_pageable(struct bench_env *e)
{
    return bandwidth(e, "d2h_pageable", 0, 0);
}
static int d2h_pinned(struct bench_env *e)
{
    return bandwidth(e, "d2h_pinned", 0, 1);
}

static int module_load(struct bench_env *env)
{
    const char *name = "module_load";
    static const char ptx[] = BENCH_PTX_HEADER BENCH_PTX_ARITH BENCH_PTX_COPY BENCH_PTX_SMEM;
    int n = env->quick ? 50 : 500;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        CUmodule mod;
        BENCH_CK(name, cuModuleLoadData(&mod, ptx));
        BENCH_CK(name, cuModuleUnload(mod));
    }
    bench_report(name, "3 kernels", (bench_now() - t0) / n * 1e3, "ms");
    return 0;
}

/* A training step in miniature: upload a small batch, run many small kernels,
 * read back a scalar, synchronise. */
static int train_step(struct bench_env *env)
{
    const char *name = "train_step";
    CUmodule mod;
    CUfunction copy, arith;
    BENCH_CK(name, cuModuleLoadData(&mod, BENCH_PTX_HEADER BENCH_PTX_COPY BENCH_PTX_ARITH));
    BENCH_CK(name, cuModuleGetFunction(&copy, mod, "copy"));
    BENCH_CK(name, cuModuleGetFunction(&arith, mod, "arith"));
    unsigned n = 4096, iters = 4;
    CUdeviceptr a, b;
    float batch[4096];
    for (unsigned i = 0; i < n; i++)
        batch[i] = (float)i;
    BENCH_CK(name, cuMemAlloc(&a, n * 4));
    BENCH_CK(name, cuMemAlloc(&b, n * 4));
    void *cargs[] = {&b, &a, &n};
    void *aargs[] = {&b, &iters};
    int steps = env->quick ? 20 : 200;
    double t0 = bench_now();
    for (int s = 0; s < steps; s++) {
        BENCH_CK(name, cuMemcpyHtoDAsync(a, batch, sizeof batch, NULL));
        for (int k = 0; k < 25; k++) {
            BENCH_CK(name, cuLaunchKernel(copy, 16, 1, 1, 256, 1, 1, 0, NULL, cargs, NULL));
            BENCH_CK(name, cuLaunchKernel(arith, 1, 1, 1, 128, 1, 1, 0, NULL, aargs, NULL));
        }
        float loss;
        BENCH_CK(name, cuMemcpyDtoH(&loss, b, sizeof loss));
        BENCH_CK(name, cuCtxSynchronize());
    }
    bench_report(name, "50 kernels", steps / (bench_now() - t0), "steps/s");
    cuMemFree(a);
    cuMemFree(b);
    cuModuleUnload(mod);
    return 0;
}

const struct bench_def bench_driver_list[] = {
    {"sync_roundtrip", "cuCtxSynchronize on an idle context", sync_roundtrip},
    {"launch_rate", "empty-kernel launches/s incl. final synchronise", launch_rate},
    {"launch_varied", "launches whose parameter changes every time, incl. final synchronise",
     launch_varied},
    {"alloc_free", "cuMemAlloc+cuMemFree of 1 MiB", alloc_free},
    {"h2d_pageable", "cuMemcpyHtoD bandwidth from malloc'd memory", h2d_pageable},
    {"h2d_pinned", "cuMemcpyHtoD bandwidth from cuMemAllocHost memory", h2d_pinned},
    {"d2h_pageable", "cuMemcpyDtoH bandwidth to malloc'd memory", d2h_pageable},
    {"d2h_pinned", "cuMemcpyDtoH bandwidth to cuMemAllocHost memory", d2h_pinned},
    {"module_load", "cuModuleLoadData + cuModuleUnload of a 3-kernel PTX module", module_load},
    {"train_step", "H2D batch, 50 small kernels, D2H scalar, sync", train_step},
    {NULL, NULL, NULL},
};
