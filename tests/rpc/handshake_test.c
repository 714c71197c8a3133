/* handshake_test.c — HELLO / WELCOME through protobuf-c over loopback TCP:
 * an accepted session, a version mismatch refused with both versions named,
 * an ERROR frame in place of an answer, undecodable and oversized messages. */
#include <stdlib.h>

#include "loopback.h"
#include "msg.h"
#include "rgtest.h"

static void fill_hello(Rgpu__Hello *m, Rgpu__ClientIdentity *id, Rgpu__AddressWindow *win)
{
    rgpu__hello__init(m);
    rgpu__client_identity__init(id);
    rgpu__address_window__init(win);
    id->host = "laptop";
    id->pid = 4242;
    id->uid = 1000;
    id->user = "ada";
    id->process = "matmul";
    win->start = 0x7f0000000000ull;
    win->size = 1ull << 40;
    m->protocol_version = RPC_PROTO_VERSION;
    m->client_version = "0.1.0";
    m->client = id;
    m->devices_wanted = 2;
    m->window = win;
}

/* The server's half: read HELLO, check it, answer WELCOME. */
static rpc_status serve_hello(tp_conn *srv, rpc_error *e)
{
    rpc_hdr h;
    Rgpu__Hello *hello = NULL;
    rpc_status st = rpc_recv_msg(srv, RPC_FROM_CLIENT, RPC_T_HELLO, &rgpu__hello__descriptor, 0,
                                 1000, &h, (ProtobufCMessage **)&hello, e);
    if (st != RPC_OK) return st;

    rpc_error why = {0};
    Rgpu__Welcome w = RGPU__WELCOME__INIT;
    Rgpu__DeviceSummary dev = RGPU__DEVICE_SUMMARY__INIT, *devs[1] = {&dev};
    w.protocol_version = RPC_PROTO_VERSION;
    w.server_version = "0.1.0";
    if (rpc_hello_check(&h, hello, &why) == RPC_OK) {
        w.accepted = 1;
        w.driver_version = 12040;
        w.backend = "simgpu";
        dev.name = "rgpu simgpu";
        dev.total_mem = 4ull << 30;
        dev.cc_major = 12;
        w.n_devices = 1;
        w.devices = devs;
        w.session_id = 77;
        w.window = hello->window;
        w.credits = 256;
    } else {
        w.message = why.msg;
    }
    rpc_hdr out = {.version = RPC_PROTO_VERSION, .type = RPC_T_WELCOME};
    st = rpc_send_msg(srv, RPC_FROM_SERVER, &out, &w.base, 1000, e);
    rgpu__hello__free_unpacked(hello, NULL);
    return st;
}

static rpc_status recv_welcome(tp_conn *cli, Rgpu__Welcome **w, rpc_error *e)
{
    rpc_hdr h;
    return rpc_recv_msg(cli, RPC_FROM_SERVER, RPC_T_WELCOME, &rgpu__welcome__descriptor, 0, 1000,
                        &h, (ProtobufCMessage **)w, e);
}

RG_TEST(handshake_accepted_round_trip)
{
    struct loopback p;
    Rgpu__Hello m;
    Rgpu__ClientIdentity id;
    Rgpu__AddressWindow win;
    Rgpu__Welcome *w = NULL;
    rpc_error e = {0};
    CHECK(loopback_open(&p) == 0);
    fill_hello(&m, &id, &win);

    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    CHECK_EQ_INT(rpc_send_msg(p.cli, RPC_FROM_CLIENT, &h, &m.base, 1000, &e), RPC_OK);
    CHECK_EQ_INT(serve_hello(p.srv, &e), RPC_OK);
    CHECK_EQ_INT(recv_welcome(p.cli, &w, &e), RPC_OK);
    CHECK_EQ_INT(rpc_welcome_check(w, &e), RPC_OK);
    CHECK_EQ_INT(w->driver_version, 12040);
    CHECK_EQ_INT(w->n_devices, 1);
    CHECK_STR(w->devices[0]->name, "rgpu simgpu");
    CHECK_EQ_U64(w->session_id, 77);
    CHECK(w->window && w->window->start == win.start && w->window->size == win.size);
    rgpu__welcome__free_unpacked(w, NULL);
    loopback_close(&p);
}

