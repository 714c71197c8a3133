/* ctx.c — client threads and their context stacks, which live only in the
 * shim (docs/remoting.md): cuCtxPush/Pop/Set/GetCurrent and cuCtxGetDevice
 * never travel; every CALL names the caller's current context instead. Also
 * the id minting of client-created handles. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

/* ---- ids ------------------------------------------------------------------------ */

static _Atomic uint64_t id_serial;

uint64_t rg_id_mint(unsigned t)
{
    return rg_id_make(t, 0, atomic_fetch_add(&id_serial, 1) + 1);
}

/* Ids of destroyed objects (destroy / unload calls that succeeded), sorted. */
static struct {
    pthread_mutex_t mu;
    uint64_t *v;
    size_t n, cap;
} dead_ids = {.mu = PTHREAD_MUTEX_INITIALIZER};

static size_t dead_pos(uint64_t id)
{
    size_t lo = 0, hi = dead_ids.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (dead_ids.v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void rg_id_kill(uint64_t id)
{
    pthread_mutex_lock(&dead_ids.mu);
    size_t i = dead_pos(id);
    if (i == dead_ids.n || dead_ids.v[i] != id) {
        if (dead_ids.n == dead_ids.cap) {
            size_t cap = dead_ids.cap ? dead_ids.cap * 2 : 256;
            uint64_t *v = realloc(dead_ids.v, cap * sizeof *v);
            if (!v) goto out; /* the server still refuses it */
            dead_ids.v = v;
            dead_ids.cap = cap;
        }
        memmove(&dead_ids.v[i + 1], &dead_ids.v[i], (dead_ids.n - i) * sizeof *dead_ids.v);
        dead_ids.v[i] = id;
        dead_ids.n++;
    }
out:
    pthread_mutex_unlock(&dead_ids.mu);
}

static int id_dead(uint64_t id)
{
    pthread_mutex_lock(&dead_ids.mu);
    size_t i = dead_pos(id);
    int dead = i < dead_ids.n && dead_ids.v[i] == id;
    pthread_mutex_unlock(&dead_ids.mu);
    return dead;
}

/* What each id lives in (DESIGN rule 1: a parent's end invalidates its
 * children): streams, events and modules their context, functions their
 * module or kernel, kernels their library. Ids are never reused, so entries
 * never go stale; they are kept for the life of the process like dead ids. */
#define PARENT_BUCKETS 1024
struct parent {
    uint64_t id, parent;
    struct parent *next;
};
static struct parent *parents[PARENT_BUCKETS];
static pthread_mutex_t parents_mu = PTHREAD_MUTEX_INITIALIZER;

void rg_id_set_parent(uint64_t id, uint64_t parent)
{
    if (!id || !parent || id == parent) return;
    pthread_mutex_lock(&parents_mu);
    struct parent **b = &parents[id % PARENT_BUCKETS], *p = *b;
    while (p && p->id != id) p = p->next;
    if (!p && (p = malloc(sizeof *p))) { /* without memory, the server still answers */
        p->id = id, p->parent = parent, p->next = *b;
        *b = p;
    }
    pthread_mutex_unlock(&parents_mu);
}

uint64_t rg_id_parent(uint64_t id)
{
    uint64_t r = 0;
    pthread_mutex_lock(&parents_mu);
    for (struct parent *p = parents[id % PARENT_BUCKETS]; p; p = p->next)
        if (p->id == id) r = p->parent;
    pthread_mutex_unlock(&parents_mu);
    return r;
}

#define PARENT_DEPTH 4 /* function -> kernel -> library; stream -> context */

uint64_t rg_id_ctx(uint64_t id)
{
    for (int i = 0; id && i <= PARENT_DEPTH; i++, id = rg_id_parent(id))
        if (rg_id_type(id) == RPC_H_CONTEXT) return id;
    return 0;
}

/* A reset primary context keeps its id, but everything in it is gone. */
void rg_ctx_children_die(uint64_t ctx)
{
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&parents_mu);
    for (size_t b = 0; b < PARENT_BUCKETS; b++)
        for (struct parent *p = parents[b]; p; p = p->next) {
            if (n == cap) {
                uint64_t *v = realloc(ids, (cap = cap ? cap * 2 : 256) * sizeof *v);
                if (!v) goto out; /* the server still refuses them */
                ids = v;
            }
            ids[n++] = p->id;
        }
out:
    pthread_mutex_unlock(&parents_mu);
    for (size_t i = 0; i < n; i++) /* their own children follow through rg_id_plausible */
        if (rg_id_parent(ids[i]) == ctx) rg_id_kill(ids[i]);
    free(ids);
}

uint64_t rg_stream_ctx(uint64_t stream)
{
    return stream <= 2 ? rg_ctx_current_id() : rg_id_ctx(stream);
}

/* Destroyed itself, or something it lives in was destroyed or unloaded. */
static int id_or_parent_dead(uint64_t id)
{
    for (int i = 0; id && i <= PARENT_DEPTH; i++, id = rg_id_parent(id))
        if (rg_id_type(id) == RPC_H_CONTEXT ? rg_ctx_dead(id) : id_dead(id)) return 1;
    return 0;
}

int rg_id_plausible(unsigned t, uint64_t id)
{
    if (id_or_parent_dead(id)) return 0;
    unsigned type = rg_id_type(id);
    if (type != t && !(t == RPC_H_FUNCTION && type == RPC_H_KERNEL)) return 0;
    uint64_t serial = id & RG_ID_SERIAL_MASK;
    if (serial == 0) return 0;
    return (id & RG_ID_SERVER_BIT) || serial <= atomic_load(&id_serial);
}

/* ---- threads ---------------------------------------------------------------------- */

static _Atomic uint32_t thread_serial;
static _Thread_local uint32_t my_thread;

uint32_t rg_thread_id(void)
{
    if (!my_thread) my_thread = atomic_fetch_add(&thread_serial, 1) + 1;
    return my_thread;
}

/* ---- the contexts the shim knows: created here, with their device ---------------- */

struct known_ctx {
    uint64_t id;
    CUdevice dev;
    int dead; /* destroyed: kept so a stale id is told apart from a bogus one */
    struct known_ctx *next;
};
static struct known_ctx *known;
static pthread_mutex_t known_mu = PTHREAD_MUTEX_INITIALIZER;

int rg_ctx_device(uint64_t id, CUdevice *dev)
{
    if ((id & RG_ID_SERVER_BIT) && rg_id_type(id) == RPC_H_CONTEXT) {
        uint64_t serial = id & RG_ID_SERIAL_MASK;
        if (serial >= 1 && serial <= (uint64_t)rg_sess.nsess) {
            int app = rg_dev_from_session((int)serial - 1);
            if (app < 0) return -1;
            *dev = (CUdevice)app;
            return 0;
        }
    }
    int found = -1;
    pthread_mutex_lock(&known_mu);
    for (struct known_ctx *k = known; k; k = k->next)
        if (k->id == id && !k->dead) *dev = k->dev, found = 0;
    pthread_mutex_unlock(&known_mu);
    return found;
}

/* ---- per-thread stacks ------------------------------------------------------------- */

#define STACK_MAX 64
static _Thread_local uint64_t stack[STACK_MAX];
static _Thread_local int depth;

uint64_t rg_ctx_current_id(void)
{
    return depth ? stack[depth - 1] : 0;
}

void rg_ctx_created(uint64_t id, CUdevice dev)
{
    struct known_ctx *k = malloc(sizeof *k);
    if (k) {
        k->id = id;
        k->dev = dev;
        k->dead = 0;
        pthread_mutex_lock(&known_mu);
        k->next = known;
        known = k;
        pthread_mutex_unlock(&known_mu);
    }
    if (depth < STACK_MAX) stack[depth++] = id;
}

/* Destroyed: marked dead, and popped if it is this thread's current context
 * (other entries stay: using them gives CONTEXT_IS_DESTROYED, as the driver). */
void rg_ctx_destroyed(uint64_t id)
{
    pthread_mutex_lock(&known_mu);
    for (struct known_ctx *k = known; k; k = k->next)
        if (k->id == id) k->dead = 1;
    pthread_mutex_unlock(&known_mu);
    if (depth && stack[depth - 1] == id) depth--;
}

int rg_ctx_dead(uint64_t id)
{
    int dead = 0;
    pthread_mutex_lock(&known_mu);
    for (struct known_ctx *k = known; k; k = k->next)
        if (k->id == id) dead = k->dead;
    pthread_mutex_unlock(&known_mu);
    return dead;
}

/* Client-minted contexts must be alive here; server-minted ones are checked
 * by the server. */
static int ctx_valid(uint64_t id)
{
    CUdevice dev;
    if (rg_ctx_dead(id)) return 0;
    if (id & RG_ID_SERVER_BIT) return rg_id_plausible(RPC_H_CONTEXT, id);
    return rg_ctx_device(id, &dev) == 0;
}

/* ---- the exported calls -------------------------------------------------------------- */

#define SHIM_ENTER()                                                                            \
    int saved_errno_ = errno;                                                                   \
    CUresult r_ = rg_ready();                                                                   \
    if (r_ != CUDA_SUCCESS) return r_
#define SHIM_RETURN(r) return (errno = saved_errno_, (r))

CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
    SHIM_ENTER();
    uint64_t id = (uint64_t)(uintptr_t)ctx;
    if (!id || !ctx_valid(id)) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    if (depth >= STACK_MAX) SHIM_RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    stack[depth++] = id;
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
    SHIM_ENTER();
    if (!depth) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    uint64_t id = stack[--depth];
    if (pctx) *pctx = (CUcontext)(uintptr_t)id;
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxSetCurrent(CUcontext ctx)
{
    SHIM_ENTER();
    uint64_t id = (uint64_t)(uintptr_t)ctx;
    if (!id) {
        if (depth) depth--;
        SHIM_RETURN(CUDA_SUCCESS);
    }
    if (!ctx_valid(id)) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    if (depth)
        stack[depth - 1] = id;
    else
        stack[depth++] = id;
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxGetCurrent(CUcontext *pctx)
{
    SHIM_ENTER();
    if (!pctx) SHIM_RETURN(CUDA_ERROR_INVALID_VALUE);
    *pctx = (CUcontext)(uintptr_t)rg_ctx_current_id();
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxGetDevice(CUdevice *device)
{
    SHIM_ENTER();
    if (!device) SHIM_RETURN(CUDA_ERROR_INVALID_VALUE);
    uint64_t id = rg_ctx_current_id();
    if (!id || rg_ctx_device(id, device) != 0) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    SHIM_RETURN(CUDA_SUCCESS);
}

/* 13.0: the context may be named explicitly (NULL = current). */
CUresult cuCtxGetDevice_v2(CUdevice *device, CUcontext ctx)
{
    SHIM_ENTER();
    if (!device) SHIM_RETURN(CUDA_ERROR_INVALID_VALUE);
    uint64_t id = ctx ? (uint64_t)(uintptr_t)ctx : rg_ctx_current_id();
    if (!id || rg_ctx_device(id, device) != 0) SHIM_RETURN(CUDA_ERROR_INVALID_CONTEXT);
    SHIM_RETURN(CUDA_SUCCESS);
}

CUresult cuCtxPushCurrent(CUcontext ctx)
{
    return cuCtxPushCurrent_v2(ctx);
}

CUresult cuCtxPopCurrent(CUcontext *pctx)
{
    return cuCtxPopCurrent_v2(pctx);
}

/* ---- sticky errors: a context that faulted answers every later call with the
 * fault until it is destroyed or reset, pipelined calls included ---------------- */

#define STICKY_MAX 64
static struct {
    uint64_t id;
    CUresult code;
} sticky[STICKY_MAX];
static pthread_mutex_t sticky_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int nsticky; /* entries in use: none (the rule) answers without the lock */

void rg_ctx_set_sticky(uint64_t id, CUresult code)
{
    if (!id) return;
    pthread_mutex_lock(&sticky_mu);
    int free_slot = -1, i;
    for (i = 0; i < STICKY_MAX && sticky[i].id != id; i++)
        if (!sticky[i].id && free_slot < 0) free_slot = i;
    if (i == STICKY_MAX) {
        i = free_slot;
        if (i >= 0) atomic_fetch_add(&nsticky, 1);
    }
    if (i >= 0) sticky[i].id = id, sticky[i].code = code;
    pthread_mutex_unlock(&sticky_mu);
}

CUresult rg_ctx_sticky(uint64_t id)
{
    CUresult r = CUDA_SUCCESS;
    if (!id || !atomic_load(&nsticky)) return r;
    pthread_mutex_lock(&sticky_mu);
    for (int i = 0; i < STICKY_MAX; i++)
        if (sticky[i].id == id) r = sticky[i].code;
    pthread_mutex_unlock(&sticky_mu);
    return r;
}

void rg_ctx_clear_sticky(uint64_t id)
{
    if (!id) return; /* 0 marks a free slot */
    pthread_mutex_lock(&sticky_mu);
    for (int i = 0; i < STICKY_MAX; i++)
        if (sticky[i].id == id) {
            sticky[i].id = 0;
            atomic_fetch_sub(&nsticky, 1);
        }
    pthread_mutex_unlock(&sticky_mu);
}
