/* test_fatbin.c — fatbin reading on images nvcc built at test-build time
 * (fatbins.cmake): PTX extracted under every compression mode equals
 * `nvcc -ptx` output, architecture choice, SASS-only images, wrappers v1/v2,
 * ELF sizing, and truncated or corrupted images failing cleanly. */
#include <stdint.h>
#include <stdio.h>

#include "fatbin.h"
#include "rgtest.h"

static size_t file_size;

/* Whole file into a malloc'd, NUL-terminated buffer; NULL if absent. */
static char *slurp(const char *name)
{
    const char *dir = getenv("RG_DARK_FATBINS");
    char path[4096];
    if (!dir) return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = '\0';
    file_size = (size_t)n;
    return b;
}

#define LOAD(var, name)                                                                            \
    char *var = slurp(name);                                                                       \
    if (!var) RG_SKIP("%s not built (no nvcc?)", name)

/* PTX with comments removed and whitespace runs collapsed: nvcc -fatbin
 * strips comments and tabs that nvcc -ptx keeps. */
static char *normalise(const char *s)
{
    char *out = malloc(strlen(s) + 2), *o = out;
    int space = 1;
    for (; *s; s++) {
        if (s[0] == '/' && s[1] == '/') {
            while (*s && *s != '\n')
                s++;
            if (!*s) break;
        }
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            if (!space) *o++ = ' ';
            space = 1;
        } else {
            *o++ = *s;
            space = 0;
        }
    }
    if (o > out && o[-1] == ' ') o--;
    *o = '\0';
    return out;
}

static int same_ptx(const char *a, const char *b)
{
    char *na = normalise(a), *nb = normalise(b);
    int same = strcmp(na, nb) == 0;
    free(na);
    free(nb);
    return same;
}

static int extract_one(const void *image, unsigned arch, char **ptx)
{
    char **v;
    size_t n;
    char why[256];
    if (rg_image_extract_ptx(image, arch, &v, &n, why, sizeof why) != RG_FATBIN_OK || n != 1)
        return -1;
    *ptx = strdup(v[0]);
    rg_fatbin_free_ptx(v, n);
    return 0;
}

RG_TEST(ptx_from_every_compression_mode_matches_nvcc_ptx)
{
    static const char *const modes[] = {"ptx120_default.fatbin", "ptx120_size.fatbin",
                                        "ptx120_speed.fatbin", "ptx120_none.fatbin"};
    LOAD(ref, "compute_120.ptx");
    for (size_t i = 0; i < 4; i++) {
        LOAD(fb, modes[i]);
        char *ptx = NULL;
        CHECK(rg_image_kind(fb) == RG_IMAGE_CONTAINER);
        CHECK_EQ_U64(rg_image_size(fb), file_size);
        CHECK(extract_one(fb, 120, &ptx) == 0);
        CHECK(same_ptx(ptx, ref));
        CHECK(strstr(ptx, ".target sm_120") != NULL);
        free(ptx);
        free(fb);
    }
    free(ref);
}

struct seen {
    unsigned flags_or;
    int ptx, elf;
};
static int note(const rg_fatbin_entry *e, void *arg)
{
    struct seen *s = arg;
    s->flags_or |= (unsigned)e->flags;
    s->ptx += e->kind == RG_ENTRY_PTX;
    s->elf += e->kind == RG_ENTRY_ELF;
    return 0;
}

/* The compression the images actually use, so the modes above cover both codecs. */
RG_TEST(compression_flags_and_elf_payloads)
{
    static const struct {
        const char *name;
        unsigned flag;
    } t[] = {{"ptx120_size.fatbin", 0x8000},
             {"ptx120_speed.fatbin", 0x2000},
             {"sass90_lz4.fatbin", 0x2000},
             {"sass90_zstd.fatbin", 0x8000}};
    for (size_t i = 0; i < 4; i++) {
        LOAD(fb, t[i].name);
        struct seen s = {0};
        CHECK(rg_fatbin_foreach(fb, file_size, note, &s) == RG_FATBIN_OK);
        CHECK(s.flags_or & t[i].flag);
        free(fb);
    }
}

static rg_fatbin_entry first_elf;
static int grab_elf(const rg_fatbin_entry *e, void *arg)
{
    if (e->kind != RG_ENTRY_ELF) return 0;
    first_elf = *e;
    return 1;
}

