/* gl_egl.c — the server's EGL side: Mesa's surfaceless platform (or the
 * default display), one EGL context per client context, all in one server
 * share group with a hidden root context so surfaces' renderbuffers are
 * visible to every context; client pbuffers and windows are framebuffer
 * objects that stand in for the default framebuffer. libEGL is loaded on the
 * first GL call, never in the supervisor. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gl_server.h"
#include "log.h"

static struct {
    pthread_mutex_t mu; /* tables below; the root context */
    int state;          /* 0 not yet, 1 ready, -1 failed */
    char why[256];
    void *lib;
    EGLDisplay dpy;
    EGLContext root[2]; /* [0] GLES, [1] desktop GL: the share group of every context */
    PFNEGLGETPROCADDRESSPROC getproc;
    struct gl_ctx **ctx;
    uint32_t nctx;
    struct gl_surf **surf;
    uint32_t nsurf;
} E = {.mu = PTHREAD_MUTEX_INITIALIZER};

static __thread struct gl_ctx *cur; /* the lane's current context */

#define GL_MAX_OBJS 65536 /* contexts or surfaces of one session */

/* EGL entry points, through eglGetProcAddress once libEGL is loaded */
static PFNEGLINITIALIZEPROC e_initialize;
static PFNEGLGETPLATFORMDISPLAYEXTPROC e_platform_display;
static PFNEGLGETDISPLAYPROC e_get_display;
static PFNEGLBINDAPIPROC e_bind_api;
static PFNEGLCREATECONTEXTPROC e_create_context;
static PFNEGLDESTROYCONTEXTPROC e_destroy_context;
static PFNEGLMAKECURRENTPROC e_make_current;
static PFNEGLGETCONFIGSPROC e_get_configs;
static PFNEGLGETCONFIGATTRIBPROC e_config_attrib;
static PFNEGLCHOOSECONFIGPROC e_choose_config;
static PFNEGLQUERYSTRINGPROC e_query_string;
static PFNEGLGETERRORPROC e_get_error;

void *gl_proc(const char *name)
{
    return E.getproc ? (void *)E.getproc(name) : NULL;
}

struct gl_ctx *gl_current(void)
{
    return cur;
}

/* Robust buffer access where the server's EGL offers it: a draw whose
 * indices or offsets run past a buffer reads zeros, never server memory
 * (clients choose those numbers). Every context of the share group must
 * agree, so the roots ask for it too. */
static int robust;

static EGLContext make_root(EGLenum api)
{
    EGLint a[8], k = 0;
    if (api == EGL_OPENGL_ES_API) a[k++] = EGL_CONTEXT_MAJOR_VERSION, a[k++] = 2;
    if (robust) a[k++] = EGL_CONTEXT_OPENGL_ROBUST_ACCESS, a[k++] = EGL_TRUE;
    a[k] = EGL_NONE;
    if (!e_bind_api(api)) return EGL_NO_CONTEXT;
    return e_create_context(E.dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, a);
}

static int load(void)
{
    if (!(E.lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL))) {
        snprintf(E.why, sizeof E.why, "cannot load libEGL.so.1: %s", dlerror());
        return -1;
    }
    E.getproc = (PFNEGLGETPROCADDRESSPROC)dlsym(E.lib, "eglGetProcAddress");
    if (!E.getproc) return snprintf(E.why, sizeof E.why, "libEGL has no eglGetProcAddress"), -1;
#define LOAD(v, n) v = (void *)dlsym(E.lib, n)
    LOAD(e_initialize, "eglInitialize");
    LOAD(e_get_display, "eglGetDisplay");
    LOAD(e_bind_api, "eglBindAPI");
    LOAD(e_create_context, "eglCreateContext");
    LOAD(e_destroy_context, "eglDestroyContext");
    LOAD(e_make_current, "eglMakeCurrent");
    LOAD(e_get_configs, "eglGetConfigs");
    LOAD(e_config_attrib, "eglGetConfigAttrib");
    LOAD(e_choose_config, "eglChooseConfig");
    LOAD(e_query_string, "eglQueryString");
    LOAD(e_get_error, "eglGetError");
#undef LOAD
    e_platform_display = (PFNEGLGETPLATFORMDISPLAYEXTPROC)E.getproc("eglGetPlatformDisplayEXT");
    if (gl_fns_load())
        return snprintf(E.why, sizeof E.why, "libEGL does not resolve GL entry points"), -1;
    if (!e_initialize || !e_create_context || !e_make_current || !e_choose_config)
        return snprintf(E.why, sizeof E.why, "libEGL lacks EGL 1.4 entry points"), -1;
    return 0;
}

