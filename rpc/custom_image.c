/* custom_image.c — module and library images (cuModuleLoadData[Ex], cuModuleLoadFatBinary,
 * cuLibraryLoadData): the image travels as raw bytes (PTX text with its NUL, a
 * fatbin container or ELF by its own size, a __fatBinC_Wrapper_t as its data
 * container plus, for version 2, each linked container, rebuilt by the worker).
 * JIT options: only value-typed ones travel; log buffers travel as sizes and
 * come back as text (even when the load fails). Library options are dropped:
 * the server owns its copy of the image. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"
#include "fatbin.h"

#define MAX_PARTS 4096u
#define MAX_OPTIONS 64u
#define MAX_LOG (64u << 10)

struct wrapper { /* __fatBinC_Wrapper_t */
    int32_t magic, version;
    const void *data;
    const void *const *linked;
};

/* Where the JIT options of each entry point are (argument indices). */
struct jit_args {
    int opts, vals, num; /* -1: none */
};

static struct jit_args jit_of(const struct rpc_call_desc *d)
{
    if (!strcmp(d->base, "cuModuleLoadDataEx") && d->nargs == 5) return (struct jit_args){3, 4, 2};
    if (!strcmp(d->base, "cuLibraryLoadData") && d->nargs == 8) return (struct jit_args){2, 3, 4};
    return (struct jit_args){-1, -1, -1};
}

static int value_option(uint32_t o)
{
    static const uint8_t ok[] = {0, 1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 20, 21, 22, 23, 24, 29, 30, 31, 32, 33, 34};
    for (size_t i = 0; i < sizeof ok; i++)
        if (ok[i] == o) return 1;
    return 0;
}

/* ---- client ------------------------------------------------------------------- */

struct parts {
    int kind, version;
    uint32_t n;
    const void *p[MAX_PARTS];
    uint64_t size[MAX_PARTS];
};

static int wrapper_parts(const struct wrapper *wp, struct parts *ps)
{
    ps->version = wp->version;
    ps->p[ps->n++] = wp->data;
    if (wp->version == 2 && wp->linked)
        for (uint32_t i = 0; wp->linked[i]; i++) {
            if (ps->n >= MAX_PARTS) return RPC_CU_INVALID_IMAGE;
            ps->p[ps->n++] = wp->linked[i];
        }
    for (uint32_t i = 0; i < ps->n; i++)
        if (!ps->p[i] || !(ps->size[i] = rg_fatbin_container_size(ps->p[i], SIZE_MAX)))
            return RPC_CU_INVALID_IMAGE;
    return 0;
}

static int image_parts(const void *image, struct parts *ps)
{
    ps->n = 0;
    ps->version = 0;
    if (!image) return RPC_CU_INVALID_VALUE;
    ps->kind = rg_image_kind(image);
    if (ps->kind == RG_IMAGE_WRAPPER) {
        const struct wrapper *wp = image;
        if (wp->version != 1 && wp->version != 2) return RPC_CU_INVALID_IMAGE;
        return wrapper_parts(wp, ps);
    }
    if (ps->kind != RG_IMAGE_PTX && ps->kind != RG_IMAGE_CONTAINER && ps->kind != RG_IMAGE_ELF)
        return RPC_CU_INVALID_IMAGE;
    ps->p[0] = image;
    ps->size[0] = rg_image_size(image);
    ps->n = 1;
    return ps->size[0] ? 0 : RPC_CU_INVALID_IMAGE;
}

static int enc_options(struct rpc_wbuf *w, const struct rpc_call_desc *d, void *const *args)
{
    struct jit_args j = jit_of(d);
    uint32_t n = 0, kept = 0;
    const CUjit_option *opts = NULL;
    void *const *vals = NULL;
    if (j.opts >= 0) {
        n = (uint32_t)rpc_uint_at(args[j.num], d->args[j.num].size);
        opts = *(CUjit_option *const *)args[j.opts];
        vals = *(void *const *const *)args[j.vals];
    }
    if (n && (!opts || !vals)) return RPC_CU_INVALID_VALUE;
    if (n > MAX_OPTIONS) return RPC_CU_INVALID_VALUE;
    for (uint32_t i = 0; i < n; i++)
        kept += value_option(opts[i]) || opts[i] == CU_JIT_INFO_LOG_BUFFER ||
                opts[i] == CU_JIT_ERROR_LOG_BUFFER;
    rpc_put_u32(w, kept);
    for (uint32_t i = 0; i < n; i++) {
        int log = opts[i] == CU_JIT_INFO_LOG_BUFFER || opts[i] == CU_JIT_ERROR_LOG_BUFFER;
        if (!value_option(opts[i]) && !log) continue;
        rpc_put_u32(w, opts[i]);
        rpc_put_u64(w, log ? 0 : (uint64_t)(uintptr_t)vals[i]);
    }
    return 0;
}

