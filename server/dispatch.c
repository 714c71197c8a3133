/* dispatch.c — the worker's call path: decode with handle translation, check
 * device ranges, make the frame's context current, call the backend through
 * libffi, then bind/mint the ids of created handles, record allocations and
 * frees, invalidate destroyed handles' children, and reply. CUresult lives here. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imagecache.h"
#include "bulk.h"
#include "ipc.h"
#include "cuinfo.h"
#include "custom.h"
#include "log.h"
#include "mirror.h"
#include "quota.h"
#include "ranges.h"
#include "session.h"
#ifdef RGPU_GL
#include "gl/gl_hook.h"
#endif

/* The generic codec may land after this file: until then its calls are weak
 * and every op answers CUDA_ERROR_NOT_SUPPORTED. */
#pragma weak rpc_decode_call
#pragma weak rpc_decoded_free
#pragma weak rpc_encode_reply

long long srv_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

long long srv_now_ms(void)
{
    return srv_now_ns() / 1000000;
}

void srv_deadline_us(struct timespec *dl, long us)
{
    clock_gettime(CLOCK_REALTIME, dl);
    dl->tv_sec += us / 1000000;
    dl->tv_nsec += (us % 1000000) * 1000;
    if (dl->tv_nsec >= 1000000000) dl->tv_sec++, dl->tv_nsec -= 1000000000;
}

void srv_deadline(struct timespec *dl, int ms)
{
    srv_deadline_us(dl, (long)ms * 1000);
}

void call_free(struct call *cl)
{
    if (!cl) return;
    free(cl->enc);
    free(cl->raw);
    free(cl);
}

/* ---- sending ---------------------------------------------------------------- */

int send_frames(struct session *s, rpc_hdr *h, const void *enc, size_t enc_len,
                       const struct iovec *raw, int nraw)
{
    rpc_error e;
    struct iovec part[RPC_MAX_RAW_IOV];
    int i = 0;
    size_t off = 0;
    int more_after = h->flags & RPC_F_MORE; /* the caller sends more frames after these */
    do { /* one frame per RPC_MAX_RAW_LEN bytes or RPC_MAX_RAW_IOV pieces */
        int n = 0;
        size_t bytes = 0;
        while (i < nraw && n < RPC_MAX_RAW_IOV && bytes < RPC_MAX_RAW_LEN) {
            size_t take = raw[i].iov_len - off;
            if (take > RPC_MAX_RAW_LEN - bytes) take = RPC_MAX_RAW_LEN - bytes;
            part[n++] = (struct iovec){(char *)raw[i].iov_base + off, take};
            bytes += take;
            off += take;
            if (off == raw[i].iov_len) i++, off = 0;
        }
        h->flags = (h->flags & ~RPC_F_MORE) | (i < nraw || more_after ? RPC_F_MORE : 0);
        if (rpc_frame_send(s->c, RPC_FROM_SERVER, h, enc, enc_len, part, n, 30000, &e) != RPC_OK) {
            srv_warn("send %s: %s", rpc_type_name(h->type), e.msg);
            return -1;
        }
        h->type = RPC_T_DATA; /* later chunks */
        h->credit = 0;
        enc = NULL;
        enc_len = 0;
    } while (i < nraw);
    return 0;
}

void send_begin_locked(struct session *s, rpc_hdr *h)
{
    h->credit += atomic_exchange(&s->credit_owed, 0);
    h->version = RPC_PROTO_VERSION;
    /* device output written before this reply (a synchronisation's) goes first */
    if (h->type == RPC_T_REPLY || h->type == RPC_T_NOTIFY) out_drain_locked(s);
}

int session_send(struct session *s, rpc_hdr *h, const void *enc, size_t enc_len,
                 const struct iovec *raw, int nraw)
{
    pthread_mutex_lock(&s->send_lock);
    send_begin_locked(s, h);
    int rc = send_frames(s, h, enc, enc_len, raw, nraw);
    atomic_store(&s->last_send, srv_now_ms());
    pthread_mutex_unlock(&s->send_lock);
    return rc;
}

