/* msg.h — protobuf-c messages in frames: the handshake (HELLO / WELCOME) and
 * ERROR frames are one packed message each, sized against the frame type's
 * limit on both sides. Generated types come from rpc/proto (build tree). */
#ifndef RG_RPC_MSG_H
#define RG_RPC_MSG_H

#include <protobuf-c/protobuf-c.h>

#include "error.pb-c.h"
#include "frame.h"
#include "handshake.pb-c.h"

/* Packs m and sends it as the encoded part of a frame with header h (type and
 * the other fields set by the caller; lengths set here). RPC_E_OVERFLOW if the
 * packed size is over the type's limit. Blocks; m stays the caller's. */
rpc_status rpc_send_msg(tp_conn *c, enum rpc_side from, rpc_hdr *h, const ProtobufCMessage *m,
                        int timeout_ms, rpc_error *err);

/* Receives one frame from the `from` side that must be of type `expect`,
 * carry no raw bytes and at most max_enc encoded bytes (0: the type's limit),
 * and unpacks it as desc. On RPC_OK *out is the caller's: free it with
 * protobuf_c_message_free_unpacked(*out, NULL). An ERROR frame instead gives
 * RPC_E_REMOTE with the peer's text in err->msg and its kind in
 * err->remote_kind; any other type gives RPC_E_UNEXPECTED. */
rpc_status rpc_recv_msg(tp_conn *c, enum rpc_side from, unsigned expect,
                        const ProtobufCMessageDescriptor *desc, uint32_t max_enc, int timeout_ms,
                        rpc_hdr *h, ProtobufCMessage **out, rpc_error *err);

/* Sends an ERROR frame (session level: thread 0) with a printf-style message. */
rpc_status rpc_send_error(tp_conn *c, enum rpc_side from, Rgpu__ErrorKind kind, int fatal,
                          int timeout_ms, rpc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* ---- handshake checks -------------------------------------------------------- */

/* The text every side shows on a version mismatch, naming both versions. */
void rpc_version_mismatch_text(uint32_t client, uint32_t server, char *buf, size_t len);

/* Server side: may this Hello (arrived with header h) start a session at our
 * RPC_PROTO_VERSION? RPC_OK, RPC_E_VERSION (err->msg names both versions, fit
 * for Welcome.message) or RPC_E_FIELD (header and message disagree). */
rpc_status rpc_hello_check(const rpc_hdr *h, const Rgpu__Hello *m, rpc_error *err);

/* Client side: RPC_OK if the server accepted; RPC_E_REFUSED with the server's
 * reason in err->msg otherwise. */
rpc_status rpc_welcome_check(const Rgpu__Welcome *w, rpc_error *err);

#endif
