/* module.h — private to module.c, library.c, func.c, launch.c, occupancy.c,
 * link.c and printf.c: the objects behind CUmodule, CUfunction, CUlibrary,
 * CUkernel and CUlinkState, and the helpers they share. */
#ifndef SIMGPU_MODULE_H
#define SIMGPU_MODULE_H

#include "fatbin.h"
#include "sim.h"

/* Device limits of the occupancy and launch model (sm_120-like). */
#define SIM_MAX_THREADS_PER_BLOCK 1024
#define SIM_MAX_THREADS_PER_SM 2048
#define SIM_MAX_BLOCKS_PER_SM 32
#define SIM_SMEM_PER_SM (228u * 1024u)
#define SIM_SMEM_PER_BLOCK (48u * 1024u)       /* without opt-in */
#define SIM_SMEM_PER_BLOCK_OPTIN (99u * 1024u) /* cuFuncSetAttribute ceiling */
#define SIM_SMEM_RESERVED_PER_BLOCK 1024u
#define SIM_REGS_PER_SM 65536
#define SIM_REGS_REPORTED_MAX 64 /* see sim_func_regs() */

/* Attributes an application may change; shared between a CUkernel and the
 * functions instantiated from it so both handles see one value. */
struct sim_fattrs {
    _Atomic int max_dyn_smem;
    _Atomic int carveout;
    _Atomic int cache_config;
    _Atomic int cluster_dims[3];
    _Atomic int non_portable_cluster;
    _Atomic int cluster_sched;
};

/* Parsed code, independent of any context: one PTX module (several inputs
 * are linked into one text first). Owned by a module or a library. */
struct sim_code {
    ptx_module *ptx;
    unsigned target;    /* .target sm_XX -> XX, for PTX_VERSION / BINARY_VERSION */
    size_t const_bytes; /* bytes of user .const variables (CONST_SIZE_BYTES) */
    bool uses_heap;     /* declares malloc/free: launches need the context's heap */
    size_t nkernels;
    char **managed; /* names of .attribute(.managed) variables */
    size_t nmanaged;
};

struct sim_library;

struct sim_func {
    struct sim_obj obj;
    struct sim_module *mod;
    const ptx_kernel *k;
    const ptx_kernel_info *info;
    struct sim_fattrs *attrs; /* own_attrs, or the library kernel's */
    struct sim_fattrs own_attrs;
};

struct sim_module {
    struct sim_obj obj;
    struct sim_ctx *ctx;
    struct sim_code *code;
    bool owns_code;          /* false for a library's per-context instance */
    struct sim_library *lib; /* non-NULL for a library instance */
    void **var_addrs;        /* one per PTX variable, by index */
    struct sim_func *funcs;  /* one per kernel, by ptx kernel index */
    unsigned sm_count;
    struct sim_module *next; /* global list (module.c), for context teardown */
};

struct sim_kernel {
    struct sim_obj obj;
    struct sim_library *lib;
    size_t index; /* kernel index in lib->code */
    const ptx_kernel_info *info;
    struct sim_fattrs attrs;
};

struct sim_library {
    struct sim_obj obj;
    struct sim_code *code;
    struct sim_kernel *kernels;
    struct sim_module *_Atomic last_inst; /* launch fast path: last instance used */
    pthread_mutex_t create_lock;          /* one instance per context; managed_* */
    /* Managed variables exist once per library, without a context (cudart asks
     * for them before one exists): device-level memory of device 0, owned by
     * no context (a primary reset keeps it), freed when the library unloads. */
    void **managed_addrs;     /* by variable index; NULL for ordinary variables */
    bool managed_placed;      /* managed_addrs allocated (device-level: live until unload) */
    struct sim_library *next; /* all libraries, under sim_module_lock */
};

/* JIT options of cuModuleLoadDataEx / cuLinkCreate / cuLibraryLoadData: where
 * the logs go. Sizes are written back by jit_opts_finish. */
struct sim_jit_opts {
    char *err_buf, *info_buf;
    size_t err_size, info_size;
    size_t err_len, info_len;
    unsigned n;
    CUjit_option *opt;
    void **val;
};

