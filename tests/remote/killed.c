/* killed.c — the server stops answering (SIGSTOP: silence) and later dies
 * (SIGKILL: connection reset): calls return an error within RGPU_TIMEOUT, never
 * hang, and the program exits normally. Run with RGPU_TIMEOUT=3. */
#include <signal.h>
#include <stdlib.h>

#include "remote.h"

static void signal_server(int sig)
{
    const char *p = getenv("RGPUD_PID");
    if (p && atoi(p) > 0) kill(-atoi(p), sig); /* rgpud's process group */
}

RG_TEST(silent_then_dead_server)
{
    if (!getenv("RGPUD_PID")) RG_SKIP("RGPUD_PID not set (run under with-rgpud.sh)");
    CUcontext ctx;
    CHECK_CU(rt_setup(&ctx));
    CUdeviceptr d;
    CHECK_CU(cuMemAlloc(&d, 4096));
    signal_server(SIGSTOP);
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
