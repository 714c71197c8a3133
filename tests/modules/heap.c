/* heap.c — kernels' device malloc/free through the driver API: per-thread
 * blocks written and read back, NULL beyond the heap, blocks that outlive
 * their launch, and CU_LIMIT_MALLOC_HEAP_SIZE fixed once a kernel used it. */
#include <stdint.h>
#include <string.h>

#include "modtest.h"

/* heap_k(u64 *out, u64 size, u32 keep): each thread mallocs size bytes; NULL
 * gives out[i] = 0; else it stores i+1 in the first and last word, reads both
 * back, out[i] = their sum (2i+2), and frees the block unless keep. */
static const char heap_ptx[] =
    ".version 8.0\n.target sm_90\n.address_size 64\n"
    ".extern .func (.param .b64 rv) malloc (.param .b64 sz);\n"
    ".extern .func free (.param .b64 p);\n"
    ".visible .entry heap_k(.param .u64 out, .param .u64 size, .param .u32 keep)\n{\n"
    "  .reg .b64 %rd<12>; .reg .b32 %r<6>; .reg .pred %p<3>;\n"
    "  ld.param.u64 %rd1, [out]; ld.param.u64 %rd2, [size]; ld.param.u32 %r5, [keep];\n"
    "  mov.u32 %r1, %tid.x; mov.u32 %r2, %ctaid.x; mov.u32 %r3, %ntid.x;\n"
    "  mad.lo.u32 %r4, %r2, %r3, %r1;\n"
    "  cvta.to.global.u64 %rd1, %rd1; mul.wide.u32 %rd3, %r4, 8; add.u64 %rd4, %rd1, %rd3;\n"
    "  { .param .b64 a0; st.param.b64 [a0], %rd2; .param .b64 r0;\n"
    "    call.uni (r0), malloc, (a0); ld.param.b64 %rd5, [r0]; }\n"
    "  setp.eq.u64 %p1, %rd5, 0;\n"
    "  @%p1 st.global.u64 [%rd4], 0;\n"
    "  @%p1 bra DONE;\n"
    "  cvt.u64.u32 %rd6, %r4; add.u64 %rd6, %rd6, 1;\n"
    "  add.u64 %rd7, %rd5, %rd2; sub.u64 %rd7, %rd7, 8;\n"
    "  st.u64 [%rd5], %rd6; st.u64 [%rd7], %rd6;\n"
    "  ld.u64 %rd8, [%rd5]; ld.u64 %rd9, [%rd7]; add.u64 %rd10, %rd8, %rd9;\n"
    "  st.global.u64 [%rd4], %rd10;\n"
    "  setp.ne.u32 %p2, %r5, 0;\n"
    "  @%p2 bra DONE;\n"
    "  { .param .b64 f0; st.param.b64 [f0], %rd5; call.uni free, (f0); }\n"
    "DONE:\n  ret;\n}\n";

/* Runs heap_k over n threads (one block of up to 256) and copies out back. */
static CUresult run_heap(CUmodule m, unsigned n, uint64_t size, uint32_t keep, uint64_t *out)
{
    CUfunction f;
    CUdeviceptr d;
    CUresult r = cuModuleGetFunction(&f, m, "heap_k");
    if (r || (r = cuMemAlloc(&d, n * sizeof *out))) return r;
    void *args[] = {&d, &size, &keep};
    if (!(r = cuLaunchKernel(f, (n + 255) / 256, 1, 1, n < 256 ? n : 256, 1, 1, 0, NULL, args,
                             NULL)) &&
        !(r = cuCtxSynchronize()))
        r = cuMemcpyDtoH(out, d, n * sizeof *out);
    cuMemFree(d);
    return r;
}

static unsigned count_nonnull(const uint64_t *out, unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        k += out[i] != 0;
    return k;
}

/* A fresh context of device 0, current; the caller destroys it. */
static CUcontext fresh_ctx(void)
{
    CUcontext c = NULL;
    if (!mt_ctx()) return NULL;
    CUdevice dev;
    if (cuCtxGetDevice(&dev) || cuCtxCreate(&c, NULL, 0, dev)) return NULL;
    return c;
}

