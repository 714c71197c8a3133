/* custom_image.c — module and library images (cuModuleLoadData[Ex], cuModuleLoadFatBinary,
 * cuLibraryLoadData): the image travels as raw bytes (PTX text with its NUL, a
 * fatbin container or ELF by its own size, a __fatBinC_Wrapper_t as its data
 * container plus, for version 2, each linked container, rebuilt by the worker).
 * JIT options travel as custom_jit.h says: log buffers come back as text, sizes
 * and other written values too (even when the load fails). Library options are
 * checked as the driver checks them and then dropped: the server owns its copy
 * of the image, so CU_LIBRARY_BINARY_IS_PRESERVED must not reach the backend.
 * Each part goes by its SHA-256 alone when the worker already has it
 * (image_wire.h: sent once per session, cached across sessions). */
#include <stdlib.h>
#include <string.h>

#include "custom_jit.h"
#include "fatbin.h"
#include "image_wire.h"

const struct rpc_image_ops *rpc_image_ops_now;

void rpc_set_image_ops(const struct rpc_image_ops *ops)
{
    __atomic_store_n(&rpc_image_ops_now, ops, __ATOMIC_RELEASE);
}

static const struct rpc_image_ops *image_ops(void)
{
    return __atomic_load_n(&rpc_image_ops_now, __ATOMIC_ACQUIRE);
}

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
    uint8_t hash[MAX_PARTS][RG_SHA256_LEN];
    uint8_t known[MAX_PARTS]; /* the worker has the part: only its hash is sent */
};

/* The calling thread's parts, from the encode to the reply (heap: large). */
static struct parts *thread_parts(void)
{
    static _Thread_local struct parts *ps;
    if (!ps) ps = malloc(sizeof *ps);
    return ps;
}

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

/* Names every part by its hash and asks which ones the worker has. */
static void hash_parts(struct parts *ps)
{
    const struct rpc_image_ops *ops = image_ops();
    for (uint32_t i = 0; i < ps->n; i++)
        rg_sha256(ps->p[i], (size_t)ps->size[i], ps->hash[i]);
    memset(ps->known, 0, ps->n);
    if (ops && ops->known)
        ops->known(ops->self, ps->n, (const uint8_t(*)[RG_SHA256_LEN])ps->hash, ps->size,
                   ps->known);
}

static int image_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                        struct iovec *raw, int *nraw)
{
    struct parts *ps = thread_parts();
    int max = *nraw, rc, k = 0;
    uint64_t total = 0;
    *nraw = 0;
    if (d->nargs < 2) return RPC_CU_NOT_SUPPORTED;
    if (!ps) return RPC_CU_OUT_OF_MEMORY;
    if ((rc = image_parts(*(const void *const *)args[1], ps))) return rc;
    if ((int)ps->n > max) return RPC_CU_NOT_SUPPORTED;
    for (uint32_t i = 0; i < ps->n; i++)
        total += ps->size[i];
    if (total > RPC_MAX_CALL_BYTES) return RPC_CU_INVALID_VALUE;
    if ((rc = check_library_options(d, args))) return rc;
    hash_parts(ps);
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_put_u8(w, (uint8_t)ps->kind);
    rpc_put_u32(w, (uint32_t)ps->version);
    rpc_put_u32(w, ps->n);
    for (uint32_t i = 0; i < ps->n; i++) {
        rpc_put_u64(w, ps->size[i]);
        rpc_put_u8(w, ps->known[i] ? RPC_IMAGE_PART_HASH : RPC_IMAGE_PART_BYTES);
        if (ps->known[i]) {
            rpc_put_bytes(w, ps->hash[i], RG_SHA256_LEN);
            continue;
        }
        raw[k].iov_base = (void *)ps->p[i];
        raw[k++].iov_len = (size_t)ps->size[i];
    }
    unsigned n;
    CUjit_option *opts;
    void **vals;
    jit_arrays(d, args, &n, &opts, &vals);
    if ((rc = rpc_jit_encode(w, n, opts, vals))) return rc;
    *nraw = k;
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
    uint8_t kept = rpc_get_u8(r); /* the worker keeps the parts for the session */
    if (!rpc_rbuf_done(r) || kept > 1) return -1;
    struct parts *ps = thread_parts();
    const struct rpc_image_ops *ops = image_ops();
    if (kept && ps && ops && ops->sent)
        ops->sent(ops->self, ps->n, (const uint8_t(*)[RG_SHA256_LEN])ps->hash, ps->size);
    return 0;
}

