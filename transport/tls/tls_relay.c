/* tls_relay.c — tp_tls_relay: a tls connection's bytes to and from a plain
 * socket, for a server that serves the session in another process (rgpud's
 * worker is exec'd and cannot inherit a TLS session). Non-blocking both
 * ways with one buffer per direction, so neither side can stall the other
 * (a relay that blocks writing to one side while that side blocks writing
 * to it would deadlock). Single-threaded: the connection's lock is not taken. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "tls_conn.h"

#define RELAY_BUF 65536

struct half {
    char b[RELAY_BUF];
    size_t off, len;
};

enum { GOING = 0, ENDED, FAILED };

/* One non-blocking SSL call: bytes moved in *k, or in *want what it waits for. */
static int ssl_step(SSL *ssl, int rd, char *p, size_t n, size_t *k, short *want, tp_error *err)
{
    ERR_clear_error();
    errno = 0;
    int ok = rd ? SSL_read_ex(ssl, p, n, k) : SSL_write_ex(ssl, p, n, k);
    if (ok) return GOING;
    int e = SSL_get_error(ssl, 0);
    *k = 0;
    if (e == SSL_ERROR_WANT_READ)
        *want |= POLLIN;
    else if (e == SSL_ERROR_WANT_WRITE)
        *want |= POLLOUT;
    else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        return ENDED;
    else if (e == SSL_ERROR_SYSCALL && (errno == EPIPE || errno == ECONNRESET))
        return ENDED;
    else {
        char why[160];
        ERR_error_string_n(ERR_get_error(), why, sizeof why);
        tp_fail(err, TP_ERR, errno, "tls relay: %s",
                e == SSL_ERROR_SYSCALL ? strerror(errno) : why);
        return FAILED;
    }
    return GOING;
}

/* One non-blocking socket call: bytes moved in *k (0: it would block). */
static int sock_step(int fd, int rd, char *p, size_t n, size_t *k, tp_error *err)
{
    ssize_t r = rd ? recv(fd, p, n, MSG_DONTWAIT) : send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    *k = r > 0 ? (size_t)r : 0;
    if (r > 0) return GOING;
    if (r == 0) return rd ? ENDED : GOING;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return GOING;
    if (errno == EPIPE || errno == ECONNRESET) return ENDED;
    tp_fail(err, TP_ERR, errno, "tls relay: %s", strerror(errno));
    return FAILED;
}

tp_status tp_tls_relay(tp_conn *cp, int fd, tp_error *err)
{
    static struct half in, out; /* client to fd, fd to client (one relay per process) */
    if (!cp || strcmp(cp->tp->ops.scheme, "tls"))
        return tp_fail(err, TP_INVAL, 0, "tls relay: not a tls connection");
    struct tls_conn *c = conn_of(cp);
    int state = GOING;
    in.len = out.len = 0;
    while (state == GOING) {
        short tls_ev = 0;
        size_t k, moved = 0;
        if (!in.len) { /* client -> fd */
            state = ssl_step(c->ssl, 1, in.b, sizeof in.b, &k, &tls_ev, err);
            in.off = 0, in.len = k, moved += k;
        }
        if (state == GOING && in.len) {
            state = sock_step(fd, 0, in.b + in.off, in.len - in.off, &k, err);
            in.off += k, moved += k;
            if (in.off == in.len) in.len = 0;
        }
        if (state == GOING && !out.len) { /* fd -> client */
            state = sock_step(fd, 1, out.b, sizeof out.b, &k, err);
            out.off = 0, out.len = k, moved += k;
        }
        if (state == GOING && out.len) {
            state = ssl_step(c->ssl, 0, out.b + out.off, out.len - out.off, &k, &tls_ev, err);
            out.off += k, moved += k;
            if (out.off == out.len) out.len = 0;
        }
        if (state != GOING || moved || (!in.len && SSL_has_pending(c->ssl))) continue;
        /* nothing moved: sleep until a side can take or give what is waiting */
        struct pollfd p[2] = {{.fd = c->fd, .events = tls_ev}, {.fd = fd}};
        if (in.len)
            p[1].events |= POLLOUT;
        else
            p[0].events |= POLLIN;
        if (!out.len) p[1].events |= POLLIN;
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            tp_fail(err, TP_ERR, errno, "tls relay: poll: %s", strerror(errno));
            state = FAILED;
        }
        /* a side that hung up while we wait to write to the other one would wake
         * poll() at once for ever: its peer is gone, the session with it */
        if (((p[0].revents & (POLLHUP | POLLERR)) && !(p[0].events & POLLIN)) ||
            ((p[1].revents & (POLLHUP | POLLERR)) && !(p[1].events & POLLIN)))
            state = ENDED;
    }
    shutdown(fd, SHUT_RDWR); /* the other side sees the end */
    ERR_clear_error();
    if (c->ready) SSL_shutdown(c->ssl); /* close_notify to the client, if it can take it now */
    return state == ENDED ? TP_OK : (err ? err->status : TP_ERR);
}
