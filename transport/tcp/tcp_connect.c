/* tcp_connect.c — setting TCP connections up: listen/accept, dial with a
 * timeout and readable errors, adopting an inherited socket. Every socket is
 * non-blocking, close-on-exec, TCP_NODELAY and keep-alive. */
#include "tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Dead peers are found by rpc heartbeats (RGPU_TIMEOUT); keep-alive only keeps
 * idle sessions alive through NAT and middleboxes and reaps half-open ones. */
#define TCP_KA_IDLE_S 15
#define TCP_KA_INTVL_S 5
#define TCP_KA_COUNT 4
#define TCP_BACKLOG 128

/* ---- helpers --------------------------------------------------------------- */

/* "127.0.0.1:7070" or "[::1]:7070". */
static void addr_name(const struct sockaddr *sa, socklen_t len, char *buf, size_t n)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, n, "?");
        return;
    }
    snprintf(buf, n, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* host:port as the user wrote it, for messages. */
static void url_name(const tp_url *u, char *buf, size_t n)
{
    snprintf(buf, n, strchr(u->host, ':') ? "[%s]:%d" : "%s:%d", u->host, u->port);
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    int fd_fl = fcntl(fd, F_GETFD);
    if (fd_fl < 0 || fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) < 0) return -1;
    return 0;
}

/* Best effort: a socket that refuses a tuning option still works. */
static void tune_socket(int fd)
{
    int one = 1, idle = TCP_KA_IDLE_S, intvl = TCP_KA_INTVL_S, cnt = TCP_KA_COUNT;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* Wraps a connected socket. On failure fd is left open for the caller. */
static tp_status conn_new(const tp_transport *t, int fd, tp_conn **out, tp_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (set_flags(fd) < 0) return tp_fail(err, TP_ERR, errno, "fd %d: %s", fd, strerror(errno));
    tune_socket(fd);

    struct tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return tp_fail(err, TP_NOMEM, ENOMEM, "out of memory for a connection");
    c->base.tp = t;
    c->fd = fd;
    c->busy_us = TP_BUSY_POLL_DEFAULT_US;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        addr_name((struct sockaddr *)&ss, len, c->base.peer, sizeof c->base.peer);
    else
        snprintf(c->base.peer, sizeof c->base.peer, "?");
    *out = &c->base;
    return TP_OK;
}

static tp_status resolve(const tp_url *u, int passive, struct addrinfo **res, tp_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
    char port[8];
    snprintf(port, sizeof port, "%d", u->port);
    int rc = getaddrinfo(u->host[0] ? u->host : NULL, port, &hints, res);
    if (rc == 0) return TP_OK;
    *res = NULL;
    return tp_fail(err, TP_ADDR, rc == EAI_SYSTEM ? errno : 0, "cannot resolve '%s': %s", u->host,
                   gai_strerror(rc));
}

/* ---- listening --------------------------------------------------------------- */

static int listen_one(const struct addrinfo *a, int *sys)
{
    int one = 1;
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, TCP_BACKLOG) < 0) goto fail;
    return fd;
fail:
    *sys = errno;
    if (fd >= 0) close(fd);
    return -1;
}

tp_status tcp_listen(const tp_transport *t, const tp_url *url, tp_listener **out, tp_error *err)
{
    struct addrinfo *ai = NULL;
    struct tcp_listener *l = NULL;
    char where[TP_PEER_MAX];
    int fd = -1, sys = 0;
    tp_status st;

    url_name(url, where, sizeof where);
    if ((st = resolve(url, 1, &ai, err)) != TP_OK) goto fail;
    for (const struct addrinfo *a = ai; a && fd < 0; a = a->ai_next)
        fd = listen_one(a, &sys);
    if (fd < 0) {
        st = tp_fail(err, TP_ERR, sys, "cannot listen on %s: %s", where, strerror(sys));
        goto fail;
    }
    if (!(l = calloc(1, sizeof *l))) {
        st = tp_fail(err, TP_NOMEM, ENOMEM, "out of memory for a listener");
        goto fail;
    }
    l->base.tp = t;
    l->fd = fd;
    *out = &l->base;
    freeaddrinfo(ai);
    return TP_OK;
fail:
    if (fd >= 0) close(fd);
    if (ai) freeaddrinfo(ai);
    return st;
}

