/* gltest.h — what the GL image programs (pbuffer.c, es3.c, fixedfn.c, eglwin.c,
 * glxwin.c) share: CHECK, the EGL display and config they pick, shader
 * compiling, and the PPM they write for run-pbuffer.sh to compare. Include it
 * after the EGL / GL / X11 headers: each part is there when its API is. */
#ifndef RG_GLTEST_H
#define RG_GLTEST_H

#include <stdio.h>
#include <string.h>

static int fails __attribute__((unused));
#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

/* Writes w x h RGBA rows read back with glReadPixels (bottom row first) as a
 * binary PPM, top row first. 0, or -1 if path cannot be written. */
static inline int gltest_ppm_rgba(const char *path, const unsigned char *px, int w, int h)
{
    FILE *o = fopen(path, "wb");
    if (!o) return -1;
    fprintf(o, "P6\n%d %d\n255\n", w, h);
    for (int y = h - 1; y >= 0; y--)
        for (int x = 0; x < w; x++)
            fwrite(px + ((size_t)y * w + x) * 4, 1, 3, o);
    fclose(o);
    return 0;
}

#ifdef EGL_EXT_platform_base
/* The surfaceless platform where there is one, else the default display. */
static inline EGLDisplay gltest_egl_display(void)
{
    PFNEGLGETPLATFORMDISPLAYEXTPROC gpd =
        (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    const char *cx = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    EGLDisplay d = EGL_NO_DISPLAY;
    if (gpd && cx && strstr(cx, "EGL_MESA_platform_surfaceless"))
        d = gpd(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    return d == EGL_NO_DISPLAY ? eglGetDisplay(EGL_DEFAULT_DISPLAY) : d;
}
#endif

#ifdef EGL_VERSION_1_0

/* The first config of `want` whose colour is exactly 8/8/8/8 without
 * multisampling: the same one locally and through rgpu. NULL if none. */
static inline EGLConfig gltest_rgba8(EGLDisplay d, const EGLint *want)
{
    EGLConfig cfg[256];
    EGLint n = 0;
    if (!eglChooseConfig(d, want, cfg, 256, &n)) return NULL;
    for (EGLint i = 0; i < n; i++) {
        EGLint r, g, b, a, samples;
        eglGetConfigAttrib(d, cfg[i], EGL_RED_SIZE, &r);
        eglGetConfigAttrib(d, cfg[i], EGL_GREEN_SIZE, &g);
        eglGetConfigAttrib(d, cfg[i], EGL_BLUE_SIZE, &b);
        eglGetConfigAttrib(d, cfg[i], EGL_ALPHA_SIZE, &a);
        eglGetConfigAttrib(d, cfg[i], EGL_SAMPLES, &samples);
        if (r == 8 && g == 8 && b == 8 && a == 8 && samples == 0) return cfg[i];
    }
    return NULL;
}
#endif

#ifdef GL_ES_VERSION_2_0
/* A compiled shader; a compile error is a CHECK failure with the log. */
static inline GLuint gltest_shader(GLenum type, const char *src)
{
    GLuint s = glCreateShader(type);
    GLint ok = 0;
    glShaderSource(s, 1, &src, NULL);
    glCompileShader(s);
    glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetShaderInfoLog(s, sizeof log, NULL, log);
        CHECK(0, "shader does not compile: %s", log);
    }
    return s;
}
#endif

#ifdef X_PROTOCOL
/* A w x h window of visual vi, mapped (waits for MapNotify); events: mask. */
static inline Window gltest_x_window(Display *x, const XVisualInfo *vi, int w, int h, long mask)
{
    Window root = RootWindow(x, vi->screen);
    XSetWindowAttributes swa = {.colormap = XCreateColormap(x, root, vi->visual, AllocNone),
                                .event_mask = StructureNotifyMask | mask};
    Window win = XCreateWindow(x, root, 0, 0, (unsigned)w, (unsigned)h, 0, vi->depth, InputOutput,
                               vi->visual, CWColormap | CWEventMask, &swa);
    XMapWindow(x, win);
    for (XEvent e;;) { /* drawn once it is on the screen */
        XNextEvent(x, &e);
        if (e.type == MapNotify) break;
    }
    return win;
}

/* Writes an image read back from the X server (XGetImage, ZPixmap) as a binary
 * PPM. 0, or -1 if path cannot be written. */
static inline int gltest_ppm_ximage(const char *path, XImage *img, int w, int h)
{
    FILE *o = fopen(path, "wb");
    if (!o) return -1;
    fprintf(o, "P6\n%d %d\n255\n", w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned long p = XGetPixel(img, x, y);
            unsigned char rgb[3] = {(unsigned char)(p >> 16), (unsigned char)(p >> 8),
                                    (unsigned char)p};
            fwrite(rgb, 1, 3, o);
        }
    fclose(o);
    return 0;
}
#endif

#endif