/* The display: Mesa's surfaceless platform where there is one (no X server,
 * no GPU needed: llvmpipe), else the default display. */
static int open_display(void)
{
    const char *cx = e_query_string(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    EGLint ma, mi;
    E.dpy = EGL_NO_DISPLAY;
    if (e_platform_display && cx && strstr(cx, "EGL_MESA_platform_surfaceless"))
        E.dpy = e_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    if (E.dpy == EGL_NO_DISPLAY) E.dpy = e_get_display(EGL_DEFAULT_DISPLAY);
    if (E.dpy == EGL_NO_DISPLAY || !e_initialize(E.dpy, &ma, &mi)) {
        snprintf(E.why, sizeof E.why, "no EGL display (error 0x%x)", e_get_error());
        return -1;
    }
    const char *ext = e_query_string(E.dpy, EGL_EXTENSIONS);
    if (!ext || !strstr(ext, "EGL_KHR_no_config_context") ||
        !strstr(ext, "EGL_KHR_surfaceless_context")) {
        snprintf(E.why, sizeof E.why, "the server's EGL lacks no-config or surfaceless contexts");
        return -1;
    }
    int ma15 = ma > 1 || (ma == 1 && mi >= 5);
    robust = ma15 || strstr(ext, "EGL_EXT_create_context_robustness") != NULL;
    E.root[0] = make_root(EGL_OPENGL_ES_API);
    E.root[1] = make_root(EGL_OPENGL_API);
    if (E.root[0] == EGL_NO_CONTEXT) {
        snprintf(E.why, sizeof E.why, "cannot create a GLES context (error 0x%x)", e_get_error());
        return -1;
    }
    srv_info("GL: EGL %d.%d, %s%s", ma, mi, e_query_string(E.dpy, EGL_VENDOR),
             robust ? ", robust buffer access" : "");
    return 0;
}

int gl_egl_init(char *why, size_t len)
{
    pthread_mutex_lock(&E.mu);
    if (!E.state) E.state = load() || open_display() ? -1 : 1;
    int st = E.state;
    pthread_mutex_unlock(&E.mu);
    if (st < 0) snprintf(why, len, "%s", E.why);
    return st > 0 ? 0 : -1;
}

/* ---- tables: id -> object (ids are client-minted, small) ---------------------- */

static int table_put(void ***tab, uint32_t *n, uint32_t id, void *obj)
{
    if (id == 0 || id >= GL_MAX_OBJS) return -1;
    if (id >= *n) {
        uint32_t m = *n ? *n : 16;
        while (m <= id)
            m *= 2;
        void **t = realloc(*tab, m * sizeof *t);
        if (!t) return -1;
        memset(t + *n, 0, (m - *n) * sizeof *t);
        *tab = t, *n = m;
    }
    if ((*tab)[id]) return -1; /* ids are never reused */
    (*tab)[id] = obj;
    return 0;
}

static struct gl_ctx *ctx_get(uint32_t id)
{
    return id < E.nctx ? E.ctx[id] : NULL;
}

static struct gl_surf *surf_get(uint32_t id)
{
    return id < E.nsurf ? E.surf[id] : NULL;
}

/* ---- surfaces as framebuffer objects ------------------------------------------------ */

static GLenum color_format(const struct gl_surf *sf)
{
    if (sf->r == 5 && sf->g == 6 && sf->b == 5) return GL_RGB565;
    if (sf->r == 10) return GL_RGB10_A2;
    return sf->a ? GL_RGBA8 : GL_RGB8;
}

/* A surface's storage, made the first time a context draws to it (a context
 * is current then; every context shares it). 8-bit colour is a BGRA texture
 * where the server has GL_EXT_texture_format_BGRA8888: the layout Mesa gives
 * its own pbuffers, so rendering rounds exactly as it does locally. The
 * application's texture and renderbuffer bindings are kept. */
/* Does the current context have extension `name`? A desktop GL 3+ context is
 * asked one name at a time (glGetString(GL_EXTENSIONS) is an error in core
 * profiles, and the application would see that error). */
static int has_ext(struct gl_ctx *c, const char *name)
{
    if (c->api == EGL_OPENGL_API && c->version >= 30) {
        GLint n = 0;
        G.GetIntegerv(GL_NUM_EXTENSIONS, &n);
        for (GLint i = 0; i < n && G.GetStringi; i++) {
            const char *e = (const char *)G.GetStringi(GL_EXTENSIONS, (GLuint)i);
            if (e && !strcmp(e, name)) return 1;
        }
        return 0;
    }
    const char *ext = (const char *)G.GetString(GL_EXTENSIONS);
    size_t len = strlen(name);
    for (const char *p = ext; p && (p = strstr(p, name)); p += len)
        if ((p == ext || p[-1] == ' ') && (p[len] == ' ' || p[len] == 0)) return 1;
    return 0;
}

static void surf_storage(struct gl_ctx *c, struct gl_surf *sf)
{
    GLint tex = 0, rb = 0;
    if (sf->color_tex || sf->color_rb) return;
    G.GetIntegerv(GL_TEXTURE_BINDING_2D, &tex);
    G.GetIntegerv(GL_RENDERBUFFER_BINDING, &rb);
    if (sf->r == 8 && sf->g == 8 && sf->b == 8 && c->api == EGL_OPENGL_ES_API &&
        has_ext(c, "GL_EXT_texture_format_BGRA8888")) {
        G.GenTextures(1, &sf->color_tex);
        G.BindTexture(GL_TEXTURE_2D, sf->color_tex);
        G.TexImage2D(GL_TEXTURE_2D, 0, GL_BGRA_EXT, sf->w, sf->h, 0, GL_BGRA_EXT, GL_UNSIGNED_BYTE,
                     NULL);
        G.BindTexture(GL_TEXTURE_2D, (GLuint)tex);
    } else {
        G.GenRenderbuffers(1, &sf->color_rb);
        G.BindRenderbuffer(GL_RENDERBUFFER, sf->color_rb);
        G.RenderbufferStorage(GL_RENDERBUFFER, color_format(sf), sf->w, sf->h);
    }
    if (sf->depth || sf->stencil) {
        G.GenRenderbuffers(1, &sf->ds_rb);
        G.BindRenderbuffer(GL_RENDERBUFFER, sf->ds_rb);
        G.RenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH24_STENCIL8, sf->w, sf->h);
    }
    G.BindRenderbuffer(GL_RENDERBUFFER, (GLuint)rb);
}

