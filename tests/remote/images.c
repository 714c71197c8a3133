/* images.c — code images through the image cache (tests/remote/images.sh):
 * for each K given, a PTX module whose kernel stores K, padded with a comment
 * to SIZE bytes, is written to DIR/ptx-K.ptx (for the script's own SHA-256),
 * loaded twice in one session (the second load goes by hash) and run; the
 * values the kernels stored are checked.
 * usage: remote_images DIR SIZE K... */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        CUresult r_ = (x);                                                                         \
        if (r_ != CUDA_SUCCESS) {                                                                  \
            fprintf(stderr, "FAIL %s:%d: %s = %d\n", __FILE__, __LINE__, #x, (int)r_);             \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* PTX text of `size` bytes (plus its NUL) whose kernel stores k. */
static char *make_ptx(unsigned k, size_t size)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     ".version 8.0\n.target sm_80\n.address_size 64\n"
                     ".visible .entry set_value(.param .u64 p)\n{\n"
                     "\t.reg .u64 %%rd<2>;\n\t.reg .u32 %%r<2>;\n"
                     "\tld.param.u64 %%rd0, [p];\n\tcvta.to.global.u64 %%rd1, %%rd0;\n"
                     "\tmov.u32 %%r0, %u;\n\tst.global.u32 [%%rd1], %%r0;\n\tret;\n}\n",
                     k);
    if (size < (size_t)n + 4) size = (size_t)n + 4;
    char *t = malloc(size + 1);
    if (!t) return NULL;
    memcpy(t, head, (size_t)n);
    memcpy(t + n, "//", 2); /* one comment line to the end */
    for (size_t i = (size_t)n + 2; i < size - 1; i++)
        t[i] = (char)('a' + (i + k) % 26);
    t[size - 1] = '\n';
    t[size] = 0;
    return t;
}

static int run(CUmodule m, CUdeviceptr out, unsigned k)
{
    CUfunction f;
    unsigned got = 0;
    void *args[] = {&out};
    CHECK(cuModuleGetFunction(&f, m, "set_value"));
    CHECK(cuMemsetD32(out, 0, 1));
    CHECK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL));
    CHECK(cuMemcpyDtoH(&got, out, sizeof got));
    if (got != k) {
        fprintf(stderr, "FAIL: kernel of image %u stored %u\n", k, got);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    CUcontext ctx;
    CUdeviceptr out;
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR SIZE K...\n", argv[0]);
        return 2;
    }
    size_t size = strtoul(argv[2], NULL, 0);
    CHECK(cuInit(0));
    CHECK(cuDevicePrimaryCtxRetain(&ctx, 0));
    CHECK(cuCtxSetCurrent(ctx));
    CHECK(cuMemAlloc(&out, 4));
    for (int i = 3; i < argc; i++) {
        unsigned k = (unsigned)strtoul(argv[i], NULL, 0);
        char path[4096], *ptx = make_ptx(k, size);
        snprintf(path, sizeof path, "%s/ptx-%u.ptx", argv[1], k);
        FILE *f = fopen(path, "w");
        if (!ptx || !f || fwrite(ptx, 1, strlen(ptx), f) != strlen(ptx) || fclose(f)) {
            fprintf(stderr, "FAIL: cannot write %s\n", path);
            return 1;
        }
        CUmodule a, b;
        CHECK(cuModuleLoadData(&a, ptx));
        CHECK(cuModuleLoadData(&b, ptx)); /* the same image again in this session */
        if (run(a, out, k) || run(b, out, k)) return 1;
        CHECK(cuModuleUnload(a));
        CHECK(cuModuleUnload(b));
        free(ptx);
    }
    CHECK(cuMemFree(out));
    CHECK(cuDevicePrimaryCtxRelease(0));
    printf("images: %d module(s) loaded twice and run\n", argc - 3);
    return 0;
}
