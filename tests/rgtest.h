/* rgtest.h — the minimal test harness every C test in rgpu uses.
 * A test file defines test functions with RG_TEST(name) and ends with
 * RG_TEST_MAIN(). A failed check reports file:line and the values, marks the
 * test failed and returns from it. RG_SKIP(reason) skips the test; a binary
 * whose every test skipped exits 77 (ctest SKIP_RETURN_CODE). */
#ifndef RG_TEST_H
#define RG_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rg_test_case {
    const char *name;
    void (*fn)(void);
} rg_test_case;

extern int rg_test_failed_now;
extern int rg_test_skipped_now;

#define RG_TEST_MAX 512
extern rg_test_case rg_tests[RG_TEST_MAX];
extern int rg_ntests;

#define RG_TEST(name)                                                                              \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void rg_register_##name(void)                             \
    {                                                                                              \
        if (rg_ntests < RG_TEST_MAX) rg_tests[rg_ntests++] = (rg_test_case){#name, name};         \
    }                                                                                              \
    static void name(void)

#define RG_FAIL(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__);                                     \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        rg_test_failed_now = 1;                                                                    \
        return;                                                                                    \
    } while (0)

#define RG_SKIP(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "  SKIP: ");                                                               \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        rg_test_skipped_now = 1;                                                                   \
        return;                                                                                    \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) RG_FAIL("%s", #cond);                                                         \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long rg_a_ = (long long)(a), rg_b_ = (long long)(b);                                  \
        if (rg_a_ != rg_b_) RG_FAIL("%s == %lld, expected %s == %lld", #a, rg_a_, #b, rg_b_);      \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        unsigned long long rg_a_ = (unsigned long long)(a), rg_b_ = (unsigned long long)(b);       \
        if (rg_a_ != rg_b_)                                                                        \
            RG_FAIL("%s == %#llx, expected %s == %#llx", #a, rg_a_, #b, rg_b_);                    \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *rg_a_ = (a), *rg_b_ = (b);                                                     \
        if (!rg_a_ || !rg_b_ || strcmp(rg_a_, rg_b_))                                              \
            RG_FAIL("%s == \"%s\", expected \"%s\"", #a, rg_a_ ? rg_a_ : "(null)",                 \
                    rg_b_ ? rg_b_ : "(null)");                                                     \
    } while (0)

/* CUresult checks: expected code and a readable name on mismatch. Requires cuda.h. */
#define CHECK_CU_IS(call, expect)                                                                  \
    do {                                                                                           \
        int rg_r_ = (int)(call), rg_e_ = (int)(expect);                                            \
        if (rg_r_ != rg_e_) RG_FAIL("%s returned %d, expected %s (%d)", #call, rg_r_, #expect, rg_e_); \
    } while (0)
#define CHECK_CU(call) CHECK_CU_IS(call, 0)

#define RG_TEST_MAIN()                                                                             \
    rg_test_case rg_tests[RG_TEST_MAX];                                                            \
    int rg_ntests, rg_test_failed_now, rg_test_skipped_now;                                        \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        int failed = 0, skipped = 0, run = 0;                                                      \
        for (int i = 0; i < rg_ntests; i++) {                                                      \
            if (argc > 1 && !strstr(rg_tests[i].name, argv[1])) continue;                          \
            rg_test_failed_now = rg_test_skipped_now = 0;                                          \
            fprintf(stderr, "[ RUN  ] %s\n", rg_tests[i].name);                                    \
            rg_tests[i].fn();                                                                      \
            run++;                                                                                 \
            if (rg_test_failed_now) failed++;                                                      \
            else if (rg_test_skipped_now) skipped++;                                               \
            fprintf(stderr, "[ %s ] %s\n",                                                         \
                    rg_test_failed_now ? "FAIL" : rg_test_skipped_now ? "SKIP" : " OK ",           \
                    rg_tests[i].name);                                                             \
        }                                                                                          \
        fprintf(stderr, "%d run, %d failed, %d skipped\n", run, failed, skipped);                  \
        if (failed) return 1;                                                                      \
        return (run > 0 && skipped == run) ? 77 : 0;                                               \
    }

#endif
