/* heap.c — the device heap behind kernels' malloc/free: first fit over a
 * host-side, address-sorted list of allocations inside one device region, so
 * a kernel writing out of bounds cannot damage the allocator. */
#include "ptx.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_ALIGN 16

typedef struct heap_block {
    uintptr_t addr;
    size_t size;
} heap_block;

struct ptx_heap {
    pthread_mutex_t lock;
    uintptr_t base, end;
    heap_block *b; /* sorted by address */
    size_t n, cap, used;
};

ptx_heap *ptx_heap_create(void *base, size_t size)
{
    ptx_heap *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->base = ((uintptr_t)base + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
    h->end = (uintptr_t)base + size;
    if (h->end < h->base) h->end = h->base;
    return h;
}

void ptx_heap_destroy(ptx_heap *h)
{
    if (!h) return;
    pthread_mutex_destroy(&h->lock);
    free(h->b);
    free(h);
}

size_t ptx_heap_used(const ptx_heap *h)
{
    return h ? h->used : 0;
}

/* Device malloc: address of `size` bytes, or 0. */
uint64_t ptx_heap_alloc(ptx_heap *h, uint64_t size)
{
    if (!h || size == 0 || size > h->end - h->base) return 0;
    size = (size + HEAP_ALIGN - 1) & ~(uint64_t)(HEAP_ALIGN - 1);
    pthread_mutex_lock(&h->lock);
    uintptr_t at = h->base, found = 0;
    size_t i = 0;
    for (; i <= h->n; i++) {
        uintptr_t gap_end = i < h->n ? h->b[i].addr : h->end;
        if (gap_end >= at && gap_end - at >= size) {
            found = at;
            break;
        }
        if (i < h->n) at = h->b[i].addr + h->b[i].size;
    }
    if (found && h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        heap_block *nb = realloc(h->b, nc * sizeof *nb);
        if (nb)
            h->b = nb, h->cap = nc;
        else
            found = 0;
    }
    if (found) {
        memmove(&h->b[i + 1], &h->b[i], (h->n - i) * sizeof *h->b);
        h->b[i] = (heap_block){found, (size_t)size};
        h->n++;
        h->used += (size_t)size;
    }
    pthread_mutex_unlock(&h->lock);
    return found;
}

/* Device free: unknown addresses (and NULL) are ignored, as free() on the GPU does not fault. */
void ptx_heap_free(ptx_heap *h, uint64_t addr)
{
    if (!h || !addr) return;
    pthread_mutex_lock(&h->lock);
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (h->b[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < h->n && h->b[lo].addr == addr) {
        h->used -= h->b[lo].size;
        memmove(&h->b[lo], &h->b[lo + 1], (h->n - lo - 1) * sizeof *h->b);
        h->n--;
    }
    pthread_mutex_unlock(&h->lock);
}
