/* libcheck.h — shared by the tests/libs programs (real NVIDIA libraries on
 * simgpu): fail loudly naming the call, skip with exit 77 and a reason, and
 * print one line per thing checked. Exit 0 only when every check passed. */
#pragma once
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda.h>

#define LIB_SKIP 77

/* A call that must return `ok`; anything else is a failure of the test. */
#define LIB_CHECK(call, ok)                                                                        \
    do {                                                                                           \
        long long rv_ = (long long)(call);                                                         \
        if (rv_ != (long long)(ok)) {                                                              \
            fprintf(stderr, "%s:%d: %s -> %lld\n", __FILE__, __LINE__, #call, rv_);                \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CU_CHECK(call) LIB_CHECK(call, CUDA_SUCCESS)

/* Skip (exit 77) with a reason when a library call that simgpu cannot serve yet
 * fails; the reason is what docs/libraries.md records. */
#define LIB_SKIP_UNLESS(call, ok, why)                                                             \
    do {                                                                                           \
        long long rv_ = (long long)(call);                                                         \
        if (rv_ != (long long)(ok)) {                                                              \
            printf("SKIP: %s -> %lld: %s\n", #call, rv_, why);                                     \
            exit(LIB_SKIP);                                                                        \
        }                                                                                          \
    } while (0)

/* Largest relative error of got[] against want[] (absolute below |want| < 1). */
static inline double lib_max_err_f(const float *got, const float *want, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        double m = fabs((double)want[i]);
        double e = m > 1 ? d / m : d;
        if (!(e <= worst)) worst = e; /* NaN counts as the worst */
    }
    return worst;
}

static inline double lib_max_err_d(const double *got, const double *want, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]);
        double m = fabs(want[i]);
        double e = m > 1 ? d / m : d;
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

/* Prints "what: ok|FAIL (detail)" and returns 1 on failure, for summing. */
static inline int lib_report(const char *what, int bad, double err)
{
    printf("%-48s %s (max err %.3g)\n", what, bad ? "FAIL" : "ok", err);
    return bad ? 1 : 0;
}
