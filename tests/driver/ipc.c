/* ipc.c — CUDA IPC between two processes: the test exports a large and a small
 * allocation and an interprocess event, then runs itself again (exec) as the
 * importer, which checks the exporter's bytes, writes its answer into the same
 * memory and records the event behind a stream wait the exporter releases. */
#include <cuda.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rgtest.h"

#define BIG (1u << 20)
#define SMALL 300u

struct handles {
    CUipcMemHandle big, small;
    CUipcEventHandle ev;
};

static void hex_put(char *out, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", ((const unsigned char *)p)[i]);
}

static int hex_get(const char *in, void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(in + 2 * i, "%2x", &v) != 1) return -1;
        ((unsigned char *)p)[i] = (unsigned char)v;
    }
    return 0;
}

/* ---- the importer: exits 0 when every step holds, else the failed step ---------- */

static int child_main(const char *hex, int fd)
{
    struct handles h;
    CUcontext c;
    CUdeviceptr big, big2, small, bogus;
    CUevent ev;
    CUstream s;
    static unsigned char buf[BIG];
    if (hex_get(hex, &h, sizeof h)) return 2;
    if (cuInit(0) || cuDevicePrimaryCtxRetain(&c, 0) || cuCtxSetCurrent(c)) return 3;
    /* freed memory first: the import may land where it was (an address the shim saw freed) */
    CUdeviceptr tmp;
    if (cuMemAlloc(&tmp, BIG) || cuMemFree(tmp)) return 28;
    if (cuIpcOpenMemHandle(&big, h.big, CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS)) return 4;
    if (big == tmp) fprintf(stderr, "ipc: the import is where freed memory was\n");
    if (cuIpcOpenMemHandle(&big2, h.big, 0) || big2 != big) return 5; /* counted, same pointer */
    if (cuIpcOpenMemHandle(&small, h.small, 0)) return 6;
    if (cuMemcpyDtoH(buf, big, BIG)) return 7;
    for (unsigned i = 0; i < BIG; i++)
        if (buf[i] != (unsigned char)(i * 7)) return 8;
    if (cuMemcpyDtoH(buf, small, SMALL)) return 9;
    for (unsigned i = 0; i < SMALL; i++)
        if (buf[i] != 0x5a) return 10;
    CUdeviceptr base;
    size_t size;
    if (cuMemGetAddressRange(&base, &size, small + 10) || base != small || size != SMALL) return 11;
    if (cuMemFree(big) != CUDA_ERROR_INVALID_VALUE) return 12; /* imports are closed, not freed */
    if (cuIpcCloseMemHandle(big)) return 13;                   /* one reference left */
    if (cuMemsetD8(big + BIG / 2, 0xc3, 4096) || cuMemsetD8(small, 0x11, SMALL)) return 14;
    CUipcMemHandle forged = h.big;
    forged.reserved[16] ^= 1; /* the nonce */
    if (cuIpcOpenMemHandle(&bogus, forged, 0) != CUDA_ERROR_INVALID_HANDLE) return 15;
    if (cuIpcOpenMemHandle(&bogus, h.big, 2) != CUDA_ERROR_INVALID_VALUE) return 16;
    if (cuIpcCloseMemHandle(small + 8) != CUDA_ERROR_INVALID_VALUE) return 17;
    /* the event: recorded here behind a wait on a flag the exporter sets */
    if (cuIpcOpenEventHandle(&ev, h.ev)) return 18;
    if (cuEventQuery(ev)) return 19; /* the exporter's record has completed */
    if (cuStreamCreate(&s, CU_STREAM_NON_BLOCKING)) return 20;
    if (cuStreamWaitValue32(s, big, 1, CU_STREAM_WAIT_VALUE_EQ) || cuEventRecord(ev, s)) return 21;
    /* a call that waits: the pipelined record has reached the driver */
    if (cuStreamQuery(s) != CUDA_ERROR_NOT_READY) return 27;
    if (write(fd, "w", 1) != 1) return 22;
    if (cuStreamSynchronize(s) || cuEventQuery(ev)) return 23;
    if (cuIpcCloseMemHandle(big) || cuIpcCloseMemHandle(small)) return 24;
    if (cuIpcCloseMemHandle(big) != CUDA_ERROR_INVALID_VALUE) return 25; /* closed */
    if (cuEventDestroy(ev) || cuStreamDestroy(s)) return 26;
    return 0;
}

__attribute__((constructor)) static void maybe_child(void)
{
    const char *hex = getenv("RG_IPC_HANDLES"), *fd = getenv("RG_IPC_FD");
    if (hex && fd) _exit(child_main(hex, atoi(fd)));
}

/* ---- the exporter ---------------------------------------------------------------- */

