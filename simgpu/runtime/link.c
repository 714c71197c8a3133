/* link.c — linking PTX at the text level, and cuLink*. Several PTX texts (an
 * -rdc fatbin, cuLinkAddData inputs) become one module: the newest header,
 * units ordered so definitions precede their users, extern declarations that
 * another unit defines resolved, duplicate weak/common definitions dropped and
 * colliding file-local names renamed. cuLinkComplete's image is that text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fatbin.h"
#include "module.h"

/* ---- tokens ------------------------------------------------------------------- */

struct tok {
    size_t b, e; /* [b, e) in the text; b == e at the end */
};

static bool is_id0(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c == '%';
}

static bool is_idc(char c)
{
    return is_id0(c) || (c >= '0' && c <= '9');
}

/* Next token at or after pos, skipping blanks and comments. */
static struct tok next_tok(const char *t, size_t len, size_t pos)
{
    for (;;) {
        while (pos < len && (t[pos] == ' ' || t[pos] == '\t' || t[pos] == '\n' || t[pos] == '\r'))
            pos++;
        if (pos + 1 < len && t[pos] == '/' && t[pos + 1] == '/') {
            while (pos < len && t[pos] != '\n')
                pos++;
        } else if (pos + 1 < len && t[pos] == '/' && t[pos + 1] == '*') {
            const char *end = strstr(t + pos + 2, "*/");
            pos = end && (size_t)(end - t) < len ? (size_t)(end - t) + 2 : len;
        } else {
            break;
        }
    }
    struct tok k = {pos, pos};
    if (pos >= len) return k;
    char c = t[pos];
    if (c == '"') {
        k.e = pos + 1;
        while (k.e < len && t[k.e] != '"' && t[k.e] != '\n')
            k.e += t[k.e] == '\\' ? 2 : 1;
        if (k.e < len) k.e++;
        if (k.e > len) k.e = len;
    } else if (c == '.' || is_idc(c)) {
        k.e = pos + 1;
        while (k.e < len && (is_idc(t[k.e]) || (c == '.' && t[k.e] == '.')))
            k.e++;
    } else {
        k.e = pos + 1;
    }
    return k;
}

static bool tok_is(const char *t, struct tok k, const char *s)
{
    size_t n = strlen(s);
    return k.e - k.b == n && !memcmp(t + k.b, s, n);
}

/* ---- statements ---------------------------------------------------------------- */

enum linkage { LK_LOCAL, LK_VISIBLE, LK_WEAK, LK_COMMON, LK_EXTERN };
enum skind { SK_OTHER, SK_VERSION, SK_TARGET, SK_ADDRSIZE, SK_FILE, SK_SECTION, SK_FUNC, SK_VAR };

struct stmt {
    size_t b, e;
    enum skind kind;
    enum linkage link;
    bool decl;       /* extern or body-less prototype */
    bool shared;     /* .shared variable (dynamic shared memory) */
    struct tok name; /* empty if none */
    struct tok ext;  /* the .extern token, for rewriting */
    bool drop;
    const char *rewrite_ext; /* replacement for .extern, or NULL */
};

struct unit {
    const char *t;
    size_t len;
    struct stmt *st;
    size_t n, cap;
    unsigned version, target;
    int target_stmt; /* index of .target, -1 if none */
    char **renames;  /* local names renamed in this unit */
    size_t nrenames;
    bool emitted;
};

static bool line_directive(const char *t, struct tok k, enum skind *kind)
{
    if (tok_is(t, k, ".version"))
        *kind = SK_VERSION;
    else if (tok_is(t, k, ".target"))
        *kind = SK_TARGET;
    else if (tok_is(t, k, ".address_size"))
        *kind = SK_ADDRSIZE;
    else if (tok_is(t, k, ".file"))
        *kind = SK_FILE;
    else
        return false;
    return true;
}

