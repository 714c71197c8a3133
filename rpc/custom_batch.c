/* custom_batch.c — batches of copies: cuMemcpyBatchAsync (1D: arrays of
 * destinations, sources and sizes, with attributes) and cuMemcpy3DBatchAsync
 * (CUDA_MEMCPY3D_BATCH_OP between pointers), both in their _v2 form and the
 * older one with failIdx. As for the 1D copies, a side outside the client's
 * device window is host memory: a source's bytes travel with the call, a
 * destination's come back in the reply (3D: the span from the first row to the
 * last, written back row by row). Device sides keep their addresses; the
 * worker checks every one against the session's allocations (server/ranges.c,
 * through struct rpc_batch_scratch). CUDA arrays are not supported.
 *
 * 1D wire: u64 n, n x (u8 kind, u64 dst, u64 src, u64 size), u64 nattrs,
 * nattrs x attribute, nattrs x u64 index, [u8 failIdx wanted], stream.
 * 3D wire: u64 n, n x op, [u8 failIdx wanted], u64 flags, stream.
 * Reply: u32 result, [u64 failIdx], raw: the host destinations' bytes. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "batch_wire.h"
#include "custom.h"

/* Without the shim every address is taken for device memory. */
__attribute__((weak)) int rpc_client_is_device(uint64_t p)
{
    (void)p;
    return 1;
}

__attribute__((weak)) int rpc_client_host_ok(uint64_t p, uint64_t len)
{
    return p || !len;
}

/* The host sources' bytes, gathered per thread (the call is sent before the
 * thread encodes another). */
static __thread struct {
    unsigned char *p;
    size_t cap;
} gather;

static unsigned char *gather_room(size_t n)
{
    if (n > gather.cap) {
        unsigned char *p = realloc(gather.p, n);
        if (!p) return NULL;
        gather.p = p;
        gather.cap = n;
    }
    return gather.p;
}

static void put_loc(struct rpc_wbuf *w, CUmemLocation l)
{
    rpc_put_u32(w, (uint32_t)l.type);
    rpc_put_u32(w, (uint32_t)l.id);
}

static CUmemLocation get_loc(struct rpc_rbuf *r)
{
    CUmemLocation l;
    l.type = (CUmemLocationType)rpc_get_u32(r);
    l.id = (int)rpc_get_u32(r);
    return l;
}

/* Bump allocation inside one scratch block (freed whole by rpc_decoded_free). */
struct carve {
    unsigned char *p;
    size_t used, cap;
};

static void *take(struct carve *c, size_t n)
{
    size_t at = (c->used + 15) & ~(size_t)15;
    if (at > c->cap || n > c->cap - at) return NULL;
    c->used = at + n;
    return c->p + at;
}

static int add_bytes(uint64_t *total, uint64_t n)
{
    return __builtin_add_overflow(*total, n, total) || *total > RPC_MAX_CALL_BYTES;
}

/* What a decoded batch keeps for its reply (both forms). */
struct batch_scratch {
    struct rpc_batch_scratch hdr; /* first: server/ranges.c reads it */
    size_t fail;
    int want_fail;
    unsigned char *out;
    size_t out_len;
};

