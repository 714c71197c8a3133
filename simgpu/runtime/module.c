/* module.c — cuModuleLoad*, cuModuleUnload and module lookups: turning any code
 * image (PTX, fatbin container, __fatBinC_Wrapper_t v1/v2) into parsed PTX, and
 * instantiating it in a context (variables placed in device memory, one
 * function object per kernel). Shared by the library API and cuLink*. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fatbin.h"
#include "module.h"

pthread_mutex_t sim_module_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_module *g_modules; /* every live module, under sim_module_lock */

struct sim_module *sim_module_list_locked(void)
{
    return g_modules;
}

/* ---- JIT options ---------------------------------------------------------- */

CUresult sim_jit_opts_parse(struct sim_jit_opts *o, unsigned n, CUjit_option *opt, void **val)
{
    memset(o, 0, sizeof *o);
    if (n == 0) return CUDA_SUCCESS;
    if (!opt || !val) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < n; i++) {
        if ((unsigned)opt[i] >= CU_JIT_NUM_OPTIONS) return CUDA_ERROR_INVALID_VALUE;
        switch (opt[i]) {
        case CU_JIT_ERROR_LOG_BUFFER:
            o->err_buf = val[i];
            break;
        case CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES:
            o->err_size = (uintptr_t)val[i];
            break;
        case CU_JIT_INFO_LOG_BUFFER:
            o->info_buf = val[i];
            break;
        case CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES:
            o->info_size = (uintptr_t)val[i];
            break;
        default:
            break; /* optimisation levels, targets, ...: accepted, no effect */
        }
    }
    if (!o->err_buf) o->err_size = 0;
    if (!o->info_buf) o->info_size = 0;
    if (o->err_size) o->err_buf[0] = 0;
    if (o->info_size) o->info_buf[0] = 0;
    o->n = n;
    o->opt = opt;
    o->val = val;
    return CUDA_SUCCESS;
}

static void log_append(char *buf, size_t size, size_t *len, const char *text)
{
    if (!buf || size == 0 || *len + 1 >= size) return;
    size_t room = size - 1 - *len, n = strlen(text);
    if (n > room) n = room;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = 0;
}

void sim_jit_log(struct sim_jit_opts *o, bool error, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!o) return;
    if (error)
        log_append(o->err_buf, o->err_size, &o->err_len, line);
    else
        log_append(o->info_buf, o->info_size, &o->info_len, line);
}

