/* tcp_test.c — the TCP transport on loopback: large scatter-gather frames,
 * partial reads, timeouts, peer close, refused dials, IPv6, readiness fds,
 * shutdown from another thread, and a socket handed across fork+exec. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rgtest.h"
#include "tptest.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A listener on url, a dialled client and the accepted server end. */
static int pair_open(const char *url, struct pair *p)
{
    char bound[300];
    tp_error e = {0};
    *p = (struct pair){0};
    if (tp_listen(url, &p->l, &e) != TP_OK) goto fail;
    if (tp_listener_url(p->l, bound, sizeof bound, &e) != TP_OK) goto fail;
    if (tp_dial(bound, 5000, &p->cli, &e) != TP_OK) goto fail;
    if (tp_accept(p->l, 5000, &p->srv, &e) != TP_OK) goto fail;
    return 0;
fail:
    fprintf(stderr, "  pair_open(%s): %s\n", url, e.msg);
    return -1;
}

/* ---- big frames ------------------------------------------------------------ */

/* Receives BIG bytes in awkward pieces (partial reads), then sends them back
 * as three iovecs of different sizes. */
static void *echo_big(void *p)
{
    struct echo_arg *a = p;
    size_t pieces[] = {1, 7, 4096, 65537, BIG - 1 - 7 - 4096 - 65537}, off = 0;
    for (int i = 0; i < 5; i++) {
        if ((a->st = tp_recv(a->c, a->buf + off, pieces[i], 10000, NULL)) != TP_OK) return NULL;
        off += pieces[i];
    }
    struct iovec v[3] = {
        {a->buf, 3}, {a->buf + 3, BIG - 3 - 999983}, {a->buf + BIG - 999983, 999983}};
    a->st = tp_sendv(a->c, v, 3, 10000, NULL);
    return NULL;
}

RG_TEST(tcp_v4_echo_64mib_scatter_gather)
{
    struct pair p;
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    uint8_t *out = malloc(BIG), *in = malloc(BIG), *mid = malloc(BIG);
    CHECK(out && in && mid);
    fill(out, BIG, 42);

    struct echo_arg a = {.c = p.srv, .buf = mid, .st = TP_ERR};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, echo_big, &a) == 0);
    struct iovec v[3] = {{out, 13}, {out + 13, BIG - 13 - 1000003}, {out + BIG - 1000003, 1000003}};
    tp_error e = {0};
    tp_status st = tp_sendv(p.cli, v, 3, 10000, &e);
    tp_status rs = st == TP_OK ? tp_recv(p.cli, in, BIG, 10000, &e) : st;
    pthread_join(th, NULL);
    CHECK_EQ_INT(st, TP_OK);
    CHECK_EQ_INT(a.st, TP_OK);
    CHECK_EQ_INT(rs, TP_OK);
    CHECK(memcmp(out, in, BIG) == 0);
    free(out), free(in), free(mid);
    pair_close(&p);
}

/* ---- small things ---------------------------------------------------------- */

RG_TEST(tcp_listener_port_and_peer_names)
{
    struct pair p;
    char url[300];
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    int port = tp_listener_port(p.l);
    CHECK(port > 0 && port < 65536);
    CHECK(tp_listener_url(p.l, url, sizeof url, NULL) == TP_OK);
    char want[64];
    snprintf(want, sizeof want, "tcp://127.0.0.1:%d", port);
    CHECK_STR(url, want);
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    CHECK_STR(tp_conn_peer(p.cli), want);
    CHECK(strncmp(tp_conn_peer(p.srv), "127.0.0.1:", 10) == 0);
    pair_close(&p);
}

RG_TEST(tcp_v6_loopback)
{
    tp_listener *l = NULL;
    tp_error e = {0};
    if (tp_listen("tcp://[::1]:0", &l, &e) != TP_OK) RG_SKIP("no IPv6 loopback: %s", e.msg);
    tp_listener_close(l);

    struct pair p;
    CHECK(pair_open("tcp://[::1]:0", &p) == 0);
    char want[64];
    snprintf(want, sizeof want, "[::1]:%d", tp_listener_port(p.l));
    CHECK_STR(tp_conn_peer(p.cli), want);
    char buf[6] = {0};
    CHECK_EQ_INT(tp_send(p.cli, "hello", 5, 1000, NULL), TP_OK);
    CHECK_EQ_INT(tp_recv(p.srv, buf, 5, 1000, NULL), TP_OK);
    CHECK_STR(buf, "hello");
    pair_close(&p);
}

