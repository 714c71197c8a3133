/* mirror.h — the worker's side of managed memory mirrored in the client
 * (docs/remoting.md "Managed memory"; wire form in rpc/mirror_wire.h). */
#ifndef RG_SRV_MIRROR_H
#define RG_SRV_MIRROR_H

#include "calls.h"

struct session;
struct call;

/* Is this the mirror's op (the client's PUSH / PULL)? */
int mirror_op(const struct rpc_call_desc *d);
/* Runs and answers one mirror CALL; frees it. 0, or -1 on a protocol error. */
int mirror_call(struct session *s, struct call *cl);
/* Before the backend runs a call that frees memory (cuMemFree of a managed
 * allocation, a context's destruction or reset): it stops being mirrored, so a
 * PUSH or PULL running meanwhile on another lane never touches it. s->lock held. */
void mirror_before_call(struct session *s, const struct rpc_decoded *dc);

#endif