RG_TEST(handshake_version_mismatch_names_both_versions)
{
    struct loopback p;
    Rgpu__Hello m;
    Rgpu__ClientIdentity id;
    Rgpu__AddressWindow win;
    Rgpu__Welcome *w = NULL;
    rpc_error e = {0};
    char want[160];
    CHECK(loopback_open(&p) == 0);
    fill_hello(&m, &id, &win);
    m.protocol_version = RPC_PROTO_VERSION + 1; /* a newer client */
    rpc_hdr h = {.version = RPC_PROTO_VERSION + 1, .type = RPC_T_HELLO};
    CHECK_EQ_INT(rpc_send_msg(p.cli, RPC_FROM_CLIENT, &h, &m.base, 1000, &e), RPC_OK);
    CHECK_EQ_INT(serve_hello(p.srv, &e), RPC_OK);
    CHECK_EQ_INT(recv_welcome(p.cli, &w, &e), RPC_OK);
    CHECK(!w->accepted);
    CHECK_EQ_INT(rpc_welcome_check(w, &e), RPC_E_REFUSED);
    rpc_version_mismatch_text(RPC_PROTO_VERSION + 1, RPC_PROTO_VERSION, want, sizeof want);
    CHECK(strstr(e.msg, want) != NULL);
    CHECK(strstr(e.msg, "client speaks version 2, server speaks version 1") != NULL);
    rgpu__welcome__free_unpacked(w, NULL);

    rpc_hdr hh = {.version = 1};
    m.protocol_version = 3; /* header and body disagree */
    CHECK_EQ_INT(rpc_hello_check(&hh, &m, &e), RPC_E_FIELD);
    loopback_close(&p);
}

RG_TEST(handshake_error_frame_instead_of_welcome)
{
    struct loopback p;
    Rgpu__Welcome *w = NULL;
    rpc_error e = {0};
    CHECK(loopback_open(&p) == 0);
    CHECK_EQ_INT(rpc_send_error(p.srv, RPC_FROM_SERVER, RGPU__ERROR_KIND__ERROR_AUTH, 1, 1000, &e,
                                "token refused for user %s", "ada"),
                 RPC_OK);
    CHECK_EQ_INT(recv_welcome(p.cli, &w, &e), RPC_E_REMOTE);
    CHECK(w == NULL);
    CHECK_STR(e.msg, "token refused for user ada");
    CHECK_EQ_INT(e.remote_kind, RGPU__ERROR_KIND__ERROR_AUTH);

    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_CLOSE};
    CHECK_EQ_INT(rpc_frame_send(p.srv, RPC_FROM_SERVER, &h, NULL, 0, NULL, 0, 1000, &e), RPC_OK);
    CHECK_EQ_INT(recv_welcome(p.cli, &w, &e), RPC_E_UNEXPECTED);
    CHECK(strstr(e.msg, "expected a WELCOME frame") != NULL);
    loopback_close(&p);
}

RG_TEST(handshake_bad_messages)
{
    struct loopback p;
    Rgpu__Hello m, *got = NULL;
    Rgpu__ClientIdentity id;
    Rgpu__AddressWindow win;
    rpc_error e = {0};
    rpc_hdr h;
    CHECK(loopback_open(&p) == 0);

    /* protobuf garbage in a well-formed HELLO frame */
    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    CHECK_EQ_INT(
        rpc_frame_send(p.cli, RPC_FROM_CLIENT, &h, "\xff\xff\xff\xff\xff", 5, NULL, 0, 1000, &e),
        RPC_OK);
    CHECK_EQ_INT(rpc_recv_msg(p.srv, RPC_FROM_CLIENT, RPC_T_HELLO, &rgpu__hello__descriptor, 0,
                              1000, &h, (ProtobufCMessage **)&got, &e),
                 RPC_E_DECODE);
    CHECK(got == NULL);

    /* over the receiver's own (pre-authentication) limit */
    fill_hello(&m, &id, &win);
    char *big = malloc(4000);
    memset(big, 'x', 3999), big[3999] = 0;
    id.process = big;
    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO};
    CHECK_EQ_INT(rpc_send_msg(p.cli, RPC_FROM_CLIENT, &h, &m.base, 1000, &e), RPC_OK);
    CHECK_EQ_INT(rpc_recv_msg(p.srv, RPC_FROM_CLIENT, RPC_T_HELLO, &rgpu__hello__descriptor, 1024,
                              1000, &h, (ProtobufCMessage **)&got, &e),
                 RPC_E_LENGTH);
    free(big);

    /* over the type's limit: refused before anything is sent */
    Rgpu__Credentials cred = RGPU__CREDENTIALS__INIT;
    char *token = malloc(RPC_MAX_HANDSHAKE_LEN + 10);
    memset(token, 't', RPC_MAX_HANDSHAKE_LEN + 9), token[RPC_MAX_HANDSHAKE_LEN + 9] = 0;
    cred.token = token;
    m.credentials = &cred;
    id.process = "p";
    CHECK_EQ_INT(rpc_send_msg(p.cli, RPC_FROM_CLIENT, &h, &m.base, 1000, &e), RPC_E_OVERFLOW);
    free(token);
    loopback_close(&p);
}

RG_TEST_MAIN()
