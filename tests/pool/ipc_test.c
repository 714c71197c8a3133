/* ipc_test.c — CUDA IPC through rgpud between sessions (docs/pool.md, server/ipc.c):
 * real rgpud with a tenants file and ipc_peer programs under rgpu-run. Two
 * sessions of alice share a buffer (each checks what the other wrote) and an
 * interprocess event; bob's session is refused both handles with
 * INVALID_HANDLE and a log line; once the exporting session has ended its
 * handle opens nothing. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rgtest.h"
#include "verifier.h"

struct server {
    pid_t pid;
    char url[64], log[96];
};

/* rgpud on a free loopback port with the tenants file, its log in s->log. */
static int server_start(struct server *s, const char *tenants)
{
    char pf[96], port[16] = "";
    const char *bin = getenv("RGPUD");
    snprintf(pf, sizeof pf, "/tmp/rgpu-ipc-test-%d.port", (int)getpid());
    snprintf(s->log, sizeof s->log, "/tmp/rgpu-ipc-test-%d.log", (int)getpid());
    unlink(pf);
    if (!bin) return -1;
    s->pid = fork();
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) dup2(fd, 2);
        execl(bin, bin, "--listen", "tcp://127.0.0.1:0", "--backend", "simgpu", "--port-file", pf,
              "--admin", "off", "--tenants", tenants, "--log-level", "info", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            int ok = fgets(port, sizeof port, f) && atoi(port) > 0;
            fclose(f);
            if (ok) {
                unlink(pf);
                snprintf(s->url, sizeof s->url, "tcp://127.0.0.1:%d", atoi(port));
                return 0;
            }
        }
        usleep(10000);
    }
    return -1;
}

static void server_stop(struct server *s)
{
    if (s->pid <= 0) return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 500 && waitpid(s->pid, NULL, WNOHANG) != s->pid; i++)
        usleep(10000);
    kill(s->pid, SIGKILL); /* if it is still there */
    waitpid(s->pid, NULL, WNOHANG);
    unlink(s->log);
}

/* ipc_peer ARGS under rgpu-run as token's tenant; its stdin and stdout. */
static pid_t peer_start(const struct server *s, const char *token, const char *a1, const char *a2,
                        int *in, int *out)
{
    const char *run = getenv("RGPU_RUN"), *peer = getenv("IPC_PEER");
    int a[2], b[2];
    if (!run || !peer || pipe(a) || pipe(b)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(a[0], 0);
        dup2(b[1], 1);
        close(a[1]);
        close(b[0]);
        setenv("RGPU_SERVER", s->url, 1);
        setenv("RGPU_TOKEN", token, 1);
        unsetenv("RGPU_TOKEN_FILE");
        execl(run, run, peer, a1, a2, (char *)NULL);
        _exit(127);
    }
    close(a[0]);
    close(b[1]);
    *in = a[1];
    *out = b[0];
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* An importer (mode import or import-event) run to its end: the result of its
 * cuIpcOpen*Handle (-1: none) and exit status. */
static int import_as(const struct server *s, const char *token, const char *mode, const char *hex,
                     int *status)
{
    int in, out, r = -1;
    char line[64] = "";
    pid_t pid = peer_start(s, token, mode, hex, &in, &out);
    if (pid < 0) return -1;
    close(in);
    FILE *f = fdopen(out, "r");
    if (f && fgets(line, sizeof line, f) && !strncmp(line, "open ", 5)) r = atoi(line + 5);
    if (f) fclose(f);
    *status = wait_exit(pid);
    return r;
}

static int import(const struct server *s, const char *token, const char *hex, int *status)
{
    return import_as(s, token, "import", hex, status);
}

static int log_has(const struct server *s, const char *what)
{
    char buf[1 << 16];
    FILE *f = fopen(s->log, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return strstr(buf, what) != NULL;
}

RG_TEST(one_tenant_shares_another_is_refused)
{
    struct server s = {0};
    char va[256], vb[256], path[96], hex[256] = "", evhex[256] = "";
    int in, out, st = -1;
    if (!getenv("RGPU_RUN") || access(getenv("RGPU_RUN"), X_OK)) RG_SKIP("rgpu-run is not built");
    if (verifier("alice-secret-1", va, sizeof va) || verifier("bob-secret-22", vb, sizeof vb))
        RG_FAIL("rgpuctl hash-secret failed");
    snprintf(path, sizeof path, "/tmp/rgpu-ipc-test-%d.tenants", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "alice %s\nbob %s\n", va, vb);
    fclose(f);
    CHECK_EQ_INT(server_start(&s, path), 0);

    pid_t exp = peer_start(&s, "alice:alice-secret-1", "export", NULL, &in, &out);
    CHECK(exp > 0);
    FILE *eo = fdopen(out, "r");
    CHECK(eo && fgets(hex, sizeof hex, eo));
    hex[strcspn(hex, "\n")] = 0;
    CHECK_EQ_INT((int)strlen(hex), 128);
    CHECK(fgets(evhex, sizeof evhex, eo));
    evhex[strcspn(evhex, "\n")] = 0;
    CHECK_EQ_INT((int)strlen(evhex), 128);

    /* bob's session: the handle is not his tenant's */
    CHECK_EQ_INT(import(&s, "bob:bob-secret-22", hex, &st), 400); /* CUDA_ERROR_INVALID_HANDLE */
    CHECK_EQ_INT(st, 0);
    CHECK(log_has(&s, "IPC handle refused (it is another tenant's): tenant bob"));
    CHECK_EQ_INT(import_as(&s, "bob:bob-secret-22", "import-event", evhex, &st), 400);
    CHECK(log_has(&s, "cuIpcOpenEventHandle: IPC handle refused (it is another tenant's)"));
    CHECK_EQ_INT(import_as(&s, "alice:alice-secret-1", "import-event", evhex, &st), 0);
    CHECK_EQ_INT(st, 0);
    /* a memory handle is not an event handle */
    CHECK_EQ_INT(import_as(&s, "alice:alice-secret-1", "import-event", hex, &st), 400);
    /* a handle whose key was changed is refused too */
    char forged[256];
    snprintf(forged, sizeof forged, "%s", hex);
    forged[100] = forged[100] == '0' ? '1' : '0';
    CHECK_EQ_INT(import(&s, "alice:alice-secret-1", forged, &st), 400);

    /* alice's second session reads the buffer and writes its answer */
    CHECK_EQ_INT(import(&s, "alice:alice-secret-1", hex, &st), 0);
    CHECK_EQ_INT(st, 0);
    close(in); /* the exporter checks the answer, then ends */
    CHECK_EQ_INT(wait_exit(exp), 0);
    fclose(eo);

    /* the exporting session has ended: its handle opens nothing */
    for (int i = 0; i < 200 && !log_has(&s, "session 1 ended"); i++)
        usleep(10000);
    CHECK_EQ_INT(import(&s, "alice:alice-secret-1", hex, &st), 400);
    CHECK(log_has(&s, "IPC handle refused (no such export"));
    server_stop(&s);
    unlink(path);
}

RG_TEST_MAIN()
