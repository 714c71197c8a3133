/* exec_mem.c — memory: address translation for every state space (generic
 * windows for shared/local/param, bounds checks against the launch's memory
 * map with a last-hit cache), ld/st (vectors, sign extension), cvta,
 * isspacep, and atom/red with host atomics so concurrent blocks are safe. */
#include "exec.h"

#include <string.h>
#ifdef __x86_64__
#include <emmintrin.h>
#endif

static int map_hit(ex_block *b, uintptr_t a, size_t size)
{
    if (a + size < a) return 0;
    if (a >= b->hit_lo && a + size <= b->hit_hi) return 1;
    const ptx_mem_map *mm = b->l->mem;
    if (!mm || !mm->count) return 0;
    size_t lo = 0, hi = mm->count;
    while (hi - lo > 1) { /* last range with lo <= a */
        size_t mid = (lo + hi) / 2;
        if (mm->ranges[mid].lo <= a)
            lo = mid;
        else
            hi = mid;
    }
    const ptx_mem_range *r = &mm->ranges[lo];
    if (a < r->lo || a + size > r->hi) return 0;
    b->hit_lo = r->lo;
    b->hit_hi = r->hi;
    return 1;
}

static void *bad(ex_warp *w, int lane, uint64_t addr, unsigned size, const char *what, int write)
{
    if (write == 2) return NULL; /* probe: no fault */
    ex_fault(w, lane, PTX_ERR_ILLEGAL_ADDRESS, (uintptr_t)addr, "%s %u bytes at %s address %#llx",
             write ? "write of" : "read of", size, what, (unsigned long long)addr);
    return NULL;
}

static int in_win(uint64_t a, uint64_t win)
{
    return a >= win && a - win < IR_WIN_SIZE;
}

void *ex_translate(ex_warp *w, int space, uint64_t addr, unsigned size, int lane, int write)
{
    ex_block *b = w->b;
    if (size && (size & (size - 1)) == 0 && (addr & (size - 1))) {
        ex_fault(w, lane, PTX_ERR_MISALIGNED, (uintptr_t)addr, "misaligned %u-byte access at %#llx",
                 size, (unsigned long long)addr);
        return NULL;
    }
    if (space == S_GENERIC) {
        if (in_win(addr, IR_WIN_SHARED))
            space = S_SHARED;
        else if (in_win(addr, IR_WIN_LOCAL))
            space = S_LOCAL;
        else if (in_win(addr, IR_WIN_PARAM))
            space = S_PARAM;
        else
            space = S_GLOBAL;
    }
    switch (space) {
    case S_SHARED:
        /* shared addresses are 32-bit: [%r+off] wraps like the hardware's */
        addr = in_win(addr, IR_WIN_SHARED) ? addr - IR_WIN_SHARED : (uint32_t)addr;
        if (addr >= b->smem_size || size > b->smem_size - addr)
            return bad(w, lane, addr, size, "shared", write);
        return b->smem + addr;
    case S_PARAM:
        if (in_win(addr, IR_WIN_PARAM)) {
            addr -= IR_WIN_PARAM;
            if (write || addr >= b->l->params_size || size > b->l->params_size - addr)
                return bad(w, lane, addr, size, "param", write);
            return (uint8_t *)b->l->params + addr;
        }
        /* .func parameters live in the frame */
        /* fall through */
    case S_LOCAL:
        addr = in_win(addr, IR_WIN_LOCAL) ? addr - IR_WIN_LOCAL : (uint32_t)addr;
        if (addr >= b->lsize || size > b->lsize - addr)
            return bad(w, lane, addr, size, "local", write);
        return b->local + (size_t)(w->id * 32 + (unsigned)lane) * b->lsize + addr;
    default:
        if (!map_hit(b, (uintptr_t)addr, size)) return bad(w, lane, addr, size, "global", write);
        return (void *)(uintptr_t)addr;
    }
}

/* ex_translate's common case inlined: an aligned global/generic access inside
 * the range hit last. */
static inline void *xlate(ex_warp *w, int space, uint64_t addr, unsigned size, int lane, int write)
{
    ex_block *b = w->b;
    if (!(addr & (size - 1))) {
        if (space == S_SHARED && addr < b->smem_size && size <= b->smem_size - addr)
            return b->smem + addr;
        if ((space == S_GLOBAL || space == S_GENERIC || space == S_CONST) && addr >= b->hit_lo &&
            addr + size <= b->hit_hi && addr + size > addr)
            return (void *)(uintptr_t)addr;
    }
    return ex_translate(w, space, addr, size, lane, write);
}

