/* custom_link.c — cuLinkCreate / cuLinkAddData / cuLinkComplete / cuLinkDestroy
 * (and the legacy names). A link state keeps the JIT options it was created
 * with for its whole life: the driver writes its logs (and their sizes) into
 * them during cuLinkAddData and cuLinkComplete. So both sides keep per-state
 * records until cuLinkDestroy:
 *   worker: the option arrays and log buffers handed to the backend at create,
 *           by real CUlinkState; every reply of the state's calls carries them;
 *   shim:   the application's option arrays (it must keep them alive, as for
 *           the driver) and the copy of the linked image cuLinkComplete
 *           returned, by state id: the driver's cubinOut pointer stays valid
 *           until cuLinkDestroy, and so does the shim's copy.
 * Wire (calls; J = custom_jit.h options):
 *   create:   J, u8 present(stateOut)
 *   add data: u64 state, u32 type, u8 present(data), u64 bytes, str name, J; raw: the bytes
 *   complete: u64 state, u8 present(cubinOut), u8 present(sizeOut)
 *   destroy:  u64 state
 * Replies: u32 result, then (unless refused before the backend ran) create:
 * [u64 id] + the state's J reply; add data: the call's J reply + the state's;
 * complete: the state's J reply [+ u64 size, raw image]; destroy: nothing. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "custom_jit.h"
#include "fatbin.h"

enum link_op { L_CREATE, L_ADD, L_COMPLETE, L_DESTROY, L_NONE };

static enum link_op op_of(const struct rpc_call_desc *d)
{
    if (!strcmp(d->base, "cuLinkCreate") && d->nargs == 4) return L_CREATE;
    if (!strcmp(d->base, "cuLinkAddData") && d->nargs == 8) return L_ADD;
    if (!strcmp(d->base, "cuLinkComplete") && d->nargs == 3) return L_COMPLETE;
    if (!strcmp(d->base, "cuLinkDestroy") && d->nargs == 1) return L_DESTROY;
    return L_NONE;
}

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* ---- client: per-state records ----------------------------------------------------- */

struct client_state {
    uint64_t id;
    unsigned n;
    CUjit_option *opts; /* a copy */
    void **vals;        /* the application's array */
    void **sent;        /* its values at cuLinkCreate: the log capacities the driver keeps */
    void *image;        /* the last cuLinkComplete's image */
    struct client_state *next;
};

static struct client_state *client_states;
static pthread_mutex_t client_mu = PTHREAD_MUTEX_INITIALIZER;

/* Under client_mu. */
static struct client_state *client_find(uint64_t id)
{
    struct client_state *c = client_states;
    while (c && c->id != id) c = c->next;
    return c;
}

static int client_add(uint64_t id, unsigned n, const CUjit_option *opts, void **vals)
{
    struct client_state *c = calloc(1, sizeof *c);
    if (c && n && (!(c->opts = malloc(n * sizeof *opts)) || !(c->sent = malloc(n * sizeof *vals)))) {
        free(c->opts);
        free(c);
        c = NULL;
    }
    if (!c) return -1;
    if (n) memcpy(c->opts, opts, n * sizeof *opts), memcpy(c->sent, vals, n * sizeof *vals);
    c->id = id, c->n = n, c->vals = vals;
    pthread_mutex_lock(&client_mu);
    c->next = client_states;
    client_states = c;
    pthread_mutex_unlock(&client_mu);
    return 0;
}

static void client_remove(uint64_t id)
{
    pthread_mutex_lock(&client_mu);
    struct client_state **pp = &client_states, *c;
    while ((c = *pp) && c->id != id) pp = &c->next;
    if (c) *pp = c->next;
    pthread_mutex_unlock(&client_mu);
    if (!c) return;
    free(c->opts);
    free(c->sent);
    free(c->image);
    free(c);
}

/* The state's own J reply into the application's create-time arrays. */
static int client_state_logs(uint64_t id, struct rpc_rbuf *r)
{
    pthread_mutex_lock(&client_mu);
    struct client_state *c = client_find(id);
    int rc = rpc_jit_decode_reply(r, c ? c->n : 0, c ? c->opts : NULL, c ? c->vals : NULL,
                                  c ? c->sent : NULL);
    pthread_mutex_unlock(&client_mu);
    return rc;
}

