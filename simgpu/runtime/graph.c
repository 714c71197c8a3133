/* graph.c — CUgraph and CUgraphNode objects: creation, destruction, edges,
 * topology queries, cloning, DOT output and user objects. Node parameters of
 * each kind live in graph_node.c; instantiation and launch in graph_exec.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

pthread_mutex_t sim_graph_lock = PTHREAD_MUTEX_INITIALIZER;

#define LOCK() pthread_mutex_lock(&sim_graph_lock)
#define UNLOCK() pthread_mutex_unlock(&sim_graph_lock)

/* ---- small vectors of nodes ------------------------------------------------ */

bool sim_nodevec_has(const struct sim_nodevec *v, const struct sim_gnode *nd)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == nd) return true;
    return false;
}

bool sim_nodevec_push(struct sim_nodevec *v, struct sim_gnode *nd)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 4;
        struct sim_gnode **nv = realloc(v->v, nc * sizeof *nv);
        if (!nv) return false;
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = nd;
    return true;
}

static void nodevec_remove(struct sim_nodevec *v, const struct sim_gnode *nd)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == nd) {
            memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof *v->v);
            v->n--;
            return;
        }
}

/* ---- handle arguments -------------------------------------------------------- */

CUresult sim_graph_arg(CUgraph h, struct sim_graph **out)
{
    SIM_INIT_OR_RETURN();
    if (!h) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(h, SIM_KIND_GRAPH)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_graph *)h;
    return CUDA_SUCCESS;
}

CUresult sim_gnode_arg(CUgraphNode h, struct sim_gnode **out)
{
    SIM_INIT_OR_RETURN();
    if (!h) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(h, SIM_KIND_GRAPH_NODE)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_gnode *)h;
    return CUDA_SUCCESS;
}

/* ---- graphs and nodes ------------------------------------------------------------ */

struct sim_graph *sim_graph_new(bool registered)
{
    struct sim_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->registered = registered;
    if (registered) sim_handle_add(&g->obj, SIM_KIND_GRAPH);
    return g;
}

void sim_gnode_free_params(struct sim_gnode *nd)
{
    if (nd->captured)
        free(nd->u.op.payload);
    else if (nd->type == CU_GRAPH_NODE_TYPE_KERNEL)
        sim_gkernel_free(&nd->u.k);
    else if (nd->type == CU_GRAPH_NODE_TYPE_GRAPH && nd->u.child)
        sim_graph_free(nd->u.child);
    memset(&nd->u, 0, sizeof nd->u);
}

static void gnode_free(struct sim_gnode *nd)
{
    sim_gnode_free_params(nd);
    if (nd->g->registered) sim_handle_remove(&nd->obj);
    free(nd->in.v);
    free(nd->out.v);
    free(nd);
}

void sim_graph_free(struct sim_graph *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->nodes.n; i++)
        gnode_free(g->nodes.v[i]);
    free(g->nodes.v);
    free(g->order);
    for (struct sim_uref *u = g->urefs, *n; u; u = n) {
        n = u->next;
        sim_uobj_release(u->o, u->count);
        free(u);
    }
    if (g->registered) sim_handle_remove(&g->obj);
    free(g);
}

/* Unlink a node from its neighbours and its graph, then free it. */
static void gnode_destroy(struct sim_gnode *nd)
{
    for (size_t i = 0; i < nd->in.n; i++)
        nodevec_remove(&nd->in.v[i]->out, nd);
    for (size_t i = 0; i < nd->out.n; i++)
        nodevec_remove(&nd->out.v[i]->in, nd);
    nodevec_remove(&nd->g->nodes, nd);
    gnode_free(nd);
}

void sim_gnode_discard(struct sim_gnode *nd)
{
    gnode_destroy(nd);
}

static bool add_edge(struct sim_gnode *from, struct sim_gnode *to)
{
    if (!sim_nodevec_push(&from->out, to)) return false;
    if (sim_nodevec_push(&to->in, from)) return true;
    from->out.n--;
    return false;
}

