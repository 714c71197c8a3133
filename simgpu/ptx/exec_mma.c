/* exec_mma.c — warp-level mma.sync with the fragment layouts the PTX ISA fixes
 * (groupID = lane / 4, threadID_in_group = lane % 4), and ldmatrix/stmatrix
 * (8x8 b16 tiles whose rows are addressed by lanes 0..8n-1). */
#include "exec.h"

#include <math.h>
#include <string.h>

/* Row and column of element i (in register order, low bits first) of a
 * fragment: kind 0 = A (M x K), 1 = B (K x N), 2 = C/D (M x N). */
static int coord(unsigned shape, unsigned type, int kind, unsigned lane, unsigned i, unsigned *r,
                 unsigned *c)
{
    unsigned g = lane >> 2, t = lane & 3;
    int b8 = type == T_S8 || type == T_U8 || type == T_E4M3 || type == T_E5M2;
    int tf = type == T_TF32 || type == T_F32;
    if (kind == 2) {
        if (shape == W_M8N8K4)
            *r = g, *c = 2 * t + i;
        else
            *r = g + 8 * (i >> 1), *c = 2 * t + (i & 1);
        return i < (shape == W_M8N8K4 ? 2u : 4u);
    }
    switch (shape) {
    case W_M16N8K16:
        if (b8) { /* s8/u8: A 16x16 in 2 regs, B 16x8 in 1 reg */
            if (kind == 0)
                *r = g + 8 * (i >> 2), *c = 4 * t + (i & 3);
            else
                *r = 4 * t + i, *c = g;
            return i < (kind == 0 ? 8u : 4u);
        }
        if (kind == 0)
            *r = g + 8 * ((i >> 1) & 1), *c = 2 * t + (i & 1) + 8 * (i >> 2);
        else
            *r = 2 * t + (i & 1) + 8 * (i >> 1), *c = g;
        return i < (kind == 0 ? 8u : 4u);
    case W_M16N8K8:
        if (tf) {
            if (kind == 0)
                *r = g + 8 * (i & 1), *c = t + 4 * (i >> 1);
            else
                *r = t + 4 * i, *c = g;
        } else {
            if (kind == 0)
                *r = g + 8 * (i >> 1), *c = 2 * t + (i & 1);
            else
                *r = 2 * t + i, *c = g;
        }
        return i < (kind == 0 ? 4u : 2u);
    case W_M16N8K32:
        if (kind == 0)
            *r = g + 8 * ((i >> 2) & 1), *c = 4 * t + (i & 3) + 16 * (i >> 3);
        else
            *r = 4 * t + (i & 3) + 16 * (i >> 2), *c = g;
        return i < (kind == 0 ? 16u : 8u);
    case W_M8N8K4: /* f64 */
        if (kind == 0)
            *r = g, *c = t;
        else
            *r = t, *c = g;
        return i < 1;
    default:
        return 0;
    }
}

static unsigned ebits_of(unsigned type)
{
    return ir_type_bits(type);
}

static double num(uint64_t raw, unsigned type)
{
    switch (type) {
    case T_F16:
        return ex_h2f((uint16_t)raw);
    case T_BF16:
        return ex_bf2f((uint16_t)raw);
    case T_S8:
        return (int8_t)raw;
    case T_U8:
        return (uint8_t)raw;
    case T_S32:
        return (int32_t)raw;
    case T_F64: {
        double d;
        memcpy(&d, &raw, 8);
        return d;
    }
    default: {
        float f;
        uint32_t u = (uint32_t)raw;
        memcpy(&f, &u, 4);
        return f;
    }
    }
}

