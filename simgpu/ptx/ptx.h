/* ptx.h — simgpu's PTX front end and interpreter, as seen by the runtime.
 * A module is parsed once into a compact IR that is independent of any context;
 * the runtime places the module's variables in device memory and passes their
 * addresses to every launch. Nothing here knows about CUDA handles or CUresult. */
#ifndef SIMGPU_PTX_H
#define SIMGPU_PTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ptx_module ptx_module;
typedef struct ptx_kernel ptx_kernel;

/* Results of ptx_parse / ptx_run. Translated to CUresult by the runtime. */
enum ptx_status {
    PTX_OK = 0,
    PTX_ERR_PARSE,           /* malformed or unsupported PTX; log says where */
    PTX_ERR_NOMEM,
    PTX_ERR_ILLEGAL_ADDRESS, /* access outside every live allocation (sticky) */
    PTX_ERR_MISALIGNED,      /* misaligned access (sticky) */
    PTX_ERR_ASSERT,          /* __assertfail called (sticky) */
    PTX_ERR_TRAP,            /* trap / brkpt executed (sticky) */
    PTX_ERR_ILLEGAL_INSTR,   /* instruction the interpreter parsed but cannot run */
    PTX_ERR_LAUNCH_RESOURCES, /* shared/local memory or threads beyond limits */
    PTX_ERR_INVALID_VALUE,   /* bad launch arguments (e.g. param buffer too small) */
};

enum ptx_space { PTX_SPACE_GLOBAL = 1, PTX_SPACE_CONST = 2 };

/* A module-scope .global or .const variable. The runtime allocates `size` bytes
 * aligned to `align` in device memory, copies `init` (or zeroes when NULL) and
 * hands the address back at each launch in ptx_launch.var_addrs[index].
 * `init` may contain generic addresses of other variables or functions: those
 * are listed as relocations and patched by ptx_module_relocate(). */
typedef struct ptx_var_info {
    const char *name;
    enum ptx_space space;
    size_t size;
    size_t align;
    const void *init; /* size bytes, or NULL for zero-initialised */
    bool visible;     /* .visible (or .extern) rather than file-local */
} ptx_var_info;

typedef struct ptx_param_info {
    size_t offset; /* in the kernel's parameter buffer */
    size_t size;
    size_t align;
} ptx_param_info;

typedef struct ptx_kernel_info {
    const char *name;
    size_t nparams;
    const ptx_param_info *params;
    size_t params_size;        /* bytes of the parameter buffer (max offset+size) */
    size_t static_smem;        /* bytes of .shared declared in the kernel and what it calls */
    size_t local_bytes;        /* .local bytes per thread (frame + spills) */
    unsigned num_regs;         /* registers per thread as the IR counts them */
    unsigned maxntid;          /* .maxntid product, 0 if none */
    unsigned reqntid[3];       /* .reqntid, zeros if none */
    unsigned minnctapersm;     /* 0 if none */
} ptx_kernel_info;

/* Parse PTX text (NUL terminator optional; `len` bytes). On failure returns
 * PTX_ERR_PARSE and writes "line:col: message" lines into log (always
 * NUL-terminated when log_size > 0). On success *out owns the IR; free with
 * ptx_module_free. Informational messages may also go to `log`. */
enum ptx_status ptx_parse(const char *text, size_t len, ptx_module **out, char *log,
                          size_t log_size);
void ptx_module_free(ptx_module *m);

unsigned ptx_module_version(const ptx_module *m); /* .version 9.0 -> 90 */
unsigned ptx_module_target(const ptx_module *m);  /* .target sm_120 -> 120 */
size_t ptx_module_ir_bytes(const ptx_module *m);  /* memory the IR occupies */
/* True if the module declares malloc or free: its kernels need a device heap. */
bool ptx_module_uses_heap(const ptx_module *m);

size_t ptx_module_num_kernels(const ptx_module *m);
const ptx_kernel *ptx_module_kernel(const ptx_module *m, size_t i);
const ptx_kernel *ptx_module_find_kernel(const ptx_module *m, const char *name);
const ptx_kernel_info *ptx_kernel_get_info(const ptx_kernel *k);

