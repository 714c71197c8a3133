/* parse_insn.c — one PTX instruction into an ir_insn: opcode and modifier
 * words, operands (registers, immediates, addresses, vectors, symbols, labels),
 * call sites and jump tables. Label references are fixed up per function. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

typedef struct opdesc {
    const char *name;
    uint8_t op, nmin, nmax;
    uint8_t pipe; /* first operand may be "a|b": always occupies two slots */
} opdesc;

static const opdesc optab[] = {
    {"abs", OP_ABS, 2, 2, 0},
    {"add", OP_ADD, 3, 3, 0},
    {"addc", OP_ADDC, 3, 3, 0},
    {"sub", OP_SUB, 3, 3, 0},
    {"subc", OP_SUBC, 3, 3, 0},
    {"mul", OP_MUL, 3, 3, 0},
    {"mad", OP_MAD, 4, 4, 0},
    {"madc", OP_MADC, 4, 4, 0},
    {"mul24", OP_MUL24, 3, 3, 0},
    {"mad24", OP_MAD24, 4, 4, 0},
    {"sad", OP_SAD, 4, 4, 0},
    {"div", OP_DIV, 3, 3, 0},
    {"rem", OP_REM, 3, 3, 0},
    {"neg", OP_NEG, 2, 2, 0},
    {"min", OP_MIN, 3, 4, 0},
    {"max", OP_MAX, 3, 4, 0},
    {"popc", OP_POPC, 2, 2, 0},
    {"clz", OP_CLZ, 2, 2, 0},
    {"bfind", OP_BFIND, 2, 2, 0},
    {"fns", OP_FNS, 4, 4, 0},
    {"brev", OP_BREV, 2, 2, 0},
    {"bfe", OP_BFE, 4, 4, 0},
    {"bfi", OP_BFI, 5, 5, 0},
    {"prmt", OP_PRMT, 4, 4, 0},
    {"lop3", OP_LOP3, 5, 5, 0},
    {"and", OP_AND, 3, 3, 0},
    {"or", OP_OR, 3, 3, 0},
    {"xor", OP_XOR, 3, 3, 0},
    {"not", OP_NOT, 2, 2, 0},
    {"cnot", OP_CNOT, 2, 2, 0},
    {"shl", OP_SHL, 3, 3, 0},
    {"shr", OP_SHR, 3, 3, 0},
    {"shf", OP_SHF, 4, 4, 0},
    {"copysign", OP_COPYSIGN, 3, 3, 0},
    {"testp", OP_TESTP, 2, 2, 0},
    {"rcp", OP_RCP, 2, 2, 0},
    {"sqrt", OP_SQRT, 2, 2, 0},
    {"rsqrt", OP_RSQRT, 2, 2, 0},
    {"sin", OP_SIN, 2, 2, 0},
    {"cos", OP_COS, 2, 2, 0},
    {"lg2", OP_LG2, 2, 2, 0},
    {"ex2", OP_EX2, 2, 2, 0},
    {"tanh", OP_TANH, 2, 2, 0},
    {"fma", OP_FMA, 4, 4, 0},
    {"setp", OP_SETP, 4, 5, 1},
    {"set", OP_SET, 3, 4, 0},
    {"selp", OP_SELP, 4, 4, 0},
    {"slct", OP_SLCT, 4, 4, 0},
    {"mov", OP_MOV, 2, 2, 0},
    {"ld", OP_LD, 2, 3, 0},
    {"ldu", OP_LDU, 2, 3, 0},
    {"st", OP_ST, 2, 3, 0},
    {"cvta", OP_CVTA, 2, 2, 0},
    {"cvt", OP_CVT, 2, 4, 0},
    {"isspacep", OP_ISSPACEP, 2, 2, 0},
    {"atom", OP_ATOM, 3, 4, 0},
    {"red", OP_RED, 2, 3, 0},
    {"bar", OP_BAR, 0, 4, 0},
    {"barrier", OP_BARRIER, 0, 4, 0},
    {"membar", OP_MEMBAR, 0, 0, 0},
    {"fence", OP_FENCE, 0, 1, 0},
    {"bra", OP_BRA, 1, 1, 0},
    {"brx", OP_BRX, 2, 2, 0},
    {"ret", OP_RET, 0, 0, 0},
    {"exit", OP_EXIT, 0, 0, 0},
    {"trap", OP_TRAP, 0, 0, 0},
    {"brkpt", OP_BRKPT, 0, 0, 0},
    {"nanosleep", OP_NANOSLEEP, 1, 1, 0},
    {"shfl", OP_SHFL, 5, 6, 1},
    {"vote", OP_VOTE, 2, 3, 0},
    {"match", OP_MATCH, 4, 4, 1},
    {"redux", OP_REDUX, 3, 3, 0},
    {"activemask", OP_ACTIVEMASK, 1, 1, 0},
    {"dp4a", OP_DP4A, 4, 4, 0},
    {"dp2a", OP_DP2A, 4, 4, 0},
    {"prefetch", OP_PREFETCH, 1, 1, 0},
    {"prefetchu", OP_PREFETCHU, 1, 1, 0},
    {"elect", OP_ELECT, 3, 3, 1},
    {"pmevent", OP_PMEVENT, 1, 1, 0},
    {"discard", OP_DISCARD, 1, 2, 0},
    {"applypriority", OP_APPLYPRIORITY, 1, 2, 0},
    {"griddepcontrol", OP_GRIDDEP, 0, 0, 0},
    {"createpolicy", OP_CREATEPOLICY, 2, 4, 0},
    {"call", OP_CALL, 0, 0, 0},
    {"bmsk", OP_BMSK, 3, 3, 0},
    {"szext", OP_SZEXT, 3, 3, 0},
    {"cp", OP_CP, 0, 4, 0},
    {"mbarrier", OP_MBARRIER, 1, 4, 0},
    {"wmma", OP_WMMA, 2, 4, 0},
    {"vadd", OP_VADD, 3, 4, 0},
    {"vsub", OP_VSUB, 3, 4, 0},
    {"vabsdiff", OP_VABSDIFF, 3, 4, 0},
    {"vmin", OP_VMIN, 3, 4, 0},
    {"vmax", OP_VMAX, 3, 4, 0},
    {"vshl", OP_VSHL, 3, 4, 0},
    {"vshr", OP_VSHR, 3, 4, 0},
    {"vadd2", OP_VADD2, 4, 4, 0},
    {"vsub2", OP_VSUB2, 4, 4, 0},
    {"vavrg2", OP_VAVRG2, 4, 4, 0},
    {"vabsdiff2", OP_VABSDIFF2, 4, 4, 0},
    {"vmin2", OP_VMIN2, 4, 4, 0},
    {"vmax2", OP_VMAX2, 4, 4, 0},
    {"vset2", OP_VSET2, 4, 4, 0},
    {"vadd4", OP_VADD4, 4, 4, 0},
    {"vsub4", OP_VSUB4, 4, 4, 0},
    {"vavrg4", OP_VAVRG4, 4, 4, 0},
    {"vabsdiff4", OP_VABSDIFF4, 4, 4, 0},
    {"vmin4", OP_VMIN4, 4, 4, 0},
    {"vmax4", OP_VMAX4, 4, 4, 0},
    {"vset4", OP_VSET4, 4, 4, 0},
    {"mma", OP_MMA, 4, 4, 0},
    {"ldmatrix", OP_LDMATRIX, 2, 2, 0},
    {"stmatrix", OP_STMATRIX, 2, 2, 0},
};

