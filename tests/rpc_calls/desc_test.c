/* desc_test.c — the generated call descriptors (rpc_calls[]): order and op
 * numbers, every argument's scalar kind consistent with its compiler-computed
 * size, every buffer with a length, and every stub symbol in api-coverage.md. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "rgtest.h"

static int scalar_size_ok(unsigned scalar, unsigned size)
{
    switch (scalar) {
    case RPC_S_U8: case RPC_S_S8: return size == 1;
    case RPC_S_U16: case RPC_S_S16: return size == 2;
    case RPC_S_U32: case RPC_S_S32: case RPC_S_F32: return size == 4;
    case RPC_S_U64: case RPC_S_S64: case RPC_S_F64: return size == 8;
    case RPC_S_PTR: return size == sizeof(void *);
    case RPC_S_STRUCT: return size > 0;
    default: return 0;
    }
}

static int is_buffer(unsigned kind)
{
    return kind == RPC_ARG_IN_BUF || kind == RPC_ARG_OUT_BUF || kind == RPC_ARG_INOUT_BUF ||
           kind == RPC_ARG_HANDLE_ARRAY_IN || kind == RPC_ARG_HANDLE_ARRAY_OUT;
}

/* A length may only name a scalar argument (by value, or an OUT scalar). */
static int len_ok(const struct rpc_call_desc *d, const struct rpc_arg_desc *a)
{
    const struct rpc_len *l = &a->len;
    if (l->kind == RPC_LEN_NONE) return !is_buffer(a->kind);
    if (l->kind == RPC_LEN_CONST || l->kind == RPC_LEN_SIZEOF) return 1;
    if (l->a >= d->nargs) return 0;
    if (d->args[l->a].kind != RPC_ARG_VALUE && d->args[l->a].kind != RPC_ARG_OUT) return 0;
    if (l->kind == RPC_LEN_ARGS_MUL)
        return l->b < d->nargs && d->args[l->b].kind == RPC_ARG_VALUE;
    return l->kind == RPC_LEN_ARG || l->kind == RPC_LEN_ARG_MUL;
}

RG_TEST(table_order_and_ops)
{
    CHECK(rpc_ncalls > 600);
    for (size_t i = 0; i < rpc_ncalls; i++) {
        const struct rpc_call_desc *d = &rpc_calls[i];
        CHECK_EQ_INT(d->op, i + 1);
        if (i > 0 && strcmp(rpc_calls[i - 1].name, d->name) >= 0) RG_FAIL("%s out of order", d->name);
        CHECK(rpc_call_by_op(d->op) == d);
        CHECK(rpc_call_by_name(d->name) == d);
        CHECK(d->nargs <= RPC_MAX_ARGS);
        CHECK(d->cls >= RPC_CLASS_FORWARD && d->cls <= RPC_CLASS_UNSUPPORTED);
        CHECK(d->mode >= RPC_MODE_SYNC && d->mode <= RPC_MODE_WAIT);
        CHECK((d->cls == RPC_CLASS_CUSTOM) == (d->custom != NULL));
    }
    CHECK(rpc_call_by_op(0) == NULL);
    CHECK(rpc_call_by_op((uint32_t)rpc_ncalls + 1) == NULL);
    CHECK(rpc_call_by_name("cuNoSuchFunction") == NULL);
    CHECK(rpc_call_by_name(NULL) == NULL);
}

RG_TEST(args_consistent)
{
    for (size_t i = 0; i < rpc_ncalls; i++) {
        const struct rpc_call_desc *d = &rpc_calls[i];
        for (unsigned j = 0; j < d->nargs; j++) {
            const struct rpc_arg_desc *a = &d->args[j];
            if (a->kind < RPC_ARG_VALUE || a->kind > RPC_ARG_CUSTOM)
                RG_FAIL("%s.%s: kind %u", d->name, a->name, a->kind);
            if (!scalar_size_ok(a->scalar, a->size) && a->kind != RPC_ARG_IN_BUF &&
                a->kind != RPC_ARG_OUT_BUF && a->kind != RPC_ARG_INOUT_BUF &&
                a->kind != RPC_ARG_STRING && a->kind != RPC_ARG_NULL)
                RG_FAIL("%s.%s: scalar %u with size %u", d->name, a->name, a->scalar, a->size);
            if (a->align == 0 || (a->align & (a->align - 1)) || a->align > a->size)
                RG_FAIL("%s.%s: alignment %u for size %u", d->name, a->name, a->align, a->size);
            if (!len_ok(d, a)) RG_FAIL("%s.%s: bad length", d->name, a->name);
            if ((a->kind == RPC_ARG_HANDLE || a->kind == RPC_ARG_OUT_HANDLE) && a->handle == RPC_H_NONE)
                RG_FAIL("%s.%s: handle without a type", d->name, a->name);
            if (a->kind == RPC_ARG_OUT_HANDLE && a->mint == RPC_MINT_NONE)
                RG_FAIL("%s.%s: new handle without a minting side", d->name, a->name);
            if (a->kind == RPC_ARG_CUSTOM && d->cls == RPC_CLASS_FORWARD)
                RG_FAIL("%s.%s: forwarded call with a custom argument", d->name, a->name);
            if (a->kind == RPC_ARG_VALUE && a->scalar == RPC_S_STRUCT && a->size > 64)
                RG_FAIL("%s.%s: struct by value over 64 bytes", d->name, a->name);
        }
    }
}

