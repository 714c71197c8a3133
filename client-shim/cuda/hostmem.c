/* hostmem.c — page-locked host memory stays in the application (DESIGN rule
 * 5): cuMemAllocHost / cuMemHostAlloc map anonymous pages, cuMemHostRegister
 * records a range; the server never hears of either, and the device cannot
 * reach them (cuMemHostGetDevicePointer: NOT_SUPPORTED). cuMemHostAlloc with
 * CU_MEMHOSTALLOC_DEVICEMAP is the exception: a managed allocation of the
 * session mirrored at the same address (managed.c), so its device pointer is
 * its host pointer. Pointer attributes outside the window are answered here. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "forward.h"
#include "shim.h"

#define PAGE 4096ul

struct host_range {
    uintptr_t base;
    size_t size;
    unsigned flags;
    int kind;       /* RANGE_REGISTERED (not ours to unmap), RANGE_MAPPED, or 0 */
    uint64_t ctx;   /* the context id current when it was made */
    uint64_t buffer_id;
    struct host_range *next;
};
enum { RANGE_REGISTERED = 1, RANGE_MAPPED = 2 };
static struct host_range *ranges;
static pthread_mutex_t ranges_mu = PTHREAD_MUTEX_INITIALIZER;

/* Calls that need a current context, as the driver's do. */
#define HOST_ENTER()                                                                            \
    int saved_errno_ = errno;                                                                   \
    CUresult r_ = rg_ready();                                                                   \
    if (r_ == CUDA_SUCCESS && !rg_ctx_current_id()) r_ = CUDA_ERROR_INVALID_CONTEXT;            \
    if (r_ != CUDA_SUCCESS) return r_
#define HOST_RETURN(r) return (errno = saved_errno_, (r))

static int add_range(uintptr_t base, size_t size, unsigned flags, int kind)
{
    struct host_range *h = malloc(sizeof *h);
    if (!h) return -1;
    /* buffer ids of host ranges: their own series, apart from the worker's device ones */
    static _Atomic uint64_t serial = 1ull << 62;
    *h = (struct host_range){base, size, flags, kind, rg_ctx_current_id(),
                             atomic_fetch_add(&serial, 1), NULL};
    pthread_mutex_lock(&ranges_mu);
    for (struct host_range *o = ranges; o; o = o->next)
        if (base < o->base + o->size && o->base < base + size) {
            pthread_mutex_unlock(&ranges_mu);
            free(h);
            return 1;
        }
    h->next = ranges;
    ranges = h;
    pthread_mutex_unlock(&ranges_mu);
    return 0;
}

/* Removes the range starting exactly at base, registered or allocated; 0 if found. */
static int take_range(uintptr_t base, int registered, struct host_range *out)
{
    int rc = -1;
    pthread_mutex_lock(&ranges_mu);
    for (struct host_range **p = &ranges; *p; p = &(*p)->next)
        if ((*p)->base == base && ((*p)->kind == RANGE_REGISTERED) == registered) {
            struct host_range *h = *p;
            *out = *h;
            *p = h->next;
            free(h);
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&ranges_mu);
    return rc;
}

/* The range containing p; 0 if found. */
static int find_range(uintptr_t p, struct host_range *out)
{
    int rc = -1;
    pthread_mutex_lock(&ranges_mu);
    for (struct host_range *h = ranges; h; h = h->next)
        if (p >= h->base && p < h->base + h->size) {
            *out = *h;
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&ranges_mu);
    return rc;
}

static size_t page_round(size_t n)
{
    return (n + PAGE - 1) & ~(PAGE - 1);
}

/* A mapped allocation goes back to the session (the mirror forgets it). */
static void free_mapped(uintptr_t p)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuMemFree_v2");
    CUdeviceptr dp = (CUdeviceptr)p;
    void *args[1] = {&dp};
    if (d) rg_shim_forward(d, args);
}

/* CU_MEMHOSTALLOC_DEVICEMAP: the device must reach the memory at the host
 * address, so it is a managed allocation of the session, in the device window
 * and mirrored like one (managed.c); *pp is its address. */