/* ---- worker ----------------------------------------------------------------------- */

/* Head of the decoded call's scratch block; then the parts' bytes, the parts'
 * addresses (NULL-terminated), which parts came as bytes, the JIT block. */
struct image_scratch {
    struct rpc_jit jit;
    struct wrapper wrapper;
    uint32_t n;
    const void **parts;
    const uint64_t *sizes;
    const uint8_t *fresh; /* 1: the part's bytes came with this call */
};

struct wire_part {
    uint64_t size;
    const uint8_t *p; /* in the raw bytes, or the worker's kept copy */
    uint8_t fresh;
};

struct wire_image {
    uint8_t present, kind;
    uint32_t version, n;
    struct wire_part *part; /* heap, n entries */
};

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* One part's description; bytes parts take their place in raw (*off), hash
 * parts are looked up among the parts the session keeps. 0, -1 (malformed) or
 * RPC_CU_INVALID_IMAGE (a hash the worker does not have). */
static int read_part(struct rpc_rbuf *r, const uint8_t *raw, size_t raw_len, size_t *off,
                     struct wire_part *wp)
{
    const struct rpc_image_ops *ops = image_ops();
    wp->size = rpc_get_u64(r);
    uint8_t how = rpc_get_u8(r);
    if (!rpc_rbuf_ok(r) || how > RPC_IMAGE_PART_HASH || wp->size > RPC_MAX_CALL_BYTES) return -1;
    if (how == RPC_IMAGE_PART_BYTES) {
        if (wp->size > raw_len - *off) return -1;
        wp->p = raw + *off;
        wp->fresh = 1;
        *off += (size_t)wp->size;
        return 0;
    }
    const uint8_t *hash = rpc_get_view(r, RG_SHA256_LEN);
    if (!hash) return -1;
    wp->fresh = 0;
    wp->p = ops && ops->lookup ? ops->lookup(ops->self, hash, wp->size) : NULL;
    return wp->p ? 0 : RPC_CU_INVALID_IMAGE;
}

static int read_image(struct rpc_rbuf *r, const void *raw, size_t raw_len, struct wire_image *wi)
{
    uint64_t total = 0;
    size_t off = 0;
    int rc = 0;
    wi->present = rpc_get_u8(r);
    wi->kind = rpc_get_u8(r);
    wi->version = rpc_get_u32(r);
    wi->n = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || wi->present > 1 || wi->n == 0 || wi->n > MAX_PARTS) return -1;
    if (!(wi->part = calloc(wi->n, sizeof *wi->part))) return RPC_CU_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < wi->n; i++) {
        int prc = read_part(r, raw, raw_len, &off, &wi->part[i]);
        if (prc < 0) return -1;
        if (prc && !rc) rc = prc; /* the rest must still be well-formed */
        if ((total += wi->part[i].size) > RPC_MAX_CALL_BYTES) return -1;
    }
    return off == raw_len ? rc : -1;
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

/* Bytes of the block after the head: the parts, their addresses, sizes and flags. */
static size_t parts_size(const struct wire_image *wi)
{
    size_t n = 0;
    for (uint32_t i = 0; i < wi->n; i++)
        n += align16((size_t)wi->part[i].size);
    return n + align16((wi->n + 1) * sizeof(void *)) + align16(wi->n * sizeof(uint64_t)) +
           align16(wi->n);
}

