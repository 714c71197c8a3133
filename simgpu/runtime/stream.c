/* stream.c — streams: a ring of fixed-size ops per stream, run in order by the
 * stream's worker thread while the caller goes on. Enqueue takes an
 * uncontended lock, copies the payload into the slot and wakes the worker only
 * if it sleeps; the worker spins briefly before sleeping. Cross-stream order
 * (legacy NULL stream, events) is a "wait until stream X has run N ops" op. */
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define SPIN_WORKER 4000
#define SPIN_WAITER 2000
#define SIM_IDLE_SECONDS 2

static _Atomic unsigned long long next_stream_id = 1;
static void prune_locked(struct sim_ctx *c);
static struct sim_capture_ops enqueue_only;
static const struct sim_capture_ops *capture_ops = &enqueue_only;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* ---- lifetime ------------------------------------------------------------ */

struct sim_stream *sim_stream_new(struct sim_ctx *c, unsigned flags, int priority, bool legacy,
                                  bool per_thread)
{
    struct sim_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ring = malloc(RING * sizeof *s->ring);
    if (!s->ring) {
        free(s);
        return NULL;
    }
    s->ctx = c;
    s->flags = flags;
    s->priority = priority;
    s->legacy = legacy;
    s->per_thread = per_thread;
    s->id = atomic_fetch_add(&next_stream_id, 1);
    atomic_store(&s->refs, 1);
    pthread_mutex_init(&s->plock, NULL);
    pthread_mutex_init(&s->wlock, NULL);
    pthread_cond_init(&s->wcond, NULL);
    pthread_cond_init(&s->dcond, NULL);
    if (!legacy) sim_handle_add(&s->obj, SIM_KIND_STREAM);
    /* Caller may hold c->lock (legacy creation): link without taking it then. */
    if (legacy) {
        s->next = c->streams;
        c->streams = s;
    } else {
        pthread_mutex_lock(&c->lock);
        prune_locked(c);
        s->next = c->streams;
        c->streams = s;
        pthread_mutex_unlock(&c->lock);
    }
    return s;
}

void sim_stream_ref(struct sim_stream *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void sim_stream_unref(struct sim_stream *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1) return;
    pthread_mutex_destroy(&s->plock);
    pthread_mutex_destroy(&s->wlock);
    pthread_cond_destroy(&s->wcond);
    pthread_cond_destroy(&s->dcond);
    free(s->ring);
    free(s);
}

static void wake_worker(struct sim_stream *s)
{
    pthread_mutex_lock(&s->wlock);
    pthread_cond_signal(&s->wcond);
    pthread_mutex_unlock(&s->wlock);
}

/* Invalidate the handle and let the worker leave once it has drained. The
 * context's list keeps its reference until the work is done, so context
 * synchronisation still waits for it. */
static void stream_stop(struct sim_stream *s)
{
    sim_stream_ref(s); /* once stopped and drained, another thread may prune it */
    sim_handle_remove(&s->obj);
    pthread_mutex_lock(&s->plock);
    atomic_store(&s->stop, true);
    bool started = s->started;
    pthread_mutex_unlock(&s->plock);
    if (started) wake_worker(s);
    sim_stream_unref(s);
}

void sim_stream_destroy(struct sim_stream *s)
{
    stream_stop(s);
}

/* ---- the worker ---------------------------------------------------------- */

static void run_op(struct sim_stream *s, struct sim_op *op)
{
    CUresult r = op->fn(op->heap ? op->heap : (void *)op->data);
    free(op->heap);
    if (r != CUDA_SUCCESS) {
        if (sim_error_is_sticky(r))
            sim_ctx_set_sticky(s->ctx, r);
        else
            sim_debug("stream op failed with %d", (int)r);
    }
}

static void op_done(struct sim_stream *s, uint64_t d)
{
    atomic_store(&s->done, d + 1);
    if (atomic_load(&s->waiters)) {
        pthread_mutex_lock(&s->wlock);
        pthread_cond_broadcast(&s->dcond);
        pthread_mutex_unlock(&s->wlock);
    }
}

enum wake { WAKE_WORK, WAKE_STOP, WAKE_IDLE };

/* Spin, then sleep until there is work, the stream stops, or it has been idle
 * for SIM_IDLE_SECONDS (then the worker may exit; the next op starts another). */
