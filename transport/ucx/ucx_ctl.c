/* ucx_ctl.c — setting ucx:// connections up over their TCP control
 * connection: listen/accept/dial wrap the tcp transport's; before the upgrade
 * the byte stream travels in DATA records (so rgpud's handshake child can read
 * the HELLO and hand the socket to a worker like tcp's); the worker's adopt
 * makes the OFFER (its UCP address), the client's receive answers it. */
#include "ucx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- objects ---------------------------------------------------------------------- */

/* A connection around ctl (taken over on success only). */
static tp_status conn_new(const tp_transport *t, tp_conn *ctl, struct ucx_conn **out, tp_error *err)
{
    struct ucx_conn *u = calloc(1, sizeof *u);
    if (!u) return tp_fail(err, TP_NOMEM, ENOMEM, "ucx: out of memory");
    u->base.tp = t;
    snprintf(u->base.peer, sizeof u->base.peer, "%s", tp_conn_peer(ctl));
    u->epfd = epoll_create1(EPOLL_CLOEXEC);
    u->rxfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    u->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    u->efd = -1;
    u->busy_us = TP_BUSY_POLL_DEFAULT_US;
    pthread_mutex_init(&u->mu, NULL);
    pthread_mutex_init(&u->ctl_tx, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->cv, &ca);
    pthread_cond_init(&u->park_cv, &ca);
    pthread_condattr_destroy(&ca);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = tp_conn_fd(ctl)};
    if (u->epfd < 0 || u->rxfd < 0 || u->wakefd < 0 ||
        epoll_ctl(u->epfd, EPOLL_CTL_ADD, tp_conn_fd(ctl), &ev) < 0) {
        int e = errno;
        if (u->epfd >= 0) close(u->epfd);
        if (u->rxfd >= 0) close(u->rxfd);
        if (u->wakefd >= 0) close(u->wakefd);
        free(u);
        return tp_fail(err, TP_ERR, e, "ucx: %s", strerror(e));
    }
    u->ctl = ctl;
    *out = u;
    return TP_OK;
}

/* Frees u but not its control connection (handed back to the caller). */
static tp_conn *conn_release(struct ucx_conn *u)
{
    tp_conn *ctl = u->ctl;
    u->ctl = NULL;
    ucx_ucp_close(u);
    close(u->epfd);
    close(u->rxfd);
    close(u->wakefd);
    pthread_mutex_destroy(&u->mu);
    pthread_mutex_destroy(&u->ctl_tx);
    pthread_cond_destroy(&u->cv);
    pthread_cond_destroy(&u->park_cv);
    free(u);
    return ctl;
}

static void ctl_url(const tp_url *url, char *buf, size_t len)
{
    tp_url t = *url;
    snprintf(t.scheme, sizeof t.scheme, "tcp");
    tp_url_format(&t, buf, len);
}

/* ---- listening ------------------------------------------------------------------------ */

tp_status ucx_listen(const tp_transport *t, const tp_url *url, tp_listener **out, tp_error *err)
{
    char tcp[TP_HOST_MAX + 32];
    struct ucx_listener *l = calloc(1, sizeof *l);
    if (!l) return tp_fail(err, TP_NOMEM, ENOMEM, "ucx: out of memory");
    ctl_url(url, tcp, sizeof tcp);
    tp_status st = tp_listen(tcp, &l->tcp, err);
    if (st != TP_OK) {
        free(l);
        return st;
    }
    l->base.tp = t;
    *out = &l->base;
    return TP_OK;
}

tp_status ucx_accept(tp_listener *l, int timeout_ms, tp_conn **out, tp_error *err)
{
    tp_conn *ctl = NULL;
    struct ucx_conn *u;
    tp_status st = tp_accept(ucx_listener_of(l)->tcp, timeout_ms, &ctl, err);
    if (st != TP_OK) return st;
    if ((st = conn_new(l->tp, ctl, &u, err)) != TP_OK) {
        tp_close(ctl);
        return st;
    }
    *out = &u->base;
    return TP_OK;
}

