/* streamapi.c — the cuStream* entry points, cuLaunchHostFunc and stream
 * callbacks, attributes: argument checking on top of the queues of stream.c.
 * NULL, CU_STREAM_LEGACY and CU_STREAM_PER_THREAD resolve as the driver does. */
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/* ---- public API ---------------------------------------------------------- */

CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags)
{
    return cuStreamCreateWithPriority(phStream, Flags, 0);
}

CUresult cuStreamCreateWithPriority(CUstream *phStream, unsigned int flags, int priority)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    if (!phStream) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~(unsigned)CU_STREAM_NON_BLOCKING) return CUDA_ERROR_INVALID_VALUE;
    if (priority > 0) priority = 0; /* clamped like the driver */
    if (priority < -5) priority = -5;
    struct sim_stream *s = sim_stream_new(c, flags, priority, false, false);
    if (!s) return CUDA_ERROR_OUT_OF_MEMORY;
    *phStream = (CUstream)s;
    return CUDA_SUCCESS;
}

static CUresult stream_arg(CUstream h, bool pt, struct sim_stream **s)
{
    return sim_stream_resolve(h, pt, s, NULL);
}

CUresult cuStreamDestroy_v2(CUstream hStream)
{
    SIM_INIT_OR_RETURN();
    if (!hStream || hStream == CU_STREAM_LEGACY || hStream == CU_STREAM_PER_THREAD)
        return CUDA_ERROR_INVALID_HANDLE;
    if (!sim_handle_ok(hStream, SIM_KIND_STREAM)) return CUDA_ERROR_INVALID_HANDLE;
    struct sim_stream *s = (struct sim_stream *)hStream;
    if (s->per_thread) return CUDA_ERROR_INVALID_HANDLE;
    sim_stream_destroy(s);
    return CUDA_SUCCESS;
}

CUresult cuStreamDestroy(CUstream hStream)
{
    return cuStreamDestroy_v2(hStream);
}

static CUresult stream_query(CUstream h, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r || (r = sim_stream_capture_check(s))) return r;
    if (s->legacy) { /* the NULL stream is idle only when blocking streams are too */
        struct sim_stream **v = sim_ctx_stream_list(s->ctx);
        for (size_t i = 0; v && v[i]; i++) {
            if (r == CUDA_SUCCESS && stream_is_blocking(v[i])) r = sim_stream_query(v[i]);
            sim_stream_unref(v[i]);
        }
        free(v);
        if (r) return r;
    }
    return sim_stream_query(s);
}

CUresult cuStreamQuery(CUstream h)
{
    return stream_query(h, false);
}
CUresult cuStreamQuery_ptsz(CUstream h)
{
    return stream_query(h, true);
}

static CUresult stream_sync(CUstream h, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r || (r = sim_stream_capture_check(s))) return r;
    if (s->legacy) { /* the NULL stream also waits for blocking streams */
        struct sim_stream **v = sim_ctx_stream_list(s->ctx);
        for (size_t i = 0; v && v[i]; i++) {
            if (stream_is_blocking(v[i])) sim_stream_synchronize(v[i]);
            sim_stream_unref(v[i]);
        }
        free(v);
    }
    return sim_stream_synchronize(s);
}

CUresult cuStreamSynchronize(CUstream h)
{
    return stream_sync(h, false);
}
CUresult cuStreamSynchronize_ptsz(CUstream h)
{
    return stream_sync(h, true);
}

static CUresult stream_get_priority(CUstream h, int *priority, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!priority) return CUDA_ERROR_INVALID_VALUE;
    *priority = s->priority;
    return CUDA_SUCCESS;
}

CUresult cuStreamGetPriority(CUstream h, int *p)
{
    return stream_get_priority(h, p, false);
}
CUresult cuStreamGetPriority_ptsz(CUstream h, int *p)
{
    return stream_get_priority(h, p, true);
}

static CUresult stream_get_flags(CUstream h, unsigned int *flags, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!flags) return CUDA_ERROR_INVALID_VALUE;
    *flags = s->flags;
    return CUDA_SUCCESS;
}