/* Dependencies must be distinct live nodes of g. */
static CUresult deps_check(struct sim_graph *g, const CUgraphNode *deps, size_t n)
{
    if (n && !deps) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < n; i++) {
        if (!sim_handle_ok(deps[i], SIM_KIND_GRAPH_NODE)) return CUDA_ERROR_INVALID_VALUE;
        if (((struct sim_gnode *)deps[i])->g != g) return CUDA_ERROR_INVALID_VALUE;
        for (size_t j = 0; j < i; j++)
            if (deps[j] == deps[i]) return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

static struct sim_gnode *node_alloc(struct sim_graph *g, CUgraphNodeType type)
{
    struct sim_gnode *nd = calloc(1, sizeof *nd);
    if (!nd) return NULL;
    nd->g = g;
    nd->type = type;
    nd->id = g->next_id++;
    if (!sim_nodevec_push(&g->nodes, nd)) {
        free(nd);
        return NULL;
    }
    if (g->registered) sim_handle_add(&nd->obj, SIM_KIND_GRAPH_NODE);
    return nd;
}

CUresult sim_graph_add_node(struct sim_graph *g, const CUgraphNode *deps, size_t n,
                            CUgraphNodeType type, struct sim_gnode **out)
{
    CUresult r = deps_check(g, deps, n);
    if (r) return r;
    struct sim_gnode *nd = node_alloc(g, type);
    if (!nd) return CUDA_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++)
        if (!add_edge((struct sim_gnode *)deps[i], nd)) {
            gnode_destroy(nd);
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
    *out = nd;
    return CUDA_SUCCESS;
}

CUresult sim_graph_add_op(struct sim_graph *g, struct sim_gnode *const *deps, size_t n,
                          sim_op_fn fn, const void *payload, size_t len, struct sim_gnode **out)
{
    void *copy = malloc(len ? len : 1);
    if (!copy) return CUDA_ERROR_OUT_OF_MEMORY;
    if (len) memcpy(copy, payload, len);
    struct sim_gnode *nd;
    CUresult r = sim_graph_add_node(g, (const CUgraphNode *)deps, n, CU_GRAPH_NODE_TYPE_EMPTY, &nd);
    if (r) {
        free(copy);
        return r;
    }
    nd->captured = true;
    nd->u.op = (struct sim_gop){fn, copy, len};
    *out = nd;
    return CUDA_SUCCESS;
}

/* ---- cloning ------------------------------------------------------------------- */

static CUresult clone_nodes(struct sim_graph *src, struct sim_graph *dst)
{
    for (size_t i = 0; i < src->nodes.n; i++) {
        struct sim_gnode *s = src->nodes.v[i], *d = node_alloc(dst, s->type);
        if (!d) return CUDA_ERROR_OUT_OF_MEMORY;
        s->idx = i;
        d->id = s->id;
        d->orig = s;
        d->disabled = s->disabled;
        CUresult r = sim_gnode_copy_params(d, s);
        if (r) return r;
    }
    dst->next_id = src->next_id;
    for (size_t i = 0; i < src->nodes.n; i++) {
        struct sim_gnode *s = src->nodes.v[i];
        for (size_t j = 0; j < s->out.n; j++)
            if (!add_edge(dst->nodes.v[i], dst->nodes.v[s->out.v[j]->idx]))
                return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return CUDA_SUCCESS;
}

CUresult sim_graph_clone(struct sim_graph *src, bool registered, struct sim_graph **out)
{
    struct sim_graph *g = sim_graph_new(registered);
    if (!g) return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult r = clone_nodes(src, g);
    for (struct sim_uref *u = src->urefs; u && !r; u = u->next)
        r = sim_graph_uref_add(g, u->o, u->count);
    if (r) {
        sim_graph_free(g);
        return r;
    }
    *out = g;
    return CUDA_SUCCESS;
}

struct sim_gnode *sim_graph_find_orig(struct sim_graph *g, const void *orig)
{
    for (size_t i = 0; i < g->nodes.n; i++) {
        struct sim_gnode *nd = g->nodes.v[i];
        if (nd->orig == orig) return nd;
        if (!nd->captured && nd->type == CU_GRAPH_NODE_TYPE_GRAPH && nd->u.child) {
            struct sim_gnode *c = sim_graph_find_orig(nd->u.child, orig);
            if (c) return c;
        }
    }
    return NULL;
}

/* ---- public: graphs -------------------------------------------------------------- */

CUresult cuGraphCreate(CUgraph *phGraph, unsigned int flags)
{
    SIM_INIT_OR_RETURN();
    if (!phGraph || flags) return CUDA_ERROR_INVALID_VALUE;
    struct sim_graph *g = sim_graph_new(true);
    if (!g) return CUDA_ERROR_OUT_OF_MEMORY;
    *phGraph = (CUgraph)g;
    return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph hGraph)
{
    struct sim_graph *g;
    LOCK();
    CUresult r = sim_graph_arg(hGraph, &g);
    if (!r && (g->parent || g->capturing)) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) sim_graph_free(g);
    UNLOCK();
    return r;
}

CUresult cuGraphClone(CUgraph *phGraphClone, CUgraph originalGraph)
{
    struct sim_graph *g, *c;
    LOCK();
    CUresult r = sim_graph_arg(originalGraph, &g);
    if (!r && !phGraphClone) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) r = sim_graph_clone(g, true, &c);
    if (!r) *phGraphClone = (CUgraph)c;
    UNLOCK();
    return r;
}

