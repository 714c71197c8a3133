/* tls_test.c — the tls:// transport on loopback with certificates made by
 * openssl's command line: a client and a server connection in one process,
 * full-duplex bulk traffic (one thread sends while another receives, as the
 * shim does) through tp_tls_relay to an echoing plain socket, checked byte
 * for byte against the sender's pseudo-random sequence; a receiver that polls
 * the descriptor finds frames TLS holds already through tp_pending; a CA that
 * did not sign the certificate and a name it does not carry are refused; a
 * closed peer is TP_CLOSED. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rgtest.h"
#include "tls.h"

static char dir[] = "/tmp/rgpu-tls-tp-XXXXXX";
static char ca[128], other[128], cert[128], key[128];

static int make_certs(void)
{
    char cmd[2048];
    if (!mkdtemp(dir)) return -1;
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(other, sizeof other, "%s/other.pem", dir);
    snprintf(cert, sizeof cert, "%s/srv.pem", dir);
    snprintf(key, sizeof key, "%s/srv.key", dir);
    snprintf(cmd, sizeof cmd,
             "(cd %s && K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
             "openssl req -x509 $K -keyout ca.key -out ca.pem -days 2 -subj '/CN=test CA' && "
             "openssl req -x509 $K -keyout other.key -out other.pem -days 2 -subj '/CN=other' && "
             "openssl req $K -keyout srv.key -out srv.csr -subj '/CN=srv' && "
             "echo subjectAltName=DNS:localhost,IP:127.0.0.1 > ext && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile ext -out srv.pem) >/dev/null 2>&1",
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void cleanup(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "cannot remove %s\n", dir);
}

/* Certificates once, and the transport registered with them. 0, or -1. */
static int setup(void)
{
    static int done, ok;
    tp_error e = {0};
    if (done) return ok ? 0 : -1;
    done = 1;
    if (system("openssl version >/dev/null 2>&1") || make_certs()) return -1;
    atexit(cleanup);
    struct tp_tls_config cfg = {.ca_file = ca, .cert_file = cert, .key_file = key};
    ok = tp_tls_register(&cfg, &e) == TP_OK;
    if (!ok) fprintf(stderr, "tp_tls_register: %s\n", e.msg);
    return ok ? 0 : -1;
}

#define SETUP()                                                                                    \
    do {                                                                                           \
        if (setup()) RG_SKIP("no openssl command or certificates");                                \
    } while (0)

/* The byte at offset i of a stream seeded with seed (xorshift). */
static void fill(uint8_t *p, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = *state;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        *state = x;
        p[i] = (uint8_t)x;
    }
}

struct pair {
    tp_listener *l;
    tp_conn *srv;
    tp_status st;
};

static void *accept_main(void *arg)
{
    struct pair *p = arg;
    p->st = tp_accept(p->l, 10000, &p->srv, NULL);
    if (p->st == TP_OK) { /* the server's handshake runs at its first read */
        char b;
        p->st = tp_recv(p->srv, &b, 1, 10000, NULL);
    }
    return NULL;
}

/* A client connection to a fresh listener, and its server end (after one
 * byte went across). */
static tp_status connect_pair(const char *at, const char *host, tp_listener **l, tp_conn **cli,
                              tp_conn **srv, tp_error *err)
{
    char url[128];
    pthread_t t;
    struct pair p = {0};
    snprintf(url, sizeof url, "tls://%s:0", at);
    tp_status st = tp_listen(url, l, err);
    if (st != TP_OK) return st;
    snprintf(url, sizeof url, "tls://%s:%d", host, tp_listener_port(*l));
    p.l = *l;
    pthread_create(&t, NULL, accept_main, &p);
    st = tp_dial(url, 10000, cli, err);
    if (st == TP_OK) st = tp_send(*cli, "x", 1, 10000, err);
    pthread_join(t, NULL);
    *srv = p.srv;
    return st != TP_OK ? st : p.st;
}

#define TOTAL (24u << 20)

struct sender {
    tp_conn *c;
    tp_status st;
};

static void *send_main(void *arg)
{
    struct sender *s = arg;
    uint64_t state = 0x9e3779b97f4a7c15ull;
    static uint8_t a[70000], b[300];
    size_t sent = 0;
    for (unsigned k = 0; sent < TOTAL && s->st == TP_OK; k++) {
        size_t na = (k * 7919u) % sizeof a, nb = k % sizeof b; /* odd pieces, some tiny */
        if (sent + na + nb > TOTAL) na = TOTAL - sent - (nb = 0);
        fill(b, nb, &state);
        fill(a, na, &state);
        struct iovec v[2] = {{b, nb}, {a, na}};
        s->st = tp_sendv(s->c, v, 2, 10000, NULL);
        sent += na + nb;
    }
    return NULL;
}