RG_TEST(compressed_cubins_decompress_to_elf)
{
    static const char *const names[] = {"sass90_lz4.fatbin", "sass90_zstd.fatbin", "sass90.fatbin"};
    for (size_t i = 0; i < 3; i++) {
        LOAD(fb, names[i]);
        memset(&first_elf, 0, sizeof first_elf);
        CHECK(rg_fatbin_foreach(fb, file_size, grab_elf, NULL) == RG_FATBIN_OK);
        CHECK(first_elf.kind == RG_ENTRY_ELF && first_elf.arch == 90);
        char *data;
        size_t n;
        CHECK(rg_fatbin_entry_data(&first_elf, &data, &n) == RG_FATBIN_OK);
        CHECK(n > 64 && memcmp(data,
                               "\x7f"
                               "ELF",
                               4) == 0);
        CHECK(rg_image_kind(data) == RG_IMAGE_ELF);
        CHECK(rg_image_size_avail(data, n) > 64 && rg_image_size_avail(data, n) <= n);
        free(data);
        free(fb);
    }
}

RG_TEST(newest_ptx_not_above_the_device)
{
    LOAD(fb, "multi.fatbin");
    LOAD(p120, "compute_120.ptx");
    LOAD(p80, "compute_80.ptx");
    char *ptx = NULL;
    CHECK(extract_one(fb, 120, &ptx) == 0 && same_ptx(ptx, p120));
    free(ptx);
    CHECK(extract_one(fb, 100, &ptx) == 0 && same_ptx(ptx, p80));
    free(ptx);
    char **v = (char **)1, why[256];
    size_t n = 9;
    CHECK(rg_image_extract_ptx(fb, 75, &v, &n, why, sizeof why) == RG_FATBIN_NO_PTX);
    CHECK(v == NULL && n == 0);
    CHECK(strstr(why, "compute_80") && strstr(why, "compute_120") && strstr(why, "sm_90"));
    free(fb);
    free(p120);
    free(p80);
}

RG_TEST(sass_only_reports_the_architectures)
{
    LOAD(fb, "sass90.fatbin");
    char **v, why[256];
    size_t n;
    CHECK(rg_image_extract_ptx(fb, 120, &v, &n, why, sizeof why) == RG_FATBIN_NO_PTX);
    CHECK(strstr(why, "sm_90") != NULL);
    free(fb);
    LOAD(cubin, "sm_90.cubin");
    CHECK(rg_image_kind(cubin) == RG_IMAGE_ELF);
    CHECK_EQ_U64(rg_image_size(cubin), file_size);
    CHECK_EQ_U64(rg_image_size_avail(cubin, file_size), file_size);
    CHECK_EQ_U64(rg_image_size_avail(cubin, file_size - 1), 0);
    CHECK(rg_image_extract_ptx(cubin, 120, &v, &n, why, sizeof why) == RG_FATBIN_NO_PTX);
    free(cubin);
}

/* __fatBinC_Wrapper_t as nvcc lays it out on LP64. */
struct wrapper {
    int32_t magic, version;
    const void *data;
    const void *const *linked;
};

RG_TEST(wrappers_v1_and_v2)
{
    LOAD(fb, "ptx120_default.fatbin");
    LOAD(ref, "compute_120.ptx");
    struct wrapper w1 = {(int32_t)RG_FATBINC_MAGIC, 1, fb, NULL};
    char *ptx = NULL;
    CHECK(rg_image_kind(&w1) == RG_IMAGE_WRAPPER);
    CHECK_EQ_U64(rg_image_size(&w1), 0);
    CHECK(extract_one(&w1, 120, &ptx) == 0 && same_ptx(ptx, ref));
    free(ptx);
    /* v2 as a PTX-only -rdc build: empty data container, code in the linked array */
    static const uint8_t empty[16] = {0x50, 0xed, 0x55, 0xba, 1, 0, 16, 0};
    const void *linked[] = {fb, fb, NULL};
    struct wrapper w2 = {(int32_t)RG_FATBINC_MAGIC, 2, empty, linked};
    char **v, why[256];
    size_t n;
    CHECK(rg_image_extract_ptx(&w2, 120, &v, &n, why, sizeof why) == RG_FATBIN_OK);
    CHECK(n == 2 && same_ptx(v[0], ref) && same_ptx(v[1], ref));
    rg_fatbin_free_ptx(v, n);
    struct wrapper bad = {(int32_t)RG_FATBINC_MAGIC, 3, fb, NULL};
    CHECK(rg_image_extract_ptx(&bad, 120, &v, &n, why, sizeof why) == RG_FATBIN_MALFORMED);
    struct wrapper null_data = {(int32_t)RG_FATBINC_MAGIC, 1, NULL, NULL};
    CHECK(rg_image_extract_ptx(&null_data, 120, &v, &n, why, sizeof why) == RG_FATBIN_MALFORMED);
    free(fb);
    free(ref);
}

