/* test_kernels.c — CUDA C kernels (kernels.cu, compiled by nvcc to PTX at
 * build time) run through the PTX interpreter and checked against CPU
 * references: reductions, shuffles, tiled matmul, histogram, scan, sort,
 * fp16/f32/f64 math, printf, spin locks, __syncwarp, recursion, assert. */
#include "ptx_util.h"

#include <math.h>

static char *g_src;
static size_t g_len;

static int load(pu_env *e)
{
    if (!g_src) {
        const char *path = getenv("PTX_KERNELS") ? getenv("PTX_KERNELS") : PTX_KERNELS_FILE;
        FILE *f = fopen(path, "rb");
        if (!f) return -1;
        fseek(f, 0, SEEK_END);
        g_len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        g_src = malloc(g_len + 1);
        if (fread(g_src, 1, g_len, f) != g_len) g_len = 0;
        g_src[g_len] = 0;
        fclose(f);
    }
    return pu_load(e, g_src);
}

#define SETUP()                                                                                    \
    pu_env *e = calloc(1, sizeof *e);                                                              \
    if (load(e)) {                                                                                 \
        free(e);                                                                                   \
        RG_FAIL("cannot load %s", PTX_KERNELS_FILE);                                               \
    }

#define TEARDOWN() (pu_free(e), free(e))

#define RUN_OK(...)                                                                                \
    do {                                                                                           \
        enum ptx_status st_ = pu_run(e, __VA_ARGS__);                                              \
        if (st_) {                                                                                 \
            fprintf(stderr, "  fault: %s\n", e->fault.message);                                    \
            TEARDOWN();                                                                            \
            RG_FAIL("run: %s", ptx_status_name(st_));                                              \
        }                                                                                          \
    } while (0)

RG_TEST(reduce_smem)
{
    SETUP();
    int n = 4000, nb = (n + 255) / 256;
    float *in = pu_alloc(e, n * 4), *out = pu_alloc(e, nb * 4);
    for (int i = 0; i < n; i++)
        in[i] = (float)(i % 17);
    struct {
        float *in, *out;
        int n;
    } p = {in, out, n};
    RUN_OK("reduce_smem", nb, 256, 0, &p, sizeof p);
    for (int b = 0; b < nb; b++) {
        float ref = 0;
        for (int i = b * 256; i < n && i < b * 256 + 256; i++)
            ref += in[i];
        if (out[b] != ref) {
            TEARDOWN();
            RG_FAIL("block %d: %f != %f", b, out[b], ref);
        }
    }
    TEARDOWN();
}

RG_TEST(warp_shuffle_reduce)
{
    SETUP();
    int n = 1000;
    int *in = pu_alloc(e, n * 4), *out = pu_alloc(e, 8);
    long ref = 0;
    for (int i = 0; i < n; i++)
        in[i] = i * 3 - 7, ref += in[i];
    struct {
        int *in, *out;
        int n;
    } p = {in, out, n};
    RUN_OK("warp_reduce", 8, 128, 0, &p, sizeof p);
    CHECK_EQ_INT(out[0], ref);
    TEARDOWN();
}

RG_TEST(matmul_tiled)
{
    SETUP();
    int N = 50;
    float *A = pu_alloc(e, N * N * 4), *B = pu_alloc(e, N * N * 4), *C = pu_alloc(e, N * N * 4);
    for (int i = 0; i < N * N; i++)
        A[i] = (float)(i % 7) - 3, B[i] = (float)(i % 5) * 0.5f;
    struct {
        float *A, *B, *C;
        int N;
    } p = {A, B, C, N};
    unsigned g[3] = {4, 4, 1}, bl[3] = {16, 16, 1};
    enum ptx_status st = pu_run3(e, "matmul_tiled", g, bl, 0, &p, sizeof p);
    CHECK_EQ_INT(st, PTX_OK);
    for (int r = 0; r < N; r++)
        for (int c = 0; c < N; c++) {
            float ref = 0;
            for (int k = 0; k < N; k++)
                ref += A[r * N + k] * B[k * N + c];
            if (fabsf(C[r * N + c] - ref) > 1e-3f) {
                TEARDOWN();
                RG_FAIL("C[%d][%d] = %f, expected %f", r, c, C[r * N + c], ref);
            }
        }
    TEARDOWN();
}

