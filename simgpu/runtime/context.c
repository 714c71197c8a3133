/* context.c — contexts: primary contexts (one stable registered handle per
 * device, activated lazily), created contexts, the per-thread current-context
 * stack, limits and configs, sticky errors and teardown.
 * A context struct is referenced by its handle and by every stack entry naming
 * it, so a stale entry of a thread's stack is recognised (CONTEXT_IS_DESTROYED)
 * rather than dereferenced after free; the last reference frees it. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define SIM_MAX_HOOKS 8

static sim_ctx_hook hooks[SIM_MAX_HOOKS];
static _Atomic int nhooks;
static _Atomic unsigned long long next_ctx_id = 1;

static __thread struct sim_ctx **stack;
static __thread int depth, stack_cap;
static pthread_key_t stack_key;
static pthread_once_t stack_once = PTHREAD_ONCE_INIT;

void sim_ctx_add_destroy_hook(sim_ctx_hook fn)
{
    int i = atomic_fetch_add(&nhooks, 1);
    if (i < SIM_MAX_HOOKS)
        hooks[i] = fn;
    else
        sim_err("too many context destroy hooks");
}

/* ---- the current-context stack ----------------------------------------- */

struct sim_ctx *sim_ctx_current(void)
{
    return depth ? stack[depth - 1] : NULL;
}

static void ctx_ref(struct sim_ctx *c)
{
    atomic_fetch_add(&c->refs, 1);
}

/* Primary contexts keep their handle's reference for ever. */
static void ctx_unref(struct sim_ctx *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1) return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Thread exit: its stack goes, with its references. */
static void stack_free(void *unused)
{
    while (depth)
        ctx_unref(stack[--depth]);
    free(stack);
    stack = NULL;
    stack_cap = 0;
}

static void stack_key_init(void)
{
    pthread_key_create(&stack_key, stack_free);
}

static bool stack_push(struct sim_ctx *c)
{
    if (depth == stack_cap) {
        pthread_once(&stack_once, stack_key_init);
        pthread_setspecific(stack_key, (void *)1);
        int nc = stack_cap ? stack_cap * 2 : 8;
        struct sim_ctx **ns = realloc(stack, (size_t)nc * sizeof *ns);
        if (!ns) return false;
        stack = ns;
        stack_cap = nc;
    }
    ctx_ref(c);
    stack[depth++] = c;
    return true;
}

static struct sim_ctx *stack_pop(void)
{
    struct sim_ctx *c = stack[--depth];
    ctx_unref(c);
    return c; /* a value for the caller to return, not to dereference */
}

static void stack_replace_top(struct sim_ctx *c)
{
    struct sim_ctx *old = stack[depth - 1];
    ctx_ref(c);
    stack[depth - 1] = c;
    ctx_unref(old);
}

/* ---- creation and activation -------------------------------------------- */

static void limits_default(struct sim_ctx *c)
{
    memset(c->limits, 0, sizeof c->limits);
    c->limits[CU_LIMIT_STACK_SIZE] = 1024;
    c->limits[CU_LIMIT_PRINTF_FIFO_SIZE] = 1 << 20;
    c->limits[CU_LIMIT_MALLOC_HEAP_SIZE] = 8 << 20;
    c->limits[CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH] = 2;
    c->limits[CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT] = 2048;
    c->limits[CU_LIMIT_MAX_L2_FETCH_GRANULARITY] = 64;
    c->limits[CU_LIMIT_PERSISTING_L2_CACHE_SIZE] = 0;
    c->limits[CU_LIMIT_SHMEM_SIZE] = 49152;
}

static struct sim_ctx *ctx_new(struct sim_device *d, unsigned flags, bool primary)
{
    struct sim_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->dev = d;
    c->flags = flags;
    c->is_primary = primary;
    c->id = atomic_fetch_add(&next_ctx_id, 1);
    c->api_version = 3020;
    atomic_store(&c->refs, 1); /* the handle's */
    c->cache_config = CU_FUNC_CACHE_PREFER_NONE;
    c->smem_config = CU_SHARED_MEM_CONFIG_FOUR_BYTE_BANK_SIZE;
    limits_default(c);
    pthread_mutex_init(&c->lock, NULL);
    sim_handle_add(&c->obj, SIM_KIND_CTX);
    return c;
}

