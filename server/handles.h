/* handles.h — one session's table of handle ids (DESIGN rule 1): id -> the
 * backend's real handle, its type and its parent (context, module, library,
 * graph), so destroying a parent invalidates its children. Ids are never
 * reused: a destroyed id stays in the table as dead and is never valid again. */
#ifndef RG_SRV_HANDLES_H
#define RG_SRV_HANDLES_H

#include <stdint.h>

#include "calls.h"

#define H_TYPE_SHIFT 40
#define H_SERVER_BIT (1ull << 39)
#define H_SERIAL_MASK (H_SERVER_BIT - 1)

static inline unsigned h_type_of(uint64_t id)
{
    return (unsigned)(id >> H_TYPE_SHIFT);
}
static inline uint64_t h_make(unsigned type, int server, uint64_t serial)
{
    return ((uint64_t)type << H_TYPE_SHIFT) | (server ? H_SERVER_BIT : 0) | serial;
}

struct handles;

struct handles *handles_new(void);
void handles_free(struct handles *t);
/* Keeps server-minted serials 1..n for fixed ids (primary contexts). */
void handles_reserve(struct handles *t, uint64_t n);
/* 0 and *real for a live id of type `type`; -1 otherwise. */
int handles_get(struct handles *t, uint64_t id, unsigned type, void **real);
/* Binds a new id (client- or server-minted). -1 if the id is taken, dead or
 * malformed, or on no memory. */
int handles_bind(struct handles *t, uint64_t id, void *real, uint64_t parent);
/* A server-minted id for real: the live id it already has, else a new one. */
uint64_t handles_mint(struct handles *t, unsigned type, void *real, uint64_t parent);
/* The live id of a real handle of this type, or 0. */
uint64_t handles_find_real(struct handles *t, unsigned type, void *real);
/* Marks id dead, and every live handle below it. */
void handles_kill(struct handles *t, uint64_t id);
/* Marks the children of id dead, keeping id itself (primary context reset). */
void handles_kill_children(struct handles *t, uint64_t id);
/* Calls fn for every live handle of `type` (children before their parents is
 * not guaranteed). fn may not change the table. */
void handles_each(struct handles *t, unsigned type, void (*fn)(void *arg, uint64_t id, void *real),
                  void *arg);

#endif
