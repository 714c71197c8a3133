/* device.c — the simulated devices: enumeration (SIMGPU_DEVICES,
 * CUDA_VISIBLE_DEVICES), identity (name, UUID, PCI ids), capacity accounting
 * (SIMGPU_MEMORY) and every CUdevice_attribute, all as the real driver answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "share.h"

#define SIM_MAX_DEVICES 64
#define SIM_SM_COUNT 8
#define SIM_CLOCK_KHZ 1500000

static struct sim_device devices[SIM_MAX_DEVICES];
static int ndevices;

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Stable UUID derived from the physical index (version-4 shaped). */
static void make_uuid(CUuuid *u, int physical)
{
    uint64_t a = mix64(0x72677075ULL * 1000 + (uint64_t)physical);
    uint64_t b = mix64(a ^ 0x73696d677075ULL);
    memcpy(u->bytes, &a, 8);
    memcpy(u->bytes + 8, &b, 8);
    u->bytes[6] = (char)((u->bytes[6] & 0x0f) | 0x40);
    u->bytes[8] = (char)((u->bytes[8] & 0x3f) | 0x80);
}

static void uuid_string(const CUuuid *u, char out[64])
{
    const unsigned char *b = (const unsigned char *)u->bytes;
    int n = sprintf(out, "GPU-");
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[n++] = '-';
        n += sprintf(out + n, "%02x", b[i]);
    }
}

/* Index of the physical device whose UUID string starts with `tok` (unique), else -1. */
static int match_uuid(const char *tok, int nphys)
{
    int found = -1;
    for (int i = 0; i < nphys; i++) {
        CUuuid u;
        char s[64];
        make_uuid(&u, i);
        uuid_string(&u, s);
        if (strncasecmp(s, tok, strlen(tok)) == 0) {
            if (found >= 0) return -1; /* ambiguous prefix */
            found = i;
        }
    }
    return found;
}

/* One CUDA_VISIBLE_DEVICES entry -> physical index, -1 if invalid. */
static int parse_visible_entry(const char *tok, int nphys)
{
    while (*tok == ' ')
        tok++;
    if (!strncasecmp(tok, "GPU-", 4)) return strlen(tok) > 4 ? match_uuid(tok, nphys) : -1;
    char *end;
    long v = strtol(tok, &end, 10);
    while (*end == ' ')
        end++;
    if (end == tok || *end || v < 0 || v >= nphys) return -1;
    return (int)v;
}

/* The real driver keeps entries up to the first invalid (or repeated) one. */
static int parse_visible(const char *env, int nphys, int *map)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", env);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n < nphys;
         tok = strtok_r(NULL, ",", &save)) {
        int p = parse_visible_entry(tok, nphys);
        if (p < 0) break;
        for (int i = 0; i < n; i++)
            if (map[i] == p) return n;
        map[n++] = p;
    }
    return n;
}

static void device_setup(struct sim_device *d, int ordinal, int physical, size_t mem)
{
    d->ordinal = ordinal;
    d->physical = physical;
    make_uuid(&d->uuid, physical);
    snprintf(d->name, sizeof d->name, "rgpu simgpu");
    d->total_mem = mem;
    atomic_store(&d->used, 0);
    d->pci_domain = 0;
    d->pci_bus = 0x10 + physical;
    d->pci_device = 0;
    pthread_mutex_init(&d->lock, NULL);
}

/* ---- memory charged against the device (shared by processes: share.h) ---- */

static struct simgpu_share *share;
static int share_slot = -1;

/* SIMGPU_SHARED names the file that makes this process one of several users of
 * the same devices; without it the devices are this process's alone. */
static void share_setup(void)
{
    const char *path = getenv("SIMGPU_SHARED");
    if (!path || !*path) return;
    if (!(share = simgpu_share_open(path))) {
        sim_warn("SIMGPU_SHARED=%s cannot be mapped (%s): device memory is this process's alone",
                 path, strerror(errno));
        return;
    }
    if ((share_slot = simgpu_share_claim(share)) < 0) {
        sim_warn("SIMGPU_SHARED=%s: all %d process slots are taken: device memory is this "
                 "process's alone", path, SIMGPU_SHARE_SLOTS);
        munmap(share, sizeof *share);
        share = NULL;
    }
}

