/* mirror.c — the shim's mirror of the session's device allocations, so a
 * pipelined call naming a range past the end of an allocation fails at once
 * with the driver's code (DESIGN rule 3); the server checks again. Ranges
 * the mirror does not know (VMM, pools) are only checked against the window. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

struct span {
    uint64_t base, size;
};

static struct {
    pthread_mutex_t mu;
    struct span *v; /* sorted by base, non-overlapping */
    size_t n, cap;
} M = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Index of the first span with base > p. */
static size_t upper(uint64_t p)
{
    size_t lo = 0, hi = M.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (M.v[mid].base <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void rg_mirror_add(uint64_t base, uint64_t size)
{
    if (!size) return;
    pthread_mutex_lock(&M.mu);
    if (M.n == M.cap) {
        size_t cap = M.cap ? M.cap * 2 : 64;
        struct span *v = realloc(M.v, cap * sizeof *v);
        if (!v) goto out; /* unknown to the mirror: only the window is checked */
        M.v = v;
        M.cap = cap;
    }
    size_t i = upper(base);
    memmove(&M.v[i + 1], &M.v[i], (M.n - i) * sizeof *M.v);
    M.v[i] = (struct span){base, size};
    M.n++;
out:
    pthread_mutex_unlock(&M.mu);
}

void rg_mirror_remove(uint64_t base)
{
    pthread_mutex_lock(&M.mu);
    size_t i = upper(base);
    if (i > 0 && M.v[i - 1].base == base) {
        memmove(&M.v[i - 1], &M.v[i], (M.n - i) * sizeof *M.v);
        M.n--;
    }
    pthread_mutex_unlock(&M.mu);
}

int rg_in_window(uint64_t p)
{
    uint64_t lo = (uint64_t)(uintptr_t)rg_sess.window;
    return p >= lo && p - lo < rg_sess.window_size;
}

/* 0 if [p, p+len) is certainly not device memory of this session. */
int rg_mirror_range_ok(uint64_t p, uint64_t len)
{
    if (!rg_in_window(p) || (len && (p + len < p || !rg_in_window(p + len - 1)))) return 0;
    int ok = 1;
    pthread_mutex_lock(&M.mu);
    size_t i = upper(p);
    if (i > 0) {
        const struct span *s = &M.v[i - 1];
        if (p - s->base < s->size && len > s->size - (p - s->base)) ok = 0;
    }
    pthread_mutex_unlock(&M.mu);
    return ok;
}
