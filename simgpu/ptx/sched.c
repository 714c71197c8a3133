/* sched.c — runs grids: blocks are handed out in increasing index order to the
 * caller and SIMGPU_THREADS-1 pool workers; each block's warps are time-sliced
 * on one host thread with per-thread scratch reused across launches. A
 * cooperative grid runs all its blocks at once, time-sliced on the caller. */
#include "exec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHED_QUANTUM 512           /* steps a warp runs before the next warp's turn */
#define SCHED_MAX_SMEM (228u << 10) /* per-block shared memory limit */

typedef struct ex_scratch {
    uint64_t *regs;
    size_t regs_cap;
    uint8_t *smem, *local;
    size_t smem_cap, local_cap;
    ex_warp *warps;
    size_t warps_cap;
    uint32_t *barw;
    size_t barw_cap;
    ex_block blk;
} ex_scratch;

static _Thread_local ex_scratch *tl_scratch;
static _Atomic uint64_t g_steps;

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static ex_job *pool_jobs;
static unsigned pool_threads = 1; /* including callers */

/* Grow *buf to at least `need` bytes; 0 on success. */
static int ensure(void **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t n = need + need / 2 + 64;
    void *p = realloc(*buf, n);
    if (!p) return -1;
    *buf = p;
    *cap = n;
    return 0;
}

static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static pthread_key_t scratch_key;

/* The buffers of one scratch (not the scratch itself). */
static void scratch_release(ex_scratch *sc)
{
    free(sc->regs), free(sc->smem), free(sc->local), free(sc->warps), free(sc->barw);
}

/* Frees a thread's scratch when it exits (application threads that launched). */
static void scratch_free(void *p)
{
    ex_scratch *sc = p;
    if (!sc) return;
    scratch_release(sc);
    free(sc);
}

static void scratch_key_init(void)
{
    pthread_key_create(&scratch_key, scratch_free);
}

static ex_scratch *scratch(void)
{
    if (!tl_scratch) {
        pthread_once(&scratch_once, scratch_key_init);
        tl_scratch = calloc(1, sizeof *tl_scratch);
        if (tl_scratch) pthread_setspecific(scratch_key, tl_scratch);
    }
    return tl_scratch;
}

static int block_memory(ex_scratch *sc, ex_block *b, const ir_func *k)
{
    size_t nregs = (size_t)k->total_regs * 32 * b->nwarps;
    if (ensure((void **)&sc->regs, &sc->regs_cap, (nregs ? nregs : 1) * sizeof(uint64_t)) ||
        ensure((void **)&sc->smem, &sc->smem_cap, b->smem_size + 16) ||
        ensure((void **)&sc->local, &sc->local_cap, (size_t)b->lsize * b->nwarps * 32 + 16) ||
        ensure((void **)&sc->warps, &sc->warps_cap, b->nwarps * sizeof(ex_warp)) ||
        ensure((void **)&sc->barw, &sc->barw_cap, EX_NBAR * b->nwarps * sizeof(uint32_t)))
        return -1;
    b->smem = sc->smem;
    b->local = sc->local;
    b->warps = sc->warps;
    b->bar_wait = sc->barw;
    memset(b->bar_wait, 0, EX_NBAR * b->nwarps * sizeof(uint32_t));
    return 0;
}

static void init_block(ex_block *b, ex_job *j, uint64_t idx)
{
    const ptx_launch *l = j->l;
    b->job = j;
    b->l = l;
    b->m = j->m;
    b->k = j->k;
    b->reg_base = j->k->reg_base;
    b->ctaid[0] = (unsigned)(idx % l->grid[0]);
    b->ctaid[1] = (unsigned)(idx / l->grid[0] % l->grid[1]);
    b->ctaid[2] = (unsigned)(idx / ((uint64_t)l->grid[0] * l->grid[1]));
    memcpy(b->ntid, l->block, sizeof b->ntid);
    b->nthreads = l->block[0] * l->block[1] * l->block[2];
    b->nwarps = (b->nthreads + 31) / 32;
    size_t da = j->m->dyn_align > 16 ? j->m->dyn_align : 16;
    b->dyn_base = (uint32_t)((j->k->info.static_smem + da - 1) & ~(da - 1));
    b->resv_base = (uint32_t)((b->dyn_base + l->dyn_smem + 15) & ~(size_t)15);
    b->smem_size = b->resv_base + (j->m->uses_reserved_smem ? EX_RESERVED_SMEM : 0);
    b->lsize = j->k->local_size;
    b->alive = b->nthreads;
    memset(b->bar_arrived, 0, sizeof b->bar_arrived);
    memset(b->bar_red, 0, sizeof b->bar_red);
    memset(b->bar_red_insn, 0, sizeof b->bar_red_insn);
    b->steps = 0;
    b->hit_lo = b->hit_hi = 0;
    b->status = 0;
    b->cur = NULL;
}

