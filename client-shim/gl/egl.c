/* egl.c — libEGL_rgpu.so.0, a GLVND EGL vendor library (docs/gl.md): the
 * surfaceless platform (and eglGetDisplay(EGL_DEFAULT_DISPLAY)) with pbuffers,
 * configs from the server's display, contexts and surfaces minted here and
 * created on the server in the thread's command stream, fence syncs, and the
 * GL entry points (GL ES and desktop GL) libglvnd asks for by name. X11
 * windows are next. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <glvnd/libeglabi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glc.h"
#include "glc_x11.h"

#define MAGIC_SURF 0x52475366u /* "RGSf" */
#define MAGIC_SYNC 0x52475379u

static const __EGLapiExports *X;
static __thread EGLint last_error = EGL_SUCCESS;

struct glc_config {
    EGLint a[RG_GL_NCONFIG_ATTR]; /* in the order of server/gl/gl_egl.c config_attrs */
};

struct glc_surf {
    uint32_t magic, id;
    EGLint w, h;
    struct glc_config *cfg;
    int destroyed;
    Window win; /* X11 window surfaces: frames go there */
    struct glc_frame frame;
};

struct glc_sync {
    uint32_t magic;
    EGLenum type;
    int signaled;
};

static struct {
    pthread_mutex_t mu;
    int inited;
    struct glc_config *cfg;
    EGLint ncfg;
} D = {.mu = PTHREAD_MUTEX_INITIALIZER};
static int the_display; /* its address is the surfaceless / default EGLDisplay */
#define DPY ((EGLDisplay)&the_display)
/* The X11 platform's display: one X connection per process for now. */
static struct {
    Display *x;
    VisualID vid; /* the screen's 24-bit TrueColor visual: every config's */
} XD;
#define DPYX ((EGLDisplay)&XD)

static EGLBoolean fail(EGLint e)
{
    last_error = e;
    return EGL_FALSE;
}

static EGLBoolean ok(void)
{
    last_error = EGL_SUCCESS;
    return EGL_TRUE;
}

static int check_dpy(EGLDisplay dpy)
{
    if (dpy != DPY && dpy != DPYX) return fail(EGL_BAD_DISPLAY), 0;
    if (!D.inited || (dpy == DPYX && !XD.vid)) return fail(EGL_NOT_INITIALIZED), 0;
    return 1;
}

static struct glc_config *config_of(EGLConfig c)
{
    struct glc_config *p = c;
    return D.cfg && p >= D.cfg && p < D.cfg + D.ncfg ? p : NULL;
}

/* ---- display -------------------------------------------------------------------------------- */

static EGLDisplay vendor_platform_display(EGLenum platform, void *native, const EGLAttrib *attrs)
{
    if (platform == EGL_PLATFORM_SURFACELESS_MESA && native == NULL) return DPY;
    if (platform == EGL_NONE && native == EGL_DEFAULT_DISPLAY) return DPY;
    if (platform == EGL_PLATFORM_X11_KHR && native && (!XD.x || XD.x == native)) {
        XD.x = native;
        return DPYX;
    }
    if (platform == EGL_PLATFORM_X11_KHR && !native) { /* EGL_DEFAULT_DISPLAY: $DISPLAY */
        if (!XD.x && !rg_glc_x11()) XD.x = RG_X11.OpenDisplay(NULL);
        return XD.x ? DPYX : EGL_NO_DISPLAY;
    }
    return EGL_NO_DISPLAY;
}

/* The config table from the server, with the surface types FBOs give. */
static int fetch_info(void)
{
    const struct glc_server *sv = rg_glc_server();
    if (!sv || !(D.cfg = calloc(sv->ncfg ? sv->ncfg : 1, sizeof *D.cfg))) return -1;
    for (uint32_t i = 0; i < sv->ncfg; i++) {
        memcpy(D.cfg[i].a, sv->cfg[i], sizeof D.cfg[i].a);
        D.cfg[i].a[C_SURFACE] |= EGL_WINDOW_BIT | EGL_PBUFFER_BIT; /* both are FBOs on the server */
    }
    D.ncfg = (EGLint)sv->ncfg;
    return 0;
}