static int batch_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                              struct iovec *raw, int *nraw)
{
    const struct batch_scratch *sc = dc->scratch;
    int max = *nraw;
    *nraw = 0;
    rpc_put_u32(w, result);
    if (sc && sc->want_fail) rpc_put_u64(w, sc->fail);
    if (result == 0 && sc && sc->out_len) {
        if (max < 1) return -1;
        raw[0] = (struct iovec){sc->out, sc->out_len};
        *nraw = 1;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* ==== 1D ============================================================================ */

static int b1_v1(const struct rpc_call_desc *d)
{
    return d->nargs == 9; /* ..., numAttrs, failIdx, hStream */
}

struct b1_args {
    CUdeviceptr *dst, *src;
    size_t *size, n, nattrs;
    CUmemcpyAttributes *attrs;
    size_t *idxs, *fail;
};

static void b1_read(const struct rpc_call_desc *d, void *const *args, struct b1_args *a)
{
    a->dst = *(CUdeviceptr *const *)args[0];
    a->src = *(CUdeviceptr *const *)args[1];
    a->size = *(size_t *const *)args[2];
    a->n = *(const size_t *)args[3];
    a->attrs = *(CUmemcpyAttributes *const *)args[4];
    a->idxs = *(size_t *const *)args[5];
    a->nattrs = *(const size_t *)args[6];
    a->fail = b1_v1(d) ? *(size_t *const *)args[7] : NULL;
}

static int b1_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    struct b1_args a;
    uint64_t in = 0, out = 0;
    int max = *nraw;
    *nraw = 0;
    b1_read(d, args, &a);
    if (!a.n || !a.dst || !a.src || !a.size || (a.nattrs && (!a.attrs || !a.idxs)))
        return RPC_CU_INVALID_VALUE;
    if (a.n > RPC_BATCH_MAX || a.nattrs > a.n) return RPC_CU_INVALID_VALUE;
    rpc_put_u64(w, a.n);
    for (size_t i = 0; i < a.n; i++) {
        uint8_t kind = (rpc_client_is_device(a.dst[i]) ? 0 : RPC_BATCH_DST_HOST) |
                       (rpc_client_is_device(a.src[i]) ? 0 : RPC_BATCH_SRC_HOST);
        if (((kind & RPC_BATCH_DST_HOST) && !rpc_client_host_ok(a.dst[i], a.size[i])) ||
            ((kind & RPC_BATCH_SRC_HOST) && !rpc_client_host_ok(a.src[i], a.size[i])))
            return RPC_CU_INVALID_VALUE;
        if (((kind & RPC_BATCH_SRC_HOST) && add_bytes(&in, a.size[i])) ||
            ((kind & RPC_BATCH_DST_HOST) && add_bytes(&out, a.size[i])))
            return RPC_CU_NOT_SUPPORTED; /* more than one call carries */
        rpc_put_u8(w, kind);
        rpc_put_u64(w, kind & RPC_BATCH_DST_HOST ? 0 : a.dst[i]);
        rpc_put_u64(w, kind & RPC_BATCH_SRC_HOST ? 0 : a.src[i]);
        rpc_put_u64(w, a.size[i]);
    }
    rpc_put_u64(w, a.nattrs);
    for (size_t i = 0; i < a.nattrs; i++) {
        rpc_put_u32(w, (uint32_t)a.attrs[i].srcAccessOrder);
        put_loc(w, a.attrs[i].srcLocHint);
        put_loc(w, a.attrs[i].dstLocHint);
        rpc_put_u32(w, a.attrs[i].flags);
    }
    for (size_t i = 0; i < a.nattrs; i++) rpc_put_u64(w, a.idxs[i]);
    if (b1_v1(d)) rpc_put_u8(w, a.fail != NULL);
    rpc_enc_simple(w, &d->args[d->nargs - 1], args[d->nargs - 1]);
    if (in) {
        unsigned char *g = gather_room(in);
        if (!g || max < 1) return g ? -1 : RPC_CU_OUT_OF_MEMORY;
        size_t off = 0;
        for (size_t i = 0; i < a.n; i++)
            if (!rpc_client_is_device(a.src[i]) && a.size[i]) {
                memcpy(g + off, (const void *)(uintptr_t)a.src[i], a.size[i]);
                off += a.size[i];
            }
        raw[0] = (struct iovec){g, in};
        *nraw = 1;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int b1_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    struct b1_args a;
    b1_read(d, args, &a);
    *result = rpc_get_u32(r);
    /* a call refused before it ran has no failIdx in its reply */
    if (a.fail && rpc_rbuf_left(r) >= 8) *a.fail = (size_t)rpc_get_u64(r);
    if (!rpc_rbuf_done(r)) return -1;
    if (*result) return raw_len ? -1 : 0;
    size_t off = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (rpc_client_is_device(a.dst[i]) || !a.size[i]) continue;
        if (a.size[i] > raw_len - off) return -1;
        memcpy((void *)(uintptr_t)a.dst[i], (const char *)raw + off, a.size[i]);
        off += a.size[i];
    }
    return off == raw_len ? 0 : -1;
}

struct b1_entry {
    uint8_t kind;
    uint64_t dst, src, size;
};

static int b1_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    uint64_t n = rpc_get_u64(r), in = 0, outb = 0;
    int cu = 0;
    if (!rpc_rbuf_ok(r) || !n || n > RPC_BATCH_MAX) return -1;
    struct b1_entry *e = calloc(n, sizeof *e);
    if (!e) return RPC_CU_OUT_OF_MEMORY;
    int rc = -1;
    for (uint64_t i = 0; i < n; i++) {
        e[i].kind = rpc_get_u8(r);
        e[i].dst = rpc_get_u64(r), e[i].src = rpc_get_u64(r), e[i].size = rpc_get_u64(r);
        if (e[i].kind > 3 || ((e[i].kind & RPC_BATCH_SRC_HOST) && add_bytes(&in, e[i].size)) ||
            ((e[i].kind & RPC_BATCH_DST_HOST) && add_bytes(&outb, e[i].size)))
            goto done;
    }
    uint64_t na = rpc_get_u64(r);
    if (!rpc_rbuf_ok(r) || na > n || in != raw_len) goto done;
    struct carve c = {NULL, 0, sizeof(struct batch_scratch) + 16 * 8 + n * (3 * 8 + sizeof(struct rpc_batch_range) * 2) +
                               na * (sizeof(CUmemcpyAttributes) + 8) + outb};
    if (!(c.p = calloc(1, c.cap))) {
        rc = RPC_CU_OUT_OF_MEMORY;
        goto done;
    }
    out->scratch = c.p;
    struct batch_scratch *sc = take(&c, sizeof *sc);
    CUdeviceptr *dst = take(&c, n * 8), *src = take(&c, n * 8);
    size_t *size = take(&c, n * 8);
    CUmemcpyAttributes *attrs = take(&c, na * sizeof *attrs);
    size_t *idxs = take(&c, na * 8);
    sc->hdr.ranges = take(&c, n * 2 * sizeof *sc->hdr.ranges);
    sc->out = take(&c, outb);
    sc->out_len = outb;
    for (uint64_t i = 0; i < na; i++) {
        attrs[i].srcAccessOrder = (CUmemcpySrcAccessOrder)rpc_get_u32(r);
        attrs[i].srcLocHint = get_loc(r);
        attrs[i].dstLocHint = get_loc(r);
        attrs[i].flags = rpc_get_u32(r);
    }
    for (uint64_t i = 0; i < na; i++) idxs[i] = (size_t)rpc_get_u64(r);
    sc->want_fail = b1_v1(d) ? rpc_get_u8(r) : 0;
    if (sc->want_fail > 1 || rpc_dec_simple(d, d->nargs - 1, r, h, out, &cu) || !rpc_rbuf_done(r))
        goto done;
    size_t ioff = 0, ooff = 0;
    for (uint64_t i = 0; i < n; i++) {
        size[i] = (size_t)e[i].size;
        if (e[i].kind & RPC_BATCH_SRC_HOST) {
            src[i] = (CUdeviceptr)(uintptr_t)((const char *)raw + ioff);
            ioff += size[i];
        } else {
            src[i] = e[i].src;
            if (size[i]) sc->hdr.ranges[sc->hdr.nranges++] = (struct rpc_batch_range){src[i], size[i]};
        }
        if (e[i].kind & RPC_BATCH_DST_HOST) {
            dst[i] = (CUdeviceptr)(uintptr_t)(sc->out + ooff);
            ooff += size[i];
        } else {
            dst[i] = e[i].dst;
            if (size[i]) sc->hdr.ranges[sc->hdr.nranges++] = (struct rpc_batch_range){dst[i], size[i]};
        }
    }
    sc->fail = SIZE_MAX;
    out->ptrval[0] = dst, out->ptrval[1] = src, out->ptrval[2] = size;
    out->ptrval[4] = na ? attrs : NULL, out->ptrval[5] = na ? idxs : NULL;
    memcpy(out->val[3].bytes, &(size_t){(size_t)n}, sizeof(size_t));
    memcpy(out->val[6].bytes, &(size_t){(size_t)na}, sizeof(size_t));
    for (int i = 0; i < 7; i++)
        out->avalues[i] = (i == 3 || i == 6) ? (void *)out->val[i].bytes : (void *)&out->ptrval[i];
    if (b1_v1(d)) {
        out->ptrval[7] = sc->want_fail ? &sc->fail : NULL;
        out->avalues[7] = &out->ptrval[7];
    }
    rc = cu;
done:
    free(e);
    return rc;
}

