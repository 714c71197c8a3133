/* gl_bench.c — `rgpu-bench gl`: a gears demo (glxgears by default; mesa-utils,
 * unmodified) on local llvmpipe and through rgpu (rgpu-run --gl, a private rgpud
 * on loopback) in the same run, on a private Xvfb: frames per second and, through
 * rgpu, bytes on the wire and round trips per frame (rg_glc_stats, printed by the
 * GL library at exit with RGPU_LOG=info). gl_gearshot.so (tests/gl/gearshot.c)
 * gives both runs the same fake clock, so they draw the same frames; the rate is
 * the real time of the frames after a warm-up, the per-frame traffic the
 * difference between a run of warm-up + N frames and one of the warm-up alone. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int bench_gl_main(int argc, char **argv);

struct gl_run {
    double secs;                 /* real time of the timed frames, 0 if not reported */
    unsigned long long stats[5]; /* batches, waited, command bytes, data bytes, received */
    int have_stats;
    unsigned long long frames[4]; /* frame channel: received, shown, replaced, server dropped */
};

static char bindir[PATH_MAX], gearshot[PATH_MAX + 32];

static void parse_line(const char *line, struct gl_run *r)
{
    long n;
    double s;
    const char *p;
    if (sscanf(line, "gearshot: %ld frames in %lf s", &n, &s) == 2) r->secs = s;
    if ((p = strstr(line, "GL: ")) &&
        sscanf(p,
               "GL: %llu batches (%llu waited), %llu bytes of commands + %llu of data sent, "
               "%llu received",
               &r->stats[0], &r->stats[1], &r->stats[2], &r->stats[3], &r->stats[4]) == 5)
        r->have_stats = 1;
    if ((p = strstr(line, "GL frames: ")))
        sscanf(p,
               "GL frames: %llu received (%*u bytes), %llu shown, %llu replaced by a newer one "
               "before they were shown, %llu dropped by the server",
               &r->frames[0], &r->frames[1], &r->frames[2], &r->frames[3]);
}

/* Runs PROG until swap warm + frames (gearshot ends it there); through rgpu when
 * server is set, with RGPU_GL_FRAMES=mode when mode is. 0, or -1 with why set. */
