/*
 * bench/attach.c — how fast and how lean photos travel from a field laptop
 * to HQ (docs/PROTOCOL.md "Attachments"), as ratios to what this machine's
 * AES-GCM, SHA-256, disk and loopback can do, all measured in the same run
 * (DESIGN.md §10).  It prints figures and asserts nothing: the exit status is
 * 0 whatever the figures are, and non-zero only when the benchmark itself
 * cannot run (a program missing or failing, HQ not holding every photo
 * afterwards).
 *
 *   attach --bin DIR --dir WORKDIR [--quick]
 *
 * DIR holds beatbook, beatbook-syncd and beatbook-hq.  WORKDIR must be empty
 * or absent; every file is made there and left for the caller
 * (bench/attach.sh) to remove.  An HQ server this program starts is stopped
 * on every exit path, signals included.
 *
 * The photos: 200 files of 2–4 MB (sizes drawn from a fixed seed), each the
 * JPEG magic FF D8 FF E0 then incompressible bytes, added as 20 traffic
 * accidents of 10 photos with `beatbook add ... photos=@FILE`; and 4 photos
 * of 24 MiB on one record.  Each part below gets a fresh HQ and a fresh
 * enrolled laptop, so HQ's peak memory is that part's, and every byte is
 * sent.
 *
 * Between syncd and HQ sits a TCP forwarder in this process (a thread each
 * way per connection) that counts the bytes it carries both ways; HQ is
 * enrolled with the forwarder's port as its URL, so syncd talks TLS to HQ
 * through it, unaware.  It can also pace both directions to a link rate and
 * cut the connection after a number of bytes up.  The link is simulated
 * here rather than with `tc qdisc ... netem` because netem is often missing
 * in containers (here: "Specified qdisc kind is unknown") and would slow
 * every other user of lo on the machine.
 *
 * What is measured:
 *   loopback  `beatbook-syncd --once` (fork/exec to exit) pushing the 200
 *             photos (and their 20 records) over HTTPS through the
 *             forwarder at full speed: MB/s of file bytes, wire bytes up per
 *             file byte, bytes down; where the time goes (HQ's ms= of its
 *             attachment requests, HQ's and syncd's CPU).
 *   lossy     the same through the forwarder as a link of 100 Mbit/s each
 *             way, cut every ~40 MB up (30–50, fixed seed); `--once` rerun
 *             until it exits 0.  Time against file bytes ÷ link rate.
 *   big       4 photos of 24 MiB, full speed, for memory against file size.
 *   memory    peak RSS of syncd (its own wait4 ru_maxrss, see child_run) and
 *             of HQ (VmHWM in /proc/PID/status just before it is stopped).
 *   limits    AES-256-GCM and SHA-256 (mbedtls, what seals, opens and
 *             hashes the photos) over 64 MiB in this process, the
 *             forwarder's own loopback throughput without TLS (and paced, to
 *             show the link is the rate it claims), and 1 MiB pwrite +
 *             fdatasync on the work folder's disk (what HQ does with every
 *             chunk).
 *
 * After each part HQ's hq.db (read-only) must hold every photo the laptop
 * holds, with its size, and the store the file of that size.
 * HQ's per-device rate limit is lifted (rate_burst and rate_per_sec 1000 in
 * hq.conf) so that the figure is the transfer, not the limiter.  MB here is
 * 10^6 bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/gcm.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

extern char **environ;

#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_IOERR 74
#define EX_TEMPFAIL 75

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Run sizes: the full run takes about two minutes on a 2-core laptop. */
static int n_records = 20;               /* of PER_RECORD photos each */
#define PER_RECORD 10                    /* the kind's max_count */
#define SMALL_MIN 2000000                /* bytes of a 2–4 MB photo */
#define SMALL_MAX 4000000
static int n_big = 4;
#define BIG_SIZE (24L * 1024 * 1024)     /* under the kind's 25 MiB */
#define LINK_BPS 100e6                   /* the lossy link: bits per second */
static double cut_min = 30e6, cut_span = 20e6;   /* a cut every 30–50 MB up */
#define PACE_SLACK_MS 5.0                /* the paced link's burst: 62.5 KB at 100 Mbit/s */
#define MAX_RUNS 30                      /* --once runs on the lossy link at most */
#define LIMIT_BYTES (64L * 1024 * 1024)  /* AES-GCM, SHA-256 and fsync figures */
static long fwd_self_bytes = 1024L * 1024 * 1024;
#define ORG_UNIT "P06-S03"
#define OFFICER "A123456"

static const char *workdir;
static const char *bindir;

/* ---- small helpers ---- */

static void stop_server(void);

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("attach: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    stop_server();
    exit(code);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die(EX_SOFTWARE, "out of memory (%zu bytes)", n);
    return p;
}

static void path_in(char *out, size_t n, const char *name)
{
    if (snprintf(out, n, "%s/%s", workdir, name) >= (int)n)
        die(EX_USAGE, "%s: work folder path too long", workdir);
}

static void bin_path(char *out, size_t n, const char *prog)
{
    if (snprintf(out, n, "%s/%s", bindir, prog) >= (int)n)
        die(EX_USAGE, "%s: path too long", bindir);
    if (access(out, X_OK) != 0)
        die(EX_UNAVAILABLE, "%s: %s (build it first)", out, strerror(errno));
}

/*
 * A whole file, NUL-terminated; NULL when it cannot be read.  Read to the
 * end rather than sized with fseek: /proc files report a size of 0.
 */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0, cap = 4096, got;
    char *text;

    if (!f)
        return NULL;
    text = xmalloc(cap);
    while ((got = fread(text + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            if (!(text = realloc(text, cap)))
                die(EX_SOFTWARE, "out of memory");
        }
    }
    if (ferror(f)) {
        fclose(f);
        free(text);
        return NULL;
    }
    fclose(f);
    text[n] = '\0';
    if (len)
        *len = n;
    return text;
}

static double mb(double bytes)
{
    return bytes / 1e6;
}

/* xorshift64*: a fixed seed keeps sizes, bytes and cut points the same run to run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)(rnd64() >> 32) % n;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf: a part's HQ and laptop go once measured (they hold the photos again). */
static void remove_tree(const char *path)
{
    if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        die(EX_IOERR, "remove %s: %s", path, strerror(errno));
}

/* ---- child processes ---- */

struct run {
    double ms;          /* spawn to reaped */
    double cpu_ms;      /* user + system of the child */
    long maxrss_kb;     /* ru_maxrss, KiB on Linux */
    int status;         /* exit status, or 128 + signal */
};

