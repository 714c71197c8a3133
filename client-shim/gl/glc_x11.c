/* glc_x11.c — libX11 for the GLX and EGL X11 vendors, loaded on first use,
 * and the frame path: the server's readback (lz4) put into the window with
 * XShmPutImage where the X server shares memory with us, else XPutImage
 * (the swap still waits for its frame: the frame channel is next, docs/gl.md). */
#include <dlfcn.h>
#include <lz4.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "glc.h"
#include "glc_x11.h"

struct glc_x11 RG_X11;

int rg_glc_x11(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static int state;
    pthread_mutex_lock(&mu);
    if (!state) {
        void *h = dlopen("libX11.so.6", RTLD_NOW | RTLD_GLOBAL);
        if (h) {
            RG_X11.GetGeometry = (void *)dlsym(h, "XGetGeometry");
            RG_X11.MatchVisualInfo = (void *)dlsym(h, "XMatchVisualInfo");
            RG_X11.GetVisualInfo = (void *)dlsym(h, "XGetVisualInfo");
            RG_X11.Sync = (void *)dlsym(h, "XSync");
            RG_X11.GetWindowAttributes = (void *)dlsym(h, "XGetWindowAttributes");
            RG_X11.CreateImage = (void *)dlsym(h, "XCreateImage");
            RG_X11.PutImage = (void *)dlsym(h, "XPutImage");
            RG_X11.CreateGC = (void *)dlsym(h, "XCreateGC");
            RG_X11.FreeGC = (void *)dlsym(h, "XFreeGC");
            RG_X11.Flush = (void *)dlsym(h, "XFlush");
            RG_X11.OpenDisplay = (void *)dlsym(h, "XOpenDisplay");
        }
        state = RG_X11.GetGeometry && RG_X11.MatchVisualInfo && RG_X11.GetVisualInfo &&
                        RG_X11.Sync && RG_X11.GetWindowAttributes && RG_X11.CreateImage &&
                        RG_X11.PutImage && RG_X11.CreateGC && RG_X11.FreeGC && RG_X11.Flush &&
                        RG_X11.OpenDisplay
                    ? 1
                    : -1;
        if (state < 0) rg_glc_log(GLC_ERR, "cannot load libX11.so.6");
    }
    pthread_mutex_unlock(&mu);
    return state > 0 ? 0 : -1;
}

/* MIT-SHM from libXext, loaded on the first frame; RGPU_GL_XSHM=0 turns it off. */
static struct {
    Bool (*QueryExtension)(Display *);
    XImage *(*CreateImage)(Display *, Visual *, unsigned, int, char *, XShmSegmentInfo *, unsigned,
                           unsigned);
    Bool (*Attach)(Display *, XShmSegmentInfo *);
    Bool (*Detach)(Display *, XShmSegmentInfo *);
    Bool (*PutImage)(Display *, Drawable, GC, XImage *, int, int, int, int, unsigned, unsigned,
                     Bool);
    XErrorHandler (*SetErrorHandler)(XErrorHandler);
} SHM;

static int shm_load(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static int state;
    pthread_mutex_lock(&mu);
    if (!state) {
        const char *e = getenv("RGPU_GL_XSHM");
        void *h = e && !strcmp(e, "0") ? NULL : dlopen("libXext.so.6", RTLD_NOW | RTLD_LOCAL);
        if (h) {
            SHM.QueryExtension = (void *)dlsym(h, "XShmQueryExtension");
            SHM.CreateImage = (void *)dlsym(h, "XShmCreateImage");
            SHM.Attach = (void *)dlsym(h, "XShmAttach");
            SHM.Detach = (void *)dlsym(h, "XShmDetach");
            SHM.PutImage = (void *)dlsym(h, "XShmPutImage");
            SHM.SetErrorHandler = (void *)dlsym(RTLD_DEFAULT, "XSetErrorHandler");
        }
        state = SHM.QueryExtension && SHM.CreateImage && SHM.Attach && SHM.Detach && SHM.PutImage &&
                        SHM.SetErrorHandler
                    ? 1
                    : -1;
    }
    pthread_mutex_unlock(&mu);
    return state > 0 ? 0 : -1;
}

static int attach_failed;
static int on_attach_error(Display *dpy, XErrorEvent *e)
{
    (void)dpy, (void)e;
    attach_failed = 1;
    return 0;
}

static void shm_drop(Display *dpy, struct glc_frame *f)
{
    if (!f->img) return;
    SHM.Detach(dpy, &f->si);
    RG_X11.Sync(dpy, False); /* the X server is done with the segment */
    shmdt(f->si.shmaddr);
    f->img->data = NULL;
    f->img->f.destroy_image(f->img);
    f->img = NULL;
    f->pending = 0;
}

/* A shared segment of w x h 32-bit pixels attached to the X server (a remote
 * one refuses: BadAccess, caught here). 0, or -1: XPutImage from now on. */
static int shm_setup(Display *dpy, Visual *vis, struct glc_frame *f, uint32_t w, uint32_t h)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* the error handler is global */
    if (f->shm < 0) return -1;
    if (f->img && f->img->width == (int)w && f->img->height == (int)h) return 0;
    shm_drop(dpy, f);
    XImage *img = NULL;
    void *p = (void *)-1;
    int id = -1;
    memset(&f->si, 0, sizeof f->si);
    if (shm_load() || !SHM.QueryExtension(dpy) ||
        !(img = SHM.CreateImage(dpy, vis, 24, ZPixmap, NULL, &f->si, w, h)) ||
        img->bits_per_pixel != 32 || img->bytes_per_line != (int)w * 4 ||
        (id = shmget(IPC_PRIVATE, (size_t)w * h * 4, IPC_CREAT | 0600)) < 0 ||
        (p = shmat(id, NULL, 0)) == (void *)-1)
        goto off;
    f->si.shmid = id;
    f->si.shmaddr = img->data = p;
    f->si.readOnly = True;
    pthread_mutex_lock(&mu);
    attach_failed = 0;
    XErrorHandler old = SHM.SetErrorHandler(on_attach_error);
    Bool ok = SHM.Attach(dpy, &f->si);
    RG_X11.Sync(dpy, False);
    SHM.SetErrorHandler(old);
    int failed = attach_failed || !ok;
    pthread_mutex_unlock(&mu);
    shmctl(id, IPC_RMID, NULL); /* freed when both sides have detached */
    id = -1;
    if (failed) goto off;
    f->img = img;
    return 0;
