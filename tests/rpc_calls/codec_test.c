/* codec_test.c — the generic call codec: round trips of real descriptors for
 * every argument kind (encode -> decode -> fake backend -> encode_reply ->
 * decode_reply), the worker's refusals (lengths, limits, handles), and a
 * fixed-seed fuzz over every forwarded descriptor: truncated and corrupted
 * encodings must fail cleanly, never crash or read out of bounds. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "rgtest.h"

/* Fake handle tables: an id maps to (id ^ 0x5a000) as a "real" pointer;
 * ids with bit 62 set are unknown. */
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
    uint8_t raw[1 << 18];
    size_t raw_len;
};

/* Flattens iovecs into one raw block, as the transport would deliver them. */
static int flatten(struct wire *wr, const struct iovec *iov, int n)
{
    wr->raw_len = 0;
    for (int i = 0; i < n; i++) {
        if (wr->raw_len + iov[i].iov_len > sizeof wr->raw) return -1;
        memcpy(wr->raw + wr->raw_len, iov[i].iov_base, iov[i].iov_len);
        wr->raw_len += iov[i].iov_len;
    }
    return 0;
}

static int encode(const struct rpc_call_desc *d, void **args, struct wire *wr)
{
    struct rpc_wbuf w;
    struct iovec iov[16];
    int n = 16;
    rpc_wbuf_init(&w, wr->enc, sizeof wr->enc);
    int rc = rpc_encode_call(d, args, &w, iov, &n);
    if (rc) return rc;
    wr->enc_len = w.len;
    return flatten(wr, iov, n);
}

static int decode(const struct rpc_call_desc *d, const struct wire *wr, struct rpc_decoded *dc)
{
    struct rpc_rbuf r;
    rpc_rbuf_init(&r, wr->enc, wr->enc_len);
    return rpc_decode_call(d, &r, wr->raw, wr->raw_len, &fake_handles, dc);
}

/* Worker: reply of a completed call, then the client decodes it into args. */
static int reply(struct rpc_decoded *dc, uint32_t result, const struct rpc_call_desc *d,
                 void **args, uint32_t *got)
{
    static struct wire wr;
    struct rpc_wbuf w;
    struct iovec iov[16];
    int n = 16;
    rpc_wbuf_init(&w, wr.enc, sizeof wr.enc);
    if (rpc_encode_reply(dc, result, &w, iov, &n)) return -1;
    wr.enc_len = w.len;
    if (flatten(&wr, iov, n)) return -1;
    struct rpc_rbuf r;
    rpc_rbuf_init(&r, wr.enc, wr.enc_len);
    return rpc_decode_reply(d, args, &r, wr.raw, wr.raw_len, got);
}

static const struct rpc_call_desc *D(const char *name)
{
    const struct rpc_call_desc *d = rpc_call_by_name(name);
    if (!d) fprintf(stderr, "no descriptor %s\n", name);
    return d;
}

RG_TEST(value_devptr_in_buf)
{
    const struct rpc_call_desc *d = D("cuMemcpyHtoD_v2");
    CUdeviceptr dst = 0x7f0000001000ull;
    char src[100];
    const void *srcp = src;
    size_t n = sizeof src;
    for (size_t i = 0; i < n; i++) src[i] = (char)i;
    void *args[] = {&dst, &srcp, &n};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(wr.raw_len, 100);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    CHECK_EQ_U64(*(CUdeviceptr *)dc.avalues[0], dst);
    CHECK(memcmp(*(void **)dc.avalues[1], src, n) == 0);
    CHECK(*(void **)dc.avalues[1] != (void *)src); /* never the client's pointer */
    CHECK_EQ_U64(*(size_t *)dc.avalues[2], 100);
    uint32_t res = 99;
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_EQ_INT(res, 0);
    rpc_decoded_free(&dc);
}

RG_TEST(out_buf_and_wait)
{
    const struct rpc_call_desc *d = D("cuMemcpyDtoH_v2");
    char dst[64] = {0};
    void *dstp = dst;
    CUdeviceptr src = 0x7f0000002000ull;
    size_t n = 48;
    void *args[] = {&dstp, &src, &n};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(wr.raw_len, 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    char *out = *(char **)dc.avalues[0];
    for (int i = 0; i < 48; i++) CHECK(out[i] == 0); /* zeroed scratch, no stale bytes */
    memset(out, 0xab, 48);
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_EQ_INT(res, 0);
    CHECK((unsigned char)dst[47] == 0xab && dst[48] == 0);
    rpc_decoded_free(&dc);
}

RG_TEST(failed_call_leaves_outputs)
{
    const struct rpc_call_desc *d = D("cuMemAlloc_v2");
    CUdeviceptr p = 7, *pp = &p;
    size_t sz = 4096;
    void *args[] = {&pp, &sz};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    **(CUdeviceptr **)dc.avalues[0] = 0x1234;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, CUDA_ERROR_OUT_OF_MEMORY, d, args, &res), 0);
    CHECK_EQ_INT(res, CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_EQ_U64(p, 7);
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_EQ_U64(p, 0x1234);
    rpc_decoded_free(&dc);
}

