/* ucx_test.c — the ucx:// transport on loopback (run once with UCX_TLS=tcp,
 * once with shared memory): the handshake bytes before the upgrade, the
 * upgrade by adopt (in a thread, and across fork+exec as rgpud does), large
 * scatter-gather frames read in awkward pieces (rendezvous data fetched into
 * the caller's buffer or staged), ordering, timeouts, readiness fds, the
 * peer's end, shutdown from another thread, scheme mismatches, and small
 * frames whose send completes before the peer reads. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rgtest.h"
#include "tptest.h"

static const char *self_exe;

/* The worker side of a handover: adopt fd (which makes the upgrade), then
 * answer one length-prefixed message with its bytes reversed, then close. */
static int adopt_and_reverse(int fd)
{
    tp_conn *c = NULL;
    tp_error e = {0};
    uint32_t n = 0;
    if (tp_adopt("ucx", fd, &c, &e) != TP_OK) {
        fprintf(stderr, "adopt: %s\n", e.msg);
        return 3;
    }
    if (tp_recv(c, &n, 4, 10000, &e) != TP_OK || n > (64u << 20)) return 4;
    if (n == 0) _exit(0); /* "die": no orderly close, the kernel ends the sockets */
    uint8_t *b = malloc(n ? n : 1);
    if (!b || tp_recv(c, b, n, 10000, &e) != TP_OK) return 5;
    for (uint32_t i = 0; i < n / 2; i++) {
        uint8_t t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
    struct iovec v[2] = {{&n, 4}, {b, n}};
    int rc = tp_sendv(c, v, 2, 10000, &e) == TP_OK ? 0 : 6;
    free(b);
    tp_close(c);
    return rc;
}

/* ---- an upgraded pair in one process ------------------------------------------------ */

struct adopt_arg {
    int fd;
    tp_conn *c;
    tp_status st;
    tp_error e;
};

static void *adopt_thread(void *p)
{
    struct adopt_arg *a = p;
    a->st = tp_adopt("ucx", a->fd, &a->c, &a->e);
    if (a->st == TP_OK) a->st = tp_send(a->c, "WELCOME!", 8, 5000, &a->e);
    return NULL;
}

/* Listen, dial, a HELLO over the control connection, the accepted end handed
 * to an adopting thread, and the client's first receive makes the upgrade. */
static int pair_open(struct pair *p)
{
    char url[300], buf[8];
    tp_error e = {0};
    tp_conn *acc = NULL;
    struct adopt_arg a = {.fd = -1};
    pthread_t t;
    *p = (struct pair){0};
    if (tp_listen("ucx://127.0.0.1:0", &p->l, &e) != TP_OK) goto fail;
    if (tp_listener_url(p->l, url, sizeof url, &e) != TP_OK) goto fail;
    if (tp_dial(url, 5000, &p->cli, &e) != TP_OK) goto fail;
    if (tp_accept(p->l, 5000, &acc, &e) != TP_OK) goto fail;
    if (tp_send(p->cli, "HELLO", 5, 5000, &e) != TP_OK) goto fail;
    if (tp_recv(acc, buf, 5, 5000, &e) != TP_OK || memcmp(buf, "HELLO", 5)) goto fail;
    if (tp_detach(acc, &a.fd, &e) != TP_OK) goto fail;
    acc = NULL;
    pthread_create(&t, NULL, adopt_thread, &a);
    tp_status st = tp_recv(p->cli, buf, 8, 10000, &e);
    pthread_join(t, NULL);
    if (a.st != TP_OK) {
        e = a.e;
        goto fail;
    }
    p->srv = a.c;
    if (st != TP_OK || memcmp(buf, "WELCOME!", 8)) goto fail;
    return 0;
fail:
    fprintf(stderr, "  pair_open: %s\n", e.msg);
    tp_close(acc);
    return -1;
}

/* ---- big frames ------------------------------------------------------------------ */

/* Receives BIG bytes in awkward pieces (so rendezvous data is partly staged),
 * then sends them back as three iovecs. */
static void *echo_big(void *p)
{
    struct echo_arg *a = p;
    size_t pieces[] = {1, 7, 4096, 65537, BIG - 1 - 7 - 4096 - 65537}, off = 0;
    for (int i = 0; i < 5; i++) {
        if ((a->st = tp_recv(a->c, a->buf + off, pieces[i], 10000, NULL)) != TP_OK) return NULL;
        off += pieces[i];
    }
    struct iovec v[3] = {
        {a->buf, 3}, {a->buf + 3, 1 << 20}, {a->buf + 3 + (1 << 20), BIG - 3 - (1 << 20)}};
    a->st = tp_sendv(a->c, v, 3, 10000, NULL);
    return NULL;
}

RG_TEST(ucx_echo_64mib_scatter_gather)
{
    struct pair p;
    CHECK(pair_open(&p) == 0);
    uint8_t *out = malloc(BIG), *back = malloc(BIG), *mid = malloc(BIG);
    CHECK(out && back && mid);
    fill(out, BIG, 7);
    struct echo_arg a = {.c = p.srv, .buf = mid};
    pthread_t t;
    pthread_create(&t, NULL, echo_big, &a);
    struct iovec v[4] = {{out, 100},
                         {out + 100, 5000},
                         {out + 5100, 1 << 22},
                         {out + 5100 + (1 << 22), BIG - 5100 - (1 << 22)}};
    CHECK_EQ_INT(tp_sendv(p.cli, v, 4, 10000, NULL), TP_OK);
    CHECK_EQ_INT(tp_recv(p.cli, back, BIG, 10000, NULL), TP_OK); /* all of it: into place */
    pthread_join(t, NULL);
    CHECK_EQ_INT(a.st, TP_OK);
    CHECK(memcmp(out, back, BIG) == 0);
    free(out);
    free(back);
    free(mid);
    pair_close(&p);
}

RG_TEST(ucx_many_small_frames_keep_their_order)
{
    struct pair p;
    CHECK(pair_open(&p) == 0);
    for (uint32_t i = 0; i < 2000; i++) {
        uint32_t v[3] = {i, i * 7, ~i};
        CHECK_EQ_INT(tp_send(p.cli, v, sizeof v, 5000, NULL), TP_OK);
    }
    for (uint32_t i = 0; i < 2000; i++) {
        uint32_t w[3];
        CHECK_EQ_INT(tp_recv(p.srv, w, 4, 5000, NULL), TP_OK); /* one frame, two reads */
        CHECK_EQ_INT(tp_recv(p.srv, w + 1, 8, 5000, NULL), TP_OK);
        CHECK(w[0] == i && w[1] == i * 7 && w[2] == ~i);
    }
    pair_close(&p);
}

/* A frame of up to 64 KiB (UCX_EAGER_MAX) is copied out by the send itself, so
 * the sender goes on while the peer reads nothing (a pipelined call's bytes
 * from pageable memory); a rendezvous would wait for the peer to fetch them.
 * Each, sent as two iovecs, arrives whole and in order (larger frames: the
 * 64 MiB echo above). */
RG_TEST(ucx_small_frames_complete_before_the_peer_reads)
{
    struct pair p;
    CHECK(pair_open(&p) == 0);
    static const size_t sizes[] = {4096, 16 << 10, 40000, 64 << 10};
    enum { N = sizeof sizes / sizeof *sizes };
    uint8_t *out = malloc(64 << 10), *in = malloc(64 << 10);
    CHECK(out && in);
    for (int i = 0; i < N; i++) {
        fill(out, sizes[i], 11 + i);
        struct iovec v[2] = {{out, 100}, {out + 100, sizes[i] - 100}};
        /* nobody reads yet: a send waiting for the peer would time out */
        CHECK_EQ_INT(tp_sendv(p.cli, v, 2, 3000, NULL), TP_OK);
    }
    for (int i = 0; i < N; i++) {
        uint8_t *want = malloc(sizes[i]);
        CHECK(want);
        fill(want, sizes[i], 11 + i);
        CHECK_EQ_INT(tp_recv(p.srv, in, sizes[i], 5000, NULL), TP_OK);
        CHECK(memcmp(in, want, sizes[i]) == 0);
        free(want);
    }
    free(out);
    free(in);
    pair_close(&p);
}

RG_TEST(ucx_ping_pong_both_ways_busy_poll_on_and_off)
{
    struct pair p;
    CHECK(pair_open(&p) == 0);
    CHECK_EQ_INT(tp_set_busy_poll(p.cli, 2000000), TP_INVAL);
    for (int mode = 0; mode < 2; mode++) {
        CHECK_EQ_INT(tp_set_busy_poll(p.cli, mode ? TP_BUSY_POLL_DEFAULT_US : 0), TP_OK);
        CHECK_EQ_INT(tp_set_busy_poll(p.srv, mode ? TP_BUSY_POLL_DEFAULT_US : 0), TP_OK);
        for (uint32_t i = 0; i < 300; i++) {
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

/* ---- time, readiness, the end ------------------------------------------------------- */

RG_TEST(ucx_recv_timeout_is_retryable_and_fd_tells_readiness)
{
    struct pair p;
    char b[4];
    tp_error e = {0};
    CHECK(pair_open(&p) == 0);
    int fd = tp_conn_fd(p.cli);
    CHECK(fd >= 0);
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    CHECK_EQ_INT(poll(&pf, 1, 0), 0); /* nothing there */
    CHECK_EQ_INT(tp_recv(p.cli, b, 4, 0, &e), TP_TIMEOUT);
    CHECK_EQ_INT(tp_recv(p.cli, b, 4, 30, &e), TP_TIMEOUT);
    CHECK(strstr(e.msg, "timed out") != NULL);
    CHECK_EQ_INT(tp_send(p.srv, "ping", 4, 1000, NULL), TP_OK);
    CHECK_EQ_INT(poll(&pf, 1, 10000), 1);                /* readable once it arrived */
    CHECK_EQ_INT(tp_recv(p.cli, b, 4, 1000, &e), TP_OK); /* still usable */
    CHECK(memcmp(b, "ping", 4) == 0);
    CHECK_EQ_INT(poll(&pf, 1, 0), 0); /* drained */
    pair_close(&p);
}

static void *send_two_later(void *c)
{
    usleep(20000); /* the receiver is in its busy-poll by now */
    tp_send(c, "ab", 2, 1000, NULL);
    tp_send(c, "cd", 2, 1000, NULL);
    return NULL;
}

/* tp_pending counts what a receive can take without waiting: the bytes of
 * messages already here, read partly or not at all, and nothing once drained.
 * A receiver that spun (busy-poll) leaves the descriptor to the next reader:
 * after it, the descriptor and tp_pending still tell the truth. */
RG_TEST(ucx_pending_counts_bytes_already_here)
{
    struct pair p;
    char b[16];
    CHECK(pair_open(&p) == 0);
    CHECK_EQ_INT(tp_pending(p.cli), 0);
    CHECK_EQ_INT(tp_send(p.srv, "0123456789", 10, 1000, NULL), TP_OK);
    struct pollfd pf = {.fd = tp_conn_fd(p.cli), .events = POLLIN};
    CHECK_EQ_INT(poll(&pf, 1, 10000), 1);
    CHECK_EQ_INT(tp_pending(p.cli), 10);
    CHECK_EQ_INT(tp_recv(p.cli, b, 4, 1000, NULL), TP_OK);
    CHECK_EQ_INT(tp_pending(p.cli), 6);
    CHECK_EQ_INT(tp_recv(p.cli, b + 4, 6, 1000, NULL), TP_OK);
    CHECK(memcmp(b, "0123456789", 10) == 0);
    CHECK_EQ_INT(tp_pending(p.cli), 0);
    CHECK_EQ_INT(poll(&pf, 1, 0), 0);
    /* two messages arriving while the receiver spins for the first (a long
     * busy-poll; a thread sends them once it spins): the second is announced
     * after that receive returns */
    CHECK_EQ_INT(tp_set_busy_poll(p.cli, 1000000), TP_OK);
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, send_two_later, p.srv), 0);
    CHECK_EQ_INT(tp_recv(p.cli, b, 2, 5000, NULL), TP_OK);
    pthread_join(t, NULL);
    CHECK_EQ_INT(poll(&pf, 1, 10000), 1);
    CHECK_EQ_INT(tp_pending(p.cli), 2);
    CHECK_EQ_INT(tp_recv(p.cli, b + 2, 2, 1000, NULL), TP_OK);
    CHECK(memcmp(b, "abcd", 4) == 0);
    CHECK_EQ_INT(tp_pending(p.cli), 0);
    CHECK_EQ_INT(poll(&pf, 1, 0), 0);
    pair_close(&p);
}

RG_TEST(ucx_peer_close_is_closed_after_the_data_and_truncation_is_error)
{
    struct pair p;
    char b[16];
    tp_error e = {0};
    CHECK(pair_open(&p) == 0);
    CHECK_EQ_INT(tp_send(p.srv, "last words", 10, 1000, NULL), TP_OK);
    tp_close(p.srv);
    p.srv = NULL;
    CHECK_EQ_INT(tp_recv(p.cli, b, 10, 5000, &e), TP_OK); /* sent before the close: delivered */
    CHECK(memcmp(b, "last words", 10) == 0);
    CHECK_EQ_INT(tp_recv(p.cli, b, 1, 5000, &e), TP_CLOSED);
    CHECK_EQ_INT(tp_send(p.cli, "x", 1, 1000, &e), TP_CLOSED);
    pair_close(&p);

    CHECK(pair_open(&p) == 0);
    CHECK_EQ_INT(tp_send(p.srv, "abc", 3, 1000, NULL), TP_OK);
    tp_close(p.srv);
    p.srv = NULL;
    CHECK_EQ_INT(tp_recv(p.cli, b, 8, 5000, &e), TP_ERR); /* 3 of 8 bytes, then the end */
    CHECK(strstr(e.msg, "3 of 8") != NULL);
    CHECK_EQ_INT(tp_recv(p.cli, b, 1, 1000, &e), TP_BROKEN);
    pair_close(&p);
}

static void *blocked_recv(void *p)
{
    char b;
    return (void *)(intptr_t)tp_recv(p, &b, 1, TP_FOREVER, NULL);
}

RG_TEST(ucx_shutdown_wakes_a_blocked_receiver_and_the_peer)
{
    struct pair p;
    char b;
    CHECK(pair_open(&p) == 0);
    pthread_t t;
    void *rv;
    pthread_create(&t, NULL, blocked_recv, p.cli);
    usleep(20000); /* let it block (the result is the same if it has not yet) */
    CHECK_EQ_INT(tp_shutdown(p.cli), TP_OK);
    pthread_join(t, &rv);
    CHECK_EQ_INT((intptr_t)rv, TP_CLOSED);
    CHECK_EQ_INT(tp_recv(p.srv, &b, 1, 10000, NULL), TP_CLOSED); /* the peer sees the end */
    pair_close(&p);
}

/* ---- handing over, refusals ------------------------------------------------------------- */

/* The accepted end acc detached and handed to this program run again with
 * --adopt (as rgpud hands a connection to its worker): the child's pid, or -1. */
static pid_t adopt_in_child(tp_conn *acc, tp_error *e)
{
    int fd = -1;
    if (tp_detach(acc, &fd, e) != TP_OK) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        char arg[16];
        snprintf(arg, sizeof arg, "%d", fd);
        if (tp_fd_inherit(fd, 1, NULL) != TP_OK) _exit(10);
        execl(self_exe, self_exe, "--adopt", arg, (char *)NULL);
        _exit(11);
    }
    close(fd);
    return pid;
}

RG_TEST(ucx_handover_across_fork_exec)
{
    char url[300];
    tp_listener *l = NULL;
    tp_conn *cli = NULL, *acc = NULL;
    tp_error e = {0};
    int fd = -1, status = 0;
    CHECK_EQ_INT(tp_listen("ucx://127.0.0.1:0", &l, &e), TP_OK);
    CHECK_EQ_INT(tp_listener_url(l, url, sizeof url, &e), TP_OK);
    CHECK(strncmp(url, "ucx://127.0.0.1:", 16) == 0);
    CHECK(tp_listener_port(l) > 0);
    CHECK_EQ_INT(tp_dial(url, 5000, &cli, &e), TP_OK);
    CHECK_EQ_INT(tp_accept(l, 5000, &acc, &e), TP_OK);
    pid_t pid = adopt_in_child(acc, &e);
    CHECK(pid > 0);
    size_t n = 3u << 20; /* rendezvous-sized both ways */
    uint8_t *out = malloc(n), *back = malloc(n);
    fill(out, n, 99);
    uint32_t len = (uint32_t)n, m = 0;
    struct iovec v[2] = {{&len, 4}, {out, n}};
    CHECK_EQ_INT(tp_sendv(cli, v, 2, 10000, &e), TP_OK); /* DATA record, then the upgrade */
    CHECK_EQ_INT(tp_recv(cli, &m, 4, 10000, &e), TP_OK);
    CHECK_EQ_INT(m, n);
    CHECK_EQ_INT(tp_recv(cli, back, m, 10000, &e), TP_OK);
    for (size_t i = 0; i < n; i++)
        if (back[i] != out[n - 1 - i]) RG_FAIL("byte %zu differs", i);
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char b;
    CHECK_EQ_INT(tp_recv(cli, &b, 1, 5000, NULL), TP_CLOSED); /* the worker closed it */
    CHECK_EQ_INT(tp_detach(cli, &fd, &e), TP_NOTSUP);         /* UCP is up: no handing over */
    free(out);
    free(back);
    tp_close(cli);
    tp_listener_close(l);
}

RG_TEST(ucx_peer_process_dying_is_closed)
{
    char url[300], b;
    tp_listener *l = NULL;
    tp_conn *cli = NULL, *acc = NULL;
    tp_error e = {0};
    int status = 0;
    CHECK_EQ_INT(tp_listen("ucx://127.0.0.1:0", &l, &e), TP_OK);
    CHECK_EQ_INT(tp_listener_url(l, url, sizeof url, &e), TP_OK);
    CHECK_EQ_INT(tp_dial(url, 5000, &cli, &e), TP_OK);
    CHECK_EQ_INT(tp_accept(l, 5000, &acc, &e), TP_OK);
    pid_t pid = adopt_in_child(acc, &e);
    CHECK(pid > 0);
    uint32_t zero = 0;
    CHECK_EQ_INT(tp_send(cli, &zero, 4, 10000, &e), TP_OK); /* "die" */
    CHECK_EQ_INT(tp_recv(cli, &b, 1, 10000, &e), TP_CLOSED);
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(tp_send(cli, "x", 1, 1000, &e), TP_CLOSED);
    tp_close(cli);
    tp_listener_close(l);
}

RG_TEST(ucx_scheme_mismatch_is_reported)
{
    char url[300], b[8];
    tp_listener *l = NULL;
    tp_conn *cli = NULL, *acc = NULL;
    tp_error e = {0};
    /* a ucx:// client at a tcp:// server: the server's bytes are no record */
    CHECK_EQ_INT(tp_listen("tcp://127.0.0.1:0", &l, &e), TP_OK);
    snprintf(url, sizeof url, "ucx://127.0.0.1:%d", tp_listener_port(l));
    CHECK_EQ_INT(tp_dial(url, 5000, &cli, &e), TP_OK);
    CHECK_EQ_INT(tp_accept(l, 5000, &acc, &e), TP_OK);
    CHECK_EQ_INT(tp_send(acc, "RGPU-not-a-record", 17, 1000, NULL), TP_OK);
    CHECK_EQ_INT(tp_recv(cli, b, 8, 5000, &e), TP_ERR);
    CHECK(strstr(e.msg, "does not speak ucx://") != NULL);
    tp_close(cli);
    tp_close(acc);
    tp_listener_close(l);
    /* and a record half-read cannot be handed over */
    CHECK_EQ_INT(tp_listen("ucx://127.0.0.1:0", &l, &e), TP_OK);
    CHECK_EQ_INT(tp_listener_url(l, url, sizeof url, &e), TP_OK);
    CHECK_EQ_INT(tp_dial(url, 5000, &cli, &e), TP_OK);
    CHECK_EQ_INT(tp_accept(l, 5000, &acc, &e), TP_OK);
    CHECK_EQ_INT(tp_send(cli, "12345678", 8, 1000, NULL), TP_OK);
    CHECK_EQ_INT(tp_recv(acc, b, 4, 5000, &e), TP_OK);
    int fd = -1;
    CHECK_EQ_INT(tp_detach(acc, &fd, &e), TP_BROKEN);
    tp_close(acc);
    tp_close(cli);
    tp_listener_close(l);
}

/* UCX came into this process with the first ucx:// call (tests of this file
 * run before): none of its error-signal handlers, memory hooks off. */
RG_TEST(ucx_is_a_quiet_guest)
{
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
    tp_listener *l = NULL;
    tp_error e = {0};
    CHECK_EQ_INT(tp_listen("ucx://127.0.0.1:0", &l, &e), TP_OK); /* loaded by now, at the latest */
    tp_listener_close(l);
    for (int i = 0; i < 4; i++) {
        struct sigaction sa;
        CHECK(sigaction(sigs[i], NULL, &sa) == 0);
        CHECK(sa.sa_handler == SIG_DFL);
    }
    const char *ev = getenv("UCX_MEM_EVENTS"), *es = getenv("UCX_ERROR_SIGNALS");
    CHECK(ev && !strcmp(ev, "no"));
    CHECK(es && !*es);
}

/* A forked child of a process with a live connection exits cleanly without
 * touching it (the progress thread is the parent's), and the parent goes on. */
RG_TEST(ucx_fork_child_exits_without_touching_the_connection)
{
    struct pair p;
    int status = 0;
    char b[4];
    CHECK(pair_open(&p) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) exit(0); /* runs the exit-time destructors */
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(tp_send(p.srv, "pong", 4, 1000, NULL), TP_OK);
    CHECK_EQ_INT(tp_recv(p.cli, b, 4, 5000, NULL), TP_OK);
    CHECK(memcmp(b, "pong", 4) == 0);
    pair_close(&p);
}

RG_TEST(ucx_dial_refused_says_where)
{
    tp_listener *l = NULL;
    tp_conn *c = NULL;
    tp_error e = {0};
    char url[64];
    CHECK_EQ_INT(tp_listen("ucx://127.0.0.1:0", &l, &e), TP_OK);
    int port = tp_listener_port(l);
    tp_listener_close(l); /* nobody there now */
    snprintf(url, sizeof url, "ucx://127.0.0.1:%d", port);
    CHECK_EQ_INT(tp_dial(url, 2000, &c, &e), TP_REFUSED);
    CHECK(strstr(e.msg, "127.0.0.1") != NULL);
}

#define main rg_run_tests
RG_TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    self_exe = argv[0];
    if (argc == 3 && !strcmp(argv[1], "--adopt")) return adopt_and_reverse(atoi(argv[2]));
    return rg_run_tests(argc, argv);
}
