/* glc_custom.c — the GL commands gl.overlay marks custom on the client:
 * names minted here (glGen*, glCreate*) so creation never waits, glDelete*,
 * glShaderSource flattened, glGetString fetched once per context, glGetError
 * with the client's own errors first. The server side is server/gl/gl_exec.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glc.h"

static void gen(unsigned op, unsigned cls, GLsizei n, GLuint *names)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return;
    if (n < 0 || n > 65536) {
        rg_glc_error(c, GL_INVALID_VALUE);
        return;
    }
    if (n && !names) return;
    rg_glc_reserve(8 + 4u * (size_t)n, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, op);
    rpc_put_u32(w, (uint32_t)n);
    for (GLsizei i = 0; i < n; i++) {
        names[i] = ++c->share->next[cls];
        rpc_put_u32(w, names[i]);
    }
}

static void del(unsigned op, GLsizei n, const GLuint *names)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return;
    if (op == RG_GLOP_glDeleteVertexArrays && n > 0 && n <= 65536 && names)
        rg_glc_vaos_deleted(c, n, names);
    if (n < 0 || n > 65536) {
        rg_glc_error(c, GL_INVALID_VALUE);
        return;
    }
    if (!n || !names) return;
    GLsizei k = 0;
    for (GLsizei i = 0; i < n; i++)
        k += names[i] != 0 && names[i] < (1u << 22);
    rg_glc_reserve(8 + 4u * (size_t)k, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, op);
    rpc_put_u32(w, (uint32_t)k);
    for (GLsizei i = 0; i < n; i++)
        if (names[i] != 0 && names[i] < (1u << 22)) rpc_put_u32(w, names[i]);
    for (GLsizei i = 0; op == RG_GLOP_glDeleteBuffers && i < n; i++) {
        /* bindings of deleted buffers revert to 0 */
        if (names[i] == c->array_buf) c->array_buf = 0;
        if (names[i] == c->elem_buf) c->elem_buf = 0;
        if (names[i] == c->pack_buf) c->pack_buf = 0;
        if (names[i] == c->unpack_buf) c->unpack_buf = 0;
    }
}

void rgc_glGenBuffers(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenBuffers, RG_GC_BUFFER, n, b);
}
void rgc_glGenTextures(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenTextures, RG_GC_TEXTURE, n, b);
}
void rgc_glGenFramebuffers(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenFramebuffers, RG_GC_FRAMEBUFFER, n, b);
}
void rgc_glGenRenderbuffers(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenRenderbuffers, RG_GC_RENDERBUFFER, n, b);
}
void rgc_glDeleteBuffers(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteBuffers, n, b);
}
void rgc_glDeleteTextures(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteTextures, n, b);
}
void rgc_glDeleteFramebuffers(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteFramebuffers, n, b);
}
void rgc_glGenQueries(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenQueries, RG_GC_QUERY, n, b);
}
void rgc_glGenVertexArrays(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenVertexArrays, RG_GC_VERTEXARRAY, n, b);
}
void rgc_glGenSamplers(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenSamplers, RG_GC_SAMPLER, n, b);
}
void rgc_glGenTransformFeedbacks(GLsizei n, GLuint *b)
{
    gen(RG_GLOP_glGenTransformFeedbacks, RG_GC_TRANSFORMFEEDBACK, n, b);
}
void rgc_glDeleteQueries(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteQueries, n, b);
}
void rgc_glDeleteVertexArrays(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteVertexArrays, n, b);
}
void rgc_glDeleteSamplers(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteSamplers, n, b);
}
void rgc_glDeleteTransformFeedbacks(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteTransformFeedbacks, n, b);
}
void rgc_glDeleteRenderbuffers(GLsizei n, const GLuint *b)
{
    del(RG_GLOP_glDeleteRenderbuffers, n, b);
}

