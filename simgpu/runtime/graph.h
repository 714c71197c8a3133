/* graph.h — private to graph.c, graph_exec.c and capture.c: the objects
 * behind CUgraph, CUgraphNode, CUgraphExec and CUuserObject. A graph is a list
 * of nodes in creation order with explicit in/out edge lists; an executable
 * graph owns a private clone plus a topological order it replays on a stream. */
#ifndef SIMGPU_GRAPH_H
#define SIMGPU_GRAPH_H

#include "sim.h"

struct sim_gnode;
struct sim_graph;

struct sim_nodevec {
    struct sim_gnode **v;
    size_t n, cap;
};

/* Kernel node: the function as given (CUfunction or CUkernel), its packed
 * parameter buffer, and pointers into it for cuGraphKernelNodeGetParams. */
struct sim_gkernel {
    CUfunction func; /* as given in .func (NULL if .kern was used) */
    CUkernel kern;
    CUcontext ctx;
    unsigned grid[3], block[3], smem;
    unsigned char *params; /* owned */
    size_t psize;
    void **kparams; /* owned; nparams pointers into params */
    size_t nparams;
};

/* An operation recorded by stream capture, replayed by calling
 * sim_stream_enqueue(fn, payload) on the launch stream. */
struct sim_gop {
    sim_op_fn fn;
    void *payload; /* owned */
    size_t len;
};

struct sim_gnode {
    struct sim_obj obj;
    struct sim_graph *g;
    CUgraphNodeType type;
    bool captured;          /* type is a guess; params live in u.op */
    bool disabled;          /* executable graphs only (cuGraphNodeSetEnabled) */
    unsigned id;            /* creation number inside the graph, for DOT output */
    size_t idx;             /* scratch index while cloning / sorting (lock held) */
    struct sim_gnode *orig; /* node this one was cloned from (compared, never followed) */
    struct sim_nodevec in, out;
    union {
        struct sim_gkernel k;
        struct {
            CUDA_MEMCPY3D p;
            CUcontext ctx;
        } cp;
        struct {
            CUDA_MEMSET_NODE_PARAMS p;
            CUcontext ctx;
        } ms;
        CUDA_HOST_NODE_PARAMS host;
        struct sim_graph *child; /* owned */
        CUevent ev;
        struct sim_gop op;
    } u;
};

struct sim_uref { /* references a graph holds on a user object */
    struct sim_uobj *o;
    unsigned count;
    struct sim_uref *next;
};

struct sim_graph {
    struct sim_obj obj;
    bool registered;          /* false for the private clones of executable graphs */
    struct sim_nodevec nodes; /* creation order */
    unsigned next_id;
    struct sim_gnode *parent; /* child graph: the node owning it */
    int capturing;            /* live captures targeting this graph */
    struct sim_uref *urefs;
    struct sim_gnode **order; /* topological order (executable clones only) */
};

struct sim_uobj {
    struct sim_obj obj;
    _Atomic unsigned refs;
    void *ptr;
    CUhostFn destroy;
};

/* One lock for every graph, node and capture structure: graphs are not
 * thread-safe objects in CUDA, but stream capture adds nodes from any thread. */
extern pthread_mutex_t sim_graph_lock;

/* ---- graph.c ---- */
/* Handle arguments: NULL is INVALID_VALUE, an unknown value INVALID_HANDLE. */
CUresult sim_graph_arg(CUgraph h, struct sim_graph **out);
CUresult sim_gnode_arg(CUgraphNode h, struct sim_gnode **out);
struct sim_graph *sim_graph_new(bool registered);
/* Frees nodes, child graphs and user-object references. Lock held. */
void sim_graph_free(struct sim_graph *g);
/* Add a node of `type` after deps (validated: nodes of g, no duplicates).
 * Params are set by the caller. Lock held. */
CUresult sim_graph_add_node(struct sim_graph *g, const CUgraphNode *deps, size_t n,
                            CUgraphNodeType type, struct sim_gnode **out);
