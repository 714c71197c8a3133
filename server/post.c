/* post.c — what a successful call changes in the session's tables: created
 * handles get their ids (client-minted bound, server-minted minted; primary
 * contexts keep their fixed ids), allocations and frees are recorded, and a
 * destroyed handle takes its children (and its module variables) with it. */
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "session.h"

/* Handles that live inside a module, library or graph name it as parent;
 * context-bound objects name the call's context; the rest have none. */
static uint64_t parent_of(const struct rpc_decoded *dc, unsigned type, uint64_t ctx)
{
    for (int i = 0; i < dc->desc->nargs; i++) {
        const struct rpc_arg_desc *a = &dc->desc->args[i];
        if (a->kind == RPC_ARG_HANDLE && (a->handle == RPC_H_MODULE || a->handle == RPC_H_LIBRARY ||
                                          (a->handle == RPC_H_GRAPH && type == RPC_H_GRAPH_NODE)))
            return dc->ids[i]; /* a clone or an executable outlives the graph it came from */
    }
    switch (type) {
    case RPC_H_CONTEXT: case RPC_H_LIBRARY: case RPC_H_GRAPH: case RPC_H_MEMPOOL:
    case RPC_H_MEM_HANDLE: case RPC_H_DEVICE: case RPC_H_GREEN_CTX:
        return 0;
    default:
        return ctx;
    }
}

static int device_arg(const struct rpc_decoded *dc)
{
    for (int i = 0; i < dc->desc->nargs; i++)
        if (dc->desc->args[i].kind == RPC_ARG_HANDLE && dc->desc->args[i].handle == RPC_H_DEVICE)
            return (int)arg_u64(dc, i);
    return -1;
}

static void new_handle(struct session *s, struct call *cl, struct rpc_decoded *dc, int i)
{
    const struct rpc_arg_desc *a = &dc->desc->args[i];
    void *real = (void *)(uintptr_t)arg_u64(dc, i);
    uint64_t parent = parent_of(dc, a->handle, cl->h.ctx);
    if (a->handle == RPC_H_DEVICE) { /* ordinals are the session's own */
        dc->ids[i] = arg_u64(dc, i);
        return;
    }
    if (is_base(dc, "cuDevicePrimaryCtxRetain")) {
        int dev = device_arg(dc);
        if (dev < 0 || dev >= s->ndev) return;
        dc->ids[i] = primary_ctx_id(dev);
        void *old;
        if (handles_get(s->h, dc->ids[i], RPC_H_CONTEXT, &old)) handles_bind(s->h, dc->ids[i], real, 0);
        s->primary_retains[dev]++;
        return;
    }
    if (a->mint == RPC_MINT_CLIENT) {
        if (handles_bind(s->h, dc->ids[i], real, parent))
            srv_warn("%s: cannot bind id %#llx", dc->desc->name, (unsigned long long)dc->ids[i]);
        return;
    }
    dc->ids[i] = handles_mint(s->h, a->handle, real, parent);
}

/* Arrays of handles the driver wrote: the ids replace the real values in place. */
static void new_handle_array(struct session *s, struct call *cl, struct rpc_decoded *dc, int i)
{
    const struct rpc_arg_desc *a = &dc->desc->args[i];
    uint64_t *v = dc->ptrval[i];
    if (!v || a->size != 8) return;
    for (size_t k = 0; k < dc->lens[i]; k++) /* NULL entries (unfilled capacity) stay 0 */
        v[k] = v[k] ? handles_mint(s->h, a->handle, (void *)(uintptr_t)v[k],
                                   parent_of(dc, a->handle, cl->h.ctx))
                    : 0;
}