tp_status tcp_accept(tp_listener *lp, int timeout_ms, tp_conn **out, tp_error *err)
{
    struct tcp_listener *l = tcp_listener_of(lp);
    long long deadline = tp_deadline_after(timeout_ms);
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            tp_status st = conn_new(lp->tp, fd, out, err);
            if (st != TP_OK) close(fd);
            return st;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return tp_fail(err, TP_ERR, errno, "accept: %s", strerror(errno));
        tp_status st = tp_wait_ready(l->fd, POLLIN, timeout_ms, deadline);
        if (st == TP_TIMEOUT) return tp_fail(err, st, 0, "accept: nobody connected in time");
        if (st != TP_OK) return tp_fail(err, st, errno, "accept: %s", strerror(errno));
    }
}

tp_status tcp_listener_url(tp_listener *lp, char *buf, size_t len, tp_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char name[TP_PEER_MAX];
    if (getsockname(tcp_listener_of(lp)->fd, (struct sockaddr *)&ss, &sl) < 0)
        return tp_fail(err, TP_ERR, errno, "getsockname: %s", strerror(errno));
    addr_name((struct sockaddr *)&ss, sl, name, sizeof name);
    if ((size_t)snprintf(buf, len, "tcp://%s", name) >= len)
        return tp_fail(err, TP_INVAL, 0, "buffer too small for the listener's URL");
    return TP_OK;
}

int tcp_listener_fd(tp_listener *lp)
{
    return tcp_listener_of(lp)->fd;
}

void tcp_listener_close(tp_listener *lp)
{
    struct tcp_listener *l = tcp_listener_of(lp);
    close(l->fd);
    free(l);
}

/* ---- dialing -------------------------------------------------------------- */

/* One address: a non-blocking connect finished by poll(). Returns the fd or -1
 * with *sys = errno (ETIMEDOUT when the deadline passed). */
static int connect_one(const struct addrinfo *a, int timeout_ms, long long deadline, int *sys)
{
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) goto fail;
    while (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
        if (errno == EINTR) continue;
        if (errno != EINPROGRESS) goto fail;
        tp_status st = tp_wait_ready(fd, POLLOUT, timeout_ms, deadline);
        if (st == TP_TIMEOUT) errno = ETIMEDOUT;
        if (st != TP_OK) goto fail;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) goto fail;
        if (soerr) {
            errno = soerr;
            goto fail;
        }
        break;
    }
    return fd;
fail:
    *sys = errno;
    if (fd >= 0) close(fd);
    return -1;
}

static tp_status dial_failed(const tp_url *u, int sys, tp_error *err)
{
    char where[TP_PEER_MAX];
    url_name(u, where, sizeof where);
    switch (sys) {
    case ECONNREFUSED:
        return tp_fail(err, TP_REFUSED, sys, "connection refused to %s", where);
    case ETIMEDOUT:
        return tp_fail(err, TP_TIMEOUT, sys, "connection timed out to %s", where);
    case ENETUNREACH:
        return tp_fail(err, TP_UNREACH, sys, "network unreachable to %s", where);
    case EHOSTUNREACH:
        return tp_fail(err, TP_UNREACH, sys, "host unreachable: %s", where);
    default:
        return tp_fail(err, TP_ERR, sys, "cannot connect to %s: %s", where, strerror(sys));
    }
}

tp_status tcp_dial(const tp_transport *t, const tp_url *url, int timeout_ms, tp_conn **out,
                   tp_error *err)
{
    struct addrinfo *ai = NULL;
    int fd = -1, sys = ECONNREFUSED;
    tp_status st;

    if ((st = resolve(url, 0, &ai, err)) != TP_OK) return st;
    long long deadline = tp_deadline_after(timeout_ms); /* one budget for all addresses */
    for (const struct addrinfo *a = ai; a && fd < 0; a = a->ai_next)
        fd = connect_one(a, timeout_ms, deadline, &sys);
    freeaddrinfo(ai);
    if (fd < 0) return dial_failed(url, sys, err);
    if ((st = conn_new(t, fd, out, err)) != TP_OK) close(fd);
    return st;
}

/* ---- adopting an inherited socket ---------------------------------------------- */

tp_status tcp_adopt(const tp_transport *t, int fd, tp_conn **out, tp_error *err)
{
    int type = 0;
    socklen_t tl = sizeof type;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
        return tp_fail(err, TP_INVAL, errno, "fd %d is not a stream socket", fd);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return tp_fail(err, TP_INVAL, errno, "fd %d is not a TCP socket", fd);
    sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
        return tp_fail(err, TP_INVAL, errno, "fd %d is not connected", fd);
    return conn_new(t, fd, out, err);
}
