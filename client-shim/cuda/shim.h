/* shim.h — the client shim's internal interfaces: session state (settings and
 * what Welcome said), the connection to rgpud, per-thread context stacks, ids,
 * pinned host memory and device caches. Nothing here is exported: the library
 * exports only cu* (shim.map). */
#ifndef RG_SHIM_H
#define RG_SHIM_H

#include <cuda.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "calls.h"
#include "darkapi.h"
#include "frame.h"

#define RG_SHIM_VERSION "0.1.0"
#define RG_DEFAULT_SERVER "tcp://127.0.0.1:7070"
#define RG_DEFAULT_TIMEOUT_S 30
#define RG_WINDOW_SIZE (1ull << 40) /* reserved address space only: PROT_NONE, NORESERVE */
#define RG_MAX_DEVICES 64

/* ---- ids (docs/remoting.md "Handles") ------------------------------------ */

#define RG_ID_TYPE_SHIFT 40
#define RG_ID_SERVER_BIT (1ull << 39)
#define RG_ID_SERIAL_MASK (RG_ID_SERVER_BIT - 1)
static inline uint64_t rg_id_make(unsigned type, int server, uint64_t serial)
{
    return ((uint64_t)type << RG_ID_TYPE_SHIFT) | (server ? RG_ID_SERVER_BIT : 0) | serial;
}
static inline unsigned rg_id_type(uint64_t id)
{
    return (unsigned)(id >> RG_ID_TYPE_SHIFT);
}
/* The fixed id of device `ord`'s primary context: server-minted serial ord + 1
 * (the worker mints the primary contexts first, at the handshake). */
uint64_t rg_primary_ctx_id(int ord); /* ord: the application's ordinal (devices.c) */
/* A fresh client-minted id of type t (never reused). */
uint64_t rg_id_mint(unsigned t);
/* Remembers that id was destroyed (it is never valid again). */
void rg_id_kill(uint64_t id);
/* Is id plausibly a live handle of type t? Only what the shim can know:
 * neither it nor what it lives in (rg_id_set_parent) was destroyed. */
int rg_id_plausible(unsigned t, uint64_t id);
/* Remembers what id lives in: a stream's, event's or module's context, a
 * function's module or kernel, a kernel's library (the first answer stays). */
void rg_id_set_parent(uint64_t id, uint64_t parent);
uint64_t rg_id_parent(uint64_t id); /* 0 if unknown */
uint64_t rg_id_ctx(uint64_t id);    /* the context id lives in, through its parents; 0 if unknown */
/* A stream's context: the current one for NULL / CU_STREAM_LEGACY / CU_STREAM_PER_THREAD. */
uint64_t rg_stream_ctx(uint64_t stream);
/* After cuDevicePrimaryCtxReset: what lived in the context (its id stays valid) is gone. */
void rg_ctx_children_die(uint64_t ctx);

/* ---- session state ----------------------------------------------------------- */

struct rg_device {
    char name[256];
    CUuuid uuid;
    uint64_t total_mem;
    int cc_major, cc_minor;
};

struct rg_settings {
    char server[512];
    char token[512];
    unsigned devices_wanted;
    int all_devices; /* RGPU_DEVICES=all */
    int timeout_ms;
    int launch_blocking;
};

enum rg_state { RG_UNINIT = 0, RG_READY, RG_FAILED };

struct rg_session {
    _Atomic int state;  /* enum rg_state, after cuInit */
    _Atomic int forked; /* this process is a child forked after cuInit */
    CUresult init_result;
    struct rg_settings cfg;
    int driver_version;
    int ndev;                          /* devices as the application sees them */
    struct rg_device dev[RG_MAX_DEVICES]; /* by the application's ordinal */
    int sess_ord[RG_MAX_DEVICES];      /* application ordinal -> session ordinal */
    int nsess;                         /* the session's devices (Welcome) */
    uint64_t session_id;
    void *window;
    size_t window_size;
};

extern struct rg_session rg_sess;

/* cuInit: connect once; later calls return the first answer. */
CUresult rg_shim_init(unsigned int flags);

/* The result every call gets when the shim cannot run it: NOT_INITIALIZED
 * before cuInit and after fork, the cuInit failure, DEVICE_UNAVAILABLE once
 * the server is lost; CUDA_SUCCESS when calls may go ahead. */
CUresult rg_ready(void);

/* ---- connection (conn.c) ------------------------------------------------------ */

struct rg_reply {
    rpc_hdr hdr;
    void *enc;     /* heap, hdr.enc_len bytes; rg_reply_free releases */
    void *raw;     /* heap, raw_len bytes gathered from REPLY + DATA frames */
    size_t raw_len;
    CUresult error; /* set instead of a reply by an ERROR frame about this call */
    void *sink;     /* rg_conn_call_into's: raw == sink when received in place */
    size_t sink_len;
};
void rg_reply_free(struct rg_reply *r);