const char *ir_op_name(unsigned op)
{
    for (size_t i = 0; i < sizeof optab / sizeof optab[0]; i++)
        if (optab[i].op == op) return optab[i].name;
    return "?";
}

/* ---- modifier words ---- */

enum wcat { W_IGNORE, W_TYPE, W_SPACE, W_RND, W_SUB, W_FLAG, W_VEC, W_CMPLO, W_SHAPE, W_LAYOUT };

typedef struct word {
    const char *w;
    uint8_t cat;
    uint32_t val;
} word;

static const word words[] = {
    {"global", W_SPACE, S_GLOBAL},
    {"const", W_SPACE, S_CONST},
    {"shared", W_SPACE, S_SHARED},
    {"shared::cta", W_SPACE, S_SHARED},
    {"shared::cluster", W_SPACE, S_SHARED},
    {"local", W_SPACE, S_LOCAL},
    {"param", W_SPACE, S_PARAM},
    {"param::entry", W_SPACE, S_PARAM},
    {"param::func", W_SPACE, S_PARAM},
    {"rn", W_RND, R_RN},
    {"rz", W_RND, R_RZ},
    {"rm", W_RND, R_RM},
    {"rp", W_RND, R_RP},
    {"rni", W_RND, R_RNI},
    {"rzi", W_RND, R_RZI},
    {"rmi", W_RND, R_RMI},
    {"rpi", W_RND, R_RPI},
    {"rna", W_RND, R_RNA},
    {"eq", W_SUB, M_EQ},
    {"ne", W_SUB, M_NE},
    {"lt", W_SUB, M_LT},
    {"le", W_SUB, M_LE},
    {"gt", W_SUB, M_GT},
    {"ge", W_SUB, M_GE},
    {"lo", W_CMPLO, M_LO},
    {"ls", W_SUB, M_LS},
    {"hi", W_CMPLO, M_HI},
    {"hs", W_SUB, M_HS},
    {"equ", W_SUB, M_EQU},
    {"neu", W_SUB, M_NEU},
    {"ltu", W_SUB, M_LTU},
    {"leu", W_SUB, M_LEU},
    {"gtu", W_SUB, M_GTU},
    {"geu", W_SUB, M_GEU},
    {"num", W_SUB, M_NUM},
    {"nan", W_SUB, M_NAN},
    {"and", W_SUB, M_AND},
    {"or", W_SUB, M_OR},
    {"xor", W_SUB, M_XOR},
    {"add", W_SUB, M_ADD},
    {"min", W_SUB, M_MIN},
    {"max", W_SUB, M_MAX},
    {"inc", W_SUB, M_INC},
    {"dec", W_SUB, M_DEC},
    {"exch", W_SUB, M_EXCH},
    {"cas", W_SUB, M_CAS},
    {"up", W_SUB, M_UP},
    {"down", W_SUB, M_DOWN},
    {"bfly", W_SUB, M_BFLY},
    {"idx", W_SUB, M_IDX},
    {"all", W_SUB, M_ALL},
    {"any", W_SUB, M_ANY},
    {"ballot", W_SUB, M_BALLOT},
    {"f4e", W_SUB, M_F4E},
    {"b4e", W_SUB, M_B4E},
    {"rc8", W_SUB, M_RC8},
    {"ecl", W_SUB, M_ECL},
    {"ecr", W_SUB, M_ECR},
    {"rc16", W_SUB, M_RC16},
    {"finite", W_SUB, M_FINITE},
    {"infinite", W_SUB, M_INFINITE},
    {"number", W_SUB, M_NUMBER},
    {"notanumber", W_SUB, M_NOTANUMBER},
    {"normal", W_SUB, M_NORMAL},
    {"subnormal", W_SUB, M_SUBNORMAL},
    {"l", W_SUB, M_L},
    {"r", W_SUB, M_R},
    {"arrive", W_SUB, M_ARRIVE},
    {"red", W_SUB, M_RED},
    {"popc", W_SUB, M_POPC},
    {"warp", W_SUB, M_WARP},
    {"init", W_SUB, M_INIT},
    {"inval", W_SUB, M_INVAL},
    {"arrive_drop", W_SUB, M_ARRIVE_DROP},
    {"test_wait", W_SUB, M_TEST_WAIT},
    {"try_wait", W_SUB, M_TRY_WAIT},
    {"pending_count", W_SUB, M_PENDING},
    {"expect_tx", W_SUB, M_EXPECT_TX},
    {"complete_tx", W_SUB, M_COMPLETE_TX},
    {"mbarrier", W_SUB, M_MBARRIER},
    {"load", W_SUB, M_LOAD},
    {"store", W_SUB, M_STORE},
    {"mma", W_SUB, M_MMA},
    {"a", W_SUB, M_FA},
    {"b", W_SUB, M_FB},
    {"c", W_SUB, M_FC},
    {"d", W_SUB, M_FD},
    {"row", W_LAYOUT, 0},
    {"col", W_LAYOUT, 1},
    {"m16n16k16", W_SHAPE, W_M16N16K16},
    {"m32n8k16", W_SHAPE, W_M32N8K16},
    {"m8n32k16", W_SHAPE, W_M8N32K16},
    {"m16n16k8", W_SHAPE, W_M16N16K8},
    {"m8n8k4", W_SHAPE, W_M8N8K4},
    {"tf32", W_TYPE, T_TF32},
    {"e4m3", W_TYPE, T_E4M3},
    {"e5m2", W_TYPE, T_E5M2},
    {"e4m3x2", W_TYPE, T_E4M3X2},
    {"e5m2x2", W_TYPE, T_E5M2X2},
    {"u16x2", W_TYPE, T_U16X2},
    {"s16x2", W_TYPE, T_S16X2},
    {"pack", W_FLAG, F_PACK},
    {"satfinite", W_FLAG, F_SATF},
    {"m16n8k16", W_SHAPE, W_M16N8K16},
    {"m16n8k8", W_SHAPE, W_M16N8K8},
    {"m16n8k32", W_SHAPE, W_M16N8K32},
    {"m8n8", W_SHAPE, W_M8N8},
    {"trans", W_FLAG, F_TRANS},
    {"x1", W_IGNORE, 0},
    {"x2", W_IGNORE, 0},
    {"x4", W_IGNORE, 0},
    {"parity", W_FLAG, F_PARITY},
    {"noinc", W_FLAG, F_NOINC},
    {"noComplete", W_FLAG, F_NOCOMPLETE},
    {"sat", W_FLAG, F_SAT},
    {"ftz", W_FLAG, F_FTZ},
    {"approx", W_FLAG, F_APPROX},
    {"wide", W_FLAG, F_WIDE},
    {"wrap", W_FLAG, F_WRAP},
    {"clamp", W_FLAG, F_CLAMP},
    {"to", W_FLAG, F_TO},
    {"shiftamt", W_FLAG, F_SHIFTAMT},
    {"NaN", W_FLAG, F_NANP},
    {"cc", W_FLAG, F_CC},
    {"full", W_FLAG, F_FULL},
    {"abs", W_FLAG, F_ABS},
    {"relu", W_FLAG, F_RELU},
    {"v2", W_VEC, 2},
    {"v4", W_VEC, 4},
    {"v8", W_VEC, 8},
    {"sync", W_IGNORE, 0},
    {"aligned", W_IGNORE, 0},
    {"volatile", W_IGNORE, 0},
    {"relaxed", W_IGNORE, 0},
    {"acquire", W_IGNORE, 0},
    {"release", W_IGNORE, 0},
    {"acq_rel", W_IGNORE, 0},
    {"sc", W_IGNORE, 0},
    {"weak", W_IGNORE, 0},
    {"mmio", W_IGNORE, 0},
    {"cta", W_IGNORE, 0},
    {"gpu", W_IGNORE, 0},
    {"sys", W_IGNORE, 0},
    {"cluster", W_IGNORE, 0},
    {"gl", W_IGNORE, 0},
    {"nc", W_IGNORE, 0},
    {"ca", W_IGNORE, 0},
    {"cg", W_IGNORE, 0},
    {"cs", W_IGNORE, 0},
    {"lu", W_IGNORE, 0},
    {"cv", W_IGNORE, 0},
    {"wb", W_IGNORE, 0},
    {"wt", W_IGNORE, 0},
    {"uni", W_IGNORE, 0},
    {"proxy", W_IGNORE, 0},
    {"alias", W_IGNORE, 0},
    {"async", W_IGNORE, 0},
    {"noftz", W_IGNORE, 0},
    {"wait", W_IGNORE, 0},
    {"launch_dependents", W_IGNORE, 0},
    {"unified", W_IGNORE, 0},
    {"fractional", W_IGNORE, 0},
    {"range", W_IGNORE, 0},
    {"cvt", W_IGNORE, 0},
    {"L1", W_IGNORE, 0},
    {"L2", W_IGNORE, 0},
    {"level", W_IGNORE, 0},
    {"L2::cache_hint", W_IGNORE, 0},
    {"commit_group", W_IGNORE, 0},
    {"wait_group", W_IGNORE, 0},
    {"wait_all", W_IGNORE, 0},
    {"pred", W_TYPE, T_PRED},
    {"b8", W_TYPE, T_B8},
    {"b16", W_TYPE, T_B16},
    {"b32", W_TYPE, T_B32},
    {"b64", W_TYPE, T_B64},
    {"b128", W_TYPE, T_B128},
    {"u8", W_TYPE, T_U8},
    {"u16", W_TYPE, T_U16},
    {"u32", W_TYPE, T_U32},
    {"u64", W_TYPE, T_U64},
    {"s8", W_TYPE, T_S8},
    {"s16", W_TYPE, T_S16},
    {"s32", W_TYPE, T_S32},
    {"s64", W_TYPE, T_S64},
    {"f16", W_TYPE, T_F16},
    {"f16x2", W_TYPE, T_F16X2},
    {"bf16", W_TYPE, T_BF16},
    {"bf16x2", W_TYPE, T_BF16X2},
    {"f32", W_TYPE, T_F32},
    {"f64", W_TYPE, T_F64},
};

