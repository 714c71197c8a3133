/* ptx_bench.c — interpreter throughput: launch rate of an empty <<<1,1>>>
 * kernel and thread-instructions per second of an arithmetic loop. Prints one
 * line per measurement; `--quick` runs briefly (as a ctest smoke test). */
#include "ptx_util.h"

#include <time.h>

static const char *bench_src = PTX_HEADER
    ".visible .entry empty() { ret; }\n"
    ".visible .entry arith(.param .u64 out, .param .u32 iters)\n{\n"
    "  .reg .b32 %r<12>; .reg .f32 %f<8>; .reg .b64 %rd<4>; .reg .pred %p<2>;\n"
    "  ld.param.u64 %rd1, [out]; ld.param.u32 %r1, [iters];\n"
    "  mov.u32 %r2, %tid.x; cvt.rn.f32.u32 %f1, %r2; mov.f32 %f2, 0f3F800000; mov.u32 %r3, 0;\n"
    "LOOP:\n"
    "  fma.rn.f32 %f1, %f1, 0f3F7FBE77, %f2;\n"
    "  mad.lo.s32 %r2, %r2, 1664525, 1013904223;\n"
    "  shr.u32 %r4, %r2, 28;\n"
    "  cvt.rn.f32.u32 %f3, %r4;\n"
    "  add.f32 %f2, %f2, %f3;\n"
    "  xor.b32 %r5, %r2, %r4;\n"
    "  add.s32 %r3, %r3, 1;\n"
    "  setp.lt.s32 %p1, %r3, %r1;\n"
    "  @%p1 bra LOOP;\n"
    "  mov.u32 %r6, %ctaid.x; mov.u32 %r7, %ntid.x; mov.u32 %r8, %tid.x; mad.lo.s32 %r9, %r6, %r7, "
    "%r8;\n"
    "  mul.wide.u32 %rd2, %r9, 4; add.s64 %rd3, %rd1, %rd2; add.f32 %f4, %f1, %f2; st.global.f32 "
    "[%rd3], %f4;\n"
    "  ret;\n}\n"
    ".visible .entry saxpy(.param .u64 x, .param .u64 y, .param .f32 a, .param .u32 n)\n{\n"
    "  .reg .b32 %r<8>; .reg .f32 %f<6>; .reg .b64 %rd<10>; .reg .pred %p<2>;\n"
    "  ld.param.u64 %rd1, [x]; ld.param.u64 %rd2, [y]; ld.param.f32 %f1, [a]; ld.param.u32 %r1, "
    "[n];\n"
    "  mov.u32 %r2, %ctaid.x; mov.u32 %r3, %ntid.x; mov.u32 %r4, %tid.x; mad.lo.s32 %r5, %r2, %r3, "
    "%r4;\n"
    "  setp.ge.u32 %p1, %r5, %r1; @%p1 bra DONE;\n"
    "  cvta.to.global.u64 %rd3, %rd1; cvta.to.global.u64 %rd4, %rd2; mul.wide.u32 %rd5, %r5, 4;\n"
    "  add.s64 %rd6, %rd3, %rd5; add.s64 %rd7, %rd4, %rd5; ld.global.f32 %f2, [%rd6]; "
    "ld.global.f32 %f3, [%rd7];\n"
    "  fma.rn.f32 %f4, %f2, %f1, %f3; st.global.f32 [%rd7], %f4;\n"
    "DONE:\n  ret;\n}\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    static pu_env e;
    if (pu_load(&e, bench_src)) return 1;
    int n = quick ? 20000 : 1000000;
    double t0 = now();
    for (int i = 0; i < n; i++)
        if (pu_run(&e, "empty", 1, 1, 0, NULL, 0)) return 1;
    double t1 = now();
    printf("empty <<<1,1>>> launches: %.0f /s (%.2f us each)\n", n / (t1 - t0),
           (t1 - t0) / n * 1e6);
    unsigned blocks = 64, threads = 256, iters = quick ? 50 : 2000;
    float *out = pu_alloc(&e, blocks * threads * 4);
    struct {
        float *o;
        unsigned iters;
    } p = {out, iters};
    uint64_t s0 = ptx_stats_thread_instructions();
    t0 = now();
    if (pu_run(&e, "arith", blocks, threads, 0, &p, 12)) return 1;
    t1 = now();
    uint64_t s1 = ptx_stats_thread_instructions();
    printf("arith loop: %.1f M thread-instructions/s (%llu in %.3f s, %u workers)\n",
           (s1 - s0) / (t1 - t0) / 1e6, (unsigned long long)(s1 - s0), t1 - t0, ptx_worker_count());
    unsigned nx = quick ? 1 << 16 : 1 << 24;
    float *x = pu_alloc(&e, nx * 4), *y = pu_alloc(&e, nx * 4);
    struct {
        float *x, *y;
        float a;
        unsigned n;
    } sp = {x, y, 2.0f, nx};
    s0 = ptx_stats_thread_instructions();
    t0 = now();
    if (pu_run(&e, "saxpy", (nx + 255) / 256, 256, 0, &sp, sizeof sp)) return 1;
    t1 = now();
    s1 = ptx_stats_thread_instructions();
    printf("saxpy %u elements: %.1f M elements/s, %.1f M thread-instructions/s\n", nx,
           nx / (t1 - t0) / 1e6, (s1 - s0) / (t1 - t0) / 1e6);
    pu_free(&e);
    return 0;
}
