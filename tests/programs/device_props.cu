// device_props.cu — device enumeration and properties: cudaGetDeviceProperties
// agrees with cudaDeviceGetAttribute and cudaMemGetInfo, and kernels launched at
// the limits the device reports (block size, shared memory, opted-in shared
// memory) see those limits.
#include "check.cuh"

#include <cstring>

__global__ void shape(int *out)
{
    int b = blockIdx.y * gridDim.x + blockIdx.x;
    int t = b * blockDim.x + threadIdx.x;
    out[4 * t + 0] = warpSize;
    out[4 * t + 1] = blockDim.x;
    out[4 * t + 2] = gridDim.x * gridDim.y;
    out[4 * t + 3] = b;
}

// Fills all the dynamic shared memory it is given, then sums it back.
__global__ void shared_fill(unsigned *sum, int words)
{
    extern __shared__ unsigned smem[];
    for (int i = threadIdx.x; i < words; i += blockDim.x)
        smem[i] = i * 3u + 1u;
    __syncthreads();
    if (threadIdx.x == 0) {
        unsigned s = 0;
        for (int i = 0; i < words; i++)
            s += smem[i];
        *sum = s;
    }
}

static long check_device(int dev)
{
    long bad = 0;
    cudaDeviceProp p;
    CK(cudaSetDevice(dev));
    int cur = -1;
    CK(cudaGetDevice(&cur));
    bad += cur != dev;
    CK(cudaGetDeviceProperties(&p, dev));
    int major, minor, mtpb, warp, sms, smem, uva;
    CK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    CK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    CK(cudaDeviceGetAttribute(&mtpb, cudaDevAttrMaxThreadsPerBlock, dev));
    CK(cudaDeviceGetAttribute(&warp, cudaDevAttrWarpSize, dev));
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    CK(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlock, dev));
    CK(cudaDeviceGetAttribute(&uva, cudaDevAttrUnifiedAddressing, dev));
    printf("device %d: \"%s\" cc %d.%d, %d SMs, %zu MiB, warp %d, %d threads/block, %zu B "
           "smem/block\n",
           dev, p.name, p.major, p.minor, p.multiProcessorCount, p.totalGlobalMem >> 20, p.warpSize,
           p.maxThreadsPerBlock, p.sharedMemPerBlock);
    EXPECT(strlen(p.name) > 0, "empty name");
    EXPECT(p.major == major && p.minor == minor, "cc %d.%d vs %d.%d", p.major, p.minor, major,
           minor);
    // The programs carry compute_120 PTX only: a device that runs them is 12.0 or newer.
    EXPECT(p.major >= 12, "cc %d.%d", p.major, p.minor);
    EXPECT(p.warpSize == 32 && warp == 32, "warp %d/%d", p.warpSize, warp);
    EXPECT(p.maxThreadsPerBlock == mtpb && mtpb >= 1024, "%d/%d", p.maxThreadsPerBlock, mtpb);
    EXPECT(p.multiProcessorCount == sms && sms > 0, "%d/%d", p.multiProcessorCount, sms);
    EXPECT((int)p.sharedMemPerBlock == smem && smem >= 48 * 1024, "%zu/%d", p.sharedMemPerBlock,
           smem);
    EXPECT(uva == 1 && p.unifiedAddressing == 1, "unified addressing");
    size_t free_b = 0, total_b = 0;
    CK(cudaMemGetInfo(&free_b, &total_b));
    EXPECT(total_b == p.totalGlobalMem && free_b <= total_b, "meminfo %zu/%zu vs %zu", free_b,
           total_b, p.totalGlobalMem);

    // A 3x2 grid of blocks as large as the device allows.
    int nb = 6, nt = p.maxThreadsPerBlock, n = nb * nt;
    int *d, *h = new int[4 * n];
    CK(cudaMalloc(&d, 4 * n * sizeof(int)));
    shape<<<dim3(3, 2), nt>>>(d);
    CK_LAUNCH();
    CK(cudaMemcpy(h, d, 4 * n * sizeof(int), cudaMemcpyDeviceToHost));
    long wrong = 0;
    for (int t = 0; t < n; t++)
        wrong +=
            h[4 * t] != 32 || h[4 * t + 1] != nt || h[4 * t + 2] != nb || h[4 * t + 3] != t / nt;
    EXPECT(wrong == 0, "%ld threads saw the wrong shape", wrong);
    // One thread more than the device allows must be refused at launch (and the
    // error not stick). NVIDIA's stack answers cudaErrorInvalidConfiguration;
    // cudart over simgpu's CUDA_ERROR_INVALID_VALUE gives cudaErrorInvalidValue.
    shape<<<1, nt + 1>>>(d);
    cudaError_t e = cudaGetLastError();
    EXPECT(e == cudaErrorInvalidConfiguration || e == cudaErrorInvalidValue, "oversized block: %s",
           cudaGetErrorString(e));
    EXPECT(cudaGetLastError() == cudaSuccess, "launch error is sticky");
    int max_gy = 0;
    CK(cudaDeviceGetAttribute(&max_gy, cudaDevAttrMaxGridDimY, dev));
    EXPECT(max_gy == p.maxGridSize[1] && max_gy >= 65535, "max grid y %d", max_gy);
    shape<<<dim3(1, max_gy + 1), 32>>>(d);
    EXPECT(cudaGetLastError() != cudaSuccess, "grid of %d rows accepted", max_gy + 1);

    // All of the shared memory a block may have without opting in.
    int words = (int)(p.sharedMemPerBlock / sizeof(unsigned));
    unsigned *dsum, sum = 0, want = 0;
    for (int i = 0; i < words; i++)
        want += i * 3u + 1u;
    CK(cudaMalloc(&dsum, sizeof(unsigned)));
    shared_fill<<<1, 256, words * sizeof(unsigned)>>>(dsum, words);
    CK_LAUNCH();
    CK(cudaMemcpy(&sum, dsum, sizeof sum, cudaMemcpyDeviceToHost));
    EXPECT(sum == want, "shared sum %u want %u", sum, want);

    // More dynamic shared memory than the default needs the function's opt-in,
    // as large-tile kernels do: refused before, accepted after.
    int optin = 0;
    CK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    EXPECT(optin == (int)p.sharedMemPerBlockOptin && optin >= smem, "optin %d", optin);
    if (optin > smem) {
        int big = optin / (int)sizeof(unsigned);
        want = 0;
        for (int i = 0; i < big; i++)
            want += i * 3u + 1u;
        shared_fill<<<1, 256, big * sizeof(unsigned)>>>(dsum, big);
        EXPECT(cudaGetLastError() != cudaSuccess, "%d B of shared memory without opt-in accepted",
               optin);
        CK(cudaFuncSetAttribute(shared_fill, cudaFuncAttributeMaxDynamicSharedMemorySize, optin));
        shared_fill<<<1, 256, big * sizeof(unsigned)>>>(dsum, big);
        CK_LAUNCH();
        CK(cudaMemcpy(&sum, dsum, sizeof sum, cudaMemcpyDeviceToHost));
        EXPECT(sum == want, "opt-in shared sum %u want %u", sum, want);
    }

    cudaFuncAttributes fa;
    CK(cudaFuncGetAttributes(&fa, shape));
    EXPECT(fa.maxThreadsPerBlock > 0 && fa.maxThreadsPerBlock <= p.maxThreadsPerBlock,
           "func max threads %d", fa.maxThreadsPerBlock);
    EXPECT(fa.ptxVersion >= 120, "ptx version %d", fa.ptxVersion);
    CK(cudaFree(d));
    CK(cudaFree(dsum));
    delete[] h;
    return bad;
}

int main()
{
    int count = 0, drv = 0, rt = 0;
    CK(cudaGetDeviceCount(&count));
    CK(cudaDriverGetVersion(&drv));
    CK(cudaRuntimeGetVersion(&rt));
    printf("%d device(s), driver %d, runtime %d\n", count, drv, rt);
    long bad = 0;
    EXPECT(count >= 1, "no device");
    EXPECT(drv >= rt && rt >= 13000, "driver %d runtime %d", drv, rt);
    for (int dev = 0; dev < count; dev++)
        bad += check_device(dev);
    cudaDeviceProp p;
    EXPECT(cudaGetDeviceProperties(&p, count) == cudaErrorInvalidDevice, "device %d exists", count);
    return report("device properties", bad);
}
