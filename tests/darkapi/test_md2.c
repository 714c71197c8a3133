/* test_md2.c — MD2 against RFC 1319's test suite and HMAC-MD2 against values
 * computed at build time by hmac_md2_ref.py, an independent Python version. */
#include "rgtest.h"

#include "hmac_md2_expected.h"
#include "md2.h"

static const unsigned char integrity_key[16] = {0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52,
                                                0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f};

static void hex(const unsigned char *d, char out[33])
{
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

RG_TEST(md2_rfc1319_vectors)
{
    static const char *const v[][2] = {
        {"", "8350e5a3e24c153df2275c9f80692773"},
        {"a", "32ec01ec4a6dac72c0ab96fb34c0b5d1"},
        {"abc", "da853b0d3f88d99b30283a69e6ded6bb"},
        {"message digest", "ab4f496bfb2a530b219ff33031fe06b0"},
        {"abcdefghijklmnopqrstuvwxyz", "4e8ddff3650292ab5a4108c3aa47940b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "da33def2a42df13975352846c30338cd"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890123456"
         "7890",
         "d5976f79d83d3a0dc9806c3c66f3efd8"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned char d[16];
        char h[33];
        rg_md2(v[i][0], strlen(v[i][0]), d);
        hex(d, h);
        CHECK_STR(h, v[i][1]);
    }
}

/* Feeding in pieces of every size gives the one-shot digest. */
RG_TEST(md2_incremental)
{
    unsigned char msg[100], once[16], parts[16];
    for (int i = 0; i < 100; i++)
        msg[i] = (unsigned char)(i * 7);
    rg_md2(msg, sizeof msg, once);
    for (size_t step = 1; step <= 33; step++) {
        rg_md2_ctx m;
        rg_md2_init(&m);
        for (size_t off = 0; off < sizeof msg; off += step)
            rg_md2_update(&m, msg + off, off + step > sizeof msg ? sizeof msg - off : step);
        rg_md2_final(&m, parts);
        CHECK(memcmp(once, parts, 16) == 0);
    }
}

RG_TEST(hmac_md2_matches_python_reference)
{
    unsigned char msg[100], d[16];
    for (int i = 0; i < 100; i++)
        msg[i] = (unsigned char)i;
    rg_hmac_md2(integrity_key, "", 0, d);
    CHECK(memcmp(d, hmac_empty, 16) == 0);
    rg_hmac_md2(integrity_key, msg, sizeof msg, d);
    CHECK(memcmp(d, hmac_counting100, 16) == 0);
    rg_hmac_md2(integrity_key, "abc", 3, d);
    CHECK(memcmp(d, hmac_rfc_abc, 16) == 0);
}

RG_TEST_MAIN()
