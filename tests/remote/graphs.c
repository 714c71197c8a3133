/* graphs.c — graphs through the wire: copies with client host sides are staged
 * by the worker and read / written in graph order at every launch (a host node
 * before a host-to-device copy changes what it copies, one after a
 * device-to-host copy sees what it wrote), pitched host sides are written row
 * by row (the gaps stay), a host side that is no longer mapped when the graph
 * runs is an error in the client's log, not a crash of either side, and large
 * host sides go through in chunks. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "remote.h"

static CUcontext primary;

enum { N = 1024 };

struct order {
    uint32_t src[N], dst[N];
    int launch;
    _Atomic int good;
};

static void CUDA_CB fill_src(void *p) /* before the H2D copy */
{
    struct order *o = p;
    o->launch++;
    for (int i = 0; i < N; i++)
        o->src[i] = (uint32_t)(o->launch * 1000 + i);
}

static void CUDA_CB check_dst(void *p) /* after the D2H copy */
{
    struct order *o = p;
    int ok = 1;
    for (int i = 0; i < N; i++)
        if (o->dst[i] != (uint32_t)(o->launch * 1000 + i)) ok = 0;
    atomic_fetch_add(&o->good, ok);
}

static CUDA_MEMCPY3D copy_1d(CUmemorytype st, const void *s, CUmemorytype dt, void *d, size_t n)
{
    CUDA_MEMCPY3D c;
    memset(&c, 0, sizeof c);
    c.srcMemoryType = st;
    if (st == CU_MEMORYTYPE_HOST)
        c.srcHost = s;
    else
        c.srcDevice = (CUdeviceptr)(uintptr_t)s;
    c.dstMemoryType = dt;
    if (dt == CU_MEMORYTYPE_HOST)
        c.dstHost = d;
    else
        c.dstDevice = (CUdeviceptr)(uintptr_t)d;
    c.WidthInBytes = n;
    c.Height = c.Depth = 1;
    return c;
}

/* host fill -> H2D -> D2H -> host check, launched ten times */
RG_TEST(host_copies_follow_graph_order)
{
    CHECK_CU(rt_setup(&primary));
    static struct order o;
    CUdeviceptr d;
    CUgraph g;
    CUgraphNode fill, up, down, check;
    CUgraphExec ex;
    CHECK_CU(cuMemAlloc(&d, sizeof o.src));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_HOST_NODE_PARAMS hf = {fill_src, &o}, hc = {check_dst, &o};
    CHECK_CU(cuGraphAddHostNode(&fill, g, NULL, 0, &hf));
    CUDA_MEMCPY3D c = copy_1d(CU_MEMORYTYPE_HOST, o.src, CU_MEMORYTYPE_DEVICE, (void *)(uintptr_t)d,
                              sizeof o.src);
    CHECK_CU(cuGraphAddMemcpyNode(&up, g, &fill, 1, &c, primary));
    c = copy_1d(CU_MEMORYTYPE_DEVICE, (void *)(uintptr_t)d, CU_MEMORYTYPE_HOST, o.dst,
                sizeof o.dst);
    CHECK_CU(cuGraphAddMemcpyNode(&down, g, &up, 1, &c, primary));
    CHECK_CU(cuGraphAddHostNode(&check, g, &down, 1, &hc));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int i = 0; i < 10; i++)
        CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(o.launch, 10);
    CHECK_EQ_INT(atomic_load(&o.good), 10);
    CHECK_EQ_INT(o.dst[N - 1], 10 * 1000 + N - 1);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

