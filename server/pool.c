/* pool.c — the GPU pool's table (pool.h): created by the supervisor in an
 * anonymous file, filled with the backend's devices by a child process (the
 * supervisor never loads a backend), and used by the handshake children to
 * place sessions under a process-shared robust lock. */
#include "pool.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cuda.h>

#include "cuinfo.h"
#include "log.h"
#include "rgpud.h"

static size_t table_size(int nslots)
{
    return sizeof(struct pool_table) + (size_t)nslots * sizeof(struct pool_slot) +
           POOL_MAX_EXPORTS * sizeof(struct pool_export);
}

static struct pool_export *exports(struct pool_table *t)
{
    return (struct pool_export *)&t->slot[t->nslots];
}

struct pool_table *pool_create(int nslots, int *fd)
{
    struct pool_table *t = NULL;
    pthread_mutexattr_t ma;
    size_t len = table_size(nslots);
    *fd = memfd_create("rgpud-pool", 0); /* inherited: handshake children and workers */
    if (*fd < 0 || ftruncate(*fd, (off_t)len)) goto fail;
    t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    if (t == MAP_FAILED) goto fail;
    t->magic = POOL_MAGIC;
    t->nslots = (uint32_t)nslots;
    if (getrandom(&t->boot, sizeof t->boot, 0) != (ssize_t)sizeof t->boot)
        t->boot = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST); /* a child may die holding it */
    pthread_mutex_init(&t->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    return t;
fail:
    if (*fd >= 0) close(*fd);
    *fd = -1;
    return NULL;
}

static void pool_lock(struct pool_table *t)
{
    if (pthread_mutex_lock(&t->lock) == EOWNERDEAD) pthread_mutex_consistent(&t->lock);
}

/* ---- inventory: the backend asked in a child --------------------------------------- */

struct inv_dev {
    char name[64];
    char uuid[48];
    uint64_t total;
};

static int inventory_child(const void *lib, int out)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) return 1;
    CUresult (*init)(unsigned) = (CUresult(*)(unsigned))dlsym(h, "cuInit");
    CUresult (*count)(int *) = (CUresult(*)(int *))dlsym(h, "cuDeviceGetCount");
    CUresult (*get)(CUdevice *, int) = (CUresult(*)(CUdevice *, int))dlsym(h, "cuDeviceGet");
    CUresult (*name)(char *, int, CUdevice) =
        (CUresult(*)(char *, int, CUdevice))dlsym(h, "cuDeviceGetName");
    CUresult (*uuid)(CUuuid *, CUdevice) =
        (CUresult(*)(CUuuid *, CUdevice))dlsym(h, "cuDeviceGetUuid");
    CUresult (*mem)(size_t *, CUdevice) =
        (CUresult(*)(size_t *, CUdevice))dlsym(h, "cuDeviceTotalMem_v2");
    int n = 0;
    if (!init || !count || !get || !name || !uuid || !mem || init(0) || count(&n)) return 1;
    for (int i = 0; i < n && i < POOL_MAX_DEVICES; i++) {
        struct inv_dev d = {0};
        CUdevice dev;
        CUuuid u;
        size_t total = 0;
        if (get(&dev, i) || name(d.name, sizeof d.name - 1, dev) || uuid(&u, dev) ||
            mem(&total, dev))
            return 1;
        rpc_uuid_text(&u, d.uuid);
        d.total = total;
        if (write(out, &d, sizeof d) != (ssize_t)sizeof d) return 1;
    }
    return 0;
}

int pool_inventory(struct pool_table *t, const char *lib)
{
    pid_t pid;
    int fd = srv_child_start(inventory_child, lib, &pid);
    if (fd < 0) return -1;
    struct inv_dev d;
    int n = 0;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    while (n < POOL_MAX_DEVICES && poll(&pf, 1, 30000) > 0 &&
           read(fd, &d, sizeof d) == (ssize_t)sizeof d) {
        struct pool_device *pd = &t->dev[n++];
        memcpy(pd->name, d.name, sizeof pd->name);
        pd->name[sizeof pd->name - 1] = 0;
        memcpy(pd->uuid, d.uuid, sizeof pd->uuid);
        pd->uuid[sizeof pd->uuid - 1] = 0;
        pd->total = d.total;
    }
    srv_child_end(fd, pid);
    t->ndev = n;
    return n > 0 ? 0 : -1;
}

/* ---- slots ------------------------------------------------------------------------- */