static inline uint64_t addr_of(ex_warp *w, const uint64_t *R, const ir_operand *o, int l)
{
    ex_block *b = w->b;
    switch (o->abase) {
    case A_REG:
        return R[(size_t)o->idx * 32 + (unsigned)l] + (uint64_t)o->val;
    case A_VAR:
        return (uint64_t)(uintptr_t)b->l->var_addrs[o->idx] + (uint64_t)o->val;
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

static int eff_space(const ir_insn *in, const ir_operand *o)
{
    if (in->space != S_GENERIC) return in->space;
    switch (o->abase) {
    case A_SHARED:
    case A_DYNSMEM:
        return S_SHARED;
    case A_LOCAL:
        return S_LOCAL;
    case A_KPARAM:
        return S_PARAM;
    default:
        return S_GENERIC;
    }
}

static unsigned elem_bytes(unsigned type)
{
    unsigned b = ir_type_bits(type) / 8;
    return b ? (b > 8 ? 8 : b) : 1;
}

/* Single-access loads and stores: the GPU does an aligned 8- or 16-byte access
 * (e.g. ld.v2.u32 of a look-back tile status) in one transaction, so another
 * block polling the same word must never see it torn. */
static inline uint64_t load1(const void *p, unsigned eb)
{
    switch (eb) {
    case 1:
        return *(const volatile uint8_t *)p;
    case 2:
        return *(const volatile uint16_t *)p;
    case 4:
        return *(const volatile uint32_t *)p;
    default:
        return *(const volatile uint64_t *)p;
    }
}

static inline void store1(void *p, unsigned eb, uint64_t v)
{
    switch (eb) {
    case 1:
        *(volatile uint8_t *)p = (uint8_t)v;
        break;
    case 2:
        *(volatile uint16_t *)p = (uint16_t)v;
        break;
    case 4:
        *(volatile uint32_t *)p = (uint32_t)v;
        break;
    default:
        *(volatile uint64_t *)p = v;
        break;
    }
}

static inline void load_wide(const void *p, unsigned bytes, uint8_t *buf)
{
    if (bytes == 8) {
        uint64_t v = *(const volatile uint64_t *)p;
        memcpy(buf, &v, 8);
    } else if (bytes == 16) {
#ifdef __x86_64__
        if (((uintptr_t)p & 15) == 0) /* one access on AVX CPUs */
            _mm_storeu_si128((__m128i *)buf, _mm_load_si128((const __m128i *)p));
        else /* e.g. a parameter buffer that is only 8-byte aligned on the host */
            _mm_storeu_si128((__m128i *)buf, _mm_loadu_si128((const __m128i *)p));
#else
        uint64_t lo = ((const volatile uint64_t *)p)[0], hi = ((const volatile uint64_t *)p)[1];
        memcpy(buf, &lo, 8), memcpy(buf + 8, &hi, 8);
#endif
    } else {
        for (unsigned i = 0; i < bytes; i += 16)
            load_wide((const uint8_t *)p + i, 16, buf + i);
    }
}

static inline void store_wide(void *p, unsigned bytes, const uint8_t *buf)
{
    if (bytes == 8) {
        uint64_t v;
        memcpy(&v, buf, 8);
        *(volatile uint64_t *)p = v;
    } else if (bytes == 16) {
#ifdef __x86_64__
        if (((uintptr_t)p & 15) == 0)
            _mm_store_si128((__m128i *)p, _mm_loadu_si128((const __m128i *)buf));
        else
            _mm_storeu_si128((__m128i *)p, _mm_loadu_si128((const __m128i *)buf));
#else
        uint64_t lo, hi;
        memcpy(&lo, buf, 8), memcpy(&hi, buf + 8, 8);
        ((volatile uint64_t *)p)[0] = lo, ((volatile uint64_t *)p)[1] = hi;
#endif
    } else {
        for (unsigned i = 0; i < bytes; i += 16)
            store_wide((uint8_t *)p + i, 16, buf + i);
    }
}

static int do_ld(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const ir_operand *dst = &in->o[0], *ao = &in->o[1];
    unsigned eb = elem_bytes(in->type), n = in->vec ? in->vec : 1;
    int space = eff_space(in, ao), sgn = ir_type_kind(in->type) == K_SINT;
    uint64_t *d[8];
    for (unsigned i = 0; i < n; i++)
        d[i] = ex_dst(w, R, dst->kind == O_VEC ? &w->b->m->vecs[dst->idx + i] : dst);
    if (n == 1 && eb == 4 && !sgn) { /* the common case */
        for (uint32_t m = act; m; m &= m - 1) {
            int l = __builtin_ctz(m);
            const volatile uint32_t *p = xlate(w, space, addr_of(w, R, ao, l), 4, l, 0);
            if (!p) return 1;
            d[0][l] = *p;
        }
        return 0;
    }
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        const uint8_t *p = xlate(w, space, addr_of(w, R, ao, l), eb * n, l, 0);
        if (!p) return 1;
        if (n == 1) {
            uint64_t v = load1(p, eb);
            d[0][l] = sgn ? (uint64_t)ex_sext(v, eb * 8) : v;
            continue;
        }
        uint8_t buf[64];
        load_wide(p, eb * n, buf);
        for (unsigned i = 0; i < n; i++) {
            uint64_t v = 0;
            memcpy(&v, buf + i * eb, eb);
            d[i][l] = sgn ? (uint64_t)ex_sext(v, eb * 8) : v;
        }
    }
    return 0;
}

static int do_st(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    const ir_operand *src = &in->o[1], *ao = &in->o[0];
    unsigned eb = elem_bytes(in->type), n = in->vec ? in->vec : 1;
    int space = eff_space(in, ao);
    const uint64_t *s[8];
    for (unsigned i = 0; i < n; i++)
        s[i] = ex_src(w, R, src->kind == O_VEC ? &w->b->m->vecs[src->idx + i] : src, i, act);
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        uint8_t *p = xlate(w, space, addr_of(w, R, ao, l), eb * n, l, 1);
        if (!p) return 1;
        if (n == 1) {
            store1(p, eb, s[0][l]);
            continue;
        }
        uint8_t buf[64];
        for (unsigned i = 0; i < n; i++)
            memcpy(buf + i * eb, &s[i][l], eb);
        store_wide(p, eb * n, buf);
    }
    return 0;
}