/* Spot checks against the C types, legacy and per-thread variants included. */
RG_TEST(known_descriptors)
{
    const struct rpc_call_desc *d = rpc_call_by_name("cuMemAlloc_v2");
    CHECK(d && d->cls == RPC_CLASS_FORWARD && d->nargs == 2);
    CHECK_EQ_INT(d->args[0].kind, RPC_ARG_OUT);
    CHECK_EQ_INT(d->args[0].size, sizeof(CUdeviceptr));
    CHECK_EQ_INT(d->args[1].size, sizeof(size_t));
    d = rpc_call_by_name("cuMemAlloc");
    CHECK(d && d->args[1].size == sizeof(unsigned int) && d->args[1].scalar == RPC_S_U32);
    d = rpc_call_by_name("cuMemcpyHtoD_v2_ptds");
    CHECK(d && d->per_thread && d->mode == RPC_MODE_ASYNC && !strcmp(d->base, "cuMemcpyHtoD"));
    CHECK_EQ_INT(d->args[1].kind, RPC_ARG_IN_BUF);
    CHECK_EQ_INT(d->args[1].len.kind, RPC_LEN_ARG);
    CHECK_EQ_INT(d->args[1].len.a, 2);
    d = rpc_call_by_name("cuMemcpyDtoH_v2");
    CHECK(d && d->mode == RPC_MODE_WAIT && d->args[0].kind == RPC_ARG_OUT_BUF);
    d = rpc_call_by_name("cuDeviceGetUuid_v2");
    CHECK(d && d->args[0].kind == RPC_ARG_OUT_BUF && d->args[0].size == sizeof(CUuuid));
    CHECK_EQ_INT(d->args[1].handle, RPC_H_DEVICE);
    d = rpc_call_by_name("cuStreamCreate");
    CHECK(d && d->args[0].kind == RPC_ARG_OUT_HANDLE && d->args[0].mint == RPC_MINT_CLIENT);
    CHECK_EQ_INT(d->args[0].handle, RPC_H_STREAM);
    d = rpc_call_by_name("cuStreamEndCapture");
    CHECK(d && d->args[1].kind == RPC_ARG_OUT_HANDLE && d->args[1].mint == RPC_MINT_SERVER);
    d = rpc_call_by_name("cuLaunchKernel_ptsz");
    CHECK(d && d->cls == RPC_CLASS_CUSTOM && !strcmp(d->custom, "launch") && d->nargs == 11);
    d = rpc_call_by_name("cuCtxPushCurrent_v2");
    CHECK(d && d->cls == RPC_CLASS_CLIENT);
    d = rpc_call_by_name("cuMemPrefetchAsync_v2");
    CHECK(d && d->args[2].scalar == RPC_S_STRUCT && d->args[2].size == sizeof(CUmemLocation));
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

/* Every symbol of the stub, read with nm independently of the generator. */
RG_TEST(coverage_lists_every_stub_symbol)
{
    const char *stub = getenv("RG_STUB_LIB"), *cov = getenv("RG_API_COVERAGE");
    if (!stub || !cov) RG_SKIP("RG_STUB_LIB / RG_API_COVERAGE not set");
    char *text = slurp(cov);
    if (!text) RG_FAIL("cannot read %s", cov);
    char cmd[4096], line[512], want[300];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'", stub);
    FILE *p = popen(cmd, "r");
    int n = 0, missing = 0;
    while (p && fgets(line, sizeof line, p)) {
        char addr[64], type[8], name[256];
        if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3 || strncmp(name, "cu", 2)) continue;
        snprintf(want, sizeof want, "| `%s` |", name);
        n++;
        if (!strstr(text, want) || !rpc_call_by_name(name)) {
            fprintf(stderr, "  missing: %s\n", name);
            missing++;
        }
    }
    if (p) pclose(p);
    free(text);
    CHECK(n > 600);
    CHECK_EQ_INT(missing, 0);
}

RG_TEST_MAIN()
