/* glx.c — the GLVND GLX vendor (__glx_Main), in the same library as the EGL
 * vendor (build/lib/rgpu/libGLX_rgpu.so.0 is a link to libEGL_rgpu.so.0, so
 * one process has one copy of the batches and contexts). GLX 1.4 and
 * GLX_ARB_create_context(_profile) on desktop GL: FBConfigs from the server's
 * desktop-GL configs, each single- and double-buffered, all on the local X
 * screen's 24-bit TrueColor visual; windows and pbuffers are surfaces on the
 * server sized from XGetGeometry. Frames do not come back to the window yet
 * (docs/gl.md "Next"). libX11 is loaded when GLX is first used, so EGL-only
 * processes never need it. */
#include <GL/glx.h>
#include <GL/glxext.h>
#include <dlfcn.h>
#include <glvnd/libglxabi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "glc.h"
#include "glc_x11.h"

#define GLX_CFG_MAGIC 0x52474678u /* "RGFx" */
#define EGL_OPENGL_BIT_ 0x0008
#define EGL_RGB_BUFFER_ 0x308E
#define EGL_OPENGL_API_ 0x30A2

struct glx_config { /* a GLXFBConfig */
    uint32_t magic;
    int id;           /* GLX_FBCONFIG_ID */
    const int32_t *a; /* the server's config */
    int doublebuf;
    VisualID vid;
    int screen;
};

struct glx_drawable { /* a window or pbuffer the server has a surface for */
    XID xid;
    uint32_t surf;
    int w, h, pbuffer;
    struct glc_frame frame; /* windows: where frames are put */
    struct glx_config *cfg;
    struct glx_drawable *next;
};

static struct {
    pthread_mutex_t mu;
    struct glx_config *cfg;
    int ncfg, built;
    struct glx_drawable *drawables;
    XID next_pbuffer;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .next_pbuffer = 0x7e000000};

/* ---- FBConfigs ---------------------------------------------------------------------------------
 */

/* Desktop-GL configs of the server, single- and double-buffered, on the screen's
 * 24-bit TrueColor visual (what Xvfb and every desktop X server offer). */
static int build_configs(Display *dpy, int screen)
{
    const struct glc_server *sv = rg_glc_server();
    XVisualInfo vi;
    if (!sv || rg_glc_x11()) return -1;
    pthread_mutex_lock(&L.mu);
    if (L.built) goto done;
    if (!RG_X11.MatchVisualInfo(dpy, screen, 24, TrueColor, &vi)) {
        rg_glc_log(GLC_ERR, "GLX: screen %d has no 24-bit TrueColor visual", screen);
        goto done;
    }
    L.cfg = calloc(2 * (size_t)sv->ncfg + 1, sizeof *L.cfg);
    for (uint32_t i = 0; L.cfg && i < sv->ncfg; i++) {
        const int32_t *a = sv->cfg[i];
        if (!(a[C_RENDERABLE] & EGL_OPENGL_BIT_) || a[C_COLOR_TYPE] != EGL_RGB_BUFFER_ ||
            a[C_RED] != 8 || a[C_GREEN] != 8 || a[C_BLUE] != 8 ||
            a[C_SAMPLES] > 0) /* what fits the 24-bit visual */
            continue;
        for (int db = 1; db >= 0; db--) {
            struct glx_config *c = &L.cfg[L.ncfg++];
            c->magic = GLX_CFG_MAGIC, c->id = L.ncfg, c->a = a, c->doublebuf = db;
            c->vid = vi.visualid, c->screen = screen;
        }
    }
    L.built = L.cfg != NULL;
done:
    pthread_mutex_unlock(&L.mu);
    return L.built ? 0 : -1;
}

static struct glx_config *config_of(GLXFBConfig c)
{
    struct glx_config *p = (struct glx_config *)c;
    return p && L.cfg && p >= L.cfg && p < L.cfg + L.ncfg ? p : NULL;
}

