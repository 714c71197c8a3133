/* exec_int.c — integer and bit instructions: add/sub/mul/mad (lo, hi, wide,
 * 24-bit, carry chains), div/rem with PTX's divide-by-zero results, min/max,
 * shifts with clamping, bit-field and permute ops, lop3, dp4a/dp2a. */
#include "exec.h"

typedef struct iops {
    uint64_t *d;
    const uint64_t *a, *b, *c, *e;
    unsigned bits;
    int sgn;
    uint64_t wm;
} iops;

static uint64_t mulhi(uint64_t a, uint64_t b, unsigned bits, int sgn)
{
    if (bits == 64) {
        if (sgn) return (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64);
        return (uint64_t)(((unsigned __int128)a * b) >> 64);
    }
    if (sgn) return (uint64_t)((ex_sext(a, bits) * ex_sext(b, bits)) >> bits) & ex_wmask(bits);
    return ((a & ex_wmask(bits)) * (b & ex_wmask(bits)) >> bits) & ex_wmask(bits);
}

static uint64_t mulwide(uint64_t a, uint64_t b, unsigned bits, int sgn)
{
    /* unsigned arithmetic: the low 2*bits bits of the signed product, without UB */
    if (sgn) return ((uint64_t)ex_sext(a, bits) * (uint64_t)ex_sext(b, bits)) & ex_wmask(bits * 2);
    return (a & ex_wmask(bits)) * (b & ex_wmask(bits));
}

static uint64_t idiv(uint64_t a, uint64_t b, const iops *o, int rem)
{
    if (o->sgn) {
        int64_t x = ex_sext(a, o->bits), y = ex_sext(b, o->bits);
        if (y == 0) return rem ? a & o->wm : o->wm;
        if (y == -1)
            return rem ? 0 : (uint64_t)(-(uint64_t)x) & o->wm; /* avoids INT_MIN / -1 trap */
        return (uint64_t)(rem ? x % y : x / y) & o->wm;
    }
    uint64_t x = a & o->wm, y = b & o->wm;
    if (y == 0) return rem ? x : o->wm;
    return rem ? x % y : x / y;
}

static uint64_t imin(uint64_t a, uint64_t b, const iops *o, int max)
{
    if (o->sgn) {
        int64_t x = ex_sext(a, o->bits), y = ex_sext(b, o->bits);
        return (uint64_t)((max ? (x > y) : (x < y)) ? x : y) & o->wm;
    }
    uint64_t x = a & o->wm, y = b & o->wm;
    return (max ? (x > y) : (x < y)) ? x : y;
}

static uint64_t bfe(uint64_t a, uint64_t b, uint64_t c, const iops *o)
{
    unsigned msb = o->bits - 1, pos = (unsigned)(b & 0xff), len = (unsigned)(c & 0xff);
    if (len == 0) return 0;
    unsigned top = pos + len - 1 < msb ? pos + len - 1 : msb;
    uint64_t sbit = o->sgn ? (a >> top) & 1 : 0;
    uint64_t v = pos > msb ? 0 : (a & o->wm) >> pos;
    unsigned got = pos > msb ? 0 : (len < o->bits - pos ? len : o->bits - pos);
    if (got < 64) v &= (1ull << got) - 1;
    if (sbit && got < 64) v |= ~0ull << got;
    return v & o->wm;
}

static uint64_t bfi(uint64_t f, uint64_t base, uint64_t c, uint64_t e, const iops *o)
{
    unsigned pos = (unsigned)(c & 0xff), len = (unsigned)(e & 0xff);
    uint64_t d = base & o->wm;
    for (unsigned i = 0; i < len && pos + i < o->bits; i++)
        d = (d & ~(1ull << (pos + i))) | (((f >> i) & 1) << (pos + i));
    return d;
}

