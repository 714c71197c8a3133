/* test_exec.c — interpreter behaviour with hand-written PTX: faults (out of
 * bounds, misaligned, trap, deadlock), generic pointers into shared and local
 * memory, warp collectives, jump tables, indirect calls, barriers with exited
 * threads, warp time-slicing, launch checks and concurrent launches. */
#include "ptx_util.h"

#include <pthread.h>

#define ENTRY1(name, body)                                                                         \
    PTX_HEADER                                                                                     \
    ".visible .entry " name "(.param .u64 pout, .param .u64 pin)\n{\n"                             \
    ".reg .b32 %r<40>;\n.reg .b64 %rd<40>;\n.reg .pred %p<10>;\n.reg .f32 %f<10>;\n"               \
    "ld.param.u64 %rd1, [pout];\nld.param.u64 %rd2, [pin];\n"                                      \
    "mov.u32 %r30, %tid.x;\nmul.wide.u32 %rd30, %r30, 4;\nadd.s64 %rd31, %rd1, %rd30;\n" body      \
    "\nret;\n}\n"

static enum ptx_status run_src(pu_env *e, const char *src, unsigned grid, unsigned block,
                               void **out, size_t outsz, const void *in, size_t insz)
{
    if (pu_load(e, src)) return PTX_ERR_PARSE;
    void *dout = pu_alloc(e, outsz), *din = pu_alloc(e, insz ? insz : 8);
    if (in) memcpy(din, in, insz);
    *out = dout;
    uint64_t params[2] = {(uint64_t)(uintptr_t)dout, (uint64_t)(uintptr_t)din};
    return pu_run(e, "k", grid, block, 0, params, sizeof params);
}

RG_TEST(out_of_bounds_global)
{
    pu_env *e = calloc(1, sizeof *e);
    void *out;
    enum ptx_status s =
        run_src(e, ENTRY1("k", "st.global.u32 [%rd31+64], %r30;"), 1, 32, &out, 64, NULL, 0);
    CHECK_EQ_INT(s, PTX_ERR_ILLEGAL_ADDRESS);
    CHECK_EQ_U64(e->fault.address, (uintptr_t)out + 64);
    CHECK_EQ_INT(e->fault.thread[0], 0);
    CHECK(strstr(e->fault.message, "global") != NULL);
    /* sticky per launch, but the next launch runs */
    s = pu_run(e, "k", 1, 1, 0, (uint64_t[]){(uintptr_t)out - 64, 0}, 16);
    CHECK_EQ_INT(s, PTX_OK);
    pu_free(e);
    free(e);
}

RG_TEST(null_and_shared_bounds)
{
    pu_env *e = calloc(1, sizeof *e);
    void *out;
    CHECK_EQ_INT(
        run_src(e, ENTRY1("k", "mov.u64 %rd5, 0; ld.u32 %r1, [%rd5];"), 1, 1, &out, 4, NULL, 0),
        PTX_ERR_ILLEGAL_ADDRESS);
    pu_free(e);
    CHECK_EQ_INT(run_src(e,
                         PTX_HEADER
                         ".visible .entry k(.param .u64 a, .param .u64 b) {\n .reg .b32 %r<4>;\n"
                         " .shared .align 4 .b8 sm[64];\n mov.u32 %r1, sm;\n ld.shared.u32 %r2, "
                         "[%r1+64];\n ret;\n}\n",
                         1, 1, &out, 4, NULL, 0),
                 PTX_ERR_ILLEGAL_ADDRESS);
    pu_free(e);
    CHECK_EQ_INT(run_src(e, ENTRY1("k", "ld.global.u32 %r1, [%rd1+2];"), 1, 1, &out, 8, NULL, 0),
                 PTX_ERR_MISALIGNED);
    pu_free(e);
    CHECK_EQ_INT(
        run_src(e, ENTRY1("k", "setp.eq.u32 %p1, %r30, 5; @%p1 trap;"), 1, 32, &out, 8, NULL, 0),
        PTX_ERR_TRAP);
    CHECK_EQ_INT(e->fault.thread[0], 5);
    pu_free(e);
    free(e);
}

