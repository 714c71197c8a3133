/* log.h — rgpud's levelled log: one line per event on stderr with a stable
 * prefix "rgpud[PID] LEVEL: " (workers add "session N: "), the level checked
 * before anything is formatted. */
#ifndef RG_SRV_LOG_H
#define RG_SRV_LOG_H

enum srv_level { SRV_ERROR = 0, SRV_WARN, SRV_INFO, SRV_DEBUG };

extern int srv_log_level;
/* Where log lines go: stderr, or a copy of the original stderr once a worker
 * has turned fd 2 into the backend's assert pipe (notify.c). */
extern int srv_log_fd;

/* Sets the session tag of a worker's lines (0: none). */
void srv_log_session(unsigned long long id);
/* "error" / "warn" / "info" / "debug" -> level, or -1. */
int srv_level_parse(const char *s);
const char *srv_level_name(int level);
void srv_log_emit(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define srv_log(level, ...)                                                                        \
    do {                                                                                           \
        if ((level) <= srv_log_level) srv_log_emit((level), __VA_ARGS__);                         \
    } while (0)
#define srv_err(...) srv_log(SRV_ERROR, __VA_ARGS__)
#define srv_warn(...) srv_log(SRV_WARN, __VA_ARGS__)
#define srv_info(...) srv_log(SRV_INFO, __VA_ARGS__)
#define srv_debug(...) srv_log(SRV_DEBUG, __VA_ARGS__)

#endif
