/* scram_vectors.c — the client shim's SCRAM-SHA-256 (client-shim/cuda/auth.c)
 * against RFC 7677's example exchange, against the server's own client half
 * (server/tenants.c) on rgpud's binary-nonce messages, and the shim library
 * itself: OpenSSL linked in hidden (no libcrypto.so needed, no OpenSSL symbol
 * exported to the application). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth.h"
#include "rgtest.h"
#include "tenants.h"

static int b64(const uint8_t *in, size_t n, char *out)
{
    return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* RFC 7677 section 3: user "user", password "pencil". */
RG_TEST(rfc7677_example)
{
    static const char am[] =
        "n=user,r=rOprNGfwEbeRWgbNEkqO,"
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    uint8_t salt[32], proof[32], sig[32];
    char p64[64], s64[64];
    int sn = EVP_DecodeBlock(salt, (const unsigned char *)"W22ZaJ0SNY7soEsUEjb6gQ==", 24) - 2;
    CHECK_EQ_INT(sn, 16);
    CHECK_EQ_INT(rg_scram_proof("pencil", salt, (size_t)sn, 4096, am, proof, sig), 0);
    b64(proof, 32, p64);
    b64(sig, 32, s64);
    CHECK(!strcmp(p64, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
    CHECK(!strcmp(s64, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
}

/* The AuthMessage of rgpud's exchange (binary nonces in base64) and the
 * proof agree with the server's code, for a few random exchanges. */
RG_TEST(same_proof_as_the_server)
{
    for (int round = 0; round < 4; round++) {
        uint8_t cnonce[24], nonce[48], salt[16], p1[32], s1[32], p2[32], s2[32];
        char am[512], c64[64];
        for (size_t i = 0; i < sizeof nonce; i++)
            nonce[i] = (uint8_t)random();
        for (size_t i = 0; i < sizeof salt; i++)
            salt[i] = (uint8_t)random();
        memcpy(cnonce, nonce, sizeof cnonce);
        CHECK(rg_scram_auth_message(am, sizeof am, "alice", cnonce, sizeof cnonce, nonce,
                                    sizeof nonce, salt, sizeof salt, 4096 + round) > 0);
        b64(cnonce, sizeof cnonce, c64);
        CHECK(!strncmp(am, "n=alice,r=", 10) && !strncmp(am + 10, c64, strlen(c64)));
        CHECK_EQ_INT(
            rg_scram_proof("s3cret:with:colons", salt, sizeof salt, 4096 + round, am, p1, s1), 0);
        CHECK_EQ_INT(scram_client_final("alice", "s3cret:with:colons", cnonce, sizeof cnonce, nonce,
                                        sizeof nonce, salt, sizeof salt, 4096 + round, p2, s2),
                     0);
        CHECK(!memcmp(p1, p2, 32) && !memcmp(s1, s2, 32));
    }
}

/* A token is NAME:SECRET; the secret may hold colons, the name may not be odd. */
RG_TEST(token_format)
{
    struct rg_auth a;
    Rgpu__Hello m = RGPU__HELLO__INIT;
    rpc_error e = {0};
    CHECK_EQ_INT(rg_auth_hello("", &a, &m, &e), 0);
    CHECK(!a.on && (!m.auth_user || !*m.auth_user));
    CHECK_EQ_INT(rg_auth_hello("alice:a:b", &a, &m, &e), 0);
    CHECK(a.on && !strcmp(m.auth_user, "alice") && !strcmp(a.secret, "a:b"));
    CHECK_EQ_INT((int)m.auth_nonce.len, 24);
    CHECK_EQ_INT(rg_auth_hello("no-secret", &a, &m, &e), -1);
    CHECK(strstr(e.msg, "NAME:SECRET"));
    CHECK_EQ_INT(rg_auth_hello("al,ice:x", &a, &m, &e), -1);
    CHECK_EQ_INT(rg_auth_hello("alice:", &a, &m, &e), -1);
}

/* The shim needs no libcrypto.so and shows no OpenSSL name. */
RG_TEST(shim_keeps_openssl_to_itself)
{
    const char *shim = getenv("RGPU_SHIM");
    char cmd[512], line[512];
    if (!shim) RG_SKIP("RGPU_SHIM not set");
    snprintf(cmd, sizeof cmd, "readelf -dW --dyn-syms '%s'", shim);
    FILE *f = popen(cmd, "r");
    int lines = 0, bad = 0;
    CHECK(f != NULL);
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strstr(line, "NEEDED") && (strstr(line, "libcrypto") || strstr(line, "libssl"))) bad++;
        if (strstr(line, " GLOBAL ") && !strstr(line, " UND ") &&
            (strstr(line, " EVP_") || strstr(line, " SSL_") || strstr(line, " OPENSSL_") ||
             strstr(line, " CRYPTO_") || strstr(line, " HMAC")))
            bad++;
    }
    pclose(f);
    CHECK(lines > 100);
    CHECK_EQ_INT(bad, 0);
}

RG_TEST_MAIN()
