// Device code for the module tests (built by nvcc at test-build time into
// PTX, PTX-only / SASS-only / mixed fatbins). extern "C" keeps names plain.
#include <cassert>
#include <cstdio>

__device__ int dev_counter = 42;
__device__ int *dev_ptr = &dev_counter; // initialiser with an address: relocated at load
__constant__ float cscale[4] = {1.f, 2.f, 3.f, 4.f};
__managed__ int managed_total;

struct Big {
    double d[6]; // 48 bytes
};

extern "C" __global__ void vadd(const float *a, const float *b, float *c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" __global__ void scale(float *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= cscale[i & 3];
}

extern "C" __global__ void bump(void)
{
    atomicAdd(dev_ptr, 1);
    atomicAdd(&managed_total, 2);
}

extern "C" __global__ void params(float *out, const float *in, int n, double d, Big b, char c)
{
    if (threadIdx.x == 0) out[0] = (float)(in[0] + n + d + b.d[5] + c);
}

extern "C" __global__ void hello(int v)
{
    printf("hello %d from thread %d\n", v, (int)threadIdx.x);
}

extern "C" __global__ void check_nonzero(int v)
{
    assert(v != 0);
}

extern "C" __global__ void poke(int *p, long long off)
{
    p[off] = 1;
}

extern "C" __global__ void __launch_bounds__(128) bounded(int *p)
{
    p[threadIdx.x] = threadIdx.x;
}

extern "C" __global__ void smem_user(int *out)
{
    __shared__ int s[1024];
    extern __shared__ int dyn[];
    s[threadIdx.x] = threadIdx.x;
    dyn[threadIdx.x] = 2 * threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = s[blockDim.x - 1 - threadIdx.x] + dyn[threadIdx.x];
}

extern "C" __global__ void empty(void) {}
