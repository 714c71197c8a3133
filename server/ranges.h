/* ranges.h — device ranges the generic argument checks cannot see: inside
 * structs (CUDA_MEMCPY2D / CUDA_MEMCPY3D of the copy marshallers and graph
 * memcpy nodes, memset node parameters) and in arrays (batch copies, batch
 * prefetch / discard). Each must lie inside one of the session's allocations
 * (DESIGN rule 2), else the call gets CUDA_ERROR_INVALID_VALUE without reaching
 * the backend. */
#ifndef RG_SRV_RANGES_H
#define RG_SRV_RANGES_H

#include "calls.h"

struct session;

/* CUDA_SUCCESS, or INVALID_VALUE naming the first bad range in the log (s->lock held). */
int ranges_inner_check(struct session *s, const struct rpc_decoded *dc);

#endif
