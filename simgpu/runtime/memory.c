/* memory.c — the device address region, the table of every live allocation,
 * device/managed allocation and the interpreter's memory snapshot.
 * The region is one PROT_NONE reservation; allocations make their pages
 * read-write and hand them back to the OS on free (madvise + PROT_NONE). */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

#define PAGE 4096ul
#define BIG_ALIGN (2ul << 20)

static size_t page_round(size_t n)
{
    return n > SIZE_MAX - PAGE ? 0 : (n + PAGE - 1) & ~(PAGE - 1);
}

/* ---- the region and its free extents ------------------------------------ */

struct extent {
    uintptr_t lo, hi;
};

static uintptr_t va_base;
static size_t va_size;
static struct extent *ext;
static size_t next, ext_cap;
static pthread_mutex_t va_lock = PTHREAD_MUTEX_INITIALIZER;

static uintptr_t align_up(uintptr_t v, size_t a)
{
    return (v + a - 1) & ~(uintptr_t)(a - 1);
}

static size_t region_size(void)
{
    size_t sz = sim_parse_size(getenv("SIMGPU_VA_SIZE"));
    if (sz) return align_up(sz, BIG_ALIGN);
    size_t need = 256ull << 30; /* room for large VMM reservations; costs no memory */
    for (int i = 0; i < sim_device_count(); i++) {
        size_t m = sim_device(i)->total_mem;
        need += m > (1ull << 40) ? (1ull << 40) : 2 * m;
    }
    return need;
}