RG_TEST(string_out_handle_server_minted)
{
    const struct rpc_call_desc *d = D("cuModuleGetFunction");
    CUfunction f = NULL, *fp = &f;
    CUmodule mod = (CUmodule)(uintptr_t)0x4000000123ull;
    const char *name = "saxpy";
    void *args[] = {&fp, &mod, &name};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    CHECK_EQ_U64(dc.ids[1], 0x4000000123ull);
    CHECK_EQ_U64((uintptr_t) * (CUmodule *)dc.avalues[1], 0x4000000123ull ^ 0x5a000);
    CHECK_STR(*(const char **)dc.avalues[2], "saxpy");
    **(CUfunction **)dc.avalues[0] = (CUfunction)0xdead; /* the backend's real handle */
    dc.ids[0] = 0x5000000001ull;                          /* the id the worker minted */
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_EQ_U64((uintptr_t)f, 0x5000000001ull);
    rpc_decoded_free(&dc);
}

RG_TEST(client_minted_handle)
{
    const struct rpc_call_desc *d = D("cuStreamCreate");
    CUstream s = (CUstream)(uintptr_t)0x20000000007ull, *sp = &s; /* minted by the shim */
    unsigned flags = 1;
    void *args[] = {&sp, &flags};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    CHECK_EQ_U64(dc.ids[0], 0x20000000007ull);
    CHECK(*(void **)dc.avalues[0] != NULL);
    CHECK_EQ_INT(*(unsigned *)dc.avalues[1], 1);
    rpc_decoded_free(&dc);
}

RG_TEST(out_scalars_and_device_handle)
{
    const struct rpc_call_desc *d = D("cuDeviceGetAttribute");
    int pi = 0, *pip = &pi;
    CUdevice_attribute attr = CU_DEVICE_ATTRIBUTE_WARP_SIZE;
    CUdevice dev = 0;
    void *args[] = {&pip, &attr, &dev};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    CHECK_EQ_INT(*(int *)dc.avalues[1], CU_DEVICE_ATTRIBUTE_WARP_SIZE);
    CHECK_EQ_INT(*(CUdevice *)dc.avalues[2], 0x5a000 & 0xffffffff); /* translated ordinal */
    **(int **)dc.avalues[0] = 32;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_EQ_INT(pi, 32);
    rpc_decoded_free(&dc);
}