/* The calls that add to or take from the allocation table, by base name. */
enum mem_action { M_ADD, M_ADD_MANAGED, M_ADD_PITCH, M_FREE, M_RESERVE, M_UNRESERVE, M_MAP, M_UNMAP };
static const struct memop {
    const char *base;
    enum mem_action act;
} memops[] = {
    {"cuMemAlloc", M_ADD},         {"cuMemAllocManaged", M_ADD_MANAGED},
    {"cuMemAllocAsync", M_ADD},    {"cuMemAllocFromPoolAsync", M_ADD},
    {"cuMemAllocPitch", M_ADD_PITCH}, {"cuMemFree", M_FREE},
    {"cuMemFreeAsync", M_FREE},    {"cuMemAddressReserve", M_RESERVE},
    {"cuMemAddressFree", M_UNRESERVE}, {"cuMemMap", M_MAP},
    {"cuMemUnmap", M_UNMAP},
};

static const struct memop *memop_of(const struct rpc_decoded *dc)
{
    for (size_t i = 0; i < sizeof memops / sizeof memops[0]; i++)
        if (is_base(dc, memops[i].base)) return &memops[i];
    return NULL;
}

int post_changes_allocs(const struct rpc_decoded *dc)
{
    return memop_of(dc) != NULL;
}

/* Allocations and frees: [out ptr, size arg, kind]. */
static void track_memory(struct session *s, struct call *cl, struct rpc_decoded *dc)
{
    uint64_t ctx = cl->h.ctx;
    const struct memop *m = memop_of(dc);
    if (m) {
        uint64_t p = arg_u64(dc, 0);
        switch (m->act) {
        case M_ADD:
        case M_ADD_MANAGED: {
            allocs_add(&s->mem, p, arg_u64(dc, 1), ALLOC_MEM, ctx);
            struct alloc *a = allocs_find(&s->mem, p, arg_u64(dc, 1));
            if (a && m->act == M_ADD_MANAGED) a->managed = 1; /* mirrored in the client */
            break;
        }
        case M_ADD_PITCH:
            allocs_add(&s->mem, p, arg_u64(dc, 1) * arg_u64(dc, 3), ALLOC_MEM, ctx);
            break;
        case M_FREE: allocs_remove(&s->mem, p, ALLOC_MEM); break;
        case M_RESERVE: allocs_add(&s->mem, p, arg_u64(dc, 1), ALLOC_RESERVED, 0); break;
        case M_UNRESERVE: allocs_remove(&s->mem, p, ALLOC_RESERVED); break;
        case M_MAP: allocs_add(&s->mem, p, arg_u64(dc, 1), ALLOC_MAPPED, 0); break;
        case M_UNMAP: /* may name several whole mappings */
            allocs_remove_within(&s->mem, p, arg_u64(dc, 1), ALLOC_MAPPED);
            break;
        }
    } else if ((is_base(dc, "cuModuleGetGlobal") || is_base(dc, "cuLibraryGetGlobal") ||
              is_base(dc, "cuLibraryGetManaged")) && dc->desc->nargs >= 3) {
        uint64_t p = arg_u64(dc, 0), n = arg_u64(dc, 1);
        if (p && n && !allocs_contains(&s->mem, p, n))
            allocs_add(&s->mem, p, n, ALLOC_GLOBAL, dc->ids[2]);
        struct alloc *a = is_base(dc, "cuLibraryGetManaged") ? allocs_find(&s->mem, p, n) : NULL;
        if (a) a->managed = 1; /* a __managed__ variable: mirrored in the client */
    }
}

static int destroys(const struct rpc_decoded *dc)
{
    if (!dc->desc->nargs || dc->desc->args[0].kind != RPC_ARG_HANDLE) return 0;
    return (srv_traits(dc->desc) & SV_DESTROYS) != 0;
}

/* A VMM allocation handle is reference counted by the driver: cuMemCreate and each
 * cuMemRetainAllocationHandle (which returns the same handle, so the same id) take a
 * reference, cuMemRelease drops one. The id dies with the last reference. Returns the
 * references left after adding `delta`. */