/* Classify a declaration from its leading tokens (up to the body or ';'). */
static void classify(const char *t, struct stmt *s)
{
    bool after_func = false, in_params = false, want_var_name = false;
    int depth = 0;
    for (struct tok k = next_tok(t, s->e, s->b); k.b < s->e; k = next_tok(t, s->e, k.e)) {
        char c = t[k.b];
        if (c == '{' || c == '=' || c == ';') break;
        if (c == '(') {
            depth++;
            continue;
        }
        if (c == ')') {
            depth--;
            continue;
        }
        if (depth > 0 || in_params) continue;
        if (tok_is(t, k, ".extern"))
            s->link = LK_EXTERN, s->decl = true, s->ext = k;
        else if (tok_is(t, k, ".visible"))
            s->link = LK_VISIBLE;
        else if (tok_is(t, k, ".weak"))
            s->link = LK_WEAK;
        else if (tok_is(t, k, ".common"))
            s->link = LK_COMMON;
        else if (tok_is(t, k, ".func") || tok_is(t, k, ".entry")) {
            s->kind = SK_FUNC, after_func = true;
            if (tok_is(t, k, ".entry") && s->link == LK_LOCAL) s->link = LK_VISIBLE;
        } else if (tok_is(t, k, ".global") || tok_is(t, k, ".const") || tok_is(t, k, ".shared")) {
            if (s->kind != SK_FUNC) s->kind = SK_VAR, want_var_name = true;
            if (tok_is(t, k, ".shared")) s->shared = true;
        } else if (tok_is(t, k, ".section")) {
            s->kind = SK_SECTION;
        } else if (c != '.' && is_id0(c) && !s->name.e && (after_func || want_var_name)) {
            s->name = k;
            if (after_func) in_params = true; /* what follows is the parameter list */
        }
    }
}

static int add_stmt(struct unit *u, struct stmt s)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;
        struct stmt *ns = realloc(u->st, cap * sizeof *ns);
        if (!ns) return -1;
        u->st = ns;
        u->cap = cap;
    }
    u->st[u->n++] = s;
    return 0;
}

/* End of the statement starting at tok k: a line for header directives, else
 * ';' at depth 0 or the '}' closing a body (braces after '=' are an initialiser). */
static size_t stmt_end(const char *t, size_t len, struct tok k, enum skind *kind)
{
    *kind = SK_OTHER;
    if (line_directive(t, k, kind)) {
        const char *nl = memchr(t + k.b, '\n', len - k.b);
        return nl ? (size_t)(nl - t) : len;
    }
    int depth = 0;
    bool init = false;
    for (; k.b < len; k = next_tok(t, len, k.e)) {
        char c = t[k.b];
        if (c == '=' && depth == 0)
            init = true;
        else if (c == '{')
            depth++;
        else if (c == '}' && --depth <= 0 && !init)
            return k.e;
        else if (c == ';' && depth == 0)
            return k.e;
    }
    return len;
}

static unsigned parse_version(const char *t, size_t b, size_t e)
{
    unsigned maj = 0, min = 0;
    char buf[64];
    size_t n = e - b < sizeof buf - 1 ? e - b : sizeof buf - 1;
    memcpy(buf, t + b, n);
    buf[n] = 0;
    if (sscanf(buf, " .version %u.%u", &maj, &min) < 1) return 0;
    return maj * 10 + min;
}

static unsigned parse_target(const char *t, size_t b, size_t e)
{
    for (size_t i = b; i + 3 < e; i++)
        if (!memcmp(t + i, "sm_", 3)) return (unsigned)strtoul(t + i + 3, NULL, 10);
    return 0;
}

static int split_unit(struct unit *u)
{
    u->target_stmt = -1;
    for (struct tok k = next_tok(u->t, u->len, 0); k.b < u->len;) {
        struct stmt s = {0};
        s.b = k.b;
        s.e = stmt_end(u->t, u->len, k, &s.kind);
        if (s.kind == SK_OTHER) classify(u->t, &s);
        if (s.kind == SK_FUNC && !memchr(u->t + s.b, '{', s.e - s.b)) s.decl = true;
        if (s.kind == SK_VERSION) u->version = parse_version(u->t, s.b, s.e);
        if (s.kind == SK_TARGET) {
            u->target = parse_target(u->t, s.b, s.e);
            u->target_stmt = (int)u->n;
        }
        if (add_stmt(u, s)) return -1;
        k = next_tok(u->t, u->len, s.e);
    }
    return 0;
}

