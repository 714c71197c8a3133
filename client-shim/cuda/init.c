/* init.c — cuInit and the session's life in the application: settings from the
 * environment, the reserved device address window, the connection, the
 * after-fork rule (a child never touches the parent's connection; its calls
 * fail with CUDA_ERROR_NOT_INITIALIZED, as the real driver's do). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

struct rg_session rg_sess;

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void copy_env(char *dst, size_t len, const char *name, const char *dflt)
{
    const char *v = getenv(name);
    snprintf(dst, len, "%s", v && *v ? v : dflt);
}

/* RGPU_TOKEN wins over RGPU_TOKEN_FILE; the file's first line is the token,
 * NAME:SECRET (auth.c: only a SCRAM-SHA-256 proof of it is sent). */
static void read_token(char *dst, size_t len)
{
    copy_env(dst, len, "RGPU_TOKEN", "");
    const char *path = getenv("RGPU_TOKEN_FILE");
    if (*dst || !path || !*path) return;
    FILE *f = fopen(path, "re");
    if (!f) {
        rg_log(RG_LOG_WARN, "cannot read RGPU_TOKEN_FILE %s: %s", path, strerror(errno));
        return;
    }
    if (!fgets(dst, (int)len, f)) dst[0] = 0;
    dst[strcspn(dst, "\r\n")] = 0;
    fclose(f);
}

static long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        rg_log(RG_LOG_WARN, "%s=%s is not a number in %ld..%ld; using %ld", name, v, lo, hi, dflt);
        return dflt;
    }
    return n;
}

static void read_settings(struct rg_settings *s)
{
    copy_env(s->server, sizeof s->server, "RGPU_SERVER", RG_DEFAULT_SERVER);
    read_token(s->token, sizeof s->token);
    const char *devs = getenv("RGPU_DEVICES");
    s->all_devices = devs && !strcmp(devs, "all");
    if (!s->all_devices)
        s->devices_wanted = (unsigned)env_long("RGPU_DEVICES", 0, 0, RG_MAX_DEVICES);
    s->timeout_ms = (int)env_long("RGPU_TIMEOUT", RG_DEFAULT_TIMEOUT_S, 1, 86400) * 1000;
    s->launch_blocking = env_long("CUDA_LAUNCH_BLOCKING", 0, 0, 1) == 1;
}

/* The device address window (DESIGN rule 2): reserved, never accessible here.
 * It must be free in the session worker too, so it is taken from a quiet part
 * of the address space, 16 to 80 TiB, at a random slot of the window's size.
 * Nothing lands there by itself on x86-64 Linux: non-PIE programs and their
 * heap sit near 4 MiB, PIE programs and their heap at 2/3 of the 128 TiB user
 * space (0x55..-0x56.., about 85 TiB: a window there collided with the
 * worker's own program now and then), libraries and stacks below 128 TiB. */
#define WINDOW_ZONE 0x100000000000ull
#define WINDOW_SLOTS ((0x500000000000ull - WINDOW_ZONE) / RG_WINDOW_SIZE)

static void *map_window(void *hint, int flags)
{
    void *p = mmap(hint, RG_WINDOW_SIZE, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int reserve_window(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid();
    void *p = NULL;
    for (int i = 0; i < 8 && !p; i++) {
        uint64_t slot = rand_r(&seed) % WINDOW_SLOTS;
        p = map_window((void *)(uintptr_t)(WINDOW_ZONE + slot * RG_WINDOW_SIZE),
                       MAP_FIXED_NOREPLACE);
    }
    if (!p) p = map_window(NULL, 0);
    if (!p) {
        rg_log(RG_LOG_ERROR, "cannot reserve the %llu GiB device address window: %s",
               RG_WINDOW_SIZE >> 30, strerror(errno));
        return -1;
    }
    rg_sess.window = p;
    rg_sess.window_size = RG_WINDOW_SIZE;
    return 0;
}

static void forked_child(void)
{
    if (atomic_load(&rg_sess.state) != RG_UNINIT) atomic_store(&rg_sess.forked, 1);
}

static CUresult init_once(void)
{
    read_settings(&rg_sess.cfg);
    if (reserve_window()) return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult r = rg_conn_open();
    if (r != CUDA_SUCCESS) {
        munmap(rg_sess.window, rg_sess.window_size);
        rg_sess.window = NULL;
    }
    return r;
}

static CUresult do_init(unsigned int flags)
{
    if (atomic_load(&rg_sess.forked)) return CUDA_ERROR_NOT_INITIALIZED;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&init_lock);
    if (atomic_load(&rg_sess.state) == RG_UNINIT) {
        static int atfork_done;
        if (!atfork_done) atfork_done = pthread_atfork(NULL, NULL, forked_child) == 0;
        rg_darkhost_install();
        rg_params_install();
        rg_sess.init_result = init_once();
        atomic_store(&rg_sess.state, rg_sess.init_result == CUDA_SUCCESS ? RG_READY : RG_FAILED);
    }
    CUresult r = rg_sess.init_result;
    pthread_mutex_unlock(&init_lock);
    return r;
}

CUresult rg_ready(void)
{
    if (atomic_load(&rg_sess.forked)) return CUDA_ERROR_NOT_INITIALIZED;
    switch (atomic_load(&rg_sess.state)) {
    case RG_UNINIT:
        return CUDA_ERROR_NOT_INITIALIZED;
    case RG_FAILED:
        return rg_sess.init_result;
    default:
        return rg_conn_lost() ? CUDA_ERROR_DEVICE_UNAVAILABLE : CUDA_SUCCESS;
    }
}

CUresult rg_shim_init(unsigned int flags)
{
    int saved = errno;
    CUresult r = do_init(flags);
    errno = saved;
    return r;
}

#ifdef RG_SHIM_OWN_CUINIT
CUresult cuInit(unsigned int Flags)
{
    return rg_shim_init(Flags);
}
#endif

/* The backend's version, as the server reported it; answered before cuInit
 * too (the real driver does), with the toolkit's version until then. */
CUresult cuDriverGetVersion(int *driverVersion)
{
    if (!driverVersion) return CUDA_ERROR_INVALID_VALUE;
    if (atomic_load(&rg_sess.forked)) return CUDA_ERROR_NOT_INITIALIZED;
    int v = atomic_load(&rg_sess.state) == RG_READY ? rg_sess.driver_version : 0;
    *driverVersion = v > 0 ? v : CUDA_VERSION;
    return CUDA_SUCCESS;
}
