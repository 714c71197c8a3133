/* ranges.c — device ranges inside structs and arrays, checked before the
 * backend runs the call (ranges.h). A 2D/3D copy side names the bytes from its
 * first row's start to its last row's end; device and unified sides are
 * checked (a unified side must be the session's device memory here: a client
 * host address means nothing in the worker). */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <string.h>

#include "batch_wire.h"
#include "log.h"
#include "ranges.h"
#include "session.h"

static int type_is(const struct rpc_arg_desc *a, const char *t)
{
    return a->ctype && strstr(a->ctype, t) != NULL;
}

static int range_ok(struct session *s, const char *call, const char *what, uint64_t p, uint64_t n)
{
    if (!n || allocs_contains(&s->mem, p, n)) return 1;
    srv_debug("%s: %s [%#llx, +%llu) is not the session's device memory", call, what,
              (unsigned long long)p, (unsigned long long)n);
    return 0;
}

/* One side of a copy: rows of w bytes, h rows per slab, d slabs, starting at
 * (x, y, z) with the given pitch and slab height. 0 if it is not device memory. */
struct side {
    CUmemorytype type;
    uint64_t dev, x, y, z, pitch, height;
};

static int side_ok(struct session *s, const char *call, const struct side *sd, uint64_t w,
                   uint64_t h, uint64_t d)
{
    uint64_t first, last, slab, n;
    if (sd->type != CU_MEMORYTYPE_DEVICE && sd->type != CU_MEMORYTYPE_UNIFIED) return 1;
    if (!w || !h || !d) return 1;
    if (__builtin_mul_overflow(sd->z, sd->height, &slab) || __builtin_add_overflow(slab, sd->y, &first) ||
        __builtin_mul_overflow(first, sd->pitch, &first) || __builtin_add_overflow(first, sd->x, &first))
        return 0;
    if (__builtin_add_overflow(sd->z, d - 1, &slab) || __builtin_mul_overflow(slab, sd->height, &slab) ||
        __builtin_add_overflow(slab, sd->y + h - 1, &last) || __builtin_mul_overflow(last, sd->pitch, &last) ||
        __builtin_add_overflow(last, sd->x, &last) || __builtin_add_overflow(last - first, w, &n) ||
        __builtin_add_overflow(sd->dev, first, &first))
        return 0;
    return range_ok(s, call, "a copy's device side", first, n);
}

static int copy2d_ok(struct session *s, const char *call, const CUDA_MEMCPY2D *m)
{
    struct side a = {m->srcMemoryType, m->srcDevice, m->srcXInBytes, m->srcY, 0, m->srcPitch, 0};
    struct side b = {m->dstMemoryType, m->dstDevice, m->dstXInBytes, m->dstY, 0, m->dstPitch, 0};
    return side_ok(s, call, &a, m->WidthInBytes, m->Height, 1) &&
           side_ok(s, call, &b, m->WidthInBytes, m->Height, 1);
}

static int copy3d_ok(struct session *s, const char *call, const CUDA_MEMCPY3D *m)
{
    struct side a = {m->srcMemoryType, m->srcDevice, m->srcXInBytes, m->srcY, m->srcZ,
                     m->srcPitch, m->srcHeight};
    struct side b = {m->dstMemoryType, m->dstDevice, m->dstXInBytes, m->dstY, m->dstZ,
                     m->dstPitch, m->dstHeight};
    return side_ok(s, call, &a, m->WidthInBytes, m->Height, m->Depth) &&
           side_ok(s, call, &b, m->WidthInBytes, m->Height, m->Depth);
}

static int memset_ok(struct session *s, const char *call, const CUDA_MEMSET_NODE_PARAMS *m)
{
    uint64_t row, n;
    if (!m->width || !m->height) return 1;
    if (__builtin_mul_overflow(m->width, (uint64_t)m->elementSize, &row) ||
        __builtin_mul_overflow(m->pitch, m->height - 1, &n) || __builtin_add_overflow(n, row, &n))
        return 0;
    return range_ok(s, call, "a memset's destination", m->dst, n);
}

/* Arrays of (pointer, size) pairs: the batch prefetch / discard calls. */
static int pairs_ok(struct session *s, const struct rpc_decoded *dc)
{
    const uint64_t *p = dc->ptrval[0];
    const size_t *n = dc->ptrval[1];
    size_t count = dc->lens[0] / sizeof *p; /* buffer lengths are bytes */
    if (dc->lens[1] / sizeof *n < count) count = dc->lens[1] / sizeof *n;
    for (size_t i = 0; p && n && i < count; i++)
        if (!range_ok(s, dc->desc->name, "an entry", p[i], n[i] ? n[i] : 1)) return 0;
    return 1;
}

static int structs_ok(struct session *s, const struct rpc_decoded *dc)
{
    const struct rpc_call_desc *d = dc->desc;
    if (!(srv_traits(d) & SV_RANGES_OWN)) goto buffers;
    if (d->custom && !strcmp(d->custom, "memcpy2d") && dc->ptrval[0])
        return copy2d_ok(s, d->name, dc->ptrval[0]);
    if (d->custom && !strcmp(d->custom, "memcpy3d") && dc->ptrval[0])
        return copy3d_ok(s, d->name, dc->ptrval[0]);
buffers:
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        const void *v = dc->ptrval[i];
        if (a->kind != RPC_ARG_IN_BUF || !v) continue;
        if (type_is(a, "CUDA_MEMCPY3D") && !type_is(a, "PEER") && dc->lens[i] >= sizeof(CUDA_MEMCPY3D)) {
            if (!copy3d_ok(s, d->name, v)) return 0;
        } else if (type_is(a, "CUDA_MEMSET_NODE_PARAMS") &&
                   dc->lens[i] >= sizeof(CUDA_MEMSET_NODE_PARAMS)) {
            if (!memset_ok(s, d->name, v)) return 0;
        }
    }
    return 1;
}

/* Batch copies: their marshaller lists the device sides (rpc/batch_wire.h). */
static int batch_ok(struct session *s, const struct rpc_decoded *dc)
{
    const struct rpc_batch_scratch *b = dc->scratch;
    for (size_t i = 0; b && i < b->nranges; i++)
        if (!range_ok(s, dc->desc->name, "a copy's device side", b->ranges[i].addr, b->ranges[i].len))
            return 0;
    return 1;
}

int ranges_inner_check(struct session *s, const struct rpc_decoded *dc)
{
    const char *b = dc->desc->base, *c = dc->desc->custom;
    int ok;
    if (!(srv_traits(dc->desc) & SV_RANGES_OWN))
        ok = structs_ok(s, dc);
    else if (!strcmp(b, "cuMemPrefetchBatchAsync") || !strcmp(b, "cuMemDiscardBatchAsync") ||
        !strcmp(b, "cuMemDiscardAndPrefetchBatchAsync"))
        ok = pairs_ok(s, dc);
    else if (c && (!strcmp(c, "batch") || !strcmp(c, "batch3d")))
        ok = batch_ok(s, dc);
    else if (c && !strcmp(c, "range_attr")) /* (..., devPtr, count) */
        ok = range_ok(s, dc->desc->name, "the range", dc->val[4].u64, dc->val[5].u64 ? dc->val[5].u64 : 1);
    else
        ok = structs_ok(s, dc);
    return ok ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