/* Free a node's params (child graph, kernel buffers, captured payload). */
void sim_gnode_free_params(struct sim_gnode *nd);
/* Undo sim_graph_add_node for a node whose params failed. Lock held. */
void sim_gnode_discard(struct sim_gnode *nd);
/* Deep copy of g (registered as asked); every copied node's orig is its source. */
CUresult sim_graph_clone(struct sim_graph *src, bool registered, struct sim_graph **out);
/* Copy the params of src into dst (same type), deep. Frees dst's old params. */
CUresult sim_gnode_copy_params(struct sim_gnode *dst, const struct sim_gnode *src);
/* Node of g (or of its child graphs) cloned from orig, NULL if none. */
struct sim_gnode *sim_graph_find_orig(struct sim_graph *g, const void *orig);
bool sim_nodevec_has(const struct sim_nodevec *v, const struct sim_gnode *nd);
bool sim_nodevec_push(struct sim_nodevec *v, struct sim_gnode *nd);
/* Kernel params: resolve and pack (ctx: current if NULL). */
CUresult sim_gkernel_set(struct sim_gkernel *k, const CUDA_KERNEL_NODE_PARAMS *p);
void sim_gkernel_free(struct sim_gkernel *k);
/* A validated copy: start addresses and strides of both sides. */
struct sim_gcopy {
    uintptr_t dst, src;
    size_t w, h, d, dpitch, spitch, dslice, sslice;
};
CUresult sim_gcopy_plan(const CUDA_MEMCPY3D *p, struct sim_gcopy *out);
CUresult sim_gmemset_check(const CUDA_MEMSET_NODE_PARAMS *p);
CUresult sim_gctx_arg(CUcontext h, CUcontext *out);
/* Parameters of any node kind, as the various entry points give them. */
struct sim_gparams {
    CUgraphNodeType type;
    const CUDA_KERNEL_NODE_PARAMS *kernel;
    const CUDA_MEMCPY3D *copy;
    const CUDA_MEMSET_NODE_PARAMS *memset;
    CUcontext ctx; /* memcpy / memset: NULL means current */
    const CUDA_HOST_NODE_PARAMS *host;
    CUgraph child;
    bool move; /* child graph: CU_GRAPH_CHILD_GRAPH_OWNERSHIP_MOVE */
    CUevent event;
};
/* (graph_node.c) Validate p and store it into nd, replacing its params; nd
 * keeps its old params on failure. p->type must equal nd->type. Lock held. */
CUresult sim_gnode_set(struct sim_gnode *nd, const struct sim_gparams *p);
/* Translate the generic CUgraphNodeParams; NOT_SUPPORTED for other kinds. */
CUresult sim_gparams_from(const CUgraphNodeParams *np, struct sim_gparams *out,
                          CUDA_MEMSET_NODE_PARAMS *ms_tmp);
/* sim_gparams_from for cuGraphNodeSetParams / cuGraphExecNodeSetParams:
 * child-graph nodes cannot be changed that way (NOT_SUPPORTED). */
CUresult sim_gparams_for_set(const CUgraphNodeParams *np, struct sim_gparams *out,
                             CUDA_MEMSET_NODE_PARAMS *ms_tmp);

/* Retain references to user objects (count) under g. Lock held. */
CUresult sim_graph_uref_add(struct sim_graph *g, struct sim_uobj *o, unsigned count);
void sim_uobj_release(struct sim_uobj *o, unsigned count);

/* ---- graph_exec.c ---- */
/* Topological order of g's nodes (malloc'd); INVALID_VALUE on a cycle. */
CUresult sim_graph_topo(struct sim_graph *g, struct sim_gnode ***out);

/* ---- capture.c ---- */
/* Add an op node for a captured operation (called by the capture hook). */
CUresult sim_graph_add_op(struct sim_graph *g, struct sim_gnode *const *deps, size_t n,
                          sim_op_fn fn, const void *payload, size_t len, struct sim_gnode **out);

/* An event wait on stream s (capture.c): joins s into the capture the event
 * was recorded in, or adds the dependency if s already captures. *handled is
 * false when the event has nothing to do with a capture. Also behind
 * sim_capture_ops.wait_event, where capture may be NULL (s not capturing). */
CUresult sim_capture_wait_event(struct sim_stream *s, CUevent e, bool *handled);

#endif
