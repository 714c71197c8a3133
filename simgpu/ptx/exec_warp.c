/* exec_warp.c — warp-wide collectives over the lanes executing together:
 * shfl.sync (up/down/bfly/idx with clamp and segment mask), vote.sync,
 * match.sync, redux.sync, activemask and elect.sync. */
#include "exec.h"

#include <string.h>

static int shfl(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    uint64_t src[32];
    memcpy(src, ex_src(w, R, &in->o[2], 2, act), sizeof src);
    const uint64_t *b = ex_src(w, R, &in->o[3], 3, act), *c = ex_src(w, R, &in->o[4], 4, act);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    uint64_t *p = in->o[1].kind == O_REG ? ex_dst(w, R, &in->o[1]) : NULL;
    FOR_LANES(act, {
        int lane = l, bv = (int)(b[l] & 31), cv = (int)(c[l] & 31), seg = (int)((c[l] >> 8) & 31);
        int maxl = (lane & seg) | (cv & ~seg), minl = lane & seg, j, ok;
        switch (in->mod) {
        case M_UP:
            j = lane - bv;
            ok = j >= maxl;
            break;
        case M_DOWN:
            j = lane + bv;
            ok = j <= maxl;
            break;
        case M_BFLY:
            j = lane ^ bv;
            ok = j <= maxl;
            break;
        default:
            j = minl | (bv & ~seg);
            ok = j <= maxl;
            break;
        }
        if (!ok || j < 0 || j > 31) j = lane;
        d[l] = src[j] & 0xffffffffu;
        if (p) p[l] = (uint64_t)ok;
    });
    return 0;
}

/* Member lanes of each lane: its membermask operand (absent: all) within the
 * lanes executing together. Tiles of one warp pass different masks. */
static void members(ex_warp *w, uint64_t *R, const ir_insn *in, unsigned slot, uint32_t act,
                    uint32_t *mm)
{
    if (in->nops <= slot) {
        FOR_LANES(act, mm[l] = act);
        return;
    }
    const uint64_t *m = ex_src(w, R, &in->o[slot], 5, act);
    FOR_LANES(act, mm[l] = ((uint32_t)m[l] & act) | (1u << l));
}

static int vote(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    uint32_t ballot = 0, mm[32];
    members(w, R, in, 2, act, mm);
    FOR_LANES(act, ballot |= (uint32_t)(a[l] & 1) << l);
    FOR_LANES(act, {
        uint32_t g = mm[l], bl = ballot & g;
        switch (in->mod) {
        case M_ALL:
            d[l] = bl == g;
            break;
        case M_ANY:
            d[l] = bl != 0;
            break;
        case M_UNI:
            d[l] = bl == g || bl == 0;
            break;
        default:
            d[l] = bl;
            break;
        }
    });
    return 0;
}

static int match(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const uint64_t *a = ex_src(w, R, &in->o[2], 2, act);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    uint64_t *p = in->o[1].kind == O_REG ? ex_dst(w, R, &in->o[1]) : NULL;
    uint64_t wm = ex_wmask(ir_type_bits(in->type));
    uint32_t same[32] = {0}, mm[32];
    members(w, R, in, 3, act, mm);
    FOR_LANES(act, {
        for (uint32_t m2 = mm[l]; m2; m2 &= m2 - 1) {
            int k = __builtin_ctz(m2);
            if ((a[k] & wm) == (a[l] & wm)) same[l] |= 1u << k;
        }
    });
    FOR_LANES(act, {
        int all = same[l] == mm[l];
        d[l] = in->mod == M_ALL ? (all ? mm[l] : 0) : same[l];
        if (p) p[l] = (uint64_t)all;
    });
    return 0;
}

static uint64_t redux1(const ir_insn *in, const uint64_t *a, uint32_t g)
{
    int sgn = ir_type_kind(in->type) == K_SINT;
    uint64_t acc = a[__builtin_ctz(g)] & 0xffffffffu;
    for (uint32_t m = g & (g - 1); m; m &= m - 1) {
        uint64_t v = a[__builtin_ctz(m)] & 0xffffffffu;
        switch (in->mod) {
        case M_ADD:
            acc = (acc + v) & 0xffffffffu;
            break;
        case M_AND:
            acc &= v;
            break;
        case M_OR:
            acc |= v;
            break;
        case M_XOR:
            acc ^= v;
            break;
        case M_MIN:
            acc = (sgn ? (int32_t)v < (int32_t)acc : v < acc) ? v : acc;
            break;
        case M_MAX:
            acc = (sgn ? (int32_t)v > (int32_t)acc : v > acc) ? v : acc;
            break;
        default:
            break;
        }
    }
    return acc;
}

static int redux(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    uint32_t mm[32];
    members(w, R, in, 2, act, mm);
    uint64_t res[32];
    FOR_LANES(act, res[l] = (l > 0 && (act >> (l - 1) & 1) && mm[l] == mm[l - 1])
                                ? res[l - 1]
                                : redux1(in, a, mm[l]));
    FOR_LANES(act, d[l] = res[l]);
    return 0;
}

int ex_warpop(ex_warp *w, const ir_insn *in, uint32_t act)
{
    switch (in->op) {
    case OP_SHFL:
        return shfl(w, in, act);
    case OP_VOTE:
        return vote(w, in, act);
    case OP_MATCH:
        return match(w, in, act);
    case OP_REDUX:
        return redux(w, in, act);
    case OP_ACTIVEMASK: {
        uint64_t *d = ex_dst(w, ex_regs(w, in), &in->o[0]);
        FOR_LANES(act, d[l] = act);
        return 0;
    }
    default: { /* elect.sync d|p, membermask */
        uint64_t *R = ex_regs(w, in);
        uint32_t members = (uint32_t)ex_src(w, R, &in->o[2], 2, act)[__builtin_ctz(act)] & act;
        int leader = members ? __builtin_ctz(members) : __builtin_ctz(act);
        uint64_t *d = ex_dst(w, R, &in->o[0]);
        uint64_t *p = in->o[1].kind == O_REG ? ex_dst(w, R, &in->o[1]) : NULL;
        FOR_LANES(act, {
            d[l] = (uint64_t)leader;
            if (p) p[l] = l == leader;
        });
        return 0;
    }
    }
}
