/* custom_jit.c — JIT options on the wire (see custom_jit.h). */
#include <string.h>

#include "custom_jit.h"

static int is_log(uint32_t o)
{
    return o == CU_JIT_INFO_LOG_BUFFER || o == CU_JIT_ERROR_LOG_BUFFER;
}

static int is_log_size(uint32_t o)
{
    return o == CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES || o == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES;
}

/* Options whose value is an array in the client's memory. */
static int is_pointer_array(uint32_t o)
{
    return o == CU_JIT_GLOBAL_SYMBOL_NAMES || o == CU_JIT_GLOBAL_SYMBOL_ADDRESSES ||
           o == CU_JIT_REFERENCED_KERNEL_NAMES || o == CU_JIT_REFERENCED_VARIABLE_NAMES;
}

/* Values the driver writes back (OUT or IN/OUT in cuda.h). */
static int is_written_back(uint32_t o)
{
    return is_log_size(o) || o == CU_JIT_WALL_TIME || o == CU_JIT_THREADS_PER_BLOCK;
}

/* ---- client ------------------------------------------------------------------------ */

int rpc_jit_encode(struct rpc_wbuf *w, unsigned n, const CUjit_option *opts, void *const *vals)
{
    if (n && (!opts || !vals)) return RPC_CU_INVALID_VALUE;
    for (unsigned i = 0; i < n; i++) {
        if ((unsigned)opts[i] >= CU_JIT_NUM_OPTIONS) return RPC_CU_INVALID_VALUE;
        if (is_pointer_array(opts[i])) return RPC_CU_NOT_SUPPORTED;
    }
    if (n > RPC_JIT_MAX_OPTIONS) return RPC_CU_NOT_SUPPORTED;
    rpc_put_u32(w, n);
    for (unsigned i = 0; i < n; i++) {
        rpc_put_u32(w, (uint32_t)opts[i]);
        rpc_put_u64(w, is_log(opts[i]) ? 0 : (uint64_t)(uintptr_t)vals[i]);
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* The application's log buffer `which` (3 info, 5 error) and its capacity. */
static char *client_log(unsigned n, const CUjit_option *opts, void *const *vals, uint32_t which,
                        size_t *cap)
{
    char *buf = NULL;
    *cap = 0;
    for (unsigned i = 0; opts && vals && i < n; i++) {
        if ((uint32_t)opts[i] == which) buf = vals[i];
        if ((uint32_t)opts[i] == which + 1) *cap = (size_t)(uintptr_t)vals[i];
    }
    return *cap ? buf : NULL;
}

int rpc_jit_decode_reply(struct rpc_rbuf *r, unsigned n, const CUjit_option *opts, void **vals,
                         void *const *sent)
{
    uint64_t after[RPC_JIT_MAX_OPTIONS];
    uint32_t m = rpc_get_u32(r);
    if (!opts && !vals) n = m; /* read and dropped */
    if (!rpc_rbuf_ok(r) || m != n || m > RPC_JIT_MAX_OPTIONS) return -1;
    for (uint32_t i = 0; i < m; i++) after[i] = rpc_get_u64(r);
    for (uint32_t k = 0; k < 2; k++) {
        size_t len, cap;
        const char *text = rpc_get_blob(r, &len);
        if (!rpc_rbuf_ok(r) || len > RPC_JIT_MAX_LOG) return -1;
        char *buf = client_log(n, opts, sent ? sent : vals,
                               k ? CU_JIT_ERROR_LOG_BUFFER : CU_JIT_INFO_LOG_BUFFER, &cap);
        if (!buf) continue;
        size_t keep = len < cap - 1 ? len : cap - 1;
        memcpy(buf, text, keep);
        buf[keep] = 0;
    }
    for (uint32_t i = 0; opts && vals && i < m; i++)
        if (is_written_back(opts[i])) vals[i] = (void *)(uintptr_t)after[i];
    return rpc_rbuf_ok(r) ? 0 : -1;
}

/* ---- worker ------------------------------------------------------------------------ */

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

int rpc_jit_decode(struct rpc_rbuf *r, struct rpc_jit *j)
{
    memset(j, 0, sizeof *j);
    j->n = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || j->n > RPC_JIT_MAX_OPTIONS) return -1;
    if (!(j->wire = rpc_get_view(r, (size_t)j->n * 12)) && j->n) return -1;
    for (uint32_t i = 0; i < j->n; i++) {
        uint32_t o = (uint32_t)rpc_uint_at(j->wire + 12 * i, 4);
        uint64_t v = rpc_uint_at(j->wire + 12 * i + 4, 8);
        if (o >= CU_JIT_NUM_OPTIONS || is_pointer_array(o)) return -1;
        if (is_log(o)) j->has_log[o == CU_JIT_ERROR_LOG_BUFFER] = 1;
        if (is_log_size(o))
            j->cap[o == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES] = v < RPC_JIT_MAX_LOG ? v : RPC_JIT_MAX_LOG;
    }
    for (int k = 0; k < 2; k++)
        if (!j->has_log[k]) j->cap[k] = 0;
    return 0;
}

size_t rpc_jit_size(const struct rpc_jit *j)
{
    return align16(j->n * sizeof(CUjit_option)) + align16(j->n * sizeof(void *)) +
           align16(j->cap[0] + 1) + align16(j->cap[1] + 1);
}

void rpc_jit_place(struct rpc_jit *j, void *mem)
{
    uint8_t *p = mem;
    j->opts = (CUjit_option *)p;
    p += align16(j->n * sizeof(CUjit_option));
    j->vals = (void **)p;
    p += align16(j->n * sizeof(void *));
    for (int k = 0; k < 2; k++) {
        j->log[k] = j->has_log[k] ? (char *)p : NULL;
        p += align16(j->cap[k] + 1);
    }
    for (uint32_t i = 0; i < j->n; i++) {
        uint32_t o = (uint32_t)rpc_uint_at(j->wire + 12 * i, 4);
        uint64_t v = rpc_uint_at(j->wire + 12 * i + 4, 8);
        if (is_log(o)) v = (uintptr_t)j->log[o == CU_JIT_ERROR_LOG_BUFFER];
        if (is_log_size(o)) v = j->cap[o == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES];
        j->opts[i] = (CUjit_option)o;
        j->vals[i] = (void *)(uintptr_t)v;
    }
    j->wire = NULL; /* the encoded part is gone once the call returns */
}

void rpc_jit_encode_reply(struct rpc_wbuf *w, const struct rpc_jit *j)
{
    uint32_t n = j ? j->n : 0;
    rpc_put_u32(w, n);
    for (uint32_t i = 0; i < n; i++)
        rpc_put_u64(w, is_log(j->opts[i]) ? 0 : (uint64_t)(uintptr_t)j->vals[i]);
    for (int k = 0; k < 2; k++) {
        const char *t = j && j->log[k] ? j->log[k] : "";
        size_t len = j && j->log[k] ? strnlen(t, j->cap[k]) : 0;
        rpc_put_blob(w, t, len);
    }
}
