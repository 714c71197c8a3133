/* ucx_io.c — frames over UCP once the connection is upgraded: one active
 * message per tp_sendv (its first bytes in the message header, the rest as
 * data UCP sends eagerly or by rendezvous, straight from the caller's iovecs,
 * always eagerly up to UCX_EAGER_MAX; one data buffer as contiguous data, which
 * UCP can move by zero copy), and exact-length receives over the queue of
 * arrived messages, fetching rendezvous data straight into the caller's buffer
 * when it asks for all of it. */
#include "ucx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the receive queue (mu held) ------------------------------------------------- */

void ucx_queue_insert(struct ucx_conn *u, struct ucx_msg *m)
{
    struct ucx_msg **p = &u->q;
    if (m->pre) {
        while (*p && (*p)->pre)
            p = &(*p)->next;
    } else {
        while (*p && ((*p)->pre || (*p)->seq < m->seq))
            p = &(*p)->next;
    }
    m->next = *p;
    *p = m;
}

int ucx_head_ready(struct ucx_conn *u)
{
    return u->q && (u->q->pre || u->q->seq == u->rx_seq);
}

void ucx_msg_free(struct ucx_conn *u, struct ucx_msg *m)
{
    if (m->desc && u->worker) ucp_am_data_release(u->worker, m->desc);
    free(m->buf);
    free(m->stage);
    free(m);
}

static void pop_head(struct ucx_conn *u)
{
    struct ucx_msg *m = u->q;
    u->q = m->next;
    if (!m->pre) u->rx_seq++;
    if (m->fin) u->fin_seen = 1;
    ucx_msg_free(u, m);
}

/* ---- completions ------------------------------------------------------------------- */

struct op {
    struct ucx_conn *u;
    int done;
    ucs_status_t st;
};

static void on_send_done(void *req, ucs_status_t st, void *arg)
{
    struct op *o = arg;
    o->st = st;
    o->done = 1;
    pthread_cond_broadcast(&o->u->cv);
}

static void note_leak(struct ucx_conn *u)
{
    u->tx_broken = u->rx_broken = 1;
    if (!u->why[0])
        snprintf(u->why, sizeof u->why, "a transfer did not end after its endpoint closed");
}

static void on_recv_done(void *req, ucs_status_t st, size_t len, void *arg)
{
    on_send_done(req, st, arg);
}

/* mu held: waits for req (NULL: done at once) until the deadline; on a timeout
 * or the peer's end the endpoint is closed and the request cancelled, so that
 * no buffer of the caller stays in UCP's hands. o (malloc'ed) is freed here,
 * unless UCP never lets go of the request (a peer gone mid-transfer): then it
 * stays with the request. *ust: UCP's status of the operation. */
static tp_status finish(struct ucx_conn *u, void *req, struct op *o, long long deadline,
                        unsigned busy_us, ucs_status_t *ust)
{
    tp_status st = TP_OK;
    *ust = UCS_OK;
    if (req == NULL) goto out;
    if (UCS_PTR_IS_ERR(req)) {
        *ust = UCS_PTR_STATUS(req);
        st = TP_ERR;
        goto out;
    }
    st = ucx_wait(u, &o->done, deadline, busy_us);
    if (!o->done) {
        if (u->ep && !u->ep_failed) {
            ucp_request_param_t p = {.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
                                     .flags = UCP_EP_CLOSE_FLAG_FORCE};
            void *cr = ucp_ep_close_nbx(u->ep, &p); /* fails what is outstanding on it */
            u->ep = NULL;
            u->ep_failed = 1;
            ucx_wait_request(u, cr);
        }
        ucp_request_cancel(u->worker, req);
        long long until = tp_now_ns() + 2000000000LL;
        while (!o->done && tp_now_ns() < until)
            ucp_worker_progress(u->worker);
        if (st == TP_OK) st = TP_CLOSED;
        if (!o->done) {
            note_leak(u);
            return st; /* o and req stay UCP's */
        }
    }
    *ust = o->st;
    ucp_request_free(req);
    if (st == TP_OK && o->st != UCS_OK) st = TP_ERR;
out:
    free(o);
    return st;
}

static struct op *op_new(struct ucx_conn *u)
{
    struct op *o = calloc(1, sizeof *o);
    if (o) o->u = u;
    return o;
}

static long long deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? 0 : tp_now_ns() + (long long)timeout_ms * 1000000LL + 1;
}

/* ---- send ------------------------------------------------------------------------------ */

