/* frame.c — encoding and checking frame headers, and sending/receiving whole
 * frames over a tp connection. The per-type rules below are the single place
 * that says which header fields a frame type may use (DESIGN rule 6). */
#include "frame.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---------------------------------------------------------------- */

const char *rpc_strerror(rpc_status st)
{
    switch (st) {
    case RPC_OK:
        return "success";
    case RPC_E_TRUNCATED:
        return "truncated frame header";
    case RPC_E_MAGIC:
        return "bad magic: not an rgpu frame";
    case RPC_E_VERSION:
        return "unsupported protocol version";
    case RPC_E_TYPE:
        return "unknown or misdirected frame type";
    case RPC_E_FLAGS:
        return "invalid frame flags";
    case RPC_E_LENGTH:
        return "frame length out of range";
    case RPC_E_FIELD:
        return "frame header field out of range";
    case RPC_E_DECODE:
        return "payload does not decode";
    case RPC_E_UNEXPECTED:
        return "unexpected frame type";
    case RPC_E_REMOTE:
        return "error reported by peer";
    case RPC_E_REFUSED:
        return "handshake refused";
    case RPC_E_OVERFLOW:
        return "encoding too large";
    case RPC_E_NOMEM:
        return "out of memory";
    case RPC_E_INVAL:
        return "invalid argument";
    case RPC_E_CLOSED:
        return "connection closed by peer";
    case RPC_E_TIMEOUT:
        return "timed out";
    case RPC_E_TRANSPORT:
        return "transport error";
    }
    return "unknown rpc status";
}

