/* managed.c — managed memory in the application (DESIGN rule 5): the device
 * pointer of cuMemAllocManaged is dereferenced on the host, so the shim makes
 * the same address usable here (its pages of the device window become
 * read-write) and keeps both copies coherent. Each region has a shadow: the
 * bytes both sides last agreed on. Before a call that lets the device read
 * (launches, copies, memsets, prefetches) the bytes the application changed
 * since go to the worker (PUSH); after a call that makes device writes visible
 * (synchronisations, synchronous copies) the bytes the device changed come
 * back (PULL), compared by the worker against its own shadow. Only changed
 * bytes travel; no signal handler, no page protection tricks. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mirror_wire.h"
#include "shim.h"

struct region {
    uint64_t base, size;
    uint8_t *shadow; /* size bytes (anonymous mapping: zero until touched) */
};

static struct {
    pthread_mutex_t mu; /* regions, shadows, and the order of PUSH / PULL frames */
    struct region *v;
    size_t n, cap;
    _Atomic size_t live; /* n, readable without the lock */
    struct rpc_runs runs;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

#define PAGE RPC_MIRROR_PAGE

static uint64_t page_up(uint64_t n)
{
    return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

int rg_managed_add(uint64_t base, uint64_t size)
{
    uint64_t span = page_up(size);
    if (!size || !span || base % PAGE || !rg_in_window(base) || !rg_in_window(base + span - 1))
        return -1;
    void *shadow = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shadow == MAP_FAILED) return -1;
    /* the window's pages were PROT_NONE and never touched: they read as zeros, like the shadow */
    if (mprotect((void *)(uintptr_t)base, span, PROT_READ | PROT_WRITE) != 0) goto fail;
    pthread_mutex_lock(&G.mu);
    if (G.n == G.cap) {
        size_t cap = G.cap ? G.cap * 2 : 16;
        struct region *v = realloc(G.v, cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&G.mu);
            mprotect((void *)(uintptr_t)base, span, PROT_NONE);
            goto fail;
        }
        G.v = v;
        G.cap = cap;
    }
    G.v[G.n++] = (struct region){base, size, shadow};
    atomic_store(&G.live, G.n);
    pthread_mutex_unlock(&G.mu);
    return 0;
fail:
    munmap(shadow, span);
    return -1;
}

/* The pages go back to the window: inaccessible, their memory returned. */
static void drop(struct region *r)
{
    uint64_t span = page_up(r->size);
    void *p = (void *)(uintptr_t)r->base;
    mmap(p, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    munmap(r->shadow, span);
}

void rg_managed_remove(uint64_t base)
{
    pthread_mutex_lock(&G.mu);
    for (size_t i = 0; i < G.n; i++)
        if (G.v[i].base == base) {
            drop(&G.v[i]);
            G.v[i] = G.v[--G.n];
            break;
        }
    atomic_store(&G.live, G.n);
    pthread_mutex_unlock(&G.mu);
}

int rg_managed_contains(uint64_t p, uint64_t len)
{
    if (!atomic_load(&G.live)) return 0;
    int in = 0;
    pthread_mutex_lock(&G.mu);
    for (size_t i = 0; i < G.n && !in; i++)
        in = p >= G.v[i].base && p - G.v[i].base < G.v[i].size && len <= G.v[i].size - (p - G.v[i].base);
    pthread_mutex_unlock(&G.mu);
    return in;
}

/* ---- PUSH ---------------------------------------------------------------------- */

static const struct rpc_call_desc *mirror_desc(void)
{
    static const struct rpc_call_desc *d;
    if (!d) d = rpc_call_by_name(RPC_MIRROR_OP_NAME);
    return d;
}

static CUresult send_push_locked(void)
{
    const struct rpc_call_desc *d = mirror_desc();
    if (!G.runs.n) return CUDA_SUCCESS;
    if (!d) return CUDA_ERROR_NOT_SUPPORTED;
    rpc_wbuf w;
    rpc_wbuf_init_dyn(&w, rg_conn_max_enc());
    rpc_put_u32(&w, RPC_MIRROR_PUSH);
    rpc_runs_encode(&w, &G.runs);
    CUresult r = CUDA_ERROR_OUT_OF_MEMORY;
    if (rpc_wbuf_ok(&w)) {
        rpc_hdr h = {.op = d->op, .ctx = rg_ctx_current_id(), .flags = RPC_F_NOREPLY};
        r = rg_conn_call(&h, w.data, w.len, G.runs.iov, (int)G.runs.n, 0, NULL);
    }
    rpc_wbuf_free(&w);
    rpc_runs_reset(&G.runs);
    return r;
}

/* The application's changes since the last agreement go to the worker. */
static CUresult push(void)
{
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&G.mu);
    for (size_t i = 0; i < G.n && r == CUDA_SUCCESS; i++) {
        const struct region *g = &G.v[i];
        rpc_runs_seal(&G.runs);
        for (uint64_t off = 0; off < g->size && r == CUDA_SUCCESS; off += PAGE) {
            size_t len = g->size - off < PAGE ? (size_t)(g->size - off) : PAGE;
            if (!rpc_runs_room(&G.runs, len)) r = send_push_locked();
            if (r == CUDA_SUCCESS &&
                rpc_runs_diff(&G.runs, g->base + off, (const uint8_t *)(uintptr_t)(g->base + off),
                              g->shadow + off, len))
                r = CUDA_ERROR_OUT_OF_MEMORY;
        }
    }
    if (r == CUDA_SUCCESS) r = send_push_locked();
    rpc_runs_reset(&G.runs);
    pthread_mutex_unlock(&G.mu);
    return r;
}