RG_TEST(malloc_write_read_free_per_thread)
{
    enum { N = 512 };
    static uint64_t out[N];
    CUmodule m;
    CUcontext c = fresh_ctx();
    CHECK(c);
    CHECK_CU(cuModuleLoadData(&m, heap_ptx));
    CHECK_CU(run_heap(m, N, 256, 0, out));
    for (unsigned i = 0; i < N; i++)
        if (out[i] != 2 * (uint64_t)i + 2) RG_FAIL("out[%u] = %llu", i, (unsigned long long)out[i]);
    /* freed blocks are reusable: the same again fits */
    CHECK_CU(run_heap(m, N, 256, 0, out));
    CHECK_EQ_INT(count_nonnull(out, N), N);
    CHECK_CU(cuCtxDestroy(c));
}

RG_TEST(malloc_beyond_heap_returns_null)
{
    uint64_t out[4];
    size_t heap;
    CUmodule m;
    CUcontext c = fresh_ctx();
    CHECK(c);
    CHECK_CU(cuCtxGetLimit(&heap, CU_LIMIT_MALLOC_HEAP_SIZE));
    CHECK_EQ_U64(heap, 8u << 20); /* the driver's default */
    CHECK_CU(cuModuleLoadData(&m, heap_ptx));
    CHECK_CU(run_heap(m, 1, 16u << 20, 0, out));
    CHECK_EQ_U64(out[0], 0);
    CHECK_CU(run_heap(m, 1, 1u << 20, 0, out)); /* the context is fine */
    CHECK_EQ_U64(out[0], 2);
    CHECK_CU(cuCtxDestroy(c));
}

RG_TEST(heap_limit_fixed_after_first_malloc_kernel)
{
    uint64_t out[4];
    size_t v;
    CUmodule m, plain;
    CUfunction nop;
    CUcontext c = fresh_ctx();
    CHECK(c);
    /* a kernel without malloc does not fix the heap */
    CHECK_CU(cuModuleLoadData(&plain, mt_ptx_basic));
    CHECK_CU(cuModuleGetFunction(&nop, plain, "nop"));
    CHECK_CU(cuLaunchKernel(nop, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE, 1u << 20));
    CHECK_CU(cuCtxGetLimit(&v, CU_LIMIT_MALLOC_HEAP_SIZE));
    CHECK_EQ_U64(v, 1u << 20);
    CHECK_CU(cuModuleLoadData(&m, heap_ptx));
    /* kept blocks outlive the launch: 600 KiB twice does not fit in 1 MiB */
    CHECK_CU(run_heap(m, 4, 600u << 10, 1, out));
    CHECK_EQ_INT(count_nonnull(out, 4), 1);
    CHECK_CU(run_heap(m, 1, 600u << 10, 1, out));
    CHECK_EQ_U64(out[0], 0);
    CHECK_CU_IS(cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE, 4u << 20), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuCtxGetLimit(&v, CU_LIMIT_MALLOC_HEAP_SIZE));
    CHECK_EQ_U64(v, 1u << 20);
    CHECK_CU(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 2048)); /* other limits still change */
    CHECK_CU(cuCtxDestroy(c));
}

RG_TEST(heap_is_per_context_and_reset_with_primary)
{
    uint64_t out[1];
    CUmodule m;
    CUdevice dev;
    CHECK(mt_ctx());
    CHECK_CU(cuCtxGetDevice(&dev));
    CHECK_CU(cuModuleLoadData(&m, heap_ptx));
    CHECK_CU(run_heap(m, 1, 64, 1, out));
    CHECK_EQ_U64(out[0], 2);
    CHECK_CU_IS(cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE, 1u << 20), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuDevicePrimaryCtxReset(dev));
    CHECK(mt_ctx());
    CHECK_CU(cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE, 1u << 20)); /* a new heap to come */
}

RG_TEST_MAIN()