static CUresult alloc_mapped(void **pp, size_t bytesize)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuMemAllocManaged");
    CUdeviceptr p = 0, *pp2 = &p;
    size_t n = bytesize;
    unsigned fl = CU_MEM_ATTACH_GLOBAL;
    void *args[3] = {&pp2, &n, &fl};
    CUresult r = d ? rg_shim_forward(d, args) : CUDA_ERROR_NOT_SUPPORTED;
    if (r != CUDA_SUCCESS) return r == CUDA_ERROR_INVALID_VALUE ? CUDA_ERROR_OUT_OF_MEMORY : r;
    if (!rg_managed_contains(p, bytesize)) { /* not mirrored here: unusable */
        free_mapped(p);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *pp = (void *)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)
{
    HOST_ENTER();
    unsigned known =
        CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED;
    if (!pp || !bytesize || (Flags & ~known)) HOST_RETURN(CUDA_ERROR_INVALID_VALUE);
    if (bytesize > SIZE_MAX - PAGE) HOST_RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    void *p;
    int mapped = (Flags & CU_MEMHOSTALLOC_DEVICEMAP) != 0;
    if (mapped) {
        CUresult r = alloc_mapped(&p, bytesize);
        if (r != CUDA_SUCCESS) HOST_RETURN(r);
    } else {
        p = mmap(NULL, page_round(bytesize), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
        if (p == MAP_FAILED) HOST_RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    }
    if (add_range((uintptr_t)p, bytesize, Flags, mapped ? RANGE_MAPPED : 0) != 0) {
        if (mapped) free_mapped((uintptr_t)p);
        else munmap(p, page_round(bytesize));
        HOST_RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    }
    *pp = p;
    HOST_RETURN(CUDA_SUCCESS);
}

CUresult cuMemAllocHost_v2(void **pp, size_t bytesize)
{
    return cuMemHostAlloc(pp, bytesize, 0);
}

CUresult cuMemFreeHost(void *p)
{
    HOST_ENTER();
    if (!p) HOST_RETURN(CUDA_SUCCESS);
    struct host_range h;
    if (take_range((uintptr_t)p, 0, &h) != 0) HOST_RETURN(CUDA_ERROR_INVALID_VALUE);
    if (h.kind == RANGE_MAPPED)
        free_mapped(h.base);
    else
        munmap(p, page_round(h.size));
    HOST_RETURN(CUDA_SUCCESS);
}

CUresult cuMemHostGetFlags(unsigned int *pFlags, void *p)
{
    HOST_ENTER();
    struct host_range h;
    if (!pFlags || !p || find_range((uintptr_t)p, &h) != 0) HOST_RETURN(CUDA_ERROR_INVALID_VALUE);
    *pFlags = h.flags;
    HOST_RETURN(CUDA_SUCCESS);
}

CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *pdptr, void *p, unsigned int Flags)
{
    HOST_ENTER();
    struct host_range h;
    if (!pdptr || !p || Flags != 0 || find_range((uintptr_t)p, &h) != 0)
        HOST_RETURN(CUDA_ERROR_INVALID_VALUE);
    if (h.kind == RANGE_MAPPED) { /* mirrored at the same address */
        *pdptr = (CUdeviceptr)(uintptr_t)p;
        HOST_RETURN(CUDA_SUCCESS);
    }
    static _Atomic int warned;
    if (!atomic_exchange(&warned, 1))
        rg_log(RG_LOG_WARN, "cuMemHostGetDevicePointer: only memory from cuMemHostAlloc with "
                            "CU_MEMHOSTALLOC_DEVICEMAP is visible to the device through rgpu");
    HOST_RETURN(CUDA_ERROR_NOT_SUPPORTED);
}

/* Is [p, p+n) mapped in this process? */
int rg_host_mapped(uint64_t p, uint64_t n)
{
    uintptr_t lo = p & ~(PAGE - 1), hi = (p + n + PAGE - 1) & ~(PAGE - 1);
    unsigned char vec[1024];
    while (lo < hi) {
        size_t len = hi - lo > sizeof vec * PAGE ? sizeof vec * PAGE : hi - lo;
        if (mincore((void *)lo, len, vec) != 0) return 0;
        lo += len;
    }
    return 1;
}

/* The whole range must be mapped in this process and outside the device window. */
static int range_usable(uintptr_t p, size_t n)
{
    uintptr_t wlo = (uintptr_t)rg_sess.window, whi = wlo + rg_sess.window_size;
    if (p < whi && wlo < p + n) return 0;
    return rg_host_mapped(p, n);
}

CUresult cuMemHostRegister_v2(void *p, size_t bytesize, unsigned int Flags)
{
    HOST_ENTER();
    unsigned known = CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP |
                     CU_MEMHOSTREGISTER_IOMEMORY | CU_MEMHOSTREGISTER_READ_ONLY;
    if (!p || !bytesize || (uintptr_t)p + bytesize < (uintptr_t)p || (Flags & ~known))
        HOST_RETURN(CUDA_ERROR_INVALID_VALUE);
    if (Flags & CU_MEMHOSTREGISTER_IOMEMORY) {
        rg_log(RG_LOG_WARN, "cuMemHostRegister: IOMEMORY is not supported");
        HOST_RETURN(CUDA_ERROR_NOT_SUPPORTED);
    }
    if (!range_usable((uintptr_t)p, bytesize)) HOST_RETURN(CUDA_ERROR_INVALID_VALUE);
    int rc = add_range((uintptr_t)p, bytesize, Flags, RANGE_REGISTERED);
    if (rc < 0) HOST_RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    HOST_RETURN(rc ? CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED : CUDA_SUCCESS);
}

