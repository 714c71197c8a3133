/* quota.c — the session's memory quota on each of its GPUs (quota.h).
 * Every allocation API is charged to the device it allocates on before the
 * driver sees it (so concurrent client threads cannot pass the quota
 * together) and given back if the driver fails it; frees, context destruction
 * and the last release of a VMM handle give it back. What the driver
 * allocates for itself (contexts, local memory, printf buffers) is not
 * charged: the pool holds memory-headroom beside each quota for it. */
#include "quota.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum { Q_MEM = 1, Q_VMM }; /* freed by cuMemFree*, by the last cuMemRelease */

struct qalloc {
    uint64_t key; /* device address, or the backend's VMM handle */
    uint64_t size;
    uint64_t owner; /* context id (Q_MEM); contexts take their memory with them */
    int dev, kind;
    unsigned refs; /* Q_VMM: cuMemCreate + cuMemRetainAllocationHandle */
};

static struct {
    struct pool_table *t;
    struct pool_slot *slot;
    pthread_mutex_t lock;
    struct qalloc *v;
    size_t n, cap;
    struct {
        uint64_t pool;
        int dev;
    } pools[64]; /* memory pools' devices (FromPoolAsync) */
    int npools;
    CUresult (*ctx_device)(CUdevice *);
    CUresult (*primary_state)(CUdevice, unsigned *, int *);
} Q = {.lock = PTHREAD_MUTEX_INITIALIZER};

void quota_attach(struct pool_table *t, struct pool_slot *slot)
{
    Q.t = t;
    Q.slot = slot;
}

uint64_t quota_device_total(int dev, uint64_t total)
{
    if (!Q.slot || dev < 0 || dev >= Q.slot->ndev || !Q.slot->quota[dev]) return total;
    return Q.slot->quota[dev] < total ? Q.slot->quota[dev] : total;
}

/* The real value a HANDLE argument was translated to. */
static uint64_t real_arg(const struct rpc_decoded *dc, int i)
{
    uint64_t v = 0;
    if (dc->avalues[i]) memcpy(&v, dc->avalues[i], sizeof v);
    return v;
}

/* The device of the current context (the call's), -1 if none. */
static int current_device(struct session *s)
{
    CUdevice d = -1;
    if (!Q.ctx_device) Q.ctx_device = (CUresult(*)(CUdevice *))dlsym(s->be.dl, "cuCtxGetDevice");
    if (!Q.ctx_device || Q.ctx_device(&d) != CUDA_SUCCESS) return -1;
    return d;
}

/* ---- the charge ------------------------------------------------------------------------ */

/* Adds bytes to the session's use of dev unless that passes its quota. */
static int charge(int dev, uint64_t bytes)
{
    if (dev < 0 || dev >= Q.slot->ndev) return 1; /* the driver refuses a device it lacks */
    _Atomic uint64_t *u = &Q.slot->used[dev];
    uint64_t q = Q.slot->quota[dev], cur = atomic_load(u);
    do {
        if (q && (bytes > q || cur > q - bytes)) return 0;
    } while (!atomic_compare_exchange_weak(u, &cur, cur + bytes));
    return 1;
}

static void uncharge(int dev, uint64_t bytes)
{
    if (dev >= 0 && dev < Q.slot->ndev) atomic_fetch_sub(&Q.slot->used[dev], bytes);
}

static void record(uint64_t key, uint64_t size, uint64_t owner, int dev, int kind)
{
    pthread_mutex_lock(&Q.lock);
    if (Q.n == Q.cap) {
        size_t cap = Q.cap ? Q.cap * 2 : 64;
        struct qalloc *v = realloc(Q.v, cap * sizeof *v);
        if (!v) { /* cannot remember it: the charge stays until the session ends */
            pthread_mutex_unlock(&Q.lock);
            return;
        }
        Q.v = v;
        Q.cap = cap;
    }
    Q.v[Q.n++] = (struct qalloc){key, size, owner, dev, kind, 1};
    pthread_mutex_unlock(&Q.lock);
}

static void drop_at(size_t i) /* Q.lock held */
{
    uncharge(Q.v[i].dev, Q.v[i].size);
    Q.v[i] = Q.v[--Q.n];
}

/* A free or release of key; delta: references it takes (+1) or gives (-1). */
static void release(uint64_t key, int kind, int delta)
{
    pthread_mutex_lock(&Q.lock);
    for (size_t i = 0; i < Q.n; i++) {
        if (Q.v[i].key != key || Q.v[i].kind != kind) continue;
        if (delta > 0)
            Q.v[i].refs++;
        else if (--Q.v[i].refs == 0)
            drop_at(i);
        break;
    }
    pthread_mutex_unlock(&Q.lock);
}

static void release_owner(uint64_t owner)
{
    pthread_mutex_lock(&Q.lock);
    for (size_t i = 0; i < Q.n;)
        if (Q.v[i].kind == Q_MEM && Q.v[i].owner == owner)
            drop_at(i);
        else
            i++;
    pthread_mutex_unlock(&Q.lock);
}