static const word ignore_word = {"", W_IGNORE, 0};

static const word *find_word(const ptx_token *t)
{
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (ptx_tok_is(t, words[i].w)) return &words[i];
    /* cache-eviction hints such as L1::evict_last, L2::256B */
    if (t->len > 4 && (memcmp(t->text, "L1::", 4) == 0 || memcmp(t->text, "L2::", 4) == 0))
        return &ignore_word;
    return NULL;
}

static void apply_word(parser *p, ir_insn *in, const ptx_token *t, int *ntypes)
{
    const word *w = find_word(t);
    if (!w)
        pp_error(p, t, "unsupported modifier '.%.*s' on %s", (int)t->len, t->text,
                 ir_op_name(in->op));
    int cmp_ctx = in->op == OP_SETP || in->op == OP_SET;
    switch (w->cat) {
    case W_TYPE:
        if (*ntypes == 0)
            in->type = (uint8_t)w->val;
        else if (*ntypes == 1)
            in->type2 = (uint8_t)w->val;
        else if (*ntypes < 4)
            in->xt[*ntypes - 2] = (uint8_t)w->val;
        (*ntypes)++;
        break;
    case W_SHAPE:
        in->shape = (uint8_t)w->val;
        break;
    case W_LAYOUT: /* ".row"/".col": first and second layout */
        in->lay |= (uint8_t)(w->val << ((in->flags & F_LAYOUT2) ? 1 : 0));
        in->flags |= F_LAYOUT2;
        break;
    case W_SPACE:
        if (in->op == OP_CP && in->space)
            in->type2 = (uint8_t)w->val; /* cp.async.shared.global */
        else
            in->space = (uint8_t)w->val;
        break;
    case W_RND:
        in->rnd = (uint8_t)w->val;
        break;
    case W_VEC:
        in->vec = (uint8_t)w->val;
        break;
    case W_FLAG:
        in->flags |= w->val;
        break;
    case W_CMPLO:
        if (!cmp_ctx) {
            in->flags |= w->val == M_LO ? F_LO : F_HI;
            break;
        }
        /* fall through */
    case W_SUB:
        if (ptx_tok_is(t, "uni") && (in->op == OP_BRA || in->op == OP_CALL || in->op == OP_RET))
            break;
        if (!in->mod)
            in->mod = (uint8_t)w->val;
        else
            in->mod2 = (uint8_t)w->val;
        break;
    default:
        if (ptx_tok_is(t, "uni") && in->op == OP_VOTE) in->mod = in->mod ? in->mod : M_UNI;
        if (ptx_tok_is(t, "uni")) in->flags |= F_UNI;
        break;
    }
}