static void init_warps(ex_block *b, uint64_t *regs)
{
    for (unsigned i = 0; i < b->nwarps; i++) {
        ex_warp *w = &b->warps[i];
        unsigned n = b->nthreads - i * 32;
        w->b = b;
        w->R = regs + (size_t)i * b->k->total_regs * 32;
        w->id = i;
        w->live = n >= 32 ? 0xffffffffu : (1u << n) - 1;
        w->bar_blocked = w->ws_blocked = 0;
        w->upc = b->k->start;
        w->uniform = 1;
        w->rr = w->divsteps = 0;
        memset(w->fp, 0, sizeof w->fp);
        memset(w->depth, 0, sizeof w->depth);
        w->incall = 0;
        w->yield = 0;
        memset(w->carry, 0, sizeof w->carry);
    }
}

/* One round over the block's warps: 1 while it has work left, 0 once all its
 * threads exited or it faulted. Warp-sync waiters are released if nothing else
 * could run; a deadlock is reported if only barrier waiters remain. */
static int block_round(ex_block *b, int quantum)
{
    int live = 0, ran = 0;
    for (unsigned i = 0; i < b->nwarps; i++) {
        ex_warp *w = &b->warps[i];
        if (!w->live) continue;
        live = 1;
        if (!(w->live & ~(w->bar_blocked | w->ws_blocked))) continue;
        ran = 1;
        if (ex_warp_run(w, quantum)) return 0;
    }
    if (!live || atomic_load_explicit(&b->job->status, memory_order_relaxed)) return 0;
    if (ran) return 1;
    int released = 0;
    for (unsigned i = 0; i < b->nwarps; i++)
        if (b->warps[i].ws_blocked)
            ex_unblock(&b->warps[i], b->warps[i].ws_blocked, 0), released = 1;
    if (!released) {
        ex_fault(&b->warps[0], 0, PTX_ERR_ILLEGAL_INSTR, 0,
                 "deadlock: every live thread waits at a barrier");
        return 0;
    }
    return 1;
}

/* Round-robin the block's warps until all exit. */
static void block_loop(ex_block *b)
{
    int quantum = b->nwarps == 1 ? 1 << 30 : SCHED_QUANTUM;
    while (block_round(b, quantum)) {
    }
}

static void run_block(ex_job *j, uint64_t idx, ex_scratch *sc)
{
    ex_block *b = &sc->blk;
    init_block(b, j, idx);
    if (block_memory(sc, b, j->k)) {
        int expect = 0;
        atomic_compare_exchange_strong(&j->status, &expect, PTX_ERR_NOMEM);
        return;
    }
    init_warps(b, sc->regs);
    block_loop(b);
    atomic_fetch_add_explicit(&g_steps, b->steps, memory_order_relaxed);
}

/* A cooperative grid: every block resident at once, as the hardware guarantees
 * for cooperative launches, so blocks spinning in a grid-wide barrier let the
 * others reach it. All blocks are time-sliced on the calling thread, a round
 * of each in turn; memory is per block. */
static void run_cooperative(ex_job *j)
{
    uint64_t n = j->nblocks;
    ex_scratch *sc = calloc(n, sizeof *sc);
    unsigned char *done = calloc(n, 1);
    uint64_t left = n;
    int failed = !sc || !done;
    for (uint64_t i = 0; i < n && !failed; i++) {
        init_block(&sc[i].blk, j, i);
        failed = block_memory(&sc[i], &sc[i].blk, j->k);
        if (!failed) init_warps(&sc[i].blk, sc[i].regs);
    }
    if (failed) {
        int expect = 0;
        atomic_compare_exchange_strong(&j->status, &expect, PTX_ERR_NOMEM);
        left = 0;
    }
    while (left && !atomic_load_explicit(&j->status, memory_order_relaxed))
        for (uint64_t i = 0; i < n; i++) {
            if (done[i] || block_round(&sc[i].blk, SCHED_QUANTUM)) continue;
            done[i] = 1;
            left--;
        }
    for (uint64_t i = 0; sc && i < n; i++) {
        atomic_fetch_add_explicit(&g_steps, sc[i].blk.steps, memory_order_relaxed);
        scratch_release(&sc[i]);
    }
    free(sc);
    free(done);
    atomic_store(&j->done, n);
}

