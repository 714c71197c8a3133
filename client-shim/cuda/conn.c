/* conn.c — the shim's one connection to rgpud: the handshake, serialised
 * sends (CALL split into DATA chunks), credits, and the receiving side, which
 * hands REPLYs to the waiting threads by (thread, seq) and declares the server
 * lost after RGPU_TIMEOUT of silence while anyone waits (DESIGN rule 8).
 *
 * One thread reads at a time (C.reader). A thread that waits for its reply
 * (or for credits) reads the frames itself when nobody else does, so a call
 * that waits costs the network's round trip and no hand-off between threads;
 * frames for others it reads are handed on as the receiver thread would. The
 * receiver thread reads while no application thread does: it stands by for
 * RX_STANDBY_MS after an application thread last read or wanted to, and is
 * woken at once when a reader leaves with other threads still waiting. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "msg.h"
#include "shim.h"

struct waiter {
    uint32_t thread;
    uint64_t seq;
    int done, more, busy; /* busy: the receiver is filling rep (unlocked) */
    CUresult error;
    struct rg_reply rep;
    pthread_cond_t cv;
    struct waiter *next;
};

static struct {
    tp_conn *c;
    pthread_mutex_t mu; /* waiters, credits, lost, clocks */
    pthread_mutex_t send_mu;
    pthread_cond_t credit_cv;
    struct waiter *waiters;
    int nwait; /* threads waiting for a reply or a credit */
    int64_t credits;
    _Atomic int lost;
    uint64_t last_rx_ms, busy_since_ms;
    int reader;           /* who reads frames now: RD_NONE, RD_RX, RD_APP */
    int rx_wanted;        /* a reader left with threads still waiting: the receiver reads */
    uint64_t app_read_ms; /* when an application thread last read, or wanted to */
    pthread_cond_t rx_cv; /* the receiver's stand-by */
    pthread_cond_t notify_cv; /* rg_conn_wait_until's sleepers: a GL frame came */
    rg_frame_sink frame_sink; /* where GL frames go (the GL vendor library) */
    CUresult async_err;
    uint32_t max_raw, max_enc;
} C = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .send_mu = PTHREAD_MUTEX_INITIALIZER,
       .credit_cv = PTHREAD_COND_INITIALIZER,
       .rx_cv = PTHREAD_COND_INITIALIZER,
       .notify_cv = PTHREAD_COND_INITIALIZER};

enum { RD_NONE, RD_RX, RD_APP };
#define RX_STANDBY_MS 5

/* Pipelined calls waiting to be written together (send_call_locked, below). */
#define BATCH_BYTES (64u << 10)
#define BATCH_FRAME_MAX (4u << 10) /* larger frames go out alone, from where they live */
#define BATCH_LINGER_US 50
#define BATCH_LINGER_MAX 20 /* naps while a launch keeps running again */

static struct {
    uint8_t buf[BATCH_BYTES];
    size_t len;
    pthread_cond_t cv; /* with C.send_mu: the flusher waits for a first frame */
    int started;
} B = {.cv = PTHREAD_COND_INITIALIZER};

/* The batch's last frame while it may run again (rg_conn_repeat): its key,
 * where it is, and its header, written back when the batch moves on. */
static struct {
    uint8_t key[RG_REPEAT_KEY_MAX];
    size_t key_len, fixed, off;
    rpc_hdr hdr;
    int live;
    int reruns; /* its further runs carry their own parameter bytes (raw part) */
} R;
static _Thread_local const void *offer_key;
static _Thread_local size_t offer_fixed, offer_len;

static _Thread_local uint64_t thread_seq;
/* Credits only the managed-memory helper may take (managed.c): it runs a host
 * callback's PULL while the application's calls may wait for credits behind
 * the stream that callback holds. */
static int credit_reserve;
static _Thread_local int reserve_user;

