/* memcpy.c — every cuMemcpy* form (1D, 2D, 3D, peer; sync, async, _ptds,
 * _ptsz). Both sides are validated before anything is touched: device sides
 * against the allocation table, host sides against the mapped address space.
 * A copy is an op on the stream; synchronous forms wait for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

#define ANY_DEV (SIM_MEM_DEVICE | SIM_MEM_HOST | SIM_MEM_REGISTERED | SIM_MEM_MANAGED | SIM_MEM_VMM)
#define STAGE_MAX                                                                                  \
    (1u << 20) /* pageable async HtoD copies up to this are staged; larger ones                    \
                  complete before returning (faster than staging them) */

enum side { S_DEV, S_HOST, S_UNI };

/* True if [p, p+n) is mapped host memory outside the device region. */
static bool host_mapped(uintptr_t p, size_t n)
{
    if (!p || p + n < p) return false;
    if (sim_va_contains(p, 1) || (sim_va_base() && p < sim_va_base() && p + n > sim_va_base()))
        return false;
    unsigned char vec[1024];
    uintptr_t lo = p & ~(uintptr_t)4095, hi = (p + n + 4095) & ~(uintptr_t)4095;
    while (lo < hi) {
        size_t len = hi - lo > sizeof vec * 4096 ? sizeof vec * 4096 : hi - lo;
        if (mincore((void *)lo, len, vec) != 0) return false;
        lo += len;
    }
    return true;
}

/* Validate one side; *pinned tells whether host memory is page-locked. */
static CUresult side_check(uintptr_t p, size_t n, enum side k, bool *pageable)
{
    *pageable = false;
    if (n == 0) return CUDA_SUCCESS;
    struct sim_alloc a;
    if (k != S_HOST || sim_mem_lookup(p, &a)) {
        CUresult r = sim_mem_check(p, n, ANY_DEV);
        if (r == CUDA_SUCCESS || k == S_DEV) return r;
        if (sim_mem_lookup(p, NULL)) return r; /* starts in an allocation, runs past it */
    }
    if (!host_mapped(p, n)) return CUDA_ERROR_INVALID_VALUE;
    *pageable = true;
    return CUDA_SUCCESS;
}

CUresult sim_copy_check(uintptr_t dst, uintptr_t src, size_t n)
{
    bool pg;
    CUresult r = side_check(dst, n, S_UNI, &pg);
    return r ? r : side_check(src, n, S_UNI, &pg);
}

/* ---- the copy op: a strided 3D block (1D is w=n, h=d=1) ------------------ */

struct copy_op {
    uintptr_t dst, src;
    size_t w, h, d;
    size_t dpitch, spitch; /* bytes between rows */
    size_t dslice, sslice; /* bytes between slices */
    size_t staged;         /* bytes of source data following the header */
};

static void copy_run(const struct copy_op *o, const unsigned char *src_override)
{
    const unsigned char *src = src_override ? src_override : (const unsigned char *)o->src;
    unsigned char *dst = (unsigned char *)o->dst;
    if (o->h == 1 && o->d == 1) {
        memmove(dst, src, o->w);
        return;
    }
    for (size_t z = 0; z < o->d; z++)
        for (size_t y = 0; y < o->h; y++)
            memmove(dst + z * o->dslice + y * o->dpitch, src + z * o->sslice + y * o->spitch, o->w);
}

static CUresult op_copy(void *p)
{
    struct copy_op *o = p;
    copy_run(o, o->staged ? (const unsigned char *)(o + 1) : NULL);
    return CUDA_SUCCESS;
}

/* Queue an async copy whose pageable source is copied into the op now. */
static CUresult copy_staged(struct sim_stream *s, struct copy_op *o)
{
    size_t len = sizeof *o + o->w;
    unsigned char stack[SIM_OP_INLINE];
    unsigned char *buf = len <= sizeof stack ? stack : malloc(len);
    if (!buf) return CUDA_ERROR_OUT_OF_MEMORY;
    o->staged = o->w;
    memcpy(buf, o, sizeof *o);
    memcpy(buf + sizeof *o, (const void *)o->src, o->w);
    if (buf == stack) return sim_stream_enqueue(s, op_copy, buf, len);
    return sim_stream_enqueue_owned(s, op_copy, buf, len);
}