/* Keeps a copy of the linked image with the state; the application gets the copy. */
static uint32_t client_image(uint64_t id, const void *raw, size_t len, void **out, size_t *size)
{
    void *copy = malloc(len ? len : 1);
    if (!copy) return RPC_CU_OUT_OF_MEMORY;
    memcpy(copy, raw, len);
    pthread_mutex_lock(&client_mu);
    struct client_state *c = client_find(id);
    if (c) {
        free(c->image);
        c->image = copy;
    }
    pthread_mutex_unlock(&client_mu);
    if (!c) {
        free(copy);
        return RPC_CU_INVALID_HANDLE;
    }
    *out = copy;
    *size = len;
    return 0;
}

/* ---- client: calls ---------------------------------------------------------------- */

/* Bytes of cuLinkAddData's input: what the application says, or for a fatbin
 * container (whose size may be given as 0) what its header says. 0 = bad image. */
static uint64_t input_bytes(uint32_t type, const void *data, uint64_t size, int *cu)
{
    *cu = 0;
    if (!data || type != CU_JIT_INPUT_FATBINARY) return size;
    enum rg_image_kind k = rg_image_kind(data);
    if (k == RG_IMAGE_WRAPPER) {
        *cu = RPC_CU_NOT_SUPPORTED; /* a wrapper's containers are elsewhere in memory */
        return 0;
    }
    size_t n = size ? rg_image_size_avail(data, (size_t)size) : rg_image_size(data);
    if (!n) *cu = RPC_CU_INVALID_IMAGE;
    return n;
}

static int enc_add(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                   struct iovec *raw, int *nraw)
{
    uint32_t type = (uint32_t)rpc_uint_at(args[1], d->args[1].size);
    const void *data = *(void *const *)args[2];
    uint64_t size = rpc_uint_at(args[3], d->args[3].size);
    const char *name = *(const char *const *)args[4];
    int cu;
    uint64_t len = input_bytes(type, data, size, &cu);
    if (cu) return cu;
    if (len > RPC_MAX_CALL_BYTES || (name && strlen(name) >= RPC_MAX_STRING))
        return RPC_CU_INVALID_VALUE;
    rpc_enc_simple(w, &d->args[0], args[0]);
    rpc_put_u32(w, type);
    rpc_put_u8(w, data != NULL);
    rpc_put_u64(w, data ? len : size);
    rpc_put_u8(w, name != NULL);
    rpc_put_str(w, name);
    int rc = rpc_jit_encode(w, (unsigned)rpc_uint_at(args[5], d->args[5].size),
                            *(CUjit_option *const *)args[6], *(void *const *const *)args[7]);
    if (rc) return rc;
    if (data && len) {
        raw[0].iov_base = (void *)data;
        raw[0].iov_len = (size_t)len;
        *nraw = 1;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int link_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                       struct iovec *raw, int *nraw)
{
    int max = *nraw;
    *nraw = 0;
    switch (op_of(d)) {
    case L_CREATE: {
        int rc = rpc_jit_encode(w, (unsigned)rpc_uint_at(args[0], d->args[0].size),
                                *(CUjit_option *const *)args[1], *(void *const *const *)args[2]);
        if (rc) return rc;
        rpc_put_u8(w, *(void *const *)args[3] != NULL);
        return rpc_wbuf_ok(w) ? 0 : -1;
    }
    case L_ADD: return max < 1 ? RPC_CU_NOT_SUPPORTED : enc_add(d, args, w, raw, nraw);
    case L_COMPLETE:
        rpc_enc_simple(w, &d->args[0], args[0]);
        rpc_put_u8(w, *(void *const *)args[1] != NULL);
        rpc_put_u8(w, *(void *const *)args[2] != NULL);
        return rpc_wbuf_ok(w) ? 0 : -1;
    case L_DESTROY: rpc_enc_simple(w, &d->args[0], args[0]); return rpc_wbuf_ok(w) ? 0 : -1;
    default: return RPC_CU_NOT_SUPPORTED;
    }
}

static int dec_reply_create(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                            uint32_t *result)
{
    unsigned n = (unsigned)rpc_uint_at(args[0], d->args[0].size);
    CUjit_option *opts = *(CUjit_option *const *)args[1];
    void **vals = *(void **const *)args[2];
    void *out = *(void *const *)args[3];
    uint64_t id = 0;
    int made = 0;
    if (*result == 0 && out) {
        id = rpc_get_u64(r);
        if (!rpc_rbuf_ok(r)) return -1;
        /* the record keeps the values as sent, before the driver writes any back */
        if (!(made = client_add(id, n, opts, vals) == 0)) *result = RPC_CU_OUT_OF_MEMORY;
    }
    if (rpc_jit_decode_reply(r, n, opts, vals, NULL)) {
        if (made) client_remove(id);
        return -1;
    }
    if (made) memcpy(out, &id, sizeof id); /* without a record the id leaks in the worker */
    return 0;
}

static int link_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                             const void *raw, size_t raw_len, uint32_t *result)
{
    enum link_op op = op_of(d);
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || op == L_NONE) return -1;
    uint64_t id = op == L_CREATE ? 0 : rpc_uint_at(args[0], 8);
    if (op == L_DESTROY && *result == 0) client_remove(id); /* its reply is the result alone */
    if (rpc_rbuf_done(r)) return raw_len ? -1 : 0; /* or refused before the backend ran */
    switch (op) {
    case L_CREATE:
        if (dec_reply_create(d, args, r, result)) return -1;
        break;
    case L_ADD:
        if (rpc_jit_decode_reply(r, (unsigned)rpc_uint_at(args[5], d->args[5].size),
                                 *(CUjit_option *const *)args[6], *(void **const *)args[7],
                                 NULL) ||
            client_state_logs(id, r))
            return -1;
        break;
    case L_COMPLETE: {
        if (client_state_logs(id, r)) return -1;
        if (*result != 0) break;
        uint64_t len = rpc_get_u64(r);
        if (!rpc_rbuf_ok(r) || len != raw_len) return -1;
        *result = client_image(id, raw, raw_len, *(void **const *)args[1],
                               *(size_t *const *)args[2]);
        return rpc_rbuf_done(r) ? 0 : -1;
    }
    default: return -1;
    }
    return rpc_rbuf_done(r) && raw_len == 0 ? 0 : -1;
}