static GLuint create(unsigned op, int has_type, GLenum type)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return 0;
    if (has_type && type != GL_VERTEX_SHADER && type != GL_FRAGMENT_SHADER &&
        type != GL_COMPUTE_SHADER && type != GL_GEOMETRY_SHADER && type != GL_TESS_CONTROL_SHADER &&
        type != GL_TESS_EVALUATION_SHADER) {
        rg_glc_error(c, GL_INVALID_ENUM);
        return 0;
    }
    /* programs and shaders share one name space in GL */
    GLuint name = ++c->share->next[RG_GC_PROGRAM];
    rg_glc_reserve(16, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, op);
    if (has_type) rpc_put_u32(w, type);
    rpc_put_u32(w, name);
    return name;
}

GLuint rgc_glCreateProgram(void)
{
    return create(RG_GLOP_glCreateProgram, 0, 0);
}
GLuint rgc_glCreateShader(GLenum type)
{
    return create(RG_GLOP_glCreateShader, 1, type);
}

static void delone(unsigned op, GLuint name)
{
    if (!rg_glc_current() || !name) return;
    rg_glc_reserve(8, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, op);
    rpc_put_u32(w, name);
}

void rgc_glDeleteProgram(GLuint p)
{
    rg_glc_prog_deleted(p);
    delone(RG_GLOP_glDeleteProgram, p);
}
void rgc_glDeleteShader(GLuint s)
{
    delone(RG_GLOP_glDeleteShader, s);
}

void rgc_glShaderSource(GLuint shader, GLsizei count, const GLchar *const *string,
                        const GLint *length)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return;
    if (count < 0 || count > 65536 || (count && !string)) {
        rg_glc_error(c, GL_INVALID_VALUE);
        return;
    }
    size_t total = 0;
    for (GLsizei i = 0; i < count; i++) {
        if (!string[i]) {
            rg_glc_error(c, GL_INVALID_VALUE);
            return;
        }
        total += length && length[i] >= 0 ? (size_t)length[i] : strlen(string[i]);
    }
    rg_glc_reserve(12 + 4u * (size_t)count, total);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_GLOP_glShaderSource);
    rpc_put_u32(w, shader);
    rpc_put_u32(w, (uint32_t)count);
    for (GLsizei i = 0; i < count; i++) {
        size_t l = length && length[i] >= 0 ? (size_t)length[i] : strlen(string[i]);
        rpc_put_u32(w, (uint32_t)l);
        rg_glc_raw(string[i], l);
    }
}

/* The renderer names the server's and rgpu, so tools show where they render. */
const GLubyte *rgc_glGetString(GLenum name)
{
    static const GLenum names[] = {GL_VENDOR, GL_RENDERER, GL_VERSION, GL_SHADING_LANGUAGE_VERSION,
                                   GL_EXTENSIONS};
    struct glc_ctx *c = rg_glc_current();
    unsigned k = 0;
    if (!c) return NULL;
    while (k < 5 && names[k] != name)
        k++;
    if (k == 5) {
        rg_glc_error(c, GL_INVALID_ENUM);
        return NULL;
    }
    if (c->strings[k]) return (const GLubyte *)c->strings[k];
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_GLOP_glGetString);
    rpc_put_u32(w, name);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return NULL;
    if (!r.status && r.ret && r.raw_len && r.raw[r.raw_len - 1] == 0) {
        const char *s = (const char *)r.raw;
        size_t n = strlen(s) + 16;
        char *v = malloc(n);
        if (v) {
            if (name == GL_RENDERER)
                snprintf(v, n, "%s via rgpu", s);
            else
                memcpy(v, s, strlen(s) + 1);
            c->strings[k] = v;
        }
    }
    rg_glc_reply_free(&r);
    return (const GLubyte *)c->strings[k];
}

GLenum rgc_glGetError(void)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return GL_NO_ERROR;
    if (c->error) {
        GLenum e = c->error;
        c->error = GL_NO_ERROR;
        return e;
    }
    union rg_gl_arg r;
    rg_glc_command(RG_GLOP_glGetError, NULL, &r);
    return (GLenum)r.u;
}

/* glGet*v: the lists whose length is another pname's value come through a
 * scratch buffer of the descriptor's size (rg_gl_get_count), and only as many
 * values as the count says reach the application's memory. */
