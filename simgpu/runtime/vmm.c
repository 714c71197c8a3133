/* vmm.c — the virtual memory management API. Physical allocations are
 * memfd objects, so one handle can be mapped at several addresses; address
 * reservations come from the device region; mappings become accessible (and
 * enter the allocation table) with cuMemSetAccess. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

#define GRAN (2ul << 20)

struct sim_memhandle {
    struct sim_obj obj;
    struct sim_device *dev;
    CUmemAllocationProp prop;
    size_t size;
    int fd;
    int app_refs, map_refs; /* guarded by vmm_lock */
};

struct reservation {
    uintptr_t base;
    size_t size;
    struct reservation *next;
};

struct mapping {
    uintptr_t va;
    size_t size, offset;
    struct sim_memhandle *h;
    CUmemAccess_flags access;
    struct mapping *next;
};

static pthread_mutex_t vmm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reservation *reservations;
static struct mapping *mappings;

/* ---- validation helpers ------------------------------------------------- */

static CUresult prop_check(const CUmemAllocationProp *p, struct sim_device **dev)
{
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    if (p->type != CU_MEM_ALLOCATION_TYPE_PINNED) return CUDA_ERROR_INVALID_VALUE;
    if (p->location.type != CU_MEM_LOCATION_TYPE_DEVICE) {
        sim_warn("VMM: only device locations are supported");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (!(*dev = sim_device(p->location.id))) return CUDA_ERROR_INVALID_DEVICE;
    return CUDA_SUCCESS;
}

static struct sim_memhandle *handle_get(CUmemGenericAllocationHandle h)
{
    void *p = (void *)(uintptr_t)h;
    return sim_handle_ok(p, SIM_KIND_MEM_HANDLE) ? p : NULL;
}

static void handle_maybe_free(struct sim_memhandle *h) /* vmm_lock held */
{
    if (h->app_refs > 0 || h->map_refs > 0) return;
    close(h->fd);
    sim_device_uncharge(h->dev, h->size);
    free(h);
}

static struct reservation *reservation_of(uintptr_t va, size_t size)
{
    for (struct reservation *r = reservations; r; r = r->next)
        if (va >= r->base && va - r->base < r->size && size <= r->size - (va - r->base)) return r;
    return NULL;
}

static bool overlaps_mapping(uintptr_t va, size_t size)
{
    for (struct mapping *m = mappings; m; m = m->next)
        if (va < m->va + m->size && m->va < va + size) return true;
    return false;
}

/* True if [va, va+size) is exactly a run of whole mappings. */
static bool whole_mappings(uintptr_t va, size_t size)
{
    uintptr_t cur = va, end = va + size;
    while (cur < end) {
        struct mapping *m = mappings;
        while (m && m->va != cur)
            m = m->next;
        if (!m || m->size > end - cur) return false;
        cur += m->size;
    }
    return true;
}

/* ---- granularity, physical allocations ----------------------------------- */

CUresult cuMemGetAllocationGranularity(size_t *granularity, const CUmemAllocationProp *prop,
                                       CUmemAllocationGranularity_flags option)
{
    SIM_INIT_OR_RETURN();
    struct sim_device *d;
    if (!granularity) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = prop_check(prop, &d);
    if (r) return r;
    if (option != CU_MEM_ALLOC_GRANULARITY_MINIMUM &&
        option != CU_MEM_ALLOC_GRANULARITY_RECOMMENDED)
        return CUDA_ERROR_INVALID_VALUE;
    *granularity = GRAN;
    return CUDA_SUCCESS;
}

CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
                     const CUmemAllocationProp *prop, unsigned long long flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    struct sim_device *d;
    if (!handle || flags || !size || size % GRAN) return CUDA_ERROR_INVALID_VALUE;
    if ((r = prop_check(prop, &d))) return r;
    if (!sim_device_charge(d, size)) return CUDA_ERROR_OUT_OF_MEMORY;
    struct sim_memhandle *h = calloc(1, sizeof *h);
    int fd = memfd_create("simgpu-vmm", MFD_CLOEXEC);
    if (!h || fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        if (fd >= 0) close(fd);
        free(h);
        sim_device_uncharge(d, size);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    h->dev = d;
    h->prop = *prop;
    h->size = size;
    h->fd = fd;
    h->app_refs = 1;
    sim_handle_add(&h->obj, SIM_KIND_MEM_HANDLE);
    *handle = (CUmemGenericAllocationHandle)(uintptr_t)h;
    return CUDA_SUCCESS;
}

CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
    SIM_INIT_OR_RETURN();
    pthread_mutex_lock(&vmm_lock);
    struct sim_memhandle *h = handle_get(handle);
    if (h && --h->app_refs == 0) {
        sim_handle_remove(&h->obj);
        handle_maybe_free(h);
    }
    pthread_mutex_unlock(&vmm_lock);
    return h ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuMemGetAllocationPropertiesFromHandle(CUmemAllocationProp *prop,
                                                CUmemGenericAllocationHandle handle)
{
    SIM_INIT_OR_RETURN();
    if (!prop) return CUDA_ERROR_INVALID_VALUE;
    struct sim_memhandle *h = handle_get(handle);
    if (!h) return CUDA_ERROR_INVALID_VALUE;
    *prop = h->prop;
    return CUDA_SUCCESS;
}

CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle, void *addr)
{
    SIM_INIT_OR_RETURN();
    if (!handle) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    for (struct mapping *m = mappings; m; m = m->next) {
        if ((uintptr_t)addr < m->va || (uintptr_t)addr - m->va >= m->size) continue;
        if (m->h->app_refs++ == 0) sim_handle_add(&m->h->obj, SIM_KIND_MEM_HANDLE);
        *handle = (CUmemGenericAllocationHandle)(uintptr_t)m->h;
        r = CUDA_SUCCESS;
        break;
    }
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

/* ---- address reservations ----------------------------------------------- */

CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t alignment, CUdeviceptr addr,
                             unsigned long long flags)
{
    SIM_INIT_OR_RETURN();
    if (!ptr || !size || size % GRAN || flags) return CUDA_ERROR_INVALID_VALUE;
    if (alignment & (alignment - 1)) return CUDA_ERROR_INVALID_VALUE;
    size_t align = alignment > GRAN ? alignment : GRAN;
    struct reservation *res = calloc(1, sizeof *res);
    if (!res) return CUDA_ERROR_OUT_OF_MEMORY;
    uintptr_t base = 0;
    bool ok = false;
    if (addr && addr % align == 0 && sim_va_contains((uintptr_t)addr, size))
        ok = sim_va_take(size, align, (uintptr_t)addr, &base);
    if (!ok) ok = sim_va_take(size, align, 0, &base); /* the address is only a hint */
    if (!ok) {
        free(res);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    res->base = base;
    res->size = size;
    pthread_mutex_lock(&vmm_lock);
    res->next = reservations;
    reservations = res;
    pthread_mutex_unlock(&vmm_lock);
    *ptr = (CUdeviceptr)base;
    return CUDA_SUCCESS;
}

static void mapping_drop(struct mapping *m); /* vmm_lock held; unlinked already */

CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
    SIM_INIT_OR_RETURN();
    pthread_mutex_lock(&vmm_lock);
    struct reservation **pp = &reservations;
    while (*pp && !((*pp)->base == (uintptr_t)ptr && (*pp)->size == size))
        pp = &(*pp)->next;
    struct reservation *res = *pp;
    if (res) {
        *pp = res->next;
        for (struct mapping **mp = &mappings; *mp;) {
            struct mapping *m = *mp;
            if (m->va >= res->base && m->va < res->base + res->size) {
                *mp = m->next;
                mapping_drop(m);
            } else
                mp = &m->next;
        }
    }
    pthread_mutex_unlock(&vmm_lock);
    if (!res) return CUDA_ERROR_INVALID_VALUE;
    sim_va_give(res->base, res->size);
    free(res);
    return CUDA_SUCCESS;
}

