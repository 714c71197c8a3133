/* forward.c — rg_shim_forward, behind every generated entry point: check what
 * the shim can check (ids of the right type, outputs it must fill), mint ids
 * for client-created handles, encode, send, and for calls that wait decode
 * the reply into the caller's arguments (DESIGN rules 1 and 3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "custom.h"
#include "forward.h"
#include "cuinfo.h"
#include "shim.h"

#define RAW_MAX RPC_MAX_ARGS

static uint64_t handle_value(const struct rpc_arg_desc *a, void *arg)
{
    if (a->size == 4) return *(uint32_t *)arg;
    return *(uint64_t *)arg;
}

static CUresult bad_handle(unsigned t)
{
    /* an integer to the driver; pools: the pool calls' own code */
    if (t == RPC_H_MEM_HANDLE || t == RPC_H_MEMPOOL) return CUDA_ERROR_INVALID_VALUE;
    return t == RPC_H_CONTEXT ? CUDA_ERROR_INVALID_CONTEXT : CUDA_ERROR_INVALID_HANDLE;
}

/* NULL where a pipelined call needs an object: the driver's code, at once
 * (a waiting call lets the driver answer). NULL streams and contexts mean
 * the default / current one. */
static CUresult null_handle(unsigned t, int async)
{
    if (!async) return CUDA_SUCCESS;
    if (t == RPC_H_GRAPH_EXEC) return CUDA_ERROR_INVALID_VALUE;
    return t == RPC_H_EVENT || t == RPC_H_FUNCTION ? CUDA_ERROR_INVALID_HANDLE : CUDA_SUCCESS;
}

/* One handle by value: the stream specials go to the server as they are. */
static CUresult check_handle(unsigned t, uint64_t id, int async)
{
    if (t == RPC_H_DEVICE || t == RPC_H_NONE) return CUDA_SUCCESS;
    if (id == 0) return null_handle(t, async);
    if (t == RPC_H_STREAM && (id == (uint64_t)(uintptr_t)CU_STREAM_LEGACY ||
                              id == (uint64_t)(uintptr_t)CU_STREAM_PER_THREAD))
        return CUDA_SUCCESS;
    return rg_id_plausible(t, id) ? CUDA_SUCCESS : bad_handle(t);
}

static uint64_t scalar_value(const struct rpc_arg_desc *a, void *arg)
{
    switch (a->size) {
    case 1: return *(uint8_t *)arg;
    case 2: return *(uint16_t *)arg;
    case 4: return *(uint32_t *)arg;
    default: return *(uint64_t *)arg;
    }
}

/* An array of handles counted by another argument: each element checked. */
static CUresult check_array(const struct rpc_call_desc *d, void **args, unsigned i)
{
    const struct rpc_arg_desc *a = &d->args[i];
    const uint64_t *ids = *(const uint64_t **)args[i];
    if (a->size != 8) return CUDA_SUCCESS;
    if (a->len.kind != RPC_LEN_ARG || a->len.a >= d->nargs || !ids) return CUDA_SUCCESS;
    uint64_t n = scalar_value(&d->args[a->len.a], args[a->len.a]);
    if (n > (1u << 16)) return CUDA_SUCCESS; /* the codec's limits decide */
    for (uint64_t k = 0; k < n; k++) {
        CUresult r = check_handle(a->handle, ids[k], 0);
        if (r != CUDA_SUCCESS) return r;
    }
    return CUDA_SUCCESS;
}

/* Device memory lives in the reserved window and in known allocations
 * (DESIGN rule 2): a pipelined call naming anything else fails at once. */