/* How UCP is given n data pieces: a single one as contiguous bytes, which UCP
 * can move by zero-copy rendezvous (RDMA; cross-memory attach between
 * processes on one host), where an iov of one entry would go through its
 * bounce buffers; more as an iov. Sets p's datatype; returns buffer and count. */
static void *ucp_data(const ucp_dt_iov_t *v, int n, ucp_request_param_t *p, size_t *count)
{
    p->datatype = n > 1 ? ucp_dt_make_iov() : ucp_dt_make_contig(1);
    *count = n > 1 ? (size_t)n : n ? v[0].length : 0;
    return n > 1 ? (void *)v : n ? v[0].buffer : NULL;
}

/* One active message: hdr, then iov's bytes (the first inline_max in the header). */
static tp_status send_am(struct ucx_conn *u, uint32_t flags, const struct iovec *iov, int iovcnt,
                         int timeout_ms, ucs_status_t *ust)
{
    struct op *o = op_new(u);
    *ust = UCS_ERR_NO_MEMORY;
    if (!o) return TP_NOMEM;
    char head[sizeof(struct ucx_am_hdr) + 4096];
    ucp_dt_iov_t rest[TP_IOV_MAX];
    struct ucx_am_hdr h = {.flags = flags};
    size_t hl = 0;
    int n = 0;
    for (int i = 0; i < iovcnt; i++) {
        const char *b = iov[i].iov_base;
        size_t l = iov[i].iov_len, take = 0;
        if (n == 0 && hl < u->inline_max) {
            take = l < u->inline_max - hl ? l : u->inline_max - hl;
            memcpy(head + sizeof h + hl, b, take);
            hl += take;
        }
        if (l > take) rest[n++] = (ucp_dt_iov_t){.buffer = (void *)(b + take), .length = l - take};
    }
    h.inline_len = (uint32_t)hl;
    h.seq = u->tx_seq++;
    memcpy(head, &h, sizeof h);
    ucp_request_param_t p = {.op_attr_mask =
                                 UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
                                 UCP_OP_ATTR_FIELD_DATATYPE | UCP_OP_ATTR_FIELD_MEMORY_TYPE,
                             .cb.send = on_send_done,
                             .user_data = o,
                             .memory_type = UCS_MEMORY_TYPE_HOST}; /* head lives until done */
    size_t count, total = 0;
    const void *data = ucp_data(rest, n, &p, &count);
    for (int i = 0; i < n; i++) total += rest[i].length;
    /* A small frame's send completes once it is copied out, rather than when
     * the peer gets round to fetching it by rendezvous: a pipelined call's
     * sender (an asynchronous copy from pageable memory) goes on at once. */
    if (total <= UCX_EAGER_MAX) {
        p.op_attr_mask |= UCP_OP_ATTR_FIELD_FLAGS;
        p.flags = UCP_AM_SEND_FLAG_EAGER;
    }
    void *req = ucp_am_send_nbx(u->ep, UCX_AM_ID, head, sizeof h + hl, data, count, &p);
    return finish(u, req, o, deadline_after(timeout_ms), 0, ust);
}

tp_status ucx_sendv(tp_conn *c, const struct iovec *iov, int iovcnt, int timeout_ms, tp_error *err)
{
    struct ucx_conn *u = ucx_conn_of(c);
    if (!u->upgraded) {
        pthread_mutex_lock(&u->ctl_tx);
        if (!u->upgraded) {
            tp_status st = ucx_pre_sendv(u, iov, iovcnt, timeout_ms, err);
            pthread_mutex_unlock(&u->ctl_tx);
            return st;
        }
        pthread_mutex_unlock(&u->ctl_tx);
    }
    if (u->tx_broken)
        return tp_fail(err, TP_BROKEN, 0, "send to %s: %s", c->peer, tp_strerror(TP_BROKEN));
    pthread_mutex_lock(&u->mu);
    ucs_status_t ust = UCS_OK;
    tp_status st;
    if (u->shut || u->peer_gone || u->ep_failed || u->fin_seen || u->ctl_eof || !u->ep)
        st = TP_CLOSED; /* the peer ended the connection: nobody would read it */
    else
        st = send_am(u, 0, iov, iovcnt, timeout_ms, &ust);
    pthread_mutex_unlock(&u->mu);
    if (st == TP_OK) return TP_OK;
    u->tx_broken = 1;
    if (st == TP_TIMEOUT) return tp_fail(err, st, 0, "send to %s: timed out", c->peer);
    if (st == TP_CLOSED)
        return tp_fail(err, st, 0, "send to %s: peer closed the connection", c->peer);
    if (st == TP_NOMEM) return tp_fail(err, st, ENOMEM, "send to %s: out of memory", c->peer);
    return tp_fail(err, st, 0, "send to %s: %s", c->peer, ucs_status_string(ust));
}