/* Lays out the parts (and the wrapper) after the head; returns the image pointer. */
static const void *place_image(const struct wire_image *wi, uint8_t *sp)
{
    struct image_scratch *hd = (struct image_scratch *)sp;
    uint8_t *p = sp + align16(sizeof *hd);
    const uint8_t *first = p;
    size_t data = 0;
    for (uint32_t i = 0; i < wi->n; i++)
        data += align16((size_t)wi->part[i].size);
    const void **parts = (const void **)(p + data);
    uint64_t *sizes = (uint64_t *)((uint8_t *)parts + align16((wi->n + 1) * sizeof(void *)));
    uint8_t *fresh = (uint8_t *)sizes + align16(wi->n * sizeof(uint64_t));
    for (uint32_t i = 0; i < wi->n; i++) {
        size_t s = (size_t)wi->part[i].size;
        memcpy(p, wi->part[i].p, s);
        parts[i] = p;
        sizes[i] = s;
        fresh[i] = wi->part[i].fresh;
        p += align16(s);
    }
    parts[wi->n] = NULL;
    hd->n = wi->n;
    hd->parts = parts;
    hd->sizes = sizes;
    hd->fresh = fresh;
    if (wi->kind != RG_IMAGE_WRAPPER) return first;
    hd->wrapper = (struct wrapper){(int32_t)RG_FATBINC_MAGIC, (int32_t)wi->version, parts[0],
                                   wi->version == 2 ? parts + 1 : NULL};
    return &hd->wrapper;
}

static int parts_ok(const struct wire_image *wi)
{
    if (wi->kind == RG_IMAGE_WRAPPER ? (wi->version != 1 && wi->version != 2) : wi->n != 1)
        return 0;
    for (uint32_t i = 0; i < wi->n; i++)
        if (!part_ok(wi, wi->part[i].p, wi->part[i].size)) return 0;
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

static int image_decode_parts(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                              size_t raw_len, struct wire_image *wi, struct rpc_decoded *out)
{
    struct rpc_jit jit;
    int rc = read_image(r, raw, raw_len, wi);
    if (rc < 0 || rpc_jit_decode(r, &jit)) return -1;
    if (!rpc_rbuf_done(r) || (jit_of(d).opts < 0 && jit.n)) return -1;
    if (rc) return rc;
    if (!parts_ok(wi)) return RPC_CU_INVALID_IMAGE;
    size_t head = align16(sizeof(struct image_scratch)), parts = parts_size(wi);
    if (!(out->scratch = calloc(1, head + parts + rpc_jit_size(&jit)))) return RPC_CU_OUT_OF_MEMORY;
    struct image_scratch *hd = out->scratch;
    hd->jit = jit;
    rpc_jit_place(&hd->jit, (uint8_t *)out->scratch + head + parts);
    set_args(d, out, wi->present, place_image(wi, out->scratch), &hd->jit);
    return 0;
}

static int image_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                        size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    struct wire_image wi = {0};
    (void)h;
    if (d->nargs < 2) return -1;
    int rc = image_decode_parts(d, r, raw, raw_len, &wi, out);
    free(wi.part);
    return rc;
}

/* The backend ran: the parts that came as bytes are kept for the session
 * (and cached); 1 when the worker now has every part. */
static int keep_parts(const struct image_scratch *hd)
{
    const struct rpc_image_ops *ops = image_ops();
    int kept = ops && ops->store && ops->lookup;
    for (uint32_t i = 0; kept && i < hd->n; i++)
        if (hd->fresh[i] && ops->store(ops->self, hd->parts[i], hd->sizes[i])) kept = 0;
    return kept;
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
    rpc_put_u8(w, hd ? (uint8_t)keep_parts(hd) : 0);
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_image = {
    "image", image_encode, image_decode_reply, image_decode, image_encode_reply,
};
