/* library.c — the context-independent library API (cuLibrary*, cuKernel*) that
 * cudart 13 loads every fatbin through. A library parses its code once; each
 * context that uses it gets a module instance, made on first use. A CUkernel
 * is accepted wherever a CUfunction is (func.c resolves it per context). */
#include <stdlib.h>
#include <string.h>

#include "module.h"

static CUresult managed_locked(struct sim_library *l);

/* Instances are found through the global module list: few libraries have more
 * than a handful of contexts, and the launch path uses last_inst first. */
static struct sim_module *find_instance_locked(struct sim_library *l, struct sim_ctx *c)
{
    for (struct sim_module *m = sim_module_list_locked(); m; m = m->next)
        if (m->lib == l && m->ctx == c) return m;
    return NULL;
}

CUresult sim_library_instance(struct sim_library *l, struct sim_ctx *c, struct sim_module **out)
{
    struct sim_module *m = atomic_load_explicit(&l->last_inst, memory_order_acquire);
    if (m && m->ctx == c) {
        *out = m;
        return CUDA_SUCCESS;
    }
    CUresult r = CUDA_SUCCESS;
    /* Creation happens under the lock so two threads never make two instances. */
    pthread_mutex_lock(&sim_module_lock);
    m = find_instance_locked(l, c);
    pthread_mutex_unlock(&sim_module_lock);
    if (!m) {
        pthread_mutex_lock(&l->create_lock);
        pthread_mutex_lock(&sim_module_lock);
        m = find_instance_locked(l, c);
        pthread_mutex_unlock(&sim_module_lock);
        if (!m) r = managed_locked(l);
        if (!m && r == CUDA_SUCCESS) r = sim_module_create(c, l->code, false, l, &m);
        pthread_mutex_unlock(&l->create_lock);
    }
    if (r != CUDA_SUCCESS) return r;
    atomic_store_explicit(&l->last_inst, m, memory_order_release);
    *out = m;
    return CUDA_SUCCESS;
}

static struct sim_library *g_libraries; /* under sim_module_lock */

static CUresult place_managed(struct sim_library *l)
{
    const ptx_module *p = l->code->ptx;
    struct sim_device *d = sim_device(0);
    if (!d) return CUDA_ERROR_NO_DEVICE;
    for (size_t i = 0; i < ptx_module_num_vars(p); i++) {
        const ptx_var_info *v = ptx_module_var(p, i);
        uintptr_t a;
        if (!sim_code_is_managed(l->code, v->name)) continue;
        CUresult r = sim_mem_alloc_device_on(d, v->size ? v->size : 1, true, &a);
        if (r != CUDA_SUCCESS) return r;
        if (v->init) memcpy((void *)a, v->init, v->size);
        l->managed_addrs[i] = (void *)a;
    }
    l->managed_placed = true;
    return CUDA_SUCCESS;
}

static void free_managed(struct sim_library *l)
{
    for (size_t i = 0; l->managed_addrs && i < ptx_module_num_vars(l->code->ptx); i++) {
        if (l->managed_addrs[i]) sim_mem_free_device((uintptr_t)l->managed_addrs[i]);
        l->managed_addrs[i] = NULL;
    }
    l->managed_placed = false;
}

/* Caller holds create_lock. */
static CUresult managed_locked(struct sim_library *l)
{
    if (!l->code->nmanaged || l->managed_placed) return CUDA_SUCCESS;
    if (!l->managed_addrs) {
        l->managed_addrs = calloc(ptx_module_num_vars(l->code->ptx) + 1, sizeof(void *));
        if (!l->managed_addrs) return CUDA_ERROR_OUT_OF_MEMORY;
    }
    CUresult r = place_managed(l);
    if (r != CUDA_SUCCESS) free_managed(l);
    return r;
}

CUresult sim_library_managed(struct sim_library *l, void ***out)
{
    pthread_mutex_lock(&l->create_lock);
    CUresult r = managed_locked(l);
    *out = l->managed_addrs;
    pthread_mutex_unlock(&l->create_lock);
    return r;
}

void sim_library_forget_locked(struct sim_library *l, struct sim_module *m)
{
    struct sim_module *expect = m;
    atomic_compare_exchange_strong(&l->last_inst, &expect, NULL);
}

static void library_free(struct sim_library *l)
{
    if (!l) return;
    free(l->kernels);
    free(l->managed_addrs);
    sim_code_free(l->code);
    pthread_mutex_destroy(&l->create_lock);
    free(l);
}

