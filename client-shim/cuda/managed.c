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

#include "forward.h"
#include "mirror_wire.h"
#include "shim.h"

struct region {
    uint64_t base, size;
    uint8_t *shadow; /* size bytes (anonymous mapping: zero until touched) */
    uint64_t ctx;    /* the context it goes with (0: a module's variable) */
};

static struct {
    pthread_mutex_t mu; /* regions, shadows, the PUSH batch (never held while waiting) */
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

static uint64_t page_down(uint64_t n)
{
    return n & ~(uint64_t)(PAGE - 1);
}

/* Regions need not be page-aligned (__managed__ variables are not): the pages
 * they touch are made accessible; bytes outside every region are never synced. */
static int add(uint64_t base, uint64_t size, uint64_t ctx)
{
    uint64_t lo = page_down(base), hi = page_up(base + size);
    if (!size || base + size < base || !rg_in_window(base) || !rg_in_window(hi - 1)) return -1;
    void *shadow = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shadow == MAP_FAILED) return -1;
    pthread_mutex_lock(&G.mu);
    /* pages of the window never touched read as zeros, like the shadow; pages another
     * region made accessible keep their bytes (outside this region) */
    int rc = mprotect((void *)(uintptr_t)lo, hi - lo, PROT_READ | PROT_WRITE);
    if (rc == 0 && G.n == G.cap) {
        size_t cap = G.cap ? G.cap * 2 : 16;
        struct region *v = realloc(G.v, cap * sizeof *v);
        if (v) G.v = v, G.cap = cap;
        else rc = -1;
    }
    if (rc == 0) {
        /* pages it covers whole were inaccessible (zeros); the partial first and last
         * ones may hold a freed neighbour's bytes: the region starts as its shadow */
        uint64_t head = page_up(base + 1) - base, tail = (base + size) - page_down(base + size);
        memset((void *)(uintptr_t)base, 0, head < size ? head : size);
        if (tail && tail < size) memset((void *)(uintptr_t)(base + size - tail), 0, tail);
        G.v[G.n++] = (struct region){base, size, shadow, ctx};
        atomic_store(&G.live, G.n);
    }
    pthread_mutex_unlock(&G.mu);
    if (rc != 0) munmap(shadow, size);
    return rc;
}

int rg_managed_add(uint64_t base, uint64_t size)
{
    return add(base, size, rg_ctx_current_id());
}

/* The pages no other region touches go back to the window: inaccessible, their
 * memory returned. */