RG_TEST(histogram_atomics)
{
    SETUP();
    int n = 100000;
    unsigned char *in = pu_alloc(e, n);
    unsigned *hist = pu_alloc(e, 256 * 4), ref[256] = {0};
    for (int i = 0; i < n; i++)
        in[i] = (unsigned char)((i * 2654435761u) >> 24), ref[in[i]]++;
    struct {
        unsigned char *in;
        int n;
        unsigned *h;
    } p = {in, n, hist};
    RUN_OK("histogram", 16, 128, 0, &p, sizeof p);
    for (int i = 0; i < 256; i++)
        CHECK_EQ_INT(hist[i], ref[i]);
    TEARDOWN();
}

RG_TEST(scan)
{
    SETUP();
    int *in = pu_alloc(e, 4 * 1024), *out = pu_alloc(e, 4 * 1024);
    for (int i = 0; i < 1024; i++)
        in[i] = (i * 7) % 13 - 6;
    struct {
        int *in, *out;
    } p = {in, out};
    RUN_OK("scan_block", 2, 512, 0, &p, sizeof p);
    for (int b = 0; b < 2; b++) {
        int acc = 0;
        for (int i = 0; i < 512; i++) {
            acc += in[b * 512 + i];
            CHECK_EQ_INT(out[b * 512 + i], acc);
        }
    }
    TEARDOWN();
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

RG_TEST(bitonic_sort_dynamic_smem)
{
    SETUP();
    int n = 1024, ref[1024];
    int *d = pu_alloc(e, n * 4);
    for (int i = 0; i < n; i++)
        d[i] = ref[i] = (int)((i * 2654435761u) % 100000);
    qsort(ref, n, 4, cmp_int);
    struct {
        int *d;
    } p = {d};
    RUN_OK("bitonic_sort", 1, 512, n * 4, &p, sizeof p);
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(d[i], ref[i]);
    TEARDOWN();
}

RG_TEST(half_math)
{
    SETUP();
    int n = 64;
    float *a = pu_alloc(e, n * 4), *b = pu_alloc(e, n * 4), *out = pu_alloc(e, n * 8);
    for (int i = 0; i < n; i++)
        a[i] = (float)i * 0.25f - 4, b[i] = (float)(i % 9) * 0.125f;
    struct {
        float *a, *b, *o;
        int n;
    } p = {a, b, out, n};
    RUN_OK("half_math", 2, 32, 0, &p, sizeof p);
    for (int i = 0; i < n; i++) {
        _Float16 x = (_Float16)a[i], y = (_Float16)b[i];
        _Float16 lo = (_Float16)((_Float16)(x + x) * x), hi = (_Float16)((_Float16)(y + y) * y);
        float z = (float)(_Float16)((float)lo * (float)hi + 1.0f);
        CHECK(fabsf(out[2 * i] - z) <= fabsf(z) * 2e-3f + 1e-3f);
        CHECK(fabsf(out[2 * i + 1] - sqrtf(fabsf(a[i]))) < 4e-3f);
    }
    TEARDOWN();
}

static int close_ulp(double a, double b, double ulps)
{
    if (a == b) return 1;
    return fabs(a - b) <= ulps * fabs(b) * 2.3e-16 + 1e-300;
}

RG_TEST(f64_math_vs_libm)
{
    SETUP();
    int n = 96;
    double *in = pu_alloc(e, n * 8), *out = pu_alloc(e, n * 64);
    for (int i = 0; i < n; i++)
        in[i] = (i - 48) * 0.37 + 0.001 * i;
    struct {
        double *in, *out;
        int n;
    } p = {in, out, n};
    RUN_OK("f64_math", 3, 32, 0, &p, sizeof p);
    for (int i = 0; i < n; i++) {
        double x = in[i], ref[8] = {sin(x),           cos(x),        exp(x),
                                    log(fabs(x) + 1), sqrt(fabs(x)), pow(fabs(x), 1.5),
                                    atan2(x, 2.0),    tanh(x)};
        for (int k = 0; k < 8; k++)
            if (!close_ulp(out[8 * i + k], ref[k], 4) && fabs(out[8 * i + k] - ref[k]) > 1e-15) {
                TEARDOWN();
                RG_FAIL("x=%g fn %d: %.17g vs %.17g", x, k, out[8 * i + k], ref[k]);
            }
    }
    TEARDOWN();
}

RG_TEST(f32_math)
{
    SETUP();
    int n = 64;
    float *in = pu_alloc(e, n * 4), *out = pu_alloc(e, n * 24);
    for (int i = 0; i < n; i++)
        in[i] = (i - 32) * 0.71f;
    struct {
        float *in, *out;
        int n;
    } p = {in, out, n};
    RUN_OK("f32_math", 2, 32, 0, &p, sizeof p);
    for (int i = 0; i < n; i++) {
        float x = in[i];
        CHECK(fabsf(out[6 * i] - sinf(x)) < 1e-6f);
        CHECK(fabsf(out[6 * i + 1] - expf(x)) <= expf(x) * 1e-6f);
        CHECK(fabsf(out[6 * i + 2] - logf(fabsf(x) + 1)) < 1e-6f);
        CHECK(out[6 * i + 3] == x / 3.0f);
        CHECK(fabsf(out[6 * i + 4] - 1 / sqrtf(fabsf(x) + 1)) < 1e-6f);
        CHECK(out[6 * i + 5] == (float)(int)(x * 100.0f));
    }
    TEARDOWN();
}

RG_TEST(device_printf)
{
    SETUP();
    struct {
        int base;
    } p = {100};
    RUN_OK("device_printf", 1, 8, 0, &p, sizeof p);
    CHECK_STR(e->out, "thread 0: 100 7 0xff 0.00 str A -1234567890123|\n"
                      "thread 1: 101 7 0xff 1.50 str B -1234567890123|\n"
                      "thread 2: 102 7 0xff 3.00 str C -1234567890123|\n");
    TEARDOWN();
}

RG_TEST(warp_spinlock)
{
    SETUP();
    int *lock = pu_alloc(e, 4), *counter = pu_alloc(e, 4);
    struct {
        int *l, *c;
    } p = {lock, counter};
    RUN_OK("warp_spinlock", 4, 64, 0, &p, sizeof p);
    CHECK_EQ_INT(*counter, 256);
    TEARDOWN();
}

RG_TEST(divergent_syncwarp)
{
    SETUP();
    int *out = pu_alloc(e, 32 * 4);
    struct {
        int *o;
    } p = {out};
    RUN_OK("divergent_syncwarp", 1, 32, 0, &p, sizeof p);
    for (int l = 0; l < 32; l++)
        CHECK_EQ_INT(out[l], l < 16 ? (l + 16) * 10 : l - 16);
    TEARDOWN();
}

RG_TEST(recursion)
{
    SETUP();
    int *out = pu_alloc(e, 64 * 4), f[12] = {0, 1};
    for (int i = 2; i < 12; i++)
        f[i] = f[i - 1] + f[i - 2];
    struct {
        int *o;
    } p = {out};
    RUN_OK("recursion", 1, 64, 0, &p, sizeof p);
    for (int i = 0; i < 64; i++)
        CHECK_EQ_INT(out[i], f[i % 12]);
    TEARDOWN();
}

RG_TEST(assert_fails)
{
    SETUP();
    struct {
        int v;
    } p = {42};
    CHECK_EQ_INT(pu_run(e, "assert_kernel", 2, 32, 0, &p, sizeof p), PTX_OK);
    p.v = 1;
    enum ptx_status st = pu_run(e, "assert_kernel", 2, 32, 0, &p, sizeof p);
    int ok = st == PTX_ERR_ASSERT && strstr(e->fault.message, "v == 42");
    if (!ok) fprintf(stderr, "  %s: %s\n", ptx_status_name(st), e->fault.message);
    TEARDOWN();
    CHECK(ok);
}

RG_TEST(chained_blocks_lookback)
{
    SETUP();
    int nb = 64;
    int *in = pu_alloc(e, nb * 32 * 4), *prefix = pu_alloc(e, nb * 4), *flags = pu_alloc(e, nb * 4),
        *out = pu_alloc(e, nb * 4);
    for (int i = 0; i < nb * 32; i++)
        in[i] = i % 5;
    struct {
        int *in, *prefix, *flags, *out;
    } p = {in, prefix, flags, out};
    RUN_OK("chained_sum", nb, 32, 0, &p, sizeof p);
    int acc = 0;
    for (int b = 0; b < nb; b++) {
        for (int t = 0; t < 32; t++)
            acc += in[b * 32 + t];
        CHECK_EQ_INT(out[b], acc);
    }
    TEARDOWN();
}

RG_TEST(module_globals)
{
    SETUP();
    int *out = pu_alloc(e, 4);
    struct {
        int *o;
    } p = {out};
    RUN_OK("globals", 1, 8, 0, &p, sizeof p);
    CHECK_EQ_INT(*out, 2 * (10 + 20 + 30 + 40));
    TEARDOWN();
}

RG_TEST(local_arrays)
{
    SETUP();
    int *in = pu_alloc(e, 32 * 4), *out = pu_alloc(e, 64 * 4);
    for (int i = 0; i < 32; i++)
        in[i] = i + 1;
    struct {
        int *in, *out;
    } p = {in, out};
    RUN_OK("local_array", 1, 64, 0, &p, sizeof p);
    for (int t = 0; t < 64; t++)
        CHECK_EQ_INT(out[t], in[(t * 7) & 31] * t);
    TEARDOWN();
}

RG_TEST(arith_loop)
{
    SETUP();
    float *out = pu_alloc(e, 256 * 4);
    struct {
        float *o;
        int iters;
    } p = {out, 100};
    RUN_OK("arith_loop", 2, 128, 0, &p, sizeof p);
    for (int t = 0; t < 256; t++) {
        float a = (float)(t % 128), b = 1.0f;
        unsigned x = (unsigned)(t % 128);
        for (int i = 0; i < 100; i++) {
            a = fmaf(a, 0.999f, b);
            x = x * 1664525u + 1013904223u;
            b = b + (float)(x >> 28);
        }
        if (fabsf(out[t] - (a + b)) > fabsf(a + b) * 1e-5f) { /* -G code does not contract to fma */
            TEARDOWN();
            RG_FAIL("thread %d: %f != %f", t, out[t], a + b);
        }
    }
    TEARDOWN();
}

RG_TEST(cub_block_radix_sort)
{
    SETUP();
    int nb = 3, *d = pu_alloc(e, nb * 512 * 4), ref[512];
    for (int i = 0; i < nb * 512; i++)
        d[i] = (int)((i * 2654435761u) >> 7) - (1 << 24);
    struct {
        int *d;
    } p = {d};
    int *copy = malloc(nb * 512 * 4);
    memcpy(copy, d, nb * 512 * 4);
    RUN_OK("cub_block_sort", nb, 128, 0, &p, sizeof p);
    for (int b = 0; b < nb; b++) {
        memcpy(ref, copy + b * 512, sizeof ref);
        qsort(ref, 512, 4, cmp_int);
        for (int i = 0; i < 512; i++)
            if (d[b * 512 + i] != ref[i]) {
                free(copy);
                TEARDOWN();
                RG_FAIL("block %d item %d: %d != %d", b, i, d[b * 512 + i], ref[i]);
            }
    }
    free(copy);
    TEARDOWN();
}

RG_TEST(cub_block_scan_reduce)
{
    SETUP();
    int nb = 4;
    int *in = pu_alloc(e, nb * 128 * 4), *scan = pu_alloc(e, nb * 128 * 4),
        *sums = pu_alloc(e, nb * 4);
    float *ws = pu_alloc(e, nb * 4 * 4);
    for (int i = 0; i < nb * 128; i++)
        in[i] = (i * 37) % 101 - 50;
    struct {
        int *in, *scan, *sums;
        float *ws;
    } p = {in, scan, sums, ws};
    RUN_OK("cub_block_scan_reduce", nb, 128, 0, &p, sizeof p);
    for (int b = 0; b < nb; b++) {
        int acc = 0, mx = -1000;
        for (int t = 0; t < 128; t++) {
            CHECK_EQ_INT(scan[b * 128 + t], acc);
            acc += in[b * 128 + t];
            if (in[b * 128 + t] > mx) mx = in[b * 128 + t];
        }
        CHECK_EQ_INT(sums[b], mx);
        for (int w = 0; w < 4; w++) {
            float s = 0;
            for (int t = 0; t < 32; t++)
                s += in[b * 128 + w * 32 + t] * 0.5f;
            CHECK(ws[b * 4 + w] == s);
        }
    }
    TEARDOWN();
}

RG_TEST(cp_async)
{
    SETUP();
    int *in = pu_alloc(e, 2 * 64 * 16), *out = pu_alloc(e, 2 * 64 * 4);
    for (int i = 0; i < 2 * 64 * 4; i++)
        in[i] = i;
    struct {
        int *in, *out;
    } p = {in, out};
    RUN_OK("cp_async_copy", 2, 64, 0, &p, sizeof p);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 64; t++) {
            int s = b * 64 + 63 - t;
            CHECK_EQ_INT(out[b * 64 + t],
                         in[4 * s] + in[4 * s + 1] + in[4 * s + 2] + in[4 * s + 3]);
        }
    TEARDOWN();
}