const struct rpc_custom rpc_custom_batch = {
    "batch", b1_encode, b1_decode_reply, b1_decode, batch_encode_reply,
};

/* ==== 3D ============================================================================ */

static int b3_v1(const struct rpc_call_desc *d)
{
    return d->nargs == 5; /* numOps, opList, failIdx, flags, hStream */
}

/* Bytes from the first row's start to the last row's end of a pointer operand
 * (rows of rowLength bytes, layers of layerHeight rows; 0: packed). 0 if the
 * layout is one the driver refuses (it then answers for it). */
static uint64_t op_span(const CUmemcpy3DOperand *o, const CUextent3D *e)
{
    uint64_t w = e->width, h = e->height, d = e->depth, n, t;
    uint64_t pitch = o->op.ptr.rowLength ? o->op.ptr.rowLength : w;
    uint64_t height = o->op.ptr.layerHeight ? o->op.ptr.layerHeight : h;
    if (!w || !h || !d || ((h > 1 || d > 1) && pitch < w) || (d > 1 && height < h)) return 0;
    if (__builtin_mul_overflow(pitch, height, &n) || __builtin_mul_overflow(n, d - 1, &n) ||
        __builtin_mul_overflow(pitch, h - 1, &t) || __builtin_add_overflow(n, t, &n) ||
        __builtin_add_overflow(n, w, &n))
        return 0;
    return n;
}

