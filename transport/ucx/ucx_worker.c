/* ucx_worker.c — one UCP context, worker and endpoint per ucx:// connection,
 * and the connection's progress thread: it sleeps on the worker's event fd and
 * the control socket, runs the active-message handler (which queues messages
 * for ucx_recv) and completion callbacks, and notices the peer's end. */
#include "ucx.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void note_failure(struct ucx_conn *u, const char *fmt, const char *what)
{
    if (!u->why[0]) snprintf(u->why, sizeof u->why, fmt, what);
}

/* ---- what the worker calls back (mu held: progress runs under it) ----------- */

static ucs_status_t on_am(void *arg, const void *header, size_t header_length, void *data,
                          size_t length, const ucp_am_recv_param_t *param)
{
    struct ucx_conn *u = arg;
    struct ucx_am_hdr h;
    if (header_length < sizeof h) return UCS_OK; /* not ours: dropped */
    memcpy(&h, header, sizeof h);
    if (h.inline_len > header_length - sizeof h) return UCS_OK;
    int rndv = (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0;
    size_t copied = h.inline_len + (rndv ? 0 : length);
    struct ucx_msg *m = calloc(1, sizeof *m);
    char *b = malloc(copied ? copied : 1);
    if (!m || !b) {
        free(m);
        free(b);
        note_failure(u, "%s", "out of memory for a received message");
        u->peer_gone = 1;
        ucx_update_ready(u);
        pthread_cond_broadcast(&u->cv);
        return UCS_OK; /* a rendezvous descriptor not kept is released by UCP */
    }
    memcpy(b, (const char *)header + sizeof h, h.inline_len);
    if (!rndv && length) memcpy(b + h.inline_len, data, length);
    m->seq = h.seq;
    m->fin = (h.flags & UCX_AM_FIN) != 0;
    m->buf = b;
    m->blen = copied;
    if (rndv) {
        m->desc = data;
        m->dlen = length;
    }
    ucx_queue_insert(u, m);
    if (!u->spinners) ucx_update_ready(u); /* else the spinner takes it, or updates as it stops */
    pthread_cond_broadcast(&u->cv);
    return rndv ? UCS_INPROGRESS : UCS_OK;
}

static void on_ep_error(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    struct ucx_conn *u = arg;
    u->ep_failed = 1;
    note_failure(u, "UCP endpoint failed: %s", ucs_status_string(status));
    ucx_update_ready(u);
    pthread_cond_broadcast(&u->cv);
}

/* ---- set-up -------------------------------------------------------------------- */

/* Settings this process's UCP context gets unless the user chose them: the
 * memory-type cache off (no hooks or lookups on the application's pointers). */
static void config_defaults(ucp_config_t *cfg)
{
    if (!getenv("UCX_MEMTYPE_CACHE")) ucp_config_modify(cfg, "MEMTYPE_CACHE", "n");
}

tp_status ucx_ucp_open(struct ucx_conn *u, tp_error *err)
{
    ucp_config_t *cfg = NULL;
    ucs_status_t st = ucp_config_read(NULL, NULL, &cfg);
    if (st != UCS_OK)
        return tp_fail(err, TP_ERR, 0, "ucx: reading UCX settings: %s", ucs_status_string(st));
    config_defaults(cfg);
    ucp_params_t p = {.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED |
                                    UCP_PARAM_FIELD_NAME,
                      .features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP,
                      .mt_workers_shared = 0,
                      .name = "rgpu"};
    st = ucp_init(&p, cfg, &u->ctx);
    ucp_config_release(cfg);
    if (st != UCS_OK) {
        u->ctx = NULL;
        return tp_fail(err, TP_ERR, 0, "ucx: cannot initialise UCP: %s", ucs_status_string(st));
    }
    ucp_worker_params_t wp = {.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE,
                              .thread_mode = UCS_THREAD_MODE_SERIALIZED};
    if ((st = ucp_worker_create(u->ctx, &wp, &u->worker)) != UCS_OK) goto fail;
    if ((st = ucp_worker_get_efd(u->worker, &u->efd)) != UCS_OK) goto fail;
    ucp_worker_attr_t wa = {.field_mask = UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER};
    if ((st = ucp_worker_query(u->worker, &wa)) != UCS_OK) goto fail;
    size_t room = wa.max_am_header > sizeof(struct ucx_am_hdr)
                      ? wa.max_am_header - sizeof(struct ucx_am_hdr)
                      : 0;
    u->inline_max = room < 4096 ? room : 4096;
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = UCX_AM_ID,
        .cb = on_am,
        .arg = u,
        .flags = UCP_AM_FLAG_WHOLE_MSG};
    if ((st = ucp_worker_set_am_recv_handler(u->worker, &hp)) != UCS_OK) goto fail;
    return TP_OK;
fail:
    return tp_fail(err, TP_ERR, 0, "ucx: cannot create a UCP worker: %s", ucs_status_string(st));
}

