/* main.c — rgpu-bench: runs every benchmark once per backend and round, each
 * backend in a worker process that loads that backend's libcuda.so.1, and
 * writes a table to stdout, a JSON file and (when gnuplot is installed) PNG
 * plots. rgpu backends run against a private rgpud, after the raw limits of
 * their transport are measured (raw_transport.c). Figures from one run are
 * comparable with each other; runs on a shared machine are not. With several
 * rounds, each round runs every backend (in turn, starting from a different
 * one each time) and every figure is the median of its rounds; a ratio is the
 * median of the ratios within each round, so that a neighbour who slows the
 * machine for a minute moves both sides of a ratio together. */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "transport.h"

int bench_worker_main(bool quick, const char *only);
int bench_gl_main(int argc, char **argv); /* `rgpu-bench gl` (gl_bench.c) */
void bench_ir_sizes(void);

/* One column of the comparison. A native backend runs the benchmark worker
 * directly on simgpu; an rgpu backend runs it with the client shim against a
 * private rgpud over `scheme`, and the raw limits of that transport are
 * measured in the same run under `raw` (every rgpu figure is printed as a
 * ratio to its limit). A backend that cannot run here is skipped with a reason. */
struct backend {
    const char *name;
    const char *what;
    const char *libdir; /* relative to the build tree's bin/ */
    const char *scheme; /* NULL: native; else the transport's URL scheme */
    const char *env;    /* NAME=VALUE for client, server and raw peers, or NULL */
    const char *raw;    /* backend name of the raw transport rows */
};

