/* tls_conn.h — private to transport/tls: the connection object, shared by
 * the ops (tls.c) and the relay (tls_relay.c). */
#ifndef RG_TP_TLS_CONN_H
#define RG_TP_TLS_CONN_H

#include <pthread.h>

#include <openssl/ssl.h>

#include "tls.h"

struct tls_conn {
    tp_conn base; /* first: tp_container_of converts back */
    tp_conn *tcp; /* owned: the socket underneath */
    int fd;
    SSL *ssl;
    pthread_mutex_t mu; /* the SSL session */
    int ready;          /* handshake done */
    int server;
    int rx_broken, tx_broken;
    char host[TP_HOST_MAX]; /* dialing: the name the certificate must carry */
};

static inline struct tls_conn *conn_of(tp_conn *c)
{
    return tp_container_of(c, struct tls_conn, base);
}

#endif
