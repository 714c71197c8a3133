/* allocs.h — one session's device memory: sorted, non-overlapping address
 * ranges, each with how it was made (so session end can free it the same way)
 * and its owner handle (so unloading a module forgets its globals). Every
 * device range a call names is checked against it (DESIGN rule 2). */
#ifndef RG_SRV_ALLOCS_H
#define RG_SRV_ALLOCS_H

#include <stddef.h>
#include <stdint.h>

enum alloc_kind {
    ALLOC_MEM = 1, /* cuMemAlloc / Pitch / Managed / AllocAsync: cuMemFree */
    ALLOC_MAPPED,  /* cuMemMap of a VMM handle: cuMemUnmap */
    ALLOC_RESERVED,/* cuMemAddressReserve: cuMemAddressFree (not accessible by itself) */
    ALLOC_GLOBAL,  /* a module's or library's variable: goes with its owner */
    ALLOC_IPC,     /* cuIpcOpenMemHandle: cuIpcCloseMemHandle (ipc.c; its context unmaps it) */
};

struct alloc {
    uint64_t base, size;
    uint64_t owner; /* context, module or library id (0: none) */
    int kind;
    int managed;     /* cuMemAllocManaged: mirrored in the client (mirror.c) */
    uint8_t *shadow; /* managed: the bytes client and worker last agreed on (lazy, zeros) */
};

struct allocs {
    struct alloc *v;
    size_t n, cap;
};

/* 0, or -1 on overlap with a range of the same accessibility, or no memory. */
int allocs_add(struct allocs *a, uint64_t base, uint64_t size, int kind, uint64_t owner);
/* Removes the range of `kind` starting at base; 0 if it was there. */
int allocs_remove(struct allocs *a, uint64_t base, int kind);
/* Removes every range owned by owner. */
void allocs_remove_owner(struct allocs *a, uint64_t owner);
/* Is [p, p+len) inside one accessible range (not a bare reservation)? len 0 checks p. */
int allocs_contains(const struct allocs *a, uint64_t p, uint64_t len);
/* The accessible range holding [p, p+len), or NULL. Valid until the table changes. */
struct alloc *allocs_find(struct allocs *a, uint64_t p, uint64_t len);
/* VMM bookkeeping (dispatch.c, post.c):
 * is there a range of `kind` exactly [base, base+size)? */
int allocs_has_exact(const struct allocs *a, uint64_t base, uint64_t size, int kind);
/* Is [p, p+len) inside one range of `kind` (len > 0)? */
int allocs_inside(const struct allocs *a, uint64_t p, uint64_t len, int kind);
/* Is [p, p+len) exactly tiled by whole ranges of `kind` (none crossing its ends)? */
int allocs_tiled(const struct allocs *a, uint64_t p, uint64_t len, int kind);
/* Removes every range of `kind` inside [p, p+len). */
void allocs_remove_within(struct allocs *a, uint64_t p, uint64_t len, int kind);
void allocs_free(struct allocs *a);

#endif
