/* exec_ctl.c — instructions that move lanes: branches, calls and returns with
 * per-lane stack frames in local memory, exit, traps, block barriers
 * (bar.sync/arrive/red, barrier.*) and bar.warp.sync. */
#include "exec.h"

#include <string.h>

void ex_set_pc(ex_warp *w, uint32_t mask, uint32_t pc)
{
    FOR_LANES(mask, w->pc[l] = pc);
}

/* Leave uniform mode: write the shared pc into every runnable lane. */
static void materialize(ex_warp *w)
{
    if (!w->uniform) return;
    ex_set_pc(w, w->live & ~(w->bar_blocked | w->ws_blocked), w->upc);
    w->uniform = 0;
}

void ex_unblock(ex_warp *w, uint32_t mask, int barrier)
{
    if (!mask) return;
    materialize(w);
    if (barrier)
        w->bar_blocked &= ~mask;
    else
        w->ws_blocked &= ~mask;
}

static void check_barriers(ex_block *b);

void ex_exit_lanes(ex_warp *w, uint32_t mask)
{
    if (!mask) return;
    materialize(w);
    w->live &= ~mask;
    w->b->alive -= ex_popc(mask);
    check_barriers(w->b);
}

/* Lanes `taken` go to `target`, the rest of `mask` to pc+1. */
static void branch(ex_warp *w, uint32_t pc, uint32_t mask, uint32_t taken, uint32_t target)
{
    if (w->uniform && (taken == mask || taken == 0)) {
        w->upc = taken ? target : pc + 1;
        return;
    }
    materialize(w);
    ex_set_pc(w, taken, target);
    ex_set_pc(w, mask & ~taken, pc + 1);
}

/* ---- barriers ---- */

static void release_barrier(ex_block *b, unsigned id)
{
    const ir_insn *red = b->bar_red_insn[id];
    for (unsigned i = 0; i < b->nwarps; i++) {
        ex_warp *w = &b->warps[i];
        uint32_t m = b->bar_wait[id * b->nwarps + i];
        if (!m) continue;
        if (red) {
            uint64_t *d = ex_dst(w, ex_regs(w, red), &red->o[0]);
            uint64_t v = red->mod2 == M_POPC
                             ? b->bar_red[id]
                             : (red->mod2 == M_AND ? b->bar_red[id] == 0 : b->bar_red[id] != 0);
            FOR_LANES(m, d[l] = v);
        }
        ex_unblock(w, m, 1);
        b->bar_wait[id * b->nwarps + i] = 0;
    }
    b->bar_arrived[id] = 0;
    b->bar_red[id] = 0;
    b->bar_red_insn[id] = NULL;
}

static void check_barriers(ex_block *b)
{
    for (unsigned id = 0; id < EX_NBAR; id++)
        if (b->bar_arrived[id] && b->bar_arrived[id] >= b->alive) release_barrier(b, id);
}

static int barrier(ex_warp *w, const ir_insn *in, uint32_t pc, uint32_t mask, uint32_t act)
{
    ex_block *b = w->b;
    uint64_t *R = ex_regs(w, in);
    int arrive = in->mod == M_ARRIVE, red = in->mod == M_RED;
    unsigned first = (unsigned)__builtin_ctz(act ? act : mask);
    unsigned id = (unsigned)ex_src(w, R, &in->o[red ? 1 : 0], 1, act ? act : mask)[first];
    if (id >= EX_NBAR) {
        ex_fault(w, (int)first, PTX_ERR_ILLEGAL_INSTR, 0, "barrier id %u out of range", id);
        return 1;
    }
    unsigned ncnt = red ? 2 : 1;
    uint32_t expect = b->alive;
    if (in->nops > ncnt + (red ? 1 : 0))
        expect = (uint32_t)ex_src(w, R, &in->o[ncnt], 2, act)[first];
    branch(w, pc, mask, 0, 0); /* everyone moves past the barrier */
    if (!act) return 0;
    if (red) {
        const uint64_t *pr = ex_src(w, R, &in->o[in->nops - 1], 3, act);
        uint32_t cnt = 0;
        FOR_LANES(act, cnt += (uint32_t)(pr[l] & 1));
        if (in->mod2 == M_AND) cnt = ex_popc(act) - cnt; /* count of false */
        b->bar_red[id] += cnt;
        b->bar_red_insn[id] = in;
    }
    b->bar_arrived[id] += ex_popc(act);
    if (!arrive) {
        b->bar_wait[id * b->nwarps + w->id] |= act;
        materialize(w);
        w->bar_blocked |= act;
    }
    if (b->bar_arrived[id] >= (expect < b->alive ? expect : b->alive)) release_barrier(b, id);
    return 0;
}

