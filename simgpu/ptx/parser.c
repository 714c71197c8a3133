/* parser.c — PTX module structure: .version/.target, variables with
 * initialisers, .entry/.func headers and bodies, register and memory
 * declarations, scopes and labels. Instructions are in parse_insn.c. */
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PP_MAX_STACK_BYTES (1u << 24)

_Noreturn void pp_error(parser *p, const ptx_token *t, const char *fmt, ...)
{
    if (p->log && p->log_size > p->log_len + 1) {
        char *dst = p->log + p->log_len;
        size_t room = p->log_size - p->log_len;
        int n = snprintf(dst, room, "%u:%u: ", t ? t->line : 0, t ? t->col : 0);
        if (n > 0 && (size_t)n < room) {
            va_list ap;
            va_start(ap, fmt);
            int k = vsnprintf(dst + n, room - (size_t)n, fmt, ap);
            va_end(ap);
            if (k > 0) n += k;
        }
        p->log_len += (n > 0 && (size_t)n < room) ? (size_t)n : room - 1;
        if (p->log_len + 1 < p->log_size) p->log[p->log_len++] = '\n';
        p->log[p->log_len] = 0;
    }
    longjmp(p->fail, 1);
}

void *pp_grow(parser *p, void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return arr;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *n = realloc(arr, nc * elem);
    if (!n) pp_error(p, NULL, "out of memory");
    memset((char *)n + *cap * elem, 0, (nc - *cap) * elem);
    *cap = nc;
    return n;
}

const ptx_token *pp_next(parser *p)
{
    const ptx_token *t = ptx_lex_next(&p->lx);
    if (t->kind == TK_BAD)
        pp_error(p, t, "invalid token '%.*s'", (int)(t->len ? t->len : 1), t->text);
    return t;
}

int pp_is_punct(const ptx_token *t, char c)
{
    return t->kind == TK_PUNCT && t->text[0] == c;
}

const ptx_token *pp_expect_punct(parser *p, char c)
{
    const ptx_token *t = &p->lx.tok;
    if (!pp_is_punct(t, c)) pp_error(p, t, "expected '%c' before '%.*s'", c, (int)t->len, t->text);
    return pp_next(p);
}

/* ---- symbol tables ---- */

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void symtab_rehash(parser *p, psymtab *s)
{
    size_t nb = s->nbucket ? s->nbucket * 2 : 256;
    int32_t *b = malloc(nb * sizeof *b);
    if (!b) pp_error(p, NULL, "out of memory");
    for (size_t i = 0; i < nb; i++)
        b[i] = -1;
    for (size_t i = 0; i < s->n; i++) { /* oldest first, so newer entries shadow */
        uint32_t h = hash_name(s->e[i].name, s->e[i].len) & (uint32_t)(nb - 1);
        s->e[i].next = b[h];
        b[h] = (int32_t)i;
    }
    free(s->bucket);
    s->bucket = b;
    s->nbucket = nb;
}

psym *pp_lookup(psymtab *s, const char *name, size_t len)
{
    if (!s->nbucket) return NULL;
    for (int32_t i = s->bucket[hash_name(name, len) & (s->nbucket - 1)]; i >= 0; i = s->e[i].next)
        if (s->e[i].len == len && memcmp(s->e[i].name, name, len) == 0) return &s->e[i];
    return NULL;
}

static psym *sym_add(parser *p, psymtab *s, const char *name, size_t len)
{
    s->e = pp_grow(p, s->e, &s->cap, s->n + 1, sizeof *s->e);
    if (s->n * 2 >= s->nbucket) symtab_rehash(p, s);
    psym *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->len = (uint32_t)len;
    uint32_t h = hash_name(name, len) & (uint32_t)(s->nbucket - 1);
    e->next = s->bucket[h];
    s->bucket[h] = (int32_t)s->n++;
    return e;
}

psym *pp_define(parser *p, psymtab *s, const ptx_token *t, enum sym_kind kind)
{
    psym *e = sym_add(p, s, t->text, t->len);
    e->kind = (uint8_t)kind;
    return e;
}

/* Remove entries above `mark` (they are always at their bucket heads). */
static void symtab_pop(psymtab *s, size_t mark)
{
    while (s->n > mark) {
        psym *e = &s->e[--s->n];
        uint32_t h = hash_name(e->name, e->len) & (uint32_t)(s->nbucket - 1);
        s->bucket[h] = e->next;
    }
}

/* ---- constants ---- */

