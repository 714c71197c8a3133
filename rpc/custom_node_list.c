/* custom_node_list.c — graph topology queries whose array capacity is an
 * in/out count behind a pointer (cuGraphGetNodes, cuGraphGetRootNodes,
 * cuGraphGetEdges[_v2], cuGraphNodeGetDependencies[_v2],
 * cuGraphNodeGetDependentNodes[_v2]): (handle, arrays..., size_t *count).
 * Node arrays are HANDLE_ARRAY_OUT in the descriptor (the `[1]` length there
 * is a placeholder: the capacity is *count), so the worker turns the driver's
 * nodes into the session's ids in place; CUgraphEdgeData arrays travel as
 * bytes. The capacity sent to the driver is at most NODE_LIST_MAX (so a reply
 * fits one frame's encoded part); only the entries the driver filled return.
 *
 * Wire: call = u64 handle id, per array u8 present, u8 count present + u64
 * capacity; reply = u32 result [+ u64 count + per present array
 * min(capacity, count) entries (u64 ids, or edge data bytes)]. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"

#define NODE_LIST_MAX 16384u

static int shape_ok(const struct rpc_call_desc *d)
{
    if (d->nargs < 3 || d->nargs > 5 || d->args[0].kind != RPC_ARG_HANDLE) return 0;
    if (d->args[d->nargs - 1].size != sizeof(size_t)) return 0;
    for (unsigned i = 1; i + 1 < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind == RPC_ARG_HANDLE_ARRAY_OUT ? a->size != 8
                                                : a->size != sizeof(CUgraphEdgeData))
            return 0;
    }
    return 1;
}

/* Bytes per entry on the wire and in the driver's array. */
static size_t entry_size(const struct rpc_arg_desc *a)
{
    return a->kind == RPC_ARG_HANDLE_ARRAY_OUT ? 8 : sizeof(CUgraphEdgeData);
}

/* ---- client ----------------------------------------------------------------------- */

static int nl_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (!shape_ok(d)) return RPC_CU_NOT_SUPPORTED;
    rpc_enc_simple(w, &d->args[0], args[0]);
    for (unsigned i = 1; i + 1 < d->nargs; i++) rpc_put_u8(w, *(void *const *)args[i] != NULL);
    const size_t *count = *(void *const *)args[d->nargs - 1];
    size_t cap = count ? *count : 0;
    rpc_put_u8(w, count != NULL);
    rpc_put_u64(w, cap > NODE_LIST_MAX ? NODE_LIST_MAX : cap);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int nl_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    if (raw_len || !shape_ok(d)) return -1;
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    if (*result) return rpc_rbuf_done(r) ? 0 : -1;
    size_t *count = *(void *const *)args[d->nargs - 1];
    uint64_t n = rpc_get_u64(r), cap = count ? *count : 0;
    if (cap > NODE_LIST_MAX) cap = NODE_LIST_MAX;
    uint64_t filled = n < cap ? n : cap;
    for (unsigned i = 1; i + 1 < d->nargs; i++) {
        uint8_t *p = *(void *const *)args[i];
        if (!p || !count) continue;
        const struct rpc_arg_desc *a = &d->args[i];
        for (uint64_t j = 0; j < filled && rpc_rbuf_ok(r); j++) {
            if (a->kind == RPC_ARG_HANDLE_ARRAY_OUT) {
                uint64_t id = rpc_get_u64(r);
                memcpy(p + j * 8, &id, 8);
            } else {
                rpc_get_bytes(r, p + j * entry_size(a), entry_size(a));
            }
        }
    }
    if (!rpc_rbuf_done(r)) return -1;
    for (unsigned i = 1; count && n < cap && i + 1 < d->nargs; i++) { /* as the driver: */
        uint8_t *p = *(void *const *)args[i];                     /* unused entries NULL */
        size_t es = entry_size(&d->args[i]);
        if (p) memset(p + (size_t)n * es, 0, (size_t)(cap - n) * es);
    }
    if (count) *count = (size_t)n;
    return 0;
}

/* ---- worker ----------------------------------------------------------------------- */

static int nl_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    uint8_t present[RPC_MAX_ARGS] = {0};
    int cu = 0;
    if (raw_len || !shape_ok(d)) return -1;
    if (rpc_dec_simple(d, 0, r, h, out, &cu)) return -1;
    unsigned last = d->nargs - 1;
    for (unsigned i = 1; i <= last; i++)
        if ((present[i] = rpc_get_u8(r)) > 1) return -1;
    uint64_t cap = rpc_get_u64(r);
    if (!rpc_rbuf_done(r) || cap > NODE_LIST_MAX) return -1;
    if (cu) return cu;
    size_t need = 16;
    for (unsigned i = 1; i < last; i++)
        if (present[i]) need += ((size_t)cap * entry_size(&d->args[i]) + 15) & ~(size_t)15;
    uint8_t *sp = calloc(1, need);
    if (!sp) return RPC_CU_OUT_OF_MEMORY;
    out->scratch = sp;
    size_t *count = (size_t *)sp;
    *count = (size_t)cap;
    sp += 16;
    for (unsigned i = 1; i <= last; i++) {
        out->avalues[i] = &out->ptrval[i];
        out->ptrval[i] = NULL;
        if (!present[i]) continue;
        if (i == last) {
            out->ptrval[i] = count;
            continue;
        }
        out->ptrval[i] = sp;
        out->lens[i] = (size_t)cap; /* the worker maps this many node entries to ids */
        sp += ((size_t)cap * entry_size(&d->args[i]) + 15) & ~(size_t)15;
    }
    return 0;
}

static int nl_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                           struct iovec *raw, int *nraw)
{
    const struct rpc_call_desc *d = dc->desc;
    *nraw = 0;
    (void)raw;
    rpc_put_u32(w, result);
    if (result) return rpc_wbuf_ok(w) ? 0 : -1;
    unsigned last = d->nargs - 1;
    uint64_t n = dc->ptrval[last] ? *(const size_t *)dc->ptrval[last] : 0;
    rpc_put_u64(w, n);
    for (unsigned i = 1; i < last; i++) {
        const uint8_t *p = dc->ptrval[i];
        if (!p || !dc->ptrval[last]) continue;
        uint64_t filled = n < dc->lens[i] ? n : dc->lens[i];
        rpc_put_bytes(w, p, (size_t)filled * entry_size(&d->args[i])); /* ids are u64 LE */
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_node_list = {
    "node_list", nl_encode, nl_decode_reply, nl_decode, nl_encode_reply,
};
