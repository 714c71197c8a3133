/* sha256.h — SHA-256 (FIPS 180-4), the content hash of code images: the shim
 * names an image by it and the worker's image cache (server/imagecache.c)
 * files and verifies images by it. Written here rather than linked from
 * libcrypto so the shim carries no shared dependency into the application
 * (DESIGN "A guest in someone else's process"). Checked against the FIPS
 * 180-2 examples in tests/rpc/sha256_test.c. */
#ifndef RG_RPC_SHA256_H
#define RG_RPC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define RG_SHA256_LEN 32

struct rg_sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
};

void rg_sha256_init(struct rg_sha256 *c);
void rg_sha256_update(struct rg_sha256 *c, const void *p, size_t n);
void rg_sha256_final(struct rg_sha256 *c, uint8_t out[RG_SHA256_LEN]);
/* The digest of n bytes at p. Weak: the shim and rgpud, which carry OpenSSL's
 * libcrypto anyway (SCRAM), replace it with OpenSSL's faster code
 * (RG_SHA256_OPENSSL below); tests/rpc checks this one. */
void rg_sha256(const void *p, size_t n, uint8_t out[RG_SHA256_LEN]);
/* The portable one-shot, always this file's. */
void rg_sha256_portable(const void *p, size_t n, uint8_t out[RG_SHA256_LEN]);

/* The replacement, for a file of a target that links libcrypto (once per target). */
#define RG_SHA256_OPENSSL                                                                          \
    void rg_sha256(const void *p, size_t n, uint8_t out[RG_SHA256_LEN])                            \
    {                                                                                              \
        unsigned len = 0;                                                                          \
        if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) || len != RG_SHA256_LEN)              \
            rg_sha256_portable(p, n, out);                                                         \
    }
/* 64 lower-case hex digits and a NUL into hex[65]. */
void rg_sha256_hex(const uint8_t d[RG_SHA256_LEN], char hex[2 * RG_SHA256_LEN + 1]);

#endif
