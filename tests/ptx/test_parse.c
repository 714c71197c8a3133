/* test_parse.c — the PTX front end: module and kernel information, variables
 * with initialisers and relocations, "line:col: message" errors, and a small
 * fuzz loop (mutated input must fail cleanly, never crash). */
#include "ptx_util.h"

static const char *good = PTX_HEADER
    "// comment\n"
    ".extern .func (.param .b32 func_retval0) vprintf(.param .b64 a, .param .b64 b);\n"
    ".global .align 4 .u32 counter;\n"
    ".global .align 8 .u64 ptr = generic(counter);\n"
    ".const .align 4 .b8 tab[8] = {1, 2, 3, 4, 5, 6, 7, 8};\n"
    ".global .f32 fv[2] = {0f3F800000, 2.5};\n"
    ".shared .align 8 .b8 common_sh[24];\n"
    ".extern .shared .align 16 .b8 dyn[];\n"
    ".func (.param .b32 r) twice(.param .b32 x)\n{\n .reg .b32 %r<3>;\n ld.param.u32 %r1, [x];\n"
    " add.s32 %r2, %r1, %r1;\n st.param.b32 [r], %r2;\n ret;\n}\n"
    ".visible .entry k1(.param .u64 .ptr .align 1 p0, .param .u32 p1, .param .u64 p2, .param "
    ".align 16 .b8 p3[20])\n"
    ".maxntid 128, 1, 1\n.minnctapersm 2\n{\n"
    " .reg .pred %p<3>;\n .reg .b32 %r<10>;\n .reg .b64 %rd<5>;\n .shared .align 4 .b8 own[100];\n"
    " .local .align 8 .b8 __local_depot0[16];\n"
    " .loc 1 2 3\n"
    " ld.param.u64 %rd1, [p0];\n mov.u32 %r1, %tid.x;\n"
    " { .param .b32 param0; st.param.b32 [param0], %r1; .param .b32 retval0;\n"
    "   call.uni (retval0), twice, (param0); ld.param.b32 %r2, [retval0]; }\n"
    " setp.eq.s32 %p1, %r2, 0;\n @!%p1 bra $L__done;\n .pragma \"nounroll\";\n"
    "$L__done:\n ret;\n}\n"
    ".entry k2 .reqntid 32, 2, 1 { ret; }\n";

RG_TEST(module_info)
{
    pu_env *e = calloc(1, sizeof *e);
    CHECK_EQ_INT(pu_load(e, good), PTX_OK);
    CHECK_EQ_INT(ptx_module_version(e->m), 90);
    CHECK_EQ_INT(ptx_module_target(e->m), 120);
    CHECK_EQ_INT(ptx_module_num_kernels(e->m), 2);
    const ptx_kernel *k = ptx_module_find_kernel(e->m, "k1");
    CHECK(k != NULL);
    const ptx_kernel_info *ki = ptx_kernel_get_info(k);
    CHECK_STR(ki->name, "k1");
    CHECK_EQ_INT(ki->nparams, 4);
    CHECK_EQ_INT(ki->params[0].offset, 0);
    CHECK_EQ_INT(ki->params[1].offset, 8);
    CHECK_EQ_INT(ki->params[2].offset, 16);
    CHECK_EQ_INT(ki->params[3].offset, 32);
    CHECK_EQ_INT(ki->params[3].size, 20);
    CHECK_EQ_INT(ki->params[3].align, 16);
    CHECK_EQ_INT(ki->params_size, 52);
    CHECK_EQ_INT(ki->static_smem, 32 + 100);
    CHECK_EQ_INT(ki->maxntid, 128);
    CHECK_EQ_INT(ki->minnctapersm, 2);
    CHECK(ki->local_bytes >= 16);
    const ptx_kernel_info *k2 = ptx_kernel_get_info(ptx_module_find_kernel(e->m, "k2"));
    CHECK_EQ_INT(k2->reqntid[0], 32);
    CHECK_EQ_INT(k2->reqntid[1], 2);
    CHECK(ptx_module_ir_bytes(e->m) > 0);
    CHECK_EQ_INT(ptx_module_num_vars(e->m), 4);
    long pi = ptx_module_find_var(e->m, "ptr"), ci = ptx_module_find_var(e->m, "counter");
    CHECK(pi >= 0 && ci >= 0);
    CHECK_EQ_U64(*(uint64_t *)e->vars[pi], (uint64_t)(uintptr_t)e->vars[ci]);
    long ti = ptx_module_find_var(e->m, "tab");
    CHECK_EQ_INT(ptx_module_var(e->m, ti)->space, PTX_SPACE_CONST);
    CHECK_EQ_INT(((uint8_t *)ptx_module_var(e->m, ti)->init)[5], 6);
    const float *fv = ptx_module_var(e->m, ptx_module_find_var(e->m, "fv"))->init;
    CHECK(fv[0] == 1.0f && fv[1] == 2.5f);
    CHECK_EQ_INT(ptx_module_find_var(e->m, "nope"), -1);
    pu_free(e);
    free(e);
}

