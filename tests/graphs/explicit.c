/* explicit.c — graphs built node by node: memset/kernel/memcpy/host chains,
 * diamonds, 2D/3D copies, child graphs, event nodes and topology queries;
 * results are checked against the same computation on the CPU. */
#include <stdatomic.h>
#include <string.h>

#include "gt.h"

enum { N = 1000 };

static CUDA_MEMCPY3D copy_1d(CUmemorytype st, const void *s, CUmemorytype dt, void *d, size_t n)
{
    CUDA_MEMCPY3D c;
    memset(&c, 0, sizeof c);
    c.srcMemoryType = st;
    if (st == CU_MEMORYTYPE_HOST)
        c.srcHost = s;
    else
        c.srcDevice = (CUdeviceptr)s;
    c.dstMemoryType = dt;
    if (dt == CU_MEMORYTYPE_HOST)
        c.dstHost = d;
    else
        c.dstDevice = (CUdeviceptr)d;
    c.WidthInBytes = n;
    c.Height = c.Depth = 1;
    return c;
}

static CUDA_MEMSET_NODE_PARAMS set32(CUdeviceptr d, uint32_t v, size_t n)
{
    CUDA_MEMSET_NODE_PARAMS p = {.dst = d, .value = v, .elementSize = 4, .width = n, .height = 1};
    return p;
}

static CUDA_KERNEL_NODE_PARAMS kparams(CUfunction f, unsigned n, void **args)
{
    CUDA_KERNEL_NODE_PARAMS k = {.func = f,
                                 .gridDimX = (n + 127) / 128,
                                 .gridDimY = 1,
                                 .gridDimZ = 1,
                                 .blockDimX = 128,
                                 .blockDimY = 1,
                                 .blockDimZ = 1,
                                 .kernelParams = args};
    return k;
}

struct verify {
    const uint32_t *h;
    uint32_t lo, hi; /* expected values of the first and second half */
    _Atomic int calls, good;
};

/* Host node: runs after the copy to the host; checks what arrived. */
static void verify_fn(void *arg)
{
    struct verify *v = arg;
    int ok = 1;
    for (int i = 0; i < N; i++)
        if (v->h[i] != (i < N / 2 ? v->lo : v->hi)) ok = 0;
    atomic_fetch_add(&v->calls, 1);
    atomic_fetch_add(&v->good, ok);
}

RG_TEST(chain_memset_kernel_copy_host)
{
    GT_CTX();
    GT_KERNELS();
    CUdeviceptr d;
    uint32_t *h;
    CUgraph g;
    CUgraphNode ms, k, cp, host;
    CUgraphExec ex;
    CHECK_CU(cuMemAlloc(&d, N * 4));
    CHECK_CU(cuMemAllocHost((void **)&h, N * 4));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS mp = set32(d, 3, N);
    CHECK_CU(cuGraphAddMemsetNode(&ms, g, NULL, 0, &mp, gt_ctx()));
    CUdeviceptr dp = d;
    uint32_t n = N, a = 7, b = 2;
    void *args[] = {&dp, &n, &a, &b};
    CUDA_KERNEL_NODE_PARAMS kp = kparams(gt_func("axpb"), N, args);
    CHECK_CU(cuGraphAddKernelNode(&k, g, &ms, 1, &kp));
    CUDA_MEMCPY3D c = copy_1d(CU_MEMORYTYPE_DEVICE, (void *)d, CU_MEMORYTYPE_HOST, h, N * 4);
    CHECK_CU(cuGraphAddMemcpyNode(&cp, g, &k, 1, &c, gt_ctx()));
    struct verify v = {.h = h, .lo = 3 * 7 + 2, .hi = 3 * 7 + 2};
    CUDA_HOST_NODE_PARAMS hp = {verify_fn, &v};
    CHECK_CU(cuGraphAddHostNode(&host, g, &cp, 1, &hp));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int it = 0; it < 3; it++) {
        memset(h, 0, N * 4);
        CHECK_CU(cuGraphLaunch(ex, NULL));
        CHECK_CU(cuStreamSynchronize(NULL));
        CHECK_EQ_INT(h[N - 1], 23);
    }
    CHECK_EQ_INT(atomic_load(&v.calls), 3);
    CHECK_EQ_INT(atomic_load(&v.good), 3);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFreeHost(h));
    CHECK_CU(cuMemFree(d));
}

