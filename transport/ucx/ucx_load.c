/* ucx_load.c — transports kept in their own shared object, loaded the first
 * time their scheme is asked for (compiled into rg_transport, UCX or not).
 * librgpu_ucx.so is the one today: the client shim must not pull UCX into an
 * application that never asks for ucx:// (DESIGN: "A guest in someone else's
 * process"), so UCX comes in here, with its process-wide habits switched off
 * before its libraries' constructors read them. */
#include "../transport.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* UCX reads these when libucs/libucm load (signal handlers, malloc/mmap hooks,
 * the VFS thread, its log lines on stderr) or when a context is made (the
 * memory-type cache): off, unless the user set them; the transport's own
 * errors say what failed. They stay in the environment, so a UCX the
 * application loads later in the same process (MPI, NCCL) sees the same. */
static void ucx_env_defaults(void)
{
    static const char *const defaults[][2] = {
        {"UCX_MEM_EVENTS", "no"}, {"UCX_ERROR_SIGNALS", ""},  {"UCX_MEMTYPE_CACHE", "n"},
        {"UCX_VFS_ENABLE", "n"},  {"UCX_LOG_LEVEL", "fatal"},
    };
    int saved = errno;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        setenv(defaults[i][0], defaults[i][1], 0);
    errno = saved;
}

static struct plugin {
    const char *scheme, *file;
    void (*prepare)(void);
    int tried;
    tp_status st;
    tp_error why;
} plugins[] = {{"ucx", "librgpu_ucx.so", ucx_env_defaults}};

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* The directory of the object this code is linked into (the shim, rgpud, a test). */
static int own_dir(char *buf, size_t len)
{
    Dl_info di;
    if (!dladdr((void *)own_dir, &di) || !di.dli_fname) return -1;
    char path[PATH_MAX];
    if (!realpath(di.dli_fname, path)) snprintf(path, sizeof path, "%s", di.dli_fname);
    char *slash = strrchr(path, '/');
    if (!slash) return -1;
    *slash = 0;
    return snprintf(buf, len, "%s", path) < (int)len ? 0 : -1;
}

/* Beside the shim (lib/rgpu/), or lib/rgpu/ seen from bin/ and tests/. */
static void *open_plugin(const struct plugin *p, tp_error *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    const char *where[] = {"%s/%s", "%s/../lib/rgpu/%s"};
    if (own_dir(dir, sizeof dir)) {
        tp_fail(err, TP_ADDR, 0, "transport '%s': cannot locate %s", p->scheme, p->file);
        return NULL;
    }
    const char *first = NULL;
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, where[i], dir, p->file);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
        const char *e = dlerror();
        if (!first || !strstr(e ? e : "", "No such file")) first = e;
    }
    tp_fail(err, TP_ADDR, 0, "transport '%s' is not available (rgpu built without it?): %s",
            p->scheme, first ? first : p->file);
    return NULL;
}

static tp_status load(struct plugin *p, tp_error *err)
{
    int saved = errno;
    p->prepare();
    void *h = open_plugin(p, err);
    if (!h) goto fail;
    const tp_ops *(*entry)(unsigned) = (const tp_ops *(*)(unsigned))dlsym(h, "rgpu_tp_plugin");
    const tp_ops *ops = entry ? entry(TP_PLUGIN_ABI) : NULL;
    if (!ops || !ops->scheme || strcmp(ops->scheme, p->scheme)) {
        tp_fail(err, TP_ADDR, 0, "transport '%s': %s is not a matching rgpu transport", p->scheme,
                p->file);
        dlclose(h);
        goto fail;
    }
    tp_status st = tp_register(ops); /* the object stays loaded: its ops are in use */
    if (st != TP_OK && !tp_lookup(p->scheme))
        tp_fail(err, st, 0, "transport '%s': cannot register it", p->scheme);
    errno = saved;
    return tp_lookup(p->scheme) ? TP_OK : TP_ADDR;
fail:
    errno = saved;
    return TP_ADDR;
}

tp_status tp_plugin_load(const char *scheme, tp_error *err)
{
    for (size_t i = 0; scheme && i < sizeof plugins / sizeof plugins[0]; i++) {
        struct plugin *p = &plugins[i];
        if (strcmp(p->scheme, scheme)) continue;
        pthread_mutex_lock(&load_lock);
        if (!p->tried) {
            p->tried = 1;
            p->st = load(p, &p->why);
        }
        tp_status st = p->st;
        if (st != TP_OK && err) *err = p->why;
        pthread_mutex_unlock(&load_lock);
        return st;
    }
    return TP_ADDR; /* no such object: err untouched, the caller says "unknown" */
}
