// graph_capture.cu — stream capture into a CUDA graph and graph replay:
// (1) kernels, a memset and a device copy captured across two streams
// (fork/join with events), instantiated once and launched five times, the
// state carried from one replay to the next; (2) a graph that copies pinned
// host memory in and out around a kernel and sums the output in a captured
// host function, replayed with new host input each time. Every replay checked
// against a CPU model.
#include "check.cuh"

#include <vector>

__global__ void inc(int *a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] += 1;
}

__global__ void twice(const int *a, int *b, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) b[i] = 2 * a[i];
}

__global__ void add_to(int *c, const int *a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] += a[i];
}

__global__ void sum2(const int *b, const int *c, int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] += b[i] + c[i]; // out is zeroed by a captured memset first
}

static const int n = 3000, grid = (n + 127) / 128;

static long device_graph(cudaStream_t s1, cudaStream_t s2)
{
    int *a, *b, *c, *out, *copy;
    for (int **p : {&a, &b, &c, &out, &copy})
        CK(cudaMalloc(p, n * sizeof(int)));
    std::vector<int> ha(n), hc(n, 0), hb(n), hout(n), got(n);
    for (int i = 0; i < n; i++)
        ha[i] = i - 1000;
    CK(cudaMemcpy(a, ha.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    CK(cudaMemset(c, 0, n * sizeof(int)));
    CK(cudaDeviceSynchronize());

    cudaEvent_t fork, join;
    CK(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming));
    CK(cudaEventCreateWithFlags(&join, cudaEventDisableTiming));
    cudaGraph_t graph;
    CK(cudaStreamBeginCapture(s1, cudaStreamCaptureModeGlobal));
    inc<<<grid, 128, 0, s1>>>(a, n);
    CK(cudaEventRecord(fork, s1));
    CK(cudaStreamWaitEvent(s2, fork, 0));
    twice<<<grid, 128, 0, s2>>>(a, b, n);
    add_to<<<grid, 128, 0, s1>>>(c, a, n);
    CK(cudaEventRecord(join, s2));
    CK(cudaStreamWaitEvent(s1, join, 0));
    CK(cudaMemsetAsync(out, 0, n * sizeof(int), s1));
    sum2<<<grid, 128, 0, s1>>>(b, c, out, n);
    CK(cudaMemcpyAsync(copy, out, n * sizeof(int), cudaMemcpyDeviceToDevice, s1));
    CK_LAUNCH();
    cudaStreamCaptureStatus st;
    CK(cudaStreamIsCapturing(s1, &st));
    EXPECT(st == cudaStreamCaptureStatusActive, "capture status %d", (int)st);
    CK(cudaStreamEndCapture(s1, &graph));

    // Nothing ran during capture: a still holds its initial values.
    CK(cudaMemcpy(got.data(), a, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++)
        EXPECT(got[i] == ha[i], "a[%d] changed during capture", i);
    size_t nodes = 0;
    CK(cudaGraphGetNodes(graph, NULL, &nodes));
    EXPECT(nodes == 6, "%zu nodes, want 6 (4 kernels, a memset, a copy)", nodes);

    cudaGraphExec_t exec;
    CK(cudaGraphInstantiate(&exec, graph, 0));
    for (int r = 0; r < 5; r++) {
        CK(cudaGraphLaunch(exec, s1));
        CK(cudaStreamSynchronize(s1));
        for (int i = 0; i < n; i++) {
            ha[i] += 1;
            hb[i] = 2 * ha[i];
            hc[i] += ha[i];
            hout[i] = hb[i] + hc[i];
        }
        CK(cudaMemcpy(got.data(), copy, n * sizeof(int), cudaMemcpyDeviceToHost));
        long wrong = 0;
        for (int i = 0; i < n; i++)
            wrong += got[i] != hout[i];
        EXPECT(wrong == 0, "replay %d: %ld values differ (copy[7] %d want %d)", r, wrong, got[7],
               hout[7]);
    }
    printf("device graph: %zu nodes, 5 replays, copy[0] = %d\n", nodes, hout[0]);
    CK(cudaGraphExecDestroy(exec));
    CK(cudaGraphDestroy(graph));
    CK(cudaEventDestroy(fork));
    CK(cudaEventDestroy(join));
    for (int *p : {a, b, c, out, copy})
        CK(cudaFree(p));
    return 0;
}

struct tally {
    const int *hout;
    int n;
    long long sum;
    int calls;
};

// A captured host function: runs at each replay, after the copy before it.
static void CUDART_CB sum_output(void *arg)
{
    tally *t = (tally *)arg;
    t->sum = 0;
    for (int i = 0; i < t->n; i++)
        t->sum += t->hout[i];
    t->calls++;
}

// Memcpy nodes with pinned host memory read and write the host buffers when
// the graph runs, not when it was captured; a host node sees the copy's result.
static long host_copy_graph(cudaStream_t s)
{
    int *hin, *hout, *d;
    CK(cudaMallocHost(&hin, n * sizeof(int)));
    CK(cudaMallocHost(&hout, n * sizeof(int)));
    CK(cudaMalloc(&d, n * sizeof(int)));
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CK(cudaMemcpyAsync(d, hin, n * sizeof(int), cudaMemcpyHostToDevice, s));
    inc<<<grid, 128, 0, s>>>(d, n);
    CK(cudaMemcpyAsync(hout, d, n * sizeof(int), cudaMemcpyDeviceToHost, s));
    tally t = {hout, n, 0, 0};
    CK(cudaLaunchHostFunc(s, sum_output, &t));
    CK(cudaStreamEndCapture(s, &graph));
    EXPECT(t.calls == 0, "host function ran during capture");
    CK(cudaGraphInstantiate(&exec, graph, 0));
    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < n; i++)
            hin[i] = i * (r + 2), hout[i] = -1;
        CK(cudaGraphLaunch(exec, s));
        CK(cudaStreamSynchronize(s));
        long wrong = 0;
        long long want_sum = 0;
        for (int i = 0; i < n; i++)
            wrong += hout[i] != i * (r + 2) + 1, want_sum += i * (r + 2) + 1;
        EXPECT(wrong == 0, "host graph replay %d: %ld values differ (hout[5] %d want %d)", r, wrong,
               hout[5], 5 * (r + 2) + 1);
        EXPECT(t.calls == r + 1 && t.sum == want_sum,
               "replay %d: host node calls %d sum %lld want %lld", r, t.calls, t.sum, want_sum);
    }
    printf("host-copy graph: 3 replays, host node sum %lld\n", t.sum);
    CK(cudaGraphExecDestroy(exec));
    CK(cudaGraphDestroy(graph));
    CK(cudaFreeHost(hin));
    CK(cudaFreeHost(hout));
    CK(cudaFree(d));
    return 0;
}

int main()
{
    cudaStream_t s1, s2;
    CK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
    CK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
    long bad = device_graph(s1, s2);
    bad += host_copy_graph(s1);
    CK(cudaStreamDestroy(s1));
    CK(cudaStreamDestroy(s2));
    return report("stream capture and graph replay", bad);
}
