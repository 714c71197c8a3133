// nvrtc_run.cpp — NVRTC on simgpu: compile CUDA C at run time for
// compute_120 and compute_80, load the PTX with cuModuleLoadDataEx (with JIT
// log options) through the driver API, and run a saxpy, a shared-memory +
// __shfl_down_sync reduction and two instantiations of a templated kernel
// found through nvrtcAddNameExpression/nvrtcGetLoweredName. Checked on the CPU.
#include <nvrtc.h>

#include <string>
#include <vector>

#include "libcheck.h"

#define NVRTC_CHECK(call) LIB_CHECK(call, NVRTC_SUCCESS)

static const char *source = R"(
extern "C" __global__ void saxpy(int n, float a, const float *x, float *y)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

// One partial sum per block: shared memory down to one warp, then shuffles.
extern "C" __global__ void block_sum(const float *in, float *out, int n)
{
    extern __shared__ float part[];
    float v = 0.f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        v += in[i];
    part[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s >= 32; s >>= 1) {
        if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x < 32) {
        v = part[threadIdx.x];
        for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
        if (threadIdx.x == 0) out[blockIdx.x] = v;
    }
}

namespace k {
template <typename T, int N> __global__ void poly(T *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    T x = v[i], acc = 0;
    for (int p = 0; p < N; p++) acc = acc * x + T(p + 1);
    v[i] = acc;
}
}
)";

static const char *name_f = "k::poly<float, 3>";
static const char *name_d = "k::poly<double, 4>";

// Compiles `source` for `arch`; returns PTX and the two lowered template names.
static std::string compile(const char *arch, std::string *low_f, std::string *low_d)
{
    nvrtcProgram prog;
    NVRTC_CHECK(nvrtcCreateProgram(&prog, source, "libs.cu", 0, nullptr, nullptr));
    NVRTC_CHECK(nvrtcAddNameExpression(prog, name_f));
    NVRTC_CHECK(nvrtcAddNameExpression(prog, name_d));
    std::string opt = std::string("--gpu-architecture=") + arch;
    const char *opts[] = {opt.c_str(), "--std=c++17"};
    nvrtcResult rc = nvrtcCompileProgram(prog, 2, opts);
    size_t logn = 0;
    nvrtcGetProgramLogSize(prog, &logn);
    if (rc != NVRTC_SUCCESS || logn > 1) {
        std::string log(logn, '\0');
        nvrtcGetProgramLog(prog, &log[0]);
        fprintf(stderr, "nvrtc log (%s): %s\n", arch, log.c_str());
    }
    NVRTC_CHECK(rc);
    size_t n = 0;
    NVRTC_CHECK(nvrtcGetPTXSize(prog, &n));
    std::string ptx(n, '\0');
    NVRTC_CHECK(nvrtcGetPTX(prog, &ptx[0]));
    const char *lf = nullptr, *ld = nullptr;
    NVRTC_CHECK(nvrtcGetLoweredName(prog, name_f, &lf));
    NVRTC_CHECK(nvrtcGetLoweredName(prog, name_d, &ld));
    *low_f = lf;
    *low_d = ld;
    NVRTC_CHECK(nvrtcDestroyProgram(&prog));
    printf("%s: %zu bytes of PTX; %s -> %s\n", arch, n, name_f, low_f->c_str());
    return ptx;
}

