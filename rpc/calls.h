/* calls.h — the table-driven description of every CUDA driver function rgpu
 * knows, generated at build time by rpc/gen/gen_calls.py from cuda.h (read with
 * __CUDA_API_VERSION_INTERNAL) plus the hand-written annotations in
 * rpc/cuda.annot, and the generic codec that moves a call's arguments between
 * the client shim and the session worker using those descriptors.
 *
 * The shim's generated entry points pack their arguments as `void *args[]`
 * (args[i] points at argument i, as libffi wants it) and hand them to the
 * codec; the worker decodes into the same shape, translates handles and checks
 * pointers, and calls the backend through libffi with the descriptor's types.
 * No pointer value from the client is ever dereferenced by the worker. */
#ifndef RG_RPC_CALLS_H
#define RG_RPC_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"

#define RPC_MAX_ARGS 24

/* How a function is handled. */
enum rpc_call_class {
    RPC_CLASS_FORWARD = 1, /* encoded generically and run by the worker */
    RPC_CLASS_CUSTOM,      /* forwarded, with a hand-written marshaller (annotation `custom`) */
    RPC_CLASS_CLIENT,      /* handled inside the shim, never sent (annotation `client`) */
    RPC_CLASS_UNSUPPORTED, /* CUDA_ERROR_NOT_SUPPORTED + one log line (annotation `unsupported`
                              or no annotation and not generically forwardable) */
};

/* When the caller gets its answer (DESIGN rule 3). */
enum rpc_call_mode {
    RPC_MODE_SYNC = 1, /* waits for the worker's reply */
    RPC_MODE_ASYNC,    /* sent without waiting once validated locally; errors surface later */
    RPC_MODE_WAIT,     /* may block on device work (synchronise, sync copies): the worker
                          completes it off its main loop so other client threads go on */
};

/* What one parameter is. */
enum rpc_arg_kind {
    RPC_ARG_VALUE = 1,  /* scalar by value (ints, enums, sizes, floats, CUdeviceptr) */
    RPC_ARG_HANDLE,     /* a handle by value: an id on the wire, translated by the worker */
    RPC_ARG_DEVPTR,     /* CUdeviceptr by value, range-checked when `len` is given */
    RPC_ARG_OUT,        /* T *: one scalar written by the call (sent back in the reply) */
    RPC_ARG_OUT_HANDLE, /* H *: a handle the call creates (id minted as `mint` says) */
    RPC_ARG_IN_BUF,     /* const void * / const T *: `len` bytes sent with the call */
    RPC_ARG_OUT_BUF,    /* void * / T *: `len` bytes the call writes, sent back */
    RPC_ARG_INOUT_BUF,  /* both */
    RPC_ARG_STRING,     /* const char *: NUL-terminated, at most RPC_MAX_STRING bytes */
    RPC_ARG_HANDLE_ARRAY_IN,  /* const H *: `len` handles (count, not bytes) */
    RPC_ARG_HANDLE_ARRAY_OUT, /* H *: `len` handles written by the call */
    RPC_ARG_NULL,       /* reserved pointer parameter the driver requires to be NULL/0 */
    RPC_ARG_CUSTOM,     /* marshalled by the hand-written code named in the annotation */
};

#define RPC_MAX_STRING 4096

/* Scalar encodings (also select the libffi type on the worker). */
enum rpc_scalar {
    RPC_S_U8 = 1, RPC_S_S8, RPC_S_U16, RPC_S_S16, RPC_S_U32, RPC_S_S32,
    RPC_S_U64, RPC_S_S64, RPC_S_F32, RPC_S_F64,
    RPC_S_PTR,    /* a pointer-sized opaque value (handles, host pointers never sent) */
    RPC_S_STRUCT, /* a struct passed by value (e.g. CUuuid-sized): `size` bytes, ffi struct */
};

