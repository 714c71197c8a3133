/* ipc.h — CUDA IPC between sessions of one tenant (ipc.c, docs/pool.md). */
#ifndef RG_SRV_IPC_H
#define RG_SRV_IPC_H

#include "pool.h"
#include "session.h"

/* The worker's place in the pool's table (NULL: no pool, IPC refused). */
void ipc_attach(struct pool_table *t, struct pool_slot *slot);
/* cuIpcGetMemHandle / cuIpcOpenMemHandle[_v2] / cuIpcGetEventHandle /
 * cuIpcOpenEventHandle, decoded and range-checked: 1 if ipc.c ran it (*r is
 * its result), 0 for any other call. */
int ipc_call(struct session *s, struct call *cl, struct rpc_decoded *dc, CUresult *r);
/* After a successful call (s->lock held): closes and frees of IPC memory. */
void ipc_post(struct session *s, struct rpc_decoded *dc);

#endif
