/* tcp_io.c — moving bytes on an established TCP connection: whole-frame
 * scatter-gather sends, exact-length receives with a bounded busy-poll, and
 * the end of a connection (shutdown, close, detach). */
#include "tcp.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- send ---------------------------------------------------------------- */

/* Drops the first n sent bytes from the iovec window *v / *cnt. */
static void iov_advance(struct iovec **v, int *cnt, size_t n)
{
    while (*cnt > 0 && n >= (*v)->iov_len) {
        n -= (*v)->iov_len;
        (*v)++;
        (*cnt)--;
    }
    if (*cnt > 0 && n) {
        (*v)->iov_base = (char *)(*v)->iov_base + n;
        (*v)->iov_len -= n;
    }
}

static tp_status send_failed(struct tcp_conn *t, int progress, tp_status st, int sys, tp_error *err)
{
    if (progress) t->tx_broken = 1;
    if (st == TP_TIMEOUT)
        return tp_fail(err, st, 0, "send to %s: timed out%s", t->base.peer,
                       progress ? " half-way through a frame" : "");
    if (st == TP_CLOSED)
        return tp_fail(err, st, sys, "send to %s: peer closed the connection", t->base.peer);
    return tp_fail(err, st, sys, "send to %s: %s", t->base.peer, strerror(sys));
}

tp_status tcp_sendv(tp_conn *c, const struct iovec *iov, int iovcnt, int timeout_ms, tp_error *err)
{
    struct tcp_conn *t = tcp_conn_of(c);
    struct iovec win[TP_IOV_MAX], *cur = win; /* a copy of the descriptors, not the data */
    int n = 0, progress = 0;

    if (t->tx_broken)
        return tp_fail(err, TP_BROKEN, 0, "send to %s: %s", c->peer, tp_strerror(TP_BROKEN));
    for (int i = 0; i < iovcnt; i++)
        if (iov[i].iov_len) win[n++] = iov[i];

    long long deadline = tp_deadline_after(timeout_ms);
    while (n > 0) {
        struct msghdr m = {.msg_iov = cur, .msg_iovlen = (size_t)n};
        ssize_t k = sendmsg(t->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            iov_advance(&cur, &n, (size_t)k);
            progress = 1;
            deadline = tp_deadline_after(timeout_ms);
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            tp_status st = tp_wait_ready(t->fd, POLLOUT, timeout_ms, deadline);
            if (st != TP_OK) return send_failed(t, progress, st, errno, err);
        } else {
            int e = k < 0 ? errno : EIO;
            tp_status st = (e == EPIPE || e == ECONNRESET) ? TP_CLOSED : TP_ERR;
            return send_failed(t, progress, st, e, err);
        }
    }
    return TP_OK;
}

/* ---- receive ------------------------------------------------------------- */

static tp_status recv_failed(struct tcp_conn *t, size_t got, size_t len, tp_status st, int sys,
                             tp_error *err)
{
    const char *peer = t->base.peer;
    if (got) t->rx_broken = 1;
    if (st == TP_CLOSED && got) /* EOF inside a message: not an orderly end */
        return tp_fail(err, TP_ERR, 0, "receive from %s: connection closed after %zu of %zu bytes",
                       peer, got, len);
    if (st == TP_CLOSED)
        return tp_fail(err, st, 0, "receive from %s: connection closed by peer", peer);
    if (st == TP_TIMEOUT)
        return tp_fail(err, st, 0, "receive from %s: timed out after %zu of %zu bytes", peer, got,
                       len);
    return tp_fail(err, st, sys, "receive from %s: %s", peer, strerror(sys));
}

