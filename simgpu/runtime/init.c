/* init.c — cuInit, cuDriverGetVersion and the small helpers every entry point
 * uses first. Initialisation runs once per process; its result (success or the
 * error, e.g. NO_DEVICE when CUDA_VISIBLE_DEVICES hides everything) sticks. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core.h"
#include <cudaProfiler.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CUresult init_result = CUDA_ERROR_NOT_INITIALIZED;
static _Atomic int init_done;

/* A forked child shares no worker threads with its parent: like the real
 * driver, CUDA is unusable there (every call: NOT_INITIALIZED). */
static void in_child(void)
{
    atomic_store(&init_done, 0);
    init_result = CUDA_ERROR_NOT_INITIALIZED;
}

/* simgpu runs PTX only (cubin-only images fail with NO_BINARY_FOR_GPU), so
 * it always behaves as CUDA_FORCE_PTX_JIT=1. Libraries that pick kernel
 * images themselves consult that variable (cuBLASLt would otherwise hand us
 * SASS): set it unless the user chose a value. */
static void force_ptx_jit_default(void)
{
    const char *v = getenv("CUDA_FORCE_PTX_JIT");
    if (v && *v) return;
    int saved = errno;
    if (setenv("CUDA_FORCE_PTX_JIT", "1", 1) == 0)
        sim_info("CUDA_FORCE_PTX_JIT=1 set: simgpu runs PTX only, libraries should load PTX");
    errno = saved;
}

static void init_all(void)
{
    force_ptx_jit_default();
    CUresult r;
    if ((r = sim_devices_init()) != CUDA_SUCCESS) goto fail;
    if ((r = sim_mem_init()) != CUDA_SUCCESS) goto fail;
    if ((r = sim_contexts_init()) != CUDA_SUCCESS) goto fail;
    if ((r = sim_mempools_init()) != CUDA_SUCCESS) goto fail;
    if (sim_darkglue_init) sim_darkglue_init();
    init_result = CUDA_SUCCESS;
    pthread_atfork(NULL, NULL, in_child);
    atomic_store(&init_done, 1);
    sim_info("simgpu initialised: %d device(s)", sim_device_count());
    return;
fail:
    init_result = r;
    if (r == CUDA_ERROR_NO_DEVICE)
        sim_info("cuInit: no visible device");
    else
        sim_err("cuInit failed: %d", (int)r);
}

CUresult cuInit(unsigned int flags)
{
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    pthread_once(&init_once, init_all);
    return init_result;
}

CUresult sim_check_init(void)
{
    if (atomic_load_explicit(&init_done, memory_order_acquire)) return CUDA_SUCCESS;
    return CUDA_ERROR_NOT_INITIALIZED;
}

CUresult cuDriverGetVersion(int *driverVersion)
{
    if (!driverVersion) return CUDA_ERROR_INVALID_VALUE;
    *driverVersion = SIM_DRIVER_VERSION;
    return CUDA_SUCCESS;
}

size_t sim_parse_size(const char *s)
{
    if (!s || !*s) return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return 0;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    case '\0':
        break;
    default:
        return 0;
    }
    if (*end) {
        end++;
        if (toupper((unsigned char)*end) == 'I') end++;
        if (toupper((unsigned char)*end) == 'B') end++;
        if (*end) return 0;
    }
    if (shift && v > (~0ULL >> shift)) return 0;
    return (size_t)(v << shift);
}

uint64_t sim_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The profiler API (cudaProfiler.h): there is no profiler to drive, so these
 * succeed once the driver is initialised, letting profiled programs run. */
CUresult cuProfilerInitialize(const char *configFile, const char *outputFile,
                              CUoutput_mode outputMode)
{
    SIM_INIT_OR_RETURN();
    return CUDA_SUCCESS;
}

CUresult cuProfilerStart(void)
{
    SIM_INIT_OR_RETURN();
    return CUDA_SUCCESS;
}

CUresult cuProfilerStop(void)
{
    SIM_INIT_OR_RETURN();
    return CUDA_SUCCESS;
}
