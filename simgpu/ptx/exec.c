/* exec.c — the warp stepping loop: pick the lanes to run (lowest PC among
 * runnable lanes, Volta-style, with a fairness rotation while diverged so spin
 * locks progress), evaluate the guard, dispatch to the instruction family. */
#include "exec.h"

#include <stdarg.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <string.h>

void ex_fault(ex_warp *w, int lane, int status, uintptr_t addr, const char *fmt, ...)
{
    ex_block *b = w->b;
    if (b->status) return;
    b->status = status;
    ex_job *j = b->job;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&j->status, &expect, status)) return;
    pthread_mutex_lock(&j->fault_lock);
    ptx_fault *f = &j->fault;
    memset(f, 0, sizeof *f);
    f->address = addr;
    memcpy(f->block, b->ctaid, sizeof f->block);
    unsigned t = w->id * 32 + (unsigned)(lane < 0 ? 0 : lane);
    f->thread[0] = t % b->ntid[0];
    f->thread[1] = t / b->ntid[0] % b->ntid[1];
    f->thread[2] = t / (b->ntid[0] * b->ntid[1]);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    if (b->cur && status != PTX_ERR_ASSERT && n >= 0 && (size_t)n < sizeof f->message)
        snprintf(f->message + n, sizeof f->message - (size_t)n, " (PTX line %u: %s in %s)",
                 b->cur->line, ir_op_name(b->cur->op), b->m->funcs[b->cur->func].name);
    pthread_mutex_unlock(&j->fault_lock);
}

