/* init.c — cuInit, driver version, device enumeration and attributes, error
 * names. Runs in one process: the first test checks calls before cuInit. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* they are tested too */
#include <cuda.h>
#include <cudaProfiler.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rgtest.h"

RG_TEST(before_init)
{
    int v = 0;
    CUdevice d;
    CHECK_CU(cuDriverGetVersion(&v));
    CHECK_EQ_INT(v, 13000);
    CHECK_CU_IS(cuDriverGetVersion(NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuDeviceGet(&d, 0), CUDA_ERROR_NOT_INITIALIZED);
    CHECK_CU_IS(cuInit(1), CUDA_ERROR_INVALID_VALUE);
    CUcontext c;
    CHECK_CU_IS(cuCtxGetCurrent(&c), CUDA_ERROR_NOT_INITIALIZED);
    CHECK_CU_IS(cuProfilerStart(), CUDA_ERROR_NOT_INITIALIZED);
    CHECK_CU(cuInit(0));
    CHECK_CU(cuInit(0));
    CHECK_CU(cuProfilerStart());
    CHECK_CU(cuProfilerStop());
}

RG_TEST(devices)
{
    int n = 0;
    CUdevice d;
    char name[256];
    size_t mem = 0;
    CHECK_CU(cuInit(0));
    CHECK_CU(cuDeviceGetCount(&n));
    CHECK(n >= 1);
    CHECK_CU_IS(cuDeviceGetCount(NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuDeviceGet(&d, 0));
    CHECK_EQ_INT(d, 0);
    CHECK_CU_IS(cuDeviceGet(&d, n), CUDA_ERROR_INVALID_DEVICE);
    CHECK_CU_IS(cuDeviceGet(&d, -1), CUDA_ERROR_INVALID_DEVICE);
    CHECK_CU_IS(cuDeviceGet(NULL, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuDeviceGetName(name, sizeof name, 0));
    CHECK(strlen(name) > 0);
    CHECK_CU_IS(cuDeviceGetName(name, sizeof name, n), CUDA_ERROR_INVALID_DEVICE);
    CHECK_CU_IS(cuDeviceGetName(NULL, 10, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuDeviceTotalMem(&mem, 0));
    CHECK(mem > 0);
    int major = 0, minor = -1;
    CHECK_CU(cuDeviceComputeCapability(&major, &minor, 0));
    CHECK(major >= 3);
}

RG_TEST(attributes)
{
    CHECK_CU(cuInit(0));
    int v;
    CHECK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0));
    CHECK_EQ_INT(v, 32);
    CHECK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 0));
    CHECK_EQ_INT(v, 1024);
    CHECK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, 0));
    CHECK_EQ_INT(v, 1);
    CHECK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0));
    CHECK(v >= 1);
    CHECK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, 0));
    CHECK(v >= 48 * 1024);
    int major, minor, cmaj, cmin;
    CHECK_CU(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0));
    CHECK_CU(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 0));
    CHECK_CU(cuDeviceComputeCapability(&cmaj, &cmin, 0));
    CHECK_EQ_INT(major, cmaj);
    CHECK_EQ_INT(minor, cmin);
    /* every attribute in the enum answers */
    for (int a = 1; a < CU_DEVICE_ATTRIBUTE_MAX; a++)
        CHECK_CU(cuDeviceGetAttribute(&v, (CUdevice_attribute)a, 0));
    CHECK_CU_IS(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuDeviceGetAttribute(&v, (CUdevice_attribute)0, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuDeviceGetAttribute(NULL, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0),
                CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 999),
                CUDA_ERROR_INVALID_DEVICE);
}

RG_TEST(uuid_and_pci)
{
    CHECK_CU(cuInit(0));
    CUuuid a, b;
    CHECK_CU(cuDeviceGetUuid(&a, 0));
    CHECK_CU(cuDeviceGetUuid_v2(&b, 0));
    CHECK(memcmp(a.bytes, b.bytes, 16) == 0);
    int zero = 1;
    for (int i = 0; i < 16; i++)
        if (a.bytes[i]) zero = 0;
    CHECK(!zero);
    CHECK_CU_IS(cuDeviceGetUuid(NULL, 0), CUDA_ERROR_INVALID_VALUE);
    char bus[64];
    CHECK_CU(cuDeviceGetPCIBusId(bus, sizeof bus, 0));
    CUdevice d = -1;
    CHECK_CU(cuDeviceGetByPCIBusId(&d, bus));
    CHECK_EQ_INT(d, 0);
    CHECK_CU_IS(cuDeviceGetByPCIBusId(&d, "garbage"), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuDeviceGetByPCIBusId(&d, "ffff:ff:1f.0"), CUDA_ERROR_INVALID_DEVICE);
    int dom, b2, dv;
    CHECK_CU(cuDeviceGetAttribute(&dom, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, 0));
    CHECK_CU(cuDeviceGetAttribute(&b2, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, 0));
    CHECK_CU(cuDeviceGetAttribute(&dv, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, 0));
    char want[64];
    snprintf(want, sizeof want, "%04x:%02x:%02x.0", dom, b2, dv);
    CHECK_STR(bus, want);
}