static CUresult library_create(struct sim_code *code, struct sim_library **out)
{
    struct sim_library *l = calloc(1, sizeof *l);
    if (!l) return CUDA_ERROR_OUT_OF_MEMORY;
    pthread_mutex_init(&l->create_lock, NULL);
    l->kernels = calloc(code->nkernels + 1, sizeof *l->kernels);
    if (!l->kernels) {
        library_free(l);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    l->code = code;
    for (size_t i = 0; i < code->nkernels; i++) {
        struct sim_kernel *k = &l->kernels[i];
        k->lib = l;
        k->index = i;
        k->info = ptx_kernel_get_info(ptx_module_kernel(code->ptx, i));
        sim_fattrs_init(&k->attrs);
        sim_handle_add(&k->obj, SIM_KIND_KERNEL);
    }
    sim_handle_add(&l->obj, SIM_KIND_LIBRARY);
    pthread_mutex_lock(&sim_module_lock);
    l->next = g_libraries;
    g_libraries = l;
    pthread_mutex_unlock(&sim_module_lock);
    *out = l;
    return CUDA_SUCCESS;
}

/* The value array may be NULL when no option given takes a value
 * (BINARY_IS_PRESERVED is a flag: cuBLASLt passes it so, as the driver allows). */
static CUresult check_lib_options(unsigned n, CUlibraryOption *opt, void **val, bool from_file)
{
    if (n && !opt) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < n; i++) {
        if (opt[i] == CU_LIBRARY_BINARY_IS_PRESERVED && from_file) return CUDA_ERROR_INVALID_VALUE;
        if ((unsigned)opt[i] >= CU_LIBRARY_NUM_OPTIONS) return CUDA_ERROR_INVALID_VALUE;
        if (!val && opt[i] != CU_LIBRARY_BINARY_IS_PRESERVED) return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

static CUresult library_load(CUlibrary *library, const void *code, size_t avail, unsigned njit,
                             CUjit_option *jopt, void **jval, unsigned nlib, CUlibraryOption *lopt,
                             void **lval, bool from_file)
{
    struct sim_jit_opts o;
    struct sim_code *c = NULL;
    struct sim_library *l = NULL;
    if (!library || !code) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = check_lib_options(nlib, lopt, lval, from_file);
    if (r != CUDA_SUCCESS) return r;
    if ((r = sim_jit_opts_parse(&o, njit, jopt, jval)) != CUDA_SUCCESS) return r;
    r = sim_code_from_image(code, avail, &o, &c);
    if (r == CUDA_SUCCESS && (r = library_create(c, &l)) != CUDA_SUCCESS) sim_code_free(c);
    sim_jit_opts_finish(&o);
    if (r == CUDA_SUCCESS) *library = (CUlibrary)l;
    return r;
}

CUresult CUDAAPI cuLibraryLoadData(CUlibrary *library, const void *code, CUjit_option *jitOptions,
                                   void **jitOptionsValues, unsigned int numJitOptions,
                                   CUlibraryOption *libraryOptions, void **libraryOptionValues,
                                   unsigned int numLibraryOptions)
{
    SIM_INIT_OR_RETURN();
    return library_load(library, code, SIZE_MAX, numJitOptions, jitOptions, jitOptionsValues,
                        numLibraryOptions, libraryOptions, libraryOptionValues, false);
}

CUresult CUDAAPI cuLibraryLoadFromFile(CUlibrary *library, const char *fileName,
                                       CUjit_option *jitOptions, void **jitOptionsValues,
                                       unsigned int numJitOptions, CUlibraryOption *libraryOptions,
                                       void **libraryOptionValues, unsigned int numLibraryOptions)
{
    SIM_INIT_OR_RETURN();
    if (!library || !fileName) return CUDA_ERROR_INVALID_VALUE;
    char *buf;
    size_t size;
    CUresult r = sim_read_file(fileName, &buf, &size);
    if (r != CUDA_SUCCESS) return r;
    r = library_load(library, buf, size + 1, numJitOptions, jitOptions, jitOptionsValues,
                     numLibraryOptions, libraryOptions, libraryOptionValues, true);
    free(buf); /* the parsed IR owns everything it needs */
    return r;
}

/* Unload every instance, then the library. Instances are detached under the
 * lock so a concurrent unload of the same library finds the handle dead. */
CUresult CUDAAPI cuLibraryUnload(CUlibrary library)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l = (struct sim_library *)library;
    pthread_mutex_lock(&sim_module_lock);
    if (!sim_handle_ok(library, SIM_KIND_LIBRARY)) {
        pthread_mutex_unlock(&sim_module_lock);
        return CUDA_ERROR_INVALID_HANDLE;
    }
    sim_handle_remove(&l->obj);
    for (size_t i = 0; i < l->code->nkernels; i++)
        sim_handle_remove(&l->kernels[i].obj);
    for (struct sim_library **pp = &g_libraries; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    pthread_mutex_unlock(&sim_module_lock);
    for (;;) {
        pthread_mutex_lock(&sim_module_lock);
        struct sim_module *m = sim_module_list_locked();
        while (m && m->lib != l)
            m = m->next;
        if (m) sim_module_detach_locked(m);
        pthread_mutex_unlock(&sim_module_lock);
        if (!m) break;
        sim_ctx_synchronize(m->ctx); /* launches in flight use the instance */
        sim_module_free(m);
    }
    free_managed(l);
    library_free(l);
    return CUDA_SUCCESS;
}

static CUresult lib_arg(CUlibrary h, struct sim_library **out)
{
    if (!sim_handle_ok(h, SIM_KIND_LIBRARY)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_library *)h;
    return CUDA_SUCCESS;
}

static CUresult kernel_arg(CUkernel h, struct sim_kernel **out)
{
    if (!sim_handle_ok(h, SIM_KIND_KERNEL)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_kernel *)h;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLibraryGetKernel(CUkernel *pKernel, CUlibrary library, const char *name)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l;
    if (!pKernel || !name) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = lib_arg(library, &l);
    if (r != CUDA_SUCCESS) return r;
    const ptx_kernel *k = ptx_module_find_kernel(l->code->ptx, name);
    for (size_t i = 0; k && i < l->code->nkernels; i++) {
        if (ptx_module_kernel(l->code->ptx, i) == k) {
            *pKernel = (CUkernel)&l->kernels[i];
            return CUDA_SUCCESS;
        }
    }
    return CUDA_ERROR_NOT_FOUND;
}

CUresult CUDAAPI cuLibraryGetKernelCount(unsigned int *count, CUlibrary lib)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l;
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = lib_arg(lib, &l);
    if (r == CUDA_SUCCESS) *count = (unsigned)l->code->nkernels;
    return r;
}

CUresult CUDAAPI cuLibraryEnumerateKernels(CUkernel *kernels, unsigned int numKernels,
                                           CUlibrary lib)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l;
    if (!kernels && numKernels) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = lib_arg(lib, &l);
    for (size_t i = 0; r == CUDA_SUCCESS && i < l->code->nkernels && i < numKernels; i++)
        kernels[i] = (CUkernel)&l->kernels[i];
    return r;
}

