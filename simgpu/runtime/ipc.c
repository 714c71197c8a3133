/* ipc.c — CUDA IPC between processes on simgpu. Device memory is host memory
 * of the process, so an exported allocation becomes shared memory in place: its
 * pages (a small allocation: its whole slab) are copied into a memfd mapped over
 * the same addresses, and the 64-byte handle names {pid, fd, offset, size,
 * nonce}. An importer maps /proc/PID/fd/FD (the same user only) at a fresh
 * address of its own window; a trailer page of the memfd holds the nonce, so a
 * handle whose fd number now names another file is refused. Interprocess
 * events share a one-page record of their completion counters the same way. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define PAGE 4096ul
#define IPC_MEM_MAGIC 0x4d435049u /* "IPCM" */
#define IPC_EV_MAGIC 0x45435049u  /* "IPCE" */
#define TRAILER_MAGIC 0x6c69617274677073ull

/* The handle's bytes (CUipcMemHandle and CUipcEventHandle are 64 bytes). */
struct wire {
    uint32_t magic;
    int32_t pid, fd;
    uint32_t device;
    uint64_t nonce;
    uint64_t region; /* bytes of data in the memfd (its trailer page follows) */
    uint64_t offset; /* the allocation's offset in it */
    uint64_t size;   /* the allocation's size */
    uint8_t zero[16];
};
_Static_assert(sizeof(struct wire) == CU_IPC_HANDLE_SIZE, "an IPC handle is 64 bytes");

struct trailer {
    uint64_t magic, nonce;
};

/* An exported region of this process: [lo, lo+len) now maps memfd fd. */
struct shared {
    uintptr_t lo;
    size_t len;
    int fd;
    uint64_t nonce;
    struct shared *next;
};

/* An opened handle: the mapping [va, va+len) and the pointer handed out. */
struct import {
    uintptr_t va, ptr;
    size_t len;
    int pid, fd;
    uint64_t nonce, offset;
    struct sim_ctx *ctx;
    int refs;
    struct import *next;
};

static pthread_mutex_t ipc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared *shared_list;
static struct import *imports;

static size_t page_round(size_t n)
{
    return (n + PAGE - 1) & ~(PAGE - 1);
}

static uint64_t fresh_nonce(void)
{
    uint64_t n = 0;
    while (!n)
        if (getrandom(&n, sizeof n, 0) != (ssize_t)sizeof n) n = sim_now_ns() ^ (uint64_t)getpid();
    return n;
}

/* A memfd of len data bytes and a trailer page carrying nonce; -1 on failure. */
static int memfd_with_trailer(size_t len, uint64_t nonce)
{
    struct trailer t = {TRAILER_MAGIC, nonce};
    int fd = memfd_create("simgpu-ipc", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)(len + PAGE)) || pwrite(fd, &t, sizeof t, (off_t)len) != sizeof t) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens the exporter's file named by w and checks it is the one w was made
 * for (size, nonce). The fd, or -1. */
static int open_exported(const struct wire *w)
{
    char path[64];
    struct stat st;
    struct trailer t;
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)w->pid, (int)w->fd);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        sim_debug("IPC: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) || (uint64_t)st.st_size != w->region + PAGE ||
        pread(fd, &t, sizeof t, (off_t)w->region) != sizeof t || t.magic != TRAILER_MAGIC ||
        t.nonce != w->nonce) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool wire_ok(const struct wire *w, uint32_t magic)
{
    static const uint8_t zero[16];
    return w->magic == magic && w->pid > 0 && w->fd >= 0 && w->nonce && w->region &&
           w->region % PAGE == 0 && w->region < (1ull << 48) && w->size && w->offset < w->region &&
           w->size <= w->region - w->offset && !memcmp(w->zero, zero, sizeof zero);
}

/* ---- memory -------------------------------------------------------------------- */

/* Turns [lo, lo+len) into shared memory in place (ipc_lock held). */
static struct shared *share_region(uintptr_t lo, size_t len)
{
    for (struct shared *s = shared_list; s; s = s->next)
        if (s->lo == lo) return s;
    struct shared *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->nonce = fresh_nonce();
    s->fd = memfd_with_trailer(len, s->nonce);
    void *tmp =
        s->fd >= 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0) : MAP_FAILED;
    if (tmp == MAP_FAILED) goto fail;
    memcpy(tmp, (void *)lo, len);
    munmap(tmp, len);
    if (mmap((void *)lo, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, s->fd, 0) ==
        MAP_FAILED) /* the old pages stay: MAP_FIXED replaces only on success */
        goto fail;
    s->lo = lo;
    s->len = len;
    s->next = shared_list;
    __atomic_store_n(&shared_list, s, __ATOMIC_RELEASE); /* read without the lock at free */
    return s;
