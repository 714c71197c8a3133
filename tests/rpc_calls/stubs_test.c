/* stubs_test.c — the generated shim entry points (rg_rpc_client_stubs): each
 * forwards its own descriptor with args[i] pointing at argument i; client-side
 * and unsupported functions are not generated. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <dlfcn.h>
#include <string.h>

#include "forward.h"
#include "rgtest.h"

static const struct rpc_call_desc *last_desc;
static void **last_args;

CUresult rg_shim_forward(const struct rpc_call_desc *d, void **args)
{
    last_desc = d;
    last_args = args;
    if (d->nargs >= 2 && !strcmp(d->name, "cuMemAlloc_v2"))
        **(CUdeviceptr **)args[0] = *(size_t *)args[1] + 1;
    return CUDA_SUCCESS;
}

RG_TEST(forwarded_entry_points_pack_arguments)
{
    CUdeviceptr p = 0;
    CHECK_CU(cuMemAlloc_v2(&p, 41));
    CHECK_STR(last_desc->name, "cuMemAlloc_v2");
    CHECK_EQ_U64(p, 42);
    char buf[8] = "abc";
    CHECK_CU(cuMemcpyHtoD_v2_ptds(0x1000, buf, 3));
    CHECK_STR(last_desc->name, "cuMemcpyHtoD_v2_ptds");
    CHECK(*(const void **)last_args[1] == buf);
    CHECK_EQ_U64(*(size_t *)last_args[2], 3);
    CHECK_CU(cuCtxSynchronize());
    CHECK_STR(last_desc->name, "cuCtxSynchronize");
    CHECK(last_args == NULL);
}

RG_TEST(client_and_unsupported_are_not_generated)
{
    CHECK(dlsym(RTLD_DEFAULT, "cuMemAlloc_v2") != NULL);
    CHECK(dlsym(RTLD_DEFAULT, "cuCtxPushCurrent_v2") == NULL);
    CHECK(dlsym(RTLD_DEFAULT, "cuGetErrorName") == NULL);
    CHECK(dlsym(RTLD_DEFAULT, "cuTexRefSetArray") == NULL);
}

RG_TEST_MAIN()
