// Relocatable device code, unit B: definitions used by rdc_a.cu.
__device__ int rdc_offset = 100;
static __device__ int local_twin = 1000;

__device__ int triple(int x)
{
    return 3 * x + local_twin - 1000;
}