RG_TEST(generic_pointers_to_shared_and_local)
{
    pu_env *e = calloc(1, sizeof *e);
    uint32_t *out;
    const char *src = PTX_HEADER
        ".visible .entry k(.param .u64 pout, .param .u64 pin)\n{\n"
        " .reg .b32 %r<10>; .reg .b64 %rd<12>; .reg .pred %p<4>;\n"
        " .shared .align 4 .b8 sm[256];\n .local .align 4 .b8 loc[16];\n"
        " ld.param.u64 %rd1, [pout];\n mov.u32 %r1, %tid.x;\n"
        " mov.u64 %rd2, sm; cvta.shared.u64 %rd3, %rd2;\n" /* generic shared */
        " mul.wide.u32 %rd4, %r1, 4; add.s64 %rd5, %rd3, %rd4;\n st.u32 [%rd5], %r1;\n"
        " bar.sync 0;\n"
        " xor.b32 %r2, %r1, 1; mul.wide.u32 %rd6, %r2, 4; add.s64 %rd7, %rd3, %rd6; ld.u32 %r3, "
        "[%rd7];\n"
        " mov.u64 %rd8, loc; cvta.local.u64 %rd9, %rd8; add.u32 %r4, %r1, 100; st.u32 [%rd9+4], "
        "%r4;\n"
        " ld.local.u32 %r5, [loc+4];\n"
        " isspacep.shared %p1, %rd5; isspacep.local %p2, %rd9; isspacep.global %p3, %rd1;\n"
        " selp.u32 %r6, 1, 0, %p1; selp.u32 %r7, 2, 0, %p2; selp.u32 %r8, 4, 0, %p3; add.u32 %r6, "
        "%r6, %r7;\n"
        " add.u32 %r6, %r6, %r8; cvta.to.shared.u64 %rd10, %rd5; cvt.u32.u64 %r9, %rd10;\n"
        " mul.wide.u32 %rd11, %r1, 16; add.s64 %rd11, %rd1, %rd11;\n"
        " st.global.v4.u32 [%rd11], {%r3, %r5, %r6, %r9};\n ret;\n}\n";
    enum ptx_status st = run_src(e, src, 1, 64, (void **)&out, 64 * 16, NULL, 0);
    if (st) fprintf(stderr, "  %s\n", e->fault.message);
    CHECK_EQ_INT(st, PTX_OK);
    for (unsigned t = 0; t < 64; t++) {
        CHECK_EQ_INT(out[4 * t], t ^ 1);
        CHECK_EQ_INT(out[4 * t + 1], t + 100);
        CHECK_EQ_INT(out[4 * t + 2], 7);
        CHECK_EQ_INT(out[4 * t + 3], t * 4);
    }
    pu_free(e);
    free(e);
}

