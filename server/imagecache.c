/* imagecache.c — the session's code image parts and the tenant's cache of them
 * on disk. A part is kept by its SHA-256, computed here (a client's hash only
 * ever names a part to look up). On disk: ROOT/TENANT/HEX, written to a
 * temporary file in the same directory and renamed (readers never see half a
 * file), mapped read-only when used (eviction by another worker unlinks the
 * name, never the mapping), hashed again when read (a file whose bytes do not
 * match its name is removed, never used). A hit refreshes the file's mtime:
 * eviction removes the least recently used files, across tenants, until the
 * cache is under 90% of --image-cache-mb. */
#include "imagecache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_wire.h"
#include "log.h"
#include "session.h"

#define SESSION_HEAP_MAX (1ull << 30) /* parts kept in memory when not on disk */

struct part {
    uint8_t hash[RG_SHA256_LEN];
    uint64_t size;
    const uint8_t *p; /* mapped file or heap */
};

static struct {
    pthread_mutex_t lock;
    struct part *v;
    size_t n, cap;
    char root[SRV_STR_MAX], dir[SRV_STR_MAX + 256]; /* dir: "" when there is no disk cache */
    uint64_t limit, used;                           /* bytes; used: the whole root, as last seen */
    uint64_t heap;                                  /* bytes of parts kept on the heap */
    unsigned serial;
} IC = {.lock = PTHREAD_MUTEX_INITIALIZER};

void imagecache_root(const struct srv_config *cfg, char *out, size_t len)
{
    const char *run = getenv("RGPU_RUN_DIR");
    if (!strcmp(cfg->image_cache, "off") || cfg->image_cache_mb == 0)
        snprintf(out, len, "%s", "");
    else if (cfg->image_cache[0])
        snprintf(out, len, "%s", cfg->image_cache);
    else if (run && *run)
        snprintf(out, len, "%s/images", run);
    else
        snprintf(out, len, "/tmp/rgpu-%u/images", (unsigned)getuid());
}

/* A tenant's directory name: its name when harmless, else its hex. */
static void tenant_dir(const char *tenant, char *out, size_t len)
{
    const char *t = tenant && *tenant ? tenant : "anonymous";
    int plain = t[0] != '.' && strlen(t) < 64;
    for (const char *c = t; plain && *c; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                *c == '-' || *c == '_' || *c == '.';
    if (plain) {
        snprintf(out, len, "%s", t);
        return;
    }
    size_t o = 0;
    for (const char *c = t; *c && o + 3 < len && o < 128; c++)
        o += (size_t)snprintf(out + o, len - o, "%02x", (unsigned char)*c);
    if (o == 0) snprintf(out, len, "x");
}

static int mkdir_one(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* mkdir -p of the root (0700), then the tenant's directory. */
static int make_dirs(const char *root, const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", root);
    for (char *c = p + 1; *c; c++)
        if (*c == '/') {
            *c = 0;
            if (mkdir_one(p)) return -1;
            *c = '/';
        }
    return mkdir_one(root) || mkdir_one(dir) ? -1 : 0;
}

/* ---- eviction ----------------------------------------------------------------------- */

struct entry {
    char path[PATH_MAX];
    struct timespec mtime;
    uint64_t size;
};

static int by_age(const void *a, const void *b)
{
    const struct timespec *x = &((const struct entry *)a)->mtime,
                          *y = &((const struct entry *)b)->mtime;
    if (x->tv_sec != y->tv_sec) return x->tv_sec < y->tv_sec ? -1 : 1;
    return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Every cached file of every tenant (temporary files too: a crashed writer's
 * are old). Heap array in *out; the count, or -1. */
static long list_root(struct entry **out, uint64_t *total)
{
    size_t n = 0, cap = 0;
    struct entry *v = NULL;
    *total = 0;
    DIR *r = opendir(IC.root);
    if (!r) return -1;
    for (struct dirent *t; (t = readdir(r));) {
        if (t->d_name[0] == '.') continue;
        char sub[SRV_STR_MAX + 512];
        snprintf(sub, sizeof sub, "%s/%s", IC.root, t->d_name);
        DIR *d = opendir(sub);
        if (!d) continue;
        for (struct dirent *f; (f = readdir(d));) {
            struct stat st;
            if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, "..")) continue;
            if (n == cap) {
                struct entry *nv = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v);
                if (!nv) break;
                v = nv;
            }
            snprintf(v[n].path, sizeof v[n].path, "%s/%s", sub, f->d_name);
            if (stat(v[n].path, &st) || !S_ISREG(st.st_mode)) continue;
            v[n].mtime = st.st_mtim;
            v[n].size = (uint64_t)st.st_size;
            *total += v[n].size;
            n++;
        }
        closedir(d);
    }
    closedir(r);
    *out = v;
    return (long)n;
}