/* The library's instance in the calling thread's current context. */
static CUresult current_instance(CUlibrary library, struct sim_library **l, struct sim_module **m)
{
    struct sim_ctx *c;
    CUresult r = lib_arg(library, l);
    if (r != CUDA_SUCCESS) return r;
    if ((r = sim_ctx_get(&c)) != CUDA_SUCCESS) return r;
    return sim_library_instance(*l, c, m);
}

CUresult CUDAAPI cuLibraryGetModule(CUmodule *pMod, CUlibrary library)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l;
    struct sim_module *m;
    if (!pMod) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = current_instance(library, &l, &m);
    if (r == CUDA_SUCCESS) *pMod = (CUmodule)m;
    return r;
}

CUresult CUDAAPI cuLibraryGetGlobal(CUdeviceptr *dptr, size_t *bytes, CUlibrary library,
                                    const char *name)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l;
    struct sim_module *m;
    if (!name) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = lib_arg(library, &l);
    if (r != CUDA_SUCCESS) return r;
    long i = ptx_module_find_var(l->code->ptx, name);
    if (i < 0) return CUDA_ERROR_NOT_FOUND;
    if ((r = current_instance(library, &l, &m)) != CUDA_SUCCESS) return r;
    if (dptr) *dptr = (CUdeviceptr)(uintptr_t)m->var_addrs[i];
    if (bytes) *bytes = ptx_module_var(l->code->ptx, (size_t)i)->size;
    return CUDA_SUCCESS;
}

/* Managed variables need no context: cudart asks for them right after an
 * eager load, before any context exists. */
