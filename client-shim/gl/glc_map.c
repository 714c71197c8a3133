/* glc_map.c — buffer mappings (glMapBufferRange, glMapBuffer, glFlushMappedBufferRange,
 * glUnmapBuffer, glGetBufferPointerv). The application gets client memory; the server
 * maps the real buffer with the application's access bits (so GL validates them and
 * records its own errors), and the bytes the application wrote reach that mapping at
 * glFlushMappedBufferRange (explicit flushes) or at glUnmapBuffer (the whole range).
 * Mapping waits for the server once; flushes and the unmap do not wait.
 *
 * The range's old bytes come with the map when the application reads them
 * (GL_MAP_READ_BIT) and when it writes without invalidating or flushing explicitly:
 * then the whole range goes back at the unmap, and the bytes it did not touch must be
 * the buffer's own. A write-only map that invalidates or flushes explicitly sends
 * nothing ahead. A mapping is found again by its target and, where the client
 * shadows that binding (array, element, pixel pack and unpack buffers), the buffer
 * bound there. A record GL no longer has (glBufferData or glDeleteBuffers of a
 * mapped buffer unmap it inside GL) is replaced by the next mapping GL grants
 * there; GL, not the client, says whether a buffer is already mapped. */
#include <stdlib.h>
#include <string.h>

#include "glc.h"

struct glc_map {
    GLenum target;
    uint32_t buf; /* the client's buffer name at target, where shadowed; else 0 */
    uint8_t *p;
    uint64_t offset, length;
    GLbitfield access;
};

static uint32_t bound(const struct glc_ctx *c, GLenum target)
{
    switch (target) {
    case GL_ARRAY_BUFFER:
        return c->array_buf;
    case GL_ELEMENT_ARRAY_BUFFER:
        return c->elem_buf;
    case GL_PIXEL_PACK_BUFFER:
        return c->pack_buf;
    case GL_PIXEL_UNPACK_BUFFER:
        return c->unpack_buf;
    default:
        return 0;
    }
}

static struct glc_map *find(struct glc_ctx *c, GLenum target)
{
    uint32_t b = bound(c, target);
    for (size_t i = 0; i < c->nmaps; i++)
        if (c->maps[i].target == target && c->maps[i].buf == b) return &c->maps[i];
    return NULL;
}

static void drop(struct glc_ctx *c, struct glc_map *m)
{
    free(m->p);
    *m = c->maps[--c->nmaps];
}

void rg_glc_maps_free(struct glc_ctx *c)
{
    while (c->nmaps)
        drop(c, &c->maps[0]);
    free(c->maps);
    c->maps = NULL;
}

static void *map(GLenum target, uint64_t offset, uint64_t length, GLbitfield access)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return NULL;
    int fetch = (access & GL_MAP_READ_BIT) ||
                ((access & GL_MAP_WRITE_BIT) &&
                 !(access & (GL_MAP_INVALIDATE_RANGE_BIT | GL_MAP_INVALIDATE_BUFFER_BIT |
                             GL_MAP_FLUSH_EXPLICIT_BIT)));
    struct glc_map *t = realloc(c->maps, (c->nmaps + 1) * sizeof *t);
    if (!t) {
        rg_glc_error(c, GL_OUT_OF_MEMORY);
        return NULL;
    }
    c->maps = t;
    rg_glc_reserve(32, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_WS_MAP);
    rpc_put_u32(w, target);
    rpc_put_u64(w, offset);
    rpc_put_u64(w, length);
    rpc_put_u32(w, access);
    rpc_put_u32(w, (uint32_t)fetch);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return NULL;
    uint64_t off = rpc_get_u64(&r.rest), len = rpc_get_u64(&r.rest);
    void *p = NULL;
    if (!r.status && r.ret == 2) rg_glc_error(c, GL_OUT_OF_MEMORY); /* larger than a blob */
    int asked = length == RG_MAP_WHOLE || (off == offset && len == length); /* else: not ours */
    if (!r.status && r.ret == 1 && rpc_rbuf_done(&r.rest) && asked && len <= UINT32_MAX &&
        (!fetch || r.raw_len == len) && (p = malloc(len ? len : 1))) {
        if (fetch && len) memcpy(p, r.raw, len);
        /* GL mapped it, so a record left for this buffer is stale: the buffer was
         * unmapped inside GL meanwhile (deleted, or given new storage) */
        struct glc_map *old = find(c, target);
        if (old) drop(c, old);
        c->maps[c->nmaps++] = (struct glc_map){target, bound(c, target), p, off, len, access};
    } else if (!r.status && r.ret == 1) { /* mapped there, but not here: let it go */
        rpc_put_u32(rg_glc_enc(), RG_WS_UNMAP);
        rpc_put_u32(rg_glc_enc(), target);
        rg_glc_error(c, GL_OUT_OF_MEMORY);
        p = NULL;
    }
    rg_glc_reply_free(&r);
    return p;
}

