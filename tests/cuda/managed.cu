// managed.cu — cudaMallocManaged memory written on the host, updated by a
// kernel, read back on the host after synchronisation; plus a __managed__ variable.
#include "check.cuh"

__managed__ int total;

__global__ void square_and_count(long long *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        v[i] = v[i] * v[i];
        atomicAdd(&total, 1);
    }
}

int main()
{
    const int n = 5000;
    long long *v;
    CK(cudaMallocManaged(&v, n * sizeof(long long)));
    for (int i = 0; i < n; i++) v[i] = i - 2500;
    total = 0;
    square_and_count<<<(n + 127) / 128, 128>>>(v, n);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    long bad = 0;
    for (int i = 0; i < n; i++) bad += v[i] != (long long)(i - 2500) * (i - 2500);
    bad += total != n;
    printf("total = %d\n", total);
    CK(cudaFree(v));
    return report("cudaMallocManaged", bad);
}