static CUresult check_devptr(const struct rpc_call_desc *d, void **args, unsigned i)
{
    uint64_t len = 0;
    if (d->args[i].len.kind == RPC_LEN_NONE || rpc_arg_len(d, i, args, &len)) return CUDA_SUCCESS;
    return rg_mirror_range_ok(*(uint64_t *)args[i], len) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

static uint64_t in_len(const struct rpc_call_desc *d, void **args, unsigned i)
{
    uint64_t len = 0;
    return rpc_arg_len(d, i, args, &len) ? 1 : len;
}

/* A host buffer the shim will read or fill must be memory of this process
 * outside the device window: the driver answers INVALID_VALUE for the rest,
 * and the shim must never fault on the application's behalf. */
static CUresult check_host(const struct rpc_call_desc *d, void **args, unsigned i)
{
    uint64_t p = (uint64_t)(uintptr_t)*(void **)args[i], len = 0;
    if (!p || rpc_arg_len(d, i, args, &len) || !len) return CUDA_SUCCESS;
    if (p + len < p) return CUDA_ERROR_INVALID_VALUE;
    if (rg_managed_contains(p, len)) return CUDA_SUCCESS; /* mirrored here (managed.c) */
    uint64_t lo = (uint64_t)(uintptr_t)rg_sess.window, hi = lo + rg_sess.window_size;
    if (p < hi && lo < p + len) return CUDA_ERROR_INVALID_VALUE;
    return rg_host_mapped(p, len) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/* NULL where the call must write (a minted id, or any output of a pipelined
 * call, which cannot be answered later) is INVALID_VALUE at once. */
static CUresult check_args(const struct rpc_call_desc *d, void **args, int async)
{
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        CUresult r = CUDA_SUCCESS;
        switch (a->kind) {
        case RPC_ARG_HANDLE:
            r = check_handle(a->handle, handle_value(a, args[i]), async);
            break;
        case RPC_ARG_DEVPTR:
            if (async) r = check_devptr(d, args, i);
            break;
        case RPC_ARG_OUT_HANDLE:
            if (!*(void **)args[i] && (a->mint == RPC_MINT_CLIENT || async))
                r = CUDA_ERROR_INVALID_VALUE;
            break;
        case RPC_ARG_OUT_BUF:
            if (async && !*(void **)args[i]) r = CUDA_ERROR_INVALID_VALUE;
            if (r == CUDA_SUCCESS) r = check_host(d, args, i);
            break;
        case RPC_ARG_OUT:
        case RPC_ARG_HANDLE_ARRAY_OUT:
            /* custom=required (rpc/custom_required.c): the driver judges the output first */
            if ((async || (d->custom && !strcmp(d->custom, "required"))) && !*(void **)args[i])
                r = CUDA_ERROR_INVALID_VALUE;
            break;
        case RPC_ARG_HANDLE_ARRAY_IN:
            r = check_array(d, args, i);
            break;
        case RPC_ARG_IN_BUF:
            if (async && !*(void **)args[i] && in_len(d, args, i)) r = CUDA_ERROR_INVALID_VALUE;
            if (r == CUDA_SUCCESS) r = check_host(d, args, i);
            break;
        case RPC_ARG_INOUT_BUF:
            r = check_host(d, args, i);
            break;
        default:
            break;
        }
        if (r != CUDA_SUCCESS) return r;
    }
    return CUDA_SUCCESS;
}

/* Client-minted handles get their ids before encoding: the encoder sends the
 * id written into the application's variable. */
static void mint_ids(const struct rpc_call_desc *d, void **args)
{
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_OUT_HANDLE || a->mint != RPC_MINT_CLIENT) continue;
        uint64_t id = rg_id_mint(a->handle);
        void *out = *(void **)args[i];
        rg_id_set_parent(id, rg_ctx_current_id()); /* streams and events live in it */
        if (a->size == 4)
            *(uint32_t *)out = (uint32_t)id;
        else
            *(uint64_t *)out = id;
    }
}

/* ---- local effects of forwarded calls -------------------------------------------- */

static int arg_index(const struct rpc_call_desc *d, unsigned kind, unsigned handle)
{
    for (unsigned i = 0; i < d->nargs; i++)
        if (d->args[i].kind == kind && d->args[i].handle == handle) return (int)i;
    return -1;
}

