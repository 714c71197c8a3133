/* bulk.c — large copies without a full-size buffer in the worker (DESIGN rule 4).
 *
 * Host to device (a plain cuMemcpyHtoD of SRV_BULK_MIN bytes or more): the main
 * loop hands the call to its lane as soon as the header and arguments are in,
 * then reads the raw bytes in pieces. Until the lane has checked the call and
 * copied the first piece through the backend's own cuMemcpyHtoD (which waits
 * for earlier work, as the driver does), pieces queue up: the lane may be
 * waiting for something only a later frame brings (a host callback's DONE), so
 * the main loop does not wait on it for long then: it keeps SRV_BULK_WINDOW
 * bytes queued for at most SRV_BULK_EARLY_MS in all while the lane has not
 * reached the call (a lane late under load would otherwise let a 1 GiB copy
 * pile up in pieces), and none once the lane is in that first copy, which may
 * wait for a frame behind these bytes. Once the lane takes pieces as they come,
 * the main loop keeps at most SRV_BULK_WINDOW bytes queued; with a backend
 * whose device memory is host memory (simgpu) it then receives the rest
 * straight into the allocation, whose range the lane checked. A call that does
 * not run (bad range, an earlier pipelined failure) has its bytes read and
 * dropped; a connection that dies mid-way ends the session, nothing waits.
 *
 * Device to host (a plain cuMemcpyDtoH of SRV_BULK_MIN bytes or more): the
 * backend's cuMemcpyDtoH is the wait for earlier work. With simgpu it copies
 * one byte and the whole range is sent straight from the allocation
 * (scatter-gather); other backends copy the first piece into staging that
 * way, then copy into two staging pieces in turn, the
 * next piece's device copy (asynchronous, on a stream of the copy's own)
 * running while the current one is sent.
 *
 * Staging pieces (a backend whose device memory is not host memory, or
 * rgpud --bulk-staging pinned) are page-locked with the backend the first
 * time a lane uses them (cuMemHostRegister, portable), so the device copies
 * are DMA from and to them; at most BULK_PINNED stay pinned, and those are
 * kept for the next copy, never freed. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulk.h"
#include "quota.h"
#include "log.h"

struct piece {
    uint64_t off;
    size_t len;
    struct piece *next;
    int pinned;  /* registered with the backend (page-locked) */
    char *data;  /* SRV_BULK_PIECE bytes, page-aligned, in the same block */
};
#define PIECE_HEAD 4096 /* the header's room: data starts on a page */

struct bulk {
    const struct call *cl; /* the key; the call is its lane's */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t total, received; /* announced, read from the stream */
    struct piece *head, *tail;
    size_t queued; /* bytes in pieces */
    int consuming; /* the lane takes pieces as they come: the window applies */
    int first_run; /* the lane is in the backend's copy of the first piece */
    long early_ms; /* how long the main loop has waited before the lane consumed */
    int late;      /* ... and gave up waiting */
    char *direct;  /* where the rest goes in place (host-memory backend), or NULL */
    int discard;   /* the call did not run: bytes are dropped */
    int eof, failed;
    struct bulk *next;
};

/* Pieces are kept for the next copy: a fresh 4 MiB allocation is mmap'd and
 * faulted in page by page, every time. At most BULK_KEEP stay (16 MiB), plus
 * the pinned ones (at most BULK_PINNED), which always do. */