static EGLBoolean rg_eglInitialize(EGLDisplay dpy, EGLint *major, EGLint *minor)
{
    if (dpy != DPY && dpy != DPYX) return fail(EGL_BAD_DISPLAY);
    if (dpy == DPYX && !XD.vid) { /* windows take the screen's TrueColor visual */
        XVisualInfo vi;
        if (rg_glc_x11() || !RG_X11.MatchVisualInfo(XD.x, DefaultScreen(XD.x), 24, TrueColor, &vi))
            return fail(EGL_NOT_INITIALIZED);
        XD.vid = vi.visualid;
    }
    pthread_mutex_lock(&D.mu);
    if (!D.inited && (D.cfg || !fetch_info())) /* D.cfg: again after eglTerminate */
        D.inited = 1;
    int inited = D.inited;
    pthread_mutex_unlock(&D.mu);
    if (!inited) return fail(EGL_NOT_INITIALIZED);
    if (major) *major = 1;
    if (minor) *minor = 5;
    return ok();
}

static EGLBoolean rg_eglTerminate(EGLDisplay dpy)
{
    if (dpy != DPY && dpy != DPYX) return fail(EGL_BAD_DISPLAY);
    D.inited = 0; /* handles stay valid for what is current (EGL 1.5 3.2) */
    return ok();
}

static const char *rg_eglQueryString(EGLDisplay dpy, EGLint name)
{
    if (dpy == EGL_NO_DISPLAY && name == EGL_EXTENSIONS) return ""; /* platforms: vendor_string */
    if (!check_dpy(dpy)) return NULL;
    switch (name) {
    case EGL_VENDOR:
        return "rgpu";
    case EGL_VERSION:
        return "1.5 rgpu";
    case EGL_CLIENT_APIS:
        return "OpenGL OpenGL_ES";
    case EGL_EXTENSIONS:
        return "EGL_KHR_create_context EGL_KHR_no_config_context EGL_KHR_surfaceless_context "
               "EGL_KHR_fence_sync EGL_KHR_reusable_sync";
    default:
        fail(EGL_BAD_PARAMETER);
        return NULL;
    }
}

/* ---- configs ------------------------------------------------------------------------------- */

static EGLBoolean rg_eglGetConfigs(EGLDisplay dpy, EGLConfig *configs, EGLint size, EGLint *num)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    if (!num) return fail(EGL_BAD_PARAMETER);
    EGLint n = configs ? (size < D.ncfg ? size : D.ncfg) : D.ncfg;
    for (EGLint i = 0; configs && i < n; i++)
        configs[i] = &D.cfg[i];
    *num = n < 0 ? 0 : n;
    return ok();
}

/* The server's eglChooseConfig decides (its matching and sort order are the
 * real ones); the attribute list travels as it is. On the X11 display a
 * config that may draw to windows must fit the 24-bit visual: 8-bit colour. */
static EGLBoolean rg_eglChooseConfig(EGLDisplay dpy, const EGLint *attrs, EGLConfig *configs,
                                     EGLint size, EGLint *num)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    if (!num) return fail(EGL_BAD_PARAMETER);
    uint32_t n = 0;
    int windows = 1; /* EGL_SURFACE_TYPE defaults to EGL_WINDOW_BIT */
    while (attrs && attrs[2 * n] != EGL_NONE && n < 64) {
        if (attrs[2 * n] == EGL_SURFACE_TYPE && attrs[2 * n + 1] != EGL_DONT_CARE)
            windows = (attrs[2 * n + 1] & EGL_WINDOW_BIT) != 0;
        n++;
    }
    int visual24 = dpy == DPYX && windows;
    rpc_wbuf *w = rg_glc_enc();
    rpc_put_u32(w, RG_WS_CHOOSE_CONFIG);
    rpc_put_u32(w, n);
    for (uint32_t i = 0; i < 2 * n; i++)
        rpc_put_u32(w, (uint32_t)attrs[i]);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return fail(EGL_BAD_ALLOC);
    EGLint m = 0;
    for (size_t i = 0; i + 4 <= r.raw_len; i += 4) {
        EGLint id;
        memcpy(&id, r.raw + i, 4);
        for (EGLint k = 0; k < D.ncfg; k++) {
            if (D.cfg[k].a[C_ID] != id) continue;
            if (visual24 &&
                (D.cfg[k].a[C_RED] != 8 || D.cfg[k].a[C_GREEN] != 8 || D.cfg[k].a[C_BLUE] != 8))
                continue;
            if (configs && m < size) configs[m] = &D.cfg[k];
            if (configs && m >= size) break;
            m++;
        }
    }
    rg_glc_reply_free(&r);
    *num = configs && m > size ? size : m;
    return ok();
}

