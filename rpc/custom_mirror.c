/* custom_mirror.c — the memory mirror's batches (rpc/mirror_wire.h): byte runs where
 * memory differs from the shadow of the last agreed state. Runs are exact to
 * the byte, so bytes the other side changed meanwhile (a kernel writing one
 * field, the application another in the same page) are never overwritten with
 * stale values. Not a call marshaller: the shim and the worker frame it. */
#include <stdlib.h>
#include <string.h>

#include "mirror_wire.h"

int rpc_runs_room(const struct rpc_runs *r, size_t len)
{
    /* a page of len bytes has at most len / 2 + 1 runs */
    return r->n + len / 2 + 1 <= RPC_MIRROR_MAX_RUNS && r->bytes + len <= RPC_MIRROR_MAX_BYTES;
}

static int grow(struct rpc_runs *r)
{
    size_t cap = r->cap ? r->cap * 2 : 256;
    uint64_t *a = realloc(r->addr, cap * sizeof *a);
    if (!a) return -1;
    r->addr = a;
    uint32_t *l = realloc(r->len, cap * sizeof *l);
    if (!l) return -1;
    r->len = l;
    struct iovec *v = realloc(r->iov, cap * sizeof *v);
    if (!v) return -1;
    r->iov = v;
    r->cap = cap;
    return 0;
}

static int add(struct rpc_runs *r, uint64_t addr, uint8_t *bytes, size_t len)
{
    if (r->n > r->sealed && r->addr[r->n - 1] + r->len[r->n - 1] == addr &&
        (char *)r->iov[r->n - 1].iov_base + r->iov[r->n - 1].iov_len == (char *)bytes &&
        r->len[r->n - 1] <= UINT32_MAX - len) { /* continues the last run (across pages) */
        r->len[r->n - 1] += (uint32_t)len;
        r->iov[r->n - 1].iov_len += len;
    } else {
        if (r->n == r->cap && grow(r)) return -1;
        r->addr[r->n] = addr;
        r->len[r->n] = (uint32_t)len;
        r->iov[r->n] = (struct iovec){bytes, len};
        r->n++;
    }
    r->bytes += len;
    return 0;
}

int rpc_runs_diff(struct rpc_runs *r, uint64_t addr, const uint8_t *cur, uint8_t *shadow, size_t len)
{
    if (!memcmp(cur, shadow, len)) return 0;
    for (size_t i = 0; i < len;) {
        if (cur[i] == shadow[i]) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < len && cur[j] != shadow[j]) j++;
        memcpy(shadow + i, cur + i, j - i);
        if (add(r, addr + i, shadow + i, j - i)) return -1;
        i = j;
    }
    return 0;
}

void rpc_runs_encode(struct rpc_wbuf *w, const struct rpc_runs *r)
{
    rpc_put_u32(w, (uint32_t)r->n);
    for (size_t i = 0; i < r->n; i++) {
        rpc_put_u64(w, r->addr[i]);
        rpc_put_u32(w, r->len[i]);
    }
}

void rpc_runs_seal(struct rpc_runs *r)
{
    r->sealed = r->n;
}

void rpc_runs_reset(struct rpc_runs *r)
{
    r->n = 0;
    r->sealed = 0;
    r->bytes = 0;
}

void rpc_runs_free(struct rpc_runs *r)
{
    free(r->addr);
    free(r->len);
    free(r->iov);
    *r = (struct rpc_runs){0};
}

int rpc_runs_begin(struct rpc_runs_reader *it, struct rpc_rbuf *r, const void *raw, size_t raw_len)
{
    *it = (struct rpc_runs_reader){r, rpc_get_u32(r), raw, raw_len, 0};
    if (!rpc_rbuf_ok(r) || it->left > RPC_MIRROR_MAX_RUNS) return -1;
    return 0;
}

int rpc_runs_next(struct rpc_runs_reader *it, uint64_t *addr, uint32_t *len, const uint8_t **bytes)
{
    if (!it->left) return it->off == it->raw_len ? 0 : -1;
    *addr = rpc_get_u64(it->r);
    *len = rpc_get_u32(it->r);
    if (!rpc_rbuf_ok(it->r) || !*len || *len > it->raw_len - it->off || *addr + *len < *addr)
        return -1;
    *bytes = it->raw + it->off;
    it->off += *len;
    it->left--;
    return 1;
}
