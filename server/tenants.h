/* tenants.h — the tenants file (--tenants FILE): who may use the pool, with
 * what credential and within what limits. Credentials are stored as SCRAM-
 * SHA-256 verifiers, in PostgreSQL's notation
 *     SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>   (base64)
 * so what the server keeps cannot be replayed as the secret; `rgpuctl
 * hash-secret` makes them. One line per tenant:
 *     NAME CREDENTIAL [max-gpus=N] [max-sessions=N] [memory-quota=SIZE|N%]
 * Used by rgpud (the handshake) and rgpuctl (hash-secret); no logging here. */
#ifndef RG_SRV_TENANTS_H
#define RG_SRV_TENANTS_H

#include <stddef.h>
#include <stdint.h>

#define TENANT_NAME_MAX 32

struct tenant {
    char name[TENANT_NAME_MAX];
    unsigned iterations;
    uint8_t salt[64];
    size_t salt_len;
    uint8_t stored_key[32], server_key[32];
    int max_gpus, max_sessions; /* 0: no limit */
    char memory_quota[32];      /* "": the server's memory-quota */
};

struct tenants {
    struct tenant *v;
    int n;
    uint8_t fake_key[32]; /* salts for unknown names, so answers do not tell names apart */
};

/* One SCRAM-SHA-256 exchange, server side (RFC 5802 messages, binary nonces
 * base64-encoded inside AuthMessage). */
#define SCRAM_NONCE_MAX 64
struct scram {
    const struct tenant *who; /* NULL: unknown name (the exchange fails at the proof) */
    char user[TENANT_NAME_MAX];
    uint8_t nonce[2 * SCRAM_NONCE_MAX]; /* client nonce + server nonce */
    size_t cnonce_len, nonce_len;
    uint8_t salt[64];
    size_t salt_len;
    unsigned iterations;
};

/* Client-first: the tenant's name and its nonce (16..64 bytes). Fills the
 * challenge in st (nonce, salt, iterations). 0, or -1 if malformed. */
int scram_server_first(const struct tenants *t, const char *user, const uint8_t *cnonce, size_t n,
                       struct scram *st);
/* Client-final: the whole nonce and the proof. The tenant, with the server's
 * signature in sig, or NULL. */
const struct tenant *scram_server_final(const struct scram *st, const uint8_t *nonce, size_t n,
                                        const uint8_t *proof, size_t pn, uint8_t sig[32]);
/* The client's side (tests; the shim does the same): proof and the server
 * signature to expect. 0, or -1. */
int scram_client_final(const char *user, const char *secret, const uint8_t *cnonce, size_t cn,
                       const uint8_t *nonce, size_t n, const uint8_t *salt, size_t sn,
                       unsigned iterations, uint8_t proof[32], uint8_t server_sig[32]);

/* Reads path into t (replacing nothing: t starts empty). 0, or -1 with why
 * naming the line. */
int tenants_load(const char *path, struct tenants *t, char *why, size_t len);
void tenants_free(struct tenants *t);

/* Parses a stored verifier into t's credential fields. 0, or -1. */
int tenants_verifier(const char *v, struct tenant *t);
/* Does secret match t's verifier? (constant time in the comparison; the
 * admin credential, which travels in the request) */
int tenants_secret_ok(const struct tenant *t, const char *secret);

/* The stored form of secret with a fresh random salt. 0, or -1. */
int tenants_hash(const char *secret, unsigned iterations, char *out, size_t len);

#endif
