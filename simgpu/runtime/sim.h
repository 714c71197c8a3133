/* sim.h — simgpu runtime internals shared by the files of simgpu/runtime/.
 * Every public entry point is defined under its exported name (cuda.h is read
 * with __CUDA_API_VERSION_INTERNAL, so cuMemAlloc_v2 is spelled out) and
 * follows the same shape: check init, resolve handles through the registry,
 * check pointer ranges, then act. Nothing the application passes is
 * dereferenced before it has been validated. */
#ifndef SIMGPU_SIM_H
#define SIMGPU_SIM_H

#include <cuda.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "darkapi.h" /* rg_log */
#include "ptx.h"

#define SIM_DRIVER_VERSION 13000
#define SIM_CC_MAJOR 12
#define SIM_CC_MINOR 0
#define SIM_ARCH 120 /* newest PTX target simgpu accepts */

/* ---- logging ---------------------------------------------------------------
 * rg_log from darkapi: silent unless RGPU_LOG (or SIMGPU_LOG) asks; prefix "simgpu". */
#define sim_err(...) rg_log(RG_LOG_ERROR, __VA_ARGS__)
#define sim_warn(...) rg_log(RG_LOG_WARN, __VA_ARGS__)
#define sim_info(...) rg_log(RG_LOG_INFO, __VA_ARGS__)
#define sim_debug(...) rg_log(RG_LOG_DEBUG, __VA_ARGS__)

/* ---- init (init.c) ------------------------------------------------------- */

/* CUDA_ERROR_NOT_INITIALIZED before cuInit succeeded, else CUDA_SUCCESS. */
CUresult sim_check_init(void);
#define SIM_INIT_OR_RETURN()                                                                       \
    do {                                                                                           \
        CUresult sim_r_ = sim_check_init();                                                        \
        if (sim_r_ != CUDA_SUCCESS) return sim_r_;                                                 \
    } while (0)

/* Parse a size such as "4G", "512M", "1048576"; returns 0 on error. */
size_t sim_parse_size(const char *s);

/* ---- handles (handles.c) --------------------------------------------------
 * Every object handed to the application starts with struct sim_obj and is in
 * the registry while alive. A handle is valid only if the registry holds it
 * with the expected kind: stale and bogus values are never dereferenced. */
enum sim_kind {
    SIM_KIND_CTX = 1,
    SIM_KIND_STREAM,
    SIM_KIND_EVENT,
    SIM_KIND_MODULE,
    SIM_KIND_FUNC,
    SIM_KIND_LIBRARY,
    SIM_KIND_KERNEL,
    SIM_KIND_LINK,
    SIM_KIND_GRAPH,
    SIM_KIND_GRAPH_NODE,
    SIM_KIND_GRAPH_EXEC,
    SIM_KIND_MEMPOOL,
    SIM_KIND_MEM_HANDLE, /* CUmemGenericAllocationHandle (VMM) */
    SIM_KIND_USER_OBJECT,
    SIM_KIND_COUNT
};

struct sim_obj {
    uint32_t kind; /* enum sim_kind */
    uint32_t alive;
};

void sim_handle_add(struct sim_obj *o, enum sim_kind kind);
void sim_handle_remove(struct sim_obj *o);
/* True if h is a live object of that kind. Never dereferences an unknown h. */
bool sim_handle_ok(const void *h, enum sim_kind kind);
/* Kind of a live handle, 0 if unknown. */
enum sim_kind sim_handle_kind(const void *h);

/* ---- devices (device.c) -------------------------------------------------- */

struct sim_ctx;

struct sim_device {
    int ordinal;  /* as the application sees it (after CUDA_VISIBLE_DEVICES) */
    int physical; /* index before CUDA_VISIBLE_DEVICES */
    CUuuid uuid;
    char name[256];
    size_t total_mem;    /* SIMGPU_MEMORY */
    _Atomic uint64_t used; /* bytes this process charged against total_mem */
    int pci_domain, pci_bus, pci_device;
    struct sim_ctx *primary; /* the primary context: one stable handle, always registered */
    pthread_mutex_t lock;
};

int sim_device_count(void);
/* NULL if ordinal is not a valid device. */
struct sim_device *sim_device(CUdevice ordinal);
/* Charge / release device memory against the device's capacity. Returns false
 * (nothing charged) when the device would exceed SIMGPU_MEMORY. */