tp_status ucx_ucp_address(struct ucx_conn *u, void **addr, size_t *len, tp_error *err)
{
    ucp_address_t *a = NULL;
    ucs_status_t st = ucp_worker_get_address(u->worker, &a, len);
    if (st != UCS_OK)
        return tp_fail(err, TP_ERR, 0, "ucx: no worker address: %s", ucs_status_string(st));
    *addr = a;
    return TP_OK;
}

void ucx_ucp_address_free(struct ucx_conn *u, void *addr)
{
    if (addr) ucp_worker_release_address(u->worker, addr);
}

tp_status ucx_ucp_connect(struct ucx_conn *u, const void *addr, size_t len, tp_error *err)
{
    /* Error mode "none": UCX 1.13's shared-memory transports have no peer-failure
     * handling, and the control connection already tells us when the peer's
     * process ends (its EOF); the handler still reports what UCP notices. */
    ucp_ep_params_t ep = {.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS |
                                        UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                                        UCP_EP_PARAM_FIELD_ERR_HANDLER,
                          .address = addr,
                          .err_mode = UCP_ERR_HANDLING_MODE_NONE,
                          .err_handler = {.cb = on_ep_error, .arg = u}};
    pthread_mutex_lock(&u->mu);
    ucs_status_t st = ucp_ep_create(u->worker, &ep, &u->ep);
    pthread_mutex_unlock(&u->mu);
    if (st != UCS_OK) {
        u->ep = NULL;
        return tp_fail(err, TP_ERR, 0,
                       "ucx: cannot reach the peer's UCP worker (%zu-byte address): %s", len,
                       ucs_status_string(st));
    }
    return TP_OK;
}

/* ---- the progress thread ---------------------------------------------------------- */

/* mu held. The control socket after the upgrade carries nothing: readable
 * means the peer's process closed it (or died). */
static void check_ctl(struct ucx_conn *u)
{
    char b[64];
    ssize_t k = recv(tp_conn_fd(u->ctl), b, sizeof b, MSG_DONTWAIT);
    if (k > 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || k == 0) {
        if (k > 0) note_failure(u, "%s", "unexpected bytes on the control connection");
        u->ctl_eof = 1;
        u->eof_at_ns = tp_now_ns();
    }
}

/* mu held: after the control EOF, frames sent before it may still be on their
 * way through UCP; the stream ends at the FIN, or a grace period later. */
static void check_end(struct ucx_conn *u)
{
    if (!u->ctl_eof || u->peer_gone) return;
    if (u->fin_seen || u->ep_failed ||
        tp_now_ns() - u->eof_at_ns >= UCX_EOF_GRACE_MS * 1000000LL) {
        u->peer_gone = 1;
        ucx_update_ready(u);
        pthread_cond_broadcast(&u->cv);
    }
}