off:
    if (p != (void *)-1) shmdt(p);
    if (id >= 0) shmctl(id, IPC_RMID, NULL);
    if (img) {
        img->data = NULL;
        img->f.destroy_image(img);
    }
    f->shm = -1;
    rg_glc_log(GLC_INFO,
               "frames: XPutImage (MIT-SHM off, or no segment shared with this X server)");
    return -1;
}

/* RGBA rows bottom first become the 32-bit ZPixmap (BGRX little-endian) rows
 * top first that a 24-bit TrueColor window takes. */
void rg_glc_x11_present(Display *dpy, Window win, uint32_t surf, struct glc_frame *f)
{
    rpc_put_u32(rg_glc_enc(), RG_WS_PRESENT);
    rpc_put_u32(rg_glc_enc(), surf);
    rpc_put_u32(rg_glc_enc(), RG_FRAME_LZ4);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return;
    uint32_t w = rpc_get_u32(&r.rest), h = rpc_get_u32(&r.rest), codec = rpc_get_u32(&r.rest);
    size_t n = (size_t)w * h * 4;
    const uint8_t *rgba = r.raw;
    XWindowAttributes wa;
    if (r.status || !rpc_rbuf_done(&r.rest) || !n || n > (size_t)LZ4_MAX_INPUT_SIZE ||
        rg_glc_x11() || !RG_X11.GetWindowAttributes(dpy, win, &wa) || wa.depth != 24)
        goto done;
    static _Atomic unsigned long long frames,
        wire; /* RGPU_LOG=debug: bytes per frame now and then */
    unsigned long long k = ++frames, b = (wire += r.raw_len + 60);
    if ((k & 255) == 0)
        rg_glc_log(GLC_DEBUG, "frames: %llu, %llu bytes each on average (%ux%u, %s)", k, b / k, w,
                   h, codec == RG_FRAME_LZ4 ? "lz4" : "raw");
    if (codec == RG_FRAME_LZ4) {
        if (n > f->zcap) {
            uint8_t *z = realloc(f->z, n);
            if (!z) goto done;
            f->z = z, f->zcap = n;
        }
        if (r.raw_len > INT32_MAX || LZ4_decompress_safe((const char *)r.raw, (char *)f->z,
                                                         (int)r.raw_len, (int)n) != (int)n)
            goto done;
        rgba = f->z;
    } else if (codec != 0 || r.raw_len != n) {
        goto done;
    }
    int shm = !shm_setup(dpy, wa.visual, f, w, h);
    if (shm && f->pending) RG_X11.Sync(dpy, False); /* the last put has been read */
    f->pending = 0;
    if (!shm && n > f->cap) {
        uint8_t *p = realloc(f->px, n);
        if (!p) goto done;
        f->px = p, f->cap = n;
    }
    uint8_t *rows = shm ? (uint8_t *)f->img->data : f->px;
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *src = rgba + (size_t)(h - 1 - y) * w * 4;
        uint8_t *dst = rows + (size_t)y * w * 4;
        for (uint32_t x = 0; x < w; x++, src += 4, dst += 4)
            dst[0] = src[2], dst[1] = src[1], dst[2] = src[0], dst[3] = 0xff;
    }
    if (!f->gc) f->gc = RG_X11.CreateGC(dpy, win, 0, NULL);
    if (shm && f->gc) { /* the X server reads while we fetch the next frame */
        SHM.PutImage(dpy, win, f->gc, f->img, 0, 0, 0, 0, w, h, False);
        RG_X11.Flush(dpy);
        f->pending = 1;
        goto done;
    }
    XImage *img = RG_X11.CreateImage(dpy, wa.visual, 24, ZPixmap, 0, (char *)f->px, w, h, 32, 0);
    if (img && f->gc) {
        RG_X11.PutImage(dpy, win, f->gc, img, 0, 0, 0, 0, w, h);
        RG_X11.Flush(dpy);
    }
    if (img) {
        img->data = NULL; /* ours */
        img->f.destroy_image(img);
    }
done:
    rg_glc_reply_free(&r);
}

int rg_glc_x11_follow(Display *dpy, Window win, int32_t config_id, uint32_t *surf, int *w, int *h)
{
    Window root;
    int x, y;
    unsigned nw, nh, bw, depth;
    struct glc_ctx *c = rg_glc_current();
    if (rg_glc_x11() || !RG_X11.GetGeometry(dpy, win, &root, &x, &y, &nw, &nh, &bw, &depth))
        return 0;
    if ((int)nw == *w && (int)nh == *h) return 0;
    if (!c || c->draw != c->read) return 0; /* a separate read surface: kept as it is */
    uint32_t old = *surf;
    *surf = rg_glc_surface_create(config_id, (int)nw, (int)nh, depth == 24 ? RG_SURF_WINDOW24 : 0);
    *w = (int)nw, *h = (int)nh;
    rg_glc_make_current(c, *surf, *surf, c->draw, c->read);
    rg_glc_surface_destroy(old);
    return 1;
}
