// coop_groups.cu — cooperative groups inside a block: thread_block sync,
// tiled_partition (static tiles of 32 and 8, a dynamic tile of 4), tile
// shuffles, cg::reduce and cg::inclusive_scan, coalesced_threads() in a
// divergent branch (a warp-aggregated atomic). Every result compared with the CPU.
#include "check.cuh"

#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include <cooperative_groups/scan.h>
#include <vector>

namespace cg = cooperative_groups;

struct out {
    int warp_sum;  // cg::reduce over the thread's 32-thread tile
    int tile8_max; // shuffle-down maximum over its 8-thread tile, lane 0 broadcast
    int scan4;     // inclusive scan in a dynamic 4-thread tile
    int block_sum; // shared-memory sum over the block after block.sync()
    int slot;      // odd values: a unique slot from a warp-aggregated atomic, else -1
};

__global__ void groups(const int *in, out *o, int n, int *odd_total)
{
    __shared__ int part[256];
    cg::thread_block block = cg::this_thread_block();
    int i = blockIdx.x * blockDim.x + block.thread_rank();
    int v = i < n ? in[i] : 0;

    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    int wsum = cg::reduce(warp, v, cg::plus<int>());

    cg::thread_block_tile<8> t8 = cg::tiled_partition<8>(block);
    int m = v;
    for (int off = t8.size() / 2; off > 0; off /= 2)
        m = max(m, t8.shfl_down(m, off));
    m = t8.shfl(m, 0);

    cg::thread_group t4 = cg::tiled_partition(block, 4);
    int sc = v;
    // A Hillis-Steele scan through shared memory within the dynamic tile.
    part[block.thread_rank()] = sc;
    t4.sync();
    for (int d = 1; d < 4; d *= 2) {
        int add = t4.thread_rank() >= (unsigned)d ? part[block.thread_rank() - d] : 0;
        t4.sync();
        sc += add;
        part[block.thread_rank()] = sc;
        t4.sync();
    }
    int scan4 = cg::inclusive_scan(cg::tiled_partition<4>(block), v);
    block.sync();

    part[block.thread_rank()] = v;
    block.sync();
    for (int w = block.size() / 2; w > 0; w /= 2) {
        if (block.thread_rank() < w) part[block.thread_rank()] += part[block.thread_rank() + w];
        block.sync();
    }
    int bsum = part[0];

    // Warp-aggregated atomic: whichever threads arrive together take one
    // atomicAdd for the group and hand out consecutive slots by rank.
    int slot = -1;
    if (i < n && (v & 1)) {
        cg::coalesced_group odd = cg::coalesced_threads();
        int base = 0;
        if (odd.thread_rank() == 0) base = atomicAdd(odd_total, (int)odd.size());
        slot = odd.shfl(base, 0) + odd.thread_rank();
    }
    if (i < n) o[i] = out{wsum, m, scan4 == sc ? sc : -1000000, bsum, slot};
}

int main()
{
    const int threads = 256, blocks = 5, n = threads * blocks;
    std::vector<int> h(n);
    unsigned seed = 12345;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        h[i] = (int)((seed >> 16) % 1000);
    }
    int *d, *odd_total;
    out *o;
    CK(cudaMalloc(&odd_total, sizeof(int)));
    CK(cudaMemset(odd_total, 0, sizeof(int)));
    CK(cudaMalloc(&d, n * sizeof(int)));
    CK(cudaMalloc(&o, n * sizeof(out)));
    CK(cudaMemcpy(d, h.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    groups<<<blocks, threads>>>(d, o, n, odd_total);
    CK_LAUNCH();
    std::vector<out> g(n);
    CK(cudaMemcpy(g.data(), o, n * sizeof(out), cudaMemcpyDeviceToHost));
    int got_odd = -1, odd = 0;
    CK(cudaMemcpy(&got_odd, odd_total, sizeof(int), cudaMemcpyDeviceToHost));
    std::vector<int> seen(n, 0);

    for (int i = 0; i < n; i++) {
        int w0 = i / 32 * 32, e0 = i / 8 * 8, f0 = i / 4 * 4, b0 = i / threads * threads;
        int wsum = 0, m = 0, sc = 0, bsum = 0;
        for (int k = w0; k < w0 + 32; k++)
            wsum += h[k];
        for (int k = e0; k < e0 + 8; k++)
            m = std::max(m, h[k]);
        for (int k = f0; k <= i; k++)
            sc += h[k];
        for (int k = b0; k < b0 + threads; k++)
            bsum += h[k];
        if (h[i] & 1) {
            odd++;
            bool fresh = g[i].slot >= 0 && g[i].slot < n && !seen[g[i].slot]++;
            EXPECT(fresh, "[%d] slot %d taken twice or out of range", i, g[i].slot);
        } else {
            EXPECT(g[i].slot == -1, "[%d] even value got slot %d", i, g[i].slot);
        }
        EXPECT(g[i].warp_sum == wsum, "[%d] warp sum %d want %d", i, g[i].warp_sum, wsum);
        EXPECT(g[i].tile8_max == m, "[%d] tile8 max %d want %d", i, g[i].tile8_max, m);
        EXPECT(g[i].scan4 == sc, "[%d] scan4 %d want %d", i, g[i].scan4, sc);
        EXPECT(g[i].block_sum == bsum, "[%d] block sum %d want %d", i, g[i].block_sum, bsum);
    }
    // Slots 0..odd-1 each handed out once.
    EXPECT(got_odd == odd, "odd count %d want %d", got_odd, odd);
    for (int k = 0; k < odd; k++)
        EXPECT(seen[k] == 1, "slot %d used %d times", k, seen[k]);
    CK(cudaFree(d));
    CK(cudaFree(o));
    CK(cudaFree(odd_total));
    return report("cooperative groups (block, tiles, coalesced)", 0);
}