/* Queue (and for sync forms, wait for) a validated copy. Pageable host
 * sources of async copies are staged so the caller may reuse them at once;
 * copies to pageable memory complete before returning, as with the driver.
 * A capturing stream records the copy as it is: the graph reads the host
 * buffer at each launch, like the driver's. */
static CUresult copy_submit(struct sim_stream *s, struct copy_op *o, bool sync, bool src_pageable,
                            bool dst_pageable)
{
    CUresult r;
    if (sync && (r = sim_stream_check_sync_call(s))) return r;
    bool capturing = sim_stream_get_capture(s) != NULL;
    if (capturing) return sim_stream_enqueue(s, op_copy, o, sizeof *o);
    if (!sync && src_pageable && o->h == 1 && o->d == 1 && o->w <= STAGE_MAX)
        return copy_staged(s, o);
    bool wait = sync || src_pageable || dst_pageable;
    if (wait && sim_stream_idle_for_sync(s)) {
        copy_run(o, NULL); /* nothing to wait for: copy on the calling thread */
        return (CUresult)atomic_load(&sim_stream_ctx(s)->sticky);
    }
    if ((r = sim_stream_enqueue(s, op_copy, o, sizeof *o))) return r;
    return wait ? sim_stream_synchronize(s) : CUDA_SUCCESS;
}

CUresult sim_memcpy_async(struct sim_stream *s, uintptr_t dst, uintptr_t src, size_t n)
{
    bool dp, sp;
    CUresult r = side_check(dst, n, S_UNI, &dp);
    if (r || (r = side_check(src, n, S_UNI, &sp))) return r;
    if (!n) return CUDA_SUCCESS;
    struct copy_op o = {.dst = dst, .src = src, .w = n, .h = 1, .d = 1};
    return copy_submit(s, &o, false, sp, dp);
}

static CUresult copy_1d(CUstream h, bool pt, bool sync, uintptr_t dst, enum side dk, uintptr_t src,
                        enum side sk, size_t n)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (r) return r;
    bool dp, sp;
    if ((r = side_check(dst, n, dk, &dp))) return r;
    if ((r = side_check(src, n, sk, &sp))) return r;
    if (!n) return CUDA_SUCCESS;
    struct copy_op o = {.dst = dst, .src = src, .w = n, .h = 1, .d = 1};
    return copy_submit(s, &o, sync, sp, dp);
}

#define U(x) ((uintptr_t)(x))

CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
    return copy_1d(NULL, false, true, U(dst), S_UNI, U(src), S_UNI, n);
}
CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
    return copy_1d(NULL, true, true, U(dst), S_UNI, U(src), S_UNI, n);
}
CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream h)
{
    return copy_1d(h, false, false, U(dst), S_UNI, U(src), S_UNI, n);
}
CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream h)
{
    return copy_1d(h, true, false, U(dst), S_UNI, U(src), S_UNI, n);
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n)
{
    return copy_1d(NULL, false, true, U(dst), S_DEV, U(src), S_HOST, n);
}
CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dst, const void *src, size_t n)
{
    return copy_1d(NULL, true, true, U(dst), S_DEV, U(src), S_HOST, n);
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, CUstream h)
{
    return copy_1d(h, false, false, U(dst), S_DEV, U(src), S_HOST, n);
}
CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr dst, const void *src, size_t n, CUstream h)
{
    return copy_1d(h, true, false, U(dst), S_DEV, U(src), S_HOST, n);
}
CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n)
{
    return copy_1d(NULL, false, true, U(dst), S_HOST, U(src), S_DEV, n);
}
CUresult cuMemcpyDtoH_v2_ptds(void *dst, CUdeviceptr src, size_t n)
{
    return copy_1d(NULL, true, true, U(dst), S_HOST, U(src), S_DEV, n);
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, CUstream h)
{
    return copy_1d(h, false, false, U(dst), S_HOST, U(src), S_DEV, n);
}
CUresult cuMemcpyDtoHAsync_v2_ptsz(void *dst, CUdeviceptr src, size_t n, CUstream h)
{
    return copy_1d(h, true, false, U(dst), S_HOST, U(src), S_DEV, n);
}
CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
    return copy_1d(NULL, false, true, U(dst), S_DEV, U(src), S_DEV, n);
}
CUresult cuMemcpyDtoD_v2_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
    return copy_1d(NULL, true, true, U(dst), S_DEV, U(src), S_DEV, n);
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream h)
{
    return copy_1d(h, false, false, U(dst), S_DEV, U(src), S_DEV, n);
}
CUresult cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream h)
{
    return copy_1d(h, true, false, U(dst), S_DEV, U(src), S_DEV, n);
}