static int image_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                        struct iovec *raw, int *nraw)
{
    static _Thread_local struct parts ps;
    int max = *nraw, rc;
    uint64_t total = 0;
    *nraw = 0;
    if (d->nargs < 2) return RPC_CU_NOT_SUPPORTED;
    if ((rc = image_parts(*(const void *const *)args[1], &ps))) return rc;
    if ((int)ps.n > max) return RPC_CU_NOT_SUPPORTED;
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_put_u8(w, (uint8_t)ps.kind);
    rpc_put_u32(w, (uint32_t)ps.version);
    rpc_put_u32(w, ps.n);
    for (uint32_t i = 0; i < ps.n; i++) {
        rpc_put_u64(w, ps.size[i]);
        raw[i].iov_base = (void *)ps.p[i];
        raw[i].iov_len = (size_t)ps.size[i];
        total += ps.size[i];
    }
    if (total > RPC_MAX_CALL_BYTES) return RPC_CU_INVALID_VALUE;
    if ((rc = enc_options(w, d, args))) return rc;
    *nraw = (int)ps.n;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* Copies the returned log text into the application's buffer and size slot. */
static void put_log(const struct rpc_call_desc *d, void *const *args, CUjit_option which,
                    const char *text, uint32_t len)
{
    struct jit_args j = jit_of(d);
    if (j.opts < 0) return;
    uint32_t n = (uint32_t)rpc_uint_at(args[j.num], d->args[j.num].size);
    CUjit_option *opts = *(CUjit_option *const *)args[j.opts];
    void **vals = *(void **const *)args[j.vals];
    char *buf = NULL;
    int size_at = -1;
    for (uint32_t i = 0; opts && vals && i < n && i < MAX_OPTIONS; i++) {
        if (opts[i] == which) buf = vals[i];
        if (opts[i] == which + 1) size_at = (int)i; /* *_SIZE_BYTES follows its buffer */
    }
    if (!buf || size_at < 0) return;
    size_t cap = (size_t)(uintptr_t)vals[size_at];
    if (cap == 0) return;
    size_t k = len < cap - 1 ? len : cap - 1;
    memcpy(buf, text, k);
    buf[k] = 0;
    vals[size_at] = (void *)(uintptr_t)(k ? k + 1 : 0);
}

static int image_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                              const void *raw, size_t raw_len, uint32_t *result)
{
    void *out = *(void *const *)args[0];
    uint32_t res = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || raw_len) return -1;
    *result = res;
    if (res == 0 && out) {
        uint64_t id = rpc_get_u64(r);
        memcpy(out, &id, d->args[0].size < 8 ? d->args[0].size : 8);
    }
    for (int k = 0; k < 2; k++) {
        size_t len;
        const char *text = rpc_get_blob(r, &len);
        if (!rpc_rbuf_ok(r) || len > MAX_LOG) return -1;
        if (len) put_log(d, args, k ? CU_JIT_ERROR_LOG_BUFFER : CU_JIT_INFO_LOG_BUFFER, text,
                         (uint32_t)len);
    }
    (void)raw;
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* ---- worker ----------------------------------------------------------------------- */

/* Head of the decoded call's scratch block. */
struct image_scratch {
    char *log[2];
    size_t cap[2];
    struct wrapper wrapper;
};