static uint64_t sreg_value(ex_warp *w, unsigned id, int l)
{
    ex_block *b = w->b;
    unsigned t = w->id * 32 + (unsigned)l;
    switch (id) {
    case SR_TID_X:
        return b->ntid[0] >= b->nthreads ? t : t % b->ntid[0];
    case SR_TID_Y:
        return t / b->ntid[0] % b->ntid[1];
    case SR_TID_Z:
        return t / (b->ntid[0] * b->ntid[1]);
    case SR_NTID_X:
    case SR_NTID_Y:
    case SR_NTID_Z:
        return b->ntid[id - SR_NTID_X];
    case SR_CTAID_X:
    case SR_CTAID_Y:
    case SR_CTAID_Z:
        return b->ctaid[id - SR_CTAID_X];
    case SR_NCTAID_X:
    case SR_NCTAID_Y:
    case SR_NCTAID_Z:
        return b->l->grid[id - SR_NCTAID_X];
    case SR_LANEID:
        return (unsigned)l;
    case SR_WARPID:
        return w->id;
    case SR_NWARPID:
        return b->nwarps;
    case SR_SMID:
        return b->l->sm_count ? (b->ctaid[0] % b->l->sm_count) : 0;
    case SR_NSMID:
        return b->l->sm_count ? b->l->sm_count : 1;
    case SR_GRIDID:
        return b->l->launch_id;
    case SR_LANEMASK_EQ:
        return 1u << l;
    case SR_LANEMASK_LT:
        return (1u << l) - 1;
    case SR_LANEMASK_LE:
        return (uint32_t)((2ull << l) - 1);
    case SR_LANEMASK_GT:
        return (uint32_t) ~((2ull << l) - 1);
    case SR_LANEMASK_GE:
        return (uint32_t) ~((1u << l) - 1);
    case SR_CLOCK:
        return (uint32_t)b->steps;
    case SR_CLOCK64:
        return b->steps;
    case SR_DYN_SMEM:
        return b->l->dyn_smem;
    case SR_TOTAL_SMEM:
        return b->resv_base;
    case SR_RESV_BEGIN:
    case SR_RESV_0:
        return b->resv_base;
    case SR_RESV_1:
        return b->resv_base + 8;
    case SR_RESV_END:
        return b->resv_base + EX_RESERVED_SMEM;
    case SR_RESV_CAP:
        return EX_RESERVED_SMEM;
    case SR_ONE:
        return 1;
    case SR_ENVREG1:
        return (uint32_t)(b->l->grid_workspace >> 32);
    case SR_ENVREG2:
        return (uint32_t)b->l->grid_workspace;
    default:
        return 0;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Address a symbol stands for, per lane (mov/cvta sources). */
static uint64_t sym_value(ex_warp *w, const ir_operand *o, int l)
{
    ex_block *b = w->b;
    switch (o->abase) {
    case A_VAR:
        return (uint64_t)(uintptr_t)b->l->var_addrs[o->idx] + (uint64_t)o->val;
    case A_SHARED:
        return (uint64_t)o->val;
    case A_DYNSMEM:
        return b->dyn_base + (uint64_t)o->val;
    case A_LOCAL:
        return w->fp[l] + (uint64_t)o->val;
    case A_KPARAM:
        return IR_WIN_PARAM + (uint64_t)o->val;
    default:
        return (uint64_t)o->val;
    }
}

const uint64_t *ex_src_slow(ex_warp *w, uint64_t *R, const ir_operand *o, unsigned slot,
                            uint32_t mask)
{
    uint64_t *s = w->b->scratch[slot & 7];
    switch (o->kind) {
    case O_REG: {
        const uint64_t *r = R + (size_t)o->idx * 32;
        FOR_LANES(mask, s[l] = !r[l]);
        return s;
    }
    case O_SREG:
        if (o->idx == SR_GLOBALTIMER || o->idx == SR_GLOBALTIMER_LO ||
            o->idx == SR_GLOBALTIMER_HI) {
            uint64_t t = now_ns();
            t = o->idx == SR_GLOBALTIMER_LO   ? (uint32_t)t
                : o->idx == SR_GLOBALTIMER_HI ? t >> 32
                                              : t;
            FOR_LANES(mask, s[l] = t);
        } else {
            FOR_LANES(mask, s[l] = sreg_value(w, o->idx, l));
        }
        return s;
    case O_SYM:
        FOR_LANES(mask, s[l] = sym_value(w, o, l));
        return s;
    case O_FUNC:
        FOR_LANES(mask, s[l] = IR_WIN_FUNC + o->idx);
        return s;
    default:
        memset(s, 0, 32 * sizeof *s);
        return s;
    }
}

/* Warp-synchronous instructions: the rotation below must not run them early
 * for a subset of the lanes that would reach them under lowest-PC order. */
static int is_collective(unsigned op)
{
    return op == OP_SHFL || op == OP_VOTE || op == OP_MATCH || op == OP_REDUX || op == OP_ELECT ||
           op == OP_BAR || op == OP_BARRIER;
}

/* Program order of two lanes when some are inside calls: compare the call-site
 * pcs from the outermost frame inwards, so a lane still inside a callee runs
 * before lanes of the caller that are past the call site, wherever the callee's
 * code was placed. A lane at the call instruction itself precedes lanes inside
 * the call. */
static int lane_before(const ex_warp *w, int a, int b)
{
    unsigned da = w->depth[a], db = w->depth[b];
    unsigned n = da < db ? da : db;
    if (n > EX_MAXCS) n = EX_MAXCS;
    for (unsigned i = 0; i < n; i++)
        if (w->cs[a][i] != w->cs[b][i]) return w->cs[a][i] < w->cs[b][i];
    if (da == db || n == EX_MAXCS) return w->pc[a] < w->pc[b];
    uint32_t va = da > n ? w->cs[a][n] : w->pc[a], vb = db > n ? w->cs[b][n] : w->pc[b];
    if (va != vb) return va < vb;
    return da < db;
}

static int first_in_order(const ex_warp *w, uint32_t run)
{
    int best = __builtin_ctz(run);
    for (uint32_t m = run & (run - 1); m; m &= m - 1) {
        int l = __builtin_ctz(m);
        if (lane_before(w, l, best)) best = l;
    }
    return best;
}

/* Lowest PC among runnable lanes; every 16th diverged step, rotate instead so
 * a lane spinning on a lock held by a higher-PC lane cannot starve it. */
static uint32_t pick(ex_warp *w, uint32_t run, uint32_t *pcout)
{
    uint32_t best = UINT32_MAX, mask = 0;
    if ((++w->divsteps & 15) == 0) {
        for (int k = 0; k < 32; k++) {
            int l = (int)((w->rr + (uint32_t)k) & 31);
            if (run >> l & 1) {
                best = w->pc[l];
                w->rr = (uint32_t)l + 1;
                break;
            }
        }
        for (uint32_t m = run; m; m &= m - 1) {
            int l = __builtin_ctz(m);
            if (w->pc[l] == best) mask |= 1u << l;
        }
        if (is_collective(w->b->m->code[best].op)) best = UINT32_MAX, mask = 0;
    }
    if (best == UINT32_MAX && w->incall) {
        best = w->pc[first_in_order(w, run)];
        for (uint32_t m = run; m; m &= m - 1) {
            int l = __builtin_ctz(m);
            if (w->pc[l] == best) mask |= 1u << l;
        }
    } else if (best == UINT32_MAX) {
        for (uint32_t m = run; m; m &= m - 1) {
            int l = __builtin_ctz(m);
            uint32_t p = w->pc[l];
            if (p < best)
                best = p, mask = 1u << l;
            else if (p == best)
                mask |= 1u << l;
        }
    }
    if (mask == run) {
        w->uniform = 1;
        w->upc = best;
    }
    *pcout = best;
    return mask;
}

/* Lanes of `mask` whose guard predicate holds (predicates are 0/1 per lane). */
static uint32_t guard_mask(ex_warp *w, const ir_insn *in, uint32_t mask)
{
    const uint64_t *p = w->R + ((size_t)w->b->reg_base[in->func] + (size_t)in->guard) * 32;
    uint32_t bits = 0;
#ifdef __SSE2__
    for (int l = 0; l < 32; l += 2) {
        __m128i v = _mm_slli_epi64(_mm_loadu_si128((const __m128i *)(p + l)), 63);
        bits |= (uint32_t)_mm_movemask_pd(_mm_castsi128_pd(v)) << l;
    }
#else
    for (int l = 0; l < 32; l++)
        bits |= (uint32_t)(p[l] & 1) << l;
#endif
    return mask & (in->guard_neg ? ~bits : bits);
}

static int exec_one(ex_warp *w, const ir_insn *in, uint32_t act)
{
    switch (in->op) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_MAD:
    case OP_FMA:
    case OP_DIV:
    case OP_ABS:
    case OP_NEG:
    case OP_MIN:
    case OP_MAX:
    case OP_RCP:
    case OP_SQRT:
    case OP_RSQRT:
    case OP_SIN:
    case OP_COS:
    case OP_LG2:
    case OP_EX2:
    case OP_TANH:
    case OP_TESTP:
    case OP_COPYSIGN:
        if (ir_type_kind(in->type) == K_FLOAT) return ex_alu_float(w, in, act);
        return ex_alu_int(w, in, act);
    case OP_MOV:
        return ex_mov(w, in, act);
    case OP_SETP:
    case OP_SET:
    case OP_SELP:
    case OP_SLCT:
        return ex_setp(w, in, act);
    case OP_CVT:
        return ex_cvt(w, in, act);
    case OP_CP:
        if (in->mod == M_MBARRIER) return ex_mbarrier(w, in, act);
        return ex_mem(w, in, act);
    case OP_MBARRIER:
        return ex_mbarrier(w, in, act);
    case OP_WMMA:
        return ex_wmma(w, in, act);
    case OP_MMA:
    case OP_LDMATRIX:
    case OP_STMATRIX:
        return ex_mma(w, in, act);
    case OP_LD:
    case OP_LDU:
    case OP_ST:
    case OP_CVTA:
    case OP_ISSPACEP:
        return ex_mem(w, in, act);
    case OP_ATOM:
    case OP_RED:
        return ex_atom(w, in, act);
    case OP_SHFL:
    case OP_VOTE:
    case OP_MATCH:
    case OP_REDUX:
    case OP_ACTIVEMASK:
    case OP_ELECT:
        return ex_warpop(w, in, act);
    case OP_MEMBAR:
    case OP_FENCE:
        atomic_thread_fence(memory_order_seq_cst);
        return 0;
    case OP_PREFETCH:
    case OP_PREFETCHU:
    case OP_PMEVENT:
    case OP_DISCARD:
    case OP_APPLYPRIORITY:
    case OP_GRIDDEP:
        return 0;
    case OP_CREATEPOLICY: { /* a cache policy handle: nothing to encode */
        uint64_t *d = ex_dst(w, ex_regs(w, in), &in->o[0]);
        FOR_LANES(act, d[l] = 0);
        return 0;
    }
    case OP_NANOSLEEP:
        w->yield = 1;
        return 0;
    default:
        return ex_alu_int(w, in, act);
    }
}

static int is_control(unsigned op)
{
    return op == OP_BRA || op == OP_BRX || op == OP_CALL || op == OP_RET || op == OP_EXIT ||
           op == OP_BAR || op == OP_BARRIER || op == OP_TRAP || op == OP_BRKPT;
}

/* Run up to `budget` steps. Returns a status (0 while fine). */
int ex_warp_run(ex_warp *w, int budget)
{
    ex_block *b = w->b;
    const ir_insn *code = b->m->code;
    while (budget-- > 0) {
        uint32_t run = w->live & ~(w->bar_blocked | w->ws_blocked);
        if (!run) break;
        uint32_t pc, mask;
        if (w->uniform)
            pc = w->upc, mask = run;
        else
            mask = pick(w, run, &pc);
        const ir_insn *in = &code[pc];
        b->cur = in;
        uint32_t act = in->guard >= 0 ? guard_mask(w, in, mask) : mask;
        b->steps += ex_popc(act);
        if (is_control(in->op)) {
            if (ex_control(w, in, pc, mask, act)) return b->status;
            continue;
        }
        if (act && exec_one(w, in, act)) return b->status;
        if (w->uniform)
            w->upc = pc + 1;
        else
            ex_set_pc(w, mask, pc + 1);
        if (w->yield) {
            w->yield = 0;
            break;
        }
    }
    return b->status;
}
