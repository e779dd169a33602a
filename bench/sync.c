/*
 * bench/sync.c — how fast records travel from a field laptop to HQ, as ratios
 * to what this machine's zstd, AES-GCM and SQLite can do, all measured in the
 * same run with the same records (DESIGN.md §10).  It prints figures and
 * asserts nothing: the exit status is 0 whatever the figures are, and
 * non-zero only when the benchmark itself cannot run (a program missing or
 * failing, HQ not holding every record afterwards).
 *
 *   sync --bin DIR --migrations DIR --dir WORKDIR [--quick]
 *
 * DIR holds beatbook, beatbook-syncd and beatbook-hq; --migrations is
 * schema/migrations/hq, which the raw-insert reference applies so that its
 * tables are HQ's, with the same columns, constraints and indexes.  WORKDIR
 * must be empty or absent; every file is made there and left for the caller
 * (bench/sync.sh) to remove.  An HQ server this program starts is stopped
 * on every exit path, signals included.
 *
 * The records: 100,000 parking citations, traffic accidents and patrols
 * (60/25/15), imported with `beatbook add KIND --json` in rounds of 1,000 so
 * every batch holds all three kinds, into a store enrolled with a real HQ.
 * What is compared is exactly what the collector stored: revisions.body,
 * the canonical JSON it seals, read back in seal order.
 *
 * What is measured:
 *   seal     `beatbook seal` (fork/exec to exit) against raw zstd level 3 +
 *            AES-256-GCM (mbedtls) of the same JSON arrays, batch by batch as
 *            the seal cut them, in this process (best of 3).  Then where the
 *            seal's time goes: bb_batch_seal() on the same arrays in this
 *            process, and its JSON check alone.
 *   wire     the sealed batch files' bytes per record against the record
 *            JSON's bytes per record.
 *   ingest   `beatbook-syncd --once` (fork/exec to exit, registration
 *            included) pushing every batch over HTTPS to `beatbook-hq serve`
 *            on 127.0.0.1, against a raw insert of the same rows into a fresh
 *            database with HQ's schema: per batch, one transaction of its
 *            batches row (the sealed file), its records and revisions rows,
 *            prepared statements, WAL, synchronous=FULL (best of 2).  Then
 *            where the time goes: HQ's request times from its log, HQ's and
 *            syncd's CPU time, and HQ's per-batch work other than SQL
 *            (open, JSON parse, canonical form + validation per record)
 *            redone in this process.
 *   memory   peak RSS of `beatbook seal` and syncd (their own wait4
 *            ru_maxrss, see child_run) and of the HQ server (VmHWM in
 *            /proc/PID/status just before it is stopped).
 *
 * HQ's per-device rate limit is lifted (rate_burst and rate_per_sec 1000 in
 * hq.conf) so that the figure is ingest, not the limiter.  MB here is 10^6
 * bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdarg.h>
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
#include <dirent.h>

#include <cjson/cJSON.h>
#include <mbedtls/gcm.h>
#include <mbedtls/version.h>
#include <zstd.h>

#include "bb_batch.h"
#include "bb_catalog.h"
#include "bb_hpke.h"
#include "bb_json.h"
#include "bb_record.h"
#include "bb_sign.h"
#include "bb_time.h"
#include "bb_uuid.h"

extern char **environ;

#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_IOERR 74

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Run sizes: the full run takes about a minute on a 2-core laptop. */
static long n_records = 100000;
#define ROUND 1000                 /* records per import round, all three kinds */
#define ORG_UNIT "P06-S03"         /* the laptop's station ... */
#define PRECINCT "P06"             /* ... and its precinct */
#define OFFICER "A123456"
#define ZSTD_LEVEL 3

static const char *workdir;
static const char *bindir;

/* ---- small helpers ---- */

static void stop_server(void);

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("sync: ", stderr);
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

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
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

/* xorshift64*: a fixed seed keeps the generated records the same run to run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32) % n;
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
 * stderr to WORKDIR/stderr.log (truncated first); time it from spawn to wait4.
 */
static void run_cmd(char *const argv[], const char *out_path, struct run *r)
{
    char errlog[4096];
    struct rusage ru;
    pid_t pid;
    int st;
    double t0;

    path_in(errlog, sizeof errlog, "stderr.log");
    if (truncate(errlog, 0) != 0 && errno != ENOENT)
        die(EX_IOERR, "truncate %s: %s", errlog, strerror(errno));
    t0 = now_ms();
    pid = spawn(argv, out_path, errlog);
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
 * this program's own peak, which holds every record.  So measured runs go
 * through a fresh exec of this program (--child-run, a few MB) that starts
 * the command, waits, and writes the command's own ru_maxrss and CPU time
 * to a file.  The extra exec adds about a millisecond to the wall time.
 */
static char self_exe[4096];

static int child_run(const char *result, char **argv)
{
    struct rusage ru;
    pid_t pid;
    FILE *f;
    int st, rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);

    if (rc != 0) {
        fprintf(stderr, "sync --child-run: run %s: %s\n", argv[0], strerror(rc));
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
static void run_measured(char *const argv[], const char *out_path, struct run *r)
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
    run_cmd(wrapped, out_path, r);
    if (r->status == 0) {
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
static void require_ok(const struct run *r, const char *what)
{
    char errlog[4096];

    if (r->status == 0)
        return;
    fprintf(stderr, "sync: %s exited with status %d\n", what, r->status);
    path_in(errlog, sizeof errlog, "stderr.log");
    print_file(errlog, "  ");
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

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0), port;

    if (s < 0)
        die(EX_UNAVAILABLE, "socket: %s", strerror(errno));
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &alen) != 0)
        die(EX_UNAVAILABLE, "bind 127.0.0.1:0: %s", strerror(errno));
    port = ntohs(a.sin_port);
    close(s);
    return port;
}

