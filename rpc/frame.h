/* frame.h — rgpu's wire framing: a fixed 48-byte little-endian header, then
 * enc_len encoded bytes (a call's arguments or a protobuf message), then
 * raw_len raw bytes (bulk data, sent from and received into the caller's
 * memory). Every header field is checked before anything is allocated. */
#ifndef RG_RPC_FRAME_H
#define RG_RPC_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"
#include "transport.h"

/* ---- errors: the rpc layer's own codes ------------------------------------ */

typedef enum rpc_status {
    RPC_OK = 0,
    RPC_E_TRUNCATED,  /* fewer bytes than a header */
    RPC_E_MAGIC,      /* not an rgpu frame */
    RPC_E_VERSION,    /* protocol version we do not speak */
    RPC_E_TYPE,       /* unknown frame type, or one the sender may not send */
    RPC_E_FLAGS,      /* unknown flag, or a flag the type does not allow */
    RPC_E_LENGTH,     /* enc_len / raw_len over the limit or not allowed for the type */
    RPC_E_FIELD,      /* another header field out of its range (thread, seq, op, reserved) */
    RPC_E_DECODE,     /* the encoded payload does not decode */
    RPC_E_UNEXPECTED, /* a valid frame of a type the caller was not waiting for */
    RPC_E_REMOTE,     /* the peer sent an ERROR frame; rpc_error.msg has its text */
    RPC_E_REFUSED,    /* the handshake was refused; rpc_error.msg says why */
    RPC_E_OVERFLOW,   /* an encoding did not fit its buffer or limit */
    RPC_E_NOMEM,
    RPC_E_INVAL,     /* bad argument from our own caller */
    RPC_E_CLOSED,    /* transport: the peer ended the stream */
    RPC_E_TIMEOUT,   /* transport: silence for longer than the timeout */
    RPC_E_TRANSPORT, /* transport: any other failure */
} rpc_status;

typedef struct rpc_error {
    rpc_status status;
    int remote_kind; /* with RPC_E_REMOTE: the peer's rgpu.ErrorKind */
    char msg[256];
} rpc_error;

