// cublas_sgemm.cpp — cuBLAS SGEMM from an ordinary runtime program: C = alpha
// op(A) op(B) + beta C for NN and TN with padded leading dimensions, on a
// stream of the program's own, compared with a CPU product in double.
#include <cublas_v2.h>

#include <cmath>
#include <vector>

#include "check.cuh"

#define CB(call)                                                                                   \
    do {                                                                                           \
        cublasStatus_t s_ = (call);                                                                \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                         \
            fprintf(stderr, "%s:%d: %s -> status %d\n", __FILE__, __LINE__, #call, (int)s_);       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

// Column-major m x n with leading dimension ld; element (r, c) at r + c * ld.
static std::vector<float> matrix(int rows, int cols, int ld, int salt)
{
    std::vector<float> a((size_t)ld * cols, 999.0f); // padding must be left alone
    for (int c = 0; c < cols; c++)
        for (int r = 0; r < rows; r++)
            a[r + (size_t)c * ld] = (float)((r * 7 + c * 3 + salt) % 11 - 5) / 4;
    return a;
}

static long gemm(cublasHandle_t h, cublasOperation_t ta, int m, int n, int k)
{
    const float alpha = 1.5f, beta = -0.5f;
    int arows = ta == CUBLAS_OP_N ? m : k, acols = ta == CUBLAS_OP_N ? k : m;
    int lda = arows + 3, ldb = k + 1, ldc = m + 2;
    std::vector<float> A = matrix(arows, acols, lda, 1), B = matrix(k, n, ldb, 2),
                       C = matrix(m, n, ldc, 3);
    float *dA, *dB, *dC;
    CK(cudaMalloc(&dA, A.size() * sizeof(float)));
    CK(cudaMalloc(&dB, B.size() * sizeof(float)));
    CK(cudaMalloc(&dC, C.size() * sizeof(float)));
    CB(cublasSetMatrix(arows, acols, sizeof(float), A.data(), lda, dA, lda));
    CB(cublasSetMatrix(k, n, sizeof(float), B.data(), ldb, dB, ldb));
    CK(cudaMemcpy(dC, C.data(), C.size() * sizeof(float), cudaMemcpyHostToDevice));
    CB(cublasSgemm(h, ta, CUBLAS_OP_N, m, n, k, &alpha, dA, lda, dB, ldb, &beta, dC, ldc));
    std::vector<float> got(C.size());
    CK(cudaMemcpy(got.data(), dC, C.size() * sizeof(float), cudaMemcpyDeviceToHost));
    double worst = 0;
    for (int c = 0; c < n; c++)
        for (int r = 0; r < ldc; r++) {
            double want = C[r + (size_t)c * ldc];
            if (r < m) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    float av = ta == CUBLAS_OP_N ? A[r + (size_t)p * lda] : A[p + (size_t)r * lda];
                    acc += (double)av * B[p + (size_t)c * ldb];
                }
                want = alpha * acc + beta * want;
            }
            worst = std::max(worst, std::fabs(got[r + (size_t)c * ldc] - want));
        }
    printf("sgemm %s %dx%dx%d: max error %.3g\n", ta == CUBLAS_OP_N ? "NN" : "TN", m, n, k, worst);
    EXPECT(worst <= 1e-3, "max error %g", worst);
    CK(cudaFree(dA));
    CK(cudaFree(dB));
    CK(cudaFree(dC));
    return 0;
}

int main()
{
    cublasHandle_t h;
    cudaStream_t s;
    CB(cublasCreate(&h));
    CK(cudaStreamCreate(&s));
    CB(cublasSetStream(h, s));
    long bad = gemm(h, CUBLAS_OP_N, 64, 48, 32);
    bad += gemm(h, CUBLAS_OP_T, 33, 20, 17);
    CK(cudaStreamSynchronize(s));
    CB(cublasDestroy(h));
    CK(cudaStreamDestroy(s));
    return report("cublasSgemm", bad);
}
