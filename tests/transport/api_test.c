/* api_test.c — the transport registry and its defaults: a transport that
 * provides only some ops answers TP_NOTSUP for the rest (callers never test
 * for NULL), registration rules, URL parsing and formatting. */
#include <stdlib.h>

#include "rgtest.h"
#include "transport.h"

/* A "fake" transport that can only dial: its connections do nothing else. */
struct fake_conn {
    tp_conn base;
    int closed;
};
static int fake_closes;

static tp_status fake_dial(const tp_transport *t, const tp_url *u, int tmo, tp_conn **out,
                           tp_error *err)
{
    struct fake_conn *f = calloc(1, sizeof *f);
    if (!f) return TP_NOMEM;
    f->base.tp = t;
    snprintf(f->base.peer, sizeof f->base.peer, "%s:%d", u->host, u->port);
    *out = &f->base;
    return TP_OK;
}

static void fake_close(tp_conn *c)
{
    fake_closes++;
    free(tp_container_of(c, struct fake_conn, base));
}

static const tp_ops fake_ops = {.scheme = "fake", .dial = fake_dial, .close = fake_close};

RG_TEST(api_missing_ops_answer_not_supported)
{
    tp_conn *c = NULL;
    tp_listener *l = NULL;
    tp_error e = {0};
    int fd = 7;
    char b[4];
    CHECK_EQ_INT(tp_register(&fake_ops), TP_OK);
    CHECK_EQ_INT(tp_register(&fake_ops), TP_INVAL); /* scheme taken */
    CHECK(tp_lookup("fake") != NULL);

    CHECK_EQ_INT(tp_dial("fake://gpu-box:9", 0, &c, &e), TP_OK);
    CHECK_STR(tp_conn_peer(c), "gpu-box:9");
    CHECK_EQ_INT(tp_send(c, "x", 1, 0, &e), TP_NOTSUP);
    CHECK(strstr(e.msg, "fake") != NULL);
    CHECK_EQ_INT(tp_recv(c, b, 1, 0, &e), TP_NOTSUP);
    CHECK_EQ_INT(tp_recv(c, b, 0, 0, &e), TP_OK); /* nothing to do */
    CHECK_EQ_INT(tp_set_busy_poll(c, 10), TP_NOTSUP);
    CHECK_EQ_INT(tp_conn_fd(c), -1);
    CHECK_EQ_INT(tp_shutdown(c), TP_NOTSUP);
    CHECK_EQ_INT(tp_detach(c, &fd, &e), TP_NOTSUP);
    CHECK_EQ_INT(fd, -1);
    CHECK_EQ_INT(tp_listen("fake://h:1", &l, &e), TP_NOTSUP);
    CHECK(l == NULL);
    tp_conn *c2 = NULL;
    CHECK_EQ_INT(tp_adopt("fake", 0, &c2, &e), TP_NOTSUP);
    CHECK(c2 == NULL);
    tp_close(c);
    CHECK_EQ_INT(fake_closes, 1);
}

RG_TEST(api_registration_rules)
{
    tp_ops no_close = {.scheme = "noclose", .dial = fake_dial};
    tp_ops no_name = {.dial = fake_dial, .close = fake_close};
    tp_ops long_name = {.scheme = "a-scheme-name-that-is-too-long", .close = fake_close};
    CHECK_EQ_INT(tp_register(&no_close), TP_INVAL);
    CHECK_EQ_INT(tp_register(&no_name), TP_INVAL);
    CHECK_EQ_INT(tp_register(&long_name), TP_INVAL);
    CHECK_EQ_INT(tp_register(NULL), TP_INVAL);
    CHECK(tp_lookup("tcp") != NULL); /* built in */
    CHECK(tp_lookup("noclose") == NULL);
    CHECK(tp_lookup(NULL) == NULL);
}

RG_TEST(api_url_parse_and_format)
{
    tp_url u;
    char buf[300];
    CHECK_EQ_INT(tp_url_parse("tcp://127.0.0.1:7070", &u, NULL), TP_OK);
    CHECK_STR(u.scheme, "tcp");
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_EQ_INT(u.port, 7070);
    CHECK_EQ_INT(tp_url_parse("tcp://[::1]:0", &u, NULL), TP_OK);
    CHECK_STR(u.host, "::1");
    CHECK_EQ_INT(u.port, 0);
    tp_url_format(&u, buf, sizeof buf);
    CHECK_STR(buf, "tcp://[::1]:0");
    CHECK_EQ_INT(tp_url_parse("ucx://gpu-box.example:65535", &u, NULL), TP_OK);
    CHECK_STR(u.host, "gpu-box.example");
    CHECK_EQ_INT(tp_url_parse("tcp://:7070", &u, NULL), TP_OK); /* any address */
    CHECK_STR(u.host, "");

    tp_error e = {0};
    CHECK_EQ_INT(tp_url_parse("tcp://h:65536", &u, &e), TP_ADDR);
    CHECK(strstr(e.msg, "bad port '65536'") != NULL);
    char huge[400];
    memset(huge, 'a', sizeof huge);
    memcpy(huge, "tcp://", 6);
    strcpy(huge + sizeof huge - 4, ":1");
    CHECK_EQ_INT(tp_url_parse(huge, &u, &e), TP_ADDR);
    CHECK_EQ_INT(tp_url_parse("averyveryverylongscheme://h:1", &u, &e), TP_ADDR);
}

RG_TEST(api_strerror_covers_every_status)
{
    for (int s = TP_OK; s <= TP_ERR; s++)
        CHECK(strcmp(tp_strerror((tp_status)s), "unknown transport status") != 0);
    CHECK_STR(tp_strerror((tp_status)999), "unknown transport status");
}

RG_TEST_MAIN()
