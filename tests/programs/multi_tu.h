// multi_tu.h — the host-side entry points of the multi_tu program's three
// kernel translation units (multi_tu_*.cu); main is in multi_tu.cu.
#pragma once
#include <cuda_runtime.h>

// multi_tu_vec.cu
void vec_iota(int *x, int n, int start, cudaStream_t s);
void vec_saxpy(float a, const float *x, float *y, int n, cudaStream_t s);
void vec_scale_a(int *x, int n, cudaStream_t s); // x *= 2 (a file-local kernel "scale")
void vec_add_const(int *x, int n, int c, cudaStream_t s);

// multi_tu_mat.cu
void mat_transpose(const float *in, float *out, int rows, int cols, cudaStream_t s);
void mat_scale_b(int *x, int n, cudaStream_t s); // x *= 3 (another file-local "scale")
void mat_add_const(int *x, int n, int c, cudaStream_t s);

// multi_tu_red.cu
void red_block_sums(const int *x, long long *sums, int n, int blocks, cudaStream_t s);
void red_histogram(const int *x, unsigned *bins, int n, int nbins, cudaStream_t s);