RG_TEST(tcp_dial_hostname)
{
    tp_listener *l = NULL;
    tp_conn *c = NULL, *s = NULL;
    tp_error e = {0};
    char url[64];
    CHECK_EQ_INT(tp_listen("tcp://127.0.0.1:0", &l, &e), TP_OK);
    snprintf(url, sizeof url, "tcp://localhost:%d", tp_listener_port(l));
    /* localhost may resolve to ::1 first: dial must go on to 127.0.0.1 */
    if (tp_dial(url, 5000, &c, &e) != TP_OK) {
        tp_listener_close(l);
        RG_SKIP("localhost does not resolve to 127.0.0.1 here: %s", e.msg);
    }
    CHECK_EQ_INT(tp_accept(l, 5000, &s, &e), TP_OK);
    tp_close(c);
    tp_close(s);
    tp_listener_close(l);
}

RG_TEST(tcp_recv_timeout_is_bounded_and_retryable)
{
    struct pair p;
    char b = 0;
    tp_error e = {0};
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    long long t0 = now_ms();
    CHECK_EQ_INT(tp_recv(p.cli, &b, 1, 150, &e), TP_TIMEOUT);
    long long dt = now_ms() - t0;
    CHECK(dt >= 140 && dt < 3000);
    CHECK(strstr(e.msg, "timed out") != NULL);

    t0 = now_ms();
    CHECK_EQ_INT(tp_recv(p.cli, &b, 1, 0, NULL), TP_TIMEOUT); /* 0: try once */
    CHECK(now_ms() - t0 < 100);

    CHECK_EQ_INT(tp_send(p.srv, "x", 1, 1000, NULL), TP_OK); /* still usable */
    CHECK_EQ_INT(tp_recv(p.cli, &b, 1, 1000, NULL), TP_OK);
    CHECK_EQ_INT(b, 'x');
    pair_close(&p);
}

RG_TEST(tcp_timeout_mid_message_breaks_receive_side)
{
    struct pair p;
    char buf[16];
    tp_error e = {0};
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    CHECK_EQ_INT(tp_send(p.srv, "0123", 4, 1000, NULL), TP_OK);
    CHECK_EQ_INT(tp_recv(p.cli, buf, 8, 100, &e), TP_TIMEOUT);
    CHECK(strstr(e.msg, "after 4 of 8 bytes") != NULL);
    CHECK_EQ_INT(tp_recv(p.cli, buf, 1, 100, NULL), TP_BROKEN);
    CHECK_EQ_INT(tp_send(p.cli, "ok", 2, 1000, NULL), TP_OK); /* the other direction lives */
    pair_close(&p);
}

RG_TEST(tcp_peer_close_is_closed_and_truncation_is_error)
{
    struct pair p;
    char buf[32];
    tp_error e = {0};
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    tp_close(p.srv);
    p.srv = NULL;
    CHECK_EQ_INT(tp_recv(p.cli, buf, 4, 2000, &e), TP_CLOSED);
    CHECK(strstr(e.msg, "closed") != NULL);
    pair_close(&p);

    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    CHECK_EQ_INT(tp_send(p.srv, "0123456789", 10, 1000, NULL), TP_OK);
    tp_close(p.srv);
    p.srv = NULL;
    CHECK_EQ_INT(tp_recv(p.cli, buf, 20, 2000, &e), TP_ERR);
    CHECK(strstr(e.msg, "closed after 10 of 20 bytes") != NULL);
    CHECK_EQ_INT(tp_recv(p.cli, buf, 1, 100, NULL), TP_BROKEN);
    pair_close(&p);
}

RG_TEST(tcp_send_to_closed_peer_raises_no_sigpipe)
{
    struct pair p;
    static uint8_t chunk[1 << 20];
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill this test */
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    tp_close(p.srv);
    p.srv = NULL;
    tp_status st = TP_OK;
    for (int i = 0; i < 64 && st == TP_OK; i++)
        st = tp_send(p.cli, chunk, sizeof chunk, 2000, NULL);
    CHECK(st == TP_CLOSED || st == TP_ERR || st == TP_BROKEN);
    pair_close(&p);
}

RG_TEST(tcp_send_timeout_when_peer_stops_reading)
{
    struct pair p;
    tp_error e = {0};
    uint8_t *big = calloc(1, BIG);
    CHECK(big && pair_open("tcp://127.0.0.1:0", &p) == 0);
    long long t0 = now_ms();
    CHECK_EQ_INT(tp_send(p.cli, big, BIG, 200, &e), TP_TIMEOUT); /* nobody reads 64 MiB */
    CHECK(now_ms() - t0 < 5000);
    CHECK(strstr(e.msg, "half-way through a frame") != NULL);
    CHECK_EQ_INT(tp_send(p.cli, "x", 1, 200, NULL), TP_BROKEN);
    free(big);
    pair_close(&p);
}