static uint32_t prmt(uint32_t a, uint32_t b, uint32_t c, unsigned mode)
{
    uint64_t x = (uint64_t)b << 32 | a;
    uint8_t by[8];
    for (int i = 0; i < 8; i++)
        by[i] = (uint8_t)(x >> (8 * i));
    unsigned s = c & 3, sel[4];
    switch (mode) {
    case M_F4E:
        for (int i = 0; i < 4; i++)
            sel[i] = (s + (unsigned)i) & 7;
        break;
    case M_B4E:
        for (int i = 0; i < 4; i++)
            sel[i] = (s + 8 - (unsigned)i) & 7;
        break;
    case M_RC8:
        for (int i = 0; i < 4; i++)
            sel[i] = s;
        break;
    case M_ECL:
        for (int i = 0; i < 4; i++)
            sel[i] = (unsigned)i < s ? s : (unsigned)i;
        break;
    case M_ECR:
        for (int i = 0; i < 4; i++)
            sel[i] = (unsigned)i > s ? s : (unsigned)i;
        break;
    case M_RC16:
        sel[0] = (s & 1) * 2, sel[1] = sel[0] + 1, sel[2] = sel[0], sel[3] = sel[1];
        break;
    default: {
        uint32_t r = 0;
        for (int i = 0; i < 4; i++) {
            unsigned n = (c >> (4 * i)) & 15;
            uint8_t v = by[n & 7];
            if (n & 8) v = (v & 0x80) ? 0xff : 0;
            r |= (uint32_t)v << (8 * i);
        }
        return r;
    }
    }
    uint32_t r = 0;
    for (int i = 0; i < 4; i++)
        r |= (uint32_t)by[sel[i]] << (8 * i);
    return r;
}

static uint64_t lop3(uint64_t a, uint64_t b, uint64_t c, unsigned lut)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 8; i++)
        if (lut >> i & 1) r |= ((i & 4) ? a : ~a) & ((i & 2) ? b : ~b) & ((i & 1) ? c : ~c);
    return r;
}

static uint64_t shf(uint64_t lo, uint64_t hi, uint64_t c, unsigned flags, int left)
{
    unsigned n = (flags & F_WRAP) ? (unsigned)(c & 31) : (c > 32 ? 32 : (unsigned)c);
    uint64_t x = (hi & 0xffffffffu) << 32 | (lo & 0xffffffffu);
    if (left) return n == 0 ? (hi & 0xffffffffu) : (uint32_t)((x << n) >> 32);
    return (uint32_t)(x >> n);
}

static uint64_t shift(uint64_t a, uint64_t b, const iops *o, int left)
{
    uint64_t n = b & 0xffffffffu;
    if (left) return n >= o->bits ? 0 : (a << n) & o->wm;
    if (o->sgn) {
        int64_t x = ex_sext(a, o->bits);
        return (uint64_t)(n >= o->bits ? (x < 0 ? -1 : 0) : x >> n) & o->wm;
    }
    return n >= o->bits ? 0 : (a & o->wm) >> n;
}

static uint64_t bfind(uint64_t a, const iops *o, int shiftamt)
{
    uint64_t v = a & o->wm;
    if (o->sgn && ex_sext(a, o->bits) < 0) v = ~v & o->wm;
    if (!v) return 0xffffffffu;
    unsigned pos = 63 - (unsigned)__builtin_clzll(v);
    return shiftamt ? o->bits - 1 - pos : pos;
}

static uint64_t brev(uint64_t a, unsigned bits)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < bits; i++)
        r |= ((a >> i) & 1) << (bits - 1 - i);
    return r;
}

static uint64_t dp(uint64_t a, uint64_t b, uint64_t c, const ir_insn *in, int four)
{
    int sa = ir_type_kind(in->type) == K_SINT,
        sb = ir_type_kind(in->type2 ? in->type2 : in->type) == K_SINT;
    int64_t acc = (int64_t)(int32_t)c;
    if (four) {
        for (int i = 0; i < 4; i++) {
            int64_t x = sa ? (int8_t)(a >> (8 * i)) : (uint8_t)(a >> (8 * i));
            int64_t y = sb ? (int8_t)(b >> (8 * i)) : (uint8_t)(b >> (8 * i));
            acc += x * y;
        }
    } else {
        int k = (in->flags & F_HI) ? 2 : 0;
        for (int i = 0; i < 2; i++) {
            int64_t x = sa ? (int16_t)(a >> (16 * i)) : (uint16_t)(a >> (16 * i));
            int64_t y = sb ? (int8_t)(b >> (8 * (k + i))) : (uint8_t)(b >> (8 * (k + i)));
            acc += x * y;
        }
    }
    return (uint32_t)acc;
}

