/* launch.c — cuLaunchKernel, cuLaunchKernelEx, cooperative launches. A launch
 * checks its configuration like the driver, packs the parameters by the
 * kernel's PTX layout into the op's payload (inline in the stream's ring: no
 * allocation for ordinary sizes) and queues it; the op runs the interpreter
 * and turns a fault into the context's sticky error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

struct launch_op {
    struct sim_func *f;
    struct sim_ctx *ctx;
    uint32_t grid[3], block[3];
    uint32_t dyn_smem;
    uint32_t params_size;
    uint64_t grid_ws;       /* cooperative launches: the context's grid workspace, else 0 */
    unsigned char params[]; /* offset 56: 8-aligned like the stream ring slots */
};

#define LAUNCH_STACK_PARAMS 4096 /* larger parameter buffers are packed on the heap */

static _Atomic uint64_t g_launch_id;

CUresult sim_ptx_status_to_cu(enum ptx_status s)
{
    switch (s) {
    case PTX_OK:
        return CUDA_SUCCESS;
    case PTX_ERR_PARSE:
        return CUDA_ERROR_INVALID_PTX;
    case PTX_ERR_NOMEM:
        return CUDA_ERROR_OUT_OF_MEMORY;
    case PTX_ERR_ILLEGAL_ADDRESS:
        return CUDA_ERROR_ILLEGAL_ADDRESS;
    case PTX_ERR_MISALIGNED:
        return CUDA_ERROR_MISALIGNED_ADDRESS;
    case PTX_ERR_ASSERT:
        return CUDA_ERROR_ASSERT;
    case PTX_ERR_TRAP:
        return CUDA_ERROR_LAUNCH_FAILED;
    case PTX_ERR_ILLEGAL_INSTR:
        return CUDA_ERROR_ILLEGAL_INSTRUCTION;
    case PTX_ERR_LAUNCH_RESOURCES:
        return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
    case PTX_ERR_INVALID_VALUE:
        return CUDA_ERROR_INVALID_VALUE;
    default:
        return CUDA_ERROR_LAUNCH_FAILED;
    }
}

/* ---- the stream op ---------------------------------------------------------- */

/* The device runtime's line: "file:line: function: block: [x,y,z], thread:
 * [x,y,z] Assertion `expr` failed." (the interpreter gives it without the
 * block and thread). */
static void print_assert(const char *kernel, const ptx_fault *ft)
{
    const char *msg = ft->message, *cut = strstr(msg, " Assertion `");
    sim_printf_flush(); /* what the kernel printed before the assert comes first */
    if (cut)
        fprintf(stderr, "%.*s block: [%u,%u,%u], thread: [%u,%u,%u]%s\n", (int)(cut - msg), msg,
                ft->block[0], ft->block[1], ft->block[2], ft->thread[0], ft->thread[1],
                ft->thread[2], cut);
    else
        fprintf(stderr, "%s: block: [%u,%u,%u], thread: [%u,%u,%u] %s\n", kernel, ft->block[0],
                ft->block[1], ft->block[2], ft->thread[0], ft->thread[1], ft->thread[2], msg);
    fflush(stderr);
}

static CUresult launch_failed(const struct launch_op *op, enum ptx_status s, const ptx_fault *ft)
{
    CUresult r = sim_ptx_status_to_cu(s);
    const char *name = op->f->info->name;
    if (s == PTX_ERR_ASSERT) print_assert(name, ft);
    sim_err("kernel %s: %s (%d) at address %#lx, block (%u,%u,%u) thread (%u,%u,%u): %s", name,
            ptx_status_name(s), (int)r, (unsigned long)ft->address, ft->block[0], ft->block[1],
            ft->block[2], ft->thread[0], ft->thread[1], ft->thread[2], ft->message);
    if (sim_error_is_sticky(r)) sim_ctx_set_sticky(op->ctx, r);
    return r;
}

static CUresult launch_run(void *payload)
{
    const struct launch_op *op = payload;
    const struct sim_func *f = op->f;
    int sticky = atomic_load_explicit(&op->ctx->sticky, memory_order_relaxed);
    if (sticky) return (CUresult)sticky;
    const ptx_mem_map *mm = sim_mem_snapshot_acquire();
    ptx_launch l = {
        .kernel = f->k,
        .var_addrs = f->mod->var_addrs,
        .grid = {op->grid[0], op->grid[1], op->grid[2]},
        .block = {op->block[0], op->block[1], op->block[2]},
        .dyn_smem = op->dyn_smem,
        .params = op->params,
        .params_size = op->params_size,
        .mem = mm,
        .print = sim_printf_sink,
        .print_arg = op->ctx,
        .sm_count = f->mod->sm_count,
        .launch_id = atomic_fetch_add_explicit(&g_launch_id, 1, memory_order_relaxed) + 1,
        /* set before the launch was queued (launch_ex), stable until teardown */
        .heap = f->mod->code->uses_heap ? op->ctx->heap : NULL,
        .cooperative = op->grid_ws != 0,
        .grid_workspace = op->grid_ws,
    };
    ptx_fault fault;
    fault.message[0] = 0;
    enum ptx_status s = ptx_run(&l, &fault);
    sim_mem_snapshot_release(mm);
    return s == PTX_OK ? CUDA_SUCCESS : launch_failed(op, s, &fault);
}

