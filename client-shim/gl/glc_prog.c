/* glc_prog.c — program introspection after link, answered here. The first query
 * about a linked program (glGetProgramiv of its link state and counts,
 * glGetUniformLocation, glGetAttribLocation, glGetActiveUniform/Attrib) fetches
 * everything in one round trip (RG_WS_PROGRAM_INFO): link status, log length,
 * every active uniform and attribute with its size, type and location. The
 * answers stay until the program is linked again, loaded from a binary,
 * validated (its info log changes) or deleted. What the table cannot answer exactly goes to the server as before:
 * programs that did not link (GL's errors are the server's), array elements past
 * the first ("a[2]": their locations are GL's to choose), other pnames. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "glc.h"

struct prog_var {
    char *name;
    GLint size, location;
    GLenum type;
};

struct glc_prog {
    struct glc_share *share;
    uint32_t name;
    GLint link_status, log_len, max_unif_len, max_attr_len;
    uint32_t nunif, nattr;
    struct prog_var *unif, *attr;
    struct glc_prog *next;
};

/* programs are shared objects: contexts of one share group may query from
 * several threads */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct glc_prog *progs;

static void prog_free(struct glc_prog *p)
{
    for (uint32_t i = 0; i < p->nunif; i++)
        free(p->unif[i].name);
    for (uint32_t i = 0; i < p->nattr; i++)
        free(p->attr[i].name);
    free(p->unif);
    free(p->attr);
    free(p);
}

void rg_glc_progs_share_gone(struct glc_share *share)
{
    pthread_mutex_lock(&mu);
    for (struct glc_prog **pp = &progs, *p; (p = *pp);) {
        if (p->share == share) {
            *pp = p->next;
            prog_free(p);
        } else {
            pp = &p->next;
        }
    }
    pthread_mutex_unlock(&mu);
}

/* Forgets what is known of program name (linked again, replaced, deleted). */
static void forget(uint32_t name)
{
    struct glc_ctx *c = rg_glc_current();
    if (!c) return;
    pthread_mutex_lock(&mu);
    for (struct glc_prog **pp = &progs, *p; (p = *pp);) {
        if (p->share == c->share && p->name == name) {
            *pp = p->next;
            prog_free(p);
        } else {
            pp = &p->next;
        }
    }
    pthread_mutex_unlock(&mu);
}

void rg_glc_shadow_glLinkProgram(const union rg_gl_arg *a)
{
    forget((uint32_t)a[0].u);
}

void rg_glc_shadow_glProgramBinary(const union rg_gl_arg *a)
{
    forget((uint32_t)a[0].u);
}

void rg_glc_shadow_glValidateProgram(const union rg_gl_arg *a)
{
    forget((uint32_t)a[0].u); /* the info log is the validation's now */
}

void rg_glc_prog_deleted(uint32_t name)
{
    forget(name);
}

