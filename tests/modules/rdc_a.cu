// Relocatable device code, unit A: calls a function and reads a variable
// defined in unit B (rdc_b.cu); both units have a file-local of the same name.
extern __device__ int triple(int x);
extern __device__ int rdc_offset;
static __device__ int local_twin = 1;

extern "C" __global__ void rdc_apply(int *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] = triple(v[i]) + rdc_offset + local_twin;
}
