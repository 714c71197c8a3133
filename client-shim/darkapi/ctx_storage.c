/* ctx_storage.c — context-local storage (table c693336e, ref §4.4): cudart
 * keeps its per-context state here under (context, key). Entries die with their
 * context; their destructors run with no lock held since they call back in. */
#include <pthread.h>
#include <stdlib.h>

#include "tables.h"

typedef void (*cls_dtor)(CUcontext ctx, void *key, void *value);

struct cls_entry {
    CUcontext ctx;
    void *key;
    void *value;
    cls_dtor dtor;
    struct cls_entry *next;
};

static pthread_rwlock_t cls_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cls_entry *cls_head; /* few entries: one per (context, runtime) */

/* NULL means the calling thread's current context. */
static CUresult resolve_ctx(CUcontext *ctx)
{
    if (*ctx) return CUDA_SUCCESS;
    const rg_darkapi_host *h = rg_darkapi_host_get();
    if (h && h->ctx_current && h->ctx_current(ctx) == CUDA_SUCCESS && *ctx) return CUDA_SUCCESS;
    return CUDA_ERROR_INVALID_CONTEXT;
}

/* Caller holds cls_lock. Returns the link pointing at the entry, or NULL. */
static struct cls_entry **find_link(CUcontext ctx, void *key)
{
    for (struct cls_entry **l = &cls_head; *l; l = &(*l)->next)
        if ((*l)->ctx == ctx && (*l)->key == key) return l;
    return NULL;
}

static CUresult cls_put(CUcontext ctx, void *key, void *value, cls_dtor dtor)
{
    CUresult rv = resolve_ctx(&ctx);
    rg_log(RG_LOG_DEBUG, "ctx storage: put ctx %p key %p -> %d", (void *)ctx, key, (int)rv);
    if (rv != CUDA_SUCCESS) return rv;
    pthread_rwlock_wrlock(&cls_lock);
    struct cls_entry **l = find_link(ctx, key);
    struct cls_entry *e = l ? *l : calloc(1, sizeof *e);
    if (e && !l) {
        e->ctx = ctx;
        e->key = key;
        e->next = cls_head;
        cls_head = e;
    }
    if (e) {
        e->value = value;
        e->dtor = dtor;
    }
    pthread_rwlock_unlock(&cls_lock);
    return e ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

/* Removes the entry without running its destructor (the caller owns value). */
static CUresult cls_del(CUcontext ctx, void *key)
{
    CUresult rv = resolve_ctx(&ctx);
    rg_log(RG_LOG_DEBUG, "ctx storage: delete ctx %p key %p", (void *)ctx, key);
    if (rv != CUDA_SUCCESS) return rv;
    pthread_rwlock_wrlock(&cls_lock);
    struct cls_entry **l = find_link(ctx, key);
    struct cls_entry *e = l ? *l : NULL;
    if (l) *l = e->next;
    pthread_rwlock_unlock(&cls_lock);
    free(e);
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

/* A miss is an error: cudart then creates its state and puts it. */
static CUresult cls_get(void **value, CUcontext ctx, void *key)
{
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    CUresult rv = resolve_ctx(&ctx);
    if (rv != CUDA_SUCCESS) return rv;
    pthread_rwlock_rdlock(&cls_lock);
    struct cls_entry **l = find_link(ctx, key);
    if (l) *value = (*l)->value;
    pthread_rwlock_unlock(&cls_lock);
    return l ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

void rg_darkapi_ctx_destroyed(CUcontext ctx)
{
    struct cls_entry *dead = NULL;
    pthread_rwlock_wrlock(&cls_lock);
    for (struct cls_entry **l = &cls_head; *l;) {
        struct cls_entry *e = *l;
        if (e->ctx != ctx) {
            l = &e->next;
            continue;
        }
        *l = e->next;
        e->next = dead;
        dead = e;
    }
    pthread_rwlock_unlock(&cls_lock);
    while (dead) {
        struct cls_entry *e = dead;
        dead = e->next;
        rg_log(RG_LOG_DEBUG, "ctx storage: ctx %p destroyed, destructor for key %p", (void *)ctx,
               e->key);
        if (e->dtor) e->dtor(e->ctx, e->key, e->value);
        free(e);
    }
}

/* No size header: slot 0 is already a function; NULL terminates. */
const rg_slot rg_tbl_ctx_storage[4] = {
    RG_SLOT_FN(cls_put),
    RG_SLOT_FN(cls_del),
    RG_SLOT_FN(cls_get),
    NULL,
};
