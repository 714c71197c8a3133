/* buf.h — bounds-checked little-endian encoding: rpc_wbuf writes, rpc_rbuf
 * reads. Neither ever touches memory outside its buffer: an overflow sets a
 * sticky error flag, later puts are dropped and later gets return zeros. */
#ifndef RG_RPC_BUF_H
#define RG_RPC_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct rpc_wbuf {
    uint8_t *data;
    size_t len;        /* bytes written so far */
    size_t cap;        /* bytes available in data */
    size_t max;        /* growth limit of a dynamic buffer (== cap when fixed) */
    unsigned char dyn; /* data was allocated here and grows with realloc */
    unsigned char err; /* sticky: a put did not fit (or allocation failed) */
} rpc_wbuf;

/* Writes into the caller's storage buf[0..cap); the caller keeps ownership. */
void rpc_wbuf_init(rpc_wbuf *w, void *buf, size_t cap);
/* Writes into heap storage that grows up to max bytes; release with
 * rpc_wbuf_free, or take w->data (then owned by the caller, free()). */
void rpc_wbuf_init_dyn(rpc_wbuf *w, size_t max);
void rpc_wbuf_free(rpc_wbuf *w);
static inline int rpc_wbuf_ok(const rpc_wbuf *w)
{
    return !w->err;
}

/* Fixed-width values are inline (codecs write one per field, launches dozens):
 * the common case stores in place, growth and overflow take the slow path. */
void rpc_put_le_slow(rpc_wbuf *w, uint64_t v, unsigned n);
static inline void rpc_put_le(rpc_wbuf *w, uint64_t v, unsigned n)
{
    if (w->err || n > w->cap - w->len) {
        rpc_put_le_slow(w, v, n);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        w->data[w->len + i] = (uint8_t)(v >> (8 * i));
    w->len += n;
}
static inline void rpc_put_u8(rpc_wbuf *w, uint8_t v)
{
    rpc_put_le(w, v, 1);
}
static inline void rpc_put_u16(rpc_wbuf *w, uint16_t v)
{
    rpc_put_le(w, v, 2);
}
static inline void rpc_put_u32(rpc_wbuf *w, uint32_t v)
{
    rpc_put_le(w, v, 4);
}
static inline void rpc_put_u64(rpc_wbuf *w, uint64_t v)
{
    rpc_put_le(w, v, 8);
}
void rpc_put_bytes(rpc_wbuf *w, const void *p, size_t n); /* raw, no length */
void rpc_put_blob(rpc_wbuf *w, const void *p, size_t n);  /* u32 length + bytes */
/* u32 n then n bytes including the terminating NUL; NULL encodes as n = 0. */
void rpc_put_str(rpc_wbuf *w, const char *s);

typedef struct rpc_rbuf {
    const uint8_t *data; /* not owned */
    size_t len;
    size_t pos;
    unsigned char err; /* sticky: a get asked for more than was left, or bad string */
} rpc_rbuf;

void rpc_rbuf_init(rpc_rbuf *r, const void *data, size_t len);
static inline int rpc_rbuf_ok(const rpc_rbuf *r)
{
    return !r->err;
}
static inline size_t rpc_rbuf_left(const rpc_rbuf *r)
{
    return r->err ? 0 : r->len - r->pos;
}
/* Everything read and nothing went wrong: trailing bytes are an error too. */
static inline int rpc_rbuf_done(const rpc_rbuf *r)
{
    return !r->err && r->pos == r->len;
}

/* Inline like the puts; past the end: the sticky error and 0. */
uint64_t rpc_get_le_slow(rpc_rbuf *r, unsigned n);
static inline uint64_t rpc_get_le(rpc_rbuf *r, unsigned n)
{
    if (r->err || n > r->len - r->pos) return rpc_get_le_slow(r, n);
    const uint8_t *p = r->data + r->pos;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    r->pos += n;
    return v;
}
static inline uint8_t rpc_get_u8(rpc_rbuf *r)
{
    return (uint8_t)rpc_get_le(r, 1);
}
static inline uint16_t rpc_get_u16(rpc_rbuf *r)
{
    return (uint16_t)rpc_get_le(r, 2);
}
static inline uint32_t rpc_get_u32(rpc_rbuf *r)
{
    return (uint32_t)rpc_get_le(r, 4);
}
static inline uint64_t rpc_get_u64(rpc_rbuf *r)
{
    return rpc_get_le(r, 8);
}
/* Copies n bytes into dst; on error dst is zeroed. Returns 0 or -1. */
int rpc_get_bytes(rpc_rbuf *r, void *dst, size_t n);
/* A pointer to the next n bytes inside the buffer (valid while it lives), or NULL. */
const void *rpc_get_view(rpc_rbuf *r, size_t n);
/* u32 length + bytes: a pointer into the buffer and *n, or NULL (and *n = 0). */
const void *rpc_get_blob(rpc_rbuf *r, size_t *n);
/* A string written by rpc_put_str, pointing into the buffer; NULL for a NULL
 * string or an error (missing terminator, embedded NUL, too long): tell them
 * apart with rpc_rbuf_ok. */
const char *rpc_get_str(rpc_rbuf *r);

#endif
