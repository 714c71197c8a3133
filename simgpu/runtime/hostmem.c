/* hostmem.c — page-locked host memory: cuMemAllocHost / cuMemHostAlloc
 * (anonymous mappings outside the device region) and cuMemHostRegister of the
 * application's memory. Both enter the allocation table, so kernels may use
 * them and their device pointer is the host pointer (unified addressing). */
#include <errno.h>
#include <sys/mman.h>

#include "core.h"

#define PAGE 4096ul

CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r || (r = sim_capture_check_unsafe())) return r;
    if (!pp || !bytesize) return CUDA_ERROR_INVALID_VALUE;
    unsigned known =
        CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED;
    if (Flags & ~known) return CUDA_ERROR_INVALID_VALUE;
    if (bytesize > SIZE_MAX - PAGE) return CUDA_ERROR_OUT_OF_MEMORY;
    size_t sz = (bytesize + PAGE - 1) & ~(PAGE - 1);
    void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    struct sim_alloc a = {.base = (uintptr_t)p,
                          .size = bytesize,
                          .kind = SIM_MEM_HOST,
                          .dev = c->dev,
                          .ctx = c,
                          .flags = Flags | CU_MEMHOSTALLOC_DEVICEMAP};
    if (!sim_table_insert(&a)) {
        munmap(p, sz);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *pp = p;
    return CUDA_SUCCESS;
}

CUresult cuMemAllocHost_v2(void **pp, size_t bytesize)
{
    return cuMemHostAlloc(pp, bytesize, 0);
}

CUresult cuMemFreeHost(void *p)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r || (r = sim_capture_check_unsafe())) return r;
    struct sim_alloc a;
    if (!p) return CUDA_SUCCESS; /* free(NULL) semantics, as the driver */
    if (!sim_mem_lookup((uintptr_t)p, &a) || a.base != (uintptr_t)p || a.kind != SIM_MEM_HOST)
        return CUDA_ERROR_INVALID_VALUE;
    if (a.ctx && sim_handle_ok(a.ctx, SIM_KIND_CTX) && a.ctx->active) sim_ctx_synchronize(a.ctx);
    if (!sim_table_remove(a.base, &a)) return CUDA_ERROR_INVALID_VALUE;
    sim_mem_release(&a);
    return CUDA_SUCCESS;
}

CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *pdptr, void *p, unsigned int Flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!pdptr || !p || Flags != 0) return CUDA_ERROR_INVALID_VALUE;
    struct sim_alloc a;
    if (!sim_mem_lookup((uintptr_t)p, &a) || !(a.kind & (SIM_MEM_HOST | SIM_MEM_REGISTERED)))
        return CUDA_ERROR_INVALID_VALUE;
    *pdptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult cuMemHostGetFlags(unsigned int *pFlags, void *p)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!pFlags || !p) return CUDA_ERROR_INVALID_VALUE;
    struct sim_alloc a;
    if (!sim_mem_lookup((uintptr_t)p, &a) || !(a.kind & (SIM_MEM_HOST | SIM_MEM_REGISTERED)))
        return CUDA_ERROR_INVALID_VALUE;
    *pFlags = a.flags;
    return CUDA_SUCCESS;
}

/* The whole range must be mapped memory of the process, outside the region. */
static bool host_range_mapped(uintptr_t p, size_t n)
{
    if (sim_va_contains(p, 1) || sim_va_contains(p + n - 1, 1)) return false;
    uintptr_t lo = p & ~(PAGE - 1), hi = (p + n + PAGE - 1) & ~(PAGE - 1);
    unsigned char vec[1024];
    while (lo < hi) {
        size_t len = hi - lo > sizeof vec * PAGE ? sizeof vec * PAGE : hi - lo;
        if (mincore((void *)lo, len, vec) != 0) return false;
        lo += len;
    }
    return true;
}

CUresult cuMemHostRegister_v2(void *p, size_t bytesize, unsigned int Flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!p || !bytesize || (uintptr_t)p + bytesize < (uintptr_t)p) return CUDA_ERROR_INVALID_VALUE;
    unsigned known = CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP |
                     CU_MEMHOSTREGISTER_IOMEMORY | CU_MEMHOSTREGISTER_READ_ONLY;
    if (Flags & ~known) return CUDA_ERROR_INVALID_VALUE;
    if (Flags & (CU_MEMHOSTREGISTER_IOMEMORY | CU_MEMHOSTREGISTER_READ_ONLY)) {
        sim_warn("cuMemHostRegister: IOMEMORY / READ_ONLY not supported");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (!host_range_mapped((uintptr_t)p, bytesize)) return CUDA_ERROR_INVALID_VALUE;
    struct sim_alloc a = {.base = (uintptr_t)p,
                          .size = bytesize,
                          .kind = SIM_MEM_REGISTERED,
                          .dev = c->dev,
                          .ctx = c,
                          .flags = Flags};
    if (!sim_table_insert(&a)) return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
    return CUDA_SUCCESS;
}

CUresult cuMemHostRegister(void *p, size_t bytesize, unsigned int Flags)
{
    return cuMemHostRegister_v2(p, bytesize, Flags);
}

CUresult cuMemHostUnregister(void *p)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    struct sim_alloc a;
    if (!sim_mem_lookup((uintptr_t)p, &a) || a.base != (uintptr_t)p || a.kind != SIM_MEM_REGISTERED)
        return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
    if (a.ctx && sim_handle_ok(a.ctx, SIM_KIND_CTX) && a.ctx->active) sim_ctx_synchronize(a.ctx);
    sim_table_remove(a.base, NULL);
    return CUDA_SUCCESS;
}