fail:
    sim_warn("IPC: cannot share %zu bytes of device memory: %s", len, strerror(errno));
    if (s->fd >= 0) close(s->fd);
    free(s);
    return NULL;
}

void sim_ipc_unshare(uintptr_t lo, size_t len)
{
    if (!__atomic_load_n(&shared_list, __ATOMIC_ACQUIRE)) return; /* nothing was ever exported */
    pthread_mutex_lock(&ipc_lock);
    for (struct shared **pp = &shared_list; *pp; pp = &(*pp)->next) {
        struct shared *s = *pp;
        if (s->lo != lo) continue;
        /* private zero pages again: the next allocation here must not share */
        sim_va_unmap(lo, len);
        close(s->fd); /* importers keep their mappings (the driver leaves them undefined) */
        __atomic_store_n(pp, s->next, __ATOMIC_RELEASE);
        free(s);
        break;
    }
    pthread_mutex_unlock(&ipc_lock);
}

CUresult cuIpcGetMemHandle(CUipcMemHandle *pHandle, CUdeviceptr dptr)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    struct sim_alloc a;
    uintptr_t lo;
    size_t len;
    if (!pHandle) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_mem_lookup((uintptr_t)dptr, &a) || a.kind != SIM_MEM_DEVICE || a.pool || a.ipc ||
        !sim_mem_region(&a, &lo, &len))
        return CUDA_ERROR_INVALID_VALUE;
    /* work queued on the memory finishes before its pages move under it */
    if (a.ctx && sim_handle_ok(a.ctx, SIM_KIND_CTX) && a.ctx->active) sim_ctx_synchronize(a.ctx);
    pthread_mutex_lock(&ipc_lock);
    struct shared *s = share_region(lo, len);
    struct wire w = {0};
    if (s)
        w = (struct wire){.magic = IPC_MEM_MAGIC,
                          .pid = (int32_t)getpid(),
                          .fd = s->fd,
                          .device = (uint32_t)a.dev->ordinal,
                          .nonce = s->nonce,
                          .region = len,
                          .offset = a.base - lo,
                          .size = a.size};
    pthread_mutex_unlock(&ipc_lock);
    if (!s) return CUDA_ERROR_MAP_FAILED;
    memcpy(pHandle->reserved, &w, sizeof w);
    return CUDA_SUCCESS;
}

static struct import *import_find(const struct wire *w, struct sim_ctx *c) /* ipc_lock held */
{
    for (struct import *m = imports; m; m = m->next)
        if (m->pid == w->pid && m->fd == w->fd && m->nonce == w->nonce && m->offset == w->offset &&
            m->ctx == c)
            return m;
    return NULL;
}

/* Maps the exported range at a fresh address of the region and enters it in
 * the allocation table, owned by c. */
