/* ptx_util.h — helpers for the PTX interpreter's unit tests: parse a module,
 * place its variables in host memory, build the memory map from registered
 * buffers, run a kernel and collect printf output. */
#ifndef PTX_UTIL_H
#define PTX_UTIL_H

#include "ptx.h"
#include "rgtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PU_MAXBUF 1024

typedef struct pu_env {
    ptx_module *m;
    char log[4096];
    void *vars[1024];
    ptx_mem_range ranges[PU_MAXBUF];
    size_t nranges;
    ptx_mem_map map;
    char out[1 << 16];
    size_t outlen;
    ptx_fault fault;
    uint64_t launch_id;
} pu_env;

static inline void pu_print(void *arg, const char *text, size_t len)
{
    pu_env *e = arg;
    if (e->outlen + len < sizeof e->out) {
        memcpy(e->out + e->outlen, text, len);
        e->outlen += len;
        e->out[e->outlen] = 0;
    }
}

static inline void pu_add_range(pu_env *e, const void *p, size_t n)
{
    if (e->nranges == PU_MAXBUF || !n) return;
    ptx_mem_range r = {(uintptr_t)p, (uintptr_t)p + n};
    size_t i = e->nranges++;
    while (i > 0 && e->ranges[i - 1].lo > r.lo) {
        e->ranges[i] = e->ranges[i - 1];
        i--;
    }
    e->ranges[i] = r;
    e->map.ranges = e->ranges;
    e->map.count = e->nranges;
}

/* Device buffer: zeroed host memory registered in the map. */
static inline void *pu_alloc(pu_env *e, size_t n)
{
    void *p = aligned_alloc(256, (n + 255) / 256 * 256);
    memset(p, 0, (n + 255) / 256 * 256);
    pu_add_range(e, p, n);
    return p;
}

static inline enum ptx_status pu_load(pu_env *e, const char *src)
{
    memset(e, 0, sizeof *e);
    enum ptx_status s = ptx_parse(src, strlen(src), &e->m, e->log, sizeof e->log);
    if (s) {
        fprintf(stderr, "  parse: %s", e->log);
        return s;
    }
    size_t nv = ptx_module_num_vars(e->m);
    for (size_t i = 0; i < nv && i < 1024; i++) {
        const ptx_var_info *v = ptx_module_var(e->m, i);
        e->vars[i] = pu_alloc(e, v->size ? v->size : 1);
        if (v->init) memcpy(e->vars[i], v->init, v->size);
    }
    for (size_t i = 0; i < nv && i < 1024; i++)
        ptx_module_relocate(e->m, i, e->vars[i], e->vars);
    return s;
}

static inline enum ptx_status pu_run3(pu_env *e, const char *kernel, const unsigned grid[3],
                                      const unsigned block[3], size_t dyn, const void *params,
                                      size_t psize)
{
    const ptx_kernel *k = ptx_module_find_kernel(e->m, kernel);
    if (!k) return PTX_ERR_INVALID_VALUE;
    ptx_launch l = {0};
    l.kernel = k;
    l.var_addrs = e->vars;
    memcpy(l.grid, grid, sizeof l.grid);
    memcpy(l.block, block, sizeof l.block);
    l.dyn_smem = dyn;
    l.params = params;
    l.params_size = psize;
    l.mem = &e->map;
    l.print = pu_print;
    l.print_arg = e;
    l.sm_count = 4;
    l.launch_id = ++e->launch_id;
    return ptx_run(&l, &e->fault);
}

static inline enum ptx_status pu_run(pu_env *e, const char *kernel, unsigned grid, unsigned block,
                                     size_t dyn, const void *params, size_t psize)
{
    unsigned g[3] = {grid, 1, 1}, b[3] = {block, 1, 1};
    return pu_run3(e, kernel, g, b, dyn, params, psize);
}

static inline void pu_free(pu_env *e)
{
    for (size_t i = 0; i < e->nranges; i++)
        free((void *)e->ranges[i].lo);
    ptx_module_free(e->m);
    e->m = NULL;
}

#define PTX_HEADER ".version 9.0\n.target sm_120\n.address_size 64\n"

#endif