/* ---- the calls ---------------------------------------------------------------------------- */

struct want { /* an allocation about to be made */
    int dev, kind;
    uint64_t size;
};

/* The device of a memory pool the session created or asked for; -1 unknown. */
static int pool_device(uint64_t pool)
{
    int dev = -1;
    pthread_mutex_lock(&Q.lock);
    for (int i = 0; i < Q.npools; i++)
        if (Q.pools[i].pool == pool) dev = Q.pools[i].dev;
    pthread_mutex_unlock(&Q.lock);
    return dev;
}

static void pool_note(uint64_t pool, int dev)
{
    pthread_mutex_lock(&Q.lock);
    int i = 0;
    while (i < Q.npools && Q.pools[i].pool != pool)
        i++;
    if (i == Q.npools && Q.npools < (int)(sizeof Q.pools / sizeof Q.pools[0])) Q.npools++;
    if (i < Q.npools) {
        Q.pools[i].pool = pool;
        Q.pools[i].dev = dev;
    }
    pthread_mutex_unlock(&Q.lock);
}

static void pool_forget(uint64_t pool)
{
    pthread_mutex_lock(&Q.lock);
    for (int i = 0; i < Q.npools; i++)
        if (Q.pools[i].pool == pool) Q.pools[i--] = Q.pools[--Q.npools];
    pthread_mutex_unlock(&Q.lock);
}