CUresult cuStreamGetFlags(CUstream h, unsigned int *f)
{
    return stream_get_flags(h, f, false);
}
CUresult cuStreamGetFlags_ptsz(CUstream h, unsigned int *f)
{
    return stream_get_flags(h, f, true);
}

static CUresult stream_get_ctx(CUstream h, CUcontext *pctx, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    *pctx = (CUcontext)s->ctx;
    return CUDA_SUCCESS;
}

CUresult cuStreamGetCtx(CUstream h, CUcontext *c)
{
    return stream_get_ctx(h, c, false);
}
CUresult cuStreamGetCtx_ptsz(CUstream h, CUcontext *c)
{
    return stream_get_ctx(h, c, true);
}

static CUresult stream_get_ctx2(CUstream h, CUcontext *pctx, CUgreenCtx *pg, bool pt)
{
    if (!pctx || !pg) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = stream_get_ctx(h, pctx, pt);
    if (!r) *pg = NULL;
    return r;
}

CUresult cuStreamGetCtx_v2(CUstream h, CUcontext *c, CUgreenCtx *g)
{
    return stream_get_ctx2(h, c, g, false);
}
CUresult cuStreamGetCtx_v2_ptsz(CUstream h, CUcontext *c, CUgreenCtx *g)
{
    return stream_get_ctx2(h, c, g, true);
}

/* No green contexts here: every stream belongs to a regular context. */
CUresult cuStreamGetGreenCtx(CUstream h, CUgreenCtx *phCtx)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, false, &s);
    if (r) return r;
    if (!phCtx) return CUDA_ERROR_INVALID_VALUE;
    *phCtx = NULL;
    return CUDA_SUCCESS;
}

static CUresult stream_get_id(CUstream h, unsigned long long *id, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!id) return CUDA_ERROR_INVALID_VALUE;
    *id = s->id;
    return CUDA_SUCCESS;
}

CUresult cuStreamGetId(CUstream h, unsigned long long *id)
{
    return stream_get_id(h, id, false);
}
CUresult cuStreamGetId_ptsz(CUstream h, unsigned long long *id)
{
    return stream_get_id(h, id, true);
}

static CUresult stream_get_device(CUstream h, CUdevice *dev, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!dev) return CUDA_ERROR_INVALID_VALUE;
    *dev = s->ctx->dev->ordinal;
    return CUDA_SUCCESS;
}

CUresult cuStreamGetDevice(CUstream h, CUdevice *d)
{
    return stream_get_device(h, d, false);
}
CUresult cuStreamGetDevice_ptsz(CUstream h, CUdevice *d)
{
    return stream_get_device(h, d, true);
}

/* ---- host functions and callbacks ---------------------------------------- */

struct host_fn_op {
    CUhostFn fn;
    void *data;
};

static CUresult op_host_fn(void *p)
{
    struct host_fn_op *o = p;
    o->fn(o->data);
    return CUDA_SUCCESS;
}

static CUresult launch_host_fn(CUstream h, CUhostFn fn, void *userData, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!fn) return CUDA_ERROR_INVALID_VALUE;
    struct host_fn_op o = {fn, userData};
    return sim_stream_enqueue(s, op_host_fn, &o, sizeof o);
}

CUresult cuLaunchHostFunc(CUstream h, CUhostFn fn, void *u)
{
    return launch_host_fn(h, fn, u, false);
}
CUresult cuLaunchHostFunc_ptsz(CUstream h, CUhostFn fn, void *u)
{
    return launch_host_fn(h, fn, u, true);
}

struct callback_op {
    CUstreamCallback cb;
    CUstream h;
    struct sim_ctx *ctx;
    void *data;
};

static CUresult op_callback(void *p)
{
    struct callback_op *o = p;
    o->cb(o->h, (CUresult)atomic_load(&o->ctx->sticky), o->data);
    return CUDA_SUCCESS;
}

static CUresult add_callback(CUstream h, CUstreamCallback cb, void *userData, unsigned flags,
                             bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!cb || flags != 0) return CUDA_ERROR_INVALID_VALUE;
    struct callback_op o = {cb, h, s->ctx, userData};
    return sim_stream_enqueue(s, op_callback, &o, sizeof o);
}

