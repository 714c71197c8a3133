/* mirror_test.c — the memory mirror's batches (rpc/mirror_wire.h): runs are
 * exact to the byte, contiguous runs merge across pages but not across a
 * sealed region boundary, the shadow takes what was sent, a batch keeps to
 * its limits, and the reader refuses batches whose runs and bytes disagree. */
#include <stdlib.h>
#include <string.h>

#include "mirror_wire.h"
#include "rgtest.h"

RG_TEST(runs_are_exact)
{
    unsigned char cur[8192], shadow[8192];
    memset(cur, 0, sizeof cur);
    memset(shadow, 0, sizeof shadow);
    cur[5] = 1, cur[6] = 2, cur[100] = 3;
    cur[4095] = 4, cur[4096] = 5; /* contiguous across the page boundary */
    struct rpc_runs r = {0};
    CHECK(rpc_runs_diff(&r, 0x1000, cur, shadow, 4096) == 0);
    CHECK(rpc_runs_diff(&r, 0x2000, cur + 4096, shadow + 4096, 4096) == 0);
    CHECK_EQ_INT(r.n, 3);
    CHECK_EQ_U64(r.addr[0], 0x1005);
    CHECK_EQ_INT(r.len[0], 2);
    CHECK_EQ_U64(r.addr[1], 0x1064);
    CHECK_EQ_INT(r.len[1], 1);
    CHECK_EQ_U64(r.addr[2], 0x1fff);
    CHECK_EQ_INT(r.len[2], 2);
    CHECK_EQ_U64(r.bytes, 5);
    CHECK(memcmp(cur, shadow, sizeof cur) == 0); /* the shadow took them */
    rpc_runs_reset(&r);
    CHECK(rpc_runs_diff(&r, 0x1000, cur, shadow, 4096) == 0);
    CHECK_EQ_INT(r.n, 0); /* nothing changed since */
    rpc_runs_free(&r);
}

RG_TEST(sealed_regions_do_not_merge)
{
    unsigned char cur[16], shadow[16];
    memset(cur, 7, sizeof cur);
    memset(shadow, 0, sizeof shadow);
    struct rpc_runs r = {0};
    CHECK(rpc_runs_diff(&r, 0x100, cur, shadow, 8) == 0);
    rpc_runs_seal(&r);
    CHECK(rpc_runs_diff(&r, 0x108, cur + 8, shadow + 8, 8) == 0);
    CHECK_EQ_INT(r.n, 2);
    rpc_runs_free(&r);
}

RG_TEST(batch_limits)
{
    struct rpc_runs r = {0};
    CHECK(rpc_runs_room(&r, RPC_MIRROR_PAGE));
    r.n = RPC_MIRROR_MAX_RUNS - 10;
    CHECK(!rpc_runs_room(&r, RPC_MIRROR_PAGE)); /* a page could need 2049 runs */
    r.n = 0;
    r.bytes = RPC_MIRROR_MAX_BYTES - 100;
    CHECK(!rpc_runs_room(&r, RPC_MIRROR_PAGE));
    r.bytes = 0;
    rpc_runs_free(&r);
}

static int read_all(const void *enc, size_t len, const void *raw, size_t raw_len, int *runs)
{
    rpc_rbuf rb;
    struct rpc_runs_reader it;
    uint64_t addr;
    uint32_t n;
    const uint8_t *bytes;
    int rc;
    *runs = 0;
    rpc_rbuf_init(&rb, enc, len);
    if (rpc_runs_begin(&it, &rb, raw, raw_len)) return -1;
    while ((rc = rpc_runs_next(&it, &addr, &n, &bytes)) == 1) ++*runs;
    return rc < 0 || !rpc_rbuf_done(&rb) ? -1 : 0;
}

RG_TEST(reader_checks_lengths)
{
    unsigned char cur[64], shadow[64], enc[256];
    memset(cur, 1, sizeof cur);
    memset(shadow, 0, sizeof shadow);
    struct rpc_runs r = {0};
    CHECK(rpc_runs_diff(&r, 0x5000, cur, shadow, 64) == 0);
    rpc_wbuf w;
    rpc_wbuf_init(&w, enc, sizeof enc);
    rpc_runs_encode(&w, &r);
    CHECK(rpc_wbuf_ok(&w));
    int runs;
    CHECK(read_all(enc, w.len, cur, 64, &runs) == 0);
    CHECK_EQ_INT(runs, 1);
    CHECK(read_all(enc, w.len, cur, 63, &runs) != 0); /* bytes missing */
    CHECK(read_all(enc, w.len, cur, 65, &runs) != 0); /* bytes left over */
    CHECK(read_all(enc, w.len - 1, cur, 64, &runs) != 0); /* truncated */
    enc[0] = 0xff, enc[1] = 0xff; /* too many runs */
    CHECK(read_all(enc, w.len, cur, 64, &runs) != 0);
    rpc_runs_free(&r);
}

RG_TEST_MAIN()
