// coop_grid.cu — a cooperative launch (cudaLaunchCooperativeKernel) sized by
// the occupancy calculator, whose kernel synchronises the whole grid with
// cg::this_grid().sync() between phases: per-block sums, then every block reads
// all of them. Checked on the CPU.
#include "check.cuh"

#include <cooperative_groups.h>
#include <vector>

namespace cg = cooperative_groups;

__global__ void two_phase(const int *in, long long *partial, long long *out, int n)
{
    cg::grid_group grid = cg::this_grid();
    __shared__ long long s[128];
    long long v = 0;
    for (int i = grid.thread_rank(); i < n; i += grid.size())
        v += in[i];
    s[threadIdx.x] = v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
    grid.sync();
    // Phase two: each block adds up every block's partial sum.
    if (threadIdx.x == 0) {
        long long total = 0;
        for (int b = 0; b < gridDim.x; b++)
            total += partial[b];
        out[blockIdx.x] = total;
    }
}

int main()
{
    int dev = 0, coop = 0, sms = 0, per_sm = 0;
    CK(cudaGetDevice(&dev));
    CK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    const int threads = 128, n = 100000;
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, two_phase, threads, 0));
    long bad = 0;
    EXPECT(coop == 1, "cooperative launch attribute %d", coop);
    EXPECT(per_sm >= 1, "occupancy %d", per_sm);
    int blocks = std::min(sms * per_sm, 16);
    std::vector<int> h(n);
    long long want = 0;
    for (int i = 0; i < n; i++)
        h[i] = (i * 37) % 1001 - 500, want += h[i];
    int *in;
    long long *partial, *out;
    CK(cudaMalloc(&in, n * sizeof(int)));
    CK(cudaMalloc(&partial, blocks * sizeof(long long)));
    CK(cudaMalloc(&out, blocks * sizeof(long long)));
    CK(cudaMemcpy(in, h.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    int nn = n;
    void *args[] = {&in, &partial, &out, &nn};
    CK(cudaLaunchCooperativeKernel((void *)two_phase, blocks, threads, args, 0, 0));
    std::vector<long long> g(blocks);
    CK(cudaMemcpy(g.data(), out, blocks * sizeof(long long), cudaMemcpyDeviceToHost));
    for (int b = 0; b < blocks; b++)
        EXPECT(g[b] == want, "block %d total %lld want %lld", b, g[b], want);
    printf("%d blocks (%d per SM), total %lld\n", blocks, per_sm, want);
    CK(cudaFree(in));
    CK(cudaFree(partial));
    CK(cudaFree(out));
    return report("cooperative launch with grid.sync()", bad);
}