static int port_open(int port)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM, 0), ok;

    if (s < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

/* `beatbook-hq serve`, logging to WORKDIR/serve.log; returns once it listens. */
static void start_server(const char *hq, const char *data, int port)
{
    char log[4096], *text;
    char *argv[] = {(char *)hq, "serve", "--data", (char *)data, NULL};
    double t0 = now_ms();
    int st;

    path_in(log, sizeof log, "serve.log");
    server_pid = spawn(argv, log, log);
    for (;;) {
        pid_t w = waitpid(server_pid, &st, WNOHANG);
        if (w == server_pid) {
            server_pid = 0;
            fprintf(stderr, "sync: beatbook-hq serve exited at start:\n");
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

/* ---- SQLite helpers ---- */

static void db_check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(EX_IOERR, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static sqlite3 *db_open(const char *path, int flags)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        die(EX_IOERR, "open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return db;
}

static void db_exec(sqlite3 *db, const char *sql)
{
    db_check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static long long db_count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    long long n = -1;

    db_check(db, sqlite3_prepare_v2(db, sql, -1, &q, NULL), sql);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* The pragmas HQ's store runs with (shared/bb_db.c). */
static const char durable_pragmas[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Create HQ's schema from its migration files, in order. */
static void apply_migrations(sqlite3 *db, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[256], path[4096], *sql;
    size_t n = 0, i;

    if (!d)
        die(EX_USAGE, "open %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 && n < NELEM(names))
            names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n == 0)
        die(EX_USAGE, "%s: no migration files (*.sql)", dir);
    qsort(names, n, sizeof *names, cmp_str);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!(sql = slurp(path, NULL)))
            die(EX_IOERR, "read %s: %s", path, strerror(errno));
        db_exec(db, sql);
        free(sql);
        free(names[i]);
    }
}

/* ---- reference codes, so that generated records are valid ---- */

struct codes {
    char **v;
    size_t n;
};

/*
 * The codes `beatbook ref LIST` prints in its first column that start with
 * prefix; those of our precinct (second column) when there are any, since an
 * officer works there.
 */
static void load_codes(const char *beatbook, const char *list, const char *prefix,
                       struct codes *out)
{
    char path[4096], *text, *line, *save = NULL;
    char *argv[] = {(char *)beatbook, "ref", (char *)list, NULL};
    struct codes all = {0}, local = {0};
    struct run r;
    size_t cap;

    path_in(path, sizeof path, "ref.txt");
    run_cmd(argv, path, &r);
    require_ok(&r, "beatbook ref");
    if (!(text = slurp(path, &cap)))
        die(EX_IOERR, "read %s: %s", path, strerror(errno));
    cap = cap / 4 + 1;
    all.v = xmalloc(cap * sizeof *all.v);
    local.v = xmalloc(cap * sizeof *local.v);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char code[64], second[64];
        int k = sscanf(line, "%63s %63s", code, second);
        if (k < 1 || strncmp(code, prefix, strlen(prefix)) != 0)
            continue;
        all.v[all.n++] = xstrdup(code);
        if (k == 2 && strcmp(second, PRECINCT) == 0)
            local.v[local.n++] = xstrdup(code);
    }
    free(text);
    if (all.n == 0)
        die(EX_UNAVAILABLE, "beatbook ref %s listed no %s codes", list, prefix);
    *out = local.n ? local : all;
    free(local.n ? all.v : local.v);   /* the strings of the other list stay: small */
}

static struct codes segments, intersections, bikepaths, stations;

static const char *pick(const struct codes *c)
{
    return c->v[rnd((uint32_t)c->n)];
}

/* ---- generated records ---- */

static void rand_time(char *out, size_t n, int hh_from, int hh_span, int *hh_out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int day = (int)rnd(365), mon = 1, hh = hh_from + (int)rnd((uint32_t)hh_span);

    while (day >= mdays[mon - 1])
        day -= mdays[mon++ - 1];
    snprintf(out, n, "2018-%02d-%02dT%02d:%02d:%02d+08:00", mon, day + 1, hh, (int)rnd(60),
             (int)rnd(60));
    if (hh_out)
        *hh_out = hh;
}

/* A parking citation as an officer enters it (as bench/collector.c makes them). */
static void write_parking(FILE *f)
{
    static const char *violations[] = {
        "red_line", "yellow_line", "double_parking", "intersection", "crosswalk",
        "fire_hydrant", "sidewalk", "arcade", "bus_stop", "accessible_space",
        "entrance", "other",
    };
    static const char *vehicles[] = {"car", "motorcycle", "large_vehicle"};
    static const char *notes[] = {
        NULL, NULL, NULL, NULL, "駕駛不在場，已拍照存證", "早上尖峰時段占用公車專用道",
        "driver not present; photo taken", NULL,
    };
    char t[40];
    const char *note = notes[rnd(NELEM(notes))];

    rand_time(t, sizeof t, 7, 15, NULL);
    fprintf(f, "{\"occurred_at\":\"%s\",\"data\":{\"method\":\"%s\",\"source\":\"%s\",", t,
            rnd(3) ? "stop" : "remote", rnd(10) < 8 ? "police" : "citizen_report");
    if (rnd(10) < 7)
        fprintf(f, "\"segment\":\"%s\",", pick(&segments));
    fprintf(f, "\"major\":%s,\"violation\":\"%s\",\"vehicle_type\":\"%s\","
            "\"plate\":\"%c%c%c-%04u\"", rnd(2) ? "true" : "false",
            violations[rnd(NELEM(violations))], vehicles[rnd(NELEM(vehicles))],
            'A' + (int)rnd(26), 'A' + (int)rnd(26), 'A' + (int)rnd(26), rnd(10000));
    if (note)
        fprintf(f, ",\"notes\":\"%s\"", note);
    fputs("}}", f);
}

static void write_accident(FILE *f)
{
    static const char *causes[] = {
        "following_too_close", "failure_to_yield", "signal_violation", "speeding",
        "drunk_driving", "inattention", "improper_turn", "improper_lane_change",
        "pedestrian_fault", "vehicle_defect", "road_environment", "undetermined", "other",
    };
    static const char *roads[] = {"臺灣大道三段", "文心路二段", "五權西路一段", "中清路二段",
                                  "北屯路", "崇德路三段", "東山路一段", "環中路四段"};
    static const char *notes[] = {
        NULL, NULL, NULL, "雙方已和解", "機車與自小客車擦撞，一人輕傷送醫",
        "road surface wet after rain", NULL,
    };
    char t[40];
    uint32_t c = rnd(100);
    const char *cls = c < 2 ? "a1" : c < 30 ? "a2" : "a3", *note = notes[rnd(NELEM(notes))];
    int deaths = c < 2 ? 1 + (int)rnd(2) : 0;
    int injuries = c < 2 ? (int)rnd(3) : c < 30 ? 1 + (int)rnd(3) : 0;

    rand_time(t, sizeof t, 0, 24, NULL);
    fprintf(f, "{\"occurred_at\":\"%s\",\"data\":{\"class\":\"%s\",\"deaths\":%d,"
            "\"injuries\":%d,", t, cls, deaths, injuries);
    if (rnd(10) < 4)
        fprintf(f, "\"intersection\":\"%s\",", pick(&intersections));
    else
        fprintf(f, "\"place\":\"%s%u號前\",", roads[rnd(NELEM(roads))], 1 + rnd(400));
    fprintf(f, "\"vehicles\":%u,\"cause\":\"%s\"", 1 + rnd(3), causes[rnd(NELEM(causes))]);
    if (note)
        fprintf(f, ",\"notes\":\"%s\"", note);
    fputs("}}", f);
}

/* A finished patrol; it dates itself by started_at (occurred_at_from). */
static void write_patrol(FILE *f)
{
    static const char *types[] = {
        "small_area", "small_area", "small_area", "cross_station", "residence_watch",
        "financial_perimeter", "bike_path", "mobile_station", "checkpoint", "joint_patrol",
        "inspection_support", "farm_protection", "other",
    };
    static const char *modes[] = {"car", "motorcycle", "motorcycle", "bicycle", "foot"};
    static const char *routes[] = {NULL, NULL, "北屯路—文心路—崇德路", "轄區銀行、超商",
                                   "schools and the night market", NULL};
    char t0[40], t1[40];
    const char *type = types[rnd(NELEM(types))], *mode = modes[rnd(NELEM(modes))];
    const char *route = routes[rnd(NELEM(routes))];
    int hh, hours = 1 + (int)rnd(4);

    rand_time(t0, sizeof t0, 6, 14, &hh);
    memcpy(t1, t0, sizeof t1);
    t1[11] = (char)('0' + (hh + hours) / 10);
    t1[12] = (char)('0' + (hh + hours) % 10);
    if (strcmp(type, "bike_path") == 0)
        mode = "bicycle";
    fprintf(f, "{\"data\":{\"type\":\"%s\",\"mode\":\"%s\",\"started_at\":\"%s\","
            "\"ended_at\":\"%s\",\"officers\":%u", type, mode, t0, t1, 1 + rnd(3));
    if (strcmp(type, "bike_path") == 0)
        fprintf(f, ",\"bike_path\":\"%s\"", pick(&bikepaths));
    if (strcmp(type, "cross_station") == 0 || strcmp(type, "joint_patrol") == 0)
        fprintf(f, ",\"partner_unit\":\"%s\"", pick(&stations));
    if (strcmp(mode, "foot") != 0)
        fprintf(f, ",\"distance_km\":%u.%u", 2 + rnd(40), rnd(10));
    if (strcmp(type, "residence_watch") == 0)
        fprintf(f, ",\"households_visited\":%u", 5 + rnd(40));
    if (strcmp(type, "checkpoint") == 0)
        fprintf(f, ",\"persons_checked\":%u,\"vehicles_checked\":%u", rnd(60), rnd(120));
    if (rnd(4) == 0)
        fprintf(f, ",\"volunteers\":%u", 1 + rnd(6));
    if (route)
        fprintf(f, ",\"route\":\"%s\"", route);
    fputs("}}", f);
}

static const struct kind_mix {
    const char *kind;
    int per_round;              /* of ROUND */
    void (*write)(FILE *f);
} mix[] = {
    {"parking_citation", 600, write_parking},
    {"traffic_accident", 250, write_accident},
    {"patrol", 150, write_patrol},
};

static void write_import(const char *path, const struct kind_mix *k)
{
    FILE *f = fopen(path, "w");
    int i;

    if (!f)
        die(EX_IOERR, "create %s: %s", path, strerror(errno));
    fputs("[\n", f);
    for (i = 0; i < k->per_round; i++) {
        k->write(f);
        fputs(i + 1 < k->per_round ? ",\n" : "\n", f);
    }
    fputs("]\n", f);
    if (fclose(f) != 0)
        die(EX_IOERR, "write %s: %s", path, strerror(errno));
}

/* ---- set-up: HQ, an enrolled laptop, its records ---- */

static char hq_data[4096], laptop[4096], device[80];
static int port;
static double import_s;

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

static void setup(const char *beatbook, const char *hq)
{
    char url[64], listen[64], enroll[4096], file[4096], dbpath[4200];
    char *initv[] = {(char *)hq, "init", "--data", hq_data, "--listen", listen, "--url", url,
                     NULL};
    char *enrollv[] = {(char *)hq, "device", "enroll", "--data", hq_data, "--org-unit", ORG_UNIT,
                       "--label", "bench laptop", "--out", enroll, NULL};
    char *lapv[] = {(char *)beatbook, "init", "--enroll", enroll, "--officer", OFFICER, NULL};
    struct run r;
    sqlite3 *db;
    sqlite3_stmt *q;
    long round, rounds = n_records / ROUND;
    size_t k;

    path_in(hq_data, sizeof hq_data, "hq");
    path_in(laptop, sizeof laptop, "laptop");
    path_in(enroll, sizeof enroll, "enroll.json");
    port = free_port();
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    if (setenv("BEATBOOK_HQ_DATA", hq_data, 1) != 0 || setenv("BEATBOOK_HOME", laptop, 1) != 0)
        die(EX_SOFTWARE, "setenv: %s", strerror(errno));
    run_cmd(initv, NULL, &r);
    require_ok(&r, "beatbook-hq init");
    set_conf("rate_burst", "1000");
    set_conf("rate_per_sec", "1000");
    run_cmd(enrollv, NULL, &r);
    require_ok(&r, "beatbook-hq device enroll");
    run_cmd(lapv, NULL, &r);
    require_ok(&r, "beatbook init --enroll");
    unlink(enroll);

    load_codes(beatbook, "segments", "SEG-", &segments);
    load_codes(beatbook, "intersections", "INT-", &intersections);
    load_codes(beatbook, "bikepaths", "BP-", &bikepaths);
    load_codes(beatbook, "units", PRECINCT "-S", &stations);

    /* Rounds of all three kinds, so that every batch mixes them as a day does. */
    path_in(file, sizeof file, "import.json");
    for (round = 0; round < rounds; round++) {
        for (k = 0; k < NELEM(mix); k++) {
            char *addv[] = {(char *)beatbook, "add", (char *)mix[k].kind, "--json", file, NULL};
            write_import(file, &mix[k]);
            run_cmd(addv, NULL, &r);
            require_ok(&r, "beatbook add --json");
            import_s += r.ms / 1e3;
        }
    }
    unlink(file);

    snprintf(dbpath, sizeof dbpath, "%s/field.db", laptop);
    db = db_open(dbpath, SQLITE_OPEN_READONLY);
    db_check(db, sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'device'", -1, &q,
                                    NULL), "read device");
    if (sqlite3_step(q) != SQLITE_ROW)
        die(EX_UNAVAILABLE, "%s: no device id in meta", dbpath);
    snprintf(device, sizeof device, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* ---- the records as stored, and the batches as sealed ---- */

struct row {
    char *body;              /* revisions.body: the canonical JSON sealed */
    size_t len;
    char *id, *kind, *status, *org_unit, *officer, *occurred_at, *recorded_at;
    int64_t rev, occurred_unix;
};

struct batch {
    int64_t seq, count;
    uint8_t *bytes;          /* the sealed file */
    size_t size;
    char *json;              /* the JSON array of its records, as sealed */
    size_t json_len;
    long first;              /* index of its first row */
};

static struct row *rows;
static long nrows;
static struct batch *batches;
static long nbatches;
static double body_bytes, array_bytes, wire_bytes;

static char *col_dup(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return xstrdup(t ? (const char *)t : "");
}

/* Every revision in seal order (revisions.seq), with its record's columns. */
static void read_rows(void)
{
    char dbpath[4200];
    sqlite3 *db;
    sqlite3_stmt *q;
    long cap = n_records;
    int rc;

    snprintf(dbpath, sizeof dbpath, "%s/field.db", laptop);
    db = db_open(dbpath, SQLITE_OPEN_READONLY);
    db_check(db, sqlite3_prepare_v2(db,
             "SELECT v.body, r.id, r.kind, v.rev, v.status, r.org_unit, r.officer, r.occurred_at,"
             " r.occurred_unix, v.recorded_at FROM revisions v JOIN records r ON r.id = v.id"
             " ORDER BY v.seq", -1, &q, NULL), "read revisions");
    rows = xmalloc((size_t)cap * sizeof *rows);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct row *w;
        if (nrows == cap) {
            cap *= 2;
            if (!(rows = realloc(rows, (size_t)cap * sizeof *rows)))
                die(EX_SOFTWARE, "out of memory");
        }
        w = &rows[nrows++];
        w->body = col_dup(q, 0);
        w->len = strlen(w->body);
        w->id = col_dup(q, 1);
        w->kind = col_dup(q, 2);
        w->rev = sqlite3_column_int64(q, 3);
        w->status = col_dup(q, 4);
        w->org_unit = col_dup(q, 5);
        w->officer = col_dup(q, 6);
        w->occurred_at = col_dup(q, 7);
        w->occurred_unix = sqlite3_column_int64(q, 8);
        w->recorded_at = col_dup(q, 9);
        body_bytes += (double)w->len;
    }
    db_check(db, rc, "read revisions");
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (nrows != n_records)
        die(EX_UNAVAILABLE, "the store holds %ld revisions, not %ld", nrows, n_records);
}

/* The sealed batches, and the same JSON arrays the seal built from the rows. */
static void read_batches(void)
{
    char dbpath[4200];
    sqlite3 *db;
    sqlite3_stmt *q;
    long cap = 64, next = 0, i;
    int rc;

    snprintf(dbpath, sizeof dbpath, "%s/field.db", laptop);
    db = db_open(dbpath, SQLITE_OPEN_READONLY);
    db_check(db, sqlite3_prepare_v2(db, "SELECT seq, count, size, bytes FROM batches ORDER BY seq",
                                    -1, &q, NULL), "read batches");
    batches = xmalloc((size_t)cap * sizeof *batches);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct batch *b;
        size_t len;
        if (nbatches == cap) {
            cap *= 2;
            if (!(batches = realloc(batches, (size_t)cap * sizeof *batches)))
                die(EX_SOFTWARE, "out of memory");
        }
        b = &batches[nbatches++];
        b->seq = sqlite3_column_int64(q, 0);
        b->count = sqlite3_column_int64(q, 1);
        b->size = (size_t)sqlite3_column_int64(q, 2);
        len = (size_t)sqlite3_column_bytes(q, 3);
        if (len != b->size)
            die(EX_UNAVAILABLE, "batch %lld: %zu bytes stored, size says %zu",
                (long long)b->seq, len, b->size);
        b->bytes = memcpy(xmalloc(len), sqlite3_column_blob(q, 3), len);
        wire_bytes += (double)len;
        if (b->count < 1 || next + b->count > nrows)
            die(EX_UNAVAILABLE, "batch %lld holds %lld records: more than were stored",
                (long long)b->seq, (long long)b->count);
        b->first = next;
        b->json_len = 1;
        for (i = next; i < next + b->count; i++)
            b->json_len += rows[i].len + 1;
        b->json = xmalloc(b->json_len + 1);
        len = 0;
        b->json[len++] = '[';
        for (i = next; i < next + b->count; i++) {
            if (i > next)
                b->json[len++] = ',';
            memcpy(b->json + len, rows[i].body, rows[i].len);
            len += rows[i].len;
        }
        b->json[len++] = ']';
        b->json[len] = '\0';
        b->json_len = len;
        array_bytes += (double)len;
        next += b->count;
    }
    db_check(db, rc, "read batches");
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (next != nrows)
        die(EX_UNAVAILABLE, "the batches hold %ld records, the store %ld", next, nrows);
}

/* ---- seal, and the machine's zstd + AES-GCM over the same bytes ---- */

static double seal_s, seal_cpu_s, seal_rss_mb;
static double raw_seal_s, raw_zstd_s, raw_gcm_s, raw_zstd_bytes;
static double lib_seal_s, lib_check_s;

static void bench_seal(const char *beatbook)
{
    char *argv[] = {(char *)beatbook, "seal", NULL};
    struct run r;

    run_measured(argv, NULL, &r);
    require_ok(&r, "beatbook seal");
    seal_s = r.ms / 1e3;
    seal_cpu_s = r.cpu_ms / 1e3;
    seal_rss_mb = (double)r.maxrss_kb * 1024 / 1e6;
}

/*
 * The limit: zstd level 3 (one reused context) and AES-256-GCM (a fresh
 * key per batch, as HPKE derives one) of each batch's JSON array, best of 3.
 */
static void raw_seal(void)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    mbedtls_gcm_context gcm;
    uint8_t key[32], nonce[12], tag[16], *z, *ct;
    size_t zcap = 0;
    long i;
    int pass, rc;

    if (!cctx)
        die(EX_SOFTWARE, "zstd: out of memory");
    for (i = 0; i < nbatches; i++)
        if (ZSTD_compressBound(batches[i].json_len) > zcap)
            zcap = ZSTD_compressBound(batches[i].json_len);
    z = xmalloc(zcap);
    ct = xmalloc(zcap);
    for (i = 0; i < 32; i++)
        key[i] = (uint8_t)rnd(256);
    memset(nonce, 7, sizeof nonce);
    raw_seal_s = 1e30;
    for (pass = 0; pass < 3; pass++) {
        double tz = 0, tg = 0, zbytes = 0, t0;
        for (i = 0; i < nbatches; i++) {
            size_t zlen;
            t0 = now_ms();
            zlen = ZSTD_compressCCtx(cctx, z, zcap, batches[i].json, batches[i].json_len,
                                     ZSTD_LEVEL);
            tz += now_ms() - t0;
            if (ZSTD_isError(zlen))
                die(EX_SOFTWARE, "zstd: %s", ZSTD_getErrorName(zlen));
            zbytes += (double)zlen;
            t0 = now_ms();
            key[0] ^= (uint8_t)i;
            mbedtls_gcm_init(&gcm);
            rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
            if (rc == 0)
                rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, zlen, nonce,
                                               sizeof nonce, NULL, 0, z, ct, sizeof tag, tag);
            mbedtls_gcm_free(&gcm);
            tg += now_ms() - t0;
            if (rc != 0)
                die(EX_SOFTWARE, "AES-256-GCM: mbedtls error -0x%04x", (unsigned)-rc);
        }
        if ((tz + tg) / 1e3 < raw_seal_s) {
            raw_seal_s = (tz + tg) / 1e3;
            raw_zstd_s = tz / 1e3;
            raw_gcm_s = tg / 1e3;
        }
        raw_zstd_bytes = zbytes;
    }
    ZSTD_freeCCtx(cctx);
    free(z);
    free(ct);
}

/*
 * Where the seal's time goes: bb_batch_seal() (JSON check, zstd, HPKE
 * setup + AES-GCM, ECDSA) on the same arrays with throwaway keys, and the
 * JSON check's parse alone (cJSON through bb_json_parse).  Best of 2.
 */
static void lib_seal(void)
{
    uint8_t sk[BB_HPKE_SK_LEN], pk[BB_HPKE_PK_LEN];
    bb_sign_key *dev = NULL;
    struct bb_batch_header h;
    bb_errbuf eb;
    long i;
    int pass;

    memset(&eb, 0, sizeof eb);
    if (bb_hpke_keygen(sk, pk, &eb) != BB_OK || bb_sign_keygen(&dev, &eb) != BB_OK)
        die(EX_SOFTWARE, "make throwaway keys: %s", eb.msg);
    memset(&h, 0, sizeof h);
    snprintf(h.device, sizeof h.device, "%s", device);
    memset(h.prev, '0', 64);
    if (bb_key_id(pk, sizeof pk, h.hq_key, &eb) != BB_OK ||
        bb_sign_key_id(dev, h.device_key, &eb) != BB_OK ||
        bb_time_now_taipei(h.created_at) != BB_OK)
        die(EX_SOFTWARE, "key ids: %s", eb.msg);
    lib_seal_s = lib_check_s = 1e30;
    for (pass = 0; pass < 2; pass++) {
        double t_seal = 0, t_check = 0, t0;
        for (i = 0; i < nbatches; i++) {
            uint8_t *out = NULL;
            size_t out_len = 0;
            cJSON *root = NULL;

            h.seq = batches[i].seq;
            h.count = batches[i].count;
            if (bb_uuid7(h.batch) != BB_OK)
                die(EX_SOFTWARE, "uuid: no random numbers");
            t0 = now_ms();
            if (bb_batch_seal(&h, batches[i].json, batches[i].json_len, pk, dev, &out, &out_len,
                              &eb) != BB_OK)
                die(EX_SOFTWARE, "bb_batch_seal: %s", eb.msg);
            t_seal += now_ms() - t0;
            free(out);
            t0 = now_ms();
            if (bb_json_parse(batches[i].json, batches[i].json_len, "batch", &root, &eb) != BB_OK)
                die(EX_SOFTWARE, "parse batch: %s", eb.msg);
            cJSON_Delete(root);
            t_check += now_ms() - t0;
        }
        if (t_seal / 1e3 < lib_seal_s)
            lib_seal_s = t_seal / 1e3;
        if (t_check / 1e3 < lib_check_s)
            lib_check_s = t_check / 1e3;
    }
    bb_sign_key_free(dev);
}

/* ---- ingest over HTTPS, and the raw insert of the same rows ---- */

static double sync_s, sync_cpu_s, sync_rss_mb, hq_cpu_s, hq_rss_mb, hq_req_s;
static long hq_requests;
static double raw_ins_s;
static double hq_open_s, hq_parse_s, hq_validate_s;

/* Sum of the ms= of HQ's POST /v1/batches log lines (time inside the server). */
static void read_serve_log(void)
{
    char path[4096], *text, *line, *save = NULL;

    path_in(path, sizeof path, "serve.log");
    if (!(text = slurp(path, NULL)))
        return;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *ms = strstr(line, " ms=");
        if (strstr(line, "path=/v1/batches") && strstr(line, "status=201") && ms) {
            hq_req_s += strtod(ms + 4, NULL) / 1e3;
            hq_requests++;
        }
    }
    free(text);
}