bool sim_launch_op_info(sim_op_fn fn, const void *payload, size_t len, struct sim_launch_info *out)
{
    const struct launch_op *op = payload;
    if (fn != launch_run || len < sizeof *op || len - sizeof *op != op->params_size) return false;
    *out = (struct sim_launch_info){.f = op->f,
                                    .ctx = op->ctx,
                                    .grid = {op->grid[0], op->grid[1], op->grid[2]},
                                    .block = {op->block[0], op->block[1], op->block[2]},
                                    .dyn_smem = op->dyn_smem,
                                    .params = op->params,
                                    .params_size = op->params_size};
    return true;
}

/* ---- parameters ------------------------------------------------------------- */

size_t sim_func_params_size(const struct sim_func *f)
{
    return f->info->params_size;
}

static size_t params_align(const ptx_kernel_info *in)
{
    size_t a = 8;
    for (size_t i = 0; i < in->nparams; i++)
        if (in->params[i].align > a) a = in->params[i].align;
    return a;
}

/* CU_LAUNCH_PARAM_BUFFER_POINTER / _SIZE / _END. The size must cover the
 * kernel's parameters; a buffer padded like a C struct of them is accepted. */
static CUresult pack_extra(const ptx_kernel_info *in, void **extra, void *buf)
{
    void *ptr = NULL;
    size_t *sizep = NULL;
    for (size_t i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
        if (i >= 64) return CUDA_ERROR_INVALID_VALUE; /* unterminated */
        if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER)
            ptr = extra[i + 1];
        else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE)
            sizep = extra[i + 1];
        else
            return CUDA_ERROR_INVALID_VALUE;
    }
    size_t need = in->params_size, a = params_align(in);
    if (need == 0) return CUDA_SUCCESS;
    if (!ptr || !sizep) return CUDA_ERROR_INVALID_VALUE;
    if (*sizep < need || *sizep > (need + a - 1) / a * a) return CUDA_ERROR_INVALID_VALUE;
    memcpy(buf, ptr, need);
    return CUDA_SUCCESS;
}

CUresult sim_func_pack_params(const struct sim_func *f, void **kernel_params, void **extra,
                              void *buf)
{
    const ptx_kernel_info *in = f->info;
    if (kernel_params && extra) return CUDA_ERROR_INVALID_VALUE;
    if (extra) return pack_extra(in, extra, buf);
    if (in->nparams == 0) return CUDA_SUCCESS;
    if (!kernel_params) return CUDA_ERROR_INVALID_VALUE;
    memset(buf, 0, in->params_size);
    for (size_t i = 0; i < in->nparams; i++) {
        if (!kernel_params[i]) return CUDA_ERROR_INVALID_VALUE;
        memcpy((char *)buf + in->params[i].offset, kernel_params[i], in->params[i].size);
    }
    return CUDA_SUCCESS;
}

/* ---- configuration checks ----------------------------------------------------- */

static CUresult check_block(const ptx_kernel_info *in, const unsigned b[3])
{
    if (!b[0] || !b[1] || !b[2]) return CUDA_ERROR_INVALID_VALUE;
    if (b[0] > 1024 || b[1] > 1024 || b[2] > 64) return CUDA_ERROR_INVALID_VALUE;
    unsigned long long threads = (unsigned long long)b[0] * b[1] * b[2];
    if (threads > sim_func_max_threads(in)) return CUDA_ERROR_INVALID_VALUE;
    if (in->reqntid[0] &&
        (b[0] != in->reqntid[0] || b[1] != (in->reqntid[1] ?: 1) || b[2] != (in->reqntid[2] ?: 1)))
        return CUDA_ERROR_INVALID_VALUE;
    if (threads * sim_func_regs(in) > SIM_REGS_PER_SM) return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
    return CUDA_SUCCESS;
}

