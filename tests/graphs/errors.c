/* errors.c — what the graph and capture entry points return for bad input:
 * NULL and bogus handles, nodes of other graphs, cycles, wrong node kinds,
 * capture state errors and synchronisation during capture. */
#include <string.h>

#include <pthread.h>

#include "gt.h"

#define BOGUS(T) ((T)(uintptr_t)0xdeadbeef0ull)

RG_TEST(bad_handles)
{
    GT_CTX();
    CUgraph g;
    CUgraphNode nd;
    CUgraphExec ex;
    size_t n;
    CHECK_CU_IS(cuGraphCreate(NULL, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphCreate(&g, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphDestroy(NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphDestroy(BOGUS(CUgraph)), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphAddEmptyNode(&nd, BOGUS(CUgraph), NULL, 0), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphGetNodes(BOGUS(CUgraph), NULL, &n), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphInstantiate(&ex, BOGUS(CUgraph), 0), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphNodeGetType(BOGUS(CUgraphNode), &(CUgraphNodeType){0}),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphDestroyNode(NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphLaunch(NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphLaunch(BOGUS(CUgraphExec), NULL), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphExecDestroy(BOGUS(CUgraphExec)), CUDA_ERROR_INVALID_HANDLE);
    /* stale handles */
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&nd, g, NULL, 0));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU_IS(cuGraphDestroy(g), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphNodeGetType(nd, &(CUgraphNodeType){0}), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuGraphLaunch(ex, NULL), CUDA_ERROR_INVALID_HANDLE);
}

RG_TEST(bad_structure)
{
    GT_CTX();
    CUgraph g, h;
    CUgraphNode a, b, c, other;
    CUgraphExec ex;
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphCreate(&h, 0));
    CHECK_CU(cuGraphAddEmptyNode(&a, g, NULL, 0));
    CHECK_CU(cuGraphAddEmptyNode(&other, h, NULL, 0));
    CHECK_CU_IS(cuGraphAddEmptyNode(&b, g, &other, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphAddEmptyNode(&b, g, NULL, 1), CUDA_ERROR_INVALID_VALUE);
    CUgraphNode twice[] = {a, a};
    CHECK_CU_IS(cuGraphAddEmptyNode(&b, g, twice, 2), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphAddDependencies(g, &a, &other, NULL, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuGraphAddEmptyNode(&b, g, &a, 1));
    CHECK_CU(cuGraphAddEmptyNode(&c, g, &b, 1));
    CHECK_CU(cuGraphAddDependencies(g, &c, &a, NULL, 1)); /* a cycle */
    CHECK(cuGraphInstantiate(&ex, g, 0) != CUDA_SUCCESS);
    CHECK_CU(cuGraphRemoveDependencies(g, &c, &a, NULL, 1));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU_IS(cuGraphNodeFindInClone(&b, other, g), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuGraphDestroy(h));
}

RG_TEST(bad_params)
{
    GT_CTX();
    CUgraph g;
    CUgraphNode e, m;
    CUdeviceptr d;
    char host[64];
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuGraphCreate(&g, 0));
    CHECK_CU(cuGraphAddEmptyNode(&e, g, NULL, 0));
    CUDA_MEMSET_NODE_PARAMS p = {.dst = d, .value = 1, .elementSize = 3, .width = 4, .height = 1};
    CHECK_CU_IS(cuGraphAddMemsetNode(&m, g, NULL, 0, &p, NULL), CUDA_ERROR_INVALID_VALUE);
    p.elementSize = 4;
    p.width = 17; /* past the allocation */
    CHECK_CU_IS(cuGraphAddMemsetNode(&m, g, NULL, 0, &p, NULL), CUDA_ERROR_INVALID_VALUE);
    p.width = 16;
    p.dst = (CUdeviceptr)(uintptr_t)host; /* not device memory */
    CHECK_CU_IS(cuGraphAddMemsetNode(&m, g, NULL, 0, &p, NULL), CUDA_ERROR_INVALID_VALUE);
    p.dst = d;
    CHECK_CU(cuGraphAddMemsetNode(&m, g, NULL, 0, &p, NULL));
    CHECK_CU_IS(cuGraphAddMemsetNode(&m, g, NULL, 0, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    CUDA_MEMCPY3D c;
    memset(&c, 0, sizeof c);
    c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    c.srcDevice = d;
    c.dstMemoryType = CU_MEMORYTYPE_HOST;
    c.dstHost = host;
    c.WidthInBytes = 65; /* one byte too many */
    c.Height = c.Depth = 1;
    CHECK_CU_IS(cuGraphAddMemcpyNode(&m, g, NULL, 0, &c, NULL), CUDA_ERROR_INVALID_VALUE);
    CUDA_HOST_NODE_PARAMS hp = {NULL, NULL};
    CHECK_CU_IS(cuGraphAddHostNode(&m, g, NULL, 0, &hp), CUDA_ERROR_INVALID_VALUE);
    CUDA_KERNEL_NODE_PARAMS kp;
    memset(&kp, 0, sizeof kp);
    kp.gridDimX = kp.gridDimY = kp.gridDimZ = kp.blockDimX = kp.blockDimY = kp.blockDimZ = 1;
    CHECK_CU_IS(cuGraphAddKernelNode(&m, g, NULL, 0, &kp), CUDA_ERROR_INVALID_VALUE);
    kp.func = BOGUS(CUfunction);
    CHECK_CU_IS(cuGraphAddKernelNode(&m, g, NULL, 0, &kp), CUDA_ERROR_INVALID_HANDLE);
    /* the wrong kind of node */
    CUDA_MEMSET_NODE_PARAMS got;
    CHECK_CU_IS(cuGraphMemsetNodeGetParams(e, &got), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphKernelNodeGetParams(e, &kp), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphEventRecordNodeGetEvent(e, &(CUevent){0}), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuGraphAddEventRecordNode(&m, g, NULL, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
}

RG_TEST(capture_state_errors)
{
    GT_CTX();
    CUstream s, nb;
    CUgraph g = NULL;
    CUstreamCaptureStatus st;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuStreamCreate(&nb, CU_STREAM_NON_BLOCKING));
    CHECK_CU_IS(cuStreamEndCapture(s, &g), CUDA_ERROR_ILLEGAL_STATE);
    CHECK_CU_IS(cuStreamBeginCapture(NULL, CU_STREAM_CAPTURE_MODE_GLOBAL),
                CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    CHECK_CU_IS(cuStreamBeginCapture(s, (CUstreamCaptureMode)7), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuStreamBeginCapture(BOGUS(CUstream), CU_STREAM_CAPTURE_MODE_GLOBAL),
                CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuStreamUpdateCaptureDependencies(s, NULL, NULL, 0, 0), CUDA_ERROR_ILLEGAL_STATE);
    CHECK_CU_IS(cuThreadExchangeStreamCaptureMode(NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuStreamIsCapturing(s, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU_IS(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_ERROR_ILLEGAL_STATE);
    CHECK_CU_IS(cuStreamEndCapture(s, NULL), CUDA_ERROR_INVALID_VALUE);
    /* the legacy stream while a blocking stream captures */
    CHECK_CU_IS(cuStreamIsCapturing(CU_STREAM_LEGACY, &st), CUDA_ERROR_STREAM_CAPTURE_IMPLICIT);
    CHECK_CU(cuStreamIsCapturing(nb, &st));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU_IS(cuStreamEndCapture(nb, &g), CUDA_ERROR_ILLEGAL_STATE);
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK(g != NULL);
    CHECK_CU(cuGraphDestroy(g));
    /* only a non-blocking stream captures: the legacy stream may be asked */
    CHECK_CU(cuStreamBeginCapture(nb, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(cuStreamIsCapturing(CU_STREAM_LEGACY, &st));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU(cuStreamEndCapture(nb, &g));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuStreamDestroy(nb));
}

/* Synchronising a capturing stream is illegal and invalidates the capture. */
RG_TEST(sync_during_capture)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr d;
    CUgraph g = (CUgraph)1;
    CUstreamCaptureStatus st;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuMemsetD8Async(d, 1, 64, s));
    CUresult r = cuStreamSynchronize(s);
    if (r == CUDA_SUCCESS) {
        cuStreamEndCapture(s, &g);
        if (g) cuGraphDestroy(g);
        cuMemFree(d);
        cuStreamDestroy(s);
        RG_SKIP("this backend does not report synchronisation during capture yet");
    }
    CHECK_CU_IS(r, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    CHECK_CU(cuStreamIsCapturing(s, &st));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_INVALIDATED);
    CHECK_CU_IS(cuMemsetD8Async(d, 2, 64, s), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
    CHECK_CU_IS(cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
    CHECK(g == NULL);
    CHECK_CU(cuStreamIsCapturing(s, &st));
    CHECK_EQ_INT(st, CU_STREAM_CAPTURE_STATUS_NONE);
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

/* cuCtxSynchronize_v2 checks the captures of the context it names, not of
 * the current one. */
RG_TEST(ctx_synchronize_v2_checks_named_context)
{
    GT_CTX();
    CUcontext a, b;
    CUdevice dev;
    CUstream s;
    CUdeviceptr d;
    CUgraph g = NULL;
    CHECK_CU(cuCtxGetCurrent(&a));
    CHECK_CU(cuCtxGetDevice(&dev));
    CHECK_CU(cuCtxCreate(&b, NULL, 0, dev)); /* b is current now */
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(cuMemsetD8Async(d, 1, 64, s));
    CHECK_CU(cuCtxPushCurrent(a));
    CHECK_CU(cuCtxSynchronize_v2(a)); /* a captures nothing */
    CHECK_EQ_INT(gt_capture_status(s), CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK_CU_IS(cuCtxSynchronize_v2(b), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    CHECK_EQ_INT(gt_capture_status(s), CU_STREAM_CAPTURE_STATUS_INVALIDATED);
    CHECK_CU(cuCtxPopCurrent(NULL));
    CHECK_CU_IS(cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
    /* and the other way round: b current, a capturing */
    CHECK_CU(cuCtxPushCurrent(a));
    CUstream sa;
    CHECK_CU(cuStreamCreate(&sa, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuStreamBeginCapture(sa, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(cuCtxPopCurrent(NULL));
    CHECK_CU(cuCtxSynchronize_v2(b));
    CHECK_EQ_INT(gt_capture_status(sa), CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK_CU(cuStreamEndCapture(sa, &g));
    if (g) CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuStreamDestroy(sa));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuCtxDestroy(b));
    CHECK_CU(cuCtxSetCurrent(a));
}

/* End a capture that must have been invalidated. */
static int end_invalidated(CUstream s)
{
    CUgraph g = (CUgraph)1;
    CUresult r = cuStreamEndCapture(s, &g);
    return r == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED && g == NULL;
}

/* Using or synchronising the legacy stream while a blocking stream captures
 * is an implicit dependency on the capture: IMPLICIT, and the capture is
 * invalidated. A context-wide synchronisation is refused outright. */
RG_TEST(legacy_stream_during_capture)
{
    GT_CTX();
    CUstream s, nb;
    CUdeviceptr d;
    CUgraph g;
    CHECK_CU(cuStreamCreate(&s, 0));
    CHECK_CU(cuStreamCreate(&nb, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, 64));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU_IS(cuMemsetD8Async(d, 1, 64, NULL), CUDA_ERROR_STREAM_CAPTURE_IMPLICIT);
    CHECK_EQ_INT(gt_capture_status(s), CU_STREAM_CAPTURE_STATUS_INVALIDATED);
    CHECK(end_invalidated(s));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU_IS(cuStreamSynchronize(CU_STREAM_LEGACY), CUDA_ERROR_STREAM_CAPTURE_IMPLICIT);
    CHECK(end_invalidated(s));
    /* a non-blocking capture leaves the legacy stream usable */
    CHECK_CU(cuStreamBeginCapture(nb, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(cuMemsetD8Async(d, 1, 64, NULL));
    CHECK_CU(cuStreamSynchronize(NULL));
    CHECK_EQ_INT(gt_capture_status(nb), CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK_CU_IS(cuCtxSynchronize(), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    CHECK(end_invalidated(nb));
    CHECK_CU(cuStreamBeginCapture(nb, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(cuStreamEndCapture(nb, &g));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
    CHECK_CU(cuStreamDestroy(nb));
}

struct unsafe_arg {
    CUcontext ctx;
    CUstreamCaptureMode mode; /* the helper thread's interaction mode */
    CUresult r;
};

/* cuMemAlloc + cuMemFree from another thread, in that thread's mode. */
static void *alloc_elsewhere(void *p)
{
    struct unsafe_arg *a = p;
    CUdeviceptr d = 0;
    CUstreamCaptureMode m = a->mode;
    cuCtxSetCurrent(a->ctx);
    cuThreadExchangeStreamCaptureMode(&m);
    a->r = cuMemAlloc(&d, 64);
    if (!a->r) a->r = cuMemFree(d);
    return NULL;
}

static CUresult alloc_in_thread(CUstreamCaptureMode mode)
{
    struct unsafe_arg a = {gt_ctx(), mode, CUDA_ERROR_UNKNOWN};
    pthread_t t;
    if (pthread_create(&t, NULL, alloc_elsewhere, &a)) return CUDA_ERROR_UNKNOWN;
    pthread_join(t, NULL);
    return a.r;
}

/* "Potentially unsafe" calls (allocation, synchronous copies) during a
 * capture, per the capture's mode and the calling thread's mode. */
RG_TEST(unsafe_calls_during_capture)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr d;
    CUgraph g;
    char host[64] = {0};
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAlloc(&d, 64));
    /* GLOBAL: forbidden in the capturing thread ... */
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU_IS(cuMemcpyHtoD(d, host, sizeof host), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    CHECK(end_invalidated(s));
    /* ... and in other threads unless they are relaxed */
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU(alloc_in_thread(CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(alloc_in_thread(CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    CHECK_EQ_INT(gt_capture_status(s), CU_STREAM_CAPTURE_STATUS_ACTIVE);
    CHECK_CU_IS(alloc_in_thread(CU_STREAM_CAPTURE_MODE_GLOBAL),
                CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    CHECK(end_invalidated(s));
    /* THREAD_LOCAL: other threads are free, the capturing thread is not */
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    CHECK_CU(alloc_in_thread(CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK_CU_IS(cuMemAlloc(&(CUdeviceptr){0}, 64), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    CHECK(end_invalidated(s));
    /* RELAXED: allowed everywhere */
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CHECK_CU(alloc_in_thread(CU_STREAM_CAPTURE_MODE_GLOBAL));
    CUdeviceptr d2;
    CHECK_CU(cuMemAlloc(&d2, 64));
    CHECK_CU(cuMemFree(d2));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuMemFree(d));
    CHECK_CU(cuStreamDestroy(s));
}

/* Stream-ordered allocation in a capture: either memory nodes that allocate
 * and free at each launch (the driver), or refused (NOT_SUPPORTED). A free
 * recorded as a plain operation would free whatever lives at the address
 * when the graph runs again. */
RG_TEST(stream_ordered_alloc_in_capture)
{
    GT_CTX();
    CUstream s;
    CUdeviceptr p, q;
    CUgraph g;
    CUgraphExec ex;
    CHECK_CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CHECK_CU(cuMemAllocAsync(&q, 4096, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CUresult r = cuMemAllocAsync(&p, 4096, s);
    if (r == CUDA_ERROR_NOT_SUPPORTED) {
        CHECK_CU_IS(cuMemFreeAsync(q, s), CUDA_ERROR_NOT_SUPPORTED);
        CHECK_CU(cuStreamEndCapture(s, &g));
        CHECK_CU(cuGraphDestroy(g));
        CHECK_CU(cuMemFreeAsync(q, s));
        CHECK_CU(cuStreamSynchronize(s));
        CHECK_CU(cuStreamDestroy(s));
        return;
    }
    CHECK_CU(r);
    CHECK_CU(cuMemsetD8Async(p, 1, 4096, s));
    CHECK_CU(cuMemFreeAsync(p, s));
    CHECK_CU(cuStreamEndCapture(s, &g));
    CHECK_CU(cuGraphInstantiate(&ex, g, 0));
    CHECK_CU(cuMemFreeAsync(q, s));
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuMemAllocAsync(&q, 4096, s)); /* may reuse the graph's address */
    CHECK_CU(cuGraphLaunch(ex, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuMemsetD8Async(q, 2, 4096, s)); /* still ours */
    CHECK_CU(cuMemFreeAsync(q, s));
    CHECK_CU(cuStreamSynchronize(s));
    CHECK_CU(cuGraphExecDestroy(ex));
    CHECK_CU(cuGraphDestroy(g));
    CHECK_CU(cuStreamDestroy(s));
}

RG_TEST_MAIN()