/* Sizes go back into the caller's option array: bytes used, NUL included. */
void sim_jit_opts_finish(struct sim_jit_opts *o)
{
    for (unsigned i = 0; i < o->n; i++) {
        if (o->opt[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
            o->val[i] = (void *)(uintptr_t)(o->err_len ? o->err_len + 1 : 0);
        else if (o->opt[i] == CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES)
            o->val[i] = (void *)(uintptr_t)(o->info_len ? o->info_len + 1 : 0);
        else if (o->opt[i] == CU_JIT_WALL_TIME) {
            float ms = 0.0f;
            memcpy(&o->val[i], &ms, sizeof ms);
        }
    }
}

/* ---- images to code ------------------------------------------------------- */

void sim_code_free(struct sim_code *c)
{
    if (!c) return;
    ptx_module_free(c->ptx);
    for (size_t i = 0; i < c->nmanaged; i++)
        free(c->managed[i]);
    free(c->managed);
    free(c);
}

bool sim_code_is_managed(const struct sim_code *c, const char *name)
{
    for (size_t i = 0; i < c->nmanaged; i++)
        if (!strcmp(c->managed[i], name)) return true;
    return false;
}

/* The declared name after `.attribute(.managed)`: the last identifier before
 * ';', '[' or '='. ptx.h does not say which variables are managed. */
static char *managed_name(const char *p, const char *end)
{
    const char *name = NULL;
    size_t n = 0;
    while (p < end && *p != ';' && *p != '[' && *p != '=') {
        bool id0 = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '$';
        const char *q = p;
        while (q < end && (isalnum((unsigned char)*q) || *q == '_' || *q == '$' || *q == '.'))
            q++;
        if (q == p)
            q++;
        else if (id0)
            name = p, n = (size_t)(q - p);
        p = q;
    }
    return name ? strndup(name, n) : NULL;
}

static void find_managed(struct sim_code *c, const char *text, size_t len)
{
    static const char key[] = ".attribute(.managed)";
    const char *end = text + len;
    for (const char *p = memmem(text, len, key, sizeof key - 1); p;
         p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) {
        p += sizeof key - 1;
        char *name = managed_name(p, end);
        char **nm = name ? realloc(c->managed, (c->nmanaged + 1) * sizeof *nm) : NULL;
        if (!nm) {
            free(name);
            continue;
        }
        c->managed = nm;
        nm[c->nmanaged++] = name;
    }
}

static size_t const_bytes(const ptx_module *m)
{
    size_t n = 0, nv = ptx_module_num_vars(m);
    for (size_t i = 0; i < nv; i++) {
        const ptx_var_info *v = ptx_module_var(m, i);
        if (v && v->space == PTX_SPACE_CONST) n += v->size;
    }
    return n;
}

static void first_line(const char *log, char *out, size_t size)
{
    size_t n = strcspn(log, "\n");
    if (n >= size) n = size - 1;
    memcpy(out, log, n);
    out[n] = 0;
}

/* Parse PTX into code; a .target above max_target is NO_BINARY_FOR_GPU. */
static CUresult code_from_ptx(const char *text, size_t len, unsigned max_target,
                              struct sim_jit_opts *o, struct sim_code **out)
{
    char *log = calloc(1, 8192);
    if (!log) return CUDA_ERROR_OUT_OF_MEMORY;
    ptx_module *m = NULL;
    enum ptx_status s = ptx_parse(text, len, &m, log, 8192);
    CUresult r = CUDA_SUCCESS;
    if (s == PTX_ERR_NOMEM)
        r = CUDA_ERROR_OUT_OF_MEMORY;
    else if (s != PTX_OK) {
        char l1[256];
        first_line(log, l1, sizeof l1);
        sim_jit_log(o, true, "ptx: %s", log[0] ? log : "parse error\n");
        sim_err("module: invalid PTX: %s", l1);
        r = CUDA_ERROR_INVALID_PTX;
    } else if (log[0]) {
        sim_jit_log(o, false, "%s", log);
    }
    free(log);
    if (r != CUDA_SUCCESS) return r;
    if (ptx_module_version(m) > 90) {
        sim_jit_log(o, true, "ptx: .version %u.%u is newer than this driver supports (9.0)\n",
                    ptx_module_version(m) / 10, ptx_module_version(m) % 10);
        ptx_module_free(m);
        return CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
    }
    if (ptx_module_target(m) > max_target) {
        sim_jit_log(o, true, "ptx: .target sm_%u is newer than the device (sm_%u)\n",
                    ptx_module_target(m), SIM_ARCH);
        ptx_module_free(m);
        return CUDA_ERROR_NO_BINARY_FOR_GPU;
    }
    struct sim_code *c = calloc(1, sizeof *c);
    if (!c) {
        ptx_module_free(m);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    c->ptx = m;
    c->target = ptx_module_target(m);
    sim_info("module: %zu bytes of PTX (.target sm_%u, %zu kernels) decoded into %zu bytes of IR",
             len, c->target, ptx_module_num_kernels(m), ptx_module_ir_bytes(m));
    c->const_bytes = const_bytes(m);
    c->uses_heap = ptx_module_uses_heap(m);
    c->nkernels = ptx_module_num_kernels(m);
    find_managed(c, text, len);
    *out = c;
    return CUDA_SUCCESS;
}

static const char *kind_name(enum rg_image_kind k)
{
    switch (k) {
    case RG_IMAGE_WRAPPER:
        return "fatbin wrapper";
    case RG_IMAGE_CONTAINER:
        return "fatbin container";
    case RG_IMAGE_ELF:
        return "cubin";
    case RG_IMAGE_ARCHIVE:
        return "device library archive";
    case RG_IMAGE_PTX:
        return "PTX";
    default:
        return "unknown image";
    }
}

static CUresult extract_error(enum rg_fatbin_status st, const void *image, enum rg_image_kind kind,
                              const char *why, struct sim_jit_opts *o)
{
    CUresult r = st == RG_FATBIN_NOMEM    ? CUDA_ERROR_OUT_OF_MEMORY
                 : st == RG_FATBIN_NO_PTX ? CUDA_ERROR_NO_BINARY_FOR_GPU
                                          : CUDA_ERROR_INVALID_IMAGE;
    const char *what = st == RG_FATBIN_NO_PTX       ? "no PTX for sm_120 (simgpu runs PTX only)"
                       : st == RG_FATBIN_DECOMPRESS ? "entry failed to decompress"
                                                    : "malformed";
    sim_err("module: image %p (%s): %s%s%s", image, kind_name(kind), what, why[0] ? ": " : "", why);
    sim_jit_log(o, true, "image %p (%s): %s%s%s\n", image, kind_name(kind), what,
                why[0] ? ": " : "", why);
    return r;
}

static CUresult code_from_fatbin(const void *image, enum rg_image_kind kind, struct sim_jit_opts *o,
                                 struct sim_code **out)
{
    char why[512] = "";
    char **texts = NULL;
    size_t n = 0;
    unsigned arch;
    enum rg_fatbin_status st = sim_image_pick_ptx(image, &texts, &n, &arch, why, sizeof why);
    if (st != RG_FATBIN_OK) return extract_error(st, image, kind, why, o);
    CUresult r;
    if (n == 1) {
        r = code_from_ptx(texts[0], strlen(texts[0]), arch, o, out);
    } else {
        char *linked = NULL;
        r = sim_ptx_link(texts, n, &linked, o);
        if (r == CUDA_SUCCESS) r = code_from_ptx(linked, strlen(linked), arch, o, out);
        free(linked);
    }
    rg_fatbin_free_ptx(texts, n);
    return r;
}

/* Binary junk is a bad image, not bad PTX: the head of PTX is text. */
static bool looks_like_text(const unsigned char *p, size_t avail)
{
    for (size_t i = 0; i < 256 && i < avail && p[i]; i++)
        if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f' &&
            p[i] != '\v')
            return false;
    return true;
}

CUresult sim_code_from_image(const void *image, size_t avail, struct sim_jit_opts *o,
                             struct sim_code **out)
{
    if (!image) return CUDA_ERROR_INVALID_VALUE;
    enum rg_image_kind kind = rg_image_kind(image);
    switch (kind) {
    case RG_IMAGE_PTX:
        if (!looks_like_text(image, avail))
            return extract_error(RG_FATBIN_MALFORMED, image, RG_IMAGE_UNKNOWN, "not text", o);
        return code_from_ptx(image, strnlen(image, avail), SIM_ARCH, o, out);
    case RG_IMAGE_CONTAINER:
        if (avail != SIZE_MAX && rg_fatbin_container_size(image, avail) == 0)
            return extract_error(RG_FATBIN_MALFORMED, image, kind, "truncated", o);
        return code_from_fatbin(image, kind, o, out);
    case RG_IMAGE_WRAPPER:
        return code_from_fatbin(image, kind, o, out);
    case RG_IMAGE_ELF:
        return extract_error(RG_FATBIN_NO_PTX, image, kind, "SASS cannot run on simgpu", o);
    default:
        return extract_error(RG_FATBIN_MALFORMED, image, kind, "", o);
    }
}

CUresult sim_read_file(const char *path, char **out, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? CUDA_ERROR_FILE_NOT_FOUND
                                                   : CUDA_ERROR_INVALID_VALUE;
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    CUresult r = CUDA_SUCCESS;
    do {
        if (cap - len < 65536) {
            char *nb = realloc(buf, cap = cap * 2 + 65536 + 1);
            if (!nb) {
                r = CUDA_ERROR_OUT_OF_MEMORY;
                break;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    if (r == CUDA_SUCCESS && ferror(f)) r = CUDA_ERROR_FILE_NOT_FOUND;
    fclose(f);
    if (r != CUDA_SUCCESS) {
        free(buf);
        return r;
    }
    buf[len] = 0;
    *out = buf;
    *size = len;
    return CUDA_SUCCESS;
}

/* ---- instances -------------------------------------------------------------- */

/* A library's managed variable, shared by all its instances, or NULL. */
static void *shared_var(const struct sim_module *m, size_t i)
{
    return m->lib && m->lib->managed_addrs ? m->lib->managed_addrs[i] : NULL;
}

static CUresult place_vars(struct sim_module *m)
{
    const ptx_module *p = m->code->ptx;
    size_t nv = ptx_module_num_vars(p);
    for (size_t i = 0; i < nv; i++) {
        const ptx_var_info *v = ptx_module_var(p, i);
        uintptr_t a = 0;
        if ((m->var_addrs[i] = shared_var(m, i))) continue;
        CUresult r = sim_mem_alloc_device(m->ctx, v->size ? v->size : 1, true, &a);
        if (r != CUDA_SUCCESS) return r;
        m->var_addrs[i] = (void *)a;
        if (v->init) memcpy((void *)a, v->init, v->size);
    }
    for (size_t i = 0; i < nv; i++)
        if (!shared_var(m, i)) ptx_module_relocate(p, i, m->var_addrs[i], m->var_addrs);
    return CUDA_SUCCESS;
}

static void free_vars(struct sim_module *m)
{
    size_t nv = ptx_module_num_vars(m->code->ptx);
    for (size_t i = 0; i < nv && m->var_addrs; i++)
        if (m->var_addrs[i] && m->var_addrs[i] != shared_var(m, i))
            sim_mem_free_device((uintptr_t)m->var_addrs[i]);
}

static void make_funcs(struct sim_module *m)
{
    for (size_t i = 0; i < m->code->nkernels; i++) {
        struct sim_func *f = &m->funcs[i];
        f->mod = m;
        f->k = ptx_module_kernel(m->code->ptx, i);
        f->info = ptx_kernel_get_info(f->k);
        sim_fattrs_init(&f->own_attrs);
        f->attrs = m->lib ? &m->lib->kernels[i].attrs : &f->own_attrs;
        sim_handle_add(&f->obj, SIM_KIND_FUNC);
    }
}

void sim_module_free(struct sim_module *m)
{
    if (!m) return;
    free_vars(m);
    if (m->owns_code) sim_code_free(m->code);
    free(m->var_addrs);
    free(m->funcs);
    free(m);
}

CUresult sim_module_create(struct sim_ctx *c, struct sim_code *code, bool owns_code,
                           struct sim_library *lib, struct sim_module **out)
{
    struct sim_module *m = calloc(1, sizeof *m);
    size_t nv = ptx_module_num_vars(code->ptx);
    if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
    m->ctx = c;
    m->code = code;
    m->lib = lib;
    m->var_addrs = calloc(nv + 1, sizeof *m->var_addrs);
    m->funcs = calloc(code->nkernels + 1, sizeof *m->funcs);
    CUresult r = (m->var_addrs && m->funcs) ? place_vars(m) : CUDA_ERROR_OUT_OF_MEMORY;
    if (r != CUDA_SUCCESS) {
        sim_module_free(m); /* code stays the caller's on failure */
        return r;
    }
    m->owns_code = owns_code;
    int sms = 1;
    if (sim_device_attribute(c->dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &sms) != 0 ||
        sms < 1)
        sms = 1;
    m->sm_count = (unsigned)sms;
    make_funcs(m);
    sim_handle_add(&m->obj, SIM_KIND_MODULE);
    pthread_mutex_lock(&sim_module_lock);
    m->next = g_modules;
    g_modules = m;
    pthread_mutex_unlock(&sim_module_lock);
    *out = m;
    return CUDA_SUCCESS;
}

/* Unregister m and take it off the list; caller holds sim_module_lock. After
 * this no lookup can reach m, so only the caller frees it. */
void sim_module_detach_locked(struct sim_module *m)
{
    for (struct sim_module **pp = &g_modules; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    if (m->lib) sim_library_forget_locked(m->lib, m);
    for (size_t i = 0; i < m->code->nkernels; i++)
        sim_handle_remove(&m->funcs[i].obj);
    sim_handle_remove(&m->obj);
}

/* Context teardown hook: the context's streams are drained. */
static void modules_ctx_destroyed(struct sim_ctx *c)
{
    struct sim_module *dead = NULL;
    pthread_mutex_lock(&sim_module_lock);
    struct sim_module *m = g_modules;
    while (m) {
        struct sim_module *next = m->next;
        if (m->ctx == c) {
            sim_module_detach_locked(m);
            m->next = dead;
            dead = m;
        }
        m = next;
    }
    pthread_mutex_unlock(&sim_module_lock);
    while (dead) {
        struct sim_module *next = dead->next;
        sim_module_free(dead);
        dead = next;
    }
}

__attribute__((constructor)) static void module_register_hook(void)
{
    sim_ctx_add_destroy_hook(modules_ctx_destroyed);
}

/* ---- entry points ----------------------------------------------------------- */

static CUresult load_image(CUmodule *module, const void *image, size_t avail,
                           struct sim_jit_opts *o)
{
    struct sim_ctx *c;
    struct sim_code *code = NULL;
    struct sim_module *m = NULL;
    CUresult r = sim_ctx_get(&c);
    if (r != CUDA_SUCCESS) return r;
    if (!module || !image) return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_code_from_image(image, avail, o, &code)) != CUDA_SUCCESS) return r;
    if ((r = sim_module_create(c, code, true, NULL, &m)) != CUDA_SUCCESS) {
        sim_code_free(code);
        return r;
    }
    sim_debug("module %p: %zu kernels, %zu variables, sm_%u", (void *)m, code->nkernels,
              ptx_module_num_vars(code->ptx), code->target);
    *module = (CUmodule)m;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int numOptions,
                                    CUjit_option *options, void **optionValues)
{
    SIM_INIT_OR_RETURN();
    struct sim_jit_opts o;
    CUresult r = sim_jit_opts_parse(&o, numOptions, options, optionValues);
    if (r != CUDA_SUCCESS) return r;
    r = load_image(module, image, SIZE_MAX, &o);
    sim_jit_opts_finish(&o);
    return r;
}

CUresult CUDAAPI cuModuleLoadData(CUmodule *module, const void *image)
{
    return cuModuleLoadDataEx(module, image, 0, NULL, NULL);
}

CUresult CUDAAPI cuModuleLoadFatBinary(CUmodule *module, const void *fatCubin)
{
    return cuModuleLoadDataEx(module, fatCubin, 0, NULL, NULL);
}

CUresult CUDAAPI cuModuleLoad(CUmodule *module, const char *fname)
{
    SIM_INIT_OR_RETURN();
    struct sim_ctx *c;
    CUresult r = sim_ctx_get(&c);
    if (r != CUDA_SUCCESS) return r;
    if (!module || !fname) return CUDA_ERROR_INVALID_VALUE;
    char *buf;
    size_t size;
    if ((r = sim_read_file(fname, &buf, &size)) != CUDA_SUCCESS) return r;
    struct sim_jit_opts o;
    sim_jit_opts_parse(&o, 0, NULL, NULL);
    r = load_image(module, buf, size + 1, &o);
    free(buf);
    return r;
}

CUresult CUDAAPI cuModuleUnload(CUmodule hmod)
{
    SIM_INIT_OR_RETURN();
    struct sim_module *m = (struct sim_module *)hmod;
    pthread_mutex_lock(&sim_module_lock);
    if (!sim_handle_ok(hmod, SIM_KIND_MODULE)) {
        pthread_mutex_unlock(&sim_module_lock);
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (m->lib) { /* a library's instance lives as long as the library */
        pthread_mutex_unlock(&sim_module_lock);
        return CUDA_ERROR_NOT_PERMITTED;
    }
    sim_module_detach_locked(m);
    pthread_mutex_unlock(&sim_module_lock);
    sim_ctx_synchronize(m->ctx); /* kernels in flight still use its variables */
    sim_module_free(m);
    return CUDA_SUCCESS;
}

static long kernel_index(const struct sim_module *m, const char *name)
{
    const ptx_kernel *k = ptx_module_find_kernel(m->code->ptx, name);
    for (size_t i = 0; k && i < m->code->nkernels; i++)
        if (m->funcs[i].k == k) return (long)i;
    return -1;
}

CUresult CUDAAPI cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name)
{
    SIM_INIT_OR_RETURN();
    if (!hfunc || !name) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(hmod, SIM_KIND_MODULE)) return CUDA_ERROR_INVALID_HANDLE;
    struct sim_module *m = (struct sim_module *)hmod;
    long i = kernel_index(m, name);
    if (i < 0) return CUDA_ERROR_NOT_FOUND;
    *hfunc = (CUfunction)&m->funcs[i];
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleGetFunctionCount(unsigned int *count, CUmodule mod)
{
    SIM_INIT_OR_RETURN();
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(mod, SIM_KIND_MODULE)) return CUDA_ERROR_INVALID_HANDLE;
    *count = (unsigned)((struct sim_module *)mod)->code->nkernels;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleEnumerateFunctions(CUfunction *functions, unsigned int numFunctions,
                                            CUmodule mod)
{
    SIM_INIT_OR_RETURN();
    if (!functions && numFunctions) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(mod, SIM_KIND_MODULE)) return CUDA_ERROR_INVALID_HANDLE;
    struct sim_module *m = (struct sim_module *)mod;
    for (size_t i = 0; i < m->code->nkernels && i < numFunctions; i++)
        functions[i] = (CUfunction)&m->funcs[i];
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleGetGlobal_v2(CUdeviceptr *dptr, size_t *bytes, CUmodule hmod,
                                      const char *name)
{
    SIM_INIT_OR_RETURN();
    if (!name) return CUDA_ERROR_INVALID_VALUE;
    if (!sim_handle_ok(hmod, SIM_KIND_MODULE)) return CUDA_ERROR_INVALID_HANDLE;
    struct sim_module *m = (struct sim_module *)hmod;
    long i = ptx_module_find_var(m->code->ptx, name);
    if (i < 0) return CUDA_ERROR_NOT_FOUND;
    if (dptr) *dptr = (CUdeviceptr)(uintptr_t)m->var_addrs[i];
    if (bytes) *bytes = ptx_module_var(m->code->ptx, (size_t)i)->size;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleGetLoadingMode(CUmoduleLoadingMode *mode)
{
    SIM_INIT_OR_RETURN();
    if (!mode) return CUDA_ERROR_INVALID_VALUE;
    const char *e = getenv("CUDA_MODULE_LOADING");
    *mode = (e && !strcmp(e, "EAGER")) ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING;
    return CUDA_SUCCESS;
}

/* Texture and surface references (removed from the runtime in CUDA 12). */
CUresult CUDAAPI cuModuleGetTexRef(CUtexref *pTexRef, CUmodule hmod, const char *name)
{
    static atomic_flag logged = ATOMIC_FLAG_INIT;
    if (!atomic_flag_test_and_set(&logged)) sim_warn("cuModuleGetTexRef: not supported");
    return CUDA_ERROR_NOT_SUPPORTED;
}

CUresult CUDAAPI cuModuleGetSurfRef(CUsurfref *pSurfRef, CUmodule hmod, const char *name)
{
    static atomic_flag logged = ATOMIC_FLAG_INIT;
    if (!atomic_flag_test_and_set(&logged)) sim_warn("cuModuleGetSurfRef: not supported");
    return CUDA_ERROR_NOT_SUPPORTED;
}