RG_TEST(warp_collectives)
{
    pu_env *e = calloc(1, sizeof *e);
    uint32_t *out;
    const char *src = ENTRY1(
        "k", "shfl.sync.up.b32 %r1|%p1, %r30, 3, 0, -1;\n" /* lanes < 3 keep own value, p false */
             "selp.u32 %r2, 1000, 0, %p1; add.u32 %r1, %r1, %r2;\n"
             "shfl.sync.idx.b32 %r3, %r30, 5, 0x181f, -1;\n" /* width 8: lane (l & ~7) + 5 */
             "shfl.sync.bfly.b32 %r4, %r30, 1, 31, -1;\n"
             "and.b32 %r10, %r30, 1; setp.eq.u32 %p2, %r10, 1;\n"
             "vote.sync.ballot.b32 %r5, %p2, -1;\n"
             "vote.sync.any.pred %p3, %p2, -1; vote.sync.all.pred %p4, %p2, -1; vote.sync.uni.pred "
             "%p5, %p2, -1;\n"
             "selp.u32 %r6, 1, 0, %p3; selp.u32 %r7, 2, 0, %p4; selp.u32 %r8, 4, 0, %p5; or.b32 "
             "%r6, %r6, %r7; or.b32 %r6, %r6, %r8;\n"
             "shr.u32 %r11, %r30, 2; match.any.sync.b32 %r9, %r11, -1;\n"
             "redux.sync.add.u32 %r12, %r30, -1; redux.sync.max.s32 %r13, %r30, -1;\n"
             "activemask.b32 %r14;\n"
             "mul.wide.u32 %rd5, %r30, 32; add.s64 %rd6, %rd1, %rd5;\n"
             "st.global.v4.u32 [%rd6], {%r1, %r3, %r4, %r5};\n"
             "st.global.v4.u32 [%rd6+16], {%r6, %r9, %r12, %r14};\n");
    CHECK_EQ_INT(run_src(e, src, 1, 32, (void **)&out, 32 * 32, NULL, 0), PTX_OK);
    for (unsigned l = 0; l < 32; l++) {
        uint32_t *o = out + 8 * l;
        CHECK_EQ_INT(o[0], l < 3 ? l : l - 3 + 1000);
        CHECK_EQ_INT(o[1], (l & ~7u) + 5);
        CHECK_EQ_INT(o[2], l ^ 1);
        CHECK_EQ_U64(o[3], 0xaaaaaaaau);
        CHECK_EQ_INT(o[4], 1);
        CHECK_EQ_U64(o[5], 0xfu << (l & ~3u));
        CHECK_EQ_INT(o[6], 31 * 32 / 2);
        CHECK_EQ_U64(o[7], 0xffffffffu);
    }
    pu_free(e);
    free(e);
}

RG_TEST(jump_table_and_indirect_call)
{
    pu_env *e = calloc(1, sizeof *e);
    uint32_t *out;
    const char *src =
        PTX_HEADER ".func (.param .b32 r) f10(.param .b32 x) { .reg .b32 %a<3>; ld.param.u32 %a1, "
                   "[x]; add.u32 %a2, %a1, 10; st.param.b32 [r], %a2; ret; }\n"
                   ".func (.param .b32 r) f20(.param .b32 x) { .reg .b32 %a<3>; ld.param.u32 %a1, "
                   "[x]; add.u32 %a2, %a1, 20; st.param.b32 [r], %a2; ret; }\n"
                   ".visible .entry k(.param .u64 pout, .param .u64 pin)\n{\n"
                   " .reg .b32 %r<10>; .reg .b64 %rd<10>; .reg .pred %p<2>;\n"
                   " ld.param.u64 %rd1, [pout]; mov.u32 %r1, %tid.x; rem.u32 %r2, %r1, 3;\n"
                   " ts: .branchtargets L0, L1, L2;\n brx.idx %r2, ts;\n"
                   "L0: mov.u32 %r3, 100; bra.uni J;\nL1: mov.u32 %r3, 200; bra.uni J;\nL2: "
                   "mov.u32 %r3, 300;\n"
                   "J:\n and.b32 %r4, %r1, 1; setp.eq.u32 %p1, %r4, 0;\n"
                   " mov.u64 %rd2, f10; mov.u64 %rd3, f20; selp.b64 %rd4, %rd2, %rd3, %p1;\n"
                   " proto: .callprototype (.param .b32 _) _ (.param .b32 _);\n"
                   " { .param .b32 a0; st.param.b32 [a0], %r3; .param .b32 r0;\n"
                   "   call (r0), %rd4, (a0), proto; ld.param.b32 %r5, [r0]; }\n"
                   " mul.wide.u32 %rd5, %r1, 4; add.s64 %rd6, %rd1, %rd5; st.global.u32 [%rd6], "
                   "%r5;\n ret;\n}\n";
    CHECK_EQ_INT(run_src(e, src, 1, 40, (void **)&out, 40 * 4, NULL, 0), PTX_OK);
    for (unsigned t = 0; t < 40; t++)
        CHECK_EQ_INT(out[t], (t % 3 + 1) * 100 + (t % 2 ? 20 : 10));
    pu_free(e);
    free(e);
}

