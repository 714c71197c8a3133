/* layout.c — after parsing: checks calls, places kernel-own shared variables
 * after the module's, and computes per kernel the register file layout (every
 * reachable function gets a fixed base), local memory per thread and info. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

#define LAYOUT_LINK 16                  /* per call: return pc, saved frame, return address */
#define LAYOUT_RECURSION_STACK (32768u) /* extra local bytes when the call graph has cycles */

typedef struct lctx {
    parser *p;
    uint8_t *state;  /* 0 unvisited, 1 on stack, 2 done */
    uint64_t *depth; /* local bytes needed by a call to f (frame + callees) */
    uint8_t *addr_taken;
    int cyclic;
} lctx;

static void callees(const ptx_module *m, uint32_t f, uint32_t *out, size_t *n, const uint8_t *taken,
                    int *indirect)
{
    *n = 0;
    for (uint32_t i = m->funcs[f].start; i < m->funcs[f].end; i++) {
        const ir_insn *in = &m->code[i];
        if (in->op != OP_CALL) continue;
        const ir_call *c = &m->calls[in->o[0].idx];
        if (c->target >= 0)
            out[(*n)++] = (uint32_t)c->target;
        else
            *indirect = 1;
    }
    if (*indirect)
        for (uint32_t g = 0; g < m->nfuncs; g++)
            if (taken[g]) out[(*n)++] = g;
}

static uint64_t visit(lctx *c, uint32_t f)
{
    const ptx_module *m = c->p->m;
    if (c->state[f] == 2) return c->depth[f];
    if (c->state[f] == 1) {
        c->cyclic = 1;
        return 0;
    }
    c->state[f] = 1;
    size_t ncode = m->funcs[f].end - m->funcs[f].start;
    uint32_t *cs = malloc((ncode + m->nfuncs + 1) * sizeof *cs);
    if (!cs) pp_error(c->p, NULL, "out of memory");
    size_t n;
    int ind = 0;
    callees(m, f, cs, &n, c->addr_taken, &ind);
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        const ir_func *g = &m->funcs[cs[i]];
        uint64_t d = LAYOUT_LINK + (((uint64_t)g->nregs * 8 + 15) & ~15ull) + visit(c, cs[i]);
        if (d > best) best = d;
    }
    free(cs);
    c->depth[f] = m->funcs[f].frame + best;
    c->state[f] = 2;
    return c->depth[f];
}

static void mark_reachable(const ptx_module *m, uint32_t f, uint8_t *seen, const uint8_t *taken)
{
    if (seen[f]) return;
    seen[f] = 1;
    for (uint32_t i = m->funcs[f].start; i < m->funcs[f].end; i++) {
        const ir_insn *in = &m->code[i];
        if (in->op != OP_CALL) continue;
        int32_t t = m->calls[in->o[0].idx].target;
        if (t >= 0)
            mark_reachable(m, (uint32_t)t, seen, taken);
        else
            for (uint32_t g = 0; g < m->nfuncs; g++)
                if (taken[g]) mark_reachable(m, g, seen, taken);
    }
}

