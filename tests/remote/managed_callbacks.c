/* managed_callbacks.c — host callbacks and managed memory through the wire:
 * a host function (cuLaunchHostFunc, cuStreamAddCallback, a graph's host node
 * captured from a stream) sees what a kernel earlier on its stream wrote to
 * managed memory, and a kernel after it on the stream sees what it wrote
 * (docs/remoting.md "Managed memory"). The expected values are computed here:
 * the kernel stores V, the callback stores 2 * what it saw (in another page),
 * the next kernel stores that + 1. */
#include <stdio.h>
#include <string.h>

#include "remote.h"

static const char ptx[] =
    ".version 8.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry set_at(.param .u64 p, .param .u32 i, .param .u32 v)\n{\n"
    "\t.reg .u64 %rd<4>;\n\t.reg .u32 %r<2>;\n"
    "\tld.param.u64 %rd0, [p];\n\tld.param.u32 %r0, [i];\n\tld.param.u32 %r1, [v];\n"
    "\tcvta.to.global.u64 %rd1, %rd0;\n\tmul.wide.u32 %rd2, %r0, 4;\n"
    "\tadd.u64 %rd3, %rd1, %rd2;\n\tst.global.u32 [%rd3], %r1;\n\tret;\n}\n"
    ".visible .entry next_of(.param .u64 p, .param .u32 dst, .param .u32 src)\n{\n"
    "\t.reg .u64 %rd<6>;\n\t.reg .u32 %r<4>;\n"
    "\tld.param.u64 %rd0, [p];\n\tld.param.u32 %r0, [dst];\n\tld.param.u32 %r1, [src];\n"
    "\tcvta.to.global.u64 %rd1, %rd0;\n\tmul.wide.u32 %rd2, %r1, 4;\n"
    "\tadd.u64 %rd3, %rd1, %rd2;\n\tld.global.u32 %r2, [%rd3];\n\tadd.u32 %r3, %r2, 1;\n"
    "\tmul.wide.u32 %rd4, %r0, 4;\n\tadd.u64 %rd5, %rd1, %rd4;\n"
    "\tst.global.u32 [%rd5], %r3;\n\tret;\n}\n"
    ".visible .entry spin(.param .u32 n)\n{\n\t.reg .u32 %r<2>;\n\t.reg .pred %p;\n"
    "\tld.param.u32 %r0, [n];\n\tmov.u32 %r1, 0;\nLOOP:\n\tadd.u32 %r1, %r1, 1;\n"
    "\tsetp.lt.u32 %p, %r1, %r0;\n\t@%p bra LOOP;\n\tret;\n}\n";

#define WORDS 2048 /* two pages */
#define SEEN 0     /* the first kernel's word */
#define WROTE 1500 /* the callback's word, in the second page */
#define NEXT 2     /* the second kernel's word */

static CUcontext ctx;
static CUfunction set_at, next_of, spin;
static unsigned *m;

struct seen {
    unsigned v;
    CUstream s;
    CUresult status;
};

static void look_and_write(struct seen *w)
{
    w->v = m[SEEN];
    m[WROTE] = 2 * w->v;
}

static void CUDA_CB host_fn(void *arg)
{
    look_and_write(arg);
}

static void CUDA_CB stream_cb(CUstream s, CUresult status, void *arg)
{
    struct seen *w = arg;
    w->s = s;
    w->status = status;
    look_and_write(w);
}

static int setup(void)
{
    CUmodule mod;
    CUdeviceptr p;
    if (m) return 0;
    if (rt_setup(&ctx) || cuModuleLoadData(&mod, ptx) ||
        cuModuleGetFunction(&set_at, mod, "set_at") ||
        cuModuleGetFunction(&next_of, mod, "next_of") || cuModuleGetFunction(&spin, mod, "spin") ||
        cuMemAllocManaged(&p, WORDS * sizeof(unsigned), CU_MEM_ATTACH_GLOBAL))
        return -1;
    m = (unsigned *)(uintptr_t)p;
    return 0;
}