static pid_t spawn(char *const argv[], const char *out_path, const char *err_path)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;

    if (posix_spawn_file_actions_init(&fa) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_APPEND,
                                         0644) != 0)
        die(EX_SOFTWARE, "posix_spawn_file_actions: out of memory");
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die(EX_UNAVAILABLE, "run %s: %s", argv[0], strerror(rc));
    return pid;
}

static double cpu_of(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
}

/*
 * Run argv with stdin from /dev/null, stdout to out_path (or /dev/null) and
 * stderr appended to err_path (or WORKDIR/stderr.log, truncated first);
 * time it from spawn to wait4.
 */
static void run_cmd(char *const argv[], const char *out_path, const char *err_path,
                    struct run *r)
{
    char errlog[4096];
    struct rusage ru;
    pid_t pid;
    int st;
    double t0;

    if (!err_path) {
        path_in(errlog, sizeof errlog, "stderr.log");
        if (truncate(errlog, 0) != 0 && errno != ENOENT)
            die(EX_IOERR, "truncate %s: %s", errlog, strerror(errno));
        err_path = errlog;
    }
    t0 = now_ms();
    pid = spawn(argv, out_path, err_path);
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            die(EX_SOFTWARE, "wait4: %s", strerror(errno));
    r->ms = now_ms() - t0;
    r->cpu_ms = cpu_of(&ru);
    r->maxrss_kb = ru.ru_maxrss;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Peak RSS needs a small parent.  A child started by posix_spawn (vfork
 * semantics) or fork inherits the parent's high-water RSS at exec, so
 * wait4's ru_maxrss of anything this program starts directly is at least
 * this program's own peak (64 MiB buffers, forwarder threads).  So syncd
 * runs through a fresh exec of this program (--child-run, a few MB) that
 * starts it, waits, and writes its own ru_maxrss and CPU time to a file.
 */
static char self_exe[4096];

static int child_run(const char *result, char **argv)
{
    struct rusage ru;
    pid_t pid;
    FILE *f;
    int st, rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);

    if (rc != 0) {
        fprintf(stderr, "attach --child-run: run %s: %s\n", argv[0], strerror(rc));
        return 127;
    }
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            return EX_SOFTWARE;
    if (!(f = fopen(result, "w")) || fprintf(f, "%ld %.3f\n", ru.ru_maxrss, cpu_of(&ru)) < 0 ||
        fclose(f) != 0)
        return EX_IOERR;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* run_cmd through child_run: the same, with the command's own peak RSS and CPU. */
static void run_measured(char *const argv[], const char *out_path, const char *err_path,
                         struct run *r)
{
    char result[4096], *text, *wrapped[32];
    int i, n = 0;

    path_in(result, sizeof result, "child-run.txt");
    wrapped[n++] = self_exe;
    wrapped[n++] = "--child-run";
    wrapped[n++] = result;
    for (i = 0; argv[i] && n < (int)NELEM(wrapped) - 1; i++)
        wrapped[n++] = argv[i];
    wrapped[n] = NULL;
    unlink(result);
    run_cmd(wrapped, out_path, err_path, r);
    if (r->status != 127 && r->status < 128) {
        if (!(text = slurp(result, NULL)) ||
            sscanf(text, "%ld %lf", &r->maxrss_kb, &r->cpu_ms) != 2)
            die(EX_SOFTWARE, "%s: no result from --child-run", result);
        free(text);
    }
}

static void print_file(const char *path, const char *indent)
{
    char line[512];
    FILE *f = fopen(path, "r");

    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "%s%s", indent, line);
    fclose(f);
}

/* A failed run makes every figure meaningless: say why and stop. */
static void require_ok(const struct run *r, const char *what, const char *err_path)
{
    char errlog[4096];

    if (r->status == 0)
        return;
    fprintf(stderr, "attach: %s exited with status %d\n", what, r->status);
    if (!err_path) {
        path_in(errlog, sizeof errlog, "stderr.log");
        err_path = errlog;
    }
    print_file(err_path, "  ");
    die(EX_UNAVAILABLE, "%s failed; no figures", what);
}

/* ---- the HQ server ---- */

static pid_t server_pid;    /* 0 when not running */

/* Stop the server we started (SIGTERM, then SIGKILL after 30 s); idempotent. */
static void stop_server(void)
{
    int st, i;

    if (server_pid <= 0)
        return;
    kill(server_pid, SIGTERM);
    for (i = 0; i < 300; i++) {
        if (waitpid(server_pid, &st, WNOHANG) != 0)
            break;
        usleep(100000);
    }
    if (i == 300) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, &st, 0);
    }
    server_pid = 0;
}

/* On SIGINT/SIGTERM/SIGHUP: take the server down with us (async-signal-safe). */
static void on_signal(int sig)
{
    if (server_pid > 0)
        kill(server_pid, SIGTERM);
    _exit(128 + sig);
}

static void loopback(struct sockaddr_in *a, int port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
}

/* A listening socket on 127.0.0.1 (port 0: any); *port says which. */
static int listen_on(int want, int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (s < 0)
        die(EX_UNAVAILABLE, "socket: %s", strerror(errno));
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    loopback(&a, want);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &alen) != 0)
        die(EX_UNAVAILABLE, "listen on 127.0.0.1:%d: %s", want, strerror(errno));
    *port = ntohs(a.sin_port);
    return s;
}

static int free_port(void)
{
    int port, s = listen_on(0, &port);
    close(s);
    return port;
}

static int connect_to(int port)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (s < 0)
        return -1;
    loopback(&a, port);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static int port_open(int port)
{
    int s = connect_to(port);
    if (s < 0)
        return 0;
    close(s);
    return 1;
}

/* `beatbook-hq serve`, logging to log; returns once it listens. */
static void start_server(const char *hq, const char *data, int port, const char *log)
{
    char *text;
    char *argv[] = {(char *)hq, "serve", "--data", (char *)data, NULL};
    double t0 = now_ms();
    int st;

    server_pid = spawn(argv, log, log);
    for (;;) {
        pid_t w = waitpid(server_pid, &st, WNOHANG);
        if (w == server_pid) {
            server_pid = 0;
            fprintf(stderr, "attach: beatbook-hq serve exited at start:\n");
            print_file(log, "  ");
            die(EX_UNAVAILABLE, "HQ did not start; no figures");
        }
        text = slurp(log, NULL);
        if (text && strstr(text, "listening on") && port_open(port)) {
            free(text);
            return;
        }
        free(text);
        if (now_ms() - t0 > 20000)
            die(EX_UNAVAILABLE, "beatbook-hq serve did not listen on port %d within 20 s", port);
        usleep(20000);
    }
}