bool sim_device_charge(struct sim_device *d, size_t bytes);
/* Bytes in use on the device: by every process sharing it (SIMGPU_SHARED), else this one. */
size_t sim_device_used(const struct sim_device *d);
void sim_device_uncharge(struct sim_device *d, size_t bytes);
int sim_device_attribute(struct sim_device *d, CUdevice_attribute a, int *out); /* 0 ok */

/* ---- contexts (context.c) ------------------------------------------------ */

struct sim_stream;

struct sim_ctx {
    struct sim_obj obj;
    struct sim_device *dev;
    unsigned flags;
    bool is_primary;
    bool active;               /* has its legacy stream: created contexts always; primary
                                  ones once retained or used while current (until reset) */
    int primary_refs;          /* primary: retain count */
    unsigned long long id;     /* cuCtxGetId */
    struct sim_stream *legacy; /* the NULL / CU_STREAM_LEGACY stream */
    size_t limits[16];         /* CUlimit values */
    CUfunc_cache cache_config;
    CUsharedconfig smem_config;
    _Atomic int sticky; /* sticky CUresult after a fault, 0 if none */
    pthread_mutex_t lock;
    /* -- appended by the runtime core; guarded by lock -- */
    struct sim_stream *streams; /* every stream of the context (incl. legacy, per-thread) */
    struct sim_event *events;   /* every event of the context */
    unsigned api_version;       /* cuCtxGetApiVersion */
    bool dead;                  /* destroyed / reset: no longer registered */
    struct sim_ctx *peers[64];  /* cuCtxEnablePeerAccess targets */
    int npeers;
    _Atomic uint64_t blocking_gen; /* bumped by every op queued on a blocking stream */
    _Atomic int refs;              /* the handle (until destroyed) and each stack entry naming it */
    /* cuCtxRecordEvent / cuCtxWaitEvent (stream.c) */
    struct sim_stream *aux;       /* hidden stream that gathers all the context's work */
    _Atomic uint64_t barrier_gen; /* bumped by cuCtxWaitEvent */
    struct sim_barrier *barriers; /* positions all later work waits for; under lock */
    size_t nbarriers, barriers_cap;
    ptx_heap *heap; /* device malloc/free (devheap.c); under lock, NULL until first needed */
    uintptr_t grid_ws; /* cooperative launches' grid workspace (devheap.c); under lock, 0 until first needed */
};

/* Context on top of the calling thread's stack, NULL if none. */
struct sim_ctx *sim_ctx_current(void);
/* Resolve a context argument: NULL means current. INVALID_CONTEXT if neither a
 * live context nor a current one exists; the sticky error if the ctx has one. */
CUresult sim_ctx_resolve(CUcontext h, struct sim_ctx **out);
/* The current context, activated (a primary context set current by handle
 * before it was retained is activated here, as cudart relies on). */
CUresult sim_ctx_get(struct sim_ctx **out);
/* Device heap of c (devheap.c): created on first call with the context's
 * CU_LIMIT_MALLOC_HEAP_SIZE, in device memory owned by c, then the same heap
 * until the context dies (sim_ctx_heap_destroy, after its memory is gone).
 * OUT_OF_MEMORY if the region cannot be allocated. */
CUresult sim_ctx_heap(struct sim_ctx *c, ptx_heap **out);
/* cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE): INVALID_VALUE once the heap exists. */
CUresult sim_ctx_heap_set_size(struct sim_ctx *c, size_t size);
void sim_ctx_heap_destroy(struct sim_ctx *c);
/* The grid workspace of c's cooperative launches (cooperative_groups' grid
 * sync barrier, read through %envreg1:2): 8 zeroed bytes of device memory
 * owned by c, made on first use. */
CUresult sim_ctx_grid_workspace(struct sim_ctx *c, uintptr_t *out);
/* Record an execution error as the context's sticky error. */
void sim_ctx_set_sticky(struct sim_ctx *c, CUresult r);
/* Wait until all work of every stream of the context is done; returns the
 * sticky/async error if any. */
CUresult sim_ctx_synchronize(struct sim_ctx *c);

/* ---- device memory and host memory registry (memory.c) --------------------
 * Device memory is host memory inside one reserved virtual region per process
 * (placed at SIMGPU_VA_BASE when given, so a remoting session can agree the
 * window), so a device pointer is recognisable by range. All live ranges
 * kernels may touch are in one table; launches take an immutable snapshot. */