static int arg_named(const struct rpc_call_desc *d, const char *name)
{
    for (unsigned i = 0; i < d->nargs; i++)
        if (!strcmp(d->args[i].name, name)) return (int)i;
    return -1;
}

/* cuEventDestroy, cuStreamDestroy, cuModuleUnload, ...: the first handle dies. */
static void note_destroyed(const struct rpc_call_desc *d, void **args)
{
    if (!(rg_call_traits(d) & RG_TR_DESTROY) || !d->nargs || d->args[0].kind != RPC_ARG_HANDLE) return;
    unsigned t = d->args[0].handle;
    if (t == RPC_H_DEVICE || t == RPC_H_CONTEXT) return; /* contexts: ctx.c */
    uint64_t id = handle_value(&d->args[0], args[0]);
    if (id > 2) rg_id_kill(id);
}

/* What a handle the server minted lives in: a function its module or kernel,
 * a kernel its library, a module its library or else the current context. */
static void note_parents(const struct rpc_call_desc *d, void **args)
{
    uint64_t owner = 0;
    for (unsigned i = 0; i < d->nargs && !owner; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind == RPC_ARG_HANDLE && (a->handle == RPC_H_MODULE || a->handle == RPC_H_LIBRARY ||
                                          a->handle == RPC_H_KERNEL))
            owner = handle_value(a, args[i]);
    }
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_OUT_HANDLE || a->mint == RPC_MINT_CLIENT) continue;
        void *out = *(void **)args[i];
        if (!out) continue;
        uint64_t id = a->size == 4 ? *(uint32_t *)out : *(uint64_t *)out;
        if (owner && (a->handle == RPC_H_FUNCTION || a->handle == RPC_H_KERNEL ||
                      a->handle == RPC_H_MODULE))
            rg_id_set_parent(id, owner);
        else if (a->handle == RPC_H_MODULE)
            rg_id_set_parent(id, rg_ctx_current_id());
    }
}

/* An opened IPC range may lie where this session freed memory before: the
 * mirror forgets those freed spans (the worker checks every range naming it). */
static void ipc_opened(uint64_t p)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuMemGetAddressRange_v2");
    CUdeviceptr base = 0, dp = p, *pb = &base;
    size_t size = 0, *ps = &size;
    void *args[3] = {&pb, &ps, &dp};
    if (d && rg_shim_forward(d, args) == CUDA_SUCCESS) rg_mirror_unfree(base, size);
}