RG_TEST(warp_rank_leader_shuffle)
{
    SETUP();
    int iters = 200, cnt[16] = {0};
    int *keys = pu_alloc(e, iters * 32 * 4), *rank = pu_alloc(e, iters * 32 * 4);
    for (int i = 0; i < iters * 32; i++)
        keys[i] = (int)((i * 2654435761u) >> 13);
    struct {
        int *k, *r;
        int iters;
    } p = {keys, rank, iters};
    RUN_OK("warp_rank", 1, 32, 0, &p, sizeof p);
    for (int i = 0; i < iters * 32; i++)
        if (rank[i] != cnt[keys[i] & 15]++) {
            TEARDOWN();
            RG_FAIL("item %d: rank %d", i, rank[i]);
        }
    TEARDOWN();
}

RG_TEST(cooperative_groups)
{
    SETUP();
    int *in = pu_alloc(e, 64 * 4), *out = pu_alloc(e, 192 * 4);
    for (int i = 0; i < 64; i++)
        in[i] = (i * 7) % 23;
    struct {
        int *in, *out;
    } p = {in, out};
    RUN_OK("coop_groups", 1, 64, 0, &p, sizeof p);
    for (int t = 0; t < 4; t++) {
        int s = 0;
        for (int i = 0; i < 16; i++)
            s += in[t * 16 + i];
        CHECK_EQ_INT(out[t], s);
    }
    for (int t = 0; t < 64; t++) {
        if (in[t] & 1) {
            int w = t / 32, mx = 0, cnt = 0;
            for (int i = w * 32; i < w * 32 + 32; i++)
                if (in[i] & 1) cnt++, mx = in[i] > mx ? in[i] : mx;
            CHECK_EQ_INT(out[64 + t], mx * 1000 + cnt);
        }
        CHECK_EQ_INT(out[128 + t], t % 16 ? in[t - 1] : in[t]);
    }
    TEARDOWN();
}

