/* glxwin.c — a GLX program that draws one static frame into an X window
 * (double-buffered visual with depth, lighting, a display list, immediate
 * mode), swaps, resizes the window and draws and swaps again (the surface
 * follows the window at glViewport), and reads the window back from the X
 * server with XGetImage into a binary PPM (argv[1]): run on local llvmpipe and through rgpu (the
 * frame travels back and is put into the window), the images must match
 * (tests/gl/run-pbuffer.sh under tests/gl/glxwin.sh's Xvfb).
 * Exit 77 without an X display or a GLX visual. */
#include <GL/gl.h>
#include <GL/glx.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>

#include "gltest.h"

#define W 160
#define H 120
#define W2 200 /* after the resize */
#define H2 90

static void scene(void)
{
    static const GLfloat light[4] = {2, 3, 6, 0}, gold[4] = {0.9f, 0.7f, 0.1f, 1},
                         teal[4] = {0.1f, 0.7f, 0.7f, 1};
    glClearColor(0.05f, 0.05f, 0.2f, 1);
    glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
    glEnable(GL_DEPTH_TEST);
    glEnable(GL_LIGHTING);
    glEnable(GL_LIGHT0);
    glLightfv(GL_LIGHT0, GL_POSITION, light);
    glMatrixMode(GL_PROJECTION);
    glLoadIdentity();
    glFrustum(-1.33, 1.33, -1, 1, 2, 20);
    glMatrixMode(GL_MODELVIEW);
    glLoadIdentity();
    glTranslatef(0, 0, -6);
    glRotatef(25, 1, 1, 0);
    GLuint list = glGenLists(1);
    glNewList(list, GL_COMPILE);
    glBegin(GL_QUADS); /* a cube's six faces with their normals */
    static const GLfloat n[6][3] = {{0, 0, 1},  {0, 0, -1}, {0, 1, 0},
                                    {0, -1, 0}, {1, 0, 0},  {-1, 0, 0}};
    for (int f = 0; f < 6; f++) {
        glNormal3fv(n[f]);
        for (int k = 0; k < 4; k++) {
            float u = (k == 1 || k == 2) ? 1.0f : -1.0f, v = k >= 2 ? 1.0f : -1.0f, p[3];
            int a = f / 2; /* the face's axis */
            p[a] = n[f][a], p[(a + 1) % 3] = u, p[(a + 2) % 3] = v;
            if (n[f][a] < 0) p[(a + 1) % 3] = -u; /* keep the winding outward */
            glVertex3fv(p);
        }
    }
    glEnd();
    glEndList();
    glMaterialfv(GL_FRONT_AND_BACK, GL_AMBIENT_AND_DIFFUSE, gold);
    glCallList(list);
    glTranslatef(1.8f, -0.6f, -1);
    glScalef(0.5f, 0.5f, 0.5f);
    glMaterialfv(GL_FRONT_AND_BACK, GL_AMBIENT_AND_DIFFUSE, teal);
    glCallList(list);
}

int main(int argc, char **argv)
{
    Display *dpy = XOpenDisplay(NULL);
    if (!dpy) {
        printf("SKIP: no X display\n");
        return 77;
    }
    int attrs[] = {GLX_RGBA, GLX_RED_SIZE,   8,  GLX_GREEN_SIZE,   8,   GLX_BLUE_SIZE,
                   8,        GLX_DEPTH_SIZE, 16, GLX_DOUBLEBUFFER, None};
    XVisualInfo *vi = glXChooseVisual(dpy, DefaultScreen(dpy), attrs);
    if (!vi) {
        printf("SKIP: no double-buffered RGB GLX visual\n");
        return 77;
    }
    Window win = gltest_x_window(dpy, vi, W, H, ExposureMask);
    GLXContext ctx = glXCreateContext(dpy, vi, NULL, True);
    if (!ctx || !glXMakeCurrent(dpy, win, ctx)) {
        printf("FAIL: no GLX context\n");
        return 1;
    }
    printf("GL_RENDERER: %s\n", glGetString(GL_RENDERER));
    glViewport(0, 0, W, H);
    scene();
    glXSwapBuffers(dpy, win);
    XResizeWindow(dpy, win, W2, H2);
    for (XEvent e;;) {
        XNextEvent(dpy, &e);
        if (e.type == ConfigureNotify && e.xconfigure.width == W2 && e.xconfigure.height == H2)
            break;
    }
    glViewport(0, 0, W2, H2);
    scene();
    glXSwapBuffers(dpy, win);
    glXWaitGL();
    XSync(dpy, False);
    GLenum err = glGetError();
    XImage *img = XGetImage(dpy, win, 0, 0, W2, H2, AllPlanes, ZPixmap);
    if (err != GL_NO_ERROR || !img) {
        printf("FAIL: GL error 0x%x, image %p\n", err, (void *)img);
        return 1;
    }
    if (argc > 1 && gltest_ppm_ximage(argv[1], img, W2, H2) != 0) return 1;
    XDestroyImage(img);
    /* a swap, then the window destroyed before the context lets go of it (toolkits
     * do this): releasing the context must not raise an X error (BadWindow would
     * end the program through Xlib's default handler) */
    scene();
    glXSwapBuffers(dpy, win);
    XDestroyWindow(dpy, win);
    XSync(dpy, False);
    glXMakeCurrent(dpy, None, NULL);
    XSync(dpy, False);
    glXDestroyContext(dpy, ctx);
    XCloseDisplay(dpy);
    printf("OK\n");
    return 0;
}