static uint64_t sat_s32(int64_t v)
{
    return (uint32_t)(v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v);
}

/* add.cc / addc / sub.cc / subc / mad.cc / madc: 32- or 64-bit carry chains. */
static void carry_ops(ex_warp *w, const ir_insn *in, const iops *o, uint32_t act)
{
    int usein = in->op == OP_ADDC || in->op == OP_SUBC || in->op == OP_MADC;
    int setout = (in->flags & F_CC) != 0;
    int sub = in->op == OP_SUB || in->op == OP_SUBC;
    int mad = in->op == OP_MAD || in->op == OP_MADC;
    FOR_LANES(act, {
        uint64_t x = o->a[l] & o->wm, y = o->b[l] & o->wm, cin = usein ? w->carry[l] : 0;
        if (mad)
            x = (in->flags & F_HI) ? mulhi(x, y, o->bits, o->sgn) : (x * y) & o->wm,
            y = o->c[l] & o->wm;
        unsigned __int128 r;
        if (sub)
            r = (unsigned __int128)x - y - cin;
        else
            r = (unsigned __int128)x + y + cin;
        o->d[l] = (uint64_t)r & o->wm;
        if (setout) w->carry[l] = (uint8_t)((r >> o->bits) & 1);
    });
}

static int arith(ex_warp *w, const ir_insn *in, const iops *o, uint32_t act)
{
    uint64_t *d = o->d, wm = o->wm;
    const uint64_t *a = o->a, *b = o->b, *c = o->c;
    unsigned bits = o->bits;
    int hi = (in->flags & F_HI) != 0, wide = (in->flags & F_WIDE) != 0;
    (void)w;
    switch (in->op) {
    case OP_ADD:
        if (in->flags & F_SAT)
            FOR_LANES(act, d[l] = sat_s32((int64_t)(int32_t)a[l] + (int32_t)b[l]));
        else
            FOR_LANES(act, d[l] = (a[l] + b[l]) & wm);
        return 0;
    case OP_SUB:
        if (in->flags & F_SAT)
            FOR_LANES(act, d[l] = sat_s32((int64_t)(int32_t)a[l] - (int32_t)b[l]));
        else
            FOR_LANES(act, d[l] = (a[l] - b[l]) & wm);
        return 0;
    case OP_MUL:
        if (wide)
            FOR_LANES(act, d[l] = mulwide(a[l], b[l], bits, o->sgn));
        else if (hi)
            FOR_LANES(act, d[l] = mulhi(a[l], b[l], bits, o->sgn));
        else
            FOR_LANES(act, d[l] = (a[l] * b[l]) & wm);
        return 0;
    case OP_MAD:
        if (wide)
            FOR_LANES(act, d[l] = (mulwide(a[l], b[l], bits, o->sgn) + c[l]) & ex_wmask(bits * 2));
        else if (hi && (in->flags & F_SAT))
            FOR_LANES(act,
                      d[l] = sat_s32((int64_t)(int32_t)mulhi(a[l], b[l], 32, 1) + (int32_t)c[l]));
        else if (hi)
            FOR_LANES(act, d[l] = (mulhi(a[l], b[l], bits, o->sgn) + c[l]) & wm);
        else
            FOR_LANES(act, d[l] = (a[l] * b[l] + c[l]) & wm);
        return 0;
    case OP_MUL24:
    case OP_MAD24:
        FOR_LANES(act, {
            int64_t p = o->sgn ? ex_sext(a[l], 24) * ex_sext(b[l], 24)
                               : (int64_t)((a[l] & 0xffffff) * (b[l] & 0xffffff));
            uint64_t r = hi ? (uint64_t)p >> 16 : (uint64_t)p;
            d[l] = (r + (in->op == OP_MAD24 ? c[l] : 0)) & 0xffffffffu;
        });
        return 0;
    case OP_SAD:
        FOR_LANES(act, {
            uint64_t x = a[l] & wm, y = b[l] & wm;
            int lt = o->sgn ? ex_sext(x, bits) < ex_sext(y, bits) : x < y;
            d[l] = (c[l] + (lt ? y - x : x - y)) & wm;
        });
        return 0;
    case OP_DIV:
        FOR_LANES(act, d[l] = idiv(a[l], b[l], o, 0));
        return 0;
    case OP_REM:
        FOR_LANES(act, d[l] = idiv(a[l], b[l], o, 1));
        return 0;
    case OP_ABS:
        FOR_LANES(act, {
            int64_t x = ex_sext(a[l], bits);
            d[l] = (uint64_t)(x < 0 ? -(uint64_t)x : (uint64_t)x) & wm;
        });
        return 0;
    case OP_NEG:
        FOR_LANES(act, d[l] = (0 - a[l]) & wm);
        return 0;
    case OP_MIN:
        FOR_LANES(act, d[l] = imin(a[l], b[l], o, 0));
        return 0;
    case OP_MAX:
        if (in->flags & F_RELU)
            FOR_LANES(act, {
                int64_t x = ex_sext(imin(a[l], b[l], o, 1), bits);
                d[l] = x < 0 ? 0 : (uint64_t)x & wm;
            });
        else
            FOR_LANES(act, d[l] = imin(a[l], b[l], o, 1));
        return 0;
    default:
        return -1;
    }
}

