/* ir.h — the decoded form of a PTX module, shared by the parser and interpreter.
 * Instructions of every function live in one array; registers are per-function
 * indices, immediates index a table pre-broadcast to 32 lanes, branch targets
 * are instruction indices. Nothing here is visible outside simgpu/ptx. */
#ifndef SIMGPU_PTX_IR_H
#define SIMGPU_PTX_IR_H

#include "ptx.h"

#include <stdint.h>

/* Value types. Order matters: see ir_type_bits / ir_type_kind. */
enum ir_type {
    T_NONE,
    T_PRED,
    T_B8,
    T_B16,
    T_B32,
    T_B64,
    T_B128,
    T_U8,
    T_U16,
    T_U32,
    T_U64,
    T_S8,
    T_S16,
    T_S32,
    T_S64,
    T_F16,
    T_F16X2,
    T_BF16,
    T_BF16X2,
    T_F32,
    T_F64,
    T_TF32, /* wmma/mma operands only */
    T_E4M3,
    T_E5M2,
    T_E4M3X2,
    T_E5M2X2, /* fp8: mma operands, cvt */
    T_U16X2,
    T_S16X2, /* packed 16-bit integers */
    T_COUNT
};
enum ir_kind { K_BITS, K_UINT, K_SINT, K_FLOAT };

/* State spaces of ld/st/atom/cvta/variables. GENERIC is "no space given". */
enum ir_space { S_GENERIC, S_GLOBAL, S_CONST, S_SHARED, S_LOCAL, S_PARAM, S_NSPACE };

enum ir_op {
    OP_NONE,
    OP_ABS,
    OP_ADD,
    OP_ADDC,
    OP_SUB,
    OP_SUBC,
    OP_MUL,
    OP_MAD,
    OP_MADC,
    OP_MUL24,
    OP_MAD24,
    OP_SAD,
    OP_DIV,
    OP_REM,
    OP_NEG,
    OP_MIN,
    OP_MAX,
    OP_POPC,
    OP_CLZ,
    OP_BFIND,
    OP_FNS,
    OP_BREV,
    OP_BFE,
    OP_BFI,
    OP_PRMT,
    OP_LOP3,
    OP_AND,
    OP_OR,
    OP_XOR,
    OP_NOT,
    OP_CNOT,
    OP_SHL,
    OP_SHR,
    OP_SHF,
    OP_COPYSIGN,
    OP_TESTP,
    OP_RCP,
    OP_SQRT,
    OP_RSQRT,
    OP_SIN,
    OP_COS,
    OP_LG2,
    OP_EX2,
    OP_TANH,
    OP_FMA,
    OP_SETP,
    OP_SET,
    OP_SELP,
    OP_SLCT,
    OP_MOV,
    OP_LD,
    OP_LDU,
    OP_ST,
    OP_CVTA,
    OP_CVT,
    OP_ISSPACEP,
    OP_ATOM,
    OP_RED,
    OP_BAR,
    OP_BARRIER,
    OP_MEMBAR,
    OP_FENCE,
    OP_BRA,
    OP_BRX,
    OP_CALL,
    OP_RET,
    OP_EXIT,
    OP_TRAP,
    OP_BRKPT,
    OP_NANOSLEEP,
    OP_SHFL,
    OP_VOTE,
    OP_MATCH,
    OP_REDUX,
    OP_ACTIVEMASK,
    OP_DP4A,
    OP_DP2A,
    OP_PREFETCH,
    OP_PREFETCHU,
    OP_ELECT,
    OP_PMEVENT,
    OP_DISCARD,
    OP_APPLYPRIORITY,
    OP_CREATEPOLICY,
    OP_GRIDDEP,
    OP_BMSK,
    OP_SZEXT,
    OP_CP,
    OP_MBARRIER,
    OP_WMMA,
    OP_MMA,
    OP_LDMATRIX,
    OP_STMATRIX,
    OP_VADD,
    OP_VSUB,
    OP_VABSDIFF,
    OP_VMIN,
    OP_VMAX,
    OP_VSHL,
    OP_VSHR,
    OP_VADD2,
    OP_VSUB2,
    OP_VAVRG2,
    OP_VABSDIFF2,
    OP_VMIN2,
    OP_VMAX2,
    OP_VSET2,
    OP_VADD4,
    OP_VSUB4,
    OP_VAVRG4,
    OP_VABSDIFF4,
    OP_VMIN4,
    OP_VMAX4,
    OP_VSET4,
    OP_COUNT
};