static void kernel_layout(lctx *c, uint32_t k, uint32_t shared_base)
{
    ptx_module *m = c->p->m;
    ir_func *f = &m->funcs[k];
    uint8_t *seen = calloc(m->nfuncs, 1);
    f->reg_base = malloc(m->nfuncs * sizeof *f->reg_base);
    f->pinfo = calloc(f->nparams ? f->nparams : 1, sizeof *f->pinfo);
    if (!seen || !f->reg_base || !f->pinfo) {
        free(seen);
        pp_error(c->p, NULL, "out of memory");
    }
    mark_reachable(m, k, seen, c->addr_taken);
    uint64_t regs = 0;
    for (uint32_t g = 0; g < m->nfuncs; g++) {
        f->reg_base[g] = seen[g] ? (uint32_t)regs : UINT32_MAX;
        if (seen[g]) regs += m->funcs[g].nregs;
    }
    free(seen);
    if (regs > (1u << 20)) pp_error(c->p, NULL, "kernel %s uses too many registers", f->name);
    memset(c->state, 0, m->nfuncs);
    c->cyclic = 0;
    uint64_t local = visit(c, k);
    f->recursive = c->cyclic;
    if (c->cyclic) local += LAYOUT_RECURSION_STACK;
    if (local > (1u << 24)) pp_error(c->p, NULL, "kernel %s needs too much local memory", f->name);
    f->total_regs = (uint32_t)regs;
    f->local_size = (uint32_t)((local + 15) & ~15ull);
    for (uint32_t i = 0; i < f->nparams; i++) {
        f->pinfo[i].offset = (size_t)f->params[i].where.val;
        f->pinfo[i].size = f->params[i].size;
        f->pinfo[i].align = f->params[i].where.idx;
    }
    f->info.name = f->name;
    f->info.nparams = f->nparams;
    f->info.params = f->pinfo;
    f->info.static_smem = shared_base + f->shared_own;
    f->info.local_bytes = f->local_size;
    f->info.num_regs = f->total_regs;
}

static void check_calls(parser *p)
{
    ptx_module *m = p->m;
    for (size_t i = 0; i < m->ncode; i++) {
        ir_insn *in = &m->code[i];
        if (in->op != OP_CALL) continue;
        int32_t t = m->calls[in->o[0].idx].target;
        if (t < 0) continue;
        const ir_func *g = &m->funcs[t];
        if (g->start == g->end && !g->builtin) {
            ptx_token at = {.line = in->line, .col = 1};
            pp_error(p, &at, "call to undefined function '%s'", g->name);
        }
    }
}

static void rebase_shared(ptx_module *m, uint32_t base)
{
    for (size_t i = 0; i < m->ncode; i++)
        for (unsigned j = 0; j < IR_MAXOPS; j++) {
            ir_operand *o = &m->code[i].o[j];
            if ((o->kind == O_ADDR || o->kind == O_SYM) && o->abase == A_SHOWN) {
                o->abase = A_SHARED;
                o->val += base;
            }
        }
}

void pp_layout(parser *p)
{
    ptx_module *m = p->m;
    check_calls(p);
    uint32_t base = (m->shared_common + 15) & ~15u;
    rebase_shared(m, base);
    lctx c = {p, calloc(m->nfuncs + 1, 1), calloc(m->nfuncs + 1, sizeof(uint64_t)),
              calloc(m->nfuncs + 1, 1), 0};
    size_t nk = 0;
    if (!c.state || !c.depth || !c.addr_taken) goto nomem;
    for (size_t i = 0; i < m->ncode; i++)
        for (unsigned j = 0; j < IR_MAXOPS; j++)
            if (m->code[i].o[j].kind == O_FUNC && !(m->code[i].op == OP_CALL && j == 1))
                c.addr_taken[m->code[i].o[j].idx] = 1;
    for (size_t i = 0; i < m->nrelocs; i++)
        if (m->relocs[i].is_func) c.addr_taken[m->relocs[i].target] = 1;
    for (uint32_t f = 0; f < m->nfuncs; f++)
        nk += m->funcs[f].is_entry && m->funcs[f].start != m->funcs[f].end;
    m->kernels = calloc(nk ? nk : 1, sizeof *m->kernels);
    if (!m->kernels) goto nomem;
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        if (!m->funcs[f].is_entry || m->funcs[f].start == m->funcs[f].end) continue;
        kernel_layout(&c, f, base);
        m->kernels[m->nkernels].mod = m;
        m->kernels[m->nkernels++].func = f;
    }
    m->ir_bytes = m->ncode * sizeof *m->code + m->nkonst * sizeof *m->konst +
                  m->nvecs * sizeof *m->vecs + m->nfuncs * sizeof *m->funcs +
                  m->ncalls * sizeof *m->calls;
    free(c.state), free(c.depth), free(c.addr_taken);
    return;
nomem:
    free(c.state), free(c.depth), free(c.addr_taken);
    pp_error(p, NULL, "out of memory");
}
