/* md2.c — MD2 message digest written from RFC 1319's description, and HMAC on
 * top of it. The substitution table is RFC 1319's permutation of 0..255 built
 * from the digits of pi (tests/darkapi re-derives it independently). */
#include <string.h>

#include "md2.h"

/* clang-format off */
static const uint8_t md2_s[256] = {
    41,  46,  67,  201, 162, 216, 124, 1,   61,  54,  84,  161, 236, 240, 6,   19,
    98,  167, 5,   243, 192, 199, 115, 140, 152, 147, 43,  217, 188, 76,  130, 202,
    30,  155, 87,  60,  253, 212, 224, 22,  103, 66,  111, 24,  138, 23,  229, 18,
    190, 78,  196, 214, 218, 158, 222, 73,  160, 251, 245, 142, 187, 47,  238, 122,
    169, 104, 121, 145, 21,  178, 7,   63,  148, 194, 16,  137, 11,  34,  95,  33,
    128, 127, 93,  154, 90,  144, 50,  39,  53,  62,  204, 231, 191, 247, 151, 3,
    255, 25,  48,  179, 72,  165, 181, 209, 215, 94,  146, 42,  172, 86,  170, 198,
    79,  184, 56,  210, 150, 164, 125, 182, 118, 252, 107, 226, 156, 116, 4,   241,
    69,  157, 112, 89,  100, 113, 135, 32,  134, 91,  207, 101, 230, 45,  168, 2,
    27,  96,  37,  173, 174, 176, 185, 246, 28,  70,  97,  105, 52,  64,  126, 15,
    85,  71,  163, 35,  221, 81,  175, 58,  195, 92,  249, 206, 186, 197, 234, 38,
    44,  83,  13,  110, 133, 40,  132, 9,   211, 223, 205, 244, 65,  129, 77,  82,
    106, 220, 55,  200, 108, 193, 171, 250, 36,  225, 123, 8,   12,  189, 177, 74,
    120, 136, 149, 139, 227, 99,  232, 109, 233, 203, 213, 254, 59,  0,   29,  57,
    242, 239, 183, 14,  102, 88,  208, 228, 166, 119, 114, 248, 235, 117, 75,  10,
    49,  68,  80,  180, 143, 237, 31,  26,  219, 153, 141, 51,  159, 17,  131, 20,
};
/* clang-format on */

/* One 16-byte block: fold it into the running checksum and the state. */
static void md2_block(rg_md2_ctx *m, const uint8_t *blk)
{
    uint8_t l = m->checksum[RG_MD2_BLOCK - 1];
    for (int j = 0; j < RG_MD2_BLOCK; j++) {
        m->checksum[j] ^= md2_s[blk[j] ^ l];
        l = m->checksum[j];
    }
    for (int j = 0; j < RG_MD2_BLOCK; j++) {
        m->x[16 + j] = blk[j];
        m->x[32 + j] = (uint8_t)(blk[j] ^ m->x[j]);
    }
    unsigned t = 0;
    for (unsigned round = 0; round < 18; round++) {
        for (int k = 0; k < 48; k++)
            t = m->x[k] ^= md2_s[t];
        t = (t + round) & 0xff;
    }
}

void rg_md2_init(rg_md2_ctx *m)
{
    memset(m, 0, sizeof *m);
}

void rg_md2_update(rg_md2_ctx *m, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t take = RG_MD2_BLOCK - m->n;
        if (take > len) take = len;
        memcpy(m->buf + m->n, p, take);
        m->n += take;
        p += take;
        len -= take;
        if (m->n == RG_MD2_BLOCK) {
            md2_block(m, m->buf);
            m->n = 0;
        }
    }
}

void rg_md2_final(rg_md2_ctx *m, uint8_t out[RG_MD2_DIGEST])
{
    uint8_t pad[RG_MD2_BLOCK];
    uint8_t i = (uint8_t)(RG_MD2_BLOCK - m->n); /* 1..16 bytes, each of value i */
    memset(pad, i, sizeof pad);
    rg_md2_update(m, pad, i);
    uint8_t sum[RG_MD2_BLOCK];
    memcpy(sum, m->checksum, sizeof sum);
    md2_block(m, sum);
    memcpy(out, m->x, RG_MD2_DIGEST);
}

void rg_md2(const void *data, size_t len, uint8_t out[RG_MD2_DIGEST])
{
    rg_md2_ctx m;
    rg_md2_init(&m);
    rg_md2_update(&m, data, len);
    rg_md2_final(&m, out);
}

void rg_hmac_md2(const uint8_t key[RG_MD2_BLOCK], const void *msg, size_t len,
                 uint8_t out[RG_MD2_DIGEST])
{
    uint8_t pad[RG_MD2_BLOCK], inner[RG_MD2_DIGEST];
    rg_md2_ctx m;
    for (int i = 0; i < RG_MD2_BLOCK; i++)
        pad[i] = key[i] ^ 0x36;
    rg_md2_init(&m);
    rg_md2_update(&m, pad, sizeof pad);
    rg_md2_update(&m, msg, len);
    rg_md2_final(&m, inner);
    for (int i = 0; i < RG_MD2_BLOCK; i++)
        pad[i] = key[i] ^ 0x5c;
    rg_md2_init(&m);
    rg_md2_update(&m, pad, sizeof pad);
    rg_md2_update(&m, inner, sizeof inner);
    rg_md2_final(&m, out);
}
