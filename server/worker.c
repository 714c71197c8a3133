/* worker.c — `rgpud --worker`: one session. Adopts the connection, loads the
 * backend (simgpu placed in the client's device address window), answers the
 * HELLO with a WELCOME, then reads frames until the session ends, however it
 * ends, and destroys what the session made before exiting. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imagecache.h"
#include "bulk.h"
#include "log.h"
#include "msg.h"
#include "quota.h"
#include "rgpud.h"
#include "session.h"
#ifdef RGPU_GL
#include "gl/gl_hook.h"
#endif

#define USER_VA_END (1ull << 47)

static Rgpu__Hello *read_hello(int fd)
{
    struct stat st;
    Rgpu__Hello *m = NULL;
    if (fd < 0 || fstat(fd, &st) || st.st_size > RPC_MAX_HANDSHAKE_LEN) return NULL;
    uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
    if (buf && pread(fd, buf, st.st_size, 0) == st.st_size)
        m = rgpu__hello__unpack(NULL, st.st_size, buf);
    free(buf);
    close(fd);
    return m;
}

/* The session's tenant, as the supervisor authenticated it (NULL: anonymous). */
static const char *tenant_of(const struct srv_config *cfg, const Rgpu__Hello *m, char *buf,
                             size_t len)
{
    const char *token = m->credentials ? m->credentials->token : NULL;
    if (!cfg->tenants[0]) return NULL;
    if (m->auth_user && m->auth_user[0]) return m->auth_user;
    const char *colon = token ? strchr(token, ':') : NULL;
    if (!colon) return NULL;
    snprintf(buf, len, "%.*s", (int)(colon - token), token);
    return buf;
}

static int is_nvidia(const struct session *s)
{
    return !strcmp(s->cfg->backend, "nvidia");
}

/* Places simgpu's device memory in the client's window (docs/remoting.md). */
static int window_setup(struct session *s, const Rgpu__Hello *m, char *why, size_t len)
{
    const Rgpu__AddressWindow *w = m->window;
    if (w && w->size && w->start + w->size > w->start) {
        s->win_base = w->start; /* every VMM reservation must lie inside (dispatch.c) */
        s->win_size = w->size;
    }
    if (!w || !w->size || is_nvidia(s)) return 0;
    if ((w->start & 0xfff) || (w->size & 0xfff) || w->size < (64ull << 20) ||
        w->start + w->size < w->start || w->start + w->size > USER_VA_END || w->start < (1ull << 32)) {
        snprintf(why, len, "device address window [%#llx, +%#llx) cannot be used (page-aligned, "
                 ">= 64 MiB, above 4 GiB and below 2^47 are required)",
                 (unsigned long long)w->start, (unsigned long long)w->size);
        return -1;
    }
    char v[32];
    snprintf(v, sizeof v, "%#llx", (unsigned long long)w->start);
    setenv("SIMGPU_VA_BASE", v, 1);
    snprintf(v, sizeof v, "%llu", (unsigned long long)w->size);
    setenv("SIMGPU_VA_SIZE", v, 1);
    return 0;
}

static void refuse(struct session *s, const char *why)
{
    srv_warn("refused: %s", why);
    Rgpu__Welcome w = RGPU__WELCOME__INIT;
    w.message = (char *)why;
    w.protocol_version = RPC_PROTO_VERSION;
    w.server_version = (char *)RGPU_VERSION;
    w.backend = s->cfg->backend;
    w.session_id = s->id;
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_WELCOME};
    rpc_send_msg(s->c, RPC_FROM_SERVER, &h, &w.base, 5000, NULL);
}

struct welcome_store {
    Rgpu__DeviceSummary dev[SRV_MAX_DEVICES], *pdev[SRV_MAX_DEVICES];
    char names[SRV_MAX_DEVICES][256];
    CUuuid uuids[SRV_MAX_DEVICES];
    Rgpu__AddressWindow win;
};

