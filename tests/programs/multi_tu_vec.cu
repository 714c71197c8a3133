// multi_tu_vec.cu — element-wise kernels of the multi_tu program.
#include "multi_tu.h"
#include "multi_tu_common.cuh"

static inline int blocks(int n)
{
    return (n + 127) / 128;
}

__global__ void iota(int *x, int n, int start)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = start + i;
}

__global__ void saxpy(float a, const float *x, float *y, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        y[i] = a * x[i] + y[i];
}

// Same name as a kernel of multi_tu_mat.cu: internal linkage keeps them apart.
static __global__ void scale(int *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= 2;
}

void vec_iota(int *x, int n, int start, cudaStream_t s)
{
    iota<<<blocks(n), 128, 0, s>>>(x, n, start);
}
void vec_saxpy(float a, const float *x, float *y, int n, cudaStream_t s)
{
    saxpy<<<8, 64, 0, s>>>(a, x, y, n);
}
void vec_scale_a(int *x, int n, cudaStream_t s)
{
    scale<<<blocks(n), 128, 0, s>>>(x, n);
}
void vec_add_const(int *x, int n, int c, cudaStream_t s)
{
    add_const<int><<<blocks(n), 128, 0, s>>>(x, n, c);
}
