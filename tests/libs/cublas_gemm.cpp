// cublas_gemm.cpp — cuBLAS on simgpu: Saxpy, Sgemm (non-square, alpha/beta,
// both transposes), Dgemm and GemmEx (FP32) on small matrices, each checked
// against a CPU reference. cuBLAS reaches the driver through cudart and its
// private export tables; a handle that cannot be created skips with the reason.
//
// cuBLASLt picks the image of each GEMM kernel itself and hands the driver a
// bare sm_120 cubin (SASS), which simgpu cannot run, unless CUDA_FORCE_PTX_JIT=1
// tells it to take the compute_120 PTX instead; so this program sets it.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <vector>

#include "libcheck.h"

#define RT_CHECK(call) LIB_CHECK(call, cudaSuccess)
#define BLAS_CHECK(call) LIB_CHECK(call, CUBLAS_STATUS_SUCCESS)

// Column-major C = alpha * op(A) * op(B) + beta * C, op(A) m×k, op(B) k×n.
template <typename T>
static void gemm_ref(bool ta, bool tb, int m, int n, int k, T alpha, const T *A, int lda,
                     const T *B, int ldb, T beta, T *C, int ldc)
{
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                double a = ta ? A[p + i * lda] : A[i + p * lda];
                double b = tb ? B[j + p * ldb] : B[p + j * ldb];
                acc += a * b;
            }
            C[i + j * ldc] = (T)(alpha * acc + beta * (double)C[i + j * ldc]);
        }
}

template <typename T> static std::vector<T> filled(size_t n, int seed)
{
    std::vector<T> v(n);
    unsigned s = 2463534242u + seed;
    for (auto &x : v) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        x = (T)((int)(s % 2001) - 1000) / (T)500;
    }
    return v;
}

template <typename T> static T *to_device(const std::vector<T> &h)
{
    T *d = nullptr;
    RT_CHECK(cudaMalloc(&d, h.size() * sizeof(T)));
    RT_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

template <typename T> static std::vector<T> to_host(const T *d, size_t n)
{
    std::vector<T> h(n);
    RT_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

static int check_saxpy(cublasHandle_t h)
{
    const int n = 777;
    auto x = filled<float>(n, 1), y = filled<float>(n, 2), want = y;
    const float a = -1.75f;
    for (int i = 0; i < n; i++)
        want[i] = a * x[i] + y[i];
    float *dx = to_device(x), *dy = to_device(y);
    BLAS_CHECK(cublasSaxpy(h, n, &a, dx, 1, dy, 1));
    auto got = to_host(dy, n);
    cudaFree(dx);
    cudaFree(dy);
    double e = lib_max_err_f(got.data(), want.data(), n);
    return lib_report("cublasSaxpy n=777", e > 1e-6, e);
}

// One GEMM case: m×n result, inner k, transposes, with leading dimensions
// larger than the minimum so strides are exercised.
struct gemm_case {
    int m, n, k;
    bool ta, tb;
};

template <typename T> struct blas;
template <> struct blas<float> {
    static cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                               int n, int k, const float *al, const float *A, int lda,
                               const float *B, int ldb, const float *be, float *C, int ldc)
    {
        return cublasSgemm(h, ta, tb, m, n, k, al, A, lda, B, ldb, be, C, ldc);
    }
    static double err(const float *g, const float *w, size_t n) { return lib_max_err_f(g, w, n); }
    static constexpr double tol = 1e-4;
    static constexpr const char *name = "cublasSgemm";
};
template <> struct blas<double> {
    static cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                               int n, int k, const double *al, const double *A, int lda,
                               const double *B, int ldb, const double *be, double *C, int ldc)
    {
        return cublasDgemm(h, ta, tb, m, n, k, al, A, lda, B, ldb, be, C, ldc);
    }
    static double err(const double *g, const double *w, size_t n) { return lib_max_err_d(g, w, n); }
    static constexpr double tol = 1e-12;
    static constexpr const char *name = "cublasDgemm";
};

template <typename T> static int check_gemm(cublasHandle_t h, gemm_case c, bool ex)
{
    int ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k;
    int br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
    int lda = ar + 3, ldb = br + 1, ldc = c.m + 2;
    auto A = filled<T>((size_t)lda * ac, 3), B = filled<T>((size_t)ldb * bc, 4);
    auto C = filled<T>((size_t)ldc * c.n, 5), want = C;
    const T alpha = (T)1.5, beta = (T)-0.5;
    gemm_ref<T>(c.ta, c.tb, c.m, c.n, c.k, alpha, A.data(), lda, B.data(), ldb, beta, want.data(),
                ldc);
    T *dA = to_device(A), *dB = to_device(B), *dC = to_device(C);
    cublasOperation_t ta = c.ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb = c.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (ex)
        BLAS_CHECK(cublasGemmEx(h, ta, tb, c.m, c.n, c.k, &alpha, dA, CUDA_R_32F, lda, dB,
                                CUDA_R_32F, ldb, &beta, dC, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F,
                                CUBLAS_GEMM_DEFAULT));
    else
        BLAS_CHECK(
            blas<T>::gemm(h, ta, tb, c.m, c.n, c.k, &alpha, dA, lda, dB, ldb, &beta, dC, ldc));
    RT_CHECK(cudaDeviceSynchronize());
    auto got = to_host(dC, C.size());
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
    double e = blas<T>::err(got.data(), want.data(), got.size());
    char what[96];
    snprintf(what, sizeof what, "%s %c%c m=%d n=%d k=%d", ex ? "cublasGemmEx(32F)" : blas<T>::name,
             c.ta ? 'T' : 'N', c.tb ? 'T' : 'N', c.m, c.n, c.k);
    return lib_report(what, e > blas<T>::tol, e);
}

int main()
{
    if (!getenv("CUDA_FORCE_PTX_JIT")) {
        printf("note: setting CUDA_FORCE_PTX_JIT=1 so cuBLASLt loads PTX, not sm_120 SASS\n");
        setenv("CUDA_FORCE_PTX_JIT", "1", 1);
    }
    int ndev = 0;
    RT_CHECK(cudaGetDeviceCount(&ndev));
    cublasHandle_t h;
    LIB_SKIP_UNLESS(cublasCreate(&h), CUBLAS_STATUS_SUCCESS,
                    "cuBLAS could not initialise on this driver (see RGPU_LOG=debug)");
    int ver = 0;
    BLAS_CHECK(cublasGetVersion(h, &ver));
    printf("cuBLAS %d on %d device(s)\n", ver, ndev);
    int fails = check_saxpy(h);
    const gemm_case cases[] = {{64, 48, 32, false, false},
                               {64, 48, 32, true, false},
                               {33, 20, 17, false, true},
                               {17, 9, 40, true, true}};
    for (auto c : cases)
        fails += check_gemm<float>(h, c, false);
    fails += check_gemm<double>(h, {64, 48, 32, false, false}, false);
    fails += check_gemm<double>(h, {21, 30, 11, true, true}, false);
    fails += check_gemm<float>(h, {64, 48, 32, false, true}, true);
    BLAS_CHECK(cublasDestroy(h));
    printf("cublas: %s\n", fails ? "FAIL" : "all ok");
    return fails ? 1 : 0;
}