RG_TEST(properties_and_peers)
{
    CHECK_CU(cuInit(0));
    CUdevprop p;
    CHECK_CU(cuDeviceGetProperties(&p, 0));
    CHECK_EQ_INT(p.maxThreadsPerBlock, 1024);
    CHECK_EQ_INT(p.SIMDWidth, 32);
    int can = -1;
    CHECK_CU(cuDeviceCanAccessPeer(&can, 0, 0));
    CHECK_EQ_INT(can, 0);
    CHECK_CU_IS(cuDeviceCanAccessPeer(&can, 0, 77), CUDA_ERROR_INVALID_DEVICE);
    int v;
    CHECK_CU_IS(cuDeviceGetP2PAttribute(&v, CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED, 0, 0),
                CUDA_ERROR_INVALID_DEVICE);
}

RG_TEST(atomic_capabilities)
{
    CHECK_CU(cuInit(0));
    CUatomicOperation ops[] = {CU_ATOMIC_OPERATION_INTEGER_ADD, CU_ATOMIC_OPERATION_CAS,
                               CU_ATOMIC_OPERATION_FLOAT_ADD};
    unsigned caps[3] = {0};
    CHECK_CU(cuDeviceGetHostAtomicCapabilities(caps, ops, 3, 0));
    CHECK(caps[0] & CU_ATOMIC_CAPABILITY_SCALAR_32);
    CHECK(caps[1] & CU_ATOMIC_CAPABILITY_SCALAR_64);
    CHECK_CU_IS(cuDeviceGetHostAtomicCapabilities(caps, ops, 0, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuDeviceGetHostAtomicCapabilities(caps, ops, 3, 9), CUDA_ERROR_INVALID_DEVICE);
    int v = 1;
    CHECK_CU(cuDeviceGetExecAffinitySupport(&v, CU_EXEC_AFFINITY_TYPE_SM_COUNT, 0));
    CHECK_EQ_INT(v, 0);
}

RG_TEST(error_names)
{
    const char *s = NULL;
    CHECK_CU(cuGetErrorName(CUDA_SUCCESS, &s));
    CHECK_STR(s, "CUDA_SUCCESS");
    CHECK_CU(cuGetErrorName(CUDA_ERROR_INVALID_VALUE, &s));
    CHECK_STR(s, "CUDA_ERROR_INVALID_VALUE");
    CHECK_CU(cuGetErrorName(CUDA_ERROR_ILLEGAL_ADDRESS, &s));
    CHECK_STR(s, "CUDA_ERROR_ILLEGAL_ADDRESS");
    CHECK_CU(cuGetErrorString(CUDA_ERROR_OUT_OF_MEMORY, &s));
    CHECK(s && *s);
    CHECK_CU(cuGetErrorName(CUDA_ERROR_UNKNOWN, &s));
    CHECK_STR(s, "CUDA_ERROR_UNKNOWN");
    s = "x";
    CHECK_CU_IS(cuGetErrorName((CUresult)12345, &s), CUDA_ERROR_INVALID_VALUE);
    CHECK(s == NULL);
    s = "x";
    CHECK_CU_IS(cuGetErrorString((CUresult)12345, &s), CUDA_ERROR_INVALID_VALUE);
    CHECK(s == NULL);
    CHECK_CU_IS(cuGetErrorName(CUDA_SUCCESS, NULL), CUDA_ERROR_INVALID_VALUE);
    /* every documented code has a name */
    int codes[] = {1,   2,   3,   4,   5,   6,   7,   8,   100, 101, 200, 201,
                   209, 300, 400, 500, 600, 700, 710, 719, 800, 801, 900, 999};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK_CU(cuGetErrorName((CUresult)codes[i], &s));
        CHECK_CU(cuGetErrorString((CUresult)codes[i], &s));
    }
}

/* After fork the child cannot use the parent's driver state. */
RG_TEST(fork_child)
{
    CHECK_CU(cuInit(0));
    pid_t pid = fork();
    if (pid == 0) {
        int n;
        _exit(cuDeviceGetCount(&n) == CUDA_SUCCESS ? 1 : 0);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int n = 0;
    CHECK_CU(cuDeviceGetCount(&n)); /* the parent goes on */
}

RG_TEST_MAIN()