uint64_t pool_release_pid(struct pool_table *t, int pid, struct pool_slot *was)
{
    uint64_t id = 0;
    pool_lock(t);
    for (uint32_t i = 0; i < t->nslots; i++) {
        struct pool_slot *s = &t->slot[i];
        if (atomic_load(&s->state) == POOL_FREE || s->pid != pid) continue;
        id = s->session;
        if (was) memcpy(was, s, sizeof *was);
        for (int k = 0; k < POOL_MAX_EXPORTS; k++) /* its IPC handles die with it */
            if (exports(t)[k].kind && exports(t)[k].session == s->session)
                exports(t)[k].kind = POOL_EXPORT_FREE;
        memset((char *)s + sizeof s->state, 0, sizeof *s - sizeof s->state);
        atomic_store(&s->state, POOL_FREE);
    }
    pthread_mutex_unlock(&t->lock);
    return id;
}

static int slot_has(const struct pool_slot *s, int d)
{
    for (int i = 0; i < s->ndev; i++)
        if (s->dev[i] == d) return 1;
    return 0;
}

int pool_device_sessions(const struct pool_table *t, int d)
{
    int n = 0;
    for (uint32_t i = 0; i < t->nslots; i++)
        if (atomic_load(&t->slot[i].state) != POOL_FREE && slot_has(&t->slot[i], d)) n++;
    return n;
}

/* ---- placement ----------------------------------------------------------------------- */

struct load {
    int dev, sessions;
    uint64_t committed; /* sum over its sessions of max(reserve, used) */
};

static void device_loads(const struct pool_table *t, int self, struct load *l)
{
    for (int d = 0; d < t->ndev; d++)
        l[d] = (struct load){.dev = d};
    for (uint32_t i = 0; i < t->nslots; i++) {
        const struct pool_slot *s = &t->slot[i];
        if ((int)i == self || atomic_load(&s->state) == POOL_FREE) continue;
        for (int k = 0; k < s->ndev; k++) {
            uint64_t u = atomic_load(&s->used[k]);
            l[s->dev[k]].sessions++;
            l[s->dev[k]].committed += u > s->reserve[k] ? u : s->reserve[k];
        }
    }
}

static int policy_pack;

/* least-loaded: fewest sessions, then least memory held, then lowest index;
 * pack: the most sessions (and memory) that still fit first, so whole devices stay free. */
static int load_cmp(const void *a, const void *b)
{
    const struct load *x = a, *y = b;
    int sgn = policy_pack ? -1 : 1;
    if (x->sessions != y->sessions) return sgn * (x->sessions < y->sessions ? -1 : 1);
    if (x->committed != y->committed) return sgn * (x->committed < y->committed ? -1 : 1);
    return x->dev - y->dev;
}

/* The quota of a session on a device of `total` bytes: "0" none, bytes, or "N%". */
static uint64_t quota_for(const char *setting, uint64_t total)
{
    uint64_t q = srv_quota_bytes(setting, total);
    return q > total ? total : q;
}

static uint64_t reserve_for(const struct srv_config *cfg, const char *quota, uint64_t total)
{
    uint64_t q = quota_for(quota, total), r;
    if (!q) return 0; /* no quota: sessions share the device without a guarantee */
    r = q + srv_size_bytes(cfg->memory_headroom);
    return r > total ? total : r;
}

static int fits(const struct pool_table *t, const struct srv_config *cfg, const char *quota,
                const struct load *l)
{
    const struct pool_device *d = &t->dev[l->dev];
    if (atomic_load(&d->drained)) return 0;
    if (cfg->device_sessions && l->sessions >= cfg->device_sessions) return 0;
    uint64_t r = reserve_for(cfg, quota, d->total);
    return !r || l->committed + r <= d->total;
}

/* Under the lock: chooses devices for slot i; 1 if placed. */
static int try_place(struct pool_table *t, const struct srv_config *cfg,
                     const struct pool_request *rq, int i, int want)
{
    struct load l[POOL_MAX_DEVICES];
    const char *quota = rq->memory_quota ? rq->memory_quota : cfg->memory_quota;
    int n = 0, live = 0;
    device_loads(t, i, l);
    for (int d = 0; d < t->ndev; d++) {
        if (!atomic_load(&t->dev[d].drained)) live++;
        if (fits(t, cfg, quota, &l[d])) l[n++] = l[d];
    }
    if (want < 0)
        want = rq->max_gpus && live > rq->max_gpus ? rq->max_gpus : live; /* all not drained */
    if (want == 0 || n < want) return 0;
    policy_pack = !strcmp(cfg->placement, "pack");
    qsort(l, (size_t)n, sizeof *l, load_cmp);
    struct pool_slot *s = &t->slot[i];
    for (int k = 0; k < want; k++) {
        uint64_t total = t->dev[l[k].dev].total;
        s->dev[k] = (int8_t)l[k].dev;
        s->quota[k] = quota_for(quota, total);
        s->reserve[k] = reserve_for(cfg, quota, total);
    }
    atomic_thread_fence(memory_order_release); /* readers without the lock: devices, then count */
    s->ndev = want;
    return 1;
}

