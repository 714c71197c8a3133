/* buf_test.c — rpc_wbuf / rpc_rbuf: round trips of every put/get, overflow
 * of fixed and growing writers, and readers that run past the end or meet
 * malformed strings and blobs: an error flag, never an out-of-bounds read. */
#include <stdlib.h>

#include "buf.h"
#include "rgtest.h"

RG_TEST(buf_round_trip_little_endian)
{
    uint8_t mem[64];
    rpc_wbuf w;
    rpc_wbuf_init(&w, mem, sizeof mem);
    rpc_put_u8(&w, 0xab);
    rpc_put_u16(&w, 0x1234);
    rpc_put_u32(&w, 0xdeadbeef);
    rpc_put_u64(&w, 0x0102030405060708ull);
    rpc_put_str(&w, "hi");
    rpc_put_str(&w, NULL);
    rpc_put_blob(&w, "\0\1\2", 3);
    CHECK(rpc_wbuf_ok(&w));
    CHECK_EQ_INT(w.len, 1 + 2 + 4 + 8 + 4 + 3 + 4 + 4 + 3);
    CHECK_EQ_INT(mem[1], 0x34); /* little-endian on the wire */
    CHECK_EQ_INT(mem[3], 0xef);

    rpc_rbuf r;
    size_t n;
    rpc_rbuf_init(&r, mem, w.len);
    CHECK_EQ_INT(rpc_get_u8(&r), 0xab);
    CHECK_EQ_INT(rpc_get_u16(&r), 0x1234);
    CHECK_EQ_U64(rpc_get_u32(&r), 0xdeadbeefu);
    CHECK_EQ_U64(rpc_get_u64(&r), 0x0102030405060708ull);
    CHECK_STR(rpc_get_str(&r), "hi");
    CHECK(rpc_get_str(&r) == NULL && rpc_rbuf_ok(&r)); /* NULL, not an error */
    const uint8_t *b = rpc_get_blob(&r, &n);
    CHECK(b && n == 3 && b[2] == 2);
    CHECK(rpc_rbuf_done(&r));
}

RG_TEST(buf_fixed_writer_overflow_is_sticky)
{
    uint8_t mem[8] = {0};
    rpc_wbuf w;
    rpc_wbuf_init(&w, mem, 6);
    rpc_put_u32(&w, 1);
    rpc_put_u32(&w, 2); /* does not fit */
    CHECK(!rpc_wbuf_ok(&w));
    CHECK_EQ_INT(w.len, 4);
    rpc_put_u8(&w, 3); /* would fit, but the buffer is already wrong */
    CHECK_EQ_INT(w.len, 4);
    CHECK_EQ_INT(mem[4], 0);
    CHECK_EQ_INT(mem[6], 0);

    rpc_wbuf_init(&w, NULL, 100);
    rpc_put_u8(&w, 1);
    CHECK(!rpc_wbuf_ok(&w));
}

RG_TEST(buf_dynamic_writer_grows_to_its_limit)
{
    rpc_wbuf w;
    rpc_wbuf_init_dyn(&w, 10000);
    for (int i = 0; i < 2500; i++)
        rpc_put_u32(&w, (uint32_t)i);
    CHECK(rpc_wbuf_ok(&w));
    CHECK_EQ_INT(w.len, 10000);
    rpc_rbuf r;
    rpc_rbuf_init(&r, w.data, w.len);
    for (int i = 0; i < 2500; i++)
        CHECK_EQ_INT(rpc_get_u32(&r), i);
    rpc_put_u8(&w, 0);
    CHECK(!rpc_wbuf_ok(&w));
    rpc_wbuf_free(&w);

    rpc_wbuf_init_dyn(&w, 100);
    rpc_put_blob(&w, NULL, (size_t)UINT32_MAX + 1); /* length not representable */
    CHECK(!rpc_wbuf_ok(&w));
    rpc_wbuf_free(&w);
}