static CUresult launch(CUfunction f, CUstream s, unsigned a, unsigned b)
{
    CUdeviceptr p = (CUdeviceptr)(uintptr_t)m;
    void *args[] = {&p, &a, &b};
    return cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, s, args, NULL);
}

/* kernel V -> callback (queued by `add`) -> kernel, on s; then the checks. */
static void around_callback(CUstream s, unsigned v, struct seen *w,
                            CUresult (*add)(CUstream, struct seen *))
{
    memset(m, 0, WORDS * sizeof(unsigned)); /* pushed with the next launch */
    CHECK_CU(launch(set_at, s, SEEN, v));
    CHECK_CU(add(s, w));
    CHECK_CU(launch(next_of, s, NEXT, WROTE));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(w->v, v);            /* the callback saw the first kernel's store */
    CHECK_EQ_INT(m[WROTE], 2 * v);    /* its own store stays */
    CHECK_EQ_INT(m[NEXT], 2 * v + 1); /* the second kernel saw it */
}

static CUresult add_host_fn(CUstream s, struct seen *w)
{
    return cuLaunchHostFunc(s, host_fn, w);
}

static CUresult add_stream_cb(CUstream s, struct seen *w)
{
    return cuStreamAddCallback(s, stream_cb, w, 0);
}

RG_TEST(host_function_sees_and_is_seen)
{
    CUstream s;
    struct seen w = {0};
    CHECK(setup() == 0);
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    around_callback(s, 41, &w, add_host_fn);
    around_callback(NULL, 17, &w, add_host_fn); /* the legacy stream */
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(stream_callback_sees_and_is_seen)
{
    CUstream s;
    struct seen w = {0};
    CHECK(setup() == 0);
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    around_callback(s, 1234, &w, add_stream_cb);
    CHECK(w.s == s);
    CHECK_CU_IS(w.status, CUDA_SUCCESS);
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(graph_host_node_sees_and_is_seen)
{
    CUstream s;
    CUgraph g;
    CUgraphExec ge;
    struct seen w = {0};
    CHECK(setup() == 0);
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(launch(set_at, s, SEEN, 777));
    CHECK_CU(cuLaunchHostFunc(s, host_fn, &w));
    CHECK_CU(launch(next_of, s, NEXT, WROTE));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_CU(cuGraphInstantiate(&ge, g, 0));
    for (int round = 0; round < 2; round++) {
        memset(m, 0, WORDS * sizeof(unsigned));
        w.v = 0;
        CHECK_CU(cuGraphLaunch(ge, s));
        CHECK_CU(cuStreamSynchronize(s));
        CHECK_EQ_INT(w.v, 777);
        CHECK_EQ_INT(m[WROTE], 2 * 777);
        CHECK_EQ_INT(m[NEXT], 2 * 777 + 1);
    }
    CHECK_CU(cuGraphExecDestroy(ge));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuStreamDestroy(s));
}

/* More launches behind a callback than the backend's stream queue and the
 * session's credits hold (run with rgpud --credits 16): the application's
 * thread waits for credits while the callback's PULL must still go (the shim
 * keeps it a few credits; a spinning kernel first lets the launches pile up). */
RG_TEST(many_launches_behind_a_callback)
{
    CUstream s;
    struct seen w = {0};
    enum { LAUNCHES = 700 };
    CHECK(setup() == 0);
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    memset(m, 0, WORDS * sizeof(unsigned));
    CHECK_CU(launch(set_at, s, SEEN, 99));
    unsigned n = 3000000;
    void *args[] = {&n};
    CHECK_CU(cuLaunchKernel(spin, 1, 1, 1, 1, 1, 1, 0, s, args, NULL));
    CHECK_CU(cuLaunchHostFunc(s, host_fn, &w));
    for (int i = 0; i < LAUNCHES; i++)
        CHECK_CU(launch(next_of, s, NEXT, WROTE));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(w.v, 99);
    CHECK_EQ_INT(m[NEXT], 2 * 99 + 1);
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST_MAIN()
