/* exec.c — executable graphs: clones, per-node updates of a graph and of an
 * instantiated graph, cuGraphExecUpdate, enabling nodes, DOT output and user
 * objects. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt.h"

enum { N = 256 };

static CUDA_MEMSET_NODE_PARAMS set32(CUdeviceptr d, uint32_t v, size_t n)
{
    CUDA_MEMSET_NODE_PARAMS p = {.dst = d, .value = v, .elementSize = 4, .width = n, .height = 1};
    return p;
}

static CUDA_MEMCPY3D to_host(CUdeviceptr d, void *h, size_t n)
{
    CUDA_MEMCPY3D c;
    memset(&c, 0, sizeof c);
    c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    c.srcDevice = d;
    c.dstMemoryType = CU_MEMORYTYPE_HOST;
    c.dstHost = h;
    c.WidthInBytes = n;
    c.Height = c.Depth = 1;
    return c;
}

/* memset(d, v) -> copy d to h */
static int build(CUgraph *g, CUgraphNode *ms, CUgraphNode *cp, CUdeviceptr d, uint32_t v,
                 uint32_t *h)
{
    CUDA_MEMSET_NODE_PARAMS m = set32(d, v, N);
    CUDA_MEMCPY3D c = to_host(d, h, N * 4);
    return cuGraphCreate(g, 0) || cuGraphAddMemsetNode(ms, *g, NULL, 0, &m, gt_ctx()) ||
           cuGraphAddMemcpyNode(cp, *g, ms, 1, &c, gt_ctx());
}

static int run(CUgraphExec ex, uint32_t *h)
{
    memset(h, 0, N * 4);
    if (cuGraphLaunch(ex, NULL) || cuStreamSynchronize(NULL)) return -1;
    for (int i = 1; i < N; i++)
        if (h[i] != h[0]) return -2;
    return (int)h[0];
}

RG_TEST(clone_and_update_params)
{
    GT_CTX();
    CUdeviceptr d;
    uint32_t h[N];
    CUgraph g, c;
    CUgraphNode ms, cp, cms;
    CUgraphExec ex, exc;
    CHECK_CU(cuMemAlloc(&d, N * 4));
    CHECK(!build(&g, &ms, &cp, d, 1, h));
    CHECK_CU(cuGraphClone(&c, g));
    CHECK_CU(cuGraphNodeFindInClone(&cms, ms, c));
    CHECK(cms != ms);
    CUDA_MEMSET_NODE_PARAMS m = set32(d, 2, N), got;
    CHECK_CU(cuGraphMemsetNodeSetParams(cms, &m));
    CHECK_CU(cuGraphMemsetNodeGetParams(cms, &got));
    CHECK_EQ_INT(got.value, 2);
    CHECK_CU(cuGraphMemsetNodeGetParams(ms, &got));
    CHECK_EQ_INT(got.value, 1);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphInstantiate(&exc, c, 0));
    CHECK_EQ_INT(run(ex, h), 1);
    CHECK_EQ_INT(run(exc, h), 2);
    /* changing the graph after instantiation does not change the executable */
    m.value = 3;
    CHECK_CU(cuGraphMemsetNodeSetParams(ms, &m));
    CHECK_EQ_INT(run(ex, h), 1);
    /* ... but updating the executable node does */
    m.value = 4;
    CHECK_CU(cuGraphExecMemsetNodeSetParams(ex, ms, &m, gt_ctx()));
    CHECK_EQ_INT(run(ex, h), 4);
    /* a node of another graph is not in this executable */
    CHECK_CU_IS(cuGraphExecMemsetNodeSetParams(ex, cms, &m, gt_ctx()), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphExecDestroy(exc));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuGraphDestroy(c));
    CHECK_CU(cuMemFree(d));
}

