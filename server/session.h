/* session.h — one session worker's state: the connection, the backend, the
 * handle and allocation tables, the client threads (lanes, per-thread
 * streams) and the pending asynchronous error. The main loop (worker.c) reads
 * frames; dispatch.c runs calls on the lanes (lane.c). */
#ifndef RG_SRV_SESSION_H
#define RG_SRV_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "allocs.h"
#include "backend.h"
#include "config.h"
#include "frame.h"
#include "handles.h"

#define SRV_MAX_DEVICES 64
#define SRV_MAX_THREADS (1 << 20) /* client threads a session may have named (small records) */
#define SRV_MAX_LANES 1024        /* worker threads running at once for them */
#define SRV_MAX_CALL_RAW (1ull << 30) /* bytes of one call gathered from DATA frames */
#define SRV_TURN_MS 50 /* a call blocked this long in the backend stops holding up other threads */

struct ptstream { /* a client thread's per-thread default stream in one context */
    uint64_t ctx;
    CUstream s;
    struct ptstream *next;
};

struct call;

struct cthread { /* one client thread, and the worker thread (its lane) that runs its calls */
    uint32_t id;
    uint64_t last_seq;
    struct ptstream *streams;
    pthread_t lane;
    int has_lane;
    struct call *head, *tail; /* queued for the lane */
    int running;              /* the lane holds a call */
    struct cthread *next;
};

struct session {
    struct srv_config *cfg;
    struct backend be;
    tp_conn *c;
    unsigned long long id;
    int ndev;
    int primary_retains[SRV_MAX_DEVICES];

    pthread_mutex_t lock; /* tables, threads, pending error, credits */
    pthread_cond_t cond;  /* lanes: work queued, a turn given on, or closing */
    struct handles *h;
    struct allocs mem;
    uint64_t win_base, win_size; /* the client's device address window (0 size: none) */
    struct memh_ref { uint64_t id; unsigned refs; } *memh; /* VMM handle ids: references */
    size_t nmemh, capmemh; /* (cuMemCreate / cuMemRetainAllocationHandle - cuMemRelease) */
    struct cthread *threads;
    int nthreads, nlanes;
    _Atomic uint32_t credit_owed; /* credits for calls done, not yet sent back */
    uint32_t credit_batch;        /* owed this many, a CREDIT frame goes (worker.c) */

    pthread_mutex_t mem_mu; /* allocations and frees with their table updates (dispatch.c) */
    pthread_mutex_t send_lock;
    atomic_int busy;       /* calls running in the backend */
    atomic_bool captured;  /* a stream capture has begun in this session */
    atomic_llong last_send; /* monotonic ms */
    atomic_int closing;
    atomic_int fatal;      /* a lane met a protocol error */

    /* host callbacks (notify.c): enqueued in the backend and not yet acknowledged */
    struct hostcb *cbs;
    atomic_int live_cbs;   /* counted from the enqueue CALL's arrival to the ack */
    pthread_cond_t cb_cond;
    /* call order across client threads (lane.c): every call takes a ticket in
     * arrival order and starts only on its turn; it gives the turn on when it has
     * run, or when it starts if it may block on device work (RPC_MODE_WAIT), or
     * when it has held the turn for SRV_TURN_MS (it blocks in the backend) */
    uint64_t next_ticket, turn;
    uint64_t watched;          /* turn_watch's last look: the turn then, and since when (ms) */
    long long watched_since;
    /* device printf: the backend's stdout is a pipe, forwarded as NOTIFY frames */
    int out_fd;
    pthread_t out_thread;
    int has_out_thread, out_lost;
    atomic_int out_quit;
    /* device assert text: the backend's stderr is a pipe too; assert lines go to
     * the client as NOTIFY(STDERR), other lines to rgpud's log (srv_log_fd) */
    int err_fd;
    size_t err_len;
    char err_buf[4096];
    /* pipelined failures (dispatch.c note_async / take_pending): the first failed
     * NOREPLY call of each client thread, until that thread's next call that waits */
    struct pending_err *pend; /* under lock */
    /* graphs (notify.c): the client's host functions behind the worker's
     * trampolines, staging buffers of copies with client host sides (they live
     * as long as the session), memcpy nodes standing for such copies, and the
     * ids of the NOTIFY requests the worker waits on (SRV_WAIT_BIT set); under lock */
    struct hostfn *hostfns;
    struct stage *stages;
    struct staged_node *staged_nodes;
    uint64_t wait_serial;
    /* streamed copies (bulk.c): cuMemcpyHtoD calls whose bytes the main loop reads in
     * pieces while their lanes copy them; under lock */
    struct bulk *bulks;
    /* who reads the connection (worker.c, lane.c): the main loop, or the lane of
     * the client thread whose call the main loop last found idle, which then
     * runs its thread's calls as it reads them, with no hand-off (the round
     * trip of a call that waits is the network's). The main loop takes the
     * role back when the lane has not been receiving for SRV_STEAL_US (a call
     * that runs long or waits for a frame only a reader can bring), and a lane
     * whose long call ends takes it back while the main loop is still waiting
     * for a frame (rd_watching); under lock */
    struct cthread *rd_lane;  /* NULL: the main loop reads */
    int rd_reading;           /* rd_lane is in a receive */
    unsigned rd_gen;          /* counts rd_lane's receives begun and ended (no clock
                               * per frame: the main loop times how long it stays) */
    int rd_main_asleep;       /* the main loop waits without a timeout: wake it */
    int rd_watching;          /* the main loop holds the role but waits for a frame
                               * before taking any byte: a lane done with its call
                               * may take the role back (lane.c) */
    int rd_wake_fd;           /* eventfd that ends that wait (-1: none, no waiting) */
    int rd_ended;             /* a reader met the end of the session */
    struct call *rd_bulk;     /* a streamed copy whose bytes the main loop reads next */
    pthread_cond_t rd_cv;     /* the main loop's wait for the role */
    int rd_poll_us;           /* the connection's busy-poll now (the reader's to set) */
};

