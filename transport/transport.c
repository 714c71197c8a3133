/* transport.c — the transport registry, the "not supported" default ops, URL
 * parsing and the tp_* wrappers that dispatch through a connection's ops.
 * Nothing here knows about sockets beyond tp_fd_inherit and tp_wait_ready. */
#include "transport.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- errors ---------------------------------------------------------------- */

const char *tp_strerror(tp_status st)
{
    switch (st) {
    case TP_OK:
        return "success";
    case TP_TIMEOUT:
        return "timed out";
    case TP_CLOSED:
        return "connection closed by peer";
    case TP_REFUSED:
        return "connection refused";
    case TP_UNREACH:
        return "network or host unreachable";
    case TP_ADDR:
        return "bad or unresolvable address";
    case TP_INVAL:
        return "invalid argument";
    case TP_NOMEM:
        return "out of memory";
    case TP_NOTSUP:
        return "not supported by this transport";
    case TP_BROKEN:
        return "connection unusable after an interrupted transfer";
    case TP_ERR:
        return "system error";
    }
    return "unknown transport status";
}

tp_status tp_fail(tp_error *err, tp_status st, int sys, const char *fmt, ...)
{
    if (!err) return st;
    err->status = st;
    err->sys = sys;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

/* ---- default ops: every gap answers TP_NOTSUP ------------------------------- */

static tp_status nop_listen(const tp_transport *t, const tp_url *u, tp_listener **o, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: listening not supported", t->ops.scheme);
}
static tp_status nop_accept(tp_listener *l, int tmo, tp_conn **o, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: accept not supported", l->tp->ops.scheme);
}
static tp_status nop_listener_url(tp_listener *l, char *b, size_t n, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: no bound address", l->tp->ops.scheme);
}
static int nop_listener_fd(tp_listener *l)
{
    return -1;
}
static int nop_conn_fd(tp_conn *c)
{
    return -1;
}
static void nop_listener_close(tp_listener *l) {}
static tp_status nop_dial(const tp_transport *t, const tp_url *u, int tmo, tp_conn **o, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: dialing not supported", t->ops.scheme);
}
static tp_status nop_adopt(const tp_transport *t, int fd, tp_conn **o, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: cannot adopt a descriptor", t->ops.scheme);
}
static tp_status nop_sendv(tp_conn *c, const struct iovec *v, int n, int tmo, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: send not supported", c->tp->ops.scheme);
}
static tp_status nop_recv(tp_conn *c, void *b, size_t n, int tmo, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: receive not supported", c->tp->ops.scheme);
}
static tp_status nop_busy_poll(tp_conn *c, unsigned us)
{
    return TP_NOTSUP;
}
static tp_status nop_shutdown(tp_conn *c)
{
    return TP_NOTSUP;
}
static tp_status nop_detach(tp_conn *c, int *fd, tp_error *e)
{
    return tp_fail(e, TP_NOTSUP, 0, "%s: connections cannot be handed over", c->tp->ops.scheme);
}
static void nop_close(tp_conn *c) {}
static tp_status nop_read_ahead(tp_conn *c, size_t bytes)
{
    (void)c;
    (void)bytes;
    return TP_NOTSUP;
}

static size_t nop_pending(tp_conn *c)
{
    return 0;
}

static void fill_defaults(tp_ops *o)
{
#define DEFAULT(op, fn)                                                                            \
    if (!o->op) o->op = fn
    DEFAULT(listen, nop_listen);
    DEFAULT(accept, nop_accept);
    DEFAULT(listener_url, nop_listener_url);
    DEFAULT(listener_fd, nop_listener_fd);
    DEFAULT(listener_close, nop_listener_close);
    DEFAULT(dial, nop_dial);
    DEFAULT(adopt, nop_adopt);
    DEFAULT(sendv, nop_sendv);
    DEFAULT(recv, nop_recv);
    DEFAULT(set_busy_poll, nop_busy_poll);
    DEFAULT(conn_fd, nop_conn_fd);
    DEFAULT(shutdown, nop_shutdown);
    DEFAULT(detach, nop_detach);
    DEFAULT(close, nop_close);
    DEFAULT(pending, nop_pending);
    DEFAULT(set_read_ahead, nop_read_ahead);
#undef DEFAULT
}

/* ---- registry ------------------------------------------------------------- */

#define TP_MAX_TRANSPORTS 8

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static tp_transport registry[TP_MAX_TRANSPORTS];
static int nregistered;
static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;

static const tp_transport *find_locked(const char *scheme)
{
    for (int i = 0; i < nregistered; i++)
        if (strcmp(registry[i].ops.scheme, scheme) == 0) return &registry[i];
    return NULL;
}

tp_status tp_register(const tp_ops *ops)
{
    if (!ops || !ops->scheme || !*ops->scheme || strlen(ops->scheme) >= TP_SCHEME_MAX)
        return TP_INVAL;
    if ((ops->dial || ops->adopt || ops->accept) && !ops->close) return TP_INVAL;
    if (ops->listen && !ops->listener_close) return TP_INVAL;

    tp_status st = TP_OK;
    pthread_mutex_lock(&reg_lock);
    if (find_locked(ops->scheme) || nregistered == TP_MAX_TRANSPORTS) {
        st = TP_INVAL;
    } else {
        registry[nregistered].ops = *ops;
        fill_defaults(&registry[nregistered].ops);
        nregistered++;
    }
    pthread_mutex_unlock(&reg_lock);
    return st;
}

static void register_builtins(void)
{
#ifdef RG_TRANSPORT_TCP
    tp_tcp_register();
#endif
}

const tp_transport *tp_lookup(const char *scheme)
{
    pthread_once(&builtins_once, register_builtins);
    pthread_mutex_lock(&reg_lock);
    const tp_transport *t = scheme ? find_locked(scheme) : NULL;
    pthread_mutex_unlock(&reg_lock);
    return t;
}

/* ---- URLs ----------------------------------------------------------------- */

static tp_status parse_port(const char *s, const char *url, int *port, tp_error *err)
{
    long v = 0;
    if (!*s || strlen(s) > 5) goto bad;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p)) goto bad;
        v = v * 10 + (*p - '0');
    }
    if (v > 65535) goto bad;
    *port = (int)v;
    return TP_OK;
