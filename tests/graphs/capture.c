/* capture.c — stream capture: a recorded sequence replayed several times with
 * new inputs, capture queries, dependency editing, capture into an existing
 * graph and cross-stream fork/join through events. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "gt.h"

enum { N = 512 };

static size_t node_count(CUgraph g)
{
    size_t n = 0;
    return cuGraphGetNodes(g, NULL, &n) ? (size_t)-1 : n;
}

/* memset, H2D, D2D, D2H and a host function; nothing runs while capturing. */
RG_TEST(capture_copies_replay)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr a, b;
    uint32_t *hin, *hout;
    _Atomic int calls = 0;
    CUgraph g;
    CUgraphExec ex;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&a, N * 4));
    CHECK_CU(cuMemAlloc(&b, N * 4));
    CHECK_CU(cuMemAllocHost((void **)&hin, N * 4));
    CHECK_CU(cuMemAllocHost((void **)&hout, N * 4));
    for (int i = 0; i < N; i++)
        hin[i] = (uint32_t)i;
    memset(hout, 0xff, N * 4);
    CHECK_EQ_INT(gt_capture_status(s), CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_EQ_INT(gt_capture_status(s), CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK_CU(cuMemsetD32Async(b, 77, N, s));
    CHECK_CU(cuMemcpyHtoDAsync(a, hin, N / 2 * 4, s));
    CHECK_CU(cuMemcpyDtoDAsync(b + N / 2 * 4, a, N / 2 * 4, s));
    CHECK_CU(cuMemcpyDtoHAsync(hout, b, N * 4, s));
    CHECK_CU(cuLaunchHostFunc(s, gt_count, (void *)&calls));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK(g != NULL);
    CHECK_EQ_INT(gt_capture_status(s), CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_EQ_INT(node_count(g), 5);
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(atomic_load(&calls), 0);
    CHECK_EQ_U64(hout[0], 0xffffffffu);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int it = 0; it < 3; it++) {
        for (int i = 0; i < N; i++)
            hin[i] = (uint32_t)(i * 3 + it);
        CHECK_CU(cuGraphLaunch(ex, s));
        CHECK_CU(cuStreamSynchronize(s));
        for (int i = 0; i < N; i++) {
            uint32_t want = i < N / 2 ? 77u : (uint32_t)((i - N / 2) * 3 + it);
            if (hout[i] != want) RG_FAIL("launch %d: hout[%d] = %u, want %u", it, i, hout[i], want);
        }
        CHECK_EQ_INT(atomic_load(&calls), it + 1);
    }
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFreeHost(hin));
    CHECK_CU(cuMemFreeHost(hout));
    CHECK_CU(cuMemFree(a));
    CHECK_CU(cuMemFree(b));
    CHECK_CU(cuStreamDestroy(s));
}

