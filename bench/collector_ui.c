/*
 * bench/collector_ui.c — `beatbook ui`, the forms page, against this
 * machine's own floor measured in the same run on the same filesystem
 * (DESIGN.md §10).  Prints figures, asserts nothing: exit 0 whatever they
 * are, non-zero only when the benchmark cannot run.
 *
 *   collector_ui --beatbook BIN --dir WORKDIR [--quick]
 *
 * What is measured:
 *   start    `beatbook ui --no-browser --port 0` from posix_spawn to the
 *            first page served: the address read from its stdout, the secret
 *            exchanged for the cookie (GET /?s=…, 303), GET / answered in
 *            full.  Goal ≤ 100 ms.
 *   save     POST /api/records of one parking citation (as the page sends
 *            it: cookie, CSRF token, JSON answers) until the 201 is read:
 *            validated, saved in one durable transaction, answered.  Against
 *            a durable SQLite commit (WAL, synchronous=FULL, BEGIN IMMEDIATE,
 *            one ~400-byte row, the method of bench/collector.c) on an open
 *            connection, and with open + close around it (the page opens the
 *            store per request, so that the CLI can write meanwhile).
 *   memory   VmRSS and VmHWM of the server after the saves.  Goal ≤ 16 MB.
 *
 * One TCP connection per request, loopback.  Percentiles are nearest-rank.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_IOERR 74

static int n_starts = 20, n_saves = 200, n_commits = 300;

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("bench/collector_ui: ", stderr);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    int k;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    k = (int)(p / 100.0 * n + 0.999999) - 1;
    return v[k < 0 ? 0 : (k >= n ? n - 1 : k)];
}

/* ---- the floor: a durable SQLite commit ---- */

static void db_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(EX_IOERR, "%s: %s", sql, sqlite3_errmsg(db));
}

static sqlite3 *open_bare(const char *path, sqlite3_stmt **q)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die(EX_IOERR, "open %s", path);
    sqlite3_busy_timeout(db, 10000);
    db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
    db_exec(db, "CREATE TABLE IF NOT EXISTS t (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    if (sqlite3_prepare_v2(db, "INSERT INTO t (body) VALUES (?1)", -1, q, NULL) != SQLITE_OK)
        die(EX_IOERR, "prepare: %s", sqlite3_errmsg(db));
    return db;
}

static void commit_one(sqlite3 *db, sqlite3_stmt *q, int seq)
{
    char row[512];
    snprintf(row, sizeof row,
             "{\"data\":{\"major\":true,\"method\":\"stop\",\"segment\":\"SEG-0601\","
             "\"source\":\"police\",\"violation\":\"red_line\"},\"device\":\"d-4dc5bb7eff96412e\","
             "\"id\":\"01a21659-f2d9-7005-bed4-%012d\",\"kind\":\"parking_citation\","
             "\"kind_version\":2,\"occurred_at\":\"2018-03-15T14:20:00+08:00\","
             "\"officer\":\"A123456\",\"org_unit\":\"P06-S03\","
             "\"recorded_at\":\"2018-03-15T14:31:07+08:00\",\"rev\":1,\"status\":\"final\"}",
             seq);
    db_exec(db, "BEGIN IMMEDIATE");
    sqlite3_bind_text(q, 1, row, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE)
        die(EX_IOERR, "insert: %s", sqlite3_errmsg(db));
    sqlite3_reset(q);
    db_exec(db, "COMMIT");
}

/* ---- a tiny HTTP/1.1 client: one connection per request ---- */

struct reply {
    int status;
    char head[4096];
    char *body;
    size_t len;
};

static void http(int port, const char *method, const char *path, const char *headers,
                 const char *body, struct reply *r)
{
    struct sockaddr_in sa;
    char req[8192];
    size_t cap = 65536, len = 0, blen = body ? strlen(body) : 0;
    char *buf = malloc(cap), *sep;
    int fd, n;

    if (!buf)
        die(EX_UNAVAILABLE, "out of memory");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die(EX_UNAVAILABLE, "connect 127.0.0.1:%d: %s", port, strerror(errno));
    n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                 "%s", method, path, port, headers ? headers : "");
    if (body)
        n += snprintf(req + n, sizeof req - (size_t)n, "Content-Length: %zu\r\n\r\n%s", blen,
                      body);
    else
        n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    if (write(fd, req, (size_t)n) != n)
        die(EX_IOERR, "send: %s", strerror(errno));
    for (;;) {
        ssize_t k;
        if (len + 4096 > cap && !(buf = realloc(buf, cap *= 2)))
            die(EX_UNAVAILABLE, "out of memory");
        k = read(fd, buf + len, cap - len - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    r->status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &r->status);
    sep = strstr(buf, "\r\n\r\n");
    snprintf(r->head, sizeof r->head, "%.*s", sep ? (int)(sep - buf) : (int)len, buf);
    r->body = buf;
    r->len = len;
}