static void run_blocks(ex_job *j)
{
    ex_scratch *sc = scratch();
    for (;;) {
        uint64_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->nblocks) return;
        if (!sc) {
            int expect = 0;
            atomic_compare_exchange_strong(&j->status, &expect, PTX_ERR_NOMEM);
        } else if (!atomic_load_explicit(&j->status, memory_order_relaxed)) {
            run_block(j, i, sc);
        }
        atomic_fetch_add(&j->done, 1);
    }
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        ex_job *j = pool_jobs;
        while (j && atomic_load(&j->next) >= j->nblocks)
            j = j->link;
        if (!j) {
            pthread_cond_wait(&pool_work, &pool_lock);
            continue;
        }
        j->users++;
        pthread_mutex_unlock(&pool_lock);
        run_blocks(j);
        pthread_mutex_lock(&pool_lock);
        j->users--;
        pthread_cond_broadcast(&pool_done);
    }
    return NULL;
}

static void pool_init(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    const char *e = getenv("SIMGPU_THREADS");
    if (e && atoi(e) > 0) n = atoi(e);
    if (n < 1) n = 1;
    if (n > 256) n = 256;
    pool_threads = (unsigned)n;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 1 << 20);
    for (unsigned i = 1; i < pool_threads; i++) {
        pthread_t t;
        if (pthread_create(&t, &at, worker, NULL) != 0) {
            pool_threads = i;
            break;
        }
        pthread_detach(t);
    }
    pthread_attr_destroy(&at);
}

unsigned ptx_worker_count(void)
{
    pthread_once(&pool_once, pool_init);
    return pool_threads;
}

uint64_t ptx_stats_thread_instructions(void)
{
    return atomic_load(&g_steps);
}

static enum ptx_status check_launch(const ptx_launch *l, const ptx_module *m, const ir_func *k)
{
    uint64_t nt = (uint64_t)l->block[0] * l->block[1] * l->block[2];
    if (!l->grid[0] || !l->grid[1] || !l->grid[2] || !nt) return PTX_ERR_INVALID_VALUE;
    if (nt > 1024 || (k->info.maxntid && nt > k->info.maxntid)) return PTX_ERR_LAUNCH_RESOURCES;
    if (l->params_size < k->info.params_size || (k->info.params_size && !l->params))
        return PTX_ERR_INVALID_VALUE;
    if (k->info.static_smem + l->dyn_smem > SCHED_MAX_SMEM) return PTX_ERR_LAUNCH_RESOURCES;
    if (m->nvars && !l->var_addrs) return PTX_ERR_INVALID_VALUE;
    return PTX_OK;
}

enum ptx_status ptx_run(const ptx_launch *l, ptx_fault *fault)
{
    if (!l || !l->kernel) return PTX_ERR_INVALID_VALUE;
    const ptx_module *m = l->kernel->mod;
    const ir_func *k = &m->funcs[l->kernel->func];
    enum ptx_status st = check_launch(l, m, k);
    if (st) return st;
    ex_job j;
    j.l = l;
    j.m = m;
    j.k = k;
    j.nblocks = (uint64_t)l->grid[0] * l->grid[1] * l->grid[2];
    atomic_init(&j.next, 0);
    atomic_init(&j.done, 0);
    atomic_init(&j.status, 0);
    j.users = 0;
    j.link = NULL;
    pthread_mutex_init(&j.fault_lock, NULL);
    if (l->cooperative) {
        run_cooperative(&j);
    } else if (j.nblocks == 1 || ptx_worker_count() == 1) {
        run_blocks(&j);
    } else {
        pthread_mutex_lock(&pool_lock);
        j.link = pool_jobs;
        pool_jobs = &j;
        pthread_cond_broadcast(&pool_work);
        pthread_mutex_unlock(&pool_lock);
        run_blocks(&j);
        pthread_mutex_lock(&pool_lock);
        while (atomic_load(&j.done) < j.nblocks || j.users > 0)
            pthread_cond_wait(&pool_done, &pool_lock);
        ex_job **pp = &pool_jobs;
        while (*pp != &j)
            pp = &(*pp)->link;
        *pp = j.link;
        pthread_mutex_unlock(&pool_lock);
    }
    pthread_mutex_destroy(&j.fault_lock);
    st = (enum ptx_status)atomic_load(&j.status);
    if (st && fault) *fault = j.fault;
    return st;
}