static int attr_of(const struct glx_config *c, int attr, int *v)
{
    const int32_t *a = c->a;
    switch (attr) {
    case GLX_FBCONFIG_ID:
        *v = c->id;
        break;
    case GLX_BUFFER_SIZE:
        *v = a[C_BUFFER];
        break;
    case GLX_LEVEL:
        *v = 0;
        break;
    case GLX_DOUBLEBUFFER:
        *v = c->doublebuf;
        break;
    case GLX_STEREO:
    case GLX_AUX_BUFFERS:
    case GLX_ACCUM_RED_SIZE:
    case GLX_ACCUM_GREEN_SIZE:
    case GLX_ACCUM_BLUE_SIZE:
    case GLX_ACCUM_ALPHA_SIZE:
        *v = 0;
        break;
    case GLX_RED_SIZE:
        *v = a[C_RED];
        break;
    case GLX_GREEN_SIZE:
        *v = a[C_GREEN];
        break;
    case GLX_BLUE_SIZE:
        *v = a[C_BLUE];
        break;
    case GLX_ALPHA_SIZE:
        *v = a[C_ALPHA];
        break;
    case GLX_DEPTH_SIZE:
        *v = a[C_DEPTH];
        break;
    case GLX_STENCIL_SIZE:
        *v = a[C_STENCIL];
        break;
    case GLX_RENDER_TYPE:
        *v = GLX_RGBA_BIT;
        break;
    case GLX_DRAWABLE_TYPE:
        *v = GLX_WINDOW_BIT | GLX_PBUFFER_BIT;
        break;
    case GLX_X_RENDERABLE:
        *v = True;
        break;
    case GLX_VISUAL_ID:
        *v = (int)c->vid;
        break;
    case GLX_X_VISUAL_TYPE:
        *v = GLX_TRUE_COLOR;
        break;
    case GLX_CONFIG_CAVEAT:
        *v = GLX_NONE;
        break;
    case GLX_TRANSPARENT_TYPE:
        *v = GLX_NONE;
        break;
    case GLX_TRANSPARENT_INDEX_VALUE:
    case GLX_TRANSPARENT_RED_VALUE:
    case GLX_TRANSPARENT_GREEN_VALUE:
    case GLX_TRANSPARENT_BLUE_VALUE:
    case GLX_TRANSPARENT_ALPHA_VALUE:
        *v = 0;
        break;
    case GLX_MAX_PBUFFER_WIDTH:
    case GLX_MAX_PBUFFER_HEIGHT:
        *v = 16384;
        break;
    case GLX_MAX_PBUFFER_PIXELS:
        *v = 16384 * 16384;
        break;
    case GLX_SAMPLE_BUFFERS:
        *v = 0;
        break;
    case GLX_SAMPLES:
        *v = 0;
        break;
    case GLX_SCREEN:
        *v = c->screen;
        break;
    default:
        return GLX_BAD_ATTRIBUTE;
    }
    return Success;
}

/* Does config c satisfy attr = want (GLX 1.3 matching rules, the ones apps use)? */
static int satisfies(const struct glx_config *c, int attr, int want)
{
    int v;
    if (want == (int)GLX_DONT_CARE) return 1;
    switch (attr) {
    case GLX_RENDER_TYPE:
        return (want & GLX_RGBA_BIT) != 0;
    case GLX_DRAWABLE_TYPE:
        return (want & ~(GLX_WINDOW_BIT | GLX_PBUFFER_BIT)) == 0;
    case GLX_X_VISUAL_TYPE:
        return want == GLX_TRUE_COLOR;
    case GLX_DOUBLEBUFFER:
    case GLX_STEREO:
    case GLX_X_RENDERABLE:
    case GLX_FBCONFIG_ID:
    case GLX_LEVEL:
    case GLX_CONFIG_CAVEAT:
    case GLX_TRANSPARENT_TYPE:
        return attr_of(c, attr, &v) == Success && v == want;
    default: /* sizes: at least */
        return attr_of(c, attr, &v) == Success && v >= want;
    }
}

/* ---- contexts and drawables -------------------------------------------------------------- */