RG_TEST(barrier_reduction_and_early_exit)
{
    pu_env *e = calloc(1, sizeof *e);
    uint32_t *out;
    const char *src =
        ENTRY1("k", "setp.ge.u32 %p1, %r30, 80; @%p1 exit;\n" /* 80 of 128 threads stay */
                    "and.b32 %r1, %r30, 3; setp.eq.u32 %p2, %r1, 0;\n"
                    "bar.red.popc.u32 %r2, 0, %p2;\n"
                    "bar.red.and.pred %p3, 1, %p2; selp.u32 %r3, 1, 0, %p3;\n"
                    "bar.red.or.pred %p4, 2, %p2; selp.u32 %r4, 1, 0, %p4;\n"
                    "bar.sync 3;\n"
                    "mad.lo.u32 %r5, %r3, 10, %r4; mad.lo.u32 %r5, %r5, 1000, %r2;\n"
                    "st.global.u32 [%rd31], %r5;");
    CHECK_EQ_INT(run_src(e, src, 2, 128, (void **)&out, 128 * 4, NULL, 0), PTX_OK);
    for (unsigned t = 0; t < 80; t++)
        CHECK_EQ_INT(out[t], 1000 + 20);
    CHECK_EQ_INT(out[80], 0);
    pu_free(e);
    free(e);
}

RG_TEST(spin_wait_between_warps)
{
    pu_env *e = calloc(1, sizeof *e);
    uint32_t *out;
    const char *src = PTX_HEADER
        ".visible .entry k(.param .u64 pout, .param .u64 pin)\n{\n"
        " .reg .b32 %r<6>; .reg .b64 %rd<4>; .reg .pred %p<3>;\n .shared .align 4 .u32 flag;\n"
        " ld.param.u64 %rd1, [pout]; mov.u32 %r1, %tid.x;\n"
        " setp.ne.u32 %p1, %r1, 0; @%p1 bra WAIT;\n"
        " mov.u32 %r2, 0;\nDELAY: add.u32 %r2, %r2, 1; setp.lt.u32 %p2, %r2, 5000; @%p2 bra "
        "DELAY;\n"
        " st.volatile.shared.u32 [flag], 7; bra.uni DONE;\n"
        "WAIT: ld.volatile.shared.u32 %r3, [flag]; setp.ne.u32 %p2, %r3, 7; @%p2 bra WAIT;\n"
        "DONE: mul.wide.u32 %rd2, %r1, 4; add.s64 %rd3, %rd1, %rd2; st.global.u32 [%rd3], %r1;\n "
        "ret;\n}\n";
    CHECK_EQ_INT(run_src(e, src, 1, 96, (void **)&out, 96 * 4, NULL, 0), PTX_OK);
    for (unsigned t = 0; t < 96; t++)
        CHECK_EQ_INT(out[t], t);
    pu_free(e);
    free(e);
}

RG_TEST(barrier_deadlock_is_reported)
{
    pu_env *e = calloc(1, sizeof *e);
    void *out;
    const char *src = ENTRY1("k", "setp.lt.u32 %p1, %r30, 32; @%p1 bar.sync 0; @!%p1 bar.sync 1;");
    CHECK_EQ_INT(run_src(e, src, 1, 64, &out, 4, NULL, 0), PTX_ERR_ILLEGAL_INSTR);
    CHECK(strstr(e->fault.message, "deadlock") != NULL);
    pu_free(e);
    free(e);
}