/* The bytes [off, off + n) of m's range to the server's mapping (flush: also
 * glFlushMappedBufferRange there). */
static void write_back(struct glc_map *m, uint64_t off, uint64_t n, int flush)
{
    rg_glc_reserve(24, n);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_WS_MAP_WRITE);
    rpc_put_u32(w, m->target);
    rpc_put_u64(w, off);
    rpc_put_u32(w, (uint32_t)flush);
    rpc_put_u32(w, (uint32_t)n);
    rg_glc_raw(m->p + off, n);
}

void *rgc_glMapBufferRange(GLenum target, GLintptr offset, GLsizeiptr length, GLbitfield access)
{
    if (offset < 0 || length <= 0 || (uint64_t)length > UINT32_MAX) {
        struct glc_ctx *c = rg_glc_current(); /* GL's rule; and one blob carries the range */
        if (c) rg_glc_error(c, length > 0 && offset >= 0 ? GL_OUT_OF_MEMORY : GL_INVALID_VALUE);
        return NULL;
    }
    return map(target, (uint64_t)offset, (uint64_t)length, access);
}

void *rgc_glMapBuffer(GLenum target, GLenum access)
{
    GLbitfield bits = access == GL_READ_ONLY    ? GL_MAP_READ_BIT
                      : access == GL_WRITE_ONLY ? GL_MAP_WRITE_BIT
                      : access == GL_READ_WRITE ? GL_MAP_READ_BIT | GL_MAP_WRITE_BIT
                                                : 0;
    if (!bits) {
        struct glc_ctx *c = rg_glc_current();
        if (c) rg_glc_error(c, GL_INVALID_ENUM);
        return NULL;
    }
    return map(target, 0, RG_MAP_WHOLE, bits);
}

void rgc_glFlushMappedBufferRange(GLenum target, GLintptr offset, GLsizeiptr length)
{
    struct glc_ctx *c = rg_glc_current();
    struct glc_map *m = c ? find(c, target) : NULL;
    if (!c) return;
    if (!m || !(m->access & GL_MAP_FLUSH_EXPLICIT_BIT)) {
        rg_glc_error(c, GL_INVALID_OPERATION);
        return;
    }
    if (offset < 0 || length < 0 || (uint64_t)offset + (uint64_t)length > m->length) {
        rg_glc_error(c, GL_INVALID_VALUE);
        return;
    }
    write_back(m, (uint64_t)offset, (uint64_t)length, 1);
}

GLboolean rgc_glUnmapBuffer(GLenum target)
{
    struct glc_ctx *c = rg_glc_current();
    struct glc_map *m = c ? find(c, target) : NULL;
    if (!c) return GL_FALSE;
    if (!m) {
        rg_glc_error(c, GL_INVALID_OPERATION);
        return GL_FALSE;
    }
    if ((m->access & GL_MAP_WRITE_BIT) && !(m->access & GL_MAP_FLUSH_EXPLICIT_BIT))
        write_back(m, 0, m->length, 0);
    rg_glc_reserve(8, 0);
    rpc_put_u32(rg_glc_enc(), RG_WS_UNMAP);
    rpc_put_u32(rg_glc_enc(), target);
    drop(c, m);
    return GL_TRUE; /* GL_FALSE is for a store lost meanwhile: the server logs that */
}

void rgc_glGetBufferPointerv(GLenum target, GLenum pname, void **params)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c || !params) return;
    if (pname != GL_BUFFER_MAP_POINTER) {
        rg_glc_error(c, GL_INVALID_ENUM);
        return;
    }
    struct glc_map *m = find(c, target);
    *params = m ? m->p : NULL;
}
