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
    struct cthread *threads;
    int nthreads;
    CUresult pending; /* first error of a NOREPLY call, returned by the next reply */
    uint32_t credit_owed;

    pthread_mutex_t send_lock;
    atomic_int busy;       /* calls running in the backend */
    atomic_llong last_send; /* monotonic ms */
    atomic_int closing;
    atomic_int fatal;      /* a waiter met a protocol error */
};

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

#endif
