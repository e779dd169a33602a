/*
 * bench/kpi.c — the tool behind bench/kpi.sh: how fast `beatbook-hq kpi`
 * answers from the incremental facts compared with the same numbers
 * computed by a naive GROUP BY over the raw records, in the same run on the
 * same store (DESIGN.md §7: "costs milliseconds for a whole year of a whole
 * city"), and synthetic field records for the ingest half of the benchmark.
 * It prints figures and asserts nothing; it exits non-zero only when the
 * benchmark cannot run, or when the two ways disagree on a number.
 *
 *   kpi gen --db HQ.DB --records N [--seed S]
 *       N synthetic final records of the six KPI kinds, 2016-2018, spread
 *       over every station of P01-P15 and the traffic brigade, written
 *       straight into an HQ store's `records` and `revisions` (one device,
 *       one batch), in transactions of 100,000.  The store's plans and facts
 *       are removed first: `beatbook-hq plan load --builtin taichung-107`
 *       afterwards computes the facts from these records.
 *   kpi query --db HQ.DB --hq BIN --data DIR [--period 2018] [--rounds R]
 *       times `BIN kpi --period P --org X --format json` for the city and
 *       each of P01-P15 (R rounds, best taken), then computes every count
 *       those scorecards rest on with GROUP BY over `records` (json_extract
 *       on each body, as one would without facts; one scan per input and
 *       period covers all units at once), checks that both agree, and prints
 *       the times and their ratio.
 *   kpi imports --dir DIR --count N --precinct PNN [--seed S]
 *       import files (KIND.json) of N records for `beatbook add KIND --json`
 *       on a laptop of precinct PNN, for the ingest benchmark.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_SOFTWARE 70

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("bench kpi: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the same records for the same seed. */
static uint64_t rng_state = 107;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static unsigned rndn(unsigned n) { return (unsigned)(rnd() % n); }

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(EX_SOFTWARE, "%s: %s", sql, msg ? msg : "?");
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die(EX_SOFTWARE, "prepare %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

/* ---- the org units and lists (as in schema/reference) ------------------------ */

/* Stations per precinct P01..P15 (schema/reference/units.json). */
static const int n_stations[15] = {4, 4, 5, 4, 5, 5, 11, 7, 7, 9, 9, 7, 9, 5, 5};
#define N_INTERSECTIONS 25
#define N_SEGMENTS 60
static const char *const segments[N_SEGMENTS] = {
    "SEG-0101", "SEG-0102", "SEG-0103", "SEG-0104", "SEG-0105", "SEG-0201", "SEG-0202",
    "SEG-0203", "SEG-0204", "SEG-0301", "SEG-0302", "SEG-0303", "SEG-0304", "SEG-0401",
    "SEG-0402", "SEG-0403", "SEG-0404", "SEG-0501", "SEG-0502", "SEG-0503", "SEG-0504",
    "SEG-0601", "SEG-0602", "SEG-0603", "SEG-0604", "SEG-0605", "SEG-0701", "SEG-0702",
    "SEG-0703", "SEG-0704", "SEG-0801", "SEG-0802", "SEG-0803", "SEG-0804", "SEG-0901",
    "SEG-0902", "SEG-0903", "SEG-0904", "SEG-1001", "SEG-1002", "SEG-1003", "SEG-1004",
    "SEG-1101", "SEG-1102", "SEG-1103", "SEG-1104", "SEG-1201", "SEG-1202", "SEG-1203",
    "SEG-1301", "SEG-1302", "SEG-1303", "SEG-1304", "SEG-1401", "SEG-1402", "SEG-1403",
    "SEG-1501", "SEG-1502", "SEG-1503", "SEG-1504"};

static void random_unit(char *out, size_t size)
{
    unsigned p = rndn(16);
    if (p == 15)
        snprintf(out, size, "TB");
    else
        snprintf(out, size, "P%02u-S%02u", p + 1, 1 + rndn((unsigned)n_stations[p]));
}

/* A Taipei time in [2016-01-01, 2019-01-01): text and Unix seconds. */
static int64_t random_time(char out[32])
{
    const int64_t from = 1451577600;        /* 2016-01-01T00:00:00+08:00 */
    const int64_t span = 1546272000 - from; /* .. 2019-01-01T00:00:00+08:00 */
    int64_t t = from + (int64_t)(rnd() % (uint64_t)span);
    time_t local = (time_t)(t + 8 * 3600);
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    return t;
}

/* The data object of one record of kind k (0-5), as JSON text, and its kind name. */
static const char *random_data(int k, char *data, size_t size)
{
    static const char *const cats[] = {"theft", "fraud", "drugs", "violent", "other"};
    char t2[32];

    switch (k) {
    case 0:
        snprintf(data, size, "{\"case_no\":\"B%08u\",\"category\":\"%s\"}", rndn(100000000),
                 cats[rndn(5)]);
        return "criminal_case";
    case 1:
        random_time(t2);
        snprintf(data, size, "{\"case_no\":\"B%08u\",\"category\":\"%s\",\"cleared_at\":\"%s\"}",
                 rndn(100000000), cats[rndn(5)], t2);
        return "case_clearance";
    case 2:
        if (rndn(4) == 0)
            snprintf(data, size, "{\"class\":\"a2\",\"deaths\":%u,\"injuries\":%u,"
                     "\"intersection\":\"INT-%02u\"}", rndn(10) == 0, 1 + rndn(3),
                     1 + rndn(N_INTERSECTIONS));
        else
            snprintf(data, size, "{\"class\":\"a3\",\"deaths\":0,\"injuries\":%u}", rndn(3));
        return "traffic_accident";
    case 3:
        if (rndn(2))
            snprintf(data, size, "{\"major\":true,\"method\":\"%s\",\"segment\":\"%s\","
                     "\"source\":\"%s\",\"violation\":\"red_line\"}", rndn(2) ? "stop" : "remote",
                     segments[rndn(N_SEGMENTS)], rndn(4) ? "police" : "citizen_report");
        else
            snprintf(data, size, "{\"major\":false,\"method\":\"stop\",\"source\":\"police\","
                     "\"violation\":\"sidewalk\"}");
        return "parking_citation";
    case 4:
        if (rndn(3))
            snprintf(data, size, "{\"action\":\"citation\",\"road\":\"中港路\","
                     "\"violation\":\"no_permit\",\"violation_found\":true}");
        else
            snprintf(data, size, "{\"road\":\"中港路\",\"violation_found\":false}");
        return "roadworks_inspection";
    default:
        random_time(t2);
        snprintf(data, size, "{\"category\":\"%s\",\"received_at\":\"%s\"}",
                 rndn(3) ? "service_attitude" : "other", t2);
        return "complaint";
    }
}

/* Kinds in the shares of a busy year: citations and cases dominate. */
static int random_kind(void)
{
    unsigned x = rndn(100);
    return x < 28 ? 0 : x < 48 ? 1 : x < 53 ? 2 : x < 88 ? 3 : x < 93 ? 4 : 5;
}

/* ---- gen -------------------------------------------------------------------------- */

static void cmd_gen(const char *path, long n)
{
    sqlite3 *db;
    sqlite3_stmt *rec, *rev;
    char unit[16], when[32], data[400], body[900], id[64];
    double t0 = now_s();
    int tty = isatty(2);
    long i;

    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(EX_SOFTWARE, "open %s: %s", path, sqlite3_errmsg(db));
    exec_sql(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-500000; PRAGMA foreign_keys=ON");
    exec_sql(db, "BEGIN IMMEDIATE;"
                 "DELETE FROM kpi_facts; DELETE FROM kpi_inputs; DELETE FROM plans;"
                 "INSERT INTO devices (id, org_unit, label, status, token_hash, token_expires, "
                 "enrolled_at) VALUES ('d-00000000000be0c4', 'TC', 'bench', 'active', '', 0, "
                 "'2018-01-01T00:00:00+08:00');"
                 "INSERT INTO batches (id, device, seq, batch, sha256, prev, created_at, "
                 "received_at, source, count, merged, duplicates, rejected, bytes, receipt) "
                 "VALUES (1, 'd-00000000000be0c4', 1, 'bench', '', '', '', '', 'import', 0, 0, "
                 "0, 0, x'', '');"
                 "COMMIT");
    rec = prep(db, "INSERT INTO records (id, device, kind, rev, status, org_unit, officer, "
                   "occurred_at, occurred_unix, recorded_at, batch_id, body) VALUES (?1, "
                   "'d-00000000000be0c4', ?2, 1, 'final', ?3, 'B000001', ?4, ?5, ?4, 1, ?6)");
    rev = prep(db, "INSERT INTO revisions (id, rev, batch_id, body) VALUES (?1, 1, 1, ?2)");
    exec_sql(db, "BEGIN");
    for (i = 0; i < n; i++) {
        int64_t t;
        const char *kind;
        int len;
        if (i > 0 && i % 100000 == 0) {
            exec_sql(db, "COMMIT; BEGIN");
            if (tty)    /* progress on a terminal only */
                fprintf(stderr, "\r  gen %ld / %ld records", i, n);
        }
        random_unit(unit, sizeof unit);
        t = random_time(when);
        kind = random_data(random_kind(), data, sizeof data);
        /* Time-ordered ids (as UUIDv7 are), so the primary key grows at its end. */
        snprintf(id, sizeof id, "%08lx-%04lx-7000-8000-%012lx", (unsigned long)(i >> 16),
                 (unsigned long)(i & 0xffff), (unsigned long)i);
        len = snprintf(body, sizeof body, "{\"data\":%s,\"device\":\"d-00000000000be0c4\","
                       "\"id\":\"%s\",\"kind\":\"%s\",\"occurred_at\":\"%s\",\"officer\":"
                       "\"B000001\",\"org_unit\":\"%s\",\"recorded_at\":\"%s\",\"rev\":1,"
                       "\"status\":\"final\"}", data, id, kind, when, unit, when);
        sqlite3_bind_text(rec, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(rec, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(rec, 3, unit, -1, SQLITE_STATIC);
        sqlite3_bind_text(rec, 4, when, -1, SQLITE_STATIC);
        sqlite3_bind_int64(rec, 5, t);
        sqlite3_bind_text(rec, 6, body, len, SQLITE_STATIC);
        if (sqlite3_step(rec) != SQLITE_DONE)
            die(EX_SOFTWARE, "insert record: %s", sqlite3_errmsg(db));
        sqlite3_reset(rec);
        sqlite3_bind_text(rev, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(rev, 2, body, len, SQLITE_STATIC);
        if (sqlite3_step(rev) != SQLITE_DONE)
            die(EX_SOFTWARE, "insert revision: %s", sqlite3_errmsg(db));
        sqlite3_reset(rev);
    }
    exec_sql(db, "UPDATE batches SET count = (SELECT count(*) FROM records), merged = count");
    exec_sql(db, "COMMIT");
    sqlite3_finalize(rec);
    sqlite3_finalize(rev);
    exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    if (tty)
        fprintf(stderr, "\r%60s\r", "");
    printf("  generated      %ld records in %.1f s (%.0f records/s)\n", n, now_s() - t0,
           (double)n / (now_s() - t0));
}

/* ---- imports ------------------------------------------------------------------------ */

static void cmd_imports(const char *dir, long n, const char *precinct)
{
    static const char *const kinds[] = {"criminal_case", "case_clearance", "traffic_accident",
                                        "parking_citation", "roadworks_inspection", "complaint"};
    FILE *f[6];
    long count[6] = {0}, i;
    int p = atoi(precinct + 1), k;
    char path[4096], when[32], data[400];

    if (p < 1 || p > 15)
        die(EX_USAGE, "--precinct P01..P15");
    for (k = 0; k < 6; k++) {
        snprintf(path, sizeof path, "%s/%s.json", dir, kinds[k]);
        if (!(f[k] = fopen(path, "w")))
            die(EX_SOFTWARE, "create %s: %s", path, strerror(errno));
        fputc('[', f[k]);
    }
    for (i = 0; i < n; i++) {
        k = random_kind();
        random_time(when);
        random_data(k, data, sizeof data);
        fprintf(f[k], "%s{\"occurred_at\":\"%s\",\"org_unit\":\"P%02d-S%02u\",\"data\":%s}",
                count[k] ? "," : "", when, p, 1 + rndn((unsigned)n_stations[p - 1]), data);
        count[k]++;
    }
    for (k = 0; k < 6; k++) {
        fputs("]\n", f[k]);
        if (fclose(f[k]) != 0)
            die(EX_SOFTWARE, "write %s: %s", kinds[k], strerror(errno));
        if (count[k] == 0) {
            snprintf(path, sizeof path, "%s/%s.json", dir, kinds[k]);
            unlink(path);
        }
    }
}

/* ---- query ---------------------------------------------------------------------------- */

#define N_ORGS 16    /* TC, P01..P15 */

/* What the scorecards rest on, per org: the counts both ways must agree on. */
struct counts {
    double v[N_ORGS][12];
    double groups[N_INTERSECTIONS][2];   /* TC: K3 casualties now, a year before */
};

static const char *const names[12] = {
    "K1 cases", "K2 clearances", "K2 cases", "K4 listed", "K4 all", "K5 cases",
    "K5 cases 1y", "K5 cases 2y", "K6 complaints", "K6 complaints 1y", "K3 listed", "K3 improved"};

static void org_code(int o, char out[8])
{
    if (o == 0)
        snprintf(out, 8, "TC");
    else
        snprintf(out, 8, "P%02d", o);
}

/* Run `hq kpi --period P --org X --format json`; returns its output (malloc'd). */
static char *run_kpi(const char *hq, const char *data, const char *period, const char *org)
{
    int fd[2], status;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    pid_t pid;

    if (!buf || pipe(fd) != 0)
        die(EX_SOFTWARE, "pipe: %s", strerror(errno));
    if ((pid = fork()) < 0)
        die(EX_SOFTWARE, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl(hq, hq, "kpi", "--data", data, "--period", period, "--org", org, "--format",
              "json", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    while ((r = read(fd[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (len + 1 == cap && !(buf = realloc(buf, cap *= 2)))
            die(EX_SOFTWARE, "out of memory");
    }
    close(fd[0]);
    buf[len] = '\0';
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die(EX_SOFTWARE, "%s kpi --period %s --org %s failed", hq, period, org);
    return buf;
}

static double figure(const cJSON *kpi, const char *name)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(kpi, "figures"))
        if (strcmp(cJSON_GetObjectItem(f, "name")->valuestring, name) == 0)
            return cJSON_GetObjectItem(f, "value")->valuedouble;
    return -1;
}

static void from_json(const char *text, int o, struct counts *c)
{
    cJSON *doc = cJSON_Parse(text), *k;
    const cJSON *kpis;

    if (!doc)
        die(EX_SOFTWARE, "kpi printed no JSON");
    kpis = cJSON_GetObjectItem(doc, "kpis");
    cJSON_ArrayForEach(k, kpis) {
        const char *id = cJSON_GetObjectItem(k, "id")->valuestring;
        if (strcmp(id, "K1") == 0)
            c->v[o][0] = figure(k, "count");
        else if (strcmp(id, "K2") == 0)
            c->v[o][1] = figure(k, "numerator"), c->v[o][2] = figure(k, "denominator");
        else if (strcmp(id, "K4") == 0)
            c->v[o][3] = figure(k, "numerator"), c->v[o][4] = figure(k, "denominator");
        else if (strcmp(id, "K5") == 0)
            c->v[o][5] = figure(k, "count"), c->v[o][6] = figure(k, "count_1y"),
            c->v[o][7] = figure(k, "count_2y");
        else if (strcmp(id, "K6") == 0)
            c->v[o][8] = figure(k, "count"), c->v[o][9] = figure(k, "count_1y");
        else if (strcmp(id, "K3") == 0) {
            const cJSON *g;
            int i = 0;
            c->v[o][10] = figure(k, "listed");
            c->v[o][11] = figure(k, "improved");
            if (o == 0)
                cJSON_ArrayForEach(g, cJSON_GetObjectItem(k, "groups")) {
                    if (i < N_INTERSECTIONS) {
                        c->groups[i][0] = cJSON_GetObjectItem(g, "now")->valuedouble;
                        c->groups[i][1] = cJSON_GetObjectItem(g, "before")->valuedouble;
                    }
                    i++;
                }
        }
    }
    cJSON_Delete(doc);
}

/* Add a GROUP BY's rows (precinct or TB, value) into column col of every org. */
static void naive_by_unit(sqlite3 *db, const char *sql, int64_t from, int64_t to,
                          struct counts *c, int col)
{
    sqlite3_stmt *st = prep(db, sql);
    int o;

    for (o = 0; o < N_ORGS; o++)
        c->v[o][col] = 0;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        double v = sqlite3_column_double(st, 1);
        c->v[0][col] += v;
        if (p && p[0] == 'P')
            c->v[atoi(p + 1)][col] += v;
    }
    sqlite3_finalize(st);
}

static void naive(sqlite3 *db, int64_t y0, struct counts *c)
{
    /* Years as Taipei [from, to) in Unix seconds: y0 is the period's year. */
    int64_t Y[4];
    int i, o;
    sqlite3_stmt *st;

    for (i = 0; i < 4; i++) {
        struct tm tm = {0};
        tm.tm_year = (int)(y0 - 2 + i) - 1900;
        tm.tm_mday = 1;
        Y[i] = (int64_t)timegm(&tm) - 8 * 3600;    /* Y[2] = the year, Y[3] = its end */
    }
#define BY_UNIT "SELECT CASE WHEN org_unit = 'TB' THEN 'TB' ELSE substr(org_unit, 1, 3) END AS p, "
    naive_by_unit(db, BY_UNIT "count(*) FROM records WHERE kind = 'criminal_case' AND status = "
                  "'final' AND occurred_unix >= ?1 AND occurred_unix < ?2 GROUP BY p",
                  Y[2], Y[3], c, 0);
    for (o = 0; o < N_ORGS; o++)
        c->v[o][2] = c->v[o][0];
    naive_by_unit(db, BY_UNIT "count(*) FROM records WHERE kind = 'case_clearance' AND status = "
                  "'final' AND unixepoch(json_extract(body, '$.data.cleared_at')) >= ?1 AND "
                  "unixepoch(json_extract(body, '$.data.cleared_at')) < ?2 GROUP BY p",
                  Y[2], Y[3], c, 1);
    {
        /* The listed segments, spelled out as a naive query would. */
        char sql[3000];
        size_t used = (size_t)snprintf(sql, sizeof sql, BY_UNIT "count(*) FROM records WHERE "
            "kind = 'parking_citation' AND status = 'final' AND occurred_unix >= ?1 AND "
            "occurred_unix < ?2 AND json_extract(body, '$.data.method') IN ('stop', 'remote') "
            "AND json_extract(body, '$.data.source') = 'police' AND "
            "json_extract(body, '$.data.segment') IN (");
        for (i = 0; i < N_SEGMENTS; i++)
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%s'%s'", i ? ", " : "",
                                     segments[i]);
        snprintf(sql + used, sizeof sql - used, ") GROUP BY p");
        naive_by_unit(db, sql, Y[2], Y[3], c, 3);
    }
    naive_by_unit(db, BY_UNIT "count(*) FROM records WHERE kind = 'parking_citation' AND status"
                  " = 'final' AND occurred_unix >= ?1 AND occurred_unix < ?2 GROUP BY p",
                  Y[2], Y[3], c, 4);
    for (i = 0; i < 3; i++)
        naive_by_unit(db, BY_UNIT "count(*) FROM records WHERE kind = 'roadworks_inspection' AND "
                      "status = 'final' AND occurred_unix >= ?1 AND occurred_unix < ?2 AND "
                      "json_extract(body, '$.data.violation_found') = 1 GROUP BY p",
                      Y[2 - i], Y[3 - i], c, 5 + i);
    for (i = 0; i < 2; i++)
        naive_by_unit(db, BY_UNIT "count(*) FROM records WHERE kind = 'complaint' AND status = "
                      "'final' AND json_extract(body, '$.data.category') = 'service_attitude' AND "
                      "unixepoch(json_extract(body, '$.data.received_at')) >= ?1 AND "
                      "unixepoch(json_extract(body, '$.data.received_at')) < ?2 GROUP BY p",
                      Y[2 - i], Y[3 - i], c, 8 + i);
    /* K3: casualties per listed intersection, the year and the year before. */
    for (i = 0; i < N_INTERSECTIONS; i++)
        c->groups[i][0] = c->groups[i][1] = 0;
    st = prep(db, "SELECT json_extract(body, '$.data.intersection') AS x, "
                  "occurred_unix >= ?2, sum(json_extract(body, '$.data.deaths') + "
                  "json_extract(body, '$.data.injuries')) FROM records WHERE kind = "
                  "'traffic_accident' AND status = 'final' AND occurred_unix >= ?1 AND "
                  "occurred_unix < ?3 AND x IS NOT NULL GROUP BY 1, 2");
    sqlite3_bind_int64(st, 1, Y[1]);
    sqlite3_bind_int64(st, 2, Y[2]);
    sqlite3_bind_int64(st, 3, Y[3]);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int x = atoi((const char *)sqlite3_column_text(st, 0) + 4) - 1;
        if (x >= 0 && x < N_INTERSECTIONS)
            c->groups[x][sqlite3_column_int(st, 1) ? 0 : 1] = sqlite3_column_double(st, 2);
    }
    sqlite3_finalize(st);
}

static void cmd_query(const char *path, const char *hq, const char *data, const char *period,
                      int rounds)
{
    static struct counts fast, slow;
    double best_fast = 1e30, best_slow = 1e30, per_org[N_ORGS] = {0}, t;
    int r, o, i, bad = 0;
    sqlite3 *db;
    char org[8];

    for (r = 0; r < rounds; r++) {
        double t0 = now_s();
        for (o = 0; o < N_ORGS; o++) {
            double t1 = now_s();
            char *out;
            org_code(o, org);
            out = run_kpi(hq, data, period, org);
            t = now_s() - t1;
            if (r == 0 || t < per_org[o])
                per_org[o] = t;
            from_json(out, o, &fast);
            free(out);
        }
        if ((t = now_s() - t0) < best_fast)
            best_fast = t;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die(EX_SOFTWARE, "open %s", path);
    exec_sql(db, "PRAGMA cache_size=-500000");
    for (r = 0; r < rounds; r++) {
        double t0 = now_s();
        naive(db, atoi(period), &slow);
        if ((t = now_s() - t0) < best_slow)
            best_slow = t;
    }
    sqlite3_close(db);
    /* Same numbers?  (The naive K3 'listed' and 'improved' follow from the groups.) */
    for (o = 0; o < N_ORGS; o++)
        for (i = 0; i < 10; i++)
            if (fast.v[o][i] != slow.v[o][i]) {
                org_code(o, org);
                fprintf(stderr, "bench kpi: %s %s: facts %.0f, GROUP BY %.0f\n", org, names[i],
                        fast.v[o][i], slow.v[o][i]);
                bad = 1;
            }
    for (i = 0; i < N_INTERSECTIONS; i++)
        if (fast.groups[i][0] != slow.groups[i][0] || fast.groups[i][1] != slow.groups[i][1]) {
            fprintf(stderr, "bench kpi: INT-%02d: facts %.0f/%.0f, GROUP BY %.0f/%.0f\n", i + 1,
                    fast.groups[i][0], fast.groups[i][1], slow.groups[i][0], slow.groups[i][1]);
            bad = 1;
        }
    if (bad)
        die(EX_DATAERR, "the facts and the raw records disagree");
    {
        double lo = per_org[1], hi = per_org[1];
        for (o = 2; o < N_ORGS; o++) {
            if (per_org[o] < lo)
                lo = per_org[o];
            if (per_org[o] > hi)
                hi = per_org[o];
        }
        printf("  kpi --period %s, city and P01-P15 (16 runs of beatbook-hq, best of %d):\n",
               period, rounds);
        printf("    total        %8.1f ms   (city %.1f ms; a precinct %.1f-%.1f ms)\n",
               best_fast * 1e3, per_org[0] * 1e3, lo * 1e3, hi * 1e3);
    }
    printf("  naive GROUP BY over the raw records, the same numbers for all 16 units:\n");
    printf("    total        %8.1f ms   (12 scans, json_extract on every body)\n",
           best_slow * 1e3);
    printf("  ratio facts / naive = 1/%.0f   (goal: 1/100 or better)\n", best_slow / best_fast);
    printf("  the numbers agree: %.0f cases, %.0f clearances, %.0f citations, %.0f road-works "
           "cases, %.0f complaints in the city\n", slow.v[0][0], slow.v[0][1], slow.v[0][4],
           slow.v[0][5], slow.v[0][8]);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'b'},       {"records", required_argument, NULL, 'n'},
        {"count", required_argument, NULL, 'n'},    {"seed", required_argument, NULL, 's'},
        {"hq", required_argument, NULL, 'q'},       {"data", required_argument, NULL, 'd'},
        {"period", required_argument, NULL, 'p'},   {"rounds", required_argument, NULL, 'r'},
        {"dir", required_argument, NULL, 'D'},      {"precinct", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd, *db = NULL, *hq = NULL, *data = NULL, *period = "2018", *dir = NULL;
    const char *precinct = "P06";
    long n = 10000000;
    int rounds = 3, c;

    if (argc < 2)
        die(EX_USAGE, "usage: kpi gen|query|imports [options] (see bench/kpi.c)");
    cmd = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': db = optarg; break;
        case 'n': n = atol(optarg); break;
        case 's': rng_state = strtoull(optarg, NULL, 10) | 1; break;
        case 'q': hq = optarg; break;
        case 'd': data = optarg; break;
        case 'p': period = optarg; break;
        case 'r': rounds = atoi(optarg); break;
        case 'D': dir = optarg; break;
        case 'P': precinct = optarg; break;
        default: die(EX_USAGE, "bad option");
        }
    }
    if (strcmp(cmd, "gen") == 0 && db && n > 0)
        cmd_gen(db, n);
    else if (strcmp(cmd, "query") == 0 && db && hq && data && rounds > 0)
        cmd_query(db, hq, data, period, rounds);
    else if (strcmp(cmd, "imports") == 0 && dir && n > 0)
        cmd_imports(dir, n, precinct);
    else
        die(EX_USAGE, "usage: kpi gen --db F --records N | query --db F --hq BIN --data DIR | "
                      "imports --dir D --count N --precinct PNN");
    return 0;
}
