/* private.c — rgpu_private_v2: the session handed to the GL vendor libraries
 * of the same process (rgpu_private.h). The only export besides cu*. */
#include <string.h>

#include "rgpu_private.h"
#include "shim.h"

static int priv_init(void)
{
    return (int)rg_shim_init(0);
}

static int priv_call(uint32_t op, const void *enc, size_t enc_len, const struct iovec *raw,
                     int nraw, int wait, struct rgpu_private_reply *rep)
{
    CUresult r = rg_ready();
    if (r != CUDA_SUCCESS) return (int)r;
    rpc_hdr h = {.op = op, .flags = wait ? 0 : RPC_F_NOREPLY};
    struct rg_reply rr;
    memset(&rr, 0, sizeof rr);
    r = rg_conn_call(&h, enc, enc_len, raw, nraw, wait, wait ? &rr : NULL);
    if (r == CUDA_SUCCESS && wait && rep) {
        rep->enc = rr.enc;
        rep->enc_len = rr.hdr.enc_len;
        rep->raw = rr.raw;
        rep->raw_len = rr.raw_len;
    } else if (wait) {
        rg_reply_free(&rr);
    }
    return (int)r;
}

static void priv_reply_free(struct rgpu_private_reply *rep)
{
    struct rg_reply rr = {.enc = rep->enc, .raw = rep->raw};
    rg_reply_free(&rr);
    rep->enc = rep->raw = NULL;
}

static int priv_wait_until(int (*done)(void *), void *arg)
{
    return (int)rg_conn_wait_until(done, arg);
}

__attribute__((visibility("default"))) const struct rgpu_private_v2 *rgpu_private_v2(void)
{
    static const struct rgpu_private_v2 t = {.size = sizeof t,
                                             .init = priv_init,
                                             .call = priv_call,
                                             .reply_free = priv_reply_free,
                                             .frame_sink = rg_conn_set_frame_sink,
                                             .wait_until = priv_wait_until};
    return &t;
}
