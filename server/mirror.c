/* mirror.c — managed memory mirrored in the client: the client's PUSH writes
 * the bytes the application changed into the allocation (host-accessible in
 * the worker: it is managed memory) and into the allocation's shadow; a PULL
 * answers the bytes that differ from the shadow — what the device wrote since
 * — and takes them into the shadow. Only ranges of the session's managed
 * allocations are touched; a run naming anything else is skipped with a log
 * line (the client may have freed it meanwhile). Neither call runs backend
 * work or takes the pending asynchronous error. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mirror.h"
#include "session.h"
#include "mirror_wire.h"

int mirror_op(const struct rpc_call_desc *d)
{
    return d && d->cls == RPC_CLASS_CLIENT && !strcmp(d->name, RPC_MIRROR_OP_NAME);
}

/* The managed allocation holding [p, p+len) with its shadow, or NULL (s->lock held). */
static struct alloc *managed_at(struct session *s, uint64_t p, uint64_t len)
{
    struct alloc *a = allocs_find(&s->mem, p, len);
    if (!a || !a->managed) return NULL;
    if (!a->shadow) a->shadow = calloc(1, a->size);
    return a->shadow ? a : NULL;
}

static int push(struct session *s, struct call *cl, rpc_rbuf *rb)
{
    struct rpc_runs_reader it;
    uint64_t addr;
    uint32_t len;
    const uint8_t *bytes;
    int rc = rpc_runs_begin(&it, rb, cl->raw, cl->raw_len);
    pthread_mutex_lock(&s->lock);
    while (rc == 0 && (rc = rpc_runs_next(&it, &addr, &len, &bytes)) == 1) {
        rc = 0;
        struct alloc *a = managed_at(s, addr, len);
        if (!a) {
            srv_debug("mirror push: [%#llx, +%u) is not the session's managed memory; skipped",
                      (unsigned long long)addr, len);
            continue;
        }
        memcpy((void *)(uintptr_t)addr, bytes, len);
        memcpy(a->shadow + (addr - a->base), bytes, len);
    }
    atomic_fetch_add(&s->credit_owed, 1);
    pthread_mutex_unlock(&s->lock);
    return rc < 0 || !rpc_rbuf_done(rb) ? -1 : 0;
}

/* The device's changes of every managed allocation, up to one batch; *more
 * when some are left for the next PULL. Bytes gathered into *buf (s->lock held). */
static int collect(struct session *s, struct rpc_runs *r, int *more)
{
    *more = 0;
    for (size_t i = 0; i < s->mem.n && !*more; i++) {
        struct alloc *a = &s->mem.v[i];
        if (!a->managed || !managed_at(s, a->base, a->size)) continue;
        rpc_runs_seal(r);
        for (uint64_t off = 0; off < a->size; off += RPC_MIRROR_PAGE) {
            size_t len = a->size - off < RPC_MIRROR_PAGE ? (size_t)(a->size - off) : RPC_MIRROR_PAGE;
            if (!rpc_runs_room(r, len)) {
                *more = 1;
                break;
            }
            if (rpc_runs_diff(r, a->base + off, (const uint8_t *)(uintptr_t)(a->base + off),
                              a->shadow + off, len))
                return -1;
        }
    }
    return 0;
}

static int pull(struct session *s, struct call *cl)
{
    struct rpc_runs r = {0};
    int more = 0;
    uint8_t *bytes = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = collect(s, &r, &more);
    /* the shadows may go with a concurrent free once the lock is released */
    if (rc == 0 && r.bytes && !(bytes = malloc(r.bytes))) rc = -1;
    for (size_t i = 0, off = 0; rc == 0 && i < r.n; off += r.iov[i].iov_len, i++)
        memcpy(bytes + off, r.iov[i].iov_base, r.iov[i].iov_len);
    pthread_mutex_unlock(&s->lock);
    rpc_wbuf w;
    rpc_wbuf_init_dyn(&w, RPC_MAX_ENC_LEN);
    rpc_put_u32(&w, rc == 0 ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY);
    rpc_put_u32(&w, (uint32_t)more);
    if (rc == 0) rpc_runs_encode(&w, &r);
    else rpc_put_u32(&w, 0);
    if (rc) srv_warn("mirror pull: no memory for the device's changes");
    struct iovec raw = {bytes, rc == 0 ? (size_t)r.bytes : 0};
    rpc_hdr h = reply_hdr(cl);
    int sent = rpc_wbuf_ok(&w) ? session_send(s, &h, w.data, w.len, &raw, raw.iov_len ? 1 : 0) : -1;
    rpc_wbuf_free(&w);
    free(bytes);
    rpc_runs_free(&r);
    return sent;
}

int mirror_call(struct session *s, struct call *cl)
{
    rpc_rbuf rb;
    rpc_rbuf_init(&rb, cl->enc, cl->h.enc_len);
    uint32_t sub = rpc_get_u32(&rb);
    int noreply = (cl->h.flags & RPC_F_NOREPLY) != 0, rc = -1;
    if (sub == RPC_MIRROR_PUSH && noreply) rc = push(s, cl, &rb);
    else if (sub == RPC_MIRROR_PULL && !noreply && rpc_rbuf_done(&rb)) rc = pull(s, cl);
    if (rc < 0)
        srv_err("mirror call (thread %u seq %llu): malformed", cl->h.thread,
                (unsigned long long)cl->h.seq);
    call_free(cl);
    return rc;
}

void mirror_before_call(struct session *s, const struct rpc_decoded *dc)
{
    const char *b = dc->desc->base;
    if (!(srv_traits(dc->desc) & SV_MIRROR_BEFORE)) return;
    if (!strcmp(b, "cuMemFree") && dc->desc->nargs == 1) {
        uint64_t p = 0;
        memcpy(&p, dc->val[0].bytes, sizeof p);
        struct alloc *a = allocs_find(&s->mem, p, 1);
        if (a && a->base == p) a->managed = 0;
    } else if (!strcmp(b, "cuCtxDestroy") || !strcmp(b, "cuDevicePrimaryCtxReset")) {
        int dev = 0;
        memcpy(&dev, dc->val[0].bytes, sizeof dev);
        uint64_t owner = !strcmp(b, "cuCtxDestroy") ? dc->ids[0] : primary_ctx_id(dev);
        for (size_t i = 0; i < s->mem.n; i++)
            if (s->mem.v[i].owner == owner) s->mem.v[i].managed = 0;
    }
}