static int bitops(ex_warp *w, const ir_insn *in, const iops *o, uint32_t act)
{
    uint64_t *d = o->d, wm = o->wm;
    const uint64_t *a = o->a, *b = o->b, *c = o->c, *e = o->e;
    unsigned bits = o->bits;
    (void)w;
    switch (in->op) {
    case OP_AND:
        FOR_LANES(act, d[l] = a[l] & b[l] & wm);
        return 0;
    case OP_OR:
        FOR_LANES(act, d[l] = (a[l] | b[l]) & wm);
        return 0;
    case OP_XOR:
        FOR_LANES(act, d[l] = (a[l] ^ b[l]) & wm);
        return 0;
    case OP_NOT:
        if (in->type == T_PRED)
            FOR_LANES(act, d[l] = !(a[l] & 1));
        else
            FOR_LANES(act, d[l] = ~a[l] & wm);
        return 0;
    case OP_CNOT:
        FOR_LANES(act, d[l] = (a[l] & wm) == 0);
        return 0;
    case OP_SHL:
        FOR_LANES(act, d[l] = shift(a[l], b[l], o, 1));
        return 0;
    case OP_SHR:
        FOR_LANES(act, d[l] = shift(a[l], b[l], o, 0));
        return 0;
    case OP_SHF:
        FOR_LANES(act, d[l] = shf(a[l], b[l], c[l], in->flags, in->mod == M_L));
        return 0;
    case OP_POPC:
        FOR_LANES(act, d[l] = (uint64_t)__builtin_popcountll(a[l] & wm));
        return 0;
    case OP_CLZ:
        FOR_LANES(act,
                  d[l] = (a[l] & wm) ? (uint64_t)__builtin_clzll(a[l] & wm) - (64 - bits) : bits);
        return 0;
    case OP_BFIND:
        FOR_LANES(act, d[l] = bfind(a[l], o, (in->flags & F_SHIFTAMT) != 0));
        return 0;
    case OP_BREV:
        FOR_LANES(act, d[l] = brev(a[l], bits));
        return 0;
    case OP_BFE:
        FOR_LANES(act, d[l] = bfe(a[l], b[l], c[l], o));
        return 0;
    case OP_BFI:
        FOR_LANES(act, d[l] = bfi(a[l], b[l], c[l], e[l], o));
        return 0;
    case OP_PRMT:
        FOR_LANES(act, d[l] = prmt((uint32_t)a[l], (uint32_t)b[l], (uint32_t)c[l], in->mod));
        return 0;
    case OP_LOP3:
        FOR_LANES(act, d[l] = lop3(a[l], b[l], c[l], (unsigned)in->o[4].val) & wm);
        return 0;
    case OP_DP4A:
        FOR_LANES(act, d[l] = dp(a[l], b[l], c[l], in, 1));
        return 0;
    case OP_DP2A:
        FOR_LANES(act, d[l] = dp(a[l], b[l], c[l], in, 0));
        return 0;
    case OP_BMSK:
        FOR_LANES(act, {
            uint64_t pos = a[l] & 0xffffffffu, wid = b[l] & 0xffffffffu;
            if (in->flags & F_WRAP)
                pos &= 31, wid &= 31;
            else
                pos = pos > 32 ? 32 : pos, wid = wid > 32 ? 32 : wid;
            d[l] = (uint32_t)(((1ull << wid) - 1) << pos);
        });
        return 0;
    case OP_SZEXT:
        FOR_LANES(act, {
            uint64_t pos = b[l] & 0xffffffffu;
            pos = (in->flags & F_WRAP) ? pos & 31 : (pos > 32 ? 32 : pos);
            uint64_t v = a[l] & 0xffffffffu;
            if (pos == 0)
                d[l] = 0;
            else if (pos >= 32)
                d[l] = v;
            else
                d[l] = (o->sgn ? (uint64_t)ex_sext(v, (unsigned)pos) : v & ((1ull << pos) - 1)) &
                       0xffffffffu;
        });
        return 0;
    case OP_FNS:
        FOR_LANES(act, {
            uint32_t m = (uint32_t)a[l], base = (uint32_t)b[l] & 31;
            int32_t off = (int32_t)c[l], r = -1;
            if (off >= 0) {
                for (uint32_t i = base; i < 32; i++)
                    if ((m >> i & 1) && off-- == 0) {
                        r = (int32_t)i;
                        break;
                    }
            } else {
                for (int32_t i = (int32_t)base; i >= 0; i--)
                    if ((m >> i & 1) && ++off == 0) {
                        r = i;
                        break;
                    }
            }
            d[l] = (uint32_t)r;
        });
        return 0;
    default:
        return -1;
    }
}