/* A pitched device-to-host copy writes its rows only. */
RG_TEST(pitched_host_side_keeps_the_gaps)
{
    CHECK_CU(rt_setup(&primary));
    enum { W = 24, H = 5, P = 40 };
    static unsigned char host[H * P];
    CUdeviceptr d;
    CUgraph g;
    CUgraphNode ms, cp;
    CUgraphExec ex;
    CHECK_CU(cuMemAlloc(&d, W * H));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS m = {
        .dst = d, .value = 0x5a, .elementSize = 1, .width = W * H, .height = 1};
    CHECK_CU(cuGraphAddMemsetNode(&ms, g, NULL, 0, &m, primary));
    CUDA_MEMCPY3D c;
    memset(&c, 0, sizeof c);
    c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    c.srcDevice = d;
    c.srcPitch = W;
    c.dstMemoryType = CU_MEMORYTYPE_HOST;
    c.dstHost = host;
    c.dstPitch = P;
    c.WidthInBytes = W;
    c.Height = H;
    c.Depth = 1;
    CHECK_CU(cuGraphAddMemcpyNode(&cp, g, &ms, 1, &c, primary));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    memset(host, 0x11, sizeof host);
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < P; x++)
            if (host[y * P + x] != (x < W ? 0x5a : 0x11))
                RG_FAIL("host[%d][%d] = %#x", y, x, host[y * P + x]);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

/* The captured copies' host pages are gone when the graph runs: the client
 * refuses the server's request (log line), nobody crashes, the session goes on. */
RG_TEST(unmapped_host_side_is_an_error_not_a_crash)
{
    CHECK_CU(rt_setup(&primary));
    size_t page = 1 << 16;
    CUstream s;
    CUdeviceptr d;
    CUgraph g;
    CUgraphExec ex;
    uint32_t back[4] = {0};
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, page));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuMemcpyHtoDAsync(d, p, page, s));
    CHECK_CU(cuMemcpyDtoHAsync(p, d, page, s));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK(munmap(p, page) == 0);
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    /* the session still works */
    CHECK_CU(cuMemsetD32(d, 7, 4));
    CHECK_CU(cuMemcpyDtoH(back, d, sizeof back));
    CHECK_EQ_INT(back[3], 7);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

/* 16 MiB each way through the staging buffers, replayed twice. */
RG_TEST(large_staged_copies)
{
    CHECK_CU(rt_setup(&primary));
    size_t n = 16u << 20;
    CUstream s;
    CUdeviceptr d;
    CUgraph g;
    CUgraphExec ex;
    uint32_t *in, *out;
    CHECK_CU(cuMemAllocHost((void **)&in, n));
    CHECK_CU(cuMemAllocHost((void **)&out, n));
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, n));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuMemcpyHtoDAsync(d, in, n, s));
    CHECK_CU(cuMemcpyDtoHAsync(out, d, n, s));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (uint32_t it = 1; it <= 2; it++) {
        for (size_t i = 0; i < n / 4; i++)
            in[i] = (uint32_t)i * 3u + it;
        memset(out, 0, n);
        CHECK_CU(cuGraphLaunch(ex, s));
        CHECK_CU(cuStreamSynchronize(s));
        for (size_t i = 0; i < n / 4; i += 4093)
            if (out[i] != (uint32_t)i * 3u + it) RG_FAIL("launch %u: out[%zu] = %u", it, i, out[i]);
        CHECK_EQ_U64(out[n / 4 - 1], (uint32_t)(n / 4 - 1) * 3u + it);
    }
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuMemFreeHost(in));
    CHECK_CU(cuMemFreeHost(out));
}

/* A memcpy node with a host side is still a memcpy node: its type, its
 * parameters, new host sides for the graph and for an executable, its clone. */
