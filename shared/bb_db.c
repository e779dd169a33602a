/*
 * bb_db.c — SQLite open, pragmas, migrations and error translation
 * (see bb_db.h).
 */
#include "bb_db.h"
#include "bb_embed.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bb_err bb_db_err(sqlite3 *db, int rc, const char *action, bb_errbuf *eb)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    bb_err code;

    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return BB_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = BB_ERR_BUSY;
        msg = "the store is locked by another beatbook process; try again in a moment";
        break;
    case SQLITE_READONLY:
        code = BB_ERR_READONLY;
        msg = "the store is read-only (check file and folder permissions)";
        break;
    case SQLITE_FULL:
        code = BB_ERR_FULL;
        msg = "the disk is full; free some space and try again (nothing was saved)";
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        code = BB_ERR_CORRUPT;
        msg = "the store is damaged or not a beatbook store; restore it from a backup";
        break;
    case SQLITE_CANTOPEN:
        code = BB_ERR_IO;
        break;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        code = BB_ERR_PERM;
        break;
    case SQLITE_NOMEM:
        code = BB_ERR_NOMEM;
        break;
    case SQLITE_IOERR:
        code = BB_ERR_IO;
        break;
    case SQLITE_CONSTRAINT:
        code = BB_ERR_CONFLICT;
        break;
    default:
        code = BB_ERR_DB;
        break;
    }
    return bb_fail(eb, code, "%s: %s", action, msg);
}

bb_err bb_db_exec(sqlite3 *db, const char *sql, bb_errbuf *eb)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? BB_OK : bb_db_err(db, rc, "database", eb);
}

bb_err bb_db_begin(sqlite3 *db, bb_errbuf *eb)
{
    return bb_db_exec(db, "BEGIN IMMEDIATE", eb);
}

bb_err bb_db_commit(sqlite3 *db, bb_errbuf *eb)
{
    bb_err err = bb_db_exec(db, "COMMIT", eb);
    if (err != BB_OK)
        bb_db_rollback(db);
    return err;
}

void bb_db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

bb_err bb_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, bb_errbuf *eb)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? BB_OK : bb_db_err(db, rc, "prepare statement", eb);
}

/* Migration files are "migrations/<schema>/NNN_name.sql"; NNN from 1, no gaps. */
static int migration_number(const struct bb_embedded_file *f, size_t prefix_len)
{
    return atoi(f->path + prefix_len);
}

int bb_db_schema_version(const char *schema)
{
    char prefix[64];
    size_t cur = 0;
    const struct bb_embedded_file *f;
    int max = 0;

    snprintf(prefix, sizeof prefix, "migrations/%s/", schema);
    while ((f = bb_embed_next(prefix, &cur)) != NULL) {
        int n = migration_number(f, strlen(prefix));
        if (n > max)
            max = n;
    }
    return max;
}

