/* codec.c — the generic call codec: moves a call's arguments between the shim
 * (args[] as the application passed them) and the worker (rpc_decoded, ready
 * for ffi_call) by the generated descriptors. The worker side checks every
 * length against what arrived and never uses a client value as a pointer. */
#include <stdlib.h>
#include <string.h>

#include "custom.h"

const struct rpc_client_ops *rpc_client_ops_now;
const struct rpc_worker_ops *rpc_worker_ops_now;

void rpc_set_client_ops(const struct rpc_client_ops *ops)
{
    __atomic_store_n(&rpc_client_ops_now, ops, __ATOMIC_RELEASE);
}

void rpc_set_worker_ops(const struct rpc_worker_ops *ops)
{
    __atomic_store_n(&rpc_worker_ops_now, ops, __ATOMIC_RELEASE);
}

static const struct rpc_custom *const customs[] = {
    &rpc_custom_launch,
    &rpc_custom_launch_ex,
    &rpc_custom_image,
    &rpc_custom_memcpy2d,
    &rpc_custom_memcpy3d,
    &rpc_custom_scrub,
    &rpc_custom_node_list,
    &rpc_custom_kernel_node,
    &rpc_custom_graph,
    &rpc_custom_pool_attr,
    &rpc_custom_ptr_attr,
    &rpc_custom_batch,
    &rpc_custom_batch3d,
    &rpc_custom_range_attr,
    &rpc_custom_global,
    &rpc_custom_func_name,
    &rpc_custom_occupancy,
    &rpc_custom_link,
    &rpc_custom_required,
};

const struct rpc_custom *rpc_custom_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof customs / sizeof customs[0]; i++)
        if (customs[i] && !strcmp(customs[i]->name, name)) return customs[i];
    return NULL;
}

/* A call's marshaller as its index in customs[] + 1 (0: none), found once. */
static uint32_t custom_index(const struct rpc_call_desc *d)
{
    const struct rpc_custom *c = rpc_custom_find(d->custom);
    for (size_t i = 0; c && i < sizeof customs / sizeof customs[0]; i++)
        if (customs[i] == c) return (uint32_t)i + 1;
    return 0;
}

static const struct rpc_custom *custom_of(const struct rpc_call_desc *d)
{
    static struct rpc_traits t = {custom_index};
    uint32_t i = d->custom ? rpc_traits_of(&t, d) : 0;
    return i ? customs[i - 1] : NULL;
}

/* ---- scalars and lengths ---------------------------------------------------- */

void rpc_put_scalar(struct rpc_wbuf *w, const void *p, unsigned size)
{
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (size) {
    case 1: rpc_put_u8(w, *(const uint8_t *)p); break;
    case 2: memcpy(&v16, p, 2); rpc_put_u16(w, v16); break;
    case 4: memcpy(&v32, p, 4); rpc_put_u32(w, v32); break;
    case 8: memcpy(&v64, p, 8); rpc_put_u64(w, v64); break;
    default: rpc_put_bytes(w, p, size); break;
    }
}

int rpc_get_scalar(struct rpc_rbuf *r, void *p, unsigned size)
{
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (size) {
    case 1: *(uint8_t *)p = rpc_get_u8(r); break;
    case 2: v16 = rpc_get_u16(r); memcpy(p, &v16, 2); break;
    case 4: v32 = rpc_get_u32(r); memcpy(p, &v32, 4); break;
    case 8: v64 = rpc_get_u64(r); memcpy(p, &v64, 8); break;
    default: return rpc_get_bytes(r, p, size);
    }
    return rpc_rbuf_ok(r) ? 0 : -1;
}

uint64_t rpc_uint_at(const void *p, unsigned size)
{
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64 = 0;
    switch (size) {
    case 1: memcpy(&v8, p, 1); return v8;
    case 2: memcpy(&v16, p, 2); return v16;
    case 4: memcpy(&v32, p, 4); return v32;
    case 8: memcpy(&v64, p, 8); return v64;
    default: return 0;
    }
}

static int len_term(const struct rpc_call_desc *d, unsigned a, void *const *vals, uint64_t *v)
{
    if (a >= d->nargs || d->args[a].kind != RPC_ARG_VALUE || !vals || !vals[a]) return -1;
    *v = rpc_uint_at(vals[a], d->args[a].size);
    return 0;
}