/* A -> {B, C} -> D with copies and memsets only (no kernels needed). */
RG_TEST(diamond_copies)
{
    GT_CTX();
    CUdeviceptr d1, d2;
    uint32_t *h;
    CUstream s;
    CUgraph g;
    CUgraphNode n[5];
    CUgraphExec ex;
    CHECK_CU(cuMemAlloc(&d1, N * 4));
    CHECK_CU(cuMemAlloc(&d2, N * 4));
    CHECK_CU(cuMemAllocHost((void **)&h, N * 4));
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS a = set32(d1, 5, N), c = set32(d2 + N / 2 * 4, 9, N / 2);
    CHECK_CU(cuGraphAddMemsetNode(&n[0], g, NULL, 0, &a, gt_ctx()));
    CUDA_MEMCPY3D b =
        copy_1d(CU_MEMORYTYPE_DEVICE, (void *)d1, CU_MEMORYTYPE_DEVICE, (void *)d2, N / 2 * 4);
    CHECK_CU(cuGraphAddMemcpyNode(&n[1], g, &n[0], 1, &b, gt_ctx()));
    CHECK_CU(cuGraphAddMemsetNode(&n[2], g, &n[0], 1, &c, gt_ctx()));
    CUDA_MEMCPY3D dd = copy_1d(CU_MEMORYTYPE_DEVICE, (void *)d2, CU_MEMORYTYPE_HOST, h, N * 4);
    CHECK_CU(cuGraphAddMemcpyNode(&n[3], g, &n[1], 2, &dd, gt_ctx()));
    struct verify v = {.h = h, .lo = 5, .hi = 9};
    CUDA_HOST_NODE_PARAMS hp = {verify_fn, &v};
    CHECK_CU(cuGraphAddHostNode(&n[4], g, &n[3], 1, &hp));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int it = 0; it < 4; it++)
        CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(atomic_load(&v.calls), 4);
    CHECK_EQ_INT(atomic_load(&v.good), 4);
    CHECK_EQ_INT(h[0], 5);
    CHECK_EQ_INT(h[N - 1], 9);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuMemFreeHost(h));
    CHECK_CU(cuMemFree(d1));
    CHECK_CU(cuMemFree(d2));
}

/* E and A roots; A -> {B, C} -> D (kernels), D also after E; F copies out. */
RG_TEST(diamond_kernels)
{
    GT_CTX();
    GT_KERNELS();
    CUdeviceptr d, e;
    uint32_t h[N];
    CUgraph g;
    CUgraphNode A, B, C, D, E, F;
    CUgraphExec ex;
    CHECK_CU(cuMemAlloc(&d, N * 4));
    CHECK_CU(cuMemAlloc(&e, N * 4));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS ma = set32(d, 1, N), me = set32(e, 10, N);
    CHECK_CU(cuGraphAddMemsetNode(&A, g, NULL, 0, &ma, gt_ctx()));
    CHECK_CU(cuGraphAddMemsetNode(&E, g, NULL, 0, &me, gt_ctx()));
    CUdeviceptr lo = d, hi = d + N / 2 * 4;
    uint32_t half = N / 2, two = 2, one = 1, five = 5, zero = 0, n = N;
    void *ab[] = {&lo, &half, &two, &one}, *ac[] = {&hi, &half, &five, &zero};
    CUDA_KERNEL_NODE_PARAMS kb = kparams(gt_func("axpb"), N / 2, ab);
    CUDA_KERNEL_NODE_PARAMS kc = kparams(gt_func("axpb"), N / 2, ac);
    CHECK_CU(cuGraphAddKernelNode(&B, g, &A, 1, &kb));
    CHECK_CU(cuGraphAddKernelNode(&C, g, &A, 1, &kc));
    void *ad[] = {&e, &d, &n};
    CUDA_KERNEL_NODE_PARAMS kd = kparams(gt_func("addv"), N, ad);
    CUgraphNode deps[] = {B, C, E};
    CHECK_CU(cuGraphAddKernelNode(&D, g, deps, 3, &kd));
    CUDA_MEMCPY3D cf = copy_1d(CU_MEMORYTYPE_DEVICE, (void *)e, CU_MEMORYTYPE_HOST, h, sizeof h);
    CHECK_CU(cuGraphAddMemcpyNode(&F, g, &D, 1, &cf, gt_ctx()));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuCtxSynchronize());
    for (int i = 0; i < N; i++)
        if (h[i] != (i < N / 2 ? 10u + 3 : 10u + 5)) RG_FAIL("h[%d] = %u", i, h[i]);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuMemFree(e));
}

