/* launch_config.h — a CUlaunchConfig on the wire, shared by cuLaunchKernelEx
 * (custom_launch_ex.c, which holds the code) and the cluster occupancy calls
 * (custom_occupancy.c). Internal to rpc/.
 *
 * Wire: 7 x u32 (grid, block, shared memory), u64 stream id, u32 n,
 * n x (u32 attribute id, value bytes); an event inside a value travels as its id. */
#ifndef RG_RPC_LAUNCH_CONFIG_H
#define RG_RPC_LAUNCH_CONFIG_H

#ifndef __CUDA_API_VERSION_INTERNAL
#define __CUDA_API_VERSION_INTERNAL 1
#endif
#include <cuda.h>

#include "custom.h"

#define RPC_LAUNCH_MAX_ATTRS 64u

/* Says what an attribute's value holds: 0 plain bytes, 1 starts with a
 * CUevent, else the CUresult that refuses the attribute. */
typedef int (*rpc_launch_attr_fn)(uint32_t id);

/* The rebuilt config; its attrs point into the same block. */
struct rpc_launch_config {
    CUlaunchConfig config;
    CUlaunchAttribute attrs[RPC_LAUNCH_MAX_ATTRS];
};

/* Writes c (numAttrs already checked against RPC_LAUNCH_MAX_ATTRS). 0 or the
 * CUresult of the first refused attribute. */
int rpc_launch_config_put(struct rpc_wbuf *w, const CUlaunchConfig *c, rpc_launch_attr_fn kind);
/* Reads a config into x, translating the stream and events (first failure in
 * *cu). A refused attribute is malformed (-1) when `strict`, else its CUresult
 * goes to *cu. 0 or -1. */
int rpc_launch_config_get(struct rpc_rbuf *r, const struct rpc_handle_ops *h,
                          struct rpc_launch_config *x, rpc_launch_attr_fn kind, int strict,
                          int *cu);

#endif