static const struct backend backends[] = {
    {"simgpu", "native: the program directly on simgpu (no remoting)", "../lib/simgpu", NULL, NULL,
     NULL},
    {"tcp", "rgpu over tcp: the shim, a private rgpud (simgpu) on loopback", "../lib/rgpu", "tcp",
     NULL, "tcp-raw"},
    /* transport/ucx (lib/rgpu/librgpu_ucx.so, loaded when asked for); skipped without it */
    {"ucx-tcp", "rgpu over ucx with UCX_TLS=tcp", "../lib/rgpu", "ucx", "UCX_TLS=tcp",
     "ucx-tcp-raw"},
    {"ucx-shm", "rgpu over ucx with UCX_TLS=sm,self (shared memory)", "../lib/rgpu", "ucx",
     "UCX_TLS=sm,self", "ucx-shm-raw"},
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

#define MAX_ROUNDS 15

struct result {
    char backend[32], bench[64], param[32], unit[24], error[160];
    double value;
    double ratio;       /* value / reference, 0 if none */
    const char *versus; /* what the ratio is to */
    int round;
    /* summary rows (several rounds): each round's figure and ratio, in round order */
    int nvalues, nratios;
    double values[MAX_ROUNDS], ratios[MAX_ROUNDS];
};

/* Every row measured, then (summarise) one per benchmark, parameter and backend. */
static struct result *results;
static size_t nresults, cap;
static int cur_round, rounds = 1;
static char skipped[NBACKENDS][256];
/* On a GPU server: --native-lib names NVIDIA's libcuda.so.1 directory for the
 * native column, --server-backend what the private rgpud runs (rgpud --backend). */
static const char *native_lib, *server_backend = "simgpu";

static void usage(FILE *f)
{
    fprintf(f, "usage: rgpu-bench [--quick] [--out DIR] [--backend NAME] [--only PATTERN]\n"
               "       rgpu-bench gl [--help]   (glxgears through rgpu vs local llvmpipe)\n"
               "\n"
               "Runs every rgpu benchmark against each backend and prints a table; writes\n"
               "DIR/rgpu-bench.json and, if gnuplot is installed, DIR/*.png. Every rgpu\n"
               "figure is also given as a ratio to its limit: the raw transport measured in\n"
               "the same run (ping-pong, streaming), or native simgpu.\n"
               "\n"
               "  --quick          smaller sizes and counts (a smoke run, seconds not minutes)\n"
               "  --out DIR        where to write results (default: rgpu-bench-results)\n"
               "  --backend NAME   run only this backend (default: all)\n"
               "  --only PATTERN   run only benchmarks whose name contains PATTERN\n"
               "  --native-lib DIR the native column's libcuda.so.1 directory (a GPU server:\n"
               "                   NVIDIA's; default: simgpu's)\n"
               "  --server-backend NAME  what the private rgpud runs (rgpud --backend; default\n"
               "                   simgpu; nvidia on a GPU server)\n"
               "  --rounds N       run every backend N times (1-%d), in turn; report each\n"
               "                   figure's median, and each ratio as the median of the\n"
               "                   ratios within a round with its range (default 1)\n"
               "  --list           list backends and benchmarks, then exit\n"
               "\nbackends:\n",
            MAX_ROUNDS);
    for (size_t i = 0; i < NBACKENDS; i++)
        fprintf(f, "  %-10s %s\n", backends[i].name, backends[i].what);
}

/* Pull "key":"value" or "key":number out of one of our own JSON lines. */
static bool json_field(const char *line, const char *key, char *out, size_t n)
{
    char pat[48];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return false;
    p += strlen(pat);
    bool quoted = *p == '"';
    if (quoted) p++;
    size_t i = 0;
    while (*p && i + 1 < n && (quoted ? *p != '"' : (*p != ',' && *p != '}')))
        out[i++] = *p++;
    out[i] = 0;
    return true;
}

static struct result *new_result(void)
{
    if (nresults == cap) {
        cap = cap ? cap * 2 : 64;
        results = realloc(results, cap * sizeof *results);
        if (!results) {
            perror("rgpu-bench");
            exit(1);
        }
    }
    struct result *r = &results[nresults];
    memset(r, 0, sizeof *r);
    r->round = cur_round;
    return r;
}

/* A figure measured in this process rather than in a backend worker. */
void bench_add_row(const char *backend, const char *bench, const char *param, double value,
                   const char *unit, const char *error)
{
    struct result *r = new_result();
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    snprintf(r->bench, sizeof r->bench, "%s", bench);
    snprintf(r->param, sizeof r->param, "%s", param);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    if (error) snprintf(r->error, sizeof r->error, "%s", error);
    r->value = value;
    nresults++;
}

static void add_result(const char *backend, const char *line)
{
    struct result *r = new_result();
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    char num[64] = "";
    if (!json_field(line, "bench", r->bench, sizeof r->bench)) return;
    json_field(line, "param", r->param, sizeof r->param);
    json_field(line, "unit", r->unit, sizeof r->unit);
    json_field(line, "error", r->error, sizeof r->error);
    if (json_field(line, "value", num, sizeof num)) r->value = strtod(num, NULL);
    nresults++;
}

/* NAME=VALUE into the environment (of this process and what it forks). */
static void put_env(const char *kv)
{
    if (!kv) return;
    char name[64];
    const char *eq = strchr(kv, '=');
    if (!eq || eq - kv >= (long)sizeof name) return;
    snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
    setenv(name, eq + 1, 1);
}

static void drop_env(const char *kv)
{
    char name[64];
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq || eq - kv >= (long)sizeof name) return;
    snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
    unsetenv(name);
}

static int run_worker(const struct backend *b, const char *self, const char *server, bool quick,
                      const char *only)
{
    char exe[PATH_MAX], libdir[PATH_MAX];
    snprintf(exe, sizeof exe, "%s", self);
    if (!b->scheme && native_lib)
        snprintf(libdir, sizeof libdir, "%s", native_lib);
    else
        snprintf(libdir, sizeof libdir, "%s/%s", dirname(exe), b->libdir);
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        setenv("LD_LIBRARY_PATH", libdir, 1);
        if (server) { /* as rgpu-run does: the shim preloaded, RGPU_SERVER set */
            char shim[PATH_MAX + 16];
            snprintf(shim, sizeof shim, "%s/libcuda.so.1", libdir);
            setenv("LD_PRELOAD", shim, 1);
            setenv("RGPU_SERVER", server, 1);
        }
        char *argv[] = {(char *)self, "--worker", quick ? "--quick" : NULL, NULL, NULL, NULL};
        int a = quick ? 3 : 2;
        if (only) {
            argv[a++] = "--only";
            argv[a++] = (char *)only;
        }
        execv(self, argv);
        perror("rgpu-bench: exec worker");
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[512];
    while (in && fgets(line, sizeof line, in))
        add_result(b->name, line);
    if (in) fclose(in);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "rgpu-bench: backend %s: worker %s\n", b->name,
                WIFEXITED(status) ? "reported failures" : "crashed");
    return 0;
}

