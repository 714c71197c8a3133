// host_func.cu — cudaLaunchHostFunc runs host callbacks in stream order,
// between kernels: each callback sees the results of the kernel before it.
#include "check.cuh"

struct step {
    int *host_copy;
    const int *pinned;
    int n;
    int order;
    long sum;
};
static int calls;

static void CUDART_CB on_host(void *arg)
{
    step *s = (step *)arg;
    s->order = ++calls;
    s->sum = 0;
    for (int i = 0; i < s->n; i++)
        s->sum += s->pinned[i];
}

__global__ void add(int *x, int n, int v)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += v;
}

int main()
{
    const int n = 1000;
    int *d, *pinned;
    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    CK(cudaMalloc(&d, n * sizeof(int)));
    CK(cudaMallocHost(&pinned, n * sizeof(int)));
    CK(cudaMemsetAsync(d, 0, n * sizeof(int), s));
    step steps[3] = {{0, pinned, n, 0, 0}, {0, pinned, n, 0, 0}, {0, pinned, n, 0, 0}};
    for (int k = 0; k < 3; k++) {
        add<<<(n + 255) / 256, 256, 0, s>>>(d, n, k + 1);
        CK(cudaMemcpyAsync(pinned, d, n * sizeof(int), cudaMemcpyDeviceToHost, s));
        CK(cudaLaunchHostFunc(s, on_host, &steps[k]));
    }
    CK(cudaStreamSynchronize(s));
    long bad = 0, want = 0;
    for (int k = 0; k < 3; k++) {
        want += (long)(k + 1) * n;
        printf("callback %d: order %d sum %ld (want %ld)\n", k, steps[k].order, steps[k].sum, want);
        bad += steps[k].order != k + 1 || steps[k].sum != want;
    }
    CK(cudaFree(d));
    CK(cudaFreeHost(pinned));
    CK(cudaStreamDestroy(s));
    return report("cudaLaunchHostFunc", bad);
}