/* The reader's busy-poll: a lane that reads runs what it reads and spins for the
 * next call; the main loop hands frames to lanes and leaves them the CPU. */
static inline void reader_busy_poll(struct session *s, int us)
{
    if (s->rd_poll_us != us) tp_set_busy_poll(s->c, (unsigned)us), s->rd_poll_us = us;
}

#define SRV_STEAL_US 250        /* a lane not receiving this long gives the reading role back */
#define SRV_READER_NAP_US 1000  /* the main loop's look at a lane found receiving: next one */
#define SRV_READER_IDLE_MS 50   /* a lane receiving this long: the main loop stops checking */
#define SRV_WATCH_MS 50         /* the main loop's wait for a frame looks at the session this often */

/* NOTIFY kinds (frame op) and the host-callback CALL's sub-commands; the shim
 * (client-shim/cuda/callbacks.c) uses the same numbers. */
#define SRV_NOTIFY_HOSTFN 1   /* enc: u64 callback id */
#define SRV_NOTIFY_CALLBACK 2 /* enc: u64 callback id, u32 stream status */
#define SRV_NOTIFY_STDOUT 3   /* raw: device printf text */
#define SRV_NOTIFY_STDERR 4   /* raw: device assert text */
#define SRV_NOTIFY_GL_FRAME 9 /* a window's frame (gl/gl_desc.h RG_GL_NOTIFY_FRAME) */
#define SRV_CB_ENQUEUE 1      /* cuLaunchHostFunc / cuStreamAddCallback[_ptsz] CALL:
                                 u32 sub, u64 stream id, u64 callback id, u32 flags */
#define SRV_CB_DONE 2         /* same ops: u32 sub, u64 callback id (NOREPLY) */

/* One received CALL; owned by whoever runs it. */
struct call {
    rpc_hdr h;
    void *enc;
    void *raw;
    size_t raw_len;
    const struct rpc_call_desc *d;
    struct cthread *t;
    uint64_t ticket; /* order across client threads (lane.c) */
    struct call *next;
};

static inline uint64_t primary_ctx_id(int dev)
{
    return h_make(RPC_H_CONTEXT, 1, (uint64_t)dev + 1);
}

long long srv_now_ms(void);
long long srv_now_ns(void);
/* CLOCK_REALTIME ms (us) from now, for pthread_cond_timedwait. */
void srv_deadline(struct timespec *dl, int ms);
void srv_deadline_us(struct timespec *dl, long us);

/* Argument i of a decoded call as an integer (at most its first 8 bytes). */
static inline uint64_t arg_u64(const struct rpc_decoded *dc, int i)
{
    uint64_t v = 0;
    unsigned size = dc->desc->args[i].size;
    memcpy(&v, dc->val[i].bytes, size > 8 ? 8 : size);
    return v;
}

/* Whether dc is a call of the API `base` (whatever its _v2 / _ptds variant).
 * Every call passes a few dozen of these checks after it ran (post.c, quota.c):
 * the third and fourth letters ("cuMem", "cuLaunch") settle most of them inline. */
static inline int is_base(const struct rpc_decoded *dc, const char *base)
{
    const char *b = dc->desc->base;
    return b[0] == base[0] && b[0] && b[1] == base[1] && b[1] && b[2] == base[2] && b[2] &&
           b[3] == base[3] && !strcmp(b, base);
}

/* traits.c: facts about a call from its descriptor alone, worked out once. */
enum {
    SV_VMM = 1u << 0,           /* names reservations (cuMemMap, cuMemUnmap, cuMemAddress*, ...) */
    SV_ADDR_RESERVE = 1u << 1,  /* cuMemAddressReserve */
    SV_HOST_BYTES = 1u << 2,    /* a copy or memset carrying host bytes */
    SV_BEGIN_CAPTURE = 1u << 3, /* cuStreamBeginCapture* */
    SV_DESTROYS = 1u << 4,      /* *Destroy, *Unload, cuGraphDestroyNode, cuMemRelease */
    SV_MIRROR_BEFORE = 1u << 5, /* cuMemFree, cuCtxDestroy, cuDevicePrimaryCtxReset */
    SV_RANGES_OWN = 1u << 6,    /* device ranges inside its own arguments (ranges.c) */
    SV_IPC = 1u << 7,           /* cuIpc* */
    SV_IPC_POST = 1u << 8,      /* cuIpcCloseMemHandle, cuMemFree[Async] */
    SV_GRAPH = 1u << 9,         /* custom=graph marshaller */
    SV_REPEATS = 1u << 10,      /* cuLaunchKernel[_ptsz]: may carry a `repeat` count */
};
uint32_t srv_traits(const struct rpc_call_desc *d);