static int ex_alu_int_scalar(ex_warp *w, const ir_insn *in, uint32_t act);

/* Scalar video instructions (no byte/half selectors):
 * vop.dtype.atype.btype{.sat}{.mode}{.op2} d, a, b{, c}. */
static int64_t video1(const ir_insn *in, uint64_t a, uint64_t b, uint64_t c, int has_c)
{
    int ds = ir_type_kind(in->type) == K_SINT, as = ir_type_kind(in->type2) == K_SINT;
    int bs = ir_type_kind(in->xt[0] ? in->xt[0] : in->type2) == K_SINT;
    int64_t ta = as ? (int32_t)a : (int64_t)(uint32_t)a,
            tb = bs ? (int32_t)b : (int64_t)(uint32_t)b, t;
    uint64_t sh = (uint32_t)b;
    sh = (in->flags & F_WRAP) ? sh & 31 : (sh > 32 ? 32 : sh);
    switch (in->op) {
    case OP_VADD:
        t = ta + tb;
        break;
    case OP_VSUB:
        t = ta - tb;
        break;
    case OP_VABSDIFF:
        t = ta > tb ? ta - tb : tb - ta;
        break;
    case OP_VMIN:
        t = ta < tb ? ta : tb;
        break;
    case OP_VMAX:
        t = ta > tb ? ta : tb;
        break;
    case OP_VSHL:
        t = sh >= 32 ? 0 : (int64_t)((uint64_t)ta << sh);
        break;
    default:
        t = sh >= 32 ? (ta < 0 ? -1 : 0) : ta >> sh;
        break;
    }
    int64_t lo = ds ? INT32_MIN : 0, hi = ds ? INT32_MAX : (int64_t)UINT32_MAX;
    if (in->flags & F_SAT) t = t < lo ? lo : t > hi ? hi : t;
    if (has_c) {
        int64_t tc = ds ? (int32_t)c : (int64_t)(uint32_t)c;
        if (!ds)
            t = (int64_t)(uint32_t)t;
        else
            t = (int32_t)t;
        if (in->mod == M_ADD)
            t += tc;
        else if (in->mod == M_MIN)
            t = t < tc ? t : tc;
        else if (in->mod == M_MAX)
            t = t > tc ? t : tc;
        if (in->flags & F_SAT) t = t < lo ? lo : t > hi ? hi : t;
    }
    return t;
}

