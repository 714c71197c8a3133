/* darkhost.c — the shim's doors to darkapi: cuGetProcAddress (both ABIs) and
 * cuGetExportTable, and the host operations cudart's private tables call back
 * into, answered from the session (primary context ids, Welcome's devices) or
 * through the wire (PCI ids, module loads). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "shim.h"

/* The file name of the library holding code address pc ("" if unknown). */
static const char *library_of(const void *pc)
{
    Dl_info di;
    if (!pc || !dladdr(pc, &di) || !di.dli_fname) return "";
    const char *slash = strrchr(di.dli_fname, '/');
    return slash ? slash + 1 : di.dli_fname;
}

static CUresult host_ctx_current(CUcontext *out)
{
    *out = (CUcontext)(uintptr_t)rg_ctx_current_id();
    return CUDA_SUCCESS;
}

static CUresult host_primary_ctx(CUcontext *out, CUdevice dev)
{
    CUresult r = rg_ready();
    if (r != CUDA_SUCCESS) return r;
    if (dev < 0 || dev >= rg_sess.ndev) return CUDA_ERROR_INVALID_DEVICE;
    *out = (CUcontext)(uintptr_t)rg_primary_ctx_id(dev);
    return CUDA_SUCCESS;
}

static CUresult host_module_from_fatbin(CUmodule *out, const void *image)
{
    return cuModuleLoadData(out, image);
}

static CUresult host_device_count(int *count)
{
    CUresult r = rg_ready();
    if (r != CUDA_SUCCESS) return r;
    *count = rg_sess.ndev;
    return CUDA_SUCCESS;
}

static CUresult host_device_uuid(CUuuid *uuid, CUdevice dev)
{
    if (dev < 0 || dev >= rg_sess.ndev) return CUDA_ERROR_INVALID_DEVICE;
    *uuid = rg_sess.dev[dev].uuid;
    return CUDA_SUCCESS;
}

/* Welcome carries no PCI ids yet: ask the device (answers are cached). */
static CUresult host_device_pci(int *domain, int *bus, int *device, CUdevice dev)
{
    CUresult r = cuDeviceGetAttribute(domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, dev);
    if (r == CUDA_SUCCESS) r = cuDeviceGetAttribute(bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, dev);
    if (r == CUDA_SUCCESS) r = cuDeviceGetAttribute(device, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, dev);
    return r;
}

static rg_darkapi_host shim_host = {
    .driver_version = CUDA_VERSION,
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
    rg_darkapi_set_host(&shim_host);
}

/* Called by cuInit under its lock, before the session answers: the version
 * the integrity check hashes must be the one cuDriverGetVersion reports. */
void rg_darkhost_install(void)
{
    pthread_once(&host_once, install_host);
}

static void refresh_version(void)
{
    int v = CUDA_VERSION;
    cuDriverGetVersion(&v);
    shim_host.driver_version = v;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
                             CUdriverProcAddressQueryResult *symbolStatus)
{
    int saved = errno;
    pthread_once(&host_once, install_host);
    CUresult r = rg_procaddr_lookup(symbol, pfn, cudaVersion, flags, symbolStatus);
    errno = saved;
    return r;
}

/* The 11.3 ABI: no status out-parameter. */
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags)
{
    return cuGetProcAddress_v2(symbol, pfn, cudaVersion, flags, NULL);
}

CUresult cuGetExportTable(const void **ppExportTable, const CUuuid *pExportTableId)
{
    int saved = errno;
    pthread_once(&host_once, install_host);
    refresh_version();
    /* the caller is named in the log line of a table not served */
    CUresult r = rg_darkapi_export_table_from(ppExportTable, pExportTableId,
                                              library_of(__builtin_return_address(0)));
    errno = saved;
    return r;
}