CUresult cuMemHostRegister(void *p, size_t bytesize, unsigned int Flags)
{
    return cuMemHostRegister_v2(p, bytesize, Flags);
}

CUresult cuMemHostUnregister(void *p)
{
    HOST_ENTER();
    if (!p) HOST_RETURN(CUDA_ERROR_INVALID_VALUE);
    struct host_range h;
    if (take_range((uintptr_t)p, 1, &h) != 0) HOST_RETURN(CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
    HOST_RETURN(CUDA_SUCCESS);
}

CUresult cuMemAllocHost(void **pp, unsigned int bytesize)
{
    return cuMemAllocHost_v2(pp, bytesize);
}

/* ---- pointer attributes of host memory ------------------------------------------
 * Pointers outside the device window are the shim's business: pinned and
 * registered ranges are answered from its records, anything else as memory no
 * CUDA call made (the worker's address space is never consulted). Mapped
 * pinned memory inside the window is answered here too, as host memory. */

static void put_u32(void *data, unsigned v)
{
    *(unsigned *)data = v; /* the driver writes its booleans as 4-byte integers */
}

/* One attribute of a pointer into h (NULL: no CUDA memory). */
static CUresult host_attr(const struct host_range *h, CUpointer_attribute attr, void *data, uintptr_t p)
{
    CUdevice dev = 0;
    switch (attr) {
    case CU_POINTER_ATTRIBUTE_CONTEXT: *(uint64_t *)data = h ? h->ctx : 0; break;
    case CU_POINTER_ATTRIBUTE_MEMORY_TYPE: put_u32(data, h ? CU_MEMORYTYPE_HOST : 0); break;
    case CU_POINTER_ATTRIBUTE_HOST_POINTER: *(void **)data = h ? (void *)p : NULL; break;
    case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
        if (h && h->kind != RANGE_MAPPED) return CUDA_ERROR_NOT_SUPPORTED; /* cuMemHostGetDevicePointer */
        *(CUdeviceptr *)data = h ? p : 0;
        break;
    case CU_POINTER_ATTRIBUTE_P2P_TOKENS: return CUDA_ERROR_NOT_SUPPORTED;
    case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS: put_u32(data, h != NULL); break;
    case CU_POINTER_ATTRIBUTE_BUFFER_ID:
    case CU_POINTER_ATTRIBUTE_MEMORY_BLOCK_ID: *(unsigned long long *)data = h ? h->buffer_id : 0; break;
    case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
        if (h && rg_ctx_device(h->ctx, &dev) != 0) dev = 0;
        *(int *)data = h ? dev : -2;
        break;
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
    case CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR: *(CUdeviceptr *)data = h ? h->base : 0; break;
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
    case CU_POINTER_ATTRIBUTE_MAPPING_SIZE: *(size_t *)data = h ? h->size : 0; break;
    case CU_POINTER_ATTRIBUTE_ACCESS_FLAGS:
        put_u32(data, h ? CU_POINTER_ATTRIBUTE_ACCESS_FLAG_READWRITE : 0);
        break;
    case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE: *(void **)data = NULL; break;
    case CU_POINTER_ATTRIBUTE_MAPPED: put_u32(data, h && h->kind == RANGE_MAPPED); break;
    case CU_POINTER_ATTRIBUTE_IS_MANAGED:
    case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
    case CU_POINTER_ATTRIBUTE_ALLOWED_HANDLE_TYPES:
    case CU_POINTER_ATTRIBUTE_IS_GPU_DIRECT_RDMA_CAPABLE:
    case CU_POINTER_ATTRIBUTE_IS_HW_DECOMPRESS_CAPABLE: put_u32(data, 0); break;
    default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

int rg_host_ptr_attr(const struct rpc_call_desc *d, void **args)
{
    if (!(rg_call_traits(d) & RG_TR_PTR_ATTR)) return -1;
    int plural = !strcmp(d->base, "cuPointerGetAttributes");
    uint64_t ptr = *(uint64_t *)args[plural ? 3 : 2];
    struct host_range h;
    int known = ptr && find_range((uintptr_t)ptr, &h) == 0;
    if (!known && rg_in_window(ptr)) return -1; /* device memory: the worker answers */
    if (!plural) {
        void *data = *(void **)args[0];
        if (!data || !known) return CUDA_ERROR_INVALID_VALUE;
        return host_attr(&h, *(CUpointer_attribute *)args[1], data, (uintptr_t)ptr);
    }
    unsigned n = *(unsigned *)args[0];
    const CUpointer_attribute *attrs = *(CUpointer_attribute **)args[1];
    void **data = *(void ***)args[2];
    if (!n || !attrs || !data) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < n; i++) {
        if (!data[i]) return CUDA_ERROR_INVALID_VALUE;
        CUresult r = host_attr(known ? &h : NULL, attrs[i], data[i], (uintptr_t)ptr);
        if (r != CUDA_SUCCESS) return r;
    }
    return CUDA_SUCCESS;
}