rpc_status rpc_fail(rpc_error *err, rpc_status st, const char *fmt, ...)
{
    if (!err) return st;
    err->status = st;
    err->remote_kind = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

rpc_status rpc_from_tp(tp_status st, const tp_error *te, rpc_error *err)
{
    rpc_status r = st == TP_OK        ? RPC_OK
                   : st == TP_CLOSED  ? RPC_E_CLOSED
                   : st == TP_TIMEOUT ? RPC_E_TIMEOUT
                   : st == TP_NOMEM   ? RPC_E_NOMEM
                                      : RPC_E_TRANSPORT;
    if (r == RPC_OK) return r;
    return rpc_fail(err, r, "%s", te && te->msg[0] ? te->msg : tp_strerror(st));
}

/* ---- per-type rules ------------------------------------------------------------ */

enum { THR_ZERO, THR_ANY, THR_CALL }; /* THR_CALL: thread, seq and op all non-zero */

struct type_rule {
    const char *name;
    uint8_t from;        /* RPC_FROM_* bits that may send it */
    uint8_t flags;       /* allowed RPC_F_* */
    uint8_t raw;         /* may carry raw bytes */
    uint8_t any_version; /* handshake-time types: readable across versions */
    uint8_t thread;      /* THR_* */
    uint32_t max_enc;
};

#define C RPC_FROM_CLIENT
#define S RPC_FROM_SERVER
static const struct type_rule rules[RPC_T_MAX_ + 1] = {
    [RPC_T_HELLO] = {"HELLO", C, 0, 0, 1, THR_ZERO, RPC_MAX_HANDSHAKE_LEN},
    [RPC_T_WELCOME] = {"WELCOME", S, 0, 0, 1, THR_ZERO, RPC_MAX_HANDSHAKE_LEN},
    [RPC_T_CALL] = {"CALL", C, RPC_F_NOREPLY | RPC_F_MORE, 1, 0, THR_CALL, RPC_MAX_ENC_LEN},
    [RPC_T_REPLY] = {"REPLY", S, RPC_F_MORE, 1, 0, THR_CALL, RPC_MAX_ENC_LEN},
    [RPC_T_DATA] = {"DATA", C | S, RPC_F_MORE, 1, 0, THR_CALL, 0},
    [RPC_T_NOTIFY] = {"NOTIFY", S, RPC_F_MORE, 1, 0, THR_ANY, RPC_MAX_ENC_LEN},
    [RPC_T_CREDIT] = {"CREDIT", S, 0, 0, 0, THR_ZERO, 0},
    [RPC_T_HEARTBEAT] = {"HEARTBEAT", C | S, 0, 0, 0, THR_ANY, 0},
    [RPC_T_ERROR] = {"ERROR", C | S, 0, 0, 1, THR_ANY, RPC_MAX_HANDSHAKE_LEN},
    [RPC_T_CLOSE] = {"CLOSE", C | S, 0, 0, 0, THR_ZERO, 0},
};
#undef C
#undef S

static const struct type_rule *rule_for(unsigned type)
{
    return (type <= RPC_T_MAX_ && rules[type].name) ? &rules[type] : NULL;
}

const char *rpc_type_name(unsigned type)
{
    const struct type_rule *r = rule_for(type);
    return r ? r->name : "?";
}

uint32_t rpc_type_max_enc(unsigned type)
{
    const struct type_rule *r = rule_for(type);
    return r ? r->max_enc : 0;
}

/* ---- header encoding and checking ---------------------------------------------- */

void rpc_hdr_encode(const rpc_hdr *h, uint8_t out[RPC_HDR_SIZE])
{
    rpc_wbuf w;
    rpc_wbuf_init(&w, out, RPC_HDR_SIZE);
    rpc_put_u32(&w, RPC_MAGIC);
    rpc_put_u16(&w, h->version);
    rpc_put_u8(&w, h->type);
    rpc_put_u8(&w, h->flags);
    rpc_put_u32(&w, h->op);
    rpc_put_u32(&w, h->thread);
    rpc_put_u64(&w, h->seq);
    rpc_put_u64(&w, h->ctx);
    rpc_put_u32(&w, h->enc_len);
    rpc_put_u32(&w, h->raw_len);
    rpc_put_u32(&w, h->credit);
    rpc_put_u32(&w, h->repeat);
}

/* The type's rule, if the type exists, speaks our version (or need not) and
 * may come from `from`. */
static rpc_status check_type(const rpc_hdr *h, enum rpc_side from, const struct type_rule **rule)
{
    *rule = rule_for(h->type);
    if (!*rule) return RPC_E_TYPE;
    if (h->version != RPC_PROTO_VERSION && !(*rule)->any_version) return RPC_E_VERSION;
    if (!((*rule)->from & from)) return RPC_E_TYPE;
    return RPC_OK;
}

static rpc_status check_fields(const rpc_hdr *h, const struct type_rule *r, enum rpc_side from)
{
    if (h->flags & ~r->flags) return RPC_E_FLAGS;
    if (h->enc_len > r->max_enc) return RPC_E_LENGTH;
    if (h->raw_len > (r->raw ? RPC_MAX_RAW_LEN : 0)) return RPC_E_LENGTH;
    if (from == RPC_FROM_CLIENT && h->credit) return RPC_E_FIELD;
    /* a repeated call is a whole pipelined CALL: no reply, no bytes to follow */
    if (h->repeat && (h->type != RPC_T_CALL || (h->flags & (RPC_F_NOREPLY | RPC_F_MORE)) !=
                      RPC_F_NOREPLY || h->repeat > RPC_MAX_REPEAT))
        return RPC_E_FIELD;
    switch (r->thread) {
    case THR_ZERO:
        if (h->thread || h->seq || h->ctx || h->op) return RPC_E_FIELD;
        break;
    case THR_CALL:
        if (!h->thread || !h->seq) return RPC_E_FIELD;
        if (!h->op && h->type != RPC_T_DATA) return RPC_E_FIELD;
        break;
    }
    if (h->type == RPC_T_NOTIFY && !h->op) return RPC_E_FIELD;
    return RPC_OK;
}

rpc_status rpc_hdr_decode(const void *buf, size_t len, enum rpc_side from, rpc_hdr *out)
{
    rpc_rbuf r;
    rpc_hdr h;
    if (!buf || len < RPC_HDR_SIZE) return RPC_E_TRUNCATED;
    rpc_rbuf_init(&r, buf, RPC_HDR_SIZE);
    uint32_t magic = rpc_get_u32(&r);
    h.version = rpc_get_u16(&r);
    h.type = rpc_get_u8(&r);
    h.flags = rpc_get_u8(&r);
    h.op = rpc_get_u32(&r);
    h.thread = rpc_get_u32(&r);
    h.seq = rpc_get_u64(&r);
    h.ctx = rpc_get_u64(&r);
    h.enc_len = rpc_get_u32(&r);
    h.raw_len = rpc_get_u32(&r);
    h.credit = rpc_get_u32(&r);
    h.repeat = rpc_get_u32(&r);
    h.unused_ = 0;

    if (magic != RPC_MAGIC) return RPC_E_MAGIC;
    const struct type_rule *rule;
    rpc_status st = check_type(&h, from, &rule);
    if (st == RPC_OK) st = check_fields(&h, rule, from);
    if (st == RPC_OK) *out = h;
    return st;
}

rpc_status rpc_hdr_check(const rpc_hdr *h, enum rpc_side from)
{
    const struct type_rule *rule;
    rpc_status st = check_type(h, from, &rule);
    return st == RPC_OK ? check_fields(h, rule, from) : st;
}

/* ---- frames over a transport ------------------------------------------------------- */

rpc_status rpc_frame_send(tp_conn *c, enum rpc_side from, rpc_hdr *h, const void *enc,
                          size_t enc_len, const struct iovec *raw, int nraw, int timeout_ms,
                          rpc_error *err)
{
    struct iovec iov[TP_IOV_MAX];
    uint8_t hb[RPC_HDR_SIZE];
    size_t raw_len = 0;
    tp_error te;

    if (!c || !h || nraw < 0 || nraw > RPC_MAX_RAW_IOV || (nraw && !raw) || (enc_len && !enc))
        return rpc_fail(err, RPC_E_INVAL, "frame send: bad argument");
    for (int i = 0; i < nraw; i++) {
        if (raw[i].iov_len > RPC_MAX_RAW_LEN - raw_len)
            return rpc_fail(err, RPC_E_LENGTH, "frame send: more than %u raw bytes",
                            RPC_MAX_RAW_LEN);
        raw_len += raw[i].iov_len;
    }
    if (enc_len > UINT32_MAX) return rpc_fail(err, RPC_E_LENGTH, "frame send: encoding too long");
    h->enc_len = (uint32_t)enc_len;
    h->raw_len = (uint32_t)raw_len;
    rpc_status st = rpc_hdr_check(h, from); /* never put on the wire what our peer would reject */
    if (st != RPC_OK)
        return rpc_fail(err, st, "frame send: refusing to send a bad %s frame: %s",
                        rpc_type_name(h->type), rpc_strerror(st));

    rpc_hdr_encode(h, hb);
    iov[0] = (struct iovec){hb, sizeof hb};
    iov[1] = (struct iovec){(void *)enc, enc_len};
    for (int i = 0; i < nraw; i++)
        iov[2 + i] = raw[i];
    tp_status ts = tp_sendv(c, iov, 2 + nraw, timeout_ms, &te);
    return rpc_from_tp(ts, &te, err);
}

static rpc_status bad_header(rpc_status st, const uint8_t *hb, tp_conn *c, rpc_error *err)
{
    return rpc_fail(err, st, "bad frame header from %s: %s (type %u, version %u)", tp_conn_peer(c),
                    rpc_strerror(st), hb[6], hb[4] | (unsigned)hb[5] << 8);
}

rpc_status rpc_frame_recv(tp_conn *c, enum rpc_side from, uint32_t max_enc, int timeout_ms,
                          rpc_hdr *h, void **enc, rpc_error *err)
{
    uint8_t hb[RPC_HDR_SIZE];
    tp_error te;
    tp_status ts;
    rpc_status st;

    if (!c || !h || !enc) return rpc_fail(err, RPC_E_INVAL, "frame recv: bad argument");
    *enc = NULL;
    if ((ts = tp_recv(c, hb, sizeof hb, timeout_ms, &te)) != TP_OK)
        return rpc_from_tp(ts, &te, err);
    if ((st = rpc_hdr_decode(hb, sizeof hb, from, h)) != RPC_OK) return bad_header(st, hb, c, err);
    if (max_enc && h->enc_len > max_enc)
        return rpc_fail(err, RPC_E_LENGTH, "%s frame from %s: %u encoded bytes, limit %u",
                        rpc_type_name(h->type), tp_conn_peer(c), h->enc_len, max_enc);
    if (!h->enc_len) return RPC_OK;

    void *p = malloc(h->enc_len); /* bounded by the checks above */
    if (!p) return rpc_fail(err, RPC_E_NOMEM, "no memory for a %u-byte frame", h->enc_len);
    if ((ts = tp_recv(c, p, h->enc_len, timeout_ms, &te)) != TP_OK) {
        free(p);
        return rpc_from_tp(ts, &te, err);
    }
    *enc = p;
    return RPC_OK;
}

rpc_status rpc_frame_recv_raw(tp_conn *c, void *dst, size_t n, int timeout_ms, rpc_error *err)
{
    tp_error te;
    tp_status ts = tp_recv(c, dst, n, timeout_ms, &te);
    return rpc_from_tp(ts, &te, err);
}

rpc_status rpc_frame_skip_raw(tp_conn *c, size_t n, int timeout_ms, rpc_error *err)
{
    uint8_t sink[4096];
    while (n) {
        size_t k = n < sizeof sink ? n : sizeof sink;
        rpc_status st = rpc_frame_recv_raw(c, sink, k, timeout_ms, err);
        if (st != RPC_OK) return st;
        n -= k;
    }
    return RPC_OK;
}