CUresult sim_devices_init(void)
{
    const char *e = getenv("SIMGPU_DEVICES");
    int nphys = 1;
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        if (*end || v < 0)
            sim_warn("SIMGPU_DEVICES=%s not understood, using 1", e);
        else
            nphys = v > SIM_MAX_DEVICES ? SIM_MAX_DEVICES : (int)v;
    }
    size_t mem = 4ull << 30;
    const char *m = getenv("SIMGPU_MEMORY");
    if (m && *m) {
        size_t v = sim_parse_size(m);
        if (v)
            mem = v;
        else
            sim_warn("SIMGPU_MEMORY=%s not understood, using 4G", m);
    }
    int map[SIM_MAX_DEVICES];
    int n = nphys;
    for (int i = 0; i < nphys; i++)
        map[i] = i;
    const char *vis = getenv("CUDA_VISIBLE_DEVICES");
    if (vis) n = parse_visible(vis, nphys, map);
    for (int i = 0; i < n; i++)
        device_setup(&devices[i], i, map[i], mem);
    ndevices = n;
    if (n > 0) share_setup();
    return n > 0 ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
}

int sim_device_count(void)
{
    return ndevices;
}

struct sim_device *sim_device(CUdevice ordinal)
{
    if (ordinal < 0 || ordinal >= ndevices) return NULL;
    return &devices[ordinal];
}

/* Adds bytes to *used unless that would pass total. */
static bool charge_counter(_Atomic uint64_t *used, uint64_t total, uint64_t bytes)
{
    uint64_t cur = atomic_load(used);
    do {
        if (bytes > total || cur > total - bytes) return false;
    } while (!atomic_compare_exchange_weak(used, &cur, cur + bytes));
    return true;
}

bool sim_device_charge(struct sim_device *d, size_t bytes)
{
    if (!share) return charge_counter(&d->used, d->total_mem, bytes);
    if (!charge_counter(&share->used[d->physical], d->total_mem, bytes)) return false;
    atomic_fetch_add(&share->slot[share_slot].used[d->physical], bytes);
    atomic_fetch_add(&d->used, bytes);
    return true;
}

void sim_device_uncharge(struct sim_device *d, size_t bytes)
{
    atomic_fetch_sub(&d->used, bytes);
    if (share) {
        atomic_fetch_sub(&share->slot[share_slot].used[d->physical], bytes);
        atomic_fetch_sub(&share->used[d->physical], bytes);
    }
}

size_t sim_device_used(const struct sim_device *d)
{
    return share ? (size_t)atomic_load(&share->used[d->physical]) : atomic_load(&d->used);
}