static GLuint surface_fbo_locked(struct gl_ctx *c, struct gl_surf *sf)
{
    if (!sf) return 0;
    for (struct gl_fbo *f = c->fbos; f; f = f->next)
        if (f->surf == sf->id) return f->fbo;
    struct gl_fbo *f = calloc(1, sizeof *f);
    if (!f) return 0;
    surf_storage(c, sf);
    f->surf = sf->id;
    G.GenFramebuffers(1, &f->fbo);
    G.BindFramebuffer(GL_FRAMEBUFFER, f->fbo);
    if (sf->color_tex)
        G.FramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, sf->color_tex,
                               0);
    else
        G.FramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER,
                                  sf->color_rb);
    /* Mesa draws window-system buffers upside down in memory, and rasterises
     * edges accordingly: an FBO that stands in for one says so too */
    /* the MESA entry point on GL ES; desktop GL takes the flag through the 4.3 one */
    PFNGLFRAMEBUFFERPARAMETERIMESAPROC flip = (PFNGLFRAMEBUFFERPARAMETERIMESAPROC)gl_proc(
        c->api == EGL_OPENGL_API ? "glFramebufferParameteri" : "glFramebufferParameteriMESA");
    if (c->api == EGL_OPENGL_API && c->version < 43) flip = NULL;
    if (flip && has_ext(c, "GL_MESA_framebuffer_flip_y"))
        flip(GL_FRAMEBUFFER, GL_FRAMEBUFFER_FLIP_Y_MESA, GL_TRUE);
    if (sf->ds_rb) {
        G.FramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, sf->ds_rb);
        G.FramebufferRenderbuffer(GL_FRAMEBUFFER, GL_STENCIL_ATTACHMENT, GL_RENDERBUFFER,
                                  sf->ds_rb);
    }
    f->next = c->fbos;
    c->fbos = f;
    return f->fbo;
}

GLuint gl_surface_fbo_made(struct gl_ctx *c, const struct gl_surf *sf)
{
    GLuint f = 0;
    pthread_mutex_lock(&E.mu);
    for (struct gl_fbo *b = c->fbos; sf && b && !f; b = b->next)
        if (b->surf == sf->id) f = b->fbo;
    pthread_mutex_unlock(&E.mu);
    return f;
}

