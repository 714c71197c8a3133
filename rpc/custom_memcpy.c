/* custom_memcpy.c — 2D and 3D copies (cuMemcpy2D*, cuMemcpy3D*): the struct's
 * host sides become raw bytes (the span from the first to the last row, sent
 * with the call or returned in the reply and written back row by row, so the
 * gaps between rows in the application's memory are never touched); device
 * sides keep their addresses for the worker's range checks; arrays are not
 * supported. The worker rebuilds the struct around its own buffers. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "batch_wire.h"
#include "custom.h"

struct side {
    uint32_t type;
    uint64_t x, y, z, pitch, height, dev;
    const void *host; /* client only */
};

struct copy {
    struct side s[2]; /* source, destination */
    uint64_t w, h, d;
};

static int is3d(const struct rpc_call_desc *d)
{
    return !strncmp(d->base, "cuMemcpy3D", 10);
}

static void from2d(const CUDA_MEMCPY2D *m, struct copy *c)
{
    c->s[0] = (struct side){m->srcMemoryType, m->srcXInBytes, m->srcY, 0, m->srcPitch, 0,
                            m->srcDevice, m->srcHost};
    c->s[1] = (struct side){m->dstMemoryType, m->dstXInBytes, m->dstY, 0, m->dstPitch, 0,
                            m->dstDevice, m->dstHost};
    c->w = m->WidthInBytes, c->h = m->Height, c->d = 1;
}

static void from3d(const CUDA_MEMCPY3D *m, struct copy *c)
{
    c->s[0] = (struct side){m->srcMemoryType, m->srcXInBytes, m->srcY, m->srcZ, m->srcPitch,
                            m->srcHeight, m->srcDevice, m->srcHost};
    c->s[1] = (struct side){m->dstMemoryType, m->dstXInBytes, m->dstY, m->dstZ, m->dstPitch,
                            m->dstHeight, m->dstDevice, m->dstHost};
    c->w = m->WidthInBytes, c->h = m->Height, c->d = m->Depth;
}

/* Offset of row (yy, zz) of a side, relative to its base. -1 on overflow. */
static int row_off(const struct side *s, uint64_t yy, uint64_t zz, uint64_t *off)
{
    uint64_t slab, row;
    if (__builtin_mul_overflow(s->z + zz, s->height, &slab) ||
        __builtin_add_overflow(slab, s->y + yy, &row) || __builtin_mul_overflow(row, s->pitch, &row) ||
        __builtin_add_overflow(row, s->x, off))
        return -1;
    return 0;
}

/* Bytes from the first row's start to the last row's end of a host side, and
 * the first row's offset. Returns 0 or a CUresult. */
static int span(const struct copy *c, const struct side *s, uint64_t *first, uint64_t *len)
{
    uint64_t last;
    *first = *len = 0;
    if (!c->w || !c->h || !c->d) return 0;
    if ((c->h > 1 || c->d > 1) && s->pitch < c->w) return RPC_CU_INVALID_VALUE;
    if (c->d > 1 && s->height < c->h) return RPC_CU_INVALID_VALUE;
    if (row_off(s, 0, 0, first) || row_off(s, c->h - 1, c->d - 1, &last)) return RPC_CU_INVALID_VALUE;
    if (__builtin_add_overflow(last - *first, c->w, len) || *len > RPC_MAX_CALL_BYTES)
        return RPC_CU_INVALID_VALUE;
    return 0;
}

static int side_type_ok(uint32_t t)
{
    if (t == CU_MEMORYTYPE_ARRAY) return RPC_CU_NOT_SUPPORTED;
    return t == CU_MEMORYTYPE_HOST || t == CU_MEMORYTYPE_DEVICE || t == CU_MEMORYTYPE_UNIFIED
               ? 0
               : RPC_CU_INVALID_VALUE;
}

static void put_copy(struct rpc_wbuf *w, const struct copy *c, const uint64_t spans[2])
{
    for (int k = 0; k < 2; k++) {
        const struct side *s = &c->s[k];
        rpc_put_u32(w, s->type);
        rpc_put_u64(w, s->x), rpc_put_u64(w, s->y), rpc_put_u64(w, s->z);
        rpc_put_u64(w, s->pitch), rpc_put_u64(w, s->height), rpc_put_u64(w, s->dev);
        rpc_put_u64(w, spans[k]);
    }
    rpc_put_u64(w, c->w), rpc_put_u64(w, c->h), rpc_put_u64(w, c->d);
}