static bb_err get_user_version(sqlite3 *db, int *v, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    int rc;
    bb_err err;

    if ((err = bb_db_prepare(db, "PRAGMA user_version", &st, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        err = bb_db_err(db, rc, "read store version", eb);
        sqlite3_finalize(st);
        return err;
    }
    *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return BB_OK;
}

static bb_err migrate(sqlite3 *db, const char *path, const char *schema, bb_errbuf *eb)
{
    char prefix[64], pragma[64];
    int have, want = bb_db_schema_version(schema), n;
    bb_err err;

    snprintf(prefix, sizeof prefix, "migrations/%s/", schema);
    if ((err = get_user_version(db, &have, eb)) != BB_OK)
        return err;
    if (have > want)
        return bb_fail(eb, BB_ERR_CONFIG,
                       "open %s: the store is at schema version %d but this program knows "
                       "only up to %d; use a newer beatbook", path, have, want);
    for (n = have + 1; n <= want; n++) {
        size_t cur = 0;
        const struct bb_embedded_file *f, *found = NULL;
        while ((f = bb_embed_next(prefix, &cur)) != NULL)
            if (migration_number(f, strlen(prefix)) == n)
                found = f;
        if (!found)
            return bb_fail(eb, BB_ERR_INTERNAL, "migration %d of %s is missing", n, schema);
        if ((err = bb_db_begin(db, eb)) != BB_OK)
            return err;
        /* Re-check under the write lock: another process may have migrated. */
        if ((err = get_user_version(db, &have, eb)) != BB_OK) {
            bb_db_rollback(db);
            return err;
        }
        if (have >= n) {
            bb_db_rollback(db);
            continue;
        }
        if ((err = bb_db_exec(db, found->data, eb)) != BB_OK) {
            bb_db_rollback(db);
            bb_errbuf_prefix(eb, "apply %s to %s", found->path, path);
            return err;
        }
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", n);
        if ((err = bb_db_exec(db, pragma, eb)) != BB_OK ||
            (err = bb_db_commit(db, eb)) != BB_OK) {
            bb_db_rollback(db);
            return err;
        }
    }
    return BB_OK;
}

/*
 * After a commit leaves the WAL at BB_DB_WAL_FRAMES pages or more, copy it
 * into the database and truncate it.  Without this, processes that never
 * checkpoint on close let the WAL grow without bound, and every new process
 * would read all of it to rebuild its index (an `add` slowed from 3 ms to
 * 200 ms after a large import).  A checkpoint that cannot run now (a reader
 * holds an old snapshot) is simply tried again after a later commit.
 */
#define BB_DB_WAL_FRAMES 100

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    if (frames >= BB_DB_WAL_FRAMES) {
        /* Never wait for readers here (HQ serves while it merges): with no
         * busy handler the checkpoint copies what it can and returns. */
        sqlite3_busy_timeout(db, 0);
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_busy_timeout(db, (int)(intptr_t)arg);
    }
    return SQLITE_OK;
}

bb_err bb_db_open(const char *path, const char *schema, int flags,
                  sqlite3 **out, bb_errbuf *eb)
{
    sqlite3 *db = NULL;
    int oflags, rc, busy_ms;
    bb_err err;

    *out = NULL;
    if (!(flags & BB_DB_CREATE) && access(path, F_OK) != 0)
        return bb_fail(eb, BB_ERR_NOTFOUND, "open %s: %s", path, strerror(errno));
    oflags = (flags & BB_DB_READONLY) ? SQLITE_OPEN_READONLY
                                      : SQLITE_OPEN_READWRITE |
                                        ((flags & BB_DB_CREATE) ? SQLITE_OPEN_CREATE : 0);
    oflags |= SQLITE_OPEN_NOMUTEX;
    rc = sqlite3_open_v2(path, &db, oflags, NULL);
    if (rc != SQLITE_OK) {
        err = bb_db_err(db, rc, "open", eb);
        bb_errbuf_prefix(eb, "%s", path);
        sqlite3_close(db);
        return err;
    }
    sqlite3_extended_result_codes(db, 0);
    /* Tests shorten the wait for a locked store; people never need to. */
    busy_ms = getenv("BEATBOOK_BUSY_TIMEOUT_MS") ? atoi(getenv("BEATBOOK_BUSY_TIMEOUT_MS")) : 0;
    if (busy_ms <= 0)
        busy_ms = BB_DB_BUSY_TIMEOUT_MS;
    sqlite3_busy_timeout(db, busy_ms);
    /*
     * Short-lived CLI processes would otherwise checkpoint the WAL into the
     * database on every close (three more fsyncs per `beatbook add`).  A
     * commit is durable once it is in the fsynced WAL.
     */
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* ... so the WAL must be kept short some other way: see wal_hook. */
    sqlite3_wal_hook(db, wal_hook, (void *)(intptr_t)busy_ms);
    err = bb_db_exec(db, "PRAGMA foreign_keys=ON", eb);
    if (err == BB_OK && !(flags & BB_DB_READONLY)) {
        /* Only a store we are creating may start from version 0: anything
         * else at version 0 is some other program's database, which we must
         * not touch. */
        int have = 0;
        err = get_user_version(db, &have, eb);
        if (err == BB_OK && have == 0 && !(flags & BB_DB_CREATE))
            err = bb_fail(eb, BB_ERR_CORRUPT, "%s: not a beatbook %s store (or damaged); "
                          "restore it from a backup or use another folder", path, schema);
        if (err == BB_OK)
            err = bb_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", eb);
        if (err == BB_OK)
            err = migrate(db, path, schema, eb);
    } else if (err == BB_OK) {
        int have;
        err = bb_db_exec(db, "PRAGMA query_only=ON", eb);
        if (err == BB_OK)
            err = get_user_version(db, &have, eb);
        if (err == BB_OK && have == 0)
            err = bb_fail(eb, BB_ERR_CORRUPT, "%s: not a beatbook store", path);
        else if (err == BB_OK && have < bb_db_schema_version(schema))
            err = bb_fail(eb, BB_ERR_READONLY, "%s: the store is from an older beatbook and "
                          "must be upgraded, which needs write access", path);
    }
    if (err != BB_OK) {
        if (strncmp(eb ? eb->msg : "", path, strlen(path)) != 0)
            bb_errbuf_prefix(eb, "open %s", path);
        sqlite3_close(db);
        return err;
    }
    *out = db;
    return BB_OK;
}

void bb_db_close(sqlite3 *db)
{
    if (db)
        sqlite3_close(db);
}

bb_err bb_db_check_integrity(sqlite3 *db, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db, "PRAGMA integrity_check", &st, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        err = bb_db_err(db, rc, "integrity check", eb);
    } else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
        err = bb_fail(eb, BB_ERR_CORRUPT, "integrity check: %s",
                      (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return err;
}
