/* custom_test.c — the hand-written marshallers: kernel launches (parameter
 * layouts from the shim and the worker, `extra` buffers), round trips through
 * encode -> decode -> fake backend -> reply, refusals, and truncations. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "image_wire.h"
#include "rgtest.h"

static int fake_to_real(void *self, enum rpc_handle_type t, uint64_t id, void **real)
{
    (void)self;
    if (id & (1ull << 62)) return t == RPC_H_CONTEXT ? CUDA_ERROR_INVALID_CONTEXT
                                                     : CUDA_ERROR_INVALID_HANDLE;
    *real = (void *)(uintptr_t)(id ^ 0x5a000);
    return 0;
}
static const struct rpc_handle_ops fake_handles = {fake_to_real, NULL};

struct wire {
    uint8_t enc[1 << 16];
    size_t enc_len;
    uint8_t raw[1 << 20];
    size_t raw_len;
};
static struct wire wr, rep;

static int flatten(struct wire *w, const struct iovec *iov, int n)
{
    w->raw_len = 0;
    for (int i = 0; i < n; i++) {
        if (w->raw_len + iov[i].iov_len > sizeof w->raw) return -1;
        memcpy(w->raw + w->raw_len, iov[i].iov_base, iov[i].iov_len);
        w->raw_len += iov[i].iov_len;
    }
    return 0;
}

static int encode(const struct rpc_call_desc *d, void **args)
{
    struct rpc_wbuf w;
    struct iovec iov[16];
    int n = 16;
    rpc_wbuf_init(&w, wr.enc, sizeof wr.enc);
    int rc = rpc_encode_call(d, args, &w, iov, &n);
    if (rc) return rc;
    wr.enc_len = w.len;
    return flatten(&wr, iov, n);
}

static int decode(const struct rpc_call_desc *d, struct rpc_decoded *dc)
{
    struct rpc_rbuf r;
    rpc_rbuf_init(&r, wr.enc, wr.enc_len);
    return rpc_decode_call(d, &r, wr.raw, wr.raw_len, &fake_handles, dc);
}

static int reply(struct rpc_decoded *dc, uint32_t result, void **args, uint32_t *got)
{
    struct rpc_wbuf w;
    struct iovec iov[16];
    int n = 16;
    rpc_wbuf_init(&w, rep.enc, sizeof rep.enc);
    if (rpc_encode_reply(dc, result, &w, iov, &n)) return -1;
    rep.enc_len = w.len;
    if (flatten(&rep, iov, n)) return -1;
    struct rpc_rbuf r;
    rpc_rbuf_init(&r, rep.enc, rep.enc_len);
    return rpc_decode_reply(dc->desc, args, &r, rep.raw, rep.raw_len, got);
}

/* Every truncation of the current encoding fails cleanly. */
static int truncations_fail(const struct rpc_call_desc *d)
{
    size_t full = wr.enc_len;
    int bad = 0;
    for (size_t cut = 0; cut < full; cut++) {
        struct rpc_decoded dc;
        wr.enc_len = cut;
        int rc = decode(d, &dc);
        if (rc == 0) bad++, rpc_decoded_free(&dc);
    }
    wr.enc_len = full;
    return bad;
}

/* ---- launches ------------------------------------------------------------------- */

/* kernel(int n, float *p, double x, char c): offsets 0, 8, 16, 24 */
static const uint32_t lay_off[] = {0, 8, 16, 24}, lay_size[] = {4, 8, 8, 1};
static int client_layout(void *self, uint64_t func, struct rpc_param_layout *out)
{
    (void)self;
    if (func == 99) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct rpc_param_layout){4, lay_off, lay_size};
    return 0;
}
static int worker_calls;
static uint32_t worker_size1 = 8;
static int worker_layout(void *self, void *real, int is_kernel, struct rpc_param_layout *out)
{
    static uint32_t size[4];
    (void)self;
    worker_calls++;
    if ((uintptr_t)real != (0x5000000001ull ^ 0x5a000) && !is_kernel) return CUDA_ERROR_INVALID_HANDLE;
    memcpy(size, lay_size, sizeof size);
    size[1] = worker_size1;
    *out = (struct rpc_param_layout){4, lay_off, size};
    return 0;
}
static const struct rpc_client_ops cops = {client_layout, NULL};
static const struct rpc_worker_ops wops = {worker_layout, NULL};