rpc_hdr reply_hdr(const struct call *cl)
{
    return (rpc_hdr){.type = RPC_T_REPLY, .op = cl->h.op, .thread = cl->h.thread,
                     .seq = cl->h.seq, .ctx = cl->h.ctx, .credit = 1};
}

int reply_result(struct session *s, struct call *cl, CUresult r)
{
    uint8_t b[4];
    rpc_wbuf w;
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u32(&w, (uint32_t)r);
    rpc_hdr h = reply_hdr(cl);
    return session_send(s, &h, b, 4, NULL, 0);
}

/* A NOREPLY call's failure waits for the next call of the same client thread
 * that replies: the driver answers a bad argument to the thread that made the
 * call, never to another. The first failure is kept, with its context. */
struct pending_err {
    uint32_t thread;
    uint64_t ctx;
    CUresult r;
    struct pending_err *next;
};

static void note_async(struct session *s, struct call *cl, CUresult r)
{
    if (r != CUDA_SUCCESS) {
        pthread_mutex_lock(&s->lock);
        struct pending_err *p = s->pend;
        while (p && p->thread != cl->h.thread) p = p->next;
        if (!p && (p = calloc(1, sizeof *p))) {
            p->thread = cl->h.thread;
            p->next = s->pend;
            s->pend = p;
        }
        if (!p)
            srv_warn("%s: no memory to keep its failure %d", cl->d ? cl->d->name : "?", r);
        else if (p->r == CUDA_SUCCESS)
            p->r = r, p->ctx = cl->h.ctx;
        srv_debug("%s (thread %u seq %llu) failed with %d; reported at the thread's next reply",
                  cl->d ? cl->d->name : "?", cl->h.thread, (unsigned long long)cl->h.seq, r);
        pthread_mutex_unlock(&s->lock);
    }
    atomic_fetch_add(&s->credit_owed, 1); /* after the failure is kept: its thread asks next */
}

/* The failure cl's thread is owed, taken once (CUDA_SUCCESS if none). */
static CUresult take_pending(struct session *s, const struct call *cl)
{
    CUresult r = CUDA_SUCCESS;
    uint64_t ctx = 0;
    pthread_mutex_lock(&s->lock);
    for (struct pending_err **pp = &s->pend; *pp; pp = &(*pp)->next) {
        struct pending_err *p = *pp;
        if (p->thread != cl->h.thread) continue;
        r = p->r, ctx = p->ctx;
        *pp = p->next;
        free(p);
        break;
    }
    pthread_mutex_unlock(&s->lock);
    /* a device fault is the context's: the backend reports it from every later
     * call in that context, so a call in another context does not get it */
    return rpc_error_is_sticky(r) && ctx != cl->h.ctx ? CUDA_SUCCESS : r;
}

/* ---- handles ------------------------------------------------------------------- */

struct xlate { /* handle translation context of one call (s->lock held) */
    struct session *s;
    struct call *cl;
};

static CUstream thread_stream(struct session *s, struct cthread *t, uint64_t ctx)
{
    for (struct ptstream *p = t->streams; p; p = p->next)
        if (p->ctx == ctx) return p->s;
    struct ptstream *p = calloc(1, sizeof *p);
    if (!p || s->be.cuStreamCreate(&p->s, CU_STREAM_DEFAULT) != CUDA_SUCCESS) {
        free(p);
        return NULL;
    }
    p->ctx = ctx;
    p->next = t->streams;
    t->streams = p;
    return p->s;
}

static int stream_special(struct xlate *x, uint64_t id, void **real)
{
    if (id == 1) {
        *real = CU_STREAM_LEGACY;
        return 0;
    }
    if (id == 0 && !x->cl->d->per_thread) {
        *real = NULL;
        return 0;
    }
    /* NULL in a _ptsz call, or CU_STREAM_PER_THREAD: the client thread's stream */
    CUstream st = thread_stream(x->s, x->cl->t, x->cl->h.ctx);
    *real = st;
    return st ? 0 : CUDA_ERROR_INVALID_CONTEXT;
}

