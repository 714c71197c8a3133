// nvrtc.cpp — a kernel compiled at run time by NVRTC (with a -D option and a
// name expression for a template), loaded into the runtime's primary context
// with cuModuleLoadData and launched with cuLaunchKernel on buffers from
// cudaMalloc, as programs mixing the runtime and the driver API do.
#include <cuda.h>
#include <nvrtc.h>

#include <string>
#include <vector>

#include "check.cuh"

#define NV(call)                                                                                   \
    do {                                                                                           \
        nvrtcResult r_ = (call);                                                                   \
        if (r_ != NVRTC_SUCCESS) {                                                                 \
            fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #call,                        \
                    nvrtcGetErrorString(r_));                                                      \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CU(call)                                                                                   \
    do {                                                                                           \
        CUresult r_ = (call);                                                                      \
        if (r_ != CUDA_SUCCESS) {                                                                  \
            fprintf(stderr, "%s:%d: %s -> %d\n", __FILE__, __LINE__, #call, (int)r_);              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static const char *source = R"(
template <typename T> __global__ void axpb(T *y, const T *x, T a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + T(OFFSET);
}

extern "C" __global__ void dot_blocks(const float *x, const float *y, float *part, int n)
{
    extern __shared__ float s[];
    float v = 0.f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        v += x[i] * y[i];
    s[threadIdx.x] = v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) part[blockIdx.x] = s[0];
}
)";

int main()
{
    nvrtcProgram prog;
    NV(nvrtcCreateProgram(&prog, source, "runtime.cu", 0, NULL, NULL));
    NV(nvrtcAddNameExpression(prog, "axpb<int>"));
    const char *opts[] = {"--gpu-architecture=compute_120", "-DOFFSET=7", "--std=c++17"};
    nvrtcResult cr = nvrtcCompileProgram(prog, 3, opts);
    size_t log_size = 0;
    NV(nvrtcGetProgramLogSize(prog, &log_size));
    if (cr != NVRTC_SUCCESS || log_size > 1) {
        std::string log(log_size, '\0');
        NV(nvrtcGetProgramLog(prog, &log[0]));
        fprintf(stderr, "nvrtc log:\n%s\n", log.c_str());
    }
    NV(cr);
    size_t ptx_size = 0;
    NV(nvrtcGetPTXSize(prog, &ptx_size));
    std::string ptx(ptx_size, '\0');
    NV(nvrtcGetPTX(prog, &ptx[0]));
    const char *lowered = NULL;
    NV(nvrtcGetLoweredName(prog, "axpb<int>", &lowered));
    std::string axpb_name = lowered; // owned by prog

    // The runtime creates the primary context; the module goes into it.
    CK(cudaFree(0));
    CUmodule mod;
    CUfunction axpb, dot;
    CU(cuModuleLoadData(&mod, ptx.c_str()));
    CU(cuModuleGetFunction(&axpb, mod, axpb_name.c_str()));
    CU(cuModuleGetFunction(&dot, mod, "dot_blocks"));
    NV(nvrtcDestroyProgram(&prog));

    const int n = 5000, blocks = 10, threads = 128;
    std::vector<int> hx(n), hy(n);
    std::vector<float> fx(n), fy(n), part(blocks);
    for (int i = 0; i < n; i++)
        hx[i] = i - 2000, fx[i] = 0.5f * (i % 10), fy[i] = (float)(i % 4);
    int *x, *y;
    float *dx, *dy, *dp;
    CK(cudaMalloc(&x, n * sizeof(int)));
    CK(cudaMalloc(&y, n * sizeof(int)));
    CK(cudaMalloc(&dx, n * sizeof(float)));
    CK(cudaMalloc(&dy, n * sizeof(float)));
    CK(cudaMalloc(&dp, blocks * sizeof(float)));
    CK(cudaMemcpy(x, hx.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dx, fx.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dy, fy.data(), n * sizeof(float), cudaMemcpyHostToDevice));

    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    int a = -3, nn = n;
    void *args1[] = {&y, &x, &a, &nn};
    CU(cuLaunchKernel(axpb, (n + threads - 1) / threads, 1, 1, threads, 1, 1, 0, (CUstream)s, args1,
                      NULL));
    void *args2[] = {&dx, &dy, &dp, &nn};
    CU(cuLaunchKernel(dot, blocks, 1, 1, threads, 1, 1, threads * sizeof(float), (CUstream)s, args2,
                      NULL));
    CK(cudaMemcpyAsync(hy.data(), y, n * sizeof(int), cudaMemcpyDeviceToHost, s));
    CK(cudaMemcpyAsync(part.data(), dp, blocks * sizeof(float), cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));

    for (int i = 0; i < n; i++)
        EXPECT(hy[i] == -3 * hx[i] + 7, "y[%d] %d want %d", i, hy[i], -3 * hx[i] + 7);
    // Products are multiples of 0.5 below 15 and every sum stays below 2^24/2:
    // exact in float whatever the order of additions.
    double dot_gpu = 0, dot_cpu = 0;
    for (int b = 0; b < blocks; b++)
        dot_gpu += part[b];
    for (int i = 0; i < n; i++)
        dot_cpu += (double)fx[i] * fy[i];
    EXPECT(dot_gpu == dot_cpu, "dot %.1f want %.1f", dot_gpu, dot_cpu);
    printf("nvrtc: %s, dot %.1f\n", axpb_name.c_str(), dot_gpu);

    CU(cuModuleUnload(mod));
    CK(cudaStreamDestroy(s));
    for (void *p : {(void *)x, (void *)y, (void *)dx, (void *)dy, (void *)dp})
        CK(cudaFree(p));
    return report("nvrtc-compiled kernels", 0);
}
