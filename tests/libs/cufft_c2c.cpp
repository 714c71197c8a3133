// cufft_c2c.cpp — cuFFT on simgpu: batched 1D complex-to-complex transforms
// (a power of two and a size with factors 3 and 5), forward checked against a
// CPU DFT in double precision, and forward+inverse returning N times the input.
//
// cuFFT 12.0 (CUDA 13.0) asks for export table 6e163fbe, which rgpu does not
// serve (NOT_FOUND), and picks single-architecture kernel containers itself
// (sm_120 SASS only); simgpu can run neither, so cufftPlan1d fails and the
// test skips. docs/libraries.md has the details.
#include <cuda_runtime.h>
#include <cufft.h>

#include <vector>

#include "libcheck.h"

#define RT_CHECK(call) LIB_CHECK(call, cudaSuccess)
#define FFT_CHECK(call) LIB_CHECK(call, CUFFT_SUCCESS)

static void dft(const cufftComplex *in, cufftComplex *out, int n)
{
    for (int k = 0; k < n; k++) {
        double re = 0, im = 0;
        for (int j = 0; j < n; j++) {
            double a = -2 * M_PI * (double)j * k / n;
            re += in[j].x * cos(a) - in[j].y * sin(a);
            im += in[j].x * sin(a) + in[j].y * cos(a);
        }
        out[k].x = (float)re;
        out[k].y = (float)im;
    }
}

static int check_size(int n, int batch)
{
    size_t total = (size_t)n * batch;
    std::vector<cufftComplex> in(total), want(total), got(total);
    for (size_t i = 0; i < total; i++) {
        in[i].x = (float)sin(0.37 * i) + 0.25f * (float)(i % 5);
        in[i].y = (float)cos(0.11 * i * i) - 0.5f;
    }
    for (int b = 0; b < batch; b++)
        dft(&in[(size_t)b * n], &want[(size_t)b * n], n);
    cufftHandle plan;
    LIB_SKIP_UNLESS(cufftPlan1d(&plan, n, CUFFT_C2C, batch), CUFFT_SUCCESS,
                    "cuFFT needs export table 6e163fbe and loads sm_120-only (SASS) kernel "
                    "containers, which simgpu cannot run (see docs/libraries.md)");
    cufftComplex *d = nullptr;
    RT_CHECK(cudaMalloc(&d, total * sizeof(cufftComplex)));
    RT_CHECK(cudaMemcpy(d, in.data(), total * sizeof(cufftComplex), cudaMemcpyHostToDevice));
    FFT_CHECK(cufftExecC2C(plan, d, d, CUFFT_FORWARD));
    RT_CHECK(cudaMemcpy(got.data(), d, total * sizeof(cufftComplex), cudaMemcpyDeviceToHost));
    double e = lib_max_err_f((float *)got.data(), (float *)want.data(), 2 * total) / sqrt(n);
    char what[96];
    snprintf(what, sizeof what, "C2C forward n=%d batch=%d vs CPU DFT", n, batch);
    int fails = lib_report(what, e > 1e-4, e);
    FFT_CHECK(cufftExecC2C(plan, d, d, CUFFT_INVERSE));
    RT_CHECK(cudaMemcpy(got.data(), d, total * sizeof(cufftComplex), cudaMemcpyDeviceToHost));
    for (auto &c : got)
        c.x /= n, c.y /= n;
    e = lib_max_err_f((float *)got.data(), (float *)in.data(), 2 * total);
    snprintf(what, sizeof what, "C2C inverse(forward) / n == input, n=%d", n);
    fails += lib_report(what, e > 1e-5, e);
    cudaFree(d);
    cufftDestroy(plan);
    return fails;
}

int main()
{
    int ver = 0;
    FFT_CHECK(cufftGetVersion(&ver));
    printf("cuFFT %d\n", ver);
    int fails = check_size(64, 2);
    fails += check_size(60, 3);
    printf("cufft: %s\n", fails ? "FAIL" : "all ok");
    return fails ? 1 : 0;
}
