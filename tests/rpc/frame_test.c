/* frame_test.c — frame headers: round trip, every rejection with its own
 * code (truncated, magic, version, type, direction, flags, lengths, fields),
 * a fixed-seed fuzz loop, and frames over loopback TCP, including garbage
 * sent by a raw socket and bulk bytes received straight into place. */
#include <stdlib.h>

#include "frame.h"
#include "loopback.h"
#include "rgtest.h"

static rpc_hdr call_hdr(void)
{
    return (rpc_hdr){.version = RPC_PROTO_VERSION,
                     .type = RPC_T_CALL,
                     .op = 17,
                     .thread = 1,
                     .seq = 5,
                     .ctx = 0x100000002ull,
                     .enc_len = 12,
                     .raw_len = 4096};
}

static rpc_status decode(const rpc_hdr *h, enum rpc_side from)
{
    uint8_t b[RPC_HDR_SIZE];
    rpc_hdr out;
    rpc_hdr_encode(h, b);
    return rpc_hdr_decode(b, sizeof b, from, &out);
}

RG_TEST(frame_header_round_trip)
{
    uint8_t b[RPC_HDR_SIZE];
    rpc_hdr h = call_hdr(), out;
    h.flags = RPC_F_NOREPLY;
    rpc_hdr_encode(&h, b);
    CHECK(memcmp(b, "RGPU", 4) == 0);
    CHECK_EQ_INT(rpc_hdr_decode(b, sizeof b, RPC_FROM_CLIENT, &out), RPC_OK);
    CHECK(memcmp(&h, &out, sizeof h) == 0);
    CHECK_EQ_INT(b[16], 5); /* seq, little-endian at offset 16 */
    CHECK_EQ_INT(b[24], 2); /* ctx at 24 */
    CHECK_EQ_INT(b[28], 1);
}

/* `repeat`: only a pipelined CALL with nothing to follow runs again, at most
 * RPC_MAX_REPEAT more times; any other frame carries 0. */
RG_TEST(frame_header_repeat)
{
    uint8_t b[RPC_HDR_SIZE];
    rpc_hdr h = call_hdr(), out;
    h.flags = RPC_F_NOREPLY, h.raw_len = 0, h.repeat = 3;
    rpc_hdr_encode(&h, b);
    CHECK_EQ_INT(b[44], 3); /* little-endian at offset 44 */
    CHECK_EQ_INT(rpc_hdr_decode(b, sizeof b, RPC_FROM_CLIENT, &out), RPC_OK);
    CHECK_EQ_INT(out.repeat, 3);
    CHECK_EQ_INT(rpc_hdr_check(&h, RPC_FROM_CLIENT), RPC_OK);
    h.repeat = RPC_MAX_REPEAT;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_OK);
    h.repeat = RPC_MAX_REPEAT + 1;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    CHECK_EQ_INT(rpc_hdr_check(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    h.repeat = 1, h.flags = 0; /* waits for a reply */
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    h.flags = RPC_F_NOREPLY | RPC_F_MORE; /* bytes follow in DATA frames */
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    h = call_hdr(), h.type = RPC_T_DATA, h.op = 0, h.enc_len = 0, h.repeat = 1;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    h.repeat = 0;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_OK);
    h = call_hdr(), h.type = RPC_T_REPLY, h.flags = 0, h.raw_len = 0, h.repeat = 1;
    CHECK_EQ_INT(decode(&h, RPC_FROM_SERVER), RPC_E_FIELD);
}

RG_TEST(frame_header_rejections_are_distinct)
{
    uint8_t b[RPC_HDR_SIZE];
    rpc_hdr h, out;

    h = call_hdr();
    rpc_hdr_encode(&h, b);
    for (size_t n = 0; n < RPC_HDR_SIZE; n++)
        CHECK_EQ_INT(rpc_hdr_decode(b, n, RPC_FROM_CLIENT, &out), RPC_E_TRUNCATED);
    CHECK_EQ_INT(rpc_hdr_decode(NULL, 48, RPC_FROM_CLIENT, &out), RPC_E_TRUNCATED);
    b[0] ^= 1;
    CHECK_EQ_INT(rpc_hdr_decode(b, sizeof b, RPC_FROM_CLIENT, &out), RPC_E_MAGIC);
    rpc_hdr_encode(&h, b);
    b[44] = 1; /* repeat, on a CALL that waits for its reply */
    CHECK_EQ_INT(rpc_hdr_decode(b, sizeof b, RPC_FROM_CLIENT, &out), RPC_E_FIELD);

    h = call_hdr(), h.version = 2;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_VERSION);
    h = call_hdr(), h.type = 0;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_TYPE);
    h.type = RPC_T_MAX_ + 1;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_TYPE);
    h.type = 255;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_TYPE);
    h = call_hdr();
    CHECK_EQ_INT(decode(&h, RPC_FROM_SERVER), RPC_E_TYPE); /* servers do not send CALL */
    h = call_hdr(), h.flags = 0x80;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FLAGS);
    h = call_hdr(), h.enc_len = RPC_MAX_ENC_LEN + 1;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_LENGTH);
    h = call_hdr(), h.raw_len = RPC_MAX_RAW_LEN + 1;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_LENGTH);
    h = call_hdr(), h.raw_len = 0xffffffffu, h.enc_len = 0xffffffffu;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_LENGTH);
    h = call_hdr(), h.thread = 0;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    h = call_hdr(), h.seq = 0;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    h = call_hdr(), h.op = 0;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
    h = call_hdr(), h.credit = 3; /* only the server grants credit */
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);
}