struct wire_image {
    uint8_t present, kind;
    uint32_t version, n, nopt;
    const uint8_t *sizes, *opts; /* views into the encoded part */
    uint64_t log_size[2];
    int has_log[2];
};

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static int read_image(struct rpc_rbuf *r, size_t raw_len, struct wire_image *wi)
{
    uint64_t total = 0;
    wi->present = rpc_get_u8(r);
    wi->kind = rpc_get_u8(r);
    wi->version = rpc_get_u32(r);
    wi->n = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || wi->present > 1 || wi->n == 0 || wi->n > MAX_PARTS) return -1;
    if (!(wi->sizes = rpc_get_view(r, (size_t)wi->n * 8))) return -1;
    for (uint32_t i = 0; i < wi->n; i++) {
        uint64_t s = rpc_uint_at(wi->sizes + 8 * i, 8);
        if (s > raw_len || (total += s) > raw_len) return -1;
    }
    if (total != raw_len) return -1;
    wi->nopt = rpc_get_u32(r);
    if (wi->nopt > MAX_OPTIONS) return -1;
    wi->opts = rpc_get_view(r, (size_t)wi->nopt * 12);
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* The image's own description must fit the bytes that came (DESIGN rule 6). */
static int part_ok(const struct wire_image *wi, const uint8_t *p, uint64_t size)
{
    if (wi->kind == RG_IMAGE_WRAPPER) {
        size_t s = size ? rg_fatbin_container_size(p, (size_t)size) : 0;
        return s && s <= size;
    }
    if (wi->kind == RG_IMAGE_PTX) return size && p[size - 1] == 0;
    if (wi->kind == RG_IMAGE_CONTAINER || wi->kind == RG_IMAGE_ELF)
        return size && rg_image_size_avail(p, (size_t)size) != 0;
    return 0;
}

