/* buf.c — the bounds-checked writer and reader of buf.h. Values are stored
 * little-endian byte by byte, so neither alignment nor host order matters. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* ---- writer --------------------------------------------------------------- */

void rpc_wbuf_init(rpc_wbuf *w, void *buf, size_t cap)
{
    *w = (rpc_wbuf){.data = buf, .cap = cap, .max = cap};
    if (!buf) w->cap = w->max = 0;
}

void rpc_wbuf_init_dyn(rpc_wbuf *w, size_t max)
{
    *w = (rpc_wbuf){.max = max, .dyn = 1};
}

void rpc_wbuf_free(rpc_wbuf *w)
{
    if (w->dyn) free(w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

/* Room for n more bytes, growing a dynamic buffer; 0 on success. */
static int reserve(rpc_wbuf *w, size_t n)
{
    if (w->err) return -1;
    if (n <= w->cap - w->len) return 0;
    if (!w->dyn || n > w->max - w->len) goto overflow;
    size_t want = w->len + n, cap = w->cap ? w->cap : 256;
    if (cap > w->max) cap = w->max;
    while (cap < want)
        cap = cap > w->max / 2 ? w->max : cap * 2;
    uint8_t *p = realloc(w->data, cap);
    if (!p) goto overflow;
    w->data = p;
    w->cap = cap;
    return 0;
overflow:
    w->err = 1;
    return -1;
}

/* rpc_put_le (buf.h) when the value does not fit as things are. */
void rpc_put_le_slow(rpc_wbuf *w, uint64_t v, unsigned n)
{
    if (reserve(w, n)) return;
    for (unsigned i = 0; i < n; i++)
        w->data[w->len + i] = (uint8_t)(v >> (8 * i));
    w->len += n;
}

void rpc_put_bytes(rpc_wbuf *w, const void *p, size_t n)
{
    if (!n || reserve(w, n)) return;
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

void rpc_put_blob(rpc_wbuf *w, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        w->err = 1;
        return;
    }
    rpc_put_u32(w, (uint32_t)n);
    rpc_put_bytes(w, p, n);
}

void rpc_put_str(rpc_wbuf *w, const char *s)
{
    if (!s) {
        rpc_put_u32(w, 0);
        return;
    }
    rpc_put_blob(w, s, strlen(s) + 1);
}

/* ---- reader ------------------------------------------------------------------ */

void rpc_rbuf_init(rpc_rbuf *r, const void *data, size_t len)
{
    *r = (rpc_rbuf){.data = data, .len = data ? len : 0};
}

const void *rpc_get_view(rpc_rbuf *r, size_t n)
{
    if (r->err || n > r->len - r->pos) {
        r->err = 1;
        return NULL;
    }
    const void *p = r->data + r->pos;
    r->pos += n;
    return p;
}

/* rpc_get_le (buf.h) past the end, or after an error. */
uint64_t rpc_get_le_slow(rpc_rbuf *r, unsigned n)
{
    (void)n;
    r->err = 1;
    return 0;
}

int rpc_get_bytes(rpc_rbuf *r, void *dst, size_t n)
{
    const void *p = rpc_get_view(r, n);
    if (!p) {
        if (n) memset(dst, 0, n);
        return -1;
    }
    if (n) memcpy(dst, p, n);
    return 0;
}

const void *rpc_get_blob(rpc_rbuf *r, size_t *n)
{
    uint32_t len = rpc_get_u32(r);
    const void *p = rpc_get_view(r, len);
    *n = p ? len : 0;
    return p;
}

const char *rpc_get_str(rpc_rbuf *r)
{
    size_t n;
    const char *s = rpc_get_blob(r, &n);
    if (!s || n == 0) return NULL; /* error, or the encoding of NULL */
    if (s[n - 1] != '\0' || memchr(s, '\0', n - 1)) {
        r->err = 1;
        return NULL;
    }
    return s;
}
