/*
 * col_ui_sync.c — the forms page's 同步 button: the very `beatbook-syncd
 * --once` an admin runs at day end, as a child process on the same store
 * (see col_ui.h).  Nothing of sync is done again here: the child seals,
 * registers, sends and stores receipts; the page shows its output as it
 * comes and, at the end, the day-end answer read from the store.
 *
 * One thread per run reads the child's stdout and stderr (one pipe) into a
 * capped list of lines and then reaps the child; the server thread reads
 * the list under the mutex.
 */
#include "col_ui.h"
#include "bb_log.h"
#include "bb_time.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LINES_MAX 400            /* lines kept of one run (the newest) */
#define LINE_MAX_BYTES 1000      /* a longer line is cut */
#define ENV_MAX 512              /* environment variables passed on */

struct col_ui_sync {
    char home[4096];
    char prog[PATH_MAX + 32];
    pthread_mutex_t mu;
    pthread_t thread;
    int have_thread;
    pid_t pid;
    int fd;                      /* read end of the child's output */
    int running, ran, ended;
    int exit_code;               /* -1: killed by a signal or unknown */
    int64_t started_at, finished_at;
    cJSON *lines;                /* array of strings */
    char partial[LINE_MAX_BYTES + 1];
    size_t plen;
};

bb_err col_ui_sync_new(const char *home, col_ui_sync **out, bb_errbuf *eb)
{
    const char *env = getenv("BEATBOOK_SYNCD");
    col_ui_sync *s;
    char self[PATH_MAX];
    ssize_t n;

    *out = NULL;
    if (!(s = calloc(1, sizeof *s)) || !(s->lines = cJSON_CreateArray())) {
        free(s);
        return BB_ERR_NOMEM;
    }
    snprintf(s->home, sizeof s->home, "%s", home);
    if (env && *env) {
        snprintf(s->prog, sizeof s->prog, "%s", env);
    } else if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
        char *slash;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(s->prog, sizeof s->prog, "%s/beatbook-syncd", self);
    } else {
        snprintf(s->prog, sizeof s->prog, "beatbook-syncd");
    }
    s->fd = -1;
    s->exit_code = -1;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        cJSON_Delete(s->lines);
        free(s);
        return bb_fail(eb, BB_ERR_NOMEM, "ui: out of memory（記憶體不足）");
    }
    *out = s;
    return BB_OK;
}

/* Keep one line of output (mutex held): no terminal escapes, the newest LINES_MAX. */
static void keep_line(col_ui_sync *s, const char *line, size_t n)
{
    char clean[LINE_MAX_BYTES + 1];
    size_t i, j = 0;
    cJSON *str;

    for (i = 0; i < n && j < LINE_MAX_BYTES; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch == 0x1b) {                /* ESC [ ... letter: a progress bar's control */
            i++;
            if (i < n && line[i] == '[')
                while (i + 1 < n && !((line[i + 1] >= 'A' && line[i + 1] <= 'Z') ||
                                      (line[i + 1] >= 'a' && line[i + 1] <= 'z')))
                    i++;
            i++;
            continue;
        }
        if (ch == '\r') {                /* a redrawn line: keep what follows */
            j = 0;
            continue;
        }
        if (ch < 0x20 && ch != '\t')
            continue;
        clean[j++] = (char)ch;
    }
    clean[j] = '\0';
    if (j == 0)
        return;
    if (!(str = cJSON_CreateString(clean)))
        return;
    cJSON_AddItemToArray(s->lines, str);
    while (cJSON_GetArraySize(s->lines) > LINES_MAX)
        cJSON_DeleteItemFromArray(s->lines, 0);
}

