// check.cuh — shared by the nvcc-built runtime programs: fail loudly on any
// CUDA runtime error, naming the call; exit status 1 means "wrong", never 0.
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

static inline int report(const char *what, long bad)
{
    printf("%s: %s (%ld mismatches)\n", what, bad ? "FAIL" : "ok", bad);
    return bad ? 1 : 0;
}