CUresult sim_contexts_init(void)
{
    for (int i = 0; i < sim_device_count(); i++) {
        struct sim_device *d = sim_device(i);
        d->primary = ctx_new(d, 0, true);
        if (!d->primary) return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return CUDA_SUCCESS;
}

CUresult sim_ctx_activate(struct sim_ctx *c)
{
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&c->lock);
    if (!c->active) {
        c->legacy = sim_stream_new(c, 0, 0, true, false);
        if (c->legacy)
            c->active = true;
        else
            r = CUDA_ERROR_OUT_OF_MEMORY;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* ---- resolution --------------------------------------------------------- */

CUresult sim_ctx_resolve(CUcontext h, struct sim_ctx **out)
{
    SIM_INIT_OR_RETURN();
    struct sim_ctx *c = (struct sim_ctx *)h;
    if (!c) {
        c = sim_ctx_current();
        if (!c) return CUDA_ERROR_INVALID_CONTEXT;
        if (!sim_handle_ok(c, SIM_KIND_CTX)) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    } else if (!sim_handle_ok(c, SIM_KIND_CTX)) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    int st = atomic_load_explicit(&c->sticky, memory_order_relaxed);
    if (st) return (CUresult)st;
    if (!c->active) {
        CUresult r = sim_ctx_activate(c);
        if (r) return r;
    }
    *out = c;
    return CUDA_SUCCESS;
}

CUresult sim_ctx_get(struct sim_ctx **out)
{
    return sim_ctx_resolve(NULL, out);
}

bool sim_error_is_sticky(CUresult r)
{
    switch (r) {
    case CUDA_ERROR_ILLEGAL_ADDRESS:
    case CUDA_ERROR_ASSERT:
    case CUDA_ERROR_LAUNCH_FAILED:
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
    case CUDA_ERROR_MISALIGNED_ADDRESS:
    case CUDA_ERROR_INVALID_ADDRESS_SPACE:
    case CUDA_ERROR_INVALID_PC:
    case CUDA_ERROR_HARDWARE_STACK_ERROR:
    case CUDA_ERROR_LAUNCH_TIMEOUT:
    case CUDA_ERROR_ECC_UNCORRECTABLE:
        return true;
    default:
        return false;
    }
}

void sim_ctx_set_sticky(struct sim_ctx *c, CUresult r)
{
    if (!c || !sim_error_is_sticky(r)) return;
    int zero = 0;
    atomic_compare_exchange_strong(&c->sticky, &zero, (int)r);
}

/* Streams of c with a reference each (caller unrefs); NULL-terminated. */
static struct sim_stream **streams_snapshot(struct sim_ctx *c);

CUresult sim_ctx_synchronize(struct sim_ctx *c)
{
    struct sim_stream **v = streams_snapshot(c);
    if (!v) return CUDA_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; v[i]; i++) {
        sim_stream_synchronize(v[i]);
        sim_stream_unref(v[i]);
    }
    free(v);
    sim_printf_flush();
    int st = atomic_load(&c->sticky);
    return (CUresult)st;
}

/* ---- teardown ----------------------------------------------------------- */

extern void rg_darkapi_ctx_destroyed(CUcontext ctx);

/* Everything a dying context owns, in dependency order, without locks held. */
static void ctx_teardown(struct sim_ctx *c)
{
    rg_darkapi_ctx_destroyed((CUcontext)c);
    sim_ctx_destroy_streams(c);
    sim_ctx_destroy_events(c);
    int n = atomic_load(&nhooks);
    for (int i = 0; i < n && i < SIM_MAX_HOOKS; i++)
        hooks[i](c);
    sim_ctx_release_memory(c);
    sim_ctx_heap_destroy(c);
    sim_printf_flush();
}

/* Primary reset / last release: the handle stays registered, the state goes. */
static void primary_deactivate(struct sim_ctx *c)
{
    ctx_teardown(c);
    pthread_mutex_lock(&c->lock);
    c->active = false;
    c->primary_refs = 0;
    c->legacy = NULL;
    c->npeers = 0;
    atomic_store(&c->sticky, 0);
    limits_default(c);
    pthread_mutex_unlock(&c->lock);
}

/* ---- the public API ------------------------------------------------------ */

static bool ctx_flags_ok(unsigned flags)
{
    if (flags & ~(unsigned)CU_CTX_FLAGS_MASK) return false;
    unsigned sched = flags & CU_CTX_SCHED_MASK;
    return sched == 0 || sched == 1 || sched == 2 || sched == 4;
}

static CUresult ctx_create(CUcontext *pctx, unsigned flags, CUdevice dev)
{
    SIM_INIT_OR_RETURN();
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    struct sim_device *d = sim_device(dev);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    if (!ctx_flags_ok(flags)) return CUDA_ERROR_INVALID_VALUE;
    struct sim_ctx *c = ctx_new(d, flags, false);
    if (!c) return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult r = sim_ctx_activate(c);
    if (r) {
        sim_handle_remove(&c->obj);
        free(c); /* never handed out */
        return r;
    }
    if (!stack_push(c)) return CUDA_ERROR_OUT_OF_MEMORY;
    *pctx = (CUcontext)c;
    return CUDA_SUCCESS;
}

CUresult cuCtxCreate(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    return ctx_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    return ctx_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *paramsArray, int numParams,
                        unsigned int flags, CUdevice dev)
{
    if (numParams > 0 || paramsArray) {
        sim_warn("cuCtxCreate_v3: execution affinity not supported");
        SIM_INIT_OR_RETURN();
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    return ctx_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params, unsigned int flags,
                        CUdevice dev)
{
    if (params &&
        (params->execAffinityParams || params->numExecAffinityParams > 0 || params->cigParams)) {
        sim_warn("cuCtxCreate_v4: execution affinity / CIG not supported");
        SIM_INIT_OR_RETURN();
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    return ctx_create(pctx, flags, dev);
}

CUresult cuCtxDestroy_v2(CUcontext ctx)
{
    SIM_INIT_OR_RETURN();
    struct sim_ctx *c = (struct sim_ctx *)ctx;
    if (!c || !sim_handle_ok(c, SIM_KIND_CTX)) return CUDA_ERROR_INVALID_CONTEXT;
    if (c->is_primary) return CUDA_ERROR_INVALID_CONTEXT;
    ctx_teardown(c);
    pthread_mutex_lock(&c->lock);
    c->dead = true;
    pthread_mutex_unlock(&c->lock);
    sim_handle_remove(&c->obj);
    if (depth && stack[depth - 1] == c) stack_pop();
    ctx_unref(c); /* other threads' stacks may still hold it */
    return CUDA_SUCCESS;
}

CUresult cuCtxDestroy(CUcontext ctx)
{
    return cuCtxDestroy_v2(ctx);
}

CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
    SIM_INIT_OR_RETURN();
    if (!ctx || !sim_handle_ok(ctx, SIM_KIND_CTX)) return CUDA_ERROR_INVALID_CONTEXT;
    return stack_push((struct sim_ctx *)ctx) ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuCtxPushCurrent(CUcontext ctx)
{
    return cuCtxPushCurrent_v2(ctx);
}

CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
    SIM_INIT_OR_RETURN();
    if (!depth) return CUDA_ERROR_INVALID_CONTEXT;
    struct sim_ctx *c = stack_pop();
    if (pctx) *pctx = (CUcontext)c;
    return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent(CUcontext *pctx)
{
    return cuCtxPopCurrent_v2(pctx);
}

CUresult cuCtxSetCurrent(CUcontext ctx)
{
    SIM_INIT_OR_RETURN();
    if (!ctx) {
        if (depth) stack_pop();
        return CUDA_SUCCESS;
    }
    if (!sim_handle_ok(ctx, SIM_KIND_CTX)) return CUDA_ERROR_INVALID_CONTEXT;
    if (depth)
        stack_replace_top((struct sim_ctx *)ctx);
    else if (!stack_push((struct sim_ctx *)ctx))
        return CUDA_ERROR_OUT_OF_MEMORY;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *pctx)
{
    SIM_INIT_OR_RETURN();
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    *pctx = (CUcontext)sim_ctx_current();
    return CUDA_SUCCESS;
}

static CUresult ctx_device(CUcontext ctx, CUdevice *device)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_resolve(ctx, &c); /* NULL: the current context */
    if (r) return r;
    if (!device) return CUDA_ERROR_INVALID_VALUE;
    *device = c->dev->ordinal;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice *device)
{
    return ctx_device(NULL, device);
}

CUresult cuCtxGetDevice_v2(CUdevice *device, CUcontext ctx)
{
    return ctx_device(ctx, device);
}

CUresult cuCtxSynchronize(void)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r || (r = sim_capture_check_ctx_sync(c))) return r;
    return sim_ctx_synchronize(c);
}

