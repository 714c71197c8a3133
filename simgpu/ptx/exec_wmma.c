/* exec_wmma.c — warp matrix operations (wmma.load/store/mma). Fragments are
 * opaque to programs, so the interpreter uses its own layout: element e of a
 * rows x cols matrix (row-major index) lives in lane e % 32, slot e / 32, and
 * spare slots replicate elements. Loads, stores and mma agree on it, and
 * elementwise operations on fragment registers work as on the GPU. */
#include "exec.h"

#include <math.h>
#include <string.h>

typedef struct wfrag {
    unsigned rows, cols, type, ebits;
} wfrag;

static void shape_dims(unsigned shape, unsigned *m, unsigned *n, unsigned *k)
{
    static const unsigned d[][3] = {{16, 16, 16}, {16, 16, 16}, {32, 8, 16},
                                    {8, 32, 16},  {16, 16, 8},  {8, 8, 4}};
    *m = d[shape][0], *n = d[shape][1], *k = d[shape][2];
}

static wfrag frag_of(unsigned shape, unsigned kind, unsigned type)
{
    unsigned m, n, k;
    shape_dims(shape, &m, &n, &k);
    wfrag f = {m, n, type, ir_type_bits(type)};
    if (kind == M_FA) f.cols = k;
    if (kind == M_FB) f.rows = k, f.cols = n;
    if (type == T_S8 || type == T_U8) f.ebits = 8;
    return f;
}

/* Register and bit position of slot s in a fragment of 32-bit (or 64-bit) registers. */
static uint64_t *slot_reg(ex_warp *w, uint64_t *R, const ir_operand *vec, const wfrag *f,
                          unsigned s, unsigned *shift)
{
    unsigned per = f->ebits >= 32 ? 1 : 32 / f->ebits;
    unsigned r = s / per;
    *shift = (s % per) * f->ebits;
    if (r >= vec->n) return NULL;
    return ex_dst(w, R, &w->b->m->vecs[vec->idx + r]);
}

static unsigned nslots(const ir_operand *vec, const wfrag *f)
{
    return vec->n * (f->ebits >= 32 ? 1 : 32 / f->ebits);
}

static double to_num(uint64_t raw, unsigned type)
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
    default: { /* f32, tf32 */
        float f;
        uint32_t u = (uint32_t)raw;
        memcpy(&f, &u, 4);
        return f;
    }
    }
}

static uint64_t from_num(double v, unsigned type, int satf)
{
    switch (type) {
    case T_F16:
        return ex_f2h((float)v, R_RN);
    case T_BF16:
        return ex_f2bf((float)v, R_RN);
    case T_S32:
        if (satf || v > INT32_MAX || v < INT32_MIN)
            v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
        return (uint32_t)(int32_t)v;
    case T_F64: {
        uint64_t u;
        memcpy(&u, &v, 8);
        return u;
    }
    default: {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        return u;
    }
    }
}

static uint64_t get_slot(ex_warp *w, uint64_t *R, const ir_operand *vec, const wfrag *f, unsigned s,
                         int l)
{
    unsigned sh;
    uint64_t *r = slot_reg(w, R, vec, f, s, &sh);
    return r ? (r[l] >> sh) & ex_wmask(f->ebits) : 0;
}

static void put_slot(ex_warp *w, uint64_t *R, const ir_operand *vec, const wfrag *f, unsigned s,
                     int l, uint64_t v)
{
    unsigned sh;
    uint64_t *r = slot_reg(w, R, vec, f, s, &sh);
    if (!r) return;
    uint64_t m = ex_wmask(f->ebits) << sh;
    r[l] = (r[l] & ~m) | ((v << sh) & m);
    if (f->ebits >= 32) r[l] &= ex_wmask(f->ebits);
}

/* Address of element (row, col) for a row- or column-major matrix. */
static uint64_t elem_addr(uint64_t base, const wfrag *f, unsigned row, unsigned col,
                          uint64_t stride, int colmajor)
{
    uint64_t idx = colmajor ? (uint64_t)col * stride + row : (uint64_t)row * stride + col;
    return base + idx * (f->ebits / 8);
}

