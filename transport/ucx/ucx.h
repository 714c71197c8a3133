/* ucx.h — private to transport/ucx: the ucx:// connection. A TCP connection
 * (the tcp transport) carries the handshake and stays open as the control
 * channel; once the session worker adopts it, both ends exchange UCP worker
 * addresses over it ("the upgrade") and every later frame is a UCP active
 * message. See docs/transport.md. */
#ifndef RG_TP_UCX_H
#define RG_TP_UCX_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <ucp/api/ucp.h>

#include "../transport.h"

/* ---- the control channel's records (ucx_ctl.c) ------------------------------
 * Every byte on the TCP connection travels in a record: 8 header bytes
 * ('R' 'X' type 0, u32 little-endian length) then the payload. Before the
 * upgrade the byte stream rides in DATA records; the other kinds set up UCP. */
enum {
    UCX_REC_DATA = 'D',   /* stream bytes before the upgrade */
    UCX_REC_OFFER = 'U',  /* server -> client: the worker's UCP address */
    UCX_REC_ANSWER = 'A', /* client -> server: the client's UCP address */
    UCX_REC_REFUSE = 'N', /* either way: UCP cannot be set up (text follows) */
};
#define UCX_REC_HDR 8
#define UCX_ADDR_MAX (1u << 20)      /* an OFFER/ANSWER larger than this is hostile */
#define UCX_UPGRADE_TIMEOUT_MS 30000 /* the adopting worker waits this long for the ANSWER */
#define UCX_OP_POLL_US 200           /* a waiting send/fetch progresses at least this often */
#define UCX_EOF_GRACE_MS 500         /* after the control EOF: frames still in flight */
#define UCX_IDLE_POLL_MS 50          /* the progress thread progresses at least this often */
#define UCX_PARK_US 250              /* the progress thread keeps away this long after a spinning reader */
#define UCX_SPIN_NAP_US 1000         /* its look (the peer's end) while a reader spins */
#define UCX_EAGER_MAX (64u << 10)    /* frames up to this size are copied out, not fetched by the peer */

/* One received active message, kept in the stream's order. Its bytes are
 * first `buf` (the message's header bytes, plus the data of an eager message,
 * copied), then, for a rendezvous message, `len` bytes still at the sender
 * until a receive fetches them (into the caller's buffer when it asks for all
 * of them, else partly into `stage`). */
struct ucx_msg {
    struct ucx_msg *next;
    uint64_t seq;
    int pre; /* DATA record read while the upgrade was set up: before every message */
    int fin; /* the peer's orderly end of stream */
    char *buf;
    size_t blen, boff;
    void *desc;        /* rendezvous descriptor, NULL once fetched */
    size_t dlen, doff; /* doff counts what was handed to receives */
    char *stage;       /* data bytes [dlen - (staged), dlen) of a partly fetched message */
    size_t soff;
};

/* The prefix of every active message's header. */
struct ucx_am_hdr {
    uint64_t seq;
    uint32_t flags; /* UCX_AM_FIN */
    uint32_t inline_len;
};
#define UCX_AM_FIN 1u
#define UCX_AM_ID 7

struct ucx_conn {
    tp_conn base; /* first: tp_container_of converts back */
    tp_conn *ctl; /* the tcp connection: handshake bytes, then liveness */
    int epfd;     /* tp_conn_fd: the ctl socket before the upgrade, rxfd after */
    int rxfd;     /* eventfd, readable while a message is ready or the stream ended */
    int wakefd;   /* eventfd that wakes the progress thread */
    unsigned busy_us;
    _Atomic int upgraded;
    _Atomic int shut; /* tp_shutdown: both directions over */

    /* before the upgrade */
    pthread_mutex_t ctl_tx; /* PRE sends vs the switch to UCP */
    uint32_t rec_left;      /* bytes left in the DATA record being read */

