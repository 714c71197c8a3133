/* custom.h — what the generic codec (codec.c) shares with the hand-written
 * marshallers (custom_*.c): the marshaller table entry, scalar and length
 * helpers, and the CUresult codes the rpc layer answers with. Internal to rpc/. */
#ifndef RG_RPC_CUSTOM_H
#define RG_RPC_CUSTOM_H

#include "calls.h"

/* CUresult values the codec returns (cuda.h is not needed by callers). */
#define RPC_CU_INVALID_VALUE 1
#define RPC_CU_OUT_OF_MEMORY 2
#define RPC_CU_INVALID_IMAGE 200
#define RPC_CU_INVALID_HANDLE 400
#define RPC_CU_NOT_SUPPORTED 801

struct rpc_custom {
    const char *name;
    int (*encode_call)(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                       struct iovec *raw, int *nraw);
    int (*decode_reply)(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                        const void *raw, size_t raw_len, uint32_t *result);
    int (*decode_call)(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                       size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out);
    int (*encode_reply)(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                        struct iovec *raw, int *nraw);
};

extern const struct rpc_custom rpc_custom_launch, rpc_custom_launch_ex, rpc_custom_memcpy2d,
    rpc_custom_memcpy3d, rpc_custom_image, rpc_custom_scrub, rpc_custom_node_list,
    rpc_custom_kernel_node, rpc_custom_pool_attr, rpc_custom_ptr_attr,
    rpc_custom_global, rpc_custom_func_name, rpc_custom_occupancy, rpc_custom_link,
    rpc_custom_required;
extern const struct rpc_custom rpc_custom_batch, rpc_custom_batch3d; /* custom_batch.c */
extern const struct rpc_custom rpc_custom_range_attr; /* custom_range_attr.c */
extern const struct rpc_custom rpc_custom_graph; /* custom_graph.c */
const struct rpc_custom *rpc_custom_find(const char *name);

extern const struct rpc_client_ops *rpc_client_ops_now;
extern const struct rpc_worker_ops *rpc_worker_ops_now;

/* Little-endian scalars of 1, 2, 4 or 8 bytes (other sizes: raw bytes). */
void rpc_put_scalar(struct rpc_wbuf *w, const void *p, unsigned size);
int rpc_get_scalar(struct rpc_rbuf *r, void *p, unsigned size);
/* An unsigned integer of `size` bytes at p (0 for other sizes). */
uint64_t rpc_uint_at(const void *p, unsigned size);
/* Byte length (or count) of argument i from the by-value arguments vals[]
 * (vals[j] points at argument j's value). -1 on overflow or a bad descriptor. */
int rpc_arg_len(const struct rpc_call_desc *d, unsigned i, void *const *vals, uint64_t *out);
/* Translates handle id of type t into out->val[i] (as the argument's size). */
int rpc_handle_in(const struct rpc_handle_ops *h, const struct rpc_arg_desc *a, uint64_t id,
                  void *dst);
/* The same for a pointer-sized handle of type t (enum rpc_handle_type) found
 * inside a struct: *real is NULL when the id does not translate. */
int rpc_handle_in_ptr(const struct rpc_handle_ops *h, unsigned t, uint64_t id, void **real);
/* A by-value argument (VALUE, DEVPTR: the scalar; HANDLE: u64 id). The decoder
 * translates handles, remembering the first failure in *cu. */
void rpc_enc_simple(struct rpc_wbuf *w, const struct rpc_arg_desc *a, const void *argp);
int rpc_dec_simple(const struct rpc_call_desc *d, unsigned i, struct rpc_rbuf *r,
                   const struct rpc_handle_ops *h, struct rpc_decoded *out, int *cu);
/* Generic per-argument pieces, for marshallers that handle most arguments the
 * usual way. Return 0, a CUresult, or -1 (malformed). */
void rpc_reset_decoded(const struct rpc_call_desc *d, struct rpc_decoded *out);
int rpc_encode_reply_generic(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                             struct iovec *raw, int *nraw);
/* The generic wire form of every argument (whatever the descriptor's class),
 * for marshallers that only add checks or scrub fields around it. Arguments of
 * kind CUSTOM are refused (-1). */
int rpc_encode_call_generic(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw);
int rpc_decode_call_generic(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                            size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out);
int rpc_decode_reply_generic(const struct rpc_call_desc *d, void *const *args,
                             struct rpc_rbuf *r, const void *raw, size_t raw_len,
                             uint32_t *result);

/* Kernel parameters (custom_launch.c), shared by launch and launch_ex: on the
 * wire after the call's other fields. The worker's block (prefix bytes for the
 * caller, then the parameters) becomes the decoded call's scratch. */
struct rpc_launch_params {
    void *block;  /* malloc'd; NULL on failure */
    void **kp;    /* kernelParams for the backend, or NULL */
    void **extra; /* extra for the backend, or NULL */
    const uint8_t *sizes; /* kernelParams: count u32 sizes as sent (inside the rbuf) */
    uint32_t count, total;
};
int rpc_launch_enc_params(struct rpc_wbuf *w, uint64_t func_id, void **kp, void **extra);
/* A further run of a decoded cuLaunchKernel with parameter bytes of its own
 * (rpc/frame.h `repeat` with raw bytes): len bytes packed as the call's own
 * kernelParams were (dc->param_total) go into their places. -1 if they do not. */
int rpc_launch_rerun_params(const struct rpc_decoded *dc, const void *bytes, size_t len);
int rpc_launch_dec_params(struct rpc_rbuf *r, void *real_func, uint64_t func_id, int cu,
                          size_t prefix, struct rpc_launch_params *o);

#endif