RG_TEST(special_registers_3d)
{
    pu_env *e = calloc(1, sizeof *e);
    const char *src = PTX_HEADER
        ".visible .entry k(.param .u64 pout)\n{\n .reg .b32 %r<20>; .reg .b64 %rd<4>;\n"
        " ld.param.u64 %rd1, [pout];\n"
        " mov.u32 %r1, %tid.x; mov.u32 %r2, %tid.y; mov.u32 %r3, %tid.z; mov.u32 %r4, %ctaid.x;\n"
        " mov.u32 %r5, %ctaid.y; mov.u32 %r6, %ctaid.z; mov.u32 %r7, %nctaid.y; mov.u32 %r8, "
        "%ntid.z;\n"
        " mov.u32 %r9, %laneid; mov.u32 %r10, %warpid; mov.u32 %r11, %lanemask_lt; mov.u32 %r12, "
        "%dynamic_smem_size;\n"
        " mad.lo.u32 %r13, %r3, 4, %r2; mad.lo.u32 %r13, %r13, 8, %r1;\n" /* linear tid: block 8x4x2
                                                                           */
        " mad.lo.u32 %r14, %r6, 3, %r5; mad.lo.u32 %r14, %r14, 2, %r4;\n" /* linear block: grid
                                                                             2x3x2 */
        " mad.lo.u32 %r15, %r14, 64, %r13; mul.wide.u32 %rd2, %r15, 32; add.s64 %rd3, %rd1, %rd2;\n"
        " st.global.v4.u32 [%rd3], {%r13, %r14, %r7, %r8};\n st.global.v4.u32 [%rd3+16], {%r9, "
        "%r10, %r11, %r12};\n"
        " ret;\n}\n";
    CHECK_EQ_INT(pu_load(e, src), PTX_OK);
    uint32_t *out = pu_alloc(e, 12 * 64 * 32);
    uint64_t p = (uintptr_t)out;
    unsigned g[3] = {2, 3, 2}, b[3] = {8, 4, 2};
    CHECK_EQ_INT(pu_run3(e, "k", g, b, 48, &p, 8), PTX_OK);
    for (unsigned blk = 0; blk < 12; blk++)
        for (unsigned t = 0; t < 64; t++) {
            uint32_t *o = out + (blk * 64 + t) * 8;
            CHECK_EQ_INT(o[0], t);
            CHECK_EQ_INT(o[1], blk);
            CHECK_EQ_INT(o[2], 3);
            CHECK_EQ_INT(o[3], 2);
            CHECK_EQ_INT(o[4], t % 32);
            CHECK_EQ_INT(o[5], t / 32);
            CHECK_EQ_U64(o[6], (1u << (t % 32)) - 1);
            CHECK_EQ_INT(o[7], 48);
        }
    pu_free(e);
    free(e);
}

RG_TEST(launch_checks)
{
    pu_env *e = calloc(1, sizeof *e);
    CHECK_EQ_INT(pu_load(e, ENTRY1("k", "")), PTX_OK);
    uint64_t params[2] = {0, 0};
    CHECK_EQ_INT(pu_run(e, "k", 1, 2048, 0, params, 16), PTX_ERR_LAUNCH_RESOURCES);
    CHECK_EQ_INT(pu_run(e, "k", 1, 32, 0, params, 8), PTX_ERR_INVALID_VALUE);
    CHECK_EQ_INT(pu_run(e, "k", 0, 32, 0, params, 16), PTX_ERR_INVALID_VALUE);
    CHECK_EQ_INT(pu_run(e, "k", 1, 32, 1 << 20, params, 16), PTX_ERR_LAUNCH_RESOURCES);
    CHECK_EQ_INT(ptx_run(NULL, NULL), PTX_ERR_INVALID_VALUE);
    pu_free(e);
    free(e);
}

typedef struct conc_arg {
    pu_env *e;
    uint32_t *out;
    int status;
} conc_arg;

static void *conc_thread(void *p)
{
    conc_arg *a = p;
    uint64_t params[2] = {(uintptr_t)a->out, 0};
    for (int i = 0; i < 20 && !a->status; i++)
        a->status = pu_run(a->e, "k", 16, 64, 0, params, 16);
    return NULL;
}