/* Handle types, each with the driver's error code for a bad value (DESIGN rule 1). */
enum rpc_handle_type {
    RPC_H_NONE = 0,
    RPC_H_CONTEXT,      /* CUcontext: CUDA_ERROR_INVALID_CONTEXT */
    RPC_H_STREAM,       /* CUstream: NULL, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD kept */
    RPC_H_EVENT,
    RPC_H_MODULE,
    RPC_H_FUNCTION,     /* CUfunction; a CUkernel id is accepted too */
    RPC_H_LIBRARY,
    RPC_H_KERNEL,
    RPC_H_LINKSTATE,
    RPC_H_GRAPH,
    RPC_H_GRAPH_NODE,
    RPC_H_GRAPH_EXEC,
    RPC_H_MEMPOOL,
    RPC_H_MEM_HANDLE,   /* CUmemGenericAllocationHandle (an integer in cuda.h) */
    RPC_H_ARRAY,
    RPC_H_MIPMAPPED_ARRAY,
    RPC_H_TEXOBJ,       /* CUtexObject (integer) */
    RPC_H_SURFOBJ,
    RPC_H_USER_OBJECT,
    RPC_H_GREEN_CTX,
    RPC_H_DEVICE,       /* CUdevice ordinal (an int): virtualised by the session */
    RPC_H_COUNT
};

/* Who gives a created handle its id. */
enum rpc_mint {
    RPC_MINT_NONE = 0,
    RPC_MINT_CLIENT, /* the shim mints the id and sends it; the call can be pipelined */
    RPC_MINT_SERVER, /* the driver made the object on its own (capture graphs, default pools,
                        cuFuncGetModule, …): the worker mints the id and returns it */
};

/* A length: how many bytes (or elements) a buffer argument has.
 * value = (kind == CONST ? k : arg[a] * (b == 0xff ? 1 : arg[b])) * k  for MUL kinds. */
enum rpc_len_kind {
    RPC_LEN_NONE = 0,
    RPC_LEN_CONST,    /* k */
    RPC_LEN_ARG,      /* value of argument a (scalar by value, or *OUT scalar a for outputs) */
    RPC_LEN_ARG_MUL,  /* arg[a] * k */
    RPC_LEN_ARGS_MUL, /* arg[a] * arg[b] * k (2D sizes, element counts × element size) */
    RPC_LEN_SIZEOF,   /* sizeof the pointee (`size` of the arg) */
};

struct rpc_len {
    uint8_t kind; /* enum rpc_len_kind */
    uint8_t a, b; /* argument indices */
    uint32_t k;
};

struct rpc_arg_desc {
    const char *name;    /* as in cuda.h */
    const char *ctype;   /* C type text as in cuda.h, for logs and generated checks */
    uint8_t kind;        /* enum rpc_arg_kind */
    uint8_t scalar;      /* enum rpc_scalar of the value, or of the pointee for OUT */
    uint16_t size;       /* sizeof the value, or of the pointee (element) for pointers */
    uint16_t align;      /* alignof the same */
    uint8_t handle;      /* enum rpc_handle_type for HANDLE / OUT_HANDLE / arrays */
    uint8_t mint;        /* enum rpc_mint for OUT_HANDLE */
    struct rpc_len len;  /* for buffers, arrays and range-checked DEVPTR */
};

struct rpc_call_desc {
    uint32_t op;      /* stable within one build: index in rpc_calls[] + 1; 0 is invalid */
    const char *name; /* exported symbol, e.g. "cuMemAlloc_v2", "cuLaunchKernel_ptsz" */
    const char *base; /* base name, e.g. "cuMemAlloc" */
    uint8_t cls;      /* enum rpc_call_class */
    uint8_t mode;     /* enum rpc_call_mode */
    bool per_thread;  /* a _ptsz / _ptds variant: NULL stream = the thread's default stream */
    uint8_t nargs;
    const struct rpc_arg_desc *args;
    const char *custom; /* name of the hand-written marshaller, or NULL */
};

/* The generated table, sorted by name; rpc_calls[op - 1].op == op. */
extern const struct rpc_call_desc rpc_calls[];
extern const size_t rpc_ncalls;

const struct rpc_call_desc *rpc_call_by_op(uint32_t op);          /* NULL if out of range */
const struct rpc_call_desc *rpc_call_by_name(const char *name);   /* binary search */

