/* func.c — CUfunction attributes and queries (cuFuncGetAttribute & co), and
 * resolving a function handle: a CUfunction, or a CUkernel cast to one, which
 * stands for the kernel's instance in the calling context. The attribute model
 * is an sm_120-class device; per-function values come from the PTX. */
#include <stdlib.h>

#include "module.h"

CUresult sim_func_resolve(CUfunction h, struct sim_ctx *c, struct sim_func **out)
{
    enum sim_kind kind = sim_handle_kind(h);
    if (kind == SIM_KIND_FUNC) {
        *out = (struct sim_func *)h;
        return CUDA_SUCCESS;
    }
    if (kind != SIM_KIND_KERNEL) return CUDA_ERROR_INVALID_HANDLE;
    struct sim_kernel *k = (struct sim_kernel *)h;
    struct sim_module *m;
    CUresult r = c ? CUDA_SUCCESS : sim_ctx_get(&c);
    if (r == CUDA_SUCCESS) r = sim_library_instance(k->lib, c, &m);
    if (r == CUDA_SUCCESS) *out = &m->funcs[k->index];
    return r;
}

void sim_fattrs_init(struct sim_fattrs *a)
{
    atomic_init(&a->max_dyn_smem, -1); /* -1: the default, 48 KiB minus static */
    atomic_init(&a->carveout, -1);
    atomic_init(&a->cache_config, CU_FUNC_CACHE_PREFER_NONE);
    for (int i = 0; i < 3; i++)
        atomic_init(&a->cluster_dims[i], 0);
    atomic_init(&a->non_portable_cluster, 0);
    atomic_init(&a->cluster_sched, 0);
}

/* The IR counts virtual registers, which says little about a real register
 * allocation; report a plausible number that never limits a 1024-thread block
 * (64 x 1024 = the 64K register file), so occupancy-driven code stays happy. */
unsigned sim_func_regs(const ptx_kernel_info *info)
{
    unsigned n = info->num_regs;
    if (n < 1) n = 1;
    if (n > SIM_REGS_REPORTED_MAX) n = SIM_REGS_REPORTED_MAX;
    return n;
}

unsigned sim_func_max_threads(const ptx_kernel_info *info)
{
    unsigned n = SIM_MAX_THREADS_PER_BLOCK;
    if (info->maxntid && info->maxntid < n) n = info->maxntid;
    if (info->reqntid[0]) {
        unsigned r = info->reqntid[0] * (info->reqntid[1] ? info->reqntid[1] : 1) *
                     (info->reqntid[2] ? info->reqntid[2] : 1);
        if (r < n) n = r;
    }
    return n;
}

unsigned sim_func_max_dyn_smem(const ptx_kernel_info *info, const struct sim_fattrs *a)
{
    int v = atomic_load_explicit(&a->max_dyn_smem, memory_order_relaxed);
    if (v >= 0) return (unsigned)v;
    return info->static_smem >= SIM_SMEM_PER_BLOCK
               ? 0
               : SIM_SMEM_PER_BLOCK - (unsigned)info->static_smem;
}

CUresult sim_func_get_attr(int *pi, CUfunction_attribute a, const ptx_kernel_info *info,
                           const struct sim_code *code, const struct sim_fattrs *at)
{
    switch (a) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
        *pi = (int)sim_func_max_threads(info);
        break;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES:
        *pi = (int)info->static_smem;
        break;
    case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES:
        *pi = (int)code->const_bytes;
        break;
    case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES:
        *pi = (int)info->local_bytes;
        break;
    case CU_FUNC_ATTRIBUTE_NUM_REGS:
        *pi = (int)sim_func_regs(info);
        break;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION:
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION:
        *pi = (int)code->target;
        break;
    case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA:
        *pi = 0;
        break;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
        *pi = (int)sim_func_max_dyn_smem(info, at);
        break;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
        *pi = at->carveout;
        break;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SIZE_MUST_BE_SET:
        *pi = 0;
        break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
        *pi = at->cluster_dims[0];
        break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
        *pi = at->cluster_dims[1];
        break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
        *pi = at->cluster_dims[2];
        break;
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
        *pi = at->non_portable_cluster;
        break;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
        *pi = at->cluster_sched;
        break;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

CUresult sim_func_set_attr(CUfunction_attribute a, int v, const ptx_kernel_info *info,
                           struct sim_fattrs *at)
{
    switch (a) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
        if (v < 0 || (size_t)v + info->static_smem > SIM_SMEM_PER_BLOCK_OPTIN)
            return CUDA_ERROR_INVALID_VALUE;
        atomic_store(&at->max_dyn_smem, v);
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
        if (v < -1 || v > 100) return CUDA_ERROR_INVALID_VALUE;
        atomic_store(&at->carveout, v);
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
        if (v < 0 || v > 16) return CUDA_ERROR_INVALID_VALUE;
        atomic_store(&at->cluster_dims[a - CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH], v);
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
        if (v != 0 && v != 1) return CUDA_ERROR_INVALID_VALUE;
        atomic_store(&at->non_portable_cluster, v);
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
        if (v < 0 || v > CU_CLUSTER_SCHEDULING_POLICY_LOAD_BALANCING)
            return CUDA_ERROR_INVALID_VALUE;
        atomic_store(&at->cluster_sched, v);
        return CUDA_SUCCESS;
    default:
        return CUDA_ERROR_INVALID_VALUE; /* read-only or unknown */
    }
}