CUresult sim_mem_init(void)
{
    size_t size = region_size();
    uintptr_t want = 0;
    const char *e = getenv("SIMGPU_VA_BASE");
    if (e && *e) want = (uintptr_t)strtoull(e, NULL, 0);
    int fl = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (want) fl |= MAP_FIXED_NOREPLACE;
    void *p = mmap((void *)want, size, PROT_NONE, fl, -1, 0);
    if (p == MAP_FAILED || (want && (uintptr_t)p != want)) {
        sim_err("cannot reserve %zu bytes of device address space%s: %s", size,
                want ? " at SIMGPU_VA_BASE" : "", strerror(errno));
        if (p != MAP_FAILED) munmap(p, size);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    /* Keep 2 MiB alignment for the allocator; NULL-adjacent pages stay unused. */
    va_base = align_up((uintptr_t)p, BIG_ALIGN);
    va_size = size - (va_base - (uintptr_t)p);
    ext = malloc(64 * sizeof *ext);
    if (!ext) return CUDA_ERROR_OUT_OF_MEMORY;
    ext_cap = 64;
    ext[0] = (struct extent){va_base + BIG_ALIGN, va_base + va_size};
    next = 1;
    return CUDA_SUCCESS;
}

uintptr_t sim_va_base(void)
{
    return va_base;
}
size_t sim_va_size(void)
{
    return va_size;
}

bool sim_va_contains(uintptr_t p, size_t n)
{
    return p >= va_base && p - va_base < va_size && n <= va_size - (p - va_base);
}

static bool ext_insert(size_t at, struct extent e)
{
    if (next == ext_cap) {
        struct extent *ne = realloc(ext, ext_cap * 2 * sizeof *ne);
        if (!ne) return false;
        ext = ne;
        ext_cap *= 2;
    }
    memmove(&ext[at + 1], &ext[at], (next - at) * sizeof *ext);
    ext[at] = e;
    next++;
    return true;
}

static void ext_erase(size_t at)
{
    memmove(&ext[at], &ext[at + 1], (next - at - 1) * sizeof *ext);
    next--;
}

/* Cut [lo, lo+size) out of extent i (which contains it). */
static bool ext_cut(size_t i, uintptr_t lo, size_t size)
{
    struct extent e = ext[i];
    uintptr_t hi = lo + size;
    if (e.lo == lo && e.hi == hi)
        ext_erase(i);
    else if (e.lo == lo)
        ext[i].lo = hi;
    else if (e.hi == hi)
        ext[i].hi = lo;
    else {
        if (!ext_insert(i + 1, (struct extent){hi, e.hi})) return false;
        ext[i].hi = lo;
    }
    return true;
}

bool sim_va_take(size_t size, size_t align, uintptr_t fixed, uintptr_t *out)
{
    if (!size || size > va_size) return false;
    bool ok = false;
    pthread_mutex_lock(&va_lock);
    for (size_t i = 0; i < next && !ok; i++) {
        uintptr_t lo = fixed ? fixed : align_up(ext[i].lo, align);
        if (lo < ext[i].lo || lo >= ext[i].hi || ext[i].hi - lo < size) continue;
        if ((ok = ext_cut(i, lo, size))) *out = lo;
    }
    pthread_mutex_unlock(&va_lock);
    return ok;
}

void sim_va_give(uintptr_t lo, size_t size)
{
    uintptr_t hi = lo + size;
    pthread_mutex_lock(&va_lock);
    size_t i = 0;
    while (i < next && ext[i].lo < lo)
        i++;
    bool merge_prev = i > 0 && ext[i - 1].hi == lo;
    bool merge_next = i < next && ext[i].lo == hi;
    if (merge_prev && merge_next) {
        ext[i - 1].hi = ext[i].hi;
        ext_erase(i);
    } else if (merge_prev)
        ext[i - 1].hi = hi;
    else if (merge_next)
        ext[i].lo = lo;
    else if (!ext_insert(i, (struct extent){lo, hi}))
        sim_err("leaking %zu bytes of VA", size);
    pthread_mutex_unlock(&va_lock);
}

void sim_va_unmap(uintptr_t base, size_t size)
{
    mmap((void *)base, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
         -1, 0);
}

/* ---- the allocation table ----------------------------------------------- */

/* The table is a balanced search tree (libc tsearch) of non-overlapping
 * ranges: a range compares equal to any range it overlaps, so one search
 * finds the allocation holding an address. Every operation is O(log n). */
static void *tab_root;
static size_t ntab;
static pthread_rwlock_t tab_lock = PTHREAD_RWLOCK_INITIALIZER;
static _Atomic uint64_t tab_gen = 1;
static _Atomic unsigned long long next_buffer_id = 1;

static int range_cmp(const void *pa, const void *pb)
{
    const struct sim_alloc *a = pa, *b = pb;
    if (a->base + a->size <= b->base) return -1;
    if (b->base + b->size <= a->base) return 1;
    return 0;
}

/* The entry holding p, or NULL. Caller holds tab_lock. */
static struct sim_alloc *tab_find(uintptr_t p)
{
    struct sim_alloc key = {.base = p, .size = 1};
    void *const *n = tfind(&key, &tab_root, range_cmp);
    return n ? *(struct sim_alloc *const *)n : NULL;
}

bool sim_table_insert(const struct sim_alloc *a)
{
    struct sim_alloc *e = malloc(sizeof *e);
    if (!e) return false;
    *e = *a;
    if (!e->buffer_id) e->buffer_id = atomic_fetch_add(&next_buffer_id, 1);
    pthread_rwlock_wrlock(&tab_lock);
    void *const *n = tsearch(e, &tab_root, range_cmp);
    bool ok = n && *(struct sim_alloc *const *)n == e; /* else it overlaps an entry */
    if (ok) {
        ntab++;
        atomic_fetch_add(&tab_gen, 1);
    }
    pthread_rwlock_unlock(&tab_lock);
    if (!ok) free(e);
    return ok;
}

/* Unlink e (found under the write lock) and free it, copying it to *out. */
static void tab_erase_locked(struct sim_alloc *e, struct sim_alloc *out)
{
    tdelete(e, &tab_root, range_cmp);
    ntab--;
    atomic_fetch_add(&tab_gen, 1);
    if (out) *out = *e;
    free(e);
}

bool sim_table_remove(uintptr_t base, struct sim_alloc *out)
{
    pthread_rwlock_wrlock(&tab_lock);
    struct sim_alloc *e = tab_find(base);
    bool ok = e && e->base == base;
    if (ok) tab_erase_locked(e, out);
    pthread_rwlock_unlock(&tab_lock);
    return ok;
}

bool sim_table_mark_freeing(uintptr_t base)
{
    pthread_rwlock_wrlock(&tab_lock);
    struct sim_alloc *e = tab_find(base);
    bool ok = e && e->base == base && e->pool && !e->freeing;
    if (ok) e->freeing = true;
    pthread_rwlock_unlock(&tab_lock);
    return ok;
}

/* In-order walks with a caller-supplied state (twalk_r). */
struct walk {
    struct sim_ctx *ctx; /* collect: entries of this context */
    struct sim_alloc **hits;
    ptx_mem_range *ranges; /* snapshot: every range */
    size_t n;
};

static void walk_collect(const void *node, VISIT which, void *arg)
{
    struct walk *w = arg;
    struct sim_alloc *e = *(struct sim_alloc *const *)node;
    if (which != postorder && which != leaf) return;
    if (e->ctx == w->ctx && e->kind != SIM_MEM_VMM) w->hits[w->n++] = e;
}

static void walk_ranges(const void *node, VISIT which, void *arg)
{
    struct walk *w = arg;
    const struct sim_alloc *e = *(struct sim_alloc *const *)node;
    if (which == postorder || which == leaf)
        w->ranges[w->n++] = (ptx_mem_range){e->base, e->base + e->size};
}

size_t sim_table_take_ctx(struct sim_ctx *c, struct sim_alloc **out)
{
    pthread_rwlock_wrlock(&tab_lock);
    struct walk w = {.ctx = c, .hits = malloc((ntab ? ntab : 1) * sizeof *w.hits)};
    struct sim_alloc *v = malloc((ntab ? ntab : 1) * sizeof *v);
    if (w.hits && v) twalk_r(tab_root, walk_collect, &w);
    for (size_t i = 0; i < w.n; i++)
        tab_erase_locked(w.hits[i], &v[i]);
    pthread_rwlock_unlock(&tab_lock);
    free(w.hits);
    *out = v;
    return v ? w.n : 0;
}

bool sim_mem_lookup(uintptr_t p, struct sim_alloc *out)
{
    pthread_rwlock_rdlock(&tab_lock);
    struct sim_alloc *e = tab_find(p);
    if (e && out) *out = *e;
    pthread_rwlock_unlock(&tab_lock);
    return e != NULL;
}

CUresult sim_mem_check(uintptr_t p, size_t n, unsigned kinds)
{
    if (n == 0) return CUDA_SUCCESS;
    struct sim_alloc a;
    if (!sim_mem_lookup(p, &a)) return CUDA_ERROR_INVALID_VALUE;
    if (!(a.kind & kinds)) return CUDA_ERROR_INVALID_VALUE;
    if (n > a.size - (p - a.base)) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

/* ---- device and managed allocations ------------------------------------- */

/* ---- small allocations: 64 KiB slabs of 256..2048-byte slots --------------
 * Many tiny cuMemAlloc calls would otherwise each cost a page, a VMA and two
 * system calls. A slab is charged to its device as a whole, like the real
 * driver's coarse granularity; it goes back to the OS when its last slot is
 * freed. Slots stay 256-byte aligned and are zeroed when handed out. */

#define SLAB (64ul << 10)
#define SLOT 256ul
#define SMALL_MAX 2048ul
#define NCLASS (SMALL_MAX / SLOT)
#define MAX_DEV 64

struct slab {
    uintptr_t base;
    struct sim_device *dev;
    unsigned cls, nslots, nfree;
    uint64_t used[SLAB / SLOT / 64];
    struct slab *next;
};

static struct slab *slabs[MAX_DEV][NCLASS];
static pthread_mutex_t slab_lock = PTHREAD_MUTEX_INITIALIZER;

size_t sim_mem_accounted(size_t size)
{
    if (size && size <= SMALL_MAX) return (size + SLOT - 1) / SLOT * SLOT;
    return page_round(size);
}

static struct slab *slab_new(struct sim_device *d, unsigned cls)
{
    struct slab *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (!sim_device_charge(d, SLAB)) goto fail;
    if (!sim_va_take(SLAB, SLAB, 0, &s->base)) goto fail_charge;
    if (mprotect((void *)s->base, SLAB, PROT_READ | PROT_WRITE) != 0) goto fail_va;
    s->dev = d;
    s->cls = cls;
    s->nslots = s->nfree = (unsigned)(SLAB / ((cls + 1) * SLOT));
    return s;
fail_va:
    sim_va_give(s->base, SLAB);
fail_charge:
    sim_device_uncharge(d, SLAB);
fail:
    free(s);
    return NULL;
}

static void slab_free(struct slab *s)
{
    sim_ipc_unshare(s->base, SLAB);
    madvise((void *)s->base, SLAB, MADV_DONTNEED);
    mprotect((void *)s->base, SLAB, PROT_NONE);
    sim_va_give(s->base, SLAB);
    sim_device_uncharge(s->dev, SLAB);
    free(s);
}

/* Claim a free slot of s; slab_lock held, s->nfree > 0. */
static uintptr_t slot_take(struct slab *s)
{
    for (unsigned i = 0; i < s->nslots; i++)
        if (!(s->used[i / 64] >> (i % 64) & 1)) {
            s->used[i / 64] |= 1ull << (i % 64);
            s->nfree--;
            return s->base + (uintptr_t)i * (s->cls + 1) * SLOT;
        }
    return 0;
}

static CUresult small_alloc(struct sim_device *d, size_t size, uintptr_t *out, struct slab **where)
{
    unsigned cls = (unsigned)((size - 1) / SLOT);
    if (d->ordinal >= MAX_DEV) return CUDA_ERROR_NOT_SUPPORTED;
    pthread_mutex_lock(&slab_lock);
    struct slab **head = &slabs[d->ordinal][cls], **pp = head;
    while (*pp && !(*pp)->nfree)
        pp = &(*pp)->next;
    struct slab *s = *pp;
    if (s && pp != head) { /* move it to the front: the next search stops at once */
        *pp = s->next;
        s->next = *head;
        *head = s;
    }
    if (!s && (s = slab_new(d, cls))) {
        s->next = *head;
        *head = s;
    }
    uintptr_t p = s ? slot_take(s) : 0;
    pthread_mutex_unlock(&slab_lock);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    memset((void *)p, 0, (cls + 1) * SLOT);
    *out = p;
    *where = s;
    return CUDA_SUCCESS;
}

static void small_free(struct slab *s, uintptr_t p)
{
    unsigned i = (unsigned)((p - s->base) / ((s->cls + 1) * SLOT));
    pthread_mutex_lock(&slab_lock);
    s->used[i / 64] &= ~(1ull << (i % 64));
    bool empty = ++s->nfree == s->nslots;
    if (empty) {
        struct slab **pp = &slabs[s->dev->ordinal][s->cls];
        while (*pp != s)
            pp = &(*pp)->next;
        *pp = s->next;
    }
    pthread_mutex_unlock(&slab_lock);
    if (empty) slab_free(s);
}

/* A small device allocation in a slab, entered in the table. */
static CUresult alloc_small(struct sim_device *d, struct sim_ctx *c, size_t size, void *pool,
                            bool internal, uintptr_t *out)
{
    struct slab *s;
    uintptr_t p;
    CUresult r = small_alloc(d, size, &p, &s);
    if (r) return r;
    struct sim_alloc a = {.base = p,
                          .size = size,
                          .kind = SIM_MEM_DEVICE,
                          .dev = d,
                          .ctx = c,
                          .pool = pool,
                          .internal = internal,
                          .slab = s};
    if (!sim_table_insert(&a)) {
        small_free(s, p);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *out = p;
    return CUDA_SUCCESS;
}

/* Reserve pages for `size` bytes charged to d, owned by c (NULL: by no
 * context, so it outlives context teardown) and enter them in the table. */
static CUresult alloc_on(struct sim_device *d, struct sim_ctx *c, size_t size,
                         enum sim_mem_kind kind, unsigned flags, void *pool, bool internal,
                         uintptr_t *out)
{
    size_t sz = page_round(size);
    if (!size || !sz) return size ? CUDA_ERROR_OUT_OF_MEMORY : CUDA_ERROR_INVALID_VALUE;
    if (kind == SIM_MEM_DEVICE && size <= SMALL_MAX && d->ordinal < MAX_DEV)
        return alloc_small(d, c, size, pool, internal, out);
    if (!sim_device_charge(d, sz)) return CUDA_ERROR_OUT_OF_MEMORY;
    uintptr_t base;
    if (!sim_va_take(sz, sz >= BIG_ALIGN ? BIG_ALIGN : PAGE, 0, &base)) goto fail_charge;
    if (mprotect((void *)base, sz, PROT_READ | PROT_WRITE) != 0) goto fail_va;
    /* The table keeps the requested size: ranges are checked against it. */
    struct sim_alloc a = {.base = base,
                          .size = size,
                          .kind = kind,
                          .dev = d,
                          .ctx = c,
                          .flags = flags,
                          .pool = pool,
                          .internal = internal};
    if (!sim_table_insert(&a)) goto fail_prot;
    *out = base;
    return CUDA_SUCCESS;
fail_prot:
    mprotect((void *)base, sz, PROT_NONE);
fail_va:
    sim_va_give(base, sz);
fail_charge:
    sim_device_uncharge(d, sz);
    return CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult sim_mem_alloc_kind(struct sim_ctx *c, size_t size, enum sim_mem_kind kind, unsigned flags,
                            void *pool, uintptr_t *out)
{
    return alloc_on(c->dev, c, size, kind, flags, pool, false, out);
}

CUresult sim_mem_alloc_device(struct sim_ctx *c, size_t size, bool internal, uintptr_t *out)
{
    if (!c) return CUDA_ERROR_INVALID_CONTEXT;
    return alloc_on(c->dev, c, size, SIM_MEM_DEVICE, 0, NULL, internal, out);
}

CUresult sim_mem_alloc_device_on(struct sim_device *d, size_t size, bool internal, uintptr_t *out)
{
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    return alloc_on(d, NULL, size, SIM_MEM_DEVICE, 0, NULL, internal, out);
}

void sim_mem_release(const struct sim_alloc *a)
{
    switch (a->kind) {
    case SIM_MEM_DEVICE:
    case SIM_MEM_MANAGED: {
        if (a->slab) {
            small_free(a->slab, a->base);
            if (a->pool) sim_mempool_note_free(a->pool, sim_mem_accounted(a->size));
            break;
        }
        size_t sz = page_round(a->size);
        if (a->ipc) { /* an import: never charged here */
            sim_ipc_release(a);
            break;
        }
        sim_ipc_unshare(a->base, sz);
        madvise((void *)a->base, sz, MADV_DONTNEED);
        mprotect((void *)a->base, sz, PROT_NONE);
        sim_va_give(a->base, sz);
        sim_device_uncharge(a->dev, sz);
        if (a->pool) sim_mempool_note_free(a->pool, sz);
        if (a->kind == SIM_MEM_MANAGED) sim_managed_forget(a->base);
        break;
    }
    case SIM_MEM_HOST:
        munmap((void *)a->base, a->size);
        break;
    default: /* registered memory is the application's; VMM ranges are vmm.c's */
        break;
    }
}

CUresult sim_mem_free_device(uintptr_t base)
{
    struct sim_alloc a;
    if (!sim_mem_lookup(base, &a) || a.base != base || a.freeing ||
        !(a.kind & (SIM_MEM_DEVICE | SIM_MEM_MANAGED)))
        return CUDA_ERROR_INVALID_VALUE;
    /* Like the driver, a free waits for work that may still use the memory. */
    if (a.ctx && sim_handle_ok(a.ctx, SIM_KIND_CTX) && a.ctx->active) sim_ctx_synchronize(a.ctx);
    if (!sim_table_remove(base, &a)) return CUDA_ERROR_INVALID_VALUE;
    sim_mem_release(&a);
    return CUDA_SUCCESS;
}

bool sim_mem_region(const struct sim_alloc *a, uintptr_t *lo, size_t *len)
{
    if (a->kind != SIM_MEM_DEVICE || a->ipc) return false;
    if (a->slab) {
        *lo = ((const struct slab *)a->slab)->base;
        *len = SLAB;
    } else {
        *lo = a->base;
        *len = page_round(a->size);
    }
    return *len != 0;
}

/* ---- snapshot for the interpreter ---------------------------------------- */

struct snapshot {
    ptx_mem_map map; /* first: the interpreter sees only this */
    _Atomic int refs;
    uint64_t gen;
    ptx_mem_range ranges[];
};

static struct snapshot *snap_cur;
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;

static struct snapshot *snap_build(void)
{
    pthread_rwlock_rdlock(&tab_lock);
    struct snapshot *s = malloc(sizeof *s + (ntab ? ntab : 1) * sizeof(ptx_mem_range));
    if (s) {
        struct walk w = {.ranges = s->ranges};
        twalk_r(tab_root, walk_ranges, &w);
        s->map.ranges = s->ranges;
        s->map.count = w.n;
        s->gen = atomic_load(&tab_gen);
        atomic_store(&s->refs, 1); /* the cache's reference */
    }
    pthread_rwlock_unlock(&tab_lock);
    return s;
}

const ptx_mem_map *sim_mem_snapshot_acquire(void)
{
    static const ptx_mem_map empty = {NULL, 0};
    pthread_mutex_lock(&snap_lock);
    if (!snap_cur || snap_cur->gen != atomic_load(&tab_gen)) {
        struct snapshot *s = snap_build();
        if (s) {
            if (snap_cur && atomic_fetch_sub(&snap_cur->refs, 1) == 1) free(snap_cur);
            snap_cur = s;
        }
    }
    struct snapshot *s = snap_cur;
    if (s) atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&snap_lock);
    return s ? &s->map : &empty;
}

void sim_mem_snapshot_release(const ptx_mem_map *m)
{
    if (!m || !m->ranges) return;
    struct snapshot *s = (struct snapshot *)((char *)m - offsetof(struct snapshot, map));
    if (atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

/* ---- public entry points ------------------------------------------------- */

CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r || (r = sim_capture_check_unsafe())) return r;
    if (!dptr || !bytesize) return CUDA_ERROR_INVALID_VALUE;
    uintptr_t p;
    if ((r = sim_mem_alloc_device(c, bytesize, false, &p))) return r;
    *dptr = (CUdeviceptr)p;
    return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr dptr)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r || (r = sim_capture_check_unsafe())) return r;
    if (!dptr) return CUDA_SUCCESS; /* like free(NULL) */
    struct sim_alloc a;
    if (sim_mem_lookup((uintptr_t)dptr, &a) && (a.internal || a.ipc))
        return CUDA_ERROR_INVALID_VALUE; /* imports go with cuIpcCloseMemHandle */
    return sim_mem_free_device((uintptr_t)dptr);
}

CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pPitch, size_t WidthInBytes, size_t Height,
                            unsigned int ElementSizeBytes)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r || (r = sim_capture_check_unsafe())) return r;
    if (!dptr || !pPitch || !WidthInBytes || !Height) return CUDA_ERROR_INVALID_VALUE;
    if (ElementSizeBytes != 4 && ElementSizeBytes != 8 && ElementSizeBytes != 16)
        return CUDA_ERROR_INVALID_VALUE;
    size_t pitch = align_up(WidthInBytes, 512);
    if (pitch < WidthInBytes || Height > SIZE_MAX / pitch) return CUDA_ERROR_OUT_OF_MEMORY;
    uintptr_t p;
    if ((r = sim_mem_alloc_device(c, pitch * Height, false, &p))) return r;
    *dptr = (CUdeviceptr)p;
    *pPitch = pitch;
    return CUDA_SUCCESS;
}