/* ---- peer copies: one address space, so only the contexts differ -------- */

static CUresult peer_ctx_check(CUcontext a, CUcontext b)
{
    SIM_INIT_OR_RETURN();
    if (!a || !sim_handle_ok(a, SIM_KIND_CTX)) return CUDA_ERROR_INVALID_CONTEXT;
    if (!b || !sim_handle_ok(b, SIM_KIND_CTX)) return CUDA_ERROR_INVALID_CONTEXT;
    return CUDA_SUCCESS;
}

static CUresult copy_peer(CUdeviceptr dst, CUcontext dc, CUdeviceptr src, CUcontext sc, size_t n,
                          CUstream h, bool pt, bool sync)
{
    CUresult r = peer_ctx_check(dc, sc);
    if (r) return r;
    return copy_1d(h, pt, sync, U(dst), S_DEV, U(src), S_DEV, n);
}

CUresult cuMemcpyPeer(CUdeviceptr d, CUcontext dc, CUdeviceptr s, CUcontext sc, size_t n)
{
    return copy_peer(d, dc, s, sc, n, NULL, false, true);
}
CUresult cuMemcpyPeer_ptds(CUdeviceptr d, CUcontext dc, CUdeviceptr s, CUcontext sc, size_t n)
{
    return copy_peer(d, dc, s, sc, n, NULL, true, true);
}
CUresult cuMemcpyPeerAsync(CUdeviceptr d, CUcontext dc, CUdeviceptr s, CUcontext sc, size_t n,
                           CUstream h)
{
    return copy_peer(d, dc, s, sc, n, h, false, false);
}
CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr d, CUcontext dc, CUdeviceptr s, CUcontext sc, size_t n,
                                CUstream h)
{
    return copy_peer(d, dc, s, sc, n, h, true, false);
}

/* ---- 2D and 3D ------------------------------------------------------------ */

struct side3 {
    CUmemorytype type;
    const void *host;
    CUdeviceptr dev;
    size_t x, y, z, pitch, height;
};

bool sim_copy_layout(uintptr_t base, const size_t at[3], size_t pitch, size_t height,
                     const size_t dims[3], struct sim_copy_layout *out)
{
    size_t w = dims[0], h = dims[1], d = dims[2];
    pitch = pitch ? pitch : w;
    height = height ? height : h;
    if (((h > 1 || d > 1) && pitch < w) || (d > 1 && height < h)) return false;
    size_t slice, off, ext, t;
    if (__builtin_mul_overflow(pitch, height, &slice) ||
        __builtin_mul_overflow(at[2], slice, &off) || __builtin_mul_overflow(at[1], pitch, &t) ||
        __builtin_add_overflow(off, t, &off) || __builtin_add_overflow(off, at[0], &off) ||
        __builtin_mul_overflow(d - 1, slice, &ext) || __builtin_mul_overflow(h - 1, pitch, &t) ||
        __builtin_add_overflow(ext, t, &ext) || __builtin_add_overflow(ext, w, &ext) ||
        base + off < base)
        return false;
    *out = (struct sim_copy_layout){.pitch = pitch, .slice = slice, .off = off, .ext = ext};
    return true;
}

