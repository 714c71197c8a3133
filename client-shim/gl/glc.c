/* glc.c — GL commands on their way to the server: the session borrowed from
 * the CUDA shim (rgpu_private_v2, so GL and CUDA share it), one batch per
 * thread (a context is current on one thread at a time) flushed at the
 * commands that answer, at glFlush, when full, and at eglMakeCurrent; the
 * generic encoder every generated entry point calls; shadowed state. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cuda/rgpu_private.h"
#include "glc.h"

#define GLC_ENC_MAX (256u << 10) /* one batch's commands */
#define GLC_RAW_MAX (8u << 20)   /* one batch's inline bytes; a larger blob goes alone */

static const struct rgpu_private_v2 *priv;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int log_level = -1;

struct glc_thread {
    struct glc_ctx *cur;
    rpc_wbuf enc;
    uint8_t *raw;
    size_t raw_len, raw_cap;
    int init;
};
static __thread struct glc_thread T;

void rg_glc_log(int level, const char *fmt, ...)
{
    if (log_level < 0) {
        const char *v = getenv("RGPU_LOG");
        log_level = !v                    ? 0
                    : !strcmp(v, "debug") ? 3
                    : !strcmp(v, "info")  ? 2
                    : !strcmp(v, "warn")  ? 1
                                          : 0;
    }
    if (level > log_level) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "rgpu-gl: %s\n", line);
}

/* The CUDA shim beside this library (same directory), loaded once; if the
 * application loaded it already, dlopen returns that same copy. */
static void load_shim(void)
{
    Dl_info di;
    char path[PATH_MAX];
    if (!dladdr((void *)load_shim, &di) || !di.dli_fname) return;
    snprintf(path, sizeof path, "%s", di.dli_fname);
    char *slash = strrchr(path, '/');
    if (!slash) return;
    snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "libcuda.so.1");
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    rgpu_private_v2_fn f = h ? (rgpu_private_v2_fn)dlsym(h, "rgpu_private_v2") : NULL;
    if (!f) {
        rg_glc_log(GLC_ERR, "cannot load rgpu's libcuda.so.1 from %s: %s", path,
                   h ? "no rgpu_private_v2" : dlerror());
        return;
    }
    const struct rgpu_private_v2 *t = f();
    if (t && t->size >= sizeof *t) priv = t;
}

int rg_glc_connect(void)
{
    pthread_once(&once, load_shim);
    if (!priv) return -1;
    int r = priv->init();
    if (r) {
        rg_glc_log(GLC_ERR, "no rgpu session (CUresult %d); see RGPU_SERVER", r);
        return -1;
    }
    return 0;
}

/* ---- the thread's batch ------------------------------------------------------------------ */

static struct glc_thread *thr(void)
{
    if (!T.init) {
        rpc_wbuf_init_dyn(&T.enc, GLC_ENC_MAX + (64u << 10));
        T.init = 1;
    }
    return &T;
}

struct glc_ctx *rg_glc_current(void)
{
    return T.cur;
}

void rg_glc_set_current(struct glc_ctx *c)
{
    T.cur = c;
}

rpc_wbuf *rg_glc_enc(void)
{
    return &thr()->enc;
}

void rg_glc_raw(const void *p, size_t n)
{
    struct glc_thread *t = thr();
    if (!n) return;
    if (t->raw_len + n > t->raw_cap) {
        size_t cap = t->raw_cap ? t->raw_cap : 65536;
        while (cap < t->raw_len + n)
            cap *= 2;
        uint8_t *q = realloc(t->raw, cap);
        if (!q) {
            t->enc.err = 1; /* the batch is dropped at the next send */
            return;
        }
        t->raw = q, t->raw_cap = cap;
    }
    memcpy(t->raw + t->raw_len, p, n);
    t->raw_len += n;
}

static void reset(struct glc_thread *t)
{
    t->enc.len = 0;
    t->enc.err = 0;
    t->raw_len = 0;
    if (t->raw_cap > 4 * GLC_RAW_MAX) { /* a huge upload does not stay resident */
        free(t->raw);
        t->raw = NULL;
        t->raw_cap = 0;
    }
}

