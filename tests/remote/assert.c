/* assert.c — device assert text comes home (DESIGN rule 10): a PTX kernel
 * calling __assertfail, launched through the shim; the device runtime's line
 * appears on this process's stderr by the time the synchronisation that
 * reports CUDA_ERROR_ASSERT returns, and rgpud's own log lines do not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

static char *ptx_source(void)
{
    static char src[8192];
    char m[512], f[512], fn[512];
    rt_ptx_bytes("v != 0", m, sizeof m);
    rt_ptx_bytes("check.cu", f, sizeof f);
    rt_ptx_bytes("check", fn, sizeof fn);
    snprintf(src, sizeof src,
             ".version 8.0\n.target sm_80\n.address_size 64\n"
             ".extern .func __assertfail(.param .b64 m, .param .b64 f, .param .b32 l,"
             " .param .b64 fn, .param .b64 cs);\n"
             ".global .align 1 .b8 msg[7] = {%s};\n"
             ".global .align 1 .b8 file[9] = {%s};\n"
             ".global .align 1 .b8 func[6] = {%s};\n"
             ".visible .entry check(.param .u32 v)\n{\n"
             " .reg .b64 %%rd<7>;\n .reg .b32 %%r<3>;\n .reg .pred %%p1;\n"
             " ld.param.u32 %%r1, [v];\n setp.ne.u32 %%p1, %%r1, 0;\n @%%p1 bra DONE;\n"
             " mov.u64 %%rd1, msg;\n cvta.global.u64 %%rd2, %%rd1;\n"
             " mov.u64 %%rd3, file;\n cvta.global.u64 %%rd4, %%rd3;\n"
             " mov.u64 %%rd5, func;\n cvta.global.u64 %%rd6, %%rd5;\n"
             " { .param .b64 p0; st.param.b64 [p0], %%rd2; .param .b64 p1; st.param.b64 [p1], %%rd4;\n"
             "   .param .b32 p2; st.param.b32 [p2], 7; .param .b64 p3; st.param.b64 [p3], %%rd6;\n"
             "   .param .b64 p4; st.param.b64 [p4], 1;\n"
             "   call.uni __assertfail, (p0, p1, p2, p3, p4); }\n"
             "DONE:\n ret;\n}\n",
             m, f, fn);
    return src;
}

/* check<<<1, 1>>>(v) and cuCtxSynchronize with fd 2 on a temporary file;
 * returns what was written there (caller frees). */
static char *run_captured(CUfunction f, unsigned v, CUresult *launch, CUresult *sync)
{
    int saved;
    FILE *tmp = rt_capture_begin(stderr, &saved);
    if (!tmp) return NULL;
    void *args[] = {&v};
    *launch = cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL);
    *sync = cuCtxSynchronize();
    return rt_capture_end(stderr, saved, tmp);
}

RG_TEST(device_assert_reaches_the_clients_stderr)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction f;
    CUresult launch, sync;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx_source()));
    CHECK_CU(cuModuleGetFunction(&f, m, "check"));
    char *quiet = run_captured(f, 1, &launch, &sync); /* no assert: nothing on stderr */
    CHECK(quiet);
    CHECK_CU(launch);
    CHECK_CU(sync);
    if (strstr(quiet, "Assertion")) RG_FAIL("stderr without an assert: \"%s\"", quiet);
    free(quiet);
    char *err = run_captured(f, 0, &launch, &sync);
    CHECK(err);
    CHECK(launch == CUDA_SUCCESS || launch == CUDA_ERROR_ASSERT);
    CHECK_CU_IS(sync, CUDA_ERROR_ASSERT);
    if (!strstr(err, "check.cu:7: check: block: [0,0,0], thread: [0,0,0] Assertion `v != 0` failed.\n"))
        RG_FAIL("assert line missing from stderr \"%s\"", err);
    if (strstr(err, "rgpud[") || strstr(err, ": kernel check:"))
        RG_FAIL("the server's log reached the client's stderr: \"%s\"", err);
    free(err);
}

RG_TEST_MAIN()
