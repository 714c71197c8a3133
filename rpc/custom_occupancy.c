/* custom_occupancy.c — cuOccupancyMaxPotentialBlockSize[WithFlags]. The
 * blockSizeToDynamicSMemSize callback is a function of the application: it
 * cannot run on the server. The shim calls it for the block sizes the driver
 * tries (the limit, then every multiple of the warp size below it, up to 1024
 * threads) and sends the answers as a table; the worker hands the backend a
 * callback of its own that answers from that table (a block size between two
 * entries gets the next larger entry's size, the conservative one).
 * Wire: u8 present(minGridSize), u8 present(blockSize), u64 function id,
 * u64 dynamicSMemSize, s32 blockSizeLimit, [u32 flags,] u32 n, n x (u32 block
 * size, u64 bytes), ascending; reply: u32 result [+ s32 minGridSize] [+ s32 blockSize]. */
#include <stdlib.h>
#include <string.h>

#include "custom.h"

#define WARP 32
#define MAX_BLOCK 1024
#define MAX_ENTRIES (MAX_BLOCK / WARP + 1)

struct occ_entry {
    uint32_t block;
    uint64_t bytes;
};

static int occ_ok(const struct rpc_call_desc *d)
{
    return (d->nargs == 6 || d->nargs == 7) && d->args[2].kind == RPC_ARG_HANDLE &&
           d->args[3].size == sizeof(void *);
}

typedef size_t (*b2smem_fn)(int block);

static int occ_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                      struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    if (!occ_ok(d)) return RPC_CU_NOT_SUPPORTED;
    b2smem_fn fn;
    memcpy(&fn, args[3], sizeof fn);
    int limit = (int)rpc_uint_at(args[5], 4);
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_put_u8(w, *(void *const *)args[1] != NULL);
    rpc_enc_simple(w, &d->args[2], args[2]);
    rpc_put_u64(w, rpc_uint_at(args[4], d->args[4].size));
    rpc_put_u32(w, (uint32_t)limit);
    if (d->nargs == 7) rpc_put_u32(w, (uint32_t)rpc_uint_at(args[6], 4));
    if (!fn) {
        rpc_put_u32(w, 0);
        return rpc_wbuf_ok(w) ? 0 : -1;
    }
    int top = limit > 0 && limit < MAX_BLOCK ? limit : MAX_BLOCK;
    uint32_t n = (uint32_t)(top / WARP) + (top % WARP != 0);
    rpc_put_u32(w, n);
    for (int bs = WARP; bs < top; bs += WARP) {
        rpc_put_u32(w, (uint32_t)bs);
        rpc_put_u64(w, (uint64_t)fn(bs));
    }
    rpc_put_u32(w, (uint32_t)top);
    rpc_put_u64(w, (uint64_t)fn(top));
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int occ_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                            const void *raw, size_t raw_len, uint32_t *result)
{
    (void)raw;
    if (raw_len || !occ_ok(d)) return -1;
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    for (int i = 0; *result == 0 && i < 2; i++) {
        int *out = *(int *const *)args[i];
        if (!out) continue;
        uint32_t v = rpc_get_u32(r);
        if (rpc_rbuf_ok(r)) *out = (int)v;
    }
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* ---- worker ---------------------------------------------------------------------
 * The table of the call being run on this thread: the backend calls back
 * synchronously, on the thread that decoded the call. */
static _Thread_local const struct occ_entry *cur_table;
static _Thread_local uint32_t cur_n;

static size_t table_smem(int block)
{
    for (uint32_t i = 0; i < cur_n; i++)
        if ((int64_t)cur_table[i].block >= block) return (size_t)cur_table[i].bytes;
    return cur_n ? (size_t)cur_table[cur_n - 1].bytes : 0;
}

static int read_table(struct rpc_rbuf *r, struct rpc_decoded *out, uint32_t *n)
{
    *n = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r) || *n > MAX_ENTRIES) return -1;
    if (!*n) return 0;
    struct occ_entry *t = calloc(*n, sizeof *t);
    if (!t) return RPC_CU_OUT_OF_MEMORY;
    out->scratch = t;
    for (uint32_t i = 0; i < *n; i++) {
        t[i].block = rpc_get_u32(r);
        t[i].bytes = rpc_get_u64(r);
        if (t[i].block == 0 || t[i].block > MAX_BLOCK || (i && t[i].block <= t[i - 1].block))
            return -1;
    }
    return rpc_rbuf_ok(r) ? 0 : -1;
}

static int occ_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                      size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0, rc;
    uint32_t n;
    (void)raw;
    if (raw_len || !occ_ok(d)) return -1;
    for (int i = 0; i < 2; i++) {
        uint8_t present = rpc_get_u8(r);
        if (present > 1) return -1;
        out->val[i].u64 = 0;
        out->ptrval[i] = present ? &out->val[i] : NULL;
        out->avalues[i] = &out->ptrval[i];
    }
    if (rpc_dec_simple(d, 2, r, h, out, &cu)) return -1;
    for (unsigned i = 4; i < d->nargs; i++)
        if (rpc_dec_simple(d, i, r, h, out, &cu)) return -1;
    if ((rc = read_table(r, out, &n)) != 0) return rc;
    if (!rpc_rbuf_done(r)) return -1;
    cur_table = out->scratch;
    cur_n = n;
    b2smem_fn fn = n ? table_smem : NULL;
    memcpy(out->val[3].bytes, &fn, sizeof fn);
    out->avalues[3] = &out->val[3];
    return cu;
}

static int occ_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    rpc_put_u32(w, result);
    for (int i = 0; result == 0 && i < 2; i++)
        if (dc->ptrval[i]) rpc_put_u32(w, (uint32_t)rpc_uint_at(dc->ptrval[i], 4));
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_occupancy = {
    "occupancy", occ_encode, occ_decode_reply, occ_decode, occ_encode_reply,
};