struct launch {
    CUfunction f;
    unsigned g[3], b[3], shmem;
    CUstream s;
    void **kp, **extra;
    void *args[11];
};

static void launch_args(struct launch *l)
{
    l->f = (CUfunction)(uintptr_t)0x5000000001ull;
    l->g[0] = 4, l->g[1] = l->g[2] = 1, l->b[0] = 128, l->b[1] = l->b[2] = 1;
    l->shmem = 256;
    l->s = (CUstream)(uintptr_t)0x2000000003ull;
    void *a[] = {&l->f, &l->g[0], &l->g[1], &l->g[2], &l->b[0], &l->b[1], &l->b[2],
                 &l->shmem, &l->s, &l->kp, &l->extra};
    memcpy(l->args, a, sizeof a);
}

RG_TEST(launch_kernel_params_round_trip)
{
    rpc_set_client_ops(&cops);
    rpc_set_worker_ops(&wops);
    worker_size1 = 8;
    const struct rpc_call_desc *d = rpc_call_by_name("cuLaunchKernel");
    struct launch l;
    launch_args(&l);
    int n = 1000;
    float *p = (float *)(uintptr_t)0x7f0000001000ull;
    double x = 2.5;
    char c = 'z';
    void *kp[] = {&n, &p, &x, &c};
    l.kp = kp;
    l.extra = NULL;
    CHECK_EQ_INT(encode(d, l.args), 0);
    CHECK_EQ_INT(wr.raw_len, 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK_EQ_INT(*(unsigned *)dc.avalues[4], 128);
    CHECK_EQ_INT(*(unsigned *)dc.avalues[7], 256);
    void **wkp = *(void ***)dc.avalues[9];
    CHECK(wkp != NULL && *(void **)dc.avalues[10] == NULL);
    CHECK_EQ_INT(*(int *)wkp[0], 1000);
    CHECK(*(float **)wkp[1] == p);
    CHECK(*(double *)wkp[2] == 2.5);
    CHECK(*(char *)wkp[3] == 'z');
    CHECK((char *)wkp[3] - (char *)wkp[0] == 24);
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, l.args, &res), 0);
    CHECK_EQ_INT(res, 0);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
}

RG_TEST(launch_extra_buffer_and_cooperative)
{
    rpc_set_client_ops(&cops);
    rpc_set_worker_ops(&wops);
    const struct rpc_call_desc *d = rpc_call_by_name("cuLaunchKernel_ptsz");
    struct launch l;
    launch_args(&l);
    unsigned char buf[32];
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)(i * 3);
    size_t size = sizeof buf;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, buf, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
                     CU_LAUNCH_PARAM_END};
    l.kp = NULL;
    l.extra = extra;
    int before = worker_calls;
    CHECK_EQ_INT(encode(d, l.args), 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK_EQ_INT(worker_calls, before); /* no layout needed */
    void **we = *(void ***)dc.avalues[10];
    CHECK(we[0] == CU_LAUNCH_PARAM_BUFFER_POINTER && we[2] == CU_LAUNCH_PARAM_BUFFER_SIZE);
    CHECK(we[1] != (void *)buf && memcmp(we[1], buf, 32) == 0);
    CHECK_EQ_INT(*(size_t *)we[3], 32);
    CHECK(we[4] == CU_LAUNCH_PARAM_END);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);

    /* both forms at once, or a malformed extra, are the driver's INVALID_VALUE */
    void *kp[] = {buf, buf, buf, buf};
    l.kp = kp;
    CHECK_EQ_INT(encode(d, l.args), CUDA_ERROR_INVALID_VALUE);
    void *bad[] = {(void *)0x77, buf, CU_LAUNCH_PARAM_END};
    l.kp = NULL;
    l.extra = bad;
    CHECK_EQ_INT(encode(d, l.args), CUDA_ERROR_INVALID_VALUE);

    d = rpc_call_by_name("cuLaunchCooperativeKernel");
    CHECK(d && d->nargs == 10);
    l.kp = kp;
    CHECK_EQ_INT(encode(d, l.args), 0);
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK(memcmp((*(void ***)dc.avalues[9])[3], buf, 1) == 0);
    rpc_decoded_free(&dc);
}