/* Values that do not depend on the device; -1 if the attribute is unknown. */
static int attr_fixed(CUdevice_attribute a)
{
    switch ((int)a) {
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
        return 1024;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X:
        return 1024;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y:
        return 1024;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z:
        return 64;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X:
        return 2147483647;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y:
        return 65535;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z:
        return 65535;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK:
        return 49152;
    case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY:
        return 65536;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE:
        return 32;
    case CU_DEVICE_ATTRIBUTE_MAX_PITCH:
        return 2147483647;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK:
        return 65536;
    case CU_DEVICE_ATTRIBUTE_CLOCK_RATE:
        return SIM_CLOCK_KHZ;
    case CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT:
        return 512;
    case CU_DEVICE_ATTRIBUTE_GPU_OVERLAP:
        return 1;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
        return SIM_SM_COUNT;
    case CU_DEVICE_ATTRIBUTE_KERNEL_EXEC_TIMEOUT:
        return 0;
    case CU_DEVICE_ATTRIBUTE_INTEGRATED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY:
        return 1;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_MODE:
        return CU_COMPUTEMODE_DEFAULT;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_WIDTH:
        return 131072;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_WIDTH:
        return 131072;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_HEIGHT:
        return 65536;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH:
        return 16384;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT:
        return 16384;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH:
        return 16384;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_HEIGHT:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_LAYERS:
        return 2048;
    case CU_DEVICE_ATTRIBUTE_SURFACE_ALIGNMENT:
        return 512;
    case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS:
        return 1;
    case CU_DEVICE_ATTRIBUTE_ECC_ENABLED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_TCC_DRIVER:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE:
        return 14001000;
    case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH:
        return 256;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE:
        return 32 << 20;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR:
        return 1536;
    case CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT:
        return 2;
    case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING:
        return 1;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_LAYERS:
        return 2048;
    case CU_DEVICE_ATTRIBUTE_CAN_TEX2D_GATHER:
        return 1;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_HEIGHT:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH_ALTERNATE:
        return 8192;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT_ALTERNATE:
        return 8192;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH_ALTERNATE:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT:
        return 32;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_LAYERS:
        return 2046;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_WIDTH:
        return 131072;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_HEIGHT:
        return 65536;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_WIDTH:
        return 16384;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_HEIGHT:
        return 16384;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_DEPTH:
        return 16384;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_LAYERS:
        return 2048;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_HEIGHT:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_LAYERS:
        return 2048;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_LAYERS:
        return 2046;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LINEAR_WIDTH:
        return 268435456;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_WIDTH:
        return 131072;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_HEIGHT:
        return 65000;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_PITCH:
        return 2097120;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_HEIGHT:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
        return SIM_CC_MAJOR;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
        return SIM_CC_MINOR;
    case CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH:
        return 32768;
    case CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR:
        return 233472;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR:
        return 65536;
    case CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY:
        return 1;
    case CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD:
        return 0;
    case CU_DEVICE_ATTRIBUTE_HOST_NATIVE_ATOMIC_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO:
        return 64;
    case CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS:
        return 0;
    case CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS:
        return 1;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_PREEMPTION_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM:
        return 1;
    case CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_MEM_OPS_V1:
        return 1;
    case CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS_V1:
        return 1;
    case CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR_V1:
        return 1;
    case CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH:
        return 1;
    case CU_DEVICE_ATTRIBUTE_COOPERATIVE_MULTI_DEVICE_LAUNCH:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
        return 101376;
    case CU_DEVICE_ATTRIBUTE_CAN_FLUSH_REMOTE_WRITES:
        return 0;
    case CU_DEVICE_ATTRIBUTE_HOST_REGISTER_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES:
        return 0;
    case CU_DEVICE_ATTRIBUTE_DIRECT_MANAGED_MEM_ACCESS_FROM_HOST:
        return 1;
    case CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_HANDLE_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_KMT_HANDLE_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR:
        return 32;
    case CU_DEVICE_ATTRIBUTE_GENERIC_COMPRESSION_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE:
        return 0;
    case CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WITH_CUDA_VMM_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK:
        return 1024;
    case CU_DEVICE_ATTRIBUTE_SPARSE_CUDA_ARRAY_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_READ_ONLY_HOST_REGISTER_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED:
        return 1;
    case CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_FLUSH_WRITES_OPTIONS:
        return 0;
    case CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WRITES_ORDERING:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MEMPOOL_SUPPORTED_HANDLE_TYPES:
        return 0;
    case CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH:
        return 0;
    case CU_DEVICE_ATTRIBUTE_DEFERRED_MAPPING_CUDA_ARRAY_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS:
        return 1;
    case CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR:
        return 1;
    case CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_IPC_EVENT_SUPPORTED:
        return 1; /* ipc.c */
    case CU_DEVICE_ATTRIBUTE_MEM_SYNC_DOMAIN_COUNT:
        return 1;
    case CU_DEVICE_ATTRIBUTE_TENSOR_MAP_ACCESS_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_UNIFIED_FUNCTION_POINTERS:
        return 1;
    case CU_DEVICE_ATTRIBUTE_NUMA_CONFIG:
        return CU_DEVICE_NUMA_CONFIG_NONE;
    case CU_DEVICE_ATTRIBUTE_NUMA_ID:
        return -1;
    case CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MPS_ENABLED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID:
        return -1;
    case CU_DEVICE_ATTRIBUTE_D3D12_CIG_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MEM_DECOMPRESS_ALGORITHM_MASK:
        return 0;
    case CU_DEVICE_ATTRIBUTE_MEM_DECOMPRESS_MAXIMUM_LENGTH:
        return 0;
    case CU_DEVICE_ATTRIBUTE_VULKAN_CIG_SUPPORTED:
        return 0;
    case CU_DEVICE_ATTRIBUTE_GPU_PCI_DEVICE_ID:
        return 0x2b8510de;
    case CU_DEVICE_ATTRIBUTE_GPU_PCI_SUBSYSTEM_ID:
        return 0;
    default:
        return -1;
    }
}

