/* calls.c — finding a call's descriptor in the generated rpc_calls[] table
 * (rpc_calls_table.c in the build tree): by op number, which is the index + 1,
 * and by exported name, which the table is sorted by; and tables of facts
 * about each call (rpc_traits). */
#include <stdatomic.h>
#include <stdlib.h>
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

static uint32_t *traits_table(struct rpc_traits *t)
{
    uint32_t *tab = atomic_load_explicit(&t->table, memory_order_acquire);
    if (tab) return tab;
    if (!(tab = malloc((rpc_ncalls + 1) * sizeof *tab))) return NULL; /* asked each time */
    tab[0] = 0;
    for (size_t i = 0; i < rpc_ncalls; i++)
        tab[rpc_calls[i].op] = t->work_out(&rpc_calls[i]);
    uint32_t *none = NULL;
    if (atomic_compare_exchange_strong(&t->table, &none, tab)) return tab;
    free(tab); /* another thread's table came first: the same facts */
    return none;
}

uint32_t rpc_traits_of(struct rpc_traits *t, const struct rpc_call_desc *d)
{
    uint32_t *tab = traits_table(t);
    if (tab && d->op && d->op <= rpc_ncalls && &rpc_calls[d->op - 1] == d) return tab[d->op];
    return t->work_out(d); /* a descriptor not from the table (a test's own) */
}

int rpc_name_is(const char *s, const char *want)
{
    return !strcmp(s, want);
}

int rpc_name_starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

int rpc_name_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcmp(s + n - k, suffix);
}
