/* tiny.c — a small CUDA program for the pool tests: run under rgpu-run, it
 * fills and reads back device memory, says "ready", waits for its standard
 * input to close (so a test sees it in rgpuctl status while it runs), checks
 * its memory again and exits 0 only if every answer was right. */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define N (256 * 1024)

static int fail(const char *what, CUresult r)
{
    fprintf(stderr, "tiny: %s failed: %d\n", what, (int)r);
    return 1;
}

int main(void)
{
    CUdevice dev;
    CUcontext ctx;
    CUdeviceptr p;
    CUresult r;
    static unsigned host[N];
    unsigned seed = (unsigned)getpid();
    if ((r = cuInit(0))) return fail("cuInit", r);
    if ((r = cuDeviceGet(&dev, 0))) return fail("cuDeviceGet", r);
    if ((r = cuDevicePrimaryCtxRetain(&ctx, dev))) return fail("cuDevicePrimaryCtxRetain", r);
    if ((r = cuCtxSetCurrent(ctx))) return fail("cuCtxSetCurrent", r);
    if ((r = cuMemAlloc(&p, N * sizeof *host))) return fail("cuMemAlloc", r);
    if ((r = cuMemsetD32(p, seed, N))) return fail("cuMemsetD32", r);
    if ((r = cuMemcpyDtoH(host, p, N * sizeof *host))) return fail("cuMemcpyDtoH", r);
    for (int i = 0; i < N; i++)
        if (host[i] != seed) return fail("the bytes read back", CUDA_ERROR_UNKNOWN);
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF) {
    }
    host[0] = 0;
    if ((r = cuMemcpyDtoH(host, p, sizeof *host)) || host[0] != seed)
        return fail("the second read", r);
    if ((r = cuMemFree(p))) return fail("cuMemFree", r);
    if ((r = cuDevicePrimaryCtxRelease(dev))) return fail("cuDevicePrimaryCtxRelease", r);
    return 0;
}
