// threads.cu — several host threads share the device, as worker-pool programs
// do: each thread has its own stream and buffers, copies in, runs a chain of
// kernels, copies out and synchronises its stream, many times; one more thread
// uses the legacy default stream meanwhile. Each result checked on the CPU.
#include "check.cuh"

#include <thread>
#include <vector>

__global__ void step(int *x, int n, int k)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i] * 3 % 10007 + k;
}

static long work(int id, bool legacy)
{
    const int n = 4096 + id * 100, rounds = 12;
    long wrong = 0;
    cudaStream_t s = 0;
    if (!legacy) CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    int *d, *h;
    CK(cudaMalloc(&d, n * sizeof(int)));
    CK(cudaMallocHost(&h, n * sizeof(int)));
    std::vector<int> model(n);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++)
            h[i] = model[i] = (i * (id + 1) + r) % 1000;
        CK(cudaMemcpyAsync(d, h, n * sizeof(int), cudaMemcpyHostToDevice, s));
        for (int k = 0; k < 3; k++) {
            step<<<(n + 127) / 128, 128, 0, s>>>(d, n, id * 10 + k);
            CK_LAUNCH();
            for (int i = 0; i < n; i++)
                model[i] = model[i] * 3 % 10007 + id * 10 + k;
        }
        CK(cudaMemcpyAsync(h, d, n * sizeof(int), cudaMemcpyDeviceToHost, s));
        CK(cudaStreamSynchronize(s));
        for (int i = 0; i < n; i++)
            wrong += h[i] != model[i];
    }
    CK(cudaFree(d));
    CK(cudaFreeHost(h));
    if (!legacy) CK(cudaStreamDestroy(s));
    return wrong;
}

int main()
{
    const int nthreads = 4;
    CK(cudaFree(0)); // the primary context, before the threads start
    std::vector<long> wrong(nthreads + 1, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t <= nthreads; t++)
        pool.emplace_back([t, &wrong] { wrong[t] = work(t, t == nthreads); });
    for (std::thread &th : pool)
        th.join();
    CK(cudaDeviceSynchronize());
    for (int t = 0; t <= nthreads; t++)
        EXPECT(wrong[t] == 0, "thread %d%s: %ld values differ", t,
               t == nthreads ? " (legacy stream)" : "", wrong[t]);
    printf("%d threads with their own streams and one on the legacy stream, 12 rounds each\n",
           nthreads);
    return report("host threads sharing the device", 0);
}