void rg_conn_reserve_user(void)
{
    reserve_user = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void rg_reply_free(struct rg_reply *r)
{
    free(r->enc);
    if (r->raw != r->sink) free(r->raw);
    r->enc = r->raw = NULL;
}

int rg_conn_lost(void)
{
    return atomic_load(&C.lost);
}

size_t rg_conn_max_enc(void)
{
    return C.max_enc ? C.max_enc : RPC_MAX_ENC_LEN;
}

/* Marks the session lost (once, one log line) and wakes every waiting thread. */
static void lose_locked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void lose_locked(const char *fmt, ...)
{
    if (atomic_exchange(&C.lost, 1)) return;
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rg_log(RG_LOG_ERROR, "lost the rgpud session at %s: %s; CUDA calls now fail with "
           "CUDA_ERROR_DEVICE_UNAVAILABLE", rg_sess.cfg.server, why);
    for (struct waiter *w = C.waiters; w; w = w->next) {
        w->done = 1;
        w->error = CUDA_ERROR_DEVICE_UNAVAILABLE;
        pthread_cond_signal(&w->cv);
    }
    pthread_cond_broadcast(&C.credit_cv);
    pthread_cond_broadcast(&C.rx_cv);
    pthread_cond_broadcast(&C.notify_cv);
    pthread_cond_broadcast(&B.cv); /* the flusher ends */
    tp_shutdown(C.c);
}

static struct waiter *find_waiter(uint32_t thread, uint64_t seq)
{
    for (struct waiter *w = C.waiters; w; w = w->next)
        if (w->thread == thread && w->seq == seq && !w->done) return w;
    return NULL;
}

/* ---- receiving ------------------------------------------------------------------ */

static void complete(struct waiter *w)
{
    w->done = 1;
    pthread_cond_signal(&w->cv);
}

/* Appends this frame's raw bytes to w's reply. Called without C.mu: only the
 * receiver touches a waiter's buffers until it is marked done. */
static rpc_status gather_raw(struct waiter *w, const rpc_hdr *h, rpc_error *err)
{
    struct rg_reply *r = &w->rep;
    if (!h->raw_len) return RPC_OK;
    if (r->sink && (!r->raw || r->raw == r->sink) && h->raw_len <= r->sink_len - r->raw_len) {
        r->raw = r->sink; /* in place: no buffer of the reply's size, no copy after */
        rpc_status st = rpc_frame_recv_raw(C.c, (char *)r->sink + r->raw_len, h->raw_len,
                                           rg_sess.cfg.timeout_ms, err);
        r->raw_len += h->raw_len;
        return st;
    }
    void *p = r->raw == r->sink ? malloc(r->raw_len + h->raw_len)
                                : realloc(r->raw, r->raw_len + h->raw_len);
    if (!p) return rpc_fail(err, RPC_E_NOMEM, "no memory for a %u-byte reply chunk", h->raw_len);
    if (r->raw && r->raw == r->sink) memcpy(p, r->sink, r->raw_len); /* more than the sink holds */
    w->rep.raw = p;
    rpc_status st = rpc_frame_recv_raw(C.c, (char *)p + w->rep.raw_len, h->raw_len,
                                       rg_sess.cfg.timeout_ms, err);
    w->rep.raw_len += h->raw_len;
    return st;
}

/* A REPLY nobody waits for: a pipelined call failed. Kept for the next waiting call. */
static void note_async_failure(const void *enc, size_t len)
{
    rpc_rbuf r;
    rpc_rbuf_init(&r, enc, len);
    uint32_t res = rpc_get_u32(&r);
    pthread_mutex_lock(&C.mu);
    if (rpc_rbuf_ok(&r) && res != CUDA_SUCCESS && C.async_err == CUDA_SUCCESS)
        C.async_err = (CUresult)res;
    pthread_mutex_unlock(&C.mu);
    rg_log(RG_LOG_DEBUG, "pipelined call failed with %u", res);
}

static rpc_status on_reply(const rpc_hdr *h, void *enc, rpc_error *err)
{
    pthread_mutex_lock(&C.mu);
    struct waiter *w = find_waiter(h->thread, h->seq);
    if (w) w->busy = 1;
    pthread_mutex_unlock(&C.mu);
    if (!w) {
        if (h->type == RPC_T_REPLY) note_async_failure(enc, h->enc_len);
        free(enc);
        return rpc_frame_skip_raw(C.c, h->raw_len, rg_sess.cfg.timeout_ms, err);
    }
    if (h->type == RPC_T_REPLY) {
        free(w->rep.enc);
        w->rep.hdr = *h;
        w->rep.enc = enc;
    } else {
        free(enc);
    }
    rpc_status st = gather_raw(w, h, err);
    pthread_mutex_lock(&C.mu);
    w->busy = 0;
    w->more = (h->flags & RPC_F_MORE) != 0;
    if (st == RPC_OK && !w->more) w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&C.mu);
    return st;
}

/* An ERROR frame: about one call (non-fatal) or the end of the session. */
static int on_error(const rpc_hdr *h, void *enc)
{
    Rgpu__Error *e = rgpu__error__unpack(NULL, h->enc_len, enc);
    free(enc);
    pthread_mutex_lock(&C.mu);
    if (!e) {
        lose_locked("undecodable ERROR frame");
    } else if (!e->fatal && e->thread && find_waiter(e->thread, e->seq)) {
        struct waiter *w = find_waiter(e->thread, e->seq);
        w->error = e->cuda_result ? (CUresult)e->cuda_result : CUDA_ERROR_UNKNOWN;
        complete(w);
    } else if (e->fatal) {
        lose_locked("the server ended the session: %s", e->message);
    } else {
        rg_log(RG_LOG_WARN, "rgpud: %s", e->message);
    }
    pthread_mutex_unlock(&C.mu);
    if (e) rgpu__error__free_unpacked(e, NULL);
    return rg_conn_lost();
}

static void add_credit(uint32_t n)
{
    pthread_mutex_lock(&C.mu);
    C.last_rx_ms = now_ms();
    if (n) {
        C.credits += n;
        pthread_cond_broadcast(&C.credit_cv);
    }
    pthread_mutex_unlock(&C.mu);
}

/* A NOTIFY's raw part into *raw (the caller frees it), or skipped (*raw NULL)
 * when it is empty or there is no memory for it. */
static rpc_status notify_raw(const rpc_hdr *h, void **raw, rpc_error *err)
{
    *raw = h->raw_len ? malloc(h->raw_len) : NULL;
    if (!*raw) return rpc_frame_skip_raw(C.c, h->raw_len, rg_sess.cfg.timeout_ms, err);
    return rpc_frame_recv_raw(C.c, *raw, h->raw_len, rg_sess.cfg.timeout_ms, err);
}

