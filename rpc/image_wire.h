/* image_wire.h — code images sent once (DESIGN rule 4): the shim names every
 * part of an image (PTX text, a fatbin container, an ELF, each container of a
 * __fatBinC_Wrapper_t) by its SHA-256 and size. Before a load it asks the
 * worker which parts it already has (QUERY, a small call); the load then
 * carries only the bytes of the parts the worker does not have, the others by
 * hash. The worker keeps every part of the session (so the same image goes
 * once per session even without a cache) and, across sessions, a cache on
 * disk per tenant (server/imagecache.c). docs/protocol.md "Images". */
#ifndef RG_RPC_IMAGE_WIRE_H
#define RG_RPC_IMAGE_WIRE_H

#include <stdint.h>

#include "sha256.h"

/* The QUERY rides on the op of cuModuleLoad (annotated `client`: the shim
 * reads the file, so it is never a generic call), u32 sub-command first:
 *   QUERY: u32 sub, u32 n, n x (32-byte hash, u64 size); waits.
 *   reply: u32 result, u32 n, n x u8 (1: the worker has the part). */
#define RPC_IMAGE_OP_NAME "cuModuleLoad"
#define RPC_IMAGE_QUERY 1
#define RPC_IMAGE_MAX_QUERY 4096u /* parts of one QUERY (the image marshaller's MAX_PARTS) */
/* Parts smaller than this travel at once: a QUERY costs more than their bytes. */
#define RPC_IMAGE_QUERY_MIN 4096u

/* How one part travels in an image call (after its u64 size). */
#define RPC_IMAGE_PART_BYTES 0 /* its bytes follow in the raw part */
#define RPC_IMAGE_PART_HASH 1  /* 32-byte hash follows; the worker has the bytes */

struct rpc_image_ops {
    /* Client: which of n parts the worker has (known[i] = 1), from what this
     * session already sent and a QUERY for the rest. known[] is all zeros
     * when the worker cannot be asked. */
    void (*known)(void *self, uint32_t n, const uint8_t (*hash)[RG_SHA256_LEN],
                  const uint64_t *size, uint8_t *known);
    /* Client: a load with these parts succeeded: the worker keeps them for the session. */
    void (*sent)(void *self, uint32_t n, const uint8_t (*hash)[RG_SHA256_LEN],
                 const uint64_t *size);
    /* Worker: the bytes of a part the session has (valid for the session), or NULL. */
    const void *(*lookup)(void *self, const uint8_t hash[RG_SHA256_LEN], uint64_t size);
    /* Worker: a part that arrived with a load the backend ran: kept for the
     * session (and cached), under the hash the worker computes. Copies what it
     * keeps. 0, or -1 when it could not be kept (it will come as bytes again). */
    int (*store)(void *self, const void *p, uint64_t size);
    void *self;
};

/* Process-wide, like rpc_set_client_ops; NULL: every part travels as bytes. */
void rpc_set_image_ops(const struct rpc_image_ops *ops);
extern const struct rpc_image_ops *rpc_image_ops_now;

#endif
