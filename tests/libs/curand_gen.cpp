// curand_gen.cpp — cuRAND's host API generating on simgpu: XORWOW and Philox
// uniform floats and normal doubles from device generators, compared value
// for value with the same generators run on the host
// (curandCreateGeneratorHost), plus range and mean checks.
//
// cuRAND 10.4 (CUDA 13.0) ships its kernels as SASS for sm_75..sm_121 and PTX
// for compute_121 only; simgpu (compute capability 12.0, PTX only) runs that
// compute_121 PTX when an image has nothing at or below 12.0. On a driver
// that cannot load the kernels the device generation fails and the test skips.
#include <cuda_runtime.h>
#include <curand.h>

#include <vector>

#include "libcheck.h"

#define RT_CHECK(call) LIB_CHECK(call, cudaSuccess)
#define RAND_CHECK(call) LIB_CHECK(call, CURAND_STATUS_SUCCESS)

static const size_t N = 1 << 16;

// Device and host generators of one type, same seed: the sequences must match.
static int check_uniform(curandRngType_t type, const char *name)
{
    curandGenerator_t dg, hg;
    LIB_SKIP_UNLESS(curandCreateGenerator(&dg, type), CURAND_STATUS_SUCCESS,
                    "cuRAND device generator could not be created on this driver");
    RAND_CHECK(curandCreateGeneratorHost(&hg, type));
    RAND_CHECK(curandSetPseudoRandomGeneratorSeed(dg, 1234ull));
    RAND_CHECK(curandSetPseudoRandomGeneratorSeed(hg, 1234ull));
    float *d = nullptr;
    RT_CHECK(cudaMalloc(&d, N * sizeof(float)));
    LIB_SKIP_UNLESS(curandGenerateUniform(dg, d, N), CURAND_STATUS_SUCCESS,
                    "cuRAND's device kernels did not load (SASS sm_75..sm_121 plus PTX "
                    "compute_121 only; see docs/libraries.md)");
    std::vector<float> got(N), want(N);
    RT_CHECK(cudaMemcpy(got.data(), d, N * sizeof(float), cudaMemcpyDeviceToHost));
    RAND_CHECK(curandGenerateUniform(hg, want.data(), N));
    double sum = 0;
    long out_of_range = 0;
    for (float v : got) {
        sum += v;
        out_of_range += !(v > 0.f && v <= 1.f);
    }
    double mean = sum / N, e = lib_max_err_f(got.data(), want.data(), N);
    printf("%s: first values %.6f %.6f %.6f (host %.6f %.6f %.6f), mean %.4f\n", name, got[0],
           got[1], got[2], want[0], want[1], want[2], mean);
    char what[96];
    snprintf(what, sizeof what, "%s uniform: device == host generator", name);
    int fails = lib_report(what, e != 0, e);
    snprintf(what, sizeof what, "%s uniform: in (0,1], mean 0.5 +- 0.01", name);
    fails += lib_report(what, out_of_range || fabs(mean - 0.5) > 0.01, fabs(mean - 0.5));
    cudaFree(d);
    curandDestroyGenerator(dg);
    curandDestroyGenerator(hg);
    return fails;
}

static int check_normal(curandRngType_t type, const char *name)
{
    curandGenerator_t dg, hg;
    RAND_CHECK(curandCreateGenerator(&dg, type));
    RAND_CHECK(curandCreateGeneratorHost(&hg, type));
    RAND_CHECK(curandSetPseudoRandomGeneratorSeed(dg, 99ull));
    RAND_CHECK(curandSetPseudoRandomGeneratorSeed(hg, 99ull));
    double *d = nullptr;
    RT_CHECK(cudaMalloc(&d, N * sizeof(double)));
    RAND_CHECK(curandGenerateNormalDouble(dg, d, N, 2.0, 3.0));
    std::vector<double> got(N), want(N);
    RT_CHECK(cudaMemcpy(got.data(), d, N * sizeof(double), cudaMemcpyDeviceToHost));
    RAND_CHECK(curandGenerateNormalDouble(hg, want.data(), N, 2.0, 3.0));
    double sum = 0, sq = 0;
    for (double v : got) {
        sum += v;
        sq += v * v;
    }
    double mean = sum / N, sd = sqrt(sq / N - mean * mean);
    double e = lib_max_err_d(got.data(), want.data(), N);
    char what[96];
    snprintf(what, sizeof what, "%s normal(2,3) double: device == host", name);
    int fails = lib_report(what, e > 1e-12, e);
    snprintf(what, sizeof what, "%s normal: mean %.3f sd %.3f", name, mean, sd);
    fails += lib_report(what, fabs(mean - 2) > 0.05 || fabs(sd - 3) > 0.05,
                        fabs(mean - 2) + fabs(sd - 3));
    cudaFree(d);
    curandDestroyGenerator(dg);
    curandDestroyGenerator(hg);
    return fails;
}

int main()
{
    int ver = 0;
    RAND_CHECK(curandGetVersion(&ver));
    printf("cuRAND %d\n", ver);
    int fails = check_uniform(CURAND_RNG_PSEUDO_XORWOW, "XORWOW");
    fails += check_uniform(CURAND_RNG_PSEUDO_PHILOX4_32_10, "Philox4x32-10");
    fails += check_normal(CURAND_RNG_PSEUDO_PHILOX4_32_10, "Philox4x32-10");
    printf("curand: %s\n", fails ? "FAIL" : "all ok");
    return fails ? 1 : 0;
}
