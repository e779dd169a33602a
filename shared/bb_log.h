/*
 * bb_log — one line per event on stderr, with a level and key=value context:
 *   2018-03-15T14:20:00+08:00 warn sync: batch=42 records=118 retrying in 30s
 * Programs set the level once at start (BEATBOOK_LOG=debug|info|warn|error
 * is read by bb_log_init).  Never pass secrets (keys, tokens, passwords) to
 * these functions: log lines are meant to be shared.
 */
#ifndef BB_LOG_H
#define BB_LOG_H

enum bb_log_level { BB_LOG_DEBUG = 0, BB_LOG_INFO = 1, BB_LOG_WARN = 2, BB_LOG_ERROR = 3 };

/* Read BEATBOOK_LOG from the environment; default is `deflt`. */
void bb_log_init(const char *program, enum bb_log_level deflt);
void bb_log_set_level(enum bb_log_level level);

void bb_log(enum bb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define bb_debug(...) bb_log(BB_LOG_DEBUG, __VA_ARGS__)
#define bb_info(...)  bb_log(BB_LOG_INFO, __VA_ARGS__)
#define bb_warn(...)  bb_log(BB_LOG_WARN, __VA_ARGS__)
#define bb_error(...) bb_log(BB_LOG_ERROR, __VA_ARGS__)

#endif