static void *progress_main(void *arg)
{
    struct ucx_conn *u = arg;
    pthread_mutex_lock(&u->mu);
    while (!u->stop) {
        while (ucp_worker_progress(u->worker)) {
        }
        check_end(u);
        long long now = tp_now_ns();
        if (u->spinners > 0 || now < u->park_until_ns) {
            /* a receiver progresses the worker itself: stay out of its way, and
             * look seldom (each look wakes a thread on the spinners' cores) */
            long long until = u->spinners > 0 ? now + UCX_SPIN_NAP_US * 1000LL : u->park_until_ns;
            struct timespec ts = {.tv_sec = until / 1000000000LL, .tv_nsec = until % 1000000000LL};
            pthread_cond_timedwait(&u->park_cv, &u->mu, &ts);
            if (!u->ctl_eof) check_ctl(u); /* the peer's end is still ours to notice */
            continue;
        }
        ucs_status_t st = ucp_worker_arm(u->worker);
        if (st == UCS_ERR_BUSY) continue;
        int watch_ctl = !u->ctl_eof;
        /* An armed worker is meant to signal every arrival, but a message that a
         * shared-memory peer puts in our FIFO as we arm can go unannounced:
         * progress now and then regardless, so such a message waits at most
         * UCX_IDLE_POLL_MS instead of for ever. Seen with UCX_TLS=sm: a host
         * callback's NOTIFY sat unread while both sides slept (drv_stream
         * many_threads_one_stream hung 2 runs in 10); a check that counted work
         * found after a quiet poll found it in 5 runs of 20, none hung. */
        int tmo = u->ctl_eof && !u->peer_gone ? 10 : UCX_IDLE_POLL_MS;
        pthread_mutex_unlock(&u->mu);
        struct pollfd p[3] = {{.fd = u->efd, .events = POLLIN},
                              {.fd = u->wakefd, .events = POLLIN},
                              {.fd = watch_ctl ? tp_conn_fd(u->ctl) : -1, .events = POLLIN}};
        int n = poll(p, 3, tmo);
        if (n > 0 && (p[1].revents & POLLIN)) {
            uint64_t v;
            ssize_t r = read(u->wakefd, &v, sizeof v);
            (void)r;
        }
        pthread_mutex_lock(&u->mu);
        if (n > 0 && p[2].revents) check_ctl(u);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

/* Connections with a progress thread, so that the process's exit can stop
 * them before UCX's own libraries are torn down under them. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ucx_conn *live;

static void live_add(struct ucx_conn *u)
{
    pthread_mutex_lock(&live_lock);
    u->live_next = live;
    live = u;
    pthread_mutex_unlock(&live_lock);
}

static void live_remove(struct ucx_conn *u)
{
    pthread_mutex_lock(&live_lock);
    for (struct ucx_conn **p = &live; *p; p = &(*p)->live_next)
        if (*p == u) {
            *p = u->live_next;
            break;
        }
    pthread_mutex_unlock(&live_lock);
}

/* Tells the progress thread to stop, wakes it and waits for it. */
static void stop_progress(struct ucx_conn *u)
{
    pthread_mutex_lock(&u->mu);
    u->stop = 1;
    pthread_cond_broadcast(&u->park_cv);
    pthread_mutex_unlock(&u->mu);
    uint64_t v = 1;
    ssize_t r = write(u->wakefd, &v, sizeof v);
    (void)r;
    pthread_join(u->progress, NULL);
    u->have_progress = 0;
}

/* At exit (this object's destructor runs before libucp's): the progress
 * threads stop; the connections themselves are left to the kernel. */
__attribute__((destructor)) static void quiesce_at_exit(void)
{
    pthread_mutex_lock(&live_lock);
    for (struct ucx_conn *u = live; u; u = u->live_next) {
        if (u->owner != getpid()) continue; /* a fork's child: the thread is not here */
        stop_progress(u);
    }
    live = NULL;
    pthread_mutex_unlock(&live_lock);
}

tp_status ucx_ucp_start(struct ucx_conn *u, tp_error *err)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the application's signals stay on its threads */
    int rc = pthread_create(&u->progress, NULL, progress_main, u);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return tp_fail(err, TP_ERR, rc, "ucx: cannot start the progress thread: %s", strerror(rc));
    u->have_progress = 1;
    u->owner = getpid();
    live_add(u);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = u->rxfd};
    epoll_ctl(u->epfd, EPOLL_CTL_DEL, tp_conn_fd(u->ctl), NULL);
    if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->rxfd, &ev) < 0)
        return tp_fail(err, TP_ERR, errno, "ucx: epoll: %s", strerror(errno));
    u->upgraded = 1;
    return TP_OK;
}

/* mu held: a receiver waiting for a message sleeps on the worker's event fd
 * itself (armed), so a message wakes it directly rather than through the
 * progress thread; rxfd wakes it when the progress thread took the message
 * (or the stream ended) first. */
static void sleep_for_message(struct ucx_conn *u, long long deadline_ns, long long now)
{
    if (ucp_worker_progress(u->worker) || ucx_head_ready(u)) return;
    if (ucp_worker_arm(u->worker) == UCS_ERR_BUSY) return; /* events pending: progress again */
    ucx_update_ready(u); /* rxfd clear: nothing is ready */
    int tmo = -1;
    if (deadline_ns) {
        long long left = deadline_ns - now;
        tmo = left <= 0 ? 0 : (int)((left + 999999LL) / 1000000LL);
    }
    struct pollfd p[2] = {{.fd = u->efd, .events = POLLIN}, {.fd = u->rxfd, .events = POLLIN}};
    pthread_mutex_unlock(&u->mu);
    poll(p, 2, tmo); /* EINTR or a spurious wake: the caller's loop looks again */
    pthread_mutex_lock(&u->mu);
    ucp_worker_progress(u->worker);
}