/* Sub-operations: compare ops, atomic ops, shuffle/vote modes, ... Stored in
 * ir_insn.mod (first one named) and mod2 (second). */
enum ir_sub {
    M_NONE,
    M_EQ,
    M_NE,
    M_LT,
    M_LE,
    M_GT,
    M_GE,
    M_LO,
    M_LS,
    M_HI,
    M_HS,
    M_EQU,
    M_NEU,
    M_LTU,
    M_LEU,
    M_GTU,
    M_GEU,
    M_NUM,
    M_NAN,
    M_AND,
    M_OR,
    M_XOR,
    M_ADD,
    M_MIN,
    M_MAX,
    M_INC,
    M_DEC,
    M_EXCH,
    M_CAS,
    M_UP,
    M_DOWN,
    M_BFLY,
    M_IDX,
    M_ALL,
    M_ANY,
    M_UNI,
    M_BALLOT,
    M_F4E,
    M_B4E,
    M_RC8,
    M_ECL,
    M_ECR,
    M_RC16,
    M_FINITE,
    M_INFINITE,
    M_NUMBER,
    M_NOTANUMBER,
    M_NORMAL,
    M_SUBNORMAL,
    M_L,
    M_R,
    M_ARRIVE,
    M_RED,
    M_POPC,
    M_WARP,
    M_SYNC,
    M_LOAD,
    M_STORE,
    M_MMA,
    M_FA,
    M_FB,
    M_FC,
    M_FD,
    M_INIT,
    M_INVAL,
    M_ARRIVE_DROP,
    M_TEST_WAIT,
    M_TRY_WAIT,
    M_PENDING,
    M_EXPECT_TX,
    M_COMPLETE_TX,
    M_MBARRIER,
};

enum ir_wshape {
    W_NONE,
    W_M16N16K16,
    W_M32N8K16,
    W_M8N32K16,
    W_M16N16K8,
    W_M8N8K4,
    W_M16N8K16,
    W_M16N8K8,
    W_M16N8K32,
    W_M8N8
};

enum ir_rnd { R_NONE, R_RN, R_RZ, R_RM, R_RP, R_RNI, R_RZI, R_RMI, R_RPI, R_RNA };

enum ir_flag {
    F_SAT = 1 << 0,
    F_FTZ = 1 << 1,
    F_APPROX = 1 << 2,
    F_HI = 1 << 3,
    F_WIDE = 1 << 4,
    F_UNI = 1 << 5,
    F_WRAP = 1 << 6,
    F_CLAMP = 1 << 7,
    F_TO = 1 << 8,
    F_SHIFTAMT = 1 << 9,
    F_NANP = 1 << 10,
    F_CC = 1 << 11,
    F_LO = 1 << 12,
    F_FULL = 1 << 13,
    F_ABS = 1 << 14,
    F_RELU = 1 << 15,
    F_PARITY = 1 << 16,
    F_NOINC = 1 << 17,
    F_NOCOMPLETE = 1 << 18,
    F_SATF = 1 << 19,
    F_LAYOUT2 = 1 << 20, /* parser: a layout word has been seen */
    F_TRANS = 1 << 21,
    F_PACK = 1 << 22,
};