static int get_vars(rpc_rbuf *r, uint32_t n, struct prog_var **out)
{
    if (n > 65536) return -1;
    struct prog_var *v = calloc(n ? n : 1, sizeof *v);
    if (!v) return -1;
    for (uint32_t i = 0; i < n; i++) {
        v[i].size = (GLint)rpc_get_u32(r);
        v[i].type = rpc_get_u32(r);
        v[i].location = (GLint)rpc_get_u32(r);
        const char *s = rpc_get_str(r);
        if (!rpc_rbuf_ok(r) || !s || !(v[i].name = strdup(s))) {
            for (uint32_t k = 0; k < i; k++)
                free(v[k].name);
            free(v);
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* What is known of a program, fetched on first use; NULL when the server cannot
 * say (not a program: the generic call answers then, with GL's error). A program
 * that did not link has its status and log length only. mu held on return when
 * not NULL. */
static struct glc_prog *lookup(struct glc_ctx *c, uint32_t name)
{
    if (!name) return NULL;
    pthread_mutex_lock(&mu);
    for (struct glc_prog *p = progs; p; p = p->next)
        if (p->share == c->share && p->name == name) return p;
    pthread_mutex_unlock(&mu);
    rg_glc_reserve(8, 0);
    rpc_put_u32(rg_glc_enc(), RG_WS_PROGRAM_INFO);
    rpc_put_u32(rg_glc_enc(), name);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return NULL;
    struct glc_prog *p = NULL;
    if (!r.status && r.ret == 1 && (p = calloc(1, sizeof *p))) {
        p->share = c->share, p->name = name;
        p->link_status = (GLint)rpc_get_u32(&r.rest);
        p->log_len = (GLint)rpc_get_u32(&r.rest);
        p->max_unif_len = (GLint)rpc_get_u32(&r.rest);
        p->max_attr_len = (GLint)rpc_get_u32(&r.rest);
        p->nunif = rpc_get_u32(&r.rest);
        p->nattr = rpc_get_u32(&r.rest);
        uint32_t nu = p->nunif, na = p->nattr;
        p->nunif = p->nattr = 0; /* counted as they are read */
        int bad = !rpc_rbuf_ok(&r.rest) || get_vars(&r.rest, nu, &p->unif);
        if (!bad) p->nunif = nu;
        bad = bad || get_vars(&r.rest, na, &p->attr);
        if (!bad) p->nattr = na;
        if (bad || !rpc_rbuf_done(&r.rest)) {
            rg_glc_log(GLC_WARN, "program %u: an introspection answer that does not decode", name);
            prog_free(p);
            p = NULL;
        }
    }
    rg_glc_reply_free(&r);
    if (!p) return NULL;
    pthread_mutex_lock(&mu);
    for (struct glc_prog *q = progs; q; q = q->next) /* another thread fetched it meanwhile */
        if (q->share == c->share && q->name == name) {
            prog_free(p);
            return q;
        }
    p->next = progs;
    progs = p;
    return p;
}

/* "a[0]" names the same location as "a": the first element of an array. */
static const struct prog_var *find_var(const struct prog_var *v, uint32_t n, const char *name,
                                       int *unsure)
{
    size_t len = strlen(name);
    *unsure = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *s = v[i].name;
        size_t l = strlen(s);
        if (!strcmp(s, name)) return &v[i];
        if (l > 3 && !strcmp(s + l - 3, "[0]") && len == l - 3 && !strncmp(s, name, len))
            return &v[i];
        if (len > 3 && !strcmp(name + len - 3, "[0]") && l == len - 3 && !strncmp(s, name, l))
            return &v[i];
    }
    *unsure = strchr(name, '[') != NULL; /* an element past the first: GL knows */
    return NULL;
}

void rgc_glGetProgramiv(GLuint program, GLenum pname, GLint *params)
{
    struct glc_ctx *c = rg_glc_current();
    int status = pname == GL_LINK_STATUS || pname == GL_INFO_LOG_LENGTH,
        local = status || pname == GL_ACTIVE_UNIFORMS || pname == GL_ACTIVE_ATTRIBUTES ||
                pname == GL_ACTIVE_UNIFORM_MAX_LENGTH || pname == GL_ACTIVE_ATTRIBUTE_MAX_LENGTH;
    struct glc_prog *p = c && local && params ? lookup(c, program) : NULL;
    if (p && !status && p->link_status != GL_TRUE) { /* the tables are for linked programs */
        pthread_mutex_unlock(&mu);
        p = NULL;
    }
    if (p) {
        *params = pname == GL_LINK_STATUS               ? p->link_status
                  : pname == GL_INFO_LOG_LENGTH         ? p->log_len
                  : pname == GL_ACTIVE_UNIFORMS         ? (GLint)p->nunif
                  : pname == GL_ACTIVE_ATTRIBUTES       ? (GLint)p->nattr
                  : pname == GL_ACTIVE_UNIFORM_MAX_LENGTH ? p->max_unif_len
                                                          : p->max_attr_len;
        pthread_mutex_unlock(&mu);
        return;
    }
    union rg_gl_arg a[3] = {{.u = program}, {.u = pname}, {.p = params}};
    rg_glc_command(RG_GLOP_glGetProgramiv, a, NULL);
}

static GLint location(unsigned op, GLuint program, const GLchar *name)
{
    struct glc_ctx *c = rg_glc_current();
    struct glc_prog *p = c && name ? lookup(c, program) : NULL;
    if (p && p->link_status != GL_TRUE) { /* not linked: GL's error */
        pthread_mutex_unlock(&mu);
        p = NULL;
    }
    if (p) {
        int unsure;
        const struct prog_var *v = op == RG_GLOP_glGetUniformLocation
                                       ? find_var(p->unif, p->nunif, name, &unsure)
                                       : find_var(p->attr, p->nattr, name, &unsure);
        GLint loc = v ? v->location : -1;
        pthread_mutex_unlock(&mu);
        if (!unsure) return loc;
    }
    union rg_gl_arg a[2] = {{.u = program}, {.p = name}}, ret;
    rg_glc_command(op, a, &ret);
    return (GLint)ret.i;
}

GLint rgc_glGetUniformLocation(GLuint program, const GLchar *name)
{
    return location(RG_GLOP_glGetUniformLocation, program, name);
}

GLint rgc_glGetAttribLocation(GLuint program, const GLchar *name)
{
    return location(RG_GLOP_glGetAttribLocation, program, name);
}

static void active(unsigned op, GLuint program, GLuint index, GLsizei bufSize, GLsizei *length,
                   GLint *size, GLenum *type, GLchar *name)
{
    struct glc_ctx *c = rg_glc_current();
    struct glc_prog *p = c && bufSize >= 0 && size && type ? lookup(c, program) : NULL;
    if (p) {
        int u = op == RG_GLOP_glGetActiveUniform;
        if (p->link_status == GL_TRUE && index < (u ? p->nunif : p->nattr)) {
            const struct prog_var *v = u ? &p->unif[index] : &p->attr[index];
            GLsizei n = 0;
            if (name && bufSize > 0) {
                n = (GLsizei)strlen(v->name);
                if (n > bufSize - 1) n = bufSize - 1;
                memcpy(name, v->name, (size_t)n);
                name[n] = 0;
            }
            if (length) *length = n;
            *size = v->size;
            *type = v->type;
            pthread_mutex_unlock(&mu);
            return;
        }
        pthread_mutex_unlock(&mu); /* an index out of range, not linked: GL's error */
    }
    union rg_gl_arg a[7] = {{.u = program}, {.u = index}, {.i = bufSize}, {.p = length},
                            {.p = size},    {.p = type},  {.p = name}};
    rg_glc_command(op, a, NULL);
}

void rgc_glGetActiveUniform(GLuint program, GLuint index, GLsizei bufSize, GLsizei *length,
                            GLint *size, GLenum *type, GLchar *name)
{
    active(RG_GLOP_glGetActiveUniform, program, index, bufSize, length, size, type, name);
}

void rgc_glGetActiveAttrib(GLuint program, GLuint index, GLsizei bufSize, GLsizei *length,
                           GLint *size, GLenum *type, GLchar *name)
{
    active(RG_GLOP_glGetActiveAttrib, program, index, bufSize, length, size, type, name);
}
