/* glc_arrays.c — client-side vertex arrays: glVertexAttribPointer with no
 * buffer bound is only recorded; at each draw the used index range of every
 * enabled client array is uploaded into a stream buffer of its own and the
 * attribute pointed there, then the draw goes out. When every enabled array
 * is client data the range is rebased to start at 0 (the indices of an
 * indexed draw are rewritten), so only the vertices drawn cross the wire. */
#include <stdlib.h>
#include <string.h>

#include "glc.h"

void rg_glc_shadow_glEnableVertexAttribArray(const union rg_gl_arg *a)
{
    struct glc_ctx *c = rg_glc_current();
    if (c && a[0].u < GLC_MAX_ATTRIBS) c->attr[a[0].u].enabled = 1;
}

void rg_glc_shadow_glDisableVertexAttribArray(const union rg_gl_arg *a)
{
    struct glc_ctx *c = rg_glc_current();
    if (c && a[0].u < GLC_MAX_ATTRIBS) c->attr[a[0].u].enabled = 0;
}

static void send_pointer(GLuint index, GLint size, GLenum type, GLboolean norm, GLsizei stride,
                         const void *ptr)
{
    union rg_gl_arg a[6];
    a[0].i = index, a[1].i = size, a[2].i = type, a[3].i = norm, a[4].i = stride, a[5].p = ptr;
    rg_glc_command(RG_GLOP_glVertexAttribPointer, a, NULL);
}

void rgc_glVertexAttribPointer(GLuint index, GLint size, GLenum type, GLboolean normalized,
                               GLsizei stride, const void *pointer)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return;
    if (c->array_buf || index >= GLC_MAX_ATTRIBS) { /* an offset: GL checks the rest */
        if (index < GLC_MAX_ATTRIBS) c->attr[index].client = 0;
        send_pointer(index, size, type, normalized, stride, pointer);
        return;
    }
    if (size < 1 || size > 4 || stride < 0) {
        rg_glc_error(c, GL_INVALID_VALUE);
        return;
    }
    if (!rg_gl_type_size(type)) {
        rg_glc_error(c, GL_INVALID_ENUM);
        return;
    }
    struct glc_attrib *at = &c->attr[index];
    at->client = 1, at->size = size, at->type = type, at->normalized = normalized;
    at->stride = stride, at->ptr = pointer;
}

static int any_client(const struct glc_ctx *c, int *all)
{
    int any = 0, buffered = 0;
    for (int i = 0; i < GLC_MAX_ATTRIBS; i++) {
        if (!c->attr[i].enabled) continue;
        if (c->attr[i].client)
            any = 1;
        else
            buffered = 1;
    }
    *all = any && !buffered;
    return any;
}

static void bind_array(GLuint name)
{
    union rg_gl_arg a[2];
    a[0].i = GL_ARRAY_BUFFER, a[1].i = name;
    rg_glc_command(RG_GLOP_glBindBuffer, a, NULL);
}

/* Uploads vertices [lo, hi] of every enabled client array; they start at
 * offset 0 of its stream buffer, so vertex lo becomes vertex 0 when rebase
 * (else lo is 0). 0, or -1 (an array the client cannot read: NULL). */
static int upload(struct glc_ctx *c, uint64_t lo, uint64_t hi)
{
    GLuint app = c->array_buf;
    for (GLuint i = 0; i < GLC_MAX_ATTRIBS; i++) {
        struct glc_attrib *at = &c->attr[i];
        if (!at->enabled || !at->client) continue;
        if (!at->ptr) return -1;
        size_t elem = (size_t)at->size * rg_gl_type_size(at->type);
        size_t stride = at->stride ? (size_t)at->stride : elem;
        size_t bytes = (size_t)(hi - lo) * stride + elem;
        if (!at->stream) at->stream = ++c->share->next[RG_GC_BUFFER]; /* made by the bind */
        c->array_buf = at->stream; /* the pointer below is an offset into it */
        bind_array(at->stream);
        union rg_gl_arg a[4];
        a[0].i = GL_ARRAY_BUFFER, a[1].i = (int64_t)bytes;
        a[2].p = (const char *)at->ptr + lo * stride, a[3].i = GL_STREAM_DRAW;
        rg_glc_command(RG_GLOP_glBufferData, a, NULL);
        send_pointer(i, at->size, at->type, at->normalized, (GLsizei)stride, NULL);
    }
    c->array_buf = app;
    bind_array(app);
    return 0;
}

