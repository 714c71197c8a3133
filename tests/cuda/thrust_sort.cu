// thrust_sort.cu — Thrust sort, reduce and transform-reduce on device vectors
// (CUB kernels underneath), compared with std::sort / std::accumulate.
#include <algorithm>
#include <numeric>
#include <vector>

#include <thrust/device_vector.h>
#include <thrust/functional.h>
#include <thrust/reduce.h>
#include <thrust/sort.h>
#include <thrust/transform_reduce.h>

#include "check.cuh"

struct square {
    __host__ __device__ long long operator()(int v) const { return (long long)v * v; }
};

int main()
{
    const int n = 20000;
    std::vector<int> h(n);
    unsigned seed = 7;
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = (int)(seed >> 8) % 100000 - 50000;
    }
    thrust::device_vector<int> d(h.begin(), h.end());
    long long sum = thrust::reduce(d.begin(), d.end(), 0LL, thrust::plus<long long>());
    long long sq = thrust::transform_reduce(d.begin(), d.end(), square(), 0LL,
                                            thrust::plus<long long>());
    thrust::sort(d.begin(), d.end());
    std::vector<int> got(n);
    thrust::copy(d.begin(), d.end(), got.begin());
    CK(cudaDeviceSynchronize());
    std::vector<int> want = h;
    std::sort(want.begin(), want.end());
    long long want_sum = std::accumulate(h.begin(), h.end(), 0LL), want_sq = 0;
    for (int v : h) want_sq += (long long)v * v;
    long bad = 0;
    for (int i = 0; i < n; i++) bad += got[i] != want[i];
    bad += sum != want_sum;
    bad += sq != want_sq;
    printf("sum %lld (want %lld), sum of squares %lld (want %lld), min %d max %d\n", sum, want_sum,
           sq, want_sq, got[0], got[n - 1]);
    return report("thrust sort/reduce", bad);
}
