// thrust_cub.cu — Thrust sort, reduce and transform_reduce on device vectors,
// and CUB device-wide scans (ExclusiveSum, InclusiveScan with max) on plain
// cudaMalloc memory with their temporary storage queried first; compared with
// std::sort / std::accumulate / sequential scans. One program for both because
// nvcc takes long over them.
#include <algorithm>
#include <numeric>
#include <vector>

#include <cub/device/device_scan.cuh>
#include <thrust/device_vector.h>
#include <thrust/functional.h>
#include <thrust/reduce.h>
#include <thrust/sort.h>
#include <thrust/transform_reduce.h>

#include "check.cuh"

struct square {
    __host__ __device__ long long operator()(int v) const { return (long long)v * v; }
};

struct max_op {
    __host__ __device__ int operator()(int a, int b) const { return a > b ? a : b; }
};

static std::vector<int> random_ints(int n, unsigned seed)
{
    std::vector<int> h(n);
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = (int)(seed >> 8) % 100000 - 50000;
    }
    return h;
}

static long thrust_part(const std::vector<int> &h)
{
    int n = (int)h.size();
    thrust::device_vector<int> d(h.begin(), h.end());
    long long sum = thrust::reduce(d.begin(), d.end(), 0LL, thrust::plus<long long>());
    long long sq =
        thrust::transform_reduce(d.begin(), d.end(), square(), 0LL, thrust::plus<long long>());
    thrust::sort(d.begin(), d.end());
    std::vector<int> got(n);
    thrust::copy(d.begin(), d.end(), got.begin());
    CK(cudaDeviceSynchronize());
    std::vector<int> want = h;
    std::sort(want.begin(), want.end());
    long long want_sum = std::accumulate(h.begin(), h.end(), 0LL), want_sq = 0;
    for (int v : h)
        want_sq += (long long)v * v;
    for (int i = 0; i < n; i++)
        EXPECT(got[i] == want[i], "sorted[%d] %d want %d", i, got[i], want[i]);
    EXPECT(sum == want_sum, "sum %lld want %lld", sum, want_sum);
    EXPECT(sq == want_sq, "sum of squares %lld want %lld", sq, want_sq);
    printf("thrust: sum %lld, sum of squares %lld, min %d max %d\n", sum, sq, got[0], got[n - 1]);
    return 0;
}

static long cub_part(const std::vector<int> &h)
{
    int n = (int)h.size();
    int *in, *ex, *mx;
    CK(cudaMalloc(&in, n * sizeof(int)));
    CK(cudaMalloc(&ex, n * sizeof(int)));
    CK(cudaMalloc(&mx, n * sizeof(int)));
    CK(cudaMemcpy(in, h.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    size_t bytes_ex = 0, bytes_mx = 0;
    CK(cub::DeviceScan::ExclusiveSum(nullptr, bytes_ex, in, ex, n));
    CK(cub::DeviceScan::InclusiveScan(nullptr, bytes_mx, in, mx, max_op(), n));
    void *tmp;
    size_t bytes = std::max(bytes_ex, bytes_mx);
    CK(cudaMalloc(&tmp, bytes));
    CK(cub::DeviceScan::ExclusiveSum(tmp, bytes_ex, in, ex, n));
    CK(cub::DeviceScan::InclusiveScan(tmp, bytes_mx, in, mx, max_op(), n));
    std::vector<int> gex(n), gmx(n);
    CK(cudaMemcpy(gex.data(), ex, n * sizeof(int), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(gmx.data(), mx, n * sizeof(int), cudaMemcpyDeviceToHost));
    int run = 0, best = h[0]; // |partial sums| stay far below 2^31 for these inputs
    for (int i = 0; i < n; i++) {
        EXPECT(gex[i] == run, "exclusive[%d] %d want %d", i, gex[i], run);
        run += h[i];
        best = std::max(best, h[i]);
        EXPECT(gmx[i] == best, "inclusive max[%d] %d want %d", i, gmx[i], best);
    }
    printf("cub: %zu bytes of temporary storage, last exclusive sum %d\n", bytes, gex[n - 1]);
    for (void *p : {(void *)in, (void *)ex, (void *)mx, tmp})
        CK(cudaFree(p));
    return 0;
}

int main()
{
    long bad = thrust_part(random_ints(20000, 7));
    bad += cub_part(random_ints(70001, 11));
    return report("thrust sort/reduce + cub scan", bad);
}
