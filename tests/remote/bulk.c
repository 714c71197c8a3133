/* bulk.c — large copies through the shim (DESIGN rule 4): 1 GiB and more each
 * way arrives intact while the session worker's peak memory stays near the
 * device memory it holds (the bytes stream in pieces: no buffer of the copy's
 * size beside the allocation); a copy the worker cannot run (a device fault
 * before it) has its bytes dropped and the session goes on answering; a server
 * killed mid-copy makes the copy and every later call fail, never hang.
 * Run under with-rgpud.sh; server_killed_mid_copy last (its own ctest entry). */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

#define BIG ((1ull << 30) + 12345) /* more than 1 GiB, not a multiple of any piece */

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = next(&x);
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++)
        p[i] = (unsigned char)next(&x);
}

/* Peak resident memory (VmHWM, KiB) of rgpud's session worker, or -1. */
static long worker_peak_kib(void)
{
    const char *sup = getenv("RGPUD_PID");
    long best = -1;
    DIR *d = opendir("/proc");
    if (!sup || !d) {
        if (d) closedir(d);
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        long ppid = -1, hwm = -1;
        while (fgets(line, sizeof line, f)) {
            sscanf(line, "PPid: %ld", &ppid);
            sscanf(line, "VmHWM: %ld", &hwm);
        }
        fclose(f);
        if (ppid == atol(sup) && hwm > best) best = hwm; /* the session's worker */
    }
    closedir(d);
    return best;
}

RG_TEST(bulk_1gib_each_way_with_bounded_worker_memory)
{
    CUcontext ctx;
    CHECK_CU(rt_setup(&ctx));
    unsigned char *src = malloc(BIG), *back = malloc(BIG);
    CUdeviceptr d;
    if (!src || !back) RG_SKIP("no memory for two host buffers of %llu bytes", BIG);
    fill(src, BIG, 0x9e3779b97f4a7c15ull);
    memset(back, 0, BIG);
    CHECK_CU(cuMemAlloc(&d, BIG));
    CHECK_CU(cuMemcpyHtoD(d, src, BIG));
    CHECK_CU(cuMemcpyDtoH(back, d, BIG));
    CHECK(memcmp(src, back, BIG) == 0);
    /* a small read of an odd range (the whole-call path) sees the same bytes */
    unsigned char probe[4099];
    CHECK_CU(cuMemcpyDtoH(probe, d + (BIG / 2 + 3), sizeof probe));
    CHECK(memcmp(probe, src + BIG / 2 + 3, sizeof probe) == 0);
    /* an HtoD into the middle of the allocation, read back around its edges */
    fill(src, 48u << 20, 7);
    CHECK_CU(cuMemcpyHtoD(d + 4097, src, 48u << 20));
    CHECK_CU(cuMemcpyDtoH(back, d, (48u << 20) + 8192));
    CHECK(memcmp(back + 4097, src, 48u << 20) == 0);
    long kib = worker_peak_kib();
    if (kib < 0) RG_SKIP("the session worker's peak memory cannot be read (RGPUD_PID unset?)");
    /* the allocation itself is worker memory on simgpu; copy-sized buffers would
     * add at least another BIG */
    fprintf(stderr, "  worker peak RSS %ld MiB for a %llu MiB allocation\n", kib >> 10, BIG >> 20);
    CHECK((unsigned long long)kib * 1024 < BIG + BIG / 4);
    CHECK_CU(cuMemFree(d));
    free(src);
    free(back);
}

static const char fault_ptx[] = ".version 8.0\n.target sm_80\n.address_size 64\n"
                                ".visible .entry poke()\n{\n .reg .b64 %rd<2>;\n .reg .b32 %r<2>;\n"
                                " mov.u64 %rd1, 16;\n mov.u32 %r1, 1;\n"
                                " st.global.u32 [%rd1], %r1;\n ret;\n}\n";