/* What crossed the wire, for RGPU_LOG=info at exit and for rgpu-bench gl:
 * batches, the ones that waited (round trips), bytes each way. */
static struct {
    _Atomic unsigned long long batches, waits, commands_bytes, data_bytes, reply_bytes;
} S;

void rg_glc_stats(unsigned long long out[5])
{
    out[0] = S.batches, out[1] = S.waits, out[2] = S.commands_bytes, out[3] = S.data_bytes;
    out[4] = S.reply_bytes;
}

__attribute__((destructor)) static void stats_at_exit(void)
{
    if (!S.batches) return;
    rg_glc_log(
        GLC_INFO,
        "GL: %llu batches (%llu waited), %llu bytes of commands + %llu of data sent, %llu received",
        (unsigned long long)S.batches, (unsigned long long)S.waits,
        (unsigned long long)S.commands_bytes, (unsigned long long)S.data_bytes,
        (unsigned long long)S.reply_bytes);
}

static int send_batch(int wait, struct rgpu_private_reply *rep)
{
    struct glc_thread *t = thr();
    static int lost_logged;
    int rc = -1;
    if (!t->enc.len) return wait ? -1 : 0;
    if (!rpc_wbuf_ok(&t->enc)) {
        rg_glc_log(GLC_ERR, "a GL batch did not fit in memory; dropped");
    } else if (priv) {
        struct iovec raw = {t->raw, t->raw_len};
        int r = priv->call(RG_GL_OP_BATCH, t->enc.data, t->enc.len, t->raw_len ? &raw : NULL,
                           t->raw_len ? 1 : 0, wait, rep);
        S.batches++;
        S.waits += wait != 0;
        S.commands_bytes += t->enc.len + 48; /* 48: the frame header */
        S.data_bytes += t->raw_len;
        if (!r && wait && rep) S.reply_bytes += rep->enc_len + rep->raw_len + 48;
        if (!r)
            rc = 0;
        else if (!lost_logged++)
            rg_glc_log(GLC_ERR, "GL commands lost: the rgpu session failed (%d)", r);
    }
    reset(t);
    return rc;
}

void rg_glc_flush(void)
{
    send_batch(0, NULL);
}

void rg_glc_reserve(size_t enc_bytes, size_t raw_bytes)
{
    struct glc_thread *t = thr();
    if (t->enc.len + enc_bytes > GLC_ENC_MAX ||
        (t->raw_len && t->raw_len + raw_bytes > GLC_RAW_MAX))
        send_batch(0, NULL);
}

int rg_glc_sync(struct glc_reply *r)
{
    struct rgpu_private_reply rep = {0};
    memset(r, 0, sizeof *r);
    if (send_batch(1, &rep)) return -1;
    rpc_rbuf rb;
    rpc_rbuf_init(&rb, rep.enc, rep.enc_len);
    r->status = rpc_get_u32(&rb);
    r->ret = rpc_get_u64(&rb);
    if (!rpc_rbuf_ok(&rb)) {
        priv->reply_free(&rep);
        rg_glc_log(GLC_ERR, "a GL reply too short");
        return -1;
    }
    rpc_rbuf_init(&r->rest, (const uint8_t *)rep.enc + rb.pos, rep.enc_len - rb.pos);
    r->raw = rep.raw;
    r->raw_len = rep.raw_len;
    r->priv_enc = rep.enc;
    r->priv_raw = rep.raw;
    return 0;
}

void rg_glc_frame_sink(void (*sink)(const void *enc, size_t enc_len, void *raw, size_t raw_len))
{
    if (priv) priv->frame_sink(sink);
}

int rg_glc_wait_until(int (*done)(void *), void *arg)
{
    return priv && !priv->wait_until(done, arg) ? 0 : -1;
}

void rg_glc_count_received(size_t bytes)
{
    S.reply_bytes += bytes;
}

void rg_glc_reply_free(struct glc_reply *r)
{
    struct rgpu_private_reply rep = {.enc = r->priv_enc, .raw = r->priv_raw};
    if (priv && (rep.enc || rep.raw)) priv->reply_free(&rep);
    r->priv_enc = r->priv_raw = NULL;
}