/* Checks options, finds log sizes; returns 0 or INVALID_VALUE. */
static int check_options(struct wire_image *wi)
{
    for (uint32_t i = 0; i < wi->nopt; i++) {
        uint32_t o = (uint32_t)rpc_uint_at(wi->opts + 12 * i, 4);
        uint64_t v = rpc_uint_at(wi->opts + 12 * i + 4, 8);
        if (o == CU_JIT_INFO_LOG_BUFFER || o == CU_JIT_ERROR_LOG_BUFFER)
            wi->has_log[o == CU_JIT_ERROR_LOG_BUFFER] = 1;
        else if (!value_option(o))
            return RPC_CU_INVALID_VALUE;
        if (o == CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES || o == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
            wi->log_size[o == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES] = v < MAX_LOG ? v : MAX_LOG;
    }
    return 0;
}

static size_t scratch_size(const struct wire_image *wi)
{
    size_t n = align16(sizeof(struct image_scratch));
    for (uint32_t i = 0; i < wi->n; i++) n += align16((size_t)rpc_uint_at(wi->sizes + 8 * i, 8));
    n += align16((wi->n + 1) * sizeof(void *));
    n += align16(wi->nopt * sizeof(CUjit_option)) + align16(wi->nopt * sizeof(void *));
    return n + align16(wi->log_size[0] + 1) + align16(wi->log_size[1] + 1);
}

/* Lays out parts, wrapper, options and logs in scratch; returns the image pointer. */
static const void *place_image(const struct wire_image *wi, const uint8_t *raw, uint8_t *sp,
                               CUjit_option **opts, void ***vals)
{
    struct image_scratch *hd = (struct image_scratch *)sp;
    uint8_t *p = sp + align16(sizeof *hd);
    size_t off = 0;
    for (uint32_t i = 0; i < wi->n; i++) {
        size_t s = (size_t)rpc_uint_at(wi->sizes + 8 * i, 8);
        memcpy(p, raw + off, s);
        off += s;
        p += align16(s);
    }
    const void **parts = (const void **)p;
    p += align16((wi->n + 1) * sizeof(void *));
    *opts = (CUjit_option *)p;
    p += align16(wi->nopt * sizeof(CUjit_option));
    *vals = (void **)p;
    p += align16(wi->nopt * sizeof(void *));
    for (int k = 0; k < 2; k++) {
        hd->log[k] = wi->has_log[k] ? (char *)p : NULL;
        hd->cap[k] = wi->log_size[k];
        p += align16(wi->log_size[k] + 1);
    }
    uint8_t *first = sp + align16(sizeof *hd);
    uint8_t *q = first;
    for (uint32_t i = 0; i < wi->n; i++) {
        parts[i] = q;
        q += align16((size_t)rpc_uint_at(wi->sizes + 8 * i, 8));
    }
    parts[wi->n] = NULL;
    for (uint32_t i = 0; i < wi->nopt; i++) {
        uint32_t o = (uint32_t)rpc_uint_at(wi->opts + 12 * i, 4);
        uint64_t v = rpc_uint_at(wi->opts + 12 * i + 4, 8);
        (*opts)[i] = (CUjit_option)o;
        if (o == CU_JIT_INFO_LOG_BUFFER || o == CU_JIT_ERROR_LOG_BUFFER)
            v = (uintptr_t)hd->log[o == CU_JIT_ERROR_LOG_BUFFER];
        if (o == CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES || o == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
            v = hd->cap[o == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES];
        (*vals)[i] = (void *)(uintptr_t)v;
    }
    if (wi->kind != RG_IMAGE_WRAPPER) return first;
    hd->wrapper = (struct wrapper){(int32_t)RG_FATBINC_MAGIC, (int32_t)wi->version, parts[0],
                                   wi->version == 2 ? parts + 1 : NULL};
    return &hd->wrapper;
}

static int parts_ok(const struct wire_image *wi, const uint8_t *raw)
{
    size_t off = 0;
    if (wi->kind == RG_IMAGE_WRAPPER ? (wi->version != 1 && wi->version != 2) : wi->n != 1)
        return 0;
    for (uint32_t i = 0; i < wi->n; i++) {
        uint64_t s = rpc_uint_at(wi->sizes + 8 * i, 8);
        if (!part_ok(wi, raw + off, s)) return 0;
        off += (size_t)s;
    }
    return 1;
}

static void set_args(const struct rpc_call_desc *d, struct rpc_decoded *out, int present,
                     const void *image, CUjit_option *opts, void **vals, uint32_t nopt)
{
    struct jit_args j = jit_of(d);
    for (unsigned i = 0; i < d->nargs; i++) {
        out->ptrval[i] = NULL;
        out->avalues[i] = &out->ptrval[i];
    }
    out->ptrval[0] = present ? &out->val[0] : NULL;
    out->ptrval[1] = (void *)image;
    if (j.opts < 0) return;
    out->ptrval[j.opts] = nopt ? opts : NULL;
    out->ptrval[j.vals] = nopt ? vals : NULL;
    out->avalues[j.num] = &out->val[j.num];
    memcpy(out->val[j.num].bytes, &nopt, sizeof nopt); /* unsigned int; library counts stay 0 */
    if (d->nargs == 8) out->avalues[7] = &out->val[7];
}

static int image_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                        size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct wire_image wi = {0};
    CUjit_option *opts;
    void **vals;
    (void)h;
    if (d->nargs < 2 || read_image(r, raw_len, &wi)) return -1;
    if (!parts_ok(&wi, raw)) return RPC_CU_INVALID_IMAGE;
    if (jit_of(d).opts < 0 && wi.nopt) return -1;
    int rc = check_options(&wi);
    if (rc) return rc;
    if (!(out->scratch = calloc(1, scratch_size(&wi)))) return RPC_CU_OUT_OF_MEMORY;
    const void *image = place_image(&wi, raw, out->scratch, &opts, &vals);
    set_args(d, out, wi.present, image, opts, vals, wi.nopt);
    return 0;
}

static int image_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                              struct iovec *raw, int *nraw)
{
    const struct image_scratch *hd = dc->scratch;
    *nraw = 0;
    (void)raw;
    rpc_put_u32(w, result);
    if (result == 0 && dc->ptrval[0]) rpc_put_u64(w, dc->ids[0]);
    for (int k = 0; k < 2; k++) {
        size_t len = hd && hd->log[k] ? strnlen(hd->log[k], hd->cap[k]) : 0;
        rpc_put_blob(w, len ? hd->log[k] : "", len);
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_image = {
    "image", image_encode, image_decode_reply, image_decode, image_encode_reply,
};