RG_TEST(kernel_node_params)
{
    GT_CTX();
    GT_KERNELS();
    CUdeviceptr d;
    uint32_t h[N];
    CUgraph g;
    CUgraphNode ms, k, cp;
    CUgraphExec ex;
    CHECK_CU(cuMemAlloc(&d, N * 4));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS m = set32(d, 1, N);
    CHECK_CU(cuGraphAddMemsetNode(&ms, g, NULL, 0, &m, gt_ctx()));
    uint32_t n = N, a = 3, b = 4;
    void *args[] = {&d, &n, &a, &b};
    CUDA_KERNEL_NODE_PARAMS kp = {.func = gt_func("axpb"),
                                  .gridDimX = N / 64,
                                  .gridDimY = 1,
                                  .gridDimZ = 1,
                                  .blockDimX = 64,
                                  .blockDimY = 1,
                                  .blockDimZ = 1,
                                  .kernelParams = args};
    CHECK_CU(cuGraphAddKernelNode(&k, g, &ms, 1, &kp));
    CUDA_MEMCPY3D c = to_host(d, h, N * 4);
    CHECK_CU(cuGraphAddMemcpyNode(&cp, g, &k, 1, &c, gt_ctx()));
    b = 1000; /* parameters were copied when the node was added */
    CUDA_KERNEL_NODE_PARAMS got;
    CHECK_CU(cuGraphKernelNodeGetParams(k, &got));
    CHECK(got.func == kp.func && got.gridDimX == N / 64 && got.blockDimX == 64);
    CHECK(got.kernelParams != NULL);
    CHECK_EQ_INT(*(uint32_t *)got.kernelParams[1], N);
    CHECK_EQ_INT(*(uint32_t *)got.kernelParams[3], 4);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_EQ_INT(run(ex, h), 1 * 3 + 4);
    b = 10;
    CHECK_CU(cuGraphExecKernelNodeSetParams(ex, k, &kp));
    CHECK_EQ_INT(run(ex, h), 1 * 3 + 10);
    /* disabled kernel: only the memset is visible */
    CHECK_CU(cuGraphNodeSetEnabled(ex, k, 0));
    unsigned en = 1;
    CHECK_CU(cuGraphNodeGetEnabled(ex, k, &en));
    CHECK_EQ_INT(en, 0);
    CHECK_EQ_INT(run(ex, h), 1);
    CHECK_CU(cuGraphNodeSetEnabled(ex, k, 1));
    CHECK_EQ_INT(run(ex, h), 13);
    /* by the extra buffer: the packed layout is { u64 p; u32 n, a, b; } */
    struct {
        CUdeviceptr p;
        uint32_t n, a, b, pad;
    } buf = {d, N, 2, 0, 0};
    size_t size = 20;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &buf, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
                     CU_LAUNCH_PARAM_END};
    kp.kernelParams = NULL;
    kp.extra = extra;
    CHECK_CU(cuGraphKernelNodeSetParams(k, &kp));
    CUgraphExecUpdateResultInfo info;
    CHECK_CU(cuGraphExecUpdate(ex, g, &info));
    CHECK_EQ_INT(info.result, CU_GRAPH_EXEC_UPDATE_SUCCESS);
    CHECK_EQ_INT(run(ex, h), 2);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

RG_TEST(exec_update)
{
    GT_CTX();
    CUdeviceptr d;
    uint32_t h[N];
    CUgraph g, g2, g3;
    CUgraphNode ms, cp, ms2, cp2, ms3, cp3, extra;
    CUgraphExec ex;
    CUgraphExecUpdateResultInfo info;
    CHECK_CU(cuMemAlloc(&d, N * 4));
    CHECK(!build(&g, &ms, &cp, d, 7, h));
    CHECK(!build(&g2, &ms2, &cp2, d, 8, h));
    CHECK(!build(&g3, &ms3, &cp3, d, 9, h));
    CHECK_CU(cuGraphAddEmptyNode(&extra, g3, &cp3, 1));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_EQ_INT(run(ex, h), 7);
    CHECK_CU(cuGraphExecUpdate(ex, g2, &info));
    CHECK_EQ_INT(info.result, CU_GRAPH_EXEC_UPDATE_SUCCESS);
    CHECK_EQ_INT(run(ex, h), 8);
    CHECK_CU_IS(cuGraphExecUpdate(ex, g3, &info), CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE);
    CHECK_EQ_INT(info.result, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED);
    CHECK_EQ_INT(run(ex, h), 8);
    /* same count, different type */
    CHECK_CU(cuGraphDestroyNode(extra));
    CHECK_CU(cuGraphDestroyNode(cp3));
    CHECK_CU(cuGraphAddEmptyNode(&extra, g3, &ms3, 1));
    CHECK_CU_IS(cuGraphExecUpdate(ex, g3, &info), CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE);
    CHECK_EQ_INT(info.result, CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED);
    CHECK(info.errorNode == extra);
    cuuint64_t flags = 99;
    CHECK_CU(cuGraphExecGetFlags(ex, &flags));
    CHECK_EQ_INT(flags, 0);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuGraphDestroy(g2));
    CHECK_CU(cuGraphDestroy(g3));
    CHECK_CU(cuMemFree(d));
}

