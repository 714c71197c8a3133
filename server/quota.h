/* quota.h — a session's share of its GPUs (worker side): its allocations are
 * counted per device against its quota from the pool (pool.h) on every
 * allocation API, and cuMemGetInfo / the device's total memory are answered
 * as the session's own view. Also counts calls and bytes for the admin plane.
 * One session per worker process: the state is the process's. */
#ifndef RG_SRV_QUOTA_H
#define RG_SRV_QUOTA_H

#include <stdint.h>

#include "pool.h"
#include "session.h"

/* The pool's table and the worker's slot in it (NULL: no pool, nothing is enforced). */
void quota_attach(struct pool_table *t, struct pool_slot *slot);

/* The total memory the session sees on its device dev (its quota, if lower). */
uint64_t quota_device_total(int dev, uint64_t total);

/* A call answered outside quota_run (bulk.c's streamed cuMemcpyDtoH): counted in
 * the session's figures, with the bytes it sent back. */
void quota_count_call(uint64_t bytes_out);
typedef CUresult (*quota_run_fn)(struct session *s, struct call *cl, struct rpc_decoded *dc);

/* Runs one decoded call through `run` (the backend), refusing an allocation
 * past the quota with CUDA_ERROR_OUT_OF_MEMORY before it reaches the driver,
 * recording allocations and frees, and rewriting cuMemGetInfo's answer.
 * The call's context is current. */
CUresult quota_run(struct session *s, struct call *cl, struct rpc_decoded *dc, quota_run_fn run);

#endif
