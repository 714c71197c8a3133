/* layout.c — the worker's answer to the launch marshallers: where each kernel
 * parameter lives, from the backend's cuFuncGetParamInfo / cuKernelGetParamInfo
 * (drivers before 12.4 lack them: the launch then fails NOT_SUPPORTED). */
#include <dlfcn.h>

#include "log.h"
#include "session.h"

static void *backend_dl;
static __thread uint32_t offs[RPC_MAX_KERNEL_PARAMS], sizes[RPC_MAX_KERNEL_PARAMS];

static int param_layout(void *self, void *real, int is_kernel, struct rpc_param_layout *out)
{
    typedef CUresult (*info_fn)(void *, size_t, size_t *, size_t *);
    info_fn f = (info_fn)dlsym(backend_dl, is_kernel ? "cuKernelGetParamInfo" : "cuFuncGetParamInfo");
    if (!f) return CUDA_ERROR_NOT_SUPPORTED;
    uint32_t n = 0;
    for (; n < RPC_MAX_KERNEL_PARAMS; n++) {
        size_t o = 0, sz = 0;
        CUresult r = f(real, n, &o, &sz);
        if (r == CUDA_ERROR_INVALID_VALUE) break; /* past the last parameter */
        if (r != CUDA_SUCCESS) return r;
        offs[n] = (uint32_t)o;
        sizes[n] = (uint32_t)sz;
    }
    *out = (struct rpc_param_layout){n, offs, sizes};
    return 0;
}

static const struct rpc_worker_ops worker_ops = {param_layout, NULL};

void layout_install(struct backend *b)
{
    backend_dl = b->dl;
    rpc_set_worker_ops(&worker_ops);
}