static CUresult describe_device(struct session *s, struct welcome_store *ws, int i)
{
    struct backend *b = &s->be;
    CUdevice d;
    size_t mem = 0;
    int ma = 0, mi = 0;
    CUresult r;
    if ((r = b->cuDeviceGet(&d, i)) || (r = b->cuDeviceGetName(ws->names[i], 255, d)) ||
        (r = b->cuDeviceGetUuid(&ws->uuids[i], d)) || (r = b->cuDeviceTotalMem(&mem, d)) ||
        (r = b->cuDeviceGetAttribute(&ma, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d)) ||
        (r = b->cuDeviceGetAttribute(&mi, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d)))
        return r;
    mem = quota_device_total(i, mem); /* the session's view (quota.c) */
    Rgpu__DeviceSummary *ds = &ws->dev[i];
    rgpu__device_summary__init(ds);
    ds->ordinal = i;
    ds->name = ws->names[i];
    ds->uuid.data = (uint8_t *)ws->uuids[i].bytes;
    ds->uuid.len = 16;
    ds->total_mem = mem;
    ds->cc_major = ma;
    ds->cc_minor = mi;
    ws->pdev[i] = ds;
    return CUDA_SUCCESS;
}

/* The client's CUDA_MODULE_LOADING is the backend's (the driver reads it at
 * cuInit); the server's own value must not leak into the session. Only the
 * short upper-case words the driver knows a value of are passed on. */
static void module_loading_setup(const Rgpu__Hello *m)
{
    const char *v = m->module_loading;
    size_t n = v ? strlen(v) : 0;
    int ok = n > 0 && n <= 16;
    for (size_t i = 0; ok && i < n; i++) ok = v[i] >= 'A' && v[i] <= 'Z';
    if (ok) setenv("CUDA_MODULE_LOADING", v, 1);
    else unsetenv("CUDA_MODULE_LOADING");
    if (n && !ok) srv_warn("CUDA_MODULE_LOADING from the client is not a word; ignored");
}

/* Loads the backend, initialises it and sends the WELCOME (or the refusal). */
static int welcome(struct session *s, const Rgpu__Hello *m, const char *lib)
{
    char why[1024];
    static struct welcome_store ws;
    int drv = 0, n = 0;
    CUresult r;
    module_loading_setup(m);
    if (window_setup(s, m, why, sizeof why) || backend_load(&s->be, lib, why, sizeof why)) goto refuse;
    if ((r = s->be.cuInit(0)) != CUDA_SUCCESS) {
        snprintf(why, sizeof why, "backend %s: cuInit failed with %d%s", s->cfg->backend, r,
                 getenv("SIMGPU_VA_BASE") ? " (is the device address window free on the server?)" : "");
        goto refuse;
    }
    s->be.cuDriverGetVersion(&drv);
    s->be.cuDeviceGetCount(&n);
    if (n > SRV_MAX_DEVICES) n = SRV_MAX_DEVICES;
    if (m->devices_wanted && (int)m->devices_wanted < n) n = (int)m->devices_wanted;
    for (int i = 0; i < n; i++)
        if ((r = describe_device(s, &ws, i)) != CUDA_SUCCESS) {
            snprintf(why, sizeof why, "backend %s: device %d does not answer (%d)", s->cfg->backend, i, r);
            goto refuse;
        }
    if (n == 0) {
        snprintf(why, sizeof why, "backend %s has no device", s->cfg->backend);
        goto refuse;
    }
    s->ndev = n;
    layout_install(&s->be);
    handles_reserve(s->h, (uint64_t)n); /* server serials 1..n: primary contexts */

    Rgpu__Welcome w = RGPU__WELCOME__INIT;
    w.accepted = 1;
    w.protocol_version = RPC_PROTO_VERSION;
    w.server_version = (char *)RGPU_VERSION;
    w.driver_version = drv;
    w.backend = s->cfg->backend;
    w.n_devices = n;
    w.devices = ws.pdev;
    w.session_id = s->id;
    if (getenv("SIMGPU_VA_BASE")) {
        rgpu__address_window__init(&ws.win);
        ws.win.start = m->window->start;
        ws.win.size = m->window->size;
        w.window = &ws.win;
    }
    w.credits = s->cfg->credits;
    w.max_enc_len = RPC_MAX_ENC_LEN;
    w.max_raw_len = SRV_BULK_PIECE; /* bulk in frames of the pieces bulk.c reads (it accepts more) */
    w.heartbeat_ms = s->cfg->heartbeat_ms;
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_WELCOME};
    rpc_error e;
    if (rpc_send_msg(s->c, RPC_FROM_SERVER, &h, &w.base, 10000, &e) != RPC_OK) {
        srv_warn("cannot send WELCOME: %s", e.msg);
        return -1;
    }
    srv_info("welcome: %d device(s), backend %s, driver %d", n, s->cfg->backend, drv);
    return 0;