int rpc_arg_len(const struct rpc_call_desc *d, unsigned i, void *const *vals, uint64_t *out)
{
    const struct rpc_len *l = &d->args[i].len;
    uint64_t x = 0, y = 1;
    *out = 0;
    switch (l->kind) {
    case RPC_LEN_NONE: return 0;
    case RPC_LEN_CONST: *out = l->k; return 0;
    case RPC_LEN_SIZEOF: *out = d->args[i].size; return 0;
    case RPC_LEN_ARG:
        return len_term(d, l->a, vals, out);
    case RPC_LEN_ARGS_MUL:
        if (len_term(d, l->b, vals, &y)) return -1;
        /* fall through */
    case RPC_LEN_ARG_MUL:
        if (len_term(d, l->a, vals, &x)) return -1;
        if (__builtin_mul_overflow(x, y, &x) || __builtin_mul_overflow(x, (uint64_t)l->k, out))
            return -1;
        return 0;
    default: return -1;
    }
}

int rpc_handle_in(const struct rpc_handle_ops *h, const struct rpc_arg_desc *a, uint64_t id,
                  void *dst)
{
    void *real = NULL;
    if (!h || !h->to_real) return RPC_CU_INVALID_HANDLE;
    int rc = h->to_real(h->self, (enum rpc_handle_type)a->handle, id, &real);
    if (rc) return rc;
    uint64_t v = (uint64_t)(uintptr_t)real;
    memcpy(dst, &v, a->size < 8 ? a->size : 8); /* little-endian: low bytes first */
    return 0;
}

int rpc_handle_in_ptr(const struct rpc_handle_ops *h, unsigned t, uint64_t id, void **real)
{
    struct rpc_arg_desc a = {.kind = RPC_ARG_HANDLE, .size = sizeof(void *), .handle = (uint8_t)t};
    *real = NULL;
    return rpc_handle_in(h, &a, id, real);
}

/* ---- by-value arguments, shared with the marshallers ----------------------------- */

void rpc_enc_simple(struct rpc_wbuf *w, const struct rpc_arg_desc *a, const void *argp)
{
    if (a->kind == RPC_ARG_HANDLE)
        rpc_put_u64(w, rpc_uint_at(argp, a->size));
    else
        rpc_put_scalar(w, argp, a->size);
}

int rpc_dec_simple(const struct rpc_call_desc *d, unsigned i, struct rpc_rbuf *r,
                   const struct rpc_handle_ops *h, struct rpc_decoded *out, int *cu)
{
    const struct rpc_arg_desc *a = &d->args[i];
    out->avalues[i] = &out->val[i];
    if (a->size > sizeof out->val[i].bytes) return -1;
    if (a->kind != RPC_ARG_HANDLE) return rpc_get_scalar(r, out->val[i].bytes, a->size);
    out->ids[i] = rpc_get_u64(r);
    if (!rpc_rbuf_ok(r)) return -1;
    int rc = rpc_handle_in(h, a, out->ids[i], out->val[i].bytes);
    if (rc && !*cu) *cu = rc;
    return 0;
}

/* ---- client: encode a call ------------------------------------------------------ */

struct enc {
    struct rpc_wbuf *w;
    struct iovec *raw;
    int nraw, maxraw;
    uint64_t in_bytes, out_bytes;
};

static int enc_raw(struct enc *e, const void *p, uint64_t n)
{
    if (n == 0) return 0;
    if (e->nraw >= e->maxraw) return -1;
    e->raw[e->nraw].iov_base = (void *)p;
    e->raw[e->nraw].iov_len = (size_t)n;
    e->nraw++;
    return 0;
}

static int enc_budget(uint64_t *total, uint64_t n)
{
    if (n > RPC_MAX_CALL_BYTES || *total + n > RPC_MAX_CALL_BYTES) return RPC_CU_INVALID_VALUE;
    *total += n;
    return 0;
}

static int enc_buffer(struct enc *e, const struct rpc_arg_desc *a, const void *p, uint64_t len)
{
    int rc;
    rpc_put_u8(e->w, p != NULL);
    rpc_put_u64(e->w, len);
    if (!p) return 0;
    if (a->kind != RPC_ARG_IN_BUF && (rc = enc_budget(&e->out_bytes, len))) return rc;
    if (a->kind == RPC_ARG_OUT_BUF) return 0;
    if ((rc = enc_budget(&e->in_bytes, len))) return rc;
    return enc_raw(e, p, len);
}

static int enc_string(struct enc *e, const char *s)
{
    size_t n = s ? strnlen(s, RPC_MAX_STRING + 1) : 0;
    if (n > RPC_MAX_STRING) return RPC_CU_INVALID_VALUE;
    rpc_put_u8(e->w, s != NULL);
    rpc_put_u32(e->w, (uint32_t)n);
    if (s) rpc_put_bytes(e->w, s, n);
    return 0;
}