RG_TEST(f64_atomics_warp_scan_stencil)
{
    SETUP();
    int w = 10;
    double *in = pu_alloc(e, 96 * 8), *sum = pu_alloc(e, 8);
    int *scan = pu_alloc(e, 96 * 4);
    float *st = pu_alloc(e, 64 * 4), *src = pu_alloc(e, 100 * 4);
    double ref = 0;
    for (int i = 0; i < 96; i++)
        in[i] = i * 0.25, ref += in[i];
    for (int i = 0; i < 100; i++)
        src[i] = (float)((i * 13) % 17);
    struct {
        double *in, *sum;
        int *scan;
        float *st, *src;
        int w;
    } p = {in, sum, scan, st, src, w};
    RUN_OK("misc_kernels", 1, 96, 0, &p, sizeof p);
    CHECK(*sum == ref);
    for (int t = 0; t < 96; t++) {
        int base = t / 32 * 32, s = 0;
        for (int i = base; i <= t; i++)
            s += i + 1;
        CHECK_EQ_INT(scan[t], s);
    }
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) {
            float c = src[(y + 1) * w + x + 1];
            float r = src[y * w + x + 1] + src[(y + 2) * w + x + 1] + src[(y + 1) * w + x] +
                      src[(y + 1) * w + x + 2] - 4 * c;
            CHECK(st[y * 8 + x] == r);
        }
    TEARDOWN();
}