int sim_device_attribute(struct sim_device *d, CUdevice_attribute a, int *out)
{
    switch ((int)a) {
    case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID:
        *out = d->pci_bus;
        return 0;
    case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID:
        *out = d->pci_device;
        return 0;
    case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID:
        *out = d->pci_domain;
        return 0;
    case CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD_GROUP_ID:
        *out = d->physical;
        return 0;
    default:
        break;
    }
    if (a <= 0 || a >= CU_DEVICE_ATTRIBUTE_MAX) return -1;
    int v = attr_fixed(a);
    /* Attributes newer than this table but inside the enum: plausible 0. */
    *out = (v == -1 && a != CU_DEVICE_ATTRIBUTE_NUMA_ID && a != CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID)
               ? 0
               : v;
    return 0;
}

/* Common prologue: initialised, valid device. */
static CUresult dev_get(CUdevice dev, struct sim_device **out)
{
    SIM_INIT_OR_RETURN();
    struct sim_device *d = sim_device(dev);
    if (!d) return CUDA_ERROR_INVALID_DEVICE;
    *out = d;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
    SIM_INIT_OR_RETURN();
    if (!device) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_device(ordinal)) return CUDA_ERROR_INVALID_DEVICE;
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count)
{
    SIM_INIT_OR_RETURN();
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    *count = ndevices;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "%s", d->name);
    return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    *bytes = d->total_mem;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!pi) return CUDA_ERROR_INVALID_VALUE;
    int v;
    if (sim_device_attribute(d, attrib, &v) != 0) return CUDA_ERROR_INVALID_VALUE;
    *pi = v;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!uuid) return CUDA_ERROR_INVALID_VALUE;
    *uuid = d->uuid;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev)
{
    return cuDeviceGetUuid(uuid, dev);
}

CUresult cuDeviceGetLuid(char *luid, unsigned int *deviceNodeMask, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!luid || !deviceNodeMask) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_ERROR_NOT_SUPPORTED; /* LUIDs exist on Windows only */
}