static void drop_locked(size_t i)
{
    struct region r = G.v[i];
    G.v[i] = G.v[--G.n];
    for (uint64_t pg = page_down(r.base); pg < r.base + r.size; pg += PAGE) {
        int shared = 0;
        for (size_t k = 0; k < G.n && !shared; k++)
            shared = G.v[k].base < pg + PAGE && pg < G.v[k].base + G.v[k].size;
        if (!shared)
            mmap((void *)(uintptr_t)pg, PAGE, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    }
    munmap(r.shadow, r.size);
}

void rg_managed_remove(uint64_t base)
{
    pthread_mutex_lock(&G.mu);
    for (size_t i = 0; i < G.n; i++)
        if (G.v[i].base == base) {
            drop_locked(i);
            break;
        }
    atomic_store(&G.live, G.n);
    pthread_mutex_unlock(&G.mu);
}

void rg_managed_ctx_gone(uint64_t ctx)
{
    if (!ctx) return;
    pthread_mutex_lock(&G.mu);
    for (size_t i = G.n; i-- > 0;)
        if (G.v[i].ctx == ctx) drop_locked(i);
    atomic_store(&G.live, G.n);
    pthread_mutex_unlock(&G.mu);
}

/* G.mu held: the region holding all of [p, p + len), or NULL. */
static struct region *region_of(uint64_t p, uint64_t len)
{
    for (size_t i = 0; i < G.n; i++)
        if (p >= G.v[i].base && p - G.v[i].base < G.v[i].size && len <= G.v[i].size - (p - G.v[i].base))
            return &G.v[i];
    return NULL;
}

int rg_managed_live(void)
{
    return atomic_load(&G.live) != 0;
}

int rg_managed_contains(uint64_t p, uint64_t len)
{
    if (!atomic_load(&G.live)) return 0;
    pthread_mutex_lock(&G.mu);
    int in = region_of(p, len) != NULL;
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

static CUresult send_push_locked(size_t *sent)
{
    const struct rpc_call_desc *d = mirror_desc();
    if (!G.runs.n) return CUDA_SUCCESS;
    *sent += G.runs.n;
    if (!d) return CUDA_ERROR_NOT_SUPPORTED;
    rpc_wbuf w;
    rpc_wbuf_init_dyn(&w, rg_conn_max_enc());
    rpc_put_u32(&w, RPC_MIRROR_PUSH);
    rpc_runs_encode(&w, &G.runs);
    CUresult r = CUDA_ERROR_OUT_OF_MEMORY;
    /* posted without waiting for a credit (the worker returns it as usual): a
     * thread holding G.mu never waits for the server, so a host callback's
     * PULL can always take G.mu */
    if (rpc_wbuf_ok(&w)) r = rg_conn_post_raw(d->op, w.data, w.len, G.runs.iov, (int)G.runs.n);
    rpc_wbuf_free(&w);
    rpc_runs_reset(&G.runs);
    return r;
}

/* The application's changes since the last agreement go to the worker; *sent
 * counts the runs sent. */
static CUresult push(size_t *sent)
{
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&G.mu);
    for (size_t i = 0; i < G.n && r == CUDA_SUCCESS; i++) {
        const struct region *g = &G.v[i];
        rpc_runs_seal(&G.runs);
        for (uint64_t off = 0; off < g->size && r == CUDA_SUCCESS; off += PAGE) {
            size_t len = g->size - off < PAGE ? (size_t)(g->size - off) : PAGE;
            if (!rpc_runs_room(&G.runs, len)) r = send_push_locked(sent);
            if (r == CUDA_SUCCESS &&
                rpc_runs_diff(&G.runs, g->base + off, (const uint8_t *)(uintptr_t)(g->base + off),
                              g->shadow + off, len))
                r = CUDA_ERROR_OUT_OF_MEMORY;
        }
    }
    if (r == CUDA_SUCCESS) r = send_push_locked(sent);
    rpc_runs_reset(&G.runs);
    pthread_mutex_unlock(&G.mu);
    return r;
}

/* ---- PULL ---------------------------------------------------------------------- */

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
 * asynchronous error: the application's next waiting call reports it. G.mu is
 * held only to apply a reply, never while waiting for a credit or the server. */
static CUresult pull(void)
{
    const struct rpc_call_desc *d = mirror_desc();
    if (!d) return CUDA_ERROR_NOT_SUPPORTED;
    CUresult r = CUDA_SUCCESS;
    for (int more = 1; more == 1 && atomic_load(&G.live) && r == CUDA_SUCCESS;) {
        uint8_t b[4];
        rpc_wbuf w;
        rpc_wbuf_init(&w, b, sizeof b);
        rpc_put_u32(&w, RPC_MIRROR_PULL);
        rpc_hdr h = {.op = d->op, .ctx = rg_ctx_current_id()};
        struct rg_reply rep = {0};
        r = rg_conn_call(&h, b, w.len, NULL, 0, 1, &rep);
        if (r != CUDA_SUCCESS) break;
        pthread_mutex_lock(&G.mu);
        more = apply_locked(&rep);
        pthread_mutex_unlock(&G.mu);
        rg_reply_free(&rep);
        if (more < 0) {
            rg_log(RG_LOG_ERROR, "managed memory: the server's reply does not decode");
            r = CUDA_ERROR_UNKNOWN;
        }
    }
    return r;
}

static void add_var(uint64_t base, uint64_t size)
{
    if (rg_managed_contains(base, size)) return; /* asked again */
    if (add(base, size, 0)) {
        rg_log(RG_LOG_ERROR, "__managed__ variable at %#llx cannot be mirrored here",
               (unsigned long long)base);
        return;
    }
    pull(); /* its initial value */
}

void rg_managed_var(const struct rpc_call_desc *d, void **args)
{
    CUdeviceptr *pp = *(CUdeviceptr **)args[0];
    size_t *pn = *(size_t **)args[1];
    if (!pp || d->nargs != 4) return;
    if (pn) {
        add_var(*pp, *pn);
        return;
    }
    /* cudart asks without the size: ask again with it (that call lands here too) */
    CUdeviceptr p = 0;
    size_t n = 0;
    CUdeviceptr *a0 = &p;
    size_t *a1 = &n;
    void *a[4] = {&a0, &a1, args[2], args[3]};
    CUresult r = rg_shim_forward(d, a);
    if (r != CUDA_SUCCESS) rg_conn_restore_async_error(r); /* an earlier call's, for the application */
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
    /* CUDA_LAUNCH_BLOCKING=1: every device call returns once done */
    if (rg_sess.cfg.launch_blocking && device_reads(d)) return 1;
    /* synchronous copies and memsets return once done */
    return (starts(b, "cuMemcpy") || starts(b, "cuMemset")) && !strstr(b, "Async");
}

CUresult rg_managed_before(const struct rpc_call_desc *d, void **args)
{
    if (!atomic_load(&G.live)) return CUDA_SUCCESS;
    /* a freed region leaves the mirror before the free is sent: a PUSH another
     * thread sends later cannot name it (the worker frees it meanwhile) */
    if (!strcmp(d->name, "cuMemFree_v2") && d->nargs == 1) rg_managed_remove(*(uint64_t *)args[0]);
    if (!device_reads(d)) return CUDA_SUCCESS;
    size_t sent = 0;
    return push(&sent);
}

CUresult rg_managed_after(const struct rpc_call_desc *d)
{
    if (!atomic_load(&G.live) || !makes_visible(d)) return CUDA_SUCCESS;
    return pull();
}

/* ---- around host callbacks ------------------------------------------------------------
 * A host callback (cuLaunchHostFunc, cuStreamAddCallback, a graph's host node)
 * sees what the device wrote before its stream reached it: a PULL before it
 * runs. What it writes is the device's to see once its stream goes on: a PUSH
 * after it returns, then a PULL whose reply says the worker applied the PUSH
 * (the same client thread's calls run in order), all before the callback's
 * DONE lets the worker release the stream. The worker holds the stream
 * meanwhile, never anything these calls need. They are made by one helper
 * thread of the shim's, not by the callback threads, which come and go: the
 * worker keeps a lane for every client thread id it has seen. */

enum { JOB_NONE, JOB_BEFORE, JOB_AFTER };

static struct {
    pthread_mutex_t use; /* one callback's job at a time */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int job, done, started;
} H = {.use = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER};

static void run_job(int job)
{
    size_t sent = 0;
    CUresult r = CUDA_SUCCESS;
    if (job == JOB_BEFORE) r = pull();
    else if ((r = push(&sent)) == CUDA_SUCCESS && sent) r = pull(); /* applied before the DONE */
    if (r != CUDA_SUCCESS)
        rg_log(RG_LOG_WARN, "managed memory around a host callback: %s failed (%d)",
               job == JOB_BEFORE ? "PULL" : "PUSH", (int)r);
}

static void *helper_main(void *arg)
{
    (void)arg;
    rg_conn_reserve_user(); /* its PULL never waits behind calls waiting for the held stream */
    pthread_mutex_lock(&H.mu);
    for (;;) {
        while (H.job == JOB_NONE) pthread_cond_wait(&H.cv, &H.mu);
        int job = H.job;
        pthread_mutex_unlock(&H.mu);
        run_job(job);
        pthread_mutex_lock(&H.mu);
        H.job = JOB_NONE;
        H.done = 1;
        pthread_cond_broadcast(&H.cv);
    }
    return NULL;
}

/* The helper, started on first use; 0, or -1 (the caller runs the job itself). */
static int helper_locked(void)
{
    if (H.started) return 0;
    H.started = rg_thread_start(helper_main) == 0;
    return H.started ? 0 : -1;
}

static void callback_job(int job)
{
    if (!atomic_load(&G.live) || rg_ready() != CUDA_SUCCESS) return;
    pthread_mutex_lock(&H.use);
    pthread_mutex_lock(&H.mu);
    if (helper_locked()) {
        pthread_mutex_unlock(&H.mu);
        run_job(job);
    } else {
        H.job = job;
        H.done = 0;
        pthread_cond_broadcast(&H.cv);
        while (!H.done) pthread_cond_wait(&H.cv, &H.mu);
        pthread_mutex_unlock(&H.mu);
    }
    pthread_mutex_unlock(&H.use);
}

void rg_managed_callback_before(void)
{
    callback_job(JOB_BEFORE);
}

void rg_managed_callback_after(void)
{
    callback_job(JOB_AFTER);
}
