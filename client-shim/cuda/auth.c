/* auth.c — SCRAM-SHA-256 (RFC 5802 / 7677), the client's half, over the
 * handshake's HELLO/WELCOME frames as rgpud speaks it (server/supervisor.c,
 * docs/pool.md): client-first names the tenant with a random nonce, the
 * server's challenge brings its nonce, the salt and the iteration count, the
 * client answers with its proof and checks the server's signature. */
#include "auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "tls.h"

/* The static libcrypto of the shim reads no openssl.cnf and registers no
 * atexit handler in the application. */
static int crypto_init(void)
{
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1
               ? 0
               : -1;
}

static int name_ok(const char *n, size_t len)
{
    if (len == 0 || len >= RG_AUTH_NAME_MAX) return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)n[i]) && n[i] != '.' && n[i] != '_' && n[i] != '-') return 0;
    return 1;
}

int rg_auth_hello(const char *token, struct rg_auth *a, Rgpu__Hello *m, rpc_error *err)
{
    memset(a, 0, sizeof *a);
    if (!token || !*token) return 0;
    const char *colon = strchr(token, ':');
    if (!colon || !colon[1] || !name_ok(token, (size_t)(colon - token))) {
        rpc_fail(err, RPC_E_INVAL,
                 "RGPU_TOKEN (or RGPU_TOKEN_FILE) is not NAME:SECRET with a tenant name of "
                 "letters, digits, '.', '_', '-'");
        return -1;
    }
    if (getrandom(a->cnonce, sizeof a->cnonce, 0) != (ssize_t)sizeof a->cnonce) {
        rpc_fail(err, RPC_E_INVAL, "no random bytes for the SCRAM nonce");
        return -1;
    }
    memcpy(a->user, token, (size_t)(colon - token));
    a->secret = colon + 1;
    a->on = 1;
    m->auth_user = a->user;
    m->auth_nonce = (ProtobufCBinaryData){sizeof a->cnonce, (uint8_t *)a->cnonce};
    return 0;
}

int rg_scram_auth_message(char *out, size_t len, const char *user, const uint8_t *cnonce, size_t cn,
                          const uint8_t *nonce, size_t n, const uint8_t *salt, size_t sn,
                          unsigned iterations)
{
    char c64[128], n64[192], s64[96];
    if (cn > 64 || n > 128 || sn > 64) return -1;
    EVP_EncodeBlock((unsigned char *)c64, cnonce, (int)cn);
    EVP_EncodeBlock((unsigned char *)n64, nonce, (int)n);
    EVP_EncodeBlock((unsigned char *)s64, salt, (int)sn);
    int k = snprintf(out, len, "n=%s,r=%s,r=%s,s=%s,i=%u,c=biws,r=%s", user, c64, n64, s64,
                     iterations, n64);
    return k > 0 && (size_t)k < len ? k : -1;
}

static int hmac256(const uint8_t *key, size_t kn, const void *msg, size_t mn, uint8_t out[32])
{
    unsigned n = 0;
    return HMAC(EVP_sha256(), key, (int)kn, msg, mn, out, &n) && n == 32 ? 0 : -1;
}

int rg_scram_proof(const char *secret, const uint8_t *salt, size_t sn, unsigned iterations,
                   const char *auth_message, uint8_t proof[32], uint8_t server_sig[32])
{
    uint8_t salted[32], ckey[32], skey[32], stored[32], csig[32];
    int rc = -1;
    size_t an = strlen(auth_message);
    if (crypto_init() ||
        !PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, (int)sn, (int)iterations,
                           EVP_sha256(), sizeof salted, salted) ||
        hmac256(salted, sizeof salted, "Client Key", 10, ckey) ||
        hmac256(salted, sizeof salted, "Server Key", 10, skey) || !SHA256(ckey, 32, stored) ||
        hmac256(stored, 32, auth_message, an, csig) ||
        hmac256(skey, 32, auth_message, an, server_sig))
        goto out;
    for (int i = 0; i < 32; i++)
        proof[i] = ckey[i] ^ csig[i];
    rc = 0;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(ckey, sizeof ckey);
    OPENSSL_cleanse(skey, sizeof skey);
    return rc;
}