RG_TEST(concurrent_launches)
{
    pu_env *e = calloc(1, sizeof *e);
    CHECK_EQ_INT(
        pu_load(
            e,
            ENTRY1(
                "k",
                "mov.u32 %r1, %ctaid.x; mad.lo.u32 %r2, %r1, 64, %r30; mul.wide.u32 %rd5, %r2, 4;\n"
                "add.s64 %rd6, %rd1, %rd5; atom.global.add.u32 %r3, [%rd6], 1;")),
        PTX_OK);
    conc_arg a[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (conc_arg){e, pu_alloc(e, 16 * 64 * 4), 0};
        pthread_create(&t[i], NULL, conc_thread, &a[i]);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(a[i].status, 0);
        for (int k = 0; k < 16 * 64; k++)
            CHECK_EQ_INT(a[i].out[k], 20);
    }
    pu_free(e);
    free(e);
}

RG_TEST(atomics_all_ops)
{
    pu_env *e = calloc(1, sizeof *e);
    uint32_t *out;
    const char *src = ENTRY1("k", "atom.global.add.u32 %r1, [%rd1], 1;\n"
                                  "atom.global.max.s32 %r2, [%rd1+4], %r30;\n"
                                  "neg.s32 %r3, %r30; atom.global.min.s32 %r4, [%rd1+8], %r3;\n"
                                  "atom.global.inc.u32 %r5, [%rd1+12], 9;\n"
                                  "atom.global.or.b32 %r6, [%rd1+16], 0x100;\n"
                                  "atom.global.add.f32 %f1, [%rd1+20], 0f3F000000;\n"
                                  "atom.global.cas.b32 %r7, [%rd1+24], 0, %r30;\n"
                                  "mov.u64 %rd8, 1; atom.global.add.u64 %rd9, [%rd1+32], %rd8;\n"
                                  "atom.global.exch.b32 %r8, [%rd1+40], 5;\n"
                                  "red.global.xor.b32 [%rd1+44], 1;\n"
                                  "atom.global.dec.u32 %r9, [%rd1+48], 100;\n");
    CHECK_EQ_INT(run_src(e, src, 3, 64, (void **)&out, 64, NULL, 0), PTX_OK);
    CHECK_EQ_INT(out[0], 192);
    CHECK_EQ_INT(out[1], 63);
    CHECK_EQ_INT((int32_t)out[2], -63);
    CHECK_EQ_INT(out[3], 192 % 10);
    CHECK_EQ_U64(out[4], 0x100);
    float f;
    memcpy(&f, &out[5], 4);
    CHECK(f == 96.0f);
    CHECK(out[6] < 64);
    CHECK_EQ_INT(out[8], 192);
    CHECK_EQ_INT(out[10], 5);
    CHECK_EQ_INT(out[11], 0);
    CHECK_EQ_INT(out[12], 100 - (192 - 1) % 101);
    pu_free(e);
    free(e);
}

RG_TEST(label_after_last_instruction)
{
    pu_env *e = calloc(1, sizeof *e);
    uint32_t *out;
    const char *src =
        PTX_HEADER ".visible .entry k(.param .u64 pout, .param .u64 pin)\n{\n .reg .b32 %r<4>; "
                   ".reg .b64 %rd<4>; .reg .pred %p<2>;\n"
                   " ld.param.u64 %rd1, [pout]; mov.u32 %r1, %tid.x; st.global.u32 [%rd1], 1;\n"
                   " setp.eq.u32 %p1, %r1, 0; @%p1 bra END;\n ret;\nEND:\n}\n"
                   ".visible .entry k2(.param .u64 pout, .param .u64 pin)\n{\n .reg .b64 %rd<2>;\n"
                   " ld.param.u64 %rd1, [pout]; st.global.u32 [%rd1], 99;\n ret;\n}\n";
    CHECK_EQ_INT(run_src(e, src, 1, 4, (void **)&out, 4, NULL, 0), PTX_OK);
    CHECK_EQ_INT(out[0], 1);
    pu_free(e);
    free(e);
}