/* The lanes' way (framebuffer 0 of a bind): surfaces are shared between contexts. */
GLuint gl_surface_fbo(struct gl_ctx *c, struct gl_surf *sf)
{
    pthread_mutex_lock(&E.mu);
    GLuint f = surface_fbo_locked(c, sf);
    pthread_mutex_unlock(&E.mu);
    return f;
}

/* ---- window-system commands ------------------------------------------------------------ */

static const EGLint config_attrs[RG_GL_NCONFIG_ATTR] = {
    EGL_CONFIG_ID,  EGL_BUFFER_SIZE,    EGL_RED_SIZE,          EGL_GREEN_SIZE,
    EGL_BLUE_SIZE,  EGL_ALPHA_SIZE,     EGL_DEPTH_SIZE,        EGL_STENCIL_SIZE,
    EGL_SAMPLES,    EGL_SAMPLE_BUFFERS, EGL_SURFACE_TYPE,      EGL_RENDERABLE_TYPE,
    EGL_CONFORMANT, EGL_CONFIG_CAVEAT,  EGL_COLOR_BUFFER_TYPE, EGL_LEVEL};

static EGLConfig config_by_id(EGLint id)
{
    EGLint want[] = {EGL_CONFIG_ID, id, EGL_NONE}, n = 0;
    EGLConfig cfg = NULL;
    if (!e_choose_config(E.dpy, want, &cfg, 1, &n) || n != 1) return NULL;
    return cfg;
}

static void put_str(rpc_wbuf *w, const void *s)
{
    rpc_put_str(w, s ? (const char *)s : "");
}

/* Strings and configs, from the root context made current for a moment
 * (under E.mu: no other lane uses it meanwhile), then this lane's context again. */
static int ws_info(rpc_wbuf *out)
{
    EGLConfig cfgs[512];
    EGLint n = 0;
    if (!e_make_current(E.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, E.root[0])) return -1;
    put_str(out, G.GetString(GL_VENDOR));
    put_str(out, G.GetString(GL_RENDERER));
    put_str(out, G.GetString(GL_VERSION));
    put_str(out, G.GetString(GL_SHADING_LANGUAGE_VERSION));
    put_str(out, G.GetString(GL_EXTENSIONS));
    put_str(out, e_query_string(E.dpy, EGL_VERSION));
    put_str(out, e_query_string(E.dpy, EGL_EXTENSIONS));
    e_make_current(E.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, cur ? cur->egl : EGL_NO_CONTEXT);
    e_get_configs(E.dpy, cfgs, 512, &n);
    rpc_put_u32(out, (uint32_t)n);
    for (EGLint i = 0; i < n; i++)
        for (int k = 0; k < RG_GL_NCONFIG_ATTR; k++) {
            EGLint v = 0;
            e_config_attrib(E.dpy, cfgs[i], config_attrs[k], &v);
            rpc_put_u32(out, (uint32_t)v);
        }
    return 0;
}

/* The client's attribute list, with what FBO surfaces make moot left out:
 * any surface type (windows and pbuffers are FBOs here), no native visuals. */
static int ws_choose(rpc_rbuf *rb, rpc_wbuf *raw)
{
    uint32_t n = rpc_get_u32(rb);
    if (!rpc_rbuf_ok(rb) || n > 64) return -1;
    EGLint attrs[2 * 64 + 3], k = 0;
    for (uint32_t i = 0; i < n; i++) {
        EGLint a = (EGLint)rpc_get_u32(rb), v = (EGLint)rpc_get_u32(rb);
        if (a == EGL_SURFACE_TYPE || a == EGL_NATIVE_RENDERABLE || a == EGL_NATIVE_VISUAL_TYPE ||
            a == EGL_MATCH_NATIVE_PIXMAP)
            continue;
        attrs[k++] = a, attrs[k++] = v;
    }
    attrs[k++] = EGL_SURFACE_TYPE; /* its default would be EGL_WINDOW_BIT */
    attrs[k++] = EGL_DONT_CARE;
    attrs[k] = EGL_NONE;
    if (!rpc_rbuf_ok(rb)) return -1;
    EGLConfig cfgs[512];
    EGLint m = 0;
    if (!e_choose_config(E.dpy, attrs, cfgs, 512, &m)) m = 0;
    for (EGLint i = 0; i < m; i++) {
        EGLint id = 0;
        e_config_attrib(E.dpy, cfgs[i], EGL_CONFIG_ID, &id);
        rpc_put_u32(raw, (uint32_t)id);
    }
    return 0;
}