/* CPU time (ms) a running process has used so far, from /proc/PID/stat. */
static double proc_cpu_ms(pid_t pid)
{
    char path[64], *text, *p;
    unsigned long ut = 0, stime = 0;
    double ticks = (double)sysconf(_SC_CLK_TCK);

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (!(text = slurp(path, NULL)))
        return 0;
    /* Fields after the command name (which may hold blanks): state is field 3,
     * utime 14 and stime 15. */
    if ((p = strrchr(text, ')')) != NULL &&
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stime) != 2)
        ut = stime = 0;
    free(text);
    return ticks > 0 ? (double)(ut + stime) * 1e3 / ticks : 0;
}

/* VmHWM (peak resident set) of a running process, in KiB; 0 when unknown. */
static long proc_hwm_kb(pid_t pid)
{
    char path[64], *text, *p;
    long kb = 0;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (!(text = slurp(path, NULL)))
        return 0;
    if ((p = strstr(text, "VmHWM:")) != NULL)
        kb = strtol(p + 6, NULL, 10);
    free(text);
    return kb;
}

/* ---- the counting forwarder ---- */

/*
 * 127.0.0.1:port -> 127.0.0.1:target, a thread each way per connection.
 * up counts what reached HQ, down what reached syncd.  With rate > 0 each
 * direction is a link of that many bytes/s: a piece read is held until the
 * link would have carried it (one virtual clock per direction, shared by
 * all connections, as one link is).  With cut_at > 0 the connection
 * carrying the byte at offset cut_at of everything sent up is closed right
 * after it, both ways, and the next cut point is drawn.
 */
struct fwd {
    int lsock, port, target;
    pthread_t acceptor;
    atomic_ullong up, down;
    atomic_int live;             /* connections not yet closed */
    atomic_int stopping;
    pthread_mutex_t mu;          /* guards the fields below */
    double rate;                 /* bytes/s each way; 0 = as fast as it goes */
    double free_at[2];           /* per direction: when the link is free (ms) */
    unsigned long long cut_at;   /* offset of up bytes of the next cut; 0 = none */
    int cuts, conns;
};

struct fwd_conn {
    struct fwd *f;
    int cfd, ufd;                /* syncd's side, HQ's side */
    atomic_int refs;             /* the two pump threads */
};

struct pump {
    struct fwd_conn *c;
    int up;                      /* 1: syncd -> HQ */
};

static void next_cut(struct fwd *f)
{
    f->cut_at += (unsigned long long)(cut_min + (double)rnd((uint32_t)cut_span));
}

static void sleep_until_ms(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(t / 1e3);
    ts.tv_nsec = (long)((t - (double)ts.tv_sec * 1e3) * 1e6);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void conn_release(struct fwd_conn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1) {
        close(c->cfd);
        close(c->ufd);
        atomic_fetch_sub(&c->f->live, 1);
        free(c);
    }
}

static void *pump_main(void *arg)
{
    struct pump p = *(struct pump *)arg;
    struct fwd *f = p.c->f;
    int src = p.up ? p.c->cfd : p.c->ufd, dst = p.up ? p.c->ufd : p.c->cfd;
    static const size_t cap = 64 * 1024;
    char *buf = xmalloc(cap);

    free(arg);
    for (;;) {
        size_t want = cap;
        ssize_t n;
        int cut = 0;
        double until = 0;

        pthread_mutex_lock(&f->mu);
        if (f->rate > 0)
            want = 16 * 1024;             /* smaller pieces: smoother pacing */
        pthread_mutex_unlock(&f->mu);
        n = recv(src, buf, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        pthread_mutex_lock(&f->mu);
        if (p.up && f->cut_at > 0 && atomic_load(&f->up) + (unsigned long long)n >= f->cut_at) {
            n = (ssize_t)(f->cut_at - atomic_load(&f->up));
            f->cuts++;
            next_cut(f);
            cut = 1;
        }
        if (f->rate > 0) {
            /* A link idle for longer than PACE_SLACK_MS starts afresh; within
             * it, the time this thread spent between pieces (send, recv, the
             * sleep's overshoot) is not lost to the link. */
            double t = now_ms();
            if (f->free_at[p.up] < t - PACE_SLACK_MS)
                f->free_at[p.up] = t - PACE_SLACK_MS;
            f->free_at[p.up] += (double)n * 1e3 / f->rate;
            until = f->free_at[p.up];
        }
        /* Counted before it is sent, under the lock: the next cut point is
         * measured against every byte already let through. */
        atomic_fetch_add(p.up ? &f->up : &f->down, (unsigned long long)n);
        pthread_mutex_unlock(&f->mu);
        if (until > 0)
            sleep_until_ms(until);
        if (n > 0 && send_all(dst, buf, (size_t)n) != 0)
            break;
        if (cut) {
            shutdown(p.c->cfd, SHUT_RDWR);
            shutdown(p.c->ufd, SHUT_RDWR);
            break;
        }
    }
    shutdown(dst, SHUT_WR);
    free(buf);
    conn_release(p.c);
    return NULL;
}

static void start_pump(struct fwd_conn *c, int up)
{
    struct pump *p = xmalloc(sizeof *p);
    pthread_attr_t at;
    pthread_t t;

    p->c = c;
    p->up = up;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &at, pump_main, p) != 0)
        die(EX_SOFTWARE, "pthread_create: out of resources");
    pthread_attr_destroy(&at);
}