static void after_success(const struct rpc_call_desc *d, void **args)
{
    note_destroyed(d, args);
    note_parents(d, args);
    if (!(rg_call_traits(d) & RG_TR_AFTER)) {
        rg_dev_remember(d, args);
        return;
    }
    if (!strcmp(d->base, "cuFuncSetAttribute") || !strcmp(d->base, "cuKernelSetAttribute"))
        rg_launch_forget();
    if (!strcmp(d->base, "cuCtxCreate")) {
        int c = arg_index(d, RPC_ARG_OUT_HANDLE, RPC_H_CONTEXT), v = arg_named(d, "dev");
        if (c >= 0 && v >= 0) rg_ctx_created(**(uint64_t **)args[c], *(CUdevice *)args[v]);
    } else if (!strcmp(d->base, "cuCtxDestroy")) {
        int c = arg_index(d, RPC_ARG_HANDLE, RPC_H_CONTEXT);
        if (c >= 0) {
            uint64_t ctx = *(uint64_t *)args[c];
            rg_ctx_destroyed(ctx);
            rg_ctx_clear_sticky(ctx);
            rg_managed_ctx_gone(ctx);
        }
    } else if (!strcmp(d->base, "cuDevicePrimaryCtxReset") && d->nargs == 1) {
        uint64_t ctx = rg_primary_ctx_id(*(CUdevice *)args[0]);
        rg_ctx_clear_sticky(ctx);
        rg_managed_ctx_gone(ctx);
        rg_ctx_children_die(ctx);
    } else if (!strcmp(d->name, "cuMemAlloc_v2") || !strcmp(d->base, "cuMemAllocAsync") ||
               !strcmp(d->base, "cuMemAllocFromPoolAsync")) {
        rg_mirror_add(**(uint64_t **)args[0], *(size_t *)args[1]);
    } else if (!strcmp(d->name, "cuMemAllocPitch_v2")) {
        rg_mirror_add(**(uint64_t **)args[0], **(size_t **)args[1] * *(size_t *)args[3]);
    } else if (!strcmp(d->name, "cuMemAllocManaged")) {
        uint64_t p = **(uint64_t **)args[0], n = *(size_t *)args[1];
        rg_mirror_add(p, n);
        if (rg_managed_add(p, n))
            rg_log(RG_LOG_ERROR, "cuMemAllocManaged: %#llx cannot be mirrored here",
                   (unsigned long long)p);
    } else if (!strcmp(d->base, "cuIpcOpenMemHandle")) {
        ipc_opened(**(uint64_t **)args[0]);
    } else if (!strcmp(d->base, "cuLibraryGetManaged")) {
        rg_managed_var(d, args);
    } else if (!strcmp(d->base, "cuMemFreeAsync")) { /* the mirror let go before the call */
        rg_managed_remove(*(uint64_t *)args[0]);
    } else {
        rg_dev_remember(d, args);
    }
}

/* ---- the call ------------------------------------------------------------------------ */

static CUresult decode(const struct rpc_call_desc *d, void **args, struct rg_reply *rep)
{
    rpc_rbuf r;
    uint32_t result = CUDA_ERROR_UNKNOWN;
    rpc_rbuf_init(&r, rep->enc, rep->hdr.enc_len);
    if (rpc_decode_reply(d, args, &r, rep->raw, rep->raw_len, &result) != 0) {
        rg_log(RG_LOG_ERROR, "%s: the server's reply does not decode", d->name);
        result = CUDA_ERROR_UNKNOWN;
    }
    rg_reply_free(rep);
    return (CUresult)result;
}

/* A generic reply's raw part is its one output buffer: received straight into
 * the application's memory (no reply-sized buffer, no copy after). */
static void reply_sink(const struct rpc_call_desc *d, void **args, void **sink, size_t *sink_len)
{
    int k = -1;
    uint64_t len = 0;
    if (d->cls != RPC_CLASS_FORWARD || d->custom) return;
    for (int i = 0; i < d->nargs; i++) {
        uint8_t kind = d->args[i].kind;
        if (kind != RPC_ARG_OUT_BUF && kind != RPC_ARG_INOUT_BUF) continue;
        if (k >= 0) return;
        k = i;
    }
    if (k < 0 || !*(void **)args[k] || rpc_arg_len(d, (unsigned)k, args, &len) || !len) return;
    *sink = *(void **)args[k];
    *sink_len = (size_t)len;
}

