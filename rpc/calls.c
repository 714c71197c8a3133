/* calls.c — finding a call's descriptor in the generated rpc_calls[] table
 * (rpc_calls_table.c in the build tree): by op number, which is the index + 1,
 * and by exported name, which the table is sorted by. */
#include <string.h>

#include "calls.h"

const struct rpc_call_desc *rpc_call_by_op(uint32_t op)
{
    if (op == 0 || op > rpc_ncalls) return NULL;
    return &rpc_calls[op - 1];
}

const struct rpc_call_desc *rpc_call_by_name(const char *name)
{
    size_t lo = 0, hi = rpc_ncalls;
    if (!name) return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, rpc_calls[mid].name);
        if (c == 0) return &rpc_calls[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
