/* log.c — levelled logging for code that lives inside someone else's process.
 * Silent by default; RGPU_LOG (or SIMGPU_LOG for simgpu) = error|warn|info|debug.
 * The level is read once; formatting happens only when the level is enabled,
 * and errno is preserved for the caller. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "darkapi.h"

static int log_level = -1;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static int parse_level(const char *s)
{
    if (!s || !*s) return -1;
    if (!strcmp(s, "error")) return RG_LOG_ERROR;
    if (!strcmp(s, "warn") || !strcmp(s, "warning")) return RG_LOG_WARN;
    if (!strcmp(s, "info")) return RG_LOG_INFO;
    if (!strcmp(s, "debug")) return RG_LOG_DEBUG;
    if (!strcmp(s, "none") || !strcmp(s, "off")) return -2;
    return -1;
}

static void log_init(void)
{
    int lvl = parse_level(getenv("SIMGPU_LOG"));
    if (lvl == -1) lvl = parse_level(getenv("RGPU_LOG"));
    /* Errors are printed unless logging is switched off explicitly. */
    log_level = lvl == -1 ? RG_LOG_ERROR : lvl;
}

int rg_log_enabled(enum rg_log_level lvl)
{
    pthread_once(&log_once, log_init);
    return (int)lvl <= log_level;
}

void rg_log(enum rg_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (!rg_log_enabled(lvl)) return;
    int saved = errno;
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "rgpu[%d] %s: ", (int)getpid(), names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof buf) n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf - 1) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
    (void)w;
    errno = saved;
}
