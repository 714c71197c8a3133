/* fixedfn.c — a headless desktop GL (compatibility) program in the style of
 * glxgears, for the local-versus-rgpu image comparison (run-pbuffer.sh): an
 * EGL desktop GL context on a pbuffer, lighting and materials, flat shading,
 * depth test, a perspective frustum and the matrix stack, toothed wheels
 * built with glBegin/glEnd into display lists and drawn rotated with
 * glCallList; read back with glReadPixels into argv[1].
 * Exit 77 without a desktop GL context. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <GL/glext.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gltest.h"

#define W 120
#define H 90

/* One wheel: a ring of `teeth` blocky teeth between radii r0 and r1, depth d. */
static void wheel(float r0, float r1, float d, int teeth)
{
    float step = 2.0f * (float)M_PI / (float)teeth, z = d * 0.5f;
    glNormal3f(0, 0, 1);
    glBegin(GL_QUADS);
    for (int i = 0; i < teeth; i++) {
        float a0 = (float)i * step, a1 = a0 + step * 0.5f;
        glVertex3f(r0 * cosf(a0), r0 * sinf(a0), z);
        glVertex3f(r1 * cosf(a0), r1 * sinf(a0), z);
        glVertex3f(r1 * cosf(a1), r1 * sinf(a1), z);
        glVertex3f(r0 * cosf(a1), r0 * sinf(a1), z);
        float a2 = a1 + step * 0.5f;
        glVertex3f(r0 * cosf(a1), r0 * sinf(a1), z);
        glVertex3f(r0 * 1.2f * cosf(a1), r0 * 1.2f * sinf(a1), z);
        glVertex3f(r0 * 1.2f * cosf(a2), r0 * 1.2f * sinf(a2), z);
        glVertex3f(r0 * cosf(a2), r0 * sinf(a2), z);
    }
    glEnd();
    glBegin(GL_QUAD_STRIP); /* the outer side, lit by its normals */
    for (int i = 0; i <= teeth; i++) {
        float a = (float)i * step;
        glNormal3f(cosf(a), sinf(a), 0);
        glVertex3f(r1 * cosf(a), r1 * sinf(a), z);
        glVertex3f(r1 * cosf(a), r1 * sinf(a), -z);
    }
    glEnd();
}