CUresult cuDeviceGetPCIBusId(char *pciBusId, int len, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!pciBusId || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(pciBusId, (size_t)len, "%04x:%02x:%02x.0", d->pci_domain, d->pci_bus, d->pci_device);
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetByPCIBusId(CUdevice *dev, const char *pciBusId)
{
    SIM_INIT_OR_RETURN();
    if (!dev || !pciBusId) return CUDA_ERROR_INVALID_VALUE;
    unsigned dom = 0, bus, devn, fn = 0;
    if (sscanf(pciBusId, "%x:%x:%x.%x", &dom, &bus, &devn, &fn) < 3) {
        dom = 0;
        if (sscanf(pciBusId, "%x:%x.%x", &bus, &devn, &fn) < 2) return CUDA_ERROR_INVALID_VALUE;
    }
    for (int i = 0; i < ndevices; i++) {
        struct sim_device *d = &devices[i];
        if ((unsigned)d->pci_domain == dom && (unsigned)d->pci_bus == bus &&
            (unsigned)d->pci_device == devn) {
            *dev = i;
            return CUDA_SUCCESS;
        }
    }
    return CUDA_ERROR_INVALID_DEVICE;
}

CUresult cuDeviceComputeCapability(int *major, int *minor, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
    *major = SIM_CC_MAJOR;
    *minor = SIM_CC_MINOR;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetProperties(CUdevprop *prop, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!prop) return CUDA_ERROR_INVALID_VALUE;
    memset(prop, 0, sizeof *prop);
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = 1024;
    prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 2147483647;
    prop->maxGridSize[1] = 65535;
    prop->maxGridSize[2] = 65535;
    prop->sharedMemPerBlock = 49152;
    prop->totalConstantMemory = 65536;
    prop->SIMDWidth = 32;
    prop->memPitch = 2147483647;
    prop->regsPerBlock = 65536;
    prop->clockRate = SIM_CLOCK_KHZ;
    prop->textureAlign = 512;
    return CUDA_SUCCESS;
}

CUresult cuDeviceCanAccessPeer(int *canAccessPeer, CUdevice dev, CUdevice peerDev)
{
    struct sim_device *d, *p;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if ((r = dev_get(peerDev, &p))) return r;
    if (!canAccessPeer) return CUDA_ERROR_INVALID_VALUE;
    *canAccessPeer = dev != peerDev;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetP2PAttribute(int *value, CUdevice_P2PAttribute attrib, CUdevice srcDevice,
                                 CUdevice dstDevice)
{
    struct sim_device *d, *p;
    CUresult r = dev_get(srcDevice, &d);
    if (r) return r;
    if ((r = dev_get(dstDevice, &p))) return r;
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    if (srcDevice == dstDevice) return CUDA_ERROR_INVALID_DEVICE;
    switch (attrib) {
    case CU_DEVICE_P2P_ATTRIBUTE_PERFORMANCE_RANK:
        *value = 0;
        break;
    case CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED:
        *value = 1;
        break;
    case CU_DEVICE_P2P_ATTRIBUTE_NATIVE_ATOMIC_SUPPORTED:
        *value = 1;
        break;
    case CU_DEVICE_P2P_ATTRIBUTE_CUDA_ARRAY_ACCESS_SUPPORTED:
        *value = 0;
        break;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

/* Atomics on host memory and between devices are the host's own atomics. */
static unsigned atomic_caps(CUatomicOperation op)
{
    unsigned sizes = CU_ATOMIC_CAPABILITY_SCALAR_32 | CU_ATOMIC_CAPABILITY_SCALAR_64;
    switch (op) {
    case CU_ATOMIC_OPERATION_INTEGER_ADD:
    case CU_ATOMIC_OPERATION_INTEGER_MIN:
    case CU_ATOMIC_OPERATION_INTEGER_MAX:
        return sizes | CU_ATOMIC_CAPABILITY_SIGNED | CU_ATOMIC_CAPABILITY_UNSIGNED |
               CU_ATOMIC_CAPABILITY_REDUCTION;
    case CU_ATOMIC_OPERATION_INTEGER_INCREMENT:
    case CU_ATOMIC_OPERATION_INTEGER_DECREMENT:
        return CU_ATOMIC_CAPABILITY_SCALAR_32 | CU_ATOMIC_CAPABILITY_UNSIGNED;
    case CU_ATOMIC_OPERATION_AND:
    case CU_ATOMIC_OPERATION_OR:
    case CU_ATOMIC_OPERATION_XOR:
        return sizes | CU_ATOMIC_CAPABILITY_SIGNED | CU_ATOMIC_CAPABILITY_UNSIGNED |
               CU_ATOMIC_CAPABILITY_REDUCTION;
    case CU_ATOMIC_OPERATION_EXCHANGE:
    case CU_ATOMIC_OPERATION_CAS:
        return sizes | CU_ATOMIC_CAPABILITY_SIGNED | CU_ATOMIC_CAPABILITY_UNSIGNED;
    case CU_ATOMIC_OPERATION_FLOAT_ADD:
        return sizes | CU_ATOMIC_CAPABILITY_REDUCTION;
    case CU_ATOMIC_OPERATION_FLOAT_MIN:
    case CU_ATOMIC_OPERATION_FLOAT_MAX:
        return sizes;
    default:
        return 0;
    }
}

static CUresult fill_atomic_caps(unsigned *caps, const CUatomicOperation *ops, unsigned count)
{
    if (!caps || !ops || !count) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < count; i++)
        if ((unsigned)ops[i] > CU_ATOMIC_OPERATION_FLOAT_MAX) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < count; i++)
        caps[i] = atomic_caps(ops[i]);
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetHostAtomicCapabilities(unsigned int *capabilities,
                                           const CUatomicOperation *operations, unsigned int count,
                                           CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    return fill_atomic_caps(capabilities, operations, count);
}

CUresult cuDeviceGetP2PAtomicCapabilities(unsigned int *capabilities,
                                          const CUatomicOperation *operations, unsigned int count,
                                          CUdevice srcDevice, CUdevice dstDevice)
{
    struct sim_device *a, *b;
    CUresult r = dev_get(srcDevice, &a);
    if (r || (r = dev_get(dstDevice, &b))) return r;
    if (srcDevice == dstDevice) return CUDA_ERROR_INVALID_DEVICE;
    return fill_atomic_caps(capabilities, operations, count);
}

CUresult cuDeviceGetExecAffinitySupport(int *pi, CUexecAffinityType type, CUdevice dev)
{
    struct sim_device *d;
    CUresult r = dev_get(dev, &d);
    if (r) return r;
    if (!pi || (unsigned)type >= CU_EXEC_AFFINITY_TYPE_MAX) return CUDA_ERROR_INVALID_VALUE;
    *pi = 0;
    return CUDA_SUCCESS;
}