tp_status tcp_recv(tp_conn *c, void *buf, size_t len, int timeout_ms, tp_error *err)
{
    struct tcp_conn *t = tcp_conn_of(c);
    char *p = buf;
    size_t got = 0;
    long long busy_until = -1; /* set at the first EAGAIN: one budget per call */

    if (t->rx_broken)
        return tp_fail(err, TP_BROKEN, 0, "receive from %s: %s", c->peer, tp_strerror(TP_BROKEN));
    long long deadline = tp_deadline_after(timeout_ms);
    while (got < len) {
        if (t->ra_off < t->ra_len) { /* read ahead earlier */
            size_t n = t->ra_len - t->ra_off < len - got ? t->ra_len - t->ra_off : len - got;
            memcpy(p + got, t->ra + t->ra_off, n);
            t->ra_off += n;
            got += n;
            continue;
        }
        int ahead = t->ra && len - got < t->ra_cap / 2; /* large reads go in place */
        ssize_t k = ahead ? recv(t->fd, t->ra, t->ra_cap, MSG_DONTWAIT)
                          : recv(t->fd, p + got, len - got, MSG_DONTWAIT);
        if (k > 0) {
            if (ahead)
                t->ra_off = 0, t->ra_len = (size_t)k;
            else
                got += (size_t)k;
            deadline = tp_deadline_after(timeout_ms);
            continue;
        }
        if (k == 0) return recv_failed(t, got, len, TP_CLOSED, 0, err);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return recv_failed(t, got, len, TP_ERR, errno, err);
        if (busy_until < 0)
            busy_until = (t->busy_us && timeout_ms != 0) ? tp_now_ns() + t->busy_us * 1000LL : 0;
        if (busy_until && tp_now_ns() < busy_until) {
            /* give way to a thread woken on this CPU (the one that will
             * answer, on few cores): spinning must not delay it */
            sched_yield();
            continue;
        }
        tp_status st = tp_wait_ready(t->fd, POLLIN, timeout_ms, deadline);
        if (st != TP_OK) return recv_failed(t, got, len, st, errno, err);
    }
    return TP_OK;
}

tp_status tcp_set_busy_poll(tp_conn *c, unsigned usec)
{
    if (usec > 1000000u) return TP_INVAL; /* a second of spinning is a bug, not a setting */
    tcp_conn_of(c)->busy_us = usec;
    return TP_OK;
}

tp_status tcp_set_read_ahead(tp_conn *c, size_t bytes)
{
    struct tcp_conn *t = tcp_conn_of(c);
    if (bytes > (64u << 20)) return TP_INVAL;
    if (t->ra_off < t->ra_len && bytes < t->ra_len - t->ra_off) return TP_INVAL; /* would lose bytes */
    char *b = NULL;
    if (bytes && !(b = malloc(bytes))) return TP_NOMEM;
    size_t n = t->ra_len - t->ra_off;
    if (n) memcpy(b, t->ra + t->ra_off, n);
    free(t->ra);
    t->ra = b;
    t->ra_cap = bytes;
    t->ra_off = 0;
    t->ra_len = n;
    return TP_OK;
}

size_t tcp_pending(tp_conn *c)
{
    struct tcp_conn *t = tcp_conn_of(c);
    return t->ra_len - t->ra_off;
}

/* ---- end of a connection -------------------------------------------------- */

int tcp_conn_fd(tp_conn *c)
{
    return tcp_conn_of(c)->fd;
}

tp_status tcp_shutdown(tp_conn *c)
{
    if (shutdown(tcp_conn_of(c)->fd, SHUT_RDWR) < 0 && errno != ENOTCONN) return TP_ERR;
    return TP_OK;
}

void tcp_close(tp_conn *c)
{
    struct tcp_conn *t = tcp_conn_of(c);
    if (t->fd >= 0) close(t->fd);
    free(t->ra);
    free(t);
}

tp_status tcp_detach(tp_conn *c, int *fd, tp_error *err)
{
    struct tcp_conn *t = tcp_conn_of(c);
    if (t->ra_off < t->ra_len) /* the socket alone would not have them */
        return tp_fail(err, TP_ERR, 0, "detach from %s: %zu bytes already read ahead", c->peer,
                       t->ra_len - t->ra_off);
    *fd = t->fd; /* without read-ahead bytes the socket is the whole state */
    t->fd = -1;
    free(t->ra);
    free(t);
    return TP_OK;
}