RG_TEST(device_malloc_free)
{
    SETUP();
    int **ptrs = pu_alloc(e, 64 * 8), *out = pu_alloc(e, 64 * 4);
    struct {
        int **p;
        int *o;
    } p = {ptrs, out};
    /* without a heap, malloc returns NULL */
    RUN_OK("dev_malloc", 1, 64, 0, &p, sizeof p);
    for (int t = 0; t < 64; t++)
        CHECK_EQ_INT(out[t], -1);
    size_t hsz = 2 * 64 * 256 + 64; /* both blocks may hold all their blocks at once */
    void *hmem = pu_alloc(e, hsz);
    ptx_heap *h = ptx_heap_create(hmem, hsz);
    const ptx_kernel *k = ptx_module_find_kernel(e->m, "dev_malloc");
    ptx_launch l = {.kernel = k,
                    .var_addrs = e->vars,
                    .grid = {2, 1, 1},
                    .block = {64, 1, 1},
                    .params = &p,
                    .params_size = sizeof p,
                    .mem = &e->map,
                    .heap = h};
    CHECK_EQ_INT(ptx_run(&l, &e->fault), PTX_OK);
    for (int t = 0; t < 64; t++) {
        CHECK_EQ_INT(out[t], 64 * t + 63 * 64 / 2);
        CHECK((uintptr_t)ptrs[t] >= (uintptr_t)hmem &&
              (uintptr_t)ptrs[t] + 256 <= (uintptr_t)hmem + hsz);
    }
    CHECK_EQ_INT(ptx_heap_used(h), 0);
    ptx_heap_destroy(h);
    TEARDOWN();
}

