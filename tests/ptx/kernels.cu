// kernels.cu — CUDA C kernels compiled to PTX by nvcc at build time and run
// through simgpu's PTX interpreter by test_kernels.c against CPU references.
#include <cassert>
#include <cstdio>
#include <cuda_fp16.h>
#include <cuda_pipeline.h>
#include <cuda/barrier>
#include <mma.h>
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include <cub/block/block_radix_sort.cuh>
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cub/warp/warp_reduce.cuh>

extern "C" __global__ void reduce_smem(const float *in, float *out, int n)
{
    __shared__ float s[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) s[threadIdx.x] += s[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

extern "C" __global__ void warp_reduce(const int *in, int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int v = i < n ? in[i] : 0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0) atomicAdd(out, v);
    unsigned b = __ballot_sync(0xffffffffu, v > 0);
    if ((threadIdx.x & 31) == 0 && b == 0) atomicAdd(out + 1, 1);
}

#define TILE 16
extern "C" __global__ void matmul_tiled(const float *A, const float *B, float *C, int N)
{
    __shared__ float As[TILE][TILE], Bs[TILE][TILE];
    int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0;
    for (int t = 0; t < (N + TILE - 1) / TILE; t++) {
        int ac = t * TILE + threadIdx.x, br = t * TILE + threadIdx.y;
        As[threadIdx.y][threadIdx.x] = (row < N && ac < N) ? A[row * N + ac] : 0;
        Bs[threadIdx.y][threadIdx.x] = (br < N && col < N) ? B[br * N + col] : 0;
        __syncthreads();
        for (int k = 0; k < TILE; k++) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        __syncthreads();
    }
    if (row < N && col < N) C[row * N + col] = acc;
}

extern "C" __global__ void histogram(const unsigned char *in, int n, unsigned *hist)
{
    __shared__ unsigned h[256];
    for (int i = threadIdx.x; i < 256; i += blockDim.x) h[i] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) atomicAdd(&h[in[i]], 1u);
    __syncthreads();
    for (int i = threadIdx.x; i < 256; i += blockDim.x) atomicAdd(&hist[i], h[i]);
}

// Inclusive scan of 512 elements per block (Hillis-Steele, double buffered).
extern "C" __global__ void scan_block(const int *in, int *out)
{
    __shared__ int buf[2][512];
    int t = threadIdx.x, base = blockIdx.x * 512, p = 0;
    buf[0][t] = in[base + t];
    __syncthreads();
    for (int off = 1; off < 512; off <<= 1) {
        buf[1 - p][t] = buf[p][t] + (t >= off ? buf[p][t - off] : 0);
        p = 1 - p;
        __syncthreads();
    }
    out[base + t] = buf[p][t];
}

extern "C" __global__ void bitonic_sort(int *data)
{
    extern __shared__ int s[];
    unsigned t = threadIdx.x, n = blockDim.x * 2;
    s[t] = data[t];
    s[t + blockDim.x] = data[t + blockDim.x];
    __syncthreads();
    for (unsigned k = 2; k <= n; k <<= 1)
        for (unsigned j = k >> 1; j > 0; j >>= 1) {
            for (unsigned i = t; i < n; i += blockDim.x) {
                unsigned ixj = i ^ j;
                if (ixj > i) {
                    bool up = (i & k) == 0;
                    if ((s[i] > s[ixj]) == up) {
                        int x = s[i];
                        s[i] = s[ixj];
                        s[ixj] = x;
                    }
                }
            }
            __syncthreads();
        }
    data[t] = s[t];
    data[t + blockDim.x] = s[t + blockDim.x];
}

extern "C" __global__ void half_math(const float *a, const float *b, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    __half2 x = __floats2half2_rn(a[i], b[i]);
    __half2 y = __hmul2(__hadd2(x, x), x);
    __half z = __hfma(__low2half(y), __high2half(y), __float2half(1.0f));
    out[2 * i] = __half2float(z);
    out[2 * i + 1] = __half2float(hsqrt(__habs(__float2half(a[i]))));
}

extern "C" __global__ void f64_math(const double *in, double *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double x = in[i];
    out[8 * i + 0] = sin(x);
    out[8 * i + 1] = cos(x);
    out[8 * i + 2] = exp(x);
    out[8 * i + 3] = log(fabs(x) + 1.0);
    out[8 * i + 4] = sqrt(fabs(x));
    out[8 * i + 5] = pow(fabs(x), 1.5);
    out[8 * i + 6] = atan2(x, 2.0);
    out[8 * i + 7] = tanh(x);
}

