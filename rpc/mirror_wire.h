/* mirror_wire.h — the wire form of the memory mirror (managed memory kept at the same
 * address in the client and the session worker, docs/remoting.md "Managed
 * memory"): both sides keep a shadow of the last state they agreed on, and what
 * travels are the byte runs where their memory now differs from it. A batch is
 * u32 n, then n x (u64 addr, u32 len) in the encoded part and the runs' bytes,
 * in order, as the raw part. Shared by the shim and the worker (rpc/custom_mirror.c). */
#ifndef RG_RPC_MIRROR_WIRE_H
#define RG_RPC_MIRROR_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"

/* The mirror's CALLs ride on the op of cuMemHostGetDevicePointer_v2 (annotated
 * `client`, so never a generic call): u32 sub-command first. */
#define RPC_MIRROR_OP_NAME "cuMemHostGetDevicePointer_v2"
#define RPC_MIRROR_PUSH 1 /* NOREPLY: u32 sub, batch: the client's changed bytes */
#define RPC_MIRROR_PULL 2 /* u32 sub; reply: u32 result, u32 more, batch: the worker's */

#define RPC_MIRROR_PAGE 4096u
#define RPC_MIRROR_MAX_RUNS 32768u       /* entries of one batch (encoded: 12 bytes each) */
#define RPC_MIRROR_MAX_BYTES (32u << 20) /* bytes of one batch */

struct rpc_runs {
    uint64_t *addr;
    uint32_t *len;
    struct iovec *iov; /* the runs' bytes, in the sender's shadow */
    size_t n, cap;
    size_t sealed; /* runs below this index are never extended (rpc_runs_seal) */
    uint64_t bytes;
};

/* Would one more page of `len` bytes still fit in the batch? */
int rpc_runs_room(const struct rpc_runs *r, size_t len);
/* Compares `len` bytes of cur (at address addr) with shadow: every run of
 * differing bytes is copied into shadow and appended to r (its bytes sent from
 * shadow). Call rpc_runs_room first. 0, or -1 on no memory (r unchanged past
 * the runs already added). Returns quickly for an unchanged page. */
int rpc_runs_diff(struct rpc_runs *r, uint64_t addr, const uint8_t *cur, uint8_t *shadow, size_t len);
/* The batch's encoded part: u32 n, n x (u64 addr, u32 len). */
void rpc_runs_encode(struct rpc_wbuf *w, const struct rpc_runs *r);
/* The next run starts a new entry even if contiguous (a region ends here). */
void rpc_runs_seal(struct rpc_runs *r);
void rpc_runs_reset(struct rpc_runs *r);
void rpc_runs_free(struct rpc_runs *r);

/* Reading a batch: rpc_runs_begin reads n; each rpc_runs_next gives one run
 * and where its bytes are in raw. -1 when malformed (the runs' bytes must add
 * up to exactly raw_len, checked at the last run), 0 at the end, 1 for a run. */
struct rpc_runs_reader {
    struct rpc_rbuf *r;
    uint32_t left;
    const uint8_t *raw;
    size_t raw_len, off;
};
int rpc_runs_begin(struct rpc_runs_reader *it, struct rpc_rbuf *r, const void *raw, size_t raw_len);
int rpc_runs_next(struct rpc_runs_reader *it, uint64_t *addr, uint32_t *len, const uint8_t **bytes);

#endif