/* NOTIFY: host callbacks go to the callback threads (the receiver never runs
 * application code: a callback may wait for a reply only the receiver can
 * deliver); device output is written to the application's stdout before any
 * later frame (a synchronisation's REPLY) is looked at. */
static rpc_status on_notify(const rpc_hdr *h, void *enc, rpc_error *err)
{
    rpc_status st = RPC_OK;
    if ((h->op == RG_NOTIFY_STDOUT || h->op == RG_NOTIFY_STDERR) && h->raw_len) {
        void *buf;
        st = notify_raw(h, &buf, err);
        if (st == RPC_OK && buf) {
            FILE *to = h->op == RG_NOTIFY_STDERR ? stderr : stdout;
            if (to == stderr) fflush(stdout); /* as the device runtime orders them */
            fwrite(buf, 1, h->raw_len, to);
            fflush(to);
        }
        free(buf);
        free(enc);
        return st;
    }
    if (h->op == RG_NOTIFY_GL_FRAME) { /* a window's frame: the GL library takes it */
        void *raw;
        st = notify_raw(h, &raw, err);
        pthread_mutex_lock(&C.mu);
        rg_frame_sink sink = C.frame_sink;
        pthread_mutex_unlock(&C.mu);
        if (st == RPC_OK && sink) {
            sink(enc, h->enc_len, raw, raw ? h->raw_len : 0); /* raw is the sink's now */
            raw = NULL;
        }
        free(raw);
        free(enc);
        pthread_mutex_lock(&C.mu);
        pthread_cond_broadcast(&C.notify_cv);
        pthread_mutex_unlock(&C.mu);
        return st;
    }
    if (h->op >= RG_NOTIFY_HOSTNODE && h->op <= RG_NOTIFY_CAPTURED) { /* graphs (callbacks.c) */
        void *raw;
        st = notify_raw(h, &raw, err);
        if (st == RPC_OK) rg_graph_notify(h->op, enc, h->enc_len, raw, raw ? h->raw_len : 0);
        free(raw);
        free(enc);
        return st;
    }
    if (h->op == RG_NOTIFY_HOSTFN || h->op == RG_NOTIFY_CALLBACK) {
        rpc_rbuf r;
        rpc_rbuf_init(&r, enc, h->enc_len);
        uint64_t id = rpc_get_u64(&r);
        uint32_t status = h->op == RG_NOTIFY_CALLBACK ? rpc_get_u32(&r) : 0;
        if (rpc_rbuf_done(&r)) rg_cb_notified(id, (CUresult)status);
        else rg_log(RG_LOG_WARN, "malformed host callback notification ignored");
    } else {
        rg_log(RG_LOG_DEBUG, "NOTIFY of unknown kind %u ignored", h->op);
    }
    free(enc);
    return rpc_frame_skip_raw(C.c, h->raw_len, rg_sess.cfg.timeout_ms, err);
}

/* One frame from the server. Returns non-zero when the session is over. */
static int receive_one(void)
{
    rpc_hdr h;
    void *enc = NULL;
    rpc_error err = {0};
    rpc_status st = rpc_frame_recv(C.c, RPC_FROM_SERVER, 0, rg_sess.cfg.timeout_ms, &h, &enc, &err);
    if (st == RPC_OK) {
        add_credit(h.credit);
        switch (h.type) {
        case RPC_T_REPLY:
        case RPC_T_DATA:
            st = on_reply(&h, enc, &err);
            break;
        case RPC_T_ERROR:
            return on_error(&h, enc);
        case RPC_T_NOTIFY:
            st = on_notify(&h, enc, &err);
            break;
        case RPC_T_CLOSE:
            free(enc);
            st = rpc_fail(&err, RPC_E_CLOSED, "the server closed the session");
            break;
        default: /* HEARTBEAT, CREDIT */
            free(enc);
            st = rpc_frame_skip_raw(C.c, h.raw_len, rg_sess.cfg.timeout_ms, &err);
        }
    }
    if (st == RPC_OK) return 0;
    pthread_mutex_lock(&C.mu);
    if (st == RPC_E_TIMEOUT) /* a waiting thread read: the server was silent all along */
        lose_locked("no reply and no heartbeat for %d s (RGPU_TIMEOUT)",
                    rg_sess.cfg.timeout_ms / 1000);
    else
        lose_locked("%s", err.msg[0] ? err.msg : rpc_strerror(st));
    pthread_mutex_unlock(&C.mu);
    return 1;
}

/* Silence only counts while some thread waits for the server. */
static int silent_too_long(void)
{
    pthread_mutex_lock(&C.mu);
    uint64_t since = C.last_rx_ms > C.busy_since_ms ? C.last_rx_ms : C.busy_since_ms;
    int over = C.nwait > 0 && now_ms() - since >= (uint64_t)rg_sess.cfg.timeout_ms;
    if (over)
        lose_locked("no reply and no heartbeat for %d s (RGPU_TIMEOUT)",
                    rg_sess.cfg.timeout_ms / 1000);
    pthread_mutex_unlock(&C.mu);
    return over;
}

