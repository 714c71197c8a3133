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
        case M_UP: j = lane - bv; ok = j >= maxl; break;
        case M_DOWN: j = lane + bv; ok = j <= maxl; break;
        case M_BFLY: j = lane ^ bv; ok = j <= maxl; break;
        default: j = minl | (bv & ~seg); ok = j <= maxl; break;
        }
        if (!ok || j < 0 || j > 31) j = lane;
        d[l] = src[j] & 0xffffffffu;
        if (p) p[l] = (uint64_t)ok;
    });
    return 0;
}

static int vote(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    uint32_t ballot = 0;
    FOR_LANES(act, ballot |= (uint32_t)(a[l] & 1) << l);
    uint64_t r;
    switch (in->mod) {
    case M_ALL: r = ballot == act; break;
    case M_ANY: r = ballot != 0; break;
    case M_UNI: r = ballot == act || ballot == 0; break;
    default: r = ballot; break;
    }
    FOR_LANES(act, d[l] = r);
    return 0;
}

static int match(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const uint64_t *a = ex_src(w, R, &in->o[2], 2, act);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    uint64_t *p = in->o[1].kind == O_REG ? ex_dst(w, R, &in->o[1]) : NULL;
    uint64_t wm = ex_wmask(ir_type_bits(in->type));
    uint32_t same[32] = {0};
    FOR_LANES(act, {
        for (uint32_t m2 = act; m2; m2 &= m2 - 1) {
            int k = __builtin_ctz(m2);
            if ((a[k] & wm) == (a[l] & wm)) same[l] |= 1u << k;
        }
    });
    int all = same[__builtin_ctz(act)] == act;
    FOR_LANES(act, {
        d[l] = in->mod == M_ALL ? (all ? act : 0) : same[l];
        if (p) p[l] = (uint64_t)all;
    });
    return 0;
}

static int redux(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    int sgn = ir_type_kind(in->type) == K_SINT;
    int first = __builtin_ctz(act);
    uint64_t acc = a[first] & 0xffffffffu;
    for (uint32_t m = act & (act - 1); m; m &= m - 1) {
        int l = __builtin_ctz(m);
        uint64_t v = a[l] & 0xffffffffu;
        switch (in->mod) {
        case M_ADD: acc = (acc + v) & 0xffffffffu; break;
        case M_AND: acc &= v; break;
        case M_OR: acc |= v; break;
        case M_XOR: acc ^= v; break;
        case M_MIN: acc = (sgn ? (int32_t)v < (int32_t)acc : v < acc) ? v : acc; break;
        case M_MAX: acc = (sgn ? (int32_t)v > (int32_t)acc : v > acc) ? v : acc; break;
        default: break;
        }
    }
    FOR_LANES(act, d[l] = acc);
    return 0;
}

int ex_warpop(ex_warp *w, const ir_insn *in, uint32_t act)
{
    switch (in->op) {
    case OP_SHFL: return shfl(w, in, act);
    case OP_VOTE: return vote(w, in, act);
    case OP_MATCH: return match(w, in, act);
    case OP_REDUX: return redux(w, in, act);
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
