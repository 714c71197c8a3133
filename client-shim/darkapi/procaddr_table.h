/* procaddr_table.h — what gen_exports.py generates into each driver library
 * (simgpu, the client shim, darkapi tests) and procaddr.c reads. Kept free of
 * cuda.h because the generated file defines cuda.h's names with other types. */
#ifndef RG_PROCADDR_TABLE_H
#define RG_PROCADDR_TABLE_H

#include <stddef.h>

#define RG_HIDDEN __attribute__((visibility("hidden")))

typedef void (*rg_proc_fn)(void);

/* One exported variant of a driver entry point. The table is sorted by
 * (name, per_thread, version) so lookups can binary-search by name. */
struct rg_procaddr_entry {
    const char *name; /* base name, as passed to cuGetProcAddress */
    rg_proc_fn fn;    /* the variant's address in the library linked into */
    int version;      /* CUDA version that introduced the variant */
    int per_thread;   /* 1 for _ptds/_ptsz variants */
};

extern RG_HIDDEN const struct rg_procaddr_entry rg_procaddr_table[];
extern RG_HIDDEN const size_t rg_procaddr_table_len;

/* Every symbol the toolkit's stub libcuda.so exports (sorted). */
extern RG_HIDDEN const char *const rg_driver_export_names[];
extern RG_HIDDEN const size_t rg_driver_export_count;

/* Body of the weak default of an export nobody implemented: logs the name once
 * (per *once flag) and returns CUDA_ERROR_NOT_SUPPORTED. */
RG_HIDDEN int rg_unsupported_call(const char *name, _Atomic int *once);

#endif
