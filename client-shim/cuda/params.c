/* params.c — what the shim keeps per function or kernel id. Kernel parameter
 * layouts for the launch marshaller: asked once per function or kernel from the
 * server (cuFuncGetParamInfo / cuKernelGetParamInfo, one round trip per
 * parameter) and cached by id; ids are never reused, so a cached layout can
 * never describe another function. Names (cuFuncGetName): the copy the
 * application's pointer points at. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"
#include "shim.h"

struct layout {
    uint64_t id;
    uint32_t count;
    uint32_t *offset, *size;
    struct layout *next;
};

#define BUCKETS 256
static struct layout *table[BUCKETS];
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static struct layout *lookup(uint64_t id)
{
    pthread_mutex_lock(&table_mu);
    struct layout *l = table[id % BUCKETS];
    while (l && l->id != id) l = l->next;
    pthread_mutex_unlock(&table_mu);
    return l;
}

static CUresult param_info(uint64_t id, size_t i, size_t *off, size_t *size)
{
    if (rg_id_type(id) == RPC_H_KERNEL)
        return cuKernelGetParamInfo((CUkernel)(uintptr_t)id, i, off, size);
    return cuFuncGetParamInfo((CUfunction)(uintptr_t)id, i, off, size);
}

/* Asks the server for every parameter; INVALID_VALUE past the last one. */
static int fetch(uint64_t id, struct layout **out)
{
    struct layout *l = calloc(1, sizeof *l);
    if (!l) return CUDA_ERROR_OUT_OF_MEMORY;
    l->id = id;
    for (uint32_t i = 0; i < RPC_MAX_KERNEL_PARAMS; i++) {
        size_t off = 0, size = 0;
        CUresult r = param_info(id, i, &off, &size);
        if (r == CUDA_ERROR_INVALID_VALUE && i > 0) break;
        if (r == CUDA_ERROR_INVALID_VALUE) break; /* no parameters */
        uint32_t *o = realloc(l->offset, (i + 1) * sizeof *o), *s;
        if (o) l->offset = o;
        s = o ? realloc(l->size, (i + 1) * sizeof *s) : NULL;
        if (s) l->size = s;
        if (r != CUDA_SUCCESS || !o || !s) {
            free(l->offset), free(l->size), free(l);
            return r != CUDA_SUCCESS ? r : CUDA_ERROR_OUT_OF_MEMORY;
        }
        l->offset[i] = (uint32_t)off;
        l->size[i] = (uint32_t)size;
        l->count = i + 1;
    }
    *out = l;
    return 0;
}

static int param_layout(void *self, uint64_t func_id, struct rpc_param_layout *out)
{
    (void)self;
    struct layout *l = lookup(func_id);
    if (!l) {
        int rc = fetch(func_id, &l);
        if (rc) return rc;
        pthread_mutex_lock(&table_mu);
        l->next = table[func_id % BUCKETS];
        table[func_id % BUCKETS] = l;
        pthread_mutex_unlock(&table_mu);
    }
    out->count = l->count;
    out->offset = l->offset;
    out->size = l->size;
    return 0;
}

int rg_param_layout_cached(uint64_t func_id, struct rpc_param_layout *out)
{
    struct layout *l = lookup(func_id);
    if (!l) return -1;
    out->count = l->count;
    out->offset = l->offset;
    out->size = l->size;
    return 0;
}

/* ---- names ------------------------------------------------------------------
 * cuFuncGetName / cuKernelGetName answer a string the driver owns: one copy per
 * id, never freed (ids are never reused, so a copy can never name another
 * function; a name is a few bytes per function the application asked about). */

struct name {
    uint64_t id;
    char *text;
    struct name *next;
};

static struct name *names[BUCKETS];

static const char *keep_name(void *self, uint64_t id, const char *text, size_t len)
{
    (void)self;
    pthread_mutex_lock(&table_mu);
    struct name *n = names[id % BUCKETS];
    while (n && n->id != id) n = n->next;
    if (!n && (n = calloc(1, sizeof *n)) && (n->text = malloc(len + 1))) {
        memcpy(n->text, text, len);
        n->text[len] = 0;
        n->id = id;
        n->next = names[id % BUCKETS];
        names[id % BUCKETS] = n;
    } else if (n && !n->text) {
        free(n);
        n = NULL;
    }
    pthread_mutex_unlock(&table_mu);
    return n ? n->text : NULL;
}

static const struct rpc_client_ops client_ops = {.param_layout = param_layout,
                                                 .keep_name = keep_name};

void rg_params_install(void)
{
    rpc_set_client_ops(&client_ops);
}