/* ---- registers and operands ---- */

int pp_reg_index(parser *p, const ptx_token *t, uint32_t *out)
{
    psym *s = pp_lookup(&p->syms, t->text, t->len);
    if (s && s->kind == SYM_REG && !s->size) {
        *out = s->idx;
        return 1;
    }
    size_t n = t->len;
    while (n > 0 && t->text[n - 1] >= '0' && t->text[n - 1] <= '9')
        n--;
    if (n == t->len || n == 0 || t->len - n > 9) return 0;
    if (t->len - n > 1 && t->text[n] == '0') return 0; /* %r01 is not %r1 */
    uint32_t k = 0;
    for (size_t i = n; i < t->len; i++)
        k = k * 10 + (uint32_t)(t->text[i] - '0');
    s = pp_lookup(&p->syms, t->text, n);
    if (!s || s->kind != SYM_REG || !s->size || k >= s->size) return 0;
    *out = s->idx + k;
    return 1;
}

typedef struct sregdesc {
    const char *name;
    uint8_t id; /* with xyz: id of .x */
    uint8_t xyz;
} sregdesc;

static const sregdesc sregs[] = {
    {"%tid", SR_TID_X, 1},
    {"%ntid", SR_NTID_X, 1},
    {"%ctaid", SR_CTAID_X, 1},
    {"%nctaid", SR_NCTAID_X, 1},
    {"%clusterid", SR_CTAID_X, 1},
    {"%nclusterid", SR_NCTAID_X, 1},
    {"%cluster_ctaid", SR_ZERO, 2},
    {"%cluster_nctaid", SR_ONE, 2},
    {"%laneid", SR_LANEID, 0},
    {"%warpid", SR_WARPID, 0},
    {"%nwarpid", SR_NWARPID, 0},
    {"%smid", SR_SMID, 0},
    {"%nsmid", SR_NSMID, 0},
    {"%gridid", SR_GRIDID, 0},
    {"%lanemask_eq", SR_LANEMASK_EQ, 0},
    {"%lanemask_lt", SR_LANEMASK_LT, 0},
    {"%lanemask_le", SR_LANEMASK_LE, 0},
    {"%lanemask_gt", SR_LANEMASK_GT, 0},
    {"%lanemask_ge", SR_LANEMASK_GE, 0},
    {"%clock", SR_CLOCK, 0},
    {"%clock64", SR_CLOCK64, 0},
    {"%globaltimer", SR_GLOBALTIMER, 0},
    {"%globaltimer_lo", SR_GLOBALTIMER_LO, 0},
    {"%globaltimer_hi", SR_GLOBALTIMER_HI, 0},
    {"%dynamic_smem_size", SR_DYN_SMEM, 0},
    {"%total_smem_size", SR_TOTAL_SMEM, 0},
    {"%aggr_smem_size", SR_TOTAL_SMEM, 0},
    {"%cluster_ctarank", SR_ZERO, 0},
    {"%cluster_nctarank", SR_ONE, 0},
    {"%is_explicit_cluster", SR_ZERO, 0},
    {"%reserved_smem_offset_begin", SR_RESV_BEGIN, 0},
    {"%reserved_smem_offset_end", SR_RESV_END, 0},
    {"%reserved_smem_offset_cap", SR_RESV_CAP, 0},
    {"%reserved_smem_offset_0", SR_RESV_0, 0},
    {"%reserved_smem_offset_1", SR_RESV_1, 0},
    {"%current_graph_exec", SR_ZERO, 0},
    {"%clock_hi", SR_ZERO, 0},
};

