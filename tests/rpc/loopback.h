/* loopback.h — a connected client/server pair on 127.0.0.1 with an
 * ephemeral port, for rpc tests. Header-only; every test closes its pair. */
#ifndef RG_TEST_RPC_LOOPBACK_H
#define RG_TEST_RPC_LOOPBACK_H

#include <stdio.h>

#include "transport.h"

struct loopback {
    tp_listener *l;
    tp_conn *cli, *srv;
};

static inline int loopback_open(struct loopback *p)
{
    char url[300];
    tp_error e = {0};
    *p = (struct loopback){0};
    if (tp_listen("tcp://127.0.0.1:0", &p->l, &e) != TP_OK ||
        tp_listener_url(p->l, url, sizeof url, &e) != TP_OK ||
        tp_dial(url, 5000, &p->cli, &e) != TP_OK || tp_accept(p->l, 5000, &p->srv, &e) != TP_OK) {
        fprintf(stderr, "  loopback_open: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static inline void loopback_close(struct loopback *p)
{
    tp_close(p->cli);
    tp_close(p->srv);
    tp_listener_close(p->l);
    *p = (struct loopback){0};
}

#endif
