/* interp_bench.c — simgpu interpreter throughput: thread-instructions per second
 * for an arithmetic kernel, a memory-bound kernel and a shared-memory/barrier
 * kernel. Counts come from the PTX (kernels.h), not from the interpreter. */
#include <stdlib.h>

#include "bench.h"
#include "kernels.h"

static int load(const char *name, const char *ptx, CUmodule *mod, CUfunction *fn, const char *entry)
{
    BENCH_CK(name, cuModuleLoadData(mod, ptx));
    BENCH_CK(name, cuModuleGetFunction(fn, *mod, entry));
    return 0;
}

static int arith(struct bench_env *env)
{
    const char *name = "interp_arith";
    CUmodule mod;
    CUfunction fn;
    if (load(name, BENCH_PTX_HEADER BENCH_PTX_ARITH, &mod, &fn, "arith")) return 1;
    unsigned blocks = 64, threads = 256, iters = env->quick ? 200 : 2000;
    CUdeviceptr out;
    BENCH_CK(name, cuMemAlloc(&out, (size_t)threads * 4));
    void *args[] = {&out, &iters};
    BENCH_CK(name, cuLaunchKernel(fn, 1, 1, 1, threads, 1, 1, 0, NULL, args, NULL)); /* warm */
    BENCH_CK(name, cuCtxSynchronize());
    double t0 = bench_now();
    BENCH_CK(name, cuLaunchKernel(fn, blocks, 1, 1, threads, 1, 1, 0, NULL, args, NULL));
    BENCH_CK(name, cuCtxSynchronize());
    double dt = bench_now() - t0;
    double insts = (double)blocks * threads * (BENCH_ARITH_FIXED + (double)iters * BENCH_ARITH_PER_ITER);
    bench_report(name, "", insts / dt, "thread-inst/s");
    cuMemFree(out);
    cuModuleUnload(mod);
    return 0;
}

static int memory(struct bench_env *env)
{
    const char *name = "interp_memory";
    CUmodule mod;
    CUfunction fn;
    if (load(name, BENCH_PTX_HEADER BENCH_PTX_COPY, &mod, &fn, "copy")) return 1;
    unsigned n = env->quick ? (1u << 20) : (1u << 24), blocks = 256, threads = 256;
    CUdeviceptr src, dst;
    BENCH_CK(name, cuMemAlloc(&src, (size_t)n * 4));
    BENCH_CK(name, cuMemAlloc(&dst, (size_t)n * 4));
    BENCH_CK(name, cuMemsetD32(src, 0x3f800000u, n));
    void *args[] = {&dst, &src, &n};
    double t0 = bench_now();
    BENCH_CK(name, cuLaunchKernel(fn, blocks, 1, 1, threads, 1, 1, 0, NULL, args, NULL));
    BENCH_CK(name, cuCtxSynchronize());
    double dt = bench_now() - t0;
    bench_report(name, "", (double)n * BENCH_COPY_PER_ELEM / dt, "thread-inst/s");
    bench_report("interp_memory_bw", "", (double)n * 8 / dt / 1e9, "GB/s");
    cuMemFree(src);
    cuMemFree(dst);
    cuModuleUnload(mod);
    return 0;
}

static int smem(struct bench_env *env)
{
    const char *name = "interp_smem_barrier";
    CUmodule mod;
    CUfunction fn;
    if (load(name, BENCH_PTX_HEADER BENCH_PTX_SMEM, &mod, &fn, "smem")) return 1;
    unsigned blocks = 32, threads = 256, iters = env->quick ? 100 : 1000;
    CUdeviceptr out;
    BENCH_CK(name, cuMemAlloc(&out, (size_t)blocks * threads * 4));
    void *args[] = {&out, &iters};
    double t0 = bench_now();
    BENCH_CK(name, cuLaunchKernel(fn, blocks, 1, 1, threads, 1, 1, 0, NULL, args, NULL));
    BENCH_CK(name, cuCtxSynchronize());
    double dt = bench_now() - t0;
    double insts = (double)blocks * threads * (double)iters * BENCH_SMEM_PER_ITER;
    bench_report(name, "", insts / dt, "thread-inst/s");
    /* Each thread sums iters*(neighbour tid) + sum(0..iters-1): check one value. */
    unsigned host[2];
    BENCH_CK(name, cuMemcpyDtoH(host, out, sizeof host));
    unsigned long long tri = (unsigned long long)iters * (iters - 1) / 2;
    unsigned expect0 = (unsigned)(tri + 1ull * iters), expect1 = (unsigned)(tri + 2ull * iters);
    if (host[0] != expect0 || host[1] != expect1) bench_fail(name, "wrong result", CUDA_ERROR_UNKNOWN);
    cuMemFree(out);
    cuModuleUnload(mod);
    return 0;
}

const struct bench_def bench_interp_list[] = {
    {"interp_arith", "arithmetic kernel, thread-instructions/s", arith},
    {"interp_memory", "grid-stride copy kernel, thread-instructions/s", memory},
    {"interp_smem_barrier", "shared memory + bar.sync kernel, thread-instructions/s", smem},
    {NULL, NULL, NULL},
};