extern "C" __global__ void f32_math(const float *in, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = in[i];
    out[6 * i + 0] = sinf(x);
    out[6 * i + 1] = expf(x);
    out[6 * i + 2] = logf(fabsf(x) + 1.0f);
    out[6 * i + 3] = x / 3.0f;
    out[6 * i + 4] = rsqrtf(fabsf(x) + 1.0f);
    out[6 * i + 5] = (float)(int)(x * 100.0f);
}

extern "C" __global__ void device_printf(int base)
{
    if (threadIdx.x < 3)
        printf("thread %d: %d %u 0x%x %.2f %s %c %lld|\n", threadIdx.x, base + (int)threadIdx.x, 7u, 255,
               1.5 * threadIdx.x, "str", 'A' + (int)threadIdx.x, -1234567890123ll);
}

// Every lane of a warp takes the same lock: needs independent thread scheduling.
extern "C" __global__ void warp_spinlock(int *lock, int *counter)
{
    bool done = false;
    while (!done) {
        if (atomicCAS(lock, 0, 1) == 0) {
            int v = *(volatile int *)counter;
            *(volatile int *)counter = v + 1;
            __threadfence();
            atomicExch(lock, 0);
            done = true;
        }
    }
}

extern "C" __global__ void divergent_syncwarp(int *out)
{
    __shared__ int s[32];
    int lane = threadIdx.x & 31;
    if (lane < 16) {
        s[lane] = lane;
        __syncwarp();
        out[lane] = s[lane + 16];
    } else {
        s[lane] = lane * 10;
        __syncwarp();
        out[lane] = s[lane - 16];
    }
}

__device__ __noinline__ int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

extern "C" __global__ void recursion(int *out)
{
    out[threadIdx.x] = fib(threadIdx.x % 12);
}

extern "C" __global__ void assert_kernel(int v)
{
    assert(v == 42);
}

// Chained scan: block b waits for block b-1's prefix (decoupled look-back style).
extern "C" __global__ void chained_sum(const int *in, volatile int *prefix, volatile int *flags, int *out)
{
    __shared__ int total;
    int b = blockIdx.x;
    if (threadIdx.x == 0) total = 0;
    __syncthreads();
    atomicAdd(&total, in[b * blockDim.x + threadIdx.x]);
    __syncthreads();
    if (threadIdx.x == 0) {
        int before = 0;
        if (b > 0) {
            while (flags[b - 1] == 0) {}
            before = prefix[b - 1];
        }
        prefix[b] = before + total;
        __threadfence();
        flags[b] = 1;
        out[b] = before + total;
    }
}

__device__ int g_counter;
__device__ int *g_ptr = &g_counter;
__constant__ int c_table[4] = {10, 20, 30, 40};

extern "C" __global__ void globals(int *out)
{
    atomicAdd(g_ptr, c_table[threadIdx.x & 3]);
    __syncthreads();
    if (threadIdx.x == 0) out[0] = *g_ptr;
}

extern "C" __global__ void local_array(const int *in, int *out)
{
    int a[32];
    for (int i = 0; i < 32; i++) a[i] = in[i] * (int)threadIdx.x;
    out[threadIdx.x] = a[(threadIdx.x * 7) & 31];
}

extern "C" __global__ void empty_kernel() {}

