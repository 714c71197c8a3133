/* exec_mbar.c — mbarrier objects (cuda::barrier, cuda::pipeline, TMA-style
 * transaction counts): a 64-bit word in shared memory holding the pending
 * arrivals, the expected count, a transaction count and the phase bit. */
#include "exec.h"

#include <string.h>

#define MB_CNT_BITS 20
#define MB_CNT_MASK ((1ull << MB_CNT_BITS) - 1)
#define MB_TX_SHIFT 40
#define MB_TX_MASK ((1ull << 22) - 1)
#define MB_PHASE (1ull << 63)

static uint64_t mb_pending(uint64_t s)
{
    return s & MB_CNT_MASK;
}
static uint64_t mb_expected(uint64_t s)
{
    return (s >> MB_CNT_BITS) & MB_CNT_MASK;
}
static int64_t mb_tx(uint64_t s)
{
    return ex_sext((s >> MB_TX_SHIFT) & MB_TX_MASK, 22);
}

static uint64_t mb_make(uint64_t pending, uint64_t expected, int64_t tx, uint64_t phase)
{
    return (pending & MB_CNT_MASK) | (expected & MB_CNT_MASK) << MB_CNT_BITS |
           ((uint64_t)tx & MB_TX_MASK) << MB_TX_SHIFT | (phase & MB_PHASE);
}

/* Apply arrivals / transaction changes; completes the phase when both reach zero. */
static uint64_t mb_update(uint64_t s, uint64_t arrivals, int64_t dtx, int drop, int nocomplete)
{
    uint64_t pending = mb_pending(s), expected = mb_expected(s), phase = s & MB_PHASE;
    int64_t tx = mb_tx(s) + dtx;
    pending = arrivals > pending ? 0 : pending - arrivals;
    if (drop) expected = arrivals > expected ? 0 : expected - arrivals;
    if (pending == 0 && tx == 0 && !nocomplete) {
        phase ^= MB_PHASE;
        pending = expected;
    }
    return mb_make(pending, expected, tx, phase);
}

static uint64_t *mb_word(ex_warp *w, const ir_insn *in, const ir_operand *ao, const uint64_t *R,
                         int l)
{
    uint64_t a = ao->abase == A_REG ? R[(size_t)ao->idx * 32 + (unsigned)l] + (uint64_t)ao->val
                 : ao->abase == A_DYNSMEM ? w->b->dyn_base + (uint64_t)ao->val
                                          : (uint64_t)ao->val;
    return ex_translate(w, in->space ? in->space : S_GENERIC, a, 8, l, 1);
}

/* Old state (for the arrive token). */
static uint64_t mb_rmw(uint64_t *p, uint64_t arrivals, int64_t dtx, int drop, int nocomplete)
{
    uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(p, &old, mb_update(old, arrivals, dtx, drop, nocomplete), 1,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
    return old;
}

static int mb_lane(ex_warp *w, const ir_insn *in, uint64_t *R, int l, uint64_t *d)
{
    int addr_slot = (in->mod == M_INIT || in->mod == M_INVAL || in->mod == M_EXPECT_TX ||
                     in->mod == M_COMPLETE_TX)
                        ? 0
                        : 1;
    if (in->mod == M_PENDING) {
        uint64_t st = ex_src(w, R, &in->o[1], 1, 1u << l)[l];
        d[l] = mb_pending(st);
        return 0;
    }
    uint64_t *p = mb_word(w, in, &in->o[addr_slot], R, l);
    if (!p) return 1;
    uint64_t v = in->nops > addr_slot + 1 ? ex_src(w, R, &in->o[addr_slot + 1], 2, 1u << l)[l] : 1;
    switch (in->mod) {
    case M_INIT:
        __atomic_store_n(p, mb_make(v, v, 0, 0), __ATOMIC_SEQ_CST);
        break;
    case M_INVAL:
        __atomic_store_n(p, 0, __ATOMIC_SEQ_CST);
        break;
    case M_EXPECT_TX:
        mb_rmw(p, 0, (int64_t)(uint32_t)v, 0, 1);
        break;
    case M_COMPLETE_TX:
        mb_rmw(p, 0, -(int64_t)(uint32_t)v, 0, 0);
        break;
    case M_ARRIVE:
    case M_ARRIVE_DROP: {
        int64_t tx = in->mod2 == M_EXPECT_TX ? (int64_t)(uint32_t)v : 0;
        uint64_t n = in->mod2 == M_EXPECT_TX ? 1 : v;
        uint64_t old = mb_rmw(p, n, tx, in->mod == M_ARRIVE_DROP, (in->flags & F_NOCOMPLETE) != 0);
        d[l] = old & MB_PHASE;
        break;
    }
    default: { /* test_wait / try_wait: has the phase named by the token (or parity) completed? */
        uint64_t cur = __atomic_load_n(p, __ATOMIC_SEQ_CST) & MB_PHASE;
        uint64_t want = (in->flags & F_PARITY) ? ((v & 1) ? MB_PHASE : 0) : (v & MB_PHASE);
        d[l] = cur != want;
        if (!d[l]) w->yield = 1; /* let the threads that will arrive run */
        break;
    }
    }
    return 0;
}

int ex_mbarrier(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    if (in->op == OP_CP) { /* cp.async.mbarrier.arrive: the copies are already done */
        if (!(in->flags & F_NOINC)) return 0; /* increment then arrive: no net change */
        for (uint32_t m = act; m; m &= m - 1) {
            int l = __builtin_ctz(m);
            uint64_t *p = mb_word(w, in, &in->o[0], R, l);
            if (!p) return 1;
            mb_rmw(p, 1, 0, 0, 0);
        }
        return 0;
    }
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    for (uint32_t m = act; m; m &= m - 1)
        if (mb_lane(w, in, R, __builtin_ctz(m), d)) return 1;
    return 0;
}