uint32_t pp_konst(parser *p, uint64_t v)
{
    ptx_module *m = p->m;
    if (m->nkonst * 2 >= p->khash_cap) {
        size_t nc = p->khash_cap ? p->khash_cap * 2 : 64;
        uint32_t *h = malloc(nc * sizeof *h);
        if (!h) pp_error(p, NULL, "out of memory");
        memset(h, 0xff, nc * sizeof *h);
        for (size_t i = 0; i < m->nkonst; i++) {
            size_t j = (m->konst[i][0] * 0x9E3779B97F4A7C15ull >> 20) & (nc - 1);
            while (h[j] != UINT32_MAX)
                j = (j + 1) & (nc - 1);
            h[j] = (uint32_t)i;
        }
        free(p->khash);
        p->khash = h;
        p->khash_cap = nc;
    }
    size_t j = (v * 0x9E3779B97F4A7C15ull >> 20) & (p->khash_cap - 1);
    for (; p->khash[j] != UINT32_MAX; j = (j + 1) & (p->khash_cap - 1))
        if (m->konst[p->khash[j]][0] == v) return p->khash[j];
    m->konst = pp_grow(p, m->konst, &p->capkonst, m->nkonst + 1, sizeof *m->konst);
    for (int l = 0; l < 32; l++)
        m->konst[m->nkonst][l] = v;
    p->khash[j] = (uint32_t)m->nkonst;
    return (uint32_t)m->nkonst++;
}

/* ---- small helpers ---- */

static const char *const type_names[T_COUNT] = {
    "",    "pred", "b8",   "b16",  "b32",    "b64",    "b128",  "u8",   "u16",    "u32",
    "u64", "s8",   "s16",  "s32",  "s64",    "f16",    "f16x2", "bf16", "bf16x2", "f32",
    "f64", "tf32", "e4m3", "e5m2", "e4m3x2", "e5m2x2", "u16x2", "s16x2"};

int pp_type_of(const ptx_token *t)
{
    if (t->kind != TK_DOT) return -1;
    for (int i = 1; i < T_COUNT; i++)
        if (ptx_tok_is(t, type_names[i])) return i;
    return -1;
}

static uint64_t expect_int(parser *p)
{
    const ptx_token *t = &p->lx.tok;
    if (t->kind != TK_INT)
        pp_error(p, t, "expected an integer before '%.*s'", (int)t->len, t->text);
    uint64_t v = t->ival;
    pp_next(p);
    return v;
}

static char *dup_tok(parser *p, const ptx_token *t)
{
    char *s = malloc(t->len + 1);
    if (!s) pp_error(p, t, "out of memory");
    memcpy(s, t->text, t->len);
    s[t->len] = 0;
    return s;
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
    return a > 1 ? (v + a - 1) / a * a : v;
}

/* Skip every token on the current line (for .loc, .file and the like). */
static void skip_line(parser *p)
{
    uint32_t line = p->lx.tok.line;
    while (p->lx.tok.kind != TK_EOF && p->lx.tok.line == line)
        ptx_lex_next(&p->lx);
}

static void skip_braces(parser *p)
{
    int depth = 0;
    do {
        const ptx_token *t = &p->lx.tok;
        if (t->kind == TK_EOF) pp_error(p, t, "unterminated section");
        if (pp_is_punct(t, '{')) depth++;
        if (pp_is_punct(t, '}')) depth--;
        ptx_lex_next(&p->lx);
    } while (depth > 0);
}

/* ---- declarations ---- */

typedef struct decl_attr {
    int type, vec;
    uint32_t align;
    const ptx_token *at;
} decl_attr;

/* .align N, .vN, .ptr, .attribute(...), a type: in any order. */
static void parse_attrs(parser *p, decl_attr *a)
{
    memset(a, 0, sizeof *a);
    a->type = -1;
    a->vec = 1;
    int ptr = 0;
    for (const ptx_token *t = &p->lx.tok; t->kind == TK_DOT; t = &p->lx.tok) {
        int ty = pp_type_of(t);
        if (ty >= 0) {
            a->type = ty;
            pp_next(p);
        } else if (ptx_tok_is(t, "align")) {
            ptx_token at = *t;
            pp_next(p);
            uint32_t al = (uint32_t)expect_int(p);
            if (al == 0 || (al & (al - 1)) || al > 4096) pp_error(p, &at, "bad alignment");
            if (!ptr) a->align = al; /* after .ptr it is the pointee's alignment */
        } else if (ptx_tok_is(t, "v2") || ptx_tok_is(t, "v4") || ptx_tok_is(t, "v8")) {
            a->vec = t->text[1] - '0';
            pp_next(p);
        } else if (ptx_tok_is(t, "ptr")) {
            ptr = 1;
            pp_next(p);
        } else if (ptx_tok_is(t, "global") || ptx_tok_is(t, "shared") || ptx_tok_is(t, "const") ||
                   ptx_tok_is(t, "local")) {
            pp_next(p); /* pointer annotations on kernel params */
        } else if (ptx_tok_is(t, "attribute")) {
            pp_next(p);
            pp_expect_punct(p, '(');
            while (!pp_is_punct(&p->lx.tok, ')') && p->lx.tok.kind != TK_EOF)
                pp_next(p);
            pp_expect_punct(p, ')');
        } else {
            break;
        }
    }
    if (a->type < 0)
        pp_error(p, &p->lx.tok, "expected a type before '%.*s'", (int)p->lx.tok.len,
                 p->lx.tok.text);
}

static uint32_t elem_size(const decl_attr *a)
{
    unsigned bits = ir_type_bits((unsigned)a->type);
    return (bits < 8 ? 1 : bits / 8) * (uint32_t)a->vec;
}

