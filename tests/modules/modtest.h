/* modtest.h — helpers shared by the module/launch tests: a current context,
 * test data built by nvcc, embedded PTX, capturing stdout. Public cuda.h only,
 * so the tests run unchanged against any libcuda.so.1. */
#ifndef MODTEST_H
#define MODTEST_H

#include <cuda.h>
#include <stddef.h>

#include "rgtest.h"

/* cuInit, then the primary context of device 0 made current; NULL on failure. */
CUcontext mt_ctx(void);
/* A file of the nvcc-built test data (malloc'd, NUL-terminated), or NULL. */
char *mt_read(const char *name, size_t *size);
/* Full path of a test data file (static buffer). */
const char *mt_path(const char *name);
/* Run fn(arg) with stdout (fd 1) or stderr (fd 2) redirected; returns what
 * was written (malloc'd). */
char *mt_capture(int fd, void (*fn)(void *), void *arg);
#define mt_capture_stdout(fn, arg) mt_capture(1, fn, arg)

#define MT_NEED_NVCC()                                                                             \
    do {                                                                                           \
        if (!MOD_HAVE_NVCC) RG_SKIP("nvcc was not available when the tests were built");           \
    } while (0)

#define MT_CTX()                                                                                   \
    do {                                                                                           \
        if (!mt_ctx()) RG_FAIL("no context on device 0");                                          \
    } while (0)

/* Hand-written PTX: add_k(u32 *p, u32 n) adds the constant c_k (5) to p[i];
 * nop(); variables g_val (visible, 7), g_arr (file-local, 1..8), c_k. */
extern const char mt_ptx_basic[];
/* .target sm_120: one empty kernel e120. */
extern const char mt_ptx_sm120[];
/* Two units to link: use_twice(u32 *p) p[0] = twice(p[0]) + $tag (1) where
 * twice(x) = 2x + $tag (1000) of the other unit. */
extern const char mt_ptx_link_x[];
extern const char mt_ptx_link_y[];

/* __fatBinC_Wrapper_t as nvcc lays it out. */
typedef struct {
    int magic;
    int version;
    const void *data;
    const void *const *prelinked; /* version 2: NULL-terminated array of containers */
} mt_fatbin_wrapper;
#define MT_FATBINC_MAGIC 0x466243B1

#endif