/* memset, H2D, two kernels, D2H, host function: out = 2 * (0 + in) + 1. */
RG_TEST(capture_kernels_replay)
{
    GT_CTX();
    GT_KERNELS();
    CUstream s;
    CUdeviceptr d, d2;
    uint32_t *hin, *hout;
    _Atomic int calls = 0;
    CUgraph g;
    CUgraphExec ex;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuMemAlloc(&d, N * 4));
    CHECK_CU(cuMemAlloc(&d2, N * 4));
    CHECK_CU(cuMemAllocHost((void **)&hin, N * 4));
    CHECK_CU(cuMemAllocHost((void **)&hout, N * 4));
    uint32_t n = N, two = 2, one = 1;
    void *add_args[] = {&d, &d2, &n}, *axpb_args[] = {&d, &n, &two, &one};
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    CHECK_CU(cuMemsetD32Async(d, 0, N, s));
    CHECK_CU(cuMemcpyHtoDAsync(d2, hin, N * 4, s));
    CHECK_CU(cuLaunchKernel(gt_func("addv"), N / 128, 1, 1, 128, 1, 1, 0, s, add_args, NULL));
    CHECK_CU(cuLaunchKernel(gt_func("axpb"), N / 128, 1, 1, 128, 1, 1, 0, s, axpb_args, NULL));
    CHECK_CU(cuMemcpyDtoHAsync(hout, d, N * 4, s));
    CHECK_CU(cuLaunchHostFunc(s, gt_count, (void *)&calls));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_EQ_INT(node_count(g), 6);
    CUgraphNode nodes[6];
    size_t nn = 6;
    CUgraphNodeType t;
    CHECK_CU(cuGraphGetNodes(g, nodes, &nn));
    CHECK_CU(cuGraphNodeGetType(nodes[2], &t));
    CHECK_EQ_INT(t, CU_GRAPH_NODE_TYPE_KERNEL);
    CUDA_KERNEL_NODE_PARAMS kp;
    CHECK_CU(cuGraphKernelNodeGetParams(nodes[3], &kp));
    CHECK(kp.func == gt_func("axpb") && kp.gridDimX == N / 128 && kp.blockDimX == 128);
    CHECK_EQ_INT(*(uint32_t *)kp.kernelParams[2], 2);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int it = 0; it < 4; it++) {
        for (int i = 0; i < N; i++)
            hin[i] = (uint32_t)(i + 100 * it);
        CHECK_CU(cuGraphLaunch(ex, s));
        CHECK_CU(cuStreamSynchronize(s));
        for (int i = 0; i < N; i++)
            if (hout[i] != 2 * (uint32_t)(i + 100 * it) + 1)
                RG_FAIL("launch %d: hout[%d] = %u", it, i, hout[i]);
    }
    CHECK_EQ_INT(atomic_load(&calls), 4);
    /* the captured launch is a kernel node like any other */
    uint32_t seven = 7;
    void *new_args[] = {&d, &n, &two, &seven};
    kp.kernelParams = new_args;
    CHECK_CU(cuGraphExecKernelNodeSetParams(ex, nodes[3], &kp));
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_EQ_INT(hout[5], 2 * (5 + 300) + 7);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFreeHost(hin));
    CHECK_CU(cuMemFreeHost(hout));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuMemFree(d2));
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(capture_info_and_dependencies)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr d;
    CUgraph g, cg;
    CUstreamCaptureStatus st;
    cuuint64_t id = 0, id2 = 0;
    const CUgraphNode *deps = NULL;
    const CUgraphEdgeData *ed = NULL;
    size_t nd = 99;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuStreamGetCaptureInfo(s, &st, &id, &cg, &deps, &ed, &nd));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(cuStreamGetCaptureInfo(s, &st, &id, &cg, &deps, &ed, &nd));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK(id != 0 && cg != NULL);
    CHECK_EQ_INT(nd, 0);
    CHECK_CU(cuMemsetD8Async(d, 1, 64, s));
    CHECK_CU(cuStreamGetCaptureInfo(s, &st, &id2, &cg, &deps, &ed, &nd));
    CHECK_EQ_INT(id2, id);
    CHECK_EQ_INT(nd, 1);
    CUgraphNode first = deps[0];
    CHECK_EQ_INT(node_count(cg), 1);
    /* a node added by hand to the capture graph, then made the dependency */
    CUgraphNode extra;
    CHECK_CU(cuGraphAddEmptyNode(&extra, cg, &first, 1));
    CHECK_CU(
        cuStreamUpdateCaptureDependencies(s, &extra, NULL, 1, CU_STREAM_SET_CAPTURE_DEPENDENCIES));
    CHECK_CU(cuMemsetD8Async(d, 2, 64, s));
    /* no dependencies: the next node is a root */
    CHECK_CU(
        cuStreamUpdateCaptureDependencies(s, NULL, NULL, 0, CU_STREAM_SET_CAPTURE_DEPENDENCIES));
    CHECK_CU(cuMemsetD8Async(d, 3, 64, s));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK(g == cg);
    size_t n;
    CHECK_CU(cuGraphGetRootNodes(g, NULL, &n));
    CHECK_EQ_INT(n, 2);
    CHECK_CU(cuGraphGetEdges(g, NULL, NULL, NULL, &n));
    CHECK_EQ_INT(n, 2);
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(capture_to_existing_graph)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr d;
    uint32_t h[16];
    CUgraph g, out;
    CUgraphNode first;
    CUgraphExec ex;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuGraphCreate(&g, 0));
    CUDA_MEMSET_NODE_PARAMS m = {.dst = d, .value = 5, .elementSize = 4, .width = 16, .height = 1};
    CHECK_CU(cuGraphAddMemsetNode(&first, g, NULL, 0, &m, gt_ctx()));
    CHECK_CU(cuStreamBeginCaptureToGraph(s, g, &first, NULL, 1, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuMemcpyDtoHAsync(h, d, sizeof h, s));
    CHECK_CU(cuStreamEndCapture(s, &out));
    CHECK(out == g);
    CHECK_EQ_INT(node_count(g), 2);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    memset(h, 0, sizeof h);
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(h[i], 5);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

/* origin s1 forks to s2 through an event and joins it back. */
RG_TEST(capture_fork_join)
{
    GT_CTX();
    CUstream s1, s2;
    CUevent fork, join;
    CUdeviceptr a, b;
    uint32_t *h;
    CUgraph g;
    CUgraphExec ex;
    CHECK_CU(cuStreamCreate(&s1, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamCreate(&s2, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuEventCreate(&fork, CU_EVENT_DISABLE_TIMING));
    CHECK_CU(cuEventCreate(&join, CU_EVENT_DISABLE_TIMING));
    CHECK_CU(cuMemAlloc(&a, N * 4));
    CHECK_CU(cuMemAlloc(&b, N * 4));
    CHECK_CU(cuMemAllocHost((void **)&h, 2 * N * 4));
    CHECK_CU(cuStreamBeginCapture(s1, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuMemsetD32Async(a, 1, N, s1));
    CHECK_CU(cuEventRecord(fork, s1));
    CHECK_CU(cuStreamWaitEvent(s2, fork, 0));
    if (gt_capture_status(s2) != CU_STREAM_CAPTURE_STATUS_ACTIVE) {
        cuStreamEndCapture(s1, &g);
        if (g) cuGraphDestroy(g);
        RG_SKIP("cuStreamWaitEvent does not join a capture on this backend yet");
    }
    CHECK_CU(cuMemsetD32Async(b, 2, N, s2));
    CHECK_CU(cuMemcpyDtoDAsync(b, a, 4, s2)); /* after the fork: sees a == 1 */
    CHECK_CU(cuEventRecord(join, s2));
    CHECK_CU(cuMemsetD32Async(a + 4, 3, 1, s1));
    CHECK_CU(cuStreamWaitEvent(s1, join, 0));
    CHECK_CU(cuMemcpyDtoHAsync(h, a, N * 4, s1));
    CHECK_CU(cuMemcpyDtoHAsync(h + N, b, N * 4, s1));
    CHECK_CU(cuStreamEndCapture(s1, &g));
    CHECK_EQ_INT(gt_capture_status(s2), CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_EQ_INT(node_count(g), 6);
    size_t roots;
    CHECK_CU(cuGraphGetRootNodes(g, NULL, &roots));
    CHECK_EQ_INT(roots, 1);
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int it = 0; it < 2; it++) {
        memset(h, 0, 2 * N * 4);
        CHECK_CU(cuGraphLaunch(ex, s1));
        CHECK_CU(cuStreamSynchronize(s1));
        CHECK_EQ_INT(h[0], 1);
        CHECK_EQ_INT(h[1], 3);
        CHECK_EQ_INT(h[N - 1], 1);
        CHECK_EQ_INT(h[N], 1);
        CHECK_EQ_INT(h[2 * N - 1], 2);
    }
    /* a fork that is never joined back */
    CHECK_CU(cuStreamBeginCapture(s1, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuEventRecord(fork, s1));
    CHECK_CU(cuStreamWaitEvent(s2, fork, 0));
    CHECK_CU(cuMemsetD32Async(b, 2, N, s2));
    CUgraph bad = (CUgraph)1;
    CHECK_CU_IS(cuStreamEndCapture(s2, &bad), CUDA_ERROR_STREAM_CAPTURE_UNMATCHED);
    CHECK_CU_IS(cuStreamEndCapture(s1, &bad), CUDA_ERROR_STREAM_CAPTURE_UNJOINED);
    CHECK(bad == NULL);
    CHECK_EQ_INT(gt_capture_status(s2), CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuEventDestroy(fork));
    CHECK_CU(cuEventDestroy(join));
    CHECK_CU(cuMemFreeHost(h));
    CHECK_CU(cuMemFree(a));
    CHECK_CU(cuMemFree(b));
    CHECK_CU(cuStreamDestroy(s1));
    CHECK_CU(cuStreamDestroy(s2));
}

RG_TEST(capture_mode_exchange)
{
    GT_CTX();
    CUstreamCaptureMode m = CU_STREAM_CAPTURE_MODE_RELAXED;
    CHECK_CU(cuThreadExchangeStreamCaptureMode(&m));
    CHECK_EQ_INT(m, CU_STREAM_CAPTURE_MODE_GLOBAL);
    CHECK_CU(cuThreadExchangeStreamCaptureMode(&m));
    CHECK_EQ_INT(m, CU_STREAM_CAPTURE_MODE_RELAXED);
}

/* A graph launched inside a capture becomes part of the captured graph. */
RG_TEST(capture_graph_launch)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr d;
    uint32_t h[8];
    CUgraph inner, g;
    CUgraphNode n;
    CUgraphExec iex, ex;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, sizeof h));
    CHECK_CU(cuGraphCreate(&inner, 0));
    CUDA_MEMSET_NODE_PARAMS m = {.dst = d, .value = 11, .elementSize = 4, .width = 8, .height = 1};
    CHECK_CU(cuGraphAddMemsetNode(&n, inner, NULL, 0, &m, gt_ctx()));
    CHECK_CU(cuGraphInstantiate(&iex, inner, 0));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuGraphLaunch(iex, s));
    CHECK_CU(cuMemcpyDtoHAsync(h, d, sizeof h, s));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    memset(h, 0, sizeof h);
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(h[i], 11);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphExecDestroy(iex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuGraphDestroy(inner));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST(capture_per_thread_stream)
{
    GT_CTX();
    CUdeviceptr d;
    CUgraph g;
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuStreamBeginCapture(CU_STREAM_PER_THREAD, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_EQ_INT(gt_capture_status(CU_STREAM_PER_THREAD), CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK_CU(cuMemsetD8Async(d, 1, 64, CU_STREAM_PER_THREAD));
    CHECK_CU(cuStreamEndCapture(CU_STREAM_PER_THREAD, &g));
    CHECK_EQ_INT(node_count(g), 1);
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

struct end_arg {
    CUstream s;
    CUresult r;
};

static void *end_elsewhere(void *p)
{
    struct end_arg *a = p;
    CUgraph g;
    cuCtxSetCurrent(gt_ctx());
    a->r = cuStreamEndCapture(a->s, &g);
    if (a->r == CUDA_SUCCESS) cuGraphDestroy(g);
    return NULL;
}

/* A GLOBAL or THREAD_LOCAL capture ends in the thread that began it. */
RG_TEST(capture_wrong_thread)
{
    GT_CTX();
    struct end_arg a = {0};
    pthread_t t;
    CUgraph g;
    CHECK_CU(cuStreamCreate(&a.s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamBeginCapture(a.s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    CHECK(pthread_create(&t, NULL, end_elsewhere, &a) == 0);
    pthread_join(t, NULL);
    CHECK_CU_IS(a.r, CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD);
    CHECK_CU(cuStreamEndCapture(a.s, &g));
    CHECK_CU(cuGraphDestroy(g));
    /* a relaxed capture may end anywhere */
    CHECK_CU(cuStreamBeginCapture(a.s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK(pthread_create(&t, NULL, end_elsewhere, &a) == 0);
    pthread_join(t, NULL);
    CHECK_CU(a.r);
    CHECK_EQ_INT(gt_capture_status(a.s), CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU(cuStreamDestroy(a.s));
}

/* A captured async copy from pageable memory reads the buffer when the graph
 * runs, not when the copy was captured. */
RG_TEST(capture_pageable_htod_reads_at_launch)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr d;
    CUgraph g;
    CUgraphExec ex;
    static uint32_t src[N], out[N];
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, sizeof src));
    for (int i = 0; i < N; i++)
        src[i] = 1;
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuMemcpyHtoDAsync(d, src, sizeof src, s));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    for (int i = 0; i < N; i++)
        src[i] = 7 + (uint32_t)i;
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuMemcpyDtoH(out, d, sizeof out));
    CHECK_EQ_INT(out[0], 7);
    CHECK_EQ_INT(out[N - 1], 7 + N - 1);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST_MAIN()
