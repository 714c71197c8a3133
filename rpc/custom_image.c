/* custom_image.c — module and library images (cuModuleLoadData[Ex], cuModuleLoadFatBinary,
 * cuLibraryLoadData): the image travels as raw bytes (PTX text with its NUL, a
 * fatbin container or ELF by its own size, a __fatBinC_Wrapper_t as its data
 * container plus, for version 2, each linked container, rebuilt by the worker).
 * JIT options travel as custom_jit.h says: log buffers come back as text, sizes
 * and other written values too (even when the load fails). Library options are
 * checked as the driver checks them and then dropped: the server owns its copy
 * of the image, so CU_LIBRARY_BINARY_IS_PRESERVED must not reach the backend. */
#include <stdlib.h>
#include <string.h>

#include "custom_jit.h"
#include "fatbin.h"

#define MAX_PARTS 4096u

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

/* The application's JIT option arrays (n = 0 where the entry point has none). */
static void jit_arrays(const struct rpc_call_desc *d, void *const *args, unsigned *n,
                       CUjit_option **opts, void ***vals)
{
    struct jit_args j = jit_of(d);
    *n = 0, *opts = NULL, *vals = NULL;
    if (j.opts < 0) return;
    *n = (unsigned)rpc_uint_at(args[j.num], d->args[j.num].size);
    *opts = *(CUjit_option *const *)args[j.opts];
    *vals = *(void **const *)args[j.vals];
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

/* cuLibraryLoadData's library options, checked as the driver checks them (the
 * value array may be NULL when every option given is a flag). Not sent. */
static int check_library_options(const struct rpc_call_desc *d, void *const *args)
{
    if (d->nargs != 8) return 0;
    unsigned n = (unsigned)rpc_uint_at(args[7], d->args[7].size);
    const CUlibraryOption *opt = *(CUlibraryOption *const *)args[5];
    void *const *val = *(void *const *const *)args[6];
    if (n && !opt) return RPC_CU_INVALID_VALUE;
    for (unsigned i = 0; i < n; i++)
        if ((unsigned)opt[i] >= CU_LIBRARY_NUM_OPTIONS ||
            (!val && opt[i] != CU_LIBRARY_BINARY_IS_PRESERVED))
            return RPC_CU_INVALID_VALUE;
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
    if ((rc = check_library_options(d, args))) return rc;
    unsigned n;
    CUjit_option *opts;
    void **vals;
    jit_arrays(d, args, &n, &opts, &vals);
    if ((rc = rpc_jit_encode(w, n, opts, vals))) return rc;
    *nraw = (int)ps.n;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int image_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                              const void *raw, size_t raw_len, uint32_t *result)
{
    void *out = *(void *const *)args[0];
    unsigned n;
    CUjit_option *opts;
    void **vals;
    uint32_t res = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || raw_len) return -1;
    *result = res;
    (void)raw;
    if (rpc_rbuf_done(r)) return 0; /* refused before the backend ran: nothing written */
    if (res == 0 && out) {
        uint64_t id = rpc_get_u64(r);
        memcpy(out, &id, d->args[0].size < 8 ? d->args[0].size : 8);
    }
    jit_arrays(d, args, &n, &opts, &vals);
    if (rpc_jit_decode_reply(r, n, opts, vals, NULL)) return -1;
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* ---- worker ----------------------------------------------------------------------- */

/* Head of the decoded call's scratch block. */
struct image_scratch {
    struct rpc_jit jit;
    struct wrapper wrapper;
};

struct wire_image {
    uint8_t present, kind;
    uint32_t version, n;
    const uint8_t *sizes; /* a view into the encoded part */
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
    return total == raw_len ? 0 : -1;
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

static size_t parts_size(const struct wire_image *wi)
{
    size_t n = 0;
    for (uint32_t i = 0; i < wi->n; i++) n += align16((size_t)rpc_uint_at(wi->sizes + 8 * i, 8));
    return n + align16((wi->n + 1) * sizeof(void *));
}

/* Lays out the parts (and the wrapper) after the head; returns the image pointer. */
static const void *place_image(const struct wire_image *wi, const uint8_t *raw, uint8_t *sp)
{
    struct image_scratch *hd = (struct image_scratch *)sp;
    uint8_t *first = sp + align16(sizeof *hd), *p = first;
    const void **parts = (const void **)(first + parts_size(wi) -
                                         align16((wi->n + 1) * sizeof(void *)));
    size_t off = 0;
    for (uint32_t i = 0; i < wi->n; i++) {
        size_t s = (size_t)rpc_uint_at(wi->sizes + 8 * i, 8);
        memcpy(p, raw + off, s);
        parts[i] = p;
        off += s;
        p += align16(s);
    }
    parts[wi->n] = NULL;
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
                     const void *image, const struct rpc_jit *jit)
{
    struct jit_args j = jit_of(d);
    for (unsigned i = 0; i < d->nargs; i++) {
        out->ptrval[i] = NULL;
        out->avalues[i] = &out->ptrval[i];
    }
    out->ptrval[0] = present ? &out->val[0] : NULL;
    out->ptrval[1] = (void *)image;
    if (j.opts < 0) return;
    out->ptrval[j.opts] = jit->n ? jit->opts : NULL;
    out->ptrval[j.vals] = jit->n ? jit->vals : NULL;
    out->avalues[j.num] = &out->val[j.num];
    memcpy(out->val[j.num].bytes, &jit->n, sizeof jit->n); /* unsigned int; library counts stay 0 */
    if (d->nargs == 8) out->avalues[7] = &out->val[7];
}

static int image_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                        size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct wire_image wi = {0};
    struct rpc_jit jit;
    (void)h;
    if (d->nargs < 2 || read_image(r, raw_len, &wi) || rpc_jit_decode(r, &jit)) return -1;
    if (!rpc_rbuf_done(r) || (jit_of(d).opts < 0 && jit.n)) return -1;
    if (!parts_ok(&wi, raw)) return RPC_CU_INVALID_IMAGE;
    size_t head = align16(sizeof(struct image_scratch)), parts = parts_size(&wi);
    if (!(out->scratch = calloc(1, head + parts + rpc_jit_size(&jit)))) return RPC_CU_OUT_OF_MEMORY;
    struct image_scratch *hd = out->scratch;
    hd->jit = jit;
    rpc_jit_place(&hd->jit, (uint8_t *)out->scratch + head + parts);
    set_args(d, out, wi.present, place_image(&wi, raw, out->scratch), &hd->jit);
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
    rpc_jit_encode_reply(w, hd ? &hd->jit : NULL);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_image = {
    "image", image_encode, image_decode_reply, image_decode, image_encode_reply,
};