static uint64_t raw_of(double v, unsigned type, int satf)
{
    if (type == T_F16) return ex_f2h((float)v, R_RN);
    if (type == T_BF16) return ex_f2bf((float)v, R_RN);
    if (type == T_F64) {
        uint64_t u;
        memcpy(&u, &v, 8);
        return u;
    }
    if (type == T_S32) {
        (void)satf; /* the sum is kept exact, so wrap-around only matters without .satfinite */
        if (v > INT32_MAX) return satf ? (uint32_t)INT32_MAX : (uint32_t)(int64_t)v;
        if (v < INT32_MIN) return satf ? (uint32_t)INT32_MIN : (uint32_t)(int64_t)v;
        return (uint32_t)(int32_t)v;
    }
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Element i of a fragment held in vector operand `vec` for lane l. */
static uint64_t *elem_reg(ex_warp *w, uint64_t *R, const ir_operand *vec, unsigned eb, unsigned i,
                          unsigned *sh)
{
    unsigned per = eb >= 32 ? 1 : 32 / eb, r = i / per;
    *sh = (i % per) * eb;
    return r < vec->n ? ex_dst(w, R, &w->b->m->vecs[vec->idx + r]) : NULL;
}

static void gather(ex_warp *w, uint64_t *R, const ir_insn *in, int kind, unsigned type, double *mat,
                   unsigned ld)
{
    const ir_operand *vec = &in->o[kind == 0 ? 1 : kind == 1 ? 2 : 3];
    unsigned eb = ebits_of(type), r, c, sh;
    for (unsigned l = 0; l < 32; l++)
        for (unsigned i = 0; coord(in->shape, type, kind, l, i, &r, &c); i++) {
            uint64_t *reg = elem_reg(w, R, vec, eb, i, &sh);
            mat[r * ld + c] = reg ? num((reg[l] >> sh) & ex_wmask(eb), type) : 0;
        }
}

static int mma(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    unsigned dt = in->type, at = in->type2, bt = in->xt[0] ? in->xt[0] : in->type2,
             ct = in->xt[1] ? in->xt[1] : in->type;
    unsigned M = in->shape == W_M8N8K4 ? 8 : 16, N = 8;
    unsigned K = in->shape == W_M16N8K8    ? 8
                 : in->shape == W_M16N8K32 ? 32
                 : in->shape == W_M8N8K4   ? 4
                                           : 16;
    if (at == T_F32) at = T_TF32;
    if (bt == T_F32) bt = T_TF32;
    double A[16 * 32], B[32 * 8], C[16 * 8], D[16 * 8];
    memset(A, 0, sizeof A), memset(B, 0, sizeof B), memset(C, 0, sizeof C);
    gather(w, R, in, 0, at, A, K);
    gather(w, R, in, 1, bt, B, N);
    gather(w, R, in, 2, ct, C, N);
    for (unsigned i = 0; i < M; i++)
        for (unsigned j = 0; j < N; j++) {
            double acc = C[i * N + j];
            if (dt == T_F32 || dt == T_F16) {
                float f = (float)acc;
                for (unsigned k = 0; k < K; k++)
                    f = fmaf((float)A[i * K + k], (float)B[k * N + j], f);
                acc = f;
            } else {
                for (unsigned k = 0; k < K; k++)
                    acc += A[i * K + k] * B[k * N + j];
            }
            D[i * N + j] = acc;
        }
    unsigned eb = ebits_of(dt), r, c, sh;
    FOR_LANES(act, {
        for (unsigned i = 0; coord(in->shape, dt, 2, (unsigned)l, i, &r, &c); i++) {
            uint64_t *reg = elem_reg(w, R, &in->o[0], eb, i, &sh);
            if (!reg) continue;
            uint64_t m = ex_wmask(eb) << sh;
            reg[l] =
                ((reg[l] & ~m) | (raw_of(D[r * N + c], dt, (in->flags & F_SATF) != 0) << sh & m)) &
                ex_wmask(eb >= 32 ? eb : 32);
        }
    });
    return 0;
}

/* ldmatrix / stmatrix: lane t addresses row t % 8 of tile t / 8. */
static int ldst_matrix(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    int st = in->op == OP_STMATRIX, trans = (in->flags & F_TRANS) != 0;
    const ir_operand *vec = &in->o[st ? 1 : 0], *ao = &in->o[st ? 0 : 1];
    unsigned n = vec->n;
    uint8_t *rows[32] = {0};
    for (unsigned t = 0; t < 8 * n; t++) {
        if (!(act >> t & 1)) continue;
        uint64_t a = (ao->abase == A_REG ? R[(size_t)ao->idx * 32 + t] : 0) + (uint64_t)ao->val;
        if (ao->abase == A_DYNSMEM) a += w->b->dyn_base;
        rows[t] = ex_translate(w, in->space, a, 16, (int)t, st);
        if (!rows[t]) return 1;
    }
    for (unsigned m = 0; m < n; m++) {
        uint64_t *reg = ex_dst(w, R, &w->b->m->vecs[vec->idx + m]);
        FOR_LANES(act, {
            unsigned row = (unsigned)l / 4, col = 2 * ((unsigned)l % 4);
            uint64_t val = 0;
            for (unsigned h = 0; h < 2; h++) {
                unsigned rr = trans ? col + h : row, cc = trans ? row : col + h;
                uint8_t *p = rows[m * 8 + rr];
                if (!p) continue; /* row address from an inactive lane */
                uint16_t v;
                if (st) {
                    v = (uint16_t)(reg[l] >> (16 * h));
                    memcpy(p + 2 * cc, &v, 2);
                } else {
                    memcpy(&v, p + 2 * cc, 2);
                    val |= (uint64_t)v << (16 * h);
                }
            }
            if (!st) reg[l] = val;
        });
    }
    return 0;
}

int ex_mma(ex_warp *w, const ir_insn *in, uint32_t act)
{
    return in->op == OP_MMA ? mma(w, in, act) : ldst_matrix(w, in, act);
}
