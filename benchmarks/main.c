/* main.c — rgpu-bench: runs every benchmark once per backend, each backend in a
 * worker process that loads that backend's libcuda.so.1, and writes a table to
 * stdout, a JSON file and (when gnuplot is installed) PNG plots. Figures from
 * one run are comparable with each other; runs on a shared machine are not. */
#include <errno.h>
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

int bench_worker_main(bool quick, const char *only);
void bench_ir_sizes(void);

struct backend {
    const char *name;
    const char *what;
    const char *libdir; /* relative to the build tree's bin/ */
};

/* The remoting work adds rgpu over tcp / ucx here, each with the raw transport
 * figures it is compared against. */
static const struct backend backends[] = {
    {"simgpu", "native: the program directly on simgpu (no remoting)", "../lib/simgpu"},
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

struct result {
    char backend[32], bench[64], param[32], unit[24], error[160];
    double value;
};

static struct result *results;
static size_t nresults, cap;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rgpu-bench [--quick] [--out DIR] [--backend NAME] [--only PATTERN]\n"
            "\n"
            "Runs every rgpu benchmark against each backend and prints a table; writes\n"
            "DIR/rgpu-bench.json and, if gnuplot is installed, DIR/*.png.\n"
            "\n"
            "  --quick          smaller sizes and counts (a smoke run, seconds not minutes)\n"
            "  --out DIR        where to write results (default: rgpu-bench-results)\n"
            "  --backend NAME   run only this backend (default: all)\n"
            "  --only PATTERN   run only benchmarks whose name contains PATTERN\n"
            "  --list           list backends and benchmarks, then exit\n"
            "\nbackends:\n");
    for (size_t i = 0; i < NBACKENDS; i++) fprintf(f, "  %-10s %s\n", backends[i].name, backends[i].what);
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
    while (*p && i + 1 < n && (quoted ? *p != '"' : (*p != ',' && *p != '}'))) out[i++] = *p++;
    out[i] = 0;
    return true;
}

static struct result *new_result(void)
{
    if (nresults == cap) {
        cap = cap ? cap * 2 : 64;
        results = realloc(results, cap * sizeof *results);
        if (!results) { perror("rgpu-bench"); exit(1); }
    }
    struct result *r = &results[nresults];
    memset(r, 0, sizeof *r);
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

static int run_backend(const struct backend *b, const char *self, bool quick, const char *only)
{
    char exe[PATH_MAX], libdir[PATH_MAX];
    snprintf(exe, sizeof exe, "%s", self);
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
        char *argv[] = {(char *)self, "--worker", quick ? "--quick" : NULL, NULL, NULL, NULL};
        int a = quick ? 3 : 2;
        if (only) { argv[a++] = "--only"; argv[a++] = (char *)only; }
        execv(self, argv);
        perror("rgpu-bench: exec worker");
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[512];
    while (in && fgets(line, sizeof line, in)) add_result(b->name, line);
    if (in) fclose(in);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "rgpu-bench: backend %s: worker %s\n", b->name,
                WIFEXITED(status) ? "reported failures" : "crashed");
    return 0;
}

static void print_table(void)
{
    printf("%-22s %-10s %-12s %14s  %s\n", "benchmark", "param", "backend", "value", "unit");
    for (size_t i = 0; i < nresults; i++) {
        const struct result *r = &results[i];
        if (r->error[0]) printf("%-22s %-10s %-12s %14s  %s\n", r->bench, r->param, r->backend, "FAILED", r->error);
        else printf("%-22s %-10s %-12s %14.4g  %s\n", r->bench, r->param, r->backend, r->value, r->unit);
    }
}

static int write_json(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/rgpu-bench.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "rgpu-bench: %s: %s\n", path, strerror(errno)); return -1; }
    fprintf(f, "{\"results\":[\n");
    for (size_t i = 0; i < nresults; i++) {
        const struct result *r = &results[i];
        fprintf(f, "  {\"backend\":\"%s\",\"bench\":\"%s\",\"param\":\"%s\",", r->backend, r->bench, r->param);
        if (r->error[0]) fprintf(f, "\"error\":\"%s\"}", r->error);
        else fprintf(f, "\"value\":%.6g,\"unit\":\"%s\"}", r->value, r->unit);
        fprintf(f, "%s\n", i + 1 < nresults ? "," : "");
    }
    fprintf(f, "]}\n");
    fclose(f);
    printf("\nresults: %s\n", path);
    return 0;
}

/* Bandwidth series (benchmarks whose param is a byte count) as one PNG. */
static void write_plots(const char *dir)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        printf("plots: skipped (gnuplot not installed)\n");
        return;
    }
    char dat[PATH_MAX], gp[PATH_MAX];
    snprintf(dat, sizeof dat, "%s/bandwidth.dat", dir);
    snprintf(gp, sizeof gp, "%s/bandwidth.gp", dir);
    FILE *d = fopen(dat, "w"), *g = fopen(gp, "w");
    if (!d || !g) { if (d) fclose(d); if (g) fclose(g); return; }
    const char *series[] = {"h2d_pageable", "h2d_pinned", "d2h_pageable", "d2h_pinned"};
    fprintf(g, "set terminal png size 900,600\nset output '%s/bandwidth.png'\n"
               "set logscale x 2\nset xlabel 'bytes'\nset ylabel 'GB/s'\nset key left top\nplot ", dir);
    int idx = 0;
    for (size_t b = 0; b < NBACKENDS; b++)
        for (size_t s = 0; s < 4; s++) {
            fprintf(d, "# %s %s\n", backends[b].name, series[s]);
            for (size_t i = 0; i < nresults; i++)
                if (!strcmp(results[i].backend, backends[b].name) && !strcmp(results[i].bench, series[s]) && !results[i].error[0])
                    fprintf(d, "%s %g\n", results[i].param, results[i].value);
            fprintf(d, "\n\n");
            fprintf(g, "%s'%s' index %d with linespoints title '%s %s'", idx ? ", " : "", dat, idx,
                    backends[b].name, series[s]);
            idx++;
        }
    fprintf(g, "\n");
    fclose(d);
    fclose(g);
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "gnuplot '%s'", gp);
    if (system(cmd) == 0) printf("plot: %s/bandwidth.png\n", dir);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quick", no_argument, 0, 'q'}, {"out", required_argument, 0, 'o'},
        {"backend", required_argument, 0, 'b'}, {"only", required_argument, 0, 'O'},
        {"list", no_argument, 0, 'l'}, {"worker", no_argument, 0, 'w'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool quick = false, worker = false;
    const char *out = "rgpu-bench-results", *only_backend = NULL, *only = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "qo:b:O:lwh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quick = true; break;
        case 'o': out = optarg; break;
        case 'b': only_backend = optarg; break;
        case 'O': only = optarg; break;
        case 'w': worker = true; break;
        case 'l': usage(stdout); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (worker) return bench_worker_main(quick, only);

    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) { perror("rgpu-bench: /proc/self/exe"); return 1; }
    self[n] = 0;
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "rgpu-bench: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    int ran = 0;
    for (size_t i = 0; i < NBACKENDS; i++) {
        if (only_backend && strcmp(only_backend, backends[i].name)) continue;
        run_backend(&backends[i], self, quick, only);
        ran++;
    }
    if (!ran) { fprintf(stderr, "rgpu-bench: no backend named %s\n", only_backend); return 2; }
    if (!only || strstr("ptx_ir_bytes", only)) bench_ir_sizes();
    print_table();
    write_json(out);
    write_plots(out);
    for (size_t i = 0; i < nresults; i++)
        if (results[i].error[0]) return 1;
    return nresults ? 0 : 1;
}