CUresult CUDAAPI cuLibraryGetManaged(CUdeviceptr *dptr, size_t *bytes, CUlibrary library,
                                     const char *name)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l;
    void **addrs;
    if (!name) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = lib_arg(library, &l);
    if (r != CUDA_SUCCESS) return r;
    long i = ptx_module_find_var(l->code->ptx, name);
    if (i < 0 || !sim_code_is_managed(l->code, name)) return CUDA_ERROR_NOT_FOUND;
    if ((r = sim_library_managed(l, &addrs)) != CUDA_SUCCESS) return r;
    if (dptr) *dptr = (CUdeviceptr)(uintptr_t)addrs[i];
    if (bytes) *bytes = ptx_module_var(l->code->ptx, (size_t)i)->size;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLibraryGetUnifiedFunction(void **fptr, CUlibrary library, const char *symbol)
{
    SIM_INIT_OR_RETURN();
    struct sim_library *l;
    if (!fptr || !symbol) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = lib_arg(library, &l);
    return r != CUDA_SUCCESS ? r : CUDA_ERROR_NOT_SUPPORTED;
}

CUresult CUDAAPI cuKernelGetFunction(CUfunction *pFunc, CUkernel kernel)
{
    SIM_INIT_OR_RETURN();
    struct sim_kernel *k;
    struct sim_func *f;
    if (!pFunc) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = kernel_arg(kernel, &k);
    if (r == CUDA_SUCCESS) r = sim_func_resolve((CUfunction)kernel, NULL, &f);
    if (r == CUDA_SUCCESS) *pFunc = (CUfunction)f;
    return r;
}

CUresult CUDAAPI cuKernelGetLibrary(CUlibrary *pLib, CUkernel kernel)
{
    SIM_INIT_OR_RETURN();
    struct sim_kernel *k;
    if (!pLib) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = kernel_arg(kernel, &k);
    if (r == CUDA_SUCCESS) *pLib = (CUlibrary)k->lib;
    return r;
}

static CUresult check_dev(CUdevice dev)
{
    return sim_device(dev) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

CUresult CUDAAPI cuKernelGetAttribute(int *pi, CUfunction_attribute attrib, CUkernel kernel,
                                      CUdevice dev)
{
    SIM_INIT_OR_RETURN();
    struct sim_kernel *k;
    if (!pi) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = kernel_arg(kernel, &k);
    if (r == CUDA_SUCCESS) r = check_dev(dev);
    if (r == CUDA_SUCCESS) r = sim_func_get_attr(pi, attrib, k->info, k->lib->code, &k->attrs);
    return r;
}

CUresult CUDAAPI cuKernelSetAttribute(CUfunction_attribute attrib, int val, CUkernel kernel,
                                      CUdevice dev)
{
    SIM_INIT_OR_RETURN();
    struct sim_kernel *k;
    CUresult r = kernel_arg(kernel, &k);
    if (r == CUDA_SUCCESS) r = check_dev(dev);
    if (r == CUDA_SUCCESS) r = sim_func_set_attr(attrib, val, k->info, &k->attrs);
    return r;
}

CUresult CUDAAPI cuKernelSetCacheConfig(CUkernel kernel, CUfunc_cache config, CUdevice dev)
{
    SIM_INIT_OR_RETURN();
    struct sim_kernel *k;
    CUresult r = kernel_arg(kernel, &k);
    if (r == CUDA_SUCCESS) r = check_dev(dev);
    if (r != CUDA_SUCCESS) return r;
    if ((unsigned)config > CU_FUNC_CACHE_PREFER_EQUAL) return CUDA_ERROR_INVALID_VALUE;
    atomic_store(&k->attrs.cache_config, (int)config);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuKernelGetName(const char **name, CUkernel hfunc)
{
    SIM_INIT_OR_RETURN();
    struct sim_kernel *k;
    if (!name) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = kernel_arg(hfunc, &k);
    if (r == CUDA_SUCCESS) *name = k->info->name;
    return r;
}

CUresult CUDAAPI cuKernelGetParamInfo(CUkernel kernel, size_t paramIndex, size_t *paramOffset,
                                      size_t *paramSize)
{
    SIM_INIT_OR_RETURN();
    struct sim_kernel *k;
    CUresult r = kernel_arg(kernel, &k);
    if (r == CUDA_SUCCESS) r = sim_param_info(k->info, paramIndex, paramOffset, paramSize);
    return r;
}