static rpc_status recv_welcome(tp_conn *c, int timeout_ms, Rgpu__Welcome **w, rpc_error *err)
{
    rpc_hdr h;
    return rpc_recv_msg(c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0,
                        timeout_ms, &h, (ProtobufCMessage **)w, err);
}

/* A WELCOME that is neither the step we wait for nor acceptable. */
static rpc_status refused(const Rgpu__Welcome *w, rpc_error *err)
{
    if (w->accepted) /* the server let us in without checking anything */
        return rpc_fail(err, RPC_E_REFUSED,
                        "the server did not authenticate this client (no tenants file?) while "
                        "RGPU_TOKEN is set: it cannot prove it is the server the token is for");
    return rpc_welcome_check(w, err);
}

/* The challenge's sanity: our nonce extended, a salt, a bounded work factor
 * (a hostile server must not make us spin). */
static int challenge_ok(const struct rg_auth *a, const Rgpu__Welcome *w)
{
    return w->auth_nonce.len > sizeof a->cnonce && w->auth_nonce.len <= 128 &&
           !memcmp(w->auth_nonce.data, a->cnonce, sizeof a->cnonce) && w->auth_salt.len >= 8 &&
           w->auth_salt.len <= 64 && w->auth_iterations >= 1000 && w->auth_iterations <= 10000000;
}

rpc_status rg_auth_exchange(tp_conn *c, const struct rg_auth *a, int timeout_ms, rpc_error *err)
{
    Rgpu__Welcome *w = NULL;
    uint8_t proof[32], want[32];
    char am[512];
    rpc_status st = recv_welcome(c, timeout_ms, &w, err);
    if (st != RPC_OK) return st;
    if (!w->auth_nonce.len || w->accepted) {
        st = refused(w, err);
        goto out;
    }
    if (!challenge_ok(a, w) ||
        rg_scram_auth_message(am, sizeof am, a->user, a->cnonce, sizeof a->cnonce,
                              w->auth_nonce.data, w->auth_nonce.len, w->auth_salt.data,
                              w->auth_salt.len, w->auth_iterations) < 0 ||
        rg_scram_proof(a->secret, w->auth_salt.data, w->auth_salt.len, w->auth_iterations, am,
                       proof, want)) {
        st = rpc_fail(err, RPC_E_REFUSED, "malformed SCRAM-SHA-256 challenge from the server");
        goto out;
    }
    Rgpu__Hello f = RGPU__HELLO__INIT;
    f.protocol_version = RPC_PROTO_VERSION;
    f.auth_nonce = w->auth_nonce;
    f.auth_proof = (ProtobufCBinaryData){sizeof proof, proof};
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    st = rpc_send_msg(c, RPC_FROM_CLIENT, &h, &f.base, timeout_ms, err);
    rgpu__welcome__free_unpacked(w, NULL);
    w = NULL;
    if (st != RPC_OK || (st = recv_welcome(c, timeout_ms, &w, err)) != RPC_OK) goto out;
    if (!w->auth_signature.len || w->accepted) {
        st = refused(w, err);
    } else if (w->auth_signature.len != 32 || CRYPTO_memcmp(w->auth_signature.data, want, 32)) {
        st = rpc_fail(err, RPC_E_REFUSED,
                      "the server's SCRAM-SHA-256 signature is wrong: it does not know tenant "
                      "%s's verifier (not the server the token is for?)",
                      a->user);
    }
out:
    if (w) rgpu__welcome__free_unpacked(w, NULL);
    OPENSSL_cleanse(proof, sizeof proof);
    return st;
}

int rg_auth_tls(const char *url, char *why, size_t len)
{
    struct tp_tls_config cfg = {.ca_file = getenv("RGPU_TLS_CA")};
    tp_error te = {0};
    if (strncmp(url, "tls://", 6)) return 0;
    if (tp_tls_register(&cfg, &te) == TP_OK) return 0;
    snprintf(why, len, "%s", te.msg);
    return -1;
}