enum sim_mem_kind {
    SIM_MEM_DEVICE = 1,     /* cuMemAlloc, pitch, async pools, module variables */
    SIM_MEM_HOST = 2,       /* cuMemAllocHost / cuMemHostAlloc */
    SIM_MEM_REGISTERED = 4, /* cuMemHostRegister */
    SIM_MEM_MANAGED = 8,    /* cuMemAllocManaged */
    SIM_MEM_VMM = 16,       /* mapped through cuMemMap */
};

struct sim_alloc {
    uintptr_t base;
    size_t size;
    enum sim_mem_kind kind;
    struct sim_device *dev;
    struct sim_ctx *ctx; /* owning context (NULL for module variables) */
    unsigned flags;      /* cuMemHostAlloc / attach flags */
    unsigned long long buffer_id;
    bool internal; /* module variable: not freeable by cuMemFree */
    void *pool;    /* struct sim_mempool * for stream-ordered allocations */
    bool freeing;  /* cuMemFreeAsync queued: a second free is an error */
    void *slab;    /* small allocations: the slab holding them (memory.c) */
    void *ipc;     /* opened with cuIpcOpenMemHandle: its mapping (ipc.c) */
};

/* Allocate device memory in the region, charged to dev. OUT_OF_MEMORY when the
 * device capacity or the region is exhausted. Zero-filled. */
CUresult sim_mem_alloc_device(struct sim_ctx *c, size_t size, bool internal, uintptr_t *out);
/* The same, charged to device d and owned by no context: it survives context
 * destruction and primary resets (e.g. variables of context-free libraries). */
CUresult sim_mem_alloc_device_on(struct sim_device *d, size_t size, bool internal, uintptr_t *out);
/* Free a device or managed allocation by its base, internal ones included
 * (cuMemFree refuses those itself); waits for the owning context's work. */
CUresult sim_mem_free_device(uintptr_t base);
/* The allocation containing p (any kind), copied to *out; false if none. */
bool sim_mem_lookup(uintptr_t p, struct sim_alloc *out);
/* CUDA_SUCCESS if [p, p+n) lies inside one live allocation whose kind is in
 * `kinds` (a mask); CUDA_ERROR_INVALID_VALUE otherwise. n == 0 is fine for any p. */
CUresult sim_mem_check(uintptr_t p, size_t n, unsigned kinds);
/* Snapshot of every range kernels may touch. The returned map stays valid
 * until released; it is rebuilt only when the table has changed. */
const ptx_mem_map *sim_mem_snapshot_acquire(void);
void sim_mem_snapshot_release(const ptx_mem_map *m);

/* ---- streams and events (stream.c, event.c) ------------------------------
 * Each stream runs its operations in order on a worker thread while the caller
 * goes on. The legacy NULL stream synchronises with blocking streams of its
 * context as the real driver does. An op that fails with an execution error
 * makes the context's error sticky. */
typedef CUresult (*sim_op_fn)(void *payload);

struct sim_stream; /* defined in stream.c */
struct sim_event;  /* defined in event.c */

/* Resolve a stream argument in context c (NULL = current). `per_thread` is true
 * for _ptsz/_ptds entry points: then NULL means the calling thread's
 * per-thread default stream. CU_STREAM_LEGACY and CU_STREAM_PER_THREAD keep
 * their meaning. INVALID_HANDLE for an unknown stream. *ctx_out gets the
 * stream's context. */
CUresult sim_stream_resolve(CUstream h, bool per_thread, struct sim_stream **out,
                            struct sim_ctx **ctx_out);
/* Queue fn(payload copy) on s; returns at once. payload is copied (len bytes). */
CUresult sim_stream_enqueue(struct sim_stream *s, sim_op_fn fn, const void *payload, size_t len);
/* Block until everything queued so far on s has run. Returns the sticky error. */
CUresult sim_stream_synchronize(struct sim_stream *s);
struct sim_ctx *sim_stream_ctx(struct sim_stream *s);

/* ---- copies (memcpy.c) ---------------------------------------------------
 * One place that validates a byte range on either side of a copy: device
 * pointers must be inside a live allocation; host pointers are the caller's
 * (pageable) or registered/pinned memory. */
CUresult sim_copy_check(uintptr_t dst, uintptr_t src, size_t n);
/* One side of a w x h x d copy (dims) starting at byte x, row y, slice z
 * (at) of a layout with the given row pitch and slice height (0: w and h):
 * its pitch, slice bytes, offset of the first byte from base and the extent
 * the copy spans from there. False on overflow or a pitch/height too small. */
