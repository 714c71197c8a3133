/* custom_launch.c — kernel launches (cuLaunchKernel[_ptsz], cuLaunchCooperativeKernel[_ptsz]):
 * kernelParams travel as one packed blob by the function's parameter layout
 * (the shim's cached cuFuncGetParamInfo answers on the client, the backend's on
 * the worker, which must agree), or the `extra` buffer travels as it is. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"

#define EXTRA_MAX_ENTRIES 64
#define FORM_NONE 0
#define FORM_PARAMS 1
#define FORM_EXTRA 2

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* ---- client ----------------------------------------------------------------- */

static int enc_kernel_params(struct rpc_wbuf *w, uint64_t func_id, void **kp)
{
    const struct rpc_client_ops *ops = __atomic_load_n(&rpc_client_ops_now, __ATOMIC_ACQUIRE);
    struct rpc_param_layout l;
    uint64_t total = 0;
    if (!ops || !ops->param_layout) return RPC_CU_NOT_SUPPORTED;
    int rc = ops->param_layout(ops->self, func_id, &l);
    if (rc) return rc;
    if (l.count > RPC_MAX_KERNEL_PARAMS) return RPC_CU_INVALID_VALUE;
    rpc_put_u8(w, FORM_PARAMS);
    rpc_put_u32(w, l.count);
    for (uint32_t j = 0; j < l.count; j++) {
        if (!kp[j]) return RPC_CU_INVALID_VALUE;
        rpc_put_u32(w, l.size[j]);
        total += l.size[j];
    }
    if (total > RPC_MAX_KERNEL_PARAM_BYTES) return RPC_CU_INVALID_VALUE;
    rpc_put_u32(w, (uint32_t)total);
    for (uint32_t j = 0; j < l.count; j++) rpc_put_bytes(w, kp[j], l.size[j]);
    return 0;
}

static int enc_extra(struct rpc_wbuf *w, void **extra)
{
    const void *buf = NULL;
    size_t size = 0;
    int have_size = 0, i;
    for (i = 0; i < EXTRA_MAX_ENTRIES && extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
        if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER) {
            buf = extra[i + 1];
        } else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE && extra[i + 1]) {
            memcpy(&size, extra[i + 1], sizeof size);
            have_size = 1;
        } else {
            return RPC_CU_INVALID_VALUE;
        }
    }
    if (i >= EXTRA_MAX_ENTRIES || !buf || !have_size || size > RPC_MAX_KERNEL_PARAM_BYTES)
        return RPC_CU_INVALID_VALUE;
    rpc_put_u8(w, FORM_EXTRA);
    rpc_put_u32(w, (uint32_t)size);
    rpc_put_bytes(w, buf, size);
    return 0;
}

int rpc_launch_enc_params(struct rpc_wbuf *w, uint64_t func_id, void **kp, void **extra)
{
    if (kp && extra) return RPC_CU_INVALID_VALUE;
    if (extra) return enc_extra(w, extra);
    if (kp) return enc_kernel_params(w, func_id, kp);
    rpc_put_u8(w, FORM_NONE);
    return 0;
}

static int launch_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                         struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (d->nargs < 10) return RPC_CU_NOT_SUPPORTED;
    for (unsigned i = 0; i < 9; i++) rpc_enc_simple(w, &d->args[i], args[i]);
    void **kp = *(void **const *)args[9];
    void **extra = d->nargs > 10 ? *(void **const *)args[10] : NULL;
    int rc = rpc_launch_enc_params(w, rpc_uint_at(args[0], d->args[0].size), kp, extra);
    if (rc) return rc;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* ---- worker ------------------------------------------------------------------- */

struct wire_params {
    uint8_t form;
    uint32_t count, total;
    const uint8_t *sizes, *bytes; /* inside the encoded part */
};

static int read_params(struct rpc_rbuf *r, struct wire_params *p)
{
    uint64_t sum = 0;
    p->form = rpc_get_u8(r);
    if (p->form == FORM_NONE) return rpc_rbuf_ok(r) ? 0 : -1;
    if (p->form == FORM_PARAMS) {
        p->count = rpc_get_u32(r);
        if (p->count > RPC_MAX_KERNEL_PARAMS) return -1;
        if (!(p->sizes = rpc_get_view(r, (size_t)p->count * 4)) && p->count) return -1;
        for (uint32_t j = 0; j < p->count; j++) sum += rpc_uint_at(p->sizes + 4 * j, 4);
    }
    if (p->form > FORM_EXTRA) return -1;
    p->total = rpc_get_u32(r);
    if (p->total > RPC_MAX_KERNEL_PARAM_BYTES) return -1;
    if (p->form == FORM_PARAMS && sum != p->total) return -1;
    p->bytes = rpc_get_view(r, p->total);
    return rpc_rbuf_ok(r) ? 0 : -1;
}

