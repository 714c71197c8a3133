/* mempool.c — stream-ordered allocation: memory pools (a default pool per
 * device, user pools), cuMemAllocAsync / cuMemFreeAsync. Pool memory is
 * device memory of the region tagged with its pool; frees are stream ops.
 * A pool is freed when its handle is destroyed and its last allocation is. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct sim_mempool {
    struct sim_obj obj;
    struct sim_device *dev;
    CUmemPoolProps props;
    _Atomic size_t used, used_high, reserved_high;
    cuuint64_t release_threshold;
    int reuse_follow_event, reuse_opportunistic, reuse_internal_deps;
    CUmemAccess_flags peer_access[64];
    bool is_default;
    _Atomic size_t refs; /* the handle (until destroyed), each live allocation, each call using it */
};

static struct sim_mempool *default_pools[64];
/* Handle lookups that take a reference, destruction and the current pools
 * are serialised by pools_lock, so a pool found is never freed under a caller. */
static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_mempool *current_pools[64];

static void pool_ref(struct sim_mempool *p)
{
    atomic_fetch_add(&p->refs, 1);
}

static void pool_unref(struct sim_mempool *p)
{
    if (atomic_fetch_sub(&p->refs, 1) == 1) free(p);
}

static struct sim_mempool *pool_new(struct sim_device *d, const CUmemPoolProps *props, bool dflt)
{
    struct sim_mempool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->dev = d;
    p->props = *props;
    p->is_default = dflt;
    p->reuse_follow_event = p->reuse_opportunistic = p->reuse_internal_deps = 1;
    atomic_store(&p->refs, 1);
    sim_handle_add(&p->obj, SIM_KIND_MEMPOOL);
    return p;
}

CUresult sim_mempools_init(void)
{
    for (int i = 0; i < sim_device_count() && i < 64; i++) {
        CUmemPoolProps pr = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
                             .location = {CU_MEM_LOCATION_TYPE_DEVICE, i}};
        default_pools[i] = current_pools[i] = pool_new(sim_device(i), &pr, true);
        if (!default_pools[i]) return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return CUDA_SUCCESS;
}

struct sim_mempool *sim_device_default_pool(struct sim_device *d)
{
    return d->ordinal < 64 ? default_pools[d->ordinal] : NULL;
}

void sim_mempool_note_free(void *pool, size_t size)
{
    struct sim_mempool *p = pool;
    atomic_fetch_sub(&p->used, size);
    pool_unref(p); /* the allocation's */
}

CUresult sim_mempool_alloc(struct sim_mempool *p, struct sim_ctx *c, size_t size, uintptr_t *out)
{
    pool_ref(p); /* the allocation's, dropped by sim_mempool_note_free */
    CUresult r = sim_mem_alloc_kind(c, size, SIM_MEM_DEVICE, 0, p, out);
    if (r) {
        pool_unref(p);
        return r;
    }
    size_t sz = sim_mem_accounted(size);
    size_t u = atomic_fetch_add(&p->used, sz) + sz;
    size_t h = atomic_load(&p->used_high);
    while (u > h && !atomic_compare_exchange_weak(&p->used_high, &h, u)) {
    }
    h = atomic_load(&p->reserved_high);
    while (u > h && !atomic_compare_exchange_weak(&p->reserved_high, &h, u)) {
    }
    return CUDA_SUCCESS;
}

/* ---- pools of devices ------------------------------------------------------ */

/* A live pool handle, with a reference the caller drops with pool_unref. */
static CUresult pool_get(CUmemoryPool h, struct sim_mempool **out)
{
    SIM_INIT_OR_RETURN();
    pthread_mutex_lock(&pools_lock);
    bool ok = h && sim_handle_ok(h, SIM_KIND_MEMPOOL);
    if (ok) pool_ref((struct sim_mempool *)h);
    pthread_mutex_unlock(&pools_lock);
    if (!ok) return CUDA_ERROR_INVALID_VALUE;
    *out = (struct sim_mempool *)h;
    return CUDA_SUCCESS;
}

/* The device's current pool, referenced like pool_get's. */
static struct sim_mempool *pool_current(int dev)
{
    pthread_mutex_lock(&pools_lock);
    struct sim_mempool *p = current_pools[dev];
    pool_ref(p);
    pthread_mutex_unlock(&pools_lock);
    return p;
}