tp_status ucx_listener_url(tp_listener *l, char *buf, size_t len, tp_error *err)
{
    char tcp[TP_HOST_MAX + 32];
    tp_url u;
    tp_status st = tp_listener_url(ucx_listener_of(l)->tcp, tcp, sizeof tcp, err);
    if (st == TP_OK) st = tp_url_parse(tcp, &u, err);
    if (st != TP_OK) return st;
    snprintf(u.scheme, sizeof u.scheme, "ucx");
    if ((size_t)tp_url_format(&u, buf, len) >= len)
        return tp_fail(err, TP_INVAL, 0, "ucx: listener URL does not fit");
    return TP_OK;
}

int ucx_listener_fd(tp_listener *l)
{
    return tp_listener_fd(ucx_listener_of(l)->tcp);
}

void ucx_listener_close(tp_listener *l)
{
    tp_listener_close(ucx_listener_of(l)->tcp);
    free(ucx_listener_of(l));
}

/* ---- records ----------------------------------------------------------------------- */

void ucx_rec_header(uint8_t *h, int type, uint32_t len)
{
    h[0] = 'R';
    h[1] = 'X';
    h[2] = (uint8_t)type;
    h[3] = 0;
    for (int i = 0; i < 4; i++)
        h[4 + i] = (uint8_t)(len >> (8 * i));
}

static tp_status rec_send(struct ucx_conn *u, int type, const void *p, uint32_t len, int timeout_ms,
                          tp_error *err)
{
    uint8_t h[UCX_REC_HDR];
    ucx_rec_header(h, type, len);
    struct iovec v[2] = {{h, sizeof h}, {(void *)p, len}};
    return tp_sendv(u->ctl, v, len ? 2 : 1, timeout_ms, err);
}

/* Reads one record header: its type and length. */
static tp_status rec_head(struct ucx_conn *u, int *type, uint32_t *len, int timeout_ms,
                          tp_error *err)
{
    uint8_t h[UCX_REC_HDR];
    tp_status st = tp_recv(u->ctl, h, sizeof h, timeout_ms, err);
    if (st != TP_OK) return st;
    if (h[0] != 'R' || h[1] != 'X' || h[3] != 0) {
        u->rx_broken = 1;
        return tp_fail(err, TP_ERR, EPROTO,
                       "ucx: %s does not speak ucx:// (a tcp:// peer, or a scheme mismatch)",
                       u->base.peer);
    }
    *type = h[2];
    *len = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
    return TP_OK;
}

/* The payload of a set-up record (at most UCX_ADDR_MAX bytes), malloc'ed. */
static tp_status rec_body(struct ucx_conn *u, uint32_t len, char **out, int timeout_ms,
                          tp_error *err)
{
    if (len > UCX_ADDR_MAX) return tp_fail(err, TP_ERR, EPROTO, "ucx: oversized set-up record");
    char *b = malloc(len + 1);
    if (!b) return tp_fail(err, TP_NOMEM, ENOMEM, "ucx: out of memory");
    tp_status st = tp_recv(u->ctl, b, len, timeout_ms, err);
    if (st != TP_OK) {
        free(b);
        return st;
    }
    b[len] = 0;
    *out = b;
    return TP_OK;
}

/* ---- before the upgrade ------------------------------------------------------------- */

tp_status ucx_pre_sendv(struct ucx_conn *u, const struct iovec *iov, int iovcnt, int timeout_ms,
                        tp_error *err)
{
    uint8_t h[UCX_REC_HDR];
    struct iovec v[TP_IOV_MAX];
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (total > UINT32_MAX)
        return tp_fail(err, TP_INVAL, 0, "ucx: frame too large before the upgrade");
    if (total == 0) return TP_OK;
    ucx_rec_header(h, UCX_REC_DATA, (uint32_t)total);
    if (iovcnt < TP_IOV_MAX) { /* header and frame in one sendmsg */
        v[0] = (struct iovec){h, sizeof h};
        memcpy(v + 1, iov, (size_t)iovcnt * sizeof *iov);
        return tp_sendv(u->ctl, v, iovcnt + 1, timeout_ms, err);
    }
    tp_status st = tp_sendv(u->ctl, (struct iovec[]){{h, sizeof h}}, 1, timeout_ms, err);
    return st == TP_OK ? tp_sendv(u->ctl, iov, iovcnt, timeout_ms, err) : st;
}