static void *accept_main(void *arg)
{
    struct fwd *f = arg;

    for (;;) {
        int cfd = accept4(f->lsock, NULL, NULL, SOCK_CLOEXEC), ufd, one = 1;
        struct fwd_conn *c;

        if (cfd < 0) {
            if (atomic_load(&f->stopping))
                return NULL;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        if ((ufd = connect_to(f->target)) < 0) {
            close(cfd);
            continue;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = xmalloc(sizeof *c);
        c->f = f;
        c->cfd = cfd;
        c->ufd = ufd;
        atomic_init(&c->refs, 2);
        atomic_fetch_add(&f->live, 1);
        pthread_mutex_lock(&f->mu);
        f->conns++;
        pthread_mutex_unlock(&f->mu);
        start_pump(c, 1);
        start_pump(c, 0);
    }
}

/* Listen on a fresh port (f->port) for connections to forward to target. */
static void fwd_start(struct fwd *f, int target)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->target = target;
    f->lsock = listen_on(0, &f->port);
    if (pthread_create(&f->acceptor, NULL, accept_main, f) != 0)
        die(EX_SOFTWARE, "pthread_create: out of resources");
}

/* Link settings, and the counters back to 0. */
static void fwd_set(struct fwd *f, double rate, int cutting)
{
    pthread_mutex_lock(&f->mu);
    f->rate = rate;
    f->free_at[0] = f->free_at[1] = 0;
    atomic_store(&f->up, 0);
    atomic_store(&f->down, 0);
    f->cuts = f->conns = 0;
    f->cut_at = 0;
    if (cutting)
        next_cut(f);
    pthread_mutex_unlock(&f->mu);
}

/* Stop accepting, and wait (up to 10 s) for the connections to end. */
static void fwd_stop(struct fwd *f)
{
    int i;

    atomic_store(&f->stopping, 1);
    shutdown(f->lsock, SHUT_RDWR);
    pthread_join(f->acceptor, NULL);
    close(f->lsock);
    for (i = 0; i < 1000 && atomic_load(&f->live) > 0; i++)
        usleep(10000);
}

/* ---- photos ---- */

struct photo {
    char path[4200];
    long size;
};

static struct photo *small, *big;
static int n_small;
static double small_bytes, big_bytes, gen_s;

/* FF D8 FF E0, then bytes no compressor or dedup can shrink. */
static void write_photo(struct photo *p, const char *name, long size)
{
    static uint64_t buf[128 * 1024];          /* 1 MiB */
    long off = 0;
    int fd;

    path_in(p->path, sizeof p->path, name);
    p->size = size;
    if ((fd = open(p->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        die(EX_IOERR, "create %s: %s", p->path, strerror(errno));
    while (off < size) {
        size_t i, n = size - off < (long)sizeof buf ? (size_t)(size - off) : sizeof buf;
        for (i = 0; i < NELEM(buf); i++)
            buf[i] = rnd64();
        if (off == 0)
            memcpy(buf, "\xff\xd8\xff\xe0", 4);
        if (write(fd, buf, n) != (ssize_t)n)
            die(EX_IOERR, "write %s: %s", p->path, strerror(errno));
        off += (long)n;
    }
    if (close(fd) != 0)
        die(EX_IOERR, "write %s: %s", p->path, strerror(errno));
}

static void make_photos(void)
{
    char name[64], dir[4096];
    double t0 = now_ms();
    int i;

    path_in(dir, sizeof dir, "photos");
    if (mkdir(dir, 0700) != 0)
        die(EX_IOERR, "create %s: %s", dir, strerror(errno));
    n_small = n_records * PER_RECORD;
    small = xmalloc((size_t)n_small * sizeof *small);
    big = xmalloc((size_t)n_big * sizeof *big);
    for (i = 0; i < n_small; i++) {
        snprintf(name, sizeof name, "photos/IMG_%04d.JPG", i + 1);
        write_photo(&small[i], name, SMALL_MIN + (long)rnd(SMALL_MAX - SMALL_MIN + 1));
        small_bytes += (double)small[i].size;
    }
    for (i = 0; i < n_big; i++) {
        snprintf(name, sizeof name, "photos/BIG_%02d.JPG", i + 1);
        write_photo(&big[i], name, BIG_SIZE);
        big_bytes += (double)big[i].size;
    }
    gen_s = (now_ms() - t0) / 1e3;
}

/* ---- SQLite, read-only ---- */

static sqlite3 *db_open_ro(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        die(EX_IOERR, "open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return db;
}

static void db_check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(EX_IOERR, "%s: %s", what, sqlite3_errmsg(db));
}

/* ---- one part: a fresh HQ behind the forwarder, a fresh laptop, one sync ---- */

struct part {
    const char *name;
    const struct photo *photos;
    int nphotos, per_record;
    double file_bytes;
    double rate;                 /* the forwarder's link, bytes/s; 0 = full speed */
    int cutting;
    /* results */
    double add_s, sync_s, syncd_cpu_s, hq_cpu_s, retry_sleep_s;
    double hq_req_s, head_s, chunk_s, done_s;    /* HQ's ms= by kind of request */
    int heads, chunks, dones, aborted, retries;
    double up, down, syncd_rss_mb, hq_rss_mb, hq_start_mb;
    int runs, cuts, conns, codes[MAX_RUNS];
    long long hq_files, hq_rows, laptop_files, partial;
    double hq_bytes;
};

static char hq_data[4096], laptop[4096], serve_log[4096], syncd_log[4096];

/* Replace `key = ...` in hq.conf (the file init wrote). */
static void set_conf(const char *key, const char *value)
{
    char path[4200], *text, *p, *eol, *out;
    size_t len, klen = strlen(key);
    FILE *f;

    snprintf(path, sizeof path, "%s/hq.conf", hq_data);
    if (!(text = slurp(path, &len)))
        die(EX_IOERR, "read %s: %s", path, strerror(errno));
    for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '='))
            break;
    if (!p || !*p)
        die(EX_UNAVAILABLE, "%s: no \"%s\" setting", path, key);
    eol = strchr(p, '\n');
    out = xmalloc(len + strlen(value) + klen + 8);
    sprintf(out, "%.*s%s = %s%s", (int)(p - text), text, key, value, eol ? eol : "\n");
    if (!(f = fopen(path, "w")) || fputs(out, f) < 0 || fclose(f) != 0)
        die(EX_IOERR, "write %s: %s", path, strerror(errno));
    free(out);
    free(text);
}

/* HQ enrolled with the forwarder's port as its URL, a laptop, the records. */
static void part_setup(struct part *pt, const char *beatbook, const char *hq, int hq_port,
                       int url_port)
{
    char url[64], listen[64], enroll[4096], dir[3900], when[64];
    char *initv[] = {(char *)hq, "init", "--data", hq_data, "--listen", listen, "--url", url,
                     NULL};
    char *enrollv[] = {(char *)hq, "device", "enroll", "--data", hq_data, "--org-unit", ORG_UNIT,
                       "--label", "bench laptop", "--out", enroll, NULL};
    char *lapv[] = {(char *)beatbook, "init", "--enroll", enroll, "--officer", OFFICER, NULL};
    char *addv[8 + PER_RECORD + 1], fields[PER_RECORD][4300];
    struct run r;
    int i, k;

    path_in(dir, sizeof dir, pt->name);
    if (mkdir(dir, 0700) != 0)
        die(EX_IOERR, "create %s: %s", dir, strerror(errno));
    snprintf(hq_data, sizeof hq_data, "%s/hq", dir);
    snprintf(laptop, sizeof laptop, "%s/laptop", dir);
    snprintf(enroll, sizeof enroll, "%s/enroll.json", dir);
    snprintf(serve_log, sizeof serve_log, "%s/serve.log", dir);
    snprintf(syncd_log, sizeof syncd_log, "%s/syncd.log", dir);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", url_port);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", hq_port);
    if (setenv("BEATBOOK_HQ_DATA", hq_data, 1) != 0 || setenv("BEATBOOK_HOME", laptop, 1) != 0)
        die(EX_SOFTWARE, "setenv: %s", strerror(errno));
    run_cmd(initv, NULL, NULL, &r);
    require_ok(&r, "beatbook-hq init", NULL);
    set_conf("rate_burst", "1000");
    set_conf("rate_per_sec", "1000");
    run_cmd(enrollv, NULL, NULL, &r);
    require_ok(&r, "beatbook-hq device enroll", NULL);
    run_cmd(lapv, NULL, NULL, &r);
    require_ok(&r, "beatbook init --enroll", NULL);
    unlink(enroll);

    for (i = 0; i < pt->nphotos; i += pt->per_record) {
        int n = 0;
        snprintf(when, sizeof when, "occurred_at=2018-03-%02dT14:20:00+08:00",
                 1 + i / pt->per_record % 28);
        addv[n++] = (char *)beatbook;
        addv[n++] = "add";
        addv[n++] = "traffic_accident";
        addv[n++] = "class=a3";
        addv[n++] = "deaths=0";
        addv[n++] = "injuries=0";
        addv[n++] = when;
        for (k = 0; k < pt->per_record && i + k < pt->nphotos; k++) {
            snprintf(fields[k], sizeof fields[k], "photos=@%s", pt->photos[i + k].path);
            addv[n++] = fields[k];
        }
        addv[n] = NULL;
        run_cmd(addv, NULL, NULL, &r);
        require_ok(&r, "beatbook add traffic_accident photos=@...", NULL);
        pt->add_s += r.ms / 1e3;
    }
}

/*
 * HQ's attachment requests from its log, by what they were: heads (POST),
 * chunks answered 200 and the chunks that completed a file (201), with the
 * sum of their ms= (time inside the server, body transfer included), and
 * the requests cut off (aborted=yes).
 */
static void read_serve_log(struct part *pt)
{
    char *text, *line, *save = NULL;

    if (!(text = slurp(serve_log, NULL)))
        return;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *ms = strstr(line, " ms=");
        double s;
        if (!strstr(line, "path=/v1/attachments") || !ms)
            continue;
        s = strtod(ms + 4, NULL) / 1e3;
        pt->hq_req_s += s;
        if (strstr(line, "aborted=yes"))
            pt->aborted++;
        else if (strstr(line, "method=POST")) {
            pt->heads++;
            pt->head_s += s;
        } else if (strstr(line, "status=201")) {
            pt->dones++;
            pt->done_s += s;
        } else if (strstr(line, "status=200")) {
            pt->chunks++;
            pt->chunk_s += s;
        }
    }
    free(text);
}

