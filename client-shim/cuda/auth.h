/* auth.h — who the shim and rgpud are to each other (docs/pool.md "Tenants",
 * "TLS"): the shim's half of SCRAM-SHA-256 over the handshake (RGPU_TOKEN /
 * RGPU_TOKEN_FILE hold NAME:SECRET; the secret never leaves the process, and
 * a server that cannot prove it knows the tenant's verifier is refused), and
 * the server's certificate for tls:// (RGPU_TLS_CA). OpenSSL is linked in
 * statically and hidden (CMakeLists.txt). */
#ifndef RG_SHIM_AUTH_H
#define RG_SHIM_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define RG_AUTH_NAME_MAX 32 /* as the server's TENANT_NAME_MAX */

struct rg_auth {
    int on; /* a token was given: the exchange runs */
    char user[RG_AUTH_NAME_MAX];
    const char *secret; /* inside the caller's token; not copied */
    uint8_t cnonce[24];
};

/* Client-first: splits token ("" = none: a->on = 0) into name and secret and
 * sets m's auth_user / auth_nonce (pointing into a). 0, or -1 with err saying
 * what is wrong with the token. */
int rg_auth_hello(const char *token, struct rg_auth *a, Rgpu__Hello *m, rpc_error *err);

/* After the HELLO went out: reads the challenge, sends the proof, checks the
 * server's signature. RPC_OK when the server proved it knows the verifier
 * (the worker's WELCOME comes next); RPC_E_REFUSED with the server's reason,
 * or with ours (a bad signature, a server that does not authenticate). */
rpc_status rg_auth_exchange(tp_conn *c, const struct rg_auth *a, int timeout_ms, rpc_error *err);

/* RFC 5802's AuthMessage with the nonces and salt in base64 (as rgpud builds
 * it). Its length, or -1 if it does not fit in len. */
int rg_scram_auth_message(char *out, size_t len, const char *user, const uint8_t *cnonce, size_t cn,
                          const uint8_t *nonce, size_t n, const uint8_t *salt, size_t sn,
                          unsigned iterations);
/* ClientProof and the ServerSignature to expect for an AuthMessage. 0, or -1. */
int rg_scram_proof(const char *secret, const uint8_t *salt, size_t sn, unsigned iterations,
                   const char *auth_message, uint8_t proof[32], uint8_t server_sig[32]);

/* For a tls:// url: registers the transport with the CAs of RGPU_TLS_CA (a
 * PEM file; unset: the system's). 0 (also for other schemes), or -1 with why. */
int rg_auth_tls(const char *url, char *why, size_t len);

#endif