static CUresult check_config(const struct sim_func *f, const unsigned g[3], const unsigned b[3],
                             unsigned dyn, bool coop)
{
    if (!g[0] || !g[1] || !g[2]) return CUDA_ERROR_INVALID_VALUE;
    if (g[0] > 0x7fffffffu || g[1] > 65535 || g[2] > 65535) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = check_block(f->info, b);
    if (r != CUDA_SUCCESS) return r;
    if (dyn > sim_func_max_dyn_smem(f->info, f->attrs)) return CUDA_ERROR_INVALID_VALUE;
    if (coop) {
        int per_sm = sim_occupancy_blocks(f->info, f->attrs, (int)(b[0] * b[1] * b[2]), dyn);
        unsigned long long blocks = (unsigned long long)g[0] * g[1] * g[2];
        if (blocks > (unsigned long long)per_sm * f->mod->sm_count)
            return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
    }
    return CUDA_SUCCESS;
}

/* ---- launch ----------------------------------------------------------------- */

static CUresult launch_ex(struct sim_func *f, struct sim_stream *s, struct sim_ctx *c,
                          const unsigned g[3], const unsigned b[3], unsigned dyn, void **kp,
                          void **extra, bool coop)
{
    CUresult r = check_config(f, g, b, dyn, coop);
    if (r != CUDA_SUCCESS) return r;
    ptx_heap *heap;
    uintptr_t ws = 0;
    if (f->mod->code->uses_heap && (r = sim_ctx_heap(c, &heap)) != CUDA_SUCCESS) return r;
    if (coop && (r = sim_ctx_grid_workspace(c, &ws)) != CUDA_SUCCESS) return r;
    size_t ps = f->info->params_size;
    union {
        struct launch_op op;
        unsigned char bytes[sizeof(struct launch_op) + LAUNCH_STACK_PARAMS];
    } stack;
    struct launch_op *op = &stack.op;
    if (ps > LAUNCH_STACK_PARAMS && !(op = malloc(sizeof *op + ps)))
        return CUDA_ERROR_OUT_OF_MEMORY;
    r = sim_func_pack_params(f, kp, extra, op->params);
    if (r == CUDA_SUCCESS) {
        op->f = f;
        op->ctx = c;
        memcpy(op->grid, g, sizeof op->grid);
        memcpy(op->block, b, sizeof op->block);
        op->dyn_smem = dyn;
        op->params_size = (uint32_t)ps;
        op->grid_ws = ws;
        r = sim_stream_enqueue(s, launch_run, op, sizeof *op + ps);
    }
    if (op != &stack.op) free(op);
    return r;
}

CUresult sim_launch(struct sim_func *f, struct sim_stream *s, const unsigned grid[3],
                    const unsigned block[3], unsigned dyn_smem, void **kernel_params, void **extra)
{
    return launch_ex(f, s, sim_stream_ctx(s), grid, block, dyn_smem, kernel_params, extra, false);
}

/* Common front of every entry point: stream, function in the stream's
 * context, the context's sticky error. */
static CUresult launch_prepare(CUfunction h, CUstream hs, bool ptsz, struct sim_func **f,
                               struct sim_stream **s, struct sim_ctx **c)
{
    CUresult r = sim_stream_resolve(hs, ptsz, s, c);
    if (r != CUDA_SUCCESS) return r;
    if ((r = sim_func_resolve(h, *c, f)) != CUDA_SUCCESS) return r;
    if ((*f)->mod->ctx != *c) return CUDA_ERROR_INVALID_HANDLE;
    int sticky = atomic_load_explicit(&(*c)->sticky, memory_order_relaxed);
    return (CUresult)sticky;
}

static CUresult launch_entry(CUfunction h, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, unsigned smem, CUstream hs, void **kp,
                             void **extra, bool ptsz, bool coop)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    struct sim_stream *s;
    struct sim_ctx *c;
    CUresult r = launch_prepare(h, hs, ptsz, &f, &s, &c);
    if (r != CUDA_SUCCESS) return r;
    const unsigned g[3] = {gx, gy, gz}, b[3] = {bx, by, bz};
    return launch_ex(f, s, c, g, b, smem, kp, extra, coop);
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                unsigned int gridDimZ, unsigned int blockDimX,
                                unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream hStream, void **kernelParams,
                                void **extra)
{
    return launch_entry(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ,
                        sharedMemBytes, hStream, kernelParams, extra, false, false);
}

CUresult CUDAAPI cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                     unsigned bx, unsigned by, unsigned bz, unsigned smem,
                                     CUstream s, void **params, void **extra)
{
    return launch_entry(f, gx, gy, gz, bx, by, bz, smem, s, params, extra, true, false);
}

CUresult CUDAAPI cuLaunchCooperativeKernel(CUfunction f, unsigned int gridDimX,
                                           unsigned int gridDimY, unsigned int gridDimZ,
                                           unsigned int blockDimX, unsigned int blockDimY,
                                           unsigned int blockDimZ, unsigned int sharedMemBytes,
                                           CUstream hStream, void **kernelParams)
{
    return launch_entry(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ,
                        sharedMemBytes, hStream, kernelParams, NULL, false, true);
}