static void *rx_main(void *arg)
{
    (void)arg;
    struct pollfd p = {.fd = tp_conn_fd(C.c), .events = POLLIN};
    pthread_mutex_lock(&C.mu);
    while (!rg_conn_lost()) {
        if (C.reader == RD_APP || (!C.rx_wanted && now_ms() - C.app_read_ms < RX_STANDBY_MS)) {
            struct timespec dl; /* an application thread reads, or may again soon */
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_nsec += RX_STANDBY_MS * 1000000L;
            if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&C.rx_cv, &C.mu, &dl);
            continue;
        }
        C.rx_wanted = 0;
        C.reader = RD_RX;
        pthread_mutex_unlock(&C.mu);
        int n = tp_pending(C.c) ? 1 : poll(&p, 1, 250); /* TLS may hold a frame already */
        if (n < 0 && errno != EINTR) {
            pthread_mutex_lock(&C.mu);
            lose_locked("poll: %s", strerror(errno));
            pthread_mutex_unlock(&C.mu);
        } else if (n > 0) {
            receive_one();
        } else {
            silent_too_long();
        }
        pthread_mutex_lock(&C.mu);
        C.reader = RD_NONE;
    }
    pthread_mutex_unlock(&C.mu);
    return NULL;
}

/* C.mu held (and still held on return). The calling thread reads frames while
 * done(arg) is false and nobody else reads; 0 if someone else does (the caller
 * sleeps until it is woken). */
static int read_while(int (*done)(void *), void *arg)
{
    C.app_read_ms = now_ms();
    if (C.reader != RD_NONE) return 0;
    C.reader = RD_APP;
    while (!done(arg) && !rg_conn_lost()) {
        pthread_mutex_unlock(&C.mu);
        receive_one(); /* RGPU_TIMEOUT of silence loses the session, as for the receiver */
        pthread_mutex_lock(&C.mu);
    }
    C.reader = RD_NONE;
    C.app_read_ms = now_ms();
    if (C.nwait > 1) { /* others wait (this thread is still counted): the receiver reads */
        C.rx_wanted = 1;
        pthread_cond_signal(&C.rx_cv);
    }
    return 1;
}

/* The shim's threads (the receiver first) run with every signal blocked: the
 * application's handlers run on the application's threads. */
int rg_thread_start(void *(*fn)(void *))
{
    sigset_t all, old;
    pthread_t t;
    pthread_attr_t at;
    sigfillset(&all);
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t, &at, fn, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&at);
    return rc;
}

/* ---- sending --------------------------------------------------------------------- */

/* Next chunk of at most max bytes and RPC_MAX_RAW_IOV entries from raw[*i]+*off. */
static int next_chunk(const struct iovec *raw, int nraw, int *i, size_t *off, size_t max,
                      struct iovec *out, size_t *got)
{
    int n = 0;
    *got = 0;
    while (*i < nraw && n < RPC_MAX_RAW_IOV && *got < max) {
        size_t left = raw[*i].iov_len - *off, take = left < max - *got ? left : max - *got;
        if (take) out[n++] = (struct iovec){(char *)raw[*i].iov_base + *off, take};
        *got += take;
        *off += take;
        if (*off == raw[*i].iov_len) (*i)++, *off = 0;
    }
    return n;
}

static rpc_status send_frames(rpc_hdr *h, const void *enc, size_t enc_len, const struct iovec *raw,
                              int nraw, rpc_error *err)
{
    size_t total = 0, sent = 0, max = C.max_raw ? C.max_raw : RPC_MAX_RAW_LEN;
    for (int k = 0; k < nraw; k++) total += raw[k].iov_len;
    int t = rg_sess.cfg.timeout_ms, i = 0;
    if (total <= max && nraw <= RPC_MAX_RAW_IOV)
        return rpc_frame_send(C.c, RPC_FROM_CLIENT, h, enc, enc_len, raw, nraw, t, err);
    size_t off = 0;
    rpc_hdr fh = *h;
    rpc_status st = RPC_OK;
    do {
        struct iovec chunk[RPC_MAX_RAW_IOV];
        size_t got;
        int n = next_chunk(raw, nraw, &i, &off, max, chunk, &got);
        sent += got;
        fh.flags = (uint8_t)((fh.type == RPC_T_CALL ? h->flags : 0) |
                             (sent < total ? RPC_F_MORE : 0));
        st = rpc_frame_send(C.c, RPC_FROM_CLIENT, &fh, fh.type == RPC_T_CALL ? enc : NULL,
                            fh.type == RPC_T_CALL ? enc_len : 0, chunk, n, t, err);
        fh.type = RPC_T_DATA;
    } while (st == RPC_OK && sent < total);
    return st;
}

/* ---- pipelined calls in batches ----------------------------------------------------
 * Small NOREPLY frames (launches, memsets, small copies) are appended to one
 * buffer and written together: by the next frame that is not batched (a call
 * that waits, bulk bytes, a callback's acknowledgement), when the buffer fills,
 * or by the flusher thread at most about BATCH_LINGER_US after the first one,
 * so a pipelined call never sits unsent while the application waits elsewhere.
 * One write per batch instead of one per call; order is the order of send_mu.
 * A launch of the same function, grid, block, stream, ... as the last frame
 * batched is counted in that frame's `repeat` instead, its parameter bytes
 * added to the frame's raw part unless every run has the first one's
 * (rg_conn_repeat; the key is launch.c's). */