RG_TEST(staged_node_type_and_new_host_sides)
{
    CHECK_CU(rt_setup(&primary));
    static uint32_t h1[64], h2[64], h3[64];
    CUdeviceptr d;
    CUgraph g;
    CUgraphNode ms, cp;
    CUgraphExec ex, ex2;
    CUgraphNodeType t;
    CHECK_CU(cuMemAlloc(&d, sizeof h1));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS m = {.dst = d, .value = 9, .elementSize = 4, .width = 64, .height = 1};
    CHECK_CU(cuGraphAddMemsetNode(&ms, g, NULL, 0, &m, primary));
    CUDA_MEMCPY3D c =
        copy_1d(CU_MEMORYTYPE_DEVICE, (void *)(uintptr_t)d, CU_MEMORYTYPE_HOST, h1, sizeof h1);
    CHECK_CU(cuGraphAddMemcpyNode(&cp, g, &ms, 1, &c, primary));
    CHECK_CU(cuGraphNodeGetType(cp, &t));
    CHECK_EQ_INT(t, CU_GRAPH_NODE_TYPE_MEMCPY);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(h1[63], 9);
    /* the executable's node writes h2 now; the graph's still names h1 */
    c.dstHost = h2;
    CHECK_CU(cuGraphExecMemcpyNodeSetParams(ex, cp, &c, primary));
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(h2[0], 9);
    CUDA_MEMCPY3D got;
    CHECK_CU(cuGraphMemcpyNodeGetParams(cp, &got));
    CHECK(got.dstHost == h1);
    /* the graph's node writes h3 */
    c.dstHost = h3;
    CHECK_CU(cuGraphMemcpyNodeSetParams(cp, &c));
    CHECK_CU(cuGraphMemcpyNodeGetParams(cp, &got));
    CHECK(got.dstHost == h3);
    CHECK_CU(cuGraphInstantiate(&ex2, g, 0));
    CHECK_CU(cuGraphLaunch(ex2, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(h3[31], 9);
    /* a cudaMemcpyDefault node: unified sides told apart by the device window */
    static uint32_t h4[64];
    CUgraph g2;
    CUgraphNode u;
    CUgraphExec ex3;
    CUDA_MEMCPY3D uc = copy_1d(CU_MEMORYTYPE_DEVICE, (void *)(uintptr_t)d, CU_MEMORYTYPE_DEVICE,
                               (void *)h4, sizeof h4);
    uc.srcMemoryType = uc.dstMemoryType = CU_MEMORYTYPE_UNIFIED;
    CHECK_CU(cuGraphCreate(&g2, 0));
    CHECK_CU(cuGraphAddMemcpyNode(&u, g2, NULL, 0, &uc, primary));
    CHECK_CU(cuGraphInstantiate(&ex3, g2, 0));
    CHECK_CU(cuGraphLaunch(ex3, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(h4[63], 9);
    CHECK_CU(cuGraphExecDestroy(ex3));
    CHECK_CU(cuGraphDestroy(g2));
    /* and in a clone */
    CUgraph cl;
    CUgraphNode ccp;
    CHECK_CU(cuGraphClone(&cl, g));
    CHECK_CU(cuGraphNodeFindInClone(&ccp, cp, cl));
    CHECK_CU(cuGraphNodeGetType(ccp, &t));
    CHECK_EQ_INT(t, CU_GRAPH_NODE_TYPE_MEMCPY);
    CHECK_CU(cuGraphMemcpyNodeGetParams(ccp, &got));
    CHECK(got.dstHost == h3);
    CHECK_CU(cuGraphDestroy(cl));
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphExecDestroy(ex2));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

/* cuGraphInstantiateWithParams: an upload stream in the struct, the result out. */
RG_TEST(instantiate_with_params)
{
    CHECK_CU(rt_setup(&primary));
    CUstream s;
    CUgraph g;
    CUgraphNode a, b;
    CUgraphExec ex;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&a, g, NULL, 0));
    CHECK_CU(cuGraphAddEmptyNode(&b, g, &a, 1));
    CUDA_GRAPH_INSTANTIATE_PARAMS ip = {.flags = CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD,
                                        .hUploadStream = s,
                                        .result_out = (CUgraphInstantiateResult)99};
    CHECK_CU(cuGraphInstantiateWithParams(&ex, g, &ip));
    CHECK_EQ_INT(ip.result_out, CUDA_GRAPH_INSTANTIATE_SUCCESS);
    CHECK(ip.hUploadStream == s);
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    /* a cycle: the call fails and still says why */
    CUgraphExec bad;
    CHECK_CU(cuGraphAddDependencies(g, &b, &a, NULL, 1));
    ip.result_out = CUDA_GRAPH_INSTANTIATE_SUCCESS;
    CHECK(cuGraphInstantiateWithParams(&bad, g, &ip) != CUDA_SUCCESS);
    CHECK(ip.result_out != CUDA_GRAPH_INSTANTIATE_SUCCESS);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuStreamDestroy(s));
}

/* The _v1 kernel node calls of older headers (a struct without kern and ctx). */
#undef cuGraphAddKernelNode
#undef cuGraphKernelNodeGetParams
CUresult CUDAAPI cuGraphAddKernelNode(CUgraphNode *, CUgraph, const CUgraphNode *, size_t,
                                      const CUDA_KERNEL_NODE_PARAMS_v1 *);
CUresult CUDAAPI cuGraphKernelNodeGetParams(CUgraphNode, CUDA_KERNEL_NODE_PARAMS_v1 *);

static const char fill_ptx[] = RT_FILL_PTX;

RG_TEST(kernel_node_v1)
{
    CHECK_CU(rt_setup(&primary));
    CUmodule m;
    CUfunction f;
    CUdeviceptr d;
    CUgraph g;
    CUgraphNode k;
    CUgraphExec ex;
    uint32_t out[64] = {0};
    CHECK_CU(cuModuleLoadData(&m, fill_ptx));
    CHECK_CU(cuModuleGetFunction(&f, m, "fill"));
    CHECK_CU(cuMemAlloc(&d, sizeof out));
    CHECK_CU(cuGraphCreate(&g, 0));
    void *args[] = {&d};
    CUDA_KERNEL_NODE_PARAMS_v1 kp = {.func = f,
                                     .gridDimX = 1,
                                     .gridDimY = 1,
                                     .gridDimZ = 1,
                                     .blockDimX = 64,
                                     .blockDimY = 1,
                                     .blockDimZ = 1,
                                     .kernelParams = args};
    CHECK_CU(cuGraphAddKernelNode(&k, g, NULL, 0, &kp));
    struct {
        CUDA_KERNEL_NODE_PARAMS_v1 p;
        unsigned char guard[32];
    } got;
    memset(&got, 0x5c, sizeof got);
    CHECK_CU(cuGraphKernelNodeGetParams(k, &got.p));
    CHECK(got.p.func == f && got.p.blockDimX == 64 && got.p.kernelParams != NULL);
    CHECK_EQ_U64(*(CUdeviceptr *)got.p.kernelParams[0], d);
    for (size_t i = 0; i < sizeof got.guard; i++)
        if (got.guard[i] != 0x5c) RG_FAIL("written past the _v1 struct at %zu", i);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuMemcpyDtoH(out, d, sizeof out));
    CHECK_EQ_INT(out[63], 63);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuModuleUnload(m));
}

