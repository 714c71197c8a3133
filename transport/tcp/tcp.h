/* tcp.h — private to transport/tcp: the TCP connection and listener objects
 * (generic part embedded first) and the functions the ops table points at.
 * Sockets are always non-blocking and close-on-exec; waiting is done in poll(). */
#ifndef RG_TP_TCP_H
#define RG_TP_TCP_H

#include "../transport.h"

struct tcp_conn {
    tp_conn base;     /* first: tp_container_of converts back */
    int fd;           /* owned; -1 once detached */
    unsigned busy_us; /* busy-poll budget before sleeping in poll() */
    int rx_broken;    /* touched only by the receiving thread */
    char *ra;         /* read-ahead buffer (tp_set_read_ahead) or NULL; receiving thread's */
    size_t ra_cap, ra_off, ra_len; /* its size, and the unread bytes [ra_off, ra_len) */
    int tx_broken;    /* touched only by the sending thread */
};

struct tcp_listener {
    tp_listener base;
    int fd;
};

static inline struct tcp_conn *tcp_conn_of(tp_conn *c)
{
    return tp_container_of(c, struct tcp_conn, base);
}
static inline struct tcp_listener *tcp_listener_of(tp_listener *l)
{
    return tp_container_of(l, struct tcp_listener, base);
}

/* tcp_io.c: moving bytes on an established connection. */
tp_status tcp_sendv(tp_conn *c, const struct iovec *iov, int iovcnt, int timeout_ms, tp_error *err);
tp_status tcp_recv(tp_conn *c, void *buf, size_t len, int timeout_ms, tp_error *err);
tp_status tcp_set_busy_poll(tp_conn *c, unsigned usec);
tp_status tcp_set_read_ahead(tp_conn *c, size_t bytes);
size_t tcp_pending(tp_conn *c);
int tcp_conn_fd(tp_conn *c);
tp_status tcp_shutdown(tp_conn *c);
tp_status tcp_detach(tp_conn *c, int *fd, tp_error *err);
void tcp_close(tp_conn *c);

/* tcp_connect.c: setting connections up. */
tp_status tcp_listen(const tp_transport *t, const tp_url *url, tp_listener **out, tp_error *err);
tp_status tcp_accept(tp_listener *l, int timeout_ms, tp_conn **out, tp_error *err);
tp_status tcp_listener_url(tp_listener *l, char *buf, size_t len, tp_error *err);
int tcp_listener_fd(tp_listener *l);
void tcp_listener_close(tp_listener *l);
tp_status tcp_dial(const tp_transport *t, const tp_url *url, int timeout_ms, tp_conn **out,
                   tp_error *err);
tp_status tcp_adopt(const tp_transport *t, int fd, tp_conn **out, tp_error *err);

#endif