CUresult cuDeviceGetDefaultMemPool(CUmemoryPool *pool_out, CUdevice dev)
{
    SIM_INIT_OR_RETURN();
    if (!pool_out) return CUDA_ERROR_INVALID_VALUE;
    struct sim_device *d = sim_device(dev);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    *pool_out = (CUmemoryPool)sim_device_default_pool(d);
    return CUDA_SUCCESS;
}

static CUmemoryPool current_handle(int dev)
{
    pthread_mutex_lock(&pools_lock);
    CUmemoryPool h = (CUmemoryPool)current_pools[dev];
    pthread_mutex_unlock(&pools_lock);
    return h;
}

CUresult cuDeviceGetMemPool(CUmemoryPool *pool, CUdevice dev)
{
    SIM_INIT_OR_RETURN();
    if (!pool) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
    *pool = current_handle(dev);
    return CUDA_SUCCESS;
}

CUresult cuDeviceSetMemPool(CUdevice dev, CUmemoryPool pool)
{
    struct sim_mempool *p;
    CUresult r = pool_get(pool, &p);
    if (r) return r;
    if (!sim_device(dev) || p->dev->ordinal != dev) {
        pool_unref(p);
        return sim_device(dev) ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_INVALID_DEVICE;
    }
    pthread_mutex_lock(&pools_lock);
    if (p->obj.alive) current_pools[dev] = p; /* unless destroyed meanwhile */
    pthread_mutex_unlock(&pools_lock);
    pool_unref(p);
    return CUDA_SUCCESS;
}