/* Dials, handshakes and starts the receiver. CUDA_SUCCESS or NO_DEVICE (with
 * the one log line already written). */
CUresult rg_conn_open(void);
/* Sends one CALL (chunked into DATA frames when the raw bytes exceed a frame)
 * and, if wait, blocks until its REPLY. h carries op/ctx/flags; thread and seq
 * are filled here. On CUDA_SUCCESS with wait, *rep is the caller's to free. */
CUresult rg_conn_call(rpc_hdr *h, const void *enc, size_t enc_len, const struct iovec *raw,
                      int nraw, int wait, struct rg_reply *rep);
/* The same, receiving the reply's raw bytes in place into sink[0..sink_len)
 * when they fit (rep->raw == sink then): a generic reply's one output buffer. */
CUresult rg_conn_call_into(rpc_hdr *h, const void *enc, size_t enc_len, const struct iovec *raw,
                           int nraw, int wait, void *sink, size_t sink_len, struct rg_reply *rep);
/* Sends one NOREPLY CALL without waiting for a credit (a host callback's
 * acknowledgement must never wait behind calls that wait for it). */
CUresult rg_conn_post(uint32_t op, const void *enc, size_t enc_len);
/* Pipelined calls run again (rpc/frame.h `repeat`): the calling thread's next
 * batched CALL is kept with key (len 0: none) as the batch's last frame;
 * rg_conn_repeat counts one more run of it, instead of a frame, while it is
 * still the last frame batched and key[0..fixed) is the same. key[fixed..len)
 * are the run's own parameter bytes: sent with it unless every run so far had
 * the first one's. 1 if it did. */
#define RG_REPEAT_KEY_MAX 512
void rg_conn_offer_repeat(const void *key, size_t fixed, size_t len);
int rg_conn_repeat(const void *key, size_t fixed, size_t len);
/* An asynchronous error reported by the server for a pipelined call, taken
 * once (CUDA_SUCCESS if none). */
CUresult rg_conn_take_async_error(void);
/* Puts back an asynchronous error taken around a query the shim made for
 * itself, so the application's next waiting call still reports it. */
void rg_conn_restore_async_error(CUresult r);
int rg_conn_lost(void);
/* GL frames (RG_NOTIFY_GL_FRAME) go to sink, called on whichever thread reads
 * (never with the shim's locks held); it takes raw (malloc'd, may be NULL). */
typedef void (*rg_frame_sink)(const void *enc, size_t enc_len, void *raw, size_t raw_len);
void rg_conn_set_frame_sink(rg_frame_sink sink);
/* Waits until done(arg) (asked under the connection's lock, after each frame
 * received), reading frames meanwhile when no other thread does.
 * CUDA_ERROR_DEVICE_UNAVAILABLE once the server is lost. */
CUresult rg_conn_wait_until(int (*done)(void *), void *arg);
/* Largest encoded part the server accepts. */
size_t rg_conn_max_enc(void);
/* This thread may take the last few credits, which the others leave it
 * (managed.c's helper: a host callback's PULL must never wait behind calls
 * that wait for the stream the callback holds). */
void rg_conn_reserve_user(void);
/* Starts fn(NULL) on a detached thread of the shim's own (receiver, flusher,
 * callback runners, managed helper), which takes no signals: the application's
 * handlers run on the application's threads. pthread_create's result. */
int rg_thread_start(void *(*fn)(void *));

/* ---- host callbacks and device output (callbacks.c) ----------------------------
 * NOTIFY kinds (frame op) and the callback CALL's sub-commands; the worker
 * (server/session.h) uses the same numbers. */
#define RG_NOTIFY_HOSTFN 1   /* enc: u64 callback id */
#define RG_NOTIFY_CALLBACK 2 /* enc: u64 callback id, u32 stream status */
#define RG_NOTIFY_STDOUT 3   /* raw: device printf text */
#define RG_NOTIFY_STDERR 4   /* raw: device assert text */
#define RG_CB_ENQUEUE 1      /* u32 sub, u64 stream id, u64 callback id, u32 flags */
#define RG_CB_DONE 2         /* u32 sub, u64 callback id; NOREPLY */
/* The receiver: the server reached callback id (status for cuStreamAddCallback). */
void rg_cb_notified(uint64_t id, CUresult status);
/* Host callbacks enqueued and not yet run. */
int rg_cb_pending(void);
/* forward.c: a stream capture may be active in the process (nothing is pipelined then). */
int rg_capture_active(void);
/* Graphs (callbacks.c, docs/protocol.md): host functions of graph nodes and
 * captured host functions, and the bytes of copies whose host sides are ours. */