RG_TEST(launch_refusals)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuLaunchKernel");
    struct launch l;
    launch_args(&l);
    uint64_t n = 1; /* at least as large as every parameter */
    void *kp[] = {&n, &n, &n, &n};
    l.kp = kp;
    l.extra = NULL;
    struct rpc_decoded dc;
    rpc_set_client_ops(NULL);
    CHECK_EQ_INT(encode(d, l.args), CUDA_ERROR_NOT_SUPPORTED);
    rpc_set_client_ops(&cops);
    l.f = (CUfunction)99;
    CHECK_EQ_INT(encode(d, l.args), CUDA_ERROR_INVALID_HANDLE);
    launch_args(&l);
    l.kp = kp;
    l.extra = NULL;
    CHECK_EQ_INT(encode(d, l.args), 0);
    rpc_set_worker_ops(NULL);
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_NOT_SUPPORTED);
    rpc_set_worker_ops(&wops);
    worker_size1 = 4; /* the worker's layout disagrees with the client's */
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_INVALID_VALUE);
    worker_size1 = 8;
    l.s = (CUstream)(uintptr_t)(1ull << 62); /* bad stream id */
    CHECK_EQ_INT(encode(d, l.args), 0);
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_INVALID_HANDLE);
    /* garbage after a valid encoding */
    launch_args(&l);
    l.kp = kp;
    l.extra = NULL;
    CHECK_EQ_INT(encode(d, l.args), 0);
    wr.enc[wr.enc_len++] = 0;
    CHECK_EQ_INT(decode(d, &dc), -1);
}

/* ---- images -------------------------------------------------------------------- */

/* A fatbin container of `body` payload bytes (contents are opaque to the codec). */
static void make_container(uint8_t *c, uint64_t body, uint8_t fill)
{
    uint32_t magic = 0xBA55ED50u;
    uint16_t ver = 1, hdr = 16;
    memcpy(c, &magic, 4);
    memcpy(c + 4, &ver, 2);
    memcpy(c + 6, &hdr, 2);
    memcpy(c + 8, &body, 8);
    memset(c + 16, fill, body);
}

RG_TEST(image_ptx_round_trip)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuModuleLoadData");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM);
    const char *ptx = ".version 8.0\n.target sm_80\n.address_size 64\n";
    CUmodule m = NULL, *mp = &m;
    void *args[] = {&mp, &ptx};
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(wr.raw_len, strlen(ptx) + 1);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    const char *img = *(const char **)dc.avalues[1];
    CHECK(img != ptx);
    CHECK_STR(img, ptx);
    CHECK(*(void **)dc.avalues[0] != NULL);
    dc.ids[0] = 0x4000000009ull;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    CHECK_EQ_U64((uintptr_t)m, 0x4000000009ull);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
    /* PTX without its NUL is refused by the worker */
    wr.raw[wr.raw_len - 1] = 'x';
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_INVALID_IMAGE);
    const char *none = NULL;
    void *args2[] = {&mp, &none};
    CHECK_EQ_INT(encode(d, args2), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(image_wrapper_v2_rebuilt)
{
    static uint8_t data[16 + 40], l1[16 + 24], l2[16 + 8];
    make_container(data, 40, 0xd1);
    make_container(l1, 24, 0x11);
    make_container(l2, 8, 0x22);
    const void *linked[] = {l1, l2, NULL};
    struct { int32_t magic, version; const void *data; const void *const *linked; } w = {
        (int32_t)0x466243B1u, 2, data, linked};
    const void *wp = &w;
    const struct rpc_call_desc *d = rpc_call_by_name("cuLibraryLoadData");
    CUlibrary lib, *lp = &lib;
    CUjit_option *jo = NULL;
    void **jv = NULL, **lv = NULL;
    CUlibraryOption lo[1] = {CU_LIBRARY_BINARY_IS_PRESERVED}, *lop = lo;
    unsigned nj = 0, nl = 1;
    void *lvals[1] = {(void *)1};
    lv = lvals;
    void *args[] = {&lp, &wp, &jo, &jv, &nj, &lop, &lv, &nl};
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(wr.raw_len, sizeof data + sizeof l1 + sizeof l2);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    const int32_t *ww = *(const int32_t **)dc.avalues[1];
    CHECK_EQ_U64((uint32_t)ww[0], 0x466243B1u);
    CHECK_EQ_INT(ww[1], 2);
    const uint8_t *wdata = *(const uint8_t *const *)(ww + 2);
    const uint8_t *const *wl = *(const uint8_t *const *const *)(ww + 4);
    CHECK(wdata != data && memcmp(wdata, data, sizeof data) == 0);
    CHECK(memcmp(wl[0], l1, sizeof l1) == 0 && memcmp(wl[1], l2, sizeof l2) == 0 && !wl[2]);
    CHECK(*(void **)dc.avalues[5] == NULL && *(unsigned *)dc.avalues[7] == 0); /* dropped */
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
    /* a container whose header claims more than was sent */
    uint64_t big = 1000;
    memcpy(wr.raw + 8, &big, 8);
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_INVALID_IMAGE);
}