static int load_store(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    int st = in->mod == M_STORE;
    const ir_operand *vec = &in->o[st ? 1 : 0], *ao = &in->o[st ? 0 : 1];
    unsigned kind = st ? M_FC : in->mod2;
    wfrag f = frag_of(in->shape, kind, in->type);
    if (f.ebits < 8) return -1;
    const uint64_t *stride = in->nops > 2 ? ex_src(w, R, &in->o[2], 2, act) : NULL;
    unsigned total = f.rows * f.cols, ns = nslots(vec, &f);
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        uint64_t base = ao->abase == A_REG
                            ? R[(size_t)ao->idx * 32 + (unsigned)l] + (uint64_t)ao->val
                        : ao->abase == A_VAR
                            ? (uint64_t)(uintptr_t)w->b->l->var_addrs[ao->idx] + (uint64_t)ao->val
                        : ao->abase == A_DYNSMEM ? w->b->dyn_base + (uint64_t)ao->val
                                                 : (uint64_t)ao->val;
        uint64_t ld = stride ? (stride[l] & 0xffffffffu) : ((in->lay & 1) ? f.rows : f.cols);
        for (unsigned s = 0; s < ns; s++) {
            unsigned e = (s * 32 + (unsigned)l) % total;
            if (st && s * 32 + (unsigned)l >= total) break; /* store each element once */
            uint64_t a = elem_addr(base, &f, e / f.cols, e % f.cols, ld, in->lay & 1);
            void *p = ex_translate(w, in->space, a, f.ebits / 8, l, st);
            if (!p) return 1;
            uint64_t v = 0;
            if (st) {
                v = get_slot(w, R, vec, &f, s, l);
                memcpy(p, &v, f.ebits / 8);
            } else {
                memcpy(&v, p, f.ebits / 8);
                put_slot(w, R, vec, &f, s, l, v);
            }
        }
    }
    return 0;
}

/* Gather a whole matrix from the fragment registers of all lanes. */
static void gather(ex_warp *w, uint64_t *R, const ir_operand *vec, const wfrag *f, double *out)
{
    unsigned total = f->rows * f->cols, ns = nslots(vec, f);
    for (unsigned s = 0; s < ns; s++)
        for (unsigned l = 0; l < 32 && s * 32 + l < total; l++)
            out[s * 32 + l] = to_num(get_slot(w, R, vec, f, s, (int)l), f->type);
}

static int mma(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    unsigned dt = in->type, ct = in->type2, at = T_F16, bt = T_F16;
    if (in->xt[1]) at = in->type2, bt = in->xt[0], ct = in->xt[1];
    wfrag fa = frag_of(in->shape, M_FA, at), fb = frag_of(in->shape, M_FB, bt);
    wfrag fc = frag_of(in->shape, M_FC, ct), fd = frag_of(in->shape, M_FD, dt);
    static _Thread_local double A[32 * 16], B[16 * 32], C[32 * 32];
    memset(A, 0, sizeof A), memset(B, 0, sizeof B), memset(C, 0, sizeof C);
    gather(w, R, &in->o[1], &fa, A);
    gather(w, R, &in->o[2], &fb, B);
    gather(w, R, &in->o[3], &fc, C);
    unsigned M = fd.rows, N = fd.cols, K = fa.cols, total = M * N, ns = nslots(&in->o[0], &fd);
    double D[32 * 32];
    for (unsigned i = 0; i < M; i++)
        for (unsigned j = 0; j < N; j++) {
            double acc = C[i * N + j];
            if (dt == T_F32 || dt == T_F16) {
                float fa32 = (float)acc;
                for (unsigned k = 0; k < K; k++)
                    fa32 = fmaf((float)A[i * K + k], (float)B[k * N + j], fa32);
                acc = fa32;
            } else {
                for (unsigned k = 0; k < K; k++)
                    acc += A[i * K + k] * B[k * N + j];
            }
            D[i * N + j] = acc;
        }
    FOR_LANES(act, {
        for (unsigned s = 0; s < ns; s++)
            put_slot(w, R, &in->o[0], &fd, s, l,
                     from_num(D[(s * 32 + (unsigned)l) % total], dt, (in->flags & F_SATF) != 0));
    });
    return 0;
}

int ex_wmma(ex_warp *w, const ir_insn *in, uint32_t act)
{
    int r = in->mod == M_MMA ? mma(w, in, act) : load_store(w, in, act);
    if (r < 0) {
        ex_fault(w, __builtin_ctz(act), PTX_ERR_ILLEGAL_INSTR, 0, "unsupported wmma type");
        return 1;
    }
    return r;
}
