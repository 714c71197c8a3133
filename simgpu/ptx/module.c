/* module.c — the read-only view of a parsed module the runtime uses: kernels,
 * variables and their relocations, sizes; and freeing it. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

void ptx_module_free(ptx_module *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nfuncs; i++) {
        ir_func *f = &m->funcs[i];
        free(f->name), free(f->params), free(f->rets), free(f->pinfo), free(f->reg_base);
    }
    for (size_t i = 0; i < m->nvars; i++)
        free(m->vars[i].name_buf), free(m->vars[i].init_buf);
    for (size_t i = 0; i < m->ncalls; i++)
        free(m->calls[i].args), free(m->calls[i].rets);
    free(m->funcs), free(m->vars), free(m->calls), free(m->relocs), free(m->code);
    free(m->vecs), free(m->konst), free(m->brx_tab), free(m->kernels);
    free(m);
}

unsigned ptx_module_version(const ptx_module *m)
{
    return m->version;
}
unsigned ptx_module_target(const ptx_module *m)
{
    return m->target;
}
size_t ptx_module_ir_bytes(const ptx_module *m)
{
    return m->ir_bytes;
}
bool ptx_module_uses_heap(const ptx_module *m)
{
    for (size_t i = 0; i < m->nfuncs; i++)
        if (m->funcs[i].builtin == B_MALLOC || m->funcs[i].builtin == B_FREE) return true;
    return false;
}
size_t ptx_module_num_kernels(const ptx_module *m)
{
    return m->nkernels;
}

const ptx_kernel *ptx_module_kernel(const ptx_module *m, size_t i)
{
    return i < m->nkernels ? &m->kernels[i] : NULL;
}

const ptx_kernel *ptx_module_find_kernel(const ptx_module *m, const char *name)
{
    for (size_t i = 0; i < m->nkernels; i++)
        if (strcmp(m->funcs[m->kernels[i].func].name, name) == 0) return &m->kernels[i];
    return NULL;
}

const ptx_kernel_info *ptx_kernel_get_info(const ptx_kernel *k)
{
    return &k->mod->funcs[k->func].info;
}

size_t ptx_module_num_vars(const ptx_module *m)
{
    return m->nvars;
}

const ptx_var_info *ptx_module_var(const ptx_module *m, size_t i)
{
    return i < m->nvars ? &m->vars[i].info : NULL;
}

long ptx_module_find_var(const ptx_module *m, const char *name)
{
    for (size_t i = 0; i < m->nvars; i++)
        if (strcmp(m->vars[i].info.name, name) == 0) return (long)i;
    return -1;
}

void ptx_module_relocate(const ptx_module *m, size_t i, void *image, void *const *var_addrs)
{
    for (size_t k = 0; k < m->nrelocs; k++) {
        const ir_reloc *r = &m->relocs[k];
        if (r->var != i || r->offset + r->size > m->vars[i].info.size) continue;
        uint64_t a =
            r->is_func ? IR_WIN_FUNC + r->target : (uint64_t)(uintptr_t)var_addrs[r->target];
        a += (uint64_t)r->addend;
        memcpy((char *)image + r->offset, &a, r->size);
    }
}

const char *ptx_status_name(enum ptx_status s)
{
    switch (s) {
    case PTX_OK:
        return "PTX_OK";
    case PTX_ERR_PARSE:
        return "PTX_ERR_PARSE";
    case PTX_ERR_NOMEM:
        return "PTX_ERR_NOMEM";
    case PTX_ERR_ILLEGAL_ADDRESS:
        return "PTX_ERR_ILLEGAL_ADDRESS";
    case PTX_ERR_MISALIGNED:
        return "PTX_ERR_MISALIGNED";
    case PTX_ERR_ASSERT:
        return "PTX_ERR_ASSERT";
    case PTX_ERR_TRAP:
        return "PTX_ERR_TRAP";
    case PTX_ERR_ILLEGAL_INSTR:
        return "PTX_ERR_ILLEGAL_INSTR";
    case PTX_ERR_LAUNCH_RESOURCES:
        return "PTX_ERR_LAUNCH_RESOURCES";
    case PTX_ERR_INVALID_VALUE:
        return "PTX_ERR_INVALID_VALUE";
    }
    return "PTX_ERR_?";
}