/* Parts the worker has go by hash alone: a fake worker store stands for both sides. */
static const char *kept_ptx;
static int known_calls, sent_calls, stored;
static void fake_known(void *self, uint32_t n, const uint8_t (*hash)[RG_SHA256_LEN],
                       const uint64_t *size, uint8_t *known)
{
    (void)self, (void)hash, (void)size;
    known_calls++;
    memset(known, kept_ptx != NULL, n);
}
static void fake_sent(void *self, uint32_t n, const uint8_t (*hash)[RG_SHA256_LEN],
                      const uint64_t *size)
{
    (void)self, (void)n, (void)hash, (void)size;
    sent_calls++;
}
static const void *fake_lookup(void *self, const uint8_t hash[RG_SHA256_LEN], uint64_t size)
{
    uint8_t want[RG_SHA256_LEN];
    (void)self;
    if (!kept_ptx || size != strlen(kept_ptx) + 1) return NULL;
    rg_sha256(kept_ptx, (size_t)size, want);
    return memcmp(want, hash, RG_SHA256_LEN) ? NULL : kept_ptx;
}
static int fake_store(void *self, const void *p, uint64_t size)
{
    (void)self, (void)p, (void)size;
    stored++;
    return 0;
}
static const struct rpc_image_ops fake_image_ops = {fake_known, fake_sent, fake_lookup,
                                                    fake_store, NULL};

RG_TEST(image_by_hash)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuModuleLoadData");
    static const char ptx[] = ".version 8.0\n.target sm_80\n.address_size 64\n// by hash\n";
    const char *img = ptx;
    CUmodule m = NULL, *mp = &m;
    void *args[] = {&mp, &img};
    struct rpc_decoded dc;
    uint32_t res;
    rpc_set_image_ops(&fake_image_ops);
    /* unknown: the bytes travel, the worker keeps them once the backend ran */
    kept_ptx = NULL;
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(wr.raw_len, sizeof ptx);
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    rpc_decoded_free(&dc);
    CHECK(stored == 1 && sent_calls == 1);
    /* known: only the hash travels, and the worker uses its own copy */
    kept_ptx = ptx;
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(wr.raw_len, 0);
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK_STR(*(const char **)dc.avalues[1], ptx);
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    rpc_decoded_free(&dc);
    CHECK(stored == 1 && sent_calls == 2 && known_calls == 2);
    /* a hash the worker does not have, and a hash naming other bytes */
    kept_ptx = NULL;
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_INVALID_IMAGE);
    kept_ptx = ".version 8.0\n.target sm_80\n.address_size 64\n// other\n";
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_INVALID_IMAGE);
    /* hostile: an unknown part kind, and a hash part claiming raw bytes that are not there */
    kept_ptx = ptx;
    CHECK_EQ_INT(truncations_fail(d), 0);
    wr.enc[1 + 1 + 4 + 4 + 8] = 7; /* present, kind, version, n, size: then how */
    CHECK_EQ_INT(decode(d, &dc), -1);
    wr.enc[1 + 1 + 4 + 4 + 8] = RPC_IMAGE_PART_BYTES;
    CHECK_EQ_INT(decode(d, &dc), -1);
    rpc_set_image_ops(NULL);
}