static CUresult send_call(const struct rpc_call_desc *d, void **args, int wait)
{
    rpc_wbuf w;
    struct iovec raw[RAW_MAX];
    int nraw = RAW_MAX;
    rpc_wbuf_init_dyn(&w, rg_conn_max_enc());
    int rc = rpc_encode_call(d, args, &w, raw, &nraw);
    if (rc != 0 || !rpc_wbuf_ok(&w)) {
        static _Atomic int warned[1024]; /* DESIGN rule 9: a marshaller's refusal, logged once */
        if (rc == CUDA_ERROR_NOT_SUPPORTED && d->op < 1024 && !atomic_exchange(&warned[d->op], 1))
            rg_log(RG_LOG_WARN, "%s: these arguments cannot be forwarded (NOT_SUPPORTED)", d->name);
        rg_log(RG_LOG_DEBUG, "%s: not encoded (%d)", d->name, rc);
        rpc_wbuf_free(&w);
        return rc > 0 ? (CUresult)rc : CUDA_ERROR_INVALID_VALUE;
    }
    rpc_hdr h = {.op = d->op, .ctx = rg_ctx_current_id(), .flags = wait ? 0 : RPC_F_NOREPLY};
    struct rg_reply rep = {0};
    void *sink = NULL;
    size_t sink_len = 0;
    if (wait) reply_sink(d, args, &sink, &sink_len);
    CUresult r = rg_conn_call_into(&h, w.data, w.len, raw, nraw, wait, sink, sink_len, &rep);
    rpc_wbuf_free(&w);
    if (r != CUDA_SUCCESS || !wait) return r;
    r = decode(d, args, &rep);
    /* An earlier pipelined call's failure surfaces at the next call that waits. */
    CUresult late = rg_conn_take_async_error();
    if (late != CUDA_SUCCESS) rg_log(RG_LOG_DEBUG, "%s: reporting an earlier pipelined failure %d", d->name, (int)late);
    return r == CUDA_SUCCESS && late != CUDA_SUCCESS ? late : r;
}

/* 1D host<->device copies over RPC_MAX_CALL_BYTES travel as several calls
 * (rpc/calls.h): (dst, src, ByteCount[, stream]) with both addresses advanced. */
static int is_split_copy(const struct rpc_call_desc *d)
{
    return (rg_call_traits(d) & RG_TR_SPLIT_COPY) != 0;
}

static CUresult send_split(const struct rpc_call_desc *d, void **args, int wait)
{
    uint64_t dst = *(uint64_t *)args[0], src = *(uint64_t *)args[1];
    size_t total = *(size_t *)args[2];
    void *a[RPC_MAX_ARGS];
    memcpy(a, args, d->nargs * sizeof *a);
    for (size_t off = 0; off < total;) {
        size_t n = total - off < RPC_MAX_CALL_BYTES ? total - off : RPC_MAX_CALL_BYTES;
        uint64_t d0 = dst + off, s0 = src + off;
        a[0] = &d0, a[1] = &s0, a[2] = &n;
        CUresult r = send_call(d, a, wait);
        if (r != CUDA_SUCCESS) return r;
        off += n;
    }
    return CUDA_SUCCESS;
}

static CUresult forward(const struct rpc_call_desc *d, void **args);

/* Unified addressing: cuMemcpy / cuMemcpyAsync (dst, src, ByteCount[, stream])
 * with a host side become HtoD / DtoH here; the shim knows its window. */
static CUresult unified_copy(const struct rpc_call_desc *d, void **args)
{
    uint64_t dst = *(uint64_t *)args[0], src = *(uint64_t *)args[1];
    size_t n = *(size_t *)args[2];
    int ddev = rg_in_window(dst), sdev = rg_in_window(src);
    if (ddev && sdev) return (CUresult)-1;
    if (!ddev && !sdev) {
        if (n && (!dst || !src)) return CUDA_ERROR_INVALID_VALUE;
        if (n) memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
        return CUDA_SUCCESS;
    }
    int is_async = !strncmp(d->name, "cuMemcpyAsync", 13);
    const char *suffix = strstr(d->name, "_pt");
    char name[64];
    snprintf(name, sizeof name, "cuMemcpy%s%s_v2%s", ddev ? "HtoD" : "DtoH",
             is_async ? "Async" : "", suffix ? suffix : "");
    const struct rpc_call_desc *d2 = rpc_call_by_name(name);
    if (!d2 || d2->nargs != d->nargs) return (CUresult)-1;
    void *host = (void *)(uintptr_t)(ddev ? src : dst);
    void *a[4] = {ddev ? args[0] : (void *)&host, ddev ? (void *)&host : args[1], args[2],
                  d->nargs > 3 ? args[3] : NULL};
    return forward(d2, a);
}

