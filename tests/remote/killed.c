/* killed.c — the server stops answering (SIGSTOP: silence) and later dies
 * (SIGKILL: connection reset): calls return an error within RGPU_TIMEOUT, never
 * hang, and the program exits normally. Run with RGPU_TIMEOUT=3. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

static void signal_server(int sig)
{
    const char *p = getenv("RGPUD_PID");
    if (p && atoi(p) > 0) kill(-atoi(p), sig); /* rgpud's process group */
}

/* Whether every process of rgpud's group has stopped: kill() only queues SIGSTOP,
 * and a worker thread busy-polling on another core answers a call within
 * microseconds if the call is sent before the stop takes effect. */
static int server_stopped(void)
{
    int group = atoi(getenv("RGPUD_PID")), seen = 0, running = 0;
    DIR *d = opendir("/proc");
    if (!d) return 1;
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *close = strrchr(buf, ')'); /* "pid (comm) state ppid pgrp ..." */
        char state;
        int ppid, pgrp;
        if (!close || sscanf(close + 1, " %c %d %d", &state, &ppid, &pgrp) != 3 || pgrp != group)
            continue;
        seen++;
        if (state != 'T' && state != 't') running++;
    }
    closedir(d);
    return seen > 0 && running == 0;
}

RG_TEST(silent_then_dead_server)
{
    if (!getenv("RGPUD_PID")) RG_SKIP("RGPUD_PID not set (run under with-rgpud.sh)");
    CUcontext ctx;
    CHECK_CU(rt_setup(&ctx));
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 4096));
    signal_server(SIGSTOP);
    for (int i = 0; i < 1000 && !server_stopped(); i++)
        usleep(1000);
    CHECK(server_stopped());
    double t0 = rt_now();
    CUresult r = cuCtxSynchronize();
    double waited = rt_now() - t0;
    signal_server(SIGKILL);
    signal_server(SIGCONT);
    CHECK_CU_IS(r, CUDA_ERROR_DEVICE_UNAVAILABLE);
    CHECK(waited >= 2.0 && waited < 6.0);
    t0 = rt_now();
    CHECK_CU_IS(cuMemAlloc(&d, 4096), CUDA_ERROR_DEVICE_UNAVAILABLE);
    CHECK_CU_IS(cuMemsetD8(d, 0, 4096), CUDA_ERROR_DEVICE_UNAVAILABLE);
    CHECK(rt_now() - t0 < 1.0);
}

RG_TEST_MAIN()