/* ---- the generic encoder ------------------------------------------------------------------- */

void rg_glc_unsupported(unsigned op)
{
    static unsigned char logged[RG_GLOP_N_];
    struct glc_ctx *c = T.cur;
    if (op < RG_GLOP_N_ && !logged[op]++)
        rg_glc_log(GLC_WARN, "%s is not forwarded yet", rg_gl_cmds[op].name);
    if (c) rg_glc_error(c, GL_INVALID_OPERATION);
}

static void put_scalar(rpc_wbuf *w, unsigned kind, const union rg_gl_arg *a)
{
    switch (kind) {
    case RG_GK_F32: {
        uint32_t v;
        memcpy(&v, &a->f, 4);
        rpc_put_u32(w, v);
        break;
    }
    case RG_GK_U64:
    case RG_GK_I64:
    case RG_GK_F64:
        rpc_put_u64(w, a->u);
        break;
    default:
        rpc_put_u32(w, (uint32_t)a->i);
        break;
    }
}

static uint32_t bound(const struct glc_ctx *c, uint32_t binding)
{
    switch (binding) {
    case GL_ARRAY_BUFFER_BINDING:
        return c->array_buf;
    case GL_ELEMENT_ARRAY_BUFFER_BINDING:
        return c->elem_buf;
    case GL_PIXEL_PACK_BUFFER_BINDING:
        return c->pack_buf;
    case GL_PIXEL_UNPACK_BUFFER_BINDING:
        return c->unpack_buf;
    default:
        return 0;
    }
}

void rg_glc_command(unsigned op, const union rg_gl_arg *a, union rg_gl_arg *ret)
{
    const struct rg_gl_cmd *d = &rg_gl_cmds[op];
    struct glc_ctx *c = T.cur;
    size_t sz[16], raw = 0;
    if (ret) ret->u = 0;
    if (!c || d->nparams > 16) return; /* no current context: GL does nothing */
    for (unsigned i = 0; i < d->nparams; i++) {
        const struct rg_gl_param *p = &d->p[i];
        int buf = (p->kind == RG_GK_BUFOFF || p->kind == RG_GK_BUFOFF_OUT) && bound(c, p->bind);
        sz[i] = 0;
        if (p->kind == RG_GK_STR) {
            if (!a[i].p) goto refuse;
            sz[i] = strlen(a[i].p) + 1;
        } else if (p->kind == RG_GK_IN || p->kind == RG_GK_OUT ||
                   ((p->kind == RG_GK_BUFOFF || p->kind == RG_GK_BUFOFF_OUT) && !buf)) {
            if (p->kind == RG_GK_BUFOFF && !p->size) {
                static int logged;
                if (!logged++)
                    rg_glc_log(GLC_WARN, "%s: client data without a size is not forwarded",
                               d->name);
                goto refuse;
            }
            if (!a[i].p && !p->nullable) goto refuse;
            if (a[i].p) sz[i] = p->size(a, &c->ps);
        }
        if (sz[i] >= RG_GL_NULL) goto refuse;
        if (p->kind != RG_GK_OUT && p->kind != RG_GK_BUFOFF_OUT) raw += sz[i];
    }
    rg_glc_reserve(8 + 16u * d->nparams, raw);
    rpc_wbuf *w = &thr()->enc;
    rpc_put_u32(w, op);
    for (unsigned i = 0; i < d->nparams; i++) {
        const struct rg_gl_param *p = &d->p[i];
        uint32_t n = a[i].p ? (uint32_t)sz[i] : RG_GL_NULL;
        switch (p->kind) {
        case RG_GK_IN:
        case RG_GK_STR:
            rpc_put_u32(w, n);
            if (a[i].p) rg_glc_raw(a[i].p, sz[i]);
            break;
        case RG_GK_OUT:
            rpc_put_u32(w, n);
            break;
        case RG_GK_BUFOFF:
        case RG_GK_BUFOFF_OUT:
            if (bound(c, p->bind)) { /* the pointer is an offset into that buffer */
                rpc_put_u32(w, 0);
                rpc_put_u64(w, (uint64_t)(uintptr_t)a[i].p);
                break;
            }
            rpc_put_u32(w, 1);
            rpc_put_u32(w, n);
            if (a[i].p && p->kind == RG_GK_BUFOFF) rg_glc_raw(a[i].p, sz[i]);
            break;
        default:
            put_scalar(w, p->kind, &a[i]);
        }
    }
    if (op == RG_GLOP_glFlush) rg_glc_flush();
    if (!(d->flags & RG_GF_SYNC)) return;
    struct glc_reply r;
    if (rg_glc_sync(&r)) return;
    if (ret) ret->u = r.ret;
    size_t pos = 0;
    for (unsigned i = 0; i < d->nparams; i++) {
        int out = d->p[i].kind == RG_GK_OUT ||
                  (d->p[i].kind == RG_GK_BUFOFF_OUT && !bound(c, d->p[i].bind));
        if (!out || !a[i].p) continue;
        if (r.status || pos + sz[i] > r.raw_len)
            break; /* no context on the server: nothing written */
        memcpy((void *)a[i].p, r.raw + pos, sz[i]);
        pos += sz[i];
    }
    rg_glc_reply_free(&r);
    return;
refuse: /* what the server could not accept safely: GL would fault or refuse */
    rg_glc_error(c, GL_INVALID_VALUE);
}