static int place_params(const struct wire_params *p, const struct rpc_param_layout *l,
                        size_t prefix, struct rpc_launch_params *o)
{
    size_t end = 0, off = 0;
    if (l->count != p->count) return RPC_CU_INVALID_VALUE;
    for (uint32_t j = 0; j < l->count; j++) {
        if (l->size[j] != rpc_uint_at(p->sizes + 4 * j, 4)) return RPC_CU_INVALID_VALUE;
        if ((uint64_t)l->offset[j] + l->size[j] > RPC_MAX_KERNEL_PARAM_BYTES)
            return RPC_CU_INVALID_VALUE;
        if (l->offset[j] + l->size[j] > end) end = l->offset[j] + l->size[j];
    }
    uint8_t *b = calloc(1, prefix + align16(end) + (size_t)l->count * sizeof(void *) + 16);
    if (!b) return RPC_CU_OUT_OF_MEMORY;
    o->block = b;
    o->kp = (void **)(b + prefix + align16(end));
    for (uint32_t j = 0; j < l->count; j++) {
        memcpy(b + prefix + l->offset[j], p->bytes + off, l->size[j]);
        o->kp[j] = b + prefix + l->offset[j];
        off += l->size[j];
    }
    return 0;
}

static int place_extra(const struct wire_params *p, size_t prefix, struct rpc_launch_params *o)
{
    uint8_t *b = calloc(1, prefix + align16(p->total) + 16 + 5 * sizeof(void *));
    if (!b) return RPC_CU_OUT_OF_MEMORY;
    uint8_t *buf = b + prefix;
    size_t *size = (size_t *)(buf + align16(p->total));
    void **extra = (void **)(buf + align16(p->total) + 16);
    if (p->total) memcpy(buf, p->bytes, p->total);
    *size = p->total;
    extra[0] = CU_LAUNCH_PARAM_BUFFER_POINTER;
    extra[1] = buf;
    extra[2] = CU_LAUNCH_PARAM_BUFFER_SIZE;
    extra[3] = size;
    extra[4] = CU_LAUNCH_PARAM_END;
    o->block = b;
    o->extra = extra;
    return 0;
}

int rpc_launch_dec_params(struct rpc_rbuf *r, void *real_func, uint64_t func_id, int cu,
                          size_t prefix, struct rpc_launch_params *o)
{
    struct wire_params p = {0};
    struct rpc_param_layout l;
    memset(o, 0, sizeof *o);
    if (read_params(r, &p) || !rpc_rbuf_done(r)) return -1;
    if (p.form == FORM_PARAMS) o->sizes = p.sizes, o->count = p.count, o->total = p.total;
    if (cu) return cu;
    if (p.form == FORM_EXTRA) return place_extra(&p, prefix, o);
    if (p.form == FORM_NONE)
        return (o->block = calloc(1, prefix + 16)) ? 0 : RPC_CU_OUT_OF_MEMORY;
    const struct rpc_worker_ops *ops = __atomic_load_n(&rpc_worker_ops_now, __ATOMIC_ACQUIRE);
    if (!ops || !ops->param_layout) return RPC_CU_NOT_SUPPORTED;
    int rc = ops->param_layout(ops->self, real_func, (func_id >> 40) == RPC_H_KERNEL, &l);
    return rc ? rc : place_params(&p, &l, prefix, o);
}

static int launch_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                         size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct rpc_launch_params lp;
    int cu = 0;
    (void)raw;
    if (d->nargs < 10 || raw_len) return -1;
    for (unsigned i = 0; i < 9; i++)
        if (rpc_dec_simple(d, i, r, h, out, &cu)) return -1;
    void *f;
    memcpy(&f, out->val[0].bytes, sizeof f);
    int rc = rpc_launch_dec_params(r, f, out->ids[0], cu, 0, &lp);
    if (rc) return rc;
    out->scratch = lp.block;
    if (lp.kp) out->param_sizes = lp.sizes, out->param_count = lp.count, out->param_total = lp.total;
    for (unsigned i = 9; i < d->nargs; i++) {
        out->ptrval[i] = i == 9 ? (void *)lp.kp : (void *)lp.extra;
        out->avalues[i] = &out->ptrval[i];
    }
    return 0;
}

int rpc_launch_rerun_params(const struct rpc_decoded *dc, const void *bytes, size_t len)
{
    void **kp = dc->desc && dc->desc->nargs > 9 ? (void **)dc->ptrval[9] : NULL;
    if (!kp || !dc->param_sizes || len != dc->param_total) return -1;
    const uint8_t *b = bytes;
    for (uint32_t j = 0; j < dc->param_count; j++) {
        uint32_t n = (uint32_t)rpc_uint_at(dc->param_sizes + 4 * j, 4);
        memcpy(kp[j], b, n);
        b += n;
    }
    return 0;
}

const struct rpc_custom rpc_custom_launch = {
    "launch", launch_encode, rpc_decode_reply_generic, launch_decode, rpc_encode_reply_generic,
};