static void expect_error(const char *src, const char *where, const char *what)
{
    char log[512];
    ptx_module *m = (ptx_module *)1;
    enum ptx_status s = ptx_parse(src, strlen(src), &m, log, sizeof log);
    if (s != PTX_ERR_PARSE || m != NULL || strncmp(log, where, strlen(where)) ||
        !strstr(log, what)) {
        fprintf(stderr, "  FAIL: status %s log \"%s\" (want \"%s ... %s\")\n", ptx_status_name(s),
                log, where, what);
        rg_test_failed_now = 1;
    }
}

RG_TEST(parse_errors_have_line_and_column)
{
    expect_error(PTX_HEADER ".entry k {\n  .reg .b32 %r1;\n  mov.u32 %r1, 1\n  ret;\n}\n",
                 "7:3:", "expected ','");
    expect_error(PTX_HEADER ".entry k {\n  frobnicate.u32 %r1, 1;\n}\n",
                 "5:3:", "unsupported instruction");
    expect_error(PTX_HEADER ".entry k {\n  mov.u32 %r9, 1;\n}\n", "5:", "unknown");
    expect_error(PTX_HEADER ".entry k {\n  bra nowhere;\n}\n", "5:7:", "unknown label");
    expect_error(PTX_HEADER ".entry k {\n  .reg .b32 %r1;\n  add.u32 %r1, %r1;\n}\n",
                 "6:", "operands");
    expect_error(PTX_HEADER ".entry k {\n  .reg .b32 %r1;\n  add.bogus.u32 %r1, %r1, 1;\n}\n",
                 "6:6:", "unsupported modifier");
    expect_error(".target sm_120\n", "", "missing .version");
    expect_error(PTX_HEADER ".entry k {\n ret;\n", "", "end of file");
    expect_error(PTX_HEADER ".entry k {\n ld.global.u32 %r1, 5;\n}\n", "5:16:", "unknown register");
    expect_error(PTX_HEADER ".global .u32 x = 1 2;\n", "4:20:", "expected ';'");
    expect_error(PTX_HEADER "\x01", "4:1:", "invalid token");
    expect_error(PTX_HEADER ".func f();\n.entry k { call f; }\n", "5:", "undefined function");
    char log[256];
    ptx_module *m;
    const char *ok = PTX_HEADER ".entry k { .reg .b32 %r1; mov.u32 %r1, WARP_SZ; ret; }\n";
    CHECK_EQ_INT(ptx_parse(ok, strlen(ok), &m, log, sizeof log), PTX_OK);
    ptx_module_free(m);
}

RG_TEST(parse_empty_and_null)
{
    char log[64];
    ptx_module *m;
    CHECK_EQ_INT(ptx_parse("", 0, &m, log, sizeof log), PTX_ERR_PARSE);
    CHECK_EQ_INT(ptx_parse(NULL, 0, &m, log, sizeof log), PTX_ERR_PARSE);
    CHECK_EQ_INT(ptx_parse(PTX_HEADER, strlen(PTX_HEADER), &m, NULL, 0), PTX_OK);
    CHECK_EQ_INT(ptx_module_num_kernels(m), 0);
    ptx_module_free(m);
    /* a NUL terminator inside len ends the text */
    CHECK_EQ_INT(ptx_parse(PTX_HEADER, strlen(PTX_HEADER) + 1, &m, log, sizeof log), PTX_OK);
    ptx_module_free(m);
}

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

RG_TEST(fuzz_mutations_fail_cleanly)
{
    size_t n = strlen(good);
    char *buf = malloc(n + 64);
    char log[256];
    uint32_t seed = 12345;
    int ok = 0, bad = 0;
    static const char junk[] = "{}[](),;:.%@!<>|+-0123456789xf_ \n\"";
    for (int it = 0; it < 4000; it++) {
        memcpy(buf, good, n);
        size_t len = n;
        int k = 1 + (int)(rnd(&seed) % 4);
        for (int j = 0; j < k; j++) {
            size_t pos = rnd(&seed) % len;
            switch (rnd(&seed) % 4) {
            case 0:
                buf[pos] = junk[rnd(&seed) % (sizeof junk - 1)];
                break;
            case 1:
                buf[pos] = (char)rnd(&seed);
                break;
            case 2:
                len = pos;
                break; /* truncate */
            default:
                memmove(buf + pos, buf + pos + 1, len - pos - 1), len--;
                break;
            }
            if (!len) break;
        }
        ptx_module *m = NULL;
        enum ptx_status s = ptx_parse(buf, len, &m, log, sizeof log);
        if (s == PTX_OK)
            ok++, ptx_module_free(m);
        else if (s == PTX_ERR_PARSE && m == NULL && log[0])
            bad++;
        else
            RG_FAIL("iteration %d: status %s", it, ptx_status_name(s));
    }
    free(buf);
    CHECK(bad > 1000);
    fprintf(stderr, "  %d parsed, %d rejected\n", ok, bad);
}

RG_TEST_MAIN()