static tp_status client_upgrade(struct ucx_conn *u, uint32_t len, int timeout_ms, tp_error *err);

tp_status ucx_pre_recv(struct ucx_conn *u, void *buf, size_t len, int timeout_ms, tp_error *err)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        if (u->upgraded) return ucx_recv(&u->base, p + got, len - got, timeout_ms, err);
        if (u->rec_left) {
            size_t k = len - got < u->rec_left ? len - got : u->rec_left;
            tp_status st = tp_recv(u->ctl, p + got, k, timeout_ms, err);
            if (st != TP_OK) {
                if (got || st == TP_BROKEN) u->rx_broken = 1;
                return st == TP_CLOSED && got
                           ? tp_fail(err, TP_ERR, 0,
                                     "receive from %s: connection closed after %zu of %zu bytes",
                                     u->base.peer, got, len)
                           : st;
            }
            u->rec_left -= (uint32_t)k;
            got += k;
            continue;
        }
        int type;
        uint32_t rl;
        tp_status st = rec_head(u, &type, &rl, timeout_ms, err);
        if (st == TP_OK && type == UCX_REC_DATA) {
            u->rec_left = rl;
        } else if (st == TP_OK && type == UCX_REC_OFFER) {
            st = client_upgrade(u, rl, timeout_ms, err);
        } else if (st == TP_OK) {
            char *why = NULL;
            if (type == UCX_REC_REFUSE && rec_body(u, rl, &why, timeout_ms, NULL) == TP_OK) {
                st = tp_fail(err, TP_ERR, 0, "ucx: %s could not set up UCP: %s", u->base.peer, why);
            } else {
                st = tp_fail(err, TP_ERR, EPROTO, "ucx: unexpected record '%c' from %s", type,
                             u->base.peer);
            }
            free(why);
        }
        if (st != TP_OK) {
            if (got || st != TP_TIMEOUT) u->rx_broken = st != TP_CLOSED || got;
            if (st == TP_CLOSED && got)
                return tp_fail(err, TP_ERR, 0,
                               "receive from %s: connection closed after %zu of %zu bytes",
                               u->base.peer, got, len);
            return st;
        }
    }
    return TP_OK;
}

/* The client's half of the upgrade, inside a receive that met the OFFER: an
 * endpoint to the worker's address, our address in the ANSWER, then UCP. */
static tp_status client_upgrade(struct ucx_conn *u, uint32_t len, int timeout_ms, tp_error *err)
{
    char *addr = NULL;
    void *mine = NULL;
    size_t mlen = 0;
    tp_error e = {0};
    tp_status st = rec_body(u, len, &addr, timeout_ms, err);
    if (st != TP_OK) return st;
    if ((st = ucx_ucp_connect(u, addr, len, &e)) != TP_OK ||
        (st = ucx_ucp_address(u, &mine, &mlen, &e)) != TP_OK) {
        rec_send(u, UCX_REC_REFUSE, e.msg, (uint32_t)strlen(e.msg), 2000, NULL);
        free(addr);
        if (err) *err = e;
        return st;
    }
    free(addr);
    pthread_mutex_lock(&u->ctl_tx); /* no DATA record after the ANSWER */
    st = rec_send(u, UCX_REC_ANSWER, mine, (uint32_t)mlen, timeout_ms, err);
    if (st == TP_OK) st = ucx_ucp_start(u, err);
    pthread_mutex_unlock(&u->ctl_tx);
    ucx_ucp_address_free(u, mine);
    return st;
}

/* ---- dial, adopt, detach -------------------------------------------------------- */