RG_TEST(image_jit_options_and_logs)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuModuleLoadDataEx");
    const char *ptx = ".version 8.0\n";
    char info[8] = "", err[64] = "";
    const char *names[] = {"a"};
    CUjit_option opts[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                           CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                           CU_JIT_MAX_REGISTERS, CU_JIT_GLOBAL_SYMBOL_NAMES};
    void *vals[] = {info, (void *)(uintptr_t)sizeof info, err, (void *)(uintptr_t)sizeof err,
                    (void *)(uintptr_t)32, names};
    CUmodule m, *mp = &m;
    unsigned n = 6;
    CUjit_option *op = opts;
    void **vp = vals;
    void *args[] = {&mp, &ptx, &n, &op, &vp};
    /* a client pointer array cannot be forwarded; an unknown option is refused */
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_NOT_SUPPORTED);
    opts[5] = (CUjit_option)9999;
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_INVALID_VALUE);
    n = 5;
    CHECK_EQ_INT(encode(d, args), 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK_EQ_INT(*(unsigned *)dc.avalues[2], 5);
    CUjit_option *wo = *(CUjit_option **)dc.avalues[3];
    void **wv = *(void ***)dc.avalues[4];
    CHECK(wo[4] == CU_JIT_MAX_REGISTERS && (uintptr_t)wv[4] == 32);
    CHECK(wv[0] != (void *)info && wv[2] != (void *)err); /* worker-owned log buffers */
    CHECK((uintptr_t)wv[1] == sizeof info && (uintptr_t)wv[3] == sizeof err);
    /* what the backend does: logs, and the bytes used written back */
    strcpy(wv[0], "a long");
    strcpy(wv[2], "ptxas error");
    wv[3] = (void *)(uintptr_t)12;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, CUDA_ERROR_INVALID_PTX, args, &res), 0);
    CHECK_EQ_INT(res, CUDA_ERROR_INVALID_PTX);
    CHECK_STR(info, "a long");
    CHECK_STR(err, "ptxas error");
    CHECK_EQ_INT((uintptr_t)vals[3], 12);
    CHECK(vals[0] == (void *)info && vals[2] == (void *)err); /* the buffers stay the client's */
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
}

/* ---- 2D / 3D copies ------------------------------------------------------------- */

RG_TEST(memcpy2d_host_to_device_span)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuMemcpy2D_v2");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM);
    static uint8_t host[10 * 64];
    for (size_t i = 0; i < sizeof host; i++) host[i] = (uint8_t)i;
    CUDA_MEMCPY2D m = {0};
    m.srcMemoryType = CU_MEMORYTYPE_HOST, m.srcHost = host, m.srcPitch = 64;
    m.srcXInBytes = 4, m.srcY = 2;
    m.dstMemoryType = CU_MEMORYTYPE_DEVICE, m.dstDevice = 0x7f0000100000ull, m.dstPitch = 512;
    m.WidthInBytes = 16, m.Height = 5;
    const CUDA_MEMCPY2D *mp = &m;
    void *args[] = {&mp};
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(wr.raw_len, 4 * 64 + 16);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    const CUDA_MEMCPY2D *wm = *(const CUDA_MEMCPY2D **)dc.avalues[0];
    CHECK(wm->srcHost != host && wm->srcXInBytes == 0 && wm->srcY == 0 && wm->srcPitch == 64);
    CHECK(((const uint8_t *)wm->srcHost)[64] == host[3 * 64 + 4]);
    CHECK_EQ_U64(wm->dstDevice, 0x7f0000100000ull);
    CHECK_EQ_INT(wm->Height, 5);
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
    m.srcMemoryType = CU_MEMORYTYPE_ARRAY;
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_NOT_SUPPORTED);
    m.srcMemoryType = CU_MEMORYTYPE_HOST, m.srcPitch = 8; /* pitch below the width */
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(memcpy3d_device_to_host_rows_only)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuMemcpy3DAsync_v2");
    static uint8_t host[4 * 8 * 32];
    memset(host, 0xee, sizeof host);
    CUDA_MEMCPY3D m = {0};
    m.srcMemoryType = CU_MEMORYTYPE_DEVICE, m.srcDevice = 0x7f0000200000ull, m.srcPitch = 256;
    m.srcHeight = 8;
    m.dstMemoryType = CU_MEMORYTYPE_HOST, m.dstHost = host, m.dstPitch = 32, m.dstHeight = 8;
    m.dstXInBytes = 8, m.dstY = 1, m.dstZ = 1;
    m.WidthInBytes = 10, m.Height = 3, m.Depth = 2;
    const CUDA_MEMCPY3D *mp = &m;
    CUstream s = (CUstream)(uintptr_t)0x2000000001ull;
    void *args[] = {&mp, &s};
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(wr.raw_len, 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    const CUDA_MEMCPY3D *wm = *(const CUDA_MEMCPY3D **)dc.avalues[0];
    CHECK(wm->dstHost && wm->dstHost != host && wm->dstZ == 0 && wm->Depth == 2);
    uint8_t *dst = wm->dstHost;
    size_t spanlen = (size_t)((1 * 8 + 2) * 32 + 10); /* slab 1 rows 0-2 after the first row */
    memset(dst, 0x5a, spanlen); /* the fake backend fills every byte of the span */
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    rpc_decoded_free(&dc);
    size_t row = (1 * 8 + 1) * 32 + 8;
    CHECK(host[row] == 0x5a && host[row + 9] == 0x5a);
    CHECK(host[row + 10] == 0xee); /* gap after the row untouched */
    CHECK(host[row - 1] == 0xee);
    size_t last = (2 * 8 + 3) * 32 + 8;
    CHECK(host[last] == 0x5a && host[last + 9] == 0x5a && host[last + 10] == 0xee);
    CHECK(host[(2 * 8 + 0) * 32 + 8 - 32] == 0xee); /* rows of slab 1 beyond Height untouched */
    CHECK_EQ_INT(truncations_fail(d), 0);
}