/* ---- symbol lookups ---------------------------------------------------------------- */

struct linker {
    struct unit *u;
    size_t n;
    struct sim_jit_opts *o;
};

static bool same_name(const struct unit *a, struct tok x, const struct unit *b, struct tok y)
{
    return x.e - x.b == y.e - y.b && !memcmp(a->t + x.b, b->t + y.b, x.e - x.b);
}

static bool is_def(const struct stmt *s)
{
    return (s->kind == SK_FUNC || s->kind == SK_VAR) && !s->decl && s->name.e > s->name.b;
}

/* The unit defining (name of unit a, token x) with linkage other than local, or -1. */
static long find_global_def(const struct linker *l, const struct unit *a, struct tok x,
                            size_t *stmt_out)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct unit *u = &l->u[i];
        for (size_t j = 0; j < u->n; j++) {
            const struct stmt *s = &u->st[j];
            if (is_def(s) && s->link != LK_LOCAL && same_name(u, s->name, a, x)) {
                if (stmt_out) *stmt_out = j;
                return (long)i;
            }
        }
    }
    return -1;
}

/* True if unit `ui` defines any symbol called like (a, x). */
static bool unit_defines(const struct unit *u, const struct unit *a, struct tok x)
{
    for (size_t j = 0; j < u->n; j++)
        if (is_def(&u->st[j]) && same_name(u, u->st[j].name, a, x)) return true;
    return false;
}

/* Two strong definitions of one name cannot be linked (nvlink refuses too). */
static CUresult check_duplicates(struct linker *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct unit *u = &l->u[i];
        for (size_t j = 0; j < u->n; j++) {
            struct stmt *s = &u->st[j];
            if (!is_def(s) || s->link != LK_VISIBLE) continue;
            for (size_t k = i + 1; k < l->n; k++) {
                struct unit *v = &l->u[k];
                for (size_t m = 0; m < v->n; m++) {
                    if (is_def(&v->st[m]) && v->st[m].link == LK_VISIBLE &&
                        same_name(u, s->name, v, v->st[m].name)) {
                        sim_jit_log(l->o, true, "link: multiple definition of '%.*s'\n",
                                    (int)(s->name.e - s->name.b), u->t + s->name.b);
                        return CUDA_ERROR_INVALID_PTX;
                    }
                }
            }
        }
    }
    return CUDA_SUCCESS;
}

/* ---- order: units that define what others declare extern come first ------------------ */

static bool depends(const struct linker *l, size_t a, size_t b)
{
    const struct unit *u = &l->u[a];
    for (size_t j = 0; j < u->n; j++) {
        const struct stmt *s = &u->st[j];
        if (s->link == LK_EXTERN && !s->shared && s->name.e > s->name.b &&
            unit_defines(&l->u[b], u, s->name))
            return true;
    }
    return false;
}

static int order_units(const struct linker *l, size_t *order)
{
    bool *done = calloc(l->n, sizeof *done);
    if (!done) return -1;
    size_t k = 0;
    while (k < l->n) {
        size_t pick = l->n;
        for (size_t i = 0; i < l->n && pick == l->n; i++) {
            if (done[i]) continue;
            bool ready = true;
            for (size_t j = 0; j < l->n && ready; j++)
                if (j != i && !done[j] && depends(l, i, j)) ready = false;
            if (ready) pick = i;
        }
        if (pick == l->n) /* a cycle: take the first left, extern decls become prototypes */
            for (pick = 0; done[pick]; pick++) {
            }
        done[pick] = true;
        order[k++] = pick;
    }
    free(done);
    return 0;
}

/* ---- decisions per statement ------------------------------------------------------- */

