/* exec_cvt.c — data movement and conversion: mov (incl. vector pack/unpack),
 * cvt between every integer and float type with PTX rounding and saturation,
 * setp/set with unordered compares and predicate combining, selp, slct. */
#include "exec.h"

#include <fenv.h>
#include <math.h>
#include <string.h>

int ex_fround_mode(int rnd);

static double to_double(uint64_t x, unsigned t)
{
    switch (t) {
    case T_F16:
        return ex_h2f((uint16_t)x);
    case T_BF16:
        return ex_bf2f((uint16_t)x);
    case T_F32: {
        float f;
        uint32_t u = (uint32_t)x;
        memcpy(&f, &u, 4);
        return f;
    }
    default: {
        double d;
        memcpy(&d, &x, 8);
        return d;
    }
    }
}

static uint64_t from_double(double d, unsigned t, int rnd, unsigned flags)
{
    if (flags & F_SAT) d = isnan(d) ? 0.0 : d < 0 ? 0.0 : d > 1 ? 1.0 : d;
    if ((flags & F_RELU) && !isnan(d) && d < 0) d = 0.0;
    switch (t) {
    case T_F16:
        return ex_f2h((float)d, rnd);
    case T_BF16:
        return ex_f2bf((float)d, rnd);
    case T_F32: {
        float f = (float)d;
        if ((flags & F_FTZ) && fpclassify(f) == FP_SUBNORMAL) f = copysignf(0.0f, f);
        uint32_t u;
        memcpy(&u, &f, 4);
        return u;
    }
    default: {
        uint64_t u;
        memcpy(&u, &d, 8);
        return u;
    }
    }
}

static double round_int(double d, int rnd)
{
    switch (rnd) {
    case R_RNI:
        return nearbyint(d);
    case R_RMI:
        return floor(d);
    case R_RPI:
        return ceil(d);
    default:
        return trunc(d);
    }
}

static uint64_t float_to_int(double d, unsigned dt, int rnd)
{
    unsigned bits = ir_type_bits(dt);
    int sgn = ir_type_kind(dt) == K_SINT;
    if (isnan(d)) return 0;
    d = round_int(d, rnd);
    if (sgn) {
        double lo = -ldexp(1.0, (int)bits - 1), hi = ldexp(1.0, (int)bits - 1);
        if (d < lo) return (uint64_t)(int64_t)lo & ex_wmask(bits);
        if (d >= hi) return ex_wmask(bits - 1);
        return (uint64_t)(int64_t)d & ex_wmask(bits);
    }
    if (d <= 0) return 0;
    if (d >= ldexp(1.0, (int)bits)) return ex_wmask(bits);
    return (uint64_t)d;
}

static uint64_t int_to_int(uint64_t x, unsigned dt, unsigned st, int sat)
{
    unsigned db = ir_type_bits(dt), sb = ir_type_bits(st);
    int ss = ir_type_kind(st) == K_SINT, ds = ir_type_kind(dt) == K_SINT;
    if (!sat) {
        uint64_t v = ss ? (uint64_t)ex_sext(x, sb) : x & ex_wmask(sb);
        return v & ex_wmask(db);
    }
    if (ss) {
        int64_t v = ex_sext(x, sb);
        int64_t lo = ds ? (db >= 64 ? INT64_MIN : -(1ll << (db - 1))) : 0;
        int64_t hi =
            ds ? (int64_t)ex_wmask(db - 1) : (db >= 63 ? INT64_MAX : (int64_t)ex_wmask(db));
        return (uint64_t)(v < lo ? lo : v > hi ? hi : v) & ex_wmask(db);
    }
    uint64_t v = x & ex_wmask(sb), hi = ds ? ex_wmask(db - 1) : ex_wmask(db);
    return v > hi ? hi : v;
}

