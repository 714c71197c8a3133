/* glc_x11.c — libX11 for the GLX and EGL X11 vendors, loaded on first use,
 * and the frames: the server's readbacks (lz4) arrive on the frame channel
 * and are put into the window with XShmPutImage where the X server shares
 * memory with us, else XPutImage. */
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
            RG_X11.SetErrorHandler = (void *)dlsym(h, "XSetErrorHandler"); /* optional */
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

/* ---- the frame channel ------------------------------------------------------------------
 * A window's swap sends RG_WS_PRESENT_ASYNC (channel, swap number) and does
 * not wait: the server reads back, compresses and sends the frame as a NOTIFY
 * on a thread of its own, and the receiving thread (whichever reads the
 * connection) leaves it in the window's channel, replacing a frame not yet
 * shown. The thread that swaps puts the newest frame into the window at its
 * next swap, at glXWaitGL / eglWaitClient, and before its context leaves the
 * window; it waits only when more than `credit` of its swaps have no frame
 * yet (RGPU_GL_FRAMES: that number, 1-8, default 3; `sync`: every swap waits
 * for its own frame). The X connection is the application's, so only the
 * application's own thread ever puts. */

#define GLC_FRAME_MAX 16384 /* a frame's width or height at most (as the server's surfaces) */

struct glc_chan {
    uint32_t id;
    uint32_t sent; /* swaps sent (written by the swapping thread under F.mu) */
    uint32_t got;  /* the newest frame's swap number (F.mu) */
    /* the newest frame not shown yet (F.mu) */
    int have;
    uint32_t w, h, codec;
    void *raw;
    size_t raw_len;
};

static struct {
    pthread_mutex_t mu;
    struct glc_chan **chan; /* by id - 1; never freed (windows' records stay too) */
    uint32_t n;
    unsigned long long received, shown, replaced, server_dropped, bytes, shown_bytes;
} F = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int frames_credit(void)
{
    static int credit = -1;
    if (credit < 0) {
        const char *e = getenv("RGPU_GL_FRAMES");
        long v = e && *e ? strtol(e, NULL, 10) : 3;
        credit = e && !strcmp(e, "sync") ? 0 : v >= 1 && v <= 8 ? (int)v : 3;
        if (e && *e && strcmp(e, "sync") && (v < 1 || v > 8))
            rg_glc_log(GLC_WARN, "RGPU_GL_FRAMES=%s: want `sync` or 1-8; using 3", e);
    }
    return credit;
}

/* The receiving thread: a frame for channel chan. Takes raw. */
static void frame_sink(const void *enc, size_t enc_len, void *raw, size_t raw_len)
{
    rpc_rbuf r;
    rpc_rbuf_init(&r, enc, enc_len);
    uint32_t v[6];
    for (int i = 0; i < 6; i++)
        v[i] = rpc_get_u32(&r);
    pthread_mutex_lock(&F.mu);
    struct glc_chan *ch = rpc_rbuf_done(&r) && v[0] && v[0] <= F.n ? F.chan[v[0] - 1] : NULL;
    if (!ch || (int32_t)(v[1] - ch->got) <= 0 || (int32_t)(v[1] - ch->sent) > 0) {
        pthread_mutex_unlock(&F.mu);
        rg_glc_log(GLC_WARN, "a frame for channel %u, swap %u, that was not asked for: dropped",
                   v[0], v[1]);
        free(raw);
        return;
    }
    F.received++;
    F.bytes += raw_len + enc_len + 48;
    rg_glc_count_received(raw_len + enc_len + 48);
    F.server_dropped = v[5];
    if (ch->have) F.replaced++;
    free(ch->raw);
    ch->got = v[1];
    ch->have = 1;
    ch->w = v[2], ch->h = v[3], ch->codec = v[4];
    ch->raw = raw, ch->raw_len = raw ? raw_len : 0;
    pthread_mutex_unlock(&F.mu);
}

