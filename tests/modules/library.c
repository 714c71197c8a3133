/* library.c — the context-independent library API as cudart 13 drives it:
 * cuLibraryLoadData with a __fatBinC_Wrapper_t before any context, kernels
 * launched as CUkernel cast to CUfunction, globals per context, attributes
 * through both handle kinds, unload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modtest.h"

static CUresult load_wrapped(CUlibrary *lib, mt_fatbin_wrapper *w, char **img)
{
    CUlibraryOption opt = CU_LIBRARY_BINARY_IS_PRESERVED;
    void *val = (void *)(uintptr_t)1;
    *img = mt_read("kernels_ptx.fatbin", NULL);
    if (!*img) return CUDA_ERROR_FILE_NOT_FOUND;
    w->magic = MT_FATBINC_MAGIC;
    w->version = 1;
    w->data = *img;
    w->prelinked = NULL;
    return cuLibraryLoadData(lib, w, NULL, NULL, 0, &opt, &val, 1);
}

RG_TEST(library_like_cudart)
{
    CUlibrary lib, owner;
    CUkernel k, ks[16] = {0};
    CUmodule mod;
    CUfunction f;
    CUdevice dev;
    CUdeviceptr p;
    mt_fatbin_wrapper w;
    char *img;
    unsigned n = 0;
    int v;
    MT_NEED_NVCC();
    CHECK_CU(cuInit(0));
    CHECK_CU(cuDeviceGet(&dev, 0));
    CHECK_CU(cuCtxSetCurrent(NULL));
    CHECK_CU(load_wrapped(&lib, &w, &img)); /* no context needed */
    CHECK_CU_IS(cuLibraryGetModule(&mod, lib), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU(cuLibraryGetKernelCount(&n, lib));
    CHECK_EQ_INT(n, 10);
    CHECK_CU(cuLibraryEnumerateKernels(ks, 16, lib));
    CHECK(ks[9] && !ks[10]);
    CHECK_CU(cuLibraryGetKernel(&k, lib, "vadd"));
    CHECK_CU_IS(cuLibraryGetKernel(&k, lib, "nope"), CUDA_ERROR_NOT_FOUND);
    CHECK_CU(cuLibraryGetKernel(&k, lib, "vadd"));
    const char *name;
    CHECK_CU(cuKernelGetName(&name, k));
    CHECK_STR(name, "vadd");
    CHECK_CU(cuKernelGetLibrary(&owner, k));
    CHECK(owner == lib);
    size_t off, size;
    CHECK_CU(cuKernelGetParamInfo(k, 3, &off, &size));
    CHECK(off == 24 && size == 4);
    CHECK_CU_IS(cuKernelGetParamInfo(k, 4, &off, &size), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuKernelGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, k, dev));
    CHECK_EQ_INT(v, 90);
    CHECK_CU(cuKernelSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 60000, k, dev));
    CHECK_CU(cuKernelSetCacheConfig(k, CU_FUNC_CACHE_PREFER_L1, dev));
    CHECK_CU_IS(cuKernelGetAttribute(&v, CU_FUNC_ATTRIBUTE_PTX_VERSION, k, 99),
                CUDA_ERROR_INVALID_DEVICE);

    /* managed variables exist before any context (cudart's eager loading) */
    CUdeviceptr managed;
    CHECK_CU(cuLibraryGetManaged(&managed, &size, lib, "managed_total"));
    CHECK_EQ_INT(size, 4);

    /* now in a context: instances, globals, launches through the CUkernel */
    MT_CTX();
    CHECK_CU(cuLibraryGetModule(&mod, lib));
    CUmodule mod2;
    CHECK_CU(cuLibraryGetModule(&mod2, lib));
    CHECK(mod == mod2);
    CHECK_CU(cuKernelGetFunction(&f, k));
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, f));
    CHECK_EQ_INT(v, 60000);
    CHECK_CU(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, (CUfunction)k));
    CHECK(v > 0);
    CHECK_CU(cuLibraryGetGlobal(&p, &size, lib, "dev_counter"));
    CHECK_EQ_INT(size, 4);
    int counter = 0;
    CHECK_CU(cuMemcpyDtoH(&counter, p, 4));
    CHECK_EQ_INT(counter, 42);
    CHECK_CU_IS(cuLibraryGetGlobal(&p, &size, lib, "nope"), CUDA_ERROR_NOT_FOUND);
    CHECK_CU_IS(cuLibraryGetManaged(&p, &size, lib, "nope"), CUDA_ERROR_NOT_FOUND);
    CHECK_CU_IS(cuLibraryGetManaged(&p, &size, lib, "dev_counter"), CUDA_ERROR_NOT_FOUND);
    CUdeviceptr managed2;
    CHECK_CU(cuLibraryGetManaged(&managed2, &size, lib, "managed_total"));
    CHECK(managed2 == managed);
    void *fp;
    CHECK_CU_IS(cuLibraryGetUnifiedFunction(&fp, lib, "vadd"), CUDA_ERROR_NOT_SUPPORTED);

    CUkernel bump;
    CHECK_CU(cuLibraryGetKernel(&bump, lib, "bump"));
    CHECK_CU(cuLaunchKernel((CUfunction)bump, 2, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL));
    CUlaunchConfig cfg = {1, 1, 1, 8, 1, 1, 0, NULL, NULL, 0};
    CHECK_CU(cuLaunchKernelEx(&cfg, (CUfunction)bump, NULL, NULL));
    CHECK_CU(cuCtxSynchronize());
    CHECK_CU(cuMemcpyDtoH(&counter, p, 4));
    CHECK_EQ_INT(counter, 42 + 64 + 8);
    CHECK_CU(cuMemcpyDtoH(&counter, managed, 4));
    CHECK_EQ_INT(counter, 2 * (64 + 8));
    /* managed variables belong to the library, not to the primary context */
    CUcontext prim;
    CHECK_CU(cuDevicePrimaryCtxReset(dev));
    CHECK_CU(cuDevicePrimaryCtxRetain(&prim, dev));
    CHECK_CU(cuCtxSetCurrent(prim));
    CHECK_CU(cuLibraryGetManaged(&managed2, &size, lib, "managed_total"));
    CHECK(managed2 == managed);
    counter = 0;
    CHECK_CU(cuMemcpyDtoH(&counter, managed, 4));
    CHECK_EQ_INT(counter, 2 * (64 + 8));

    CHECK_CU(cuLibraryUnload(lib));
    CHECK_CU_IS(cuLibraryUnload(lib), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuKernelGetName(&name, k), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuLaunchKernel((CUfunction)bump, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
                CUDA_ERROR_INVALID_HANDLE);
    free(img);
}

