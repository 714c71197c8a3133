/* tls.c — the tls:// transport (tls.h). A tls connection is a tcp:// one
 * underneath (dial, listen, accept, shutdown go through it) with an OpenSSL
 * session over its non-blocking socket. One sender and one receiver may run
 * at once, as on tcp: every OpenSSL call on the session holds the
 * connection's lock, never while sleeping in poll(). The client finishes the
 * handshake in tp_dial (certificate and name checked); a server's accepted
 * connection finishes it on its first send or receive, in the process that
 * serves it (the supervisor's accept never waits for a client). */
#include "tls_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tls_listener {
    tp_listener base;
    tp_listener *tcp;
};

static pthread_mutex_t cfg_mu = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *client_ctx, *server_ctx; /* tp_tls_register's */
static BIO_METHOD *sock_method;
static int registered;

/* ---- the socket under OpenSSL ---------------------------------------------------
 * A BIO of our own rather than OpenSSL's socket BIO: writes use MSG_NOSIGNAL,
 * so a vanished peer never raises SIGPIPE in the application. */

static int bio_write(BIO *b, const char *buf, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t k = send((int)(intptr_t)BIO_get_data(b), buf, (size_t)n, MSG_NOSIGNAL);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)k;
}

static int bio_read(BIO *b, char *buf, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t k = recv((int)(intptr_t)BIO_get_data(b), buf, (size_t)n, 0);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
    return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- errors ------------------------------------------------------------------- */

/* OpenSSL's reason for the last failure of this thread, or "". */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_get_error(), next;
    while ((next = ERR_get_error())) /* the last is the most specific */
        e = next;
    buf[0] = 0;
    if (e) ERR_error_string_n(e, buf, len);
    return buf;
}

static tp_status tls_failed(struct tls_conn *c, int *broken, int progress, int sslerr, int sys,
                            tp_error *err)
{
    char why[160];
    if (progress) *broken = 1;
    if (sslerr == SSL_ERROR_ZERO_RETURN || (sslerr == SSL_ERROR_SYSCALL && sys == 0))
        return progress ? tp_fail(err, TP_ERR, 0, "tls: %s ended the stream inside a message",
                                  c->base.peer)
                        : tp_fail(err, TP_CLOSED, 0, "tls: connection closed by %s", c->base.peer);
    if (sslerr == SSL_ERROR_SYSCALL)
        return tp_fail(err, TP_ERR, sys, "tls: %s: %s", c->base.peer, strerror(sys));
    return tp_fail(err, TP_ERR, 0, "tls: %s: %s", c->base.peer, ssl_reason(why, sizeof why));
}

/* ---- waiting -------------------------------------------------------------------- */

/* Sleeps until fd is ready for what OpenSSL wants (sslerr) or the deadline. */
static tp_status wait_for(int fd, int sslerr, int timeout_ms, long long deadline)
{
    return tp_wait_ready(fd, sslerr == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, timeout_ms,
                         deadline);
}

/* ---- the handshake ---------------------------------------------------------------- */

static tp_status handshake_failed(struct tls_conn *c, int sslerr, int sys, tp_error *err)
{
    char why[160];
    long v = SSL_get_verify_result(c->ssl);
    if (!c->server && v != X509_V_OK)
        return tp_fail(err, TP_ERR, 0,
                       "tls: the certificate of %s (%s) was not accepted: %s (the CAs: "
                       "RGPU_TLS_CA)",
                       c->host, c->base.peer, X509_verify_cert_error_string(v));
    if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN)
        return tp_fail(err, sys ? TP_ERR : TP_CLOSED, sys,
                       "tls: %s ended the connection during the TLS handshake%s%s", c->base.peer,
                       sys ? ": " : "", sys ? strerror(sys) : "");
    return tp_fail(err, TP_ERR, 0, "tls: handshake with %s failed: %s", c->base.peer,
                   ssl_reason(why, sizeof why));
}

static tp_status handshake(struct tls_conn *c, int timeout_ms, tp_error *err)
{
    long long deadline = tp_deadline_after(timeout_ms);
    for (;;) {
        pthread_mutex_lock(&c->mu);
        ERR_clear_error();
        errno = 0;
        int r = c->ready ? 1 : c->server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
        int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r), sys = errno;
        if (r == 1) c->ready = 1;
        tp_status st = TP_OK;
        if (r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            st = handshake_failed(c, e, sys, err);
        pthread_mutex_unlock(&c->mu);
        if (r == 1 || st != TP_OK) return st;
        st = wait_for(c->fd, e, timeout_ms, deadline);
        if (st == TP_TIMEOUT)
            return tp_fail(err, TP_TIMEOUT, 0, "tls: no TLS handshake from %s within %d ms",
                           c->base.peer, timeout_ms);
        if (st != TP_OK) return tp_fail(err, st, errno, "tls: poll: %s", strerror(errno));
    }
}