static uint64_t window_of(int space)
{
    return space == S_SHARED ? IR_WIN_SHARED : space == S_LOCAL ? IR_WIN_LOCAL : 0;
}

static int do_cvta(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    uint64_t win = window_of(in->space);
    uint64_t wm = ex_wmask(ir_type_bits(in->type) ? ir_type_bits(in->type) : 64);
    if (in->space == S_PARAM && in->o[1].kind == O_SYM && in->o[1].abase == A_LOCAL)
        win = IR_WIN_LOCAL;
    if (!win) {
        FOR_LANES(act, d[l] = a[l] & wm);
    } else if (in->flags & F_TO) {
        FOR_LANES(act, d[l] = (in_win(a[l], win) ? a[l] - win : a[l]) & wm);
    } else {
        FOR_LANES(act, d[l] = in_win(a[l], win) ? a[l] : a[l] + win);
    }
    return 0;
}

static int do_isspacep(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    uint64_t *d = ex_dst(w, R, &in->o[0]);
    const uint64_t *a = ex_src(w, R, &in->o[1], 1, act);
    FOR_LANES(act, {
        uint64_t v = a[l];
        int r;
        switch (in->space) {
        case S_SHARED:
            r = in_win(v, IR_WIN_SHARED);
            break;
        case S_LOCAL:
            r = in_win(v, IR_WIN_LOCAL);
            break;
        case S_PARAM:
            r = in_win(v, IR_WIN_PARAM);
            break;
        case S_GLOBAL:
            r = (v >> 56) == 0;
            break;
        default:
            r = 0;
            break;
        }
        d[l] = (uint64_t)r;
    });
    return 0;
}

/* cp.async: performed at once, so commit/wait groups have nothing to wait for. */
static int do_cp(ex_warp *w, const ir_insn *in, uint32_t act)
{
    if (in->nops < 3) return 0;
    uint64_t *R = ex_regs(w, in);
    const uint64_t *sz = ex_src(w, R, &in->o[2], 2, act);
    const uint64_t *srcsz =
        in->nops > 3 && in->o[3].kind != O_NONE ? ex_src(w, R, &in->o[3], 3, act) : sz;
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        unsigned n = (unsigned)(sz[l] & 0xff), k = (unsigned)(srcsz[l] & 0xff);
        if (k > n) k = n;
        uint8_t *d =
            ex_translate(w, in->space ? in->space : S_SHARED, addr_of(w, R, &in->o[0], l), n, l, 1);
        const uint8_t *s = k ? ex_translate(w, in->type2 ? in->type2 : S_GLOBAL,
                                            addr_of(w, R, &in->o[1], l), k, l, 0)
                             : d;
        if (!d || !s) return 1;
        memmove(d, s, k);
        memset(d + k, 0, n - k);
    }
    return 0;
}

int ex_mem(ex_warp *w, const ir_insn *in, uint32_t act)
{
    switch (in->op) {
    case OP_CP:
        return do_cp(w, in, act);
    case OP_LD:
    case OP_LDU:
        return do_ld(w, in, act);
    case OP_ST:
        return do_st(w, in, act);
    case OP_CVTA:
        return do_cvta(w, in, act);
    default:
        return do_isspacep(w, in, act);
    }
}

/* ---- atomics ---- */