static CUresult import_map(const struct wire *w, int fd, struct sim_ctx *c, struct import *m)
{
    uint64_t moff = w->offset & ~(PAGE - 1);
    size_t len = page_round((size_t)(w->offset + w->size)) - (size_t)moff;
    uintptr_t va;
    if (!sim_va_take(len, len >= (2ul << 20) ? (2ul << 20) : PAGE, 0, &va))
        return CUDA_ERROR_OUT_OF_MEMORY;
    if (mmap((void *)va, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, (off_t)moff) ==
        MAP_FAILED) {
        sim_va_give(va, len);
        return CUDA_ERROR_MAP_FAILED;
    }
    *m = (struct import){.va = va,
                         .ptr = va + (w->offset - moff),
                         .len = len,
                         .pid = w->pid,
                         .fd = w->fd,
                         .nonce = w->nonce,
                         .offset = w->offset,
                         .ctx = c,
                         .refs = 1};
    struct sim_alloc a = {
        .base = m->ptr, .size = w->size, .kind = SIM_MEM_DEVICE, .dev = c->dev, .ctx = c, .ipc = m};
    if (!sim_table_insert(&a)) {
        sim_va_unmap(va, len);
        sim_va_give(va, len);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return CUDA_SUCCESS;
}

CUresult cuIpcOpenMemHandle_v2(CUdeviceptr *pdptr, CUipcMemHandle handle, unsigned int Flags)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    struct wire w;
    memcpy(&w, handle.reserved, sizeof w);
    if (!pdptr || (Flags & ~(unsigned)CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS))
        return CUDA_ERROR_INVALID_VALUE;
    if (!wire_ok(&w, IPC_MEM_MAGIC)) return CUDA_ERROR_INVALID_HANDLE;
    if (w.pid == (int32_t)getpid()) return CUDA_ERROR_INVALID_CONTEXT; /* its own memory */
    pthread_mutex_lock(&ipc_lock);
    struct import *m = import_find(&w, c);
    if (m) {
        m->refs++;
        *pdptr = (CUdeviceptr)m->ptr;
        pthread_mutex_unlock(&ipc_lock);
        return CUDA_SUCCESS;
    }
    int fd = open_exported(&w);
    if (fd < 0) {
        pthread_mutex_unlock(&ipc_lock);
        return CUDA_ERROR_INVALID_HANDLE;
    }
    m = calloc(1, sizeof *m);
    r = m ? import_map(&w, fd, c, m) : CUDA_ERROR_OUT_OF_MEMORY;
    close(fd); /* the mapping keeps the file */
    if (r == CUDA_SUCCESS) {
        m->next = imports;
        imports = m;
        *pdptr = (CUdeviceptr)m->ptr;
    } else {
        free(m);
    }
    pthread_mutex_unlock(&ipc_lock);
    return r;
}

CUresult cuIpcOpenMemHandle(CUdeviceptr *pdptr, CUipcMemHandle handle, unsigned int Flags)
{
    return cuIpcOpenMemHandle_v2(pdptr, handle, Flags);
}

/* The table entry of an import is gone (closed, or its context died): unmap it. */
void sim_ipc_release(const struct sim_alloc *a)
{
    struct import *m = a->ipc;
    pthread_mutex_lock(&ipc_lock);
    for (struct import **pp = &imports; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    pthread_mutex_unlock(&ipc_lock);
    sim_va_unmap(m->va, m->len);
    sim_va_give(m->va, m->len);
    free(m);
}

CUresult cuIpcCloseMemHandle(CUdeviceptr dptr)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    struct sim_alloc a;
    if (!sim_mem_lookup((uintptr_t)dptr, &a) || !a.ipc || a.base != (uintptr_t)dptr)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&ipc_lock);
    struct import *m = NULL;
    for (m = imports; m && m != a.ipc; m = m->next)
        ;
    bool last = m && --m->refs == 0;
    pthread_mutex_unlock(&ipc_lock);
    if (!m) return CUDA_ERROR_INVALID_VALUE;
    if (!last) return CUDA_SUCCESS;
    if (a.ctx && sim_handle_ok(a.ctx, SIM_KIND_CTX) && a.ctx->active) sim_ctx_synchronize(a.ctx);
    if (sim_table_remove((uintptr_t)dptr, &a)) sim_ipc_release(&a);
    return CUDA_SUCCESS;
}

/* ---- events: a shared record of the completion counters --------------------------- */

struct sim_ipc_rec {
    struct trailer id;
    _Atomic uint64_t rec, done; /* generations recorded / completed, by any process */
};

struct sim_ipc_event {
    struct sim_ipc_rec *rec; /* one shared page */
    int fd;                  /* the exporter's memfd; -1 in an importer */
    int pid;                 /* the exporter */
};

/* Exports: the event's record in a fresh memfd, counters starting at done. */
static struct sim_ipc_event *event_share(uint64_t done)
{
    struct sim_ipc_event *ev = calloc(1, sizeof *ev);
    uint64_t nonce = fresh_nonce();
    if (!ev) return NULL;
    ev->fd = memfd_with_trailer(PAGE, nonce);
    void *p =
        ev->fd >= 0 ? mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ev->fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED) {
        if (ev->fd >= 0) close(ev->fd);
        free(ev);
        return NULL;
    }
    ev->rec = p;
    ev->rec->id = (struct trailer){TRAILER_MAGIC, nonce};
    atomic_store(&ev->rec->rec, done);
    atomic_store(&ev->rec->done, done);
    ev->pid = (int)getpid();
    return ev;
}

