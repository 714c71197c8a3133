/* simgpu-demo: a small CUDA driver-API program — device query, a PTX kernel
 * loaded at run time, copies both ways — checked against the CPU. `make run`
 * runs it on simgpu; it runs unchanged on any libcuda.so.1. */
#include <cuda.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char saxpy_ptx[] =
    ".version 8.0\n"
    ".target sm_80\n"
    ".address_size 64\n"
    ".visible .entry saxpy(.param .u32 n, .param .f32 a, .param .u64 x, .param .u64 y)\n"
    "{\n"
    "  .reg .pred %p;\n"
    "  .reg .b32 %r<6>;\n"
    "  .reg .f32 %f<5>;\n"
    "  .reg .b64 %rd<6>;\n"
    "  ld.param.u32 %r1, [n];\n"
    "  mov.u32 %r2, %ctaid.x;\n"
    "  mov.u32 %r3, %ntid.x;\n"
    "  mov.u32 %r4, %tid.x;\n"
    "  mad.lo.s32 %r5, %r2, %r3, %r4;\n"
    "  setp.ge.u32 %p, %r5, %r1;\n"
    "  @%p bra DONE;\n"
    "  ld.param.f32 %f1, [a];\n"
    "  ld.param.u64 %rd1, [x];\n"
    "  ld.param.u64 %rd2, [y];\n"
    "  mul.wide.u32 %rd3, %r5, 4;\n"
    "  add.s64 %rd4, %rd1, %rd3;\n"
    "  add.s64 %rd5, %rd2, %rd3;\n"
    "  ld.global.f32 %f2, [%rd4];\n"
    "  ld.global.f32 %f3, [%rd5];\n"
    "  fma.rn.f32 %f4, %f1, %f2, %f3;\n"
    "  st.global.f32 [%rd5], %f4;\n"
    "DONE:\n"
    "  ret;\n"
    "}\n";

#define CK(call)                                                                                   \
    do {                                                                                           \
        CUresult r_ = (call);                                                                      \
        if (r_ != CUDA_SUCCESS) {                                                                  \
            const char *s_ = NULL;                                                                 \
            cuGetErrorString(r_, &s_);                                                             \
            fprintf(stderr, "%s failed: %d %s\n", #call, (int)r_, s_ ? s_ : "?");                  \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    enum { N = 100000 };
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    CUfunction fn;
    char name[128];
    int major, minor, driver;
    size_t total;

    CK(cuInit(0));
    CK(cuDriverGetVersion(&driver));
    CK(cuDeviceGet(&dev, 0));
    CK(cuDeviceGetName(name, sizeof name, dev));
    CK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
    CK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
    CK(cuDeviceTotalMem(&total, dev));
    printf("device 0: %s, compute capability %d.%d, %zu MiB, driver %d\n", name, major, minor,
           total >> 20, driver);

    CK(cuCtxCreate(&ctx, NULL, 0, dev));
    CK(cuModuleLoadData(&mod, saxpy_ptx));
    CK(cuModuleGetFunction(&fn, mod, "saxpy"));

    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *out = malloc(N * sizeof *out);
    for (int i = 0; i < N; i++) {
        x[i] = (float)i * 0.5f;
        y[i] = 1.0f - (float)i;
    }
    CUdeviceptr dx, dy;
    CK(cuMemAlloc(&dx, N * sizeof(float)));
    CK(cuMemAlloc(&dy, N * sizeof(float)));
    CK(cuMemcpyHtoD(dx, x, N * sizeof(float)));
    CK(cuMemcpyHtoD(dy, y, N * sizeof(float)));

    unsigned n = N;
    float a = 3.0f;
    void *args[] = {&n, &a, &dx, &dy};
    unsigned block = 256, grid = (N + block - 1) / block;
    CK(cuLaunchKernel(fn, grid, 1, 1, block, 1, 1, 0, NULL, args, NULL));
    CK(cuMemcpyDtoH(out, dy, N * sizeof(float)));

    int bad = 0;
    for (int i = 0; i < N; i++)
        if (fabsf(out[i] - (a * x[i] + y[i])) > 1e-3f * fabsf(a * x[i] + y[i]) + 1e-6f) bad++;
    printf("saxpy of %d elements on %u blocks x %u threads: %s (y[12345] = %.1f, expected %.1f)\n",
           N, grid, block, bad ? "WRONG" : "correct", out[12345], a * x[12345] + y[12345]);

    CK(cuMemFree(dx));
    CK(cuMemFree(dy));
    CK(cuModuleUnload(mod));
    CK(cuCtxDestroy(ctx));
    free(x);
    free(y);
    free(out);
    return bad ? 1 : 0;
}
