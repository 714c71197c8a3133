/* ipc_peer.c — one side of the IPC pool test, run under rgpu-run.
 *   ipc_peer export   allocates 1 MiB filled with 0x1234abcd, prints its IPC
 *                     handle in hex and, on a second line, the handle of a
 *                     recorded interprocess event, waits for stdin to close, then
 *                     exits 0 only if an importer wrote 0xfeedface into its first word.
 *   ipc_peer import-event HEX   opens the event handle, prints "open R"; when
 *                     open, the event must be complete.
 *   ipc_peer import HEX   opens the handle and prints "open R" (the CUresult);
 *                     when open, checks the exporter's words, writes 0xfeedface
 *                     and closes it; exits 0 when every answer was consistent. */
#include <cuda.h>
#include <stdio.h>
#include <string.h>

#define N (256 * 1024)

static unsigned host[N];

static int setup(void)
{
    CUcontext ctx;
    return cuInit(0) || cuDevicePrimaryCtxRetain(&ctx, 0) || cuCtxSetCurrent(ctx);
}

static void print_hex(const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)b[i]);
    printf("\n");
}

static int parse_hex(const char *hex, char *b, size_t n)
{
    if (strlen(hex) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        b[i] = (char)v;
    }
    return 0;
}

static int export_side(void)
{
    CUdeviceptr p;
    CUipcMemHandle h;
    CUipcEventHandle eh;
    CUevent ev;
    if (setup() || cuMemAlloc(&p, N * sizeof *host) || cuMemsetD32(p, 0x1234abcd, N)) return 2;
    CUresult r = cuIpcGetMemHandle(&h, p);
    if (r) {
        printf("export %d\n", (int)r);
        return 3;
    }
    if (cuEventCreate(&ev, CU_EVENT_INTERPROCESS | CU_EVENT_DISABLE_TIMING) ||
        cuEventRecord(ev, NULL) || cuIpcGetEventHandle(&eh, ev))
        return 6;
    print_hex(h.reserved, sizeof h.reserved);
    print_hex(eh.reserved, sizeof eh.reserved);
    fflush(stdout);
    while (getchar() != EOF) {
    }
    if (cuMemcpyDtoH(host, p, N * sizeof *host)) return 4;
    return host[0] == 0xfeedface && host[1] == 0x1234abcd && host[N - 1] == 0x1234abcd ? 0 : 5;
}

static int import_side(const char *hex)
{
    CUipcMemHandle h;
    CUdeviceptr p;
    if (parse_hex(hex, h.reserved, sizeof h.reserved)) return 2;
    if (setup()) return 3;
    CUresult r = cuIpcOpenMemHandle(&p, h, CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS);
    printf("open %d\n", (int)r);
    fflush(stdout);
    if (r) return 0;
    if (cuMemcpyDtoH(host, p, N * sizeof *host)) return 4;
    for (int i = 0; i < N; i++)
        if (host[i] != 0x1234abcd) return 5;
    if (cuMemsetD32(p, 0xfeedface, 1) || cuCtxSynchronize()) return 6;
    if (cuIpcCloseMemHandle(p)) return 7;
    /* closed: the range is no longer the session's */
    return cuMemcpyDtoH(host, p, 4) == CUDA_ERROR_INVALID_VALUE ? 0 : 8;
}

static int import_event(const char *hex)
{
    CUipcEventHandle h;
    CUevent ev;
    if (parse_hex(hex, h.reserved, sizeof h.reserved)) return 2;
    if (setup()) return 3;
    CUresult r = cuIpcOpenEventHandle(&ev, h);
    printf("open %d\n", (int)r);
    fflush(stdout);
    if (r) return 0;
    return cuEventSynchronize(ev) || cuEventQuery(ev) || cuEventDestroy(ev) ? 4 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "export")) return export_side();
    if (argc == 3 && !strcmp(argv[1], "import")) return import_side(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "import-event")) return import_event(argv[2]);
    fprintf(stderr, "usage: ipc_peer export | import HEX | import-event HEX\n");
    return 2;
}