CUresult cuIpcGetEventHandle(CUipcEventHandle *pHandle, CUevent event)
{
    struct sim_event *e;
    CUresult r = sim_event_resolve(event, &e);
    if (r) return r;
    if (!pHandle) return CUDA_ERROR_INVALID_VALUE;
    if (!(sim_event_flags(e) & CU_EVENT_INTERPROCESS)) return CUDA_ERROR_INVALID_VALUE;
    struct sim_ipc_event *ev = sim_event_ipc(e);
    if (!ev) {
        pthread_mutex_lock(&ipc_lock); /* one record per event, however many exports */
        if (!(ev = sim_event_ipc(e)) && (ev = event_share(sim_event_done_gen(e))))
            sim_event_set_ipc(e, ev);
        pthread_mutex_unlock(&ipc_lock);
        if (!ev) return CUDA_ERROR_MAP_FAILED;
    }
    if (ev->fd < 0) return CUDA_ERROR_INVALID_VALUE; /* an imported event is not exported again */
    struct wire w = {.magic = IPC_EV_MAGIC,
                     .pid = ev->pid,
                     .fd = ev->fd,
                     .nonce = ev->rec->id.nonce,
                     .region = PAGE,
                     .offset = 0,
                     .size = sizeof *ev->rec};
    memcpy(pHandle->reserved, &w, sizeof w);
    return CUDA_SUCCESS;
}

CUresult cuIpcOpenEventHandle(CUevent *phEvent, CUipcEventHandle handle)
{
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r) return r;
    struct wire w;
    memcpy(&w, handle.reserved, sizeof w);
    if (!phEvent) return CUDA_ERROR_INVALID_VALUE;
    if (!wire_ok(&w, IPC_EV_MAGIC) || w.region != PAGE) return CUDA_ERROR_INVALID_HANDLE;
    if (w.pid == (int32_t)getpid()) return CUDA_ERROR_INVALID_CONTEXT;
    int fd = open_exported(&w);
    if (fd < 0) return CUDA_ERROR_INVALID_HANDLE;
    struct sim_ipc_event *ev = calloc(1, sizeof *ev);
    void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (!ev || p == MAP_FAILED) {
        if (p != MAP_FAILED) munmap(p, PAGE);
        free(ev);
        return CUDA_ERROR_MAP_FAILED;
    }
    *ev = (struct sim_ipc_event){.rec = p, .fd = -1, .pid = w.pid};
    struct sim_event *e;
    r = sim_event_new(c, CU_EVENT_INTERPROCESS | CU_EVENT_DISABLE_TIMING, &e);
    if (r) {
        sim_ipc_event_free(ev);
        return r;
    }
    sim_event_set_ipc(e, ev);
    *phEvent = (CUevent)e;
    return CUDA_SUCCESS;
}

void sim_ipc_event_free(struct sim_ipc_event *ev)
{
    munmap(ev->rec, PAGE);
    if (ev->fd >= 0) close(ev->fd);
    free(ev);
}

uint64_t sim_ipc_event_next(struct sim_ipc_event *ev)
{
    return atomic_fetch_add(&ev->rec->rec, 1) + 1;
}

void sim_ipc_event_done(struct sim_ipc_event *ev, uint64_t gen)
{
    uint64_t cur = atomic_load(&ev->rec->done);
    while (cur < gen && !atomic_compare_exchange_weak(&ev->rec->done, &cur, gen)) {
    }
}

uint64_t sim_ipc_event_target(struct sim_ipc_event *ev)
{
    return atomic_load(&ev->rec->rec);
}

bool sim_ipc_event_reached(struct sim_ipc_event *ev, uint64_t gen)
{
    return atomic_load(&ev->rec->done) >= gen;
}

/* Waits until generation gen completed, or the exporter is gone (its record
 * can then move only through other importers; nobody is left to finish it). */
void sim_ipc_event_wait(struct sim_ipc_event *ev, uint64_t gen)
{
    long ns = 20000;
    while (!sim_ipc_event_reached(ev, gen)) {
        if (ev->fd < 0 && kill(ev->pid, 0) && errno == ESRCH) return;
        struct timespec t = {0, ns};
        nanosleep(&t, NULL);
        if (ns < 1000000) ns *= 2;
    }
}
