// streams_events.cu — pinned host buffers, async copies and kernels on several
// streams, events for ordering (cross-stream wait) and timing; checked on the CPU.
#include "check.cuh"

__global__ void affine(float *x, int n, float a, float b)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = a * x[i] + b;
}

int main()
{
    const int nstreams = 3, n = 1 << 12;
    cudaStream_t s[nstreams];
    cudaEvent_t done[nstreams], start, stop;
    float *host, *dev;
    CK(cudaMallocHost(&host, nstreams * n * sizeof(float)));
    CK(cudaMalloc(&dev, nstreams * n * sizeof(float)));
    for (int i = 0; i < nstreams * n; i++)
        host[i] = (float)(i % 1000);
    CK(cudaEventCreate(&start));
    CK(cudaEventCreate(&stop));
    CK(cudaEventRecord(start, 0));
    for (int k = 0; k < nstreams; k++) {
        CK(cudaStreamCreateWithFlags(&s[k], cudaStreamNonBlocking));
        CK(cudaEventCreateWithFlags(&done[k], cudaEventDisableTiming));
        float *d = dev + k * n, *h = host + k * n;
        CK(cudaMemcpyAsync(d, h, n * sizeof(float), cudaMemcpyHostToDevice, s[k]));
        affine<<<(n + 255) / 256, 256, 0, s[k]>>>(d, n, 2.0f, (float)k);
        CK(cudaGetLastError());
        CK(cudaEventRecord(done[k], s[k]));
    }
    // stream 0 applies a second step to stream 1's slice after stream 1 is done
    CK(cudaStreamWaitEvent(s[0], done[1], 0));
    affine<<<(n + 255) / 256, 256, 0, s[0]>>>(dev + n, n, 1.0f, 100.0f);
    CK(cudaGetLastError());
    for (int k = 0; k < nstreams; k++)
        CK(cudaMemcpyAsync(host + k * n, dev + k * n, n * sizeof(float), cudaMemcpyDeviceToHost,
                           s[k == 1 ? 0 : k]));
    CK(cudaEventRecord(stop, 0));
    CK(cudaDeviceSynchronize());
    CK(cudaEventSynchronize(stop));
    float ms = -1;
    CK(cudaEventElapsedTime(&ms, start, stop));
    CK(cudaEventQuery(done[2]));
    long bad = 0;
    for (int k = 0; k < nstreams; k++)
        for (int i = 0; i < n; i++) {
            float want = 2.0f * (float)((k * n + i) % 1000) + (float)k + (k == 1 ? 100.0f : 0.0f);
            bad += host[k * n + i] != want;
        }
    printf("elapsed %.3f ms\n", ms);
    bad += !(ms >= 0.0f);
    for (int k = 0; k < nstreams; k++) {
        CK(cudaStreamDestroy(s[k]));
        CK(cudaEventDestroy(done[k]));
    }
    CK(cudaFreeHost(host));
    CK(cudaFree(dev));
    return report("streams+events+pinned async copies", bad);
}