static int add_rename(struct unit *u, struct tok name)
{
    char **nr = realloc(u->renames, (u->nrenames + 1) * sizeof *nr);
    if (!nr) return -1;
    u->renames = nr;
    nr[u->nrenames] = strndup(u->t + name.b, name.e - name.b);
    return nr[u->nrenames++] ? 0 : -1;
}

/* A local definition is renamed if another unit defines the name globally,
 * or an earlier-emitted unit defines it at all. */
static int plan_locals(struct linker *l, struct unit *u)
{
    for (size_t j = 0; j < u->n; j++) {
        struct stmt *s = &u->st[j];
        if (!is_def(s) || s->link != LK_LOCAL) continue;
        bool clash = false;
        for (size_t i = 0; i < l->n && !clash; i++) {
            struct unit *v = &l->u[i];
            if (v == u) continue;
            if (v->emitted ? unit_defines(v, u, s->name)
                           : find_global_def(l, u, s->name, NULL) == (long)i)
                clash = true;
        }
        if (clash && add_rename(u, s->name)) return -1;
    }
    return 0;
}

/* Earlier statement of the already emitted output declaring the same extern. */
static bool extern_seen(struct linker *l, struct unit *u, size_t upto, struct tok name)
{
    for (size_t i = 0; i < l->n; i++) {
        struct unit *v = &l->u[i];
        if (!v->emitted && v != u) continue;
        size_t lim = v == u ? upto : v->n;
        for (size_t j = 0; j < lim; j++)
            if (!v->st[j].drop && v->st[j].decl && same_name(v, v->st[j].name, u, name))
                return true;
    }
    return false;
}

/* An already emitted unit other than u that defines the name globally. */
static bool emitted_def(const struct linker *l, const struct unit *u, struct tok name)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct unit *v = &l->u[i];
        if (v == u || !v->emitted) continue;
        for (size_t j = 0; j < v->n; j++)
            if (is_def(&v->st[j]) && v->st[j].link != LK_LOCAL &&
                same_name(v, v->st[j].name, u, name))
                return true;
    }
    return false;
}

static void plan_stmt(struct linker *l, struct unit *u, size_t j, bool first_unit)
{
    struct stmt *s = &u->st[j];
    size_t def_stmt = 0;
    if (s->kind == SK_VERSION || s->kind == SK_TARGET || s->kind == SK_ADDRSIZE) {
        s->drop = true;
        return;
    }
    if ((s->kind == SK_FILE || s->kind == SK_SECTION) && !first_unit) {
        s->drop = true; /* debug info of one unit only */
        return;
    }
    if (s->name.e == s->name.b || (s->kind != SK_FUNC && s->kind != SK_VAR)) return;
    if (s->link == LK_LOCAL) return; /* renamed if needed, never dropped */
    if (emitted_def(l, u, s->name)) {
        s->drop = true; /* defined earlier: a declaration or a second weak/common copy */
        return;
    }
    if (!s->decl) return;
    long d = find_global_def(l, u, s->name, &def_stmt);
    if (d >= 0 && &l->u[d] != u) {
        /* defined in a later unit (a cycle): keep it as a forward declaration */
        if (s->kind == SK_FUNC && s->link == LK_EXTERN)
            s->rewrite_ext = l->u[d].st[def_stmt].link == LK_WEAK ? ".weak" : ".visible";
    } else if (d < 0 && s->link == LK_EXTERN && extern_seen(l, u, j, s->name)) {
        s->drop = true; /* the same undefined extern (vprintf, ...) declared once */
    }
}

/* ---- output ----------------------------------------------------------------------- */

struct out {
    char *b;
    size_t n, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 65536;
        while (cap < o->n + n + 1)
            cap *= 2;
        char *nb = realloc(o->b, cap);
        if (!nb) {
            o->oom = true;
            return;
        }
        o->b = nb;
        o->cap = cap;
    }
    memcpy(o->b + o->n, s, n);
    o->n += n;
    o->b[o->n] = 0;
}

static const char *renamed(const struct unit *u, const char *p, size_t n)
{
    for (size_t i = 0; i < u->nrenames; i++)
        if (strlen(u->renames[i]) == n && !memcmp(u->renames[i], p, n)) return u->renames[i];
    return NULL;
}