size_t ptx_module_num_vars(const ptx_module *m);
const ptx_var_info *ptx_module_var(const ptx_module *m, size_t i);
/* Index of a variable by name, or -1. */
long ptx_module_find_var(const ptx_module *m, const char *name);

/* Write into `image` (the runtime's copy of variable `i`'s initialiser, already
 * placed at var_addrs[i]) any addresses of other variables that the PTX
 * initialiser names (e.g. `.global .u64 p = generic(x);`). */
void ptx_module_relocate(const ptx_module *m, size_t i, void *image, void *const *var_addrs);

/* Sorted, non-overlapping [lo, hi) ranges that kernels may touch through
 * global/generic addresses (device allocations, pinned/registered/managed host
 * memory, module variables). Immutable for the duration of a launch. */
typedef struct ptx_mem_range {
    uintptr_t lo, hi;
} ptx_mem_range;

typedef struct ptx_mem_map {
    const ptx_mem_range *ranges;
    size_t count;
} ptx_mem_map;

/* Sink for device printf output. Called from interpreter threads, possibly
 * concurrently: the callee serialises. `text` is already formatted. */
typedef void (*ptx_print_fn)(void *arg, const char *text, size_t len);

typedef struct ptx_fault {
    uintptr_t address;  /* faulting address, if any */
    unsigned block[3];  /* first faulting block / thread */
    unsigned thread[3];
    char message[256];  /* human-readable: assert text, instruction, ... */
} ptx_fault;

/* Device heap for kernels' malloc/free: a region of device memory the runtime
 * owns (CU_LIMIT_MALLOC_HEAP_SIZE) and lists in every launch's mem map. Block
 * bookkeeping stays on the host, so kernels cannot corrupt it. Thread-safe. */
typedef struct ptx_heap ptx_heap;
ptx_heap *ptx_heap_create(void *base, size_t size); /* NULL on failure */
void ptx_heap_destroy(ptx_heap *h);
size_t ptx_heap_used(const ptx_heap *h); /* bytes allocated (a snapshot while kernels run) */

typedef struct ptx_launch {
    const ptx_kernel *kernel;
    void *const *var_addrs; /* one per module variable, by index */
    unsigned grid[3];
    unsigned block[3];
    size_t dyn_smem;        /* dynamic (extern .shared) bytes per block */
    const void *params;     /* kernel parameter buffer, params_size bytes */
    size_t params_size;
    const ptx_mem_map *mem; /* ranges legal for global accesses */
    ptx_print_fn print;     /* device printf; NULL discards */
    void *print_arg;
    unsigned sm_count;      /* for %nsmid / %smid */
    uint64_t launch_id;     /* free-running id for %gridid */
    ptx_heap *heap;         /* device malloc/free; NULL: malloc returns NULL */
    /* Cooperative launch: every block of the grid makes progress at once
     * (grid-wide synchronisation spins on global memory), and the kernel finds
     * grid_workspace (8 zeroed bytes of device memory the caller keeps: the
     * size word and the barrier of cooperative_groups' grid sync) in
     * %envreg1 (high half) and %envreg2 (low half). */
    bool cooperative;
    uint64_t grid_workspace;
} ptx_launch;

/* Run a grid to completion on the interpreter's worker threads (created on
 * first use; SIMGPU_THREADS, default all cores). Blocking; thread-safe: several
 * launches from different streams may run at once. On an execution error
 * returns its status and fills *fault (may be NULL). */
enum ptx_status ptx_run(const ptx_launch *l, ptx_fault *fault);

/* Number of interpreter worker threads (after first use or on demand). */
unsigned ptx_worker_count(void);

const char *ptx_status_name(enum ptx_status s);

/* Thread-instructions (instructions times active lanes) executed by every
 * launch so far in this process: for benchmarks and rgpu-bench. */
uint64_t ptx_stats_thread_instructions(void);

#endif
