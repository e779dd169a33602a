/*
 * col_store — the field laptop's store: one SQLite file, field.db, under
 * $BEATBOOK_HOME (default ~/.local/share/beatbook), created by
 * `beatbook init`.  It knows who records (officer, org unit, device) and keeps
 * records and every finalized revision (schema/migrations/collector/).
 *
 * Durability: the store runs with synchronous=FULL, so a record is on disk
 * when col_store_put() has committed.  Every write goes through one
 * transaction (col_store_begin/commit), so a crash leaves either all of a
 * command's records or none.
 *
 * Errors: bb_err with a message in eb naming the store path when it matters,
 * in the language col_store_set_lang() chose (English until it is called).
 * SQLite's own failures come as bb_db_err words them.
 */
#ifndef COL_STORE_H
#define COL_STORE_H

#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_attach.h"
#include "bb_err.h"
#include "bb_exif.h"
#include "bb_lang.h"

#define COL_DB_NAME "field.db"

typedef struct col_store {
    sqlite3 *db;
    char path[4096];
    char officer[64];
    char org_unit[64];
    char device[80];
    /* Statements of col_store_put, prepared once per open store (an import
     * of 100k records would otherwise spend 40% of its time preparing). */
    sqlite3_stmt *q_rev, *q_upsert, *q_revision;
} col_store;

/* The language of this module's messages, for the whole process (main.c sets it). */
void col_store_set_lang(enum bb_lang lang);

/* Where the store lives: $BEATBOOK_HOME, else ~/.local/share/beatbook. */
bb_err col_store_home(char *out, size_t n, bb_errbuf *eb);

/*
 * Create a new store in home (the folder is created with mode 0700).
 * Refuses (BB_ERR_EXISTS) when a store is already there.
 */
bb_err col_store_create(const char *home, const char *officer, const char *org_unit,
                        const char *device, bb_errbuf *eb);

/* Open an existing store. readonly: for commands that only read. */
bb_err col_store_open(const char *home, int readonly, col_store **out, bb_errbuf *eb);
void col_store_close(col_store *st);

bb_err col_store_begin(col_store *st, bb_errbuf *eb);
bb_err col_store_commit(col_store *st, bb_errbuf *eb);
void col_store_rollback(col_store *st);

/*
 * Save rec (a validated record) as the current state of its id, inside the
 * caller's transaction.  A final or void revision is also appended to the
 * revisions table (the outbox).  `expect_rev` is the revision the caller
 * read before editing (−1 for a new record): if the stored one differs,
 * BB_ERR_CONFLICT (another process edited it meanwhile).
 */
bb_err col_store_put(col_store *st, const cJSON *rec, long expect_rev, bb_errbuf *eb);

/*
 * Find a record by full id or by a unique prefix or suffix of at least 6
 * characters.  *out is the parsed current state (caller cJSON_Deletes).
 */
bb_err col_store_get(col_store *st, const char *idref, cJSON **out, bb_errbuf *eb);

/* Every finalized revision of id, oldest first, as a JSON array (caller frees). */
bb_err col_store_revisions(col_store *st, const char *id, cJSON **out, bb_errbuf *eb);

/* The open drafts of a kind (e.g. open patrols), as a JSON array. */
bb_err col_store_drafts(col_store *st, const char *kind, cJSON **out, bb_errbuf *eb);

/*
 * The data object of the last record of kind made in this store (not
 * voided), for a form's "last value" defaults; *out is NULL when there is
 * none, else the caller's to cJSON_Delete.
 */
bb_err col_store_last(col_store *st, const char *kind, cJSON **out, bb_errbuf *eb);

struct col_filter {
    const char *kind;       /* NULL: any */
    const char *status;     /* NULL: any */
    const char *org_unit;   /* NULL: any */
    int64_t from, to;       /* occurred_at in [from, to); to == 0: no bound */
    long limit;             /* 0: no limit */
};

/* Records matching f, oldest first; calls fn(rec, arg) for each (stops on error). */
bb_err col_store_each(col_store *st, const struct col_filter *f,
                      bb_err (*fn)(const cJSON *rec, void *arg), void *arg, bb_errbuf *eb);

/*
 * Attachments (schema/migrations/collector/006_attachments.sql): one row per
 * file in the store, and which revision names which file in which field.
 * The files themselves are col_attach.h's business.
 */
struct col_attachment_row {
    char sha256[BB_SHA256_HEX_SIZE];
    long long size;
    char type[BB_ATTACH_TYPE_MAX];
    char name[BB_ATTACH_NAME_MAX + 1];   /* "" when it has none */
    char added_at[40];
    struct bb_exif exif;                 /* what the file said when it was added */
    int purged;                          /* the file was freed after HQ's receipt */
};

/* The row of a file; *found 0 when the store has none. */
bb_err col_store_attachment_get(col_store *st, const char *sha256,
                                struct col_attachment_row *row, int *found, bb_errbuf *eb);

/* Add the row of a file unless there is one (INSERT OR IGNORE), inside the
 * caller's transaction. */
bb_err col_store_attachment_add(col_store *st, const struct col_attachment_row *row,
                                bb_errbuf *eb);

/* Note that revision rev of record id names sha256 in field (idempotent). */
bb_err col_store_attachment_link(col_store *st, const char *id, long rev, const char *field,
                                 const char *sha256, bb_errbuf *eb);

/* Count of finalized revisions not yet sealed into a batch. */
bb_err col_store_unsent(col_store *st, long *out, bb_errbuf *eb);

#endif