/* The raw row an rgpu figure is compared with: the transport's ping-pong for
 * the synchronous round trip, its push / pull series for copies (of the same
 * size), none for the rest (they are compared with native simgpu). */
struct raw_limit {
    const char *bench, *param, *versus; /* param NULL: the figure's own */
};
static const struct raw_limit *raw_limit_of(const char *bench)
{
    static const struct raw_limit pingpong = {"raw_pingpong", "48B", "raw ping-pong"},
                                  push = {"raw_push", NULL, "raw push"},
                                  pull = {"raw_pull", NULL, "raw pull"};
    if (!strcmp(bench, "sync_roundtrip")) return &pingpong;
    if (!strncmp(bench, "h2d_", 4)) return &push;
    if (!strncmp(bench, "d2h_", 4)) return &pull;
    return NULL;
}

/* Whether --only selects a figure with a raw limit, or a raw row itself:
 * without one, the raw series are not run. */
static bool wants_raw(const char *only)
{
    if (!only || strstr("raw_pingpong", only) || strstr("raw_push", only) ||
        strstr("raw_pull", only))
        return true;
    for (const struct bench_def *d = bench_driver_list; d->name; d++)
        if (strstr(d->name, only) && raw_limit_of(d->name)) return true;
    return false;
}

/* Runs one backend: native directly; rgpu after measuring its transport's raw
 * limits (when a selected figure needs them), against a private rgpud.
 * Returns 0, or -1 if it was skipped (the reason is kept for the table). */
static int run_backend(size_t bi, const char *self, const char *out, bool quick, const char *only)
{
    const struct backend *b = &backends[bi];
    char why[160] = "", bindir[PATH_MAX];
    if (!b->scheme) return run_worker(b, self, NULL, quick, only);
    tp_error te = {0};
    if (!tp_lookup(b->scheme) && tp_plugin_load(b->scheme, &te) != TP_OK) {
        snprintf(skipped[bi], sizeof skipped[bi], "transport %s is not available: %s", b->scheme,
                 te.msg[0] ? te.msg : "not in this build");
        return -1;
    }
    snprintf(bindir, sizeof bindir, "%s", self);
    dirname(bindir);
    char listen[64];
    snprintf(listen, sizeof listen, "%s://127.0.0.1:0", b->scheme);
    put_env(b->env);
    if (wants_raw(only)) fprintf(stderr, "rgpu-bench: %s: raw transport ...\n", b->raw);
    if (wants_raw(only) && bench_raw_transport(b->raw, listen, quick, why, sizeof why) != 0) {
        snprintf(skipped[bi], sizeof skipped[bi], "raw %s: %s", b->scheme, why);
        drop_env(b->env);
        return -1;
    }
    struct bench_rgpud d;
    if (bench_rgpud_start(&d, bindir, listen, server_backend, out, why, sizeof why) != 0) {
        snprintf(skipped[bi], sizeof skipped[bi], "%s", why);
        drop_env(b->env);
        return -1;
    }
    run_worker(b, self, d.url, quick, only);
    bench_rgpud_stop(&d);
    drop_env(b->env);
    return 0;
}

static bool same_row(const struct result *a, const char *backend, const char *bench,
                     const char *param)
{
    return !strcmp(a->backend, backend) && !strcmp(a->bench, bench) && !strcmp(a->param, param);
}

