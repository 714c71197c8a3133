/* custom_graph.h — what the graph marshallers (custom_graph.c, annotation
 * custom=graph) need from the shim and from the session worker.
 *
 * Host functions (graph host nodes, host functions captured from a stream,
 * user-object destructors) are the client's: they travel as the client's
 * (fn, data) values, which the worker never calls or dereferences; it puts a
 * trampoline of its own in their place, and the trampoline asks the client to
 * run them (NOTIFY, server/notify.c). The shim runs only pairs the application
 * gave it (allow_host_fn). Host sides of copies in graphs are client addresses
 * kept beside the decoded struct (rpc_graph_stash) for the worker's staging. */
#ifndef RG_RPC_CUSTOM_GRAPH_H
#define RG_RPC_CUSTOM_GRAPH_H

#include <stdint.h>

#include "calls.h"

struct rpc_graph_ops {
    /* client: (fn, data) may be named back by the server in a host-function NOTIFY */
    void (*allow_host_fn)(void *self, uint64_t fn, uint64_t data);
    /* client: [addr, addr + len) of the application's host memory is a host side
     * of a copy in a graph: the server may ask to read or write it there */
    void (*grant)(void *self, uint64_t addr, uint64_t len);
    /* client: is addr inside the device address window? (unified copy sides) */
    int (*in_window)(void *self, uint64_t addr);
    /* client: keeps a driver-owned array (capture dependencies, kernel node
     * parameters) until the next call that replaces it in this slot on this
     * thread; returns the kept copy or NULL (no memory) */
    void *(*keep)(void *self, int slot, const void *bytes, size_t len);
    /* worker: the trampoline standing for the client's (fn, data): 0 or a CUresult */
    int (*host_fn_in)(void *self, uint64_t fn, uint64_t data, void **real_fn, void **real_data);
    /* worker: the client's values behind a trampoline; -1 if real_fn is not one */
    int (*host_fn_out)(void *self, void *real_fn, void *real_data, uint64_t *fn, uint64_t *data);
    /* worker: the id of a real handle the driver made (a live id, else a new
     * server-minted one under parent) */
    uint64_t (*to_id)(void *self, unsigned type, void *real, uint64_t parent);
    void *self;
};

/* Process-wide, like rpc_set_client_ops / rpc_set_worker_ops. */
void rpc_set_graph_ops(const struct rpc_graph_ops *ops);
const struct rpc_graph_ops *rpc_graph_ops_now(void); /* NULL if none */
/* ops->keep, or NULL without ops; bytes NULL: len bytes of room, not filled */
void *rpc_graph_keep(int slot, const void *bytes, size_t len);

#define RPC_GRAPH_KEEP_DEPS 0    /* cuStreamGetCaptureInfo dependencies */
#define RPC_GRAPH_KEEP_EDGES 1   /* cuStreamGetCaptureInfo edge data */
#define RPC_GRAPH_KEEP_KPARAMS 2 /* cuGraphKernelNodeGetParams parameters */

/* Client host addresses of a copy's host sides, kept in the decoded call's
 * val[i] of the struct argument i (the worker stages them; never dereferenced). */
#define RPC_GRAPH_STASH_MAGIC 0x68737467u /* "gtsh" */
#define RPC_GRAPH_STAGED 0x100u
struct rpc_graph_stash {
    uint32_t magic;
    uint32_t sides; /* bit 0: the source is client host memory, bit 1: the destination,
                       RPC_GRAPH_STAGED: the worker staged it (a DtoH reply has no bytes) */
    uint64_t src, dst;
};

#endif