/* dispatch.c: runs one call and answers it. 0, or -1 on a protocol error
 * (the session ends). Frees the call. */
int dispatch_call(struct session *s, struct call *cl);
void call_free(struct call *cl);
/* Sends a frame (REPLY, HEARTBEAT, CREDIT, ...) with owed credits, chunking raw bytes. */
int session_send(struct session *s, rpc_hdr *h, const void *enc, size_t enc_len,
                 const struct iovec *raw, int nraw);
/* The REPLY header answering cl (one credit back). */
rpc_hdr reply_hdr(const struct call *cl);
/* A reply of the result alone (the call did not decode or did not run). */
int reply_result(struct session *s, struct call *cl, CUresult r);
/* Destroys what the session made (contexts, memory, per-thread streams). */
void session_cleanup(struct session *s);

/* post.c: after a successful call (s->lock held): ids of created handles,
 * allocations and frees, destroyed handles and their children. */
void post_process(struct session *s, struct call *cl, struct rpc_decoded *dc);
/* Whether dc adds to or takes from the allocation table (allocations, frees,
 * reservations, mappings): dispatch.c runs it and its update as one step. */
int post_changes_allocs(const struct rpc_decoded *dc);

/* layout.c: kernel parameter layouts for the launch marshallers. */
void layout_install(struct backend *b);

/* lane.c: each client thread's calls run, in order, on one worker thread of
 * its own (its lane), so the backend sees one OS thread per client thread
 * (stream capture modes, the current context, thread-local state). */
struct cthread *cthread_get(struct session *s, uint32_t id); /* under s->lock; NULL: too many */
/* Gives cl a ticket and queues it on its thread's lane (starting it). With
 * may_read, read by the main loop and the lane idle, the lane takes the reading
 * role too. 0, or -1. */
int lane_submit(struct session *s, struct call *cl, int may_read);
/* Lets a call blocked in the backend for SRV_TURN_MS stop holding the turn (heartbeat thread). */
void turn_watch(struct session *s);
/* Stops the lanes, giving running calls up to ms to return; 0 if all ended. */
int lanes_stop(struct session *s, int ms);

/* notify.c */
int hostcb_op(const struct rpc_call_desc *d); /* a host-callback CALL's op */
/* The enqueue: stream already translated, context current. */
CUresult hostcb_enqueue(struct session *s, const struct rpc_call_desc *d, CUstream st, uint64_t id);
/* The client's acknowledgement that callback id ran. */
void hostcb_done(struct session *s, uint64_t id);
/* The same with the bytes a FETCH request asked for (raw_len 0: none). */
void hostcb_done_data(struct session *s, uint64_t id, const void *raw, size_t raw_len);
/* Graph calls whose host sides or host functions the worker stands in for
 * (custom=graph): 1 if it ran the call (*r is the result), 0 to run it as usual. */
int graph_call(struct session *s, struct call *cl, struct rpc_decoded *dc, CUresult *r);
/* Redirects fd 1 and fd 2 to pipes (before the backend loads; log lines keep
 * the original stderr through srv_log_fd); -1 if stdout cannot be captured. */
int out_capture(struct session *s);
void out_start(struct session *s);
void out_drain_locked(struct session *s); /* send_lock held: pending output as NOTIFY frames */
void out_stop(struct session *s);
/* dispatch.c, send_lock held: the owed credits and the version into h, and before a
 * REPLY or NOTIFY the backend's output so far (what session_send does first) */
void send_begin_locked(struct session *s, rpc_hdr *h);
/* dispatch.c: the frames themselves, send_lock held (no credits attached); RPC_F_MORE
 * set in h on entry: the caller sends more frames of this message after these */
int send_frames(struct session *s, rpc_hdr *h, const void *enc, size_t enc_len,
                const struct iovec *raw, int nraw);

int protocol_error(struct session *s, const char *what); /* worker.c: ERROR frame, -1 */
/* worker.c, s->lock held: the main loop, if it waits for a frame, looks at the
 * role again (a lane took it back, or a streamed copy's bytes are its to read). */
void rd_wake_main(struct session *s);
/* worker.c: a CREDIT frame once min (>= 1) are owed and the client has nothing
 * more queued, or twice that whatever is queued */
void flush_credits(struct session *s, uint32_t min);
/* worker.c: reads one frame and acts on it, as the reader (a lane, or NULL: the
 * main loop). 1 when the session is over. */
int read_one(struct session *s, struct cthread *reader);

#endif