/* Start address and byte extent of one side, validated. */
static CUresult side3_resolve(const struct side3 *sd, size_t w, size_t h, size_t d,
                              uintptr_t *start, bool *pageable)
{
    enum side k;
    uintptr_t base;
    switch (sd->type) {
    case CU_MEMORYTYPE_HOST:
        k = S_HOST;
        base = U(sd->host);
        break;
    case CU_MEMORYTYPE_DEVICE:
        k = S_DEV;
        base = U(sd->dev);
        break;
    case CU_MEMORYTYPE_UNIFIED:
        k = S_UNI;
        base = U(sd->dev);
        break;
    case CU_MEMORYTYPE_ARRAY:
        sim_warn("cuMemcpy2D/3D with CUDA arrays is not supported by simgpu");
        return CUDA_ERROR_NOT_SUPPORTED;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
    struct sim_copy_layout lay;
    size_t at[3] = {sd->x, sd->y, sd->z}, dims[3] = {w, h, d};
    if (!sim_copy_layout(base, at, sd->pitch, sd->height, dims, &lay))
        return CUDA_ERROR_INVALID_VALUE;
    *start = base + lay.off;
    return side_check(*start, lay.ext, k, pageable);
}

static CUresult copy_3d(const struct side3 *src, const struct side3 *dst, size_t w, size_t h,
                        size_t d, CUstream hs, bool pt, bool sync)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(hs, pt, &s, NULL);
    if (r) return r;
    if (!w || !h || !d) return CUDA_SUCCESS;
    uintptr_t sa, da;
    bool sp, dp;
    if ((r = side3_resolve(src, w, h, d, &sa, &sp))) return r;
    if ((r = side3_resolve(dst, w, h, d, &da, &dp))) return r;
    size_t spitch = src->pitch ? src->pitch : w, dpitch = dst->pitch ? dst->pitch : w;
    struct copy_op o = {.dst = da,
                        .src = sa,
                        .w = w,
                        .h = h,
                        .d = d,
                        .dpitch = dpitch,
                        .spitch = spitch,
                        .dslice = dpitch * (dst->height ? dst->height : h),
                        .sslice = spitch * (src->height ? src->height : h)};
    return copy_submit(s, &o, sync, sp, dp);
}

static CUresult copy_2d(const CUDA_MEMCPY2D *p, CUstream hs, bool pt, bool sync)
{
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    struct side3 s = {p->srcMemoryType, p->srcHost, p->srcDevice, p->srcXInBytes,
                      p->srcY,          0,          p->srcPitch,  0};
    struct side3 d = {p->dstMemoryType, p->dstHost, p->dstDevice, p->dstXInBytes,
                      p->dstY,          0,          p->dstPitch,  0};
    if (p->Height > 1 && (p->srcPitch < p->WidthInBytes || p->dstPitch < p->WidthInBytes))
        return CUDA_ERROR_INVALID_VALUE;
    return copy_3d(&s, &d, p->WidthInBytes, p->Height, 1, hs, pt, sync);
}

CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *p)
{
    return copy_2d(p, NULL, false, true);
}
CUresult cuMemcpy2D_v2_ptds(const CUDA_MEMCPY2D *p)
{
    return copy_2d(p, NULL, true, true);
}
CUresult cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D *p)
{
    return copy_2d(p, NULL, false, true);
}
CUresult cuMemcpy2DUnaligned_v2_ptds(const CUDA_MEMCPY2D *p)
{
    return copy_2d(p, NULL, true, true);
}
CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *p, CUstream h)
{
    return copy_2d(p, h, false, false);
}
CUresult cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D *p, CUstream h)
{
    return copy_2d(p, h, true, false);
}

static CUresult copy_3d_desc(const CUDA_MEMCPY3D *p, CUstream hs, bool pt, bool sync)
{
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    if (p->srcLOD || p->dstLOD) return CUDA_ERROR_INVALID_VALUE;
    struct side3 s = {p->srcMemoryType, p->srcHost, p->srcDevice, p->srcXInBytes,
                      p->srcY,          p->srcZ,    p->srcPitch,  p->srcHeight};
    struct side3 d = {p->dstMemoryType, p->dstHost, p->dstDevice, p->dstXInBytes,
                      p->dstY,          p->dstZ,    p->dstPitch,  p->dstHeight};
    return copy_3d(&s, &d, p->WidthInBytes, p->Height, p->Depth, hs, pt, sync);
}

CUresult cuMemcpy3D_v2(const CUDA_MEMCPY3D *p)
{
    return copy_3d_desc(p, NULL, false, true);
}
CUresult cuMemcpy3D_v2_ptds(const CUDA_MEMCPY3D *p)
{
    return copy_3d_desc(p, NULL, true, true);
}
CUresult cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D *p, CUstream h)
{
    return copy_3d_desc(p, h, false, false);
}
CUresult cuMemcpy3DAsync_v2_ptsz(const CUDA_MEMCPY3D *p, CUstream h)
{
    return copy_3d_desc(p, h, true, false);
}

