/* visible.c — SIMGPU_DEVICES and CUDA_VISIBLE_DEVICES, set before cuInit:
 * ordinals remap, UUID prefixes select, the list stops at the first invalid
 * entry; UUIDs are stable per physical device. Needs a backend with at least
 * three devices (SIMGPU_DEVICES=3 for simgpu). */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rgtest.h"

static void uuid_str(const CUuuid *u, char *out)
{
    const unsigned char *b = (const unsigned char *)u->bytes;
    int n = sprintf(out, "GPU-");
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[n++] = '-';
        n += sprintf(out + n, "%02x", b[i]);
    }
}

static char self[4096];

/* Child mode: prints the visible count and UUIDs. */
static int child_main(void)
{
    int n = -1;
    CUresult r = cuInit(0);
    if (r == CUDA_ERROR_NO_DEVICE) {
        printf("count 0\n");
        return 0;
    }
    if (r || cuDeviceGetCount(&n)) return 2;
    printf("count %d\n", n);
    for (int i = 0; i < n; i++) {
        CUuuid u;
        char s[64];
        if (cuDeviceGetUuid(&u, i)) return 3;
        uuid_str(&u, s);
        printf("%d %s\n", i, s);
    }
    return 0;
}

static char uuids[8][64];
static int nphys;

static void probe(void)
{
    if (nphys) return;
    unsetenv("CUDA_VISIBLE_DEVICES");
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    if (cuInit(0) || cuDeviceGetCount(&nphys)) return;
    for (int i = 0; i < nphys && i < 8; i++) {
        CUuuid u;
        cuDeviceGetUuid(&u, i);
        uuid_str(&u, uuids[i]);
    }
}

/* Run the child and compare its output with the expected UUID order. */
static int expect(const char *vis, int n, const int *order)
{
    char cmd[8192], line[256];
    snprintf(cmd, sizeof cmd, "CUDA_VISIBLE_DEVICES='%s' '%s' --child", vis, self);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    int count = -1, ok = 1, i = 0;
    if (!fgets(line, sizeof line, f) || sscanf(line, "count %d", &count) != 1) ok = 0;
    if (count != n) ok = 0;
    while (ok && fgets(line, sizeof line, f)) {
        char u[64];
        int idx;
        if (sscanf(line, "%d %63s", &idx, u) != 2 || idx != i || strcmp(u, uuids[order[i]])) ok = 0;
        i++;
    }
    pclose(f);
    if (!ok) fprintf(stderr, "  CUDA_VISIBLE_DEVICES='%s' gave count %d\n", vis, count);
    return ok;
}

RG_TEST(visible_devices)
{
    probe();
    if (nphys < 3) RG_SKIP("needs 3 devices (SIMGPU_DEVICES=3), have %d", nphys);
    CHECK(strcmp(uuids[0], uuids[1]) && strcmp(uuids[1], uuids[2]));
    int all[] = {0, 1, 2};
    CHECK(expect("0,1,2", 3, all));
    int rev[] = {2, 0};
    CHECK(expect("2,0", 2, rev));
    int one[] = {1};
    CHECK(expect("1", 1, one));
    CHECK(expect("1,7,0", 1, one)); /* stops at the first invalid entry */
    CHECK(expect("1,1,0", 1, one)); /* and at a repeated one */
    CHECK(expect("", 0, NULL));
    CHECK(expect("-1", 0, NULL));
    char vis[128];
    snprintf(vis, sizeof vis, "%.12s,0", uuids[2]); /* UUID prefix */
    int byuuid[] = {2, 0};
    CHECK(expect(vis, 2, byuuid));
    CHECK(expect("GPU-zzzz", 0, NULL));
}

RG_TEST(uuids_stable_across_processes)
{
    probe();
    if (nphys < 1) RG_SKIP("no device");
    int all[] = {0, 1, 2, 3, 4, 5, 6, 7};
    char vis[64];
    snprintf(vis, sizeof vis, "%s", nphys >= 2 ? "0,1" : "0");
    CHECK(expect(vis, nphys >= 2 ? 2 : 1, all));
}

int rg_visible_child(int argc, char **argv)
{
    return argc > 1 && !strcmp(argv[1], "--child") ? child_main() : -1;
}

#define main rg_test_main
RG_TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    int r = rg_visible_child(argc, argv);
    return r >= 0 ? r : rg_test_main(argc, argv);
}
