/* procaddr.c — cuGetProcAddress resolution over the table gen_exports.py
 * generates into the driver library (ref §9): base name + version + flags to
 * the newest exported variant introduced at or before that version. */
#include <stdatomic.h>
#include <string.h>

#include "darkapi.h"
#include "procaddr_table.h"

/* First table row whose name is `symbol`, or NULL. Rows are sorted by name. */
static const struct rg_procaddr_entry *find_first(const char *symbol)
{
    size_t lo = 0, hi = rg_procaddr_table_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(rg_procaddr_table[mid].name, symbol) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < rg_procaddr_table_len && strcmp(rg_procaddr_table[lo].name, symbol) == 0)
        return &rg_procaddr_table[lo];
    return NULL;
}

/* Newest row of class `per_thread` introduced at or before `version`. */
static const struct rg_procaddr_entry *newest(const struct rg_procaddr_entry *first, int per_thread,
                                              int version)
{
    const struct rg_procaddr_entry *best = NULL;
    const struct rg_procaddr_entry *end = rg_procaddr_table + rg_procaddr_table_len;
    for (const struct rg_procaddr_entry *e = first; e < end && !strcmp(e->name, first->name); e++)
        if (e->per_thread == per_thread && e->version <= version &&
            (!best || e->version > best->version))
            best = e;
    return best;
}

static CUresult answer(void **pfn, CUdriverProcAddressQueryResult *status, void *fn,
                       CUdriverProcAddressQueryResult st, CUresult rv)
{
    if (pfn) *pfn = fn;
    if (status) *status = st;
    return rv;
}

CUresult rg_procaddr_lookup(const char *symbol, void **pfn, int cuda_version, cuuint64_t flags,
                            CUdriverProcAddressQueryResult *status)
{
    if (!pfn) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~(cuuint64_t)(CU_GET_PROC_ADDRESS_LEGACY_STREAM |
                              CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM)) {
        *pfn = NULL;
        return CUDA_ERROR_INVALID_VALUE;
    }
    const struct rg_procaddr_entry *first = symbol && *symbol ? find_first(symbol) : NULL;
    if (!first) {
        rg_log(RG_LOG_DEBUG, "cuGetProcAddress: unknown symbol \"%s\" (version %d, flags %llu)",
               symbol ? symbol : "(null)", cuda_version, (unsigned long long)flags);
        return answer(pfn, status, NULL, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND,
                      CUDA_ERROR_NOT_FOUND);
    }
    /* DEFAULT (0) means "as the caller was compiled"; a driver cannot know, and
     * the real driver answers 0 like LEGACY_STREAM (1). */
    const struct rg_procaddr_entry *pick = newest(first, 0, cuda_version);
    if (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) {
        const struct rg_procaddr_entry *pt = newest(first, 1, cuda_version);
        if (pt && (!pick || pt->version >= pick->version)) pick = pt;
    }
    if (!pick) {
        rg_log(RG_LOG_DEBUG, "cuGetProcAddress: %s needs a version newer than %d", symbol,
               cuda_version);
        return answer(pfn, status, NULL, CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT,
                      CUDA_ERROR_NOT_FOUND);
    }
    return answer(pfn, status, (void *)pick->fn, CU_GET_PROC_ADDRESS_SUCCESS, CUDA_SUCCESS);
}

int rg_unsupported_call(const char *name, _Atomic int *once)
{
    if (!atomic_exchange(once, 1)) rg_log(RG_LOG_WARN, "%s is not supported by simgpu/rgpu", name);
    return CUDA_ERROR_NOT_SUPPORTED;
}
