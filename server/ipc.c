/* ipc.c — CUDA IPC between sessions of one tenant on one rgpud. The handle an
 * application sees is rgpud's: {magic, kind, the server's boot id, the
 * exporter's slot and session, an export serial, 24 random bytes}, a key into
 * the export table of the pool (pool.h) that holds the backend's own handle.
 * An import is looked up there and refused with INVALID_HANDLE unless the
 * exporting session is alive and of the importer's tenant; only then does the
 * backend see its handle. Imported memory joins the session's allocations
 * until it is closed (docs/pool.md, "CUDA IPC"). */
#include <dlfcn.h>
#include <string.h>
#include <sys/random.h>

#include "ipc.h"
#include "log.h"

#define IPC_MAGIC 0x49706772u /* "rgpI" */

struct ipc_wire {
    uint32_t magic, kind;
    uint64_t boot;
    uint32_t slot, zero;
    uint64_t session, serial;
    uint8_t key[24];
};
_Static_assert(sizeof(struct ipc_wire) == CU_IPC_HANDLE_SIZE, "an IPC handle is 64 bytes");

static struct {
    struct pool_table *t;
    struct pool_slot *slot;
    int exported; /* this session has exported memory: frees look in the table */
    struct import_ref {
        uint64_t ptr;
        unsigned refs;
    } refs[256]; /* opened memory: the driver counts opens of one handle (s->lock) */
} I;

void ipc_attach(struct pool_table *t, struct pool_slot *slot)
{
    I.t = slot ? t : NULL;
    I.slot = slot;
}

static CUresult run(struct session *s, struct call *cl, struct rpc_decoded *dc)
{
    struct backend_fn *f = backend_fn(&s->be, cl->d, cl->d->name);
    if (!f) return CUDA_ERROR_NOT_SUPPORTED;
    atomic_fetch_add(&s->busy, 1);
    CUresult r = backend_call(f, dc->avalues);
    atomic_fetch_sub(&s->busy, 1);
    return r;
}

/* cuIpcGetMemHandle / cuIpcGetEventHandle: the backend's handle goes into the
 * table, the application gets the key. */