static GLenum list_count_pname(GLenum pname)
{
    switch (pname) {
    case GL_COMPRESSED_TEXTURE_FORMATS:
        return GL_NUM_COMPRESSED_TEXTURE_FORMATS;
    case GL_SHADER_BINARY_FORMATS:
        return GL_NUM_SHADER_BINARY_FORMATS;
    case GL_PROGRAM_BINARY_FORMATS:
        return GL_NUM_PROGRAM_BINARY_FORMATS;
    default:
        return 0;
    }
}

static void get_values(unsigned op, GLenum pname, void *data, size_t elem)
{
    union rg_gl_arg a[2];
    GLenum count_pname = list_count_pname(pname);
    a[0].i = pname, a[1].p = data;
    if (!count_pname || !data) {
        rg_glc_command(op, a, NULL);
        return;
    }
    GLint n = 0;
    union rg_gl_arg q[2];
    q[0].i = count_pname, q[1].p = &n;
    rg_glc_command(RG_GLOP_glGetIntegerv, q, NULL);
    size_t cap = rg_gl_get_count(pname);
    if (n <= 0) return;
    if ((size_t)n > cap) n = (GLint)cap; /* more than the wire carries: the first ones */
    uint64_t scratch[256];
    a[1].p = scratch;
    rg_glc_command(op, a, NULL);
    memcpy(data, scratch, (size_t)n * elem);
}

/* Implementation limits (gl/glsize.c), fetched in one round trip at the first
 * glGetIntegerv of any of them (RG_WS_LIMITS: those this context's version has);
 * 1 if *data was answered here. */
static int limit(struct glc_ctx *c, GLenum pname, GLint *data)
{
    if (!c->limits_tried) {
        c->limits_tried = 1;
        rg_glc_reserve(4, 0);
        rpc_put_u32(rg_glc_enc(), RG_WS_LIMITS);
        struct glc_reply r;
        if (rg_glc_sync(&r)) return 0;
        uint32_t n = rpc_get_u32(&r.rest);
        int32_t(*t)[3] = !r.status && n && n <= 256 ? calloc(n, sizeof *t) : NULL;
        for (uint32_t i = 0; t && i < n; i++)
            for (int k = 0; k < 3; k++)
                t[i][k] = (int32_t)rpc_get_u32(&r.rest);
        if (t && rpc_rbuf_done(&r.rest)) {
            c->limits = t, c->nlimits = n;
        } else {
            free(t);
        }
        rg_glc_reply_free(&r);
    }
    for (uint32_t i = 0; i < c->nlimits; i++)
        if ((GLenum)c->limits[i][0] == pname) {
            data[0] = c->limits[i][1];
            if (pname == GL_MAX_VIEWPORT_DIMS) data[1] = c->limits[i][2];
            return 1;
        }
    return 0;
}

void rgc_glGetIntegerv(GLenum pname, GLint *data)
{
    struct glc_ctx *c = rg_glc_current();
    if (c && data && rg_gl_is_limit(pname) && limit(c, pname, data)) return;
    get_values(RG_GLOP_glGetIntegerv, pname, data, sizeof *data);
}

void rgc_glGetFloatv(GLenum pname, GLfloat *data)
{
    get_values(RG_GLOP_glGetFloatv, pname, data, sizeof *data);
}

void rgc_glGetBooleanv(GLenum pname, GLboolean *data)
{
    get_values(RG_GLOP_glGetBooleanv, pname, data, sizeof *data);
}

/* The whole extension list in one round trip (RG_WS_EXTENSIONS), the first
 * time a context asks for a name in it. 0, or -1: ask name by name. */