struct sim_copy_layout {
    size_t pitch, slice, off, ext;
};
bool sim_copy_layout(uintptr_t base, const size_t at[3], size_t pitch, size_t height,
                     const size_t dims[3], struct sim_copy_layout *out);

/* ---- runtime-core extensions (appended; others may use them) ------------- */

/* Hooks run when a context dies (destroy, primary reset, last primary
 * release), after its streams are drained and before its memory is released,
 * without runtime locks held. Modules and graphs register one (e.g. from a
 * constructor); at most 8. */
typedef void (*sim_ctx_hook)(struct sim_ctx *c);
void sim_ctx_add_destroy_hook(sim_ctx_hook fn);
/* Optional darkapi glue: called once from the first cuInit (weak; may be absent). */
void sim_darkglue_init(void) __attribute__((weak));

/* Sticky-class execution errors (ILLEGAL_ADDRESS, ASSERT, LAUNCH_FAILED, ...). */
bool sim_error_is_sticky(CUresult r);

/* Stream-ordered op whose payload needs no cleanup: the payload lives in the
 * stream's ring (up to SIM_OP_INLINE bytes) or on the heap; fn sees a pointer
 * valid only during the call. sim_stream_enqueue never blocks except when the
 * ring is full, never allocates for payloads <= SIM_OP_INLINE. */
#define SIM_OP_INLINE 224 /* inline payloads are 16-byte aligned */
/* Stream capture: when set on a stream, sim_stream_enqueue hands the op to
 * the hook (the graph/capture code records it) instead of running it. */
typedef CUresult (*sim_capture_fn)(struct sim_stream *s, void *capture, sim_op_fn fn,
                                   const void *payload, size_t len);
void sim_stream_set_capture_hook(sim_capture_fn fn); /* = ops with only .enqueue */
/* The full set of capture callbacks; any may be NULL. record_event and
 * wait_event replace cuEventRecord / cuStreamWaitEvent on a capturing stream;
 * sync_check answers cuStreamSynchronize / cuStreamQuery on it (when NULL,
 * those return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED). The struct must
 * outlive the process. */
struct sim_capture_ops {
    sim_capture_fn enqueue;
    CUresult (*record_event)(struct sim_stream *s, void *capture, struct sim_event *e);
    CUresult (*wait_event)(struct sim_stream *s, void *capture, struct sim_event *e);
    CUresult (*sync_check)(struct sim_stream *s, void *capture);
};
void sim_stream_set_capture_ops(const struct sim_capture_ops *ops);
void sim_stream_set_capture(struct sim_stream *s, void *capture); /* NULL ends */
void *sim_stream_get_capture(struct sim_stream *s);
CUstream sim_stream_handle(struct sim_stream *s); /* the CUstream the app sees */
/* Non-zero CUresult if the stream's position has not been reached yet. */
CUresult sim_stream_query(struct sim_stream *s);

/* Capture checks (capture.c) for calls the capture callbacks do not see:
 * - sim_capture_check_sync: work on or synchronisation of the legacy stream
 *   s while a blocking stream of its context captures, or a context-wide
 *   synchronisation (s NULL: the current context) while any of its streams
 *   captures: STREAM_CAPTURE_IMPLICIT (or _UNSUPPORTED) and the offending
 *   captures invalidated; else CUDA_SUCCESS.
 * - sim_capture_check_unsafe: a "potentially unsafe" call (cuMemAlloc, sync
 *   copies, ...) under the calling thread's capture mode
 *   (GLOBAL / THREAD_LOCAL / RELAXED as cuThreadExchangeStreamCaptureMode
 *   documents): STREAM_CAPTURE_UNSUPPORTED and the offending captures
 *   invalidated; else CUDA_SUCCESS. Module and library loads are not
 *   checked: drivers from 12.3 load code during capture (lazy loading, and
 *   cuBLASLt loads each GEMM kernel on first use, inside captured graphs).
 * Both cost one atomic load while nothing captures. */
CUresult sim_capture_check_sync(struct sim_stream *s);
/* The context-wide case for context c (cuCtxSynchronize_v2 names it). */
CUresult sim_capture_check_ctx_sync(struct sim_ctx *c);
CUresult sim_capture_check_unsafe(void);
/* Both checks for a synchronous copy or memset about to use s (stream.c). */
CUresult sim_stream_check_sync_call(struct sim_stream *s);