static enum wake worker_wait(struct sim_stream *s, uint64_t d)
{
    for (int i = 0; i < SPIN_WORKER; i++) {
        if (atomic_load_explicit(&s->tail, memory_order_acquire) != d) return WAKE_WORK;
        if ((i & 63) == 63)
            sched_yield(); /* let a producer on this core go on */
        else
            cpu_relax();
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SIM_IDLE_SECONDS;
    bool timed_out = false;
    pthread_mutex_lock(&s->wlock);
    atomic_store(&s->sleeping, 1);
    while (atomic_load(&s->tail) == d && !atomic_load(&s->stop) && !timed_out)
        timed_out = pthread_cond_timedwait(&s->wcond, &s->wlock, &until) == ETIMEDOUT;
    atomic_store(&s->sleeping, 0);
    pthread_mutex_unlock(&s->wlock);
    if (atomic_load(&s->tail) != d) return WAKE_WORK;
    return atomic_load(&s->stop) ? WAKE_STOP : WAKE_IDLE;
}

/* An idle worker leaves only if no op arrived meanwhile (decided under plock,
 * where producers check `started`). */
static bool worker_retire(struct sim_stream *s, uint64_t d)
{
    pthread_mutex_lock(&s->plock);
    bool go = atomic_load(&s->tail) == d;
    if (go) s->started = false;
    pthread_mutex_unlock(&s->plock);
    return go;
}

static void *worker_main(void *arg)
{
    struct sim_stream *s = arg;
    pthread_setname_np(pthread_self(), s->legacy ? "simgpu-null" : "simgpu-stream");
    uint64_t d = atomic_load(&s->done), queued = d; /* the tail when last looked at */
    for (;;) {
        if (queued != d || (queued = atomic_load_explicit(&s->tail, memory_order_acquire)) != d) {
            run_op(s, &s->ring[d & (RING - 1)]);
            op_done(s, d);
            d++;
            continue;
        }
        enum wake w = worker_wait(s, d);
        if (w == WAKE_STOP || (w == WAKE_IDLE && worker_retire(s, d))) break;
    }
    sim_stream_unref(s);
    return NULL;
}

static bool worker_start(struct sim_stream *s)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    sim_stream_ref(s);
    int e = pthread_create(&s->thread, &at, worker_main, s);
    pthread_attr_destroy(&at);
    if (e) {
        atomic_fetch_sub(&s->refs, 1);
        return false;
    }
    s->started = true;
    return true;
}

/* ---- positions and waiting ---------------------------------------------- */

uint64_t sim_stream_tail(struct sim_stream *s)
{
    return atomic_load(&s->tail);
}

bool sim_stream_reached(struct sim_stream *s, uint64_t pos)
{
    return atomic_load(&s->done) >= pos;
}

void sim_stream_wait_pos(struct sim_stream *s, uint64_t pos)
{
    for (int i = 0; i < SPIN_WAITER; i++) {
        if (atomic_load(&s->done) >= pos) return;
        /* Yield now and then: on few cores the thread we wait for may need
         * this one's CPU. */
        if ((i & 63) == 63)
            sched_yield();
        else
            cpu_relax();
    }
    while (atomic_load(&s->done) < pos) {
        pthread_mutex_lock(&s->wlock);
        atomic_fetch_add(&s->waiters, 1);
        while (atomic_load(&s->done) < pos)
            pthread_cond_wait(&s->dcond, &s->wlock);
        atomic_fetch_sub(&s->waiters, 1);
        pthread_mutex_unlock(&s->wlock);
    }
}

/* ---- enqueue ------------------------------------------------------------- */

/* Put one op in the ring. Called with plock held. `owned`: payload is a
 * heap buffer the op takes over (no copy). */
