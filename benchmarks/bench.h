/* bench.h — rgpu-bench's benchmark registry. Each benchmark runs inside a worker
 * process whose libcuda.so.1 is the backend under test and reports result lines;
 * the parent collects them into a table, a JSON file and plots. */
#ifndef RG_BENCH_H
#define RG_BENCH_H

#include <cuda.h>
#include <stdbool.h>
#include <stddef.h>

struct bench_env {
    bool quick; /* smaller sizes and counts (for smoke runs) */
    CUcontext ctx;
    CUdevice dev;
};

/* Latencies are the best of this many rounds (raw and rgpu alike). */
#define BENCH_ROUNDS 5
/* Bandwidths are the best of this many rounds of bench_copy_reps copies (raw:
 * this many with the receiver spinning and as many sleeping): one round at
 * 16 MiB and up is a few milliseconds, and on a shared 2-core machine any
 * one of them can lose half its speed to a neighbour. */
#define BENCH_COPY_ROUNDS 3

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

/* ---- the harness process (main.c, rgpud.c, raw_transport.c) ---- */

/* A figure measured in the harness process itself (raw transports). */
void bench_add_row(const char *backend, const char *bench, const char *param, double value,
                   const char *unit, const char *error);
/* Repetitions of one size in a copy series (the same for rgpu and raw). */
int bench_copy_reps(size_t size);
/* Raw limits of a transport between two processes: rows raw_pingpong, raw_push,
 * raw_pull of backend `name`. 0, or -1 with why set. */
int bench_raw_transport(const char *name, const char *url, bool quick, char *why, size_t len);

struct bench_rgpud {
    int pid;
    char url[160]; /* what RGPU_SERVER gets */
};
/* Starts bindir/rgpud on listen_url (port 0: a free one) with `backend`
 * (rgpud --backend), its log in outdir/rgpud.log. 0, or -1 with why set. */
int bench_rgpud_start(struct bench_rgpud *d, const char *bindir, const char *listen_url,
                      const char *backend, const char *outdir, char *why, size_t len);
/* Stops it and its session workers (SIGTERM, then SIGKILL). */
void bench_rgpud_stop(struct bench_rgpud *d);

#define BENCH_CK(name, call)                                                                       \
    do {                                                                                           \
        CUresult bench_r_ = (call);                                                                \
        if (bench_r_ != CUDA_SUCCESS) {                                                            \
            bench_fail(name, #call, bench_r_);                                                     \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#endif