refuse:
    refuse(s, why);
    return -1;
}

/* ---- the frame loop ----------------------------------------------------------------- */

int protocol_error(struct session *s, const char *what)
{
    srv_err("protocol error, ending the session: %s", what);
    rpc_send_error(s->c, RPC_FROM_SERVER, RGPU__ERROR_KIND__ERROR_PROTOCOL, 1, 2000, NULL, "%s", what);
    return -1;
}

/* Appends the DATA frames that continue a call's raw bytes. */
static int gather_data(struct session *s, struct call *cl, rpc_error *e)
{
    rpc_hdr h = cl->h;
    while (h.flags & RPC_F_MORE) {
        void *enc = NULL;
        if (rpc_frame_recv(s->c, RPC_FROM_CLIENT, 0, TP_FOREVER, &h, &enc, e) != RPC_OK) return -1;
        free(enc);
        if (h.type != RPC_T_DATA || h.thread != cl->h.thread || h.seq != cl->h.seq ||
            cl->raw_len + h.raw_len > SRV_MAX_CALL_RAW) {
            rpc_fail(e, RPC_E_UNEXPECTED, "a %s frame where DATA of thread %u seq %llu was due",
                     rpc_type_name(h.type), cl->h.thread, (unsigned long long)cl->h.seq);
            return -1;
        }
        void *p = realloc(cl->raw, cl->raw_len + h.raw_len + 1);
        if (!p) return rpc_fail(e, RPC_E_NOMEM, "no memory for a call's bytes"), -1;
        cl->raw = p;
        if (rpc_frame_recv_raw(s->c, (char *)cl->raw + cl->raw_len, h.raw_len, 30000, e)) return -1;
        cl->raw_len += h.raw_len;
    }
    return 0;
}

static int receive_raw(struct session *s, struct call *cl, rpc_error *e)
{
    cl->raw_len = cl->h.raw_len;
    if (!(cl->raw = malloc(cl->raw_len + 1))) return rpc_fail(e, RPC_E_NOMEM, "no memory"), -1;
    if (cl->raw_len && rpc_frame_recv_raw(s->c, cl->raw, cl->raw_len, 30000, e)) return -1;
    return gather_data(s, cl, e);
}