/* ---- the server ---- */

struct server {
    pid_t pid;
    int port;
    char secret[80];
    char cookie[160];
    char csrf[80];
};

static void start_server(const char *beatbook, const char *home, struct server *s)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)beatbook, "--lang", "en", "ui", "--no-browser", "--port", "0", NULL};
    char line[512], *p;
    int pipefd[2];
    FILE *f;

    if (setenv("BEATBOOK_HOME", home, 1) != 0 || pipe(pipefd) != 0)
        die(EX_UNAVAILABLE, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&s->pid, beatbook, &fa, NULL, argv, environ) != 0)
        die(EX_UNAVAILABLE, "start %s", beatbook);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    f = fdopen(pipefd[0], "r");
    if (!f || !fgets(line, sizeof line, f) || !(p = strstr(line, "http://127.0.0.1:")))
        die(EX_UNAVAILABLE, "beatbook ui printed no address");
    if (sscanf(p, "http://127.0.0.1:%d/?s=%64[0-9a-f]", &s->port, s->secret) != 2)
        die(EX_UNAVAILABLE, "beatbook ui printed %s", line);
    fclose(f);
}

/* GET /?s=SECRET → cookie; GET / (the first page).  Returns when it is read. */
static void enter(struct server *s)
{
    struct reply r;
    char path[128], hdr[200], *c, *end;

    snprintf(path, sizeof path, "/?s=%s", s->secret);
    http(s->port, "GET", path, NULL, NULL, &r);
    if (r.status != 303 || !(c = strstr(r.head, "Set-Cookie: ")))
        die(EX_UNAVAILABLE, "secret exchange: %d", r.status);
    c += strlen("Set-Cookie: ");
    end = strchr(c, ';');
    snprintf(s->cookie, sizeof s->cookie, "%.*s", end ? (int)(end - c) : 60, c);
    free(r.body);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", s->cookie);
    http(s->port, "GET", "/", hdr, NULL, &r);
    if (r.status != 200 || !strstr(r.body, "app.js"))
        die(EX_UNAVAILABLE, "first page: %d", r.status);
    free(r.body);
}

static void stop_server(struct server *s)
{
    int st;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &st, 0);
}

static long status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    long v = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtol(line + strlen(key), NULL, 10);
    fclose(f);
    return v;
}