/* send_mu held: the frame that may run again is no longer the last; its
 * header gets its count of runs. */
static void repeat_end_locked(void)
{
    if (R.live && R.hdr.repeat) rpc_hdr_encode(&R.hdr, B.buf + R.off);
    R.live = 0;
}

/* send_mu held: writes what is batched. */
static rpc_status batch_flush_locked(rpc_error *err)
{
    tp_error te;
    repeat_end_locked();
    if (!B.len) return RPC_OK;
    tp_status ts = tp_send(C.c, B.buf, B.len, rg_sess.cfg.timeout_ms, &te);
    B.len = 0;
    return rpc_from_tp(ts, &te, err);
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&C.send_mu);
    while (!rg_conn_lost()) {
        if (!B.len) {
            pthread_cond_wait(&B.cv, &C.send_mu);
            continue;
        }
        /* let the batch grow a little; while its last launch keeps running again
         * (a loop of them), a little longer: one frame for more of them */
        uint32_t runs = R.live ? R.hdr.repeat : 0;
        for (int naps = 0; naps < BATCH_LINGER_MAX; naps++) {
            pthread_mutex_unlock(&C.send_mu);
            struct timespec nap = {0, BATCH_LINGER_US * 1000L};
            nanosleep(&nap, NULL);
            pthread_mutex_lock(&C.send_mu);
            if (!R.live || R.hdr.repeat == runs || R.hdr.repeat == RPC_MAX_REPEAT) break;
            runs = R.hdr.repeat;
        }
        rpc_error err = {0};
        if (batch_flush_locked(&err) != RPC_OK) {
            pthread_mutex_lock(&C.mu);
            lose_locked("sending calls: %s", err.msg[0] ? err.msg : "write failed");
            pthread_mutex_unlock(&C.mu);
        }
    }
    pthread_mutex_unlock(&C.send_mu);
    return NULL;
}

/* send_mu held: appends a small pipelined frame. 1 if batched, 0 if it must go
 * out on its own (the caller flushes first), -1 if a flush failed. */
static int batch_add_locked(rpc_hdr *h, const void *enc, size_t enc_len, const struct iovec *raw,
                            int nraw, rpc_error *err)
{
    size_t total = RPC_HDR_SIZE + enc_len;
    for (int i = 0; i < nraw; i++) total += raw[i].iov_len;
    if (total > BATCH_FRAME_MAX || nraw > RPC_MAX_RAW_IOV) return 0;
    h->enc_len = (uint32_t)enc_len;
    h->raw_len = (uint32_t)(total - RPC_HDR_SIZE - enc_len);
    if (rpc_hdr_check(h, RPC_FROM_CLIENT) != RPC_OK) return 0; /* refused alone */
    if (!B.started) B.started = rg_thread_start(flusher_main) == 0 ? 1 : -1;
    if (B.started < 0) return 0;
    if (B.len + total > sizeof B.buf && batch_flush_locked(err) != RPC_OK) return -1;
    repeat_end_locked();
    uint8_t *p = B.buf + B.len;
    if (offer_key && h->type == RPC_T_CALL && h->flags == RPC_F_NOREPLY && !h->raw_len &&
        offer_len <= sizeof R.key) { /* the caller's pipelined call may run again */
        memcpy(R.key, offer_key, offer_len);
        R.key_len = offer_len;
        R.fixed = offer_fixed;
        R.off = B.len;
        R.hdr = *h;
        R.live = 1;
        R.reruns = 0;
    }
    rpc_hdr_encode(h, p);
    p += RPC_HDR_SIZE;
    if (enc_len) memcpy(p, enc, enc_len), p += enc_len;
    for (int i = 0; i < nraw; i++)
        if (raw[i].iov_len) memcpy(p, raw[i].iov_base, raw[i].iov_len), p += raw[i].iov_len;
    if (!B.len) pthread_cond_signal(&B.cv);
    B.len += total;
    return 1;
}

/* send_mu held: one call's frames, batched when small and pipelined. */
static rpc_status send_call_locked(rpc_hdr *h, const void *enc, size_t enc_len,
                                   const struct iovec *raw, int nraw, int batch, rpc_error *err)
{
    if (rg_conn_lost()) return RPC_E_CLOSED;
    int added = batch ? batch_add_locked(h, enc, enc_len, raw, nraw, err) : 0;
    if (added) return added > 0 ? RPC_OK : err->status ? err->status : RPC_E_TRANSPORT;
    rpc_status st = batch_flush_locked(err);
    return st == RPC_OK ? send_frames(h, enc, enc_len, raw, nraw, err) : st;
}

void rg_conn_offer_repeat(const void *key, size_t fixed, size_t len)
{
    offer_key = len ? key : NULL;
    offer_fixed = fixed;
    offer_len = len;
}

/* send_mu held: one more run of the last frame, with the parameter bytes
 * key[fixed..len): nothing more if they are the first run's and every run so
 * far had them; else (from the second run on) appended to the frame's raw
 * part, the batch's last bytes. 1 if counted. */