/* Takes a CALL frame whose header and encoded part arrived. 0 or -1 (end). */
static int on_call(struct session *s, rpc_hdr *h, void *enc, struct cthread *reader)
{
    rpc_error e = {0};
    struct call *cl = calloc(1, sizeof *cl);
    if (!cl) {
        free(enc);
        return protocol_error(s, "out of memory");
    }
    cl->h = *h;
    cl->enc = enc;
    cl->d = rpc_call_by_op(h->op);
    int streamed = bulk_in_wanted(s, cl); /* bulk.c: its bytes are read once its lane has it */
    if (!streamed && receive_raw(s, cl, &e)) {
        call_free(cl);
        return protocol_error(s, e.msg);
    }
    pthread_mutex_lock(&s->lock);
    cl->t = cthread_get(s, h->thread);
    int seq_ok = cl->t && h->seq == cl->t->last_seq + 1;
    if (seq_ok) cl->t->last_seq = h->seq;
    pthread_mutex_unlock(&s->lock);
    if (!seq_ok) {
        const char *why = cl->t ? "CALL out of sequence for its thread" : "too many client threads";
        call_free(cl);
        return protocol_error(s, why);
    }
    if (hostcb_op(cl->d)) { /* notify.c: DONE is handled at once, ENQUEUE makes a callback live */
        rpc_rbuf rb;
        rpc_rbuf_init(&rb, cl->enc, cl->h.enc_len);
        uint32_t sub = rpc_get_u32(&rb);
        if (sub == SRV_CB_DONE) {
            uint64_t id = rpc_get_u64(&rb);
            int ok = rpc_rbuf_done(&rb) && (cl->h.flags & RPC_F_NOREPLY);
            if (ok) hostcb_done_data(s, id, cl->raw, cl->raw_len); /* a FETCH's bytes, if any */
            call_free(cl);
            if (!ok) return protocol_error(s, "malformed host callback acknowledgement");
            return 0;
        }
        atomic_fetch_add(&s->live_cbs, 1);
    }
    /* the main loop never runs calls itself: it keeps reading (callback acks, other
     * threads' calls) however long a call blocks in the backend; a streamed copy's
     * bytes are read by a thread other than the lane that takes them */
    if (lane_submit(s, cl, !streamed))
        return protocol_error(s, "cannot start a worker thread for a client thread");
    if (streamed && reader == cl->t) {
        pthread_mutex_lock(&s->lock);
        s->rd_bulk = cl; /* the main loop reads them, and reads on */
        s->rd_lane = NULL;
        pthread_cond_signal(&s->rd_cv);
        rd_wake_main(s);
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    if (streamed && bulk_in_receive(s, cl, &e)) return protocol_error(s, e.msg);
    return 0;
}

/* Credits of pipelined calls go back in batches: a CREDIT frame once a quarter
 * of the window is owed and the client has nothing more queued, or half of it
 * whatever is queued (a client issuing faster than the lane runs would
 * otherwise wait for the whole window to drain, and the lane then for it:
 * +10-18% launches/s in loops over tcp and ucx-shm). Fewer never
 * stall it: it waits for credits only when all but its reserve
 * (rpc_credit_reserve) are out, and a REPLY carries whatever is owed. Calls
 * that stay blocked in the backend hold theirs back meanwhile, so the
 * heartbeat thread also returns any owed remainder (min 1) every few ms. */
static uint32_t credit_batch(uint32_t window)
{
    uint32_t q = window / 4, most = window - rpc_credit_reserve(window);
    if (q > most) q = most;
    return q ? q : 1;
}

void flush_credits(struct session *s, uint32_t min)
{
    struct pollfd pf = {.fd = tp_conn_fd(s->c), .events = POLLIN};
    uint32_t owed = atomic_load(&s->credit_owed);
    if (owed < min ||
        (owed < 2 * min && (tp_pending(s->c) || (pf.fd >= 0 && poll(&pf, 1, 0) > 0))))
        return;
    rpc_hdr h = {.type = RPC_T_CREDIT};
    session_send(s, &h, NULL, 0, NULL, 0);
}

static int on_frame(struct session *s, rpc_hdr *h, void *enc, struct cthread *reader)
{
    switch (h->type) {
    case RPC_T_CALL: return on_call(s, h, enc, reader);
    case RPC_T_HEARTBEAT: free(enc); return 0;
    case RPC_T_CLOSE: free(enc); srv_info("client closed the session"); return 1;
    case RPC_T_ERROR: free(enc); srv_warn("client sent an ERROR frame; ending"); return 1;
    default:
        free(enc);
        return protocol_error(s, h->type == RPC_T_DATA ? "DATA frame without its CALL"
                                                       : "frame type a client may not send here");
    }
}

int read_one(struct session *s, struct cthread *reader)
{
    rpc_hdr h;
    void *enc = NULL;
    rpc_error e = {0};
    rpc_status st = rpc_frame_recv(s->c, RPC_FROM_CLIENT, 0, TP_FOREVER, &h, &enc, &e);
    if (atomic_load(&s->fatal) || atomic_load(&s->closing)) {
        free(enc);
        return 1;
    }
    if (st == RPC_E_CLOSED) {
        srv_info("client went away");
        return 1;
    }
    if (st == RPC_E_TRANSPORT || st == RPC_E_TIMEOUT) {
        srv_warn("connection lost: %s", e.msg);
        return 1;
    }
    if (st != RPC_OK) {
        protocol_error(s, e.msg);
        return 1;
    }
    if (on_frame(s, &h, enc, reader)) return 1;
    flush_credits(s, s->credit_batch);
    return 0;
}

/* s->lock held, the role the main loop's: waits (the lock released) until a frame
 * is there to read, a streamed copy's bytes are its to read (1: read now), or a
 * lane takes the role back meanwhile (lane.c: a lane whose long call ended; 0).
 * Takes no byte, so the role can change hands until the read begins; whoever
 * changes it writes rd_wake_fd. Without a descriptor it reads at once. */
static int watch_for_frame(struct session *s)
{
    struct pollfd pf[2] = {{.fd = tp_conn_fd(s->c), .events = POLLIN},
                           {.fd = s->rd_wake_fd, .events = POLLIN}};
    if (pf[0].fd < 0 || pf[1].fd < 0) return 1;
    s->rd_watching = 1;
    while (!s->rd_lane && !s->rd_bulk && !s->rd_ended && !atomic_load(&s->fatal) &&
           !atomic_load(&s->closing)) {
        pthread_mutex_unlock(&s->lock);
        int frame = tp_pending(s->c) > 0; /* or the connection's end, or an error */
        if (!frame) {
            int n = poll(pf, 2, SRV_WATCH_MS);
            uint64_t k;
            if (n > 0 && (pf[1].revents & POLLIN)) /* the wake-up, consumed */
                (void)!read(s->rd_wake_fd, &k, sizeof k);
            frame = n > 0 ? pf[0].revents != 0 : n < 0 && errno != EINTR;
        }
        pthread_mutex_lock(&s->lock);
        if (frame) break;
    }
    s->rd_watching = 0;
    return !s->rd_lane && !s->rd_ended;
}

void rd_wake_main(struct session *s)
{
    uint64_t one = 1;
    if (s->rd_watching && s->rd_wake_fd >= 0 && write(s->rd_wake_fd, &one, sizeof one) < 0)
        srv_warn("cannot wake the main loop: %s", strerror(errno));
}

/* The main loop: reads while no lane holds the reading role, takes it back from
 * a lane that has not been receiving for SRV_STEAL_US, and reads the bytes of a
 * streamed copy its own lane read the call of. Returns at the session's end.
 * The lane only counts its receives begun and ended (rd_gen); how long one
 * state has lasted is timed here, from when this loop first saw it, so it
 * acts between one and two periods after the change. */
static void serve(struct session *s)
{
    unsigned seen_gen = 0;
    long long seen_at = srv_now_ns();
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->rd_ended && s->rd_lane) {
            long long now = srv_now_ns();
            if (s->rd_gen != seen_gen) seen_gen = s->rd_gen, seen_at = now;
            long long since = now - seen_at;
            if (s->rd_reading && since >= SRV_READER_IDLE_MS * 1000000LL) {
                s->rd_main_asleep = 1; /* the lane waits for frames: it wakes us when it stops */
                pthread_cond_wait(&s->rd_cv, &s->lock);
                s->rd_main_asleep = 0;
                continue;
            }
            if (!s->rd_reading && since >= SRV_STEAL_US * 1000LL) {
                s->rd_lane = NULL; /* a call runs long, or waits: frames must be read */
                break;
            }
            /* A receiving lane is doing what is needed: look less often (each look
             * wakes a thread on cores the lane and the client spin on). */
            struct timespec dl;
            srv_deadline_us(&dl, s->rd_reading ? SRV_READER_NAP_US : SRV_STEAL_US);
            pthread_cond_timedwait(&s->rd_cv, &s->lock, &dl);
        }
        if (s->rd_ended) break;
        if (!s->rd_bulk && !watch_for_frame(s)) continue; /* a lane took the role back */
        struct call *bulk = s->rd_bulk;
        s->rd_bulk = NULL;
        pthread_mutex_unlock(&s->lock);
        /* no busy-poll here: right after a frame the CPU is the lane's, which makes the
         * reply the next frame waits for (a lane reading for itself does poll) */
        reader_busy_poll(s, 0);
        rpc_error e = {0};
        int end = bulk ? bulk_in_receive(s, bulk, &e) && (protocol_error(s, e.msg), 1)
                       : read_one(s, NULL);
        pthread_mutex_lock(&s->lock);
        if (end) s->rd_ended = 1;
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- heartbeats and the turn watch --------------------------------------------------------------------- */

static void *heartbeat_main(void *p)
{
    struct session *s = p;
    int ms = s->cfg->heartbeat_ms, nap = ms / 4 < 20 ? ms / 4 : 20;
    while (!atomic_load(&s->closing)) {
        usleep((useconds_t)(nap > 0 ? nap : 1) * 1000);
        turn_watch(s);
        flush_credits(s, 1); /* what calls blocked in the backend kept from a batch */
        if (atomic_load(&s->busy) > 0 && srv_now_ms() - atomic_load(&s->last_send) >= ms) {
            rpc_hdr h = {.type = RPC_T_HEARTBEAT};
            session_send(s, &h, NULL, 0, NULL, 0);
        }
    }
    return NULL;
}

static void on_term(int sig)
{
    (void)sig;
    _exit(0); /* the supervisor is stopping: the kernel and the driver free the rest */
}

int srv_worker_main(struct srv_config *cfg, struct srv_worker_args *wa)
{
    static struct session s;
    tp_error te = {0};
    pthread_t hb;
    srv_log_session(wa->session);
    signal(SIGTERM, on_term);
    s.cfg = cfg;
    s.credit_batch = credit_batch((uint32_t)cfg->credits);
    s.id = wa->session;
    pthread_mutex_init(&s.lock, NULL);
    pthread_mutex_init(&s.send_lock, NULL);
    pthread_mutex_init(&s.mem_mu, NULL);
    pthread_cond_init(&s.cond, NULL);
    pthread_cond_init(&s.cb_cond, NULL);
    pthread_cond_init(&s.rd_cv, NULL);
    s.rd_poll_us = -1;
    s.rd_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* -1: the main loop reads at once */
    if (out_capture(&s)) srv_warn("cannot capture the backend's stdout; device printf stays on the server");
    Rgpu__Hello *m = read_hello(wa->hello_fd);
    tp_url lu; /* the connection is of the listener's scheme (ucx: the upgrade happens here) */
    const char *scheme = tp_url_parse(cfg->listen, &lu, NULL) == TP_OK ? lu.scheme : "tcp";
    if (!m || !(s.h = handles_new()) || tp_adopt(scheme, wa->fd, &s.c, &te) != TP_OK) {
        srv_err("worker: bad start (hello %s, connection %s)", m ? "ok" : "missing", te.msg);
        return 1;
    }
    tp_fd_inherit(wa->fd, 0, NULL);
    tp_set_read_ahead(s.c, 64u << 10); /* pipelined calls come in batches (tcp; others buffer) */
    char tenant[256];
    imagecache_open(cfg, tenant_of(cfg, m, tenant, sizeof tenant)); /* code images sent once */
    int rc = welcome(&s, m, wa->backend_lib);
    rgpu__hello__free_unpacked(m, NULL);
    if (rc) {
        out_stop(&s); /* the backend's own error lines reach the log */
        tp_close(s.c);
        return 0;
    }
    atomic_store(&s.last_send, srv_now_ms());
    int have_hb = pthread_create(&hb, NULL, heartbeat_main, &s) == 0;
    out_start(&s);
    serve(&s);
    tp_shutdown(s.c);
    int joined = lanes_stop(&s, 2000) == 0;
#ifdef RGPU_GL
    gl_stop(); /* the frame sender lets go of the connection */
#endif
    if (have_hb) pthread_join(hb, NULL);
    if (joined) session_cleanup(&s);
    else srv_warn("calls still running in the backend; leaving cleanup to process exit");
    out_stop(&s);
    srv_info("session ended");
    tp_close(s.c);
    return 0;
}
