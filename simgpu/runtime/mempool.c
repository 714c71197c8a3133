/* mempool.c — stream-ordered allocation: memory pools (a default pool per
 * device, user pools), cuMemAllocAsync / cuMemFreeAsync. Pool memory is
 * device memory of the region tagged with its pool; frees are stream ops. */
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
};

static struct sim_mempool *default_pools[64];
static struct sim_mempool *current_pools[64];

static struct sim_mempool *pool_new(struct sim_device *d, const CUmemPoolProps *props, bool dflt)
{
    struct sim_mempool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->dev = d;
    p->props = *props;
    p->is_default = dflt;
    p->reuse_follow_event = p->reuse_opportunistic = p->reuse_internal_deps = 1;
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
}

CUresult sim_mempool_alloc(struct sim_mempool *p, struct sim_ctx *c, size_t size, uintptr_t *out)
{
    CUresult r = sim_mem_alloc_kind(c, size, SIM_MEM_DEVICE, 0, p, out);
    if (r) return r;
    struct sim_alloc a;
    size_t sz = sim_mem_lookup(*out, &a) ? a.size : size;
    size_t u = atomic_fetch_add(&p->used, sz) + sz;
    size_t h = atomic_load(&p->used_high);
    while (u > h && !atomic_compare_exchange_weak(&p->used_high, &h, u)) {
    }
    h = atomic_load(&p->reserved_high);
    while (u > h && !atomic_compare_exchange_weak(&p->reserved_high, &h, u)) {
    }
    return CUDA_SUCCESS;
}
