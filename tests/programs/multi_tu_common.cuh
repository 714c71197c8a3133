// multi_tu_common.cuh — a kernel template instantiated, identically, in two of
// the multi_tu translation units: each unit registers its own copy.
#pragma once

template <typename T> __global__ void add_const(T *x, int n, T c)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += c;
}
