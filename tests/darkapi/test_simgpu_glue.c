/* test_simgpu_glue.c — darkapi as linked into simgpu's libcuda.so.1 (dlopen'ed
 * like cudart does): cuGetProcAddress_v2 returns simgpu's own exports for all
 * of cudart 13.0's requests, and the export tables work against simgpu's
 * devices and contexts, integrity hash included (checked with the Python
 * reference over a message built from simgpu's reported device identity). */
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cuda.h>

#include "rgtest.h"

typedef CUresult (*gpa_fn)(const char *, void **, int, cuuint64_t,
                           CUdriverProcAddressQueryResult *);
static void *lib;
static gpa_fn gpa;

static int open_simgpu(void)
{
    const char *path = getenv("RG_SIMGPU_LIB");
    if (!lib && path) lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib && !gpa) gpa = (gpa_fn)dlsym(lib, "cuGetProcAddress_v2");
    return gpa ? 0 : -1;
}

static void *proc(const char *name, int version)
{
    void *fn = NULL;
    CUdriverProcAddressQueryResult st;
    return gpa(name, &fn, version, 0, &st) == CUDA_SUCCESS ? fn : NULL;
}

RG_TEST(lookups_return_simgpu_exports)
{
    if (open_simgpu() != 0) RG_SKIP("simgpu library not available: %s", dlerror());
    const char *dir = getenv("RG_DARK_DATA");
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/procaddr_cudart13.txt", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int checked = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char base[128], var[64], pt[4] = "", sym[256];
        int version;
        char *item = strchr(line, '[');
        if (!item || sscanf(line, "%127s", base) != 1) continue;
        for (item = strtok(item + 1, ";]"); item; item = strtok(NULL, ";]")) {
            if (sscanf(item, " %d%3[/PT] -> %63[A-Za-z0-9_]", &version, pt, var) != 3) {
                pt[0] = '\0';
                if (sscanf(item, " %d -> %63[A-Za-z0-9_]", &version, var) != 2) continue;
            }
            snprintf(sym, sizeof sym, "%s%s", base, strcmp(var, "base") ? var : "");
            void *want = dlsym(lib, sym), *fn = NULL;
            CUdriverProcAddressQueryResult st;
            CUresult r = gpa(base, &fn, version, pt[0] ? 2 : 0, &st);
            checked++;
            if (want ? (r != CUDA_SUCCESS || fn != want) : (r != CUDA_ERROR_NOT_FOUND || fn)) {
                fprintf(stderr, "  %s@%d%s -> %p (%d), want %s=%p\n", base, version, pt, fn, (int)r,
                        sym, want);
                bad++;
            }
        }
    }
    fclose(f);
    CHECK_EQ_INT(checked, 439);
    CHECK_EQ_INT(bad, 0);
    void *legacy = dlsym(lib, "cuGetProcAddress"), *fn = NULL;
    CHECK(legacy != NULL);
    CHECK_CU(((CUresult(*)(const char *, void **, int, cuuint64_t))legacy)("cuInit", &fn, 2000, 0));
    CHECK(fn == dlsym(lib, "cuInit"));
}