/* Operand kinds. */
enum ir_okind {
    O_NONE,  /* absent or "_" sink */
    O_REG,   /* idx = register (function-local); neg = "!%p" */
    O_IMM,   /* idx = const-table row; val = value (64-bit pattern) */
    O_SREG,  /* idx = special register id (enum ir_sreg) */
    O_ADDR,  /* [base + val]; base in abase (A_*), idx = register or variable */
    O_VEC,   /* {a, b, ...}: idx = first entry in module vec table, n entries */
    O_LABEL, /* val = instruction index */
    O_SYM,   /* address of a symbol: abase says which kind, idx/val as for O_ADDR */
    O_FUNC,  /* idx = function index */
};

/* Address bases (ir_operand.abase) for O_ADDR and O_SYM. */
enum ir_abase {
    A_NONE,    /* absolute: [val] */
    A_REG,     /* [reg + val] */
    A_VAR,     /* module .global/.const variable idx, + val */
    A_SHARED,  /* static shared offset val */
    A_DYNSMEM, /* extern .shared: dynamic base + val */
    A_LOCAL,   /* current frame + val (locals, call-site params, .func params) */
    A_KPARAM,  /* kernel parameter buffer + val */
    A_SHOWN,   /* parser only: kernel-own shared offset, rebased by layout */
};

enum ir_sreg {
    SR_TID_X,
    SR_TID_Y,
    SR_TID_Z,
    SR_NTID_X,
    SR_NTID_Y,
    SR_NTID_Z,
    SR_CTAID_X,
    SR_CTAID_Y,
    SR_CTAID_Z,
    SR_NCTAID_X,
    SR_NCTAID_Y,
    SR_NCTAID_Z,
    SR_LANEID,
    SR_WARPID,
    SR_NWARPID,
    SR_SMID,
    SR_NSMID,
    SR_GRIDID,
    SR_LANEMASK_EQ,
    SR_LANEMASK_LT,
    SR_LANEMASK_LE,
    SR_LANEMASK_GT,
    SR_LANEMASK_GE,
    SR_CLOCK,
    SR_CLOCK64,
    SR_GLOBALTIMER,
    SR_GLOBALTIMER_LO,
    SR_GLOBALTIMER_HI,
    SR_DYN_SMEM,
    SR_TOTAL_SMEM,
    SR_ZERO,
    SR_ONE,
    SR_ENVREG1, /* high / low half of the grid workspace (cooperative launches) */
    SR_ENVREG2,
    SR_RESV_BEGIN,
    SR_RESV_END,
    SR_RESV_CAP,
    SR_RESV_0,
    SR_RESV_1,
    SR_COUNT
};

typedef struct ir_operand {
    uint8_t kind;  /* enum ir_okind */
    uint8_t abase; /* enum ir_abase for O_ADDR/O_SYM */
    uint8_t neg;   /* "!" on a predicate operand */
    uint8_t n;     /* entries of O_VEC */
    uint32_t idx;
    int64_t val;
} ir_operand;

#define IR_MAXOPS 6

typedef struct ir_insn {
    uint8_t op;    /* enum ir_op */
    uint8_t type;  /* first type qualifier */
    uint8_t type2; /* second type qualifier (cvt source, dp4a b, ...) */
    uint8_t space; /* enum ir_space */
    uint8_t mod, mod2, rnd, vec;
    uint32_t flags;
    uint8_t nops;
    uint8_t shape, lay; /* wmma: enum ir_wshape; bit 0/1: first/second layout is .col */
    uint8_t xt[2];      /* third and fourth type qualifiers (wmma.mma) */
    uint8_t guard_neg;
    int32_t guard; /* predicate register or -1 */
    uint32_t func; /* owning function index */
    uint32_t line;
    ir_operand o[IR_MAXOPS];
} ir_insn;

/* A call-site argument or formal parameter: where it lives and how big. */
typedef struct ir_pslot {
    ir_operand where; /* O_SYM (A_LOCAL/A_KPARAM: val = offset; for formal
                       * parameters idx = alignment), O_REG or O_IMM */
    uint32_t size;
} ir_pslot;