CUresult CUDAAPI cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                                unsigned bx, unsigned by, unsigned bz,
                                                unsigned smem, CUstream s, void **params)
{
    return launch_entry(f, gx, gy, gz, bx, by, bz, smem, s, params, NULL, true, true);
}

CUresult CUDAAPI cuLaunchCooperativeKernelMultiDevice(CUDA_LAUNCH_PARAMS *launchParamsList,
                                                      unsigned int numDevices, unsigned int flags)
{
    static atomic_flag logged = ATOMIC_FLAG_INIT;
    SIM_INIT_OR_RETURN();
    if (!atomic_flag_test_and_set(&logged))
        sim_warn("cuLaunchCooperativeKernelMultiDevice: not supported");
    return CUDA_ERROR_NOT_SUPPORTED;
}

/* ---- cuLaunchKernelEx ----------------------------------------------------------- */

struct ex_attrs {
    bool coop;
    unsigned cluster[3];
    CUevent done[2]; /* completion / programmatic events, recorded after the kernel */
};

static CUresult parse_attrs(const CUlaunchConfig *cfg, struct ex_attrs *a)
{
    memset(a, 0, sizeof *a);
    if (cfg->numAttrs && !cfg->attrs) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < cfg->numAttrs; i++) {
        const CUlaunchAttribute *at = &cfg->attrs[i];
        switch (at->id) {
        case CU_LAUNCH_ATTRIBUTE_COOPERATIVE:
            a->coop = at->value.cooperative != 0;
            break;
        case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
            a->cluster[0] = at->value.clusterDim.x;
            a->cluster[1] = at->value.clusterDim.y;
            a->cluster[2] = at->value.clusterDim.z;
            break;
        case CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT:
            a->done[0] = at->value.launchCompletionEvent.event;
            break;
        case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT:
            a->done[1] = at->value.programmaticEvent.event;
            break;
        default:
            /* priority, access policy, sync domains, ...: accepted, no effect on a CPU */
            if ((unsigned)at->id > CU_LAUNCH_ATTRIBUTE_NVLINK_UTIL_CENTRIC_SCHEDULING)
                return CUDA_ERROR_INVALID_VALUE;
        }
    }
    return CUDA_SUCCESS;
}

static CUresult check_cluster(const struct sim_func *f, const unsigned g[3], const unsigned c[3])
{
    if (!c[0] && !c[1] && !c[2]) return CUDA_SUCCESS;
    if (!c[0] || !c[1] || !c[2]) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
    unsigned limit = atomic_load(&f->attrs->non_portable_cluster) ? 16 : 8;
    if ((unsigned long long)c[0] * c[1] * c[2] > limit) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
    if (g[0] % c[0] || g[1] % c[1] || g[2] % c[2]) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
    return CUDA_SUCCESS;
}

static CUresult record_events(const struct ex_attrs *a, struct sim_stream *s)
{
    for (int i = 0; i < 2; i++) {
        struct sim_event *e;
        if (!a->done[i]) continue;
        CUresult r = sim_event_resolve(a->done[i], &e);
        if (r == CUDA_SUCCESS) r = sim_event_record(e, s);
        if (r != CUDA_SUCCESS) return r;
    }
    return CUDA_SUCCESS;
}

static CUresult launch_ex_entry(const CUlaunchConfig *cfg, CUfunction h, void **kp, void **extra,
                                bool ptsz)
{
    SIM_INIT_OR_RETURN();
    struct ex_attrs a;
    struct sim_func *f;
    struct sim_stream *s;
    struct sim_ctx *c;
    if (!cfg) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = parse_attrs(cfg, &a);
    if (r == CUDA_SUCCESS) r = launch_prepare(h, cfg->hStream, ptsz, &f, &s, &c);
    if (r != CUDA_SUCCESS) return r;
    const unsigned g[3] = {cfg->gridDimX, cfg->gridDimY, cfg->gridDimZ};
    const unsigned b[3] = {cfg->blockDimX, cfg->blockDimY, cfg->blockDimZ};
    if (g[0] && g[1] && g[2] && (r = check_cluster(f, g, a.cluster)) != CUDA_SUCCESS) return r;
    r = launch_ex(f, s, c, g, b, cfg->sharedMemBytes, kp, extra, a.coop);
    if (r == CUDA_SUCCESS) r = record_events(&a, s);
    return r;
}

CUresult CUDAAPI cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **kernelParams,
                                  void **extra)
{
    return launch_ex_entry(config, f, kernelParams, extra, false);
}

CUresult CUDAAPI cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **params,
                                       void **extra)
{
    return launch_ex_entry(config, f, params, extra, true);
}
