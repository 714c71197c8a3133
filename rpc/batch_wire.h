/* batch_wire.h — what the batch copy marshallers (rpc/custom_batch.c:
 * cuMemcpyBatchAsync, cuMemcpy3DBatchAsync) leave for the worker's range
 * checks (server/ranges.c): which sides of each copy are device memory. */
#ifndef RG_RPC_BATCH_WIRE_H
#define RG_RPC_BATCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define RPC_BATCH_MAX 65536 /* copies in one batch */
#define RPC_BATCH_DST_HOST 1
#define RPC_BATCH_SRC_HOST 2

/* One device side: [addr, addr + len) must be the session's memory. */
struct rpc_batch_range {
    uint64_t addr, len;
};

/* The decoded call's scratch starts with this. */
struct rpc_batch_scratch {
    size_t nranges;
    struct rpc_batch_range *ranges; /* the device sides, for the worker's checks */
};

/* The client shim says which addresses are device memory (its window); a
 * program without the shim (tests) takes every address for device memory. */
int rpc_client_is_device(uint64_t p);
/* Is [p, p+len) host memory of the application the shim may read and write?
 * (The marshallers must never fault on the application's behalf.) */
int rpc_client_host_ok(uint64_t p, uint64_t len);

#endif