typedef struct ir_func {
    char *name;
    bool is_entry, is_extern, visible;
    uint32_t start, end; /* instruction range */
    uint32_t nregs;
    uint32_t frame; /* bytes of frame: params, return values, locals */
    uint32_t nparams, nrets;
    ir_pslot *params; /* formal params: frame offsets (or kparam offsets) */
    ir_pslot *rets;
    uint32_t shared_own; /* own .shared bytes (entries only, placed after module's) */
    uint32_t builtin;    /* enum ir_builtin for externs we implement */
    bool recursive;
    ptx_kernel_info info; /* entries */
    ptx_param_info *pinfo;
    /* per-kernel register layout: base of every function in this kernel's file */
    uint32_t *reg_base;  /* [module nfuncs], entries only; UINT32_MAX = unreachable */
    uint32_t total_regs; /* entries: registers of all reachable functions */
    uint32_t local_size; /* entries: bytes of local memory per thread */
} ir_func;

enum ir_builtin { B_NONE, B_VPRINTF, B_ASSERTFAIL, B_MALLOC, B_FREE };

/* A call instruction's extra data (ir_insn.o[0].idx indexes module calls). */
typedef struct ir_call {
    uint32_t nargs, nrets;
    ir_pslot *args, *rets;
    int32_t target; /* function index, or -1 for indirect through o[1] */
} ir_call;

typedef struct ir_reloc {
    uint32_t var, offset, target, size; /* target: variable index; or func index + FUNC flag */
    int64_t addend;
    bool is_func;
} ir_reloc;

typedef struct ir_var {
    ptx_var_info info;
    char *name_buf;
    uint8_t *init_buf;
    bool is_extern; /* declared .extern and not (yet) defined in this module */
} ir_var;

struct ptx_kernel {
    struct ptx_module *mod;
    uint32_t func;
};

struct ptx_module {
    unsigned version, target;
    ir_insn *code;
    size_t ncode, capcode;
    ir_func *funcs;
    size_t nfuncs;
    ir_var *vars;
    size_t nvars;
    ir_reloc *relocs;
    size_t nrelocs;
    ir_call *calls;
    size_t ncalls;
    ir_operand *vecs; /* entries of O_VEC operands */
    size_t nvecs;
    uint64_t (*konst)[32]; /* immediates broadcast to 32 lanes */
    size_t nkonst;
    uint32_t *brx_tab; /* brx.idx label lists */
    size_t nbrx;
    uint32_t shared_common;  /* module-scope and .func-scope static shared bytes */
    uint32_t dyn_align;      /* largest .align of an extern .shared variable */
    bool uses_reserved_smem; /* %reserved_smem_offset_* appear: blocks get that region */
    struct ptx_kernel *kernels;
    size_t nkernels;
    size_t ir_bytes;
};

/* Generic-address windows: non-canonical on x86-64/aarch64, so never a host address. */
#define IR_WIN_SHARED 0x1000000000000000ull
#define IR_WIN_LOCAL 0x2000000000000000ull
#define IR_WIN_PARAM 0x3000000000000000ull
#define IR_WIN_FUNC 0x4000000000000000ull
#define IR_WIN_SIZE 0x0100000000000000ull

static inline unsigned ir_type_bits(unsigned t)
{
    static const uint8_t b[T_COUNT] = {0, 1,  8,  16, 32, 64, 128, 8,  16, 32, 64,
                                       8, 16, 32, 64, 16, 32, 16,  32, 32, 64, 32};
    return t < T_COUNT ? b[t] : 0;
}

static inline unsigned ir_type_kind(unsigned t)
{
    if (t >= T_U8 && t <= T_U64) return K_UINT;
    if (t >= T_S8 && t <= T_S64) return K_SINT;
    if (t >= T_F16 && t <= T_F64) return K_FLOAT;
    return K_BITS;
}

const char *ir_op_name(unsigned op);

#endif