static CUresult get_handle(struct session *s, struct call *cl, struct rpc_decoded *dc, int kind)
{
    if (!I.t) {
        srv_warn("%s: IPC needs the pool of rgpud's supervisor; refused", cl->d->name);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    CUresult r = run(s, cl, dc);
    if (r != CUDA_SUCCESS) return r;
    uint8_t *out = dc->ptrval[0];
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    struct pool_export e = {
        .kind = kind, .slot = (uint32_t)(I.slot - I.t->slot), .session = I.slot->session};
    memcpy(e.backend, out, sizeof e.backend);
    memcpy(e.tenant, I.slot->tenant, sizeof e.tenant);
    if (kind == POOL_EXPORT_MEM) {
        uint64_t p = arg_u64(dc, 1);
        pthread_mutex_lock(&s->lock);
        struct alloc *a = allocs_find(&s->mem, p, 1);
        e.base = a ? a->base : p;
        pthread_mutex_unlock(&s->lock);
        I.exported = 1;
    }
    if (getrandom(e.key, sizeof e.key, 0) != (ssize_t)sizeof e.key) return CUDA_ERROR_OUT_OF_MEMORY;
    uint64_t serial = pool_export_add(I.t, &e);
    if (!serial) {
        srv_warn("%s: the server's IPC export table is full (%d entries)", cl->d->name,
                 POOL_MAX_EXPORTS);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    struct ipc_wire w = {.magic = IPC_MAGIC,
                         .kind = (uint32_t)kind,
                         .boot = I.t->boot,
                         .slot = e.slot,
                         .session = e.session,
                         .serial = serial};
    memcpy(w.key, e.key, sizeof w.key);
    memcpy(out, &w, sizeof w);
    return CUDA_SUCCESS;
}

/* Why the handle w cannot be opened here, or NULL (*e is then its entry). */
static const char *refusal(const struct ipc_wire *w, int kind, struct pool_export *e)
{
    if (w->magic != IPC_MAGIC || w->kind != (uint32_t)kind || w->boot != I.t->boot || w->zero)
        return "not a handle of this server";
    if (pool_export_find(I.t, w->serial, e) || e->kind != kind || e->session != w->session ||
        e->slot != w->slot || memcmp(e->key, w->key, sizeof w->key))
        return "no such export (freed, or its session ended)";
    const struct pool_slot *x = &I.t->slot[e->slot];
    if (e->slot >= I.t->nslots || atomic_load(&x->state) == POOL_FREE || x->session != e->session)
        return "the exporting session ended";
    if (strncmp(e->tenant, I.slot->tenant, sizeof e->tenant)) return "it is another tenant's";
    return NULL;
}

static struct import_ref *import_ref(uint64_t ptr, int make)
{
    struct import_ref *free_one = NULL;
    for (size_t i = 0; i < sizeof I.refs / sizeof I.refs[0]; i++) {
        if (I.refs[i].refs && I.refs[i].ptr == ptr) return &I.refs[i];
        if (!I.refs[i].refs && !free_one) free_one = &I.refs[i];
    }
    if (make && free_one) *free_one = (struct import_ref){ptr, 0};
    return make ? free_one : NULL;
}

/* The opened range joins the session's allocations (once per pointer). A
 * mapping the backend placed outside the client's device window (DESIGN rule
 * 2) is closed again: MAP_FAILED. */
static CUresult note_import(struct session *s, uint64_t ctx, uint64_t ptr)
{
    static CUresult (*range)(CUdeviceptr *, size_t *, CUdeviceptr);
    static CUresult (*close_it)(CUdeviceptr);
    CUdeviceptr base = 0;
    size_t size = 0;
    if (!range) *(void **)&range = dlsym(s->be.dl, "cuMemGetAddressRange_v2");
    if (!close_it) *(void **)&close_it = dlsym(s->be.dl, "cuIpcCloseMemHandle");
    if (!range || range(&base, &size, (CUdeviceptr)ptr) != CUDA_SUCCESS || base != ptr) size = 0;
    if (s->win_size &&
        (ptr < s->win_base || size > s->win_size || ptr - s->win_base > s->win_size - size)) {
        srv_warn("cuIpcOpenMemHandle: the backend mapped [%#llx, +%#zx), outside the device "
                 "address window; refused",
                 (unsigned long long)ptr, size);
        if (close_it) close_it((CUdeviceptr)ptr);
        return CUDA_ERROR_MAP_FAILED;
    }
    pthread_mutex_lock(&s->lock);
    struct alloc *a = allocs_find(&s->mem, ptr, 1);
    struct import_ref *ref = import_ref(ptr, 1);
    if (!a || a->kind != ALLOC_IPC || a->base != ptr) { /* first open (again) */
        if (ref) ref->refs = 0;
        if (!size || allocs_add(&s->mem, ptr, size, ALLOC_IPC, ctx))
            srv_warn("cuIpcOpenMemHandle: %#llx (+%zu) cannot join the session's allocations",
                     (unsigned long long)ptr, size);
    }
    if (ref) ref->refs++;
    pthread_mutex_unlock(&s->lock);
    return CUDA_SUCCESS;
}

static CUresult open_handle(struct session *s, struct call *cl, struct rpc_decoded *dc, int kind)
{
    struct ipc_wire w;
    struct pool_export e;
    if (!dc->ptrval[0]) return CUDA_ERROR_INVALID_VALUE;
    memcpy(&w, dc->avalues[1], sizeof w);
    const char *why = I.t ? refusal(&w, kind, &e) : "IPC needs the pool of rgpud's supervisor";
    if (why) {
        srv_warn("%s: IPC handle refused (%s): tenant %s", cl->d->name, why,
                 I.slot ? I.slot->tenant : "?");
        return CUDA_ERROR_INVALID_HANDLE; /* what the driver says of a handle it does not know */
    }
    if (e.session == I.slot->session) return CUDA_ERROR_INVALID_CONTEXT; /* its own export */
    memcpy(dc->avalues[1], e.backend, sizeof e.backend);
    CUresult r = run(s, cl, dc);
    memcpy(dc->avalues[1], &w, sizeof w);
    if (r == CUDA_SUCCESS && kind == POOL_EXPORT_MEM)
        r = note_import(s, cl->h.ctx, *(uint64_t *)dc->ptrval[0]);
    if (r == CUDA_SUCCESS)
        srv_info("%s: opened an export of session %llu", cl->d->name,
                 (unsigned long long)e.session);
    return r;
}

int ipc_call(struct session *s, struct call *cl, struct rpc_decoded *dc, CUresult *r)
{
    const char *b = dc->desc->base;
    if (!(srv_traits(dc->desc) & SV_IPC)) return 0;
    if (!strcmp(b, "cuIpcGetMemHandle"))
        *r = get_handle(s, cl, dc, POOL_EXPORT_MEM);
    else if (!strcmp(b, "cuIpcGetEventHandle"))
        *r = get_handle(s, cl, dc, POOL_EXPORT_EVENT);
    else if (!strcmp(b, "cuIpcOpenMemHandle"))
        *r = open_handle(s, cl, dc, POOL_EXPORT_MEM);
    else if (!strcmp(b, "cuIpcOpenEventHandle"))
        *r = open_handle(s, cl, dc, POOL_EXPORT_EVENT);
    else
        return 0; /* cuIpcCloseMemHandle runs as usual: ipc_post */
    return 1;
}

void ipc_post(struct session *s, struct rpc_decoded *dc)
{
    const char *b = dc->desc->base;
    if (!(srv_traits(dc->desc) & SV_IPC_POST)) return;
    uint64_t p = dc->desc->nargs ? arg_u64(dc, 0) : 0;
    if (!strcmp(b, "cuIpcCloseMemHandle")) {
        struct import_ref *ref = import_ref(p, 0);
        if (!ref || --ref->refs == 0) allocs_remove(&s->mem, p, ALLOC_IPC);
    } else if (I.exported && (!strcmp(b, "cuMemFree") || !strcmp(b, "cuMemFreeAsync"))) {
        pool_export_drop(I.t, I.slot->session, p); /* its handles open nothing any more */
    }
}