/* Which allocation the call makes, if any: 1 and *w filled. */
static int allocation(struct session *s, const struct rpc_decoded *dc, struct want *w)
{
    w->kind = Q_MEM;
    if (is_base(dc, "cuMemAlloc") || is_base(dc, "cuMemAllocManaged") ||
        is_base(dc, "cuMemAllocAsync") || is_base(dc, "cuMemAllocFromPoolAsync")) {
        w->size = arg_u64(dc, 1);
    } else if (is_base(dc, "cuMemAllocPitch")) { /* the pitch is at most width rounded up to 512 */
        uint64_t wd = arg_u64(dc, 2), h = arg_u64(dc, 3);
        w->size = ((wd + 511) & ~511ull) * h;
    } else if (is_base(dc, "cuMemCreate")) {
        const CUmemAllocationProp *p = dc->ptrval[2];
        if (!p || dc->lens[2] != sizeof *p || p->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
            return 0;
        w->kind = Q_VMM;
        w->size = arg_u64(dc, 1);
        w->dev = p->location.id;
        return 1;
    } else {
        return 0;
    }
    w->dev = is_base(dc, "cuMemAllocFromPoolAsync") ? pool_device(real_arg(dc, 2)) : -1;
    if (w->dev < 0) w->dev = current_device(s);
    return 1;
}

/* After a successful call: frees, releases, destroyed contexts. */
static void account_release(struct session *s, const struct rpc_decoded *dc)
{
    if (is_base(dc, "cuMemFree") || is_base(dc, "cuMemFreeAsync")) {
        release(arg_u64(dc, 0), Q_MEM, -1);
    } else if (is_base(dc, "cuMemRelease")) {
        release(real_arg(dc, 0), Q_VMM, -1);
    } else if (is_base(dc, "cuMemRetainAllocationHandle")) {
        release(arg_u64(dc, 0), Q_VMM, +1);
    } else if (is_base(dc, "cuDeviceGetDefaultMemPool") || is_base(dc, "cuDeviceGetMemPool")) {
        pool_note(arg_u64(dc, 0), (int)arg_u64(dc, 1));
    } else if (is_base(dc, "cuMemPoolCreate")) {
        const CUmemPoolProps *p = dc->ptrval[1];
        if (p && dc->lens[1] == sizeof *p && p->location.type == CU_MEM_LOCATION_TYPE_DEVICE)
            pool_note(arg_u64(dc, 0), p->location.id);
    } else if (is_base(dc, "cuMemPoolDestroy")) {
        pool_forget(real_arg(dc, 0));
    } else if (is_base(dc, "cuCtxDestroy")) {
        release_owner(dc->ids[0]);
    } else if (is_base(dc, "cuDevicePrimaryCtxReset") || is_base(dc, "cuDevicePrimaryCtxRelease")) {
        int dev = (int)arg_u64(dc, 0), active = 0;
        unsigned flags;
        if (!Q.primary_state)
            Q.primary_state = (CUresult(*)(CUdevice, unsigned *, int *))dlsym(
                s->be.dl, "cuDevicePrimaryCtxGetState");
        if (is_base(dc, "cuDevicePrimaryCtxRelease") && Q.primary_state &&
            Q.primary_state(dev, &flags, &active) == 0 && active)
            return; /* still retained */
        if (dev >= 0 && dev < s->ndev) release_owner(primary_ctx_id(dev));
    }
}

/* What sessions of other tenants use on physical device phys (read without
 * the lock: a snapshot is all cuMemGetInfo promises). */
static uint64_t others_use(int phys)
{
    uint64_t n = 0;
    for (uint32_t i = 0; Q.t && i < Q.t->nslots; i++) {
        const struct pool_slot *o = &Q.t->slot[i];
        if (o == Q.slot || atomic_load(&o->state) == POOL_FREE ||
            !strcmp(o->tenant, Q.slot->tenant))
            continue;
        for (int k = 0; k < o->ndev && k < POOL_MAX_DEVICES; k++)
            if (o->dev[k] == phys) n += atomic_load(&o->used[k]);
    }
    return n;
}

/* The session's own view, never another tenant's usage: with a quota, the
 * quota minus its own use; without, the driver's answer with what other
 * tenants' sessions hold on the device counted as free. */
static void mem_info(struct session *s, struct rpc_decoded *dc)
{
    int dev = current_device(s);
    if (dev < 0 || dev >= Q.slot->ndev) return;
    uint64_t total = arg_u64(dc, 1), u = atomic_load(&Q.slot->used[dev]);
    if (!Q.slot->quota[dev]) {
        uint64_t fr = arg_u64(dc, 0) + others_use(Q.slot->dev[dev]);
        dc->val[0].u64 = fr < total ? fr : total;
        return;
    }
    uint64_t q = quota_device_total(dev, total);
    dc->val[0].u64 = u < q ? q - u : 0;
    dc->val[1].u64 = q;
}

#ifndef NDEBUG
/* Debug builds only: RGPUD_DEBUG_CRASH=NAME[@SESSION] (in rgpud's
 * environment) makes the worker (of that session only) die of SIGSEGV when a
 * call NAME (e.g. cuCtxSynchronize) comes: the isolation tests' stand-in for
 * a crash in the driver. */
static void debug_crash(const struct rpc_decoded *dc)
{
    static char name[128];
    static int looked;
    if (!looked++) {
        const char *v = getenv("RGPUD_DEBUG_CRASH"), *at = v ? strchr(v, '@') : NULL;
        if (v && (!at || (Q.slot && strtoull(at + 1, NULL, 10) == Q.slot->session)))
            snprintf(name, sizeof name, "%.*s", at ? (int)(at - v) : (int)strlen(v), v);
    }
    if (!name[0] || strcmp(name, dc->desc->name)) return;
    srv_warn("RGPUD_DEBUG_CRASH=%s: crashing on purpose", name);
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
}
#else
#define debug_crash(dc) ((void)0)
#endif

/* Bytes the reply carries back (output buffers), for the admin plane's figures. */
static void count_out(const struct rpc_decoded *dc, CUresult r)
{
    uint64_t n = 0;
    if (r != CUDA_SUCCESS) return;
    for (int i = 0; i < dc->desc->nargs; i++) {
        unsigned k = dc->desc->args[i].kind;
        if ((k == RPC_ARG_OUT_BUF || k == RPC_ARG_INOUT_BUF) && dc->ptrval[i]) n += dc->lens[i];
    }
    if (n) atomic_fetch_add(&Q.slot->bytes_out, n);
}

void quota_count_call(uint64_t bytes_out)
{
    if (!Q.slot) return;
    atomic_fetch_add(&Q.slot->calls, 1);
    atomic_fetch_add(&Q.slot->bytes_out, bytes_out);
}

CUresult quota_run(struct session *s, struct call *cl, struct rpc_decoded *dc, quota_run_fn run)
{
    struct want w = {0};
    debug_crash(dc);
    if (!Q.slot) return run(s, cl, dc);
    atomic_fetch_add(&Q.slot->calls, 1 + cl->h.repeat); /* a repeated launch: each run */
    atomic_fetch_add(&Q.slot->bytes_in, cl->raw_len);
    int alloc = allocation(s, dc, &w);
    if (alloc && !charge(w.dev, w.size)) {
        srv_info("%s of %llu bytes on device %d refused: the session's quota is %llu, %llu in use",
                 dc->desc->name, (unsigned long long)w.size, w.dev,
                 (unsigned long long)Q.slot->quota[w.dev],
                 (unsigned long long)atomic_load(&Q.slot->used[w.dev]));
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    CUresult r = run(s, cl, dc);
    count_out(dc, r);
    if (alloc) {
        if (r != CUDA_SUCCESS) {
            uncharge(w.dev, w.size);
        } else {
            uint64_t size = w.size;
            /* cuMemAllocPitch: the real size, now known (the other calls have no 4th argument) */
            uint64_t real =
                is_base(dc, "cuMemAllocPitch") ? arg_u64(dc, 1) * arg_u64(dc, 3) : w.size;
            if (real != w.size) {
                if (real < w.size)
                    uncharge(w.dev, w.size - real), size = real;
                else if (charge(w.dev, real - w.size))
                    size = real;
            }
            record(arg_u64(dc, 0), size, cl->h.ctx, w.dev, w.kind);
        }
    } else if (r == CUDA_SUCCESS) {
        if (is_base(dc, "cuMemGetInfo"))
            mem_info(s, dc);
        else
            account_release(s, dc);
    }
    return r;
}