static int to_real(void *self, enum rpc_handle_type t, uint64_t id, void **real)
{
    struct xlate *x = self;
    *real = NULL;
    if (t == RPC_H_DEVICE) {
        if (id >= (uint64_t)x->s->ndev) return CUDA_ERROR_INVALID_DEVICE;
        *real = (void *)(uintptr_t)id;
        return 0;
    }
    if (t == RPC_H_STREAM && id <= 2) return stream_special(x, id, real);
    if (id == 0) return 0; /* NULL keeps its meaning; the driver judges it */
    if (t == RPC_H_FUNCTION && h_type_of(id) == RPC_H_KERNEL) t = RPC_H_KERNEL;
    if (handles_get(x->s->h, id, t, real) == 0) return 0;
    if (t == RPC_H_CONTEXT) return CUDA_ERROR_INVALID_CONTEXT;
    /* CUmemGenericAllocationHandle is an integer to the driver, and an unknown or
     * destroyed CUmemoryPool is what the pool calls answer as a bad value too
     * (cuMemRelease / cuMemMap / cuMemPoolDestroy / ... say CUDA_ERROR_INVALID_VALUE) */
    return t == RPC_H_MEM_HANDLE || t == RPC_H_MEMPOOL ? CUDA_ERROR_INVALID_VALUE
                                                       : CUDA_ERROR_INVALID_HANDLE;
}

/* ---- argument values --------------------------------------------------------------- */

/* The byte length a DEVPTR argument names; -1 on overflow. */
static int arg_len(const struct rpc_decoded *dc, const struct rpc_len *l, unsigned size, uint64_t *out)
{
    uint64_t a = l->a < dc->desc->nargs ? arg_u64(dc, l->a) : 0;
    uint64_t b = l->b < dc->desc->nargs ? arg_u64(dc, l->b) : 1;
    uint64_t k = l->k ? l->k : 1, v = 0;
    switch (l->kind) {
    case RPC_LEN_CONST: v = l->k; break;
    case RPC_LEN_SIZEOF: v = size; break;
    case RPC_LEN_ARG: v = a; break;
    case RPC_LEN_ARG_MUL: if (__builtin_mul_overflow(a, k, &v)) return -1; break;
    case RPC_LEN_ARGS_MUL:
        if (__builtin_mul_overflow(a, b, &v) || __builtin_mul_overflow(v, k, &v)) return -1;
        break;
    default: return 1; /* no length: not range-checked */
    }
    *out = v;
    return 0;
}

/* The ranges VMM calls name must be the session's own (DESIGN rule 2): a mapping inside
 * one recorded reservation, an unmap of whole recorded mappings, the free of a whole
 * recorded reservation. Anything else is what the driver calls an invalid value. */
static CUresult check_vmm(struct session *s, const struct rpc_decoded *dc)
{
    const char *b = dc->desc->base;
    int ok = 1;
    if (dc->desc->nargs < 2) return CUDA_SUCCESS;
    uint64_t p = arg_u64(dc, 0), n = arg_u64(dc, 1);
    if (!strcmp(b, "cuMemMap")) ok = allocs_inside(&s->mem, p, n, ALLOC_RESERVED);
    else if (!strcmp(b, "cuMemUnmap")) ok = allocs_tiled(&s->mem, p, n, ALLOC_MAPPED);
    else if (!strcmp(b, "cuMemAddressFree")) ok = allocs_has_exact(&s->mem, p, n, ALLOC_RESERVED);
    if (ok) return CUDA_SUCCESS;
    srv_debug("%s: [%#llx, +%#llx) is not a range of the session's reservations", dc->desc->name,
              (unsigned long long)p, (unsigned long long)n);
    return CUDA_ERROR_INVALID_VALUE;
}