static float u2f(uint64_t v)
{
    float f;
    uint32_t u = (uint32_t)v;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t atom_new(const ir_insn *in, uint64_t old, uint64_t b, uint64_t c, unsigned bits)
{
    int sgn = ir_type_kind(in->type) == K_SINT;
    uint64_t wm = ex_wmask(bits);
    switch (in->mod) {
    case M_ADD:
        if (in->type == T_F32) return f2u(u2f(old) + u2f(b));
        if (in->type == T_F64) {
            double x, y;
            memcpy(&x, &old, 8), memcpy(&y, &b, 8);
            x += y;
            memcpy(&old, &x, 8);
            return old;
        }
        if (in->type == T_F16) return ex_f2h(ex_h2f((uint16_t)old) + ex_h2f((uint16_t)b), R_RN);
        if (in->type == T_BF16) return ex_f2bf(ex_bf2f((uint16_t)old) + ex_bf2f((uint16_t)b), R_RN);
        if (in->type == T_BF16X2)
            return (uint64_t)ex_f2bf(ex_bf2f((uint16_t)(old >> 16)) + ex_bf2f((uint16_t)(b >> 16)),
                                     R_RN)
                       << 16 |
                   ex_f2bf(ex_bf2f((uint16_t)old) + ex_bf2f((uint16_t)b), R_RN);
        if (in->type == T_F16X2)
            return (uint64_t)ex_f2h(ex_h2f((uint16_t)(old >> 16)) + ex_h2f((uint16_t)(b >> 16)),
                                    R_RN)
                       << 16 |
                   ex_f2h(ex_h2f((uint16_t)old) + ex_h2f((uint16_t)b), R_RN);
        return (old + b) & wm;
    case M_MIN:
    case M_MAX: {
        int less = sgn ? ex_sext(b, bits) < ex_sext(old, bits) : (b & wm) < (old & wm);
        if (in->type == T_F32) less = u2f(b) < u2f(old);
        return (in->mod == M_MIN ? less : !less && b != old) ? b & wm : old;
    }
    case M_INC:
        return (old & wm) >= (b & wm) ? 0 : old + 1;
    case M_DEC:
        return ((old & wm) == 0 || (old & wm) > (b & wm)) ? b & wm : old - 1;
    case M_EXCH:
        return b & wm;
    case M_CAS:
        return (old & wm) == (b & wm) ? c & wm : old;
    case M_AND:
        return old & b & wm;
    case M_OR:
        return (old | b) & wm;
    case M_XOR:
        return (old ^ b) & wm;
    default:
        return old;
    }
}

/* Read-modify-write with a compare-and-swap loop; returns the old value. */
static uint64_t atom_rmw(const ir_insn *in, void *p, unsigned bytes, uint64_t b, uint64_t c)
{
    if (bytes == 8) {
        uint64_t old = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n((uint64_t *)p, &old, atom_new(in, old, b, c, 64), 1,
                                            __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        }
        return old;
    }
    if (bytes == 4) {
        if (in->mod == M_ADD && ir_type_kind(in->type) != K_FLOAT)
            return __atomic_fetch_add((uint32_t *)p, (uint32_t)b, __ATOMIC_SEQ_CST);
        uint32_t old = __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n((uint32_t *)p, &old,
                                            (uint32_t)atom_new(in, old, b, c, 32), 1,
                                            __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        }
        return old;
    }
    uint16_t old = __atomic_load_n((uint16_t *)p, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n((uint16_t *)p, &old, (uint16_t)atom_new(in, old, b, c, 16),
                                        1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
    return old;
}

int ex_atom(ex_warp *w, const ir_insn *in, uint32_t act)
{
    uint64_t *R = ex_regs(w, in);
    int red = in->op == OP_RED;
    const ir_operand *ao = &in->o[red ? 0 : 1];
    uint64_t *d = red ? NULL : ex_dst(w, R, &in->o[0]);
    const uint64_t *b = ex_src(w, R, &in->o[red ? 1 : 2], 2, act);
    const uint64_t *c = (!red && in->nops > 3) ? ex_src(w, R, &in->o[3], 3, act) : b;
    unsigned bytes = ir_type_bits(in->type) / 8;
    if (bytes != 2 && bytes != 4 && bytes != 8) {
        ex_fault(w, __builtin_ctz(act), PTX_ERR_ILLEGAL_INSTR, 0,
                 "line %u: unsupported atomic type", in->line);
        return 1;
    }
    int space = eff_space(in, ao);
    for (uint32_t m = act; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        void *p = ex_translate(w, space, addr_of(w, R, ao, l), bytes, l, 1);
        if (!p) return 1;
        uint64_t old = atom_rmw(in, p, bytes, b[l], c[l]);
        if (d) d[l] = old;
    }
    return 0;
}