RG_TEST(mbarrier_memcpy_async)
{
    SETUP();
    int *in = pu_alloc(e, 256 * 4), *out = pu_alloc(e, 512 * 4);
    for (int i = 0; i < 256; i++)
        in[i] = i * 3 + 1;
    struct {
        int *in, *out;
    } p = {in, out};
    RUN_OK("mbarrier_copy", 2, 128, 0, &p, sizeof p);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 128; t++) {
            CHECK_EQ_INT(out[b * 128 + t], in[b * 128 + 127 - t] * 2);
            CHECK_EQ_INT(out[256 + b * 128 + t], 0 + 100 + 200);
        }
    TEARDOWN();
}

RG_TEST(wmma_tensor_fragments)
{
    SETUP();
    _Float16 *a = pu_alloc(e, 256 * 2), *b = pu_alloc(e, 256 * 2);
    float *c = pu_alloc(e, 256 * 4), *d = pu_alloc(e, 256 * 4);
    signed char *ia = pu_alloc(e, 256), *ib = pu_alloc(e, 256);
    int *id = pu_alloc(e, 256 * 4);
    for (int i = 0; i < 256; i++) {
        a[i] = (_Float16)((i % 7) - 3), b[i] = (_Float16)((i % 5) * 0.5f), c[i] = (float)(i % 3);
        ia[i] = (signed char)((i * 7) % 11 - 5), ib[i] = (signed char)((i * 3) % 13 - 6);
    }
    struct {
        void *a, *b, *c, *d, *ia, *ib, *id;
    } p = {a, b, c, d, ia, ib, id};
    RUN_OK("wmma_gemm", 1, 32, 0, &p, sizeof p);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            float acc = c[j * 16 + i]; /* C loaded column-major */
            int iacc = 5;
            for (int k = 0; k < 16; k++) {
                acc += (float)a[i * 16 + k] * (float)b[j * 16 + k]; /* B column-major */
                iacc += ia[i * 16 + k] * ib[k * 16 + j];
            }
            CHECK(fabsf(d[i * 16 + j] - 2 * acc) < 1e-3f);
            CHECK_EQ_INT(id[i * 16 + j], iacc);
        }
    TEARDOWN();
}

