/* backend.c — dlopen of the backend and the per-op libffi interfaces. Scalar
 * kinds map to ffi types; a struct passed by value becomes an ffi struct of
 * integer members with the descriptor's size and alignment. */
#include "backend.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define SYM(field, name)                                                                           \
    do {                                                                                           \
        if (!(*(void **)&b->field = dlsym(b->dl, name))) {                                         \
            snprintf(why, len, "backend lacks %s", name);                                          \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

int backend_load(struct backend *b, const char *lib, char *why, size_t len)
{
    memset(b, 0, sizeof *b);
    if (!(b->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL))) {
        snprintf(why, len, "cannot load the backend %s: %s", lib, dlerror());
        return -1;
    }
    SYM(cuInit, "cuInit");
    SYM(cuDriverGetVersion, "cuDriverGetVersion");
    SYM(cuDeviceGetCount, "cuDeviceGetCount");
    SYM(cuDeviceGet, "cuDeviceGet");
    SYM(cuDeviceGetName, "cuDeviceGetName");
    SYM(cuDeviceGetUuid, "cuDeviceGetUuid");
    SYM(cuDeviceTotalMem, "cuDeviceTotalMem_v2");
    SYM(cuDeviceGetAttribute, "cuDeviceGetAttribute");
    SYM(cuCtxSetCurrent, "cuCtxSetCurrent");
    SYM(cuCtxGetCurrent, "cuCtxGetCurrent");
    SYM(cuCtxDestroy, "cuCtxDestroy_v2");
    SYM(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    SYM(cuStreamCreate, "cuStreamCreate");
    SYM(cuStreamDestroy, "cuStreamDestroy_v2");
    SYM(cuMemFree, "cuMemFree_v2");
    SYM(cuMemUnmap, "cuMemUnmap");
    SYM(cuMemAddressFree, "cuMemAddressFree");
    SYM(cuStreamIsCapturing, "cuStreamIsCapturing");
    *(void **)&b->cuMemHostRegister = dlsym(b->dl, "cuMemHostRegister_v2");
    *(void **)&b->cuMemcpyDtoHAsync = dlsym(b->dl, "cuMemcpyDtoHAsync_v2");
    *(void **)&b->cuStreamSynchronize = dlsym(b->dl, "cuStreamSynchronize");
    return 0;
}

static ffi_type *scalar_type(unsigned s)
{
    switch (s) {
    case RPC_S_U8: return &ffi_type_uint8;
    case RPC_S_S8: return &ffi_type_sint8;
    case RPC_S_U16: return &ffi_type_uint16;
    case RPC_S_S16: return &ffi_type_sint16;
    case RPC_S_U32: return &ffi_type_uint32;
    case RPC_S_S32: return &ffi_type_sint32;
    case RPC_S_U64: return &ffi_type_uint64;
    case RPC_S_S64: return &ffi_type_sint64;
    case RPC_S_F32: return &ffi_type_float;
    case RPC_S_F64: return &ffi_type_double;
    case RPC_S_PTR: return &ffi_type_pointer;
    default: return NULL;
    }
}

/* A by-value struct: members of the descriptor's alignment filling its size. */
static ffi_type *struct_type(struct backend_fn *f, int i, const struct rpc_arg_desc *a)
{
    unsigned al = a->align ? a->align : 1, n = a->size / al;
    if (n > 16 && a->size % 8 == 0) { /* over 16 bytes it goes in memory: only the size counts */
        al = 8;                       /* (CUipcMemHandle: char[64]) */
        n = a->size / 8;
    }
    if (al > 8 || (al & (al - 1)) || n == 0 || n > 16 || n * al != a->size) return NULL;
    ffi_type *m = al == 8 ? &ffi_type_uint64 : al == 4 ? &ffi_type_uint32
                : al == 2 ? &ffi_type_uint16 : &ffi_type_uint8;
    for (unsigned k = 0; k < n; k++) f->elems[i][k] = m;
    f->elems[i][n] = NULL;
    f->structs[i] = (ffi_type){.size = 0, .alignment = 0, .type = FFI_TYPE_STRUCT,
                               .elements = f->elems[i]};
    return &f->structs[i];
}

static int by_value(unsigned kind)
{
    return kind == RPC_ARG_VALUE || kind == RPC_ARG_HANDLE || kind == RPC_ARG_DEVPTR;
}

static int build_cif(struct backend_fn *f, const struct rpc_call_desc *d)
{
    if (d->nargs > RPC_MAX_ARGS) return -1;
    for (int i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (!by_value(a->kind)) f->types[i] = &ffi_type_pointer;
        else if (a->scalar == RPC_S_STRUCT) f->types[i] = struct_type(f, i, a);
        else f->types[i] = scalar_type(a->scalar);
        if (!f->types[i]) return -1;
    }
    return ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, d->nargs, &ffi_type_sint, f->types) == FFI_OK
               ? 0 : -1;
}

static pthread_mutex_t fn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct backend_fn **fns; /* by op */
static size_t nfns;

struct backend_fn *backend_fn(struct backend *b, const struct rpc_call_desc *d, const char *name)
{
    struct backend_fn *f = NULL;
    pthread_mutex_lock(&fn_lock);
    if (d->op >= nfns) {
        size_t n = d->op + 256;
        struct backend_fn **v = realloc(fns, n * sizeof *v);
        if (!v) goto out;
        memset(v + nfns, 0, (n - nfns) * sizeof *v);
        fns = v;
        nfns = n;
    }
    if (!fns[d->op] && !(fns[d->op] = calloc(1, sizeof **fns))) goto out;
    f = fns[d->op];
    if (f->state == 0) {
        *(void **)&f->fn = dlsym(b->dl, name);
        f->state = f->fn && build_cif(f, d) == 0 ? 1 : -1;
        if (f->state < 0) srv_warn("%s: not available in the backend", name);
    }
    if (f->state < 0) f = NULL;
out:
    pthread_mutex_unlock(&fn_lock);
    return f;
}

CUresult backend_call(struct backend_fn *f, void **avalues)
{
    ffi_arg rv = 0;
    ffi_call(&f->cif, f->fn, &rv, avalues);
    return (CUresult)(int)rv;
}
