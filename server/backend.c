/* backend.c — dlopen of the backend and the per-op libffi interfaces. Scalar
 * kinds map to ffi types; a struct passed by value becomes an ffi struct of
 * integer members with the descriptor's size and alignment. */
#include "backend.h"

#include <dlfcn.h>
#include <stdatomic.h>
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

/* ---- typed calls for the hottest ops ------------------------------------------------ */

/* libffi works out where every argument goes on each call: for a launch's eleven
 * that was about half of a session lane's time in a loop of launches. The ops
 * here are called through their own prototypes (cuda.h's) instead, once their
 * descriptor is seen to give each argument the type that prototype takes;
 * anything else goes through libffi. */
typedef CUresult CUDAAPI launch_fn(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                                   unsigned, unsigned, CUstream, void **, void **);
typedef CUresult CUDAAPI launch_ex_fn(const CUlaunchConfig *, CUfunction, void **, void **);

static CUresult call_launch(void (*fn)(void), void **av)
{
    return ((launch_fn *)fn)(*(CUfunction *)av[0], *(unsigned *)av[1], *(unsigned *)av[2],
                             *(unsigned *)av[3], *(unsigned *)av[4], *(unsigned *)av[5],
                             *(unsigned *)av[6], *(unsigned *)av[7], *(CUstream *)av[8],
                             *(void ***)av[9], *(void ***)av[10]);
}

static CUresult call_launch_ex(void (*fn)(void), void **av)
{
    return ((launch_ex_fn *)fn)(*(const CUlaunchConfig **)av[0], *(CUfunction *)av[1],
                                *(void ***)av[2], *(void ***)av[3]);
}

#define P_ &ffi_type_pointer
#define U_ &ffi_type_uint32
static const struct typed {
    const char *name; /* the backend's symbol (a _ptsz variant calls the plain one) */
    CUresult (*call)(void (*)(void), void **);
    int nargs;
    ffi_type *types[RPC_MAX_ARGS];
} typed[] = {
    {"cuLaunchKernel", call_launch, 11, {P_, U_, U_, U_, U_, U_, U_, U_, P_, P_, P_}},
    {"cuLaunchKernelEx", call_launch_ex, 4, {P_, P_, P_, P_}},
};
#undef P_
#undef U_

static CUresult (*typed_call(const struct backend_fn *f, int nargs, const char *name))(
    void (*)(void), void **)
{
    for (size_t i = 0; i < sizeof typed / sizeof *typed; i++) {
        const struct typed *t = &typed[i];
        if (strcmp(t->name, name)) continue;
        if (t->nargs != nargs || memcmp(t->types, f->types, nargs * sizeof *f->types)) {
            srv_warn("%s: descriptor and prototype differ; called through libffi", name);
            return NULL;
        }
        return t->call;
    }
    return NULL;
}

/* ---- the per-op table ------------------------------------------------------------------ */

/* By op, sized once for the whole call table: a resolved entry is read without
 * the lock (published with release once its state is final). */
static pthread_mutex_t fn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fns_once = PTHREAD_ONCE_INIT;
static struct backend_fn *_Atomic *fns;

static void fns_alloc(void)
{
    fns = calloc(rpc_ncalls + 1, sizeof *fns);
}

struct backend_fn *backend_fn(struct backend *b, const struct rpc_call_desc *d, const char *name)
{
    pthread_once(&fns_once, fns_alloc);
    if (!fns || d->op > rpc_ncalls) return NULL;
    struct backend_fn *f = atomic_load_explicit(&fns[d->op], memory_order_acquire);
    if (f) return f->state > 0 ? f : NULL;
    pthread_mutex_lock(&fn_lock);
    if (!(f = atomic_load_explicit(&fns[d->op], memory_order_relaxed)) &&
        (f = calloc(1, sizeof *f))) {
        *(void **)&f->fn = dlsym(b->dl, name);
        f->state = f->fn && build_cif(f, d) == 0 ? 1 : -1;
        if (f->state > 0) f->typed = typed_call(f, d->nargs, name);
        if (f->state < 0) srv_warn("%s: not available in the backend", name);
        atomic_store_explicit(&fns[d->op], f, memory_order_release);
    }
    pthread_mutex_unlock(&fn_lock);
    return f && f->state > 0 ? f : NULL;
}

CUresult backend_call(struct backend_fn *f, void **avalues)
{
    if (f->typed) return f->typed(f->fn, avalues);
    ffi_arg rv = 0;
    ffi_call(&f->cif, f->fn, &rv, avalues);
    return (CUresult)(int)rv;
}