void rgc_glDrawArrays(GLenum mode, GLint first, GLsizei count)
{
    struct glc_ctx *c = rg_glc_current();
    union rg_gl_arg a[3];
    int all;
    if (!c) return;
    a[0].i = mode, a[1].i = first, a[2].i = count;
    if (first >= 0 && count > 0 && any_client(c, &all)) {
        if (upload(c, all ? (uint64_t)first : 0, (uint64_t)first + (uint64_t)count - 1)) {
            rg_glc_error(c, GL_INVALID_OPERATION);
            return;
        }
        if (all) a[1].i = 0;
    }
    rg_glc_command(RG_GLOP_glDrawArrays, a, NULL);
}

static uint32_t index_at(const void *p, GLenum type, size_t i)
{
    switch (type) {
    case GL_UNSIGNED_BYTE:
        return ((const uint8_t *)p)[i];
    case GL_UNSIGNED_SHORT:
        return ((const uint16_t *)p)[i];
    default:
        return ((const uint32_t *)p)[i];
    }
}

void rgc_glDrawElements(GLenum mode, GLsizei count, GLenum type, const void *indices)
{
    struct glc_ctx *c = rg_glc_current();
    union rg_gl_arg a[4];
    int all;
    void *rebased = NULL;
    if (!c) return;
    a[0].i = mode, a[1].i = count, a[2].i = type, a[3].p = indices;
    int typed = type == GL_UNSIGNED_BYTE || type == GL_UNSIGNED_SHORT || type == GL_UNSIGNED_INT;
    if (count > 0 && typed && indices && any_client(c, &all)) {
        if (c->elem_buf) { /* the indices are on the server: no mirror of buffers yet */
            static int logged;
            if (!logged++)
                rg_glc_log(GLC_WARN,
                           "client vertex arrays with an element buffer are not forwarded yet");
            rg_glc_error(c, GL_INVALID_OPERATION);
            return;
        }
        uint32_t lo = UINT32_MAX, hi = 0;
        for (GLsizei i = 0; i < count; i++) {
            uint32_t v = index_at(indices, type, (size_t)i);
            lo = v < lo ? v : lo, hi = v > hi ? v : hi;
        }
        if (!all) lo = 0;
        size_t isz = rg_gl_type_size(type);
        if (lo && (rebased = malloc((size_t)count * isz))) {
            for (GLsizei i = 0; i < count; i++) {
                uint32_t v = index_at(indices, type, (size_t)i) - lo;
                if (isz == 1)
                    ((uint8_t *)rebased)[i] = (uint8_t)v;
                else if (isz == 2)
                    ((uint16_t *)rebased)[i] = (uint16_t)v;
                else
                    ((uint32_t *)rebased)[i] = v;
            }
            a[3].p = rebased;
        } else {
            lo = 0;
        }
        if (upload(c, lo, hi)) {
            free(rebased);
            rg_glc_error(c, GL_INVALID_OPERATION);
            return;
        }
    }
    rg_glc_command(RG_GLOP_glDrawElements, a, NULL); /* the indices are copied here */
    free(rebased);
}

/* ---- vertex array objects: the element binding and the arrays are theirs ---------- */

static struct glc_vao *vao_slot(struct glc_ctx *c, uint32_t name, int make)
{
    for (size_t i = 0; i < c->nvaos; i++)
        if (c->vaos[i].name == name) return &c->vaos[i];
    if (!make) return NULL;
    struct glc_vao *v = realloc(c->vaos, (c->nvaos + 1) * sizeof *v);
    if (!v) return NULL;
    c->vaos = v;
    v = &c->vaos[c->nvaos++];
    memset(v, 0, sizeof *v);
    v->name = name;
    return v;
}

/* Keeps the bound VAO's state in its slot and makes `name`'s the context's. */
static void vao_switch(struct glc_ctx *c, uint32_t name)
{
    struct glc_vao *old = vao_slot(c, c->vao, 1), *nv;
    if (old) {
        old->elem_buf = c->elem_buf;
        memcpy(old->attr, c->attr, sizeof c->attr);
    }
    if (!(nv = vao_slot(c, name, 1))) return;
    c->elem_buf = nv->elem_buf;
    memcpy(c->attr, nv->attr, sizeof c->attr);
    c->vao = name;
}