/* A reservation the backend placed outside the client's window could be mistaken for
 * client host memory: it is given back and the call fails as the driver does when no
 * address range of that size is free (CUDA_ERROR_OUT_OF_MEMORY). */
static CUresult check_reservation(struct session *s, const struct rpc_decoded *dc)
{
    if (!(srv_traits(dc->desc) & SV_ADDR_RESERVE) || !s->win_size) return CUDA_SUCCESS;
    uint64_t p = arg_u64(dc, 0), n = arg_u64(dc, 1);
    if (p >= s->win_base && n <= s->win_size && p - s->win_base <= s->win_size - n)
        return CUDA_SUCCESS;
    srv_warn("%s: the backend reserved [%#llx, +%#llx), outside the device address window; "
             "refused", dc->desc->name, (unsigned long long)p, (unsigned long long)n);
    if (s->be.cuMemAddressFree) s->be.cuMemAddressFree((CUdeviceptr)p, (size_t)n);
    return CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult check_ranges(struct session *s, const struct rpc_decoded *dc)
{
    const struct rpc_call_desc *d = dc->desc;
    /* VMM calls name reservations, which are not accessible memory: the driver checks them */
    if (srv_traits(d) & SV_VMM) return check_vmm(s, dc);
    int inner = ranges_inner_check(s, dc); /* inside structs and arrays (ranges.c) */
    if (inner != CUDA_SUCCESS) return (CUresult)inner;
    for (int i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        uint64_t len = 0;
        if (a->kind != RPC_ARG_DEVPTR) continue;
        int rc = arg_len(dc, &a->len, a->size, &len);
        if (rc > 0) continue;
        uint64_t p = arg_u64(dc, i);
        if (rc < 0 || (len && !allocs_contains(&s->mem, p, len))) {
            srv_debug("%s: %s = %#llx (+%llu) is not the session's device memory", d->name,
                      a->name, (unsigned long long)p, (unsigned long long)len);
            return CUDA_ERROR_INVALID_VALUE;
        }
    }
    return CUDA_SUCCESS;
}

/* A call's host bytes live in this worker only until the call returns, so a
 * stream capture must not record them: a graph replay would read or write
 * freed worker memory. Refused until graph replays fetch host data from the
 * client (SV_HOST_BYTES: memory-copy marshallers carry host bytes too). */
static CUresult check_capture_host_bytes(struct session *s, const struct rpc_decoded *dc)
{
    const struct rpc_call_desc *d = dc->desc;
    /* Sessions that never capture pay nothing on their copies. */
    if (!atomic_load(&s->captured) || !(srv_traits(d) & SV_HOST_BYTES)) return CUDA_SUCCESS;
    for (int i = 0; i < d->nargs; i++) {
        if (d->args[i].kind != RPC_ARG_HANDLE || d->args[i].handle != RPC_H_STREAM) continue;
        CUstreamCaptureStatus st = CU_STREAM_CAPTURE_STATUS_NONE;
        CUstream real = dc->avalues[i] ? *(CUstream *)dc->avalues[i] : NULL;
        if (s->be.cuStreamIsCapturing(real, &st) == CUDA_SUCCESS &&
            st != CU_STREAM_CAPTURE_STATUS_NONE) {
            srv_warn("%s: copies of host memory cannot be captured into a graph through rgpu "
                     "yet", d->name);
            return CUDA_ERROR_NOT_SUPPORTED;
        }
    }
    return CUDA_SUCCESS;
}

/* Client-minted ids of created handles: of the right type, fresh. */
static CUresult check_new_ids(struct session *s, const struct rpc_decoded *dc)
{
    const struct rpc_call_desc *d = dc->desc;
    for (int i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_OUT_HANDLE || a->mint != RPC_MINT_CLIENT) continue;
        uint64_t id = dc->ids[i];
        void *real;
        if (h_type_of(id) != a->handle || (id & H_SERVER_BIT) || !(id & H_SERIAL_MASK) ||
            handles_get(s->h, id, a->handle, &real) == 0) {
            srv_warn("%s: client id %#llx for %s is not a fresh id of its type", d->name,
                     (unsigned long long)id, a->name);
            return CUDA_ERROR_INVALID_VALUE;
        }
    }
    return CUDA_SUCCESS;
}