RG_TEST(launch_ex_config_and_attributes)
{
    rpc_set_client_ops(&cops);
    rpc_set_worker_ops(&wops);
    worker_size1 = 8;
    const struct rpc_call_desc *d = rpc_call_by_name("cuLaunchKernelEx");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM && d->nargs == 4);
    CUlaunchAttribute at[2];
    memset(at, 0, sizeof at);
    at[0].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    at[0].value.clusterDim.x = 2;
    at[1].id = CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT;
    at[1].value.launchCompletionEvent.event = (CUevent)(uintptr_t)0x3000000004ull;
    CUlaunchConfig c = {8, 1, 1, 64, 1, 1, 0, (CUstream)(uintptr_t)0x2000000002ull, at, 2};
    const CUlaunchConfig *cp = &c;
    CUfunction f = (CUfunction)(uintptr_t)0x5000000001ull;
    uint64_t n = 5;
    void *kp[] = {&n, &n, &n, &n}, **kpp = kp, **extra = NULL;
    void *args[] = {&cp, &f, &kpp, &extra};
    CHECK_EQ_INT(encode(d, args), 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    const CUlaunchConfig *wc = *(const CUlaunchConfig **)dc.avalues[0];
    CHECK(wc != &c && wc->gridDimX == 8 && wc->blockDimX == 64 && wc->numAttrs == 2);
    CHECK_EQ_U64((uintptr_t)wc->hStream, 0x2000000002ull ^ 0x5a000);
    CHECK_EQ_INT(wc->attrs[0].value.clusterDim.x, 2);
    CHECK_EQ_U64((uintptr_t)wc->attrs[1].value.launchCompletionEvent.event,
                 0x3000000004ull ^ 0x5a000);
    CHECK_EQ_INT(*(int *)(*(void ***)dc.avalues[2])[0], 5);
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
    at[1].value.launchCompletionEvent.event = (CUevent)(uintptr_t)(1ull << 62);
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(decode(d, &dc), CUDA_ERROR_INVALID_HANDLE);
    at[1].id = CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE;
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_NOT_SUPPORTED);
}

/* ---- modules, libraries, linking ----------------------------------------------- */

RG_TEST(global_size_always_asked)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuModuleGetGlobal_v2");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM);
    CUdeviceptr p = 0;
    CUdeviceptr *pp = &p;
    size_t *bytes = NULL;
    CUmodule m = (CUmodule)(uintptr_t)0x4000000001ull;
    const char *name = "g";
    void *args[] = {&pp, &bytes, &m, &name};
    CHECK_EQ_INT(encode(d, args), 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK(*(void **)dc.avalues[1] != NULL); /* the worker learns the size */
    dc.val[0].u64 = 0x7f0000001000ull, dc.val[1].u64 = 16;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0); /* and keeps it to itself */
    CHECK_EQ_U64(p, 0x7f0000001000ull);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
}

static const char *kept_name(void *self, uint64_t id, const char *text, size_t len)
{
    static char copy[64];
    (void)self;
    if (id != 0x5000000001ull || len >= sizeof copy) return NULL;
    memcpy(copy, text, len);
    copy[len] = 0;
    return copy;
}

RG_TEST(function_name_kept_by_the_client)
{
    static const struct rpc_client_ops names = {client_layout, NULL, kept_name};
    const struct rpc_call_desc *d = rpc_call_by_name("cuFuncGetName");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM);
    const char *name = NULL, **np = &name;
    CUfunction f = (CUfunction)(uintptr_t)0x5000000001ull;
    void *args[] = {&np, &f};
    rpc_set_client_ops(&cops); /* no keep_name: nothing to keep the string in */
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_NOT_SUPPORTED);
    rpc_set_client_ops(&names);
    CHECK_EQ_INT(encode(d, args), 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    static const char backend_name[] = "vadd";
    *(const char **)*(void **)dc.avalues[0] = backend_name;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    CHECK(name && name != backend_name);
    CHECK_STR(name, "vadd");
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
    rpc_set_client_ops(&cops);
}

