// cub_device.cu — CUB device-wide algorithms on simgpu (compute_120 PTX only):
// DeviceRadixSort::SortPairs, DeviceScan::ExclusiveSum/InclusiveScan,
// DeviceReduce::Sum/Max/ArgMin, DeviceHistogram::HistogramEven and
// DeviceSelect::If, each with the two-phase temporary-storage protocol and
// checked against the same computation on the CPU.
#include <cub/cub.cuh>

#include <algorithm>
#include <numeric>
#include <vector>

#include "libcheck.h"

#define RT_CHECK(call) LIB_CHECK(call, cudaSuccess)

static const int N = 5000;

template <typename T> static T *upload(const std::vector<T> &h)
{
    T *d = nullptr;
    RT_CHECK(cudaMalloc(&d, h.size() * sizeof(T)));
    RT_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

template <typename T> static std::vector<T> download(const T *d, size_t n)
{
    std::vector<T> h(n);
    RT_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

// Runs a CUB call twice: size query, then with storage.
template <typename F> static void with_temp(F call)
{
    size_t bytes = 0;
    RT_CHECK(call(nullptr, bytes));
    void *tmp = nullptr;
    RT_CHECK(cudaMalloc(&tmp, bytes ? bytes : 1));
    RT_CHECK(call(tmp, bytes));
    RT_CHECK(cudaDeviceSynchronize());
    cudaFree(tmp);
}

struct is_multiple_of_3 {
    __host__ __device__ bool operator()(int v) const { return v % 3 == 0; }
};

int main()
{
    std::vector<int> keys(N), vals(N);
    unsigned s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        keys[i] = (int)(s >> 8) % 100000 - 50000;
        vals[i] = i;
    }
    int fails = 0;

    { // radix sort of (key, index) pairs: stable, so ties keep index order
        int *dk = upload(keys), *dv = upload(vals), *dk2, *dv2;
        RT_CHECK(cudaMalloc(&dk2, N * sizeof(int)));
        RT_CHECK(cudaMalloc(&dv2, N * sizeof(int)));
        with_temp([&](void *t, size_t &b) {
            return cub::DeviceRadixSort::SortPairs(t, b, dk, dk2, dv, dv2, N);
        });
        std::vector<int> order(N);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int a, int b) { return keys[a] < keys[b]; });
        auto gk = download(dk2, N), gv = download(dv2, N);
        int bad = 0;
        for (int i = 0; i < N; i++)
            bad += gv[i] != order[i] || gk[i] != keys[order[i]];
        fails += lib_report("DeviceRadixSort::SortPairs n=5000", bad, bad);
        cudaFree(dk), cudaFree(dv), cudaFree(dk2), cudaFree(dv2);
    }
    { // exclusive sum and inclusive max-scan
        int *din = upload(keys), *dout;
        RT_CHECK(cudaMalloc(&dout, N * sizeof(int)));
        with_temp(
            [&](void *t, size_t &b) { return cub::DeviceScan::ExclusiveSum(t, b, din, dout, N); });
        auto got = download(dout, N);
        int bad = 0, acc = 0;
        for (int i = 0; i < N; i++)
            bad += got[i] != acc, acc += keys[i];
        fails += lib_report("DeviceScan::ExclusiveSum", bad, bad);
        with_temp([&](void *t, size_t &b) {
            return cub::DeviceScan::InclusiveScan(t, b, din, dout, cuda::maximum<int>(), N);
        });
        got = download(dout, N);
        bad = 0;
        int m = keys[0];
        for (int i = 0; i < N; i++)
            m = std::max(m, keys[i]), bad += got[i] != m;
        fails += lib_report("DeviceScan::InclusiveScan(Max)", bad, bad);
        cudaFree(din), cudaFree(dout);
    }
    { // reductions
        int *din = upload(keys), *dsum, *dmax, *dmin;
        long long *darg;
        RT_CHECK(cudaMalloc(&dsum, sizeof(int)));
        RT_CHECK(cudaMalloc(&dmax, sizeof(int)));
        RT_CHECK(cudaMalloc(&dmin, sizeof(int)));
        RT_CHECK(cudaMalloc(&darg, sizeof(*darg)));
        with_temp([&](void *t, size_t &b) { return cub::DeviceReduce::Sum(t, b, din, dsum, N); });
        with_temp([&](void *t, size_t &b) { return cub::DeviceReduce::Max(t, b, din, dmax, N); });
        with_temp([&](void *t, size_t &b) {
            return cub::DeviceReduce::ArgMin(t, b, din, dmin, darg, N);
        });
        int sum = download(dsum, 1)[0], mx = download(dmax, 1)[0];
        int amin = download(dmin, 1)[0];
        long long arg = download(darg, 1)[0];
        long long want_sum = std::accumulate(keys.begin(), keys.end(), 0ll);
        auto mn = std::min_element(keys.begin(), keys.end());
        fails +=
            lib_report("DeviceReduce::Sum", sum != (int)want_sum, fabs(sum - (double)want_sum));
        fails +=
            lib_report("DeviceReduce::Max", mx != *std::max_element(keys.begin(), keys.end()), 0);
        fails += lib_report("DeviceReduce::ArgMin", arg != mn - keys.begin() || amin != *mn, 0);
        cudaFree(din), cudaFree(dsum), cudaFree(dmax), cudaFree(dmin), cudaFree(darg);
    }
    { // histogram: 20 even bins over [-50000, 50000)
        const int bins = 20;
        int *din = upload(keys), *dhist;
        RT_CHECK(cudaMalloc(&dhist, bins * sizeof(int)));
        with_temp([&](void *t, size_t &b) {
            return cub::DeviceHistogram::HistogramEven(t, b, din, dhist, bins + 1, -50000, 50000,
                                                       N);
        });
        auto got = download(dhist, bins);
        std::vector<int> want(bins, 0);
        for (int k : keys)
            want[(k + 50000) / (100000 / bins)]++;
        int bad = 0;
        for (int i = 0; i < bins; i++)
            bad += got[i] != want[i];
        fails += lib_report("DeviceHistogram::HistogramEven 20 bins", bad, bad);
        cudaFree(din), cudaFree(dhist);
    }
    { // stream compaction
        int *din = upload(keys), *dout, *dcount;
        RT_CHECK(cudaMalloc(&dout, N * sizeof(int)));
        RT_CHECK(cudaMalloc(&dcount, sizeof(int)));
        with_temp([&](void *t, size_t &b) {
            return cub::DeviceSelect::If(t, b, din, dout, dcount, N, is_multiple_of_3());
        });
        std::vector<int> want;
        for (int k : keys)
            if (k % 3 == 0) want.push_back(k);
        int count = download(dcount, 1)[0];
        int bad = count != (int)want.size();
        if (!bad) {
            auto got = download(dout, count);
            for (int i = 0; i < count; i++)
                bad += got[i] != want[i];
        }
        fails += lib_report("DeviceSelect::If (multiples of 3)", bad, bad);
        cudaFree(din), cudaFree(dout), cudaFree(dcount);
    }
    printf("cub: %s\n", fails ? "FAIL" : "all ok");
    return fails ? 1 : 0;
}