extern "C" __global__ void arith_loop(float *out, int iters)
{
    float a = threadIdx.x, b = 1.0f;
    unsigned x = threadIdx.x;
    for (int i = 0; i < iters; i++) {
        a = a * 0.999f + b;
        x = x * 1664525u + 1013904223u;
        b = b + (float)(x >> 28);
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = a + b;
}

// CUB block-level primitives: 128 threads x 4 items.
extern "C" __global__ void cub_block_sort(int *data)
{
    typedef cub::BlockRadixSort<int, 128, 4> Sort;
    __shared__ typename Sort::TempStorage tmp;
    int items[4];
    for (int i = 0; i < 4; i++) items[i] = data[blockIdx.x * 512 + threadIdx.x * 4 + i];
    Sort(tmp).Sort(items);
    for (int i = 0; i < 4; i++) data[blockIdx.x * 512 + threadIdx.x * 4 + i] = items[i];
}

extern "C" __global__ void cub_block_scan_reduce(const int *in, int *scan, int *sums, float *wsum)
{
    typedef cub::BlockScan<int, 128> Scan;
    typedef cub::BlockReduce<int, 128> Reduce;
    typedef cub::WarpReduce<float> WarpRed;
    __shared__ typename Scan::TempStorage ts;
    __shared__ typename Reduce::TempStorage tr;
    __shared__ typename WarpRed::TempStorage tw[4];
    int v = in[blockIdx.x * 128 + threadIdx.x], out;
    Scan(ts).ExclusiveSum(v, out);
    scan[blockIdx.x * 128 + threadIdx.x] = out;
    int total = Reduce(tr).Reduce(v, ::cuda::maximum<>());
    if (threadIdx.x == 0) sums[blockIdx.x] = total;
    float w = WarpRed(tw[threadIdx.x / 32]).Sum((float)v * 0.5f);
    if ((threadIdx.x & 31) == 0) wsum[blockIdx.x * 4 + threadIdx.x / 32] = w;
}

extern "C" __global__ void cp_async_copy(const int4 *in, int *out)
{
    __shared__ int4 s[64];
    __pipeline_memcpy_async(&s[threadIdx.x], &in[blockIdx.x * 64 + threadIdx.x], sizeof(int4));
    __pipeline_commit();
    __pipeline_wait_prior(0);
    __syncthreads();
    int4 v = s[63 - threadIdx.x];
    out[blockIdx.x * 64 + threadIdx.x] = v.x + v.y + v.z + v.w;
}

// Warp-aggregated ranking (as in CUB's radix rank): the leader of each group of
// equal keys does the atomic, the others skip ahead to the shuffle that must
// wait for it. Regression test for running a .sync collective early.
extern "C" __global__ void warp_rank(const int *keys, int *rank, int iters)
{
    __shared__ int cnt[16];
    unsigned lane = threadIdx.x;
    if (lane < 16) cnt[lane] = 0;
    __syncwarp();
    for (int it = 0; it < iters; it++) {
        int k = keys[it * 32 + lane] & 15;
        unsigned peers = 0xffffffffu;
        for (int bit = 0; bit < 4; bit++) {
            unsigned b = __ballot_sync(0xffffffffu, (k >> bit) & 1);
            peers &= ((k >> bit) & 1) ? b : ~b;
        }
        int leader = 31 - __clz(peers);
        int base = 0;
        if ((int)lane == leader) base = atomicAdd(&cnt[k], __popc(peers));
        base = __shfl_sync(0xffffffffu, base, leader);
        rank[it * 32 + lane] = base + __popc(peers & ((1u << lane) - 1));
    }
}

namespace cg = cooperative_groups;

// Cooperative groups: tiled partitions, cg::reduce, coalesced groups in divergent code.
extern "C" __global__ void coop_groups(const int *in, int *out)
{
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<16> tile = cg::tiled_partition<16>(block);
    int v = in[block.thread_rank()];
    int s = cg::reduce(tile, v, cg::plus<int>());
    if (tile.thread_rank() == 0) out[block.thread_rank() / 16] = s;
    if (v & 1) {
        cg::coalesced_group odd = cg::coalesced_threads();
        int m = cg::reduce(odd, v, cg::greater<int>());
        out[64 + block.thread_rank()] = m * 1000 + (int)odd.size();
    }
    block.sync();
    int x = tile.shfl_up(v, 1);
    out[128 + block.thread_rank()] = x;
}

// f64 atomics, warp scan with shfl_up, 2-D stencil with shared halo.
extern "C" __global__ void misc_kernels(const double *in, double *sum, int *scan, float *st, const float *src, int w)
{
    atomicAdd(sum, in[threadIdx.x]);
    int lane = threadIdx.x & 31, v = threadIdx.x + 1;
    for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += y;
    }
    scan[threadIdx.x] = v;
    __shared__ float tile[10][10];
    int tx = threadIdx.x % 8, ty = threadIdx.x / 8;
    if (threadIdx.x < 64) {
        tile[ty + 1][tx + 1] = src[(ty + 1) * w + tx + 1];
        if (tx == 0) tile[ty + 1][0] = src[(ty + 1) * w];
        if (tx == 7) tile[ty + 1][9] = src[(ty + 1) * w + 9];
        if (ty == 0) tile[0][tx + 1] = src[tx + 1];
        if (ty == 7) tile[9][tx + 1] = src[9 * w + tx + 1];
    }
    __syncthreads();
    if (threadIdx.x < 64)
        st[ty * 8 + tx] = tile[ty][tx + 1] + tile[ty + 2][tx + 1] + tile[ty + 1][tx] + tile[ty + 1][tx + 2] -
                          4 * tile[ty + 1][tx + 1];
}
extern "C" __global__ void dev_malloc(int **ptrs, int *out)
{
    int *p = (int *)malloc(64 * sizeof(int));
    ptrs[threadIdx.x] = p;
    if (!p) { out[threadIdx.x] = -1; return; }
    for (int i = 0; i < 64; i++) p[i] = threadIdx.x + i;
    int s = 0;
    for (int i = 0; i < 64; i++) s += p[i];
    out[threadIdx.x] = s;
    free(p);
}