CUresult cuCtxSynchronize_v2(CUcontext ctx)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_resolve(ctx, &c);
    if (r || (r = sim_capture_check_ctx_sync(c))) return r;
    return sim_ctx_synchronize(c);
}

CUresult cuCtxGetFlags(unsigned int *flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!flags) return CUDA_ERROR_INVALID_VALUE;
    *flags = c->flags;
    return CUDA_SUCCESS;
}

CUresult cuCtxSetFlags(unsigned int flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!ctx_flags_ok(flags)) return CUDA_ERROR_INVALID_VALUE;
    c->flags = flags;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetId(CUcontext ctx, unsigned long long *ctxId)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_resolve(ctx, &c);
    if (r) return r;
    if (!ctxId) return CUDA_ERROR_INVALID_VALUE;
    *ctxId = c->id;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetApiVersion(CUcontext ctx, unsigned int *version)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_resolve(ctx, &c);
    if (r) return r;
    if (!version) return CUDA_ERROR_INVALID_VALUE;
    *version = c->api_version;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetLimit(size_t *pvalue, CUlimit limit)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!pvalue) return CUDA_ERROR_INVALID_VALUE;
    if ((int)limit < 0 || limit >= CU_LIMIT_MAX) return CUDA_ERROR_UNSUPPORTED_LIMIT;
    *pvalue = c->limits[limit];
    return CUDA_SUCCESS;
}