/* ---- the context of the call ------------------------------------------------------ */

static __thread CUcontext cur_ctx;
static __thread int cur_set;

/* Makes the frame's context current on this OS thread. An id that is not a
 * live context makes none current: the driver then answers as it would. */
static void set_context(struct session *s, uint64_t ctx)
{
    void *real = NULL;
    if (ctx) {
        pthread_mutex_lock(&s->lock);
        if (handles_get(s->h, ctx, RPC_H_CONTEXT, &real)) real = NULL;
        pthread_mutex_unlock(&s->lock);
    }
    if (cur_set && real == (void *)cur_ctx) return;
    if (s->be.cuCtxSetCurrent((CUcontext)real) == CUDA_SUCCESS) {
        cur_ctx = real;
        cur_set = 1;
    }
}

/* ---- one call ------------------------------------------------------------------------ */

static int reply_decoded(struct session *s, struct call *cl, struct rpc_decoded *dc, CUresult r)
{
    rpc_wbuf w;
    struct iovec raw[RPC_MAX_ARGS];
    int nraw = RPC_MAX_ARGS;
    rpc_wbuf_init_dyn(&w, RPC_MAX_ENC_LEN);
    if (rpc_encode_reply(dc, (uint32_t)r, &w, raw, &nraw) || !rpc_wbuf_ok(&w)) {
        srv_err("%s: reply does not encode", cl->d->name);
        rpc_wbuf_free(&w);
        return reply_result(s, cl, r ? r : CUDA_ERROR_UNKNOWN);
    }
    rpc_hdr h = reply_hdr(cl);
    int rc = session_send(s, &h, w.data, w.len, raw, nraw);
    rpc_wbuf_free(&w);
    return rc;
}

static CUresult run_backend(struct session *s, struct call *cl, struct rpc_decoded *dc)
{
    char plain[128];
    const char *name = cl->d->name;
    if (cl->d->per_thread) { /* the plain variant, with the thread's stream substituted */
        snprintf(plain, sizeof plain, "%s", name);
        size_t n = strlen(plain);
        if (n > 5 && (!strcmp(plain + n - 5, "_ptsz") || !strcmp(plain + n - 5, "_ptds")))
            plain[n - 5] = 0;
        name = plain;
    }
    struct backend_fn *f = backend_fn(&s->be, cl->d, name);
    if (!f) return CUDA_ERROR_NOT_SUPPORTED;
    atomic_fetch_add(&s->busy, 1);
    CUresult r = backend_call(f, dc->avalues);
    /* a launch the client sent once for several (rpc/frame.h `repeat`), each
     * further run with the same parameters or, in the raw part, its own; the
     * runs stop at the first failure, which stands for them all (note_async
     * keeps one) */
    size_t each = dc->param_total; /* decode_and_run: raw_len is repeat x that */
    for (uint32_t k = 0; k < cl->h.repeat && r == CUDA_SUCCESS; k++) {
        if (cl->raw_len && rpc_launch_rerun_params(dc, (char *)cl->raw + k * each, each))
            r = CUDA_ERROR_INVALID_VALUE; /* checked before the first run: never here */
        else
            r = backend_call(f, dc->avalues);
    }
    atomic_fetch_sub(&s->busy, 1);
    return r;
}

static CUresult run_streamed(struct session *s, struct call *cl, struct rpc_decoded *dc)
{
    return bulk_in_run(s, cl, dc, run_backend);
}

