/*
 * bb_log.c — leveled logging to stderr.  The line is formatted whole and
 * written with one write(2) so that lines from several processes sharing a
 * log file do not interleave.
 */
#include "bb_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum bb_log_level current_level = BB_LOG_INFO;
static char program_name[32] = "beatbook";

void bb_log_init(const char *program, enum bb_log_level deflt)
{
    const char *env = getenv("BEATBOOK_LOG");

    snprintf(program_name, sizeof program_name, "%s", program);
    current_level = deflt;
    if (!env)
        return;
    if (strcmp(env, "debug") == 0)
        current_level = BB_LOG_DEBUG;
    else if (strcmp(env, "info") == 0)
        current_level = BB_LOG_INFO;
    else if (strcmp(env, "warn") == 0)
        current_level = BB_LOG_WARN;
    else if (strcmp(env, "error") == 0)
        current_level = BB_LOG_ERROR;
}

void bb_log_set_level(enum bb_log_level level)
{
    current_level = level;
}

void bb_log(enum bb_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048];
    struct tm tm;
    time_t now = time(NULL);
    size_t n;
    va_list ap;
    ssize_t w;

    if (level < current_level)
        return;
    /* Asia/Taipei is UTC+8 with no DST: no need for the tz database. */
    now += 8 * 3600;
    gmtime_r(&now, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S+08:00 ", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, "%s %s: ", names[level], program_name);
    if (n < sizeof line) {
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
    }
    n = strlen(line);
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    w = write(STDERR_FILENO, line, n);
    (void)w; /* nowhere left to report a failed log write */
}