static struct glc_ctx *ctx_of(GLXContext c)
{
    struct glc_ctx *p = (struct glc_ctx *)c;
    return p && p->magic == GLC_CTX_MAGIC ? p : NULL;
}

static GLXContext create(struct glx_config *cfg, GLXContext share, int major, int minor, int flags,
                         int profile)
{
    struct glc_ctx *sh = share ? ctx_of(share) : NULL;
    if (!cfg || (share && !sh)) return NULL;
    if (major >= 4 || (major == 3 && minor >= 2))
        profile = profile ? profile : GLX_CONTEXT_CORE_PROFILE_BIT_ARB;
    else
        profile = 0;
    struct glc_ctx *c =
        rg_glc_ctx_create(EGL_OPENGL_API_, major, minor, flags & GLX_CONTEXT_DEBUG_BIT_ARB ? 1 : 0,
                          profile, sh, cfg->a[C_ID]);
    if (c) c->config = cfg;
    return (GLXContext)c;
}

static struct glx_drawable *drawable_find(XID xid)
{
    for (struct glx_drawable *d = L.drawables; d; d = d->next)
        if (d->xid == xid) return d;
    return NULL;
}

/* The surface of an X window (made the first time it is made current) or pbuffer. */
static struct glx_drawable *drawable_get(Display *dpy, XID xid, struct glx_config *cfg)
{
    pthread_mutex_lock(&L.mu);
    struct glx_drawable *d = drawable_find(xid);
    pthread_mutex_unlock(&L.mu);
    if (d || rg_glc_x11()) return d;
    Window root;
    int x, y;
    unsigned w, h, bw, depth;
    if (!RG_X11.GetGeometry(dpy, xid, &root, &x, &y, &w, &h, &bw, &depth)) return NULL;
    if (!(d = calloc(1, sizeof *d))) return NULL;
    d->xid = xid, d->w = (int)w, d->h = (int)h, d->cfg = cfg;
    d->surf = rg_glc_surface_create(cfg ? cfg->a[C_ID] : 0, d->w, d->h,
                                    depth == 24 ? RG_SURF_WINDOW24 : 0);
    pthread_mutex_lock(&L.mu);
    d->next = L.drawables;
    L.drawables = d;
    pthread_mutex_unlock(&L.mu);
    return d;
}

static Display *follow_dpy; /* the X connection of the windows followed */

static void glx_follow(struct glc_ctx *c)
{
    struct glx_drawable *d = c->draw;
    if (d && !d->pbuffer && follow_dpy)
        rg_glc_x11_follow(follow_dpy, d->xid, d->cfg ? d->cfg->a[C_ID] : 0, &d->surf, &d->w, &d->h);
}

/* The frames of every swap of this thread's window shown (glXWaitGL, and
 * before its context leaves the window). */
static void frames_wait(int careful)
{
    struct glc_ctx *c = rg_glc_current();
    struct glx_drawable *d = c ? c->draw : NULL;
    if (d && !d->pbuffer && follow_dpy)
        rg_glc_x11_frames_wait(follow_dpy, d->xid, &d->frame, careful);
}

static Bool make_current(Display *dpy, GLXDrawable draw, GLXDrawable read, GLXContext ctx)
{
    struct glc_ctx *c = ctx ? ctx_of(ctx) : NULL, *old = rg_glc_current();
    if (ctx && (!c || c->destroyed)) return False;
    if (c && c->current && c != old) return False;
    if (old && (old != c || !old->draw || ((struct glx_drawable *)old->draw)->xid != draw))
        frames_wait(1);
    if (!c) {
        rg_glc_make_current(NULL, 0, 0, NULL, NULL);
        return True;
    }
    struct glx_drawable *d = draw ? drawable_get(dpy, draw, c->config) : NULL;
    struct glx_drawable *r = read == draw ? d : read ? drawable_get(dpy, read, c->config) : NULL;
    if ((draw && !d) || (read && !r)) return False;
    rg_glc_make_current(c, d ? d->surf : 0, r ? r->surf : 0, d, r);
    follow_dpy = dpy;
    c->follow = d && !d->pbuffer ? glx_follow : NULL;
    return True;
}