/* ---- client ------------------------------------------------------------------- */

static int read_app_copy(const struct rpc_call_desc *d, void *const *args, struct copy *c)
{
    const void *p = *(const void *const *)args[0];
    int rc;
    if (!p) return RPC_CU_INVALID_VALUE;
    if (is3d(d))
        from3d(p, c);
    else
        from2d(p, c);
    for (int k = 0; k < 2; k++)
        if ((rc = side_type_ok(c->s[k].type))) return rc;
    return 0;
}

static int memcpy_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                         struct iovec *raw, int *nraw)
{
    struct copy c;
    uint64_t first[2] = {0, 0}, spans[2] = {0, 0};
    int rc, max = *nraw;
    *nraw = 0;
    if ((rc = read_app_copy(d, args, &c))) return rc;
    for (int k = 0; k < 2; k++)
        if (c.s[k].type == CU_MEMORYTYPE_HOST) {
            if ((rc = span(&c, &c.s[k], &first[k], &spans[k]))) return rc;
            /* read (source) or written back (destination) here: the application's memory */
            uint64_t at = (uint64_t)(uintptr_t)c.s[k].host + first[k];
            if (spans[k] && (!c.s[k].host || !rpc_client_host_ok(at, spans[k])))
                return RPC_CU_INVALID_VALUE;
        }
    put_copy(w, &c, spans);
    for (unsigned i = 1; i < d->nargs; i++) rpc_enc_simple(w, &d->args[i], args[i]);
    if (spans[0]) {
        if (max < 1) return -1;
        raw[0].iov_base = (char *)c.s[0].host + first[0];
        raw[0].iov_len = (size_t)spans[0];
        *nraw = 1;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* Writes the returned span back into the application's rows. */
static int memcpy_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                               const void *raw, size_t raw_len, uint32_t *result)
{
    struct copy c;
    uint64_t first = 0, len = 0, off = 0;
    uint32_t res = rpc_get_u32(r);
    if (!rpc_rbuf_done(r)) return -1;
    *result = res;
    if (res) return raw_len ? -1 : 0;
    if (read_app_copy(d, args, &c)) return raw_len ? -1 : 0;
    if (c.s[1].type == CU_MEMORYTYPE_HOST && span(&c, &c.s[1], &first, &len)) return -1;
    if (c.s[1].type != CU_MEMORYTYPE_HOST || len != raw_len) return raw_len ? -1 : 0;
    for (uint64_t z = 0; z < c.d; z++)
        for (uint64_t y = 0; y < c.h; y++) {
            if (row_off(&c.s[1], y, z, &off) || off < first || off - first + c.w > len) return -1;
            memcpy((char *)c.s[1].host + off, (const char *)raw + (off - first), (size_t)c.w);
        }
    return 0;
}

/* ---- worker ------------------------------------------------------------------- */

struct mc_scratch {
    void *dst;        /* host-side destination span (below) or NULL */
    uint64_t dst_len;
    union {
        CUDA_MEMCPY2D m2;
        CUDA_MEMCPY3D m3;
    } u;
};

static int get_copy(struct rpc_rbuf *r, struct copy *c, uint64_t spans[2])
{
    for (int k = 0; k < 2; k++) {
        struct side *s = &c->s[k];
        s->type = rpc_get_u32(r);
        s->x = rpc_get_u64(r), s->y = rpc_get_u64(r), s->z = rpc_get_u64(r);
        s->pitch = rpc_get_u64(r), s->height = rpc_get_u64(r), s->dev = rpc_get_u64(r);
        spans[k] = rpc_get_u64(r);
        s->host = NULL;
    }
    c->w = rpc_get_u64(r), c->h = rpc_get_u64(r), c->d = rpc_get_u64(r);
    return rpc_rbuf_ok(r) ? 0 : -1;
}

/* Host sides: the span must be the one the geometry gives; it then starts at 0. */
static int check_sides(struct copy *c, const uint64_t spans[2], size_t raw_len)
{
    int rc;
    for (int k = 0; k < 2; k++) {
        uint64_t first, len;
        if ((rc = side_type_ok(c->s[k].type))) return rc;
        if (c->s[k].type != CU_MEMORYTYPE_HOST) {
            if (spans[k]) return -1;
            continue;
        }
        if ((rc = span(c, &c->s[k], &first, &len))) return rc;
        if (len != spans[k]) return -1;
        c->s[k].y = c->s[k].z = 0;
        c->s[k].x = 0;
    }
    return spans[0] == raw_len ? 0 : -1;
}

static void fill2d(CUDA_MEMCPY2D *m, const struct copy *c, const void *src, void *dst)
{
    memset(m, 0, sizeof *m);
    m->srcMemoryType = c->s[0].type, m->srcXInBytes = c->s[0].x, m->srcY = c->s[0].y;
    m->srcHost = src, m->srcDevice = c->s[0].dev, m->srcPitch = c->s[0].pitch;
    m->dstMemoryType = c->s[1].type, m->dstXInBytes = c->s[1].x, m->dstY = c->s[1].y;
    m->dstHost = dst, m->dstDevice = c->s[1].dev, m->dstPitch = c->s[1].pitch;
    m->WidthInBytes = c->w, m->Height = c->h;
}

static void fill3d(CUDA_MEMCPY3D *m, const struct copy *c, const void *src, void *dst)
{
    memset(m, 0, sizeof *m);
    m->srcMemoryType = c->s[0].type, m->srcXInBytes = c->s[0].x, m->srcY = c->s[0].y;
    m->srcZ = c->s[0].z, m->srcHost = src, m->srcDevice = c->s[0].dev;
    m->srcPitch = c->s[0].pitch, m->srcHeight = c->s[0].height;
    m->dstMemoryType = c->s[1].type, m->dstXInBytes = c->s[1].x, m->dstY = c->s[1].y;
    m->dstZ = c->s[1].z, m->dstHost = dst, m->dstDevice = c->s[1].dev;
    m->dstPitch = c->s[1].pitch, m->dstHeight = c->s[1].height;
    m->WidthInBytes = c->w, m->Height = c->h, m->Depth = c->d;
}

static int memcpy_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                         size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct copy c;
    uint64_t spans[2];
    int cu = 0, rc;
    if (get_copy(r, &c, spans)) return -1;
    for (unsigned i = 1; i < d->nargs; i++)
        if (rpc_dec_simple(d, i, r, h, out, &cu)) return -1;
    if (!rpc_rbuf_done(r)) return -1;
    if ((rc = check_sides(&c, spans, raw_len))) return rc;
    if (cu) return cu;
    struct mc_scratch *sc = calloc(1, sizeof *sc + (size_t)spans[1] + 16);
    if (!sc) return RPC_CU_OUT_OF_MEMORY;
    sc->dst = spans[1] ? (void *)(sc + 1) : NULL;
    sc->dst_len = spans[1];
    const void *src = c.s[0].type == CU_MEMORYTYPE_HOST ? raw : NULL;
    if (is3d(d))
        fill3d(&sc->u.m3, &c, src, sc->dst);
    else
        fill2d(&sc->u.m2, &c, src, sc->dst);
    out->scratch = sc;
    out->ptrval[0] = &sc->u;
    out->avalues[0] = &out->ptrval[0];
    return 0;
}

static int memcpy_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                               struct iovec *raw, int *nraw)
{
    const struct mc_scratch *sc = dc->scratch;
    int max = *nraw;
    *nraw = 0;
    rpc_put_u32(w, result);
    if (result == 0 && sc && sc->dst_len) {
        if (max < 1) return -1;
        raw[0].iov_base = sc->dst;
        raw[0].iov_len = (size_t)sc->dst_len;
        *nraw = 1;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_memcpy2d = {
    "memcpy2d", memcpy_encode, memcpy_decode_reply, memcpy_decode, memcpy_encode_reply,
};
const struct rpc_custom rpc_custom_memcpy3d = {
    "memcpy3d", memcpy_encode, memcpy_decode_reply, memcpy_decode, memcpy_encode_reply,
};
