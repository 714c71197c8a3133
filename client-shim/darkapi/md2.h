/* md2.h — MD2 (RFC 1319) and HMAC-MD2 (RFC 2104 over MD2's 16-byte block),
 * needed only because cudart's integrity check (ref §5) is built on them.
 * Not for any security purpose. */
#ifndef RG_MD2_H
#define RG_MD2_H

#include <stddef.h>
#include <stdint.h>

#define RG_MD2_BLOCK 16
#define RG_MD2_DIGEST 16

typedef struct rg_md2 {
    uint8_t x[48]; /* the 48-byte state */
    uint8_t checksum[RG_MD2_BLOCK];
    uint8_t buf[RG_MD2_BLOCK]; /* pending partial block */
    size_t n;                  /* bytes in buf */
} rg_md2_ctx;

void rg_md2_init(rg_md2_ctx *m);
void rg_md2_update(rg_md2_ctx *m, const void *data, size_t len);
void rg_md2_final(rg_md2_ctx *m, uint8_t out[RG_MD2_DIGEST]);
void rg_md2(const void *data, size_t len, uint8_t out[RG_MD2_DIGEST]);

/* HMAC-MD2 with a key of exactly one block (what the integrity check uses). */
void rg_hmac_md2(const uint8_t key[RG_MD2_BLOCK], const void *msg, size_t len,
                 uint8_t out[RG_MD2_DIGEST]);

#endif