/* Sessions of a tenant (the lock held), not counting slot self. */
static int tenant_sessions(const struct pool_table *t, const char *tenant, int self)
{
    int n = 0;
    for (uint32_t i = 0; i < t->nslots; i++)
        if ((int)i != self && atomic_load(&t->slot[i].state) != POOL_FREE &&
            !strcmp(t->slot[i].tenant, tenant))
            n++;
    return n;
}

static int claim_slot(struct pool_table *t, const struct pool_request *rq)
{
    for (uint32_t i = 0; i < t->nslots; i++) {
        struct pool_slot *s = &t->slot[i];
        if (atomic_load(&s->state) != POOL_FREE) continue;
        memset((char *)s + sizeof s->state, 0, sizeof *s - sizeof s->state);
        s->pid = (int)getpid();
        s->session = rq->session;
        s->client_pid = rq->client_pid;
        snprintf(s->host, sizeof s->host, "%s", rq->host ? rq->host : "");
        snprintf(s->program, sizeof s->program, "%s", rq->program ? rq->program : "");
        snprintf(s->user, sizeof s->user, "%s", rq->user ? rq->user : "");
        snprintf(s->peer, sizeof s->peer, "%s", rq->peer ? rq->peer : "");
        snprintf(s->tenant, sizeof s->tenant, "%s", rq->tenant ? rq->tenant : "anonymous");
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->start_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        return (int)i;
    }
    return -1;
}

/* The queue is first come, first placed: a session tries only when no one
 * waits before it (a new one goes behind those already waiting), so a request
 * for several GPUs is not passed forever by smaller ones. Slots of ended
 * children are freed when they are reaped, taking their tickets along. */
static int my_turn(const struct pool_table *t, int self)
{
    uint64_t mine = t->slot[self].ticket;
    for (uint32_t i = 0; i < t->nslots; i++) {
        uint64_t k = t->slot[i].ticket;
        if ((int)i != self && k && (!mine || k < mine) &&
            atomic_load(&t->slot[i].state) == POOL_PLACED)
            return 0;
    }
    return 1;
}

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void busy_reason(struct pool_table *t, const struct srv_config *cfg, int want, char *why,
                        size_t len)
{
    int drained = 0;
    for (int d = 0; d < t->ndev; d++)
        drained += atomic_load(&t->dev[d].drained) != 0;
    snprintf(why, len,
             "rgpud: no free GPU for %d device(s) after waiting %d ms (%d device(s), "
             "%d drained%s%s)",
             want < 0 ? t->ndev - drained : want, cfg->queue_timeout_ms, t->ndev, drained,
             cfg->device_sessions ? ", sessions per device limited" : "",
             srv_quota_bytes(cfg->memory_quota, 1ull << 40) ? ", memory quotas reserved" : "");
}