static void add_five(void *p)
{
    atomic_fetch_add((_Atomic int *)p, 5);
}

RG_TEST(host_node_update_and_streams)
{
    GT_CTX();
    _Atomic int count = 0;
    CUgraph g;
    CUgraphNode hn;
    CUgraphExec ex;
    CUstream s1, s2;
    CHECK_CU(cuStreamCreate(&s1, 0));
    CHECK_CU(cuStreamCreate(&s2, 0));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_HOST_NODE_PARAMS hp = {gt_count, (void *)&count}, got;
    CHECK_CU(cuGraphAddHostNode(&hn, g, NULL, 0, &hp));
    CHECK_CU(cuGraphHostNodeGetParams(hn, &got));
    CHECK(got.fn == gt_count && got.userData == (void *)&count);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int i = 0; i < 10; i++)
        CHECK_CU(cuGraphLaunch(ex, i % 2 ? s1 : s2));
    CUDA_HOST_NODE_PARAMS h5 = {add_five, (void *)&count};
    CHECK_CU(cuGraphExecHostNodeSetParams(ex, hn, &h5));
    CHECK_CU(cuGraphLaunch(ex, s1));
    CHECK_CU(cuGraphUpload(ex, s2));
    CHECK_CU(cuStreamSynchronize(s1));
    CHECK_CU(cuStreamSynchronize(s2));
    CHECK_EQ_INT(atomic_load(&count), 15);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuStreamDestroy(s1));
    CHECK_CU(cuStreamDestroy(s2));
}

RG_TEST(dot_print)
{
    GT_CTX();
    CUgraph g;
    CUgraphNode a, b;
    char path[] = "/tmp/rgpu-graph-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&a, g, NULL, 0));
    CHECK_CU(cuGraphAddEmptyNode(&b, g, &a, 1));
    CHECK_CU(cuGraphDebugDotPrint(g, path, CU_GRAPH_DEBUG_DOT_FLAGS_VERBOSE));
    FILE *f = fopen(path, "r");
    char text[4096] = {0};
    CHECK(f != NULL);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    unlink(path);
    CHECK(n > 0);
    CHECK(strstr(text, "digraph") != NULL);
    CHECK(strstr(text, "->") != NULL);
    CHECK_CU(cuGraphDestroy(g));
}

static void destroyed(void *p)
{
    atomic_fetch_add((_Atomic int *)p, 1);
}

RG_TEST(user_objects)
{
    GT_CTX();
    static _Atomic int gone;
    CUuserObject o;
    CUgraph g;
    CUgraphExec ex;
    CUgraphNode a;
    CHECK_CU(
        cuUserObjectCreate(&o, (void *)&gone, destroyed, 1, CU_USER_OBJECT_NO_DESTRUCTOR_SYNC));
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&a, g, NULL, 0));
    CHECK_CU(cuGraphRetainUserObject(g, o, 1, CU_GRAPH_USER_OBJECT_MOVE)); /* takes our ref */
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_EQ_INT(atomic_load(&gone), 0); /* the executable still holds it */
    CHECK_CU(cuGraphLaunch(ex, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_EQ_INT(atomic_load(&gone), 1);
    CHECK_CU_IS(cuUserObjectRelease(o, 1), CUDA_ERROR_INVALID_HANDLE);
}

RG_TEST_MAIN()