static uint64_t cvt1(const ir_insn *in, uint64_t x)
{
    unsigned dt = in->type, st = in->type2;
    int df = ir_type_kind(dt) == K_FLOAT, sf = ir_type_kind(st) == K_FLOAT;
    if (!df && !sf) return int_to_int(x, dt, st, (in->flags & F_SAT) != 0);
    if (!sf) {
        unsigned sb = ir_type_bits(st);
        double d;
        if (ir_type_kind(st) == K_SINT) {
            int64_t v = ex_sext(x, sb);
            d = dt == T_F32 ? (double)(float)v : (double)v;
        } else {
            uint64_t v = x & ex_wmask(sb);
            d = dt == T_F32 ? (double)(float)v : (double)v;
        }
        return from_double(d, dt, in->rnd, in->flags);
    }
    double d = to_double(x, st);
    if ((in->flags & F_FTZ) && st == T_F32 && fpclassify(d) == FP_SUBNORMAL) d = copysign(0.0, d);
    if (!df) return float_to_int(d, dt, in->rnd);
    if (in->rnd >= R_RNI && in->rnd <= R_RPI) d = round_int(d, in->rnd);
    return from_double(d, dt, in->rnd, in->flags);
}

static float bf(uint64_t v)
{
    float f;
    uint32_t u = (uint32_t)v;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t fb(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* The conversions nvcc emits in inner loops, without the general path. */
static int fast_cvt(const ir_insn *in, uint64_t *d, const uint64_t *a, uint32_t act)
{
    unsigned dt = in->type, st = in->type2;
    if (dt == T_U64 && st == T_U32)
        FOR_LANES(act, d[l] = a[l] & 0xffffffffu);
    else if (dt == T_S64 && st == T_S32)
        FOR_LANES(act, d[l] = (uint64_t)(int64_t)(int32_t)a[l]);
    else if ((dt == T_U32 || dt == T_S32) &&
             (st == T_U64 || st == T_S64 || st == T_U32 || st == T_S32))
        FOR_LANES(act, d[l] = a[l] & 0xffffffffu);
    else if (in->rnd == R_RN && dt == T_F32 && st == T_U32)
        FOR_LANES(act, d[l] = fb((float)(uint32_t)a[l]));
    else if (in->rnd == R_RN && dt == T_F32 && st == T_S32)
        FOR_LANES(act, d[l] = fb((float)(int32_t)a[l]));
    else if (dt == T_F64 && st == T_F32)
        FOR_LANES(act, {
            double x = bf(a[l]);
            memcpy(&d[l], &x, 8);
        });
    else
        return 0;
    return 1;
}

static uint64_t sat_pack(uint64_t v, unsigned t)
{
    int64_t x = (int32_t)v;
    unsigned bits = ir_type_bits(t);
    int64_t lo = ir_type_kind(t) == K_SINT ? -(1ll << (bits - 1)) : 0;
    int64_t hi = ir_type_kind(t) == K_SINT ? (1ll << (bits - 1)) - 1 : (1ll << bits) - 1;
    return (uint64_t)(x < lo ? lo : x > hi ? hi : x) & ex_wmask(bits);
}

static float relu(float f, unsigned flags)
{
    return ((flags & F_RELU) && f < 0) ? 0.0f : f;
}

/* cvt.pack.sat (int32 pairs to narrow integers) and the fp8 pair conversions. */
static int cvt_special(ex_warp *w, const ir_insn *in, uint32_t act, uint64_t *d, const uint64_t *a)
{
    uint64_t *R = ex_regs(w, in);
    const uint64_t *b = in->nops > 2 ? ex_src(w, R, &in->o[2], 2, act) : a;
    unsigned dt = in->type, st = in->type2;
    int satf = (in->flags & F_SATF) != 0;
    if (in->flags & F_PACK) {
        const uint64_t *c = in->nops > 3 ? ex_src(w, R, &in->o[3], 3, act) : NULL;
        unsigned eb = ir_type_bits(dt);
        FOR_LANES(act, d[l] = ((c ? c[l] << (2 * eb) : 0) | sat_pack(a[l], dt) << eb |
                               sat_pack(b[l], dt)) &
                              0xffffffffu);
        return 1;
    }
    if (dt == T_E4M3X2 || dt == T_E5M2X2) {
        int e5 = dt == T_E5M2X2;
        if (st == T_F16X2)
            FOR_LANES(
                act,
                d[l] = (uint64_t)ex_f2fp8(relu(ex_h2f((uint16_t)(a[l] >> 16)), in->flags), e5, satf)
                           << 8 |
                       ex_f2fp8(relu(ex_h2f((uint16_t)a[l]), in->flags), e5, satf));
        else
            FOR_LANES(
                act,
                d[l] = (uint64_t)ex_f2fp8(relu((float)to_double(a[l], T_F32), in->flags), e5, satf)
                           << 8 |
                       ex_f2fp8(relu((float)to_double(b[l], T_F32), in->flags), e5, satf));
        return 1;
    }
    if (st == T_E4M3X2 || st == T_E5M2X2) {
        int e5 = st == T_E5M2X2;
        FOR_LANES(act,
                  d[l] = (uint64_t)ex_f2h(relu(ex_fp82f((uint8_t)(a[l] >> 8), e5), in->flags), R_RN)
                             << 16 |
                         ex_f2h(relu(ex_fp82f((uint8_t)a[l], e5), in->flags), R_RN));
        return 1;
    }
    return 0;
}

int ex_cvt(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    if (in->type >= T_E4M3 || in->type2 >= T_E4M3 || (in->flags & F_PACK))
        return cvt_special(w, in, act, d, a) ? 0 : -1;
    int mode = ex_fround_mode(in->rnd);
    if (mode != FE_TONEAREST) fesetround(mode);
    if ((in->type == T_F16X2 || in->type == T_BF16X2) && in->nops > 2) {
        const uint64_t *b = ex_src(w, R, &in->o[2], 2, act);
        ir_insn one = *in;
        one.type = in->type == T_F16X2 ? T_F16 : T_BF16;
        FOR_LANES(act, d[l] = cvt1(&one, a[l]) << 16 | cvt1(&one, b[l]));
    } else if (!(in->flags & (F_SAT | F_FTZ)) && fast_cvt(in, d, a, act)) {
    } else {
        FOR_LANES(act, d[l] = cvt1(in, a[l]));
    }
    if (mode != FE_TONEAREST) fesetround(FE_TONEAREST);
    return 0;
}

/* ---- mov ---- */

int ex_mov(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const ir_operand *dst = &in->o[0], *src = &in->o[1];
    unsigned bits = ir_type_bits(in->type);
    const ir_operand *vecs = w->b->m->vecs;
    if (dst->kind == O_VEC) { /* unpack */
        const uint64_t *a = ex_src(w, R, src, 1, act);
        unsigned eb = bits / dst->n;
        for (unsigned i = 0; i < dst->n; i++) {
            uint64_t *d = ex_dst(w, R, &vecs[dst->idx + i]);
            FOR_LANES(act, d[l] = (a[l] >> (eb * i)) & ex_wmask(eb));
        }
        return 0;
    }
    uint64_t *d = ex_dst(w, R, dst);
    if (src->kind == O_VEC) { /* pack */
        unsigned eb = bits / src->n;
        uint64_t tmp[32] = {0};
        for (unsigned i = 0; i < src->n; i++) {
            const uint64_t *a = ex_src(w, R, &vecs[src->idx + i], 1, act);
            FOR_LANES(act, tmp[l] |= (a[l] & ex_wmask(eb)) << (eb * i));
        }
        FOR_LANES(act, d[l] = tmp[l]);
        return 0;
    }
    const uint64_t *a = ex_src(w, R, src, 1, act);
    uint64_t wm = in->type == T_PRED ? 1 : ex_wmask(bits ? bits : 64);
    FOR_LANES(act, d[l] = a[l] & wm);
    return 0;
}

/* ---- compares and selects ---- */

static int cmp_float(double a, double b, unsigned op)
{
    int un = isnan(a) || isnan(b);
    switch (op) {
    case M_EQ:
        return !un && a == b;
    case M_NE:
        return !un && a != b;
    case M_LT:
        return !un && a < b;
    case M_LE:
        return !un && a <= b;
    case M_GT:
        return !un && a > b;
    case M_GE:
        return !un && a >= b;
    case M_EQU:
        return un || a == b;
    case M_NEU:
        return un || a != b;
    case M_LTU:
        return un || a < b;
    case M_LEU:
        return un || a <= b;
    case M_GTU:
        return un || a > b;
    case M_GEU:
        return un || a >= b;
    case M_NUM:
        return !un;
    case M_NAN:
        return un;
    default:
        return 0;
    }
}

static int cmp_int(uint64_t x, uint64_t y, unsigned t, unsigned op)
{
    unsigned bits = t == T_PRED ? 1 : ir_type_bits(t);
    if (ir_type_kind(t) == K_SINT && op != M_LO && op != M_LS && op != M_HI && op != M_HS) {
        int64_t a = ex_sext(x, bits), b = ex_sext(y, bits);
        switch (op) {
        case M_EQ:
            return a == b;
        case M_NE:
            return a != b;
        case M_LT:
            return a < b;
        case M_LE:
            return a <= b;
        case M_GT:
            return a > b;
        case M_GE:
            return a >= b;
        default:
            return 0;
        }
    }
    uint64_t a = x & ex_wmask(bits), b = y & ex_wmask(bits);
    switch (op) {
    case M_EQ:
        return a == b;
    case M_NE:
        return a != b;
    case M_LT:
    case M_LO:
        return a < b;
    case M_LE:
    case M_LS:
        return a <= b;
    case M_GT:
    case M_HI:
        return a > b;
    case M_GE:
    case M_HS:
        return a >= b;
    default:
        return 0;
    }
}

static int compare(const ir_insn *in, unsigned t, uint64_t a, uint64_t b)
{
    if (ir_type_kind(t) == K_FLOAT) {
        unsigned et = t == T_F16X2 ? T_F16 : t == T_BF16X2 ? T_BF16 : t;
        double x = to_double(a, et), y = to_double(b, et);
        if ((in->flags & F_FTZ) && fpclassify(x) == FP_SUBNORMAL) x = 0;
        if ((in->flags & F_FTZ) && fpclassify(y) == FP_SUBNORMAL) y = 0;
        return cmp_float(x, y, in->mod);
    }
    return cmp_int(a, b, t, in->mod);
}

static int combine(unsigned bop, int x, int c)
{
    switch (bop) {
    case M_AND:
        return x && c;
    case M_OR:
        return x || c;
    case M_XOR:
        return x ^ c;
    default:
        return x;
    }
}

static int do_setp(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    uint64_t *p = ex_dst(w, R, &in->o[0]);
    uint64_t *q = in->o[1].kind == O_REG ? ex_dst(w, R, &in->o[1]) : NULL;
    const uint64_t *a = ex_src(w, R, &in->o[2], 2, act), *b = ex_src(w, R, &in->o[3], 3, act);
    const uint64_t *c = in->nops > 4 ? ex_src(w, R, &in->o[4], 4, act) : NULL;
    if (!c && !q && (in->type == T_U32 || in->type == T_B32)) {
        switch (in->mod) {
        case M_LT:
        case M_LO:
            FOR_LANES(act, p[l] = (uint32_t)a[l] < (uint32_t)b[l]);
            return 0;
        case M_GE:
        case M_HS:
            FOR_LANES(act, p[l] = (uint32_t)a[l] >= (uint32_t)b[l]);
            return 0;
        case M_GT:
        case M_HI:
            FOR_LANES(act, p[l] = (uint32_t)a[l] > (uint32_t)b[l]);
            return 0;
        case M_NE:
            FOR_LANES(act, p[l] = (uint32_t)a[l] != (uint32_t)b[l]);
            return 0;
        case M_EQ:
            FOR_LANES(act, p[l] = (uint32_t)a[l] == (uint32_t)b[l]);
            return 0;
        default:
            break;
        }
    }
    if (!c && !q && in->type == T_F32 && !(in->flags & F_FTZ)) {
        switch (in->mod) {
        case M_LT:
            FOR_LANES(act, p[l] = bf(a[l]) < bf(b[l]));
            return 0;
        case M_GT:
            FOR_LANES(act, p[l] = bf(a[l]) > bf(b[l]));
            return 0;
        case M_LE:
            FOR_LANES(act, p[l] = bf(a[l]) <= bf(b[l]));
            return 0;
        case M_GE:
            FOR_LANES(act, p[l] = bf(a[l]) >= bf(b[l]));
            return 0;
        default:
            break;
        }
    }
    if (!c && !q && in->type == T_S32) { /* the common case */
        switch (in->mod) {
        case M_LT:
            FOR_LANES(act, p[l] = (int32_t)a[l] < (int32_t)b[l]);
            return 0;
        case M_GE:
            FOR_LANES(act, p[l] = (int32_t)a[l] >= (int32_t)b[l]);
            return 0;
        case M_GT:
            FOR_LANES(act, p[l] = (int32_t)a[l] > (int32_t)b[l]);
            return 0;
        case M_LE:
            FOR_LANES(act, p[l] = (int32_t)a[l] <= (int32_t)b[l]);
            return 0;
        case M_NE:
            FOR_LANES(act, p[l] = (uint32_t)a[l] != (uint32_t)b[l]);
            return 0;
        case M_EQ:
            FOR_LANES(act, p[l] = (uint32_t)a[l] == (uint32_t)b[l]);
            return 0;
        default:
            break;
        }
    }
    if (in->type == T_F16X2 || in->type == T_BF16X2) { /* p: low halves, q: high halves */
        unsigned et = in->type == T_F16X2 ? T_F16 : T_BF16;
        FOR_LANES(act, {
            int lo = compare(in, et, a[l] & 0xffff, b[l] & 0xffff);
            int hi = compare(in, et, (a[l] >> 16) & 0xffff, (b[l] >> 16) & 0xffff);
            int cv = c ? (int)(c[l] & 1) : 0;
            p[l] = (uint64_t)(c ? combine(in->mod2, lo, cv) : lo);
            if (q) q[l] = (uint64_t)(c ? combine(in->mod2, hi, cv) : hi);
        });
        return 0;
    }
    FOR_LANES(act, {
        int r = compare(in, in->type, a[l], b[l]);
        int cv = c ? (int)(c[l] & 1) : 0;
        uint64_t pv = (uint64_t)(c ? combine(in->mod2, r, cv) : r);
        uint64_t qv = (uint64_t)(c ? combine(in->mod2, !r, cv) : !r);
        p[l] = pv;
        if (q) q[l] = qv;
    });
    return 0;
}

static int do_set(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act), *b = ex_src(w, R, &in->o[2], 2, act);
    const uint64_t *c = in->nops > 3 ? ex_src(w, R, &in->o[3], 3, act) : NULL;
    unsigned st = in->type2 ? in->type2 : in->type;
    uint64_t one = in->type == T_F32 ? 0x3f800000u : ex_wmask(ir_type_bits(in->type));
    FOR_LANES(act, {
        int r = compare(in, st, a[l], b[l]);
        if (c) r = combine(in->mod2, r, (int)(c[l] & 1));
        d[l] = r ? one : 0;
    });
    return 0;
}

int ex_setp(ex_warp *w, const ir_insn *in, uint32_t act)
{
    if (in->op == OP_SETP) return do_setp(w, in, act);
    if (in->op == OP_SET) return do_set(w, in, act);
    uint64_t *R = ex_regs(w, in);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act), *b = ex_src(w, R, &in->o[2], 2, act);
    const uint64_t *c = ex_src(w, R, &in->o[3], 3, act);
    uint64_t wm = ex_wmask(ir_type_bits(in->type) ? ir_type_bits(in->type) : 64);
    if (in->op == OP_SELP) {
        FOR_LANES(act, d[l] = ((c[l] & 1) ? a[l] : b[l]) & wm);
    } else if (in->type2 == T_F32) {
        FOR_LANES(act, d[l] = (to_double(c[l], T_F32) >= 0 ? a[l] : b[l]) & wm);
    } else {
        FOR_LANES(act, d[l] = ((int32_t)c[l] >= 0 ? a[l] : b[l]) & wm);
    }
    return 0;
}