/* name[N][M]...; returns total element count; *flex set for "[]". */
static uint64_t parse_dims(parser *p, int *flex)
{
    uint64_t n = 1;
    *flex = 0;
    while (pp_is_punct(&p->lx.tok, '[')) {
        pp_next(p);
        if (pp_is_punct(&p->lx.tok, ']')) {
            *flex = 1;
            n = 0;
        } else {
            uint64_t d = expect_int(p);
            if (d > (1ull << 32) || (d && n > (1ull << 32) / d))
                pp_error(p, &p->lx.tok, "array too large");
            n *= d;
        }
        pp_expect_punct(p, ']');
    }
    return n;
}

static void store_scalar(uint8_t *dst, uint32_t size, int type, const ptx_token *t, int neg)
{
    uint64_t bits = t->ival;
    int isf = ir_type_kind((unsigned)type) == K_FLOAT;
    if (t->kind == TK_INT && neg) bits = 0 - bits;
    if (isf) {
        double d = t->kind == TK_INT   ? (neg ? -(double)t->ival : (double)t->ival)
                   : t->kind == TK_F32 ? (double)({
                         float f;
                         uint32_t u = (uint32_t)t->ival;
                         memcpy(&f, &u, 4);
                         f;
                     })
                                       : t->fval;
        if (neg && t->kind != TK_INT) d = -d;
        if (type == T_F32) {
            float f = (float)d;
            memcpy(&bits, &f, 4);
            bits &= 0xffffffffu;
        } else if (type == T_F64) {
            memcpy(&bits, &d, 8);
        } else {
            _Float16 h = (_Float16)d;
            uint16_t u;
            memcpy(&u, &h, 2);
            bits = u;
        }
    }
    memcpy(dst, &bits, size > 8 ? 8 : size);
}

typedef struct init_ctx {
    uint8_t *buf;
    uint64_t nelem, pos;
    uint32_t esize, var;
    int type;
} init_ctx;

static void add_reloc(parser *p, init_ctx *c, const ptx_token *name, int64_t addend)
{
    psym *s = pp_lookup(&p->syms, name->text, name->len);
    if (!s || (s->kind != SYM_VAR && s->kind != SYM_FUNC))
        pp_error(p, name, "unknown symbol '%.*s' in initialiser", (int)name->len, name->text);
    ptx_module *m = p->m;
    m->relocs = pp_grow(p, m->relocs, &p->caprelocs, m->nrelocs + 1, sizeof *m->relocs);
    ir_reloc *r = &m->relocs[m->nrelocs++];
    r->var = c->var;
    r->offset = (uint32_t)(c->pos * c->esize);
    r->size = c->esize > 8 ? 8 : c->esize;
    r->target = s->idx;
    r->is_func = s->kind == SYM_FUNC;
    r->addend = addend;
}

static void init_item(parser *p, init_ctx *c)
{
    const ptx_token *t = &p->lx.tok;
    if (c->pos >= c->nelem) pp_error(p, t, "too many initialisers");
    int neg = 0;
    if (pp_is_punct(t, '-')) {
        neg = 1;
        t = pp_next(p);
    }
    if (t->kind == TK_INT || t->kind == TK_F32 || t->kind == TK_F64) {
        store_scalar(c->buf + c->pos * c->esize, c->esize, c->type, t, neg);
        pp_next(p);
    } else if (t->kind == TK_ID) {
        int generic = ptx_tok_is(t, "generic");
        ptx_token name = *t;
        pp_next(p);
        if (generic) {
            pp_expect_punct(p, '(');
            name = p->lx.tok;
            pp_next(p);
            pp_expect_punct(p, ')');
        }
        int64_t add = 0;
        if (pp_is_punct(&p->lx.tok, '+')) {
            pp_next(p);
            add = (int64_t)expect_int(p);
        }
        add_reloc(p, c, &name, add);
    } else {
        pp_error(p, t, "bad initialiser '%.*s'", (int)t->len, t->text);
    }
    c->pos++;
}

static void init_list(parser *p, init_ctx *c, int depth)
{
    if (!pp_is_punct(&p->lx.tok, '{')) {
        init_item(p, c);
        return;
    }
    if (depth > 16) pp_error(p, &p->lx.tok, "initialiser nested too deeply");
    pp_next(p);
    while (!pp_is_punct(&p->lx.tok, '}')) {
        init_list(p, c, depth + 1);
        if (!pp_is_punct(&p->lx.tok, ',')) break;
        pp_next(p);
    }
    pp_expect_punct(p, '}');
}

static uint32_t new_var(parser *p, const ptx_token *name, enum ptx_space sp, uint64_t size,
                        uint32_t align, bool visible)
{
    ptx_module *m = p->m;
    m->vars = pp_grow(p, m->vars, &p->capvars, m->nvars + 1, sizeof *m->vars);
    ir_var *v = &m->vars[m->nvars];
    v->name_buf = dup_tok(p, name);
    v->info.name = v->name_buf;
    v->info.space = sp;
    v->info.size = size;
    v->info.align = align;
    v->info.visible = visible;
    return (uint32_t)m->nvars++;
}