static int repeat_locked(const uint8_t *key, size_t fixed, size_t len)
{
    if (!R.live || R.fixed != fixed || R.hdr.repeat >= RPC_MAX_REPEAT ||
        rg_conn_lost() || memcmp(R.key, key, fixed))
        return 0;
    size_t n = len - fixed;
    if (!R.reruns) {
        if (R.key_len == len && !memcmp(R.key + fixed, key + fixed, n)) {
            R.hdr.repeat++;
            return 1;
        }
        if (R.hdr.repeat || R.key_len != len) return 0; /* earlier runs sent no bytes */
        R.reruns = 1;
    }
    if (B.len + n > sizeof B.buf) return 0;
    memcpy(B.buf + B.len, key + fixed, n);
    B.len += n;
    R.hdr.raw_len += (uint32_t)n;
    R.hdr.repeat++;
    return 1;
}

/* The call runs once more as the batch's last frame: no frame, no seq, no
 * credit of its own (the frame's one covers its runs). Not once lost. */
int rg_conn_repeat(const void *key, size_t fixed, size_t len)
{
    pthread_mutex_lock(&C.send_mu);
    int again = repeat_locked(key, fixed, len);
    pthread_mutex_unlock(&C.send_mu);
    return again;
}

static int have_credit(void *arg)
{
    (void)arg;
    return C.credits > (reserve_user ? 0 : credit_reserve);
}

/* Takes one credit, waiting while there is none; non-zero once the server is lost. */
static int take_credit_locked(void)
{
    while (!rg_conn_lost() && !have_credit(NULL)) {
        if (C.nwait++ == 0) C.busy_since_ms = now_ms();
        if (!read_while(have_credit, NULL)) pthread_cond_wait(&C.credit_cv, &C.mu);
        C.nwait--;
    }
    if (rg_conn_lost()) return -1;
    C.credits--;
    return 0;
}

static void unlink_waiter_locked(struct waiter *w)
{
    for (struct waiter **p = &C.waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    C.nwait--;
}

static int replied(void *arg)
{
    struct waiter *w = arg;
    return w->done && !w->busy;
}

static CUresult wait_reply(struct waiter *w, struct rg_reply *rep)
{
    pthread_mutex_lock(&C.mu);
    while (!replied(w))
        if (!read_while(replied, w)) pthread_cond_wait(&w->cv, &C.mu);
    unlink_waiter_locked(w);
    pthread_mutex_unlock(&C.mu);
    pthread_cond_destroy(&w->cv);
    if (w->error != CUDA_SUCCESS) {
        rg_reply_free(&w->rep);
        return w->error;
    }
    *rep = w->rep;
    return CUDA_SUCCESS;
}

void rg_conn_set_frame_sink(rg_frame_sink sink)
{
    pthread_mutex_lock(&C.mu);
    C.frame_sink = sink;
    pthread_mutex_unlock(&C.mu);
}

/* Waits, reading frames itself when nobody else does, as a call waiting for
 * its reply would; done(arg) is asked under C.mu after every NOTIFY. */
CUresult rg_conn_wait_until(int (*done)(void *), void *arg)
{
    pthread_mutex_lock(&C.mu);
    if (C.nwait++ == 0) C.busy_since_ms = now_ms();
    while (!rg_conn_lost() && !done(arg))
        if (!read_while(done, arg)) pthread_cond_wait(&C.notify_cv, &C.mu);
    C.nwait--;
    int lost = rg_conn_lost() && !done(arg);
    pthread_mutex_unlock(&C.mu);
    return lost ? CUDA_ERROR_DEVICE_UNAVAILABLE : CUDA_SUCCESS;
}

/* One call's frames under send_mu; a failed send loses the session. */
static rpc_status send_or_lose(rpc_hdr *h, const void *enc, size_t enc_len,
                               const struct iovec *raw, int nraw, int batch)
{
    rpc_error err = {0};
    pthread_mutex_lock(&C.send_mu);
    rpc_status st = send_call_locked(h, enc, enc_len, raw, nraw, batch, &err);
    pthread_mutex_unlock(&C.send_mu);
    if (st != RPC_OK) {
        pthread_mutex_lock(&C.mu);
        lose_locked("sending a call: %s", err.msg[0] ? err.msg : rpc_strerror(st));
        pthread_mutex_unlock(&C.mu);
    }
    return st;
}

CUresult rg_conn_call(rpc_hdr *h, const void *enc, size_t enc_len, const struct iovec *raw,
                      int nraw, int wait, struct rg_reply *rep)
{
    return rg_conn_call_into(h, enc, enc_len, raw, nraw, wait, NULL, 0, rep);
}

CUresult rg_conn_call_into(rpc_hdr *h, const void *enc, size_t enc_len, const struct iovec *raw,
                           int nraw, int wait, void *sink, size_t sink_len, struct rg_reply *rep)
{
    struct waiter w = {0};
    pthread_mutex_lock(&C.mu);
    if (take_credit_locked()) {
        pthread_mutex_unlock(&C.mu);
        return CUDA_ERROR_DEVICE_UNAVAILABLE;
    }
    h->version = RPC_PROTO_VERSION;
    h->type = RPC_T_CALL;
    h->thread = rg_thread_id();
    h->seq = ++thread_seq;
    if (wait) {
        w.thread = h->thread;
        w.seq = h->seq;
        w.rep.sink = sink;
        w.rep.sink_len = sink ? sink_len : 0;
        pthread_cond_init(&w.cv, NULL);
        w.next = C.waiters;
        C.waiters = &w;
        if (C.nwait++ == 0) C.busy_since_ms = now_ms();
    }
    pthread_mutex_unlock(&C.mu);

    rpc_status st = send_or_lose(h, enc, enc_len, raw, nraw, !wait);
    if (!wait) return st == RPC_OK ? CUDA_SUCCESS : CUDA_ERROR_DEVICE_UNAVAILABLE;
    return wait_reply(&w, rep);
}

CUresult rg_conn_post(uint32_t op, const void *enc, size_t enc_len)
{
    return rg_conn_post_raw(op, enc, enc_len, NULL, 0);
}

CUresult rg_conn_post_raw(uint32_t op, const void *enc, size_t enc_len, const struct iovec *raw,
                          int nraw)
{
    pthread_mutex_lock(&C.mu);
    if (rg_conn_lost()) {
        pthread_mutex_unlock(&C.mu);
        return CUDA_ERROR_DEVICE_UNAVAILABLE;
    }
    C.credits--; /* may go below zero: the server returns it like any other */
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_CALL, .flags = RPC_F_NOREPLY,
                 .op = op, .thread = rg_thread_id(), .seq = ++thread_seq,
                 .ctx = rg_ctx_current_id()};
    pthread_mutex_unlock(&C.mu);
    return send_or_lose(&h, enc, enc_len, raw, nraw, 0) == RPC_OK ? CUDA_SUCCESS
                                                                   : CUDA_ERROR_DEVICE_UNAVAILABLE;
}

