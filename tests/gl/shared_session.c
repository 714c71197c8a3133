/* shared_session.c — CUDA and GL in one process share one rgpu session: the
 * program uses the driver API (cuInit, an allocation, a copy there and back),
 * then EGL + GLES2 (a pbuffer cleared and read back), then CUDA again, and
 * checks the process holds exactly one socket: libEGL_rgpu.so.0 reached the
 * CUDA shim's connection (rgpu_private_v2) instead of opening its own.
 * Run through rgpu-run --gl against a private rgpud. */
#include <EGL/egl.h>
#include <GLES2/gl2.h>
#include <cuda.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int sockets(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        struct stat st;
        char p[300];
        snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        if (e->d_name[0] != '.' && stat(p, &st) == 0 && S_ISSOCK(st.st_mode)) n++;
    }
    if (d) closedir(d);
    return n;
}

#define CK(x)                                                                                      \
    do {                                                                                           \
        CUresult r_ = (x);                                                                         \
        if (r_ != CUDA_SUCCESS) {                                                                  \
            printf("FAIL: %s = %d\n", #x, r_);                                                     \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    CUdevice dev;
    CUcontext ctx;
    CUdeviceptr p;
    unsigned in[4] = {1, 2, 3, 4}, out[4] = {0};
    CK(cuInit(0));
    CK(cuDeviceGet(&dev, 0));
    CK(cuDevicePrimaryCtxRetain(&ctx, dev));
    CK(cuCtxSetCurrent(ctx));
    CK(cuMemAlloc(&p, sizeof in));
    CK(cuMemcpyHtoD(p, in, sizeof in));

    EGLDisplay d = eglGetDisplay(EGL_DEFAULT_DISPLAY);
    EGLint ma, mi, n = 0;
    EGLConfig cfg;
    static const EGLint want[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                                  EGL_OPENGL_ES2_BIT, EGL_NONE};
    static const EGLint ca[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
    static const EGLint pa[] = {EGL_WIDTH, 8, EGL_HEIGHT, 8, EGL_NONE};
    if (!eglInitialize(d, &ma, &mi) || !eglChooseConfig(d, want, &cfg, 1, &n) || n < 1) {
        printf("FAIL: EGL through rgpu (0x%x)\n", eglGetError());
        return 1;
    }
    eglBindAPI(EGL_OPENGL_ES_API);
    EGLContext gc = eglCreateContext(d, cfg, EGL_NO_CONTEXT, ca);
    EGLSurface s = eglCreatePbufferSurface(d, cfg, pa);
    if (!eglMakeCurrent(d, s, s, gc)) {
        printf("FAIL: eglMakeCurrent (0x%x)\n", eglGetError());
        return 1;
    }
    unsigned char px[4] = {0};
    glClearColor(0, 1, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    glReadPixels(3, 3, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, px);
    const char *rend = (const char *)glGetString(GL_RENDERER);

    CK(cuMemcpyDtoH(out, p, sizeof out));
    CK(cuMemFree(p));
    int nsock = sockets();
    printf("GL_RENDERER %s, pixel %u %u %u %u, CUDA copy %u..%u, %d socket(s)\n", rend ? rend : "?",
           px[0], px[1], px[2], px[3], out[0], out[3], nsock);
    int ok = px[0] == 0 && px[1] == 255 && px[2] == 0 && out[0] == 1 && out[3] == 4 && nsock == 1 &&
             rend && strstr(rend, "via rgpu");
    eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglTerminate(d);
    cuDevicePrimaryCtxRelease(dev);
    printf(ok ? "OK\n" : "FAIL\n");
    return ok ? 0 : 1;
}
