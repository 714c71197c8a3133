/* gl_exec.c — one GL batch CALL on the client thread's lane: every command
 * decoded against its generated descriptor (gl_desc.h), every length
 * recomputed here and compared with what the client sent, client-minted names
 * translated, then the GL function called through libffi. A malformed batch
 * ends the session (DESIGN rule 6); GL's own errors stay GL errors. */
#include <ffi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gl_server.h"
#include "log.h"
#include "rg_gl_cmds.h"
#include "session.h"

struct gl_fns G;

#define GL_MAX_PARAMS 16
#define GL_OUT_SLACK 4096 /* beyond the computed size, in case GL writes more than a table says */
#define GL_MAX_GEN 65536  /* names in one glGen* / glDelete* */
#define GL_BAD_NAME 0x7ffffff0u /* stands for an unknown program or shader: GL refuses it */

int gl_fns_load(void)
{
#define L(f)                                                                                       \
    if (!(G.f = (void *)gl_proc("gl" #f))) return -1
    L(GetString);
    L(GenRenderbuffers);
    L(BindRenderbuffer);
    L(RenderbufferStorage);
    L(DeleteRenderbuffers);
    L(GenFramebuffers);
    L(BindFramebuffer);
    L(FramebufferRenderbuffer);
    L(Viewport);
    L(Scissor);
    L(GetIntegerv);
    L(DeleteTextures);
    L(DeleteBuffers);
    L(DeleteFramebuffers);
    L(GenTextures);
    L(GenBuffers);
    L(DeleteProgram);
    L(DeleteShader);
    L(ShaderSource);
    L(Finish);
    L(BindTexture);
    L(TexImage2D);
    L(FramebufferTexture2D);
    L(GetVertexAttribiv);
    L(ReadPixels);
    L(PixelStorei);
    L(BindBuffer);
#undef L
    /* GL ES 3.0 / GL 3.x: absent from older servers, then those commands do nothing */
#define O(f) G.f = (void *)gl_proc("gl" #f)
    O(GenVertexArrays);
    O(DeleteVertexArrays);
    O(GenQueries);
    O(DeleteQueries);
    O(GenSamplers);
    O(DeleteSamplers);
    O(GenTransformFeedbacks);
    O(DeleteTransformFeedbacks);
    O(GetStringi);
    O(FenceSync);
    O(DeleteSync);
    O(ClientWaitSync);
    O(BufferData);
    O(MapBufferRange);
    O(UnmapBuffer);
    O(MapBuffer);
    O(FlushMappedBufferRange);
    O(GetBufferParameteriv);
    O(GetBufferPointerv);
    O(IsProgram);
    O(GetProgramiv);
    O(GetActiveUniform);
    O(GetActiveAttrib);
    O(GetUniformLocation);
    O(GetAttribLocation);
    O(GenLists);
    O(DeleteLists);
    O(ClientActiveTexture);
    O(IsEnabled);
#undef O
    return 0;
}

/* ---- per-opcode call interfaces, built on first use ------------------------------------ */

static struct gl_entry {
    int state; /* 0 not yet, 1 ready, -1 the server's GL lacks it */
    void (*fn)(void);
    ffi_cif cif;
    ffi_type *types[GL_MAX_PARAMS];
} entries[RG_GLOP_N_];
static pthread_mutex_t entries_mu = PTHREAD_MUTEX_INITIALIZER;

static ffi_type *ffi_of(unsigned kind)
{
    switch (kind) {
    case RG_GK_VOID:
        return &ffi_type_void;
    case RG_GK_U8:
        return &ffi_type_uint8;
    case RG_GK_I8:
        return &ffi_type_sint8;
    case RG_GK_U16:
        return &ffi_type_uint16;
    case RG_GK_I16:
        return &ffi_type_sint16;
    case RG_GK_U32:
        return &ffi_type_uint32;
    case RG_GK_I32:
        return &ffi_type_sint32;
    case RG_GK_F32:
        return &ffi_type_float;
    case RG_GK_U64:
        return &ffi_type_uint64;
    case RG_GK_I64:
        return &ffi_type_sint64;
    case RG_GK_F64:
        return &ffi_type_double;
    default:
        return &ffi_type_pointer;
    }
}

static struct gl_entry *entry(unsigned op)
{
    struct gl_entry *e = &entries[op];
    pthread_mutex_lock(&entries_mu);
    if (!e->state) {
        const struct rg_gl_cmd *c = &rg_gl_cmds[op];
        for (unsigned i = 0; i < c->nparams; i++)
            e->types[i] = ffi_of(c->p[i].kind);
        e->fn = (void (*)(void))gl_proc(c->name);
        e->state = e->fn && c->nparams <= GL_MAX_PARAMS &&
                           ffi_prep_cif(&e->cif, FFI_DEFAULT_ABI, c->nparams, ffi_of(c->ret),
                                        e->types) == FFI_OK
                       ? 1
                       : -1;
        if (e->state < 0) srv_warn("GL: %s is not available on the server", c->name);
    }
    pthread_mutex_unlock(&entries_mu);
    return e->state > 0 ? e : NULL;
}

/* ---- names --------------------------------------------------------------------------------------
 */

static void (*gen_fn(unsigned cls))(GLsizei, GLuint *)
{
    switch (cls) {
    case RG_GC_BUFFER:
        return G.GenBuffers;
    case RG_GC_TEXTURE:
        return G.GenTextures;
    case RG_GC_FRAMEBUFFER:
        return G.GenFramebuffers;
    case RG_GC_RENDERBUFFER:
        return G.GenRenderbuffers;
    case RG_GC_VERTEXARRAY:
        return G.GenVertexArrays;
    case RG_GC_QUERY:
        return G.GenQueries;
    case RG_GC_SAMPLER:
        return G.GenSamplers;
    case RG_GC_TRANSFORMFEEDBACK:
        return G.GenTransformFeedbacks;
    default:
        return NULL;
    }
}

static void (*del_fn(unsigned cls))(GLsizei, const GLuint *)
{
    switch (cls) {
    case RG_GC_BUFFER:
        return G.DeleteBuffers;
    case RG_GC_TEXTURE:
        return G.DeleteTextures;
    case RG_GC_FRAMEBUFFER:
        return G.DeleteFramebuffers;
    case RG_GC_RENDERBUFFER:
        return G.DeleteRenderbuffers;
    case RG_GC_VERTEXARRAY:
        return G.DeleteVertexArrays;
    case RG_GC_QUERY:
        return G.DeleteQueries;
    case RG_GC_SAMPLER:
        return G.DeleteSamplers;
    case RG_GC_TRANSFORMFEEDBACK:
        return G.DeleteTransformFeedbacks;
    default:
        return NULL;
    }
}

/* Name tables of a share group are used by the lanes of all its contexts. */
static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;

static int names_set_locked(struct gl_names *n, unsigned cls, uint32_t name, uint32_t real)
{
    if (cls >= RG_GC_N_ || name == 0 || name >= GL_MAX_NAME) return -1;
    if (name >= n->cap[cls]) {
        uint32_t m = n->cap[cls] ? n->cap[cls] : 64;
        while (m <= name)
            m *= 2;
        uint32_t *t = realloc(n->map[cls], m * sizeof *t);
        if (!t) return -1;
        memset(t + n->cap[cls], 0, (m - n->cap[cls]) * sizeof *t);
        n->map[cls] = t, n->cap[cls] = m;
    }
    n->map[cls][name] = real;
    return 0;
}

static int names_set(struct gl_names *n, unsigned cls, uint32_t name, uint32_t real)
{
    pthread_mutex_lock(&names_mu);
    int rc = names_set_locked(n, cls, name, real);
    pthread_mutex_unlock(&names_mu);
    return rc;
}

/* Forgets a client name; returns its real name (0 if it had none). */
static uint32_t names_drop(struct gl_names *n, unsigned cls, uint32_t name)
{
    uint32_t real = 0;
    pthread_mutex_lock(&names_mu);
    if (name < n->cap[cls]) real = n->map[cls][name], n->map[cls][name] = 0;
    pthread_mutex_unlock(&names_mu);
    return real;
}

/* GLsync objects: client ids -> the server's pointers (gl_names.syncs). */
static int sync_put(struct gl_names *n, uint32_t id, GLsync s)
{
    int rc = -1;
    pthread_mutex_lock(&names_mu);
    if (id && id < GL_MAX_NAME) {
        if (id >= n->nsync) {
            uint32_t m = n->nsync ? n->nsync : 64;
            while (m <= id)
                m *= 2;
            void **t = realloc(n->syncs, m * sizeof *t);
            if (t) {
                memset(t + n->nsync, 0, (m - n->nsync) * sizeof *t);
                n->syncs = t, n->nsync = m;
            }
        }
        if (id < n->nsync) n->syncs[id] = s, rc = 0;
    }
    pthread_mutex_unlock(&names_mu);
    return rc;
}

void *gl_sync_get(struct gl_names *n, uint32_t id)
{
    pthread_mutex_lock(&names_mu);
    void *s = id < n->nsync ? n->syncs[id] : NULL;
    pthread_mutex_unlock(&names_mu);
    return s;
}

static void *sync_drop(struct gl_names *n, uint32_t id)
{
    pthread_mutex_lock(&names_mu);
    void *s = id < n->nsync ? n->syncs[id] : NULL;
    if (s) n->syncs[id] = NULL;
    pthread_mutex_unlock(&names_mu);
    return s;
}

void gl_names_put(struct gl_names *n)
{
    if (!n || --n->refs > 0) return;
    free(n->syncs);
    for (int i = 0; i < RG_GC_N_; i++)
        free(n->map[i]);
    free(n);
}

/* The real name of a client name. Buffers, textures, framebuffers and
 * renderbuffers that were never generated are made on first use, as GLES
 * does on bind; an unknown program or shader becomes a name GL refuses.
 * Framebuffer 0 is the current draw surface's FBO. */
GLuint gl_name_lookup(struct gl_ctx *c, unsigned cls, uint32_t name, int create)
{
    if (cls == RG_GC_NONE) return name;
    if (cls == RG_GC_FRAMEBUFFER && name == 0) return gl_surface_fbo(c, c->draw);
    if (name == 0) return 0;
    struct gl_names *n = c->names;
    GLuint real = 0;
    void (*gen)(GLsizei, GLuint *) = gen_fn(cls);
    pthread_mutex_lock(&names_mu);
    if (name < n->cap[cls]) real = n->map[cls][name];
    if (!real && create && cls == RG_GC_DISPLAYLIST && G.GenLists && name < GL_MAX_NAME) {
        /* any name may be given to glNewList: a list of its own */
        if ((real = G.GenLists(1)) && names_set_locked(n, cls, name, real)) real = 0;
    } else if (!real && create && gen && name < GL_MAX_NAME) {
        gen(1, &real);
        if (names_set_locked(n, cls, name, real)) real = 0;
    } else if (!real && (cls == RG_GC_PROGRAM || cls == RG_GC_SHADER)) {
        real = GL_BAD_NAME;
    }
    pthread_mutex_unlock(&names_mu);
    return real;
}

/* ---- decoding one generated command --------------------------------------------------------- */

struct batch {
    struct session *s;
    struct call *cl;
    rpc_rbuf rb;
    size_t raw_pos;
    rpc_wbuf reply, reply_raw; /* of the last (sync) command */
    uint32_t status;
    uint64_t ret;
};

/* The next n bytes of the call's raw part, or NULL if they are not there. */
static const void *raw_take(struct batch *b, uint32_t n)
{
    if (n > b->cl->raw_len - b->raw_pos) return NULL;
    const void *p = (const char *)b->cl->raw + b->raw_pos;
    b->raw_pos += n;
    return p;
}

static void pixstore(struct rg_gl_sizectx *sc)
{
    static const GLenum q[2][6] = {
        {GL_PACK_ALIGNMENT, GL_PACK_ROW_LENGTH, 0, GL_PACK_SKIP_ROWS, GL_PACK_SKIP_PIXELS, 0},
        {GL_UNPACK_ALIGNMENT, GL_UNPACK_ROW_LENGTH, GL_UNPACK_IMAGE_HEIGHT, GL_UNPACK_SKIP_ROWS,
         GL_UNPACK_SKIP_PIXELS, GL_UNPACK_SKIP_IMAGES}};
    struct rg_gl_pixstore *ps[2] = {&sc->pack, &sc->unpack};
    for (int k = 0; k < 2; k++) {
        GLint v[6] = {4, 0, 0, 0, 0, 0};
        for (int i = 0; i < 6; i++)
            if (q[k][i]) G.GetIntegerv(q[k][i], &v[i]);
        *ps[k] = (struct rg_gl_pixstore){v[0], v[1], v[2], v[3], v[4], v[5]};
    }
}

static uint64_t get_scalar(rpc_rbuf *rb, unsigned kind, union rg_gl_arg *a)
{
    switch (kind) {
    case RG_GK_U8:
    case RG_GK_U16:
    case RG_GK_U32:
        a->u = rpc_get_u32(rb);
        break;
    case RG_GK_I8:
    case RG_GK_I16:
    case RG_GK_I32:
        a->i = (int32_t)rpc_get_u32(rb);
        break;
    case RG_GK_F32: {
        uint32_t v = rpc_get_u32(rb);
        memcpy(&a->f, &v, 4);
        break;
    }
    default:
        a->u = rpc_get_u64(rb);
        break; /* 64-bit integers and doubles: the bits */
    }
    return a->u;
}

/* A buffer binding, asked of the real context; pixel buffers exist from
 * GL ES 3.0 / GL 2.1 on, and asking an older context would leave it an error. */
static GLint binding(struct gl_ctx *c, GLenum pname)
{
    GLint v = 0;
    if ((pname == GL_PIXEL_PACK_BUFFER_BINDING || pname == GL_PIXEL_UNPACK_BUFFER_BINDING) &&
        c->version < 30)
        return 0;
    G.GetIntegerv(pname, &v);
    return v;
}

/* Every enabled vertex array must read from a buffer: the client uploads its
 * client-side arrays before a draw, so an array without one (never pointed,
 * or its buffer deleted since) would make GL read server memory at an
 * address the client chose. Local queries, a few per draw. */
static int fixed_arrays_in_buffers(struct gl_ctx *c)
{
    static const GLenum arr[][2] = {
        {GL_VERTEX_ARRAY, GL_VERTEX_ARRAY_BUFFER_BINDING},
        {GL_NORMAL_ARRAY, GL_NORMAL_ARRAY_BUFFER_BINDING},
        {GL_COLOR_ARRAY, GL_COLOR_ARRAY_BUFFER_BINDING},
        {GL_INDEX_ARRAY, GL_INDEX_ARRAY_BUFFER_BINDING},
        {GL_EDGE_FLAG_ARRAY, GL_EDGE_FLAG_ARRAY_BUFFER_BINDING},
        {GL_FOG_COORD_ARRAY, GL_FOG_COORD_ARRAY_BUFFER_BINDING},
        {GL_SECONDARY_COLOR_ARRAY, GL_SECONDARY_COLOR_ARRAY_BUFFER_BINDING}};
    if (!c->compat || !G.IsEnabled) return 1; /* fixed-function arrays: compatibility contexts */
    for (size_t i = 0; i < sizeof arr / sizeof *arr; i++) {
        GLint buf = 0;
        if (!G.IsEnabled(arr[i][0])) continue;
        G.GetIntegerv(arr[i][1], &buf);
        if (!buf) return 0;
    }
    GLint units = 0, active = 0, ok = 1;
    G.GetIntegerv(GL_MAX_TEXTURE_COORDS, &units);
    G.GetIntegerv(GL_CLIENT_ACTIVE_TEXTURE, &active);
    for (GLint u = 0; u < units && u < 32 && ok && G.ClientActiveTexture; u++) {
        GLint buf = 0;
        G.ClientActiveTexture(GL_TEXTURE0 + (GLenum)u);
        if (!G.IsEnabled(GL_TEXTURE_COORD_ARRAY)) continue;
        G.GetIntegerv(GL_TEXTURE_COORD_ARRAY_BUFFER_BINDING, &buf);
        ok = buf != 0;
    }
    if (G.ClientActiveTexture && units > 0) G.ClientActiveTexture((GLenum)active);
    return ok;
}

static int arrays_in_buffers(struct gl_ctx *c)
{
    if (!fixed_arrays_in_buffers(c)) return 0;
    if (!c->max_attribs) {
        G.GetIntegerv(GL_MAX_VERTEX_ATTRIBS, &c->max_attribs);
        if (c->max_attribs <= 0 || c->max_attribs > 64) c->max_attribs = 16;
    }
    for (GLint i = 0; i < c->max_attribs; i++) {
        GLint on = 0, buf = 0;
        G.GetVertexAttribiv((GLuint)i, GL_VERTEX_ATTRIB_ARRAY_ENABLED, &on);
        if (!on) continue;
        G.GetVertexAttribiv((GLuint)i, GL_VERTEX_ATTRIB_ARRAY_BUFFER_BINDING, &buf);
        if (!buf) return 0;
    }
    return 1;
}

/* What a command means for the vertex-array check: a draw reads the arrays;
 * an array command changes what they point at. The check runs at a draw only
 * when an array command came since the last one (a few queries per check). */
enum { OPK_OTHER = 1, OPK_DRAW, OPK_ARRAYS };
static int is_draw(const char *name);

static int op_kind(unsigned op)
{
    static unsigned char kind[RG_GLOP_N_];
    if (!kind[op]) {
        const char *n = rg_gl_cmds[op].name;
        int arrays = strstr(n, "Pointer") || strstr(n, "VertexAttribArray") ||
                     strstr(n, "ClientState") || !strcmp(n, "glBindVertexArray") ||
                     !strcmp(n, "glClientActiveTexture") || !strcmp(n, "glDeleteBuffers") ||
                     !strcmp(n, "glDeleteVertexArrays") || !strcmp(n, "glPopClientAttrib") ||
                     !strcmp(n, "glInterleavedArrays");
        kind[op] = is_draw(n) ? OPK_DRAW
                   : arrays   ? OPK_ARRAYS
                              : OPK_OTHER; /* benign race: same value */
    }
    return kind[op];
}

static int is_draw(const char *name)
{
    return !strncmp(name, "glDrawArrays", 12) || !strncmp(name, "glDrawElements", 14) ||
           !strncmp(name, "glDrawRangeElements", 19) || !strncmp(name, "glMultiDraw", 11) ||
           !strcmp(name, "glArrayElement");
}

/* The surface's FBO stands in for the default framebuffer, whose colour buffer
 * is GL_BACK; the FBO's is GL_COLOR_ATTACHMENT0. glDrawBuffers gets a
 * translated copy (kept in out[1], freed with the call). 0, or -1: no memory. */
static int back_to_attachment(unsigned op, union rg_gl_arg *a, void **out)
{
    if (op == RG_GLOP_glReadBuffer && a[0].u == GL_BACK) a[0].u = GL_COLOR_ATTACHMENT0;
    if (op != RG_GLOP_glDrawBuffers || a[0].i <= 0 || !a[1].p || out[1]) return 0;
    GLenum *t = malloc((size_t)a[0].i * sizeof *t);
    if (!t) return -1;
    memcpy(t, a[1].p, (size_t)a[0].i * sizeof *t);
    for (int64_t k = 0; k < a[0].i; k++)
        if (t[k] == GL_BACK) t[k] = GL_COLOR_ATTACHMENT0;
    a[1].p = out[1] = t;
    return 0;
}

/* ---- binding queries: the server's names back into the client's ---------------------------- */

/* The class of the object a binding pname names, RG_GC_NONE for other pnames. */
static unsigned binding_class(GLenum pname)
{
    switch (pname) {
    case GL_ARRAY_BUFFER_BINDING:
    case GL_ELEMENT_ARRAY_BUFFER_BINDING:
    case GL_PIXEL_PACK_BUFFER_BINDING:
    case GL_PIXEL_UNPACK_BUFFER_BINDING:
    case GL_COPY_READ_BUFFER_BINDING:
    case GL_COPY_WRITE_BUFFER_BINDING:
    case GL_UNIFORM_BUFFER_BINDING:
    case GL_TRANSFORM_FEEDBACK_BUFFER_BINDING:
        return RG_GC_BUFFER;
    case GL_TEXTURE_BINDING_1D:
    case GL_TEXTURE_BINDING_2D:
    case GL_TEXTURE_BINDING_3D:
    case GL_TEXTURE_BINDING_CUBE_MAP:
    case GL_TEXTURE_BINDING_2D_ARRAY:
        return RG_GC_TEXTURE;
    case GL_DRAW_FRAMEBUFFER_BINDING: /* = GL_FRAMEBUFFER_BINDING */
    case GL_READ_FRAMEBUFFER_BINDING:
        return RG_GC_FRAMEBUFFER;
    case GL_RENDERBUFFER_BINDING:
        return RG_GC_RENDERBUFFER;
    case GL_CURRENT_PROGRAM:
        return RG_GC_PROGRAM;
    case GL_VERTEX_ARRAY_BINDING:
        return RG_GC_VERTEXARRAY;
    case GL_SAMPLER_BINDING:
        return RG_GC_SAMPLER;
    case GL_TRANSFORM_FEEDBACK_BINDING:
        return RG_GC_TRANSFORMFEEDBACK;
    default:
        return RG_GC_NONE;
    }
}

/* The client's name for real name `real` of class cls (0 for the surface's
 * stand-in framebuffer, and for objects the client never named). */
static uint32_t client_name(struct gl_ctx *c, unsigned cls, GLenum pname, uint32_t real)
{
    if (!real) return 0;
    if (cls == RG_GC_FRAMEBUFFER) {
        struct gl_surf *sf = pname == GL_READ_FRAMEBUFFER_BINDING ? c->read : c->draw;
        if (sf && real == gl_surface_fbo_made(c, sf)) return 0; /* the default framebuffer */
    }
    uint32_t name = 0;
    pthread_mutex_lock(&names_mu);
    struct gl_names *n = c->names;
    for (uint32_t i = 1; i < n->cap[cls] && !name; i++)
        if (n->map[cls][i] == real) name = i;
    pthread_mutex_unlock(&names_mu);
    return name;
}

/* glGetIntegerv and its 64-bit and indexed forms of a binding: the answer is
 * the client's name of the object (GL gave the server's). */
static void binding_names(struct gl_ctx *c, unsigned op, const union rg_gl_arg *a, void **out)
{
    int k = op == RG_GLOP_glGetIntegerv || op == RG_GLOP_glGetInteger64v ? 1
            : op == RG_GLOP_glGetIntegeri_v || op == RG_GLOP_glGetInteger64i_v ? 2
                                                                               : -1;
    unsigned cls = k > 0 ? binding_class((GLenum)a[0].u) : RG_GC_NONE;
    if (cls == RG_GC_NONE || !out[k]) return;
    if (op == RG_GLOP_glGetInteger64v || op == RG_GLOP_glGetInteger64i_v) {
        GLint64 *v = out[k];
        *v = client_name(c, cls, (GLenum)a[0].u, (uint32_t)*v);
    } else {
        GLint *v = out[k];
        *v = (GLint)client_name(c, cls, (GLenum)a[0].u, (uint32_t)*v);
    }
}

/* Runs generated command op. 0 (ran or skipped as GL would), -1 malformed. */
static int run_generic(struct batch *b, unsigned op, struct gl_ctx *c)
{
    const struct rg_gl_cmd *d = &rg_gl_cmds[op];
    union rg_gl_arg a[GL_MAX_PARAMS];
    uint32_t len[GL_MAX_PARAMS], tag[GL_MAX_PARAMS];
    const void *blob[GL_MAX_PARAMS];
    void *out[GL_MAX_PARAMS] = {0};
    void *vals[GL_MAX_PARAMS];
    /* typed storage libffi reads the arguments from */
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        float f;
        uint64_t u64;
        double d;
        const void *p;
    } st[GL_MAX_PARAMS];
    int rc = -1, skip = 0, sized = 0;
    if (d->nparams > GL_MAX_PARAMS) return -1;
    memset(a, 0, sizeof a);
    for (unsigned i = 0; i < d->nparams; i++) {
        const struct rg_gl_param *p = &d->p[i];
        blob[i] = NULL, tag[i] = 1, len[i] = 0;
        switch (p->kind) {
        case RG_GK_IN:
        case RG_GK_STR:
        case RG_GK_OUT:
            len[i] = rpc_get_u32(&b->rb);
            sized |= p->size != NULL;
            if (len[i] != RG_GL_NULL && p->kind != RG_GK_OUT && !(blob[i] = raw_take(b, len[i])))
                return -1;
            break;
        case RG_GK_BUFOFF:
        case RG_GK_BUFOFF_OUT:
            tag[i] = rpc_get_u32(&b->rb);
            if (tag[i] == 0) {
                a[i].u = rpc_get_u64(&b->rb);
            } else if (tag[i] == 1 && p->size) {
                len[i] = rpc_get_u32(&b->rb);
                sized = 1;
                if (len[i] != RG_GL_NULL && p->kind == RG_GK_BUFOFF &&
                    !(blob[i] = raw_take(b, len[i])))
                    return -1;
            } else {
                return -1;
            }
            break;
        default:
            get_scalar(&b->rb, p->kind, &a[i]);
        }
        if (!rpc_rbuf_ok(&b->rb)) return -1;
    }
    if (!c || c->destroyed) return 0; /* no context: GL calls do nothing */
    struct gl_entry *e = entry(op);
    if (!e) return 0;
    struct rg_gl_sizectx sc;
    if (sized) pixstore(&sc);
    for (unsigned i = 0; i < d->nparams; i++) {
        const struct rg_gl_param *p = &d->p[i];
        switch (p->kind) {
        case RG_GK_IN:
        case RG_GK_OUT: {
            if (len[i] == RG_GL_NULL) {
                if (!p->nullable) return -1;
                a[i].p = NULL;
                break;
            }
            size_t want = p->size(a, &sc);
            if (want != len[i]) {
                srv_err("GL: %s: %u bytes for argument %u where the server computes %zu", d->name,
                        len[i], i + 1, want);
                return -1;
            }
            if (p->kind == RG_GK_OUT) {
                if (!(out[i] = calloc(1, (size_t)len[i] + GL_OUT_SLACK))) goto done;
                a[i].p = out[i];
            } else if (p->cls != RG_GC_NONE) { /* an array of names: translated copy */
                uint32_t *t = malloc(len[i] + 4);
                if (!t) goto done;
                memcpy(t, blob[i], len[i]);
                for (uint32_t k = 0; k < len[i] / 4; k++)
                    t[k] = gl_name_lookup(c, p->cls, t[k], 0);
                a[i].p = out[i] = t;
            } else {
                a[i].p = blob[i];
            }
            break;
        }
        case RG_GK_STR:
            if (len[i] == RG_GL_NULL || len[i] == 0 || ((const char *)blob[i])[len[i] - 1])
                return -1;
            a[i].p = blob[i];
            break;
        case RG_GK_BUFOFF:
        case RG_GK_BUFOFF_OUT: {
            /* the pointer GL sees must be an offset exactly when a buffer is
             * bound: never let a client value reach GL as a pointer */
            GLint bound = binding(c, p->bind);
            if (tag[i] == 0) {
                if (!bound) skip = 1;
                break;
            }
            if (bound) skip = 1;
            if (len[i] == RG_GL_NULL) {
                if (!p->nullable) return -1;
                a[i].p = NULL;
                break;
            }
            if (p->size(a, &sc) != len[i]) {
                srv_err("GL: %s: %u bytes for argument %u where the server computes %zu", d->name,
                        len[i], i + 1, p->size(a, &sc));
                return -1;
            }
            if (p->kind == RG_GK_BUFOFF_OUT) {
                if (!(out[i] = calloc(1, (size_t)len[i] + GL_OUT_SLACK))) goto done;
                a[i].p = out[i];
            } else {
                a[i].p = blob[i];
            }
            break;
        }
        default:
            if (p->cls == RG_GC_SYNC) {
                a[i].u = (uint64_t)(uintptr_t)gl_sync_get(c->names, (uint32_t)a[i].u);
            } else if (p->cls != RG_GC_NONE) {
                int bind_fb = op == RG_GLOP_glBindFramebuffer && p->cls == RG_GC_FRAMEBUFFER;
                if (bind_fb) c->fb_default = a[i].u == 0;
                a[i].u = gl_name_lookup(c, p->cls, (uint32_t)a[i].u, 1);
            }
        }
    }
    if (skip) {
        srv_warn("GL: %s: a pointer argument does not match the buffer binding; skipped", d->name);
        rc = 0;
        goto done;
    }
    if (c->fb_default && back_to_attachment(op, a, out) < 0) goto done;
    if (op_kind(op) == OPK_DRAW && c->arrays_state == 0)
        c->arrays_state = arrays_in_buffers(c) ? 1 : -1;
    if (op_kind(op) == OPK_DRAW && c->arrays_state < 0) {
        srv_warn("GL: %s: an enabled vertex array is not in a buffer; skipped", d->name);
        rc = 0;
        goto done;
    }
    for (unsigned i = 0; i < d->nparams; i++) {
        switch (d->p[i].kind) {
        case RG_GK_U8:
        case RG_GK_I8:
            st[i].u8 = (uint8_t)a[i].u;
            break;
        case RG_GK_U16:
        case RG_GK_I16:
            st[i].u16 = (uint16_t)a[i].u;
            break;
        case RG_GK_U32:
        case RG_GK_I32:
            st[i].u32 = (uint32_t)a[i].u;
            break;
        case RG_GK_F32:
            st[i].f = a[i].f;
            break;
        case RG_GK_F64:
            memcpy(&st[i].d, &a[i].u, 8);
            break;
        case RG_GK_U64:
        case RG_GK_I64:
            st[i].u64 = a[i].u;
            break;
        default:
            st[i].p = a[i].p;
            break;
        }
        vals[i] = &st[i];
    }
    union {
        ffi_arg r;
        uint64_t u64;
        double d;
        float f;
    } res = {0};
    ffi_call(&e->cif, e->fn, &res, vals);
    if (op_kind(op) == OPK_ARRAYS) c->arrays_state = 0; /* checked again at the next draw */
    if (d->flags & RG_GF_SYNC) binding_names(c, op, a, out);
    if (d->flags & RG_GF_SYNC) {
        switch (d->ret) {
        case RG_GK_F32:
            memcpy(&b->ret, &res.f, 4);
            break;
        case RG_GK_F64:
            memcpy(&b->ret, &res.d, 8);
            break;
        case RG_GK_U8:
            b->ret = (uint8_t)res.r;
            break;
        case RG_GK_U32:
        case RG_GK_I32:
            b->ret = (uint32_t)res.r;
            break;
        default:
            b->ret = res.u64;
        }
        for (unsigned i = 0; i < d->nparams; i++)
            if ((d->p[i].kind == RG_GK_OUT || d->p[i].kind == RG_GK_BUFOFF_OUT) && out[i])
                rpc_put_bytes(&b->reply_raw, out[i], len[i]);
    }
    rc = 0;
done:
    for (unsigned i = 0; i < d->nparams; i++)
        free(out[i]);
    return rc;
}

/* ---- custom commands (gl.overlay `custom=`) ----------------------------------------------- */

static unsigned class_of(const char *custom)
{
    static const struct {
        const char *name;
        unsigned cls;
    } m[] = {{"buffer", RG_GC_BUFFER},
             {"texture", RG_GC_TEXTURE},
             {"framebuffer", RG_GC_FRAMEBUFFER},
             {"renderbuffer", RG_GC_RENDERBUFFER},
             {"program", RG_GC_PROGRAM},
             {"shader", RG_GC_SHADER},
             {"vertexarray", RG_GC_VERTEXARRAY},
             {"query", RG_GC_QUERY},
             {"sampler", RG_GC_SAMPLER},
             {"transformfeedback", RG_GC_TRANSFORMFEEDBACK},
             {"sync", RG_GC_SYNC}};
    const char *colon = strchr(custom, ':');
    for (size_t i = 0; colon && i < sizeof m / sizeof *m; i++)
        if (!strcmp(colon + 1, m[i].name)) return m[i].cls;
    return RG_GC_NONE;
}

/* glGen*: i32 n, n client names; glDelete*: the same. */
static int run_names(struct batch *b, const struct rg_gl_cmd *d, struct gl_ctx *c, int gen)
{
    if (c && !gen) c->arrays_state = 0; /* a deleted buffer or VAO: the arrays are checked again */
    unsigned cls = class_of(d->custom);
    int32_t n = (int32_t)rpc_get_u32(&b->rb);
    if (!rpc_rbuf_ok(&b->rb) || n < 0 || n > GL_MAX_GEN) return -1;
    uint32_t *names = malloc(((size_t)n + 1) * 4), *real = malloc(((size_t)n + 1) * 4);
    int rc = -1;
    if (!names || !real) goto done;
    for (int32_t i = 0; i < n; i++)
        if ((names[i] = rpc_get_u32(&b->rb)) == 0 || names[i] >= GL_MAX_NAME) goto done;
    if (!rpc_rbuf_ok(&b->rb)) goto done;
    rc = 0;
    if (!c || c->destroyed || !gen_fn(cls)) goto done;
    if (gen) {
        gen_fn(cls)(n, real);
        for (int32_t i = 0; i < n; i++)
            if (names_set(c->names, cls, names[i], real[i])) rc = -1;
    } else {
        int32_t k = 0;
        for (int32_t i = 0; i < n; i++) {
            if (!(real[k] = names_drop(c->names, cls, names[i]))) continue;
            k++;
            if (cls == RG_GC_FRAMEBUFFER) { /* deleting the bound FBO rebinds 0: the surface's */
                GLint bound = 0;
                G.GetIntegerv(GL_FRAMEBUFFER_BINDING, &bound);
                if ((GLuint)bound == real[k - 1]) c->fb_default = 1;
            }
        }
        del_fn(cls)(k, real);
        if (cls == RG_GC_FRAMEBUFFER && c->fb_default)
            G.BindFramebuffer(GL_FRAMEBUFFER, gl_surface_fbo(c, c->draw));
    }
done:
    free(names), free(real);
    return rc;
}

/* glShaderSource: u32 shader, u32 count, count x u32 length; the bytes in raw. */
static int run_shader_source(struct batch *b, struct gl_ctx *c)
{
    uint32_t sh = rpc_get_u32(&b->rb), n = rpc_get_u32(&b->rb);
    if (!rpc_rbuf_ok(&b->rb) || n > 65536) return -1;
    const GLchar **str = calloc(n + 1, sizeof *str);
    GLint *lens = calloc(n + 1, sizeof *lens);
    int rc = -1;
    if (!str || !lens) goto done;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = rpc_get_u32(&b->rb);
        if (!rpc_rbuf_ok(&b->rb) || l > INT32_MAX || !(str[i] = raw_take(b, l))) goto done;
        lens[i] = (GLint)l;
    }
    rc = 0;
    if (c && !c->destroyed)
        G.ShaderSource(gl_name_lookup(c, RG_GC_SHADER, sh, 0), (GLsizei)n, str, lens);
done:
    free(str), free(lens);
    return rc;
}

/* glGenLists: u32 range, u32 the client's first name; glDeleteLists: u32
 * first, u32 range. Each client name maps to one real list. */
static int run_lists(struct batch *b, struct gl_ctx *c, int gen)
{
    uint32_t x = rpc_get_u32(&b->rb), y = rpc_get_u32(&b->rb);
    uint32_t range = gen ? x : y, base = gen ? y : x;
    if (!rpc_rbuf_ok(&b->rb) || range > 65536) return -1;
    if (gen && (base == 0 || base >= GL_MAX_NAME || range > GL_MAX_NAME - base)) return -1;
    if (!c || c->destroyed || !G.GenLists || !range) return 0;
    if (gen) {
        GLuint real = G.GenLists((GLsizei)range);
        for (uint32_t i = 0; real && i < range; i++)
            if (names_set(c->names, RG_GC_DISPLAYLIST, base + i, real + i)) return -1;
        return 0;
    }
    for (uint32_t i = 0; i < range && base + i < GL_MAX_NAME; i++) {
        uint32_t real = names_drop(c->names, RG_GC_DISPLAYLIST, base + i);
        if (real) G.DeleteLists(real, 1);
    }
    return 0;
}

/* Buffer mappings (client-shim/gl/glc_map.c): the real buffer is mapped here with the
 * application's access bits, so GL validates them and keeps its own errors; the
 * client's bytes go into that mapping, whose pointer and length are asked of GL
 * each time (nothing the client says is an address here). */
#define GL_MAP_MAX (1u << 30) /* a mapping larger than this is refused (GL_OUT_OF_MEMORY) */

static int run_map(struct batch *b, uint32_t op, struct gl_ctx *c)
{
    GLenum target = rpc_get_u32(&b->rb);
    int live = c && !c->destroyed && G.GetBufferPointerv && G.UnmapBuffer && G.GetBufferParameteriv;
    if (op == RG_WS_UNMAP) {
        if (!rpc_rbuf_ok(&b->rb)) return -1;
        if (live && !G.UnmapBuffer(target)) srv_debug("GL: glUnmapBuffer: the store was lost");
        return 0;
    }
    if (op == RG_WS_MAP_WRITE) {
        uint64_t off = rpc_get_u64(&b->rb);
        uint32_t flush = rpc_get_u32(&b->rb), n = rpc_get_u32(&b->rb);
        const void *src = rpc_rbuf_ok(&b->rb) ? raw_take(b, n) : NULL;
        if (!src && n) return -1;
        void *p = NULL;
        GLint len = 0;
        if (live) {
            G.GetBufferPointerv(target, GL_BUFFER_MAP_POINTER, &p);
            G.GetBufferParameteriv(target, c->version >= 30 ? GL_BUFFER_MAP_LENGTH : GL_BUFFER_SIZE,
                                   &len);
        }
        GLint acc = 0; /* the mapping must write (and flush explicitly, for a flush) */
        if (p && c->version >= 30) {
            G.GetBufferParameteriv(target, GL_BUFFER_ACCESS_FLAGS, &acc);
            if (!(acc & GL_MAP_WRITE_BIT) || (flush && !(acc & GL_MAP_FLUSH_EXPLICIT_BIT))) p = NULL;
        } else if (p) {
            G.GetBufferParameteriv(target, GL_BUFFER_ACCESS, &acc);
            if (acc == GL_READ_ONLY || flush) p = NULL;
        }
        if (!p || off > (uint64_t)len || n > (uint64_t)len - off) { /* unmapped since, rebound */
            srv_debug("GL: bytes for a mapping that is not there or does not write (target "
                      "0x%x): dropped", target);
            return 0;
        }
        memcpy((char *)p + off, src, n);
        if (flush && G.FlushMappedBufferRange)
            G.FlushMappedBufferRange(target, (GLintptr)off, (GLsizeiptr)n);
        return 0;
    }
    uint64_t off = rpc_get_u64(&b->rb), len = rpc_get_u64(&b->rb);
    GLbitfield access = rpc_get_u32(&b->rb);
    uint32_t fetch = rpc_get_u32(&b->rb);
    if (!rpc_rbuf_ok(&b->rb) || fetch > 1) return -1;
    b->ret = 0;
    if (!live) return 0;
    GLbitfield real = access;
    if (fetch && !(access & GL_MAP_READ_BIT)) /* the old bytes, to send back untouched */
        real = (access | GL_MAP_READ_BIT) & ~(GLbitfield)GL_MAP_UNSYNCHRONIZED_BIT;
    void *p = NULL;
    if (len == RG_MAP_WHOLE) { /* glMapBuffer */
        GLint size = 0;
        G.GetBufferParameteriv(target, GL_BUFFER_SIZE, &size);
        off = 0, len = size > 0 ? (uint64_t)size : 0;
        if (gl_has_map_range(c) && size > 0)
            p = G.MapBufferRange(target, 0, size, real);
        else if (G.MapBuffer)
            p = G.MapBuffer(target, fetch ? (access & GL_MAP_WRITE_BIT ? GL_READ_WRITE : GL_READ_ONLY)
                                          : GL_WRITE_ONLY);
    } else if (gl_has_map_range(c) && off <= INT64_MAX && len <= INT64_MAX) {
        p = G.MapBufferRange(target, (GLintptr)off, (GLsizeiptr)len, real);
    }
    if (!p) return 0; /* GL recorded why; glGetError tells the application */
    if (len > GL_MAP_MAX) {
        G.UnmapBuffer(target);
        b->ret = 2;
        return 0;
    }
    b->ret = 1;
    rpc_put_u64(&b->reply, off);
    rpc_put_u64(&b->reply, len);
    if (fetch) rpc_put_bytes(&b->reply_raw, p, (size_t)len);
    return 0;
}

/* Implementation limits (gl/glsize.c rg_gl_limits), for the client to answer
 * glGetIntegerv of them (client-shim/gl/glc_custom.c). A pname is asked only of
 * contexts whose API version has it, so the application's GL error state is
 * left alone. */
static int has_limit(const struct gl_ctx *c, size_t i)
{
    return c && !c->destroyed && c->version &&
           c->version >= (c->api == EGL_OPENGL_API ? rg_gl_limits[i].gl : rg_gl_limits[i].es);
}

static int run_limits(struct batch *b, struct gl_ctx *c)
{
    const size_t nl = rg_gl_nlimits;
    uint32_t n = 0;
    for (size_t i = 0; i < nl; i++)
        n += has_limit(c, i) != 0;
    rpc_put_u32(&b->reply, n);
    for (size_t i = 0; i < nl; i++) {
        if (!has_limit(c, i)) continue;
        GLint v[4] = {0}; /* GL_MAX_VIEWPORT_DIMS has two */
        G.GetIntegerv(rg_gl_limits[i].pname, v);
        rpc_put_u32(&b->reply, rg_gl_limits[i].pname);
        rpc_put_u32(&b->reply, (uint32_t)v[0]);
        rpc_put_u32(&b->reply, (uint32_t)v[1]);
    }
    return 0;
}

/* Everything the client asks of a program after link, in one answer
 * (client-shim/gl/glc_prog.c). The application's GL error state is left alone:
 * only queries valid for a linked program are made. */
static int run_program_info(struct batch *b, struct gl_ctx *c)
{
    uint32_t name = rpc_get_u32(&b->rb);
    if (!rpc_rbuf_ok(&b->rb)) return -1;
    b->ret = 0;
    if (!c || c->destroyed || !G.IsProgram || !G.GetProgramiv || !G.GetActiveUniform ||
        !G.GetActiveAttrib || !G.GetUniformLocation || !G.GetAttribLocation)
        return 0;
    GLuint p = gl_name_lookup(c, RG_GC_PROGRAM, name, 0);
    if (!p || !G.IsProgram(p)) return 0;
    GLint v[6] = {0}; /* link status, log length, max lengths, counts */
    G.GetProgramiv(p, GL_LINK_STATUS, &v[0]);
    G.GetProgramiv(p, GL_INFO_LOG_LENGTH, &v[1]);
    if (v[0] == GL_TRUE) {
        G.GetProgramiv(p, GL_ACTIVE_UNIFORM_MAX_LENGTH, &v[2]);
        G.GetProgramiv(p, GL_ACTIVE_ATTRIBUTE_MAX_LENGTH, &v[3]);
        G.GetProgramiv(p, GL_ACTIVE_UNIFORMS, &v[4]);
        G.GetProgramiv(p, GL_ACTIVE_ATTRIBUTES, &v[5]);
    }
    if (v[4] < 0 || v[5] < 0 || v[4] > 65536 || v[5] > 65536) return 0;
    for (int i = 0; i < 6; i++)
        rpc_put_u32(&b->reply, (uint32_t)v[i]);
    GLint longest = v[2] > v[3] ? v[2] : v[3]; /* with its NUL */
    GLsizei cap = longest > 0 && longest < (1 << 20) ? longest + 1 : 1024;
    char *nm = malloc((size_t)cap);
    if (!nm) return 0;
    for (int k = 0; k < 2; k++)
        for (GLint i = 0; i < v[4 + k]; i++) {
            GLsizei len = 0;
            GLint size = 0;
            GLenum type = 0;
            nm[0] = 0;
            (k ? G.GetActiveAttrib : G.GetActiveUniform)(p, (GLuint)i, cap, &len, &size, &type,
                                                           nm);
            nm[cap - 1] = 0;
            GLint loc = (k ? G.GetAttribLocation : G.GetUniformLocation)(p, nm);
            rpc_put_u32(&b->reply, (uint32_t)size);
            rpc_put_u32(&b->reply, type);
            rpc_put_u32(&b->reply, (uint32_t)loc);
            rpc_put_str(&b->reply, nm);
        }
    free(nm);
    b->ret = 1;
    return 0;
}

static int run_custom(struct batch *b, unsigned op, struct gl_ctx *c)
{
    const struct rg_gl_cmd *d = &rg_gl_cmds[op];
    const char *k = d->custom;
    if (!strncmp(k, "gen:", 4)) return run_names(b, d, c, 1);
    if (!strncmp(k, "del:", 4)) return run_names(b, d, c, 0);
    if (!strcmp(k, "create:sync")) { /* u32 condition, u32 flags, u32 the client's id */
        uint32_t cond = rpc_get_u32(&b->rb), flags = rpc_get_u32(&b->rb), id = rpc_get_u32(&b->rb);
        if (!rpc_rbuf_ok(&b->rb) || id == 0 || id >= GL_MAX_NAME) return -1;
        if (!c || c->destroyed || !G.FenceSync) return 0;
        GLsync sy = G.FenceSync(cond, flags);
        if (sy && sync_put(c->names, id, sy)) G.DeleteSync(sy);
        return 0;
    }
    if (!strncmp(k, "create:", 7)) { /* the generated arguments, then the client's name */
        union rg_gl_arg a[GL_MAX_PARAMS] = {0};
        for (unsigned i = 0; i < d->nparams; i++)
            get_scalar(&b->rb, d->p[i].kind, &a[i]);
        uint32_t name = rpc_get_u32(&b->rb);
        if (!rpc_rbuf_ok(&b->rb) || d->nparams > 1 || name == 0 || name >= GL_MAX_NAME) return -1;
        struct gl_entry *e = entry(op);
        if (!c || c->destroyed || !e) return 0;
        GLuint real =
            d->nparams ? ((GLuint(*)(GLenum))e->fn)((GLenum)a[0].u) : ((GLuint(*)(void))e->fn)();
        return real ? names_set(c->names, class_of(k), name, real) : 0;
    }
    if (!strncmp(k, "delone:", 7)) {
        uint32_t name = rpc_get_u32(&b->rb);
        if (!rpc_rbuf_ok(&b->rb)) return -1;
        if (!c || c->destroyed || name == 0) return 0;
        unsigned cls = class_of(k);
        GLuint real = gl_name_lookup(c, cls, name, 0);
        (cls == RG_GC_PROGRAM ? G.DeleteProgram : G.DeleteShader)(real);
        names_drop(c->names, cls, name);
        return 0;
    }
    if (!strcmp(k, "glGetString")) { /* u32 name -> raw: the string with its NUL */
        uint32_t name = rpc_get_u32(&b->rb);
        if (!rpc_rbuf_ok(&b->rb)) return -1;
        const GLubyte *s = c && !c->destroyed ? G.GetString(name) : NULL;
        b->ret = s != NULL;
        if (s) rpc_put_bytes(&b->reply_raw, s, strlen((const char *)s) + 1);
        return 0;
    }
    if (!strcmp(k, "delsync")) {
        uint32_t id = rpc_get_u32(&b->rb);
        if (!rpc_rbuf_ok(&b->rb)) return -1;
        void *sy = c && !c->destroyed ? sync_drop(c->names, id) : NULL;
        if (sy && G.DeleteSync) G.DeleteSync(sy);
        return 0;
    }
    if (!strcmp(k, "glGetStringi")) { /* u32 name, u32 index -> raw: the string with its NUL */
        uint32_t name = rpc_get_u32(&b->rb), index = rpc_get_u32(&b->rb);
        if (!rpc_rbuf_ok(&b->rb)) return -1;
        const GLubyte *str = c && !c->destroyed && G.GetStringi ? G.GetStringi(name, index) : NULL;
        b->ret = str != NULL;
        if (str) rpc_put_bytes(&b->reply_raw, str, strlen((const char *)str) + 1);
        return 0;
    }
    if (!strcmp(k, "genlists") || !strcmp(k, "dellists")) return run_lists(b, c, k[0] == 'g');
    if (!strcmp(k, "glShaderSource")) return run_shader_source(b, c);
    if (!strcmp(k, "client")) return run_generic(b, op, c); /* custom on the client only */
    srv_err("GL: %s: no server side for custom=%s", d->name, k);
    return -1;
}

/* ---- the batch ------------------------------------------------------------------------------ */

static int send_reply(struct batch *b)
{
    uint8_t head[12];
    rpc_wbuf w;
    rpc_wbuf_init(&w, head, sizeof head);
    rpc_put_u32(&w, b->status);
    rpc_put_u64(&w, b->ret);
    size_t ne = b->reply.len;
    struct iovec raw = {b->reply_raw.data, b->reply_raw.len};
    /* encoded part: status, result, then what a window-system command wrote */
    uint8_t *enc = malloc(sizeof head + ne);
    if (!enc || !rpc_wbuf_ok(&b->reply) || !rpc_wbuf_ok(&b->reply_raw)) {
        free(enc);
        return -1;
    }
    memcpy(enc, head, sizeof head);
    if (ne) memcpy(enc + sizeof head, b->reply.data, ne);
    rpc_hdr h = {.type = RPC_T_REPLY,
                 .op = b->cl->h.op,
                 .thread = b->cl->h.thread,
                 .seq = b->cl->h.seq,
                 .ctx = b->cl->h.ctx,
                 .credit = 1};
    int rc = session_send(b->s, &h, enc, sizeof head + ne, raw.iov_len ? &raw : NULL,
                          raw.iov_len ? 1 : 0);
    free(enc);
    return rc;
}

int gl_call(struct session *s, struct call *cl)
{
    struct batch b = {.s = s, .cl = cl};
    int noreply = (cl->h.flags & RPC_F_NOREPLY) != 0, rc = 0;
    char why[256];
    const char *bad = NULL;
    rpc_rbuf_init(&b.rb, cl->enc, cl->h.enc_len);
    rpc_wbuf_init_dyn(&b.reply, RPC_MAX_ENC_LEN - 64);
    rpc_wbuf_init_dyn(&b.reply_raw, SRV_MAX_CALL_RAW);
    if (cl->h.op != RG_GL_OP_BATCH) {
        bad = "unknown GL op";
    } else if (gl_egl_init(why, sizeof why)) {
        srv_warn("GL: not available on this server: %s", why);
        b.status = RG_GL_E_EGL;
        b.rb.pos = b.rb.len; /* nothing runs */
        b.raw_pos = cl->raw_len;
    }
    while (!bad && rpc_rbuf_left(&b.rb)) {
        uint32_t op = rpc_get_u32(&b.rb);
        int sync;
        struct gl_ctx *c = gl_current();
        if (op >= RG_WS_BASE && op < RG_WS_END_) {
            sync = op == RG_WS_INFO || op == RG_WS_CHOOSE_CONFIG || op == RG_WS_FINISH ||
                   op == RG_WS_PRESENT || op == RG_WS_EXTENSIONS || op == RG_WS_MAP ||
                   op == RG_WS_PROGRAM_INFO || op == RG_WS_LIMITS;
            if (op == RG_WS_PRESENT_ASYNC) gl_frames_session(s);
            if (op == RG_WS_FINISH) {
                if (c) G.Finish();
            } else if (op == RG_WS_MAP || op == RG_WS_MAP_WRITE || op == RG_WS_UNMAP) {
                if (run_map(&b, op, c)) bad = "malformed buffer mapping command";
            } else if (op == RG_WS_LIMITS) {
                run_limits(&b, c);
            } else if (op == RG_WS_PROGRAM_INFO) {
                if (run_program_info(&b, c)) bad = "malformed program query";
            } else if (gl_ws_command(op, &b.rb, &b.reply, &b.reply_raw, &b.status)) {
                bad = "malformed window-system command";
            }
        } else if (op > 0 && op < rg_gl_ncmds) {
            const struct rg_gl_cmd *d = &rg_gl_cmds[op];
            sync = (d->flags & RG_GF_SYNC) != 0;
            if (d->flags & RG_GF_UNSUPPORTED)
                bad = "a command the client does not send";
            else if ((d->flags & RG_GF_CUSTOM) ? run_custom(&b, op, c) : run_generic(&b, op, c))
                bad = d->name;
            if (sync && !c && !b.status) b.status = RG_GL_E_CONTEXT;
        } else {
            bad = "unknown GL opcode";
            break;
        }
        /* a command that answers ends its batch, and only a batch that waits has one */
        if (!bad && sync && (rpc_rbuf_left(&b.rb) || noreply))
            bad = "an answering command inside a batch";
    }
    if (!bad && !rpc_rbuf_ok(&b.rb)) bad = "a command cut short";
    if (!bad && b.raw_pos != cl->raw_len) bad = "bytes left over after the batch";
    if (bad) {
        snprintf(why, sizeof why, "GL batch (thread %u seq %llu): malformed: %s", cl->h.thread,
                 (unsigned long long)cl->h.seq, bad);
        rc = protocol_error(s, why);
    } else if (noreply) {
        pthread_mutex_lock(&s->lock);
        s->credit_owed++;
        pthread_mutex_unlock(&s->lock);
    } else {
        rc = send_reply(&b) ? -1 : 0;
    }
    rpc_wbuf_free(&b.reply);
    rpc_wbuf_free(&b.reply_raw);
    call_free(cl);
    return rc;
}
