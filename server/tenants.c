/* tenants.c — the tenants file and its SCRAM-SHA-256 verifiers (tenants.h),
 * with OpenSSL's PBKDF2, HMAC and SHA-256, and the server's half of the SCRAM
 * exchange (the client's is client-shim/cuda/auth.c; scram_client_final here
 * is the tests' independent one). The secret never crosses the wire. */
#include "tenants.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define PREFIX "SCRAM-SHA-256$"

/* Base64 of n bytes into out (NUL-terminated); its length. */
static int b64_encode(const uint8_t *in, size_t n, char *out)
{
    return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decodes a base64 field of exactly its own length; bytes, or -1. */
static int b64_decode(const char *in, size_t n, uint8_t *out, size_t max)
{
    uint8_t buf[128];
    if (n == 0 || n % 4 || n / 4 * 3 > sizeof buf) return -1;
    int k = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
    if (k < 0) return -1;
    k -= (in[n - 1] == '=') + (in[n - 2] == '='); /* DecodeBlock counts the padding */
    if ((size_t)k > max) return -1;
    memcpy(out, buf, (size_t)k);
    return k;
}

/* SaltedPassword, then the two keys of RFC 5802. 0, or -1. */
static int scram_keys(const char *secret, const uint8_t *salt, size_t salt_len, unsigned iter,
                      uint8_t stored[32], uint8_t server[32])
{
    uint8_t salted[32], client[32];
    unsigned n = 0;
    if (!PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, (int)salt_len, (int)iter,
                           EVP_sha256(), sizeof salted, salted) ||
        !HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *)"Client Key", 10, client,
              &n) ||
        !HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *)"Server Key", 10, server,
              &n))
        return -1;
    SHA256(client, sizeof client, stored);
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client, sizeof client);
    return 0;
}

int tenants_hash(const char *secret, unsigned iterations, char *out, size_t len)
{
    uint8_t salt[16], stored[32], server[32];
    char s64[32], k64[48], v64[48];
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        scram_keys(secret, salt, sizeof salt, iterations, stored, server))
        return -1;
    b64_encode(salt, sizeof salt, s64);
    b64_encode(stored, sizeof stored, k64);
    b64_encode(server, sizeof server, v64);
    int n = snprintf(out, len, PREFIX "%u:%s$%s:%s", iterations, s64, k64, v64);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* PREFIX<iter>:<salt>$<stored>:<server> */
int tenants_verifier(const char *v, struct tenant *t)
{
    char *end;
    if (strncmp(v, PREFIX, strlen(PREFIX))) return -1;
    v += strlen(PREFIX);
    unsigned long it = strtoul(v, &end, 10);
    if (end == v || *end != ':' || it < 1000 || it > 10000000) return -1;
    t->iterations = (unsigned)it;
    const char *salt = end + 1, *dollar = strchr(salt, '$');
    const char *key = dollar ? dollar + 1 : NULL, *colon = key ? strchr(key, ':') : NULL;
    if (!colon) return -1;
    int sl = b64_decode(salt, (size_t)(dollar - salt), t->salt, sizeof t->salt);
    if (sl < 8) return -1;
    t->salt_len = (size_t)sl;
    if (b64_decode(key, (size_t)(colon - key), t->stored_key, 32) != 32 ||
        b64_decode(colon + 1, strlen(colon + 1), t->server_key, 32) != 32)
        return -1;
    return 0;
}

static int limit(const char *opt, const char *key, int *out)
{
    size_t n = strlen(key);
    if (strncmp(opt, key, n) || opt[n] != '=') return 0;
    char *end;
    long v = strtol(opt + n + 1, &end, 10);
    if (*end || v < 0 || v > 65536) return -1;
    *out = (int)v;
    return 1;
}

/* Names go into SCRAM's messages as they are: letters, digits, '.', '_', '-'. */
static int name_ok(const char *n)
{
    if (!*n || strlen(n) >= TENANT_NAME_MAX) return 0;
    for (; *n; n++)
        if (!isalnum((unsigned char)*n) && *n != '.' && *n != '_' && *n != '-') return 0;
    return 1;
}

static int parse_line(char *line, struct tenant *t)
{
    char *save = NULL, *name = strtok_r(line, " \t", &save), *cred = strtok_r(NULL, " \t", &save);
    memset(t, 0, sizeof *t);
    if (!name || !cred || !name_ok(name)) return -1;
    snprintf(t->name, sizeof t->name, "%s", name);
    if (tenants_verifier(cred, t)) return -1;
    for (char *o; (o = strtok_r(NULL, " \t", &save));) {
        int r = limit(o, "max-gpus", &t->max_gpus);
        if (!r) r = limit(o, "max-sessions", &t->max_sessions);
        if (!r && !strncmp(o, "memory-quota=", 13) && strlen(o + 13) < sizeof t->memory_quota) {
            snprintf(t->memory_quota, sizeof t->memory_quota, "%s", o + 13);
            r = 1;
        }
        if (r != 1) return -1;
    }
    return 0;
}

int tenants_load(const char *path, struct tenants *t, char *why, size_t len)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int n = 0;
    memset(t, 0, sizeof *t);
    if (!f) {
        snprintf(why, len, "cannot read the tenants file %s: %s", path, strerror(errno));
        return -1;
    }
    if (RAND_bytes(t->fake_key, sizeof t->fake_key) != 1) {
        fclose(f);
        snprintf(why, len, "no random bytes for the tenants' salts");
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        n++;
        char *hash = strchr(line, '#'), *s = line;
        if (hash) *hash = 0;
        line[strcspn(line, "\r\n")] = 0;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s) continue;
        struct tenant *v = realloc(t->v, (size_t)(t->n + 1) * sizeof *v);
        if (!v) goto fail;
        t->v = v;
        if (parse_line(s, &t->v[t->n])) {
            snprintf(
                why, len,
                "%s:%d: not NAME SCRAM-SHA-256$ITER:SALT$STOREDKEY:SERVERKEY "
                "[max-gpus=N] [max-sessions=N] [memory-quota=SIZE|N%%] (see rgpuctl hash-secret)",
                path, n);
            goto fail;
        }
        for (int i = 0; i < t->n; i++)
            if (!strcmp(t->v[i].name, t->v[t->n].name)) {
                snprintf(why, len, "%s:%d: tenant %s is named twice", path, n, t->v[i].name);
                goto fail;
            }
        t->n++;
    }
    fclose(f);
    return 0;