/* One variable name (after the attributes) of a .global/.const/.shared/.local/.param decl. */
static void declare_one(parser *p, int space, const decl_attr *a, int is_extern, bool visible,
                        int in_func)
{
    const ptx_token name = p->lx.tok;
    if (name.kind != TK_ID)
        pp_error(p, &name, "expected a name before '%.*s'", (int)name.len, name.text);
    pp_next(p);
    int flex;
    uint64_t n = parse_dims(p, &flex);
    uint32_t es = elem_size(a);
    uint64_t size = n * es;
    uint32_t align = a->align ? a->align : es / (uint32_t)a->vec;
    if (align == 0) align = 1;
    psym *s;
    if (space == S_GLOBAL || space == S_CONST) {
        enum ptx_space sp = space == S_GLOBAL ? PTX_SPACE_GLOBAL : PTX_SPACE_CONST;
        psym *old = in_func ? NULL : pp_lookup(&p->syms, name.text, name.len);
        uint32_t vi;
        if (old && old->kind == SYM_VAR && (is_extern || p->m->vars[old->idx].is_extern)) {
            /* one variable that linked units (-rdc) declare .extern and define:
             * every use, before the definition or after, names the same storage */
            ir_var *v = &p->m->vars[old->idx];
            if (v->info.space != sp) pp_error(p, &name, "'%.*s' declared in two state spaces",
                                              (int)name.len, name.text);
            if (!is_extern) {
                v->is_extern = false;
                v->info.size = size;
                v->info.align = align;
            }
            s = old;
            vi = old->idx;
            if (is_extern) return; /* a re-declaration: the symbol stays as it is */
        } else {
            vi = new_var(p, &name, sp, size, align, visible || is_extern);
            p->m->vars[vi].is_extern = is_extern;
            s = pp_define(p, &p->syms, &name, SYM_VAR);
            s->idx = vi;
        }
        if (pp_is_punct(&p->lx.tok, '=')) {
            pp_next(p);
            ir_var *v = &p->m->vars[vi];
            if (flex) pp_error(p, &name, "initialised array needs a size");
            v->init_buf = calloc(1, size ? size : 1);
            if (!v->init_buf) pp_error(p, &name, "out of memory");
            v->info.init = v->init_buf;
            init_ctx c = {v->init_buf, n * (uint64_t)a->vec, 0, es / (uint32_t)a->vec, vi, a->type};
            init_list(p, &c, 0);
        }
    } else if (space == S_SHARED) {
        if (is_extern || flex) {
            s = pp_define(p, &p->syms, &name, SYM_DYNSMEM);
            if (align > p->m->dyn_align) p->m->dyn_align = align;
        } else if (in_func && p->m->funcs[p->cur].is_entry) {
            ir_func *f = &p->m->funcs[p->cur];
            s = pp_define(p, &p->syms, &name, SYM_SHOWN);
            s->off = align_up(f->shared_own, align);
            f->shared_own = (uint32_t)(s->off + size);
        } else {
            s = pp_define(p, &p->syms, &name, SYM_SHARED);
            s->off = align_up(p->m->shared_common, align);
            p->m->shared_common = (uint32_t)(s->off + size);
        }
        if (size > (1u << 30)) pp_error(p, &name, "shared variable too large");
    } else { /* .local or call-site .param inside a function */
        if (!in_func) pp_error(p, &name, ".local/.param variables must be inside a function");
        if (size > PP_MAX_STACK_BYTES) pp_error(p, &name, "local variable too large");
        s = pp_define(p, &p->syms, &name, SYM_LOCAL);
        s->off = align_up(p->frame, align < 8 ? align : 8);
        if (align > 8) s->off = align_up(p->frame, align);
        p->frame = (uint32_t)(s->off + size);
        if (p->frame > p->frame_max) p->frame_max = p->frame;
    }
    s->type = (uint8_t)a->type;
    s->size = (uint32_t)size;
}

static void parse_var_decl(parser *p, int space, int is_extern, bool visible, int in_func)
{
    decl_attr a;
    parse_attrs(p, &a);
    for (;;) {
        declare_one(p, space, &a, is_extern, visible, in_func);
        if (!pp_is_punct(&p->lx.tok, ',')) break;
        pp_next(p);
    }
    pp_expect_punct(p, ';');
}