/* SIMD video instructions vop2 / vop4 (no element selectors or masks):
 * per 16-bit / 8-bit element, then either merged (all elements selected) or
 * summed into c with .add. */
static uint64_t video_simd(const ir_insn *in, uint64_t a, uint64_t b, uint64_t c)
{
    int four = in->op >= OP_VADD4, n = four ? 4 : 2, eb = four ? 8 : 16;
    unsigned base = in->op - (four ? OP_VADD4 : OP_VADD2);
    int ds = ir_type_kind(in->type) == K_SINT, as = ir_type_kind(in->type2) == K_SINT;
    int bs = ir_type_kind(in->xt[0] ? in->xt[0] : in->type2) == K_SINT;
    int64_t lo = ds ? -(1ll << (eb - 1)) : 0, hi = ds ? (1ll << (eb - 1)) - 1 : (1ll << eb) - 1;
    uint64_t d = 0;
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        uint64_t ea = (a >> (eb * i)) & ex_wmask((unsigned)eb),
                 eb_ = (b >> (eb * i)) & ex_wmask((unsigned)eb);
        int64_t ta = as ? ex_sext(ea, (unsigned)eb) : (int64_t)ea,
                tb = bs ? ex_sext(eb_, (unsigned)eb) : (int64_t)eb_, t;
        switch (base) {
        case 0:
            t = ta + tb;
            break;
        case 1:
            t = ta - tb;
            break;
        case 2:
            t = (ta + tb + 1) >> 1;
            break;
        case 3:
            t = ta > tb ? ta - tb : tb - ta;
            break;
        case 4:
            t = ta < tb ? ta : tb;
            break;
        case 5:
            t = ta > tb ? ta : tb;
            break;
        default: {
            static const uint8_t cmp[] = {M_EQ, M_NE, M_LT, M_LE, M_GT, M_GE};
            int r = 0;
            for (unsigned k = 0; k < sizeof cmp; k++)
                if (in->mod == cmp[k])
                    r = k == 0   ? ta == tb
                        : k == 1 ? ta != tb
                        : k == 2 ? ta < tb
                        : k == 3 ? ta <= tb
                        : k == 4 ? ta > tb
                                 : ta >= tb;
            t = r;
            break;
        }
        }
        if (in->flags & F_SAT) t = t < lo ? lo : t > hi ? hi : t;
        sum += t;
        d |= ((uint64_t)t & ex_wmask((unsigned)eb)) << (eb * i);
    }
    if (in->mod == M_ADD) return (uint64_t)(sum + (int64_t)(int32_t)c) & 0xffffffffu;
    return d;
}