RG_TEST(topology_queries)
{
    GT_CTX();
    CUgraph g;
    CUgraphNode a, b, c, d, v[8], from[8], to[8];
    size_t n;
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&a, g, NULL, 0));
    CHECK_CU(cuGraphAddEmptyNode(&b, g, &a, 1));
    CHECK_CU(cuGraphAddEmptyNode(&c, g, &a, 1));
    CUgraphNode bc[] = {b, c};
    CHECK_CU(cuGraphAddEmptyNode(&d, g, bc, 2));
    CHECK_CU(cuGraphGetNodes(g, NULL, &n));
    CHECK_EQ_INT(n, 4);
    n = 8;
    CHECK_CU(cuGraphGetNodes(g, v, &n));
    CHECK_EQ_INT(n, 4);
    CHECK(v[0] == a && v[3] == d && v[4] == NULL);
    CHECK_CU(cuGraphGetRootNodes(g, NULL, &n));
    CHECK_EQ_INT(n, 1);
    n = 1;
    CHECK_CU(cuGraphGetRootNodes(g, v, &n));
    CHECK(v[0] == a);
    CHECK_CU(cuGraphGetEdges(g, NULL, NULL, NULL, &n));
    CHECK_EQ_INT(n, 4);
    CUgraphEdgeData ed[8];
    n = 8;
    CHECK_CU(cuGraphGetEdges(g, from, to, ed, &n));
    CHECK_EQ_INT(n, 4);
    CHECK(from[0] == a && (to[0] == b || to[0] == c));
    CHECK_EQ_INT(ed[0].type, CU_GRAPH_DEPENDENCY_TYPE_DEFAULT);
    CHECK_CU(cuGraphNodeGetDependencies(d, NULL, NULL, &n));
    CHECK_EQ_INT(n, 2);
    CHECK_CU(cuGraphNodeGetDependentNodes(a, NULL, NULL, &n));
    CHECK_EQ_INT(n, 2);
    n = 2;
    CHECK_CU(cuGraphNodeGetDependentNodes(a, v, NULL, &n));
    CHECK(v[0] == b && v[1] == c);
    /* edit edges */
    CHECK_CU(cuGraphRemoveDependencies(g, &b, &d, NULL, 1));
    CHECK_CU(cuGraphGetEdges(g, NULL, NULL, NULL, &n));
    CHECK_EQ_INT(n, 3);
    CHECK_CU_IS(cuGraphRemoveDependencies(g, &b, &d, NULL, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuGraphAddDependencies(g, &b, &d, NULL, 1));
    CHECK_CU_IS(cuGraphAddDependencies(g, &b, &d, NULL, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphAddDependencies(g, &b, &b, NULL, 1), CUDA_ERROR_INVALID_VALUE);
    CUgraphNodeType t;
    CHECK_CU(cuGraphNodeGetType(c, &t));
    CHECK_EQ_INT(t, CU_GRAPH_NODE_TYPE_EMPTY);
    /* destroying a node drops its edges */
    CHECK_CU(cuGraphDestroyNode(c));
    CHECK_CU(cuGraphGetNodes(g, NULL, &n));
    CHECK_EQ_INT(n, 3);
    CHECK_CU(cuGraphGetEdges(g, NULL, NULL, NULL, &n));
    CHECK_EQ_INT(n, 2);
    CHECK_CU_IS(cuGraphNodeGetType(c, &t), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU(cuGraphDestroy(g));
}

/* Pitched 2D copies into the middle of a device buffer and a 3D copy back. */
RG_TEST(copy_2d_3d_nodes)
{
    GT_CTX();
    enum { W = 32, H = 8, DP = 64, DH = 16 };
    unsigned char src[H][W], back[2][DH][DP];
    CUdeviceptr d;
    CUgraph g;
    CUgraphNode n1, n2, n0;
    CUgraphExec ex;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            src[y][x] = (unsigned char)(y * W + x + 1);
    CHECK_CU(cuMemAlloc(&d, 2 * DP * DH));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS z = {
        .dst = d, .value = 0, .elementSize = 1, .width = 2 * DP * DH, .height = 1};
    CHECK_CU(cuGraphAddMemsetNode(&n0, g, NULL, 0, &z, gt_ctx()));
    CUDA_MEMCPY3D c;
    memset(&c, 0, sizeof c);
    c.srcMemoryType = CU_MEMORYTYPE_HOST;
    c.srcHost = src;
    c.srcPitch = W;
    c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    c.dstDevice = d;
    c.dstXInBytes = 16;
    c.dstY = 2;
    c.dstZ = 1;
    c.dstPitch = DP;
    c.dstHeight = DH;
    c.WidthInBytes = W;
    c.Height = H;
    c.Depth = 1;
    CHECK_CU(cuGraphAddMemcpyNode(&n1, g, &n0, 1, &c, gt_ctx()));
    CUDA_MEMCPY3D b;
    memset(&b, 0, sizeof b);
    b.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    b.srcDevice = d;
    b.srcPitch = DP;
    b.srcHeight = DH;
    b.dstMemoryType = CU_MEMORYTYPE_HOST;
    b.dstHost = back;
    b.dstPitch = DP;
    b.dstHeight = DH;
    b.WidthInBytes = DP;
    b.Height = DH;
    b.Depth = 2;
    CHECK_CU(cuGraphAddMemcpyNode(&n2, g, &n1, 1, &b, gt_ctx()));
    CUDA_MEMCPY3D got;
    CHECK_CU(cuGraphMemcpyNodeGetParams(n1, &got));
    CHECK(got.dstXInBytes == 16 && got.dstZ == 1 && got.srcHost == src);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    memset(back, 0xee, sizeof back);
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    for (int zz = 0; zz < 2; zz++)
        for (int y = 0; y < DH; y++)
            for (int x = 0; x < DP; x++) {
                int in = zz == 1 && y >= 2 && y < 2 + H && x >= 16 && x < 16 + W;
                unsigned want = in ? src[y - 2][x - 16] : 0;
                if (back[zz][y][x] != want)
                    RG_FAIL("back[%d][%d][%d] = %u, want %u", zz, y, x, back[zz][y][x], want);
            }
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

/* A child graph (cloned at insertion), an empty node and event record/wait nodes. */
RG_TEST(child_graph_and_events)
{
    GT_CTX();
    CUdeviceptr d;
    uint32_t h[16];
    CUgraph child, g, inner, g2;
    CUgraphNode cn, e, ch, rec, w, cp;
    CUgraphExec ex, ex2;
    CUevent ev;
    CUstream s1, s2;
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuEventCreate(&ev, CU_EVENT_DISABLE_TIMING));
    CHECK_CU(cuStreamCreate(&s1, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamCreate(&s2, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuGraphCreate(&child, 0));
    CUDA_MEMSET_NODE_PARAMS m = set32(d, 42, 16);
    CHECK_CU(cuGraphAddMemsetNode(&cn, child, NULL, 0, &m, gt_ctx()));
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&e, g, NULL, 0));
    CHECK_CU(cuGraphAddChildGraphNode(&ch, g, &e, 1, child));
    CHECK_CU(cuGraphDestroy(child)); /* the node holds a clone */
    CHECK_CU(cuGraphChildGraphNodeGetGraph(ch, &inner));
    size_t n;
    CHECK_CU(cuGraphGetNodes(inner, NULL, &n));
    CHECK_EQ_INT(n, 1);
    CHECK_CU(cuGraphAddEventRecordNode(&rec, g, &ch, 1, ev));
    CUevent got;
    CHECK_CU(cuGraphEventRecordNodeGetEvent(rec, &got));
    CHECK(got == ev);
    /* second graph: wait for the event, then copy out */
    CHECK_CU(cuGraphCreate(&g2, 0));
    CHECK_CU(cuGraphAddEventWaitNode(&w, g2, NULL, 0, ev));
    CUDA_MEMCPY3D c = copy_1d(CU_MEMORYTYPE_DEVICE, (void *)d, CU_MEMORYTYPE_HOST, h, sizeof h);
    CHECK_CU(cuGraphAddMemcpyNode(&cp, g2, &w, 1, &c, gt_ctx()));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphInstantiate(&ex2, g2, 0));
    CHECK_CU(cuGraphLaunch(ex, s1));
    CHECK_CU(cuGraphLaunch(ex2, s2));
    CHECK_CU(cuStreamSynchronize(s2));
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(h[i], 42);
    CHECK_CU(cuEventSynchronize(ev));
    CHECK_CU(cuEventQuery(ev));
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphExecDestroy(ex2));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuGraphDestroy(g2));
    CHECK_CU(cuEventDestroy(ev));
    CHECK_CU(cuStreamDestroy(s1));
    CHECK_CU(cuStreamDestroy(s2));
    CHECK_CU(cuMemFree(d));
}

