/*
 * bench/collector.c — how fast the field collector stores records, as ratios
 * to what this machine's disk and SQLite can do, all measured in the same run
 * on the same filesystem (DESIGN.md §10).  It prints figures and asserts
 * nothing: the exit status is 0 whatever the figures are, and non-zero only
 * when the benchmark itself cannot run (beatbook missing or failing).
 *
 *   collector --beatbook BIN --migrations DIR --dir WORKDIR [--quick]
 *
 * WORKDIR must be empty or absent; every file is made there and left for the
 * caller (bench/collector.sh) to remove.  --migrations is
 * schema/migrations/collector: the raw-insert reference applies the same
 * files, so it has the same tables, columns, constraints and indexes.
 *
 * What is measured:
 *   machine   4 KiB write + fsync of a plain file; posix_spawn of /bin/true;
 *             a durable SQLite commit (WAL, synchronous=FULL) on an open
 *             connection, with open/close around it, and in a process of
 *             its own (this program re-run with --child-commit): the floor
 *             of any CLI that stores one record per process.
 *   add       `beatbook add parking_citation ...` wall time per call,
 *             fork/exec to exit, into a store that already holds records
 *             (costs that grow with the store show), the start-up part of it
 *             (--version: exec + dynamic linking; `add --help`: + the
 *             embedded catalog), and the WAL it leaves beside the store.
 *             Machine and add figures are sampled in interleaved rounds.
 *   import    `beatbook add parking_citation --json FILE` of 100,000 records
 *             against a raw insert of the very rows it stored (read back)
 *             into a fresh database, one transaction, prepared statements.
 *   memory    peak RSS (wait4 ru_maxrss) of add and of the import.
 *
 * MB here is 10^6 bytes.  Percentiles are nearest-rank.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_IOERR 74

/* Run sizes: the full run takes 15-20 s on a 2-core laptop. */
static int n_rounds = 300;       /* 300 commits and fsyncs, 200 adds, 100 of the rest */
static int n_import = 100000;
static int n_prefill = 5000;     /* records in the store before the adds */

static const char *workdir;

/* ---- small helpers ---- */

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("collector: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Latency samples; sorted in place by pct(). */
struct samples {
    double *v;
    int n, cap;
};

static void sample_add(struct samples *s, double ms)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
        if (!s->v)
            die(EX_SOFTWARE, "out of memory");
    }
    s->v[s->n++] = ms;
}

/* Nearest-rank percentile, p in (0, 100]. */
static double pct(struct samples *s, double p)
{
    int rank;
    if (s->n == 0)
        return 0;
    qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_double);
    rank = (int)((p / 100.0) * s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return s->v[rank - 1];
}

