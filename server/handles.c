/* handles.c — open-addressing hash table of a session's handle ids. Dead ids
 * are kept (a stale id must fail, not alias a new object); entries are never
 * removed, so probing needs no tombstones. */
#include "handles.h"

#include <stdlib.h>

struct hent {
    uint64_t id; /* 0 = empty slot */
    void *real;
    uint64_t parent;
    int live;
};

struct handles {
    struct hent *e;
    size_t cap, n;
    uint64_t next_serial; /* server-minted serials */
};

static size_t slot_of(uint64_t id, size_t cap)
{
    uint64_t x = id * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

struct handles *handles_new(void)
{
    struct handles *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cap = 256;
    t->next_serial = 1;
    if (!(t->e = calloc(t->cap, sizeof *t->e))) {
        free(t);
        return NULL;
    }
    return t;
}

void handles_free(struct handles *t)
{
    if (!t) return;
    free(t->e);
    free(t);
}

static struct hent *find(struct handles *t, uint64_t id)
{
    for (size_t i = slot_of(id, t->cap);; i = (i + 1) & (t->cap - 1)) {
        if (t->e[i].id == id) return &t->e[i];
        if (!t->e[i].id) return NULL;
    }
}

static int grow(struct handles *t)
{
    size_t cap = t->cap * 2;
    struct hent *e = calloc(cap, sizeof *e), *old = t->e;
    if (!e) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!old[i].id) continue;
        size_t j = slot_of(old[i].id, cap);
        while (e[j].id) j = (j + 1) & (cap - 1);
        e[j] = old[i];
    }
    t->e = e;
    t->cap = cap;
    free(old);
    return 0;
}

void handles_reserve(struct handles *t, uint64_t n)
{
    if (t->next_serial <= n) t->next_serial = n + 1;
}

int handles_get(struct handles *t, uint64_t id, unsigned type, void **real)
{
    struct hent *h = id ? find(t, id) : NULL;
    if (!h || !h->live || h_type_of(id) != type) return -1;
    *real = h->real;
    return 0;
}

int handles_bind(struct handles *t, uint64_t id, void *real, uint64_t parent)
{
    unsigned type = h_type_of(id);
    if (!(id & H_SERIAL_MASK) || type == RPC_H_NONE || type >= RPC_H_COUNT || find(t, id))
        return -1;
    if ((t->n + 1) * 2 > t->cap && grow(t)) return -1;
    size_t i = slot_of(id, t->cap);
    while (t->e[i].id) i = (i + 1) & (t->cap - 1);
    t->e[i] = (struct hent){id, real, parent, 1};
    t->n++;
    return 0;
}

uint64_t handles_find_real(struct handles *t, unsigned type, void *real)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].live && t->e[i].real == real && h_type_of(t->e[i].id) == type)
            return t->e[i].id;
    return 0;
}

uint64_t handles_mint(struct handles *t, unsigned type, void *real, uint64_t parent)
{
    uint64_t id = handles_find_real(t, type, real);
    if (id) return id;
    id = h_make(type, 1, t->next_serial++);
    return handles_bind(t, id, real, parent) ? 0 : id;
}

void handles_kill_children(struct handles *t, uint64_t id)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].live && t->e[i].parent == id && t->e[i].id != id) handles_kill(t, t->e[i].id);
}

void handles_kill(struct handles *t, uint64_t id)
{
    struct hent *h = id ? find(t, id) : NULL;
    if (!h || !h->live) return;
    h->live = 0;
    handles_kill_children(t, id);
}

void handles_each(struct handles *t, unsigned type, void (*fn)(void *arg, uint64_t id, void *real),
                  void *arg)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].live && h_type_of(t->e[i].id) == type) fn(arg, t->e[i].id, t->e[i].real);
}