/* ---- worker: per-state options ----------------------------------------------------- */

/* The create-time options of one state: the backend holds pointers into `jit`. */
struct worker_state {
    void *real;
    struct rpc_jit jit;
    struct worker_state *next;
    /* the arrays and logs follow */
};

static struct worker_state *worker_states;
static pthread_mutex_t worker_mu = PTHREAD_MUTEX_INITIALIZER;

/* The scratch of a decoded create: the record until the backend made the state. */
struct create_scratch {
    struct worker_state *st;
};

static void encode_state_jit(struct rpc_wbuf *w, void *real)
{
    pthread_mutex_lock(&worker_mu);
    struct worker_state *st = worker_states;
    while (st && st->real != real) st = st->next;
    rpc_jit_encode_reply(w, st ? &st->jit : NULL);
    pthread_mutex_unlock(&worker_mu);
}

static void worker_forget(void *real)
{
    pthread_mutex_lock(&worker_mu);
    struct worker_state **pp = &worker_states, *st;
    while ((st = *pp) && st->real != real) pp = &st->next;
    if (st) *pp = st->next;
    pthread_mutex_unlock(&worker_mu);
    free(st);
}

static void set_ptr(struct rpc_decoded *out, unsigned i, void *p)
{
    out->ptrval[i] = p;
    out->avalues[i] = &out->ptrval[i];
}

static int dec_create(const struct rpc_call_desc *d, struct rpc_rbuf *r, struct rpc_decoded *out)
{
    struct rpc_jit jit;
    if (rpc_jit_decode(r, &jit)) return -1;
    uint8_t present = rpc_get_u8(r);
    if (!rpc_rbuf_done(r) || present > 1) return -1;
    size_t head = align16(sizeof(struct worker_state));
    struct create_scratch *cs = calloc(1, sizeof *cs);
    struct worker_state *st = cs ? calloc(1, head + rpc_jit_size(&jit)) : NULL;
    if (!st) {
        free(cs);
        return RPC_CU_OUT_OF_MEMORY;
    }
    st->jit = jit;
    rpc_jit_place(&st->jit, (uint8_t *)st + head);
    cs->st = st;
    out->scratch = cs;
    memcpy(out->val[0].bytes, &jit.n, sizeof jit.n);
    out->avalues[0] = &out->val[0];
    set_ptr(out, 1, jit.n ? st->jit.opts : NULL);
    set_ptr(out, 2, jit.n ? st->jit.vals : NULL);
    out->val[3].ptr = NULL;
    set_ptr(out, 3, present ? &out->val[3] : NULL);
    (void)d;
    return 0;
}