void rg_conn_restore_async_error(CUresult r)
{
    if (r == CUDA_SUCCESS) return;
    pthread_mutex_lock(&C.mu);
    if (C.async_err == CUDA_SUCCESS) C.async_err = r;
    pthread_mutex_unlock(&C.mu);
}

CUresult rg_conn_take_async_error(void)
{
    pthread_mutex_lock(&C.mu);
    CUresult r = C.async_err;
    C.async_err = CUDA_SUCCESS;
    pthread_mutex_unlock(&C.mu);
    return r;
}

/* ---- the handshake ----------------------------------------------------------------- */

/* The login name for the server's logs: $USER, $LOGNAME, else the passwd entry. */
static const char *user_name(char *buf, size_t len)
{
    const char *u = getenv("USER");
    if (!u || !*u) u = getenv("LOGNAME");
    if (u && *u) return u;
    struct passwd pw, *res = NULL;
    char tmp[1024];
    if (getpwuid_r(getuid(), &pw, tmp, sizeof tmp, &res) == 0 && res) {
        snprintf(buf, len, "%s", res->pw_name);
        return buf;
    }
    return "";
}

static void fill_hello(Rgpu__Hello *m, Rgpu__ClientIdentity *id, Rgpu__AddressWindow *win,
                       char *host, size_t hostlen, char *user, size_t userlen)
{
    extern char *program_invocation_short_name;
    if (gethostname(host, hostlen) != 0) snprintf(host, hostlen, "?");
    host[hostlen - 1] = 0;
    id->host = host;
    id->pid = (uint32_t)getpid();
    id->uid = (uint32_t)getuid();
    id->user = (char *)user_name(user, userlen);
    id->process = program_invocation_short_name ? program_invocation_short_name : "";
    win->start = (uint64_t)(uintptr_t)rg_sess.window;
    win->size = rg_sess.window_size;
    m->protocol_version = RPC_PROTO_VERSION;
    m->client_version = RG_SHIM_VERSION;
    m->client = id;
    m->devices_wanted = rg_sess.cfg.devices_wanted;
    m->all_devices = rg_sess.cfg.all_devices != 0;
    m->window = win;
    m->launch_blocking = rg_sess.cfg.launch_blocking != 0;
    const char *loading = getenv("CUDA_MODULE_LOADING"); /* the backend's to apply */
    m->module_loading = (char *)(loading ? loading : "");
}

/* The token's secret never goes out: with a token the HELLO starts the
 * SCRAM-SHA-256 exchange (auth.c), which ends before the worker's WELCOME. */
static rpc_status send_hello(struct rg_auth *a, rpc_error *err)
{
    Rgpu__Hello m = RGPU__HELLO__INIT;
    Rgpu__ClientIdentity id = RGPU__CLIENT_IDENTITY__INIT;
    Rgpu__AddressWindow win = RGPU__ADDRESS_WINDOW__INIT;
    char host[256], user[256];
    fill_hello(&m, &id, &win, host, sizeof host, user, sizeof user);
    if (rg_auth_hello(rg_sess.cfg.token, a, &m, err)) return RPC_E_INVAL;
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    rpc_status st = rpc_send_msg(C.c, RPC_FROM_CLIENT, &h, &m.base, rg_sess.cfg.timeout_ms, err);
    if (st == RPC_OK && a->on) st = rg_auth_exchange(C.c, a, rg_sess.cfg.timeout_ms, err);
    return st;
}

