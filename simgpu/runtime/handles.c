/* handles.c — the registry of live objects handed to the application.
 * An open-addressing hash set of object addresses with their kind, under a
 * read-write lock: validation never dereferences a value it does not hold. */
#include <stdlib.h>

#include "sim.h"

struct slot {
    uintptr_t key; /* 0 empty, 1 tombstone */
    uint32_t kind;
};

static struct slot *tab;
static size_t cap, used, live; /* used counts live + tombstones */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

static size_t hash_ptr(uintptr_t p)
{
    uint64_t x = (uint64_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 29;
    return (size_t)x;
}

static struct slot *find(uintptr_t key)
{
    if (!cap) return NULL;
    for (size_t i = hash_ptr(key) & (cap - 1), n = 0; n < cap; i = (i + 1) & (cap - 1), n++) {
        if (tab[i].key == key) return &tab[i];
        if (tab[i].key == 0) return NULL;
    }
    return NULL;
}

static void put(struct slot *t, size_t c, uintptr_t key, uint32_t kind)
{
    size_t i = hash_ptr(key) & (c - 1);
    while (t[i].key > 1)
        i = (i + 1) & (c - 1);
    t[i].key = key;
    t[i].kind = kind;
}

/* Grow (or clean tombstones) so that one more insertion keeps load <= 1/2. */
static bool reserve_one(void)
{
    if ((used + 1) * 2 <= cap) return true;
    size_t nc = cap ? cap : 256;
    while ((live + 1) * 4 > nc)
        nc *= 2;
    struct slot *nt = calloc(nc, sizeof *nt);
    if (!nt) return false;
    for (size_t i = 0; i < cap; i++)
        if (tab[i].key > 1) put(nt, nc, tab[i].key, tab[i].kind);
    free(tab);
    tab = nt;
    cap = nc;
    used = live;
    return true;
}

void sim_handle_add(struct sim_obj *o, enum sim_kind kind)
{
    o->kind = kind;
    o->alive = 1;
    pthread_rwlock_wrlock(&lock);
    if (!find((uintptr_t)o) && reserve_one()) {
        put(tab, cap, (uintptr_t)o, kind);
        used++;
        live++;
    }
    pthread_rwlock_unlock(&lock);
}

void sim_handle_remove(struct sim_obj *o)
{
    if (!o) return;
    pthread_rwlock_wrlock(&lock);
    struct slot *s = find((uintptr_t)o);
    if (s) {
        s->key = 1;
        live--;
        o->alive = 0;
    }
    pthread_rwlock_unlock(&lock);
}

bool sim_handle_ok(const void *h, enum sim_kind kind)
{
    return h && sim_handle_kind(h) == kind;
}

enum sim_kind sim_handle_kind(const void *h)
{
    if ((uintptr_t)h < 2) return 0;
    pthread_rwlock_rdlock(&lock);
    struct slot *s = find((uintptr_t)h);
    enum sim_kind k = s ? (enum sim_kind)s->kind : 0;
    pthread_rwlock_unlock(&lock);
    return k;
}