static int run_prog(const char *prog, const char *server, const char *mode, long warm, long frames,
                    struct gl_run *r, char *why, size_t len)
{
    memset(r, 0, sizeof *r);
    int fds[2];
    if (pipe(fds) != 0) return snprintf(why, len, "pipe: %s", strerror(errno)), -1;
    pid_t pid = fork();
    if (pid < 0) return snprintf(why, len, "fork: %s", strerror(errno)), -1;
    if (pid == 0) {
        char n[32], w[32], rgpurun[PATH_MAX + 16];
        snprintf(n, sizeof n, "%ld", warm + frames);
        snprintf(w, sizeof w, "%ld", frames ? warm : 0);
        setenv("RG_SHOT_FRAME", n, 1);
        setenv("RG_SHOT_WARMUP", w, 1);
        unsetenv("RG_SHOT_FILE");
        setenv("LD_PRELOAD", gearshot, 1);
        unsetenv("__GLX_VENDOR_LIBRARY_NAME");
        unsetenv("__EGL_VENDOR_LIBRARY_FILENAMES");
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (!server) {
            execlp("timeout", "timeout", "300", prog, (char *)NULL);
        } else {
            setenv("RGPU_SERVER", server, 1);
            setenv("RGPU_LOG", "info", 1);
            if (mode) setenv("RGPU_GL_FRAMES", mode, 1);
            else unsetenv("RGPU_GL_FRAMES");
            snprintf(rgpurun, sizeof rgpurun, "%s/rgpu-run", bindir);
            execlp("timeout", "timeout", "300", rgpurun, "--gl", prog, (char *)NULL);
        }
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[512];
    while (in && fgets(line, sizeof line, in))
        parse_line(line, r);
    if (in) fclose(in);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return snprintf(why, len, "%s %s did not finish its frames (status %d)", prog,
                        server ? "through rgpu" : "on local llvmpipe", st),
               -1;
    if (frames && r->secs <= 0) return snprintf(why, len, "%s reported no timing", prog), -1;
    if (server && !r->have_stats) return snprintf(why, len, "no GL statistics at exit"), -1;
    return 0;
}

/* A private Xvfb on a free display number; its pid, or -1. */
static pid_t start_xvfb(char *display, size_t len)
{
    for (int n = 90; n < 190; n++) {
        char sock[64], lock[64];
        snprintf(sock, sizeof sock, "/tmp/.X11-unix/X%d", n);
        snprintf(lock, sizeof lock, "/tmp/.X%d-lock", n);
        if (access(sock, F_OK) == 0 || access(lock, F_OK) == 0) continue;
        snprintf(display, len, ":%d", n);
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            execlp("Xvfb", "Xvfb", display, "-screen", "0", "640x480x24", "-nolisten", "tcp",
                   (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 100; i++) {
            if (access(sock, F_OK) == 0) return pid;
            if (waitpid(pid, NULL, WNOHANG) == pid) return -1;
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: rgpu-bench gl [--program NAME] [--frames N] [--warmup N] [--out DIR]\n"
               "\n"
               "Runs a gears demo (default glxgears; es2gears_x11 too) on a private Xvfb,\n"
               "on local llvmpipe and through rgpu against a private rgpud on loopback, and\n"
               "prints frames per second of both, bytes on the wire and round trips per frame\n"
               "through rgpu. Both runs draw the same frames (a fake clock, gl_gearshot.so).\n"
               "Through rgpu it runs twice: with the frame channel (the default: a swap does\n"
               "not wait for its frame) and with RGPU_GL_FRAMES=sync (every swap waits).\n");
}

int bench_gl_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"program", required_argument, 0, 'p'}, {"frames", required_argument, 0, 'f'},
        {"warmup", required_argument, 0, 'w'},  {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *prog = "glxgears", *out = "rgpu-bench-results";
    long frames = 600, warm = 60;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:f:w:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            prog = optarg;
            break;
        case 'f':
            frames = strtol(optarg, NULL, 10);
            break;
        case 'w':
            warm = strtol(optarg, NULL, 10);
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (frames < 1 || warm < 1) {
        usage(stderr);
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", bindir, sizeof bindir - 1);
    if (n <= 0) return perror("rgpu-bench: /proc/self/exe"), 1;
    bindir[n] = 0;
    dirname(bindir);
    snprintf(gearshot, sizeof gearshot, "%s/../tests/gl_gearshot.so", bindir);
    if (access(gearshot, R_OK) != 0) {
        printf("rgpu-bench gl: SKIPPED: %s is not built (GL tests need X11 headers)\n", gearshot);
        return 0;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "rgpu-bench gl: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    char display[16], why[256] = "";
    pid_t xvfb = start_xvfb(display, sizeof display);
    if (xvfb < 0) {
        printf("rgpu-bench gl: SKIPPED: no private Xvfb (xvfb installed?)\n");
        return 0;
    }
    setenv("DISPLAY", display, 1);
    struct bench_rgpud d;
    struct gl_run local, remote, base, sync;
    int rc = 1;
    if (bench_rgpud_start(&d, bindir, "tcp://127.0.0.1:0", "simgpu", out, why, sizeof why) != 0)
        goto fail_x;
    fprintf(stderr, "rgpu-bench gl: %s, %ld frames after %ld, local llvmpipe ...\n", prog, frames,
            warm);
    if (run_prog(prog, NULL, NULL, warm, frames, &local, why, sizeof why) != 0) goto fail;
    fprintf(stderr, "rgpu-bench gl: through rgpu ...\n");
    if (run_prog(prog, d.url, NULL, warm, frames, &remote, why, sizeof why) != 0 ||
        run_prog(prog, d.url, NULL, warm, 0, &base, why, sizeof why) != 0)
        goto fail;
    fprintf(stderr, "rgpu-bench gl: through rgpu, every swap waiting for its frame ...\n");
    if (run_prog(prog, d.url, "sync", warm, frames, &sync, why, sizeof why) != 0) goto fail;
    double lf = (double)frames / local.secs, rf = (double)frames / remote.secs;
    double sf = (double)frames / sync.secs;
    double shown = (double)(remote.frames[1] - base.frames[1]) / (double)frames;
    unsigned long long dropped = remote.frames[3] + remote.frames[2] - base.frames[3] -
                                 base.frames[2];
    unsigned long long sent = remote.stats[2] + remote.stats[3] - base.stats[2] - base.stats[3];
    unsigned long long recv = remote.stats[4] - base.stats[4];
    double waits = (double)(remote.stats[1] - base.stats[1]) / (double)frames;
    double batches = (double)(remote.stats[0] - base.stats[0]) / (double)frames;
    printf("%-24s %-12s %-8s %12s  %s\n", "benchmark", "program", "backend", "value", "unit");
    printf("%-24s %-12s %-8s %12.1f  frames/s\n", "gl_fps", prog, "local", lf);
    printf("%-24s %-12s %-8s %12.1f  frames/s (%.1f%% of local)\n", "gl_fps", prog, "tcp", rf,
           100.0 * rf / lf);
    printf("%-24s %-12s %-8s %12.1f  frames/s (%.1f%% of local; RGPU_GL_FRAMES=sync)\n", "gl_fps",
           prog, "tcp-sync", sf, 100.0 * sf / lf);
    printf("%-24s %-12s %-8s %12.1f  %% of swaps (%llu replaced or dropped)\n", "gl_frames_shown",
           prog, "tcp", 100.0 * shown, dropped);
    printf("%-24s %-12s %-8s %12.0f  bytes/frame sent\n", "gl_wire_bytes_sent", prog, "tcp",
           (double)sent / (double)frames);
    printf("%-24s %-12s %-8s %12.0f  bytes/frame received\n", "gl_wire_bytes_received", prog, "tcp",
           (double)recv / (double)frames);
    printf("%-24s %-12s %-8s %12.2f  per frame\n", "gl_batches", prog, "tcp", batches);
    printf("%-24s %-12s %-8s %12.2f  per frame\n", "gl_round_trips", prog, "tcp", waits);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/rgpu-bench-gl.json", out);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "{\"program\":\"%s\",\"frames\":%ld,\"local_fps\":%.2f,\"rgpu_fps\":%.2f,"
                "\"ratio\":%.4f,\"rgpu_sync_fps\":%.2f,\"sync_ratio\":%.4f,"
                "\"frames_shown_per_swap\":%.4f,\"bytes_sent_per_frame\":%.1f,"
                "\"bytes_received_per_frame\":%.1f,"
                "\"batches_per_frame\":%.3f,\"round_trips_per_frame\":%.3f}\n",
                prog, frames, lf, rf, rf / lf, sf, sf / lf, shown, (double)sent / (double)frames,
                (double)recv / (double)frames, batches, waits);
        fclose(f);
        printf("\nresults: %s\n", path);
    }
    rc = 0;
fail:
    bench_rgpud_stop(&d);
fail_x:
    kill(xvfb, SIGTERM);
    waitpid(xvfb, NULL, 0);
    if (rc) fprintf(stderr, "rgpu-bench gl: %s\n", why);
    return rc;
}
