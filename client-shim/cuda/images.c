/* images.c — code images sent once (rpc/image_wire.h, docs/remoting.md
 * "Modules, libraries, linking"): the image marshaller names every part of an
 * image by its SHA-256; here the shim remembers which parts the worker keeps
 * for this session (a load that carried them ran), asks the worker about the
 * others with one QUERY (it may have them from its disk cache), and counts
 * what was sent and what was not (RGPU_LOG=info prints it at exit). */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "image_wire.h"
#include "shim.h"

struct known_part {
    uint8_t hash[RG_SHA256_LEN];
    uint64_t size;
};

static struct {
    pthread_mutex_t mu;
    struct known_part *v; /* open addressing by the hash's first bytes; size 0 = empty */
    size_t n, cap;
    uint64_t sent_parts, sent_bytes, skipped_parts, skipped_bytes, queries;
} I = {.mu = PTHREAD_MUTEX_INITIALIZER};

static size_t slot_of(const uint8_t *hash, size_t cap)
{
    uint64_t k;
    memcpy(&k, hash, sizeof k);
    return (size_t)(k & (cap - 1));
}

static struct known_part *find_locked(const uint8_t *hash, uint64_t size)
{
    if (!I.cap) return NULL;
    for (size_t i = slot_of(hash, I.cap);; i = (i + 1) & (I.cap - 1)) {
        struct known_part *k = &I.v[i];
        if (!k->size) return NULL;
        if (k->size == size && !memcmp(k->hash, hash, RG_SHA256_LEN)) return k;
    }
}

static void insert_locked(const uint8_t *hash, uint64_t size)
{
    if (!size || find_locked(hash, size)) return;
    if (2 * (I.n + 1) > I.cap) { /* grow: keep the table at most half full */
        size_t cap = I.cap ? 2 * I.cap : 256;
        struct known_part *v = calloc(cap, sizeof *v);
        if (!v) return;
        for (size_t i = 0; i < I.cap; i++) {
            if (!I.v[i].size) continue;
            size_t j = slot_of(I.v[i].hash, cap);
            while (v[j].size)
                j = (j + 1) & (cap - 1);
            v[j] = I.v[i];
        }
        free(I.v);
        I.v = v;
        I.cap = cap;
    }
    size_t j = slot_of(hash, I.cap);
    while (I.v[j].size)
        j = (j + 1) & (I.cap - 1);
    memcpy(I.v[j].hash, hash, RG_SHA256_LEN);
    I.v[j].size = size;
    I.n++;
}

/* One QUERY for the parts listed in idx[]; known[idx[i]] set from the answer. */
static void query(uint32_t m, const uint32_t *idx, const uint8_t (*hash)[RG_SHA256_LEN],
                  const uint64_t *size, uint8_t *known)
{
    const struct rpc_call_desc *d = rpc_call_by_name(RPC_IMAGE_OP_NAME);
    rpc_wbuf w;
    if (!d) return;
    rpc_wbuf_init_dyn(&w, rg_conn_max_enc());
    rpc_put_u32(&w, RPC_IMAGE_QUERY);
    rpc_put_u32(&w, m);
    for (uint32_t i = 0; i < m; i++) {
        rpc_put_bytes(&w, hash[idx[i]], RG_SHA256_LEN);
        rpc_put_u64(&w, size[idx[i]]);
    }
    rpc_hdr h = {.op = d->op, .ctx = rg_ctx_current_id()};
    struct rg_reply rep = {0};
    CUresult r = rpc_wbuf_ok(&w) ? rg_conn_call(&h, w.data, w.len, NULL, 0, 1, &rep)
                                 : CUDA_ERROR_INVALID_VALUE;
    rpc_wbuf_free(&w);
    if (r != CUDA_SUCCESS) return; /* everything is sent: the load reports a lost server */
    rpc_rbuf rb;
    rpc_rbuf_init(&rb, rep.enc, rep.hdr.enc_len);
    uint32_t res = rpc_get_u32(&rb), n = rpc_get_u32(&rb);
    const uint8_t *got = rpc_get_view(&rb, m);
    if (res == CUDA_SUCCESS && n == m && got && rpc_rbuf_done(&rb))
        for (uint32_t i = 0; i < m; i++)
            known[idx[i]] = got[i] == 1;
    else
        rg_log(RG_LOG_WARN, "image query: the worker's answer does not decode; sending the bytes");
    rg_reply_free(&rep);
}

static void images_known(void *self, uint32_t n, const uint8_t (*hash)[RG_SHA256_LEN],
                         const uint64_t *size, uint8_t *known)
{
    static _Thread_local uint32_t ask[RPC_IMAGE_MAX_QUERY];
    uint32_t m = 0;
    (void)self;
    pthread_mutex_lock(&I.mu);
    for (uint32_t i = 0; i < n; i++) {
        known[i] = find_locked(hash[i], size[i]) != NULL;
        if (!known[i] && size[i] >= RPC_IMAGE_QUERY_MIN && m < RPC_IMAGE_MAX_QUERY) ask[m++] = i;
    }
    pthread_mutex_unlock(&I.mu);
    if (m) query(m, ask, hash, size, known);
    pthread_mutex_lock(&I.mu);
    I.queries += m != 0;
    for (uint32_t i = 0; i < n; i++) {
        if (known[i])
            I.skipped_parts++, I.skipped_bytes += size[i];
        else
            I.sent_parts++, I.sent_bytes += size[i];
    }
    pthread_mutex_unlock(&I.mu);
    if (rg_log_enabled(RG_LOG_DEBUG)) {
        uint64_t b = 0;
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++)
            if (!known[i]) k++, b += size[i];
        rg_log(RG_LOG_DEBUG, "image of %u part(s): %u sent (%llu bytes), %u by hash%s", n, k,
               (unsigned long long)b, n - k, m ? " (asked the worker)" : "");
    }
}

static void images_sent(void *self, uint32_t n, const uint8_t (*hash)[RG_SHA256_LEN],
                        const uint64_t *size)
{
    (void)self;
    pthread_mutex_lock(&I.mu);
    for (uint32_t i = 0; i < n; i++)
        insert_locked(hash[i], size[i]);
    pthread_mutex_unlock(&I.mu);
}

static const struct rpc_image_ops shim_image_ops = {images_known, images_sent, NULL, NULL, NULL};

__attribute__((constructor)) static void images_install(void)
{
    rpc_set_image_ops(&shim_image_ops);
}

__attribute__((destructor)) static void images_report(void)
{
    if (!rg_log_enabled(RG_LOG_INFO) || !(I.sent_parts + I.skipped_parts)) return;
    rg_log(RG_LOG_INFO,
           "code images: %llu part(s) sent (%llu bytes), %llu by hash only (%llu bytes not sent), "
           "%llu query call(s)",
           (unsigned long long)I.sent_parts, (unsigned long long)I.sent_bytes,
           (unsigned long long)I.skipped_parts, (unsigned long long)I.skipped_bytes,
           (unsigned long long)I.queries);
}

/* The shim carries libcrypto (statically, hidden: auth.c); its SHA-256 is faster. */
RG_SHA256_OPENSSL