CUresult cuGraphNodeFindInClone(CUgraphNode *phNode, CUgraphNode hOriginalNode,
                                CUgraph hClonedGraph)
{
    struct sim_graph *g;
    struct sim_gnode *o;
    LOCK();
    CUresult r = sim_graph_arg(hClonedGraph, &g);
    if (!r) r = sim_gnode_arg(hOriginalNode, &o);
    if (!r && !phNode) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) {
        struct sim_gnode *nd = sim_graph_find_orig(g, o);
        if (nd)
            *phNode = (CUgraphNode)nd;
        else
            r = CUDA_ERROR_INVALID_VALUE;
    }
    UNLOCK();
    return r;
}

CUresult cuGraphDestroyNode(CUgraphNode hNode)
{
    struct sim_gnode *nd;
    LOCK();
    CUresult r = sim_gnode_arg(hNode, &nd);
    if (!r) gnode_destroy(nd);
    UNLOCK();
    return r;
}

CUresult cuGraphNodeGetType(CUgraphNode hNode, CUgraphNodeType *type)
{
    struct sim_gnode *nd;
    LOCK();
    CUresult r = sim_gnode_arg(hNode, &nd);
    if (!r && !type) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) *type = nd->type;
    UNLOCK();
    return r;
}

/* ---- topology queries --------------------------------------------------------- */

/* The query convention: a NULL array asks for the count; otherwise fill up to
 * *n entries, NULL the rest, and write the number written. */
static CUresult list_nodes(struct sim_gnode *const *v, size_t count, CUgraphNode *out,
                           CUgraphEdgeData *ed, size_t *n)
{
    if (!n) return CUDA_ERROR_INVALID_VALUE;
    if (!out) {
        *n = count;
        return CUDA_SUCCESS;
    }
    size_t k = count < *n ? count : *n;
    for (size_t i = 0; i < *n; i++) {
        out[i] = i < k ? (CUgraphNode)v[i] : NULL;
        if (ed) memset(&ed[i], 0, sizeof ed[i]);
    }
    *n = k;
    return CUDA_SUCCESS;
}

CUresult cuGraphGetNodes(CUgraph hGraph, CUgraphNode *nodes, size_t *numNodes)
{
    struct sim_graph *g;
    LOCK();
    CUresult r = sim_graph_arg(hGraph, &g);
    if (!r) r = list_nodes(g->nodes.v, g->nodes.n, nodes, NULL, numNodes);
    UNLOCK();
    return r;
}

CUresult cuGraphGetRootNodes(CUgraph hGraph, CUgraphNode *rootNodes, size_t *numRootNodes)
{
    struct sim_graph *g;
    LOCK();
    CUresult r = sim_graph_arg(hGraph, &g);
    struct sim_nodevec roots = {0};
    for (size_t i = 0; !r && i < g->nodes.n; i++)
        if (!g->nodes.v[i]->in.n && !sim_nodevec_push(&roots, g->nodes.v[i]))
            r = CUDA_ERROR_OUT_OF_MEMORY;
    if (!r) r = list_nodes(roots.v, roots.n, rootNodes, NULL, numRootNodes);
    UNLOCK();
    free(roots.v);
    return r;
}