RG_TEST(tcp_dial_refused_says_where)
{
    tp_listener *l = NULL;
    tp_conn *c = NULL;
    tp_error e = {0};
    char url[64], want[80];
    CHECK_EQ_INT(tp_listen("tcp://127.0.0.1:0", &l, NULL), TP_OK);
    int port = tp_listener_port(l);
    tp_listener_close(l); /* nobody listens there any more */
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    snprintf(want, sizeof want, "connection refused to 127.0.0.1:%d", port);
    CHECK_EQ_INT(tp_dial(url, 2000, &c, &e), TP_REFUSED);
    CHECK(c == NULL);
    CHECK_STR(e.msg, want);
    CHECK_EQ_INT(e.status, TP_REFUSED);
}

RG_TEST(tcp_bad_urls)
{
    tp_conn *c = NULL;
    tp_listener *l = NULL;
    tp_error e = {0};
    const char *bad[] = {"tcp//127.0.0.1:1", "tcp://127.0.0.1", "tcp://::1:80",
                         "tcp://h:99999",    "tcp://h:",        "tcp://[::1]80",
                         "tcp://h:12a",      "://h:1",          ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ_INT(tp_dial(bad[i], 100, &c, &e), TP_ADDR);
        CHECK_EQ_INT(tp_listen(bad[i], &l, &e), TP_ADDR);
    }
    CHECK_EQ_INT(tp_dial("nosuch://h:1", 100, &c, &e), TP_ADDR);
    CHECK(strstr(e.msg, "unknown transport 'nosuch'") != NULL);
    CHECK_EQ_INT(tp_dial("tcp://127.0.0.1:0", 100, &c, &e), TP_ADDR);
    CHECK_EQ_INT(tp_dial("tcp://no-such-host.invalid:1", 2000, &c, &e), TP_ADDR);
    CHECK(strstr(e.msg, "cannot resolve 'no-such-host.invalid'") != NULL);
    CHECK_EQ_INT(tp_dial(NULL, 100, &c, &e), TP_INVAL);
}

RG_TEST(tcp_accept_timeout_and_readiness_fds)
{
    tp_listener *l = NULL;
    tp_conn *c = NULL, *s = NULL;
    char url[64];
    CHECK_EQ_INT(tp_listen("tcp://127.0.0.1:0", &l, NULL), TP_OK);
    long long t0 = now_ms();
    CHECK_EQ_INT(tp_accept(l, 50, &s, NULL), TP_TIMEOUT);
    CHECK(now_ms() - t0 < 3000);

    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", tp_listener_port(l));
    CHECK_EQ_INT(tp_dial(url, 2000, &c, NULL), TP_OK);
    struct pollfd pf = {.fd = tp_listener_fd(l), .events = POLLIN};
    CHECK_EQ_INT(poll(&pf, 1, 2000), 1);
    CHECK_EQ_INT(tp_accept(l, 0, &s, NULL), TP_OK);

    pf = (struct pollfd){.fd = tp_conn_fd(s), .events = POLLIN};
    CHECK_EQ_INT(poll(&pf, 1, 0), 0);
    CHECK_EQ_INT(tp_send(c, "z", 1, 1000, NULL), TP_OK);
    CHECK_EQ_INT(poll(&pf, 1, 2000), 1);
    tp_close(c);
    tp_close(s);
    tp_listener_close(l);
}

static void *blocked_recv(void *p)
{
    char b;
    return (void *)(intptr_t)tp_recv(p, &b, 1, TP_FOREVER, NULL);
}

RG_TEST(tcp_shutdown_wakes_a_blocked_receiver)
{
    struct pair p;
    pthread_t th;
    void *rv;
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    CHECK(pthread_create(&th, NULL, blocked_recv, p.cli) == 0);
    usleep(50000);
    CHECK_EQ_INT(tp_shutdown(p.cli), TP_OK);
    pthread_join(th, &rv);
    CHECK_EQ_INT((intptr_t)rv, TP_CLOSED);
    pair_close(&p);
}

/* Round trips with and without busy-poll: both paths must deliver. */
RG_TEST(tcp_ping_pong_busy_poll_on_and_off)
{
    struct pair p;
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    CHECK_EQ_INT(tp_set_busy_poll(p.cli, 2000000), TP_INVAL);
    for (int mode = 0; mode < 2; mode++) {
        CHECK_EQ_INT(tp_set_busy_poll(p.cli, mode ? TP_BUSY_POLL_DEFAULT_US : 0), TP_OK);
        for (uint32_t i = 0; i < 200; i++) {
            uint32_t v = i, w = 0;
            CHECK_EQ_INT(tp_send(p.cli, &v, 4, 1000, NULL), TP_OK);
            CHECK_EQ_INT(tp_recv(p.srv, &w, 4, 1000, NULL), TP_OK);
            w += 1;
            CHECK_EQ_INT(tp_send(p.srv, &w, 4, 1000, NULL), TP_OK);
            CHECK_EQ_INT(tp_recv(p.cli, &v, 4, 1000, NULL), TP_OK);
            CHECK_EQ_INT(v, i + 1);
        }
    }
    pair_close(&p);
}

