/* probe.c — choosing the backend library without loading it: simgpu is found
 * beside rgpud (<bin>/../lib/simgpu); NVIDIA's driver is probed in a child
 * process that must load a libcuda.so.1 outside our build tree and see a device
 * (srv_child_start: pool.c asks the backend for its inventory the same way). */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "rgpud.h"

/* Where NVIDIA's installers put the driver, tried when the loader's own
 * search finds one of ours first. */
static const char *const nvidia_paths[] = {
    "libcuda.so.1",
    "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
    "/usr/lib64/libcuda.so.1",
    "/usr/lib/libcuda.so.1",
    "/usr/local/nvidia/lib64/libcuda.so.1",
    "/usr/lib/wsl/lib/libcuda.so.1",
};

/* <bin>/.. of rgpud: everything below is rgpu's own (shim, simgpu). */
static void build_root(char *out, size_t len)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", srv_self_exe);
    for (int i = 0; i < 2; i++) {
        char *s = strrchr(tmp, '/');
        if (s) *s = 0;
    }
    if (!realpath(tmp, out)) snprintf(out, len, "%s", tmp);
}

static int is_ours(const char *path)
{
    char root[PATH_MAX], real[PATH_MAX];
    build_root(root, sizeof root);
    if (!realpath(path, real)) return 1;
    size_t n = strlen(root);
    return (!strncmp(real, root, n) && real[n] == '/') || strstr(real, "/lib/rgpu/") ||
           strstr(real, "/lib/simgpu/");
}

int srv_child_start(int (*child)(const void *arg, int out), const void *arg, pid_t *pid)
{
    int p[2];
    if (pipe(p)) return -1;
    if ((*pid = fork()) < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (*pid == 0) {
        close(p[0]);
        _exit(child(arg, p[1]));
    }
    close(p[1]);
    return p[0];
}

void srv_child_end(int fd, pid_t pid)
{
    close(fd);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* In the probe child: loads candidates until one is NVIDIA's and has a device. */
static int probe_child(const void *arg, int out)
{
    (void)arg;
    for (size_t i = 0; i < sizeof nvidia_paths / sizeof *nvidia_paths; i++) {
        void *h = dlopen(nvidia_paths[i], RTLD_NOW | RTLD_LOCAL);
        struct link_map *lm = NULL;
        if (!h) continue;
        if (dlinfo(h, RTLD_DI_LINKMAP, &lm) || !lm || !lm->l_name || is_ours(lm->l_name)) continue;
        int (*init)(unsigned) = (int (*)(unsigned))dlsym(h, "cuInit");
        int (*count)(int *) = (int (*)(int *))dlsym(h, "cuDeviceGetCount");
        int n = 0;
        if (init && count && init(0) == 0 && count(&n) == 0 && n > 0) {
            char real[PATH_MAX];
            if (!realpath(lm->l_name, real)) snprintf(real, sizeof real, "%s", lm->l_name);
            ssize_t w = write(out, real, strlen(real));
            return w > 0 ? 0 : 1;
        }
    }
    return 1;
}

/* Runs the probe in a child (a broken driver cannot take the supervisor
 * down); 0 and the library path if NVIDIA's driver has a device. */
static int probe_nvidia(char *lib, size_t len)
{
    pid_t pid;
    int fd = srv_child_start(probe_child, NULL, &pid);
    if (fd < 0) return -1;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    ssize_t n = 0;
    if (poll(&pf, 1, 20000) > 0) n = read(fd, lib, len - 1);
    srv_child_end(fd, pid);
    if (n <= 0) return -1;
    lib[n] = 0;
    return 0;
}

static int simgpu_path(char *lib, size_t len)
{
    char root[PATH_MAX];
    build_root(root, sizeof root);
    snprintf(lib, len, "%s/lib/simgpu/libcuda.so.1", root);
    return access(lib, R_OK) ? -1 : 0;
}

int srv_backend_resolve(const struct srv_config *cfg, char *lib, size_t len, char *kind,
                        size_t kind_len)
{
    const char *b = cfg->backend;
    if (!strcmp(b, "auto") || !strcmp(b, "nvidia")) {
        if (probe_nvidia(lib, len) == 0) {
            snprintf(kind, kind_len, "nvidia");
            return 0;
        }
        if (!strcmp(b, "nvidia")) {
            srv_err("backend nvidia: no NVIDIA driver with a device could be loaded");
            return -1;
        }
        srv_info("no NVIDIA driver with a device; using simgpu");
        b = "simgpu";
    }
    if (!strcmp(b, "simgpu")) {
        snprintf(kind, kind_len, "simgpu");
        if (simgpu_path(lib, len) == 0) return 0;
        srv_err("backend simgpu: %s is missing", lib);
        return -1;
    }
    snprintf(kind, kind_len, "%s", b);
    snprintf(lib, len, "%s", b);
    if (access(lib, R_OK) == 0) return 0;
    srv_err("backend %s: cannot read it: %s", b, strerror(errno));
    return -1;
}