RG_TEST(frame_header_type_rules)
{
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_HELLO, .enc_len = 100};
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_OK);
    h.version = 7; /* readable across versions, so the refusal can name both */
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_OK);
    CHECK_EQ_INT(decode(&h, RPC_FROM_SERVER), RPC_E_TYPE);
    h.enc_len = RPC_MAX_HANDSHAKE_LEN + 1; /* small limit before trust */
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_LENGTH);
    h.enc_len = 10, h.raw_len = 1; /* no bulk bytes in a handshake */
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_LENGTH);
    h.raw_len = 0, h.thread = 3; /* session-level frames name no thread */
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FIELD);

    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_CREDIT, .credit = 64};
    CHECK_EQ_INT(decode(&h, RPC_FROM_SERVER), RPC_OK);
    h.enc_len = 1;
    CHECK_EQ_INT(decode(&h, RPC_FROM_SERVER), RPC_E_LENGTH);
    h = (rpc_hdr){.version = RPC_PROTO_VERSION,
                  .type = RPC_T_DATA,
                  .thread = 2,
                  .seq = 9,
                  .raw_len = RPC_MAX_RAW_LEN,
                  .flags = RPC_F_MORE};
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_OK);
    h.flags = RPC_F_NOREPLY;
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_FLAGS);
    h = (rpc_hdr){.version = RPC_PROTO_VERSION, .type = RPC_T_NOTIFY, .op = 1, .raw_len = 10};
    CHECK_EQ_INT(decode(&h, RPC_FROM_SERVER), RPC_OK);
    CHECK_EQ_INT(decode(&h, RPC_FROM_CLIENT), RPC_E_TYPE);
    h = (rpc_hdr){.version = 2, .type = RPC_T_HEARTBEAT};
    CHECK_EQ_INT(decode(&h, RPC_FROM_SERVER), RPC_E_VERSION);
    CHECK_STR(rpc_type_name(RPC_T_WELCOME), "WELCOME");
    CHECK_STR(rpc_type_name(0), "?");
    CHECK_STR(rpc_type_name(200), "?");
}

static uint32_t rnd(uint32_t *x)
{
    return (*x = *x * 1664525u + 1013904223u) >> 8;
}

/* Garbage and mutated valid headers: any answer but a crash; whatever passes
 * re-encodes to the same bytes (so nothing unchecked slipped through). */
RG_TEST(frame_header_fuzz_fixed_seed)
{
    uint32_t x = 0xC0FFEE;
    int ok = 0, magic = 0;
    for (int it = 0; it < 200000; it++) {
        uint8_t b[RPC_HDR_SIZE], again[RPC_HDR_SIZE];
        rpc_hdr h = call_hdr(), out;
        if (it & 1) {
            for (int i = 0; i < RPC_HDR_SIZE; i++)
                b[i] = (uint8_t)rnd(&x);
        } else {
            h.type = (uint8_t)(1 + rnd(&x) % RPC_T_MAX_);
            rpc_hdr_encode(&h, b);
            for (int k = 1 + rnd(&x) % 3; k > 0; k--)
                b[4 + rnd(&x) % 44] ^= (uint8_t)(1u << (rnd(&x) % 8));
        }
        size_t len = (rnd(&x) % 16) ? RPC_HDR_SIZE : rnd(&x) % RPC_HDR_SIZE;
        enum rpc_side from = (rnd(&x) & 1) ? RPC_FROM_CLIENT : RPC_FROM_SERVER;
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, b, len);
        rpc_status st = rpc_hdr_decode(exact, len, from, &out);
        free(exact);
        CHECK(st >= RPC_OK && st <= RPC_E_FIELD);
        if (st == RPC_E_MAGIC) magic++;
        if (st != RPC_OK) continue;
        ok++;
        rpc_hdr_encode(&out, again);
        CHECK(memcmp(again, b, RPC_HDR_SIZE) == 0);
        CHECK(out.enc_len <= RPC_MAX_ENC_LEN && out.raw_len <= RPC_MAX_RAW_LEN);
    }
    CHECK(magic > 90000); /* random bytes are almost never "RGPU" */
    CHECK(ok > 0);        /* and some mutations stay valid */
}

