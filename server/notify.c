/* notify.c — what the worker tells the client without being asked (NOTIFY
 * frames, docs/protocol.md):
 *
 * Host callbacks (cuLaunchHostFunc, cuStreamAddCallback). The shim keeps the
 * function and its data and sends a CALL naming the stream and a callback id;
 * the worker enqueues a backend host function of its own on the real stream.
 * When the stream reaches it, that function sends NOTIFY(op = kind, callback
 * id[, stream status]) and blocks the stream until the client's DONE CALL for
 * that id arrives (or the session ends), so the callback runs on the client in
 * stream order. The main loop handles DONE as soon as it reads it; while
 * callbacks are live, it hands other calls to the session executor (waiter.c)
 * so that a call blocked in the backend behind a callback never keeps it from
 * reading the acknowledgement.
 *
 * Device printf (DESIGN rule 10). The backend writes kernel output to fd 1,
 * which the worker turns into a pipe at start (its own log lines go to fd 2).
 * A reader thread forwards what arrives as NOTIFY(STDOUT) frames, and every
 * REPLY or NOTIFY is preceded by what the pipe holds, so text flushed during a
 * synchronisation reaches the client before that synchronisation's reply.
 * Device assert text: fd 2 is a pipe too (rgpud's log keeps a copy of the
 * original stderr, srv_log_fd); the device runtime's
 * "... thread: [x,y,z] Assertion `expr` failed." lines go to the client as NOTIFY(STDERR), the backend's other
 * lines to rgpud's log. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "session.h"

struct hostcb {
    struct session *s;
    uint64_t id;
    uint32_t kind;
    int done;
    struct hostcb *next;
};

int hostcb_op(const struct rpc_call_desc *d)
{
    return d && d->cls == RPC_CLASS_CLIENT &&
           (!strcmp(d->base, "cuLaunchHostFunc") || !strcmp(d->base, "cuStreamAddCallback"));
}

static void hostcb_run(struct hostcb *cb, CUresult status)
{
    struct session *s = cb->s;
    uint8_t b[12];
    rpc_wbuf w;
    rpc_wbuf_init(&w, b, sizeof b);
    rpc_put_u64(&w, cb->id);
    if (cb->kind == SRV_NOTIFY_CALLBACK) rpc_put_u32(&w, (uint32_t)status);
    rpc_hdr h = {.type = RPC_T_NOTIFY, .op = cb->kind};
    atomic_fetch_add(&s->busy, 1); /* heartbeats while the client runs it */
    int sent = !atomic_load(&s->closing) && session_send(s, &h, b, w.len, NULL, 0) == 0;
    pthread_mutex_lock(&s->lock);
    while (sent && !cb->done && !atomic_load(&s->closing) && !atomic_load(&s->fatal)) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 200 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->cb_cond, &s->lock, &dl);
    }
    for (struct hostcb **p = &s->cbs; *p; p = &(*p)->next)
        if (*p == cb) {
            *p = cb->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_sub(&s->busy, 1);
    atomic_fetch_sub(&s->live_cbs, 1);
    free(cb);
}

static void CUDA_CB on_hostfn(void *p)
{
    hostcb_run(p, CUDA_SUCCESS);
}

static void CUDA_CB on_stream_callback(CUstream st, CUresult status, void *p)
{
    (void)st;
    hostcb_run(p, status);
}

CUresult hostcb_enqueue(struct session *s, const struct rpc_call_desc *d, CUstream st, uint64_t id)
{
    static CUresult (*launch_host_func)(CUstream, CUhostFn, void *);
    static CUresult (*add_callback)(CUstream, CUstreamCallback, void *, unsigned);
    int is_cb = !strcmp(d->base, "cuStreamAddCallback");
    if (!launch_host_func) launch_host_func = (CUresult(*)(CUstream, CUhostFn, void *))dlsym(s->be.dl, "cuLaunchHostFunc");
    if (!add_callback)
        add_callback = (CUresult(*)(CUstream, CUstreamCallback, void *, unsigned))dlsym(s->be.dl, "cuStreamAddCallback");
    if (is_cb ? !add_callback : !launch_host_func) return CUDA_ERROR_NOT_SUPPORTED;
    struct hostcb *cb = calloc(1, sizeof *cb);
    if (!cb) return CUDA_ERROR_OUT_OF_MEMORY;
    *cb = (struct hostcb){s, id, is_cb ? SRV_NOTIFY_CALLBACK : SRV_NOTIFY_HOSTFN, 0, NULL};
    pthread_mutex_lock(&s->lock);
    cb->next = s->cbs;
    s->cbs = cb;
    pthread_mutex_unlock(&s->lock);
    CUresult r = is_cb ? add_callback(st, on_stream_callback, cb, 0) : launch_host_func(st, on_hostfn, cb);
    if (r != CUDA_SUCCESS) {
        pthread_mutex_lock(&s->lock);
        for (struct hostcb **p = &s->cbs; *p; p = &(*p)->next)
            if (*p == cb) {
                *p = cb->next;
                break;
            }
        pthread_mutex_unlock(&s->lock);
        free(cb);
    }
    return r;
}

void hostcb_done(struct session *s, uint64_t id)
{
    pthread_mutex_lock(&s->lock);
    for (struct hostcb *cb = s->cbs; cb; cb = cb->next)
        if (cb->id == id) cb->done = 1;
    pthread_cond_broadcast(&s->cb_cond);
    s->credit_owed++;
    pthread_mutex_unlock(&s->lock);
}

