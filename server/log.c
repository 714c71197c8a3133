/* log.c — formats one log line into a stack buffer and writes it with a single
 * write(2), so lines of the supervisor and its workers never interleave. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int srv_log_level = SRV_INFO;
int srv_log_fd = STDERR_FILENO;
static unsigned long long log_session;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void srv_log_session(unsigned long long id)
{
    log_session = id;
}

int srv_level_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (!strcasecmp(s, level_names[i])) return i;
    return -1;
}

const char *srv_level_name(int level)
{
    return level >= 0 && level < 4 ? level_names[level] : "?";
}

void srv_log_emit(int level, const char *fmt, ...)
{
    char line[1024];
    int saved = errno;
    int n = log_session
                ? snprintf(line, sizeof line, "rgpud[%d] %s: session %llu: ", (int)getpid(),
                           srv_level_name(level), log_session)
                : snprintf(line, sizeof line, "rgpud[%d] %s: ", (int)getpid(), srv_level_name(level));
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    n += m;
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(srv_log_fd, line, n);
    (void)w;
    errno = saved;
}