static int unsupported(struct session *s, struct call *cl, const char *why)
{
    static __thread uint32_t logged[64];
    uint32_t op = cl->h.op;
    if (!logged[op % 64] || logged[op % 64] != op) {
        srv_warn("%s: not supported (%s)", cl->d ? cl->d->name : "unknown op", why);
        logged[op % 64] = op;
    }
    if (cl->h.flags & RPC_F_NOREPLY) {
        note_async(s, cl, CUDA_ERROR_NOT_SUPPORTED);
        return 0;
    }
    return reply_result(s, cl, CUDA_ERROR_NOT_SUPPORTED);
}

/* Decodes (under the table lock), checks, runs. 1 if the backend ran, 0 if
 * the call was refused before (*r says why), -1 if it does not decode. */
static int decode_and_run(struct session *s, struct call *cl, struct rpc_decoded *dc, CUresult *r)
{
    rpc_rbuf rb;
    struct xlate x = {s, cl};
    struct rpc_handle_ops ho = {to_real, &x};
    rpc_rbuf_init(&rb, cl->enc, cl->h.enc_len);
    /* a repeated launch's raw part is its further runs' parameters, not the call's */
    int reruns = cl->h.repeat && cl->raw_len;
    pthread_mutex_lock(&s->lock);
    int rc = rpc_decode_call(cl->d, &rb, reruns ? NULL : cl->raw, reruns ? 0 : cl->raw_len, &ho, dc);
    if (rc == 0 && reruns && (!dc->param_total || cl->raw_len != (size_t)dc->param_total * cl->h.repeat))
        rc = -1; /* not a whole set of parameters for every further run (a refused
                  * call, rc > 0, is answered as it is: it runs not even once) */
    if (rc == 0) rc = check_new_ids(s, dc);
    if (rc == 0) rc = check_ranges(s, dc);
    if (rc == 0) mirror_before_call(s, dc); /* memory about to be freed leaves the mirror */
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) return -1;
    *r = (CUresult)rc;
    if (rc) return 0;
    /* notify.c: staged host sides, client host functions; ipc.c: the export table */
    if (graph_call(s, cl, dc, r) || ipc_call(s, cl, dc, r)) {
        if (*r == CUDA_SUCCESS) {
            pthread_mutex_lock(&s->lock);
            post_process(s, cl, dc);
            pthread_mutex_unlock(&s->lock);
        }
        return 1;
    }
    if ((*r = check_capture_host_bytes(s, dc)) != CUDA_SUCCESS) return 0;
    /* A call that changes the allocation table runs with its update as one step: a
     * freed address can come back from another thread's allocation before the
     * free's own update, which would then remove the new entry. */
    int memop = post_changes_allocs(dc);
    if (memop) pthread_mutex_lock(&s->mem_mu);
    /* quota.c: the session's share of its GPUs; bulk.c: a copy whose bytes still arrive */
    *r = quota_run(s, cl, dc, bulk_in_of(s, cl) ? run_streamed : run_backend);
    if (*r == CUDA_SUCCESS && (srv_traits(cl->d) & SV_BEGIN_CAPTURE))
        atomic_store(&s->captured, true);
    if (*r == CUDA_SUCCESS) *r = check_reservation(s, dc);
    if (*r == CUDA_SUCCESS) {
        pthread_mutex_lock(&s->lock);
        post_process(s, cl, dc);
        pthread_mutex_unlock(&s->lock);
    }
    if (memop) pthread_mutex_unlock(&s->mem_mu);
    return 1;
}

/* cuLaunchHostFunc / cuStreamAddCallback[_ptsz] ENQUEUE (notify.c): the
 * stream translated like any handle, the callback enqueued in the backend. */
