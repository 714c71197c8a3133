/* gt.c — the graph tests' context, PTX kernels and small host callbacks. */
#include "gt.h"

#include <stdatomic.h>

static const char gt_ptx[] = ".version 8.0\n"
                             ".target sm_80\n"
                             ".address_size 64\n"
                             "\n"
                             ".visible .entry axpb(.param .u64 p, .param .u32 n,\n"
                             "                    .param .u32 a, .param .u32 b)\n"
                             "{\n"
                             "\t.reg .pred %p<2>;\n"
                             "\t.reg .b32 %r<10>;\n"
                             "\t.reg .b64 %rd<5>;\n"
                             "\tld.param.u64 %rd1, [p];\n"
                             "\tld.param.u32 %r2, [n];\n"
                             "\tld.param.u32 %r7, [a];\n"
                             "\tld.param.u32 %r8, [b];\n"
                             "\tmov.u32 %r3, %ctaid.x;\n"
                             "\tmov.u32 %r4, %ntid.x;\n"
                             "\tmov.u32 %r5, %tid.x;\n"
                             "\tmad.lo.s32 %r1, %r3, %r4, %r5;\n"
                             "\tsetp.ge.u32 %p1, %r1, %r2;\n"
                             "\t@%p1 bra DONE;\n"
                             "\tcvta.to.global.u64 %rd2, %rd1;\n"
                             "\tmul.wide.u32 %rd3, %r1, 4;\n"
                             "\tadd.s64 %rd4, %rd2, %rd3;\n"
                             "\tld.global.u32 %r6, [%rd4];\n"
                             "\tmad.lo.s32 %r6, %r6, %r7, %r8;\n"
                             "\tst.global.u32 [%rd4], %r6;\n"
                             "DONE:\n"
                             "\tret;\n"
                             "}\n"
                             "\n"
                             ".visible .entry addv(.param .u64 d, .param .u64 s, .param .u32 n)\n"
                             "{\n"
                             "\t.reg .pred %p<2>;\n"
                             "\t.reg .b32 %r<10>;\n"
                             "\t.reg .b64 %rd<8>;\n"
                             "\tld.param.u64 %rd1, [d];\n"
                             "\tld.param.u64 %rd5, [s];\n"
                             "\tld.param.u32 %r2, [n];\n"
                             "\tmov.u32 %r3, %ctaid.x;\n"
                             "\tmov.u32 %r4, %ntid.x;\n"
                             "\tmov.u32 %r5, %tid.x;\n"
                             "\tmad.lo.s32 %r1, %r3, %r4, %r5;\n"
                             "\tsetp.ge.u32 %p1, %r1, %r2;\n"
                             "\t@%p1 bra DONE;\n"
                             "\tcvta.to.global.u64 %rd2, %rd1;\n"
                             "\tcvta.to.global.u64 %rd6, %rd5;\n"
                             "\tmul.wide.u32 %rd3, %r1, 4;\n"
                             "\tadd.s64 %rd4, %rd2, %rd3;\n"
                             "\tadd.s64 %rd7, %rd6, %rd3;\n"
                             "\tld.global.u32 %r6, [%rd4];\n"
                             "\tld.global.u32 %r7, [%rd7];\n"
                             "\tadd.s32 %r6, %r6, %r7;\n"
                             "\tst.global.u32 [%rd4], %r6;\n"
                             "DONE:\n"
                             "\tret;\n"
                             "}\n";

CUcontext gt_ctx(void)
{
    static CUcontext ctx;
    CUdevice dev;
    if (ctx) return cuCtxSetCurrent(ctx) ? NULL : ctx;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev)) return NULL;
    if (cuCtxSetCurrent(ctx)) return NULL;
    return ctx;
}

CUmodule gt_module(void)
{
    static CUmodule mod;
    static int tried;
    if (!mod && !tried) {
        tried = 1;
        if (cuModuleLoadData(&mod, gt_ptx)) mod = NULL;
    }
    return mod;
}

CUfunction gt_func(const char *name)
{
    CUfunction f = NULL;
    if (!gt_module() || cuModuleGetFunction(&f, gt_module(), name)) return NULL;
    return f;
}

void gt_count(void *counter)
{
    atomic_fetch_add((_Atomic int *)counter, 1);
}

CUstreamCaptureStatus gt_capture_status(CUstream s)
{
    CUstreamCaptureStatus st = (CUstreamCaptureStatus)-1;
    if (cuStreamIsCapturing(s, &st)) return (CUstreamCaptureStatus)-1;
    return st;
}