static void emit_stmt(struct out *o, const struct unit *u, const struct stmt *s, size_t ui)
{
    if (!u->nrenames && !s->rewrite_ext) {
        put(o, u->t + s->b, s->e - s->b);
        put(o, "\n", 1);
        return;
    }
    size_t pos = s->b;
    for (struct tok k = next_tok(u->t, s->e, s->b); k.b < s->e; k = next_tok(u->t, s->e, k.e)) {
        const char *p = u->t + k.b;
        bool ext = s->rewrite_ext && k.b == s->ext.b;
        if (!ext && !(is_id0(*p) && renamed(u, p, k.e - k.b))) continue;
        put(o, u->t + pos, k.b - pos);
        if (ext) {
            put(o, s->rewrite_ext, strlen(s->rewrite_ext));
        } else {
            char sfx[32];
            put(o, p, k.e - k.b);
            put(o, sfx, (size_t)snprintf(sfx, sizeof sfx, "$rg%zu", ui));
        }
        pos = k.e;
    }
    put(o, u->t + pos, s->e - pos);
    put(o, "\n", 1);
}

static void emit_header(struct out *o, const struct linker *l)
{
    unsigned ver = 0;
    const struct unit *best = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (l->u[i].version > ver) ver = l->u[i].version;
        if (l->u[i].target_stmt >= 0 && (!best || l->u[i].target > best->target)) best = &l->u[i];
    }
    char hdr[64];
    put(o, hdr, (size_t)snprintf(hdr, sizeof hdr, ".version %u.%u\n", ver / 10, ver % 10));
    if (best) {
        const struct stmt *s = &best->st[best->target_stmt];
        put(o, best->t + s->b, s->e - s->b);
        put(o, "\n", 1);
    }
    put(o, ".address_size 64\n\n", 18);
}

static void free_units(struct linker *l)
{
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = 0; j < l->u[i].nrenames; j++)
            free(l->u[i].renames[j]);
        free(l->u[i].renames);
        free(l->u[i].st);
    }
    free(l->u);
}

static CUresult emit_all(struct linker *l, const size_t *order, struct out *o)
{
    emit_header(o, l);
    for (size_t k = 0; k < l->n; k++) {
        struct unit *u = &l->u[order[k]];
        if (plan_locals(l, u)) return CUDA_ERROR_OUT_OF_MEMORY;
        for (size_t j = 0; j < u->n; j++)
            plan_stmt(l, u, j, k == 0);
        for (size_t j = 0; j < u->n; j++)
            if (!u->st[j].drop) emit_stmt(o, u, &u->st[j], order[k]);
        u->emitted = true;
    }
    return o->oom ? CUDA_ERROR_OUT_OF_MEMORY : CUDA_SUCCESS;
}

CUresult sim_ptx_link(char *const *texts, size_t n, char **out, struct sim_jit_opts *o)
{
    struct linker l = {calloc(n + 1, sizeof(struct unit)), n, o};
    size_t *order = calloc(n + 1, sizeof *order);
    struct out ob = {0};
    CUresult r = l.u && order ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; r == CUDA_SUCCESS && i < n; i++) {
        l.u[i].t = texts[i];
        l.u[i].len = strlen(texts[i]);
        if (split_unit(&l.u[i])) r = CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (r == CUDA_SUCCESS) r = check_duplicates(&l);
    if (r == CUDA_SUCCESS && order_units(&l, order)) r = CUDA_ERROR_OUT_OF_MEMORY;
    if (r == CUDA_SUCCESS) r = emit_all(&l, order, &ob);
    if (l.u) free_units(&l);
    free(order);
    if (r != CUDA_SUCCESS) {
        free(ob.b);
        return r;
    }
    *out = ob.b;
    return CUDA_SUCCESS;
}

/* ---- cuLink* ------------------------------------------------------------------------ */