static EGLBoolean rg_eglGetConfigAttrib(EGLDisplay dpy, EGLConfig config, EGLint attr,
                                        EGLint *value)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_config *c = config_of(config);
    if (!c) return fail(EGL_BAD_CONFIG);
    if (!value) return fail(EGL_BAD_PARAMETER);
    static const EGLint order[RG_GL_NCONFIG_ATTR] = {
        EGL_CONFIG_ID,  EGL_BUFFER_SIZE,    EGL_RED_SIZE,          EGL_GREEN_SIZE,
        EGL_BLUE_SIZE,  EGL_ALPHA_SIZE,     EGL_DEPTH_SIZE,        EGL_STENCIL_SIZE,
        EGL_SAMPLES,    EGL_SAMPLE_BUFFERS, EGL_SURFACE_TYPE,      EGL_RENDERABLE_TYPE,
        EGL_CONFORMANT, EGL_CONFIG_CAVEAT,  EGL_COLOR_BUFFER_TYPE, EGL_LEVEL};
    for (int k = 0; k < RG_GL_NCONFIG_ATTR; k++)
        if (order[k] == attr) return *value = c->a[k], ok();
    switch (attr) {
    case EGL_MAX_PBUFFER_WIDTH:
    case EGL_MAX_PBUFFER_HEIGHT:
        *value = 16384;
        break;
    case EGL_MAX_PBUFFER_PIXELS:
        *value = 16384 * 16384;
        break;
    case EGL_NATIVE_RENDERABLE:
    case EGL_BIND_TO_TEXTURE_RGB:
    case EGL_BIND_TO_TEXTURE_RGBA:
        *value = EGL_FALSE;
        break;
    case EGL_NATIVE_VISUAL_ID:
        *value = dpy == DPYX ? (EGLint)XD.vid : 0;
        break;
    case EGL_NATIVE_VISUAL_TYPE:
        *value = dpy == DPYX ? TrueColor : EGL_NONE;
        break;
    case EGL_LUMINANCE_SIZE:
    case EGL_ALPHA_MASK_SIZE:
    case EGL_MIN_SWAP_INTERVAL:
    case EGL_TRANSPARENT_RED_VALUE:
    case EGL_TRANSPARENT_GREEN_VALUE:
    case EGL_TRANSPARENT_BLUE_VALUE:
        *value = 0;
        break;
    case EGL_MAX_SWAP_INTERVAL:
        *value = 1;
        break;
    case EGL_TRANSPARENT_TYPE:
        *value = EGL_NONE;
        break;
    default:
        return fail(EGL_BAD_ATTRIBUTE);
    }
    return ok();
}

/* ---- contexts ------------------------------------------------------------------------------ */

static struct glc_ctx *ctx_of(EGLContext c)
{
    struct glc_ctx *p = c;
    return p && p->magic == GLC_CTX_MAGIC ? p : NULL;
}