/* ---- module.c ---- */
CUresult sim_jit_opts_parse(struct sim_jit_opts *o, unsigned n, CUjit_option *opt, void **val);
void sim_jit_log(struct sim_jit_opts *o, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sim_jit_opts_finish(struct sim_jit_opts *o);
/* Parse any image (PTX, container, wrapper v1/v2) into code; `avail` bounds
 * the bytes readable when known (SIZE_MAX if not). *out is malloc'd. */
CUresult sim_code_from_image(const void *image, size_t avail, struct sim_jit_opts *o,
                             struct sim_code **out);
void sim_code_free(struct sim_code *c);
bool sim_code_is_managed(const struct sim_code *c, const char *name);
/* Instantiate code in context c: variables allocated and initialised, one
 * function object per kernel. Registered and linked into the global list. */
CUresult sim_module_create(struct sim_ctx *c, struct sim_code *code, bool owns_code,
                           struct sim_library *lib, struct sim_module **out);
/* Unregister m and take it off the list (caller holds sim_module_lock); after
 * that no lookup reaches m and the caller frees it with sim_module_free, once
 * no queued launch can use it any more. */
void sim_module_detach_locked(struct sim_module *m);
void sim_module_free(struct sim_module *m);
/* Read a whole file into a NUL-terminated malloc'd buffer. */
CUresult sim_read_file(const char *path, char **out, size_t *size);
extern pthread_mutex_t sim_module_lock; /* module list and library instances */
struct sim_module *sim_module_list_locked(void);

/* ---- library.c ---- */
/* The library's instance in context c, created on first use. */
CUresult sim_library_instance(struct sim_library *l, struct sim_ctx *c, struct sim_module **out);
/* Forget an instance (called by sim_module_detach_locked). */
void sim_library_forget_locked(struct sim_library *l, struct sim_module *m);
/* The managed variables' shared addresses (allocated on first use). */
CUresult sim_library_managed(struct sim_library *l, void ***out);

/* ---- func.c ---- */
/* Resolve a CUfunction, or a CUkernel cast to one, for use in context c (NULL:
 * current). INVALID_HANDLE if neither. */
/* sim_func_resolve: see sim.h */
void sim_fattrs_init(struct sim_fattrs *a);
unsigned sim_func_regs(const ptx_kernel_info *info);
unsigned sim_func_max_threads(const ptx_kernel_info *info);
/* Largest dynamic shared memory a launch may ask for. */
unsigned sim_func_max_dyn_smem(const ptx_kernel_info *info, const struct sim_fattrs *a);
CUresult sim_func_get_attr(int *pi, CUfunction_attribute a, const ptx_kernel_info *info,
                           const struct sim_code *code, const struct sim_fattrs *attrs);
CUresult sim_func_set_attr(CUfunction_attribute a, int v, const ptx_kernel_info *info,
                           struct sim_fattrs *attrs);
CUresult sim_param_info(const ptx_kernel_info *info, size_t i, size_t *off, size_t *size);

/* ---- occupancy.c ---- */
int sim_occupancy_blocks(const ptx_kernel_info *info, const struct sim_fattrs *a, int block,
                         size_t dyn_smem);

/* ---- link.c ---- */
/* PTX texts of a fatbin image (ptxpick.c): rg_image_extract_ptx for sm_120;
 * when the image has none, the oldest newer PTX (one info log line). *arch
 * gets the newest .target the caller may accept (SIM_ARCH, or that one). */
enum rg_fatbin_status sim_image_pick_ptx(const void *image, char ***texts, size_t *n,
                                         unsigned *arch, char *why, size_t why_size);
/* Link several PTX texts into one (text-level): the header of the newest,
 * file-local names that collide renamed, extern declarations resolved.
 * *out is malloc'd; errors are written to the log. */
CUresult sim_ptx_link(char *const *texts, size_t n, char **out, struct sim_jit_opts *o);

/* ---- printf.c ---- */
void sim_printf_sink(void *arg, const char *text, size_t len);

/* Exported names that cuda.h does not declare under __CUDA_API_VERSION_INTERNAL. */
CUresult CUDAAPI cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                     unsigned bx, unsigned by, unsigned bz, unsigned smem,
                                     CUstream s, void **params, void **extra);
CUresult CUDAAPI cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **params,
                                       void **extra);
CUresult CUDAAPI cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                                unsigned bx, unsigned by, unsigned bz,
                                                unsigned smem, CUstream s, void **params);

#endif