struct sim_link {
    struct sim_obj obj;
    char **texts;
    size_t n, cap;
    char *image; /* cuLinkComplete's output, owned until cuLinkDestroy */
    struct sim_jit_opts o;
};

static CUresult link_arg(CUlinkState h, struct sim_link **out)
{
    if (!sim_handle_ok(h, SIM_KIND_LINK)) return CUDA_ERROR_INVALID_HANDLE;
    *out = (struct sim_link *)h;
    return CUDA_SUCCESS;
}

static CUresult link_push(struct sim_link *k, char *text)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 8;
        char **nt = realloc(k->texts, cap * sizeof *nt);
        if (!nt) {
            free(text);
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        k->texts = nt;
        k->cap = cap;
    }
    k->texts[k->n++] = text;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLinkCreate_v2(unsigned int numOptions, CUjit_option *options,
                                 void **optionValues, CUlinkState *stateOut)
{
    SIM_INIT_OR_RETURN();
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r != CUDA_SUCCESS) return r;
    if (!stateOut) return CUDA_ERROR_INVALID_VALUE;
    struct sim_link *k = calloc(1, sizeof *k);
    if (!k) return CUDA_ERROR_OUT_OF_MEMORY;
    if ((r = sim_jit_opts_parse(&k->o, numOptions, options, optionValues)) != CUDA_SUCCESS) {
        free(k);
        return r;
    }
    sim_handle_add(&k->obj, SIM_KIND_LINK);
    *stateOut = (CUlinkState)k;
    return CUDA_SUCCESS;
}

static CUresult add_fatbin(struct sim_link *k, const void *data, const char *name)
{
    char why[512] = "", **texts = NULL;
    size_t n = 0;
    enum rg_fatbin_status st = rg_image_extract_ptx(data, SIM_ARCH, &texts, &n, why, sizeof why);
    if (st == RG_FATBIN_OK && n == 0) st = RG_FATBIN_NO_PTX;
    if (st != RG_FATBIN_OK) {
        sim_jit_log(&k->o, true, "link: input '%s': %s\n", name ? name : "?",
                    st == RG_FATBIN_NO_PTX ? "no PTX for sm_120" : "malformed fatbin");
        return st == RG_FATBIN_NO_PTX  ? CUDA_ERROR_NO_BINARY_FOR_GPU
               : st == RG_FATBIN_NOMEM ? CUDA_ERROR_OUT_OF_MEMORY
                                       : CUDA_ERROR_INVALID_IMAGE;
    }
    CUresult r = CUDA_SUCCESS;
    for (size_t i = 0; i < n; i++) {
        if (r == CUDA_SUCCESS)
            r = link_push(k, texts[i]);
        else
            free(texts[i]);
        texts[i] = NULL;
    }
    rg_fatbin_free_ptx(texts, n);
    return r;
}

static CUresult link_add(struct sim_link *k, CUjitInputType type, const void *data, size_t size,
                         const char *name)
{
    switch (type) {
    case CU_JIT_INPUT_PTX: {
        char *t = strndup(data, size);
        return t ? link_push(k, t) : CUDA_ERROR_OUT_OF_MEMORY;
    }
    case CU_JIT_INPUT_FATBINARY:
        return add_fatbin(k, data, name);
    case CU_JIT_INPUT_LIBRARY: /* e.g. libcudadevrt.a: device-runtime calls are unsupported */
        sim_warn("link: library input '%s' ignored (no PTX)", name ? name : "?");
        return CUDA_SUCCESS;
    case CU_JIT_INPUT_CUBIN:
    case CU_JIT_INPUT_OBJECT:
        sim_jit_log(&k->o, true, "link: input '%s' is SASS; simgpu links PTX only\n",
                    name ? name : "?");
        return CUDA_ERROR_NO_BINARY_FOR_GPU;
    case CU_JIT_INPUT_NVVM:
        return CUDA_ERROR_NOT_SUPPORTED;
    default:
        return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult CUDAAPI cuLinkAddData_v2(CUlinkState state, CUjitInputType type, void *data, size_t size,
                                  const char *name, unsigned int numOptions, CUjit_option *options,
                                  void **optionValues)
{
    SIM_INIT_OR_RETURN();
    struct sim_link *k;
    struct sim_jit_opts o;
    CUresult r = link_arg(state, &k);
    if (r != CUDA_SUCCESS) return r;
    if (!data || (size == 0 && type != CU_JIT_INPUT_FATBINARY)) return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_jit_opts_parse(&o, numOptions, options, optionValues)) != CUDA_SUCCESS) return r;
    return link_add(k, type, data, size, name);
}