RG_TEST(buf_reader_past_the_end_sets_error)
{
    const uint8_t mem[5] = {1, 2, 3, 4, 5};
    rpc_rbuf r;
    uint8_t dst[8];
    rpc_rbuf_init(&r, mem, 5);
    CHECK_EQ_INT(rpc_get_u32(&r), 0x04030201);
    CHECK_EQ_INT(rpc_get_u32(&r), 0); /* 1 byte left */
    CHECK(!rpc_rbuf_ok(&r));
    CHECK_EQ_INT(rpc_get_u8(&r), 0); /* sticky, even though a byte is left */
    CHECK_EQ_INT(rpc_rbuf_left(&r), 0);

    rpc_rbuf_init(&r, mem, 5);
    memset(dst, 0xff, sizeof dst);
    CHECK_EQ_INT(rpc_get_bytes(&r, dst, 6), -1);
    CHECK_EQ_INT(dst[0], 0);
    rpc_rbuf_init(&r, mem, 5);
    CHECK(rpc_get_view(&r, (size_t)-1) == NULL); /* pos + n would wrap */
    CHECK(!rpc_rbuf_ok(&r));

    rpc_rbuf_init(&r, NULL, 100);
    CHECK_EQ_INT(rpc_get_u8(&r), 0);
    CHECK(!rpc_rbuf_ok(&r));
}

RG_TEST(buf_reader_rejects_bad_strings_and_blobs)
{
    rpc_rbuf r;
    size_t n = 99;
    const uint8_t huge_blob[] = {0xff, 0xff, 0xff, 0x7f, 'a'};
    rpc_rbuf_init(&r, huge_blob, sizeof huge_blob);
    CHECK(rpc_get_blob(&r, &n) == NULL && n == 0 && !rpc_rbuf_ok(&r));

    const uint8_t no_nul[] = {3, 0, 0, 0, 'a', 'b', 'c'};
    rpc_rbuf_init(&r, no_nul, sizeof no_nul);
    CHECK(rpc_get_str(&r) == NULL && !rpc_rbuf_ok(&r));

    const uint8_t inner_nul[] = {4, 0, 0, 0, 'a', 0, 'c', 0};
    rpc_rbuf_init(&r, inner_nul, sizeof inner_nul);
    CHECK(rpc_get_str(&r) == NULL && !rpc_rbuf_ok(&r));

    const uint8_t trailing[] = {2, 0, 0, 0, 'a', 0, 9};
    rpc_rbuf_init(&r, trailing, sizeof trailing);
    CHECK_STR(rpc_get_str(&r), "a");
    CHECK(rpc_rbuf_ok(&r) && !rpc_rbuf_done(&r)); /* a byte too many */
}

/* Random bytes read as a random sequence of fields: never out of bounds
 * (run under ASan to make that visible), always a consistent flag. */
RG_TEST(buf_reader_fuzz)
{
    uint8_t mem[64];
    uint32_t x = 12345;
    for (int it = 0; it < 20000; it++) {
        size_t len = (x = x * 1103515245u + 12345u) % sizeof mem;
        uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any overrun */
        for (size_t i = 0; i < len; i++)
            copy[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
        rpc_rbuf r;
        rpc_rbuf_init(&r, copy, len);
        for (int k = 0; k < 8; k++) {
            size_t n;
            switch ((x = x * 1103515245u + 12345u) >> 29) {
            case 0:
                rpc_get_u8(&r);
                break;
            case 1:
                rpc_get_u16(&r);
                break;
            case 2:
                rpc_get_u32(&r);
                break;
            case 3:
                rpc_get_u64(&r);
                break;
            case 4:
                rpc_get_str(&r);
                break;
            case 5:
                rpc_get_blob(&r, &n);
                break;
            default:
                rpc_get_view(&r, x % 16);
                break;
            }
        }
        CHECK(r.pos <= r.len);
        free(copy);
    }
}

RG_TEST_MAIN()
