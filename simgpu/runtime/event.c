/* event.c — events: a record is an op on a stream that stamps the time and
 * marks the record generation complete; waits and synchronisation refer to
 * the stream position right after that op. */
#include <stdlib.h>

#include "core.h"

struct sim_event {
    struct sim_obj obj;
    struct sim_ctx *ctx;
    unsigned flags;
    _Atomic int refs;
    pthread_mutex_t lock;
    struct sim_stream *stream; /* of the last record (referenced), NULL if never */
    uint64_t pos;              /* stream position after the last record */
    _Atomic uint64_t rec_gen, done_gen;
    _Atomic uint64_t time_ns;
    bool captured;          /* last record was into a stream capture (under lock) */
    struct sim_ipc_event *ipc; /* exported or opened (ipc.c): the shared counters */
    struct sim_event *next; /* in ctx->events */
};

static void event_unref(struct sim_event *e)
{
    if (atomic_fetch_sub(&e->refs, 1) != 1) return;
    if (e->stream) sim_stream_unref(e->stream);
    if (e->ipc) sim_ipc_event_free(e->ipc);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

CUresult sim_event_resolve(CUevent h, struct sim_event **out)
{
    SIM_INIT_OR_RETURN();
    if (!h || !sim_handle_ok(h, SIM_KIND_EVENT)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_event *)h;
    return CUDA_SUCCESS;
}

CUresult sim_event_new(struct sim_ctx *c, unsigned Flags, struct sim_event **out)
{
    struct sim_event *e = calloc(1, sizeof *e);
    if (!e) return CUDA_ERROR_OUT_OF_MEMORY;
    e->ctx = c;
    e->flags = Flags;
    atomic_store(&e->refs, 1);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_lock(&c->lock);
    e->next = c->events;
    c->events = e;
    pthread_mutex_unlock(&c->lock);
    sim_handle_add(&e->obj, SIM_KIND_EVENT);
    *out = e;
    return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!phEvent) return CUDA_ERROR_INVALID_VALUE;
    unsigned known = CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS;
    if (Flags & ~known) return CUDA_ERROR_INVALID_VALUE;
    if ((Flags & CU_EVENT_INTERPROCESS) && !(Flags & CU_EVENT_DISABLE_TIMING))
        return CUDA_ERROR_INVALID_VALUE;
    struct sim_event *e;
    if ((r = sim_event_new(c, Flags, &e))) return r;
    *phEvent = (CUevent)e;
    return CUDA_SUCCESS;
}

unsigned sim_event_flags(const struct sim_event *e)
{
    return e->flags;
}

uint64_t sim_event_done_gen(struct sim_event *e)
{
    return atomic_load(&e->done_gen);
}

struct sim_ipc_event *sim_event_ipc(struct sim_event *e)
{
    pthread_mutex_lock(&e->lock);
    struct sim_ipc_event *ev = e->ipc;
    pthread_mutex_unlock(&e->lock);
    return ev;
}

void sim_event_set_ipc(struct sim_event *e, struct sim_ipc_event *ev)
{
    pthread_mutex_lock(&e->lock);
    e->ipc = ev;
    pthread_mutex_unlock(&e->lock);
}

