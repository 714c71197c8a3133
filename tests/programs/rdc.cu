// rdc.cu — separate compilation (-rdc=true): kernels here call device
// functions of rdc_lib.cu and count into its __device__ variable; a kernel of
// rdc_lib.cu calls weight() defined here. Results checked on the CPU.
#include "check.cuh"
#include "rdc.cuh"

#include <vector>

__device__ int weight(int v, int i)
{
    return v * (i % 5 + 1);
}

__global__ void steps(int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = collatz_steps(i + 1);
}

__global__ void blend(const float *a, const float *b, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = lerp3(a[i], b[i], 0.25f);
}

__global__ void read_calls(int *out)
{
    *out = rdc_calls;
}

static int cpu_steps(long long v)
{
    int s = 0;
    while (v != 1)
        v = (v & 1) ? 3 * v + 1 : v / 2, s++;
    return s;
}

int main()
{
    const int n = 3000;
    int *d, *calls;
    float *a, *b, *o;
    CK(cudaMalloc(&d, n * sizeof(int)));
    CK(cudaMalloc(&calls, sizeof(int)));
    CK(cudaMalloc(&a, n * sizeof(float)));
    CK(cudaMalloc(&b, n * sizeof(float)));
    CK(cudaMalloc(&o, n * sizeof(float)));
    std::vector<float> ha(n), hb(n), ho(n);
    for (int i = 0; i < n; i++)
        ha[i] = (float)i, hb[i] = (float)(4 * (n - i));
    CK(cudaMemcpy(a, ha.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(b, hb.data(), n * sizeof(float), cudaMemcpyHostToDevice));

    steps<<<(n + 127) / 128, 128>>>(d, n);
    apply_weight<<<(n + 127) / 128, 128>>>(d, n);
    blend<<<(n + 127) / 128, 128>>>(a, b, o, n);
    read_calls<<<1, 1>>>(calls);
    CK_LAUNCH();
    std::vector<int> h(n);
    int ncalls = -1;
    CK(cudaMemcpy(h.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(ho.data(), o, n * sizeof(float), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(&ncalls, calls, sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        int want = cpu_steps(i + 1) * (i % 5 + 1);
        EXPECT(h[i] == want, "steps[%d] %d want %d", i, h[i], want);
        // a + 0.25 (b - a) with a, b integers below 2^14: exact in float.
        float wf = ha[i] + 0.25f * (hb[i] - ha[i]);
        EXPECT(ho[i] == wf, "blend[%d] %g want %g", i, ho[i], wf);
    }
    EXPECT(ncalls == n, "rdc_calls %d want %d", ncalls, n);
    printf("collatz steps of 27: %d, calls %d\n", h[26] / (26 % 5 + 1), ncalls);
    CK(cudaFree(d));
    CK(cudaFree(calls));
    CK(cudaFree(a));
    CK(cudaFree(b));
    CK(cudaFree(o));
    return report("separate compilation (-rdc=true)", 0);
}
