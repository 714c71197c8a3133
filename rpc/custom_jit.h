/* custom_jit.h — JIT options (CUjit_option arrays with their value arrays) of
 * cuModuleLoadDataEx, cuLibraryLoadData and the cuLink* calls, shared by their
 * marshallers (custom_image.c, custom_link.c). Internal to rpc/.
 *
 * Wire: u32 n, then n x (u32 option, u64 value). Values that are numbers travel
 * as they are; a log buffer travels as 0 (the buffer stays in the client) and
 * its *_SIZE_BYTES as the client's capacity. The reply part: u32 n, n x u64
 * value after the call (the driver writes sizes, wall time, threads back), then
 * the info log and the error log as blobs, which the shim copies into the
 * application's buffers — also when the call failed. Options whose values are
 * client pointer arrays (global symbol names/addresses, referenced kernel and
 * variable names) cannot be forwarded: CUDA_ERROR_NOT_SUPPORTED. */
#ifndef RG_RPC_CUSTOM_JIT_H
#define RG_RPC_CUSTOM_JIT_H

#ifndef __CUDA_API_VERSION_INTERNAL
#define __CUDA_API_VERSION_INTERNAL 1
#endif
#include <cuda.h>

#include "custom.h"

#define RPC_JIT_MAX_OPTIONS 64u
#define RPC_JIT_MAX_LOG (64u << 10)

/* ---- client ---- */
/* Checks the options as the driver does (INVALID_VALUE for an unknown option,
 * a missing array) and writes them. 0, a CUresult, or -1 (buffer error). */
int rpc_jit_encode(struct rpc_wbuf *w, unsigned n, const CUjit_option *opts, void *const *vals);
/* Reads the reply part written by rpc_jit_encode_reply into the application's
 * option values and log buffers (opts = vals = NULL: read and dropped). The log
 * capacities are read from `sent` (the values as they were sent; NULL: vals). 0
 * or -1 (malformed). */
int rpc_jit_decode_reply(struct rpc_rbuf *r, unsigned n, const CUjit_option *opts, void **vals,
                         void *const *sent);

/* ---- worker ---- */
struct rpc_jit {
    uint32_t n;
    const uint8_t *wire;  /* n x 12 bytes inside the encoded part */
    uint64_t cap[2];      /* capacities of the info [0] and error [1] logs */
    int has_log[2];
    CUjit_option *opts;   /* after rpc_jit_place: what the backend gets */
    void **vals;
    char *log[2];
};
/* Reads and checks the options. 0, -1 (malformed: the client checks the same). */
int rpc_jit_decode(struct rpc_rbuf *r, struct rpc_jit *j);
/* Bytes rpc_jit_place needs (a multiple of 16). */
size_t rpc_jit_size(const struct rpc_jit *j);
/* Builds the backend's arrays and log buffers in mem (16-byte aligned, zeroed,
 * rpc_jit_size bytes), which must live as long as the backend may use them. */
void rpc_jit_place(struct rpc_jit *j, void *mem);
/* The reply part: values after the call and both logs. j may be NULL (no options). */
void rpc_jit_encode_reply(struct rpc_wbuf *w, const struct rpc_jit *j);

#endif
