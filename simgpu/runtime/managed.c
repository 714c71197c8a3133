/* managed.c — hints for managed memory: prefetch, advice and range
 * attributes. Managed memory is host memory visible to kernels, so hints
 * change no behaviour; they are validated and remembered so queries answer
 * what was set. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct advice {
    uintptr_t base;
    int read_mostly;
    CUmemLocation preferred, last_prefetch;
    uint64_t accessed_by; /* device bitmask */
    struct advice *next;
};

static struct advice *advices;
static pthread_mutex_t advice_lock = PTHREAD_MUTEX_INITIALIZER;

/* The managed allocation holding [p, p+n), or INVALID_VALUE. */
static CUresult managed_range(CUdeviceptr p, size_t n, struct sim_alloc *a)
{
    if (!n || !sim_mem_lookup((uintptr_t)p, a) || a->kind != SIM_MEM_MANAGED)
        return CUDA_ERROR_INVALID_VALUE;
    if (n > a->size - ((uintptr_t)p - a->base)) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

/* Advice record of an allocation, created on demand; advice_lock held. */
static struct advice *advice_of(uintptr_t base)
{
    for (struct advice *v = advices; v; v = v->next)
        if (v->base == base) return v;
    struct advice *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->base = base;
    v->preferred.type = CU_MEM_LOCATION_TYPE_INVALID;
    v->last_prefetch.type = CU_MEM_LOCATION_TYPE_INVALID;
    v->next = advices;
    advices = v;
    return v;
}

static bool location_ok(CUmemLocation l)
{
    if (l.type == CU_MEM_LOCATION_TYPE_HOST) return true;
    return l.type == CU_MEM_LOCATION_TYPE_DEVICE && sim_device(l.id);
}

static CUmemLocation loc_of_device(CUdevice d)
{
    CUmemLocation l = {d == CU_DEVICE_CPU ? CU_MEM_LOCATION_TYPE_HOST : CU_MEM_LOCATION_TYPE_DEVICE,
                       d == CU_DEVICE_CPU ? 0 : d};
    return l;
}

static CUresult prefetch(CUdeviceptr p, size_t n, CUmemLocation loc, unsigned flags, CUstream h,
                         bool pt)
{
    struct sim_stream *s;
    struct sim_alloc a;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r) return r;
    if (flags || !location_ok(loc)) return CUDA_ERROR_INVALID_VALUE;
    if ((r = managed_range(p, n, &a))) return r;
    pthread_mutex_lock(&advice_lock);
    struct advice *v = advice_of(a.base);
    if (v) v->last_prefetch = loc;
    pthread_mutex_unlock(&advice_lock);
    return v ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuMemPrefetchAsync(CUdeviceptr p, size_t n, CUdevice d, CUstream h)
{
    return prefetch(p, n, loc_of_device(d), 0, h, false);
}
CUresult cuMemPrefetchAsync_ptsz(CUdeviceptr p, size_t n, CUdevice d, CUstream h)
{
    return prefetch(p, n, loc_of_device(d), 0, h, true);
}
CUresult cuMemPrefetchAsync_v2(CUdeviceptr p, size_t n, CUmemLocation l, unsigned int f, CUstream h)
{
    return prefetch(p, n, l, f, h, false);
}
CUresult cuMemPrefetchAsync_v2_ptsz(CUdeviceptr p, size_t n, CUmemLocation l, unsigned int f,
                                    CUstream h)
{
    return prefetch(p, n, l, f, h, true);
}

static void apply_advice(struct advice *v, CUmem_advise adv, CUmemLocation l)
{
    uint64_t bit = l.type == CU_MEM_LOCATION_TYPE_DEVICE && l.id < 64 ? 1ull << l.id : 0;
    switch (adv) {
    case CU_MEM_ADVISE_SET_READ_MOSTLY:
        v->read_mostly = 1;
        break;
    case CU_MEM_ADVISE_UNSET_READ_MOSTLY:
        v->read_mostly = 0;
        break;
    case CU_MEM_ADVISE_SET_PREFERRED_LOCATION:
        v->preferred = l;
        break;
    case CU_MEM_ADVISE_UNSET_PREFERRED_LOCATION:
        v->preferred.type = CU_MEM_LOCATION_TYPE_INVALID;
        break;
    case CU_MEM_ADVISE_SET_ACCESSED_BY:
        v->accessed_by |= bit;
        break;
    case CU_MEM_ADVISE_UNSET_ACCESSED_BY:
        v->accessed_by &= ~bit;
        break;
    default:
        break;
    }
}

static CUresult advise(CUdeviceptr p, size_t n, CUmem_advise adv, CUmemLocation l)
{
    SIM_INIT_OR_RETURN();
    struct sim_alloc a;
    if (adv < CU_MEM_ADVISE_SET_READ_MOSTLY || adv > CU_MEM_ADVISE_UNSET_ACCESSED_BY)
        return CUDA_ERROR_INVALID_VALUE;
    bool needs_loc = adv != CU_MEM_ADVISE_SET_READ_MOSTLY &&
                     adv != CU_MEM_ADVISE_UNSET_READ_MOSTLY &&
                     adv != CU_MEM_ADVISE_UNSET_PREFERRED_LOCATION;
    if (needs_loc && !location_ok(l)) return CUDA_ERROR_INVALID_DEVICE;
    CUresult r = managed_range(p, n, &a);
    if (r) return r;
    pthread_mutex_lock(&advice_lock);
    struct advice *v = advice_of(a.base);
    if (v) apply_advice(v, adv, l);
    pthread_mutex_unlock(&advice_lock);
    return v ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuMemAdvise(CUdeviceptr p, size_t n, CUmem_advise adv, CUdevice d)
{
    return advise(p, n, adv, loc_of_device(d));
}
CUresult cuMemAdvise_v2(CUdeviceptr p, size_t n, CUmem_advise adv, CUmemLocation l)
{
    return advise(p, n, adv, l);
}

static int loc_as_device(CUmemLocation l)
{
    if (l.type == CU_MEM_LOCATION_TYPE_HOST) return CU_DEVICE_CPU;
    return l.type == CU_MEM_LOCATION_TYPE_DEVICE ? l.id : CU_DEVICE_INVALID;
}

static CUresult range_attr(void *data, size_t size, CUmem_range_attribute attr,
                           const struct advice *v)
{
    struct advice none = {.preferred.type = CU_MEM_LOCATION_TYPE_INVALID,
                          .last_prefetch.type = CU_MEM_LOCATION_TYPE_INVALID};
    if (!v) v = &none;
    int val;
    switch (attr) {
    case CU_MEM_RANGE_ATTRIBUTE_READ_MOSTLY:
        val = v->read_mostly;
        break;
    case CU_MEM_RANGE_ATTRIBUTE_PREFERRED_LOCATION:
        val = loc_as_device(v->preferred);
        break;
    case CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION:
        val = loc_as_device(v->last_prefetch);
        break;
    case CU_MEM_RANGE_ATTRIBUTE_PREFERRED_LOCATION_TYPE:
        val = v->preferred.type;
        break;
    case CU_MEM_RANGE_ATTRIBUTE_PREFERRED_LOCATION_ID:
        val = v->preferred.id;
        break;
    case CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION_TYPE:
        val = v->last_prefetch.type;
        break;
    case CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION_ID:
        val = v->last_prefetch.id;
        break;
    case CU_MEM_RANGE_ATTRIBUTE_ACCESSED_BY: {
        if (size % 4 || !size) return CUDA_ERROR_INVALID_VALUE;
        int *out = data, n = 0, cap = (int)(size / 4);
        for (int d = 0; d < 64 && d < sim_device_count(); d++)
            if ((v->accessed_by >> d) & 1 && n < cap) out[n++] = d;
        while (n < cap)
            out[n++] = CU_DEVICE_INVALID;
        return CUDA_SUCCESS;
    }
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (size != 4) return CUDA_ERROR_INVALID_VALUE;
    memcpy(data, &val, 4);
    return CUDA_SUCCESS;
}

CUresult cuMemRangeGetAttribute(void *data, size_t dataSize, CUmem_range_attribute attribute,
                                CUdeviceptr devPtr, size_t count)
{
    SIM_INIT_OR_RETURN();
    struct sim_alloc a;
    if (!data) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = managed_range(devPtr, count, &a);
    if (r) return r;
    pthread_mutex_lock(&advice_lock);
    struct advice *v = advices;
    while (v && v->base != a.base)
        v = v->next;
    r = range_attr(data, dataSize, attribute, v);
    pthread_mutex_unlock(&advice_lock);
    return r;
}

CUresult cuMemRangeGetAttributes(void **data, size_t *dataSizes, CUmem_range_attribute *attributes,
                                 size_t numAttributes, CUdeviceptr devPtr, size_t count)
{
    if (!data || !dataSizes || !attributes || !numAttributes) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < numAttributes; i++) {
        CUresult r = cuMemRangeGetAttribute(data[i], dataSizes[i], attributes[i], devPtr, count);
        if (r) return r;
    }
    return CUDA_SUCCESS;
}

/* The allocation is gone: forget its advice (called from memory.c). */
void sim_managed_forget(uintptr_t base)
{
    pthread_mutex_lock(&advice_lock);
    for (struct advice **pp = &advices; *pp; pp = &(*pp)->next)
        if ((*pp)->base == base) {
            struct advice *v = *pp;
            *pp = v->next;
            free(v);
            break;
        }
    pthread_mutex_unlock(&advice_lock);
}

/* ---- batches (CUDA 13) ------------------------------------------------------ */

static CUresult ranges_check(CUdeviceptr *dptrs, size_t *sizes, size_t count)
{
    struct sim_alloc a;
    if (!dptrs || !sizes || !count) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < count; i++) {
        CUresult r = managed_range(dptrs[i], sizes[i], &a);
        if (r) return r;
    }
    return CUDA_SUCCESS;
}

static CUresult locs_check(size_t count, const CUmemLocation *locs, const size_t *idxs, size_t n)
{
    if (!locs || !idxs || !n || n > count || idxs[0] != 0) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < n; i++) {
        if (i && (idxs[i] <= idxs[i - 1] || idxs[i] >= count)) return CUDA_ERROR_INVALID_VALUE;
        if (!location_ok(locs[i])) return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

/* Validated as a whole; then each range remembers where it was prefetched to
 * (entry i uses the last location whose index is <= i). */
static CUresult batch(CUdeviceptr *dptrs, size_t *sizes, size_t count, CUmemLocation *locs,
                      size_t *idxs, size_t nlocs, unsigned long long flags, CUstream h,
                      bool prefetch, bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r) return r;
    if (flags) return CUDA_ERROR_INVALID_VALUE;
    if ((r = ranges_check(dptrs, sizes, count))) return r;
    if (!prefetch) return CUDA_SUCCESS; /* discarded contents may stay as they are */
    if ((r = locs_check(count, locs, idxs, nlocs))) return r;
    size_t li = 0;
    for (size_t i = 0; i < count; i++) {
        while (li + 1 < nlocs && idxs[li + 1] <= i)
            li++;
        struct sim_alloc a;
        sim_mem_lookup((uintptr_t)dptrs[i], &a);
        pthread_mutex_lock(&advice_lock);
        struct advice *v = advice_of(a.base);
        if (v) v->last_prefetch = locs[li];
        pthread_mutex_unlock(&advice_lock);
    }
    return CUDA_SUCCESS;
}

CUresult cuMemPrefetchBatchAsync(CUdeviceptr *dptrs, size_t *sizes, size_t count,
                                 CUmemLocation *prefetchLocs, size_t *prefetchLocIdxs,
                                 size_t numPrefetchLocs, unsigned long long flags, CUstream hStream)
{
    return batch(dptrs, sizes, count, prefetchLocs, prefetchLocIdxs, numPrefetchLocs, flags,
                 hStream, true, false);
}

CUresult cuMemDiscardBatchAsync(CUdeviceptr *dptrs, size_t *sizes, size_t count,
                                unsigned long long flags, CUstream hStream)
{
    return batch(dptrs, sizes, count, NULL, NULL, 0, flags, hStream, false, false);
}

CUresult cuMemDiscardAndPrefetchBatchAsync(CUdeviceptr *dptrs, size_t *sizes, size_t count,
                                           CUmemLocation *prefetchLocs, size_t *prefetchLocIdxs,
                                           size_t numPrefetchLocs, unsigned long long flags,
                                           CUstream hStream)
{
    return batch(dptrs, sizes, count, prefetchLocs, prefetchLocIdxs, numPrefetchLocs, flags,
                 hStream, true, false);
}

/* The per-thread-stream forms are exported although cuda.h declares none. */
CUresult cuMemPrefetchBatchAsync_ptsz(CUdeviceptr *, size_t *, size_t, CUmemLocation *, size_t *,
                                      size_t, unsigned long long, CUstream);
CUresult cuMemDiscardBatchAsync_ptsz(CUdeviceptr *, size_t *, size_t, unsigned long long, CUstream);
CUresult cuMemDiscardAndPrefetchBatchAsync_ptsz(CUdeviceptr *, size_t *, size_t, CUmemLocation *,
                                                size_t *, size_t, unsigned long long, CUstream);

CUresult cuMemPrefetchBatchAsync_ptsz(CUdeviceptr *dptrs, size_t *sizes, size_t count,
                                      CUmemLocation *locs, size_t *idxs, size_t nlocs,
                                      unsigned long long flags, CUstream h)
{
    return batch(dptrs, sizes, count, locs, idxs, nlocs, flags, h, true, true);
}

CUresult cuMemDiscardBatchAsync_ptsz(CUdeviceptr *dptrs, size_t *sizes, size_t count,
                                     unsigned long long flags, CUstream h)
{
    return batch(dptrs, sizes, count, NULL, NULL, 0, flags, h, false, true);
}

CUresult cuMemDiscardAndPrefetchBatchAsync_ptsz(CUdeviceptr *dptrs, size_t *sizes, size_t count,
                                                CUmemLocation *locs, size_t *idxs, size_t nlocs,
                                                unsigned long long flags, CUstream h)
{
    return batch(dptrs, sizes, count, locs, idxs, nlocs, flags, h, true, true);
}