RG_TEST(bulk_copy_after_a_device_fault_is_dropped_and_answered)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction poke;
    CUdeviceptr d;
    size_t n = 40u << 20;
    CHECK_CU(cuInit(0));
    CHECK_CU(cuCtxCreate(&ctx, NULL, 0, 0));
    unsigned char *src = malloc(n);
    CHECK(src != NULL);
    fill(src, n, 3);
    CHECK_CU(cuMemAlloc(&d, n));
    CHECK_CU(cuModuleLoadData(&m, fault_ptx));
    CHECK_CU(cuModuleGetFunction(&poke, m, "poke"));
    CHECK_CU(cuLaunchKernel(poke, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    /* pipelined: the worker's copy fails on the faulted context and drops the bytes */
    CUresult r = cuMemcpyHtoD(d, src, n);
    CHECK(r == CUDA_SUCCESS || r == CUDA_ERROR_ILLEGAL_ADDRESS);
    double t0 = rt_now();
    CHECK_CU_IS(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
    CHECK(rt_now() - t0 < 20.0);
    CHECK_CU(cuCtxDestroy(ctx));
    /* the session still answers, and a fresh context copies */
    CUcontext c2;
    CHECK_CU(cuCtxCreate(&c2, NULL, 0, 0));
    CUdeviceptr d2;
    CHECK_CU(cuMemAlloc(&d2, n));
    CHECK_CU(cuMemcpyHtoD(d2, src, n));
    unsigned char *back = calloc(1, n);
    CHECK(back != NULL);
    CHECK_CU(cuMemcpyDtoH(back, d2, n));
    CHECK(memcmp(back, src, n) == 0);
    CHECK_CU(cuCtxDestroy(c2));
    free(src);
    free(back);
}

/* set(p, v): p[i] = v + i for one word per thread. */
static const char set_ptx[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry set(.param .u64 p, .param .u32 v)\n{\n"
    " .reg .b64 %rd<4>;\n .reg .b32 %r<6>;\n"
    " ld.param.u64 %rd1, [p];\n ld.param.u32 %r1, [v];\n"
    " mov.u32 %r2, %ctaid.x;\n mov.u32 %r3, %ntid.x;\n mov.u32 %r4, %tid.x;\n"
    " mad.lo.u32 %r5, %r2, %r3, %r4;\n"
    " mul.wide.u32 %rd2, %r5, 4;\n add.u64 %rd3, %rd1, %rd2;\n"
    " add.u32 %r5, %r5, %r1;\n st.global.u32 [%rd3], %r5;\n ret;\n}\n";

/* A large read right after pipelined kernels that write the range sees what
 * the last kernel wrote, in every piece (the worker sends the bytes from the
 * allocation once its backend copy has waited for earlier work). */
RG_TEST(bulk_read_waits_for_pipelined_kernels)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction set;
    CUdeviceptr d;
    unsigned words = 3u << 20; /* 12 MiB: three pieces */
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, set_ptx));
    CHECK_CU(cuModuleGetFunction(&set, m, "set"));
    CHECK_CU(cuMemAlloc(&d, words * 4ull));
    uint32_t *back = malloc(words * 4ull);
    CHECK(back != NULL);
    for (unsigned v = 1; v <= 3; v++) {
        void *args[] = {&d, &v};
        CHECK_CU(cuLaunchKernel(set, words / 256, 1, 1, 256, 1, 1, 0, NULL, args, NULL));
    }
    CHECK_CU(cuMemcpyDtoH(back, d, words * 4ull));
    unsigned bad = 0;
    for (unsigned i = 0; i < words; i++)
        bad += back[i] != i + 3;
    CHECK_EQ_INT(bad, 0);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuModuleUnload(m));
    free(back);
}

static void *kill_soon(void *arg)
{
    (void)arg;
    usleep(30 * 1000);
    kill(-atoi(getenv("RGPUD_PID")), SIGKILL); /* rgpud's process group */
    return NULL;
}

RG_TEST(server_killed_mid_copy)
{
    if (!getenv("RGPUD_PID")) RG_SKIP("RGPUD_PID not set (run under with-rgpud.sh)");
    CUcontext ctx;
    CUdeviceptr d;
    CHECK_CU(rt_setup(&ctx));
    unsigned char *src = malloc(BIG);
    CHECK(src != NULL);
    memset(src, 5, BIG);
    CHECK_CU(cuMemAlloc(&d, BIG));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, kill_soon, NULL) == 0);
    double t0 = rt_now();
    CUresult up = cuMemcpyHtoD(d, src, BIG);
    CUresult down = cuMemcpyDtoH(src, d, BIG);
    CUresult sync = cuCtxSynchronize();
    pthread_join(t, NULL);
    CHECK(up == CUDA_SUCCESS || up == CUDA_ERROR_DEVICE_UNAVAILABLE);
    CHECK_CU_IS(down, CUDA_ERROR_DEVICE_UNAVAILABLE);
    CHECK_CU_IS(sync, CUDA_ERROR_DEVICE_UNAVAILABLE);
    CHECK(rt_now() - t0 < 30.0); /* RGPU_TIMEOUT=5 in the ctest entry */
    free(src);
}

RG_TEST_MAIN()