CUresult cuStreamAddCallback(CUstream h, CUstreamCallback cb, void *u, unsigned int f)
{
    return add_callback(h, cb, u, f, false);
}
CUresult cuStreamAddCallback_ptsz(CUstream h, CUstreamCallback cb, void *u, unsigned int f)
{
    return add_callback(h, cb, u, f, true);
}

static CUresult attach_mem(CUstream h, CUdeviceptr dptr, size_t length, unsigned flags, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (flags != CU_MEM_ATTACH_GLOBAL && flags != CU_MEM_ATTACH_HOST &&
        flags != CU_MEM_ATTACH_SINGLE)
        return CUDA_ERROR_INVALID_VALUE;
    struct sim_alloc a;
    if (!sim_mem_lookup((uintptr_t)dptr, &a) || a.kind != SIM_MEM_MANAGED)
        return CUDA_ERROR_INVALID_VALUE;
    if (length && (a.base != dptr || length != a.size)) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS; /* memory is always host and device coherent here */
}

CUresult cuStreamAttachMemAsync(CUstream h, CUdeviceptr p, size_t n, unsigned int f)
{
    return attach_mem(h, p, n, f, false);
}
CUresult cuStreamAttachMemAsync_ptsz(CUstream h, CUdeviceptr p, size_t n, unsigned int f)
{
    return attach_mem(h, p, n, f, true);
}

/* ---- attributes ---------------------------------------------------------- */

static CUresult stream_get_attr(CUstream h, CUstreamAttrID id, CUstreamAttrValue *v, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    switch (id) {
    case CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW:
    case CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY:
    case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP:
    case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN:
        *v = s->attrs[id & 7];
        return CUDA_SUCCESS;
    case CU_LAUNCH_ATTRIBUTE_PRIORITY:
        memset(v, 0, sizeof *v);
        v->priority = s->priority;
        return CUDA_SUCCESS;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
}

static CUresult stream_set_attr(CUstream h, CUstreamAttrID id, const CUstreamAttrValue *v, bool pt)
{
    struct sim_stream *s;
    CUresult r = stream_arg(h, pt, &s);
    if (r) return r;
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    switch (id) {
    case CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW:
    case CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY:
    case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP:
    case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN:
        s->attrs[id & 7] = *v;
        return CUDA_SUCCESS;
    case CU_LAUNCH_ATTRIBUTE_PRIORITY:
        s->priority = v->priority > 0 ? 0 : v->priority < -5 ? -5 : v->priority;
        return CUDA_SUCCESS;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuStreamGetAttribute(CUstream h, CUstreamAttrID a, CUstreamAttrValue *v)
{
    return stream_get_attr(h, a, v, false);
}
CUresult cuStreamGetAttribute_ptsz(CUstream h, CUstreamAttrID a, CUstreamAttrValue *v)
{
    return stream_get_attr(h, a, v, true);
}
CUresult cuStreamSetAttribute(CUstream h, CUstreamAttrID a, const CUstreamAttrValue *v)
{
    return stream_set_attr(h, a, v, false);
}
CUresult cuStreamSetAttribute_ptsz(CUstream h, CUstreamAttrID a, const CUstreamAttrValue *v)
{
    return stream_set_attr(h, a, v, true);
}

static CUresult copy_attrs(CUstream dst, CUstream src, bool pt)
{
    struct sim_stream *d, *s;
    CUresult r = stream_arg(dst, pt, &d);
    if (r) return r;
    if ((r = stream_arg(src, pt, &s))) return r;
    memcpy(d->attrs, s->attrs, sizeof d->attrs);
    d->priority = s->priority;
    return CUDA_SUCCESS;
}

CUresult cuStreamCopyAttributes(CUstream dst, CUstream src)
{
    return copy_attrs(dst, src, false);
}
CUresult cuStreamCopyAttributes_ptsz(CUstream dst, CUstream src)
{
    return copy_attrs(dst, src, true);
}