static void parse_reg_decl(parser *p)
{
    decl_attr a;
    parse_attrs(p, &a);
    if (a.vec != 1) pp_error(p, &p->lx.tok, "vector registers are not supported");
    for (;;) {
        const ptx_token name = p->lx.tok;
        if (name.kind != TK_ID) pp_error(p, &name, "expected a register name");
        pp_next(p);
        psym *s = pp_define(p, &p->syms, &name, SYM_REG);
        s->type = (uint8_t)a.type;
        s->idx = p->nregs;
        uint64_t count = 1;
        if (pp_is_punct(&p->lx.tok, '<')) {
            pp_next(p);
            count = expect_int(p);
            pp_expect_punct(p, '>');
            if (count > (1u << 20)) pp_error(p, &name, "register range too large");
            s->size = (uint32_t)count;
        }
        p->nregs += (uint32_t)count;
        if (p->nregs > (1u << 22)) pp_error(p, &name, "too many registers");
        if (!pp_is_punct(&p->lx.tok, ',')) break;
        pp_next(p);
    }
    pp_expect_punct(p, ';');
}

/* ---- functions ---- */

int pp_own(parser *p)
{
    if (p->nowned >= PP_MAXOWNED) pp_error(p, &p->lx.tok, "declarations nested too deeply");
    p->owned[p->nowned] = NULL;
    return p->nowned++;
}

void pp_disown(parser *p, int slot)
{
    p->owned[slot] = NULL;
    while (p->nowned > 0 && !p->owned[p->nowned - 1])
        p->nowned--;
}

static ir_pslot *param_list(parser *p, uint32_t *count, int is_entry)
{
    ir_pslot *v = NULL;
    size_t cap = 0, n = 0;
    int slot = pp_own(p);
    pp_expect_punct(p, '(');
    while (!pp_is_punct(&p->lx.tok, ')')) {
        const ptx_token *t = &p->lx.tok;
        if (!ptx_tok_is(t, "param") && !ptx_tok_is(t, "reg"))
            pp_error(p, t, "expected .param in parameter list");
        if (ptx_tok_is(t, "reg")) pp_error(p, t, ".reg parameters are not supported");
        pp_next(p);
        decl_attr a;
        parse_attrs(p, &a);
        const ptx_token name = p->lx.tok;
        if (name.kind != TK_ID) pp_error(p, &name, "expected a parameter name");
        pp_next(p);
        int flex;
        uint64_t size = parse_dims(p, &flex) * elem_size(&a);
        if (size > 65536) pp_error(p, &name, "parameter too large");
        uint32_t align = a.align ? a.align : elem_size(&a) / (uint32_t)a.vec;
        if (!align) align = 1;
        v = pp_grow(p, v, &cap, n + 1, sizeof *v);
        p->owned[slot] = v;
        psym *s = pp_define(p, &p->syms, &name, is_entry ? SYM_KPARAM : SYM_LOCAL);
        s->off = align_up(p->frame, align);
        s->size = (uint32_t)size;
        s->type = (uint8_t)a.type;
        p->frame = (uint32_t)(s->off + size);
        v[n].where.kind = O_SYM;
        v[n].where.abase = is_entry ? A_KPARAM : A_LOCAL;
        v[n].where.val = s->off;
        v[n].where.idx = align;
        v[n].size = (uint32_t)size;
        n++;
        if (!pp_is_punct(&p->lx.tok, ',')) break;
        pp_next(p);
    }
    pp_expect_punct(p, ')');
    *count = (uint32_t)n;
    pp_disown(p, slot);
    return v;
}

static int32_t find_or_add_func(parser *p, const ptx_token *name)
{
    psym *s = pp_lookup(&p->syms, name->text, name->len);
    if (s && s->kind == SYM_FUNC) return (int32_t)s->idx;
    if (s) pp_error(p, name, "'%.*s' redeclared as a function", (int)name->len, name->text);
    ptx_module *m = p->m;
    m->funcs = pp_grow(p, m->funcs, &p->capfuncs, m->nfuncs + 1, sizeof *m->funcs);
    ir_func *f = &m->funcs[m->nfuncs];
    f->name = dup_tok(p, name);
    static const char *const builtins[] = {"", "vprintf", "__assertfail", "malloc", "free"};
    for (unsigned i = 1; i < 5; i++)
        if (strcmp(f->name, builtins[i]) == 0) f->builtin = i;
    s = pp_define(p, &p->syms, name, SYM_FUNC);
    s->idx = (uint32_t)m->nfuncs;
    return (int32_t)m->nfuncs++;
}

static void perf_directives(parser *p, ir_func *f)
{
    for (const ptx_token *t = &p->lx.tok; t->kind == TK_DOT; t = &p->lx.tok) {
        unsigned v[3] = {1, 1, 1};
        int isn = ptx_tok_is(t, "maxntid"), isr = ptx_tok_is(t, "reqntid");
        if (isn || isr || ptx_tok_is(t, "reqnctapercluster") || ptx_tok_is(t, "maxclusterrank") ||
            ptx_tok_is(t, "minnctapersm") || ptx_tok_is(t, "maxnreg") ||
            ptx_tok_is(t, "maxnctapersm")) {
            int ismin = ptx_tok_is(t, "minnctapersm");
            pp_next(p);
            for (int i = 0; i < 3; i++) {
                v[i] = (unsigned)expect_int(p);
                if (!pp_is_punct(&p->lx.tok, ',')) break;
                pp_next(p);
            }
            if (isn) f->info.maxntid = v[0] * v[1] * v[2];
            if (isr) memcpy(f->info.reqntid, v, sizeof v);
            if (ismin) f->info.minnctapersm = v[0];
        } else if (ptx_tok_is(t, "noreturn") || ptx_tok_is(t, "explicitcluster") ||
                   ptx_tok_is(t, "abi_preserve") || ptx_tok_is(t, "abi_preserve_control")) {
            pp_next(p);
            if (p->lx.tok.kind == TK_INT) pp_next(p);
        } else if (ptx_tok_is(t, "pragma")) {
            pp_next(p);
            while (p->lx.tok.kind == TK_STR || pp_is_punct(&p->lx.tok, ','))
                pp_next(p);
            pp_expect_punct(p, ';');
        } else {
            pp_error(p, t, "unknown function directive '.%.*s'", (int)t->len, t->text);
        }
    }
}