static int ws_create_context(rpc_rbuf *rb, uint32_t *status)
{
    uint32_t id = rpc_get_u32(rb), share = rpc_get_u32(rb);
    EGLint cfg_id = (EGLint)rpc_get_u32(rb);
    uint32_t api = rpc_get_u32(rb), major = rpc_get_u32(rb), minor = rpc_get_u32(rb);
    uint32_t flags = rpc_get_u32(rb), profile = rpc_get_u32(rb);
    (void)cfg_id; /* no-config contexts: the surface decides the framebuffer */
    if (!rpc_rbuf_ok(rb) || (api != EGL_OPENGL_ES_API && api != EGL_OPENGL_API) || major > 4 ||
        minor > 9)
        return -1;
    struct gl_ctx *sh = share ? ctx_get(share) : NULL;
    if (share && (!sh || sh->destroyed)) return -1;
    EGLContext root = E.root[api == EGL_OPENGL_API];
    EGLint a[16], k = 0;
    a[k++] = EGL_CONTEXT_MAJOR_VERSION, a[k++] = (EGLint)(major ? major : 1);
    a[k++] = EGL_CONTEXT_MINOR_VERSION, a[k++] = (EGLint)minor;
    if (api == EGL_OPENGL_API && profile)
        a[k++] = EGL_CONTEXT_OPENGL_PROFILE_MASK, a[k++] = (EGLint)profile;
    if (flags & 1) a[k++] = EGL_CONTEXT_OPENGL_DEBUG, a[k++] = EGL_TRUE;
    if (robust) a[k++] = EGL_CONTEXT_OPENGL_ROBUST_ACCESS, a[k++] = EGL_TRUE;
    a[k] = EGL_NONE;
    struct gl_ctx *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->id = id;
    c->api = api;
    c->fb_default = 1;
    if (root != EGL_NO_CONTEXT && e_bind_api(api))
        c->egl = e_create_context(E.dpy, EGL_NO_CONFIG_KHR, root, a);
    if (!c->egl || c->egl == EGL_NO_CONTEXT) {
        srv_warn("GL: eglCreateContext (api 0x%x %u.%u) failed: 0x%x", api, major, minor,
                 e_get_error());
        *status = RG_GL_E_EGL;
        c->destroyed = 1; /* the id stays taken; using it is an error */
    }
    if (sh) {
        c->names = sh->names;
        c->names->refs++;
    } else if ((c->names = calloc(1, sizeof *c->names))) {
        c->names->refs = 1;
    }
    if (!c->names || table_put((void ***)&E.ctx, &E.nctx, id, c)) {
        if (c->egl) e_destroy_context(E.dpy, c->egl);
        if (c->names) gl_names_put(c->names);
        free(c);
        return -1;
    }
    return 0;
}

static void ctx_free(struct gl_ctx *c)
{
    gl_frames_free(c, c == cur);
    if (c->egl) e_destroy_context(E.dpy, c->egl); /* FBOs go with it */
    for (struct gl_fbo *f = c->fbos, *n; f; f = n)
        n = f->next, free(f);
    c->fbos = NULL;
    c->egl = NULL;
    gl_names_put(c->names);
    c->names = NULL;
}

static void surf_unref(struct gl_surf *sf)
{
    if (sf && --sf->refs == 0) {
        /* needs a context of the share group current: the caller's, if any */
        if (cur && cur->egl) {
            if (sf->color_tex) G.DeleteTextures(1, &sf->color_tex);
            if (sf->color_rb) G.DeleteRenderbuffers(1, &sf->color_rb);
            if (sf->ds_rb) G.DeleteRenderbuffers(1, &sf->ds_rb);
        }
        sf->color_tex = sf->color_rb = sf->ds_rb = 0;
        E.surf[sf->id] = NULL; /* its id is never used again; contexts drop their FBOs for it */
        free(sf);
    }
}

/* A context's FBOs for surfaces that are gone (a window resized, a pbuffer
 * destroyed), deleted while it is current. */
static void prune_fbos(struct gl_ctx *c)
{
    for (struct gl_fbo **p = &c->fbos, *f; (f = *p);) {
        if (surf_get(f->surf)) {
            p = &f->next;
            continue;
        }
        G.DeleteFramebuffers(1, &f->fbo);
        *p = f->next;
        free(f);
    }
}