static CUresult push_any_locked(struct sim_stream *s, sim_op_fn fn, const void *payload, size_t len,
                                bool owned)
{
    uint64_t t = atomic_load_explicit(&s->tail, memory_order_relaxed);
    if (t - s->done_seen >= RING && t - (s->done_seen = atomic_load(&s->done)) >= RING) {
        sim_stream_wait_pos(s, t - RING + 1);
        s->done_seen = t - RING + 1;
    }
    struct sim_op *op = &s->ring[t & (RING - 1)];
    op->fn = fn;
    op->len = len;
    op->heap = NULL;
    if (owned) {
        op->heap = (void *)payload;
    } else if (len > SIM_OP_INLINE) {
        op->heap = malloc(len);
        if (!op->heap) return CUDA_ERROR_OUT_OF_MEMORY;
        memcpy(op->heap, payload, len);
    } else if (len) {
        memcpy(op->data, payload, len);
    }
    if (!s->started && !worker_start(s)) {
        if (!owned) free(op->heap);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    atomic_store(&s->tail, t + 1);
    return CUDA_SUCCESS;
}

static CUresult push_locked(struct sim_stream *s, sim_op_fn fn, const void *payload, size_t len)
{
    return push_any_locked(s, fn, payload, len, false);
}

struct wait_op {
    struct sim_stream *other;
    uint64_t pos;
};

static CUresult op_wait(void *p)
{
    struct wait_op *w = p;
    sim_stream_wait_pos(w->other, w->pos);
    sim_stream_unref(w->other);
    return CUDA_SUCCESS;
}

static CUresult push_wait_locked(struct sim_stream *s, struct sim_stream *other, uint64_t pos)
{
    sim_stream_ref(other);
    struct wait_op w = {other, pos};
    CUresult r = push_locked(s, op_wait, &w, sizeof w);
    if (r) sim_stream_unref(other);
    return r;
}

/* Legacy stream: first wait for the pending work of every blocking stream. */
/* Legacy stream: first wait for the pending work of every blocking stream.
 * Skipped when no blocking stream queued anything since the last scan: the
 * waits queued then already cover everything older. */
static CUresult legacy_deps_locked(struct sim_stream *s)
{
    struct sim_ctx *c = s->ctx;
    uint64_t gen = atomic_load(&c->blocking_gen);
    if (gen == atomic_load(&s->legacy_seen)) return CUDA_SUCCESS;
    struct sim_stream **v = sim_ctx_stream_list(c);
    if (!v) return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult r = CUDA_SUCCESS;
    for (size_t i = 0; v[i]; i++) {
        uint64_t t = atomic_load(&v[i]->tail);
        if (!r && stream_is_blocking(v[i]) && atomic_load(&v[i]->done) < t)
            r = push_wait_locked(s, v[i], t);
        sim_stream_unref(v[i]);
    }
    free(v);
    if (!r) atomic_store(&s->legacy_seen, gen);
    return r;
}

/* ---- context-wide barriers (cuCtxWaitEvent) ------------------------------ */

struct sim_barrier {
    struct sim_stream *s; /* referenced */
    uint64_t pos;
};

/* Every stream of the context waits, before its next op, for the barriers
 * set since it last looked. Reached barriers are dropped by the next set. */
static CUresult barrier_deps_locked(struct sim_stream *s)
{
    struct sim_ctx *c = s->ctx;
    uint64_t gen = atomic_load(&c->barrier_gen);
    if (gen == s->barrier_seen) return CUDA_SUCCESS;
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&c->lock);
    size_t n = c->nbarriers;
    struct sim_barrier *v = n ? malloc(n * sizeof *v) : NULL;
    for (size_t i = 0; v && i < n; i++) {
        v[i] = c->barriers[i];
        sim_stream_ref(v[i].s);
    }
    pthread_mutex_unlock(&c->lock);
    if (n && !v) return CUDA_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++) {
        if (!r && v[i].s != s && atomic_load(&v[i].s->done) < v[i].pos)
            r = push_wait_locked(s, v[i].s, v[i].pos);
        sim_stream_unref(v[i].s);
    }
    free(v);
    if (!r) s->barrier_seen = gen;
    return r;
}

static void barriers_prune_locked(struct sim_ctx *c)
{
    size_t w = 0;
    for (size_t i = 0; i < c->nbarriers; i++) {
        struct sim_barrier b = c->barriers[i];
        if (atomic_load(&b.s->done) >= b.pos)
            sim_stream_unref(b.s);
        else
            c->barriers[w++] = b;
    }
    c->nbarriers = w;
}