static void run_cmd(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        die(EX_UNAVAILABLE, "start %s", argv[0]);
    posix_spawn_file_actions_destroy(&fa);
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die(EX_UNAVAILABLE, "%s %s failed", argv[0], argv[1]);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"beatbook", required_argument, NULL, 'b'},
        {"dir", required_argument, NULL, 'd'},
        {"quick", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *beatbook = NULL, *dir = NULL;
    char home[4096], bare[4096], hdr[512];
    double *start_ms, *url_ms, *save_ms, *commit_ms, *occ_ms;
    struct server s;
    struct reply r;
    sqlite3_stmt *q;
    sqlite3 *db;
    int c, i;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': beatbook = optarg; break;
        case 'd': dir = optarg; break;
        case 'q': n_starts = 5; n_saves = 30; n_commits = 30; break;
        default: die(EX_USAGE, "usage: collector_ui --beatbook BIN --dir WORKDIR [--quick]");
        }
    }
    if (!beatbook || !dir)
        die(EX_USAGE, "usage: collector_ui --beatbook BIN --dir WORKDIR [--quick]");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        die(EX_IOERR, "mkdir %s: %s", dir, strerror(errno));
    snprintf(home, sizeof home, "%s/home", dir);
    snprintf(bare, sizeof bare, "%s/bare.db", dir);
    start_ms = calloc((size_t)n_starts, sizeof *start_ms);
    url_ms = calloc((size_t)n_starts, sizeof *url_ms);
    save_ms = calloc((size_t)n_saves, sizeof *save_ms);
    commit_ms = calloc((size_t)n_commits, sizeof *commit_ms);
    occ_ms = calloc((size_t)n_commits, sizeof *occ_ms);
    if (!start_ms || !url_ms || !save_ms || !commit_ms || !occ_ms)
        die(EX_UNAVAILABLE, "out of memory");
    if (setenv("BEATBOOK_HOME", home, 1) != 0)
        die(EX_UNAVAILABLE, "setenv");
    {
        char *init[] = {(char *)beatbook, "init", "--officer", "A123456", "--org-unit", "P06-S03",
                        NULL};
        run_cmd(init);
    }

    /* The floor, on the same disk: a durable commit, on an open connection and with
     * open + close around it; interleaved with nothing else. */
    db = open_bare(bare, &q);
    for (i = 0; i < n_commits; i++) {
        double t0 = now_ms();
        commit_one(db, q, i);
        commit_ms[i] = now_ms() - t0;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    for (i = 0; i < n_commits; i++) {
        double t0 = now_ms();
        db = open_bare(bare, &q);
        commit_one(db, q, n_commits + i);
        sqlite3_finalize(q);
        sqlite3_close(db);
        occ_ms[i] = now_ms() - t0;
    }

    /* Start to first page. */
    for (i = 0; i < n_starts; i++) {
        double t0 = now_ms();
        start_server(beatbook, home, &s);
        url_ms[i] = now_ms() - t0;
        enter(&s);
        start_ms[i] = now_ms() - t0;
        stop_server(&s);
    }

    /* Form post to durable save. */
    start_server(beatbook, home, &s);
    enter(&s);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", s.cookie);
    http(s.port, "GET", "/api/session", hdr, NULL, &r);
    {
        char *p = strstr(r.body, "\"csrf\":\"");
        if (r.status != 200 || !p)
            die(EX_UNAVAILABLE, "GET /api/session: %d", r.status);
        snprintf(s.csrf, sizeof s.csrf, "%.64s", p + 8);
    }
    free(r.body);
    snprintf(hdr, sizeof hdr,
             "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: application/json\r\n"
             "Origin: http://127.0.0.1:%d\r\nX-BB-Lang: en\r\n", s.cookie, s.csrf, s.port);
    for (i = 0; i < n_saves; i++) {
        static const char body[] =
            "{\"mode\":\"new\",\"kind\":\"parking_citation\",\"answers\":{\"method\":\"stop\","
            "\"source\":\"police\",\"segment\":\"SEG-0601\",\"major\":\"yes\","
            "\"violation\":\"red_line\",\"vehicle_type\":\"car\",\"plate\":\"ABC-1234\","
            "\"occurred_at\":\"2018-03-15 14:20\"}}";
        double t0 = now_ms();
        http(s.port, "POST", "/api/records", hdr, body, &r);
        save_ms[i] = now_ms() - t0;
        if (r.status != 201)
            die(EX_UNAVAILABLE, "POST /api/records: %d %s", r.status, r.body);
        free(r.body);
    }
    {
        long rss = status_kb(s.pid, "VmRSS:"), hwm = status_kb(s.pid, "VmHWM:");
        double c50 = pct(commit_ms, n_commits, 50), c99 = pct(commit_ms, n_commits, 99);
        double o50 = pct(occ_ms, n_commits, 50);
        double s50 = pct(save_ms, n_saves, 50), s99 = pct(save_ms, n_saves, 99);

        printf("beatbook ui (the forms page), %d starts, %d saves, %d commits\n", n_starts,
               n_saves, n_commits);
        printf("  %-52s %8.2f ms p50  %8.2f ms p99\n", "machine: SQLite durable commit, open db",
               c50, c99);
        printf("  %-52s %8.2f ms p50\n", "machine: open + durable commit + close", o50);
        printf("  %-52s %8.2f ms p50  %8.2f ms max  (goal <= 100 ms)\n",
               "start to first page served", pct(start_ms, n_starts, 50),
               pct(start_ms, n_starts, 100));
        printf("  %-52s %8.2f ms p50\n", "  of which: start to address printed",
               pct(url_ms, n_starts, 50));
        printf("  %-52s %8.2f ms p50  %8.2f ms p99\n", "form post to durable save (201 read)",
               s50, s99);
        printf("  %-52s %8.2fx p50  %8.2fx p99\n", "  / durable commit on an open db", s50 / c50,
               s99 / c99);
        printf("  %-52s %8.2fx p50\n", "  / open + durable commit + close", s50 / o50);
        printf("  %-52s %8.1f MB      %8.1f MB peak  (goal <= 16 MB)\n", "server RSS after saves",
               (double)rss / 1024.0, (double)hwm / 1024.0);
    }
    stop_server(&s);
    return 0;
}