bad:
    return tp_fail(err, TP_ADDR, 0, "bad port '%s' in '%s'", s, url);
}

/* Splits "host:port" or "[v6]:port" at the right colon. */
static tp_status parse_hostport(const char *hp, const char *url, tp_url *out, tp_error *err)
{
    const char *colon, *hs = hp, *he;
    if (*hp == '[') {
        const char *close = strchr(hp, ']');
        if (!close || close[1] != ':') goto bad;
        hs = hp + 1;
        he = close;
        colon = close + 1;
    } else {
        colon = strrchr(hp, ':');
        if (!colon || memchr(hp, ':', (size_t)(colon - hp))) goto bad; /* v6 needs brackets */
        he = colon;
    }
    if ((size_t)(he - hs) >= sizeof out->host) goto bad;
    memcpy(out->host, hs, (size_t)(he - hs));
    out->host[he - hs] = '\0';
    return parse_port(colon + 1, url, &out->port, err);
bad:
    return tp_fail(err, TP_ADDR, 0, "bad address in '%s' (expected host:port or [v6]:port)", url);
}

tp_status tp_url_parse(const char *text, tp_url *out, tp_error *err)
{
    if (!text || !out) return tp_fail(err, TP_INVAL, 0, "no URL given");
    memset(out, 0, sizeof *out);
    const char *sep = strstr(text, "://");
    if (!sep || sep == text || (size_t)(sep - text) >= sizeof out->scheme)
        return tp_fail(err, TP_ADDR, 0, "bad URL '%s' (expected scheme://host:port)", text);
    memcpy(out->scheme, text, (size_t)(sep - text));
    return parse_hostport(sep + 3, text, out, err);
}

int tp_url_format(const tp_url *u, char *buf, size_t len)
{
    const char *fmt = strchr(u->host, ':') ? "%s://[%s]:%d" : "%s://%s:%d";
    return snprintf(buf, len, fmt, u->scheme, u->host, u->port);
}

/* ---- time and waiting (for implementations) ------------------------------------ */

long long tp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long tp_deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? 0 : tp_now_ns() + (long long)timeout_ms * 1000000LL;
}

int tp_ms_left(int timeout_ms, long long deadline_ns)
{
    if (timeout_ms < 0) return TP_FOREVER;
    long long left = deadline_ns - tp_now_ns();
    if (left <= 0) return 0;
    return (int)((left + 999999LL) / 1000000LL);
}

tp_status tp_wait_ready(int fd, short ev, int timeout_ms, long long deadline_ns)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, tp_ms_left(timeout_ms, deadline_ns));
        if (r > 0) return TP_OK;
        if (r == 0) return TP_TIMEOUT;
        if (errno != EINTR) return TP_ERR;
    }
}

/* ---- wrappers ----------------------------------------------------------------- */

/* A registered transport, or one loaded now from its own shared object; if
 * neither, err says why ("unknown transport" when nothing could be loaded). */
static const tp_transport *lookup_or_load(const char *scheme, const char *text, tp_error *err)
{
    tp_error why = {0};
    const tp_transport *t = tp_lookup(scheme);
    if (!t && tp_plugin_load(scheme, &why) == TP_OK) t = tp_lookup(scheme);
    if (t) return t;
    if (why.msg[0] && err) *err = why;
    else if (text) tp_fail(err, TP_ADDR, 0, "unknown transport '%s' in '%s'", scheme, text);
    else tp_fail(err, TP_ADDR, 0, "unknown transport '%s'", scheme ? scheme : "");
    return NULL;
}

static const tp_transport *transport_for(const tp_url *u, const char *text, tp_error *err)
{
    return lookup_or_load(u->scheme, text, err);
}

tp_status tp_listen(const char *url, tp_listener **out, tp_error *err)
{
    tp_url u;
    tp_status st;
    const tp_transport *t;
    if (!out) return tp_fail(err, TP_INVAL, 0, "listen: no result pointer");
    *out = NULL;
    if ((st = tp_url_parse(url, &u, err)) != TP_OK) return st;
    if (!(t = transport_for(&u, url, err))) return TP_ADDR;
    return t->ops.listen(t, &u, out, err);
}