/*
 * syncd's own retries (its result=retry lines) and the backoff it slept
 * between tries (retry_in_ms=, logged at info).
 */
static void read_syncd_log(struct part *pt)
{
    char *text, *p;

    if (!(text = slurp(syncd_log, NULL)))
        return;
    for (p = text; (p = strstr(p, "retry_in_ms=")) != NULL; p += 12)
        pt->retry_sleep_s += strtod(p + 12, NULL) / 1e3;
    for (p = text; (p = strstr(p, "result=retry")) != NULL; p += 12)
        pt->retries++;
    free(text);
}

/*
 * HQ holds every photo the laptop holds: a row in hq.db's attachments with
 * its size, and the file <data>/attachments/<ab>/<sha> of that size; and no
 * upload is left half done.  hq.db is opened read-only.
 */
static void check_store(struct part *pt)
{
    char path[4200], file[4400];
    sqlite3 *ldb, *hdb;
    sqlite3_stmt *q, *h;
    struct stat st;
    int rc;

    snprintf(path, sizeof path, "%s/field.db", laptop);
    ldb = db_open_ro(path);
    snprintf(path, sizeof path, "%s/hq.db", hq_data);
    hdb = db_open_ro(path);
    db_check(ldb, sqlite3_prepare_v2(ldb, "SELECT sha256, size FROM attachments", -1, &q, NULL),
             "read the laptop's attachments");
    db_check(hdb, sqlite3_prepare_v2(hdb, "SELECT size FROM attachments WHERE sha256 = ?1", -1,
                                     &h, NULL), "read HQ's attachments");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(q, 0);
        sqlite3_int64 size = sqlite3_column_int64(q, 1);
        pt->laptop_files++;
        if (!sha || strlen(sha) != 64)
            continue;
        sqlite3_bind_text(h, 1, sha, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(h) == SQLITE_ROW && sqlite3_column_int64(h, 0) == size)
            pt->hq_rows++;
        sqlite3_reset(h);
        snprintf(file, sizeof file, "%s/attachments/%.2s/%s", hq_data, sha, sha);
        if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size) {
            pt->hq_files++;
            pt->hq_bytes += (double)size;
        }
    }
    db_check(ldb, rc, "read the laptop's attachments");
    sqlite3_finalize(q);
    sqlite3_finalize(h);
    db_check(hdb, sqlite3_prepare_v2(hdb, "SELECT count(*) FROM attachment_uploads", -1, &q,
                                     NULL), "read HQ's uploads");
    if (sqlite3_step(q) == SQLITE_ROW)
        pt->partial = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(ldb);
    sqlite3_close(hdb);
    if (pt->laptop_files != pt->nphotos || pt->hq_rows != pt->nphotos ||
        pt->hq_files != pt->nphotos)
        die(EX_UNAVAILABLE, "%s: the laptop holds %lld photos, HQ %lld rows and %lld files of "
            "the %d added; no figures", pt->name, pt->laptop_files, pt->hq_rows, pt->hq_files,
            pt->nphotos);
}