static EGLContext rg_eglCreateContext(EGLDisplay dpy, EGLConfig config, EGLContext share,
                                      const EGLint *attrs)
{
    if (!check_dpy(dpy)) return EGL_NO_CONTEXT;
    EGLenum api = X->getCurrentApi();
    if (api != EGL_OPENGL_ES_API && api != EGL_OPENGL_API)
        return fail(EGL_BAD_MATCH), EGL_NO_CONTEXT;
    struct glc_config *cfg = config ? config_of(config) : NULL;
    if (config && !cfg) return fail(EGL_BAD_CONFIG), EGL_NO_CONTEXT;
    struct glc_ctx *sh = share ? ctx_of(share) : NULL;
    if (share && !sh) return fail(EGL_BAD_CONTEXT), EGL_NO_CONTEXT;
    EGLint major = 1, minor = 0, flags = 0, profile = 0;
    for (int i = 0; attrs && attrs[i] != EGL_NONE; i += 2) {
        switch (attrs[i]) {
        case EGL_CONTEXT_MAJOR_VERSION:
            major = attrs[i + 1];
            break;
        case EGL_CONTEXT_MINOR_VERSION:
            minor = attrs[i + 1];
            break;
        case EGL_CONTEXT_OPENGL_DEBUG:
            flags |= attrs[i + 1] ? 1 : 0;
            break;
        case EGL_CONTEXT_FLAGS_KHR:
            flags |= attrs[i + 1] & 1;
            break;
        case EGL_CONTEXT_OPENGL_PROFILE_MASK:
            profile = attrs[i + 1];
            break;
        case EGL_CONTEXT_OPENGL_ROBUST_ACCESS:
        case EGL_CONTEXT_OPENGL_RESET_NOTIFICATION_STRATEGY:
            break;
        default:
            return fail(EGL_BAD_ATTRIBUTE), EGL_NO_CONTEXT;
        }
    }
    if (major < 1 || major > (api == EGL_OPENGL_API ? 4 : 3) || minor < 0 || minor > 6)
        return fail(EGL_BAD_MATCH), EGL_NO_CONTEXT;
    struct glc_ctx *c = rg_glc_ctx_create(
        api, major, minor, flags, api == EGL_OPENGL_API ? profile : 0, sh, cfg ? cfg->a[C_ID] : 0);
    if (!c) return fail(EGL_BAD_MATCH), EGL_NO_CONTEXT;
    c->dpy = dpy;
    c->config = cfg;
    ok();
    return c;
}

static EGLBoolean rg_eglDestroyContext(EGLDisplay dpy, EGLContext ctx)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_ctx *c = ctx_of(ctx);
    if (!c || c->destroyed) return fail(EGL_BAD_CONTEXT);
    rg_glc_ctx_destroy(c);
    return ok();
}

static EGLBoolean rg_eglQueryContext(EGLDisplay dpy, EGLContext ctx, EGLint attr, EGLint *value)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_ctx *c = ctx_of(ctx);
    if (!c) return fail(EGL_BAD_CONTEXT);
    if (!value) return fail(EGL_BAD_PARAMETER);
    switch (attr) {
    case EGL_CONFIG_ID:
        *value = c->config ? ((struct glc_config *)c->config)->a[C_ID] : 0;
        break;
    case EGL_CONTEXT_CLIENT_TYPE:
        *value = c->api;
        break;
    case EGL_CONTEXT_CLIENT_VERSION:
        *value = c->major;
        break;
    case EGL_RENDER_BUFFER:
        *value = c->draw ? EGL_BACK_BUFFER : EGL_NONE;
        break;
    default:
        return fail(EGL_BAD_ATTRIBUTE);
    }
    return ok();
}

/* ---- surfaces ------------------------------------------------------------------------------ */

static struct glc_surf *surf_of(EGLSurface s)
{
    struct glc_surf *p = s;
    return p && p->magic == MAGIC_SURF ? p : NULL;
}

static EGLSurface rg_eglCreatePbufferSurface(EGLDisplay dpy, EGLConfig config, const EGLint *attrs)
{
    if (!check_dpy(dpy)) return EGL_NO_SURFACE;
    struct glc_config *cfg = config_of(config);
    if (!cfg) return fail(EGL_BAD_CONFIG), EGL_NO_SURFACE;
    EGLint w = 0, h = 0;
    for (int i = 0; attrs && attrs[i] != EGL_NONE; i += 2) {
        switch (attrs[i]) {
        case EGL_WIDTH:
            w = attrs[i + 1];
            break;
        case EGL_HEIGHT:
            h = attrs[i + 1];
            break;
        case EGL_LARGEST_PBUFFER:
        case EGL_TEXTURE_FORMAT:
        case EGL_TEXTURE_TARGET:
        case EGL_MIPMAP_TEXTURE:
        case EGL_GL_COLORSPACE:
        case EGL_VG_ALPHA_FORMAT:
        case EGL_VG_COLORSPACE:
            break;
        default:
            return fail(EGL_BAD_ATTRIBUTE), EGL_NO_SURFACE;
        }
    }
    if (w < 0 || h < 0) return fail(EGL_BAD_PARAMETER), EGL_NO_SURFACE;
    if (w > 16384 || h > 16384) return fail(EGL_BAD_ALLOC), EGL_NO_SURFACE;
    struct glc_surf *s = calloc(1, sizeof *s);
    if (!s) return fail(EGL_BAD_ALLOC), EGL_NO_SURFACE;
    s->magic = MAGIC_SURF, s->w = w, s->h = h, s->cfg = cfg;
    s->id = rg_glc_surface_create(cfg->a[C_ID], w, h, 0);
    ok();
    return s;
}