static int parse_sreg(parser *p, ir_operand *o)
{
    const ptx_token *t = &p->lx.tok;
    for (size_t i = 0; i < sizeof sregs / sizeof sregs[0]; i++) {
        if (!ptx_tok_is(t, sregs[i].name)) continue;
        o->kind = O_SREG;
        o->idx = sregs[i].id;
        if (o->idx >= SR_RESV_BEGIN && o->idx <= SR_RESV_1) p->m->uses_reserved_smem = true;
        pp_next(p);
        if (sregs[i].xyz) {
            const ptx_token *c = &p->lx.tok;
            int k = ptx_tok_is(c, "x") ? 0 : ptx_tok_is(c, "y") ? 1 : ptx_tok_is(c, "z") ? 2 : -1;
            if (k < 0) pp_error(p, c, "expected .x, .y or .z");
            if (sregs[i].xyz == 1) o->idx += (uint32_t)k;
            pp_next(p);
        }
        return 1;
    }
    if (t->len > 7 && (memcmp(t->text, "%envreg", 7) == 0 || memcmp(t->text, "%pm", 3) == 0)) {
        o->kind = O_SREG;
        o->idx = SR_ZERO; /* %envreg1:%envreg2 is the cooperative grid workspace, the rest 0 */
        if (t->len == 8 && t->text[7] == '1') o->idx = SR_ENVREG1;
        if (t->len == 8 && t->text[7] == '2') o->idx = SR_ENVREG2;
        pp_next(p);
        return 1;
    }
    return 0;
}

static uint64_t f2bits(double d, int type)
{
    uint64_t b = 0;
    if (type == T_F32) {
        float f = (float)d;
        memcpy(&b, &f, 4);
    } else if (type == T_F64) {
        memcpy(&b, &d, 8);
    } else if (type == T_F16) {
        _Float16 h = (_Float16)d;
        memcpy(&b, &h, 2);
    }
    return b;
}

/* Immediate literal, converted to the bit pattern the operand's type needs. */
static void parse_imm(parser *p, ir_operand *o, int type, int neg)
{
    const ptx_token *t = &p->lx.tok;
    uint64_t v = t->ival;
    int fty = ir_type_kind((unsigned)type) == K_FLOAT && type != T_BF16 && type != T_BF16X2 &&
              type != T_F16X2;
    if (t->kind == TK_INT) {
        v = neg ? 0 - v : v;
        if (fty && type != T_F16) v = f2bits(neg ? -(double)t->ival : (double)t->ival, type);
    } else if (t->kind == TK_F32) {
        float f;
        uint32_t u = (uint32_t)t->ival;
        memcpy(&f, &u, 4);
        if (neg) f = -f;
        if (fty && type != T_F32)
            v = f2bits(f, type);
        else
            memcpy(&u, &f, 4), v = u;
    } else if (t->kind == TK_F64) {
        double d = neg ? -t->fval : t->fval;
        v = (fty && type != T_F64) ? f2bits(d, type) : ({
            uint64_t b;
            memcpy(&b, &d, 8);
            b;
        });
    } else {
        pp_error(p, t, "expected an operand before '%.*s'", (int)t->len, t->text);
    }
    o->kind = O_IMM;
    o->val = (int64_t)v;
    o->idx = pp_konst(p, v);
    pp_next(p);
}

static void add_fixup(parser *p, uint32_t insn, uint32_t slot, const ptx_token *t, int is_brx)
{
    p->fix = pp_grow(p, p->fix, &p->capfix, p->nfix + 1, sizeof *p->fix);
    pfixup *f = &p->fix[p->nfix++];
    f->insn = insn;
    f->slot = slot;
    f->name = t->text;
    f->len = (uint32_t)t->len;
    f->line = t->line;
    f->col = t->col;
    f->is_brx = is_brx;
}

/* A named symbol as an operand: variable/shared/local/param address, function. */
static int symbol_operand(parser *p, ir_operand *o, const ptx_token *t)
{
    psym *s = pp_lookup(&p->syms, t->text, t->len);
    if (!s || s->kind == SYM_REG) return 0;
    o->kind = O_SYM;
    switch (s->kind) {
    case SYM_VAR:
        o->abase = A_VAR, o->idx = s->idx;
        break;
    case SYM_SHARED:
        o->abase = A_SHARED, o->val = s->off;
        break;
    case SYM_SHOWN:
        o->abase = A_SHOWN, o->val = s->off;
        break;
    case SYM_DYNSMEM:
        o->abase = A_DYNSMEM;
        break;
    case SYM_LOCAL:
        o->abase = A_LOCAL, o->val = s->off;
        break;
    case SYM_KPARAM:
        o->abase = A_KPARAM, o->val = s->off;
        break;
    case SYM_FUNC:
        o->kind = O_FUNC, o->idx = s->idx;
        break;
    }
    return 1;
}

static int64_t parse_offset(parser *p)
{
    int64_t sign = 1;
    if (pp_is_punct(&p->lx.tok, '+'))
        pp_next(p);
    else if (pp_is_punct(&p->lx.tok, '-'))
        sign = -1, pp_next(p);
    else
        return 0;
    if (pp_is_punct(&p->lx.tok, '-')) sign = -sign, pp_next(p);
    const ptx_token *t = &p->lx.tok;
    if (t->kind != TK_INT) pp_error(p, t, "expected an offset");
    int64_t v = (int64_t)t->ival * sign;
    pp_next(p);
    return v;
}

static void parse_address(parser *p, ir_operand *o)
{
    pp_next(p); /* '[' */
    const ptx_token t = p->lx.tok;
    uint32_t r;
    o->kind = O_ADDR;
    if (t.kind == TK_INT) {
        o->abase = A_NONE;
        o->val = (int64_t)t.ival;
        pp_next(p);
    } else if (t.kind == TK_ID && pp_reg_index(p, &t, &r)) {
        o->abase = A_REG;
        o->idx = r;
        pp_next(p);
    } else if (t.kind == TK_ID && symbol_operand(p, o, &t) && o->kind == O_SYM) {
        o->kind = O_ADDR;
        pp_next(p);
    } else {
        pp_error(p, &t, "bad address '%.*s'", (int)t.len, t.text);
    }
    o->val += parse_offset(p);
    pp_expect_punct(p, ']');
}