static CUresult barrier_add(struct sim_ctx *c, struct sim_stream *s, uint64_t pos)
{
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&c->lock);
    barriers_prune_locked(c);
    if (c->nbarriers == c->barriers_cap) {
        size_t cap = c->barriers_cap ? c->barriers_cap * 2 : 4;
        struct sim_barrier *nb = realloc(c->barriers, cap * sizeof *nb);
        if (nb) {
            c->barriers = nb;
            c->barriers_cap = cap;
        } else
            r = CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (!r) {
        sim_stream_ref(s);
        c->barriers[c->nbarriers++] = (struct sim_barrier){s, pos};
        atomic_fetch_add(&c->barrier_gen, 1);
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

static void barriers_clear(struct sim_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nbarriers; i++)
        sim_stream_unref(c->barriers[i].s);
    free(c->barriers);
    c->barriers = NULL;
    c->nbarriers = c->barriers_cap = 0;
    pthread_mutex_unlock(&c->lock);
}

static CUresult implicit_deps_locked(struct sim_stream *s)
{
    CUresult r = barrier_deps_locked(s);
    if (r) return r;
    if (s->legacy) return legacy_deps_locked(s);
    if (!stream_is_blocking(s)) return CUDA_SUCCESS;
    struct sim_stream *l = s->ctx->legacy;
    if (!l) return CUDA_SUCCESS;
    uint64_t t = atomic_load(&l->tail);
    if (atomic_load(&l->done) >= t) return CUDA_SUCCESS;
    return push_wait_locked(s, l, t);
}

static CUresult enqueue(struct sim_stream *s, sim_op_fn fn, const void *payload, size_t len,
                        bool owned)
{
    pthread_mutex_lock(&s->plock);
    CUresult r = implicit_deps_locked(s);
    if (!r) r = push_any_locked(s, fn, payload, len, owned);
    pthread_mutex_unlock(&s->plock);
    if (!r && stream_is_blocking(s)) atomic_fetch_add(&s->ctx->blocking_gen, 1);
    if (!r && atomic_load(&s->sleeping)) wake_worker(s);
    return r;
}

/* Work on the legacy stream while a blocking stream captures is an error. */
static CUresult legacy_use_check(struct sim_stream *s)
{
    return s->legacy ? sim_capture_check_sync(s) : CUDA_SUCCESS;
}

CUresult sim_stream_check_sync_call(struct sim_stream *s)
{
    CUresult r = sim_capture_check_unsafe();
    return r ? r : legacy_use_check(s);
}

CUresult sim_stream_enqueue(struct sim_stream *s, sim_op_fn fn, const void *payload, size_t len)
{
    if (s->capture && capture_ops->enqueue)
        return capture_ops->enqueue(s, s->capture, fn, payload, len);
    CUresult r = legacy_use_check(s);
    return r ? r : enqueue(s, fn, payload, len, false);
}

CUresult sim_stream_enqueue_owned(struct sim_stream *s, sim_op_fn fn, void *payload, size_t len)
{
    if (s->capture && capture_ops->enqueue) {
        CUresult r = capture_ops->enqueue(s, s->capture, fn, payload, len);
        free(payload);
        return r;
    }
    CUresult r = legacy_use_check(s);
    if (!r) r = enqueue(s, fn, payload, len, true);
    if (r) free(payload);
    return r;
}

/* True if work submitted to s now would start at once: s is idle and so is
 * everything it implicitly waits for. Synchronous calls then run inline. */
bool sim_stream_idle_for_sync(struct sim_stream *s)
{
    if (s->capture) return false;
    if (atomic_load(&s->done) != atomic_load(&s->tail)) return false;
    if (s->legacy) return atomic_load(&s->ctx->blocking_gen) == atomic_load(&s->legacy_seen);
    if (!stream_is_blocking(s)) return true;
    struct sim_stream *l = s->ctx->legacy;
    return !l || atomic_load(&l->done) == atomic_load(&l->tail);
}

CUresult sim_stream_enqueue_wait(struct sim_stream *s, struct sim_stream *other, uint64_t pos)
{
    CUresult r = legacy_use_check(s);
    if (r || other == s || atomic_load(&other->done) >= pos) return r;
    pthread_mutex_lock(&s->plock);
    r = push_wait_locked(s, other, pos);
    pthread_mutex_unlock(&s->plock);
    if (!r && stream_is_blocking(s)) atomic_fetch_add(&s->ctx->blocking_gen, 1);
    if (!r && atomic_load(&s->sleeping)) wake_worker(s);
    return r;
}

/* Wait for everything queued on s, including the implicit legacy dependencies. */
CUresult sim_stream_synchronize(struct sim_stream *s)
{
    sim_stream_wait_pos(s, atomic_load(&s->tail));
    sim_printf_flush();
    return (CUresult)atomic_load(&s->ctx->sticky);
}

CUresult sim_stream_query(struct sim_stream *s)
{
    if (atomic_load(&s->done) < atomic_load(&s->tail)) return CUDA_ERROR_NOT_READY;
    return (CUresult)atomic_load(&s->ctx->sticky);
}

struct sim_ctx *sim_stream_ctx(struct sim_stream *s)
{
    return s->ctx;
}

void sim_stream_set_capture_hook(sim_capture_fn fn)
{
    enqueue_only.enqueue = fn;
    capture_ops = &enqueue_only;
}

void sim_stream_set_capture_ops(const struct sim_capture_ops *ops)
{
    capture_ops = ops ? ops : &enqueue_only;
}

/* Hooks for event.c: NULL when s is not capturing or no hook is installed. */
const struct sim_capture_ops *sim_stream_capture_ops(struct sim_stream *s)
{
    return s->capture ? capture_ops : NULL;
}

const struct sim_capture_ops *sim_capture_ops_installed(void)
{
    return capture_ops;
}

/* Synchronising or querying a capturing stream. */
CUresult sim_stream_capture_check(struct sim_stream *s)
{
    if (!s->capture) return legacy_use_check(s);
    if (capture_ops->sync_check) return capture_ops->sync_check(s, s->capture);
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

void sim_stream_set_capture(struct sim_stream *s, void *capture)
{
    s->capture = capture;
}

void *sim_stream_get_capture(struct sim_stream *s)
{
    return s->capture;
}

CUstream sim_stream_handle(struct sim_stream *s)
{
    if (s->legacy) return NULL;
    return (CUstream)s;
}

/* ---- per-context bookkeeping --------------------------------------------- */

/* Drop stopped streams whose work is done from c's list; c->lock held. */
static void prune_locked(struct sim_ctx *c)
{
    for (struct sim_stream **pp = &c->streams; *pp;) {
        struct sim_stream *s = *pp;
        if (atomic_load(&s->stop) && atomic_load(&s->done) == atomic_load(&s->tail)) {
            *pp = s->next;
            sim_stream_unref(s);
        } else {
            pp = &s->next;
        }
    }
}

struct sim_stream **sim_ctx_stream_list(struct sim_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    prune_locked(c);
    size_t n = 0;
    for (struct sim_stream *s = c->streams; s; s = s->next)
        n++;
    struct sim_stream **v = malloc((n + 1) * sizeof *v);
    if (v) {
        n = 0;
        for (struct sim_stream *s = c->streams; s; s = s->next) {
            sim_stream_ref(s);
            v[n++] = s;
        }
        v[n] = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    return v;
}

void sim_ctx_destroy_streams(struct sim_ctx *c)
{
    barriers_clear(c);
    pthread_mutex_lock(&c->lock);
    struct sim_stream *s = c->streams;
    c->streams = NULL;
    c->aux = NULL;
    atomic_store(&c->barrier_gen, 0);
    pthread_mutex_unlock(&c->lock);
    for (struct sim_stream *t = s; t; t = t->next)
        sim_stream_synchronize(t);
    while (s) {
        struct sim_stream *next = s->next;
        if (!atomic_load(&s->stop)) stream_stop(s);
        sim_stream_unref(s); /* the list's reference */
        s = next;
    }
}

/* ---- resolution of CUstream arguments ----------------------------------- */

#define PTS_SLOTS 8
static __thread struct {
    struct sim_ctx *ctx;
    struct sim_stream *s;
} pts[PTS_SLOTS];

static pthread_key_t pts_key;
static pthread_once_t pts_once = PTHREAD_ONCE_INIT;

/* Thread exit: its per-thread default streams finish their work and go. */
/* A slot holds a reference, so a stream it names is never freed and its
 * address never reused behind the slot's back. */
static void pts_drop(int i)
{
    struct sim_stream *s = pts[i].s;
    pts[i].ctx = NULL;
    pts[i].s = NULL;
    if (!s) return;
    if (sim_handle_ok(s, SIM_KIND_STREAM)) sim_stream_destroy(s);
    sim_stream_unref(s);
}

/* Thread exit: its per-thread default streams finish their work and go. */
static void pts_exit(void *unused)
{
    for (int i = 0; i < PTS_SLOTS; i++)
        pts_drop(i);
}

static void pts_key_init(void)
{
    pthread_key_create(&pts_key, pts_exit);
}

struct sim_stream *sim_stream_per_thread(struct sim_ctx *c)
{
    int slot = -1;
    for (int i = 0; i < PTS_SLOTS; i++) {
        bool live = pts[i].s && sim_handle_ok(pts[i].s, SIM_KIND_STREAM);
        if (live && pts[i].ctx == c) return pts[i].s;
        if (slot < 0 && !live) slot = i;
    }
    struct sim_stream *s = sim_stream_new(c, 0, 0, false, true);
    if (!s) return NULL;
    pthread_once(&pts_once, pts_key_init);
    pthread_setspecific(pts_key, (void *)1);
    if (slot < 0) slot = 0; /* more contexts than slots: the oldest goes */
    pts_drop(slot);
    sim_stream_ref(s);
    pts[slot].ctx = c;
    pts[slot].s = s;
    return s;
}

CUresult sim_stream_resolve(CUstream h, bool per_thread, struct sim_stream **out,
                            struct sim_ctx **ctx_out)
{
    struct sim_ctx *c;
    CUresult r;
    if (h == NULL || h == CU_STREAM_LEGACY || h == CU_STREAM_PER_THREAD) {
        if ((r = sim_ctx_get(&c))) return r;
        bool pt = h == CU_STREAM_PER_THREAD || (h == NULL && per_thread);
        struct sim_stream *s = pt ? sim_stream_per_thread(c) : c->legacy;
        if (!s) return CUDA_ERROR_OUT_OF_MEMORY;
        *out = s;
    } else {
        SIM_INIT_OR_RETURN();
        if (!sim_handle_ok(h, SIM_KIND_STREAM)) return CUDA_ERROR_INVALID_HANDLE;
        struct sim_stream *s = (struct sim_stream *)h;
        c = s->ctx;
        int st = atomic_load(&c->sticky);
        if (st) return (CUresult)st;
        *out = s;
    }
    if (ctx_out) *ctx_out = c;
    return CUDA_SUCCESS;
}

/* ---- cuCtxRecordEvent / cuCtxWaitEvent -------------------------------------- */

/* The context's hidden stream (not a handle, non-blocking), created on demand. */
static struct sim_stream *ctx_aux(struct sim_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    struct sim_stream *a = c->aux;
    pthread_mutex_unlock(&c->lock);
    if (a) return a;
    a = sim_stream_new(c, CU_STREAM_NON_BLOCKING, 0, false, false);
    if (!a) return NULL;
    sim_handle_remove(&a->obj);
    pthread_mutex_lock(&c->lock);
    if (c->aux) { /* another thread won: keep theirs, this one drains away */
        atomic_store(&a->stop, true);
        a = c->aux;
    } else
        c->aux = a;
    pthread_mutex_unlock(&c->lock);
    return a;
}

/* Queue on the hidden stream a wait for everything queued so far in c. */
static CUresult gather_all(struct sim_ctx *c, struct sim_stream *a)
{
    struct sim_stream **v = sim_ctx_stream_list(c);
    if (!v) return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult r = CUDA_SUCCESS;
    for (size_t i = 0; v[i]; i++) {
        if (!r && v[i] != a) r = sim_stream_enqueue_wait(a, v[i], atomic_load(&v[i]->tail));
        sim_stream_unref(v[i]);
    }
    free(v);
    return r;
}

CUresult cuCtxRecordEvent(CUcontext hCtx, CUevent hEvent)
{
    struct sim_ctx *c;
    struct sim_event *e;
    CUresult r = sim_ctx_resolve(hCtx, &c);
    if (r || (r = sim_event_resolve(hEvent, &e))) return r;
    struct sim_stream *a = ctx_aux(c);
    if (!a) return CUDA_ERROR_OUT_OF_MEMORY;
    if ((r = gather_all(c, a))) return r;
    return sim_event_record(e, a);
}

CUresult cuCtxWaitEvent(CUcontext hCtx, CUevent hEvent)
{
    struct sim_ctx *c;
    struct sim_event *e;
    CUresult r = sim_ctx_resolve(hCtx, &c);
    if (r || (r = sim_event_resolve(hEvent, &e))) return r;
    struct sim_stream *a = ctx_aux(c);
    if (!a) return CUDA_ERROR_OUT_OF_MEMORY;
    /* The hidden stream waits for the event; every stream then waits for it. */
    if ((r = sim_stream_wait_event(a, e))) return r;
    return barrier_add(c, a, atomic_load(&a->tail));
}