    /* UCP; every call into it holds mu */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* any change: a message, a completion, the end */
    ucp_context_h ctx;
    ucp_worker_h worker;
    ucp_ep_h ep;
    int efd;
    size_t inline_max; /* header bytes an active message may carry */
    pthread_t progress;
    int have_progress, stop;
    /* Receivers busy-polling the worker themselves (inside ucx_recv, not asleep):
     * while there are any, and for UCX_PARK_US after the last, the progress
     * thread leaves the worker unarmed (park_cv), so that no message costs a
     * wake-up (a shared-memory sender's signal, the thread, the lock) and the
     * readiness eventfd is left alone until the spinner is done. */
    pthread_cond_t park_cv;
    int spinners;
    long long park_until_ns;
    uint64_t tx_seq, rx_seq;
    struct ucx_msg *q; /* sorted: pre messages, then by seq */
    int rx_signalled;
    int fin_seen, ctl_eof, peer_gone, ep_failed;
    long long eof_at_ns;
    char why[TP_ERRLEN]; /* the first failure the progress side saw */
    int rx_broken, tx_broken;
    struct ucx_conn *live_next; /* ucx_worker.c: connections to quiesce at exit */
    pid_t owner;                /* the process whose progress thread it is */
};

struct ucx_listener {
    tp_listener base;
    tp_listener *tcp;
};

static inline struct ucx_conn *ucx_conn_of(tp_conn *c)
{
    return tp_container_of(c, struct ucx_conn, base);
}
static inline struct ucx_listener *ucx_listener_of(tp_listener *l)
{
    return tp_container_of(l, struct ucx_listener, base);
}

/* ucx_ctl.c: connections and the control channel. */
tp_status ucx_listen(const tp_transport *t, const tp_url *url, tp_listener **out, tp_error *err);
tp_status ucx_accept(tp_listener *l, int timeout_ms, tp_conn **out, tp_error *err);
tp_status ucx_listener_url(tp_listener *l, char *buf, size_t len, tp_error *err);
int ucx_listener_fd(tp_listener *l);
void ucx_listener_close(tp_listener *l);
tp_status ucx_dial(const tp_transport *t, const tp_url *url, int timeout_ms, tp_conn **out,
                   tp_error *err);
tp_status ucx_adopt(const tp_transport *t, int fd, tp_conn **out, tp_error *err);
tp_status ucx_detach(tp_conn *c, int *fd, tp_error *err);
/* A record's header for type and len into h[UCX_REC_HDR]. */
void ucx_rec_header(uint8_t *h, int type, uint32_t len);
tp_status ucx_pre_sendv(struct ucx_conn *u, const struct iovec *iov, int iovcnt, int timeout_ms,
                        tp_error *err);
tp_status ucx_pre_recv(struct ucx_conn *u, void *buf, size_t len, int timeout_ms, tp_error *err);

/* ucx_worker.c: UCP context, worker, endpoint and the progress thread. */
tp_status ucx_ucp_open(struct ucx_conn *u, tp_error *err);
tp_status ucx_ucp_address(struct ucx_conn *u, void **addr, size_t *len, tp_error *err);
void ucx_ucp_address_free(struct ucx_conn *u, void *addr);
tp_status ucx_ucp_connect(struct ucx_conn *u, const void *addr, size_t len, tp_error *err);
/* Starts the progress thread and switches tp_conn_fd to rxfd. */
tp_status ucx_ucp_start(struct ucx_conn *u, tp_error *err);
void ucx_ucp_close(struct ucx_conn *u);
/* mu held or no other user: progresses until req ends (at most 2 s), then frees it. */
void ucx_wait_request(struct ucx_conn *u, void *req);
/* Waits on u->cv (mu held) until *flag (NULL: a message is ready), the
 * deadline (0: none) or the stream's end;
 * the first busy_us spin in ucp_worker_progress. TP_OK or TP_TIMEOUT. */
tp_status ucx_wait(struct ucx_conn *u, volatile int *flag, long long deadline_ns, unsigned busy_us);
/* mu held: makes rxfd readable exactly while a receive would not block. */
void ucx_update_ready(struct ucx_conn *u);

/* ucx_io.c: frames over UCP. */
tp_status ucx_sendv(tp_conn *c, const struct iovec *iov, int iovcnt, int timeout_ms, tp_error *err);
tp_status ucx_recv(tp_conn *c, void *buf, size_t len, int timeout_ms, tp_error *err);
tp_status ucx_set_busy_poll(tp_conn *c, unsigned usec);
int ucx_conn_fd(tp_conn *c);
size_t ucx_pending(tp_conn *c);
tp_status ucx_shutdown(tp_conn *c);
void ucx_close(tp_conn *c);
/* mu held: the active-message handler's work, and whether the head is readable. */
int ucx_head_ready(struct ucx_conn *u);
void ucx_queue_insert(struct ucx_conn *u, struct ucx_msg *m);
void ucx_msg_free(struct ucx_conn *u, struct ucx_msg *m);

#endif