static const void *const *table(const unsigned char id[16])
{
    CUresult (*get)(const void **, const CUuuid *) = proc("cuGetExportTable", 3000);
    const void *t = NULL;
    CUuuid u;
    memcpy(u.bytes, id, 16);
    return get && get(&t, &u) == CUDA_SUCCESS ? t : NULL;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* ref §5's message from what simgpu reports through the public API. */
static size_t message(unsigned char *m, const void *ci, const void *const *it, uint64_t now)
{
    CUresult (*count)(int *) = proc("cuDeviceGetCount", 2000);
    CUresult (*uuid)(CUuuid *, CUdevice) = proc("cuDeviceGetUuid", 9020);
    CUresult (*attr)(int *, CUdevice_attribute, CUdevice) = proc("cuDeviceGetAttribute", 2000);
    CUresult (*ver)(int *) = proc("cuDriverGetVersion", 2020);
    int n = 0, v = 0;
    if (!count || !uuid || !attr || !ver || count(&n) || ver(&v) || n > 8) return 0;
    put_le(m, (uint64_t)v, 4);
    put_le(m + 4, 13002, 4);
    put_le(m + 8, (uint64_t)getpid(), 4);
    put_le(m + 12, (uint64_t)(uintptr_t)pthread_self(), 4);
    put_le(m + 16, (uintptr_t)ci, 8);
    put_le(m + 24, (uintptr_t)it, 8);
    put_le(m + 32, (uintptr_t)it[1], 8);
    put_le(m + 40, now, 8);
    for (int d = 0; d < n; d++) {
        unsigned char *r = m + 48 + 28 * d;
        CUuuid u;
        int dom = 0, bus = 0, dev = 0;
        if (uuid(&u, d) || attr(&dom, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, d) ||
            attr(&bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, d) ||
            attr(&dev, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, d))
            return 0;
        memcpy(r, u.bytes, 16);
        put_le(r + 16, (uint64_t)dom, 4);
        put_le(r + 20, (uint64_t)bus, 4);
        put_le(r + 24, (uint64_t)dev, 4);
    }
    return 48 + 28 * (size_t)n;
}

static int python_hmac(const unsigned char *msg, size_t len, char out[33])
{
    const char *py = getenv("RG_PYTHON"), *script = getenv("RG_HMAC_REF");
    char cmd[4096];
    if (!py || !script) return -1;
    int n = snprintf(cmd, sizeof cmd, "'%s' '%s' 146addae53a9a752aa0841360bf55a9f ", py, script);
    for (size_t i = 0; i < len; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, "%02x", msg[i]);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int ok = fscanf(p, "%32s", out) == 1;
    return pclose(p) == 0 && ok ? 0 : -1;
}

RG_TEST(tables_against_simgpu_devices)
{
    static const unsigned char cudart[16] = {0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a,
                                             0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9};
    static const unsigned char integ[16] = {0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b,
                                            0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2};
    if (open_simgpu() != 0) RG_SKIP("simgpu library not available");
    CUresult (*init)(unsigned) = proc("cuInit", 2000);
    CHECK(init != NULL);
    CHECK_CU(init(0));
    const void *const *ci = table(cudart), *const *it = table(integ);
    CHECK(ci && it);
    /* slot 2: the primary context, the handle cuDevicePrimaryCtxRetain returns */
    CUcontext c = NULL, r = NULL;
    CHECK_CU(((CUresult(*)(CUcontext *, CUdevice))ci[2])(&c, 0));
    CHECK(c != NULL);
    CUresult (*retain)(CUcontext *, CUdevice) = proc("cuDevicePrimaryCtxRetain", 7000);
    CUresult (*release)(CUdevice) = proc("cuDevicePrimaryCtxRelease", 7000);
    CHECK(retain && release);
    CHECK_CU(retain(&r, 0));
    CHECK(r == c);
    CHECK_CU(release(0));
    uint64_t res[2], now = (uint64_t)time(NULL);
    CHECK_CU(((CUresult(*)(unsigned, uint64_t, uint64_t *))it[1])(13002, now, res));
    unsigned char msg[512], got[16];
    char want[33], have[33];
    size_t len = message(msg, ci, it, now);
    CHECK(len >= 48 + 28);
    if (python_hmac(msg, len, want) != 0) RG_SKIP("python reference not available");
    put_le(got, res[0], 8);
    put_le(got + 8, res[1], 8);
    for (int i = 0; i < 16; i++)
        sprintf(have + 2 * i, "%02x", got[i]);
    CHECK_STR(have, want);
}

/* 21318c60 slots 4 and 39 answer with simgpu's own context and stream ids. */
RG_TEST(ctx_identity_against_simgpu)
{
    static const unsigned char ctxid[16] = {0x21, 0x31, 0x8c, 0x60, 0x97, 0x14, 0x32, 0x48,
                                            0x8c, 0xa6, 0x41, 0xff, 0x73, 0x24, 0xc8, 0xf2};
    if (open_simgpu() != 0) RG_SKIP("simgpu library not available");
    CUresult (*init)(unsigned) = proc("cuInit", 2000);
    CUresult (*retain)(CUcontext *, CUdevice) = proc("cuDevicePrimaryCtxRetain", 7000);
    CUresult (*release)(CUdevice) = proc("cuDevicePrimaryCtxRelease", 7000);
    CUresult (*set)(CUcontext) = proc("cuCtxSetCurrent", 4000);
    CUresult (*ctx_id)(CUcontext, unsigned long long *) = proc("cuCtxGetId", 12000);
    CUresult (*stream_id)(CUstream, unsigned long long *) = proc("cuStreamGetId", 12000);
    CHECK(init && retain && release && set && ctx_id && stream_id);
    CHECK_CU(init(0));
    CUcontext c = NULL;
    CHECK_CU(retain(&c, 0));
    CHECK_CU(set(c));
    const void *const *t = table(ctxid);
    CHECK(t != NULL);
    unsigned long long want = 0, got = 1;
    CHECK_CU(ctx_id(c, &want));
    CHECK_CU(((CUresult(*)(CUcontext, unsigned long long *))t[4])(c, &got));
    CHECK_EQ_U64(got, want);
    CUstream s = (CUstream)1;
    CHECK_CU(((CUresult(*)(CUcontext, CUstream, CUstream *, int))t[51])(c, NULL, &s, 0));
    CHECK_CU(stream_id(s, &want));
    CHECK_CU(((CUresult(*)(CUcontext, CUstream, unsigned long long *))t[39])(c, s, &got));
    CHECK_EQ_U64(got, want);
    CHECK_CU(set(NULL));
    CHECK_CU(release(0));
}

RG_TEST_MAIN()