/* cuGraphAddNode with a kernel: its parameters travel by the kernel's layout. */
RG_TEST(generic_kernel_node)
{
    CHECK_CU(rt_setup(&primary));
    CUmodule m;
    CUfunction f;
    CUdeviceptr d;
    CUgraph g;
    CUgraphNode k;
    CUgraphExec ex;
    uint32_t out[128] = {0};
    CHECK_CU(cuModuleLoadData(&m, fill_ptx));
    CHECK_CU(cuModuleGetFunction(&f, m, "fill"));
    CHECK_CU(cuMemAlloc(&d, sizeof out));
    CHECK_CU(cuGraphCreate(&g, 0));
    void *args[] = {&d};
    CUgraphNodeParams p;
    memset(&p, 0, sizeof p);
    p.type = CU_GRAPH_NODE_TYPE_KERNEL;
    p.kernel.func = f;
    p.kernel.gridDimX = 2, p.kernel.gridDimY = 1, p.kernel.gridDimZ = 1;
    p.kernel.blockDimX = 64, p.kernel.blockDimY = 1, p.kernel.blockDimZ = 1;
    p.kernel.kernelParams = args;
    CHECK_CU(cuGraphAddNode(&k, g, NULL, NULL, 0, &p));
    d = 0;                       /* the parameters were copied */
    CUDA_KERNEL_NODE_PARAMS got; /* the _v2 call: the _v1 name is undefined above */
    CHECK_CU(cuGraphKernelNodeGetParams_v2(k, &got));
    CHECK(got.func == f && got.gridDimX == 2);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuMemcpyDtoH(out, *(CUdeviceptr *)got.kernelParams[0], sizeof out));
    CHECK_EQ_INT(out[127], 127);
    CHECK_CU(cuMemFree(*(CUdeviceptr *)got.kernelParams[0]));
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuModuleUnload(m));
}

