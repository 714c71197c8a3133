/* memset.c — cuMemsetD8/16/32 and their 2D, async, _ptds and _ptsz forms.
 * The destination range is validated against the allocation table; the fill
 * is an op on the stream (asynchronous to the host like the driver's). */
#include <string.h>

#include "core.h"

#define ANY_DEV (SIM_MEM_DEVICE | SIM_MEM_HOST | SIM_MEM_REGISTERED | SIM_MEM_MANAGED | SIM_MEM_VMM)

struct set_op {
    uintptr_t dst;
    size_t pitch, width, height; /* width in elements */
    unsigned elem;               /* 1, 2 or 4 bytes */
    uint32_t value;
};

static CUresult op_set(void *p)
{
    struct set_op *o = p;
    for (size_t y = 0; y < o->height; y++) {
        unsigned char *row = (unsigned char *)(o->dst + y * o->pitch);
        if (o->elem == 1) {
            memset(row, (int)(o->value & 0xff), o->width);
        } else if (o->elem == 2) {
            uint16_t v = (uint16_t)o->value, *d = (uint16_t *)row;
            for (size_t i = 0; i < o->width; i++)
                d[i] = v;
        } else {
            uint32_t v = o->value, *d = (uint32_t *)row;
            for (size_t i = 0; i < o->width; i++)
                d[i] = v;
        }
    }
    return CUDA_SUCCESS;
}

static CUresult memset_2d(CUdeviceptr dst, size_t pitch, uint32_t value, unsigned elem, size_t w,
                          size_t h, CUstream hs, bool pt, bool sync)
{
    struct sim_stream *s;
    CUresult r = sim_stream_resolve(hs, pt, &s, NULL);
    if (r) return r;
    if (dst % elem) return CUDA_ERROR_INVALID_VALUE;
    if (!w || !h) return CUDA_SUCCESS;
    size_t row, ext;
    if (__builtin_mul_overflow(w, (size_t)elem, &row)) return CUDA_ERROR_INVALID_VALUE;
    if (h > 1 && (pitch < row || pitch % elem)) return CUDA_ERROR_INVALID_VALUE;
    if (__builtin_mul_overflow(h - 1, pitch, &ext) || __builtin_add_overflow(ext, row, &ext))
        return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_mem_check((uintptr_t)dst, ext, ANY_DEV))) return r;
    if (sync && (r = sim_stream_check_sync_call(s))) return r;
    struct set_op o = {(uintptr_t)dst, h > 1 ? pitch : row, w, h, elem, value};
    /* A synchronous form with nothing queued ahead fills at once, on the
     * calling thread: then programs that race it against other streams (fine
     * on a GPU, where it is done within microseconds) see it done. */
    if (sync && sim_stream_idle_for_sync(s)) {
        op_set(&o);
        return (CUresult)atomic_load(&sim_stream_ctx(s)->sticky);
    }
    if ((r = sim_stream_enqueue(s, op_set, &o, sizeof o))) return r;
    /* The synchronous forms return once the fill is done for host-resident
     * targets; device fills are asynchronous like the driver's. */
    struct sim_alloc a;
    if (sync && sim_mem_lookup((uintptr_t)dst, &a) &&
        (a.kind & (SIM_MEM_HOST | SIM_MEM_REGISTERED | SIM_MEM_MANAGED)))
        return sim_stream_synchronize(s);
    return CUDA_SUCCESS;
}

#define SET1D(name, elem, T, pt, sync)                                                             \
    CUresult name(CUdeviceptr d, T v, size_t n)                                                    \
    {                                                                                              \
        return memset_2d(d, 0, (uint32_t)v, elem, n, 1, NULL, pt, sync);                           \
    }
#define SET1DA(name, elem, T, pt)                                                                  \
    CUresult name(CUdeviceptr d, T v, size_t n, CUstream h)                                        \
    {                                                                                              \
        return memset_2d(d, 0, (uint32_t)v, elem, n, 1, h, pt, false);                             \
    }
#define SET2D(name, elem, T, pt, sync)                                                             \
    CUresult name(CUdeviceptr d, size_t p, T v, size_t w, size_t h)                                \
    {                                                                                              \
        return memset_2d(d, p, (uint32_t)v, elem, w, h, NULL, pt, sync);                           \
    }
#define SET2DA(name, elem, T, pt)                                                                  \
    CUresult name(CUdeviceptr d, size_t p, T v, size_t w, size_t h, CUstream s)                    \
    {                                                                                              \
        return memset_2d(d, p, (uint32_t)v, elem, w, h, s, pt, false);                             \
    }

SET1D(cuMemsetD8_v2, 1, unsigned char, false, true)
SET1D(cuMemsetD8_v2_ptds, 1, unsigned char, true, true)
SET1D(cuMemsetD16_v2, 2, unsigned short, false, true)
SET1D(cuMemsetD16_v2_ptds, 2, unsigned short, true, true)
SET1D(cuMemsetD32_v2, 4, unsigned int, false, true)
SET1D(cuMemsetD32_v2_ptds, 4, unsigned int, true, true)
SET1DA(cuMemsetD8Async, 1, unsigned char, false)
SET1DA(cuMemsetD8Async_ptsz, 1, unsigned char, true)
SET1DA(cuMemsetD16Async, 2, unsigned short, false)
SET1DA(cuMemsetD16Async_ptsz, 2, unsigned short, true)
SET1DA(cuMemsetD32Async, 4, unsigned int, false)
SET1DA(cuMemsetD32Async_ptsz, 4, unsigned int, true)
SET2D(cuMemsetD2D8_v2, 1, unsigned char, false, true)
SET2D(cuMemsetD2D8_v2_ptds, 1, unsigned char, true, true)
SET2D(cuMemsetD2D16_v2, 2, unsigned short, false, true)
SET2D(cuMemsetD2D16_v2_ptds, 2, unsigned short, true, true)
SET2D(cuMemsetD2D32_v2, 4, unsigned int, false, true)
SET2D(cuMemsetD2D32_v2_ptds, 4, unsigned int, true, true)
SET2DA(cuMemsetD2D8Async, 1, unsigned char, false)
SET2DA(cuMemsetD2D8Async_ptsz, 1, unsigned char, true)
SET2DA(cuMemsetD2D16Async, 2, unsigned short, false)
SET2DA(cuMemsetD2D16Async_ptsz, 2, unsigned short, true)
SET2DA(cuMemsetD2D32Async, 4, unsigned int, false)
SET2DA(cuMemsetD2D32Async_ptsz, 4, unsigned int, true)