RG_TEST(plain_ptx_and_image_kinds)
{
    char **v, why[64];
    size_t n;
    CHECK(rg_image_extract_ptx(".version 9.0\n.target sm_120\n", 120, &v, &n, why, sizeof why) ==
          RG_FATBIN_OK);
    CHECK(n == 1 && !strcmp(v[0], ".version 9.0\n.target sm_120\n"));
    rg_fatbin_free_ptx(v, n);
    CHECK(rg_image_kind("!<arch>\nxx") == RG_IMAGE_ARCHIVE);
    CHECK(rg_image_kind("!<ar") == RG_IMAGE_PTX); /* short text is never overread */
    CHECK(rg_image_kind("") == RG_IMAGE_UNKNOWN);
    CHECK(rg_image_kind(NULL) == RG_IMAGE_UNKNOWN);
    CHECK(rg_image_extract_ptx("", 120, &v, &n, why, sizeof why) == RG_FATBIN_MALFORMED);
    CHECK_EQ_U64(rg_image_size("abc"), 4);
    CHECK_EQ_U64(rg_image_size_avail("abcdef", 3), 0);
}

/* Every prefix of a container is rejected, never read past. */
RG_TEST(truncated_containers_fail_cleanly)
{
    static const char *const names[] = {"multi.fatbin", "sass90_lz4.fatbin"};
    for (size_t k = 0; k < 2; k++) {
        LOAD(fb, names[k]);
        size_t size = file_size;
        for (size_t len = 0; len < size; len++) {
            char *copy = malloc(len ? len : 1); /* exact size: ASan/valgrind catch overreads */
            memcpy(copy, fb, len);
            CHECK(rg_fatbin_foreach(copy, len, NULL, NULL) == RG_FATBIN_MALFORMED);
            CHECK(rg_fatbin_container_size(copy, len) == 0);
            free(copy);
        }
        CHECK(rg_fatbin_foreach(fb, size, NULL, NULL) == RG_FATBIN_OK);
        free(fb);
    }
}

static int decode_all(const rg_fatbin_entry *e, void *arg)
{
    char *data;
    size_t n;
    if (rg_fatbin_entry_data(e, &data, &n) == RG_FATBIN_OK)
        free(data);
    else
        (*(int *)arg)++;
    return 0;
}

/* Flip bytes everywhere (headers and compressed payloads) with the container
 * size kept honest: parsing and decoding must fail or succeed, never crash. */
RG_TEST(corrupted_containers_never_crash)
{
    static const char *const names[] = {"multi.fatbin", "sass90_lz4.fatbin", "ptx120_size.fatbin"};
    unsigned seed = 12345;
    int failures = 0;
    for (size_t k = 0; k < 3; k++) {
        LOAD(fb, names[k]);
        size_t size = file_size;
        char *copy = malloc(size);
        for (int round = 0; round < 3000; round++) {
            memcpy(copy, fb, size);
            for (int f = 0; f < 4; f++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = 16 + (seed >> 8) % (size - 16);
                copy[at] = (char)(seed >> 24);
            }
            if (rg_fatbin_foreach(copy, size, decode_all, &failures) == RG_FATBIN_OK) {
                char **v, why[128];
                size_t n;
                if (rg_image_extract_ptx(copy, 120, &v, &n, why, sizeof why) == RG_FATBIN_OK)
                    rg_fatbin_free_ptx(v, n);
            }
        }
        free(copy);
        free(fb);
    }
    CHECK(failures > 0); /* corruption was noticed somewhere */
}

RG_TEST(garbage_is_malformed)
{
    uint8_t g[256];
    for (int i = 0; i < 256; i++)
        g[i] = (uint8_t)(i * 37 + 11);
    memcpy(g, "\x50\xed\x55\xba\x01\x00\x10\x00", 8);
    CHECK(rg_fatbin_foreach(g, sizeof g, NULL, NULL) == RG_FATBIN_MALFORMED);
    memset(g + 8, 0, 8);
    g[8] = 200; /* body of 200 bytes of garbage entries */
    CHECK(rg_fatbin_foreach(g, sizeof g, NULL, NULL) == RG_FATBIN_MALFORMED);
    g[4] = 2; /* unknown container version */
    CHECK(rg_fatbin_container_size(g, sizeof g) == 0);
}

RG_TEST_MAIN()
