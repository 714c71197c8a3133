/* test_alu.c — per-instruction tests of the PTX interpreter with hand-written
 * PTX and hand-computed results: integer edge cases, float rounding, NaN
 * rules, conversions with saturation, bit manipulation. */
#include "ptx_util.h"

#include <math.h>

/* Run BODY in one thread; %rd1 = out, %rd2 = in. */
static int run_body(const char *body, const void *in, size_t insz, void *out, size_t outsz)
{
    static char src[16384];
    snprintf(src, sizeof src,
             PTX_HEADER
             ".visible .entry t(.param .u64 pout, .param .u64 pin)\n{\n"
             ".reg .b32 %%r<40>;\n.reg .b64 %%rd<40>;\n.reg .f32 %%f<40>;\n.reg .f64 %%fd<40>;\n"
             ".reg .pred %%p<10>;\n.reg .b16 %%h<10>;\n"
             "ld.param.u64 %%rd1, [pout];\nld.param.u64 %%rd2, [pin];\n%s\nret;\n}\n",
             body);
    pu_env *e = calloc(1, sizeof *e);
    if (pu_load(e, src)) {
        free(e);
        return -1;
    }
    void *din = pu_alloc(e, insz ? insz : 8), *dout = pu_alloc(e, outsz);
    if (insz) memcpy(din, in, insz);
    uint64_t params[2] = {(uint64_t)(uintptr_t)dout, (uint64_t)(uintptr_t)din};
    enum ptx_status s = pu_run(e, "t", 1, 1, 0, params, sizeof params);
    if (s) fprintf(stderr, "  run: %s %s\n", ptx_status_name(s), e->fault.message);
    memcpy(out, dout, outsz);
    pu_free(e);
    free(e);
    return (int)s;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bitsf(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

RG_TEST(int_div_rem_by_zero)
{
    int32_t in[2] = {7, 0}, out[4];
    CHECK_EQ_INT(run_body("ld.global.u32 %r1, [%rd2]; ld.global.u32 %r2, [%rd2+4];\n"
                          "div.u32 %r3, %r1, %r2; st.global.u32 [%rd1], %r3;\n"
                          "rem.u32 %r4, %r1, %r2; st.global.u32 [%rd1+4], %r4;\n"
                          "div.s32 %r5, -2147483648, -1; st.global.u32 [%rd1+8], %r5;\n"
                          "rem.s32 %r6, -7, 2; st.global.u32 [%rd1+12], %r6;",
                          in, sizeof in, out, sizeof out),
                 0);
    CHECK_EQ_U64((uint32_t)out[0], 0xffffffffu);
    CHECK_EQ_INT(out[1], 7);
    CHECK_EQ_INT(out[2], INT32_MIN);
    CHECK_EQ_INT(out[3], -1);
}

RG_TEST(int_shifts_clamp)
{
    uint32_t in[1] = {0x80000001u}, out[6];
    CHECK_EQ_INT(run_body("ld.global.u32 %r1, [%rd2];\n"
                          "shl.b32 %r2, %r1, 32; st.global.u32 [%rd1], %r2;\n"
                          "shr.u32 %r3, %r1, 40; st.global.u32 [%rd1+4], %r3;\n"
                          "shr.s32 %r4, %r1, 33; st.global.u32 [%rd1+8], %r4;\n"
                          "shr.s32 %r5, %r1, 4; st.global.u32 [%rd1+12], %r5;\n"
                          "shl.b32 %r6, %r1, 1; st.global.u32 [%rd1+16], %r6;\n"
                          "shf.l.wrap.b32 %r7, %r1, %r1, 33; st.global.u32 [%rd1+20], %r7;",
                          in, sizeof in, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0);
    CHECK_EQ_U64(out[1], 0);
    CHECK_EQ_U64(out[2], 0xffffffffu);
    CHECK_EQ_U64(out[3], 0xf8000000u);
    CHECK_EQ_U64(out[4], 2);
    CHECK_EQ_U64(out[5], 0x00000003u);
}

RG_TEST(int_mul_wide_hi_mad)
{
    uint64_t out[5];
    CHECK_EQ_INT(
        run_body(
            "mov.u32 %r1, -3; mov.u32 %r2, 100000;\n"
            "mul.wide.s32 %rd3, %r1, %r2; st.global.u64 [%rd1], %rd3;\n"
            "mul.wide.u32 %rd4, %r1, %r2; st.global.u64 [%rd1+8], %rd4;\n"
            "mul.hi.s32 %r3, %r1, %r2; cvt.s64.s32 %rd5, %r3; st.global.u64 [%rd1+16], %rd5;\n"
            "mad.lo.s32 %r4, %r1, %r2, 7; cvt.s64.s32 %rd6, %r4; st.global.u64 [%rd1+24], %rd6;\n"
            "mul.hi.u64 %rd7, -1, -1; st.global.u64 [%rd1+32], %rd7;",
            NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_INT((int64_t)out[0], -300000);
    CHECK_EQ_U64(out[1], 0xfffffffdull * 100000ull);
    CHECK_EQ_INT((int64_t)out[2], -1);
    CHECK_EQ_INT((int64_t)out[3], -299993);
    CHECK_EQ_U64(out[4], 0xfffffffffffffffeull);
}

RG_TEST(int_carry_chain)
{
    uint32_t out[2];
    CHECK_EQ_INT(run_body("mov.u32 %r1, -1; mov.u32 %r2, 1;\n"
                          "add.cc.u32 %r3, %r1, %r2; addc.u32 %r4, 5, 0;\n"
                          "st.global.u32 [%rd1], %r3; st.global.u32 [%rd1+4], %r4;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0);
    CHECK_EQ_U64(out[1], 6);
}

RG_TEST(int_bits)
{
    uint32_t out[12];
    CHECK_EQ_INT(
        run_body("mov.u32 %r1, 0x00f0f000;\n"
                 "popc.b32 %r2, %r1; st.global.u32 [%rd1], %r2;\n"
                 "clz.b32 %r3, %r1; st.global.u32 [%rd1+4], %r3;\n"
                 "bfind.u32 %r4, %r1; st.global.u32 [%rd1+8], %r4;\n"
                 "brev.b32 %r5, 1; st.global.u32 [%rd1+12], %r5;\n"
                 "bfe.u32 %r6, %r1, 12, 8; st.global.u32 [%rd1+16], %r6;\n"
                 "bfe.s32 %r7, %r1, 20, 4; st.global.u32 [%rd1+20], %r7;\n"
                 "bfi.b32 %r8, 0xff, 0, 8, 4; st.global.u32 [%rd1+24], %r8;\n"
                 "prmt.b32 %r9, 0x33221100, 0x77665544, 0x5410; st.global.u32 [%rd1+28], %r9;\n"
                 "lop3.b32 %r10, 0xf0, 0xcc, 0xaa, 0x96; st.global.u32 [%rd1+32], %r10;\n"
                 "clz.b32 %r11, 0; st.global.u32 [%rd1+36], %r11;\n"
                 "bfind.u32 %r12, 0; st.global.u32 [%rd1+40], %r12;\n"
                 "dp4a.u32.u32 %r13, 0x01020304, 0x01010101, 10; st.global.u32 [%rd1+44], %r13;",
                 NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_INT(out[0], 8);
    CHECK_EQ_INT(out[1], 8);
    CHECK_EQ_INT(out[2], 23);
    CHECK_EQ_U64(out[3], 0x80000000u);
    CHECK_EQ_U64(out[4], 0x0f);
    CHECK_EQ_U64(out[5], 0xffffffffu); /* bits 20..23 = 0xf, sign-extended */
    CHECK_EQ_U64(out[6], 0xf00);
    CHECK_EQ_U64(out[7], 0x55441100u);
    CHECK_EQ_U64(out[8], 0xf0 ^ 0xcc ^ 0xaa);
    CHECK_EQ_INT(out[9], 32);
    CHECK_EQ_U64(out[10], 0xffffffffu);
    CHECK_EQ_INT(out[11], 20);
}

RG_TEST(int_bmsk_szext_sad_mul24)
{
    uint32_t out[7];
    CHECK_EQ_INT(run_body("bmsk.clamp.b32 %r1, 4, 8; st.global.u32 [%rd1], %r1;\n"
                          "bmsk.clamp.b32 %r2, 30, 8; st.global.u32 [%rd1+4], %r2;\n"
                          "bmsk.wrap.b32 %r3, 33, 33; st.global.u32 [%rd1+8], %r3;\n"
                          "szext.clamp.s32 %r4, 0x80, 8; st.global.u32 [%rd1+12], %r4;\n"
                          "szext.wrap.u32 %r5, 0x1ff, 8; st.global.u32 [%rd1+16], %r5;\n"
                          "sad.u32 %r6, 3, 10, 100; st.global.u32 [%rd1+20], %r6;\n"
                          "mul24.lo.s32 %r7, 0x00ffffff, 2; st.global.u32 [%rd1+24], %r7;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0xff0);
    CHECK_EQ_U64(out[1], 0xc0000000u);
    CHECK_EQ_U64(out[2], 0x2);
    CHECK_EQ_U64(out[3], 0xffffff80u);
    CHECK_EQ_U64(out[4], 0xff);
    CHECK_EQ_INT(out[5], 107);
    CHECK_EQ_U64(out[6], 0xfffffffeu); /* -1 * 2 */
}

RG_TEST(int_min_max_abs_sat)
{
    int32_t out[6];
    CHECK_EQ_INT(run_body("min.s32 %r1, -5, 3; st.global.u32 [%rd1], %r1;\n"
                          "min.u32 %r2, -5, 3; st.global.u32 [%rd1+4], %r2;\n"
                          "abs.s32 %r3, -2147483648; st.global.u32 [%rd1+8], %r3;\n"
                          "add.sat.s32 %r4, 2147483647, 10; st.global.u32 [%rd1+12], %r4;\n"
                          "sub.sat.s32 %r5, -2147483648, 1; st.global.u32 [%rd1+16], %r5;\n"
                          "max.s32 %r6, -5, 3; st.global.u32 [%rd1+20], %r6;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_INT(out[0], -5);
    CHECK_EQ_INT(out[1], 3);
    CHECK_EQ_INT(out[2], INT32_MIN);
    CHECK_EQ_INT(out[3], INT32_MAX);
    CHECK_EQ_INT(out[4], INT32_MIN);
    CHECK_EQ_INT(out[5], 3);
}

RG_TEST(float_minmax_nan)
{
    uint32_t out[5];
    CHECK_EQ_INT(run_body("mov.f32 %f1, 0f7FC00000; mov.f32 %f2, 0f3F800000;\n"
                          "min.f32 %f3, %f1, %f2; st.global.f32 [%rd1], %f3;\n"
                          "max.f32 %f4, %f2, %f1; st.global.f32 [%rd1+4], %f4;\n"
                          "min.NaN.f32 %f5, %f1, %f2; st.global.f32 [%rd1+8], %f5;\n"
                          "min.f32 %f6, 0f80000000, 0f00000000; st.global.f32 [%rd1+12], %f6;\n"
                          "max.f32 %f7, 0f80000000, 0f00000000; st.global.f32 [%rd1+16], %f7;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0x3f800000u);
    CHECK_EQ_U64(out[1], 0x3f800000u);
    CHECK(isnan(bitsf(out[2])));
    CHECK_EQ_U64(out[3], 0x80000000u);
    CHECK_EQ_U64(out[4], 0);
}

RG_TEST(float_rounding_modes)
{
    uint32_t out[8];
    /* 1 + 2^-24 is a tie: rn -> 1, rp -> next float up */
    CHECK_EQ_INT(run_body("mov.f32 %f1, 0f3F800000; mov.f32 %f2, 0f33800000;\n"
                          "add.rn.f32 %f3, %f1, %f2; st.global.f32 [%rd1], %f3;\n"
                          "add.rp.f32 %f4, %f1, %f2; st.global.f32 [%rd1+4], %f4;\n"
                          "add.rz.f32 %f5, %f1, %f2; st.global.f32 [%rd1+8], %f5;\n"
                          "sub.rm.f32 %f6, 0f00000000, %f2; add.rm.f32 %f6, %f6, %f1; "
                          "st.global.f32 [%rd1+12], %f6;\n"
                          "cvt.rni.s32.f32 %r1, 0f40200000; st.global.u32 [%rd1+16], %r1;\n"
                          "cvt.rmi.s32.f32 %r2, 0fC0200000; st.global.u32 [%rd1+20], %r2;\n"
                          "cvt.rzi.s32.f32 %r3, 0fC0200000; st.global.u32 [%rd1+24], %r3;\n"
                          "cvt.rpi.s32.f32 %r4, 0f40200000; st.global.u32 [%rd1+28], %r4;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0x3f800000u);
    CHECK_EQ_U64(out[1], 0x3f800001u);
    CHECK_EQ_U64(out[2], 0x3f800000u);
    CHECK_EQ_U64(out[3], 0x3f7fffffu);
    CHECK_EQ_INT((int32_t)out[4], 2);  /* 2.5 -> 2 (even) */
    CHECK_EQ_INT((int32_t)out[5], -3); /* floor(-2.5) */
    CHECK_EQ_INT((int32_t)out[6], -2);
    CHECK_EQ_INT((int32_t)out[7], 3);
}

RG_TEST(cvt_saturation)
{
    uint32_t out[7];
    CHECK_EQ_INT(run_body("cvt.rzi.s32.f32 %r1, 0f7F800000; st.global.u32 [%rd1], %r1;\n"
                          "cvt.rzi.u32.f32 %r2, 0fBF800000; st.global.u32 [%rd1+4], %r2;\n"
                          "cvt.rzi.s32.f32 %r3, 0f7FC00000; st.global.u32 [%rd1+8], %r3;\n"
                          "cvt.sat.u8.s32 %r4, 300; st.global.u32 [%rd1+12], %r4;\n"
                          "cvt.sat.s8.s32 %r5, -300; st.global.u32 [%rd1+16], %r5;\n"
                          "cvt.sat.f32.f32 %f1, 0f40000000; st.global.f32 [%rd1+20], %f1;\n"
                          "cvt.s32.s8 %r6, 200; st.global.u32 [%rd1+24], %r6;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0x7fffffffu);
    CHECK_EQ_U64(out[1], 0);
    CHECK_EQ_U64(out[2], 0);
    CHECK_EQ_U64(out[3], 255);
    CHECK_EQ_U64(out[4] & 0xff, 0x80);
    CHECK_EQ_U64(out[5], 0x3f800000u);
    CHECK_EQ_INT((int32_t)out[6], -56);
}

RG_TEST(cvt_float_types)
{
    uint32_t out[6];
    CHECK_EQ_INT(
        run_body(
            "cvt.rn.f16.f32 %h1, 0f3FC00000; cvt.u32.u16 %r1, %h1; st.global.u32 [%rd1], %r1;\n"
            "cvt.f32.f16 %f1, %h1; st.global.f32 [%rd1+4], %f1;\n"
            "cvt.rn.bf16.f32 %h2, 0f3FC00000; cvt.u32.u16 %r2, %h2; st.global.u32 [%rd1+8], %r2;\n"
            "cvt.rn.f32.f64 %f2, 0d3FF0000000000001; st.global.f32 [%rd1+12], %f2;\n"
            "cvt.rp.f32.f64 %f3, 0d3FF0000000000001; st.global.f32 [%rd1+16], %f3;\n"
            "cvt.rn.f16x2.f32 %r3, 0f3F800000, 0f40000000; st.global.u32 [%rd1+20], %r3;",
            NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_U64(out[0], 0x3e00);
    CHECK_EQ_U64(out[1], fbits(1.5f));
    CHECK_EQ_U64(out[2], 0x3fc0);
    CHECK_EQ_U64(out[3], 0x3f800000u);
    CHECK_EQ_U64(out[4], 0x3f800001u);
    CHECK_EQ_U64(out[5], 0x3c004000u);
}

RG_TEST(setp_unordered_and_combine)
{
    uint32_t out[6];
    CHECK_EQ_INT(
        run_body(
            "mov.f32 %f1, 0f7FC00000;\n"
            "setp.lt.f32 %p1, %f1, 0f3F800000; selp.u32 %r1, 1, 0, %p1; st.global.u32 [%rd1], "
            "%r1;\n"
            "setp.ltu.f32 %p2, %f1, 0f3F800000; selp.u32 %r2, 1, 0, %p2; st.global.u32 [%rd1+4], "
            "%r2;\n"
            "setp.nan.f32 %p3, %f1, %f1; selp.u32 %r3, 1, 0, %p3; st.global.u32 [%rd1+8], %r3;\n"
            "setp.gt.and.s32 %p4|%p5, 5, 3, %p3; selp.u32 %r4, 1, 0, %p4; st.global.u32 [%rd1+12], "
            "%r4;\n"
            "selp.u32 %r5, 1, 0, %p5; st.global.u32 [%rd1+16], %r5;\n"
            "setp.lo.u32 %p6, 1, -1; @!%p6 bra SKIP; mov.u32 %r6, 9; st.global.u32 [%rd1+20], "
            "%r6;\nSKIP:",
            NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 1);
    CHECK_EQ_INT(out[2], 1);
    CHECK_EQ_INT(out[3], 1);
    CHECK_EQ_INT(out[4], 0);
    CHECK_EQ_INT(out[5], 9);
}

RG_TEST(float_special_functions)
{
    uint32_t out[6];
    uint64_t d[2];
    CHECK_EQ_INT(run_body("sqrt.rn.f32 %f1, 0f40800000; st.global.f32 [%rd1], %f1;\n"
                          "rcp.rn.f32 %f2, 0f40000000; st.global.f32 [%rd1+4], %f2;\n"
                          "ex2.approx.f32 %f3, 0f40400000; st.global.f32 [%rd1+8], %f3;\n"
                          "lg2.approx.f32 %f4, 0f41000000; st.global.f32 [%rd1+12], %f4;\n"
                          "testp.infinite.f32 %p1, 0fFF800000; selp.u32 %r1, 1, 0, %p1; "
                          "st.global.u32 [%rd1+16], %r1;\n"
                          "copysign.f32 %f5, 0fBF800000, 0f40000000; st.global.f32 [%rd1+20], %f5;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], fbits(2.0f));
    CHECK_EQ_U64(out[1], fbits(0.5f));
    CHECK_EQ_U64(out[2], fbits(8.0f));
    CHECK_EQ_U64(out[3], fbits(3.0f));
    CHECK_EQ_INT(out[4], 1);
    CHECK_EQ_U64(out[5], fbits(-2.0f));
    CHECK_EQ_INT(run_body("mov.f64 %fd1, 0d4000000000000000; sqrt.rn.f64 %fd2, %fd1; st.global.f64 "
                          "[%rd1], %fd2;\n"
                          "div.rn.f64 %fd3, 1.0, 3.0; st.global.f64 [%rd1+8], %fd3;",
                          NULL, 0, d, sizeof d),
                 0);
    double r0, r1;
    memcpy(&r0, &d[0], 8), memcpy(&r1, &d[1], 8);
    CHECK(r0 == sqrt(2.0));
    CHECK(r1 == 1.0 / 3.0);
}

RG_TEST(half_arith)
{
    uint32_t out[3];
    CHECK_EQ_INT(run_body("mov.b32 %r1, 0x3c004000;\n" /* {2.0, 1.0} as f16x2: lo=2.0, hi=1.0 */
                          "add.rn.f16x2 %r2, %r1, %r1; st.global.u32 [%rd1], %r2;\n"
                          "mov.b16 %h1, 0x3c00; mov.b16 %h2, 0x4000; mul.rn.f16 %h3, %h1, %h2; "
                          "cvt.u32.u16 %r3, %h3;\n"
                          "st.global.u32 [%rd1+4], %r3;\n"
                          "fma.rn.bf16 %h4, 0x3f80, 0x4000, 0x3f80; cvt.u32.u16 %r4, %h4; "
                          "st.global.u32 [%rd1+8], %r4;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0x40004400u);
    CHECK_EQ_U64(out[1], 0x4000);
    CHECK_EQ_U64(out[2], 0x4040);
}

RG_TEST(select_set_slct_prmt_modes)
{
    uint32_t out[8];
    CHECK_EQ_INT(
        run_body("set.lt.u32.s32 %r1, -1, 0; st.global.u32 [%rd1], %r1;\n"
                 "set.gt.f32.f32 %f1, 0f40000000, 0f3F800000; st.global.f32 [%rd1+4], %f1;\n"
                 "slct.u32.s32 %r2, 10, 20, -5; st.global.u32 [%rd1+8], %r2;\n"
                 "slct.u32.f32 %r3, 10, 20, 0f00000000; st.global.u32 [%rd1+12], %r3;\n"
                 "prmt.b32.f4e %r4, 0x33221100, 0x77665544, 1; st.global.u32 [%rd1+16], %r4;\n"
                 "prmt.b32.b4e %r5, 0x33221100, 0x77665544, 0; st.global.u32 [%rd1+20], %r5;\n"
                 "prmt.b32 %r6, 0x000000f0, 0, 0x8880; st.global.u32 [%rd1+24], %r6;\n"
                 "prmt.b32.rc16 %r7, 0x33221100, 0x77665544, 1; st.global.u32 [%rd1+28], %r7;",
                 NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_U64(out[0], 0xffffffffu);
    CHECK_EQ_U64(out[1], 0x3f800000u);
    CHECK_EQ_INT(out[2], 20);
    CHECK_EQ_INT(out[3], 10);
    CHECK_EQ_U64(out[4], 0x44332211u);
    CHECK_EQ_U64(out[5], 0x55667700u); /* b4e, selector 0: bytes 5 6 7 0 */
    CHECK_EQ_U64(out[6], 0xffffff00u | 0xf0);
    CHECK_EQ_U64(out[7], 0x33223322u);
}

RG_TEST(cvt_integer_pairs)
{
    uint64_t out[6];
    CHECK_EQ_INT(
        run_body("mov.u32 %r1, 0xfffffffe;\n"
                 "cvt.s64.s32 %rd3, %r1; st.global.u64 [%rd1], %rd3;\n"
                 "cvt.u64.u32 %rd4, %r1; st.global.u64 [%rd1+8], %rd4;\n"
                 "cvt.u16.u32 %h1, %r1; cvt.u64.u16 %rd5, %h1; st.global.u64 [%rd1+16], %rd5;\n"
                 "cvt.s16.s32 %h2, %r1; cvt.s64.s16 %rd6, %h2; st.global.u64 [%rd1+24], %rd6;\n"
                 "cvt.sat.u32.s64 %r2, -5; cvt.u64.u32 %rd7, %r2; st.global.u64 [%rd1+32], %rd7;\n"
                 "cvt.rn.f64.u64 %fd1, -1; st.global.f64 [%rd1+40], %fd1;",
                 NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_INT((int64_t)out[0], -2);
    CHECK_EQ_U64(out[1], 0xfffffffeull);
    CHECK_EQ_U64(out[2], 0xfffe);
    CHECK_EQ_INT((int64_t)out[3], -2);
    CHECK_EQ_U64(out[4], 0);
    double d;
    memcpy(&d, &out[5], 8);
    CHECK(d == 18446744073709551616.0);
}

RG_TEST(ftz_and_saturate)
{
    uint32_t out[4];
    CHECK_EQ_INT(run_body("mov.f32 %f1, 0f00000001;\n" /* smallest subnormal */
                          "add.ftz.f32 %f2, %f1, %f1; st.global.f32 [%rd1], %f2;\n"
                          "add.f32 %f3, %f1, %f1; st.global.f32 [%rd1+4], %f3;\n"
                          "mul.sat.f32 %f4, 0f40000000, 0f40000000; st.global.f32 [%rd1+8], %f4;\n"
                          "add.sat.f32 %f5, 0f7FC00000, 0f3F800000; st.global.f32 [%rd1+12], %f5;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0);
    CHECK_EQ_U64(out[1], 2);
    CHECK_EQ_U64(out[2], 0x3f800000u);
    CHECK_EQ_U64(out[3], 0);
}

RG_TEST(printf_formats)
{
    static char src[4096];
    snprintf(src, sizeof src,
             PTX_HEADER
             ".extern .func (.param .b32 r) vprintf(.param .b64 f, .param .b64 a);\n"
             ".global .align 1 .b8 fmt[40] = {37, 53, 100, 124, 37, 45, 52, 120, 124, 37, 46, 51, "
             "101, 124, 37, 115, 124, 37, 37, 124, 37, 108, 117, 124, 37, 99, 10, 0};\n"
             ".global .align 1 .b8 str[3] = {104, 105, 0};\n"
             ".visible .entry k()\n{\n .local .align 8 .b8 buf[48];\n .reg .b64 %%rd<8>; .reg .b32 "
             "%%r<3>;\n"
             " mov.u64 %%rd1, buf; cvta.local.u64 %%rd2, %%rd1;\n"
             " st.local.u32 [buf], -42; st.local.u32 [buf+4], 255; st.local.f64 [buf+8], "
             "0d40934A4584F4C6E7;\n"
             " mov.u64 %%rd3, str; cvta.global.u64 %%rd4, %%rd3; st.local.u64 [buf+16], %%rd4;\n"
             " st.local.u64 [buf+24], -1; st.local.u32 [buf+32], 65;\n"
             " mov.u64 %%rd5, fmt; cvta.global.u64 %%rd6, %%rd5;\n"
             " { .param .b64 p0; st.param.b64 [p0], %%rd6; .param .b64 p1; st.param.b64 [p1], "
             "%%rd2; .param .b32 r0;\n"
             "   call.uni (r0), vprintf, (p0, p1); ld.param.b32 %%r1, [r0]; }\n ret;\n}\n");
    pu_env *e = calloc(1, sizeof *e);
    CHECK_EQ_INT(pu_load(e, src), PTX_OK);
    CHECK_EQ_INT(pu_run(e, "k", 1, 2, 0, NULL, 0), PTX_OK);
    CHECK_STR(e->out, "  -42|ff  |1.235e+03|hi|%|18446744073709551615|A\n  -42|ff  "
                      "|1.235e+03|hi|%|18446744073709551615|A\n");
    pu_free(e);
    free(e);
}

RG_TEST(half2_compare_and_relu)
{
    uint32_t out[3];
    CHECK_EQ_INT(
        run_body(
            "mov.b32 %r1, 0x3c004000; mov.b32 %r2, 0x40004000;\n" /* {hi 1.0, lo 2.0} vs {2.0, 2.0}
                                                                   */
            "setp.eq.f16x2 %p1|%p2, %r1, %r2; selp.u32 %r3, 1, 0, %p1; selp.u32 %r4, 1, 0, %p2;\n"
            "st.global.u32 [%rd1], %r3; st.global.u32 [%rd1+4], %r4;\n"
            "cvt.rn.relu.f16x2.f32 %r5, 0fBF800000, 0f40000000; st.global.u32 [%rd1+8], %r5;",
            NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_INT(out[0], 1);
    CHECK_EQ_INT(out[1], 0);
    CHECK_EQ_U64(out[2], 0x00004000u);
}

RG_TEST(fp8_and_pack_conversions)
{
    uint32_t out[6];
    CHECK_EQ_INT(run_body("cvt.rn.satfinite.e4m3x2.f32 %h1, 0f3FC00000, 0f43E00000; cvt.u32.u16 "
                          "%r1, %h1; st.global.u32 [%rd1], %r1;\n"
                          "cvt.rn.satfinite.e4m3x2.f32 %h2, 0f447A0000, 0fC47A0000; cvt.u32.u16 "
                          "%r2, %h2; st.global.u32 [%rd1+4], %r2;\n"
                          "cvt.rn.satfinite.e5m2x2.f32 %h3, 0f3FC00000, 0f00000000; cvt.u32.u16 "
                          "%r3, %h3; st.global.u32 [%rd1+8], %r3;\n"
                          "cvt.rn.f16x2.e4m3x2 %r4, %h1; st.global.u32 [%rd1+12], %r4;\n"
                          "cvt.pack.sat.s8.s32.b32 %r5, 300, -5, 0; st.global.u32 [%rd1+16], %r5;\n"
                          "cvt.pack.sat.s8.s32.b32 %r6, 1, 2, %r5; st.global.u32 [%rd1+20], %r6;",
                          NULL, 0, out, sizeof out),
                 0);
    CHECK_EQ_U64(out[0], 0x3c7e);     /* 1.5, 448 */
    CHECK_EQ_U64(out[1], 0x7efe);     /* +-1000 saturate to +-448 */
    CHECK_EQ_U64(out[2], 0x3e00);     /* e5m2 1.5, 0 */
    CHECK_EQ_U64(out[3], 0x3e005f00); /* back to f16: 1.5, 448 */
    CHECK_EQ_U64(out[4], 0x7ffb);
    CHECK_EQ_U64(out[5], 0x7ffb0102);
}

RG_TEST(video_scalar)
{
    uint32_t out[5];
    CHECK_EQ_INT(
        run_body("vshr.u32.u32.u32.clamp.add %r1, 0x100, 40, 5; st.global.u32 [%rd1], %r1;\n"
                 "vshr.u32.u32.u32.wrap.add %r2, 0x100, 36, 5; st.global.u32 [%rd1+4], %r2;\n"
                 "vabsdiff.u32.u32.u32 %r3, 3, 10; st.global.u32 [%rd1+8], %r3;\n"
                 "vadd.s32.s32.s32.sat %r4, 2147483647, 1; st.global.u32 [%rd1+12], %r4;\n"
                 "vmax.s32.s32.s32.min %r5, -5, 7, 3; st.global.u32 [%rd1+16], %r5;",
                 NULL, 0, out, sizeof out),
        0);
    CHECK_EQ_INT(out[0], 5);
    CHECK_EQ_INT(out[1], 0x10 + 5);
    CHECK_EQ_INT(out[2], 7);
    CHECK_EQ_U64(out[3], 0x7fffffffu);
    CHECK_EQ_INT(out[4], 3);
}

RG_TEST_MAIN()
