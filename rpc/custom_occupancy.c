/* custom_occupancy.c — the occupancy calls that generic forwarding cannot carry.
 *
 * cuOccupancyMaxPotentialBlockSize[WithFlags]: the
 * blockSizeToDynamicSMemSize callback is a function of the application: it
 * cannot run on the server. The shim calls it for the block sizes the driver
 * tries (the limit, then every multiple of the warp size below it, up to 1024
 * threads) and sends the answers as a table; the worker hands the backend a
 * callback of its own that answers from that table (a block size between two
 * entries gets the next larger entry's size, the conservative one).
 * Wire: u8 present(minGridSize), u8 present(blockSize), u64 function id,
 * u64 dynamicSMemSize, s32 blockSizeLimit, [u32 flags,] u32 n, n x (u32 block
 * size, u64 bytes), ascending; reply: u32 result [+ s32 minGridSize] [+ s32 blockSize].
 *
 * cuOccupancyMaxPotentialClusterSize / cuOccupancyMaxActiveClusters: the
 * CUlaunchConfig travels field by field, its stream as an id, its attributes
 * as (u32 id, value bytes), an event inside a value as its id, translated by
 * the worker; the device-updatable node attribute (the driver writes a device
 * pointer through it) is NOT_SUPPORTED. Wire: u8 present(out), u64
 * function id, u8 present(config) [+ 7 x u32 dims and shared memory, u64
 * stream, u32 n, n x (u32 id, value)]; reply: u32 result [+ s32 out]. */
#include <stdlib.h>
#include <string.h>

#include "launch_config.h"

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

static int block_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
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

static int block_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
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

static int block_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
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

static int block_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    (void)raw;
    *nraw = 0;
    rpc_put_u32(w, result);
    for (int i = 0; result == 0 && i < 2; i++)
        if (dc->ptrval[i]) rpc_put_u32(w, (uint32_t)rpc_uint_at(dc->ptrval[i], 4));
    return rpc_wbuf_ok(w) ? 0 : -1;
}

/* ---- clusters ----------------------------------------------------------------------- */

static int is_cluster(const struct rpc_call_desc *d)
{
    return (!strcmp(d->base, "cuOccupancyMaxPotentialClusterSize") ||
            !strcmp(d->base, "cuOccupancyMaxActiveClusters")) &&
           d->nargs == 3 && d->args[0].kind == RPC_ARG_OUT && d->args[1].kind == RPC_ARG_HANDLE;
}

/* A value that holds a pointer cannot travel as bytes; events are translated. */
static int attr_kind(uint32_t id)
{
    if (id == CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE) return RPC_CU_NOT_SUPPORTED;
    return id == CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT ||
           id == CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT;
}

static int cluster_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w)
{
    const CUlaunchConfig *c = *(const CUlaunchConfig *const *)args[2];
    rpc_put_u8(w, *(void *const *)args[0] != NULL);
    rpc_enc_simple(w, &d->args[1], args[1]);
    rpc_put_u8(w, c != NULL);
    if (!c) return rpc_wbuf_ok(w) ? 0 : -1; /* the driver answers */
    if (c->numAttrs && !c->attrs) return RPC_CU_INVALID_VALUE;
    if (c->numAttrs > RPC_LAUNCH_MAX_ATTRS) return RPC_CU_NOT_SUPPORTED;
    int rc = rpc_launch_config_put(w, c, attr_kind);
    if (rc) return rc;
    return rpc_wbuf_ok(w) ? 0 : -1;
}

static int cluster_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r,
                          const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    int cu = 0;
    uint8_t present = rpc_get_u8(r);
    if (present > 1 || rpc_dec_simple(d, 1, r, h, out, &cu)) return -1;
    uint8_t has_config = rpc_get_u8(r);
    if (!rpc_rbuf_ok(r) || has_config > 1) return -1;
    struct rpc_launch_config *x = NULL;
    if (has_config) {
        if (!(x = calloc(1, sizeof *x))) return RPC_CU_OUT_OF_MEMORY;
        out->scratch = x;
        if (rpc_launch_config_get(r, h, x, attr_kind, 1, &cu)) return -1;
    }
    if (!rpc_rbuf_done(r)) return -1;
    out->val[0].u64 = 0;
    out->ptrval[0] = present ? &out->val[0] : NULL;
    out->avalues[0] = &out->ptrval[0];
    out->ptrval[2] = x ? &x->config : NULL;
    out->avalues[2] = &out->ptrval[2];
    return cu;
}

static int cluster_decode_reply(void *const *args, struct rpc_rbuf *r, uint32_t *result)
{
    *result = rpc_get_u32(r);
    if (!rpc_rbuf_ok(r)) return -1;
    int *out = *(int *const *)args[0];
    if (*result == 0 && out) {
        uint32_t v = rpc_get_u32(r);
        if (rpc_rbuf_ok(r)) *out = (int)v;
    }
    return rpc_rbuf_done(r) ? 0 : -1;
}

/* ---- both ----------------------------------------------------------------------------- */

static int occ_encode(const struct rpc_call_desc *d, void *const *args, struct rpc_wbuf *w,
                      struct iovec *raw, int *nraw)
{
    if (!is_cluster(d)) return block_encode(d, args, w, raw, nraw);
    *nraw = 0;
    return cluster_encode(d, args, w);
}

static int occ_decode_reply(const struct rpc_call_desc *d, void *const *args, struct rpc_rbuf *r,
                            const void *raw, size_t raw_len, uint32_t *result)
{
    if (!is_cluster(d)) return block_decode_reply(d, args, r, raw, raw_len, result);
    return raw_len ? -1 : cluster_decode_reply(args, r, result);
}

static int occ_decode(const struct rpc_call_desc *d, struct rpc_rbuf *r, const void *raw,
                      size_t raw_len, const struct rpc_handle_ops *h, struct rpc_decoded *out)
{
    if (!is_cluster(d)) return block_decode(d, r, raw, raw_len, h, out);
    return raw_len ? -1 : cluster_decode(d, r, h, out);
}

static int occ_encode_reply(const struct rpc_decoded *dc, uint32_t result, struct rpc_wbuf *w,
                            struct iovec *raw, int *nraw)
{
    if (!is_cluster(dc->desc)) return block_encode_reply(dc, result, w, raw, nraw);
    *nraw = 0;
    rpc_put_u32(w, result);
    if (result == 0 && dc->ptrval[0]) rpc_put_u32(w, (uint32_t)rpc_uint_at(dc->ptrval[0], 4));
    return rpc_wbuf_ok(w) ? 0 : -1;
}

const struct rpc_custom rpc_custom_occupancy = {
    "occupancy", occ_encode, occ_decode_reply, occ_decode, occ_encode_reply,
};