void rgc_glBindVertexArray(GLuint array)
{
    struct glc_ctx *c = rg_glc_current();
    union rg_gl_arg a[1];
    if (!c) return;
    a[0].i = array;
    rg_glc_command(RG_GLOP_glBindVertexArray, a, NULL);
    if (array != c->vao) vao_switch(c, array);
}

/* glDeleteVertexArrays (glc_custom.c): a deleted bound VAO leaves 0 bound. */
void rg_glc_vaos_deleted(struct glc_ctx *c, GLsizei n, const GLuint *names)
{
    for (GLsizei i = 0; i < n; i++) {
        if (!names[i]) continue;
        if (names[i] == c->vao) vao_switch(c, 0);
        struct glc_vao *v = vao_slot(c, names[i], 0);
        if (v) *v = c->vaos[--c->nvaos];
    }
}

/* ---- GL ES 3.0 draws and integer arrays -------------------------------------------- */

void rgc_glVertexAttribIPointer(GLuint index, GLint size, GLenum type, GLsizei stride,
                                const void *pointer)
{
    struct glc_ctx *c = rg_glc_current();
    union rg_gl_arg a[5];
    if (!c) return;
    if (!c->array_buf && index < GLC_MAX_ATTRIBS) { /* client integer arrays: not yet */
        static int logged;
        if (!logged++)
            rg_glc_log(GLC_WARN, "client-side integer vertex arrays are not forwarded yet");
        rg_glc_error(c, GL_INVALID_OPERATION);
        return;
    }
    if (index < GLC_MAX_ATTRIBS) c->attr[index].client = 0;
    a[0].i = index, a[1].i = size, a[2].i = type, a[3].i = stride, a[4].p = pointer;
    rg_glc_command(RG_GLOP_glVertexAttribIPointer, a, NULL);
}

/* Instanced draws with client arrays would need the instance range too: not yet. */
static int refuse_client_arrays(struct glc_ctx *c, const char *what)
{
    int all;
    if (!any_client(c, &all)) return 0;
    static int logged;
    if (!logged++)
        rg_glc_log(GLC_WARN, "%s with client-side vertex arrays is not forwarded yet", what);
    rg_glc_error(c, GL_INVALID_OPERATION);
    return 1;
}

void rgc_glDrawArraysInstanced(GLenum mode, GLint first, GLsizei count, GLsizei instances)
{
    struct glc_ctx *c = rg_glc_current();
    union rg_gl_arg a[4];
    if (!c || refuse_client_arrays(c, "glDrawArraysInstanced")) return;
    a[0].i = mode, a[1].i = first, a[2].i = count, a[3].i = instances;
    rg_glc_command(RG_GLOP_glDrawArraysInstanced, a, NULL);
}

void rgc_glDrawElementsInstanced(GLenum mode, GLsizei count, GLenum type, const void *indices,
                                 GLsizei instances)
{
    struct glc_ctx *c = rg_glc_current();
    union rg_gl_arg a[5];
    if (!c || refuse_client_arrays(c, "glDrawElementsInstanced")) return;
    a[0].i = mode, a[1].i = count, a[2].i = type, a[3].p = indices, a[4].i = instances;
    rg_glc_command(RG_GLOP_glDrawElementsInstanced, a, NULL);
}

void rgc_glDrawRangeElements(GLenum mode, GLuint start, GLuint end, GLsizei count, GLenum type,
                             const void *indices)
{
    struct glc_ctx *c = rg_glc_current();
    union rg_gl_arg a[6];
    int all;
    if (!c) return;
    if (any_client(c, &all)) { /* the range is a hint: the indices decide, as in glDrawElements */
        if (end < start) {
            rg_glc_error(c, GL_INVALID_VALUE);
            return;
        }
        rgc_glDrawElements(mode, count, type, indices);
        return;
    }
    a[0].i = mode, a[1].i = start, a[2].i = end, a[3].i = count, a[4].i = type, a[5].p = indices;
    rg_glc_command(RG_GLOP_glDrawRangeElements, a, NULL);
}