static int hostcb_call(struct session *s, struct call *cl)
{
    int noreply = (cl->h.flags & RPC_F_NOREPLY) != 0;
    rpc_rbuf rb;
    rpc_rbuf_init(&rb, cl->enc, cl->h.enc_len);
    uint32_t sub = rpc_get_u32(&rb);
    uint64_t stream = rpc_get_u64(&rb), id = rpc_get_u64(&rb);
    uint32_t flags = rpc_get_u32(&rb);
    if (!rpc_rbuf_done(&rb) || sub != SRV_CB_ENQUEUE) {
        atomic_fetch_sub(&s->live_cbs, 1);
        srv_err("%s (thread %u seq %llu): malformed arguments", cl->d->name, cl->h.thread,
                (unsigned long long)cl->h.seq);
        call_free(cl);
        return -1;
    }
    CUresult r = noreply ? CUDA_SUCCESS : take_pending(s, cl);
    if (r == CUDA_SUCCESS && flags) r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) {
        void *real = NULL;
        struct xlate x = {s, cl};
        set_context(s, cl->h.ctx);
        pthread_mutex_lock(&s->lock);
        r = (CUresult)to_real(&x, RPC_H_STREAM, stream, &real);
        pthread_mutex_unlock(&s->lock);
        if (r == CUDA_SUCCESS) r = hostcb_enqueue(s, cl->d, (CUstream)real, id);
    }
    if (r != CUDA_SUCCESS) atomic_fetch_sub(&s->live_cbs, 1); /* never enqueued */
    int rc = 0;
    if (noreply) note_async(s, cl, r);
    else rc = reply_result(s, cl, r);
    call_free(cl);
    return rc;
}

int dispatch_call(struct session *s, struct call *cl)
{
    int noreply = (cl->h.flags & RPC_F_NOREPLY) != 0, rc = 0;
    if (cl->h.repeat && !(cl->d && (srv_traits(cl->d) & SV_REPEATS))) {
        srv_err("%s (thread %u seq %llu): sent to run %u more times, which only a launch may",
                cl->d ? cl->d->name : "unknown op", cl->h.thread, (unsigned long long)cl->h.seq,
                cl->h.repeat);
        call_free(cl);
        return -1;
    }
#ifdef RGPU_GL
    if (gl_hook_op(cl->h.op)) return gl_call(s, cl); /* GL batches (server/gl, docs/gl.md) */
#endif
    if (hostcb_op(cl->d)) return hostcb_call(s, cl);
    if (mirror_op(cl->d)) return mirror_call(s, cl); /* managed memory (mirror.c) */
    if (imagecache_op(cl->d)) return imagecache_call(s, cl); /* image QUERY (imagecache.c) */
    if (!cl->d || !rpc_decode_call || !rpc_encode_reply)
        rc = unsupported(s, cl, cl->d ? "no codec in this build" : "unknown op");
    else if (cl->d->cls != RPC_CLASS_FORWARD && cl->d->cls != RPC_CLASS_CUSTOM)
        rc = unsupported(s, cl, "not forwarded"); /* the codec answers for missing marshallers */
    else {
        CUresult r = noreply ? CUDA_SUCCESS : take_pending(s, cl);
        if (r != CUDA_SUCCESS) {
            rc = reply_result(s, cl, r);
        } else if (set_context(s, cl->h.ctx), bulk_out_call(s, cl, &rc)) {
            /* bulk.c: a large cuMemcpyDtoH answered in pieces */
        } else {
            struct rpc_decoded dc; /* rpc_decode_call, always reached, clears it */
            dc.desc = cl->d;
            dc.scratch = NULL;
            int dec = decode_and_run(s, cl, &dc, &r);
            if (dec < 0) {
                srv_err("%s (thread %u seq %llu): malformed arguments", cl->d->name, cl->h.thread,
                        (unsigned long long)cl->h.seq);
                rc = -1;
            } else if (noreply) {
                note_async(s, cl, r);
            } else {
                rc = dec ? reply_decoded(s, cl, &dc, r) : reply_result(s, cl, r);
            }
            if (rpc_decoded_free) rpc_decoded_free(&dc);
        }
    }
    bulk_in_done(s, cl); /* a streamed copy's bytes are all read before the call goes */
    call_free(cl);
    return rc;
}