/* ---- GLX 1.4 ------------------------------------------------------------------------------- */

static GLXFBConfig *rg_glXGetFBConfigs(Display *dpy, int screen, int *n)
{
    *n = 0;
    if (build_configs(dpy, screen) || !L.ncfg) return NULL;
    GLXFBConfig *out =
        malloc((size_t)L.ncfg * sizeof *out); /* the application frees it with XFree */
    if (!out) return NULL;
    for (int i = 0; i < L.ncfg; i++)
        out[i] = (GLXFBConfig)&L.cfg[i];
    *n = L.ncfg;
    return out;
}

static GLXFBConfig *rg_glXChooseFBConfig(Display *dpy, int screen, const int *attrs, int *n)
{
    int all = 0;
    GLXFBConfig *cfgs = rg_glXGetFBConfigs(dpy, screen, &all);
    *n = 0;
    if (!cfgs) return NULL;
    for (int i = 0; i < all; i++) {
        struct glx_config *c = config_of(cfgs[i]);
        int ok = 1;
        for (int k = 0; attrs && attrs[k] != None && ok; k += 2)
            ok = satisfies(c, attrs[k], attrs[k + 1]);
        if (ok) cfgs[(*n)++] = cfgs[i];
    }
    if (!*n) {
        free(cfgs);
        return NULL;
    }
    return cfgs;
}

static int rg_glXGetFBConfigAttrib(Display *dpy, GLXFBConfig config, int attr, int *value)
{
    struct glx_config *c = config_of(config);
    if (!c)
        return GLX_BAD_ATTRIBUTE; /* GLX 1.4 has no GLX_BAD_CONFIG code; libGLX checks the config
                                     first */
    return attr_of(c, attr, value);
}

static XVisualInfo *visual_info(Display *dpy, const struct glx_config *c)
{
    XVisualInfo tmpl = {.visualid = c->vid, .screen = c->screen};
    int n = 0;
    if (rg_glc_x11()) return NULL;
    return RG_X11.GetVisualInfo(dpy, VisualIDMask | VisualScreenMask, &tmpl, &n);
}

static XVisualInfo *rg_glXGetVisualFromFBConfig(Display *dpy, GLXFBConfig config)
{
    struct glx_config *c = config_of(config);
    return c ? visual_info(dpy, c) : NULL;
}

/* GLX 1.2: boolean attributes stand alone; GLX_DOUBLEBUFFER absent means single. */
static XVisualInfo *rg_glXChooseVisual(Display *dpy, int screen, int *attrs)
{
    int all = 0;
    GLXFBConfig *cfgs = rg_glXGetFBConfigs(dpy, screen, &all);
    struct glx_config *pick = NULL;
    for (int i = 0; i < all && !pick; i++) {
        struct glx_config *c = config_of(cfgs[i]);
        int ok = 1, rgba = 0, db = 0;
        for (int k = 0; attrs && attrs[k] != None && ok; k++) {
            switch (attrs[k]) {
            case GLX_USE_GL:
                break;
            case GLX_RGBA:
                rgba = 1;
                break;
            case GLX_DOUBLEBUFFER:
                db = 1;
                break;
            case GLX_STEREO:
                ok = 0;
                break;
            default:
                ok = satisfies(c, attrs[k], attrs[k + 1]), k++;
            }
        }
        if (ok && rgba && c->doublebuf == db) pick = c;
    }
    free(cfgs);
    return pick ? visual_info(dpy, pick) : NULL;
}

/* The config a visual stands for: the first of its buffering with the most depth. */
static struct glx_config *config_for_visual(Display *dpy, const XVisualInfo *vis, int doublebuf)
{
    int all = 0;
    GLXFBConfig *cfgs = rg_glXGetFBConfigs(dpy, vis ? vis->screen : 0, &all);
    struct glx_config *best = NULL;
    for (int i = 0; i < all; i++) {
        struct glx_config *c = config_of(cfgs[i]);
        if (vis && c->vid != vis->visualid) continue;
        if (c->doublebuf != doublebuf || c->a[C_ALPHA] < 8) continue;
        if (!best || c->a[C_DEPTH] + c->a[C_STENCIL] > best->a[C_DEPTH] + best->a[C_STENCIL])
            best = c;
    }
    free(cfgs);
    return best;
}

