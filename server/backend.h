/* backend.h — the worker's view of the backend libcuda.so.1: loaded with
 * dlopen, each exported function looked up once per op and called through a
 * libffi call interface built once per op from the call's descriptor (a few
 * hot ops are called through their own prototypes). */
#ifndef RG_SRV_BACKEND_H
#define RG_SRV_BACKEND_H

#include <cuda.h>
#include <ffi.h>

#include "calls.h"

/* The few entry points the worker itself calls (handshake, contexts, cleanup). */
struct backend {
    void *dl;
    CUresult (*cuInit)(unsigned);
    CUresult (*cuDriverGetVersion)(int *);
    CUresult (*cuDeviceGetCount)(int *);
    CUresult (*cuDeviceGet)(CUdevice *, int);
    CUresult (*cuDeviceGetName)(char *, int, CUdevice);
    CUresult (*cuDeviceGetUuid)(CUuuid *, CUdevice);
    CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
    CUresult (*cuDeviceGetAttribute)(int *, CUdevice_attribute, CUdevice);
    CUresult (*cuCtxSetCurrent)(CUcontext);
    CUresult (*cuCtxGetCurrent)(CUcontext *);
    CUresult (*cuCtxDestroy)(CUcontext);
    CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
    CUresult (*cuStreamCreate)(CUstream *, unsigned);
    CUresult (*cuStreamDestroy)(CUstream);
    CUresult (*cuMemFree)(CUdeviceptr);
    CUresult (*cuMemUnmap)(CUdeviceptr, size_t);
    CUresult (*cuMemAddressFree)(CUdeviceptr, size_t);
    CUresult (*cuStreamIsCapturing)(CUstream, CUstreamCaptureStatus *);
    /* optional (NULL if missing): bulk.c's page-locked staging */
    CUresult (*cuMemHostRegister)(void *, size_t, unsigned);
    CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
    CUresult (*cuStreamSynchronize)(CUstream);
};

/* Loads lib and resolves the entry points above. 0, or -1 with why[] filled. */
int backend_load(struct backend *b, const char *lib, char *why, size_t len);

/* A callable op: symbol + call interface, built on first use. */
struct backend_fn {
    void (*fn)(void);
    ffi_cif cif;
    ffi_type *types[RPC_MAX_ARGS];
    ffi_type structs[RPC_MAX_ARGS];
    ffi_type *elems[RPC_MAX_ARGS][17];
    int state; /* 1 ready, -1 missing in the backend */
    /* a hot op called through its own prototype instead of libffi (backend.c) */
    CUresult (*typed)(void (*fn)(void), void **avalues);
};

/* The op's function (symbol `name`: the plain variant for _ptsz/_ptds), or
 * NULL if the backend lacks it. Thread-safe. */
struct backend_fn *backend_fn(struct backend *b, const struct rpc_call_desc *d, const char *name);
/* Calls it with avalues; returns the CUresult. */
CUresult backend_call(struct backend_fn *f, void **avalues);

#endif