static int ws_make_current(rpc_rbuf *rb, uint32_t *status)
{
    uint32_t draw = rpc_get_u32(rb), read = rpc_get_u32(rb), id = rpc_get_u32(rb);
    if (!rpc_rbuf_ok(rb)) return -1;
    struct gl_ctx *c = id ? ctx_get(id) : NULL;
    struct gl_surf *d = draw ? surf_get(draw) : NULL, *r = read ? surf_get(read) : NULL;
    if ((id && !c) || (draw && !d) || (read && !r)) return -1;
    if (c && (c->destroyed || (c->current && c != cur))) {
        *status = RG_GL_E_CONTEXT;
        return 0;
    }
    struct gl_ctx *old = cur;
    if (old && old != c) { /* its swaps' frames out while it can still read them */
        if (old->destroyed) gl_frames_free(old, 1);
        else gl_frames_collect(old);
    }
    if (!e_make_current(E.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, c ? c->egl : EGL_NO_CONTEXT)) {
        srv_warn("GL: eglMakeCurrent failed: 0x%x", e_get_error());
        *status = RG_GL_E_EGL;
        return 0;
    }
    if (old && old != c) {
        old->current = 0;
        surf_unref(old->draw), surf_unref(old->read);
        old->draw = old->read = NULL;
        if (old->destroyed) {
            ctx_free(old);
        }
    }
    cur = c;
    if (!c) return 0;
    prune_fbos(c);
    if (d) d->refs++;
    if (r) r->refs++;
    if (c->draw && c == old) surf_unref(c->draw), surf_unref(c->read);
    c->draw = d, c->read = r;
    c->current = 1;
    if (!c->version) { /* "OpenGL ES 3.2 Mesa ..." or "4.6 (Core Profile) ..." */
        const char *v = (const char *)G.GetString(GL_VERSION);
        int ma = 0, mi = 0;
        if (v && !strncmp(v, "OpenGL ES ", 10)) v += 10;
        if (v && sscanf(v, "%d.%d", &ma, &mi) == 2) c->version = ma * 10 + mi;
        if (!c->version) c->version = 20;
        if (c->api == EGL_OPENGL_API) {
            GLint mask = 0;
            if (c->version >= 32) G.GetIntegerv(GL_CONTEXT_PROFILE_MASK, &mask);
            c->compat = c->version < 32 || (mask & GL_CONTEXT_COMPATIBILITY_PROFILE_BIT);
        }
    }
    if (c->fb_default) {
        GLuint df = surface_fbo_locked(c, d), rf = surface_fbo_locked(c, r);
        if (df == rf) {
            G.BindFramebuffer(GL_FRAMEBUFFER, df);
        } else {
            G.BindFramebuffer(GL_DRAW_FRAMEBUFFER, df);
            G.BindFramebuffer(GL_READ_FRAMEBUFFER, rf);
        }
    }
    if (d && !c->was_current) { /* EGL: the first time, viewport and scissor = the surface */
        c->was_current = 1;
        G.Viewport(0, 0, d->w, d->h);
        G.Scissor(0, 0, d->w, d->h);
    }
    return 0;
}

static int ws_create_surface(rpc_rbuf *rb)
{
    uint32_t id = rpc_get_u32(rb);
    EGLint cfg_id = (EGLint)rpc_get_u32(rb);
    int32_t w = (int32_t)rpc_get_u32(rb), h = (int32_t)rpc_get_u32(rb);
    uint32_t flags = rpc_get_u32(rb);
    if (!rpc_rbuf_ok(rb) || w < 0 || h < 0 || w > 16384 || h > 16384 || (flags & ~RG_SURF_WINDOW24))
        return -1;
    EGLConfig cfg = config_by_id(cfg_id);
    struct gl_surf *sf = calloc(1, sizeof *sf);
    if (!sf) return -1;
    sf->id = id;
    sf->w = w ? w : 1; /* a 0x0 pbuffer is legal; renderbuffers of 0 size are incomplete */
    sf->h = h ? h : 1;
    sf->refs = 1;
    sf->r = sf->g = sf->b = sf->a = 8;
    if (cfg) {
        e_config_attrib(E.dpy, cfg, EGL_RED_SIZE, &sf->r);
        e_config_attrib(E.dpy, cfg, EGL_GREEN_SIZE, &sf->g);
        e_config_attrib(E.dpy, cfg, EGL_BLUE_SIZE, &sf->b);
        e_config_attrib(E.dpy, cfg, EGL_ALPHA_SIZE, &sf->a);
        e_config_attrib(E.dpy, cfg, EGL_DEPTH_SIZE, &sf->depth);
        e_config_attrib(E.dpy, cfg, EGL_STENCIL_SIZE, &sf->stencil);
    }
    if (flags & RG_SURF_WINDOW24)
        sf->a = 0; /* the window keeps no alpha: neither does its storage */
    if (table_put((void ***)&E.surf, &E.nsurf, id, sf)) {
        free(sf);
        return -1;
    }
    return 0;
}