RG_TEST(vector_param_loads_from_8_aligned_buffer)
{
    pu_env *e = calloc(1, sizeof *e);
    const char *src =
        PTX_HEADER ".visible .entry k(.param .u64 pout, .param .align 16 .b8 v[16])\n{\n .reg .b32 "
                   "%r<5>; .reg .b64 %rd<2>;\n"
                   " ld.param.u64 %rd1, [pout]; ld.param.v4.u32 {%r1, %r2, %r3, %r4}, [v];\n"
                   " st.global.v4.u32 [%rd1], {%r4, %r3, %r2, %r1};\n ret;\n}\n";
    CHECK_EQ_INT(pu_load(e, src), PTX_OK);
    uint32_t *out = pu_alloc(e, 16);
    uint64_t raw[6];
    uint8_t *pb = (uint8_t *)raw + (((uintptr_t)raw & 15) ? 0 : 8); /* 8 mod 16 */
    uint64_t o = (uintptr_t)out;
    uint32_t v[4] = {1, 2, 3, 4};
    memcpy(pb, &o, 8);
    memcpy(pb + 16, v, 16);
    CHECK_EQ_INT(pu_run(e, "k", 1, 1, 0, pb, 32), PTX_OK);
    CHECK_EQ_INT(out[0], 4);
    CHECK_EQ_INT(out[3], 1);
    pu_free(e);
    free(e);
}

RG_TEST(clobbered_return_address_faults)
{
    pu_env *e = calloc(1, sizeof *e);
    const char *src = PTX_HEADER
        ".func f()\n{\n .local .align 4 .b8 x[4];\n .reg .b64 %rd<3>; .reg .pred %p<2>;\n"
        " mov.u64 %rd1, x; mov.u64 %rd2, 0;\n" /* overwrite all local memory below the frame, incl.
                                                  the link */
        "L: st.local.u32 [%rd2], 12345; add.u64 %rd2, %rd2, 4; setp.lt.u64 %p1, %rd2, %rd1; @%p1 "
        "bra L;\n ret;\n}\n"
        ".visible .entry k()\n{\n call f;\n ret;\n}\n";
    CHECK_EQ_INT(pu_load(e, src), PTX_OK);
    enum ptx_status st = pu_run(e, "k", 1, 32, 0, NULL, 0);
    CHECK(st == PTX_ERR_ILLEGAL_ADDRESS);
    CHECK(strstr(e->fault.message, "return address") != NULL);
    pu_free(e);
    free(e);
}

/* -rdc linking puts one unit's `.extern` declaration of a variable before
 * another unit's definition in one module: both must name one variable. k,
 * before the definition, adds 1 per thread to the initialiser 5; k2, after it,
 * reads the sum. */
RG_TEST(extern_variable_defined_later_is_one_variable)
{
    pu_env *e = calloc(1, sizeof *e);
    const char *src = PTX_HEADER
        ".extern .global .align 4 .u32 cnt;\n"
        ".visible .entry k(.param .u64 pout, .param .u64 pin)\n{\n .reg .b32 %r<4>;\n"
        " atom.global.add.u32 %r1, [cnt], 1;\n ret;\n}\n"
        ".visible .global .align 4 .u32 cnt = 5;\n"
        ".visible .entry k2(.param .u64 pout, .param .u64 pin)\n{\n .reg .b32 %r<4>;\n"
        " .reg .b64 %rd<4>;\n ld.param.u64 %rd1, [pout];\n ld.global.u32 %r1, [cnt];\n"
        " st.global.u32 [%rd1], %r1;\n ret;\n}\n";
    void *out;
    CHECK_EQ_INT(run_src(e, src, 2, 32, &out, 4, NULL, 0), PTX_OK);
    uint64_t params[2] = {(uint64_t)(uintptr_t)out, 0};
    CHECK_EQ_INT(pu_run(e, "k2", 1, 1, 0, params, sizeof params), PTX_OK);
    CHECK_EQ_INT(*(uint32_t *)out, 5 + 64);
    pu_free(e);
    free(e);
}

RG_TEST_MAIN()
