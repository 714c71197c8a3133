/* ir_size.c — memory of simgpu's decoded PTX: the benchmark kernels are parsed
 * directly with the interpreter's front end (no driver involved) and the IR
 * size is reported beside the PTX size. */
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "ptx.h"

void bench_add_row(const char *backend, const char *bench, const char *param, double value,
                   const char *unit, const char *error);

static void one(const char *name, const char *text)
{
    char log[512];
    ptx_module *m = NULL;
    if (ptx_parse(text, strlen(text), &m, log, sizeof log) != PTX_OK) {
        bench_add_row("interpreter", "ptx_ir_bytes", name, 0, "", log);
        return;
    }
    bench_add_row("interpreter", "ptx_text_bytes", name, (double)strlen(text), "bytes", NULL);
    bench_add_row("interpreter", "ptx_ir_bytes", name, (double)ptx_module_ir_bytes(m), "bytes", NULL);
    ptx_module_free(m);
}

void bench_ir_sizes(void)
{
    one("empty", BENCH_PTX_HEADER BENCH_PTX_EMPTY);
    one("arith", BENCH_PTX_HEADER BENCH_PTX_ARITH);
    one("3 kernels", BENCH_PTX_HEADER BENCH_PTX_ARITH BENCH_PTX_COPY BENCH_PTX_SMEM);
}