static CUresult copy_3d_peer(const CUDA_MEMCPY3D_PEER *p, CUstream hs, bool pt, bool sync)
{
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = peer_ctx_check(p->dstContext, p->srcContext);
    if (r) return r;
    struct side3 s = {p->srcMemoryType, p->srcHost, p->srcDevice, p->srcXInBytes,
                      p->srcY,          p->srcZ,    p->srcPitch,  p->srcHeight};
    struct side3 d = {p->dstMemoryType, p->dstHost, p->dstDevice, p->dstXInBytes,
                      p->dstY,          p->dstZ,    p->dstPitch,  p->dstHeight};
    return copy_3d(&s, &d, p->WidthInBytes, p->Height, p->Depth, hs, pt, sync);
}

CUresult cuMemcpy3DPeer(const CUDA_MEMCPY3D_PEER *p)
{
    return copy_3d_peer(p, NULL, false, true);
}
CUresult cuMemcpy3DPeer_ptds(const CUDA_MEMCPY3D_PEER *p)
{
    return copy_3d_peer(p, NULL, true, true);
}
CUresult cuMemcpy3DPeerAsync(const CUDA_MEMCPY3D_PEER *p, CUstream h)
{
    return copy_3d_peer(p, h, false, false);
}
CUresult cuMemcpy3DPeerAsync_ptsz(const CUDA_MEMCPY3D_PEER *p, CUstream h)
{
    return copy_3d_peer(p, h, true, false);
}

/* ---- batches of 1D copies --------------------------------------------------- */