static void body_statement(parser *p, int *depth, size_t *marks, uint32_t *frames);

static void parse_body(parser *p, ir_func *f)
{
    size_t marks[64];
    uint32_t frames[64];
    int depth = 0;
    p->labels.n = 0;
    if (p->labels.nbucket)
        memset(p->labels.bucket, 0xff, p->labels.nbucket * sizeof *p->labels.bucket);
    p->nfix = 0;
    f->start = (uint32_t)p->m->ncode;
    marks[0] = p->syms.n;
    frames[0] = p->frame;
    pp_next(p); /* '{' */
    depth = 1;
    while (depth > 0)
        body_statement(p, &depth, marks, frames);
    f = &p->m->funcs[p->cur];
    f->end = (uint32_t)p->m->ncode;
    pp_resolve_labels(p);
    /* a function must not fall off its end (or branch to a label after its last
     * instruction): add an implicit ret */
    int label_at_end = 0;
    for (size_t i = 0; i < p->labels.n; i++)
        label_at_end |= p->labels.e[i].kind == SYM_FUNC && p->labels.e[i].idx == f->end;
    if (f->end == f->start || p->m->code[f->end - 1].op != OP_RET ||
        p->m->code[f->end - 1].guard >= 0 || label_at_end) {
        ptx_module *m = p->m;
        m->code = pp_grow(p, m->code, &m->capcode, m->ncode + 1, sizeof *m->code);
        ir_insn *in = &m->code[m->ncode++];
        memset(in, 0, sizeof *in);
        in->op = OP_RET;
        in->guard = -1;
        in->func = (uint32_t)p->cur;
        f->end = (uint32_t)m->ncode;
    }
}

/* After a header: performance directives, then `;` (a declaration) or a body.
 * `what` names the header in the error ("kernel", "function"). */
static void parse_decl_or_body(parser *p, int32_t fi, const char *what)
{
    ir_func *f = &p->m->funcs[fi];
    perf_directives(p, f);
    if (pp_is_punct(&p->lx.tok, ';')) {
        pp_next(p);
    } else if (pp_is_punct(&p->lx.tok, '{')) {
        p->nregs = 0;
        p->frame_max = p->frame;
        parse_body(p, f);
        f = &p->m->funcs[fi]; /* parse_body may grow the function table */
        f->nregs = p->nregs;
        f->frame = align_up(p->frame_max, 16);
    } else {
        pp_error(p, &p->lx.tok, "expected '{' or ';' after %s header", what);
    }
}

static void parse_function(parser *p, int is_entry, int is_extern, bool visible)
{
    ptx_module *m = p->m;
    const ptx_token name = p->lx.tok;
    if (name.kind != TK_ID) pp_error(p, &name, "expected a kernel name");
    int32_t fi = find_or_add_func(p, &name);
    size_t mark = p->syms.n;
    uint32_t nparams = 0;
    p->frame = 0;
    pp_next(p);
    ir_pslot *params = pp_is_punct(&p->lx.tok, '(') ? param_list(p, &nparams, is_entry) : NULL;
    ir_func *f = &m->funcs[fi];
    if (f->start != f->end && pp_is_punct(&p->lx.tok, '{'))
        pp_error(p, &name, "function '%s' defined twice", f->name);
    free(f->params);
    f->params = params;
    f->nparams = nparams;
    f->is_entry = is_entry;
    f->is_extern = is_extern;
    f->visible = visible;
    f->info.params_size = p->frame;
    p->frame = 0;
    p->cur = fi;
    parse_decl_or_body(p, fi, "kernel");
    symtab_pop(&p->syms, mark);
    p->cur = -1;
}

/* Return values are declared before the name: parse them into the frame first.
 * To keep frames as [params][rets][locals] we re-lay them after the params. */