static int enc_handles(struct enc *e, const struct rpc_arg_desc *a, const void *p, uint64_t n)
{
    if (n > RPC_MAX_HANDLE_ARRAY) return RPC_CU_INVALID_VALUE;
    rpc_put_u8(e->w, p != NULL);
    rpc_put_u32(e->w, (uint32_t)n);
    if (!p || a->kind == RPC_ARG_HANDLE_ARRAY_OUT) return 0;
    for (uint64_t j = 0; j < n; j++)
        rpc_put_u64(e->w, rpc_uint_at((const char *)p + j * a->size, a->size));
    return 0;
}

static int enc_arg(struct enc *e, const struct rpc_call_desc *d, unsigned i, void *const *args)
{
    const struct rpc_arg_desc *a = &d->args[i];
    const void *p = NULL;
    uint64_t len = 0;
    if (a->kind != RPC_ARG_VALUE && a->kind != RPC_ARG_DEVPTR && a->kind != RPC_ARG_HANDLE)
        p = *(void *const *)args[i];
    if (rpc_arg_len(d, i, args, &len)) return RPC_CU_INVALID_VALUE;
    switch (a->kind) {
    case RPC_ARG_VALUE:
    case RPC_ARG_DEVPTR: rpc_put_scalar(e->w, args[i], a->size); return 0;
    case RPC_ARG_HANDLE: rpc_put_u64(e->w, rpc_uint_at(args[i], a->size)); return 0;
    case RPC_ARG_OUT: rpc_put_u8(e->w, p != NULL); return 0;
    case RPC_ARG_OUT_HANDLE:
        rpc_put_u8(e->w, p != NULL);
        if (p && a->mint == RPC_MINT_CLIENT) rpc_put_u64(e->w, rpc_uint_at(p, a->size));
        return 0;
    case RPC_ARG_IN_BUF:
    case RPC_ARG_OUT_BUF:
    case RPC_ARG_INOUT_BUF: return enc_buffer(e, a, p, len);
    case RPC_ARG_STRING: return enc_string(e, p);
    case RPC_ARG_HANDLE_ARRAY_IN:
    case RPC_ARG_HANDLE_ARRAY_OUT: return enc_handles(e, a, p, len);
    case RPC_ARG_NULL: rpc_put_u8(e->w, p != NULL); return 0;
    default: return -1;
    }
}

int rpc_encode_call(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                    struct iovec *raw, int *nraw)
{
    if (d->cls == RPC_CLASS_CUSTOM) {
        const struct rpc_custom *c = custom_of(d);
        if (!c) return RPC_CU_NOT_SUPPORTED;
        return c->encode_call(d, args, w, raw, nraw);
    }
    if (d->cls != RPC_CLASS_FORWARD) return RPC_CU_NOT_SUPPORTED;
    return rpc_encode_call_generic(d, args, w, raw, nraw);
}