/* Events (event.c). */
CUresult sim_event_resolve(CUevent h, struct sim_event **out);
CUresult sim_event_record(struct sim_event *e, struct sim_stream *s);
CUresult sim_stream_wait_event(struct sim_stream *s, struct sim_event *e);

/* Event internals for IPC (event.c): a new event of c (the registry holds
 * it); its flags; the generations it has completed; its shared record. */
struct sim_ipc_event;
CUresult sim_event_new(struct sim_ctx *c, unsigned flags, struct sim_event **out);
unsigned sim_event_flags(const struct sim_event *e);
uint64_t sim_event_done_gen(struct sim_event *e);
struct sim_ipc_event *sim_event_ipc(struct sim_event *e);
void sim_event_set_ipc(struct sim_event *e, struct sim_ipc_event *ev); /* e owns ev */

/* ---- IPC (ipc.c) ----------------------------------------------------------
 * Exported memory is a memfd mapped in place; imports are table entries with
 * a->ipc set. Interprocess events keep their counters in a shared page. */
/* The pages that share with an allocation when it is exported (its slab for a
 * small one); false if it cannot be exported (memory.c). */
bool sim_mem_region(const struct sim_alloc *a, uintptr_t *lo, size_t *len);
/* [lo, lo+len) is being freed: if exported, private pages again. */
void sim_ipc_unshare(uintptr_t lo, size_t len);
/* An import's table entry was removed: unmap it and give its addresses back. */
void sim_ipc_release(const struct sim_alloc *a);
void sim_ipc_event_free(struct sim_ipc_event *ev);
uint64_t sim_ipc_event_next(struct sim_ipc_event *ev);            /* a record: its generation */
void sim_ipc_event_done(struct sim_ipc_event *ev, uint64_t gen);  /* that record ran */
uint64_t sim_ipc_event_target(struct sim_ipc_event *ev);          /* the last one recorded */
bool sim_ipc_event_reached(struct sim_ipc_event *ev, uint64_t gen);
void sim_ipc_event_wait(struct sim_ipc_event *ev, uint64_t gen);  /* blocks */

/* Do a host-side copy of n bytes once both ranges are validated (memcpy.c);
 * used by copy ops of graphs. */
CUresult sim_memcpy_async(struct sim_stream *s, uintptr_t dst, uintptr_t src, size_t n);

/* Memory pools (mempool.c). */
struct sim_mempool;
struct sim_mempool *sim_device_default_pool(struct sim_device *d);

/* ---- modules, functions, launch (module.c, library.c, launch.c) ---------- */

struct sim_module;
struct sim_func;

/* Launch fn with packed params on stream s; checks dims and shared memory like
 * the driver. Used by cuLaunchKernel*, graphs and cooperative launches. */
CUresult sim_launch(struct sim_func *f, struct sim_stream *s, const unsigned grid[3],
                    const unsigned block[3], unsigned dyn_smem, void **kernel_params, void **extra);

/* A kernel launch op as queued on a stream (fn, payload, len as a capture
 * hook sees them), decoded. params points into the payload. */
struct sim_launch_info {
    struct sim_func *f;
    struct sim_ctx *ctx;
    unsigned grid[3], block[3], dyn_smem;
    const void *params; /* packed parameter buffer, params_size bytes */
    size_t params_size;
};
/* True (and *out filled) if the op is a launch made by sim_launch or the
 * cuLaunch* entry points; false for any other op. */
bool sim_launch_op_info(sim_op_fn fn, const void *payload, size_t len, struct sim_launch_info *out);

/* Device printf output produced by kernels, held until the next synchronising
 * call of the host, then written to stdout in order. */
void sim_printf_flush(void);

/* Resolve a CUfunction, or a CUkernel cast to one (instantiated lazily in c),
 * for use in context c (NULL: current). INVALID_HANDLE if neither. */
CUresult sim_func_resolve(CUfunction h, struct sim_ctx *c, struct sim_func **out);
/* Bytes of f's parameter buffer, and packing like cuLaunchKernel (kernelParams
 * or the extra buffer; INVALID_VALUE on a bad combination) into buf. Graph
 * kernel nodes pack once, then launch with CU_LAUNCH_PARAM_BUFFER_POINTER. */
size_t sim_func_params_size(const struct sim_func *f);
CUresult sim_func_pack_params(const struct sim_func *f, void **kernel_params, void **extra,
                              void *buf);

/* Translate interpreter status to the driver's code. */
CUresult sim_ptx_status_to_cu(enum ptx_status s);

#endif