/* The surface's colour as RGBA rows, bottom first, into the pixel-pack buffer
 * pbo (non-zero) or into dst: the application's read framebuffer, pixel buffer
 * and pack state are set aside and put back. c is current and draws to sf;
 * E.mu held (window-system commands run under it). */
int gl_read_bgra(struct gl_ctx *c, const struct gl_surf *sf)
{
    if (!sf->color_tex) return 0; /* RGBA storage: Mesa copies RGBA rows as they are */
    if (!c->read_bgra) /* core in desktop GL 1.2; an extension on GL ES */
        c->read_bgra = c->api == EGL_OPENGL_API || has_ext(c, "GL_EXT_read_format_bgra") ? 1 : -1;
    return c->read_bgra > 0;
}

int gl_read_colour(struct gl_ctx *c, struct gl_surf *sf, GLuint pbo, void *dst)
{
    static const GLenum pack[] = {GL_PACK_ALIGNMENT, GL_PACK_ROW_LENGTH, GL_PACK_SKIP_ROWS,
                                  GL_PACK_SKIP_PIXELS};
    GLint saved[4], read_fb = 0, app_pbo = 0;
    for (int i = 0; i < 4; i++)
        G.GetIntegerv(pack[i], &saved[i]);
    int es2 = c->api == EGL_OPENGL_ES_API && c->version < 30;
    G.GetIntegerv(es2 ? GL_FRAMEBUFFER_BINDING : GL_READ_FRAMEBUFFER_BINDING, &read_fb);
    if (!es2) G.GetIntegerv(GL_PIXEL_PACK_BUFFER_BINDING, &app_pbo);
    GLenum target = es2 ? GL_FRAMEBUFFER : GL_READ_FRAMEBUFFER;
    GLuint fbo = surface_fbo_locked(c, sf);
    if (!fbo) return -1;
    G.BindFramebuffer(target, fbo);
    if (pbo || app_pbo) G.BindBuffer(GL_PIXEL_PACK_BUFFER, pbo);
    G.PixelStorei(GL_PACK_ALIGNMENT, 4);
    G.PixelStorei(GL_PACK_ROW_LENGTH, 0);
    G.PixelStorei(GL_PACK_SKIP_ROWS, 0);
    G.PixelStorei(GL_PACK_SKIP_PIXELS, 0);
    G.ReadPixels(0, 0, sf->w, sf->h, gl_read_bgra(c, sf) ? GL_BGRA_EXT : GL_RGBA, GL_UNSIGNED_BYTE,
                 pbo ? NULL : dst);
    for (int i = 0; i < 4; i++)
        G.PixelStorei(pack[i], saved[i]);
    if (pbo || app_pbo) G.BindBuffer(GL_PIXEL_PACK_BUFFER, (GLuint)app_pbo);
    G.BindFramebuffer(target, (GLuint)read_fb);
    return 0;
}

/* The current context and the window surface it draws to, for a swap. */
static struct gl_surf *present_target(rpc_rbuf *rb, uint32_t *status, struct gl_ctx **c)
{
    struct gl_surf *sf = surf_get(rpc_get_u32(rb));
    *c = cur;
    if (!sf) return NULL;
    if (!*c || (*c)->destroyed || (*c)->draw != sf) *status = RG_GL_E_CONTEXT;
    return sf;
}

/* A window's frame, answered (the swap waits for it: RGPU_GL_FRAMES=sync on
 * the client). */