/* Echoes a plain socket until it ends. */
static void *echo_main(void *arg)
{
    int fd = *(int *)arg;
    static char buf[32768];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w <= 0) return NULL;
            off += w;
        }
    return NULL;
}

struct relay {
    tp_conn *c;
    int fd;
    tp_status st;
};

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    r->st = tp_tls_relay(r->c, r->fd, NULL);
    return NULL;
}

RG_TEST(bulk_both_ways_through_the_relay)
{
    SETUP();
    tp_listener *l = NULL;
    tp_conn *cli = NULL, *srv = NULL;
    tp_error e = {0};
    int sp[2];
    pthread_t ts, te, tr;
    CHECK_EQ_INT(connect_pair("127.0.0.1", "localhost", &l, &cli, &srv, &e), TP_OK);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    struct relay r = {srv, sp[0], TP_OK};
    struct sender s = {cli, TP_OK};
    pthread_create(&te, NULL, echo_main, &sp[1]);
    pthread_create(&tr, NULL, relay_main, &r);
    pthread_create(&ts, NULL, send_main, &s);
    /* the receiver as the shim's: poll the descriptor unless TLS holds bytes */
    uint64_t state = 0x9e3779b97f4a7c15ull;
    static uint8_t got[65536], want[65536];
    size_t total = 0, held = 0;
    int bad = 0;
    while (total < TOTAL && !bad) {
        struct pollfd p = {.fd = tp_conn_fd(cli), .events = POLLIN};
        if (tp_pending(cli))
            held++;
        else if (poll(&p, 1, 10000) != 1)
            break;
        size_t n = TOTAL - total < 4096 ? TOTAL - total : 4096; /* smaller than a record */
        if (tp_recv(cli, got, n, 10000, &e) != TP_OK) break;
        fill(want, n, &state);
        bad = memcmp(got, want, n) != 0;
        total += n;
    }
    pthread_join(ts, NULL);
    CHECK_EQ_INT(s.st, TP_OK);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_U64(total, TOTAL);
    CHECK(held > 0); /* reads smaller than records: later ones came from OpenSSL's buffer */
    tp_close(cli);   /* the relay sees the end and ends the plain side */
    pthread_join(tr, NULL);
    pthread_join(te, NULL);
    CHECK_EQ_INT(r.st, TP_OK);
    close(sp[0]);
    close(sp[1]);
    tp_close(srv);
    tp_listener_close(l);
}

RG_TEST(closed_peer)
{
    SETUP();
    tp_listener *l = NULL;
    tp_conn *cli = NULL, *srv = NULL;
    tp_error e = {0};
    char b[8];
    CHECK_EQ_INT(connect_pair("127.0.0.1", "127.0.0.1", &l, &cli, &srv, &e), TP_OK); /* IP named */
    tp_close(srv);
    CHECK_EQ_INT(tp_recv(cli, b, sizeof b, 10000, &e), TP_CLOSED);
    tp_close(cli);
    tp_listener_close(l);
}

RG_TEST(certificate_checked)
{
    SETUP();
    tp_listener *l = NULL;
    tp_conn *cli = NULL, *srv = NULL;
    tp_error e = {0};
    struct tp_tls_config wrong = {.ca_file = other, .cert_file = cert, .key_file = key};
    CHECK_EQ_INT(tp_tls_register(&wrong, &e), TP_OK);
    CHECK(connect_pair("127.0.0.1", "localhost", &l, &cli, &srv, &e) != TP_OK);
    CHECK(strstr(e.msg, "certificate of localhost") && strstr(e.msg, "not accepted"));
    tp_close(srv);
    tp_listener_close(l);
    struct tp_tls_config right = {.ca_file = ca, .cert_file = cert, .key_file = key};
    CHECK_EQ_INT(tp_tls_register(&right, &e), TP_OK);
    CHECK(connect_pair("127.0.0.2", "127.0.0.2", &l, &cli, &srv, &e) != TP_OK); /* not named */
    CHECK(strstr(e.msg, "mismatch"));
    tp_close(srv);
    tp_listener_close(l);
    struct tp_tls_config nokey = {.ca_file = ca, .cert_file = cert};
    CHECK(tp_tls_register(&nokey, &e) != TP_OK);
    struct tp_tls_config badkey = {.ca_file = ca, .cert_file = cert, .key_file = ca};
    CHECK(tp_tls_register(&badkey, &e) != TP_OK && strstr(e.msg, "private key"));
}

RG_TEST_MAIN()