fail:
    fclose(f);
    tenants_free(t);
    return -1;
}

void tenants_free(struct tenants *t)
{
    if (t->v) OPENSSL_cleanse(t->v, (size_t)t->n * sizeof *t->v);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

int tenants_secret_ok(const struct tenant *t, const char *secret)
{
    uint8_t stored[32], server[32];
    if (!secret || scram_keys(secret, t->salt, t->salt_len, t->iterations, stored, server))
        return 0;
    return CRYPTO_memcmp(stored, t->stored_key, sizeof stored) == 0;
}

/* ---- SCRAM-SHA-256 exchange (RFC 5802 / 7677) --------------------------------------- */

/* AuthMessage: client-first-bare "," server-first "," client-final-without-proof. */
static int auth_message(char *out, size_t len, const char *user, const uint8_t *cnonce, size_t cn,
                        const uint8_t *nonce, size_t n, const uint8_t *salt, size_t sn,
                        unsigned iterations)
{
    char c64[96], n64[192], s64[96];
    if (cn > SCRAM_NONCE_MAX || n > 2 * SCRAM_NONCE_MAX || sn > 64) return -1;
    b64_encode(cnonce, cn, c64);
    b64_encode(nonce, n, n64);
    b64_encode(salt, sn, s64);
    int k = snprintf(out, len, "n=%s,r=%s,r=%s,s=%s,i=%u,c=biws,r=%s", user, c64, n64, s64,
                     iterations, n64);
    return k > 0 && (size_t)k < len ? k : -1;
}

static int hmac256(const uint8_t *key, size_t kn, const void *msg, size_t mn, uint8_t out[32])
{
    unsigned n = 0;
    return HMAC(EVP_sha256(), key, (int)kn, msg, mn, out, &n) ? 0 : -1;
}

int scram_server_first(const struct tenants *t, const char *user, const uint8_t *cnonce, size_t n,
                       struct scram *st)
{
    memset(st, 0, sizeof *st);
    if (!user || !name_ok(user) || n < 16 || n > SCRAM_NONCE_MAX) return -1;
    snprintf(st->user, sizeof st->user, "%s", user);
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].name, user)) st->who = &t->v[i];
    if (st->who) {
        memcpy(st->salt, st->who->salt, st->who->salt_len);
        st->salt_len = st->who->salt_len;
        st->iterations = st->who->iterations;
    } else { /* a salt that looks the same every time: the name's existence stays unknown */
        uint8_t h[32];
        if (hmac256(t->fake_key, sizeof t->fake_key, user, strlen(user), h)) return -1;
        memcpy(st->salt, h, 16);
        st->salt_len = 16;
        st->iterations = 4096;
    }
    memcpy(st->nonce, cnonce, n);
    st->cnonce_len = n;
    if (RAND_bytes(st->nonce + n, 24) != 1) return -1;
    st->nonce_len = n + 24;
    return 0;
}

const struct tenant *scram_server_final(const struct scram *st, const uint8_t *nonce, size_t n,
                                        const uint8_t *proof, size_t pn, uint8_t sig[32])
{
    char am[512];
    uint8_t csig[32], ckey[32], stored[32];
    if (!st->who || n != st->nonce_len || memcmp(nonce, st->nonce, n) || pn != 32) return NULL;
    if (auth_message(am, sizeof am, st->user, st->nonce, st->cnonce_len, st->nonce, st->nonce_len,
                     st->salt, st->salt_len, st->iterations) < 0 ||
        hmac256(st->who->stored_key, 32, am, strlen(am), csig))
        return NULL;
    for (int i = 0; i < 32; i++)
        ckey[i] = proof[i] ^ csig[i];
    SHA256(ckey, sizeof ckey, stored);
    if (CRYPTO_memcmp(stored, st->who->stored_key, 32)) return NULL;
    if (hmac256(st->who->server_key, 32, am, strlen(am), sig)) return NULL;
    return st->who;
}

int scram_client_final(const char *user, const char *secret, const uint8_t *cnonce, size_t cn,
                       const uint8_t *nonce, size_t n, const uint8_t *salt, size_t sn,
                       unsigned iterations, uint8_t proof[32], uint8_t server_sig[32])
{
    char am[512];
    uint8_t stored[32], server[32], salted[32], ckey[32], csig[32];
    if (!PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, (int)sn, (int)iterations,
                           EVP_sha256(), sizeof salted, salted) ||
        hmac256(salted, 32, "Client Key", 10, ckey) ||
        hmac256(salted, 32, "Server Key", 10, server))
        return -1;
    SHA256(ckey, sizeof ckey, stored);
    if (auth_message(am, sizeof am, user, cnonce, cn, nonce, n, salt, sn, iterations) < 0 ||
        hmac256(stored, 32, am, strlen(am), csig) ||
        hmac256(server, 32, am, strlen(am), server_sig))
        return -1;
    for (int i = 0; i < 32; i++)
        proof[i] = ckey[i] ^ csig[i];
    OPENSSL_cleanse(salted, sizeof salted);
    return 0;
}
