/* cudart_tables.c — the small export tables cudart fetches at start-up
 * (ref §4.1–4.3, 4.5): CUDART_INTERFACE, the tools callback hooks, TOOLS_TLS
 * and the context checks. Slots nobody has seen called are harmless stubs. */
#include <string.h>

#include "tables.h"

/* Status for a table function called before the driver installed its host. */
static const rg_darkapi_host *host_or_null(void)
{
    const rg_darkapi_host *h = rg_darkapi_host_get();
    if (!h) rg_log(RG_LOG_ERROR, "darkapi: export table used before the driver installed its host");
    return h;
}

static CUresult stub_not_supported(void)
{
    rg_log(RG_LOG_DEBUG, "darkapi: unknown export-table slot called");
    return CUDA_ERROR_NOT_SUPPORTED;
}

static CUresult stub_success(void)
{
    return CUDA_SUCCESS;
}

static void stub_void(void) {}

/* ---- CUDART_INTERFACE 6bd5fb6c ------------------------------------------ */

static CUresult ci_module_from_fatbin(CUmodule *out, const void *wrapper)
{
    const rg_darkapi_host *h = host_or_null();
    rg_log(RG_LOG_DEBUG, "CUDART_INTERFACE: load module from fatbin %p", wrapper);
    if (!h || !h->module_from_fatbin) return CUDA_ERROR_NOT_INITIALIZED;
    if (!out || !wrapper) return CUDA_ERROR_INVALID_VALUE;
    return h->module_from_fatbin(out, wrapper);
}

static CUresult ci_primary_ctx(CUcontext *out, CUdevice dev)
{
    const rg_darkapi_host *h = host_or_null();
    rg_log(RG_LOG_DEBUG, "CUDART_INTERFACE: primary context of device %d", (int)dev);
    if (!h || !h->primary_ctx) return CUDA_ERROR_NOT_INITIALIZED;
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    return h->primary_ctx(out, dev);
}

static CUresult ci_module_from_fatbin_ext(CUmodule *out, const void *wrapper, void *a3, void *a4,
                                          unsigned a5)
{
    if (a3 || a4 || a5) return CUDA_ERROR_NOT_SUPPORTED;
    return ci_module_from_fatbin(out, wrapper);
}

static CUresult ci_module_from_container(const void *container, CUmodule *out, void *a3, void *a4,
                                         unsigned a5)
{
    return ci_module_from_fatbin_ext(out, container, a3, a4, a5);
}

static void ci_notify(size_t v)
{
    (void)v;
}

const rg_slot rg_tbl_cudart_interface[13] = {
    RG_SLOT_SIZE(13),
    RG_SLOT_FN(ci_module_from_fatbin),
    RG_SLOT_FN(ci_primary_ctx),
    RG_SLOT_FN(stub_not_supported),
    RG_SLOT_FN(stub_not_supported),
    RG_SLOT_FN(stub_not_supported),
    RG_SLOT_FN(ci_module_from_fatbin_ext),
    RG_SLOT_FN(ci_notify),
    RG_SLOT_FN(ci_module_from_container),
    RG_SLOT_FN(stub_not_supported),
    RG_SLOT_FN(stub_not_supported),
    RG_SLOT_FN(stub_not_supported),
    RG_SLOT_FN(stub_success), /* 13.1+: load JIT helpers */
};

/* ---- TOOLS_RUNTIME_CALLBACK_HOOKS a094798c -------------------------------
 * Zeroed buffers tell cudart no tool is subscribed. cudart 13.0 needs >= 523
 * callback entries and >= 14 flag bytes; newer runtimes add ids. */

#define HOOK_CALLBACK_ENTRIES 1024
static uint64_t hook_callbacks[HOOK_CALLBACK_ENTRIES];
static uint8_t hook_flags[64];

static void hooks_callback_buffer(void **buf, size_t *count)
{
    if (buf) *buf = hook_callbacks;
    if (count) *count = HOOK_CALLBACK_ENTRIES;
}

static void hooks_flag_buffer(void **buf, size_t *bytes)
{
    if (buf) *buf = hook_flags;
    if (bytes) *bytes = sizeof hook_flags;
}

static CUresult hooks_slot4(const void *in, uint64_t *out)
{
    if (out) *out = 0;
    return CUDA_SUCCESS;
}

const rg_slot rg_tbl_callback_hooks[7] = {
    RG_SLOT_SIZE(7),
    RG_SLOT_FN(stub_void),
    RG_SLOT_FN(hooks_callback_buffer),
    RG_SLOT_FN(stub_success),
    RG_SLOT_FN(hooks_slot4),
    RG_SLOT_FN(stub_void),
    RG_SLOT_FN(hooks_flag_buffer),
};

/* ---- TOOLS_TLS 42d85a81 -------------------------------------------------- */

static CUresult tls_current_ctx(CUcontext *out)
{
    const rg_darkapi_host *h = host_or_null();
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    *out = NULL;
    if (h && h->ctx_current) return h->ctx_current(out);
    return CUDA_SUCCESS;
}

const rg_slot rg_tbl_tools_tls[4] = {
    RG_SLOT_SIZE(4),
    RG_SLOT_FN(stub_success),
    RG_SLOT_FN(tls_current_ctx),
    RG_SLOT_FN(stub_success),
};

/* ---- CONTEXT_CHECKS 263e8860 ---------------------------------------------
 * rgpu has no wrapped (green) contexts: every context is its own. */

static CUresult checks_is_wrapped(CUcontext ctx, unsigned *is_wrapped, CUcontext *inner)
{
    if (is_wrapped) *is_wrapped = 0;
    if (inner) *inner = NULL;
    return CUDA_SUCCESS;
}

static unsigned checks_flags(void)
{
    return 0;
}

const rg_slot rg_tbl_ctx_checks[4] = {
    RG_SLOT_SIZE(4),
    RG_SLOT_FN(stub_not_supported),
    RG_SLOT_FN(checks_is_wrapped),
    RG_SLOT_FN(checks_flags),
};