// cuda::barrier (mbarrier) with memcpy_async completing on it.
extern "C" __global__ void mbarrier_copy(const int *in, int *out)
{
    __shared__ int s[128];
#pragma nv_diag_suppress static_var_with_dynamic_init
    __shared__ cuda::barrier<cuda::thread_scope_block> bar;
    auto block = cg::this_thread_block();
    if (block.thread_rank() == 0) init(&bar, block.size());
    block.sync();
    cuda::memcpy_async(block, s, in + blockIdx.x * 128, sizeof(int) * 128, bar);
    bar.arrive_and_wait();
    out[blockIdx.x * 128 + threadIdx.x] = s[127 - threadIdx.x] * 2;
    for (int i = 0; i < 3; i++) {
        if (threadIdx.x == i) s[i] = i * 100;
        auto t = bar.arrive();
        bar.wait(std::move(t));
        out[256 + blockIdx.x * 128 + threadIdx.x] += s[i];
    }
}

// Tensor-core fragments (wmma): f16 x f16 -> f32 and s8 x s8 -> s32, with an
// elementwise operation on the accumulator fragment.
extern "C" __global__ void wmma_gemm(const half *a, const half *b, const float *c, float *d, const signed char *ia,
                                     const signed char *ib, int *id)
{
    using namespace nvcuda;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, b, 16);
    wmma::load_matrix_sync(fc, c, 16, wmma::mem_col_major);
    wmma::mma_sync(fc, fa, fb, fc);
    for (int i = 0; i < fc.num_elements; i++) fc.x[i] *= 2.0f;
    wmma::store_matrix_sync(d, fc, 16, wmma::mem_row_major);
    wmma::fragment<wmma::matrix_a, 16, 16, 16, signed char, wmma::row_major> ja;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, signed char, wmma::row_major> jb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, int> jc;
    wmma::fill_fragment(jc, 5);
    wmma::load_matrix_sync(ja, ia, 16);
    wmma::load_matrix_sync(jb, ib, 16);
    wmma::mma_sync(jc, ja, jb, jc);
    wmma::store_matrix_sync(id, jc, 16, wmma::mem_row_major);
}

// mma.sync m16n8k16 (f16 -> f32) fed by ldmatrix from shared memory, with the
// fragment layouts of the PTX ISA; C is written out element by element.
extern "C" __global__ void mma_ldmatrix(const half *a, const half *b, float *c)
{
    __shared__ __align__(16) half sa[16 * 16], sb[8 * 16]; /* A row-major 16x16, B^T row-major 8x16 */
    unsigned lane = threadIdx.x;
    for (int i = lane; i < 256; i += 32) sa[i] = a[i];
    for (int i = lane; i < 128; i += 32) sb[i] = b[i];
    __syncwarp();
    unsigned a0, a1, a2, a3, b0, b1;
    /* x4: tiles (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15) */
    unsigned tile = lane / 8, row = (lane % 8) + 8 * (tile & 1), col = 8 * (tile >> 1);
    unsigned pa = (unsigned)__cvta_generic_to_shared(&sa[row * 16 + col]);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(a0), "=r"(a1), "=r"(a2), "=r"(a3) : "r"(pa));
    /* x2 of B^T (n rows, k cols): tiles k 0-7 and k 8-15 */
    unsigned pb = (unsigned)__cvta_generic_to_shared(&sb[(lane % 8) * 16 + 8 * ((lane / 8) & 1)]);
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];" : "=r"(b0), "=r"(b1) : "r"(pb));
    float d0 = 1, d1 = 1, d2 = 1, d3 = 1;
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};"
                 : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    unsigned g = lane / 4, t = lane % 4;
    c[g * 8 + 2 * t] = d0;
    c[g * 8 + 2 * t + 1] = d1;
    c[(g + 8) * 8 + 2 * t] = d2;
    c[(g + 8) * 8 + 2 * t + 1] = d3;
}

// SIMD-within-a-word intrinsics: packed 16-bit integer ops and video SIMD.
extern "C" __global__ void simd_intrinsics(unsigned *o, const unsigned *a, const unsigned *b)
{
    int i = threadIdx.x;
    o[i * 8 + 0] = __vmaxs2(a[i], b[i]);
    o[i * 8 + 1] = __vminu2(a[i], b[i]);
    o[i * 8 + 2] = __vadd2(a[i], b[i]);
    o[i * 8 + 3] = __vabsdiffu4(a[i], b[i]);
    o[i * 8 + 4] = __vsads2(a[i], b[i]);
    o[i * 8 + 5] = __viaddmax_s32(a[i], b[i], 5);
    o[i * 8 + 6] = __vimax3_s16x2_relu(a[i], b[i], 7);
    o[i * 8 + 7] = __vsub4(a[i], b[i]);
}