static int ws_present(rpc_rbuf *rb, rpc_wbuf *reply, rpc_wbuf *raw, uint32_t *status)
{
    struct gl_ctx *c;
    struct gl_surf *sf = present_target(rb, status, &c);
    uint32_t codecs = rpc_get_u32(rb);
    if (!rpc_rbuf_ok(rb) || !sf) return -1;
    if (*status) return 0;
    size_t n = (size_t)sf->w * (size_t)sf->h * 4;
    void *px = gl_frame_read(c, sf);
    if (!px && !(px = calloc(1, n ? n : 1))) return -1; /* a readback that failed: black */
    char *z;
    struct iovec out;
    uint32_t codec = gl_frame_code(px, n, codecs, &z, &out);
    rpc_put_u32(reply, (uint32_t)sf->w);
    rpc_put_u32(reply, (uint32_t)sf->h);
    rpc_put_u32(reply, codec);
    rpc_put_bytes(raw, out.iov_base, out.iov_len);
    free(z);
    free(px);
    return 0;
}

/* A window's frame on the frame channel (gl_frames.c): nothing is answered;
 * a frame of this swap's number (or a later one) comes as a NOTIFY. A swap
 * without a current context on the window still gets one, empty, so the
 * client's count of frames in flight comes back. */
static int ws_present_async(rpc_rbuf *rb)
{
    struct gl_ctx *c;
    uint32_t bad = 0; /* nothing answers: the empty frame says it */
    struct gl_surf *sf = present_target(rb, &bad, &c);
    uint32_t codecs = rpc_get_u32(rb), chan = rpc_get_u32(rb), seq = rpc_get_u32(rb);
    if (!rpc_rbuf_ok(rb) || !sf) return -1;
    gl_frame_present(bad ? NULL : c, bad ? NULL : sf, chan, seq, codecs);
    return 0;
}

/* Every glGetStringi(GL_EXTENSIONS, i) name in one answer, so a client walking
 * the list (glxinfo: about 200 names) waits once instead of once a name. */
static int ws_extensions(rpc_wbuf *reply, rpc_wbuf *raw, uint32_t *status)
{
    struct gl_ctx *c = cur;
    if (!c || c->destroyed) {
        *status = RG_GL_E_CONTEXT;
        return 0;
    }
    GLint n = 0;
    if (c->version >= 30 && G.GetStringi) G.GetIntegerv(GL_NUM_EXTENSIONS, &n);
    uint32_t k = 0;
    for (GLint i = 0; i < n && i < 4096; i++) {
        const char *e = (const char *)G.GetStringi(GL_EXTENSIONS, (GLuint)i);
        if (!e) break;
        rpc_put_bytes(raw, e, strlen(e) + 1);
        k++;
    }
    rpc_put_u32(reply, k);
    return 0;
}

int gl_ws_command(uint32_t op, rpc_rbuf *rb, rpc_wbuf *reply, rpc_wbuf *reply_raw, uint32_t *status)
{
    int rc = 0;
    pthread_mutex_lock(&E.mu);
    switch (op) {
    case RG_WS_INFO:
        rc = ws_info(reply);
        break;
    case RG_WS_CHOOSE_CONFIG:
        rc = ws_choose(rb, reply_raw);
        break;
    case RG_WS_CREATE_CONTEXT:
        rc = ws_create_context(rb, status);
        break;
    case RG_WS_DESTROY_CONTEXT: {
        struct gl_ctx *c = ctx_get(rpc_get_u32(rb));
        if (!rpc_rbuf_ok(rb) || !c)
            rc = -1;
        else if (!c->destroyed) {
            c->destroyed = 1;
            if (!c->current) ctx_free(c); /* else when it stops being current */
        }
        break;
    }
    case RG_WS_CREATE_SURFACE:
        rc = ws_create_surface(rb);
        break;
    case RG_WS_DESTROY_SURFACE: {
        struct gl_surf *sf = surf_get(rpc_get_u32(rb));
        if (!rpc_rbuf_ok(rb) || !sf)
            rc = -1;
        else if (!sf->destroyed)
            sf->destroyed = 1, surf_unref(sf);
        break;
    }
    case RG_WS_PRESENT:
        rc = ws_present(rb, reply, reply_raw, status);
        break;
    case RG_WS_PRESENT_ASYNC:
        rc = ws_present_async(rb);
        break;
    case RG_WS_MAKE_CURRENT:
        rc = ws_make_current(rb, status);
        break;
    case RG_WS_EXTENSIONS:
        rc = ws_extensions(reply, reply_raw, status);
        break;
    default:
        rc = -1;
    }
    pthread_mutex_unlock(&E.mu);
    return rc;
}
