// rdc_lib.cu — the device library half of the rdc program (built with
// -rdc=true): device functions and a __device__ variable that kernels of
// rdc.cu use, and a kernel that calls back into a function defined there.
#include "rdc.cuh"

__device__ int rdc_calls;

__device__ int collatz_steps(long long v)
{
    atomicAdd(&rdc_calls, 1);
    int steps = 0;
    while (v != 1) {
        v = (v & 1) ? 3 * v + 1 : v / 2;
        steps++;
    }
    return steps;
}

__device__ float lerp3(float a, float b, float t)
{
    return a + t * (b - a);
}

__global__ void apply_weight(int *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = weight(x[i], i);
}