const char *rpc_strerror(rpc_status st);
/* Fills err (may be NULL) and returns st. */
rpc_status rpc_fail(rpc_error *err, rpc_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the header ---------------------------------------------------------------
 * offset size field
 *   0     4   magic    RPC_MAGIC ("RGPU" on the wire)
 *   4     2   version  RPC_PROTO_VERSION
 *   6     1   type     enum rpc_type
 *   7     1   flags    RPC_F_*
 *   8     4   op       CALL/REPLY/DATA: API function number; NOTIFY: kind; else 0
 *  12     4   thread   client thread id (shim-minted, >= 1); 0 = session level
 *  16     8   seq      per-thread sequence number of the call (REPLY/DATA echo it)
 *  24     8   ctx      the calling thread's current context id (0 = none)
 *  32     4   enc_len  encoded bytes that follow the header
 *  36     4   raw_len  raw bulk bytes that follow the encoded bytes
 *  40     4   credit   server -> client: calls the client may send again
 *  44     4   repeat   CALL with NOREPLY: how many more times the call runs, back
 *                      to back, after the first (0: once; at most RPC_MAX_REPEAT);
 *                      0 in every other frame. One frame, one seq, one credit.
 *                      Raw bytes with it: each further run's own kernel
 *                      parameters (docs/protocol.md, "Repeats").
 * The layout is the same in every protocol version, so a peer of another
 * version can still read a HELLO, WELCOME or ERROR and say which versions
 * differ; other types are accepted only at RPC_PROTO_VERSION. */
#define RPC_MAGIC 0x55504752u /* 'R' 'G' 'P' 'U' little-endian */
#define RPC_PROTO_VERSION 1
#define RPC_HDR_SIZE 48

/* Limits checked on every header, before any allocation (DESIGN rule 6). */
#define RPC_MAX_ENC_LEN (1u << 20)        /* encoded arguments of one call */
#define RPC_MAX_RAW_LEN (64u << 20)       /* bulk bytes in one frame (one chunk) */
#define RPC_MAX_HANDSHAKE_LEN (64u << 10) /* HELLO, WELCOME, ERROR: before trust */
#define RPC_MAX_REPEAT 65535u             /* further runs of one CALL (header `repeat`) */

enum rpc_type {
    RPC_T_HELLO = 1,     /* client -> server: handshake (rgpu.Hello) */
    RPC_T_WELCOME = 2,   /* server -> client: handshake answer (rgpu.Welcome) */
    RPC_T_CALL = 3,      /* client -> server: one driver call */
    RPC_T_REPLY = 4,     /* server -> client: its results */
    RPC_T_DATA = 5,      /* either way: a further chunk of a call's bulk bytes */
    RPC_T_NOTIFY = 6,    /* server -> client: host callback, device printf, ... */
    RPC_T_CREDIT = 7,    /* server -> client: credit only */
    RPC_T_HEARTBEAT = 8, /* either way: still alive during a long call */
    RPC_T_ERROR = 9,     /* either way: rgpu.Error; fatal ones end the session */
    RPC_T_CLOSE = 10,    /* either way: orderly end of the session */
    RPC_T_MAX_ = 10
};

#define RPC_F_NOREPLY 0x01u /* CALL: pipelined, no REPLY unless it fails */
#define RPC_F_MORE 0x02u    /* raw bytes continue in DATA frames of the same thread+seq */

/* Who sent a frame: the decoder rejects types that side may not send. */
enum rpc_side { RPC_FROM_CLIENT = 1, RPC_FROM_SERVER = 2 };

/* The decoded header; ordered to have no padding (not the wire order). */
typedef struct rpc_hdr {
    uint16_t version;
    uint8_t type;
    uint8_t flags;
    uint32_t op;
    uint32_t thread;
    uint32_t credit;
    uint64_t seq;
    uint64_t ctx;
    uint32_t enc_len;
    uint32_t raw_len;
    uint32_t repeat;
    uint32_t unused_; /* not on the wire; keeps the struct free of padding */
} rpc_hdr;
_Static_assert(sizeof(rpc_hdr) == 48, "rpc_hdr has no padding");

/* Of a credit window (WELCOME's credits), how many the client keeps for the
 * thread that answers host callbacks: its other threads wait for credits with
 * this many left. The server counts on it to return credits in batches. */
static inline uint32_t rpc_credit_reserve(uint32_t window)
{
    return window >= 16 ? 4 : window >= 2 ? 1 : 0;
}

/* Writes h (with RPC_MAGIC; unused_ is not on the wire) into out. */
void rpc_hdr_encode(const rpc_hdr *h, uint8_t out[RPC_HDR_SIZE]);
/* Decodes and checks len bytes: every field against its range for a frame
 * sent by `from`. Never reads past buf[len); fills *h only on RPC_OK. */
rpc_status rpc_hdr_decode(const void *buf, size_t len, enum rpc_side from, rpc_hdr *h);
/* rpc_hdr_decode's checks on a header about to be encoded (the magic is the
 * encoder's): RPC_OK if a peer would accept it from `from`. */
rpc_status rpc_hdr_check(const rpc_hdr *h, enum rpc_side from);
/* The name of a frame type ("CALL"), or "?" */
const char *rpc_type_name(unsigned type);
/* The largest enc_len a frame of this type may carry (0 for unknown types). */
uint32_t rpc_type_max_enc(unsigned type);

/* ---- frames over a transport ------------------------------------------------- */

/* Sends one frame: header h (enc_len and raw_len are set here from the sizes
 * given), enc[0..enc_len), then the raw iovecs, in one scatter-gather send
 * without copying. nraw <= RPC_MAX_RAW_IOV. Blocks; buffers stay the caller's.
 * A frame that would not pass rpc_hdr_decode is refused with its error. */
#define RPC_MAX_RAW_IOV (TP_IOV_MAX - 2)
rpc_status rpc_frame_send(tp_conn *c, enum rpc_side from, rpc_hdr *h, const void *enc,
                          size_t enc_len, const struct iovec *raw, int nraw, int timeout_ms,
                          rpc_error *err);

/* Receives a header and its encoded bytes; the raw_len bulk bytes are left in
 * the stream for rpc_frame_recv_raw (straight into their destination) or
 * rpc_frame_skip_raw. `from` is the peer's side. max_enc (0 = the type's
 * limit) lowers the limit, e.g. before authentication. On RPC_OK *enc is a
 * heap buffer of h->enc_len bytes the caller frees (NULL when 0). */
rpc_status rpc_frame_recv(tp_conn *c, enum rpc_side from, uint32_t max_enc, int timeout_ms,
                          rpc_hdr *h, void **enc, rpc_error *err);
/* Receives n raw bytes into dst (caller-owned). */
rpc_status rpc_frame_recv_raw(tp_conn *c, void *dst, size_t n, int timeout_ms, rpc_error *err);
/* Reads and drops n raw bytes, using a small stack buffer. */
rpc_status rpc_frame_skip_raw(tp_conn *c, size_t n, int timeout_ms, rpc_error *err);

/* Translates a transport failure at the layer boundary. */
rpc_status rpc_from_tp(tp_status st, const tp_error *te, rpc_error *err);

#endif