static int warp_sync(ex_warp *w, const ir_insn *in, uint32_t pc, uint32_t mask, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    unsigned first = (unsigned)__builtin_ctz(act ? act : mask);
    uint32_t members = in->nops ? (uint32_t)ex_src(w, R, &in->o[0], 1, mask)[first] : 0xffffffffu;
    branch(w, pc, mask, 0, 0);
    if (!act) return 0;
    uint32_t missing = members & w->live & ~(act | w->ws_blocked);
    if (!missing) {
        ex_unblock(w, members & w->ws_blocked, 0);
        return 0;
    }
    materialize(w);
    w->ws_blocked |= act;
    return 0;
}

/* ---- calls ---- */

static uint8_t *lane_local(ex_warp *w, int l)
{
    return w->b->local + (size_t)(w->id * 32 + (unsigned)l) * w->b->lsize;
}

static int call_builtin(ex_warp *w, const ir_func *g, const ir_call *c, uint64_t *R, uint32_t act)
{
    FOR_LANES(act, {
        uint64_t a[5] = {0};
        uint8_t *loc = lane_local(w, l);
        for (uint32_t i = 0; i < c->nargs && i < 5; i++) {
            const ir_pslot *s = &c->args[i];
            if (s->where.kind == O_SYM)
                memcpy(&a[i], loc + w->fp[l] + s->where.val, s->size > 8 ? 8 : s->size);
            else
                a[i] = ex_src(w, R, &s->where, 4, 1u << l)[l];
        }
        uint64_t ret = 0;
        if (g->builtin == B_VPRINTF) {
            ret = (uint64_t)(int64_t)ex_printf(w, l, a[0], a[1]);
        } else if (g->builtin == B_ASSERTFAIL) {
            char msg[96], file[96], fn[64];
            ex_read_str(w, l, a[0], msg, sizeof msg);
            ex_read_str(w, l, a[1], file, sizeof file);
            ex_read_str(w, l, a[3], fn, sizeof fn);
            ex_fault(w, l, PTX_ERR_ASSERT, 0, "%s:%u: %s: Assertion `%s` failed.", file,
                     (unsigned)a[2], fn, msg);
            return 1;
        } else if (g->builtin == B_MALLOC) {
            ret = ptx_heap_alloc(w->b->l->heap, a[0]);
        } else if (g->builtin == B_FREE) {
            ptx_heap_free(w->b->l->heap, a[0]);
        }
        if (c->nrets && c->rets[0].where.kind == O_SYM)
            memcpy(loc + w->fp[l] + c->rets[0].where.val, &ret,
                   c->rets[0].size > 8 ? 8 : c->rets[0].size);
    });
    return 0;
}

static int call_lane(ex_warp *w, const ir_insn *in, const ir_call *c, const ir_func *g, uint32_t gi,
                     int l)
{
    ex_block *b = w->b;
    const ir_func *caller = &b->m->funcs[in->func];
    uint32_t save = (g->nregs * 8 + 15) & ~15u;
    uint64_t nfp = (uint64_t)w->fp[l] + caller->frame + EX_LINK + save;
    if (nfp + g->frame > b->lsize) {
        ex_fault(w, l, PTX_ERR_ILLEGAL_ADDRESS, 0, "stack overflow calling %s", g->name);
        return 1;
    }
    uint8_t *loc = lane_local(w, l);
    uint8_t *link = loc + nfp - save - EX_LINK;
    uint32_t lk[4] = {(uint32_t)(in - b->m->code) + 1, w->fp[l], (uint32_t)in->o[0].idx, 0};
    memcpy(link, lk, sizeof lk);
    uint64_t *Rg = w->R + (size_t)b->reg_base[gi] * 32;
    for (uint32_t r = 0; r < g->nregs; r++)
        memcpy(link + EX_LINK + r * 8, &Rg[(size_t)r * 32 + (unsigned)l], 8);
    uint64_t *R = ex_regs(w, in);
    for (uint32_t i = 0; i < c->nargs && i < g->nparams; i++) {
        const ir_pslot *s = &c->args[i], *d = &g->params[i];
        uint32_t n = s->size < d->size ? s->size : d->size;
        if (s->where.kind == O_SYM)
            memmove(loc + nfp + d->where.val, loc + w->fp[l] + s->where.val, n);
        else
            memcpy(loc + nfp + d->where.val, &ex_src(w, R, &s->where, 4, 1u << l)[l],
                   n > 8 ? 8 : n);
    }
    w->fp[l] = (uint32_t)nfp;
    if (w->depth[l] < EX_MAXCS) w->cs[l][w->depth[l]] = lk[0] - 1;
    if (w->depth[l]++ == 0) w->incall++;
    w->pc[l] = g->start;
    return 0;
}