/* ---- receive ------------------------------------------------------------------------- */

/* mu held: brings the head's rendezvous data here: into dst when want covers
 * all of it, else want bytes into dst and the rest into m->stage. */
static tp_status fetch(struct ucx_conn *u, struct ucx_msg *m, char *dst, size_t want,
                       size_t *into_dst, int timeout_ms)
{
    ucp_dt_iov_t v[2];
    int n = 0;
    size_t direct = want < m->dlen ? want : m->dlen;
    if (direct) v[n++] = (ucp_dt_iov_t){.buffer = dst, .length = direct};
    if (direct < m->dlen) {
        if (!(m->stage = malloc(m->dlen - direct))) return TP_NOMEM;
        v[n++] = (ucp_dt_iov_t){.buffer = m->stage, .length = m->dlen - direct};
    }
    struct op *o = op_new(u);
    if (!o) return TP_NOMEM;
    ucp_request_param_t p = {.op_attr_mask =
                                 UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA |
                                 UCP_OP_ATTR_FIELD_DATATYPE | UCP_OP_ATTR_FIELD_MEMORY_TYPE,
                             .cb.recv_am = on_recv_done,
                             .user_data = o,
                             .memory_type = UCS_MEMORY_TYPE_HOST};
    size_t count;
    void *data = ucp_data(v, n, &p, &count);
    void *desc = m->desc;
    m->desc = NULL; /* UCP owns it from here, whatever happens */
    void *req = ucp_am_recv_data_nbx(u->worker, desc, data, count, &p);
    ucs_status_t ust;
    tp_status st = finish(u, req, o, deadline_after(timeout_ms), u->busy_us, &ust);
    if (st != TP_OK) return st;
    *into_dst = direct;
    m->doff = direct; /* what is left is in stage, from stage[0] */
    return TP_OK;
}

/* mu held: copies or fetches from the head message into p; how many bytes moved. */
static tp_status take(struct ucx_conn *u, char *p, size_t want, size_t *moved, int timeout_ms)
{
    struct ucx_msg *m = u->q;
    *moved = 0;
    if (m->boff < m->blen) {
        size_t k = m->blen - m->boff < want ? m->blen - m->boff : want;
        memcpy(p, m->buf + m->boff, k);
        m->boff += k;
        *moved = k;
    } else if (m->desc) {
        tp_status st = fetch(u, m, p, want, moved, timeout_ms);
        if (st != TP_OK) return st;
    } else if (m->doff < m->dlen) { /* the staged rest of a fetched message */
        size_t k = m->dlen - m->doff < want ? m->dlen - m->doff : want;
        memcpy(p, m->stage + m->soff, k);
        m->soff += k;
        m->doff += k;
        *moved = k;
    }
    if (m->boff == m->blen && !m->desc && m->doff == m->dlen) pop_head(u);
    return TP_OK;
}

/* mu held: the head message is partly read. */
static int started_head(struct ucx_conn *u)
{
    const struct ucx_msg *m = u->q;
    return ucx_head_ready(u) && (m->boff || m->doff);
}

static tp_status recv_failed(struct ucx_conn *u, size_t got, size_t len, tp_status st,
                             tp_error *err)
{
    const char *peer = u->base.peer;
    if (got) u->rx_broken = 1;
    if (st == TP_CLOSED && got)
        return tp_fail(err, TP_ERR, 0, "receive from %s: connection closed after %zu of %zu bytes",
                       peer, got, len);
    if (st == TP_CLOSED)
        return tp_fail(err, st, 0, "receive from %s: connection closed by peer%s%s", peer,
                       u->why[0] && !u->fin_seen ? ": " : "", u->fin_seen ? "" : u->why);
    if (st == TP_TIMEOUT)
        return tp_fail(err, st, 0, "receive from %s: timed out after %zu of %zu bytes", peer, got,
                       len);
    if (st == TP_NOMEM)
        return tp_fail(err, st, ENOMEM, "receive from %s: no memory to stage a message", peer);
    return tp_fail(err, st, 0, "receive from %s: UCP transfer failed%s%s", peer,
                   u->why[0] ? ": " : "", u->why);
}

