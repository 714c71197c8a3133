/* test_unserved.c — export tables rgpu does not serve: NOT_FOUND with a NULL
 * table, and exactly one log line per table however often it is asked for
 * (warn for an unknown id, info for a known one such as NVRTC's da9151d3),
 * naming the UUID and the caller. Runs with RGPU_LOG=info; stderr is read
 * back from a temporary file. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "darkapi.h"
#include "rgtest.h"

static const unsigned char nvrtc_table[16] = {0xda, 0x91, 0x51, 0xd3, 0x3a, 0xe6, 0xcc, 0x41,
                                              0xa5, 0xc0, 0x4f, 0x26, 0xd5, 0x33, 0xe3, 0x28};

/* Lines of f containing both needles. */
static int lines_with(FILE *f, const char *a, const char *b)
{
    char line[1024];
    int n = 0;
    rewind(f);
    while (fgets(line, sizeof line, f))
        if (strstr(line, a) && strstr(line, b)) n++;
    return n;
}

RG_TEST(each_unserved_table_logged_once)
{
    FILE *log = tmpfile();
    CHECK(log != NULL);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    CHECK(saved >= 0 && dup2(fileno(log), STDERR_FILENO) >= 0);
    CUuuid unknown = {{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76, 0x98,
                       0xba, 0xdc, 0xfe}},
           other = {{0xee}}, nvrtc;
    memcpy(nvrtc.bytes, nvrtc_table, 16);
    CUresult r[7];
    const void *t[7];
    for (int i = 0; i < 7; i++)
        t[i] = (const void *)1;
    r[0] = rg_darkapi_export_table_from(&t[0], &unknown, "libfoo.so.1");
    r[1] = rg_darkapi_export_table_from(&t[1], &unknown, "libfoo.so.1");
    r[2] = rg_darkapi_export_table(&t[2], &unknown);
    r[3] = rg_darkapi_export_table_from(&t[3], &nvrtc, "libnvrtc.so.13");
    r[4] = rg_darkapi_export_table_from(&t[4], &nvrtc, "libnvrtc.so.13");
    r[5] = rg_darkapi_export_table(&t[5], &other);
    r[6] = rg_darkapi_export_table(&t[6], &other);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    for (int i = 0; i < 7; i++) {
        CHECK_CU_IS(r[i], CUDA_ERROR_NOT_FOUND);
        CHECK(t[i] == NULL);
    }
    CHECK_EQ_INT(lines_with(log, "01234567-89ab-cdef-1032-547698badcfe", "warn: "), 1);
    CHECK_EQ_INT(lines_with(log, "01234567-89ab-cdef-1032-547698badcfe", "asked by libfoo.so.1"),
                 1);
    CHECK_EQ_INT(lines_with(log, "da9151d3-3ae6-cc41-a5c0-4f26d533e328", "info: "), 1);
    CHECK_EQ_INT(lines_with(log, "da9151d3-3ae6-cc41-a5c0-4f26d533e328", "libnvrtc.so.13"), 1);
    CHECK_EQ_INT(lines_with(log, "ee000000-0000-0000-0000-000000000000", "warn: "), 1);
    fclose(log);
}

RG_TEST_MAIN()