static int rg_glXGetConfig(Display *dpy, XVisualInfo *vis, int attr, int *value)
{
    struct glx_config *c = config_for_visual(dpy, vis, 1);
    if (!c) return GLX_BAD_VISUAL;
    switch (attr) {
    case GLX_USE_GL:
    case GLX_RGBA:
        *value = True;
        return Success;
    default:
        return attr_of(c, attr, value) == Success ? Success : GLX_BAD_ATTRIBUTE;
    }
}

static GLXContext rg_glXCreateContext(Display *dpy, XVisualInfo *vis, GLXContext share, Bool direct)
{
    return create(config_for_visual(dpy, vis, 1), share, 1, 0, 0, 0);
}

static GLXContext rg_glXCreateNewContext(Display *dpy, GLXFBConfig config, int type,
                                         GLXContext share, Bool direct)
{
    return type == GLX_RGBA_TYPE ? create(config_of(config), share, 1, 0, 0, 0) : NULL;
}

static GLXContext rg_glXCreateContextAttribsARB(Display *dpy, GLXFBConfig config, GLXContext share,
                                                Bool direct, const int *attrs)
{
    int major = 1, minor = 0, flags = 0, profile = 0;
    for (int k = 0; attrs && attrs[k] != None; k += 2) {
        switch (attrs[k]) {
        case GLX_CONTEXT_MAJOR_VERSION_ARB:
            major = attrs[k + 1];
            break;
        case GLX_CONTEXT_MINOR_VERSION_ARB:
            minor = attrs[k + 1];
            break;
        case GLX_CONTEXT_FLAGS_ARB:
            flags = attrs[k + 1];
            break;
        case GLX_CONTEXT_PROFILE_MASK_ARB:
            profile = attrs[k + 1];
            break;
        case GLX_RENDER_TYPE:
            if (attrs[k + 1] != GLX_RGBA_TYPE) return NULL;
            break;
        default:
            return NULL;
        }
    }
    if (profile & ~(GLX_CONTEXT_CORE_PROFILE_BIT_ARB | GLX_CONTEXT_COMPATIBILITY_PROFILE_BIT_ARB))
        return NULL;
    return create(config_of(config), share, major, minor, flags, profile);
}

static void rg_glXDestroyContext(Display *dpy, GLXContext ctx)
{
    struct glc_ctx *c = ctx_of(ctx);
    if (c && !c->destroyed) rg_glc_ctx_destroy(c);
}

static Bool rg_glXMakeCurrent(Display *dpy, GLXDrawable d, GLXContext ctx)
{
    return make_current(dpy, d, d, ctx);
}

static Bool rg_glXMakeContextCurrent(Display *dpy, GLXDrawable draw, GLXDrawable read,
                                     GLXContext ctx)
{
    return make_current(dpy, draw, read, ctx);
}

static void rg_glXSwapBuffers(Display *dpy, GLXDrawable draw)
{
    struct glc_ctx *c = rg_glc_current();
    struct glx_drawable *d = c ? c->draw : NULL;
    if (!d || d->xid != draw) { /* not this thread's: GLX flushes nothing then */
        return;
    }
    if (d->pbuffer || !d->cfg || !d->cfg->doublebuf) {
        rg_glc_flush();
        return;
    }
    rg_glc_x11_present(dpy, d->xid, d->surf, &d->frame);
    glx_follow(c);
}

static Bool rg_glXIsDirect(Display *dpy, GLXContext ctx)
{
    return ctx_of(ctx) != NULL;
}

