/* exec_float.c — floating-point arithmetic for f32, f64, f16, bf16 and the
 * packed x2 forms: rounding modes through the host FPU, .ftz and .sat, PTX's
 * NaN rules for min/max, the special functions, testp and copysign. */
#include "exec.h"

#include <fenv.h>
#include <math.h>
#include <string.h>

float ex_h2f(uint16_t h)
{
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}

uint16_t ex_f2h(float f, int rnd)
{
    _Float16 v = (_Float16)f;
    uint16_t h;
    memcpy(&h, &v, 2);
    if (rnd == R_RZ && !isnan(f) && fabsf(ex_h2f(h)) > fabsf(f)) h--; /* step toward zero */
    return h;
}

float ex_bf2f(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t ex_f2bf(float f, int rnd)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if (isnan(f)) return 0x7fff;
    if (rnd == R_RZ) return (uint16_t)(u >> 16);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

/* fp8: e4m3 (bias 7, no infinities, NaN = S.1111.111, max 448) and e5m2
 * (bias 15, IEEE-like, max 57344). */
float ex_fp82f(uint8_t v, int e5m2)
{
    unsigned mb = e5m2 ? 2 : 3, bias = e5m2 ? 15 : 7;
    unsigned e = (v & 0x7f) >> mb, m = v & ((1u << mb) - 1);
    float s = (v & 0x80) ? -1.0f : 1.0f;
    if (e5m2 && e == 31) return m ? NAN : s * INFINITY;
    if (!e5m2 && e == 15 && m == 7) return NAN;
    if (e == 0) return s * ldexpf((float)m, 1 - (int)bias - (int)mb);
    return s * ldexpf(1.0f + (float)m / (float)(1u << mb), (int)e - (int)bias);
}

uint8_t ex_f2fp8(float f, int e5m2, int satfinite)
{
    unsigned mb = e5m2 ? 2 : 3;
    int bias = e5m2 ? 15 : 7;
    uint8_t sign = signbit(f) ? 0x80 : 0, maxc = e5m2 ? 0x7b : 0x7e;
    if (isnan(f)) return 0x7f;
    float a = fabsf(f);
    if (a == 0) return sign;
    int e;
    frexpf(a, &e);
    e -= 1; /* a = 1.m * 2^e */
    unsigned code;
    if (e < 1 - bias) { /* subnormal: steps of 2^(1-bias-mb) */
        code = (unsigned)nearbyintf(ldexpf(a, bias - 1 + (int)mb));
    } else {
        unsigned q = (unsigned)nearbyintf((ldexpf(a, -e) - 1.0f) * (float)(1u << mb));
        if (q == (1u << mb)) q = 0, e++;
        code = (unsigned)(e + bias) << mb | q;
    }
    if (code > maxc) /* overflow: saturate, or the format's infinity / NaN */
        return sign | (satfinite ? maxc : (e5m2 ? 0x7c : 0x7f));
    return sign | (uint8_t)code;
}

static float bits_f(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t f_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static double bits_d(uint64_t v)
{
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static uint64_t d_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static float ftz(float f)
{
    return fpclassify(f) == FP_SUBNORMAL ? copysignf(0.0f, f) : f;
}

static float fminmax(float a, float b, int max, int nanp)
{
    if (isnan(a) || isnan(b)) {
        if (nanp || (isnan(a) && isnan(b))) return bits_f(0x7fffffff);
        return isnan(a) ? b : a;
    }
    if (a == 0 && b == 0) return (signbit(a) != signbit(b)) ? (max ? 0.0f : -0.0f) : a;
    return max ? (a > b ? a : b) : (a < b ? a : b);
}

static double dminmax(double a, double b, int max, int nanp)
{
    if (isnan(a) || isnan(b)) {
        if (nanp || (isnan(a) && isnan(b))) return bits_d(0x7fffffffffffffffull);
        return isnan(a) ? b : a;
    }
    if (a == 0 && b == 0) return (signbit(a) != signbit(b)) ? (max ? 0.0 : -0.0) : a;
    return max ? (a > b ? a : b) : (a < b ? a : b);
}

static float f32op(const ir_insn *in, float a, float b, float c)
{
    int nanp = (in->flags & F_NANP) != 0;
    switch (in->op) {
    case OP_ADD:
        return a + b;
    case OP_SUB:
        return a - b;
    case OP_MUL:
        return a * b;
    case OP_FMA:
    case OP_MAD:
        return fmaf(a, b, c);
    case OP_DIV:
        return a / b;
    case OP_ABS:
        return fabsf(a);
    case OP_NEG:
        return -a;
    case OP_MIN:
        return in->nops > 3 ? fminmax(fminmax(a, b, 0, nanp), c, 0, nanp) : fminmax(a, b, 0, nanp);
    case OP_MAX:
        return in->nops > 3 ? fminmax(fminmax(a, b, 1, nanp), c, 1, nanp) : fminmax(a, b, 1, nanp);
    case OP_RCP:
        return 1.0f / a;
    case OP_SQRT:
        return sqrtf(a);
    case OP_RSQRT:
        return 1.0f / sqrtf(a);
    case OP_SIN:
        return sinf(a);
    case OP_COS:
        return cosf(a);
    case OP_LG2:
        return log2f(a);
    case OP_EX2:
        return exp2f(a);
    case OP_TANH:
        return tanhf(a);
    case OP_COPYSIGN:
        return copysignf(b, a);
    default:
        return NAN;
    }
}

static double f64op(const ir_insn *in, double a, double b, double c)
{
    int nanp = (in->flags & F_NANP) != 0;
    switch (in->op) {
    case OP_ADD:
        return a + b;
    case OP_SUB:
        return a - b;
    case OP_MUL:
        return a * b;
    case OP_FMA:
    case OP_MAD:
        return fma(a, b, c);
    case OP_DIV:
        return a / b;
    case OP_ABS:
        return fabs(a);
    case OP_NEG:
        return -a;
    case OP_MIN:
        return dminmax(a, b, 0, nanp);
    case OP_MAX:
        return dminmax(a, b, 1, nanp);
    case OP_RCP:
        return 1.0 / a;
    case OP_SQRT:
        return sqrt(a);
    case OP_RSQRT:
        return 1.0 / sqrt(a);
    case OP_SIN:
        return sin(a);
    case OP_COS:
        return cos(a);
    case OP_LG2:
        return log2(a);
    case OP_EX2:
        return exp2(a);
    case OP_TANH:
        return tanh(a);
    case OP_COPYSIGN:
        return copysign(b, a);
    default:
        return NAN;
    }
}

static float sat01(float f)
{
    return isnan(f) ? 0.0f : f < 0 ? 0.0f : f > 1 ? 1.0f : f;
}

static uint64_t f32elem(const ir_insn *in, uint64_t x, uint64_t y, uint64_t z)
{
    float a = bits_f(x), b = bits_f(y), c = bits_f(z);
    if (in->flags & F_FTZ) a = ftz(a), b = ftz(b), c = ftz(c);
    if (in->op == OP_ABS) return x & 0x7fffffffu;
    if (in->op == OP_NEG) return (x ^ 0x80000000u) & 0xffffffffu;
    float r = f32op(in, a, b, c);
    if (in->flags & F_FTZ) r = ftz(r);
    if (in->flags & F_SAT) r = sat01(r);
    return f_bits(r);
}

/* f16/bf16 element: computed in f32, rounded back. */
static uint16_t helem(const ir_insn *in, uint16_t x, uint16_t y, uint16_t z, int bf)
{
    if (in->op == OP_ABS) return x & 0x7fff;
    if (in->op == OP_NEG) return x ^ 0x8000;
    float a = bf ? ex_bf2f(x) : ex_h2f(x), b = bf ? ex_bf2f(y) : ex_h2f(y),
          c = bf ? ex_bf2f(z) : ex_h2f(z);
    float r = f32op(in, a, b, c);
    if (in->flags & F_SAT) r = sat01(r);
    if (in->flags & F_RELU) r = isnan(r) ? r : (r < 0 ? 0 : r);
    return bf ? ex_f2bf(r, in->rnd) : ex_f2h(r, in->rnd);
}

static uint64_t felem(const ir_insn *in, uint64_t x, uint64_t y, uint64_t z)
{
    switch (in->type) {
    case T_F32:
        return f32elem(in, x, y, z);
    case T_F64:
        if (in->op == OP_ABS) return x & 0x7fffffffffffffffull;
        if (in->op == OP_NEG) return x ^ 0x8000000000000000ull;
        return d_bits(f64op(in, bits_d(x), bits_d(y), bits_d(z)));
    case T_F16:
        return helem(in, (uint16_t)x, (uint16_t)y, (uint16_t)z, 0);
    case T_BF16:
        return helem(in, (uint16_t)x, (uint16_t)y, (uint16_t)z, 1);
    case T_F16X2:
    case T_BF16X2: {
        int bf = in->type == T_BF16X2;
        uint32_t lo = helem(in, (uint16_t)x, (uint16_t)y, (uint16_t)z, bf);
        uint32_t hi = helem(in, (uint16_t)(x >> 16), (uint16_t)(y >> 16), (uint16_t)(z >> 16), bf);
        return hi << 16 | lo;
    }
    default:
        return 0;
    }
}

static int testp(const ir_insn *in, uint64_t x)
{
    int c = in->type == T_F64 ? fpclassify(bits_d(x)) : fpclassify(bits_f(x));
    switch (in->mod) {
    case M_FINITE:
        return c != FP_INFINITE && c != FP_NAN;
    case M_INFINITE:
        return c == FP_INFINITE;
    case M_NUMBER:
        return c != FP_NAN;
    case M_NOTANUMBER:
        return c == FP_NAN;
    case M_NORMAL:
        return c == FP_NORMAL;
    case M_SUBNORMAL:
        return c == FP_SUBNORMAL;
    default:
        return 0;
    }
}

int ex_fround_mode(int rnd)
{
    switch (rnd) {
    case R_RZ:
    case R_RZI:
        return FE_TOWARDZERO;
    case R_RM:
    case R_RMI:
        return FE_DOWNWARD;
    case R_RP:
    case R_RPI:
        return FE_UPWARD;
    default:
        return FE_TONEAREST;
    }
}

/* Common f32 cases without modifiers: straight loops the compiler vectorises. */
static int fast_f32(const ir_insn *in, uint64_t *d, const uint64_t *a, const uint64_t *b,
                    const uint64_t *c, uint32_t act)
{
    if (in->type != T_F32 || (in->flags & (F_FTZ | F_SAT)) ||
        (in->rnd != R_NONE && in->rnd != R_RN))
        return 0;
    switch (in->op) {
    case OP_ADD:
        FOR_LANES(act, d[l] = f_bits(bits_f(a[l]) + bits_f(b[l])));
        return 1;
    case OP_SUB:
        FOR_LANES(act, d[l] = f_bits(bits_f(a[l]) - bits_f(b[l])));
        return 1;
    case OP_MUL:
        FOR_LANES(act, d[l] = f_bits(bits_f(a[l]) * bits_f(b[l])));
        return 1;
    case OP_FMA:
    case OP_MAD:
        FOR_LANES(act, d[l] = f_bits(fmaf(bits_f(a[l]), bits_f(b[l]), bits_f(c[l]))));
        return 1;
    default:
        return 0;
    }
}

int ex_alu_float(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    const uint64_t *b = in->nops > 2 ? ex_src(w, R, &in->o[2], 2, act) : a;
    const uint64_t *c = in->nops > 3 ? ex_src(w, R, &in->o[3], 3, act) : a;
    if (fast_f32(in, d, a, b, c, act)) return 0;
    if (in->op == OP_TESTP) {
        FOR_LANES(act, d[l] = (uint64_t)testp(in, a[l]));
        return 0;
    }
    int mode = ex_fround_mode(in->rnd);
    if (mode != FE_TONEAREST) fesetround(mode);
    FOR_LANES(act, d[l] = felem(in, a[l], b[l], c[l]));
    if (mode != FE_TONEAREST) fesetround(FE_TONEAREST);
    return 0;
}