static void run_part(struct part *pt, const char *beatbook, const char *hq, const char *syncd)
{
    char *argv[] = {(char *)syncd, "--home", laptop, "--once", NULL};
    /* On the heap: a pump still running after fwd_stop gave up must not
     * outlive its forwarder (it is then left, not freed). */
    struct fwd *f = xmalloc(sizeof *f);
    struct run r;
    double t0, cpu0;
    int hq_port = free_port();
    long rss = 0;

    fwd_start(f, hq_port);
    part_setup(pt, beatbook, hq, hq_port, f->port);
    start_server(hq, hq_data, hq_port, serve_log);
    cpu0 = proc_cpu_ms(server_pid);
    pt->hq_start_mb = (double)proc_hwm_kb(server_pid) * 1024 / 1e6;
    fwd_set(f, pt->rate, pt->cutting);
    /* At info, syncd says each retry's backoff; it writes a line per file. */
    setenv("BEATBOOK_LOG", "info", 1);
    t0 = now_ms();
    for (pt->runs = 0; pt->runs < MAX_RUNS;) {
        run_measured(argv, NULL, syncd_log, &r);
        pt->codes[pt->runs++] = r.status;
        pt->syncd_cpu_s += r.cpu_ms / 1e3;
        if (r.maxrss_kb > rss)
            rss = r.maxrss_kb;
        if (r.status == 0 || r.status != EX_TEMPFAIL || !pt->cutting)
            break;
    }
    pt->sync_s = (now_ms() - t0) / 1e3;
    unsetenv("BEATBOOK_LOG");
    require_ok(&r, "beatbook-syncd --once", syncd_log);
    pt->hq_cpu_s = (proc_cpu_ms(server_pid) - cpu0) / 1e3;
    pt->hq_rss_mb = (double)proc_hwm_kb(server_pid) * 1024 / 1e6;
    pt->syncd_rss_mb = (double)rss * 1024 / 1e6;
    stop_server();
    fwd_stop(f);
    pthread_mutex_lock(&f->mu);
    pt->up = (double)atomic_load(&f->up);
    pt->down = (double)atomic_load(&f->down);
    pt->cuts = f->cuts;
    pt->conns = f->conns;
    pthread_mutex_unlock(&f->mu);
    if (atomic_load(&f->live) == 0)
        free(f);
    read_serve_log(pt);
    read_syncd_log(pt);
    check_store(pt);
    /* The logs stay (serve.log, syncd.log); the stores, a copy of every photo each, go. */
    remove_tree(hq_data);
    remove_tree(laptop);
}

/* ---- this machine's limits ---- */

static double aes_mbs, sha_mbs, fwd_mbs, paced_mbs, fsync_mbs;

static double best_of_3(double (*f)(uint8_t *, size_t), uint8_t *buf, size_t n)
{
    double best = 1e30;
    int i;

    for (i = 0; i < 3; i++) {
        double s = f(buf, n);
        if (s < best)
            best = s;
    }
    return best;
}

static double time_gcm(uint8_t *buf, size_t n)
{
    static uint8_t out[LIMIT_BYTES];
    mbedtls_gcm_context gcm;
    uint8_t key[32], nonce[12], tag[16];
    double t0 = now_ms();
    int rc, i;

    for (i = 0; i < 32; i++)
        key[i] = (uint8_t)rnd(256);
    memset(nonce, 7, sizeof nonce);
    mbedtls_gcm_init(&gcm);
    rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (rc == 0)
        rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, n, nonce, sizeof nonce, NULL,
                                       0, buf, out, sizeof tag, tag);
    mbedtls_gcm_free(&gcm);
    if (rc != 0)
        die(EX_SOFTWARE, "AES-256-GCM: mbedtls error -0x%04x", (unsigned)-rc);
    return (now_ms() - t0) / 1e3;
}

static double time_sha(uint8_t *buf, size_t n)
{
    uint8_t out[32];
    double t0 = now_ms();

    if (mbedtls_sha256_ret(buf, n, out, 0) != 0)
        die(EX_SOFTWARE, "SHA-256: mbedtls failed");
    return (now_ms() - t0) / 1e3;
}

/* What HQ does with each chunk it takes: pwrite 1 MiB at its offset, fdatasync. */
static double time_fsync(uint8_t *buf, size_t n)
{
    char path[4096];
    double t0;
    size_t off;
    int fd;

    path_in(path, sizeof path, "fsync.bin");
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        die(EX_IOERR, "create %s: %s", path, strerror(errno));
    t0 = now_ms();
    for (off = 0; off < n; off += 1024 * 1024)
        if (pwrite(fd, buf + off, 1024 * 1024, (off_t)off) != 1024 * 1024 || fdatasync(fd) != 0)
            die(EX_IOERR, "write %s: %s", path, strerror(errno));
    t0 = (now_ms() - t0) / 1e3;
    close(fd);
    unlink(path);
    return t0;
}

struct sink {
    int lsock;
    unsigned long long got;
    double end_ms;
};