static void parse_func_header(parser *p, int is_extern, bool visible)
{
    ptx_module *m = p->m;
    size_t mark = p->syms.n;
    uint32_t nrets = 0, nparams = 0;
    p->frame = 0;
    ir_pslot *rets = pp_is_punct(&p->lx.tok, '(') ? param_list(p, &nrets, 0) : NULL;
    int rslot = pp_own(p);
    p->owned[rslot] = rets;
    const ptx_token name = p->lx.tok;
    if (name.kind != TK_ID) pp_error(p, &name, "expected a function name");
    int32_t fi = find_or_add_func(p, &name);
    pp_next(p);
    ir_pslot *params = pp_is_punct(&p->lx.tok, '(') ? param_list(p, &nparams, 0) : NULL;
    pp_disown(p, rslot);
    ir_func *f = &m->funcs[fi];
    if (f->start != f->end && pp_is_punct(&p->lx.tok, '{'))
        pp_error(p, &name, "function '%s' defined twice", f->name);
    free(f->params);
    free(f->rets);
    f->params = params;
    f->nparams = nparams;
    f->rets = rets;
    f->nrets = nrets;
    f->is_extern = is_extern;
    f->visible = visible;
    p->cur = fi;
    parse_decl_or_body(p, fi, "function");
    symtab_pop(&p->syms, mark);
    /* the function name was defined after `mark` when first seen here: keep it */
    psym *s = pp_lookup(&p->syms, name.text, name.len);
    if (!s) {
        s = pp_define(p, &p->syms, &name, SYM_FUNC);
        s->idx = (uint32_t)fi;
    }
    p->cur = -1;
}

static void body_directive(parser *p)
{
    const ptx_token *t = &p->lx.tok;
    if (ptx_tok_is(t, "reg")) {
        pp_next(p);
        parse_reg_decl(p);
    } else if (ptx_tok_is(t, "local") || ptx_tok_is(t, "param")) {
        pp_next(p);
        parse_var_decl(p, S_LOCAL, 0, false, 1);
    } else if (ptx_tok_is(t, "shared")) {
        pp_next(p);
        parse_var_decl(p, S_SHARED, 0, false, 1);
    } else if (ptx_tok_is(t, "global") || ptx_tok_is(t, "const")) {
        int sp = ptx_tok_is(t, "global") ? S_GLOBAL : S_CONST;
        pp_next(p);
        parse_var_decl(p, sp, 0, false, 1);
    } else if (ptx_tok_is(t, "extern")) {
        pp_next(p);
        if (!ptx_tok_is(&p->lx.tok, "shared"))
            pp_error(p, &p->lx.tok, "unsupported .extern in a function");
        pp_next(p);
        parse_var_decl(p, S_SHARED, 1, false, 1);
    } else if (ptx_tok_is(t, "loc") || ptx_tok_is(t, "file") || ptx_tok_is(t, "section")) {
        skip_line(p);
    } else if (ptx_tok_is(t, "pragma")) {
        pp_next(p);
        while (p->lx.tok.kind == TK_STR || pp_is_punct(&p->lx.tok, ','))
            pp_next(p);
        pp_expect_punct(p, ';');
    } else {
        pp_error(p, t, "unknown directive '.%.*s'", (int)t->len, t->text);
    }
}

static void body_statement(parser *p, int *depth, size_t *marks, uint32_t *frames)
{
    const ptx_token *t = &p->lx.tok;
    if (t->kind == TK_EOF) pp_error(p, t, "unexpected end of file in function body");
    if (pp_is_punct(t, '{')) {
        if (*depth >= 63) pp_error(p, t, "blocks nested too deeply");
        marks[*depth] = p->syms.n;
        frames[*depth] = p->frame;
        (*depth)++;
        pp_next(p);
    } else if (pp_is_punct(t, '}')) {
        (*depth)--;
        if (*depth > 0) {
            symtab_pop(&p->syms, marks[*depth]);
            p->frame = frames[*depth];
        }
        pp_next(p);
    } else if (t->kind == TK_DOT) {
        body_directive(p);
    } else if (t->kind == TK_ID && pp_is_punct(ptx_lex_peek(&p->lx), ':')) {
        if (pp_lookup(&p->labels, t->text, t->len))
            pp_error(p, t, "label '%.*s' defined twice", (int)t->len, t->text);
        ptx_token label = *t;
        psym *s = pp_define(p, &p->labels, t, SYM_FUNC);
        s->idx = (uint32_t)p->m->ncode;
        pp_next(p);
        pp_next(p);
        if (p->lx.tok.kind == TK_DOT) pp_label_directive(p, &label);
    } else if (pp_is_punct(t, '@')) {
        uint32_t line = t->line;
        t = pp_next(p);
        int neg = 0;
        if (pp_is_punct(t, '!')) {
            neg = 1;
            t = pp_next(p);
        }
        psym *s = t->kind == TK_ID ? pp_lookup(&p->syms, t->text, t->len) : NULL;
        if (!s || s->kind != SYM_REG || s->size) {
            /* ranges: %p3 */
            uint32_t r;
            if (t->kind != TK_ID || !pp_reg_index(p, t, &r))
                pp_error(p, t, "expected a predicate after '@'");
            pp_next(p);
            pp_instruction(p, (int32_t)r, neg, line);
            return;
        }
        pp_next(p);
        pp_instruction(p, (int32_t)s->idx, neg, line);
    } else if (t->kind == TK_ID) {
        pp_instruction(p, -1, 0, t->line);
    } else {
        pp_error(p, t, "unexpected '%.*s'", (int)t->len, t->text);
    }
}