static int is_host_op(const CUmemcpy3DOperand *o)
{
    return o->type == CU_MEMCPY_OPERAND_TYPE_POINTER && !rpc_client_is_device(o->op.ptr.ptr);
}

static void put_operand(struct rpc_wbuf *w, const CUmemcpy3DOperand *o, int host)
{
    rpc_put_u32(w, (uint32_t)o->type);
    rpc_put_u8(w, (uint8_t)host);
    rpc_put_u64(w, host ? 0 : o->op.ptr.ptr);
    rpc_put_u64(w, o->op.ptr.rowLength);
    rpc_put_u64(w, o->op.ptr.layerHeight);
    put_loc(w, o->op.ptr.locHint);
}

static int b3_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    size_t n = *(const size_t *)args[0];
    const CUDA_MEMCPY3D_BATCH_OP *ops = *(CUDA_MEMCPY3D_BATCH_OP *const *)args[1];
    uint64_t in = 0, out = 0;
    int max = *nraw;
    *nraw = 0;
    if (!n || !ops || n > RPC_BATCH_MAX) return RPC_CU_INVALID_VALUE;
    rpc_put_u64(w, n);
    for (size_t i = 0; i < n; i++) {
        const CUDA_MEMCPY3D_BATCH_OP *o = &ops[i];
        if (o->src.type == CU_MEMCPY_OPERAND_TYPE_ARRAY || o->dst.type == CU_MEMCPY_OPERAND_TYPE_ARRAY)
            return RPC_CU_NOT_SUPPORTED; /* array handles are not translated */
        int sh = is_host_op(&o->src), dh = is_host_op(&o->dst);
        if ((sh && add_bytes(&in, op_span(&o->src, &o->extent))) ||
            (dh && add_bytes(&out, op_span(&o->dst, &o->extent))))
            return RPC_CU_NOT_SUPPORTED;
        if ((sh && !rpc_client_host_ok(o->src.op.ptr.ptr, op_span(&o->src, &o->extent))) ||
            (dh && !rpc_client_host_ok(o->dst.op.ptr.ptr, op_span(&o->dst, &o->extent))))
            return RPC_CU_INVALID_VALUE;
        put_operand(w, &o->src, sh);
        put_operand(w, &o->dst, dh);
        rpc_put_u64(w, o->extent.width), rpc_put_u64(w, o->extent.height);
        rpc_put_u64(w, o->extent.depth);
        rpc_put_u32(w, (uint32_t)o->srcAccessOrder);
        rpc_put_u32(w, o->flags);
    }
    if (b3_v1(d)) rpc_put_u8(w, *(size_t *const *)args[2] != NULL);
    rpc_enc_simple(w, &d->args[d->nargs - 2], args[d->nargs - 2]);
    rpc_enc_simple(w, &d->args[d->nargs - 1], args[d->nargs - 1]);
    if (in) {
        unsigned char *g = gather_room(in);
        if (!g || max < 1) return g ? -1 : RPC_CU_OUT_OF_MEMORY;
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
            if (is_host_op(&ops[i].src)) {
                uint64_t s = op_span(&ops[i].src, &ops[i].extent);
                memcpy(g + off, (const void *)(uintptr_t)ops[i].src.op.ptr.ptr, s);
                off += s;
            }
        raw[0] = (struct iovec){g, in};
        *nraw = 1;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* A host destination's span written back row by row (gaps untouched). */
static void write_rows(const CUmemcpy3DOperand *o, const CUextent3D *e, const unsigned char *from)
{
    uint64_t pitch = o->op.ptr.rowLength ? o->op.ptr.rowLength : e->width;
    uint64_t height = o->op.ptr.layerHeight ? o->op.ptr.layerHeight : e->height;
    unsigned char *to = (unsigned char *)(uintptr_t)o->op.ptr.ptr;
    for (uint64_t z = 0; z < e->depth; z++)
        for (uint64_t y = 0; y < e->height; y++) {
            uint64_t off = (z * height + y) * pitch;
            memcpy(to + off, from + off, e->width);
        }
}

static int b3_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                           const void *raw, size_t raw_len, uint32_t *result)
{
    size_t n = *(const size_t *)args[0];
    const CUDA_MEMCPY3D_BATCH_OP *ops = *(CUDA_MEMCPY3D_BATCH_OP *const *)args[1];
    size_t *fail = b3_v1(d) ? *(size_t *const *)args[2] : NULL;
    *result = rpc_get_u32(r);
    if (fail && rpc_rbuf_left(r) >= 8) *fail = (size_t)rpc_get_u64(r);
    if (!rpc_rbuf_done(r)) return -1;
    if (*result) return raw_len ? -1 : 0;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_host_op(&ops[i].dst)) continue;
        uint64_t s = op_span(&ops[i].dst, &ops[i].extent);
        if (s > raw_len - off) return -1;
        write_rows(&ops[i].dst, &ops[i].extent, (const unsigned char *)raw + off);
        off += s;
    }
    return off == raw_len ? 0 : -1;
}

