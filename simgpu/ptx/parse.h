/* parse.h — state shared by the parser's files (parser.c: module directives and
 * declarations; parse_insn.c: instructions and operands; layout.c: per-kernel
 * register, shared and local layout after parsing). Errors longjmp out. */
#ifndef SIMGPU_PTX_PARSE_H
#define SIMGPU_PTX_PARSE_H

#include "ir.h"
#include "lexer.h"

#include <setjmp.h>

enum sym_kind {
    SYM_REG,
    SYM_VAR,
    SYM_SHARED,
    SYM_SHOWN,
    SYM_DYNSMEM,
    SYM_LOCAL,
    SYM_KPARAM,
    SYM_FUNC
};

typedef struct psym {
    const char *name; /* points into the source text */
    uint32_t len;
    uint8_t kind; /* enum sym_kind */
    uint8_t type; /* register / variable type */
    uint32_t idx; /* register, variable or function index */
    int64_t off;  /* shared / local / param offset */
    uint32_t size;
    int32_t next; /* next entry in the same bucket */
} psym;

typedef struct psymtab {
    psym *e;
    size_t n, cap;
    int32_t *bucket;
    size_t nbucket;
} psymtab;

typedef struct pfixup {
    uint32_t insn, slot;
    const char *name;
    uint32_t len, line, col;
    int is_brx; /* slot indexes brx_tab instead of an operand */
} pfixup;

typedef struct parser {
    ptx_lexer lx;
    ptx_module *m;
    char *log;
    size_t log_size, log_len;
    jmp_buf fail;
    psymtab syms;   /* module symbols, then function scopes stacked on top */
    psymtab labels; /* current function's labels */
    pfixup *fix;
    size_t nfix, capfix;
    size_t capfuncs, capvars, caprelocs, capcalls, capvecs, capkonst, capbrx;
    /* konst dedup: open addressing on value */
    uint32_t *khash;
    size_t khash_cap;
    /* arrays being built when an error may longjmp out (freed on error) */
#define PP_MAXOWNED 8
    void *owned[PP_MAXOWNED];
    int nowned;
    /* current function */
    int32_t cur;
    uint32_t nregs, frame, frame_max;
} parser;

_Noreturn void pp_error(parser *p, const ptx_token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *pp_grow(parser *p, void *arr, size_t *cap, size_t need, size_t elem);
const ptx_token *pp_next(parser *p);
const ptx_token *pp_expect_punct(parser *p, char c);
int pp_is_punct(const ptx_token *t, char c);
psym *pp_lookup(psymtab *s, const char *name, size_t len);
psym *pp_define(parser *p, psymtab *s, const ptx_token *t, enum sym_kind kind);
int pp_type_of(const ptx_token *t); /* enum ir_type for a TK_DOT, or -1 */
uint32_t pp_konst(parser *p, uint64_t v);
/* Reserve a slot in p->owned for an array under construction; release it once
 * the array has an owner. */
int pp_own(parser *p);
void pp_disown(parser *p, int slot);

/* parse_insn.c: one instruction (current token is its opcode). */
void pp_instruction(parser *p, int32_t guard, int guard_neg, uint32_t line);
void pp_resolve_labels(parser *p);
int pp_label_directive(parser *p, const ptx_token *label);
/* Register index of a name such as %r12 (declared alone or in a %r<N> range). */
int pp_reg_index(parser *p, const ptx_token *t, uint32_t *out);

/* layout.c */
void pp_layout(parser *p);

#endif