/* cuLinkAddData's scratch: the call's own options, then the input bytes and a NUL. */
static int dec_add(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                   size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    struct rpc_jit jit;
    if (rpc_dec_simple(d, 0, r, h, out, &cu)) return -1;
    uint32_t type = rpc_get_u32(r);
    uint8_t present = rpc_get_u8(r);
    uint64_t size = rpc_get_u64(r);
    uint8_t has_name = rpc_get_u8(r);
    const char *name = rpc_get_str(r);
    if (!rpc_rbuf_ok(r) || present > 1 || has_name > 1 || (has_name && !name)) return -1;
    if (rpc_jit_decode(r, &jit) || !rpc_rbuf_done(r)) return -1;
    if (raw_len != (present ? size : 0)) return -1;
    if (cu) return cu;
    size_t head = align16(sizeof(struct rpc_jit)), js = rpc_jit_size(&jit);
    if (!(out->scratch = calloc(1, head + js + raw_len + 1))) return RPC_CU_OUT_OF_MEMORY;
    struct rpc_jit *kept = out->scratch;
    *kept = jit;
    rpc_jit_place(kept, (uint8_t *)out->scratch + head);
    uint8_t *data = (uint8_t *)out->scratch + head + js;
    if (raw_len) memcpy(data, raw, raw_len);
    if (present && type == CU_JIT_INPUT_FATBINARY && !rg_image_size_avail(data, raw_len + 1))
        return RPC_CU_INVALID_IMAGE;
    memcpy(out->val[1].bytes, &type, sizeof type);
    out->avalues[1] = &out->val[1];
    set_ptr(out, 2, present ? data : NULL);
    memcpy(out->val[3].bytes, &size, sizeof size);
    out->avalues[3] = &out->val[3];
    set_ptr(out, 4, (void *)name); /* inside the encoded part, alive during the call */
    memcpy(out->val[5].bytes, &jit.n, sizeof jit.n);
    out->avalues[5] = &out->val[5];
    set_ptr(out, 6, jit.n ? kept->opts : NULL);
    set_ptr(out, 7, jit.n ? kept->vals : NULL);
    return 0;
}

static int link_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                       size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    enum link_op op = op_of(d);
    if (op != L_ADD && raw_len) return -1;
    switch (op) {
    case L_CREATE: return dec_create(d, r, out);
    case L_ADD: return dec_add(d, r, raw, raw_len, h, out);
    case L_COMPLETE: {
        if (rpc_dec_simple(d, 0, r, h, out, &cu)) return -1;
        for (unsigned i = 1; i < 3; i++) {
            uint8_t present = rpc_get_u8(r);
            if (present > 1) return -1;
            out->val[i].u64 = 0;
            set_ptr(out, i, present ? &out->val[i] : NULL);
        }
        return rpc_rbuf_done(r) ? cu : -1;
    }
    case L_DESTROY:
        if (rpc_dec_simple(d, 0, r, h, out, &cu)) return -1;
        return rpc_rbuf_done(r) ? cu : -1;
    default: return -1;
    }
}

static void reply_create(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w)
{
    struct create_scratch *cs = dc->scratch;
    struct worker_state *st = cs ? cs->st : NULL;
    if (cs) cs->st = NULL;
    if (result == 0 && dc->ptrval[3]) rpc_put_u64(w, dc->ids[3]);
    rpc_jit_encode_reply(w, st ? &st->jit : NULL);
    if (result != 0 || !st || !dc->ptrval[3]) {
        free(st);
        return;
    }
    st->real = dc->val[3].ptr;
    pthread_mutex_lock(&worker_mu);
    st->next = worker_states;
    worker_states = st;
    pthread_mutex_unlock(&worker_mu);
}

static int link_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                             struct iovec *raw, int *nraw)
{
    int max = *nraw;
    *nraw = 0;
    rpc_put_u32(w, result);
    switch (op_of(dc->desc)) {
    case L_CREATE: reply_create(dc, result, w); break;
    case L_ADD:
        rpc_jit_encode_reply(w, dc->scratch);
        encode_state_jit(w, dc->val[0].ptr);
        break;
    case L_COMPLETE: {
        encode_state_jit(w, dc->val[0].ptr);
        if (result != 0) break;
        const void *image = dc->val[1].ptr; /* the backend's, valid until cuLinkDestroy */
        uint64_t size = dc->val[2].u64;
        if (!dc->ptrval[1] || !dc->ptrval[2] || !image || size > RPC_MAX_CALL_BYTES || max < 1)
            return w->err = 1, -1;
        rpc_put_u64(w, size);
        raw[0].iov_base = (void *)image;
        raw[0].iov_len = (size_t)size;
        *nraw = size ? 1 : 0;
        break;
    }
    case L_DESTROY:
        if (result == 0) worker_forget(dc->val[0].ptr);
        break;
    default: return -1;
    }
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_link = {
    "link", link_encode, link_decode_reply, link_decode, link_encode_reply,
};