static int rg_glXQueryContext(Display *dpy, GLXContext ctx, int attr, int *value)
{
    struct glc_ctx *c = ctx_of(ctx);
    struct glx_config *cfg = c ? c->config : NULL;
    if (!c) return GLX_BAD_CONTEXT;
    switch (attr) {
    case GLX_FBCONFIG_ID:
        *value = cfg ? cfg->id : 0;
        return Success;
    case GLX_RENDER_TYPE:
        *value = GLX_RGBA_TYPE;
        return Success;
    case GLX_SCREEN:
        *value = cfg ? cfg->screen : 0;
        return Success;
    default:
        return GLX_BAD_ATTRIBUTE;
    }
}

static GLXWindow rg_glXCreateWindow(Display *dpy, GLXFBConfig config, Window win, const int *attrs)
{
    return config_of(config) ? win : None; /* the window itself is the drawable */
}

static void rg_glXDestroyWindow(Display *dpy, GLXWindow win) {}

static GLXPbuffer rg_glXCreatePbuffer(Display *dpy, GLXFBConfig config, const int *attrs)
{
    struct glx_config *cfg = config_of(config);
    int w = 0, h = 0;
    if (!cfg) return None;
    for (int k = 0; attrs && attrs[k] != None; k += 2) {
        if (attrs[k] == GLX_PBUFFER_WIDTH) w = attrs[k + 1];
        if (attrs[k] == GLX_PBUFFER_HEIGHT) h = attrs[k + 1];
    }
    if (w < 0 || h < 0 || w > 16384 || h > 16384) return None;
    struct glx_drawable *d = calloc(1, sizeof *d);
    if (!d) return None;
    d->w = w, d->h = h, d->cfg = cfg, d->pbuffer = 1;
    d->surf = rg_glc_surface_create(cfg->a[C_ID], w, h, 0);
    pthread_mutex_lock(&L.mu);
    d->xid = ++L.next_pbuffer; /* an id no X resource has: pbuffers exist on the server only */
    d->next = L.drawables;
    L.drawables = d;
    pthread_mutex_unlock(&L.mu);
    return d->xid;
}

static void rg_glXDestroyPbuffer(Display *dpy, GLXPbuffer pb)
{
    pthread_mutex_lock(&L.mu);
    struct glx_drawable **p = &L.drawables, *d;
    while ((d = *p) && d->xid != pb)
        p = &d->next;
    if (d && d->pbuffer) *p = d->next;
    pthread_mutex_unlock(&L.mu);
    if (d && d->pbuffer) {
        rg_glc_surface_destroy(d->surf);
        free(d); /* a current context keeps only the surface id */
    }
}

static void rg_glXQueryDrawable(Display *dpy, GLXDrawable draw, int attr, unsigned *value)
{
    pthread_mutex_lock(&L.mu);
    struct glx_drawable *d = drawable_find(draw);
    unsigned w = d ? (unsigned)d->w : 0, h = d ? (unsigned)d->h : 0,
             id = d && d->cfg ? (unsigned)d->cfg->id : 0;
    pthread_mutex_unlock(&L.mu);
    switch (attr) {
    case GLX_WIDTH:
        *value = w;
        break;
    case GLX_HEIGHT:
        *value = h;
        break;
    case GLX_FBCONFIG_ID:
        *value = id;
        break;
    case GLX_PRESERVED_CONTENTS:
    case GLX_LARGEST_PBUFFER:
        *value = 0;
        break;
    default:
        break;
    }
}

static GLXPixmap rg_glXCreatePixmap(Display *dpy, GLXFBConfig config, Pixmap pixmap,
                                    const int *attrs)
{
    return None; /* pixmaps: not forwarded */
}

static void rg_glXDestroyPixmap(Display *dpy, GLXPixmap pixmap) {}

static GLXPixmap rg_glXCreateGLXPixmap(Display *dpy, XVisualInfo *vis, Pixmap pixmap)
{
    return None;
}

static void rg_glXDestroyGLXPixmap(Display *dpy, GLXPixmap pixmap) {}

static void rg_glXCopyContext(Display *dpy, GLXContext src, GLXContext dst, unsigned long mask) {}