/* .u16x2 / .s16x2 add, sub, min, max (.relu), neg, abs: per 16-bit half. */
static uint64_t x2_int(const ir_insn *in, uint64_t a, uint64_t b)
{
    int s = in->type == T_S16X2;
    uint64_t d = 0;
    for (int h = 0; h < 2; h++) {
        int64_t x = s ? ex_sext(a >> (16 * h), 16) : (int64_t)((a >> (16 * h)) & 0xffff);
        int64_t y = s ? ex_sext(b >> (16 * h), 16) : (int64_t)((b >> (16 * h)) & 0xffff), t;
        switch (in->op) {
        case OP_ADD:
            t = x + y;
            break;
        case OP_SUB:
            t = x - y;
            break;
        case OP_MIN:
            t = x < y ? x : y;
            break;
        case OP_MAX:
            t = x > y ? x : y;
            break;
        case OP_NEG:
            t = -x;
            break;
        default:
            t = x < 0 ? -x : x;
            break;
        }
        if ((in->flags & F_RELU) && t < 0) t = 0;
        d |= ((uint64_t)t & 0xffff) << (16 * h);
    }
    return d;
}

int ex_alu_int(ex_warp *w, const ir_insn *in, uint32_t act)
{
    if ((in->op >= OP_VADD2 && in->op <= OP_VSET4) || in->type == T_U16X2 || in->type == T_S16X2) {
        uint64_t *R = ex_regs(w, in);
        uint64_t *d = ex_dst(w, R, &in->o[0]);
        const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
        const uint64_t *b = in->nops > 2 ? ex_src(w, R, &in->o[2], 2, act) : a;
        const uint64_t *c = in->nops > 3 ? ex_src(w, R, &in->o[3], 3, act) : a;
        if (in->op >= OP_VADD2)
            FOR_LANES(act, d[l] = video_simd(in, a[l], b[l], c[l]));
        else if (in->op == OP_ADD || in->op == OP_SUB || in->op == OP_MIN || in->op == OP_MAX ||
                 in->op == OP_NEG || in->op == OP_ABS)
            FOR_LANES(act, d[l] = x2_int(in, a[l], b[l]));
        else
            return ex_alu_int_scalar(w, in, act);
        return 0;
    }
    return ex_alu_int_scalar(w, in, act);
}

static int ex_alu_int_scalar(ex_warp *w, const ir_insn *in, uint32_t act)
{
    if (in->op >= OP_VADD && in->op <= OP_VSHR) {
        uint64_t *R = ex_regs(w, in);
        uint64_t *d = ex_dst(w, R, &in->o[0]);
        const uint64_t *a = ex_src(w, R, &in->o[1], 1, act), *b = ex_src(w, R, &in->o[2], 2, act);
        const uint64_t *c = in->nops > 3 ? ex_src(w, R, &in->o[3], 3, act) : a;
        int has_c = in->nops > 3;
        FOR_LANES(act, d[l] = (uint64_t)video1(in, a[l], b[l], c[l], has_c) & 0xffffffffu);
        return 0;
    }
    uint64_t *R = ex_regs(w, in);
    iops o;
    o.bits = ir_type_bits(in->type);
    if (o.bits == 0 || o.bits > 64) o.bits = 32;
    if (in->type == T_PRED) o.bits = 1;
    o.sgn = ir_type_kind(in->type) == K_SINT;
    o.wm = ex_wmask(o.bits);
    o.d = ex_dst(w, R, &in->o[0]);
    o.a = ex_src(w, R, &in->o[1], 1, act);
    o.b = in->nops > 2 ? ex_src(w, R, &in->o[2], 2, act) : o.a;
    o.c = in->nops > 3 ? ex_src(w, R, &in->o[3], 3, act) : o.a;
    o.e = in->nops > 4 ? ex_src(w, R, &in->o[4], 4, act) : o.a;
    if ((in->flags & F_CC) || in->op == OP_ADDC || in->op == OP_SUBC || in->op == OP_MADC) {
        carry_ops(w, in, &o, act);
        return 0;
    }
    if (arith(w, in, &o, act) == 0 || bitops(w, in, &o, act) == 0) return 0;
    ex_fault(w, __builtin_ctz(act), PTX_ERR_ILLEGAL_INSTR, 0,
             "line %u: %s.%u not supported by the interpreter", in->line, ir_op_name(in->op),
             o.bits);
    return 1;
}