CUresult cuMemGetInfo_v2(size_t *free, size_t *total)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!free || !total) return CUDA_ERROR_INVALID_VALUE;
    size_t used = sim_device_used(c->dev);
    *total = c->dev->total_mem;
    *free = used < *total ? *total - used : 0;
    return CUDA_SUCCESS;
}

CUresult cuMemGetAddressRange_v2(CUdeviceptr *pbase, size_t *psize, CUdeviceptr dptr)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    struct sim_alloc a;
    if (!sim_mem_lookup((uintptr_t)dptr, &a) || a.kind == SIM_MEM_REGISTERED ||
        a.kind == SIM_MEM_HOST)
        return CUDA_ERROR_NOT_FOUND;
    if (pbase) *pbase = (CUdeviceptr)a.base;
    if (psize) *psize = a.size;
    return CUDA_SUCCESS;
}

CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize, unsigned int flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r || (r = sim_capture_check_unsafe())) return r;
    if (!dptr || !bytesize) return CUDA_ERROR_INVALID_VALUE;
    if (flags != CU_MEM_ATTACH_GLOBAL && flags != CU_MEM_ATTACH_HOST)
        return CUDA_ERROR_INVALID_VALUE;
    uintptr_t p;
    if ((r = sim_mem_alloc_kind(c, bytesize, SIM_MEM_MANAGED, flags, NULL, &p))) return r;
    *dptr = (CUdeviceptr)p;
    return CUDA_SUCCESS;
}
