/* tls.h — the tls:// transport: TLS 1.2+ (OpenSSL) over a tcp:// connection,
 * records handled in user space (no kernel TLS here). Unlike tcp it needs
 * settings (certificates), so it is registered by tp_tls_register, not on
 * first use. A tls connection cannot be detached (its state is not the
 * socket's): a server hands it to another process through tp_tls_relay
 * (that process adopts the relay's end as tcp). */
#ifndef RG_TP_TLS_H
#define RG_TP_TLS_H

#include "../transport.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tp_tls_config {
    /* dialing: PEM file of the CAs that may vouch for servers; NULL or "":
     * the system's. The server's name (or IP address) in the URL must match
     * its certificate. */
    const char *ca_file;
    /* listening: the server's certificate chain and private key (PEM) */
    const char *cert_file;
    const char *key_file;
};

/* Registers "tls" (first call) and sets what it dials or listens with; a
 * later call replaces the settings for connections made after it. Reads the
 * files now: TP_INVAL with err naming the file and OpenSSL's reason. */
tp_status tp_tls_register(const struct tp_tls_config *cfg, tp_error *err);

/* Moves bytes between the tls connection c and the plain stream socket fd
 * (both ways, each bounded by a 64 KiB buffer) until either side ends; then
 * ends the other. Blocks; signals interrupt nothing (EINTR is retried).
 * TP_OK on an orderly end, else why it stopped. c and fd stay the caller's. */
tp_status tp_tls_relay(tp_conn *c, int fd, tp_error *err);

#ifdef __cplusplus
}
#endif
#endif