/* ---- PULL ---------------------------------------------------------------------- */

static struct region *region_of(uint64_t p, uint64_t len)
{
    for (size_t i = 0; i < G.n; i++)
        if (p >= G.v[i].base && p - G.v[i].base < G.v[i].size && len <= G.v[i].size - (p - G.v[i].base))
            return &G.v[i];
    return NULL;
}

/* Writes the worker's runs into the application's memory and the shadows.
 * 0, 1 if the worker has more, -1 if the reply is malformed. */
static int apply_locked(struct rg_reply *rep)
{
    rpc_rbuf rb;
    struct rpc_runs_reader it;
    rpc_rbuf_init(&rb, rep->enc, rep->hdr.enc_len);
    uint32_t res = rpc_get_u32(&rb), more = rpc_get_u32(&rb);
    if (!rpc_rbuf_ok(&rb)) return -1;
    if (res != CUDA_SUCCESS) return 0; /* nothing mirrored there (logged by the worker) */
    if (rpc_runs_begin(&it, &rb, rep->raw, rep->raw_len)) return -1;
    uint64_t addr;
    uint32_t len;
    const uint8_t *bytes;
    int rc;
    while ((rc = rpc_runs_next(&it, &addr, &len, &bytes)) == 1) {
        struct region *g = region_of(addr, len);
        if (!g) continue; /* freed here meanwhile */
        memcpy((void *)(uintptr_t)addr, bytes, len);
        memcpy(g->shadow + (addr - g->base), bytes, len);
    }
    if (rc < 0 || !rpc_rbuf_done(&rb)) return -1;
    return more ? 1 : 0;
}

/* The device's changes come back. The PULL does not take a pending
 * asynchronous error: the application's next waiting call reports it. */
static CUresult pull(void)
{
    const struct rpc_call_desc *d = mirror_desc();
    if (!d) return CUDA_ERROR_NOT_SUPPORTED;
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&G.mu);
    for (int more = 1; more == 1 && G.n && r == CUDA_SUCCESS;) {
        uint8_t b[4];
        rpc_wbuf w;
        rpc_wbuf_init(&w, b, sizeof b);
        rpc_put_u32(&w, RPC_MIRROR_PULL);
        rpc_hdr h = {.op = d->op, .ctx = rg_ctx_current_id()};
        struct rg_reply rep = {0};
        r = rg_conn_call(&h, b, w.len, NULL, 0, 1, &rep);
        if (r != CUDA_SUCCESS) break;
        more = apply_locked(&rep);
        rg_reply_free(&rep);
        if (more < 0) {
            rg_log(RG_LOG_ERROR, "managed memory: the server's reply does not decode");
            r = CUDA_ERROR_UNKNOWN;
        }
    }
    pthread_mutex_unlock(&G.mu);
    return r;
}

/* ---- when ---------------------------------------------------------------------- */

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* Calls after which the device may read memory the application wrote. */
static int device_reads(const struct rpc_call_desc *d)
{
    const char *b = d->base;
    return starts(b, "cuLaunch") || starts(b, "cuGraphLaunch") || starts(b, "cuMemcpy") ||
           starts(b, "cuMemset") || starts(b, "cuMemPrefetch") ||
           starts(b, "cuMemDiscardAndPrefetch") || starts(b, "cuStreamWriteValue") ||
           starts(b, "cuStreamWaitValue") || starts(b, "cuStreamBatchMemOp");
}

/* Calls after which device writes are visible to the host. */
static int makes_visible(const struct rpc_call_desc *d)
{
    const char *b = d->base;
    if (!strcmp(b, "cuCtxSynchronize") || !strcmp(b, "cuStreamSynchronize") ||
        !strcmp(b, "cuEventSynchronize") || !strcmp(b, "cuStreamQuery") || !strcmp(b, "cuEventQuery"))
        return 1;
    /* synchronous copies and memsets return once done */
    return (starts(b, "cuMemcpy") || starts(b, "cuMemset")) && !strstr(b, "Async");
}

CUresult rg_managed_before(const struct rpc_call_desc *d)
{
    if (!atomic_load(&G.live) || !device_reads(d)) return CUDA_SUCCESS;
    return push();
}

CUresult rg_managed_after(const struct rpc_call_desc *d)
{
    if (!atomic_load(&G.live) || !makes_visible(d)) return CUDA_SUCCESS;
    return pull();
}
