/* gearshot.c — an LD_PRELOAD test helper that makes a clock-driven GL demo
 * (glxgears, es2gears_x11) deterministic and photographs its window: the
 * program's own gettimeofday/clock_gettime calls see a fake clock that advances
 * a fixed step per swap, and after swap N the window is read back from the X
 * server (XGetImage) into a PPM file and the process ends. The same helper runs
 * the program on local llvmpipe and through rgpu, so the two pictures show the
 * same frame (tests/gl/gears-frame.sh). rgpu-bench gl uses it to run a fixed
 * number of identical frames and time them.
 * Settings: RG_SHOT_FRAME (the last swap, default 30: the process exits after
 * it), RG_SHOT_FILE (where the last frame goes as a PPM; none: no picture),
 * RG_SHOT_STEP_US (clock step per swap, default 20000), RG_SHOT_WARMUP (a swap
 * before the last: the real time from it to the last is printed). Calls made by
 * libraries (the GL stack, rgpu's shim) keep the real clock. */
#define _GNU_SOURCE
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef void *EGLDisplay;
typedef void *EGLSurface;
typedef void *EGLConfig;
typedef unsigned int EGLBoolean;
typedef int EGLint;

static uintptr_t exe_lo, exe_hi; /* the main program's mapped range */
static long swaps;
static Display *egl_x; /* the X display es2gears gave eglGetDisplay */
static Window egl_win; /* its window surface's window */
static struct timespec warm_at;

static int first_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + p->p_vaddr, hi = lo + p->p_memsz;
        if (!exe_lo || lo < exe_lo) exe_lo = lo;
        if (hi > exe_hi) exe_hi = hi;
    }
    return 1; /* the first object is the executable */
}

static int from_program(const void *ret)
{
    if (!exe_hi) dl_iterate_phdr(first_object, NULL);
    return (uintptr_t)ret >= exe_lo && (uintptr_t)ret < exe_hi;
}

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : dflt;
}

/* The fake time of the current frame, in microseconds. */
static long long fake_us(void)
{
    return 1700000000LL * 1000000LL + swaps * env_long("RG_SHOT_STEP_US", 20000);
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    static int (*real)(struct timeval *, void *);
    if (!from_program(__builtin_return_address(0))) {
        if (!real) real = (int (*)(struct timeval *, void *))dlsym(RTLD_NEXT, "gettimeofday");
        return real(tv, tz);
    }
    long long us = fake_us();
    tv->tv_sec = us / 1000000;
    tv->tv_usec = us % 1000000;
    return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    if (!from_program(__builtin_return_address(0))) {
        if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
        return real(id, ts);
    }
    long long us = fake_us();
    ts->tv_sec = us / 1000000;
    ts->tv_nsec = us % 1000000 * 1000;
    return 0;
}

/* Writes the window's pixels as a binary PPM. */
static void shoot(Display *dpy, Window win)
{
    XSync(dpy, False); /* the frame's image requests are ahead of ours on this connection */
    Window root;
    int x, y;
    unsigned w, h, bw, depth;
    const char *path = getenv("RG_SHOT_FILE");
    if (!path || !XGetGeometry(dpy, win, &root, &x, &y, &w, &h, &bw, &depth)) _exit(3);
    XImage *im = XGetImage(dpy, win, 0, 0, w, h, AllPlanes, ZPixmap);
    FILE *f = fopen(path, "wb");
    if (!im || !f) _exit(3);
    fprintf(f, "P6\n%u %u\n255\n", w, h);
    for (unsigned r = 0; r < h; r++)
        for (unsigned c = 0; c < w; c++) {
            unsigned long p = XGetPixel(im, (int)c, (int)r);
            unsigned char rgb[3] = {(unsigned char)(p >> 16), (unsigned char)(p >> 8),
                                    (unsigned char)p};
            fwrite(rgb, 1, 3, f);
        }
    if (fclose(f) != 0) _exit(3);
    fprintf(stderr, "gearshot: frame %ld (%ux%u) written to %s\n", swaps, w, h, path);
}

/* After each swap: time the frames since the warm-up swap, photograph the last
 * one, then exit normally (libraries' destructors run: rgpu's statistics).
 * Before the picture, wait_gl (glXWaitGL / eglWaitClient): GL rendering and
 * the swap are guaranteed to reach the window before later X requests only
 * then — a swap may return before its frame is shown (rgpu's frame channel,
 * or a real GPU). */
static void swapped(Display *dpy, Window win, const char *wait_gl)
{
    long n = ++swaps, last = env_long("RG_SHOT_FRAME", 30), warm = env_long("RG_SHOT_WARMUP", 0);
    if (n == warm) clock_gettime(CLOCK_MONOTONIC, &warm_at);
    if (n != last) return;
    if (warm > 0 && warm < last) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        fprintf(stderr, "gearshot: %ld frames in %.6f s\n", last - warm,
                (double)(now.tv_sec - warm_at.tv_sec) + (now.tv_nsec - warm_at.tv_nsec) / 1e9);
    }
    if (getenv("RG_SHOT_FILE")) {
        void *wait = dlsym(RTLD_DEFAULT, wait_gl);
        if (!wait) _exit(3);
        if (!strcmp(wait_gl, "glXWaitGL")) ((void (*)(void))wait)();
        else ((EGLBoolean(*)(void))wait)();
        shoot(dpy, win);
    }
    exit(0);
}

void glXSwapBuffers(Display *dpy, XID drawable)
{
    static void (*real)(Display *, XID);
    if (!real) real = (void (*)(Display *, XID))dlsym(RTLD_NEXT, "glXSwapBuffers");
    real(dpy, drawable);
    swapped(dpy, drawable, "glXWaitGL");
}

EGLDisplay eglGetDisplay(void *native)
{
    static EGLDisplay (*real)(void *);
    if (!real) real = (EGLDisplay(*)(void *))dlsym(RTLD_NEXT, "eglGetDisplay");
    egl_x = native;
    return real(native);
}

EGLSurface eglCreateWindowSurface(EGLDisplay dpy, EGLConfig cfg, uintptr_t win, const EGLint *attrs)
{
    static EGLSurface (*real)(EGLDisplay, EGLConfig, uintptr_t, const EGLint *);
    if (!real)
        real = (EGLSurface(*)(EGLDisplay, EGLConfig, uintptr_t, const EGLint *))dlsym(
            RTLD_NEXT, "eglCreateWindowSurface");
    egl_win = (Window)win;
    return real(dpy, cfg, win, attrs);
}

EGLBoolean eglSwapBuffers(EGLDisplay dpy, EGLSurface surf)
{
    static EGLBoolean (*real)(EGLDisplay, EGLSurface);
    if (!real) real = (EGLBoolean(*)(EGLDisplay, EGLSurface))dlsym(RTLD_NEXT, "eglSwapBuffers");
    EGLBoolean ok = real(dpy, surf);
    if (egl_x && egl_win) swapped(egl_x, egl_win, "eglWaitClient");
    return ok;
}
