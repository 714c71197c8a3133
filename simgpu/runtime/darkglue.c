/* darkglue.c — simgpu's doors to darkapi: the exported cuGetProcAddress (both
 * ABIs) and cuGetExportTable, and the host operations the export tables call
 * back into (current and primary contexts, device identity, module loading). */
#include <pthread.h>

#include "sim.h"

static CUresult host_ctx_current(CUcontext *out)
{
    *out = (CUcontext)sim_ctx_current();
    return CUDA_SUCCESS;
}

/* The primary context handle, not retained and not activated (ref §4.1). */
static CUresult host_primary_ctx(CUcontext *out, CUdevice dev)
{
    SIM_INIT_OR_RETURN();
    struct sim_device *d = sim_device(dev);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    *out = (CUcontext)d->primary;
    return CUDA_SUCCESS;
}

static CUresult host_module_from_fatbin(CUmodule *out, const void *image)
{
    return cuModuleLoadData(out, image);
}

static CUresult host_device_count(int *count)
{
    SIM_INIT_OR_RETURN();
    *count = sim_device_count();
    return CUDA_SUCCESS;
}

static CUresult host_device_uuid(CUuuid *uuid, CUdevice dev)
{
    struct sim_device *d = sim_device(dev);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    *uuid = d->uuid;
    return CUDA_SUCCESS;
}

static CUresult host_device_pci(int *domain, int *bus, int *device, CUdevice dev)
{
    struct sim_device *d = sim_device(dev);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    *domain = d->pci_domain;
    *bus = d->pci_bus;
    *device = d->pci_device;
    return CUDA_SUCCESS;
}

static const rg_darkapi_host sim_darkapi_host = {
    .driver_version = SIM_DRIVER_VERSION,
    .ctx_current = host_ctx_current,
    .primary_ctx = host_primary_ctx,
    .module_from_fatbin = host_module_from_fatbin,
    .device_count = host_device_count,
    .device_uuid = host_device_uuid,
    .device_pci = host_device_pci,
};

static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void install_host(void)
{
    rg_darkapi_set_host(&sim_darkapi_host);
}

__attribute__((constructor)) static void darkglue_init(void)
{
    pthread_once(&host_once, install_host);
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
                             CUdriverProcAddressQueryResult *symbolStatus)
{
    pthread_once(&host_once, install_host);
    return rg_procaddr_lookup(symbol, pfn, cudaVersion, flags, symbolStatus);
}

/* The 11.3 ABI: no status out-parameter. */
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags)
{
    return cuGetProcAddress_v2(symbol, pfn, cudaVersion, flags, NULL);
}

CUresult cuGetExportTable(const void **ppExportTable, const CUuuid *pExportTableId)
{
    pthread_once(&host_once, install_host);
    return rg_darkapi_export_table(ppExportTable, pExportTableId);
}
