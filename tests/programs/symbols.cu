// symbols.cu — __device__ and __constant__ variables through
// cudaMemcpyToSymbol / cudaMemcpyFromSymbol (and their Async forms) /
// cudaGetSymbolAddress (the address used as a device pointer), used by a kernel.
#include "check.cuh"

__constant__ float coeff[4];
__device__ int counter;
__device__ double table[256];

__global__ void poly(const float *x, float *y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = x[i];
        y[i] = coeff[0] + v * (coeff[1] + v * (coeff[2] + v * coeff[3]));
        atomicAdd(&counter, 1);
        table[i % 256] = 2.0 * i;
    }
}

int main()
{
    const int n = 256;
    float hx[n], hy[n], c[4] = {1.0f, -2.0f, 0.5f, 0.25f};
    for (int i = 0; i < n; i++)
        hx[i] = (float)(i % 17) * 0.125f;
    float *x, *y;
    CK(cudaMalloc(&x, sizeof hx));
    CK(cudaMalloc(&y, sizeof hy));
    CK(cudaMemcpy(x, hx, sizeof hx, cudaMemcpyHostToDevice));
    CK(cudaMemcpyToSymbol(coeff, c, sizeof c));
    int start = 40;
    CK(cudaMemcpyToSymbol(counter, &start, sizeof start));
    poly<<<2, 128>>>(x, y, n);
    CK(cudaGetLastError());
    CK(cudaMemcpy(hy, y, sizeof hy, cudaMemcpyDeviceToHost));
    int count = 0;
    CK(cudaMemcpyFromSymbol(&count, counter, sizeof count));
    double t[8];
    CK(cudaMemcpyFromSymbol(t, table, sizeof t, 8 * sizeof(double)));
    float back[4];
    CK(cudaMemcpyFromSymbol(back, coeff, sizeof back));
    void *addr = NULL;
    size_t size = 0;
    CK(cudaGetSymbolAddress(&addr, table));
    CK(cudaGetSymbolSize(&size, table));
    // The symbol's address used like any device pointer, and an async copy to a
    // symbol on a stream, read back through the symbol.
    CK(cudaMemset((char *)addr + 16 * sizeof(double), 0, 4 * sizeof(double)));
    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    double four[4] = {1.5, -2.5, 3.5, -4.5}, tail[6];
    CK(cudaMemcpyToSymbolAsync(table, four, sizeof four, 18 * sizeof(double),
                               cudaMemcpyHostToDevice, s));
    CK(cudaMemcpyFromSymbolAsync(tail, table, sizeof tail, 16 * sizeof(double),
                                 cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));
    CK(cudaStreamDestroy(s));
    long bad = 0;
    double want_tail[6] = {0, 0, 1.5, -2.5, 3.5, -4.5};
    for (int i = 0; i < 6; i++)
        bad += tail[i] != want_tail[i];
    for (int i = 0; i < n; i++) {
        float v = hx[i], want = c[0] + v * (c[1] + v * (c[2] + v * c[3]));
        bad += hy[i] != want;
    }
    for (int i = 0; i < 8; i++)
        bad += t[i] != 2.0 * (i + 8);
    for (int i = 0; i < 4; i++)
        bad += back[i] != c[i];
    bad += count != start + n;
    bad += addr == NULL || size != sizeof(double) * 256;
    printf("counter %d, table[8] %.1f, symbol size %zu\n", count, t[0], size);
    CK(cudaFree(x));
    CK(cudaFree(y));
    return report("__device__/__constant__ symbols", bad);
}