static void *reader(void *arg)
{
    col_ui_sync *s = arg;
    char buf[4096];
    int status = 0;
    ssize_t n;

    for (;;) {
        n = read(s->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        pthread_mutex_lock(&s->mu);
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                keep_line(s, s->partial, s->plen);
                s->plen = 0;
            } else if (s->plen < LINE_MAX_BYTES) {
                s->partial[s->plen++] = buf[i];
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
    close(s->fd);
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&s->mu);
    if (s->plen)
        keep_line(s, s->partial, s->plen);
    s->plen = 0;
    s->fd = -1;
    s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    s->finished_at = bb_time_now();
    s->running = 0;
    s->ended = 1;
    pthread_mutex_unlock(&s->mu);
    bb_info("ui: sync ended exit=%d", s->exit_code);
    return NULL;
}

/* environ with BEATBOOK_HOME set to the store's folder; NULL when out of memory. */
static char **child_env(const col_ui_sync *s, char *home_var, size_t n)
{
    char **envp = calloc(ENV_MAX + 2, sizeof *envp);
    size_t i, k = 0;

    if (!envp)
        return NULL;
    snprintf(home_var, n, "BEATBOOK_HOME=%s", s->home);
    for (i = 0; environ[i] && k < ENV_MAX; i++)
        if (strncmp(environ[i], "BEATBOOK_HOME=", 14) != 0)
            envp[k++] = environ[i];
    envp[k++] = home_var;
    envp[k] = NULL;
    return envp;
}

bb_err col_ui_sync_start(col_ui_sync *s, enum bb_lang lang, bb_errbuf *eb)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, deflt;
    char home_var[4200], **envp = NULL;
    char *argv[7];
    int p[2] = {-1, -1}, rc;
    bb_err err = BB_OK;

    pthread_mutex_lock(&s->mu);
    if (s->running) {
        pthread_mutex_unlock(&s->mu);
        return bb_fail(eb, BB_ERR_BUSY, lang == BB_LANG_EN ? "a sync is already running"
                                                           : "同步正在進行中");
    }
    pthread_mutex_unlock(&s->mu);
    if (s->have_thread) {              /* the last run's reader has finished its work */
        pthread_join(s->thread, NULL);
        s->have_thread = 0;
    }
    if (access(s->prog, X_OK) != 0)
        return bb_fail(eb, BB_ERR_UNAVAILABLE,
                       lang == BB_LANG_EN
                           ? "cannot sync: beatbook-syncd is not at %s (install it next to "
                             "beatbook, or set BEATBOOK_SYNCD)"
                           : "無法同步：找不到 beatbook-syncd（%s）；請安裝在 beatbook 同一目錄，"
                             "或設定 BEATBOOK_SYNCD",
                       s->prog);
    if (pipe2(p, O_CLOEXEC) != 0)
        return bb_fail(eb, BB_ERR_IO, lang == BB_LANG_EN ? "cannot sync: pipe: %s"
                                                         : "無法同步：pipe：%s", strerror(errno));
    if (!(envp = child_env(s, home_var, sizeof home_var))) {
        close(p[0]);
        close(p[1]);
        return BB_ERR_NOMEM;
    }
    argv[0] = s->prog;
    argv[1] = "--lang";                  /* its messages in the page's language */
    argv[2] = lang == BB_LANG_EN ? "en" : "zh-TW";
    argv[3] = "--once";
    argv[4] = "--home";
    argv[5] = s->home;
    argv[6] = NULL;
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGPIPE);
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGHUP);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pthread_mutex_lock(&s->mu);
    rc = posix_spawn(&s->pid, s->prog, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    close(p[1]);
    if (rc != 0) {
        pthread_mutex_unlock(&s->mu);
        close(p[0]);
        return bb_fail(eb, BB_ERR_UNAVAILABLE, lang == BB_LANG_EN ? "cannot sync: start %s: %s"
                                                                  : "無法同步：無法執行 %s：%s",
                       s->prog, strerror(rc));
    }
    cJSON_Delete(s->lines);
    s->lines = cJSON_CreateArray();
    s->plen = 0;
    s->fd = p[0];
    s->running = 1;
    s->ran = 1;
    s->ended = 0;
    s->exit_code = -1;
    s->started_at = bb_time_now();
    s->finished_at = 0;
    if (!s->lines || pthread_create(&s->thread, NULL, reader, s) != 0) {
        /* No reader: stop the child and reap it here. */
        kill(s->pid, SIGTERM);
        close(p[0]);
        s->fd = -1;
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        s->running = 0;
        if (!s->lines)
            s->lines = cJSON_CreateArray();
        err = bb_fail(eb, BB_ERR_NOMEM, lang == BB_LANG_EN ? "cannot sync: out of memory"
                                                           : "無法同步：記憶體不足");
    } else {
        s->have_thread = 1;
        bb_info("ui: sync started pid=%ld", (long)s->pid);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

static cJSON *time_or_null(int64_t t)
{
    char iso[BB_TIME_MAX];
    if (t <= 0 || bb_time_format(t, BB_TAIPEI_OFFSET_MIN, iso) != BB_OK)
        return cJSON_CreateNull();
    return cJSON_CreateString(iso);
}

cJSON *col_ui_sync_state(col_ui_sync *s, int *ended)
{
    cJSON *o = cJSON_CreateObject(), *lines;

    if (!o)
        return NULL;
    pthread_mutex_lock(&s->mu);
    lines = cJSON_Duplicate(s->lines, 1);
    cJSON_AddBoolToObject(o, "running", s->running);
    cJSON_AddBoolToObject(o, "ran", s->ran);
    cJSON_AddItemToObject(o, "started_at", time_or_null(s->started_at));
    cJSON_AddItemToObject(o, "ended_at", time_or_null(s->finished_at));
    if (s->ran && !s->running && s->exit_code >= 0)
        cJSON_AddNumberToObject(o, "exit", s->exit_code);
    else
        cJSON_AddNullToObject(o, "exit");
    if (ended) {
        *ended = s->ended;
        s->ended = 0;
    }
    pthread_mutex_unlock(&s->mu);
    if (!lines || !cJSON_AddItemToObject(o, "lines", lines)) {
        cJSON_Delete(lines);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void col_ui_sync_free(col_ui_sync *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->running && s->pid > 0)
        kill(s->pid, SIGTERM);        /* syncd finishes the request in flight, then exits */
    pthread_mutex_unlock(&s->mu);
    if (s->have_thread)
        pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    cJSON_Delete(s->lines);
    free(s);
}
