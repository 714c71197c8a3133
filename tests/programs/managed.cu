// managed.cu — cudaMallocManaged memory used alternately by the host and by
// kernels: the host writes, a kernel updates, the host reads and writes again
// after each synchronisation (device, stream, event; with and without
// prefetching), several rounds; plus a __managed__ variable
// counted by the kernels and reset by the host. Checked against a CPU model.
#include "check.cuh"

#include <vector>

__managed__ int total;

__global__ void square_and_count(long long *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        v[i] = v[i] * v[i];
        atomicAdd(&total, 1);
    }
}

__global__ void mix(long long *v, const int *w, int n, int round)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        v[i] = v[i] % 1000003 + w[i] * round;
        atomicAdd(&total, 1);
    }
}

int main()
{
    const int n = 5000, rounds = 4;
    long long *v;
    int *w;
    CK(cudaMallocManaged(&v, n * sizeof(long long)));
    CK(cudaMallocManaged(&w, n * sizeof(int)));
    std::vector<long long> model(n);
    for (int i = 0; i < n; i++)
        v[i] = model[i] = i - 2500;
    total = 0;
    square_and_count<<<(n + 127) / 128, 128>>>(v, n);
    CK_LAUNCH();
    CK(cudaDeviceSynchronize());
    for (int i = 0; i < n; i++)
        model[i] *= model[i];
    for (int i = 0; i < n; i++)
        EXPECT(v[i] == model[i], "v[%d] %lld want %lld", i, v[i], model[i]);
    EXPECT(total == n, "total %d want %d", total, n);

    // Alternate: the host edits part of v and all of w, a kernel mixes them.
    // Each round waits differently before the host looks: the whole device, a
    // stream, an event; one round prefetches to the device and back first.
    cudaStream_t s;
    cudaEvent_t done;
    CK(cudaStreamCreate(&s));
    CK(cudaEventCreate(&done));
    int dev = 0;
    CK(cudaGetDevice(&dev));
    for (int r = 1; r <= rounds; r++) {
        for (int i = 0; i < n; i++)
            w[i] = (i * 31 + r) % 97;
        for (int i = r; i < n; i += 7)
            v[i] += r, model[i] += r;
        total = 0;
        cudaMemLocation on_dev = {cudaMemLocationTypeDevice, dev},
                        on_host = {cudaMemLocationTypeHost, 0};
        if (r == 4) CK(cudaMemPrefetchAsync(v, n * sizeof(long long), on_dev, 0, s));
        mix<<<(n + 255) / 256, 256, 0, s>>>(v, w, n, r);
        CK_LAUNCH();
        if (r == 4) CK(cudaMemPrefetchAsync(v, n * sizeof(long long), on_host, 0, s));
        if (r == 1 || r == 4) CK(cudaDeviceSynchronize());
        if (r == 2) CK(cudaStreamSynchronize(s));
        if (r == 3) {
            CK(cudaEventRecord(done, s));
            CK(cudaEventSynchronize(done));
        }
        long wrong = 0;
        for (int i = 0; i < n; i++) {
            model[i] = model[i] % 1000003 + (long long)((i * 31 + r) % 97) * r;
            wrong += v[i] != model[i];
        }
        EXPECT(wrong == 0, "round %d: %ld elements differ", r, wrong);
        EXPECT(total == n, "round %d: total %d want %d", r, total, n);
    }
    printf("v[4999] = %lld, total = %d\n", v[n - 1], total);
    CK(cudaEventDestroy(done));
    CK(cudaStreamDestroy(s));
    CK(cudaFree(v));
    CK(cudaFree(w));
    return report("cudaMallocManaged", 0);
}