/* Removes the oldest files until the cache is under 90% of its limit (IC.lock held). */
static void evict(void)
{
    struct entry *v = NULL;
    uint64_t total;
    long n = list_root(&v, &total);
    if (n < 0) return;
    qsort(v, (size_t)n, sizeof *v, by_age);
    uint64_t target = IC.limit / 10 * 9;
    long gone = 0;
    for (long i = 0; i < n && total > target; i++)
        if (unlink(v[i].path) == 0 || errno == ENOENT) total -= v[i].size, gone++;
    if (gone)
        srv_info("image cache: %ld file(s) evicted, %llu bytes left", gone,
                 (unsigned long long)total);
    IC.used = total;
    free(v);
}

/* ---- the session's parts ------------------------------------------------------------- */

static struct part *find(const uint8_t *hash, uint64_t size)
{
    for (size_t i = 0; i < IC.n; i++)
        if (IC.v[i].size == size && !memcmp(IC.v[i].hash, hash, RG_SHA256_LEN)) return &IC.v[i];
    return NULL;
}

static int add(const uint8_t *hash, uint64_t size, const uint8_t *p)
{
    if (IC.n == IC.cap) {
        struct part *nv = realloc(IC.v, (IC.cap = IC.cap ? 2 * IC.cap : 64) * sizeof *nv);
        if (!nv) return -1;
        IC.v = nv;
    }
    memcpy(IC.v[IC.n].hash, hash, RG_SHA256_LEN);
    IC.v[IC.n].size = size;
    IC.v[IC.n++].p = p;
    return 0;
}

static const uint8_t *map_fd(int fd, uint64_t size)
{
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    return m == MAP_FAILED ? NULL : m;
}

/* A cached file of the part, verified; mapped and kept for the session (IC.lock held). */
static const uint8_t *from_disk(const uint8_t *hash, uint64_t size)
{
    char hex[2 * RG_SHA256_LEN + 1], path[sizeof IC.dir + 80];
    uint8_t got[RG_SHA256_LEN];
    struct stat st;
    if (!IC.dir[0] || !size) return NULL;
    rg_sha256_hex(hash, hex);
    snprintf(path, sizeof path, "%s/%s", IC.dir, hex);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return NULL;
    const uint8_t *p = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
        p = map_fd(fd, size);
    if (p) rg_sha256(p, (size_t)size, got);
    if (p && memcmp(got, hash, RG_SHA256_LEN)) {
        srv_warn("image cache: %s does not hold what its name says; removed", path);
        munmap((void *)p, (size_t)size);
        unlink(path);
        p = NULL;
    }
    if (p && add(hash, size, p)) {
        munmap((void *)p, (size_t)size);
        p = NULL;
    }
    if (p) futimens(fd, NULL); /* recently used */
    close(fd);
    return p;
}