RG_TEST(memory_and_event_between_processes)
{
    CUcontext c;
    CUdeviceptr big, small, own;
    CUevent ev, plain;
    struct handles h;
    static unsigned char buf[BIG];
    char hex[2 * sizeof h + 1], fdtxt[16];
    int p[2];
    CHECK_CU(cuInit(0));
    CHECK_CU(cuDevicePrimaryCtxRetain(&c, 0));
    CHECK_CU(cuCtxSetCurrent(c));
    CHECK_CU(cuMemAlloc(&big, BIG));
    CHECK_CU(cuMemAlloc(&small, SMALL));
    for (unsigned i = 0; i < BIG; i++)
        buf[i] = (unsigned char)(i * 7);
    CHECK_CU(cuMemcpyHtoD(big, buf, BIG));
    CHECK_CU(cuMemsetD8(small, 0x5a, SMALL));
    CHECK_CU_IS(cuIpcGetMemHandle(NULL, big), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuIpcGetMemHandle(&h.big, 0x1000), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuIpcGetMemHandle(&h.big, big));
    CHECK_CU(cuIpcGetMemHandle(&h.small, small));
    /* the device pointers and the bytes did not move when the memory became shared */
    CHECK_CU(cuMemcpyDtoH(buf, big, BIG));
    CHECK(buf[1] == 7 && buf[BIG - 1] == (unsigned char)((BIG - 1) * 7));
    CHECK_CU_IS(cuIpcOpenMemHandle(&own, h.big, 0), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_CU(cuEventCreate(&plain, CU_EVENT_DISABLE_TIMING));
    CHECK_CU_IS(cuIpcGetEventHandle(&h.ev, plain), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU(cuEventCreate(&ev, CU_EVENT_INTERPROCESS | CU_EVENT_DISABLE_TIMING));
    CHECK_CU(cuEventRecord(ev, NULL));
    CHECK_CU(cuIpcGetEventHandle(&h.ev, ev));
    CHECK_CU(cuCtxSynchronize());

    hex_put(hex, &h, sizeof h);
    CHECK(pipe(p) == 0);
    snprintf(fdtxt, sizeof fdtxt, "%d", p[1]);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        setenv("RG_IPC_HANDLES", hex, 1);
        setenv("RG_IPC_FD", fdtxt, 1);
        execl("/proc/self/exe", "ipc-child", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    close(p[1]);
    char w = 0;
    CHECK(read(p[0], &w, 1) == 1 && w == 'w'); /* the importer recorded the event */
    close(p[0]);
    CHECK_CU_IS(cuEventQuery(ev), CUDA_ERROR_NOT_READY); /* its record waits for the flag */
    CHECK_CU(cuMemsetD32(big, 1, 1));
    CHECK_CU(cuEventSynchronize(ev)); /* returns once the importer's stream passed it */
    CHECK_CU(cuEventQuery(ev));
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    if (WEXITSTATUS(st)) fprintf(stderr, "importer failed at step %d\n", WEXITSTATUS(st));
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
    /* the importer's answer is in the exporter's memory */
    CHECK_CU(cuMemcpyDtoH(buf, big, BIG));
    CHECK(buf[BIG / 2] == 0xc3 && buf[BIG / 2 + 4095] == 0xc3);
    CHECK(buf[BIG / 2 - 1] == (unsigned char)((BIG / 2 - 1) * 7));
    CHECK(buf[BIG / 2 + 4096] == (unsigned char)((BIG / 2 + 4096) * 7));
    CHECK_CU(cuMemcpyDtoH(buf, small, SMALL));
    CHECK(buf[0] == 0x11 && buf[SMALL - 1] == 0x11);
    /* freed exported memory: a new allocation there starts private and zeroed */
    CHECK_CU(cuMemFree(big));
    CHECK_CU(cuMemFree(small));
    CHECK_CU(cuMemAlloc(&big, BIG));
    CHECK_CU(cuMemcpyDtoH(buf, big, 64));
    CHECK_CU(cuMemFree(big));
    CHECK_CU(cuEventDestroy(ev));
    CHECK_CU(cuEventDestroy(plain));
    CHECK_CU(cuDevicePrimaryCtxRelease(0));
}

RG_TEST(handles_refused)
{
    CUcontext c;
    CUdeviceptr p;
    CUevent e;
    CUipcMemHandle mh;
    CUipcEventHandle eh;
    CHECK_CU(cuInit(0));
    CHECK_CU(cuDevicePrimaryCtxRetain(&c, 0));
    CHECK_CU(cuCtxSetCurrent(c));
    memset(&mh, 0, sizeof mh);
    memset(&eh, 0, sizeof eh);
    CHECK_CU_IS(cuIpcOpenMemHandle(&p, mh, 0), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuIpcOpenMemHandle(NULL, mh, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_CU_IS(cuIpcOpenEventHandle(&e, eh), CUDA_ERROR_INVALID_HANDLE);
    CHECK_CU_IS(cuIpcCloseMemHandle(0), CUDA_ERROR_INVALID_VALUE);
    int v = 0;
    CHECK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_IPC_EVENT_SUPPORTED, 0));
    CHECK_EQ_INT(v, 1);
    CHECK_CU(cuDevicePrimaryCtxRelease(0));
}

RG_TEST_MAIN()