/* The older cuGraphExecUpdate: its result code comes back when it fails too. */
#undef cuGraphExecUpdate
CUresult CUDAAPI cuGraphExecUpdate(CUgraphExec, CUgraph, CUgraphNode *, CUgraphExecUpdateResult *);

RG_TEST(exec_update_v1_says_why)
{
    CHECK_CU(rt_setup(&primary));
    CUgraph g, g2;
    CUgraphNode a, b, c;
    CUgraphExec ex;
    CUgraphNode err = (CUgraphNode)1;
    CUgraphExecUpdateResult why = CU_GRAPH_EXEC_UPDATE_SUCCESS;
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&a, g, NULL, 0));
    CHECK_CU(cuGraphCreate(&g2, 0));
    CHECK_CU(cuGraphAddEmptyNode(&b, g2, NULL, 0));
    CHECK_CU(cuGraphAddEmptyNode(&c, g2, &b, 1));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU_IS(cuGraphExecUpdate(ex, g2, &err, &why), CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE);
    CHECK_EQ_INT(why, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuGraphDestroy(g2));
}

static void CUDA_CB nothing(void *p)
{
    (void)p;
}

/* A host function on the legacy stream while a blocking stream captures: the
 * driver's answer is the call's own, not a later call's. */
RG_TEST(host_function_during_capture_answers_itself)
{
    CHECK_CU(rt_setup(&primary));
    CUstream s;
    CUgraph g = (CUgraph)1;
    CUstreamCaptureStatus st;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU_IS(cuLaunchHostFunc(NULL, nothing, NULL), CUDA_ERROR_STREAM_CAPTURE_IMPLICIT);
    CHECK_CU(cuStreamIsCapturing(s, &st));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_INVALIDATED);
    CHECK_CU_IS(cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
    CHECK(g == NULL);
    CHECK_CU(cuStreamDestroy(s));
}

/* Older and per-thread forms the public header maps away, as cudart finds them
 * through cuGetProcAddress. */
CUresult CUDAAPI cuStreamGetCaptureInfo_v2(CUstream, CUstreamCaptureStatus *, cuuint64_t *,
                                           CUgraph *, const CUgraphNode **, size_t *);
CUresult CUDAAPI cuStreamGetCaptureInfo_v3_ptsz(CUstream, CUstreamCaptureStatus *, cuuint64_t *,
                                                CUgraph *, const CUgraphNode **,
                                                const CUgraphEdgeData **, size_t *);

/* cuStreamGetCaptureInfo_v2 (what cudart and cuBLAS ask) and the _ptsz form of _v3:
 * node ids the application can use, kept until the thread's next query. */
RG_TEST(capture_info_v2_and_per_thread)
{
    CHECK_CU(rt_setup(&primary));
    CUdeviceptr d;
    CUgraph g, cg = NULL;
    CUstreamCaptureStatus st;
    cuuint64_t id = 0;
    const CUgraphNode *deps = NULL;
    size_t n = 0;
    CUgraphNodeType t;
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuStreamBeginCapture(CU_STREAM_PER_THREAD, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(cuMemsetD8Async(d, 1, 64, CU_STREAM_PER_THREAD));
    CHECK_CU(cuStreamGetCaptureInfo_v2(CU_STREAM_PER_THREAD, &st, &id, &cg, &deps, &n));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK(id != 0 && cg != NULL && deps != NULL);
    CHECK_EQ_INT(n, 1);
    CHECK_CU(cuGraphNodeGetType(deps[0], &t)); /* an id the application can use */
    const CUgraphEdgeData *ed = (const CUgraphEdgeData *)1;
    CHECK_CU(cuStreamGetCaptureInfo_v3_ptsz(NULL, &st, NULL, NULL, &deps, &ed, &n));
    CHECK_EQ_INT(n, 1);
    CHECK_CU(cuStreamEndCapture(CU_STREAM_PER_THREAD, &g));
    CHECK(g == cg);
    CHECK_CU(cuStreamGetCaptureInfo_v2(CU_STREAM_PER_THREAD, &st, NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

RG_TEST_MAIN()
