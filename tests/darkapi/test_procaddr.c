/* test_procaddr.c — rg_procaddr_lookup against every request cudart 13.0.88
 * makes and the variant the real driver returns (procaddr_cudart13.txt, from
 * the ref doc's Appendix A), plus the edge cases of ref §9. This executable
 * links the generated exports, so the expected addresses come from dlsym. */
#include <dlfcn.h>

#include "darkapi.h"
#include "procaddr_table.h"
#include "rgtest.h"

static int exported(const char *name)
{
    for (size_t i = 0; i < rg_driver_export_count; i++)
        if (!strcmp(rg_driver_export_names[i], name)) return 1;
    return 0;
}

/* One "VERSION[/PT] -> VARIANT" item of a line; returns 0 if it matched. */
static int check_item(const char *base, const char *item, int *bad)
{
    int version;
    char pt[4] = "", var[64];
    if (sscanf(item, " %d%3[/PT] -> %63[A-Za-z0-9_]", &version, pt, var) != 3 &&
        sscanf(item, " %d -> %63[A-Za-z0-9_]", &version, var) != 2)
        return -1;
    char sym[256];
    snprintf(sym, sizeof sym, "%s%s", base, strcmp(var, "base") ? var : "");
    void *fn = (void *)1;
    CUdriverProcAddressQueryResult st = 9;
    CUresult r = rg_procaddr_lookup(base, &fn, version, pt[0] ? 2 : 0, &st);
    if (!exported(sym)) { /* GL/EGL/VDPAU: not in the stub, so not ours either */
        if (r != CUDA_ERROR_NOT_FOUND || fn) (*bad)++;
        return 0;
    }
    void *want = dlsym(RTLD_DEFAULT, sym);
    if (r != CUDA_SUCCESS || st != CU_GET_PROC_ADDRESS_SUCCESS || !want || fn != want) {
        fprintf(stderr, "  %s @%d%s: got %p (r=%d), want %s = %p\n", base, version, pt, fn, (int)r,
                sym, want);
        (*bad)++;
    }
    return 0;
}

RG_TEST(cudart13_requests_resolve_like_the_real_driver)
{
    const char *dir = getenv("RG_DARK_DATA");
    char path[4096], line[1024];
    if (!dir) RG_SKIP("RG_DARK_DATA not set");
    snprintf(path, sizeof path, "%s/procaddr_cudart13.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int lines = 0, items = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char base[128], *open = strchr(line, '['), *close = strrchr(line, ']');
        if (!open || !close || sscanf(line, "%127s", base) != 1) continue;
        *close = '\0';
        lines++;
        for (char *item = strtok(open + 1, ";"); item; item = strtok(NULL, ";"), items++)
            if (check_item(base, item, &bad) != 0) bad++;
    }
    fclose(f);
    fprintf(stderr, "  %d names, %d requests checked\n", lines, items);
    CHECK_EQ_INT(lines, 345);
    CHECK_EQ_INT(items, 439);
    CHECK_EQ_INT(bad, 0);
}

static void *expect(const char *base, int version, cuuint64_t flags, CUresult want_r,
                    CUdriverProcAddressQueryResult want_st)
{
    void *fn = (void *)1;
    CUdriverProcAddressQueryResult st = 9;
    CUresult r = rg_procaddr_lookup(base, &fn, version, flags, &st);
    if (r != want_r || st != want_st) {
        fprintf(stderr, "  %s@%d flags %llu: r=%d st=%d\n", base, version,
                (unsigned long long)flags, (int)r, (int)st);
        return (void *)1;
    }
    return fn;
}

RG_TEST(edge_cases)
{
    void *v2 = dlsym(RTLD_DEFAULT, "cuCtxGetDevice_v2"),
         *v1 = dlsym(RTLD_DEFAULT, "cuCtxGetDevice");
    CHECK(v1 && v2);
    /* empty probe, unknown names, NULL symbol */
    CHECK(expect("", 0, 0, CUDA_ERROR_NOT_FOUND, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND) == NULL);
    CHECK(expect("cuNoSuchThing", 13000, 0, CUDA_ERROR_NOT_FOUND,
                 CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND) == NULL);
    CHECK(expect("cuMemAlloc_v2", 13000, 0, CUDA_ERROR_NOT_FOUND,
                 CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND) == NULL);
    CHECK(expect(NULL, 13000, 0, CUDA_ERROR_NOT_FOUND, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND) ==
          NULL);
    /* only newer variants exist */
    CHECK(expect("cuLibraryLoadData", 11080, 0, CUDA_ERROR_NOT_FOUND,
                 CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT) == NULL);
    /* versions above our driver's are resolved, never rejected */
    CHECK(expect("cuCtxGetDevice", 99000, 0, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) == v2);
    CHECK(expect("cuCtxGetDevice", 12090, 0, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) == v1);
    /* flags 0 and 1 agree; 2 falls back to the legacy variant when no per-thread one exists */
    CHECK(expect("cuCtxGetDevice", 13000, 1, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) == v2);
    CHECK(expect("cuCtxGetDevice", 13000, 2, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) == v2);
    CHECK(expect("cuLaunchKernel", 13000, 2, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) ==
          dlsym(RTLD_DEFAULT, "cuLaunchKernel_ptsz"));
    CHECK(expect("cuLaunchKernel", 13000, 1, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) ==
          dlsym(RTLD_DEFAULT, "cuLaunchKernel"));
    CHECK(expect("cuLaunchKernel", 6050, 2, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) ==
          dlsym(RTLD_DEFAULT, "cuLaunchKernel"));
    CHECK(expect("cuCtxCreate", 13000, 0, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) ==
          dlsym(RTLD_DEFAULT, "cuCtxCreate_v4"));
    CHECK(expect("cuCtxCreate", 11040, 0, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) ==
          dlsym(RTLD_DEFAULT, "cuCtxCreate_v3"));
    CHECK(expect("cuMemcpyHtoD", 13000, 2, CUDA_SUCCESS, CU_GET_PROC_ADDRESS_SUCCESS) ==
          dlsym(RTLD_DEFAULT, "cuMemcpyHtoD_v2_ptds"));
    CHECK_CU_IS(rg_procaddr_lookup("cuInit", NULL, 13000, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    void *fn = (void *)1;
    CHECK_CU_IS(rg_procaddr_lookup("cuInit", &fn, 13000, 4, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK(fn == NULL);
    CHECK_CU(rg_procaddr_lookup("cuInit", &fn, 13000, 0, NULL)); /* status is optional */
}

/* Nobody in this executable implements the driver: every export is the weak default. */
RG_TEST(weak_defaults_return_not_supported)
{
    CHECK(rg_driver_export_count >= 600);
    CHECK(exported("cuGetProcAddress_v2") && exported("cuMemAlloc_v2"));
    for (size_t i = 0; i < rg_driver_export_count; i++) {
        int (*fn)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, rg_driver_export_names[i]);
        CHECK(fn != NULL);
    }
    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "cuMemAlloc_v2");
    CHECK_EQ_INT(f(), CUDA_ERROR_NOT_SUPPORTED);
    CHECK_EQ_INT(f(), CUDA_ERROR_NOT_SUPPORTED);
}

RG_TEST_MAIN()