static EGLSurface rg_eglCreateWindowSurface(EGLDisplay dpy, EGLConfig config,
                                            EGLNativeWindowType win, const EGLint *attrs)
{
    if (!check_dpy(dpy)) return EGL_NO_SURFACE;
    struct glc_config *cfg = config_of(config);
    if (!cfg) return fail(EGL_BAD_CONFIG), EGL_NO_SURFACE;
    Window root;
    int x, y;
    unsigned w, h, bw, depth;
    if (dpy != DPYX || !win || rg_glc_x11() ||
        !RG_X11.GetGeometry(XD.x, (Window)win, &root, &x, &y, &w, &h, &bw, &depth))
        return fail(EGL_BAD_NATIVE_WINDOW), EGL_NO_SURFACE;
    struct glc_surf *s = calloc(1, sizeof *s);
    if (!s) return fail(EGL_BAD_ALLOC), EGL_NO_SURFACE;
    s->magic = MAGIC_SURF, s->w = (EGLint)w, s->h = (EGLint)h, s->cfg = cfg, s->win = (Window)win;
    s->id = rg_glc_surface_create(cfg->a[C_ID], s->w, s->h, depth == 24 ? RG_SURF_WINDOW24 : 0);
    ok();
    return s;
}

static EGLSurface rg_eglCreatePlatformWindowSurface(EGLDisplay dpy, EGLConfig config, void *native,
                                                    const EGLAttrib *attrs)
{
    /* the X11 platform's native window is a pointer to the Window */
    return rg_eglCreateWindowSurface(dpy, config, native ? *(Window *)native : 0, NULL);
}

static EGLSurface rg_eglCreatePixmapSurface(EGLDisplay dpy, EGLConfig config,
                                            EGLNativePixmapType pix, const EGLint *attrs)
{
    if (!check_dpy(dpy)) return EGL_NO_SURFACE;
    return fail(EGL_BAD_NATIVE_PIXMAP), EGL_NO_SURFACE;
}

static EGLBoolean rg_eglDestroySurface(EGLDisplay dpy, EGLSurface surface)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_surf *s = surf_of(surface);
    if (!s || s->destroyed) return fail(EGL_BAD_SURFACE);
    s->destroyed = 1; /* the handle stays readable: a current context may still name it */
    rg_glc_surface_destroy(s->id);
    return ok();
}

static EGLBoolean rg_eglQuerySurface(EGLDisplay dpy, EGLSurface surface, EGLint attr, EGLint *value)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_surf *s = surf_of(surface);
    if (!s) return fail(EGL_BAD_SURFACE);
    if (!value) return fail(EGL_BAD_PARAMETER);
    switch (attr) {
    case EGL_WIDTH:
        *value = s->w;
        break;
    case EGL_HEIGHT:
        *value = s->h;
        break;
    case EGL_CONFIG_ID:
        *value = s->cfg->a[C_ID];
        break;
    case EGL_LARGEST_PBUFFER:
    case EGL_MIPMAP_TEXTURE:
    case EGL_MIPMAP_LEVEL:
        *value = 0;
        break;
    case EGL_TEXTURE_FORMAT:
    case EGL_TEXTURE_TARGET:
        *value = EGL_NO_TEXTURE;
        break;
    case EGL_RENDER_BUFFER:
        *value = EGL_BACK_BUFFER;
        break;
    case EGL_SWAP_BEHAVIOR:
        *value = EGL_BUFFER_DESTROYED;
        break;
    case EGL_MULTISAMPLE_RESOLVE:
        *value = EGL_MULTISAMPLE_RESOLVE_DEFAULT;
        break;
    case EGL_HORIZONTAL_RESOLUTION:
    case EGL_VERTICAL_RESOLUTION:
    case EGL_PIXEL_ASPECT_RATIO:
        *value = EGL_UNKNOWN;
        break;
    default:
        return fail(EGL_BAD_ATTRIBUTE);
    }
    return ok();
}

