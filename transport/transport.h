/* transport.h — the byte-stream transports rpc runs on (tcp now, ucx later).
 * One ops table per transport, registered by URL scheme; callers use the tp_*
 * wrappers, which never see a NULL op (missing ops answer TP_NOTSUP). */
#ifndef RG_TRANSPORT_H
#define RG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors: this layer's own codes; no CUresult here ------------------- */

typedef enum tp_status {
    TP_OK = 0,
    TP_TIMEOUT, /* no progress within the timeout */
    TP_CLOSED,  /* orderly end of stream from the peer (EOF) */
    TP_REFUSED, /* dial: nobody listens there */
    TP_UNREACH, /* dial: network or host unreachable */
    TP_ADDR,    /* malformed URL, unknown scheme, host that does not resolve */
    TP_INVAL,   /* bad argument (NULL, too many iovecs, fd that is no socket) */
    TP_NOMEM,   /* allocation failed */
    TP_NOTSUP,  /* this transport does not provide the op */
    TP_BROKEN,  /* an earlier transfer in this direction stopped half-way */
    TP_ERR,     /* any other system error; tp_error.sys says which */
} tp_status;

#define TP_ERRLEN 192

/* Detail of a failure, filled by any op given a non-NULL pointer. msg is a
 * complete phrase, e.g. "connection refused to 127.0.0.1:7070". */
typedef struct tp_error {
    tp_status status;
    int sys; /* errno at the failure, 0 if none */
    char msg[TP_ERRLEN];
} tp_error;

/* Static text for a status ("timed out", "connection closed by peer", ...). */
const char *tp_strerror(tp_status st);

/* ---- timeouts --------------------------------------------------------------
 * Every blocking op takes timeout_ms: TP_FOREVER (< 0) waits without limit,
 * 0 tries once without blocking, > 0 is a limit on *silence*: the clock
 * restarts whenever bytes move, so a 64 MiB transfer that keeps flowing never
 * times out, a stalled one does (DESIGN rule 8 counts seconds of silence). */
#define TP_FOREVER (-1)

/* ---- URLs ------------------------------------------------------------------ */

#define TP_SCHEME_MAX 16
#define TP_HOST_MAX 256

/* scheme://host:port; an IPv6 literal is bracketed: tcp://[::1]:0.
 * Port 0 asks the listener for an ephemeral port. */
typedef struct tp_url {
    char scheme[TP_SCHEME_MAX];
    char host[TP_HOST_MAX]; /* without brackets; empty means "any address" */
    int port;               /* 0..65535 */
} tp_url;

tp_status tp_url_parse(const char *text, tp_url *out, tp_error *err);
/* Writes "scheme://host:port" (brackets around IPv6 literals) into buf. */
int tp_url_format(const tp_url *u, char *buf, size_t len);

/* ---- objects ---------------------------------------------------------------
 * Opaque to callers. An implementation embeds the base struct first in its own
 * (struct tcp_conn { tp_conn base; int fd; ... }) and converts with
 * tp_container_of. */
typedef struct tp_transport tp_transport;
typedef struct tp_conn tp_conn;
typedef struct tp_listener tp_listener;

/* The busy-poll budget a new connection starts with, in microseconds. */
#define TP_BUSY_POLL_DEFAULT_US 50

/* ---- the API callers use -------------------------------------------------- */

/* Listens on url (e.g. "tcp://127.0.0.1:7070", "tcp://[::1]:0"). Does not block.
 * On success *out is owned by the caller until tp_listener_close. */
tp_status tp_listen(const char *url, tp_listener **out, tp_error *err);

/* Waits up to timeout_ms for a peer. Blocks. On TP_OK *out is a new connection
 * owned by the caller (release with tp_close or tp_detach). TP_TIMEOUT if
 * nobody came. */
tp_status tp_accept(tp_listener *l, int timeout_ms, tp_conn **out, tp_error *err);

/* The address actually bound, as a URL ("tcp://127.0.0.1:41233"). Does not block. */
tp_status tp_listener_url(tp_listener *l, char *buf, size_t len, tp_error *err);
/* The bound port, or -1 if the transport has no ports. Does not block. */
int tp_listener_port(tp_listener *l);
/* A descriptor that polls readable (POLLIN) when tp_accept may succeed; owned by
 * the listener. -1 if the transport has none. */
