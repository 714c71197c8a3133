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
};

/* Reads path into t (replacing nothing: t starts empty). 0, or -1 with why
 * naming the line. */
int tenants_load(const char *path, struct tenants *t, char *why, size_t len);
void tenants_free(struct tenants *t);

/* The tenant whose name and secret a token "NAME:SECRET" gives, or NULL.
 * Every known name costs the same (one PBKDF2), an unknown one too. */
const struct tenant *tenants_check(const struct tenants *t, const char *token);

/* Parses a stored verifier into t's credential fields. 0, or -1. */
int tenants_verifier(const char *v, struct tenant *t);
/* Does secret match t's verifier? (constant time in the comparison) */
int tenants_secret_ok(const struct tenant *t, const char *secret);

/* The stored form of secret with a fresh random salt. 0, or -1. */
int tenants_hash(const char *secret, unsigned iterations, char *out, size_t len);

#endif
