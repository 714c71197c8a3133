/* remote.h — helpers shared by the remoting tests: a context on device 0, a
 * monotonic clock, a small kernel, PTX byte arrays and what a stream of this
 * process receives. The tests run under with-rgpud.sh (RGPU_SERVER set). */
#ifndef RG_TEST_REMOTE_H
#define RG_TEST_REMOTE_H

#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rgtest.h"

static inline double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PTX of fill(u32 *out): each thread stores its index in blocks of 64,
 * out[ctaid.x * 64 + tid.x] = ctaid.x * 64 + tid.x. */
#define RT_FILL_PTX                                                                                \
    ".version 8.0\n.target sm_80\n.address_size 64\n"                                              \
    ".visible .entry fill(.param .u64 out)\n{\n"                                                   \
    " .reg .b64 %rd<4>;\n .reg .b32 %r<3>;\n"                                                      \
    " ld.param.u64 %rd1, [out];\n cvta.to.global.u64 %rd1, %rd1;\n"                                \
    " mov.u32 %r1, %tid.x;\n mov.u32 %r2, %ctaid.x;\n"                                             \
    " mad.lo.u32 %r2, %r2, 64, %r1;\n"                                                             \
    " mul.wide.u32 %rd2, %r2, 4;\n add.u64 %rd3, %rd1, %rd2;\n"                                    \
    " st.global.u32 [%rd3], %r2;\n ret;\n}\n"

/* cuInit + the primary context of device 0 made current; 0 on success. */
static inline CUresult rt_setup(CUcontext *ctx)
{
    CUresult r = cuInit(0);
    if (r == CUDA_SUCCESS) r = cuDevicePrimaryCtxRetain(ctx, 0);
    if (r == CUDA_SUCCESS) r = cuCtxSetCurrent(*ctx);
    return r;
}

/* The bytes of s and its NUL as a PTX initialiser ("65, 66, 0") in out;
 * the length written. */
static inline size_t rt_ptx_bytes(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i <= strlen(s); i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%d", i ? ", " : "", (unsigned char)s[i]);
    return n;
}

/* stream's descriptor pointed at a temporary file until rt_capture_end: that
 * file (NULL if none could be made) and the saved descriptor in *saved. */
static inline FILE *rt_capture_begin(FILE *stream, int *saved)
{
    FILE *tmp = tmpfile();
    if (!tmp) return NULL;
    fflush(stream);
    *saved = dup(fileno(stream));
    dup2(fileno(tmp), fileno(stream));
    return tmp;
}

/* stream's descriptor given back; what was written to it meanwhile, NUL-
 * terminated (caller frees). tmp is closed. */
static inline char *rt_capture_end(FILE *stream, int saved, FILE *tmp)
{
    fflush(stream);
    dup2(saved, fileno(stream));
    close(saved);
    long n = (fseek(tmp, 0, SEEK_END), ftell(tmp));
    char *out = calloc(1, n > 0 ? (size_t)n + 1 : 1);
    if (out && n > 0) {
        rewind(tmp);
        size_t got = fread(out, 1, (size_t)n, tmp);
        out[got] = 0;
    }
    fclose(tmp);
    return out;
}

#endif
