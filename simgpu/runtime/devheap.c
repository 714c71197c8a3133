/* devheap.c — device memory a context keeps for its kernels: the heap behind
 * malloc/free (one region of CU_LIMIT_MALLOC_HEAP_SIZE bytes, allocated at the
 * first launch of a kernel whose module uses malloc/free; the block
 * bookkeeping is the interpreter's ptx_heap) and the grid workspace of
 * cooperative launches. Both are gone with the context. */
#include "sim.h"

CUresult sim_ctx_heap(struct sim_ctx *c, ptx_heap **out)
{
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&c->lock);
    if (!c->heap) {
        size_t size = c->limits[CU_LIMIT_MALLOC_HEAP_SIZE];
        uintptr_t base = 0;
        /* internal: cuMemFree refuses it; freed with the context's memory */
        if (size) r = sim_mem_alloc_device(c, size, true, &base);
        if (r == CUDA_SUCCESS && !(c->heap = ptx_heap_create((void *)base, size)))
            r = CUDA_ERROR_OUT_OF_MEMORY;
        if (r != CUDA_SUCCESS && base) {
            pthread_mutex_unlock(&c->lock);
            sim_mem_free_device(base);
            return r;
        }
    }
    *out = c->heap;
    pthread_mutex_unlock(&c->lock);
    return r;
}

CUresult sim_ctx_heap_set_size(struct sim_ctx *c, size_t size)
{
    pthread_mutex_lock(&c->lock);
    bool fixed = c->heap != NULL;
    if (!fixed) c->limits[CU_LIMIT_MALLOC_HEAP_SIZE] = size;
    pthread_mutex_unlock(&c->lock);
    return fixed ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

void sim_ctx_heap_destroy(struct sim_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    ptx_heap *h = c->heap;
    c->heap = NULL;
    c->grid_ws = 0; /* went with the context's memory */
    pthread_mutex_unlock(&c->lock);
    ptx_heap_destroy(h);
}

CUresult sim_ctx_grid_workspace(struct sim_ctx *c, uintptr_t *out)
{
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&c->lock);
    /* internal like the heap: cuMemFree refuses it; device memory starts zeroed */
    if (!c->grid_ws) r = sim_mem_alloc_device(c, 8, true, &c->grid_ws);
    *out = c->grid_ws;
    pthread_mutex_unlock(&c->lock);
    return r;
}