static int b2s_calls;
static size_t b2s(int block)
{
    b2s_calls++;
    return (size_t)block * 10;
}

RG_TEST(occupancy_callback_as_a_table)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuOccupancyMaxPotentialBlockSizeWithFlags");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM);
    int grid = 0, block = 0, *gp = &grid, *bp = &block, limit = 100;
    unsigned flags = 0;
    size_t dyn = 0;
    CUfunction f = (CUfunction)(uintptr_t)0x5000000001ull;
    CUoccupancyB2DSize fn = b2s;
    void *args[] = {&gp, &bp, &f, &fn, &dyn, &limit, &flags};
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(b2s_calls, 4); /* 32, 64, 96 and the limit */
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    CUoccupancyB2DSize w = *(CUoccupancyB2DSize *)dc.avalues[3];
    CHECK(w && w != b2s);
    CHECK_EQ_INT(w(96), 960);
    CHECK_EQ_INT(w(50), 640); /* between entries: the next larger one */
    CHECK_EQ_INT(w(100), 1000);
    CHECK_EQ_INT(b2s_calls, 4);
    dc.val[0].u64 = 7, dc.val[1].u64 = 96;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    CHECK(grid == 7 && block == 96);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
    fn = NULL;
    CHECK_EQ_INT(encode(d, args), 0);
    CHECK_EQ_INT(decode(d, &dc), 0);
    CHECK(*(CUoccupancyB2DSize *)dc.avalues[3] == NULL);
    rpc_decoded_free(&dc);
}