static void parse_operand(parser *p, ir_insn *in, ir_operand *o, int type, uint32_t slot);

static void parse_vector(parser *p, ir_insn *in, ir_operand *o, int type)
{
    ir_operand tmp[8];
    unsigned n = 0;
    pp_next(p); /* '{' */
    while (!pp_is_punct(&p->lx.tok, '}')) {
        if (n == 8) pp_error(p, &p->lx.tok, "vector too long");
        memset(&tmp[n], 0, sizeof tmp[n]);
        if (pp_is_punct(&p->lx.tok, '{') || pp_is_punct(&p->lx.tok, '['))
            pp_error(p, &p->lx.tok, "vector elements must be registers");
        parse_operand(p, in, &tmp[n], type, 99);
        if (tmp[n].kind != O_REG && tmp[n].kind != O_IMM && tmp[n].kind != O_NONE)
            pp_error(p, &p->lx.tok, "vector elements must be registers");
        n++;
        if (!pp_is_punct(&p->lx.tok, ',')) break;
        pp_next(p);
    }
    pp_expect_punct(p, '}');
    ptx_module *m = p->m;
    m->vecs = pp_grow(p, m->vecs, &p->capvecs, m->nvecs + n, sizeof *m->vecs);
    memcpy(&m->vecs[m->nvecs], tmp, n * sizeof *tmp);
    o->kind = O_VEC;
    o->idx = (uint32_t)m->nvecs;
    o->n = (uint8_t)n;
    m->nvecs += n;
}

static void parse_operand(parser *p, ir_insn *in, ir_operand *o, int type, uint32_t slot)
{
    const ptx_token *t = &p->lx.tok;
    uint32_t r;
    if (pp_is_punct(t, '[')) {
        parse_address(p, o);
    } else if (pp_is_punct(t, '{')) {
        parse_vector(p, in, o, type);
    } else if (pp_is_punct(t, '!')) {
        pp_next(p);
        if (p->lx.tok.kind != TK_ID || !pp_reg_index(p, &p->lx.tok, &r))
            pp_error(p, &p->lx.tok, "expected a predicate after '!'");
        o->kind = O_REG, o->idx = r, o->neg = 1;
        pp_next(p);
    } else if (pp_is_punct(t, '-')) {
        pp_next(p);
        parse_imm(p, o, type, 1);
    } else if (t->kind == TK_INT || t->kind == TK_F32 || t->kind == TK_F64) {
        parse_imm(p, o, type, 0);
    } else if (t->kind == TK_ID) {
        if (ptx_tok_is(t, "_")) {
            o->kind = O_NONE;
            pp_next(p);
        } else if (ptx_tok_is(t, "WARP_SZ")) { /* predefined constant */
            o->kind = O_IMM;
            o->val = 32;
            o->idx = pp_konst(p, 32);
            pp_next(p);
        } else if (t->text[0] == '%' && parse_sreg(p, o)) {
        } else if (pp_reg_index(p, t, &r)) {
            o->kind = O_REG, o->idx = r;
            pp_next(p);
        } else if (symbol_operand(p, o, t)) {
            pp_next(p);
            if (o->kind == O_SYM) o->val += parse_offset(p);
        } else if (t->text[0] == '%') {
            pp_error(p, t, "unknown register '%.*s'", (int)t->len, t->text);
        } else if (slot < IR_MAXOPS) {
            o->kind = O_LABEL;
            add_fixup(p, (uint32_t)p->m->ncode, slot, t, 0);
            pp_next(p);
        } else {
            pp_error(p, t, "unknown symbol '%.*s'", (int)t->len, t->text);
        }
    } else {
        pp_error(p, t, "expected an operand before '%.*s'", (int)t->len, t->text);
    }
}

/* ---- calls ---- */

static ir_pslot *call_list(parser *p, ir_insn *in, uint32_t *n)
{
    ir_pslot *v = NULL;
    size_t cap = 0;
    *n = 0;
    int slot = pp_own(p);
    pp_next(p); /* '(' */
    while (!pp_is_punct(&p->lx.tok, ')')) {
        const ptx_token t = p->lx.tok;
        v = pp_grow(p, v, &cap, *n + 1, sizeof *v);
        p->owned[slot] = v;
        ir_pslot *s = &v[*n];
        psym *sym = t.kind == TK_ID ? pp_lookup(&p->syms, t.text, t.len) : NULL;
        parse_operand(p, in, &s->where, T_B64, 99);
        if (s->where.kind == O_SYM && s->where.abase == A_LOCAL && sym)
            s->size = sym->size;
        else if (s->where.kind == O_REG)
            s->size = sym && sym->kind == SYM_REG && ir_type_bits(sym->type) == 64 ? 8 : 4;
        else if (s->where.kind == O_IMM)
            s->size = 8;
        else
            pp_error(p, &t, "bad call argument '%.*s'", (int)t.len, t.text);
        (*n)++;
        if (!pp_is_punct(&p->lx.tok, ',')) break;
        pp_next(p);
    }
    pp_expect_punct(p, ')');
    pp_disown(p, slot);
    return v;
}