int main(int argc, char **argv)
{
    EGLDisplay d = gltest_egl_display();
    EGLint ma, mi;
    static const EGLint want[] = {EGL_SURFACE_TYPE,
                                  EGL_PBUFFER_BIT,
                                  EGL_RENDERABLE_TYPE,
                                  EGL_OPENGL_BIT,
                                  EGL_RED_SIZE,
                                  8,
                                  EGL_GREEN_SIZE,
                                  8,
                                  EGL_BLUE_SIZE,
                                  8,
                                  EGL_ALPHA_SIZE,
                                  8,
                                  EGL_DEPTH_SIZE,
                                  16,
                                  EGL_NONE};
    if (d == EGL_NO_DISPLAY || !eglInitialize(d, &ma, &mi) || !eglBindAPI(EGL_OPENGL_API)) {
        printf("SKIP: no EGL display with desktop GL\n");
        return 77;
    }
    EGLConfig pick = gltest_rgba8(d, want);
    static const EGLint pa[] = {EGL_WIDTH, W, EGL_HEIGHT, H, EGL_NONE};
    EGLContext ctx = pick ? eglCreateContext(d, pick, EGL_NO_CONTEXT, NULL) : EGL_NO_CONTEXT;
    if (ctx == EGL_NO_CONTEXT) {
        printf("SKIP: no desktop GL context\n");
        return 77;
    }
    EGLSurface pb = eglCreatePbufferSurface(d, pick, pa);
    if (!eglMakeCurrent(d, pb, pb, ctx)) {
        printf("FAIL: eglMakeCurrent 0x%x\n", eglGetError());
        return 1;
    }
    printf("GL_RENDERER: %s\n", glGetString(GL_RENDERER));

    static const GLfloat light[4] = {5, 5, 10, 0}, red[4] = {0.8f, 0.1f, 0, 1},
                         green[4] = {0, 0.8f, 0.2f, 1}, blue[4] = {0.2f, 0.2f, 1, 1};
    glLightfv(GL_LIGHT0, GL_POSITION, light);
    glEnable(GL_CULL_FACE);
    glEnable(GL_LIGHTING);
    glEnable(GL_LIGHT0);
    glEnable(GL_DEPTH_TEST);
    glShadeModel(GL_FLAT);
    GLuint lists = glGenLists(3);
    const GLfloat *mat[3] = {red, green, blue};
    for (int i = 0; i < 3; i++) {
        glNewList(lists + (GLuint)i, GL_COMPILE);
        glMaterialfv(GL_FRONT, GL_AMBIENT_AND_DIFFUSE, mat[i]);
        wheel(0.6f + 0.3f * (float)i, 1.2f + 0.4f * (float)i, 0.5f, 10 + 4 * i);
        glEndList();
    }
    glViewport(0, 0, W, H);
    glMatrixMode(GL_PROJECTION);
    glLoadIdentity();
    glFrustum(-1.33, 1.33, -1, 1, 5, 60);
    glMatrixMode(GL_MODELVIEW);
    glLoadIdentity();
    glTranslatef(0, 0, -30);
    glClearColor(0.1f, 0.1f, 0.15f, 1);
    glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
    glRotatef(20, 1, 0, 0);
    glRotatef(30, 0, 1, 0);
    static const float at[3][3] = {{-3, -2, 0}, {3.1f, -2, 0}, {-3.1f, 4.2f, 0}};
    for (int i = 0; i < 3; i++) {
        glPushMatrix();
        glTranslatef(at[i][0], at[i][1], at[i][2]);
        glRotatef(17.0f * (float)(i + 1), 0, 0, 1);
        glCallList(lists + (GLuint)i);
        glPopMatrix();
    }
    glDeleteLists(lists, 3);
    /* GL 1.5's whole-buffer mapping: read-write, then read back */
    PFNGLGENBUFFERSPROC gen = (PFNGLGENBUFFERSPROC)eglGetProcAddress("glGenBuffers");
    PFNGLBINDBUFFERPROC bind = (PFNGLBINDBUFFERPROC)eglGetProcAddress("glBindBuffer");
    PFNGLBUFFERDATAPROC data = (PFNGLBUFFERDATAPROC)eglGetProcAddress("glBufferData");
    PFNGLMAPBUFFERPROC mapb = (PFNGLMAPBUFFERPROC)eglGetProcAddress("glMapBuffer");
    PFNGLUNMAPBUFFERPROC unmap = (PFNGLUNMAPBUFFERPROC)eglGetProcAddress("glUnmapBuffer");
    GLuint b = 0;
    unsigned char init[32];
    for (int i = 0; i < 32; i++)
        init[i] = (unsigned char)(200 - i);
    gen(1, &b);
    bind(GL_ARRAY_BUFFER, b);
    data(GL_ARRAY_BUFFER, 32, init, GL_STREAM_DRAW);
    unsigned char *m = mapb(GL_ARRAY_BUFFER, GL_READ_WRITE);
    int same = m && !memcmp(m, init, 32);
    if (m) m[5] = 7;
    GLboolean un = unmap(GL_ARRAY_BUFFER);
    m = mapb(GL_ARRAY_BUFFER, GL_READ_ONLY);
    int kept = m && m[5] == 7 && m[4] == init[4] && m[6] == init[6];
    unmap(GL_ARRAY_BUFFER);
    bind(GL_ARRAY_BUFFER, 0);
    if (!same || !un || !kept) {
        printf("FAIL: glMapBuffer: contents %d, unmap %d, write kept %d\n", same, un, kept);
        return 1;
    }
    static unsigned char px[W * H * 4];
    glReadPixels(0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, px);
    GLenum err = glGetError();
    if (err != GL_NO_ERROR) {
        printf("FAIL: GL error 0x%x\n", err);
        return 1;
    }
    if (argc > 1 && gltest_ppm_rgba(argv[1], px, W, H) != 0) return 1;
    eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglTerminate(d);
    printf("OK\n");
    return 0;
}