static void bench_ingest(const char *hq, const char *syncd)
{
    char *argv[] = {(char *)syncd, "--home", laptop, "--once", NULL};
    char dbpath[4200];
    struct run r;
    sqlite3 *db;
    double cpu0;
    long long nrec, nrev;

    start_server(hq, hq_data, port);
    cpu0 = proc_cpu_ms(server_pid);
    run_measured(argv, NULL, &r);
    require_ok(&r, "beatbook-syncd --once");
    sync_s = r.ms / 1e3;
    sync_cpu_s = r.cpu_ms / 1e3;
    sync_rss_mb = (double)r.maxrss_kb * 1024 / 1e6;
    hq_cpu_s = (proc_cpu_ms(server_pid) - cpu0) / 1e3;
    hq_rss_mb = (double)proc_hwm_kb(server_pid) * 1024 / 1e6;
    stop_server();
    read_serve_log();

    /* The figure only counts if HQ holds every record. */
    snprintf(dbpath, sizeof dbpath, "%s/hq.db", hq_data);
    db = db_open(dbpath, SQLITE_OPEN_READONLY);
    nrec = db_count(db, "SELECT count(*) FROM records");
    nrev = db_count(db, "SELECT count(*) FROM revisions");
    sqlite3_close(db);
    if (nrec != nrows || nrev != nrows)
        die(EX_UNAVAILABLE, "HQ holds %lld records and %lld revisions after the sync, not %ld",
            nrec, nrev, nrows);
}