/* ---- mapping -------------------------------------------------------------- */

CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle handle,
                  unsigned long long flags)
{
    SIM_INIT_OR_RETURN();
    if (flags || !size || size % GRAN || offset % GRAN) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    struct sim_memhandle *h = handle_get(handle);
    uintptr_t va = (uintptr_t)ptr;
    if (!h || offset > h->size || size > h->size - offset) goto out;
    if (!reservation_of(va, size) || overlaps_mapping(va, size)) goto out;
    struct mapping *m = calloc(1, sizeof *m);
    if (!m) {
        r = CUDA_ERROR_OUT_OF_MEMORY;
        goto out;
    }
    void *p = mmap((void *)va, size, PROT_NONE, MAP_SHARED | MAP_FIXED, h->fd, (off_t)offset);
    if (p == MAP_FAILED) {
        free(m);
        r = CUDA_ERROR_OUT_OF_MEMORY;
        goto out;
    }
    *m = (struct mapping){va, size, offset, h, CU_MEM_ACCESS_FLAGS_PROT_NONE, mappings};
    mappings = m;
    h->map_refs++;
    r = CUDA_SUCCESS;
out:
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

static void mapping_drop(struct mapping *m)
{
    sim_table_remove(m->va, NULL);
    sim_va_unmap(m->va, m->size);
    m->h->map_refs--;
    handle_maybe_free(m->h);
    free(m);
}

CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
    SIM_INIT_OR_RETURN();
    uintptr_t va = (uintptr_t)ptr;
    CUresult r = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    if (size && whole_mappings(va, size)) {
        for (struct mapping **mp = &mappings; *mp;) {
            struct mapping *m = *mp;
            if (m->va >= va && m->va < va + size) {
                *mp = m->next;
                mapping_drop(m);
            } else
                mp = &m->next;
        }
        r = CUDA_SUCCESS;
    }
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

static int prot_of(CUmemAccess_flags f)
{
    return f == CU_MEM_ACCESS_FLAGS_PROT_READWRITE ? PROT_READ | PROT_WRITE
           : f == CU_MEM_ACCESS_FLAGS_PROT_READ    ? PROT_READ
                                                   : PROT_NONE;
}

static void mapping_set_access(struct mapping *m, CUmemAccess_flags f)
{
    mprotect((void *)m->va, m->size, prot_of(f));
    bool was = m->access != CU_MEM_ACCESS_FLAGS_PROT_NONE;
    m->access = f;
    if (was && f == CU_MEM_ACCESS_FLAGS_PROT_NONE) sim_table_remove(m->va, NULL);
    if (!was && f != CU_MEM_ACCESS_FLAGS_PROT_NONE) {
        struct sim_alloc a = {
            .base = m->va, .size = m->size, .kind = SIM_MEM_VMM, .dev = m->h->dev};
        sim_table_insert(&a);
    }
}

CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size, const CUmemAccessDesc *desc, size_t count)
{
    SIM_INIT_OR_RETURN();
    if (!desc || !count || !size) return CUDA_ERROR_INVALID_VALUE;
    CUmemAccess_flags best = CU_MEM_ACCESS_FLAGS_PROT_NONE;
    for (size_t i = 0; i < count; i++) {
        if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE) return CUDA_ERROR_INVALID_VALUE;
        if (!sim_device(desc[i].location.id)) return CUDA_ERROR_INVALID_DEVICE;
        if ((unsigned)desc[i].flags > CU_MEM_ACCESS_FLAGS_PROT_READWRITE || desc[i].flags == 2)
            return CUDA_ERROR_INVALID_VALUE;
        if (desc[i].flags > best) best = desc[i].flags;
    }
    uintptr_t va = (uintptr_t)ptr;
    CUresult r = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    if (whole_mappings(va, size)) {
        for (struct mapping *m = mappings; m; m = m->next)
            if (m->va >= va && m->va < va + size) mapping_set_access(m, best);
        r = CUDA_SUCCESS;
    }
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

CUresult cuMemGetAccess(unsigned long long *flags, const CUmemLocation *location, CUdeviceptr ptr)
{
    SIM_INIT_OR_RETURN();
    if (!flags || !location) return CUDA_ERROR_INVALID_VALUE;
    if (location->type != CU_MEM_LOCATION_TYPE_DEVICE) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_device(location->id)) return CUDA_ERROR_INVALID_DEVICE;
    CUresult r = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    for (struct mapping *m = mappings; m; m = m->next)
        if ((uintptr_t)ptr >= m->va && (uintptr_t)ptr - m->va < m->size) {
            *flags = m->access;
            r = CUDA_SUCCESS;
            break;
        }
    pthread_mutex_unlock(&vmm_lock);
    return r;
}