int rpc_encode_call_generic(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    struct enc e = {w, raw, 0, *nraw, 0, 0};
    *nraw = 0;
    for (unsigned i = 0; i < d->nargs; i++) {
        int rc = enc_arg(&e, d, i, args);
        if (rc) {
            if (rc < 0) w->err = 1;
            return rc;
        }
    }
    *nraw = e.nraw;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* ---- client: decode a reply ------------------------------------------------------- */

static int dec_out_arg(const struct rpc_call_desc *d, unsigned i, void *const *args,
                       struct rpc_rbuf *r, const uint8_t *raw, size_t raw_len, size_t *off)
{
    const struct rpc_arg_desc *a = &d->args[i];
    void *p;
    uint64_t len = 0;
    switch (a->kind) {
    case RPC_ARG_OUT:
    case RPC_ARG_OUT_HANDLE:
    case RPC_ARG_OUT_BUF:
    case RPC_ARG_INOUT_BUF:
    case RPC_ARG_HANDLE_ARRAY_OUT: break;
    default: return 0;
    }
    p = *(void *const *)args[i];
    if (!p) return 0;
    if (a->kind == RPC_ARG_OUT) return rpc_get_scalar(r, p, a->size);
    if (a->kind == RPC_ARG_OUT_HANDLE) {
        uint64_t id = rpc_get_u64(r);
        memcpy(p, &id, a->size < 8 ? a->size : 8);
        return rpc_rbuf_ok(r) ? 0 : -1;
    }
    if (rpc_arg_len(d, i, args, &len)) return -1;
    if (a->kind == RPC_ARG_HANDLE_ARRAY_OUT) {
        for (uint64_t j = 0; j < len && rpc_rbuf_ok(r); j++) {
            uint64_t id = rpc_get_u64(r);
            memcpy((char *)p + j * a->size, &id, a->size < 8 ? a->size : 8);
        }
        return rpc_rbuf_ok(r) ? 0 : -1;
    }
    if (len > raw_len - *off) return -1;
    if (len && p != raw + *off) memcpy(p, raw + *off, (size_t)len); /* else received in place */
    *off += (size_t)len;
    return 0;
}

int rpc_decode_reply_generic(const struct rpc_call_desc *d, void *const *args,
                             struct rpc_rbuf *r, const void *raw, size_t raw_len,
                             uint32_t *result)
{
    size_t off = 0;
    uint32_t res = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    *result = res;
    if (res != 0) return rpc_rbuf_done(r) && raw_len == 0 ? 0 : -1;
    for (unsigned i = 0; i < d->nargs; i++)
        if (dec_out_arg(d, i, args, r, raw, raw_len, &off)) return -1;
    return rpc_rbuf_done(r) && off == raw_len ? 0 : -1;
}

int rpc_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                     const void *raw, size_t raw_len, uint32_t *result)
{
    if (d->cls == RPC_CLASS_CUSTOM) {
        const struct rpc_custom *c = custom_of(d);
        return c ? c->decode_reply(d, args, r, raw, raw_len, result) : -1;
    }
    return rpc_decode_reply_generic(d, args, r, raw, raw_len, result);
}

/* ---- worker: decode a call ---------------------------------------------------------
 * Pass 1 reads the wire form of every argument; pass 2 checks each buffer's
 * length against the one recomputed from the decoded values and against the
 * raw bytes that arrived, then places buffers in raw or in one scratch block. */

struct dec {
    const struct rpc_call_desc *d;
    struct rpc_decoded *out;
    uint8_t present[RPC_MAX_ARGS];
    const void *view[RPC_MAX_ARGS]; /* strings and id arrays inside the encoded part */
    int cu;                         /* first CUresult to answer, if any */
};

void rpc_reset_decoded(const struct rpc_call_desc *d, struct rpc_decoded *out)
{
    memset(out, 0, sizeof *out);
    out->desc = d;
    for (unsigned i = 0; i < RPC_MAX_ARGS; i++) out->avalues[i] = &out->val[i];
}

static void dec_fail(struct dec *s, int cu)
{
    if (!s->cu) s->cu = cu;
}

static int dec_present(struct rpc_rbuf *r, uint8_t *present)
{
    uint8_t v = rpc_get_u8(r);
    *present = v;
    return rpc_rbuf_ok(r) && v <= 1 ? 0 : -1;
}

static int dec_wire_ptr(struct dec *s, unsigned i, struct rpc_rbuf *r)
{
    const struct rpc_arg_desc *a = &s->d->args[i];
    struct rpc_decoded *o = s->out;
    uint32_t n;
    if (dec_present(r, &s->present[i])) return -1;
    o->avalues[i] = &o->ptrval[i];
    switch (a->kind) {
    case RPC_ARG_OUT: o->ptrval[i] = s->present[i] ? &o->val[i] : NULL; return 0;
    case RPC_ARG_OUT_HANDLE:
        o->ptrval[i] = s->present[i] ? &o->val[i] : NULL;
        if (s->present[i] && a->mint == RPC_MINT_CLIENT) o->ids[i] = rpc_get_u64(r);
        return rpc_rbuf_ok(r) ? 0 : -1;
    case RPC_ARG_IN_BUF:
    case RPC_ARG_OUT_BUF:
    case RPC_ARG_INOUT_BUF:
        o->lens[i] = (size_t)rpc_get_u64(r);
        return rpc_rbuf_ok(r) ? 0 : -1;
    case RPC_ARG_STRING:
        n = rpc_get_u32(r);
        if (n > RPC_MAX_STRING || !(s->view[i] = rpc_get_view(r, n))) return -1;
        if (!s->present[i] && n) return -1;
        if (memchr(s->view[i], 0, n)) return -1;
        o->lens[i] = n;
        return 0;
    case RPC_ARG_HANDLE_ARRAY_IN:
    case RPC_ARG_HANDLE_ARRAY_OUT:
        n = rpc_get_u32(r);
        if (n > RPC_MAX_HANDLE_ARRAY) return -1;
        o->lens[i] = n;
        if (a->kind == RPC_ARG_HANDLE_ARRAY_OUT || !s->present[i]) return rpc_rbuf_ok(r) ? 0 : -1;
        return (s->view[i] = rpc_get_view(r, (size_t)n * 8)) ? 0 : -1;
    case RPC_ARG_NULL:
        o->ptrval[i] = NULL;
        if (s->present[i]) dec_fail(s, RPC_CU_INVALID_VALUE);
        return 0;
    default: return -1;
    }
}