/* Facts about a call that follow from its descriptor alone (is it a free, a
 * launch, which marshaller, ...), worked out once per call by work_out and
 * kept in a table by op, so that code on every call's path asks a bit rather
 * than comparing names. Declare one per kind of fact:
 *   static struct rpc_traits t = {work_out};   ...   rpc_traits_of(&t, d) */
struct rpc_traits {
    uint32_t (*work_out)(const struct rpc_call_desc *d);
    uint32_t *_Atomic table; /* made at the first question */
};
uint32_t rpc_traits_of(struct rpc_traits *t, const struct rpc_call_desc *d);
/* Name tests for work_out functions: equal, starts with, ends with (and is longer). */
int rpc_name_is(const char *s, const char *want);
int rpc_name_starts(const char *s, const char *prefix);
int rpc_name_ends(const char *s, const char *suffix);

/* ---- the codec -------------------------------------------------------------
 * Wire form of a CALL's encoded part: for each argument in order, by kind:
 *   VALUE/DEVPTR: the scalar (size bytes, little-endian)
 *   HANDLE: u64 id
 *   OUT_HANDLE: u8 present [+ u64 id when client-minted and present]
 *   OUT/OUT_BUF: u8 present (NULL or not) [+ u64 length for OUT_BUF]
 *   IN_BUF/INOUT_BUF: u8 present + u64 length; the bytes travel as raw data
 *   STRING: u8 present + u32 length + bytes (no NUL)
 *   HANDLE_ARRAY_IN: u8 present + u32 count + count × u64
 *   HANDLE_ARRAY_OUT: u8 present + u32 count
 *   NULL: u8 (1 if the caller passed non-NULL: the worker answers INVALID_VALUE)
 *   CUSTOM: whatever the named marshaller writes
 * A REPLY carries the CUresult (u32); when it is CUDA_SUCCESS, then for each
 * present output argument its value (OUT: scalar; OUT_HANDLE: u64 id;
 * OUT_BUF/INOUT_BUF: raw bytes; HANDLE_ARRAY_OUT: count × u64 ids). A failed
 * call's reply carries the result only (outputs untouched, as the driver's).
 *
 * Conventions both sides rely on:
 * - A client-minted OUT_HANDLE: the shim stores the id it minted in the
 *   application's variable (*(H *)*args[i]) before rpc_encode_call, which
 *   sends it from there.
 * - Buffer lengths come from the descriptor's `len` over by-value arguments;
 *   the worker recomputes them and refuses a call whose sent lengths differ.
 * - One call moves at most RPC_MAX_CALL_BYTES of buffers each way (bigger
 *   1D copies are split by the shim into several calls); a larger request
 *   is refused with CUDA_ERROR_INVALID_VALUE before anything is allocated.
 * - For RPC_ARG_CUSTOM (and the pointer parameters of a CUSTOM call's
 *   descriptor) size/align/scalar describe the parameter itself. */
#define RPC_MAX_CALL_BYTES (64u << 20)
#define RPC_MAX_HANDLE_ARRAY 65536u

/* Client side: encode the call's inputs. In-buffer bytes are not copied: each
 * becomes an iovec in raw[] (up to *nraw entries; *nraw is set to the number
 * used). Handles are already ids on the client (the application holds ids).
 * Returns 0, or -1 with w's error flag set (e.g. a length over a limit). */
int rpc_encode_call(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                    struct iovec *raw, int *nraw);

/* Client side: decode a REPLY into the caller's output arguments. Out-buffer
 * bytes are copied from `raw` (the reply's raw part, raw_len bytes). */
int rpc_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                     const void *raw, size_t raw_len, uint32_t *result);

/* Worker side: one decoded call. Storage for every argument lives inside, so
 * avalues[i] can be passed to ffi_call directly; buffers point into the
 * received raw bytes (inputs) or into worker-owned scratch (outputs). */