static CUresult batch_attrs_check(size_t count, const CUmemcpyAttributes *attrs, const size_t *idxs,
                                  size_t n)
{
    if (!attrs || !idxs || !n || n > count || idxs[0] != 0) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < n; i++) {
        if (i && (idxs[i] <= idxs[i - 1] || idxs[i] >= count)) return CUDA_ERROR_INVALID_VALUE;
        if (attrs[i].srcAccessOrder < CU_MEMCPY_SRC_ACCESS_ORDER_STREAM ||
            attrs[i].srcAccessOrder > CU_MEMCPY_SRC_ACCESS_ORDER_ANY)
            return CUDA_ERROR_INVALID_VALUE;
        if (attrs[i].flags & ~(unsigned)CU_MEMCPY_FLAG_PREFER_OVERLAP_WITH_COMPUTE)
            return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

/* Every copy is validated before any is queued; *fail names the bad one. */
static CUresult copy_batch(CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count,
                           CUmemcpyAttributes *attrs, size_t *idxs, size_t nattrs, size_t *fail,
                           CUstream h, bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (fail) *fail = SIZE_MAX;
    if (r) return r;
    if (!count || !dsts || !srcs || !sizes) return CUDA_ERROR_INVALID_VALUE;
    if ((r = batch_attrs_check(count, attrs, idxs, nattrs))) return r;
    for (size_t i = 0; i < count; i++) {
        bool dp, sp;
        if ((r = side_check(U(dsts[i]), sizes[i], S_UNI, &dp)) ||
            (r = side_check(U(srcs[i]), sizes[i], S_UNI, &sp))) {
            if (fail) *fail = i;
            return r;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (!sizes[i]) continue;
        bool dp, sp;
        side_check(U(dsts[i]), sizes[i], S_UNI, &dp);
        side_check(U(srcs[i]), sizes[i], S_UNI, &sp);
        struct copy_op o = {.dst = U(dsts[i]), .src = U(srcs[i]), .w = sizes[i], .h = 1, .d = 1};
        if ((r = copy_submit(s, &o, false, sp, dp))) return r;
    }
    return CUDA_SUCCESS;
}

CUresult cuMemcpyBatchAsync(CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count,
                            CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs,
                            size_t *failIdx, CUstream hStream)
{
    return copy_batch(dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, failIdx, hStream,
                      false);
}
CUresult cuMemcpyBatchAsync_ptsz(CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count,
                                 CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs,
                                 size_t *failIdx, CUstream hStream)
{
    return copy_batch(dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, failIdx, hStream, true);
}
CUresult cuMemcpyBatchAsync_v2(CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count,
                               CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs,
                               CUstream hStream)
{
    return copy_batch(dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, NULL, hStream, false);
}
CUresult cuMemcpyBatchAsync_v2_ptsz(CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes,
                                    size_t count, CUmemcpyAttributes *attrs, size_t *attrsIdxs,
                                    size_t numAttrs, CUstream hStream)
{
    return copy_batch(dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, NULL, hStream, true);
}

/* ---- batches of 3D copies between pointers ---------------------------------- */

/* A pointer operand as a strided side; rows and layers are counted in bytes
 * (pointer-to-pointer copies have 1-byte elements). */
static CUresult operand_side(const CUmemcpy3DOperand *op, struct side3 *sd)
{
    if (op->type == CU_MEMCPY_OPERAND_TYPE_ARRAY) {
        sim_warn("cuMemcpy3DBatchAsync with CUDA arrays is not supported by simgpu");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (op->type != CU_MEMCPY_OPERAND_TYPE_POINTER) return CUDA_ERROR_INVALID_VALUE;
    *sd = (struct side3){CU_MEMORYTYPE_UNIFIED, NULL, op->op.ptr.ptr, 0, 0, 0, op->op.ptr.rowLength,
                         op->op.ptr.layerHeight};
    return CUDA_SUCCESS;
}

static CUresult batch3d_check(const CUDA_MEMCPY3D_BATCH_OP *o, struct side3 *s, struct side3 *d)
{
    CUresult r;
    if (!o->extent.width || !o->extent.height || !o->extent.depth) return CUDA_ERROR_INVALID_VALUE;
    if (o->srcAccessOrder < CU_MEMCPY_SRC_ACCESS_ORDER_STREAM ||
        o->srcAccessOrder > CU_MEMCPY_SRC_ACCESS_ORDER_ANY)
        return CUDA_ERROR_INVALID_VALUE;
    if ((r = operand_side(&o->src, s)) || (r = operand_side(&o->dst, d))) return r;
    uintptr_t a;
    bool pg;
    const CUextent3D *e = &o->extent;
    if ((r = side3_resolve(s, e->width, e->height, e->depth, &a, &pg))) return r;
    return side3_resolve(d, e->width, e->height, e->depth, &a, &pg);
}

static CUresult copy_3d_batch(size_t n, CUDA_MEMCPY3D_BATCH_OP *ops, size_t *fail,
                              unsigned long long flags, CUstream h, bool pt)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(h, pt, &s, NULL);
    if (fail) *fail = SIZE_MAX;
    if (r) return r;
    if (!n || !ops || flags) return CUDA_ERROR_INVALID_VALUE;
    struct side3 a, b;
    for (size_t i = 0; i < n; i++)
        if ((r = batch3d_check(&ops[i], &a, &b))) {
            if (fail) *fail = i;
            return r;
        }
    for (size_t i = 0; i < n; i++) {
        batch3d_check(&ops[i], &a, &b);
        const CUextent3D *e = &ops[i].extent;
        if ((r = copy_3d(&a, &b, e->width, e->height, e->depth, h, pt, false))) return r;
    }
    return CUDA_SUCCESS;
}

CUresult cuMemcpy3DBatchAsync(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList, size_t *failIdx,
                              unsigned long long flags, CUstream hStream)
{
    return copy_3d_batch(numOps, opList, failIdx, flags, hStream, false);
}
CUresult cuMemcpy3DBatchAsync_ptsz(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList, size_t *failIdx,
                                   unsigned long long flags, CUstream hStream)
{
    return copy_3d_batch(numOps, opList, failIdx, flags, hStream, true);
}
CUresult cuMemcpy3DBatchAsync_v2(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList,
                                 unsigned long long flags, CUstream hStream)
{
    return copy_3d_batch(numOps, opList, NULL, flags, hStream, false);
}
/* Exported by the driver although cuda.h declares no prototype for it. */
CUresult cuMemcpy3DBatchAsync_v2_ptsz(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList,
                                      unsigned long long flags, CUstream hStream);
CUresult cuMemcpy3DBatchAsync_v2_ptsz(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList,
                                      unsigned long long flags, CUstream hStream)
{
    return copy_3d_batch(numOps, opList, NULL, flags, hStream, true);
}