/* cuMemsetD16 / D32 (and their 2D forms) need an aligned destination. */
static int misaligned_memset(const struct rpc_call_desc *d, void **args)
{
    if (!(rg_call_traits(d) & RG_TR_MEMSET_D)) return 0;
    unsigned a = strstr(d->base, "16") ? 2 : strstr(d->base, "32") ? 4 : 1;
    if (*(uint64_t *)args[0] % a) return 1;
    if (strncmp(d->base, "cuMemsetD2D", 11) || d->nargs < 5) return 0;
    size_t pitch = *(size_t *)args[1], width = *(size_t *)args[3], height = *(size_t *)args[4];
    if (pitch % a || width > pitch / a) return 1;
    if (!width || !height || height > UINT64_MAX / pitch) return 0;
    return !rg_mirror_range_ok(*(uint64_t *)args[0], pitch * (height - 1) + width * a);
}

/* Pipelined creations: flags the driver would refuse are refused here. */
static int bad_create_flags(const struct rpc_call_desc *d, void **args)
{
    if (!(rg_call_traits(d) & RG_TR_CREATE_FLAGS)) return 0;
    if (!strcmp(d->name, "cuEventCreate") && d->nargs == 2) {
        unsigned f = *(unsigned *)args[1];
        if ((f & CU_EVENT_INTERPROCESS) && !(f & CU_EVENT_DISABLE_TIMING))
            return 1; /* an interprocess event must not record timing */
        return (f & ~(unsigned)(CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING |
                                CU_EVENT_INTERPROCESS)) != 0;
    }
    if (!strcmp(d->name, "cuStreamCreate") && d->nargs == 2)
        return (*(unsigned *)args[1] & ~(unsigned)CU_STREAM_NON_BLOCKING) != 0;
    if (!strcmp(d->base, "cuStreamWaitEvent") && d->nargs == 3)
        return (*(unsigned *)args[2] & ~(unsigned)CU_EVENT_WAIT_EXTERNAL) != 0;
    return 0;
}

/* cuEventRecord[WithFlags]: flags, then the stream must be of the event's own
 * context (the driver's CUDA_ERROR_INVALID_HANDLE); the shim knows both. */
static CUresult check_record(const struct rpc_call_desc *d, void **args)
{
    if (!(rg_call_traits(d) & RG_TR_RECORD)) return CUDA_SUCCESS;
    if (d->nargs < 2 || d->args[0].handle != RPC_H_EVENT || d->args[1].handle != RPC_H_STREAM)
        return CUDA_SUCCESS;
    if (d->nargs == 3 && (*(unsigned *)args[2] & ~(unsigned)CU_EVENT_RECORD_EXTERNAL))
        return CUDA_ERROR_INVALID_VALUE;
    uint64_t ec = rg_id_ctx(handle_value(&d->args[0], args[0]));
    uint64_t sc = rg_stream_ctx(handle_value(&d->args[1], args[1]));
    return ec && sc && ec != sc ? CUDA_ERROR_INVALID_HANDLE : CUDA_SUCCESS;
}

/* Local answers and refusals before anything is sent; -1 to go on. */
static int answer_locally(const struct rpc_call_desc *d, void **args)
{
    if (misaligned_memset(d, args) || bad_create_flags(d, args)) return CUDA_ERROR_INVALID_VALUE;
    uint32_t tr = rg_call_traits(d);
    uint64_t cur = rg_ctx_current_id();
    int ctx_level = (tr & RG_TR_CTX_LEVEL) != 0;
    if (cur && rg_ctx_dead(cur) && !ctx_level) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    CUresult st = rg_ctx_sticky(cur);
    if (st != CUDA_SUCCESS && (!ctx_level || (tr & RG_TR_CTX_SYNC))) return st;
    if (tr & RG_TR_UNIFIED_COPY) return (int)unified_copy(d, args);
    int host = rg_host_ptr_attr(d, args);
    if (host >= 0) return host;
    return rg_dev_local(d, args);
}