void (*rg_glc_proc(const char *name))(void)
{
    size_t lo = 0, hi = rg_glc_nprocs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(name, rg_glc_procs[mid].name);
        if (!cmp) return rg_glc_procs[mid].fn;
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- shadowed state ---------------------------------------------------------------------- */

void rg_glc_shadow_glPixelStorei(const union rg_gl_arg *a)
{
    struct glc_ctx *c = T.cur;
    if (!c) return;
    int32_t v = (int32_t)a[1].i;
    switch ((GLenum)a[0].u) {
    case GL_PACK_ALIGNMENT:
        if (v == 1 || v == 2 || v == 4 || v == 8) c->ps.pack.alignment = v;
        break;
    case GL_UNPACK_ALIGNMENT:
        if (v == 1 || v == 2 || v == 4 || v == 8) c->ps.unpack.alignment = v;
        break;
    case GL_PACK_ROW_LENGTH:
        if (v >= 0) c->ps.pack.row_length = v;
        break;
    case GL_PACK_SKIP_ROWS:
        if (v >= 0) c->ps.pack.skip_rows = v;
        break;
    case GL_PACK_SKIP_PIXELS:
        if (v >= 0) c->ps.pack.skip_pixels = v;
        break;
    case GL_UNPACK_ROW_LENGTH:
        if (v >= 0) c->ps.unpack.row_length = v;
        break;
    case GL_UNPACK_IMAGE_HEIGHT:
        if (v >= 0) c->ps.unpack.image_height = v;
        break;
    case GL_UNPACK_SKIP_ROWS:
        if (v >= 0) c->ps.unpack.skip_rows = v;
        break;
    case GL_UNPACK_SKIP_PIXELS:
        if (v >= 0) c->ps.unpack.skip_pixels = v;
        break;
    case GL_UNPACK_SKIP_IMAGES:
        if (v >= 0) c->ps.unpack.skip_images = v;
        break;
    }
}

void rg_glc_shadow_glBindBuffer(const union rg_gl_arg *a)
{
    struct glc_ctx *c = T.cur;
    if (!c) return;
    if ((GLenum)a[0].u == GL_ARRAY_BUFFER) c->array_buf = (uint32_t)a[1].u;
    if ((GLenum)a[0].u == GL_ELEMENT_ARRAY_BUFFER) c->elem_buf = (uint32_t)a[1].u;
    if ((GLenum)a[0].u == GL_PIXEL_PACK_BUFFER) c->pack_buf = (uint32_t)a[1].u;
    if ((GLenum)a[0].u == GL_PIXEL_UNPACK_BUFFER) c->unpack_buf = (uint32_t)a[1].u;
}

/* glViewport is where Mesa looks at a window's size again: so does rgpu. */
void rg_glc_shadow_glViewport(const union rg_gl_arg *a)
{
    struct glc_ctx *c = T.cur;
    (void)a;
    if (c && c->follow) c->follow(c);
}