CUresult cuCtxSetLimit(CUlimit limit, size_t value)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    switch (limit) {
    case CU_LIMIT_MALLOC_HEAP_SIZE: /* fixed once a kernel that uses it ran */
        return sim_ctx_heap_set_size(c, value);
    case CU_LIMIT_STACK_SIZE:
    case CU_LIMIT_PRINTF_FIFO_SIZE:
    case CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT:
    case CU_LIMIT_PERSISTING_L2_CACHE_SIZE:
        break;
    case CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH:
        if (value > 24) return CUDA_ERROR_INVALID_VALUE;
        break;
    case CU_LIMIT_MAX_L2_FETCH_GRANULARITY:
        if (value > 128) return CUDA_ERROR_INVALID_VALUE;
        break;
    default:
        return CUDA_ERROR_UNSUPPORTED_LIMIT;
    }
    c->limits[limit] = value;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCacheConfig(CUfunc_cache *pconfig)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!pconfig) return CUDA_ERROR_INVALID_VALUE;
    *pconfig = c->cache_config;
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCacheConfig(CUfunc_cache config)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if ((unsigned)config > CU_FUNC_CACHE_PREFER_EQUAL) return CUDA_ERROR_INVALID_VALUE;
    c->cache_config = config;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetSharedMemConfig(CUsharedconfig *pConfig)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!pConfig) return CUDA_ERROR_INVALID_VALUE;
    *pConfig = c->smem_config;
    return CUDA_SUCCESS;
}

CUresult cuCtxSetSharedMemConfig(CUsharedconfig config)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if ((unsigned)config > CU_SHARED_MEM_CONFIG_EIGHT_BYTE_BANK_SIZE)
        return CUDA_ERROR_INVALID_VALUE;
    c->smem_config = config;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetStreamPriorityRange(int *leastPriority, int *greatestPriority)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (leastPriority) *leastPriority = 0;
    if (greatestPriority) *greatestPriority = -5;
    return CUDA_SUCCESS;
}

CUresult cuCtxResetPersistingL2Cache(void)
{
    struct sim_ctx *c;
    return sim_ctx_get(&c);
}

/* ---- peer access ---------------------------------------------------------- */

static int peer_index(struct sim_ctx *c, struct sim_ctx *peer)
{
    for (int i = 0; i < c->npeers; i++)
        if (c->peers[i] == peer) return i;
    return -1;
}