static struct glc_chan *chan_of(struct glc_frame *f)
{
    if (f->chan) return f->chan;
    struct glc_chan *ch = calloc(1, sizeof *ch);
    pthread_mutex_lock(&F.mu);
    struct glc_chan **t = ch ? realloc(F.chan, (F.n + 1) * sizeof *t) : NULL;
    if (t) {
        F.chan = t;
        F.chan[F.n] = ch;
        ch->id = ++F.n;
    }
    pthread_mutex_unlock(&F.mu);
    if (t && ch->id == 1) rg_glc_frame_sink(frame_sink); /* the shim's lock, not under ours */
    if (!t) free(ch);
    return f->chan = t ? ch : NULL;
}

struct frames_want {
    struct glc_chan *ch;
    uint32_t seq;
};

static int frames_came(void *arg)
{
    struct frames_want *w = arg;
    pthread_mutex_lock(&F.mu);
    int done = (int32_t)(w->ch->got - w->seq) >= 0;
    pthread_mutex_unlock(&F.mu);
    return done;
}

__attribute__((destructor)) static void frames_at_exit(void)
{
    if (F.received)
        rg_glc_log(GLC_INFO,
                   "GL frames: %llu received (%llu bytes), %llu shown, %llu replaced by a newer "
                   "one before they were shown, %llu dropped by the server",
                   F.received, F.bytes, F.shown, F.replaced, F.server_dropped);
}

/* A frame (coded) into the window: its rows are the window's 32-bit ZPixmap as
 * they are (gl_desc.h), decompressed straight into the shared segment (or the
 * image buffer). */
