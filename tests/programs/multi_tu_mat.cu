// multi_tu_mat.cu — a tiled transpose and more element-wise kernels of the
// multi_tu program.
#include "multi_tu.h"
#include "multi_tu_common.cuh"

enum { TILE = 16 };

__global__ void transpose(const float *in, float *out, int rows, int cols)
{
    __shared__ float tile[TILE][TILE + 1];
    int c = blockIdx.x * TILE + threadIdx.x, r = blockIdx.y * TILE + threadIdx.y;
    if (r < rows && c < cols) tile[threadIdx.y][threadIdx.x] = in[r * cols + c];
    __syncthreads();
    int oc = blockIdx.y * TILE + threadIdx.x, orow = blockIdx.x * TILE + threadIdx.y;
    if (orow < cols && oc < rows) out[orow * rows + oc] = tile[threadIdx.x][threadIdx.y];
}

static __global__ void scale(int *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= 3;
}

void mat_transpose(const float *in, float *out, int rows, int cols, cudaStream_t s)
{
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose<<<grid, dim3(TILE, TILE), 0, s>>>(in, out, rows, cols);
}
void mat_scale_b(int *x, int n, cudaStream_t s)
{
    scale<<<(n + 63) / 64, 64, 0, s>>>(x, n);
}
void mat_add_const(int *x, int n, int c, cudaStream_t s)
{
    add_const<int><<<(n + 63) / 64, 64, 0, s>>>(x, n, c);
}
