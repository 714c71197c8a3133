/* bench.h — rgpu-bench's benchmark registry. Each benchmark runs inside a worker
 * process whose libcuda.so.1 is the backend under test and reports result lines;
 * the parent collects them into a table, a JSON file and plots. */
#ifndef RG_BENCH_H
#define RG_BENCH_H

#include <cuda.h>
#include <stdbool.h>
#include <stddef.h>

struct bench_env {
    bool quick;      /* smaller sizes and counts (for smoke runs) */
    CUcontext ctx;
    CUdevice dev;
};

/* Report one figure. `param` names the point of a series (e.g. "4096" bytes), or "". */
void bench_report(const char *bench, const char *param, double value, const char *unit);
/* Report a failure of a benchmark (printed in the table instead of a figure). */
void bench_fail(const char *bench, const char *what, CUresult r);

double bench_now(void); /* seconds, monotonic */

typedef int (*bench_fn)(struct bench_env *env);

struct bench_def {
    const char *name;
    const char *what;
    bench_fn fn;
};

/* All driver-API benchmarks, NULL-terminated (driver_bench.c, interp_bench.c). */
extern const struct bench_def bench_driver_list[];
extern const struct bench_def bench_interp_list[];

#define BENCH_CK(name, call)                                                                       \
    do {                                                                                           \
        CUresult bench_r_ = (call);                                                                \
        if (bench_r_ != CUDA_SUCCESS) {                                                            \
            bench_fail(name, #call, bench_r_);                                                     \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#endif