static CUresult get_edges(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, CUgraphEdgeData *ed,
                          size_t *numEdges)
{
    struct sim_graph *g;
    CUresult r = sim_graph_arg(hGraph, &g);
    if (r) return r;
    if (!numEdges || (!from) != (!to)) return CUDA_ERROR_INVALID_VALUE;
    size_t k = 0, cap = *numEdges;
    for (size_t i = 0; i < g->nodes.n; i++) {
        struct sim_gnode *nd = g->nodes.v[i];
        for (size_t j = 0; j < nd->out.n; j++, k++) {
            if (!from || k >= cap) continue;
            from[k] = (CUgraphNode)nd;
            to[k] = (CUgraphNode)nd->out.v[j];
            if (ed) memset(&ed[k], 0, sizeof ed[k]);
        }
    }
    for (size_t i = k; from && i < cap; i++) {
        from[i] = to[i] = NULL;
        if (ed) memset(&ed[i], 0, sizeof ed[i]);
    }
    *numEdges = from && k > cap ? cap : k;
    return CUDA_SUCCESS;
}

CUresult cuGraphGetEdges(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, size_t *numEdges)
{
    LOCK();
    CUresult r = get_edges(hGraph, from, to, NULL, numEdges);
    UNLOCK();
    return r;
}

CUresult cuGraphGetEdges_v2(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to,
                            CUgraphEdgeData *edgeData, size_t *numEdges)
{
    LOCK();
    CUresult r = get_edges(hGraph, from, to, edgeData, numEdges);
    UNLOCK();
    return r;
}

static CUresult node_list(CUgraphNode hNode, bool deps, CUgraphNode *out, CUgraphEdgeData *ed,
                          size_t *n)
{
    struct sim_gnode *nd;
    LOCK();
    CUresult r = sim_gnode_arg(hNode, &nd);
    if (!r) {
        const struct sim_nodevec *v = deps ? &nd->in : &nd->out;
        r = list_nodes(v->v, v->n, out, ed, n);
    }
    UNLOCK();
    return r;
}

CUresult cuGraphNodeGetDependencies(CUgraphNode hNode, CUgraphNode *dependencies,
                                    size_t *numDependencies)
{
    return node_list(hNode, true, dependencies, NULL, numDependencies);
}

CUresult cuGraphNodeGetDependencies_v2(CUgraphNode hNode, CUgraphNode *dependencies,
                                       CUgraphEdgeData *edgeData, size_t *numDependencies)
{
    return node_list(hNode, true, dependencies, edgeData, numDependencies);
}

CUresult cuGraphNodeGetDependentNodes(CUgraphNode hNode, CUgraphNode *dependentNodes,
                                      size_t *numDependentNodes)
{
    return node_list(hNode, false, dependentNodes, NULL, numDependentNodes);
}

CUresult cuGraphNodeGetDependentNodes_v2(CUgraphNode hNode, CUgraphNode *dependentNodes,
                                         CUgraphEdgeData *edgeData, size_t *numDependentNodes)
{
    return node_list(hNode, false, dependentNodes, edgeData, numDependentNodes);
}

/* ---- editing edges ----------------------------------------------------------- */

static bool edge_default(const CUgraphEdgeData *ed, size_t i)
{
    if (!ed) return true;
    static const CUgraphEdgeData zero;
    return !memcmp(&ed[i], &zero, sizeof zero);
}