static void keep_device(struct rg_device *d, const Rgpu__DeviceSummary *s)
{
    snprintf(d->name, sizeof d->name, "%s", s->name ? s->name : "");
    memset(&d->uuid, 0, sizeof d->uuid);
    if (s->uuid.len == sizeof d->uuid.bytes) memcpy(d->uuid.bytes, s->uuid.data, s->uuid.len);
    d->total_mem = s->total_mem;
    d->cc_major = (int)s->cc_major;
    d->cc_minor = (int)s->cc_minor;
}

/* simgpu runs PTX only: like simgpu itself, the shim asks the libraries that
 * pick their kernel images by CUDA_FORCE_PTX_JIT (cuBLASLt) for PTX, unless the
 * user chose a value. A real GPU behind the server changes nothing. */
static void ptx_jit_for_simgpu(const char *backend)
{
    const char *v = getenv("CUDA_FORCE_PTX_JIT");
    if (!backend || strcmp(backend, "simgpu") || (v && *v)) return;
    int saved = errno;
    if (setenv("CUDA_FORCE_PTX_JIT", "1", 1) == 0)
        rg_log(RG_LOG_INFO, "CUDA_FORCE_PTX_JIT=1 set: the server's simgpu runs PTX only");
    errno = saved;
}

static void keep_welcome(const Rgpu__Welcome *w)
{
    ptx_jit_for_simgpu(w->backend);
    rg_sess.driver_version = w->driver_version;
    rg_sess.session_id = w->session_id;
    rg_sess.ndev = 0;
    for (size_t i = 0; i < w->n_devices && i < RG_MAX_DEVICES; i++)
        keep_device(&rg_sess.dev[rg_sess.ndev++], w->devices[i]);
    rg_dev_apply_visible();
    C.credits = w->credits ? w->credits : INT32_MAX;
    credit_reserve = (int)rpc_credit_reserve(w->credits ? w->credits : UINT32_MAX);
    C.max_enc = w->max_enc_len && w->max_enc_len < RPC_MAX_ENC_LEN ? w->max_enc_len : 0;
    C.max_raw = w->max_raw_len && w->max_raw_len < RPC_MAX_RAW_LEN ? w->max_raw_len : 0;
    uint64_t lo = (uint64_t)(uintptr_t)rg_sess.window, hi = lo + rg_sess.window_size;
    if (w->window && (w->window->start < lo || w->window->start + w->window->size > hi))
        rg_log(RG_LOG_WARN, "the server's device window %#llx+%#llx is outside the reserved one",
               (unsigned long long)w->window->start, (unsigned long long)w->window->size);
    rg_log(RG_LOG_INFO, "session %llu on %s: %d device(s), backend %s, driver %d",
           (unsigned long long)w->session_id, rg_sess.cfg.server, rg_sess.ndev,
           w->backend ? w->backend : "?", w->driver_version);
}

static rpc_status handshake(rpc_error *err)
{
    struct rg_auth a;
    rpc_status st = send_hello(&a, err);
    explicit_bzero(rg_sess.cfg.token, sizeof rg_sess.cfg.token); /* needed once */
    if (st != RPC_OK) return st;
    rpc_hdr h;
    ProtobufCMessage *m = NULL;
    st = rpc_recv_msg(C.c, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0,
                      rg_sess.cfg.timeout_ms, &h, &m, err);
    if (st != RPC_OK) return st;
    Rgpu__Welcome *w = (Rgpu__Welcome *)m;
    st = rpc_welcome_check(w, err);
    if (st == RPC_OK) keep_welcome(w);
    protobuf_c_message_free_unpacked(m, NULL);
    return st;
}

CUresult rg_conn_open(void)
{
    tp_error te = {0};
    char why[TP_ERRLEN];
    if (rg_auth_tls(rg_sess.cfg.server, why, sizeof why)) {
        rg_log(RG_LOG_ERROR, "rgpud at %s: %s", rg_sess.cfg.server, why);
        return CUDA_ERROR_NO_DEVICE;
    }
    tp_status ts = tp_dial(rg_sess.cfg.server, rg_sess.cfg.timeout_ms, &C.c, &te);
    if (ts != TP_OK) {
        rg_log(RG_LOG_ERROR, "no rgpud at %s: %s", rg_sess.cfg.server,
               te.msg[0] ? te.msg : tp_strerror(ts));
        return CUDA_ERROR_NO_DEVICE;
    }
    rpc_error err = {0};
    rpc_status st = handshake(&err);
    if (st == RPC_OK && rg_sess.ndev == 0)
        st = rpc_fail(&err, RPC_E_REFUSED, "the session has no devices");
    if (st == RPC_OK) tp_set_read_ahead(C.c, 64u << 10); /* header and body: one receive */
    if (st == RPC_OK && rg_thread_start(rx_main) != 0)
        st = rpc_fail(&err, RPC_E_NOMEM, "cannot start the receiver thread");
    if (st != RPC_OK) {
        rg_log(RG_LOG_ERROR, "rgpud at %s: %s", rg_sess.cfg.server,
               err.msg[0] ? err.msg : rpc_strerror(st));
        tp_close(C.c);
        C.c = NULL;
        return CUDA_ERROR_NO_DEVICE;
    }
    C.last_rx_ms = now_ms();
    return CUDA_SUCCESS;
}