static EGLBoolean rg_eglSurfaceAttrib(EGLDisplay dpy, EGLSurface surface, EGLint attr, EGLint value)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    return surf_of(surface) ? ok() : fail(EGL_BAD_SURFACE);
}

/* ---- current ---------------------------------------------------------------------------- */

static void egl_follow(struct glc_ctx *c)
{
    struct glc_surf *s = c->draw;
    if (s && s->win) rg_glc_x11_follow(XD.x, s->win, s->cfg->a[C_ID], &s->id, &s->w, &s->h);
}

/* The frames of every swap of this thread's window shown (eglWaitClient, and
 * before its context leaves the window). */
static void frames_wait(int careful)
{
    struct glc_ctx *c = rg_glc_current();
    struct glc_surf *s = c ? c->draw : NULL;
    if (s && s->win && !s->destroyed && XD.x) rg_glc_x11_frames_wait(XD.x, s->win, &s->frame, careful);
}

static EGLBoolean rg_eglMakeCurrent(EGLDisplay dpy, EGLSurface draw, EGLSurface read,
                                    EGLContext ctx)
{
    if (dpy != DPY && dpy != DPYX) return fail(EGL_BAD_DISPLAY);
    struct glc_ctx *c = ctx ? ctx_of(ctx) : NULL, *old = rg_glc_current();
    struct glc_surf *d = draw ? surf_of(draw) : NULL, *r = read ? surf_of(read) : NULL;
    if (ctx && (!c || c->destroyed)) return fail(EGL_BAD_CONTEXT);
    if ((draw && (!d || d->destroyed)) || (read && (!r || r->destroyed)))
        return fail(EGL_BAD_SURFACE);
    if (!c && (draw || read)) return fail(EGL_BAD_MATCH);
    if ((draw == NULL) != (read == NULL)) return fail(EGL_BAD_MATCH);
    if (c && c->current && c != old) return fail(EGL_BAD_ACCESS);
    if (c && !D.inited) return fail(EGL_NOT_INITIALIZED);
    if (old && (old != c || old->draw != d)) frames_wait(1);
    rg_glc_make_current(c, d ? d->id : 0, r ? r->id : 0, d, r);
    if (c) c->follow = d && d->win ? egl_follow : NULL;
    return ok();
}

static EGLBoolean rg_eglReleaseThread(void)
{
    if (rg_glc_current()) rg_eglMakeCurrent(DPY, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    return ok();
}

static EGLBoolean rg_eglSwapBuffers(EGLDisplay dpy, EGLSurface surface)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_surf *s = surf_of(surface);
    if (!s || s->destroyed) return fail(EGL_BAD_SURFACE);
    struct glc_ctx *c = rg_glc_current();
    if (!c || c->draw != s) return fail(EGL_BAD_SURFACE);
    if (s->win) {
        rg_glc_x11_present(XD.x, s->win, s->id, &s->frame);
        egl_follow(c);
    } else
        rg_glc_flush(); /* a pbuffer has nothing to show */
    return ok();
}

static EGLBoolean rg_eglSwapInterval(EGLDisplay dpy, EGLint interval)
{
    return check_dpy(dpy) ? ok() : EGL_FALSE;
}

static EGLBoolean rg_eglWaitClient(void)
{
    rg_glc_finish();
    frames_wait(0); /* native (X) requests after this see every frame swapped before */
    return ok();
}

static EGLBoolean rg_eglWaitNative(EGLint engine)
{
    return ok();
}

static EGLBoolean rg_eglBindAPI(EGLenum api)
{
    return api == EGL_OPENGL_ES_API || api == EGL_OPENGL_API ? ok() : fail(EGL_BAD_PARAMETER);
}

static EGLint rg_eglGetError(void)
{
    EGLint e = last_error;
    last_error = EGL_SUCCESS;
    return e;
}

