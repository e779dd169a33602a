/*
 * bb_db — the SQLite adapter: every sqlite3 call that can fail goes through
 * here or translates its code with bb_db_err(), so SQLite's codes never leak
 * into the rest of the program.
 *
 * bb_db_open() opens (creating if asked) a store in WAL mode with foreign
 * keys on, synchronous=FULL (a commit is on disk when it returns: an officer's
 * record must survive the battery dying right after `add`), a busy timeout so
 * that two processes writing at once wait for each other instead of failing,
 * and then applies the numbered migrations embedded from
 * schema/migrations/<schema>/NNN_name.sql that the store has not seen yet
 * (tracked with PRAGMA user_version), each in its own transaction.
 *
 * SQL is always prepared with bound parameters; nothing here builds SQL from
 * input.
 */
#ifndef BB_DB_H
#define BB_DB_H

#include <stdbool.h>
#include <sqlite3.h>
#include "bb_err.h"

#define BB_DB_BUSY_TIMEOUT_MS 10000

enum bb_db_flags {
    BB_DB_CREATE = 1,      /* create the file if missing */
    BB_DB_READONLY = 2     /* open read-only (no migrations are applied) */
};

/*
 * Open path and migrate it with the embedded migrations of `schema`
 * ("collector" or "hq").  On success *out is an open handle the caller
 * closes with bb_db_close().  Refuses a store whose user_version is newer
 * than this binary knows (written by a newer beatbook).
 */
bb_err bb_db_open(const char *path, const char *schema, int flags,
                  sqlite3 **out, bb_errbuf *eb);
void bb_db_close(sqlite3 *db);

/* Translate a SQLite result code; writes "action: sqlite message" into eb. */
bb_err bb_db_err(sqlite3 *db, int rc, const char *action, bb_errbuf *eb);

/* Run SQL with no parameters and no result rows (BEGIN, COMMIT, pragmas). */
bb_err bb_db_exec(sqlite3 *db, const char *sql, bb_errbuf *eb);

/* BEGIN IMMEDIATE (takes the write lock now, so no deadlock later) / COMMIT / ROLLBACK. */
bb_err bb_db_begin(sqlite3 *db, bb_errbuf *eb);
bb_err bb_db_commit(sqlite3 *db, bb_errbuf *eb);
void bb_db_rollback(sqlite3 *db);

/* Prepare a statement; on failure eb names the statement's purpose. */
bb_err bb_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, bb_errbuf *eb);

/* The number of the newest embedded migration for schema. */
int bb_db_schema_version(const char *schema);

/* PRAGMA integrity_check == "ok". */
bb_err bb_db_check_integrity(sqlite3 *db, bb_errbuf *eb);

#endif