CUresult cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *poolProps)
{
    SIM_INIT_OR_RETURN();
    if (!pool || !poolProps) return CUDA_ERROR_INVALID_VALUE;
    if (poolProps->allocType != CU_MEM_ALLOCATION_TYPE_PINNED) return CUDA_ERROR_INVALID_VALUE;
    if (poolProps->location.type != CU_MEM_LOCATION_TYPE_DEVICE) {
        sim_warn("cuMemPoolCreate: only device pools are supported");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    struct sim_device *d = sim_device(poolProps->location.id);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    struct sim_mempool *p = pool_new(d, poolProps, false);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    *pool = (CUmemoryPool)p;
    return CUDA_SUCCESS;
}

/* The handle goes at once; the struct when its last allocation is freed
 * (allocations name their pool), as the driver releases such a pool later. */
CUresult cuMemPoolDestroy(CUmemoryPool pool)
{
    SIM_INIT_OR_RETURN();
    struct sim_mempool *p = (struct sim_mempool *)pool;
    pthread_mutex_lock(&pools_lock);
    bool ok = p && sim_handle_ok(p, SIM_KIND_MEMPOOL) && !p->is_default;
    if (ok) {
        int dev = p->dev->ordinal;
        if (current_pools[dev] == p) current_pools[dev] = default_pools[dev];
        sim_handle_remove(&p->obj);
    }
    pthread_mutex_unlock(&pools_lock);
    if (!ok) return CUDA_ERROR_INVALID_VALUE;
    pool_unref(p); /* the handle's */
    return CUDA_SUCCESS;
}

static CUresult attr_set(struct sim_mempool *p, CUmemPool_attribute attr, void *value)
{
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    switch (attr) {
    case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
        p->reuse_follow_event = *(int *)value;
        break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
        p->reuse_opportunistic = *(int *)value;
        break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
        p->reuse_internal_deps = *(int *)value;
        break;
    case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
        p->release_threshold = *(cuuint64_t *)value;
        break;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
        if (*(cuuint64_t *)value) return CUDA_ERROR_INVALID_VALUE;
        atomic_store(&p->reserved_high, atomic_load(&p->used));
        break;
    case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
        if (*(cuuint64_t *)value) return CUDA_ERROR_INVALID_VALUE;
        atomic_store(&p->used_high, atomic_load(&p->used));
        break;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

static CUresult attr_get(struct sim_mempool *p, CUmemPool_attribute attr, void *value)
{
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    switch (attr) {
    case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
        *(int *)value = p->reuse_follow_event;
        break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
        *(int *)value = p->reuse_opportunistic;
        break;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
        *(int *)value = p->reuse_internal_deps;
        break;
    case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
        *(cuuint64_t *)value = p->release_threshold;
        break;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT:
    case CU_MEMPOOL_ATTR_USED_MEM_CURRENT:
        *(cuuint64_t *)value = atomic_load(&p->used);
        break;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
        *(cuuint64_t *)value = atomic_load(&p->reserved_high);
        break;
    case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
        *(cuuint64_t *)value = atomic_load(&p->used_high);
        break;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

CUresult cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
    struct sim_mempool *p;
    CUresult r = pool_get(pool, &p);
    if (r) return r;
    r = attr_set(p, attr, value);
    pool_unref(p);
    return r;
}

CUresult cuMemPoolGetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
    struct sim_mempool *p;
    CUresult r = pool_get(pool, &p);
    if (r) return r;
    r = attr_get(p, attr, value);
    pool_unref(p);
    return r;
}

CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t minBytesToKeep)
{
    struct sim_mempool *p;
    CUresult r = pool_get(pool, &p); /* freed blocks go back to the OS at once */
    if (r == CUDA_SUCCESS) pool_unref(p);
    return r;
}

static CUresult access_set(struct sim_mempool *p, const CUmemAccessDesc *map, size_t count)
{
    if (!map && count) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < count; i++) {
        if (map[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE) return CUDA_ERROR_INVALID_VALUE;
        if (!sim_device(map[i].location.id)) return CUDA_ERROR_INVALID_DEVICE;
        if ((unsigned)map[i].flags > CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
            return CUDA_ERROR_INVALID_VALUE;
        /* the owning device always has read-write access */
        if (map[i].location.id == p->dev->ordinal &&
            map[i].flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
            return CUDA_ERROR_INVALID_DEVICE;
    }
    for (size_t i = 0; i < count; i++)
        if (map[i].location.id < 64) p->peer_access[map[i].location.id] = map[i].flags;
    return CUDA_SUCCESS;
}

CUresult cuMemPoolSetAccess(CUmemoryPool pool, const CUmemAccessDesc *map, size_t count)
{
    struct sim_mempool *p;
    CUresult r = pool_get(pool, &p);
    if (r) return r;
    r = access_set(p, map, count);
    pool_unref(p);
    return r;
}

static CUresult access_get(struct sim_mempool *p, CUmemAccess_flags *flags, CUmemLocation *location)
{
    if (!flags || !location || location->type != CU_MEM_LOCATION_TYPE_DEVICE)
        return CUDA_ERROR_INVALID_VALUE;
    if (!sim_device(location->id)) return CUDA_ERROR_INVALID_DEVICE;
    *flags = location->id == p->dev->ordinal ? CU_MEM_ACCESS_FLAGS_PROT_READWRITE
                                             : p->peer_access[location->id];
    return CUDA_SUCCESS;
}

CUresult cuMemPoolGetAccess(CUmemAccess_flags *flags, CUmemoryPool memPool, CUmemLocation *location)
{
    struct sim_mempool *p;
    CUresult r = pool_get(memPool, &p);
    if (r) return r;
    r = access_get(p, flags, location);
    pool_unref(p);
    return r;
}

/* ---- stream-ordered allocation ------------------------------------------- */

/* Captured allocations would need memory nodes: a free recorded as a plain op
 * would run at every launch and free whatever then lives at that address. */
static CUresult not_in_capture(struct sim_stream *s, const char *what)
{
    if (!sim_stream_get_capture(s)) return CUDA_SUCCESS;
    sim_warn("%s on a capturing stream: not supported (no memory nodes)", what);
    return CUDA_ERROR_NOT_SUPPORTED;
}

/* From pool p (referenced by the caller), or the stream's device's current
 * pool when p is NULL. */
static CUresult alloc_async(CUdeviceptr *dptr, size_t size, struct sim_mempool *p, CUstream h,
                            bool pt)
{
    struct sim_stream *s;
    struct sim_ctx *c;
    CUresult r = sim_stream_resolve(h, pt, &s, &c);
    if (r || (r = not_in_capture(s, "cuMemAllocAsync"))) return r;
    if (!dptr || !size) return CUDA_ERROR_INVALID_VALUE;
    struct sim_mempool *cur = p ? NULL : pool_current(c->dev->ordinal);
    uintptr_t out;
    /* Memory exists from now on: earlier than stream order, which is harmless. */
    r = sim_mempool_alloc(p ? p : cur, c, size, &out);
    if (cur) pool_unref(cur);
    if (r == CUDA_SUCCESS) *dptr = (CUdeviceptr)out;
    return r;
}

CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t size, CUstream h)
{
    return alloc_async(dptr, size, NULL, h, false);
}
CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t size, CUstream h)
{
    return alloc_async(dptr, size, NULL, h, true);
}

static CUresult alloc_from_pool(CUdeviceptr *dptr, size_t size, CUmemoryPool pool, CUstream h,
                                bool pt)
{
    struct sim_mempool *p;
    CUresult r = pool_get(pool, &p);
    if (r) return r;
    r = alloc_async(dptr, size, p, h, pt);
    pool_unref(p);
    return r;
}

CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t size, CUmemoryPool pool, CUstream h)
{
    return alloc_from_pool(dptr, size, pool, h, false);
}
CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t size, CUmemoryPool pool, CUstream h)
{
    return alloc_from_pool(dptr, size, pool, h, true);
}