int pool_place(struct pool_table *t, const struct srv_config *cfg, const struct pool_request *rq,
               char *why, size_t len)
{
    int want = rq->ndev ? rq->ndev : cfg->devices_default ? cfg->devices_default : -1;
    if (want > t->ndev) {
        snprintf(why, len, "rgpud: the session asks for %d GPUs; this server's pool has %d", want,
                 t->ndev);
        return -1;
    }
    if (rq->tenant && rq->max_gpus && want > rq->max_gpus) {
        snprintf(why, len,
                 "rgpud: tenant %s may use %d GPU(s) per session; the session asks for %d",
                 rq->tenant, rq->max_gpus, want);
        return -1;
    }
    if (atomic_load(&t->closing)) {
        snprintf(why, len, "rgpud: the server is shutting down");
        return -1;
    }
    long long deadline = mono_ms() + cfg->queue_timeout_ms;
    pool_lock(t);
    int i = claim_slot(t, rq);
    if (i < 0) {
        pthread_mutex_unlock(&t->lock);
        snprintf(why, len, "rgpud: the session table is full");
        return -1;
    }
    if (rq->tenant && rq->max_sessions && tenant_sessions(t, rq->tenant, i) >= rq->max_sessions) {
        pthread_mutex_unlock(&t->lock);
        pool_release_pid(t, (int)getpid(), NULL);
        snprintf(why, len, "rgpud: tenant %s already has %d session(s), its limit", rq->tenant,
                 rq->max_sessions);
        return -1;
    }
    atomic_store(&t->slot[i].state, POOL_PLACED); /* counted by others only once placed */
    t->slot[i].ndev = 0;
    int queued = 0;
    while (!my_turn(t, i) || !try_place(t, cfg, rq, i, want)) {
        if (!t->slot[i].ticket) t->slot[i].ticket = ++t->next_ticket; /* in the queue */
        pthread_mutex_unlock(&t->lock);
        if (atomic_load(&t->closing)) {
            pool_release_pid(t, (int)getpid(), NULL);
            snprintf(why, len, "rgpud: the server is shutting down");
            return -1;
        }
        if (mono_ms() >= deadline) {
            pool_release_pid(t, (int)getpid(), NULL);
            busy_reason(t, cfg, want, why, len);
            return -1;
        }
        if (!queued++)
            srv_info("queued: no free GPU for %d device(s) yet", want < 0 ? t->ndev : want);
        usleep(20000);
        pool_lock(t);
    }
    t->slot[i].ticket = 0;
    pthread_mutex_unlock(&t->lock);
    return i;
}

void pool_visible(const struct pool_table *t, int slot, char *out, size_t len)
{
    const struct pool_slot *s = &t->slot[slot];
    size_t n = 0;
    out[0] = 0;
    for (int k = 0; k < s->ndev && n < len; k++)
        n += (size_t)snprintf(out + n, len - n, "%s%s", k ? "," : "", t->dev[s->dev[k]].uuid);
}

/* ---- the worker ---------------------------------------------------------------------- */

struct pool_slot *pool_attach(int fd, int slot, struct pool_table **tp)
{
    struct pool_table *t;
    off_t len = lseek(fd, 0, SEEK_END);
    if (fd < 0 || len < (off_t)sizeof *t) return NULL;
    t = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (t == MAP_FAILED) return NULL;
    if (t->magic != POOL_MAGIC || slot < 0 || (uint32_t)slot >= t->nslots ||
        (off_t)table_size((int)t->nslots) > len ||
        (t->slot[slot].pid != (int)getpid() && /* tls://: the slot is the relay's, our parent */
         t->slot[slot].pid != (int)getppid())) {
        munmap(t, (size_t)len);
        return NULL;
    }
    atomic_store(&t->slot[slot].state, POOL_RUNNING);
    *tp = t;
    return &t->slot[slot];
}

/* ---- IPC exports ------------------------------------------------------------------- */

uint64_t pool_export_add(struct pool_table *t, struct pool_export *e)
{
    struct pool_export *x = exports(t), *free_one = NULL;
    uint64_t serial = 0;
    pool_lock(t);
    for (int k = 0; k < POOL_MAX_EXPORTS && !serial; k++) {
        if (!x[k].kind) {
            if (!free_one) free_one = &x[k];
        } else if (x[k].session == e->session && x[k].kind == e->kind &&
                   !memcmp(x[k].backend, e->backend, sizeof e->backend)) {
            serial = x[k].serial; /* exported again: the same handle */
            memcpy(e->key, x[k].key, sizeof e->key);
        }
    }
    if (!serial && free_one) {
        *free_one = *e;
        serial = free_one->serial = ++t->next_export;
    }
    pthread_mutex_unlock(&t->lock);
    return serial;
}

int pool_export_find(struct pool_table *t, uint64_t serial, struct pool_export *out)
{
    struct pool_export *x = exports(t);
    int rc = -1;
    pool_lock(t);
    for (int k = 0; k < POOL_MAX_EXPORTS && rc; k++)
        if (x[k].kind && x[k].serial == serial) {
            *out = x[k];
            rc = 0;
        }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void pool_export_drop(struct pool_table *t, uint64_t session, uint64_t base)
{
    struct pool_export *x = exports(t);
    pool_lock(t);
    for (int k = 0; k < POOL_MAX_EXPORTS; k++)
        if (x[k].kind == POOL_EXPORT_MEM && x[k].session == session && (!base || x[k].base == base))
            x[k].kind = POOL_EXPORT_FREE;
    pthread_mutex_unlock(&t->lock);
}
