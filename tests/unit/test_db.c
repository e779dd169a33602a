/*
 * Unit tests for bb_db: pragmas on open, migrations of an old store, a store
 * from a newer version, a damaged file, error translation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bb_db.h"
#include "bb_embed.h"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bbdbXXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/field.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char p[160];
    (void)state;
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    rmdir(dir);
    return 0;
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_new_store_pragmas(void **state)
{
    sqlite3 *db;
    bb_errbuf eb;
    sqlite3_stmt *st;
    (void)state;
    assert_int_equal(bb_db_open(path, "collector", BB_DB_CREATE, &db, &eb), BB_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), bb_db_schema_version("collector"));
    assert_true(bb_db_schema_version("collector") >= 2);
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(db, "PRAGMA synchronous"), 2);   /* FULL */
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(bb_db_check_integrity(db, &eb), BB_OK);
    bb_db_close(db);
    /* opening again applies nothing new */
    assert_int_equal(bb_db_open(path, "collector", 0, &db, &eb), BB_OK);
    bb_db_close(db);
}

static void test_migrates_version_1_store(void **state)
{
    const struct bb_embedded_file *m1 = bb_embed_find("migrations/collector/001_init.sql");
    sqlite3 *db;
    bb_errbuf eb;
    (void)state;
    assert_non_null(m1);
    /* A store as version 1 of beatbook left it, with one record. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, m1->data, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "PRAGMA user_version = 1;"
        "INSERT INTO meta VALUES ('officer','A1'),('org_unit','P06'),('device','d-1');"
        "INSERT INTO records VALUES ('0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f','complaint',1,"
        " 'final','P06','A1','2018-03-15T14:20:00+08:00',1521094800,"
        " '2018-03-15T14:20:00+08:00','{}');"
        "INSERT INTO revisions (id, rev, status, recorded_at, body) VALUES"
        " ('0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f',1,'final','2018-03-15T14:20:00+08:00','{}');",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(bb_db_open(path, "collector", 0, &db, &eb), BB_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), bb_db_schema_version("collector"));
    assert_int_equal(query_int(db, "SELECT count(*) FROM records"), 1);
    /* column added by migration 2; the old revision is unsent */
    assert_int_equal(query_int(db, "SELECT count(*) FROM revisions WHERE batch_seq IS NULL"), 1);
    bb_db_close(db);
}

static void test_refuses_newer_store(void **state)
{
    sqlite3 *db;
    bb_errbuf eb;
    (void)state;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(bb_db_open(path, "collector", 0, &db, &eb), BB_ERR_CONFIG);
    assert_null(db);
    assert_non_null(strstr(eb.msg, "newer beatbook"));
}

static void test_damaged_file(void **state)
{
    FILE *f = fopen(path, "w");
    sqlite3 *db;
    bb_errbuf eb;
    int i;
    (void)state;
    assert_non_null(f);
    for (i = 0; i < 512; i++)
        fputs("this is not a database ", f);
    fclose(f);
    assert_int_equal(bb_db_open(path, "collector", 0, &db, &eb), BB_ERR_CORRUPT);
    assert_non_null(strstr(eb.msg, path));
    assert_non_null(strstr(eb.msg, "damaged"));
}

static void test_missing_file(void **state)
{
    sqlite3 *db;
    bb_errbuf eb;
    (void)state;
    assert_int_equal(bb_db_open(path, "collector", 0, &db, &eb), BB_ERR_NOTFOUND);
    assert_int_equal(access(path, F_OK), -1);   /* not created by a failed open */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_store_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_version_1_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("bb_db", tests, NULL, NULL);
}