/*
 * The machine's limit for HQ's rows: the same records and revisions rows
 * (and the batches rows they reference, with the sealed files) into a fresh
 * database made by HQ's migrations, same pragmas, one transaction per batch,
 * prepared statements reused for every row.
 */
static double raw_insert(const char *migrations, const char *name)
{
    char path[4096], now[BB_TIME_MAX];
    sqlite3 *db;
    sqlite3_stmt *qb, *qr, *qv;
    double t0;
    long b, i;

    path_in(path, sizeof path, name);
    db = db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db_exec(db, durable_pragmas);
    apply_migrations(db, migrations);
    if (bb_time_now_taipei(now) != BB_OK)
        die(EX_SOFTWARE, "clock");
    {
        sqlite3_stmt *qd;
        db_check(db, sqlite3_prepare_v2(db,
                 "INSERT INTO devices (id, org_unit, label, status, token_hash, token_expires,"
                 " enrolled_at) VALUES (?1, ?2, 'bench', 'active', '', 0, ?3)", -1, &qd, NULL),
                 "prepare device");
        sqlite3_bind_text(qd, 1, device, -1, SQLITE_STATIC);
        sqlite3_bind_text(qd, 2, ORG_UNIT, -1, SQLITE_STATIC);
        sqlite3_bind_text(qd, 3, now, -1, SQLITE_STATIC);
        db_check(db, sqlite3_step(qd), "insert device");
        sqlite3_finalize(qd);
    }
    db_check(db, sqlite3_prepare_v2(db,
             "INSERT INTO batches (device, seq, batch, sha256, prev, created_at, received_at,"
             " source, count, merged, duplicates, rejected, bytes, receipt)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 'https', ?7, ?7, 0, 0, ?8, '')",
             -1, &qb, NULL), "prepare batches insert");
    db_check(db, sqlite3_prepare_v2(db,
             "INSERT INTO records (id, device, kind, rev, status, org_unit, officer, occurred_at,"
             " occurred_unix, recorded_at, batch_id, body)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", -1, &qr, NULL),
             "prepare records insert");
    db_check(db, sqlite3_prepare_v2(db,
             "INSERT INTO revisions (id, rev, batch_id, body) VALUES (?1, ?2, ?3, ?4)",
             -1, &qv, NULL), "prepare revisions insert");
    t0 = now_ms();
    for (b = 0; b < nbatches; b++) {
        const struct batch *bt = &batches[b];
        sqlite3_int64 bid;
        char sha[BB_SHA256_HEX], uuid[40];

        snprintf(uuid, sizeof uuid, "bench-%ld", b);
        bb_sha256_hex(bt->bytes, bt->size, sha);
        db_exec(db, "BEGIN IMMEDIATE");
        sqlite3_bind_text(qb, 1, device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(qb, 2, bt->seq);
        sqlite3_bind_text(qb, 3, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(qb, 4, sha, -1, SQLITE_STATIC);
        sqlite3_bind_text(qb, 5, sha, -1, SQLITE_STATIC);
        sqlite3_bind_text(qb, 6, now, -1, SQLITE_STATIC);
        sqlite3_bind_int64(qb, 7, bt->count);
        sqlite3_bind_blob64(qb, 8, bt->bytes, bt->size, SQLITE_STATIC);
        db_check(db, sqlite3_step(qb), "insert batch");
        sqlite3_reset(qb);
        bid = sqlite3_last_insert_rowid(db);
        for (i = bt->first; i < bt->first + bt->count; i++) {
            const struct row *w = &rows[i];
            sqlite3_bind_text(qr, 1, w->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(qr, 2, device, -1, SQLITE_STATIC);
            sqlite3_bind_text(qr, 3, w->kind, -1, SQLITE_STATIC);
            sqlite3_bind_int64(qr, 4, w->rev);
            sqlite3_bind_text(qr, 5, w->status, -1, SQLITE_STATIC);
            sqlite3_bind_text(qr, 6, w->org_unit, -1, SQLITE_STATIC);
            sqlite3_bind_text(qr, 7, w->officer, -1, SQLITE_STATIC);
            sqlite3_bind_text(qr, 8, w->occurred_at, -1, SQLITE_STATIC);
            sqlite3_bind_int64(qr, 9, w->occurred_unix);
            sqlite3_bind_text(qr, 10, w->recorded_at, -1, SQLITE_STATIC);
            sqlite3_bind_int64(qr, 11, bid);
            sqlite3_bind_text(qr, 12, w->body, (int)w->len, SQLITE_STATIC);
            db_check(db, sqlite3_step(qr), "insert record");
            sqlite3_reset(qr);
            sqlite3_bind_text(qv, 1, w->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(qv, 2, w->rev);
            sqlite3_bind_int64(qv, 3, bid);
            sqlite3_bind_text(qv, 4, w->body, (int)w->len, SQLITE_STATIC);
            db_check(db, sqlite3_step(qv), "insert revision");
            sqlite3_reset(qv);
        }
        db_exec(db, "COMMIT");
    }
    t0 = (now_ms() - t0) / 1e3;
    sqlite3_finalize(qb);
    sqlite3_finalize(qr);
    sqlite3_finalize(qv);
    sqlite3_close(db);
    return t0;
}

/*
 * HQ's per-batch work other than SQL, redone here on the real batches with
 * HQ's and the laptop's keys: open (parse, ECDSA verify, HPKE + zstd), the
 * payload's JSON parse, and per record what the merge does before its
 * statements (canonical form, bb_record_validate, the time parse).
 */
static void hq_cpu_parts(void)
{
    char path[4200];
    uint8_t sk[BB_HPKE_SK_LEN];
    bb_sign_key *dev = NULL;
    bb_catalog *cat = NULL;
    bb_errbuf eb;
    long i;

    memset(&eb, 0, sizeof eb);
    snprintf(path, sizeof path, "%s/keys/hq-x25519.key", hq_data);
    if (bb_sign_x25519_key_read(path, sk, &eb) != BB_OK)
        die(EX_UNAVAILABLE, "%s", eb.msg);
    snprintf(path, sizeof path, "%s/device.key", laptop);
    if (bb_sign_key_load(&dev, path, &eb) != BB_OK)
        die(EX_UNAVAILABLE, "%s", eb.msg);
    if (bb_catalog_load_embedded(&cat, &eb) != BB_OK)
        die(EX_SOFTWARE, "catalog: %s", eb.msg);
    for (i = 0; i < nbatches; i++) {
        struct bb_batch_view view;
        char *plain = NULL;
        size_t plain_len = 0;
        cJSON *root = NULL;
        const cJSON *rec;
        double t0 = now_ms(), t1, t2;

        if (bb_batch_parse(batches[i].bytes, batches[i].size, &view, &eb) != BB_OK ||
            bb_batch_verify(&view, dev, &eb) != BB_OK ||
            bb_batch_decrypt(&view, sk, &plain, &plain_len, &eb) != BB_OK)
            die(EX_SOFTWARE, "open batch %lld: %s", (long long)batches[i].seq, eb.msg);
        t1 = now_ms();
        if (bb_json_parse(plain, plain_len, "batch payload", &root, &eb) != BB_OK)
            die(EX_SOFTWARE, "parse batch: %s", eb.msg);
        t2 = now_ms();
        cJSON_ArrayForEach(rec, root) {
            char *canon = bb_json_canonical(rec);
            int64_t u;
            if (!canon)
                die(EX_SOFTWARE, "out of memory");
            if (bb_record_validate(cat, rec, BB_LANG_ZH, &eb) != BB_OK)
                die(EX_SOFTWARE, "a record HQ merged does not validate here: %s", eb.msg);
            if (bb_time_parse(bb_json_str(rec, "occurred_at"), &u, NULL, NULL) != BB_OK)
                die(EX_SOFTWARE, "occurred_at does not parse");
            free(canon);
        }
        hq_validate_s += (now_ms() - t2) / 1e3;
        hq_parse_s += (t2 - t1) / 1e3;
        hq_open_s += (t1 - t0) / 1e3;
        cJSON_Delete(root);
        free(plain);
    }
    bb_catalog_free(cat);
    bb_sign_key_free(dev);
}

/* ---- report ---- */

static void goal_row(const char *figure, const char *value, const char *goal, int met)
{
    printf("  %-42s %19s %8s  %s\n", figure, value, goal, met < 0 ? "-" : met ? "yes" : "no");
}

static void usage(FILE *out)
{
    fprintf(out, "usage: sync --bin DIR --migrations DIR --dir WORKDIR [--quick]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bin", required_argument, NULL, 'b'},
        {"migrations", required_argument, NULL, 'm'},
        {"dir", required_argument, NULL, 'd'},
        {"quick", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *migrations = NULL;
    char beatbook[4096], syncd[4096], hq[4096], v[128];
    struct utsname un;
    struct sigaction sa;
    double t_start = now_ms(), t, ratio, seal_rate, raw_rate, ingest_rate, ins_rate, pct;
    double n;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    ssize_t len;
    int c;

    if (argc >= 4 && strcmp(argv[1], "--child-run") == 0)
        return child_run(argv[2], argv + 3);   /* run_measured() runs us so */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bindir = optarg; break;
        case 'm': migrations = optarg; break;
        case 'd': workdir = optarg; break;
        case 'q':   /* a smoke run of the benchmark itself; figures are rough */
            n_records = 10000;
            break;
        case 'h':
            usage(stdout);
            printf("Benchmark sealing, wire size and HTTPS ingest of %ld records against this\n"
                   "machine's zstd, AES-GCM and SQLite limits, measured in WORKDIR.  Prints\n"
                   "figures; asserts nothing.\n", n_records);
            return 0;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (!bindir || !migrations || !workdir || optind != argc) {
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

    setup(beatbook, hq);
    read_rows();
    bench_seal(beatbook);
    read_batches();
    raw_seal();
    lib_seal();
    bench_ingest(hq, syncd);
    raw_ins_s = raw_insert(migrations, "raw1.db");
    t = raw_insert(migrations, "raw2.db");
    if (t < raw_ins_s)
        raw_ins_s = t;
    hq_cpu_parts();

    if (uname(&un) != 0)
        memset(&un, 0, sizeof un);
    n = (double)nrows;
    printf("beatbook sync benchmark: figures, not a test (exit 0 whatever they are)\n");
    printf("  programs  %s\n", bindir);
    printf("  machine   %ld CPUs, %s %s, SQLite %s, zstd %s, %s, work folder %s\n\n", ncpu,
           un.sysname, un.release, sqlite3_libversion(), ZSTD_versionString(),
           MBEDTLS_VERSION_STRING_FULL, workdir);

    printf("records: %ld, per %d %d parking_citation, %d traffic_accident, %d patrol, imported\n"
           "  with beatbook add --json (%.1f s); %.0f B of canonical JSON each; sealed into %ld\n"
           "  batches of up to %lld records\n\n",
           nrows, ROUND, mix[0].per_round, mix[1].per_round, mix[2].per_round, import_s,
           body_bytes / n, nbatches, nbatches ? (long long)batches[0].count : 0LL);

    seal_rate = seal_s > 0 ? n / seal_s : 0;
    raw_rate = raw_seal_s > 0 ? n / raw_seal_s : 0;
    printf("seal: %ld records, %.1f MB of record JSON\n", nrows, mb(array_bytes));
    printf("  beatbook seal              %9.0f records/s %6.1f MB/s  (%.2f s wall, %.2f s CPU)\n",
           seal_rate, mb(array_bytes) / seal_s, seal_s, seal_cpu_s);
    printf("  raw zstd-%d + AES-256-GCM   %9.0f records/s %6.1f MB/s  (best of 3, %.2f s; alone:\n"
           "                             zstd %.0f MB/s in, AES-GCM %.0f MB/s of zstd's output)\n",
           ZSTD_LEVEL, raw_rate, mb(array_bytes) / raw_seal_s, raw_seal_s,
           raw_zstd_s > 0 ? mb(array_bytes) / raw_zstd_s : 0,
           raw_gcm_s > 0 ? mb(raw_zstd_bytes) / raw_gcm_s : 0);
    printf("  where the seal's %.2f s go (parts redone in this process, best of 2):\n", seal_s);
    printf("    bb_batch_seal (JSON check, zstd, HPKE, ECDSA)     %6.2f s %3.0f%%\n",
           lib_seal_s, 100 * lib_seal_s / seal_s);
    printf("      of which the JSON check's cJSON parse + free    %6.2f s %3.0f%%\n",
           lib_check_s, 100 * lib_check_s / seal_s);
    printf("    the rest: start-up, SQLite reads, the revisions\n"
           "      update, %3ld durable commits + checkpoints       %6.2f s %3.0f%%\n\n",
           nbatches, seal_s - lib_seal_s, 100 * (seal_s - lib_seal_s) / seal_s);

    ingest_rate = sync_s > 0 ? n / sync_s : 0;
    ins_rate = raw_ins_s > 0 ? n / raw_ins_s : 0;
    printf("ingest: beatbook-syncd --once -> beatbook-hq serve, HTTPS on 127.0.0.1, %ld batches\n",
           nbatches);
    printf("  syncd, start to exit       %9.0f records/s  (%.2f s wall; CPU: syncd %.2f s, HQ %.2f s)\n",
           ingest_rate, sync_s, sync_cpu_s, hq_cpu_s);
    printf("  raw SQLite insert          %9.0f records/s  (best of 2, %.2f s: the same rows into\n"
           "                             HQ's schema, batches + records + revisions, a transaction\n"
           "                             per batch, WAL, synchronous=FULL, prepared statements)\n",
           ins_rate, raw_ins_s);
    printf("  where the ingest's %.2f s go:\n", sync_s);
    printf("    inside HQ (ms= of its %2ld POST /v1/batches lines) %6.2f s %3.0f%%\n",
           hq_requests, hq_req_s, 100 * hq_req_s / sync_s);
    printf("      open: verify, HPKE, zstd, array check (parse)  %6.2f s  redone here\n",
           hq_open_s);
    printf("      the merge's JSON parse of the payload          %6.2f s  redone here\n",
           hq_parse_s);
    printf("      canonical form + validation of each record     %6.2f s  redone here\n",
           hq_validate_s);
    printf("      the rest: SQL lookups and inserts, commits,\n"
           "        checkpoints, receipts, freeing the trees     %6.2f s\n",
           hq_req_s - hq_open_s - hq_parse_s - hq_validate_s);
    printf("    outside HQ: syncd start-up, registration, sends,\n"
           "      receipt checks + acks, TLS, loopback            %6.2f s %3.0f%%\n\n",
           sync_s - hq_req_s, 100 * (sync_s - hq_req_s) / sync_s);

    printf("  %-42s %19s %8s  %s\n", "figure", "value", "goal", "met");
    snprintf(v, sizeof v, "%.0f/s %.1f MB/s", seal_rate, mb(array_bytes) / seal_s);
    goal_row("seal: beatbook seal", v, "", -1);
    ratio = raw_rate > 0 ? seal_rate / raw_rate : 0;
    snprintf(v, sizeof v, "%.2f", ratio);
    goal_row("seal rate / raw zstd-3 + AES-256-GCM rate", v, ">= 0.5", ratio >= 0.5);
    snprintf(v, sizeof v, "%.0f B / %.0f B", wire_bytes / n, body_bytes / n);
    goal_row("wire bytes / JSON bytes per record", v, "", -1);
    pct = body_bytes > 0 ? 100 * wire_bytes / body_bytes : 0;
    snprintf(v, sizeof v, "%.1f %%", pct);
    goal_row("wire / record JSON", v, "<= 35 %", pct > 0 && pct <= 35);
    snprintf(v, sizeof v, "%.0f/s", ingest_rate);
    goal_row("ingest: syncd start to exit", v, "", -1);
    ratio = ins_rate > 0 ? ingest_rate / ins_rate : 0;
    snprintf(v, sizeof v, "%.2f", ratio);
    goal_row("ingest rate / raw SQLite insert rate", v, ">= 0.5", ratio >= 0.5);
    snprintf(v, sizeof v, "%.1f MB", sync_rss_mb);
    goal_row("syncd peak RSS (ru_maxrss)", v, "", -1);
    snprintf(v, sizeof v, "%.1f MB", hq_rss_mb);
    goal_row("HQ server peak RSS (VmHWM)", v, "", -1);
    snprintf(v, sizeof v, "%.1f MB", seal_rss_mb);
    goal_row("beatbook seal peak RSS (ru_maxrss)", v, "", -1);
    printf("\n(run took %.0f s; MB = 10^6 bytes; HQ's rate limit lifted for the run)\n",
           (now_ms() - t_start) / 1e3);
    return 0;
}
