/* rgpud.c — a private rgpud for the rgpu backends of rgpu-bench, started as
 * rgpu-run's users would start one: the given backend, a free loopback port (read
 * back from --port-file), no admin socket, its own process group so its
 * session workers stop with it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int bench_rgpud_start(struct bench_rgpud *d, const char *bindir, const char *listen_url,
                      const char *backend, const char *outdir, char *why, size_t len)
{
    char bin[4096], portfile[4200], log[4200];
    snprintf(bin, sizeof bin, "%s/rgpud", bindir);
    snprintf(portfile, sizeof portfile, "%s/rgpud-%d.port", outdir, (int)getpid());
    snprintf(log, sizeof log, "%s/rgpud.log", outdir);
    unlink(portfile);
    memset(d, 0, sizeof *d);
    if (access(bin, X_OK) != 0) {
        snprintf(why, len, "%s is not built", bin);
        return -1;
    }
    fflush(NULL);
    d->pid = fork();
    if (d->pid < 0) {
        snprintf(why, len, "fork: %s", strerror(errno));
        return -1;
    }
    if (d->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) dup2(fd, STDOUT_FILENO), dup2(fd, STDERR_FILENO);
        execl(bin, bin, "--listen", listen_url, "--port-file", portfile, "--backend", backend,
              "--admin", "off", (char *)NULL);
        _exit(127);
    }
    setpgid(d->pid, d->pid); /* also here: no race with the child's own call */
    for (int i = 0; i < 200; i++) {
        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
            d->pid = 0;
            snprintf(why, len, "rgpud exited at start (see %s)", log);
            return -1;
        }
        FILE *f = fopen(portfile, "r");
        int port = 0;
        if (f) {
            int ok = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok && port > 0) {
                unlink(portfile);
                const char *scheme_end = strstr(listen_url, "://");
                snprintf(d->url, sizeof d->url, "%.*s://127.0.0.1:%d",
                         scheme_end ? (int)(scheme_end - listen_url) : 3, listen_url, port);
                return 0;
            }
        }
        nap_ms(50);
    }
    bench_rgpud_stop(d);
    snprintf(why, len, "rgpud did not start listening within 10 s (see %s)", log);
    return -1;
}

void bench_rgpud_stop(struct bench_rgpud *d)
{
    if (d->pid <= 0) return;
    kill(-d->pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
            d->pid = 0;
            return;
        }
        nap_ms(100);
    }
    kill(-d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
}