static int fetch_extensions(struct glc_ctx *c)
{
    rpc_put_u32(rg_glc_enc(), RG_WS_EXTENSIONS);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return -1;
    uint32_t n = rpc_get_u32(&r.rest);
    int rc = -1;
    char **t = NULL;
    if (r.status || !rpc_rbuf_done(&r.rest) || !n || n > 4096 || !(t = calloc(n, sizeof *t)))
        goto done;
    const char *p = (const char *)r.raw, *end = p + r.raw_len;
    for (uint32_t i = 0; i < n; i++) {
        const char *z = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
        if (!z || !(t[i] = strdup(p))) goto done;
        p = z + 1;
    }
    if (p != end) goto done;
    for (uint32_t i = 0; i < c->nexts; i++)
        free(c->exts[i]);
    free(c->exts);
    c->exts = t, c->nexts = c->next_all = n;
    t = NULL;
    rc = 0;
done:
    for (uint32_t i = 0; t && i < n; i++)
        free(t[i]);
    free(t);
    rg_glc_reply_free(&r);
    return rc;
}

/* glGetStringi: extension names are fetched all at once per context (one by one
 * where the server cannot list them) and kept. */
const GLubyte *rgc_glGetStringi(GLenum name, GLuint index)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return NULL;
    int cache = name == GL_EXTENSIONS && index < 4096;
    if (cache && !c->next_all && !c->ext_tried) {
        c->ext_tried = 1;
        fetch_extensions(c);
    }
    if (cache && c->next_all && index >= c->next_all) {
        rg_glc_error(c, GL_INVALID_VALUE); /* past the end of the list */
        return NULL;
    }
    if (cache && index < c->nexts && c->exts[index]) return (const GLubyte *)c->exts[index];
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_GLOP_glGetStringi);
    rpc_put_u32(w, name);
    rpc_put_u32(w, index);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return NULL;
    char *v = NULL;
    if (!r.status && r.ret && r.raw_len && r.raw[r.raw_len - 1] == 0)
        v = strdup((const char *)r.raw);
    rg_glc_reply_free(&r);
    if (!v) {
        rg_glc_error(c, GL_INVALID_VALUE); /* what GL says for an index past the end */
        return NULL;
    }
    if (!cache) { /* other names: kept until the context goes (rare) */
        free(c->strings[7]);
        c->strings[7] = v;
        return (const GLubyte *)v;
    }
    if (index >= c->nexts) {
        uint32_t n = index + 64;
        char **t = realloc(c->exts, n * sizeof *t);
        if (!t) {
            free(v);
            return NULL;
        }
        memset(t + c->nexts, 0, (n - c->nexts) * sizeof *t);
        c->exts = t, c->nexts = n;
    }
    c->exts[index] = v;
    return (const GLubyte *)v;
}

/* glFenceSync: the GLsync the application gets is an id minted here; the
 * server keeps the real one. */
GLsync rgc_glFenceSync(GLenum condition, GLbitfield flags)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return NULL;
    uint32_t id = ++c->share->next[RG_GC_SYNC];
    rg_glc_reserve(16, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_GLOP_glFenceSync);
    rpc_put_u32(w, condition);
    rpc_put_u32(w, flags);
    rpc_put_u32(w, id);
    return (GLsync)(uintptr_t)id;
}

void rgc_glDeleteSync(GLsync sync)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c || !sync) return;
    rg_glc_reserve(8, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_GLOP_glDeleteSync);
    rpc_put_u32(w, (uint32_t)(uintptr_t)sync);
}

/* Display lists (desktop GL): a range of names minted here; the worker maps
 * each to its own list of one real range. */
GLuint rgc_glGenLists(GLsizei range)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return 0;
    if (range < 0 || range > 65536) {
        rg_glc_error(c, GL_INVALID_VALUE);
        return 0;
    }
    if (range == 0) return 0;
    GLuint base = c->share->next[RG_GC_DISPLAYLIST] + 1;
    c->share->next[RG_GC_DISPLAYLIST] += (uint32_t)range;
    rg_glc_reserve(12, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_GLOP_glGenLists);
    rpc_put_u32(w, (uint32_t)range);
    rpc_put_u32(w, base);
    return base;
}

void rgc_glDeleteLists(GLuint list, GLsizei range)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return;
    if (range < 0 || range > 65536) {
        rg_glc_error(c, GL_INVALID_VALUE);
        return;
    }
    rg_glc_reserve(12, 0);
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_GLOP_glDeleteLists);
    rpc_put_u32(w, list);
    rpc_put_u32(w, (uint32_t)range);
}