static int dec_wire(struct dec *s, unsigned i, struct rpc_rbuf *r, const struct rpc_handle_ops *h)
{
    const struct rpc_arg_desc *a = &s->d->args[i];
    struct rpc_decoded *o = s->out;
    if (a->size > sizeof o->val[i].bytes && (a->kind == RPC_ARG_VALUE || a->kind == RPC_ARG_OUT ||
                                             a->kind == RPC_ARG_HANDLE || a->kind == RPC_ARG_OUT_HANDLE))
        return -1;
    switch (a->kind) {
    case RPC_ARG_VALUE:
    case RPC_ARG_DEVPTR: return rpc_get_scalar(r, o->val[i].bytes, a->size);
    case RPC_ARG_HANDLE: {
        o->ids[i] = rpc_get_u64(r);
        if (!rpc_rbuf_ok(r)) return -1;
        int rc = rpc_handle_in(h, a, o->ids[i], o->val[i].bytes);
        if (rc) dec_fail(s, rc);
        return 0;
    }
    default: return dec_wire_ptr(s, i, r);
    }
}

static int is_buffer(const struct rpc_arg_desc *a)
{
    return a->kind == RPC_ARG_IN_BUF || a->kind == RPC_ARG_OUT_BUF ||
           a->kind == RPC_ARG_INOUT_BUF || a->kind == RPC_ARG_HANDLE_ARRAY_IN ||
           a->kind == RPC_ARG_HANDLE_ARRAY_OUT;
}

/* Buffers placed in the scratch block: outputs, arrays, and typed inputs
 * (aligned for the backend); byte inputs point straight into the raw part. */
static int is_scratch(const struct rpc_arg_desc *a)
{
    return is_buffer(a) && (a->kind != RPC_ARG_IN_BUF || a->align > 1);
}

/* Bytes of scratch argument i needs (16-byte aligned slices). */
static uint64_t scratch_need(const struct rpc_arg_desc *a, size_t len)
{
    uint64_t n = len;
    if (a->kind == RPC_ARG_STRING) n = len + 1;
    if (a->kind == RPC_ARG_HANDLE_ARRAY_IN || a->kind == RPC_ARG_HANDLE_ARRAY_OUT)
        n = (uint64_t)len * a->size;
    return (n + 15) & ~(uint64_t)15;
}

/* Lengths against the recomputed ones, raw bytes, limits; sums scratch. */
static int dec_check(struct dec *s, size_t raw_len, uint64_t *scratch)
{
    const struct rpc_call_desc *d = s->d;
    uint64_t in = 0, outb = 0, want;
    *scratch = 0;
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind == RPC_ARG_STRING && s->present[i]) *scratch += scratch_need(a, s->out->lens[i]);
        if (!is_buffer(a)) continue;
        if (rpc_arg_len(d, i, s->out->avalues, &want) || want != s->out->lens[i]) return -1;
        if (!s->present[i]) continue;
        if (a->kind == RPC_ARG_IN_BUF || a->kind == RPC_ARG_INOUT_BUF) in += want;
        if (a->kind == RPC_ARG_OUT_BUF || a->kind == RPC_ARG_INOUT_BUF) outb += want;
        if (in > raw_len) return -1;
        if (outb > RPC_MAX_CALL_BYTES) dec_fail(s, RPC_CU_INVALID_VALUE);
        if (is_scratch(a)) *scratch += scratch_need(a, s->out->lens[i]);
    }
    return in == raw_len ? 0 : -1;
}

static void dec_handles(struct dec *s, unsigned i, uint8_t *dst, const struct rpc_handle_ops *h)
{
    const struct rpc_arg_desc *a = &s->d->args[i];
    for (size_t j = 0; j < s->out->lens[i]; j++) {
        uint64_t id = rpc_uint_at((const uint8_t *)s->view[i] + j * 8, 8);
        int rc = rpc_handle_in(h, a, id, dst + j * a->size);
        if (rc) dec_fail(s, rc);
    }
}

