/* ctx_identity.c — export table 21318c60 (ref §3: "context identity"), which
 * cuBLAS, cuBLASLt and cuFFT fetch. Only the slots seen called are filled in;
 * every other slot logs its number and fails cleanly, so a caller that needs
 * more shows up in RGPU_LOG=debug instead of jumping through garbage.
 *
 * Seen in libcublasLt.so.13 (13.1): before each matmul it asks TOOLS_TLS
 * slot 2 for the current context, then
 *   slot 4 (0x20):   CUresult f(CUcontext ctx, unsigned long long *id)
 *                    the context's unique id (as cuCtxGetId), the key of its
 *                    per-context cache; an error makes the matmul fail.
 * Seen in libcublas.so.13 (13.1): its per-stream event pool (which tracks when
 * a handle's workspace is free again) first asks TOOLS_TLS slot 2 for the
 * current context, then calls
 *   slot 51 (0x198): CUresult f(CUcontext ctx, CUstream h, CUstream *out, int per_thread)
 *                    resolve an application stream handle (per_thread is h == 2,
 *                    CU_STREAM_PER_THREAD) to the driver's stream;
 *   slot 39 (0x138): CUresult f(CUcontext ctx, CUstream s, unsigned long long *id)
 *                    the stream's unique id, used as the pool key.
 * Any error from 51 or 39 makes cublas<t>gemm fail (status 14/15), so both answer
 * through the host library's own cuCtxGetId / cuStreamGetId, found with cuGetProcAddress. */
#include "tables.h"

#define CTXID_SLOTS 96

typedef CUresult (*stream_id_fn)(CUstream, unsigned long long *);
typedef CUresult (*ctx_id_fn)(CUcontext, unsigned long long *);

/* The host library's own export of a driver entry point (NULL if none). */
static void *driver_fn(const char *name)
{
    void *fn = NULL;
    if (rg_procaddr_lookup(name, &fn, 12000, CU_GET_PROC_ADDRESS_DEFAULT, NULL) != CUDA_SUCCESS)
        return NULL;
    return fn;
}

static CUresult ctxid_ctx_id(CUcontext ctx, unsigned long long *id)
{
    ctx_id_fn fn = (ctx_id_fn)driver_fn("cuCtxGetId");
    if (!id) return CUDA_ERROR_INVALID_VALUE;
    CUresult rv = fn ? fn(ctx, id) : CUDA_ERROR_NOT_SUPPORTED;
    rg_log(RG_LOG_DEBUG, "21318c60 slot 4: id of context %p -> %d (%llu)", (void *)ctx, (int)rv,
           rv == CUDA_SUCCESS ? *id : 0ull);
    return rv;
}

static CUresult ctxid_resolve_stream(CUcontext ctx, CUstream h, CUstream *out, int per_thread)
{
    (void)ctx;
    rg_log(RG_LOG_DEBUG, "21318c60 slot 51: resolve stream %p (per-thread %d)", (void *)h,
           per_thread);
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    /* Handles are already the driver's; the special values keep their meaning. */
    *out = h;
    return CUDA_SUCCESS;
}

static CUresult ctxid_stream_id(CUcontext ctx, CUstream s, unsigned long long *id)
{
    (void)ctx;
    stream_id_fn fn = (stream_id_fn)driver_fn("cuStreamGetId");
    if (!id) return CUDA_ERROR_INVALID_VALUE;
    CUresult rv = fn ? fn(s, id) : CUDA_ERROR_NOT_SUPPORTED;
    rg_log(RG_LOG_DEBUG, "21318c60 slot 39: id of stream %p -> %d (%llu)", (void *)s, (int)rv,
           rv == CUDA_SUCCESS ? *id : 0ull);
    return rv;
}

/* One distinct stub per unknown slot, so the log names the slot. */
static CUresult ctxid_unknown(int slot)
{
    rg_log(RG_LOG_WARN, "export table 21318c60: unimplemented slot %d called", slot);
    return CUDA_ERROR_NOT_SUPPORTED;
}

/* clang-format off */
#define STUB(n) \
    __attribute__((unused)) static CUresult ctxid_stub_##n(void) { return ctxid_unknown(n); }
#define STUB10(t) \
    STUB(t##0) STUB(t##1) STUB(t##2) STUB(t##3) STUB(t##4) \
    STUB(t##5) STUB(t##6) STUB(t##7) STUB(t##8) STUB(t##9)
STUB(1) STUB(2) STUB(3) STUB(4) STUB(5) STUB(6) STUB(7) STUB(8) STUB(9)
STUB10(1) STUB10(2) STUB10(3) STUB10(4) STUB10(5) STUB10(6) STUB10(7) STUB10(8)
STUB(90) STUB(91) STUB(92) STUB(93) STUB(94) STUB(95)

#define S(n) RG_SLOT_FN(ctxid_stub_##n)
#define S10(t) S(t##0), S(t##1), S(t##2), S(t##3), S(t##4), \
               S(t##5), S(t##6), S(t##7), S(t##8), S(t##9)

const rg_slot rg_tbl_ctx_identity[CTXID_SLOTS] = {
    RG_SLOT_SIZE(CTXID_SLOTS),
    S(1), S(2), S(3), RG_SLOT_FN(ctxid_ctx_id), S(5),               /* 4 */
    S(6), S(7), S(8), S(9),
    S10(1), S10(2),
    S(30), S(31), S(32), S(33), S(34), S(35), S(36), S(37), S(38),
    RG_SLOT_FN(ctxid_stream_id),                                    /* 39 */
    S10(4),
    S(50), RG_SLOT_FN(ctxid_resolve_stream), S(52), S(53), S(54),   /* 51 */
    S(55), S(56), S(57), S(58), S(59),
    S10(6), S10(7), S10(8),
    S(90), S(91), S(92), S(93), S(94), S(95),
};
/* clang-format on */