/* ---- device printf ---------------------------------------------------------------- */

/* fd 2 becomes a pipe read by the worker; its log keeps the original stderr. */
static void err_capture(struct session *s)
{
    int p[2], orig;
    s->err_fd = -1;
    s->err_len = 0;
    if ((orig = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) < 0) return;
    if (pipe2(p, O_CLOEXEC)) {
        close(orig);
        return;
    }
    srv_log_fd = orig;
    if (dup2(p[1], STDERR_FILENO) < 0) {
        srv_log_fd = STDERR_FILENO;
        close(orig), close(p[0]), close(p[1]);
        return;
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    s->err_fd = p[0];
}

int out_capture(struct session *s)
{
    int p[2];
    s->out_fd = -1;
    err_capture(s);
    if (s->err_fd < 0) srv_warn("cannot capture the backend's stderr; device assert text stays on the server");
    if (pipe2(p, O_CLOEXEC)) return -1;
    if (dup2(p[1], STDOUT_FILENO) < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    s->out_fd = p[0];
    return 0;
}

/* One line of the backend's stderr: device assert text (the device runtime's
 * "file:line: function: block: [x,y,z], thread: [x,y,z] Assertion `expr`
 * failed." line) goes to the client's stderr, anything
 * else (the backend's own log) to rgpud's log. */
static void err_line(struct session *s, const char *line, size_t n)
{
    int assert_text = memmem(line, n, "], thread: [", 12) && memmem(line, n, "] Assertion `", 13);
    if (assert_text && !s->out_lost) {
        struct iovec v = {(void *)line, n};
        rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_NOTIFY, .op = SRV_NOTIFY_STDERR};
        if (send_frames(s, &h, NULL, 0, &v, 1)) s->out_lost = 1;
        return;
    }
    ssize_t w = write(srv_log_fd, line, n);
    (void)w;
}

/* final: the backend is done, a partial last line goes out as it is. */
static void err_drain_locked(struct session *s, int final)
{
    if (s->err_fd < 0) return;
    for (;;) {
        ssize_t n = read(s->err_fd, s->err_buf + s->err_len, sizeof s->err_buf - s->err_len);
        if (n <= 0) break;
        s->err_len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < s->err_len; i++)
            if (s->err_buf[i] == '\n') {
                err_line(s, s->err_buf + start, i + 1 - start);
                start = i + 1;
            }
        if (start == 0 && s->err_len == sizeof s->err_buf) start = s->err_len, err_line(s, s->err_buf, s->err_len);
        memmove(s->err_buf, s->err_buf + start, s->err_len - start);
        s->err_len -= start;
    }
    if (final && s->err_len) err_line(s, s->err_buf, s->err_len), s->err_len = 0;
}

void out_drain_locked(struct session *s)
{
    char buf[1 << 16];
    for (; s->out_fd >= 0;) {
        ssize_t n = read(s->out_fd, buf, sizeof buf);
        if (n <= 0) break;
        struct iovec v = {buf, (size_t)n};
        rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_NOTIFY, .op = SRV_NOTIFY_STDOUT};
        if (!s->out_lost && send_frames(s, &h, NULL, 0, &v, 1)) s->out_lost = 1; /* read on: writers never block */
    }
    err_drain_locked(s, 0); /* after printf text, as the device runtime orders them */
}

static void *out_main(void *p)
{
    struct session *s = p;
    struct pollfd pf[2] = {{.fd = s->out_fd, .events = POLLIN}, {.fd = s->err_fd, .events = POLLIN}};
    while (!atomic_load(&s->out_quit)) {
        int n = poll(pf, 2, 100);
        if (n < 0 && errno != EINTR) break;
        if (n > 0 && ((pf[0].revents | pf[1].revents) & POLLIN)) {
            pthread_mutex_lock(&s->send_lock);
            out_drain_locked(s);
            pthread_mutex_unlock(&s->send_lock);
        } else if (n > 0) {
            break; /* POLLHUP / POLLERR */
        }
    }
    return NULL;
}

void out_start(struct session *s)
{
    if (s->out_fd >= 0 || s->err_fd >= 0)
        s->has_out_thread = pthread_create(&s->out_thread, NULL, out_main, s) == 0;
}

/* After cleanup: later backend output (its exit-time flush) goes nowhere
 * instead of filling a pipe nobody reads. */
void out_stop(struct session *s)
{
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    fflush(stdout);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    if (s->has_out_thread) {
        atomic_store(&s->out_quit, 1);
        pthread_join(s->out_thread, NULL);
        s->has_out_thread = 0;
    }
    pthread_mutex_lock(&s->send_lock);
    out_drain_locked(s);
    pthread_mutex_unlock(&s->send_lock);
    if (s->out_fd >= 0) close(s->out_fd);
    s->out_fd = -1;
    if (s->err_fd >= 0) {
        /* stderr is rgpud's again (exit-time messages land in its log) */
        dup2(srv_log_fd, STDERR_FILENO);
        pthread_mutex_lock(&s->send_lock);
        err_drain_locked(s, 1);
        pthread_mutex_unlock(&s->send_lock);
        close(s->err_fd);
        s->err_fd = -1;
    }
}