int tp_listener_fd(tp_listener *l);
/* Stops listening and frees l. Accepted connections live on. NULL is a no-op. */
void tp_listener_close(tp_listener *l);

/* Connects to url, waiting at most timeout_ms for the connection to be set up
 * (name resolution itself is not bounded by it). Blocks. On TP_OK *out is owned
 * by the caller. Failures say what and where: "connection refused to
 * 127.0.0.1:7070". */
tp_status tp_dial(const char *url, int timeout_ms, tp_conn **out, tp_error *err);

/* Sends the whole frame described by iov[0..iovcnt) (at most TP_IOV_MAX
 * entries): everything or an error. Blocks until every byte is handed to the
 * kernel; the buffers are only read, never copied into an intermediate buffer,
 * and belong to the caller again when the call returns. One thread may send
 * while another receives; two concurrent senders must be serialised by the
 * caller. After a failure half-way through a frame the send side is TP_BROKEN. */
#define TP_IOV_MAX 64
tp_status tp_sendv(tp_conn *c, const struct iovec *iov, int iovcnt, int timeout_ms, tp_error *err);
/* tp_sendv of one buffer. */
tp_status tp_send(tp_conn *c, const void *buf, size_t len, int timeout_ms, tp_error *err);

/* Receives exactly len bytes into buf (caller-owned). Blocks: first a bounded
 * busy-poll (see tp_set_busy_poll), then sleeps in poll(). TP_CLOSED if the peer
 * ended the stream before the first byte; an EOF after some bytes is TP_ERR
 * (a truncated message). TP_TIMEOUT before the first byte leaves the
 * connection usable; a timeout or error after some bytes leaves the receive
 * side TP_BROKEN (the stream is out of step). len == 0 returns TP_OK at once. */
tp_status tp_recv(tp_conn *c, void *buf, size_t len, int timeout_ms, tp_error *err);

/* Busy-poll budget for tp_recv, in microseconds (0 disables it): how long a
 * receive keeps trying without sleeping before it blocks. Trades a little CPU
 * for latency on replies that come back within tens of microseconds. */
tp_status tp_set_busy_poll(tp_conn *c, unsigned usec);

/* Lets the connection read up to `bytes` ahead into a buffer of its own, so a
 * stream of small messages (pipelined calls) costs one receive system call per
 * batch instead of one or two per message; receives of at least half that
 * size still go straight into the caller's buffer. 0 turns it off (the
 * default). Bytes read ahead count in tp_pending, and tp_detach refuses to
 * hand over a connection that holds some. TP_NOTSUP where the transport has
 * its own buffering. Only the receiving thread may call it. */
tp_status tp_set_read_ahead(tp_conn *c, size_t bytes);

/* A descriptor that polls readable (POLLIN) when tp_recv may make progress
 * (possibly spuriously); owned by the connection. -1 if there is none. */
int tp_conn_fd(tp_conn *c);
/* Non-zero when tp_recv can make progress without the descriptor polling
 * readable: bytes the transport already holds (TLS records decrypted ahead).
 * A receiver checks it before sleeping in poll(). Does not block. */
size_t tp_pending(tp_conn *c);
/* The peer as "host:port" (static for the connection's life). */
const char *tp_conn_peer(tp_conn *c);

/* Ends both directions: the peer sees EOF, and a thread of ours blocked in
 * tp_recv on c wakes with TP_CLOSED. c stays allocated; safe to call from
 * another thread while c is in use. Does not block. */
tp_status tp_shutdown(tp_conn *c);
/* Closes and frees c. No other thread may be using c. NULL is a no-op. */
void tp_close(tp_conn *c);

/* Hands the connection over: frees c without closing its socket and gives
 * the socket to the caller in *fd (still close-on-exec; see tp_fd_inherit).
 * Only for transports whose whole state is the kernel socket (tcp keeps no
 * user-space buffer, so nothing is lost). TP_NOTSUP otherwise. */
tp_status tp_detach(tp_conn *c, int *fd, tp_error *err);
/* The other side of tp_detach: wraps a connected socket fd (e.g. inherited
 * across fork+exec) as a connection of the given scheme. On TP_OK the
 * connection owns fd; on failure the caller still does. */
tp_status tp_adopt(const char *scheme, int fd, tp_conn **out, tp_error *err);
/* on != 0 lets fd survive exec (clears close-on-exec), for the supervisor's
 * child between fork and exec; on == 0 makes it close-on-exec again. */