static void parse_call(parser *p, ir_insn *in)
{
    ptx_module *m = p->m;
    m->calls = pp_grow(p, m->calls, &p->capcalls, m->ncalls + 1, sizeof *m->calls);
    ir_call *c = &m->calls[m->ncalls];
    memset(c, 0, sizeof *c);
    in->o[0].kind = O_IMM;
    in->o[0].idx = (uint32_t)m->ncalls++;
    if (pp_is_punct(&p->lx.tok, '(')) {
        c->rets = call_list(p, in, &c->nrets);
        pp_expect_punct(p, ',');
    }
    const ptx_token t = p->lx.tok;
    parse_operand(p, in, &in->o[1], T_B64, 99);
    if (in->o[1].kind == O_FUNC)
        c->target = (int32_t)in->o[1].idx;
    else if (in->o[1].kind == O_REG)
        c->target = -1;
    else
        pp_error(p, &t, "call target must be a function or register");
    if (pp_is_punct(&p->lx.tok, ',')) {
        pp_next(p);
        if (pp_is_punct(&p->lx.tok, '(')) {
            c->args = call_list(p, in, &c->nargs);
            if (pp_is_punct(&p->lx.tok, ',')) pp_next(p), pp_next(p); /* prototype or target list */
        } else {
            pp_next(p);
        }
    }
    in->nops = 2;
}

/* ---- labels ---- */

void pp_resolve_labels(parser *p)
{
    for (size_t i = 0; i < p->nfix; i++) {
        pfixup *f = &p->fix[i];
        psym *s = pp_lookup(&p->labels, f->name, f->len);
        ptx_token t = {.line = f->line, .col = f->col};
        if (!s) pp_error(p, &t, "unknown label or symbol '%.*s'", (int)f->len, f->name);
        if (f->is_brx) {
            if (s->kind != SYM_FUNC) pp_error(p, &t, "bad branch target list entry");
            p->m->brx_tab[f->slot] = s->idx;
            continue;
        }
        ir_operand *o = &p->m->code[f->insn].o[f->slot];
        if (s->kind == SYM_VAR) { /* .branchtargets list */
            o->kind = O_LABEL;
            o->idx = (uint32_t)s->off;
            o->n = 0;
            o->val = s->size;
        } else {
            o->val = s->idx;
        }
    }
    p->nfix = 0;
}

/* "name: .branchtargets L1, L2;" and "name: .callprototype ...;" after a label;
 * returns 0 for other directives (left to the caller). */
int pp_label_directive(parser *p, const ptx_token *label)
{
    const ptx_token *t = &p->lx.tok;
    if (ptx_tok_is(t, "callprototype")) {
        while (!pp_is_punct(&p->lx.tok, ';') && p->lx.tok.kind != TK_EOF)
            pp_next(p);
        pp_expect_punct(p, ';');
        return 1;
    }
    if (!ptx_tok_is(t, "branchtargets")) return 0;
    psym *s = pp_lookup(&p->labels, label->text, label->len);
    s->kind = SYM_VAR;
    s->off = (int64_t)p->m->nbrx;
    pp_next(p);
    for (;;) {
        const ptx_token *l = &p->lx.tok;
        if (l->kind != TK_ID) pp_error(p, l, "expected a label");
        p->m->brx_tab =
            pp_grow(p, p->m->brx_tab, &p->capbrx, p->m->nbrx + 1, sizeof *p->m->brx_tab);
        add_fixup(p, 0, (uint32_t)p->m->nbrx++, l, 1);
        s->size++;
        pp_next(p);
        if (!pp_is_punct(&p->lx.tok, ',')) break;
        pp_next(p);
    }
    pp_expect_punct(p, ';');
    return 1;
}

/* ---- instructions ---- */

static const opdesc *find_op(const ptx_token *t)
{
    for (size_t i = 0; i < sizeof optab / sizeof optab[0]; i++)
        if (ptx_tok_is(t, optab[i].name)) return &optab[i];
    return NULL;
}

static int operand_type(const ir_insn *in, unsigned slot)
{
    if (in->op == OP_CVT && slot == 1) return in->type2;
    if ((in->op == OP_SET) && slot >= 1) return in->type2;
    if ((in->op == OP_SLCT) && slot == 3) return in->type2;
    if (in->op == OP_SETP && slot == 4) return T_PRED;
    return in->type;
}

static void parse_operands(parser *p, ir_insn *in, const opdesc *d)
{
    unsigned n = 0;
    while (!pp_is_punct(&p->lx.tok, ';')) {
        if (n >= IR_MAXOPS) pp_error(p, &p->lx.tok, "too many operands");
        parse_operand(p, in, &in->o[n], operand_type(in, n), n);
        n++;
        if (d->pipe && n == 1) {
            if (pp_is_punct(&p->lx.tok, '|')) {
                pp_next(p);
                parse_operand(p, in, &in->o[n], T_PRED, n);
            }
            n++;
        }
        if (pp_is_punct(&p->lx.tok, ';')) break;
        if (!pp_is_punct(&p->lx.tok, ','))
            pp_error(p, &p->lx.tok, "expected ',' or ';' before '%.*s'", (int)p->lx.tok.len,
                     p->lx.tok.text);
        pp_next(p);
    }
    if (n < d->nmin || n > d->nmax + (d->pipe ? 0 : 0))
        pp_error(p, &p->lx.tok, "%s takes %u to %u operands, not %u", d->name, d->nmin, d->nmax, n);
    in->nops = (uint8_t)n;
}

/* Instructions defined only for floating-point, or only for integer/bit types. */
static void check_types(parser *p, const ir_insn *in, const ptx_token *at)
{
    static const uint8_t fonly[] = {OP_RCP, OP_SQRT, OP_RSQRT, OP_SIN,      OP_COS, OP_LG2,
                                    OP_EX2, OP_TANH, OP_TESTP, OP_COPYSIGN, OP_FMA};
    static const uint8_t ionly[] = {OP_POPC,  OP_CLZ,   OP_BREV, OP_BFIND, OP_BFE,  OP_BFI,
                                    OP_PRMT,  OP_LOP3,  OP_SHL,  OP_SHR,   OP_SHF,  OP_REM,
                                    OP_MUL24, OP_MAD24, OP_SAD,  OP_DP4A,  OP_DP2A, OP_CNOT,
                                    OP_FNS,   OP_BMSK,  OP_SZEXT};
    int isf = ir_type_kind(in->type) == K_FLOAT;
    for (size_t i = 0; i < sizeof fonly; i++)
        if (in->op == fonly[i] && !isf)
            pp_error(p, at, "%s needs a floating-point type", ir_op_name(in->op));
    for (size_t i = 0; i < sizeof ionly; i++)
        if (in->op == ionly[i] && isf)
            pp_error(p, at, "%s needs an integer or bit type", ir_op_name(in->op));
}