static CUresult edge_arg(struct sim_graph *g, CUgraphNode f, CUgraphNode t, struct sim_gnode **from,
                         struct sim_gnode **to)
{
    if (!sim_handle_ok(f, SIM_KIND_GRAPH_NODE) || !sim_handle_ok(t, SIM_KIND_GRAPH_NODE))
        return CUDA_ERROR_INVALID_VALUE;
    *from = (struct sim_gnode *)f;
    *to = (struct sim_gnode *)t;
    if ((*from)->g != g || (*to)->g != g || *from == *to) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

static CUresult edit_edges(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to,
                           const CUgraphEdgeData *ed, size_t n, bool add)
{
    struct sim_graph *g;
    CUresult r = sim_graph_arg(hGraph, &g);
    if (r) return r;
    if (n && (!from || !to)) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < n; i++) { /* validate all before changing anything */
        struct sim_gnode *a, *b;
        if ((r = edge_arg(g, from[i], to[i], &a, &b))) return r;
        if (!edge_default(ed, i)) return CUDA_ERROR_INVALID_VALUE;
        if (sim_nodevec_has(&a->out, b) == add) return CUDA_ERROR_INVALID_VALUE;
        for (size_t j = 0; j < i; j++)
            if (from[j] == from[i] && to[j] == to[i]) return CUDA_ERROR_INVALID_VALUE;
    }
    for (size_t i = 0; i < n; i++) {
        struct sim_gnode *a = (struct sim_gnode *)from[i], *b = (struct sim_gnode *)to[i];
        if (!add) {
            nodevec_remove(&a->out, b);
            nodevec_remove(&b->in, a);
        } else if (!add_edge(a, b)) {
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
    }
    return CUDA_SUCCESS;
}

CUresult cuGraphAddDependencies(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to,
                                size_t numDependencies)
{
    LOCK();
    CUresult r = edit_edges(hGraph, from, to, NULL, numDependencies, true);
    UNLOCK();
    return r;
}

CUresult cuGraphAddDependencies_v2(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to,
                                   const CUgraphEdgeData *edgeData, size_t numDependencies)
{
    LOCK();
    CUresult r = edit_edges(hGraph, from, to, edgeData, numDependencies, true);
    UNLOCK();
    return r;
}

CUresult cuGraphRemoveDependencies(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to,
                                   size_t numDependencies)
{
    LOCK();
    CUresult r = edit_edges(hGraph, from, to, NULL, numDependencies, false);
    UNLOCK();
    return r;
}

CUresult cuGraphRemoveDependencies_v2(CUgraph hGraph, const CUgraphNode *from,
                                      const CUgraphNode *to, const CUgraphEdgeData *edgeData,
                                      size_t numDependencies)
{
    LOCK();
    CUresult r = edit_edges(hGraph, from, to, edgeData, numDependencies, false);
    UNLOCK();
    return r;
}

/* ---- DOT output ------------------------------------------------------------------ */

static const char *type_name(CUgraphNodeType t)
{
    static const char *names[] = {"KERNEL", "MEMCPY", "MEMSET",     "HOST",
                                  "GRAPH",  "EMPTY",  "WAIT_EVENT", "EVENT_RECORD"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "OTHER";
}

static void dot_graph(FILE *f, struct sim_graph *g, const char *prefix, int depth)
{
    for (size_t i = 0; i < g->nodes.n; i++) {
        struct sim_gnode *nd = g->nodes.v[i];
        fprintf(f, "  \"%s%u\" [label=\"%s %u%s\"];\n", prefix, nd->id, type_name(nd->type), nd->id,
                nd->captured ? " (captured)" : "");
        if (!nd->captured && nd->type == CU_GRAPH_NODE_TYPE_GRAPH && nd->u.child && depth < 16) {
            char sub[64];
            snprintf(sub, sizeof sub, "%s%u_", prefix, nd->id);
            fprintf(f, "  subgraph \"cluster_%s\" {\n", sub);
            dot_graph(f, nd->u.child, sub, depth + 1);
            fprintf(f, "  }\n");
        }
    }
    for (size_t i = 0; i < g->nodes.n; i++)
        for (size_t j = 0; j < g->nodes.v[i]->out.n; j++)
            fprintf(f, "  \"%s%u\" -> \"%s%u\";\n", prefix, g->nodes.v[i]->id, prefix,
                    g->nodes.v[i]->out.v[j]->id);
}

CUresult cuGraphDebugDotPrint(CUgraph hGraph, const char *path, unsigned int flags)
{
    struct sim_graph *g;
    (void)flags;
    LOCK();
    CUresult r = sim_graph_arg(hGraph, &g);
    if (!r && !path) r = CUDA_ERROR_INVALID_VALUE;
    FILE *f = r ? NULL : fopen(path, "w");
    if (!r && !f) r = CUDA_ERROR_OPERATING_SYSTEM;
    if (f) {
        fprintf(f, "digraph cudaGraph {\n");
        dot_graph(f, g, "n", 0);
        fprintf(f, "}\n");
        if (fclose(f)) r = CUDA_ERROR_OPERATING_SYSTEM;
    }
    UNLOCK();
    return r;
}

/* ---- user objects ------------------------------------------------------------------ */

void sim_uobj_release(struct sim_uobj *o, unsigned count)
{
    if (atomic_fetch_sub(&o->refs, count) != count) return;
    sim_handle_remove(&o->obj);
    if (o->destroy) o->destroy(o->ptr);
    free(o);
}

CUresult sim_graph_uref_add(struct sim_graph *g, struct sim_uobj *o, unsigned count)
{
    for (struct sim_uref *u = g->urefs; u; u = u->next)
        if (u->o == o) {
            u->count += count;
            atomic_fetch_add(&o->refs, count);
            return CUDA_SUCCESS;
        }
    struct sim_uref *u = malloc(sizeof *u);
    if (!u) return CUDA_ERROR_OUT_OF_MEMORY;
    *u = (struct sim_uref){o, count, g->urefs};
    g->urefs = u;
    atomic_fetch_add(&o->refs, count);
    return CUDA_SUCCESS;
}

static CUresult uobj_arg(CUuserObject h, struct sim_uobj **out)
{
    SIM_INIT_OR_RETURN();
    if (!h) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(h, SIM_KIND_USER_OBJECT)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_uobj *)h;
    return CUDA_SUCCESS;
}

CUresult cuUserObjectCreate(CUuserObject *object_out, void *ptr, CUhostFn destroy,
                            unsigned int initialRefcount, unsigned int flags)
{
    SIM_INIT_OR_RETURN();
    if (!object_out || !destroy || !initialRefcount || flags != CU_USER_OBJECT_NO_DESTRUCTOR_SYNC)
        return CUDA_ERROR_INVALID_VALUE;
    struct sim_uobj *o = calloc(1, sizeof *o);
    if (!o) return CUDA_ERROR_OUT_OF_MEMORY;
    atomic_init(&o->refs, initialRefcount);
    o->ptr = ptr;
    o->destroy = destroy;
    sim_handle_add(&o->obj, SIM_KIND_USER_OBJECT);
    *object_out = (CUuserObject)o;
    return CUDA_SUCCESS;
}

CUresult cuUserObjectRetain(CUuserObject object, unsigned int count)
{
    struct sim_uobj *o;
    CUresult r = uobj_arg(object, &o);
    if (!r && !count) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) atomic_fetch_add(&o->refs, count);
    return r;
}