/* The figure of that round. */
static const struct result *find(const char *backend, const char *bench, const char *param,
                                 int round)
{
    for (size_t i = 0; i < nresults; i++) {
        const struct result *r = &results[i];
        if (!r->error[0] && r->round == round && same_row(r, backend, bench, param)) return r;
    }
    return NULL;
}

/* Each rgpu figure against its limit: its raw row (raw_limit_of) from the
 * same round, else native simgpu's figure (value / reference: above 1 is
 * slower for times, faster for rates). */
static void compute_ratios(void)
{
    for (size_t i = 0; i < nresults; i++) {
        struct result *r = &results[i];
        const struct backend *b = NULL;
        for (size_t k = 0; k < NBACKENDS; k++)
            if (!strcmp(backends[k].name, r->backend) && backends[k].scheme) b = &backends[k];
        if (!b || r->error[0]) continue;
        const struct raw_limit *lim = raw_limit_of(r->bench);
        const struct result *ref =
            lim ? find(b->raw, lim->bench, lim->param ? lim->param : r->param, r->round)
                : find("simgpu", r->bench, r->param, r->round);
        r->versus = lim ? lim->versus : "native";
        if (ref && ref->value > 0)
            r->ratio = r->value / ref->value;
        else
            r->versus = NULL;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n figures (the mean of the middle two for an even n). */
static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void range_of(const double *v, int n, double *lo, double *hi)
{
    *lo = *hi = v[0];
    for (int i = 1; i < n; i++) {
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

/* Several rounds: one row per backend, benchmark and parameter, in the order
 * first measured, with the median of the rounds' figures and of their
 * ratios. A failure in any round is the row's failure (the first one's text). */
static void summarise(void)
{
    if (rounds < 2) return;
    struct result *all = results, *sum = calloc(nresults ? nresults : 1, sizeof *sum);
    size_t n = 0;
    if (!sum) {
        perror("rgpu-bench");
        exit(1);
    }
    for (size_t i = 0; i < nresults; i++) {
        const struct result *r = &all[i];
        struct result *t = NULL;
        for (size_t k = 0; k < n && !t; k++)
            if (same_row(&sum[k], r->backend, r->bench, r->param)) t = &sum[k];
        if (!t) {
            t = &sum[n++];
            *t = *r;
            t->nvalues = t->nratios = 0;
            t->error[0] = 0;
        }
        if (r->error[0] && !t->error[0]) snprintf(t->error, sizeof t->error, "%s", r->error);
        if (r->error[0] || t->nvalues == MAX_ROUNDS) continue;
        t->values[t->nvalues++] = r->value;
        if (r->versus) {
            t->versus = r->versus;
            t->ratios[t->nratios++] = r->ratio;
        }
    }
    for (size_t k = 0; k < n; k++) {
        struct result *t = &sum[k];
        if (t->nvalues) t->value = median(t->values, t->nvalues);
        if (t->nratios) t->ratio = median(t->ratios, t->nratios);
        else t->versus = NULL;
    }
    free(all);
    results = sum;
    nresults = cap = n;
}

static void print_table(void)
{
    if (rounds > 1)
        printf("(%d rounds: medians; a ratio's range is over the rounds)\n", rounds);
    printf("%-22s %-10s %-12s %14s  %-14s %8s  %s\n", "benchmark", "param", "backend", "value",
           "unit", "ratio", "to");
    for (size_t i = 0; i < nresults; i++) {
        const struct result *r = &results[i];
        if (r->error[0]) {
            printf("%-22s %-10s %-12s %14s  %s\n", r->bench, r->param, r->backend, "FAILED",
                   r->error);
            continue;
        }
        printf("%-22s %-10s %-12s %14.4g  %-14s", r->bench, r->param, r->backend, r->value,
               r->unit);
        if (r->versus) printf(" %8.3f  %s", r->ratio, r->versus);
        if (r->versus && r->nratios > 1) {
            double lo, hi;
            range_of(r->ratios, r->nratios, &lo, &hi);
            printf(" (%.3f-%.3f)", lo, hi);
        }
        printf("\n");
    }
    for (size_t b = 0; b < NBACKENDS; b++)
        if (skipped[b][0])
            printf("%-22s %-10s %-12s %14s  %s\n", "*", "", backends[b].name, "SKIPPED",
                   skipped[b]);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s >= 0x20) fputc(*s, f);
    }
    fputc('"', f);
}

/* A summary row's figures by round (only with several rounds). */
static void json_series(FILE *f, const char *key, const double *v, int n)
{
    if (rounds < 2 || !n) return;
    fprintf(f, ",\"%s\":[", key);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.6g", i ? "," : "", v[i]);
    fprintf(f, "]");
}

static int write_json(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/rgpu-bench.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "rgpu-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(f, "{\"cores\":%ld,\"rounds\":%d,\"results\":[\n", cores, rounds);
    for (size_t i = 0; i < nresults; i++) {
        const struct result *r = &results[i];
        fprintf(f, "  {\"backend\":\"%s\",\"bench\":\"%s\",\"param\":\"%s\",", r->backend, r->bench,
                r->param);
        if (r->error[0]) {
            fprintf(f, "\"error\":");
            json_str(f, r->error);
            fprintf(f, "}");
        } else {
            fprintf(f, "\"value\":%.6g,\"unit\":\"%s\"", r->value, r->unit);
            if (r->versus) fprintf(f, ",\"ratio\":%.4f,\"ratio_to\":\"%s\"", r->ratio, r->versus);
            json_series(f, "values", r->values, r->nvalues);
            json_series(f, "ratios", r->ratios, r->nratios);
            fprintf(f, "}");
        }
        fprintf(f, "%s\n", i + 1 < nresults ? "," : "");
    }
    fprintf(f, "],\"skipped\":{");
    int first = 1;
    for (size_t b = 0; b < NBACKENDS; b++)
        if (skipped[b][0]) {
            fprintf(f, "%s\"%s\":", first ? "" : ",", backends[b].name);
            json_str(f, skipped[b]);
            first = 0;
        }
    fprintf(f, "}}\n");
    fclose(f);
    printf("\nresults: %s\n", path);
    return 0;
}

/* One data block per series that has points. Returns how many were written. */
static int plot_series(FILE *d, FILE *g, const char *dat, int idx, const char *backend,
                       const char *bench)
{
    int points = 0;
    for (size_t i = 0; i < nresults; i++)
        if (!strcmp(results[i].backend, backend) && !strcmp(results[i].bench, bench) &&
            !results[i].error[0])
            points++;
    if (!points) return 0;
    fprintf(d, "# %s %s\n", backend, bench);
    for (size_t i = 0; i < nresults; i++)
        if (!strcmp(results[i].backend, backend) && !strcmp(results[i].bench, bench) &&
            !results[i].error[0])
            fprintf(d, "%s %g\n", results[i].param, results[i].value);
    fprintf(d, "\n\n");
    fprintf(g, "%s'%s' index %d with linespoints title '%s %s'", idx ? ", " : "", dat, idx, backend,
            bench);
    return 1;
}

/* Copy bandwidth against size, one PNG per direction, with the raw limits. */
static void write_plot(const char *dir, const char *file, const char *title, const char *prefix,
                       const char *raw)
{
    char dat[PATH_MAX], gp[PATH_MAX];
    snprintf(dat, sizeof dat, "%s/%s.dat", dir, file);
    snprintf(gp, sizeof gp, "%s/%s.gp", dir, file);
    FILE *d = fopen(dat, "w"), *g = fopen(gp, "w");
    if (!d || !g) {
        if (d) fclose(d);
        if (g) fclose(g);
        return;
    }
    fprintf(g,
            "set terminal png noenhanced size 1100,650\nset output '%s/%s.png'\nset title '%s'\n"
            "set logscale xy 2\nset format x '%%.0b%%B'\nset xlabel 'bytes per copy'\n"
            "set ylabel 'GB/s (log)'\nset key outside right top\nset grid\nplot ",
            dir, file, title);
    int idx = 0;
    char pageable[32], pinned[32];
    snprintf(pageable, sizeof pageable, "%s_pageable", prefix);
    snprintf(pinned, sizeof pinned, "%s_pinned", prefix);
    for (size_t b = 0; b < NBACKENDS; b++) {
        idx += plot_series(d, g, dat, idx, backends[b].name, pageable);
        idx += plot_series(d, g, dat, idx, backends[b].name, pinned);
        if (backends[b].raw) idx += plot_series(d, g, dat, idx, backends[b].raw, raw);
    }
    fprintf(g, "\n");
    fclose(d);
    fclose(g);
    if (!idx) return;
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "gnuplot '%s'", gp);
    if (system(cmd) == 0) printf("plot: %s/%s.png\n", dir, file);
}

static void write_plots(const char *dir)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        printf("plots: skipped (gnuplot not installed)\n");
        return;
    }
    write_plot(dir, "h2d", "host to device (cuMemcpyHtoD)", "h2d", "raw_push");
    write_plot(dir, "d2h", "device to host (cuMemcpyDtoH)", "d2h", "raw_pull");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"quick", no_argument, 0, 'q'},
                                         {"out", required_argument, 0, 'o'},
                                         {"backend", required_argument, 0, 'b'},
                                         {"only", required_argument, 0, 'O'},
                                         {"native-lib", required_argument, 0, 'n'},
                                         {"server-backend", required_argument, 0, 's'},
                                         {"rounds", required_argument, 0, 'r'},
                                         {"list", no_argument, 0, 'l'},
                                         {"worker", no_argument, 0, 'w'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    if (argc > 1 && !strcmp(argv[1], "gl")) return bench_gl_main(argc - 1, argv + 1);
    bool quick = false, worker = false;
    const char *out = "rgpu-bench-results", *only_backend = NULL, *only = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "qo:b:O:n:s:r:lwh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quick = true;
            break;
        case 'o':
            out = optarg;
            break;
        case 'n':
            native_lib = optarg;
            break;
        case 's':
            server_backend = optarg;
            break;
        case 'b':
            only_backend = optarg;
            break;
        case 'O':
            only = optarg;
            break;
        case 'r': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > MAX_ROUNDS) {
                fprintf(stderr, "rgpu-bench: --rounds wants a number from 1 to %d, not '%s'\n",
                        MAX_ROUNDS, optarg);
                return 2;
            }
            rounds = (int)v;
            break;
        }
        case 'w':
            worker = true;
            break;
        case 'l':
            usage(stdout);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (worker) return bench_worker_main(quick, only);

    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        perror("rgpu-bench: /proc/self/exe");
        return 1;
    }
    self[n] = 0;
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "rgpu-bench: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    int ran = 0;
    for (size_t i = 0; i < NBACKENDS; i++)
        if (!only_backend || !strcmp(only_backend, backends[i].name)) ran++;
    if (!ran) {
        fprintf(stderr, "rgpu-bench: no backend named %s\n", only_backend);
        return 2;
    }
    for (cur_round = 0; cur_round < rounds; cur_round++) {
        if (rounds > 1) fprintf(stderr, "rgpu-bench: round %d of %d\n", cur_round + 1, rounds);
        for (size_t k = 0; k < NBACKENDS; k++) {
            size_t i = (k + (size_t)cur_round) % NBACKENDS; /* each round starts elsewhere */
            if (only_backend && strcmp(only_backend, backends[i].name)) continue;
            if (skipped[i][0]) continue; /* it could not run in an earlier round */
            if (run_backend(i, self, out, quick, only) != 0)
                fprintf(stderr, "rgpu-bench: backend %s skipped: %s\n", backends[i].name,
                        skipped[i]);
        }
    }
    cur_round = 0;
    if (!only || strstr("ptx_ir_bytes", only)) bench_ir_sizes();
    compute_ratios();
    summarise();
    print_table();
    write_json(out);
    write_plots(out);
    for (size_t i = 0; i < nresults; i++)
        if (results[i].error[0]) return 1;
    return nresults ? 0 : 1;
}
