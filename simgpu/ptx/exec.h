/* exec.h — interpreter state shared by the execution files: a block being run
 * on one host thread, its warps (32 lanes, per-lane PC, lane-contiguous
 * registers), and the helpers every instruction family uses. */
#ifndef SIMGPU_PTX_EXEC_H
#define SIMGPU_PTX_EXEC_H

#include "ir.h"

#include <stdatomic.h>
#include <pthread.h>

#define EX_NBAR 16
#define EX_MAXCS 8          /* call levels the scheduler orders lanes by */
#define EX_LINK 16          /* call link: return pc, caller frame, call index, pad */
#define EX_RESERVED_SMEM 64 /* %reserved_smem_offset_*: after the block's dynamic shared memory */

typedef struct ex_job ex_job;
typedef struct ex_block ex_block;

typedef struct ex_warp {
    ex_block *b;
    uint64_t *R; /* total_regs rows of 32 lanes */
    uint32_t id;
    uint32_t live;        /* lanes not exited */
    uint32_t bar_blocked; /* lanes waiting at bar.sync */
    uint32_t ws_blocked;  /* lanes waiting at bar.warp.sync */
    uint32_t upc;         /* pc of every runnable lane when uniform */
    uint32_t uniform;
    uint32_t rr; /* fairness rotation while diverged */
    uint32_t divsteps;
    uint32_t pc[32];
    uint32_t fp[32];           /* frame pointer (local offset) */
    uint32_t depth[32];        /* call depth */
    uint32_t incall;           /* lanes with depth > 0 */
    uint32_t yield;            /* end the time slice after this step (spin-wait hints) */
    uint32_t cs[32][EX_MAXCS]; /* call-site pcs of the outer frames (scheduling order) */
    uint8_t carry[32];         /* CC.CF for add.cc/addc */
} ex_warp;

struct ex_block {
    ex_job *job;
    const ptx_launch *l;
    const ptx_module *m;
    const ir_func *k;
    const uint32_t *reg_base;
    unsigned ctaid[3];
    unsigned ntid[3];
    unsigned nthreads, nwarps;
    uint8_t *smem;
    size_t smem_size;   /* static + dynamic + reserved */
    uint32_t resv_base; /* start of the reserved region */
    uint32_t dyn_base;
    uint8_t *local;
    uint32_t lsize;
    ex_warp *warps;
    uint32_t alive;
    uint32_t bar_arrived[EX_NBAR];
    uint32_t bar_red[EX_NBAR];
    const ir_insn *bar_red_insn[EX_NBAR];
    uint32_t *bar_wait;       /* [EX_NBAR][nwarps] */
    uint64_t steps;           /* thread-instructions executed */
    uintptr_t hit_lo, hit_hi; /* last mem-map range hit */
    int status;               /* enum ptx_status */
    const ir_insn *cur;       /* instruction being executed (for fault messages) */
    uint64_t sink[32];        /* writes to "_" */
    uint64_t scratch[8][32];  /* materialised operands */
};

struct ex_job {
    const ptx_launch *l;
    const ptx_module *m;
    const ir_func *k;
    uint64_t nblocks;
    _Atomic uint64_t next;
    _Atomic uint64_t done;
    _Atomic int status;
    int users; /* workers inside this job (pool lock) */
    pthread_mutex_t fault_lock;
    ptx_fault fault;
    ex_job *link;
};

#define FOR_LANES(mask, ...)                                                                       \
    do {                                                                                           \
        uint32_t m_ = (mask);                                                                      \
        if (m_ == 0xffffffffu) {                                                                   \
            for (int l = 0; l < 32; l++) {                                                         \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            while (m_) {                                                                           \
                int l = __builtin_ctz(m_);                                                         \
                m_ &= m_ - 1;                                                                      \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Population count without relying on the POPCNT instruction (no libgcc call). */
static inline unsigned ex_popc(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    return (((v + (v >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}

static inline uint64_t ex_wmask(unsigned bits)
{
    return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static inline int64_t ex_sext(uint64_t v, unsigned bits)
{
    if (bits >= 64) return (int64_t)v;
    unsigned s = 64 - bits;
    return (int64_t)(v << s) >> s;
}

/* Register rows of the function owning `in`. */
static inline uint64_t *ex_regs(ex_warp *w, const ir_insn *in)
{
    return w->R + (size_t)w->b->reg_base[in->func] * 32;
}

const uint64_t *ex_src_slow(ex_warp *w, uint64_t *R, const ir_operand *o, unsigned slot,
                            uint32_t mask);

/* 32 lane values of a source operand (row in registers, constants or scratch). */
static inline const uint64_t *ex_src(ex_warp *w, uint64_t *R, const ir_operand *o, unsigned slot,
                                     uint32_t mask)
{
    if (o->kind == O_REG && !o->neg) return R + (size_t)o->idx * 32;
    if (o->kind == O_IMM) return w->b->m->konst[o->idx];
    return ex_src_slow(w, R, o, slot, mask);
}

static inline uint64_t *ex_dst(ex_warp *w, uint64_t *R, const ir_operand *o)
{
    return o->kind == O_REG ? R + (size_t)o->idx * 32 : w->b->sink;
}

/* Record the first execution error of the block (sticky for the launch). */
void ex_fault(ex_warp *w, int lane, int status, uintptr_t addr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Host pointer for `size` bytes at `addr` in `space` for `lane`, or NULL after
 * recording a fault (write: 0 read, 1 write, 2 probe without fault). */
void *ex_translate(ex_warp *w, int space, uint64_t addr, unsigned size, int lane, int write);

/* Families. Each runs one instruction for the lanes in `act` and returns 0, or
 * a nonzero status after a fault. Control flow (pc updates) is done by exec.c
 * except for the ones in exec_ctl.c that move lanes themselves. */
int ex_alu_int(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_alu_float(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_cvt(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_mov(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_setp(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_mem(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_atom(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_warpop(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_printf(ex_warp *w, int lane, uint64_t fmt, uint64_t args);
int ex_mbarrier(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_wmma(ex_warp *w, const ir_insn *in, uint32_t act);
int ex_mma(ex_warp *w, const ir_insn *in, uint32_t act);
/* NUL-terminated copy of the string at generic address `addr` ("(null)" when unreadable). */
void ex_read_str(ex_warp *w, int lane, uint64_t addr, char *out, size_t max);

/* exec_ctl.c: instructions that change lane pcs; run with the whole group
 * `mask` (act = lanes whose guard is true). */
int ex_control(ex_warp *w, const ir_insn *in, uint32_t pc, uint32_t mask, uint32_t act);
void ex_set_pc(ex_warp *w, uint32_t mask, uint32_t pc);
void ex_unblock(ex_warp *w, uint32_t mask, int barrier);
void ex_exit_lanes(ex_warp *w, uint32_t mask);

/* heap.c: device malloc/free (0 when out of memory or without a heap) */
uint64_t ptx_heap_alloc(ptx_heap *h, uint64_t size);
void ptx_heap_free(ptx_heap *h, uint64_t addr);

/* exec.c */
int ex_warp_run(ex_warp *w, int budget);

/* float helpers (exec_float.c) */
float ex_h2f(uint16_t h);
uint16_t ex_f2h(float f, int rnd);
float ex_bf2f(uint16_t h);
float ex_fp82f(uint8_t v, int e5m2);
uint8_t ex_f2fp8(float f, int e5m2, int satfinite);
uint16_t ex_f2bf(float f, int rnd);

#endif