/* A synchronous copy or memset is pipelined because its completion cannot be
 * observed (DESIGN rule 3) — unless a host callback is pending: then the
 * application can see whether the call returned before earlier stream work
 * ran, so it waits, as the driver does. */
static int observable_sync(const struct rpc_call_desc *d)
{
    return (rg_call_traits(d) & RG_TR_SYNC_COPY) && rg_cb_pending();
}

/* CUDA_VISIBLE_DEVICES: the application's device ordinals become the
 * session's on the wire (args itself is left alone: local effects use the
 * application's), and device results come back as the application's. */
static void **device_ordinals_out(const struct rpc_call_desc *d, void **args, void **wire,
                                  int *vals)
{
    void **out = args;
    for (unsigned i = 0; i < d->nargs && i < RPC_MAX_ARGS; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_HANDLE || a->handle != RPC_H_DEVICE || a->size != sizeof(int))
            continue;
        if (out == args) {
            memcpy(wire, args, d->nargs * sizeof *wire);
            out = wire;
        }
        vals[i] = rg_dev_to_session(*(int *)args[i]);
        wire[i] = &vals[i];
    }
    return out;
}

static CUresult device_ordinals_in(const struct rpc_call_desc *d, void **args)
{
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind != RPC_ARG_OUT_HANDLE || a->handle != RPC_H_DEVICE || a->size != sizeof(int))
            continue;
        int *p = *(int **)args[i];
        if (!p) continue;
        int app = rg_dev_from_session(*p);
        if (app < 0) return CUDA_ERROR_INVALID_VALUE; /* a device the application cannot see */
        *p = app;
    }
    return CUDA_SUCCESS;
}

/* While a stream capture is active, the driver answers calls by rules of
 * capture modes, threads and streams the shim does not mirror (INVALIDATED,
 * IMPLICIT, UNSUPPORTED, ... and the capture invalidated as a side effect):
 * nothing is pipelined then, so those answers come from the calls
 * themselves. A capture ends with cuStreamEndCapture, successful or not. */
static _Atomic int captures;

/* callbacks.c: a host function enqueued while a capture may be active waits too. */
int rg_capture_active(void)
{
    return atomic_load(&captures) > 0;
}

static void note_capture(const struct rpc_call_desc *d, void **args, CUresult r)
{
    if (!(rg_call_traits(d) & RG_TR_CAPTURE)) return;
    if (!strncmp(d->base, "cuStreamBeginCapture", 20) && r == CUDA_SUCCESS) {
        atomic_fetch_add(&captures, 1);
    } else if (!strcmp(d->base, "cuStreamEndCapture") &&
               (r == CUDA_SUCCESS || r == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED ||
                r == CUDA_ERROR_STREAM_CAPTURE_UNJOINED)) {
        /* the capture ended; an invalidated or unjoined one gives a NULL graph (a
         * failed reply carries no outputs) */
        if (r != CUDA_SUCCESS && d->nargs == 2 && *(CUgraph **)args[1]) **(CUgraph **)args[1] = NULL;
        int n = atomic_load(&captures);
        while (n > 0 && !atomic_compare_exchange_weak(&captures, &n, n - 1)) {
        }
    }
}

