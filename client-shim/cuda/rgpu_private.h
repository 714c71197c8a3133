/* rgpu_private.h — the shim's one private, versioned entry point: other rgpu
 * libraries in the same process (the GL vendor libraries, client-shim/gl)
 * reach the CUDA shim's session through it, so GL and CUDA share one
 * connection, one session and one worker (docs/gl.md "One session").
 * Found with dlsym(handle, "rgpu_private_v2"); a new layout is a new name
 * (v1 had init, call and reply_free only). */
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

struct rgpu_private_v2 {
    uint32_t size; /* sizeof(struct rgpu_private_v2) of the shim */
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
    /* The frame channel (docs/gl.md): the server's NOTIFY frames of kind 9 (a
     * window's frame) go to sink, on whichever thread reads the connection,
     * never with the shim's locks held; sink takes raw (malloc'd, or NULL). */
    void (*frame_sink)(void (*sink)(const void *enc, size_t enc_len, void *raw, size_t raw_len));
    /* Waits until done(arg) is true, reading the connection meanwhile when no
     * other thread does; done is asked after every frame received, under the
     * shim's lock (it must not call into the shim). 0, or a CUresult once the
     * server is lost. */
    int (*wait_until)(int (*done)(void *), void *arg);
};

typedef const struct rgpu_private_v2 *(*rgpu_private_v2_fn)(void);

#endif