/* ---- moving bytes ------------------------------------------------------------------ */

static tp_status write_all(struct tls_conn *c, const char *p, size_t n, int timeout_ms,
                           size_t *done, tp_error *err)
{
    long long deadline = tp_deadline_after(timeout_ms);
    while (n) {
        size_t k = 0;
        pthread_mutex_lock(&c->mu);
        ERR_clear_error();
        errno = 0;
        int ok = SSL_write_ex(c->ssl, p, n, &k);
        int e = ok ? SSL_ERROR_NONE : SSL_get_error(c->ssl, 0), sys = errno;
        tp_status st = TP_OK;
        if (!ok && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            st = tls_failed(c, &c->tx_broken, 1, e, sys, err);
        pthread_mutex_unlock(&c->mu);
        if (st != TP_OK) return st;
        if (ok) {
            p += k, n -= k, *done += k;
            deadline = tp_deadline_after(timeout_ms); /* silence counts, not the whole transfer */
            continue;
        }
        st = wait_for(c->fd, e, timeout_ms, deadline);
        if (st != TP_OK) {
            if (*done) c->tx_broken = 1;
            return st == TP_TIMEOUT ? tp_fail(err, st, 0, "tls: send to %s timed out", c->base.peer)
                                    : tp_fail(err, st, errno, "tls: poll: %s", strerror(errno));
        }
    }
    return TP_OK;
}

/* Small pieces (frame headers, encoded calls) go out in one record together;
 * bulk data is handed to OpenSSL as it is. */
#define STAGE 16384
static tp_status tls_sendv(tp_conn *cp, const struct iovec *iov, int iovcnt, int timeout_ms,
                           tp_error *err)
{
    struct tls_conn *c = conn_of(cp);
    char stage[STAGE];
    size_t staged = 0, done = 0;
    tp_status st;
    if (c->tx_broken)
        return tp_fail(err, TP_BROKEN, 0, "tls: an earlier send to %s broke off", cp->peer);
    if (!c->ready && (st = handshake(c, timeout_ms, err)) != TP_OK) return st;
    for (int i = 0; i < iovcnt; i++) {
        const char *p = iov[i].iov_base;
        size_t n = iov[i].iov_len;
        if (n <= STAGE - staged && n < STAGE / 4) {
            memcpy(stage + staged, p, n);
            staged += n;
            continue;
        }
        if (staged && (st = write_all(c, stage, staged, timeout_ms, &done, err)) != TP_OK)
            return st;
        staged = 0;
        if ((st = write_all(c, p, n, timeout_ms, &done, err)) != TP_OK) return st;
    }
    return staged ? write_all(c, stage, staged, timeout_ms, &done, err) : TP_OK;
}

static tp_status tls_recv(tp_conn *cp, void *buf, size_t len, int timeout_ms, tp_error *err)
{
    struct tls_conn *c = conn_of(cp);
    size_t got = 0;
    tp_status st;
    if (c->rx_broken)
        return tp_fail(err, TP_BROKEN, 0, "tls: an earlier receive from %s broke off", cp->peer);
    if (!c->ready && (st = handshake(c, timeout_ms, err)) != TP_OK) return st;
    long long deadline = tp_deadline_after(timeout_ms);
    while (got < len) {
        size_t k = 0;
        pthread_mutex_lock(&c->mu);
        ERR_clear_error();
        errno = 0;
        int ok = SSL_read_ex(c->ssl, (char *)buf + got, len - got, &k);
        int e = ok ? SSL_ERROR_NONE : SSL_get_error(c->ssl, 0), sys = errno;
        st = TP_OK;
        if (!ok && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            st = tls_failed(c, &c->rx_broken, got > 0, e, sys, err);
        pthread_mutex_unlock(&c->mu);
        if (st != TP_OK) return st;
        if (ok) {
            got += k;
            deadline = tp_deadline_after(timeout_ms);
            continue;
        }
        st = wait_for(c->fd, e, timeout_ms, deadline);
        if (st != TP_OK) {
            if (got) c->rx_broken = 1;
            return st == TP_TIMEOUT ? tp_fail(err, st, 0, "tls: nothing from %s within %d ms",
                                              cp->peer, timeout_ms)
                                    : tp_fail(err, st, errno, "tls: poll: %s", strerror(errno));
        }
    }
    return TP_OK;
}

static size_t tls_pending(tp_conn *cp)
{
    struct tls_conn *c = conn_of(cp);
    pthread_mutex_lock(&c->mu);
    size_t n = c->ready && SSL_has_pending(c->ssl) ? 1 : 0;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static int tls_conn_fd(tp_conn *cp)
{
    return conn_of(cp)->fd;
}

static tp_status tls_shutdown(tp_conn *cp)
{
    return tp_shutdown(conn_of(cp)->tcp);
}

static void tls_close(tp_conn *cp)
{
    struct tls_conn *c = conn_of(cp);
    if (c->ssl) {
        if (c->ready && !c->tx_broken) SSL_shutdown(c->ssl); /* close_notify, if it fits now */
        SSL_free(c->ssl);
    }
    tp_close(c->tcp);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- setting up ------------------------------------------------------------------ */

static tp_status conn_wrap(const tp_transport *t, tp_conn *tcp, int server, const char *host,
                           tp_conn **out, tp_error *err)
{
    struct tls_conn *c = calloc(1, sizeof *c);
    BIO *b = NULL;
    pthread_mutex_lock(&cfg_mu);
    SSL_CTX *ctx = server ? server_ctx : client_ctx;
    if (c && ctx) c->ssl = SSL_new(ctx);
    pthread_mutex_unlock(&cfg_mu);
    if (!c || !c->ssl || !(b = BIO_new(sock_method))) goto fail;
    c->base.tp = t;
    snprintf(c->base.peer, sizeof c->base.peer, "%s", tp_conn_peer(tcp));
    c->tcp = tcp;
    c->fd = tp_conn_fd(tcp);
    c->server = server;
    pthread_mutex_init(&c->mu, NULL);
    BIO_set_data(b, (void *)(intptr_t)c->fd);
    SSL_set_bio(c->ssl, b, b);
    if (!server) {
        unsigned char ip[16];
        snprintf(c->host, sizeof c->host, "%s", host);
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        int literal = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
        if (literal ? !X509_VERIFY_PARAM_set1_ip_asc(vp, host)
                    : !SSL_set1_host(c->ssl, host) || !SSL_set_tlsext_host_name(c->ssl, host)) {
            SSL_free(c->ssl);
            free(c);
            return tp_fail(err, TP_ADDR, 0, "tls: cannot check certificates for '%s'", host);
        }
    }
    *out = &c->base;
    return TP_OK;
fail:
    if (c && c->ssl) SSL_free(c->ssl);
    free(c);
    return tp_fail(err, TP_NOMEM, 0, "tls: no %s settings or no memory for a connection",
                   server ? "listening" : "dialing");
}

static void tcp_url(const tp_url *u, char *buf, size_t len)
{
    tp_url t = *u;
    snprintf(t.scheme, sizeof t.scheme, "tcp");
    tp_url_format(&t, buf, len);
}

static tp_status tls_dial(const tp_transport *t, const tp_url *url, int timeout_ms, tp_conn **out,
                          tp_error *err)
{
    char u[TP_HOST_MAX + 32];
    tp_conn *tcp = NULL, *c = NULL;
    tcp_url(url, u, sizeof u);
    tp_status st = tp_dial(u, timeout_ms, &tcp, err);
    if (st != TP_OK) return st;
    if ((st = conn_wrap(t, tcp, 0, url->host, &c, err)) != TP_OK) {
        tp_close(tcp);
        return st;
    }
    if ((st = handshake(conn_of(c), timeout_ms, err)) != TP_OK) {
        tls_close(c);
        return st;
    }
    *out = c;
    return TP_OK;
}

static tp_status tls_listen(const tp_transport *t, const tp_url *url, tp_listener **out,
                            tp_error *err)
{
    char u[TP_HOST_MAX + 32];
    if (!server_ctx)
        return tp_fail(err, TP_INVAL, 0, "tls: listening needs a certificate and a key");
    struct tls_listener *l = calloc(1, sizeof *l);
    if (!l) return tp_fail(err, TP_NOMEM, ENOMEM, "tls: out of memory for a listener");
    tcp_url(url, u, sizeof u);
    tp_status st = tp_listen(u, &l->tcp, err);
    if (st != TP_OK) {
        free(l);
        return st;
    }
    l->base.tp = t;
    *out = &l->base;
    return TP_OK;
}

static struct tls_listener *listener_of(tp_listener *l)
{
    return tp_container_of(l, struct tls_listener, base);
}

static tp_status tls_accept(tp_listener *lp, int timeout_ms, tp_conn **out, tp_error *err)
{
    tp_conn *tcp = NULL;
    tp_status st = tp_accept(listener_of(lp)->tcp, timeout_ms, &tcp, err);
    if (st != TP_OK) return st;
    if ((st = conn_wrap(lp->tp, tcp, 1, NULL, out, err)) != TP_OK) tp_close(tcp);
    return st;
}

static tp_status tls_listener_url(tp_listener *lp, char *buf, size_t len, tp_error *err)
{
    tp_url u;
    tp_status st = tp_listener_url(listener_of(lp)->tcp, buf, len, err);
    if (st == TP_OK && (st = tp_url_parse(buf, &u, err)) == TP_OK) {
        snprintf(u.scheme, sizeof u.scheme, "tls");
        tp_url_format(&u, buf, len);
    }
    return st;
}

static int tls_listener_fd(tp_listener *lp)
{
    return tp_listener_fd(listener_of(lp)->tcp);
}

static void tls_listener_close(tp_listener *lp)
{
    tp_listener_close(listener_of(lp)->tcp);
    free(listener_of(lp));
}

static const tp_ops tls_ops = {
    .scheme = "tls",
    .listen = tls_listen,
    .accept = tls_accept,
    .listener_url = tls_listener_url,
    .listener_fd = tls_listener_fd,
    .listener_close = tls_listener_close,
    .dial = tls_dial,
    .sendv = tls_sendv,
    .recv = tls_recv,
    .pending = tls_pending,
    .conn_fd = tls_conn_fd,
    .shutdown = tls_shutdown,
    .close = tls_close,
};

/* ---- settings ------------------------------------------------------------------- */

static SSL_CTX *new_ctx(int server, const struct tp_tls_config *cfg, tp_error *err)
{
    char why[160];
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* a lost peer is a closed stream: our frames carry their own lengths */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server) {
        SSL_CTX_set_num_tickets(ctx, 0); /* nothing written behind a reader's back */
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
            tp_fail(err, TP_INVAL, 0, "tls: certificate %s: %s", cfg->cert_file,
                    ssl_reason(why, sizeof why));
            goto out;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            tp_fail(err, TP_INVAL, 0, "tls: private key %s: %s", cfg->key_file,
                    ssl_reason(why, sizeof why));
            goto out;
        }
        return ctx;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = cfg->ca_file && *cfg->ca_file ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
                                           : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        tp_fail(err, TP_INVAL, 0, "tls: CA file %s: %s",
                cfg->ca_file && *cfg->ca_file ? cfg->ca_file : "(the system's)",
                ssl_reason(why, sizeof why));
        goto out;
    }
    return ctx;
fail:
    tp_fail(err, TP_NOMEM, 0, "tls: %s", ssl_reason(why, sizeof why));
out:
    SSL_CTX_free(ctx);
    return NULL;
}

tp_status tp_tls_register(const struct tp_tls_config *cfg, tp_error *err)
{
    /* a library in someone else's process: no openssl.cnf, no atexit handler */
    if (OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
        return tp_fail(err, TP_ERR, 0, "tls: OpenSSL did not initialise");
    int listening = cfg->cert_file && *cfg->cert_file;
    if (listening != (cfg->key_file && *cfg->key_file))
        return tp_fail(err, TP_INVAL, 0,
                       "tls: a certificate needs its key and a key its certificate");
    SSL_CTX *cli = new_ctx(0, cfg, err), *srv = NULL;
    if (!cli || (listening && !(srv = new_ctx(1, cfg, err)))) {
        SSL_CTX_free(cli);
        return err ? err->status : TP_INVAL;
    }
    tp_status st = TP_OK;
    pthread_mutex_lock(&cfg_mu);
    if (!sock_method) {
        sock_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rgpu socket");
        if (sock_method) {
            BIO_meth_set_write(sock_method, bio_write);
            BIO_meth_set_read(sock_method, bio_read);
            BIO_meth_set_ctrl(sock_method, bio_ctrl);
            BIO_meth_set_create(sock_method, bio_create);
        }
    }
    if (!sock_method) st = tp_fail(err, TP_NOMEM, 0, "tls: no memory for the socket BIO");
    if (st == TP_OK && !registered) {
        st = tp_register(&tls_ops);
        registered = st == TP_OK;
        if (st != TP_OK) tp_fail(err, st, 0, "tls: the scheme is taken");
    }
    if (st == TP_OK) { /* connections made before keep their own reference */
        SSL_CTX_free(client_ctx);
        SSL_CTX_free(server_ctx);
        client_ctx = cli;
        server_ctx = srv;
    } else {
        SSL_CTX_free(cli);
        SSL_CTX_free(srv);
    }
    pthread_mutex_unlock(&cfg_mu);
    return st;
}