static void *sink_main(void *arg)
{
    struct sink *s = arg;
    static char buf[256 * 1024];
    int fd = accept4(s->lsock, NULL, NULL, SOCK_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return NULL;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            s->got += (unsigned long long)n;
    s->end_ms = now_ms();
    close(fd);
    return NULL;
}

/*
 * The forwarder alone: bytes written into it reach a sink on loopback, no
 * TLS; at full speed, or paced at rate (then its MB/s should be the rate's).
 */
static double forwarder_self(const uint8_t *buf, long bytes, double rate)
{
    struct sink s;
    struct fwd f;
    pthread_t t;
    double t0;
    long sent = 0;
    int port, fd;

    memset(&s, 0, sizeof s);
    s.lsock = listen_on(0, &port);
    if (pthread_create(&t, NULL, sink_main, &s) != 0)
        die(EX_SOFTWARE, "pthread_create: out of resources");
    fwd_start(&f, port);
    fwd_set(&f, rate, 0);
    if ((fd = connect_to(f.port)) < 0)
        die(EX_UNAVAILABLE, "connect to the forwarder: %s", strerror(errno));
    t0 = now_ms();
    while (sent < bytes) {
        size_t n = 256 * 1024;
        if (send_all(fd, (const char *)buf + sent % (LIMIT_BYTES - (long)n), n) != 0)
            die(EX_UNAVAILABLE, "send through the forwarder: %s", strerror(errno));
        sent += (long)n;
    }
    shutdown(fd, SHUT_WR);
    pthread_join(t, NULL);
    close(fd);
    close(s.lsock);
    fwd_stop(&f);
    if (s.got != (unsigned long long)sent)
        die(EX_SOFTWARE, "the forwarder carried %llu of %ld bytes", s.got, sent);
    return mb((double)sent) / ((s.end_ms - t0) / 1e3);
}

static void limits(void)
{
    uint8_t *buf = xmalloc(LIMIT_BYTES);
    size_t i;

    for (i = 0; i < LIMIT_BYTES / 8; i++)
        ((uint64_t *)buf)[i] = rnd64();
    aes_mbs = mb(LIMIT_BYTES) / best_of_3(time_gcm, buf, LIMIT_BYTES);
    sha_mbs = mb(LIMIT_BYTES) / best_of_3(time_sha, buf, LIMIT_BYTES);
    fsync_mbs = mb(LIMIT_BYTES) / time_fsync(buf, LIMIT_BYTES);
    fwd_mbs = forwarder_self(buf, fwd_self_bytes, 0);
    paced_mbs = forwarder_self(buf, (long)(2 * LINK_BPS / 8), LINK_BPS / 8);   /* 2 s */
    free(buf);
}

/* ---- report ---- */

static void goal_row(const char *figure, const char *value, const char *goal, int met)
{
    printf("  %-44s %20s %9s  %s\n", figure, value, goal, met < 0 ? "-" : met ? "yes" : "no");
}

static void print_codes(const struct part *pt)
{
    int i;
    for (i = 0; i < pt->runs; i++)
        printf("%s%d", i ? "," : "", pt->codes[i]);
}

static void print_part(const struct part *pt)
{
    double rate = pt->sync_s > 0 ? mb(pt->file_bytes) / pt->sync_s : 0;

    printf("  syncd --once, start to exit  %6.2f s  %7.1f MB/s of file bytes  (%d run%s, exit ",
           pt->sync_s, rate, pt->runs, pt->runs == 1 ? "" : "s");
    print_codes(pt);
    printf(")\n");
    printf("  wire up   %10.0f B = %.4f x the %.0f file bytes (%d TLS connection%s)\n", pt->up,
           pt->file_bytes > 0 ? pt->up / pt->file_bytes : 0, pt->file_bytes, pt->conns,
           pt->conns == 1 ? "" : "s");
    printf("  wire down %10.0f B (%.0f B per photo)\n", pt->down, pt->down / pt->nphotos);
    printf("  CPU: syncd %.2f s, HQ %.2f s: %.2f of %ld CPUs busy on average\n",
           pt->syncd_cpu_s, pt->hq_cpu_s,
           pt->sync_s > 0 ? (pt->syncd_cpu_s + pt->hq_cpu_s) / pt->sync_s : 0,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  inside HQ (ms= of its attachment requests, body transfer included) %.2f s:\n"
           "    %d heads %.1f ms each, %d chunks %.1f ms each, %d file-completing chunks %.1f ms\n"
           "    each, %d requests cut off\n", pt->hq_req_s,
           pt->heads, pt->heads ? 1e3 * pt->head_s / pt->heads : 0,
           pt->chunks, pt->chunks ? 1e3 * pt->chunk_s / pt->chunks : 0,
           pt->dones, pt->dones ? 1e3 * pt->done_s / pt->dones : 0, pt->aborted);
    printf("  peak RSS: syncd %.1f MB (ru_maxrss), HQ %.1f MB (VmHWM; %.1f MB once listening)\n",
           pt->syncd_rss_mb, pt->hq_rss_mb, pt->hq_start_mb);
    printf("  HQ holds %lld of %d photos (%.1f MB; hq.db rows with their sizes: %lld; uploads "
           "left open: %lld)\n", pt->hq_files, pt->nphotos, mb(pt->hq_bytes), pt->hq_rows,
           pt->partial);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: attach --bin DIR --dir WORKDIR [--quick]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bin", required_argument, NULL, 'b'},
        {"dir", required_argument, NULL, 'd'},
        {"quick", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char beatbook[4096], syncd[4096], hq[4096], v[128];
    struct part fast, lossy, large;
    struct utsname un;
    struct sigaction sa;
    double t_start = now_ms(), up_mbs, ideal, ratio, x;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double load_start[1] = {-1}, load_end[1] = {-1};
    ssize_t len;
    int c;

    if (argc >= 4 && strcmp(argv[1], "--child-run") == 0)
        return child_run(argv[2], argv + 3);   /* run_measured() runs us so */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bindir = optarg; break;
        case 'd': workdir = optarg; break;
        case 'q':   /* a smoke run of the benchmark itself; figures are rough */
            n_records = 1;
            n_big = 2;
            cut_min = 6e6;
            cut_span = 4e6;
            fwd_self_bytes = 256L * 1024 * 1024;
            break;
        case 'h':
            usage(stdout);
            printf("Benchmark photos from a laptop to HQ over HTTPS (%d of 2-4 MB, at full speed\n"
                   "and over a 100 Mbit/s link cut every ~40 MB; %d of 24 MiB), with syncd's and\n"
                   "HQ's peak memory, against this machine's AES-GCM, SHA-256, fsync and\n"
                   "loopback, measured in WORKDIR.  Prints figures; asserts nothing.\n",
                   n_records * PER_RECORD, n_big);
            return 0;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (!bindir || !workdir || optind != argc) {
        usage(stderr);
        return EX_USAGE;
    }
    bin_path(beatbook, sizeof beatbook, "beatbook");
    bin_path(syncd, sizeof syncd, "beatbook-syncd");
    bin_path(hq, sizeof hq, "beatbook-hq");
    if (mkdir(workdir, 0700) != 0 && errno != EEXIST)
        die(EX_IOERR, "create %s: %s", workdir, strerror(errno));
    if ((len = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1)) <= 0)
        die(EX_UNAVAILABLE, "readlink /proc/self/exe: %s (Linux only)", strerror(errno));
    self_exe[len] = '\0';
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /*
     * Children must never touch a real store or HQ, nor go through a proxy,
     * nor inherit settings that change what is measured.
     */
    {
        static const char *drop[] = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                                     "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
                                     "BEATBOOK_LOG", "BEATBOOK_BUSY_TIMEOUT_MS"};
        size_t i;
        for (i = 0; i < NELEM(drop); i++)
            unsetenv(drop[i]);
        setenv("LANG", "C.UTF-8", 1);
    }

    if (getloadavg(load_start, 1) != 1)
        load_start[0] = -1;
    make_photos();
    memset(&fast, 0, sizeof fast);
    fast.name = "loopback";
    fast.photos = small;
    fast.nphotos = n_small;
    fast.per_record = PER_RECORD;
    fast.file_bytes = small_bytes;
    lossy = fast;
    lossy.name = "lossy";
    lossy.rate = LINK_BPS / 8;
    lossy.cutting = 1;
    large = fast;
    large.name = "big";
    large.photos = big;
    large.nphotos = n_big;
    large.per_record = n_big;
    large.file_bytes = big_bytes;

    run_part(&fast, beatbook, hq, syncd);
    run_part(&lossy, beatbook, hq, syncd);
    run_part(&large, beatbook, hq, syncd);
    limits();

    if (uname(&un) != 0)
        memset(&un, 0, sizeof un);
    printf("beatbook attachments benchmark: figures, not a test (exit 0 whatever they are)\n");
    printf("  programs  %s\n", bindir);
    printf("  machine   %ld CPUs, %s %s, SQLite %s, %s, work folder %s\n", ncpu, un.sysname,
           un.release, sqlite3_libversion(), MBEDTLS_VERSION_STRING_FULL, workdir);
    /* Other work on the machine shows in every figure: say how busy it was. */
    if (getloadavg(load_end, 1) != 1)
        load_end[0] = -1;
    printf("  load      %.2f at the start, %.2f at the end (1-minute load average)\n\n",
           load_start[0], load_end[0]);
    printf("photos: %d of %.1f-%.1f MB (%.1f MB), %d traffic accidents of %d photos each, and\n"
           "  %d of 24 MiB (%.1f MB) on one record; FF D8 FF E0 then incompressible bytes\n"
           "  (made in %.1f s); beatbook add took %.1f s + %.1f s + %.1f s (one store per part)\n\n",
           n_small, mb(SMALL_MIN), mb(SMALL_MAX), mb(small_bytes), n_records, PER_RECORD, n_big,
           mb(big_bytes), gen_s, fast.add_s, lossy.add_s, large.add_s);

    printf("this machine, same run:\n");
    printf("  AES-256-GCM (mbedtls), 64 MiB in one call   %7.0f MB/s  (best of 3)\n", aes_mbs);
    printf("  SHA-256 (mbedtls), 64 MiB                   %7.0f MB/s  (best of 3)\n", sha_mbs);
    printf("  the forwarder alone, loopback TCP, no TLS   %7.0f MB/s  (%.0f MB)\n", fwd_mbs,
           mb((double)fwd_self_bytes));
    printf("    paced as the lossy link (part 2)          %7.2f MB/s  (of %.2f; %.0f MB)\n",
           paced_mbs, LINK_BPS / 8 / 1e6, 2 * LINK_BPS / 8 / 1e6);
    printf("  1 MiB pwrite + fdatasync, 64 times          %7.0f MB/s  (what HQ does per chunk)\n\n",
           fsync_mbs);

    up_mbs = fast.sync_s > 0 ? mb(fast.file_bytes) / fast.sync_s : 0;
    printf("1. %d photos, beatbook-syncd --once -> forwarder -> beatbook-hq serve, HTTPS on\n"
           "   127.0.0.1, full speed\n", fast.nphotos);
    print_part(&fast);
    printf("  upload %.1f MB/s = %.3f x AES-256-GCM, %.3f x SHA-256, %.3f x the forwarder,\n"
           "    %.3f x 1 MiB pwrite + fdatasync\n\n", up_mbs, up_mbs / aes_mbs, up_mbs / sha_mbs,
           up_mbs / fwd_mbs, up_mbs / fsync_mbs);

    ideal = lossy.file_bytes / lossy.rate;
    printf("2. the same through the forwarder as a %.0f Mbit/s link each way (paced), cut every\n"
           "   %.0f-%.0f MB up; --once rerun until it exits 0\n", LINK_BPS / 1e6, mb(cut_min),
           mb(cut_min + cut_span));
    print_part(&lossy);
    printf("  cuts %d; file bytes / link rate %.2f s; syncd's own retries %d, its backoff\n"
           "    sleeps %.2f s (the rest libcurl retried on a fresh connection); sent beyond the\n"
           "    file bytes %.1f MB\n\n", lossy.cuts, ideal, lossy.retries, lossy.retry_sleep_s,
           mb(lossy.up - lossy.file_bytes));

    printf("3. %d photos of 24 MiB, full speed\n", large.nphotos);
    print_part(&large);
    printf("\n");

    printf("  %-44s %20s %9s  %s\n", "figure", "value", "goal", "met");
    snprintf(v, sizeof v, "%.1f MB/s", up_mbs);
    goal_row("1. upload, file bytes / syncd start to exit", v, "", -1);
    x = fast.up / fast.file_bytes;
    snprintf(v, sizeof v, "%.4f", x);
    goal_row("1. wire bytes up / file bytes", v, "<= 1.01", x <= 1.01);
    snprintf(v, sizeof v, "%.0f B", fast.down);
    goal_row("1. wire bytes down", v, "", -1);
    snprintf(v, sizeof v, "%.3f / %.3f / %.3f", up_mbs / aes_mbs, up_mbs / sha_mbs,
             up_mbs / fwd_mbs);
    goal_row("1. upload / AES-GCM / SHA-256 / forwarder", v, "", -1);
    ratio = ideal > 0 ? lossy.sync_s / ideal : 0;
    snprintf(v, sizeof v, "%.2f s / %.2f s", lossy.sync_s, ideal);
    goal_row("2. lossy link: time / (file bytes / rate)", v, "", -1);
    snprintf(v, sizeof v, "%.3f", ratio);
    goal_row("2. ratio", v, "<= 1.2", ratio <= 1.2);
    x = lossy.up / lossy.file_bytes;
    snprintf(v, sizeof v, "%.4f", x);
    goal_row("2. wire bytes up / file bytes", v, "", -1);
    snprintf(v, sizeof v, "%.1f MB", fast.syncd_rss_mb);
    goal_row("3. syncd peak RSS, 2-4 MB photos", v, "<= 32 MB", fast.syncd_rss_mb <= 32);
    snprintf(v, sizeof v, "%.1f MB", large.syncd_rss_mb);
    goal_row("3. syncd peak RSS, 24 MiB photos", v, "<= 32 MB", large.syncd_rss_mb <= 32);
    x = large.syncd_rss_mb - fast.syncd_rss_mb;
    snprintf(v, sizeof v, "%+.1f MB", x);
    goal_row("3. syncd: 24 MiB minus 2-4 MB", v, "<= +2 MB", x <= 2);
    snprintf(v, sizeof v, "%.1f MB", fast.hq_rss_mb);
    goal_row("3. HQ peak RSS, 2-4 MB photos", v, "<= 32 MB", fast.hq_rss_mb <= 32);
    snprintf(v, sizeof v, "%.1f MB", large.hq_rss_mb);
    goal_row("3. HQ peak RSS, 24 MiB photos", v, "<= 32 MB", large.hq_rss_mb <= 32);
    x = large.hq_rss_mb - fast.hq_rss_mb;
    snprintf(v, sizeof v, "%+.1f MB", x);
    goal_row("3. HQ: 24 MiB minus 2-4 MB", v, "<= +2 MB", x <= 2);
    /* The cut link too: reconnects and requests cut mid-body must not cost memory. */
    snprintf(v, sizeof v, "%.1f / %.1f MB", lossy.syncd_rss_mb, lossy.hq_rss_mb);
    goal_row("3. syncd / HQ peak RSS, cut link (part 2)", v, "<= 32 MB",
             lossy.syncd_rss_mb <= 32 && lossy.hq_rss_mb <= 32);
    snprintf(v, sizeof v, "%lld/%d %lld/%d %lld/%d", fast.hq_files, fast.nphotos, lossy.hq_files,
             lossy.nphotos, large.hq_files, large.nphotos);
    goal_row("HQ holds every photo (parts 1, 2, 3)", v, "all", 1);
    printf("\n(run took %.0f s; MB = 10^6 bytes; HQ's rate limit lifted for the run; logs in\n"
           " WORKDIR/<part>/serve.log and syncd.log)\n", (now_ms() - t_start) / 1e3);
    return 0;
}
