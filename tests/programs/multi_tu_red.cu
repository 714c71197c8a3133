// multi_tu_red.cu — reductions of the multi_tu program: block sums in shared
// memory and a histogram with shared and global atomics.
#include "multi_tu.h"

__global__ void block_sums(const int *x, long long *sums, int n)
{
    __shared__ long long part[256];
    long long v = 0;
    int per = (n + gridDim.x - 1) / gridDim.x, lo = blockIdx.x * per, hi = min(n, lo + per);
    for (int i = lo + threadIdx.x; i < hi; i += blockDim.x)
        v += x[i];
    part[threadIdx.x] = v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) sums[blockIdx.x] = part[0];
}

__global__ void histogram(const int *x, unsigned *bins, int n, int nbins)
{
    extern __shared__ unsigned local[];
    for (int b = threadIdx.x; b < nbins; b += blockDim.x)
        local[b] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        atomicAdd(&local[((x[i] % nbins) + nbins) % nbins], 1u);
    __syncthreads();
    for (int b = threadIdx.x; b < nbins; b += blockDim.x)
        atomicAdd(&bins[b], local[b]);
}

void red_block_sums(const int *x, long long *sums, int n, int blocks, cudaStream_t s)
{
    block_sums<<<blocks, 256, 0, s>>>(x, sums, n);
}
void red_histogram(const int *x, unsigned *bins, int n, int nbins, cudaStream_t s)
{
    histogram<<<7, 96, nbins * sizeof(unsigned), s>>>(x, bins, n, nbins);
}