static int do_call(ex_warp *w, const ir_insn *in, uint32_t pc, uint32_t mask, uint32_t act)
{
    ex_block *b = w->b;
    const ir_call *c = &b->m->calls[in->o[0].idx];
    uint64_t *R = ex_regs(w, in);
    materialize(w);
    ex_set_pc(w, mask & ~act, pc + 1);
    const uint64_t *tv = c->target < 0 ? ex_src(w, R, &in->o[1], 1, act) : NULL;
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        uint64_t gi = c->target >= 0 ? (uint64_t)c->target : tv[l] - IR_WIN_FUNC;
        if (gi >= b->m->nfuncs || b->reg_base[gi] == UINT32_MAX) {
            ex_fault(w, l, PTX_ERR_ILLEGAL_ADDRESS, (uintptr_t)(tv ? tv[l] : 0),
                     "call through a bad function pointer");
            return 1;
        }
        const ir_func *g = &b->m->funcs[gi];
        if (g->builtin) {
            if (call_builtin(w, g, c, R, 1u << l)) return 1;
            w->pc[l] = pc + 1;
        } else if (g->start == g->end) {
            ex_fault(w, l, PTX_ERR_ILLEGAL_INSTR, 0, "call to undefined function %s", g->name);
            return 1;
        } else if (call_lane(w, in, c, g, (uint32_t)gi, l)) {
            return 1;
        }
    }
    return 0;
}

static int ret_lane(ex_warp *w, const ir_insn *in, int l)
{
    ex_block *b = w->b;
    const ir_func *g = &b->m->funcs[in->func];
    uint32_t save = (g->nregs * 8 + 15) & ~15u;
    uint8_t *loc = lane_local(w, l);
    uint8_t *link = loc + w->fp[l] - save - EX_LINK;
    uint32_t lk[4];
    memcpy(lk, link, sizeof lk);
    /* the link lives in local memory the kernel can write: trust nothing in it */
    if (lk[0] == 0 || lk[0] >= b->m->ncode || lk[2] >= b->m->ncalls || lk[1] >= w->fp[l] ||
        b->m->code[lk[0] - 1].op != OP_CALL) {
        ex_fault(w, l, PTX_ERR_ILLEGAL_ADDRESS, 0,
                 "return address in local memory was overwritten");
        return 1;
    }
    const ir_call *c = &b->m->calls[lk[2]];
    for (uint32_t i = 0; i < c->nrets && i < g->nrets; i++) {
        const ir_pslot *d = &c->rets[i], *s = &g->rets[i];
        uint32_t n = s->size < d->size ? s->size : d->size;
        if (d->where.kind == O_SYM)
            memmove(loc + lk[1] + d->where.val, loc + w->fp[l] + s->where.val, n);
    }
    uint64_t *Rg = ex_regs(w, in);
    for (uint32_t r = 0; r < g->nregs; r++)
        memcpy(&Rg[(size_t)r * 32 + (unsigned)l], link + EX_LINK + r * 8, 8);
    w->fp[l] = lk[1];
    if (--w->depth[l] == 0) w->incall--;
    w->pc[l] = lk[0];
    return 0;
}

static int do_ret(ex_warp *w, const ir_insn *in, uint32_t pc, uint32_t mask, uint32_t act)
{
    materialize(w);
    ex_set_pc(w, mask & ~act, pc + 1);
    uint32_t exiting = 0;
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        if (w->depth[l] == 0)
            exiting |= 1u << l;
        else if (ret_lane(w, in, l))
            return 1;
    }
    ex_exit_lanes(w, exiting);
    return 0;
}

static int do_brx(ex_warp *w, const ir_insn *in, uint32_t pc, uint32_t mask, uint32_t act)
{
    const uint64_t *idx = ex_src(w, ex_regs(w, in), &in->o[0], 1, act);
    materialize(w);
    ex_set_pc(w, mask & ~act, pc + 1);
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        uint64_t i = idx[l] & 0xffffffffu;
        if (i >= (uint64_t)in->o[1].val) {
            ex_fault(w, l, PTX_ERR_ILLEGAL_INSTR, 0, "brx.idx index %llu out of range",
                     (unsigned long long)i);
            return 1;
        }
        w->pc[l] = w->b->m->brx_tab[in->o[1].idx + i];
    }
    return 0;
}

int ex_control(ex_warp *w, const ir_insn *in, uint32_t pc, uint32_t mask, uint32_t act)
{
    switch (in->op) {
    case OP_BRA:
        branch(w, pc, mask, act, (uint32_t)in->o[0].val);
        return 0;
    case OP_BRX:
        return do_brx(w, in, pc, mask, act);
    case OP_CALL:
        return do_call(w, in, pc, mask, act);
    case OP_RET:
        return do_ret(w, in, pc, mask, act);
    case OP_EXIT:
        branch(w, pc, mask, 0, 0);
        ex_exit_lanes(w, act);
        return 0;
    case OP_TRAP:
    case OP_BRKPT:
        if (!act) {
            branch(w, pc, mask, 0, 0);
            return 0;
        }
        ex_fault(w, __builtin_ctz(act), PTX_ERR_TRAP, 0, "%s executed",
                 in->op == OP_TRAP ? "trap" : "brkpt");
        return 1;
    case OP_BAR:
    case OP_BARRIER:
        if (in->mod == M_WARP) return warp_sync(w, in, pc, mask, act);
        return barrier(w, in, pc, mask, act);
    default:
        return 0;
    }
}
