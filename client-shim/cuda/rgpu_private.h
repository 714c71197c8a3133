/* rgpu_private.h — the shim's one private, versioned entry point: other rgpu
 * libraries in the same process (the GL vendor libraries, client-shim/gl)
 * reach the CUDA shim's session through it, so GL and CUDA share one
 * connection, one session and one worker (docs/gl.md "One session").
 * Found with dlsym(handle, "rgpu_private_v1"); a new layout is a new name. */
#ifndef RGPU_PRIVATE_H
#define RGPU_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct rgpu_private_reply {
    void *enc; /* heap, enc_len bytes (REPLY's encoded part); free with reply_free */
    size_t enc_len;
    void *raw; /* heap, raw_len bytes (REPLY's raw part) */
    size_t raw_len;
};

struct rgpu_private_v1 {
    uint32_t size; /* sizeof(struct rgpu_private_v1) of the shim */
    /* Connects the session if cuInit has not (same as cuInit(0)): 0 (CUDA_SUCCESS)
     * or the CUresult. */
    int (*init)(void);
    /* Sends one CALL with op (no context id; calling thread's number and
     * sequence) and, if wait, waits for its REPLY, which *rep then holds.
     * Without wait the CALL is NOREPLY. Buffers stay the caller's. 0 or a
     * CUresult (CUDA_ERROR_DEVICE_UNAVAILABLE once the server is lost). */
    int (*call)(uint32_t op, const void *enc, size_t enc_len, const struct iovec *raw, int nraw,
                int wait, struct rgpu_private_reply *rep);
    void (*reply_free)(struct rgpu_private_reply *rep);
};

typedef const struct rgpu_private_v1 *(*rgpu_private_v1_fn)(void);

#endif