static EGLBoolean rg_eglCopyBuffers(EGLDisplay dpy, EGLSurface s, EGLNativePixmapType p)
{
    return check_dpy(dpy) ? fail(EGL_BAD_NATIVE_PIXMAP) : EGL_FALSE;
}

static EGLBoolean rg_eglBindTexImage(EGLDisplay dpy, EGLSurface s, EGLint buffer)
{
    return check_dpy(dpy) ? fail(EGL_BAD_MATCH) : EGL_FALSE;
}

static EGLBoolean rg_eglReleaseTexImage(EGLDisplay dpy, EGLSurface s, EGLint buffer)
{
    return check_dpy(dpy) ? fail(EGL_BAD_MATCH) : EGL_FALSE;
}

static EGLSurface rg_eglCreatePbufferFromClientBuffer(EGLDisplay dpy, EGLenum type,
                                                      EGLClientBuffer buf, EGLConfig config,
                                                      const EGLint *attrs)
{
    if (check_dpy(dpy)) fail(EGL_BAD_PARAMETER);
    return EGL_NO_SURFACE;
}

/* ---- fence syncs: signalled once the server finished what came before ---------------- */

static struct glc_sync *sync_of(EGLSync s)
{
    struct glc_sync *p = s;
    return p && p->magic == MAGIC_SYNC ? p : NULL;
}

static EGLSync rg_eglCreateSync(EGLDisplay dpy, EGLenum type, const EGLAttrib *attrs)
{
    if (!check_dpy(dpy)) return EGL_NO_SYNC;
    if (type != EGL_SYNC_FENCE) return fail(EGL_BAD_ATTRIBUTE), EGL_NO_SYNC;
    if (attrs && attrs[0] != EGL_NONE) return fail(EGL_BAD_ATTRIBUTE), EGL_NO_SYNC;
    if (!rg_glc_current()) return fail(EGL_BAD_MATCH), EGL_NO_SYNC;
    struct glc_sync *s = calloc(1, sizeof *s);
    if (!s) return fail(EGL_BAD_ALLOC), EGL_NO_SYNC;
    s->magic = MAGIC_SYNC;
    s->type = type;
    rg_glc_flush();
    ok();
    return s;
}

static EGLSyncKHR rg_eglCreateSyncKHR(EGLDisplay dpy, EGLenum type, const EGLint *attrs)
{
    if (attrs && attrs[0] != EGL_NONE)
        return check_dpy(dpy) ? (fail(EGL_BAD_ATTRIBUTE), EGL_NO_SYNC) : EGL_NO_SYNC;
    return rg_eglCreateSync(dpy, type, NULL);
}

static EGLBoolean rg_eglDestroySync(EGLDisplay dpy, EGLSync sync)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_sync *s = sync_of(sync);
    if (!s) return fail(EGL_BAD_PARAMETER);
    s->magic = 0;
    free(s);
    return ok();
}

static EGLint rg_eglClientWaitSync(EGLDisplay dpy, EGLSync sync, EGLint flags, EGLTime timeout)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_sync *s = sync_of(sync);
    if (!s) return fail(EGL_BAD_PARAMETER), EGL_FALSE;
    if (!s->signaled) { /* a poll (timeout 0) too: one round trip answers it */
        rg_glc_finish();
        s->signaled = 1;
    }
    ok();
    return EGL_CONDITION_SATISFIED;
}

static EGLBoolean rg_eglGetSyncAttrib(EGLDisplay dpy, EGLSync sync, EGLint attr, EGLAttrib *value)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    struct glc_sync *s = sync_of(sync);
    if (!s) return fail(EGL_BAD_PARAMETER);
    if (!value) return fail(EGL_BAD_PARAMETER);
    switch (attr) {
    case EGL_SYNC_TYPE:
        *value = s->type;
        break;
    case EGL_SYNC_CONDITION:
        *value = EGL_SYNC_PRIOR_COMMANDS_COMPLETE;
        break;
    case EGL_SYNC_STATUS:
        if (!s->signaled) rg_glc_finish(), s->signaled = 1;
        *value = EGL_SIGNALED;
        break;
    default:
        return fail(EGL_BAD_ATTRIBUTE);
    }
    return ok();
}

