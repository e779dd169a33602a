/*
 * hq_dbpool — a small pool of SQLite connections to hq.db for the server's
 * worker threads.  bb_db_open makes connections without SQLite's own
 * mutexes (SQLITE_OPEN_NOMUTEX), so a connection is used by one thread at a
 * time: a worker takes one for a request and gives it back.  Connections
 * are opened lazily, at most `size`; with size >= the number of workers a
 * take never waits.  Writers still serialise on SQLite's write lock
 * (BEGIN IMMEDIATE with the busy timeout of bb_db_open).
 */
#ifndef HQ_DBPOOL_H
#define HQ_DBPOOL_H

#include <sqlite3.h>
#include "bb_err.h"

typedef struct hq_dbpool hq_dbpool;

bb_err hq_dbpool_new(const char *path, unsigned size, hq_dbpool **out, bb_errbuf *eb);

/* Close every connection (none may be taken); NULL is a no-op. */
void hq_dbpool_free(hq_dbpool *p);

/* A connection for this thread's exclusive use; waits while all are taken. */
bb_err hq_dbpool_take(hq_dbpool *p, sqlite3 **db, bb_errbuf *eb);

/* Give it back. */
void hq_dbpool_give(hq_dbpool *p, sqlite3 *db);

#endif