#define RG_NOTIFY_HOSTNODE 5 /* enc: u64 request, u64 fn, u64 data (fn 0: data = captured callback id) */
#define RG_NOTIFY_FETCH 6    /* enc: u64 request, u64 addr, width, height, depth, pitch, slice pitch */
#define RG_NOTIFY_PUSH 7     /* enc: the same; raw: the bytes to write there */
#define RG_NOTIFY_CAPTURED 8 /* enc: u64 callback id: kept for the graph's replays */
#define RG_NOTIFY_GL_FRAME 9 /* a window's frame (docs/gl.md "The frame channel"); enc and raw
                                go to the GL library's sink (rgpu_private.h) */
/* The receiver: a graph NOTIFY with its raw bytes (raw_len 0: none). */
void rg_graph_notify(uint32_t kind, const void *enc, size_t enc_len, const void *raw, size_t raw_len);
/* rg_conn_post with raw bytes (a FETCH's answer). */
CUresult rg_conn_post_raw(uint32_t op, const void *enc, size_t enc_len, const struct iovec *raw,
                          int nraw);

/* ---- threads and contexts (ctx.c) --------------------------------------------- */

uint32_t rg_thread_id(void);        /* this thread's shim number (>= 1) */
uint64_t rg_ctx_current_id(void);   /* top of this thread's context stack, 0 if none */
void rg_ctx_created(uint64_t id, CUdevice dev); /* push a client-minted context */
void rg_ctx_destroyed(uint64_t id);
int rg_ctx_device(uint64_t id, CUdevice *dev);  /* 0 if the shim knows ctx's device */
int rg_ctx_dead(uint64_t id);                    /* destroyed through this shim */
void rg_ctx_set_sticky(uint64_t id, CUresult code);
CUresult rg_ctx_sticky(uint64_t id); /* the context's sticky fault, or CUDA_SUCCESS */
void rg_ctx_clear_sticky(uint64_t id);

/* ---- device allocations (mirror.c) ------------------------------------------- */
void rg_mirror_add(uint64_t base, uint64_t size);
uint64_t rg_mirror_remove(uint64_t base); /* the span's size, 0 if it was not there */
/* Addresses in use again that the mirror does not track (an opened IPC range). */
void rg_mirror_unfree(uint64_t base, uint64_t size);
int rg_in_window(uint64_t p);
int rg_mirror_range_ok(uint64_t p, uint64_t len);
/* cuMemcpy2D / 3D: CU_MEMORYTYPE_UNIFIED sides retyped HOST (outside the window) or
 * DEVICE in a copy of the struct (tmp); returns the arguments to send (wire or args). */
struct rg_copy_struct {
    union {
        CUDA_MEMCPY2D m2;
        CUDA_MEMCPY3D m3;
    };
    void *p; /* the argument: points at the union */
};
void **rg_mirror_unified_copy(const struct rpc_call_desc *d, void **args, void **wire,
                              struct rg_copy_struct *tmp);
int rg_host_mapped(uint64_t p, uint64_t len); /* hostmem.c */

/* ---- managed memory mirrored in the application (managed.c) ------------------- */
/* Makes [base, base+size) of the window usable here; 0, or -1 (not mirrored). */
int rg_managed_add(uint64_t base, uint64_t size);
void rg_managed_remove(uint64_t base);
/* A context destroyed or reset: its managed allocations went with it. */
void rg_managed_ctx_gone(uint64_t ctx);
/* After cuLibraryGetManaged: the __managed__ variable is mirrored, its value fetched. */
void rg_managed_var(const struct rpc_call_desc *d, void **args);
int rg_managed_contains(uint64_t p, uint64_t len); /* inside one mirrored region */
int rg_managed_live(void); /* any managed memory mirrored: device calls push it first */
/* Before call d is sent: the application's changes go to the worker if the
 * device may read them. After d succeeded: the device's changes come back if
 * d makes them visible. */
CUresult rg_managed_before(const struct rpc_call_desc *d, void **args);
CUresult rg_managed_after(const struct rpc_call_desc *d);
/* Around a host callback (callbacks.c): the device's changes come back before
 * it runs; its own go to the worker, applied, before its DONE is sent. */
void rg_managed_callback_before(void);
void rg_managed_callback_after(void);
/* cuPointerGetAttribute(s) of a pointer outside the device window, answered
 * from the shim's host-memory records (hostmem.c): the CUresult, or -1 to forward. */
int rg_host_ptr_attr(const struct rpc_call_desc *d, void **args);

/* ---- devices (devices.c) ------------------------------------------------------- */

/* A local answer for calls Welcome or an earlier reply already answered: the
 * CUresult, or -1 to forward. */