static void rg_glXWaitGL(void)
{
    rg_glc_finish();
    frames_wait(0); /* X requests after this see every frame swapped before */
}

static void rg_glXWaitX(void) {}

static void rg_glXUseXFont(Font font, int first, int count, int list) {}

static void rg_glXSelectEvent(Display *dpy, GLXDrawable draw, unsigned long mask) {}

static void rg_glXGetSelectedEvent(Display *dpy, GLXDrawable draw, unsigned long *mask)
{
    *mask = 0;
}

#define GLX_EXTS "GLX_ARB_create_context GLX_ARB_create_context_profile GLX_ARB_get_proc_address"

static const char *rg_glXQueryExtensionsString(Display *dpy, int screen)
{
    return GLX_EXTS;
}

static const char *rg_glXQueryServerString(Display *dpy, int screen, int name)
{
    switch (name) {
    case GLX_VENDOR:
        return "rgpu";
    case GLX_VERSION:
        return "1.4";
    case GLX_EXTENSIONS:
        return GLX_EXTS;
    default:
        return NULL;
    }
}

static const char *rg_glXGetClientString(Display *dpy, int name)
{
    return rg_glXQueryServerString(dpy, 0, name);
}

/* ---- the vendor ABI ----------------------------------------------------------------------------
 */

static const struct {
    const char *name;
    void *fn;
} glx_procs[] = {
#define P(f)                                                                                       \
    {                                                                                              \
#f, (void *)rg_##f                                                                         \
    }
    P(glXChooseFBConfig),
    P(glXChooseVisual),
    P(glXCopyContext),
    P(glXCreateContext),
    P(glXCreateContextAttribsARB),
    P(glXCreateGLXPixmap),
    P(glXCreateNewContext),
    P(glXCreatePbuffer),
    P(glXCreatePixmap),
    P(glXCreateWindow),
    P(glXDestroyContext),
    P(glXDestroyGLXPixmap),
    P(glXDestroyPbuffer),
    P(glXDestroyPixmap),
    P(glXDestroyWindow),
    P(glXGetClientString),
    P(glXGetConfig),
    P(glXGetFBConfigAttrib),
    P(glXGetFBConfigs),
    P(glXGetSelectedEvent),
    P(glXGetVisualFromFBConfig),
    P(glXIsDirect),
    P(glXMakeContextCurrent),
    P(glXMakeCurrent),
    P(glXQueryContext),
    P(glXQueryDrawable),
    P(glXQueryExtensionsString),
    P(glXQueryServerString),
    P(glXSelectEvent),
    P(glXSwapBuffers),
    P(glXUseXFont),
    P(glXWaitGL),
    P(glXWaitX),
#undef P
};

static void *glx_proc(const GLubyte *name)
{
    const char *n = (const char *)name;
    if (!strncmp(n, "glX", 3)) {
        for (size_t i = 0; i < sizeof glx_procs / sizeof *glx_procs; i++)
            if (!strcmp(glx_procs[i].name, n)) return glx_procs[i].fn;
        return NULL;
    }
    return (void *)rg_glc_proc(n);
}

static Bool glx_screen_supported(Display *dpy, int screen)
{
    return rg_glc_server() != NULL; /* every screen renders on the server */
}

static void *glx_dispatch_address(const GLubyte *name)
{
    return NULL;
}

static void glx_set_dispatch_index(const GLubyte *name, int index) {}

__attribute__((visibility("default"))) Bool __glx_Main(uint32_t version,
                                                       const __GLXapiExports *exports,
                                                       __GLXvendorInfo *vendor,
                                                       __GLXapiImports *imports)
{
    if (GLX_VENDOR_ABI_GET_MAJOR_VERSION(version) != GLX_VENDOR_ABI_MAJOR_VERSION) return False;
    imports->isScreenSupported = glx_screen_supported;
    imports->getProcAddress = glx_proc;
    imports->getDispatchAddress = glx_dispatch_address;
    imports->setDispatchIndex = glx_set_dispatch_index;
    return True;
}