tp_status ucx_recv(tp_conn *c, void *buf, size_t len, int timeout_ms, tp_error *err)
{
    struct ucx_conn *u = ucx_conn_of(c);
    if (u->rx_broken)
        return tp_fail(err, TP_BROKEN, 0, "receive from %s: %s", c->peer, tp_strerror(TP_BROKEN));
    if (!u->upgraded) return ucx_pre_recv(u, buf, len, timeout_ms, err);
    char *p = buf;
    size_t got = 0;
    tp_status st = TP_OK;
    pthread_mutex_lock(&u->mu);
    long long deadline = deadline_after(timeout_ms);
    unsigned busy = u->busy_us;
    while (got < len) {
        if (ucx_head_ready(u) && u->q->fin) pop_head(u); /* sets fin_seen: the end */
        if (ucx_head_ready(u)) {
            size_t k;
            if ((st = take(u, p + got, len - got, &k, timeout_ms)) != TP_OK) break;
            got += k;
            deadline = deadline_after(timeout_ms);
            continue;
        }
        if (u->fin_seen || u->peer_gone || u->ep_failed || u->shut) {
            st = TP_CLOSED;
            break;
        }
        if (timeout_ms == 0) { /* one try */
            ucp_worker_progress(u->worker);
            if (ucx_head_ready(u)) continue;
            st = TP_TIMEOUT;
            break;
        }
        if (ucx_wait(u, NULL, deadline, busy) == TP_TIMEOUT && !ucx_head_ready(u)) {
            st = TP_TIMEOUT;
            break;
        }
        busy = 0; /* one budget per call */
    }
    /* A message this receive began is the reader's to finish (the rest of a
     * frame follows at once) and tp_pending counts it, so the descriptor is
     * left alone: a frame read as header then body would otherwise cost an
     * eventfd write and a read, two system calls per frame on each side. */
    if (!started_head(u)) ucx_update_ready(u);
    pthread_mutex_unlock(&u->mu);
    return st == TP_OK ? TP_OK : recv_failed(u, got, len, st, err);
}

tp_status ucx_set_busy_poll(tp_conn *c, unsigned usec)
{
    if (usec > 1000000u) return TP_INVAL;
    struct ucx_conn *u = ucx_conn_of(c);
    u->busy_us = usec;
    return tp_set_busy_poll(u->ctl, usec);
}

/* What a receive can take without waiting for the peer: the head message's
 * bytes (the lock is held briefly by whoever progresses the worker). */
size_t ucx_pending(tp_conn *c)
{
    struct ucx_conn *u = ucx_conn_of(c);
    size_t n = 0;
    if (!u->upgraded) return 0;
    pthread_mutex_lock(&u->mu);
    if (ucx_head_ready(u)) {
        struct ucx_msg *m = u->q;
        n = m->blen - m->boff + (m->dlen - m->doff);
        if (!n) n = 1; /* an empty message (the FIN): a receive returns at once */
    }
    pthread_mutex_unlock(&u->mu);
    return n;
}

int ucx_conn_fd(tp_conn *c)
{
    return ucx_conn_of(c)->epfd;
}

/* ---- the end ------------------------------------------------------------------------ */

tp_status ucx_shutdown(tp_conn *c)
{
    struct ucx_conn *u = ucx_conn_of(c);
    u->shut = 1;
    tp_shutdown(u->ctl); /* the peer sees the control connection end */
    if (!u->upgraded) return TP_OK;
    pthread_mutex_lock(&u->mu);
    ucx_update_ready(u);
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    uint64_t v = 1;
    ssize_t r = write(u->wakefd, &v, sizeof v);
    (void)r;
    return TP_OK;
}

/* The orderly end: a FIN after the last frame (the peer reads everything we
 * sent, then TP_CLOSED), then UCP, then the control connection. */
void ucx_close(tp_conn *c)
{
    struct ucx_conn *u = ucx_conn_of(c);
    if (u->upgraded) {
        pthread_mutex_lock(&u->mu);
        if (u->ep && !u->tx_broken && !u->ep_failed && !u->peer_gone && !u->ctl_eof &&
            !u->fin_seen && !u->shut) {
            ucs_status_t ust;
            send_am(u, UCX_AM_FIN, NULL, 0, 2000, &ust); /* then the endpoint's flush */
        }
        pthread_mutex_unlock(&u->mu);
    }
    ucx_ucp_close(u);
    tp_close(u->ctl);
    if (u->epfd >= 0) close(u->epfd);
    if (u->rxfd >= 0) close(u->rxfd);
    if (u->wakefd >= 0) close(u->wakefd);
    pthread_mutex_destroy(&u->mu);
    pthread_mutex_destroy(&u->ctl_tx);
    pthread_cond_destroy(&u->cv);
    pthread_cond_destroy(&u->park_cv);
    free(u);
}