/* rpc_hdr_check (senders, before encoding) decides as the receiver's
 * rpc_hdr_decode does on the encoded header, for headers of every kind. */
RG_TEST(frame_header_check_agrees_with_decode)
{
    uint32_t x = 0xBADC0DE, y = 0x5EED; /* y: `repeat`, apart from the other fields */
    int accepted = 0;
    for (int it = 0; it < 100000; it++) {
        rpc_hdr h = {0}, out;
        uint8_t b[RPC_HDR_SIZE];
        h.version = (uint16_t)(rnd(&x) % 8 ? RPC_PROTO_VERSION : rnd(&x) % 3);
        h.type = (uint8_t)(rnd(&x) % (RPC_T_MAX_ + 2));
        h.flags = (uint8_t)(rnd(&x) % 4 ? 0 : rnd(&x));
        if (rnd(&x) & 1) h.op = rnd(&x) % 4 ? 1 + rnd(&x) % 500 : rnd(&x);
        if (rnd(&x) & 1) h.thread = 1 + rnd(&x) % 8;
        if (rnd(&x) & 1) h.seq = 1 + rnd(&x);
        if (rnd(&x) % 4 == 0) h.ctx = rnd(&x);
        if (rnd(&x) % 4 == 0) h.credit = rnd(&x) % 300;
        h.enc_len = rnd(&x) % 8 ? rnd(&x) % 4096 : rnd(&x);
        h.raw_len = rnd(&x) % 8 ? rnd(&x) % 4096 : rnd(&x);
        if (rnd(&y) % 4 == 0) h.repeat = rnd(&y) % 2 ? rnd(&y) % 8 : RPC_MAX_REPEAT + rnd(&y) % 3;
        enum rpc_side from = (rnd(&x) & 1) ? RPC_FROM_CLIENT : RPC_FROM_SERVER;
        rpc_status want = rpc_hdr_check(&h, from);
        rpc_hdr_encode(&h, b);
        CHECK_EQ_INT(rpc_hdr_decode(b, sizeof b, from, &out), want);
        accepted += want == RPC_OK;
    }
    CHECK(accepted > 1000); /* the comparison covered accepted headers too */
}

/* ---- over a connection ---------------------------------------------------------- */

RG_TEST(frame_send_recv_with_raw_bytes_in_place)
{
    struct loopback p;
    CHECK(loopback_open(&p) == 0);
    static uint8_t bulk[3][100000], dst[300000];
    for (int i = 0; i < 3; i++)
        memset(bulk[i], 'a' + i, sizeof bulk[i]);
    struct iovec raw[3] = {{bulk[0], 100000}, {bulk[1], 100000}, {bulk[2], 100000}};
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_CALL, .op = 3, .thread = 1, .seq = 1};
    rpc_error e = {0};

    CHECK_EQ_INT(rpc_frame_send(p.cli, RPC_FROM_CLIENT, &h, "args", 4, raw, 3, 5000, &e), RPC_OK);
    CHECK_EQ_INT(h.raw_len, 300000);
    h.seq = 2;
    CHECK_EQ_INT(rpc_frame_send(p.cli, RPC_FROM_CLIENT, &h, "more", 4, raw, 1, 5000, &e), RPC_OK);

    rpc_hdr in;
    void *enc = NULL;
    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 5000, &in, &enc, &e), RPC_OK);
    CHECK(enc && in.enc_len == 4 && memcmp(enc, "args", 4) == 0);
    free(enc);
    CHECK_EQ_INT(in.raw_len, 300000);
    CHECK_EQ_INT(rpc_frame_recv_raw(p.srv, dst, in.raw_len, 5000, &e), RPC_OK);
    CHECK(dst[0] == 'a' && dst[150000] == 'b' && dst[299999] == 'c');
    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 5000, &in, &enc, &e), RPC_OK);
    CHECK_EQ_INT(in.seq, 2);
    free(enc);
    CHECK_EQ_INT(rpc_frame_skip_raw(p.srv, in.raw_len, 5000, &e), RPC_OK);

    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 100, &in, &enc, &e), RPC_E_TIMEOUT);
    loopback_close(&p);
}