CUresult cuCtxEnablePeerAccess(CUcontext peerContext, unsigned int Flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (Flags) return CUDA_ERROR_INVALID_VALUE;
    struct sim_ctx *p = (struct sim_ctx *)peerContext;
    if (!p || !sim_handle_ok(p, SIM_KIND_CTX)) return CUDA_ERROR_INVALID_CONTEXT;
    if (p->dev == c->dev) return CUDA_ERROR_INVALID_DEVICE;
    pthread_mutex_lock(&c->lock);
    if (peer_index(c, p) >= 0)
        r = CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED;
    else if (c->npeers == 64)
        r = CUDA_ERROR_TOO_MANY_PEERS;
    else
        c->peers[c->npeers++] = p;
    pthread_mutex_unlock(&c->lock);
    return r;
}

CUresult cuCtxDisablePeerAccess(CUcontext peerContext)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    struct sim_ctx *p = (struct sim_ctx *)peerContext;
    if (!p || !sim_handle_ok(p, SIM_KIND_CTX)) return CUDA_ERROR_INVALID_CONTEXT;
    pthread_mutex_lock(&c->lock);
    int i = peer_index(c, p);
    if (i < 0)
        r = CUDA_ERROR_PEER_ACCESS_NOT_ENABLED;
    else
        c->peers[i] = c->peers[--c->npeers];
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* ---- primary contexts ---------------------------------------------------- */

static CUresult primary_of(CUdevice dev, struct sim_ctx **out)
{
    SIM_INIT_OR_RETURN();
    struct sim_device *d = sim_device(dev);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    *out = d->primary;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
    struct sim_ctx *c;
    CUresult r = primary_of(dev, &c);
    if (r) return r;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_ctx_activate(c))) return r;
    pthread_mutex_lock(&c->lock);
    c->primary_refs++;
    pthread_mutex_unlock(&c->lock);
    *pctx = (CUcontext)c;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
    struct sim_ctx *c;
    CUresult r = primary_of(dev, &c);
    if (r) return r;
    pthread_mutex_lock(&c->lock);
    int refs = c->primary_refs;
    if (refs > 0) c->primary_refs--;
    pthread_mutex_unlock(&c->lock);
    if (refs <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (refs == 1) primary_deactivate(c);
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
    return cuDevicePrimaryCtxRelease_v2(dev);
}

CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
    struct sim_ctx *c;
    CUresult r = primary_of(dev, &c);
    if (r) return r;
    if (c->active) primary_deactivate(c);
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxReset(CUdevice dev)
{
    return cuDevicePrimaryCtxReset_v2(dev);
}

CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int *flags, int *active)
{
    struct sim_ctx *c;
    CUresult r = primary_of(dev, &c);
    if (r) return r;
    if (!flags || !active) return CUDA_ERROR_INVALID_VALUE;
    *flags = c->flags;
    *active = c->active;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags)
{
    struct sim_ctx *c;
    CUresult r = primary_of(dev, &c);
    if (r) return r;
    if (!ctx_flags_ok(flags)) return CUDA_ERROR_INVALID_VALUE;
    c->flags = flags;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxSetFlags(CUdevice dev, unsigned int flags)
{
    return cuDevicePrimaryCtxSetFlags_v2(dev, flags);
}

/* ---- helpers used by streams -------------------------------------------- */

static struct sim_stream **streams_snapshot(struct sim_ctx *c)
{
    return sim_ctx_stream_list(c);
}

void sim_ctx_release_memory(struct sim_ctx *c)
{
    struct sim_alloc *v = NULL;
    size_t n = sim_table_take_ctx(c, &v);
    for (size_t i = 0; i < n; i++)
        sim_mem_release(&v[i]);
    free(v);
}

/* ---- execution affinity -------------------------------------------------- */

/* Contexts are never partitioned: the affinity is the whole device. */
CUresult cuCtxGetExecAffinity(CUexecAffinityParam *pExecAffinity, CUexecAffinityType type)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!pExecAffinity || type != CU_EXEC_AFFINITY_TYPE_SM_COUNT) return CUDA_ERROR_INVALID_VALUE;
    int sms = 0;
    sim_device_attribute(c->dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &sms);
    memset(pExecAffinity, 0, sizeof *pExecAffinity);
    pExecAffinity->type = CU_EXEC_AFFINITY_TYPE_SM_COUNT;
    pExecAffinity->param.smCount.val = (unsigned)sms;
    return CUDA_SUCCESS;
}