static CUresult op_free(void *p)
{
    struct sim_alloc a;
    if (sim_table_remove(*(uintptr_t *)p, &a)) sim_mem_release(&a);
    return CUDA_SUCCESS;
}

static CUresult free_async(CUdeviceptr dptr, CUstream h, bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r || (r = not_in_capture(s, "cuMemFreeAsync"))) return r;
    uintptr_t base = (uintptr_t)dptr;
    if (!sim_table_mark_freeing(base)) return CUDA_ERROR_INVALID_VALUE;
    return sim_stream_enqueue(s, op_free, &base, sizeof base);
}

CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream h)
{
    return free_async(dptr, h, false);
}
CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream h)
{
    return free_async(dptr, h, true);
}

/* ---- pools by location (CUDA 13 forms) ------------------------------------- */

/* The device a (location, type) pair names, or an error: only device-located
 * pinned pools exist here; the other documented pairs are not supported. */
static CUresult pool_location(const CUmemLocation *loc, CUmemAllocationType type, int *dev)
{
    SIM_INIT_OR_RETURN();
    if (!loc) return CUDA_ERROR_INVALID_VALUE;
    if (type != CU_MEM_ALLOCATION_TYPE_PINNED && type != CU_MEM_ALLOCATION_TYPE_MANAGED)
        return CUDA_ERROR_INVALID_VALUE;
    bool host =
        loc->type == CU_MEM_LOCATION_TYPE_HOST || loc->type == CU_MEM_LOCATION_TYPE_HOST_NUMA;
    bool none_ok = type == CU_MEM_ALLOCATION_TYPE_MANAGED && loc->type == CU_MEM_LOCATION_TYPE_NONE;
    if (loc->type != CU_MEM_LOCATION_TYPE_DEVICE && !host && !none_ok)
        return CUDA_ERROR_INVALID_VALUE;
    if (loc->type == CU_MEM_LOCATION_TYPE_DEVICE && !sim_device(loc->id))
        return CUDA_ERROR_INVALID_DEVICE;
    if (host || type != CU_MEM_ALLOCATION_TYPE_PINNED || loc->id >= 64) {
        sim_warn("memory pools: only device-located pinned pools are supported");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    *dev = loc->id;
    return CUDA_SUCCESS;
}

CUresult cuMemGetDefaultMemPool(CUmemoryPool *pool_out, CUmemLocation *location,
                                CUmemAllocationType type)
{
    int dev;
    CUresult r = pool_location(location, type, &dev);
    if (r) return r;
    if (!pool_out) return CUDA_ERROR_INVALID_VALUE;
    *pool_out = (CUmemoryPool)default_pools[dev];
    return CUDA_SUCCESS;
}

CUresult cuMemGetMemPool(CUmemoryPool *pool, CUmemLocation *location, CUmemAllocationType type)
{
    int dev;
    CUresult r = pool_location(location, type, &dev);
    if (r) return r;
    if (!pool) return CUDA_ERROR_INVALID_VALUE;
    *pool = current_handle(dev);
    return CUDA_SUCCESS;
}

CUresult cuMemSetMemPool(CUmemLocation *location, CUmemAllocationType type, CUmemoryPool pool)
{
    int dev;
    CUresult r = pool_location(location, type, &dev);
    if (r) return r;
    return cuDeviceSetMemPool(dev, pool);
}