static void sample_free(struct samples *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
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

/*
 * Run argv with stdin from /dev/null, stdout to out_path (or /dev/null) and
 * stderr to WORKDIR/stderr.log; time it from spawn to wait4.
 */
static void run_cmd(char *const argv[], const char *out_path, struct run *r)
{
    posix_spawn_file_actions_t fa;
    char errlog[4096];
    struct rusage ru;
    pid_t pid;
    int st, rc;
    double t0;

    path_in(errlog, sizeof errlog, "stderr.log");
    if (posix_spawn_file_actions_init(&fa) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_CREAT | O_TRUNC,
                                         0644) != 0)
        die(EX_SOFTWARE, "posix_spawn_file_actions: out of memory");
    t0 = now_ms();
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    if (rc != 0)
        die(EX_UNAVAILABLE, "run %s: %s", argv[0], strerror(rc));
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            die(EX_SOFTWARE, "wait4: %s", strerror(errno));
    r->ms = now_ms() - t0;
    posix_spawn_file_actions_destroy(&fa);
    r->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    r->maxrss_kb = ru.ru_maxrss;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A failed beatbook run makes every figure meaningless: say why and stop. */
static void require_ok(const struct run *r, const char *what)
{
    char errlog[4096], line[512];
    FILE *f;

    if (r->status == 0)
        return;
    fprintf(stderr, "collector: %s exited with status %d\n", what, r->status);
    path_in(errlog, sizeof errlog, "stderr.log");
    if ((f = fopen(errlog, "r")) != NULL) {
        while (fgets(line, sizeof line, f))
            fprintf(stderr, "  %s", line);
        fclose(f);
    }
    exit(EX_UNAVAILABLE);
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

/* The pragmas the collector's store runs with (shared/bb_db.c). */
static const char durable_pragmas[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON";

/* ---- generated records ---- */

static const char *methods[] = {"stop", "remote"};
static const char *sources[] = {"police", "citizen_report"};
static const char *violations[] = {
    "red_line", "yellow_line", "double_parking", "intersection", "crosswalk",
    "fire_hydrant", "sidewalk", "arcade", "bus_stop", "accessible_space",
    "entrance", "other",
};
static const char *vehicles[] = {"car", "motorcycle", "large_vehicle"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char **segments;   /* listed road segment codes, from `beatbook ref segments` */
static size_t nsegments;

/* Collect the SEG-nnnn codes beatbook lists, so generated records are valid. */
static void load_segments(const char *beatbook)
{
    char out[4096], *text, *p;
    char *argv[] = {(char *)beatbook, "ref", "segments", NULL};
    struct run r;
    FILE *f;
    long len;

    path_in(out, sizeof out, "segments.txt");
    run_cmd(argv, out, &r);
    require_ok(&r, "beatbook ref segments");
    if (!(f = fopen(out, "r")) || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        die(EX_IOERR, "read %s: %s", out, strerror(errno));
    text = xmalloc((size_t)len + 1);
    if (fread(text, 1, (size_t)len, f) != (size_t)len)
        die(EX_IOERR, "read %s: short read", out);
    text[len] = '\0';
    fclose(f);
    segments = xmalloc(((size_t)len / 8 + 1) * sizeof *segments);
    for (p = text; (p = strstr(p, "SEG-")) != NULL; p += 4) {
        size_t n = 4;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n > 4 && (p == text || p[-1] == '\n')) {   /* a line's code column */
            segments[nsegments] = xmalloc(n + 1);
            memcpy(segments[nsegments], p, n);
            segments[nsegments++][n] = '\0';
        }
    }
    free(text);
    if (nsegments == 0)
        die(EX_UNAVAILABLE, "beatbook ref segments listed no SEG- codes");
}

/* A parking citation as an officer would enter it; seq makes it distinct. */
struct citation {
    char occurred_at[40];
    const char *method, *source, *segment, *violation, *vehicle;
    int major;
    char plate[16];
    const char *notes;
};

static void make_citation(struct citation *c, long seq)
{
    static const char *notes[] = {
        NULL, NULL, NULL, "driver not present; photo taken",
        "blocking the bus lane during the morning peak", NULL,
    };
    int day = (int)rnd(365), mon = 1, mday, hh = 7 + (int)rnd(15), mm = (int)rnd(60);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    while (day >= mdays[mon - 1])
        day -= mdays[mon++ - 1];
    mday = day + 1;
    snprintf(c->occurred_at, sizeof c->occurred_at, "2018-%02d-%02dT%02d:%02d:%02d+08:00",
             mon, mday, hh, mm, (int)(seq % 60));
    c->method = methods[rnd(NELEM(methods))];
    c->source = rnd(10) < 8 ? "police" : sources[1];
    c->segment = rnd(10) < 7 ? segments[rnd((uint32_t)nsegments)] : NULL;
    c->violation = violations[rnd(NELEM(violations))];
    c->vehicle = vehicles[rnd(NELEM(vehicles))];
    c->major = rnd(2);
    snprintf(c->plate, sizeof c->plate, "%c%c%c-%04u", 'A' + (int)rnd(26), 'A' + (int)rnd(26),
             'A' + (int)rnd(26), rnd(10000));
    c->notes = notes[rnd(NELEM(notes))];
}

/* The import file: a JSON array of {"occurred_at", "data"} objects. */
static double write_import(const char *path, int n)
{
    FILE *f = fopen(path, "w");
    struct citation c;
    struct stat sb;
    int i;

    if (!f)
        die(EX_IOERR, "create %s: %s", path, strerror(errno));
    fputs("[\n", f);
    for (i = 0; i < n; i++) {
        make_citation(&c, i);
        fprintf(f, "{\"occurred_at\":\"%s\",\"data\":{\"method\":\"%s\",\"source\":\"%s\",",
                c.occurred_at, c.method, c.source);
        if (c.segment)
            fprintf(f, "\"segment\":\"%s\",", c.segment);
        fprintf(f, "\"major\":%s,\"violation\":\"%s\",\"vehicle_type\":\"%s\",\"plate\":\"%s\"",
                c.major ? "true" : "false", c.violation, c.vehicle, c.plate);
        if (c.notes)
            fprintf(f, ",\"notes\":\"%s\"", c.notes);
        fprintf(f, "}}%s\n", i + 1 < n ? "," : "");
    }
    fputs("]\n", f);
    if (fclose(f) != 0 || stat(path, &sb) != 0)
        die(EX_IOERR, "write %s: %s", path, strerror(errno));
    return (double)sb.st_size / 1e6;
}

/* ---- machine facts ---- */

static const char *fs_name(long type)
{
    switch (type) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case (long)0x9123683E: return "btrfs";
    case 0x794c7630: return "overlayfs";
    case 0x2011BAB0: return "exfat";
    case 0x65735546: return "fuse";
    case 0x6969: return "nfs";
    default: return "unknown";
    }
}

/* ---- latency figures, sampled in interleaved rounds ---- */

/*
 * Other work on the machine comes and goes.  Measuring each figure in a
 * block of its own would let a busy minute land on one figure and not on
 * another and skew their ratio; so every round takes one sample of each
 * machine figure and of beatbook, and the percentiles compare like with
 * like.
 */
enum fig {
    F_FSYNC,        /* 4 KiB write + fsync */
    F_COMMIT,       /* SQLite durable commit on an open connection */
    F_OPEN_COMMIT,  /* the same with open and close around it */
    F_CLI_FLOOR,    /* the same in a process of its own */
    F_SPAWN,        /* posix_spawn /bin/true */
    F_VERSION,      /* beatbook --version */
    F_HELP,         /* beatbook add parking_citation --help */
    F_ADD,          /* beatbook add parking_citation FIELD=VALUE... */
    F_HELP_CPU,     /* CPU time of the --help runs */
    F_ADD_CPU,      /* CPU time of the add runs */
    NFIG
};
static struct samples fig[NFIG];
static double p50[NFIG], p99[NFIG];
static int nfig[NFIG];
static double add_rss_mb, help_rss_mb;
static double store_db_mb, store_wal_mb;   /* the add store's files after the adds */
static int bare_row_bytes;

static double kb_to_mb(long kb)
{
    return (double)kb * 1024.0 / 1e6;
}

/* A ~400-byte row: a stored parking citation is about that size. */
static void bare_row(char *out, size_t n, int seq)
{
    snprintf(out, n,
             "{\"data\":{\"major\":true,\"method\":\"stop\",\"plate\":\"ABC-%04d\","
             "\"segment\":\"SEG-0601\",\"source\":\"police\",\"vehicle_type\":\"car\","
             "\"violation\":\"red_line\"},\"device\":\"d-4dc5bb7eff96412e\","
             "\"id\":\"01a21659-f2d9-7005-bed4-%012d\",\"kind\":\"parking_citation\","
             "\"occurred_at\":\"2018-03-15T14:20:00+08:00\",\"officer\":\"A123456\","
             "\"org_unit\":\"P06-S03\",\"recorded_at\":\"2018-03-15T14:31:07+08:00\","
             "\"rev\":1,\"status\":\"final\"}",
             seq % 10000, seq);
}

/* One single-row transaction, committed as beatbook commits (BEGIN IMMEDIATE). */
static void insert_one(sqlite3 *db, sqlite3_stmt *q, int seq)
{
    char row[512];
    bare_row(row, sizeof row, seq);
    bare_row_bytes = (int)strlen(row);
    db_exec(db, "BEGIN IMMEDIATE");
    sqlite3_bind_text(q, 1, row, -1, SQLITE_TRANSIENT);
    db_check(db, sqlite3_step(q), "insert");
    sqlite3_reset(q);
    db_exec(db, "COMMIT");
}

static sqlite3 *open_bare(const char *path, int flags, sqlite3_stmt **q)
{
    sqlite3 *db = db_open(path, flags);
    db_exec(db, durable_pragmas);
    if (flags & SQLITE_OPEN_CREATE)
        db_exec(db, "CREATE TABLE IF NOT EXISTS t (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    db_check(db, sqlite3_prepare_v2(db, "INSERT INTO t (body) VALUES (?1)", -1, q, NULL),
             "prepare");
    return db;
}

/*
 * The floor of any one-process-per-record CLI on this machine: this program
 * re-executed to open the database, commit one row durably, close and exit,
 * linking SQLite dynamically as beatbook does.  The close is SQLite's
 * default: the last connection checkpoints the WAL and deletes it.
 */
static int child_commit(const char *path)
{
    sqlite3_stmt *q;
    sqlite3 *db = open_bare(path, SQLITE_OPEN_READWRITE, &q);

    insert_one(db, q, (int)getpid());
    sqlite3_finalize(q);
    db_check(db, sqlite3_close(db), "close");
    return 0;
}

static void init_store(const char *beatbook, const char *name, char *home, size_t n)
{
    char *argv[] = {(char *)beatbook, "init", "--officer", "A123456", "--org-unit", "P06-S03",
                    NULL};
    struct run r;

    path_in(home, n, name);
    if (setenv("BEATBOOK_HOME", home, 1) != 0)
        die(EX_SOFTWARE, "setenv: %s", strerror(errno));
    run_cmd(argv, NULL, &r);
    require_ok(&r, "beatbook init");
}

/* `beatbook add parking_citation` with the fields an officer types. */
static void add_once(const char *beatbook, long seq, struct run *r)
{
    char a[8][80];
    char *argv[12];
    struct citation c;
    int j, k = 0;

    make_citation(&c, seq);
    snprintf(a[0], sizeof a[0], "occurred_at=%s", c.occurred_at);
    snprintf(a[1], sizeof a[1], "method=%s", c.method);
    snprintf(a[2], sizeof a[2], "source=%s", c.source);
    snprintf(a[3], sizeof a[3], "segment=%s", segments[rnd((uint32_t)nsegments)]);
    snprintf(a[4], sizeof a[4], "major=%s", c.major ? "true" : "false");
    snprintf(a[5], sizeof a[5], "violation=%s", c.violation);
    snprintf(a[6], sizeof a[6], "vehicle_type=%s", c.vehicle);
    snprintf(a[7], sizeof a[7], "plate=%s", c.plate);
    argv[k++] = (char *)beatbook;
    argv[k++] = "add";
    argv[k++] = "parking_citation";
    for (j = 0; j < 8; j++)
        argv[k++] = a[j];
    argv[k] = NULL;
    run_cmd(argv, NULL, r);
    require_ok(r, "beatbook add parking_citation");
}

/*
 * n_rounds rounds, after 6 of warm-up.  Each round: one fsync and one
 * durable commit; then two rounds in three one `beatbook add`, and the
 * third the references that explain it (spawn of /bin/true, beatbook
 * --version and add --help, open + commit + close in this process and in a
 * process of its own).  The persistent connection and the open/close
 * figures use separate files, so the open/close ones are each the last
 * connection, as in beatbook.
 */
static void bench_rounds(const char *beatbook)
{
    char fpath[4096], bare[4096], cli[4096], home[4096], self[4096], buf[4096];
    char *truev[] = {"/bin/true", NULL};
    char *floorv[] = {self, "--child-commit", cli, NULL};
    char *verv[] = {(char *)beatbook, "--version", NULL};
    char *helpv[] = {(char *)beatbook, "add", "parking_citation", "--help", NULL};
    long add_rss = 0, help_rss = 0, seq = 0;
    int have_true = access(truev[0], X_OK) == 0, fd, i;
    sqlite3 *db, *db2;
    sqlite3_stmt *q, *q2;
    struct run r;
    ssize_t n;
    double t0;

    memset(buf, 'x', sizeof buf);
    path_in(fpath, sizeof fpath, "fsync.dat");
    if ((fd = open(fpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        die(EX_IOERR, "create %s: %s", fpath, strerror(errno));
    path_in(bare, sizeof bare, "bare.db");
    db = open_bare(bare, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &q);
    path_in(cli, sizeof cli, "cli.db");
    db2 = open_bare(cli, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &q2);
    sqlite3_finalize(q2);
    sqlite3_close(db2);
    if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0)
        self[0] = '\0';   /* not Linux: that figure is left out */
    else
        self[n] = '\0';
    /*
     * A store in use is never empty, and some costs grow with what it holds
     * (indexes, a WAL left behind): add to one that has n_prefill records,
     * put there by the import as an officer would load past entries.
     */
    init_store(beatbook, "add-store", home, sizeof home);
    {
        char *impv[] = {(char *)beatbook, "add", "parking_citation", "--json", buf, NULL};
        path_in(buf, sizeof buf, "prefill.json");
        write_import(buf, n_prefill);
        run_cmd(impv, NULL, &r);
        require_ok(&r, "beatbook add parking_citation --json (prefill)");
        unlink(buf);
        memset(buf, 'x', sizeof buf);
    }

    for (i = -6; i < n_rounds; i++) {
        int keep = i >= 0;

        t0 = now_ms();   /* 4 KiB appended and fsync'd, as a WAL append is */
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd) != 0)
            die(EX_IOERR, "write %s: %s", fpath, strerror(errno));
        if (keep)
            sample_add(&fig[F_FSYNC], now_ms() - t0);

        t0 = now_ms();
        insert_one(db, q, (int)++seq);
        if (keep)
            sample_add(&fig[F_COMMIT], now_ms() - t0);

        if ((i + 6) % 3 != 2) {
            add_once(beatbook, seq, &r);
            if (keep) {
                sample_add(&fig[F_ADD], r.ms);
                sample_add(&fig[F_ADD_CPU], r.cpu_ms);
                if (r.maxrss_kb > add_rss)
                    add_rss = r.maxrss_kb;
            }
            continue;
        }

        t0 = now_ms();
        db2 = open_bare(cli, SQLITE_OPEN_READWRITE, &q2);
        insert_one(db2, q2, (int)++seq);
        sqlite3_finalize(q2);
        db_check(db2, sqlite3_close(db2), "close");
        if (keep)
            sample_add(&fig[F_OPEN_COMMIT], now_ms() - t0);

        if (self[0]) {
            run_cmd(floorv, NULL, &r);
            if (r.status != 0)
                die(EX_SOFTWARE, "%s --child-commit: exit status %d", self, r.status);
            if (keep)
                sample_add(&fig[F_CLI_FLOOR], r.ms);
        }
        if (have_true) {
            run_cmd(truev, NULL, &r);
            if (keep)
                sample_add(&fig[F_SPAWN], r.ms);
        }
        run_cmd(verv, NULL, &r);
        require_ok(&r, "beatbook --version");
        if (keep)
            sample_add(&fig[F_VERSION], r.ms);
        run_cmd(helpv, NULL, &r);
        require_ok(&r, "beatbook add parking_citation --help");
        if (keep) {
            sample_add(&fig[F_HELP], r.ms);
            sample_add(&fig[F_HELP_CPU], r.cpu_ms);
            if (r.maxrss_kb > help_rss)
                help_rss = r.maxrss_kb;
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    close(fd);
    for (i = 0; i < NFIG; i++) {
        p50[i] = pct(&fig[i], 50);
        p99[i] = pct(&fig[i], 99);
        nfig[i] = fig[i].n;
        sample_free(&fig[i]);
    }
    add_rss_mb = kb_to_mb(add_rss);
    help_rss_mb = kb_to_mb(help_rss);
    /* A WAL left behind is read in full by the next process that opens it. */
    {
        char f[4200];
        struct stat sb;
        snprintf(f, sizeof f, "%s/field.db", home);
        store_db_mb = stat(f, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
        snprintf(f, sizeof f, "%s/field.db-wal", home);
        store_wal_mb = stat(f, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
    }
}

/* ---- import and the raw insert of the same rows ---- */

static double import_s, import_cpu_s, import_rss_mb, import_file_mb, raw_s;
static double raw_bytes_per_rec;

struct rows {
    char **rec;      /* records: 10 columns per row, as text (NULL for NULL) */
    char **rev;      /* revisions: id, rev, status, recorded_at, body */
    long nrec, nrev;
};

static char **read_rows(sqlite3 *db, const char *sql, int ncol, long *n)
{
    sqlite3_stmt *q;
    char **out = NULL;
    long cap = 0;
    int rc, i;

    *n = 0;
    db_check(db, sqlite3_prepare_v2(db, sql, -1, &q, NULL), sql);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 1024;
            out = realloc(out, (size_t)cap * (size_t)ncol * sizeof *out);
            if (!out)
                die(EX_SOFTWARE, "out of memory");
        }
        for (i = 0; i < ncol; i++) {
            const unsigned char *t = sqlite3_column_text(q, i);
            out[*n * ncol + i] = t ? xstrdup((const char *)t) : NULL;
        }
        (*n)++;
    }
    db_check(db, rc, sql);
    sqlite3_finalize(q);
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Create the collector's schema from its migration files, in order. */
static void apply_migrations(sqlite3 *db, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[256], path[4096];
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
        FILE *f;
        char *sql;
        long len;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!(f = fopen(path, "r")) || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0)
            die(EX_IOERR, "read %s: %s", path, strerror(errno));
        sql = xmalloc((size_t)len + 1);
        if (fread(sql, 1, (size_t)len, f) != (size_t)len)
            die(EX_IOERR, "read %s: short read", path);
        sql[len] = '\0';
        fclose(f);
        db_exec(db, sql);
        free(sql);
        free(names[i]);
    }
}

static void bind_col(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

/*
 * The machine's limit for these rows: the same records and revisions rows,
 * into the same schema, with the same pragmas, in one transaction through
 * prepared statements reused for every row.
 */
static double raw_insert(const char *migrations, struct rows *rows, const char *name)
{
    char path[4096];
    sqlite3 *db;
    sqlite3_stmt *qr, *qv;
    double t0;
    long i;
    int c;

    path_in(path, sizeof path, name);
    db = db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db_exec(db, durable_pragmas);
    apply_migrations(db, migrations);
    db_check(db, sqlite3_prepare_v2(db,
             "INSERT INTO records (id, kind, rev, status, org_unit, officer, occurred_at,"
             " occurred_unix, recorded_at, body) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
             -1, &qr, NULL), "prepare records insert");
    db_check(db, sqlite3_prepare_v2(db,
             "INSERT INTO revisions (id, rev, status, recorded_at, body)"
             " VALUES (?1,?2,?3,?4,?5)", -1, &qv, NULL), "prepare revisions insert");
    t0 = now_ms();
    db_exec(db, "BEGIN IMMEDIATE");
    for (i = 0; i < rows->nrec; i++) {
        for (c = 0; c < 10; c++)
            bind_col(qr, c + 1, rows->rec[i * 10 + c]);
        /* Integer columns bound as integers, as the collector does. */
        sqlite3_bind_int64(qr, 3, atoll(rows->rec[i * 10 + 2]));
        sqlite3_bind_int64(qr, 8, atoll(rows->rec[i * 10 + 7]));
        db_check(db, sqlite3_step(qr), "insert record");
        sqlite3_reset(qr);
    }
    for (i = 0; i < rows->nrev; i++) {
        for (c = 0; c < 5; c++)
            bind_col(qv, c + 1, rows->rev[i * 5 + c]);
        sqlite3_bind_int64(qv, 2, atoll(rows->rev[i * 5 + 1]));
        db_check(db, sqlite3_step(qv), "insert revision");
        sqlite3_reset(qv);
    }
    db_exec(db, "COMMIT");
    t0 = (now_ms() - t0) / 1e3;
    sqlite3_finalize(qr);
    sqlite3_finalize(qv);
    sqlite3_close(db);
    return t0;
}

static void bench_import(const char *beatbook, const char *migrations)
{
    char home[4096], file[4096], dbpath[4200];
    char *argv[] = {(char *)beatbook, "add", "parking_citation", "--json", file, NULL};
    struct rows rows = {0};
    struct run r;
    sqlite3 *db;
    double body_bytes = 0, t;
    long i;

    path_in(file, sizeof file, "import.json");
    import_file_mb = write_import(file, n_import);
    init_store(beatbook, "import-store", home, sizeof home);
    run_cmd(argv, NULL, &r);
    require_ok(&r, "beatbook add parking_citation --json");
    import_s = r.ms / 1e3;
    import_cpu_s = r.cpu_ms / 1e3;
    import_rss_mb = kb_to_mb(r.maxrss_kb);
    unlink(file);

    /* Read back exactly what was stored: the raw insert writes the same bytes. */
    snprintf(dbpath, sizeof dbpath, "%s/field.db", home);
    db = db_open(dbpath, SQLITE_OPEN_READONLY);
    rows.rec = read_rows(db, "SELECT id, kind, rev, status, org_unit, officer, occurred_at,"
                             " occurred_unix, recorded_at, body FROM records ORDER BY rowid",
                         10, &rows.nrec);
    rows.rev = read_rows(db, "SELECT id, rev, status, recorded_at, body FROM revisions"
                             " ORDER BY seq", 5, &rows.nrev);
    sqlite3_close(db);
    if (rows.nrec != n_import || rows.nrev != n_import)
        die(EX_UNAVAILABLE, "the import stored %ld records and %ld revisions, not %d",
            rows.nrec, rows.nrev, n_import);
    for (i = 0; i < rows.nrec; i++)
        body_bytes += (double)strlen(rows.rec[i * 10 + 9]);
    raw_bytes_per_rec = body_bytes / (double)rows.nrec;

    /* Best of two: the limit is what the machine can do, not an unlucky moment. */
    raw_s = raw_insert(migrations, &rows, "raw1.db");
    t = raw_insert(migrations, &rows, "raw2.db");
    if (t < raw_s)
        raw_s = t;
    for (i = 0; i < rows.nrec * 10; i++)
        free(rows.rec[i]);
    for (i = 0; i < rows.nrev * 5; i++)
        free(rows.rev[i]);
    free(rows.rec);
    free(rows.rev);
}

/* ---- report ---- */

/* A latency figure with its sample count; left out when it was not measured. */
static void fig_row(const char *label, enum fig f)
{
    char l[128];
    if (nfig[f] == 0)
        return;
    snprintf(l, sizeof l, "%s (n=%d)", label, nfig[f]);
    printf("  %-56s %7.3f ms %7.3f ms\n", l, p50[f], p99[f]);
}

static void goal_row(const char *figure, const char *value, const char *goal, int met)
{
    printf("  %-44s %12s %10s  %s\n", figure, value, goal,
           met < 0 ? "-" : met ? "yes" : "no");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"beatbook", required_argument, NULL, 'b'},
        {"migrations", required_argument, NULL, 'm'},
        {"dir", required_argument, NULL, 'd'},
        {"quick", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *beatbook = NULL, *migrations = NULL;
    struct utsname un;
    struct statfs sf;
    char v[128], fsdesc[64];
    double t_start = now_ms(), ratio, bulk_rate, raw_rate;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int c;

    if (argc == 3 && strcmp(argv[1], "--child-commit") == 0)
        return child_commit(argv[2]);   /* bench_rounds() runs us so */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': beatbook = optarg; break;
        case 'm': migrations = optarg; break;
        case 'd': workdir = optarg; break;
        case 'q':   /* a smoke run of the benchmark itself; figures are rough */
            n_rounds = 30;
            n_import = 5000;
            n_prefill = 500;
            break;
        case 'h':
            printf("usage: collector --beatbook BIN --migrations DIR --dir WORKDIR [--quick]\n"
                   "Benchmark `beatbook add` and the JSON import against this machine's fsync\n"
                   "and SQLite limits, measured in WORKDIR.  Prints figures; asserts nothing.\n");
            return 0;
        default:
            return EX_USAGE;
        }
    }
    if (!beatbook || !migrations || !workdir || optind != argc) {
        fprintf(stderr, "usage: collector --beatbook BIN --migrations DIR --dir WORKDIR [--quick]\n");
        return EX_USAGE;
    }
    if (access(beatbook, X_OK) != 0)
        die(EX_UNAVAILABLE, "%s: %s (build it first)", beatbook, strerror(errno));
    if (mkdir(workdir, 0700) != 0 && errno != EEXIST)
        die(EX_IOERR, "create %s: %s", workdir, strerror(errno));
    /*
     * Children must never touch a real store (BEATBOOK_HOME, else ~/.local/
     * share/beatbook) nor inherit settings that change what is measured.
     */
    {
        char home[4096];
        path_in(home, sizeof home, "no-store");
        if (setenv("BEATBOOK_HOME", home, 1) != 0)
            die(EX_SOFTWARE, "setenv: %s", strerror(errno));
    }
    unsetenv("BEATBOOK_BUSY_TIMEOUT_MS");
    setenv("LANG", "C.UTF-8", 1);

    load_segments(beatbook);
    bench_rounds(beatbook);
    bench_import(beatbook, migrations);

    if (uname(&un) != 0)
        memset(&un, 0, sizeof un);
    if (statfs(workdir, &sf) == 0)
        snprintf(fsdesc, sizeof fsdesc, "%s", fs_name((long)sf.f_type));
    else
        snprintf(fsdesc, sizeof fsdesc, "?");

    printf("beatbook collector benchmark: figures, not a test (exit 0 whatever they are)\n");
    printf("  beatbook  %s\n", beatbook);
    printf("  machine   %ld CPUs, %s %s, SQLite %s, work folder %s (%s)\n\n", ncpu, un.sysname,
           un.release, sqlite3_libversion(), workdir, fsdesc);

    printf("%-58s %10s %10s\n", "machine limits, measured now on the same filesystem",
           "p50", "p99");
    fig_row("4 KiB write + fsync, plain file", F_FSYNC);
    fig_row("posix_spawn /bin/true + wait", F_SPAWN);
    snprintf(v, sizeof v, "SQLite durable commit, %d B row, open db", bare_row_bytes);
    fig_row(v, F_COMMIT);
    fig_row("SQLite open + that commit + close", F_OPEN_COMMIT);
    fig_row("spawn + that open + commit + close + exit", F_CLI_FLOOR);
    printf("  (WAL, synchronous=FULL; the last close checkpoints and deletes the WAL)\n\n");

    printf("%-58s %10s %10s\n", "beatbook add parking_citation, wall time per call", "p50",
           "p99");
    snprintf(v, sizeof v, "add, 8 fields, to a store of %d records", n_prefill);
    fig_row(v, F_ADD);
    fig_row("  start-up: --version (exec + dynamic linking)", F_VERSION);
    fig_row("  start-up: add --help (+ catalog load)", F_HELP);
    printf("  start-up share of add p50: %.0f%% linking, %.0f%% with the catalog;"
           " CPU time p50:\n  add %.3f ms, add --help %.3f ms.  Store after the adds:"
           " field.db %.2f MB, WAL %.2f MB\n\n",
           p50[F_ADD] > 0 ? 100.0 * p50[F_VERSION] / p50[F_ADD] : 0,
           p50[F_ADD] > 0 ? 100.0 * p50[F_HELP] / p50[F_ADD] : 0, p50[F_ADD_CPU],
           p50[F_HELP_CPU], store_db_mb, store_wal_mb);

    bulk_rate = import_s > 0 ? n_import / import_s : 0;
    raw_rate = raw_s > 0 ? n_import / raw_s : 0;
    printf("import: beatbook add parking_citation --json, %d records (%.1f MB file)\n",
           n_import, import_file_mb);
    printf("  beatbook import    %10.0f records/s  (%.2f s wall, %.2f s CPU)\n", bulk_rate,
           import_s, import_cpu_s);
    printf("  raw SQLite insert  %10.0f records/s  (best of 2, %.2f s: the same rows into\n"
           "                     records + revisions, same schema and pragmas, 1 transaction,\n"
           "                     prepared statements; %.0f B of JSON per record)\n\n",
           raw_rate, raw_s, raw_bytes_per_rec);

    printf("  %-44s %12s %10s  %s\n", "figure", "value", "goal", "met");
    ratio = p50[F_COMMIT] > 0 ? p50[F_ADD] / p50[F_COMMIT] : 0;
    snprintf(v, sizeof v, "%.1fx", ratio);
    goal_row("add p50 / durable commit p50", v, "<= 5x", ratio > 0 && ratio <= 5.0);
    snprintf(v, sizeof v, "%.1fx", p50[F_FSYNC] > 0 ? p50[F_ADD] / p50[F_FSYNC] : 0);
    goal_row("add p50 / fsync p50", v, "", -1);
    if (p50[F_CLI_FLOOR] > 0) {
        snprintf(v, sizeof v, "%.1fx", p50[F_ADD] / p50[F_CLI_FLOOR]);
        goal_row("add p50 / spawned open+commit+close p50", v, "", -1);
    }
    snprintf(v, sizeof v, "%.2f MB", store_wal_mb);
    goal_row("WAL left beside the store after the adds", v, "", -1);
    snprintf(v, sizeof v, "%.2f", raw_rate > 0 ? bulk_rate / raw_rate : 0);
    goal_row("import rate / raw insert rate", v, ">= 0.5",
             raw_rate > 0 && bulk_rate / raw_rate >= 0.5);
    snprintf(v, sizeof v, "%.1f MB", add_rss_mb);
    goal_row("add peak RSS (max of calls)", v, "<= 8 MB", add_rss_mb <= 8.0);
    snprintf(v, sizeof v, "%.1f MB", help_rss_mb);
    goal_row("start-up peak RSS (add --help)", v, "", -1);
    snprintf(v, sizeof v, "%.0f MB", import_rss_mb);
    goal_row("import peak RSS", v, "", -1);
    snprintf(v, sizeof v, "%.1fx", import_file_mb > 0 ? import_rss_mb / import_file_mb : 0);
    goal_row("import peak RSS / import file size", v, "", -1);
    printf("\n(run took %.0f s; MB = 10^6 bytes; percentiles nearest-rank)\n",
           (now_ms() - t_start) / 1e3);
    return 0;
}