/* One operand from the wire; a host side gets its span's place (host_at). */
static int get_operand(struct rpc_rbuf *r, CUmemcpy3DOperand *o, int *host)
{
    memset(o, 0, sizeof *o);
    o->type = (CUmemcpy3DOperandType)rpc_get_u32(r);
    *host = rpc_get_u8(r);
    o->op.ptr.ptr = rpc_get_u64(r);
    o->op.ptr.rowLength = (size_t)rpc_get_u64(r);
    o->op.ptr.layerHeight = (size_t)rpc_get_u64(r);
    o->op.ptr.locHint = get_loc(r);
    if (o->type == CU_MEMCPY_OPERAND_TYPE_ARRAY) return RPC_CU_NOT_SUPPORTED;
    return rpc_rbuf_ok(r) && *host <= 1 ? 0 : -1;
}

static int b3_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                     size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    uint64_t n = rpc_get_u64(r), in = 0, outb = 0;
    int cu = 0, rc = -1;
    if (!rpc_rbuf_ok(r) || !n || n > RPC_BATCH_MAX) return -1;
    CUDA_MEMCPY3D_BATCH_OP *tmp = calloc(n, sizeof *tmp);
    unsigned char *hostf = calloc(n, 2);
    if (!tmp || !hostf) {
        rc = RPC_CU_OUT_OF_MEMORY;
        goto done;
    }
    for (uint64_t i = 0; i < n; i++) {
        int sh, dh;
        if ((rc = get_operand(r, &tmp[i].src, &sh)) || (rc = get_operand(r, &tmp[i].dst, &dh)))
            goto done;
        rc = -1;
        tmp[i].extent.width = (size_t)rpc_get_u64(r);
        tmp[i].extent.height = (size_t)rpc_get_u64(r);
        tmp[i].extent.depth = (size_t)rpc_get_u64(r);
        tmp[i].srcAccessOrder = (CUmemcpySrcAccessOrder)rpc_get_u32(r);
        tmp[i].flags = rpc_get_u32(r);
        hostf[2 * i] = (unsigned char)sh, hostf[2 * i + 1] = (unsigned char)dh;
        if ((sh && add_bytes(&in, op_span(&tmp[i].src, &tmp[i].extent))) ||
            (dh && add_bytes(&outb, op_span(&tmp[i].dst, &tmp[i].extent))))
            goto done;
    }
    int want = b3_v1(d) ? rpc_get_u8(r) : 0;
    if (want > 1 || in != raw_len) goto done;
    if (rpc_dec_simple(d, d->nargs - 2, r, h, out, &cu) ||
        rpc_dec_simple(d, d->nargs - 1, r, h, out, &cu) || !rpc_rbuf_done(r))
        goto done;
    struct carve c = {NULL, 0, sizeof(struct batch_scratch) + 64 +
                               n * (sizeof(CUDA_MEMCPY3D_BATCH_OP) + 2 * sizeof(struct rpc_batch_range)) + outb};
    if (!(c.p = calloc(1, c.cap))) {
        rc = RPC_CU_OUT_OF_MEMORY;
        goto done;
    }
    out->scratch = c.p;
    struct batch_scratch *sc = take(&c, sizeof *sc);
    CUDA_MEMCPY3D_BATCH_OP *ops = take(&c, n * sizeof *ops);
    sc->hdr.ranges = take(&c, n * 2 * sizeof *sc->hdr.ranges);
    sc->out = take(&c, outb);
    sc->out_len = outb;
    sc->want_fail = want;
    memcpy(ops, tmp, n * sizeof *ops);
    size_t ioff = 0, ooff = 0;
    for (uint64_t i = 0; i < n; i++) {
        CUDA_MEMCPY3D_BATCH_OP *o = &ops[i];
        uint64_t ss = op_span(&o->src, &o->extent), ds = op_span(&o->dst, &o->extent);
        if (hostf[2 * i]) {
            o->src.op.ptr.ptr = (CUdeviceptr)(uintptr_t)((const char *)raw + ioff);
            ioff += ss;
        } else if (o->src.type == CU_MEMCPY_OPERAND_TYPE_POINTER && ss) {
            sc->hdr.ranges[sc->hdr.nranges++] = (struct rpc_batch_range){o->src.op.ptr.ptr, ss};
        }
        if (hostf[2 * i + 1]) {
            o->dst.op.ptr.ptr = (CUdeviceptr)(uintptr_t)(sc->out + ooff);
            ooff += ds;
        } else if (o->dst.type == CU_MEMCPY_OPERAND_TYPE_POINTER && ds) {
            sc->hdr.ranges[sc->hdr.nranges++] = (struct rpc_batch_range){o->dst.op.ptr.ptr, ds};
        }
    }
    sc->fail = SIZE_MAX;
    memcpy(out->val[0].bytes, &(size_t){(size_t)n}, sizeof(size_t));
    out->avalues[0] = out->val[0].bytes;
    out->ptrval[1] = ops;
    out->avalues[1] = &out->ptrval[1];
    if (b3_v1(d)) {
        out->ptrval[2] = sc->want_fail ? &sc->fail : NULL;
        out->avalues[2] = &out->ptrval[2];
    }
    rc = cu;
done:
    free(tmp);
    free(hostf);
    return rc;
}

const struct rpc_custom rpc_custom_batch3d = {
    "batch3d", b3_encode, b3_decode_reply, b3_decode, batch_encode_reply,
};