static CUresult forward(const struct rpc_call_desc *d, void **args)
{
    if (rg_call_traits(d) & RG_TR_INIT) return rg_shim_init(*(unsigned *)args[0]);
    CUresult r = rg_ready();
    if (r != CUDA_SUCCESS) return r;
    /* launch.c: a launch like the last one batched goes as one more run of it */
    struct rg_launch_key key;
    size_t key_len = rg_launch_key(d, args, &key);
    if (key_len && rg_conn_repeat(&key, RG_LAUNCH_KEY_FIXED, key_len)) return CUDA_SUCCESS;
    int local = answer_locally(d, args);
    if (local >= 0) return (CUresult)local;
    int wait = d->mode != RPC_MODE_ASYNC || rg_sess.cfg.launch_blocking || observable_sync(d) ||
               atomic_load(&captures) > 0;
    if ((r = check_args(d, args, !wait)) != CUDA_SUCCESS) return r;
    if ((r = check_record(d, args)) != CUDA_SUCCESS) return r;
    int must_wait = 0;
    if ((r = rg_launch_check(d, args, &must_wait)) != CUDA_SUCCESS) return r;
    wait |= must_wait;
    mint_ids(d, args);
    uint64_t cur = rg_ctx_current_id();
    void *wire[RPC_MAX_ARGS];
    int dev_vals[RPC_MAX_ARGS];
    void **sent = device_ordinals_out(d, args, wire, dev_vals);
    struct rg_copy_struct copy;
    if (sent == args) sent = rg_mirror_unified_copy(d, args, wire, &copy); /* no device args */
    if ((r = rg_managed_before(d, args)) != CUDA_SUCCESS) return r;
    /* A free leaves the mirror before the server frees: another thread's allocation
     * may get the same address back from the server, and its entry must not be the
     * one this free's update removes (managed memory left in rg_managed_before). */
    int is_free = (rg_call_traits(d) & RG_TR_FREE) != 0;
    uint64_t freed = is_free ? rg_mirror_remove(*(uint64_t *)args[0]) : 0;
    if (is_split_copy(d) && *(size_t *)args[2] > RPC_MAX_CALL_BYTES) {
        r = send_split(d, sent, wait);
    } else {
        /* a function's first launch has its parameter layout only since rg_launch_check */
        if (!wait && !key_len) key_len = rg_launch_key(d, args, &key);
        rg_conn_offer_repeat(&key, RG_LAUNCH_KEY_FIXED, wait ? 0 : key_len);
        r = send_call(d, sent, wait);
        rg_conn_offer_repeat(NULL, 0, 0);
    }
    if (r != CUDA_SUCCESS && freed) rg_mirror_add(*(uint64_t *)args[0], freed); /* not freed */
    if (r == CUDA_SUCCESS && wait) r = device_ordinals_in(d, args);
    if (rpc_error_is_sticky(r)) rg_ctx_set_sticky(cur, r);
    note_capture(d, args, r);
    if (r == CUDA_SUCCESS) after_success(d, args);
    if (r == CUDA_SUCCESS) r = rg_managed_after(d);
    return r;
}

/* Fallbacks while the codec is not built: nothing is forwarded. The codec's
 * definitions (rg_rpc, linked whole) replace them. */
__attribute__((weak)) int rpc_encode_call(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                    struct iovec *raw, int *nraw)
{
    (void)d, (void)args, (void)raw;
    *nraw = 0;
    w->err = 1;
    return CUDA_ERROR_NOT_SUPPORTED;
}
__attribute__((weak)) int rpc_decode_reply(const struct rpc_call_desc *d, void *const *args,
                                           struct rpc_rbuf *r, const void *raw, size_t raw_len,
                                           uint32_t *result)
{
    (void)d, (void)args, (void)r, (void)raw, (void)raw_len;
    *result = CUDA_ERROR_NOT_SUPPORTED;
    return -1;
}

CUresult rg_shim_forward(const struct rpc_call_desc *d, void **args)
{
    int saved = errno;
    CUresult r = d && (args || !d->nargs) ? forward(d, args) : CUDA_ERROR_INVALID_VALUE;
    if (r != CUDA_SUCCESS && rg_log_enabled(RG_LOG_DEBUG))
        rg_log(RG_LOG_DEBUG, "%s -> %d", d ? d->name : "?", (int)r);
    errno = saved;
    return r;
}