CUresult CUDAAPI cuLinkAddFile_v2(CUlinkState state, CUjitInputType type, const char *path,
                                  unsigned int numOptions, CUjit_option *options,
                                  void **optionValues)
{
    SIM_INIT_OR_RETURN();
    struct sim_link *k;
    struct sim_jit_opts o;
    char *buf;
    size_t size;
    CUresult r = link_arg(state, &k);
    if (r != CUDA_SUCCESS) return r;
    if (!path) return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_jit_opts_parse(&o, numOptions, options, optionValues)) != CUDA_SUCCESS) return r;
    if ((r = sim_read_file(path, &buf, &size)) != CUDA_SUCCESS) return r;
    if (type == CU_JIT_INPUT_FATBINARY && rg_fatbin_container_size(buf, size) == 0 &&
        rg_image_kind(buf) == RG_IMAGE_CONTAINER)
        r = CUDA_ERROR_INVALID_IMAGE;
    else
        r = link_add(k, type, buf, size ? size : 1, path);
    free(buf);
    return r;
}

/* The image is the linked PTX; it is parsed here so errors surface now. */
CUresult CUDAAPI cuLinkComplete(CUlinkState state, void **cubinOut, size_t *sizeOut)
{
    SIM_INIT_OR_RETURN();
    struct sim_link *k;
    struct sim_code *code = NULL;
    CUresult r = link_arg(state, &k);
    if (r != CUDA_SUCCESS) return r;
    if (!cubinOut || !sizeOut || k->n == 0) return CUDA_ERROR_INVALID_VALUE;
    free(k->image);
    k->image = NULL;
    r = k->n == 1 ? ((k->image = strdup(k->texts[0])) ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY)
                  : sim_ptx_link(k->texts, k->n, &k->image, &k->o);
    if (r == CUDA_SUCCESS) r = sim_code_from_image(k->image, SIZE_MAX, &k->o, &code);
    sim_code_free(code);
    sim_jit_opts_finish(&k->o);
    if (r != CUDA_SUCCESS) return r;
    *cubinOut = k->image;
    *sizeOut = strlen(k->image) + 1;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLinkDestroy(CUlinkState state)
{
    SIM_INIT_OR_RETURN();
    struct sim_link *k;
    CUresult r = link_arg(state, &k);
    if (r != CUDA_SUCCESS) return r;
    sim_handle_remove(&k->obj);
    for (size_t i = 0; i < k->n; i++)
        free(k->texts[i]);
    free(k->texts);
    free(k->image);
    free(k);
    return CUDA_SUCCESS;
}

/* The pre-CUDA-5.5 names: same signatures as the _v2 entry points. */
CUresult CUDAAPI cuLinkCreate(unsigned int numOptions, CUjit_option *options, void **optionValues,
                              CUlinkState *stateOut)
{
    return cuLinkCreate_v2(numOptions, options, optionValues, stateOut);
}

CUresult CUDAAPI cuLinkAddData(CUlinkState state, CUjitInputType type, void *data, size_t size,
                               const char *name, unsigned int numOptions, CUjit_option *options,
                               void **optionValues)
{
    return cuLinkAddData_v2(state, type, data, size, name, numOptions, options, optionValues);
}

CUresult CUDAAPI cuLinkAddFile(CUlinkState state, CUjitInputType type, const char *path,
                               unsigned int numOptions, CUjit_option *options, void **optionValues)
{
    return cuLinkAddFile_v2(state, type, path, numOptions, options, optionValues);
}
