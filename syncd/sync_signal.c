/*
 * sync_signal.c — lock file, signals, sleeps and backoff (see sync_signal.h).
 */
#include "sync_signal.h"
#include "bb_rand.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_BASE_MS 1000L
#define BACKOFF_CAP_MS (5L * 60 * 1000)
#define BACKOFF_FLOOR_MS 200L

static volatile sig_atomic_t got_stop, got_hup;
static sigset_t handled;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_stop = 1;
}

bb_err sync_lock(const char *home, enum bb_lang lang, int *fd, bb_errbuf *eb)
{
    char path[4200], pid[32];
    ssize_t n;
    int f;

    *fd = -1;
    if (snprintf(path, sizeof path, "%s/%s", home, SYNC_LOCK_FILE) >= (int)sizeof path)
        return bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "%s: path too long", "%s：路徑太長"), home);
    f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return bb_fail(eb, errno == EACCES ? BB_ERR_PERM : BB_ERR_IO,
                       BB_L(lang, "open lock file %s: %s", "開啟鎖定檔 %s：%s"), path,
                       bb_errno_text(errno, lang));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        n = read(f, pid, sizeof pid - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(f);
        if (e == EWOULDBLOCK)
            return bb_fail(eb, BB_ERR_BUSY,
                           BB_L(lang, "another beatbook-syncd (pid %s) is already running for "
                                      "this store (lock %s); only one may run at a time",
                                "此資料庫已有另一個 beatbook-syncd 在執行（pid %s，鎖定檔 %s）；"
                                "同時只能執行一個"),
                           pid[0] ? pid : "?", path);
        return bb_fail(eb, BB_ERR_IO, BB_L(lang, "lock %s: %s", "鎖定 %s：%s"), path,
                       bb_errno_text(e, lang));
    }
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(f);
        return bb_fail(eb, BB_ERR_IO, BB_L(lang, "write lock file %s: %s", "寫入鎖定檔 %s：%s"),
                       path, bb_errno_text(e, lang));
    }
    *fd = f;
    return BB_OK;
}

bb_err sync_signals_init(bb_errbuf *eb)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&handled);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "install signal handlers: %s", strerror(errno));
    /* A peer closing the connection must not kill us (curl also asks for MSG_NOSIGNAL). */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0 ||
        sigprocmask(SIG_BLOCK, &handled, NULL) != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "set up signals: %s", strerror(errno));
    return BB_OK;
}

/* Deliver what is pending: unblock, then block again. */
static void let_signals_in(void)
{
    sigprocmask(SIG_UNBLOCK, &handled, NULL);
    sigprocmask(SIG_BLOCK, &handled, NULL);
}

int sync_stop_requested(void)
{
    let_signals_in();
    return got_stop != 0;
}

int sync_reload_requested(void)
{
    let_signals_in();
    if (!got_hup)
        return 0;
    got_hup = 0;
    return 1;
}

long long sync_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void sync_sleep_ms(long ms)
{
    long long deadline = sync_now_ms() + ms;
    sigset_t open_mask;

    sigprocmask(SIG_BLOCK, NULL, &open_mask);
    sigdelset(&open_mask, SIGTERM);
    sigdelset(&open_mask, SIGINT);
    sigdelset(&open_mask, SIGHUP);
    while (!got_stop && !got_hup) {
        long long left = deadline - sync_now_ms();
        struct timespec ts;
        if (left <= 0)
            break;
        ts.tv_sec = (time_t)(left / 1000);
        ts.tv_nsec = (long)(left % 1000) * 1000000L;
        /* Signals are unblocked only inside ppoll: none slips in before the wait. */
        if (ppoll(NULL, 0, &ts, &open_mask) < 0 && errno != EINTR)
            break;
    }
}

long sync_backoff_ms(int failures, long retry_after_s)
{
    long ceiling = BACKOFF_BASE_MS, delay;
    uint32_t r = 0;
    int i;

    for (i = 1; i < failures && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    if (bb_random(&r, sizeof r) != BB_OK)
        r = (uint32_t)sync_now_ms();
    delay = (long)((uint64_t)r * (uint64_t)(ceiling + 1) >> 32);
    if (delay < BACKOFF_FLOOR_MS)
        delay = BACKOFF_FLOOR_MS;
    if (retry_after_s > 3600)
        retry_after_s = 3600;   /* a broken proxy must not park us for a day */
    if (retry_after_s > 0 && delay < retry_after_s * 1000)
        delay = retry_after_s * 1000;
    return delay;
}