struct rpc_decoded {
    const struct rpc_call_desc *desc;
    void *avalues[RPC_MAX_ARGS];
    union {
        uint64_t u64;
        double f64;
        void *ptr;
        unsigned char bytes[64];
    } val[RPC_MAX_ARGS];   /* by-value arguments and OUT scalars */
    void *ptrval[RPC_MAX_ARGS]; /* pointer arguments: what avalues[i] points at */
    uint64_t ids[RPC_MAX_ARGS]; /* handle ids as sent (HANDLE, client-minted OUT_HANDLE) */
    size_t lens[RPC_MAX_ARGS];  /* byte lengths of buffers / counts of arrays */
    void *scratch;              /* worker-owned output space (freed by rpc_decoded_free) */
    /* cuLaunchKernel's kernelParams as sent (custom_launch.c), for the further
     * runs of a repeated launch that carry parameters of their own */
    const uint8_t *param_sizes; /* param_count u32s, inside the call's encoding */
    uint32_t param_count, param_total;
};

/* Handle translation, supplied by the worker (per session). Returns 0 and the
 * real value, or the CUresult to answer (the driver's code for that type). */
struct rpc_handle_ops {
    int (*to_real)(void *self, enum rpc_handle_type t, uint64_t id, void **real);
    void *self;
};

/* Worker side: decode a CALL's encoded part plus its raw bytes (which must stay
 * alive until the call is done). Lengths are checked against what arrived; no
 * value is used as a pointer. Handles are translated through `h`. Returns 0, or
 * a CUresult (INVALID_VALUE, INVALID_HANDLE, INVALID_CONTEXT, …) to send back
 * without calling the backend, or -1 for a malformed encoding (ends the session). */
int rpc_decode_call(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                    size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out);
void rpc_decoded_free(struct rpc_decoded *dc);

/* Worker side: encode the reply of a completed call: result, OUT scalars,
 * out-buffer bytes (as iovecs into dc's scratch; no copy). Server-minted handle
 * ids must already be stored in dc->ids[i]; for HANDLE_ARRAY_OUT the worker
 * overwrites each element of the array (at dc->ptrval[i]) with its id. */
int rpc_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw);

/* ---- hand-written marshallers (annotation custom=NAME, rpc/custom_*.c) --------
 * A CUSTOM call goes through the same five functions above, which hand it to
 * its marshaller. Where a marshaller needs knowledge only the shim or the
 * worker has, it asks through these ops (set once per process; a missing op
 * makes the call fail with CUDA_ERROR_NOT_SUPPORTED, never crash).
 * rpc_encode_call may return a positive CUresult: the call is not sent and the
 * application gets that code (e.g. a kernel whose parameter layout is unknown). */

/* Where each kernel parameter lives in the packed parameter buffer. */
struct rpc_param_layout {
    uint32_t count;         /* parameters; at most RPC_MAX_KERNEL_PARAMS */
    const uint32_t *offset; /* count entries, owned by the provider, valid until */
    const uint32_t *size;   /* the marshaller returns */
};
#define RPC_MAX_KERNEL_PARAMS 4096u
#define RPC_MAX_KERNEL_PARAM_BYTES (64u << 10)

struct rpc_client_ops {
    /* Layout of a function or kernel as the application holds it (an id): the
     * shim gets it from the server's cuFuncGetParamInfo / cuKernelGetParamInfo
     * and caches it. Returns 0 or a CUresult. */
    int (*param_layout)(void *self, uint64_t func_id, struct rpc_param_layout *out);
    void *self;
    /* A driver-owned string of a function or kernel (cuFuncGetName): the shim
     * keeps one copy per id, alive as long as the process (ids are never
     * reused). Returns that copy, or NULL when out of memory. */
    const char *(*keep_name)(void *self, uint64_t func_id, const char *text, size_t len);
};

struct rpc_worker_ops {
    /* Layout of a backend function or kernel (the real handle, translated):
     * from cuFuncGetParamInfo (or the image's .nv.info on older drivers).
     * `is_kernel` says the handle came as a CUkernel id. Returns 0 or a CUresult. */
    int (*param_layout)(void *self, void *real_func, int is_kernel, struct rpc_param_layout *out);
    void *self;
};

/* Process-wide (one shim per process, one session per worker process). The
 * structs must outlive every call; NULL restores the "not supported" default. */
void rpc_set_client_ops(const struct rpc_client_ops *ops);
void rpc_set_worker_ops(const struct rpc_worker_ops *ops);

#endif