/* ---- read-ahead ------------------------------------------------------------------ */

/* Small messages sent in one write come out exactly, in order, with what was
 * read ahead counted by tp_pending; a large receive still gets every byte; a
 * connection holding bytes read ahead is not handed over (they would be lost),
 * and once they are consumed it is. */
RG_TEST(tcp_read_ahead_keeps_every_byte)
{
    struct pair p;
    tp_error e = {0};
    enum { SMALL = 48, COUNT = 300, LARGE = 200000 };
    static uint8_t out[SMALL * COUNT + LARGE], in[LARGE];
    fill(out, sizeof out, 77);
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    CHECK_EQ_INT(tp_pending(p.srv), 0);
    CHECK_EQ_INT(tp_set_read_ahead(p.srv, 4096), TP_OK);
    CHECK_EQ_INT(tp_send(p.cli, out, sizeof out, 5000, &e), TP_OK);
    uint8_t msg[SMALL];
    CHECK_EQ_INT(tp_recv(p.srv, msg, SMALL, 5000, &e), TP_OK);
    CHECK(memcmp(msg, out, SMALL) == 0);
    CHECK(tp_pending(p.srv) > 0); /* the rest of a 4 KiB read waits in user space */
    int fd = -1;
    CHECK_EQ_INT(tp_detach(p.srv, &fd, &e), TP_ERR);
    CHECK(strstr(e.msg, "read ahead") != NULL);
    for (int i = 1; i < COUNT; i++) {
        CHECK_EQ_INT(tp_recv(p.srv, msg, SMALL, 5000, &e), TP_OK);
        CHECK(memcmp(msg, out + (size_t)i * SMALL, SMALL) == 0);
    }
    CHECK_EQ_INT(tp_recv(p.srv, in, LARGE, 5000, &e), TP_OK); /* partly buffered, rest in place */
    CHECK(memcmp(in, out + SMALL * COUNT, LARGE) == 0);
    CHECK_EQ_INT(tp_pending(p.srv), 0);
    CHECK_EQ_INT(tp_set_read_ahead(p.srv, 0), TP_OK);
    CHECK_EQ_INT(tp_detach(p.srv, &fd, &e), TP_OK);
    p.srv = NULL;
    close(fd);
    pair_close(&p);
}

/* ---- handing a connection to another process ------------------------------------ */

RG_TEST(tcp_fd_handover_across_fork_exec)
{
    struct pair p;
    int fd = -1, status = 0;
    tp_error e = {0};
    CHECK(pair_open("tcp://127.0.0.1:0", &p) == 0);
    CHECK_EQ_INT(tp_detach(p.srv, &fd, &e), TP_OK);
    p.srv = NULL;
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC); /* nothing leaks into other children */

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char arg[16];
        snprintf(arg, sizeof arg, "%d", fd);
        if (tp_fd_inherit(fd, 1, NULL) != TP_OK) _exit(10);
        execl(TP_ADOPT_HELPER, TP_ADOPT_HELPER, arg, (char *)NULL);
        _exit(11);
    }
    close(fd); /* the worker has its own copy now */

    const char msg[] = "handed over";
    uint32_t n = sizeof msg - 1, m = 0;
    char back[64] = {0};
    struct iovec v[2] = {{&n, 4}, {(void *)msg, n}};
    CHECK_EQ_INT(tp_sendv(p.cli, v, 2, 5000, &e), TP_OK);
    CHECK_EQ_INT(tp_recv(p.cli, &m, 4, 10000, &e), TP_OK);
    CHECK_EQ_INT(m, n);
    CHECK_EQ_INT(tp_recv(p.cli, back, m, 10000, &e), TP_OK);
    CHECK_STR(back, "HANDED OVER");
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char b;
    CHECK_EQ_INT(tp_recv(p.cli, &b, 1, 5000, NULL), TP_CLOSED); /* the worker closed it */
    pair_close(&p);
}

RG_TEST(tcp_adopt_rejects_what_is_not_a_connected_socket)
{
    tp_conn *c = NULL;
    tp_error e = {0};
    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK_EQ_INT(tp_adopt("tcp", fds[0], &c, &e), TP_INVAL);
    CHECK(fcntl(fds[0], F_GETFD) >= 0); /* still the caller's */
    close(fds[0]);
    close(fds[1]);
    CHECK_EQ_INT(tp_adopt("tcp", -1, &c, &e), TP_INVAL);
}

RG_TEST_MAIN()