static void dec_place(struct dec *s, const uint8_t *raw, const struct rpc_handle_ops *h)
{
    static uint8_t empty[16];
    struct rpc_decoded *o = s->out;
    uint8_t *sp = o->scratch;
    size_t off = 0;
    for (unsigned i = 0; i < s->d->nargs; i++) {
        const struct rpc_arg_desc *a = &s->d->args[i];
        size_t n = o->lens[i];
        if (a->kind == RPC_ARG_STRING) {
            o->ptrval[i] = s->present[i] ? sp : NULL;
            if (s->present[i]) memcpy(sp, s->view[i], n), sp[n] = 0, sp += scratch_need(a, n);
            continue;
        }
        if (!is_buffer(a)) continue;
        o->ptrval[i] = NULL;
        if (!s->present[i]) continue;
        if (!is_scratch(a)) {
            o->ptrval[i] = n ? (void *)(raw + off) : (void *)empty;
            off += n;
            continue;
        }
        o->ptrval[i] = sp;
        if (a->kind == RPC_ARG_IN_BUF || a->kind == RPC_ARG_INOUT_BUF) {
            if (n) memcpy(sp, raw + off, n);
            off += n;
        }
        if (a->kind == RPC_ARG_HANDLE_ARRAY_IN) dec_handles(s, i, sp, h);
        sp += scratch_need(a, n);
    }
}

int rpc_decode_call(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                    size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    if (d->cls == RPC_CLASS_FORWARD) /* resets out itself */
        return rpc_decode_call_generic(d, r, raw, raw_len, h, out);
    rpc_reset_decoded(d, out);
    if (d->cls == RPC_CLASS_CUSTOM) {
        const struct rpc_custom *c = custom_of(d);
        return c ? c->decode_call(d, r, raw, raw_len, h, out) : RPC_CU_NOT_SUPPORTED;
    }
    return RPC_CU_NOT_SUPPORTED;
}

int rpc_decode_call_generic(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                            size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct dec s = {.d = d, .out = out};
    uint64_t scratch;
    rpc_reset_decoded(d, out);
    if (d->nargs > RPC_MAX_ARGS) return RPC_CU_NOT_SUPPORTED;
    for (unsigned i = 0; i < d->nargs; i++)
        if (dec_wire(&s, i, r, h)) return -1;
    if (!rpc_rbuf_done(r) || dec_check(&s, raw_len, &scratch)) return -1;
    if (s.cu) return s.cu;
    if (scratch && !(out->scratch = calloc(1, (size_t)scratch))) return RPC_CU_OUT_OF_MEMORY;
    dec_place(&s, raw, h);
    if (s.cu) rpc_decoded_free(out);
    return s.cu;
}

void rpc_decoded_free(struct rpc_decoded *dc)
{
    if (!dc) return;
    free(dc->scratch);
    dc->scratch = NULL;
}

/* ---- worker: encode the reply ---------------------------------------------------------- */

int rpc_encode_reply_generic(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                             struct iovec *raw, int *nraw)
{
    const struct rpc_call_desc *d = dc->desc;
    int max = *nraw, n = 0;
    *nraw = 0;
    rpc_put_u32(w, result);
    for (unsigned i = 0; result == 0 && i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        const uint8_t *p = dc->ptrval[i];
        if (!p) continue;
        if (a->kind == RPC_ARG_OUT) rpc_put_scalar(w, p, a->size);
        if (a->kind == RPC_ARG_OUT_HANDLE) rpc_put_u64(w, dc->ids[i]);
        if (a->kind == RPC_ARG_HANDLE_ARRAY_OUT)
            for (size_t j = 0; j < dc->lens[i]; j++) rpc_put_u64(w, rpc_uint_at(p + j * a->size, a->size));
        if ((a->kind == RPC_ARG_OUT_BUF || a->kind == RPC_ARG_INOUT_BUF) && dc->lens[i]) {
            if (n >= max) return w->err = 1, -1;
            raw[n].iov_base = (void *)p;
            raw[n++].iov_len = dc->lens[i];
        }
    }
    *nraw = n;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

int rpc_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                     struct iovec *raw, int *nraw)
{
    if (dc->desc && dc->desc->cls == RPC_CLASS_CUSTOM) {
        const struct rpc_custom *c = custom_of(dc->desc);
        if (c) return c->encode_reply(dc, result, w, raw, nraw);
    }
    return rpc_encode_reply_generic(dc, result, w, raw, nraw);
}
