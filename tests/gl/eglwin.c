/* eglwin.c — an EGL (X11 platform) + GLES2 program that draws one static
 * frame into an X window (the config's native visual), swaps, and reads the
 * window back from the X server with XGetImage into a binary PPM (argv[1]):
 * run on local llvmpipe and through rgpu the images must match
 * (tests/gl/run-pbuffer.sh under tests/gl/with-xvfb.sh).
 * Exit 77 without an X display or a window config. */
#include <EGL/egl.h>
#include <GLES2/gl2.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>

#include "gltest.h"

#define W 150
#define H 100

static const char *vs = "attribute vec2 pos; attribute vec3 col; varying vec3 c;\n"
                        "void main() { c = col; gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char *fs = "precision mediump float; varying vec3 c;\n"
                        "void main() { gl_FragColor = vec4(c, 1.0); }\n";

int main(int argc, char **argv)
{
    Display *x = XOpenDisplay(NULL);
    if (!x) {
        printf("SKIP: no X display\n");
        return 77;
    }
    EGLDisplay d = eglGetDisplay((EGLNativeDisplayType)x);
    EGLint ma, mi, n = 0, vid = 0;
    EGLConfig cfg;
    static const EGLint want[] = {EGL_SURFACE_TYPE,
                                  EGL_WINDOW_BIT,
                                  EGL_RENDERABLE_TYPE,
                                  EGL_OPENGL_ES2_BIT,
                                  EGL_RED_SIZE,
                                  8,
                                  EGL_GREEN_SIZE,
                                  8,
                                  EGL_BLUE_SIZE,
                                  8,
                                  EGL_NONE};
    if (d == EGL_NO_DISPLAY || !eglInitialize(d, &ma, &mi) ||
        !eglChooseConfig(d, want, &cfg, 1, &n) || n < 1 ||
        !eglGetConfigAttrib(d, cfg, EGL_NATIVE_VISUAL_ID, &vid)) {
        printf("SKIP: no EGL window config on this X display\n");
        return 77;
    }
    XVisualInfo tmpl = {.visualid = (VisualID)vid}, *vi;
    int nv = 0;
    if (!(vi = XGetVisualInfo(x, VisualIDMask, &tmpl, &nv))) {
        printf("FAIL: the config's native visual 0x%x is not the X server's\n", vid);
        return 1;
    }
    Window win = gltest_x_window(x, vi, W, H, 0);
    static const EGLint ca[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
    eglBindAPI(EGL_OPENGL_ES_API);
    EGLContext ctx = eglCreateContext(d, cfg, EGL_NO_CONTEXT, ca);
    EGLSurface s = eglCreateWindowSurface(d, cfg, (EGLNativeWindowType)win, NULL);
    if (ctx == EGL_NO_CONTEXT || s == EGL_NO_SURFACE || !eglMakeCurrent(d, s, s, ctx)) {
        printf("FAIL: EGL window context (0x%x)\n", eglGetError());
        return 1;
    }
    static const GLfloat v[] = {-0.8f, -0.7f, 1, 0, 0, 0.9f, -0.5f, 0, 1, 0, 0.1f, 0.9f, 0, 0, 1};
    GLuint prog = glCreateProgram(), vbo;
    glAttachShader(prog, gltest_shader(GL_VERTEX_SHADER, vs));
    glAttachShader(prog, gltest_shader(GL_FRAGMENT_SHADER, fs));
    glBindAttribLocation(prog, 0, "pos");
    glBindAttribLocation(prog, 1, "col");
    glLinkProgram(prog);
    glUseProgram(prog);
    glGenBuffers(1, &vbo);
    glBindBuffer(GL_ARRAY_BUFFER, vbo);
    glBufferData(GL_ARRAY_BUFFER, sizeof v, v, GL_STATIC_DRAW);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 5 * sizeof(GLfloat), (void *)0);
    glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, 5 * sizeof(GLfloat),
                          (void *)(2 * sizeof(GLfloat)));
    glEnableVertexAttribArray(0);
    glEnableVertexAttribArray(1);
    glViewport(0, 0, W, H);
    glClearColor(0.3f, 0.3f, 0.3f, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    glDrawArrays(GL_TRIANGLES, 0, 3);
    eglSwapBuffers(d, s);
    eglWaitClient();
    XSync(x, False);
    GLenum err = glGetError();
    XImage *img = XGetImage(x, win, 0, 0, W, H, AllPlanes, ZPixmap);
    if (err != GL_NO_ERROR || !img) {
        printf("FAIL: GL error 0x%x, image %p\n", err, (void *)img);
        return 1;
    }
    if (argc > 1 && gltest_ppm_ximage(argv[1], img, W, H) != 0) return 1;
    XDestroyImage(img);
    eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglTerminate(d);
    XCloseDisplay(x);
    printf("OK\n");
    return 0;
}