#define BULK_KEEP 4
#define BULK_PINNED 6
static _Atomic int npinned;
static struct {
    pthread_mutex_t mu;
    struct piece *free;
    int n;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct piece *piece_get(void)
{
    pthread_mutex_lock(&pool.mu);
    struct piece *p = pool.free;
    if (p) pool.free = p->next, pool.n--;
    pthread_mutex_unlock(&pool.mu);
    if (p) return p;
    void *m = NULL;
    if (posix_memalign(&m, PIECE_HEAD, PIECE_HEAD + SRV_BULK_PIECE)) return NULL;
    p = m;
    p->pinned = 0;
    p->data = (char *)m + PIECE_HEAD;
    return p;
}

static void piece_put(struct piece *p)
{
    if (!p) return;
    pthread_mutex_lock(&pool.mu);
    if (pool.n < BULK_KEEP || p->pinned) {
        p->next = pool.free;
        pool.free = p;
        pool.n++;
        p = NULL;
    }
    pthread_mutex_unlock(&pool.mu);
    free(p);
}

/* Whether the bytes go straight between the connection and device memory:
 * the backend's device memory is this process's host memory (simgpu), and
 * staging was not asked for. */
static int host_memory_backend(const struct session *s)
{
    return !strcmp(s->cfg->backend, "simgpu") && strcmp(s->cfg->bulk_staging, "pinned");
}

/* Lane, the call's context current: page-locks a staging piece once. Without
 * it (the backend refuses, BULK_PINNED reached) the copy works from pageable
 * memory, as the driver's own staging does. */
static void pin(struct session *s, struct piece *p)
{
    if (!p || p->pinned || !s->be.cuMemHostRegister) return;
    if (atomic_fetch_add(&npinned, 1) >= BULK_PINNED) {
        atomic_fetch_sub(&npinned, 1);
        return;
    }
    CUresult r = s->be.cuMemHostRegister(p->data, SRV_BULK_PIECE, CU_MEMHOSTREGISTER_PORTABLE);
    if (r == CUDA_SUCCESS) {
        p->pinned = 1;
        return;
    }
    atomic_fetch_sub(&npinned, 1);
    static _Atomic int told;
    if (!atomic_exchange(&told, 1))
        srv_info("staging pieces stay pageable: the backend's cuMemHostRegister says %d", (int)r);
}

static int plain_copy(const struct rpc_call_desc *d, const char *base, unsigned buf_arg,
                      unsigned dev_arg)
{
    return d && !d->custom && d->cls == RPC_CLASS_FORWARD && !strcmp(d->base, base) &&
           d->nargs == 3 && d->args[buf_arg].kind == (buf_arg ? RPC_ARG_IN_BUF : RPC_ARG_OUT_BUF) &&
           d->args[dev_arg].kind == RPC_ARG_DEVPTR && d->args[2].kind == RPC_ARG_VALUE &&
           d->args[dev_arg].size == 8 && d->args[2].size == 8;
}

/* The generic wire form of the three arguments (rpc/codec.c): a device pointer
 * (u64), a buffer (u8 present, u64 length), the byte count (u64), in the
 * call's order. 0 unless it reads and the buffer is the byte count's. */
static int copy_args(const struct call *cl, int buf_first, uint64_t *dev, uint64_t *n)
{
    rpc_rbuf rb;
    uint64_t len;
    uint8_t present;
    rpc_rbuf_init(&rb, cl->enc, cl->h.enc_len);
    if (buf_first) {
        present = rpc_get_u8(&rb), len = rpc_get_u64(&rb);
        *dev = rpc_get_u64(&rb);
    } else {
        *dev = rpc_get_u64(&rb);
        present = rpc_get_u8(&rb), len = rpc_get_u64(&rb);
    }
    *n = rpc_get_u64(&rb);
    return rpc_rbuf_done(&rb) && present == 1 && len == *n && *n >= SRV_BULK_MIN;
}

/* ---- host to device ------------------------------------------------------------ */

static struct bulk *find(struct session *s, const struct call *cl)
{
    struct bulk *b;
    pthread_mutex_lock(&s->lock);
    for (b = s->bulks; b && b->cl != cl; b = b->next) {
    }
    pthread_mutex_unlock(&s->lock);
    return b;
}

int bulk_in_wanted(struct session *s, struct call *cl)
{
    uint64_t dev, n;
    if (!plain_copy(cl->d, "cuMemcpyHtoD", 1, 0) || !copy_args(cl, 0, &dev, &n)) return 0;
    if (n > SRV_MAX_CALL_RAW) return 0; /* the generic path refuses it */
    struct bulk *b = calloc(1, sizeof *b);
    if (!b) return 0;
    b->cl = cl;
    b->total = n;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_mutex_lock(&s->lock);
    b->next = s->bulks;
    s->bulks = b;
    pthread_mutex_unlock(&s->lock);
    cl->raw = NULL; /* the codec checks lengths only; the lane never reads cl->raw */
    cl->raw_len = (size_t)n;
    return 1;
}

int bulk_in_of(struct session *s, const struct call *cl)
{
    return find(s, cl) != NULL;
}

/* Main loop: where the next k bytes go. NULL with *drop 0: a new piece. */
static char *next_target(struct session *s, struct bulk *b, size_t k, int *drop)
{
    pthread_mutex_lock(&b->mu);
    while (!b->direct && !b->discard && b->queued + k > SRV_BULK_WINDOW &&
           !atomic_load(&s->fatal) && !atomic_load(&s->closing)) {
        if (!b->consuming && (b->first_run || b->early_ms >= SRV_BULK_EARLY_MS)) {
            if (!b->first_run && !b->late)
                srv_debug("%s of %llu bytes: its lane is still busy after %ld ms; the rest "
                          "is queued", b->cl->d->name, (unsigned long long)b->total, b->early_ms);
            b->late = 1;
            break; /* queue: the lane may wait for something behind these bytes */
        }
        struct timespec dl;
        long long t0 = srv_now_ms();
        srv_deadline(&dl, 100);
        pthread_cond_timedwait(&b->cv, &b->mu, &dl);
        if (!b->consuming) b->early_ms += srv_now_ms() - t0;
    }
    *drop = b->discard;
    char *to = b->direct && !b->discard ? b->direct + b->received : NULL;
    pthread_mutex_unlock(&b->mu);
    return to;
}

static int read_piece(struct session *s, struct bulk *b, size_t k, rpc_error *e)
{
    int drop;
    char *to = next_target(s, b, k, &drop);
    if (drop ||
        to) { /* in place: the lane checked [dst, dst + total) and waited for earlier work */
        rpc_status st = drop ? rpc_frame_skip_raw(s->c, k, 30000, e)
                             : rpc_frame_recv_raw(s->c, to, k, 30000, e);
        if (st != RPC_OK) return -1;
        pthread_mutex_lock(&b->mu);
        b->received += k;
        pthread_mutex_unlock(&b->mu);
        return 0;
    }
    struct piece *p = piece_get();
    if (!p) return rpc_fail(e, RPC_E_NOMEM, "no memory for a %zu-byte piece of a copy", k), -1;
    if (rpc_frame_recv_raw(s->c, p->data, k, 30000, e) != RPC_OK) {
        piece_put(p);
        return -1;
    }
    p->len = k;
    p->next = NULL;
    pthread_mutex_lock(&b->mu);
    p->off = b->received;
    b->received += k;
    if (b->discard) {
        piece_put(p); /* the lane gave up while we read */
    } else {
        if (b->tail)
            b->tail->next = p;
        else
            b->head = p;
        b->tail = p;
        b->queued += k;
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

static int receive_all(struct session *s, struct bulk *b, const struct call *cl, rpc_error *e)
{
    rpc_hdr h = cl->h;
    for (;;) {
        if (h.raw_len > b->total - b->received)
            return rpc_fail(e, RPC_E_UNEXPECTED, "%s sent more bytes than its byte count",
                            cl->d->name),
                   -1;
        for (size_t left = h.raw_len; left;) {
            size_t k = left < SRV_BULK_PIECE ? left : SRV_BULK_PIECE;
            if (read_piece(s, b, k, e)) return -1;
            left -= k;
        }
        if (!(h.flags & RPC_F_MORE)) break;
        void *enc = NULL;
        if (rpc_frame_recv(s->c, RPC_FROM_CLIENT, 0, TP_FOREVER, &h, &enc, e) != RPC_OK) return -1;
        free(enc);
        if (h.type != RPC_T_DATA || h.thread != cl->h.thread || h.seq != cl->h.seq)
            return rpc_fail(e, RPC_E_UNEXPECTED,
                            "a %s frame where DATA of thread %u seq %llu was due",
                            rpc_type_name(h.type), cl->h.thread, (unsigned long long)cl->h.seq),
                   -1;
    }
    if (b->received != b->total)
        return rpc_fail(e, RPC_E_UNEXPECTED, "%s sent %llu of its %llu bytes", cl->d->name,
                        (unsigned long long)b->received, (unsigned long long)b->total),
               -1;
    return 0;
}

int bulk_in_receive(struct session *s, struct call *cl, rpc_error *e)
{
    struct bulk *b = find(s, cl);
    if (!b) return rpc_fail(e, RPC_E_INVAL, "streamed copy without its state"), -1;
    int rc = receive_all(s, b, cl, e);
    pthread_mutex_lock(&b->mu);
    if (rc)
        b->failed = 1;
    else
        b->eof = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* Lane: the next piece, waiting for it; NULL at the end or on failure. */
static struct piece *take(struct bulk *b)
{
    pthread_mutex_lock(&b->mu);
    while (!b->head && !b->eof && !b->failed)
        pthread_cond_wait(&b->cv, &b->mu);
    struct piece *p = b->head;
    if (p) {
        b->head = p->next;
        if (!b->head) b->tail = NULL;
        b->queued -= p->len;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return p;
}

CUresult bulk_in_run(struct session *s, struct call *cl, struct rpc_decoded *dc,
                     CUresult (*run)(struct session *, struct call *, struct rpc_decoded *))
{
    struct bulk *b = find(s, cl);
    uint64_t dst, n;
    memcpy(&dst, dc->val[0].bytes, 8);
    memcpy(&n, dc->val[2].bytes, 8);
    void *src = dc->ptrval[1];
    CUresult r = CUDA_SUCCESS;
    int first = 1, in_place = host_memory_backend(s);
    atomic_fetch_add(&s->busy, 1); /* heartbeats while the bytes flow */
    for (struct piece *p; r == CUDA_SUCCESS && (p = take(b));) {
        if (first || !in_place) { /* the backend's own copy: order, and non-host memory */
            uint64_t to = dst + p->off, len = p->len;
            if (!in_place) pin(s, p); /* the main loop fills the next pieces meanwhile */
            memcpy(dc->val[0].bytes, &to, 8);
            memcpy(dc->val[2].bytes, &len, 8);
            dc->ptrval[1] = p->data;
            if (first) {
                pthread_mutex_lock(&b->mu);
                b->first_run = 1;
                pthread_cond_broadcast(&b->cv);
                pthread_mutex_unlock(&b->mu);
            }
            r = run(s, cl, dc);
        } else {
            memcpy((char *)(uintptr_t)dst + p->off, p->data, p->len);
        }
        piece_put(p);
        if (first && r == CUDA_SUCCESS) { /* from now on the main loop may wait for us */
            pthread_mutex_lock(&b->mu);
            b->consuming = 1;
            if (in_place) b->direct = (char *)(uintptr_t)dst;
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
        }
        first = 0;
    }
    pthread_mutex_lock(&b->mu);
    if (b->failed && r == CUDA_SUCCESS) r = CUDA_ERROR_UNKNOWN; /* the session is ending */
    pthread_mutex_unlock(&b->mu);
    atomic_fetch_sub(&s->busy, 1);
    memcpy(dc->val[0].bytes, &dst, 8);
    memcpy(dc->val[2].bytes, &n, 8);
    dc->ptrval[1] = src;
    return r;
}

void bulk_in_done(struct session *s, const struct call *cl)
{
    struct bulk *b = find(s, cl);
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    b->discard = 1;
    pthread_cond_broadcast(&b->cv);
    while (!b->eof && !b->failed) { /* the main loop reads (and drops) the rest */
        struct piece *p = b->head;
        if (p) {
            b->head = p->next;
            if (!b->head) b->tail = NULL;
            b->queued -= p->len;
            piece_put(p);
            continue;
        }
        pthread_cond_wait(&b->cv, &b->mu);
    }
    while (b->head) {
        struct piece *p = b->head;
        b->head = p->next;
        piece_put(p);
    }
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_lock(&s->lock);
    for (struct bulk **pp = &s->bulks; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* ---- device to host -------------------------------------------------------------- */

static CUresult dtoh(struct session *s, struct call *cl, void *host, uint64_t dev, uint64_t n)
{
    char name[64]; /* the op's own symbol; a _ptds variant runs as the plain one */
    snprintf(name, sizeof name, "%s", cl->d->name);
    char *tail = strstr(name, "_ptds");
    if (tail) *tail = 0;
    struct backend_fn *f = backend_fn(&s->be, cl->d, name);
    if (!f) return CUDA_ERROR_NOT_SUPPORTED;
    size_t len = (size_t)n;
    void *av[3] = {&host, &dev, &len};
    return backend_call(f, av);
}

/* A stream for the staged copies of one call (NULL: they run synchronously). */
static CUstream copy_stream(struct session *s)
{
    CUstream st = NULL;
    if (!s->be.cuMemcpyDtoHAsync || !s->be.cuStreamSynchronize ||
        s->be.cuStreamCreate(&st, CU_STREAM_NON_BLOCKING) != CUDA_SUCCESS)
        return NULL;
    return st;
}

/* send_lock held, staging: the pieces leave from `stage` (the first already
 * in it) and `spare` in turn; while one is sent, the next one's device copy
 * runs on `st` (after the first, synchronous copy waited for earlier work,
 * the rest need no order but their own). Without a spare or a stream, one
 * piece is copied after the other. */
static int send_staged(struct session *s, struct call *cl, rpc_hdr *h, const uint8_t res[4],
                       char *stage, char *spare, CUstream st, uint64_t dev, uint64_t n,
                       size_t first)
{
    rpc_error e;
    char *cur = stage;
    for (uint64_t off = 0; off < n;) {
        size_t k = off ? (size_t)(n - off < SRV_BULK_PIECE ? n - off : SRV_BULK_PIECE) : first;
        uint64_t next = off + k;
        size_t nk = next < n ? (size_t)(n - next < SRV_BULK_PIECE ? n - next : SRV_BULK_PIECE) : 0;
        char *into = spare ? spare : cur; /* where the next piece's bytes go */
        int ahead = nk && spare && st &&
                    s->be.cuMemcpyDtoHAsync(into, (CUdeviceptr)(dev + next), nk, st) == CUDA_SUCCESS;
        struct iovec iov = {cur, k};
        h->flags = next < n ? RPC_F_MORE : 0;
        if (rpc_frame_send(s->c, RPC_FROM_SERVER, h, off ? NULL : res, off ? 0 : 4, &iov, 1,
                           30000, &e) != RPC_OK) {
            srv_warn("send %s: %s", rpc_type_name(h->type), e.msg);
            if (ahead) s->be.cuStreamSynchronize(st); /* nothing writes into freed staging */
            return -1;
        }
        h->type = RPC_T_DATA;
        h->credit = 0;
        if (nk) {
            CUresult r = ahead ? s->be.cuStreamSynchronize(st) : dtoh(s, cl, into, dev + next, nk);
            if (r != CUDA_SUCCESS) { /* the REPLY said success: only ending the session is true */
                srv_err("%s: the device copy failed half-way (%d); ending the session", cl->d->name,
                        r);
                return -1;
            }
            if (spare) spare = cur, cur = into;
        }
        off = next;
    }
    return 0;
}

/* send_lock held: the REPLY (result 0) and the rest as DATA frames. */
static int send_pieces(struct session *s, struct call *cl, char *stage, char *spare, CUstream st,
                       uint64_t dev, uint64_t n, size_t first)
{
    uint8_t res[4] = {0, 0, 0, 0};
    rpc_hdr h = reply_hdr(cl);
    send_begin_locked(s, &h);
    if (host_memory_backend(s)) {
        /* Straight from the allocation (bulk_out_call's one-byte copy did the
         * wait): the first piece in the REPLY, the rest in DATA frames of one
         * buffer each, which a transport that can send a single buffer without
         * copying (UCX's zero-copy rendezvous) does. */
        struct iovec head = {(char *)(uintptr_t)dev, first};
        h.flags = n > first ? RPC_F_MORE : 0;
        if (send_frames(s, &h, res, sizeof res, &head, 1)) return -1;
        if (n == first) return 0;
        h.flags = 0; /* send_frames made it DATA */
        struct iovec rest = {(char *)(uintptr_t)dev + first, (size_t)(n - first)};
        return send_frames(s, &h, NULL, 0, &rest, 1);
    }
    return send_staged(s, cl, &h, res, stage, spare, st, dev, n, first);
}

int bulk_out_call(struct session *s, struct call *cl, int *rc)
{
    uint64_t dev, n;
    if (!plain_copy(cl->d, "cuMemcpyDtoH", 0, 1) || !copy_args(cl, 1, &dev, &n)) return 0;
    pthread_mutex_lock(&s->lock);
    int ok = allocs_contains(&s->mem, dev, n); /* the range check of dispatch.c */
    pthread_mutex_unlock(&s->lock);
    size_t first = n < SRV_BULK_PIECE ? (size_t)n : SRV_BULK_PIECE;
    /* Device memory that is host memory is sent from where it is: the
     * backend's copy of its first byte only waits for earlier work, as the
     * driver's copy does. Else the first piece is copied into staging. */
    int direct = host_memory_backend(s);
    char byte;
    struct piece *sp = ok && !direct ? piece_get() : NULL; /* the staging buffer */
    char *stage = direct ? &byte : sp ? sp->data : NULL;
    CUresult r = !ok ? CUDA_ERROR_INVALID_VALUE : !stage ? CUDA_ERROR_OUT_OF_MEMORY : CUDA_SUCCESS;
    struct piece *spare = NULL; /* staging: the second piece, and a stream */
    CUstream st = NULL;
    if (r == CUDA_SUCCESS && !direct) {
        pin(s, sp);
        if (n > first && (spare = piece_get())) {
            pin(s, spare);
            st = copy_stream(s);
        }
    }
    if (r == CUDA_SUCCESS) {
        atomic_fetch_add(&s->busy, 1);
        r = dtoh(s, cl, stage, dev, direct ? 1 : first); /* waits for earlier work */
        atomic_fetch_sub(&s->busy, 1);
    }
    if (r == CUDA_SUCCESS) {
        pthread_mutex_lock(&s->send_lock);
        atomic_fetch_add(&s->busy, 1);
        *rc = send_pieces(s, cl, stage, spare ? spare->data : NULL, st, dev, n, first);
        atomic_fetch_sub(&s->busy, 1);
        atomic_store(&s->last_send, srv_now_ms());
        pthread_mutex_unlock(&s->send_lock);
    }
    if (st) s->be.cuStreamDestroy(st);
    piece_put(spare);
    piece_put(sp);
    if (r != CUDA_SUCCESS) {
        *rc = reply_result(s, cl, r);
        return 1;
    }
    quota_count_call(*rc == 0 ? n : 0); /* rgpuctl's calls and bytes out */
    return 1;
}