tp_status tp_fd_inherit(int fd, int on, tp_error *err);

/* ---- for implementations ------------------------------------------------- */

#define tp_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* One table per transport. Each op says whether it blocks and who owns what
 * in the matching tp_* wrapper above; an implementation leaves NULL what it
 * does not provide and tp_register fills in "not supported". */
typedef struct tp_ops {
    const char *scheme; /* "tcp"; the registry keeps the pointer */

    tp_status (*listen)(const tp_transport *t, const tp_url *url, tp_listener **out, tp_error *err);
    tp_status (*accept)(tp_listener *l, int timeout_ms, tp_conn **out, tp_error *err);
    tp_status (*listener_url)(tp_listener *l, char *buf, size_t len, tp_error *err);
    int (*listener_fd)(tp_listener *l);
    void (*listener_close)(tp_listener *l);

    tp_status (*dial)(const tp_transport *t, const tp_url *url, int timeout_ms, tp_conn **out,
                      tp_error *err);
    tp_status (*adopt)(const tp_transport *t, int fd, tp_conn **out, tp_error *err);

    tp_status (*sendv)(tp_conn *c, const struct iovec *iov, int iovcnt, int timeout_ms,
                       tp_error *err);
    tp_status (*recv)(tp_conn *c, void *buf, size_t len, int timeout_ms, tp_error *err);
    tp_status (*set_busy_poll)(tp_conn *c, unsigned usec);
    tp_status (*set_read_ahead)(tp_conn *c, size_t bytes);
    int (*conn_fd)(tp_conn *c);
    tp_status (*shutdown)(tp_conn *c);
    tp_status (*detach)(tp_conn *c, int *fd, tp_error *err);
    void (*close)(tp_conn *c);
    size_t (*pending)(tp_conn *c);
} tp_ops;

/* A registered transport: the implementation's ops with every gap filled. */
struct tp_transport {
    tp_ops ops;
};

/* The generic parts; embedded first in every implementation's objects. */
#define TP_PEER_MAX (TP_HOST_MAX + 8)
struct tp_conn {
    const tp_transport *tp;
    char peer[TP_PEER_MAX];
};
struct tp_listener {
    const tp_transport *tp;
};

/* Registers a transport by its scheme. The ops table is copied; NULL ops are
 * replaced by ones answering TP_NOTSUP. TP_INVAL if the scheme is taken or a
 * transport that makes connections has no close op. Thread-safe. */
tp_status tp_register(const tp_ops *ops);
/* The transport for scheme ("tcp"), or NULL. Built-in transports are
 * registered on first use. Thread-safe. */
const tp_transport *tp_lookup(const char *scheme);

/* Fills err (if non-NULL) with st, sys and a printf-style message; returns st.
 * For implementations reporting failures. */
tp_status tp_fail(tp_error *err, tp_status st, int sys, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Time and waiting, for implementations: the monotonic clock in ns; the
 * deadline timeout_ms from now (0 for TP_FOREVER); the milliseconds left until
 * it (TP_FOREVER passes through); a poll() on fd for ev until ready (errors
 * and hang-ups count as ready) or the deadline: TP_OK, TP_TIMEOUT or TP_ERR
 * (errno set). */
long long tp_now_ns(void);
long long tp_deadline_after(int timeout_ms);
int tp_ms_left(int timeout_ms, long long deadline_ns);
tp_status tp_wait_ready(int fd, short ev, int timeout_ms, long long deadline_ns);

/* Built-in transports' registration calls (one per folder). */
tp_status tp_tcp_register(void);

/* Transports in their own shared object (ucx: librgpu_ucx.so, so that nothing
 * of UCX enters a process that never asks for ucx://). tp_listen, tp_dial and
 * tp_adopt call this for a scheme not registered yet: it loads the object
 * once (from the directory of the binary or library holding this code, or
 * its ../lib/rgpu) and registers the table returned by its one export,
 * `const tp_ops *rgpu_tp_plugin(unsigned abi)`. TP_ADDR if the scheme has no
 * such object (err untouched) or it cannot be loaded (err says why). Thread-safe. */
#define TP_PLUGIN_ABI (1u << 16 | (unsigned)sizeof(tp_ops)) /* a stale object is refused */
tp_status tp_plugin_load(const char *scheme, tp_error *err);

#ifdef __cplusplus
}
#endif
#endif