static CUmodule load(const std::string &ptx)
{
    char info[4096] = "", err[4096] = "";
    CUjit_option o[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                        CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *v[] = {info, (void *)(uintptr_t)sizeof info, err, (void *)(uintptr_t)sizeof err};
    CUmodule m;
    CUresult rc = cuModuleLoadDataEx(&m, ptx.c_str(), 4, o, v);
    if (rc != CUDA_SUCCESS) fprintf(stderr, "cuModuleLoadDataEx: %d: %s\n", (int)rc, err);
    CU_CHECK(rc);
    return m;
}

static int run_saxpy(CUmodule m)
{
    const int n = 1000;
    std::vector<float> x(n), y(n), want(n);
    for (int i = 0; i < n; i++) {
        x[i] = 0.5f * i;
        y[i] = 3.0f - i;
        want[i] = 2.5f * x[i] + y[i];
    }
    CUfunction f;
    CU_CHECK(cuModuleGetFunction(&f, m, "saxpy"));
    CUdeviceptr dx, dy;
    CU_CHECK(cuMemAlloc(&dx, n * sizeof(float)));
    CU_CHECK(cuMemAlloc(&dy, n * sizeof(float)));
    CU_CHECK(cuMemcpyHtoD(dx, x.data(), n * sizeof(float)));
    CU_CHECK(cuMemcpyHtoD(dy, y.data(), n * sizeof(float)));
    int nn = n;
    float a = 2.5f;
    void *args[] = {&nn, &a, &dx, &dy};
    CU_CHECK(cuLaunchKernel(f, (n + 127) / 128, 1, 1, 128, 1, 1, 0, nullptr, args, nullptr));
    CU_CHECK(cuMemcpyDtoH(y.data(), dy, n * sizeof(float)));
    cuMemFree(dx);
    cuMemFree(dy);
    double e = lib_max_err_f(y.data(), want.data(), n);
    return lib_report("  saxpy n=1000", e > 1e-6, e);
}

static int run_reduce(CUmodule m)
{
    const int n = 10000, blocks = 8, threads = 256;
    std::vector<float> in(n);
    double want = 0;
    for (int i = 0; i < n; i++) {
        in[i] = (float)((i % 17) - 8) * 0.25f;
        want += in[i];
    }
    CUfunction f;
    CU_CHECK(cuModuleGetFunction(&f, m, "block_sum"));
    CUdeviceptr din, dout;
    CU_CHECK(cuMemAlloc(&din, n * sizeof(float)));
    CU_CHECK(cuMemAlloc(&dout, blocks * sizeof(float)));
    CU_CHECK(cuMemcpyHtoD(din, in.data(), n * sizeof(float)));
    int nn = n;
    void *args[] = {&din, &dout, &nn};
    CU_CHECK(cuLaunchKernel(f, blocks, 1, 1, threads, 1, 1, threads * sizeof(float), nullptr, args,
                            nullptr));
    std::vector<float> out(blocks);
    CU_CHECK(cuMemcpyDtoH(out.data(), dout, blocks * sizeof(float)));
    cuMemFree(din);
    cuMemFree(dout);
    double got = 0;
    for (float v : out)
        got += v;
    double e = fabs(got - want);
    return lib_report("  block_sum (shared + __shfl_down_sync)", e > 1e-3, e);
}

template <typename T> static int run_poly(CUmodule m, const std::string &lowered, int N)
{
    const int n = 300;
    std::vector<T> v(n), want(n);
    for (int i = 0; i < n; i++) {
        v[i] = T(i % 7) - T(3);
        T acc = 0;
        for (int p = 0; p < N; p++)
            acc = acc * v[i] + T(p + 1);
        want[i] = acc;
    }
    CUfunction f;
    CU_CHECK(cuModuleGetFunction(&f, m, lowered.c_str()));
    CUdeviceptr d;
    CU_CHECK(cuMemAlloc(&d, n * sizeof(T)));
    CU_CHECK(cuMemcpyHtoD(d, v.data(), n * sizeof(T)));
    int nn = n;
    void *args[] = {&d, &nn};
    CU_CHECK(cuLaunchKernel(f, (n + 63) / 64, 1, 1, 64, 1, 1, 0, nullptr, args, nullptr));
    CU_CHECK(cuMemcpyDtoH(v.data(), d, n * sizeof(T)));
    cuMemFree(d);
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += v[i] != want[i];
    std::string what = "  template " + std::string(sizeof(T) == 4 ? name_f : name_d);
    return lib_report(what.c_str(), bad, bad);
}

int main()
{
    int major = 0, minor = 0;
    NVRTC_CHECK(nvrtcVersion(&major, &minor));
    printf("NVRTC %d.%d\n", major, minor);
    CU_CHECK(cuInit(0));
    CUdevice dev;
    CUcontext ctx;
    CU_CHECK(cuDeviceGet(&dev, 0));
    CU_CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
    CU_CHECK(cuCtxSetCurrent(ctx));
    int fails = 0;
    for (const char *arch : {"compute_120", "compute_80"}) {
        std::string lf, ld;
        std::string ptx = compile(arch, &lf, &ld);
        CUmodule m = load(ptx);
        fails += run_saxpy(m);
        fails += run_reduce(m);
        fails += run_poly<float>(m, lf, 3);
        fails += run_poly<double>(m, ld, 4);
        CU_CHECK(cuModuleUnload(m));
    }
    CU_CHECK(cuDevicePrimaryCtxRelease(dev));
    printf("nvrtc: %s\n", fails ? "FAIL" : "all ok");
    return fails ? 1 : 0;
}