/* mu held: a receiver starts or stops busy-polling the worker (see spinners). */
static void spin_begin(struct ucx_conn *u, int *spinning)
{
    if (*spinning) return;
    *spinning = 1;
    u->spinners++;
}

static void spin_end(struct ucx_conn *u, int *spinning)
{
    if (!*spinning) return;
    *spinning = 0;
    if (--u->spinners == 0) u->park_until_ns = tp_now_ns() + UCX_PARK_US * 1000LL;
}

static tp_status wait_loop(struct ucx_conn *u, volatile int *flag, long long deadline_ns,
                           unsigned busy_us, int *spinning)
{
    long long spin_until = busy_us ? tp_now_ns() + busy_us * 1000LL : 0;
    while (flag ? !*flag : !ucx_head_ready(u)) {
        if (u->peer_gone || u->ep_failed || u->shut) return TP_OK; /* the caller looks why */
        long long now = tp_now_ns();
        if (deadline_ns && now >= deadline_ns) return TP_TIMEOUT;
        if (spin_until && now < spin_until) {
            if (!flag) spin_begin(u, spinning);
            if (!ucp_worker_progress(u->worker)) {
                pthread_mutex_unlock(&u->mu);
                sched_yield();
                pthread_mutex_lock(&u->mu);
            }
            continue;
        }
        spin_end(u, spinning);
        if (flag) {
            /* An operation of ours: a send queued behind a full shared-memory
             * FIFO makes no event when room appears, so its owner keeps
             * progressing, waking every UCX_OP_POLL_US in between; the
             * progress thread, if parked after a spinner, watches again now. */
            ucp_worker_progress(u->worker);
            if (*flag) break;
            if (u->park_until_ns && u->spinners == 0) {
                u->park_until_ns = 0;
                pthread_cond_signal(&u->park_cv);
            }
            long long nap = UCX_OP_POLL_US * 1000LL;
            if (deadline_ns && deadline_ns - now < nap) nap = deadline_ns - now;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            long long ns = ts.tv_nsec + nap;
            ts.tv_sec += ns / 1000000000LL;
            ts.tv_nsec = ns % 1000000000LL;
            pthread_cond_timedwait(&u->cv, &u->mu, &ts);
        } else {
            sleep_for_message(u, deadline_ns, now);
        }
    }
    return TP_OK;
}

tp_status ucx_wait(struct ucx_conn *u, volatile int *flag, long long deadline_ns, unsigned busy_us)
{
    int spinning = 0;
    tp_status st = wait_loop(u, flag, deadline_ns, busy_us, &spinning);
    spin_end(u, &spinning);
    return st;
}

void ucx_update_ready(struct ucx_conn *u)
{
    int ready = ucx_head_ready(u) || u->peer_gone || u->ep_failed || u->shut;
    if (ready == u->rx_signalled) return;
    uint64_t v = 1;
    ssize_t r = ready ? write(u->rxfd, &v, sizeof v) : read(u->rxfd, &v, sizeof v);
    (void)r;
    u->rx_signalled = ready;
}

void ucx_wait_request(struct ucx_conn *u, void *req)
{
    if (!req || UCS_PTR_IS_ERR(req)) return;
    long long until = tp_now_ns() + 2000000000LL; /* a peer that is gone answers nothing */
    while (ucp_request_check_status(req) == UCS_INPROGRESS && tp_now_ns() < until)
        ucp_worker_progress(u->worker);
    if (ucp_request_check_status(req) != UCS_INPROGRESS) ucp_request_free(req);
}

/* Stops the progress thread and frees the UCP objects; the queue goes with them. */
void ucx_ucp_close(struct ucx_conn *u)
{
    live_remove(u);
    if (u->have_progress) stop_progress(u);
    while (u->q) {
        struct ucx_msg *m = u->q;
        u->q = m->next;
        ucx_msg_free(u, m);
    }
    if (u->ep) {
        /* A peer still there gets what we sent: UCX's tcp completes a send
         * once it is in its own buffer, so the endpoint is flushed first. */
        int alive = !u->ctl_eof && !u->fin_seen && !u->ep_failed && !u->peer_gone && !u->tx_broken;
        ucp_request_param_t p = {.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
                                 .flags = alive ? 0 : UCP_EP_CLOSE_FLAG_FORCE};
        ucx_wait_request(u, ucp_ep_close_nbx(u->ep, &p));
        u->ep = NULL;
    }
    if (u->worker) ucp_worker_destroy(u->worker);
    if (u->ctx) ucp_cleanup(u->ctx);
    u->worker = NULL;
    u->ctx = NULL;
}
