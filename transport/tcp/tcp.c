/* tcp.c — the TCP transport's ops table and its registration call.
 * Every op is implemented in tcp_connect.c (set-up) or tcp_io.c (data). */
#include "tcp.h"

static const tp_ops tcp_ops = {
    .scheme = "tcp",
    .listen = tcp_listen,
    .accept = tcp_accept,
    .listener_url = tcp_listener_url,
    .listener_fd = tcp_listener_fd,
    .listener_close = tcp_listener_close,
    .dial = tcp_dial,
    .adopt = tcp_adopt,
    .sendv = tcp_sendv,
    .recv = tcp_recv,
    .set_busy_poll = tcp_set_busy_poll,
    .set_read_ahead = tcp_set_read_ahead,
    .pending = tcp_pending,
    .conn_fd = tcp_conn_fd,
    .shutdown = tcp_shutdown,
    .detach = tcp_detach,
    .close = tcp_close,
};

tp_status tp_tcp_register(void)
{
    return tp_register(&tcp_ops);
}
