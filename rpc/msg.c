/* msg.c — sending and receiving protobuf-c messages as frames, ERROR frames,
 * and the version checks of the handshake. Packing goes to a stack buffer for
 * small messages and the heap otherwise; sizes are checked before both. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MSG_STACK_BYTES 2048

rpc_status rpc_send_msg(tp_conn *c, enum rpc_side from, rpc_hdr *h, const ProtobufCMessage *m,
                        int timeout_ms, rpc_error *err)
{
    uint8_t stackbuf[MSG_STACK_BYTES], *buf = stackbuf;
    if (!h || !m) return rpc_fail(err, RPC_E_INVAL, "send_msg: bad argument");

    size_t n = protobuf_c_message_get_packed_size(m);
    uint32_t limit = rpc_type_max_enc(h->type);
    if (n > limit)
        return rpc_fail(err, RPC_E_OVERFLOW, "%s message of %zu bytes is over the %u-byte limit",
                        rpc_type_name(h->type), n, limit);
    if (n > sizeof stackbuf && !(buf = malloc(n)))
        return rpc_fail(err, RPC_E_NOMEM, "no memory to pack a %zu-byte message", n);
    protobuf_c_message_pack(m, buf);
    rpc_status st = rpc_frame_send(c, from, h, buf, n, NULL, 0, timeout_ms, err);
    if (buf != stackbuf) free(buf);
    return st;
}

/* The peer's ERROR frame, as RPC_E_REMOTE. */
static rpc_status remote_error(const void *enc, size_t len, tp_conn *c, rpc_error *err)
{
    Rgpu__Error *e = rgpu__error__unpack(NULL, len, enc);
    if (!e) return rpc_fail(err, RPC_E_DECODE, "undecodable ERROR frame from %s", tp_conn_peer(c));
    rpc_fail(err, RPC_E_REMOTE, "%s", e->message);
    if (err) err->remote_kind = e->kind;
    rgpu__error__free_unpacked(e, NULL);
    return RPC_E_REMOTE;
}

rpc_status rpc_recv_msg(tp_conn *c, enum rpc_side from, unsigned expect,
                        const ProtobufCMessageDescriptor *desc, uint32_t max_enc, int timeout_ms,
                        rpc_hdr *h, ProtobufCMessage **out, rpc_error *err)
{
    void *enc = NULL;
    rpc_status st;

    if (!desc || !h || !out) return rpc_fail(err, RPC_E_INVAL, "recv_msg: bad argument");
    *out = NULL;
    if ((st = rpc_frame_recv(c, from, max_enc, timeout_ms, h, &enc, err)) != RPC_OK) return st;
    if (h->raw_len) {
        st = rpc_fail(err, RPC_E_LENGTH, "%s frame with raw bytes where a message was expected",
                      rpc_type_name(h->type));
    } else if (h->type == RPC_T_ERROR && expect != RPC_T_ERROR) {
        st = remote_error(enc, h->enc_len, c, err);
    } else if (h->type != expect) {
        st = rpc_fail(err, RPC_E_UNEXPECTED, "expected a %s frame from %s, got %s",
                      rpc_type_name(expect), tp_conn_peer(c), rpc_type_name(h->type));
    } else if (!(*out = protobuf_c_message_unpack(desc, NULL, h->enc_len, enc))) {
        st = rpc_fail(err, RPC_E_DECODE, "%s frame from %s does not decode as %s",
                      rpc_type_name(h->type), tp_conn_peer(c), desc->name);
    }
    free(enc);
    return st;
}

rpc_status rpc_send_error(tp_conn *c, enum rpc_side from, Rgpu__ErrorKind kind, int fatal,
                          int timeout_ms, rpc_error *err, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);

    Rgpu__Error e = RGPU__ERROR__INIT;
    e.kind = kind;
    e.message = text;
    e.fatal = fatal != 0;
    rpc_hdr h = {.version = RPC_PROTO_VERSION, .type = RPC_T_ERROR};
    return rpc_send_msg(c, from, &h, &e.base, timeout_ms, err);
}

void rpc_version_mismatch_text(uint32_t client, uint32_t server, char *buf, size_t len)
{
    snprintf(buf, len,
             "rgpu protocol version mismatch: client speaks version %u, server speaks version %u",
             client, server);
}

rpc_status rpc_hello_check(const rpc_hdr *h, const Rgpu__Hello *m, rpc_error *err)
{
    if (!h || !m) return rpc_fail(err, RPC_E_INVAL, "hello_check: bad argument");
    if (m->protocol_version != h->version)
        return rpc_fail(err, RPC_E_FIELD,
                        "HELLO says protocol version %u in its header and %u in its body",
                        h->version, m->protocol_version);
    if (h->version != RPC_PROTO_VERSION) {
        if (err) {
            rpc_version_mismatch_text(h->version, RPC_PROTO_VERSION, err->msg, sizeof err->msg);
            err->status = RPC_E_VERSION;
            err->remote_kind = 0;
        }
        return RPC_E_VERSION;
    }
    return RPC_OK;
}

rpc_status rpc_welcome_check(const Rgpu__Welcome *w, rpc_error *err)
{
    if (!w) return rpc_fail(err, RPC_E_INVAL, "welcome_check: bad argument");
    if (w->accepted) return RPC_OK;
    return rpc_fail(err, RPC_E_REFUSED, "server refused the session: %s",
                    w->message && w->message[0] ? w->message : "(no reason given)");
}