static unsigned memh_refs(struct session *s, uint64_t id, int delta)
{
    size_t i;
    for (i = 0; i < s->nmemh && s->memh[i].id != id; i++)
        ;
    if (i == s->nmemh) {
        if (delta <= 0) return 0;
        if (s->nmemh == s->capmemh) {
            size_t cap = s->capmemh ? s->capmemh * 2 : 16;
            struct memh_ref *v = realloc(s->memh, cap * sizeof *v);
            if (!v) return 1; /* unknown count: keep the id alive */
            s->memh = v;
            s->capmemh = cap;
        }
        s->memh[s->nmemh++] = (struct memh_ref){id, 0};
    }
    if (delta < 0 && s->memh[i].refs > 0) s->memh[i].refs--;
    else if (delta > 0) s->memh[i].refs++;
    unsigned left = s->memh[i].refs;
    if (!left) s->memh[i] = s->memh[--s->nmemh];
    return left;
}

static void track_lifetimes(struct session *s, struct rpc_decoded *dc)
{
    if ((is_base(dc, "cuMemCreate") || is_base(dc, "cuMemRetainAllocationHandle")) && dc->ids[0]) {
        memh_refs(s, dc->ids[0], +1);
        return;
    }
    if (is_base(dc, "cuMemRelease") && memh_refs(s, dc->ids[0], -1) > 0) return;
    if (is_base(dc, "cuDevicePrimaryCtxRelease") || is_base(dc, "cuDevicePrimaryCtxReset")) {
        int dev = device_arg(dc);
        if (dev < 0 || dev >= s->ndev) return;
        if (is_base(dc, "cuDevicePrimaryCtxReset")) s->primary_retains[dev] = 0;
        else if (s->primary_retains[dev] > 0) s->primary_retains[dev]--;
        if (s->primary_retains[dev] == 0) {
            handles_kill_children(s->h, primary_ctx_id(dev));
            allocs_remove_owner(&s->mem, primary_ctx_id(dev));
        }
        return;
    }
    if (!destroys(dc)) return;
    handles_kill(s->h, dc->ids[0]);
    allocs_remove_owner(&s->mem, dc->ids[0]);
}

/* cuPointerGetAttribute(s) (rpc/custom_ptr_attr.c): handles in the values become ids. */
static void pointer_value(struct session *s, uint64_t attr, void *value)
{
    uint64_t id = 0;
    void *real;
    if (!value || (attr != CU_POINTER_ATTRIBUTE_CONTEXT && attr != CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE))
        return;
    memcpy(&real, value, sizeof real);
    if (real && attr == CU_POINTER_ATTRIBUTE_CONTEXT)
        id = handles_find_real(s->h, RPC_H_CONTEXT, real);
    else if (real)
        id = handles_mint(s->h, RPC_H_MEMPOOL, real, 0);
    memcpy(value, &id, sizeof id);
}

static void pointer_attr(struct session *s, struct rpc_decoded *dc)
{
    if (is_base(dc, "cuPointerGetAttribute")) {
        pointer_value(s, arg_u64(dc, 1), dc->ptrval[0]);
    } else if (is_base(dc, "cuPointerGetAttributes") && dc->ptrval[1] && dc->ptrval[2]) {
        const CUpointer_attribute *attrs = dc->ptrval[1];
        void **data = dc->ptrval[2];
        for (size_t i = 0; i < dc->lens[2]; i++) pointer_value(s, attrs[i], data[i]);
    }
}

void post_process(struct session *s, struct call *cl, struct rpc_decoded *dc)
{
    pointer_attr(s, dc);
    for (int i = 0; i < dc->desc->nargs; i++) {
        unsigned k = dc->desc->args[i].kind;
        if (k == RPC_ARG_OUT_HANDLE && dc->ptrval[i]) new_handle(s, cl, dc, i);
        else if (k == RPC_ARG_HANDLE_ARRAY_OUT) new_handle_array(s, cl, dc, i);
    }
    track_memory(s, cl, dc);
    track_lifetimes(s, dc);
    ipc_post(s, dc); /* IPC: closes of imports, frees of exports */
}
