/* mirror.c — the shim's mirror of the session's device allocations, so a
 * pipelined call naming a range past the end of an allocation fails at once
 * with the driver's code (DESIGN rule 3); the server checks again. Ranges
 * the mirror does not know (VMM, pools) are only checked against the window.
 * Also: unified sides of 2D / 3D copies told apart by the window. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "batch_wire.h"
#include "shim.h"

struct span {
    uint64_t base, size;
};

#define FREED_MAX 1024

static struct {
    pthread_mutex_t mu;
    struct span *v; /* sorted by base, non-overlapping */
    size_t n, cap;
    struct span freed[FREED_MAX]; /* recently freed, to refuse use after free */
    size_t nfreed;
} M = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Index of the first span with base > p. */
static size_t upper(uint64_t p)
{
    size_t lo = 0, hi = M.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (M.v[mid].base <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int overlaps(const struct span *s, uint64_t p, uint64_t len)
{
    return p < s->base + s->size && s->base < p + (len ? len : 1);
}

/* Forgets freed spans that a new allocation reuses. */
static void unfree_locked(uint64_t base, uint64_t size)
{
    size_t j = 0;
    for (size_t i = 0; i < M.nfreed; i++)
        if (!overlaps(&M.freed[i], base, size)) M.freed[j++] = M.freed[i];
    M.nfreed = j;
}

void rg_mirror_add(uint64_t base, uint64_t size)
{
    if (!size) return;
    pthread_mutex_lock(&M.mu);
    unfree_locked(base, size);
    if (M.n == M.cap) {
        size_t cap = M.cap ? M.cap * 2 : 64;
        struct span *v = realloc(M.v, cap * sizeof *v);
        if (!v) goto out; /* unknown to the mirror: only the window is checked */
        M.v = v;
        M.cap = cap;
    }
    size_t i = upper(base);
    memmove(&M.v[i + 1], &M.v[i], (M.n - i) * sizeof *M.v);
    M.v[i] = (struct span){base, size};
    M.n++;
out:
    pthread_mutex_unlock(&M.mu);
}

uint64_t rg_mirror_remove(uint64_t base)
{
    uint64_t size = 0;
    pthread_mutex_lock(&M.mu);
    size_t i = upper(base);
    if (i > 0 && M.v[i - 1].base == base) {
        size = M.v[i - 1].size;
        if (M.nfreed == FREED_MAX) M.nfreed = 0;
        M.freed[M.nfreed++] = M.v[i - 1];
        memmove(&M.v[i - 1], &M.v[i], (M.n - i) * sizeof *M.v);
        M.n--;
    }
    pthread_mutex_unlock(&M.mu);
    return size;
}

void rg_mirror_unfree(uint64_t base, uint64_t size)
{
    pthread_mutex_lock(&M.mu);
    unfree_locked(base, size);
    pthread_mutex_unlock(&M.mu);
}

int rg_in_window(uint64_t p)
{
    uint64_t lo = (uint64_t)(uintptr_t)rg_sess.window;
    return p >= lo && p - lo < rg_sess.window_size;
}

/* 0 if [p, p+len) is certainly not device memory of this session. */
int rg_mirror_range_ok(uint64_t p, uint64_t len)
{
    if (!rg_in_window(p) || (len && (p + len < p || !rg_in_window(p + len - 1)))) return 0;
    int ok = 1;
    pthread_mutex_lock(&M.mu);
    size_t i = upper(p);
    const struct span *s = i > 0 ? &M.v[i - 1] : NULL;
    if (s && p - s->base < s->size) {
        if (len > s->size - (p - s->base)) ok = 0;
    } else {
        for (size_t k = 0; k < M.nfreed && ok; k++)
            if (overlaps(&M.freed[k], p, len)) ok = 0;
    }
    pthread_mutex_unlock(&M.mu);
    return ok;
}

/* cuMemcpy2D / cuMemcpy3D (and their Async / Unaligned forms) with a
 * CU_MEMORYTYPE_UNIFIED side: outside the window it is the application's host
 * memory (its bytes must travel: the worker would read its own address space),
 * inside it is device memory. The struct is copied and retyped; args is left
 * alone. Returns the arguments to send. */
void **rg_mirror_unified_copy(const struct rpc_call_desc *d, void **args, void **wire,
                              struct rg_copy_struct *tmp)
{
    int is2d = d->custom && !strcmp(d->custom, "memcpy2d");
    int is3d = d->custom && !strcmp(d->custom, "memcpy3d");
    const void *m = (is2d || is3d) && d->nargs ? *(void **)args[0] : NULL;
    if (!m) return args;
    CUmemorytype *st, *dt;
    CUdeviceptr *sd, *dd;
    const void **sh;
    void **dh;
    if (is2d) {
        tmp->m2 = *(const CUDA_MEMCPY2D *)m;
        st = &tmp->m2.srcMemoryType, dt = &tmp->m2.dstMemoryType;
        sd = &tmp->m2.srcDevice, dd = &tmp->m2.dstDevice;
        sh = &tmp->m2.srcHost, dh = &tmp->m2.dstHost;
    } else {
        tmp->m3 = *(const CUDA_MEMCPY3D *)m;
        st = &tmp->m3.srcMemoryType, dt = &tmp->m3.dstMemoryType;
        sd = &tmp->m3.srcDevice, dd = &tmp->m3.dstDevice;
        sh = &tmp->m3.srcHost, dh = &tmp->m3.dstHost;
    }
    if (*st != CU_MEMORYTYPE_UNIFIED && *dt != CU_MEMORYTYPE_UNIFIED) return args;
    if (*st == CU_MEMORYTYPE_UNIFIED && !rg_in_window(*sd)) {
        *st = CU_MEMORYTYPE_HOST;
        *sh = (const void *)(uintptr_t)*sd;
    } else if (*st == CU_MEMORYTYPE_UNIFIED) {
        *st = CU_MEMORYTYPE_DEVICE;
    }
    if (*dt == CU_MEMORYTYPE_UNIFIED && !rg_in_window(*dd)) {
        *dt = CU_MEMORYTYPE_HOST;
        *dh = (void *)(uintptr_t)*dd;
    } else if (*dt == CU_MEMORYTYPE_UNIFIED) {
        *dt = CU_MEMORYTYPE_DEVICE;
    }
    tmp->p = tmp;
    memcpy(wire, args, d->nargs * sizeof *wire);
    wire[0] = &tmp->p;
    return wire;
}

/* The batch copy marshallers' question (rpc/batch_wire.h): device memory is
 * what lies in the window. */
int rpc_client_is_device(uint64_t p)
{
    return rg_in_window(p);
}

int rpc_client_host_ok(uint64_t p, uint64_t len)
{
    if (!len) return 1;
    if (!p || p + len < p) return 0;
    if (rg_managed_contains(p, len)) return 1; /* mirrored here (managed.c) */
    return !rg_in_window(p) && !rg_in_window(p + len - 1) && rg_host_mapped(p, len);
}