tp_status ucx_dial(const tp_transport *t, const tp_url *url, int timeout_ms, tp_conn **out,
                   tp_error *err)
{
    char tcp[TP_HOST_MAX + 32];
    tp_conn *ctl = NULL;
    struct ucx_conn *u = NULL;
    ctl_url(url, tcp, sizeof tcp);
    tp_status st = tp_dial(tcp, timeout_ms, &ctl, err);
    if (st != TP_OK) return st;
    if ((st = conn_new(t, ctl, &u, err)) != TP_OK) {
        tp_close(ctl);
        return st;
    }
    /* UCP comes up now: a UCX that cannot work here fails the dial, not a call */
    if ((st = ucx_ucp_open(u, err)) != TP_OK) {
        tp_close(conn_release(u));
        return st;
    }
    *out = &u->base;
    return TP_OK;
}

/* The server's half: OFFER our address, wait for the ANSWER (DATA records
 * sent before it are kept for the first receives), connect, start. */
static tp_status server_upgrade(struct ucx_conn *u, tp_error *err)
{
    void *mine = NULL;
    size_t mlen = 0;
    tp_status st = ucx_ucp_address(u, &mine, &mlen, err);
    if (st != TP_OK) return st;
    st = rec_send(u, UCX_REC_OFFER, mine, (uint32_t)mlen, UCX_UPGRADE_TIMEOUT_MS, err);
    ucx_ucp_address_free(u, mine);
    while (st == TP_OK) {
        int type;
        uint32_t len;
        char *body = NULL;
        if ((st = rec_head(u, &type, &len, UCX_UPGRADE_TIMEOUT_MS, err)) != TP_OK) break;
        if (type == UCX_REC_DATA) {
            struct ucx_msg *m = calloc(1, sizeof *m);
            char *b = malloc(len ? len : 1);
            if (!m || !b || tp_recv(u->ctl, b, len, UCX_UPGRADE_TIMEOUT_MS, err) != TP_OK) {
                free(m);
                free(b);
                st = tp_fail(err, TP_ERR, 0, "ucx: lost a frame sent during the upgrade");
                break;
            }
            *m = (struct ucx_msg){.pre = 1, .buf = b, .blen = len};
            ucx_queue_insert(u, m);
            continue;
        }
        if ((st = rec_body(u, len, &body, UCX_UPGRADE_TIMEOUT_MS, err)) != TP_OK) break;
        if (type == UCX_REC_ANSWER) {
            st = ucx_ucp_connect(u, body, len, err);
            if (st == TP_OK) st = ucx_ucp_start(u, err);
            free(body);
            break;
        }
        st = tp_fail(err, TP_ERR, EPROTO, "ucx: %s could not set up UCP: %s", u->base.peer,
                     type == UCX_REC_REFUSE ? body : "unexpected record");
        free(body);
    }
    return st;
}

tp_status ucx_adopt(const tp_transport *t, int fd, tp_conn **out, tp_error *err)
{
    tp_conn *ctl = NULL;
    struct ucx_conn *u = NULL;
    tp_status st = tp_adopt("tcp", fd, &ctl, err);
    if (st != TP_OK) return st;
    if ((st = conn_new(t, ctl, &u, err)) != TP_OK) goto give_back;
    if ((st = ucx_ucp_open(u, err)) != TP_OK || (st = server_upgrade(u, err)) != TP_OK) {
        ctl = conn_release(u);
        goto give_back;
    }
    *out = &u->base;
    return TP_OK;
give_back : /* on failure the caller still owns fd */
{
    int back = -1;
    tp_detach(ctl, &back, NULL);
}
    return st;
}

tp_status ucx_detach(tp_conn *c, int *fd, tp_error *err)
{
    struct ucx_conn *u = ucx_conn_of(c);
    if (u->upgraded || u->ctx)
        return tp_fail(err, TP_NOTSUP, 0, "ucx: a connection cannot be handed over once UCP is up");
    if (u->rec_left)
        return tp_fail(err, TP_BROKEN, 0, "ucx: cannot hand over %s in the middle of a record",
                       c->peer);
    tp_status st = tp_detach(conn_release(u), fd, err);
    return st;
}
