/* ucx.c — the ucx:// transport's ops table and the entry point of
 * librgpu_ucx.so, the shared object tp_lookup loads (ucx_load.c) the first
 * time ucx:// is asked for. Set-up is in ucx_ctl.c, UCP in ucx_worker.c,
 * frames in ucx_io.c. */
#include "ucx.h"

static const tp_ops ucx_ops = {
    .scheme = "ucx",
    .listen = ucx_listen,
    .accept = ucx_accept,
    .listener_url = ucx_listener_url,
    .listener_fd = ucx_listener_fd,
    .listener_close = ucx_listener_close,
    .dial = ucx_dial,
    .adopt = ucx_adopt,
    .sendv = ucx_sendv,
    .recv = ucx_recv,
    .set_busy_poll = ucx_set_busy_poll,
    .conn_fd = ucx_conn_fd,
    .pending = ucx_pending,
    .shutdown = ucx_shutdown,
    .detach = ucx_detach,
    .close = ucx_close,
};

/* The one exported symbol (librgpu_ucx.map). The caller registers the table
 * in its own registry: this object keeps a private copy of rg_transport (for
 * the tcp control connection) whose registry the caller never sees. */
__attribute__((visibility("default"))) const tp_ops *rgpu_tp_plugin(unsigned abi)
{
    return abi == TP_PLUGIN_ABI ? &ucx_ops : NULL;
}
