/* kernels.h — hand-written PTX for the benchmarks. Instruction counts per loop
 * iteration are stated beside each kernel so thread-instructions/s can be
 * computed from the PTX itself, independently of any interpreter statistics. */
#ifndef RG_BENCH_KERNELS_H
#define RG_BENCH_KERNELS_H

#define BENCH_PTX_HEADER ".version 8.0\n.target sm_80\n.address_size 64\n"

/* empty(): one instruction. */
#define BENCH_PTX_EMPTY ".visible .entry empty()\n{\n  ret;\n}\n"
/* empty_arg(v): one instruction, one parameter (launches that differ). */
#define BENCH_PTX_EMPTY_ARG ".visible .entry empty_arg(.param .u32 v)\n{\n  ret;\n}\n"

/* arith(out, iters): 9 instructions per iteration (6 arithmetic + add + setp + bra).
 * Prologue and epilogue are 12 instructions per thread. */
#define BENCH_ARITH_PER_ITER 9
#define BENCH_ARITH_FIXED 12
#define BENCH_PTX_ARITH                                                                            \
    ".visible .entry arith(.param .u64 out, .param .u32 iters)\n"                                  \
    "{\n"                                                                                          \
    "  .reg .pred %p;\n  .reg .b32 %r<8>;\n  .reg .f32 %f<8>;\n  .reg .b64 %rd<4>;\n"              \
    "  mov.u32 %r1, %tid.x;\n"                                                  /* 1 */            \
    "  cvt.rn.f32.u32 %f1, %r1;\n"                                              /* 2 */            \
    "  mov.f32 %f2, 0f3F800000;\n"                                              /* 3 */            \
    "  mov.f32 %f3, 0f3F000000;\n"                                              /* 4 */            \
    "  mov.f32 %f4, 0f00000000;\n"                                              /* 5 */            \
    "  ld.param.u32 %r2, [iters];\n"                                            /* 6 */            \
    "  mov.u32 %r3, 0;\n"                                                       /* 7 */            \
    "LOOP:\n"                                                                                      \
    "  fma.rn.f32 %f4, %f1, %f3, %f4;\n"                                                           \
    "  mul.f32 %f5, %f4, %f3;\n"                                                                   \
    "  add.f32 %f1, %f1, %f2;\n"                                                                   \
    "  sub.f32 %f4, %f4, %f5;\n"                                                                   \
    "  min.f32 %f1, %f1, 0f47000000;\n"                                                            \
    "  xor.b32 %r4, %r3, %r1;\n"                                                                   \
    "  add.u32 %r3, %r3, 1;\n"                                                                     \
    "  setp.lt.u32 %p, %r3, %r2;\n"                                                                \
    "  @%p bra LOOP;\n"                                                                            \
    "  ld.param.u64 %rd1, [out];\n"                                             /* 8 */            \
    "  mul.wide.u32 %rd2, %r1, 4;\n"                                            /* 9 */            \
    "  add.s64 %rd3, %rd1, %rd2;\n"                                             /* 10 */           \
    "  st.global.f32 [%rd3], %f4;\n"                                            /* 11 */           \
    "  ret;\n"                                                                  /* 12 */           \
    "}\n"

/* copy(dst, src, n): grid-stride loop, 8 instructions per element
 * (mul.wide, add, ld, add, st, add, setp, bra); fixed part 12 per thread. */
