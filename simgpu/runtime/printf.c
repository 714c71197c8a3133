/* printf.c — device printf: the interpreter hands over formatted text, kept in
 * order in one process-wide buffer (bounded like the device FIFO,
 * CU_LIMIT_PRINTF_FIFO_SIZE) until the host synchronises; sim_printf_flush
 * then writes it to stdout. Safe to call from any thread at any time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

#define PRINTF_FIFO_DEFAULT (1u << 20)

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char *g_buf;
static size_t g_len, g_cap;
static _Atomic size_t g_pending; /* g_len, readable without the lock */
static bool g_dropped;

static size_t fifo_limit(const struct sim_ctx *c)
{
    size_t lim = c ? c->limits[CU_LIMIT_PRINTF_FIFO_SIZE] : 0;
    return lim ? lim : PRINTF_FIFO_DEFAULT;
}

static bool reserve(size_t need)
{
    if (need <= g_cap) return true;
    size_t cap = g_cap ? g_cap : 4096;
    while (cap < need)
        cap *= 2;
    char *nb = realloc(g_buf, cap);
    if (!nb) return false;
    g_buf = nb;
    g_cap = cap;
    return true;
}

/* ptx_print_fn: arg is the launching context. Text beyond the FIFO size is
 * lost, as on a device whose FIFO fills before the host reads it. */
void sim_printf_sink(void *arg, const char *text, size_t len)
{
    size_t lim = fifo_limit(arg);
    pthread_mutex_lock(&g_lock);
    if (g_len + len > lim) {
        len = g_len < lim ? lim - g_len : 0;
        g_dropped = true;
    }
    if (len && reserve(g_len + len)) {
        memcpy(g_buf + g_len, text, len);
        g_len += len;
        atomic_store_explicit(&g_pending, g_len, memory_order_release);
    }
    pthread_mutex_unlock(&g_lock);
}

void sim_printf_flush(void)
{
    if (atomic_load_explicit(&g_pending, memory_order_acquire) == 0) return;
    pthread_mutex_lock(&g_lock);
    if (g_len) {
        fwrite(g_buf, 1, g_len, stdout);
        fflush(stdout);
    }
    if (g_dropped) sim_warn("device printf output beyond the FIFO size was dropped");
    g_len = 0;
    g_dropped = false;
    atomic_store_explicit(&g_pending, 0, memory_order_release);
    pthread_mutex_unlock(&g_lock);
}

/* A program that exits without synchronising still gets its output. */
__attribute__((destructor)) static void printf_at_exit(void)
{
    sim_printf_flush();
}