RG_TEST(frame_send_refuses_bad_frames_of_our_own)
{
    struct loopback p;
    rpc_error e = {0};
    CHECK(loopback_open(&p) == 0);
    rpc_hdr h = {
        .version = RPC_PROTO_VERSION, .type = RPC_T_CALL, .op = 3, .seq = 1}; /* thread 0 */
    CHECK_EQ_INT(rpc_frame_send(p.cli, RPC_FROM_CLIENT, &h, NULL, 0, NULL, 0, 100, &e),
                 RPC_E_FIELD);
    CHECK(strstr(e.msg, "refusing") != NULL);
    h.thread = 1;
    CHECK_EQ_INT(rpc_frame_send(p.cli, RPC_FROM_SERVER, &h, NULL, 0, NULL, 0, 100, &e), RPC_E_TYPE);
    CHECK_EQ_INT(rpc_frame_send(p.cli, RPC_FROM_CLIENT, &h, NULL, 5, NULL, 0, 100, &e),
                 RPC_E_INVAL);
    struct iovec big[2] = {{NULL, RPC_MAX_RAW_LEN}, {NULL, 1}};
    CHECK_EQ_INT(rpc_frame_send(p.cli, RPC_FROM_CLIENT, &h, NULL, 0, big, 2, 100, &e),
                 RPC_E_LENGTH);
    loopback_close(&p);
}

/* What a hostile client can send: the receiver answers with an error, does
 * not allocate what the header claims, and never crashes. */
RG_TEST(frame_recv_hostile_bytes_from_a_raw_socket)
{
    struct loopback p;
    rpc_error e = {0};
    rpc_hdr in;
    void *enc = NULL;
    uint8_t b[RPC_HDR_SIZE];

    CHECK(loopback_open(&p) == 0);
    CHECK_EQ_INT(
        tp_send(p.cli, "GET / HTTP/1.1\r\nHost: x\r\n\r\n0123456789abcdefghijk", 48, 1000, NULL),
        TP_OK);
    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 1000, &in, &enc, &e), RPC_E_MAGIC);
    CHECK(strstr(e.msg, "bad frame header from 127.0.0.1:") != NULL);
    loopback_close(&p);

    CHECK(loopback_open(&p) == 0); /* claims 4 GiB of payload */
    rpc_hdr h = call_hdr();
    rpc_hdr_encode(&h, b);
    memset(b + 32, 0xff, 8);
    CHECK_EQ_INT(tp_send(p.cli, b, sizeof b, 1000, NULL), TP_OK);
    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 1000, &in, &enc, &e), RPC_E_LENGTH);
    CHECK(enc == NULL);
    loopback_close(&p);

    CHECK(loopback_open(&p) == 0); /* a truncated header, then silence, then EOF */
    CHECK_EQ_INT(tp_send(p.cli, b, 20, 1000, NULL), TP_OK);
    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 100, &in, &enc, &e), RPC_E_TIMEOUT);
    tp_close(p.cli), p.cli = NULL;
    CHECK(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 1000, &in, &enc, &e) != RPC_OK);
    loopback_close(&p);

    CHECK(loopback_open(&p) == 0); /* a valid header whose payload never comes */
    h = call_hdr(), h.raw_len = 0;
    rpc_hdr_encode(&h, b);
    CHECK_EQ_INT(tp_send(p.cli, b, sizeof b, 1000, NULL), TP_OK);
    CHECK_EQ_INT(tp_send(p.cli, "abc", 3, 1000, NULL), TP_OK);
    tp_close(p.cli), p.cli = NULL;
    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 1000, &in, &enc, &e), RPC_E_TRANSPORT);
    CHECK(enc == NULL);
    CHECK(strstr(e.msg, "closed after 3 of 12 bytes") != NULL);
    loopback_close(&p);

    CHECK(loopback_open(&p) == 0); /* orderly close between frames */
    tp_close(p.cli), p.cli = NULL;
    CHECK_EQ_INT(rpc_frame_recv(p.srv, RPC_FROM_CLIENT, 0, 1000, &in, &enc, &e), RPC_E_CLOSED);
    loopback_close(&p);
}

RG_TEST(frame_strerror_covers_every_status)
{
    for (int s = RPC_OK; s <= RPC_E_TRANSPORT; s++)
        CHECK(strcmp(rpc_strerror((rpc_status)s), "unknown rpc status") != 0);
}

RG_TEST_MAIN()