#define BENCH_COPY_PER_ELEM 8
#define BENCH_PTX_COPY                                                                             \
    ".visible .entry copy(.param .u64 dst, .param .u64 src, .param .u32 n)\n"                      \
    "{\n"                                                                                          \
    "  .reg .pred %p;\n  .reg .b32 %r<8>;\n  .reg .f32 %f<2>;\n  .reg .b64 %rd<8>;\n"              \
    "  ld.param.u64 %rd1, [dst];\n"                                                                \
    "  ld.param.u64 %rd2, [src];\n"                                                                \
    "  ld.param.u32 %r1, [n];\n"                                                                   \
    "  mov.u32 %r2, %ctaid.x;\n"                                                                   \
    "  mov.u32 %r3, %ntid.x;\n"                                                                    \
    "  mov.u32 %r4, %tid.x;\n"                                                                     \
    "  mad.lo.s32 %r5, %r2, %r3, %r4;\n"                                                           \
    "  mov.u32 %r6, %nctaid.x;\n"                                                                  \
    "  mul.lo.s32 %r6, %r6, %r3;\n"                                                                \
    "  setp.ge.u32 %p, %r5, %r1;\n"                                                                \
    "  @%p bra DONE;\n"                                                                            \
    "LOOP:\n"                                                                                      \
    "  mul.wide.u32 %rd3, %r5, 4;\n"                                                               \
    "  add.s64 %rd4, %rd2, %rd3;\n"                                                                \
    "  ld.global.f32 %f1, [%rd4];\n"                                                               \
    "  add.s64 %rd5, %rd1, %rd3;\n"                                                                \
    "  st.global.f32 [%rd5], %f1;\n"                                                               \
    "  add.u32 %r5, %r5, %r6;\n"                                                                   \
    "  setp.lt.u32 %p, %r5, %r1;\n"                                                                \
    "  @%p bra LOOP;\n"                                                                            \
    "DONE:\n"                                                                                      \
    "  ret;\n"                                                                                     \
    "}\n"

/* smem(out, iters): per iteration each thread writes shared, barrier, reads its
 * neighbour's slot, accumulates, barrier: 9 instructions per iteration
 * (add, st, bar, ld, add, bar, add, setp, bra). */
#define BENCH_SMEM_PER_ITER 9
#define BENCH_PTX_SMEM                                                                             \
    ".visible .entry smem(.param .u64 out, .param .u32 iters)\n"                                   \
    "{\n"                                                                                          \
    "  .reg .pred %p;\n  .reg .b32 %r<12>;\n  .reg .b64 %rd<4>;\n"                                 \
    "  .shared .align 4 .b8 buf[4096];\n"                                                          \
    "  mov.u32 %r1, %tid.x;\n"                                                                     \
    "  mov.u32 %r2, %ntid.x;\n"                                                                    \
    "  ld.param.u32 %r3, [iters];\n"                                                               \
    "  mov.u32 %r4, 0;\n"                                                                          \
    "  mov.u32 %r5, 0;\n"                                                                          \
    "  shl.b32 %r6, %r1, 2;\n"                                                                     \
    "  mov.u32 %r7, buf;\n"                                                                        \
    "  add.u32 %r8, %r7, %r6;\n"                                                                   \
    "  add.u32 %r9, %r1, 1;\n"                                                                     \
    "  rem.u32 %r9, %r9, %r2;\n"                                                                   \
    "  shl.b32 %r9, %r9, 2;\n"                                                                     \
    "  add.u32 %r9, %r7, %r9;\n"                                                                   \
    "LOOP:\n"                                                                                      \
    "  add.u32 %r10, %r4, %r1;\n"                                                                  \
    "  st.shared.u32 [%r8], %r10;\n"                                                               \
    "  bar.sync 0;\n"                                                                              \
    "  ld.shared.u32 %r11, [%r9];\n"                                                               \
    "  add.u32 %r5, %r5, %r11;\n"                                                                  \
    "  bar.sync 0;\n"                                                                              \
    "  add.u32 %r4, %r4, 1;\n"                                                                     \
    "  setp.lt.u32 %p, %r4, %r3;\n"                                                                \
    "  @%p bra LOOP;\n"                                                                            \
    "  mov.u32 %r5, %r5;\n"                                                                        \
    "  ld.param.u64 %rd1, [out];\n"                                                                \
    "  mov.u32 %r10, %ctaid.x;\n"                                                                  \
    "  mad.lo.s32 %r10, %r10, %r2, %r1;\n"                                                         \
    "  mul.wide.u32 %rd2, %r10, 4;\n"                                                              \
    "  add.s64 %rd3, %rd1, %rd2;\n"                                                                \
    "  st.global.u32 [%rd3], %r5;\n"                                                               \
    "  ret;\n"                                                                                     \
    "}\n"

#endif
