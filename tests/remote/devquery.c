/* devquery.c — prints what an application learns about its devices (count,
 * names, capability, memory, UUIDs, attributes, driver version) in a stable
 * text form, so runs on simgpu directly and through the shim can be diffed. */
#include <cuda.h>
#include <stdio.h>

/* cuDeviceComputeCapability is deprecated but applications still call it. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static const struct {
    CUdevice_attribute a;
    const char *name;
} attrs[] = {
    {CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "max_threads_per_block"},
    {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X, "max_block_dim_x"},
    {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, "max_grid_dim_x"},
    {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, "max_shared_per_block"},
    {CU_DEVICE_ATTRIBUTE_WARP_SIZE, "warp_size"},
    {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "sm_count"},
    {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "cc_major"},
    {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "cc_minor"},
    {CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, "unified_addressing"},
    {CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS, "concurrent_managed"},
};

static int check(CUresult r, const char *what)
{
    if (r != CUDA_SUCCESS) printf("%s failed: %d\n", what, (int)r);
    return r != CUDA_SUCCESS;
}

int main(void)
{
    int n = 0, v = 0;
    if (check(cuInit(0), "cuInit") || check(cuDeviceGetCount(&n), "cuDeviceGetCount")) return 1;
    check(cuDriverGetVersion(&v), "cuDriverGetVersion");
    printf("driver %d, %d device(s)\n", v, n);
    for (int i = 0; i < n; i++) {
        CUdevice d;
        char name[256];
        size_t mem = 0;
        CUuuid u;
        int maj = 0, min = 0;
        if (check(cuDeviceGet(&d, i), "cuDeviceGet")) return 1;
        check(cuDeviceGetName(name, sizeof name, d), "cuDeviceGetName");
        check(cuDeviceTotalMem(&mem, d), "cuDeviceTotalMem");
        check(cuDeviceGetUuid(&u, d), "cuDeviceGetUuid");
        check(cuDeviceComputeCapability(&maj, &min, d), "cuDeviceComputeCapability");
        printf("device %d: %s, cc %d.%d, %zu bytes, uuid", i, name, maj, min, mem);
        for (int k = 0; k < 16; k++) printf("%02x", (unsigned char)u.bytes[k]);
        printf("\n");
        for (size_t k = 0; k < sizeof attrs / sizeof attrs[0]; k++) {
            int val = -1;
            check(cuDeviceGetAttribute(&val, attrs[k].a, d), attrs[k].name);
            printf("  %s %d\n", attrs[k].name, val);
        }
    }
    CUdevice bad;
    printf("cuDeviceGet(99) = %d\n", (int)cuDeviceGet(&bad, 99));
    return 0;
}
