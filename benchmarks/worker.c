/* worker.c — the benchmark worker: runs every registered benchmark against the
 * libcuda.so.1 it was started with and writes one JSON object per line on
 * stdout: {"bench":..,"param":..,"value":..,"unit":..} or {"bench":..,"error":..}. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_report(const char *bench, const char *param, double value, const char *unit)
{
    printf("{\"bench\":\"%s\",\"param\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n", bench, param,
           value, unit);
    fflush(stdout);
}

void bench_fail(const char *bench, const char *what, CUresult r)
{
    const char *name = NULL;
    cuGetErrorName(r, &name);
    printf("{\"bench\":\"%s\",\"error\":\"%s: %s\"}\n", bench, what, name ? name : "unknown error");
    fflush(stdout);
}

static int run_list(const struct bench_def *list, struct bench_env *env, const char *only)
{
    int failures = 0;
    for (const struct bench_def *b = list; b->name; b++) {
        if (only && !strstr(b->name, only)) continue;
        fprintf(stderr, "rgpu-bench: %s ...\n", b->name);
        if (b->fn(env) != 0) failures++;
        CUresult sticky = cuCtxSynchronize();
        if (sticky != CUDA_SUCCESS) { /* a benchmark left the context broken: start over */
            bench_fail(b->name, "context after benchmark", sticky);
            cuCtxDestroy(env->ctx);
            if (cuCtxCreate(&env->ctx, NULL, 0, env->dev) != CUDA_SUCCESS) return failures + 1;
        }
    }
    return failures;
}

int bench_worker_main(bool quick, const char *only)
{
    struct bench_env env = {.quick = quick};
    CUresult r = cuInit(0);
    if (r == CUDA_SUCCESS) r = cuDeviceGet(&env.dev, 0);
    if (r == CUDA_SUCCESS) r = cuCtxCreate(&env.ctx, NULL, 0, env.dev);
    if (r != CUDA_SUCCESS) {
        bench_fail("setup", "cuInit/cuCtxCreate", r);
        return 1;
    }
    int failures = run_list(bench_driver_list, &env, only);
    failures += run_list(bench_interp_list, &env, only);
    cuCtxDestroy(env.ctx);
    return failures ? 1 : 0;
}