static void event_unlink(struct sim_event *e)
{
    struct sim_ctx *c = e->ctx;
    pthread_mutex_lock(&c->lock);
    for (struct sim_event **pp = &c->events; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
}

CUresult cuEventDestroy_v2(CUevent hEvent)
{
    struct sim_event *e;
    CUresult r = sim_event_resolve(hEvent, &e);
    if (r) return r;
    sim_handle_remove(&e->obj);
    event_unlink(e);
    event_unref(e); /* a pending record keeps it alive until it has run */
    return CUDA_SUCCESS;
}

CUresult cuEventDestroy(CUevent hEvent)
{
    return cuEventDestroy_v2(hEvent);
}

void sim_ctx_destroy_events(struct sim_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    struct sim_event *e = c->events;
    c->events = NULL;
    pthread_mutex_unlock(&c->lock);
    while (e) {
        struct sim_event *n = e->next;
        sim_handle_remove(&e->obj);
        event_unref(e);
        e = n;
    }
}

struct record_op {
    struct sim_event *e;
    uint64_t gen, ipc_gen; /* ipc_gen: in the shared record (0: not shared) */
};

static CUresult op_record(void *p)
{
    struct record_op *o = p;
    atomic_store(&o->e->time_ns, sim_now_ns());
    uint64_t cur = atomic_load(&o->e->done_gen);
    while (cur < o->gen && !atomic_compare_exchange_weak(&o->e->done_gen, &cur, o->gen)) {
    }
    if (o->ipc_gen) sim_ipc_event_done(o->e->ipc, o->ipc_gen);
    event_unref(o->e);
    return CUDA_SUCCESS;
}

CUresult sim_event_record(struct sim_event *e, struct sim_stream *s)
{
    const struct sim_capture_ops *cap = sim_stream_capture_ops(s);
    if (cap && cap->record_event) {
        CUresult r = cap->record_event(s, sim_stream_get_capture(s), e);
        pthread_mutex_lock(&e->lock);
        if (!r) e->captured = true;
        pthread_mutex_unlock(&e->lock);
        return r;
    }
    pthread_mutex_lock(&e->lock);
    uint64_t gen = atomic_fetch_add(&e->rec_gen, 1) + 1;
    atomic_fetch_add(&e->refs, 1);
    struct record_op o = {e, gen, e->ipc ? sim_ipc_event_next(e->ipc) : 0};
    CUresult r = sim_stream_enqueue(s, op_record, &o, sizeof o);
    if (r) {
        atomic_fetch_sub(&e->rec_gen, 1);
        atomic_fetch_sub(&e->refs, 1);
    } else {
        sim_stream_ref(s);
        if (e->stream) sim_stream_unref(e->stream);
        e->stream = s;
        e->pos = sim_stream_tail(s);
        e->captured = false;
    }
    pthread_mutex_unlock(&e->lock);
    return r;
}

static CUresult record(CUevent h, CUstream hs, unsigned flags, bool pt)
{
    struct sim_event *e;
    struct sim_stream *s;
    struct sim_ctx *c;
    CUresult r = sim_event_resolve(h, &e);
    if (r) return r;
    if ((r = sim_stream_resolve(hs, pt, &s, &c))) return r;
    if (flags & ~(unsigned)CU_EVENT_RECORD_EXTERNAL) return CUDA_ERROR_INVALID_VALUE;
    if (c != e->ctx) return CUDA_ERROR_INVALID_HANDLE;
    return sim_event_record(e, s);
}

CUresult cuEventRecord(CUevent h, CUstream s)
{
    return record(h, s, 0, false);
}
CUresult cuEventRecord_ptsz(CUevent h, CUstream s)
{
    return record(h, s, 0, true);
}
CUresult cuEventRecordWithFlags(CUevent h, CUstream s, unsigned int f)
{
    return record(h, s, f, false);
}
CUresult cuEventRecordWithFlags_ptsz(CUevent h, CUstream s, unsigned int f)
{
    return record(h, s, f, true);
}

static bool event_complete(struct sim_event *e)
{
    struct sim_ipc_event *ev = sim_event_ipc(e); /* other processes' records count too */
    if (ev && !sim_ipc_event_reached(ev, sim_ipc_event_target(ev))) return false;
    return atomic_load(&e->done_gen) >= atomic_load(&e->rec_gen);
}

CUresult cuEventQuery(CUevent hEvent)
{
    struct sim_event *e;
    CUresult r = sim_event_resolve(hEvent, &e);
    if (r) return r;
    if (!event_complete(e)) return CUDA_ERROR_NOT_READY;
    return (CUresult)atomic_load(&e->ctx->sticky);
}

CUresult cuEventSynchronize(CUevent hEvent)
{
    struct sim_event *e;
    CUresult r = sim_event_resolve(hEvent, &e);
    if (r) return r;
    pthread_mutex_lock(&e->lock);
    struct sim_stream *s = e->stream;
    uint64_t pos = e->pos;
    if (s) sim_stream_ref(s);
    pthread_mutex_unlock(&e->lock);
    if (s) {
        sim_stream_wait_pos(s, pos);
        sim_stream_unref(s);
    }
    struct sim_ipc_event *ev = sim_event_ipc(e);
    if (ev) sim_ipc_event_wait(ev, sim_ipc_event_target(ev));
    sim_printf_flush();
    return (CUresult)atomic_load(&e->ctx->sticky);
}

struct ipc_wait_op {
    struct sim_event *e;
    uint64_t gen;
};

static CUresult op_ipc_wait(void *p)
{
    struct ipc_wait_op *o = p;
    sim_ipc_event_wait(o->e->ipc, o->gen);
    event_unref(o->e);
    return CUDA_SUCCESS;
}

/* A wait on an interprocess event also waits for its last record in any process. */
static CUresult wait_shared(struct sim_stream *s, struct sim_event *e)
{
    struct sim_ipc_event *ev = sim_event_ipc(e);
    if (!ev) return CUDA_SUCCESS;
    struct ipc_wait_op o = {e, sim_ipc_event_target(ev)};
    if (sim_ipc_event_reached(ev, o.gen)) return CUDA_SUCCESS;
    atomic_fetch_add(&e->refs, 1);
    CUresult r = sim_stream_enqueue(s, op_ipc_wait, &o, sizeof o);
    if (r) atomic_fetch_sub(&e->refs, 1);
    return r;
}

CUresult sim_stream_wait_event(struct sim_stream *s, struct sim_event *e)
{
    const struct sim_capture_ops *cap = sim_stream_capture_ops(s);
    if (cap && cap->wait_event) return cap->wait_event(s, sim_stream_get_capture(s), e);
    pthread_mutex_lock(&e->lock);
    bool captured = e->captured;
    pthread_mutex_unlock(&e->lock);
    /* A wait on an event recorded in capture forks s into that capture. */
    cap = sim_capture_ops_installed();
    if (captured && cap->wait_event) return cap->wait_event(s, NULL, e);
    pthread_mutex_lock(&e->lock);
    struct sim_stream *o = e->stream;
    uint64_t pos = e->pos;
    if (o) sim_stream_ref(o);
    pthread_mutex_unlock(&e->lock);
    if (!o) return wait_shared(s, e); /* never recorded here */
    CUresult r = sim_stream_enqueue_wait(s, o, pos);
    sim_stream_unref(o);
    return r ? r : wait_shared(s, e);
}

static CUresult wait_event(CUstream hs, CUevent h, unsigned flags, bool pt)
{
    struct sim_stream *s;
    struct sim_event *e;
    CUresult r = sim_stream_resolve(hs, pt, &s, NULL);
    if (r) return r;
    if ((r = sim_event_resolve(h, &e))) return r;
    if (flags & ~(unsigned)CU_EVENT_WAIT_EXTERNAL) return CUDA_ERROR_INVALID_VALUE;
    return sim_stream_wait_event(s, e);
}

CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned int f)
{
    return wait_event(s, e, f, false);
}
CUresult cuStreamWaitEvent_ptsz(CUstream s, CUevent e, unsigned int f)
{
    return wait_event(s, e, f, true);
}

CUresult cuEventElapsedTime_v2(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
    struct sim_event *a, *b;
    CUresult r = sim_event_resolve(hStart, &a);
    if (r) return r;
    if ((r = sim_event_resolve(hEnd, &b))) return r;
    if (!pMilliseconds) return CUDA_ERROR_INVALID_VALUE;
    if ((a->flags | b->flags) & CU_EVENT_DISABLE_TIMING) return CUDA_ERROR_INVALID_HANDLE;
    if (!atomic_load(&a->rec_gen) || !atomic_load(&b->rec_gen)) return CUDA_ERROR_INVALID_HANDLE;
    if (!event_complete(a) || !event_complete(b)) return CUDA_ERROR_NOT_READY;
    int64_t d = (int64_t)(atomic_load(&b->time_ns) - atomic_load(&a->time_ns));
    *pMilliseconds = (float)((double)d / 1e6);
    return CUDA_SUCCESS;
}

CUresult cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
    return cuEventElapsedTime_v2(pMilliseconds, hStart, hEnd);
}
