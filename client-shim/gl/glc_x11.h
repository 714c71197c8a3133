/* glc_x11.h — what the GLX and EGL (X11 platform) vendors need of libX11,
 * loaded on first use (EGL-only processes never need it), and frames put
 * into X windows. */
#ifndef RG_GLC_X11_H
#define RG_GLC_X11_H

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <stdint.h>

struct glc_x11 {
    Status (*GetGeometry)(Display *, Drawable, Window *, int *, int *, unsigned *, unsigned *,
                          unsigned *, unsigned *);
    Status (*MatchVisualInfo)(Display *, int, int, int, XVisualInfo *);
    XVisualInfo *(*GetVisualInfo)(Display *, long, XVisualInfo *, int *);
    int (*Sync)(Display *, Bool);
    Status (*GetWindowAttributes)(Display *, Window, XWindowAttributes *);
    XImage *(*CreateImage)(Display *, Visual *, unsigned, int, int, char *, unsigned, unsigned, int,
                           int);
    int (*PutImage)(Display *, Drawable, GC, XImage *, int, int, int, int, unsigned, unsigned);
    GC (*CreateGC)(Display *, Drawable, unsigned long, XGCValues *);
    int (*FreeGC)(Display *, GC);
    int (*Flush)(Display *);
    Display *(*OpenDisplay)(const char *);
    XErrorHandler (*SetErrorHandler)(XErrorHandler);
};
extern struct glc_x11 RG_X11;
int rg_glc_x11(void); /* loads libX11.so.6 once: 0, or -1 (logged) */

struct glc_frame { /* a window's last frame, as the X server takes it */
    GC gc;
    uint8_t *px; /* 32-bit ZPixmap rows, top first */
    size_t cap;
    /* MIT-SHM (a local X server): the rows go into a shared segment the X server
     * reads; shm < 0 once it failed (XPutImage then). pending: an XShmPutImage
     * the X server may still be reading (XSync before the next write). */
    int shm, pending;
    XShmSegmentInfo si;
    XImage *img;
    struct glc_chan *chan; /* the window's frame channel, made at its first swap */
};
/* A swap of window win (server surface surf): the server is asked for the
 * frame, and the newest frame that came is put into the window; waits only
 * when too many swaps have no frame yet (RGPU_GL_FRAMES, glc_x11.c). */
void rg_glc_x11_present(Display *dpy, Window win, uint32_t surf, struct glc_frame *f);
/* Every swap's frame shown (glXWaitGL, eglWaitClient, a context leaving the
 * window): what X requests made after this see in the window. careful: the
 * window may be gone (a context released after its window was destroyed): X
 * errors of the put are swallowed. */
void rg_glc_x11_frames_wait(Display *dpy, Window win, struct glc_frame *f, int careful);
/* A window's surface follows its size: when win is no longer *w x *h, a new
 * surface of the new size takes *surf's place as the current context's draw
 * and read surface, and the old one goes. 1 if it changed. */
int rg_glc_x11_follow(Display *dpy, Window win, int32_t config_id, uint32_t *surf, int *w, int *h);

#endif