int rg_dev_local(const struct rpc_call_desc *d, void **args);
/* After Welcome: the session's devices filtered and ordered by
 * CUDA_VISIBLE_DEVICES, as the driver does (indices or GPU-UUID prefixes,
 * stopping at the first invalid or repeated entry). */
void rg_dev_apply_visible(void);
/* Application ordinal -> session ordinal for the wire (negative values, the
 * CPU and invalid-device specials, pass; other unknown ordinals become one
 * the server refuses), and back (-1 when the device is not visible). */
int rg_dev_to_session(int app);
int rg_dev_from_session(int sess);
/* Remembers the answer of a completed call worth caching. */
void rg_dev_remember(const struct rpc_call_desc *d, void **args);

/* ---- what a call is, by its descriptor (traits.c) -------------------------------- */
enum {
    RG_TR_INIT = 1u << 0,          /* cuInit(flags) */
    RG_TR_MEMSET_D = 1u << 1,      /* cuMemsetD8/16/32[2D][Async]: alignment checks */
    RG_TR_CREATE_FLAGS = 1u << 2,  /* cuEventCreate, cuStreamCreate, cuStreamWaitEvent: flags */
    RG_TR_CTX_LEVEL = 1u << 3,     /* cuCtx*, cuDevice*: answered by a faulted context too */
    RG_TR_CTX_SYNC = 1u << 4,      /* cuCtxSynchronize */
    RG_TR_UNIFIED_COPY = 1u << 5,  /* cuMemcpy, cuMemcpyAsync (dst, src, n[, stream]) */
    RG_TR_RECORD = 1u << 6,        /* cuEventRecord[WithFlags] */
    RG_TR_SYNC_COPY = 1u << 7,     /* a synchronous cuMemcpy* / cuMemset* */
    RG_TR_FREE = 1u << 8,          /* cuMemFree_v2, cuMemFreeAsync */
    RG_TR_SPLIT_COPY = 1u << 9,    /* 1D HtoD/DtoH copies split above RPC_MAX_CALL_BYTES */
    RG_TR_CAPTURE = 1u << 10,      /* cuStreamBeginCapture*, cuStreamEndCapture */
    RG_TR_DESTROY = 1u << 11,      /* *Destroy, *Unload: the first handle dies */
    RG_TR_AFTER = 1u << 12,        /* has a local effect after success (forward.c) */
    RG_TR_LAUNCH = 1u << 13,       /* cuLaunchKernel, cuLaunchCooperativeKernel */
    RG_TR_LAUNCH_EX = 1u << 14,    /* cuLaunchKernelEx */
    RG_TR_PTR_ATTR = 1u << 15,     /* cuPointerGetAttribute[s] */
    RG_TR_REPEATS = 1u << 16,      /* cuLaunchKernel[_ptsz]: may run again (conn.c) */
};
uint32_t rg_call_traits(const struct rpc_call_desc *d);

/* ---- launch checks (launch.c) ---------------------------------------------------
 * The driver's argument checks of a cuLaunchKernel / cuLaunchCooperativeKernel /
 * cuLaunchKernelEx (and _ptsz) call, before it is sent; CUDA_SUCCESS for others.
 * Sets *wait when only the server can judge the launch (it must not be pipelined). */
CUresult rg_launch_check(const struct rpc_call_desc *d, void **args, int *wait);
/* A function's limits may have changed (cuFuncSetAttribute, cuKernelSetAttribute). */
void rg_launch_forget(void);
/* A launch that may go as one more run of the last one batched
 * (rg_conn_repeat): the key of a cuLaunchKernel[_ptsz] (the call, thread,
 * context, function, grid, block, shared memory and stream, then the
 * parameters' bytes from offsetof(bytes)), its length, or 0 if it has none
 * (extra, cooperative, large parameters, managed memory, a capture,
 * CUDA_LAUNCH_BLOCKING: each launch goes its whole way). */
struct rg_launch_key {
    const struct rpc_call_desc *d;
    uint64_t ctx, func, stream;
    uint32_t thread, g[3], b[3], shmem, nbytes;
    uint8_t bytes[440]; /* the key is the struct up to bytes[nbytes] */
};
#define RG_LAUNCH_KEY_FIXED offsetof(struct rg_launch_key, bytes) /* rg_conn_repeat's `fixed` */
size_t rg_launch_key(const struct rpc_call_desc *d, void **args, struct rg_launch_key *k);

/* ---- kernel parameter layouts (params.c) --------------------------------------- */
void rg_params_install(void);
/* A layout already asked for, never asking (the asking would collect a pending
 * failure; launch.c asks once that is settled): 0 and *out, or -1. The arrays
 * live as long as the process. */
int rg_param_layout_cached(uint64_t func_id, struct rpc_param_layout *out);

/* ---- darkapi host (darkhost.c) ------------------------------------------------- */
void rg_darkhost_install(void);

#endif
