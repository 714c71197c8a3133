/* printf.c — device printf comes home (DESIGN rule 10): a PTX kernel calling
 * vprintf, launched through the shim; its text appears on this process's
 * stdout by the time the synchronisation returns, not on the server's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

static const char fmt_text[] = "remote hello %d from thread %d\n";

static char *ptx_source(void)
{
    static char src[4096];
    char bytes[1024];
    rt_ptx_bytes(fmt_text, bytes, sizeof bytes);
    snprintf(src, sizeof src,
             ".version 8.0\n.target sm_80\n.address_size 64\n"
             ".extern .func (.param .b32 r) vprintf(.param .b64 f, .param .b64 a);\n"
             ".global .align 1 .b8 fmt[%zu] = {%s};\n"
             ".visible .entry hello(.param .u32 v)\n{\n"
             " .local .align 8 .b8 buf[8];\n .reg .b64 %%rd<5>;\n .reg .b32 %%r<4>;\n"
             " ld.param.u32 %%r1, [v];\n mov.u32 %%r2, %%tid.x;\n"
             " st.local.u32 [buf], %%r1;\n st.local.u32 [buf+4], %%r2;\n"
             " mov.u64 %%rd1, buf;\n cvta.local.u64 %%rd2, %%rd1;\n"
             " mov.u64 %%rd3, fmt;\n cvta.global.u64 %%rd4, %%rd3;\n"
             " { .param .b64 p0; st.param.b64 [p0], %%rd4; .param .b64 p1; st.param.b64 [p1], %%rd2;\n"
             "   .param .b32 r0; call.uni (r0), vprintf, (p0, p1); ld.param.b32 %%r3, [r0]; }\n"
             " ret;\n}\n",
             strlen(fmt_text) + 1, bytes);
    return src;
}

/* Runs hello<<<1, 4>>>(v) and cuCtxSynchronize with fd 1 on a temporary
 * file; returns what was written there (caller frees). */
static char *run_captured(CUfunction f, unsigned v, CUresult *r)
{
    int saved;
    FILE *tmp = rt_capture_begin(stdout, &saved);
    if (!tmp) return NULL;
    void *args[] = {&v};
    *r = cuLaunchKernel(f, 1, 1, 1, 4, 1, 1, 0, NULL, args, NULL);
    if (*r == CUDA_SUCCESS) *r = cuCtxSynchronize();
    return rt_capture_end(stdout, saved, tmp);
}

RG_TEST(device_printf_reaches_the_client)
{
    CUcontext ctx;
    CUmodule m;
    CUfunction f;
    CUresult r = CUDA_ERROR_UNKNOWN;
    CHECK_CU(rt_setup(&ctx));
    CHECK_CU(cuModuleLoadData(&m, ptx_source()));
    CHECK_CU(cuModuleGetFunction(&f, m, "hello"));
    for (unsigned v = 5; v < 8; v++) { /* every synchronisation brings its own output */
        char *out = run_captured(f, v, &r);
        CHECK(out);
        CHECK_CU(r);
        for (int t = 0; t < 4; t++) {
            char want[64];
            snprintf(want, sizeof want, "remote hello %u from thread %d\n", v, t);
            if (!strstr(out, want)) RG_FAIL("\"%s\" missing from stdout \"%s\"", want, out);
        }
        if (strlen(out) != 4 * strlen("remote hello 5 from thread 0\n"))
            RG_FAIL("stdout has more than the kernel's lines: \"%s\"", out);
        free(out);
    }
    CHECK_CU(cuModuleUnload(m));
}

RG_TEST_MAIN()