CUresult cuUserObjectRelease(CUuserObject object, unsigned int count)
{
    struct sim_uobj *o;
    LOCK();
    CUresult r = uobj_arg(object, &o);
    if (!r && (!count || count > atomic_load(&o->refs))) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) sim_uobj_release(o, count);
    UNLOCK();
    return r;
}

CUresult cuGraphRetainUserObject(CUgraph graph, CUuserObject object, unsigned int count,
                                 unsigned int flags)
{
    struct sim_graph *g;
    struct sim_uobj *o;
    LOCK();
    CUresult r = sim_graph_arg(graph, &g);
    if (!r) r = uobj_arg(object, &o);
    if (!r && (!count || (flags & ~(unsigned)CU_GRAPH_USER_OBJECT_MOVE)))
        r = CUDA_ERROR_INVALID_VALUE;
    if (!r) r = sim_graph_uref_add(g, o, count);
    if (!r && (flags & CU_GRAPH_USER_OBJECT_MOVE)) sim_uobj_release(o, count);
    UNLOCK();
    return r;
}

CUresult cuGraphReleaseUserObject(CUgraph graph, CUuserObject object, unsigned int count)
{
    struct sim_graph *g = NULL;
    struct sim_uobj *o = NULL;
    LOCK();
    CUresult r = sim_graph_arg(graph, &g);
    if (!r) r = uobj_arg(object, &o);
    struct sim_uref **pp = r ? NULL : &g->urefs;
    while (!r && *pp && (*pp)->o != o)
        pp = &(*pp)->next;
    if (!r && (!count || !*pp || (*pp)->count < count)) r = CUDA_ERROR_INVALID_VALUE;
    if (!r) {
        struct sim_uref *u = *pp;
        if ((u->count -= count) == 0) {
            *pp = u->next;
            free(u);
        }
        sim_uobj_release(o, count);
    }
    UNLOCK();
    return r;
}
