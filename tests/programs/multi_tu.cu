// multi_tu.cu — a program whose kernels live in three translation units
// (multi_tu_{vec,mat,red}.cu, whole-program compilation): each unit's fatbin is
// registered on its own; two units hold a file-local kernel named "scale" and
// the same add_const<int> instantiation. Every step is checked on the CPU.
#include "check.cuh"
#include "multi_tu.h"

#include <vector>

int main()
{
    const int n = 10000, rows = 45, cols = 70, blocks = 9, nbins = 13;
    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    int *x;
    float *fx, *fy, *m, *mt;
    long long *sums;
    unsigned *bins;
    CK(cudaMalloc(&x, n * sizeof(int)));
    CK(cudaMalloc(&fx, n * sizeof(float)));
    CK(cudaMalloc(&fy, n * sizeof(float)));
    CK(cudaMalloc(&m, rows * cols * sizeof(float)));
    CK(cudaMalloc(&mt, rows * cols * sizeof(float)));
    CK(cudaMalloc(&sums, blocks * sizeof(long long)));
    CK(cudaMalloc(&bins, nbins * sizeof(unsigned)));

    // x = ((iota(-500) * 2 + 7) * 3 - 4): kernels of all units on one stream.
    vec_iota(x, n, -500, s);
    vec_scale_a(x, n, s);
    vec_add_const(x, n, 7, s);
    mat_scale_b(x, n, s);
    mat_add_const(x, n, -4, s);
    CK_LAUNCH();
    CK(cudaMemsetAsync(bins, 0, nbins * sizeof(unsigned), s));
    red_block_sums(x, sums, n, blocks, s);
    red_histogram(x, bins, n, nbins, s);
    CK_LAUNCH();

    std::vector<float> hx(n), hy(n), hm(rows * cols);
    for (int i = 0; i < n; i++)
        hx[i] = 0.5f * (i % 100), hy[i] = (float)(i % 7);
    for (int i = 0; i < rows * cols; i++)
        hm[i] = (float)i;
    CK(cudaMemcpyAsync(fx, hx.data(), n * sizeof(float), cudaMemcpyHostToDevice, s));
    CK(cudaMemcpyAsync(fy, hy.data(), n * sizeof(float), cudaMemcpyHostToDevice, s));
    CK(cudaMemcpyAsync(m, hm.data(), rows * cols * sizeof(float), cudaMemcpyHostToDevice, s));
    vec_saxpy(3.0f, fx, fy, n, s);
    mat_transpose(m, mt, rows, cols, s);
    CK_LAUNCH();

    std::vector<int> gx(n);
    std::vector<long long> gsums(blocks);
    std::vector<unsigned> gbins(nbins);
    std::vector<float> gy(n), gmt(rows * cols);
    CK(cudaMemcpyAsync(gx.data(), x, n * sizeof(int), cudaMemcpyDeviceToHost, s));
    CK(cudaMemcpyAsync(gsums.data(), sums, blocks * sizeof(long long), cudaMemcpyDeviceToHost, s));
    CK(cudaMemcpyAsync(gbins.data(), bins, nbins * sizeof(unsigned), cudaMemcpyDeviceToHost, s));
    CK(cudaMemcpyAsync(gy.data(), fy, n * sizeof(float), cudaMemcpyDeviceToHost, s));
    CK(cudaMemcpyAsync(gmt.data(), mt, rows * cols * sizeof(float), cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));

    std::vector<int> wx(n);
    std::vector<long long> wsums(blocks, 0);
    std::vector<unsigned> wbins(nbins, 0);
    int per = (n + blocks - 1) / blocks;
    for (int i = 0; i < n; i++) {
        wx[i] = ((-500 + i) * 2 + 7) * 3 - 4;
        wsums[i / per] += wx[i];
        wbins[((wx[i] % nbins) + nbins) % nbins]++;
    }
    for (int i = 0; i < n; i++)
        EXPECT(gx[i] == wx[i], "x[%d] %d want %d", i, gx[i], wx[i]);
    for (int b = 0; b < blocks; b++)
        EXPECT(gsums[b] == wsums[b], "sum[%d] %lld want %lld", b, gsums[b], wsums[b]);
    for (int b = 0; b < nbins; b++)
        EXPECT(gbins[b] == wbins[b], "bin[%d] %u want %u", b, gbins[b], wbins[b]);
    for (int i = 0; i < n; i++) {
        float want = 3.0f * hx[i] + hy[i];
        EXPECT(gy[i] == want, "y[%d] %g want %g", i, gy[i], want);
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            EXPECT(gmt[c * rows + r] == hm[r * cols + c], "mt(%d,%d)", c, r);

    CK(cudaFree(x));
    CK(cudaFree(fx));
    CK(cudaFree(fy));
    CK(cudaFree(m));
    CK(cudaFree(mt));
    CK(cudaFree(sums));
    CK(cudaFree(bins));
    CK(cudaStreamDestroy(s));
    return report("kernels across translation units", 0);
}