/* Check the operand kinds the interpreter relies on. */
static void check_operands(parser *p, const ir_insn *in, const ptx_token *at)
{
    check_types(p, in, at);
    int hint = in->op == OP_PREFETCH || in->op == OP_PREFETCHU || in->op == OP_DISCARD ||
               in->op == OP_APPLYPRIORITY;
    int mem = in->op == OP_LD || in->op == OP_LDU || in->op == OP_ST || in->op == OP_ATOM ||
              in->op == OP_RED || hint;
    unsigned ai = (in->op == OP_ST || in->op == OP_RED || hint) ? 0 : 1;
    if (mem && in->o[ai].kind != O_ADDR)
        pp_error(p, at, "%s needs an [address] operand", ir_op_name(in->op));
    if (in->op == OP_MBARRIER) return; /* address operand in slot 0 or 1 */
    if (in->op == OP_MMA) {
        for (unsigned i = 0; i < 4; i++)
            if (in->o[i].kind != O_VEC) pp_error(p, at, "mma needs {vector} operands");
        if (!in->shape) pp_error(p, at, "mma needs a shape");
        return;
    }
    if (in->op == OP_LDMATRIX || in->op == OP_STMATRIX) {
        int st = in->op == OP_STMATRIX;
        const ir_operand *v = &in->o[st ? 1 : 0];
        if (in->o[st ? 0 : 1].kind != O_ADDR || v->kind != O_VEC ||
            (v->n != 1 && v->n != 2 && v->n != 4))
            pp_error(p, at, "%s needs {1, 2 or 4 registers} and [address]", ir_op_name(in->op));
        return;
    }
    if (in->op == OP_WMMA) {
        int ld = in->mod == M_LOAD, st = in->mod == M_STORE;
        if (!in->shape || (!ld && !st && in->mod != M_MMA))
            pp_error(p, at, "unsupported wmma form");
        if (ld && (in->o[0].kind != O_VEC || in->o[1].kind != O_ADDR))
            pp_error(p, at, "wmma.load needs {regs}, [addr]");
        if (st && (in->o[0].kind != O_ADDR || in->o[1].kind != O_VEC))
            pp_error(p, at, "wmma.store needs [addr], {regs}");
        if (in->mod == M_MMA &&
            (in->nops != 4 || in->o[0].kind != O_VEC || in->o[1].kind != O_VEC ||
             in->o[2].kind != O_VEC || in->o[3].kind != O_VEC))
            pp_error(p, at, "wmma.mma needs four {fragments}");
        return;
    }
    if (in->op == OP_CP && in->mod == M_MBARRIER) {
        if (in->nops != 1 || in->o[0].kind != O_ADDR)
            pp_error(p, at, "cp.async.mbarrier.arrive needs [mbar]");
        return;
    }
    if (in->op == OP_CP) {
        if (in->nops == 2 ||
            (in->nops >= 3 && (in->o[0].kind != O_ADDR || in->o[1].kind != O_ADDR)))
            pp_error(p, at, "cp.async needs [dst], [src], size");
        return;
    }
    if (in->op == OP_BRA && in->o[0].kind != O_LABEL) pp_error(p, at, "bra needs a label");
    for (unsigned i = 0; i < in->nops; i++) {
        if (in->o[i].kind == O_ADDR && !(mem && i == ai))
            pp_error(p, at, "unexpected [address] operand for %s", ir_op_name(in->op));
        if (in->o[i].kind == O_LABEL && in->op != OP_BRA && in->op != OP_BRX)
            pp_error(p, at, "unknown symbol in %s", ir_op_name(in->op));
    }
    if ((in->op == OP_LD || in->op == OP_LDU || in->op == OP_ST) && in->vec > 1) {
        const ir_operand *v = &in->o[in->op == OP_ST ? 1 : 0];
        if (v->kind != O_VEC || v->n != in->vec)
            pp_error(p, at, "vector operand must have %u elements", in->vec);
    }
    if (in->op == OP_LD && in->o[0].kind != O_REG && in->o[0].kind != O_VEC &&
        in->o[0].kind != O_NONE)
        pp_error(p, at, "ld destination must be a register");
}

void pp_instruction(parser *p, int32_t guard, int guard_neg, uint32_t line)
{
    ptx_token opt = p->lx.tok;
    const opdesc *d = find_op(&opt);
    if (!d && pp_is_punct(ptx_lex_peek(&p->lx), ':') == 0 && opt.kind == TK_ID) {
        pp_error(p, &opt, "unsupported instruction '%.*s'", (int)opt.len, opt.text);
    }
    if (!d) pp_error(p, &opt, "unexpected '%.*s'", (int)opt.len, opt.text);
    ptx_module *m = p->m;
    m->code = pp_grow(p, m->code, &m->capcode, m->ncode + 1, sizeof *m->code);
    ir_insn *in = &m->code[m->ncode];
    memset(in, 0, sizeof *in);
    in->op = d->op;
    in->guard = guard;
    in->guard_neg = (uint8_t)guard_neg;
    in->func = (uint32_t)p->cur;
    in->line = line;
    int ntypes = 0;
    for (const ptx_token *t = pp_next(p); t->kind == TK_DOT; t = pp_next(p))
        apply_word(p, in, t, &ntypes);
    if (in->op == OP_CALL)
        parse_call(p, in);
    else
        parse_operands(p, in, d);
    check_operands(p, in, &opt);
    pp_expect_punct(p, ';');
    m->ncode++;
    if (m->ncode >= (1u << 28)) pp_error(p, &opt, "too many instructions");
}
