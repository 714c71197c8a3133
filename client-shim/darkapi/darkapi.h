/* darkapi.h — what a libcuda.so.1 replacement provides beyond cuda.h:
 * cuGetProcAddress resolution, cudart's private export tables, and reading
 * fatbinaries. Shared by simgpu and the client shim: each links this static
 * library and supplies a small host-ops table, so the tables behave the same
 * whichever driver they sit in. Facts: shared/ref/dark-api-and-fatbin.md. */
#ifndef RG_DARKAPI_H
#define RG_DARKAPI_H

#include <cuda.h>
#include <stddef.h>
#include <stdint.h>

/* ---- host driver operations the export tables call back into ------------- */

typedef struct rg_darkapi_host {
    /* cuDriverGetVersion, as the driver reports it (hashed by the integrity check). */
    int driver_version;
    /* Current context (NULL if none); never fails for lack of one. */
    CUresult (*ctx_current)(CUcontext *out);
    /* The primary context handle of dev, without retaining or activating it. */
    CUresult (*primary_ctx)(CUcontext *out, CUdevice dev);
    /* Load a __fatBinC_Wrapper_t (or bare container) as a module in the current context. */
    CUresult (*module_from_fatbin)(CUmodule *out, const void *image);
    /* Device enumeration for the integrity check: count, UUID, PCI domain/bus/device. */
    CUresult (*device_count)(int *count);
    CUresult (*device_uuid)(CUuuid *uuid, CUdevice dev);
    CUresult (*device_pci)(int *domain, int *bus, int *device, CUdevice dev);
} rg_darkapi_host;

/* Installed once by the driver (simgpu's or the shim's init), before any table
 * is handed out. The struct must outlive the process. */
void rg_darkapi_set_host(const rg_darkapi_host *host);

/* cuGetExportTable: known tables get stable addresses; other ids get
 * CUDA_ERROR_NOT_FOUND with *table = NULL, and the first request of each id
 * one log line naming the UUID (warn when unknown, info when known and not
 * served) and, when given, the caller (the library that asked). */
CUresult rg_darkapi_export_table(const void **table, const CUuuid *id);
CUresult rg_darkapi_export_table_from(const void **table, const CUuuid *id, const char *caller);

/* Context-local storage (table c693336e): the driver calls this when a context
 * dies (destroy, primary reset, last primary release) so cudart's destructors
 * run. Must be called without driver locks held: destructors call back in. */
void rg_darkapi_ctx_destroyed(CUcontext ctx);

/* ---- cuGetProcAddress ---------------------------------------------------- */

/* Resolves `symbol` (base name) for `cuda_version` and `flags` to the variant
 * exported by the library this is linked into (the generated table holds the
 * addresses). Semantics of the real driver: NOT_FOUND + NULL for unknown names
 * and the empty probe, VERSION_NOT_SUFFICIENT when only newer variants exist. */
CUresult rg_procaddr_lookup(const char *symbol, void **pfn, int cuda_version, cuuint64_t flags,
                            CUdriverProcAddressQueryResult *status);

/* ---- logging shared by darkapi users -------------------------------------- */

/* The host library's logger; darkapi logs through it. Default writes to stderr
 * at or above the level in RGPU_LOG (error, warn, info, debug). */
enum rg_log_level { RG_LOG_ERROR = 0, RG_LOG_WARN, RG_LOG_INFO, RG_LOG_DEBUG };
void rg_log(enum rg_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rg_log_enabled(enum rg_log_level lvl);

#endif
