/* modtest.c — helpers and embedded PTX for the module/launch tests. */
#include "modtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

CUcontext mt_ctx(void)
{
    static CUcontext ctx;
    CUdevice dev;
    if (ctx) {
        cuCtxSetCurrent(ctx);
        return ctx;
    }
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev)) return NULL;
    if (cuCtxSetCurrent(ctx)) return NULL;
    return ctx;
}

const char *mt_path(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", MOD_DATA_DIR, name);
    return path;
}

char *mt_read(const char *name, size_t *size)
{
    FILE *f = fopen(mt_path(name), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? calloc(1, (size_t)n + 16) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf && size) *size = (size_t)n;
    return buf;
}

char *mt_capture(int which, void (*fn)(void *), void *arg)
{
    char tmpl[] = "/tmp/rgpu-modtest-XXXXXX";
    FILE *stream = which == 1 ? stdout : stderr;
    int fd = mkstemp(tmpl);
    if (fd < 0) return NULL;
    unlink(tmpl);
    fflush(stream);
    int saved = dup(which);
    dup2(fd, which);
    fn(arg);
    fflush(stream);
    dup2(saved, which);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    char *out = calloc(1, (size_t)n + 1);
    if (out && pread(fd, out, (size_t)n, 0) != n) out[0] = 0;
    close(fd);
    return out;
}

const char mt_ptx_basic[] = ".version 8.0\n"
                            ".target sm_80\n"
                            ".address_size 64\n"
                            "\n"
                            ".visible .global .align 4 .u32 g_val = 7;\n"
                            ".global .align 4 .b8 g_arr[8] = {1, 2, 3, 4, 5, 6, 7, 8};\n"
                            ".const .align 4 .u32 c_k = 5;\n"
                            "\n"
                            ".visible .entry add_k(\n"
                            "\t.param .u64 add_k_param_0,\n"
                            "\t.param .u32 add_k_param_1\n"
                            ")\n"
                            "{\n"
                            "\t.reg .pred \t%p<2>;\n"
                            "\t.reg .b32 \t%r<8>;\n"
                            "\t.reg .b64 \t%rd<5>;\n"
                            "\n"
                            "\tld.param.u64 \t%rd1, [add_k_param_0];\n"
                            "\tld.param.u32 \t%r2, [add_k_param_1];\n"
                            "\tmov.u32 \t%r3, %ctaid.x;\n"
                            "\tmov.u32 \t%r4, %ntid.x;\n"
                            "\tmov.u32 \t%r5, %tid.x;\n"
                            "\tmad.lo.s32 \t%r1, %r3, %r4, %r5;\n"
                            "\tsetp.ge.s32 \t%p1, %r1, %r2;\n"
                            "\t@%p1 bra \t$L__BB0_2;\n"
                            "\tcvta.to.global.u64 \t%rd2, %rd1;\n"
                            "\tmul.wide.s32 \t%rd3, %r1, 4;\n"
                            "\tadd.s64 \t%rd4, %rd2, %rd3;\n"
                            "\tld.global.u32 \t%r6, [%rd4];\n"
                            "\tld.const.u32 \t%r7, [c_k];\n"
                            "\tadd.s32 \t%r6, %r6, %r7;\n"
                            "\tst.global.u32 \t[%rd4], %r6;\n"
                            "$L__BB0_2:\n"
                            "\tret;\n"
                            "}\n"
                            "\n"
                            ".visible .entry nop()\n"
                            "{\n"
                            "\tret;\n"
                            "}\n";

const char mt_ptx_sm120[] = ".version 8.7\n"
                            ".target sm_120\n"
                            ".address_size 64\n"
                            "\n"
                            ".visible .entry e120()\n"
                            "{\n"
                            "\tret;\n"
                            "}\n";

const char mt_ptx_link_x[] = "// unit X: uses twice() from unit Y; has its own $tag\n"
                             ".version 8.0\n"
                             ".target sm_80\n"
                             ".address_size 64\n"
                             "\n"
                             ".extern .func (.param .b32 func_retval0) twice\n"
                             "(\n"
                             "\t.param .b32 twice_param_0\n"
                             ")\n"
                             ";\n"
                             ".global .align 4 .u32 $tag = 1;\n"
                             "\n"
                             ".visible .entry use_twice(\n"
                             "\t.param .u64 use_twice_param_0\n"
                             ")\n"
                             "{\n"
                             "\t.reg .b32 \t%r<4>;\n"
                             "\t.reg .b64 \t%rd<3>;\n"
                             "\n"
                             "\tld.param.u64 \t%rd1, [use_twice_param_0];\n"
                             "\tcvta.to.global.u64 \t%rd2, %rd1;\n"
                             "\tld.global.u32 \t%r1, [%rd2];\n"
                             "\t{\n"
                             "\t.param .b32 param0;\n"
                             "\tst.param.b32 \t[param0+0], %r1;\n"
                             "\t.param .b32 retval0;\n"
                             "\tcall.uni (retval0), twice, (param0);\n"
                             "\tld.param.b32 \t%r2, [retval0+0];\n"
                             "\t}\n"
                             "\tld.global.u32 \t%r3, [$tag];\n"
                             "\tadd.s32 \t%r2, %r2, %r3;\n"
                             "\tst.global.u32 \t[%rd2], %r2;\n"
                             "\tret;\n"
                             "}\n";

const char mt_ptx_link_y[] = "/* unit Y: defines twice(); its own $tag */\n"
                             ".version 8.0\n"
                             ".target sm_80\n"
                             ".address_size 64\n"
                             "\n"
                             ".global .align 4 .u32 $tag = 1000;\n"
                             "\n"
                             ".visible .func (.param .b32 func_retval0) twice(\n"
                             "\t.param .b32 twice_param_0\n"
                             ")\n"
                             "{\n"
                             "\t.reg .b32 \t%r<4>;\n"
                             "\n"
                             "\tld.param.u32 \t%r1, [twice_param_0];\n"
                             "\tld.global.u32 \t%r2, [$tag];\n"
                             "\tshl.b32 \t%r3, %r1, 1;\n"
                             "\tadd.s32 \t%r3, %r3, %r2;\n"
                             "\tst.param.b32 \t[func_retval0+0], %r3;\n"
                             "\tret;\n"
                             "}\n";