/* Writes the part into the tenant's directory, atomically; the mapped file, or NULL. */
static const uint8_t *to_disk(const uint8_t *hash, const void *bytes, uint64_t size)
{
    char hex[2 * RG_SHA256_LEN + 1], path[sizeof IC.dir + 80], tmp[sizeof IC.dir + 80];
    if (!IC.dir[0] || size > IC.limit / 2) return NULL;
    rg_sha256_hex(hash, hex);
    snprintf(path, sizeof path, "%s/%s", IC.dir, hex);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%d-%u", IC.dir, (int)getpid(), IC.serial++);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    const uint8_t *b = bytes, *p = NULL;
    uint64_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, b + off, (size_t)(size - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (uint64_t)w;
    }
    if (off == size && rename(tmp, path) == 0)
        p = map_fd(fd, size);
    else
        unlink(tmp);
    close(fd);
    if (!p) {
        srv_warn("image cache: cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    if ((IC.used += size) > IC.limit) evict();
    return p;
}

/* ---- the marshaller's ops -------------------------------------------------------------- */

static const void *ic_lookup(void *self, const uint8_t hash[RG_SHA256_LEN], uint64_t size)
{
    (void)self;
    pthread_mutex_lock(&IC.lock);
    struct part *pt = find(hash, size);
    const void *p = pt ? pt->p : NULL;
    pthread_mutex_unlock(&IC.lock);
    return p;
}

static int ic_store(void *self, const void *bytes, uint64_t size)
{
    uint8_t hash[RG_SHA256_LEN];
    (void)self;
    rg_sha256(bytes, (size_t)size, hash);
    pthread_mutex_lock(&IC.lock);
    int rc = 0;
    if (!find(hash, size)) {
        const uint8_t *p = to_disk(hash, bytes, size);
        uint8_t *h = NULL;
        if (!p && IC.heap + size <= SESSION_HEAP_MAX && (h = malloc(size ? size : 1))) {
            memcpy(h, bytes, (size_t)size);
            IC.heap += size;
            p = h;
        }
        rc = p ? add(hash, size, p) : -1;
        if (rc && h) free(h), IC.heap -= size;
    }
    pthread_mutex_unlock(&IC.lock);
    return rc;
}

static const struct rpc_image_ops ic_ops = {NULL, NULL, ic_lookup, ic_store, NULL};

void imagecache_open(const struct srv_config *cfg, const char *tenant)
{
    char t[160];
    rpc_set_image_ops(&ic_ops);
    imagecache_root(cfg, IC.root, sizeof IC.root);
    IC.limit = (uint64_t)cfg->image_cache_mb << 20;
    if (!IC.root[0]) return;
    tenant_dir(tenant, t, sizeof t);
    snprintf(IC.dir, sizeof IC.dir, "%s/%s", IC.root, t);
    if (make_dirs(IC.root, IC.dir)) {
        srv_warn("image cache %s: %s; images are kept for this session only", IC.dir,
                 strerror(errno));
        IC.dir[0] = 0;
        return;
    }
    struct entry *v = NULL;
    if (list_root(&v, &IC.used) >= 0) free(v);
    srv_debug("image cache %s (%llu of %llu bytes used)", IC.dir, (unsigned long long)IC.used,
              (unsigned long long)IC.limit);
}

/* ---- QUERY --------------------------------------------------------------------------- */

int imagecache_op(const struct rpc_call_desc *d)
{
    return d && d->cls == RPC_CLASS_CLIENT && !strcmp(d->name, RPC_IMAGE_OP_NAME);
}

int imagecache_call(struct session *s, struct call *cl)
{
    rpc_rbuf rb;
    static _Thread_local uint8_t known[RPC_IMAGE_MAX_QUERY];
    rpc_rbuf_init(&rb, cl->enc, cl->h.enc_len);
    uint32_t sub = rpc_get_u32(&rb), n = rpc_get_u32(&rb);
    const uint8_t *list = NULL;
    int ok = sub == RPC_IMAGE_QUERY && n <= RPC_IMAGE_MAX_QUERY && !(cl->h.flags & RPC_F_NOREPLY) &&
             cl->raw_len == 0 && (list = rpc_get_view(&rb, (size_t)n * (RG_SHA256_LEN + 8))) &&
             rpc_rbuf_done(&rb);
    if (!ok) {
        srv_err("image query (thread %u seq %llu): malformed", cl->h.thread,
                (unsigned long long)cl->h.seq);
        call_free(cl);
        return -1;
    }
    unsigned have = 0;
    pthread_mutex_lock(&IC.lock);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *hash = list + (size_t)i * (RG_SHA256_LEN + 8);
        uint64_t size = 0;
        for (int b = 0; b < 8; b++)
            size |= (uint64_t)hash[RG_SHA256_LEN + b] << (8 * b);
        known[i] = find(hash, size) || (size <= RPC_MAX_CALL_BYTES && from_disk(hash, size));
        have += known[i];
    }
    pthread_mutex_unlock(&IC.lock);
    srv_debug("image query: %u of %u part(s) known", have, n);
    uint8_t out[8 + RPC_IMAGE_MAX_QUERY];
    rpc_wbuf w;
    rpc_wbuf_init(&w, out, sizeof out);
    rpc_put_u32(&w, CUDA_SUCCESS);
    rpc_put_u32(&w, n);
    rpc_put_bytes(&w, known, n);
    rpc_hdr h = reply_hdr(cl);
    int rc = session_send(s, &h, w.data, w.len, NULL, 0);
    call_free(cl);
    return rc;
}

/* rgpud links libcrypto (tenants.c): its SHA-256 is faster than the portable one. */
RG_SHA256_OPENSSL