RG_TEST(char_out_buffer_and_struct_out)
{
    const struct rpc_call_desc *d = D("cuDeviceGetName");
    char name[32] = "";
    char *np = name;
    int len = 32;
    CUdevice dev = 0;
    void *args[] = {&np, &len, &dev};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    strcpy(*(char **)dc.avalues[0], "rgpu simgpu");
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_STR(name, "rgpu simgpu");
    rpc_decoded_free(&dc);

    d = D("cuDeviceGetUuid_v2");
    CUuuid u, *up = &u;
    void *args2[] = {&up, &dev};
    CHECK_EQ_INT(encode(d, args2, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    memset(*(void **)dc.avalues[0], 0x42, sizeof(CUuuid));
    CHECK_EQ_INT(reply(&dc, 0, d, args2, &res), 0);
    CHECK(u.bytes[0] == 0x42 && u.bytes[15] == 0x42);
    rpc_decoded_free(&dc);
}

RG_TEST(handle_array_out)
{
    const struct rpc_call_desc *d = D("cuModuleEnumerateFunctions");
    CUfunction fs[3] = {0}, *fp = fs;
    unsigned n = 3;
    CUmodule mod = (CUmodule)(uintptr_t)0x40000000001ull;
    void *args[] = {&fp, &n, &mod};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    CUfunction *real = *(CUfunction **)dc.avalues[0];
    for (int i = 0; i < 3; i++) real[i] = (CUfunction)(uintptr_t)(0x5000000010ull + i); /* ids */
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_EQ_U64((uintptr_t)fs[2], 0x5000000012ull);
    rpc_decoded_free(&dc);
}

RG_TEST(inout_and_null_kinds)
{
    const struct rpc_call_desc *d = D("cuThreadExchangeStreamCaptureMode");
    CUstreamCaptureMode m = CU_STREAM_CAPTURE_MODE_RELAXED, *mp = &m;
    void *args[] = {&mp};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    CUstreamCaptureMode *wm = *(CUstreamCaptureMode **)dc.avalues[0];
    CHECK_EQ_INT(*wm, CU_STREAM_CAPTURE_MODE_RELAXED);
    *wm = CU_STREAM_CAPTURE_MODE_GLOBAL;
    uint32_t res;
    CHECK_EQ_INT(reply(&dc, 0, d, args, &res), 0);
    CHECK_EQ_INT(m, CU_STREAM_CAPTURE_MODE_GLOBAL);
    rpc_decoded_free(&dc);

    d = D("cuCtxCreate_v4");
    CUcontext c, *cp = &c;
    CUctxCreateParams prm, *pp = NULL;
    unsigned flags = 0;
    CUdevice dev = 0;
    void *args2[] = {&cp, &pp, &flags, &dev};
    CHECK_EQ_INT(encode(d, args2, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), 0);
    CHECK(*(void **)dc.avalues[1] == NULL);
    rpc_decoded_free(&dc);
    pp = &prm;
    CHECK_EQ_INT(encode(d, args2, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(bad_handles_get_the_drivers_code)
{
    const struct rpc_call_desc *d = D("cuStreamSynchronize");
    CUstream s = (CUstream)(uintptr_t)(1ull << 62);
    void *args[] = {&s};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), CUDA_ERROR_INVALID_HANDLE);
    d = D("cuCtxDestroy_v2");
    CUcontext c = (CUcontext)(uintptr_t)(1ull << 62);
    void *args2[] = {&c};
    CHECK_EQ_INT(encode(d, args2, &wr), 0);
    CHECK_EQ_INT(decode(d, &wr, &dc), CUDA_ERROR_INVALID_CONTEXT);
}

RG_TEST(limits_and_lying_lengths)
{
    const struct rpc_call_desc *d = D("cuMemcpyDtoH_v2");
    char dst[8];
    void *dstp = dst;
    CUdeviceptr src = 0x1000;
    size_t n = (size_t)RPC_MAX_CALL_BYTES + 1;
    void *args[] = {&dstp, &src, &n};
    static struct wire wr;
    struct rpc_decoded dc;
    CHECK_EQ_INT(encode(d, args, &wr), CUDA_ERROR_INVALID_VALUE);
    /* A hostile client asks for a huge output anyway: refused before allocating. */
    n = 8;
    CHECK_EQ_INT(encode(d, args, &wr), 0);
    uint64_t huge = 1ull << 40;
    struct rpc_wbuf w;
    rpc_wbuf_init(&w, wr.enc, sizeof wr.enc);
    rpc_put_u8(&w, 1);
    rpc_put_u64(&w, huge);
    rpc_put_u64(&w, src);
    rpc_put_u64(&w, huge);
    wr.enc_len = w.len;
    CHECK_EQ_INT(decode(d, &wr, &dc), CUDA_ERROR_INVALID_VALUE);
    /* The sent length differs from the one the arguments give: malformed. */
    rpc_wbuf_init(&w, wr.enc, sizeof wr.enc);
    rpc_put_u8(&w, 1);
    rpc_put_u64(&w, 16);
    rpc_put_u64(&w, src);
    rpc_put_u64(&w, 8);
    wr.enc_len = w.len;
    CHECK_EQ_INT(decode(d, &wr, &dc), -1);
    /* An input buffer longer than the raw bytes that arrived. */
    d = D("cuMemcpyHtoD_v2");
    const void *sp = dst;
    n = 8;
    void *args2[] = {&src, &sp, &n};
    CHECK_EQ_INT(encode(d, args2, &wr), 0);
    wr.raw_len = 7;
    CHECK_EQ_INT(decode(d, &wr, &dc), -1);
    wr.raw_len = 9;
    CHECK_EQ_INT(decode(d, &wr, &dc), -1);
    /* A string over the limit is refused on the client. */
    d = D("cuModuleGetFunction");
    static char longname[RPC_MAX_STRING + 10];
    memset(longname, 'a', sizeof longname - 1);
    const char *ln = longname;
    CUfunction f, *fp = &f;
    CUmodule m = (CUmodule)1;
    void *args3[] = {&fp, &m, &ln};
    CHECK_EQ_INT(encode(d, args3, &wr), CUDA_ERROR_INVALID_VALUE);
}

RG_TEST(non_forwarded_classes_refused)
{
    static struct wire wr;
    struct rpc_decoded dc;
    const struct rpc_call_desc *d = D("cuCtxPushCurrent_v2");
    CUcontext c = 0;
    void *args[] = {&c};
    CHECK_EQ_INT(encode(d, args, &wr), CUDA_ERROR_NOT_SUPPORTED);
    wr.enc_len = 0;
    wr.raw_len = 0;
    CHECK_EQ_INT(decode(d, &wr, &dc), CUDA_ERROR_NOT_SUPPORTED);
}

/* ---- fuzz ------------------------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Plausible arguments for any generic descriptor: small values, valid pointers. */
struct fuzz_args {
    uint64_t vals[RPC_MAX_ARGS][8];
    void *ptrs[RPC_MAX_ARGS];
    void *args[RPC_MAX_ARGS];
};
static uint8_t pool[1 << 20];
static char fuzz_str[] = "kernel_name";

static void make_args(const struct rpc_call_desc *d, struct fuzz_args *fa)
{
    memset(fa, 0, sizeof *fa);
    for (unsigned i = 0; i < d->nargs; i++) {
        const struct rpc_arg_desc *a = &d->args[i];
        if (a->kind == RPC_ARG_VALUE || a->kind == RPC_ARG_DEVPTR || a->kind == RPC_ARG_HANDLE) {
            fa->vals[i][0] = rnd() % 16;
            fa->args[i] = fa->vals[i];
            continue;
        }
        fa->ptrs[i] = a->kind == RPC_ARG_STRING ? (void *)fuzz_str
                      : a->kind == RPC_ARG_NULL ? NULL
                                                : (void *)pool;
        if (rnd() % 8 == 0 && a->kind != RPC_ARG_STRING) fa->ptrs[i] = NULL;
        fa->args[i] = &fa->ptrs[i];
    }
}

static void mutate_and_decode(const struct rpc_call_desc *d, const struct wire *good)
{
    static struct wire wr;
    struct rpc_decoded dc;
    for (size_t cut = 0; cut < good->enc_len; cut++) { /* every truncation */
        wr = *good;
        wr.enc_len = cut;
        int rc = decode(d, &wr, &dc);
        if (rc == 0) rpc_decoded_free(&dc);
    }
    for (int k = 0; k < 24; k++) { /* corrupted bytes, lengths, raw sizes */
        wr = *good;
        if (wr.enc_len) wr.enc[rnd() % wr.enc_len] ^= (uint8_t)(1u << (rnd() % 8));
        if (wr.enc_len && k % 3 == 0) wr.enc[rnd() % wr.enc_len] = (uint8_t)rnd();
        if (k % 5 == 0) wr.raw_len = rnd() % (good->raw_len + 2);
        if (k % 7 == 0) wr.enc_len += rnd() % 4;
        int rc = decode(d, &wr, &dc);
        if (rc == 0) rpc_decoded_free(&dc);
    }
    for (int k = 0; k < 4; k++) { /* pure garbage */
        wr.enc_len = rnd() % 64;
        for (size_t j = 0; j < wr.enc_len; j++) wr.enc[j] = (uint8_t)rnd();
        wr.raw_len = rnd() % 64;
        int rc = decode(d, &wr, &dc);
        if (rc == 0) rpc_decoded_free(&dc);
    }
}

RG_TEST(fuzz_every_forwarded_descriptor)
{
    static struct wire wr;
    static struct fuzz_args fa;
    int encoded = 0;
    for (size_t i = 0; i < rpc_ncalls; i++) {
        const struct rpc_call_desc *d = &rpc_calls[i];
        if (d->cls != RPC_CLASS_FORWARD) continue;
        for (int round = 0; round < 3; round++) {
            make_args(d, &fa);
            if (encode(d, fa.args, &wr)) continue;
            struct rpc_decoded dc;
            int rc = decode(d, &wr, &dc);
            if (rc < 0) RG_FAIL("%s: a valid encoding does not decode", d->name);
            if (rc == 0) rpc_decoded_free(&dc);
            encoded++;
            mutate_and_decode(d, &wr);
        }
    }
    CHECK(encoded > 500);
}

RG_TEST_MAIN()