RG_TEST(library_per_context_instances)
{
    CUlibrary lib;
    CUcontext c2, prev;
    CUdevice dev;
    CUdeviceptr p1, p2;
    CUmodule m1, m2;
    mt_fatbin_wrapper w;
    char *img;
    MT_NEED_NVCC();
    MT_CTX();
    CHECK_CU(load_wrapped(&lib, &w, &img));
    CHECK_CU(cuLibraryGetGlobal(&p1, NULL, lib, "dev_counter"));
    CHECK_CU(cuLibraryGetModule(&m1, lib));
    CHECK_CU(cuCtxGetCurrent(&prev));
    CHECK_CU(cuCtxGetDevice(&dev));
    CHECK_CU(cuCtxCreate(&c2, NULL, 0, dev));
    CHECK_CU(cuLibraryGetGlobal(&p2, NULL, lib, "dev_counter"));
    CHECK_CU(cuLibraryGetModule(&m2, lib));
    CHECK(p1 != p2 && m1 != m2);
    CHECK_CU_IS(cuModuleUnload(m2), CUDA_ERROR_NOT_PERMITTED);
    CHECK_CU(cuCtxDestroy(c2)); /* takes its instance along */
    CHECK_CU(cuCtxSetCurrent(prev));
    CHECK_CU(cuLibraryGetGlobal(&p2, NULL, lib, "dev_counter"));
    CHECK(p1 == p2);
    CHECK_CU(cuLibraryUnload(lib));
    free(img);
}

RG_TEST(library_from_file_and_options)
{
    CUlibrary lib;
    CUkernel k;
    CUlibraryOption opt = CU_LIBRARY_BINARY_IS_PRESERVED;
    void *val = (void *)(uintptr_t)1;
    MT_NEED_NVCC();
    MT_CTX();
    CHECK_CU_IS(
        cuLibraryLoadFromFile(&lib, mt_path("kernels_ptx.fatbin"), NULL, NULL, 0, &opt, &val, 1),
        CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(
        cuLibraryLoadFromFile(&lib, mt_path("kernels_ptx.fatbin"), NULL, NULL, 0, NULL, NULL, 0));
    CHECK_CU(cuLibraryGetKernel(&k, lib, "scale"));
    CHECK_CU(cuLibraryUnload(lib));
    CHECK_CU_IS(cuLibraryLoadFromFile(&lib, "/nonexistent.fatbin", NULL, NULL, 0, NULL, NULL, 0),
                CUDA_ERROR_FILE_NOT_FOUND);
    CHECK_CU(cuLibraryLoadData(&lib, mt_ptx_basic, NULL, NULL, 0, NULL, NULL, 0));
    CHECK_CU(cuLibraryGetKernel(&k, lib, "add_k"));
    CHECK_CU(cuLibraryUnload(lib));
    CHECK_CU_IS(cuLibraryLoadData(&lib, "\x01\x02garbage", NULL, NULL, 0, NULL, NULL, 0),
                CUDA_ERROR_INVALID_IMAGE);
    CHECK_CU_IS(cuLibraryGetKernelCount(NULL, lib), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST_MAIN()
