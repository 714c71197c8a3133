// kernels.cu — device code compiled by nvcc at test-build time into the fatbins,
// cubins and PTX files the darkapi fatbin tests read.
extern "C" __global__ void saxpy(float a, const float *x, float *y, int n) { int i = blockIdx.x*blockDim.x+threadIdx.x; if (i < n) y[i] = a*x[i] + y[i]; }
__global__ void scale(double *p, double s) { p[threadIdx.x] *= s; }