/* The generic cuGraphAddNode with the same kinds. */
RG_TEST(generic_add_node)
{
    GT_CTX();
    CUdeviceptr d;
    uint32_t h[8];
    CUgraph g;
    CUgraphNode a, b;
    CUgraphExec ex;
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUgraphNodeParams p;
    memset(&p, 0, sizeof p);
    p.type = CU_GRAPH_NODE_TYPE_MEMSET;
    p.memset.dst = d;
    p.memset.value = 0xabcd;
    p.memset.elementSize = 2;
    p.memset.width = 16;
    p.memset.height = 1;
    p.memset.ctx = gt_ctx();
    CHECK_CU(cuGraphAddNode(&a, g, NULL, NULL, 0, &p));
    memset(&p, 0, sizeof p);
    p.type = CU_GRAPH_NODE_TYPE_MEMCPY;
    p.memcpy.copyCtx = gt_ctx();
    p.memcpy.copyParams = copy_1d(CU_MEMORYTYPE_DEVICE, (void *)d, CU_MEMORYTYPE_HOST, h, sizeof h);
    CHECK_CU(cuGraphAddNode(&b, g, &a, NULL, 1, &p));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    for (int i = 0; i < 8; i++)
        CHECK_EQ_U64(h[i], 0xabcdabcdu);
    memset(&p, 0, sizeof p);
    p.type = CU_GRAPH_NODE_TYPE_MEM_ALLOC;
    CHECK_CU_IS(cuGraphAddNode(&b, g, NULL, NULL, 0, &p), CUDA_ERROR_NOT_SUPPORTED);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

RG_TEST_MAIN()