tp_status tp_dial(const char *url, int timeout_ms, tp_conn **out, tp_error *err)
{
    tp_url u;
    tp_status st;
    const tp_transport *t;
    if (!out) return tp_fail(err, TP_INVAL, 0, "dial: no result pointer");
    *out = NULL;
    if ((st = tp_url_parse(url, &u, err)) != TP_OK) return st;
    if (!(t = transport_for(&u, url, err))) return TP_ADDR;
    if (u.port == 0) return tp_fail(err, TP_ADDR, 0, "cannot dial port 0 in '%s'", url);
    return t->ops.dial(t, &u, timeout_ms, out, err);
}

tp_status tp_adopt(const char *scheme, int fd, tp_conn **out, tp_error *err)
{
    if (!out || fd < 0) return tp_fail(err, TP_INVAL, 0, "adopt: bad descriptor %d", fd);
    *out = NULL;
    const tp_transport *t = lookup_or_load(scheme, NULL, err);
    if (!t) return TP_ADDR;
    return t->ops.adopt(t, fd, out, err);
}

tp_status tp_accept(tp_listener *l, int timeout_ms, tp_conn **out, tp_error *err)
{
    if (!l || !out) return tp_fail(err, TP_INVAL, 0, "accept: no listener");
    *out = NULL;
    return l->tp->ops.accept(l, timeout_ms, out, err);
}

tp_status tp_listener_url(tp_listener *l, char *buf, size_t len, tp_error *err)
{
    if (!l || !buf || !len) return tp_fail(err, TP_INVAL, 0, "listener_url: bad argument");
    return l->tp->ops.listener_url(l, buf, len, err);
}

int tp_listener_port(tp_listener *l)
{
    char buf[TP_SCHEME_MAX + TP_HOST_MAX + 16];
    tp_url u;
    if (tp_listener_url(l, buf, sizeof buf, NULL) != TP_OK) return -1;
    if (tp_url_parse(buf, &u, NULL) != TP_OK) return -1;
    return u.port;
}

int tp_listener_fd(tp_listener *l)
{
    return l ? l->tp->ops.listener_fd(l) : -1;
}

void tp_listener_close(tp_listener *l)
{
    if (l) l->tp->ops.listener_close(l);
}

tp_status tp_sendv(tp_conn *c, const struct iovec *iov, int iovcnt, int timeout_ms, tp_error *err)
{
    if (!c || iovcnt < 0 || iovcnt > TP_IOV_MAX || (iovcnt && !iov))
        return tp_fail(err, TP_INVAL, 0, "send: bad connection or iovec count %d", iovcnt);
    return c->tp->ops.sendv(c, iov, iovcnt, timeout_ms, err);
}

tp_status tp_send(tp_conn *c, const void *buf, size_t len, int timeout_ms, tp_error *err)
{
    struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
    return tp_sendv(c, &v, 1, timeout_ms, err);
}

tp_status tp_recv(tp_conn *c, void *buf, size_t len, int timeout_ms, tp_error *err)
{
    if (!c || (len && !buf)) return tp_fail(err, TP_INVAL, 0, "recv: bad argument");
    if (len == 0) return TP_OK;
    return c->tp->ops.recv(c, buf, len, timeout_ms, err);
}

tp_status tp_set_busy_poll(tp_conn *c, unsigned usec)
{
    return c ? c->tp->ops.set_busy_poll(c, usec) : TP_INVAL;
}

int tp_conn_fd(tp_conn *c)
{
    return c ? c->tp->ops.conn_fd(c) : -1;
}

tp_status tp_set_read_ahead(tp_conn *c, size_t bytes)
{
    return c ? c->tp->ops.set_read_ahead(c, bytes) : TP_INVAL;
}

size_t tp_pending(tp_conn *c)
{
    return c ? c->tp->ops.pending(c) : 0;
}

const char *tp_conn_peer(tp_conn *c)
{
    return c ? c->peer : "";
}

tp_status tp_shutdown(tp_conn *c)
{
    return c ? c->tp->ops.shutdown(c) : TP_INVAL;
}

void tp_close(tp_conn *c)
{
    if (c) c->tp->ops.close(c);
}

tp_status tp_detach(tp_conn *c, int *fd, tp_error *err)
{
    if (!c || !fd) return tp_fail(err, TP_INVAL, 0, "detach: bad argument");
    *fd = -1;
    return c->tp->ops.detach(c, fd, err);
}

tp_status tp_fd_inherit(int fd, int on, tp_error *err)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0) return tp_fail(err, TP_INVAL, errno, "fd %d: %s", fd, strerror(errno));
    fl = on ? (fl & ~FD_CLOEXEC) : (fl | FD_CLOEXEC);
    if (fcntl(fd, F_SETFD, fl) < 0)
        return tp_fail(err, TP_ERR, errno, "fd %d: %s", fd, strerror(errno));
    return TP_OK;
}
