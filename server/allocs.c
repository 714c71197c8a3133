/* allocs.c — the session's ranges in an array sorted by base, searched by
 * bisection. Reservations and the mappings inside them overlap by design, so
 * lookups skip reservations and insertions only refuse same-kind overlaps. */
#include "allocs.h"

#include <stdlib.h>
#include <string.h>

/* Index of the first range with base > p. */
static size_t upper(const struct allocs *a, uint64_t p)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->v[mid].base > p) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

int allocs_add(struct allocs *a, uint64_t base, uint64_t size, int kind, uint64_t owner)
{
    if (!size || base + size < base) return -1;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct alloc *v = realloc(a->v, cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    size_t i = upper(a, base);
    memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof *a->v);
    a->v[i] = (struct alloc){base, size, owner, kind, 0, NULL};
    a->n++;
    return 0;
}

static void remove_at(struct allocs *a, size_t i)
{
    free(a->v[i].shadow);
    memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof *a->v);
    a->n--;
}

int allocs_remove(struct allocs *a, uint64_t base, int kind)
{
    for (size_t i = upper(a, base); i-- > 0 && a->v[i].base == base;)
        if (a->v[i].kind == kind) {
            remove_at(a, i);
            return 0;
        }
    return -1;
}

void allocs_remove_owner(struct allocs *a, uint64_t owner)
{
    for (size_t i = a->n; i-- > 0;)
        if (a->v[i].owner == owner) remove_at(a, i);
}

struct alloc *allocs_find(struct allocs *a, uint64_t p, uint64_t len)
{
    if (p + len < p) return NULL;
    /* Ranges that could contain p start at or before it; scan back over them. */
    for (size_t i = upper(a, p); i-- > 0;) {
        struct alloc *r = &a->v[i];
        if (r->kind == ALLOC_RESERVED) continue;
        if (p - r->base < r->size) return len <= r->size - (p - r->base) ? r : NULL;
        break; /* accessible ranges do not overlap */
    }
    return NULL;
}

int allocs_contains(const struct allocs *a, uint64_t p, uint64_t len)
{
    return allocs_find((struct allocs *)a, p, len) != NULL;
}

int allocs_has_exact(const struct allocs *a, uint64_t base, uint64_t size, int kind)
{
    for (size_t i = upper(a, base); i-- > 0 && a->v[i].base == base;)
        if (a->v[i].kind == kind && a->v[i].size == size) return 1;
    return 0;
}

int allocs_inside(const struct allocs *a, uint64_t p, uint64_t len, int kind)
{
    if (!len || p + len < p) return 0;
    for (size_t i = upper(a, p); i-- > 0;) {
        const struct alloc *r = &a->v[i];
        if (r->kind == kind && p - r->base < r->size && len <= r->size - (p - r->base)) return 1;
    }
    return 0;
}

int allocs_tiled(const struct allocs *a, uint64_t p, uint64_t len, int kind)
{
    if (!len || p + len < p) return 0;
    uint64_t end = p + len, covered = 0;
    for (size_t i = 0; i < a->n && a->v[i].base < end; i++) {
        const struct alloc *r = &a->v[i];
        if (r->kind != kind || r->base + r->size <= p) continue;
        if (r->base < p || r->base + r->size > end) return 0; /* crosses an end */
        covered += r->size; /* ranges of one kind do not overlap */
    }
    return covered == len;
}

void allocs_remove_within(struct allocs *a, uint64_t p, uint64_t len, int kind)
{
    for (size_t i = a->n; i-- > 0;) {
        const struct alloc *r = &a->v[i];
        if (r->kind == kind && r->base >= p && r->base - p < len && r->size <= len - (r->base - p))
            remove_at(a, i);
    }
}

void allocs_free(struct allocs *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->v[i].shadow);
    free(a->v);
    *a = (struct allocs){0};
}