/* ---- module level ---- */

static void parse_version(parser *p)
{
    const ptx_token *t = pp_next(p);
    if (t->kind != TK_F64 && t->kind != TK_INT) pp_error(p, t, "bad .version");
    unsigned maj = (unsigned)(t->kind == TK_INT ? t->ival : (uint64_t)t->fval);
    const char *dot = memchr(t->text, '.', t->len);
    unsigned min = dot ? (unsigned)(dot[1] - '0') : 0;
    p->m->version = maj * 10 + min;
    if (maj < 1 || maj > 9) pp_error(p, t, "unsupported PTX version %u.%u", maj, min);
    pp_next(p);
}

static void parse_target(parser *p)
{
    const ptx_token *t = pp_next(p);
    for (;;) {
        if (t->kind != TK_ID) pp_error(p, t, "bad .target");
        if (t->len > 3 && memcmp(t->text, "sm_", 3) == 0) {
            unsigned v = 0;
            for (size_t i = 3; i < t->len && t->text[i] >= '0' && t->text[i] <= '9'; i++)
                v = v * 10 + (unsigned)(t->text[i] - '0');
            p->m->target = v;
        }
        t = pp_next(p);
        if (!pp_is_punct(t, ',')) break;
        t = pp_next(p);
    }
}

static void module_statement(parser *p)
{
    const ptx_token *t = &p->lx.tok;
    int is_extern = 0;
    bool visible = false;
    if (t->kind != TK_DOT)
        pp_error(p, t, "unexpected '%.*s' at module scope", (int)t->len, t->text);
    while (ptx_tok_is(t, "visible") || ptx_tok_is(t, "extern") || ptx_tok_is(t, "weak") ||
           ptx_tok_is(t, "common")) {
        if (ptx_tok_is(t, "extern"))
            is_extern = 1;
        else
            visible = true;
        t = pp_next(p);
    }
    if (ptx_tok_is(t, "version")) {
        parse_version(p);
    } else if (ptx_tok_is(t, "target")) {
        parse_target(p);
    } else if (ptx_tok_is(t, "address_size")) {
        pp_next(p);
        if (expect_int(p) != 64) pp_error(p, t, "only .address_size 64 is supported");
    } else if (ptx_tok_is(t, "file") || ptx_tok_is(t, "loc")) {
        skip_line(p);
    } else if (ptx_tok_is(t, "section")) {
        while (!pp_is_punct(&p->lx.tok, '{') && p->lx.tok.kind != TK_EOF)
            ptx_lex_next(&p->lx);
        skip_braces(p);
    } else if (ptx_tok_is(t, "pragma")) {
        pp_next(p);
        while (p->lx.tok.kind == TK_STR || pp_is_punct(&p->lx.tok, ','))
            pp_next(p);
        pp_expect_punct(p, ';');
    } else if (ptx_tok_is(t, "entry") || ptx_tok_is(t, "kernel")) {
        pp_next(p);
        parse_function(p, 1, is_extern, true);
    } else if (ptx_tok_is(t, "func")) {
        pp_next(p);
        parse_func_header(p, is_extern, visible);
    } else if (ptx_tok_is(t, "global") || ptx_tok_is(t, "const") || ptx_tok_is(t, "shared")) {
        int sp = ptx_tok_is(t, "global") ? S_GLOBAL : ptx_tok_is(t, "const") ? S_CONST : S_SHARED;
        pp_next(p);
        parse_var_decl(p, sp, is_extern, visible, 0);
    } else {
        pp_error(p, t, "unknown directive '.%.*s'", (int)t->len, t->text);
    }
}

void ptx_module_free(ptx_module *m);

enum ptx_status ptx_parse(const char *text, size_t len, ptx_module **out, char *log,
                          size_t log_size)
{
    *out = NULL;
    if (log && log_size) log[0] = 0;
    parser *p = calloc(1, sizeof *p);
    ptx_module *m = calloc(1, sizeof *m);
    if (!p || !m) {
        free(p);
        free(m);
        return PTX_ERR_NOMEM;
    }
    p->m = m;
    p->log = log;
    p->log_size = log_size;
    p->cur = -1;
    volatile enum ptx_status st = PTX_OK;
    if (setjmp(p->fail) == 0) {
        ptx_lex_init(&p->lx, text ? text : "", text ? len : 0);
        pp_next(p);
        while (p->lx.tok.kind != TK_EOF)
            module_statement(p);
        if (!m->version) pp_error(p, &p->lx.tok, "missing .version directive");
        pp_layout(p);
        *out = m;
    } else {
        st = PTX_ERR_PARSE;
        for (int i = 0; i < p->nowned; i++)
            free(p->owned[i]);
        ptx_module_free(m);
    }
    free(p->syms.e);
    free(p->syms.bucket);
    free(p->labels.e);
    free(p->labels.bucket);
    free(p->fix);
    free(p->khash);
    free(p);
    return st;
}
