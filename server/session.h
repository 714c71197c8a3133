/* session.h — one session worker's state: the connection, the backend, the
 * handle and allocation tables, the client threads (waiters, per-thread
 * streams) and the pending asynchronous error. The main loop (worker.c) reads
 * frames; dispatch.c runs calls; waiter.c runs RPC_MODE_WAIT calls. */
#ifndef RG_SRV_SESSION_H
#define RG_SRV_SESSION_H

#include <pthread.h>
#include <stdatomic.h>

#include "allocs.h"
#include "backend.h"
#include "config.h"
#include "frame.h"
#include "handles.h"

#define SRV_MAX_DEVICES 64
#define SRV_MAX_THREADS 1024
#define SRV_MAX_CALL_RAW (1ull << 30) /* bytes of one call gathered from DATA frames */

struct ptstream { /* a client thread's per-thread default stream in one context */
    uint64_t ctx;
    CUstream s;
    struct ptstream *next;
};

struct call;

struct cthread { /* one client thread */
    uint32_t id;
    uint64_t last_seq;
    struct ptstream *streams;
    pthread_t waiter;
    int has_waiter;
    struct call *head, *tail; /* queued for the waiter */
    int running;              /* the waiter holds a call */
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
    pthread_cond_t cond;  /* waiters: work queued, or closing */
    struct handles *h;
    struct allocs mem;
    uint64_t win_base, win_size; /* the client's device address window (0 size: none) */
    struct memh_ref { uint64_t id; unsigned refs; } *memh; /* VMM handle ids: references */
    size_t nmemh, capmemh; /* (cuMemCreate / cuMemRetainAllocationHandle - cuMemRelease) */
    struct cthread *threads;
    int nthreads;
    CUresult pending; /* first error of a NOREPLY call, returned by the next reply */
    uint32_t credit_owed;

    pthread_mutex_t send_lock;
    atomic_int busy;       /* calls running in the backend */
    atomic_bool captured;  /* a stream capture has begun in this session */
    atomic_llong last_send; /* monotonic ms */
    atomic_int closing;
    atomic_int fatal;      /* a waiter met a protocol error */

    /* host callbacks (notify.c): enqueued in the backend and not yet acknowledged */
    struct hostcb *cbs;
    atomic_int live_cbs;   /* counted from the enqueue CALL's arrival to the ack */
    pthread_cond_t cb_cond;
    /* the session executor (waiter.c): runs calls in arrival order while host
     * callbacks are live, so the main loop keeps reading their acks */
    struct call *xhead, *xtail;
    int xrunning, has_exec;
    pthread_t exec;
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
};

/* NOTIFY kinds (frame op) and the host-callback CALL's sub-commands; the shim
 * (client-shim/cuda/callbacks.c) uses the same numbers. */
#define SRV_NOTIFY_HOSTFN 1   /* enc: u64 callback id */
#define SRV_NOTIFY_CALLBACK 2 /* enc: u64 callback id, u32 stream status */
#define SRV_NOTIFY_STDOUT 3   /* raw: device printf text */
#define SRV_NOTIFY_STDERR 4   /* raw: device assert text */
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
    struct call *next;
};

static inline uint64_t primary_ctx_id(int dev)
{
    return h_make(RPC_H_CONTEXT, 1, (uint64_t)dev + 1);
}

long long srv_now_ms(void);

/* dispatch.c: runs one call and answers it. 0, or -1 on a protocol error
 * (the session ends). Frees the call. */
int dispatch_call(struct session *s, struct call *cl);
void call_free(struct call *cl);
/* Sends a frame (REPLY, HEARTBEAT, CREDIT, ...) with owed credits, chunking raw bytes. */
int session_send(struct session *s, rpc_hdr *h, const void *enc, size_t enc_len,
                 const struct iovec *raw, int nraw);
/* Destroys what the session made (contexts, memory, per-thread streams). */
void session_cleanup(struct session *s);

/* post.c: after a successful call (s->lock held): ids of created handles,
 * allocations and frees, destroyed handles and their children. */
void post_process(struct session *s, struct call *cl, struct rpc_decoded *dc);

/* layout.c: kernel parameter layouts for the launch marshallers. */
void layout_install(struct backend *b);

/* waiter.c */
struct cthread *cthread_get(struct session *s, uint32_t id); /* under s->lock; NULL: too many */
/* Queues cl on its thread's waiter (starting it). 0, or -1 if no thread could start. */
int waiter_submit(struct session *s, struct call *cl);
/* Does the client thread have waiter work queued or running? (under s->lock) */
int waiter_busy(struct cthread *t);
/* Stops the waiters, giving running calls up to ms to return; 0 if all ended. */
int waiters_stop(struct session *s, int ms);

/* notify.c */
int hostcb_op(const struct rpc_call_desc *d); /* a host-callback CALL's op */
/* The enqueue: stream already translated, context current. */
CUresult hostcb_enqueue(struct session *s, const struct rpc_call_desc *d, CUstream st, uint64_t id);
/* The client's acknowledgement that callback id ran. */
void hostcb_done(struct session *s, uint64_t id);
/* Redirects fd 1 and fd 2 to pipes (before the backend loads; log lines keep
 * the original stderr through srv_log_fd); -1 if stdout cannot be captured. */
int out_capture(struct session *s);
void out_start(struct session *s);
void out_drain_locked(struct session *s); /* send_lock held: pending output as NOTIFY frames */
void out_stop(struct session *s);
/* dispatch.c: the frames themselves, send_lock held (no credits attached) */
int send_frames(struct session *s, rpc_hdr *h, const void *enc, size_t enc_len,
                const struct iovec *raw, int nraw);

/* waiter.c: the session executor and call routing (waiter or inline) */
int call_route(struct session *s, struct call *cl, const char **why);
int exec_busy(struct session *s); /* under s->lock */
int exec_submit(struct session *s, struct call *cl);
int protocol_error(struct session *s, const char *what); /* worker.c: ERROR frame, -1 */
void flush_credits(struct session *s); /* worker.c: a CREDIT frame if credits are owed */

#endif