RG_TEST(cluster_occupancy_config)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuOccupancyMaxActiveClusters");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM);
    CUlaunchAttribute at[2];
    memset(at, 0, sizeof at);
    at[0].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    at[0].value.clusterDim.x = 2;
    at[1].id = CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT;
    at[1].value.launchCompletionEvent.event = (CUevent)(uintptr_t)0x3000000004ull;
    CUlaunchConfig c = {8, 1, 1, 64, 1, 1, 0, (CUstream)(uintptr_t)0x2000000002ull, at, 2};
    const CUlaunchConfig *cp = &c;
    int out = 0, *op = &out;
    CUfunction f = (CUfunction)(uintptr_t)0x5000000001ull;
    void *args[] = {&op, &f, &cp};
    CHECK_EQ_INT(encode(d, args), 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(d, &dc), 0);
    const CUlaunchConfig *wc = *(const CUlaunchConfig **)dc.avalues[2];
    CHECK(wc != &c && wc->blockDimX == 64 && wc->numAttrs == 2);
    CHECK_EQ_U64((uintptr_t)wc->hStream, 0x2000000002ull ^ 0x5a000);
    CHECK_EQ_U64((uintptr_t)wc->attrs[1].value.launchCompletionEvent.event,
                 0x3000000004ull ^ 0x5a000);
    dc.val[0].u64 = 12;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, args, &res), 0);
    CHECK_EQ_INT(out, 12);
    rpc_decoded_free(&dc);
    CHECK_EQ_INT(truncations_fail(d), 0);
    at[1].id = CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE;
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_NOT_SUPPORTED);
    c.attrs = NULL;
    CHECK_EQ_INT(encode(d, args), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(link_state_logs_and_image)
{
    const struct rpc_call_desc *create = rpc_call_by_name("cuLinkCreate_v2");
    const struct rpc_call_desc *add = rpc_call_by_name("cuLinkAddData_v2");
    const struct rpc_call_desc *complete = rpc_call_by_name("cuLinkComplete");
    const struct rpc_call_desc *destroy = rpc_call_by_name("cuLinkDestroy");
    CHECK(create && add && complete && destroy && create->cls == RPC_CLASS_CUSTOM);
    /* create, with an error log the later calls fill */
    char err[32] = "stale";
    CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *vals[] = {err, (void *)(uintptr_t)sizeof err};
    unsigned n = 2;
    CUjit_option *op = opts;
    void **vp = vals;
    CUlinkState st = NULL, *stp = &st;
    void *cargs[] = {&n, &op, &vp, &stp};
    CHECK_EQ_INT(encode(create, cargs), 0);
    struct rpc_decoded dc;
    CHECK_EQ_INT(decode(create, &dc), 0);
    CHECK_EQ_INT(truncations_fail(create), 0);
    char *wlog = (*(void ***)dc.avalues[2])[0];
    CHECK(wlog && wlog != err);
    dc.val[3].ptr = (void *)(uintptr_t)(0x8000000001ull ^ 0x5a000); /* the backend's state */
    dc.ids[3] = 0x8000000001ull;                                     /* minted by the worker */
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, cargs, &res), 0);
    CHECK_EQ_U64((uintptr_t)st, 0x8000000001ull);
    rpc_decoded_free(&dc);
    /* add data: PTX without its NUL arrives terminated */
    static const char ptx[] = ".version 8.0";
    size_t size = sizeof ptx - 1;
    const void *data = ptx;
    const char *name = "x";
    unsigned zero = 0;
    CUjit_option *nop = NULL;
    void **nvp = NULL;
    CUjitInputType type = CU_JIT_INPUT_PTX;
    void *aargs[] = {&st, &type, &data, &size, &name, &zero, &nop, &nvp};
    CHECK_EQ_INT(encode(add, aargs), 0);
    CHECK_EQ_INT(decode(add, &dc), 0);
    CHECK_EQ_INT(truncations_fail(add), 0);
    const char *wdata = *(const char **)dc.avalues[2];
    CHECK(wdata != ptx && !strcmp(wdata, ".version 8.0"));
    strcpy(wlog, "bad input"); /* the backend logs into the state's create-time buffer */
    vals[1] = (void *)(uintptr_t)7; /* what the driver writes back is replaced */
    CHECK_EQ_INT(reply(&dc, CUDA_ERROR_INVALID_PTX, aargs, &res), 0);
    CHECK_EQ_INT(res, CUDA_ERROR_INVALID_PTX);
    rpc_decoded_free(&dc);
    CHECK_STR(err, "bad input");
    CHECK_EQ_INT((uintptr_t)vals[1], sizeof err);
    /* complete: the image comes back and stays with the client */
    static const char image[] = "linked image";
    void *img = NULL, **imgp = &img;
    size_t isz = 0, *iszp = &isz;
    void *kargs[] = {&st, &imgp, &iszp};
    CHECK_EQ_INT(encode(complete, kargs), 0);
    CHECK_EQ_INT(decode(complete, &dc), 0);
    CHECK_EQ_INT(truncations_fail(complete), 0);
    dc.val[1].ptr = (void *)image;
    dc.val[2].u64 = sizeof image;
    CHECK_EQ_INT(reply(&dc, 0, kargs, &res), 0);
    CHECK_EQ_INT(res, 0);
    CHECK(img && img != (void *)image && isz == sizeof image && !memcmp(img, image, isz));
    rpc_decoded_free(&dc);
    void *dargs[] = {&st};
    CHECK_EQ_INT(encode(destroy, dargs), 0);
    CHECK_EQ_INT(decode(destroy, &dc), 0);
    CHECK_EQ_INT(truncations_fail(destroy), 0);
    CHECK_EQ_INT(reply(&dc, 0, dargs, &res), 0);
    rpc_decoded_free(&dc);
    /* the client's record (and its image copy) went with the state */
    CHECK_EQ_INT(encode(complete, kargs), 0);
    CHECK_EQ_INT(decode(complete, &dc), 0);
    dc.val[1].ptr = (void *)image;
    dc.val[2].u64 = sizeof image;
    CHECK_EQ_INT(reply(&dc, 0, kargs, &res), 0);
    CHECK_EQ_INT(res, CUDA_ERROR_INVALID_HANDLE);
    rpc_decoded_free(&dc);
    /* an unknown JIT option and a fatbin that claims more than it has */
    opts[1] = (CUjit_option)999;
    CHECK_EQ_INT(encode(create, cargs), CUDA_ERROR_INVALID_VALUE);
    static const uint32_t trunc[8] = {0xBA55ED50u, 0x00100001u, 64 + 16, 0};
    data = trunc;
    size = sizeof trunc;
    type = CU_JIT_INPUT_FATBINARY;
    CHECK_EQ_INT(encode(add, aargs), CUDA_ERROR_INVALID_IMAGE);
}

RG_TEST_MAIN()