static void put_frame(Display *dpy, Window win, struct glc_frame *f, uint32_t w, uint32_t h,
                      uint32_t codec, const void *raw, size_t raw_len)
{
    if (!w || !h || w > GLC_FRAME_MAX || h > GLC_FRAME_MAX) { /* the server's surface limit */
        rg_glc_log(GLC_WARN, "a %ux%u frame: not shown", w, h);
        return;
    }
    size_t n = (size_t)w * h * 4;
    XWindowAttributes wa;
    if (n > (size_t)LZ4_MAX_INPUT_SIZE || (codec & ~RG_FRAME_LZ4) ||
        (!(codec & RG_FRAME_LZ4) && raw_len != n) || raw_len > INT32_MAX) {
        rg_glc_log(GLC_WARN, "a %ux%u frame of %zu bytes (codec %u): not shown", w, h, raw_len,
                   codec);
        return;
    }
    if (rg_glc_x11() || !RG_X11.GetWindowAttributes(dpy, win, &wa) || wa.depth != 24) return;
    int shm = !shm_setup(dpy, wa.visual, f, w, h);
    if (shm && f->pending) RG_X11.Sync(dpy, False); /* the last put has been read */
    f->pending = 0;
    if (!shm && n > f->cap) {
        uint8_t *p = realloc(f->px, n);
        if (!p) return;
        f->px = p, f->cap = n;
    }
    uint8_t *rows = shm ? (uint8_t *)f->img->data : f->px;
    if (!(codec & RG_FRAME_LZ4)) {
        memcpy(rows, raw, n);
    } else if (LZ4_decompress_safe((const char *)raw, (char *)rows, (int)raw_len, (int)n) !=
               (int)n) {
        rg_glc_log(GLC_WARN, "a %ux%u frame that does not decode: not shown", w, h);
        return;
    }
    if (!f->gc) f->gc = RG_X11.CreateGC(dpy, win, 0, NULL);
    if (shm && f->gc) { /* the X server reads while the next frame comes */
        SHM.PutImage(dpy, win, f->gc, f->img, 0, 0, 0, 0, w, h, False);
        RG_X11.Flush(dpy);
        f->pending = 1;
        return;
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
}

/* F.mu held: a frame of raw_len bytes is shown (RGPU_LOG=debug: the average
 * now and then). */
static void count_shown_locked(size_t raw_len, uint32_t codec)
{
    F.shown++;
    F.shown_bytes += raw_len;
    if ((F.shown & 255) == 0)
        rg_glc_log(GLC_DEBUG, "frames: %llu shown, %llu bytes each on average (%s)", F.shown,
                   F.shown_bytes / F.shown, codec & RG_FRAME_LZ4 ? "lz4" : "raw");
}

/* The channel's newest frame, if one came, into the window. */
static void put_newest(Display *dpy, Window win, struct glc_frame *f, struct glc_chan *ch)
{
    pthread_mutex_lock(&F.mu);
    int have = ch->have;
    uint32_t w = ch->w, h = ch->h, codec = ch->codec;
    void *raw = ch->raw;
    size_t raw_len = ch->raw_len;
    ch->have = 0, ch->raw = NULL;
    if (have && w) count_shown_locked(raw_len, codec);
    pthread_mutex_unlock(&F.mu);
    if (have && w) put_frame(dpy, win, f, w, h, codec, raw, raw_len);
    free(raw);
}

/* Waits until the channel has a frame of swap seq or later: 0, or -1 once
 * the session is lost. */
static int await_frame(struct glc_chan *ch, uint32_t seq)
{
    struct frames_want want = {ch, seq};
    return frames_came(&want) ? 0 : rg_glc_wait_until(frames_came, &want);
}

/* The swap waits for its frame (RGPU_GL_FRAMES=sync). */
static void present_sync(Display *dpy, Window win, uint32_t surf, struct glc_frame *f)
{
    rpc_put_u32(rg_glc_enc(), RG_WS_PRESENT);
    rpc_put_u32(rg_glc_enc(), surf);
    rpc_put_u32(rg_glc_enc(), RG_FRAME_LZ4);
    struct glc_reply r;
    if (rg_glc_sync(&r)) return;
    uint32_t w = rpc_get_u32(&r.rest), h = rpc_get_u32(&r.rest), codec = rpc_get_u32(&r.rest);
    if (!r.status && rpc_rbuf_done(&r.rest)) {
        pthread_mutex_lock(&F.mu);
        count_shown_locked(r.raw_len, codec);
        pthread_mutex_unlock(&F.mu);
        put_frame(dpy, win, f, w, h, codec, r.raw, r.raw_len);
    }
    rg_glc_reply_free(&r);
}

void rg_glc_x11_present(Display *dpy, Window win, uint32_t surf, struct glc_frame *f)
{
    int credit = frames_credit();
    struct glc_chan *ch = credit ? chan_of(f) : NULL;
    if (!ch) {
        present_sync(dpy, win, surf, f);
        return;
    }
    pthread_mutex_lock(&F.mu); /* the receiver checks frames against it */
    uint32_t seq = ++ch->sent;
    pthread_mutex_unlock(&F.mu);
    rpc_put_u32(rg_glc_enc(), RG_WS_PRESENT_ASYNC);
    rpc_put_u32(rg_glc_enc(), surf);
    rpc_put_u32(rg_glc_enc(), RG_FRAME_LZ4);
    rpc_put_u32(rg_glc_enc(), ch->id);
    rpc_put_u32(rg_glc_enc(), seq);
    rg_glc_flush(); /* the server starts on the frame while we show the last one */
    if (seq <= (uint32_t)credit || !await_frame(ch, seq - (uint32_t)credit))
        put_newest(dpy, win, f, ch);
}

static int quiet(Display *dpy, XErrorEvent *e)
{
    (void)dpy, (void)e;
    return 0;
}

void rg_glc_x11_frames_wait(Display *dpy, Window win, struct glc_frame *f, int careful)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* the error handler is global */
    struct glc_chan *ch = f->chan;
    if (!ch || !ch->sent) return;
    rg_glc_flush();
    if (await_frame(ch, ch->sent)) return; /* lost */
    if (!careful || !RG_X11.SetErrorHandler) {
        put_newest(dpy, win, f, ch);
        return;
    }
    /* the window may be gone already (a toolkit destroys it before it releases the
     * context): BadWindow is not the application's to see */
    pthread_mutex_lock(&mu);
    RG_X11.Sync(dpy, False);
    XErrorHandler old = RG_X11.SetErrorHandler(quiet);
    put_newest(dpy, win, f, ch);
    RG_X11.Sync(dpy, False);
    RG_X11.SetErrorHandler(old);
    pthread_mutex_unlock(&mu);
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
