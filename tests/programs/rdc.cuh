// rdc.cuh — what the two translation units of the rdc program share: device
// code that is defined in one unit and called from the other (needs -rdc=true
// and the device link step).
#pragma once

extern __device__ int rdc_calls;                   // rdc_lib.cu
__device__ int collatz_steps(long long v);         // rdc_lib.cu
__device__ float lerp3(float a, float b, float t); // rdc_lib.cu
__device__ int weight(int v, int i);               // rdc.cu
__global__ void apply_weight(int *x, int n);       // rdc_lib.cu