RG_TEST(mma_sync_ldmatrix)
{
    SETUP();
    _Float16 *a = pu_alloc(e, 256 * 2), *b = pu_alloc(e, 128 * 2);
    float *c = pu_alloc(e, 128 * 4);
    for (int i = 0; i < 256; i++)
        a[i] = (_Float16)((i * 5) % 9 - 4);
    for (int i = 0; i < 128; i++)
        b[i] = (_Float16)((i * 3) % 7 * 0.25f); /* b[n * 16 + k] */
    struct {
        void *a, *b, *c;
    } p = {a, b, c};
    RUN_OK("mma_ldmatrix", 1, 32, 0, &p, sizeof p);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 8; j++) {
            float acc = 1;
            for (int k = 0; k < 16; k++)
                acc += (float)a[i * 16 + k] * (float)b[j * 16 + k];
            if (c[i * 8 + j] != acc) {
                TEARDOWN();
                RG_FAIL("C[%d][%d] = %f, expected %f", i, j, c[i * 8 + j], acc);
            }
        }
    TEARDOWN();
}

static int16_t h16(uint32_t v, int k)
{
    return (int16_t)(v >> (16 * k));
}
static uint16_t u16(uint32_t v, int k)
{
    return (uint16_t)(v >> (16 * k));
}
static uint8_t u8_(uint32_t v, int k)
{
    return (uint8_t)(v >> (8 * k));
}

RG_TEST(simd_intrinsics)
{
    SETUP();
    unsigned *o = pu_alloc(e, 32 * 32), *a = pu_alloc(e, 32 * 4), *b = pu_alloc(e, 32 * 4);
    for (int i = 0; i < 32; i++)
        a[i] = 0x9e3779b9u * (unsigned)(i + 1), b[i] = 0x85ebca6bu * (unsigned)(i + 7);
    struct {
        unsigned *o, *a, *b;
    } p = {o, a, b};
    RUN_OK("simd_intrinsics", 1, 32, 0, &p, sizeof p);
    for (int i = 0; i < 32; i++) {
        uint32_t x = a[i], y = b[i], r[8] = {0};
        int sad = 0;
        for (int k = 0; k < 2; k++) {
            int16_t m = h16(x, k) > h16(y, k) ? h16(x, k) : h16(y, k);
            uint16_t n = u16(x, k) < u16(y, k) ? u16(x, k) : u16(y, k);
            int16_t c3 = k == 0 ? 7 : 0; /* c = 7: low half 7, high half 0 */
            int16_t m3 = m > c3 ? m : c3;
            if (m3 < 0) m3 = 0;
            r[0] |= (uint32_t)(uint16_t)m << (16 * k);
            r[1] |= (uint32_t)n << (16 * k);
            r[2] |= (uint32_t)(uint16_t)(u16(x, k) + u16(y, k)) << (16 * k);
            r[6] |= (uint32_t)(uint16_t)m3 << (16 * k);
            sad += abs(h16(x, k) - h16(y, k));
        }
        for (int k = 0; k < 4; k++) {
            r[3] |= (uint32_t)(uint8_t)abs(u8_(x, k) - u8_(y, k)) << (8 * k);
            r[7] |= (uint32_t)(uint8_t)(u8_(x, k) - u8_(y, k)) << (8 * k);
        }
        r[4] = (uint32_t)sad;
        int s = (int)(x + y);
        r[5] = (uint32_t)(s > 5 ? s : 5);
        for (int k = 0; k < 8; k++)
            if (o[i * 8 + k] != r[k]) {
                TEARDOWN();
                RG_FAIL("lane %d op %d: %#x, expected %#x", i, k, o[i * 8 + k], r[k]);
            }
    }
    TEARDOWN();
}

RG_TEST_MAIN()
