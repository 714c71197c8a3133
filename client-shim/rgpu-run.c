/* rgpu-run.c — runs a program with rgpu's libcuda.so.1: prepends the shim's
 * directory (lib/rgpu next to this binary's bin/) to LD_LIBRARY_PATH, preloads
 * the shim so no RPATH can pick another libcuda.so.1, sets RGPU_SERVER, execs. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rgpu-run [--server URL] [--gl] [--] PROGRAM [ARGS...]\n"
            "\n"
            "Runs PROGRAM with rgpu's client libcuda.so.1, so its CUDA calls run on the\n"
            "GPUs of an rgpud server instead of a local GPU. PROGRAM is not modified.\n"
            "\n"
            "  --server URL  the rgpud to use, e.g. tcp://gpuhost:7070 or tls://gpuhost:7070\n"
            "                (sets RGPU_SERVER; default: $RGPU_SERVER, else\n"
            "                tcp://127.0.0.1:7070)\n"
            "  --gl          also use rgpu's GL vendor libraries (docs/gl.md): EGL\n"
            "                (surfaceless and default displays, pbuffers) and GLX; sets\n"
            "                __EGL_VENDOR_LIBRARY_FILENAMES and __GLX_VENDOR_LIBRARY_NAME\n"
            "  -h, --help    this text\n"
            "\n"
            "The shim's directory is put first in LD_LIBRARY_PATH and the shim is\n"
            "preloaded (LD_PRELOAD). Settings it reads: RGPU_SERVER, RGPU_TOKEN or\n"
            "RGPU_TOKEN_FILE (NAME:SECRET, for servers with tenants), RGPU_TLS_CA (PEM\n"
            "file of the CAs that may vouch for a tls:// server; default: the system's),\n"
            "RGPU_DEVICES (a number or all), RGPU_TIMEOUT (seconds, default 30), RGPU_LOG\n"
            "(error, warn, info, debug), CUDA_LAUNCH_BLOCKING.\n");
}

/* <dir of this binary>/../lib/rgpu */
static int shim_dir(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    char *bin = dirname(self);
    int w = snprintf(out, len, "%s/../lib/rgpu", bin);
    if (w < 0 || (size_t)w >= len) return -1;
    char real[PATH_MAX];
    if (realpath(out, real)) snprintf(out, len, "%s", real);
    return 0;
}

/* NAME=<first><sep><old value, if any> */
static int prepend_env(const char *name, const char *first, char sep)
{
    const char *old = getenv(name);
    size_t n = strlen(first) + (old ? strlen(old) : 0) + 2;
    char *v = malloc(n);
    if (!v) return -1;
    if (old && *old)
        snprintf(v, n, "%s%c%s", first, sep, old);
    else
        snprintf(v, n, "%s", first);
    int rc = setenv(name, v, 1);
    free(v);
    return rc;
}

/* --gl: GLVND picks rgpu's EGL vendor (build/share/glvnd/egl_vendor.d/50_rgpu.json,
 * written by client-shim/gl/CMakeLists.txt) and nothing else, and rgpu's GLX
 * vendor (libGLX_rgpu.so.0 beside the shim) for every X screen. */
static int gl_env(const char *dir)
{
    char json[PATH_MAX + 64];
    snprintf(json, sizeof json, "%s/../../share/glvnd/egl_vendor.d/50_rgpu.json", dir);
    if (access(json, R_OK) != 0) {
        fprintf(stderr, "rgpu-run: --gl: %s is missing (GL support not built): %s\n", json, strerror(errno));
        return -1;
    }
    char real[PATH_MAX], glx[PATH_MAX + 32];
    snprintf(glx, sizeof glx, "%s/libGLX_rgpu.so.0", dir); /* found through LD_LIBRARY_PATH */
    if (access(glx, R_OK) == 0 && setenv("__GLX_VENDOR_LIBRARY_NAME", "rgpu", 1)) {
        fprintf(stderr, "rgpu-run: cannot set the environment: %s\n", strerror(errno));
        return -1;
    }
    if (setenv("__EGL_VENDOR_LIBRARY_FILENAMES", realpath(json, real) ? real : json, 1)) {
        fprintf(stderr, "rgpu-run: cannot set the environment: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, const char **server, int *gl)
{
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) return i + 1;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(argv[i], "--gl")) {
            *gl = 1;
        } else if (!strcmp(argv[i], "--server") && i + 1 < argc) {
            *server = argv[++i];
        } else if (!strncmp(argv[i], "--server=", 9)) {
            *server = argv[i] + 9;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "rgpu-run: unknown option %s\n\n", argv[i]);
            usage(stderr);
            exit(2);
        } else {
            break;
        }
    }
    return i;
}

int main(int argc, char **argv)
{
    const char *server = NULL;
    int gl = 0;
    int first = parse_args(argc, argv, &server, &gl);
    if (first >= argc) {
        usage(stderr);
        return 2;
    }
    char dir[PATH_MAX], lib[PATH_MAX + 32];
    if (shim_dir(dir, sizeof dir) != 0) {
        fprintf(stderr, "rgpu-run: cannot find the directory of this program\n");
        return 1;
    }
    snprintf(lib, sizeof lib, "%s/libcuda.so.1", dir);
    if (access(lib, R_OK) != 0) {
        fprintf(stderr, "rgpu-run: the client library %s is missing: %s\n", lib, strerror(errno));
        return 1;
    }
    if (prepend_env("LD_LIBRARY_PATH", dir, ':') || prepend_env("LD_PRELOAD", lib, ' ') ||
        (server && setenv("RGPU_SERVER", server, 1))) {
        fprintf(stderr, "rgpu-run: cannot set the environment: %s\n", strerror(errno));
        return 1;
    }
    if (gl && gl_env(dir)) return 1;
    execvp(argv[first], argv + first);
    fprintf(stderr, "rgpu-run: cannot run %s: %s\n", argv[first], strerror(errno));
    return 127;
}
