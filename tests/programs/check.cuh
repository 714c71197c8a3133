// check.cuh — shared by the ordinary CUDA programs of tests/programs: fail
// loudly on any CUDA runtime error, naming the call (exit 1, never 0), count
// mismatches against a CPU reference, print one "what: ok|FAIL" summary line.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "%s:%d: %s -> %s (%d)\n", __FILE__, __LINE__, #call,                   \
                    cudaGetErrorString(e_), (int)e_);                                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

// A launch: the configuration error comes from cudaGetLastError, an execution
// error from the synchronisation that follows later in the program.
#define CK_LAUNCH() CK(cudaGetLastError())

// Counts one mismatch, printing the first few so a failure says where.
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (check_failures_++ < 10) {                                                          \
                fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);           \
                fprintf(stderr, __VA_ARGS__);                                                      \
                fputc('\n', stderr);                                                               \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static long check_failures_;

// Prints the program's one summary line; the exit status to return from main.
static inline int report(const char *what, long bad)
{
    bad += check_failures_;
    printf("%s: %s (%ld mismatches)\n", what, bad ? "FAIL" : "ok", bad);
    return bad ? 1 : 0;
}