static EGLBoolean rg_eglGetSyncAttribKHR(EGLDisplay dpy, EGLSync sync, EGLint attr, EGLint *value)
{
    EGLAttrib v = 0;
    if (!rg_eglGetSyncAttrib(dpy, sync, attr, value ? &v : NULL)) return EGL_FALSE;
    *value = (EGLint)v;
    return EGL_TRUE;
}

static EGLBoolean rg_eglWaitSync(EGLDisplay dpy, EGLSync sync, EGLint flags)
{
    if (!check_dpy(dpy)) return EGL_FALSE;
    return sync_of(sync) ? ok() : fail(EGL_BAD_PARAMETER); /* the stream is in order already */
}

/* ---- the vendor ABI -------------------------------------------------------------------------- */

static const struct {
    const char *name;
    void *fn;
} egl_procs[] = {
#define P(f)                                                                                       \
    {                                                                                              \
#f, (void *)rg_##f                                                                         \
    }
    P(eglBindAPI),
    P(eglBindTexImage),
    P(eglChooseConfig),
    P(eglClientWaitSync),
    P(eglCopyBuffers),
    P(eglCreateContext),
    P(eglCreatePbufferSurface),
    P(eglCreatePixmapSurface),
    P(eglCreateSync),
    P(eglCreateWindowSurface),
    P(eglDestroyContext),
    P(eglDestroySurface),
    P(eglDestroySync),
    P(eglGetConfigAttrib),
    P(eglGetConfigs),
    P(eglGetError),
    P(eglGetSyncAttrib),
    P(eglInitialize),
    P(eglMakeCurrent),
    P(eglQueryContext),
    P(eglQueryString),
    P(eglQuerySurface),
    P(eglReleaseThread),
    P(eglSurfaceAttrib),
    P(eglSwapBuffers),
    P(eglSwapInterval),
    P(eglTerminate),
    P(eglWaitClient),
    P(eglWaitNative),
    P(eglWaitSync),
    P(eglCreateSyncKHR),
    P(eglGetSyncAttribKHR),
    P(eglReleaseTexImage),
    P(eglCreatePbufferFromClientBuffer),
    P(eglCreatePlatformWindowSurface),
#undef P
    {"eglWaitGL", (void *)rg_eglWaitClient},
    {"eglDestroySyncKHR", (void *)rg_eglDestroySync},
    {"eglClientWaitSyncKHR", (void *)rg_eglClientWaitSync},
};

static void *vendor_proc(const char *name)
{
    if (name[0] == 'e')
        for (size_t i = 0; i < sizeof egl_procs / sizeof *egl_procs; i++)
            if (!strcmp(egl_procs[i].name, name)) return egl_procs[i].fn;
    return (void *)rg_glc_proc(name);
}

static EGLBoolean vendor_supports_api(EGLenum api)
{
    return api == EGL_OPENGL_ES_API || api == EGL_OPENGL_API;
}

static const char *vendor_string(int name)
{
    return name == __EGL_VENDOR_STRING_PLATFORM_EXTENSIONS
               ? "EGL_EXT_platform_base EGL_MESA_platform_surfaceless EGL_EXT_platform_x11 "
                 "EGL_KHR_platform_x11"
               : NULL;
}

static void *vendor_dispatch_address(const char *name)
{
    return NULL; /* display extension functions of our own: none yet */
}

static void vendor_set_dispatch_index(const char *name, int index) {}

__attribute__((visibility("default"))) EGLBoolean __egl_Main(uint32_t version,
                                                             const __EGLapiExports *exports,
                                                             __EGLvendorInfo *vendor,
                                                             __EGLapiImports *imports)
{
    if (EGL_VENDOR_ABI_GET_MAJOR_VERSION(version) != EGL_VENDOR_ABI_MAJOR_VERSION) return EGL_FALSE;
    X = exports;
    memset(imports, 0, sizeof *imports);
    imports->getPlatformDisplay = vendor_platform_display;
    imports->getSupportsAPI = vendor_supports_api;
    imports->getVendorString = vendor_string;
    imports->getProcAddress = vendor_proc;
    imports->getDispatchAddress = vendor_dispatch_address;
    imports->setDispatchIndex = vendor_set_dispatch_index;
    return EGL_TRUE;
}