CUresult sim_param_info(const ptx_kernel_info *info, size_t i, size_t *off, size_t *size)
{
    if (i >= info->nparams) return CUDA_ERROR_INVALID_VALUE;
    if (off) *off = info->params[i].offset;
    if (size) *size = info->params[i].size;
    return CUDA_SUCCESS;
}

/* ---- entry points ----------------------------------------------------------- */

static CUresult func_arg(CUfunction h, struct sim_func **out)
{
    return sim_func_resolve(h, NULL, out);
}

CUresult CUDAAPI cuFuncGetAttribute(int *pi, CUfunction_attribute attrib, CUfunction hfunc)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!pi) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = func_arg(hfunc, &f);
    if (r == CUDA_SUCCESS) r = sim_func_get_attr(pi, attrib, f->info, f->mod->code, f->attrs);
    return r;
}

CUresult CUDAAPI cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    CUresult r = func_arg(hfunc, &f);
    if (r == CUDA_SUCCESS) r = sim_func_set_attr(attrib, value, f->info, f->attrs);
    return r;
}

CUresult CUDAAPI cuFuncSetCacheConfig(CUfunction hfunc, CUfunc_cache config)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    CUresult r = func_arg(hfunc, &f);
    if (r != CUDA_SUCCESS) return r;
    if ((unsigned)config > CU_FUNC_CACHE_PREFER_EQUAL) return CUDA_ERROR_INVALID_VALUE;
    atomic_store(&f->attrs->cache_config, (int)config);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncSetSharedMemConfig(CUfunction hfunc, CUsharedconfig config)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    CUresult r = func_arg(hfunc, &f);
    if (r != CUDA_SUCCESS) return r;
    return (unsigned)config > CU_SHARED_MEM_CONFIG_EIGHT_BYTE_BANK_SIZE ? CUDA_ERROR_INVALID_VALUE
                                                                        : CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncGetModule(CUmodule *hmod, CUfunction hfunc)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!hmod) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = func_arg(hfunc, &f);
    if (r == CUDA_SUCCESS) *hmod = (CUmodule)f->mod;
    return r;
}

CUresult CUDAAPI cuFuncGetName(const char **name, CUfunction hfunc)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!name) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = func_arg(hfunc, &f);
    if (r == CUDA_SUCCESS) *name = f->info->name;
    return r;
}

CUresult CUDAAPI cuFuncGetParamInfo(CUfunction func, size_t paramIndex, size_t *paramOffset,
                                    size_t *paramSize)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    CUresult r = func_arg(func, &f);
    if (r == CUDA_SUCCESS) r = sim_param_info(f->info, paramIndex, paramOffset, paramSize);
    return r;
}

/* Modules are parsed whole at load: every function is always loaded. */
CUresult CUDAAPI cuFuncIsLoaded(CUfunctionLoadingState *state, CUfunction function)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    if (!state) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = func_arg(function, &f);
    if (r == CUDA_SUCCESS) *state = CU_FUNCTION_LOADING_STATE_LOADED;
    return r;
}

CUresult CUDAAPI cuFuncLoad(CUfunction function)
{
    SIM_INIT_OR_RETURN();
    struct sim_func *f;
    return func_arg(function, &f);
}
